"""The forward trade-in use cases of :class:`~tradein_sdk.TradeIn`: offer, sell, read, exercise, liability.

A guarantee is sold with a new device: the offer is computed again here from the plan, the device and its
price (never taken from the caller), signed and stored with an audit entry of the terms accepted. Exercising
it records the decision once, by a conditional update in the store. The liability view reads the outstanding
contracts in batches, without their envelopes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from tradein_sdk._domain.identifiers import checked_text, parse_imei
from tradein_sdk._domain.ledger import guarantee_release
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, MismatchReason
from tradein_sdk._domain.tenancy import acting_actor
from tradein_sdk._errors import ConfigurationError, GuaranteeError
from tradein_sdk._ports import AuditFact, GuaranteeChange, GuaranteeRecord, GuaranteeStore, OrderStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.checkout import CheckoutRequest
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.guarantees import (
        GuaranteeConsent,
        GuaranteeContract,
        GuaranteeExercise,
        GuaranteeOffer,
        GuaranteePlans,
        InflowCalendar,
        InflowLine,
        Liability,
        OutstandingGuarantee,
        ResidualCurve,
    )
    from tradein_sdk._domain.ledger import LedgerEntry
    from tradein_sdk._domain.orders.inspection import InspectionDiff
    from tradein_sdk._domain.orders.model import DeliveryPolicy, TradeInOrder
    from tradein_sdk._domain.payouts import PayoutDetails
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import _Port


_BOUGHT: Final = frozenset({DeviceState.PAID, DeviceState.CREDITED, DeviceState.DISPOSED})


class GuaranteeUseCases:
    """The forward trade-in methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    catalog: Catalog
    audience: str
    organisation: str
    scope: Scope | None
    signing_keys: SigningKeys | None
    policy: DeliveryPolicy
    _guarantee_plans: GuaranteePlans | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _port(self, port: type[_Port]) -> _Port: ...
        def verify_token(self, token: str, *, audience: str | None = None) -> Any: ...  # noqa: ANN401
        def claimed_quote(self, claims: Any) -> Any: ...  # noqa: ANN401
        def _order_quote(self, quote_id: str) -> Any: ...  # noqa: ANN401

    @property
    def guarantee_plans(self) -> GuaranteePlans:
        """The buy-back guarantee plans offered (the bundled examples unless the facade was given others)."""
        from tradein_sdk._domain.guarantees import example_guarantee_plans  # noqa: PLC0415 - loads with the first call

        if self._guarantee_plans is None:
            self._guarantee_plans = example_guarantee_plans()
        return self._guarantee_plans

    def offer_guarantees(
        self,
        device_id: str,
        price: Money,
        *,
        purchased_on: dt.date | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
    ) -> tuple[GuaranteeOffer, ...]:
        """The guarantees a device being bought may have, each explained band by band.

        Args:
            device_id: the catalog variant (or model) being bought.
            price: its purchase price.
            purchased_on: the day of the purchase (default: today).
            channel: ``online`` or ``store``.
            customer_case: ``consumer`` or ``business``.
            financed_amount: the financed amount, for the carrier's upgrade plans.

        Raises:
            DeviceNotFoundError: the catalog has no such device.
            GuaranteeError: the price is in another currency than the plans.
        """
        from tradein_sdk._domain.guarantees import guarantee_offers  # noqa: PLC0415 - loads with the first call

        model = self.catalog.lookup(device_id).model
        return guarantee_offers(
            self.guarantee_plans,
            category=model.category.value,
            price=price,
            purchased_on=purchased_on or self.clock.now().date(),
            channel=channel,
            customer_case=customer_case,
            financed_amount=financed_amount,
        )

    def sell_guarantee(
        self,
        plan_id: str,
        device_id: str,
        price: Money,
        *,
        purchased_on: dt.date | None = None,
        imei: str | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        customer_ref: str | None = None,
        cost_centre: str | None = None,
    ) -> dict[str, Any]:
        """Sell a guarantee with a device (the customer accepted the plan's terms); the signed contract.

        The offer is computed again from the plan, the device and the price; the contract (id, device, price,
        schedule in money and dates, floor, window, terms version) is signed (Ed25519, purpose
        ``buyback-guarantee``) and stored, with an audit entry naming the terms accepted.

        Raises:
            GuaranteeError: the plan does not exist or does not cover this purchase (``not_eligible``).
            ConfigurationError: the facade has no signing keys.
        """
        purchased_on = purchased_on or self.clock.now().date()
        offers = self.offer_guarantees(
            device_id,
            price,
            purchased_on=purchased_on,
            channel=channel,
            customer_case=customer_case,
            financed_amount=financed_amount,
        )
        offer = next((offer for offer in offers if offer.plan_id == plan_id), None)
        if offer is None:
            self.guarantee_plans.plan(plan_id)  # an unknown plan is named as such
            raise GuaranteeError.not_eligible(plan_id)
        envelope, record, facts = self._new_contract(
            offer,
            device_id=device_id,
            imei=imei,
            purchased_on=purchased_on,
            customer_ref=customer_ref,
            cost_centre=cost_centre,
        )
        self._port(GuaranteeStore).add_guarantee(record, audit=facts)
        return envelope

    def _new_contract(
        self,
        offer: GuaranteeOffer,
        *,
        device_id: str,
        imei: str | None,
        purchased_on: dt.date,
        customer_ref: str | None,
        cost_centre: str | None,
        sold_order_id: str | None = None,
    ) -> tuple[dict[str, Any], GuaranteeRecord, list[AuditFact]]:
        """A contract made of an accepted offer: its signed envelope, its record and its audit entry.

        Raises:
            ConfigurationError: the facade has no signing keys.
            InvalidTextError: ``customer_ref`` or ``cost_centre`` is not short printable text.
            InvalidIMEIError: ``imei`` is not a valid IMEI.
        """
        from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE, contract_document, sell  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.signing import sign_document  # noqa: PLC0415 - cryptography loads with it

        if self.signing_keys is None:
            raise ConfigurationError("a guarantee contract is signed: give the facade signing_keys")
        if customer_ref is not None:
            checked_text(customer_ref, field="customer_ref", maximum=64)
        if cost_centre is not None:
            checked_text(cost_centre, field="cost_centre", maximum=120)
        if imei is not None:
            imei = parse_imei(imei).value
        contract = sell(
            offer,
            contract_id=f"gtc_{uuid.uuid4().hex[:24]}",
            device=device_id,
            imei=imei,
            purchased_on=purchased_on,
            sold_at=self.clock.now(),
        )
        envelope = sign_document(contract_document(contract), self.signing_keys, purpose=CONTRACT_PURPOSE)
        record = _record(
            contract,
            json.dumps(envelope),
            customer_ref=customer_ref,
            cost_centre=cost_centre,
            tenant=self.audience,
            organisation=self.organisation,
            sold_order_id=sold_order_id,
        )
        fact = AuditFact(
            actor=acting_actor(self.scope).value,
            action="guarantee.sold",
            subject=contract.id,
            details={
                "plan": offer.plan_id,
                "terms_version": offer.terms_version,
                "device": device_id,
                "price": offer.price.to_json(),
                "expires_on": offer.expires_on.isoformat(),
                "order": sold_order_id,
            },
        )
        return envelope, record, [fact]

    def _checkout_guarantee_offers(
        self, request: CheckoutRequest, today: dt.date
    ) -> tuple[GuaranteeOffer, ...]:
        """The buy-back guarantees a checkout's new device may have (none without its catalog id).

        A checkout's buyer is a consumer; a price in another currency than the plans gets no offer.

        Raises:
            DeviceNotFoundError: the catalog has no device with the new device's catalog id.
        """
        device = request.new_device
        if device.catalog_id is None or device.price.currency != self.guarantee_plans.currency:
            return ()
        return self.offer_guarantees(
            device.catalog_id,
            device.price,
            purchased_on=today,
            channel=request.channel.value,
            customer_case="consumer",
            financed_amount=request.financed_amount,
        )

    def guarantee(self, contract_id: str) -> GuaranteeContract:
        """A guarantee contract.

        Raises:
            GuaranteeNotFoundError: no contract in scope has that id.
        """
        from tradein_sdk._domain.guarantees import contract_from_document  # noqa: PLC0415 - loads with the first call

        return contract_from_document(self.guarantee_document(contract_id)["payload"])

    def guarantee_document(self, contract_id: str) -> dict[str, Any]:
        """A guarantee contract's signed envelope (what the customer verifies offline)."""
        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        document: dict[str, Any] = json.loads(record.document)
        return document

    def exercise_guarantee(
        self,
        contract_id: str,
        *,
        grade: str | None,
        locked: bool,
        market: Money,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
    ) -> GuaranteeExercise:
        """Exercise a guarantee once, on the clock's day, from the inspection of the returned device.

        Args:
            contract_id: the contract.
            grade: the pricing grade inspection found (``None``: a knockout applies).
            locked: inspection found an account lock on.
            market: the day's market quote for the device as inspected.
            outstanding_balance: what is still owed on the financed device (upgrade plans).
            new_contract: the customer signs the new contract an upgrade plan asks for.

        Raises:
            GuaranteeError: ``already_exercised`` (also by a concurrent call: nothing is written twice),
                ``not_yet_exercisable``, ``expired``, ``new_contract_required``.
            GuaranteeNotFoundError: no contract in scope has that id.
        """
        from tradein_sdk._domain.guarantees import contract_from_document, exercise  # noqa: PLC0415 - loads with the first call

        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        contract = contract_from_document(json.loads(record.document)["payload"])
        now = self.clock.now()
        done = exercise(
            contract,
            on=now.date(),
            grade=grade,
            locked=locked,
            market=market,
            exercised_before=record.exercised_at is not None,
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )
        if record.order_id is not None:
            raise GuaranteeError.already_exercised(contract_id)
        details = exercise_details(done)
        recorded = self._port(GuaranteeStore).record_exercise(
            contract_id,
            at=now,
            exercise=json.dumps(details),
            audit=[
                AuditFact(
                    actor=acting_actor(self.scope).value,
                    action="guarantee.exercised",
                    subject=contract_id,
                    details=details,
                )
            ],
            ledger=_release(record, contract, at=now, cause=f"exercise:{contract_id}", why="exercised"),
        )
        if not recorded:
            raise GuaranteeError.already_exercised(contract_id)
        return done

    def redeem_guarantee(
        self,
        contract_id: str,
        token: str,
        *,
        payout: PayoutDetails | None = None,
        contact: Mapping[str, str] | None = None,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        actor: Actor = Actor.SHOPPER,
    ) -> TradeInOrder:
        """Open the trade-in order that exercises a guarantee: the device comes back the normal way.

        The token is a quote for the device, today (the market quote). The order promises what the guarantee
        pays for the device as the customer declared it (the guaranteed amount of today's band when the
        declared grade meets the floor, the fallback otherwise; never below the quote; less the
        early-exercise fee where it applies); the inspection then decides on the device as found (the order's
        existing diff: a device below the floor is offered the fallback, or the market value when higher, as
        a revised offer). The contract is claimed by the order in the transaction that opens it, exercised
        in the one that pays the device, and free again if the device is not bought (declined, cancelled,
        sent back). The window is judged on the day the order opens.

        Args:
            contract_id: the contract.
            token: the quote token of the device being returned.
            payout: how the customer is paid (kept apart as personal data).
            contact: the customer's contact data, kept apart and erasable.
            outstanding_balance: what the customer still owes on the financed device (upgrade plans).
            new_contract: the customer signs the new contract an upgrade plan asks for.
            actor: who opens it (the customer online, or staff in a store).

        Returns:
            The order; its device's ``quoted`` is the guarantee's promise, ``guarantee`` names the contract.

        Raises:
            GuaranteeNotFoundError: no contract in scope has that id.
            GuaranteeError: ``already_exercised`` (exercised, or held by another order), ``expired``,
                ``not_yet_exercisable``, ``new_contract_required``, ``device_mismatch`` (the quote is for
                another device than the one the contract buys back).
            QuoteTokenError, QuoteAlreadyRedeemedError, QuoteExpiredError: the quote cannot back an order.
        """
        from tradein_sdk._app.ledger import ledger_fact  # noqa: PLC0415 - the ledger use cases import this module's peers
        from tradein_sdk._app.orders import _record as order_record  # noqa: PLC0415 - orders import the order machine
        from tradein_sdk._app.orders import personal_records  # noqa: PLC0415 - orders import the order machine
        from tradein_sdk._domain.guarantees import highest_guaranteed  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.ledger import opening_entries, order_terms  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.orders.model import GuaranteeClaim, open_order  # noqa: PLC0415 - loads with the first call

        now = self.clock.now()
        record, contract, quote, promise = self._promise(
            contract_id,
            token,
            on=now.date(),
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )
        customer_ref = record.customer_ref or f"cus_{uuid.uuid4().hex[:20]}"
        reference, personal = personal_records(payout, contact, customer_ref)
        order = open_order(order_id=f"ord_{uuid.uuid4().hex[:20]}", quotes=[quote], now=now, payout=reference)
        claim = GuaranteeClaim(
            contract_id=contract_id,
            sold_order_id=record.sold_order_id,
            contingent=highest_guaranteed(contract.offer) if record.sold_order_id else None,
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )
        device = attrs.evolve(order.devices[0], quoted=promise.amount, offer=promise.amount, guarantee=claim)
        order = attrs.evolve(order, devices=(device,))
        opening = opening_entries(order_terms(order), order_id=order.id, now=now)
        self._port(OrderStore).add_order(
            order_record(
                order,
                self.policy,
                customer_ref=customer_ref,
                tenant=self.audience,
                organisation=self.organisation,
            ),
            quote_ids=[quote.id],
            now=now,
            personal_data=personal,
            audit=[
                AuditFact(
                    actor=actor.value,
                    action="order.accepted",
                    subject=order.id,
                    details={
                        "devices": 1,
                        "quotes": [quote.id],
                        "customer": customer_ref,
                        "guarantee": contract_id,
                        "promised": promise.amount.to_json(),
                        "basis": promise.basis.value,
                    },
                ),
                ledger_fact(order.id, opening, actor=actor.value),
            ],
            ledger=opening,
            guarantee_changes=[
                GuaranteeChange(contract_id=contract_id, order_id=order.id, action="claim", at=now)
            ],
            **self._in_scope,
        )
        return order

    def guarantee_promise(
        self,
        contract_id: str,
        token: str,
        *,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
    ) -> GuaranteeExercise:
        """What :meth:`redeem_guarantee` would promise today for the device a quote token describes.

        Nothing is written: a shop shows it before the customer commits. The same checks apply (the contract
        in scope, not exercised or held, the window, the device, the new contract of an upgrade plan).

        Raises:
            GuaranteeNotFoundError, GuaranteeError, QuoteTokenError: as :meth:`redeem_guarantee`.
        """
        return self._promise(
            contract_id,
            token,
            on=self.clock.now().date(),
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )[3]

    def _promise(
        self,
        contract_id: str,
        token: str,
        *,
        on: dt.date,
        outstanding_balance: Money | None,
        new_contract: bool,
    ) -> tuple[GuaranteeRecord, GuaranteeContract, Quote, GuaranteeExercise]:
        """The contract, the quote (checked against its token) and the promise for the device as declared."""
        from tradein_sdk._domain.guarantees import as_declared, contract_from_document  # noqa: PLC0415 - loads with the first call

        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        contract = contract_from_document(json.loads(record.document)["payload"])
        if record.exercised_at is not None or record.order_id is not None:
            raise GuaranteeError.already_exercised(contract_id)
        claims = self.verify_token(token)
        quote: Quote = self.claimed_quote(claims).quote
        if contract.device not in {quote.device.variant_id, quote.device.model_id}:
            raise GuaranteeError.device_mismatch(contract_id, contract.device, quote.device.variant_id)
        promise = as_declared(
            contract,
            on=on,
            grade=quote.pricing_grade,
            quoted=quote.amount,
            outstanding_balance=outstanding_balance,
            new_contract=new_contract,
        )
        return record, contract, quote, promise

    def guarantee_consent(self, order_id: str) -> GuaranteeConsent | None:
        """The buy-back guarantee decision recorded at an order's checkout (``None``: none was offered).

        Its ``contract_id`` names the contract sold, when one was accepted.

        Raises:
            OrderNotFoundError: no order in scope has that id.
        """
        from tradein_sdk._domain.guarantees import GuaranteeConsent  # noqa: PLC0415 - loads with the first call

        self._port(OrderStore).get_order(order_id, **self._in_scope)
        stored = self._port(OrderStore).get_checkout(order_id)
        document = json.loads(stored) if stored else {}
        data = document.get("guarantee_consent")
        if not data:
            return None
        return GuaranteeConsent.from_json(data)

    def _guaranteed_diff(self, order: TradeInOrder, device_id: str, diff: InspectionDiff) -> InspectionDiff:
        """The inspection of a device exercising a guarantee: its offer is what the guarantee pays.

        The contract decides on the device as found (the inspection's grade and locks) on the day the order
        opened, against the inspected market value; the offer is never above what the order promised. A
        device without a guarantee keeps its diff.
        """
        device = order.device(device_id)
        claim = device.guarantee
        if claim is None:
            return diff
        from tradein_sdk._domain.guarantees import contract_from_document, promised_and_found  # noqa: PLC0415 - loads with the first call

        record = self._port(GuaranteeStore).get_guarantee(claim.contract_id)
        contract = contract_from_document(json.loads(record.document)["payload"])
        quote = self._order_quote(device.quote_id)
        _, offer = promised_and_found(
            contract,
            on=order.created_at.date(),
            declared=(quote.pricing_grade, quote.amount),
            found=(
                diff.valuation.pricing_grade,
                MismatchReason.LOCK_NOT_REMOVABLE in diff.mismatch,
                diff.inspected_value,
            ),
            outstanding_balance=claim.outstanding_balance,
            new_contract=claim.new_contract,
        )
        return attrs.evolve(diff, quoted=device.quoted, revised_offer=min(device.quoted, offer))

    def _guarantee_changes(
        self, before: TradeInOrder, after: TradeInOrder, *, now: dt.datetime, cause: str
    ) -> tuple[list[GuaranteeChange], list[LedgerEntry], list[AuditFact]]:
        from tradein_sdk._app.ledger import ledger_fact  # noqa: PLC0415 - the ledger use cases import this module's peers

        """What an order change does to the guarantees its devices exercise.

        A device bought (paid or credited) exercises its contract (with the amount its settlement paid) and
        releases the contingent liability in the ledger of the order that sold it; a device not bought frees
        its contract again.
        """
        from tradein_sdk._domain.ledger import not_bought  # noqa: PLC0415 - loads with the first call

        changes: list[GuaranteeChange] = []
        entries: list[LedgerEntry] = []
        facts: list[AuditFact] = []
        for old, new in zip(before.devices, after.devices, strict=True):
            claim = new.guarantee
            if claim is None or old.state is new.state:
                continue
            if new.state in _BOUGHT and old.state not in _BOUGHT:
                details = {
                    "order": after.id,
                    "device": new.id,
                    "amount": new.offer.to_json(),
                    "promised": new.quoted.to_json(),
                    "on": after.created_at.date().isoformat(),
                }
                changes.append(
                    GuaranteeChange(
                        contract_id=claim.contract_id,
                        order_id=after.id,
                        action="exercise",
                        at=now,
                        exercise=json.dumps(details),
                    )
                )
                facts.append(
                    AuditFact(
                        actor="system",
                        action="guarantee.exercised",
                        subject=claim.contract_id,
                        details=details,
                    )
                )
                if claim.sold_order_id is not None and claim.contingent is not None:
                    release = guarantee_release(
                        claim.contract_id,
                        sold_order_id=claim.sold_order_id,
                        amount=claim.contingent,
                        at=now,
                        cause=cause,
                        why="exercised",
                    )
                    entries.append(release)
                    facts.append(ledger_fact(claim.sold_order_id, [release], actor="system"))
            elif not_bought(new) and not not_bought(old):
                changes.append(
                    GuaranteeChange(
                        contract_id=claim.contract_id, order_id=after.id, action="release", at=now
                    )
                )
                facts.append(
                    AuditFact(
                        actor="system",
                        action="guarantee.released",
                        subject=claim.contract_id,
                        details={"order": after.id, "device": new.id, "state": new.state.value},
                    )
                )
        return changes, entries, facts

    def guarantee_calendar(self, customer_ref: str, *, as_of: dt.date | None = None) -> InflowCalendar:
        """A buyer's calendar of guaranteed inflows: each device's planned month, amount and cost centre.

        For a company, ``customer_ref`` is its account id (the guarantees sold with ``customer_ref`` set to
        it, each with the device's cost centre); the totals add up per month and cost centre.

        Args:
            customer_ref: the buyer.
            as_of: the day of the calendar (default: today).
        """
        from tradein_sdk._domain.guarantees import InflowCalendar  # noqa: PLC0415 - loads with the first call

        as_of = as_of or self.clock.now().date()
        lines = [
            _inflow(record, as_of)
            for record in self._port(GuaranteeStore).guarantees_of(customer_ref, **self._in_scope)
        ]
        lines.sort(key=lambda line: (line.month, line.cost_centre or "", line.contract_id))
        return InflowCalendar(
            customer_ref=customer_ref, as_of=as_of, currency=self.guarantee_plans.currency, lines=tuple(lines)
        )

    def guarantee_status(self, contract_id: str, *, as_of: dt.date | None = None) -> InflowLine:
        """Where a contract stands: open, in progress (with the order exercising it), exercised, or lapsed.

        Raises:
            GuaranteeNotFoundError: no contract in scope has that id.
        """
        record = self._port(GuaranteeStore).get_guarantee(contract_id, **self._in_scope)
        return _inflow(record, as_of or self.clock.now().date())

    def release_lapsed_guarantees(self, *, limit: int = 500) -> int:
        """Release the contingent liability of guarantees that expired unexercised; how many were released.

        Each lapsed contract sold at a checkout gets a ``guarantee_released`` entry in that order's ledger,
        once. The worker runs it with every deadline run; running it again changes nothing. A scoped facade
        releases its tenant's or organisation's contracts only.
        """
        from tradein_sdk._domain.guarantees import contract_from_document  # noqa: PLC0415 - loads with the first call

        store = self._port(GuaranteeStore)
        now = self.clock.now()
        released = 0
        for lapsed in store.lapsed_guarantees(on=now.date(), limit=limit, **self._in_scope):
            record = store.get_guarantee(lapsed.contract_id, **self._in_scope)
            contract = contract_from_document(json.loads(record.document)["payload"])
            done = store.close_guarantee(
                record.contract_id,
                at=now,
                ledger=_release(record, contract, at=now, cause="guarantees:lapsed", why="lapsed"),
                audit=[
                    AuditFact(
                        actor="system",
                        action="guarantee.lapsed",
                        subject=record.contract_id,
                        details={"expired_on": record.expires_on.isoformat()},
                    )
                ],
            )
            released += done
        return released

    def guarantee_liability(
        self, *, as_of: dt.date | None = None, currency: str | None = None, curve: ResidualCurve | None = None
    ) -> Liability:
        """The outstanding guarantees by month of expected exercise: guaranteed, market, cost, reserve.

        Args:
            as_of: the day of the view (default: today).
            currency: the contracts' currency (default: the plans').
            curve: the residual-value model (default: :class:`ResidualCurve`).
        """
        from tradein_sdk._domain.guarantees import liability_view  # noqa: PLC0415 - loads with the first call

        as_of = as_of or self.clock.now().date()
        currency = currency or self.guarantee_plans.currency
        held = (
            _outstanding(record)
            for record in self._port(GuaranteeStore).outstanding_guarantees(on=as_of, **self._in_scope)
        )
        return liability_view(held, as_of=as_of, currency=currency, curve=curve)


