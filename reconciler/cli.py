"""Command line: parse, call, render, exit code. No logic lives here.

Exit codes (DESIGN.md §6): 0 ok / no changes, 1 runtime or API error, 2 changes present (plan
--detailed-exitcode), 3 invalid manifest, 4 refused by a safety rule, 5 stale plan, 6 partial apply.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from reconciler import __version__
from reconciler.errors import ExitCode, ManifestError, ReconcilerError
from reconciler.manifest.secrets import scrub


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Every line we print passes through the secret scrubber."""
    click.echo(scrub(text), err=err, nl=nl)


def _load(env_dir: str):
    from reconciler.manifest.environment import load_environment

    env = load_environment(Path(env_dir))
    for warning in env.warnings:
        echo(warning.format(), err=True)
    return env


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


@cli.group()
def emulator() -> None:
    """The built-in GREYHOUND JSON-RPC emulator."""


@emulator.command("serve")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    required=True,
    help="State file (created if missing; written atomically).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", default="admin", show_default=True, help="API user of a new state file.")
@click.option(
    "--password-env",
    default="GREYHOUND_EMULATOR_PASSWORD",
    show_default=True,
    help="Environment variable holding that user's password (default password: admin).",
)
@click.option(
    "--seed",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON live state to load into a new state file.",
)
@click.option("--verbose", is_flag=True, help="Log every request.")
def emulator_serve(
    state_file, host, port, tls_cert, tls_key, user, password_env, seed_file, verbose
) -> None:
    """Serve the emulator until interrupted."""
    import json
    import os

    from reconciler.emulator.server import EmulatorHTTPServer
    from reconciler.emulator.store import EmulatorConfig, Store

    path = Path(state_file)
    fresh = not path.exists()
    store = Store(path, EmulatorConfig(users={user: os.environ.get(password_env) or "admin"}))
    if fresh and seed_file:
        store.seed(json.loads(Path(seed_file).read_text(encoding="utf-8")))
    httpd = EmulatorHTTPServer(store, host, port, verbose=verbose)
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if tls_cert:
        httpd.use_tls(Path(tls_cert), Path(tls_key))
    echo(f"GREYHOUND emulator serving {httpd.url}/json (state {path})", err=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


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
