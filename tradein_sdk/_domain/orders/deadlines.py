"""Time-driven transitions: expiry of unsent devices, silence on a revised offer, reminders before both."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.orders.machine import _expires_at, apply
from tradein_sdk._domain.orders.model import (
    DEFAULT_POLICY,
    DeliveryPolicy,
    DeviceEvent,
    OrderDevice,
    TradeInOrder,
)
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, EventKind, ReminderKind

# -- time -------------------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def due_actions(
    order: TradeInOrder, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY
) -> tuple[DeviceEvent, ...]:
    """Return the time-driven events due at ``now``: expiry of unsent devices, silence on revised offers.

    Each event's id is derived from the order, the device and the deadline, so the same action computed
    twice (two schedulers, a retry) is one event and applies once.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.

    Returns:
        The events, by ``system``, in device order.
    """
    now = as_utc(now)
    events: list[DeviceEvent] = []
    for device in order.devices:
        if device.state is DeviceState.AWAITING_SHIPMENT:
            deadline = _expires_at(device, policy)
            kind = EventKind.EXPIRE
        elif device.state is DeviceState.REVISED and device.respond_by is not None:
            deadline = device.respond_by
            kind = EventKind.RESPOND_TIMEOUT
        else:
            continue
        if now >= deadline:
            events.append(
                DeviceEvent(
                    id=f"{order.id}/{device.id}/{kind.value}/{_stamp(deadline)}",
                    kind=kind,
                    device_id=device.id,
                    actor=Actor.SYSTEM,
                )
            )
    return tuple(events)


def _action_deadline(device: OrderDevice, policy: DeliveryPolicy) -> datetime | None:
    """When the time-driven action of a device falls due (``None``: its state has none)."""
    if device.state is DeviceState.AWAITING_SHIPMENT:
        return _expires_at(device, policy)
    if device.state is DeviceState.REVISED:
        return device.respond_by
    return None


def next_action_at(order: TradeInOrder, policy: DeliveryPolicy = DEFAULT_POLICY) -> datetime | None:
    """When the order's next time-driven action falls due: the earliest expiry or revision timeout ahead.

    Only states with such an action count (a shipped, received or paid device has none, whatever deadlines
    its history recorded), so a store indexing this time finds exactly the orders :func:`due_actions` acts on.
    """
    moments = [moment for device in order.devices if (moment := _action_deadline(device, policy)) is not None]
    return min(moments) if moments else None


def reminders_from(order: TradeInOrder, policy: DeliveryPolicy = DEFAULT_POLICY) -> datetime | None:
    """From when :func:`reminders_due` may return something for the order (``None``: never, as it stands).

    The earliest first reminder of a device waiting to be sent or to answer a revision, or the return-by of a
    declined device.
    """
    moments = []
    for device in order.devices:
        plan = _reminder_plan(device, policy)
        if plan is not None:
            _, _, deadline, offsets = plan
            moments.append(deadline - max(offsets, default=timedelta(0)))
    return min(moments) if moments else None


def tick(order: TradeInOrder, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY) -> TradeInOrder:
    """Apply every time-driven transition due at ``now``. Idempotent: a second tick changes nothing.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.

    Returns:
        The order after the due events (the same order when none is due).
    """
    for event in due_actions(order, now, policy):
        order = apply(order, event, now=now, policy=policy)
    return order


@attrs.frozen(kw_only=True)
class Reminder:
    """A reminder to send.

    Attributes:
        key: stable for this reminder (order, device, kind and time), for an outbox's unique constraint.
        device_id: the device.
        kind: what it is about.
        audience: who receives it (the shopper, or staff for an overdue return).
        deadline: the deadline it is about.
        due_at: when it became due.
    """

    key: str
    device_id: str
    kind: ReminderKind
    audience: Actor
    deadline: datetime
    due_at: datetime


def _reminder_plan(
    device: OrderDevice, policy: DeliveryPolicy
) -> tuple[ReminderKind, Actor, datetime, tuple[timedelta, ...]] | None:
    if device.state is DeviceState.AWAITING_SHIPMENT and device.send_by is not None:
        return ReminderKind.SEND_DEVICE, Actor.SHOPPER, device.send_by, policy.send_reminders
    if device.state is DeviceState.REVISED and device.respond_by is not None:
        return ReminderKind.RESPOND_TO_REVISION, Actor.SHOPPER, device.respond_by, policy.respond_reminders
    if device.state is DeviceState.REVISION_DECLINED and device.return_by is not None:
        return ReminderKind.RETURN_OVERDUE, Actor.STAFF, device.return_by, (timedelta(0),)
    return None


def reminders_due(
    order: TradeInOrder,
    now: datetime,
    policy: DeliveryPolicy = DEFAULT_POLICY,
    *,
    since: datetime | None = None,
) -> tuple[Reminder, ...]:
    """Return the reminders due at ``now``: at most one per device, the latest that fell due.

    A shopper is reminded before a deadline (``policy.send_reminders``, ``policy.respond_reminders``)
    until it passes; staff are reminded once a declined device's ``return_by`` has passed.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.
        since: when the previous run was: reminders that fell due at or before it are left out.

    Returns:
        The reminders, in device order.
    """
    now = as_utc(now)
    since = None if since is None else as_utc(since)
    reminders: list[Reminder] = []
    for device in order.devices:
        plan = _reminder_plan(device, policy)
        if plan is None:
            continue
        kind, audience, deadline, offsets = plan
        if audience is Actor.SHOPPER and now >= deadline:
            continue
        due = [
            deadline - offset
            for offset in offsets
            if deadline - offset <= now and (since is None or deadline - offset > since)
        ]
        if due:
            due_at = max(due)
            reminders.append(
                Reminder(
                    key=f"{order.id}/{device.id}/{kind.value}/{_stamp(due_at)}",
                    device_id=device.id,
                    kind=kind,
                    audience=audience,
                    deadline=deadline,
                    due_at=due_at,
                )
            )
    return tuple(reminders)
