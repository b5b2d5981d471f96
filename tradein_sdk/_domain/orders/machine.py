"""The state machine: one declarative table of transitions (event, state, actor, guard) and :func:`apply`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any, Final

import attrs

from grading_questionnaire._i18n import N_
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.inspection import InspectionResult
from tradein_sdk._domain.orders.model import (
    DEFAULT_POLICY,
    DeliveryPolicy,
    DeviceEvent,
    HistoryEntry,
    OrderDevice,
    TradeInOrder,
)
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, EventKind, SilenceAction
from tradein_sdk._domain.payouts import PayoutMethod, PayoutRef
from tradein_sdk._errors import (
    ActorNotAllowedError,
    EventConflictError,
    GuardFailedError,
    IllegalTransitionError,
    StaleEventError,
)

# -- the transition table ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GuardContext:
    """What a guard or an effect sees.

    Attributes:
        order: the order before the event.
        device: the device before the event.
        event: the event.
        now: the current time (UTC).
        policy: the shop's delivery policy.
    """

    order: TradeInOrder
    device: OrderDevice
    event: DeviceEvent
    now: datetime
    policy: DeliveryPolicy

    @property
    def moment(self) -> datetime:
        """When the event happened: its ``occurred_at``, but never later than ``now``."""
        occurred = self.event.occurred_at
        return self.now if occurred is None else min(occurred, self.now)

    @property
    def payout(self) -> PayoutRef | None:
        """The payout the event names, else the order's default."""
        return self.event.payout or self.order.payout


@attrs.frozen(kw_only=True)
class Guard:
    """A condition a transition needs.

    Attributes:
        name: its stable name (``send_window_open``), the ``guard`` of :class:`GuardFailedError`.
        message: the English explanation when it fails, a gettext msgid.
        check: the condition.
    """

    name: str
    message: str
    check: Callable[[GuardContext], bool] = attrs.field(eq=False, repr=False)


def _no_effect(_: GuardContext) -> Mapping[str, Any]:
    return {}


@attrs.frozen(kw_only=True)
class Transition:
    """One row of the transition table.

    Attributes:
        event: the event that triggers it.
        sources: the states it leaves from.
        target: the state it leads to.
        actors: who may trigger it.
        guards: what must hold, checked in order.
        records: the device fields it sets besides the state and the history.
        description: what it means, in English.
        effect: computes the fields it sets.
    """

    event: EventKind
    sources: tuple[DeviceState, ...]
    target: DeviceState
    actors: tuple[Actor, ...]
    guards: tuple[Guard, ...] = ()
    records: tuple[str, ...] = ()
    description: str
    effect: Callable[[GuardContext], Mapping[str, Any]] = attrs.field(
        default=_no_effect, eq=False, repr=False
    )


def _expires_at(device: OrderDevice, policy: DeliveryPolicy) -> datetime:
    """When an unsent device expires: the send-by deadline plus the grace."""
    return (device.send_by or device.history[-1].at) + policy.expiry_grace


def _reason_given(ctx: GuardContext) -> bool:
    return bool(ctx.event.reason and ctx.event.reason.strip())


def _offer_not_above_quote(ctx: GuardContext) -> bool:
    inspection = ctx.event.inspection
    return (
        inspection is not None
        and inspection.offer.currency == ctx.device.quoted.currency
        and inspection.offer <= ctx.device.quoted
    )


def _matches_quote(ctx: GuardContext) -> bool:
    inspection = ctx.device.inspection
    if inspection is None:
        return ctx.device.guaranteed
    return not inspection.major_mismatch and inspection.offer == ctx.device.quoted


def _below_quote(ctx: GuardContext) -> bool:
    inspection = ctx.device.inspection
    return inspection is not None and not inspection.major_mismatch and inspection.offer < ctx.device.quoted


def _payout_is(*methods: PayoutMethod) -> Callable[[GuardContext], bool]:
    return lambda ctx: ctx.payout is not None and ctx.payout.method in methods


def _settlement(ctx: GuardContext) -> Mapping[str, Any]:
    device = ctx.device
    owed = device.offer - device.upfront_credit if ctx.event.amount is None else ctx.event.amount
    return {"payout": ctx.payout, "settled": max(owed, Money.zero(owed.currency))}


