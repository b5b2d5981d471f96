"""The order and its devices, the events that move them, their history, and the delivery policy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.inspection import InspectionResult
from tradein_sdk._domain.orders.vocabulary import (
    Actor,
    DeviceState,
    Disposition,
    EventKind,
    HoldReason,
    SilenceAction,
)
from tradein_sdk._domain.payouts import PayoutRef
from tradein_sdk._domain.quotes import QuoteKind
from tradein_sdk._errors import (
    CurrencyMismatchError,
    InvalidOrderError,
    InvalidPolicyError,
    OrderDeviceNotFoundError,
    QuoteExpiredError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tradein_sdk._domain.quotes import Quote

# -- policy -----------------------------------------------------------------------------------------------

_DAY = timedelta(days=1)


@attrs.frozen(kw_only=True)
class DeliveryPolicy:
    """A shop's deadlines and automatic decisions. The defaults follow common practice.

    Deadlines are exact durations after the event that starts them (a label issued at 10:00 UTC gives a
    send-by deadline 14 days later at 10:00 UTC).

    Attributes:
        send_by_days: days from the label to the send-by deadline (1-60; platforms use 14-21).
        respond_by_days: days the shopper has to answer a revised offer (1-30; platforms use 7-14).
        return_within_days: days the shop has to send a declined device back (1-30).
        send_reminders: how long before the send-by deadline the shopper is reminded.
        respond_reminders: how long before the respond-by deadline the shopper is reminded.
        expiry_grace: how long after the send-by deadline an unsent device expires.
        on_silence: what an unanswered revised offer becomes.

    Raises:
        InvalidPolicyError: a setting is out of range; ``field`` names it.
    """

    send_by_days: int = 14
    respond_by_days: int = 7
    return_within_days: int = 2
    send_reminders: tuple[timedelta, ...] = (3 * _DAY, _DAY)
    respond_reminders: tuple[timedelta, ...] = (3 * _DAY, _DAY)
    expiry_grace: timedelta = timedelta(0)
    on_silence: SilenceAction = SilenceAction.RETURN

    def __attrs_post_init__(self) -> None:
        """Check every setting."""
        for field, value, maximum in (
            ("send_by_days", self.send_by_days, 60),
            ("respond_by_days", self.respond_by_days, 30),
            ("return_within_days", self.return_within_days, 30),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
                raise InvalidPolicyError(
                    "{field} must be a whole number of days from 1 to {maximum}, not {value!r}",
                    field=field,
                    maximum=maximum,
                    value=value,
                )
        for field, offsets, window in (
            ("send_reminders", self.send_reminders, self.send_by_days),
            ("respond_reminders", self.respond_reminders, self.respond_by_days),
        ):
            if any(not timedelta(0) < offset < window * _DAY for offset in offsets):
                raise InvalidPolicyError(
                    "{field}: each reminder must come after the window opens and before its deadline",
                    field=field,
                )
        if self.expiry_grace < timedelta(0):
            raise InvalidPolicyError("expiry_grace must not be negative", field="expiry_grace")

    @property
    def send_window(self) -> timedelta:
        """The time from the label to the send-by deadline."""
        return self.send_by_days * _DAY

    @property
    def respond_window(self) -> timedelta:
        """The time the shopper has to answer a revised offer."""
        return self.respond_by_days * _DAY

    @property
    def return_window(self) -> timedelta:
        """The time the shop has to send a declined device back."""
        return self.return_within_days * _DAY


DEFAULT_POLICY: Final = DeliveryPolicy()
"""14 days to send, 7 days to answer a revision, reminders 3 days and 1 day before, return on silence."""


# -- orders -----------------------------------------------------------------------------------------------


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@attrs.frozen(kw_only=True)
class DeviceEvent:
    """Something that happened to one device of an order: the input of :func:`apply`.

    Attributes:
        id: unique per event; a repeated delivery carries the same id and is ignored.
        kind: what happened.
        device_id: the device of the order.
        actor: who triggered it.
        occurred_at: when it happened at its source (a carrier scan), when that is earlier than its arrival;
            windows are checked against it (never later than ``now``).
        reason: why, where a guard asks for one (a staff override, a surrender); no personal data.
        tracking: a carrier tracking number.
        hold_reason: why the device is held (``hold``).
        inspection: the inspection's result (``inspect``), see :attr:`InspectionDiff.result`.
        payout: the payout to use (``pay``, ``credit``); the order's default when ``None``.
        disposition: what the shop does with a device it bought (``dispose``).
        amount: what a ``pay`` or ``credit`` pays, as the order's ledger says (the offer less any upfront
            credit when ``None``).
    """

    id: str
    kind: EventKind = attrs.field(converter=EventKind)
    device_id: str
    actor: Actor = attrs.field(converter=Actor)
    occurred_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    reason: str | None = None
    tracking: str | None = None
    hold_reason: HoldReason | None = None
    inspection: InspectionResult | None = None
    payout: PayoutRef | None = None
    disposition: Disposition | None = None
    amount: Money | None = None


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One applied event in a device's history, which only ever grows.

    Attributes:
        event_id: the event's id.
        kind: what happened.
        actor: who triggered it.
        at: when it was applied (UTC).
        from_state: the state before.
        to_state: the state after.
        details: what the transition recorded, as text (deadlines, offer, payout reference, reason, ...);
            never personal data.
    """

    event_id: str
    kind: EventKind
    actor: Actor
    at: datetime
    from_state: DeviceState
    to_state: DeviceState
    details: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class GuaranteeClaim:
    """The buy-back guarantee a device of an order exercises.

    Attributes:
        contract_id: the contract.
        sold_order_id: the order of the checkout that sold it (its ledger carries the contingent
            liability), else ``None``.
        contingent: the amount posted as contingent there, released when the device is bought.
        outstanding_balance: what the customer still owed on the financed device (upgrade plans).
        new_contract: the customer signed the new contract an upgrade plan asks for.
    """

    contract_id: str
    sold_order_id: str | None = None
    contingent: Money | None = None
    outstanding_balance: Money | None = None
    new_contract: bool = False


