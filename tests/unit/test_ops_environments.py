"""Pure parts of diff-env and promote: the three-way merge, secret renaming, companion folding."""

from __future__ import annotations

from reconciler.model.manifest import Manifest
from reconciler.model.state import Kind, Resource
from reconciler.ops.envdiff import account_of
from reconciler.ops.promote import rename_secrets, three_way


def _m(**sections) -> Manifest:
    return Manifest.model_validate({"greyhound": {"url": "embedded:s.json"}, **sections})


def _pop3(name, env="STAGING", **extra):
    return {
        "name": name,
        "host": f"pop.{env.lower()}.example",
        "username": f"{name.lower()}@{env.lower()}.example",
        "password": {"env": f"{env}_{name.upper()}_POP3"},
        **extra,
    }


def test_rename_secrets_swaps_the_environment_prefix_only():
    assert rename_secrets({"password": {"env": "STAGING_A_POP3"}}, "staging", "prod") == {
        "password": {"env": "PROD_A_POP3"}
    }
    assert rename_secrets({"password": {"env": "SHARED_A"}}, "staging", "prod") == {
        "password": {"env": "SHARED_A"}
    }
    assert rename_secrets({"password": {"file": "a.txt"}}, "staging", "prod") == {
        "password": {"file": "a.txt"}
    }
    assert rename_secrets({"name": "x"}, "eu-staging", "eu-prod") == {"name": "x"}


def test_three_way_sets_unchanged_fields_and_keeps_overrides():
    old = _m(pop3_accounts=[_pop3("A"), _pop3("Gone")], blacklist=["a@x.example", "b@x.example"])
    new = _m(
        pop3_accounts=[
            _pop3("A", delete_when_deleted_in_elements=True, active=False),
            _pop3("New"),
        ],
        blacklist=["b@x.example", "c@x.example"],
    )
    b = _m(
        pop3_accounts=[_pop3("A", env="PROD", active=False), _pop3("Gone", env="PROD")],
        blacklist=["a@x.example"],
    )
    edits, actions, kept = three_way(old, new, b, "staging", "prod")
    assert [(e.op, e.section, e.name, e.field) for e in edits] == [
        ("add", "pop3_accounts", "New", ""),
        ("remove", "pop3_accounts", "Gone", ""),
        ("set", "pop3_accounts", "A", "delete_when_deleted_in_elements"),
        ("bl_add", "", "", ""),
        ("bl_remove", "", "", ""),
    ]
    assert edits[0].value["password"] == {"env": "PROD_NEW_POP3"}
    assert edits[0].value["host"] == "pop.staging.example"  # flagged for review
    assert actions[0] == "add pop3 account 'New' (review host, username: copied from staging)"
    assert [e.value for e in edits[3:]] == ["c@x.example", "a@x.example"]
    assert kept == []  # `active` changed to what prod already has: nothing to do, nothing to say


def test_three_way_without_a_baseline_adds_what_b_lacks():
    new = _m(pop3_accounts=[_pop3("A"), _pop3("B")])
    b = _m(pop3_accounts=[_pop3("A", env="PROD")])
    edits, _actions, kept = three_way(None, new, b, "staging", "prod")
    assert [(e.op, e.name) for e in edits] == [("add", "B")]
    assert kept == ["pop3 account 'A': new in staging, but prod has its own; kept"]


def test_companions_fold_into_their_account():
    def r(kind, name):
        return Resource(kind, name, {}, origin="companion")

    assert account_of(r(Kind.GROUP, "Sales")) == "Sales"
    assert account_of(r(Kind.RULE, "Eingangsverarbeitung: Sales")) == "Sales"
    assert account_of(r(Kind.FILTER, "Sales (Pool)")) == "Sales"
    assert account_of(r(Kind.FILTER, "Sales (Archiv)")) is None
    assert account_of(r(Kind.FILTER, "Alle E-Mails")) is None
