"""The buy-back guarantee as the shop shows it: offers at checkout, contracts on the order pages.

The library computes every amount and date: the offers for a new device (``TradeIn.offer_guarantees``, the
same the checkout summary carries), the signed contract (``guarantee_document``), where it stands
(``guarantee_status``) and what exercising it promises (``redeem_guarantee``). This module arranges them for
reading: each band of a schedule with its first and last day and its share of the price, the floor in the
questionnaire's own grade names, and, for an order, the contracts sold with it (the ``guarantee_contingent``
entries of its ledger name them) and the contract each of its devices exercises.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from tradein_sdk import (
    CONTRACT_PURPOSE,
    DeviceNotFoundError,
    GuaranteeContract,
    GuaranteeError,
    GuaranteeOffer,
    InflowLine,
    Money,
    SignatureInvalidError,
    contract_from_document,
    verify_document,
)

from .extension import current_locale, device_name, format_date, shop
from .texts import has_text, text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradein_sdk import CheckoutRequest, GuaranteeExercise, TradeInOrder

ERROR_RULES: Final = (
    "already_exercised",
    "not_yet_exercisable",
    "expired",
    "device_mismatch",
    "new_contract_required",
    "not_eligible",
    "currency",
)
"""The rules a :class:`~tradein_sdk.GuaranteeError` names, each with its text ``guarantee.error_<rule>``."""


@attrs.frozen(kw_only=True)
class Band:
    """One band of a schedule as the pages show it.

    Attributes:
        from_month: the device's age in whole months it starts at.
        to_month: the age it ends before.
        starts_on: its first day.
        last_day: its last day (the day before the next band starts).
        amount: what it guarantees.
        share: its share of the price (or of the financed amount), in per cent, to one decimal.
        current: today falls in it.
    """

    from_month: int
    to_month: int
    starts_on: date
    last_day: date
    amount: Money
    share: Decimal | None
    current: bool


@attrs.frozen(kw_only=True)
class Terms:
    """A guarantee's terms, ready to read: what the offer card and the contract block show.

    Attributes:
        offer: the offer (or the contract's offer).
        name: the plan's name in the shopper's language.
        device_name: the device it buys back.
        bands: its schedule, band by band.
        floor_grade: the lowest pricing grade that meets the floor, by its name.
        floor_grades: every grade that meets it, best first, by name.
    """

    offer: GuaranteeOffer
    name: str
    device_name: str
    bands: tuple[Band, ...]
    floor_grade: str
    floor_grades: tuple[str, ...]


@attrs.frozen(kw_only=True)
class ContractView:
    """A contract on an order page.

    Attributes:
        contract: the contract (read from its signed document).
        terms: its terms, ready to read.
        status: where it stands today (open, in progress, exercised, lapsed), with its order and amount.
        verified: its signature verifies with the shop's published keys.
        today: the shop's day (the demo clock's, where it was moved).
    """

    contract: GuaranteeContract
    terms: Terms
    status: InflowLine
    verified: bool
    today: date

    @property
    def id(self) -> str:
        """The contract's id."""
        return self.contract.id

    @property
    def opens_on(self) -> date:
        """The first day it may be exercised (early, for a fee, where the plan allows it)."""
        offer = self.contract.offer
        return offer.early_from or offer.exercisable_from

    @property
    def exercisable(self) -> bool:
        """It may be exercised today: open, its window (or early start) begun, not expired."""
        offer = self.contract.offer
        return self.status.status.value == "open" and self.opens_on <= self.today <= offer.expires_on

    @property
    def early(self) -> bool:
        """Exercising it today is early (the early-exercise fee is deducted)."""
        return self.today < self.contract.offer.exercisable_from

    @property
    def guaranteed_today(self) -> Money:
        """What its schedule guarantees today (zero outside every band)."""
        return self.contract.guaranteed_on(self.today)


def offers_for(request: CheckoutRequest) -> tuple[GuaranteeOffer, ...]:
    """The buy-back guarantees the checkout of ``request`` offers (none for a device the catalog lacks).

    The same offers the library's checkout summary carries: the new device's catalog variant and price,
    the request's channel and financed amount, a consumer, today.
    """
    device = request.new_device
    if device.catalog_id is None:
        return ()
    try:
        return shop().trade_in.offer_guarantees(
            device.catalog_id,
            device.price,
            channel=request.channel.value,
            customer_case="consumer",
            financed_amount=request.financed_amount,
        )
    except GuaranteeError:  # a price in another currency than the plans: no offer, as at checkout
        return ()


