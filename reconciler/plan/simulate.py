"""Play a plan's steps over a state without a server: which accounts exist after each step.

Used to prove the 10-account cap holds after every step (plan time) and by the property tests.
Steps of one wave may run in any order, so a wave is counted with its creates first (worst case).
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.model.state import ACCOUNT_KINDS, Kind, State
from reconciler.plan.model import PHASES, Action, Step


def account_counts(steps: list[Step], live: State) -> Iterator[tuple[Step, dict[Kind, int]]]:
    names = {kind: {r.name for r in live.of(kind)} for kind in ACCOUNT_KINDS}
    order = sorted(
        steps, key=lambda s: (PHASES.index(s.phase), s.wave, s.action is not Action.CREATE)
    )
    for step in order:
        if step.kind in ACCOUNT_KINDS:
            if step.action is Action.CREATE:
                names[step.kind].add(step.name)
            elif step.action is Action.DELETE:
                names[step.kind].discard(step.name)
        yield step, {kind: len(n) for kind, n in names.items()}


def peak_accounts(steps: list[Step], live: State) -> dict[Kind, int]:
    peak = {kind: len(live.of(kind)) for kind in ACCOUNT_KINDS}
    for _, counts in account_counts(steps, live):
        for kind, count in counts.items():
            peak[kind] = max(peak[kind], count)
    return peak


def apply_steps(steps: list[Step], live: State, desired: State) -> State:
    """The state a successful apply of `steps` leaves behind (verifications assumed to pass)."""
    from reconciler.model.state import Resource

    out = State(resources=dict(live.resources), server=live.server)
    order = sorted(steps, key=lambda s: (PHASES.index(s.phase), s.wave))
    for step in order:
        key = (step.kind, step.name)
        want = desired.resources.get(key)
        have = out.resources.get(key)
        if step.action is Action.DELETE:
            out.resources.pop(key, None)
        elif step.action is Action.CREATE:
            assert want is not None
            fields = dict(want.fields)
            if step.kind in ACCOUNT_KINDS:
                fields["active"] = False  # created inactive; activation is its own step
            out.resources[key] = Resource(step.kind, step.name, fields, origin="live")
        elif step.action in (Action.ACTIVATE, Action.DEACTIVATE):
            assert have is not None
            fields = dict(have.fields, active=step.action is Action.ACTIVATE)
            out.resources[key] = Resource(step.kind, step.name, fields, id=have.id, origin="live")
        elif step.action is Action.UPDATE:
            assert have is not None and want is not None
            fields = dict(have.fields)
            for change in step.changes:
                if change.field in want.fields:
                    fields[change.field] = want.fields[change.field]
            out.resources[key] = Resource(step.kind, step.name, fields, id=have.id, origin="live")
    return out
