"""`reconciler status`: state, last error, error count, ownership and drift per account."""

from __future__ import annotations

import json

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

NAMES = ["Support", "Sales"]


def _applied(tmp_path, emulator):
    env = make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    secrets = secrets_for(*NAMES)
    applied = run_cli("apply", str(env), "--auto-approve", env=dict(secrets, GIT_COMMIT="c0ffee1"))
    assert applied.code == 0, applied.text
    return env, secrets


def _obj(store, cls, name):
    (obj,) = [o for o in store.objects[cls].values() if o["Name"] == name]
    return obj


def test_status_shows_errors_ownership_and_drift(tmp_path, emulator):
    env, secrets = _applied(tmp_path, emulator)
    store = emulator.store
    # the server's own view: fetching failed three times
    sales = _obj(store, "RpcPop3Accounts", "Sales")
    sales.update(ErrorCount=3, Message="-ERR [AUTH] Authentication failed.")
    # changed in the GREYHOUND client since the last apply
    _obj(store, "RpcSmtpAccounts", "Support")["Port"] = 465
    _obj(store, "RpcGroups", "Sales")["Email"] = "verkauf@shop.example"
    # deleted by hand
    signature = _obj(store, "RpcSignatures", "Support")
    del store.objects["RpcSignatures"][signature["ID"]]
    # created by hand: unmanaged
    store.seed(
        {"RpcSmtpAccounts": [{"Name": "Newsletter", "Host": "smtp.news.example", "State": 1}]}
    )

    result = run_cli("status", str(env), env=secrets)
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert lines[0] == f"GREYHOUND 5.3.0 at {emulator.url} (greyhound-emulator)"
    assert lines[1].startswith("Last apply: plan ") and ", commit c0ffee1 at " in lines[1]
    assert [line.rstrip() for line in lines[3:9]] == [
        "  ACCOUNT            STATE   ERRORS  OAUTH2  OWNER                       DRIFT                     LAST ERROR",
        "  pop3 'Sales'       active  3       -       managed                     in sync                   -ERR [AUTH] Authentication failed.",
        "  pop3 'Support'     active  0       -       managed                     in sync                   -",
        "  smtp 'Newsletter'  active  0       -       unmanaged, not in manifest  -                         -",
        "  smtp 'Sales'       active  0       -       managed                     in sync                   -",
        "  smtp 'Support'     active  0       -       managed                     changed outside the tool  -",
    ]  # fmt: skip
    assert "Changed outside the tool since the last apply: group 'Sales'" in result.out
    assert "Deleted outside the tool since the last apply: signature/Support" in result.out
    assert lines[-1] == "5 account(s), 5 active, 1 active with errors."

    doc = json.loads(run_cli("status", str(env), "--format", "json", env=secrets).out)
    by = {(a["kind"], a["name"]): a for a in doc["accounts"]}
    assert by[("pop3", "Sales")]["error_count"] == 3
    assert by[("pop3", "Sales")]["last_error"] == "-ERR [AUTH] Authentication failed."
    assert by[("smtp", "Support")]["drift"] == "changed outside the tool"
    assert by[("smtp", "Newsletter")]["managed"] is False
    assert doc["unhealthy"] == ["pop3/Sales"]
    assert doc["applied"]["commit"] == "c0ffee1"

    failing = run_cli("status", str(env), "--fail-on-error", env=secrets)
    assert failing.code == 1


def test_status_needs_only_the_api_password(tmp_path, emulator):
    env, _ = _applied(tmp_path, emulator)
    result = run_cli("status", str(env), env={"GH_PASSWORD": secrets_for()["GH_PASSWORD"]})
    assert result.code == 0, result.text
    assert result.out.splitlines()[-1] == "4 account(s), 4 active, 0 active with errors."


def test_status_of_a_server_without_marker(tmp_path, emulator):
    env = make_env(tmp_path / "env", emulator.url, [pop3("Support")], [smtp("Support")])
    emulator.store.seed({"RpcPop3Accounts": [{"Name": "Support", "Host": "pop.shop.example"}]})
    result = run_cli("status", str(env), env=secrets_for("Support"))
    assert result.code == 0, result.text
    assert "Last apply: none recorded (no marker on this server)" in result.out
    assert "  pop3 'Support'  inactive  0       -       unmanaged  -      -" in result.out
