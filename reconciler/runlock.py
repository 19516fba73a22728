"""One apply at a time per server (and per environment folder on this machine).

Server side: apply locks a sentinel rule (created inactive, with no triggers, on first use) for its
whole run; GREYHOUND locks are exclusive per Client-ID, so a second apply from any machine is refused.
Two first runs racing to create the sentinel both settle on the lowest ID. A killed apply leaves the
lock with its session: the next apply from the same folder resumes that session (journal) and gets
it; from elsewhere, it is freed when GREYHOUND ends the session or by unlocking the rule by hand.

Local side: an exclusive file lock in ENV_DIR/.reconciler/, so two applies from one checkout (or on
the embedded emulator, which has no shared server) never interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from reconciler.errors import PlanRefused
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import LockedError
from reconciler.greyhound.live import create_object, gather_all, preflight
from reconciler.model.state import Kind

BUSY = (
    "another apply is running against {where}; wait for it to finish. If it was killed, its lock is "
    "released when its GREYHOUND session ends, or re-run apply from the same folder (it resumes that "
    "session), or unlock the rule '{rule}' in the GREYHOUND client"
)


@contextlib.contextmanager
def local_lock(env_dir: Path) -> Iterator[None]:
    path = env_dir / ".reconciler" / "apply.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PlanRefused(
                BUSY.format(where=f"this environment folder ({env_dir})", rule=P.APPLY_LOCK_RULE)
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the flock


async def _sentinel_ids(client) -> list[int]:
    rules = await client.call("RpcRules.GetList", P.RULE_TRIGGER_OPTION_ALL)
    return sorted(r["ID"] for r in rules if r.get("Name") == P.APPLY_LOCK_RULE)


@contextlib.asynccontextmanager
async def server_lock(client, label: str) -> AsyncIterator[dict]:
    """Yields the preflight's RpcServerInfo, so reading the state need not preflight again."""
    # preflight first (in the same round): never create the sentinel on a server we refuse
    info, ids = await gather_all(preflight(client, label), _sentinel_ids(client))
    if not ids:
        sentinel = {
            "Name": P.APPLY_LOCK_RULE,
            "Kind": P.RULE_KIND_SCRIPT,
            "State": 0,  # inactive, no triggers: it never runs
            "Triggers": 0,
            "SourceCode": "// held by greyhound-reconciler while an apply runs; never active",
        }
        await create_object(client, Kind.RULE, sentinel)
        ids = await _sentinel_ids(client)
    rule_id = ids[0]
    try:
        await client.call("RpcRules.Lock", rule_id)
    except LockedError:
        raise PlanRefused(BUSY.format(where=label, rule=P.APPLY_LOCK_RULE)) from None
    for extra in ids[1:]:  # a lost creation race left a second sentinel: tidy it away
        with contextlib.suppress(Exception):
            await client.call("RpcRules.Delete", extra)
    try:
        yield info
    finally:
        with contextlib.suppress(Exception):
            await client.call("RpcRules.Unlock", rule_id)
