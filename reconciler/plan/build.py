"""desired + live -> Plan, with the safety rails (caps, prune, deactivate-before-delete)."""

from __future__ import annotations

from reconciler import __version__
from reconciler.errors import PlanRefused
from reconciler.manifest.checks import MAX_ACCOUNTS
from reconciler.model.state import ACCOUNT_KINDS, ACTIVE_FIELD, Kind, Resource, State
from reconciler.plan.diff import diff_states
from reconciler.plan.model import ObjectRef, Plan, ServerInfo
from reconciler.plan.order import order_changes


def _deletions(
    unmanaged: list[Resource], desired: State, prune: bool, force: bool
) -> list[Resource]:
    """Prune deletes accounts only; groups, filters, signatures and rules are never deleted."""
    if not prune:
        return []
    doomed = [r for r in unmanaged if r.kind in ACCOUNT_KINDS]
    names = {(r.kind, r.name) for r in doomed}
    for r in doomed:
        # domain.md §2: removing POP3 X also removes SMTP X
        if (
            r.kind is Kind.POP3
            and (Kind.SMTP, r.name) not in names
            and desired.get(Kind.SMTP, r.name) is not None
        ):
            raise PlanRefused(
                f"POP3 account {r.name!r} would be deleted but SMTP account {r.name!r} is kept; "
                "GREYHOUND deletes both together: remove the SMTP account from the manifest too, "
                "or keep the POP3 account"
            )
    active = [r for r in doomed if r.fields.get(ACTIVE_FIELD)]
    if active and not force:
        listing = ", ".join(f"{r.kind.value} {r.name!r}" for r in active)
        raise PlanRefused(
            f"refusing to delete active account(s): {listing}. Safe path: keep them in the manifest "
            "with `active: false`, apply, check nothing is missing, then remove them; or pass --force"
        )
    return doomed


def _check_caps(desired: State, live: State, deletions: list[Resource]) -> None:
    for kind in ACCOUNT_KINDS:
        deleted = {r.name for r in deletions if r.kind is kind}
        end = {r.name for r in live.of(kind) if r.name not in deleted} | {
            r.name for r in desired.of(kind)
        }
        if len(end) > MAX_ACCOUNTS:
            unmanaged = sorted(
                r.name
                for r in live.of(kind)
                if r.name not in deleted and desired.get(kind, r.name) is None
            )
            raise PlanRefused(
                f"after this plan the server would hold {len(end)} {kind.value.upper()} accounts; the cap is "
                f"{MAX_ACCOUNTS}. Unmanaged accounts counted: {', '.join(unmanaged) or 'none'}. Remedy: "
                "remove accounts from the manifest, or enable `prune: true` to delete the unmanaged ones"
            )


def build_plan(
    environment: str, desired: State, live: State, *, prune: bool = False, force: bool = False
) -> Plan:
    changes, unmanaged = diff_states(desired, live)
    deletions = _deletions(unmanaged, desired, prune, force)
    _check_caps(desired, live, deletions)
    steps = order_changes(changes, deletions, desired)
    deleted = {(r.kind, r.name) for r in deletions}
    server = live.server
    return Plan(
        tool_version=__version__,
        environment=environment,
        server=ServerInfo(url=server.url, version=server.version, hostname=server.hostname)
        if server
        else ServerInfo(url=""),
        prune=prune,
        steps=steps,
        unmanaged=[
            ObjectRef(kind=r.kind, name=r.name, active=r.fields.get(ACTIVE_FIELD))
            for r in sorted(unmanaged, key=lambda r: (r.kind.value, r.name))
            if (r.kind, r.name) not in deleted
        ],
    )
