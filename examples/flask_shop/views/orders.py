"""The shopper's order page: status timeline, send-by deadline, shipping label, revised offers, money.

"Your money" is read from the order's ledger: what the checkout promised and what reached the shopper.
A buy-back guarantee sold with the order is shown with its contract (schedule, window, floor, where it
stands, the signed JSON to download); a device traded in under a guarantee names its contract and what
the guarantee promised (see :mod:`.views.guarantees` for exercising one).
A device staff erased carries its data erasure certificate: the signed JSON and its PDF (in the shopper's
language), private to the order like the page. Anyone may check a certificate file on the public page
``/certificates/verify``, against the shop's published keys and revocation list.

Each device's timeline is its real history (:func:`timeline`): the order placed, the states it passed in
order, then the states still expected, greyed. A device that does not match its order says why and what
happens next; unless it is reported stolen, the shopper may let the shop recycle it instead of getting it
back. The shipping label names each device and the order by its reference, never by their ids.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext

from tradein_sdk import (
    CertificateCheck,
    DeviceState,
    LabelDevice,
    OrderDeviceNotFoundError,
    OrderNotFoundError,
    PayoutMethod,
    order_reference,
    verify_certificate,
)

from ..cart import my_orders
from ..extension import current_locale, device_name, format_datetime, shop
from ..guarantees import order_guarantees
from ..records import localized_reports
from ..statement import statement
from ..texts import text
from .co2 import order_co2

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask.typing import ResponseReturnValue

    from tradein_sdk import OrderDevice, ShippingLabel, TradeInOrder

bp = Blueprint("orders", __name__)
"""The order pages (under ``/orders``) and the public certificate check (``/certificates/verify``)."""

INVALID_REASONS = ("malformed", "wrong_purpose", "unknown_kid", "bad_signature", "content")
"""Why a certificate does not verify (each has its text ``certificate.reason_<reason>``)."""

MAX_CERTIFICATE_BYTES = 256 * 1024
"""The largest certificate file or text the verification page reads (a certificate is about 2 kB)."""

_AHEAD = (
    DeviceState.AWAITING_SHIPMENT,
    DeviceState.IN_TRANSIT,
    DeviceState.RECEIVED,
    DeviceState.INSPECTED,
    DeviceState.CONFIRMED,
)
EXPECTED: Mapping[DeviceState, tuple[DeviceState | None, ...]] = {
    DeviceState.ACCEPTED: (*_AHEAD, None),
    DeviceState.AWAITING_SHIPMENT: (*_AHEAD[1:], None),
    DeviceState.IN_TRANSIT: (*_AHEAD[2:], None),
    DeviceState.RECEIVED: (*_AHEAD[3:], None),
    DeviceState.RELEASED: (*_AHEAD[3:], None),
    DeviceState.INSPECTED: (DeviceState.CONFIRMED, None),
    DeviceState.CONFIRMED: (None,),
    DeviceState.REVISION_ACCEPTED: (None,),
    DeviceState.REVISION_DECLINED: (DeviceState.RETURNING, DeviceState.RETURNED),
    DeviceState.RETURNING: (DeviceState.RETURNED,),
}
"""The states still expected after a state, greyed on the timeline (``None``: paid or credited, as the order
pays). A state whose next one is the shopper's or the staff's decision (a new offer, a hold, a mismatch)
expects nothing: the page says what happens next instead."""

OFF_PATH = frozenset(
    {
        DeviceState.EXPIRED,
        DeviceState.CANCELLED,
        DeviceState.ON_HOLD,
        DeviceState.MISMATCH,
        DeviceState.REVISION_DECLINED,
        DeviceState.SURRENDERED,
        DeviceState.RETURNING,
        DeviceState.RETURNED,
    }
)
"""States off the way to a payment, marked on the timeline."""

PAPERS = {"a4": "size: 210mm 297mm; margin: 12mm;", "a6": "size: 105mm 148mm; margin: 5mm;"}
"""The shipping label's papers and their ``@page`` rules: an A4 sheet (the label cut out along its dashed
frame) or an A6 label printer."""


def load_order(order_id: str) -> TradeInOrder:
    """The order, if this session placed it (or staff is signed in); 404 otherwise."""
    if order_id not in my_orders() and not session.get("staff"):
        abort(404)
    try:
        return shop().trade_in.order(order_id)
    except OrderNotFoundError:
        abort(404)


@attrs.frozen(kw_only=True)
class Step:
    """A step of a device's timeline.

    Attributes:
        state: the state reached (``accepted``: the order placed).
        status: ``done``, ``done current`` (where the device is) or ``next`` (expected, not reached).
        at: when it was reached (``None``: not yet).
        off_path: the state is off the way to a payment (a hold, a return...).
    """

    state: DeviceState
    status: str
    at: datetime | None = None
    off_path: bool = False


def timeline(order: TradeInOrder, device: OrderDevice) -> list[Step]:
    """A device's timeline from its history: the order placed, each state passed, then those expected.

    A state appears only once it happened, in the order it happened (a new offer before the payment);
    the states still expected follow greyed, ending in a payment or a credit as the order pays.
    """
    settled = (
        DeviceState.PAID
        if order.payout is None or order.payout.method is PayoutMethod.BANK_TRANSFER
        else DeviceState.CREDITED
    )
    steps = [Step(state=DeviceState.ACCEPTED, status="done", at=order.created_at)]
    steps += [
        Step(state=entry.to_state, status="done", at=entry.at, off_path=entry.to_state in OFF_PATH)
        for entry in device.history
        if entry.to_state is not DeviceState.ACCEPTED
    ]
    steps[-1] = attrs.evolve(steps[-1], status="done current")
    steps += [Step(state=state or settled, status="next") for state in EXPECTED.get(device.state, ())]
    return steps


def order_details(order: TradeInOrder) -> dict[str, Any]:
    """What both order pages show: the order, quotes, inspection reports, clawbacks, ledger, guarantees."""
    state = shop()
    quotes = {device.id: state.trade_in.get_quote(device.quote_id).quote for device in order.devices}
    ledger = state.trade_in.ledger(order.id)
    names = {device_id: quote.device.display_name for device_id, quote in quotes.items()}
    return {
        "order": order,
        "quotes": quotes,
        "names": names,
        "reports": localized_reports(state.records.reports(order.id), state.trade_in, current_locale()),
        "clawbacks": state.trade_in.clawbacks(order.id),
        "ledger": ledger,
        "statement": statement(ledger, device_names=names, promotion_titles=promotion_titles()),
        "certificates": device_certificates(order),
        **order_guarantees(order),
    }


@attrs.frozen(kw_only=True)
class DeviceCertificate:
    """A device's data erasure certificate as the order pages show it.

    Attributes:
        id: the certificate id.
        check: the certificate verified with the shop's published keys and revocation list.
    """

    id: str
    check: CertificateCheck


def device_certificates(order: TradeInOrder) -> dict[str, DeviceCertificate]:
    """The erasure certificate of each device of ``order`` that has one, verified, by device id."""
    trade_in = shop().trade_in
    found = {
        device.id: envelope
        for device in order.devices
        if (envelope := trade_in.erasure_certificate(order.id, device.id)) is not None
    }
    if not found:
        return {}
    keys, revocations = trade_in.certificate_keys(), trade_in.certificate_revocations()
    return {
        device_id: DeviceCertificate(
            id=_certificate_id(envelope),
            check=verify_certificate(envelope, keys, revocations=revocations),
        )
        for device_id, envelope in found.items()
    }


def _certificate_id(envelope: Mapping[str, Any]) -> str:
    payload = envelope.get("payload")
    return str(payload.get("id", "")) if isinstance(payload, dict) else ""


def check_reason(check: CertificateCheck) -> str:
    """Why a certificate is not valid, in the shopper's language (empty when it is valid)."""
    if check.revocation is not None:
        return gettext(
            "revoked on %(date)s (%(reason)s)",
            date=format_datetime(check.revocation.revoked_at, "long"),
            reason=check.revocation.reason.value,
        )
    if check.ok:
        return ""
    return text("certificate.reason", check.reason if check.reason in INVALID_REASONS else "malformed")


