"""`reconciler emulator ...`: run the built-in GREYHOUND emulator."""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path

import click

from reconciler.cli_util import echo
from reconciler.errors import ReconcilerError

_RATE = click.FloatRange(0.0, 1.0)


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
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key.")
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
    help="JSON live state to start a new state file from (see docs/greyhound-api.md).",
)
@click.option("--reset", is_flag=True, help="Discard an existing state file and start anew.")
@click.option("--server-version", help="Version RpcInfo.GetServerInfo reports (e.g. 4.2.1).")
@click.option(
    "--max-clients", type=click.IntRange(1, 10000), help="Distinct Client-IDs allowed per user."
)
@click.option(
    "--mail-ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="CA certificate CheckConnection trusts for TLS mail servers (test servers).",
)
@click.option("--latency", type=click.FloatRange(0), default=0.0, help="Seconds added per request.")
@click.option(
    "--latency-max",
    type=click.FloatRange(0),
    help="With --latency: random latency between the two values.",
)
@click.option("--error-rate", type=_RATE, default=0.0, help="Share answered HTTP 503.")
@click.option("--drop-rate", type=_RATE, default=0.0, help="Share dropped before processing.")
@click.option(
    "--lost-reply-rate", type=_RATE, default=0.0, help="Share processed, then dropped unanswered."
)
@click.option("--down", is_flag=True, help="Answer every request with HTTP 503.")
@click.option("--fault-seed", type=int, help="Seed for reproducible fault draws.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def emulator_serve(
    state_file,
    host,
    port,
    tls_cert,
    tls_key,
    user,
    password_env,
    seed_file,
    reset,
    server_version,
    max_clients,
    mail_ca_file,
    latency,
    latency_max,
    error_rate,
    drop_rate,
    lost_reply_rate,
    down,
    fault_seed,
    verbose,
) -> None:
    """Serve the emulator until interrupted."""
    from reconciler.emulator.faults import FaultConfig
    from reconciler.emulator.server import EmulatorHTTPServer
    from reconciler.emulator.store import EmulatorConfig, StateError, Store

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        faults = FaultConfig(
            latency=latency,
            latency_max=latency_max,
            error_rate=error_rate,
            drop_rate=drop_rate,
            lost_reply_rate=lost_reply_rate,
            down=down,
            seed=fault_seed,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    path = Path(state_file)
    if path.exists() and seed_file and not reset:
        raise ReconcilerError(
            f"{path} exists: --seed starts a new state; add --reset to discard the existing one"
        )
    seed = None
    if seed_file:
        try:
            seed = json.loads(Path(seed_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"seed {seed_file}: not a JSON file ({exc})") from None
    if path.exists() and not reset:
        store = Store(path)
    else:
        # built in memory first: a bad seed leaves no state file behind (and keeps an old one)
        store = Store(None, EmulatorConfig(users={user: os.environ.get(password_env) or "admin"}))
        if seed is not None:
            store.seed(seed, source=f"seed {seed_file}")
        store.path = path
    if server_version:
        store.config.server_version = server_version
    if max_clients:
        store.config.max_clients_per_user = max_clients
    if mail_ca_file:
        store.config.mail_ca_file = str(Path(mail_ca_file).resolve())
    store.save()
    try:
        httpd = EmulatorHTTPServer(store, host, port, verbose=verbose, faults=faults)
    except OSError as exc:
        raise ReconcilerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if tls_cert:
        try:
            httpd.use_tls(Path(tls_cert), Path(tls_key))
        except (ssl.SSLError, OSError) as exc:
            httpd.server_close()
            raise ReconcilerError(f"cannot use --tls-cert/--tls-key: {exc}") from None
    if not tls_cert and host not in ("127.0.0.1", "localhost", "::1"):
        echo(f"warning: serving plain HTTP on {host}; pass --tls-cert/--tls-key", err=True)
    notes = [f"version {store.config.server_version}"]
    if faults.active:
        notes.append(f"faults: {faults.describe()}")
    echo(
        f"GREYHOUND emulator serving {httpd.url}/json (state {path}; {'; '.join(notes)})", err=True
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


COMMANDS = [emulator]
