"""Fleets: plan many environments at once, bounded, with one combined exit code.

`reconciler plan environments/` (or several ENV_DIRs) lands here. A folder is an environment when it
holds `environment.yaml`; a folder of environments is searched one level deep (`environments/base`
has no environment.yaml and is skipped). Each environment is planned in its own worker thread with
its own event loop and connection; whatever it prints is captured (ops/capture.py) and shown as one
block, so the output of two environments never interleaves. Blocks appear in input order, each as
soon as it and all before it are done.

`--shard I/N` keeps the environments whose stable hash (SHA-256 of the folder name) falls in shard I
of N: adding or removing an environment never moves any other one to a different shard, and every
CI runner computes the same split without coordination.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import ExitCode, ManifestError, ReconcilerError
from reconciler.manifest.environment import ENVIRONMENT_FILE, display_path
from reconciler.ops.capture import ThreadOutput

DEFAULT_CONCURRENCY = 16
# Worst first: the combined exit code of a fleet is the first of these that any environment has.
# An environment whose state is unknown (1: unreachable / API error, 3: manifest invalid) outranks
# one that was read and judged unsafe (4), which outranks one that merely has changes (2).
SEVERITY = (ExitCode.ERROR, ExitCode.INVALID, ExitCode.REFUSED, ExitCode.CHANGES, ExitCode.OK)
SEVERITY_TEXT = "1 error > 3 invalid > 4 refused > 2 changes > 0"


class FleetError(ReconcilerError):
    """The fleet itself cannot be planned: no environments found, a bad --shard, a name clash."""


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as CI matrices count (GitLab CI_NODE_INDEX)
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def holds(self, name: str) -> bool:
        return shard_of(name, self.total) == self.index - 1


def parse_shard(text: str) -> Shard:
    index, sep, total = text.partition("/")
    try:
        shard = Shard(int(index), int(total)) if sep else None
    except ValueError:
        shard = None
    if shard is None or not 1 <= shard.index <= shard.total:
        raise FleetError(
            f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. --shard 2/5 "
            "(GitLab: --shard $CI_NODE_INDEX/$CI_NODE_TOTAL)"
        )
    return shard


def shard_of(name: str, total: int) -> int:
    """0-based shard of an environment: stable across runs, machines and Python versions."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total


def is_environment(path: Path) -> bool:
    return (path / ENVIRONMENT_FILE).is_file()


def is_fleet(paths: Iterable[str | Path]) -> bool:
    """More than one path, or one folder that is not itself an environment."""
    paths = [Path(p) for p in paths]
    if len(paths) != 1:
        return True
    only = paths[0]
    return (
        only.is_dir()
        and not is_environment(only)
        and any(is_environment(child) for child in only.iterdir() if child.is_dir())
    )


@dataclass
class Fleet:
    environments: list[Path]
    skipped: list[Path] = field(default_factory=list)  # folders without environment.yaml
    outside_shard: int = 0


def discover(paths: Iterable[str | Path], shard: Shard | None = None) -> Fleet:
    found: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if is_environment(path):
            found.append(path)
        elif path.is_dir():
            children = sorted(
                c for c in path.iterdir() if c.is_dir() and not c.name.startswith(".")
            )
            envs = [c for c in children if is_environment(c)]
            if not envs:
                raise FleetError(
                    f"{display_path(path)} is neither an environment (no {ENVIRONMENT_FILE}) nor a "
                    "folder of environments"
                )
            found += envs
            skipped += [c for c in children if not is_environment(c)]
        else:
            raise FleetError(f"{display_path(path)} is not a folder")
    by_name: dict[str, Path] = {}
    for env in found:
        other = by_name.get(env.resolve().name)
        if other is not None and other.resolve() != env.resolve():
            raise FleetError(
                f"two environments are named {env.resolve().name!r} ({display_path(other)} and "
                f"{display_path(env)}); names identify environments in output, shards and plan files"
            )
        by_name[env.resolve().name] = env
    unique = list({env.resolve(): env for env in found}.values())
    if shard is None:
        return Fleet(unique, skipped)
    kept = [env for env in unique if shard.holds(env.resolve().name)]
    return Fleet(kept, skipped, outside_shard=len(unique) - len(kept))


