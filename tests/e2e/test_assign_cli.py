"""`reconciler assign` as a real process, on the fixture set (tests/fixtures/assign)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ruamel.yaml import YAML

from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp, write_yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "assign"
ERP = str(FIXTURES / "erp.yaml")
HISTORY = str(FIXTURES / "history.yaml")
MAILS = FIXTURES / "mails"
BEFORE = str(FIXTURES / "envs" / "before")
AFTER = str(FIXTURES / "envs" / "after")
GOLDEN = YAML(typ="safe").load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))


def test_text_output_names_the_assignment_the_rule_and_the_trace():
    mail = MAILS / "m36-html-marketplace.eml"
    run = run_cli("assign", "--erp", ERP, "--env", BEFORE, str(mail))
    assert run.code == 0, run.text
    assert run.out.splitlines() == [
        f"{mail}: order O-1021, quote none, customer K-10023, article ART-3178  "
        "[order:text-address+reference]",
        "    history: no earlier mail of this thread is recorded",
        "    ignored From noreply@marketplace.example (blacklist)",
        "    ignored To sales@gartenwelt.example (GREYHOUND group)",
        "    order: anja.hartmann@web.example has 2 orders; reference 302-9081123-5560417 narrows "
        "to O-1021",
        "    order: customer K-10023 of O-1021 (first order assignment)",
        "    order: article ART-3178 is the only article of O-1021",
    ]
    assert run.err == ""


def test_json_output_of_the_corpus_matches_the_golden_file():
    run = run_cli(
        "assign", "--erp", ERP, "--history", HISTORY, "--env", BEFORE, "--corpus", str(MAILS),
        "--format", "json",
    )  # fmt: skip
    assert run.code == 0, run.text
    results = json.loads(run.out)
    assert [r["mail"] for r in results] == sorted(GOLDEN["assign"])
    for result in results:
        trace = result.pop("trace")
        assert trace and all(isinstance(line, str) for line in trace)
        name = result.pop("mail")
        assert result == GOLDEN["assign"][name]["expect"], name


def test_compare_lists_the_mails_a_blacklist_change_reassigns():
    run = run_cli(
        "assign", "--erp", ERP, "--history", HISTORY, "--corpus", str(MAILS),
        "--compare", BEFORE, AFTER,
    )  # fmt: skip
    assert run.code == 0, run.text
    assert run.out.splitlines() == [
        f"old: {BEFORE}",
        f"new: {AFTER}",
        "m42-marketplace-relay.eml: order O-1028 → none; customer K-10029 → none; "
        "article ART-3185 → none  [order:address+reference → none]",
        "m44-old-info-address-1.eml: order none → O-1037; customer none → K-10037; "
        "article none → ART-3193  [none → order:address]",
        "m45-old-info-address-2.eml: order none → O-1038; customer none → K-10038; "
        "article none → ART-3194  [none → order:address]",
        "3 of 47 sample mails would be assigned differently",
    ]


def test_compare_as_json_and_with_a_blacklist_file_on_one_side(tmp_path):
    blacklist = tmp_path / "blacklist.yaml"
    blacklist.write_text("blacklist:\n  - '@marktplatz.example'\n", encoding="utf-8")
    run = run_cli(
        "assign", "--erp", ERP, "--corpus", str(MAILS), "--compare", BEFORE, str(blacklist),
        "--format", "json",
    )  # fmt: skip
    assert run.code == 0, run.text
    data = json.loads(run.out)
    # the file has no group addresses and drops the before-blacklist: marketplace mails change
    assert (data["total"], data["different"]) == (47, len(data["differences"]))
    changed = {d["mail"]: (d["old"]["order"], d["new"]["order"]) for d in data["differences"]}
    assert changed["m42-marketplace-relay.eml"] == ("O-1028", None)
    assert "m01-order-single.eml" not in changed


def test_blacklist_file_instead_of_an_environment(tmp_path):
    blacklist = tmp_path / "bl.yaml"
    blacklist.write_text("- noreply@marketplace.example\n", encoding="utf-8")
    mail = MAILS / "m08-blacklisted-from-customer-in-body.eml"
    run = run_cli(
        "assign", "--erp", ERP, "--blacklist", str(blacklist), "--format", "json", str(mail)
    )
    assert run.code == 0, run.text
    (result,) = json.loads(run.out)
    assert (result["order"], result["customer"], result["rule"]) == (
        "O-1043",
        "K-10043",
        "order:text-address",
    )


def test_an_invalid_erp_file_is_exit_3_with_its_position_and_no_traceback(tmp_path):
    erp = tmp_path / "erp.yaml"
    erp.write_text("customers:\n  - {id: K1, adresses: [a@x.example]}\n", encoding="utf-8")
    run = run_cli("assign", "--erp", str(erp), str(MAILS / "m01-order-single.eml"))
    assert run.code == 3
    assert f"{erp}:2:14: error: customers[0].adresses: unknown key" in run.err
    assert "unknown key 'adresses'" in run.err and "did you mean 'addresses'?" in run.err
    assert "Traceback" not in run.text
    assert run.out == ""


def test_usage_errors_exit_1_with_a_clear_message():
    both = run_cli(
        "assign", "--erp", ERP, "--env", BEFORE, "--blacklist", ERP, "--corpus", str(MAILS)
    )
    assert both.code == 1
    assert "--env and --blacklist exclude each other" in both.err
    none = run_cli("assign", "--erp", ERP)
    assert none.code == 1
    assert "name mail files (MAIL.eml...) or a folder of them (--corpus DIR)" in none.err


def test_plan_counts_the_sample_mails_a_blacklist_change_reassigns(tmp_path, emulator):
    folder = tmp_path / "env"
    samples = {
        "erp": os.path.relpath(ERP, folder),
        "corpus": os.path.relpath(MAILS, folder),
        "history": os.path.relpath(HISTORY, folder),
    }
    env = make_env(
        folder, emulator.url, [pop3("Support")], [smtp("Support")], assignment_samples=samples
    )
    before = YAML(typ="safe").load((FIXTURES / "envs" / "before" / "blacklist.yaml").read_text())
    after = YAML(typ="safe").load((FIXTURES / "envs" / "after" / "blacklist.yaml").read_text())
    write_yaml(env / "blacklist.yaml", before)
    secrets = secrets_for("Support")

    # the fresh server has no blacklist; none of the three entries is in the ERP
    first = run_cli("plan", str(env), env=secrets)
    assert first.code == 0, first.text
    assert (
        "warning: blacklist change: 0 of 47 sample mails would be assigned differently "
        "(`reconciler assign --compare` lists them)"
    ) in first.out.splitlines()
    assert run_cli("apply", str(env), "--auto-approve", env=secrets).code == 0

    unchanged = run_cli("plan", str(env), env=secrets)
    assert unchanged.code == 0, unchanged.text
    assert "sample mails" not in unchanged.text

    write_yaml(env / "blacklist.yaml", after)
    changed = run_cli("plan", str(env), "--format", "json", env=secrets)
    assert changed.code == 0, changed.text
    assert json.loads(changed.out)["warnings"] == [
        "blacklist change: 3 of 47 sample mails would be assigned differently "
        "(`reconciler assign --compare` lists them)"
    ]
