"""One report for the company of a fleet batch: devices, values, adjustments, certificates, CO2, disposal.

The report is built from what the batch, its order, the ledger, the erasure certificates and the CO2 method
already hold; nothing in it is computed anew. Its rows are the **asset-disposal export** a company's asset
register takes: asset tag → outcome, amount paid, erasure certificate id, credit-note line; its totals tie out
to the rows (the paid total is the credit note's payable total).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import attrs

from tradein_sdk._domain.identifiers import spreadsheet_cell
from tradein_sdk._errors import FleetError

COLUMNS: Final = (
    "line",
    "asset_tag",
    "cost_centre",
    "device",
    "imei_or_serial",
    "outcome",
    "state",
    "quoted",
    "inspected",
    "adjustment",
    "reasons",
    "paid",
    "currency",
    "certificate_id",
    "credit_note_line",
    "co2_avoided_kg",
)
"""The columns of the asset-disposal export, in order."""


@attrs.frozen(kw_only=True)
class ReportRow:
    """One device of the report (a line of the batch).

    Attributes:
        line: the batch line.
        asset_tag: the company's asset tag.
        cost_centre: its cost centre.
        device: the trade name.
        identifier: IMEI or serial number.
        outcome: ``paid``, ``recycled`` (no value), ``returned`` (going back: a lock or another device),
            ``missing`` (not in the boxes), ``not_picked_up`` or ``pending``.
        state: the device's state in the batch's order (empty when it never travelled).
        quoted: the portfolio amount.
        inspected: what inspection set (``None`` until inspected).
        paid: what was paid (``None`` when nothing).
        reasons: why inspection changed the amount.
        certificate_id: its erasure certificate, once erased.
        credit_note_line: its line on the credit note, once settled.
        co2_avoided_kg: its central CO2 figure, once bought or recycled.
    """

    line: int
    asset_tag: str | None
    cost_centre: str | None
    device: str
    identifier: str
    outcome: str
    state: str
    quoted: Decimal
    inspected: Decimal | None
    paid: Decimal | None
    reasons: tuple[str, ...]
    certificate_id: str | None
    credit_note_line: int | None
    co2_avoided_kg: Decimal | None

    @property
    def adjustment(self) -> Decimal:
        """Inspected minus quoted (zero until inspected)."""
        return Decimal(0) if self.inspected is None else self.inspected - self.quoted

    def values(self, currency: str) -> dict[str, str]:
        """The row as the export's columns (amounts as plain decimals; the company's own texts defused)."""
        return {
            "line": str(self.line),
            "asset_tag": spreadsheet_cell(self.asset_tag or ""),
            "cost_centre": spreadsheet_cell(self.cost_centre or ""),
            "device": self.device,
            "imei_or_serial": spreadsheet_cell(self.identifier),
            "outcome": self.outcome,
            "state": self.state,
            "quoted": f"{self.quoted:.2f}",
            "inspected": "" if self.inspected is None else f"{self.inspected:.2f}",
            "adjustment": f"{self.adjustment:.2f}",
            "reasons": "; ".join(self.reasons),
            "paid": "" if self.paid is None else f"{self.paid:.2f}",
            "currency": currency,
            "certificate_id": self.certificate_id or "",
            "credit_note_line": "" if self.credit_note_line is None else str(self.credit_note_line),
            "co2_avoided_kg": "" if self.co2_avoided_kg is None else f"{self.co2_avoided_kg:.1f}",
        }


@attrs.frozen(kw_only=True)
class FleetReport:
    """The company's report of one batch.

    Attributes:
        batch_id: the batch.
        company: the company's id, legal name and VAT id.
        state: the batch's state.
        currency: the currency of every amount.
        dates: when the batch was quoted, booked, handed over, settled (ISO texts; absent until then).
        rows: one per line of the batch.
        extras: devices found in the boxes but not on the manifest, with what happens to them.
        settlement: the settlement (id, amount, document number and hash, payment due), once settled.
        co2: the batch's CO2 totals (low, central, high kg; devices counted), when any device counts.
        certificates: the erasure certificates bundle of the batch's order.
    """

    batch_id: str
    company: Mapping[str, Any]
    state: str
    currency: str
    dates: Mapping[str, str]
    rows: tuple[ReportRow, ...]
    extras: tuple[Mapping[str, Any], ...]
    settlement: Mapping[str, Any] | None
    co2: Mapping[str, Any] | None
    certificates: Mapping[str, Any] | None = attrs.field(default=None, repr=False)

    @property
    def totals(self) -> dict[str, Any]:
        """Counts and sums over the rows (they tie out to the rows by construction)."""
        outcomes: dict[str, int] = {}
        for row in self.rows:
            outcomes[row.outcome] = outcomes.get(row.outcome, 0) + 1
        quoted = sum((row.quoted for row in self.rows if row.outcome != "not_picked_up"), Decimal(0))
        paid = sum((row.paid for row in self.rows if row.paid is not None), Decimal(0))
        adjustments = sum((row.adjustment for row in self.rows), Decimal(0))
        return {
            "devices": len(self.rows),
            "received": sum(1 for row in self.rows if row.outcome not in {"missing", "not_picked_up"}),
            "outcomes": dict(sorted(outcomes.items())),
            "quoted": f"{quoted:.2f}",
            "adjustments": f"{adjustments:.2f}",
            "paid": f"{paid:.2f}",
            "certificates": sum(1 for row in self.rows if row.certificate_id),
            "extras": len(self.extras),
        }

    def to_json(self) -> dict[str, Any]:
        """The report's JSON form (without the certificates bundle: it is its own document)."""
        return {
            "batch_id": self.batch_id,
            "company": dict(self.company),
            "state": self.state,
            "currency": self.currency,
            "dates": dict(self.dates),
            "totals": self.totals,
            "rows": [row.values(self.currency) for row in self.rows],
            "extras": [dict(extra) for extra in self.extras],
            "settlement": dict(self.settlement) if self.settlement is not None else None,
            "co2": dict(self.co2) if self.co2 is not None else None,
        }


