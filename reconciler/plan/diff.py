"""Desired vs live: which resources to create, update or leave alone. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from reconciler.model.state import Kind, Resource, State
from reconciler.plan.model import FieldChange


@dataclass
class Change:
    kind: Kind
    name: str
    action: str  # create | update | delete
    desired: Resource | None
    live: Resource | None
    changes: list[FieldChange] = field(default_factory=list)


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Top-level fields that differ; lists are compared as sets (senders, blacklist entries)."""
    diff = DeepDiff(before, after, ignore_order=True, view="tree")
    changed: set[str] = set()
    for items in diff.values():
        for item in items:
            path = item.path(output_format="list")
            if path:
                changed.add(str(path[0]))
    return [FieldChange(field=f, before=before.get(f), after=after.get(f)) for f in sorted(changed)]


def diff_states(desired: State, live: State) -> tuple[list[Change], list[Resource]]:
    """-> (changes for desired resources, live resources the manifest does not mention)."""
    changes: list[Change] = []
    for key, want in desired.resources.items():
        have = live.resources.get(key)
        if have is None:
            changes.append(Change(want.kind, want.name, "create", want, None))
            continue
        delta = field_changes(have.fields, want.fields)
        if delta:
            changes.append(Change(want.kind, want.name, "update", want, have, delta))
    unmanaged = [r for key, r in live.resources.items() if key not in desired.resources]
    return changes, unmanaged
