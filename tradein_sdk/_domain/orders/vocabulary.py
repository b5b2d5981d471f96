"""The words of the order lifecycle: device states, actors, event kinds, payout methods, reasons."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping


# The state graph's shape, stated here so the vocabulary needs no import of the machine; a test checks both
# against the transition table (:func:`~tradein_sdk._domain.orders.machine.transition_table`).
_RANKS: Final[Mapping[str, int]] = {
    "accepted": 0,
    "awaiting_shipment": 1,
    "in_transit": 2,
    "expired": 2,
    "cancelled": 2,
    "received": 3,
    "on_hold": 4,
    "released": 5,
    "inspected": 6,
    "confirmed": 7,
    "revised": 7,
    "mismatch": 7,
    "revision_accepted": 8,
    "revision_declined": 8,
    "surrendered": 8,
    "returning": 9,
    "returned": 10,
    "paid": 9,
    "credited": 9,
    "recycled": 9,
    "disposed": 10,
}
_FINAL: Final = frozenset({"cancelled", "disposed", "recycled", "returned", "surrendered"})


class DeviceState(StrEnum):
    """Where one device of an order is (see the module docstring for each state)."""

    ACCEPTED = "accepted"
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RECEIVED = "received"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    INSPECTED = "inspected"
    CONFIRMED = "confirmed"
    REVISED = "revised"
    MISMATCH = "mismatch"
    REVISION_ACCEPTED = "revision_accepted"
    REVISION_DECLINED = "revision_declined"
    SURRENDERED = "surrendered"
    RETURNING = "returning"
    RETURNED = "returned"
    PAID = "paid"
    CREDITED = "credited"
    RECYCLED = "recycled"
    DISPOSED = "disposed"

    @property
    def rank(self) -> int:
        """The state's place in the partial order of states: the longest path to it from ``accepted``.

        Every transition leads to a state of strictly higher rank, so a device never goes back.
        """
        return _RANKS[self.value]

    @property
    def is_final(self) -> bool:
        """Whether no transition leaves this state."""
        return self.value in _FINAL


class Actor(StrEnum):
    """Who triggers an event."""

    SHOPPER = "shopper"
    STAFF = "staff"
    PROVIDER = "provider"
    """A carrier or an inspection partner (through its webhook)."""
    SYSTEM = "system"
    """The library or the shop's scheduler (deadlines, automatic decisions)."""


class EventKind(StrEnum):
    """What happened to a device: the name of a transition."""

    ISSUE_LABEL = "issue_label"
    CANCEL = "cancel"
    SHIP = "ship"
    EXPIRE = "expire"
    RECEIVE = "receive"
    HAND_OVER = "hand_over"
    RECEIVE_LATE = "receive_late"
    HOLD = "hold"
    RELEASE = "release"
    SURRENDER = "surrender"
    INSPECT = "inspect"
    CONFIRM = "confirm"
    REVISE = "revise"
    REJECT_MISMATCH = "reject_mismatch"
    ACCEPT_REVISION = "accept_revision"
    DECLINE_REVISION = "decline_revision"
    RESPOND_TIMEOUT = "respond_timeout"
    START_RETURN = "start_return"
    RETURNED = "returned"
    PAY = "pay"
    CREDIT = "credit"
    RECYCLE = "recycle"
    DISPOSE = "dispose"


class Disposition(StrEnum):
    """What the shop does with a device it bought."""

    REFURBISH = "refurbish"
    PARTS = "parts"
    RECYCLE = "recycle"


class HoldReason(StrEnum):
    """Why a received device is held."""

    BLOCKLIST = "blocklist"
    POLICE_REQUEST = "police_request"
    OWNERSHIP_CHECK = "ownership_check"


class SilenceAction(StrEnum):
    """What happens when the shopper does not answer a revised offer in time."""

    RETURN = "return"
    """Treated as declined: the device is sent back free of charge."""
    ACCEPT = "accept"
    """Treated as accepted: the lower offer is paid."""


class MismatchReason(StrEnum):
    """A major mismatch between the device declared and the device received."""

    IMEI_DIFFERS = "imei_differs"
    MODEL_DIFFERS = "model_differs"
    VARIANT_DIFFERS = "variant_differs"
    LOCK_NOT_REMOVABLE = "lock_not_removable"
    BLOCKLISTED = "blocklisted"


class ReminderKind(StrEnum):
    """What a reminder is about."""

    SEND_DEVICE = "send_device"
    RESPOND_TO_REVISION = "respond_to_revision"
    RETURN_OVERDUE = "return_overdue"
    """For staff: a declined device has not been sent back by ``return_by``."""
