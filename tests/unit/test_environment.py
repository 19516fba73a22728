import datetime as dt

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.environment import load_environment
from reconciler.manifest.secrets import MissingSecret, SecretResolver
from reconciler.model.manifest import SecretRef
from tests.helpers import write_yaml

CONN = {"greyhound": {"url": "embedded:s.json"}}
TODAY = dt.date(2026, 12, 3)


def account(name, **extra):
    a = {
        "name": name,
        "host": "pop.x.example",
        "username": f"{name.lower()}@x.example",
        "password": {"env": "P"},
    }
    a.update(extra)
    return a


def problems_of(env_dir, **kwargs) -> str:
    with pytest.raises(ManifestError) as info:
        load_environment(env_dir, today=TODAY, **kwargs)
    return str(info.value)


def base(tmp_path, **extra):
    write_yaml(
        tmp_path / "base/accounts.yaml",
        {
            "pop3_accounts": [
                account("Support", delete_from_server={"policy": "after_days", "days": 30}),
                account("Sales"),
            ],
            "smtp_accounts": [account("Support"), account("Sales")],
            "blacklist": ["a@x.example", "@y.example"],
            **extra,
        },
    )


def test_include_and_field_level_override(tmp_path):
    base(tmp_path)
    write_yaml(tmp_path / "prod/environment.yaml", {**CONN, "include": ["../base"]})
    write_yaml(
        tmp_path / "prod/overrides.yaml",
        {
            "pop3_accounts": [
                {"name": "Support", "port": 2995, "security": "ssl"},
                {"name": "Sales", "remove": True},
            ],
            "smtp_accounts": [{"name": "Sales", "remove": True}],
            "blacklist_remove": ["A@X.example"],
        },
    )
    env = load_environment(tmp_path / "prod", today=TODAY)
    (support,) = env.manifest.pop3_accounts
    assert (support.name, support.port, support.host) == ("Support", 2995, "pop.x.example")
    assert support.delete_from_server.days == 30  # untouched fields come from the base
    assert env.manifest.blacklist == ["@y.example"]
    # the merged field still points at the file that set it; the others at the base
    port = env.position("pop3_accounts", 0, "port")
    assert (port.file, port.line) == (str(tmp_path / "prod/overrides.yaml"), 3)
    host = env.position("pop3_accounts", 0, "host")
    assert (host.file, host.line) == (str(tmp_path / "base/accounts.yaml"), 3)


def test_a_nested_override_replaces_the_whole_value(tmp_path):
    base(tmp_path)
    write_yaml(
        tmp_path / "prod/environment.yaml",
        {
            **CONN,
            "include": "../base",
            "pop3_accounts": [
                {"name": "Support", "delete_from_server": {"policy": "never"}},
                {"name": "Sales", "password": {"file": "secrets/sales"}},
            ],
        },
    )
    support, sales = load_environment(tmp_path / "prod", today=TODAY).manifest.pop3_accounts
    assert support.delete_from_server.model_dump() == {"policy": "never", "days": None}
    assert sales.password == SecretRef(file="secrets/sales")


def test_extension_keys_hold_anchors_and_are_ignored(tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "env/environment.yaml").write_text(
        "greyhound: {url: 'embedded:s.json'}\n"
        "x-account: &a {host: pop.x.example, username: a@x.example, password: {env: P}}\n"
        "pop3_accounts: [{<<: *a, name: A}]\n"
        "smtp_accounts: [{<<: *a, name: A, host: smtp.x.example}]\n"
    )
    env = load_environment(tmp_path / "env", today=TODAY)
    assert env.manifest.smtp_accounts[0].host == "smtp.x.example"
    assert env.manifest.pop3_accounts[0].host == "pop.x.example"


def test_including_an_environment_is_refused(tmp_path):
    write_yaml(tmp_path / "staging/environment.yaml", CONN)
    write_yaml(tmp_path / "prod/environment.yaml", {**CONN, "include": ["../staging"]})
    text = problems_of(tmp_path / "prod")
    assert "include[0]: '../staging' is an environment (it has an environment.yaml)" in text


def test_including_a_folder_twice_or_an_empty_one_is_refused(tmp_path):
    base(tmp_path)
    (tmp_path / "empty").mkdir()
    write_yaml(
        tmp_path / "prod/environment.yaml", {**CONN, "include": ["../base", "../empty", "../base"]}
    )
    text = problems_of(tmp_path / "prod")
    assert "include[1]: included folder '../empty' holds no .yaml files" in text
    assert "include[2]: '../base' is included twice" in text


def test_include_must_be_a_list_of_paths(tmp_path):
    write_yaml(tmp_path / "prod/environment.yaml", {**CONN, "include": [{"path": "../base"}]})
    assert "include: expected a list of folder paths" in problems_of(tmp_path / "prod")