def combine(codes: Iterable[int]) -> int:
    present = set(codes)
    if present - set(SEVERITY):
        # codes plan never produces (5, 6) still fail the fleet
        present.add(ExitCode.ERROR)
    for code in SEVERITY:
        if code in present:
            return int(code)
    return int(ExitCode.OK)


# --- one environment -----------------------------------------------------------------------------
@dataclass
class EnvResult:
    name: str
    directory: Path
    code: int
    result: str  # one line for the summary
    body: str = ""  # the rendered plan, or the error text
    notes: str = ""  # what the environment printed to stderr (lint warnings, http warnings)
    seconds: float = 0.0
    plan: Any = None  # reconciler.plan.model.Plan when planned


def _short_summary(plan) -> str:
    if not plan.has_changes:
        return "no changes"
    counts = plan.counts()
    return "changes: " + ", ".join(f"{n} to {action}" for action, n in counts.items() if n)


def plan_environment(
    directory: Path,
    options,
    fmt: str,
    detailed_exitcode: bool,
    out_dir: Path | None = None,
    color: bool = False,
) -> EnvResult:
    """Load, plan and render one environment; every failure becomes a result, never an exception."""
    from reconciler.engine import make_plan
    from reconciler.manifest.environment import load_environment
    from reconciler.plan import render
    from reconciler.plan.savedplan import write_plan_file

    name = directory.resolve().name
    started = time.monotonic()
    try:
        env = load_environment(directory)
        notes = "".join(w.format() + "\n" for w in env.warnings)
        planned = asyncio.run(make_plan(env, options)).plan
        if fmt == "json":
            body = render.render_json(planned)
        elif fmt == "markdown":
            body = render.render_markdown(planned)
        else:
            body = render.render_text(planned, color=color) + "\n"
        if out_dir is not None:
            write_plan_file(out_dir / f"{name}.plan.json", planned, directory)
        code = ExitCode.CHANGES if detailed_exitcode and planned.has_changes else ExitCode.OK
        return EnvResult(
            name,
            directory,
            int(code),
            _short_summary(planned),
            body,
            notes,
            time.monotonic() - started,
            planned,
        )
    except ManifestError as exc:
        errors = sum(1 for p in exc.problems if p.severity == "error")
        body = "".join(p.format() + "\n" for p in exc.problems)
        body += f"{errors} error(s); not planned.\n"
        return EnvResult(
            name, directory, int(exc.exit_code), f"invalid manifest: {errors} error(s)", body,
            seconds=time.monotonic() - started,
        )  # fmt: skip
    except ReconcilerError as exc:
        kind = "refused" if exc.exit_code == ExitCode.REFUSED else "error"
        return EnvResult(
            name, directory, int(exc.exit_code), f"{kind}: {exc}", f"{kind}: {exc}\n",
            seconds=time.monotonic() - started,
        )  # fmt: skip
    except Exception as exc:  # a bug must not take the other environments down with it
        text = f"internal error (please report): {type(exc).__name__}: {exc}"
        return EnvResult(
            name,
            directory,
            int(ExitCode.ERROR),
            text,
            text + "\n",
            seconds=time.monotonic() - started,
        )


