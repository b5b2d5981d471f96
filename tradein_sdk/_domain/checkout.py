"""Checkout: trade-in credits applied to a new-device purchase, promotions, clawback terms and protection.

Pure: :func:`build_checkout` turns a :class:`CheckoutRequest`, the stored quotes, the promotions outcome and
the insurance offers into a :class:`CheckoutSummary` a shop renders; :func:`sign_summary` signs it with the
shop's key ring, and on confirm the facade checks the signature (:func:`check_summary_signature`) and
recomputes the summary from the request, so that no amount is ever taken from the client.

Credit timing and plans:

- ``instant`` credit is deducted at checkout (``discount``) or issued at once as store credit
  (``voucher``); it is subject to the clawback terms, which are computed here, shown before the shopper
  commits, stored with the order and applied by the order's ledger (:mod:`tradein_sdk._domain.ledger`).
- ``deferred`` credit is paid after inspection: as a ``voucher``, a bank ``payout`` or carrier
  ``bill_credits`` spread over N months (cents distributed so the schedule sums exactly). Nothing is
  credited before the device arrives, so nothing is clawed back.

When the trade-in is worth more than the purchase, the remainder follows the shop's rule (a voucher or a
payout).

Without a trade-in (``quote_ids=()``) the same checkout sells the new device outright: the price is due, with
the protection premium and the buy-back guarantee's fee when chosen; there is no credit, so no promotion (a
promotion is a bonus on a traded device), no clawback terms and no bill credits, and the credit choices
(timing, plan, months, remainder rule) are not checked: they have nothing to apply to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.converters import json_converter, structuring_problems
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.guarantees import GuaranteeOffer, highest_guaranteed
from tradein_sdk._domain.insurance import InsuranceOffer, PremiumTerm, PurchaseCondition
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.promotions import AppliedPromotion, CustomerCase, RejectedPromotion
from tradein_sdk._domain.quotes import Channel
from tradein_sdk._errors import (
    CheckoutChangedError,
    CheckoutInvalidError,
    DocumentInvalidError,
    DocumentProblem,
    canonical_locale,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.tokens import KeyRing


class CreditTiming(StrEnum):
    """When the trade-in value reaches the shopper."""

    INSTANT = "instant"
    DEFERRED = "deferred"


class CreditPlan(StrEnum):
    """How the trade-in value reaches the shopper."""

    DISCOUNT = "discount"
    """Deducted from the purchase price at checkout (instant only)."""
    VOUCHER = "voucher"
    PAYOUT = "payout"
    """A bank transfer after inspection (deferred only)."""
    BILL_CREDITS = "bill_credits"
    """Monthly credits on the carrier bill after inspection (deferred only)."""


class RemainderRule(StrEnum):
    """What happens to trade-in value beyond the purchase price."""

    VOUCHER = "voucher"
    PAYOUT = "payout"


@attrs.frozen(kw_only=True)
class NewDevice:
    """The device being bought.

    Attributes:
        sku: the shop's article number.
        name: what the shopper sees.
        brand: its brand (promotions may ask for it).
        category: the shop's product category (promotions may ask for it).
        price: its price, as the shop charges it.
        device_category: smartphone, tablet or smartwatch, for protection offers.
        condition: new or refurbished, for protection offers.
        catalog_id: the catalog variant sold, when the catalog knows it: a buy-back guarantee is offered
            only then (the contract names the device it buys back).
    """

    sku: str
    name: str
    brand: str
    category: str
    price: Money
    device_category: str = "smartphone"
    condition: PurchaseCondition = PurchaseCondition.NEW
    catalog_id: str | None = None


@attrs.frozen(kw_only=True)
class CheckoutRequest:
    """What the shopper chose; a checkout is always recomputed from this, never from client amounts.

    Attributes:
        quote_ids: the trade-in quotes (one device each); none for a purchase without a trade-in.
        new_device: the purchase.
        timing: instant or deferred credit.
        plan: discount, voucher, payout or bill credits.
        months: the number of monthly bill credits (bill credits only).
        remainder_rule: what happens to value beyond the price.
        channel: online or store.
        customer_case: new contract, upgrade or none.
        country: the customer's country (tax on insurance premiums).
        insurance_offer_id: the protection offer chosen, or ``None`` (declined).
        locale: the shopper's locale.
        guarantee_plan_id: the buy-back guarantee chosen, or ``None`` (declined).
        financed_amount: the amount financed through the carrier, for its upgrade plans.
    """

    quote_ids: tuple[str, ...]
    new_device: NewDevice
    timing: CreditTiming = CreditTiming.INSTANT
    plan: CreditPlan = CreditPlan.DISCOUNT
    months: int | None = None
    remainder_rule: RemainderRule = RemainderRule.VOUCHER
    channel: Channel = Channel.ONLINE
    customer_case: CustomerCase = CustomerCase.UPGRADE
    country: str = "DE"
    insurance_offer_id: str | None = None
    locale: str = "en"
    guarantee_plan_id: str | None = None
    financed_amount: Money | None = None

    def check(self) -> None:
        """Refuse combinations that cannot work.

        The credit choices (timing, plan, months) are checked only with a trade-in: a purchase without one
        has no credit for them to apply to, so a shop's form may keep its defaults or an earlier choice.

        Raises:
            CheckoutInvalidError: a device category the library does not know or a negative price (each
                named by its field), and with a trade-in: a discount that is not instant, a payout or bill
                credits that are not deferred, bill credits without a number of months.
        """
        if self.new_device.device_category not in {category.value for category in DeviceCategory}:
            raise CheckoutInvalidError(
                "new_device.device_category is {category}, not one of {known}",
                category=self.new_device.device_category,
                known=", ".join(category.value for category in DeviceCategory),
            )
        if self.new_device.price.amount < 0:
            raise CheckoutInvalidError(
                "new_device.price must not be negative, not {price}", price=str(self.new_device.price)
            )
        if self.quote_ids:
            self._check_credit()

    def _check_credit(self) -> None:
        """Refuse credit choices that do not fit together (a checkout with a trade-in)."""
        if self.plan is CreditPlan.DISCOUNT and self.timing is not CreditTiming.INSTANT:
            raise CheckoutInvalidError("a discount is deducted at checkout: its timing is instant")
        if (
            self.plan in {CreditPlan.PAYOUT, CreditPlan.BILL_CREDITS}
            and self.timing is not CreditTiming.DEFERRED
        ):
            raise CheckoutInvalidError(
                "{plan} is paid after inspection: its timing is deferred", plan=self.plan.value
            )
        if (self.plan is CreditPlan.BILL_CREDITS) != (self.months is not None):
            raise CheckoutInvalidError("bill credits need a number of months, and only bill credits take one")
        if self.months is not None and not 1 <= self.months <= 60:
            raise CheckoutInvalidError(
                "bill credits run for 1 to 60 months, not {months}", months=self.months
            )


@attrs.frozen(kw_only=True)
class BillCreditSchedule:
    """Monthly credits that add up to the credit exactly, larger cents first.

    Attributes:
        total: the credit spread over the months.
        installments: the credit of each month, first month first.
    """

    total: Money
    installments: tuple[Money, ...]

    @classmethod
    def spread(cls, total: Money, months: int) -> BillCreditSchedule:
        """Spread ``total`` over ``months`` monthly credits that differ by at most one minor unit."""
        return cls(total=total, installments=total.rounded().allocate(months))


@attrs.frozen(kw_only=True)
class ClawbackPolicy:
    """What a shop charges back when an instantly credited device does not earn its credit.

    Attributes:
        charge_promotions: the promotion share is charged back with the credit.
        tax_rate_percent: tax charged on top of a clawed-back credit (0: none), as the shop's terms say.
        return_window_days: after a rejection, how long the shopper may ask for the device back.
    """

    charge_promotions: bool = True
    tax_rate_percent: Decimal = Decimal(0)
    return_window_days: int = 7


@attrs.frozen(kw_only=True)
class DeviceClawback:
    """The clawback terms of one traded device.

    Attributes:
        quote_id: the device's quote.
        credit: what was credited at checkout for it (quote and promotions).
        promotion_share: the part of the credit that came from promotions.
        if_not_sent: charged when the device is not sent in time or is cancelled.
        if_rejected: charged when inspection rejects it (a major mismatch) or a revision is declined.
    """

    quote_id: str
    credit: Money
    promotion_share: Money
    if_not_sent: Money
    if_rejected: Money


@attrs.frozen(kw_only=True)
class ClawbackTerms:
    """The clawback terms shown before the shopper commits, stored with the order.

    Attributes:
        applies: instant credit was given (deferred credit has nothing to claw back).
        send_by_days: days to send the devices after the label is issued.
        return_window_days: days to ask for a rejected device back (the free-return remedy).
        devices: the terms per device, in quote order.
        trade_in: the checkout trades devices in; a purchase without a trade-in (``False``) has no terms.
    """

    applies: bool
    send_by_days: int
    return_window_days: int
    devices: tuple[DeviceClawback, ...] = ()
    trade_in: bool = True

    def describe(self, locale: str) -> tuple[str, ...]:
        """The terms in the shopper's language, one sentence each (none without a trade-in)."""
        locale = canonical_locale(locale)
        if not self.trade_in:
            return ()
        if not self.applies:
            return (
                translate(
                    N_("Your trade-in value is paid after inspection; nothing is charged back."), locale
                ),
            )
        texts = [
            translate(
                N_("Send your device within {days} days of receiving the label."),
                locale,
                days=self.send_by_days,
            )
        ]
        for device in self.devices:
            texts.append(
                translate(
                    N_("If it is not sent in time, {amount} is charged back."),
                    locale,
                    amount=device.if_not_sent.format(locale),
                )
            )
            texts.append(
                translate(
                    N_(
                        "If inspection finds a lower value, the difference is charged back; if the device is "
                        "rejected, {amount} is charged back and you may ask for it back within {days} days."
                    ),
                    locale,
                    amount=device.if_rejected.format(locale),
                    days=self.return_window_days,
                )
            )
        return tuple(texts)


