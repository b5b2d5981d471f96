"""Fleet trade-in over HTTP: a company's procurement system and the back office run a batch end to end.

The shop's key opens the company account, checks and quotes the asset list and books the pickup; the back
office's key records the hand-over, receives the boxes, inspects and settles; both read the documents and the
report. Results are the facade's types; another tenant's key sees nothing; bad input is typed, never a 500.
"""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.app.test_fleet import BANK, ISSUER, STAFF_CHECKS, asset_csv, contract, twenty_five
from tradein_sdk import BadRequestError, PermissionDeniedError, TradeIn
from tradein_sdk._adapters.credit_note_documents import validate_credit_note_xml
from tradein_sdk._domain.fleet import Address, BatchState, FleetBatch, LineStatus
from tradein_sdk._domain.tenancy import Role, Scope
from tradein_sdk._errors import (
    AssetImportError,
    BatchNotFoundError,
    CompanyNotFoundError,
    FleetError,
    InvalidVatIdError,
)
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.clock import FixedClock
    from tradein_sdk._remote.client import TradeInClient


@pytest.fixture
def fake(tmp_path: Path, clock: FixedClock) -> Iterator[FakeTradeInService]:
    """The fake service on an embedded facade at the test's clock, started."""
    trade_in = TradeIn.embedded(tmp_path, clock=clock)
    with FakeTradeInService(trade_in) as service:
        yield service
    trade_in.close()


def open_company(client: TradeInClient) -> str:
    """A company account opened over HTTP."""
    company = client.open_company(
        "Muster Logistik GmbH",
        Address(street="Lagerweg 4", postcode="20095", city="Hamburg", country="DE"),
        vat_status="regular",
        vat_id="DE136695976",
        contract=contract(),
        contacts=[{"name": "Erika Mustermann"}],
    )
    return company.id


def test_a_batch_over_http_from_the_asset_list_to_the_credit_note(fake: FakeTradeInService) -> None:
    """Every step through the clients; the credit note over HTTP is the archived one, tied to the ledger."""
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    facade = fake.facade("shop")
    company_id = open_company(shop)
    assert shop.company(company_id) == facade.company(company_id)
    assert [company.id for company in shop.companies()] == [company_id]
    data = asset_csv(twenty_five(facade)[:8])
    checked = shop.read_assets(data, filename="geraete.csv")
    assert checked == facade.read_assets(data, filename="geraete.csv")
    portfolio = shop.fleet_quote(company_id, data, filename="geraete.csv")
    assert portfolio.totals.devices == 8
    batch_id = portfolio.batch_id or ""
    assert shop.fleet_batch(batch_id) == facade.fleet_batch(batch_id)
    booked = shop.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    assert booked.state is BatchState.BOOKED
    with pytest.raises(PermissionDeniedError):  # the shop does not record what the warehouse does
        shop.hand_over(batch_id, seals=["S-1"], carrier="DHL")
    office.hand_over(batch_id, seals=["S-1"], carrier="DHL")
    scanned = [view.line.imei or "" for view in booked.lines[:7]] + ["EXTRA-1"]
    received = office.receive_batch(batch_id, scanned)
    assert [view.status for view in received.lines].count(LineStatus.MISSING) == 1
    office.decide_extra(batch_id, "EXTRA-1", "return")
    for view in received.lines[:7]:
        answers = {**view.line.answers, **STAFF_CHECKS}
        if view.line.line == 3:
            answers["display_glass"] = "cracked"
        diff = office.inspect_fleet_device(batch_id, view.line.line, answers, imei=view.line.imei)
        assert diff.quote_id
    true_up = shop.fleet_true_up(batch_id)
    assert true_up == facade.fleet_true_up(batch_id)
    assert true_up.adjustment.amount < 0
    settled = office.settle_batch(batch_id, issuer=ISSUER)
    assert settled.state is BatchState.SETTLED
    assert settled.settlement is not None
    kinds = {document.kind for document in shop.fleet_documents(batch_id)}
    assert {"handover_record", "credit_note_xml", "credit_note_pdf", "credit_note_json"} <= kinds
    xml = shop.fleet_document(batch_id, "credit_note_xml")
    assert xml.content == facade.fleet_document(batch_id, "credit_note_xml").content
    assert validate_credit_note_xml(xml.content) == []
    note = json.loads(shop.fleet_document(batch_id, "credit_note_json").content)
    assert Decimal(note["payable"]["amount"]) == true_up.confirmed.amount
    report = shop.fleet_report(batch_id)
    assert report == facade.fleet_report(batch_id)
    assert report.totals["paid"] == note["payable"]["amount"]
    csv_text = shop.fleet_report_file(batch_id, format="csv").decode()
    assert csv_text.splitlines()[0].startswith("line,asset_tag")
    assert shop.fleet_report_file(batch_id, format="pdf", locale="de").startswith(b"%PDF")

    async def remote() -> FleetBatch:
        async with fake.async_client(role="back_office") as client:
            return await client.fleet_batch(batch_id)

    assert asyncio.run(remote()) == shop.fleet_batch(batch_id)


