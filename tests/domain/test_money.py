from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradein_sdk import CurrencyMismatchError, InvalidMoneyError, Money, minor_units

CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "BHD", "SEK", "PLN")


def amounts(places: int = 4) -> st.SearchStrategy[Decimal]:
    """Decimal amounts of realistic size with up to ``places`` decimal places."""
    return st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def moneys(currency: str = "EUR") -> st.SearchStrategy[Money]:
    """Money values in ``currency``."""
    return amounts().map(lambda amount: Money(amount, currency))


@given(moneys(), moneys(), moneys())
def test_addition_is_associative_and_exact(a: Money, b: Money, c: Money) -> None:
    """(a + b) + c equals a + (b + c) and equals the exact decimal sum."""
    assert (a + b) + c == a + (b + c)
    assert ((a + b) + c).amount == a.amount + b.amount + c.amount


@given(moneys(), moneys())
def test_subtraction_undoes_addition(a: Money, b: Money) -> None:
    """(a + b) - b gives back a, to the last digit."""
    assert (a + b) - b == a


@given(
    st.sampled_from(CURRENCIES).flatmap(
        lambda currency: st.tuples(
            st.just(currency),
            amounts(places=0).map(lambda units: units / 10 ** minor_units(currency)),
        )
    ),
    st.integers(min_value=1, max_value=60),
)
def test_allocation_sums_back_exactly(case: tuple[str, Decimal], parts: int) -> None:
    """Splitting into N parts gives N parts that sum to the amount and differ by at most one minor unit."""
    currency, amount = case
    money = Money(amount, currency).rounded()
    shares = money.allocate(parts)
    assert len(shares) == parts
    assert Money.total(shares, currency) == money
    unit = Decimal(1).scaleb(-minor_units(currency))
    assert max(shares).amount - min(shares).amount <= unit
    assert all(share.amount == share.amount.quantize(unit) for share in shares)


@given(
    amounts(places=0).map(lambda units: Money(units / 100, "EUR")),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(sum),
)
def test_allocation_by_ratio_sums_back_exactly(money: Money, ratios: list[int]) -> None:
    """Splitting by ratios sums back exactly and gives nothing to a zero ratio."""
    shares = money.allocate(ratios)
    assert Money.total(shares, "EUR") == money
    assert all(share.is_zero() for share, ratio in zip(shares, ratios, strict=True) if ratio == 0)


@given(st.sampled_from(CURRENCIES).flatmap(moneys))
def test_json_round_trip(money: Money) -> None:
    """A money value survives to_json → JSON text → from_json unchanged."""
    text = json.dumps(money.to_json())
    assert Money.from_json(json.loads(text)) == money


def test_json_form_is_a_string_amount_with_currency() -> None:
    """The JSON form writes the amount as a plain decimal string, never in exponent notation."""
    assert Money("1234.56", "EUR").to_json() == {"amount": "1234.56", "currency": "EUR"}
    assert Money(Decimal("1E+2"), "EUR").to_json() == {"amount": "100", "currency": "EUR"}


@pytest.mark.parametrize(
    ("operation"),
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a >= b,
    ],
    ids=["add", "subtract", "less-than", "greater-or-equal"],
)
def test_mixing_currencies_is_refused(operation: object) -> None:
    """Any arithmetic or ordering across currencies raises CurrencyMismatchError naming both."""
    with pytest.raises(CurrencyMismatchError) as caught:
        operation(Money("1", "EUR"), Money("1", "USD"))  # type: ignore[operator]
    assert caught.value.code == "currency_mismatch"
    assert caught.value.currencies == ("EUR", "USD")


def test_equality_across_currencies_is_false_not_an_error() -> None:
    """1 EUR is simply not equal to 1 USD; equal amounts with different exponents are equal."""
    assert Money("1", "EUR") != Money("1", "USD")
    assert Money("1.0", "EUR") == Money("1.00", "EUR")
    assert len({Money("1.0", "EUR"), Money("1.00", "EUR")}) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "EUR", "0.01"),
        ("0.004", "EUR", "0.00"),
        ("-0.005", "EUR", "-0.01"),
        ("1234.5", "JPY", "1235"),
        ("1.0005", "BHD", "1.001"),
    ],
    ids=["eur-half-up", "eur-down", "eur-negative-half", "jpy-no-minor-units", "bhd-three-places"],
)
def test_rounding_uses_the_currency_minor_units(amount: str, currency: str, expected: str) -> None:
    """rounded() quantizes to CLDR's minor units, half up."""
    assert Money(amount, currency).rounded().amount.as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de_DE", "1.234,56\xa0€"),
        ("en_GB", "€1,234.56"),
        ("fr_FR", "1\u202f234,56\xa0€"),
        ("de-DE", "1.234,56\xa0€"),
    ],
    ids=["de", "en-gb", "fr", "dash-separated"],
)
def test_formatting_follows_the_locale(locale: str, expected: str) -> None:
    """format() uses Babel's CLDR patterns for the locale."""
    assert Money("1234.56", "EUR").format(locale) == expected