def clawback_terms(
    policy: ClawbackPolicy,
    *,
    timing: CreditTiming,
    send_by_days: int,
    per_device: Sequence[tuple[str, Money, Money]],
) -> ClawbackTerms:
    """Compute the clawback terms of a checkout.

    Args:
        policy: the shop's clawback policy.
        timing: instant or deferred credit.
        send_by_days: the send window of the shop's delivery policy.
        per_device: per device, ``(quote id, credit, promotion share)``.

    Returns:
        The terms; empty for deferred credit, and without a trade-in (no device, ``trade_in=False``).
    """
    if not per_device:
        return ClawbackTerms(
            applies=False,
            send_by_days=send_by_days,
            return_window_days=policy.return_window_days,
            trade_in=False,
        )
    if timing is CreditTiming.DEFERRED:
        return ClawbackTerms(
            applies=False, send_by_days=send_by_days, return_window_days=policy.return_window_days
        )
    devices = []
    for quote_id, credit, promotion_share in per_device:
        base = credit if policy.charge_promotions else credit - promotion_share
        charged = (base * (1 + policy.tax_rate_percent / 100)).rounded()
        devices.append(
            DeviceClawback(
                quote_id=quote_id,
                credit=credit,
                promotion_share=promotion_share,
                if_not_sent=charged,
                if_rejected=charged,
            )
        )
    return ClawbackTerms(
        applies=True,
        send_by_days=send_by_days,
        return_window_days=policy.return_window_days,
        devices=tuple(devices),
    )


