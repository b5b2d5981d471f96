"""The back office: incoming devices, inspection against the shopper's answers, payouts, tick, audit.

Signed-in staff only (``TRADEIN_STAFF_PASSWORD``; a real shop uses its own sign-in).
"""

from __future__ import annotations

import functools
import hmac
from typing import TYPE_CHECKING, Any, ParamSpec

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from examples.flask_shop.extension import DEMO_STAFF_PASSWORD, ShopState, current_locale, shop, t
from examples.flask_shop.questionnaire import answers_from_form, problems_by_question
from examples.flask_shop.records import InspectionReport
from examples.flask_shop.views.orders import order_details
from tradein_sdk import AnswersInvalidError, DeviceState, OrderNotFoundError, TradeInError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from flask.typing import ResponseReturnValue

    from tradein_sdk import InspectionDiff, TradeInOrder

bp = Blueprint("staff", __name__, url_prefix="/staff")
P = ParamSpec("P")

ACTIONS: dict[str, tuple[DeviceState, ...]] = {
    "receive": (DeviceState.AWAITING_SHIPMENT, DeviceState.IN_TRANSIT),
    "settle": (DeviceState.CONFIRMED, DeviceState.REVISION_ACCEPTED),
    "returned": (DeviceState.RETURNING,),
}
"""The one-click actions of a device, by the states they apply to."""


def staff_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send anyone not signed in to the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if not session.get("staff"):
            return redirect(url_for("staff.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with the back office password."""
    if request.method == "POST":
        given = request.form.get("password", "")
        if hmac.compare_digest(given.encode(), shop().staff_password.encode()):
            session["staff"] = True
            target = request.args.get("next", "")
            return redirect(
                target if target.startswith("/") and not target.startswith("//") else url_for("staff.orders")
            )
        flash(t("staff.wrong_password"), "error")
    return render_template("staff_login.html", demo=shop().staff_password == DEMO_STAFF_PASSWORD), 200


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    session.pop("staff", None)
    return redirect(url_for("shop.home"))


@bp.get("/")
@staff_required
def orders() -> ResponseReturnValue:
    """Every order, newest first, with where each device is; the devices that arrived come first."""
    trade_in = shop().trade_in
    found = trade_in.list_orders(limit=100)
    state = request.args.get("state", "")
    if state:
        found = [order for order in found if any(device.state.value == state for device in order.devices)]
    incoming = [
        (order, device)
        for order in found
        for device in order.devices
        if device.state in {DeviceState.RECEIVED, DeviceState.RELEASED, DeviceState.IN_TRANSIT}
    ]
    return render_template(
        "staff_orders.html", orders=found, incoming=incoming, state=state, states=list(DeviceState)
    )


@bp.get("/orders/<order_id>")
@staff_required
def order(order_id: str) -> ResponseReturnValue:
    """One order: each device with its quote, inspection report, history and the actions that fit."""
    return render_template("staff_order.html", **order_details(_order(order_id)), actions=ACTIONS)


@bp.post("/orders/<order_id>/devices/<device_id>/<action>")
@staff_required
def act(order_id: str, device_id: str, action: str) -> ResponseReturnValue:
    """Mark received, pay out or credit, or mark returned."""
    trade_in = shop().trade_in
    if action == "receive":
        trade_in.record_event(order_id, device_id, "receive", actor="staff")
    elif action == "settle":
        trade_in.settle(order_id, device_id)
    elif action == "returned":
        trade_in.record_event(order_id, device_id, "returned", actor="staff")
    else:
        abort(404)
    flash(t(f"staff.done_{action}"), "success")
    return redirect(url_for("staff.order", order_id=order_id))


@bp.route("/orders/<order_id>/devices/<device_id>/inspect", methods=["GET", "POST"])
@staff_required
def inspect(order_id: str, device_id: str) -> ResponseReturnValue:
    """The same questionnaire, staff checks included, prefilled with the shopper's answers to compare."""
    state = shop()
    found = _order(order_id)
    device = found.device(device_id)
    quote = state.trade_in.get_quote(device.quote_id).quote
    rendered = state.trade_in.render_questionnaire(quote.device.category, current_locale(), staff=True)
    declared = {line.question: line.answer_text for line in quote.transcript}
    answers: dict[str, Any] = dict(quote.answers)
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers = answers_from_form(rendered, request.form)
        try:
            diff = record_inspection(
                state, order_id, device_id, answers, imei=request.form.get("imei", "").strip() or None
            )
        except AnswersInvalidError as error:
            errors = problems_by_question(error.problems, current_locale())
        except TradeInError as error:
            errors = {"_": error.localized(current_locale())}
        else:
            flash(t("staff.inspected", offer=diff.revised_offer.format(current_locale())), "success")
            return redirect(url_for("staff.order", order_id=order_id))
    page = render_template(
        "staff_inspect.html",
        order=found,
        device=device,
        quote=quote,
        rendered=rendered,
        answers=answers,
        declared=declared,
        errors=errors,
    )
    return page, 422 if errors else 200


def record_inspection(
    state: ShopState, order_id: str, device_id: str, answers: Mapping[str, Any], *, imei: str | None = None
) -> InspectionDiff:
    """Inspect a device and keep the report the shopper will see (in the language they quoted in)."""
    diff = state.trade_in.inspect(order_id, device_id, answers, imei=imei)
    state.records.add_report(
        order_id, device_id, InspectionReport.from_diff(diff), now=state.trade_in.clock.now()
    )
    return diff


@bp.post("/tick")
@staff_required
def tick() -> ResponseReturnValue:
    """Apply the deadlines that passed (expiry, silence on a revised offer); safe to run from anywhere."""
    changed = shop().trade_in.tick()
    flash(t("staff.ticked", count=changed), "success")
    return redirect(url_for("staff.orders"))


@bp.get("/audit")
@staff_required
def audit() -> ResponseReturnValue:
    """Verify the audit log's hash chain."""
    return render_template("staff_audit.html", verification=shop().trade_in.verify_audit())


def _order(order_id: str) -> TradeInOrder:
    try:
        return shop().trade_in.order(order_id)
    except OrderNotFoundError:
        abort(404)
