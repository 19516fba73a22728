"""The Elements assignment rule set, one test per rule and edge case (docs/assign.md)."""

from __future__ import annotations

from datetime import datetime

import pytest

from reconciler.assign.erp import ErpData
from reconciler.assign.history import History, HistoryMail
from reconciler.assign.ignore import IgnoreList
from reconciler.assign.index import ErpIndex
from reconciler.assign.mail import parse_mail
from reconciler.assign.rules import assign


def index(**sections) -> ErpIndex:
    return ErpIndex(ErpData.model_validate(sections))


def mail(
    frm="nobody@unknown.example",
    to="shop@shop.example",
    subject="Frage",
    body="Hallo",
    extra="",
    mid="m1@x",
):
    raw = (
        f"From: {frm}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{mid}>\n{extra}"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{body}\n"
    )
    return parse_mail(raw.encode("utf-8"), "test.eml")


def customer(cid, *addresses, active=True):
    return {"id": cid, "addresses": list(addresses), "active": active}


def order(oid, cid, number, *refs, articles=("ART-1",), addresses=None, quote=None):
    data = {
        "id": oid,
        "number": number,
        "customer": cid,
        "references": list(refs),
        "articles": list(articles),
    }
    if addresses is not None:
        data["addresses"] = list(addresses)
    if quote is not None:
        data["quote"] = quote
    return data


def quote(qid, cid, number, *refs, articles=("ART-9",), addresses=None):
    data = {
        "id": qid,
        "number": number,
        "customer": cid,
        "references": list(refs),
        "articles": list(articles),
    }
    if addresses is not None:
        data["addresses"] = list(addresses)
    return data


NO_IGNORE = IgnoreList()
KUNDE = "kunde@web.example"

ERP1 = index(customers=[customer("K1", KUNDE)], orders=[order("O1", "K1", "241001")])
# two customers with one order each
ERP2 = index(
    customers=[customer("K1", KUNDE), customer("K2", "frau@web.example")],
    orders=[order("O1", "K1", "241001"), order("O2", "K2", "241002")],
)
# one customer with three orders: the common case for narrowing
ERP3 = index(
    customers=[customer("K1", KUNDE)],
    orders=[
        order("O1", "K1", "241001", "RE-2024-0001", "KD-1001"),
        order("O2", "K1", "241002", "RE-2024-0002", "KD-1001", "10115", "1299", "2024"),
        order("O3", "K1", "241003", "RE-2024-0003", "KD-1001"),
    ],
)


def outcome(result):
    return (result.order, result.quote, result.customer, result.article, result.rule)


# --- step 2: orders by sender/recipient address --------------------------------------------


def test_one_order_for_the_sender_is_assigned_with_customer_and_only_article():
    erp = ERP1
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")


