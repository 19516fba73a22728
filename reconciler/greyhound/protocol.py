"""Every assumption about GREYHOUND behaviour that the public documentation does not settle.

Client and emulator both import from here, so matching a real server later means editing one file.
docs/greyhound-api.md lists each item with what is documented ([S]) and what is assumed ([I]).
"""

from __future__ import annotations

# --- Envelope (greyhound-rpc.md §1.2, §1.4) --------------------------------------------------------
JSONRPC_VERSION = "1.1"
ENDPOINT_PATH = "/json"
# [I] error object shape: JSON-RPC 1.1 working draft. The client also accepts faultCode/faultString.
ERROR_NAME = "JSONRPCError"

# --- Fault codes: internal code + 700 on HTTP protocols [S: ERR]; the numbers themselves are [I] ----
FAULT_OFFSET = 700
FAULT_UNKNOWN_METHOD = FAULT_OFFSET + 1
FAULT_INVALID_PARAMS = FAULT_OFFSET + 2
FAULT_NOT_FOUND = FAULT_OFFSET + 3
FAULT_NOT_LOCKED = FAULT_OFFSET + 4
FAULT_LOCKED_BY_OTHER = FAULT_OFFSET + 5
FAULT_CONNECTION_FAILED = FAULT_OFFSET + 6  # CheckConnection could not log in / connect
FAULT_TOO_MANY_CLIENTS = FAULT_OFFSET + 7
FAULT_INTERNAL = FAULT_OFFSET + 8

# --- Client-ID scheme [S: HTTP, QS] --------------------------------------------------------------
CLIENT_ID_LENGTH = 32

# --- Where Elements settings live that no documented API exposes [I] ---------------------------
# The blacklist of the mail assignment and the reconciler's ownership marker are kept as
# RpcRules globals (GetGlobal/PutGlobal), each a JSON document.
BLACKLIST_GLOBAL = "Elements.Mailzuordnung.Blacklist"
MARKER_GLOBAL = "Elements.Reconciler.Marker"

# --- Field conventions [I] ---------------------------------------------------------------------
# SMTP senders are kept in RpcSmtpAccount.Filter: "*" for all, else addresses one per line
# (the Elements UI takes them "one per line").
SENDERS_SEPARATOR = "\n"
# Passwords are write-only: Get/GetList return "" for Password. A Put that leaves Password out or
# empty keeps the stored password.
PASSWORD_PLACEHOLDER = ""
# Signatures: RpcSignature.Groups[] = {GroupRef, DefaultKinds}; skEmail is bit 1.
SIGNATURE_KIND_EMAIL = 1
# Rules: the per-account incoming rule runs after incoming mail (RpcRuleTriggers rtAfterIncoming=1)
# and is a script rule (rkScript=1).
RULE_TRIGGER_AFTER_INCOMING = 1
RULE_KIND_SCRIPT = 1
RULE_TRIGGER_OPTION_ALL = 0
# Filters: sub-filters hang under a parent through SetParent; ParentRef 0 means top level.
NO_PARENT = 0
# GREYHOUND's status flag sfFailure=2 in RpcServerStatus means a component failed.
STATUS_FAILURE = 2
STATUS_COMPONENTS = (
    "MySqlServer",
    "AppServer",
    "QueueServer",
    "CommServer",
    "GatewayServer",
    "AccessServer",
    "SyncServer",
)
MIN_SERVER_MAJOR = 5  # Elements needs GREYHOUND 5 or newer [S: 4S]
