"""The realistic fixture set (tests/fixtures/assign) against its golden file expected.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.assign import ErpIndex, assign, compare, load_erp, load_history, read_corpus
from reconciler.assign.ignore import from_environment
from reconciler.assign.whatif import blacklist_plan_note
from reconciler.expand import expand
from reconciler.manifest.environment import load_environment
from reconciler.model.manifest import AssignmentSamples
from reconciler.model.state import BLACKLIST_NAME, Kind, Resource, State

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "assign"
GOLDEN = YAML(typ="safe").load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
INDEX = ErpIndex(load_erp(FIXTURES / "erp.yaml"))
HISTORY = load_history(FIXTURES / "history.yaml")
MAILS = {m.name: m for m in read_corpus(FIXTURES / "mails")}
BEFORE = from_environment(FIXTURES / "envs" / "before")
AFTER = from_environment(FIXTURES / "envs" / "after")


def _result(assignment) -> dict:
    return {k: v for k, v in assignment.as_dict().items() if k != "trace"}


def test_the_fixture_set_has_the_promised_size():
    assert len(INDEX.customers) == 50
    assert (len(INDEX.orders), len(INDEX.quotes)) == (53, 15)
    assert len(MAILS) == 47
    assert INDEX.warnings == []


def test_every_mail_has_a_golden_entry_and_every_entry_a_mail():
    assert sorted(GOLDEN["assign"]) == sorted(MAILS)


@pytest.mark.parametrize("name", sorted(GOLDEN["assign"]))
def test_mail_is_assigned_as_the_golden_file_says(name):
    ignore = BEFORE.ignore_list(INDEX.users)
    assert _result(assign(MAILS[name], INDEX, ignore, HISTORY)) == GOLDEN["assign"][name]["expect"]


def test_the_environment_supplies_group_addresses_and_blacklist():
    assert BEFORE.groups == frozenset({"service@gartenwelt.example", "sales@gartenwelt.example"})
    assert BEFORE.blacklist == frozenset(
        {"noreply@marketplace.example", "@payments.example", "notifications@shipping.example"}
    )


def test_the_what_if_lists_exactly_the_golden_differences():
    comparison = compare(
        list(MAILS.values()),
        INDEX,
        BEFORE.ignore_list(INDEX.users),
        AFTER.ignore_list(INDEX.users),
        HISTORY,
    )
    got = {
        d.mail: {"before": _result(d.old), "after": _result(d.new)} for d in comparison.differences
    }
    assert got == GOLDEN["compare"]
    assert comparison.summary() == "3 of 47 sample mails would be assigned differently"


def test_plan_note_appears_only_with_samples_and_a_blacklist_change():
    env = load_environment(FIXTURES / "envs" / "before")
    desired = expand(env.manifest)
    live = State()
    assert blacklist_plan_note(env, desired, live) is None  # the environment names no samples
    samples = AssignmentSamples(
        erp="../../erp.yaml", corpus="../../mails", history="../../history.yaml"
    )
    env.manifest = env.manifest.model_copy(update={"assignment_samples": samples})
    live.add(desired.get(Kind.BLACKLIST, BLACKLIST_NAME))
    assert blacklist_plan_note(env, desired, live) is None  # the blacklist stays as it is
    live.add(Resource(Kind.BLACKLIST, BLACKLIST_NAME, {"entries": sorted(AFTER.blacklist)}))
    # live is the "after" blacklist, the manifest goes back to "before": the same three mails
    assert blacklist_plan_note(env, desired, live) == (
        "blacklist change: 3 of 47 sample mails would be assigned differently "
        "(`reconciler assign --compare` lists them)"
    )