def promotion_titles() -> dict[str, str]:
    """Each promotion's title in the shopper's language, by promotion id."""
    book = shop().trade_in.promotions
    if book is None:
        return {}
    return {promotion.id: promotion.localized_title(current_locale()) for promotion in book.promotions}


@bp.get("/orders/")
def mine() -> ResponseReturnValue:
    """The orders placed in this session."""
    trade_in = shop().trade_in
    return render_template("orders.html", orders=[trade_in.order(order_id) for order_id in my_orders()])


@bp.get("/orders/<order_id>")
def order(order_id: str) -> ResponseReturnValue:
    """Where each device is, what happens next, and a revised offer to answer."""
    found = load_order(order_id)
    return render_template(
        "order.html",
        **order_details(found),
        timelines={device.id: timeline(found, device) for device in found.devices},
        awaiting=any(device.state is DeviceState.AWAITING_SHIPMENT for device in found.devices),
        co2=order_co2(found.id),
    )


@bp.get("/orders/<order_id>/label")
def label(order_id: str) -> ResponseReturnValue:
    """The printable shipping label: the library's self-contained HTML (with its barcode), the shop's styles.

    For an A4 sheet (``?paper=a4``, the default) or an A6 label printer (``?paper=a6``).
    """
    found = load_order(order_id)
    if not any(device.state is DeviceState.AWAITING_SHIPMENT for device in found.devices):
        abort(404)
    paper = request.args.get("paper", "")
    if paper not in PAPERS:
        paper = "a4"
    issued = shop().trade_in.issue_label(order_id)
    document = named_label(issued, shop().trade_in.order(order_id)).to_html(current_locale())
    controls = render_template("_label_controls.html", order=found, paper=paper, papers=PAPERS)
    return printable_label(document, paper=paper, controls=controls)


