"""The RPC classes the emulator serves, with the full property set of each object and its defaults.

Property names and enum ints follow greyhound-rpc.md §2; values for undocumented members are our
choice (see reconciler/greyhound/protocol.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_COMMON = {"ID": 0, "Created": "", "Modified": "", "LockData": None}

POP3_ACCOUNT = {
    **_COMMON,
    "Authenticate": 0,
    "ConvertPdfBW": 1,
    "Delete": 1,
    "DeleteAge": 0,
    "DeleteSync": False,
    "EditorData": "",
    "Encrypt": 1,
    "ErrorCount": 0,
    "Flags": 0,
    "FromOverwrite": "",
    "Host": "",
    "Interval": 5,
    "Kind": 0,
    "Mailbox": "",
    "MaxSize": 0,
    "Message": "",
    "Name": "",
    "Ocr": 2,
    "OcrData": "",
    "PageAngle": 0,
    "PageTreshold": 0,
    "Password": "",
    "Port": 995,
    "Protocol": 0,
    "SslKind": 0,
    "State": 0,
    "Timeout": 60,
    "ToOverwrite": "",
    "Username": "",
}

SMTP_ACCOUNT = {
    **_COMMON,
    "Authenticate": 1,
    "Encrypt": 2,
    "ErrorCount": 0,
    "Filter": "*",
    "FilterRecipients": "",
    "Flags": 0,
    "FromOverwrite": "",
    "Host": "",
    "Kind": 0,
    "MaxSize": 0,
    "Message": "",
    "Name": "",
    "Password": "",
    "Port": 587,
    "SslKind": 0,
    "State": 0,
    "Timeout": 60,
    "ToOverwrite": "",
    "Username": "",
}

GROUP = {
    **_COMMON,
    "CategoryRefs": [],
    "Email": "",
    "Fax": "",
    "Mobile": "",
    "Name": "",
    "Order": 0,
    "ParentRef": 0,
    "Path": "",
    "Phone": "",
    "PostalAddress": "",
    "Signatures": None,
    "UserRefs": [],
    "WorkSpace": 3,
}

SIGNATURE = {
    **_COMMON,
    "Groups": [],
    "HtmlData": "",
    "Name": "",
    "Synchronisation": 0,
    "TextData": "",
    "WorkSpace": 0,
}

FILTER = {
    **_COMMON,
    "CategoryRefs": [],
    "ColorRefs": [],
    "GroupRefs": [],
    "Icon": "",
    "Kinds": 0,
    "Name": "",
    "Order": 0,
    "ParentRef": 0,
    "SearchFor": "",
    "States": 0,
    "TopicRefs": [],
    "UserRefs": [],
    "WorkSpace": 0,
}

RULE = {
    **_COMMON,
    "CategoryRefs": [],
    "Compiled": True,
    "ExpertData": "",
    "FilterRefs": [],
    "Kind": 1,
    "Message": "",
    "Name": "",
    "Order": 0,
    "Recurrence": None,
    "SourceCode": "",
    "State": 0,
    "Triggers": 0,
}
RULE_ITEM_FIELDS = (
    "Compiled", "Created", "ID", "Kind", "LockData", "Message", "Modified", "Name", "Order", "State",
    "Triggers",
)  # fmt: skip

CHECK_ITEM_FIELDS = (
    "Authenticate",
    "Encrypt",
    "Host",
    "Password",
    "Port",
    "SslKind",
    "Timeout",
    "Username",
)


# Enums travel as their ordinal, sets as a bitmask of 2**ordinal (greyhound-rpc.md §1.5); the
# numbers below are how many members each documented enum / set has (§2.3-§2.9).
POP3_ENUMS = {
    "Authenticate": 3, "ConvertPdfBW": 2, "Delete": 3, "Encrypt": 3, "Kind": 4, "Ocr": 3,
    "Protocol": 2, "SslKind": 6, "State": 2,
}  # fmt: skip
SMTP_ENUMS = {"Authenticate": 3, "Encrypt": 3, "Kind": 4, "SslKind": 6, "State": 2}
SIGNATURE_KINDS = 10  # RpcSignatureKinds: skEmail ... skFile


@dataclass(frozen=True)
class ClassSpec:
    name: str
    template: dict[str, Any]
    list_params: tuple[type, ...] = ()
    list_fields: tuple[str, ...] | None = None  # None: GetList returns full objects
    write_only: tuple[str, ...] = ()
    # members computed by the server; a client may send them back, they are ignored
    read_only: tuple[str, ...] = ("ID", "Created", "Modified", "LockData")
    extra_methods: tuple[str, ...] = field(default_factory=tuple)
    enums: dict[str, int] = field(default_factory=dict)  # member -> number of values
    sets: dict[str, int] = field(default_factory=dict)  # member -> number of flags


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "int", str: "string", list: "array", dict: "struct"}.get(
        type(value), type(value).__name__
    )


def _same_type(template_value: Any, value: Any) -> bool:
    if template_value is None or value is None:
        return True
    if isinstance(template_value, bool):
        return isinstance(value, bool)
    if isinstance(template_value, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, type(template_value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def member_problem(spec: ClassSpec, key: str, value: Any) -> str | None:
    """Why `key: value` is not a valid member of an object of this class, or None."""
    if key not in spec.template:
        return f"unknown member {key!r}"
    if key in spec.read_only:
        return None
    template = spec.template[key]
    if not _same_type(template, value):
        return f"member {key!r} must be {_type_name(template)}, got {_type_name(value)}"
    if key in spec.enums and not 0 <= value < spec.enums[key]:
        return f"member {key!r}: {value} is not a value of its enum (0..{spec.enums[key] - 1})"
    if key in spec.sets and not 0 <= value < 2 ** spec.sets[key]:
        return f"member {key!r}: {value} is not a bitmask of its set (0..{2 ** spec.sets[key] - 1})"
    if key.endswith("Refs") and not all(_is_int(v) for v in value):
        return f"member {key!r} must be an array of int"
    if spec.name == "RpcSignatures" and key == "Groups":
        for link in value:
            if (
                not isinstance(link, dict)
                or set(link) != {"GroupRef", "DefaultKinds"}
                or not all(_is_int(v) for v in link.values())
                or not 0 <= link["DefaultKinds"] < 2**SIGNATURE_KINDS
            ):
                return "member 'Groups' must be an array of {GroupRef: int, DefaultKinds: int}"
    return None


CLASSES: dict[str, ClassSpec] = {
    "RpcPop3Accounts": ClassSpec(
        "RpcPop3Accounts",
        POP3_ACCOUNT,
        write_only=("Password",),
        read_only=("ID", "Created", "Modified", "LockData", "ErrorCount", "Message"),
        extra_methods=("CheckConnection",),
        enums=POP3_ENUMS,
        sets={"Flags": 10},
    ),
    "RpcSmtpAccounts": ClassSpec(
        "RpcSmtpAccounts",
        SMTP_ACCOUNT,
        write_only=("Password",),
        read_only=("ID", "Created", "Modified", "LockData", "ErrorCount", "Message"),
        extra_methods=("CheckConnection",),
        enums=SMTP_ENUMS,
        sets={"Flags": 2},
    ),
    "RpcGroups": ClassSpec(
        "RpcGroups",
        GROUP,
        list_params=(bool,),
        read_only=("ID", "Created", "Modified", "LockData", "Path", "Signatures"),
        extra_methods=("GetCompleteList", "SetParent"),
        enums={"WorkSpace": 5},
    ),
    "RpcSignatures": ClassSpec(
        "RpcSignatures",
        SIGNATURE,
        list_params=(bool,),
        enums={"Synchronisation": 3, "WorkSpace": 2},
    ),
    "RpcFilters": ClassSpec(
        "RpcFilters", FILTER, list_params=(bool,), extra_methods=("GetCompleteList", "SetParent")
    ),
    "RpcRules": ClassSpec(
        "RpcRules",
        RULE,
        list_params=(int,),
        list_fields=RULE_ITEM_FIELDS,
        extra_methods=("GetGlobal", "PutGlobal", "DeleteGlobal", "GetGlobals"),
        enums={"Kind": 2, "State": 2},
        sets={"Triggers": 10},
    ),
}
