"""The company portal: a firm trades its fleet in, from the asset list to the credit note.

``/company/`` picks the company the session acts for (the demo's, or one the session opened: a form whose
VAT id is checked, each error beside its field). ``/company/portal`` shows the company and its batches and
takes an asset list (CSV or XLSX, with a sample CSV generated from the catalog and a default grade); the
upload is checked first (``read_assets``: a dry run that names every rejected row and column), then quoted
(``fleet_quote``: a signed portfolio quote opens a batch). A batch's page is its quote (summary by model,
total, the range if inspection finds each device one grade worse, valid until, every line) with the pickup
form (boxes, seals, contact, bank account; the pickup day follows the contract's working days), then the
devices as they go (status, state, offer, reasons of each change), the extras, the true-up and the
downloads: credit note PDF, e-invoice XML, hand-over record, erasure certificates and the report as CSV,
XLSX, PDF or JSON.

A real shop signs its business customers in; this demo lets a session act for the demo company and for the
companies it opened (staff may see every batch).
"""

from __future__ import annotations

import json
import re
import secrets
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from tradein_sdk import (
    MAX_BOXES,
    MAX_SEAL_LENGTH,
    MIN_PICKUP_DEVICES,
    Address,
    AssetImportError,
    BankTransfer,
    BatchState,
    BatchStateError,
    FleetError,
    InvalidPayoutError,
    InvalidTextError,
    InvalidVatIdError,
    Money,
    NotFoundError,
    PickupTooSmallError,
    add_working_days,
    check_vat_id,
)
from tradein_sdk._domain.fleet_import import GRADES

from ..extension import current_locale, format_date, shop
from ..fleet import (
    MAX_ASSET_BYTES,
    VAT_STATUSES,
    chosen_company_id,
    column_text,
    drop_upload,
    grade_labels,
    keep_upload,
    line_reasons,
    may_act_for,
    offered_companies,
    problem_text,
    read_upload,
    remember_company,
    sample_csv,
    shop_contract,
)

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

    from tradein_sdk import AssetImport, Company, FleetBatch, TradeInOrder

bp = Blueprint("company", __name__, url_prefix="/company")

COMPANY_FIELDS = ("legal_name", "street", "postcode", "city", "vat_id", "contact_name", "contact_email")
"""The text fields of the form that opens a company account."""
PICKUP_FIELDS = ("boxes", "seals", "contact_name", "contact_phone", "holder", "iban")
"""The fields of the pickup form."""
DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "application/xml": "xml",
    "application/json": "json",
}
REPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}
"""The report's formats and their media types."""
COMPANY_DOCUMENTS = (
    "credit_note_pdf",
    "credit_note_xml",
    "purchase_statement_pdf",
    "handover_record",
)
"""The archived documents the company page offers, in this order (each has its text ``fleet.doc_<kind>``)."""
_SEALS = re.compile(r"[\n,;]+")
_DEFAULT_PICKUP_BOXES = 1


# -- choosing or opening a company --------------------------------------------------------------------------


@bp.get("/")
def start() -> ResponseReturnValue:
    """Choose a company (the demo's, or one this session opened) or open a company account."""
    return _start_page({}, {})


def _start_page(form: dict[str, str], errors: dict[str, str]) -> ResponseReturnValue:
    trade_in = shop().trade_in
    page = render_template(
        "company_start.html",
        companies=offered_companies(trade_in),
        chosen=chosen_company_id(),
        form=form,
        errors=errors,
        vat_statuses=VAT_STATUSES,
    )
    return page, 422 if errors else 200