def test_recipient_address_finds_the_order():
    erp = ERP1
    result = assign(mail(frm="anna@shop.example", to=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")


@pytest.mark.parametrize("header", ["Cc", "Bcc"])
def test_cc_and_bcc_count_as_recipients(header):
    erp = ERP1
    result = assign(mail(extra=f"{header}: {KUNDE}\n"), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")


def test_reply_to_is_not_searched():
    erp = ERP1
    result = assign(mail(extra=f"Reply-To: {KUNDE}\n"), erp, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")


def test_several_orders_are_narrowed_by_a_reference_number_in_the_body():
    result = assign(mail(frm=KUNDE, body="Rechnung RE-2024-0003 fehlt"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O3", None, "K1", "ART-1", "order:address+reference")
    assert f"order: {KUNDE} has 3 orders; reference RE-2024-0003 narrows to O3" in result.trace


def test_several_orders_are_narrowed_by_the_order_number_in_the_subject():
    result = assign(mail(frm=KUNDE, subject="Bestellung 241002"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O2", None, "K1", "ART-1", "order:address+reference")


def test_several_orders_without_a_reference_assign_no_order_but_the_customer():
    result = assign(mail(frm=KUNDE, body="Wo bleibt meine Lieferung?"), ERP3, NO_IGNORE)
    assert outcome(result) == (None, None, "K1", None, "customer:address")
    assert (
        f"order: {KUNDE} has 3 orders; 0 match a reference number in the mail: not unique"
        in result.trace
    )


def test_several_orders_with_references_to_two_of_them_assign_no_order():
    result = assign(mail(frm=KUNDE, body="Bestellungen 241001 und 241003"), ERP3, NO_IGNORE)
    assert outcome(result) == (None, None, "K1", None, "customer:address")
    assert (
        f"order: {KUNDE} has 3 orders; 2 match a reference number in the mail (O1, O3): not unique"
        in result.trace
    )


@pytest.mark.parametrize(
    "body",
    [
        "Sendungsnummer 00340434161094241002",
        "Code RE-2024-00023",
        "Kundennummer 9241002",
        "Vorgang X241002",
    ],
)
def test_a_reference_number_inside_a_longer_number_does_not_narrow(body):
    result = assign(mail(frm=KUNDE, body=body), ERP3, NO_IGNORE)
    assert result.order is None


@pytest.mark.parametrize(
    "body",
    [
        "Rechnung vom 12.03.2024 bitte erneut senden",
        "Lieferung an Hauptstr. 5, 10115 Berlin",
        "Anschrift:\nGartenstr. 1\n10115 Berlin\n",
        "Betrag 1299,00 EUR",
        "Betrag € 1299",
        "Tel. 030 1299 10115",
    ],
)
def test_dates_postcodes_prices_and_phone_numbers_do_not_narrow(body):
    # O2 carries the references 2024, 10115 and 1299 that these texts contain as numbers
    result = assign(mail(frm=KUNDE, body=body), ERP3, NO_IGNORE)
    assert outcome(result) == (None, None, "K1", None, "customer:address")


def test_the_same_numbers_written_as_references_do_narrow():
    result = assign(mail(frm=KUNDE, body="unsere Bestellnummer 10115"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O2", None, "K1", "ART-1", "order:address+reference")


def test_addresses_that_point_to_different_orders_assign_none_by_that_step():
    erp = ERP2
    result = assign(mail(frm=KUNDE, to="frau@web.example"), erp, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")
    assert (
        "order: sender/recipient addresses point to different orders (O1, O2): none assigned"
        in result.trace
    )


def test_an_address_with_ambiguous_orders_does_not_block_a_unique_one():
    erp = index(
        customers=[customer("K1", KUNDE), customer("K2", "frau@web.example")],
        orders=[
            order("O1", "K1", "241001"),
            order("O2", "K1", "241002"),
            order("O3", "K2", "2413"),
        ],
    )
    result = assign(mail(frm=KUNDE, to="frau@web.example"), erp, NO_IGNORE)
    assert outcome(result) == ("O3", None, "K2", "ART-1", "order:address")


def test_order_addresses_default_to_the_customer_and_can_be_set_apart():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[
            order("O1", "K1", "241001", addresses=["lager@firma.example"]),
            order("O2", "K1", "241002", addresses=[]),
        ],
    )
    assert erp.orders.by_address == {"lager@firma.example": ("O1",)}
    assert assign(mail(frm=KUNDE), erp, NO_IGNORE).order is None


# --- step 2: addresses in subject and body, two reference numbers ---------------------------


def test_an_address_in_the_body_finds_the_order_when_the_headers_do_not():
    erp = ERP1
    result = assign(mail(body=f"Käufer: {KUNDE}"), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:text-address")


def test_an_address_in_the_subject_finds_the_order():
    erp = ERP1
    result = assign(mail(subject=f"Nachricht von {KUNDE}"), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:text-address")


def test_an_address_in_the_body_is_narrowed_by_a_reference():
    result = assign(mail(body=f"Käufer {KUNDE}, Rechnung RE-2024-0002"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O2", None, "K1", "ART-1", "order:text-address+reference")


def test_header_addresses_decide_before_body_addresses():
    erp = ERP2
    result = assign(mail(frm=KUNDE, body="Kopie an frau@web.example"), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")


def test_a_header_conflict_falls_through_to_the_body_addresses():
    erp = index(
        customers=[
            customer("K1", KUNDE),
            customer("K2", "frau@web.example"),
            customer("K3", "c@x.example"),
        ],
        orders=[
            order("O1", "K1", "241001"),
            order("O2", "K2", "241002"),
            order("O3", "K3", "2413"),
        ],
    )
    result = assign(mail(frm=KUNDE, to="frau@web.example", body="für c@x.example"), erp, NO_IGNORE)
    assert outcome(result) == ("O3", None, "K3", "ART-1", "order:text-address")


def test_two_reference_numbers_in_the_body_identify_an_order():
    result = assign(mail(body="Bestellung 241003, Rechnung RE-2024-0003"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O3", None, "K1", "ART-1", "order:two-references")
    assert "order: reference numbers 241003, RE-2024-0003 in the body identify O3" in result.trace


def test_a_shared_customer_number_plus_one_invoice_number_identify_the_order():
    result = assign(mail(body="Kundennummer KD-1001, Rechnung RE-2024-0001"), ERP3, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:two-references")


def test_one_reference_number_in_the_subject_and_one_in_the_body_are_not_two_in_the_body():
    result = assign(
        mail(subject="Bestellung 241003", body="Rechnung RE-2024-0003"), ERP3, NO_IGNORE
    )
    assert outcome(result) == (None, None, None, None, "none")


def test_a_single_reference_number_from_an_unknown_sender_assigns_nothing():
    result = assign(mail(body="Bestellung 241003"), ERP3, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")


def test_two_reference_numbers_shared_by_several_orders_assign_nothing():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[
            order("O1", "K1", "241001", "KD-1001", "PROJ-77"),
            order("O2", "K1", "241002", "KD-1001", "PROJ-77"),
        ],
    )
    result = assign(mail(body="Kunde KD-1001, Projekt PROJ-77"), erp, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")
    assert (
        "order: two reference numbers in the body match several orders (O1, O2): not unique"
        in result.trace
    )


# --- what an order brings -------------------------------------------------------------------


def test_an_order_brings_its_linked_quote():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[order("O1", "K1", "241001", quote="Q1")],
        quotes=[quote("Q1", "K1", "AN-501")],
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == ("O1", "Q1", "K1", "ART-1", "order:address")


def test_an_order_with_several_articles_brings_no_article():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[order("O1", "K1", "241001", articles=("ART-1", "ART-2"))],
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", None, "order:address")
    assert "order: O1 has 2 articles: none assigned" in result.trace


def test_the_same_article_on_two_lines_is_still_the_only_article():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[order("O1", "K1", "241001", articles=("ART-1", "ART-1"))],
    )
    assert assign(mail(frm=KUNDE), erp, NO_IGNORE).article == "ART-1"


def test_an_order_without_articles_brings_no_article():
    erp = index(
        customers=[customer("K1", KUNDE)], orders=[order("O1", "K1", "241001", articles=())]
    )
    assert assign(mail(frm=KUNDE), erp, NO_IGNORE).article is None


def _own_record(**fields):
    return HistoryMail(message_id="m1@x", date=datetime(2024, 3, 1, 9, 0), **fields)


def test_the_customer_comes_with_the_order_only_on_the_first_order_assignment():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[order("O1", "K1", "241001", addresses=["lager@firma.example"])],
    )
    first = assign(mail(frm="lager@firma.example"), erp, NO_IGNORE)
    assert outcome(first) == ("O1", None, "K1", "ART-1", "order:address")
    before = History([_own_record(assigned={"order": "O1"}, removed={"customer": "K1"})])
    again = assign(mail(frm="lager@firma.example"), erp, NO_IGNORE, before)
    assert outcome(again) == ("O1", None, None, "ART-1", "order:address")
    assert (
        "order: customer K1 of O1 not assigned: this mail was already assigned to an order before"
        in again.trace
    )


def test_an_order_removed_by_hand_from_this_mail_also_counts_as_assigned_before():
    erp = index(
        customers=[customer("K1", "k@x.example")],
        orders=[order("O1", "K1", "241001", addresses=[KUNDE])],
    )
    before = History([_own_record(removed={"order": "O1"})])
    assert assign(mail(frm=KUNDE), erp, NO_IGNORE, before).customer is None


def test_after_an_earlier_order_assignment_step_4_may_still_find_a_customer_by_address():
    erp = index(
        customers=[customer("K1", "k@x.example"), customer("K2", KUNDE)],
        orders=[order("O1", "K1", "241001", addresses=[KUNDE])],
    )
    before = History([_own_record(assigned={"order": "O1"})])
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE, before)
    assert outcome(result) == ("O1", None, "K2", "ART-1", "order:address")


# --- step 3: quotes -------------------------------------------------------------------------


def test_a_quote_is_assigned_when_no_order_is_found_with_its_customer_and_only_article():
    erp = index(customers=[customer("K1", KUNDE)], quotes=[quote("Q1", "K1", "AN-501")])
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == (None, "Q1", "K1", "ART-9", "quote:address")


def test_a_quote_with_several_articles_brings_no_article():
    erp = index(
        customers=[customer("K1", KUNDE)],
        quotes=[quote("Q1", "K1", "AN-501", articles=("ART-1", "ART-2", "ART-3"))],
    )
    assert outcome(assign(mail(frm=KUNDE), erp, NO_IGNORE)) == (
        None,
        "Q1",
        "K1",
        None,
        "quote:address",
    )


def test_quotes_are_not_searched_when_an_order_was_found():
    erp = index(
        customers=[customer("K1", KUNDE)],
        orders=[order("O1", "K1", "241001")],
        quotes=[quote("Q1", "K1", "AN-501")],
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")
    assert not any(line.startswith("quote:") for line in result.trace)


def test_several_quotes_are_narrowed_by_the_quote_number():
    erp = index(
        customers=[customer("K1", KUNDE)],
        quotes=[quote("Q1", "K1", "AN-24-501"), quote("Q2", "K1", "AN-24-502")],
    )
    result = assign(mail(frm=KUNDE, subject="Ihr Angebot AN-24-502"), erp, NO_IGNORE)
    assert outcome(result) == (None, "Q2", "K1", "ART-9", "quote:address+reference")


def test_two_reference_numbers_in_the_body_identify_a_quote():
    erp = index(
        customers=[customer("K1", KUNDE)], quotes=[quote("Q1", "K1", "AN-24-501", "PROJ-2024-7")]
    )
    result = assign(mail(body="Angebot AN-24-501 zum Projekt PROJ-2024-7"), erp, NO_IGNORE)
    assert outcome(result) == (None, "Q1", "K1", "ART-9", "quote:two-references")


def test_the_customer_comes_with_the_quote_only_on_the_first_quote_assignment():
    erp = index(
        customers=[customer("K1", "k@x.example")],
        quotes=[quote("Q1", "K1", "AN-501", addresses=[KUNDE])],
    )
    before = History([_own_record(assigned={"quote": "Q1"})])
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE, before)
    assert outcome(result) == (None, "Q1", None, "ART-9", "quote:address")


# --- step 4: customers ----------------------------------------------------------------------


def test_one_active_contact_among_inactive_ones_is_assigned():
    erp = index(
        customers=[
            customer("K1", KUNDE, active=False),
            customer("K2", KUNDE),
            customer("K3", KUNDE, active=False),
        ]
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == (None, None, "K2", None, "customer:address")
    assert f"customer: {KUNDE} has 3 contacts; the only active one is K2" in result.trace


def test_two_active_contacts_assign_no_customer():
    erp = index(
        customers=[
            customer("K1", KUNDE),
            customer("K2", KUNDE),
            customer("K3", KUNDE, active=False),
        ]
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")
    assert f"customer: {KUNDE} has 2 active contacts (K1, K2): not unique" in result.trace


def test_no_active_and_one_inactive_contact_assigns_the_inactive_one():
    erp = index(customers=[customer("K1", KUNDE, active=False)])
    assert outcome(assign(mail(frm=KUNDE), erp, NO_IGNORE)) == (
        None,
        None,
        "K1",
        None,
        "customer:address",
    )


def test_two_inactive_contacts_assign_no_customer():
    erp = index(
        customers=[customer("K1", KUNDE, active=False), customer("K2", KUNDE, active=False)]
    )
    result = assign(mail(frm=KUNDE), erp, NO_IGNORE)
    assert outcome(result) == (None, None, None, None, "none")
    assert (
        f"customer: {KUNDE} has no active and 2 inactive contacts (K1, K2): not unique"
        in result.trace
    )


def test_a_customer_is_found_by_an_address_in_the_body():
    erp = index(customers=[customer("K1", KUNDE)])
    result = assign(mail(body=f"Bitte an {KUNDE} antworten"), erp, NO_IGNORE)
    assert outcome(result) == (None, None, "K1", None, "customer:text-address")


def test_customers_that_disagree_in_the_headers_fall_through_to_the_body():
    erp = index(
        customers=[
            customer("K1", KUNDE),
            customer("K2", "b@x.example"),
            customer("K3", "c@x.example"),
        ]
    )
    result = assign(mail(frm=KUNDE, to="b@x.example", body="c@x.example"), erp, NO_IGNORE)
    assert outcome(result) == (None, None, "K3", None, "customer:text-address")


# --- ignored addresses ----------------------------------------------------------------------


def test_a_blacklisted_sender_is_ignored_and_the_customer_address_in_the_body_decides():
    erp = index(
        customers=[customer("K1", KUNDE), customer("K9", "noreply@marketplace.example")],
        orders=[order("O1", "K1", "241001"), order("O9", "K9", "249999")],
    )
    m = mail(frm="noreply@marketplace.example", body=f"Käufer: {KUNDE}")
    without = assign(m, erp, NO_IGNORE)
    assert outcome(without) == ("O9", None, "K9", "ART-1", "order:address")
    ignore = IgnoreList(blacklist=frozenset({"noreply@marketplace.example"}))
    result = assign(m, erp, ignore)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:text-address")
    assert "ignored From noreply@marketplace.example (blacklist)" in result.trace


def test_a_blacklisted_domain_covers_every_address_of_that_domain_but_not_subdomains():
    erp = index(
        customers=[
            customer("K1", "service@payments.example"),
            customer("K2", "a@mail.payments.example"),
        ]
    )
    ignore = IgnoreList(blacklist=frozenset({"@payments.example"}))
    result = assign(mail(frm="service@payments.example"), erp, ignore)
    assert result.customer is None
    assert "ignored From service@payments.example (blacklist @payments.example)" in result.trace
    assert assign(mail(frm="a@mail.payments.example"), erp, ignore).customer == "K2"


def test_a_blacklisted_address_is_ignored_in_the_body_too():
    erp = ERP1
    ignore = IgnoreList(blacklist=frozenset({KUNDE}))
    result = assign(mail(body=f"Käufer: {KUNDE}"), erp, ignore)
    assert outcome(result) == (None, None, None, None, "none")
    assert f"ignored {KUNDE} in subject/body (blacklist)" in result.trace


def test_a_users_own_address_in_to_is_ignored_even_when_it_has_an_order():
    erp = index(
        users=["anna@shop.example"],
        customers=[customer("K1", KUNDE), customer("K8", "anna@shop.example")],
        orders=[order("O1", "K1", "241001"), order("O8", "K8", "248888")],
    )
    ignore = IgnoreList(users=erp.users)
    result = assign(mail(frm=KUNDE, to="Anna <Anna@Shop.example>"), erp, ignore)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")
    assert "ignored To anna@shop.example (Elements user)" in result.trace


def test_a_group_address_is_ignored():
    erp = index(
        customers=[customer("K1", "service@shop.example")], orders=[order("O1", "K1", "241001")]
    )
    ignore = IgnoreList(groups=frozenset({"service@shop.example"}))
    result = assign(mail(frm=KUNDE, to="service@shop.example"), erp, ignore)
    assert outcome(result) == (None, None, None, None, "none")
    assert "ignored To service@shop.example (GREYHOUND group)" in result.trace


# --- address variants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["KUNDE@WEB.EXAMPLE", "Kunde@Web.Example", " kunde@web.example"]
)
def test_case_variants_of_an_address_match(written):
    erp = index(
        customers=[customer("K1", "Kunde@Web.example")], orders=[order("O1", "K1", "241001")]
    )
    assert assign(mail(frm=f"Kunde <{written.strip()}>"), erp, NO_IGNORE).order == "O1"


@pytest.mark.parametrize(
    ("in_erp", "in_mail"),
    [
        ("info@müller-gartenbau.example", "info@xn--mller-gartenbau-zvb.example"),
        ("info@xn--mller-gartenbau-zvb.example", "info@Müller-Gartenbau.example"),
        ("info@MÜLLER-gartenbau.example", "info@müller-gartenbau.example"),
    ],
)
def test_idn_variants_of_an_address_match(in_erp, in_mail):
    erp = index(customers=[customer("K1", in_erp)], orders=[order("O1", "K1", "241001")])
    assert assign(mail(frm=in_mail, body=""), erp, NO_IGNORE).order == "O1"


def test_an_idn_address_in_the_body_matches():
    erp = index(customers=[customer("K1", "info@müller-gartenbau.example")])
    result = assign(mail(body="von info@MÜLLER-gartenbau.example"), erp, NO_IGNORE)
    assert result.customer == "K1"


def test_plus_addressing_is_not_undone():
    erp = ERP1
    assert outcome(assign(mail(frm="kunde+shop@web.example"), erp, NO_IGNORE)) == (
        None,
        None,
        None,
        None,
        "none",
    )


def test_display_names_with_commas_or_addresses_are_not_searched():
    erp = index(
        customers=[customer("K1", KUNDE), customer("K2", "lang@web.example")],
        orders=[order("O1", "K1", "241001"), order("O2", "K2", "241002")],
    )
    m = mail(
        frm=f'"{KUNDE}, Lang" <lang@web.example>', to="=?utf-8?q?Shop=2C_Service?= <s@shop.example>"
    )
    assert outcome(assign(m, erp, NO_IGNORE)) == ("O2", None, "K2", "ART-1", "order:address")


# --- step 1: history ------------------------------------------------------------------------


def _entry(mid, day, **fields):
    return HistoryMail(message_id=mid, date=datetime(2024, 3, day, 9, 0), **fields)


REPLY = {"extra": "In-Reply-To: <h2@x>\nReferences: <h1@x> <h2@x>\n", "mid": "m3@x"}


def test_history_with_an_assignment_is_taken_over_and_no_rule_runs():
    erp = ERP1
    history = History(
        [_entry("h1@x", 1, assigned={"order": "O7", "customer": "K7"}), _entry("h2@x", 2)]
    )
    result = assign(mail(frm=KUNDE, **REPLY), erp, NO_IGNORE, history)
    assert outcome(result) == ("O7", None, "K7", None, "history")
    assert result.trace[-1] == (
        "history: h1@x (2024-03-01T09:00+00:00) assigned order O7, customer K7: taken over"
    )


def test_history_with_a_manual_removal_only_assigns_nothing():
    erp = ERP1
    history = History([_entry("h1@x", 1), _entry("h2@x", 2, removed={"order": "O1"})])
    result = assign(mail(frm=KUNDE, **REPLY), erp, NO_IGNORE, history)
    assert outcome(result) == (None, None, None, None, "history")
    assert result.trace == (
        "history: h1@x (2024-03-01T09:00+00:00) has no assignments",
        "history: h2@x (2024-03-02T09:00+00:00) assigned nothing, removed by hand order O1: taken over",
    )


def test_history_is_read_oldest_first_by_date_not_by_file_order():
    history = History(
        [_entry("h2@x", 2, assigned={"order": "O2"}), _entry("h1@x", 1, assigned={"order": "O1"})]
    )
    assert assign(mail(**REPLY), ERP3, NO_IGNORE, history).order == "O1"


def test_history_without_any_assignment_lets_the_rules_run():
    erp = ERP1
    history = History([_entry("h1@x", 1), _entry("h2@x", 2)])
    result = assign(mail(frm=KUNDE, **REPLY), erp, NO_IGNORE, history)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")


def test_ancestors_are_followed_through_the_history_entries():
    # the mail names only its parent; the grandparent is found through the parent's entry
    history = History(
        [
            _entry("h0@x", 1, assigned={"customer": "K1"}),
            _entry("h1@x", 2, in_reply_to="<h0@x>"),
        ]
    )
    m = mail(extra="In-Reply-To: <h1@x>\n", mid="m2@x")
    assert outcome(assign(m, ERP3, NO_IGNORE, history)) == (None, None, "K1", None, "history")


def test_mails_outside_the_thread_and_the_mail_itself_are_not_history():
    history = History(
        [
            _entry("other@x", 1, assigned={"order": "O1"}),
            _entry("m1@x", 2, assigned={"order": "O2"}),
        ]
    )
    result = assign(mail(frm=KUNDE, body="RE-2024-0003"), ERP3, NO_IGNORE, history)
    assert outcome(result) == ("O3", None, "K1", "ART-1", "order:address+reference")
    assert result.trace[0] == "history: no earlier mail of this thread is recorded"


# --- bodies ---------------------------------------------------------------------------------


def test_an_undecodable_body_still_lets_the_header_rules_assign():
    erp = ERP1
    raw = (
        f"From: {KUNDE}\nTo: shop@shop.example\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    ).encode() + b"\xff\xfe\xfd kaputt\n"
    result = assign(parse_mail(raw, "x.eml"), erp, NO_IGNORE)
    assert outcome(result) == ("O1", None, "K1", "ART-1", "order:address")
    assert result.trace[0] == "mail: body: not valid utf-8; undecodable bytes replaced"


def test_an_empty_body_assigns_by_headers_and_finds_no_reference_numbers():
    result = assign(mail(frm=KUNDE, subject="", body=""), ERP3, NO_IGNORE)
    assert outcome(result) == (None, None, "K1", None, "customer:address")
    assert result.trace[0] == "mail: body: empty"


def test_the_result_as_json_has_the_documented_keys():
    erp = ERP1
    data = assign(mail(frm=KUNDE), erp, NO_IGNORE).as_dict()
    assert list(data) == ["order", "quote", "customer", "article", "rule", "trace"]
    assert (data["order"], data["quote"], data["rule"]) == ("O1", None, "order:address")


def test_a_relay_address_with_many_orders_is_narrowed_through_the_reference_index():
    relay = "bestellungen@marktplatz.example"
    erp = index(
        customers=[customer(f"K{i}", f"k{i}@web.example") for i in range(40)],
        orders=[
            order(f"O{i}", f"K{i}", f"24{i:04d}", f"028-{i:07d}-1", addresses=[relay])
            for i in range(40)
        ],
    )
    assert len(erp.orders.by_address[relay]) == 40
    one = assign(mail(frm=relay, subject="Bestellung 028-0000033-1"), erp, NO_IGNORE)
    assert outcome(one) == ("O33", None, "K33", "ART-1", "order:address+reference")
    two = assign(mail(frm=relay, body="028-0000033-1 und 028-0000007-1"), erp, NO_IGNORE)
    assert two.order is None
    assert (
        f"order: {relay} has 40 orders; 2 match a reference number in the mail (O7, O33): not unique"
        in two.trace
    )
