"""The staff's side of fleet trade-ins: hand-over, receiving the boxes, inspection, settlement, documents.

``/staff/fleet/`` lists every batch, newest first. A batch's page takes it through the warehouse: record the
carrier's hand-over (the seals seen intact: a signed record), open the boxes (a textarea of the scanned IMEIs,
serial numbers or asset tags: lines not found are missing, identifiers on no line are extras, each to be
returned or recycled), inspect each line received (one click "as declared", or a cracked display or a lock
still on, from the line's own answers plus the staff checks), and settle the batch once (one payout, one
credit note naming the shop's company data, ``TRADEIN_FLEET_ISSUER``). Each inspection's texts are kept in
the shop's reports table, so the batch's order page shows them like a shopper's. Signed-in staff only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from tradein_sdk import (
    BatchStateError,
    DeviceState,
    ExtraDecision,
    FleetError,
    LineStatus,
    TradeInError,
)

from ..extension import current_locale, shop
from ..fleet import LOCK_QUESTIONS, STAFF_CHECKS
from ..records import InspectionReport
from ..texts import text
from .company import batch_details, load_batch
from .staff import staff_required

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk import BatchLineView

bp = Blueprint("staff_fleet", __name__, url_prefix="/staff/fleet")

UNDECIDED = (DeviceState.RECEIVED, DeviceState.INSPECTED, DeviceState.REVISED, DeviceState.ON_HOLD)
"""The states of a received device that keep its batch from being settled."""
_LIST = re.compile(r"[\n,;]+")


def _listed(text: str) -> list[str]:
    """The entries of a textarea: one a line (commas and semicolons separate too); spaces inside are kept."""
    return [entry.strip() for entry in _LIST.split(text) if entry.strip()]


@bp.get("/")
@staff_required
def batches() -> ResponseReturnValue:
    """Every batch, newest first, with its company, state, devices and quoted total."""
    trade_in = shop().trade_in
    names = {company.id: company.legal_name for company in trade_in.companies()}
    return render_template("staff_fleet.html", batches=trade_in.fleet_batches(), names=names)


@bp.get("/<batch_id>")
@staff_required
def batch(batch_id: str) -> ResponseReturnValue:
    """A batch with the form its state calls for, its lines, extras, true-up and documents."""
    found = load_batch(batch_id)
    details = batch_details(found)
    order = details["order"]
    undecided = [
        row["view"].line.line
        for row in details["rows"]
        if row["view"].status is LineStatus.RECEIVED and row["view"].state in UNDECIDED
    ]
    return render_template(
        "staff_fleet_batch.html",
        **details,
        undecided=undecided,
        to_inspect={
            row["view"].line.line
            for row in details["rows"]
            if row["view"].status is LineStatus.RECEIVED and row["view"].state is DeviceState.RECEIVED
        },
        pending_extras=[extra for extra in found.extras if extra.decision is ExtraDecision.PENDING],
        decisions=(ExtraDecision.RETURN, ExtraDecision.RECYCLE),
        issuer=shop().issuer,
        order_link=url_for("staff.order", order_id=order.id) if order is not None else None,
    )


def _back(batch_id: str) -> ResponseReturnValue:
    return redirect(url_for("staff_fleet.batch", batch_id=batch_id))


def _failed(error: TradeInError) -> None:
    flash(error.localized(current_locale()), "error")


@bp.post("/<batch_id>/handover")
@staff_required
def hand_over(batch_id: str) -> ResponseReturnValue:
    """Record the carrier's pickup: the seals seen intact, the carrier, the tracking number (signed)."""
    found = load_batch(batch_id)
    seals = _listed(request.form.get("seals", ""))
    carrier = request.form.get("carrier", "").strip()
    expected = sorted(found.manifest.seals) if found.manifest is not None else []
    if sorted(seals) != expected:
        flash(
            gettext("The seals are not the manifest’s (%(expected)s).", expected=", ".join(expected)), "error"
        )
        return _back(batch_id)
    if not carrier:
        flash(gettext("Name the carrier."), "error")
        return _back(batch_id)
    try:
        shop().trade_in.hand_over(
            batch_id, seals=seals, carrier=carrier, tracking=request.form.get("tracking", "").strip() or None
        )
    except TradeInError as error:
        _failed(error)
    else:
        flash(gettext("Hand-over recorded and signed."), "success")
    return _back(batch_id)


