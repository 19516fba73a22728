"""The manifest schema: what users write in `environments/<env>/*.yaml`.

Strict: unknown keys are errors, text is never coerced into numbers or booleans (a port written
`"0995"` is an error, not 995), and every value that names an address goes through the one
normalization in `addresses.py`. Field reference and defaults: docs/manifest.md (a test keeps the two
in step); the JSON Schemas in schemas/ are generated from these classes (`reconciler schema`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal

import idna
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reconciler.model.addresses import AddressError, normalize_address, normalize_blacklist_entry
from reconciler.model.enums import DEFAULT_PORTS, DeletePolicy, Pop3Auth, Security, SmtpAuth

NAME_PATTERN = r"^[^\x00-\x1f\x7f:\s](?:[^\x00-\x1f\x7f:]*[^\x00-\x1f\x7f:\s])?$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RULE_ID_PATTERN = r"^[A-Z]+-[0-9]{3}$"
URL_PATTERN = r"^(https?://[^\s/?#]+(/\S*)?|embedded:\S+)$"

Name = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
Text = Annotated[StrictStr, Field(min_length=1, pattern=r"^\S(.*\S)?$")]
Provider = Literal["google", "microsoft365", "outlook_consumer", "other"]
PasswordKind = Literal["account_password", "app_password"]

# Which security a well-known port implies when `security` is left out (RFC 8314, RFC 6409).
PORT_SECURITY = {
    "pop3": {995: Security.SSL, 110: Security.STARTTLS},
    "smtp": {465: Security.SSL, 587: Security.STARTTLS, 25: Security.STARTTLS},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(Strict):
    """Where a secret comes from; the value itself never appears in a manifest."""

    env: Annotated[StrictStr, Field(pattern=ENV_NAME_PATTERN)] | None = Field(
        None, description="Name of the environment variable that holds the secret."
    )
    file: Text | None = Field(
        None,
        description="Path of a file holding the secret (relative to the environment folder); "
        "one trailing newline is ignored.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of `env: NAME` or `file: PATH`")
        return self

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"file:{self.file}"


class DeleteFromServer(Strict):
    policy: DeletePolicy = Field(
        DeletePolicy.NEVER,
        description="When fetched mail is deleted from the POP3 server: after_days, immediately "
        "(right after fetching) or never.",
    )
    days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = Field(
        None, description="Days to keep mail on the server; required for after_days only."
    )

    @model_validator(mode="after")
    def _days_match_policy(self) -> DeleteFromServer:
        if self.policy is DeletePolicy.AFTER_DAYS and self.days is None:
            raise ValueError("policy `after_days` needs `days` (1 or more)")
        if self.policy is not DeletePolicy.AFTER_DAYS and self.days is not None:
            raise ValueError(f"`days` only applies to policy `after_days`, not `{self.policy}`")
        return self


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except AddressError as exc:
        raise PydanticCustomError("address", str(exc), {"rule": exc.rule}) from None


def _blacklist_entry(value: str) -> str:
    try:
        return normalize_blacklist_entry(value)
    except AddressError as exc:
        raise PydanticCustomError("address", str(exc), {"rule": exc.rule}) from None


def _sender(value: str) -> str:
    return value if value == "*" else _address(value)


def normalize_host(value: str) -> str:
    """Lower-case host name in A-label form, or an IP address; raises ValueError."""
    host = value.strip().rstrip(".")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if not host or any(c in host for c in " /:@[]"):
        raise ValueError(f"{value!r} is not a host name or IP address")
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise ValueError(f"{value!r} is not a valid host name ({exc})") from None


Address = Annotated[StrictStr, AfterValidator(_address)]
BlacklistEntry = Annotated[StrictStr, AfterValidator(_blacklist_entry)]
Sender = Annotated[StrictStr, AfterValidator(_sender)]


class _Account(Strict):
    KIND: ClassVar[str] = "pop3"

    name: Name = Field(description="Account name; identifies the account (and its group).")
    host: Annotated[StrictStr, Field(min_length=1, max_length=253)] = Field(
        description="Mail server host name or IP address."
    )
    port: Port | None = Field(
        None, description="Server port; default from `security` (995/110, 465/587)."
    )
    security: Security = Field(
        Security.SSL, description="Connection type: none, ssl (implicit TLS) or starttls."
    )
    username: Text = Field(description="Login name at the mail server.")
    password: SecretRef | None = Field(
        None,
        description="Password reference {env: NAME} or {file: PATH}; required for login/apop, "
        "forbidden for oauth2.",
    )
    password_kind: PasswordKind | None = Field(
        None,
        description="account_password or app_password: what the password is (provider lint "
        "rules use it).",
    )
    provider: Provider | None = Field(
        None,
        description="Mail provider for the lint rules; detected from the host when left out.",
    )
    active: StrictBool = Field(True, description="Whether the account fetches/sends mail.")
    protected: StrictBool = Field(
        False, description="Blocks deletion of this account by the reconciler."
    )

    @model_validator(mode="before")
    @classmethod
    def _security_from_port(cls, data: Any) -> Any:
        """A well-known port implies its security; any other port needs `security` (TLS-009)."""
        if not isinstance(data, dict) or "security" in data or data.get("port") is None:
            return data
        port = data["port"]
        if not isinstance(port, int) or isinstance(port, bool):
            return data
        implied = PORT_SECURITY[cls.KIND].get(port)
        if implied is None:
            raise PydanticCustomError(
                "port_security",
                "port {port} is not a standard {kind} port, so the connection type cannot be "
                "inferred; set `security: ssl`, `starttls` or `none` explicitly",
                {"port": port, "kind": cls.KIND.upper(), "rule": "TLS-009"},
            )
        return {**data, "security": implied.value}

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return normalize_host(value)

    def effective_port(self, kind: str) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[kind][self.security]


class Pop3Account(_Account):
    auth: Pop3Auth = Field(Pop3Auth.LOGIN, description="Authentication: login, apop or oauth2.")
    delete_from_server: DeleteFromServer = Field(
        DeleteFromServer(), description="Deletion of fetched mail from the POP3 server."
    )
    delete_when_deleted_in_elements: StrictBool = Field(
        False,
        description="Also delete from the POP3 server as soon as the mail is deleted in Elements.",
    )
    group_email: Address | None = Field(
        None,
        description="Address of the group Elements creates with the account; default: the "
        "username (required when the username is not an address).",
    )


class SmtpAccount(_Account):
    KIND: ClassVar[str] = "smtp"

    security: Security = Field(
        Security.STARTTLS, description="Connection type: none, ssl (implicit TLS) or starttls."
    )
    auth: SmtpAuth = Field(SmtpAuth.LOGIN, description="Authentication: none, login or oauth2.")
    senders: list[Sender] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description='Sender addresses sent through this account, or ["*"] for all mail.',
    )

    @field_validator("auth", mode="before")
    @classmethod
    def _no_apop(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "apop":
            raise PydanticCustomError(
                "apop_on_smtp",
                "APOP is a POP3 command (RFC 1939 §7); SMTP has no APOP",
                {"rule": "APOP-001"},
            )
        return value

    @field_validator("senders")
    @classmethod
    def _senders(cls, value: list[str]) -> list[str]:
        if "*" in value and len(value) > 1:
            raise ValueError('"*" (all senders) must stand alone in `senders`')
        return value


class Group(Strict):
    name: Name = Field(description="Name of the group: the name of the POP3 account that made it.")
    email: Address = Field(description="The group's address, used as sender address.")


class Filter(Strict):
    name: Name = Field(description="Filter name (not one of the filters Elements creates).")
    parent: Name | None = Field(None, description="Parent filter: this filter is a sub-filter.")
    group: Name | None = Field(
        None, description="Group (POP3 account name) the filter is assigned to."
    )


class TlsSettings(Strict):
    ca_file: Text | None = Field(
        None,
        description="CA certificate (PEM) to trust for a self-signed server, relative to the "
        "environment folder.",
    )
    verify: StrictBool = Field(True, description="Verify the server certificate (TLS-008).")
    allow_insecure_cert: StrictBool = Field(
        False,
        description="Acknowledge `verify: false`: TLS-008 becomes a warning instead of an error.",
    )


class Connection(Strict):
    url: Annotated[StrictStr, Field(pattern=URL_PATTERN)] = Field(
        description="https://<host>[:port] of the GREYHOUND server, or embedded:<state file> for "
        "the built-in emulator."
    )
    username: Text = Field("admin", description="GREYHOUND administrator user name.")
    password: SecretRef | None = Field(
        None, description="GREYHOUND administrator password reference."
    )
    tls: TlsSettings = Field(TlsSettings(), description="TLS settings for https:// URLs.")
    allow_http: StrictBool = Field(
        False, description="Allow a plain http:// URL (local test servers only)."
    )
    integration_enabled: StrictBool = Field(
        True,
        description="The Elements integration switch (Grundeinstellungen: activation); declared "
        "state, checked by lint.",
    )
    timeout: Annotated[StrictFloat, Field(gt=0, le=600)] = Field(
        30.0, description="Seconds to wait for one API call."
    )
    retries: Annotated[StrictInt, Field(ge=0, le=10)] = Field(
        4,
        description="Further attempts after a transport error or HTTP 5xx, with backoff (reads; "
        "a write whose answer was lost is re-read first).",
    )


class SimulatedEndpoint(Strict):
    """A mail server the embedded emulator answers CheckConnection for without network."""

    protocol: Literal["pop3", "smtp"] = Field(description="pop3 or smtp.")
    host: Text = Field(description="Host name the account uses.")
    port: Port = Field(description="Port the account uses.")
    security: Security = Field(description="Connection type the account uses.")
    username: Text = Field(description="User name the endpoint accepts.")
    password: SecretRef = Field(description="Password the endpoint accepts.")


class EmulatorSeed(Strict):
    server_version: Text = Field("5.3.0", description="Version the emulator reports.")
    simulated_endpoints: list[SimulatedEndpoint] = Field(
        default_factory=list, description="Mail servers answered without network."
    )


class MicrosoftTenant(Strict):
    smtp_basic_reenabled: StrictBool = Field(
        False,
        description="The tenant admin re-enabled SMTP AUTH Basic after Microsoft's end-of-2026 "
        "default switch-off (MS-002).",
    )
    created_after_2026: StrictBool = Field(
        False, description="The tenant was created after December 2026 (MS-002)."
    )


class LintSettings(Strict):
    ignore: list[Annotated[StrictStr, Field(pattern=RULE_ID_PATTERN)]] = Field(
        default_factory=list,
        description="Ids of warning rules to silence (errors cannot be ignored).",
    )
    microsoft365: MicrosoftTenant = Field(
        MicrosoftTenant(), description="Facts about the Microsoft 365 tenant."
    )


class Resources(Strict):
    """The resource sections; any YAML file of an environment or base folder may hold them."""

    pop3_accounts: list[Pop3Account] = Field(
        default_factory=list, description="Incoming mail accounts (at most 10)."
    )
    smtp_accounts: list[SmtpAccount] = Field(
        default_factory=list, description="Outgoing mail accounts (at most 10)."
    )
    groups: list[Group] = Field(
        default_factory=list, description="Addresses of the groups the POP3 accounts create."
    )
    filters: list[Filter] = Field(
        default_factory=list, description="Filters beyond the standard set Elements creates."
    )
    # None: the manifest does not manage the blacklist (live entries are left alone)
    blacklist: list[BlacklistEntry] | None = Field(
        None,
        description="Addresses and @domains the mail assignment ignores; managed only when "
        "some file declares it.",
    )


class AssignmentSamples(Strict):
    """Sample mails for the assignment what-if that `plan` shows under a blacklist change."""

    erp: Text = Field(description="ERP data (YAML), relative to the environment folder.")
    corpus: Text = Field(
        description="Folder of .eml sample mails, relative to the environment folder."
    )
    history: Text | None = Field(
        None, description="Thread history (YAML), relative to the environment folder."
    )


class Manifest(Resources):
    """One environment, after includes and overrides are merged."""

    greyhound: Connection = Field(description="How to reach the GREYHOUND server.")
    prune: StrictBool = Field(
        False, description="Delete accounts that exist on the server but not in the manifest."
    )
    env_file: Text | None = Field(
        None,
        description="NAME=value file with secrets (relative to the environment folder); real "
        "environment variables win.",
    )
    emulator: EmulatorSeed | None = Field(
        None, description="Seed for the embedded emulator (url: embedded:...)."
    )
    lint: LintSettings = Field(LintSettings(), description="Lint settings.")
    assignment_samples: AssignmentSamples | None = Field(
        None,
        description="Sample mails whose assignment `plan` compares under a blacklist change "
        "(docs/assign.md).",
    )


def is_rule_id(text: str) -> bool:
    return bool(re.match(RULE_ID_PATTERN, text))
