"""The two workflows, plan and apply: load -> expand -> fetch -> diff -> order -> execute -> mark."""

from __future__ import annotations

import logging
import os
import secrets as pysecrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reconciler import __version__
from reconciler.apply import ApplyResult, Executor, StepResult
from reconciler.errors import ExitCode
from reconciler.expand import expand
from reconciler.greyhound import protocol as P
from reconciler.greyhound.live import fetch_state, gather_all, put_global
from reconciler.journal import Journal
from reconciler.manifest.environment import Environment
from reconciler.manifest.secrets import SecretResolver
from reconciler.model.state import ACCOUNT_KINDS, Kind, State
from reconciler.ops.oauthlinks import annotate_text
from reconciler.plan.build import Fingerprints, build_plan
from reconciler.plan.marker import (
    AppliedBy,
    ManagedObject,
    Marker,
    fields_hash,
    object_key,
    parse_marker,
)
from reconciler.plan.marker import password_fingerprint as _fingerprint
from reconciler.plan.model import Action, Plan
from reconciler.plan.policy import Rails
from reconciler.plan.savedplan import check_fresh
from reconciler.plan.simulate import apply_steps
from reconciler.runlock import local_lock, server_lock
from reconciler.target import connect, secrets_for

log = logging.getLogger("reconciler.engine")

# testing aid for the crash tests: SIGKILL this process right after step N has finished
CRASH_AFTER_ENV = "RECONCILER_TEST_CRASH_AFTER_STEP"


@dataclass
class Options:
    force: bool = False
    allow_http: bool = False
    allow_delete_all: bool = False
    sync_passwords: bool = False
    max_change_share: float = 0.5
    parallelism: int = 8

    def rails(self, prune: bool) -> Rails:
        return Rails(
            prune=prune,
            force=self.force,
            allow_delete_all=self.allow_delete_all,
            max_change_share=self.max_change_share,
            sync_passwords=self.sync_passwords,
        )


@dataclass
class PlanResult:
    plan: Plan
    desired: State
    live: State
    marker: Marker | None
    fingerprints: Fingerprints = field(default_factory=dict)


def require_secrets(env: Environment, desired: State, secrets: SecretResolver) -> None:
    """Before any network call: every missing secret, in one error, by reference name only."""
    needs = []
    if env.manifest.greyhound.password is not None:
        needs.append((env.manifest.greyhound.password, "the GREYHOUND API user"))
    needs += [
        (r.secret, f"{r.kind.value} account {r.name!r}")
        for r in desired.resources.values()
        if r.kind in ACCOUNT_KINDS and r.secret is not None
    ]
    secrets.require_all(needs)


def resolve_passwords(desired: State, secrets: SecretResolver) -> dict:
    """Every account secret, resolved before any network call: a missing one fails here, by name."""
    return {
        r.key: secrets.resolve(r.secret, f"{r.kind.value} account {r.name!r}")
        for r in desired.resources.values()
        if r.kind in ACCOUNT_KINDS and r.secret is not None
    }


def password_fingerprints(passwords: dict, salt: str) -> Fingerprints:
    return {key: _fingerprint(salt, object_key(*key), value) for key, value in passwords.items()}


async def read_server(client, label: str, info: dict | None = None) -> tuple[State, Marker | None]:
    """The live state and the marker, in the same round of concurrent calls."""
    live, marker_text, links_text = await gather_all(
        fetch_state(client, label, info),
        client.call("RpcRules.GetGlobal", P.MARKER_GLOBAL),
        client.call("RpcRules.GetGlobal", P.OAUTH2_LINKS_GLOBAL),
    )
    annotate_text(live, links_text)  # OAuth2 accounts: linked or not (ops/oauthlinks.py)
    live.resources.pop((Kind.RULE, P.APPLY_LOCK_RULE), None)  # the apply mutex (runlock.py)
    return live, parse_marker(marker_text)


