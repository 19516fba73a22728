"""OAuth2 linking in the emulator: Start/CheckOAuth2Authentication of RpcPop3Accounts and
RpcSmtpAccounts (greyhound-rpc.md §3.4).

A real server sends the user to the provider's consent page and learns the outcome from the
provider. Here the "consent" is decided by the test or by a setting:

- in-process: `running.httpd.dispatcher.oauth.decide(identifier, granted=True)` (`pending()` lists
  the flows waiting for a decision);
- the environment variable GREYHOUND_EMULATOR_OAUTH2=grant|decline decides every flow at its first
  Check (for an embedded emulator, which runs inside the reconciler's own process);
- a flow nobody decides fails after FLOW_LIFETIME seconds, like an abandoned browser tab.

Start knows the providers by host name (Microsoft 365 / Outlook, Google); any other host is a fault,
as the real server cannot link an account of a provider it has no OAuth2 client for [I].
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from reconciler.greyhound import protocol as P

AUTO_ENV = "GREYHOUND_EMULATOR_OAUTH2"
FLOW_LIFETIME = 600.0  # seconds until an undecided flow counts as failed [I]
CLASSES = ("RpcPop3Accounts", "RpcSmtpAccounts")
METHODS = ("StartOAuth2Authentication", "CheckOAuth2Authentication")
# provider "Kind" strings by host suffix [I]: the real values are not documented
PROVIDERS = {
    "office365.com": "microsoft",
    "outlook.com": "microsoft",
    "hotmail.com": "microsoft",
    "gmail.com": "google",
    "googlemail.com": "google",
    "google.com": "google",
}
CONSENT_URL = "https://login.emulator.invalid/oauth2/authorize?provider={kind}&id={identifier}"


def provider_of(host: str) -> str | None:
    host = host.strip().lower().rstrip(".")
    for suffix, kind in PROVIDERS.items():
        if host == suffix or host.endswith("." + suffix):
            return kind
    return None


@dataclass
class Flow:
    identifier: str
    kind: str
    cls: str
    started: float
    state: int = P.OAUTH2_PENDING
    refresh_token: str = ""


def _fault(code: int, message: str) -> Exception:
    from reconciler.emulator.app import RpcFault  # app imports this module

    return RpcFault(code, message)


def _strings(params: list, count: int, method: str) -> list[str]:
    if len(params) != count or not all(isinstance(p, str) for p in params):
        raise _fault(P.FAULT_INVALID_PARAMS, f"{method}: expected {count} string parameter(s)")
    return params


class OAuth2Flows:
    """Thread-safe registry of the consent flows the emulator has started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flows: dict[str, Flow] = {}
        self.checks = 0

    def call(self, cls: str, name: str, params: list, method: str) -> dict[str, Any]:
        if name == "StartOAuth2Authentication":
            host, redirect, locale = _strings(params, 3, method)
            return self.start(cls, host)
        identifier, kind = _strings(params, 2, method)
        return self.check(cls, identifier, kind, method)

    def start(self, cls: str, host: str) -> dict[str, Any]:
        kind = provider_of(host)
        if kind is None:
            raise _fault(
                P.FAULT_INVALID_PARAMS,
                f"no OAuth2 provider is known for host {host!r} (Microsoft 365 and Google are)",
            )
        flow = Flow(secrets.token_hex(16), kind, cls, time.monotonic())
        with self._lock:
            self._flows[flow.identifier] = flow
        return {
            "Identifier": flow.identifier,
            "Kind": kind,
            "Url": CONSENT_URL.format(kind=kind, identifier=flow.identifier),
        }

    def check(self, cls: str, identifier: str, kind: str, method: str) -> dict[str, Any]:
        auto = os.environ.get(AUTO_ENV, "").strip().lower()
        with self._lock:
            self.checks += 1
            flow = self._flows.get(identifier)
            if flow is None or flow.kind != kind or flow.cls != cls:
                return {"State": P.OAUTH2_NONE, "RefreshToken": ""}
            if flow.state == P.OAUTH2_PENDING:
                if auto in ("grant", "decline"):
                    self._decide(flow, auto == "grant")
                elif time.monotonic() - flow.started > FLOW_LIFETIME:
                    flow.state = P.OAUTH2_FAILED
            return {"State": flow.state, "RefreshToken": flow.refresh_token}

    def _decide(self, flow: Flow, granted: bool) -> None:
        flow.state = P.OAUTH2_FINISHED if granted else P.OAUTH2_FAILED
        flow.refresh_token = f"rt-{flow.kind}-{secrets.token_hex(12)}" if granted else ""

    def decide(self, identifier: str, granted: bool) -> None:
        """The user granted (or declined) access on the provider's page."""
        with self._lock:
            flow = self._flows[identifier]
            if flow.state == P.OAUTH2_PENDING:
                self._decide(flow, granted)

    def pending(self) -> list[str]:
        with self._lock:
            return [f.identifier for f in self._flows.values() if f.state == P.OAUTH2_PENDING]

    def issued_tokens(self) -> set[str]:
        with self._lock:
            return {f.refresh_token for f in self._flows.values() if f.refresh_token}
