"""The record of OAuth2 links this tool made, kept in a rule global next to the marker.

GREYHOUND does not say whether an OAuth2 account is linked (its refresh token is write-only, like a
password), so `reconciler oauth link` records each successful link here, and `oauth renew` drops the
record before it links again. Plan and status read it: an OAuth2 account without a record "needs
linking" and is never activated by apply. Pure functions; the I/O is in ops/oauth.py and engine.py.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, Field, ValidationError

from reconciler.model.state import ACCOUNT_KINDS, Kind, Resource, State
from reconciler.plan.marker import object_key

OAUTH2_FACT = "oauth2"  # live account fact: "linked" | "unlinked" (OAuth2 accounts only)
LINKED, UNLINKED = "linked", "unlinked"


class Link(BaseModel):
    linked_at: str
    provider: str = ""  # the Kind string the server returned from StartOAuth2Authentication


class Links(BaseModel):
    version: int = 1
    accounts: dict[str, Link] = Field(default_factory=dict)  # "pop3/Billing" -> link

    def to_text(self) -> str:
        return self.model_dump_json()


def parse_links(text: str) -> Links:
    """An absent or unreadable record means "no links recorded"."""
    if not text:
        return Links()
    try:
        return Links.model_validate_json(text)
    except (ValidationError, ValueError):
        return Links()


def with_link(links: Links, kind: Kind, name: str, link: Link | None) -> Links:
    accounts = dict(links.accounts)
    if link is None:
        accounts.pop(object_key(kind, name), None)
    else:
        accounts[object_key(kind, name)] = link
    return Links(accounts=accounts)


def is_oauth2(resource: Resource) -> bool:
    return resource.kind in ACCOUNT_KINDS and resource.fields.get("auth") == "oauth2"


def annotate(live: State, links: Links) -> None:
    """Give every live OAuth2 account the fact `oauth2: linked|unlinked`."""
    for key, resource in list(live.resources.items()):
        if not is_oauth2(resource):
            continue
        state = LINKED if object_key(resource.kind, resource.name) in links.accounts else UNLINKED
        live.resources[key] = replace(resource, facts={**resource.facts, OAUTH2_FACT: state})


def annotate_text(live: State, text: str) -> None:
    annotate(live, parse_links(text))


def needs_linking(want: Resource, have: Resource | None) -> bool:
    """An OAuth2 account goes live only once linked: apply never activates it before, so an
    unlinked account is "needs linking" in every plan instead of a change that fails each time."""
    return is_oauth2(want) and (have is None or have.facts.get(OAUTH2_FACT) != LINKED)
