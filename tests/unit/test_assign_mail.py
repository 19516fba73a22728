""".eml parsing for the assignment rules (reconciler/assign/mail.py)."""

from __future__ import annotations

import base64

import pytest

from reconciler.assign.mail import MailError, html_to_text, parse_mail, read_corpus, read_mail


def eml(headers: str, body: bytes | str = "Hallo\n") -> bytes:
    head = headers.strip("\n") + "\n"
    if "Content-Type" not in head and "MIME-Version" not in head:
        head += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head.encode("utf-8") + b"\n" + data


def addrs(mail):
    return [(h.header, h.address) for h in mail.header_addresses]


def test_from_to_cc_bcc_are_read_in_order_and_normalized():
    mail = parse_mail(
        eml(
            "From: A <A@Example.COM>\nTo: b@x.example, C <c@x.example>\nCc: d@x.example\n"
            "Bcc: e@x.example\nReply-To: f@x.example\nSender: g@x.example"
        ),
        "m",
    )
    assert addrs(mail) == [
        ("From", "a@example.com"),
        ("To", "b@x.example"),
        ("To", "c@x.example"),
        ("Cc", "d@x.example"),
        ("Bcc", "e@x.example"),
    ]


def test_encoded_display_name_with_a_comma_does_not_split_the_list():
    mail = parse_mail(
        eml(
            "From: =?utf-8?q?M=C3=BCller=2C_Hans?= <hans@x.example>\n"
            'To: "Service, Shop" <service@shop.example>, =?utf-8?b?TGFuZywgUGV0cmE=?= <p@x.example>'
        ),
        "m",
    )
    assert addrs(mail) == [
        ("From", "hans@x.example"),
        ("To", "service@shop.example"),
        ("To", "p@x.example"),
    ]


def test_an_address_in_the_display_name_is_not_used():
    mail = parse_mail(eml('From: "kunde@a.example" <spam@b.example>'), "m")
    assert addrs(mail) == [("From", "spam@b.example")]


def test_raw_utf8_idn_header_address_becomes_an_a_label():
    mail = parse_mail(eml("From: Jäger <Kontakt@Gärtnerei-Jäger.example>"), "m")
    assert addrs(mail) == [("From", "kontakt@xn--grtnerei-jger-bfbj.example")]


def test_an_invalid_header_address_is_kept_as_none_with_a_note():
    mail = parse_mail(eml("From: undisclosed-recipients\nTo: ok@x.example"), "m")
    assert addrs(mail) == [("From", None), ("To", "ok@x.example")]
    assert mail.notes == ("From: 'undisclosed-recipients' is not an address; skipped",)


def test_subject_encoded_words_are_decoded_and_scanned():
    mail = parse_mail(eml("From: a@x.example\nSubject: =?utf-8?q?R=C3=BCckfrage_241003?="), "m")
    assert mail.subject == "Rückfrage 241003"
    assert "241003" in mail.numbers
    assert mail.body_numbers == ()


def test_plain_part_wins_over_html_in_alternative_and_attachments_are_skipped():
    raw = eml(
        'From: a@x.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="o"',
        '--o\nContent-Type: multipart/alternative; boundary="i"\n\n'
        "--i\nContent-Type: text/plain; charset=utf-8\n\nplain RE-2024-0001\n"
        "--i\nContent-Type: text/html; charset=utf-8\n\n<p>html RE-2024-0002</p>\n--i--\n"
        '--o\nContent-Type: text/plain\nContent-Disposition: attachment; filename="a.txt"\n\n'
        "RE-2024-0003 att@x.example\n--o--\n",
    )
    mail = parse_mail(raw, "m")
    assert mail.body.strip() == "plain RE-2024-0001"
    assert mail.numbers == frozenset({"RE-2024-0001"})
    assert mail.text_addresses == ()


def test_html_only_body_becomes_visible_text():
    raw = eml(
        "From: a@x.example\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8",
        "<html><head><style>.x{}</style><script>var a='s@x.example';</script></head>"
        "<body><p>K&auml;ufer: <a href='mailto:k@x.example'>k@x.example</a></p>"
        "<p>Bestellung&nbsp;241003</p></body></html>",
    )
    mail = parse_mail(raw, "m")
    assert mail.text_addresses == ("k@x.example",)
    assert mail.body_numbers == ("241003",)
    assert "Käufer" in mail.body


def test_html_to_text_breaks_lines_at_block_elements():
    assert html_to_text("<p>a</p><div>b<br>c</div>") == "\na\n\nb\nc\n"


def test_undecodable_body_is_read_with_replacement_and_noted():
    body = base64.encodebytes(b"Hallo \xff\xfe kaputt 241003\n")
    raw = eml(
        "From: a@x.example\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64",
        body,
    )
    mail = parse_mail(raw, "m")
    assert mail.notes == ("body: not valid utf-8; undecodable bytes replaced",)
    assert "\ufffd" in mail.body
    assert mail.body_numbers == ("241003",)


def test_unknown_charset_is_read_as_utf8_and_noted():
    raw = eml(
        "From: a@x.example\nMIME-Version: 1.0\nContent-Type: text/plain; charset=x-klingon",
        b"Gr\xc3\xbc\xc3\x9fe 241003\n",
    )
    mail = parse_mail(raw, "m")
    assert mail.body.strip() == "Grüße 241003"
    assert mail.notes == ("body: unknown charset 'x-klingon'; read as UTF-8, bad bytes replaced",)


def test_empty_body_is_noted():
    mail = parse_mail(eml("From: a@x.example\nSubject:", ""), "m")
    assert mail.body == ""
    assert mail.notes == ("body: empty",)
    assert mail.numbers == frozenset()


def test_message_id_and_parents_come_from_references_then_in_reply_to():
    mail = parse_mail(
        eml(
            "From: a@x.example\nMessage-ID: <m3@x>\nReferences: <m1@x>\n <m2@x>\n"
            "In-Reply-To: <m2@x>"
        ),
        "m",
    )
    assert mail.message_id == "m3@x"
    assert mail.parents == ("m1@x", "m2@x")


def test_read_corpus_sorts_recursively_and_names_relative(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.eml").write_bytes(eml("From: b@x.example"))
    (tmp_path / "1.eml").write_bytes(eml("From: a@x.example"))
    (tmp_path / "note.txt").write_text("not a mail")
    assert [m.name for m in read_corpus(tmp_path)] == ["1.eml", "b/2.eml"]


def test_empty_corpus_and_missing_mail_are_clear_errors(tmp_path):
    with pytest.raises(MailError, match="holds no .eml files"):
        read_corpus(tmp_path)
    with pytest.raises(MailError, match="cannot read mail"):
        read_mail(tmp_path / "missing.eml")


def test_comments_groups_and_unquoted_commas_in_address_headers():
    mail = parse_mail(
        eml(
            "From: kunde@web.example (Kunde)\nTo: undisclosed-recipients:;\n"
            "Cc: Müller, Hans <hans@x.example>"
        ),
        "m",
    )
    assert addrs(mail) == [("From", "kunde@web.example"), ("Cc", None), ("Cc", "hans@x.example")]
    assert mail.notes == ("Cc: 'Müller' is not an address; skipped",)