@attrs.frozen(kw_only=True)
class OrderDevice:
    """One device of an order, with its own quote, state, deadlines and history.

    Attributes:
        id: the device's id within the order (``d1``, ``d2``, ...).
        quote_id: the quote it was accepted with.
        variant_id: the catalog variant quoted.
        guaranteed: whether the quote was guaranteed (checked in store): it can be confirmed without an
            inspection.
        quoted: the quoted amount.
        offer: the current offer: the quoted amount until an inspection revises it (never above it).
        upfront_credit: what the shopper was already credited at checkout for it (instant credit).
        state: where the device is.
        send_by: the send-by deadline, once a label was issued.
        respond_by: the deadline to answer a revised offer.
        return_by: the deadline for the shop to send a declined device back.
        inspection: the inspection's result, once inspected.
        hold_reason: why it was held, if it was.
        payout: the payout used, once paid or credited.
        settled: the amount paid or credited at settlement (the offer less the upfront credit, not below
            zero).
        disposition: what the shop did with it after buying it.
        history: every applied event, oldest first.
        guarantee: the buy-back guarantee it exercises: ``quoted`` is then what the guarantee promised for
            the device as declared, and the inspection's offer what it pays for the device as found.
    """

    id: str
    quote_id: str
    variant_id: str
    guaranteed: bool = False
    quoted: Money
    offer: Money
    upfront_credit: Money
    state: DeviceState = DeviceState.ACCEPTED
    send_by: datetime | None = None
    respond_by: datetime | None = None
    return_by: datetime | None = None
    inspection: InspectionResult | None = None
    hold_reason: HoldReason | None = None
    payout: PayoutRef | None = None
    settled: Money | None = None
    disposition: Disposition | None = None
    history: tuple[HistoryEntry, ...] = ()
    guarantee: GuaranteeClaim | None = None


