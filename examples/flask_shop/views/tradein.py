"""The trade-in: find the old device, pick its storage, answer the questionnaire, see the instant quote.

``POST /api/quotes`` is the same instant quote as JSON, for a shop frontend that renders it itself.

A quote the shop cannot pay for (recycling only) says why in words (the questionnaire's knockout texts, never
their codes), how to lift a lock the shopper can lift (with the question's hint: where to switch it off) and
get a new quote, and that the device can still be recycled free of charge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext

from tradein_sdk import DeviceNotFoundError, TradeInError

from ..cart import Cart, keep_quote, quote_tokens
from ..extension import current_locale, shop
from ..questionnaire import questionnaire_page
from ..questionnaire import questions as all_questions
from ..texts import text
from .co2 import quote_co2

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk import CatalogEntry, Quote, QuoteLine

bp = Blueprint("tradein", __name__, url_prefix="/trade-in")
api = Blueprint("api", __name__, url_prefix="/api")

SEARCH_LIMIT = 8

RECYCLE_FIXES = {
    "activation_lock_on": "find_my_off",
    "google_frp_on": "google_account_removed",
    "samsung_account_on": "samsung_account_removed",
}
"""The knockouts a shopper can lift at home (a lock), each with the question whose hint says how."""


@bp.get("/")
def search() -> ResponseReturnValue:
    """Search the old device by name (the typeahead fills the same list as you type)."""
    query = request.args.get("q", "").strip()
    hits = shop().trade_in.catalog.search(query, limit=SEARCH_LIMIT) if query else ()
    catalog = shop().trade_in.catalog
    return render_template("tradein_search.html", query=query, hits=hits, model_count=len(catalog))


@bp.get("/search.json")
def search_json() -> ResponseReturnValue:
    """The typeahead's suggestions: id, name, storage and where to go next."""
    query = request.args.get("q", "").strip()
    hits = shop().trade_in.catalog.search(query, limit=SEARCH_LIMIT) if len(query) >= 2 else ()
    return jsonify(
        [
            {
                "id": hit.id,
                "name": hit.model.display_name,
                "storage": hit.variant.storage_label if hit.variant else None,
                "category": hit.model.category.label(current_locale()),
                "url": _next_step(hit.model.id, hit.variant.id if hit.variant else None),
            }
            for hit in hits
        ]
    )


def _next_step(model_id: str, variant_id: str | None) -> str:
    if variant_id is not None:
        return url_for("tradein.questions", device_id=variant_id)
    return url_for("tradein.storage", model_id=model_id)


@bp.get("/models/<model_id>")
def storage(model_id: str) -> ResponseReturnValue:
    """Pick the storage size (a model with one size goes straight to the questions)."""
    entry = _lookup(model_id)
    if len(entry.model.variants) == 1:
        return redirect(url_for("tradein.questions", device_id=entry.model.variants[0].id))
    return render_template("tradein_storage.html", model=entry.model)


@bp.route("/devices/<device_id>", methods=["GET", "POST"])
def questions(device_id: str) -> ResponseReturnValue:
    """The condition questionnaire, section by section; the answers give the instant quote."""
    entry = _lookup(device_id)
    if entry.variant is None:
        return redirect(url_for("tradein.storage", model_id=entry.model.id))
    form = questionnaire_page(entry.variant.id, entry.model.category.value)
    if form.quote_id is not None:
        return redirect(url_for("tradein.quote", quote_id=form.quote_id))
    page = render_template(
        "tradein_questions.html",
        entry=entry,
        rendered=form.rendered,
        answers=form.answers,
        errors=form.errors,
    )
    return page, 422 if form.errors else 200


@bp.get("/quotes/<quote_id>")
def quote(quote_id: str) -> ResponseReturnValue:
    """The instant quote: the amount, every step of its computation, and how long it is valid."""
    if quote_id not in quote_tokens():
        abort(404)
    trade_in = shop().trade_in
    stored = trade_in.get_quote(quote_id)
    in_cart = quote_id in Cart.load().trade_ins
    reasons, fixes = _recycle_help(stored.quote)
    return render_template(
        "tradein_quote.html",
        quote=stored.quote,
        lines=shown_lines(trade_in.explain(stored.quote, current_locale())),
        used=stored.redemption is not None,
        in_cart=in_cart,
        grade=_grade_label(stored.quote),
        reasons=reasons,
        fixes=fixes,
        co2=quote_co2(quote_id),
    )


