"""CheckConnection: log in to a POP3 or SMTP server the way GREYHOUND's "check settings" does.

A simulated endpoint (configured in the emulator) answers without network, exactly as a reachable
server would; every other host is contacted for real with poplib/smtplib.
"""

from __future__ import annotations

import poplib
import smtplib
import socket
import ssl
from typing import Any

ENCRYPT_NONE, ENCRYPT_SSL, ENCRYPT_STARTTLS = 0, 1, 2
SECURITY_WORDS = {ENCRYPT_NONE: "none", ENCRYPT_SSL: "ssl", ENCRYPT_STARTTLS: "starttls"}
POP3_APOP = 1
SMTP_AUTH_NONE = 0
POP3_AUTH_FAILED = "-ERR [AUTH] Authentication failed."
SMTP_AUTH_FAILED = "535 5.7.8 Error: authentication failed"


class CheckFailed(Exception):
    pass


def _tls_context(config: Any) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if getattr(config, "mail_ca_file", None):
        context.load_verify_locations(config.mail_ca_file)
    return context


def _simulated(protocol: str, item: dict[str, Any], config: Any) -> dict[str, Any] | None:
    """The endpoint (one mailbox on one host:port) that answers for this item, if simulated."""
    matches = [
        e
        for e in getattr(config, "endpoints", [])
        if e["protocol"] == protocol
        and e["host"].lower() == str(item.get("Host", "")).lower()
        and e["port"] == item.get("Port")
    ]
    same_user = [e for e in matches if e["username"] == item.get("Username")]
    return (same_user or matches or [None])[0]


def _check_simulated(
    endpoint: dict[str, Any], item: dict[str, Any], auth_failed: str, needs_login: bool
):
    host, port = endpoint["host"], endpoint["port"]
    if SECURITY_WORDS.get(item.get("Encrypt")) != endpoint["security"]:
        raise CheckFailed(
            f"{host}:{port}: connection failed: the server expects "
            f"{endpoint['security']} but {SECURITY_WORDS.get(item.get('Encrypt'), '?')} was used"
        )
    if needs_login and (
        item.get("Username") != endpoint["username"] or item.get("Password") != endpoint["password"]
    ):
        raise CheckFailed(f"{host}:{port}: login failed: {auth_failed}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc}): is the security setting right for this port?"
    # smtplib reports a greeting that never came as "Connection unexpectedly closed: timed out"
    timed_out = isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    if timed_out or isinstance(exc, TimeoutError | socket.timeout):
        return "timed out: is the security setting right for this port?"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, poplib.error_proto):
        return exc.args[0].decode(errors="replace") if isinstance(exc.args[0], bytes) else str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if "AUTH" in str(exc):
            return "the server offers no login (AUTH) on this connection: does it need ssl or starttls?"
        if "STARTTLS" in str(exc):
            return "the server does not offer STARTTLS"
    if isinstance(exc, EOFError | smtplib.SMTPServerDisconnected):
        return "the server closed the connection: is the security setting right for this port?"
    return " ".join(str(exc).split()) or type(exc).__name__


_POP3_ERRORS = (OSError, poplib.error_proto, EOFError)
_SMTP_ERRORS = (OSError, smtplib.SMTPException)


def check_pop3(item: dict[str, Any], config: Any) -> int:
    """Log in and return the number of messages waiting; raise CheckFailed with the server's words."""
    endpoint = _simulated("pop3", item, config)
    if endpoint is not None:
        _check_simulated(endpoint, item, POP3_AUTH_FAILED, needs_login=True)
        return 0
    host, port, timeout = item.get("Host", ""), item.get("Port", 0), item.get("Timeout") or 30
    try:
        encrypt = item.get("Encrypt", ENCRYPT_SSL)
        if encrypt == ENCRYPT_SSL:
            conn = poplib.POP3_SSL(host, port, timeout=timeout, context=_tls_context(config))
        else:
            conn = poplib.POP3(host, port, timeout=timeout)
    except _POP3_ERRORS as exc:
        raise CheckFailed(f"{host}:{port}: connection failed: {_describe(exc)}") from None
    try:
        if encrypt == ENCRYPT_STARTTLS:
            try:
                conn.stls(context=_tls_context(config))
            except _POP3_ERRORS as exc:
                raise CheckFailed(f"{host}:{port}: STARTTLS failed: {_describe(exc)}") from None
        try:
            if item.get("Authenticate") == POP3_APOP:
                conn.apop(item.get("Username", ""), item.get("Password", ""))
            else:
                conn.user(item.get("Username", ""))
                conn.pass_(item.get("Password", ""))
        except _POP3_ERRORS as exc:
            raise CheckFailed(f"{host}:{port}: login failed: {_describe(exc)}") from None
        try:
            count, _size = conn.stat()
        except _POP3_ERRORS as exc:
            raise CheckFailed(f"{host}:{port}: mailbox not readable: {_describe(exc)}") from None
        return count
    finally:
        try:
            conn.quit()
        except _POP3_ERRORS:
            conn.close()


def check_smtp(item: dict[str, Any], config: Any) -> None:
    """Connect, negotiate TLS as configured and log in; raise CheckFailed with the server's words."""
    endpoint = _simulated("smtp", item, config)
    needs_login = item.get("Authenticate", 1) != SMTP_AUTH_NONE
    if endpoint is not None:
        _check_simulated(endpoint, item, SMTP_AUTH_FAILED, needs_login=needs_login)
        return
    host, port, timeout = item.get("Host", ""), item.get("Port", 0), item.get("Timeout") or 30
    try:
        encrypt = item.get("Encrypt", ENCRYPT_STARTTLS)
        if encrypt == ENCRYPT_SSL:
            conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(config))
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
    except _SMTP_ERRORS as exc:
        raise CheckFailed(f"{host}:{port}: connection failed: {_describe(exc)}") from None
    try:
        if encrypt == ENCRYPT_STARTTLS:
            try:
                conn.starttls(context=_tls_context(config))
            except _SMTP_ERRORS as exc:
                raise CheckFailed(f"{host}:{port}: STARTTLS failed: {_describe(exc)}") from None
        try:
            conn.ehlo_or_helo_if_needed()
            if needs_login:
                conn.login(item.get("Username", ""), item.get("Password", ""))
        except _SMTP_ERRORS as exc:
            raise CheckFailed(f"{host}:{port}: login failed: {_describe(exc)}") from None
    finally:
        try:
            conn.quit()
        except _SMTP_ERRORS:
            conn.close()
