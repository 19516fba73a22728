"""Read the whole live state in one round of concurrent calls; write objects safely."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.greyhound import mapping
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import GreyhoundError, VersionError
from reconciler.greyhound.rpc import RpcClient
from reconciler.model.state import Kind, ServerIdentity, State


def server_major(version: str) -> int | None:
    head = version.strip().split(".")[0]
    return int(head) if head.isdigit() else None


async def fetch_state(client: RpcClient, base_url: str) -> State:
    """All lists at once: one round trip of 9 concurrent calls, whatever the number of objects."""
    (
        info,
        status,
        pop3,
        smtp,
        groups,
        signatures,
        filters,
        rules,
        blacklist,
    ) = await asyncio.gather(
        client.call("RpcInfo.GetServerInfo", False),
        client.call("RpcInfo.GetServerStatus"),
        client.call("RpcPop3Accounts.GetList"),
        client.call("RpcSmtpAccounts.GetList"),
        client.call("RpcGroups.GetCompleteList", False),
        client.call("RpcSignatures.GetList", False),
        client.call("RpcFilters.GetCompleteList", False),
        client.call("RpcRules.GetList", P.RULE_TRIGGER_OPTION_ALL),
        client.call("RpcRules.GetGlobal", P.BLACKLIST_GLOBAL),
    )
    version = str(info.get("Version", ""))
    major = server_major(version)
    if major is None or major < P.MIN_SERVER_MAJOR:
        raise VersionError(
            f"GREYHOUND at {base_url} reports version {version or 'unknown'}; "
            f"Elements needs version {P.MIN_SERVER_MAJOR} or newer: upgrade the server first"
        )
    failing = [c for c in P.STATUS_COMPONENTS if status.get(c) == P.STATUS_FAILURE]
    if failing:
        raise GreyhoundError(
            f"GREYHOUND at {base_url} reports failing components: {', '.join(failing)}"
        )

    state = State(
        server=ServerIdentity(url=base_url, version=version, hostname=str(info.get("Hostname", "")))
    )
    group_names = {g["ID"]: g["Name"] for g in groups}
    filter_names = {f["ID"]: f["Name"] for f in filters}
    for obj in pop3:
        state.add(mapping.pop3_from_rpc(obj))
    for obj in smtp:
        state.add(mapping.smtp_from_rpc(obj))
    for obj in groups:
        state.add(mapping.group_from_rpc(obj))
    for obj in signatures:
        state.add(mapping.signature_from_rpc(obj, group_names))
    for obj in filters:
        state.add(mapping.filter_from_rpc(obj, filter_names, group_names))
    for obj in rules:
        state.add(mapping.rule_from_rpc(obj))
    bl = mapping.blacklist_from_global(blacklist)
    if bl is not None:
        state.add(bl)
    return state


async def locked_update(
    client: RpcClient, kind: Kind, object_id: int, changes: dict[str, Any]
) -> None:
    """Lock -> Get -> apply changes -> Put -> Unlock; Unlock runs on every path."""
    cls = mapping.RPC_CLASS[kind]
    await client.call(f"{cls}.Lock", object_id)
    try:
        current = await client.call(f"{cls}.Get", object_id)
        current.update(changes)
        if "Password" in current and not changes.get("Password"):
            current.pop("Password")  # write-only: never send back the empty placeholder
        await client.call(f"{cls}.Put", current)
    finally:
        await client.call(f"{cls}.Unlock", object_id)