@attrs.frozen(kw_only=True)
class CheckoutTradeIn:
    """One traded device in a checkout.

    Attributes:
        quote_id: its quote.
        device_name: what it is.
        quoted: the stored quote's amount.
        promotions: the promotions applied to it.
        rejected: the promotions that did not apply, each with its reason.
        credit: the quote plus its promotions.
    """

    quote_id: str
    device_name: str
    quoted: Money
    promotions: tuple[AppliedPromotion, ...]
    rejected: tuple[RejectedPromotion, ...]
    credit: Money


@attrs.frozen(kw_only=True)
class CheckoutLine:
    """A line of the summary: an explanation (msgid + params) and its amount.

    Attributes:
        code: ``new_device``, ``trade_in``, ``promotion``, ``deferred_credit``, ``remainder``,
            ``insurance``, ``insurance_monthly``, ``guarantee``, ``bill_credit``.
        message_id: the English text, a gettext msgid.
        params: its placeholders' values (text).
        amount: what the line adds to what is due (negative: takes away); ``None`` for an information line.
        monthly: the line is a monthly amount.
        translated: the params that are msgids themselves (a promotion title, a plan name).
        money: the params that are amounts, formatted for the locale the line is shown in.
        dates: the params that are days, formatted for the locale the line is shown in.
    """

    code: str
    message_id: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    amount: Money | None = None
    monthly: bool = False
    translated: tuple[str, ...] = ()
    money: Mapping[str, Money] = attrs.field(factory=dict)
    dates: Mapping[str, date] = attrs.field(factory=dict)

    def describe(self, locale: str) -> str:
        """The line's text in ``locale``."""
        locale = canonical_locale(locale)
        params = {
            name: translate(value, locale) if name in self.translated else value
            for name, value in self.params.items()
        }
        params.update({name: amount.format(locale) for name, amount in self.money.items()})
        for name, day in self.dates.items():
            params[name] = long_date(day, locale)
        return translate(self.message_id, locale, **params)


