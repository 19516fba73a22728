"""`reconciler emulator ...`: run the built-in GREYHOUND emulator."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli_util import echo


@click.group()
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


COMMANDS = [emulator]
