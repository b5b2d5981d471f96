"""The shopper's order page: status timeline, send-by deadline, shipping label, revised offers, money.

"Your money" is read from the order's ledger: what the checkout promised and what reached the shopper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from examples.flask_shop.cart import my_orders
from examples.flask_shop.extension import current_locale, shop, t
from examples.flask_shop.statement import statement
from tradein_sdk import DeviceState, OrderNotFoundError

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk import TradeInOrder

bp = Blueprint("orders", __name__, url_prefix="/orders")

TIMELINE = (
    DeviceState.ACCEPTED,
    DeviceState.AWAITING_SHIPMENT,
    DeviceState.IN_TRANSIT,
    DeviceState.RECEIVED,
    DeviceState.INSPECTED,
    DeviceState.CONFIRMED,
    DeviceState.PAID,
)
"""The happy path, shown as the timeline's milestones; other states are shown as they happen."""


def load_order(order_id: str) -> TradeInOrder:
    """The order, if this session placed it (or staff is signed in); 404 otherwise."""
    if order_id not in my_orders() and not session.get("staff"):
        abort(404)
    try:
        return shop().trade_in.order(order_id)
    except OrderNotFoundError:
        abort(404)


def order_details(order: TradeInOrder) -> dict[str, Any]:
    """What both order pages show: the order, its quotes, inspection reports, clawbacks and ledger."""
    state = shop()
    quotes = {device.id: state.trade_in.get_quote(device.quote_id).quote for device in order.devices}
    ledger = state.trade_in.ledger(order.id)
    names = {device_id: quote.device.display_name for device_id, quote in quotes.items()}
    return {
        "order": order,
        "quotes": quotes,
        "names": names,
        "reports": state.records.reports(order.id),
        "clawbacks": state.trade_in.clawbacks(order.id),
        "ledger": ledger,
        "statement": statement(ledger, device_names=names, promotion_titles=promotion_titles()),
    }


def promotion_titles() -> dict[str, str]:
    """Each promotion's title in the shopper's language, by promotion id."""
    book = shop().trade_in.promotions
    if book is None:
        return {}
    return {promotion.id: promotion.localized_title(current_locale()) for promotion in book.promotions}


@bp.get("/")
def mine() -> ResponseReturnValue:
    """The orders placed in this session."""
    trade_in = shop().trade_in
    return render_template("orders.html", orders=[trade_in.order(order_id) for order_id in my_orders()])


@bp.get("/<order_id>")
def order(order_id: str) -> ResponseReturnValue:
    """Where each device is, what happens next, and a revised offer to answer."""
    found = load_order(order_id)
    return render_template(
        "order.html",
        **order_details(found),
        timeline=TIMELINE,
        awaiting=any(device.state is DeviceState.AWAITING_SHIPMENT for device in found.devices),
    )


@bp.get("/<order_id>/label")
def label(order_id: str) -> ResponseReturnValue:
    """The printable shipping label (the library's self-contained HTML, with its barcode)."""
    found = load_order(order_id)
    if not any(device.state is DeviceState.AWAITING_SHIPMENT for device in found.devices):
        abort(404)
    return shop().trade_in.issue_label(order_id).to_html(current_locale())


@bp.post("/<order_id>/devices/<device_id>/shipped")
def shipped(order_id: str, device_id: str) -> ResponseReturnValue:
    """The shopper says the parcel is handed over (a carrier's tracking would say so too)."""
    load_order(order_id)
    shop().trade_in.record_event(order_id, device_id, "ship", actor="shopper")
    flash(t("order.shipped_thanks"), "success")
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/<order_id>/devices/<device_id>/revision")
def revision(order_id: str, device_id: str) -> ResponseReturnValue:
    """Accept the revised offer, or decline it and get the device back free of charge."""
    load_order(order_id)
    accept = request.form.get("decision") == "accept"
    shop().trade_in.respond_to_revision(order_id, device_id, accept=accept)
    flash(t("order.revision_accepted" if accept else "order.revision_declined"), "success")
    return redirect(url_for("orders.order", order_id=order_id))
