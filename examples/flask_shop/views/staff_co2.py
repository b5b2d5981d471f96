"""The staff's CO2 report of a period: totals, a table by month, the chart and the downloads.

``/staff/co2`` sums a period (``from``/``to``, default: the current calendar year by the shop's clock) from
the report of :meth:`~tradein_sdk.TradeIn.co2_report_document`; its chart is ``/staff/co2/chart.png`` and the
downloads are the signed JSON report, the CSV (one row per device) and the PDF. A date that cannot be read,
or a period that ends before it starts, is a 400 naming the field. Signed-in staff only.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext

from ..extension import current_locale, shop
from ..texts import text
from .staff import staff_required

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("staff_co2", __name__, url_prefix="/staff/co2")


def _period() -> tuple[date, date] | str:
    """The period from the query (``from``, ``to``; the current calendar year by default), or its problem."""
    year = shop().trade_in.clock.now().date().year
    dates: dict[str, date] = {}
    for field, default in (("from", date(year, 1, 1)), ("to", date(year, 12, 31))):
        typed = request.args.get(field, "").strip()
        try:
            dates[field] = date.fromisoformat(typed) if typed else default
        except ValueError:
            return gettext(
                "“%(field)s” is not a date: %(value)s", field=text("carbon.field", field), value=typed
            )
    if dates["to"] < dates["from"]:
        return gettext("“%(field)s” is before the start of the period.", field=gettext("Until (inclusive)"))
    return dates["from"], dates["to"]


def _period_or_400() -> tuple[date, date]:
    found = _period()
    if isinstance(found, str):
        abort(400)
    return found


@bp.get("")
@staff_required
def report() -> ResponseReturnValue:
    """The period's totals, the table by month, the chart and the downloads (a bad period: 400)."""
    found = _period()
    if isinstance(found, str):
        page = render_template(
            "staff_co2.html",
            error=found,
            start=request.args.get("from", ""),
            end=request.args.get("to", ""),
            payload=None,
        )
        return page, 400
    start, end = found
    payload: dict[str, Any] = shop().trade_in.co2_report_document(start, end, locale=current_locale())
    return render_template(
        "staff_co2.html",
        error=None,
        start=start.isoformat(),
        end=end.isoformat(),
        payload=payload,
        query={"from": start.isoformat(), "to": end.isoformat()},
    )


@bp.get("/chart.png")
@staff_required
def chart() -> ResponseReturnValue:
    """The period's chart as a PNG image."""
    start, end = _period_or_400()
    from tradein_sdk._adapters.co2_pdf import co2_chart_png  # noqa: PLC0415 - the renderer loads with the first chart

    # a chart needs no signature
    payload = shop().trade_in.co2_report_document(start, end, locale=current_locale())
    return Response(co2_chart_png(payload, locale=current_locale()), mimetype="image/png")


@bp.get("/report.<kind>")
@staff_required
def download(kind: str) -> ResponseReturnValue:
    """The period's report: the signed JSON, the CSV (one row per device) or the PDF."""
    if kind not in {"json", "csv", "pdf"}:
        abort(404)
    start, end = _period_or_400()
    trade_in = shop().trade_in
    body: str | bytes
    if kind == "csv":
        from tradein_sdk._domain.co2 import co2_report_csv  # noqa: PLC0415 - the CO2 domain loads with it

        body, mimetype = co2_report_csv(trade_in.co2_entries(start, end)), "text/csv"
    elif kind == "json":
        envelope = trade_in.co2_report(start, end)
        body, mimetype = json.dumps(envelope, indent=2, ensure_ascii=False), "application/json"
    else:
        from tradein_sdk._adapters.co2_pdf import co2_report_pdf  # noqa: PLC0415 - the PDF renderer loads with it

        payload = trade_in.co2_report_document(start, end, locale=current_locale())
        body, mimetype = co2_report_pdf(payload, locale=current_locale()), "application/pdf"
    name = f"co2-{start.isoformat()}-{end.isoformat()}.{kind}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
