"""Connect to the environment's GREYHOUND: a real server by URL, or the embedded emulator.

Real servers are reached over HTTPS with certificate verification on; `greyhound.tls.ca_file`
trusts the CA of a self-signed server, and plain `http://` needs an explicit opt-in
(`greyhound.allow_http: true` or `--allow-http`) and prints a warning.

`url: embedded:<state file>` starts the emulator in-process on a 127.0.0.1 socket, so the client
talks real HTTP to it exactly as to a server. The state file is created on first use, seeded with
the environment's API user and the simulated mail endpoints of `emulator:`.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.cli_util import echo
from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.errors import ReconcilerError
from reconciler.greyhound import protocol as P
from reconciler.greyhound.rpc import RpcClient
from reconciler.manifest.environment import Environment
from reconciler.manifest.secrets import SecretResolver
from reconciler.model.manifest import Connection

EMBEDDED = "embedded:"


@dataclass
class Target:
    client: RpcClient
    url: str
    label: str  # what to show people: the URL, or "embedded emulator (<state file>)"


def secrets_for(env: Environment) -> SecretResolver:
    return SecretResolver(env.directory, env.manifest.env_file)


def _embedded_store(env: Environment, secrets: SecretResolver, state_file: Path) -> Store:
    if state_file.exists():
        return Store(state_file)
    conn = env.manifest.greyhound
    password = (
        secrets.resolve(conn.password, "the GREYHOUND API user") if conn.password else "admin"
    )
    seed = env.manifest.emulator
    config = EmulatorConfig(users={conn.username: password})
    if seed is not None:
        config.server_version = seed.server_version
        config.endpoints = [
            {
                "protocol": e.protocol,
                "host": e.host.lower(),
                "port": e.port,
                "security": e.security.value,
                "username": e.username,
                "password": secrets.resolve(e.password, f"simulated endpoint {e.host}"),
            }
            for e in seed.simulated_endpoints
        ]
    return Store(state_file, config)


def server_url(conn: Connection, allow_http: bool) -> str:
    """The base URL to talk to (without /json), after the safety checks on scheme and form."""
    url = conn.url.strip().rstrip("/")
    url = url.removesuffix(P.ENDPOINT_PATH)
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ReconcilerError(
            f"greyhound.url {conn.url!r} must look like https://host[:port] (or embedded:<state file>)"
        )
    if parts.username or parts.password:
        raise ReconcilerError(
            "greyhound.url must not contain credentials: use greyhound.username and greyhound.password"
        )
    if parts.scheme == "http":
        if not (conn.allow_http or allow_http):
            raise ReconcilerError(
                f"{url} is plain HTTP: credentials would cross the network unencrypted. Use https://, "
                "or set `greyhound.allow_http: true` (or --allow-http) for a local test server"
            )
        echo(f"warning: using plain HTTP to {url}: the password is sent unencrypted", err=True)
    return url


@functools.cache
def system_tls_context() -> ssl.SSLContext:
    """The system's CA store, built once per process: httpx builds its own bundle for every client
    (~80 ms), which a fleet of 50 environments would pay 50 times."""
    return ssl.create_default_context()


def tls_verification(conn: Connection, directory: Path) -> bool | ssl.SSLContext:
    """Verification on by default (system CAs); `tls.ca_file` trusts a self-signed server's CA."""
    if not conn.tls.verify:
        echo(
            "warning: greyhound.tls.verify is false: the server's identity is not checked; "
            "prefer greyhound.tls.ca_file",
            err=True,
        )
        return False
    if not conn.tls.ca_file:
        return system_tls_context()
    path = (directory / conn.tls.ca_file).expanduser()
    if not path.is_file():
        raise ReconcilerError(f"greyhound.tls.ca_file {conn.tls.ca_file!r}: no such file ({path})")
    try:
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ReconcilerError(
            f"greyhound.tls.ca_file {conn.tls.ca_file!r} is not a PEM CA certificate ({exc})"
        ) from None


@contextlib.asynccontextmanager
async def connect(
    env: Environment,
    secrets: SecretResolver,
    allow_http: bool = False,
    client_id: str | None = None,
    max_connections: int = 16,
) -> AsyncIterator[Target]:
    conn = env.manifest.greyhound
    password = secrets.resolve(conn.password, "the GREYHOUND API user") if conn.password else ""
    emulator = None
    verify: bool | ssl.SSLContext = system_tls_context()
    if conn.url.startswith(EMBEDDED):
        state_file = env.directory / conn.url[len(EMBEDDED) :]
        emulator = RunningEmulator(_embedded_store(env, secrets, state_file)).start()
        url, label = emulator.url, f"embedded emulator ({conn.url[len(EMBEDDED) :]})"
        if not conn.password:
            password = "admin"
    else:
        url = label = server_url(conn, allow_http)
        verify = tls_verification(conn, env.directory)
    client = RpcClient(
        url,
        conn.username,
        password,
        verify=verify,
        timeout=conn.timeout,
        retries=conn.retries,
        client_id=client_id,
        max_connections=max_connections,
    )
    try:
        yield Target(client=client, url=url, label=label)
    finally:
        try:
            await client.logout()
            await client.aclose()
        finally:
            if emulator is not None:
                emulator.stop()
