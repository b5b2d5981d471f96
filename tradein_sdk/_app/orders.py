"""The order use cases of :class:`~tradein_sdk.TradeIn`: accept, ship, receive, inspect, revise, pay, tick.

Every change goes the same way: read the order and its version, apply events through the state machine
(:func:`~tradein_sdk._domain.orders.machine.apply`), then write the new order only if nobody changed it
meanwhile, together
with one audit entry per transition, in one transaction. A conflict (another process or a parallel
``tick``) re-reads and applies again; events carry ids, so an event already applied changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from tradein_sdk._app.ledger import ledger_fact, promotion_changes
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.identifiers import checked_text
from tradein_sdk._domain.ledger import (
    SettlementMethod,
    opening_entries,
    order_terms,
    settlement_amount,
    settlement_method,
)
from tradein_sdk._domain.orders.deadlines import due_actions, next_action_at, reminders_due, reminders_from
from tradein_sdk._domain.orders.inspection import InspectionDiff, inspect_device
from tradein_sdk._domain.orders.machine import apply, inspection_verdict
from tradein_sdk._domain.orders.model import DeviceEvent, TradeInOrder, open_order
from tradein_sdk._domain.orders.reference import order_id_from_reference, order_reference
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, EventKind
from tradein_sdk._domain.pages import MAX_PAGE, OrderPage, make_cursor, read_cursor
from tradein_sdk._domain.payouts import (
    PayoutDetails,
    PayoutMethod,
    PayoutRef,
    payout_ref,
)
from tradein_sdk._domain.shipping import LabelDevice, TrackingStatus
from tradein_sdk._errors import ConcurrentUpdateError, ConfigurationError, DeviceNotFoundError
from tradein_sdk._ports import (
    AuditFact,
    AuditLog,
    Ledger,
    OrderRecord,
    OrderStore,
    PersonalData,
    PersonalDataStore,
    QuoteStore,
    Tenancy,
    WebhookOutbox,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from tradein_sdk._adapters.http.webhooks import WebhookSender
    from tradein_sdk._app.outbox import DeliveryReport
    from tradein_sdk._domain.audit import AuditAnchor, AuditVerification
    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.checkpoints import AuditCheckpoint
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.ledger import LedgerTerms, Posting
    from tradein_sdk._domain.orders.deadlines import Reminder
    from tradein_sdk._domain.orders.model import DeliveryPolicy
    from tradein_sdk._domain.outbox import OutboxMessage, WebhookEndpoint
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.shipping import ShippingLabel, TrackingEvent
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import CheckpointLog, Fulfilment

    _Port = TypeVar("_Port")

_ATTEMPTS = 8
MAX_CUSTOMER_REF_LENGTH = 64
"""The longest customer reference the store keeps."""


def order_document(order: TradeInOrder) -> str:
    """The order's JSON document, as stored."""
    return json.dumps(json_converter().unstructure(order), sort_keys=True)


def order_from_document(text: str) -> TradeInOrder:
    """Read an order's stored JSON document."""
    return json_converter().structure(json.loads(text), TradeInOrder)


def _record(
    order: TradeInOrder, policy: DeliveryPolicy, kept: OrderRecord | None = None, **owner: str | None
) -> OrderRecord:
    """The record of ``order``: its owner and customer from the record ``kept`` so far, or from ``owner``.

    Its ``next_deadline_at`` is when its next time-driven action falls due and ``reminders_from`` when its
    first reminder may, under ``policy``: ``tick()`` and ``reminders()`` read only orders whose time has come.
    """
    if kept is not None:
        owner = {
            "customer_ref": kept.customer_ref,
            "tenant": kept.tenant,
            "organisation": kept.organisation,
            "provider": kept.provider,
        }
    return OrderRecord(
        order_id=order.id,
        created_at=order.created_at,
        closed=order.is_closed,
        next_deadline_at=next_action_at(order, policy),
        reminders_from=reminders_from(order, policy),
        document=order_document(order),
        **owner,
    )


def _audit_facts(before: TradeInOrder | None, after: TradeInOrder) -> list[AuditFact]:
    """One audit fact per history entry the change added: pseudonymous references and amounts only."""
    known = {entry.event_id for _, entry in before.history} if before is not None else set()
    facts = []
    for device_id, entry in after.history:
        if entry.event_id in known:
            continue
        device = after.device(device_id)
        details: dict[str, Any] = {
            "device": device_id,
            "event_id": entry.event_id,
            "from": entry.from_state.value if entry.from_state is not None else None,
            "to": entry.to_state.value,
            "offer": device.offer.to_json(),
        }
        facts.append(
            AuditFact(
                actor=entry.actor.value, action=f"order.{entry.kind.value}", subject=after.id, details=details
            )
        )
    return facts


