"""The JSON-RPC client: envelope, typed errors, retries, and no duplicates after lost answers.

Transport behaviour is tested against the emulator on a real socket with scripted faults; the
parsing of answer shapes no server of ours produces uses httpx's MockTransport.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections import Counter

import httpx
import pytest

from reconciler.emulator.faults import Fault
from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import (
    AuthError,
    ConnectionCheckFailed,
    LockedError,
    NotFoundError,
    OutcomeUnknown,
    RpcError,
    ServerStatusError,
    TooManyClientsError,
    TransportError,
    VersionError,
)
from reconciler.greyhound.live import (
    LIST_CALLS,
    create_object,
    delete_object,
    fetch_state,
    locked_update,
    preflight,
    put_global,
    server_major,
    set_parent,
)
from reconciler.greyhound.rpc import RpcClient, is_repeatable, new_client_id
from reconciler.model.state import Kind
from tests.conformance.sync import SyncRpc
from tests.mailservers import closed_port

PASSWORD = "rpc-unit-Secret-1"


@pytest.fixture
def emu(tmp_path):
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": PASSWORD}))
    with RunningEmulator(store) as running:
        yield running


def _rpc(emu, **options) -> SyncRpc:
    return SyncRpc(emu.url, "admin", PASSWORD, **options)


def _names(emu, cls: str) -> Counter:
    return Counter(o["Name"] for o in emu.store.objects[cls].values())


# --- identity and envelope --------------------------------------------------------------------------
def test_client_id_is_32_hex_and_random():
    ids = {new_client_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def _capture(handler):
    seen: list[httpx.Request] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return seen, httpx.MockTransport(transport)


def _mock_client(handler, **options) -> tuple[SyncRpc, list[httpx.Request]]:
    seen, transport = _capture(handler)
    rpc = SyncRpc("https://gh.example", "admin", "pässword", transport=transport, **options)
    return rpc, seen


def test_request_envelope_and_credentials():
    rpc, seen = _mock_client(lambda r: httpx.Response(200, json={"version": "1.1", "result": 7}))
    assert rpc("RpcPop3Accounts.Get", 3) == 7
    assert rpc("RpcInfo.GetServerStatus") == 7
    first, second = seen
    assert str(first.url) == "https://gh.example/json"
    body = json.loads(first.content)
    assert body == {"version": "1.1", "method": "RpcPop3Accounts.Get", "params": [3], "id": 1}
    assert json.loads(second.content)["params"] == []
    user, _, password = base64.b64decode(first.headers["Authorization"][6:]).partition(b":")
    assert user == f"{rpc.client.client_id}-admin".encode()
    assert password == "pässword".encode("cp1252")  # [S-PHP] windows-1252 credentials
    assert second.headers["Authorization"] == first.headers["Authorization"]  # one id per run
    assert f"ghclient={rpc.client.client_id}" in first.headers["Cookie"]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"version": "1.1", "error": {"name": "JSONRPCError", "code": 703, "message": "gone"}},
         (NotFoundError, 703, "gone")),
        ({"faultCode": 705, "faultString": "locked\nby Bob"}, (LockedError, 705, "locked by Bob")),
        ({"error": {"faultCode": "707", "faultString": "too many"}}, (TooManyClientsError, 707, "too many")),
        ({"error": {"code": 799, "message": "odd"}}, (RpcError, 799, "odd")),
        ({"error": "plain text"}, (RpcError, 0, "plain text")),
    ],
)  # fmt: skip
def test_fault_shapes_become_typed_errors(answer, expected):
    rpc, _ = _mock_client(lambda r: httpx.Response(200, json=answer))
    with pytest.raises(RpcError) as caught:
        rpc("RpcGroups.Get", 1)
    kind, code, message = expected
    assert type(caught.value) is kind
    assert (caught.value.code, caught.value.rpc_message) == (code, message)
    assert str(caught.value) == f"RpcGroups.Get failed with RPC fault {code}: {message}"


def test_missing_result_of_a_procedure_is_none():
    rpc, _ = _mock_client(lambda r: httpx.Response(200, json={"version": "1.1"}))
    assert rpc("RpcGroups.Unlock", 1) is None


@pytest.mark.parametrize(
    "response, message",
    [
        (httpx.Response(200, json={"version": "1.1", "result": 1, "id": 99}),
         "answered RpcGroups.Get with the id of another request (99 instead of 1)"),
        (httpx.Response(200, text="<html>proxy</html>"), "answered RpcGroups.Get with something that is not JSON"),
        (httpx.Response(404), "https://gh.example/json not found (HTTP 404)"),
        (httpx.Response(400), "answered HTTP 400 to RpcGroups.Get"),
    ],
)  # fmt: skip
def test_broken_answers_are_transport_errors(response, message):
    rpc, seen = _mock_client(lambda r: response, retries=3)
    with pytest.raises(TransportError) as caught:
        rpc("RpcGroups.Get", 1)
    assert message in str(caught.value)
    assert len(seen) == 1  # permanent: not retried


def test_403_is_an_auth_error():
    rpc, _ = _mock_client(lambda r: httpx.Response(403))
    with pytest.raises(AuthError, match=r"refused the login of user 'admin' \(HTTP 403\)"):
        rpc("RpcInfo.GetServerStatus")


def test_repeatable_methods():
    assert is_repeatable("RpcPop3Accounts.GetList")
    assert is_repeatable("RpcRules.GetGlobal")
    assert is_repeatable("RpcGroups.Lock")
    assert not is_repeatable("RpcGroups.New")
    assert not is_repeatable("RpcGroups.Put")
    assert not is_repeatable("RpcGroups.Delete")
    assert not is_repeatable("RpcRules.PutGlobal")


def test_backoff_doubles_with_jitter_and_a_cap():
    client = RpcClient("https://gh.example", "admin", "x", backoff=0.2)
    for attempt, nominal in enumerate([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]):
        delay = client.retry_delay(attempt)
        assert nominal * 0.5 <= delay <= nominal


# --- against the emulator ----------------------------------------------------------------------------
def test_bad_password(emu):
    with (
        SyncRpc(emu.url, "admin", "wrong-Secret", retries=3) as rpc,
        pytest.raises(AuthError) as caught,
    ):
        rpc("RpcInfo.GetServerStatus")
    assert str(caught.value) == (
        f"GREYHOUND at {emu.url} refused the login of user 'admin' (HTTP 401): "
        "check greyhound.username and the password"
    )
    assert emu.httpd.requests == 1  # not retried


def test_reads_are_retried_after_503_and_dropped_connections(emu):
    emu.faults.script(Fault.ERROR, Fault.DROP, Fault.LOST_REPLY)
    with _rpc(emu, retries=3) as rpc:
        assert rpc("RpcPop3Accounts.GetList") == []
        assert rpc.client.retried == 3
        assert rpc.client.requests == 4


def test_reads_give_up_after_the_retries(emu):
    emu.faults.configure(down=True)
    with _rpc(emu, retries=2) as rpc, pytest.raises(TransportError) as caught:
        rpc("RpcPop3Accounts.GetList")
    assert str(caught.value) == (
        f"GREYHOUND at {emu.url} answered HTTP 503 to RpcPop3Accounts.GetList "
        "(gave up after 3 attempt(s))"
    )
    assert emu.httpd.requests == 3


def test_connection_refused_is_retried_then_reported():
    url = f"http://127.0.0.1:{closed_port()}"
    with SyncRpc(url, "admin", "x", retries=2) as rpc, pytest.raises(TransportError) as caught:
        rpc("RpcInfo.GetServerStatus")
    assert str(caught.value) == (
        f"cannot connect to GREYHOUND at {url}: connection refused (gave up after 3 attempt(s))"
    )
    assert rpc.client.requests == 3


def test_a_write_with_a_lost_answer_is_not_resent_by_call(emu):
    emu.faults.script(Fault.LOST_REPLY)
    with _rpc(emu, retries=3) as rpc, pytest.raises(OutcomeUnknown):
        rpc("RpcGroups.New", {"ID": 0, "Name": "G", "Email": "g@shop.example"})
    assert _names(emu, "RpcGroups") == {"G": 1}  # it did happen, exactly once


def test_create_after_a_lost_answer_adopts_the_object_instead_of_duplicating(emu):
    emu.faults.script(Fault.LOST_REPLY)
    with _rpc(emu, retries=3) as rpc:
        new_id = rpc.run(
            create_object(rpc.client, Kind.GROUP, {"Name": "G", "Email": "g@x.example"})
        )
    assert _names(emu, "RpcGroups") == {"G": 1}
    assert new_id == next(iter(emu.store.objects["RpcGroups"]))
    assert emu.httpd.methods["RpcGroups.New"] == 1
    assert emu.httpd.methods["RpcGroups.GetCompleteList"] == 1  # the re-read by Name


def test_create_after_a_503_or_a_drop_creates_once(emu):
    emu.faults.script(Fault.ERROR, Fault.DROP)
    with _rpc(emu, retries=3, backoff=0.01) as rpc:
        new_id = rpc.run(
            create_object(rpc.client, Kind.GROUP, {"Name": "G", "Email": "g@x.example"})
        )
    assert _names(emu, "RpcGroups") == {"G": 1}
    assert emu.store.objects["RpcGroups"][new_id]["Email"] == "g@x.example"


def test_create_gives_up_when_every_answer_is_lost(emu):
    emu.faults.configure(error_rate=1.0)
    with _rpc(emu, retries=1, backoff=0.01) as rpc, pytest.raises(TransportError) as caught:
        rpc.run(create_object(rpc.client, Kind.GROUP, {"Name": "G", "Email": "g@x.example"}))
    assert "gave up after 2 attempt(s)" in str(caught.value)
    assert emu.store.count("RpcGroups") == 0


def test_locked_update_after_lost_answers_on_every_step(emu):
    with _rpc(emu, retries=3, backoff=0.01) as rpc:
        group = rpc("RpcGroups.New", {"ID": 0, "Name": "G", "Email": "a@x.example"})
        # Lock, Get, Put and Unlock each lose their first answer
        emu.faults.script(Fault.LOST_REPLY, Fault.LOST_REPLY, Fault.LOST_REPLY, Fault.NONE,
                          Fault.LOST_REPLY)  # fmt: skip
        rpc.run(locked_update(rpc.client, Kind.GROUP, group, {"Email": "b@x.example"}))
    assert emu.store.objects["RpcGroups"][group]["Email"] == "b@x.example"
    assert emu.store.locks == {}


def test_unlock_runs_when_put_fails(emu):
    with _rpc(emu) as rpc:
        group = rpc("RpcGroups.New", {"ID": 0, "Name": "G", "Email": "a@x.example"})
        with pytest.raises(RpcError, match="unknown member 'NoSuchMember'"):
            rpc.run(locked_update(rpc.client, Kind.GROUP, group, {"NoSuchMember": 1}))
        assert emu.store.locks == {}
        assert emu.httpd.methods["RpcGroups.Unlock"] == 1


def test_locked_update_refused_while_another_client_holds_the_lock(emu):
    with _rpc(emu) as holder, _rpc(emu) as other:
        group = holder("RpcGroups.New", {"ID": 0, "Name": "G", "Email": "a@x.example"})
        holder("RpcGroups.Lock", group)
        with pytest.raises(LockedError, match="locked by another client"):
            other.run(locked_update(other.client, Kind.GROUP, group, {"Email": "b@x.example"}))
        assert emu.store.locks == {("RpcGroups", group): holder.client.client_id}


def test_delete_set_parent_and_put_global_survive_lost_answers(emu):
    with _rpc(emu, retries=3, backoff=0.01) as rpc:
        parent = rpc("RpcFilters.New", {"ID": 0, "Name": "P"})
        child = rpc("RpcFilters.New", {"ID": 0, "Name": "C"})
        group = rpc("RpcGroups.New", {"ID": 0, "Name": "G", "Email": "a@x.example"})
        emu.faults.script(Fault.LOST_REPLY)
        rpc.run(set_parent(rpc.client, Kind.FILTER, child, parent))
        emu.faults.script(Fault.LOST_REPLY)
        rpc.run(delete_object(rpc.client, Kind.GROUP, group))
        emu.faults.script(Fault.DROP)
        rpc.run(put_global(rpc.client, P.BLACKLIST_GLOBAL, '["x@y.example"]'))
    assert emu.store.objects["RpcFilters"][child]["ParentRef"] == parent
    assert emu.store.count("RpcGroups") == 0
    assert emu.store.globals[P.BLACKLIST_GLOBAL] == '["x@y.example"]'
    assert emu.httpd.methods["RpcFilters.SetParent"] == 1
    assert emu.httpd.methods["RpcGroups.Delete"] == 1
    assert emu.httpd.methods["RpcRules.PutGlobal"] == 1  # the drop was before processing


def test_logout_once_and_only_after_a_login(emu):
    rpc = _rpc(emu)
    rpc("RpcInfo.GetServerStatus")
    rpc("RpcUsers.Logout")  # what the engine calls
    rpc.close()  # and what connect() calls
    assert emu.httpd.methods["RpcUsers.Logout"] == 1
    assert emu.store.sessions["admin"] == {}
    with SyncRpc(emu.url, "admin", "wrong-Secret") as refused, pytest.raises(AuthError):
        refused("RpcInfo.GetServerStatus")
    assert emu.httpd.methods["RpcUsers.Logout"] == 1  # never logged in: no Logout sent


def test_client_id_limit_is_a_typed_error(emu):
    emu.store.config.max_clients_per_user = 2
    first, second, third = _rpc(emu), _rpc(emu), _rpc(emu)
    first("RpcInfo.GetServerStatus")
    second("RpcInfo.GetServerStatus")
    with pytest.raises(TooManyClientsError, match="limit 2"):
        third("RpcInfo.GetServerStatus")
    first.close()
    assert third("RpcInfo.GetServerStatus")["AppServer"] == 0
    second.close()
    third.close()


# --- preflight --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "version, major",
    [("5.3.0", 5), ("5.3.1.4711", 5), ("GREYHOUND 6.0", 6), ("4.2", 4), ("", None), ("beta", None)],
)
def test_server_major(version, major):
    assert server_major(version) == major


def test_preflight_accepts_a_healthy_server_of_version_5(emu):
    with _rpc(emu) as rpc:
        info = rpc.run(preflight(rpc.client, emu.url))
        assert dict(emu.httpd.methods) == {"RpcInfo.GetServerInfo": 1, "RpcInfo.GetServerStatus": 1}
    assert info["Version"] == "5.3.0"


@pytest.mark.parametrize("version", ["4.2.1", "unknown build"])
def test_preflight_refuses_old_or_unreadable_versions(emu, version):
    emu.store.config.server_version = version
    with _rpc(emu) as rpc, pytest.raises(VersionError) as caught:
        rpc.run(preflight(rpc.client, emu.url))
    assert str(caught.value) == (
        f"GREYHOUND at {emu.url} reports version {version}; Elements needs version 5 or newer: "
        "upgrade the server first"
    )


def test_preflight_refuses_a_failing_server(emu):
    emu.store.config.failing_components = ["QueueServer", "CommServer"]
    with _rpc(emu) as rpc, pytest.raises(ServerStatusError) as caught:
        rpc.run(preflight(rpc.client, emu.url))
    assert str(caught.value) == (
        f"GREYHOUND at {emu.url} reports failing components: QueueServer, CommServer; "
        "fix the server before changing its configuration"
    )


def test_fetch_state_reads_everything_in_two_rounds(emu):
    with _rpc(emu) as rpc:
        group = rpc("RpcGroups.New", {"ID": 0, "Name": "Support", "Email": "s@x.example"})
        link = {"GroupRef": group, "DefaultKinds": P.SIGNATURE_KIND_EMAIL}
        rpc("RpcSignatures.New", {"ID": 0, "Name": "Support", "Groups": [link]})
        rpc("RpcPop3Accounts.New", {"ID": 0, "Name": "Support", "Host": "POP.x.example"})
        rpc("RpcRules.PutGlobal", P.BLACKLIST_GLOBAL, '["@spam.example"]')
        before = emu.httpd.requests
        state = rpc.run(fetch_state(rpc.client, emu.url))
        assert emu.httpd.requests - before == 2 + len(LIST_CALLS) + 1  # preflight, lists, global
    assert state.get(Kind.SIGNATURE, "Support").fields == {"group": "Support"}
    assert state.get(Kind.POP3, "Support").fields["host"] == "pop.x.example"
    assert state.get(Kind.BLACKLIST, "blacklist").fields == {"entries": ["@spam.example"]}
    assert state.server.version == "5.3.0"


def test_fetch_state_costs_two_round_trips_not_one_per_call(emu):
    emu.faults.configure(latency=0.15)
    with _rpc(emu) as rpc:
        started = time.monotonic()
        rpc.run(fetch_state(rpc.client, emu.url))
        elapsed = time.monotonic() - started
    # two rounds of 0.15 s; the 9 calls one after another would take 1.35 s
    assert 0.3 <= elapsed < 0.75, elapsed


def test_check_connection_waits_for_the_items_timeout(emu):
    """The server waits for a silent mail server up to the item's Timeout; so must the client."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never greets
        item = {
            "Authenticate": 0,
            "Encrypt": 0,
            "Host": "127.0.0.1",
            "Password": "x",
            "Port": silent.getsockname()[1],
            "SslKind": 0,
            "Timeout": 2,
            "Username": "u",
        }
        with _rpc(emu, timeout=1.0) as rpc, pytest.raises(ConnectionCheckFailed) as caught:
            rpc("RpcPop3Accounts.CheckConnection", item)
    assert caught.value.rpc_message.endswith("connection failed: timed out: is the security "
                                             "setting right for this port?")  # fmt: skip
    assert emu.httpd.methods["RpcPop3Accounts.CheckConnection"] == 1  # answered, not retried
