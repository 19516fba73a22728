"""`reconciler plan` and `reconciler apply`."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import click

from reconciler.cli_util import echo, load_env
from reconciler.errors import ExitCode, ReconcilerError


def _common(func):
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "markdown", "json"]),
            default="text",
            show_default=True,
            help="Output format.",
        ),
        click.option("--no-color", is_flag=True, help="No ANSI colours, even on a terminal."),
        click.option(
            "--force",
            is_flag=True,
            help="Allow deleting active accounts and changes above --max-change-share.",
        ),
        click.option(
            "--allow-delete-all",
            is_flag=True,
            help="Acknowledge that a manifest without accounts deletes every account (prune).",
        ),
        click.option(
            "--sync-passwords",
            is_flag=True,
            help="Write passwords this tool has no fingerprint for (adopted accounts).",
        ),
        click.option(
            "--max-change-share",
            type=click.FloatRange(0, 1),
            default=0.5,
            show_default=True,
            help="Refuse when updates + deletes exceed this share of managed objects.",
        ),
        click.option("--allow-http", is_flag=True, help="Allow a plain http:// GREYHOUND URL."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(force, allow_http, allow_delete_all, sync_passwords, max_change_share, parallelism=8):
    from reconciler.engine import Options

    return Options(
        force=force,
        allow_http=allow_http,
        allow_delete_all=allow_delete_all,
        sync_passwords=sync_passwords,
        max_change_share=max_change_share,
        parallelism=parallelism,
    )


class Progress:
    """One line per step on stdout; on a terminal, a progress bar under them on stderr."""

    WIDTH = 30

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False
        self.finished = 0  # steps reported so far
        self.total = 0

    def line(self, text: str) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False
        echo(text)
        match = re.match(r"\[ *(\d+)/(\d+)\]", text)
        if match:
            self.finished, self.total = int(match.group(1)), int(match.group(2))
        if self.enabled and match:
            done, total = self.finished, self.total
            if done < total:
                filled = self.WIDTH * done // total
                bar = "#" * filled + "-" * (self.WIDTH - filled)
                click.echo(f"[{bar}] {done}/{total}", err=True, nl=False)
                self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def render(plan, fmt: str, no_color: bool) -> str:
    from reconciler.plan import render as r

    if fmt == "json":
        return r.render_json(plan)
    if fmt == "markdown":
        return r.render_markdown(plan)
    return r.render_text(plan, color=not no_color and sys.stdout.isatty())


@click.command()
@click.argument("env_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@_common
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (drift check)."
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(),
    help="Save the plan for `apply --plan FILE` (no secret values inside); with several "
    "environments, a folder that gets <environment>.plan.json each.",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Plan only the environments of shard I of N (stable hash of the name), for CI matrices.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Environments planned at once (several ENV_DIRs or a folder of environments).",
)
def plan(
    env_dirs,
    fmt,
    no_color,
    force,
    allow_delete_all,
    sync_passwords,
    max_change_share,
    allow_http,
    detailed_exitcode,
    out_file,
    shard,
    concurrency,
) -> None:
    """Show what apply would change on the server.

    Several ENV_DIRs, or a folder of environments, are planned concurrently (docs/operations.md).
    """
    from reconciler.engine import make_plan
    from reconciler.ops.fleet import is_fleet
    from reconciler.plan.savedplan import write_plan_file

    options = _options(force, allow_http, allow_delete_all, sync_passwords, max_change_share)
    if shard or is_fleet(env_dirs):
        from reconciler.commands.fleet import plan_fleet

        sys.exit(
            plan_fleet(
                env_dirs, options, fmt, no_color, detailed_exitcode, out_file, shard, concurrency
            )
        )
    (env_dir,) = env_dirs
    if out_file and Path(out_file).is_dir():
        raise click.UsageError(
            f"--out {out_file} is a folder; give a file name for one environment"
        )
    env = load_env(env_dir)
    result = asyncio.run(make_plan(env, options))
    echo(render(result.plan, fmt, no_color), nl=fmt == "text")
    if out_file:
        write_plan_file(Path(out_file), result.plan, Path(env_dir))
        echo(
            f"Saved plan {result.plan.plan_id} to {out_file}; apply it with "
            f"`reconciler apply --plan {out_file}`.",
            err=True,
        )
    if detailed_exitcode and result.plan.has_changes:
        sys.exit(ExitCode.CHANGES)


@click.command()
@click.argument("env_dir", type=click.Path(file_okay=False), required=False)
@_common
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Apply exactly this saved plan; refused (exit 5) if the server or inputs moved.",
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Independent steps of a phase run at once.",
)
def apply(
    env_dir,
    fmt,
    no_color,
    force,
    allow_delete_all,
    sync_passwords,
    max_change_share,
    allow_http,
    plan_file,
    auto_approve,
    parallelism,
) -> None:
    """Plan, then carry the plan out in a safe order."""
    from reconciler.engine import run_apply
    from reconciler.errors import StalePlan
    from reconciler.plan.savedplan import read_plan_file, saved_env_dir

    saved = None
    if plan_file:
        doc = read_plan_file(Path(plan_file))
        saved = doc.plan
        if env_dir and Path(env_dir).resolve() != saved_env_dir(doc, Path(plan_file)):
            raise StalePlan(
                f"{plan_file} was made for {doc.env_dir} (environment {saved.environment!r}), "
                f"not {Path(env_dir).resolve()}"
            )
        env_dir = str(saved_env_dir(doc, Path(plan_file)))
        auto_approve = True  # the saved plan is what was reviewed and approved
    elif not env_dir:
        raise click.UsageError("give an ENV_DIR, or --plan FILE")
    env = load_env(env_dir)
    options = _options(
        force, allow_http, allow_delete_all, sync_passwords, max_change_share, parallelism
    )

    def confirm(plan) -> bool:
        if saved is None:
            echo(render(plan, fmt, no_color), nl=fmt == "text")
        else:
            echo(
                f"Applying saved plan {plan.plan_id} ({len(plan.steps)} steps); the server has not moved."
            )
        if not plan.has_changes or auto_approve:
            return plan.has_changes
        if not sys.stdin.isatty():
            raise ReconcilerError("not applying: no terminal to confirm on; pass --auto-approve")
        return click.confirm("Apply these steps?", default=False)

    progress = Progress(enabled=sys.stderr.isatty() and fmt == "text")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # CI cancels jobs with SIGTERM
    try:
        code = asyncio.run(run_apply(env, confirm, progress.line, options, saved=saved))
    except KeyboardInterrupt:
        progress.close()
        if not progress.finished:
            raise ReconcilerError(
                "interrupted before the first step; nothing was changed"
            ) from None
        echo(
            f"Interrupted after {progress.finished} of {progress.total} steps: the server holds what "
            "those steps did. Run apply again; its plan starts from the server as it is now.",
            err=True,
        )
        code = ExitCode.PARTIAL
    finally:
        progress.close()
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code)


def _interrupt(signum, frame) -> None:
    # treat SIGTERM as Ctrl-C: asyncio.run then cancels the running task cleanly; raising
    # KeyboardInterrupt here could land inside any task and print its traceback
    signal.raise_signal(signal.SIGINT)


COMMANDS = [plan, apply]