@attrs.frozen(kw_only=True)
class CheckoutSummary:
    """Everything the shopper sees before committing, in money and translated text; signed.

    Attributes:
        checkout_id: the summary's id.
        created_at: when it was built (promotion dates and deadlines count from it).
        request: what the shopper chose.
        currency: the currency of every amount.
        trade_ins: the traded devices with their promotions (none for a device bought outright).
        total_credit: the sum of the trade-in credits.
        applied_now: the credit deducted from the price at checkout.
        remainder: credit beyond the price (paid as ``request.remainder_rule`` says).
        insurance: the protection offer chosen, or ``None``.
        insurance_offers: every offer the shopper was shown.
        guarantee: the buy-back guarantee chosen, or ``None``.
        guarantee_offers: every guarantee the shopper was shown.
        bill_credits: the monthly credit schedule, for bill credits.
        due_now: what the shopper pays today.
        monthly: what the shopper pays (negative: receives) each month, bill credits and premiums netted.
        clawback: the clawback terms.
        lines: the summary's lines, in display order.
        signature: ``cs1.<key id>.<HMAC-SHA256>`` over the rest; set by the facade.
    """

    checkout_id: str
    created_at: datetime
    request: CheckoutRequest
    currency: str
    trade_ins: tuple[CheckoutTradeIn, ...]
    total_credit: Money
    applied_now: Money
    remainder: Money
    insurance: InsuranceOffer | None
    insurance_offers: tuple[InsuranceOffer, ...]
    bill_credits: BillCreditSchedule | None
    due_now: Money
    monthly: Money
    clawback: ClawbackTerms
    lines: tuple[CheckoutLine, ...]
    guarantee: GuaranteeOffer | None = None
    guarantee_offers: tuple[GuaranteeOffer, ...] = ()
    signature: str = ""

    def describe(self, locale: str | None = None) -> tuple[tuple[str, str], ...]:
        """Each line as ``(text, formatted amount)`` in ``locale`` (the request's by default)."""
        locale = canonical_locale(locale or self.request.locale)
        return tuple(
            (line.describe(locale), line.amount.format(locale) if line.amount is not None else "")
            for line in self.lines
        )

    def to_json(self) -> dict[str, Any]:
        """The summary's JSON form (amounts as ``{"amount", "currency"}``)."""
        data: dict[str, Any] = json_converter().unstructure(self)
        return data

    @classmethod
    def from_json(cls, data: object) -> CheckoutSummary:
        """Read the JSON form :meth:`to_json` writes (a summary a frontend kept between pages).

        The result is only what the document says: pass it to ``TradeIn.confirm_checkout``, which checks
        the signature and recomputes every amount.

        Raises:
            DocumentInvalidError: the document does not fit; each problem names its JSON path.
        """
        try:
            return json_converter().structure(data, cls)
        except Exception as exc:  # an untrusted document: whatever structuring raises is a problem in it
            problems = [
                DocumentProblem(path=path, message=message) for path, message in structuring_problems(exc)
            ]
            raise DocumentInvalidError(kind="checkout summary", source="<memory>", problems=problems) from exc


