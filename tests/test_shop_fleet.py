"""The shop's company portal and the staff's fleet pages, driven with Flask's test client.

One story from the company's account to the credit note: a list with a bad row is refused row by row, a
good list is quoted, the pickup booked; staff hands the boxes over, receives them with one device missing and
one not on the list, inspects (one display found cracked, one lock still on) and settles; the company
downloads the credit note (PDF and e-invoice XML), the certificates and the report, whose paid total is the
credit note's.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from babel.dates import format_date

from examples.flask_shop.fleet import DEMO_COMPANY, VAT_STATUSES
from examples.flask_shop.testing import ShopClient, find, shop_state
from examples.flask_shop.texts import has_text
from examples.flask_shop.views.company import COMPANY_DOCUMENTS, REPORT_TYPES
from tradein_sdk import DeviceState, Money
from tradein_sdk._domain.fleet import BatchState, ExtraDecision, LineStatus
from tradein_sdk._domain.fleet_import import PROBLEM_CODES
from tradein_sdk._domain.orders.vocabulary import MismatchReason

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

    from tradein_sdk import FixedClock, TradeIn

IMPORT_CODES = PROBLEM_CODES
"""Every problem code of an asset list (each needs a human text in the shop)."""
IBAN = "DE89 3704 0044 0532 0130 00"
CII = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


@pytest.fixture
def start() -> datetime:
    """Monday 7 December 2026, 09:00 UTC: a pickup booked today comes on Thursday (3 working days)."""
    return datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The demo shop on a fresh data directory, without demo data, on the test's clock."""
    from examples.flask_shop import create_app  # noqa: PLC0415 - as the shared fixture does

    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
        }
    )
    yield app
    shop_state(app).close()


@pytest.fixture
def staff(app: Flask) -> ShopClient:
    """A signed-in member of staff."""
    client = ShopClient(app)
    client.login_staff()
    return client


def luhn(body: str) -> str:
    """``body`` with its Luhn check digit."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str(-total % 10)


def asset_rows(trade_in: TradeIn, count: int = 6) -> list[dict[str, str]]:
    """``count`` smartphones of three catalog models, with IMEIs whose TAC the catalog does not know."""
    models = [model for model in trade_in.catalog.models if model.category.value == "smartphone"][:3]
    return [
        {
            "imei": luhn(f"9900{index:04d}{100 + index:06d}"),
            "model": models[index % 3].variants[0].id,
            "asset_tag": f"INV-{index + 1:04d}",
            "cost_centre": "4711",
            "lock_released": "ja",
            "grade": ["gut", "sehr gut", "B"][index % 3],
        }
        for index in range(count)
    ]


def asset_csv(rows: list[dict[str, str]]) -> bytes:
    """A German Excel CSV (BOM, semicolons) of the rows."""
    header = ["IMEI", "Modell", "Inventarnummer", "Kostenstelle", "Sperre aufgehoben", "Zustand"]
    keys = ["imei", "model", "asset_tag", "cost_centre", "lock_released", "grade"]
    lines = [";".join(header), *(";".join(row[key] for key in keys) for row in rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def open_company(client: ShopClient, **changes: str) -> str:
    """Open Muster Logistik's account through the form; returns the company id."""
    form = {
        "legal_name": "Muster Logistik GmbH",
        "street": "Lagerweg 4",
        "postcode": "20095",
        "city": "Hamburg",
        "vat_status": "regular",
        "vat_id": "DE 136 695 976",
        "contact_name": "Erika Mustermann",
        "contact_email": "it@muster.example",
        "self_billing": "yes",
        **changes,
    }
    response = client.post("/company/open", form)
    assert response.status_code == 302, response.text
    assert response.location.endswith("/company/portal")
    with client.client.session_transaction() as session:
        company_id: str = session["company"]
    return company_id


def upload(client: ShopClient, data: bytes, name: str = "geraete.csv", grade: str = "") -> tuple[int, str]:
    """Upload an asset list for the check; returns the status and the page."""
    response = client.post(
        "/company/assets",
        {"assets": (io.BytesIO(data), name), "default_grade": grade},
        content_type="multipart/form-data",
    )
    return response.status_code, response.text