@bp.post("/open")
def open_account() -> ResponseReturnValue:
    """Open a company account from the form; each problem is shown beside its field."""
    form = {name: request.form.get(name, "").strip() for name in COMPANY_FIELDS}
    form["vat_status"] = request.form.get("vat_status", "regular")
    form["self_billing"] = "yes" if request.form.get("self_billing") else ""
    if form["vat_status"] not in VAT_STATUSES:
        abort(400)
    errors = {
        name: gettext("Please fill this in.")
        for name in ("legal_name", "street", "postcode", "city")
        if not form[name]
    }
    business = form["vat_status"] != "not_registered"
    if form["vat_id"]:
        try:
            check_vat_id(form["vat_id"], country="DE")
        except InvalidVatIdError as error:
            errors["vat_id"] = error.localized(current_locale())
    elif business:
        errors["vat_id"] = gettext("A business needs its VAT ID for the credit note.")
    if business and not form["self_billing"]:
        errors["self_billing"] = gettext("A business can only be paid by credit note with this agreement.")
    if errors:
        return _start_page(form, errors)
    trade_in = shop().trade_in
    now = trade_in.clock.now()
    contacts = [
        {
            key: value
            for key, value in (("name", form["contact_name"]), ("email", form["contact_email"]))
            if value
        }
    ]
    try:
        company = trade_in.open_company(
            form["legal_name"],
            Address(street=form["street"], postcode=form["postcode"], city=form["city"], country="DE"),
            vat_status=form["vat_status"],
            vat_id=form["vat_id"] or None,
            contract=shop_contract(
                f"RV-WEB-{now:%Y%m%d}-{secrets.token_hex(3).upper()}",
                now=now,
                self_billing=bool(form["self_billing"]),
            ),
            contacts=[contact for contact in contacts if contact],
        )
    except InvalidVatIdError as error:
        return _start_page(form, {"vat_id": error.localized(current_locale())})
    except InvalidTextError as error:
        field = error.field.removeprefix("address.")
        return _start_page(
            form,
            {
                field if field in form else "legal_name": gettext(
                    "Use 1 to %(maximum)s characters.", maximum=error.maximum
                )
            },
        )
    remember_company(company.id)
    flash(gettext("The account of %(name)s is open.", name=company.legal_name), "success")
    return redirect(url_for("company.portal"))


@bp.post("/select")
def select() -> ResponseReturnValue:
    """Act for one of the companies offered."""
    company = _company_or_404(request.form.get("company_id", ""))
    remember_company(company.id)
    return redirect(url_for("company.portal"))


def _company_or_404(company_id: str) -> Company:
    try:
        company = shop().trade_in.company(company_id)
    except NotFoundError:
        abort(404)
    if not may_act_for(company):
        abort(404)
    return company


def _chosen() -> Company | None:
    """The company the session acts for (``None``: none chosen, or it no longer exists)."""
    company_id = chosen_company_id()
    if company_id is None:
        return None
    try:
        return shop().trade_in.company(company_id)
    except NotFoundError:
        session.pop("company", None)
        return None


# -- the portal: the company, its batches and the asset list -------------------------------------------------


@bp.get("/portal")
def portal() -> ResponseReturnValue:
    """The company, its batches and the asset-list upload."""
    company = _chosen()
    if company is None:
        return redirect(url_for("company.start"))
    return _portal_page(company, {})


def _portal_page(company: Company, errors: dict[str, str]) -> ResponseReturnValue:
    trade_in = shop().trade_in
    page = render_template(
        "company_portal.html",
        company=company,
        contacts=trade_in.company_contacts(company.id),
        batches=trade_in.fleet_batches(company.id),
        grades=grade_labels(),
        grade=request.form.get("default_grade", ""),
        errors=errors,
        max_mb=MAX_ASSET_BYTES // (1024 * 1024),
    )
    return page, 422 if errors else 200


