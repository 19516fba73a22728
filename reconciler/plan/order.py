"""Changes -> ordered steps (phases and waves). Pure functions, no I/O.

Order (DESIGN.md §5): deactivate -> delete -> create inactive -> companions -> update -> verify ->
activate -> blacklist. Deletes run before creates, so the 10-account cap holds after every step
whenever it holds at the start and at the end. Inside a phase, a step's wave is one more than the
waves of the steps it needs (a signature needs its group, "Geprüft" needs "Spamverdacht").
"""

from __future__ import annotations

from reconciler.expand import rule_name
from reconciler.model.state import ACCOUNT_KINDS, ACTIVE_FIELD, Kind, Resource, State
from reconciler.ops.oauthlinks import is_oauth2, needs_linking
from reconciler.plan.diff import Change
from reconciler.plan.model import Action, FieldChange, Phase, Step

# a new mailbox: GREYHOUND's list of already fetched mails no longer fits
REFETCH_RISK = "refetches all mail"
DELETES_ON_SERVER_RISK = "deletes mail on the POP3 server"
SENDER_RISK = "may block sender"
# changing any of these on a live account is checked with CheckConnection before it is written
CONNECTION_FIELDS = {"host", "port", "security", "auth", "username", "password"}
BLOCK_RISK = "may stop mail for this account"
DESTRUCTIVE = "destructive"


def step_id(action: Action, kind: Kind, name: str) -> str:
    return f"{action.value}:{kind.value}:{name}"


def _password_change(resource: Resource) -> list[FieldChange]:
    if resource.secret is None:
        return []
    return [
        FieldChange(field="password", before=None, after=f"(set from {resource.secret.describe()})")
    ]


def _account_risks(kind: Kind, changes: list[FieldChange]) -> list[str]:
    touched = {c.field: c for c in changes}
    risks = []
    if kind is Kind.POP3 and touched.keys() & {"host", "username"}:
        risks.append(REFETCH_RISK)
    if (
        kind is Kind.POP3
        and "delete_policy" in touched
        and touched["delete_policy"].after != "never"
    ):
        risks.append(DELETES_ON_SERVER_RISK)
    if touched.keys() & CONNECTION_FIELDS:
        risks.append(BLOCK_RISK)
    senders = touched.get("senders")
    if senders is not None and set(senders.before or []) - set(senders.after or []):
        risks.append(SENDER_RISK)
    return risks


def _deps(kind: Kind, fields: dict, created: set[tuple[Kind, str]]) -> list[str]:
    """Ids of create steps (in this plan) that a companion needs first."""
    needs: list[tuple[Kind, str]] = []
    if kind is Kind.SIGNATURE and fields.get("group"):
        needs.append((Kind.GROUP, fields["group"]))
    if kind is Kind.FILTER:
        if fields.get("group"):
            needs.append((Kind.GROUP, fields["group"]))
        if fields.get("parent"):
            needs.append((Kind.FILTER, fields["parent"]))
    return [step_id(Action.CREATE, k, n) for k, n in needs if (k, n) in created]


def order_changes(changes: list[Change], deletions: list[Resource], desired: State) -> list[Step]:
    steps: list[Step] = []
    created = {(c.kind, c.name) for c in changes if c.action == "create"}

    for live in deletions:
        if live.fields.get(ACTIVE_FIELD):
            steps.append(
                Step(
                    id=step_id(Action.DEACTIVATE, live.kind, live.name),
                    phase=Phase.DEACTIVATE,
                    action=Action.DEACTIVATE,
                    kind=live.kind,
                    name=live.name,
                    changes=[FieldChange(field="active", before=True, after=False)],
                    reason="deactivate before delete",
                    risks=["stops mail for this account"],
                )
            )
        steps.append(
            Step(
                id=step_id(Action.DELETE, live.kind, live.name),
                phase=Phase.DELETE,
                action=Action.DELETE,
                kind=live.kind,
                name=live.name,
                reason="not in the manifest and prune is on",
                risks=[DESTRUCTIVE],
                after=[step_id(Action.DEACTIVATE, live.kind, live.name)]
                if live.fields.get(ACTIVE_FIELD)
                else [],
            )
        )

    for change in changes:
        want = change.desired
        assert want is not None
        if change.action == "create" and change.kind in ACCOUNT_KINDS:
            fields = dict(want.fields, active=False)
            create = Step(
                id=step_id(Action.CREATE, change.kind, change.name),
                phase=Phase.CREATE,
                action=Action.CREATE,
                kind=change.kind,
                name=change.name,
                changes=[FieldChange(field=k, after=v) for k, v in fields.items()]
                + _password_change(want),
                reason="in the manifest, not on the server; created inactive",
            )
            steps.append(create)
            if want.fields.get(ACTIVE_FIELD) and not needs_linking(want, None):
                steps += _verify_and_activate(change.kind, change.name, [create.id], desired)
        elif change.action == "create":
            steps.append(
                Step(
                    id=step_id(Action.CREATE, change.kind, change.name),
                    phase=Phase.BLACKLIST if change.kind is Kind.BLACKLIST else Phase.COMPANIONS,
                    action=Action.CREATE,
                    kind=change.kind,
                    name=change.name,
                    changes=[FieldChange(field=k, after=v) for k, v in want.fields.items()],
                    reason="created with its POP3 account"
                    if want.origin == "companion"
                    else "in the manifest",
                    after=_deps(change.kind, want.fields, created),
                )
            )
        else:
            steps += _update_steps(change, desired)

    _assign_waves(steps)
    return steps


