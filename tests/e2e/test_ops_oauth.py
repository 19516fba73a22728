"""OAuth2 accounts: created inactive, "needs linking" (never a change loop), `oauth link`/`renew`."""

from __future__ import annotations

import threading
import time

from reconciler.greyhound import protocol as P
from tests.helpers import make_env, pop3, run_cli, secrets_for, smtp

CONSENT_URL = "https://login.emulator.invalid/oauth2/authorize?provider=microsoft&id="
SECRETS = {"GH_PASSWORD": secrets_for()["GH_PASSWORD"]}


def _billing(folder, url, **extra):
    incoming = {
        "name": "Billing",
        "host": "outlook.office365.com",
        "port": 995,
        "security": "ssl",
        "auth": "oauth2",
        "username": "billing@shop.example",
    }
    outgoing = {
        "name": "Billing",
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
        "auth": "oauth2",
        "username": "billing@shop.example",
    }
    return make_env(folder, url, [incoming], [outgoing], **extra)


class Consent(threading.Thread):
    """The person in front of the browser: grants (or declines) each flow the emulator starts."""

    def __init__(self, emulator, granted: bool, flows: int):
        super().__init__(daemon=True)
        self.oauth = emulator.httpd.dispatcher.oauth
        self.granted, self.flows, self.decided = granted, flows, 0

    def run(self) -> None:
        deadline = time.monotonic() + 30
        while self.decided < self.flows and time.monotonic() < deadline:
            for identifier in self.oauth.pending():
                self.oauth.decide(identifier, self.granted)
                self.decided += 1
            time.sleep(0.02)


def _obj(store, cls, name):
    (obj,) = [o for o in store.objects[cls].values() if o["Name"] == name]
    return obj


def _link(env, *extra):
    return run_cli(
        "oauth", "link", str(env), "--account", "Billing", "--interval", "0.05", *extra, env=SECRETS
    )


def test_unlinked_account_needs_linking_then_link_activates_it(tmp_path, emulator):
    env = _billing(tmp_path / "env", emulator.url)
    applied = run_cli("apply", str(env), "--auto-approve", env=SECRETS)
    assert applied.code == 0, applied.text
    assert "create pop3 'Billing': done" in applied.out
    assert "verify" not in applied.out and "activate pop3" not in applied.out
    store = emulator.store
    assert _obj(store, "RpcPop3Accounts", "Billing")["State"] == 0
    assert _obj(store, "RpcPop3Accounts", "Billing")["Authenticate"] == 2

    # no change loop: the next plan has nothing to do and says why the account is inactive
    again = run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS)
    assert again.code == 0, again.text
    assert "No changes." in again.out
    assert (
        "warning: pop3 account 'Billing' uses OAuth2 and needs linking: it stays inactive until "
        "`reconciler oauth link <env dir> --account Billing` has linked it; plan again after that"
    ) in again.out
    assert "warning: smtp account 'Billing' uses OAuth2 and needs linking" in again.out
    status = run_cli("status", str(env), env=SECRETS)
    assert "  pop3 'Billing'  inactive  0       unlinked  managed" in status.out

    consent = Consent(emulator, granted=True, flows=2)
    consent.start()
    linked = _link(env)
    consent.join()
    assert linked.code == 0, linked.text
    assert linked.out.count(CONSENT_URL) == 2
    assert "pop3 account 'Billing': linked (microsoft) in " in linked.out
    assert "smtp account 'Billing': linked (microsoft) in " in linked.out
    assert (
        linked.out.splitlines()[-1]
        == f"Next: `reconciler plan {env}` shows the activation; apply it to go live."
    )
    tokens = emulator.httpd.dispatcher.oauth.issued_tokens()
    assert {
        _obj(store, c, "Billing")["Password"] for c in ("RpcPop3Accounts", "RpcSmtpAccounts")
    } == tokens
    for token in tokens:
        assert token not in linked.text
    assert '"pop3/Billing"' in store.globals[P.OAUTH2_LINKS_GLOBAL]

    plan = run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS)
    assert plan.code == 2, plan.text
    assert (
        "activate:\n  ~ activate pop3 'Billing'\n      # linked with `reconciler oauth link`; activate"
        in plan.out
    )
    assert "verify" not in plan.out and "needs linking" not in plan.out
    assert run_cli("apply", str(env), "--auto-approve", env=SECRETS).code == 0
    assert _obj(store, "RpcPop3Accounts", "Billing")["State"] == 1
    assert _obj(store, "RpcSmtpAccounts", "Billing")["State"] == 1
    assert run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS).code == 0
    status = run_cli("status", str(env), env=SECRETS)
    assert "  pop3 'Billing'  active  0       linked  managed" in status.out

    # renew = unlink, then link; a declined consent leaves it unlinked and says so
    declined = Consent(emulator, granted=False, flows=1)
    declined.start()
    renew = run_cli(
        "oauth",
        "renew",
        str(env),
        "--account",
        "Billing",
        "--kind",
        "smtp",
        "--interval",
        "0.05",
        env=SECRETS,
    )
    declined.join()
    assert renew.code == 1, renew.text
    assert "smtp account 'Billing': unlinked; linking again" in renew.out
    assert (
        "error: smtp account 'Billing': the consent was declined or failed at the provider; nothing "
        "was changed. Run `oauth link` again to retry"
    ) in renew.err
    after = run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS)
    assert after.code == 0, after.text
    assert "smtp account 'Billing' uses OAuth2 and needs linking: no link is recorded" in after.out
    assert "pop3 account 'Billing'" not in after.out.split("No changes.")[1]


def test_link_times_out_and_refuses_what_it_cannot_link(tmp_path, emulator):
    env = _billing(tmp_path / "env", emulator.url)
    early = _link(env)
    assert early.code == 1
    assert (
        "pop3 account 'Billing' does not exist on the server yet: apply the manifest first"
        in early.err
    )
    assert run_cli("apply", str(env), "--auto-approve", env=SECRETS).code == 0
    slow = _link(env, "--kind", "pop3", "--timeout", "1")
    assert slow.code == 1
    assert "pop3 account 'Billing': no consent within 1s; nothing was changed." in slow.err
    assert P.OAUTH2_LINKS_GLOBAL not in emulator.store.globals

    plain = make_env(tmp_path / "plain", emulator.url, [pop3("Support")], [smtp("Support")])
    wrong = run_cli("oauth", "link", str(plain), "--account", "Support", env=secrets_for("Support"))
    assert wrong.code == 1
    assert "account 'Support' does not use OAuth2 (auth: login)" in wrong.err


def test_link_with_the_embedded_emulator(tmp_path):
    env = _billing(tmp_path / "env", "embedded:.state/greyhound.json")
    assert run_cli("apply", str(env), "--auto-approve", env=SECRETS).code == 0
    # the embedded emulator lives inside the CLI process: this setting decides its consent flows
    linked = run_cli(
        "oauth", "link", str(env), "--account", "Billing", "--interval", "0.05",
        env=dict(SECRETS, GREYHOUND_EMULATOR_OAUTH2="grant"),
    )  # fmt: skip
    assert linked.code == 0, linked.text
    plan = run_cli("plan", str(env), "--detailed-exitcode", env=SECRETS)
    assert plan.code == 2
    assert plan.out.splitlines()[-1] == "Plan: 2 to activate."
