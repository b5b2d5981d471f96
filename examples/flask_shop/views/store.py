"""Store mode for carrier staff: IMEI, a check with the customer, a guaranteed quote, applied at the counter.

A store quote is verified by staff (every check answered, the IMEI required), so it is guaranteed, valid
for a day, and the device is handed over on the spot: no shipping, no revision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from tradein_sdk import (
    Actor,
    AnswersInvalidError,
    Channel,
    DeviceNotFoundError,
    InvalidIMEIError,
    Voucher,
    order_reference,
    parse_imei,
)

from ..cart import keep_quote, quote_tokens
from ..extension import current_locale, shop
from ..questionnaire import answers_from_form, problems_by_question
from .staff import staff_required

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("store", __name__, url_prefix="/store")

COUNTER_CREDIT = "store-counter-credit"


@bp.route("/", methods=["GET", "POST"])
@staff_required
def identify() -> ResponseReturnValue:
    """Enter or scan the IMEI (a scanner types it), and find the model when the catalog knows its TAC."""
    catalog = shop().trade_in.catalog
    imei = request.values.get("imei", "").strip()
    query = request.values.get("q", "").strip()
    error = None
    identified = None
    if imei:
        try:
            parsed = parse_imei(imei)
        except InvalidIMEIError as problem:
            error = problem.localized(current_locale())
        else:
            imei = parsed.value
            try:
                identified = catalog.model_for_imei(imei)
            except DeviceNotFoundError:
                identified = None
    hits = catalog.search(query, limit=8) if query and not error else ()
    if identified is not None and not query:
        hits = tuple(catalog.search(identified.display_name, limit=1))
    return render_template(
        "store_identify.html", imei=imei, query=query, hits=hits, error=error, identified=identified
    )


@bp.route("/check/<device_id>", methods=["GET", "POST"])
@staff_required
def check(device_id: str) -> ResponseReturnValue:
    """Go through the questionnaire with the customer, staff checks included; the quote is guaranteed."""
    trade_in = shop().trade_in
    try:
        entry = trade_in.catalog.lookup(device_id)
    except DeviceNotFoundError:
        abort(404)
    if entry.variant is None:
        return render_template(
            "tradein_storage.html", model=entry.model, store_imei=request.args.get("imei", "")
        )
    imei = request.values.get("imei", "")
    locale = current_locale()
    rendered = trade_in.render_questionnaire(entry.model.category.value, locale, staff=True)
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers = answers_from_form(rendered, request.form)
        try:
            issued = trade_in.quote(
                entry.variant.id,
                answers,
                locale=locale,
                imei=imei,
                channel=Channel.STORE,
                verification="staff_verified",
            )
        except AnswersInvalidError as error:
            errors = problems_by_question(error.problems, locale)
        except InvalidIMEIError as error:
            errors = {"_": error.localized(locale)}
        else:
            keep_quote(issued.quote.id, issued.token)
            return redirect(url_for("store.quote", quote_id=issued.quote.id))
    page = render_template(
        "store_check.html", entry=entry, rendered=rendered, answers=answers, errors=errors, imei=imei
    )
    return page, 422 if errors else 200


@bp.get("/quotes/<quote_id>")
@staff_required
def quote(quote_id: str) -> ResponseReturnValue:
    """The guaranteed quote, to show the customer and apply."""
    if quote_id not in quote_tokens():
        abort(404)
    trade_in = shop().trade_in
    stored = trade_in.get_quote(quote_id)
    lines = trade_in.explain(stored.quote, current_locale())
    return render_template("store_quote.html", quote=stored.quote, lines=lines, redemption=stored.redemption)


@bp.post("/quotes/<quote_id>/apply")
@staff_required
def apply(quote_id: str) -> ResponseReturnValue:
    """Apply the quote at the counter: the order opens, the device is handed over, the credit is given."""
    token = quote_tokens().get(quote_id)
    if token is None:
        abort(404)
    trade_in = shop().trade_in
    order = trade_in.accept(
        [token], payout=Voucher(program=COUNTER_CREDIT), instant_credit=True, actor=Actor.STAFF
    )
    trade_in.record_event(order.id, "d1", "hand_over", actor="staff")
    trade_in.record_event(order.id, "d1", "confirm", actor="staff")
    trade_in.settle(order.id, "d1")
    flash(gettext("Applied; order %(order)s.", order=order_reference(order.id)), "success")
    return redirect(url_for("store.quote", quote_id=quote_id))
