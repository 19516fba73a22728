"""One resource shape for desired and live state, so diff, plan and export share code."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model.manifest import SecretRef


class Kind(StrEnum):
    POP3 = "pop3"
    SMTP = "smtp"
    GROUP = "group"
    SIGNATURE = "signature"
    FILTER = "filter"
    RULE = "rule"
    BLACKLIST = "blacklist"


ACCOUNT_KINDS = (Kind.POP3, Kind.SMTP)
BLACKLIST_NAME = "blacklist"
# Fields that carry the account's on/off switch; they move in their own plan phases.
ACTIVE_FIELD = "active"


@dataclass(frozen=True)
class Resource:
    kind: Kind
    name: str
    fields: dict[str, Any]
    id: int | None = None  # live objects only
    secret: SecretRef | None = None  # desired accounts: where the password comes from
    facts: dict[str, Any] = field(default_factory=dict)  # live read-only facts (last error, …)
    origin: str = "manifest"  # manifest | companion | live
    protected: bool = False  # desired only: never delete, even when it leaves the manifest

    @property
    def key(self) -> tuple[Kind, str]:
        return (self.kind, self.name)


@dataclass
class ServerIdentity:
    url: str
    version: str = ""
    hostname: str = ""


@dataclass
class State:
    resources: dict[tuple[Kind, str], Resource] = field(default_factory=dict)
    server: ServerIdentity | None = None
    duplicates: dict[tuple[Kind, str], list[int]] = field(default_factory=dict)  # live: name -> ids

    def add(self, resource: Resource) -> None:
        held = self.resources.get(resource.key)
        if held is not None and held.id is not None and resource.id is not None:
            # names are identities here, but GREYHOUND allows two objects of one name
            self.duplicates.setdefault(resource.key, [held.id]).append(resource.id)
        self.resources[resource.key] = resource

    def get(self, kind: Kind, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    def of(self, kind: Kind) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind == kind]
