"""API-level conformance: what greyhound-rpc.md documents, and the assumptions of protocol.py.

Every test runs against the emulator (HTTPS on a real socket) and, when configured, against a real
GREYHOUND (see conftest.py). A failure against a real server means an assumption in
reconciler/greyhound/protocol.py (listed in docs/greyhound-api.md) is wrong for that server.
"""

from __future__ import annotations

import pytest

from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import (
    AuthError,
    ConnectionCheckFailed,
    LockedError,
    NotFoundError,
    NotLockedError,
    RpcError,
)
from reconciler.greyhound.live import LIST_CALLS, create_object, locked_update, server_major
from reconciler.greyhound.mapping import RPC_CLASS
from reconciler.model.state import Kind
from tests.conformance.sync import SyncRpc

MISSING_ID = 987_654_321


def _pop3(name: str, **extra) -> dict:
    obj = {
        "ID": 0,
        "Name": name,
        "Host": "pop.conformance.example",
        "Port": 995,
        "Encrypt": 1,
        "Authenticate": 0,
        "Username": "conformance@shop.example",
        "Password": "conformance-pop3-Secret",
        "State": 0,
    }
    obj.update(extra)
    return obj


def _new(rpc, cleanup, kind: Kind, obj: dict) -> int:
    object_id = rpc.run(create_object(rpc.client, kind, obj))
    cleanup.append((kind, object_id))
    return object_id


# --- authentication and envelope (greyhound-rpc.md §1.2-1.4) ----------------------------------------
def test_bad_password_is_http_401(server):
    response = server.raw(
        {"version": "1.1", "method": "RpcInfo.GetServerStatus", "params": []},
        password=server.password + "-wrong",
    )
    assert response.status_code == 401


def test_bad_password_is_an_auth_error_in_the_client(server):
    wrong = server.password + "-wrong"
    with (
        SyncRpc(server.url, server.user, wrong, verify=server.verify) as rpc,
        pytest.raises(AuthError) as caught,
    ):
        rpc("RpcInfo.GetServerStatus")
    assert "HTTP 401" in str(caught.value)
    assert server.password not in str(caught.value)


def test_result_envelope_echoes_the_id_only_when_sent(server):
    body = {"version": "1.1", "method": "RpcInfo.GetServerStatus", "params": []}
    with_id = server.raw({**body, "id": 42}).json()
    without_id = server.raw(body).json()
    assert with_id["id"] == 42
    assert "id" not in without_id
    assert isinstance(with_id["result"], dict)
    assert "error" not in with_id


def test_unknown_method_is_a_fault_of_code_700_or_more_with_http_200(server):
    response = server.raw({"version": "1.1", "method": "RpcNoSuchClass.Nothing", "params": []})
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["code"] >= P.FAULT_OFFSET
    assert error["code"] == P.FAULT_UNKNOWN_METHOD
    assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(
    "method, params",
    [
        ("RpcInfo.GetServerInfo", []),  # one parameter missing
        ("RpcInfo.GetServerInfo", [False, True]),  # one too many
        ("RpcPop3Accounts.Get", ["1"]),  # string instead of int
        ("RpcGroups.GetCompleteList", [0]),  # int instead of boolean
    ],
)
def test_wrong_parameter_count_or_type_is_a_fault(rpc, method, params):
    with pytest.raises(RpcError) as caught:
        rpc(method, *params)
    assert caught.value.code == P.FAULT_INVALID_PARAMS


def test_unknown_id_is_not_found(rpc):
    for kind in (Kind.POP3, Kind.SMTP, Kind.GROUP, Kind.FILTER):
        with pytest.raises(NotFoundError) as caught:
            rpc(f"{RPC_CLASS[kind]}.Get", MISSING_ID)
        assert caught.value.code == P.FAULT_NOT_FOUND


# --- server info (preflight) --------------------------------------------------------------------
def test_server_info_and_status(rpc):
    info = rpc("RpcInfo.GetServerInfo", False)
    assert isinstance(info["Version"], str)
    assert server_major(info["Version"]) >= P.MIN_SERVER_MAJOR
    status = rpc("RpcInfo.GetServerStatus")
    for component in P.STATUS_COMPONENTS:
        assert status[component] in (0, 1, 2)  # RpcStatusFlag as int


