"""`reconciler assign ...`: the mail-assignment simulator and the blacklist what-if (docs/assign.md)."""

from __future__ import annotations

import json

import click

from reconciler.cli_util import echo


def _mails(mail_files: tuple[str, ...], corpus: str | None):
    from reconciler.assign import read_corpus, read_mail

    mails = [read_mail(path) for path in mail_files]
    if corpus:
        mails += read_corpus(corpus)
    if not mails:
        raise click.UsageError("name mail files (MAIL.eml...) or a folder of them (--corpus DIR)")
    return mails


def _source(env_dir: str | None, blacklist: str | None):
    from reconciler.assign.ignore import IgnoreSource, from_blacklist_file, from_environment

    if env_dir and blacklist:
        raise click.UsageError("--env and --blacklist exclude each other")
    if env_dir:
        return from_environment(env_dir)
    if blacklist:
        return from_blacklist_file(blacklist)
    return IgnoreSource("no blacklist")


def _warn(lines: list[str]) -> None:
    for line in lines:
        echo(f"warning: {line}", err=True)


def _show_assignments(mails, index, ignore, history, fmt: str) -> None:
    from reconciler.assign import assign

    results = [(mail, assign(mail, index, ignore, history)) for mail in mails]
    if fmt == "json":
        echo(json.dumps([{"mail": m.name, **a.as_dict()} for m, a in results], indent=2))
        return
    for mail, result in results:
        echo(f"{mail.name}: {result.describe()}  [{result.rule}]")
        for line in result.trace:
            echo(f"    {line}")


def _show_comparison(comparison, fmt: str) -> None:
    if fmt == "json":
        echo(json.dumps(comparison.as_dict(), indent=2))
        return
    echo(f"old: {comparison.old_label}")
    echo(f"new: {comparison.new_label}")
    for diff in comparison.differences:
        echo(f"{diff.mail}: {'; '.join(diff.changes())}  [{diff.old.rule} → {diff.new.rule}]")
    echo(comparison.summary())


@click.command("assign")
@click.argument("mail_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--erp", "erp_file", required=True, type=click.Path(dir_okay=False), help="ERP data (YAML)."
)
@click.option("--history", "history_file", type=click.Path(dir_okay=False), help="Thread history.")
@click.option(
    "--env", "env_dir", type=click.Path(file_okay=False), help="Blacklist and groups from here."
)
@click.option("--blacklist", type=click.Path(dir_okay=False), help="Blacklist YAML file.")
@click.option("--corpus", type=click.Path(file_okay=False), help="A folder of .eml files.")
@click.option(
    "--compare",
    nargs=2,
    metavar="OLD NEW",
    help="List mails assigned differently under two environments (or blacklist files).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def assign_command(
    mail_files, erp_file, history_file, env_dir, blacklist, corpus, compare, fmt
) -> None:
    """Show which order, quote, customer and article Elements would assign to mails."""
    from reconciler.assign import ErpIndex, load_erp, load_history
    from reconciler.assign import compare as compare_sources
    from reconciler.assign.ignore import load_source

    if compare and (env_dir or blacklist):
        raise click.UsageError("--compare names both sides; drop --env/--blacklist")
    mails = _mails(mail_files, corpus)
    index = ErpIndex(load_erp(erp_file))
    _warn(index.warnings)
    history = load_history(history_file) if history_file else None
    if compare:
        old, new = (load_source(side) for side in compare)
        _warn(old.warnings + new.warnings)
        comparison = compare_sources(
            mails,
            index,
            old.ignore_list(index.users),
            new.ignore_list(index.users),
            history,
            labels=(old.label, new.label),
        )
        _show_comparison(comparison, fmt)
        return
    source = _source(env_dir, blacklist)
    _warn(source.warnings)
    _show_assignments(mails, index, source.ignore_list(index.users), history, fmt)


COMMANDS = [assign_command]
