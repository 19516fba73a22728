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
    order = sorted(steps, key=lambda s: (PHASES.index(s.phase), s.wave, s.action is not Action.CREATE))
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
