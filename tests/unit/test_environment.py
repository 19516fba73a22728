import pytest

from reconciler.errors import ManifestError
from reconciler.manifest.environment import load_environment
from tests.helpers import write_yaml

CONN = {"greyhound": {"url": "embedded:s.json"}}


def account(name, **extra):
    a = {
        "name": name,
        "host": "pop.x.example",
        "username": f"{name.lower()}@x.example",
        "password": {"env": "P"},
    }
    a.update(extra)
    return a


def test_include_and_field_level_override(tmp_path):
    write_yaml(
        tmp_path / "base/accounts.yaml",
        {
            "pop3_accounts": [account("Support"), account("Sales")],
            "smtp_accounts": [account("Support"), account("Sales")],
            "blacklist": ["a@x.example", "@y.example"],
        },
    )
    write_yaml(tmp_path / "prod/environment.yaml", {**CONN, "include": ["../base"]})
    write_yaml(
        tmp_path / "prod/overrides.yaml",
        {
            "pop3_accounts": [{"name": "Support", "port": 2995}, {"name": "Sales", "remove": True}],
            "smtp_accounts": [{"name": "Sales", "remove": True}],
            "blacklist_remove": ["a@x.example"],
        },
    )
    env = load_environment(tmp_path / "prod")
    (support,) = env.manifest.pop3_accounts
    assert (support.name, support.port, support.host) == ("Support", 2995, "pop.x.example")
    assert env.manifest.blacklist == ["@y.example"]
    # the merged field still points at the file that set it
    position = env.position("pop3_accounts", 0, "port")
    assert (position.file, position.line) == (str(tmp_path / "prod/overrides.yaml"), 3)


def test_unknown_key_points_at_line_with_suggestion(tmp_path):
    (tmp_path / "env").mkdir()
    (tmp_path / "env/environment.yaml").write_text("greyhound:\n  url: embedded:s.json\n")
    (tmp_path / "env/accounts.yaml").write_text(
        "pop3_accounts:\n  - name: A\n    host: pop.x.example\n    usernme: a@x.example\n"
    )
    with pytest.raises(ManifestError) as info:
        load_environment(tmp_path / "env")
    text = str(info.value)
    assert (
        "accounts.yaml:4:5: error: pop3_accounts[0].usernme: unknown key 'usernme' (did you mean 'username'?)"
        in text
    )


def test_quoted_port_is_an_error_not_a_number(tmp_path):
    write_yaml(tmp_path / "env/environment.yaml", CONN)
    (tmp_path / "env/accounts.yaml").write_text(
        'pop3_accounts:\n  - name: A\n    host: pop.x.example\n    port: "0995"\n    username: a@x.example\n'
        "    password: {env: P}\n"
    )
    with pytest.raises(ManifestError) as info:
        load_environment(tmp_path / "env")
    assert (
        "accounts.yaml:4:5: error: pop3_accounts[0].port: expected an integer, got string '0995' "
        "(write it without quotes: 995)" in str(info.value)
    )


def test_empty_resource_file_is_an_error(tmp_path):
    write_yaml(tmp_path / "env/environment.yaml", CONN)
    (tmp_path / "env/accounts.yaml").write_text("# nothing here\n")
    with pytest.raises(ManifestError, match="is empty; an empty file never means 'no accounts'"):
        load_environment(tmp_path / "env")


def test_pop3_without_matching_smtp_is_an_error(tmp_path):
    write_yaml(tmp_path / "env/environment.yaml", {**CONN, "pop3_accounts": [account("A")]})
    with pytest.raises(
        ManifestError, match="POP3 account 'A' has no SMTP account of the same name"
    ):
        load_environment(tmp_path / "env")
