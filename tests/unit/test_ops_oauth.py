"""OAuth2 pieces without a network: the emulator's consent flows, the link record, plan order."""

from __future__ import annotations

import pytest

from reconciler.emulator import oauth as E
from reconciler.emulator.app import RpcFault
from reconciler.greyhound import protocol as P
from reconciler.model.state import Kind, Resource, State
from reconciler.ops.oauthlinks import (
    OAUTH2_FACT,
    Link,
    annotate,
    needs_linking,
    parse_links,
    with_link,
)
from reconciler.plan.build import build_plan


def test_providers_are_known_by_host():
    assert E.provider_of("outlook.office365.com") == "microsoft"
    assert E.provider_of("SMTP.Office365.com.") == "microsoft"
    assert E.provider_of("imap.gmail.com") == "google"
    assert E.provider_of("pop.example.com") is None
    assert E.provider_of("notoffice365.com") is None


def test_flow_pending_then_granted_once():
    flows = E.OAuth2Flows()
    start = flows.call(
        "RpcPop3Accounts", "StartOAuth2Authentication", ["outlook.office365.com", "", ""], "m"
    )
    assert start["Kind"] == "microsoft"
    assert start["Url"] == E.CONSENT_URL.format(kind="microsoft", identifier=start["Identifier"])
    check = [
        "RpcPop3Accounts",
        "CheckOAuth2Authentication",
        [start["Identifier"], "microsoft"],
        "m",
    ]
    assert flows.call(*check) == {"State": P.OAUTH2_PENDING, "RefreshToken": ""}
    assert flows.pending() == [start["Identifier"]]
    flows.decide(start["Identifier"], granted=True)
    done = flows.call(*check)
    assert done["State"] == P.OAUTH2_FINISHED and done["RefreshToken"].startswith("rt-microsoft-")
    flows.decide(start["Identifier"], granted=False)  # a decision is final
    assert flows.call(*check) == done
    # the flow belongs to the class and kind it was started for
    other = [
        "RpcSmtpAccounts",
        "CheckOAuth2Authentication",
        [start["Identifier"], "microsoft"],
        "m",
    ]
    assert flows.call(*other)["State"] == P.OAUTH2_NONE


def test_flow_declined_expired_and_bad_input(monkeypatch):
    flows = E.OAuth2Flows()
    start = flows.start("RpcSmtpAccounts", "smtp.gmail.com")
    flows.decide(start["Identifier"], granted=False)
    assert (
        flows.check("RpcSmtpAccounts", start["Identifier"], "google", "m")["State"]
        == P.OAUTH2_FAILED
    )
    late = flows.start("RpcSmtpAccounts", "smtp.gmail.com")
    monkeypatch.setattr(E, "FLOW_LIFETIME", -1.0)
    assert (
        flows.check("RpcSmtpAccounts", late["Identifier"], "google", "m")["State"]
        == P.OAUTH2_FAILED
    )
    with pytest.raises(RpcFault, match="no OAuth2 provider is known for host 'pop.shop.example'"):
        flows.start("RpcPop3Accounts", "pop.shop.example")
    with pytest.raises(RpcFault, match="expected 3 string parameter"):
        flows.call("RpcPop3Accounts", "StartOAuth2Authentication", ["x"], "m")


def test_auto_decision_for_embedded_runs(monkeypatch):
    monkeypatch.setenv(E.AUTO_ENV, "decline")
    flows = E.OAuth2Flows()
    start = flows.start("RpcPop3Accounts", "outlook.office365.com")
    assert (
        flows.check("RpcPop3Accounts", start["Identifier"], "microsoft", "m")["State"]
        == P.OAUTH2_FAILED
    )


def _account(kind, name, active, auth="oauth2", facts=None):
    fields = {"host": "outlook.office365.com", "port": 995, "security": "ssl", "auth": auth,
              "username": "b@x.example", "active": active}  # fmt: skip
    return Resource(kind, name, fields, id=7 if facts is not None else None, facts=facts or {})


def test_link_record_annotates_live_accounts():
    links = with_link(
        parse_links(""), Kind.POP3, "Billing", Link(linked_at="2026-01-01T00:00:00+00:00")
    )
    assert parse_links(links.to_text()) == links
    assert parse_links("not json").accounts == {}
    live = State()
    live.add(_account(Kind.POP3, "Billing", False, facts={}))
    live.add(_account(Kind.SMTP, "Billing", False, facts={}))
    live.add(_account(Kind.SMTP, "Support", True, auth="login", facts={}))
    annotate(live, links)
    assert live.get(Kind.POP3, "Billing").facts[OAUTH2_FACT] == "linked"
    assert live.get(Kind.SMTP, "Billing").facts[OAUTH2_FACT] == "unlinked"
    assert OAUTH2_FACT not in live.get(Kind.SMTP, "Support").facts
    assert with_link(links, Kind.POP3, "Billing", None).accounts == {}


def test_plan_never_activates_an_unlinked_oauth2_account():
    desired = State()
    desired.add(_account(Kind.POP3, "Billing", True))
    live = State()
    live.add(_account(Kind.POP3, "Billing", False, facts={OAUTH2_FACT: "unlinked"}))
    assert needs_linking(desired.get(Kind.POP3, "Billing"), live.get(Kind.POP3, "Billing"))
    plan = build_plan("prod", desired, live)
    assert plan.steps == []
    assert plan.warnings[0].startswith("pop3 account 'Billing' uses OAuth2 and needs linking")
    linked = State()
    linked.add(_account(Kind.POP3, "Billing", False, facts={OAUTH2_FACT: "linked"}))
    plan = build_plan("prod", desired, linked)
    assert [(s.action.value, s.after) for s in plan.steps] == [("activate", [])]
    assert plan.warnings == []
    created = build_plan("prod", desired, State())
    assert [s.action.value for s in created.steps] == ["create"]
