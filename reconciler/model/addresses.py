"""The one address normalization used everywhere: blacklist, senders, group addresses, usernames.

Canonical form: the domain lower-cased and converted to its IDNA2008 A-label (`xn--…`), the local
part lower-cased when it is ASCII (providers treat it case-insensitively in practice; RFC 5321 allows
servers not to). Display names, angle brackets, spaces and lists are rejected: a manifest names one
bare addr-spec per entry.
"""

from __future__ import annotations

import re

import idna

# RFC 5322 dot-atom text for the local part (quoted local parts are not accepted in manifests).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LOCAL_RE = re.compile(rf"^{_ATEXT}+(\.{_ATEXT}+)*$")


class AddressError(ValueError):
    """A value that is not a single, valid address or domain."""


def normalize_domain(text: str) -> str:
    domain = text.strip().rstrip(".")
    if not domain or " " in domain:
        raise AddressError(f"{text!r} is not a domain name")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise AddressError(f"{text!r} is not a valid domain name ({exc})") from None
    if "." not in ascii_domain:
        raise AddressError(f"{text!r} is not a fully qualified domain name")
    if len(ascii_domain) > 253:
        raise AddressError(f"{text!r} is longer than 253 characters")
    return ascii_domain.lower()


def normalize_address(text: str) -> str:
    """Return the canonical form of one bare address, or raise AddressError saying why not."""
    if not isinstance(text, str):
        raise AddressError(f"{text!r} is not an e-mail address")
    value = text.strip()
    if any(ch in value for ch in '<>,;"() \t'):
        raise AddressError(
            f"{text!r} is not a single bare address (no display names, brackets, spaces or lists)"
        )
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise AddressError(f"{text!r} is not an e-mail address (expected local-part@domain)")
    if not _LOCAL_RE.match(local):
        raise AddressError(f"{text!r} has an invalid local part {local!r}")
    if len(local.encode()) > 64:
        raise AddressError(f"{text!r} has a local part longer than 64 octets")
    if local.isascii():
        local = local.lower()
    address = f"{local}@{normalize_domain(domain)}"
    if len(address) > 254:
        raise AddressError(f"{text!r} is longer than 254 characters")
    return address


def is_address(text: str) -> bool:
    try:
        normalize_address(text)
    except AddressError:
        return False
    return True


def normalize_blacklist_entry(text: str) -> str:
    """An address stays an address; `@domain`, `domain` and `*@domain` become `@domain`."""
    if not isinstance(text, str):
        raise AddressError(f"{text!r} is neither an address nor a domain")
    value = text.strip()
    if value.startswith("*@"):
        value = value[1:]
    if value.startswith("@"):
        return "@" + normalize_domain(value[1:])
    if "@" in value:
        return normalize_address(value)
    return "@" + normalize_domain(value)


def display_domain(ascii_domain: str) -> str:
    """The Unicode form for people, given a canonical A-label domain."""
    try:
        return idna.decode(ascii_domain)
    except idna.IDNAError:
        return ascii_domain
