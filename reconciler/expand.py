"""Manifest -> desired State, including everything Elements creates with a POP3 account.

domain.md §2, "What saving a new POP3 account creates": the account, a group named like it (address =
the username, or the given one), a signature set as the group's default, the filter "Alle E-Mails",
three per-account filters, the shared standard filters with "Geprüft" under "Spamverdacht", the rule
"Eingangsverarbeitung: <name>" and an SMTP account of the same name.
"""

from __future__ import annotations

from reconciler.model.addresses import normalize_address
from reconciler.model.enums import DeletePolicy
from reconciler.model.manifest import Manifest, Pop3Account, SmtpAccount
from reconciler.model.state import BLACKLIST_NAME, Kind, Resource, State

ALL_MAIL_FILTER = "Alle E-Mails"
SHARED_FILTERS = (
    "Gesendete Elemente",
    "Fehlgeschlagen",
    "Gelöschte Elemente",
    "Erledigt",
    "Entwürfe",
    "Spamverdacht",
)
SPAM_SUBFILTER = ("Geprüft", "Spamverdacht")  # (name, parent)
ACCOUNT_FILTER_SUFFIXES = ("Offene Mails", "Pool", "Meine Mails")
RULE_PREFIX = "Eingangsverarbeitung: "


def account_filter_names(account: str) -> list[str]:
    return [f"{account} ({suffix})" for suffix in ACCOUNT_FILTER_SUFFIXES]


def rule_name(account: str) -> str:
    return RULE_PREFIX + account


def pop3_fields(a: Pop3Account) -> dict:
    policy = a.delete_from_server.policy
    return {
        "host": a.host,
        "port": a.effective_port("pop3"),
        "security": a.security.value,
        "auth": a.auth.value,
        "username": a.username,
        "delete_policy": policy.value,
        "delete_days": a.delete_from_server.days if policy is DeletePolicy.AFTER_DAYS else None,
        "delete_sync": a.delete_when_deleted_in_elements,
        "active": a.active,
    }


def smtp_fields(a: SmtpAccount) -> dict:
    return {
        "host": a.host,
        "port": a.effective_port("smtp"),
        "security": a.security.value,
        "auth": a.auth.value,
        "username": a.username,
        "senders": sorted(set(a.senders)),  # duplicates are a lint warning, not two entries
        "active": a.active,
    }


def group_address(manifest: Manifest, account: Pop3Account) -> str:
    for group in manifest.groups:
        if group.name == account.name:
            return group.email
    if account.group_email:
        return account.group_email
    return normalize_address(account.username)  # checks guarantee it is an address here


def expand(manifest: Manifest) -> State:
    state = State()
    for account in manifest.pop3_accounts:
        state.add(
            Resource(
                Kind.POP3,
                account.name,
                pop3_fields(account),
                secret=account.password,
                protected=account.protected,
            )
        )
        name = account.name
        state.add(
            Resource(
                Kind.GROUP, name, {"email": group_address(manifest, account)}, origin="companion"
            )
        )
        state.add(Resource(Kind.SIGNATURE, name, {"group": name}, origin="companion"))
        for filter_name in account_filter_names(name):
            state.add(
                Resource(
                    Kind.FILTER, filter_name, {"parent": None, "group": name}, origin="companion"
                )
            )
        state.add(Resource(Kind.RULE, rule_name(name), {"active": True}, origin="companion"))
    if manifest.pop3_accounts:
        for filter_name in (ALL_MAIL_FILTER, *SHARED_FILTERS):
            state.add(
                Resource(
                    Kind.FILTER, filter_name, {"parent": None, "group": None}, origin="companion"
                )
            )
        sub, parent = SPAM_SUBFILTER
        state.add(Resource(Kind.FILTER, sub, {"parent": parent, "group": None}, origin="companion"))
    for account in manifest.smtp_accounts:
        state.add(
            Resource(
                Kind.SMTP,
                account.name,
                smtp_fields(account),
                secret=account.password,
                protected=account.protected,
            )
        )
    for flt in manifest.filters:
        state.add(Resource(Kind.FILTER, flt.name, {"parent": flt.parent, "group": flt.group}))
    if manifest.blacklist is not None:
        state.add(
            Resource(Kind.BLACKLIST, BLACKLIST_NAME, {"entries": sorted(set(manifest.blacklist))})
        )
    return state
