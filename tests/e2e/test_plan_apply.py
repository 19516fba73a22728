"""CLI against an emulator on a real socket: caps, secrets, safe order."""

from __future__ import annotations

import json
import re

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

NAMES = ["Support", "Sales", "Billing"]


def test_eleventh_pop3_account_is_refused_before_any_call(tmp_path, emulator):
    names = [f"A{i}" for i in range(11)]
    env = make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in names], [smtp(n) for n in names]
    )
    requests_before = emulator.httpd.requests
    result = run_cli("plan", str(env), env=secrets_for(*names))
    assert result.code == 3, result.text
    assert "11 POP3 accounts declared; the cap is 10 accounts per kind" in result.err
    assert "accounts.yaml:" in result.err  # points at the file
    assert "Traceback" not in result.text
    assert emulator.httpd.requests == requests_before  # refused before any API call


def test_secret_values_never_appear_in_plan_or_apply_output(tmp_path, emulator):
    env = make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    secrets = secrets_for(*NAMES)
    outputs = [
        run_cli("plan", str(env), "--format", fmt, env=secrets)
        for fmt in ("text", "markdown", "json")
    ]
    outputs.append(run_cli("apply", str(env), "--auto-approve", env=secrets))
    outputs.append(run_cli("plan", str(env), env=secrets))
    for result in outputs:
        assert result.code == 0, result.text
        for value in secrets.values():
            assert value not in result.text
    assert "(set from env:PW_SUPPORT_POP3)" in outputs[0].out


def test_missing_secret_names_the_reference_and_changes_nothing(tmp_path, emulator):
    env = make_env(tmp_path / "env", emulator.url, [pop3("Support")], [smtp("Support")])
    secrets = secrets_for("Support")
    del secrets["PW_SUPPORT_SMTP"]
    result = run_cli("apply", str(env), "--auto-approve", env=secrets)
    assert result.code == 1
    assert (
        "error: secret for smtp account 'Support' is missing: environment variable PW_SUPPORT_SMTP is not set"
        in result.err
    )
    assert emulator.httpd.store.count("RpcPop3Accounts") == 0


def test_apply_creates_accounts_inactive_then_activates(tmp_path, emulator):
    env = make_env(tmp_path / "env", emulator.url, [pop3("Support")], [smtp("Support")])
    result = run_cli("apply", str(env), "--auto-approve", env=secrets_for("Support"))
    assert result.code == 0, result.text
    lines = [line for line in result.out.splitlines() if line.startswith("[")]
    order = [re.match(r"\[ *\d+/\d+\] (.*?'): ", line).group(1) for line in lines]
    assert order.index("create pop3 'Support'") < order.index("verify pop3 'Support'")
    assert order.index("create rule 'Eingangsverarbeitung: Support'") < order.index(
        "activate pop3 'Support'"
    )
    assert order.index("verify pop3 'Support'") < order.index("activate pop3 'Support'")
    store = emulator.httpd.store
    (account,) = store.objects["RpcPop3Accounts"].values()
    assert account["State"] == 1
    assert account["Password"] == "canary-support-pop3-Q7"  # stored, write-only
    assert account["Delete"] == 1 and account["Encrypt"] == 1 and account["Port"] == 995


def test_plan_json_lists_unmanaged_accounts(tmp_path, emulator):
    emulator.httpd.store.seed(
        {
            "RpcPop3Accounts": [
                {"Name": "Legacy", "Host": "old.example", "State": 1, "Username": "x"}
            ]
        }
    )
    env = make_env(tmp_path / "env", emulator.url, [pop3("Support")], [smtp("Support")])
    result = run_cli("plan", str(env), "--format", "json", env=secrets_for("Support"))
    assert result.code == 0, result.text
    plan = json.loads(result.out)
    assert {"kind": "pop3", "name": "Legacy", "active": True} in plan["unmanaged"]
    assert plan["format_version"] == 1


def test_cap_counts_unmanaged_accounts(tmp_path, emulator):
    emulator.httpd.store.seed(
        {
            "RpcPop3Accounts": [
                {"Name": f"Old{i}", "Host": "old.example", "Username": "x"} for i in range(9)
            ]
        }
    )
    env = make_env(
        tmp_path / "env",
        emulator.url,
        [pop3("Support"), pop3("Sales")],
        [smtp("Support"), smtp("Sales")],
    )
    result = run_cli("plan", str(env), env=secrets_for("Support", "Sales"))
    assert result.code == 4, result.text
    assert "would hold 11 POP3 accounts; the cap is 10" in result.err
    assert "enable `prune: true`" in result.err


def test_every_missing_secret_is_named_at_once_and_a_missing_env_file_is_named(tmp_path, emulator):
    env = make_env(tmp_path / "env", emulator.url, [pop3("Support")], [smtp("Support")])
    secrets = secrets_for("Support")
    del secrets["PW_SUPPORT_POP3"]
    secrets["PW_SUPPORT_SMTP"] = ""
    result = run_cli("plan", str(env), env=secrets)
    assert result.code == 1
    assert "2 secrets are missing:" in result.err
    assert "environment variable PW_SUPPORT_POP3 is not set" in result.err
    assert "environment variable PW_SUPPORT_SMTP is set but empty" in result.err
    make_env(env, emulator.url, [pop3("Support")], [smtp("Support")], env_file="nope.env")
    validated = run_cli("validate", str(env))
    assert validated.code == 0
    assert "warning SECRET-001: env_file: env_file 'nope.env' does not exist (yet)" in validated.err
    planned = run_cli("plan", str(env), env=secrets_for("Support"))
    assert planned.code == 1
    assert "env_file 'nope.env' of the environment does not exist" in planned.err