def quote(client: ShopClient, data: bytes) -> str:
    """Check a clean list, then get its portfolio quote; returns the batch id."""
    status, page = upload(client, data)
    assert status == 200
    token = find(r'name="token" value="([^"]+)"', page)
    response = client.post("/company/quote", {"token": token})
    assert response.status_code == 302
    return str(response.location.rsplit("/", 1)[1])


def book(client: ShopClient, batch_id: str, **changes: str) -> tuple[int, str]:
    """Book the pickup of a batch (two boxes); returns the status and the page (or redirect target)."""
    form = {
        "boxes": "2",
        "seals": "PL-0001\nPL-0002",
        "contact_name": "Pforte",
        "contact_phone": "+49 40 1234",
        "holder": "Muster Logistik GmbH",
        "iban": IBAN,
        **changes,
    }
    response = client.post(f"/company/batches/{batch_id}/pickup", form)
    return response.status_code, response.location if response.status_code == 302 else response.text


def text_of(page: str) -> str:
    """The page's text, tags removed, entities decoded, spaces normalised."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\xa0", " ").split())


# -- opening a company account -------------------------------------------------------------------------------


def test_a_wrong_vat_id_is_shown_beside_its_field(app: Flask) -> None:
    """The VAT id's check digits are checked; the message sits under the field, the form keeps its values."""
    client = ShopClient(app)
    response = client.post(
        "/company/open",
        {
            "legal_name": "Muster Logistik GmbH",
            "street": "",
            "postcode": "20095",
            "city": "Hamburg",
            "vat_status": "regular",
            "vat_id": "DE136695977",
            "self_billing": "yes",
        },
    )
    assert response.status_code == 422
    page = response.text
    vat_error = html.unescape(find(r'data-testid="error-vat_id">([^<]+)<', page))
    assert "Prüfziffern" in vat_error
    assert "DE136695977" in vat_error
    assert 'aria-describedby="error-vat_id"' in page
    assert html.unescape(find(r'data-testid="error-street">([^<]+)<', page)) == "Bitte ausfüllen."
    assert 'value="Muster Logistik GmbH"' in page
    assert shop_state(app).trade_in.companies() == []


def test_a_business_needs_the_self_billing_agreement(app: Flask) -> None:
    """Without the agreement no credit note could be issued: the form says so beside the checkbox."""
    client = ShopClient(app, locale="en_GB")
    response = client.post(
        "/company/open",
        {
            "legal_name": "Ohne Vereinbarung GmbH",
            "street": "Weg 1",
            "postcode": "10115",
            "city": "Berlin",
            "vat_status": "regular",
            "vat_id": "DE136695976",
        },
    )
    assert response.status_code == 422
    assert "credit note" in html.unescape(find(r'data-testid="error-self_billing">([^<]+)<', response.text))


