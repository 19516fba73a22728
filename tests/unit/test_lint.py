"""Lint rules: each id fires on the case it is about, with the right severity, and not otherwise."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.lint.providers import detect_provider
from reconciler.lint.registry import RULES
from reconciler.manifest.environment import load_environment
from reconciler.model.manifest import Pop3Account
from tests.helpers import REPO, write_yaml

TODAY = dt.date(2026, 12, 3)


def pop3(name="A", **extra):
    return {
        "name": name,
        "host": "pop.shop.example",
        "username": f"{name.lower()}@shop.example",
        "password": {"env": "P"},
        **extra,
    }


def smtp(name="A", **extra):
    return {**pop3(name), "host": "smtp.shop.example", **extra}


def findings(tmp_path: Path, today: dt.date = TODAY, **data) -> list[tuple[str, str, str]]:
    """(severity, rule, field) of every problem with a rule id, errors first."""
    data.setdefault("greyhound", {"url": "embedded:s.json"})
    data.setdefault("pop3_accounts", [pop3()])
    data.setdefault("smtp_accounts", [smtp()])
    write_yaml(tmp_path / "env/environment.yaml", data)
    try:
        problems = load_environment(tmp_path / "env", today=today).warnings
    except ManifestError as exc:
        problems = exc.problems
    return [(p.severity, p.rule, p.field) for p in problems if p.rule]


def test_a_plain_setup_has_no_findings(tmp_path):
    assert findings(tmp_path) == []


@pytest.mark.parametrize(
    ("host", "user", "provider"),
    [
        ("pop.gmail.com", "shop@gmail.com", "google"),
        ("outlook.office365.com", "office@shop.example", "microsoft365"),
        ("outlook.office365.com", "me@hotmail.co.uk", "outlook_consumer"),
        ("outlook.office365.com", "me@live.de", "outlook_consumer"),
        ("smtp-mail.outlook.com", "me@shop.example", "outlook_consumer"),
        ("mail.shop.example", "me@gmail.com", "other"),
    ],
)
def test_provider_detection(host, user, provider):
    account = Pop3Account(name="A", host=host, username=user)
    assert detect_provider(account) == provider
    assert detect_provider(account.model_copy(update={"provider": "google"})) == "google"


@pytest.mark.parametrize(
    ("password_kind", "expected"),
    [
        (None, ("warning", "GOOG-001", "pop3_accounts[0].password_kind")),
        ("account_password", ("error", "GOOG-001", "pop3_accounts[0].password_kind")),
        ("app_password", ("warning", "GOOG-002", "pop3_accounts[0].password_kind")),
    ],
)
def test_google_password_kinds(tmp_path, password_kind, expected):
    account = pop3(host="pop.gmail.com", password_kind=password_kind)
    if password_kind is None:
        del account["password_kind"]
    assert findings(tmp_path, pop3_accounts=[account]) == [expected]


def test_google_oauth2_is_clean_and_apop_is_refused(tmp_path):
    oauth = {k: v for k, v in pop3(host="pop.gmail.com", auth="oauth2").items() if k != "password"}
    assert findings(tmp_path, pop3_accounts=[oauth]) == []
    apop = pop3(host="pop.gmail.com", auth="apop")
    assert findings(tmp_path, pop3_accounts=[apop]) == [
        ("error", "APOP-003", "pop3_accounts[0].auth")
    ]


@pytest.mark.parametrize(
    ("today", "tenant", "severity"),
    [
        (dt.date(2026, 12, 3), {}, "warning"),
        (dt.date(2026, 12, 31), {}, "warning"),
        (dt.date(2027, 1, 1), {}, "error"),
        (dt.date(2027, 1, 1), {"smtp_basic_reenabled": True}, "warning"),
        (dt.date(2026, 12, 3), {"created_after_2026": True}, "error"),
    ],
)
def test_ms_002_is_date_aware(tmp_path, today, tenant, severity):
    got = findings(
        tmp_path,
        today,
        smtp_accounts=[smtp(host="smtp.office365.com")],
        lint={"microsoft365": tenant},
    )
    assert got == [(severity, "MS-002", "smtp_accounts[0].auth")]


def test_microsoft_pop3_basic_and_app_passwords(tmp_path):
    got = findings(
        tmp_path,
        pop3_accounts=[pop3(host="outlook.office365.com")],
        smtp_accounts=[smtp(host="smtp.office365.com", password_kind="app_password")],
    )
    assert got == [
        ("error", "MS-001", "pop3_accounts[0].auth"),
        ("error", "MS-011", "smtp_accounts[0].password_kind"),
    ]


def test_outlook_consumer(tmp_path):
    got = findings(
        tmp_path, smtp_accounts=[smtp(host="smtp-mail.outlook.com", username="me@outlook.com")]
    )
    assert got == [("error", "MS-010", "smtp_accounts[0].auth")]


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ({"port": 995, "security": "starttls"}, ("error", "TLS-001", "security")),
        ({"port": 995, "security": "none"}, ("error", "TLS-001", "security")),
        ({"port": 110, "security": "ssl"}, ("error", "TLS-002", "security")),
        ({"security": "none"}, ("error", "TLS-003", "security")),
        ({"auth": "apop", "security": "none"}, ("warning", "APOP-002", "auth")),
    ],
)
def test_pop3_port_and_tls_rules(tmp_path, account, expected):
    severity, rule, field = expected
    got = findings(tmp_path, pop3_accounts=[pop3(**account)])
    assert (severity, rule, f"pop3_accounts[0].{field}") in got


def test_smtp_port_25_and_a_relay_without_login(tmp_path):
    relay = {**smtp(port=25, auth="none", security="none")}
    del relay["password"]
    assert findings(tmp_path, smtp_accounts=[relay]) == [
        ("warning", "TLS-005", "smtp_accounts[0].port")
    ]
    # credentials over port 25 without TLS: both the port and the cleartext are reported
    assert findings(tmp_path, smtp_accounts=[smtp(port=25, security="none")]) == [
        ("error", "TLS-003", "smtp_accounts[0].security"),
        ("warning", "TLS-005", "smtp_accounts[0].port"),
    ]


def test_tls_verification_off_is_an_error_unless_acknowledged(tmp_path):
    conn = {"url": "https://gh.shop.example", "password": {"env": "G"}, "tls": {"verify": False}}
    assert findings(tmp_path, greyhound=conn) == [("error", "TLS-008", "greyhound.tls.verify")]
    conn["tls"]["allow_insecure_cert"] = True
    assert findings(tmp_path, greyhound=conn) == [("warning", "TLS-008", "greyhound.tls.verify")]


def test_connection_warnings(tmp_path):
    conn = {"url": "http://gh.local:8080", "password": {"env": "G"}, "integration_enabled": False}
    assert findings(tmp_path, greyhound=conn, emulator={"server_version": "5.3.0"}) == [
        ("warning", "CONN-001", "greyhound.url"),
        ("warning", "CONN-002", "emulator"),
        ("warning", "CONN-003", "greyhound.integration_enabled"),
    ]
    conn = {**conn, "allow_http": True, "integration_enabled": True}
    assert findings(tmp_path, greyhound=conn) == []


def test_address_warnings(tmp_path):
    got = findings(
        tmp_path,
        smtp_accounts=[smtp(senders=["jörg@shop.example", "a@shop.example", "A@Shop.example"])],
        blacklist=["@shop.example", "noreply@pаypal.example"],
    )
    assert got == [
        ("warning", "ADDR-004", "smtp_accounts[0].senders[2]"),
        ("warning", "ADDR-007", "smtp_accounts[0].senders[0]"),
        ("warning", "ADDR-006", "blacklist[1]"),  # Cyrillic "а" in a Latin domain
        ("warning", "ADDR-009", "blacklist[0]"),  # @shop.example covers the group's address
    ]


def test_group_address_not_covered_by_senders(tmp_path):
    got = findings(tmp_path, smtp_accounts=[smtp(senders=["other@shop.example"])])
    assert got == [("warning", "GRP-001", "pop3_accounts[0]")]
    inactive_star = smtp(active=False)
    got = findings(tmp_path, smtp_accounts=[smtp("B", senders=["b@shop.example"]), inactive_star])
    assert ("warning", "GRP-001", "pop3_accounts[0]") in got


def test_names_that_differ_only_in_case(tmp_path):
    got = findings(
        tmp_path,
        pop3_accounts=[pop3("Sales"), pop3("sales")],
        smtp_accounts=[smtp("Sales"), smtp("sales")],
    )
    assert ("warning", "ACCT-003", "pop3_accounts[1].name") in got
    assert ("warning", "ACCT-003", "smtp_accounts[1].name") in got


def test_docs_list_every_rule_with_its_severity():
    text = (REPO / "docs/manifest.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([A-Z]+-\d{3})` \| (\w+) \|", text, re.M))
    assert documented == {rule.id: rule.severity for rule in RULES.values()}
