from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from tradein_sdk import (
    IMEI,
    InvalidIMEIError,
    InvalidSerialNumberError,
    is_valid_imei,
    normalize_serial_number,
    parse_imei,
)
from tradein_sdk._domain.identifiers import tac_of

# Public test vectors: the IMEI example of 3GPP/Wikipedia, python-stdnum's documentation example and
# widely published sample IMEIs. Each is 15 digits with a correct Luhn check digit.
VALID_IMEIS = ["490154203237518", "352099001761481", "356938035643809", "357805023984942"]


@pytest.mark.parametrize("value", VALID_IMEIS, ids=VALID_IMEIS)
def test_valid_imeis_parse(value: str) -> None:
    """Published valid IMEIs parse, and their TAC, serial and check digit are split correctly."""
    imei = parse_imei(value)
    assert imei == IMEI(value=value)
    assert imei.tac + imei.serial + imei.check_digit == value
    assert (len(imei.tac), len(imei.serial), len(imei.check_digit)) == (8, 6, 1)
    assert str(imei) == value
    assert is_valid_imei(value)


@pytest.mark.parametrize(
    "value",
    ["35-209900-176148-1", "35 209900 176148 1", "352099.001761481", "35/2099001761481"],
    ids=["dashes", "spaces", "dot", "slash"],
)
def test_separators_are_ignored(value: str) -> None:
    """IMEIs written with the usual separators are accepted in compact form."""
    assert parse_imei(value).value == "352099001761481"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("490154203237519", "check_digit"),
        ("352099001761482", "check_digit"),
        ("35209900176148", "length"),
        ("3520990017614811", "length"),
        ("", "length"),
        ("35209900176148A", "digits"),
        ("३५२०९९००१७६१४८१", "digits"),
        ("352099001761481\n0", "length"),
    ],
    ids=[
        "wrong-check-digit",
        "wrong-check-digit-2",
        "14-digits-no-check-digit",
        "16-digits-imeisv",
        "empty",
        "letter",
        "non-ascii-digits",
        "newline-in-middle",
    ],
)
def test_invalid_imeis_name_the_rule(value: str, rule: str) -> None:
    """Each malformed IMEI raises InvalidIMEIError naming the rule it broke."""
    with pytest.raises(InvalidIMEIError) as caught:
        parse_imei(value)
    assert caught.value.rule == rule
    assert caught.value.code == "invalid_imei"
    assert not is_valid_imei(value)


def test_non_text_imei_is_refused() -> None:
    """An IMEI given as an int (which loses leading zeros) is refused with rule 'type'."""
    with pytest.raises(InvalidIMEIError) as caught:
        parse_imei(490154203237518)  # type: ignore[arg-type]
    assert caught.value.rule == "type"


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_any_14_digits_complete_to_exactly_one_valid_imei(body: str) -> None:
    """Of the ten possible check digits, exactly the Luhn one is accepted."""
    accepted = [digit for digit in "0123456789" if is_valid_imei(body + digit)]
    assert accepted == [luhn.calc_check_digit(body)]


@given(st.text(max_size=30))
def test_arbitrary_text_either_parses_or_raises_the_typed_error(value: str) -> None:
    """No input makes parse_imei fail with anything but InvalidIMEIError."""
    if is_valid_imei(value):
        assert len(parse_imei(value).value) == 15
    else:
        with pytest.raises(InvalidIMEIError) as caught:
            parse_imei(value)
        assert caught.value.rule in {"digits", "length", "check_digit"}


def test_tac_of() -> None:
    """tac_of returns the first eight digits of a valid IMEI and refuses an invalid one."""
    assert tac_of("490154203237518") == "49015420"
    with pytest.raises(InvalidIMEIError):
        tac_of("490154203237519")


def test_imei_errors_are_translated() -> None:
    """The check-digit message reaches a German shopper in German, with the value filled in."""
    with pytest.raises(InvalidIMEIError) as caught:
        parse_imei("490154203237519")
    german = caught.value.localized("de_DE")
    assert "Prüfziffer" in german
    assert "490154203237519" in german
    assert "check digit" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "brand", "expected"),
    [
        ("C39XK0AB1234", "Apple", "C39XK0AB1234"),
        ("h7 2k-9x4 lmq", "Apple", "H72K9X4LMQ"),
        ("R58N12ABCDE", "Samsung", "R58N12ABCDE"),
        ("FA7AB1A01234", None, "FA7AB1A01234"),
        ("8A1X2B", "Google", "8A1X2B"),
    ],
    ids=[
        "apple-12",
        "apple-10-with-separators",
        "samsung-11",
        "no-brand",
        "other-brand-min-length",
    ],
)
def test_plausible_serial_numbers_are_normalized(value: str, brand: str | None, expected: str) -> None:
    """Plausible serial numbers come back upper-cased without separators."""
    assert normalize_serial_number(value, brand=brand) == expected


@pytest.mark.parametrize(
    ("value", "brand", "rule"),
    [
        ("", None, "empty"),
        ("  - ", None, "empty"),
        ("C39XK0AB12#4", None, "characters"),
        ("C39XK0ÄB1234", None, "characters"),
        ("UNKNOWN", None, "placeholder"),
        ("123456789", None, "placeholder"),
        ("0000000000", None, "repeated"),
        ("490154203237518", None, "imei_given"),
        ("C39XK0AB123", "Apple", "length"),
        ("R58N12ABCD", "Samsung", "length"),
        ("AB12", None, "length"),
        ("A" + "B1" * 11, None, "length"),
    ],
    ids=[
        "empty",
        "only-separators",
        "symbol",
        "umlaut",
        "placeholder-word",
        "placeholder-digits",
        "one-repeated-character",
        "imei-entered",
        "apple-11-chars",
        "samsung-10-chars",
        "too-short",
        "too-long",
    ],
)
def test_implausible_serial_numbers_name_the_rule(value: str, brand: str | None, rule: str) -> None:
    """Each implausible serial number raises InvalidSerialNumberError naming the failed check."""
    with pytest.raises(InvalidSerialNumberError) as caught:
        normalize_serial_number(value, brand=brand)
    assert caught.value.rule == rule
    assert caught.value.code == "invalid_serial_number"


def test_brand_length_message_is_translated() -> None:
    """The brand-specific length rule explains itself in French with the expected lengths."""
    with pytest.raises(InvalidSerialNumberError) as caught:
        normalize_serial_number("C39XK0AB123", brand="Apple")
    assert caught.value.localized("fr") == (
        "Un numéro de série Apple compte 10/12 caractères\u00a0; «\u00a0C39XK0AB123\u00a0» en compte 11."
    )
