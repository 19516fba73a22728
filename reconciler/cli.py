"""Command line: parse, call, render, exit code. No logic lives here.

Exit codes (DESIGN.md §6): 0 ok / no changes, 1 runtime or API error, 2 changes present (plan
--detailed-exitcode), 3 invalid manifest, 4 refused by a safety rule, 5 stale plan, 6 partial apply.
"""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.cli_util import echo, load_env
from reconciler.errors import ExitCode, ManifestError, ReconcilerError

_load = load_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True, help="Log API calls and steps to stderr (-vv: more).")
def cli(verbose: int) -> None:
    """Manage the Elements mail integration of a GREYHOUND server as code."""
    if verbose:
        from reconciler.cli_util import setup_logging

        setup_logging(verbose)


def _register_commands() -> None:
    """Commands that live in their own modules under reconciler/commands/ (one module per area)."""
    from reconciler.commands import assign, emulator, engine, manifest, ops

    for module in (manifest, engine, emulator, assign, ops):
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
