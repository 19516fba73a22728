"""Environments: diff-env, promote (three-way into B's own files, a git diff), plans bound to one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

STAGING_ACCOUNTS = """\
# staging: test mailboxes
x-pop3: &pop3
  host: pop.staging.example
  port: 995
  delete_from_server: {policy: immediately}   # test mail is disposable

pop3_accounts:
  - <<: *pop3
    name: Support
    username: support@staging.example
    password: {env: STAGING_SUPPORT_POP3_PASSWORD}
  - <<: *pop3
    name: Legacy
    username: legacy@staging.example
    password: {env: STAGING_LEGACY_POP3_PASSWORD}

smtp_accounts:
  - name: Support
    host: smtp.staging.example
    port: 587
    username: support@staging.example
    password: {env: STAGING_SUPPORT_SMTP_PASSWORD}
  - name: Legacy
    host: smtp.staging.example
    port: 587
    username: legacy@staging.example
    password: {env: STAGING_LEGACY_SMTP_PASSWORD}
"""

PROD_ACCOUNTS = """\
# prod: the real mailboxes (keep this comment)
pop3_accounts:
  - name: Support
    host: pop.example.com
    port: 995
    username: support@example.com
    password: {env: PROD_SUPPORT_POP3_PASSWORD}
    delete_from_server: {policy: after_days, days: 30}
    protected: true
  - name: Legacy
    host: pop.example.com
    port: 995
    username: legacy@example.com
    password: {env: PROD_LEGACY_POP3_PASSWORD}

smtp_accounts:
  - name: Support
    host: smtp.example.com
    port: 587
    username: support@example.com
    password: {env: PROD_SUPPORT_SMTP_PASSWORD}
  - name: Legacy
    host: smtp.example.com
    port: 587
    username: legacy@example.com
    password: {env: PROD_LEGACY_SMTP_PASSWORD}

filters:
  - name: Reklamationen
    group: Support
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    envs = root / "environments"
    (envs / "base").mkdir(parents=True)
    (envs / "base" / "blacklist.yaml").write_text(
        "blacklist:\n  - noreply@marketplace.example\n  - notifications@shipping.example\n"
    )
    for name, accounts in (("staging", STAGING_ACCOUNTS), ("prod", PROD_ACCOUNTS)):
        (envs / name).mkdir()
        (envs / name / "environment.yaml").write_text(
            f"greyhound:\n  url: https://greyhound-{name}.example\n"
            f"  password: {{env: {name.upper()}_GREYHOUND_PASSWORD}}\ninclude: [../base]\n"
        )
        (envs / name / "accounts.yaml").write_text(accounts)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "start")
    return root


def _cli(repo: Path, *args: str):
    return run_cli(*args, cwd=repo)


def test_diff_env_compares_rendered_desired_states(repo):
    result = _cli(
        repo, "diff-env", "environments/staging", "environments/prod", "--detailed-exitcode"
    )
    assert result.code == 2, result.text
    lines = result.out.splitlines()
    assert lines[0] == (
        "diff-env staging -> prod (desired state; connection settings and secret values ignored)"
    )
    assert "  + filter 'Reklamationen' (only in prod)" in lines
    i = lines.index("  ~ pop3 'Support'")
    assert lines[i + 1 : i + 6] == [
        "      delete_days: (none) -> 30",
        "      delete_policy: immediately -> after_days",
        "      host: pop.staging.example -> pop.example.com",
        "      protected: false -> true",
        "      username: support@staging.example -> support@example.com",
    ]
    assert "  ~ group 'Support'" in lines  # its address follows the username
    assert not any("STAGING_" in line or "PROD_" in line for line in lines)  # secrets ignored
    assert not any("greyhound" in line for line in lines[1:])  # the connection is ignored
    narrow = _cli(
        repo, "diff-env", "environments/staging", "environments/prod", "--format", "json",
        "--ignore", "host", "--ignore", "username", "--ignore", "email",
    )  # fmt: skip
    doc = json.loads(narrow.out)
    assert narrow.code == 0
    assert doc["only_in_b"] == [{"kind": "filter", "name": "Reklamationen", "companions": 0}]
    assert [(c["kind"], c["name"]) for c in doc["changed"]] == [
        ("pop3", "Legacy"),
        ("pop3", "Support"),
    ]
    assert doc["blacklist"]["only_in_a"] == [] and doc["blacklist"]["only_in_b"] == []
    same = _cli(repo, "diff-env", "environments/prod", "environments/prod", "--detailed-exitcode")
    assert same.code == 0 and same.out.splitlines()[-1] == "No differences."


