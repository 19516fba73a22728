"""The two workflows, plan and apply, wiring load -> expand -> fetch -> diff -> order -> execute."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.apply import Executor, StepResult
from reconciler.errors import ExitCode
from reconciler.expand import expand
from reconciler.greyhound.errors import GreyhoundError
from reconciler.greyhound.live import fetch_state
from reconciler.manifest.environment import Environment
from reconciler.manifest.secrets import SecretResolver
from reconciler.model.state import State
from reconciler.plan.build import build_plan
from reconciler.plan.model import Plan
from reconciler.target import connect, secrets_for


@dataclass
class PlanResult:
    plan: Plan
    desired: State
    live: State


def _check_secrets(desired: State, secrets: SecretResolver) -> None:
    """Fail before any write when a secret the accounts need cannot be found (name only, no value)."""
    for resource in desired.resources.values():
        if resource.secret is not None:
            secrets.resolve(resource.secret, f"{resource.kind.value} account {resource.name!r}")


async def _plan_with(target, env: Environment, secrets: SecretResolver, force: bool) -> PlanResult:
    desired = expand(env.manifest)
    _check_secrets(desired, secrets)
    live = await fetch_state(target.client, target.label)
    plan = build_plan(env.name, desired, live, prune=env.manifest.prune, force=force)
    return PlanResult(plan, desired, live)


async def _logout(client) -> None:
    with contextlib.suppress(GreyhoundError):
        await client.call("RpcUsers.Logout")


async def make_plan(
    env: Environment, *, force: bool = False, allow_http: bool = False
) -> PlanResult:
    secrets = secrets_for(env)
    async with connect(env, secrets, allow_http) as target:
        try:
            return await _plan_with(target, env, secrets, force)
        finally:
            await _logout(target.client)


def format_result(result: StepResult, index: int, total: int) -> str:
    step = result.step
    width = len(str(total))
    text = f"[{index:>{width}}/{total}] {step.action.value} {step.kind.value} {step.name!r}: {result.status}"
    if result.status != "skipped":
        text += f" ({result.seconds:.2f}s)"
    if result.detail:
        text += f": {result.detail}"
    return text


async def run_apply(
    env: Environment,
    confirm: Callable[[Plan], bool],
    report: Callable[[str], None],
    *,
    force: bool = False,
    allow_http: bool = False,
    parallelism: int = 8,
) -> int:
    secrets = secrets_for(env)
    async with connect(env, secrets, allow_http) as target:
        try:
            result = await _plan_with(target, env, secrets, force)
            if not confirm(result.plan):
                return ExitCode.OK
            executor = Executor(
                target.client,
                result.desired,
                result.live,
                secrets,
                lambda r, i, n: report(format_result(r, i, n)),
                parallelism=parallelism,
            )
            outcome = await executor.run(result.plan)
        finally:
            await _logout(target.client)
    done, failed, skipped = (len(outcome.by_status(s)) for s in ("done", "failed", "skipped"))
    report(f"Apply finished: {done} done, {failed} failed, {skipped} skipped.")
    return ExitCode.OK if outcome.ok else ExitCode.PARTIAL
