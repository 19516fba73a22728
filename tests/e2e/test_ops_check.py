"""`reconciler check`: through the server's CheckConnection, and --direct from this machine."""

from __future__ import annotations

import json
import re

import pytest

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import EmulatorConfig, Store
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp
from tests.mailservers import POP3_USERS, SMTP_USERS


def test_check_through_the_server_reports_each_account(tmp_path, emulator):
    env = make_env(
        tmp_path / "env",
        emulator.url,
        [pop3("Support"), pop3("Sales")],
        [smtp("Support"), smtp("Sales")],
    )
    secrets = dict(secrets_for("Support", "Sales"), PW_SALES_SMTP="a-wrong-password-41")
    result = run_cli("check", str(env), env=secrets)
    assert result.code == 1, result.text
    lines = [re.sub(r"  \d+\.\d\ds$", "", line) for line in result.out.splitlines()]
    assert lines == [
        f"Checking 4 account(s) through GREYHOUND at {emulator.url} (CheckConnection):",
        "  OK      pop3 'Sales'    pop.shop.example:995 ssl  (0 message(s) waiting)",
        "  FAILED  smtp 'Sales'    smtp.shop.example:587 starttls: login failed: 535 5.7.8 Error: "
        "authentication failed",
        "  OK      pop3 'Support'  pop.shop.example:995 ssl  (0 message(s) waiting)",
        "  OK      smtp 'Support'  smtp.shop.example:587 starttls",
        "3 ok, 1 failed, 0 skipped.",
    ]
    assert "a-wrong-password-41" not in result.text
    assert emulator.httpd.methods["RpcPop3Accounts.CheckConnection"] == 2
    assert emulator.httpd.methods["RpcSmtpAccounts.CheckConnection"] == 2
    # nothing was saved: CheckConnection tests settings without storing them
    assert emulator.store.objects["RpcSmtpAccounts"] == {}

    one = run_cli("check", str(env), "--account", "Support", "--format", "json", env=secrets)
    assert one.code == 0, one.text
    doc = json.loads(one.out)
    assert [(r["kind"], r["name"], r["status"]) for r in doc["results"]] == [
        ("pop3", "Support", "ok"),
        ("smtp", "Support", "ok"),
    ]
    assert doc["results"][0]["detail"] == "0 message(s) waiting"

    missing = run_cli("check", str(env), "--account", "Nobody", env=secrets)
    assert missing.code == 1
    assert "the manifest has no account named 'Nobody' (accounts: Sales, Support)" in missing.err


def test_check_only_needs_the_secrets_of_the_checked_account(tmp_path, emulator):
    env = make_env(
        tmp_path / "env",
        emulator.url,
        [pop3("Support"), pop3("Sales")],
        [smtp("Support"), smtp("Sales")],
    )
    secrets = secrets_for("Support")  # no Sales secrets at all
    assert run_cli("check", str(env), "--account", "Support", env=secrets).code == 0
    everything = run_cli("check", str(env), env=secrets)
    assert everything.code == 1
    assert "environment variable PW_SALES_POP3 is not set" in everything.err


def test_oauth2_accounts_are_skipped(tmp_path, emulator):
    billing = pop3("Billing", host="outlook.office365.com", auth="oauth2", password=None)
    del billing["password"]
    env = make_env(tmp_path / "env", emulator.url, [billing], [smtp("Billing")])
    result = run_cli("check", str(env), env=secrets_for("Billing"))
    assert result.code == 0, result.text
    assert (
        "  SKIPPED pop3 'Billing'  outlook.office365.com:995 ssl: OAuth2 accounts log in with a "
        "linked token, not a password: see `reconciler status`"
    ) in result.out
    assert result.out.splitlines()[-1] == "1 ok, 0 failed, 1 skipped."


def _real_server_env(tmp_path, url, smtp_servers, pop3_port):
    pop = {
        "name": "Support",
        "host": "127.0.0.1",
        "port": pop3_port,
        "security": "ssl",
        "username": "support@shop.example",
        "password": {"env": "POP3_PW"},
    }
    out = {
        "name": "Support",
        "host": "127.0.0.1",
        "port": smtp_servers["starttls"].port,
        "security": "starttls",
        "username": "sender@shop.example",
        "password": {"env": "SMTP_PW"},
    }
    return make_env(tmp_path / "env", url, [pop], [out])


@pytest.mark.parametrize("mode", ["server", "direct"])
def test_check_against_real_mail_servers(tmp_path, mode, mail_tls, smtp_servers, pop3_server):
    config = EmulatorConfig(users={"admin": "api-secret-value"}, mail_ca_file=str(mail_tls.ca_file))
    with RunningEmulator(Store(None, config)) as emulator:
        env = _real_server_env(tmp_path, emulator.url, smtp_servers, pop3_server.ssl_port)
        secrets = {
            "GH_PASSWORD": "api-secret-value",
            "POP3_PW": POP3_USERS["support@shop.example"],
            "SMTP_PW": SMTP_USERS["sender@shop.example"],
        }
        extra = ["--direct", "--mail-ca-file", str(mail_tls.ca_file)] if mode == "direct" else []
        good = run_cli("check", str(env), *extra, env=secrets)
        assert good.code == 0, good.text
        assert "(2 message(s) waiting)" in good.out  # dovecot's mailbox for support@ holds two
        assert good.out.splitlines()[-1] == "2 ok, 0 failed, 0 skipped."
        bad = run_cli("check", str(env), *extra, env=dict(secrets, POP3_PW="wrong-pop3-pw-77"))
        assert bad.code == 1
        (line,) = [x for x in bad.out.splitlines() if "FAILED" in x]
        assert line.startswith(
            f"  FAILED  pop3 'Support'  127.0.0.1:{pop3_server.ssl_port} ssl: login failed: -ERR "
        )
        assert "wrong-pop3-pw-77" not in bad.text
        if mode == "direct":
            assert emulator.httpd.requests == 0  # the server was not asked