def test_the_demo_company_is_seeded_once_and_offered(tmp_path: Path) -> None:
    """With demo data on, Muster Logistik GmbH is there once (a second start adds none) and can be chosen."""
    from examples.flask_shop import create_app  # noqa: PLC0415

    config = {"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path)}
    for _ in range(2):
        state = shop_state(create_app(config))
        companies = state.trade_in.companies()
        state.close()
        assert [company.legal_name for company in companies] == [DEMO_COMPANY["legal_name"]]
    app = create_app(config)
    try:
        company = shop_state(app).trade_in.companies()[0]
        assert company.vat_id == DEMO_COMPANY["vat_id"]
        assert company.contract.price_factor == Decimal("1.05")
        assert company.contract.self_billing is not None
        client = ShopClient(app)
        assert 'data-company="Muster Logistik GmbH"' in client.get("/company/").text
        assert client.post("/company/select", {"company_id": company.id}).status_code == 302
        portal = client.get("/company/portal").text
        assert "Muster Logistik GmbH" in portal
        assert "Preise 5 % über den Shop-Preisen" in html.unescape(portal)
    finally:
        shop_state(app).close()


# -- the asset list ------------------------------------------------------------------------------------------


def test_the_sample_list_imports_cleanly_in_german_and_english(app: Flask) -> None:
    """The sample CSV the portal offers is made from the catalog and reads without a problem."""
    trade_in = shop_state(app).trade_in
    for locale, header in (("de_DE", "IMEI;Modell;"), ("en_GB", "IMEI,Model,")):
        client = ShopClient(app, locale=locale)
        response = client.get("/company/sample.csv")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.data.decode("utf-8-sig").startswith(header)
        imported = trade_in.read_assets(response.data, filename="sample.csv")
        assert imported.problems == ()
        assert len(imported.rows) == 8


def test_a_list_with_bad_rows_names_each_row_and_column(app: Flask) -> None:
    """The check names the row and column of each problem in words, and offers the good rows only."""
    client = ShopClient(app)
    company_id = open_company(client)
    rows = asset_rows(shop_state(app).trade_in)
    rows[2]["imei"] = "35 123 456 789 0123"
    rows[4]["model"] = "Nokia 3310 Turbo"
    status, page = upload(client, asset_csv(rows))
    assert status == 422
    assert 'data-row="4" data-column="IMEI"' in page
    assert 'data-row="6" data-column="Modell"' in page
    text = text_of(page)
    assert "Keine gültige IMEI" in text
    assert "Dieses Gerät kennen wir nicht." in text
    assert "invalid_imei" not in page
    assert "unknown_model" not in page
    assert 'data-testid="get-quote"' not in page
    assert find(r'data-testid="rows-rejected">([^<]+)<', page) == "2"
    assert shop_state(app).trade_in.fleet_batches(company_id) == []  # a check stores nothing
    token = find(r'name="token" value="([^"]+)"', page)
    response = client.post("/company/quote", {"token": token, "skip_invalid": "yes"})
    assert response.status_code == 302
    (batch,) = shop_state(app).trade_in.fleet_batches(company_id)
    assert batch.portfolio.totals.devices == 4


def test_a_row_without_condition_needs_the_default_grade(app: Flask) -> None:
    """Rows without a condition are refused unless the form's default grade is chosen."""
    client = ShopClient(app, locale="en_GB")
    open_company(client)
    rows = asset_rows(shop_state(app).trade_in, count=4)
    for row in rows:
        row["grade"] = ""
    status, page = upload(client, asset_csv(rows))
    assert status == 422
    assert "No condition given" in text_of(page)
    status, page = upload(client, asset_csv(rows), grade="good")
    assert status == 200
    assert 'data-testid="get-quote"' in page


def test_no_file_is_an_error_beside_the_file_field(app: Flask) -> None:
    """Submitting the form without a file keeps the portal with the error under the field."""
    client = ShopClient(app)
    open_company(client)
    status, page = upload(client, b"", name="")
    assert status == 422
    assert html.unescape(find(r'data-testid="error-assets">([^<]+)<', page)) == "Bitte wählen Sie eine Datei."


def test_an_upload_of_another_session_cannot_be_quoted(app: Flask) -> None:
    """The token of a kept upload works only in the session that uploaded it."""
    owner, other = ShopClient(app), ShopClient(app)
    open_company(owner)
    open_company(other)
    _, page = upload(owner, asset_csv(asset_rows(shop_state(app).trade_in)))
    token = find(r'name="token" value="([^"]+)"', page)
    response = other.post("/company/quote", {"token": token})
    assert response.status_code == 302
    assert response.location.endswith("/company/portal")


# -- the whole story -----------------------------------------------------------------------------------------


def test_from_the_asset_list_to_the_credit_note(  # noqa: PLR0915 - one story, told once
    app: Flask, staff: ShopClient, clock: FixedClock
) -> None:
    """Quote, pickup, hand-over, boxes with one missing and one extra, inspection, settlement, documents."""
    trade_in = shop_state(app).trade_in
    client = ShopClient(app)
    company_id = open_company(client)
    batch_id = quote(client, asset_csv(asset_rows(trade_in)))

    # the portfolio quote: by model, total, range, validity, every line
    page = client.get(f"/company/batches/{batch_id}").text
    portfolio = trade_in.fleet_batch(batch_id).portfolio
    assert find(r'data-testid="quote-total">([^<]+)<', page) == portfolio.totals.amount.format("de_DE")
    assert portfolio.totals.low.format("de_DE") in find(r'data-testid="quote-low">([^<]+)<', page)
    assert "28. Dezember 2026" in find(r'data-testid="quote-valid-until">([^<]+)<', page)
    assert page.count("<tr data-line=") == 6
    assert "Donnerstag, 10. Dezember 2026" in text_of(page)  # the pickup day if booked today

    # booking: a wrong IBAN and a seal too few are shown beside their fields; then it is booked
    status, page = book(client, batch_id, iban="DE89 3704 0044 0532 0130 01", seals="PL-0001")
    assert status == 422
    assert "IBAN" in html.unescape(find(r'data-testid="error-iban">([^<]+)<', page))
    assert "2 Kartons brauchen 2 Siegelnummern; 1 angegeben." in html.unescape(
        find(r'data-testid="error-seals">([^<]+)<', page)
    )
    status, location = book(client, batch_id)
    assert status == 302
    page = client.get(location).text
    assert "Abholung gebucht: der Kurier kommt am Donnerstag, 10. Dezember 2026." in text_of(page)
    booked = trade_in.fleet_batch(batch_id)
    assert booked.state is BatchState.BOOKED
    assert booked.manifest is not None
    assert booked.manifest.pickup_on == date(2026, 12, 10)

    # staff: the list, a hand-over with the wrong seals (refused), then the right ones
    assert f'data-batch="{batch_id}"' in staff.get("/staff/fleet/").text
    clock.advance(days=3)
    staff.post(f"/staff/fleet/{batch_id}/handover", {"seals": "PL-0001\nPL-9999", "carrier": "DHL"})
    assert trade_in.fleet_batch(batch_id).state is BatchState.BOOKED
    assert "Die Siegel entsprechen nicht dem Manifest" in text_of(staff.get(f"/staff/fleet/{batch_id}").text)
    response = staff.post(
        f"/staff/fleet/{batch_id}/handover",
        {"seals": "PL-0002, PL-0001", "carrier": "DHL", "tracking": "00340434"},
    )
    assert response.status_code == 302
    assert trade_in.fleet_batch(batch_id).state is BatchState.PICKED_UP

    # the boxes: line 6 is not in them, a device not on the list is
    clock.advance(days=2)
    lines = trade_in.fleet_batch(batch_id).lines
    scanned = "\n".join(view.line.imei or "" for view in lines[:5]) + "\nSERIAL-XYZ-1\n"
    staff.post(f"/staff/fleet/{batch_id}/receive", {"scanned": scanned})
    received = trade_in.fleet_batch(batch_id)
    assert received.state is BatchState.RECEIVED
    assert [view.status for view in received.lines] == [LineStatus.RECEIVED] * 5 + [LineStatus.MISSING]
    assert [extra.identifier for extra in received.extras] == ["SERIAL-XYZ-1"]
    page = staff.get(f"/staff/fleet/{batch_id}").text
    assert "5 Geräte eingegangen, 1 fehlend, 1 nicht auf der Liste." in text_of(page)
    assert 'data-testid="settle" disabled' in page  # nothing inspected yet

    # inspection: line 2's display is cracked, line 3's lock is still on, the others as declared
    staff.post(f"/staff/fleet/{batch_id}/extras", {"identifier": "SERIAL-XYZ-1", "decision": "recycle"})
    clock.advance(hours=2)
    for line in (1, 4, 5):
        staff.post(f"/staff/fleet/{batch_id}/lines/{line}/inspect", {"mode": "declared"})
    staff.post(f"/staff/fleet/{batch_id}/lines/2/inspect", {"mode": "found", "cracked": "yes"})
    staff.post(f"/staff/fleet/{batch_id}/lines/3/inspect", {"mode": "found", "locked": "yes"})
    inspected = trade_in.fleet_batch(batch_id)
    states = [view.state for view in inspected.lines]
    assert states[:5] == [
        DeviceState.CONFIRMED,
        DeviceState.REVISION_ACCEPTED,  # the contract makes revisions binding
        DeviceState.MISMATCH,
        DeviceState.CONFIRMED,
        DeviceState.CONFIRMED,
    ]
    second = inspected.lines[1]
    assert second.offer is not None
    assert second.offer.amount < second.line.amount.amount
    reports = shop_state(app).records.reports(inspected.order_id or "")
    assert second.device_id in reports  # the inspection's texts, as for a shopper's order

    # the company follows its devices: statuses, states and reasons in words, no codes
    page = client.get(f"/company/batches/{batch_id}").text
    text = text_of(page)
    rendered = trade_in.render_questionnaire("smartphone", "de_DE", staff=True)
    display_question = next(
        question.text
        for section in rendered.sections
        for question in section.questions
        if question.id == "display_glass"
    )
    assert display_question in text
    assert "Aktivierungssperre oder Kontosperre noch aktiv" in text
    assert "Nicht in den Kartons" in text
    assert "Wird recycelt" in text
    for code in ("display_glass", "lock_not_removable", "revision_accepted", "picked_up", "find_my_off"):
        assert code not in text, code
    assert find(r'data-testid="line-offer-2">([^<]+)<', page) == second.offer.format("de_DE")

    # settlement: once, with the shop's company data as the buyer
    response = staff.post(f"/staff/fleet/{batch_id}/settle")
    assert response.status_code == 302
    settled = trade_in.fleet_batch(batch_id)
    assert settled.state is BatchState.SETTLED
    assert settled.settlement is not None
    number = settled.settlement["document"]["number"]
    assert number.startswith("GS-2026-")
    assert f"Abgerechnet: Beleg {number} ausgestellt." in text_of(staff.get(f"/staff/fleet/{batch_id}").text)
    staff.post(f"/staff/fleet/{batch_id}/settle")
    assert trade_in.fleet_batch(batch_id).settlement == settled.settlement  # exactly once

    # the company's documents: the credit note as PDF and e-invoice, the certificates, the report
    page = client.get(f"/company/batches/{batch_id}").text
    paid = Decimal(settled.settlement["amount"]["amount"])
    assert find(r'data-testid="settled-amount">([^<]+)<', page) == Money(paid, "EUR").format("de_DE")
    pdf = client.get(f"/company/batches/{batch_id}/documents/credit_note_pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    xml = client.get(f"/company/batches/{batch_id}/documents/credit_note_xml")
    assert xml.mimetype == "application/xml"
    due = ET.fromstring(xml.data).find(f".//{CII}DuePayableAmount")  # noqa: S314 - the shop's own document
    assert due is not None
    assert Decimal(due.text or "") == paid
    report = client.get(f"/company/batches/{batch_id}/report.csv")
    assert report.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report.data.decode())))
    assert [row["asset_tag"] for row in rows] == [f"INV-{n:04d}" for n in range(1, 7)]
    assert sum(Decimal(row["paid"]) for row in rows if row["paid"]) == paid
    assert {row["asset_tag"]: row["outcome"] for row in rows}["INV-0006"] == "missing"
    assert client.get(f"/company/batches/{batch_id}/report.xlsx").data.startswith(b"PK")
    assert client.get(f"/company/batches/{batch_id}/report.pdf").data.startswith(b"%PDF")
    bundle = json.loads(client.get(f"/company/batches/{batch_id}/certificates.json").data)
    assert bundle["type"] == "erasure-certificate-bundle"
    assert bundle["order_id"] == settled.order_id
    handover = json.loads(client.get(f"/company/batches/{batch_id}/documents/handover_record").data)
    assert handover["payload"]["carrier"] == "DHL"
    assert client.get(f"/company/batches/{batch_id}/documents/purchase_statement_pdf").status_code == 404
    assert client.get(f"/company/batches/{batch_id}/report.docx").status_code == 404
    assert company_id == settled.company_id


