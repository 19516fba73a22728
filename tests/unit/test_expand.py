from reconciler.expand import expand
from reconciler.model.manifest import Manifest
from reconciler.model.state import Kind


def manifest(**extra) -> Manifest:
    data = {
        "greyhound": {"url": "embedded:x.json"},
        "pop3_accounts": [
            {
                "name": "Support",
                "host": "POP.Example.com.",
                "username": "Support@Example.com",
                "password": {"env": "P"},
            },
        ],
        "smtp_accounts": [
            {
                "name": "Support",
                "host": "smtp.example.com",
                "username": "u",
                "password": {"env": "S"},
            }
        ],
    }
    data.update(extra)
    return Manifest.model_validate(data)


def test_pop3_account_expands_to_every_companion():
    state = expand(manifest())
    names = {(k.value, n) for k, n in state.resources}
    assert names == {
        ("pop3", "Support"),
        ("smtp", "Support"),
        ("group", "Support"),
        ("signature", "Support"),
        ("filter", "Alle E-Mails"),
        ("filter", "Support (Offene Mails)"),
        ("filter", "Support (Pool)"),
        ("filter", "Support (Meine Mails)"),
        ("filter", "Gesendete Elemente"),
        ("filter", "Fehlgeschlagen"),
        ("filter", "Gelöschte Elemente"),
        ("filter", "Erledigt"),
        ("filter", "Entwürfe"),
        ("filter", "Spamverdacht"),
        ("filter", "Geprüft"),
        ("rule", "Eingangsverarbeitung: Support"),
    }
    assert state.get(Kind.FILTER, "Geprüft").fields == {"parent": "Spamverdacht", "group": None}
    assert state.get(Kind.SIGNATURE, "Support").fields == {"group": "Support"}


def test_group_address_defaults_to_normalized_username():
    assert expand(manifest()).get(Kind.GROUP, "Support").fields == {"email": "support@example.com"}


def test_group_address_from_groups_section_wins():
    state = expand(manifest(groups=[{"name": "Support", "email": "Service@Example.com"}]))
    assert state.get(Kind.GROUP, "Support").fields == {"email": "service@example.com"}


def test_pop3_fields_are_normalized_with_default_port():
    fields = expand(manifest()).get(Kind.POP3, "Support").fields
    assert fields == {
        "host": "pop.example.com",
        "port": 995,
        "security": "ssl",
        "auth": "login",
        "username": "Support@Example.com",
        "delete_policy": "never",
        "delete_days": None,
        "delete_sync": False,
        "active": True,
    }


def test_blacklist_unmanaged_when_not_declared_and_a_set_when_declared():
    assert expand(manifest()).get(Kind.BLACKLIST, "blacklist") is None
    state = expand(manifest(blacklist=["B@x.example", "b@X.example", "y.example"]))
    assert state.get(Kind.BLACKLIST, "blacklist").fields == {
        "entries": ["@y.example", "b@x.example"]
    }


def test_duplicate_senders_expand_to_one_entry():
    smtp = {
        "name": "Support",
        "host": "smtp.example.com",
        "username": "u",
        "password": {"env": "S"},
        "senders": ["B@Example.com", "a@example.com", "b@example.COM"],
    }
    state = expand(manifest(smtp_accounts=[smtp]))
    assert state.get(Kind.SMTP, "Support").fields["senders"] == ["a@example.com", "b@example.com"]
