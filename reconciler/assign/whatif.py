"""What-if: which mails of a corpus would be assigned differently under another blacklist.

Each mail is parsed and scanned once; only the cheap rule pass runs twice (the ignore list is the
one input that differs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.assign.erp import load_erp
from reconciler.assign.history import History, load_history
from reconciler.assign.ignore import IgnoreList
from reconciler.assign.index import ErpIndex
from reconciler.assign.mail import Mail, read_corpus
from reconciler.assign.rules import FIELDS, Assignment, assign


@dataclass(frozen=True)
class Difference:
    mail: str
    old: Assignment
    new: Assignment

    def changes(self) -> list[str]:
        """`order O-1 → none`, one per field that differs."""
        return [
            f"{name} {before or 'none'} → {after or 'none'}"
            for name, before, after in zip(FIELDS, self.old.outcome, self.new.outcome, strict=True)
            if before != after
        ]

    def as_dict(self) -> dict:
        return {"mail": self.mail, "old": self.old.as_dict(), "new": self.new.as_dict()}


@dataclass
class Comparison:
    old_label: str
    new_label: str
    total: int
    differences: list[Difference] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.differences)} of {self.total} sample mails would be assigned differently"

    def as_dict(self) -> dict:
        return {
            "old": self.old_label,
            "new": self.new_label,
            "total": self.total,
            "different": len(self.differences),
            "differences": [d.as_dict() for d in self.differences],
        }


def compare(
    mails: list[Mail],
    index: ErpIndex,
    old: IgnoreList,
    new: IgnoreList,
    history: History | None = None,
    labels: tuple[str, str] = ("old", "new"),
) -> Comparison:
    result = Comparison(labels[0], labels[1], len(mails))
    for mail in mails:
        before = assign(mail, index, old, history)
        after = assign(mail, index, new, history)
        if before.outcome != after.outcome:
            result.differences.append(Difference(mail.name, before, after))
    return result


def blacklist_change_summary(
    env_dir: Path | str,
    samples,
    groups: frozenset[str],
    old_blacklist: list[str] | None,
    new_blacklist: list[str] | None,
) -> str | None:
    """For plan: "N of M sample mails would be assigned differently", or None when nothing changes.

    `samples` is the environment's `assignment_samples` (paths relative to `env_dir`); `groups` the
    desired group addresses (they are the same on both sides: only the blacklist is compared).
    """
    if samples is None or sorted(old_blacklist or []) == sorted(new_blacklist or []):
        return None
    base = Path(env_dir)
    erp = load_erp(base / samples.erp)
    index = ErpIndex(erp)
    history = load_history(base / samples.history) if samples.history else None
    mails = read_corpus(base / samples.corpus)
    old = IgnoreList(index.users, groups, frozenset(old_blacklist or ()))
    new = IgnoreList(index.users, groups, frozenset(new_blacklist or ()))
    return compare(mails, index, old, new, history).summary()


def blacklist_plan_note(env, desired, live) -> str | None:
    """The line `plan` shows when the blacklist changes and the environment names sample mails.

    `env` is the loaded Environment, `desired`/`live` the two States of the plan. None when the
    environment has no `assignment_samples`, or the plan leaves the blacklist as it is.
    """
    from reconciler.model.state import BLACKLIST_NAME, Kind

    want = desired.get(Kind.BLACKLIST, BLACKLIST_NAME)
    samples = env.manifest.assignment_samples
    if samples is None or want is None:
        return None
    have = live.get(Kind.BLACKLIST, BLACKLIST_NAME)
    groups = frozenset(r.fields["email"] for r in desired.of(Kind.GROUP))
    summary = blacklist_change_summary(
        env.directory,
        samples,
        groups,
        have.fields.get("entries", []) if have else [],
        want.fields.get("entries", []),
    )
    if summary is None:
        return None
    return f"blacklist change: {summary} (`reconciler assign --compare` lists them)"
