"""CheckConnection really connects: the emulator against real aiosmtpd and dovecot servers.

Good credentials, bad password, wrong TLS mode and an unreachable port, for SMTP and POP3, over the
emulator's JSON-RPC API; then `apply` verifying accounts against those servers before activating.
"""

from __future__ import annotations

import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from reconciler.greyhound import protocol as P
from reconciler.greyhound.errors import ConnectionCheckFailed
from tests.conformance.sync import SyncRpc
from tests.helpers import make_env, run_cli, secrets_for
from tests.mailservers import HOST, POP3_USERS, SMTP_USERS, closed_port

NONE, SSL, STARTTLS = 0, 1, 2
SMTP_USER, SMTP_PASSWORD = next(iter(SMTP_USERS.items()))
POP3_USER, POP3_PASSWORD = next(iter(POP3_USERS.items()))
API_PASSWORD = secrets_for()["GH_PASSWORD"]


@pytest.fixture(scope="module")
def checker(tmp_path_factory, mail_tls):
    """An emulator whose CheckConnection trusts the test CA (as a server would trust a real CA)."""
    config = EmulatorConfig(users={"admin": API_PASSWORD}, mail_ca_file=str(mail_tls.ca_file))
    store = Store(tmp_path_factory.mktemp("mailcheck") / "state.json", config)
    with RunningEmulator(store) as emulator, SyncRpc(emulator.url, "admin", API_PASSWORD) as rpc:
        yield emulator, rpc


def _item(port: int, encrypt: int, user: str, password: str, auth: int, timeout: int = 5) -> dict:
    return {
        "Authenticate": auth,
        "Encrypt": encrypt,
        "Host": HOST,
        "Password": password,
        "Port": port,
        "SslKind": 0,
        "Timeout": timeout,
        "Username": user,
    }


def _smtp(checker, port, encrypt, password=SMTP_PASSWORD, timeout=5):
    _, rpc = checker
    item = _item(port, encrypt, SMTP_USER, password, 1, timeout)
    return rpc("RpcSmtpAccounts.CheckConnection", item)


def _pop3(checker, port, encrypt, password=POP3_PASSWORD, user=POP3_USER, timeout=5):
    _, rpc = checker
    item = _item(port, encrypt, user, password, 0, timeout)
    return rpc("RpcPop3Accounts.CheckConnection", item)


def _failure(call, *args, **kwargs) -> str:
    with pytest.raises(ConnectionCheckFailed) as caught:
        call(*args, **kwargs)
    assert caught.value.code == P.FAULT_CONNECTION_FAILED
    text = str(caught.value)
    assert SMTP_PASSWORD not in text and POP3_PASSWORD not in text
    return caught.value.rpc_message


# --- SMTP (aiosmtpd) ----------------------------------------------------------------------------
def test_smtp_good_credentials_in_each_security_mode(checker, smtp_servers):
    assert _smtp(checker, smtp_servers["starttls"].port, STARTTLS) is None
    assert _smtp(checker, smtp_servers["ssl"].port, SSL) is None
    assert _smtp(checker, smtp_servers["none"].port, NONE) is None


def test_smtp_bad_password(checker, smtp_servers):
    port = smtp_servers["starttls"].port
    message = _failure(_smtp, checker, port, STARTTLS, password="wrong-Password-1")
    assert message == f"{HOST}:{port}: login failed: 535 5.7.8 Authentication credentials invalid"


def test_smtp_wrong_tls_mode(checker, smtp_servers):
    starttls, ssl_port = smtp_servers["starttls"].port, smtp_servers["ssl"].port
    # implicit TLS against a STARTTLS port: the server speaks plain text first
    assert _failure(_smtp, checker, starttls, SSL).startswith(
        f"{HOST}:{starttls}: connection failed: TLS error ("
    )
    # no TLS where the server offers AUTH only after STARTTLS
    assert _failure(_smtp, checker, starttls, NONE) == (
        f"{HOST}:{starttls}: login failed: the server offers no login (AUTH) on this connection: "
        "does it need ssl or starttls?"
    )
    # STARTTLS against an implicit-TLS port: the greeting never comes in plain text
    assert _failure(_smtp, checker, ssl_port, STARTTLS, timeout=1) == (
        f"{HOST}:{ssl_port}: connection failed: timed out: is the security setting right for "
        "this port?"
    )


