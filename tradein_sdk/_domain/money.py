"""Money: a ``Decimal`` amount with an ISO 4217 currency.

Arithmetic is exact (a wide decimal context that refuses to round silently) and only ever within one
currency. Rounding to the currency's minor units, locale formatting and the list of currencies come from
Babel's CLDR data, loaded on first use.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TYPE_CHECKING, Self

import attrs

from tradein_sdk._errors import CurrencyMismatchError, InvalidMoneyError, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

MAX_INTEGER_DIGITS = 15
"""Amounts are below 10**15 in magnitude: far above any price, far below the exact-context limit."""

_EXACT = decimal.Context(
    prec=80,
    rounding=ROUND_HALF_UP,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)
_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS


@cache
def _known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # noqa: PLC0415 - Babel loads lazily

    return frozenset(list_currencies())


@cache
def minor_units(currency: str) -> int:
    """Return how many decimal places ``currency`` uses (EUR 2, JPY 0, BHD 3), from CLDR.

    Args:
        currency: an ISO 4217 code.

    Returns:
        The number of digits after the decimal point.
    """
    from babel.numbers import get_currency_precision  # noqa: PLC0415 - Babel loads lazily

    return int(get_currency_precision(currency))


def _to_amount(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        kind = type(value).__name__
        raise InvalidMoneyError(
            "amount must be a Decimal, int or str, not {kind} (floats are not exact)", kind=kind
        )
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except decimal.InvalidOperation:
        raise InvalidMoneyError("amount {value!r} is not a decimal number", value=value) from None
    if not amount.is_finite():
        raise InvalidMoneyError("amount {value!r} is not a finite number", value=str(value))
    if abs(amount) >= _LIMIT:
        raise InvalidMoneyError(
            "amount {value} has more than {digits} integer digits",
            value=str(amount),
            digits=MAX_INTEGER_DIGITS,
        )
    return amount.copy_abs() if amount.is_zero() else amount


def _to_currency(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidMoneyError(
            "currency must be an ISO 4217 code string, not {kind}", kind=type(value).__name__
        )
    code = value.strip().upper()
    if len(code) != 3 or code not in _known_currencies():
        raise InvalidMoneyError(
            "unknown currency {value!r}: expected an ISO 4217 code such as EUR", value=value
        )
    return code


@attrs.frozen(order=False, repr=False)
class Money:
    """An immutable amount of money in one currency.

    ``Money("1234.56", "EUR")`` and ``Money(Decimal("1234.56"), "EUR")`` are the same value. Floats are
    refused: they cannot hold cents exactly.

    Attributes:
        amount: the amount, exact.
        currency: the ISO 4217 code, upper case.

    Raises:
        InvalidMoneyError: the amount is a float, not finite, too large, or the currency is unknown.
    """

    amount: Decimal = attrs.field(converter=_to_amount)
    currency: str = attrs.field(converter=_to_currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Return zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def _derived(cls, amount: Decimal, currency: str) -> Self:
        """Build the result of arithmetic on valid money: only the magnitude needs checking."""
        if not -_LIMIT < amount < _LIMIT:
            return cls(amount, currency)  # raises InvalidMoneyError with the full explanation
        money = object.__new__(cls)
        object.__setattr__(money, "amount", amount.copy_abs() if amount.is_zero() else amount)
        object.__setattr__(money, "currency", currency)
        return money

    @classmethod
    def total(cls, items: Iterable[Money], currency: str) -> Self:
        """Return the exact sum of ``items``, zero in ``currency`` when there are none.

        Raises:
            CurrencyMismatchError: an item is in another currency.
        """
        result = cls.zero(currency)
        for item in items:
            result = result + item
        return result

    # -- arithmetic ------------------------------------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)

    def _exact(self, operation: str, compute: Callable[[], Decimal]) -> Self:
        try:
            amount = compute()
        except decimal.DecimalException as exc:
            raise InvalidMoneyError(
                "{operation} on {money} is not exact", operation=operation, money=repr(self)
            ) from exc
        return self._derived(amount, self.currency)

    def __add__(self, other: Money) -> Self:
        """Add an amount in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self._exact("addition", lambda: _EXACT.add(self.amount, other.amount))

    def __sub__(self, other: Money) -> Self:
        """Subtract an amount in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self._exact("subtraction", lambda: _EXACT.subtract(self.amount, other.amount))

    def __mul__(self, factor: Decimal | int) -> Self:
        """Multiply by a ``Decimal`` or ``int`` factor (a rate, a quantity); never by a float."""
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        return self._exact("multiplication", lambda: _EXACT.multiply(self.amount, Decimal(factor)))

    __rmul__ = __mul__

    def __neg__(self) -> Self:
        """Return the amount with its sign flipped."""
        return self._derived(-self.amount, self.currency)

    def __abs__(self) -> Self:
        """Return the amount without its sign."""
        return self._derived(abs(self.amount), self.currency)

    def _compare(self, other: object) -> Decimal:
        if not isinstance(other, Money):
            raise TypeError(f"cannot compare Money with {type(other).__name__}")
        self._same_currency(other)
        return self.amount - other.amount

    def __lt__(self, other: Money) -> bool:
        """Compare within one currency."""
        return self._compare(other) < 0

    def __le__(self, other: Money) -> bool:
        """Compare within one currency."""
        return self._compare(other) <= 0

    def __gt__(self, other: Money) -> bool:
        """Compare within one currency."""
        return self._compare(other) > 0

    def __ge__(self, other: Money) -> bool:
        """Compare within one currency."""
        return self._compare(other) >= 0

    def is_zero(self) -> bool:
        """Return whether the amount is zero."""
        return self.amount.is_zero()

    # -- minor units -----------------------------------------------------------------------------

    @property
    def minor_units(self) -> int:
        """How many decimal places the currency uses (EUR 2, JPY 0)."""
        return minor_units(self.currency)

    def to_minor(self) -> int:
        """The amount in minor units (cents), rounded half up: what a database keeps as an integer."""
        return int(self.rounded().amount.scaleb(self.minor_units))

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Self:
        """An amount given in minor units (cents) of ``currency``."""
        return cls(Decimal(units).scaleb(-minor_units(currency)), currency)

    def rounded(self, rounding: str = ROUND_HALF_UP) -> Self:
        """Return the amount rounded to the currency's minor units.

        Args:
            rounding: a :mod:`decimal` rounding mode; commercial rounding (half up) by default.

        Returns:
            The rounded amount, with exactly as many decimal places as the currency uses.
        """
        exponent = Decimal(1).scaleb(-self.minor_units)
        return self._derived(self.amount.quantize(exponent, rounding=rounding), self.currency)

    def allocate(self, parts: int | Sequence[Decimal | int]) -> tuple[Self, ...]:
        """Split the amount into parts that add up to it exactly, in minor units.

        ``Money("100.00", "EUR").allocate(3)`` gives 33.34, 33.33, 33.33: equal parts differ by at most
        one minor unit, the larger ones first. With a sequence of ratios the amount is split in that
        proportion, each left-over minor unit going to the part that lost most to rounding.

        Args:
            parts: a number of equal parts (at least 1), or non-negative ratios with a positive sum.

        Returns:
            The parts, in order; their sum equals this amount.

        Raises:
            InvalidMoneyError: the amount has more decimal places than the currency, or ``parts``
                is not a positive count or a valid list of ratios.
        """
        ratios = _ratios(parts)
        scale = Decimal(1).scaleb(self.minor_units)
        units = self.amount * scale
        if units != units.to_integral_value():
            raise InvalidMoneyError(
                "{money} has more decimal places than {currency} uses; round it before allocating",
                money=repr(self),
                currency=self.currency,
            )
        sign = -1 if units < 0 else 1
        total_units = int(abs(units))
        ratio_sum = sum(ratios)
        exact_shares = [Decimal(total_units) * ratio / ratio_sum for ratio in ratios]
        shares = [int(share) for share in exact_shares]
        leftover = total_units - sum(shares)
        by_loss = sorted(range(len(shares)), key=lambda i: (-(exact_shares[i] - shares[i]), i))
        for index in by_loss[:leftover]:
            shares[index] += 1
        return tuple(type(self)(Decimal(sign * share) / scale, self.currency).rounded() for share in shares)

    # -- presentation ----------------------------------------------------------------------------

    def format(self, locale: str) -> str:
        """Format for display with Babel: ``de_DE`` → ``1.234,56 €``, ``en_GB`` → ``€1,234.56``.

        Args:
            locale: a locale identifier (``de_DE``, ``fr``, ``en-GB``).

        Returns:
            The localized text, rounded to the currency's minor units for display only.

        Raises:
            UnsupportedLocaleError: the locale is not one Babel knows.
        """
        from babel.numbers import format_currency  # noqa: PLC0415 - Babel loads lazily

        return str(format_currency(self.amount, self.currency, locale=canonical_locale(locale)))

    def to_json(self) -> dict[str, str]:
        """Return the stable JSON form: ``{"amount": "1234.56", "currency": "EUR"}``."""
        return {"amount": format(self.amount, "f"), "currency": self.currency}

    @classmethod
    def from_json(cls, data: object, *, path: str = "$") -> Self:
        """Read the JSON form written by :meth:`to_json`.

        Args:
            data: the decoded JSON value.
            path: where ``data`` sits in a larger document, for error messages.

        Returns:
            The money value.

        Raises:
            InvalidMoneyError: ``data`` is not an object with a string ``amount`` and a ``currency``;
                the message names the JSON path.
        """
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            raise InvalidMoneyError(
                '{path}: expected an object with exactly "amount" and "currency"', path=path
            )
        amount = data["amount"]
        if not isinstance(amount, str):
            raise InvalidMoneyError('{path}.amount: expected a decimal string such as "12.50"', path=path)
        try:
            return cls(amount, data["currency"])
        except InvalidMoneyError as exc:
            raise InvalidMoneyError("{path}: {problem}", path=path, problem=str(exc)) from exc

    def __repr__(self) -> str:
        """Return ``Money('12.50', 'EUR')``."""
        return f"Money({format(self.amount, 'f')!r}, {self.currency!r})"

    def __str__(self) -> str:
        """Return ``12.50 EUR`` (not localized; see :meth:`format`)."""
        return f"{format(self.amount, 'f')} {self.currency}"


def _ratios(parts: int | Sequence[Decimal | int]) -> list[Decimal]:
    if isinstance(parts, int) and not isinstance(parts, bool):
        if parts < 1:
            raise InvalidMoneyError("cannot allocate into {parts} parts", parts=parts)
        return [Decimal(1)] * parts
    if isinstance(parts, bool | int):
        raise InvalidMoneyError("cannot allocate into {parts} parts", parts=parts)
    ratios = [Decimal(ratio) for ratio in parts]
    if not ratios or any(ratio < 0 for ratio in ratios) or sum(ratios) <= 0:
        raise InvalidMoneyError("allocation ratios must be non-negative with a positive sum")
    return ratios