def test_the_pickup_day_skips_the_weekend_and_the_page_speaks_english(app: Flask, clock: FixedClock) -> None:
    """Booked on a Friday, the carrier comes on Wednesday; the English page formats in English."""
    clock.advance(days=4)  # Friday 11 December 2026
    trade_in = shop_state(app).trade_in
    client = ShopClient(app, locale="en_GB")
    open_company(client)
    batch_id = quote(client, asset_csv(asset_rows(trade_in, count=4)))
    page = client.get(f"/company/batches/{batch_id}").text
    total = trade_in.fleet_batch(batch_id).portfolio.totals.amount
    assert find(r'data-testid="quote-total">([^<]+)<', page) == total.format("en_GB")
    assert total.format("en_GB").startswith("€")
    assert "Booked today, the carrier comes on Wednesday, 16 December 2026." in text_of(page)
    status, _ = book(client, batch_id, boxes="1", seals="S-1")
    assert status == 302
    manifest = trade_in.fleet_batch(batch_id).manifest
    assert manifest is not None
    assert manifest.pickup_on == date(2026, 12, 16)
    assert format_date(manifest.pickup_on, format="full", locale="en_GB") in text_of(
        client.get(f"/company/batches/{batch_id}").text
    )


def test_a_pickup_of_fewer_than_four_devices_is_refused_in_words(app: Flask) -> None:
    """Three devices travel by parcel, not by pickup: the page says so and nothing is booked."""
    trade_in = shop_state(app).trade_in
    client = ShopClient(app)
    open_company(client)
    batch_id = quote(client, asset_csv(asset_rows(trade_in, count=3)))
    status, page = book(client, batch_id, boxes="1", seals="S-1")
    assert status == 422
    assert "Eine Abholung umfasst mindestens 4 Geräte; dieses Angebot hat 3." in text_of(page)
    assert trade_in.fleet_batch(batch_id).state is BatchState.QUOTED