def named_label(label: ShippingLabel, order: TradeInOrder) -> ShippingLabel:
    """The label with each device named (``Apple iPhone 13 128 GB``) and marked by the order's reference.

    The library's label lists the devices waiting for shipment, in the order's order; each is shown with
    the reference printed above the barcode (and its place in the order when the parcel holds several).
    """
    waiting = [device for device in order.devices if device.state is DeviceState.AWAITING_SHIPMENT]
    if len(waiting) != len(label.devices):
        return label
    reference = order_reference(order.id)
    place = {device.id: number for number, device in enumerate(order.devices, start=1)}
    devices = tuple(
        LabelDevice(
            device_ref=reference if len(waiting) == 1 else f"{reference} · {place[device.id]}",
            display_name=device_name(device.variant_id),
        )
        for device in waiting
    )
    return attrs.evolve(label, devices=devices)


@functools.cache
def _label_css() -> str:
    return (Path(__file__).parent.parent / "static" / "label.css").read_text(encoding="utf-8")


def printable_label(document: str, *, paper: str, controls: str) -> str:
    """The label's page with the shop's stylesheet (inline: it loads nothing) and the screen's controls."""
    style = f"<style>{_label_css()}@page {{ {PAPERS[paper]} }}</style>"
    head = f'<meta name="viewport" content="width=device-width, initial-scale=1">{style}</head>'
    return document.replace("</head>", head, 1).replace(
        "<body>", f'<body class="paper-{paper}">{controls}', 1
    )


@bp.post("/orders/<order_id>/devices/<device_id>/shipped")
def shipped(order_id: str, device_id: str) -> ResponseReturnValue:
    """The shopper says the parcel is handed over (a carrier's tracking would say so too)."""
    load_order(order_id)
    shop().trade_in.record_event(order_id, device_id, "ship", actor="shopper")
    flash(gettext("Thanks! We will tell you when it arrives."), "success")
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/orders/<order_id>/devices/<device_id>/recycle")
def recycle(order_id: str, device_id: str) -> ResponseReturnValue:
    """The shopper lets the shop recycle a device that does not match, free of charge, instead of its return.

    409 for any other device, and for one reported lost or stolen (that one is not the shopper's to give).
    """
    found = load_order(order_id)
    try:
        device = found.device(device_id)
    except OrderDeviceNotFoundError:
        abort(404)
    stolen = device.inspection is not None and "blocklisted" in device.inspection.mismatch
    if device.state is not DeviceState.MISMATCH or stolen:
        abort(409)
    shop().trade_in.record_event(order_id, device_id, "recycle", actor="shopper")
    flash(gettext("Thank you: we will recycle your device free of charge."), "success")
    return redirect(url_for("orders.order", order_id=order_id))


