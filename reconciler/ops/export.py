"""Live state -> manifest files (`reconciler export`). Pure: a State in, YAML texts out.

What is written is exactly what `plan` would need to find no changes: the accounts with every field
spelled out, the group addresses that differ from the default, the filters beyond the standard set
and the blacklist. What a manifest cannot express stays out and is reported (it remains an
unmanaged object in every plan): a POP3 account without its SMTP account, a filter of a group that
is not an account's group, a filter under such a filter; groups, signatures and rules that are not
an account's companions are unmanaged anyway.

Passwords are write-only, so each account gets a secret reference instead: the one the environment's
manifest already uses for that account, else a generated name (`{env: POP3_SUPPORT_PASSWORD}`,
with an optional prefix).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from reconciler.expand import ALL_MAIL_FILTER, SHARED_FILTERS, SPAM_SUBFILTER, account_filter_names
from reconciler.manifest.environment import Environment
from reconciler.model.addresses import is_address, normalize_address
from reconciler.model.manifest import Manifest, SecretRef
from reconciler.model.state import Kind, Resource, State
from reconciler.ops.yamlout import dump, flow_list, flow_map
from reconciler.plan.marker import Marker, object_key

HEADER_MARK = "Exported from GREYHOUND"
ACCOUNTS_FILE = "accounts.yaml"
FILTERS_FILE = "filters.yaml"
BLACKLIST_FILE = "blacklist.yaml"
EXPORT_FILES = (ACCOUNTS_FILE, FILTERS_FILE, BLACKLIST_FILE)
PASSWORD_AUTHS = {"login", "apop"}


@dataclass
class Export:
    files: dict[str, str]  # file name -> YAML text
    secrets: list[str] = field(default_factory=list)  # environment variables the files reference
    left_out: list[str] = field(default_factory=list)  # live objects not exported, and why
    counts: dict[str, int] = field(default_factory=dict)


def env_var_name(*parts: str) -> str:
    """`("pop3", "Rücksendungen")` -> `POP3_RUCKSENDUNGEN`: ASCII, upper case, `_` between words."""
    text = "_".join(parts)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"X_{name}"


def _secret_refs(
    accounts: list[Resource],
    existing: Manifest | None,
    prefix: str,
    moved: tuple[Path, Path] | None,
) -> dict[tuple[Kind, str], dict[str, str]]:
    """A reference per account that needs a password: the manifest's own, else a generated name.

    `moved` = (environment folder, export folder): `{file: PATH}` references are rebased."""
    known: dict[tuple[Kind, str], SecretRef] = {}
    if existing is not None:
        for kind, declared in (
            (Kind.POP3, existing.pop3_accounts),
            (Kind.SMTP, existing.smtp_accounts),
        ):
            known.update({(kind, a.name): a.password for a in declared if a.password is not None})
    taken = {ref.env for ref in known.values() if ref.env}
    out: dict[tuple[Kind, str], dict[str, str]] = {}
    for account in sorted(accounts, key=lambda r: (r.kind.value, r.name)):
        if account.fields.get("auth") not in PASSWORD_AUTHS:
            continue
        ref = known.get(account.key)
        if ref is not None:
            out[account.key] = ref.model_dump(exclude_none=True)
            if ref.file and moved is not None:
                out[account.key]["file"] = _rebase(ref.file, *moved)
            continue
        base = env_var_name(prefix, account.kind.value, account.name, "password")
        name, n = base, 2
        while name in taken:  # "Sales-DE" and "Sales DE" would both give SALES_DE
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        out[account.key] = {"env": name}
    return out


def _delete_from_server(fields: dict[str, Any]) -> CommentedMap:
    policy = fields["delete_policy"]
    if policy == "after_days":
        return flow_map({"policy": policy, "days": fields["delete_days"]})
    return flow_map({"policy": policy})


def _account(r: Resource, secret: dict[str, str] | None, protected: bool) -> CommentedMap:
    f = r.fields
    out = CommentedMap()
    out["name"] = r.name
    for key in ("host", "port", "security", "auth", "username"):
        out[key] = f[key]
    if secret is not None:
        out["password"] = flow_map(secret)
    if r.kind is Kind.POP3:
        out["delete_from_server"] = _delete_from_server(f)
        out["delete_when_deleted_in_elements"] = f["delete_sync"]
    else:
        out["senders"] = flow_list(list(f["senders"]))
    out["active"] = f["active"]
    if protected:
        out["protected"] = True
    return out


def default_group_address(username: str) -> str | None:
    return normalize_address(username) if is_address(username) else None


def _exportable_filters(
    live: State, account_names: set[str], left_out: list[str]
) -> list[Resource]:
    standard: set[str] = set()
    if account_names:
        standard = {ALL_MAIL_FILTER, *SHARED_FILTERS, SPAM_SUBFILTER[0]}
        for name in account_names:
            standard.update(account_filter_names(name))
    candidates = {r.name: r for r in live.of(Kind.FILTER) if r.name not in standard}
    dropped: dict[str, str] = {}
    for r in candidates.values():
        group = r.fields.get("group")
        if group is not None and group not in account_names:
            dropped[r.name] = f"its group {group!r} is not the group of an exported POP3 account"
    changed = True
    while changed:  # a filter under a filter that is left out must be left out too
        changed = False
        for r in candidates.values():
            parent = r.fields.get("parent")
            if r.name in dropped or parent is None or parent in standard:
                continue
            if parent not in candidates or parent in dropped:
                dropped[r.name] = f"its parent filter {parent!r} is not exported"
                changed = True
    for name, why in sorted(dropped.items()):
        left_out.append(f"filter {name!r}: {why}")
    return sorted((r for r in candidates.values() if r.name not in dropped), key=lambda r: r.name)


def export_state(
    live: State,
    existing: Manifest | None = None,
    marker: Marker | None = None,
    prefix: str = "",
    source: str = "",
    moved: tuple[Path, Path] | None = None,
) -> Export:
    left_out: list[str] = []
    smtp = {r.name: r for r in live.of(Kind.SMTP)}
    pop3 = []
    for r in sorted(live.of(Kind.POP3), key=lambda r: r.name):
        if r.name in smtp:
            pop3.append(r)
        else:
            left_out.append(
                f"pop3 account {r.name!r}: it has no SMTP account of the same name, which a "
                "manifest requires (Elements creates both together)"
            )
    smtp_accounts = sorted(smtp.values(), key=lambda r: r.name)
    refs = _secret_refs([*pop3, *smtp_accounts], existing, prefix, moved)

    def protected(r: Resource) -> bool:
        record = marker.objects.get(object_key(r.kind, r.name)) if marker else None
        return bool(record and record.protected)

    groups = []
    for r in pop3:
        group = live.get(Kind.GROUP, r.name)
        if group is None:
            continue  # half-created account: the next plan creates the group
        email = group.fields.get("email") or ""
        if email and email != default_group_address(r.fields["username"]):
            groups.append(CommentedMap([("name", r.name), ("email", email)]))
    accounts = CommentedMap()
    accounts["pop3_accounts"] = [_account(r, refs.get(r.key), protected(r)) for r in pop3]
    accounts["smtp_accounts"] = [_account(r, refs.get(r.key), protected(r)) for r in smtp_accounts]
    if groups:
        accounts["groups"] = groups

    filters = []
    for r in _exportable_filters(live, {r.name for r in pop3}, left_out):
        entry = CommentedMap([("name", r.name)])
        for key in ("parent", "group"):
            if r.fields.get(key) is not None:
                entry[key] = r.fields[key]
        filters.append(entry)

    where = f" {source}" if source else ""
    header = f"{HEADER_MARK}{where} by `reconciler export`."
    secrets = sorted({ref["env"] for ref in refs.values() if "env" in ref})
    files = {
        ACCOUNTS_FILE: dump(
            accounts,
            header + "\nPasswords are write-only: set the referenced secrets before plan/apply.",
        ),
        FILTERS_FILE: dump(
            CommentedMap([("filters", filters)]),
            header + "\nFilters beyond the standard set Elements creates with each POP3 account.",
        ),
    }
    blacklist = live.get(Kind.BLACKLIST, "blacklist")
    if blacklist is not None:
        files[BLACKLIST_FILE] = dump(
            CommentedMap([("blacklist", list(blacklist.fields["entries"]))]), header
        )
    counts = {
        "pop3": len(pop3),
        "smtp": len(smtp_accounts),
        "groups": len(groups),
        "filters": len(filters),
        "blacklist": len(blacklist.fields["entries"]) if blacklist else 0,
    }
    return Export(files, secrets, left_out, counts)


# --- environment.yaml for a new export folder ------------------------------------------------------
def _rebase(path: str, source: Path, target: Path) -> str:
    """A path relative to `source` folder, rewritten relative to `target` folder."""
    absolute = (source / path).resolve()
    target = target.resolve()
    try:
        if os.path.commonpath([absolute, target]) != absolute.anchor:
            return os.path.relpath(absolute, target)
    except ValueError:  # another drive (Windows)
        pass
    return str(absolute)  # nothing in common but the root: an absolute path says more


def connection_file(env: Environment, out_dir: Path) -> str:
    """The environment's connection settings, with every relative path rebased to out_dir."""
    m = env.manifest
    conn = m.greyhound.model_dump(mode="json", exclude_defaults=True)
    conn["url"] = m.greyhound.url
    if conn["url"].startswith("embedded:"):
        conn["url"] = "embedded:" + _rebase(conn["url"][len("embedded:") :], env.directory, out_dir)
    if conn.get("tls", {}).get("ca_file"):
        conn["tls"]["ca_file"] = _rebase(conn["tls"]["ca_file"], env.directory, out_dir)
    if conn.get("password", {}).get("file"):
        conn["password"]["file"] = _rebase(conn["password"]["file"], env.directory, out_dir)
    if isinstance(conn.get("password"), dict):
        conn["password"] = flow_map(conn["password"])
    doc = CommentedMap([("greyhound", conn)])
    if m.env_file:
        doc["env_file"] = _rebase(m.env_file, env.directory, out_dir)
    if m.emulator is not None:
        seed = m.emulator.model_dump(mode="json", exclude_defaults=True)
        for endpoint in seed.get("simulated_endpoints", []):
            if "file" in endpoint["password"]:
                endpoint["password"]["file"] = _rebase(
                    endpoint["password"]["file"], env.directory, out_dir
                )
            endpoint["password"] = flow_map(endpoint["password"])
        doc["emulator"] = seed
    doc["prune"] = False
    return dump(
        doc,
        f"Connection of environment {env.name!r}, written by `reconciler export`.\n"
        "prune is off: accounts that appear on the server later are listed, never deleted.",
    )
