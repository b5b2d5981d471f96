"""The back office: incoming devices, inspection, settlement, ledger, billing run, report, tick and audit.

Each order's page shows its ledger (every entry and the balances) and, for a device in custody, a form that
records its data erasure and issues the signed certificate; the billing page credits the bill-credit
installments due for a period, once; the report page sums the ledger over a date range (CSV and JSON).

Signed-in staff only (``TRADEIN_STAFF_PASSWORD``; a real shop uses its own sign-in). A sign-in is a session
on the server (ended by signing out, or after ``TRADEIN_STAFF_SESSION_LIFETIME``); wrong passwords are rate
limited per client address (``TRADEIN_STAFF_LOGIN_LIMITS``); after it the shop goes back only to a page of
its own. Every form posts the session's CSRF token (checked by the extension's ``CSRFProtect``).
"""

from __future__ import annotations

import functools
import heapq
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from tradein_sdk import (
    Actor,
    AnswersInvalidError,
    DeviceEvent,
    DeviceState,
    Disposition,
    EventKind,
    HoldReason,
    InvalidPeriodError,
    Money,
    OrderDeviceNotFoundError,
    OrderNotFoundError,
    PayoutMethod,
    PayoutRef,
    TradeInError,
    billing_period,
)
from tradein_sdk._domain.orders.machine import apply, transition_table

from ..extension import (
    DEMO_STAFF_PASSWORD,
    ShopState,
    current_locale,
    failed_sign_in,
    format_period,
    is_staff,
    limiter,
    same_site_path,
    shop,
    sign_in_limits,
    sign_in_staff,
    sign_out_staff,
)
from ..questionnaire import answers_from_form, problems_by_question
from ..records import InspectionReport
from ..statement import kind_label, reason_text
from ..texts import text
from .orders import order_details, promotion_titles

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from flask.typing import ResponseReturnValue

    from tradein_sdk import InspectionDiff, LedgerEntry, OrderDevice, TradeInOrder

bp = Blueprint("staff", __name__, url_prefix="/staff")
P = ParamSpec("P")

EVENT_FIELDS = {
    "reason_given": "reason",
    "staff_gives_reason": "reason",
    "hold_reason_given": "hold_reason",
    "disposition_given": "disposition",
}
"""The guards of the transition table that ask the staff's form for a field, and that field."""

SETTLE_EVENTS = (EventKind.PAY, EventKind.CREDIT)
"""The events the one "settle" action triggers (the library picks the payout, see ``TradeIn.settle``)."""

OWN_PAGE_EVENTS = (EventKind.INSPECT, *SETTLE_EVENTS)
"""The staff events with a page or an action of their own (the inspection form, "settle")."""

ERASABLE = (
    DeviceState.RECEIVED,
    DeviceState.RELEASED,
    DeviceState.INSPECTED,
    DeviceState.CONFIRMED,
    DeviceState.REVISED,
    DeviceState.REVISION_ACCEPTED,
    DeviceState.PAID,
    DeviceState.CREDITED,
)
"""The states in which the staff page offers to record a device's erasure (received, in the shop's hands)."""

ERASURE_TECHNIQUES = {
    "cryptographic_erase": "purge",
    "factory_reset": "clear",
    "physical_destruction": "destruct",
}
"""The erasure techniques staff choose from, each with its sanitization method (NIST SP 800-88)."""

VERIFICATION_METHODS = ("crypto_key_destruction", "tool_report", "sampling", "full")
"""How staff verified an erasure (each has its text ``erasure.verification_<method>``)."""

ERASURE_DESTINATIONS = ("resale", "parts", "recycling")
"""Where an erased device goes (each has its text ``erasure.destination_<destination>``)."""

ERASURE_SPAN = timedelta(minutes=1)
"""The longest the form says an erasure took (it records one as it ends; never from before the receipt)."""

ERASURE_ROLES = {"received": "Goods-in clerk", "erased": "Erasure technician", "verified": "Quality lead"}
"""The roles the report names for each step (a role, never a person)."""