SEND_WINDOW_OPEN = Guard(
    name="send_window_open",
    message=N_("The date to send the device by has passed."),
    check=lambda ctx: ctx.moment <= _expires_at(ctx.device, ctx.policy),
)
SEND_WINDOW_CLOSED = Guard(
    name="send_window_closed",
    message=N_("The date to send the device by has not passed yet."),
    check=lambda ctx: ctx.now >= _expires_at(ctx.device, ctx.policy),
)
REASON_GIVEN = Guard(name="reason_given", message=N_("Please give a reason."), check=_reason_given)
STAFF_GIVES_REASON = Guard(
    name="staff_gives_reason",
    message=N_("Staff acting on the shopper's behalf must give a reason."),
    check=lambda ctx: ctx.event.actor is not Actor.STAFF or _reason_given(ctx),
)
HOLD_REASON_GIVEN = Guard(
    name="hold_reason_given",
    message=N_("Please say why the device is held."),
    check=lambda ctx: ctx.event.hold_reason is not None,
)
OFFER_NOT_ABOVE_QUOTE = Guard(
    name="offer_not_above_quote",
    message=N_("An inspection result is needed, and its offer is never above the quote."),
    check=_offer_not_above_quote,
)
MATCHES_QUOTE = Guard(
    name="matches_quote",
    message=N_("The quoted amount is confirmed only by a matching inspection or a guaranteed quote."),
    check=_matches_quote,
)
BELOW_QUOTE = Guard(
    name="offer_below_quote",
    message=N_("The inspection gives no lower offer to make."),
    check=_below_quote,
)
MAJOR_MISMATCH = Guard(
    name="major_mismatch",
    message=N_("The inspection found no major mismatch."),
    check=lambda ctx: ctx.device.inspection is not None and ctx.device.inspection.major_mismatch,
)
RESPOND_WINDOW_OPEN = Guard(
    name="respond_window_open",
    message=N_("The time to answer the revised offer has passed."),
    check=lambda ctx: ctx.device.respond_by is not None and ctx.moment <= ctx.device.respond_by,
)
RESPOND_WINDOW_CLOSED = Guard(
    name="respond_window_closed",
    message=N_("The time to answer the revised offer has not passed yet."),
    check=lambda ctx: ctx.device.respond_by is not None and ctx.now >= ctx.device.respond_by,
)
SILENCE_MEANS_RETURN = Guard(
    name="silence_means_return",
    message=N_("The shop's policy does not return a device on silence."),
    check=lambda ctx: ctx.policy.on_silence is SilenceAction.RETURN,
)
SILENCE_MEANS_ACCEPT = Guard(
    name="silence_means_accept",
    message=N_("The shop's policy does not accept a revised offer on silence."),
    check=lambda ctx: ctx.policy.on_silence is SilenceAction.ACCEPT,
)
HAS_VALUE = Guard(
    name="has_value",
    message=N_("The device has no value to pay out; it can be recycled free of charge."),
    check=lambda ctx: ctx.device.offer.amount > 0,
)
BANK_TRANSFER_CHOSEN = Guard(
    name="bank_transfer_chosen",
    message=N_("Please choose a bank account for the payout."),
    check=_payout_is(PayoutMethod.BANK_TRANSFER),
)
CREDIT_CHOSEN = Guard(
    name="credit_chosen",
    message=N_("Please choose a voucher or a credit on your purchase for the payout."),
    check=_payout_is(PayoutMethod.VOUCHER, PayoutMethod.PURCHASE_CREDIT),
)
NO_VALUE_OR_MISMATCH = Guard(
    name="no_value_or_mismatch",
    message=N_("A device with a value is paid for, not recycled."),
    check=lambda ctx: ctx.device.state is DeviceState.MISMATCH or ctx.device.offer.is_zero(),
)
DISPOSITION_GIVEN = Guard(
    name="disposition_given",
    message=N_("Please say whether the device is refurbished, used for parts or recycled."),
    check=lambda ctx: ctx.event.disposition is not None,
)

_S = DeviceState
_A = Actor
_E = EventKind

