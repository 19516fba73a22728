"""The emulator's documented behaviour, state and fault injection (over its real HTTP socket)."""

from __future__ import annotations

import base64
import json
import os
import time

import httpx
import pytest

from reconciler.emulator.faults import Fault, FaultConfig, FaultInjector
from reconciler.emulator.server import RunningEmulator, parse_basic_auth
from reconciler.emulator.store import EmulatorConfig, StateError, Store
from reconciler.greyhound import protocol as P
from reconciler.greyhound.rpc import new_client_id

PASSWORD = "emu-unit-Secret-2"
CID = "0dbf642994040c70b4f3d975cc076cda"


@pytest.fixture
def emu(tmp_path):
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": PASSWORD}))
    with RunningEmulator(store) as running:
        yield running


def _post(emu, body, *, client_id=CID, user="admin", password=PASSWORD, raw=None):
    token = base64.b64encode(f"{client_id}-{user}:{password}".encode("cp1252")).decode()
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(
        emu.url + "/json", content=content, headers={"Authorization": f"Basic {token}"}, timeout=10
    )


def _call(emu, method, *params, client_id=CID):
    body = {"version": "1.1", "method": method, "params": list(params)}
    answer = _post(emu, body, client_id=client_id).json()
    return answer.get("error") or answer["result"]


def _fault(emu, method, *params, client_id=CID) -> tuple[int, str]:
    error = _call(emu, method, *params, client_id=client_id)
    assert isinstance(error, dict) and "code" in error, error
    return error["code"], error["message"]


# --- login ------------------------------------------------------------------------------------
def test_basic_auth_splits_after_the_32_character_client_id():
    def header(login: str, password: str = "pw") -> str:
        return "Basic " + base64.b64encode(f"{login}:{password}".encode("cp1252")).decode()

    assert parse_basic_auth(header(f"{CID}-admin")) == (CID, "admin", "pw")
    assert parse_basic_auth(header(f"{CID}-mail-admin", "pä:ss")) == (CID, "mail-admin", "pä:ss")
    assert parse_basic_auth(header("admin")) is None  # no client id
    assert parse_basic_auth(header(f"{CID[:-1]}-admin")) is None  # 31 characters
    assert parse_basic_auth(header(f"{CID}admin")) is None  # no dash
    assert parse_basic_auth(header(f"{CID}-")) is None  # no user
    assert parse_basic_auth("Basic ***") is None
    assert parse_basic_auth("Bearer x") is None
    assert parse_basic_auth(None) is None


@pytest.mark.parametrize(
    "options",
    [{"password": "wrong"}, {"user": "nobody"}, {"client_id": "not-a-client-id"}],
)
def test_bad_credentials_are_http_401(emu, options):
    response = _post(emu, {"version": "1.1", "method": "RpcInfo.GetServerStatus"}, **options)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="GREYHOUND"'
    assert httpx.post(emu.url + "/json", json={}).status_code == 401  # no header at all


def test_only_post_json_is_served(emu):
    assert httpx.get(emu.url + "/json").status_code == 404
    assert httpx.post(emu.url + "/xmlrpc", json={}).status_code == 404


# --- envelope faults --------------------------------------------------------------------------
def test_malformed_requests_are_faults_with_http_200(emu):
    not_json = _post(emu, None, raw=b"{nope")
    assert not_json.status_code == 200
    assert not_json.json()["error"]["code"] == P.FAULT_INVALID_PARAMS
    no_method = _post(emu, {"version": "1.1", "params": [], "id": 5}).json()
    assert no_method == {
        "version": "1.1",
        "error": {
            "name": "JSONRPCError",
            "code": P.FAULT_INVALID_PARAMS,
            "message": "the request needs a method",
        },
        "id": 5,
    }
    named = _fault(emu, "RpcGroups.Get", {"ID": 1})
    assert named[0] == P.FAULT_INVALID_PARAMS
    body = {"version": "1.1", "method": "RpcGroups.Get", "params": {"ID": 1}}
    assert _post(emu, body).json()["error"]["message"] == "params must be an array"


@pytest.mark.parametrize(
    "method",
    ["RpcGroups.Nothing", "RpcNothing.Get", "RpcInfo.Nothing", "RpcUsers.Nothing", "RpcGroups",
     "RpcGroups.CheckConnection", "RpcSignatures.SetParent"],
)  # fmt: skip
def test_unknown_methods(emu, method):
    assert _fault(emu, method) == (P.FAULT_UNKNOWN_METHOD, f"unknown method {method!r}")