def test_yen_formats_without_decimals() -> None:
    """JPY has no minor units and is shown without decimals."""
    assert Money("1234", "JPY").format("ja_JP") == "￥1,234"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (1.5, "EUR"),
        (True, "EUR"),
        ("abc", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        ("1e16", "EUR"),
        ("1", "XYZ"),
        ("1", "EURO"),
        ("1", 978),
    ],
    ids=[
        "float",
        "bool",
        "not-a-number",
        "nan",
        "infinity",
        "too-large",
        "unknown-currency",
        "long-code",
        "numeric-code",
    ],
)
def test_invalid_money_is_refused(amount: object, currency: object) -> None:
    """Floats, non-finite or huge amounts and unknown currencies raise InvalidMoneyError."""
    with pytest.raises(InvalidMoneyError) as caught:
        Money(amount, currency)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_money"


def test_currency_code_is_normalized() -> None:
    """A lower-case or padded code is read as the ISO code."""
    assert Money("1", " eur ").currency == "EUR"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], "$.price: expected an object"),
        ({"amount": "1"}, "$.price: expected an object"),
        ({"amount": 1, "currency": "EUR"}, "$.price.amount: expected a decimal string"),
        ({"amount": "1", "currency": "EUR", "extra": 1}, "$.price: expected an object"),
        ({"amount": "x", "currency": "EUR"}, "$.price: amount 'x' is not a decimal number"),
    ],
    ids=["not-object", "missing-currency", "numeric-amount", "extra-key", "bad-amount"],
)
def test_from_json_names_the_path(data: object, fragment: str) -> None:
    """from_json errors name the JSON path of the bad value."""
    with pytest.raises(InvalidMoneyError) as caught:
        Money.from_json(data, path="$.price")
    assert fragment in str(caught.value)


def test_multiplication_by_rate_and_quantity() -> None:
    """Multiplying by a Decimal rate or an int quantity is exact; floats are refused."""
    price = Money("19.99", "EUR")
    assert price * 3 == Money("59.97", "EUR")
    assert 3 * price == Money("59.97", "EUR")
    assert (price * Decimal("0.19")).amount == Decimal("3.7981")
    with pytest.raises(TypeError):
        price * 0.19  # type: ignore[operator]


def test_negation_absolute_and_zero() -> None:
    """Sign operations and the zero helpers behave like the decimal amount."""
    assert -Money("5", "EUR") == Money("-5", "EUR")
    assert abs(Money("-5", "EUR")) == Money("5", "EUR")
    assert Money.zero("USD").is_zero()
    assert Money("-0.00", "EUR").to_json()["amount"] == "0.00"
    assert Money.total([], "EUR") == Money.zero("EUR")


def test_comparison_with_non_money_is_a_type_error() -> None:
    """Ordering against a number is a programming error, not a silent False."""
    with pytest.raises(TypeError):
        _ = Money("1", "EUR") < 2  # type: ignore[operator]


def test_adding_a_number_is_a_type_error() -> None:
    """Money + int is refused: the currency of the number is unknown."""
    with pytest.raises(TypeError):
        _ = Money("1", "EUR") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Money("1", "EUR") - 1  # type: ignore[operator]


@pytest.mark.parametrize(
    "parts",
    [0, -1, [], [0, 0], [1, -1]],
    ids=["zero", "negative", "no-ratios", "zero-sum", "negative-ratio"],
)
def test_allocation_refuses_bad_parts(parts: int | list[int]) -> None:
    """A non-positive count or invalid ratios raise InvalidMoneyError."""
    with pytest.raises(InvalidMoneyError):
        Money("10.00", "EUR").allocate(parts)


def test_allocation_refuses_unrounded_amounts() -> None:
    """An amount finer than the currency's minor unit must be rounded first."""
    with pytest.raises(InvalidMoneyError, match="round it before allocating"):
        Money("10.005", "EUR").allocate(2)


def test_negative_amounts_allocate_symmetrically() -> None:
    """-100.00 in three parts mirrors 100.00 in three parts."""
    assert Money("-100.00", "EUR").allocate(3) == tuple(-part for part in Money("100.00", "EUR").allocate(3))


def test_inexact_operation_is_refused() -> None:
    """An operation whose exact result exceeds the decimal context raises instead of rounding."""
    tiny = Money(Decimal("1e-70"), "EUR")
    with pytest.raises(InvalidMoneyError, match="not exact"):
        _ = Money("123456789012345", "EUR") * Decimal("0.9999") + tiny


def test_text_forms() -> None:
    """Repr and str show the exact amount and currency."""
    money = Money("12.50", "EUR")
    assert repr(money) == "Money('12.50', 'EUR')"
    assert str(money) == "12.50 EUR"


def test_ordering_within_one_currency() -> None:
    """All four orderings compare amounts of the same currency."""
    small, large = Money("1.00", "EUR"), Money("2", "EUR")
    assert small < large
    assert small <= Money("1", "EUR")
    assert large > small
    assert large >= Money("2.00", "EUR")


def test_message_property_and_boolean_parts() -> None:
    """An error's message is its English text; True is not a number of parts."""
    with pytest.raises(InvalidMoneyError) as caught:
        Money("1.00", "EUR").allocate(True)  # noqa: FBT003 - the bad input under test
    assert caught.value.message == "cannot allocate into True parts"
