"""The README's main job, end to end: the demo environment against the embedded emulator."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import REPO, run_cli


@pytest.fixture
def demo(tmp_path):
    """A private copy of environments/ so the demo state file starts empty."""
    envs = tmp_path / "environments"
    shutil.copytree(REPO / "environments", envs, ignore=shutil.ignore_patterns(".state"))
    return envs / "demo"


def test_demo_plan_apply_then_empty_plan(demo):
    first = run_cli("plan", str(demo))
    assert first.code == 0, first.text
    # the companions Elements creates with each POP3 account are listed
    for line in (
        "+ create pop3 'Support'",
        "+ create smtp 'Support'",
        "+ create group 'Support'  email=service@demo-shop.example",
        "+ create signature 'Support'  group=Support",
        "+ create filter 'Alle E-Mails'",
        "+ create filter 'Support (Offene Mails)'  group=Support",
        "+ create filter 'Support (Pool)'  group=Support",
        "+ create filter 'Support (Meine Mails)'  group=Support",
        "+ create filter 'Geprüft'  parent=Spamverdacht",
        "+ create rule 'Eingangsverarbeitung: Support'  active=true",
        "? verify pop3 'Support'",
        "~ activate pop3 'Support'",
    ):
        assert line in first.out, line
    assert "Plan: 25 to create, 4 to activate, 4 to verify." in first.out

    applied = run_cli("apply", str(demo), "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply finished: 33 done, 0 failed, 0 skipped." in applied.out

    second = run_cli("plan", str(demo), "--detailed-exitcode")
    assert second.code == 0, second.text
    assert "No changes." in second.out


def test_one_changed_field_gives_exactly_one_update(demo):
    assert run_cli("apply", str(demo), "--auto-approve").code == 0
    accounts = demo / "accounts.yaml"
    accounts.write_text(
        accounts.read_text().replace("policy: after_days, days: 30", "policy: after_days, days: 14")
    )
    result = run_cli("plan", str(demo), "--detailed-exitcode", "--format", "json")
    assert result.code == 2, result.text
    import json

    plan = json.loads(result.out)
    assert [(s["action"], s["kind"], s["name"]) for s in plan["steps"]] == [
        ("update", "pop3", "Support")
    ]
    assert plan["steps"][0]["changes"] == [
        {"field": "delete_days", "before": 30, "after": 14, "secret": False}
    ]


def test_removed_account_is_unmanaged_without_prune(demo):
    assert run_cli("apply", str(demo), "--auto-approve").code == 0
    accounts = demo / "accounts.yaml"
    text = accounts.read_text()
    # drop Sales from both lists
    pop3_sales = text[text.index("  - name: Sales") : text.index("smtp_accounts:")]
    text = text.replace(pop3_sales, "\n")
    smtp_sales = text[text.rindex("  - name: Sales") : text.index("groups:")]
    text = text.replace(smtp_sales, "\n")
    accounts.write_text(text)
    result = run_cli("plan", str(demo), "--detailed-exitcode")
    assert result.code == 0, result.text
    assert "No changes." in result.out
    assert "pop3 'Sales' (active)" in result.out
    assert "smtp 'Sales' (active)" in result.out


def test_changed_demo_password_fails_verification_and_stays_inactive(demo):
    assert (
        run_cli("plan", str(demo)).code == 0
    )  # creates the emulator state with the demo endpoints
    result = run_cli(
        "apply", str(demo), "--auto-approve", env={"DEMO_SALES_POP3_PASSWORD": "typo-password"}
    )
    assert result.code == 6, result.text
    assert "verify pop3 'Sales': failed" in result.out
    assert "-ERR [AUTH] Authentication failed." in result.out
    assert "activate pop3 'Sales': skipped" in result.out
    assert "activate smtp 'Sales': done" in result.out
    assert "typo-password" not in result.text
    again = run_cli("plan", str(demo), "--detailed-exitcode")
    assert again.code == 2
    assert "~ activate pop3 'Sales'" in again.out


def test_validate_takes_a_folder_of_environments():
    result = run_cli("validate", "environments/")
    assert result.code == 0, result.text
    assert [line.split(":")[0] for line in result.out.splitlines()] == ["demo", "prod", "staging"]
    assert (
        "demo: valid (2 POP3 accounts, 2 SMTP accounts, 1 group address, 0 extra filters"
        in result.out
    )
