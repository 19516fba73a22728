"""`reconciler plan` over a fleet: several ENV_DIRs, or a folder of environments (see ops/fleet.py).

The plan command (commands/engine.py) hands over here when it is given more than one environment,
a folder of environments, or --shard.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from reconciler.cli_util import echo


def plan_fleet(
    paths: tuple[str, ...],
    options,
    fmt: str,
    no_color: bool,
    detailed_exitcode: bool,
    out: str | None,
    shard_text: str | None,
    concurrency: int,
) -> int:
    """Plan every environment, print each as one block and a summary; return the combined code."""
    from reconciler.ops import fleet as F

    shard = F.parse_shard(shard_text) if shard_text else None
    found = F.discover(paths, shard)
    out_dir = Path(out) if out else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise F.FleetError(f"--out {out}: with several environments --out names a folder")
    if not found.environments:
        echo(f"No environment in shard {shard} ({found.outside_shard} in other shards).", err=True)
        return 0
    color = not no_color and sys.stdout.isatty()

    def plan_one(directory: Path) -> F.EnvResult:
        return F.plan_environment(directory, options, fmt, detailed_exitcode, out_dir, color)

    def show(result: F.EnvResult) -> None:
        if fmt == "text":
            echo(F.text_block(result))
        elif result.notes.strip():
            prefixed = "".join(f"[{result.name}] {line}\n" for line in result.notes.splitlines())
            echo(prefixed, err=True, nl=False)

    started = time.monotonic()
    results = F.run_fleet(found.environments, plan_one, concurrency, show)
    seconds = time.monotonic() - started
    if fmt == "text":
        echo(F.text_summary(found, results, seconds, concurrency, shard), nl=False)
    elif fmt == "markdown":
        echo(F.markdown_report(found, results, seconds, shard), nl=False)
    else:
        echo(F.json_report(found, results, seconds, concurrency, shard), nl=False)
    if out_dir is not None:
        saved = sum(1 for r in results if r.plan is not None)
        echo(f"Saved {saved} plan(s) to {out_dir}/<environment>.plan.json.", err=True)
    return F.combine(r.code for r in results)
