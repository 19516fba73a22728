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

# [S: QS] `id` is optional and echoed only when sent. The client sends one and checks the echo.
# [I] the request `version` member is not checked by the server (the emulator accepts any).

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
# Which typed error a fault code becomes on the client (reconciler/greyhound/errors.py); codes not
# listed stay a plain RpcError. Once the real table is known, only these names need new numbers.
FAULT_KINDS = {
    FAULT_NOT_FOUND: "not_found",
    FAULT_NOT_LOCKED: "not_locked",
    FAULT_LOCKED_BY_OTHER: "locked",
    FAULT_CONNECTION_FAILED: "check_failed",
    FAULT_TOO_MANY_CLIENTS: "too_many_clients",
}

# --- HTTP status [S-PHP: PHPLIB]: 401/403 = bad login, 404 = no such endpoint, faults come with 200 --
HTTP_AUTH_FAILED = (401, 403)
HTTP_NOT_FOUND = 404

# --- What may be sent again after a lost answer -------------------------------------------------
# Reads change nothing, so a transport error or HTTP 5xx on them is retried with backoff.
# [I] Lock and Unlock are repeatable within one Client-ID's lock pool (locking what we already hold
# succeeds, unlocking what is free is a no-op); CheckConnection changes no state.
REPEATABLE_METHODS = frozenset(
    {
        "Get",
        "GetList",
        "GetCompleteList",
        "GetGlobal",
        "GetGlobals",
        "GetLockData",
        "GetServerInfo",
        "GetServerStatus",
        "GetUserInfo",
        "CheckConnection",
        "Lock",
        "Unlock",
    }
)
# Every other method is a write: after a lost answer the client re-reads the server before trying
# again (New: look the object up by Name via GetList; Delete: Get says not found; Put, SetParent,
# PutGlobal: read back and compare).

# --- Objects (greyhound-rpc.md §3) ---------------------------------------------------------------
# [I] how each class is listed: GetCompleteList for groups and filters (all of them, not only those
# the API user may see); rules with TriggerOption toAll.
LIST_METHODS: dict[str, tuple[str, tuple[object, ...]]] = {
    "RpcPop3Accounts": ("GetList", ()),
    "RpcSmtpAccounts": ("GetList", ()),
    "RpcGroups": ("GetCompleteList", (False,)),
    "RpcSignatures": ("GetList", (False,)),
    "RpcFilters": ("GetCompleteList", (False,)),
    "RpcRules": ("GetList", (0,)),
}
# [I] New ignores the ID it is sent and returns the new one; the client sends 0.
NEW_OBJECT_ID = 0
# [I] Put replaces the whole object, so the client sends everything Get returned, changes applied.
# [I] Delete needs no lock (it fails only while another Client-ID holds one).
DELETE_NEEDS_LOCK = False
# [I] GetGlobal of a name never stored answers "" (not a fault).
MISSING_GLOBAL = ""
# [I] POP3 CheckConnection answers the number of waiting messages; SMTP answers nothing; a failed
# check of either is a fault (FAULT_CONNECTION_FAILED). The server waits for the mail server up to
# the item's Timeout (seconds), so the client waits that long plus this margin.
CHECK_TIMEOUT_MARGIN = 15.0

# --- Client defaults (ours) --------------------------------------------------------------------
DEFAULT_TIMEOUT = 30.0  # seconds per request
CONNECT_TIMEOUT = 10.0  # seconds to open the TCP/TLS connection (at most the request timeout)
DEFAULT_RETRIES = 4  # further attempts after the first one
BACKOFF_BASE = 0.2  # seconds before the first retry; doubles each time, with jitter
BACKOFF_CAP = 5.0

# --- Client-ID scheme [S: HTTP, QS] --------------------------------------------------------------
CLIENT_ID_LENGTH = 32
# [S-PHP: PHPLIB] the PHP client encodes the Basic credentials as windows-1252 and also sends the
# client id in a cookie `ghclient`. We do the same; a password that windows-1252 cannot encode is
# sent as UTF-8 [I]. The emulator decodes windows-1252.
AUTH_ENCODING = "cp1252"
CLIENT_COOKIE = "ghclient"

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
RULE_TRIGGER_OPTION_ALL = 0  # RpcTriggerOption toAll [S]
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
# [I] RpcServerInfo.Version is a dotted string whose first number is the major version
# ("5.3.0", "5.3.1.4711"); a leading product word is tolerated.
VERSION_PATTERN = r"(\d+)(?:\.\d+)*"
# RpcLockState [S]: lsUnlocked=0, lsModified=1, lsLocked=2.
LOCK_UNLOCKED, LOCK_MODIFIED, LOCK_LOCKED = 0, 1, 2

# --- Sessions [S: HTTP] + [I] ------------------------------------------------------------------
# The server limits distinct Client-IDs per user [S]; the limit, and what happens when it is reached
# (here: fault FAULT_TOO_MANY_CLIENTS), are [I]. RpcUsers.Logout ends the session and releases its
# locks [I]; an idle session expires after this many seconds [I].
DEFAULT_MAX_CLIENTS_PER_USER = 20
SESSION_IDLE_SECONDS = 600

# --- OAuth2 linking (greyhound-rpc.md §3.4) --------------------------------------------------------
# [S] Start/CheckOAuth2Authentication on RpcPop3Accounts and RpcSmtpAccounts; RpcOAuth2State.
OAUTH2_NONE, OAUTH2_PENDING, OAUTH2_FINISHED, OAUTH2_FAILED = 0, 1, 2, 3
# [I] Start takes the account's own host as the provider selector, RedirectUrl and Locale may be "".
# [I] After oasFinished the refresh token is stored as the account's write-only Password (Put, with
# Authenticate = OAuth2). The server cannot tell whether an account is linked, so the reconciler
# records every link it made (JSON: "kind/name" -> when, provider) in this rule global.
OAUTH2_LINKS_GLOBAL = "Elements.Reconciler.OAuth2"

# --- One apply at a time [I: built on documented Lock semantics] ---------------------------------
# GREYHOUND has no run lock, but object locks are exclusive per Client-ID: apply locks an inactive
# sentinel rule of this name for its whole run. A second apply, from anywhere, cannot lock it.
APPLY_LOCK_RULE = "Elements.Reconciler: apply lock"