class OrderUseCases:
    """The order methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    _store: QuoteStore
    clock: Clock
    policy: DeliveryPolicy
    fulfilment: Fulfilment
    locale: str
    catalog: Catalog
    webhook_endpoints: tuple[WebhookEndpoint, ...]
    _webhook_senders: dict[str, WebhookSender]
    audience: str
    organisation: str
    scope: Scope | None
    signing_keys: SigningKeys | None
    checkpoints: CheckpointLog | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _order_quote(self, quote_id: str) -> Quote: ...

        def verify_token(self, token: str, *, audience: str | None = None) -> Any: ...  # noqa: ANN401
        def get_quote(self, quote_id: str) -> Any: ...  # noqa: ANN401
        def _port(self, port: type[_Port]) -> _Port: ...
        def claimed_quote(self, claims: Any) -> Any: ...  # noqa: ANN401
        def _snapshot_documents(self, quote: Quote) -> tuple[Any, Any]: ...
        def _posting(
            self, before: TradeInOrder, after: TradeInOrder, *, now: datetime, cause: str
        ) -> tuple[TradeInOrder, Posting, list[AuditFact]]: ...
        def _ledger_terms(self, order: TradeInOrder) -> tuple[LedgerTerms, Any]: ...
        def require_certificate(self, order_id: str, device_id: str, disposition: str) -> None: ...
        def _guaranteed_diff(
            self, order: TradeInOrder, device_id: str, diff: InspectionDiff
        ) -> InspectionDiff: ...
        def _guarantee_changes(
            self, before: TradeInOrder, after: TradeInOrder, *, now: datetime, cause: str
        ) -> tuple[list[Any], list[Any], list[AuditFact]]: ...

    # -- opening -----------------------------------------------------------------------------------

    def accept(
        self,
        tokens: Sequence[str],
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        instant_credit: bool = False,
        actor: Actor = Actor.SHOPPER,
    ) -> TradeInOrder:
        """Open an order for the quotes the shopper accepted; each quote backs one order only, ever.

        Args:
            tokens: the quote tokens (one device each).
            payout: how the shopper wants to be paid; kept apart as personal data.
            customer_ref: the shop's pseudonymous customer id (a new one is made when omitted).
            contact: the shopper's contact data (name, e-mail, address), kept apart and erasable.
            instant_credit: the quoted amounts were credited at checkout (clawed back if not earned).
            actor: who accepts (the shopper online, or staff in a store).

        Returns:
            The new order, every device ``accepted``.

        Raises:
            QuoteTokenError: a token does not verify.
            QuoteAlreadyRedeemedError: a quote backs another order already; nothing was written.
            QuoteExpiredError: a quote's validity ended.
            QuoteTamperedError: a stored quote was changed after it was issued; nothing was written.
            InvalidPayoutError: the payout details are not valid.
            InvalidTextError: ``customer_ref`` is empty, longer than 64 characters or not printable text.
        """
        now = self.clock.now()
        if customer_ref is not None:
            checked_text(customer_ref, field="customer_ref", maximum=MAX_CUSTOMER_REF_LENGTH)
        quotes = [self.claimed_quote(self.verify_token(token)).quote for token in tokens]
        customer_ref = customer_ref or f"cus_{uuid.uuid4().hex[:20]}"
        order_id = f"ord_{uuid.uuid4().hex[:20]}"
        reference, personal = personal_records(payout, contact, customer_ref)
        order = open_order(
            order_id=order_id, quotes=quotes, now=now, payout=reference, instant_credit=instant_credit
        )
        opened = AuditFact(
            actor=actor.value,
            action="order.accepted",
            subject=order_id,
            details={
                "devices": len(quotes),
                "quotes": [quote.id for quote in quotes],
                "customer": customer_ref,
            },
        )
        opening = opening_entries(order_terms(order), order_id=order_id, now=now)
        self._port(OrderStore).add_order(
            _record(
                order,
                self.policy,
                customer_ref=customer_ref,
                tenant=self.audience,
                organisation=self.organisation,
            ),
            quote_ids=[quote.id for quote in quotes],
            now=now,
            personal_data=personal,
            audit=[opened, ledger_fact(order_id, opening, actor=actor.value)],
            ledger=opening,
            **self._in_scope,
        )
        return order

    def order(self, order_id: str) -> TradeInOrder:
        """Return an order as it stands.

        Raises:
            OrderNotFoundError: no order has that id.
        """
        record, _ = self._port(OrderStore).get_order(order_id, **self._in_scope)
        return order_from_document(record.document)

    # -- changes ----------------------------------------------------------------------------------

    def _endpoints_for(self, record: OrderRecord) -> list[WebhookEndpoint]:
        """The endpoints that receive the events of an order.

        The configured ones, and those its owner's organisation registered for it (when the store keeps
        tenants' endpoints).
        """
        endpoints = list(self.webhook_endpoints)
        if record.organisation is not None and isinstance(self._store, Tenancy):
            endpoints += self._store.webhook_endpoints_of(
                organisation=record.organisation, tenant=record.tenant
            )
        return endpoints

    def _webhooks_of(
        self, before: TradeInOrder, after: TradeInOrder, record: OrderRecord
    ) -> list[OutboxMessage]:
        """The outbox messages of a change, one per event and subscribed endpoint (none without endpoints)."""
        from tradein_sdk._domain.outbox import order_events, outbox_messages  # noqa: PLC0415 - webhooks load with the first change

        events = order_events(before, after)
        if not events:
            return []
        endpoints = self._endpoints_for(record)
        if not endpoints:
            return []
        return outbox_messages(events, endpoints, tenant=record.tenant, organisation=record.organisation)

    def deliver_webhooks(self, *, limit: int = 100) -> DeliveryReport:
        """Send the webhooks that are due to the configured endpoints, one attempt each.

        Run it often (``tradein serve`` does, every second); several processes may run it at once on one
        store. A failed attempt is planned again on the endpoint's retry schedule; a 2xx answer ends it.

        Args:
            limit: at most this many webhooks in this pass.

        Returns:
            How many were delivered, are retrying, or were given up.
        """
        from tradein_sdk._adapters.http.webhooks import WebhookSender  # noqa: PLC0415 - the sender loads with the first delivery
        from tradein_sdk._app.outbox import deliver_due  # noqa: PLC0415 - with the first delivery

        senders = self._webhook_senders
        endpoints = self.delivery_endpoints()
        for endpoint in endpoints:
            sender = senders.get(endpoint.key)
            if sender is None or sender.secrets != endpoint.secrets:
                senders[endpoint.key] = WebhookSender(
                    secrets=endpoint.secrets, clock=self.clock, schedule=endpoint.schedule
                )
        return deliver_due(
            self._port(WebhookOutbox),
            endpoints,
            clock=self.clock,
            senders=senders,
            limit=limit,
        )

    def delivery_endpoints(self) -> list[WebhookEndpoint]:
        """Every endpoint webhooks go to: the configured ones and every active one a tenant registered."""
        endpoints = list(self.webhook_endpoints)
        if isinstance(self._store, Tenancy):
            endpoints += self._store.webhook_endpoints_of()
        return endpoints

    def _change(self, order_id: str, events: Callable[[TradeInOrder], Sequence[DeviceEvent]]) -> TradeInOrder:
        """Apply events to the stored order and save it with its audit entries, retrying on conflict."""
        return self._apply_and_save(order_id, events)[0]

    def _apply_and_save(
        self, order_id: str, events: Callable[[TradeInOrder], Sequence[DeviceEvent]]
    ) -> tuple[TradeInOrder, bool]:
        """Return the order after the events and whether this call wrote the change (not someone else)."""
        for _ in range(_ATTEMPTS):
            record, version = self._port(OrderStore).get_order(order_id, **self._in_scope)
            before = order_from_document(record.document)
            now = self.clock.now()
            after = before
            applied = []
            for event in events(before):
                after = apply(after, event, now=now, policy=self.policy)
                applied.append(event.id)
            if after is before:
                return before, False
            cause = ",".join(applied)[:255]
            after, posting, ledger_audit = self._posting(before, after, now=now, cause=cause)
            guarantees, releases, guarantee_audit = self._guarantee_changes(
                before, after, now=now, cause=cause
            )
            try:
                self._port(OrderStore).save_order(
                    _record(after, self.policy, record),
                    expected_version=version,
                    now=now,
                    audit=[*_audit_facts(before, after), *ledger_audit, *guarantee_audit],
                    outbox=self._webhooks_of(before, after, record),
                    ledger=[*posting.entries, *releases],
                    promotion_changes=promotion_changes(posting),
                    guarantee_changes=guarantees,
                    **self._in_scope,
                )
            except ConcurrentUpdateError:
                continue
            return after, True
        raise ConcurrentUpdateError(order_id)

    def record_event(
        self,
        order_id: str,
        device_id: str,
        kind: EventKind | str,
        *,
        actor: Actor | str,
        event_id: str | None = None,
        **fields: Any,  # noqa: ANN401 - the DeviceEvent fields the event needs
    ) -> TradeInOrder:
        """Apply one event to one device (the general form of the methods below).

        Args:
            order_id: the order.
            device_id: the device (``d1``, ``d2``, ...).
            kind: what happened (see :class:`EventKind`).
            actor: who triggered it.
            event_id: the event's id, for deliveries that may repeat (a carrier webhook); a repeated id
                changes nothing. A new id is made when omitted.
            **fields: ``occurred_at``, ``reason``, ``tracking``, ``hold_reason``, ``payout``, ``disposition``.

        Raises:
            IllegalTransitionError: the event does not fit the device's state (``stale_event``,
                ``actor_not_allowed``, ``guard_failed`` say why).
            CertificateRequiredError: a disposal to resale (``refurbish``) or parts, and the device has no
                valid, unrevoked erasure certificate of a sufficient method (``reason`` says why).
        """
        event = DeviceEvent(
            id=event_id or f"evt_{uuid.uuid4().hex}",
            kind=EventKind(kind),
            device_id=device_id,
            actor=Actor(actor),
            **fields,
        )
        if event.kind is EventKind.DISPOSE and event.disposition is not None:
            self.order(order_id).device(device_id)  # in scope, before anything about its certificate
            self.require_certificate(order_id, device_id, event.disposition)
        return self._change(order_id, lambda _: [event])

    def ship(
        self, order_id: str, device_id: str, *, tracking: str | None = None, event_id: str | None = None
    ) -> TradeInOrder:
        """The shopper handed the device to the carrier (``tracking``: the carrier's number).

        Raises:
            IllegalTransitionError: the device is not awaiting shipment, or its send-by date has passed.
        """
        return self.record_event(
            order_id, device_id, EventKind.SHIP, actor=Actor.SHOPPER, event_id=event_id, tracking=tracking
        )

    def receive(self, order_id: str, device_id: str, *, actor: Actor = Actor.STAFF) -> TradeInOrder:
        """The device arrived where it is inspected (staff at the shop, or the provider).

        Raises:
            IllegalTransitionError: the device was not sent (a late one needs ``receive_late`` with a reason).
        """
        return self.record_event(order_id, device_id, EventKind.RECEIVE, actor=actor)

    def pay(self, order_id: str, device_id: str, *, payout: PayoutDetails | None = None) -> TradeInOrder:
        """Pay a confirmed device out, or credit it, by the chosen payout (see :meth:`settle`)."""
        return self.settle(order_id, device_id, payout=payout)

    def issue_label(self, order_id: str) -> ShippingLabel:
        """Issue the shipping label for every device not yet sent; the send-by deadline starts now.

        The label carries the order's reference (:func:`~tradein_sdk.order_reference`), printed and in its
        barcode; a carrier's tracking events name it (:meth:`record_tracking`).

        Returns:
            The printable label (``label.to_html(locale)``).
        """

        def events(order: TradeInOrder) -> list[DeviceEvent]:
            return [
                DeviceEvent(
                    id=f"label:{order.id}:{device.id}",
                    kind=EventKind.ISSUE_LABEL,
                    device_id=device.id,
                    actor=Actor.SYSTEM,
                )
                for device in order.devices
                if device.state is DeviceState.ACCEPTED
            ]

        order = self._change(order_id, events)
        waiting = [device for device in order.devices if device.state is DeviceState.AWAITING_SHIPMENT]
        send_by = min(
            (device.send_by for device in waiting if device.send_by is not None), default=self.clock.now()
        )
        reference = order_reference(order.id)
        return self.fulfilment.issue_label(
            reference,
            [
                LabelDevice(
                    device_ref=f"{reference}/{device.id}", display_name=self._label_name(device.variant_id)
                )
                for device in waiting
            ],
            send_by=send_by,
        )

    def _label_name(self, variant_id: str) -> str:
        """A device's name and storage on a label, in the facade's locale (its id when not in the catalog)."""
        try:
            return self.catalog.lookup(variant_id).localized_name(self.locale)
        except DeviceNotFoundError:
            return variant_id

    def inspect(
        self,
        order_id: str,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
        locale: str | None = None,
        actor: Actor = Actor.STAFF,
        event_id: str | None = None,
    ) -> InspectionDiff:
        """Record an inspection: diff it against the shopper's answers and confirm, revise or reject.

        The inspector answers the same questionnaire; the diff prices each difference with the quote's own
        price book, and the revised offer is never above the quote.

        Args:
            order_id: the order.
            device_id: the device inspected.
            answers: the inspector's answers (every question, staff checks included).
            imei: the IMEI read from the device (a different one is a major mismatch).
            variant_id: the variant found, when it differs from the quoted one.
            lock_removable: an account lock found can be removed with the shopper's help.
            locale: the shopper's locale for the explanations.
            actor: who inspected.
            event_id: the inspection's id, for reports that may arrive twice (a provider's webhook); a
                repeated id changes nothing. A new id is made when omitted.

        Returns:
            The diff, question by question, with the price impact of each difference.
        """
        return self._inspect_once(
            order_id,
            device_id,
            answers,
            imei=imei,
            variant_id=variant_id,
            lock_removable=lock_removable,
            locale=locale,
            actor=actor,
            event_id=event_id,
        )[0]

    def _inspect_once(
        self,
        order_id: str,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        imei: str | None,
        variant_id: str | None,
        lock_removable: bool,
        locale: str | None,
        actor: Actor,
        event_id: str | None,
    ) -> tuple[InspectionDiff, bool]:
        """:meth:`inspect`, and whether this call wrote the inspection (not a repeat of ``event_id``)."""
        order = self.order(order_id)
        device = order.device(device_id)
        quote = self._order_quote(device.quote_id)
        questionnaire, book = self._snapshot_documents(quote)
        diff = inspect_device(
            quote,
            answers,
            questionnaire=questionnaire,
            book=book,
            locale=locale or quote.locale,
            observed_imei=imei,
            observed_variant_id=variant_id,
            lock_removable=lock_removable,
        )
        diff = self._guaranteed_diff(order, device_id, diff)
        key = event_id or uuid.uuid4().hex
        inspected = DeviceEvent(
            id=f"inspect:{key}",
            kind=EventKind.INSPECT,
            device_id=device_id,
            actor=actor,
            inspection=diff.result,
        )

        def events(current: TradeInOrder) -> list[DeviceEvent]:
            after = apply(current, inspected, now=self.clock.now(), policy=self.policy)
            verdict = inspection_verdict(after.device(device_id))
            if verdict is None:
                return [inspected]
            return [
                inspected,
                DeviceEvent(id=f"verdict:{key}", kind=verdict, device_id=device_id, actor=actor),
            ]

        return diff, self._apply_and_save(order_id, events)[1]

    def respond_to_revision(self, order_id: str, device_id: str, *, accept: bool) -> TradeInOrder:
        """The shopper accepts the revised offer or declines it (the device then goes back free of charge)."""
        kind = EventKind.ACCEPT_REVISION if accept else EventKind.DECLINE_REVISION
        order = self.record_event(order_id, device_id, kind, actor=Actor.SHOPPER)
        if not accept:
            order = self.record_event(order_id, device_id, EventKind.START_RETURN, actor=Actor.SYSTEM)
        return order

    def settle(
        self,
        order_id: str,
        device_id: str,
        *,
        payout: PayoutDetails | None = None,
        actor: Actor = Actor.STAFF,
    ) -> TradeInOrder:
        """Settle a confirmed device: pay or credit what its ledger holds open, as the terms say.

        The amount is the device's open balance in the ledger: the offer and the promotions it still
        earns, less what was credited at checkout. It reaches the shopper by the checkout's plan (a bank
        payout, a voucher, bill credits scheduled month by month) or, for a remainder above the purchase
        price, by the shop's remainder rule; an order accepted without a checkout pays by its payout.

        Args:
            order_id: the order.
            device_id: the device.
            payout: how to pay, when the shopper chose now (else the order's payout); the details are kept
                apart as personal data and the order records a reference only.
            actor: who settles.

        Raises:
            GuardFailedError: the device is not confirmed or accepted at a revised offer, has no value, or
                a bank payout is due and no bank account was given.
            InvalidPayoutError: the payout details are not valid.
        """
        reference: PayoutRef | None = None
        if payout is not None:
            record, _ = self._port(OrderStore).get_order(order_id, **self._in_scope)
            reference = payout_ref(payout, reference=f"pay_{uuid.uuid4().hex[:20]}")
            data = _payout_data(payout, reference, record.customer_ref or order_id)
            self._port(PersonalDataStore).add_personal_data(
                attrs.evolve(data, tenant=record.tenant, organisation=record.organisation),
                now=self.clock.now(),
            )
        event_id = f"settle:{order_id}:{device_id}:{uuid.uuid4().hex[:12]}"

        def events(order: TradeInOrder) -> list[DeviceEvent]:
            terms, _ = self._ledger_terms(order)
            device = order.device(device_id)
            named = reference or order.payout
            method = settlement_method(terms, attrs.evolve(device, payout=named))
            amount = settlement_amount(self._port(Ledger).ledger_entries(order_id), device_id, order.currency)
            nothing_left = amount.is_zero() and terms.method is not None
            if nothing_left:
                # everything was credited at checkout: the device is settled against the purchase
                chosen: PayoutRef | None = PayoutRef(
                    method=PayoutMethod.PURCHASE_CREDIT, reference=terms.source
                )
            elif method is SettlementMethod.BANK_TRANSFER:
                chosen = named
            elif method is SettlementMethod.BILL_CREDITS:
                chosen = PayoutRef(method=PayoutMethod.PURCHASE_CREDIT, reference=f"bill:{terms.source}")
            elif named is not None and named.method is not PayoutMethod.BANK_TRANSFER:
                chosen = named
            else:
                chosen = PayoutRef(method=PayoutMethod.VOUCHER, reference=f"vch:{order_id}:{device_id}")
            bank = method is SettlementMethod.BANK_TRANSFER and not nothing_left
            return [
                DeviceEvent(
                    id=event_id,
                    kind=EventKind.PAY if bank else EventKind.CREDIT,
                    device_id=device_id,
                    actor=actor,
                    payout=chosen,
                    amount=amount,
                )
            ]

        return self._change(order_id, events)

    def cancel(self, order_id: str, *, actor: Actor = Actor.SHOPPER) -> TradeInOrder:
        """Cancel every device not yet sent (after shipping, an order cannot be cancelled)."""

        def events(order: TradeInOrder) -> list[DeviceEvent]:
            return [
                DeviceEvent(
                    id=f"cancel:{order.id}:{device.id}",
                    kind=EventKind.CANCEL,
                    device_id=device.id,
                    actor=actor,
                )
                for device in order.devices
                if device.state in {DeviceState.ACCEPTED, DeviceState.AWAITING_SHIPMENT}
            ]

        return self._change(order_id, events)

    def tick(self, *, limit: int = 500) -> int:
        """Apply the time-driven transitions that are due (expiry, silence on a revised offer).

        Safe to run from several processes at once: each transition is applied once.

        Returns:
            How many orders changed.
        """
        now = self.clock.now()
        changed = 0
        for order_id in self._port(OrderStore).orders_due(now, limit=limit, **self._in_scope):
            _, wrote = self._apply_and_save(order_id, lambda order: _due_events(order, now, self.policy))
            changed += wrote
        return changed

    def record_tracking(self, event: TrackingEvent) -> TradeInOrder:
        """Turn a carrier's news about a parcel into order transitions (for every device on the label).

        ``handed_over`` and ``in_transit`` mean shipped, ``delivered`` means received. A repeated delivery
        of the same news (same ``event_id``) changes nothing; news that arrives after the devices moved on
        raises :class:`StaleEventError`, which a webhook handler can acknowledge and drop. ``exception``
        (lost, damaged) changes no state: staff decide.

        Args:
            event: the tracking event; its ``order_ref`` is the reference printed on the label
                (:func:`~tradein_sdk.order_reference`; a label printed before, ``ORD-...``, is read too).

        Returns:
            The order after the change.

        Raises:
            OrderNotFoundError: the reference names no order.
            IllegalTransitionError: the news does not fit the devices' states.
        """
        order_id = order_id_from_reference(event.order_ref)
        kinds = {
            TrackingStatus.HANDED_OVER: EventKind.SHIP,
            TrackingStatus.IN_TRANSIT: EventKind.SHIP,
            TrackingStatus.DELIVERED: EventKind.RECEIVE,
        }
        kind = kinds.get(event.status)
        waiting = {
            EventKind.SHIP: {DeviceState.AWAITING_SHIPMENT},
            EventKind.RECEIVE: {DeviceState.AWAITING_SHIPMENT, DeviceState.IN_TRANSIT},
        }

        def events(order: TradeInOrder) -> list[DeviceEvent]:
            if kind is None:
                return []
            recorded = {entry.event_id for _, entry in order.history}
            return [
                DeviceEvent(
                    id=f"{event.event_id}:{device.id}",
                    kind=kind,
                    device_id=device.id,
                    actor=Actor.PROVIDER,
                    occurred_at=event.at,
                )
                for device in order.devices
                if device.state in waiting[kind] or f"{event.event_id}:{device.id}" in recorded
            ]

        return self._change(order_id, events)

    def reminders(self, *, since: datetime | None = None, limit: int = 500) -> list[tuple[str, Reminder]]:
        """Return the reminders due now across open orders (send the device, answer a revision, ...).

        Args:
            since: when the previous run was: reminders already due then are left out.
            limit: at most this many orders are looked at.

        Returns:
            ``(order id, reminder)`` pairs, for the shop's mailer or its staff.
        """
        now = self.clock.now()
        found: list[tuple[str, Reminder]] = []
        for record in self._port(OrderStore).orders_to_remind(now, limit=limit, **self._in_scope):
            order = order_from_document(record.document)
            found.extend(
                (order.id, reminder) for reminder in reminders_due(order, now, self.policy, since=since)
            )
        return found

    def erase_customer(self, customer_ref: str) -> int:
        """Erase a customer's personal data (payout details, contact data); orders and the audit chain stay.

        The IMEIs in the customer's quotes go too: each such quote is stored anew without it (amounts, lines
        and the rest unchanged), with a ``quote.redacted`` audit entry naming the new document's hash, so the
        record check of :meth:`verify_audit` holds and a later change is still found.

        Returns:
            How many records were erased (the quotes stored anew not counted).
        """
        facts = [AuditFact(actor=Actor.STAFF.value, action="customer.erased", subject=customer_ref)]
        redactions: dict[str, str] = {}
        for order in self.list_orders(customer_ref=customer_ref, limit=MAX_CUSTOMER_ORDERS):
            for device in order.devices:
                quote = self._order_quote(device.quote_id)
                if quote.device.imei is None or quote.id in redactions:
                    continue
                text = attrs.evolve(quote, device=attrs.evolve(quote.device, imei=None)).document_text()
                redactions[quote.id] = text
                facts.append(
                    AuditFact(
                        actor=Actor.STAFF.value,
                        action="quote.redacted",
                        subject=quote.id,
                        details={
                            "document": "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
                            "fields": ["device.imei"],
                        },
                    )
                )
        store = self._port(PersonalDataStore)
        return store.erase_personal_data(
            customer_ref, now=self.clock.now(), audit=facts, redactions=redactions, **self._in_scope
        )

    # -- reading -----------------------------------------------------------------------------------

    def list_orders(
        self, *, limit: int = 50, customer_ref: str | None = None, open_only: bool = False
    ) -> list[TradeInOrder]:
        """Return orders, newest first: for a staff list, a customer's "my orders" page or a report.

        Args:
            limit: at most this many orders (1 or more).
            customer_ref: only this customer's orders (the pseudonymous reference given to :meth:`accept`).
            open_only: only orders with a device that can still change.

        Returns:
            The orders, read in one query (no order is read twice).

        Raises:
            ValueError: ``limit`` is below 1.
            ConfigurationError: the store keeps no orders.
            StoreError: the store failed.
        """
        if limit < 1:
            raise ValueError(f"limit must be 1 or more, not {limit}")
        records = self._port(OrderStore).list_orders(
            limit=limit, customer_ref=customer_ref, open_only=open_only, **self._in_scope
        )
        return [order_from_document(record.document) for record in records]

    def orders_page(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        customer_ref: str | None = None,
        open_only: bool = False,
    ) -> OrderPage:
        """One page of orders, newest first, and the cursor of the next page (``None`` on the last).

        Pages stay stable while orders are added: a cursor names the last order of its page, and the next
        page starts after it.

        Args:
            limit: at most this many orders (1 to 1,000).
            cursor: the :attr:`OrderPage.next_cursor` of the previous page (``None``: the first page).
            customer_ref: only this customer's orders.
            open_only: only orders with a device that can still change.

        Raises:
            InvalidCursorError: the cursor was not made by this method.
            ValueError: ``limit`` is below 1 or above 1,000.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1 to {MAX_PAGE}, not {limit}")
        records = self._port(OrderStore).list_orders(
            limit=limit + 1,
            customer_ref=customer_ref,
            open_only=open_only,
            before=None if cursor is None else read_cursor(cursor),
            **self._in_scope,
        )
        page = records[:limit]
        more = len(records) > limit
        return OrderPage(
            orders=tuple(order_from_document(record.document) for record in page),
            next_cursor=make_cursor(page[-1].created_at, page[-1].order_id) if more and page else None,
        )

    def verify_audit(
        self,
        *,
        anchor: AuditAnchor | Iterable[AuditAnchor] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditVerification:
        """Check the audit log's hash chain from its first entry: nothing changed, removed or inserted.

        With the installation's checkpoints (:meth:`TradeIn.embedded` keeps them beside the data) the latest
        signed checkpoint is the anchor when none is given: every entry up to it must be there unchanged, and
        with the installation's keys every entry after it must carry the installation's seal (an entry
        appended around the library, with a hash recomputed to fit, is ``unsealed``).

        Args:
            anchor: the ``heads`` of an earlier verification, kept outside the database; each chain must still
                pass through its anchor, so a log cut back and rebuilt is found too.
            progress: called with (entries checked, entries in all) as the check goes: with
                :class:`SQLStore`, every 2,000 entries and once at the end, when the two are equal (the
                entries checked never decrease; entries appended meanwhile raise the total). For a progress
                bar on a long log; ``tradein audit verify`` draws one.

        Returns:
            Whether the chain holds, how many entries were checked, and each problem found.

        Raises:
            SignatureInvalidError: the latest checkpoint does not verify (changed, or signed by a key that
                is not published): it cannot vouch for anything.
            ConfigurationError: the store keeps no audit log.
            StoreError: the store failed.
        """
        if anchor is None:
            latest = self.latest_checkpoint()
            anchor = None if latest is None else latest.heads
        if progress is None:  # a store written before progress was a parameter still verifies
            return self._port(AuditLog).verify_audit(anchor=anchor)
        return self._port(AuditLog).verify_audit(anchor=anchor, progress=progress)

    def latest_checkpoint(self) -> AuditCheckpoint | None:
        """The latest signed audit checkpoint, its signature verified (``None``: none kept, or no keys).

        Raises:
            SignatureInvalidError: it does not verify.
        """
        from tradein_sdk._domain.checkpoints import read_checkpoint  # noqa: PLC0415 - loaded with the first check

        if self.checkpoints is None or self.signing_keys is None:
            return None
        text = self.checkpoints.latest()
        return None if text is None else read_checkpoint(text, self.signing_keys.public_keys())

    def export_audit(self, output: Path, *, format: str = "json") -> list[Path]:  # noqa: A002 - the CLI's word
        """Write the audit log for an auditor: every entry with its retention, the checkpoints, the keys.

        JSON: one document ``{"log", "jwks", "checkpoints", "entries"}``. CSV: the entries (``details`` as
        canonical JSON text) in ``output``, and ``{"jwks", "checkpoints"}`` beside it in
        ``<output>.checkpoints.json``. Each entry carries its retention class and the last day it must be
        kept (:mod:`tradein_sdk._domain.retention`). With the public keys alone an auditor verifies the
        checkpoints (``verify_document`` with purpose ``audit-checkpoint``) and the chain up to them.

        Args:
            output: the file to write (replaced).
            format: ``json`` or ``csv``.

        Returns:
            The files written.

        Raises:
            ValueError: ``format`` is neither.
            ConfigurationError: the store keeps no audit log, or a file cannot be written.
            StoreError: the store failed.
        """
        from tradein_sdk._domain.retention import retained_until, retention_of  # noqa: PLC0415 - loaded with the export

        if format not in {"json", "csv"}:
            raise ValueError(f"format must be json or csv, not {format!r}")
        checkpoints = [] if self.checkpoints is None else _kept_checkpoints(self.checkpoints)
        keys = None if self.signing_keys is None else self.signing_keys.jwks()

        def rows() -> Iterator[dict[str, Any]]:
            for entry in self._port(AuditLog).audit_entries():
                retention = retention_of(entry.action)
                yield {
                    "chain": entry.chain,
                    "sequence": entry.sequence,
                    "recorded_at": entry.recorded_at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "subject": entry.subject,
                    "details": entry.details,
                    "previous_hash": entry.previous_hash,
                    "entry_hash": entry.entry_hash,
                    "seal": entry.seal,
                    "retention": retention.value,
                    "retained_until": retained_until(entry.recorded_at, retention).isoformat(),
                }

        try:
            if format == "json":
                with output.open("w", encoding="utf-8") as file:
                    file.write('{"log": "tradein", "jwks": ' + json.dumps(keys) + ", ")
                    file.write(
                        '"checkpoints": ' + json.dumps(checkpoints, ensure_ascii=False) + ', "entries": ['
                    )
                    for index, row in enumerate(rows()):
                        file.write(("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False))
                    file.write("\n]}\n")
                return [output]
            sidecar = output.with_name(output.name + ".checkpoints.json")
            with output.open("w", encoding="utf-8", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=list(_EXPORT_COLUMNS))
                writer.writeheader()
                for row in rows():
                    writer.writerow({**row, "details": _canonical_text(row["details"])})
            sidecar.write_text(
                json.dumps({"jwks": keys, "checkpoints": checkpoints}, ensure_ascii=False), encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigurationError(
                "cannot write the audit export {path}: {reason}",
                path=str(output),
                reason=exc.strerror or type(exc).__name__,
            ) from exc
        return [output, sidecar]

    def checkpoint_audit(
        self, *, adopt: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> AuditVerification:
        """Verify the audit log against the latest checkpoint and, when it holds, keep a new signed one.

        Run it regularly (``tradein audit verify`` does): entries up to a checkpoint are proven by it whatever
        happens to the database later.

        Args:
            adopt: check the chain only, not the seals: for a log written before entries were sealed (once,
                after upgrading; from then on every entry is sealed).
            progress: called with (entries checked, entries in all) as the check goes, as for
                :meth:`verify_audit`.

        Returns:
            The verification; a checkpoint was kept when it is ``ok``.

        Raises:
            ConfigurationError: the facade has no signing keys or no place for checkpoints.
            SignatureInvalidError: the latest checkpoint does not verify.
            StoreError: the store failed.
        """
        from tradein_sdk._domain.checkpoints import sign_checkpoint  # noqa: PLC0415 - loaded with the first check

        if self.checkpoints is None or self.signing_keys is None:
            raise ConfigurationError("audit checkpoints need signing keys and a place to keep them")
        latest = self.latest_checkpoint()
        anchor = None if latest is None else latest.heads
        verification = (
            self._port(AuditLog).verify_audit(anchor=anchor, seals=not adopt)
            if progress is None  # a store written before progress was a parameter still verifies
            else self._port(AuditLog).verify_audit(anchor=anchor, seals=not adopt, progress=progress)
        )
        if verification.ok:
            now = self.clock.now()
            self.checkpoints.add(sign_checkpoint(verification, keys=self.signing_keys, now=now), at=now)
        return verification


def _due_events(order: TradeInOrder, now: datetime, policy: DeliveryPolicy) -> list[DeviceEvent]:
    """The events :func:`tick` would apply (with their deterministic ids)."""
    return list(due_actions(order, now, policy))


def personal_records(
    payout: PayoutDetails | None, contact: Mapping[str, str] | None, customer_ref: str
) -> tuple[PayoutRef | None, list[PersonalData]]:
    """The payout reference an order keeps, and the personal data to store apart under the customer."""
    records: list[PersonalData] = []
    reference = None
    if payout is not None:
        reference = payout_ref(payout, reference=f"pay_{uuid.uuid4().hex[:20]}")
        records.append(_payout_data(payout, reference, customer_ref))
    if contact:
        data = json.dumps(dict(contact), sort_keys=True)
        records.append(
            PersonalData(
                ref=f"con_{uuid.uuid4().hex[:20]}", kind="contact", subject_ref=customer_ref, data=data
            )
        )
    return reference, records


def _payout_data(details: PayoutDetails, reference: PayoutRef, customer_ref: str) -> PersonalData:

    data = {"method": reference.method.value, **json_converter().unstructure(details)}
    return PersonalData(
        ref=reference.reference,
        kind="payout",
        subject_ref=customer_ref,
        data=json.dumps(data, sort_keys=True),
    )


MAX_CUSTOMER_ORDERS = 1_000
"""How many of a customer's orders an erasure looks through for quotes with an IMEI."""

_EXPORT_COLUMNS = (
    "chain",
    "sequence",
    "recorded_at",
    "actor",
    "action",
    "subject",
    "details",
    "previous_hash",
    "entry_hash",
    "seal",
    "retention",
    "retained_until",
)


def _canonical_text(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _kept_checkpoints(checkpoints: CheckpointLog) -> list[Any]:
    """Every checkpoint kept, as kept (an auditor verifies them), oldest first."""
    return [json.loads(text) for text in checkpoints.all()]
