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


CLASSES: dict[str, ClassSpec] = {
    "RpcPop3Accounts": ClassSpec(
        "RpcPop3Accounts",
        POP3_ACCOUNT,
        write_only=("Password",),
        read_only=("ID", "Created", "Modified", "LockData", "ErrorCount", "Message"),
        extra_methods=("CheckConnection",),
    ),
    "RpcSmtpAccounts": ClassSpec(
        "RpcSmtpAccounts",
        SMTP_ACCOUNT,
        write_only=("Password",),
        read_only=("ID", "Created", "Modified", "LockData", "ErrorCount", "Message"),
        extra_methods=("CheckConnection",),
    ),
    "RpcGroups": ClassSpec(
        "RpcGroups",
        GROUP,
        list_params=(bool,),
        read_only=("ID", "Created", "Modified", "LockData", "Path", "Signatures"),
        extra_methods=("GetCompleteList", "SetParent"),
    ),
    "RpcSignatures": ClassSpec("RpcSignatures", SIGNATURE, list_params=(bool,)),
    "RpcFilters": ClassSpec(
        "RpcFilters", FILTER, list_params=(bool,), extra_methods=("GetCompleteList", "SetParent")
    ),
    "RpcRules": ClassSpec(
        "RpcRules",
        RULE,
        list_params=(int,),
        list_fields=RULE_ITEM_FIELDS,
        extra_methods=("GetGlobal", "PutGlobal", "DeleteGlobal", "GetGlobals"),
    ),
}
