"""Find e-mail addresses and reference numbers in the free text of a mail (subject and body).

What counts as a reference number is our reading of the Elements documentation (docs/assign.md,
"Reference numbers"): a whole *token* of letters and digits, joined inside by `-`, `/` or `_` (and by
`.` only between two digits), with at least one digit and at least four characters. A number that
is only part of a longer token never matches: `12345` is not found in `912345` or `302-12345-1`.
Dates, times, prices, postcodes in address lines, phone numbers, URLs and addresses are blanked out
before tokens are taken, so a price `1299,00 €` never matches order number `1299`.
"""

from __future__ import annotations

import re

from reconciler.model.addresses import AddressError, normalize_address

MIN_REFERENCE_LENGTH = 4

# Addresses in running text. The normalizer decides validity; this only finds candidates.
_ADDRESS_RE = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+",
)
_LOCAL_TRIM = ".'`{|}~-/=?^!#$%&*+"

_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:(?:[-/_]|(?<=[0-9])\.(?=[0-9]))[A-Za-z0-9]+)*(?![A-Za-z0-9])"
)

_MONTHS = (
    "jan|feb|mär|maer|mar|apr|mai|may|jun|jul|aug|sep|sept|okt|oct|nov|dez|dec|"
    "januar|january|februar|february|märz|maerz|march|april|juni|june|juli|july|august|"
    "september|oktober|october|november|dezember|december"
)
_CURRENCY = r"(?:€|\$|£|EUR|Euro|USD|CHF|GBP)"
_NUMBER = r"\d{1,3}(?:[.'\u00a0\u202f]\d{3})+|\d+"

# Each pattern blanks out text that looks like a number but is not a reference number.
_NOT_REFERENCES = [
    ("url", re.compile(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+")),
    ("address", _ADDRESS_RE),
    # 12.03.2024, 12.3.24, 2024-03-12, 12/03/2024, 12. März 2024, March 12, 2024
    (
        "date",
        re.compile(
            r"(?<![\w.])(?:\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}|"
            r"\d{1,2}/\d{1,2}/(?:\d{4}|\d{2}))(?![\w]|[.\-/]\d)"
            rf"|(?i:\b\d{{1,2}}\.?\s*(?:{_MONTHS})\.?\s+\d{{4}}\b)"
            rf"|(?i:\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b)"
        ),
    ),
    ("time", re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")),
    # € 1.299,00 / 1299,00 EUR / 49.90 $ / 1.299,- € / 12,50 (two decimals alone make a price)
    (
        "price",
        re.compile(
            rf"{_CURRENCY}\s?(?:{_NUMBER})(?:[.,](?:\d{{1,2}}|-{{1,2}}))?"
            rf"|(?:{_NUMBER})(?:[.,](?:\d{{1,2}}|-{{1,2}}))?\s?{_CURRENCY}(?![A-Za-z])"
            rf"|(?<![\w.,])(?:{_NUMBER}),\d{{2}}(?![\d,])"
            rf"|(?<![\w.,])\d+\.\d{{2}}(?![\d.])"
        ),
    ),
    # postcodes where an address is written: "10115 Berlin" alone on a line, ", 10115 Berlin",
    # "PLZ 10115", "D-10115 Berlin"
    (
        "postcode",
        re.compile(
            r"(?m)^[ \t]*(?:[A-Z]{1,2}-)?\d{4,5}[ \t]+[A-ZÄÖÜ][\w.()\-]*(?:[ \t]+[\w.()\-]+){0,3}[ \t]*$"
            r"|,[ \t]*(?:[A-Z]{1,2}-)?\d{4,5}[ \t]+[A-ZÄÖÜ]"
            r"|(?i:\bPLZ\b\.?:?)[ \t]*\d{4,5}\b"
            r"|\b[A-Z]{1,2}-\d{4,5}[ \t]+[A-ZÄÖÜ]"
        ),
    ),
    # phone and fax numbers: after a label, or in international form
    (
        "phone",
        re.compile(
            r"(?i:\b(?:tel|telefon|phone|fax|mobil|mobile|handy)\b\.?:?)[ \t]*[+\d][\d \t()/-]{5,}\d"
            r"|\+\d{1,3}[ \t(][\d \t()/-]{5,}\d"
        ),
    ),
]


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


def _blank(match: re.Match) -> str:
    # keep line structure (the postcode rule looks at line starts)
    return "".join("\n" if ch == "\n" else " " for ch in match.group(0))


def mask_non_references(text: str) -> str:
    """The text with dates, prices, postcodes, phone numbers, URLs and addresses blanked out."""
    for _name, pattern in _NOT_REFERENCES:
        text = pattern.sub(_blank, text)
    return text


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
    for match in _TOKEN_RE.finditer(mask_non_references(text)):
        token = match.group(0)
        if len(token) >= MIN_REFERENCE_LENGTH and any(ch.isdigit() for ch in token):
            seen.setdefault(token.upper(), None)
    return list(seen)


def normalize_reference(value: str) -> str:
    return value.strip().upper()
