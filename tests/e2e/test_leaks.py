"""Canary secrets must never appear in any output: formats, plan files, -v logs, error paths."""

from __future__ import annotations

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

NAMES = ["Support", "Sales"]


def _assert_clean(texts, secrets):
    for text in texts:
        for value in secrets.values():
            assert value not in text


def test_no_secret_in_any_output_format_plan_file_or_verbose_log(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    plan_file = tmp_path / "plan.json"
    runs = [
        run_cli("-vv", "plan", str(env), "--format", fmt, env=secrets)
        for fmt in ("text", "markdown", "json")
    ]
    runs.append(run_cli("-vv", "plan", str(env), "--out", str(plan_file), env=secrets))
    runs.append(run_cli("-vv", "apply", "--plan", str(plan_file), env=secrets))
    assert all(r.code == 0 for r in runs), [r.text for r in runs]
    assert "read " in runs[0].err  # the verbose log really ran
    # rotation: the new value must not leak either
    rotated = dict(secrets, PW_SUPPORT_POP3="rotated-canary-SECRET-91")
    runs.append(
        run_cli("-vv", "apply", str(env), "--auto-approve", "--format", "json", env=rotated)
    )
    _assert_clean([r.text for r in runs] + [plan_file.read_text()], rotated | secrets)
    journal = env / ".reconciler" / "journal.jsonl"
    _assert_clean([journal.read_text()], rotated | secrets)
    marker = emulator.httpd.store.globals["Elements.Reconciler.Marker"]
    _assert_clean([marker], rotated | secrets)


def test_no_secret_on_error_paths(tmp_path, emulator):
    secrets = secrets_for(*NAMES)
    env = make_env(
        tmp_path / "env", emulator.url, [pop3(n) for n in NAMES], [smtp(n) for n in NAMES]
    )
    # wrong API password: 401
    bad_api = dict(secrets, GH_PASSWORD="wrong-api-canary-55")
    denied = run_cli("-v", "plan", str(env), env=bad_api)
    assert denied.code == 1
    assert "refused the login" in denied.err
    # verification failure with a wrong mailbox password
    bad_box = dict(secrets, PW_SALES_SMTP="wrong-mailbox-canary-66")
    partial = run_cli("-v", "apply", str(env), "--auto-approve", env=bad_box)
    assert partial.code == 6
    assert "verify smtp 'Sales': failed" in partial.out
    # a secret file that cannot be read names the file, never a value
    missing = dict(secrets)
    del missing["PW_SUPPORT_POP3"]
    gone = run_cli("plan", str(env), env=missing)
    assert gone.code == 1
    assert "PW_SUPPORT_POP3" in gone.err
    assert "Traceback" not in denied.text + partial.text + gone.text
    _assert_clean([denied.text, partial.text, gone.text], bad_api | bad_box | secrets)
