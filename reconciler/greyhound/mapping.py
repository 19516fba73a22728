"""GREYHOUND objects <-> resources: the one boundary where manifest words become API integers."""

from __future__ import annotations

import json
from typing import Any

from reconciler.greyhound import protocol as P
from reconciler.model.addresses import AddressError, normalize_address, normalize_blacklist_entry
from reconciler.model.enums import (
    ENCRYPT,
    POP3_AUTH,
    POP3_DELETE,
    SMTP_AUTH,
    DeletePolicy,
    Pop3Auth,
    Security,
    SmtpAuth,
    from_int,
)
from reconciler.model.state import BLACKLIST_NAME, Kind, Resource

RPC_CLASS = {
    Kind.POP3: "RpcPop3Accounts",
    Kind.SMTP: "RpcSmtpAccounts",
    Kind.GROUP: "RpcGroups",
    Kind.SIGNATURE: "RpcSignatures",
    Kind.FILTER: "RpcFilters",
    Kind.RULE: "RpcRules",
}


def _host(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _address_or_raw(value: str) -> str:
    try:
        return normalize_address(value)
    except AddressError:
        return value.strip()


def _facts(obj: dict[str, Any]) -> dict[str, Any]:
    return {"error_count": obj.get("ErrorCount", 0), "last_error": obj.get("Message", "")}


# --- live -> resource -----------------------------------------------------------------------------
def pop3_from_rpc(obj: dict[str, Any]) -> Resource:
    policy = from_int(POP3_DELETE, obj.get("Delete", 1), "RpcPop3Delete")
    fields = {
        "host": _host(obj.get("Host", "")),
        "port": obj.get("Port", 0),
        "security": from_int(ENCRYPT, obj.get("Encrypt", 0), "RpcPop3Encrypt").value,
        "auth": from_int(POP3_AUTH, obj.get("Authenticate", 0), "RpcPop3Authenticate").value,
        "username": obj.get("Username", ""),
        "delete_policy": policy.value,
        "delete_days": obj.get("DeleteAge") if policy is DeletePolicy.AFTER_DAYS else None,
        "delete_sync": bool(obj.get("DeleteSync", False)),
        "active": obj.get("State", 0) == 1,
    }
    return Resource(Kind.POP3, obj["Name"], fields, id=obj["ID"], facts=_facts(obj), origin="live")


def senders_from_filter(text: str) -> list[str]:
    parts = [p.strip() for p in text.replace(",", "\n").replace(";", "\n").split("\n") if p.strip()]
    if "*" in parts:
        return ["*"]
    return sorted({_address_or_raw(p) for p in parts})


def smtp_from_rpc(obj: dict[str, Any]) -> Resource:
    fields = {
        "host": _host(obj.get("Host", "")),
        "port": obj.get("Port", 0),
        "security": from_int(ENCRYPT, obj.get("Encrypt", 0), "RpcSmtpEncrypt").value,
        "auth": from_int(SMTP_AUTH, obj.get("Authenticate", 1), "RpcSmtpAuthenticate").value,
        "username": obj.get("Username", ""),
        "senders": senders_from_filter(obj.get("Filter", "")),
        "active": obj.get("State", 0) == 1,
    }
    return Resource(Kind.SMTP, obj["Name"], fields, id=obj["ID"], facts=_facts(obj), origin="live")


def group_from_rpc(obj: dict[str, Any]) -> Resource:
    return Resource(
        Kind.GROUP,
        obj["Name"],
        {"email": _address_or_raw(obj.get("Email", ""))},
        id=obj["ID"],
        origin="live",
    )


def signature_from_rpc(obj: dict[str, Any], group_names: dict[int, str]) -> Resource:
    group = None
    for link in obj.get("Groups") or []:
        if (
            link.get("DefaultKinds", 0) & P.SIGNATURE_KIND_EMAIL
            and link.get("GroupRef") in group_names
        ):
            group = group_names[link["GroupRef"]]
            break
    return Resource(Kind.SIGNATURE, obj["Name"], {"group": group}, id=obj["ID"], origin="live")


def filter_from_rpc(
    obj: dict[str, Any], filter_names: dict[int, str], group_names: dict[int, str]
) -> Resource:
    refs = obj.get("GroupRefs") or []
    fields = {
        "parent": filter_names.get(obj.get("ParentRef", 0)),
        "group": group_names.get(refs[0]) if refs else None,
    }
    return Resource(Kind.FILTER, obj["Name"], fields, id=obj["ID"], origin="live")


def rule_from_rpc(obj: dict[str, Any]) -> Resource:
    fields = {"active": obj.get("State", 0) == 1}
    return Resource(Kind.RULE, obj["Name"], fields, id=obj["ID"], origin="live")


def blacklist_from_global(text: str) -> Resource | None:
    if not text:
        return None
    try:
        entries = json.loads(text)
    except ValueError:
        entries = [line for line in text.splitlines() if line.strip()]
    out = set()
    for entry in entries:
        try:
            out.add(normalize_blacklist_entry(str(entry)))
        except AddressError:
            out.add(str(entry).strip().lower())
    return Resource(Kind.BLACKLIST, BLACKLIST_NAME, {"entries": sorted(out)}, origin="live")


def blacklist_to_global(entries: list[str]) -> str:
    return json.dumps(sorted(entries), ensure_ascii=False)


# --- resource -> live -------------------------------------------------------------------------
def pop3_to_rpc(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "host" in fields:
        out["Host"] = fields["host"]
    if "port" in fields:
        out["Port"] = fields["port"]
    if "security" in fields:
        out["Encrypt"] = ENCRYPT[Security(fields["security"])]
    if "auth" in fields:
        out["Authenticate"] = POP3_AUTH[Pop3Auth(fields["auth"])]
    if "username" in fields:
        out["Username"] = fields["username"]
    if "delete_policy" in fields:
        out["Delete"] = POP3_DELETE[DeletePolicy(fields["delete_policy"])]
    if "delete_days" in fields:
        out["DeleteAge"] = fields["delete_days"] or 0
    if "delete_sync" in fields:
        out["DeleteSync"] = bool(fields["delete_sync"])
    if "active" in fields:
        out["State"] = 1 if fields["active"] else 0
    return out


def smtp_to_rpc(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "host" in fields:
        out["Host"] = fields["host"]
    if "port" in fields:
        out["Port"] = fields["port"]
    if "security" in fields:
        out["Encrypt"] = ENCRYPT[Security(fields["security"])]
    if "auth" in fields:
        out["Authenticate"] = SMTP_AUTH[SmtpAuth(fields["auth"])]
    if "username" in fields:
        out["Username"] = fields["username"]
    if "senders" in fields:
        out["Filter"] = P.SENDERS_SEPARATOR.join(fields["senders"])
    if "active" in fields:
        out["State"] = 1 if fields["active"] else 0
    return out


def check_item(kind: Kind, fields: dict[str, Any], password: str) -> dict[str, Any]:
    """The 8-field RpcPop3AccountItem / RpcSmtpAccountItem that CheckConnection takes."""
    mapped = pop3_to_rpc(fields) if kind is Kind.POP3 else smtp_to_rpc(fields)
    return {
        "Authenticate": mapped["Authenticate"],
        "Encrypt": mapped["Encrypt"],
        "Host": mapped["Host"],
        "Password": password,
        "Port": mapped["Port"],
        "SslKind": 0,
        "Timeout": 30,
        "Username": mapped["Username"],
    }


def rule_source(group: str) -> str:
    """Script of the per-account incoming rule: file incoming mail of the account into its group."""
    return f"// managed by greyhound-reconciler\nItem.GroupName := {json.dumps(group)};\n"
