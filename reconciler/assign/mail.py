"""An RFC 5322 mail (.eml) reduced to what the assignment rules look at.

Parsed with the standard library's `email` package. The `compat32` policy is used on purpose: it is
several times faster than `email.policy.default`, and address headers are split *before* encoded
words are decoded, so a display name like `=?utf-8?q?M=C3=BCller=2C_Hans?=` ("Müller, Hans") can
never split a list. Display names are never searched for addresses.

Everything the rules need is computed here once per mail (addresses, reference numbers), so a
what-if over two blacklists parses and scans each mail only once.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.header import Header, decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path

from reconciler.assign.text import addresses_in, reference_numbers
from reconciler.errors import ReconcilerError
from reconciler.model.addresses import AddressError, normalize_address

ADDRESS_HEADERS = ("From", "To", "Cc", "Bcc")  # sender and recipients; Reply-To is not one
_MESSAGE_ID_RE = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class HeaderAddress:
    header: str  # From | To | Cc | Bcc
    written: str  # the addr-spec as written
    address: str | None  # normalized; None when it is not a valid address


@dataclass(frozen=True)
class Mail:
    name: str
    message_id: str | None
    parents: tuple[str, ...]  # References then In-Reply-To, oldest first, without <>
    header_addresses: tuple[HeaderAddress, ...]
    subject: str
    body: str
    notes: tuple[str, ...]  # what could not be read (shown in the trace)
    text_addresses: tuple[str, ...]  # normalized, subject first, then body
    numbers: frozenset[str]  # reference-number candidates in subject and body
    body_numbers: tuple[str, ...]  # ... in the body only, in order

    @property
    def sender_recipients(self) -> tuple[str, ...]:
        """Valid normalized header addresses, From first, each once."""
        return tuple(dict.fromkeys(h.address for h in self.header_addresses if h.address))


class MailError(ReconcilerError):
    pass


class _HtmlText(HTMLParser):
    """Visible text of an HTML body; block elements become line breaks."""

    _BLOCKS = frozenset(
        ("br", "p", "div", "tr", "li", "table", "blockquote", "pre", "hr", "address", "section")
        + ("h1", "h2", "h3", "h4", "h5", "h6")
    )
    _HIDDEN = frozenset(("script", "style", "head", "title"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _raw(value: str | Header) -> str:
    """A header value as text, keeping encoded words; raw 8-bit (SMTPUTF8) headers read as UTF-8."""
    if isinstance(value, Header):
        return "".join(
            chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
            for chunk, _charset in decode_header(value)
        )
    return value


def _decoded(value: str | Header) -> str:
    text = _raw(value)
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, UnicodeDecodeError, ValueError):
        return text  # an encoded word in an unknown charset: keep it as written


def _ids(value: str) -> list[str]:
    found = _MESSAGE_ID_RE.findall(value)
    return found if found else value.split()


def _part_text(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not payload:
        return ""
    declared = part.get_content_charset()
    for charset in (declared,) if declared else ("utf-8", "latin-1"):
        try:
            return payload.decode(charset)
        except LookupError:
            notes.append(f"body: unknown charset {declared!r}; read as UTF-8, bad bytes replaced")
            return payload.decode("utf-8", "replace")
        except UnicodeDecodeError:
            continue
    notes.append(f"body: not valid {declared}; undecodable bytes replaced")
    return payload.decode(declared or "utf-8", "replace")


def _collect(part: Message, plain: list[str], html: list[str], notes: list[str]) -> None:
    if part.get_content_disposition() == "attachment":
        return
    if part.is_multipart():
        for sub in part.get_payload():
            _collect(sub, plain, html, notes)
        return
    ctype = part.get_content_type()
    if ctype == "text/plain":
        plain.append(_part_text(part, notes))
    elif ctype == "text/html":
        html.append(_part_text(part, notes))


def _body(msg: Message, notes: list[str]) -> str:
    plain: list[str] = []
    html: list[str] = []
    _collect(msg, plain, html, notes)
    if plain:
        return "\n".join(plain)
    return "\n".join(html_to_text(h) for h in html)


def _addr_specs(values: list[str]) -> list[str]:
    """The addr-specs of address-list header values, display names dropped."""
    if any(ch in value for value in values for ch in '"(:\\'):
        # quoted strings, comments, groups: the full RFC 5322 parser
        return [written for _name, written in getaddresses(values)]
    # the common case, `Name <a@b>, c@d`: without quotes a comma always separates addresses
    out = []
    for value in values:
        for part in value.split(","):
            lt, gt = part.find("<"), part.rfind(">")
            written = part[lt + 1 : gt] if 0 <= lt < gt else part
            out.append(written.strip())
    return out


def _header_addresses(msg: Message, notes: list[str]) -> tuple[HeaderAddress, ...]:
    out = []
    for header in ADDRESS_HEADERS:
        values = [_raw(v) for v in msg.get_all(header) or ()]
        for written in _addr_specs(values):
            if not written:
                continue
            try:
                address: str | None = normalize_address(written)
            except AddressError:
                address = None
                notes.append(f"{header}: {written!r} is not an address; skipped")
            out.append(HeaderAddress(header, written, address))
    return tuple(out)


def parse_mail(data: bytes, name: str) -> Mail:
    msg = email.message_from_bytes(data, policy=policy.compat32)
    notes: list[str] = []
    subject = _decoded(msg.get("Subject", ""))
    body = _body(msg, notes)
    if not body.strip():
        notes.append("body: empty")
    message_id = next(iter(_ids(_raw(msg.get("Message-ID", "")))), None)
    parents = _ids(_raw(msg.get("References", ""))) + _ids(_raw(msg.get("In-Reply-To", "")))
    body_numbers = reference_numbers(body)
    return Mail(
        name=name,
        message_id=message_id,
        parents=tuple(dict.fromkeys(p for p in parents if p != message_id)),
        header_addresses=_header_addresses(msg, notes),
        subject=subject,
        body=body,
        notes=tuple(notes),
        text_addresses=tuple(addresses_in(f"{subject}\n{body}")),
        numbers=frozenset(reference_numbers(subject)).union(body_numbers),
        body_numbers=tuple(body_numbers),
    )


def read_mail(path: Path | str, name: str | None = None) -> Mail:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MailError(f"cannot read mail {path}: {exc.strerror or exc}") from None
    return parse_mail(data, name or str(path))


def read_corpus(folder: Path | str) -> list[Mail]:
    """Every `*.eml` below `folder`, sorted by path; names are relative to the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MailError(f"corpus {folder} is not a folder of .eml files")
    paths = sorted(p for p in folder.rglob("*.eml") if p.is_file())
    if not paths:
        raise MailError(f"corpus {folder} holds no .eml files")
    return [read_mail(p, p.relative_to(folder).as_posix()) for p in paths]