STOP_REASONS = ("contract_ended", "device_returned")
"""Why staff may stop an order's bill credits (each has its text ``ledger.stop_<reason>``)."""

BALANCE_FIELDS = (
    "promised",
    "owed",
    "revised",
    "paid",
    "credited",
    "clawed_back",
    "open",
    "scheduled",
    "charges",
    "clawback_tax",
    "contingent",
)
"""The columns of the staff's balances table (attributes of :class:`~tradein_sdk.Balance`)."""

BILLING_PAGE = 500
"""The most installments the billing page lists (crediting takes every one due, listed or not)."""

ORDERS_PAGE = 50
"""How many orders one page of the staff's list reads from the library (newest first)."""

STATE_SCAN_PAGES = 10
"""With a state filter, the most library pages one request reads to fill a page (the rest: "next")."""

AUDIT_PAGE = 200
"""How many audit entries the audit page lists (the newest; the verification covers every one)."""


def staff_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send anyone without an active staff session to the sign-in page (back to this page after it)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if not is_staff():
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("staff.login", next=back))
        return view(*args, **kwargs)

    return wrapper


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in_limits, methods=["POST"], deduct_when=failed_sign_in)
def login() -> ResponseReturnValue:
    """Sign in with the back office password, then go back to ``?next=`` when it is a page of the shop."""
    if request.method == "POST":
        given = request.form.get("password", "")
        if hmac.compare_digest(given.encode(), shop().staff_password.encode()):
            sign_in_staff()
            return redirect(same_site_path(request.args.get("next")) or url_for("staff.orders"))
        flash(gettext("Wrong password."), "error")
    return render_template("staff_login.html", demo=shop().staff_password == DEMO_STAFF_PASSWORD), 200


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: the session ends on the server too (a copy of the cookie opens nothing)."""
    sign_out_staff()
    return redirect(url_for("shop.home"))


@bp.get("/")
@staff_required
def orders() -> ResponseReturnValue:
    """The orders, newest first, a page at a time, with where each device is; the devices that arrived first.

    The pages come from the library's keyset listing (``orders_page``: one query per page, each order read
    once); "next" carries the cursor of the last order read. A state filter keeps the orders with a device
    in that state; a state a device can still leave lists open orders only (their index), and one request
    reads at most :data:`STATE_SCAN_PAGES` pages: an older order in that state is on a next page, never lost.
    """
    state = request.args.get("state", "")
    wanted = _device_state(state)
    found, next_cursor = _orders_in_state(wanted, request.args.get("cursor") or None)
    incoming = [
        (order, device)
        for order in found
        for device in order.devices
        if device.state in {DeviceState.RECEIVED, DeviceState.RELEASED, DeviceState.IN_TRANSIT}
    ]
    return render_template(
        "staff_orders.html",
        orders=found,
        incoming=incoming,
        state=state,
        states=list(DeviceState),
        next_cursor=next_cursor,
    )


def _device_state(text: str) -> DeviceState | None:
    """The state the list is filtered by (``None``: every order); an unknown one is a bad request."""
    if not text:
        return None
    try:
        return DeviceState(text)
    except ValueError:
        abort(400)


def _orders_in_state(state: DeviceState | None, cursor: str | None) -> tuple[list[TradeInOrder], str | None]:
    """One page of the list after ``cursor``: its orders (with a device in ``state``) and the next cursor.

    Without a state this is one library page. With one, library pages are read until a page's worth of orders
    matched, the orders ran out or :data:`STATE_SCAN_PAGES` pages were read; every order read is either
    shown or filtered out, and the next cursor starts after the last one read.
    """
    trade_in = shop().trade_in
    open_only = state is not None and not state.is_final  # such a device keeps its order open
    found: list[TradeInOrder] = []
    for _ in range(1 if state is None else STATE_SCAN_PAGES):
        page = trade_in.orders_page(limit=ORDERS_PAGE, cursor=cursor, open_only=open_only)
        found += [order for order in page.orders if state is None or _has_device_in(order, state)]
        cursor = page.next_cursor
        if cursor is None or len(found) >= ORDERS_PAGE:
            break
    return found, cursor


def _has_device_in(order: TradeInOrder, state: DeviceState) -> bool:
    return any(device.state is state for device in order.devices)


@bp.get("/orders/<order_id>")
@staff_required
def order(order_id: str) -> ResponseReturnValue:
    """One order: each device with its quote, inspection report, history and actions; the order's ledger."""
    titles = promotion_titles()
    found = _order(order_id)
    return render_template(
        "staff_order.html",
        **order_details(found),
        actions={device.id: staff_actions(found, device) for device in found.devices},
        hold_reasons=list(HoldReason),
        dispositions=list(Disposition),
        balance_fields=BALANCE_FIELDS,
        stop_reasons=STOP_REASONS,
        erasable=ERASABLE,
        erasure_techniques=ERASURE_TECHNIQUES,
        verification_methods=VERIFICATION_METHODS,
        erasure_destinations=ERASURE_DESTINATIONS,
        kind_label=kind_label,
        reason_text=lambda entry: reason_text(entry, titles),
    )


