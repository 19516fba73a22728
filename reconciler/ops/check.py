"""`reconciler check`: the "check settings" button for every account of the manifest.

Through the server (default): RpcPop3Accounts/RpcSmtpAccounts.CheckConnection with the manifest's
settings and resolved password, so the test runs where GREYHOUND runs (its network, its firewall).
`--direct`: the same login from this machine with poplib/smtplib (the emulator's own checker,
emulator/mailcheck.py), to tell "the server cannot reach the mail host" from "the settings are wrong".
The manifest's settings are tested, not the saved ones: check before apply to catch a typo.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace

from reconciler.emulator.mailcheck import CheckFailed, check_pop3, check_smtp
from reconciler.errors import ReconcilerError
from reconciler.greyhound import mapping
from reconciler.greyhound.errors import GreyhoundError, RpcError
from reconciler.model.state import ACCOUNT_KINDS, Kind, Resource, State
from reconciler.ops.oauthlinks import is_oauth2

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass
class CheckResult:
    kind: Kind
    name: str
    endpoint: str  # "pop.example.com:995 ssl"
    status: str  # ok | failed | skipped
    detail: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "endpoint": self.endpoint,
            "status": self.status,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
        }


def endpoint_of(r: Resource) -> str:
    return f"{r.fields['host']}:{r.fields['port']} {r.fields['security']}"


def accounts_to_check(desired: State, name: str | None) -> list[Resource]:
    accounts = sorted(
        (r for r in desired.resources.values() if r.kind in ACCOUNT_KINDS),
        key=lambda r: (r.name, r.kind.value),
    )
    if name is None:
        return accounts
    chosen = [r for r in accounts if r.name == name]
    if not chosen:
        known = ", ".join(sorted({r.name for r in accounts})) or "none"
        raise ReconcilerError(f"the manifest has no account named {name!r} (accounts: {known})")
    return chosen


def skip_reason(r: Resource) -> str | None:
    if is_oauth2(r):
        return "OAuth2 accounts log in with a linked token, not a password: see `reconciler status`"
    return None


async def _timed(r: Resource, check: Callable[[], Awaitable[str]]) -> CheckResult:
    reason = skip_reason(r)
    if reason:
        return CheckResult(r.kind, r.name, endpoint_of(r), SKIPPED, reason)
    started = time.monotonic()
    try:
        detail = await check()
    except (CheckFailed, RpcError) as exc:
        text = exc.rpc_message if isinstance(exc, RpcError) else str(exc)
        text = text.removeprefix(f"{r.fields['host']}:{r.fields['port']}: ")  # said in the line
        return CheckResult(r.kind, r.name, endpoint_of(r), FAILED, text, time.monotonic() - started)
    except GreyhoundError as exc:
        detail = f"could not ask the server: {exc}"
        return CheckResult(
            r.kind, r.name, endpoint_of(r), FAILED, detail, time.monotonic() - started
        )
    return CheckResult(r.kind, r.name, endpoint_of(r), OK, detail, time.monotonic() - started)


def _waiting(kind: Kind, count) -> str:
    return f"{count} message(s) waiting" if kind is Kind.POP3 and isinstance(count, int) else ""


async def check_through_server(
    client, accounts: list[Resource], passwords: dict[tuple[Kind, str], str]
) -> list[CheckResult]:
    async def one(r: Resource) -> CheckResult:
        async def ask() -> str:
            item = mapping.check_item(r.kind, r.fields, passwords.get(r.key, ""))
            return _waiting(
                r.kind, await client.call(f"{mapping.RPC_CLASS[r.kind]}.CheckConnection", item)
            )

        return await _timed(r, ask)

    return list(await asyncio.gather(*(one(r) for r in accounts)))


async def check_direct(
    accounts: list[Resource],
    passwords: dict[tuple[Kind, str], str],
    ca_file: str | None = None,
    timeout: int = 30,
) -> list[CheckResult]:
    """poplib/smtplib from this machine, each login in its own thread, all at once."""
    config = SimpleNamespace(mail_ca_file=ca_file, endpoints=[])

    async def one(r: Resource) -> CheckResult:
        async def login() -> str:
            item = mapping.check_item(r.kind, r.fields, passwords.get(r.key, ""))
            item["Timeout"] = timeout
            checker = check_pop3 if r.kind is Kind.POP3 else check_smtp
            return _waiting(r.kind, await asyncio.to_thread(checker, item, config))

        return await _timed(r, login)

    return list(await asyncio.gather(*(one(r) for r in accounts)))


def render_text(results: list[CheckResult], where: str) -> str:
    lines = [f"Checking {len(results)} account(s) {where}:"]
    width = max((len(f"{r.kind.value} {r.name!r}") for r in results), default=0)
    for r in results:
        label = f"{r.kind.value} {r.name!r}"
        head = f"  {r.status.upper():<7} {label:<{width}}  {r.endpoint}"
        if r.status == OK:
            lines.append(head + (f"  ({r.detail})" if r.detail else "") + f"  {r.seconds:.2f}s")
        else:
            lines.append(f"{head}: {r.detail}")
    counts = {s: sum(1 for r in results if r.status == s) for s in (OK, FAILED, SKIPPED)}
    lines.append(f"{counts[OK]} ok, {counts[FAILED]} failed, {counts[SKIPPED]} skipped.")
    return "\n".join(lines)