def _verify_and_activate(kind: Kind, name: str, after: list[str], desired: State) -> list[Step]:
    want = desired.get(kind, name)
    if want is not None and is_oauth2(want):
        # CheckConnection cannot log in with OAuth2; the link itself was the check (oauth link)
        return [
            _activate(kind, name, after, desired, "linked with `reconciler oauth link`; activate")
        ]
    verify = Step(
        id=step_id(Action.VERIFY, kind, name),
        phase=Phase.VERIFY,
        action=Action.VERIFY,
        kind=kind,
        name=name,
        reason="CheckConnection before the account goes live",
        after=after,
    )
    return [verify, _activate(kind, name, [verify.id], desired, "verified; activate")]


def _activate(kind: Kind, name: str, after: list[str], desired: State, reason: str) -> Step:
    needs = list(after)
    if kind is Kind.POP3:
        # routing before activation: the incoming rule and the group must exist first
        for dep_kind, dep_name in ((Kind.RULE, rule_name(name)), (Kind.GROUP, name)):
            if desired.get(dep_kind, dep_name) is not None:
                needs.append(step_id(Action.CREATE, dep_kind, dep_name))
    return Step(
        id=step_id(Action.ACTIVATE, kind, name),
        phase=Phase.ACTIVATE,
        action=Action.ACTIVATE,
        kind=kind,
        name=name,
        changes=[FieldChange(field="active", before=False, after=True)],
        reason=reason,
        after=needs,
    )


def _update_steps(change: Change, desired: State) -> list[Step]:
    steps: list[Step] = []
    field_changes = [
        c for c in change.changes if c.field != ACTIVE_FIELD or change.kind not in ACCOUNT_KINDS
    ]
    active_change = next(
        (c for c in change.changes if c.field == ACTIVE_FIELD and change.kind in ACCOUNT_KINDS),
        None,
    )
    if active_change is not None and active_change.after is False:
        steps.append(
            Step(
                id=step_id(Action.DEACTIVATE, change.kind, change.name),
                phase=Phase.DEACTIVATE,
                action=Action.DEACTIVATE,
                kind=change.kind,
                name=change.name,
                changes=[active_change],
                reason="active: false in the manifest",
                risks=["stops mail for this account"],
            )
        )
    pre_verify: list[str] = []
    stays_active = (
        change.kind in ACCOUNT_KINDS
        and active_change is None
        and change.live is not None
        and change.live.fields.get(ACTIVE_FIELD)
    )
    checkable = change.desired is None or not is_oauth2(change.desired)
    if stays_active and checkable and {c.field for c in field_changes} & CONNECTION_FIELDS:
        # a live account keeps its working settings unless the new ones pass CheckConnection
        verify = Step(
            id=step_id(Action.VERIFY, change.kind, change.name),
            phase=Phase.UPDATE,
            action=Action.VERIFY,
            kind=change.kind,
            name=change.name,
            reason="CheckConnection with the new settings before they are written",
        )
        steps.append(verify)
        pre_verify = [verify.id]
    if field_changes:
        phase = Phase.BLACKLIST if change.kind is Kind.BLACKLIST else Phase.UPDATE
        risks = _account_risks(change.kind, field_changes) if change.kind in ACCOUNT_KINDS else []
        if change.kind is Kind.BLACKLIST:
            before = set(field_changes[0].before or [])
            after = set(field_changes[0].after or [])
            field_changes = [
                FieldChange(
                    field="entries", before=sorted(before - after), after=sorted(after - before)
                )
            ]
            if after - before:
                risks = ["changes mail assignment"]
        steps.append(
            Step(
                id=step_id(Action.UPDATE, change.kind, change.name),
                phase=phase,
                action=Action.UPDATE,
                kind=change.kind,
                name=change.name,
                changes=field_changes,
                reason=_update_reason(field_changes),
                risks=risks,
                after=pre_verify,
            )
        )
    linked = change.desired is None or not needs_linking(change.desired, change.live)
    if active_change is not None and active_change.after is True and linked:
        after = [step_id(Action.UPDATE, change.kind, change.name)] if field_changes else []
        steps += _verify_and_activate(change.kind, change.name, after, desired)
    return steps


def _update_reason(changes: list[FieldChange]) -> str:
    if [c.field for c in changes] == ["password"]:
        return "the password secret changed since the last apply"
    return "differs from the manifest"


def _assign_waves(steps: list[Step]) -> None:
    by_id = {s.id: s for s in steps}

    def wave(step: Step, seen: frozenset[str] = frozenset()) -> int:
        same_phase = [by_id[d] for d in step.after if d in by_id and by_id[d].phase == step.phase]
        if step.id in seen or not same_phase:
            return 0
        return 1 + max(wave(d, seen | {step.id}) for d in same_phase)

    for step in steps:
        step.wave = wave(step)
    # drop dependencies on steps that are not in this plan (already satisfied on the server)
    for step in steps:
        step.after = [d for d in step.after if d in by_id]
    steps.sort(key=lambda s: (list(type(s.phase)).index(s.phase), s.wave, s.kind.value, s.name))
