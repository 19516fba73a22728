"""Table-driven: every bad input in tests/fixtures/invalid/ gives exit 3 at the exact line with the
exact message; every good input in tests/fixtures/valid/ loads to the exact expected model.

Each fixture is one YAML file, used as `environment.yaml` of a fresh environment folder next to a
copy of tests/fixtures/valid/_base as `../base` (cases marked "res" are a resource file
`accounts.yaml` beside a minimal environment.yaml). The CLI runs in-process through
`reconciler.cli.main`, the same entry point as the installed command.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.manifest.environment import load_environment
from reconciler.model.manifest import Manifest
from tests.helpers import run_cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TODAY = dt.date(2026, 12, 3)

# (fixture, role, extra validate args, exit code, file, line, message fragment)
INVALID = [
    # YAML: the loader
    ("tab-indent", "env", (), 3, "environment.yaml", 4, "a tab character is used for indentation"),
    ("duplicate-key", "env", (), 3, "environment.yaml", 8, "pop3_accounts[0].port: duplicate key 'port' (first at line 7)"),
    ("leading-zero-port", "env", (), 3, "environment.yaml", 7, "'0995' has a leading zero: YAML 1.1 reads it as text (it is not valid octal), YAML 1.2 as the number 995"),
    ("leading-zero-days", "env", (), 3, "environment.yaml", 7, "'030' has a leading zero: YAML 1.1 reads it as the octal number 24, YAML 1.2 as the number 30"),
    ("hex-port", "env", (), 3, "environment.yaml", 7, "'0x3E3' is a number in a form that YAML versions read differently"),
    ("underscore-number", "env", (), 3, "environment.yaml", 7, "'1_000' is a number in a form that YAML versions read differently"),
    ("quoted-port", "env", (), 3, "environment.yaml", 7, "pop3_accounts[0].port: expected a whole number, got text '0995' (write it without quotes: 995)"),
    ("yes-as-boolean", "env", (), 3, "environment.yaml", 7, "active: expected true or false, got text 'yes' (write true; YAML 1.2 reads 'yes' as text)"),
    ("off-as-boolean", "env", (), 3, "environment.yaml", 7, "expected true or false, got text 'off' (write false"),
    ("empty-file", "env", (), 3, "environment.yaml", 1, "is empty; it needs at least the GREYHOUND connection"),
    ("comments-only", "env", (), 3, "environment.yaml", 1, "is empty; it needs at least the GREYHOUND connection"),
    ("unparsable", "env", (), 3, "environment.yaml", 4, "YAML syntax error: did not find expected node content"),
    ("multi-document", "env", (), 3, "environment.yaml", 2, "the file holds more than one YAML document"),
    ("yaml-11-directive", "env", (), 3, "environment.yaml", 1, "the directive '%YAML 1.1' is not supported"),
    ("unknown-tag", "env", (), 3, "environment.yaml", 6, "pop3_accounts[0].password: unsupported tag '!env'"),
    ("top-level-list", "env", (), 3, "environment.yaml", 1, "expected a mapping of sections"),
    ("null-section", "env", (), 3, "environment.yaml", 2, "`pop3_accounts:` has no value; an empty section never means 'none'"),
    ("not-utf8", "env", (), 3, "environment.yaml", 3, "the file is not UTF-8 text (byte 0xfc"),
    ("flow-colon", "env", (), 3, "environment.yaml", 1, "quote a value that holds a colon"),
    # schema: one field at a time
    ("unknown-key-typo", "env", (), 3, "environment.yaml", 7, "unknown key 'delete_from_sever' (did you mean 'delete_from_server'?)"),
    ("unknown-section", "env", (), 3, "environment.yaml", 2, "unknown section 'pop3_acounts' (did you mean 'pop3_accounts'?)"),
    ("resource-file-with-connection", "res", (), 3, "accounts.yaml", 1, "unknown section 'greyhound' (`greyhound` belongs in environment.yaml)"),
    ("missing-host", "env", (), 3, "environment.yaml", 3, "pop3_accounts[0].host: `host` is required but missing"),
    ("missing-greyhound", "env", (), 3, "environment.yaml", 1, "`greyhound` is required but missing"),
    ("bad-security", "env", (), 3, "environment.yaml", 7, "got text 'tls', expected one of 'none', 'ssl' or 'starttls' (did you mean 'starttls'?)"),
    ("security-upper-case", "env", (), 3, "environment.yaml", 7, "did you mean 'ssl'? (case matters)"),
    ("port-out-of-range", "env", (), 3, "environment.yaml", 7, "pop3_accounts[0].port: must be at most 65535, got 70000"),
    ("literal-password", "env", (), 3, "environment.yaml", 6, "a password must be a reference, never the password itself"),
    ("secret-env-and-file", "env", (), 3, "environment.yaml", 6, "needs exactly one of `env: NAME` or `file: PATH`"),
    ("secret-bad-env-name", "env", (), 3, "environment.yaml", 6, "password.env: the value is not an environment variable name"),
    ("name-with-colon", "env", (), 3, "environment.yaml", 3, "'Sales: EU' is not a name of 1–100 characters without ':'"),
    ("number-as-username", "env", (), 3, "environment.yaml", 5, 'expected text, got number 12345 (quote it if you mean the text: "12345")'),
    ("senders-star-not-alone", "env", (), 3, "environment.yaml", 12, '"*" (all senders) must stand alone in `senders`'),
    ("sender-display-name", "env", (), 3, "environment.yaml", 12, "error ADDR-001: smtp_accounts[0].senders[0]: 'Shop <shop@shop.example>' is not a single bare address"),
    ("senders-not-a-list", "env", (), 3, "environment.yaml", 12, "expected a list, got text 'sales@shop.example' (write a list: [sales@shop.example])"),
    ("blacklist-bad-domain", "env", (), 3, "environment.yaml", 13, "blacklist[0]: 'exa mple.com' is not a domain name"),
    ("blacklist-wildcard", "env", (), 3, "environment.yaml", 14, "error ADDR-008: blacklist[1]: '*.tracking.example': wildcards are not supported"),
    ("group-email-invalid", "env", (), 3, "environment.yaml", 14, "groups[0].email: 'support@' is not an e-mail address"),
    ("url-not-https", "env", (), 3, "environment.yaml", 1, "'ftp://greyhound.example.com' is not https://<host>[:port]"),
    ("after-days-without-days", "env", (), 3, "environment.yaml", 7, "policy `after_days` needs `days` (1 or more)"),
    ("days-with-never", "env", (), 3, "environment.yaml", 7, "`days` only applies to policy `after_days`, not `never`"),
    ("days-zero", "env", (), 3, "environment.yaml", 7, "delete_from_server.days: must be at least 1, got 0"),
    ("apop-on-smtp", "env", (), 3, "environment.yaml", 12, "error APOP-001: smtp_accounts[0].auth: APOP is a POP3 command"),
    ("nonstandard-port-no-security", "env", (), 3, "environment.yaml", 7, "error TLS-009: pop3_accounts[0].port: port 2995 is not a standard POP3 port"),
    # cross-object rules
    ("too-many-pop3", "env", (), 3, "environment.yaml", 14, "11 POP3 accounts declared; the cap is 10"),
    ("pop3-without-smtp", "env", (), 3, "environment.yaml", 3, "POP3 account 'Support' has no SMTP account of the same name"),
    ("group-without-pop3", "env", (), 3, "environment.yaml", 13, "group 'Billing' has no POP3 account of the same name"),
    ("username-not-address", "env", (), 3, "environment.yaml", 5, "the username 'support' is not an e-mail address, so the group 'Support' needs its address given"),
    ("oauth2-with-password", "env", (), 3, "environment.yaml", 6, "OAuth2 accounts carry no password"),
    ("login-without-password", "env", (), 3, "environment.yaml", 3, "auth 'login' needs a password reference"),
    ("duplicate-name", "env", (), 3, "environment.yaml", 7, "duplicate name 'Support' in pop3_accounts (first defined at"),
    ("remove-pop3-keep-smtp", "env", (), 3, "environment.yaml", 4, "POP3 account 'Sales' is removed but SMTP account 'Sales' is kept"),
    ("remove-unknown", "env", (), 3, "environment.yaml", 4, "`remove: true` for 'Billing', but no included base defines it"),
    ("remove-with-fields", "env", (), 3, "environment.yaml", 4, "`remove: true` takes only the name, but port given too"),
    ("include-missing", "env", (), 3, "environment.yaml", 2, "included folder '../shared' does not exist"),
    ("override-typo", "env", (), 3, "environment.yaml", 4, "'Suport' is not defined in an included base, and as a new entry it lacks host, username (did you mean 'Support'?)"),
    ("blacklist-remove-unknown", "env", (), 3, "environment.yaml", 5, "'tracking.example' (canonical '@tracking.example') is not in any included blacklist"),
    ("filter-unknown-parent", "env", (), 3, "environment.yaml", 14, "parent filter 'Spam' is neither declared under filters nor one of the standard filters"),
    ("filter-standard-name", "env", (), 3, "environment.yaml", 13, "filter 'Support (Pool)' is one Elements creates itself"),
    ("filter-cycle", "env", (), 3, "environment.yaml", 13, "filter 'A' is its own ancestor"),
    ("filter-unknown-group", "env", (), 3, "environment.yaml", 14, "filter group 'Suport' is not the group of a declared POP3 account (did you mean 'Support'?)"),
    ("group-email-conflict", "env", (), 3, "environment.yaml", 7, "the group address is given twice and differs"),
    ("ignore-error-rule", "env", (), 3, "environment.yaml", 3, "TLS-003 is an error rule and cannot be ignored"),
    ("ca-file-missing", "env", (), 3, "environment.yaml", 5, "greyhound.tls.ca_file: the CA certificate file 'certs/greyhound.pem' does not exist"),
    ("server-without-password", "env", (), 3, "environment.yaml", 1, "a GREYHOUND server needs the administrator's password reference"),
    # lint rules (errors, and warnings under --strict)
    ("gmail-account-password", "env", (), 3, "environment.yaml", 7, "error GOOG-001: pop3_accounts[0].password_kind: Google refuses account passwords"),
    ("m365-pop3-password", "env", (), 3, "environment.yaml", 3, "error MS-001: pop3_accounts[0].auth: Exchange Online switched Basic auth for POP3 off"),
    ("outlook-consumer", "env", (), 3, "environment.yaml", 3, "error MS-010: pop3_accounts[0].auth: Outlook.com ended Basic auth"),
    ("port-995-starttls", "env", (), 3, "environment.yaml", 8, "error TLS-001: pop3_accounts[0].security: port 995 expects TLS from the first byte"),
    ("port-587-ssl", "env", (), 3, "environment.yaml", 13, "error TLS-002: smtp_accounts[0].security: port 587 starts in cleartext"),
    ("login-without-tls", "env", (), 3, "environment.yaml", 7, "error TLS-003: pop3_accounts[0].security: credentials (login) would cross the network in cleartext"),
    ("tls-verify-off", "env", (), 3, "environment.yaml", 4, "error TLS-008: greyhound.tls.verify: certificate verification of the GREYHOUND server is disabled"),
    ("apop-gmail", "env", (), 3, "environment.yaml", 7, "error APOP-003: pop3_accounts[0].auth: APOP cannot carry an OAuth token, and Google needs one"),
    ("m365-smtp-basic", "env", ("--strict",), 3, "environment.yaml", 8, "error MS-002: smtp_accounts[0].auth: as of 2026-12-03, SMTP Basic still works"),
    ("m365-smtp-basic", "env", ("--as-of", "2027-01-01"), 3, "environment.yaml", 8, "error MS-002: smtp_accounts[0].auth: as of 2027-01-01: Exchange Online switches SMTP AUTH Basic off"),
    ("smtp-port-25", "env", ("--strict",), 3, "environment.yaml", 12, "error TLS-005: smtp_accounts[0].port: port 25 is for relaying"),
    ("apop-without-tls", "env", ("--strict",), 3, "environment.yaml", 7, "error APOP-002: pop3_accounts[0].auth: APOP's MD5 challenge-response is broken"),
    ("blacklist-duplicate", "env", ("--strict",), 3, "environment.yaml", 15, "error ADDR-004: blacklist[2]: 'noreply@marketplace.EXAMPLE' is listed twice"),
    ("no-pop3", "env", ("--strict",), 3, "environment.yaml", 1, "error ACCT-001: no POP3 account declared"),
]  # fmt: skip


def make_case(tmp_path: Path, fixture: Path, role: str) -> Path:
    shutil.copytree(FIXTURES / "valid" / "_base", tmp_path / "base")
    env = tmp_path / "env"
    env.mkdir()
    if role == "res":
        (env / "environment.yaml").write_text('greyhound: {url: "embedded:.state/s.json"}\n')
        shutil.copy(fixture, env / "accounts.yaml")
    else:
        shutil.copy(fixture, env / "environment.yaml")
    return env


def run_main(args: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reconciler", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_table_covers_every_invalid_fixture():
    files = {p.stem for p in (FIXTURES / "invalid").glob("*.yaml")}
    assert files == {case[0] for case in INVALID}
    assert len(files) >= 40


@pytest.mark.parametrize(
    ("fixture", "role", "args", "code", "file", "line", "fragment"),
    INVALID,
    ids=[f"{c[0]}{'-' + '-'.join(c[2]) if c[2] else ''}" for c in INVALID],
)
def test_invalid_fixture(
    tmp_path, monkeypatch, capsys, fixture, role, args, code, file, line, fragment
):
    make_case(tmp_path, FIXTURES / "invalid" / f"{fixture}.yaml", role)
    monkeypatch.chdir(tmp_path)
    if "--as-of" not in args:
        args = (*args, "--as-of", TODAY.isoformat())
    got, out, err = run_main(["validate", "env", *args], monkeypatch, capsys)
    assert got == code, err
    assert out == ""
    first_error = next(x for x in err.splitlines() if re.match(r"^\S+:\d+:\d+: error", x))
    assert first_error.startswith(f"env/{file}:{line}:"), err
    assert fragment in first_error, err
    assert "Traceback" not in err
    assert err.rstrip().endswith("error(s); nothing was changed.")


def test_a_literal_password_is_never_repeated(tmp_path, monkeypatch, capsys):
    make_case(tmp_path, FIXTURES / "invalid" / "literal-password.yaml", "env")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(["validate", "env"], monkeypatch, capsys)
    assert code == 3
    assert "hunter2" not in out + err


@pytest.mark.parametrize("fixture", ["leading-zero-port", "literal-password", "unparsable"])
def test_installed_command_exits_3_without_traceback(tmp_path, fixture):
    make_case(tmp_path, FIXTURES / "invalid" / f"{fixture}.yaml", "env")
    result = run_cli("validate", "env", cwd=tmp_path)
    assert result.code == 3
    assert "Traceback" not in result.err
    assert re.search(r"^env/environment\.yaml:\d+:\d+: error", result.err, re.M), result.err


# --- good inputs -------------------------------------------------------------------------------

EMBEDDED = {"url": "embedded:.state/s.json"}


def pop3(name, user, **extra):
    return {"name": name, "host": "pop.shop.example", "username": user, **extra}


def smtp(name, user, **extra):
    return {"name": name, "host": "smtp.shop.example", "username": user, **extra}


def env(name: str) -> dict:
    return {"env": name}


BASE_SUPPORT_POP3 = pop3(
    "Support",
    "support@shop.example",
    port=995,
    security="ssl",
    password=env("SUPPORT_POP3_PASSWORD"),
    delete_from_server={"policy": "after_days", "days": 30},
)
BASE_SALES_POP3 = pop3("Sales", "sales@shop.example", password=env("SALES_POP3_PASSWORD"))
BASE_SUPPORT_SMTP = smtp("Support", "support@shop.example", password=env("SUPPORT_SMTP_PASSWORD"))
BASE_SALES_SMTP = smtp(
    "Sales",
    "sales@shop.example",
    password=env("SALES_SMTP_PASSWORD"),
    senders=["sales@shop.example"],
)

# fixture -> (expected manifest data, expected warning rule ids)
VALID: dict[str, tuple[dict, list[str]]] = {
    "minimal": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3("Support", "support@shop.example", password=env("SUPPORT_POP3_PASSWORD"))
            ],
            "smtp_accounts": [
                smtp("Support", "support@shop.example", password=env("SUPPORT_SMTP_PASSWORD"))
            ],
        },
        [],
    ),
    "utf8-bom": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3("Support", "support@shop.example", password=env("SUPPORT_POP3_PASSWORD"))
            ],
            "smtp_accounts": [
                smtp("Support", "support@shop.example", password=env("SUPPORT_SMTP_PASSWORD"))
            ],
        },
        [],
    ),
    "security-from-port": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3(
                    "Support",
                    "support@shop.example",
                    port=110,
                    security="starttls",
                    password=env("P1"),
                )
            ],
            "smtp_accounts": [
                smtp(
                    "Support", "support@shop.example", port=465, security="ssl", password=env("S1")
                ),
                {
                    "name": "Relay",
                    "host": "relay.shop.example",
                    "port": 2525,
                    "security": "starttls",
                    "auth": "none",
                    "username": "relay",
                },
            ],
        },
        [],
    ),
    "yaml12-strings": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [pop3("yes", "no", group_email="off@shop.example", password=env("P"))],
            "smtp_accounts": [smtp("yes", "0995", password=env("S"))],
        },
        [],
    ),
    "merge-keys": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3(
                    "Support",
                    "support@shop.example",
                    port=995,
                    security="ssl",
                    password=env("SUPPORT_POP3"),
                    delete_from_server={"policy": "after_days", "days": 14},
                ),
                pop3(
                    "Sales",
                    "sales@shop.example",
                    port=110,
                    security="starttls",
                    password=env("SALES_POP3"),
                    delete_from_server={"policy": "after_days", "days": 14},
                ),
            ],
            "smtp_accounts": [
                smtp("Support", "support@shop.example", port=587, password=env("SUPPORT_SMTP")),
                smtp("Sales", "sales@shop.example", port=587, password=env("SALES_SMTP")),
            ],
        },
        [],
    ),
    "normalized-addresses": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [pop3("Support", "Support@Shop.Example", password=env("P"))],
            "smtp_accounts": [
                {
                    **smtp("Support", "support@shop.example", password=env("S")),
                    "host": "smtp.xn--bcher-kva.example",
                    "senders": ["info@xn--bcher-kva.example", "support@shop.example"],
                }
            ],
            "groups": [{"name": "Support", "email": "service@xn--bcher-kva.example"}],
        },
        ["GRP-001"],
    ),
    "blacklist-forms": (
        {
            "greyhound": EMBEDDED,
            "blacklist": [
                "noreply@marketplace.example",
                "@payments.example",
                "@tracking.example",
                "@mailer.example",
                "info@xn--bcher-kva.example",
            ],
        },
        ["ACCT-001", "ACCT-002"],
    ),
    "delete-policies": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3(
                    "Keep",
                    "keep@shop.example",
                    password=env("P1"),
                    delete_from_server={"policy": "never"},
                ),
                pop3(
                    "Month",
                    "month@shop.example",
                    password=env("P2"),
                    delete_from_server={"policy": "after_days", "days": 30},
                    delete_when_deleted_in_elements=True,
                ),
                pop3(
                    "Now",
                    "now@shop.example",
                    password=env("P3"),
                    delete_from_server={"policy": "immediately"},
                ),
            ],
            "smtp_accounts": [
                smtp("Keep", "keep@shop.example", password=env("S1")),
                smtp("Month", "month@shop.example", password=env("S2")),
                smtp("Now", "now@shop.example", password={"file": "secrets/now"}),
            ],
        },
        [],
    ),
    "oauth2": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                {
                    "name": "Office",
                    "host": "outlook.office365.com",
                    "auth": "oauth2",
                    "username": "office@shop.example",
                }
            ],
            "smtp_accounts": [
                {
                    "name": "Office",
                    "host": "smtp.office365.com",
                    "auth": "oauth2",
                    "username": "office@shop.example",
                    "active": False,
                }
            ],
        },
        [],
    ),
    "filters": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [pop3("Support", "support@shop.example", password=env("P"))],
            "smtp_accounts": [smtp("Support", "support@shop.example", password=env("S"))],
            "filters": [
                {"name": "Rechnungen"},
                {"name": "Mahnungen", "parent": "Rechnungen", "group": "Support"},
                {"name": "Phishing", "parent": "Spamverdacht"},
            ],
        },
        [],
    ),
    "include-override": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                {
                    **BASE_SUPPORT_POP3,
                    "host": "pop.staging.example",
                    "delete_from_server": {"policy": "never"},
                    "active": False,
                },
                BASE_SALES_POP3,
            ],
            "smtp_accounts": [
                {**BASE_SUPPORT_SMTP, "senders": ["support@shop.example", "help@shop.example"]},
                BASE_SALES_SMTP,
            ],
            "blacklist": ["noreply@marketplace.example", "@payments.example"],
        },
        [],
    ),
    "include-remove": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [BASE_SUPPORT_POP3],
            "smtp_accounts": [BASE_SUPPORT_SMTP],
            "blacklist": ["noreply@marketplace.example", "bounce@shop.example"],
        },
        [],
    ),
    "group-email": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                pop3(
                    "Support",
                    "support-mailbox",
                    password=env("P"),
                    group_email="support@shop.example",
                )
            ],
            "smtp_accounts": [smtp("Support", "support-mailbox", password=env("S"))],
        },
        [],
    ),
    "lint-settings": (
        {
            "greyhound": EMBEDDED,
            "lint": {"ignore": ["TLS-005"], "microsoft365": {"smtp_basic_reenabled": True}},
            "pop3_accounts": [pop3("Support", "support@shop.example", password=env("P"))],
            "smtp_accounts": [
                {
                    **smtp("Support", "support@shop.example", password=env("S")),
                    "host": "mail.shop.example",
                    "port": 25,
                }
            ],
        },
        [],
    ),
    "connection": (
        {
            "greyhound": {
                "url": "https://greyhound.shop.example:8443",
                "username": "elements-api",
                "password": {"file": "secrets/greyhound"},
                "tls": {"ca_file": "../base/greyhound-ca.pem"},
                "timeout": 12.5,
            },
            "env_file": "prod.env",
            "prune": True,
            "pop3_accounts": [pop3("Support", "support@shop.example", password=env("P"))],
            "smtp_accounts": [smtp("Support", "support@shop.example", password=env("S"))],
        },
        ["SECRET-001"],  # env_file prod.env is not there (CI writes it)
    ),
    "providers": (
        {
            "greyhound": EMBEDDED,
            "pop3_accounts": [
                {
                    **pop3("Gmail", "shop@gmail.com", password=env("GMAIL_APP_PASSWORD")),
                    "host": "pop.gmail.com",
                    "password_kind": "app_password",
                    "protected": True,
                },
                {
                    **pop3("Hosted", "hosted@shop.example", password=env("HOSTED")),
                    "host": "mail.shop.example",
                    "provider": "other",
                },
            ],
            "smtp_accounts": [
                {
                    **smtp("Gmail", "shop@gmail.com", password=env("GMAIL_APP_PASSWORD")),
                    "host": "smtp.gmail.com",
                    "port": 465,
                    "security": "ssl",
                    "password_kind": "app_password",
                },
                {
                    **smtp("Hosted", "hosted@shop.example", password=env("HOSTED")),
                    "host": "mail.shop.example",
                },
            ],
        },
        ["GOOG-002", "GOOG-002"],
    ),
    "emulator-seed": (
        {
            "greyhound": {"url": "embedded:.state/greyhound.json", "password": env("GH")},
            "emulator": {
                "server_version": "5.4.1",
                "simulated_endpoints": [
                    {
                        "protocol": "pop3",
                        "host": "pop.shop.example",
                        "port": 995,
                        "security": "ssl",
                        "username": "support@shop.example",
                        "password": env("P"),
                    }
                ],
            },
            "pop3_accounts": [pop3("Support", "support@shop.example", password=env("P"))],
            "smtp_accounts": [smtp("Support", "support@shop.example", password=env("S"))],
        },
        [],
    ),
}


def test_the_table_covers_every_valid_fixture():
    files = {p.stem for p in (FIXTURES / "valid").glob("*.yaml")}
    assert files == set(VALID)
    assert len(files) >= 15


@pytest.mark.parametrize("fixture", sorted(VALID))
def test_valid_fixture_loads_to_the_exact_model(tmp_path, monkeypatch, fixture):
    expected_data, expected_warnings = VALID[fixture]
    env_dir = make_case(tmp_path, FIXTURES / "valid" / f"{fixture}.yaml", "env")
    monkeypatch.chdir(tmp_path)
    loaded = load_environment(env_dir, today=TODAY)
    assert loaded.manifest == Manifest.model_validate(expected_data)
    assert [w.rule for w in loaded.warnings] == expected_warnings


def test_minimal_fixture_spells_out_every_default(tmp_path, monkeypatch):
    """The defaults documented in docs/manifest.md, asserted value by value."""
    env_dir = make_case(tmp_path, FIXTURES / "valid" / "minimal.yaml", "env")
    monkeypatch.chdir(tmp_path)
    dumped = load_environment(env_dir, today=TODAY).manifest.model_dump(mode="json")
    assert dumped == {
        "greyhound": {
            "url": "embedded:.state/s.json",
            "username": "admin",
            "password": None,
            "tls": {"ca_file": None, "verify": True, "allow_insecure_cert": False},
            "allow_http": False,
            "integration_enabled": True,
            "timeout": 30.0,
            "retries": 4,
        },
        "prune": False,
        "env_file": None,
        "emulator": None,
        "lint": {
            "ignore": [],
            "microsoft365": {"smtp_basic_reenabled": False, "created_after_2026": False},
        },
        "assignment_samples": None,
        "pop3_accounts": [
            {
                "name": "Support",
                "host": "pop.shop.example",
                "port": None,
                "security": "ssl",
                "username": "support@shop.example",
                "password": {"env": "SUPPORT_POP3_PASSWORD", "file": None},
                "password_kind": None,
                "provider": None,
                "active": True,
                "protected": False,
                "auth": "login",
                "delete_from_server": {"policy": "never", "days": None},
                "delete_when_deleted_in_elements": False,
                "group_email": None,
            }
        ],
        "smtp_accounts": [
            {
                "name": "Support",
                "host": "smtp.shop.example",
                "port": None,
                "security": "starttls",
                "username": "support@shop.example",
                "password": {"env": "SUPPORT_SMTP_PASSWORD", "file": None},
                "password_kind": None,
                "provider": None,
                "active": True,
                "protected": False,
                "auth": "login",
                "senders": ["*"],
            }
        ],
        "groups": [],
        "filters": [],
        "blacklist": None,
    }


@pytest.mark.parametrize("example", ["demo", "staging", "prod"])
def test_example_environments_validate_strictly(example):
    result = run_cli("validate", f"environments/{example}", "--strict", "--as-of", "2026-12-03")
    assert result.code == 0, result.text
    assert result.out.startswith(f"{example}: valid (")