@bp.post("/orders/<order_id>/devices/<device_id>/revision")
def revision(order_id: str, device_id: str) -> ResponseReturnValue:
    """Accept the revised offer, or decline it and get the device back free of charge."""
    load_order(order_id)
    accept = request.form.get("decision") == "accept"
    shop().trade_in.respond_to_revision(order_id, device_id, accept=accept)
    flash(
        gettext("You accepted the new offer.")
        if accept
        else gettext("You declined; your device is on its way back to you, free of charge."),
        "success",
    )
    return redirect(url_for("orders.order", order_id=order_id))


def _device_certificate(order_id: str, device_id: str) -> dict[str, Any]:
    """The signed certificate of a device of an order this session may see; 404 when it has none."""
    load_order(order_id)
    try:
        envelope = shop().trade_in.erasure_certificate(order_id, device_id)
    except OrderDeviceNotFoundError:
        abort(404)
    if envelope is None:
        abort(404)
    return envelope


@bp.get("/orders/<order_id>/devices/<device_id>/certificate.pdf")
def certificate_pdf(order_id: str, device_id: str) -> ResponseReturnValue:
    """The device's data erasure certificate as a PDF, in the shopper's language."""
    from tradein_sdk._adapters.pdf import certificate_pdf as render_pdf  # noqa: PLC0415 - fpdf2 loads with the first PDF

    envelope = _device_certificate(order_id, device_id)
    return Response(
        render_pdf(envelope, locale=current_locale()),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(envelope, "pdf")}"'},
    )


@bp.get("/orders/<order_id>/devices/<device_id>/certificate.json")
def certificate_json(order_id: str, device_id: str) -> ResponseReturnValue:
    """The device's signed data erasure certificate (verifiable offline with the shop's published keys)."""
    envelope = _device_certificate(order_id, device_id)
    return Response(
        json.dumps(envelope, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(envelope, "json")}"'},
    )


def _filename(envelope: Mapping[str, Any], extension: str) -> str:
    safe = "".join(char for char in _certificate_id(envelope) if char.isalnum() or char in "-_")
    return f"erasure-certificate-{safe or 'device'}.{extension}"


@bp.route("/certificates/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """Check an erasure certificate (a file, or its pasted JSON or QR code text): valid, revoked or invalid.

    Public: the check needs only the certificate and the shop's published keys and revocation list. Input
    that is not a JSON object (or nothing at all) is a bad request (400) with a message saying so.
    """
    if request.method == "GET":
        return render_template("certificate_verify.html", check=None, error=None, pasted="")
    upload = request.files.get("certificate")
    raw = upload.read(MAX_CERTIFICATE_BYTES + 1) if upload is not None and upload.filename else b""
    pasted = request.form.get("text", "").strip()
    if not raw and pasted:
        raw = pasted.encode("utf-8")
    error = unreadable(raw, "certificate")
    if error is not None:
        return render_template("certificate_verify.html", check=None, error=error, pasted=pasted), 400
    trade_in = shop().trade_in
    check = verify_certificate(
        raw, trade_in.certificate_keys(), revocations=trade_in.certificate_revocations()
    )
    return render_template(
        "certificate_verify.html", check=check, error=None, pasted=pasted, reason=check_reason(check)
    )


def unreadable(raw: bytes, kind: str) -> str | None:
    """Why an uploaded signed document cannot be checked (``None``: it is a JSON object).

    Args:
        raw: the upload.
        kind: ``certificate`` or ``guarantee``: whose texts (``<kind>.verify_empty``...) say why.
    """
    if not raw.strip():
        return text(f"{kind}.verify", "empty")
    if len(raw) > MAX_CERTIFICATE_BYTES:
        return text(f"{kind}.verify", "too_large")
    try:
        document = json.loads(raw)
    except ValueError:
        return text(f"{kind}.verify", "not_json")
    if not isinstance(document, dict):
        return text(f"{kind}.verify", "not_json")
    return None
