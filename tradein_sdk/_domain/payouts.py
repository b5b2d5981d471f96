"""Payout data: bank transfer (IBAN checked), voucher, purchase credit; the reference an order keeps.

The details are validated here but stored apart from the order
(:class:`~tradein_sdk._ports.PersonalDataStore`), so they can be erased without touching the order or
its history.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar

import attrs

from grading_questionnaire._i18n import N_
from tradein_sdk._errors import (
    InvalidPayoutError,
)

# -- payout data ------------------------------------------------------------------------------------------


class PayoutMethod(StrEnum):
    """How the shopper is paid."""

    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"
    PURCHASE_CREDIT = "purchase_credit"
    """Credit on the new device's purchase (an upgrade credit)."""


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")
_BBAN_PART = re.compile(r"(\d+)!?[nac]")


def _compact(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayoutError(
            N_("Please enter the {label}."), field=field, rule="empty", label=field.upper()
        )
    return re.sub(r"[\s.-]", "", value).upper()


def _checked_iban(value: object) -> str:
    """Validate an IBAN and return it compact; see :class:`BankTransfer` for the rules."""
    from stdnum import iban, numdb  # noqa: PLC0415 - python-stdnum loads with the first IBAN
    from stdnum.exceptions import InvalidChecksum, ValidationError  # noqa: PLC0415 - python-stdnum loads with the first IBAN

    number = _compact(value, "iban")
    if not _IBAN_SHAPE.fullmatch(number):
        raise InvalidPayoutError(
            N_("An IBAN starts with a country code and two check digits, followed by letters and digits."),
            field="iban",
            rule="format",
        )
    info = numdb.get("iban").info(number[:2])[0][1]
    if not info:
        raise InvalidPayoutError(
            N_("IBANs from {country} are not accepted."), field="iban", rule="country", country=number[:2]
        )
    length = 4 + sum(int(size) for size in _BBAN_PART.findall(info["bban"]))
    if len(number) != length:
        raise InvalidPayoutError(
            N_("An IBAN from {country} has {length} characters."),
            field="iban",
            rule="length",
            country=number[:2],
            length=length,
        )
    try:
        return str(iban.validate(number))
    except InvalidChecksum as exc:
        raise InvalidPayoutError(
            N_("This IBAN contains a typing error: its check digits do not match."),
            field="iban",
            rule="checksum",
        ) from exc
    except ValidationError as exc:
        raise InvalidPayoutError(
            N_("This is not a valid IBAN for {country}."), field="iban", rule="format", country=number[:2]
        ) from exc


def _checked_bic(value: object) -> str | None:
    """Validate a BIC (optional: SEPA transfers do not need one) and return it compact."""
    if value is None:
        return None
    from stdnum import bic  # noqa: PLC0415 - python-stdnum loads with the first BIC
    from stdnum.exceptions import InvalidComponent, InvalidLength, ValidationError  # noqa: PLC0415 - python-stdnum loads with the first BIC

    number = _compact(value, "bic")
    try:
        return str(bic.validate(number))
    except InvalidLength as exc:
        raise InvalidPayoutError(N_("A BIC has 8 or 11 characters."), field="bic", rule="length") from exc
    except InvalidComponent as exc:
        raise InvalidPayoutError(
            N_("This BIC names an unknown country."), field="bic", rule="country"
        ) from exc
    except ValidationError as exc:
        raise InvalidPayoutError(
            N_("A BIC has four letters for the bank, two for the country, then letters or digits."),
            field="bic",
            rule="format",
        ) from exc


def _checked_text(value: object, field: str, message_id: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayoutError(message_id, field=field, rule="empty")
    return " ".join(value.split())


def _checked_holder(value: object) -> str:
    return _checked_text(value, "holder", N_("Please enter the account holder's name."))


def _checked_program(value: object) -> str:
    return _checked_text(value, "program", N_("Please choose a voucher."))


def _checked_purchase(value: object) -> str:
    return _checked_text(value, "purchase_reference", N_("Please name the purchase to credit."))


def _checked_reference(value: object) -> str:
    return _checked_text(value, "reference", "a payout reference must not be empty")


@attrs.frozen(kw_only=True, repr=False)
class BankTransfer:
    """Bank details for a payout: personal data, to be stored apart from the order and erasable.

    Building one validates it: the IBAN (``stdnum.iban``: country, length, check digits, national format),
    the BIC when given (``stdnum.bic``) and the holder's name. Spaces are removed and letters upper-cased.

    Attributes:
        iban: the IBAN, compact (``DE89370400440532013000``).
        holder: the account holder's name.
        bic: the BIC, or ``None`` (not needed for SEPA transfers).

    Raises:
        InvalidPayoutError: ``field`` is ``iban``, ``bic`` or ``holder``; ``rule`` is ``empty``,
            ``format``, ``country``, ``length`` or ``checksum``.
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.BANK_TRANSFER

    iban: str = attrs.field(converter=_checked_iban)
    holder: str = attrs.field(converter=_checked_holder)
    bic: str | None = attrs.field(default=None, converter=_checked_bic)

    @property
    def masked_iban(self) -> str:
        """The IBAN for display with all but the country, check digits and last four hidden."""
        return f"{self.iban[:4]} {'•' * (len(self.iban) - 8)} {self.iban[-4:]}"

    def __repr__(self) -> str:
        """Return a representation that keeps the account number out of logs."""
        return f"BankTransfer(iban={self.masked_iban!r}, holder='…', bic={self.bic!r})"


@attrs.frozen(kw_only=True)
class Voucher:
    """Payout as a voucher or gift card of a programme the shop offers.

    Attributes:
        program: the voucher programme's id.

    Raises:
        InvalidPayoutError: the programme is empty (``field`` ``program``).
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.VOUCHER

    program: str = attrs.field(converter=_checked_program)


@attrs.frozen(kw_only=True)
class PurchaseCredit:
    """Payout as credit on the purchase of the new device.

    Attributes:
        purchase_reference: the shop's reference of the purchase (its order number).

    Raises:
        InvalidPayoutError: the reference is empty (``field`` ``purchase_reference``).
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.PURCHASE_CREDIT

    purchase_reference: str = attrs.field(converter=_checked_purchase)


PayoutDetails = BankTransfer | Voucher | PurchaseCredit
"""Validated payout details: stored apart from the order, under a :class:`PayoutRef`."""


@attrs.frozen(kw_only=True)
class PayoutRef:
    """What an order knows about a payout: the method and a pseudonymous reference to the stored details.

    Attributes:
        method: how the shopper is paid.
        reference: the id under which the shop stores the details (no personal data).

    Raises:
        InvalidPayoutError: the reference is empty.
    """

    method: PayoutMethod = attrs.field(converter=PayoutMethod)
    reference: str = attrs.field(converter=_checked_reference)


def payout_ref(details: PayoutDetails, *, reference: str) -> PayoutRef:
    """Return the reference an order keeps for validated payout details.

    Args:
        details: the validated details.
        reference: the pseudonymous id under which the shop stores them (generated by the shop).

    Returns:
        The method and the reference.

    Raises:
        InvalidPayoutError: the reference is empty.
    """
    return PayoutRef(method=details.method, reference=reference)
