"""export_state: pure live State -> YAML texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.expand import expand
from reconciler.model.manifest import Manifest
from reconciler.model.state import Resource, State
from reconciler.ops.export import env_var_name, export_state
from reconciler.ops.yamlout import dump, load_round_trip, write_files

yaml = YAML(typ="safe")


def _manifest(**sections) -> Manifest:
    return Manifest.model_validate({"greyhound": {"url": "embedded:s.json"}, **sections})


def _pop3(name, **extra):
    return {
        "name": name,
        "host": "pop.x.example",
        "username": f"{env_var_name(name).lower()}@x.example",
        "password": {"env": "P_" + env_var_name(name)},
        **extra,
    }


def _smtp(name, **extra):
    return {
        "name": name,
        "host": "smtp.x.example",
        "username": f"{env_var_name(name).lower()}@x.example",
        "password": {"env": "S_" + env_var_name(name)},
        **extra,
    }


def _live(manifest: Manifest) -> State:
    """What a server holding exactly this manifest looks like (origin and secrets dropped)."""
    state = State()
    for r in expand(manifest).resources.values():
        state.add(Resource(r.kind, r.name, dict(r.fields), id=1, origin="live"))
    return state


def test_env_var_names_are_ascii_upper_snake():
    assert env_var_name("pop3", "Support", "password") == "POP3_SUPPORT_PASSWORD"
    assert env_var_name("PROD", "smtp", "Rücksendungen Ä-Team", "password") == (
        "PROD_SMTP_RUCKSENDUNGEN_A_TEAM_PASSWORD"
    )
    assert env_var_name("", "pop3", "x") == "POP3_X"
    assert env_var_name("1st") == "X_1ST"


def test_companions_are_not_exported_as_filters_and_round_trip_holds():
    source = _manifest(
        pop3_accounts=[_pop3("Support"), _pop3("Sales", auth="apop")],
        smtp_accounts=[_smtp("Support"), _smtp("Sales", senders=["b@x.example", "a@x.example"])],
        groups=[{"name": "Support", "email": "service@x.example"}],
        filters=[{"name": "Reklamationen", "parent": "Spamverdacht", "group": "Sales"}],
        blacklist=["@spam.example", "a@b.example"],
    )
    live = _live(source)
    result = export_state(live)
    assert sorted(result.files) == ["accounts.yaml", "blacklist.yaml", "filters.yaml"]
    assert yaml.load(result.files["filters.yaml"]) == {
        "filters": [{"name": "Reklamationen", "parent": "Spamverdacht", "group": "Sales"}]
    }
    docs: dict = {"greyhound": {"url": "embedded:s.json"}}
    for text in result.files.values():
        docs.update(yaml.load(text))
    again = Manifest.model_validate(docs)
    # the exported manifest expands to exactly the live state
    assert {k: r.fields for k, r in expand(again).resources.items()} == {
        k: r.fields for k, r in live.resources.items()
    }
    assert result.secrets == [
        "POP3_SALES_PASSWORD", "POP3_SUPPORT_PASSWORD", "SMTP_SALES_PASSWORD", "SMTP_SUPPORT_PASSWORD"
    ]  # fmt: skip
    assert result.left_out == []


def test_oauth2_and_relay_accounts_get_no_password_and_names_never_clash():
    source = _manifest(
        pop3_accounts=[_pop3("Sales-DE"), {**_pop3("Sales DE", auth="oauth2"), "password": None}],
        smtp_accounts=[
            _smtp("Sales-DE"),
            {**_smtp("Sales DE", auth="none"), "password": None},
            _smtp("Sales_DE"),
        ],
    )
    result = export_state(_live(source), prefix="prod")
    accounts = yaml.load(result.files["accounts.yaml"])
    refs = {
        (k, a["name"]): a.get("password")
        for k in ("pop3", "smtp")
        for a in accounts[f"{k}_accounts"]
    }
    assert refs == {
        ("pop3", "Sales DE"): None,
        ("pop3", "Sales-DE"): {"env": "PROD_POP3_SALES_DE_PASSWORD"},
        ("smtp", "Sales DE"): None,
        ("smtp", "Sales-DE"): {"env": "PROD_SMTP_SALES_DE_PASSWORD"},
        ("smtp", "Sales_DE"): {"env": "PROD_SMTP_SALES_DE_PASSWORD_2"},
    }


def test_no_blacklist_on_the_server_means_none_in_the_manifest():
    source = _manifest(pop3_accounts=[_pop3("A")], smtp_accounts=[_smtp("A")])
    assert "blacklist.yaml" not in export_state(_live(source)).files


def test_write_files_builds_a_new_folder_aside_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "new" / "env"
    write_files({target / "a.yaml": "a: 1\n", target / "b.yaml": "b: 2\n"})
    assert sorted(p.name for p in target.iterdir()) == ["a.yaml", "b.yaml"]
    assert [p.name for p in target.parent.iterdir()] == ["env"]
    existing = tmp_path / "old"
    existing.mkdir()
    (existing / "a.yaml").write_text("old\n")
    # the second text is not text: writing fails after the first file was staged
    with pytest.raises(TypeError):
        write_files({existing / "a.yaml": "new\n", Path(existing / "missing" / "b.yaml"): None})  # type: ignore[dict-item]
    assert (existing / "a.yaml").read_text() == "old\n"
    assert sorted(p.name for p in existing.iterdir()) == ["a.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old"]


@pytest.mark.parametrize(
    "text",
    [
        "# comment kept\npop3_accounts:\n- name: A  # trailing\n  host: pop.x.example\n  password: {env: A}\n",
        "pop3_accounts:\n  - name: A\n    senders: ['*']\n    host: \"quoted.example\"\n",
        "pop3_accounts:\n    -   name: A\n        host: pop.x.example\n",
        "greyhound:\n  url: embedded:s.json\ninclude: [../base]\n",
    ],
)
def test_round_trip_keeps_a_files_own_style(tmp_path, text):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    doc, style = load_round_trip(path)
    assert dump(doc, style=style) == text
