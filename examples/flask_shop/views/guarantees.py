"""Exercising a buy-back guarantee, its signed contract, and checking a contract file.

On the order a guarantee was sold with, "Trade it in at the guaranteed price" opens once the contract's
window (or its early start) has begun: the shopper describes the device with the shop's questionnaire,
which gives today's market quote; the next page shows what the guarantee promises for the device as
described (the library's computation, never the form's) and asks how to be paid; confirming calls
``redeem_guarantee``, which opens an ordinary trade-in order (label, parcel, inspection, settlement by
staff on the existing pages) whose device promises that amount and names the contract.

The contract's signed JSON downloads from the order page (private to the order, like the page); anyone can
check a contract file on ``/guarantees/verify``, or offline against ``/guarantees/keys.json`` (the shop's
published Ed25519 keys, purpose ``buyback-guarantee``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext

from tradein_sdk import (
    CONTRACT_PURPOSE,
    BankTransfer,
    DeviceNotFoundError,
    GuaranteeError,
    GuaranteeNotFoundError,
    InvalidPayoutError,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteNotFoundError,
    QuoteTokenError,
    SignatureInvalidError,
    Voucher,
    contract_from_document,
    verify_document,
)

from ..cart import quote_tokens, remember_order
from ..extension import current_locale, format_date, shop
from ..guarantees import (
    ContractView,
    contract_view,
    error_text,
    promise,
    sold_with,
    terms_of,
)
from ..questionnaire import questionnaire_page
from ..texts import text
from .checkout import VOUCHER_PROGRAM
from .orders import MAX_CERTIFICATE_BYTES, load_order, unreadable

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response as Redirect

    from tradein_sdk import PayoutDetails, TradeInOrder

bp = Blueprint("guarantees", __name__)

PAYOUTS = ("voucher", "bank")
"""How the guaranteed amount is paid: a shop voucher, or a bank transfer."""

REASONS = ("malformed", "wrong_purpose", "unknown_kid", "bad_signature")
"""Why a contract file does not verify (each has its text ``guarantee.reason_<reason>``)."""


def _contract(order_id: str, contract_id: str) -> tuple[TradeInOrder, ContractView]:
    """The order (this session's, or staff's) and a contract sold with it; 404 otherwise."""
    order = load_order(order_id)
    if contract_id not in sold_with(order_id):
        abort(404)
    try:
        return order, contract_view(contract_id)
    except GuaranteeNotFoundError:
        abort(404)


def _back_to_order(order_id: str, contract_id: str, message: str) -> Redirect:
    flash(message, "error")
    return redirect(url_for("orders.order", order_id=order_id, _anchor=f"guarantee-{contract_id}"))


def _not_now(view: ContractView) -> str:
    """Why the contract cannot be exercised today, in the shopper's language."""
    status = view.status.status.value
    if status == "open" and view.today < view.opens_on:
        return gettext(
            "This buy-back guarantee can be used from %(day)s.", day=format_date(view.opens_on, "long")
        )
    if status in {"open", "lapsed"}:
        return gettext("This buy-back guarantee has expired.", day="")
    return gettext(
        "This buy-back guarantee has been used already, or a trade-in with it is under way.", day=""
    )