@attrs.frozen(kw_only=True)
class TradeInOrder:
    """A trade-in order of one or more devices. Immutable: :func:`apply` returns a new order.

    The order of a checkout without a trade-in (:func:`open_purchase_order`) has no devices: it is closed
    from the start and carries the checkout's record and ledger.

    Attributes:
        id: the order's id.
        currency: the currency of every amount.
        created_at: when it was opened (UTC).
        payout: the default payout for ``pay`` and ``credit`` events (a reference, no personal data).
        devices: its devices.
    """

    id: str
    currency: str
    created_at: datetime
    payout: PayoutRef | None = None
    devices: tuple[OrderDevice, ...]

    def device(self, device_id: str) -> OrderDevice:
        """Return one device of the order.

        Args:
            device_id: the device's id within the order.

        Returns:
            The device.

        Raises:
            OrderDeviceNotFoundError: the order has no such device.
        """
        for device in self.devices:
            if device.id == device_id:
                return device
        raise OrderDeviceNotFoundError(self.id, device_id)

    def recorded(self, event_id: str) -> tuple[OrderDevice, HistoryEntry] | None:
        """Return the device and history entry of an applied event, or ``None`` when it was never applied.

        Args:
            event_id: the event's id.

        Returns:
            The device and its entry, or ``None``.
        """
        for device in self.devices:
            for entry in device.history:
                if entry.event_id == event_id:
                    return device, entry
        return None

    @property
    def history(self) -> tuple[tuple[str, HistoryEntry], ...]:
        """Every device's history merged, as ``(device_id, entry)`` by time applied (ties in device order)."""
        entries = [(device.id, entry) for device in self.devices for entry in device.history]
        return tuple(sorted(entries, key=lambda item: item[1].at))

    @property
    def is_closed(self) -> bool:
        """Whether every device is in a final state."""
        return all(device.state.is_final for device in self.devices)


def open_order(
    *,
    order_id: str,
    quotes: Sequence[Quote],
    now: datetime,
    payout: PayoutRef | None = None,
    instant_credit: bool = False,
) -> TradeInOrder:
    """Open an order for the devices of some accepted quotes, each device ``accepted``.

    Args:
        order_id: the order's id.
        quotes: one quote per device, all in one currency and valid at ``now``.
        now: the current time.
        payout: the default payout (a reference to details stored apart).
        instant_credit: whether each quoted amount was credited upfront at checkout; it is clawed back in
            whole or in part when a device is not bought at that amount (see :func:`order_outcome`).

    Returns:
        The new order; its devices are ``d1``, ``d2``, ... in the order of ``quotes``.

    Raises:
        InvalidOrderError: no quotes, or a quote given twice.
        CurrencyMismatchError: the quotes are in different currencies.
        QuoteExpiredError: a quote's validity ended.
    """
    now = as_utc(now)
    if not quotes:
        raise InvalidOrderError("an order needs at least one device")
    currency = quotes[0].amount.currency
    seen: set[str] = set()
    for quote in quotes:
        if quote.id in seen:
            raise InvalidOrderError("quote {quote_id} is given twice", quote_id=quote.id)
        seen.add(quote.id)
        if quote.amount.currency != currency:
            raise CurrencyMismatchError(currency, quote.amount.currency)
        if now > quote.expires_at:
            raise QuoteExpiredError(quote.id)
    zero = Money.zero(currency)
    return TradeInOrder(
        id=order_id,
        currency=currency,
        created_at=now,
        payout=payout,
        devices=tuple(
            OrderDevice(
                id=f"d{index}",
                quote_id=quote.id,
                variant_id=quote.device.variant_id,
                guaranteed=quote.kind is QuoteKind.GUARANTEED,
                quoted=quote.amount,
                offer=quote.amount,
                upfront_credit=quote.amount if instant_credit else zero,
            )
            for index, quote in enumerate(quotes, start=1)
        ),
    )


def open_purchase_order(
    *, order_id: str, currency: str, now: datetime, payout: PayoutRef | None = None
) -> TradeInOrder:
    """Open the order of a checkout without a trade-in: a new device bought outright.

    It has no devices, so no event applies to it and it is closed from the start (nothing to send, inspect
    or pay; no deadline, no reminder). It is what the checkout's record is stored with, what its ledger (a
    protection premium, a buy-back guarantee's contingent liability) belongs to, and the order a guarantee
    sold with the device names; :func:`open_order` still refuses an order without devices for quotes.

    Args:
        order_id: the order's id.
        currency: the currency of the purchase.
        now: the current time.
        payout: a payout reference, should the shopper have given one (nothing is paid out to them).

    Returns:
        The order, without devices.
    """
    return TradeInOrder(id=order_id, currency=currency, created_at=as_utc(now), payout=payout, devices=())
