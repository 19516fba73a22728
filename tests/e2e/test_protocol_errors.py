"""Server-side trouble gives one clear error line and exit 1: no traceback, no secret.

The CLI runs as a process against an emulator serving HTTPS (trustme certificates) on a real
socket, configured as the case needs: wrong password, version 4.x, a certificate that does not
match, connections dropped, the server down or not there at all.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reconciler.emulator.faults import FaultConfig
from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from tests.helpers import pop3, run_cli, secrets_for, smtp, write_yaml
from tests.mailservers import closed_port

SECRETS = secrets_for("Support")
API_PASSWORD = SECRETS["GH_PASSWORD"]


def _env(folder: Path, url: str, ca_file: Path | None, **greyhound) -> Path:
    connection = {"url": url, "username": "admin", "password": {"env": "GH_PASSWORD"}}
    if ca_file is not None:
        connection["tls"] = {"ca_file": "ca.pem"}
    connection.update(greyhound)
    write_yaml(folder / "environment.yaml", {"greyhound": connection})
    if ca_file is not None:
        shutil.copy(ca_file, folder / "ca.pem")
    write_yaml(
        folder / "accounts.yaml",
        {"pop3_accounts": [pop3("Support")], "smtp_accounts": [smtp("Support")]},
    )
    return folder


def _emulator(tmp_path, cert, **config):
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": API_PASSWORD}, **config))
    return RunningEmulator(store, tls=cert)


def _one_error_line(result, *secrets_used: str) -> str:
    assert result.code == 1, result.text
    assert result.out == ""
    assert "Traceback" not in result.text
    for value in (*SECRETS.values(), *secrets_used):
        assert value not in result.text
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.fixture
def served(mail_tls):
    return mail_tls.cert_file, mail_tls.key_file


def test_bad_credentials(tmp_path, mail_tls, served):
    with _emulator(tmp_path, served) as emulator:
        env = _env(tmp_path / "env", emulator.url, mail_tls.ca_file)
        wrong = "wrong-Api-Password-7"
        result = run_cli("plan", str(env), env={**SECRETS, "GH_PASSWORD": wrong})
        # (that a 401 is never retried is pinned in tests/unit/test_rpc.py::test_bad_password)
        assert emulator.store.sessions == {}  # no request got past the login
    line = _one_error_line(result, wrong)
    assert line == (
        f"error: GREYHOUND at {emulator.url} refused the login of user 'admin' (HTTP 401): "
        "check greyhound.username and the password"
    )


@pytest.mark.parametrize("version", ["4.2.1", "4.0"])
def test_old_server_version_is_refused(tmp_path, mail_tls, served, version):
    with _emulator(tmp_path, served, server_version=version) as emulator:
        env = _env(tmp_path / "env", emulator.url, mail_tls.ca_file)
        result = run_cli("apply", str(env), "--auto-approve", env=SECRETS)
        assert emulator.store.count("RpcPop3Accounts") == 0
    assert _one_error_line(result) == (
        f"error: GREYHOUND at {emulator.url} reports version {version}; Elements needs version 5 "
        "or newer: upgrade the server first"
    )


def test_untrusted_certificate(tmp_path, served):
    with _emulator(tmp_path, served) as emulator:
        env = _env(tmp_path / "env", emulator.url, None)  # no CA file: the system CAs only
        result = run_cli("plan", str(env), env=SECRETS)
    assert _one_error_line(result) == (
        f"error: cannot connect to GREYHOUND at {emulator.url}: TLS certificate verification "
        "failed (unable to get local issuer certificate); for a self-signed server set "
        "greyhound.tls.ca_file"
    )


def test_certificate_for_another_host(tmp_path, mail_tls):
    cert = mail_tls.ca.issue_cert("greyhound.other.example")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "other.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "other.key"))
    with _emulator(tmp_path, (tmp_path / "other.pem", tmp_path / "other.key")) as emulator:
        env = _env(tmp_path / "env", emulator.url, mail_tls.ca_file)
        result = run_cli("plan", str(env), env=SECRETS)
    assert _one_error_line(result) == (
        f"error: cannot connect to GREYHOUND at {emulator.url}: TLS certificate verification "
        "failed (IP address mismatch, certificate is not valid for '127.0.0.1'.); for a "
        "self-signed server set greyhound.tls.ca_file"
    )


def test_server_that_drops_connections(tmp_path, mail_tls, served):
    with _emulator(tmp_path, served) as emulator:
        emulator.faults.configure(drop_rate=1.0)
        env = _env(tmp_path / "env", emulator.url, mail_tls.ca_file, retries=2)
        result = run_cli("plan", str(env), env=SECRETS)
        dropped = emulator.faults.counts["drop"]
    line = _one_error_line(result)
    # whichever of the first round's concurrent reads gave up first names itself
    assert re.fullmatch(
        rf"error: GREYHOUND at {re.escape(emulator.url)} dropped the connection during "
        r"(RpcInfo\.GetServerInfo|RpcInfo\.GetServerStatus|RpcRules\.GetGlobal) "
        r"\(gave up after 3 attempt\(s\)\)",
        line,
    ), line
    assert dropped >= 3  # the read that gave up was tried 3 times


def test_server_down(tmp_path, mail_tls, served):
    with _emulator(tmp_path, served) as emulator:
        emulator.faults.configure(down=True)
        env = _env(tmp_path / "env", emulator.url, mail_tls.ca_file, retries=1)
        result = run_cli("plan", str(env), env=SECRETS)
    line = _one_error_line(result)
    assert re.fullmatch(
        rf"error: GREYHOUND at {re.escape(emulator.url)} answered HTTP 503 to "
        r"(RpcInfo\.GetServerInfo|RpcInfo\.GetServerStatus|RpcRules\.GetGlobal) "
        r"\(gave up after 2 attempt\(s\)\)",
        line,
    ), line


def test_nothing_listening(tmp_path, mail_tls):
    url = f"https://127.0.0.1:{closed_port()}"
    env = _env(tmp_path / "env", url, mail_tls.ca_file, retries=1)
    result = run_cli("plan", str(env), env=SECRETS)
    assert _one_error_line(result) == (
        f"error: cannot connect to GREYHOUND at {url}: connection refused "
        "(gave up after 2 attempt(s))"
    )


def test_plain_http_needs_an_explicit_opt_in(tmp_path):
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": API_PASSWORD}))
    with RunningEmulator(store, faults=FaultConfig()) as emulator:
        env = _env(tmp_path / "env", emulator.url, None)
        refused = run_cli("plan", str(env), env=SECRETS)
        assert emulator.httpd.requests == 0
        allowed = run_cli("plan", str(env), "--allow-http", env=SECRETS)
    assert refused.code == 1 and "Traceback" not in refused.text
    # the manifest lint warns about the http URL first; then the one error line
    expected = (
        f"error: {emulator.url} is plain HTTP: credentials would cross the network unencrypted. "
        "Use https://, or set `greyhound.allow_http: true` (or --allow-http) for a local test server"
    )
    lines = refused.err.splitlines()
    assert [line for line in lines if line.startswith("error:")] == [expected]
    assert lines[-1] == expected
    assert allowed.code == 0, allowed.text
    assert (
        f"warning: using plain HTTP to {emulator.url}: the password is sent unencrypted"
        in allowed.err.splitlines()
    )