def _record(
    contract: GuaranteeContract,
    document: str,
    *,
    customer_ref: str | None,
    cost_centre: str | None,
    tenant: str | None,
    organisation: str | None,
    sold_order_id: str | None = None,
) -> GuaranteeRecord:
    """The store's record of a contract."""
    offer = contract.offer
    return GuaranteeRecord(
        contract_id=contract.id,
        plan_id=offer.plan_id,
        sold_at=contract.sold_at,
        purchased_on=contract.purchased_on,
        exercisable_from=offer.exercisable_from,
        expires_on=offer.expires_on,
        currency=contract.currency,
        price=offer.price.amount,
        schedule=json.dumps(
            [
                [line.starts_on.isoformat(), line.ends_on.isoformat(), str(line.amount.amount)]
                for line in offer.schedule
            ]
        ),
        kind=offer.kind.value,
        document=document,
        customer_ref=customer_ref,
        cost_centre=cost_centre,
        tenant=tenant,
        organisation=organisation,
        sold_order_id=sold_order_id,
    )


def _inflow(record: GuaranteeRecord, as_of: dt.date) -> InflowLine:
    """A stored contract's line of the buyer's calendar."""
    from tradein_sdk._domain.guarantees import contract_from_document, inflow_line  # noqa: PLC0415 - loads with the first call

    contract = contract_from_document(json.loads(record.document)["payload"])
    done = json.loads(record.exercise) if record.exercise else None
    return inflow_line(
        contract,
        cost_centre=record.cost_centre,
        as_of=as_of,
        order_id=record.order_id,
        received=Money.from_json(done["amount"]) if done else None,
        received_on=record.exercised_at.date() if record.exercised_at else None,
    )


