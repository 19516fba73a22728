"""`reconciler oauth link|renew`: link OAuth2 accounts without the GUI (greyhound-rpc.md §3.4).

link: StartOAuth2Authentication(host) -> a consent URL for the user -> poll
CheckOAuth2Authentication until finished, failed or the timeout -> store the refresh token on the
account (write-only Password, Authenticate = OAuth2) -> record the link (ops/oauthlinks.py).
renew: the documented unlink-then-link: the link record is dropped first, so an interrupted renewal
shows "needs linking" rather than a link that may be stale; the new token replaces the old one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.errors import ReconcilerError
from reconciler.greyhound import mapping
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import TransportError
from reconciler.greyhound.live import locked_update, put_global
from reconciler.manifest.secrets import remember
from reconciler.model.enums import POP3_AUTH, SMTP_AUTH, Pop3Auth, SmtpAuth
from reconciler.model.state import Kind, Resource, State
from reconciler.ops.oauthlinks import Link, is_oauth2, parse_links, with_link

AUTHENTICATE_OAUTH2 = {Kind.POP3: POP3_AUTH[Pop3Auth.OAUTH2], Kind.SMTP: SMTP_AUTH[SmtpAuth.OAUTH2]}


class LinkFailed(ReconcilerError):
    """The consent was declined, failed or did not finish in time."""


@dataclass
class LinkOutcome:
    kind: Kind
    name: str
    provider: str
    seconds: float


def oauth2_accounts(desired: State, name: str) -> list[Resource]:
    """The manifest's OAuth2 accounts named `name` (POP3 first, then SMTP)."""
    found = [r for r in (desired.get(Kind.POP3, name), desired.get(Kind.SMTP, name)) if r]
    if not found:
        raise ReconcilerError(f"the manifest has no account named {name!r}")
    linkable = [r for r in found if is_oauth2(r)]
    if not linkable:
        raise ReconcilerError(
            f"account {name!r} does not use OAuth2 (auth: {found[0].fields.get('auth')}); only "
            "`auth: oauth2` accounts are linked"
        )
    return linkable


async def _links(client) -> tuple[str, object]:
    text = await client.call("RpcRules.GetGlobal", P.OAUTH2_LINKS_GLOBAL)
    return text, parse_links(text)


async def record(client, kind: Kind, name: str, link: Link | None) -> None:
    """Add or drop one account's link record (read, change, write back)."""
    _, links = await _links(client)
    await put_global(client, P.OAUTH2_LINKS_GLOBAL, with_link(links, kind, name, link).to_text())


async def link_account(
    client,
    account: Resource,
    live: State,
    say: Callable[[str], None],
    timeout: float,
    interval: float,
    redirect_url: str = "",
    locale: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> LinkOutcome:
    kind, name = account.kind, account.name
    have = live.get(kind, name)
    if have is None or have.id is None:
        raise ReconcilerError(
            f"{kind.value} account {name!r} does not exist on the server yet: apply the manifest "
            "first (OAuth2 accounts are created inactive and wait for linking), then link it"
        )
    cls = mapping.RPC_CLASS[kind]
    host = account.fields["host"]
    started = clock()
    start = await client.call(f"{cls}.StartOAuth2Authentication", host, redirect_url, locale)
    identifier, provider, url = (
        start.get("Identifier", ""),
        start.get("Kind", ""),
        start.get("Url", ""),
    )
    if not identifier or not url:
        raise LinkFailed(
            f"{cls}.StartOAuth2Authentication returned no identifier or URL for {host}"
        )
    say(f"{kind.value} account {name!r}: open this address in a browser and grant access:")
    say(f"  {url}")
    say(f"waiting for the consent (polling every {interval:g}s, at most {timeout:g}s)...")
    while True:
        try:
            progress = await client.call(f"{cls}.CheckOAuth2Authentication", identifier, provider)
        except TransportError as exc:  # a poll is a read: a lost one is simply asked again
            progress = {"State": P.OAUTH2_PENDING}
            say(f"  (poll failed: {exc}; trying again)")
        state = progress.get("State", P.OAUTH2_NONE)
        if state == P.OAUTH2_FINISHED:
            token = progress.get("RefreshToken") or ""
            break
        if state == P.OAUTH2_FAILED:
            raise LinkFailed(
                f"{kind.value} account {name!r}: the consent was declined or failed at the "
                "provider; nothing was changed. Run `oauth link` again to retry"
            )
        if state == P.OAUTH2_NONE:
            raise LinkFailed(
                f"{kind.value} account {name!r}: the server no longer knows this consent flow "
                "(expired or restarted); run `oauth link` again"
            )
        if clock() - started >= timeout:
            raise LinkFailed(
                f"{kind.value} account {name!r}: no consent within {timeout:g}s; nothing was "
                "changed. Run `oauth link` again (--timeout SECONDS for more time)"
            )
        await asyncio.sleep(interval)
    if not token:
        raise LinkFailed(f"{kind.value} account {name!r}: the provider returned no refresh token")
    remember(token)  # never printed, whatever happens next
    await locked_update(
        client, kind, have.id, {"Authenticate": AUTHENTICATE_OAUTH2[kind], "Password": token}
    )
    when = datetime.now(UTC).isoformat(timespec="seconds")
    await record(client, kind, name, Link(linked_at=when, provider=provider))
    return LinkOutcome(kind, name, provider, clock() - started)
