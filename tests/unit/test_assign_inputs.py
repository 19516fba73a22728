"""ERP, history and blacklist files: formats, normalization and errors with file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.assign import ErpIndex, load_erp, load_history
from reconciler.assign.ignore import from_blacklist_file, load_source
from reconciler.errors import ManifestError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.format() for p in exc.value.problems]


def where(exc: pytest.ExceptionInfo) -> list[tuple[str, str, str]]:
    """(file:line:column, field, message) per problem; the wording of shared messages may evolve."""
    return [(str(p.position), p.field, p.message) for p in exc.value.problems]


def test_erp_numbers_become_text_and_addresses_are_normalized(tmp_path):
    path = write(
        tmp_path,
        "erp.yaml",
        """
users: [Anna@Shop.Example]
customers:
  - {id: 10001, addresses: [Info@Müller.example]}
orders:
  - {id: 1, number: 241001, customer: 10001, references: [re-2024-1], articles: [4711]}
""",
    )
    erp = load_erp(path)
    assert erp.users == ["anna@shop.example"]
    assert erp.customers[0].id == "10001"
    assert erp.customers[0].addresses == ["info@xn--mller-kva.example"]
    index = ErpIndex(erp)
    doc = index.orders.by_id["1"]
    assert (doc.number, doc.references, doc.articles) == (
        "241001",
        frozenset({"241001", "RE-2024-1"}),
        ("4711",),
    )
    assert index.orders.by_address == {"info@xn--mller-kva.example": ("1",)}


def test_erp_bad_address_points_at_its_line(tmp_path):
    path = write(
        tmp_path,
        "erp.yaml",
        """
customers:
  - id: K1
    addresses:
      - ok@x.example
      - "Kunde <k@x.example>"
""",
    )
    with pytest.raises(ManifestError) as exc:
        load_erp(path)
    ((position, field, message),) = where(exc)
    assert (position, field) == (f"{path}:5:9", "customers[0].addresses[1]")
    assert "'Kunde <k@x.example>' is not a single bare address" in message


def test_erp_unknown_key_suggests_the_right_one(tmp_path):
    path = write(
        tmp_path, "erp.yaml", "orders:\n  - {id: O1, number: '1', customer: K1, artikel: []}\n"
    )
    with pytest.raises(ManifestError) as exc:
        load_erp(path)
    assert any(
        "unknown key 'artikel'" in p and "did you mean 'articles'?" in p for p in problems(exc)
    )


def test_erp_unknown_customer_quote_and_duplicate_ids_are_errors(tmp_path):
    path = write(
        tmp_path,
        "erp.yaml",
        """
customers:
  - {id: K1}
  - {id: K1}
orders:
  - {id: O1, number: "241001", customer: K2, quote: Q9}
""",
    )
    with pytest.raises(ManifestError) as exc:
        load_erp(path)
    assert problems(exc) == [
        f"{path}:3:6: error: customers[1].id: duplicate id 'K1' in customers (ids identify ERP records; give each a unique id)",
        f"{path}:5:32: error: orders[0].customer: unknown customer 'K2' (name the id of an entry under `customers:`)",
        f"{path}:5:46: error: orders[0].quote: unknown quote 'Q9' (name the id of an entry under `quotes:`, or leave `quote` out)",
    ]


def test_erp_reference_that_can_never_match_is_a_warning(tmp_path):
    path = write(
        tmp_path,
        "erp.yaml",
        "customers: [{id: K1}]\norders: [{id: O1, number: '241001', customer: K1, references: ['AB 12', '77']}]\n",
    )
    index = ErpIndex(load_erp(path))
    assert index.warnings == [
        "order O1: reference '77' can never be found in a mail (a reference number is one token of 4+ characters with a digit)",
        "order O1: reference 'AB 12' can never be found in a mail (a reference number is one token of 4+ characters with a digit)",
    ]


def test_empty_erp_file_is_an_error(tmp_path):
    with pytest.raises(ManifestError, match="is empty"):
        load_erp(write(tmp_path, "erp.yaml", "# nothing\n"))


def test_history_ids_lose_their_brackets_and_dates_without_zone_are_utc(tmp_path):
    path = write(
        tmp_path,
        "h.yaml",
        """
