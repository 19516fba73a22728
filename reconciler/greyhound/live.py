"""Talk to a live GREYHOUND: preflight, read the whole state in two round trips, write safely.

Writes go through the helpers at the bottom. When a write's answer is lost (`OutcomeUnknown`), they
re-read the server to learn whether it happened before trying again, so nothing is created twice:
`create_object` looks the object up by Name via GetList, `delete_object` checks that Get says
"not found", the others read the value back and compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from reconciler.greyhound import mapping
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import (
    GreyhoundError,
    NotFoundError,
    OutcomeUnknown,
    ServerStatusError,
    TransportError,
    VersionError,
)
from reconciler.greyhound.rpc import RpcClient
from reconciler.model.state import Kind, ServerIdentity, State

log = logging.getLogger("reconciler.greyhound")

# How each kind is listed: method and parameters (the choice is an assumption, see protocol.py).
LIST_CALLS: dict[Kind, tuple[str, tuple[Any, ...]]] = {
    kind: (f"{cls}.{P.LIST_METHODS[cls][0]}", P.LIST_METHODS[cls][1])
    for kind, cls in mapping.RPC_CLASS.items()
}


def server_major(version: str) -> int | None:
    match = re.search(P.VERSION_PATTERN, version)
    return int(match.group(1)) if match else None


async def gather_all(*calls: Awaitable[Any]) -> list[Any]:
    """Like asyncio.gather, but the first failure cancels the rest and waits for them."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def preflight(client: RpcClient, base_url: str) -> dict[str, Any]:
    """Reachable, login accepted, version >= 5, no failing component; returns RpcServerInfo."""
    info, status = await gather_all(
        client.call("RpcInfo.GetServerInfo", False), client.call("RpcInfo.GetServerStatus")
    )
    version = str(info.get("Version", "")) if isinstance(info, dict) else ""
    major = server_major(version)
    if major is None or major < P.MIN_SERVER_MAJOR:
        raise VersionError(
            f"GREYHOUND at {base_url} reports version {version or 'unknown'}; "
            f"Elements needs version {P.MIN_SERVER_MAJOR} or newer: upgrade the server first"
        )
    status = status if isinstance(status, dict) else {}
    failing = [c for c in P.STATUS_COMPONENTS if status.get(c) == P.STATUS_FAILURE]
    if failing:
        raise ServerStatusError(
            f"GREYHOUND at {base_url} reports failing components: {', '.join(failing)}; "
            "fix the server before changing its configuration"
        )
    return info


async def list_objects(client: RpcClient, kind: Kind) -> list[dict[str, Any]]:
    method, params = LIST_CALLS[kind]
    return await client.call(method, *params) or []


async def fetch_state(
    client: RpcClient, base_url: str, info: dict[str, Any] | None = None
) -> State:
    """Preflight, then every list at once: two round trips whatever the number of objects (one
    when the caller already ran the preflight and passes its RpcServerInfo)."""
    if info is None:
        info = await preflight(client, base_url)
    kinds = list(LIST_CALLS)
    *lists, blacklist = await gather_all(
        *(list_objects(client, kind) for kind in kinds),
        client.call("RpcRules.GetGlobal", P.BLACKLIST_GLOBAL),
    )
    objects = dict(zip(kinds, lists, strict=True))
    state = State(
        server=ServerIdentity(
            url=base_url,
            version=str(info.get("Version", "")),
            hostname=str(info.get("Hostname", "")),
        )
    )
    group_names = {g["ID"]: g["Name"] for g in objects[Kind.GROUP]}
    filter_names = {f["ID"]: f["Name"] for f in objects[Kind.FILTER]}
    for obj in objects[Kind.POP3]:
        state.add(mapping.pop3_from_rpc(obj))
    for obj in objects[Kind.SMTP]:
        state.add(mapping.smtp_from_rpc(obj))
    for obj in objects[Kind.GROUP]:
        state.add(mapping.group_from_rpc(obj))
    for obj in objects[Kind.SIGNATURE]:
        state.add(mapping.signature_from_rpc(obj, group_names))
    for obj in objects[Kind.FILTER]:
        state.add(mapping.filter_from_rpc(obj, filter_names, group_names))
    for obj in objects[Kind.RULE]:
        state.add(mapping.rule_from_rpc(obj))
    bl = mapping.blacklist_from_global(blacklist)
    if bl is not None:
        state.add(bl)
    return state


