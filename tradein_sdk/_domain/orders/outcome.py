"""What an order comes to: per device paid, credited, returned or recycled, netted over the order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._domain.payouts import PayoutMethod

if TYPE_CHECKING:
    from collections.abc import Callable

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
        paid: paid by bank transfer at settlement.
        credited: credited as a voucher or a purchase credit at settlement.
        returned: the quoted amount of a device going back (not bought).
        recycled: the quoted amount of a device recycled without value.
        clawback: upfront credit to take back: all of it when the device is not bought, the part above
            the final offer when it is bought for less.
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


def _device_outcome(device: OrderDevice) -> DeviceOutcome:
    zero = Money.zero(device.quoted.currency)
    paid = credited = returned = recycled = clawback = zero
    if device.state in _BOUGHT:
        settled = device.settled or zero
        if device.payout is not None and device.payout.method is PayoutMethod.BANK_TRANSFER:
            paid = settled
        else:
            credited = settled
        clawback = max(device.upfront_credit - device.offer, zero)
    elif device.state in _NOT_BOUGHT:
        clawback = device.upfront_credit
        if device.state in _GOING_BACK:
            returned = device.quoted
        elif device.state is DeviceState.RECYCLED:
            recycled = device.quoted
    return DeviceOutcome(
        device_id=device.id,
        state=device.state,
        decided=device.state in _BOUGHT or device.state in _NOT_BOUGHT,
        paid=paid,
        credited=credited,
        returned=returned,
        recycled=recycled,
        clawback=clawback,
    )


def order_outcome(order: TradeInOrder) -> OrderOutcome:
    """Net an order's devices: what was paid, credited, returned, recycled and must be clawed back.

    An expired device counts as not bought (its upfront credit is clawed back); if staff accept it late,
    the outcome changes with it.

    Args:
        order: the order.

    Returns:
        The totals and each device's part.
    """
    devices = tuple(_device_outcome(device) for device in order.devices)

    def total(part: Callable[[DeviceOutcome], Money]) -> Money:
        return Money.total((part(device) for device in devices), order.currency)

    return OrderOutcome(
        currency=order.currency,
        devices=devices,
        upfront_credit=Money.total((device.upfront_credit for device in order.devices), order.currency),
        paid=total(lambda device: device.paid),
        credited=total(lambda device: device.credited),
        returned=total(lambda device: device.returned),
        recycled=total(lambda device: device.recycled),
        clawback=total(lambda device: device.clawback),
    )