def test_every_list_is_an_array_of_structs_with_id_and_name(rpc, cleanup, unique):
    _new(rpc, cleanup, Kind.GROUP, {"Name": unique, "Email": "list@shop.example"})
    for kind, (method, params) in LIST_CALLS.items():
        items = rpc(method, *params)
        assert isinstance(items, list), kind
        for item in items:
            assert isinstance(item["ID"], int) and isinstance(item["Name"], str), kind
    groups = rpc(*LIST_CALLS[Kind.GROUP][:1], *LIST_CALLS[Kind.GROUP][1])
    assert [g["Email"] for g in groups if g["Name"] == unique] == ["list@shop.example"]


# --- create / read / update / delete (§3.2, §1.8) ---------------------------------------------------
def test_new_ignores_the_sent_id_and_returns_a_new_one(rpc, cleanup, unique):
    first = rpc("RpcGroups.New", {"ID": MISSING_ID, "Name": unique, "Email": "a@shop.example"})
    cleanup.append((Kind.GROUP, first))
    second = rpc("RpcGroups.New", {"ID": first, "Name": unique + "-2", "Email": "b@shop.example"})
    cleanup.append((Kind.GROUP, second))
    assert isinstance(first, int) and first != MISSING_ID
    assert second != first
    assert rpc("RpcGroups.Get", first)["Name"] == unique
    assert rpc("RpcGroups.Get", second)["Name"] == unique + "-2"


def test_enums_and_sets_travel_as_ints(rpc, cleanup, unique):
    sent = {"Encrypt": 2, "Authenticate": 1, "Delete": 2, "DeleteAge": 14, "Flags": 65, "Port": 110}
    object_id = _new(rpc, cleanup, Kind.POP3, _pop3(unique, **sent))
    got = rpc("RpcPop3Accounts.Get", object_id)
    assert {k: got[k] for k in sent} == sent
    assert all(type(got[k]) is int for k in sent)
    assert got["State"] == 0 and got["LockData"]["LockState"] == P.LOCK_UNLOCKED


def test_password_is_never_returned(rpc, cleanup, unique):
    object_id = _new(rpc, cleanup, Kind.POP3, _pop3(unique))
    got = rpc("RpcPop3Accounts.Get", object_id)
    listed = [a for a in rpc("RpcPop3Accounts.GetList") if a["ID"] == object_id]
    assert got.get("Password", "") == ""
    assert listed and listed[0].get("Password", "") == ""
    assert "conformance-pop3-Secret" not in repr(got) + repr(listed)


def test_put_without_lock_is_refused(rpc, cleanup, unique):
    object_id = _new(rpc, cleanup, Kind.GROUP, {"Name": unique, "Email": "a@shop.example"})
    current = rpc("RpcGroups.Get", object_id)
    with pytest.raises(NotLockedError) as caught:
        rpc("RpcGroups.Put", {**current, "Email": "b@shop.example"})
    assert caught.value.code == P.FAULT_NOT_LOCKED
    assert rpc("RpcGroups.Get", object_id)["Email"] == "a@shop.example"


def test_lock_held_by_another_client_id(server, rpc, cleanup, unique):
    object_id = _new(rpc, cleanup, Kind.GROUP, {"Name": unique, "Email": "a@shop.example"})
    rpc("RpcGroups.Lock", object_id)
    assert rpc("RpcGroups.GetLockData", object_id)["LockState"] == P.LOCK_LOCKED
    with server.client() as other:
        current = other("RpcGroups.Get", object_id)
        with pytest.raises(LockedError):
            other("RpcGroups.Lock", object_id)
        with pytest.raises(LockedError):
            other("RpcGroups.Put", {**current, "Email": "other@shop.example"})
        rpc("RpcGroups.Unlock", object_id)
        other.run(locked_update(other.client, Kind.GROUP, object_id, {"Email": "c@shop.example"}))
    assert rpc("RpcGroups.Get", object_id)["Email"] == "c@shop.example"