def _change_staging(repo: Path) -> None:
    path = repo / "environments/staging/accounts.yaml"
    text = path.read_text()
    # Support: a retention of its own in prod; deletion sync is new for both
    text = text.replace(
        "    password: {env: STAGING_SUPPORT_POP3_PASSWORD}\n",
        "    password: {env: STAGING_SUPPORT_POP3_PASSWORD}\n    delete_when_deleted_in_elements: true\n",
    )
    text = text.replace(
        "  delete_from_server: {policy: immediately}",
        "  delete_from_server: {policy: after_days, days: 2}",
    )
    # Legacy goes away; Returns arrives
    text = text.replace(
        "  - <<: *pop3\n    name: Legacy\n    username: legacy@staging.example\n"
        "    password: {env: STAGING_LEGACY_POP3_PASSWORD}\n",
        "  - <<: *pop3\n    name: Returns\n    username: returns@staging.example\n"
        "    password: {env: STAGING_RETURNS_POP3_PASSWORD}\n",
    )
    text = text.replace(
        "  - name: Legacy\n    host: smtp.staging.example\n    port: 587\n    username: legacy@staging.example\n"
        "    password: {env: STAGING_LEGACY_SMTP_PASSWORD}\n",
        "  - name: Returns\n    host: smtp.staging.example\n    port: 587\n    username: returns@staging.example\n"
        "    password: {env: STAGING_RETURNS_SMTP_PASSWORD}\n",
    )
    text += (
        "\nfilters:\n  - name: Eskalation\n    parent: Spamverdacht\n"
        "\nblacklist:\n  - bounce@psp.example\nblacklist_remove:\n  - notifications@shipping.example\n"
    )
    path.write_text(text)


def test_promote_applies_a_changes_and_keeps_b_overrides(repo):
    _change_staging(repo)
    assert _cli(repo, "validate", "environments/staging").code == 0
    dry = _cli(repo, "promote", "environments/staging", "environments/prod", "--dry-run")
    assert dry.code == 0, dry.text
    assert "--- a/environments/prod/accounts.yaml" in dry.out
    assert _git(repo, "status", "--porcelain", "environments/prod") == ""  # nothing written

    result = _cli(repo, "promote", "environments/staging", "environments/prod")
    assert result.code == 0, result.text
    assert result.out.splitlines()[:9] == [
        "  add pop3 account 'Returns' (review host, username: copied from staging)",
        "  remove pop3 account 'Legacy'",
        "  set pop3 account 'Support' delete_when_deleted_in_elements: false -> true",
        "  add smtp account 'Returns' (review host, username: copied from staging)",
        "  remove smtp account 'Legacy'",
        "  add filter 'Eskalation'",
        "  add blacklist entry bounce@psp.example",
        "  remove blacklist entry notifications@shipping.example",
        "  kept: pop3 account 'Support': delete_from_server changed in staging ({policy: immediately} -> "
        "{policy: after_days, days: 2}); prod keeps its own {policy: after_days, days: 30}",
    ]
    assert result.out.splitlines()[-1].startswith(
        "Promoted 8 change(s) from staging (since HEAD) into prod: accounts.yaml, promoted.yaml."
    )
    changed = _git(repo, "status", "--porcelain").splitlines()
    assert sorted(changed) == [
        " M environments/prod/accounts.yaml",
        " M environments/staging/accounts.yaml",
        "?? environments/prod/promoted.yaml",
    ]
    text = (repo / "environments/prod/accounts.yaml").read_text()
    assert text.startswith("# prod: the real mailboxes (keep this comment)\n")
    prod = YAML(typ="safe").load(text)
    support = prod["pop3_accounts"][0]
    assert support["delete_when_deleted_in_elements"] is True
    assert support["delete_from_server"] == {"policy": "after_days", "days": 30}  # prod's own
    assert support["host"] == "pop.example.com"
    returns = next(a for a in prod["pop3_accounts"] if a["name"] == "Returns")
    assert returns["password"] == {"env": "PROD_RETURNS_POP3_PASSWORD"}
    assert returns["delete_from_server"] == {"policy": "after_days", "days": 2}
    assert [a["name"] for a in prod["smtp_accounts"]] == ["Support", "Returns"]
    assert prod["filters"][-1] == {"name": "Eskalation", "parent": "Spamverdacht"}
    promoted = YAML(typ="safe").load((repo / "environments/prod/promoted.yaml").read_text())
    assert promoted == {
        "blacklist": ["bounce@psp.example"],
        "blacklist_remove": ["notifications@shipping.example"],
    }
    assert _cli(repo, "validate", "environments/prod").code == 0
    # now the environments differ only where prod has its own values
    diff = _cli(
        repo, "diff-env", "environments/staging", "environments/prod", "--format", "json",
        "--ignore", "host", "--ignore", "username", "--ignore", "email",
    )  # fmt: skip
    doc = json.loads(diff.out)
    assert doc["only_in_a"] == [] and doc["blacklist"]["only_in_b"] == []
    assert doc["only_in_b"] == [{"kind": "filter", "name": "Reklamationen", "companions": 0}]
    assert [(c["name"], [f["field"] for f in c["fields"]]) for c in doc["changed"]] == [
        ("Support", ["delete_days", "protected"])
    ]
    again = _cli(repo, "promote", "environments/staging", "environments/prod")
    assert again.code == 0
    assert again.out.splitlines()[-1] == (
        "Nothing to promote: staging has no changes since HEAD that prod lacks."
    )


