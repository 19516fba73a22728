"""The plan as typed data: every output format and the executor read this, nothing else."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from reconciler.model.state import Kind

FORMAT_VERSION = 1


class Phase(StrEnum):
    """Apply order (DESIGN.md §5); each phase finishes before the next starts."""

    DEACTIVATE = "deactivate"
    DELETE = "delete"
    CREATE = "create"
    COMPANIONS = "companions"
    UPDATE = "update"
    VERIFY = "verify"
    ACTIVATE = "activate"
    BLACKLIST = "blacklist"


PHASES = list(Phase)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    ACTIVATE = "activate"
    DELETE = "delete"
    VERIFY = "verify"


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None
    secret: bool = False  # before/after are descriptions ("(changed)"), never values


class Step(BaseModel):
    id: str
    phase: Phase
    action: Action
    kind: Kind
    name: str
    changes: list[FieldChange] = Field(default_factory=list)
    reason: str = ""
    risks: list[str] = Field(default_factory=list)
    after: list[str] = Field(
        default_factory=list, description="ids of steps that must succeed first"
    )
    wave: int = 0  # order inside a phase: steps of one wave are independent of each other
    drift: bool = False  # the live object changed outside this tool since its last apply


class ObjectRef(BaseModel):
    kind: Kind
    name: str
    active: bool | None = None


class ServerInfo(BaseModel):
    url: str
    version: str = ""
    hostname: str = ""


class Plan(BaseModel):
    format_version: int = FORMAT_VERSION
    plan_id: str = ""
    tool_version: str
    environment: str
    server: ServerInfo
    prune: bool = False
    steps: list[Step] = Field(default_factory=list)
    unmanaged: list[ObjectRef] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # what a saved plan is checked against before it is applied
    manifest_digest: str = ""
    marker_salt: str = ""
    basis: dict[str, str] = Field(
        default_factory=dict,
        description="kind/name -> fingerprint of every live object the plan read",
    )

    @property
    def has_changes(self) -> bool:
        return bool(self.steps)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for step in self.steps:
            out[step.action.value] += 1
        return out

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)