def test_an_expired_quote_cannot_be_booked(app: Flask, clock: FixedClock) -> None:
    """After the contract's 21 days the quote page says it expired and offers no booking."""
    trade_in = shop_state(app).trade_in
    client = ShopClient(app)
    open_company(client)
    batch_id = quote(client, asset_csv(asset_rows(trade_in, count=4)))
    clock.advance(days=22)
    page = client.get(f"/company/batches/{batch_id}").text
    assert 'data-testid="quote-expired"' in page
    assert 'data-testid="pickup-form"' not in page
    status, page = book(client, batch_id, boxes="1", seals="S-1")
    assert status == 422
    assert "Dieses Angebot ist abgelaufen." in text_of(page)
    assert trade_in.fleet_batch(batch_id).state is BatchState.QUOTED


def test_a_batch_is_private_to_its_company_and_staff(app: Flask, staff: ShopClient) -> None:
    """Another session cannot see a company's batch or its documents; staff can; staff pages need staff."""
    trade_in = shop_state(app).trade_in
    client = ShopClient(app)
    open_company(client)
    batch_id = quote(client, asset_csv(asset_rows(trade_in, count=4)))
    stranger = ShopClient(app)
    assert stranger.get(f"/company/batches/{batch_id}").status_code == 404
    assert stranger.get(f"/company/batches/{batch_id}/report.csv").status_code == 404
    assert stranger.get("/company/").status_code == 200
    assert "Muster Logistik GmbH" not in stranger.get("/company/").text
    assert stranger.get(f"/staff/fleet/{batch_id}").status_code == 302  # to the sign-in
    assert staff.get(f"/company/batches/{batch_id}").status_code == 200
    assert staff.get(f"/staff/fleet/{batch_id}").status_code == 200
    assert stranger.get("/company/batches/fb_nosuchbatch").status_code == 404


def test_every_label_the_fleet_pages_build_exists() -> None:
    """States, statuses, decisions, mismatches, import problems, VAT statuses and downloads have texts."""
    keys = [
        *(("fleet.state", state.value) for state in BatchState),
        *(("fleet.next", state.value) for state in BatchState),
        *(("fleet.line", status.value) for status in LineStatus),
        *(("fleet.extra", decision.value) for decision in ExtraDecision),
        *(("fleet.extra_decide", decision) for decision in ("return", "recycle")),
        *(("fleet.extra_done", decision) for decision in ("return", "recycle")),
        *(("fleet.mismatch", reason.value) for reason in MismatchReason),
        *(("fleet.problem", code) for code in IMPORT_CODES),
        *(("fleet.vat", status) for status in VAT_STATUSES),
        *(("fleet.doc", kind) for kind in COMPANY_DOCUMENTS),
        *(("fleet.report", fmt) for fmt in REPORT_TYPES),
    ]
    assert [key for key in keys if not has_text(*key)] == []
