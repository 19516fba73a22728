"""Cross-object rules of the manifest (domain.md §2–§4), checked offline before any API call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.errors import Problem
from reconciler.model.addresses import is_address

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment

MAX_ACCOUNTS = 10  # domain.md §2/§3: at most 10 POP3 and 10 SMTP accounts through Elements


def check_environment(env: Environment) -> tuple[list[Problem], list[Problem]]:
    m = env.manifest
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for section, accounts in (
        ("pop3_accounts", m.pop3_accounts),
        ("smtp_accounts", m.smtp_accounts),
    ):
        if len(accounts) > MAX_ACCOUNTS:
            errors.append(
                Problem(
                    f"{len(accounts)} {section.split('_')[0].upper()} accounts declared; the cap is "
                    f"{MAX_ACCOUNTS} accounts per kind managed through Elements",
                    env.position(section, MAX_ACCOUNTS),
                    field=section,
                    suggestion=f"remove {len(accounts) - MAX_ACCOUNTS} account(s); more need the GREYHOUND "
                    "client and a licence",
                )
            )
    smtp_names = {a.name for a in m.smtp_accounts}
    pop3_names = {a.name for a in m.pop3_accounts}
    for index, account in enumerate(m.pop3_accounts):
        if account.name not in smtp_names:
            errors.append(
                Problem(
                    f"POP3 account {account.name!r} has no SMTP account of the same name; Elements "
                    "creates one with every POP3 account",
                    env.position("pop3_accounts", index),
                    field=f"pop3_accounts[{index}]",
                    suggestion=f"add an smtp_accounts entry named {account.name!r}",
                )
            )
        group = next((g for g in m.groups if g.name == account.name), None)
        if group is None and account.group_email is None and not is_address(account.username):
            errors.append(
                Problem(
                    f"the username {account.username!r} is not an e-mail address, so the group "
                    f"{account.name!r} needs its address given",
                    env.position("pop3_accounts", index, "username"),
                    field=f"pop3_accounts[{index}].group_email",
                    suggestion="set `group_email: <address>` on the account",
                )
            )
        if account.auth == "oauth2" and account.password is not None:
            errors.append(
                Problem(
                    "OAuth2 accounts carry no password (they are linked, not logged in)",
                    env.position("pop3_accounts", index, "password"),
                    field=f"pop3_accounts[{index}].password",
                    suggestion="remove `password`",
                )
            )
        elif account.auth != "oauth2" and account.password is None:
            errors.append(
                Problem(
                    f"auth {account.auth.value!r} needs a password reference",
                    env.position("pop3_accounts", index),
                    field=f"pop3_accounts[{index}].password",
                    suggestion="add `password: {env: NAME}` or `password: {file: PATH}`",
                )
            )
    for index, account in enumerate(m.smtp_accounts):
        if account.auth == "oauth2" and account.password is not None:
            errors.append(
                Problem(
                    "OAuth2 accounts carry no password (they are linked, not logged in)",
                    env.position("smtp_accounts", index, "password"),
                    field=f"smtp_accounts[{index}].password",
                    suggestion="remove `password`",
                )
            )
        elif account.auth == "login" and account.password is None:
            errors.append(
                Problem(
                    "auth 'login' needs a password reference",
                    env.position("smtp_accounts", index),
                    field=f"smtp_accounts[{index}].password",
                    suggestion="add `password: {env: NAME}`, or `auth: none` for a relay without login",
                )
            )
    for index, group in enumerate(m.groups):
        if group.name not in pop3_names:
            errors.append(
                Problem(
                    f"group {group.name!r} has no POP3 account of the same name; groups are created "
                    "with POP3 accounts and cannot be created by hand",
                    env.position("groups", index, "name"),
                    field=f"groups[{index}].name",
                    suggestion="set the address of an account's group, or add the POP3 account",
                )
            )
    for index, flt in enumerate(m.filters):
        if flt.parent is not None and flt.parent == flt.name:
            errors.append(
                Problem(
                    "a filter cannot be its own parent",
                    env.position("filters", index, "parent"),
                    field=f"filters[{index}].parent",
                )
            )
        if flt.group is not None and flt.group not in pop3_names:
            errors.append(
                Problem(
                    f"filter group {flt.group!r} is not the group of a declared POP3 account",
                    env.position("filters", index, "group"),
                    field=f"filters[{index}].group",
                )
            )
    if not m.pop3_accounts:
        warnings.append(
            Problem(
                "no POP3 account declared; the integration needs at least one to receive mail",
                env.position(),
                severity="warning",
            )
        )
    if not m.smtp_accounts:
        warnings.append(
            Problem(
                "no SMTP account declared; the integration needs at least one to send mail",
                env.position(),
                severity="warning",
            )
        )
    return errors, warnings