@dataclass(frozen=True)
class StaffAction:
    """An action the staff page offers for a device.

    Attributes:
        name: the event (``hold``), ``settle`` (pay or credit) or ``inspect`` (its own page).
        fields: what its form asks for, as the library needs it: ``reason``, ``hold_reason``, ``disposition``.
    """

    name: str
    fields: tuple[str, ...] = ()


def staff_actions(order: TradeInOrder, device: OrderDevice) -> list[StaffAction]:
    """The staff actions the library allows for ``device`` now, in the order of its transition table.

    The candidates are the table's transitions staff may trigger from the device's state; the guards that
    need a reason, a hold reason or a disposition become the form's fields. A candidate is kept when the
    library accepts it now with its form filled in (a dry run of the event on the order, nothing stored):
    the guards on the device and the time (the send-by date passed, a value to pay) decide. Inspecting has
    its own page; paying and crediting are the one ``settle`` (the library picks which).
    """
    found: dict[str, StaffAction] = {}
    for transition in transition_table():
        if Actor.STAFF not in transition.actors or device.state not in transition.sources:
            continue
        name = "settle" if transition.event in SETTLE_EVENTS else transition.event.value
        if name in found or not _allowed_now(order, device, transition.event):
            continue
        fields = (EVENT_FIELDS[guard.name] for guard in transition.guards if guard.name in EVENT_FIELDS)
        found[name] = StaffAction(name, tuple(dict.fromkeys(fields)))
    return list(found.values())


def _allowed_now(order: TradeInOrder, device: OrderDevice, kind: EventKind) -> bool:
    """Whether the library accepts ``kind`` by staff on ``device`` now, given what its form asks for."""
    if kind is EventKind.INSPECT:
        return True  # the inspection form brings the result the guard checks
    payout = {
        EventKind.PAY: PayoutRef(method=PayoutMethod.BANK_TRANSFER, reference="dry-run"),
        EventKind.CREDIT: PayoutRef(method=PayoutMethod.VOUCHER, reference="dry-run"),
    }.get(kind)
    trial = DeviceEvent(
        id=f"dry-run:{uuid.uuid4().hex}",
        kind=kind,
        device_id=device.id,
        actor=Actor.STAFF,
        reason="dry run",
        hold_reason=next(iter(HoldReason)),
        disposition=Disposition.RECYCLE,
        payout=payout,
    )
    trade_in = shop().trade_in
    try:
        apply(order, trial, now=trade_in.clock.now(), policy=trade_in.policy)
    except TradeInError:
        return False
    return True


