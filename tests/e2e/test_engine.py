"""The plan/apply engine against an emulator on a real socket: marker, rotation, drift, saved plans, rails."""

from __future__ import annotations

import json

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

NAMES = ["Support", "Sales"]


def _env(tmp_path, emulator, names=NAMES, **extra):
    return make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in names], [smtp(n) for n in names], **extra
    )


def _apply(env, secrets, *extra):
    result = run_cli("apply", str(env), "--auto-approve", *extra, env=secrets)
    assert result.code == 0, result.text
    return result


def test_password_rotation_is_detected_written_and_then_quiet(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    _apply(env, secrets)
    store = emulator.httpd.store
    # the provider's password changes and the secret follows it
    rotated = dict(secrets, PW_SALES_SMTP="rotated-canary-77")
    for endpoint in store.config.endpoints:
        if endpoint["username"] == "sales@shop.example" and endpoint["protocol"] == "smtp":
            endpoint["password"] = "rotated-canary-77"
    plan = run_cli("plan", str(env), "--detailed-exitcode", env=rotated)
    assert plan.code == 2, plan.text
    assert "password: (recorded) -> (changed)" in plan.out
    assert "rotated-canary-77" not in plan.text
    applied = _apply(env, rotated)
    assert "verify smtp 'Sales': done" in applied.out
    assert "update smtp 'Sales': done" in applied.out
    (sales,) = [o for o in store.objects["RpcSmtpAccounts"].values() if o["Name"] == "Sales"]
    assert sales["Password"] == "rotated-canary-77"
    again = run_cli("plan", str(env), "--detailed-exitcode", env=rotated)
    assert again.code == 0, again.text


def test_rotation_that_fails_verification_keeps_the_old_password(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    _apply(env, secrets)
    wrong = dict(secrets, PW_SALES_POP3="not-the-right-one")
    result = run_cli("apply", str(env), "--auto-approve", env=wrong)
    assert result.code == 6, result.text
    assert "verify pop3 'Sales': failed" in result.out
    assert "update pop3 'Sales': skipped" in result.out
    (sales,) = [
        o for o in emulator.httpd.store.objects["RpcPop3Accounts"].values() if o["Name"] == "Sales"
    ]
    assert sales["Password"] == secrets["PW_SALES_POP3"]
    assert sales["State"] == 1


def test_change_outside_the_tool_is_reported_as_drift(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    _apply(env, secrets)
    store = emulator.httpd.store
    (support,) = [o for o in store.objects["RpcPop3Accounts"].values() if o["Name"] == "Support"]
    support["DeleteSync"] = True  # someone clicked in the GREYHOUND client
    result = run_cli("plan", str(env), "--format", "json", "--detailed-exitcode", env=secrets)
    assert result.code == 2
    (step,) = json.loads(result.out)["steps"]
    assert step["drift"] is True
    assert step["reason"].startswith("changed outside the tool since the last apply (plan ")
    assert step["changes"] == [
        {"field": "delete_sync", "before": True, "after": False, "secret": False}
    ]


def test_saved_plan_applies_and_refuses_when_stale(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    plan_file = tmp_path / "plan.json"
    made = run_cli("plan", str(env), "--out", str(plan_file), env=secrets)
    assert made.code == 0, made.text
    saved = plan_file.read_text()
    for value in secrets.values():
        assert value not in saved
    # somebody creates an account by hand between plan and apply
    emulator.httpd.store.seed(
        {"RpcPop3Accounts": [{"Name": "Manual", "Host": "x.example", "Username": "m"}]}
    )
    stale = run_cli("apply", "--plan", str(plan_file), env=secrets)
    assert stale.code == 5, stale.text
    assert "refusing to apply a stale plan" in stale.err
    assert "pop3/Manual" in stale.err
    assert emulator.httpd.store.count("RpcSmtpAccounts") == 0  # nothing was written

    fresh = run_cli("plan", str(env), "--out", str(plan_file), env=secrets)
    assert fresh.code == 0
    applied = run_cli("apply", "--plan", str(plan_file), env=secrets)
    assert applied.code == 0, applied.text
    assert "Apply finished:" in applied.out


def test_saved_plan_is_bound_to_its_environment(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    other = make_env(tmp_path / "other", emulator.url, [pop3("Support")], [smtp("Support")])
    plan_file = tmp_path / "plan.json"
    assert run_cli("plan", str(env), "--out", str(plan_file), env=secrets).code == 0
    result = run_cli("apply", str(other), "--plan", str(plan_file), env=secrets)
    assert result.code == 5
    assert "was made for" in result.err


def test_saved_plan_refused_after_manifest_change(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    plan_file = tmp_path / "plan.json"
    assert run_cli("plan", str(env), "--out", str(plan_file), env=secrets).code == 0
    accounts = env / "accounts.yaml"
    accounts.write_text(accounts.read_text().replace("port: 995", "port: 2995"))
    result = run_cli("apply", "--plan", str(plan_file), env=secrets)
    assert result.code == 5
    assert "the manifest or a secret changed since the plan was made" in result.err


def test_prune_refuses_active_then_deletes_after_deactivation(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = _env(tmp_path, emulator, prune=True)
    _apply(env, secrets)
    # remove Sales from the manifest: refused while it is active
    make_env(env, emulator.url, [pop3("Support")], [smtp("Support")], prune=True)
    refused = run_cli("plan", str(env), env=secrets)
    assert refused.code == 4, refused.text
    assert "refusing to delete active account(s): pop3 'Sales', smtp 'Sales'" in refused.err
    # the safe path: deactivate first ...
    make_env(
        env,
        emulator.url,
        [pop3("Support"), pop3("Sales", active=False)],
        [smtp("Support"), smtp("Sales", active=False)],
        prune=True,
    )
    deactivated = _apply(env, secrets)
    assert "deactivate pop3 'Sales': done" in deactivated.out
    # ... then delete
    make_env(env, emulator.url, [pop3("Support")], [smtp("Support")], prune=True)
    deleted = _apply(env, secrets)
    assert "delete pop3 'Sales': done" in deleted.out
    assert "delete smtp 'Sales': done" in deleted.out
    names = {o["Name"] for o in emulator.httpd.store.objects["RpcPop3Accounts"].values()}
    assert names == {"Support"}
    assert {o["Name"] for o in emulator.httpd.store.objects["RpcGroups"].values()} == {
        "Support",
        "Sales",
    }


def test_protected_account_is_never_pruned(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = make_env(
        tmp_path / "env",
        emulator.url,
        [pop3("Support"), pop3("Sales", protected=True, active=False)],
        [smtp("Support"), smtp("Sales", protected=True, active=False)],
        prune=True,
    )
    _apply(env, secrets)
    make_env(env, emulator.url, [pop3("Support")], [smtp("Support")], prune=True)
    result = run_cli("plan", str(env), "--force", env=secrets)
    assert result.code == 4, result.text
    assert "refusing to delete protected account(s): pop3 'Sales', smtp 'Sales'" in result.err


def test_empty_manifest_never_deletes_everything_without_acknowledgement(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = _env(tmp_path, emulator, prune=True)
    _apply(
        env,
        secrets,
    )
    make_env(
        env,
        emulator.url,
        [pop3(n, active=False) for n in NAMES],
        [smtp(n, active=False) for n in NAMES],
        prune=True,
    )
    _apply(env, secrets)
    make_env(env, emulator.url, [], [], prune=True)
    result = run_cli("plan", str(env), env=secrets)
    assert result.code == 4
    assert "prune would delete all 4 accounts" in result.err
    assert "--allow-delete-all" in result.err
    acknowledged = run_cli("plan", str(env), "--allow-delete-all", "--force", env=secrets)
    assert acknowledged.code == 0, acknowledged.text
    assert "Plan: 4 to delete." in acknowledged.out


def test_change_share_threshold(tmp_path, emulator):
    names = ["Support", "Sales", "Billing"]
    secrets = secrets_for(*names)
    env = _env(tmp_path, emulator, names)
    _apply(env, secrets)
    make_env(
        env, emulator.url, [pop3(n, port=2995) for n in names], [smtp(n, port=2587) for n in names]
    )
    result = run_cli("plan", str(env), "--max-change-share", "0.1", env=secrets)
    assert result.code == 4
    assert "this plan updates or deletes 6 of" in result.err
    assert run_cli("plan", str(env), "--max-change-share", "0.1", "--force", env=secrets).code == 0


def test_saved_plan_applies_from_another_checkout(tmp_path, emulator):
    """CI plans in one job and applies in another: the plan file names the folder relatively."""
    secrets = secrets_for(*NAMES)
    first, second = tmp_path / "job1", tmp_path / "job2"
    make_env(
        first / "environments" / "prod",
        emulator.url,
        [pop3(n) for n in NAMES],
        [smtp(n) for n in NAMES],
    )
    made = run_cli("plan", "environments/prod", "--out", "plan.json", env=secrets, cwd=first)
    assert made.code == 0, made.text
    assert json.loads((first / "plan.json").read_text())["env_dir"] == "environments/prod"
    import shutil

    shutil.copytree(first, second)
    shutil.rmtree(first)
    elsewhere = run_cli("apply", "--plan", str(second / "plan.json"), env=secrets, cwd=tmp_path)
    assert elsewhere.code == 0, elsewhere.text  # found through the plan file's own folder
    (second / "plan.json").rename(tmp_path / "moved.json")
    lost = run_cli("apply", "--plan", str(tmp_path / "moved.json"), env=secrets, cwd=tmp_path)
    assert lost.code == 1
    assert "cannot find the environment folder" in lost.err


def _popen_apply(env, secrets):
    import os
    import subprocess
    import sys

    from tests.helpers import REPO

    full = {k: v for k, v in os.environ.items() if not k.startswith("DEMO_")} | secrets
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(env), "--auto-approve"],
        cwd=REPO,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_applies_at_once_one_is_refused_and_nothing_is_duplicated(tmp_path, emulator):
    """Two CI jobs from two checkouts against one server: the apply lock lets one through."""
    from collections import Counter

    secrets = secrets_for(*NAMES)
    one = make_env(
        tmp_path / "one", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    two = make_env(
        tmp_path / "two", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    emulator.faults.configure(latency=0.05)  # both are surely inside their run at the same time
    procs = [_popen_apply(one, secrets), _popen_apply(two, secrets)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 4], results
    refused = next(err for code, _out, err in results if code == 4)
    assert "another apply is running against" in refused
    store = emulator.httpd.store
    for cls in (
        "RpcPop3Accounts",
        "RpcSmtpAccounts",
        "RpcGroups",
        "RpcFilters",
        "RpcRules",
        "RpcSignatures",
    ):
        counts = Counter(o["Name"] for o in store.objects[cls].values())
        assert max(counts.values()) == 1, (cls, counts)
    emulator.faults.configure(latency=0.0)
    after = run_cli("plan", str(two), "--detailed-exitcode", env=secrets)
    assert after.code == 0, after.text
    assert "Elements.Reconciler: apply lock" not in after.out  # the mutex is not an unmanaged rule


def test_two_applies_from_one_folder_are_refused_locally(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = _env(tmp_path, emulator)
    emulator.faults.configure(latency=0.05)
    procs = [_popen_apply(env, secrets), _popen_apply(env, secrets)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert sorted(code for code, _o, _e in results) == [0, 4], results
    refused = next(err for code, _out, err in results if code == 4)
    assert "this environment folder" in refused


def test_interrupted_apply_says_how_far_it_got_and_the_next_apply_completes(tmp_path, emulator):
    import signal
    import time

    secrets = secrets_for(*NAMES)
    env = _env(tmp_path, emulator)
    emulator.faults.configure(latency=0.1)
    proc = _popen_apply(env, secrets)
    journal = env / ".reconciler" / "journal.jsonl"
    deadline = time.monotonic() + 60
    # wait until a step has finished (journalled just before it is reported), not a fixed time
    while time.monotonic() < deadline and not (
        journal.exists() and '"status": "done"' in journal.read_text()
    ):
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # what CI sends when a job is cancelled
    code = proc.wait(timeout=60)
    out, err = proc.communicate()
    assert code == 6, (out, err)
    assert "Interrupted after " in err and "Run apply again" in err, err
    assert "Traceback" not in err
    emulator.faults.configure(latency=0.0)
    resumed = run_cli("apply", str(env), "--auto-approve", env=secrets)
    assert resumed.code == 0, resumed.text
    assert "note: the previous apply" in resumed.out
    assert run_cli("plan", str(env), "--detailed-exitcode", env=secrets).code == 0


def test_a_saved_plan_edited_by_hand_is_refused(tmp_path, emulator):
    env, secrets = _env(tmp_path, emulator), secrets_for(*NAMES)
    plan_file = tmp_path / "plan.json"
    assert run_cli("plan", str(env), "--out", str(plan_file), env=secrets).code == 0
    doc = json.loads(plan_file.read_text())
    doc["plan"]["steps"] = [s for s in doc["plan"]["steps"] if s["action"] != "verify"]
    plan_file.write_text(json.dumps(doc))
    result = run_cli("apply", "--plan", str(plan_file), env=secrets)
    assert result.code == 5
    assert "was changed after `plan --out` wrote it" in result.err
    assert emulator.httpd.store.count("RpcPop3Accounts") == 0
