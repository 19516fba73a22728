"""`reconciler export`: live server -> manifests; plan against the same server then shows no changes."""

from __future__ import annotations

from ruamel.yaml import YAML

from reconciler.greyhound import protocol as P
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp, write_yaml

NAMES = [f"A{i}" for i in range(10)]
BLACKLIST = sorted(
    {f"user{i}@sender{i % 97}.example" for i in range(4900)}
    | {f"@bulk{i}.example" for i in range(100)}
)


def _varied_accounts():
    pops = []
    for name in NAMES:
        extra: dict = {}
        if name == "A1":
            extra["delete_from_server"] = {"policy": "after_days", "days": 14}
        if name == "A2":
            extra["delete_from_server"] = {"policy": "immediately"}
        if name == "A3":
            extra["delete_when_deleted_in_elements"] = True
        if name == "A4":
            extra["active"] = False
        if name == "A7":
            extra["auth"] = "apop"
        if name == "A8":
            extra["protected"] = True
        pops.append(pop3(name, **extra))
    smtps = [
        smtp(n, **({"active": False} if n == "A4" else {}))
        if n != "A6"
        else smtp(n, senders=["a6@shop.example", "angebote@shop.example"])
        for n in NAMES
    ]
    return pops, smtps


def _ids(store, cls):
    return {o["Name"]: o["ID"] for o in store.objects[cls].values()}


def _seed_extras(store):
    """Custom filters, objects a manifest cannot hold, a 5,000-entry blacklist; no marker."""
    groups = _ids(store, "RpcGroups")
    filters = _ids(store, "RpcFilters")
    store.seed(
        {
            "RpcGroups": [{"Name": "Buchhaltung", "Email": "buha@shop.example"}],
            "RpcSignatures": [{"Name": "Newsletter"}],
            "RpcRules": [{"Name": "Spam sortieren", "State": 1, "Kind": 1}],
            "RpcFilters": [
                {"Name": "Reklamationen", "GroupRefs": [groups["A0"]]},
                {"Name": "VIP"},
                {
                    "Name": "Mahnungen",
                    "ParentRef": filters["A1 (Offene Mails)"],
                    "GroupRefs": [groups["A1"]],
                },
                {"Name": "Geprüft-Archiv", "ParentRef": filters["Spamverdacht"]},
            ],
            "globals": {P.BLACKLIST_GLOBAL: __import__("json").dumps(BLACKLIST)},
        }
    )
    groups = _ids(store, "RpcGroups")
    filters = _ids(store, "RpcFilters")
    store.seed(
        {
            "RpcFilters": [
                {
                    "Name": "Rücksendungen",
                    "ParentRef": filters["Reklamationen"],
                    "GroupRefs": [groups["A0"]],
                },
                {"Name": "Buchhaltung offen", "GroupRefs": [groups["Buchhaltung"]]},
            ]
        }
    )
    filters = _ids(store, "RpcFilters")
    store.seed(
        {"RpcFilters": [{"Name": "Buchhaltung alt", "ParentRef": filters["Buchhaltung offen"]}]}
    )
    # someone changed a group address in the GREYHOUND client
    (a5,) = [g for g in store.objects["RpcGroups"].values() if g["Name"] == "A5"]
    a5["Email"] = "service-a5@shop.example"
    del store.globals[P.MARKER_GLOBAL]  # a server set up by hand: no marker
    store.save()


def _generated_secrets() -> dict[str, str]:
    source = secrets_for(*NAMES)
    out = {"GH_PASSWORD": source["GH_PASSWORD"]}
    for name in NAMES:
        out[f"POP3_{name}_PASSWORD"] = source[f"PW_{name}_POP3"]
        out[f"SMTP_{name}_PASSWORD"] = source[f"PW_{name}_SMTP"]
    return out