def plan_name(offer: GuaranteeOffer) -> str:
    """The plan's name in the shopper's language (the shop's text for its plans, else the plan's own)."""
    return text("guarantee.plan", offer.plan_id) if has_text("guarantee.plan", offer.plan_id) else offer.name


def _category(device_id: str) -> str:
    try:
        return shop().trade_in.catalog.lookup(device_id).model.category.value
    except DeviceNotFoundError:
        return "smartphone"


def terms_of(offer: GuaranteeOffer, device_id: str, *, today: date | None = None) -> Terms:
    """An offer's terms as the pages show them (``today`` marks the current band)."""
    basis = offer.financed_amount or offer.price
    bands = tuple(
        Band(
            from_month=line.from_month,
            to_month=line.to_month,
            starts_on=line.starts_on,
            last_day=line.ends_on - timedelta(days=1),
            amount=line.amount,
            share=(line.amount.amount * 100 / basis.amount).quantize(Decimal("0.1")).normalize()
            if basis.amount
            else None,
            current=today is not None and line.starts_on <= today < line.ends_on,
        )
        for line in offer.schedule
    )
    grades = shop().trade_in.render_questionnaire(_category(device_id), current_locale()).pricing_grades
    ids = [grade.id for grade in grades]
    meeting = ids[: ids.index(offer.minimum_grade) + 1] if offer.minimum_grade in ids else ids
    names = {grade.id: grade.text for grade in grades}
    return Terms(
        offer=offer,
        name=plan_name(offer),
        device_name=device_name(device_id),
        bands=bands,
        floor_grade=names.get(offer.minimum_grade, offer.minimum_grade),
        floor_grades=tuple(names[grade] for grade in meeting),
    )


def sold_with(order_id: str) -> list[str]:
    """The ids of the contracts sold with an order (its checkout's recorded decision names them)."""
    consent = shop().trade_in.guarantee_consent(order_id)
    return [consent.contract_id] if consent is not None and consent.contract_id else []


def contract_view(contract_id: str) -> ContractView:
    """A contract as the order pages show it, its signature checked with the shop's keys.

    Raises:
        GuaranteeNotFoundError: no contract has that id.
    """
    trade_in = shop().trade_in
    envelope = trade_in.guarantee_document(contract_id)
    contract = contract_from_document(envelope["payload"])
    today = trade_in.clock.now().date()
    return ContractView(
        contract=contract,
        terms=terms_of(contract.offer, contract.device, today=today),
        status=trade_in.guarantee_status(contract_id),
        verified=verifies(envelope),
        today=today,
    )


def verifies(envelope: Mapping[str, Any] | str | bytes) -> bool:
    """Whether a contract's envelope verifies with the shop's published keys."""
    keys = shop().trade_in.signing_keys
    if keys is None:
        return False
    try:
        verify_document(envelope, keys.public_keys(), purpose=CONTRACT_PURPOSE)
    except SignatureInvalidError:
        return False
    return True


def order_guarantees(order: TradeInOrder) -> dict[str, Any]:
    """What the order pages show of guarantees: the contracts sold with the order, and each device's claim.

    Returns:
        ``guarantees``: the contracts sold with the order; ``claims``: device id → the contract the device
        exercises.
    """
    claims = {
        device.id: contract_view(device.guarantee.contract_id)
        for device in order.devices
        if device.guarantee is not None
    }
    return {
        "guarantees": [contract_view(contract_id) for contract_id in sold_with(order.id)],
        "claims": claims,
    }


def promise(view: ContractView, token: str) -> GuaranteeExercise:
    """What exercising the contract with the quote ``token`` promises today, for the device as declared.

    The library's preview of ``redeem_guarantee``: nothing is written until the shopper confirms.

    Raises:
        GuaranteeError: the contract cannot be exercised today (``not_yet_exercisable``, ``expired``...).
    """
    return shop().trade_in.guarantee_promise(view.contract.id, token)


def error_text(error: GuaranteeError) -> str:
    """A guarantee error in the shopper's language (the shop's text for its rule)."""
    rule = error.rule if error.rule in ERROR_RULES else "other"
    day = str(error.params.get("day") or "")
    with contextlib.suppress(ValueError):
        day = format_date(date.fromisoformat(day), "long")
    return text("guarantee.error", rule, day=day)
