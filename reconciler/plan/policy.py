"""Safety rails, all in one place: each raises PlanRefused (exit 4) with a concrete remedy."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import PlanRefused
from reconciler.manifest.checks import MAX_ACCOUNTS
from reconciler.model.state import ACCOUNT_KINDS, ACTIVE_FIELD, Kind, Resource, State
from reconciler.plan.marker import Marker, object_key
from reconciler.plan.model import Action, Step
from reconciler.plan.simulate import peak_accounts


@dataclass(frozen=True)
class Rails:
    prune: bool = False
    force: bool = False  # allow deleting active accounts and exceeding the change threshold
    allow_delete_all: bool = False  # acknowledge that an empty manifest deletes every account
    max_change_share: float = 0.5  # updates + deletes as a share of managed objects
    min_changes_checked: int = 3  # below this many, the share is not checked (small setups)
    sync_passwords: bool = False  # write passwords the marker has no fingerprint for


def deletions(
    unmanaged: list[Resource], desired: State, live: State, marker: Marker | None, rails: Rails
):
    """Which unmanaged objects prune deletes: accounts only; groups, filters, rules never."""
    if not rails.prune:
        return []
    doomed = [r for r in unmanaged if r.kind in ACCOUNT_KINDS]
    names = {(r.kind, r.name) for r in doomed}
    for r in doomed:
        # domain.md §2: GREYHOUND removes SMTP X together with POP3 X
        if (
            r.kind is Kind.POP3
            and (Kind.SMTP, r.name) not in names
            and desired.get(Kind.SMTP, r.name)
        ):
            raise PlanRefused(
                f"POP3 account {r.name!r} would be deleted but SMTP account {r.name!r} is kept; "
                "GREYHOUND deletes both together: remove the SMTP account from the manifest too, "
                "or keep the POP3 account"
            )
    if marker is not None:
        protected = [
            r
            for r in doomed
            if marker.objects.get(object_key(r.kind, r.name), None) is not None
            and marker.objects[object_key(r.kind, r.name)].protected
        ]
        if protected:
            listing = ", ".join(f"{r.kind.value} {r.name!r}" for r in protected)
            raise PlanRefused(
                f"refusing to delete protected account(s): {listing}. They were applied with "
                "`protected: true`; put them back in the manifest, or apply them once with "
                "`protected: false` before removing them"
            )
    if (
        doomed
        and not desired.of(Kind.POP3)
        and not desired.of(Kind.SMTP)
        and not rails.allow_delete_all
    ):
        raise PlanRefused(
            f"the manifest declares no accounts, so prune would delete all {len(doomed)} accounts on the "
            "server. If that is really intended, pass --allow-delete-all"
        )
    active = [r for r in doomed if r.fields.get(ACTIVE_FIELD)]
    if active and not rails.force:
        listing = ", ".join(f"{r.kind.value} {r.name!r}" for r in active)
        raise PlanRefused(
            f"refusing to delete active account(s): {listing}. Safe path: keep them in the manifest "
            "with `active: false`, apply, check nothing is missing, then remove them; or pass --force"
        )
    return doomed


def check_caps(
    steps: list[Step], desired: State, live: State, deleted: list[Resource], warnings: list[str]
) -> None:
    gone = {(r.kind, r.name) for r in deleted}
    for kind in ACCOUNT_KINDS:
        end = {r.name for r in live.of(kind) if (kind, r.name) not in gone} | {
            r.name for r in desired.of(kind)
        }
        now = len(live.of(kind))
        if len(end) > MAX_ACCOUNTS and len(end) <= now:
            # already over the cap (accounts made with the GREYHOUND client and a licence): the plan
            # adds none, so it may still manage what exists
            warnings.append(
                f"the server holds {now} {kind.value.upper()} accounts, more than the {MAX_ACCOUNTS} "
                "Elements manages; this plan adds none"
            )
            continue
        if len(end) > MAX_ACCOUNTS:
            unmanaged = sorted(
                r.name
                for r in live.of(kind)
                if (kind, r.name) not in gone and desired.get(kind, r.name) is None
            )
            raise PlanRefused(
                f"after this plan the server would hold {len(end)} {kind.value.upper()} accounts; the cap is "
                f"{MAX_ACCOUNTS}. Unmanaged accounts counted: {', '.join(unmanaged) or 'none'}. Remedy: "
                "remove accounts from the manifest, or enable `prune: true` to delete the unmanaged ones"
            )
    peak = peak_accounts(steps, live)
    for kind, count in peak.items():
        # cannot happen with deletes ordered before creates; kept as a proof obligation
        if count > max(MAX_ACCOUNTS, len(live.of(kind))):
            raise PlanRefused(
                f"the plan would pass through {count} {kind.value.upper()} accounts mid-apply"
            )


def check_change_share(steps: list[Step], managed_count: int, rails: Rails) -> None:
    risky = [s for s in steps if s.action in (Action.UPDATE, Action.DELETE)]
    if rails.force or len(risky) < rails.min_changes_checked or managed_count == 0:
        return
    share = len(risky) / managed_count
    if share > rails.max_change_share:
        raise PlanRefused(
            f"this plan updates or deletes {len(risky)} of {managed_count} managed objects "
            f"({share:.0%}, threshold {rails.max_change_share:.0%}); check that the right manifest "
            "and server are paired, then pass --force (or raise --max-change-share)"
        )


def check_duplicates(desired: State, live: State, warnings: list[str]) -> None:
    """Two live objects with one name: refuse to touch a managed one (which would we change?)."""
    managed = []
    for (kind, name), ids in sorted(live.duplicates.items()):
        listing = f"{kind.value} {name!r} exists {len(ids)} times on the server (ids {', '.join(map(str, ids))})"
        if desired.get(kind, name) is not None:
            managed.append(listing)
        else:
            warnings.append(listing + "; it is not managed, so it is left alone")
    if managed:
        raise PlanRefused(
            "; ".join(managed)
            + ". Names identify objects, so the plan cannot tell which one is meant: delete or rename "
            "the extra one(s) in the GREYHOUND client, then plan again"
        )
