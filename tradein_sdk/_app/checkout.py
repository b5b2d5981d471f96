"""The checkout use cases of :class:`~tradein_sdk.TradeIn`: offers, a signed summary, confirmation, clawbacks.

A summary is computed from a :class:`CheckoutRequest` and the stored quotes, signed with the shop's key
ring, and shown. On confirm the signature is checked and the summary is computed again from the request;
if anything differs (a quote used meanwhile, a promotion ended or used up), the confirmation is refused with
:class:`CheckoutChangedError` and nothing is written. Otherwise the quotes are claimed exactly once, the
promotions' budgets reserved, the order opened and the summary (with its clawback terms and the insurance
decision) stored, all in one transaction.

A checkout without a trade-in (a new device bought outright) takes the same path: its order has no devices
(:func:`~tradein_sdk._domain.orders.model.open_purchase_order`), and the summary, the protection and
guarantee decisions, the guarantee contract and the order's ledger (premium, contingent liability) are
stored with it in the same one transaction. A summary is confirmed once: the store refuses its id a second
time (:class:`CheckoutChangedError`), so a repeated confirm never opens a second order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from tradein_sdk._app.ledger import ledger_fact, terms_document
from tradein_sdk._app.orders import MAX_CUSTOMER_REF_LENGTH, _record, personal_records
from tradein_sdk._domain.checkout import (
    CheckoutRequest,
    CheckoutSummary,
    ClawbackPolicy,
    CreditTiming,
    build_checkout,
    check_summary_signature,
    sign_summary,
)
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.guarantees import GuaranteeConsent, highest_guaranteed
from tradein_sdk._domain.identifiers import checked_text
from tradein_sdk._domain.insurance import ConsentDecision, InsuranceConsent, record_consent
from tradein_sdk._domain.ledger import checkout_terms, opening_entries
from tradein_sdk._domain.orders.model import TradeInOrder, open_order, open_purchase_order
from tradein_sdk._domain.orders.vocabulary import Actor
from tradein_sdk._domain.promotions import (
    PromotionOutcome,
    PromotionUsage,
    Purchase,
    TradedDevice,
    evaluate_promotions,
)
from tradein_sdk._domain.tenancy import acting_actor
from tradein_sdk._errors import CheckoutChangedError, QuoteAlreadyRedeemedError, QuoteExpiredError
from tradein_sdk._ports import (
    AuditFact,
    CheckoutRecord,
    OrderStore,
    PromotionBudgets,
    PromotionUse,
    QuoteStore,
)

if TYPE_CHECKING:
    from datetime import date, datetime

    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.guarantees import GuaranteeOffer
    from tradein_sdk._domain.insurance import InsuranceOffer
    from tradein_sdk._domain.orders.model import DeliveryPolicy
    from tradein_sdk._domain.payouts import PayoutDetails
    from tradein_sdk._domain.promotions import PromotionBook
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._domain.tokens import KeyRing
    from tradein_sdk._ports import GuaranteeRecord, InsuranceOfferSource

    _Port = TypeVar("_Port")

SUMMARY_VALIDITY = timedelta(minutes=30)
"""How long a shown summary may be confirmed."""


@attrs.frozen(kw_only=True)
class ConfirmedCheckout:
    """A confirmed checkout.

    Attributes:
        order: the order opened for the traded devices; without a trade-in, an order without devices
            (closed from the start) that the purchase's record, ledger and guarantee belong to.
        summary: the summary the shopper confirmed.
        consent: the protection decision recorded (accepted or declined), when offers were shown.
        guarantee: the signed buy-back guarantee contract (the envelope the customer verifies offline),
            when one was accepted.
        guarantee_consent: the buy-back guarantee decision recorded, when guarantees were shown.
    """

    order: TradeInOrder
    summary: CheckoutSummary
    consent: InsuranceConsent | None
    guarantee: Mapping[str, Any] | None = None
    guarantee_consent: GuaranteeConsent | None = None


class CheckoutUseCases:
    """The checkout methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    _store: QuoteStore
    clock: Clock
    key_ring: KeyRing
    catalog: Catalog
    policy: DeliveryPolicy
    promotions: PromotionBook | None
    insurance: InsuranceOfferSource
    clawback_policy: ClawbackPolicy
    audience: str
    organisation: str
    scope: Scope | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _order_quote(self, quote_id: str) -> Quote: ...
        def _checkout_guarantee_offers(
            self, request: CheckoutRequest, today: date
        ) -> tuple[GuaranteeOffer, ...]: ...
        def _new_contract(
            self,
            offer: GuaranteeOffer,
            *,
            device_id: str,
            imei: str | None,
            purchased_on: date,
            customer_ref: str | None,
            cost_centre: str | None,
            sold_order_id: str | None = None,
        ) -> tuple[dict[str, Any], GuaranteeRecord, list[AuditFact]]: ...

        def get_quote(self, quote_id: str) -> Any: ...  # noqa: ANN401
        def _port(self, port: type[_Port]) -> _Port: ...

    def insurance_offers(self, request: CheckoutRequest) -> tuple[InsuranceOffer, ...]:
        """The protection offers for the new device of a checkout (bundle discount when trading in)."""
        today = self.clock.now().date()
        return self.insurance.offers(
            category=DeviceCategory(request.new_device.device_category),
            device_price=request.new_device.price,
            condition=request.new_device.condition,
            country=request.country,
            purchased_on=today,
            today=today,
            with_trade_in=bool(request.quote_ids),
        )

    def checkout(self, request: CheckoutRequest) -> CheckoutSummary:
        """Compute and sign the checkout summary the shopper sees before committing.

        Args:
            request: what the shopper chose (quote ids, the new device, credit timing and plan, protection);
                no quote ids for a new device bought outright.

        Returns:
            The signed summary; render ``summary.describe(locale)`` and ``summary.clawback.describe(locale)``.

        Raises:
            CheckoutInvalidError: the request does not hold together.
            QuoteNotFoundError: a quote does not exist.
            QuoteAlreadyRedeemedError: a quote backs another order already.
            QuoteExpiredError: a quote's validity ended.
            CurrencyMismatchError: the quotes and the price are in different currencies.
        """
        now = self.clock.now()
        return self._sign(self._compute(request, checkout_id=f"chk_{uuid.uuid4().hex[:20]}", now=now))

    def _open_quotes(self, request: CheckoutRequest, now: datetime) -> list[Quote]:
        """The stored quotes of a checkout, each still unredeemed and valid at ``now``."""
        quotes = []
        for quote_id in request.quote_ids:
            stored = self.get_quote(quote_id)
            if stored.redemption is not None:
                raise QuoteAlreadyRedeemedError(quote_id)
            if stored.quote.expires_at <= now:
                raise QuoteExpiredError(quote_id)
            quotes.append(stored.quote)
        return quotes

    def _compute(
        self, request: CheckoutRequest, *, checkout_id: str, now: datetime, quotes: list[Quote] | None = None
    ) -> CheckoutSummary:
        request.check()  # before anything reads the request (the protection offers read its device category)
        quotes = self._open_quotes(request, now) if quotes is None else quotes
        spent = self._promotion_spend()
        return build_checkout(
            request,
            checkout_id=checkout_id,
            now=now,
            quotes=quotes,
            promotions=self._promotions_per_device(quotes, request, now, spent),
            insurance_offers=self.insurance_offers(request),
            clawback=self.clawback_policy,
            send_by_days=self.policy.send_window.days,
            guarantee_offers=self._checkout_guarantee_offers(request, now.date()),
        )

    def _promotion_spend(self) -> Mapping[str, PromotionUsage]:
        """What each promotion has used so far, read once per summary (none without promotions)."""
        if self.promotions is None:
            return {}
        return {
            key: PromotionUsage(redemptions=count, spent=amount)
            for key, (count, amount) in self._port(PromotionBudgets).promotion_usage().items()
        }

    def _promotions_per_device(
        self,
        quotes: list[Quote],
        request: CheckoutRequest,
        now: datetime,
        spent: Mapping[str, PromotionUsage],
    ) -> list[tuple[Any, Any]]:
        """The promotions of each device in quote order, each device counting what the ones before it use.

        A budget or a redemption limit is shared by the devices of one checkout: the second device is only
        offered what is left after the first, so a summary never promises more than the budget holds.
        """
        result: list[tuple[Any, Any]] = []
        for quote in quotes:
            outcome = self._promotions_for(quote, request, now, spent)
            if outcome is None:
                result.append(((), ()))
                continue
            result.append((outcome.applied, outcome.rejected))
            spent = outcome.spent_after(spent)
        return result

    def _promotions_for(
        self, quote: Quote, request: CheckoutRequest, now: datetime, spent: Mapping[str, PromotionUsage]
    ) -> PromotionOutcome | None:
        if self.promotions is None:
            return None
        model = self.catalog.model(quote.device.model_id)
        device = request.new_device
        return evaluate_promotions(
            self.promotions,
            traded=TradedDevice.from_model(model, grade=quote.pricing_grade, quoted=quote.amount),
            purchase=Purchase(
                sku=device.sku, brand=device.brand, category=device.category, price=device.price
            ),
            channel=request.channel,
            customer_case=request.customer_case,
            today=now.date(),
            spent=spent,
        )

    def _sign(self, summary: CheckoutSummary) -> CheckoutSummary:
        return sign_summary(summary, self.key_ring)

    def verify_checkout(self, summary: CheckoutSummary) -> None:
        """Check that a summary is one this shop signed, unchanged, and still recent enough to confirm.

        Raises:
            CheckoutChangedError: the signature does not match (an amount or choice was altered), or the
                summary is older than 30 minutes.
        """
        check_summary_signature(summary, self.key_ring)
        if self.clock.now() - summary.created_at > SUMMARY_VALIDITY:
            raise CheckoutChangedError("the checkout summary has expired; show a new one")

    def confirm_checkout(
        self,
        summary: CheckoutSummary,
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        insurance_accepted: bool = False,
        guarantee_accepted: bool = False,
        actor: Actor = Actor.SHOPPER,
    ) -> ConfirmedCheckout:
        """Confirm a summary the shopper accepted: verify it, recompute it, and commit it in one transaction.

        Args:
            summary: the signed summary as shown.
            payout: how a deferred credit or a remainder is paid (kept apart as personal data).
            customer_ref: the shop's pseudonymous customer id (a new one is made when omitted).
            contact: the shopper's contact data, kept apart and erasable.
            insurance_accepted: the shopper ticked the consent box for ``summary.insurance``; when offers
                were shown and this is false, the opt-out is recorded.
            guarantee_accepted: the shopper accepted the terms of ``summary.guarantee``: its contract is
                signed and kept with the order, and its highest guaranteed amount enters the order's ledger
                as a contingent liability; when guarantees were shown and this is false, the opt-out is
                recorded.
            actor: who confirms (the shopper online, or staff in a store), as the audit log records it.

        Returns:
            The order, the summary, the recorded protection decision, and the guarantee contract.

        Raises:
            CheckoutChangedError: the summary was altered, expired, no longer matches the prices now, or was
                confirmed already.
            ConfigurationError: a guarantee was accepted and the facade has no signing keys.
            QuoteAlreadyRedeemedError: a quote was used meanwhile (by a concurrent checkout); nothing written.
            PromotionExhaustedError: a promotion ran out meanwhile; nothing was written.
        """
        if customer_ref is not None:
            checked_text(customer_ref, field="customer_ref", maximum=MAX_CUSTOMER_REF_LENGTH)
        self.verify_checkout(summary)
        quotes = self._open_quotes(summary.request, summary.created_at)
        again = self._sign(
            self._compute(
                summary.request, checkout_id=summary.checkout_id, now=summary.created_at, quotes=quotes
            )
        )
        if again != summary:
            raise CheckoutChangedError(
                "prices or promotions changed since the summary was shown; show a new one"
            )
        now = self.clock.now()
        customer_ref = customer_ref or f"cus_{uuid.uuid4().hex[:20]}"
        reference, personal = personal_records(payout, contact, customer_ref)
        consent = None
        offer = summary.insurance or (summary.insurance_offers[0] if summary.insurance_offers else None)
        if offer is not None:
            decision = (
                ConsentDecision.ACCEPTED
                if insurance_accepted and summary.insurance
                else ConsentDecision.DECLINED
            )
            consent = record_consent(
                offer, decision=decision, customer_ref=customer_ref, locale=summary.request.locale, at=now
            )
        order_id = f"ord_{uuid.uuid4().hex[:20]}"
        order = (
            open_order(
                order_id=order_id,
                quotes=quotes,
                now=now,
                payout=reference,
                instant_credit=summary.request.timing is CreditTiming.INSTANT,
            )
            if quotes
            else open_purchase_order(order_id=order_id, currency=summary.currency, now=now, payout=reference)
        )
        uses = self._promotion_uses(summary)
        terms = checkout_terms(summary, self.clawback_policy)
        envelope, records, guarantee_consent, guarantee_facts = self._checkout_guarantee(
            summary, accepted=guarantee_accepted, customer_ref=customer_ref, order_id=order.id, at=now
        )
        if records and summary.guarantee is not None:  # the contract's highest amount, a contingent liability
            contingent = highest_guaranteed(summary.guarantee)
            terms = attrs.evolve(terms, guarantees=((records[0].contract_id, contingent),))
        opening = opening_entries(terms, order_id=order.id, now=now)
        stored = {
            "summary": summary.to_json(),
            "consent": _consent_json(consent),
            "ledger_terms": terms_document(terms),
            "guarantee_consent": guarantee_consent.to_json() if guarantee_consent else None,
        }
        facts = [
            AuditFact(
                actor=actor.value,
                action="promotion.reserved",
                subject=order.id,
                details={"promotion": use.promotion_id, "boost": use.boost.to_json()},
            )
            for use in uses
        ]
        if consent is not None:
            facts.append(
                AuditFact(
                    actor=actor.value,
                    action="insurance.consent",
                    subject=order.id,
                    details={
                        "decision": consent.decision.value,
                        "offer": consent.offer_id,
                        "premium": consent.premium.to_json(),
                        "texts": consent.texts_hash,
                        "customer": customer_ref,
                    },
                )
            )
        self._port(OrderStore).add_order(
            _record(
                order,
                self.policy,
                customer_ref=customer_ref,
                tenant=self.audience,
                organisation=self.organisation,
            ),
            quote_ids=list(summary.request.quote_ids),
            now=now,
            personal_data=personal,
            audit=[
                AuditFact(
                    actor=actor.value,
                    action="order.accepted",
                    subject=order.id,
                    details={
                        "checkout": summary.checkout_id,
                        "quotes": list(summary.request.quote_ids),
                        "timing": summary.request.timing.value,
                        "plan": summary.request.plan.value,
                        "credit": summary.total_credit.to_json(),
                        "customer": customer_ref,
                    },
                ),
                *facts,
                *guarantee_facts,
                ledger_fact(order.id, opening, actor=actor.value),
            ],
            ledger=opening,
            guarantees_sold=records,
            checkout=CheckoutRecord(
                checkout_id=summary.checkout_id,
                document=json.dumps(stored, sort_keys=True),
                promotion_uses=uses,
            ),
            **self._in_scope,
        )
        return ConfirmedCheckout(
            order=order,
            summary=summary,
            consent=consent,
            guarantee=envelope,
            guarantee_consent=guarantee_consent,
        )

    def _checkout_guarantee(
        self, summary: CheckoutSummary, *, accepted: bool, customer_ref: str, order_id: str, at: datetime
    ) -> tuple[dict[str, Any] | None, list[GuaranteeRecord], GuaranteeConsent | None, list[AuditFact]]:
        """The buy-back guarantee decision of a checkout: the contract when accepted, the consent either way.

        Returns:
            The signed envelope (or ``None``), the records to keep with the order, the decision (``None``
            when no guarantee was shown) and its audit entries.
        """
        shown = summary.guarantee_offers
        if not shown:
            return None, [], None, []
        chosen = summary.guarantee if accepted else None
        envelope: dict[str, Any] | None = None
        records: list[GuaranteeRecord] = []
        facts: list[AuditFact] = []
        if chosen is not None:
            device = summary.request.new_device
            envelope, record, facts = self._new_contract(
                chosen,
                device_id=device.catalog_id or device.sku,
                imei=None,
                purchased_on=summary.created_at.date(),
                customer_ref=customer_ref,
                cost_centre=None,
                sold_order_id=order_id,
            )
            records = [record]
        plan = chosen or shown[0]
        consent = GuaranteeConsent(
            decision="accepted" if chosen is not None else "declined",
            plan_id=plan.plan_id,
            terms_version=plan.terms_version,
            offered=tuple(offer.plan_id for offer in shown),
            contract_id=records[0].contract_id if records else None,
            customer_ref=customer_ref,
            locale=summary.request.locale,
            at=at,
        )
        facts = [
            *facts,
            AuditFact(
                actor=acting_actor(self.scope).value,
                action="guarantee.consent",
                subject=order_id,
                details={
                    "decision": consent.decision,
                    "plan": consent.plan_id,
                    "terms_version": consent.terms_version,
                    "offered": list(consent.offered),
                    "contract": consent.contract_id,
                    "customer": customer_ref,
                },
            ),
        ]
        return envelope, records, consent, facts

    def _promotion_uses(self, summary: CheckoutSummary) -> tuple[PromotionUse, ...]:
        if self.promotions is None:
            return ()
        limits = {promotion.id: promotion for promotion in self.promotions.promotions}
        return tuple(
            PromotionUse(
                promotion_id=applied.promotion_id,
                boost=applied.boost,
                budget=limits[applied.promotion_id].budget,
                max_redemptions=limits[applied.promotion_id].max_redemptions,
            )
            for trade_in in summary.trade_ins
            for applied in trade_in.promotions
        )


def _consent_json(consent: InsuranceConsent | None) -> object:

    return None if consent is None else json_converter().unstructure(consent)
