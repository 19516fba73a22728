"""Saved plans: `plan --out FILE` and `apply --plan FILE`.

The file holds the plan (steps, tool version, environment, server identity), the digest of the desired
state it was made from (manifest + secret fingerprints, no secret values) and a fingerprint of every
live object it read. Applying re-reads the server and refuses (exit 5) if anything moved.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ValidationError

from reconciler import __version__
from reconciler.errors import ReconcilerError, StalePlan
from reconciler.plan.model import Plan

FILE_KIND = "greyhound-reconciler-plan"


class SavedPlan(BaseModel):
    kind: str = FILE_KIND
    env_dir: str  # relative to the working directory of `plan --out` (absolute if outside it)
    env_dir_from_plan: str = ""  # the same folder, relative to the plan file's own folder
    plan: Plan


def portable_path(env_dir: Path) -> str:
    """Relative to the working directory when it lies below it: CI plans in one job and applies in
    another, each in its own checkout, usually at different absolute paths."""
    resolved = env_dir.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(resolved)


def saved_env_dir(doc: SavedPlan, plan_file: Path) -> Path:
    """The environment folder: as seen from the working directory, else from the plan file."""
    candidates = [Path(doc.env_dir)]
    if doc.env_dir_from_plan:
        candidates.append(plan_file.resolve().parent / doc.env_dir_from_plan)
    for candidate in candidates:
        if (candidate / "environment.yaml").is_file():
            return candidate.resolve()
    raise ReconcilerError(
        f"cannot find the environment folder of {plan_file} ({doc.env_dir}): run apply from the "
        "folder the plan was made in (the repository root), or keep the plan file where it was saved"
    )


def write_plan_file(path: Path, plan: Plan, env_dir: Path) -> None:
    from_plan = os.path.relpath(env_dir.resolve(), path.resolve().parent)
    doc = SavedPlan(env_dir=portable_path(env_dir), env_dir_from_plan=from_plan, plan=plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(doc.model_dump_json(indent=1))
    os.replace(tmp, path)


def read_plan_file(path: Path) -> SavedPlan:
    try:
        doc = SavedPlan.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReconcilerError(f"plan file {path} not found") from None
    except (ValidationError, ValueError, UnicodeDecodeError):
        raise ReconcilerError(
            f"{path} is not a plan file written by `reconciler plan --out`"
        ) from None
    if doc.kind != FILE_KIND:
        raise ReconcilerError(f"{path} is not a plan file written by `reconciler plan --out`")
    from reconciler.plan.build import compute_plan_id

    if compute_plan_id(doc.plan) != doc.plan.plan_id:
        raise StalePlan(
            f"{path} was changed after `plan --out` wrote it (its content no longer matches plan "
            f"{doc.plan.plan_id}): plan again instead of editing a plan file"
        )
    if doc.plan.tool_version != __version__:
        raise StalePlan(
            f"{path} was made by reconciler {doc.plan.tool_version}, this is {__version__}: plan again"
        )
    return doc


def check_fresh(saved: Plan, current: Plan) -> None:
    """Refuse when the server or the inputs moved since the plan was made."""
    if saved.environment != current.environment:
        raise StalePlan(
            f"this plan was made for environment {saved.environment!r}, not {current.environment!r}"
        )
    problems = []
    if (
        saved.server.hostname != current.server.hostname
        or saved.server.version != current.server.version
    ):
        problems.append(
            f"server identity changed ({saved.server.hostname} {saved.server.version} -> "
            f"{current.server.hostname} {current.server.version})"
        )
    if saved.manifest_digest != current.manifest_digest:
        problems.append("the manifest or a secret changed since the plan was made")
    moved = sorted(
        key
        for key in saved.basis.keys() | current.basis.keys()
        if saved.basis.get(key) != current.basis.get(key)
    )
    if moved:
        shown = ", ".join(moved[:10]) + (f" and {len(moved) - 10} more" if len(moved) > 10 else "")
        problems.append(f"live objects changed since the plan was made: {shown}")
    if problems:
        raise StalePlan("refusing to apply a stale plan: " + "; ".join(problems) + ". Plan again.")


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=1)