def test_errors_in_several_files_are_reported_together(tmp_path):
    write_yaml(tmp_path / "env/environment.yaml", CONN)
    (tmp_path / "env/a.yaml").write_text("pop3_accounts:\n  - name: A\n    port: 0995\n")
    (tmp_path / "env/b.yaml").write_text("smtp_acounts: []\n")
    text = problems_of(tmp_path / "env")
    assert "a.yaml:3:11: error: pop3_accounts[0].port: '0995' has a leading zero" in text
    assert "b.yaml:1:1: error: smtp_acounts: unknown section" in text


def test_unknown_key_points_at_line_with_suggestion(tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "env/environment.yaml").write_text("greyhound:\n  url: embedded:s.json\n")
    (tmp_path / "env/accounts.yaml").write_text(
        "pop3_accounts:\n  - name: A\n    host: pop.x.example\n    usernme: a@x.example\n"
    )
    assert (
        "accounts.yaml:4:5: error: pop3_accounts[0].usernme: unknown key 'usernme' "
        "(did you mean 'username'?)" in problems_of(tmp_path / "env")
    )


def test_empty_resource_file_is_an_error(tmp_path):
    write_yaml(tmp_path / "env/environment.yaml", CONN)
    (tmp_path / "env/accounts.yaml").write_text("# nothing here\n")
    assert "is empty; an empty file never means 'no accounts'" in problems_of(tmp_path / "env")


def test_blacklist_duplicates_under_normalization_are_one_entry_and_a_warning(tmp_path):
    base(tmp_path)
    write_yaml(
        tmp_path / "prod/environment.yaml",
        {**CONN, "include": ["../base"], "blacklist": ["A@x.EXAMPLE", "Y.example"]},
    )
    env = load_environment(tmp_path / "prod", today=TODAY)
    assert env.manifest.blacklist == ["a@x.example", "@y.example"]
    assert [(w.rule, w.field) for w in env.warnings] == [
        ("ADDR-004", "blacklist[0]"),
        ("ADDR-004", "blacklist[1]"),
    ]
    assert "same as the entry at " + str(tmp_path / "base/accounts.yaml") + ":" in (
        env.warnings[0].message
    )


def test_strict_turns_warnings_into_errors_and_ignore_silences_them(tmp_path):
    smtp = account("A", host="smtp.x.example", port=25)
    write_yaml(
        tmp_path / "env/environment.yaml",
        {**CONN, "pop3_accounts": [account("A")], "smtp_accounts": [smtp]},
    )
    env = load_environment(tmp_path / "env", today=TODAY)
    assert [w.rule for w in env.warnings] == ["TLS-005"]
    assert "error TLS-005: smtp_accounts[0].port" in problems_of(tmp_path / "env", strict=True)
    write_yaml(
        tmp_path / "env/environment.yaml",
        {
            **CONN,
            "lint": {"ignore": ["TLS-005"]},
            "pop3_accounts": [account("A")],
            "smtp_accounts": [smtp],
        },
    )
    assert load_environment(tmp_path / "env", today=TODAY, strict=True).warnings == []


def test_unknown_rule_id_in_ignore_suggests_the_right_one(tmp_path):
    write_yaml(
        tmp_path / "env/environment.yaml",
        {**CONN, "lint": {"ignore": ["TLS-05"]}, "pop3_accounts": [], "smtp_accounts": []},
    )
    assert "lint.ignore[0]: 'TLS-05' is not a lint rule id such as TLS-005" in problems_of(
        tmp_path / "env"
    )
    write_yaml(
        tmp_path / "env/environment.yaml",
        {**CONN, "lint": {"ignore": ["TSL-005"]}, "pop3_accounts": [], "smtp_accounts": []},
    )
    assert "unknown rule id 'TSL-005' (did you mean 'TLS-005'?)" in problems_of(tmp_path / "env")


def test_missing_secrets_are_all_named_by_reference_never_by_value(tmp_path, monkeypatch):
    monkeypatch.setenv("PRESENT", "visible-value-123")
    monkeypatch.delenv("ABSENT_ONE", raising=False)
    (tmp_path / "demo.env").write_text("FROM_FILE=file-value-456\n")
    resolver = SecretResolver(tmp_path, "demo.env")
    assert resolver.resolve(SecretRef(env="FROM_FILE"), "x") == "file-value-456"
    with pytest.raises(MissingSecret) as info:
        resolver.require_all(
            [
                (SecretRef(env="PRESENT"), "pop3 account 'A'"),
                (SecretRef(env="ABSENT_ONE"), "pop3 account 'B'"),
                (SecretRef(file="secrets/none"), "smtp account 'B'"),
            ]
        )
    text = str(info.value)
    assert text.startswith("2 secrets are missing:")
    assert "pop3 account 'B' is missing: environment variable ABSENT_ONE is not set" in text
    assert "smtp account 'B' is missing: file secrets/none cannot be read" in text
    assert "visible-value-123" not in text and "file-value-456" not in text