@bp.post("/<batch_id>/receive")
@staff_required
def receive(batch_id: str) -> ResponseReturnValue:
    """Open the boxes: match each scanned identifier to its line; missing lines and extras are shown."""
    load_batch(batch_id)
    scanned = _listed(request.form.get("scanned", ""))
    try:
        received = shop().trade_in.receive_batch(batch_id, scanned)
    except TradeInError as error:
        _failed(error)
    else:
        missing = sum(1 for view in received.lines if view.status is LineStatus.MISSING)
        found = sum(1 for view in received.lines if view.status is LineStatus.RECEIVED)
        flash(
            ngettext(
                "%(found)s device received, %(missing)s missing, %(extras)s not on the list.",
                "%(found)s devices received, %(missing)s missing, %(extras)s not on the list.",
                found,
                found=found,
                missing=missing,
                extras=len(received.extras),
            ),
            "success",
        )
    return _back(batch_id)


@bp.post("/<batch_id>/extras")
@staff_required
def decide_extra(batch_id: str) -> ResponseReturnValue:
    """Return an extra device to the company or recycle it (with the company's consent)."""
    load_batch(batch_id)
    decision = request.form.get("decision", "")
    if decision not in {ExtraDecision.RETURN.value, ExtraDecision.RECYCLE.value}:
        return _back(batch_id)
    try:
        shop().trade_in.decide_extra(batch_id, request.form.get("identifier", ""), decision)
    except TradeInError as error:
        _failed(error)
    else:
        flash(text("fleet.extra_done", decision), "success")
    return _back(batch_id)


def inspected_answers(view: BatchLineView, *, cracked: bool = False, locked: bool = False) -> dict[str, Any]:
    """The line's answers with the staff checks passed, changed where the inspector found otherwise."""
    answers: dict[str, Any] = {**view.line.answers, **STAFF_CHECKS}
    if cracked:
        answers["display_glass"] = "cracked"
    if locked:
        for question in LOCK_QUESTIONS:
            if question in answers:
                answers[question] = False
    return answers


@bp.post("/<batch_id>/lines/<int:line>/inspect")
@staff_required
def inspect(batch_id: str, line: int) -> ResponseReturnValue:
    """Inspect one received line: as declared, or with a cracked display or a lock still on."""
    found = load_batch(batch_id)
    if not 1 <= line <= len(found.lines):
        return _back(batch_id)
    view = found.line(line)
    declared = request.form.get("mode") == "declared"
    answers = inspected_answers(
        view,
        cracked=not declared and request.form.get("cracked") == "yes",
        locked=not declared and request.form.get("locked") == "yes",
    )
    imei = "".join(request.form.get("imei", "").split()) or view.line.imei
    state = shop()
    try:
        diff = state.trade_in.inspect_fleet_device(batch_id, line, answers, imei=imei)
    except TradeInError as error:
        _failed(error)
        return _back(batch_id)
    if found.order_id is not None and view.device_id is not None:
        state.records.add_report(
            found.order_id, view.device_id, InspectionReport.from_diff(diff), now=state.trade_in.clock.now()
        )
    flash(
        gettext(
            "Line %(line)s inspected: %(offer)s.",
            line=line,
            offer=diff.revised_offer.format(current_locale()),
        ),
        "success",
    )
    return _back(batch_id)


@bp.post("/<batch_id>/settle")
@staff_required
def settle(batch_id: str) -> ResponseReturnValue:
    """Settle the batch once: one payout for every device bought, one credit note (or purchase statement)."""
    load_batch(batch_id)
    try:
        settled = shop().trade_in.settle_batch(batch_id, issuer=shop().issuer)
    except BatchStateError as error:
        if error.reason == "undecided":
            flash(
                gettext(
                    "Every device received must be inspected (and any revised offer answered) before "
                    "settling."
                ),
                "error",
            )
        else:
            _failed(error)
        return _back(batch_id)
    except FleetError as error:
        _failed(error)
        return _back(batch_id)
    settlement = settled.settlement or {}
    document = settlement.get("document", {})
    flash(gettext("Settled: document %(number)s issued.", number=str(document.get("number", ""))), "success")
    return _back(batch_id)