def test_smtp_unreachable_port(checker):
    port = closed_port()
    assert _failure(_smtp, checker, port, STARTTLS) == (
        f"{HOST}:{port}: connection failed: connection refused"
    )


def test_smtp_untrusted_certificate(tmp_path, smtp_servers):
    """Without the test CA the server's certificate is rejected, as GREYHOUND would."""
    store = Store(tmp_path / "state.json", EmulatorConfig(users={"admin": API_PASSWORD}))
    with RunningEmulator(store) as emulator, SyncRpc(emulator.url, "admin", API_PASSWORD) as rpc:
        message = _failure(_smtp, (emulator, rpc), smtp_servers["ssl"].port, SSL)
    assert "connection failed: TLS certificate not trusted" in message


# --- POP3 (dovecot) ---------------------------------------------------------------------------
def test_pop3_good_credentials_count_waiting_messages(checker, pop3_server):
    assert _pop3(checker, pop3_server.ssl_port, SSL) == 2
    assert _pop3(checker, pop3_server.plain_port, STARTTLS) == 2
    assert _pop3(checker, pop3_server.plain_port, NONE) == 2
    other, password = list(POP3_USERS.items())[1]
    assert _pop3(checker, pop3_server.ssl_port, SSL, password=password, user=other) == 0


def test_pop3_bad_password(checker, pop3_server):
    port = pop3_server.ssl_port
    message = _failure(_pop3, checker, port, SSL, password="wrong-Password-1")
    assert message == f"{HOST}:{port}: login failed: -ERR [AUTH] Authentication failed."


def test_pop3_wrong_tls_mode(checker, pop3_server):
    plain, implicit = pop3_server.plain_port, pop3_server.ssl_port
    assert _failure(_pop3, checker, plain, SSL).startswith(
        f"{HOST}:{plain}: connection failed: TLS error ("
    )
    # plain text against implicit TLS: no greeting arrives before the item's timeout
    assert _failure(_pop3, checker, implicit, NONE, timeout=1) == (
        f"{HOST}:{implicit}: connection failed: timed out: is the security setting right for "
        "this port?"
    )


def test_pop3_unreachable_port(checker):
    port = closed_port()
    assert _failure(_pop3, checker, port, SSL) == (
        f"{HOST}:{port}: connection failed: connection refused"
    )


# --- apply verifies against the real servers before activating ------------------------------------
def test_apply_verifies_against_real_servers(tmp_path, checker, smtp_servers, pop3_server):
    emulator, _ = checker
    account = {
        "name": "Support",
        "host": HOST,
        "username": POP3_USER,
        "group_email": "support@shop.example",
    }
    pop3 = {**account, "port": pop3_server.ssl_port, "security": "ssl"}
    pop3["password"] = {"env": "PW_SUPPORT_POP3"}
    smtp = {**account, "port": smtp_servers["starttls"].port, "security": "starttls"}
    smtp.update(username=SMTP_USER, password={"env": "PW_SUPPORT_SMTP"})
    smtp.pop("group_email")
    env = make_env(tmp_path / "env", emulator.url, [pop3], [smtp])
    secrets = {"GH_PASSWORD": API_PASSWORD, "PW_SUPPORT_POP3": POP3_PASSWORD}
    secrets["PW_SUPPORT_SMTP"] = "wrong-Password-1"
    failed = run_cli("apply", str(env), "--auto-approve", env=secrets)
    assert failed.code == 6, failed.text
    assert "verify pop3 'Support': done" in failed.out
    assert "2 message(s) waiting" in failed.out
    assert "verify smtp 'Support': failed" in failed.out
    assert "535 5.7.8 Authentication credentials invalid" in failed.out
    states = {o["Name"]: o["State"] for o in emulator.store.objects["RpcSmtpAccounts"].values()}
    assert states == {"Support": 0}  # stays inactive
    secrets["PW_SUPPORT_SMTP"] = SMTP_PASSWORD
    fixed = run_cli("apply", str(env), "--auto-approve", "--sync-passwords", env=secrets)
    assert fixed.code == 0, fixed.text
    for value in (POP3_PASSWORD, SMTP_PASSWORD, API_PASSWORD, "wrong-Password-1"):
        assert value not in failed.text + fixed.text
    states = {o["Name"]: o["State"] for o in emulator.store.objects["RpcSmtpAccounts"].values()}
    assert states == {"Support": 1}