# --- writes ---------------------------------------------------------------------------------------
class _NotDone:
    """What a re-read returns when the write did not happen."""


NOT_DONE = _NotDone()


async def write(
    client: RpcClient, method: str, *params: Any, done: Callable[[], Awaitable[Any]]
) -> Any:
    """Send a write; when its answer is lost, ask `done()` (a re-read) before sending it again.

    `done()` returns NOT_DONE when the write did not happen, else what the write would have returned.
    """
    attempts = client.retries + 1
    for attempt in range(attempts):
        try:
            return await client.call(method, *params)
        except OutcomeUnknown as exc:
            lost = exc
            log.info("%s; reading the server back before trying again", exc)
        outcome = await done()
        if outcome is not NOT_DONE:
            return outcome
        if attempt + 1 < attempts:
            await asyncio.sleep(client.retry_delay(attempt))
    raise TransportError(f"{lost} (gave up after {attempts} attempt(s))")


async def create_object(client: RpcClient, kind: Kind, obj: dict[str, Any]) -> int:
    """`<Class>.New(obj)` -> new ID. After a lost answer, an object of that Name found via GetList
    is the one we created: it is adopted instead of creating a second one."""
    name = obj["Name"]

    async def created() -> Any:
        ids = [o["ID"] for o in await list_objects(client, kind) if o.get("Name") == name]
        return max(ids) if ids else NOT_DONE

    cls = mapping.RPC_CLASS[kind]
    return await write(client, f"{cls}.New", {**obj, "ID": P.NEW_OBJECT_ID}, done=created)


async def locked_update(
    client: RpcClient, kind: Kind, object_id: int, changes: dict[str, Any]
) -> None:
    """Lock -> Get -> apply changes -> Put -> Unlock; Unlock runs on every path."""
    cls = mapping.RPC_CLASS[kind]
    await client.call(f"{cls}.Lock", object_id)
    try:
        current = await client.call(f"{cls}.Get", object_id)
        wanted = {**current, **changes}
        if not changes.get("Password"):
            wanted.pop("Password", None)  # write-only: never send back the empty placeholder
        readable = {k: v for k, v in changes.items() if k != "Password"}

        async def landed() -> Any:
            now = await client.call(f"{cls}.Get", object_id)
            same = all(now.get(k) == v for k, v in readable.items())
            return None if same and readable else NOT_DONE

        await write(client, f"{cls}.Put", wanted, done=landed)
    except BaseException:
        # the first error is the one to report; Logout releases our locks [I]
        with contextlib.suppress(GreyhoundError):
            await client.call(f"{cls}.Unlock", object_id)
        raise
    try:
        await client.call(f"{cls}.Unlock", object_id)
    except GreyhoundError as exc:
        error = GreyhoundError(f"{cls} {object_id} was updated but could not be unlocked: {exc}")
        error.code, error.rpc_message = exc.code, exc.rpc_message
        raise error from None


async def delete_object(client: RpcClient, kind: Kind, object_id: int) -> None:
    cls = mapping.RPC_CLASS[kind]

    async def gone() -> Any:
        try:
            await client.call(f"{cls}.Get", object_id)
        except NotFoundError:
            return None
        return NOT_DONE

    if P.DELETE_NEEDS_LOCK:
        await client.call(f"{cls}.Lock", object_id)
    await write(client, f"{cls}.Delete", object_id, done=gone)


async def set_parent(client: RpcClient, kind: Kind, object_id: int, parent_id: int) -> None:
    cls = mapping.RPC_CLASS[kind]

    async def moved() -> Any:
        now = await client.call(f"{cls}.Get", object_id)
        return None if now.get("ParentRef", P.NO_PARENT) == parent_id else NOT_DONE

    await write(client, f"{cls}.SetParent", object_id, parent_id, done=moved)


async def put_global(client: RpcClient, name: str, value: str) -> None:
    async def stored() -> Any:
        return None if await client.call("RpcRules.GetGlobal", name) == value else NOT_DONE

    await write(client, "RpcRules.PutGlobal", name, value, done=stored)