async def _plan_with(
    target,
    env: Environment,
    secrets: SecretResolver,
    options: Options,
    salt: str | None = None,
    info: dict | None = None,  # RpcServerInfo of a preflight already run (the apply lock's)
) -> PlanResult:
    desired = expand(env.manifest)
    passwords = resolve_passwords(desired, secrets)
    started = time.monotonic()
    live, marker = await read_server(target.client, target.label, info)
    log.info(
        "read %d live objects from %s in %.0f ms (%d requests so far)",
        len(live.resources),
        target.label,
        (time.monotonic() - started) * 1000,
        target.client.requests,
    )
    pending = Journal(env.directory).interrupted()
    # a server without a marker gets a new salt; a saved plan brings the salt it was made with, and
    # an interrupted apply the one its journal recorded
    if marker is None:
        salt = (
            salt or (pending.salt if pending and pending.salt else None) or pysecrets.token_hex(16)
        )
    else:
        salt = marker.salt
    marker = _with_journal_passwords(marker, pending, salt)
    fingerprints = password_fingerprints(passwords, salt)
    plan = build_plan(
        env.name,
        desired,
        live,
        rails=options.rails(env.manifest.prune),
        marker=marker,
        fingerprints=fingerprints,
        marker_salt=salt,
    )
    from reconciler.assign.whatif import blacklist_plan_note

    note = blacklist_plan_note(env, desired, live)  # sample mails assigned differently (assign.md)
    if note:
        plan.warnings.append(note)
    return PlanResult(plan, desired, live, marker, fingerprints)


def _with_journal_passwords(marker: Marker | None, pending, salt: str) -> Marker | None:
    """Passwords written by an apply that died before it could record the marker."""
    if pending is None or pending.salt != salt or not pending.passwords:
        return marker
    merged = marker.model_copy(deep=True) if marker else Marker(salt=salt)
    for key, fingerprint in pending.passwords.items():
        record = merged.objects.get(key)
        if record is None:
            merged.objects[key] = ManagedObject(
                fields_hash="", password=fingerprint, plan_id=pending.plan_id
            )
        elif record.password is None or record.password != fingerprint:
            record.password = fingerprint
    return merged


async def make_plan(env: Environment, options: Options | None = None) -> PlanResult:
    options = options or Options()
    secrets = secrets_for(env)
    require_secrets(env, expand(env.manifest), secrets)
    async with connect(env, secrets, options.allow_http) as target:  # logs out when done
        return await _plan_with(target, env, secrets, options)


def format_result(result: StepResult, index: int, total: int) -> str:
    step = result.step
    width = len(str(total))
    text = f"[{index:>{width}}/{total}] {step.action.value} {step.kind.value} {step.name!r}: {result.status}"
    if result.status != "skipped":
        text += f" ({result.seconds:.2f}s)"
    if result.detail:
        text += f": {result.detail}"
    return text