def test_parameter_count_and_types(emu):
    assert _fault(emu, "RpcGroups.Get") == (
        P.FAULT_INVALID_PARAMS,
        "RpcGroups.Get: expected 1 parameter(s), got 0",
    )
    assert _fault(emu, "RpcGroups.Get", True) == (
        P.FAULT_INVALID_PARAMS,
        "RpcGroups.Get: parameter 1 must be int, got bool",
    )
    assert _fault(emu, "RpcRules.GetList", 3) == (
        P.FAULT_INVALID_PARAMS,
        "RpcRules.GetList: RpcTriggerOption is 0..2",
    )


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"Name": "x", "Encrypt": 3}, "member 'Encrypt': 3 is not a value of its enum (0..2)"),
        ({"Name": "x", "Flags": 1024}, "member 'Flags': 1024 is not a bitmask of its set (0..1023)"),
        ({"Name": "x", "Port": "995"}, "member 'Port' must be int, got string"),
        ({"Name": "x", "DeleteSync": 1}, "member 'DeleteSync' must be boolean, got int"),
        ({"Name": "x", "Colour": 1}, "unknown member 'Colour'"),
    ],
)  # fmt: skip
def test_members_are_checked_like_the_documented_types(emu, obj, message):
    assert _fault(emu, "RpcPop3Accounts.New", obj) == (
        P.FAULT_INVALID_PARAMS,
        f"RpcPop3Accounts.New: {message}",
    )
    assert emu.store.count("RpcPop3Accounts") == 0


def test_nested_members_are_checked(emu):
    assert _fault(emu, "RpcFilters.New", {"Name": "f", "GroupRefs": ["1"]})[1] == (
        "RpcFilters.New: member 'GroupRefs' must be an array of int"
    )
    bad_link = {"Name": "s", "Groups": [{"GroupRef": 1}]}
    assert _fault(emu, "RpcSignatures.New", bad_link)[1] == (
        "RpcSignatures.New: member 'Groups' must be an array of {GroupRef: int, DefaultKinds: int}"
    )


# --- objects, locks, passwords ------------------------------------------------------------------
def test_new_ignores_id_and_computed_members(emu):
    sent = {"ID": 77, "Name": "G", "Email": "g@x.example", "Path": "/forged", "Created": "then"}
    new_id = _call(emu, "RpcGroups.New", sent)
    stored = emu.store.objects["RpcGroups"][new_id]
    assert new_id == 1 and stored["ID"] == 1
    assert stored["Path"] == "" and stored["Created"] != "then"


def test_passwords_are_write_only(emu):
    new_id = _call(emu, "RpcSmtpAccounts.New", {"Name": "S", "Password": "first-Secret"})
    assert _call(emu, "RpcSmtpAccounts.Get", new_id)["Password"] == ""
    assert _call(emu, "RpcSmtpAccounts.GetList")[0]["Password"] == ""
    current = _call(emu, "RpcSmtpAccounts.Get", new_id)
    _call(emu, "RpcSmtpAccounts.Lock", new_id)
    _call(emu, "RpcSmtpAccounts.Put", {**current, "Port": 25})  # "" keeps the password
    assert emu.store.objects["RpcSmtpAccounts"][new_id]["Password"] == "first-Secret"
    _call(emu, "RpcSmtpAccounts.Put", {**current, "Password": "second-Secret"})
    assert emu.store.objects["RpcSmtpAccounts"][new_id]["Password"] == "second-Secret"
    assert "second-Secret" not in json.dumps(_call(emu, "RpcSmtpAccounts.GetList"))


def test_locks_belong_to_one_client_id(emu):
    other = new_client_id()
    group = _call(emu, "RpcGroups.New", {"Name": "G"})
    current = _call(emu, "RpcGroups.Get", group)
    assert _fault(emu, "RpcGroups.Put", current) == (
        P.FAULT_NOT_LOCKED,
        f"RpcGroups.Put: object {group} must be locked before Put",
    )
    assert _call(emu, "RpcGroups.Lock", group) is None
    assert _call(emu, "RpcGroups.Lock", group) is None  # ours already: fine
    lock = _call(emu, "RpcGroups.GetLockData", group, client_id=other)
    assert lock == {"LockState": P.LOCK_LOCKED, "UserRef": 1, "UserName": "admin"}
    for method, params in [
        ("RpcGroups.Lock", [group]),
        ("RpcGroups.Unlock", [group]),
        ("RpcGroups.Put", [current]),
        ("RpcGroups.Delete", [group]),
        ("RpcGroups.SetParent", [group, 0]),
    ]:
        code, message = _fault(emu, method, *params, client_id=other)
        assert (code, message) == (
            P.FAULT_LOCKED_BY_OTHER,
            f"{method}: object {group} is locked by another client",
        )
    _call(emu, "RpcUsers.Logout")  # releases our lock
    assert _call(emu, "RpcGroups.Delete", group, client_id=other) is None


