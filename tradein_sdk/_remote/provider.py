"""The remote fulfilment adapter: a refurbishment provider's signed webhooks become order transitions.

When devices go to a provider instead of the shop's own counter, the provider reports what happened by
webhook (Standard Webhooks, signed with secrets both sides hold). :class:`ProviderEvents` verifies each
delivery (:func:`tradein_sdk._domain.webhooks.verify`: signature, ±300 s) and applies it:

=====================  ==========================================================  =====================
event type             ``data``                                                    becomes
=====================  ==========================================================  =====================
``device.received``    ``order_id``, ``device_id``                                 ``receive``
``device.inspected``   ``order_id``, ``device_id``, ``answers``, ``imei``?,          ``inspect`` (confirm,
                       ``variant_id``?, ``lock_removable``?                         revise or reject)
``device.erased``      ``order_id``, ``device_id``, ``report`` (an erasure report)   a signed certificate
``device.paid``        ``order_id``, ``device_id``                                 ``pay`` or ``credit``
``device.returned``    ``order_id``, ``device_id``                                 ``returned``
=====================  ==========================================================  =====================

The webhook's id is the transition's event id, so a repeated or concurrent delivery of one event changes
the order once (the order's history knows the id; the save is a versioned conditional update); an erasure
report (``schemas/erasure-report.schema.json``, refused with its JSON paths when incomplete, out of order or
for a device not in the shop's custody) becomes one certificate per delivery: the certificate's id follows
from the webhook's id. A delivery that arrives after the device moved on
(a late duplicate, or events out of order) is acknowledged and changes nothing; a type this version does not
know is acknowledged and ignored. The service exposes this at ``POST /v1/provider/events``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.orders.model import DeviceEvent, TradeInOrder
from tradein_sdk._domain.orders.vocabulary import Actor, EventKind
from tradein_sdk._domain.payouts import PayoutMethod
from tradein_sdk._domain.webhooks import (
    DEFAULT_TOLERANCE,
    WebhookEvent,
    WebhookEventType,
    WebhookPayloadError,
    verify,
)
from tradein_sdk._errors import StaleEventError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import timedelta

    from tradein_sdk._app.facade import TradeIn
    from tradein_sdk._domain.webhooks import WebhookSecrets


@attrs.frozen(kw_only=True)
class ProviderEventOutcome:
    """What a provider's webhook did.

    Attributes:
        event: the verified event.
        applied: whether it changed something (``False``: a repeat, a late event, or an unknown type).
        order: the order after the event, when the event names one that exists.
    """

    event: WebhookEvent
    applied: bool
    order: TradeInOrder | None = None


def _optional(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else _required(data, name)


def _required(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(f"$.data.{name}", "a non-empty string is required")
    return value


class ProviderEvents:
    """Turns a refurbishment provider's webhooks into order transitions (see the module documentation)."""

    def __init__(
        self, trade_in: TradeIn, secrets: WebhookSecrets, *, tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> None:
        """Accept the provider's webhooks for ``trade_in``.

        Args:
            trade_in: the facade whose orders the provider fulfils.
            secrets: the secrets the provider signs with (several while they rotate).
            tolerance: how far a webhook's timestamp may be from now.
        """
        self.trade_in = trade_in
        self._secrets = secrets
        self._tolerance = tolerance

    def handle(self, headers: Mapping[str, str], body: bytes) -> ProviderEventOutcome:
        """Verify one delivery and apply it.

        Args:
            headers: the request's headers (names matched case-insensitively).
            body: the request body, exactly as received.

        Returns:
            What the event did; answer the provider 2xx.

        Raises:
            WebhookVerificationError: (a subclass says why) the delivery is not authentic, too old or too
                new, or its data lacks a field (``WebhookPayloadError`` names the path); answer 4xx.
            OrderNotFoundError: the order does not exist.
            IllegalTransitionError: the event does not fit the device's state for another reason than
                having arrived late.
            AnswersInvalidError: an inspection's answers do not fit the questionnaire.
        """
        trade_in = self.trade_in
        event = verify(headers, body, self._secrets, now=trade_in.clock.now(), tolerance=self._tolerance)
        data = event.data
        if event.type not in {kind.value for kind in WebhookEventType}:
            return ProviderEventOutcome(event=event, applied=False)
        order_id = _required(data, "order_id")
        device_id = _required(data, "device_id")
        if event.type == WebhookEventType.DEVICE_ERASED:
            return self._erased(event, order_id, device_id)
        try:
            if event.type == WebhookEventType.DEVICE_INSPECTED:
                answers = data.get("answers")
                if not isinstance(answers, dict):
                    raise WebhookPayloadError("$.data.answers", "the inspector's answers are required")
                _, applied = trade_in._inspect_once(  # noqa: SLF001 - the library's own adapter
                    order_id,
                    device_id,
                    answers,
                    imei=_optional(data, "imei"),
                    variant_id=_optional(data, "variant_id"),
                    lock_removable=data.get("lock_removable") is True,
                    locale=None,
                    actor=Actor.PROVIDER,
                    event_id=event.id,
                )
            else:

                def change(current: TradeInOrder) -> list[DeviceEvent]:
                    kind, actor = self._transition(event.type, current)
                    return [DeviceEvent(id=event.id, kind=kind, device_id=device_id, actor=actor)]

                order, applied = trade_in._apply_and_save(order_id, change)  # noqa: SLF001
                return ProviderEventOutcome(event=event, applied=applied, order=order)
        except StaleEventError:
            applied = False
        return ProviderEventOutcome(event=event, applied=applied, order=trade_in.order(order_id))

    @staticmethod
    def _transition(event_type: str, order: TradeInOrder) -> tuple[EventKind, Actor]:
        if event_type == WebhookEventType.DEVICE_RECEIVED:
            return EventKind.RECEIVE, Actor.PROVIDER
        if event_type == WebhookEventType.DEVICE_RETURNED:
            return EventKind.RETURNED, Actor.PROVIDER
        if event_type == WebhookEventType.DEVICE_PAID:  # the provider paid on the shop's behalf
            transfer = order.payout is not None and order.payout.method is PayoutMethod.BANK_TRANSFER
            return (EventKind.PAY if transfer else EventKind.CREDIT), Actor.SYSTEM
        raise WebhookPayloadError("$.type", f"{event_type} is sent by the service, not to it")

    def _erased(self, event: WebhookEvent, order_id: str, device_id: str) -> ProviderEventOutcome:
        report = event.data.get("report")
        if not isinstance(report, dict):
            raise WebhookPayloadError(
                "$.data.report", "the erasure report is required (schemas/erasure-report.schema.json)"
            )
        applied = self.trade_in._erasure_reported_once(  # noqa: SLF001 - the library's own adapter
            order_id,
            device_id,
            {"order_id": order_id, "device_id": device_id, **report},
            actor=Actor.PROVIDER,
            receipt=event,
        )
        return ProviderEventOutcome(event=event, applied=applied, order=self.trade_in.order(order_id))
