"""Port/TLS and APOP rules (shared/providers.md §1.4, §1.5; RFC 8314, RFC 6409, RFC 1939 §7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.errors import Problem
from reconciler.model.enums import Pop3Auth, Security, SmtpAuth

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment

IMPLICIT_TLS_PORTS = {995, 465}
STARTTLS_PORTS = {110, 587}
RELAY_PORT = 25


def transport_rules(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    for section, kind, accounts in (
        ("pop3_accounts", "pop3", m.pop3_accounts),
        ("smtp_accounts", "smtp", m.smtp_accounts),
    ):
        for index, account in enumerate(accounts):
            yield from _account(env, section, kind, index, account)
    yield from _greyhound_tls(env)


def _account(env: Environment, section: str, kind: str, index: int, account) -> Iterator[Problem]:
    where = f"{section}[{index}]"
    port = account.effective_port(kind)
    port_pos = env.position(section, index, "port") or env.position(section, index)
    security_pos = env.position(section, index, "security") or port_pos
    if port in IMPLICIT_TLS_PORTS and account.security is not Security.SSL:
        yield Problem(
            f"port {port} expects TLS from the first byte (implicit TLS, RFC 8314), but "
            f"security is {account.security.value!r}",
            security_pos,
            field=f"{where}.security",
            rule="TLS-001",
            suggestion=f"set `security: ssl`, or use port {110 if kind == 'pop3' else 587} "
            "with starttls",
        )
    if port in STARTTLS_PORTS and account.security is Security.SSL:
        yield Problem(
            f"port {port} starts in cleartext and upgrades with STARTTLS/STLS, but security is "
            "'ssl' (implicit TLS)",
            security_pos,
            field=f"{where}.security",
            rule="TLS-002",
            suggestion=f"set `security: starttls`, or use port {995 if kind == 'pop3' else 465} "
            "with ssl",
        )
    if account.security is Security.NONE:
        if account.auth == Pop3Auth.APOP:
            yield Problem(
                "APOP's MD5 challenge-response is broken (password recovery attacks since 2007); "
                "without TLS it is all that protects the password",
                env.position(section, index, "auth") or security_pos,
                field=f"{where}.auth",
                severity="warning",
                rule="APOP-002",
                suggestion="use `security: ssl` (or starttls) with `auth: login`",
            )
        elif account.auth != SmtpAuth.NONE:
            yield Problem(
                f"credentials ({account.auth.value}) would cross the network in cleartext "
                "(RFC 8314: cleartext is obsolete)",
                security_pos,
                field=f"{where}.security",
                rule="TLS-003",
                suggestion="set `security: ssl` or `starttls`",
            )
    if kind == "smtp" and port == RELAY_PORT:
        yield Problem(
            "port 25 is for relaying between mail servers; authenticated submission uses 587 "
            "(starttls) or 465 (ssl)",
            port_pos,
            field=f"{where}.port",
            severity="warning",
            rule="TLS-005",
            suggestion="use port 587 with starttls, or 465 with ssl",
        )


def _greyhound_tls(env: Environment) -> Iterator[Problem]:
    conn = env.manifest.greyhound
    if conn.tls.verify or conn.url.startswith("embedded:"):
        return
    acknowledged = conn.tls.allow_insecure_cert
    yield Problem(
        "certificate verification of the GREYHOUND server is disabled: the API password and "
        "every mail password set through it are exposed to a man in the middle",
        env.position("greyhound", "tls", "verify"),
        field="greyhound.tls.verify",
        severity="warning" if acknowledged else "error",
        rule="TLS-008",
        suggestion="keep verify: true and give the server's certificate as tls.ca_file"
        + ("" if acknowledged else "; if you must, acknowledge with allow_insecure_cert: true"),
    )
