"""Checkout: the contract, how the trade-in value is paid, protection, a buy-back guarantee, the summary.

A cart holds a new device, with or without trade-ins. Without one the device is bought outright
(``CheckoutRequest(quote_ids=())``): the options page asks nothing about a trade-in value, the summary is the
price, the protection premium and the guarantee's fee, and no trade-in terms apply.

The options page asks whether the purchase comes with a new contract, a contract upgrade or no contract:
the answer goes to the library (``CheckoutRequest.customer_case``), which applies a promotion for contract
customers only to them; such a promotion is shown with its condition in words. Beside the protection plans,
it offers the buy-back guarantees the library has for the new device (``NewDevice.catalog_id``): each with
its schedule band by band, floor, fallback, window, fee and terms version, or none. Choosing one adds its
line (its fee) to the summary; the review page asks for consent to its terms as it does for protection,
and ``confirm_checkout`` signs the contract with the order (or records the opt-out when guarantees were
shown and none was accepted).

No amount ever comes from the form. The review page shows the summary the library computed from the
cart's ids and carries only its digest (a hash of everything shown). On confirm the shop asks the library
for the summary again, from the same ids; if its digest differs from the one shown (a price, promotion or
choice changed meanwhile, or the field was altered), the shopper sees the new summary instead of a
charge they did not see. ``confirm_checkout`` then verifies the signed summary and commits it.

When a confirmation is refused (an IBAN with a typing error, a consent box left empty), the review page
comes back with everything the shopper typed and ticked, until the order is placed: also when it is
reloaded, shown in another language or reached again from the options. A ticked consent belongs to the
summary it was given for: it is shown ticked only while the summary is the same (its digest).

After confirming, the order page thanks the shopper and shows the purchase (``_purchase.html``: the new
device, every amount, the protection, the guarantee, the payout, the promotions, the trade-in terms); the
e-mail-like receipt (``/orders/<id>/receipt``) shows the same on a page of its own that an e-mail client
could show too: tables, styles in the page (allowed by the CSP nonce), no script, nothing loaded from
elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import attrs
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext

from tradein_sdk import (
    BankTransfer,
    CheckoutChangedError,
    CheckoutSummary,
    InvalidPayoutError,
    PayoutDetails,
    PurchaseCredit,
    RejectionReason,
    TradeInError,
    Voucher,
)

from ..cart import BILL_CREDIT_MONTHS, CUSTOMER_CASES, DECLINED, PLANS, Cart, remember_order
from ..extension import current_locale, shop
from ..guarantees import offers_for, terms_of
from ..purchase import (
    JUST_PLACED,
    charged_line,
    contract_condition,
    premium_term,
    purchase_of,
    trade_in_names,
)
from .orders import load_order

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response

    from tradein_sdk import CheckoutRequest

    from ..products import Product

bp = Blueprint("checkout", __name__)
"""The checkout (under ``/checkout``) and an order's receipt (``/orders/<id>/receipt``)."""

bp.add_app_template_global(purchase_of)  # the order pages and "My orders" show the purchase with these
bp.add_app_template_global(trade_in_names)
bp.add_app_template_global(premium_term)

VOUCHER_PROGRAM = "demo-shop-voucher"

KEPT_FORM = "checkout_form"
"""The session's key of what the shopper typed and ticked on the review page, kept until the order."""
TYPED = ("name", "email", "iban", "holder")
"""The review page's fields kept as typed."""
CONSENTS = ("protection_consent", "guarantee_consent")
"""The review page's consent boxes, kept ticked for the summary they were ticked for."""


@attrs.frozen(kw_only=True)
class ContractPromotion:
    """A promotion of the cart that depends on the contract situation, as the options page explains it.

    Attributes:
        promotion_id: its id.
        title: its title in the shopper's language.
        condition: its condition in words (``Only with a new contract or a contract upgrade.``).
    """

    promotion_id: str
    title: str
    condition: str


def _ready() -> tuple[Cart, Product] | None:
    """The cart and its product when a device is chosen (a trade-in is optional); else ``None``, a message."""
    current = Cart.load()
    product = shop().product(current.product_sku) if current.product_sku else None
    if product is None:
        flash(gettext("Choose a new device first."), "error")
        return None
    return current, product


