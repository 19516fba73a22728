"""Reference numbers and addresses in free text (reconciler/assign/text.py, docs/assign.md)."""

from __future__ import annotations

import time

import pytest

from reconciler.assign.text import (
    addresses_in,
    is_reference_token,
    not_a_reference,
    reference_numbers,
)


def test_whole_tokens_with_separators_are_reference_numbers():
    text = "Bestellung 241003, Rechnung RE-2024-0017 und Amazon 302-4417795-2284013."
    assert reference_numbers(text) == ["241003", "RE-2024-0017", "302-4417795-2284013"]


@pytest.mark.parametrize(
    "text",
    [
        "Sendungsnummer 00340434161094241006",
        "Referenz RE-241006-X",
        "Kunde 9241006",
        "Order 2410067",
        "Code 241006A",
    ],
)
def test_a_number_inside_a_longer_token_is_not_found(text):
    assert "241006" not in reference_numbers(text)


def test_short_tokens_and_tokens_without_digits_are_not_reference_numbers():
    assert reference_numbers("Nr. 123 und ABCDE und A1") == []


@pytest.mark.parametrize(
    "text",
    [
        "am 12.03.2024",
        "am 12.3.24",
        "am 2024-03-12",
        "am 12/03/2024",
        "am 14. März 2024",
        "on March 14, 2024",
        "um 10:15 Uhr",
    ],
)
def test_dates_and_times_are_not_reference_numbers(text):
    assert reference_numbers(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Betrag 1299,00 EUR",
        "Betrag € 1299",
        "Betrag 1.299,00 €",
        "Betrag 1299 €",
        "Summe 49.90 $",
        "zusammen 2990,50",
        "Preis: CHF 4711.-",
    ],
)
def test_prices_are_not_reference_numbers(text):
    assert reference_numbers(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hauptstr. 5, 10115 Berlin",
        "Firma\nGartenstraße 12\n10115 Berlin\n",
        "PLZ 10115",
        "Lieferung nach D-10115 Berlin",
        "10115 Frankfurt am Main",
    ],
)
def test_postcodes_where_an_address_is_written_are_not_reference_numbers(text):
    assert reference_numbers(text) == []


def test_a_five_digit_number_in_running_text_stays_a_reference_number():
    assert reference_numbers("unsere Bestellnummer 10115 bitte") == ["10115"]


@pytest.mark.parametrize("text", ["Tel. 030 1299 10115", "Fax: 030/1234567", "+49 30 1234567"])
def test_phone_numbers_are_not_reference_numbers(text):
    assert reference_numbers(text) == []


def test_urls_and_addresses_are_not_reference_numbers():
    text = "siehe https://shop.example/order/241003 oder order-241003@shop.example"
    assert reference_numbers(text) == []


def test_a_dot_joins_only_digits_so_labels_split_from_numbers():
    assert reference_numbers("Best.-Nr.241003 und Nr.12345") == ["241003", "12345"]


def test_reference_numbers_are_upper_cased_and_listed_once():
    assert reference_numbers("re-2024-0017 RE-2024-0017") == ["RE-2024-0017"]


def test_addresses_in_text_are_normalized_and_deduplicated_in_order():
    text = (
        "an 'Kunde@Müller.example'. oder (info@X.example), mailto:a.b+c@y.EXAMPLE. info@x.example"
    )
    assert addresses_in(text) == [
        "kunde@xn--mller-kva.example",
        "info@x.example",
        "a.b+c@y.example",
    ]


def test_text_that_only_looks_like_an_address_is_skipped():
    assert addresses_in("user@localhost und @handle und a@b") == []


@pytest.mark.parametrize(
    ("token", "usable"),
    [
        ("241001", True),
        ("RE-2024-0001", True),
        ("123", False),
        ("KUNDE", False),
        ("AB 12345", False),
    ],
)
def test_is_reference_token(token, usable):
    assert is_reference_token(token) is usable


@pytest.mark.parametrize(
    ("text", "token", "reason"),
    [
        ("am 12.03.2024 geliefert", "12.03.2024", "date"),
        ("am 14. März 2024", "2024", "date"),
        ("Summe 1.299,00 EUR", "1.299", "price"),
        ("Preis 4711.50", "4711.50", "price"),
        ("Rechnungsanschrift\n10115 Berlin\n", "10115", "postcode"),
        ("Lieferung nach DE-10115 Berlin", "DE-10115", "postcode"),
        ("Fax: 030/1234567", "030/1234567", "phone"),
        ("siehe www.shop.example/a/241003 bitte", "241003", "url or address"),
        ("Referenz RE-12345 Berlin", "RE-12345", None),
        ("Bestellung 241003 vom Montag", "241003", None),
    ],
)
def test_why_a_token_is_not_a_reference_number(text, token, reason):
    start = text.index(token)
    assert not_a_reference(text, start, start + len(token)) == reason


def test_a_huge_body_on_one_line_is_scanned_in_linear_time():
    # a pasted blob and a long CSV line: quadratic scanning would take minutes here
    blob = "A" * 200_000 + " " + ";".join(str(100000 + i) for i in range(10_000))
    started = time.perf_counter()
    assert addresses_in(blob) == []
    numbers = reference_numbers(blob)
    assert (len(numbers), numbers[0], numbers[-1]) == (10_000, "100000", "109999")
    assert time.perf_counter() - started < 10