def build_checkout(
    request: CheckoutRequest,
    *,
    checkout_id: str,
    now: datetime,
    quotes: Sequence[Quote],
    promotions: Sequence[tuple[tuple[AppliedPromotion, ...], tuple[RejectedPromotion, ...]]],
    insurance_offers: Sequence[InsuranceOffer],
    clawback: ClawbackPolicy,
    send_by_days: int,
    guarantee_offers: Sequence[GuaranteeOffer] = (),
) -> CheckoutSummary:
    """Compute a checkout summary (pure; see the module docstring).

    Args:
        request: what the shopper chose.
        checkout_id: the summary's id.
        now: the current time.
        quotes: the stored quotes, in ``request.quote_ids`` order.
        promotions: per quote, the promotions applied and rejected.
        insurance_offers: the protection offers for the new device.
        clawback: the shop's clawback policy.
        send_by_days: the shop's send window.
        guarantee_offers: the buy-back guarantees for the new device.

    Returns:
        The unsigned summary.

    Raises:
        CheckoutInvalidError: the request does not hold together, or the chosen offer is not offered.
        CurrencyMismatchError: the quotes, the price or the premiums are in different currencies.
    """
    request.check()
    price = request.new_device.price
    currency = price.currency
    zero = Money.zero(currency)
    trade_ins = []
    for quote, (applied, rejected) in zip(quotes, promotions, strict=True):
        boost = Money.total((promotion.boost for promotion in applied), currency)
        trade_ins.append(
            CheckoutTradeIn(
                quote_id=quote.id,
                device_name=quote.device.display_name,
                quoted=quote.amount,
                promotions=applied,
                rejected=rejected,
                credit=quote.amount + boost,
            )
        )
    total_credit = Money.total((trade_in.credit for trade_in in trade_ins), currency)
    instant_discount = request.timing is CreditTiming.INSTANT and request.plan is CreditPlan.DISCOUNT
    applied_now = min(total_credit, price) if instant_discount else zero
    remainder = total_credit - applied_now if instant_discount else zero
    chosen, guarantee = _chosen_offers(request, insurance_offers, guarantee_offers)
    schedule = (
        BillCreditSchedule.spread(total_credit, request.months)
        if trade_ins and request.plan is CreditPlan.BILL_CREDITS and request.months
        else None
    )

    lines = [
        CheckoutLine(
            code="new_device",
            message_id=N_("New device: {name}"),
            params={"name": request.new_device.name},
            amount=price,
        ),
        *_trade_in_lines(
            trade_ins, instant_discount=instant_discount, deferred=request.timing is CreditTiming.DEFERRED
        ),
    ]
    if remainder > zero:
        message = (
            N_("Trade-in value beyond the price, as a voucher: {amount}")
            if request.remainder_rule is RemainderRule.VOUCHER
            else N_("Trade-in value beyond the price, paid to your account: {amount}")
        )
        lines.append(CheckoutLine(code="remainder", message_id=message, money={"amount": remainder}))
    due_now, monthly = price - applied_now, zero
    if chosen is not None:
        line = _insurance_line(chosen)
        lines.append(line)
        if line.monthly:
            monthly = monthly + chosen.premium.gross
        else:
            due_now = due_now + chosen.premium.gross
    if guarantee is not None:
        line = _guarantee_line(guarantee)
        lines.append(line)
        if line.amount is not None:
            due_now = due_now + line.amount
    if schedule is not None:
        first = schedule.installments[0]
        monthly = monthly - first
        lines.append(
            CheckoutLine(
                code="bill_credit",
                message_id=N_("Bill credit for {months} months, from the first bill after inspection"),
                params={"months": str(len(schedule.installments))},
                amount=-first,
                monthly=True,
            )
        )
    upfront = upfront_credits(request, trade_ins, applied_now)
    shares = [
        (
            trade_in.quote_id,
            credited,
            min(trade_in.credit - trade_in.quoted, max(credited - trade_in.quoted, zero)),
        )
        for trade_in, credited in zip(trade_ins, upfront, strict=True)
    ]
    return CheckoutSummary(
        checkout_id=checkout_id,
        created_at=now,
        request=request,
        currency=currency,
        trade_ins=tuple(trade_ins),
        total_credit=total_credit,
        applied_now=applied_now,
        remainder=remainder,
        insurance=chosen,
        insurance_offers=tuple(insurance_offers),
        guarantee=guarantee,
        guarantee_offers=tuple(guarantee_offers),
        bill_credits=schedule,
        due_now=due_now,
        monthly=monthly,
        clawback=clawback_terms(
            clawback, timing=request.timing, send_by_days=send_by_days, per_device=shares
        ),
        lines=tuple(lines),
    )


