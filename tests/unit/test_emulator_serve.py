"""`reconciler emulator serve` as a process, TLS serving, and simulated mail endpoints."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import ConnectionCheckFailed, RpcError
from tests.conformance.sync import SyncRpc
from tests.helpers import REPO, run_cli

PASSWORD = "serve-Secret-3"


def _serve(*args: str) -> tuple[subprocess.Popen, str]:
    """Start the emulator process; returns it and the URL it reports on stderr."""
    env = {**os.environ, "GREYHOUND_EMULATOR_PASSWORD": PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", *args],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stderr.readline()
    match = re.search(r"serving (\S+)/json", line)
    if not match:
        process.kill()
        raise AssertionError(f"no URL in {line!r}: {process.stderr.read()}")
    return process, match.group(1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)
    process.stderr.close()


def test_serve_with_tls_seed_version_and_latency(tmp_path, mail_tls):
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({"RpcGroups": [{"ID": 12, "Name": "Support", "Email": "s@x.example"}]})
    )
    process, url = _serve(
        "--state", str(tmp_path / "state.json"),
        "--seed", str(seed),
        "--server-version", "5.7.1",
        "--tls-cert", str(mail_tls.cert_file),
        "--tls-key", str(mail_tls.key_file),
        "--latency", "0.1",
    )  # fmt: skip
    try:
        assert url.startswith("https://127.0.0.1:")
        verify = ssl.create_default_context(cafile=str(mail_tls.ca_file))
        with SyncRpc(url, "admin", PASSWORD, verify=verify) as rpc:
            started = time.monotonic()
            assert rpc("RpcInfo.GetServerInfo", False)["Version"] == "5.7.1"
            assert time.monotonic() - started >= 0.1
            (group,) = rpc("RpcGroups.GetCompleteList", False)
            assert (group["ID"], group["Name"]) == (12, "Support")
            assert rpc("RpcGroups.New", {"ID": 0, "Name": "Sales"}) == 13
    finally:
        _stop(process)
    state = json.loads((tmp_path / "state.json").read_text())
    assert sorted(state["objects"]["RpcGroups"]) == ["12", "13"]
    assert state["config"]["server_version"] == "5.7.1"


def test_serve_refuses_bad_options_with_one_line(tmp_path):
    state = tmp_path / "state.json"
    Store(state)
    seed = tmp_path / "seed.json"
    seed.write_text("{}")
    exists = run_cli("emulator", "serve", "--state", str(state), "--seed", str(seed))
    assert exists.code == 1
    assert exists.err == (
        f"error: {state} exists: --seed starts a new state; add --reset to discard the existing one\n"
    )
    seed.write_text('{"RpcGroup": []}')
    bad_seed = run_cli(
        "emulator", "serve", "--state", str(tmp_path / "new.json"), "--seed", str(seed)
    )
    assert bad_seed.code == 1
    assert bad_seed.err.startswith(f"error: seed {seed}: unknown key(s) RpcGroup; expected ")
    assert not (tmp_path / "new.json").exists()  # nothing half-made
    rates = run_cli(
        "emulator", "serve", "--state", str(state), "--error-rate", "0.7", "--drop-rate", "0.7"
    )
    assert rates.code == 1
    assert "error_rate + drop_rate + lost_reply_rate must not exceed 1" in rates.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("emulator", "serve", "--state", str(state), "--port", str(port))
    assert busy.code == 1
    assert busy.err == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    for result in (exists, bad_seed, rates, busy):
        assert "Traceback" not in result.text


def test_a_stalled_tls_handshake_does_not_block_other_clients(tmp_path, mail_tls):
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": PASSWORD}))
    with RunningEmulator(store, tls=(mail_tls.cert_file, mail_tls.key_file)) as emulator:
        host, port = emulator.httpd.server_address[:2]
        with socket.create_connection((host, port)):  # connects, never says hello
            verify = ssl.create_default_context(cafile=str(mail_tls.ca_file))
            response = httpx.get(emulator.url + "/json", verify=verify, timeout=3)
            assert response.status_code == 404
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(emulator.url + "/json", timeout=3)  # untrusted: refused, server fine
            assert httpx.get(emulator.url + "/json", verify=verify, timeout=3).status_code == 404


@pytest.fixture
def simulated(tmp_path):
    endpoint = {
        "protocol": "pop3",
        "host": "pop.demo.example",
        "port": 995,
        "security": "ssl",
        "username": "support@demo.example",
        "password": "pop3-endpoint-Secret",
    }
    config = EmulatorConfig(users={"admin": PASSWORD}, endpoints=[endpoint])
    with (
        RunningEmulator(Store(tmp_path / "state.json", config)) as emulator,
        SyncRpc(emulator.url, "admin", PASSWORD) as rpc,
    ):
        yield rpc


def _item(**changes) -> dict:
    item = {
        "Authenticate": 0,
        "Encrypt": 1,
        "Host": "POP.demo.example",
        "Password": "pop3-endpoint-Secret",
        "Port": 995,
        "SslKind": 0,
        "Timeout": 5,
        "Username": "support@demo.example",
    }
    item.update(changes)
    return item


def test_simulated_endpoint_answers_like_a_server(simulated):
    assert simulated("RpcPop3Accounts.CheckConnection", _item()) == 0
    with pytest.raises(ConnectionCheckFailed) as wrong_password:
        simulated("RpcPop3Accounts.CheckConnection", _item(Password="wrong"))
    assert wrong_password.value.rpc_message == (
        "pop.demo.example:995: login failed: -ERR [AUTH] Authentication failed."
    )
    with pytest.raises(ConnectionCheckFailed) as wrong_mode:
        simulated("RpcPop3Accounts.CheckConnection", _item(Encrypt=2))
    assert wrong_mode.value.rpc_message == (
        "pop.demo.example:995: connection failed: the server expects ssl but starttls was used"
    )
    with pytest.raises(RpcError) as not_an_item:
        simulated("RpcPop3Accounts.CheckConnection", _item(Name="x"))
    assert not_an_item.value.code == P.FAULT_INVALID_PARAMS
    with pytest.raises(RpcError, match="member 'Encrypt': 5 is not a value of its enum"):
        simulated("RpcPop3Accounts.CheckConnection", _item(Encrypt=5))