def test_another_tenant_sees_no_company_and_no_batch(fake: FakeTradeInService) -> None:
    """Companies and batches belong to the tenant that made them; another organisation's key gets 404."""
    shop = fake.client(role="shop")
    company_id = open_company(shop)
    portfolio = shop.fleet_quote(company_id, asset_csv(twenty_five(fake.facade("shop"))[:4]))
    assert [batch.id for batch in fake.client(role="back_office").fleet_batches()] == [portfolio.batch_id]
    other = fake.trade_in.scoped(Scope(tenant="other-shop", organisation="other-org", role=Role.SHOP))
    with pytest.raises(CompanyNotFoundError):
        other.company(company_id)
    with pytest.raises(BatchNotFoundError):
        other.fleet_batch(portfolio.batch_id or "")
    with pytest.raises(CompanyNotFoundError):
        other.fleet_quote(company_id, asset_csv(twenty_five(fake.facade("shop"))[:4]))
    assert other.companies() == []
    assert other.fleet_batches() == []
    with pytest.raises(PermissionDeniedError):  # a refurbisher's key has no business with a company's batch
        fake.client(role="provider").fleet_batch(portfolio.batch_id or "")


def test_bad_fleet_input_over_http_is_typed(fake: FakeTradeInService) -> None:
    """A bad VAT id, a bad row, bad base64 and an unknown format: typed errors naming what is wrong."""
    shop = fake.client(role="shop")
    with pytest.raises(InvalidVatIdError) as vat:
        shop.open_company(
            "X GmbH",
            Address(street="Weg 1", postcode="10115", city="Berlin", country="DE"),
            vat_status="regular",
            vat_id="DE136695977",
            contract=contract(),
        )
    assert vat.value.rule == "check_digit"
    company_id = open_company(shop)
    rows = twenty_five(fake.facade("shop"))[:5]
    rows[1]["model"] = "Nokia 3310 Turbo"
    with pytest.raises(AssetImportError) as refused:
        shop.fleet_quote(company_id, asset_csv(rows))
    assert [(problem.row, problem.column, problem.code) for problem in refused.value.problems] == [
        (3, "Modell", "unknown_model")
    ]
    assert shop.fleet_batches(company_id) == []
    with pytest.raises(FleetError, match="default grade"):  # a typed 422, not a 500
        shop.read_assets(asset_csv(rows), default_grade="mint")
    headers = {"Authorization": f"Bearer {fake.api_keys[Role.SHOP]}"}
    with httpx.Client(base_url=fake.base_url, headers=headers) as http:
        answer = http.post(f"/v1/fleet/companies/{company_id}/quotes", json={"assets": "not base64!"})
        assert answer.status_code == 400
        assert answer.json()["code"] == "request_invalid"
        answer = http.get("/v1/fleet/batches/fb_none/report-file", params={"format": "docx"})
        assert answer.status_code in {400, 422}
        answer = http.post(
            "/v1/fleet/asset-lists", json={"data": base64.b64encode(b"\x00\x01garbage").decode()}
        )
        assert answer.status_code == 200
        assert answer.json()["problems"]
    with pytest.raises(BadRequestError):
        shop.fleet_report_file("fb_none", format="docx")