_TABLE: Final[tuple[Transition, ...]] = (
    Transition(
        event=_E.ISSUE_LABEL,
        sources=(_S.ACCEPTED,),
        target=_S.AWAITING_SHIPMENT,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        records=("send_by",),
        description="A shipping label was issued; the send-by deadline starts.",
        effect=lambda ctx: {"send_by": ctx.now + ctx.policy.send_window},
    ),
    Transition(
        event=_E.CANCEL,
        sources=(_S.ACCEPTED, _S.AWAITING_SHIPMENT),
        target=_S.CANCELLED,
        actors=(_A.SHOPPER, _A.STAFF, _A.SYSTEM),
        description="The trade-in was cancelled before the device was sent.",
    ),
    Transition(
        event=_E.SHIP,
        sources=(_S.AWAITING_SHIPMENT,),
        target=_S.IN_TRANSIT,
        actors=(_A.SHOPPER, _A.PROVIDER),
        guards=(SEND_WINDOW_OPEN,),
        description="The carrier picked the device up in time.",
    ),
    Transition(
        event=_E.EXPIRE,
        sources=(_S.AWAITING_SHIPMENT,),
        target=_S.EXPIRED,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(SEND_WINDOW_CLOSED,),
        description="The device was not sent in time.",
    ),
    Transition(
        event=_E.RECEIVE,
        sources=(_S.AWAITING_SHIPMENT, _S.IN_TRANSIT),
        target=_S.RECEIVED,
        actors=(_A.STAFF, _A.PROVIDER),
        description="The device arrived (with or without a carrier scan before).",
    ),
    Transition(
        event=_E.HAND_OVER,
        sources=(_S.ACCEPTED,),
        target=_S.RECEIVED,
        actors=(_A.STAFF,),
        description="The shopper handed the device over in a store.",
    ),
    Transition(
        event=_E.RECEIVE_LATE,
        sources=(_S.EXPIRED,),
        target=_S.RECEIVED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="Staff accept a device that arrived after it expired.",
    ),
    Transition(
        event=_E.HOLD,
        sources=(_S.RECEIVED,),
        target=_S.ON_HOLD,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(HOLD_REASON_GIVEN,),
        records=("hold_reason",),
        description="The device is held: blocklist hit, police request or ownership check.",
        effect=lambda ctx: {"hold_reason": ctx.event.hold_reason},
    ),
    Transition(
        event=_E.RELEASE,
        sources=(_S.ON_HOLD,),
        target=_S.RELEASED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="The hold was lifted.",
    ),
    Transition(
        event=_E.SURRENDER,
        sources=(_S.ON_HOLD, _S.MISMATCH),
        target=_S.SURRENDERED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="The device was handed to the authorities.",
    ),
    Transition(
        event=_E.INSPECT,
        sources=(_S.RECEIVED, _S.RELEASED),
        target=_S.INSPECTED,
        actors=(_A.STAFF, _A.PROVIDER),
        guards=(OFFER_NOT_ABOVE_QUOTE,),
        records=("inspection", "offer"),
        description="The inspection was recorded; its offer becomes the current offer.",
        effect=lambda ctx: (
            {"inspection": ctx.event.inspection, "offer": ctx.event.inspection.offer}
            if ctx.event.inspection
            else {}
        ),
    ),
    Transition(
        event=_E.CONFIRM,
        sources=(_S.RECEIVED, _S.RELEASED, _S.INSPECTED),
        target=_S.CONFIRMED,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(MATCHES_QUOTE,),
        description="The quoted amount stands (a matching inspection, or a guaranteed quote).",
    ),
    Transition(
        event=_E.REVISE,
        sources=(_S.INSPECTED,),
        target=_S.REVISED,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(BELOW_QUOTE,),
        records=("respond_by",),
        description="A lower offer was made; the respond-by deadline starts.",
        effect=lambda ctx: {"respond_by": ctx.now + ctx.policy.respond_window},
    ),
    Transition(
        event=_E.REJECT_MISMATCH,
        sources=(_S.INSPECTED,),
        target=_S.MISMATCH,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(MAJOR_MISMATCH,),
        description="A major mismatch: the device is not the one quoted.",
    ),
    Transition(
        event=_E.ACCEPT_REVISION,
        sources=(_S.REVISED,),
        target=_S.REVISION_ACCEPTED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(RESPOND_WINDOW_OPEN, STAFF_GIVES_REASON),
        description="The shopper accepted the lower offer.",
    ),
    Transition(
        event=_E.DECLINE_REVISION,
        sources=(_S.REVISED,),
        target=_S.REVISION_DECLINED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(RESPOND_WINDOW_OPEN, STAFF_GIVES_REASON),
        records=("return_by",),
        description="The shopper declined the lower offer; the device goes back free of charge.",
        effect=lambda ctx: {"return_by": ctx.now + ctx.policy.return_window},
    ),
    Transition(
        event=_E.RESPOND_TIMEOUT,
        sources=(_S.REVISED,),
        target=_S.REVISION_DECLINED,
        actors=(_A.SYSTEM,),
        guards=(RESPOND_WINDOW_CLOSED, SILENCE_MEANS_RETURN),
        records=("return_by",),
        description="No answer in time, and silence means return: declined.",
        effect=lambda ctx: {"return_by": ctx.now + ctx.policy.return_window},
    ),
    Transition(
        event=_E.RESPOND_TIMEOUT,
        sources=(_S.REVISED,),
        target=_S.REVISION_ACCEPTED,
        actors=(_A.SYSTEM,),
        guards=(RESPOND_WINDOW_CLOSED, SILENCE_MEANS_ACCEPT),
        description="No answer in time, and silence means acceptance: accepted.",
    ),
    Transition(
        event=_E.START_RETURN,
        sources=(_S.RELEASED, _S.MISMATCH, _S.REVISION_DECLINED),
        target=_S.RETURNING,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        description="The device was sent back to the shopper.",
    ),
    Transition(
        event=_E.RETURNED,
        sources=(_S.RETURNING,),
        target=_S.RETURNED,
        actors=(_A.STAFF, _A.PROVIDER),
        description="The shopper has the device back.",
    ),
    Transition(
        event=_E.PAY,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED),
        target=_S.PAID,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(HAS_VALUE, BANK_TRANSFER_CHOSEN),
        records=("payout", "settled"),
        description="Paid by bank transfer: what the ledger holds open (the offer less any upfront credit).",
        effect=_settlement,
    ),
    Transition(
        event=_E.CREDIT,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED),
        target=_S.CREDITED,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(HAS_VALUE, CREDIT_CHOSEN),
        records=("payout", "settled"),
        description="Credited as a voucher or a purchase credit: what the ledger holds open.",
        effect=_settlement,
    ),
    Transition(
        event=_E.RECYCLE,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED, _S.MISMATCH),
        target=_S.RECYCLED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(NO_VALUE_OR_MISMATCH, STAFF_GIVES_REASON),
        description="A device without value (or a mismatch the shopper gives up) is recycled for free.",
    ),
    Transition(
        event=_E.DISPOSE,
        sources=(_S.PAID, _S.CREDITED),
        target=_S.DISPOSED,
        actors=(_A.STAFF, _A.PROVIDER),
        guards=(DISPOSITION_GIVEN,),
        records=("disposition",),
        description="The device bought was refurbished, used for parts or recycled.",
        effect=lambda ctx: {"disposition": ctx.event.disposition},
    ),
)


