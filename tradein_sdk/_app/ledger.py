"""The ledger use cases of :class:`~tradein_sdk.TradeIn`: an order's ledger, bill-credit runs, reports.

Every order has a ledger (:mod:`tradein_sdk._domain.ledger`): opened when the order is opened, posted to
in the same transaction as every order change (:meth:`LedgerUseCases._posting`), so what the checkout
promised is carried, entry by entry, to what the order pays. The carrier's billing run lists and credits
the installments due for a period exactly once; a contract that ends stops the installments left.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.identifiers import checked_text
from tradein_sdk._domain.ledger import (
    Balance,
    EntryKind,
    LedgerEntry,
    LedgerTerms,
    Posting,
    balances,
    check_period,
    checkout_terms,
    device_balances,
    opening_entries,
    order_terms,
    reconcile,
    settle_installment,
    unsettled_installments,
)
from tradein_sdk._domain.ledger_report import LedgerReport, build_report
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import Actor
from tradein_sdk._domain.outcome import OrderOutcome, order_outcome
from tradein_sdk._domain.promotions import Purchase, TradedDevice, evaluate_promotions
from tradein_sdk._errors import ConcurrentUpdateError, InvalidPeriodError
from tradein_sdk._ports import AuditFact, Ledger, OrderStore, PromotionChange

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence  # noqa: TC004 - annotations only

    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.checkout import ClawbackPolicy
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.orders.model import TradeInOrder
    from tradein_sdk._domain.promotions import PromotionBook
    from tradein_sdk._domain.quotes import Quote

    _Port = TypeVar("_Port")

_ATTEMPTS = 8


@attrs.frozen(kw_only=True)
class OrderLedger:
    """One order's ledger and its balances.

    Attributes:
        order_id: the order.
        currency: the currency of every amount.
        entries: every entry, oldest first.
        total: the order's balance (promised, owed, paid, credited, clawed back, open, scheduled).
        devices: each device's balance.
        installments: the bill-credit installments not yet credited or stopped, first due first.
    """

    order_id: str
    currency: str
    entries: tuple[LedgerEntry, ...]
    total: Balance
    devices: Mapping[str, Balance]
    installments: tuple[LedgerEntry, ...]

    def to_json(self) -> dict[str, Any]:
        """The ledger as JSON (amounts as ``{"amount", "currency"}``)."""
        return {
            "order_id": self.order_id,
            "currency": self.currency,
            "total": balance_json(self.total),
            "devices": {device: balance_json(balance) for device, balance in self.devices.items()},
            "entries": [entry_json(entry) for entry in self.entries],
            "installments": [entry_json(entry) for entry in self.installments],
        }


def balance_json(balance: Balance) -> dict[str, Any]:
    """A balance as JSON, with its derived figures."""
    return {
        "promised": balance.promised.to_json(),
        "owed": balance.owed.to_json(),
        "revised": balance.revised.to_json(),
        "paid": balance.paid.to_json(),
        "credited": balance.credited.to_json(),
        "clawed_back": balance.clawed_back.to_json(),
        "open": balance.open.to_json(),
        "scheduled": balance.scheduled.to_json(),
        "charges": balance.charges.to_json(),
        "clawback_tax": balance.clawback_tax.to_json(),
    }


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as JSON."""
    return {
        "id": entry.entry_id,
        "device": entry.device_id,
        "kind": entry.kind.value,
        "group": entry.group.value,
        "amount": entry.amount.to_json(),
        "at": entry.at.isoformat(),
        "cause": entry.cause,
        "reason": entry.reason,
        "due_period": entry.due_period,
        "settles": entry.settles,
        "details": dict(entry.details),
    }


def ledger_fact(order_id: str, entries: Sequence[LedgerEntry], *, actor: str) -> AuditFact:
    """The audit entry that puts a posting into the audit chain: each entry's id, kind and amount."""
    return AuditFact(
        actor=actor,
        action="ledger.posted",
        subject=order_id,
        details={
            "entries": [
                [entry.entry_id, entry.device_id, entry.kind.value, format(entry.amount.amount, "f")]
                for entry in entries
            ],
            "currency": entries[0].amount.currency if entries else None,
        },
    )