def exercise_details(done: GuaranteeExercise) -> dict[str, Any]:
    """An exercise as the audit log and the contract's record keep it."""
    return {
        "amount": done.amount.to_json(),
        "basis": done.basis.value,
        "guaranteed": done.guaranteed.to_json(),
        "market": done.market.to_json(),
        "early_fee": done.early_fee.to_json(),
        "floor_met": done.floor_met,
        "reasons": list(done.reasons),
        "on": done.on.isoformat(),
    }


def _release(
    record: GuaranteeRecord, contract: GuaranteeContract, *, at: dt.datetime, cause: str, why: str
) -> list[LedgerEntry]:
    """The release of a contract's contingent liability, when a checkout's ledger carries it."""
    if record.sold_order_id is None:
        return []
    from tradein_sdk._domain.guarantees import highest_guaranteed  # noqa: PLC0415 - loads with the first call

    return [
        guarantee_release(
            contract.id,
            sold_order_id=record.sold_order_id,
            amount=highest_guaranteed(contract.offer),
            at=at,
            cause=cause,
            why=why,
        )
    ]


def _outstanding(record: GuaranteeRecord) -> OutstandingGuarantee:
    """The liability view's part of a stored contract, read from its columns (no envelope, no signature)."""
    from tradein_sdk._domain.guarantees import OutstandingGuarantee, PlanKind  # noqa: PLC0415 - loads with the first call

    return OutstandingGuarantee(
        purchased_on=record.purchased_on,
        exercisable_from=record.exercisable_from,
        expires_on=record.expires_on,
        price=Money(record.price, record.currency),
        kind=PlanKind(record.kind),
        schedule=tuple(
            (dt.date.fromisoformat(starts), dt.date.fromisoformat(ends), Decimal(amount))
            for starts, ends, amount in json.loads(record.schedule)
        ),
    )