def _commit_of(env: Environment) -> str:
    """The git commit the manifests came from (CI sets GIT_COMMIT / GITHUB_SHA / CI_COMMIT_SHA)."""
    for name in ("GIT_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        out = subprocess.run(
            ["git", "-C", str(env.directory), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _writes_password(step) -> bool:
    return step.kind in ACCOUNT_KINDS and (
        step.action is Action.CREATE
        or (step.action is Action.UPDATE and any(c.field == "password" for c in step.changes))
    )


async def _record(target, result: PlanResult, outcome: ApplyResult, commit: str) -> Marker:
    """Record what the server holds now: the live state read before, with the steps that succeeded
    played over it (no re-read: a plan right after apply is empty, so desired == live for them)."""
    done = [r.step for r in outcome.results if r.status == "done"]
    live_after = apply_steps(done, result.live, result.desired)
    marker = next_marker(result, outcome, live_after, commit)
    await put_global(target.client, P.MARKER_GLOBAL, marker.to_text())  # re-read if answer lost
    return marker


def next_marker(result: PlanResult, outcome: ApplyResult, live_after: State, commit: str) -> Marker:
    """What the server looks like now, recorded: field hashes of the live objects after apply."""
    plan, old = result.plan, result.marker
    done = {(r.step.kind, r.step.name) for r in outcome.results if r.status == "done"}
    password_written = {
        (r.step.kind, r.step.name)
        for r in outcome.results
        if r.status == "done" and _writes_password(r.step)
    }
    marker = Marker(
        salt=plan.marker_salt,
        applied=AppliedBy(
            plan_id=plan.plan_id,
            commit=commit,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            tool_version=__version__,
        ),
    )
    for key, want in result.desired.resources.items():
        have = live_after.resources.get(key)
        if have is None:
            continue
        name = object_key(*key)
        before = old.objects.get(name) if old else None
        password = before.password if before else None
        fingerprint = result.fingerprints.get(key)
        if fingerprint is not None and (key in password_written or password == fingerprint):
            password = fingerprint
        marker.objects[name] = ManagedObject(
            fields_hash=fields_hash(have.fields),
            password=password,
            protected=want.protected,
            plan_id=plan.plan_id if key in done or before is None else before.plan_id,
        )
    return marker


async def run_apply(
    env: Environment,
    confirm: Callable[[Plan], bool],
    report: Callable[[str], None],
    options: Options | None = None,
    saved: Plan | None = None,
) -> int:
    """Plan (or check a saved plan), confirm, execute, record the marker. Returns the exit code."""
    with local_lock(env.directory):  # one apply at a time from this folder (and embedded state)
        options = options or Options()
        secrets = secrets_for(env)
        require_secrets(env, expand(env.manifest), secrets)
        journal = Journal(env.directory)
        crash_after = int(os.environ.get(CRASH_AFTER_ENV, "0") or 0)
        interrupted = journal.interrupted()
        # GREYHOUND keeps locks per Client-ID: resuming with the interrupted run's id makes the locks it
        # left behind ours again, so its half-done updates can be finished and unlocked
        client_id = interrupted.client_id if interrupted and interrupted.client_id else None
        # one connection per concurrent step, so a wave is one round trip, not several
        connections = max(16, options.parallelism)
        async with (
            connect(env, secrets, options.allow_http, client_id, connections) as target,
            server_lock(target.client, target.label) as info,  # one apply at a time, from anywhere
        ):
            salt = saved.marker_salt if saved is not None else None
            result = await _plan_with(target, env, secrets, options, salt, info)
            if saved is not None:
                check_fresh(saved, result.plan)
                result.plan = saved  # execute exactly what was reviewed
            plan = result.plan
            if interrupted is not None:
                report(
                    f"note: the previous apply (plan {interrupted.plan_id}) stopped after "
                    f"{interrupted.finished} of {interrupted.total} steps; this plan was made from the "
                    "server as it is now and completes it"
                )
            if not confirm(plan):
                if interrupted is not None and not plan.has_changes:
                    await _record(target, result, ApplyResult(), _commit_of(env))
                    journal.end(interrupted.plan_id, interrupted.finished, 0, 0)
                return ExitCode.OK
            journal.begin(plan.plan_id, len(plan.steps), plan.marker_salt, target.client.client_id)

            def on_step(r: StepResult, index: int, total: int) -> None:
                wrote = r.status == "done" and _writes_password(r.step)
                fingerprint = result.fingerprints.get((r.step.kind, r.step.name)) if wrote else None
                journal.step(plan.plan_id, r.step.id, r.status, fingerprint)
                report(format_result(r, index, total))
                if crash_after and index == crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)

            def on_start(step) -> None:
                if step.action is Action.CREATE and _writes_password(step):
                    fingerprint = result.fingerprints.get((step.kind, step.name))
                    journal.step(plan.plan_id, step.id, "started", fingerprint)

            executor = Executor(
                target.client,
                result.desired,
                result.live,
                secrets,
                on_step,
                parallelism=options.parallelism,
                on_start=on_start,
            )
            outcome = await executor.run(plan)
            marker = await _record(target, result, outcome, _commit_of(env))
            report(f"marker: recorded {len(marker.objects)} managed objects (plan {plan.plan_id})")
        done, failed, skipped = (len(outcome.by_status(s)) for s in ("done", "failed", "skipped"))
        journal.end(plan.plan_id, done, failed, skipped)
        report(f"Apply finished: {done} done, {failed} failed, {skipped} skipped.")
        return ExitCode.OK if outcome.ok else ExitCode.PARTIAL
