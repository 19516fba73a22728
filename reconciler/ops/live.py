"""One read of a live server for the ops commands: state, marker and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.manifest.environment import Environment
from reconciler.model.state import State
from reconciler.plan.marker import Marker


@dataclass
class LiveRead:
    live: State
    marker: Marker | None
    label: str  # the URL, or "embedded emulator (<state file>)"


async def read_live(env: Environment, allow_http: bool = False) -> LiveRead:
    """Connect, read everything in the engine's few round trips, log out."""
    from reconciler.engine import read_server
    from reconciler.target import connect, secrets_for

    async with connect(env, secrets_for(env), allow_http) as target:
        live, marker = await read_server(target.client, target.label)
        return LiveRead(live, marker, target.label)
