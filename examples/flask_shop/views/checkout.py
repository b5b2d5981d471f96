"""Checkout: how the trade-in value is paid, protection, a buy-back guarantee, the summary, confirmation.

The options page offers, beside the protection plans, the buy-back guarantees the library has for the new
device (``NewDevice.catalog_id``): each with its schedule band by band, floor, fallback, window, fee and
terms version, or none. Choosing one adds its line (its fee) to the summary; the review page asks for
consent to its terms as it does for protection, and ``confirm_checkout`` signs the contract with the order
(or records the opt-out when guarantees were shown and none was accepted).

No amount ever comes from the form. The review page shows the summary the library computed from the
cart's ids and carries only its digest (a hash of everything shown). On confirm the shop asks the library
for the summary again, from the same ids; if its digest differs from the one shown (a price, promotion or
choice changed meanwhile, or the field was altered), the shopper sees the new summary instead of a
charge they did not see. ``confirm_checkout`` then verifies the signed summary and commits it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import attrs
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext

from tradein_sdk import (
    BankTransfer,
    CheckoutChangedError,
    CheckoutSummary,
    InvalidPayoutError,
    PayoutDetails,
    PurchaseCredit,
    Voucher,
)

from ..cart import BILL_CREDIT_MONTHS, DECLINED, PLANS, Cart, remember_order
from ..extension import current_locale, shop
from ..guarantees import offers_for, terms_of

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response

    from ..products import Product

bp = Blueprint("checkout", __name__, url_prefix="/checkout")

VOUCHER_PROGRAM = "demo-shop-voucher"


def _ready() -> tuple[Cart, Product] | None:
    """The cart and its product when both a device and a trade-in are chosen; else ``None`` with a message."""
    current = Cart.load()
    product = shop().product(current.product_sku) if current.product_sku else None
    if product is None or not current.trade_ins:
        flash(gettext("Choose a new device and add a trade-in first."), "error")
        return None
    return current, product


def _priced() -> tuple[Cart, Product, CheckoutSummary] | Response:
    """The cart, its product and the summary the library computes for them; else where to go first."""
    ready = _ready()
    if ready is None:
        return redirect(url_for("shop.cart"))
    current, product = ready
    if current.protection is None:
        return redirect(url_for("checkout.options"))
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


@bp.route("/", methods=["GET", "POST"])
def options() -> ResponseReturnValue:
    """Choose how the trade-in value is paid, whether to protect the new device, and a buy-back guarantee.

    A choice that is missing or not offered is refused with a message; the page then shows every other
    choice as it was sent, so nothing chosen is lost. Not choosing a guarantee declines it.
    """
    ready = _ready()
    if ready is None:
        return redirect(url_for("shop.cart"))
    current, product = ready
    checkout_request = current.request(product, current_locale())
    offers = shop().trade_in.insurance_offers(checkout_request)
    guarantees = offers_for(checkout_request)
    plan_ids = {offer.plan_id for offer in guarantees}
    chosen = {
        "plan": current.plan,
        "protection": current.protection,
        "guarantee": current.guarantee if current.guarantee in plan_ids else DECLINED,
    }
    if request.method == "POST":
        chosen = {name: request.form.get(name, "") for name in ("plan", "protection")}
        chosen["guarantee"] = request.form.get("guarantee") or DECLINED
        known = {offer.offer_id for offer in offers} | {DECLINED}
        guarantee_known = chosen["guarantee"] in plan_ids | {DECLINED}
        if chosen["plan"] in PLANS and chosen["protection"] in known and guarantee_known:
            attrs.evolve(
                current,
                plan=chosen["plan"],
                protection=chosen["protection"],
                guarantee=chosen["guarantee"] or DECLINED,
            ).save()
            return redirect(url_for("checkout.review"))
        if not guarantee_known:
            flash(gettext("Please choose a buy-back guarantee offered for this device, or none."), "error")
            chosen["guarantee"] = DECLINED
        if chosen["plan"] not in PLANS or chosen["protection"] not in known:
            flash(
                gettext("Please choose how you want your trade-in value and whether to protect your device."),
                "error",
            )
    return render_template(
        "checkout_options.html",
        cart=current,
        chosen=chosen,
        product=product,
        offers=offers,
        guarantees=[terms_of(offer, product.variant.id) for offer in guarantees],
        plans=list(PLANS),
        months=BILL_CREDIT_MONTHS,
    )


@bp.get("/review")
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
        form=session.pop("checkout_form", {}),
        guarantee=terms_of(chosen, product.variant.id) if chosen is not None else None,
    )


@bp.post("/confirm")
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
        return _back_to_review(missing)
    try:
        payout = _payout(current.plan, summary)
        confirmed = trade_in.confirm_checkout(
            summary,
            payout=payout,
            contact=_contact(),
            insurance_accepted=accepted,
            guarantee_accepted=guaranteed and summary.guarantee is not None,
        )
    except InvalidPayoutError as error:
        return _back_to_review(error.localized(current_locale()))
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
    trade_in.issue_label(order.id)  # the send-by deadline starts now; the label is on the order page
    remember_order(order.id)
    Cart().save()
    flash(gettext("Thank you! Print the label and send your old device."), "success")
    if confirmed.guarantee is not None:
        flash(
            gettext(
                "Your buy-back guarantee %(id)s is signed; you find it on this page.",
                id=confirmed.guarantee["payload"]["id"],
            ),
            "success",
        )
    return redirect(url_for("orders.order", order_id=order.id))


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
        if line.code not in {"deferred_credit", "remainder"}
        and not (line.code == "promotion" and line.amount is None)
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


def _back_to_review(message: str) -> ResponseReturnValue:
    """Back to the summary with a message; what was typed and ticked (not amounts) is kept for the form."""
    flash(message, "error")
    session["checkout_form"] = {
        name: request.form.get(name, "")
        for name in ("name", "email", "iban", "holder", "protection_consent", "guarantee_consent")
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


def summary_digest(summary: CheckoutSummary) -> str:
    """A hash of all the summary shows (not its id, time or signature, which each computation renews)."""
    shown = {
        name: value
        for name, value in summary.to_json().items()
        if name not in {"checkout_id", "created_at", "signature"}
    }
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
