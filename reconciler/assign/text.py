"""Find e-mail addresses and reference numbers in the free text of a mail (subject and body).

What counts as a reference number is our reading of the Elements documentation (docs/assign.md,
"Reference numbers"): a whole *token* of letters and digits, joined inside by `-`, `/` or `_` (and by
`.` only between two digits), with at least one digit and at least four characters. A number that
is only part of a longer token never matches: `12345` is not found in `912345` or `302-12345-1`.
A token that is a date, the amount of a price, a postcode where an address is written, part of a
phone number, a URL or an address is not a reference number, so a price `1299,00 €` never matches
order number `1299`.

Speed: the text is scanned once for tokens; only the few candidates are then looked at, each with
short regular expressions anchored at the token (its own text, the text just before and after it
on its line). No pass rewrites or rescans the whole body.
"""

from __future__ import annotations

import re

from reconciler.model.addresses import AddressError, normalize_address

MIN_REFERENCE_LENGTH = 4

# Addresses in running text. The normalizer decides validity; this only finds candidates.
# (the look-behind makes a match start only at the beginning of a run: linear, not quadratic, on
# a long run of letters without any @)
_ADDRESS_RE = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
)
_LOCAL_TRIM = ".'`{|}~-/=?^!#$%&*+"

_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:(?:[-/_]|(?<=[0-9])\.(?=[0-9]))[A-Za-z0-9]+)*(?![A-Za-z0-9])"
)

_DIGIT = re.compile(r"\d")

# how far a URL or address around a token is looked for
_CHUNK = 256
# how far before/after a token a price sign, a phone label or a month name is looked for
_REACH = 48

_MONTHS = (
    "jan|feb|mär|maer|mar|apr|mai|may|jun|jul|aug|sep|sept|okt|oct|nov|dez|dec|"
    "januar|january|februar|february|märz|maerz|march|april|juni|june|juli|july|august|"
    "september|oktober|october|november|dezember|december"
)
_CURRENCY = r"(?:€|\$|£|EUR|Euro|USD|CHF|GBP)"
_COUNTRIES = "D|DE|A|AT|CH|F|FR|NL|B|BE|L|LU|DK|PL|CZ|I|IT|E|ES"

# 12.03.2024, 12.3.24, 2024-03-12, 12/03/2024 (the token itself)
_DATE_TOKEN = re.compile(
    r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})"
)
# the year of "14. März 2024" / "March 14, 2024" (the text before a 4-digit token)
_YEAR_AFTER_MONTH = re.compile(
    rf"(?i)(?:\b\d{{1,2}}\.?\s*(?:{_MONTHS})\.?|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?)\s+$"
)
_AMOUNT_TOKEN = re.compile(r"\d{1,3}(?:[.']\d{3})+|\d+|\d+\.\d{2}")
_PRICE_AFTER = re.compile(
    rf"(?:[.,](?:\d{{1,2}}(?!\d)|-{{1,2}}))|[ \u00a0]?{_CURRENCY}(?![A-Za-z])"
)
_PRICE_BEFORE = re.compile(rf"{_CURRENCY}[ \u00a0]?$")
_POSTCODE_TOKEN = re.compile(rf"(?:(?:{_COUNTRIES})-)?\d{{4,5}}")
_TOWN_LINE_REST = re.compile(r"[ \t]+[A-ZÄÖÜ][\w.()\-]*(?:[ \t]+[\w.()\-]+){0,3}[ \t]*$")
_TOWN_AFTER = re.compile(r"[ \t]+[A-ZÄÖÜ]")
_POSTCODE_BEFORE = re.compile(r"(?:,[ \t]*|(?i:\bPLZ\b)\.?:?[ \t]*)$")
_PHONE_TOKEN = re.compile(r"[\d/-]+")
_PHONE_BEFORE = re.compile(
    r"(?:(?i:\b(?:tel|telefon|phone|fax|mobil|mobile|handy)\b)\.?:?[ \t]*(?:[+\d(][\d \t()/-]*)?"
    r"|\+\d{1,3}[ \t(][\d \t()/-]*)$"
)
_URL_START = re.compile(r"(?i)(?:https?|ftp)://|\bwww\.")


