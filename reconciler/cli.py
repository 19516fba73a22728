"""Command line: parse, call, render, exit code. No logic lives here.

Exit codes (DESIGN.md §6): 0 ok / no changes, 1 runtime or API error, 2 changes present (plan
--detailed-exitcode), 3 invalid manifest, 4 refused by a safety rule, 5 stale plan, 6 partial apply.
"""

from __future__ import annotations

import asyncio
import sys

import click

from reconciler import __version__
from reconciler.cli_util import echo, load_env
from reconciler.errors import ExitCode, ManifestError, ReconcilerError

_load = load_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Manage the Elements mail integration of a GREYHOUND server as code."""


@cli.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
def validate(env_dir: str) -> None:
    """Check an environment offline: schema, references, caps."""
    env = _load(env_dir)
    m = env.manifest
    echo(
        f"{env.name}: valid ({len(m.pop3_accounts)} POP3, {len(m.smtp_accounts)} SMTP accounts, "
        f"{len(m.blacklist or [])} blacklist entries)"
    )


def _plan_options(func):
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "markdown", "json"]),
        default="text",
        help="Output format.",
    )(func)
    func = click.option("--no-color", is_flag=True, help="No ANSI colours, even on a terminal.")(
        func
    )
    func = click.option("--force", is_flag=True, help="Allow deleting active accounts (prune).")(
        func
    )
    func = click.option("--allow-http", is_flag=True, help="Allow a plain http:// GREYHOUND URL.")(
        func
    )
    return func


def _render(plan, fmt: str, no_color: bool) -> str:
    from reconciler.plan import render

    if fmt == "json":
        return render.render_json(plan)
    if fmt == "markdown":
        return render.render_markdown(plan)
    return render.render_text(plan, color=not no_color and sys.stdout.isatty())


@cli.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
@_plan_options
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (drift check)."
)
def plan(
    env_dir: str, fmt: str, no_color: bool, force: bool, allow_http: bool, detailed_exitcode: bool
) -> None:
    """Show what apply would change on the server."""
    from reconciler.engine import make_plan

    env = _load(env_dir)
    result = asyncio.run(make_plan(env, force=force, allow_http=allow_http))
    echo(_render(result.plan, fmt, no_color), nl=fmt == "text")
    if detailed_exitcode and result.plan.has_changes:
        sys.exit(ExitCode.CHANGES)


@cli.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
@_plan_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option(
    "--parallelism",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Independent steps run at once.",
)
def apply(
    env_dir: str,
    fmt: str,
    no_color: bool,
    force: bool,
    allow_http: bool,
    auto_approve: bool,
    parallelism: int,
) -> None:
    """Plan, then carry the plan out in a safe order."""
    from reconciler.engine import run_apply

    env = _load(env_dir)

    def confirm(plan) -> bool:
        echo(_render(plan, fmt, no_color), nl=fmt == "text")
        if not plan.has_changes or auto_approve:
            return plan.has_changes
        if not sys.stdin.isatty():
            raise ReconcilerError("not applying: no terminal to confirm on; pass --auto-approve")
        return click.confirm("Apply these steps?", default=False)

    def report(line: str) -> None:
        echo(line)

    code = asyncio.run(
        run_apply(env, confirm, report, force=force, allow_http=allow_http, parallelism=parallelism)
    )
    sys.exit(code)


def _register_commands() -> None:
    """Commands that live in their own modules under reconciler/commands/ (one module per area)."""
    from reconciler.commands import emulator

    for module in (emulator,):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except ManifestError as exc:
        for problem in exc.problems:
            echo(problem.format(), err=True)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        echo(f"{errors} error(s); nothing was changed.", err=True)
        sys.exit(ExitCode.INVALID)
    except ReconcilerError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        echo("Aborted; nothing was changed.", err=True)
        sys.exit(ExitCode.ERROR)
    except click.ClickException as exc:
        # usage errors exit 1, not click's 2: 2 means "changes present" to CI
        exc.show()
        sys.exit(ExitCode.ERROR)
    except KeyboardInterrupt:
        echo("interrupted", err=True)
        sys.exit(130)