def _priced() -> tuple[Cart, Product, CheckoutSummary] | Response:
    """The cart, its product and the summary the library computes for them; else where to go first."""
    ready = _ready()
    if ready is None:
        return redirect(url_for("shop.cart"))
    current, product = ready
    if current.protection is None or current.customer_case not in CUSTOMER_CASES:
        return redirect(url_for("checkout.options"))  # options not chosen yet, or the contract not answered
    request_ = current.request(product, current_locale())
    if current.guarantee != DECLINED and current.guarantee not in {
        offer.plan_id for offer in offers_for(request_)
    }:  # the device changed, or the plan is no longer offered: choose again
        attrs.evolve(current, guarantee=DECLINED).save()
        flash(
            gettext(
                "The buy-back guarantee you chose is not offered for this purchase any more. Please "
                "choose again."
            ),
            "error",
        )
        return redirect(url_for("checkout.options"))
    return current, product, shop().trade_in.checkout(request_)


@bp.route("/checkout/", methods=["GET", "POST"])
def options() -> ResponseReturnValue:
    """Choose the contract, how the trade-in value is paid, whether to protect the device, a guarantee.

    A choice that is missing or not offered is refused with a message; the page then shows every other
    choice as it was sent, so nothing chosen is lost. Not choosing a guarantee declines it. Without a
    trade-in there is no trade-in value to pay: no plan is asked for. A form without the contract question
    (an older page) keeps the cart's answer.
    """
    ready = _ready()
    if ready is None:
        return redirect(url_for("shop.cart"))
    current, product = ready
    checkout_request = current.request(product, current_locale())
    offers = shop().trade_in.insurance_offers(checkout_request)
    guarantees = offers_for(checkout_request)
    plan_ids = {offer.plan_id for offer in guarantees}
    chosen: dict[str, Any] = {
        "plan": current.plan,
        "protection": current.protection,
        "guarantee": current.guarantee if current.guarantee in plan_ids else DECLINED,
        "customer_case": current.customer_case,
    }
    if request.method == "POST":
        chosen = _chosen(current)
        known = {offer.offer_id for offer in offers} | {DECLINED}
        guarantee_known = chosen["guarantee"] in plan_ids | {DECLINED}
        case_known = chosen["customer_case"] in CUSTOMER_CASES
        if chosen["plan"] in PLANS and chosen["protection"] in known and guarantee_known and case_known:
            attrs.evolve(
                current,
                plan=chosen["plan"],
                protection=chosen["protection"],
                guarantee=chosen["guarantee"] or DECLINED,
                customer_case=chosen["customer_case"],
            ).save()
            return redirect(url_for("checkout.review"))
        _refused(chosen, current, guarantee_known=guarantee_known, case_known=case_known, known=known)
    return render_template(
        "checkout_options.html",
        cart=current,
        chosen=chosen,
        product=product,
        offers=offers,
        guarantees=[terms_of(offer, product.variant.id) for offer in guarantees],
        plans=list(PLANS),
        months=BILL_CREDIT_MONTHS,
        customer_cases=CUSTOMER_CASES,
        contract_promotions=contract_promotions(checkout_request),
    )


def _chosen(current: Cart) -> dict[str, Any]:
    """The options as the form sent them (the plan and the contract keep the cart's when not asked)."""
    chosen: dict[str, Any] = {name: request.form.get(name, "") for name in ("plan", "protection")}
    if current.outright:  # no trade-in value to pay: the page does not ask for a plan
        chosen["plan"] = current.plan
    chosen["guarantee"] = request.form.get("guarantee") or DECLINED
    chosen["customer_case"] = request.form.get("customer_case", current.customer_case)
    return chosen


def _refused(
    chosen: dict[str, Any], current: Cart, *, guarantee_known: bool, case_known: bool, known: set[str]
) -> None:
    """Say what is missing or not offered among the options sent."""
    if not case_known:
        flash(
            gettext(
                "Please tell us whether you buy the device with a new contract, a contract upgrade or none."
            ),
            "error",
        )
    if not guarantee_known:
        flash(gettext("Please choose a buy-back guarantee offered for this device, or none."), "error")
        chosen["guarantee"] = DECLINED
    if chosen["plan"] not in PLANS or chosen["protection"] not in known:
        flash(
            gettext("Please choose whether to protect your device.")
            if current.outright
            else gettext(
                "Please choose how you want your trade-in value and whether to protect your device."
            ),
            "error",
        )