mails:
  - message_id: " <a@x> "
    date: 2024-03-01 09:00:00
    references: [<r@x>]
    assigned: {order: 1001}
""",
    )
    history = load_history(path)
    entry = history.by_id["a@x"]
    assert entry.references == ["r@x"]
    assert entry.assigned.order == "1001"
    assert entry.date.isoformat() == "2024-03-01T09:00:00+00:00"


def test_history_twice_the_same_message_id_is_an_error(tmp_path):
    path = write(
        tmp_path,
        "h.yaml",
        "mails:\n  - {message_id: <a@x>, date: 2024-03-01}\n  - {message_id: a@x, date: 2024-03-02}\n",
    )
    with pytest.raises(ManifestError) as exc:
        load_history(path)
    assert problems(exc) == [
        f"{path}:3:6: error: mails[1].message_id: message id 'a@x' is recorded twice (first at mails[0]) (one entry per mail; merge the two)"
    ]


def test_history_without_date_is_an_error_at_the_entry(tmp_path):
    path = write(tmp_path, "h.yaml", "mails:\n  - {message_id: <a@x>, assigned: {order: O1}}\n")
    with pytest.raises(ManifestError) as exc:
        load_history(path)
    ((position, field, message),) = where(exc)
    assert (position, field) == (f"{path}:2:5", "mails[0].date")
    assert "required" in message


def test_blacklist_file_accepts_a_resource_file_or_a_bare_list(tmp_path):
    resource = write(
        tmp_path, "b.yaml", "blacklist:\n  - NoReply@Marketplace.example\n  - payments.example\n"
    )
    bare = write(tmp_path, "c.yaml", "- '*@payments.example'\n")
    assert from_blacklist_file(resource).blacklist == frozenset(
        {"noreply@marketplace.example", "@payments.example"}
    )
    assert from_blacklist_file(bare).blacklist == frozenset({"@payments.example"})


def test_blacklist_file_bad_entry_points_at_its_line(tmp_path):
    path = write(tmp_path, "b.yaml", "blacklist:\n  - ok@x.example\n  - 'a b@x.example'\n")
    with pytest.raises(ManifestError) as exc:
        from_blacklist_file(path)
    ((position, field, message),) = where(exc)
    assert (position, field) == (f"{path}:3:5", "blacklist[1]")
    assert "'a b@x.example' is not a single bare address" in message


def test_a_source_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="does not exist"):
        load_source(tmp_path / "nope")


def test_erp_as_json_is_read_and_checked_like_yaml(tmp_path):
    good = write(
        tmp_path,
        "erp.json",
        '{"customers": [{"id": "K1", "addresses": ["A@X.example"]}],'
        ' "orders": [{"id": "O1", "number": 241001, "customer": "K1"}]}',
    )
    erp = load_erp(good)
    assert (erp.customers[0].addresses, erp.orders[0].number) == (["a@x.example"], "241001")
    broken = write(tmp_path, "broken.json", '{"customers": [\n  {"id": "K1",}\n]}')
    with pytest.raises(ManifestError) as exc:
        load_erp(broken)
    assert where(exc) == [
        (f"{broken}:2:15", "", "not valid JSON: Expecting property name enclosed in double quotes")
    ]
    unknown = write(
        tmp_path, "unknown.json", '{"orders": [{"id": "O1", "number": "1", "customer": "K9"}]}'
    )
    with pytest.raises(ManifestError) as exc:
        load_erp(unknown)
    assert where(exc) == [("None", "orders[0].customer", "unknown customer 'K9'")]