@bp.post("/quotes/<quote_id>/cart")
def add_to_cart(quote_id: str) -> ResponseReturnValue:
    """Credit the quote against the purchase: the cart keeps its id, its signed token stays in the session."""
    token = quote_tokens().get(quote_id)
    if token is None:
        abort(404)
    shop().trade_in.verify_token(token)  # an expired quote is refused with a friendly message
    current = Cart.load()
    if quote_id not in current.trade_ins:
        current = attrs.evolve(current, trade_ins=(*current.trade_ins, quote_id))
        current.save()
    flash(gettext("Your trade-in credit is in the cart."), "success")
    return redirect(url_for("shop.cart") if current.product_sku else url_for("shop.home", _anchor="devices"))


def _lookup(device_id: str) -> CatalogEntry:
    try:
        return shop().trade_in.catalog.lookup(device_id)
    except DeviceNotFoundError:
        abort(404)


def _grade_label(quote: Quote) -> str | None:
    if quote.pricing_grade is None:
        return None
    rendered = shop().trade_in.render_questionnaire(quote.device.category, current_locale())
    return next((grade.text for grade in rendered.pricing_grades if grade.id == quote.pricing_grade), None)


@attrs.frozen(kw_only=True)
class RecycleFix:
    """What a shopper can do about a knockout: lift a lock, then get a new quote.

    Attributes:
        text: what to do, in the shopper's language.
        how: where on the device (the question's hint), or ``None``.
    """

    text: str
    how: str | None = None


def _recycle_help(quote: Quote) -> tuple[list[str], list[RecycleFix]]:
    """Why a quote is recycling only (the questionnaire's texts) and which of its knockouts can be lifted."""
    if not quote.recycle_only:
        return [], []
    rendered = shop().trade_in.render_questionnaire(quote.device.category, current_locale())
    messages = {finding.knockout: finding.text for finding in rendered.findings if finding.knockout}
    hints = {question.id: question.help for question in all_questions(rendered)}
    reasons = [messages[code] for code in quote.recycle_reasons if code in messages]
    fixes = [
        RecycleFix(text=text("recycle.fix", code), how=hints.get(RECYCLE_FIXES[code]))
        for code in quote.recycle_reasons
        if code in RECYCLE_FIXES
    ]
    return reasons, fixes


def shown_lines(lines: tuple[QuoteLine, ...]) -> list[QuoteLine]:
    """A quote's lines as a shopper reads them: the recycling line in words, without knockout codes."""
    return [
        attrs.evolve(line, text=gettext("No price: we can recycle the device free of charge."))
        if line.code == "recycle_only"
        else line
        for line in lines
    ]


# -- JSON ---------------------------------------------------------------------------------------------------


@api.post("/quotes")
def instant_quote() -> ResponseReturnValue:
    """An instant quote as JSON: ``{"device_id": ..., "answers": {...}}`` → amount, lines, validity, token.

    Send the CSRF token in the ``X-CSRF-Token`` header. Errors come back as ``{"error": code, "message":
    ..., "problems": [...]}`` with status 422.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("device_id"), str):
        return jsonify(
            {"error": "bad_request", "message": gettext('Send {"device_id": ..., "answers": {...}} as JSON.')}
        ), 400
    locale = current_locale()
    try:
        issued = shop().trade_in.quote(body["device_id"], body.get("answers"), locale=locale)
    except TradeInError as error:
        problems = getattr(error, "problems", ())
        return jsonify(
            {
                "error": error.code,
                "message": error.localized(locale),
                "problems": [{"path": p.path, "code": p.code} for p in problems if hasattr(p, "code")],
            }
        ), 422
    keep_quote(issued.quote.id, issued.token)
    quote = issued.quote
    return jsonify(
        {
            "quote_id": quote.id,
            "kind": quote.kind.value,
            "amount": quote.amount.to_json(),
            "amount_text": quote.amount.format(locale),
            "expires_at": quote.expires_at.isoformat(),
            "recycle_only": quote.recycle_only,
            "lines": [
                {"text": line.text, "amount": line.amount.to_json()} for line in shown_lines(quote.lines)
            ],
            "token": issued.token,
        }
    )
