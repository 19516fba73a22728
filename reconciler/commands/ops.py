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


def _format_option(func):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(func)


def _passwords(env, accounts) -> dict:
    """Secrets of the chosen accounts only, resolved before any network call."""
    from reconciler.target import secrets_for

    secrets = secrets_for(env)
    return {
        r.key: secrets.resolve(r.secret, f"{r.kind.value} account {r.name!r}")
        for r in accounts
        if r.secret is not None
    }


@click.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
@click.option(
    "--account", "account", metavar="NAME", help="Check only this account (POP3 and SMTP)."
)
@click.option(
    "--direct",
    is_flag=True,
    help="Log in from this machine with poplib/smtplib instead of asking GREYHOUND.",
)
@click.option(
    "--mail-ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="With --direct: CA certificate to trust for the mail servers (private CAs).",
)
@click.option(
    "--timeout",
    type=click.IntRange(1, 600),
    default=30,
    show_default=True,
    help="Seconds per connection.",
)
@_format_option
@_allow_http
def check(env_dir, account, direct, mail_ca_file, timeout, fmt, allow_http) -> None:
    """Test the mail server login of the manifest's accounts ("check settings").

    By default GREYHOUND itself connects (CheckConnection), as it will when fetching mail. Exit 0
    when every checked account logs in, 1 when any fails. OAuth2 accounts are skipped.
    """
    import json

    from reconciler.expand import expand
    from reconciler.ops import check as C

    env = load_env(env_dir)
    accounts = C.accounts_to_check(expand(env.manifest), account)
    passwords = _passwords(env, [r for r in accounts if C.skip_reason(r) is None])
    if direct:
        results = asyncio.run(C.check_direct(accounts, passwords, mail_ca_file, timeout))
        where = "directly from this machine (poplib/smtplib)"
    else:
        results, where = asyncio.run(_check_via_server(env, accounts, passwords, allow_http))
    if fmt == "json":
        doc = {"where": where, "results": [r.as_dict() for r in results]}
        echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        echo(C.render_text(results, where))
    if any(r.status == C.FAILED for r in results):
        sys.exit(ExitCode.ERROR)


async def _check_via_server(env, accounts, passwords, allow_http):
    from reconciler.greyhound.live import preflight
    from reconciler.ops import check as C
    from reconciler.target import connect, secrets_for

    async with connect(env, secrets_for(env), allow_http) as target:
        await preflight(target.client, target.label)
        results = await C.check_through_server(target.client, accounts, passwords)
        return results, f"through GREYHOUND at {target.label} (CheckConnection)"


@click.command()
@click.argument("env_dir", type=click.Path(file_okay=False))
@_format_option
@click.option(
    "--fail-on-error",
    is_flag=True,
    help="Exit 1 when an active account reports errors (for monitoring jobs).",
)
@_allow_http
def status(env_dir, fmt, fail_on_error, allow_http) -> None:
    """Show each account's health: state, last error, OAuth2 link, ownership and drift."""
    from reconciler.expand import expand
    from reconciler.ops import status as S
    from reconciler.ops.live import read_live

    env = load_env(env_dir)
    read = asyncio.run(read_live(env, allow_http))
    result = S.build_status(read.live, read.marker, expand(env.manifest))
    result.server["url"] = read.label
    echo(S.render_json(result) if fmt == "json" else S.render_text(result), nl=fmt == "text")
    if fail_on_error and result.unhealthy:
        sys.exit(ExitCode.ERROR)


@click.group()
def oauth() -> None:
    """Link OAuth2 accounts (Microsoft 365, Google) without the GREYHOUND GUI."""


