"""desired + live (+ marker) -> Plan. Pure: secrets arrive here only as fingerprints."""

from __future__ import annotations

import hashlib
import json

from reconciler import __version__
from reconciler.model.state import ACCOUNT_KINDS, ACTIVE_FIELD, Kind, State
from reconciler.ops.oauthlinks import needs_linking
from reconciler.plan import policy
from reconciler.plan.diff import Change, diff_states
from reconciler.plan.marker import Marker, fields_hash, object_key
from reconciler.plan.model import FieldChange, ObjectRef, Plan, ServerInfo
from reconciler.plan.order import order_changes

Fingerprints = dict[tuple[Kind, str], str]


def linking_notes(desired: State, live: State) -> list[str]:
    """OAuth2 accounts that should be active but are not linked: apply does not activate them."""
    notes = []
    for r in sorted(desired.resources.values(), key=lambda r: (r.kind.value, r.name)):
        have = live.resources.get(r.key)
        if not r.fields.get(ACTIVE_FIELD) or not needs_linking(r, have):
            continue
        link = f"`reconciler oauth link <env dir> --account {r.name}`"
        if have is not None and have.fields.get(ACTIVE_FIELD):
            notes.append(
                f"{r.kind.value} account {r.name!r} uses OAuth2 and needs linking: no link is "
                f"recorded for it (linked elsewhere, or dropped by `oauth renew`); run {link}"
            )
        else:
            notes.append(
                f"{r.kind.value} account {r.name!r} uses OAuth2 and needs linking: it stays "
                f"inactive until {link} has linked it; plan again after that"
            )
    return notes


def password_changes(
    changes: list[Change],
    desired: State,
    live: State,
    marker: Marker | None,
    fingerprints: Fingerprints,
    sync_passwords: bool,
    warnings: list[str],
) -> list[Change]:
    """Add `password: (changed)` where the secret's fingerprint differs from the one last applied.

    An account whose password was never written by this tool (adopted, exported) has no record: the
    plan warns instead of overwriting a working password blindly; `--sync-passwords` writes it once.
    """
    by_key = {(c.kind, c.name): c for c in changes}
    out = list(changes)
    for key, fingerprint in sorted(fingerprints.items()):
        have = live.resources.get(key)
        if have is None:
            continue  # a create sets the password anyway
        record = marker.objects.get(object_key(*key)) if marker else None
        if record is not None and record.password == fingerprint:
            continue
        if record is None or record.password is None:
            if not sync_passwords:
                warnings.append(
                    f"password of {key[0].value} account {key[1]!r} was never written by this tool, so its "
                    "rotation cannot be detected yet; run apply with --sync-passwords once to write and record it"
                )
                continue
            change = FieldChange(
                field="password", before="(not recorded)", after="(set)", secret=True
            )
        else:
            change = FieldChange(
                field="password", before="(recorded)", after="(changed)", secret=True
            )
        if key in by_key:
            by_key[key].changes.append(change)
        else:
            new = Change(key[0], key[1], "update", desired.resources[key], have, [change])
            out.append(new)
            by_key[key] = new
    return out


def live_basis(live: State) -> dict[str, str]:
    """Fingerprint of every live object a plan read; a saved plan is stale when any of these moves."""
    return {
        object_key(r.kind, r.name): fields_hash({"id": r.id, **r.fields})
        for r in sorted(live.resources.values(), key=lambda r: (r.kind.value, r.name))
    }


def desired_digest(desired: State, fingerprints: Fingerprints) -> str:
    doc = [
        [r.kind.value, r.name, r.fields, r.secret.describe() if r.secret else None, r.protected]
        for r in sorted(desired.resources.values(), key=lambda r: (r.kind.value, r.name))
    ]
    doc.append(sorted(f"{k.value}/{n}={fp}" for (k, n), fp in fingerprints.items()))
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:32]


def build_plan(
    environment: str,
    desired: State,
    live: State,
    *,
    rails: policy.Rails | None = None,
    marker: Marker | None = None,
    fingerprints: Fingerprints | None = None,
    marker_salt: str = "",
) -> Plan:
    rails = rails or policy.Rails()
    fingerprints = fingerprints or {}
    changes, unmanaged = diff_states(desired, live)
    warnings: list[str] = []
    changes = password_changes(
        changes, desired, live, marker, fingerprints, rails.sync_passwords, warnings
    )
    doomed = policy.deletions(unmanaged, desired, live, marker, rails)
    warnings += linking_notes(desired, live)
    steps = order_changes(changes, doomed, desired)
    if marker is not None:
        for step in steps:
            if not step.changes:
                continue  # a verify step belongs to the update it guards; flag the change once
            record = marker.objects.get(object_key(step.kind, step.name))
            have = live.resources.get((step.kind, step.name))
            if (
                record is not None
                and record.fields_hash  # empty: recorded by an interrupted apply, fields unknown
                and have is not None
                and record.fields_hash != fields_hash(have.fields)
            ):
                step.drift = True
                step.reason = f"changed outside the tool since the last apply (plan {record.plan_id or 'unknown'})"
    policy.check_duplicates(desired, live, warnings)
    policy.check_caps(steps, desired, live, doomed, warnings)
    managed = len(marker.objects) if marker and marker.objects else len(desired.resources)
    policy.check_change_share(steps, managed, rails)

    deleted = {(r.kind, r.name) for r in doomed}
    server = live.server
    plan = Plan(
        tool_version=__version__,
        environment=environment,
        server=ServerInfo(url=server.url, version=server.version, hostname=server.hostname)
        if server
        else ServerInfo(url=""),
        prune=rails.prune,
        steps=steps,
        unmanaged=[
            ObjectRef(
                kind=r.kind,
                name=r.name,
                active=r.fields.get(ACTIVE_FIELD) if r.kind in ACCOUNT_KINDS else None,
            )
            for r in sorted(unmanaged, key=lambda r: (r.kind.value, r.name))
            if (r.kind, r.name) not in deleted
        ],
        warnings=warnings,
        manifest_digest=desired_digest(desired, fingerprints),
        marker_salt=marker.salt if marker else marker_salt,
        basis=live_basis(live),
    )
    plan.plan_id = compute_plan_id(plan)
    return plan


def compute_plan_id(plan: Plan) -> str:
    """A checksum of what the plan does and what it was made from: the id people approve, and the
    way a saved plan file that was edited by hand is recognised."""
    identity = json.dumps(
        [
            plan.environment,
            plan.manifest_digest,
            plan.basis,
            [s.model_dump(mode="json") for s in plan.steps],
        ],
        sort_keys=True,
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:12]
