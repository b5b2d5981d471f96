"""What an order comes to: per device paid, credited, returned or recycled, netted over the order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

from tradein_sdk._domain.ledger import (
    Balance,
    EntryGroup,
    LedgerEntry,
    device_balances,
    opening_entries,
    order_terms,
    reconcile,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import DeviceState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder

# -- the outcome ------------------------------------------------------------------------------------------

_BOUGHT: Final = frozenset({DeviceState.PAID, DeviceState.CREDITED, DeviceState.DISPOSED})
_GOING_BACK: Final = frozenset({DeviceState.REVISION_DECLINED, DeviceState.RETURNING, DeviceState.RETURNED})
_NOT_BOUGHT: Final = _GOING_BACK | {
    DeviceState.CANCELLED,
    DeviceState.EXPIRED,
    DeviceState.SURRENDERED,
    DeviceState.RECYCLED,
}


@attrs.frozen(kw_only=True)
class DeviceOutcome:
    """What one device comes to.

    Attributes:
        device_id: the device.
        state: its state.
        decided: whether its money outcome is known (bought, or not bought).
        paid: paid by bank transfer at settlement (the ledger's payouts).
        credited: credited after checkout: vouchers and bill-credit installments.
        returned: the quoted amount of a device going back (not bought).
        recycled: the quoted amount of a device recycled without value.
        clawback: what is charged back (with tax): what the shopper received beyond what the terms owe —
            all of an upfront credit when the device is not bought, the part above the final offer and
            the promotions it still earns when it is bought for less.
    """

    device_id: str
    state: DeviceState
    decided: bool
    paid: Money
    credited: Money
    returned: Money
    recycled: Money
    clawback: Money


@attrs.frozen(kw_only=True)
class OrderOutcome:
    """The order's devices netted.

    Attributes:
        currency: the currency of every amount.
        devices: each device's outcome.
        upfront_credit: what was credited at checkout.
        paid: paid by bank transfer.
        credited: credited as vouchers or purchase credits at settlement.
        returned: the quoted amounts of devices going back.
        recycled: the quoted amounts of devices recycled without value.
        clawback: upfront credit to take back.
    """

    currency: str
    devices: tuple[DeviceOutcome, ...]
    upfront_credit: Money
    paid: Money
    credited: Money
    returned: Money
    recycled: Money
    clawback: Money

    @property
    def pending(self) -> tuple[str, ...]:
        """The devices whose outcome is not known yet."""
        return tuple(device.device_id for device in self.devices if not device.decided)

    @property
    def shopper_total(self) -> Money:
        """What the shopper gets in all: upfront credit, payouts and credits, less the clawback."""
        return self.upfront_credit + self.paid + self.credited - self.clawback


def _device_outcome(device: OrderDevice, balance: Balance | None, upfront: Money) -> DeviceOutcome:
    zero = Money.zero(device.quoted.currency)
    returned = recycled = zero
    if device.state in _GOING_BACK:
        returned = device.quoted
    elif device.state is DeviceState.RECYCLED:
        recycled = device.quoted
    return DeviceOutcome(
        device_id=device.id,
        state=device.state,
        decided=device.state in _BOUGHT or device.state in _NOT_BOUGHT,
        paid=zero if balance is None else balance.paid,
        credited=zero if balance is None else balance.credited - upfront,
        returned=returned,
        recycled=recycled,
        clawback=zero if balance is None else balance.charged_back,
    )


def order_outcome(order: TradeInOrder, ledger: Sequence[LedgerEntry] | None = None) -> OrderOutcome:
    """Net an order's devices: what was paid, credited, returned, recycled and must be clawed back.

    The money comes from the order's ledger, the one place where clawbacks are computed
    (:func:`~tradein_sdk._domain.ledger.reconcile`), so the outcome and ``TradeIn.clawbacks`` always agree.
    Without a ledger (an order kept outside a store), the ledger of the order alone is derived: each
    quote owed, the upfront credit given, settled by the order's payout.

    An expired device counts as not bought (its upfront credit is clawed back); if staff accept it late,
    the outcome changes with it.

    Args:
        order: the order.
        ledger: the order's ledger entries (``TradeIn.ledger(order_id).entries``).

    Returns:
        The totals and each device's part.
    """
    if ledger is None:
        terms = order_terms(order)
        opening = opening_entries(terms, order_id=order.id, now=order.created_at)
        ledger = [*opening, *reconcile(opening, order, terms, now=order.created_at, cause="outcome").entries]
    by_device = device_balances(ledger, order.currency)
    upfront = {
        device.id: Money.total(
            (
                entry.amount
                for entry in ledger
                if entry.device_id == device.id
                and entry.group is EntryGroup.CREDITED
                and entry.reason == "checkout"
            ),
            order.currency,
        )
        for device in order.devices
    }
    devices = tuple(
        _device_outcome(device, by_device.get(device.id), upfront[device.id]) for device in order.devices
    )

    def total(part: Callable[[DeviceOutcome], Money]) -> Money:
        return Money.total((part(device) for device in devices), order.currency)

    return OrderOutcome(
        currency=order.currency,
        devices=devices,
        upfront_credit=Money.total(upfront.values(), order.currency),
        paid=total(lambda device: device.paid),
        credited=total(lambda device: device.credited),
        returned=total(lambda device: device.returned),
        recycled=total(lambda device: device.recycled),
        clawback=total(lambda device: device.clawback),
    )