def _oauth_options(func):
    options = [
        click.argument("env_dir", type=click.Path(file_okay=False)),
        click.option("--account", required=True, metavar="NAME", help="Account name."),
        click.option(
            "--kind",
            type=click.Choice(["pop3", "smtp", "both"]),
            default="both",
            show_default=True,
            help="Which of the account's OAuth2 accounts to link.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(1, 3600),
            default=300,
            show_default=True,
            help="Seconds to wait for the consent in the browser.",
        ),
        click.option(
            "--interval",
            type=click.FloatRange(0.05, 60),
            default=2,
            show_default=True,
            help="Seconds between two polls.",
        ),
        click.option("--redirect-url", default="", help="Where the browser goes after consent."),
        click.option("--locale", default="", help="Language of the consent page, e.g. de-DE."),
        _allow_http,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@oauth.command("link")
@_oauth_options
def oauth_link(env_dir, account, kind, timeout, interval, redirect_url, locale, allow_http) -> None:
    """Link an account: print the consent URL, poll until granted, store the token.

    Exit 0 when linked, 1 when the consent was declined, failed or timed out.
    """
    asyncio.run(
        _oauth(env_dir, account, kind, timeout, interval, redirect_url, locale, allow_http, False)
    )


@oauth.command("renew")
@_oauth_options
def oauth_renew(
    env_dir, account, kind, timeout, interval, redirect_url, locale, allow_http
) -> None:
    """Renew a link: unlink, then link again (the documented way to refresh it)."""
    asyncio.run(
        _oauth(env_dir, account, kind, timeout, interval, redirect_url, locale, allow_http, True)
    )


async def _oauth(env_dir, name, kind, timeout, interval, redirect_url, locale, allow_http, renew):
    from reconciler.engine import read_server
    from reconciler.expand import expand
    from reconciler.ops import oauth as O
    from reconciler.target import connect, secrets_for

    env = load_env(env_dir)
    accounts = O.oauth2_accounts(expand(env.manifest), name)
    if kind != "both":
        accounts = [r for r in accounts if r.kind.value == kind]
        if not accounts:
            raise ReconcilerError(f"account {name!r} has no OAuth2 {kind.upper()} account")
    async with connect(env, secrets_for(env), allow_http) as target:
        live, _marker = await read_server(target.client, target.label)
        for account in accounts:
            if renew:
                await O.record(target.client, account.kind, account.name, None)
                echo(f"{account.kind.value} account {account.name!r}: unlinked; linking again")
            outcome = await O.link_account(
                target.client, account, live, echo, timeout, interval, redirect_url, locale
            )
            echo(
                f"{outcome.kind.value} account {outcome.name!r}: linked ({outcome.provider}) in "
                f"{outcome.seconds:.1f}s; the token is stored on the server, never shown"
            )
    if any(r.fields.get("active") for r in accounts):
        echo(f"Next: `reconciler plan {env_dir}` shows the activation; apply it to go live.")


@click.command("diff-env")
@click.argument("env_a", type=click.Path(file_okay=False))
@click.argument("env_b", type=click.Path(file_okay=False))
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="FIELD",
    help="Also ignore this resource field (repeatable), e.g. --ignore host --ignore username.",
)
@_format_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the environments differ.")
def diff_env(env_a, env_b, ignore, fmt, detailed_exitcode) -> None:
    """Show how the desired state of ENV_B differs from ENV_A (offline).

    Compares what plan would aim for in each environment, companions included; the GREYHOUND
    connection and secret values are left out.
    """
    from reconciler.expand import expand
    from reconciler.ops import envdiff as D

    a, b = load_env(env_a), load_env(env_b)
    result = D.diff_environments(a, expand(a.manifest), b, expand(b.manifest), set(ignore))
    echo(
        D.render_json(result) if fmt == "json" else D.render_text(result, set(ignore)),
        nl=fmt == "text",
    )
    if detailed_exitcode and result.count:
        sys.exit(ExitCode.CHANGES)


@click.command()
@click.argument("env_a", type=click.Path(file_okay=False))
@click.argument("env_b", type=click.Path(file_okay=False))
@click.option(
    "--since",
    default="HEAD",
    show_default=True,
    metavar="REF",
    help="Git revision A's changes are counted from (HEAD: the changes not committed yet; "
    "origin/main: what this branch changed).",
)
@click.option("--dry-run", is_flag=True, help="Show the changes to B's files, write nothing.")
def promote(env_a, env_b, since, dry_run) -> None:
    """Carry ENV_A's changes into ENV_B's files, keeping ENV_B's own values.

    Three-way, field by field: what A changed since --since is applied where B still has A's old
    value; hosts, addresses, secret names and other values B sets differently stay. Only B's own
    files are written (never a shared base); review the result with `git diff`.
    """
    from reconciler.ops import promote as M

    a, b = load_env(env_a), load_env(env_b)
    result = M.promote(a, b, since)
    for action in result.actions:
        echo(f"  {action}")
    for note in result.kept:
        echo(f"  kept: {note}")
    if not result.files:
        echo(f"Nothing to promote: {a.name} has no changes since {since} that {b.name} lacks.")
        return
    if dry_run:
        echo(result.diff(), nl=False)
        echo(f"Dry run: {len(result.files)} file(s) of {b.name} would change; nothing was written.")
        return
    M.write(result)
    names = ", ".join(p.name for p in result.files)
    echo(
        f"Promoted {len(result.actions)} change(s) from {a.name} (since {since}) into {b.name}: "
        f"{names}. Review with `git diff {env_b}`, then plan {b.name}."
    )


COMMANDS = [export, check, status, oauth, diff_env, promote]