@bp.get("/sample.csv")
def sample() -> ResponseReturnValue:
    """A sample asset list made from the catalog, in the page's language (German Excel's CSV in German)."""
    name = "geraeteliste-beispiel.csv" if current_locale().startswith("de") else "asset-list-sample.csv"
    return Response(
        sample_csv(shop().trade_in.catalog, current_locale()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/assets")
def check_assets() -> ResponseReturnValue:
    """Check an uploaded asset list (nothing is stored in the library): every rejected row and column."""
    company = _chosen()
    if company is None:
        return redirect(url_for("company.start"))
    grade = request.form.get("default_grade", "")
    if grade and grade not in GRADES:
        abort(400)
    upload = request.files.get("assets")
    data = upload.read(MAX_ASSET_BYTES + 1) if upload is not None and upload.filename else b""
    if not data.strip():
        return _portal_page(company, {"assets": gettext("Please choose a file.")})
    if len(data) > MAX_ASSET_BYTES:
        return _portal_page(
            company,
            {"assets": gettext("The file is larger than %(mb)s MB.", mb=MAX_ASSET_BYTES // (1024 * 1024))},
        )
    filename = (upload.filename if upload is not None else None) or "assets"
    try:
        imported = shop().trade_in.read_assets(data, filename=filename, default_grade=grade or None)
    except FleetError:
        return _portal_page(company, {"assets": gettext("The file cannot be read as CSV or XLSX.")})
    previous = session.get("fleet_upload") or {}
    if isinstance(previous, dict) and isinstance(previous.get("token"), str):
        drop_upload(previous["token"])
    token = keep_upload(data, filename)
    session["fleet_upload"] = {"token": token, "grade": grade, "name": filename}
    return _check_page(company, imported, token, filename)


def _check_page(company: Company, imported: AssetImport, token: str, filename: str) -> ResponseReturnValue:
    problems = [
        {
            "row": problem.row,
            "column": column_text(problem),
            "value": problem.value,
            "text": problem_text(problem),
        }
        for problem in imported.problems
    ]
    page = render_template(
        "company_check.html",
        company=company,
        imported=imported,
        problems=problems,
        token=token,
        filename=filename,
        grades=grade_labels(),
        grade=(session.get("fleet_upload") or {}).get("grade", ""),
        max_mb=MAX_ASSET_BYTES // (1024 * 1024),
    )
    return page, 422 if problems else 200


@bp.post("/quote")
def quote() -> ResponseReturnValue:
    """Quote the checked list (with ``skip_invalid``: its good rows only): a signed portfolio quote."""
    company = _chosen()
    if company is None:
        return redirect(url_for("company.start"))
    kept = session.get("fleet_upload") or {}
    token = request.form.get("token", "")
    found = read_upload(token) if isinstance(kept, dict) and kept.get("token") == token else None
    if found is None:
        flash(gettext("Please upload the list again."), "error")
        return redirect(url_for("company.portal"))
    data, filename = found
    trade_in = shop().trade_in
    try:
        portfolio = trade_in.fleet_quote(
            company.id,
            data,
            filename=filename,
            default_grade=kept.get("grade") or None,
            skip_invalid=request.form.get("skip_invalid") == "yes",
        )
    except AssetImportError:
        imported = trade_in.read_assets(data, filename=filename, default_grade=kept.get("grade") or None)
        return _check_page(company, imported, token, str(kept.get("name") or filename))
    except FleetError:
        flash(gettext("The list has no device to quote."), "error")
        return redirect(url_for("company.portal"))
    drop_upload(token)
    session.pop("fleet_upload", None)
    assert portfolio.batch_id is not None  # noqa: S101 - not a dry run: the quote opened a batch
    return redirect(url_for("company.batch", batch_id=portfolio.batch_id))


# -- a batch: its quote, its pickup, its devices, its documents ----------------------------------------------


def load_batch(batch_id: str) -> FleetBatch:
    """The batch, if this session may act for its company (or staff is signed in); 404 otherwise."""
    try:
        batch = shop().trade_in.fleet_batch(batch_id)
    except NotFoundError:
        abort(404)
    _company_or_404(batch.company_id)
    return batch


def batch_details(batch: FleetBatch) -> dict[str, Any]:
    """What the company's and the staff's batch pages show: the quote, the lines as they stand, the money."""
    trade_in = shop().trade_in
    company = trade_in.company(batch.company_id)
    order: TradeInOrder | None = trade_in.order(batch.order_id) if batch.order_id else None
    currency = batch.portfolio.currency
    by_model: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for line in batch.portfolio.lines:
        entry = by_model[line.description]
        entry[0] += 1
        entry[1] += line.amount.amount
        entry[2] += line.low.amount
    summary = [
        {
            "device": device,
            "count": int(count),
            "amount": Money(amount, currency),
            "low": Money(low, currency),
        }
        for device, (count, amount, low) in sorted(by_model.items())
    ]
    rows = []
    for view in batch.lines:
        device = order.device(view.device_id) if order is not None and view.device_id else None
        inspection = device.inspection if device is not None else None
        rows.append(
            {
                "view": view,
                "inspected": inspection is not None,
                "reasons": line_reasons(view, inspection),
                "adjustment": view.adjustment if inspection is not None else None,
            }
        )
    now = trade_in.clock.now()
    true_up = (
        trade_in.fleet_true_up(batch.id) if batch.state in {BatchState.RECEIVED, BatchState.SETTLED} else None
    )
    settlement = batch.settlement
    documents = {document.kind: document for document in trade_in.fleet_documents(batch.id)}
    contract = company.contract
    return {
        "batch": batch,
        "company": company,
        "order": order,
        "summary": summary,
        "rows": rows,
        "grades": grade_labels(),
        "true_up": true_up,
        "range": Money(batch.portfolio.totals.low.amount - batch.portfolio.totals.amount.amount, currency),
        "expired": batch.state is BatchState.QUOTED and now >= batch.portfolio.valid_until,
        "pickup_on": add_working_days(
            now.date(),
            contract.pickup_days,
            country=contract.holiday_country,
            subdivision=contract.holiday_subdivision,
        ),
        "settled_amount": Money.from_json(settlement["amount"]) if settlement else None,
        "payment_due": _iso_date(settlement.get("payment_due")) if settlement else None,
        "documents": [kind for kind in COMPANY_DOCUMENTS if kind in documents],
        "report_formats": tuple(REPORT_TYPES),
        "certificates": bool(order is not None and order.devices),
        "min_pickup": MIN_PICKUP_DEVICES,
    }


def _iso_date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


@bp.get("/batches/<batch_id>")
def batch(batch_id: str) -> ResponseReturnValue:
    """A batch: its quote and the pickup form, then its devices as they go, and its documents."""
    found = load_batch(batch_id)
    return _batch_page(found, {}, {})


def _batch_page(batch: FleetBatch, form: dict[str, str], errors: dict[str, str]) -> ResponseReturnValue:
    details = batch_details(batch)
    if not form:
        contacts = shop().trade_in.company_contacts(batch.company_id)
        first = contacts[0] if contacts else {}
        form = {
            "boxes": str(_DEFAULT_PICKUP_BOXES),
            "contact_name": first.get("name", ""),
            "contact_phone": first.get("phone", ""),
            "holder": details["company"].legal_name,
        }
    page = render_template("company_batch.html", **details, form=form, errors=errors)
    return page, 422 if errors else 200


def _seal_problem(seals: list[str], boxes: int) -> str | None:
    """What is wrong with the seal numbers given for ``boxes`` boxes (``None``: nothing)."""
    if len(seals) != boxes:
        return ngettext(
            "%(boxes)s box needs %(boxes)s seal number; %(count)s given.",
            "%(boxes)s boxes need %(boxes)s seal numbers; %(count)s given.",
            boxes,
            boxes=boxes,
            count=len(seals),
        )
    if len(set(seals)) != len(seals):
        return gettext("Each box has its own seal number.")
    if any(len(seal) > MAX_SEAL_LENGTH for seal in seals):
        return gettext("A seal number has at most 40 characters.")
    return None


@bp.post("/batches/<batch_id>/pickup")
def book(batch_id: str) -> ResponseReturnValue:
    """Book the pickup: boxes and their seals, the pickup contact and the bank account for the payout."""
    found = load_batch(batch_id)
    form = {name: request.form.get(name, "").strip() for name in PICKUP_FIELDS}
    errors: dict[str, str] = {}
    boxes = int(form["boxes"]) if form["boxes"].isdigit() else 0
    if not 1 <= boxes <= MAX_BOXES:
        errors["boxes"] = gettext("Give the number of boxes (1 to 500).")
    seals = [seal.strip() for seal in _SEALS.split(form["seals"]) if seal.strip()]
    seal_problem = _seal_problem(seals, boxes)
    if seal_problem is not None:
        errors["seals"] = seal_problem
    if not form["contact_name"]:
        errors["contact_name"] = gettext("Please fill this in.")
    payout = None
    try:
        payout = BankTransfer(iban=form["iban"], holder=form["holder"])
    except InvalidPayoutError as error:
        errors[error.field if error.field in form else "iban"] = error.localized(current_locale())
    if errors or payout is None:
        return _batch_page(found, form, errors)
    contact = {
        "name": form["contact_name"],
        **({"phone": form["contact_phone"]} if form["contact_phone"] else {}),
    }
    try:
        booked = shop().trade_in.book_pickup(
            batch_id, boxes=boxes, seals=seals, contact=contact, payout=payout
        )
    except PickupTooSmallError as error:
        return _batch_page(
            found,
            form,
            {
                "_": gettext(
                    "A pickup takes at least %(minimum)s devices; this quote has %(count)s. Send "
                    "fewer devices by parcel instead.",
                    minimum=error.minimum,
                    count=error.count,
                )
            },
        )
    except BatchStateError:
        expired = shop().trade_in.clock.now() >= found.portfolio.valid_until
        return _batch_page(
            found,
            form,
            {
                "_": gettext("This quote has expired. Please upload your list again for a new quote.")
                if expired
                else gettext("This quote can no longer be booked (it expired or was booked already).")
            },
        )
    except FleetError:
        return _batch_page(
            found, form, {"_": gettext("The pickup could not be booked. Please check your entries.")}
        )
    assert booked.manifest is not None  # noqa: S101 - a booked batch has its manifest
    flash(
        gettext(
            "Pickup booked: the carrier comes on %(date)s.",
            date=format_date(booked.manifest.pickup_on, "full"),
        ),
        "success",
    )
    return redirect(url_for("company.batch", batch_id=batch_id))


@bp.get("/batches/<batch_id>/documents/<kind>")
def document(batch_id: str, kind: str) -> ResponseReturnValue:
    """An archived document of the batch: the credit note (PDF, e-invoice XML), the hand-over record."""
    found = load_batch(batch_id)
    try:
        archived = shop().trade_in.fleet_document(found.id, kind)
    except FleetError:
        abort(404)
    extension = DOCUMENT_TYPES.get(archived.media_type, "bin")
    name = f"{archived.number or found.id}-{kind.replace('_', '-')}.{extension}"
    return Response(
        archived.content,
        mimetype=archived.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/batches/<batch_id>/report.<fmt>")
def report(batch_id: str, fmt: str) -> ResponseReturnValue:
    """The batch's report: the asset-disposal export (CSV), XLSX, PDF (in the page's language) or JSON."""
    if fmt not in REPORT_TYPES:
        abort(404)
    found = load_batch(batch_id)
    body = shop().trade_in.fleet_report_file(found.id, format=fmt, locale=current_locale())
    return Response(
        body,
        mimetype=REPORT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="fleet-report-{found.id}.{fmt}"'},
    )


@bp.get("/batches/<batch_id>/certificates.json")
def certificates(batch_id: str) -> ResponseReturnValue:
    """The erasure certificates of the batch's devices, as one signed bundle (JSON)."""
    found = load_batch(batch_id)
    if found.order_id is None:
        abort(404)
    bundle = shop().trade_in.certificate_bundle(found.order_id)
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="erasure-certificates-{found.id}.json"'},
    )