@pytest.mark.parametrize("method", ["Get", "Lock", "Unlock", "Delete", "GetLockData"])
def test_unknown_ids(emu, method):
    assert _fault(emu, f"RpcFilters.{method}", 404) == (
        P.FAULT_NOT_FOUND,
        "RpcFilters: object 404 does not exist",
    )


def test_set_parent_checks_both_ids(emu):
    child = _call(emu, "RpcFilters.New", {"Name": "C"})
    assert _fault(emu, "RpcFilters.SetParent", child, 404)[0] == P.FAULT_NOT_FOUND
    assert _fault(emu, "RpcFilters.SetParent", child, child)[1] == (
        "RpcFilters.SetParent: an object cannot be its own parent"
    )


def test_group_reports_its_default_email_signature(emu):
    group = _call(emu, "RpcGroups.New", {"Name": "G"})
    link = {"GroupRef": group, "DefaultKinds": P.SIGNATURE_KIND_EMAIL}
    signature = _call(emu, "RpcSignatures.New", {"Name": "G", "Groups": [link]})
    assert _call(emu, "RpcGroups.Get", group)["Signatures"] == {"EmailSignatureRef": signature}


# --- server info, sessions --------------------------------------------------------------------
def test_server_info_version_and_advanced_fields(emu):
    emu.store.config.server_version = "4.2.1"
    info = _call(emu, "RpcInfo.GetServerInfo", False)
    assert info["Version"] == "4.2.1"
    assert "CPU" not in info
    assert _call(emu, "RpcInfo.GetServerInfo", True)["CPU"] == "emulated"


def test_client_id_limit_per_user_and_expiry(emu):
    emu.store.config.max_clients_per_user = 2
    first, second, third = (new_client_id() for _ in range(3))
    _call(emu, "RpcInfo.GetServerStatus", client_id=first)
    group = _call(emu, "RpcGroups.New", {"Name": "G"}, client_id=first)
    _call(emu, "RpcGroups.Lock", group, client_id=first)
    _call(emu, "RpcInfo.GetServerStatus", client_id=second)
    code, message = _fault(emu, "RpcInfo.GetServerStatus", client_id=third)
    assert code == P.FAULT_TOO_MANY_CLIENTS
    assert message == (
        "too many client connections for user 'admin' (limit 2); reuse one client id per session"
    )
    emu.store.config.session_idle_seconds = 0.05
    time.sleep(0.1)
    assert _call(emu, "RpcInfo.GetServerStatus", client_id=third)["AppServer"] == 0
    assert emu.store.locks == {}  # the expired session's lock went with it


# --- persistence and seeding ------------------------------------------------------------------------
def test_state_survives_a_restart_and_writes_are_atomic(tmp_path, emu):
    group = _call(emu, "RpcGroups.New", {"Name": "G", "Email": "g@x.example"})
    _call(emu, "RpcRules.PutGlobal", "Elements.X", "[1]")
    reloaded = Store(tmp_path / "state.json")
    assert reloaded.objects["RpcGroups"][group]["Email"] == "g@x.example"
    assert reloaded.globals == {"Elements.X": "[1]"}
    assert reloaded.next_id == group + 1
    assert reloaded.config.users == {"admin": PASSWORD}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temp files left


def test_a_failed_write_leaves_the_previous_state(tmp_path, monkeypatch):
    store = Store(tmp_path / "state.json")
    store.globals["kept"] = "1"
    store.save()
    store.globals["lost"] = "2"

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save()
    monkeypatch.undo()
    assert Store(tmp_path / "state.json").globals == {"kept": "1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_an_unreadable_state_file_is_a_clear_error(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": 99}')
    with pytest.raises(StateError) as caught:
        Store(path)
    assert str(caught.value) == (
        f"emulator state {path} cannot be read: not an emulator state file of format 1; "
        "delete it to start over"
    )