def test_promote_since_a_commit_and_refusing_an_invalid_result(repo):
    _change_staging(repo)
    _git(repo, "commit", "-qam", "staging changes")
    clean = _cli(repo, "promote", "environments/staging", "environments/prod")
    assert clean.out.splitlines()[-1] == (
        "Nothing to promote: staging has no changes since HEAD that prod lacks."
    )
    since = _cli(
        repo,
        "promote",
        "environments/staging",
        "environments/prod",
        "--since",
        "HEAD~1",
        "--dry-run",
    )
    assert since.code == 0 and "  add filter 'Eskalation'" in since.out
    # staging adds a filter under one that only staging has: prod would be invalid
    path = repo / "environments/staging/accounts.yaml"
    path.write_text(
        path.read_text().replace(
            "    parent: Spamverdacht\n",
            "    parent: Spamverdacht\n  - name: Intern\n    parent: Eskalation\n",
        )
    )
    before = {p.name: p.read_text() for p in (repo / "environments/prod").iterdir()}
    refused = _cli(repo, "promote", "environments/staging", "environments/prod")
    assert refused.code == 1, refused.text
    assert "the promoted files for prod would not be valid, nothing was written:" in refused.err
    assert "parent filter 'Eskalation' is neither declared under filters" in refused.err
    assert {p.name: p.read_text() for p in (repo / "environments/prod").iterdir()} == before


def test_a_plan_made_for_staging_is_refused_for_prod(tmp_path, emulator):
    names = ["Support"]
    staging = make_env(
        tmp_path / "staging", emulator.url, [pop3(n) for n in names], [smtp(n) for n in names]
    )
    prod = make_env(
        tmp_path / "prod", emulator.url, [pop3(n) for n in names], [smtp(n) for n in names]
    )
    secrets = secrets_for(*names)
    plan_file = tmp_path / "staging.plan.json"
    assert run_cli("plan", str(staging), "--out", str(plan_file), env=secrets).code == 0
    refused = run_cli("apply", "--plan", str(plan_file), str(prod), env=secrets)
    assert refused.code == 5, refused.text
    assert (
        f"was made for {staging.resolve()} (environment 'staging'), not {prod.resolve()}"
        in refused.err
    )
    # a plan file pointed at prod by hand still names staging inside: refused as well
    doc = json.loads(plan_file.read_text())
    doc["env_dir"] = str(prod.resolve())
    plan_file.write_text(json.dumps(doc))
    tampered = run_cli("apply", "--plan", str(plan_file), env=secrets)
    assert tampered.code == 5, tampered.text
    assert "this plan was made for environment 'staging', not 'prod'" in tampered.err
    assert emulator.store.objects["RpcPop3Accounts"] == {}  # nothing was applied