def transition_table() -> tuple[Transition, ...]:
    """Return the transition table: the single source of truth of how a device's state changes.

    Returns:
        Every transition, in the order of the lifecycle.
    """
    return _TABLE


def transitions_mermaid() -> str:
    """Return the transition table as a Mermaid ``stateDiagram-v2`` for the README.

    Each arrow is labelled ``event by actor/actor if guard and guard``; final states lead to ``[*]``.

    Returns:
        The diagram's text, one line per arrow.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {DeviceState.ACCEPTED.value}"]
    for transition in _TABLE:
        label = f"{transition.event.value} by {'/'.join(actor.value for actor in transition.actors)}"
        if transition.guards:
            label += " if " + " and ".join(guard.name for guard in transition.guards)
        lines.extend(
            f"    {source.value} --> {transition.target.value} : {label}" for source in transition.sources
        )
    lines.extend(f"    {state.value} --> [*]" for state in DeviceState if state.is_final)
    return "\n".join(lines) + "\n"


@cache
def _index() -> dict[tuple[EventKind, DeviceState], tuple[Transition, ...]]:
    index: dict[tuple[EventKind, DeviceState], tuple[Transition, ...]] = {}
    for transition in _TABLE:
        for source in transition.sources:
            key = (transition.event, source)
            index[key] = (*index.get(key, ()), transition)
    return index


@cache
def _sources() -> frozenset[DeviceState]:
    return frozenset(source for transition in _TABLE for source in transition.sources)


@cache
def _successors() -> dict[DeviceState, frozenset[DeviceState]]:
    successors: dict[DeviceState, set[DeviceState]] = {state: set() for state in DeviceState}
    for transition in _TABLE:
        for source in transition.sources:
            successors[source].add(transition.target)
    return {state: frozenset(targets) for state, targets in successors.items()}


@cache
def _reachable(state: DeviceState) -> frozenset[DeviceState]:
    """The states reachable from ``state`` (itself excluded; the table is acyclic)."""
    found: set[DeviceState] = set()
    for successor in _successors()[state]:
        found |= {successor, *_reachable(successor)}
    return frozenset(found)


@cache
def _state_ranks() -> dict[DeviceState, int]:
    ranks = dict.fromkeys(DeviceState, 0)
    for _ in DeviceState:  # longest paths in an acyclic graph settle within |states| rounds
        for transition in _TABLE:
            for source in transition.sources:
                ranks[transition.target] = max(ranks[transition.target], ranks[source] + 1)
    return ranks


# -- applying events --------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def _details(event: DeviceEvent, changes: Mapping[str, Any]) -> dict[str, str]:
    details: dict[str, str] = {}
    for name in ("occurred_at", "reason", "tracking"):
        value = getattr(event, name)
        if value is not None:
            details[name] = _text(value)
    for name, value in changes.items():
        if isinstance(value, InspectionResult):
            details["inspected_value"] = str(value.inspected_value)
            details["mismatch"] = ",".join(reason.value for reason in value.mismatch)
            details["differences"] = ",".join(value.differences)
        elif isinstance(value, PayoutRef):
            details["payout_method"] = value.method.value
            details["payout_reference"] = value.reference
        else:
            details[name] = _text(value)
    return details


def _choose(ctx: GuardContext) -> Transition:
    """The transition the event fires, or the error saying why none does."""
    event, state = ctx.event, ctx.device.state
    candidates = _index().get((event.kind, state), ())
    if not candidates:
        if any(
            state is transition.target or state in _reachable(transition.target)
            for transition in _TABLE
            if transition.event is event.kind
        ):
            raise StaleEventError(
                N_("Device {device_id} is already {state}: the {event} event comes too late."),
                device_id=ctx.device.id,
                event=event.kind,
                state=state,
            )
        raise IllegalTransitionError(
            N_("A device that is {state} cannot take the {event} event."),
            device_id=ctx.device.id,
            event=event.kind,
            state=state,
        )
    allowed = [transition for transition in candidates if event.actor in transition.actors]
    if not allowed:
        raise ActorNotAllowedError(
            device_id=ctx.device.id,
            event=event.kind,
            state=state,
            actor=event.actor,
            allowed=dict.fromkeys(actor for transition in candidates for actor in transition.actors),
        )
    failed: Guard | None = None
    for transition in allowed:
        failing = next((guard for guard in transition.guards if not guard.check(ctx)), None)
        if failing is None:
            return transition
        failed = failed or failing
    assert failed is not None  # noqa: S101 - every allowed transition had a failing guard
    raise GuardFailedError(device_id=ctx.device.id, event=event.kind, state=state, guard=failed)


def apply(
    order: TradeInOrder, event: DeviceEvent, *, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY
) -> TradeInOrder:
    """Apply one event to an order: the only way a device changes state.

    Args:
        order: the order.
        event: what happened.
        now: the current time (from the injected clock).
        policy: the shop's delivery policy (deadlines, silence).

    Returns:
        The new order, with the device's new state, the fields the transition records, and one more
        history entry; the same order when the event's id was already applied (a duplicate delivery).

    Raises:
        OrderDeviceNotFoundError: the order has no such device.
        EventConflictError: the event's id was already used for another event.
        StaleEventError: the device has already moved past the event.
        IllegalTransitionError: the event does not fit the device's state.
        ActorNotAllowedError: the actor may not trigger this event.
        GuardFailedError: a condition of the transition does not hold; ``guard`` names it.
    """
    now = as_utc(now)
    device = order.device(event.device_id)
    recorded = order.recorded(event.id)
    if recorded is not None:
        owner, entry = recorded
        if owner.id == device.id and entry.kind is event.kind and entry.actor is event.actor:
            return order
        raise EventConflictError(event.id)
    ctx = GuardContext(order=order, device=device, event=event, now=now, policy=policy)
    transition = _choose(ctx)
    changes = transition.effect(ctx)
    entry = HistoryEntry(
        event_id=event.id,
        kind=event.kind,
        actor=event.actor,
        at=now,
        from_state=device.state,
        to_state=transition.target,
        details=_details(event, changes),
    )
    changed = attrs.evolve(device, state=transition.target, history=(*device.history, entry), **changes)
    return attrs.evolve(
        order, devices=tuple(changed if other.id == device.id else other for other in order.devices)
    )


def inspection_verdict(device: OrderDevice) -> EventKind | None:
    """Return the event that settles an inspected device: ``confirm``, ``revise`` or ``reject_mismatch``.

    Args:
        device: a device of an order.

    Returns:
        The event whose guard the device's inspection satisfies, or ``None`` when it is not ``inspected``.
    """
    if device.state is not DeviceState.INSPECTED or device.inspection is None:
        return None
    if device.inspection.major_mismatch:
        return EventKind.REJECT_MISMATCH
    return EventKind.REVISE if device.inspection.offer < device.quoted else EventKind.CONFIRM
