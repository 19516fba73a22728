"""Operations commands: export, check, status, diff-env, promote, oauth (docs/operations.md).

Heavy imports happen inside the commands, so that `reconciler --help` stays fast.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from reconciler.cli_util import echo, load_env
from reconciler.errors import ExitCode, ManifestError, ReconcilerError

_allow_http = click.option(
    "--allow-http", is_flag=True, help="Allow a plain http:// GREYHOUND URL."
)


@click.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the manifests (created if missing; gets an environment.yaml if it has none).",
)
@click.option(
    "--secret-prefix",
    default="",
    metavar="PREFIX",
    help="Prefix of generated secret names, e.g. PROD gives PROD_POP3_SUPPORT_PASSWORD.",
)
@click.option("--force", is_flag=True, help="Overwrite files that export did not write itself.")
@_allow_http
def export(env_dir, out_dir, secret_prefix, force, allow_http) -> None:
    """Read the live server of ENV_DIR and write manifests that plan finds no changes in.

    Writes accounts.yaml, filters.yaml and blacklist.yaml (when the server has a blacklist) into
    --out; passwords become secret references, never values. Objects a manifest cannot express are
    listed and stay unmanaged.
    """
    from reconciler.manifest.environment import ENVIRONMENT_FILE, load_environment
    from reconciler.ops import export as X
    from reconciler.ops.live import read_live
    from reconciler.ops.yamlout import write_files

    env = load_env(env_dir)
    out = Path(out_dir)
    read = asyncio.run(read_live(env, allow_http))
    prefix = secret_prefix.strip("_")
    result = X.export_state(
        read.live, env.manifest, read.marker, prefix, source=read.label, moved=(env.directory, out)
    )
    files = {out / name: text for name, text in result.files.items()}
    if not (out / ENVIRONMENT_FILE).exists():
        files[out / ENVIRONMENT_FILE] = X.connection_file(env, out)
    stale = out / X.BLACKLIST_FILE
    stale = stale if stale.exists() and stale not in files else None
    for path in [*files, *([stale] if stale else [])]:
        if path.name == ENVIRONMENT_FILE or not path.exists() or force:
            continue
        if not path.read_text(encoding="utf-8").startswith(f"# {X.HEADER_MARK}"):
            raise ReconcilerError(
                f"{path} exists and was not written by `reconciler export`; move it away or pass "
                "--force to overwrite it"
            )
    write_files(files)
    if stale is not None:
        stale.unlink()  # the server has no blacklist (any more): the manifest must not manage one
    c = result.counts
    echo(
        f"Exported {c['pop3']} POP3 and {c['smtp']} SMTP accounts, {c['groups']} group "
        f"address(es), {c['filters']} filter(s) and {c['blacklist']} blacklist entries from "
        f"{read.label} to {out}: {', '.join(sorted(p.name for p in files))}."
    )
    if result.secrets:
        echo(
            f"Set these {len(result.secrets)} secret(s) before plan or apply: "
            + ", ".join(result.secrets)
        )
    for note in result.left_out:
        echo(f"not exported (stays unmanaged): {note}", err=True)
    try:
        load_environment(out)
    except ManifestError as exc:
        for problem in exc.problems:
            echo(problem.format(), err=True)
        echo(
            "The files were written, but they do not pass `reconciler validate`: the server holds "
            "settings the manifest rules reject (fix them on the server or in the files).",
            err=True,
        )
        sys.exit(ExitCode.INVALID)


COMMANDS = [export]