@bp.get("/orders/<order_id>/guarantees/<contract_id>.json")
def document(order_id: str, contract_id: str) -> ResponseReturnValue:
    """The signed contract (verifiable offline with the shop's published keys)."""
    _contract(order_id, contract_id)
    envelope = shop().trade_in.guarantee_document(contract_id)
    safe = "".join(char for char in contract_id if char.isalnum() or char in "-_")
    return Response(
        json.dumps(envelope, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="buyback-guarantee-{safe}.json"'},
    )


@bp.route("/orders/<order_id>/guarantees/<contract_id>/trade-in", methods=["GET", "POST"])
def exercise(order_id: str, contract_id: str) -> ResponseReturnValue:
    """Describe the device a guarantee buys back (the shop's questionnaire): today's quote for it."""
    order, view = _contract(order_id, contract_id)
    if not view.exercisable:
        return _back_to_order(order.id, contract_id, _not_now(view))
    trade_in = shop().trade_in
    try:
        entry = trade_in.catalog.lookup(view.contract.device)
    except DeviceNotFoundError:
        abort(404)
    form = questionnaire_page(view.contract.device, entry.model.category.value)
    if form.quote_id is not None:
        return redirect(
            url_for("guarantees.confirm", order_id=order.id, contract_id=contract_id, quote_id=form.quote_id)
        )
    page = render_template(
        "guarantee_questions.html",
        order=order,
        view=view,
        rendered=form.rendered,
        answers=form.answers,
        errors=form.errors,
    )
    return page, 422 if form.errors else 200


@bp.route("/orders/<order_id>/guarantees/<contract_id>/trade-in/<quote_id>", methods=["GET", "POST"])
def confirm(order_id: str, contract_id: str, quote_id: str) -> ResponseReturnValue:
    """What the guarantee promises for the device as described; confirming opens the trade-in order."""
    order, view = _contract(order_id, contract_id)
    trade_in = shop().trade_in
    token = quote_tokens().get(quote_id)
    if token is None:
        abort(404)
    try:
        stored = trade_in.get_quote(quote_id)
    except QuoteNotFoundError:
        abort(404)
    quote = stored.quote
    if view.contract.device not in {quote.device.variant_id, quote.device.model_id}:
        abort(404)
    if stored.redemption is not None:
        return _back_to_order(order.id, contract_id, gettext("This quote has been used."))
    try:
        promised = promise(view, token)
    except GuaranteeError as error:
        return _back_to_order(order.id, contract_id, error_text(error))
    form = {name: request.form.get(name, "").strip() for name in ("payout", "iban", "holder")}
    error_message = None
    if request.method == "POST":
        redeemed = _redeem(order, view, token, form)
        if not isinstance(redeemed, str):
            return redeemed
        error_message = redeemed
    page = render_template(
        "guarantee_quote.html",
        order=order,
        view=view,
        quote=quote,
        promised=promised,
        grade=_grade(view, quote.pricing_grade),
        form=form,
        payouts=PAYOUTS,
        error=error_message,
    )
    return page, 422 if error_message else 200


def _redeem(order: TradeInOrder, view: ContractView, token: str, form: dict[str, str]) -> Redirect | str:
    """Open the order exercising the guarantee: where to go next, or what to correct on the form."""
    if form["payout"] not in PAYOUTS:
        return gettext("Please choose how we pay you.")
    trade_in = shop().trade_in
    try:
        opened = trade_in.redeem_guarantee(view.id, token, payout=_payout(form))
    except InvalidPayoutError as error:
        return error.localized(current_locale())
    except GuaranteeError as error:
        return _back_to_order(order.id, view.id, error_text(error))
    except (QuoteExpiredError, QuoteAlreadyRedeemedError, QuoteTokenError) as error:
        flash(error.localized(current_locale()), "error")
        return redirect(url_for("guarantees.exercise", order_id=order.id, contract_id=view.id))
    trade_in.issue_label(opened.id)  # the send-by deadline starts now; the label is on the order page
    remember_order(opened.id)
    flash(
        gettext(
            "Your trade-in at the guaranteed price is open: we promise %(amount)s. Print the label "
            "and send the device.",
            amount=opened.devices[0].quoted.format(current_locale()),
        ),
        "success",
    )
    return redirect(url_for("orders.order", order_id=opened.id))


def _payout(form: dict[str, str]) -> PayoutDetails:
    """How the guaranteed amount is paid, as chosen (bank details are validated by the library)."""
    if form["payout"] == "bank":
        return BankTransfer(iban=form["iban"], holder=form["holder"])
    return Voucher(program=VOUCHER_PROGRAM)


def _grade(view: ContractView, grade: str | None) -> str | None:
    """A pricing grade by its name in the shopper's language."""
    if grade is None:
        return None
    category = shop().trade_in.catalog.lookup(view.contract.device).model.category.value
    rendered = shop().trade_in.render_questionnaire(category, current_locale())
    return next((item.text for item in rendered.pricing_grades if item.id == grade), grade)


# -- checking a contract file --------------------------------------------------------------------------------


@bp.get("/guarantees/keys.json")
def keys() -> ResponseReturnValue:
    """The shop's published keys (JWKS): they verify a contract offline (purpose ``buyback-guarantee``)."""
    signing = shop().trade_in.signing_keys
    if signing is None:
        abort(404)
    return jsonify(signing.jwks())


@bp.route("/guarantees/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """Check a contract file (or its pasted JSON) against the shop's published keys; show its terms.

    Public: the check needs only the contract and the keys. Nothing, or input that is not a JSON object, is
    a bad request (400) with a message saying so; a contract that does not verify says why.
    """
    if request.method == "GET":
        return render_template("guarantee_verify.html", result=None, error=None, pasted="")
    upload = request.files.get("contract")
    raw = upload.read(MAX_CERTIFICATE_BYTES + 1) if upload is not None and upload.filename else b""
    pasted = request.form.get("text", "").strip()
    if not raw and pasted:
        raw = pasted.encode("utf-8")
    error = unreadable(raw, "guarantee")
    if error is not None:
        return render_template("guarantee_verify.html", result=None, error=error, pasted=pasted), 400
    signing = shop().trade_in.signing_keys
    if signing is None:
        abort(404)
    result: dict[str, Any]
    try:
        payload = verify_document(raw, signing.public_keys(), purpose=CONTRACT_PURPOSE)
        contract = contract_from_document(payload)
    except SignatureInvalidError as problem:
        reason = problem.reason if problem.reason in REASONS else "malformed"
        result = {"ok": False, "reason": text("guarantee.reason", reason), "code": reason}
    except (KeyError, TypeError, ValueError):
        result = {
            "ok": False,
            "reason": gettext("The signature is valid, but the contract cannot be read."),
            "code": "content",
        }
    else:
        result = {"ok": True, "contract": contract, "terms": terms_of(contract.offer, contract.device)}
    return render_template("guarantee_verify.html", result=result, error=None, pasted=pasted)
