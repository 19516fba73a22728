"""`reconciler validate` and `reconciler schema`: the offline manifest commands.

Imports of pydantic, ruamel.yaml and the models happen inside the commands, so that
`reconciler --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from reconciler.cli_util import echo


def _date(ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command()
@click.argument("env_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 3).")
@click.option(
    "--as-of",
    "as_of",
    callback=_date,
    metavar="YYYY-MM-DD",
    help="Evaluate date-gated lint rules (MS-002) as of this date instead of today.",
)
def validate(env_dirs: tuple[str, ...], strict: bool, as_of: dt.date | None) -> None:
    """Check environments offline: YAML, schema, references, caps and lint rules.

    Exit 0 when every environment is valid (warnings are printed), 3 when any is not.
    """
    from reconciler.errors import ManifestError
    from reconciler.manifest.environment import load_environment
    from reconciler.ops.fleet import FleetError, discover, is_environment

    # a folder of environments (like `plan environments/`) validates each; bases are skipped
    expanded: list[str] = []
    for raw in env_dirs:
        if is_environment(Path(raw)) or not Path(raw).is_dir():
            expanded.append(raw)
            continue
        try:
            expanded += [str(p) for p in discover([raw]).environments]
        except FleetError:
            expanded.append(raw)  # load_environment says what is wrong with it
    failed: list[ManifestError] = []
    for env_dir in expanded:
        try:
            env = load_environment(Path(env_dir), today=as_of, strict=strict)
        except ManifestError as exc:
            failed.append(exc)
            continue
        for warning in env.warnings:
            echo(warning.format(), err=True)
        m = env.manifest
        notes = f", {len(env.warnings)} warning(s)" if env.warnings else ""
        counts = ", ".join(
            _count(n, word)
            for n, word in (
                (len(m.pop3_accounts), "POP3 account"),
                (len(m.smtp_accounts), "SMTP account"),
                (len(m.groups), "group address"),
                (len(m.filters), "extra filter"),
                (len(m.blacklist or []), "blacklist entry"),
            )
        )
        echo(f"{env.name}: valid ({counts}{notes})")
    if failed:
        raise ManifestError([p for exc in failed for p in exc.problems])


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="schemas",
    show_default=True,
    help="Folder to write the JSON Schemas into.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files are out of date.")
def schema(out_dir: str, check: bool) -> None:
    """Write the JSON Schemas of the manifest files (for editor completion)."""
    from reconciler.errors import ReconcilerError
    from reconciler.manifest.schema import render_schemas

    folder = Path(out_dir)
    stale = []
    for name, text in render_schemas().items():
        path = folder / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            echo(f"{path}: up to date")
            continue
        if check:
            stale.append(str(path))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # atomic: an editor never sees half a schema
        echo(f"{path}: written")
    if stale:
        raise ReconcilerError(
            f"out of date: {', '.join(stale)}; run `reconciler schema --out {out_dir}`"
        )


def _count(n: int, word: str) -> str:
    if word.endswith("y"):
        plural = word[:-1] + "ies"
    else:
        plural = word + ("es" if word.endswith("s") else "s")
    return f"{n} {word if n == 1 else plural}"


COMMANDS = [validate, schema]
