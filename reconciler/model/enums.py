"""Manifest words and their GREYHOUND integers, in one place (greyhound-rpc.md §2.3, §2.4, §3.6).

The manifest speaks `security: starttls`; the API speaks `Encrypt: 2`. Every translation between
the two goes through the tables below, in both directions.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E")


class Security(StrEnum):
    NONE = "none"
    SSL = "ssl"  # implicit TLS from the first byte
    STARTTLS = "starttls"


class Pop3Auth(StrEnum):
    LOGIN = "login"
    APOP = "apop"
    OAUTH2 = "oauth2"


class SmtpAuth(StrEnum):
    NONE = "none"
    LOGIN = "login"
    OAUTH2 = "oauth2"


class DeletePolicy(StrEnum):
    AFTER_DAYS = "after_days"
    IMMEDIATELY = "immediately"
    NEVER = "never"


# RpcPop3Encrypt / RpcSmtpEncrypt: peNo/seNo=0, peSSL/seSSL=1, peSTARTTLS/seSTARTTLS=2
ENCRYPT = {Security.NONE: 0, Security.SSL: 1, Security.STARTTLS: 2}
# RpcPop3Authenticate: paLogin=0, paAPop=1, paOAuth2=2
POP3_AUTH = {Pop3Auth.LOGIN: 0, Pop3Auth.APOP: 1, Pop3Auth.OAUTH2: 2}
# RpcSmtpAuthenticate: saNone=0, saLogin=1, saOAuth2=2 (differs from POP3: 0 is "none" here)
SMTP_AUTH = {SmtpAuth.NONE: 0, SmtpAuth.LOGIN: 1, SmtpAuth.OAUTH2: 2}
# RpcPop3Delete: pdYes=0 (right after fetching), pdNo=1 (never), pdDelayed=2 (after DeleteAge days)
POP3_DELETE = {DeletePolicy.IMMEDIATELY: 0, DeletePolicy.NEVER: 1, DeletePolicy.AFTER_DAYS: 2}
# RpcPop3State / RpcSmtpState / RpcRuleState: inactive=0, active=1
STATE = {False: 0, True: 1}

# Default ports when the manifest leaves `port` out (RFC 8314, RFC 6409).
DEFAULT_PORTS = {
    "pop3": {Security.SSL: 995, Security.STARTTLS: 110, Security.NONE: 110},
    "smtp": {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25},
}


def from_int(table: dict[E, int], value: int, what: str) -> E:
    """Reverse lookup; an unknown integer from the server is an error, never a silent default."""
    for word, number in table.items():
        if number == value:
            return word
    raise ValueError(f"unknown {what} value {value!r} from the server")
