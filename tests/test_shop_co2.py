"""The shop's CO2e figures: the quote and order pages, the method page and the staff's CO2 report."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import pytest
from babel.numbers import format_decimal

from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from grading_questionnaire import example_answers
from tradein_sdk._domain.co2 import REPORT_PURPOSE
from tradein_sdk._domain.signing import verify_document

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

    from tradein_sdk import FixedClock

STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


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


def whole(value: Decimal, locale: str = "de_DE") -> str:
    """``value`` kg rounded half-up to whole kilograms, as the shop writes it in ``locale``."""
    return str(format_decimal(value.quantize(Decimal(1), ROUND_HALF_UP), locale=locale))


def quote(client: ShopClient, grade: str = "flawless") -> str:
    """Quote an iPhone 13 in ``grade`` condition; returns the quote page's address."""
    response = client.post(
        "/trade-in/devices/apple-iphone-13-128gb", answers_form(example_answers("smartphone", grade).answers)
    )
    assert response.status_code == 302
    location: str = response.location
    return location


def place_order(app: Flask) -> tuple[ShopClient, str]:
    """A shopper who traded in a flawless iPhone 13 at checkout; returns the session and the order id."""
    client = ShopClient(app)
    client.post("/cart/device", {"sku": "apple-iphone-16-128gb"})
    client.post(f"{quote(client)}/cart")
    client.post("/checkout/", {"plan": "discount", "protection": "none", "customer_case": "upgrade"})
    digest = find(r'name="digest" value="([^"]+)"', client.get("/checkout/review").text)
    response = client.post("/checkout/confirm", {"digest": digest})
    return client, response.location.rsplit("/", 1)[1]


def settle(staff: ShopClient, order_id: str) -> None:
    """Staff receives the device, finds it as declared and settles it."""
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/receive").status_code == 302
    answers = {**example_answers("smartphone", "flawless").answers, **STAFF_CHECKS}
    inspected = staff.post(f"/staff/orders/{order_id}/devices/d1/inspect", answers_form(answers))
    assert inspected.status_code == 302
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/settle").status_code == 302


def avoided_text(page: str) -> str:
    """The text of the page's ``co2-avoided`` line."""
    return html.unescape(find(r'data-testid="co2-avoided"[^>]*>([^<]+)<', page))


def test_quote_page_shows_the_avoided_emissions(app: Flask) -> None:
    """The quote shows the rounded central figure and range of ``quote_co2``, and links the method."""
    client = ShopClient(app)
    address = quote(client)
    page = client.get(address).text
    result = shop_state(app).trade_in.quote_co2(address.rsplit("/", 1)[1])
    assert result.outcome.value == "reuse"
    line = avoided_text(page)
    avoided = result.avoided
    low, high = whole(avoided.low), whole(avoided.high)
    assert line == f"≈ {whole(avoided.central)} kg CO2e vermieden (Spanne {low}–{high} kg)"
    assert 'href="/co2/method"' in page

    english = ShopClient(app, locale="en_GB")
    assert "kg CO2e avoided (range" in avoided_text(english.get(quote(english)).text)


def test_recycle_only_quote_claims_nothing(app: Flask) -> None:
    """An activation-locked device is only recycled: the page says so and shows no avoided figure."""
    client = ShopClient(app)
    address = quote(client, "activation-locked")
    assert shop_state(app).trade_in.quote_co2(address.rsplit("/", 1)[1]).outcome.value == "recycle"
    page = client.get(address).text
    assert 'data-testid="co2-recycled"' in page
    assert 'data-testid="co2-avoided"' not in page


def test_method_page_names_the_factor_version_and_sources(app: Flask) -> None:
    """The public method page explains the method with the factor document's version and its sources."""
    factors = shop_state(app).trade_in.co2_factors
    response = ShopClient(app, locale="en_GB").get("/co2/method")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert factors.version in page
    assert "Scope-3" in page
    assert "Displacement" in page
    for source in factors.sources.values():
        assert source["title"] in page


def test_order_page_shows_expected_then_the_total(app: Flask, staff: ShopClient) -> None:
    """Before settlement no total; once staff bought the device the order total shows, marked expected."""
    client, order_id = place_order(app)
    assert 'data-testid="co2-avoided"' not in client.get(f"/orders/{order_id}").text
    settle(staff, order_id)
    page = client.get(f"/orders/{order_id}").text
    totals = shop_state(app).trade_in.order_co2(order_id).totals
    assert totals.devices == 1
    assert f"≈ {whole(totals.avoided.central)} kg CO2e vermieden" in avoided_text(page)
    assert 'data-testid="co2-status">erwartet<' in page


def test_staff_report_totals_chart_and_downloads(app: Flask, staff: ShopClient, clock: FixedClock) -> None:
    """The staff page shows the month and the report's totals; the chart and the three downloads answer."""
    _, order_id = place_order(app)
    settle(staff, order_id)
    trade_in = shop_state(app).trade_in
    year = clock.now().year
    start, end = date(year, 1, 1), date(year, 12, 31)
    totals = trade_in.co2_report(start, end)["payload"]["totals"]
    assert totals["devices"] == 1

    page = staff.get("/staff/co2").text
    assert f'value="{start.isoformat()}"' in page
    assert f'data-month="{clock.now():%Y-%m}"' in page
    assert find(r'data-testid="co2-total-avoided" data-kg="([^"]+)"', page) == totals["avoided_kg"]["central"]
    assert whole(Decimal(totals["avoided_kg"]["central"])) in page
    assert 'href="/staff/co2"' in page  # the staff navigation

    query = {"from": start.isoformat(), "to": end.isoformat()}
    chart = staff.get("/staff/co2/chart.png", query_string=query)
    assert chart.status_code == 200
    assert chart.mimetype == "image/png"
    assert chart.data.startswith(b"\x89PNG")

    signed = staff.get("/staff/co2/report.json", query_string=query)
    assert signed.status_code == 200
    assert trade_in.signing_keys is not None
    payload = verify_document(signed.data, trade_in.signing_keys.public_keys(), purpose=REPORT_PURPOSE)
    assert payload["totals"] == totals

    table = staff.get("/staff/co2/report.csv", query_string=query)
    assert table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [(row["order_id"], row["device_id"]) for row in rows] == [(order_id, "d1")]

    pdf = staff.get("/staff/co2/report.pdf", query_string=query)
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "Von"),
        ({"to": "yesterday"}, "Bis einschließlich"),
        ({"from": "2026-06-01", "to": "2026-05-31"}, "Bis einschließlich"),
    ],
)
def test_bad_period_is_a_400_naming_the_field(staff: ShopClient, query: dict[str, str], field: str) -> None:
    """An unreadable date or a period ending before it starts: 400 with the field named, never a 500."""
    response = staff.get("/staff/co2", query_string=query)
    assert response.status_code == 400
    assert field in html.unescape(find(r'data-testid="co2-error">([^<]+)<', response.text))
    for path in ("/staff/co2/chart.png", "/staff/co2/report.json", "/staff/co2/report.csv"):
        assert staff.get(path, query_string=query).status_code == 400


def test_shopper_cannot_open_the_staff_report(app: Flask) -> None:
    """Anyone not signed in as staff is sent to the sign-in page; unknown download kinds are not found."""
    shopper = ShopClient(app)
    for path in ("/staff/co2", "/staff/co2/chart.png", "/staff/co2/report.json"):
        response = shopper.get(path)
        assert response.status_code == 302
        assert re.search(r"/staff/login", response.location)
    shopper.login_staff()
    assert shopper.get("/staff/co2/report.xml").status_code == 404
