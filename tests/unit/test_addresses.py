import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.model.addresses import (
    AddressError,
    display_domain,
    is_address,
    mixed_script_labels,
    normalize_address,
    normalize_blacklist_entry,
    normalize_domain,
)


@pytest.mark.parametrize(
    ("given_text", "canonical"),
    [
        ("Support@Example.COM", "support@example.com"),
        ("  info@shop.example  ", "info@shop.example"),
        ("info@Bücher.Example", "info@xn--bcher-kva.example"),
        ("info@xn--bcher-kva.example", "info@xn--bcher-kva.example"),
        ("user+tag@shop.example", "user+tag@shop.example"),
        ("Jörg@shop.example", "Jörg@shop.example"),  # non-ASCII local part keeps its case
        ("a@straße.de", "a@xn--strae-oqa.de"),  # IDNA2008: ß is kept, not mapped to ss
        ("a@shop.example.", "a@shop.example"),
    ],
)
def test_normalize_address(given_text, canonical):
    assert normalize_address(given_text) == canonical


@pytest.mark.parametrize(
    ("bad", "fragment", "rule"),
    [
        ("Shop <shop@x.example>", "not a single bare address", "ADDR-001"),
        ("a@x.example, b@x.example", "not a single bare address", "ADDR-001"),
        ("shop", "expected local-part@domain", "ADDR-001"),
        ("@x.example", "expected local-part@domain", "ADDR-001"),
        ("a@b@x.example", "more than one '@'", "ADDR-001"),
        ("a..b@x.example", "invalid local part", "ADDR-001"),
        ("a@localhost", "not a fully qualified domain name", "ADDR-006"),
        ("a@-x.example", "not a valid domain name", "ADDR-006"),
        ("a@x_y.example", "not a valid domain name", "ADDR-006"),
        ("x" * 65 + "@x.example", "local part longer than 64 octets", "ADDR-002"),
        ("a@" + ".".join(["d" * 60] * 5) + ".example", "longer than 253 characters", "ADDR-002"),
        ("x" * 64 + "@" + ".".join(["d" * 60] * 3) + ".example", "longer than 254", "ADDR-002"),
    ],
)
def test_invalid_addresses_say_why_with_their_rule(bad, fragment, rule):
    with pytest.raises(AddressError) as info:
        normalize_address(bad)
    assert fragment in str(info.value)
    assert info.value.rule == rule
    assert not is_address(bad)


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("noreply@Marketplace.example", "noreply@marketplace.example"),
        ("@Payments.Example", "@payments.example"),
        ("payments.example", "@payments.example"),
        ("*@payments.example", "@payments.example"),
        ("Bücher.example", "@xn--bcher-kva.example"),
    ],
)
def test_blacklist_forms_are_shown_canonically(entry, canonical):
    assert normalize_blacklist_entry(entry) == canonical


@pytest.mark.parametrize("entry", ["*.payments.example", "*", "a@*.example"])
def test_blacklist_wildcards_are_refused(entry):
    with pytest.raises(AddressError) as info:
        normalize_blacklist_entry(entry)
    assert info.value.rule == "ADDR-008"


def test_domains_and_display():
    assert normalize_domain("Shop.EXAMPLE") == "shop.example"
    assert display_domain("xn--bcher-kva.example") == "bücher.example"
    # Cyrillic "а" among Latin letters: a look-alike of paypal.example
    assert mixed_script_labels(normalize_domain("pаypal.example")) == ["pаypal"]
    assert mixed_script_labels(normalize_domain("bücher.example")) == []


_local = st.text(alphabet="abcXYZ019.-_+", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_label = st.text(alphabet="abcdeXYZ09üö", min_size=1, max_size=15)


@given(_local, st.lists(_label, min_size=2, max_size=3))
def test_normalization_is_idempotent_and_case_insensitive_for_ascii(local, labels):
    text = f"{local}@{'.'.join(labels)}"
    try:
        once = normalize_address(text)
    except AddressError:
        return  # invalid inputs are rejected, never half-normalized
    assert normalize_address(once) == once
    if text.isascii():
        assert normalize_address(text.upper()) == once
    assert normalize_blacklist_entry(text) == once
