"""Connect to the environment's GREYHOUND: a real server by URL, or the embedded emulator.

`url: embedded:<state file>` starts the emulator in-process on a 127.0.0.1 socket, so the client
talks real HTTP to it exactly as to a server. The state file is created on first use, seeded with
the environment's API user and the simulated mail endpoints of `emulator:`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.errors import ReconcilerError
from reconciler.greyhound.rpc import RpcClient
from reconciler.manifest.environment import Environment
from reconciler.manifest.secrets import SecretResolver

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


@contextlib.asynccontextmanager
async def connect(
    env: Environment, secrets: SecretResolver, allow_http: bool = False
) -> AsyncIterator[Target]:
    conn = env.manifest.greyhound
    password = secrets.resolve(conn.password, "the GREYHOUND API user") if conn.password else ""
    emulator = None
    if conn.url.startswith(EMBEDDED):
        state_file = env.directory / conn.url[len(EMBEDDED) :]
        emulator = RunningEmulator(_embedded_store(env, secrets, state_file)).start()
        url, label, verify = emulator.url, f"embedded emulator ({conn.url[len(EMBEDDED) :]})", True
        if not conn.password:
            password = "admin"
    else:
        url, label = conn.url.rstrip("/"), conn.url.rstrip("/")
        if url.startswith("http://"):
            if not (conn.allow_http or allow_http):
                raise ReconcilerError(
                    f"{url} is plain HTTP: credentials would cross the network unencrypted. Use https://, "
                    "or set `greyhound.allow_http: true` (or --allow-http) for a local test server"
                )
            print(f"warning: using plain HTTP to {url}", file=sys.stderr)
        elif not url.startswith("https://"):
            raise ReconcilerError(
                f"greyhound.url {conn.url!r} must start with https:// (or embedded:)"
            )
        verify: bool | str = conn.tls.verify
        if conn.tls.ca_file:
            verify = str(env.directory / conn.tls.ca_file)
    client = RpcClient(url, conn.username, password, verify=verify, timeout=conn.timeout)
    try:
        yield Target(client=client, url=url, label=label)
    finally:
        await client.aclose()
        if emulator is not None:
            emulator.stop()