def test_seed_keeps_ids_and_references(tmp_path):
    store = Store(tmp_path / "state.json")
    store.seed(
        {
            "RpcGroups": [{"ID": 40, "Name": "Support", "Email": "s@x.example"}],
            "RpcSignatures": [{"Name": "Support", "Groups": [{"GroupRef": 40, "DefaultKinds": 1}]}],
            "RpcPop3Accounts": [{"ID": 7, "Name": "Support", "State": 1, "Password": "p-Secret"}],
            "globals": {P.BLACKLIST_GLOBAL: '["x@y.example"]'},
        }
    )
    assert set(store.objects["RpcGroups"]) == {40}
    assert set(store.objects["RpcPop3Accounts"]) == {7}
    (signature,) = store.objects["RpcSignatures"].values()
    assert signature["ID"] == 41 and signature["Groups"][0]["GroupRef"] == 40
    assert store.next_id == 42
    assert store.objects["RpcPop3Accounts"][7]["Encrypt"] == 1  # template default filled in
    assert Store(tmp_path / "state.json").globals == {P.BLACKLIST_GLOBAL: '["x@y.example"]'}


@pytest.mark.parametrize(
    "seed, message",
    [
        ([], "seed: expected a JSON object with class names as keys"),
        ({"RpcUnknown": []}, "seed: unknown key(s) RpcUnknown; expected RpcPop3Accounts, "
         "RpcSmtpAccounts, RpcGroups, RpcSignatures, RpcFilters, RpcRules or globals"),
        ({"RpcGroups": {}}, "seed: RpcGroups must be a list of objects"),
        ({"RpcGroups": [{"Name": "G", "Colour": 1}]}, "seed: RpcGroups[0]: unknown member 'Colour'"),
        ({"RpcGroups": [{"ID": 3, "Name": "A"}, {"ID": 3, "Name": "B"}]},
         "seed: RpcGroups[1]: ID 3 is not a free positive int"),
        ({"RpcGroups": [{"Name": 5}]}, "seed: RpcGroups[0] must be an object with a Name"),
        ({"globals": {"a": 1}}, "seed: globals must map names to strings"),
    ],
)  # fmt: skip
def test_bad_seeds_are_refused_whole(tmp_path, seed, message):
    store = Store(tmp_path / "state.json")
    with pytest.raises(StateError) as caught:
        store.seed(seed)
    assert str(caught.value) == message
    assert all(not objs for objs in store.objects.values())


# --- fault injection ----------------------------------------------------------------------------
def test_fault_config_is_validated():
    with pytest.raises(ValueError, match="error_rate must be between 0 and 1"):
        FaultConfig(error_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        FaultConfig(error_rate=0.6, drop_rate=0.6)
    with pytest.raises(ValueError, match="latency_max >= latency"):
        FaultConfig(latency=0.2, latency_max=0.1)
    with pytest.raises(TypeError, match="unknown fault setting"):
        FaultInjector().configure(eror_rate=0.1)
    assert FaultConfig(latency=0.05, error_rate=0.2).describe() == "latency=0.05, error_rate=0.2"
    assert not FaultConfig(seed=3).active


def test_fault_draws_follow_the_rates():
    injector = FaultInjector(
        FaultConfig(error_rate=0.1, drop_rate=0.2, lost_reply_rate=0.3, seed=1)
    )
    for _ in range(10_000):
        injector.draw()
    shares = {k: v / 10_000 for k, v in injector.counts.items()}
    assert shares["error"] == pytest.approx(0.1, abs=0.02)
    assert shares["drop"] == pytest.approx(0.2, abs=0.02)
    assert shares["lost_reply"] == pytest.approx(0.3, abs=0.02)
    assert shares["none"] == pytest.approx(0.4, abs=0.02)


def test_random_latency_stays_in_its_range():
    injector = FaultInjector(FaultConfig(latency=0.01, latency_max=0.03, seed=2))
    delays = [injector.delay() for _ in range(200)]
    assert min(delays) >= 0.01 and max(delays) <= 0.03
    assert max(delays) - min(delays) > 0.01


def test_each_fault_on_the_wire(emu):
    body = {"version": "1.1", "method": "RpcGroups.New", "params": [{"Name": "G"}]}
    emu.faults.script(Fault.ERROR)
    error = _post(emu, body)
    assert (error.status_code, error.headers["Retry-After"]) == (503, "1")
    emu.faults.script(Fault.DROP)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(emu, body)
    assert emu.store.count("RpcGroups") == 0  # dropped before processing
    emu.faults.script(Fault.LOST_REPLY)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(emu, body)
    assert emu.store.count("RpcGroups") == 1  # processed, answer lost
    emu.faults.configure(down=True)
    assert _post(emu, body).status_code == 503
    emu.faults.configure(down=False, latency=0.2)
    started = time.monotonic()
    assert _post(emu, body).status_code == 200
    assert time.monotonic() - started >= 0.2
    assert emu.faults.counts == {"error": 1, "drop": 1, "lost_reply": 1, "down": 1, "none": 1}