def addresses_in(text: str) -> list[str]:
    """Normalized addresses in order of first appearance; text that is not a valid address is skipped."""
    seen: dict[str, None] = {}
    for match in _ADDRESS_RE.finditer(text):
        raw = match.group(0)
        local, _, domain = raw.rpartition("@")
        local = local.lstrip(_LOCAL_TRIM)
        try:
            seen.setdefault(normalize_address(f"{local}@{domain}"), None)
        except AddressError:
            continue
    return list(seen)


def _in_url_or_address(text: str, start: int, end: int) -> bool:
    lo, hi = max(0, start - _CHUNK), min(len(text), end + _CHUNK)
    window = text[lo:hi]
    has_at = "@" in window
    if not has_at and "://" not in window and "www." not in window.lower():
        return False  # the common case, decided by plain substring tests
    # the run of non-space text around the token (within _CHUNK characters each side)
    left = max(text.rfind(space, lo, start) for space in " \t\r\n") + 1 or lo
    rights = [i for i in (text.find(space, end, hi) for space in " \t\r\n") if i != -1]
    chunk_start = max(left, lo)
    chunk = text[chunk_start : min(rights) if rights else hi]
    if has_at:
        for match in _ADDRESS_RE.finditer(chunk):
            if match.start() < end - chunk_start and match.end() > start - chunk_start:
                return True
    url = _URL_START.search(chunk)
    return url is not None and url.start() <= start - chunk_start


def not_a_reference(text: str, start: int, end: int) -> str | None:
    """Why the token text[start:end] is not a reference number (date, price, …), or None."""
    token = text[start:end]
    # the text before/after the token on its line, at most _REACH characters (bounded searches:
    # a body that is one huge line must not cost a full scan per token)
    newline = text.rfind("\n", max(0, start - _REACH), start)
    lo = newline + 1 if newline != -1 else max(0, start - _REACH)
    at_line_start = (newline != -1 or start <= _REACH) and not text[lo:start].strip()
    newline = text.find("\n", end, end + _REACH)
    hi = newline if newline != -1 else min(len(text), end + _REACH)
    line_ends_near = newline != -1 or len(text) - end <= _REACH
    before, after = text[lo:start], text[end:hi]
    if _DATE_TOKEN.fullmatch(token) or (
        len(token) == 4 and token.isdigit() and _YEAR_AFTER_MONTH.search(before)
    ):
        return "date"
    if _AMOUNT_TOKEN.fullmatch(token) and (
        "." in token or _PRICE_AFTER.match(after) or _PRICE_BEFORE.search(before)
    ):
        return "price"
    if _POSTCODE_TOKEN.fullmatch(token) and (
        (at_line_start and line_ends_near and _TOWN_LINE_REST.match(after))
        or (_POSTCODE_BEFORE.search(before) and _TOWN_AFTER.match(after))
        or ("-" in token and _TOWN_AFTER.match(after))
        or before.rstrip(" \t:.").upper().endswith("PLZ")
    ):
        return "postcode"
    if _PHONE_TOKEN.fullmatch(token) and _PHONE_BEFORE.search(before):
        return "phone"
    if _in_url_or_address(text, start, end):
        return "url or address"
    return None


def is_reference_token(token: str) -> bool:
    """Could `token` ever be found as a reference number? (used to warn about ERP data)"""
    return (
        len(token) >= MIN_REFERENCE_LENGTH
        and any(ch.isdigit() for ch in token)
        and _TOKEN_RE.fullmatch(token) is not None
    )


def reference_numbers(text: str) -> list[str]:
    """Reference-number candidates (upper-cased) in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _TOKEN_RE.finditer(text):
        token = match.group(0)
        if len(token) < MIN_REFERENCE_LENGTH or token.isalpha() or not _DIGIT.search(token):
            continue
        if token.upper() in seen:
            continue
        if not_a_reference(text, match.start(), match.end()) is None:
            seen.setdefault(token.upper(), None)
    return list(seen)


def normalize_reference(value: str) -> str:
    return value.strip().upper()
