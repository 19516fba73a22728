"""Carry a plan out against GREYHOUND: phase by phase, wave by wave, independent steps concurrently.

A failed step never stops independent work: only the steps that need it are skipped. Every step is
reported as it finishes; the result says which were done, failed or skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.errors import ReconcilerError
from reconciler.greyhound import mapping
from reconciler.greyhound import protocol as P
from reconciler.greyhound.live import (
    create_object,
    delete_object,
    locked_update,
    put_global,
    set_parent,
)
from reconciler.greyhound.rpc import RpcClient
from reconciler.manifest.secrets import SecretResolver
from reconciler.model.state import Kind, State
from reconciler.plan.model import PHASES, Action, Plan, Step

log = logging.getLogger("reconciler.apply")


@dataclass
class StepResult:
    step: Step
    status: str  # done | failed | skipped
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ApplyResult:
    results: list[StepResult] = field(default_factory=list)

    def by_status(self, status: str) -> list[StepResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return not self.by_status("failed") and not self.by_status("skipped")


class Executor:
    def __init__(
        self,
        client: RpcClient,
        desired: State,
        live: State,
        secrets: SecretResolver,
        report: Callable[[StepResult, int, int], None],
        parallelism: int = 8,
        on_start: Callable[[Step], None] | None = None,
    ):
        self.client = client
        self.desired = desired
        self.secrets = secrets
        self.report = report
        self.on_start = on_start or (lambda step: None)
        self.ids: dict[tuple[Kind, str], int] = {
            key: r.id for key, r in live.resources.items() if r.id is not None
        }
        self.semaphore = asyncio.Semaphore(parallelism)
        self.status: dict[str, str] = {}
        self.done_count = 0

    async def run(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        total = len(plan.steps)

        async def step_and_report(step: Step) -> None:
            outcome = await self._guarded(step)
            self.done_count += 1  # reported as each step finishes, not when its wave does
            result.results.append(outcome)
            self.report(outcome, self.done_count, total)

        for phase in PHASES:
            phase_steps = [s for s in plan.steps if s.phase == phase]
            for wave in sorted({s.wave for s in phase_steps}):
                batch = [s for s in phase_steps if s.wave == wave]
                started = time.monotonic()
                await asyncio.gather(*(step_and_report(s) for s in batch))
                log.debug(
                    "%s wave %d: %d steps in %.0f ms",
                    phase.value,
                    wave,
                    len(batch),
                    (time.monotonic() - started) * 1000,
                )
        return result

    async def _guarded(self, step: Step) -> StepResult:
        blocked = [d for d in step.after if self.status.get(d) != "done"]
        if blocked:
            self.status[step.id] = "skipped"
            return StepResult(step, "skipped", f"needs {', '.join(blocked)}")
        async with self.semaphore:
            self.on_start(step)  # journalled before the first byte goes out
            log.info("start %s %s %r", step.action.value, step.kind.value, step.name)
            start = time.monotonic()
            try:
                detail = await self._execute(step) or ""
            except ReconcilerError as exc:
                self.status[step.id] = "failed"
                return StepResult(step, "failed", str(exc), time.monotonic() - start)
            self.status[step.id] = "done"
            return StepResult(step, "done", detail, time.monotonic() - start)

    def _password(self, kind: Kind, name: str) -> str:
        resource = self.desired.get(kind, name)
        if resource is None or resource.secret is None:
            return ""
        return self.secrets.resolve(resource.secret, f"{kind.value} account {name!r}")

    async def _execute(self, step: Step) -> str | None:
        kind, name, call = step.kind, step.name, self.client.call
        cls = mapping.RPC_CLASS.get(kind)
        if step.action is Action.DELETE:
            await delete_object(self.client, kind, self.ids[(kind, name)])
            return None
        if step.action in (Action.ACTIVATE, Action.DEACTIVATE):
            state = 1 if step.action is Action.ACTIVATE else 0
            await locked_update(self.client, kind, self.ids[(kind, name)], {"State": state})
            return None
        if step.action is Action.VERIFY:
            want = self.desired.get(kind, name)
            assert want is not None
            if want.fields.get("auth") == "oauth2":
                raise ReconcilerError("an OAuth2 account cannot be checked before it is linked")
            item = mapping.check_item(kind, want.fields, self._password(kind, name))
            result = await call(f"{cls}.CheckConnection", item)
            return (
                f"{result} message(s) waiting"
                if kind is Kind.POP3 and isinstance(result, int)
                else None
            )
        if kind is Kind.BLACKLIST:
            want = self.desired.get(kind, name)
            assert want is not None
            await put_global(
                self.client,
                P.BLACKLIST_GLOBAL,
                mapping.blacklist_to_global(want.fields["entries"]),
            )
            return None
        if step.action is Action.CREATE:
            new_id = await self._create(step)
            self.ids[(kind, name)] = new_id
            return f"id {new_id}"
        if step.action is Action.UPDATE:
            await self._update(step)
            return None
        raise AssertionError(f"unhandled step {step.id}")

    async def _create(self, step: Step) -> int:
        kind, name = step.kind, step.name
        want = self.desired.get(kind, name)
        assert want is not None
        fields = want.fields
        client = self.client
        if kind in (Kind.POP3, Kind.SMTP):
            to_rpc = mapping.pop3_to_rpc if kind is Kind.POP3 else mapping.smtp_to_rpc
            obj = {"ID": 0, "Name": name, **to_rpc(dict(fields, active=False))}
            password = self._password(kind, name)
            if password:
                obj["Password"] = password
            return await create_object(client, kind, obj)
        if kind is Kind.GROUP:
            return await create_object(
                client, kind, {"ID": 0, "Name": name, "Email": fields["email"]}
            )
        if kind is Kind.SIGNATURE:
            groups = []
            if fields.get("group"):
                groups = [
                    {
                        "GroupRef": self.ids[(Kind.GROUP, fields["group"])],
                        "DefaultKinds": P.SIGNATURE_KIND_EMAIL,
                    }
                ]
            return await create_object(client, kind, {"ID": 0, "Name": name, "Groups": groups})
        if kind is Kind.FILTER:
            obj = {"ID": 0, "Name": name, "GroupRefs": self._group_refs(fields)}
            new_id = await create_object(client, kind, obj)
            if fields.get("parent"):
                await set_parent(client, kind, new_id, self.ids[(Kind.FILTER, fields["parent"])])
            return new_id
        if kind is Kind.RULE:
            from reconciler.expand import RULE_PREFIX

            group = name.removeprefix(RULE_PREFIX)
            return await create_object(
                client,
                kind,
                {
                    "ID": 0,
                    "Name": name,
                    "Kind": P.RULE_KIND_SCRIPT,
                    "State": 1 if fields.get("active") else 0,
                    "Triggers": P.RULE_TRIGGER_AFTER_INCOMING,
                    "SourceCode": mapping.rule_source(group),
                },
            )
        raise AssertionError(f"cannot create {kind}")

    def _group_refs(self, fields: dict) -> list[int]:
        group = fields.get("group")
        if not group:
            return []
        if (Kind.GROUP, group) not in self.ids:
            raise ReconcilerError(f"group {group!r} does not exist on the server")
        return [self.ids[(Kind.GROUP, group)]]

    async def _update(self, step: Step) -> None:
        kind, name = step.kind, step.name
        object_id = self.ids[(kind, name)]
        want = self.desired.get(kind, name)
        assert want is not None
        changed = {c.field: want.fields.get(c.field) for c in step.changes if c.field != "password"}
        if kind in (Kind.POP3, Kind.SMTP):
            to_rpc = mapping.pop3_to_rpc if kind is Kind.POP3 else mapping.smtp_to_rpc
            rpc = to_rpc(changed)
            if any(c.field == "password" for c in step.changes):
                # rotation: passwords are write-only, never read back
                rpc["Password"] = self._password(kind, name)
            await locked_update(self.client, kind, object_id, rpc)
        elif kind is Kind.GROUP:
            await locked_update(self.client, kind, object_id, {"Email": changed["email"]})
        elif kind is Kind.SIGNATURE:
            group_id = (
                self.ids.get((Kind.GROUP, changed["group"])) if changed.get("group") else None
            )
            links = (
                [{"GroupRef": group_id, "DefaultKinds": P.SIGNATURE_KIND_EMAIL}] if group_id else []
            )
            await locked_update(self.client, kind, object_id, {"Groups": links})
        elif kind is Kind.FILTER:
            if "group" in changed:
                await locked_update(
                    self.client, kind, object_id, {"GroupRefs": self._group_refs(changed)}
                )
            if "parent" in changed:
                parent = changed["parent"]
                parent_id = self.ids[(Kind.FILTER, parent)] if parent else P.NO_PARENT
                await set_parent(self.client, kind, object_id, parent_id)
        elif kind is Kind.RULE:
            await locked_update(
                self.client, kind, object_id, {"State": 1 if changed.get("active") else 0}
            )
        else:
            raise AssertionError(f"cannot update {kind}")
