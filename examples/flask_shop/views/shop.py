"""The shop front: new devices, the cart with its trade-in credits and the promotions that apply.

A cart may hold a new device alone (bought outright) or with trade-ins; its summary is the library's either
way. A promotion for contract customers only is shown with that condition in words (the checkout asks).

Each product has a drawing made here (``/products/<sku>.svg``); ``/favicon.ico`` is where browsers look.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import attrs
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext

from tradein_sdk import CheckoutInvalidError, QuoteExpiredError, QuoteStateError, QuoteTokenError

from ..cart import DECLINED, Cart, quote_tokens
from ..extension import current_locale, shop
from ..purchase import contract_condition

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk import CheckoutSummary, Quote

bp = Blueprint("shop", __name__)

IMAGE_MAX_AGE = 86_400
"""How long a browser keeps a product's drawing (seconds)."""


@bp.get("/")
def home() -> ResponseReturnValue:
    """New devices at their retail prices, and the way into the trade-in."""
    state = shop()
    category = request.args.get("category")
    products = [p for p in state.products if category in {None, "", p.model.category.value}]
    return render_template("home.html", products=products, category=category or "")


@bp.get("/products/<sku>.svg")
def product_image(sku: str) -> ResponseReturnValue:
    """The product's drawing (``product.svg``: its form, camera and finish), made here without any network."""
    product = shop().product(sku)
    if product is None:
        abort(404)
    shade = zlib.crc32(product.variant.id.encode())  # the same finish for the same product, every time
    response = current_app.response_class(
        render_template("product.svg", product=product, shade=shade), mimetype="image/svg+xml"
    )
    response.cache_control.public = True
    response.cache_control.max_age = IMAGE_MAX_AGE
    return response


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """The icon for browsers that ask for it at the root (the pages name ``static/favicon.svg`` too)."""
    return send_from_directory(str(current_app.static_folder), "favicon.ico", mimetype="image/x-icon")


@bp.post("/cart/device")
def choose_device() -> ResponseReturnValue:
    """Put a new device in the cart (named by its article number; the price is the shop's)."""
    product = shop().product(request.form.get("sku", ""))
    if product is None:
        abort(404)
    current = Cart.load()
    if current.product_sku != product.sku:  # a guarantee is offered for one device: choose it again
        current = attrs.evolve(current, guarantee=DECLINED)
    attrs.evolve(current, product_sku=product.sku).save()
    flash(gettext("%(name)s is in your cart.", name=product.name), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/cart/trade-ins/<quote_id>/remove")
def remove_trade_in(quote_id: str) -> ResponseReturnValue:
    """Take a trade-in credit out of the cart."""
    cart = Cart.load()
    attrs.evolve(cart, trade_ins=tuple(q for q in cart.trade_ins if q != quote_id)).save()
    return redirect(url_for("shop.cart"))


@bp.get("/cart")
def cart() -> ResponseReturnValue:
    """The cart: the new device, each trade-in credit, the promotions that apply or do not, the summary.

    A device alone is priced too (bought outright): its summary is the price, and the checkout is open.
    """
    state = shop()
    current = Cart.load()
    product = state.product(current.product_sku) if current.product_sku else None
    quotes = [quote for quote in (_valid_quote(quote_id) for quote_id in current.trade_ins) if quote]
    if len(quotes) != len(current.trade_ins):
        current = attrs.evolve(current, trade_ins=tuple(quote.id for quote in quotes))
        current.save()
    preview: CheckoutSummary | None = None
    if product is not None:
        try:
            preview = state.trade_in.checkout(
                attrs.evolve(current, protection=None, guarantee=DECLINED).request(product, current_locale())
            )
        except CheckoutInvalidError:  # a library that sells nothing without a trade-in: no summary yet
            preview = None
    promotion_ids = {
        promotion_id
        for trade_in in (preview.trade_ins if preview else ())
        for promotion_id in [p.promotion_id for p in trade_in.promotions]
        + [p.promotion_id for p in trade_in.rejected]
    }
    conditions = {
        promotion_id: condition
        for promotion_id in promotion_ids
        if (condition := contract_condition(promotion_id)) is not None
    }
    return render_template(
        "cart.html", cart=current, product=product, quotes=quotes, preview=preview, conditions=conditions
    )


def _valid_quote(quote_id: str) -> Quote | None:
    """The stored quote, when its token still verifies and it was not used; else a message says why."""
    trade_in = shop().trade_in
    token = quote_tokens().get(quote_id)
    try:
        if token is None:
            return None
        trade_in.verify_token(token)
        stored = trade_in.get_quote(quote_id)
        if stored.redemption is not None:
            return None
    except (QuoteTokenError, QuoteExpiredError, QuoteStateError) as error:
        flash(error.localized(current_locale()), "error")
        return None
    return stored.quote
