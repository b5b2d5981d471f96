"""The demo clock's control: "Demo: one year later", a month later, back to today.

Shown in the page header when the shop runs a demo clock (``TRADEIN_DEMO_CLOCK``): to anyone in demo mode
(``on``), to signed-in staff only with ``staff``; otherwise the route does not exist (404). See
:mod:`examples.flask_shop.democlock`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, url_for

from ..extension import format_date, same_site_path, shop
from ..texts import text

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("demo", __name__, url_prefix="/demo")

MOVES = ("year", "month", "reset")
"""What the control does: a year later, a month later, back to today."""


@bp.post("/clock")
def clock() -> ResponseReturnValue:
    """Move the shop's clock as asked, then go back to the page the control was on."""
    state = shop()
    demo_clock = state.demo_clock
    if demo_clock is None or not state.demo_clock_shown():
        abort(404)
    move = request.form.get("move", "")
    if move not in MOVES:
        abort(400)
    if move == "year":
        now = demo_clock.one_year_later()
    elif move == "month":
        now = demo_clock.one_month_later()
    else:
        now = demo_clock.reset()
    flash(text("demo.moved", move, date=format_date(now, "long")), "success")
    return redirect(_back())


def _back() -> str:
    """The page the control was on (a path of this shop), else the start page."""
    target = same_site_path(request.form.get("next"))
    if target is not None:
        return target
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    return url_for("shop.home")
