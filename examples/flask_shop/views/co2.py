"""CO2e avoided by device reuse: the public method page and the figures of the quote and order pages.

The quote and order pages show each figure with a link to ``/co2/method``, which explains the calculation in
plain words with the factor document's version and sources. The staff's period report is
:mod:`.staff_co2`.

Avoided emissions are shown in whole kilograms (the ``kg`` filter), with their range; they stay apart from any
Scope-3 inventory, as the report does.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from flask import Blueprint, render_template

from tradein_sdk import TradeInError

from ..extension import format_number, shop

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk._domain.co2 import DeviceCO2, OrderCO2

bp = Blueprint("co2", __name__, url_prefix="/co2")
"""The public method page."""

WHOLE_KG = Decimal(1)


def whole_kg(value: Decimal | str | int) -> Decimal:
    """``value`` (kg CO2e, a number or its decimal text) rounded half-up to whole kilograms."""
    return Decimal(str(value)).quantize(WHOLE_KG, ROUND_HALF_UP) + 0  # + 0: no "-0"


@bp.app_template_filter("kg")
def format_kg(value: Decimal | str | int) -> str:
    """Kilograms CO2e, rounded to whole kg, in the shopper's locale (``1.234``)."""
    return format_number(whole_kg(value))


def quote_co2(quote_id: str) -> DeviceCO2 | None:
    """The CO2 estimate of a quote (``None`` when the factors cannot give one: the page shows none)."""
    try:
        return shop().trade_in.quote_co2(quote_id)
    except TradeInError:
        return None


def order_co2(order_id: str) -> OrderCO2 | None:
    """The CO2 result of an order (``None`` when the factors cannot give one)."""
    try:
        return shop().trade_in.order_co2(order_id)
    except TradeInError:
        return None


@bp.get("/method")
def method() -> ResponseReturnValue:
    """How the figures are calculated, with the factor document's version and its sources."""
    factors = shop().trade_in.co2_factors
    return render_template(
        "co2_method.html",
        factors=factors,
        sources=sorted(factors.sources.items()),
        displacement=factors.displacement.value,
        second_life=factors.second_life_years.value,
    )