def run_fleet(
    directories: list[Path],
    plan_one: Callable[[Path], EnvResult],
    concurrency: int,
    on_result: Callable[[EnvResult], None],
) -> list[EnvResult]:
    """Plan all, at most `concurrency` at once; report each in input order as soon as it can be."""
    capture = ThreadOutput()

    def job(directory: Path) -> EnvResult:
        with capture.captured() as (out, err):
            result = plan_one(directory)
        result.notes = "".join(err) + "".join(out) + result.notes
        return result

    results: list[EnvResult] = []
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fleet")
    with capture.installed():
        try:
            futures = [pool.submit(job, d) for d in directories]
            for future in futures:
                result = future.result()
                results.append(result)
                on_result(result)
        finally:
            # on Ctrl-C, environments not started yet are not started at all
            pool.shutdown(wait=True, cancel_futures=True)
    return results


# --- rendering -----------------------------------------------------------------------------------
def text_block(result: EnvResult) -> str:
    head = (
        f"=== {result.name} ({display_path(result.directory)}) · exit {result.code} · "
        f"{result.seconds:.2f}s ==="
    )
    parts = [head, result.notes.rstrip("\n"), result.body.rstrip("\n")]
    return "\n".join(p for p in parts if p) + "\n"


def summary_rows(results: list[EnvResult]) -> list[tuple[str, str, int, str]]:
    return [(r.name, r.result, r.code, f"{r.seconds:.2f}s") for r in results]


def text_summary(
    fleet: Fleet, results: list[EnvResult], seconds: float, concurrency: int, shard: Shard | None
) -> str:
    failed = [r for r in results if r.code not in (ExitCode.OK, ExitCode.CHANGES)]
    head = f"Fleet: {len(results)} environment(s)"
    if shard is not None:
        head += f" in shard {shard} ({fleet.outside_shard} in other shards)"
    head += f", {len(results) - len(failed)} planned, {len(failed)} failed, in {seconds:.2f}s"
    head += f" (concurrency {concurrency})"
    width = max((len(r.name) for r in results), default=0)
    lines = [head]
    for name, result, code, took in summary_rows(results):
        lines.append(f"  {name:<{width}}  exit {code}  {took:>7}  {result}")
    if fleet.skipped:
        lines.append(
            "  skipped (no environment.yaml): " + ", ".join(display_path(p) for p in fleet.skipped)
        )
    code = combine(r.code for r in results)
    lines.append(f"Exit code {code}: the worst over all environments ({SEVERITY_TEXT}).")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def markdown_report(
    fleet: Fleet, results: list[EnvResult], seconds: float, shard: Shard | None
) -> str:
    code = combine(r.code for r in results)
    title = "### GREYHOUND fleet plan"
    if shard is not None:
        title += f" (shard {shard})"
    out = [
        title,
        "",
        f"{len(results)} environment(s) in {seconds:.2f}s · combined exit code {code}",
        "",
    ]
    out += ["| environment | exit | result |", "|---|---|---|"]
    out += [f"| `{_md(r.name)}` | {r.code} | {_md(r.result)} |" for r in results]
    for r in results:
        out.append("")
        if r.plan is not None:
            out.append(r.body.rstrip("\n"))
        else:
            out += [f"### GREYHOUND plan for `{_md(r.name)}`", "", f":x: **{_md(r.result)}**"]
            if r.code == ExitCode.INVALID:
                out += ["", "```", r.body.rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def json_report(
    fleet: Fleet, results: list[EnvResult], seconds: float, concurrency: int, shard: Shard | None
) -> str:
    doc = {
        "exit_code": combine(r.code for r in results),
        "severity": SEVERITY_TEXT,
        "shard": str(shard) if shard else None,
        "seconds": round(seconds, 3),
        "concurrency": concurrency,
        "skipped": [display_path(p) for p in fleet.skipped],
        "environments": [
            {
                "name": r.name,
                "directory": display_path(r.directory),
                "exit_code": r.code,
                "result": r.result,
                "seconds": round(r.seconds, 3),
                "notes": [line for line in r.notes.splitlines() if line],
                "error": None if r.plan is not None else r.body.strip(),
                "plan": json.loads(r.body) if r.plan is not None else None,
            }
            for r in results
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