def upfront_credits(
    request: CheckoutRequest, trade_ins: Sequence[CheckoutTradeIn], applied_now: Money
) -> list[Money]:
    """What each traded device is credited at checkout, in quote order.

    Deferred credit: nothing. An instant voucher: each device's whole credit. An instant discount: the
    discount applied (at most the price) allocated to the devices in quote order, each up to its credit; the
    rest of a device's credit is paid after inspection by the remainder rule.
    """
    zero = Money.zero(applied_now.currency)
    left = applied_now
    credited = []
    for trade_in in trade_ins:
        if request.timing is CreditTiming.DEFERRED:
            credited.append(zero)
        elif request.plan is CreditPlan.DISCOUNT:
            share = min(trade_in.credit, left)
            left = left - share
            credited.append(share)
        else:
            credited.append(trade_in.credit)
    return credited


def _trade_in_lines(
    trade_ins: Sequence[CheckoutTradeIn], *, instant_discount: bool, deferred: bool
) -> list[CheckoutLine]:
    lines = []
    for trade_in in trade_ins:
        params = {"device": trade_in.device_name}
        if instant_discount:
            lines.append(
                CheckoutLine(
                    code="trade_in",
                    message_id=N_("Trade-in: {device}"),
                    params=params,
                    amount=-trade_in.quoted,
                )
            )
        else:
            lines.append(
                CheckoutLine(
                    code="deferred_credit",
                    message_id=N_("Trade-in: {device}, {amount} paid after inspection"),
                    params=params,
                    money={"amount": trade_in.quoted},
                )
            )
        lines.extend(
            CheckoutLine(
                code="promotion",
                message_id=N_("Promotion: {title}, {amount} paid after inspection")
                if deferred
                else N_("Promotion: {title}"),
                params={"title": promotion.title},
                translated=("title",),
                amount=-promotion.boost if instant_discount else None,
                money={"amount": promotion.boost} if deferred else {},
            )
            for promotion in trade_in.promotions
        )
    if deferred and len(lines) > len(trade_ins):
        total = Money.total((trade_in.credit for trade_in in trade_ins), trade_ins[0].credit.currency)
        lines.append(
            CheckoutLine(
                code="credit_total",
                message_id=N_("Trade-in value with promotions, paid after inspection: {amount}"),
                money={"amount": total},
            )
        )
    return lines


