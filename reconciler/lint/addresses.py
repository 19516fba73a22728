"""Address rules beyond syntax (shared/providers.md §1.7): homographs, SMTPUTF8, own addresses
on the blacklist. Syntax and length errors (ADDR-001/002/006/008) come from the normalization itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.errors import Problem
from reconciler.manifest.checks import group_addresses
from reconciler.model.addresses import address_domain, mixed_script_labels

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment


def _addresses(env: Environment) -> Iterator[tuple[str, tuple, str]]:
    """(canonical address or @domain, position path, field) for every address in the manifest."""
    m = env.manifest
    for index, group in enumerate(m.groups):
        yield group.email, ("groups", index, "email"), f"groups[{index}].email"
    for index, account in enumerate(m.pop3_accounts):
        if account.group_email:
            path = ("pop3_accounts", index, "group_email")
            yield account.group_email, path, f"pop3_accounts[{index}].group_email"
    for index, account in enumerate(m.smtp_accounts):
        for j, sender in enumerate(account.senders):
            if sender != "*":
                path = ("smtp_accounts", index, "senders", j)
                yield sender, path, f"smtp_accounts[{index}].senders[{j}]"
    for index, entry in enumerate(m.blacklist or []):
        yield entry, ("blacklist", index), f"blacklist[{index}]"


def address_rules(env: Environment) -> Iterator[Problem]:
    for address, path, field in _addresses(env):
        if address.isascii() and "xn--" not in address:
            continue  # the fast path: nothing below applies to plain ASCII
        local, _, domain = address.rpartition("@")
        if not local.isascii():
            yield Problem(
                f"{address!r} has a non-ASCII local part: it needs SMTPUTF8 (RFC 6531) on every "
                "hop, which GREYHOUND and the provider are not declared to support",
                env.position(*path),
                field=field,
                severity="warning",
                rule="ADDR-007",
            )
        mixed = mixed_script_labels(domain)
        if mixed:
            yield Problem(
                f"the domain of {address!r} mixes scripts in {', '.join(mixed)!r}: a look-alike "
                "(homograph) of another domain?",
                env.position(*path),
                field=field,
                severity="warning",
                rule="ADDR-006",
                suggestion="check the domain letter by letter",
            )
    yield from _own_addresses_blacklisted(env)


def _own_addresses_blacklisted(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    if not m.blacklist:
        return
    listed = {entry: index for index, entry in enumerate(m.blacklist)}
    own = {a: f"group {name!r}" for name, a in group_addresses(env).items() if a}
    for account in m.smtp_accounts:
        for sender in account.senders:
            if sender != "*":
                own.setdefault(sender, f"SMTP account {account.name!r}")
    covered: dict[int, list[str]] = {}
    for address, owner in own.items():
        for entry in (address, "@" + address_domain(address)):
            if entry in listed:
                covered.setdefault(listed[entry], []).append(f"{address!r} ({owner})")
    for index, owners in sorted(covered.items()):
        yield Problem(
            f"blacklist entry {m.blacklist[index]!r} covers own addresses: {', '.join(owners)}; "
            "Elements ignores its own group addresses anyway",
            env.position("blacklist", index),
            field=f"blacklist[{index}]",
            severity="warning",
            rule="ADDR-009",
            suggestion="remove the entry, or use a more specific one",
        )
