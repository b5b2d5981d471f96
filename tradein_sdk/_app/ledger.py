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
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.promotions import PromotionBook
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.tenancy import Scope

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
        "contingent": balance.contingent.to_json(),
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
    scope: Scope | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _order_quote(self, quote_id: str) -> Quote: ...

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
    ) -> tuple[TradeInOrder, Posting, list[AuditFact]]:
        """What an order change posts to its ledger, with the audit entry that chains it.

        A device inspected by this change has its promotions judged first (see :meth:`_judge_promotions`);
        the order returned carries that judgement and is the one to save.
        """
        terms, checkout = self._ledger_terms(after)
        after = self._judge_promotions(before, after, terms, checkout)
        entries = self._port(Ledger).ledger_entries(after.id)
        opening: list[LedgerEntry] = []
        budget: dict[str, Money] = {}
        redemptions: dict[str, int] = {}
        if not entries:  # an order opened before the ledger existed: open it as it stood before the change
            opening = opening_entries(terms, order_id=after.id, now=now)
            if before is not after:
                opened = reconcile(opening, before, terms, now=now, cause=f"{cause}:before")
                opening += list(opened.entries)
                budget, redemptions = dict(opened.budget_changes), dict(opened.redemption_changes)
        posting = reconcile([*entries, *opening], after, terms, now=now, cause=cause)
        for promotion_id, amount in posting.budget_changes.items():
            budget[promotion_id] = budget[promotion_id] + amount if promotion_id in budget else amount
        for promotion_id, count in posting.redemption_changes.items():
            redemptions[promotion_id] = redemptions.get(promotion_id, 0) + count
        posting = Posting(
            entries=(*opening, *posting.entries), budget_changes=budget, redemption_changes=redemptions
        )
        if not posting.entries:
            return after, posting, []
        return after, posting, [ledger_fact(after.id, posting.entries, actor=Actor.SYSTEM.value)]

    def _judge_promotions(
        self,
        before: TradeInOrder,
        after: TradeInOrder,
        terms: LedgerTerms,
        checkout: Mapping[str, Any] | None,
    ) -> TradeInOrder:
        """Judge, once, what each checkout promotion still adds to each device this change inspected.

        The promotions are evaluated as at the checkout (its date, purchase, channel and customer case),
        with the inspected pricing grade and the revised offer, their budgets aside (the share is reserved
        already); a promotion the shop no longer has keeps its checkout share. The judgement is kept on the
        inspection (``InspectionResult.promotions``), so later changes of the promotions document never
        change what an inspected order pays.
        """
        if self.promotions is None or checkout is None:
            return after
        judged = []
        for device in after.devices:
            device_terms = terms.device(device.id)
            inspection = device.inspection
            earlier = before.device(device.id).inspection
            if (
                inspection is None
                or inspection == earlier
                or inspection.promotions is not None
                or device_terms is None
                or not device_terms.promotions
            ):
                judged.append(device)
                continue
            boosts = self._boosts_as_inspected(device, device_terms.promotions, checkout)
            judged.append(attrs.evolve(device, inspection=attrs.evolve(inspection, promotions=boosts)))
        return attrs.evolve(after, devices=tuple(judged))

    def _boosts_as_inspected(
        self, device: OrderDevice, promised: Sequence[tuple[str, Money]], checkout: Mapping[str, Any]
    ) -> dict[str, Money]:
        """Promotion id → what it adds to the device as inspected, evaluated as at the checkout."""
        from tradein_sdk._domain.checkout import CheckoutRequest  # noqa: PLC0415 - only with promotions

        assert self.promotions is not None  # noqa: S101 - checked by the caller
        assert device.inspection is not None  # noqa: S101 - checked by the caller
        request = json_converter().structure(checkout["summary"]["request"], CheckoutRequest)
        day = datetime.fromisoformat(checkout["summary"]["created_at"]).date()
        quote: Quote = self._order_quote(device.quote_id)
        known = {
            promotion.id: attrs.evolve(promotion, budget=None, max_redemptions=None)
            for promotion in self.promotions.promotions
        }
        grade = device.inspection.pricing_grade
        new = request.new_device
        outcome = evaluate_promotions(
            attrs.evolve(
                self.promotions, promotions=tuple(known[pid] for pid, _ in promised if pid in known)
            ),
            traded=TradedDevice.from_model(
                self.catalog.model(quote.device.model_id), grade=grade, quoted=device.offer
            ),
            purchase=Purchase(sku=new.sku, brand=new.brand, category=new.category, price=new.price),
            channel=request.channel,
            customer_case=request.customer_case,
            today=day,
            spent={},
        )
        applied = {item.promotion_id: item.boost for item in outcome.applied}
        zero = Money.zero(device.quoted.currency)
        return {pid: min(share, applied.get(pid, zero)) if pid in known else share for pid, share in promised}

    # -- reading -----------------------------------------------------------------------------------

    def ledger(self, order_id: str) -> OrderLedger:
        """Return an order's ledger: every entry and the balances they net to.

        Raises:
            OrderNotFoundError: no order has that id.
        """
        return self._ledger_of(self.order(order_id))

    def _ledger_of(self, order: TradeInOrder) -> OrderLedger:
        entries = tuple(self._port(Ledger).ledger_entries(order.id))
        return OrderLedger(
            order_id=order.id,
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
        order = self.order(order_id)
        ledger = self._ledger_of(order)
        zero = Money.zero(ledger.currency)
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
            raise InvalidPeriodError(f"{start.isoformat()}..{end.isoformat()}", rule="range")
        start_at = datetime.combine(start, time(), tzinfo=UTC)
        end_at = datetime.combine(end, time(), tzinfo=UTC)
        ledger = self._port(Ledger)
        budgets = {} if self.promotions is None else {p.id: p.budget for p in self.promotions.promotions}
        return build_report(
            start=start,
            end=end,
            before=ledger.ledger_sums(start=None, end=start_at, **self._in_scope),
            during=ledger.ledger_sums(start=start_at, end=end_at, **self._in_scope),
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
        return self._port(Ledger).installments_due(
            _period(period), limit=limit, after=after, **self._in_scope
        )

    def credit_installments(
        self, period: str, *, run_id: str | None = None, ids: Sequence[str] | None = None
    ) -> tuple[int, dict[str, Money]]:
        """Credit the installments due up to a billing period, each exactly once (a carrier's billing run).

        A carrier lists what is due (:meth:`installments_due`), bills it, and credits what it billed by
        passing those ``ids``; without ``ids`` every installment due up to ``period`` is credited. Running it
        again credits nothing more (an id credited or stopped meanwhile is skipped), and a run id used before
        credits nothing; a run interrupted before its commit credited nothing. One audit entry records the run
        (its id, period, count and totals).

        Args:
            period: the billing period, ``YYYY-MM`` (a carrier may bill ahead, so it is not checked against
                the clock: pass ``ids`` to credit exactly what was billed).
            run_id: the billing run's id (made when omitted), at most 100 printable characters.
            ids: the installments (``installment_due`` entry ids) the carrier billed.

        Returns:
            How many installments were credited and their total per currency.

        Raises:
            InvalidPeriodError: ``period`` is not ``YYYY-MM``.
            InvalidTextError: ``run_id`` is not printable text of at most 100 characters.
        """
        period = _period(period)
        cause = (
            checked_text(run_id, field="run_id", maximum=100)
            if run_id
            else f"bill_{period}_{uuid.uuid4().hex[:12]}"
        )
        if self.scope is not None:  # a run id is the organisation's own: another's same id is another run
            cause = f"{self.scope.organisation}/{cause}"
        fact = AuditFact(
            actor=Actor.SYSTEM.value,
            action="ledger.installments_credited",
            subject=cause,
            details={"period": period},
        )
        for _ in range(_ATTEMPTS):
            try:
                return self._port(Ledger).credit_installments(
                    period, now=self.clock.now(), cause=cause, audit=fact, ids=ids, **self._in_scope
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
        if not stops:
            return []
        return self._port(Ledger).append_ledger(
            stops, now=now, audit=lambda posted: [ledger_fact(order_id, posted, actor=Actor.STAFF.value)]
        )


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