def _insurance_line(offer: InsuranceOffer) -> CheckoutLine:
    if offer.term is PremiumTerm.MONTHLY:
        return CheckoutLine(
            code="insurance_monthly",
            message_id=N_("Device protection: {plan}, monthly"),
            params={"plan": offer.name},
            amount=offer.premium.gross,
            monthly=True,
            translated=("plan",),
        )
    return CheckoutLine(
        code="insurance",
        message_id=N_("Device protection: {plan}"),
        params={"plan": offer.name},
        amount=offer.premium.gross,
        translated=("plan",),
    )


def _chosen_offers(
    request: CheckoutRequest,
    insurance_offers: Sequence[InsuranceOffer],
    guarantee_offers: Sequence[GuaranteeOffer],
) -> tuple[InsuranceOffer | None, GuaranteeOffer | None]:
    """The protection and the buy-back guarantee the request chose, each among the ones offered.

    Raises:
        CheckoutInvalidError: the request chose one that is not offered.
    """
    insurance = guarantee = None
    if request.insurance_offer_id is not None:
        insurance = next(
            (offer for offer in insurance_offers if offer.offer_id == request.insurance_offer_id), None
        )
        if insurance is None:
            raise CheckoutInvalidError(
                "protection offer {offer} is not offered for this purchase", offer=request.insurance_offer_id
            )
    if request.guarantee_plan_id is not None:
        guarantee = next(
            (offer for offer in guarantee_offers if offer.plan_id == request.guarantee_plan_id), None
        )
        if guarantee is None:
            raise CheckoutInvalidError(
                "buy-back guarantee {plan} is not offered for this purchase", plan=request.guarantee_plan_id
            )
    return insurance, guarantee


def _guarantee_line(offer: GuaranteeOffer) -> CheckoutLine:
    """The summary's line of a buy-back guarantee: its fee (an information line when it is free)."""
    return CheckoutLine(
        code="guarantee",
        message_id=N_("Buy-back guarantee: {plan}, up to {amount} from {day}"),
        params={"plan": offer.name},
        amount=None if offer.fee.is_zero() else offer.fee,
        translated=("plan",),
        money={"amount": highest_guaranteed(offer)},
        dates={"day": offer.exercisable_from},
    )


# -- the signature ---------------------------------------------------------------------------------------

SIGNATURE_SCHEME: Final = "cs1"
"""The signature's prefix: ``cs1.<key id>.<HMAC-SHA256 of the canonical summary, base64url>``."""


def summary_signature(summary: CheckoutSummary, key_ring: KeyRing, key_id: str) -> str:
    """The signature of ``summary`` (every field but ``signature``) with the key ``key_id`` of ``key_ring``.

    Raises:
        CheckoutChangedError: the key ring no longer holds that key.
    """
    key = key_ring.get(key_id)
    if key is None:
        raise CheckoutChangedError("the checkout was signed with a key this shop no longer holds")
    content = {name: value for name, value in summary.to_json().items() if name != "signature"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hmac.new(key.secret, canonical, hashlib.sha256).digest()
    return f"{SIGNATURE_SCHEME}.{key_id}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def sign_summary(summary: CheckoutSummary, key_ring: KeyRing) -> CheckoutSummary:
    """``summary`` signed with the key ring's active key."""
    return attrs.evolve(summary, signature=summary_signature(summary, key_ring, key_ring.active_key.key_id))


def check_summary_signature(summary: CheckoutSummary, key_ring: KeyRing) -> None:
    """Check that ``summary`` carries a signature of ``key_ring`` over exactly its content.

    Raises:
        CheckoutChangedError: it is not signed, signed with an unknown key, or altered since.
    """
    parts = summary.signature.split(".")
    if len(parts) != 3 or parts[0] != SIGNATURE_SCHEME:
        raise CheckoutChangedError("the checkout summary is not signed")
    if not hmac.compare_digest(summary_signature(summary, key_ring, parts[1]), summary.signature):
        raise CheckoutChangedError("the checkout summary was altered")