@bp.post("/orders/<order_id>/devices/<device_id>/<action>")
@staff_required
def act(order_id: str, device_id: str, action: str) -> ResponseReturnValue:
    """Settle (pay out or credit), or record a staff event of the transition table with its form's fields.

    An event the library refuses (the state moved on, a reason missing) is flashed in the staff's language.
    """
    trade_in = shop().trade_in
    try:
        if action == "settle":
            trade_in.settle(order_id, device_id)
            message = _settled(order_id, device_id)
        else:
            kind = _staff_event(action)
            trade_in.record_event(order_id, device_id, kind, actor=Actor.STAFF, **_event_fields())
            message = gettext("Done: %(action)s.", action=text("staff.action", kind.value))
    except (OrderNotFoundError, OrderDeviceNotFoundError):
        abort(404)
    except TradeInError as error:
        flash(error.localized(current_locale()), "error")
    else:
        flash(message, "success")
    return redirect(url_for("staff.order", order_id=order_id))


def _staff_event(action: str) -> EventKind:
    """The event ``action`` names, when staff trigger it from this page (else: not found)."""
    try:
        kind = EventKind(action)
    except ValueError:
        abort(404)
    by_staff = any(row.event is kind and Actor.STAFF in row.actors for row in transition_table())
    if kind in OWN_PAGE_EVENTS or not by_staff:
        abort(404)
    return kind


def _event_fields() -> dict[str, Any]:
    """The event's fields from the form: ``reason``, ``hold_reason``, ``disposition`` (unknown: 400)."""
    fields: dict[str, Any] = {}
    reason = request.form.get("reason", "").strip()
    if reason:
        fields["reason"] = reason[:500]
    try:
        if request.form.get("hold_reason"):
            fields["hold_reason"] = HoldReason(request.form["hold_reason"])
        if request.form.get("disposition"):
            fields["disposition"] = Disposition(request.form["disposition"])
    except ValueError:
        abort(400)
    return fields


@bp.post("/orders/<order_id>/devices/<device_id>/erasure")
@staff_required
def erasure(order_id: str, device_id: str) -> ResponseReturnValue:
    """Record a device's data erasure from the form and issue its signed certificate (errors: flashed)."""
    trade_in = shop().trade_in
    try:
        device = _order(order_id).device(device_id)
    except OrderDeviceNotFoundError:
        abort(404)
    if request.form.get("technique") not in ERASURE_TECHNIQUES:
        abort(400)
    quote = trade_in.get_quote(device.quote_id).quote
    received = next((entry.at for entry in device.history if entry.to_state is DeviceState.RECEIVED), None)
    now = trade_in.clock.now()
    if received is not None and now.replace(microsecond=0) <= received.replace(microsecond=0):
        flash(
            gettext("The device was received just now: record its erasure once it is done."), "error"
        )  # an erasure takes time: at least a second
        return redirect(url_for("staff.order", order_id=order_id))
    report = erasure_report(
        order_id,
        device_id,
        request.form,
        manufacturer=str(quote.device.model.get("brand") or quote.device.display_name),
        model=str(quote.device.model.get("name") or quote.device.display_name),
        capacity_gb=quote.device.storage_gb,
        received_at=received,
        now=now,
    )
    try:
        issued = trade_in.record_erasure_report(order_id, device_id, report)
    except TradeInError as error:
        flash(error.localized(current_locale()), "error")
    else:
        flash(gettext("Erasure recorded: certificate %(id)s issued.", id=issued.certificate.id), "success")
    return redirect(url_for("staff.order", order_id=order_id))