def test_lock_get_put_unlock_changes_only_the_given_members(rpc, cleanup, unique):
    object_id = _new(rpc, cleanup, Kind.POP3, _pop3(unique))
    rpc.run(locked_update(rpc.client, Kind.POP3, object_id, {"State": 1, "Port": 1995}))
    got = rpc("RpcPop3Accounts.Get", object_id)
    assert (got["State"], got["Port"], got["Host"]) == (1, 1995, "pop.conformance.example")
    assert got["LockData"]["LockState"] == P.LOCK_UNLOCKED


def test_delete_then_get_is_not_found(rpc, unique):
    object_id = rpc("RpcGroups.New", {"ID": 0, "Name": unique, "Email": "a@shop.example"})
    assert rpc("RpcGroups.Delete", object_id) is None
    with pytest.raises(NotFoundError):
        rpc("RpcGroups.Get", object_id)


def test_sub_filter_through_set_parent(rpc, cleanup, unique):
    parent = _new(rpc, cleanup, Kind.FILTER, {"Name": unique})
    child = _new(rpc, cleanup, Kind.FILTER, {"Name": unique + "-child"})
    assert rpc("RpcFilters.SetParent", child, parent) is None
    assert rpc("RpcFilters.Get", child)["ParentRef"] == parent
    rpc("RpcFilters.SetParent", child, P.NO_PARENT)
    assert rpc("RpcFilters.Get", child)["ParentRef"] == P.NO_PARENT


def test_rule_globals_round_trip(rpc, unique):
    name = f"Elements.{unique}"
    assert rpc("RpcRules.PutGlobal", name, '["a@b.example"]') is None
    assert rpc("RpcRules.GetGlobal", name) == '["a@b.example"]'
    rpc("RpcRules.DeleteGlobal", name)
    assert rpc("RpcRules.GetGlobal", name) == ""  # [I] an unknown global reads as ""


def test_rule_list_holds_rule_items(rpc, cleanup, unique):
    rule = {
        "ID": 0,
        "Name": unique,
        "Kind": P.RULE_KIND_SCRIPT,
        "State": 0,
        "Triggers": P.RULE_TRIGGER_AFTER_INCOMING,
        "SourceCode": "// conformance\n",
    }
    object_id = _new(rpc, cleanup, Kind.RULE, rule)
    (item,) = [
        r for r in rpc("RpcRules.GetList", P.RULE_TRIGGER_OPTION_ALL) if r["ID"] == object_id
    ]
    assert (item["Name"], item["Kind"], item["Triggers"]) == (unique, 1, 1)
    assert "SourceCode" not in item  # RpcRuleItem has 11 members, no source
    assert rpc("RpcRules.Get", object_id)["SourceCode"] == "// conformance\n"


# --- CheckConnection (§3.7) ----------------------------------------------------------------------
def test_check_connection_to_a_closed_port_is_a_fault(rpc):
    item = {
        "Authenticate": 0,
        "Encrypt": 0,
        "Host": "127.0.0.1",
        "Password": "x-Secret-1",
        "Port": 1,  # tcpmux: closed on any normal machine
        "SslKind": 0,
        "Timeout": 5,
        "Username": "nobody",
    }
    with pytest.raises(ConnectionCheckFailed) as caught:
        rpc("RpcPop3Accounts.CheckConnection", item)
    assert caught.value.code == P.FAULT_CONNECTION_FAILED
    assert "x-Secret-1" not in str(caught.value)


# --- sessions -------------------------------------------------------------------------------------
def test_logout_ends_the_session_and_releases_its_locks(server, cleanup, unique):
    with server.client() as first:
        object_id = _new(first, cleanup, Kind.GROUP, {"Name": unique, "Email": "a@shop.example"})
        first("RpcGroups.Lock", object_id)
    # leaving the block logged `first` out: its lock is gone, another client may lock
    with server.client() as second:
        second("RpcGroups.Lock", object_id)
        second("RpcGroups.Unlock", object_id)