def contract_promotions(checkout_request: CheckoutRequest) -> list[ContractPromotion]:
    """The cart's promotions that depend on the contract situation, each with its condition in words.

    A promotion counts when it applies now or was refused for the contract situation alone (one refused for
    another reason, say the device, would not apply with any contract).
    """
    if not checkout_request.quote_ids:
        return []
    try:
        preview = shop().trade_in.checkout(checkout_request)
    except TradeInError:  # a quote ended meanwhile: the cart says so; nothing to explain here
        return []
    locale = current_locale()
    found: dict[str, ContractPromotion] = {}
    for trade_in in preview.trade_ins:
        candidates = [(p.promotion_id, p.localized_title(locale)) for p in trade_in.promotions] + [
            (p.promotion_id, p.localized_title(locale))
            for p in trade_in.rejected
            if p.reason is RejectionReason.CUSTOMER_CASE
        ]
        for promotion_id, title in candidates:
            condition = contract_condition(promotion_id)
            if condition is not None and promotion_id not in found:
                found[promotion_id] = ContractPromotion(
                    promotion_id=promotion_id, title=title, condition=condition
                )
    return list(found.values())


@bp.get("/checkout/review")
def review() -> ResponseReturnValue:
    """The signed summary: every line, what is due, the clawback terms, the protection consent."""
    priced = _priced()
    if not isinstance(priced, tuple):
        return priced
    current, product, summary = priced
    due_lines, credit_lines = review_lines(summary)
    chosen = summary.guarantee
    return render_template(
        "checkout_review.html",
        cart=current,
        product=product,
        summary=summary,
        due_lines=due_lines,
        credit_lines=credit_lines,
        months=BILL_CREDIT_MONTHS,
        digest=summary_digest(summary),
        form=kept_form(summary),
        guarantee=terms_of(chosen, product.variant.id) if chosen is not None else None,
        not_applied=not_applied(summary),
    )


def kept_form(summary: CheckoutSummary) -> dict[str, str]:
    """What the shopper typed and ticked before a refused confirmation; a tick only for the same summary."""
    kept: dict[str, str] = dict(session.get(KEPT_FORM) or {})
    if not hmac.compare_digest(kept.get("summary", ""), consent_key(summary)):
        for name in CONSENTS:
            kept.pop(name, None)
    return kept


def not_applied(summary: CheckoutSummary) -> list[tuple[str, str]]:
    """The promotions refused for the contract situation alone: ``(title, condition in words)``."""
    locale = current_locale()
    shown: dict[str, tuple[str, str]] = {}
    for trade_in in summary.trade_ins:
        for promotion in trade_in.rejected:
            condition = contract_condition(promotion.promotion_id)
            if promotion.reason is RejectionReason.CUSTOMER_CASE and condition is not None:
                shown.setdefault(promotion.promotion_id, (promotion.localized_title(locale), condition))
    return list(shown.values())


@bp.post("/checkout/confirm")
def confirm() -> ResponseReturnValue:
    """Confirm the summary as shown: the library verifies it, recomputes it and opens the order."""
    trade_in = shop().trade_in
    priced = _priced()
    if not isinstance(priced, tuple):
        return priced
    current, _, summary = priced
    if not hmac.compare_digest(summary_digest(summary), request.form.get("digest", "")):
        flash(
            gettext(
                "Your order changed since you saw it (a price, a promotion or a choice). Please "
                "check it again."
            ),
            "error",
        )
        return redirect(url_for("checkout.review"))
    accepted = request.form.get("protection_consent") == "yes"
    guaranteed = request.form.get("guarantee_consent") == "yes"
    missing = _missing_consent(summary, insurance=accepted, guarantee=guaranteed)
    if missing is not None:
        return _back_to_review(missing, summary)
    try:
        payout = None if current.outright else _payout(current.plan, summary)
        confirmed = trade_in.confirm_checkout(
            summary,
            payout=payout,
            contact=_contact(),
            insurance_accepted=accepted,
            guarantee_accepted=guaranteed and summary.guarantee is not None,
        )
    except InvalidPayoutError as error:
        return _back_to_review(error.localized(current_locale()), summary)
    except CheckoutChangedError:
        flash(
            gettext(
                "Your order changed since you saw it (a price, a promotion or a choice). Please "
                "check it again."
            ),
            "error",
        )
        return redirect(url_for("checkout.review"))
    order = confirmed.order
    if order.devices:
        trade_in.issue_label(order.id)  # the send-by deadline starts now; the label is on the order page
    remember_order(order.id)
    Cart().save()
    session.pop(KEPT_FORM, None)
    session[JUST_PLACED] = order.id  # the order page thanks the shopper, once
    return redirect(url_for("orders.order", order_id=order.id))