def erasure_report(
    order_id: str,
    device_id: str,
    form: Mapping[str, str],
    *,
    manufacturer: str,
    model: str,
    capacity_gb: int,
    received_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The erasure report (``schemas/erasure-report.schema.json``) of the staff's form.

    The form records an erasure as it finishes: the device was received at ``received_at`` (its history;
    a minute before ``now`` when it was not, which the library refuses), erased until ``now`` (started at most
    :data:`ERASURE_SPAN` before, never before the receipt), verified and handed on at that moment.
    """

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    erased = now.replace(microsecond=0)
    received = min((received_at or now - ERASURE_SPAN).replace(microsecond=0), erased)
    started = max(received, erased - ERASURE_SPAN)
    technique = form.get("technique", "")
    site = form.get("site", "").strip()
    imei = "".join(form.get("imei", "").split())
    return {
        "order_id": order_id,
        "device_id": device_id,
        "device": {
            "manufacturer": manufacturer,
            "model": model,
            "media_type": "embedded_flash",
            "capacity_gb": capacity_gb,
            **({"imei": imei} if imei else {}),
        },
        "sanitization": {
            "method": ERASURE_TECHNIQUES.get(technique, ""),
            "technique": technique,
            "tool": {
                "name": form.get("tool_name", "").strip(),
                "version": form.get("tool_version", "").strip(),
            },
            "operator_role": ERASURE_ROLES["erased"],
            "site": site,
            "started_at": stamp(started),
            "ended_at": stamp(erased),
        },
        "verification": {
            "method": form.get("verification_method", ""),
            "result": form.get("verification_result", ""),
            "verifier_role": ERASURE_ROLES["verified"],
            "verified_at": stamp(erased),
        },
        "destination": form.get("destination", ""),
        "custody": [
            {"step": "received", "at": stamp(received), "site": site, "role": ERASURE_ROLES["received"]},
            {"step": "erased", "at": stamp(erased), "site": site, "role": ERASURE_ROLES["erased"]},
        ],
    }


def _settled(order_id: str, device_id: str) -> str:
    """What settling a device did, from its ledger: paid and credited in all, or bill credits scheduled."""
    ledger = shop().trade_in.ledger(order_id)
    balance = ledger.devices.get(device_id)
    if balance is None:
        return gettext("Paid out.")
    if not balance.scheduled.is_zero():
        first = next((item.due_period for item in ledger.installments if item.device_id == device_id), None)
        return gettext(
            "Settled: %(amount)s scheduled as bill credits, from %(period)s.",
            amount=balance.scheduled.format(current_locale()),
            period=format_period(first),
        )
    return gettext(
        "Settled: %(amount)s paid and credited for this device in all.",
        amount=(balance.paid + balance.credited).format(current_locale()),
    )


@bp.post("/orders/<order_id>/installments/stop")
@staff_required
def stop_installments(order_id: str) -> ResponseReturnValue:
    """Stop the bill credits not yet credited (the contract ended, the device came back)."""
    _order(order_id)
    reason = request.form.get("reason", "")
    if reason not in STOP_REASONS:
        abort(400)
    stopped = shop().trade_in.stop_installments(order_id, reason=reason)
    flash(
        ngettext(
            "%(count)s installment stopped.",
            "%(count)s installments stopped.",
            len(stopped),
            count=len(stopped),
        ),
        "success",
    )
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
            flash(
                gettext(
                    "Inspection recorded; offer %(offer)s.", offer=diff.revised_offer.format(current_locale())
                ),
                "success",
            )
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
    """Inspect a device and keep the report the shopper will see (shown in each reader's language)."""
    diff = state.trade_in.inspect(order_id, device_id, answers, imei=imei)
    category = state.trade_in.get_quote(diff.quote_id).quote.device.category
    state.records.add_report(
        order_id,
        device_id,
        InspectionReport.from_diff(diff, category=category),
        now=state.trade_in.clock.now(),
    )
    return diff


@bp.post("/tick")
@staff_required
def tick() -> ResponseReturnValue:
    """Apply the deadlines that passed (expiry, silence on a revised offer); safe to run from anywhere."""
    changed = shop().trade_in.tick()
    flash(
        ngettext("%(count)s order changed.", "%(count)s orders changed.", changed, count=changed), "success"
    )
    return redirect(url_for("staff.orders"))


@bp.get("/audit")
@staff_required
def audit() -> ResponseReturnValue:
    """Verify the audit log's hash chain and list its latest :data:`AUDIT_PAGE` entries, newest first.

    The list shows when, who (a role), what and the pseudonymous subject (an order id): never the details.
    """
    trade_in = shop().trade_in
    latest = heapq.nlargest(
        AUDIT_PAGE,
        trade_in.store.audit_entries(),
        key=lambda entry: (entry.recorded_at, entry.chain, entry.sequence),
    )
    return render_template(
        "staff_audit.html", verification=trade_in.verify_audit(), entries=latest, limit=AUDIT_PAGE
    )


# -- billing and the period report ---------------------------------------------------------------------------


@bp.get("/billing")
@staff_required
def billing() -> ResponseReturnValue:
    """The bill credits due up to a period (default: the current one, by the shop's clock) and the run."""
    trade_in = shop().trade_in
    current = billing_period(trade_in.clock.now())
    period = request.args.get("period") or current
    error = None
    due: list[LedgerEntry] = []
    try:
        due = [entry for _, entry in trade_in.installments_due(period, limit=BILLING_PAGE)]
    except InvalidPeriodError as problem:
        error = problem.localized(current_locale())
    page = render_template(
        "staff_billing.html",
        period=period,
        current=current,
        due=due,
        totals=_totals(entry.amount for entry in due),
        run=session.pop("billing_run", None),
        error=error,
        limit=BILLING_PAGE,
    )
    return page, 400 if error else 200


@bp.post("/billing/credit")
@staff_required
def credit_installments() -> ResponseReturnValue:
    """The billing run: credit every installment due up to the period, each once (again: nothing)."""
    period = request.form.get("period", "")
    count, totals = shop().trade_in.credit_installments(period)
    session["billing_run"] = {
        "period": period,
        "count": count,
        "total": ", ".join(totals[currency].format(current_locale()) for currency in sorted(totals)),
    }
    return redirect(url_for("staff.billing", period=period))


@bp.get("/report")
@staff_required
def report() -> ResponseReturnValue:
    """The ledger's report for a date range: totals that tie out, promotion spend, and the downloads."""
    start, end = _report_range()
    if start is None or end is None:
        page = render_template(
            "staff_report.html",
            report=None,
            start=start,
            end=end,
            error=gettext("Choose a start and an end date (YYYY-MM-DD), the end not before the start."),
        )
        return page, 400
    result = shop().trade_in.ledger_report(start, end + timedelta(days=1))
    return render_template(
        "staff_report.html", report=result, start=start, end=end, error=None, titles=promotion_titles()
    )


@bp.get("/report.<kind>")
@staff_required
def report_download(kind: str) -> ResponseReturnValue:
    """The report as a CSV or JSON file."""
    if kind not in {"csv", "json"}:
        abort(404)
    start, end = _report_range()
    if start is None or end is None:
        abort(400)
    result = shop().trade_in.ledger_report(start, end + timedelta(days=1))
    if kind == "csv":
        body, mimetype = result.to_csv(), "text/csv"
    else:
        body, mimetype = json.dumps(result.to_json(), indent=2, ensure_ascii=False), "application/json"
    name = f"ledger-{start.isoformat()}-{end.isoformat()}.{kind}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _report_range() -> tuple[date | None, date | None]:
    """The report's first and last day (inclusive) from the query; the current month by default."""
    today = shop().trade_in.clock.now().date()
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    try:
        start = date.fromisoformat(request.args.get("start") or first.isoformat())
        end = date.fromisoformat(request.args.get("end") or last.isoformat())
    except ValueError:
        return None, None
    if end < start:
        return start, None
    return start, end


def _totals(amounts: Iterable[Money]) -> list[Money]:
    """The sum of ``amounts`` per currency."""
    sums: dict[str, Money] = {}
    for amount in amounts:
        sums[amount.currency] = sums.get(amount.currency, Money.zero(amount.currency)) + amount
    return [sums[currency] for currency in sorted(sums)]


def _order(order_id: str) -> TradeInOrder:
    try:
        return shop().trade_in.order(order_id)
    except OrderNotFoundError:
        abort(404)
