"""The manifest schema: what users write in `environments/<env>/*.yaml`.

Strict: unknown keys are errors, strings are not coerced into numbers or booleans (a port written
`"0995"` is an error, not 995). Field reference and defaults: docs/manifest.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from reconciler.model.addresses import AddressError, normalize_address, normalize_blacklist_entry
from reconciler.model.enums import DEFAULT_PORTS, DeletePolicy, Pop3Auth, Security, SmtpAuth

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f:]+$")]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(Strict):
    """Where a secret comes from; the value itself never appears in a manifest."""

    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of `env: NAME` or `file: PATH`")
        return self

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"file:{self.file}"


class DeleteFromServer(Strict):
    policy: DeletePolicy = DeletePolicy.NEVER
    days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None

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
        raise ValueError(str(exc)) from None


def _blacklist_entry(value: str) -> str:
    try:
        return normalize_blacklist_entry(value)
    except AddressError as exc:
        raise ValueError(str(exc)) from None


Address = Annotated[str, AfterValidator(_address)]
BlacklistEntry = Annotated[str, AfterValidator(_blacklist_entry)]


class _Account(Strict):
    name: Name
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Port | None = None
    security: Security = Security.SSL
    username: Annotated[str, Field(min_length=1)]
    password: SecretRef | None = None
    active: StrictBool = True

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        host = value.strip().rstrip(".").lower()
        if not host or any(c in host for c in " /:@"):
            raise ValueError(f"{value!r} is not a host name or IP address")
        return host

    def effective_port(self, kind: str) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[kind][self.security]


class Pop3Account(_Account):
    auth: Pop3Auth = Pop3Auth.LOGIN
    delete_from_server: DeleteFromServer = DeleteFromServer()
    delete_when_deleted_in_elements: StrictBool = False
    group_email: Address | None = None


class SmtpAccount(_Account):
    security: Security = Security.STARTTLS
    auth: SmtpAuth = SmtpAuth.LOGIN
    senders: list[Literal["*"] | Address] = Field(default_factory=lambda: ["*"], min_length=1)

    @field_validator("senders")
    @classmethod
    def _senders(cls, value: list[str]) -> list[str]:
        if "*" in value and len(value) > 1:
            raise ValueError('"*" (all senders) must stand alone in `senders`')
        return sorted(set(value))


class Group(Strict):
    name: Name
    email: Address


class Filter(Strict):
    name: Name
    parent: Name | None = None
    group: Name | None = None


class TlsSettings(Strict):
    ca_file: str | None = None
    verify: StrictBool = True


class Connection(Strict):
    url: Annotated[str, Field(min_length=1)]
    username: Annotated[str, Field(min_length=1)] = "admin"
    password: SecretRef | None = None
    tls: TlsSettings = TlsSettings()
    allow_http: StrictBool = False
    integration_enabled: StrictBool = True
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    # further attempts after a transport error or HTTP 5xx (reads; writes re-read first)
    retries: Annotated[StrictInt, Field(ge=0, le=10)] = 4


class SimulatedEndpoint(Strict):
    """A mail server the embedded emulator answers CheckConnection for without network."""

    protocol: Literal["pop3", "smtp"]
    host: str
    port: Port
    security: Security
    username: str
    password: SecretRef


class EmulatorSeed(Strict):
    server_version: str = "5.3.0"
    simulated_endpoints: list[SimulatedEndpoint] = Field(default_factory=list)


class Resources(Strict):
    """The resource sections; any YAML file of an environment or base folder may hold them."""

    pop3_accounts: list[Pop3Account] = Field(default_factory=list)
    smtp_accounts: list[SmtpAccount] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    # None: the manifest does not manage the blacklist (live entries are left alone)
    blacklist: list[BlacklistEntry] | None = None


class Manifest(Resources):
    """One environment, after includes and overrides are merged."""

    greyhound: Connection
    prune: StrictBool = False
    env_file: str | None = None
    emulator: EmulatorSeed | None = None