def report_csv(report: FleetReport, *, delimiter: str = ",") -> str:
    """The asset-disposal export as CSV text (a header row, one row per device).

    Args:
        report: the report.
        delimiter: ``,`` by default; ``;`` for spreadsheets set to German.
    """
    if delimiter not in {",", ";", "\t"}:
        raise FleetError(
            "a CSV delimiter is a comma, a semicolon or a tab, not {delimiter!r}", delimiter=delimiter
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow(row.values(report.currency))
    return buffer.getvalue()


def report_xlsx(report: FleetReport) -> bytes:
    """The report as an Excel workbook: a *Devices* sheet (the export, amounts as numbers), a *Summary* sheet.

    Raises:
        FleetError: openpyxl is not installed (``pip install 'tradein-sdk[fleet]'``).
    """
    try:
        from openpyxl import Workbook  # noqa: PLC0415 - the [fleet] extra, loaded with the first workbook
    except ImportError:  # pragma: no cover - the [fleet] extra is installed in the tests
        raise FleetError("an XLSX report needs openpyxl: pip install 'tradein-sdk[fleet]'") from None
    book = Workbook()
    devices = book.active
    devices.title = "Devices"
    devices.append(list(COLUMNS))
    amounts = {"quoted", "inspected", "adjustment", "paid", "co2_avoided_kg"}
    for row in report.rows:
        values = row.values(report.currency)
        devices.append(
            [
                (Decimal(values[column]) if column in amounts and values[column] else values[column] or None)
                if column != "line"
                else row.line
                for column in COLUMNS
            ]
        )
    devices.freeze_panes = "A2"
    summary = book.create_sheet("Summary")
    summary.append(["batch", report.batch_id])
    summary.append(["company", report.company.get("legal_name", "")])
    summary.append(["VAT id", report.company.get("vat_id") or ""])
    summary.append(["state", report.state])
    for key, value in report.dates.items():
        summary.append([key, value])
    for key, value in report.totals.items():
        summary.append([key, str(value) if isinstance(value, dict) else value])
    if report.settlement is not None:
        document = report.settlement.get("document", {})
        summary.append(["document", f"{document.get('kind', '')} {document.get('number', '')}"])
        summary.append(["document sha256", document.get("sha256", "")])
    if report.co2 is not None:
        summary.append(["CO2 avoided (kg, central)", report.co2.get("central", "")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def outcome_of(state: str | None, status: str, *, picked: bool, settled_line: int | None) -> str:
    """The row outcome of a line from its device state and its status at the warehouse."""
    if not picked:
        return "not_picked_up"
    if status == "missing":
        return "missing"
    if state in {"paid", "credited", "disposed"} or settled_line is not None:
        return "paid"
    if state == "recycled":
        return "recycled"
    if state in {"mismatch", "returning", "returned", "revision_declined", "surrendered"}:
        return "returned"
    return "pending"