class LedgerUseCases:
    """The ledger methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    catalog: Catalog
    promotions: PromotionBook | None
    clawback_policy: ClawbackPolicy

    if TYPE_CHECKING:

        def _port(self, port: type[_Port]) -> _Port: ...
        def get_quote(self, quote_id: str) -> Any: ...  # noqa: ANN401
        def order(self, order_id: str) -> TradeInOrder: ...

    # -- terms and posting -------------------------------------------------------------------------

    def _ledger_terms(self, order: TradeInOrder) -> tuple[LedgerTerms, Mapping[str, Any] | None]:
        """The terms the order's ledger is kept against, and its stored checkout (``None`` without one)."""
        stored = self._port(OrderStore).get_checkout(order.id)
        if stored is None:
            return order_terms(order), None
        document = json.loads(stored)
        if "ledger_terms" in document:
            return json_converter().structure(document["ledger_terms"], LedgerTerms), document
        from tradein_sdk._domain.checkout import CheckoutSummary  # noqa: PLC0415 - a checkout kept before the ledger

        summary = CheckoutSummary.from_json(document["summary"])
        return checkout_terms(summary, self.clawback_policy), document

    def _posting(
        self, before: TradeInOrder, after: TradeInOrder, *, now: datetime, cause: str
    ) -> tuple[Posting, list[AuditFact]]:
        """What an order change posts to its ledger, with the audit entry that chains it."""
        terms, checkout = self._ledger_terms(after)
        entries = self._port(Ledger).ledger_entries(after.id)
        opening: list[LedgerEntry] = []
        if not entries:  # an order opened before the ledger existed: open it as it was promised
            opening = opening_entries(terms, order_id=after.id, now=now)
            if before is not after:
                opened = reconcile(opening, before, terms, now=now, cause=f"{cause}:before")
                opening += list(opened.entries)
        posting = reconcile(
            [*entries, *opening],
            after,
            terms,
            now=now,
            cause=cause,
            eligible=self._still_eligible(after, terms, checkout),
        )
        posting = attrs.evolve(posting, entries=(*opening, *posting.entries))
        if not posting.entries:
            return posting, []
        return posting, [ledger_fact(after.id, posting.entries, actor=Actor.SYSTEM.value)]

    def _still_eligible(
        self, order: TradeInOrder, terms: LedgerTerms, checkout: Mapping[str, Any] | None
    ) -> dict[str, dict[str, Money]]:
        """For each inspected device with promotions: what each of them would add to the inspected device.

        The promotions are evaluated as at the checkout (its date, purchase, channel and customer case),
        with the inspected pricing grade and the revised offer, budgets aside (the share is reserved).
        """
        if self.promotions is None or checkout is None:
            return {}
        request = checkout["summary"]["request"]
        from tradein_sdk._domain.checkout import CheckoutRequest  # noqa: PLC0415 - only with promotions

        checkout_request = json_converter().structure(request, CheckoutRequest)
        day = datetime.fromisoformat(checkout["summary"]["created_at"]).date()
        result: dict[str, dict[str, Money]] = {}
        for device in order.devices:
            device_terms = terms.device(device.id)
            if device.inspection is None or device_terms is None or not device_terms.promotions:
                continue
            quote: Quote = self.get_quote(device.quote_id).quote
            # the share is reserved already: its budget and redemption limits do not apply again
            known = {
                promotion.id: attrs.evolve(promotion, budget=None, max_redemptions=None)
                for promotion in self.promotions.promotions
            }
            wanted = [known[pid] for pid, _ in device_terms.promotions if pid in known]
            kept = {pid: share for pid, share in device_terms.promotions if pid not in known}
            grade = device.inspection.pricing_grade or None
            if device.inspection.pricing_grade is None and device.inspection.offer == device.quoted:
                grade = quote.pricing_grade
            new = checkout_request.new_device
            outcome = evaluate_promotions(
                attrs.evolve(self.promotions, promotions=tuple(wanted)),
                traded=TradedDevice.from_model(
                    self.catalog.model(quote.device.model_id), grade=grade, quoted=device.offer
                ),
                purchase=Purchase(sku=new.sku, brand=new.brand, category=new.category, price=new.price),
                channel=checkout_request.channel,
                customer_case=checkout_request.customer_case,
                today=day,
                spent={},
            )
            result[device.id] = {**kept, **{item.promotion_id: item.boost for item in outcome.applied}}
        return result

    # -- reading -----------------------------------------------------------------------------------

    def ledger(self, order_id: str) -> OrderLedger:
        """Return an order's ledger: every entry and the balances they net to.

        Raises:
            OrderNotFoundError: no order has that id.
        """
        order = self.order(order_id)
        entries = tuple(self._port(Ledger).ledger_entries(order_id))
        return OrderLedger(
            order_id=order_id,
            currency=order.currency,
            entries=entries,
            total=balances(entries, order.currency),
            devices=device_balances(entries, order.currency),
            installments=tuple(unsettled_installments(entries)),
        )

    def order_outcome(self, order_id: str) -> OrderOutcome:
        """What an order comes to, netted from its ledger (see :func:`~tradein_sdk.order_outcome`).

        Raises:
            OrderNotFoundError: no order has that id.
        """
        return order_outcome(self.order(order_id), self._port(Ledger).ledger_entries(order_id))

    def clawbacks(self, order_id: str) -> dict[str, Money]:
        """What is charged back for each device of an order, as its ledger says.

        The clawbacks (net of refunds) and the tax the clawback policy adds: the same figure as
        ``order_outcome(order, ledger).devices[i].clawback``.

        Returns:
            Device id → amount (zero where nothing is owed back).

        Raises:
            OrderNotFoundError: no order has that id.
        """
        ledger = self.ledger(order_id)
        zero = Money.zero(ledger.currency)
        order = self.order(order_id)
        return {
            device.id: ledger.devices[device.id].charged_back if device.id in ledger.devices else zero
            for device in order.devices
        }

    def ledger_report(self, start: date, end: date) -> LedgerReport:
        """The shop's ledger over the days ``[start, end)``, with totals that tie out.

        What was promised, revised, paid, credited and clawed back, the open liabilities at both ends and
        each promotion's spend against its budget.

        Args:
            start: the first day (UTC).
            end: the day after the last.

        Raises:
            InvalidPeriodError: ``end`` is not after ``start``.
        """
        if end <= start:
            raise InvalidPeriodError(f"{start.isoformat()}..{end.isoformat()}")
        start_at = datetime.combine(start, time(), tzinfo=UTC)
        end_at = datetime.combine(end, time(), tzinfo=UTC)
        ledger = self._port(Ledger)
        budgets = {} if self.promotions is None else {p.id: p.budget for p in self.promotions.promotions}
        return build_report(
            start=start,
            end=end,
            before=ledger.ledger_sums(start=None, end=start_at),
            during=ledger.ledger_sums(start=start_at, end=end_at),
            budgets=budgets,
        )

    # -- bill credits ------------------------------------------------------------------------------

    def installments_due(
        self, period: str, *, limit: int = 1000, after: int = 0
    ) -> list[tuple[int, LedgerEntry]]:
        """The bill-credit installments due up to a billing period and not yet credited or stopped.

        Args:
            period: the billing period, ``YYYY-MM``.
            limit: the most to return.
            after: the position of the last one of the previous page.

        Returns:
            ``(position, installment)`` pairs, in posting order.

        Raises:
            InvalidPeriodError: ``period`` is not ``YYYY-MM``.
        """
        return self._port(Ledger).installments_due(_period(period), limit=limit, after=after)

    def credit_installments(self, period: str, *, run_id: str | None = None) -> tuple[int, dict[str, Money]]:
        """Credit every installment due up to a billing period, each exactly once (a carrier's billing run).

        Running it again for the same period credits nothing more; a run interrupted before its commit
        credited nothing. One audit entry records the run (its id, count and totals).

        Args:
            period: the billing period, ``YYYY-MM``.
            run_id: the billing run's id (made when omitted).

        Returns:
            How many installments were credited and their total per currency.

        Raises:
            InvalidPeriodError: ``period`` is not ``YYYY-MM``.
        """
        period = _period(period)
        cause = run_id or f"bill_{period}_{uuid.uuid4().hex[:12]}"
        fact = AuditFact(
            actor=Actor.SYSTEM.value,
            action="ledger.installments_credited",
            subject=cause,
            details={"period": period},
        )
        for _ in range(_ATTEMPTS):
            try:
                return self._port(Ledger).credit_installments(
                    period, now=self.clock.now(), cause=cause, audit=fact
                )
            except ConcurrentUpdateError:
                continue
        raise ConcurrentUpdateError(cause)

    def stop_installments(
        self, order_id: str, *, reason: str, device_id: str | None = None
    ) -> list[LedgerEntry]:
        """Stop the installments not yet credited (the contract ended, the device came back).

        The terms then owe what was credited so far; each installment is stopped at most once (one
        credited meanwhile by a billing run stays credited).

        Args:
            order_id: the order.
            reason: why (``contract_ended``, ``device_returned``, ...); no personal data.
            device_id: only this device's installments.

        Returns:
            The entries posted.

        Raises:
            OrderNotFoundError: no order has that id.
        """
        checked_text(reason, field="reason", maximum=120)
        self.order(order_id)  # raises when there is no such order
        entries = self._port(Ledger).ledger_entries(order_id)
        now = self.clock.now()
        stops = [
            settle_installment(
                item, kind=EntryKind.INSTALLMENT_STOPPED, now=now, cause=f"stop:{reason}", reason=reason
            )
            for item in unsettled_installments(entries)
            if device_id is None or item.device_id == device_id
        ]
        if stops:
            self._port(Ledger).append_ledger(
                stops, now=now, audit=[ledger_fact(order_id, stops, actor=Actor.STAFF.value)]
            )
        return stops


def _period(period: str) -> str:
    try:
        return check_period(period)
    except ValueError:
        raise InvalidPeriodError(period) from None


def promotion_changes(posting: Posting) -> list[PromotionChange]:
    """The promotion budget changes of a posting, for the store."""
    return [
        PromotionChange(
            promotion_id=promotion_id,
            amount=amount,
            redemptions=posting.redemption_changes.get(promotion_id, 0),
        )
        for promotion_id, amount in posting.budget_changes.items()
    ]


def terms_document(terms: LedgerTerms) -> object:
    """The terms as JSON, stored with the checkout."""
    return json_converter().unstructure(terms)
