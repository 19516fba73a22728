"""Provider rules (shared/providers.md §1.1, §1.2): Google and Microsoft no longer take passwords.

The provider comes from the account's `provider:` key or, when left out, from the host (and, for
Microsoft's shared hosts, from the username's domain). MX lookups would need the network and belong
in an online check, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.errors import Problem
from reconciler.model.enums import Pop3Auth, SmtpAuth

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment
    from reconciler.model.manifest import _Account

GOOGLE_HOSTS = {"pop.gmail.com", "smtp.gmail.com", "pop.googlemail.com", "smtp.googlemail.com"}
MICROSOFT_HOSTS = {"outlook.office365.com", "smtp.office365.com", "pop.office365.com"}
OUTLOOK_CONSUMER_HOSTS = {"smtp-mail.outlook.com", "pop-mail.outlook.com"}
# outlook.com, hotmail.de, live.co.uk, msn.com, ...: consumer mailboxes on Microsoft's hosts
OUTLOOK_CONSUMER_BRANDS = {"outlook", "hotmail", "live", "msn"}
# Microsoft switches SMTP AUTH Basic off by default for existing tenants at the end of Dec 2026
# (Exchange Team blog, 2026-01-27; providers.md §1.2).
MS_SMTP_BASIC_OFF = dt.date(2027, 1, 1)
PASSWORD_AUTHS = (Pop3Auth.LOGIN, SmtpAuth.LOGIN)


def detect_provider(account: _Account) -> str:
    if account.provider is not None:
        return account.provider
    host = account.host
    if host in GOOGLE_HOSTS:
        return "google"
    if host in OUTLOOK_CONSUMER_HOSTS:
        return "outlook_consumer"
    if host in MICROSOFT_HOSTS:
        labels = account.username.rpartition("@")[2].lower().split(".")
        if len(labels) in (2, 3) and labels[0] in OUTLOOK_CONSUMER_BRANDS:
            return "outlook_consumer"
        return "microsoft365"
    return "other"


def provider_rules(env: Environment, today: dt.date) -> Iterator[Problem]:
    m = env.manifest
    for section, accounts in (
        ("pop3_accounts", m.pop3_accounts),
        ("smtp_accounts", m.smtp_accounts),
    ):
        for index, account in enumerate(accounts):
            provider = detect_provider(account)
            if provider == "other":
                continue
            pos = env.position(section, index, "auth") or env.position(section, index)
            where = f"{section}[{index}]"
            if account.auth == Pop3Auth.APOP:
                yield Problem(
                    f"APOP cannot carry an OAuth token, and {_label(provider)} needs one",
                    pos,
                    field=f"{where}.auth",
                    rule="APOP-003",
                    suggestion="set `auth: oauth2` and link the account",
                )
                continue
            if account.auth not in PASSWORD_AUTHS:
                continue
            if provider == "google":
                kind_pos = env.position(section, index, "password_kind") or pos
                yield _google(account, kind_pos, where)
            elif provider == "outlook_consumer":
                yield Problem(
                    "Outlook.com ended Basic auth (passwords and app passwords) for third-party "
                    "apps on 2024-09-16; only OAuth2 works",
                    pos,
                    field=f"{where}.auth",
                    rule="MS-010",
                    suggestion="set `auth: oauth2`, drop `password` and link the account",
                )
            elif section == "pop3_accounts":
                yield Problem(
                    "Exchange Online switched Basic auth for POP3 off in every tenant (from "
                    "2022-10-01, complete early 2023) and it cannot be re-enabled; app passwords "
                    "stopped with it",
                    pos,
                    field=f"{where}.auth",
                    rule="MS-001",
                    suggestion="set `auth: oauth2` (POP.AccessAsUser.All), drop `password` and "
                    "link the account",
                )
            elif account.password_kind == "app_password":
                yield Problem(
                    "app passwords no longer work for Exchange Online since the Basic-auth "
                    "retirement",
                    env.position(section, index, "password_kind") or pos,
                    field=f"{where}.password_kind",
                    rule="MS-011",
                    suggestion="set `auth: oauth2` (SMTP.Send) and link the account",
                )
            else:
                yield _microsoft_smtp(env, pos, where, today)


def _label(provider: str) -> str:
    return {
        "google": "Google",
        "microsoft365": "Microsoft 365",
        "outlook_consumer": "Outlook.com",
    }[provider]


def _google(account: _Account, pos, where: str) -> Problem:
    advice = "use `auth: oauth2` (XOAUTH2, scope https://mail.google.com/) or an app password"
    if account.password_kind == "account_password":
        return Problem(
            "Google refuses account passwords for POP3/SMTP (personal accounts since 2022-05-30, "
            "Workspace since 2025-03-14)",
            pos,
            field=f"{where}.password_kind",
            rule="GOOG-001",
            suggestion=advice,
        )
    if account.password_kind is None:
        return Problem(
            "Google refuses account passwords for POP3/SMTP; only app passwords still work with "
            "`auth: login`, and the manifest does not say which this is",
            pos,
            field=f"{where}.password_kind",
            severity="warning",
            rule="GOOG-001",
            suggestion="declare `password_kind: app_password`, or " + advice,
        )
    return Problem(
        "app passwords need 2-Step Verification, are blocked by Advanced Protection and some "
        "Workspace policies, and are revoked when the account password changes",
        pos,
        field=f"{where}.password_kind",
        severity="warning",
        rule="GOOG-002",
        suggestion="prefer `auth: oauth2`",
    )


def _microsoft_smtp(env: Environment, pos, where: str, today: dt.date) -> Problem:
    tenant = env.manifest.lint.microsoft365
    timeline = (
        "Exchange Online switches SMTP AUTH Basic off by default at the end of December 2026 "
        "(admins of existing tenants can re-enable it; tenants created after December 2026 never "
        "have it; the final removal date follows in the second half of 2027)"
    )
    advice = "set `auth: oauth2` (SMTP.Send) and link the account"
    if tenant.created_after_2026:
        severity, lead = "error", "this tenant was created after December 2026: "
    elif today < MS_SMTP_BASIC_OFF:
        severity, lead = "warning", f"as of {today.isoformat()}, SMTP Basic still works, but "
    elif tenant.smtp_basic_reenabled:
        severity, lead = "warning", "the tenant re-enabled SMTP Basic, for now: "
        advice = "plan the move to `auth: oauth2` before Microsoft's final removal date"
    else:
        severity, lead = "error", f"as of {today.isoformat()}: "
        advice += (
            " (or, if the tenant admin re-enabled SMTP AUTH, say so with "
            "lint.microsoft365.smtp_basic_reenabled: true)"
        )
    return Problem(
        lead + timeline,
        pos,
        field=f"{where}.auth",
        severity=severity,
        rule="MS-002",
        suggestion=advice,
    )
