"""`reconciler diff-env A B`: how two environments' desired states differ. Pure functions.

Both manifests are expanded exactly as plan expands them (companions included) and compared
resource by resource. What is left out on purpose: the GREYHOUND connection (`greyhound:`, the
environment's server) and secret values (a desired resource holds a reference, never a value, and
the references themselves differ per environment by design). Companions of an account that only one
side has are folded into that account's line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconciler.expand import RULE_PREFIX, account_filter_names
from reconciler.manifest.environment import Environment
from reconciler.model.state import BLACKLIST_NAME, Kind, Resource, State
from reconciler.plan.diff import field_changes
from reconciler.plan.render import _value  # the plan's way of showing a field value

Key = tuple[Kind, str]
TEXT_LIMIT = 20  # blacklist entries shown per side in text output


@dataclass
class Side:
    resources: list[Resource] = field(default_factory=list)  # only on this side
    companions: dict[str, int] = field(default_factory=dict)  # account -> folded companions


@dataclass
class EnvDiff:
    a: str
    b: str
    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    only_a: Side = field(default_factory=Side)
    only_b: Side = field(default_factory=Side)
    changed: list[tuple[Key, list[tuple[str, Any, Any]]]] = field(default_factory=list)
    blacklist_a: list[str] = field(default_factory=list)  # entries only A blocks
    blacklist_b: list[str] = field(default_factory=list)
    blacklist_managed: tuple[bool, bool] = (False, False)

    @property
    def count(self) -> int:
        managed = self.blacklist_managed[0] != self.blacklist_managed[1]
        return (
            len(self.settings)
            + len(self.only_a.resources)
            + len(self.only_b.resources)
            + len(self.changed)
            + len(self.blacklist_a)
            + len(self.blacklist_b)
            + int(managed)
        )


def account_of(r: Resource) -> str | None:
    """The POP3 account a companion belongs to (None for shared standard filters)."""
    if r.kind in (Kind.GROUP, Kind.SIGNATURE):
        return r.name
    if r.kind is Kind.RULE:
        return r.name.removeprefix(RULE_PREFIX)
    if r.kind is Kind.FILTER and r.name.endswith(")") and " (" in r.name:
        account = r.name.rsplit(" (", 1)[0]
        return account if r.name in account_filter_names(account) else None
    return None


def _fields(r: Resource, ignore: set[str]) -> dict[str, Any]:
    out = {k: v for k, v in r.fields.items() if k not in ignore}
    if "protected" not in ignore:
        out["protected"] = r.protected
    return out


def _only(state: State, keys: set[Key], pop3_only: set[str]) -> Side:
    side = Side()
    for key in sorted(keys, key=lambda k: (k[0].value, k[1])):
        r = state.resources[key]
        account = account_of(r) if r.origin == "companion" else None
        if account is not None and account in pop3_only:
            side.companions[account] = side.companions.get(account, 0) + 1
        else:
            side.resources.append(r)
    return side


def diff_environments(
    a: Environment, da: State, b: Environment, db: State, ignore: set[str] | None = None
) -> EnvDiff:
    ignore = set(ignore or ())
    out = EnvDiff(a.name, b.name)
    if a.manifest.prune != b.manifest.prune:
        out.settings.append(("prune", a.manifest.prune, b.manifest.prune))
    bl = (Kind.BLACKLIST, BLACKLIST_NAME)
    keys_a = {k for k in da.resources if k != bl}
    keys_b = {k for k in db.resources if k != bl}
    pop3_a = {n for k, n in keys_a - keys_b if k is Kind.POP3}
    pop3_b = {n for k, n in keys_b - keys_a if k is Kind.POP3}
    out.only_a = _only(da, keys_a - keys_b, pop3_a)
    out.only_b = _only(db, keys_b - keys_a, pop3_b)
    for key in sorted(keys_a & keys_b, key=lambda k: (k[0].value, k[1])):
        delta = field_changes(
            _fields(da.resources[key], ignore), _fields(db.resources[key], ignore)
        )
        if delta:
            out.changed.append((key, [(c.field, c.before, c.after) for c in delta]))
    entries_a = set(da.resources[bl].fields["entries"]) if bl in da.resources else set()
    entries_b = set(db.resources[bl].fields["entries"]) if bl in db.resources else set()
    out.blacklist_managed = (bl in da.resources, bl in db.resources)
    out.blacklist_a = sorted(entries_a - entries_b)
    out.blacklist_b = sorted(entries_b - entries_a)
    return out


def _entries(label: str, entries: list[str]) -> list[str]:
    shown = ", ".join(entries[:TEXT_LIMIT])
    more = f" and {len(entries) - TEXT_LIMIT} more" if len(entries) > TEXT_LIMIT else ""
    return [f"      {label}: {shown}{more}"] if entries else []


def render_text(d: EnvDiff, ignored: set[str]) -> str:
    skipped = "connection settings and secret values"
    if ignored:
        skipped += " and " + ", ".join(sorted(ignored))
    out = [f"diff-env {d.a} -> {d.b} (desired state; {skipped} ignored)"]
    for name, va, vb in d.settings:
        out.append(f"  ~ setting {name}: {_value(va)} -> {_value(vb)}")
    for side, sign, where in ((d.only_a, "-", d.a), (d.only_b, "+", d.b)):
        for r in side.resources:
            folded = side.companions.get(r.name, 0) if r.kind is Kind.POP3 else 0
            extra = f", with its {folded} companions" if folded else ""
            out.append(f"  {sign} {r.kind.value} {r.name!r} (only in {where}{extra})")
    for (kind, name), changes in d.changed:
        out.append(f"  ~ {kind.value} {name!r}")
        out += [f"      {f}: {_value(va)} -> {_value(vb)}" for f, va, vb in changes]
    if d.blacklist_managed[0] != d.blacklist_managed[1]:
        which = d.a if d.blacklist_managed[0] else d.b
        out.append(f"  ~ blacklist: managed only in {which}")
    if d.blacklist_a or d.blacklist_b:
        out.append(
            f"  ~ blacklist: {len(d.blacklist_a)} only in {d.a}, {len(d.blacklist_b)} only in {d.b}"
        )
        out += _entries(f"only in {d.a}", d.blacklist_a) + _entries(f"only in {d.b}", d.blacklist_b)
    if d.count == 0:
        out.append("No differences.")
    else:
        out.append(f"{d.count} difference(s).")
    return "\n".join(out)


def render_json(d: EnvDiff) -> str:
    def refs(side: Side) -> list[dict[str, Any]]:
        return [
            {"kind": r.kind.value, "name": r.name, "companions": side.companions.get(r.name, 0)}
            for r in side.resources
        ]

    doc = {
        "a": d.a,
        "b": d.b,
        "differences": d.count,
        "settings": [{"field": f, "a": va, "b": vb} for f, va, vb in d.settings],
        "only_in_a": refs(d.only_a),
        "only_in_b": refs(d.only_b),
        "changed": [
            {
                "kind": k.value,
                "name": n,
                "fields": [{"field": f, "a": va, "b": vb} for f, va, vb in changes],
            }
            for (k, n), changes in d.changed
        ],
        "blacklist": {
            "managed": {"a": d.blacklist_managed[0], "b": d.blacklist_managed[1]},
            "only_in_a": d.blacklist_a,
            "only_in_b": d.blacklist_b,
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