@bp.get("/orders/<order_id>/receipt")
def receipt(order_id: str) -> ResponseReturnValue:
    """The order's receipt: the purchase as an e-mail would show it (a page of its own, printable).

    Only for the session that placed the order, or staff; an order opened without a checkout has none.
    """
    order = load_order(order_id)
    purchase = purchase_of(order)
    if purchase is None:
        abort(404)
    return render_template("receipt.html", purchase=purchase, order=order, issuer=shop().issuer)


def _missing_consent(summary: CheckoutSummary, *, insurance: bool, guarantee: bool) -> str | None:
    """What the shopper still has to consent to (a message), or ``None``: the protection, the guarantee."""
    if summary.insurance is not None and not insurance:
        return gettext("Please tick the box to take out the protection, or go back and choose no protection.")
    if summary.guarantee is not None and not guarantee:
        return gettext("Please accept the terms of the buy-back guarantee, or go back and choose none.")
    return None


def review_lines(summary: CheckoutSummary) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The review's two tables: the lines of what is due, and the trade-in value promised, line by line.

    The summary's lines for credit paid after inspection (``deferred_credit``, a promotion without an
    amount, the ``remainder``) carry their amount inside the sentence; they are shown instead as the trade-in
    value table (each quote and each promotion's share, formatted in the shopper's locale) and the sentence
    under it, so the page states once, with one total, what the shopper is promised.
    """
    locale = current_locale()
    due = [
        (text, amount)
        for line, (text, amount) in zip(summary.lines, summary.describe(locale), strict=True)
        if charged_line(line)
    ]
    credit: list[tuple[str, str]] = []
    for trade_in in summary.trade_ins:
        credit.append(
            (gettext("Trade-in: %(device)s", device=trade_in.device_name), trade_in.quoted.format(locale))
        )
        credit.extend(
            (
                gettext("Promotion: %(title)s", title=promotion.localized_title(locale)),
                promotion.boost.format(locale),
            )
            for promotion in trade_in.promotions
        )
    return due, credit


def _back_to_review(message: str, summary: CheckoutSummary) -> ResponseReturnValue:
    """Back to the summary with a message; what was typed and ticked (not amounts) is kept for the form.

    Kept until the order is placed; the ticks belong to ``summary`` (see :func:`kept_form`).
    """
    flash(message, "error")
    session[KEPT_FORM] = {
        **{name: request.form.get(name, "") for name in (*TYPED, *CONSENTS)},
        "summary": consent_key(summary),
    }
    return redirect(url_for("checkout.review"))


def _payout(plan: str, summary: CheckoutSummary) -> PayoutDetails:
    """How the trade-in value is paid, as the plan chosen says (bank details are validated by the library).

    Only a bank payout needs the shopper's account. A voucher plan names the shop's voucher programme; a
    discount or bill credits settle against the purchase (a remainder above the price, or the value of a
    device credited after inspection, becomes a voucher by the checkout's remainder rule, and bill credits
    become the ledger's monthly schedule), so no bank details are asked for.
    """
    if plan == "payout":
        return BankTransfer(iban=request.form.get("iban", ""), holder=request.form.get("holder", ""))
    if plan == "voucher":
        return Voucher(program=VOUCHER_PROGRAM)
    return PurchaseCredit(purchase_reference=summary.checkout_id)


def _contact() -> dict[str, str] | None:
    contact = {name: request.form.get(name, "").strip() for name in ("name", "email")}
    return {name: value for name, value in contact.items() if value} or None


def consent_key(summary: CheckoutSummary) -> str:
    """What a consent is given for: the summary's digest in any language (the same amounts and terms)."""
    return summary_digest(attrs.evolve(summary, request=attrs.evolve(summary.request, locale="")))


def summary_digest(summary: CheckoutSummary) -> str:
    """A hash of all the summary shows (not its id, time or signature, which each computation renews)."""
    shown = {
        name: value
        for name, value in summary.to_json().items()
        if name not in {"checkout_id", "created_at", "signature"}
    }
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
