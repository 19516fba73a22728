"""Cross-object rules of the manifest (domain.md §1–§5), checked offline before any API call.

Each function looks at the merged Manifest and returns Problems pointing at the line that caused
them; `check_environment` collects them as (errors, warnings).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.errors import Problem
from reconciler.expand import ALL_MAIL_FILTER, SHARED_FILTERS, SPAM_SUBFILTER, account_filter_names
from reconciler.lint.registry import RULES, can_ignore
from reconciler.manifest.errors import did_you_mean
from reconciler.model.addresses import is_address, normalize_address
from reconciler.model.enums import Pop3Auth, SmtpAuth

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment

MAX_ACCOUNTS = 10  # domain.md §2/§3: at most 10 POP3 and 10 SMTP accounts through Elements


def check_environment(env: Environment) -> tuple[list[Problem], list[Problem]]:
    problems = [
        *_caps(env),
        *_pop3_accounts(env),
        *_passwords(env),
        *_groups(env),
        *_filters(env),
        *_senders(env),
        *_names(env),
        *_connection(env),
        *_lint_settings(env),
        *_integration(env),
    ]
    return (
        [p for p in problems if p.severity == "error"],
        [p for p in problems if p.severity == "warning"],
    )


def _caps(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    for section, accounts in (
        ("pop3_accounts", m.pop3_accounts),
        ("smtp_accounts", m.smtp_accounts),
    ):
        kind = section.split("_")[0].upper()
        if len(accounts) > MAX_ACCOUNTS:
            yield Problem(
                f"{len(accounts)} {kind} accounts declared; the cap is {MAX_ACCOUNTS} accounts "
                "per kind managed through Elements",
                env.position(section, MAX_ACCOUNTS),
                field=section,
                suggestion=f"remove {len(accounts) - MAX_ACCOUNTS} account(s); more need the "
                "GREYHOUND client and a licence",
            )
    if not m.pop3_accounts:
        yield Problem(
            "no POP3 account declared; the integration needs at least one to receive mail",
            env.position(),
            severity="warning",
            rule="ACCT-001",
        )
    if not m.smtp_accounts:
        yield Problem(
            "no SMTP account declared; the integration needs at least one to send mail",
            env.position(),
            severity="warning",
            rule="ACCT-002",
        )


def group_addresses(env: Environment) -> dict[str, str | None]:
    """POP3 account name -> the address its group will have (None when it cannot be known)."""
    m = env.manifest
    declared = {g.name: g.email for g in m.groups}
    out: dict[str, str | None] = {}
    for account in m.pop3_accounts:
        if account.name in declared:
            out[account.name] = declared[account.name]
        elif account.group_email:
            out[account.name] = account.group_email
        elif is_address(account.username):
            out[account.name] = normalize_address(account.username)
        else:
            out[account.name] = None
    return out


def _pop3_accounts(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    smtp_names = {a.name for a in m.smtp_accounts}
    declared = {g.name: g.email for g in m.groups}
    for index, account in enumerate(m.pop3_accounts):
        where = f"pop3_accounts[{index}]"
        if account.name not in smtp_names:
            yield Problem(
                f"POP3 account {account.name!r} has no SMTP account of the same name; Elements "
                "creates one with every POP3 account",
                env.position("pop3_accounts", index),
                field=where,
                suggestion=f"add an smtp_accounts entry named {account.name!r}",
            )
        in_groups = declared.get(account.name)
        if in_groups is None and account.group_email is None and not is_address(account.username):
            yield Problem(
                f"the username {account.username!r} is not an e-mail address, so the group "
                f"{account.name!r} needs its address given (Elements would use the username)",
                env.position("pop3_accounts", index, "username"),
                field=f"{where}.group_email",
                suggestion="set `group_email: <address>` on the account",
            )
        if in_groups is not None and account.group_email and in_groups != account.group_email:
            yield Problem(
                f"the group address is given twice and differs: group_email "
                f"{account.group_email!r} here, {in_groups!r} under groups",
                env.position("pop3_accounts", index, "group_email"),
                field=f"{where}.group_email",
                suggestion="keep one of the two",
            )


def _passwords(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    for section, accounts in (
        ("pop3_accounts", m.pop3_accounts),
        ("smtp_accounts", m.smtp_accounts),
    ):
        for index, account in enumerate(accounts):
            where = f"{section}[{index}].password"
            if account.auth in (Pop3Auth.OAUTH2, SmtpAuth.OAUTH2):
                if account.password is not None:
                    yield Problem(
                        "OAuth2 accounts carry no password (they are linked to the provider "
                        "account in the browser, not logged in)",
                        env.position(section, index, "password"),
                        field=where,
                        suggestion="remove `password`",
                    )
            elif account.auth == SmtpAuth.NONE:
                if account.password is not None:
                    yield Problem(
                        "`auth: none` sends no password, yet one is given",
                        env.position(section, index, "password"),
                        field=where,
                        suggestion="remove `password`, or set `auth: login`",
                    )
            elif account.password is None:
                relay = ", or `auth: none` for a relay without login" if section[0] == "s" else ""
                yield Problem(
                    f"auth {account.auth.value!r} needs a password reference",
                    env.position(section, index),
                    field=where,
                    suggestion=f"add `password: {{env: NAME}}` or `password: {{file: PATH}}`{relay}",
                )


def _groups(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    pop3_names = [a.name for a in m.pop3_accounts]
    for index, group in enumerate(m.groups):
        if group.name not in pop3_names:
            hint = did_you_mean(group.name, pop3_names)
            yield Problem(
                f"group {group.name!r} has no POP3 account of the same name; groups are created "
                "with POP3 accounts and cannot be created by hand",
                env.position("groups", index, "name"),
                field=f"groups[{index}].name",
                suggestion=hint or "set the address of an account's group, or add the POP3 account",
            )
    # domain.md §5 / §3: a group's address is its sender address; some SMTP account must send it
    active_smtp = [a for a in m.smtp_accounts if a.active]
    if not active_smtp:
        return
    for index, (name, address) in enumerate(group_addresses(env).items()):
        if address is None or any("*" in a.senders or address in a.senders for a in active_smtp):
            continue
        yield Problem(
            f"the address {address!r} of group {name!r} is not among the senders of any active "
            "SMTP account, so mail sent as this group has no account to go through",
            env.position("pop3_accounts", index),
            field=f"pop3_accounts[{index}]",
            severity="warning",
            rule="GRP-001",
            suggestion=f'add {address} to an SMTP account\'s senders, or give one senders: ["*"]',
        )


def standard_filter_names(env: Environment) -> set[str]:
    """The filters Elements creates itself (expand.py); declared filters may hang under them."""
    names = {ALL_MAIL_FILTER, *SHARED_FILTERS, SPAM_SUBFILTER[0]}
    for account in env.manifest.pop3_accounts:
        names.update(account_filter_names(account.name))
    return names


def _filters(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    pop3_names = [a.name for a in m.pop3_accounts]
    standard = standard_filter_names(env) if m.pop3_accounts else set()
    declared = {f.name: f for f in m.filters}
    for index, flt in enumerate(m.filters):
        where = f"filters[{index}]"
        if flt.name in standard:
            yield Problem(
                f"filter {flt.name!r} is one Elements creates itself with the POP3 accounts",
                env.position("filters", index, "name"),
                field=f"{where}.name",
                suggestion="choose another name; standard filters are managed automatically",
            )
        if flt.parent is not None:
            if flt.parent == flt.name:
                yield Problem(
                    "a filter cannot be its own parent",
                    env.position("filters", index, "parent"),
                    field=f"{where}.parent",
                )
            elif flt.parent not in declared and flt.parent not in standard:
                yield Problem(
                    f"parent filter {flt.parent!r} is neither declared under filters nor one of "
                    "the standard filters",
                    env.position("filters", index, "parent"),
                    field=f"{where}.parent",
                    suggestion=did_you_mean(flt.parent, [*declared, *sorted(standard)])
                    or "declare the parent filter too",
                )
            elif _has_cycle(flt.name, declared):
                yield Problem(
                    f"filter {flt.name!r} is its own ancestor (parent chain loops)",
                    env.position("filters", index, "parent"),
                    field=f"{where}.parent",
                )
        if flt.group is not None and flt.group not in pop3_names:
            yield Problem(
                f"filter group {flt.group!r} is not the group of a declared POP3 account",
                env.position("filters", index, "group"),
                field=f"{where}.group",
                suggestion=did_you_mean(flt.group, pop3_names) or "name a POP3 account",
            )


def _has_cycle(start: str, declared: dict) -> bool:
    seen = {start}
    current = declared[start].parent
    while current in declared:
        if current in seen:
            return True
        seen.add(current)
        current = declared[current].parent
    return False


def _senders(env: Environment) -> Iterator[Problem]:
    for index, account in enumerate(env.manifest.smtp_accounts):
        first: dict[str, int] = {}
        for j, sender in enumerate(account.senders):
            if sender in first:
                yield Problem(
                    f"sender {sender!r} is listed twice (entries {first[sender]} and {j} are the "
                    "same address after normalization)",
                    env.position("smtp_accounts", index, "senders", j),
                    field=f"smtp_accounts[{index}].senders[{j}]",
                    severity="warning",
                    rule="ADDR-004",
                    suggestion="remove one of them",
                )
            else:
                first[sender] = j


def _names(env: Environment) -> Iterator[Problem]:
    m = env.manifest
    for section, items in (
        ("pop3_accounts", m.pop3_accounts),
        ("smtp_accounts", m.smtp_accounts),
        ("filters", m.filters),
    ):
        seen: dict[str, str] = {}
        for index, item in enumerate(items):
            folded = item.name.casefold()
            if folded in seen:
                yield Problem(
                    f"{item.name!r} and {seen[folded]!r} differ only in case; GREYHOUND and "
                    "Elements users will hardly tell them apart",
                    env.position(section, index, "name"),
                    field=f"{section}[{index}].name",
                    severity="warning",
                    rule="ACCT-003",
                    suggestion="rename one of them",
                )
            else:
                seen[folded] = item.name


def _connection(env: Environment) -> Iterator[Problem]:
    conn = env.manifest.greyhound
    embedded = conn.url.startswith("embedded:")
    if not embedded and conn.password is None:
        yield Problem(
            "a GREYHOUND server needs the administrator's password reference",
            env.position("greyhound"),
            field="greyhound.password",
            suggestion="add `password: {env: GREYHOUND_PASSWORD}`",
        )
    env_file = env.manifest.env_file
    if env_file and not (env.directory / env_file).is_file():
        # a warning here (CI may write it just before plan); plan and apply stop on it
        yield Problem(
            f"env_file {env_file!r} does not exist (yet); plan and apply will stop on it",
            env.position("env_file"),
            field="env_file",
            suggestion="paths are relative to the environment folder; remove `env_file` to use "
            "only the process environment",
            severity="warning",
            rule="SECRET-001",
        )
    ca_file = conn.tls.ca_file
    if ca_file and not embedded and not (env.directory / ca_file).is_file():
        yield Problem(
            f"the CA certificate file {ca_file!r} does not exist",
            env.position("greyhound", "tls", "ca_file"),
            field="greyhound.tls.ca_file",
            suggestion="paths are relative to the environment folder",
        )
    if conn.url.startswith("http://") and not conn.allow_http:
        yield Problem(
            f"{conn.url} is plain HTTP: the API password would cross the network unencrypted; "
            "plan and apply refuse it without --allow-http",
            env.position("greyhound", "url"),
            field="greyhound.url",
            severity="warning",
            rule="CONN-001",
            suggestion="use https:// (GREYHOUND 5 serves the API on port 443 with SSL)",
        )
    if env.manifest.emulator is not None and not embedded:
        yield Problem(
            "`emulator:` only seeds the embedded emulator; it is ignored for a server URL",
            env.position("emulator"),
            field="emulator",
            severity="warning",
            rule="CONN-002",
            suggestion="remove `emulator:` or use url: embedded:<state file>",
        )


def _integration(env: Environment) -> Iterator[Problem]:
    if not env.manifest.greyhound.integration_enabled:
        yield Problem(
            "the Elements integration is declared switched off: the reconciler still manages "
            "GREYHOUND, but Elements shows no mail until the switch (Grundeinstellungen) is on",
            env.position("greyhound", "integration_enabled"),
            field="greyhound.integration_enabled",
            severity="warning",
            rule="CONN-003",
        )


def _lint_settings(env: Environment) -> Iterator[Problem]:
    for index, rule_id in enumerate(env.manifest.lint.ignore):
        where = f"lint.ignore[{index}]"
        pos = env.position("lint", "ignore", index)
        if rule_id not in RULES:
            yield Problem(
                f"unknown rule id {rule_id!r}",
                pos,
                field=where,
                suggestion=did_you_mean(rule_id, list(RULES)) or "see docs/manifest.md",
            )
        elif not can_ignore(rule_id):
            yield Problem(
                f"{rule_id} is an error rule and cannot be ignored",
                pos,
                field=where,
                suggestion="fix the manifest instead",
            )
