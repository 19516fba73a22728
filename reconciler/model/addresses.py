"""The one address normalization used everywhere: blacklist, senders, group addresses, usernames.

Canonical form: the domain lower-cased and converted to its IDNA2008 A-label (`xn--…`, via the
`idna` package with UTS #46 mapping), the local part lower-cased when it is ASCII (providers treat it
case-insensitively in practice; RFC 5321 allows servers not to). Display names, angle brackets,
spaces and lists are rejected: a manifest names one bare addr-spec per entry. Blacklist domains are
written canonically as `@domain`.

Every error carries the id of the lint rule it enforces (docs/manifest.md, "Lint rules").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import idna

# RFC 5322 dot-atom text for the local part (quoted local parts are not accepted in manifests).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LOCAL_RE = re.compile(rf"^{_ATEXT}+(\.{_ATEXT}+)*$")
_FORBIDDEN = set('<>,;"() \t\r\n[]\\:')

MAX_LOCAL = 64  # RFC 5321 §4.5.3.1.1, octets
MAX_DOMAIN = 253  # DNS name without the trailing dot
MAX_ADDRESS = 254  # RFC 3696 erratum 1690


class AddressError(ValueError):
    """A value that is not a single, valid address or domain."""

    def __init__(self, message: str, rule: str = "ADDR-001"):
        super().__init__(message)
        self.rule = rule


@lru_cache(maxsize=65536)
def normalize_domain(text: str) -> str:
    domain = text.strip()
    if domain.endswith("."):
        domain = domain[:-1]
    if not domain or any(ch in _FORBIDDEN or ch == "@" for ch in domain):
        raise AddressError(f"{text!r} is not a domain name")
    if len(domain) > MAX_DOMAIN:
        raise AddressError(f"{text!r} is longer than {MAX_DOMAIN} characters", "ADDR-002")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise AddressError(f"{text!r} is not a valid domain name ({exc})", "ADDR-006") from None
    if "." not in ascii_domain:
        raise AddressError(
            f"{text!r} is not a fully qualified domain name (it has no dot)", "ADDR-006"
        )
    if len(ascii_domain) > MAX_DOMAIN:
        raise AddressError(f"{text!r} is longer than {MAX_DOMAIN} characters", "ADDR-002")
    return ascii_domain.lower()


@lru_cache(maxsize=65536)
def normalize_address(text: str) -> str:
    """Return the canonical form of one bare address, or raise AddressError saying why not."""
    if not isinstance(text, str):
        raise AddressError(f"{text!r} is not an e-mail address")
    value = text.strip()
    if any(ch in _FORBIDDEN for ch in value):
        raise AddressError(
            f"{text!r} is not a single bare address (no display names, brackets, spaces or lists)"
        )
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise AddressError(f"{text!r} is not an e-mail address (expected local-part@domain)")
    if "@" in local:
        raise AddressError(f"{text!r} holds more than one '@'")
    if not _LOCAL_RE.match(local):
        raise AddressError(f"{text!r} has an invalid local part {local!r}")
    if len(local.encode()) > MAX_LOCAL:
        raise AddressError(
            f"{text!r} has a local part longer than {MAX_LOCAL} octets (RFC 5321)", "ADDR-002"
        )
    if local.isascii():
        local = local.lower()
    address = f"{local}@{normalize_domain(domain)}"
    if len(address.encode()) > MAX_ADDRESS:
        raise AddressError(f"{text!r} is longer than {MAX_ADDRESS} characters", "ADDR-002")
    return address


def is_address(text: str) -> bool:
    try:
        normalize_address(text)
    except AddressError:
        return False
    return True


@lru_cache(maxsize=65536)
def normalize_blacklist_entry(text: str) -> str:
    """An address stays an address; `@domain`, `domain` and `*@domain` become `@domain`."""
    if not isinstance(text, str):
        raise AddressError(f"{text!r} is neither an address nor a domain")
    value = text.strip()
    if value.startswith("*@"):
        value = value[1:]
    if value.startswith("*") or "*" in value.partition("@")[2]:
        raise AddressError(
            f"{text!r}: wildcards are not supported; a blacklist entry is one address or one "
            "whole domain (`@example.com`, which does not include its subdomains)",
            "ADDR-008",
        )
    if value.startswith("@"):
        return "@" + normalize_domain(value[1:])
    if "@" in value:
        return normalize_address(value)
    return "@" + normalize_domain(value)


def address_domain(canonical: str) -> str:
    return canonical.rpartition("@")[2]


def display_domain(ascii_domain: str) -> str:
    """The Unicode form for people, given a canonical A-label domain."""
    try:
        return idna.decode(ascii_domain)
    except idna.IDNAError:
        return ascii_domain


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def mixed_script_labels(ascii_domain: str) -> list[str]:
    """Labels (in Unicode) whose letters come from more than one script: a homograph risk."""
    out = []
    for label in display_domain(ascii_domain).split("."):
        scripts = {_script(ch) for ch in label if ch.isalpha()}
        if len(scripts) > 1:
            out.append(label)
    return out