def test_export_round_trip_10_plus_10_accounts_filters_unmanaged_and_5000_blacklist(
    tmp_path, emulator
):
    pops, smtps = _varied_accounts()
    source = make_env(tmp_path / "built", emulator.url, pops, smtps)
    applied = run_cli("apply", str(source), "--auto-approve", env=secrets_for(*NAMES))
    assert applied.code == 0, applied.text
    _seed_extras(emulator.store)

    adopt = tmp_path / "prod"
    write_yaml(
        adopt / "environment.yaml",
        {
            "greyhound": {
                "url": emulator.url,
                "password": {"env": "GH_PASSWORD"},
                "allow_http": True,
            }
        },
    )
    out = tmp_path / "exported"
    result = run_cli("export", str(adopt), "--out", str(out), env=_generated_secrets())
    assert result.code == 0, result.text
    assert (
        "Exported 10 POP3 and 10 SMTP accounts, 1 group address(es), 5 filter(s) and 5000 blacklist "
        f"entries from {emulator.url} to {out}: accounts.yaml, blacklist.yaml, environment.yaml, "
        "filters.yaml."
    ) in result.out
    assert (
        "Set these 20 secret(s) before plan or apply: POP3_A0_PASSWORD, POP3_A1_PASSWORD,"
        in result.out
    )
    assert result.err.splitlines()[-2:] == [
        "not exported (stays unmanaged): filter 'Buchhaltung alt': its parent filter 'Buchhaltung "
        "offen' is not exported",
        "not exported (stays unmanaged): filter 'Buchhaltung offen': its group 'Buchhaltung' is not "
        "the group of an exported POP3 account",
    ]

    yaml = YAML(typ="safe")
    accounts = yaml.load((out / "accounts.yaml").read_text())
    by_name = {a["name"]: a for a in accounts["pop3_accounts"]}
    assert [a["name"] for a in accounts["pop3_accounts"]] == NAMES
    assert by_name["A1"]["delete_from_server"] == {"policy": "after_days", "days": 14}
    assert by_name["A2"]["delete_from_server"] == {"policy": "immediately"}
    assert by_name["A4"]["active"] is False
    assert by_name["A7"]["auth"] == "apop"
    assert "protected" not in by_name["A8"]  # recorded in the marker only, and this server has none
    assert by_name["A0"]["password"] == {"env": "POP3_A0_PASSWORD"}
    assert accounts["groups"] == [{"name": "A5", "email": "service-a5@shop.example"}]
    a6 = next(a for a in accounts["smtp_accounts"] if a["name"] == "A6")
    assert a6["senders"] == ["a6@shop.example", "angebote@shop.example"]
    filters = yaml.load((out / "filters.yaml").read_text())["filters"]
    assert filters == [
        {"name": "Geprüft-Archiv", "parent": "Spamverdacht"},
        {"name": "Mahnungen", "parent": "A1 (Offene Mails)", "group": "A1"},
        {"name": "Reklamationen", "group": "A0"},
        {"name": "Rücksendungen", "parent": "Reklamationen", "group": "A0"},
        {"name": "VIP"},
    ]
    assert yaml.load((out / "blacklist.yaml").read_text())["blacklist"] == BLACKLIST
    everything = "".join(p.read_text() for p in out.iterdir())
    for value in secrets_for(*NAMES).values():
        assert value not in everything and value not in result.text

    plan = run_cli("plan", str(out), "--detailed-exitcode", env=_generated_secrets())
    assert plan.code == 0, plan.text
    assert "No changes. The server matches the manifest." in plan.out
    # passwords were never written by this tool: a warning each, never a change
    assert plan.out.count("was never written by this tool") == 20
    unmanaged = plan.out[plan.out.index("Unmanaged") :].splitlines()[1:5]
    assert unmanaged == [
        "  2 filter(s): 'Buchhaltung alt', 'Buchhaltung offen'",
        "  1 group(s): 'Buchhaltung'",
        "  1 rule(s): 'Spam sortieren'",
        "  1 signature(s): 'Newsletter'",
    ]

    # stable: a second export writes the same bytes
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run_cli("export", str(adopt), "--out", str(out), env=_generated_secrets())
    assert again.code == 0, again.text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_export_keeps_the_manifest_secret_names_and_refuses_foreign_files(tmp_path, emulator):
    env = make_env(
        tmp_path / "env", emulator.url, [pop3("Support", protected=True)], [smtp("Support")]
    )
    secrets = secrets_for("Support")
    assert run_cli("apply", str(env), "--auto-approve", env=secrets).code == 0
    out = tmp_path / "out"
    write_yaml(out / "accounts.yaml", {"pop3_accounts": []})
    # an account a manifest cannot hold: a POP3 account without its SMTP account
    emulator.store.seed(
        {"RpcPop3Accounts": [{"Name": "Altkonto", "Host": "pop.old.example", "Username": "alt"}]}
    )
    refused = run_cli("export", str(env), "--out", str(out), env=secrets)
    assert refused.code == 1
    assert "accounts.yaml exists and was not written by `reconciler export`" in refused.err
    assert not (out / "filters.yaml").exists()  # nothing was written
    result = run_cli("export", str(env), "--out", str(out), "--force", env=secrets)
    assert result.code == 0, result.text
    text = (out / "accounts.yaml").read_text()
    assert "password: {env: PW_SUPPORT_POP3}" in text and "password: {env: PW_SUPPORT_SMTP}" in text
    assert "    active: true\n    protected: true\n" in text  # from the marker
    assert not (out / "blacklist.yaml").exists()  # the server has no blacklist: not managed
    assert result.err.splitlines()[-1] == (
        "not exported (stays unmanaged): pop3 account 'Altkonto': it has no SMTP account of the same "
        "name, which a manifest requires (Elements creates both together)"
    )
    # the marker's password fingerprints still match: no warnings, no changes
    plan = run_cli("plan", str(out), "--detailed-exitcode", env=secrets)
    assert plan.code == 0, plan.text
    assert "never written by this tool" not in plan.out
    assert "  pop3 'Altkonto' (inactive)" in plan.out
    prefixed = run_cli(
        "export", str(env), "--out", str(tmp_path / "other"), "--secret-prefix", "PROD", env=secrets
    )
    assert prefixed.code == 0
    assert "password: {env: PW_SUPPORT_POP3}" in (tmp_path / "other" / "accounts.yaml").read_text()
