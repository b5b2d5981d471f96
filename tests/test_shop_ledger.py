"""The shop shows the settlement ledger: what the checkout promised is what the order page says was paid.

The demo defect this guards against: on 3 December 2026 a worn Galaxy S22 traded in for a Galaxy S25 was
quoted 127 € and the example promotion ``galaxy-s21-or-newer-for-s25`` added 50 €, so the checkout promised
177 € — and the order paid 127 €. Each test walks the shop the way a shopper and the back office do (Flask's
test client, the shop's own forms with their CSRF token) on the shop's clock fixed at that day.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from examples.flask_shop.texts import has_text
from grading_questionnaire import example_answers
from tradein_sdk import DeviceState, EntryKind, Money, billing_period

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

    from tradein_sdk import FixedClock

DEMO_DAY = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
"""The day the defect was measured (the promotion runs from November to January)."""
GALAXY_S25 = "SM-S931BZKDEUB"
GALAXY_S22 = "samsung-galaxy-s22-128gb"
PROMOTION = "galaxy-s21-or-newer-for-s25"
STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
BANK = {"iban": "DE89 3704 0044 0532 0130 00", "holder": "Erika Mustermann"}


def eur(amount: str) -> str:
    """An amount in euros as the German shop shows it (``177,00 €``)."""
    return Money(amount, "EUR").format("de_DE")


def worn_galaxy() -> dict[str, Any]:
    """The demo's Galaxy S22 as the shopper declared it: light wear (127 € on the demo day)."""
    return dict(example_answers("smartphone", "worn-samsung").answers)


@pytest.fixture
def start() -> datetime:
    """The shop's clock stands at the demo day."""
    return DEMO_DAY


@pytest.fixture
def shop_app(tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The demo shop on a fresh data directory, its clock at the demo day, without demo data."""
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
def staff(shop_app: Flask) -> ShopClient:
    """A signed-in member of staff."""
    client = ShopClient(shop_app)
    client.login_staff()
    return client


def checkout(
    app: Flask,
    plan: str,
    *,
    sku: str = GALAXY_S25,
    device: str = GALAXY_S22,
    answers: dict[str, Any] | None = None,
) -> tuple[ShopClient, str, str]:
    """A shopper buys ``sku`` with ``device`` traded in, paid by ``plan``.

    Returns:
        The shopper's session, the order id and the trade-in value the review page promised.
    """
    client = ShopClient(app)
    client.post("/cart/device", {"sku": sku})
    quoted = client.post(f"/trade-in/devices/{device}", answers_form(answers or worn_galaxy()))
    client.post(f"{quoted.location}/cart")
    assert (
        client.post(
            "/checkout/", {"plan": plan, "protection": "none", "customer_case": "upgrade"}
        ).status_code
        == 302
    )
    review = client.get("/checkout/review").text
    promised = find(r'data-testid="promised-credit">([^<]+)<', review)
    bank = BANK if plan == "payout" else {}
    confirmed = client.post(
        "/checkout/confirm", {"digest": find(r'name="digest" value="([^"]+)"', review), **bank}
    )
    assert "/orders/ord_" in confirmed.location, client.get("/checkout/review").text
    return client, confirmed.location.rsplit("/", 1)[1], promised


def inspect(staff: ShopClient, order_id: str, answers: dict[str, Any], **found: object) -> None:
    """Staff receives the device and inspects it: the shopper's answers, changed by ``found``."""
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/receive").status_code == 302
    form = answers_form({**answers, **STAFF_CHECKS, **found})
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/inspect", form).status_code == 302


def settle(staff: ShopClient, order_id: str) -> str:
    """Staff clicks "settle"; returns the message the back office shows."""
    assert 'data-action="settle"' in staff.get(f"/staff/orders/{order_id}").text
    done = staff.post(f"/staff/orders/{order_id}/devices/d1/settle")
    assert done.status_code == 302
    return find(r'class="flash flash-success"[^>]*>([^<]+)<', staff.get(done.location).text)


def marked(page: str, name: str) -> str:
    """The text of the element marked ``data-testid=name``."""
    return find(rf'data-testid="{re.escape(name)}"[^>]*>([^<]+)<', page).strip()


@pytest.mark.parametrize("plan", ["payout", "voucher", "discount"])
def test_the_promotion_promised_at_checkout_is_paid(shop_app: Flask, staff: ShopClient, plan: str) -> None:
    """The demo defect: 127 € quoted + 50 € promotion promised 177 €; the order page shows 177 € paid."""
    shopper, order_id, promised = checkout(shop_app, plan)
    assert promised == eur("177.00")
    trade_in = shop_state(shop_app).trade_in
    assert trade_in.order(order_id).device("d1").quoted == Money("127.00", "EUR")
    inspect(staff, order_id, worn_galaxy())
    message = settle(staff, order_id)
    assert eur("177.00") in message
    device = trade_in.order(order_id).device("d1")
    assert device.state in {DeviceState.PAID, DeviceState.CREDITED}
    ledger = trade_in.ledger(order_id)
    assert ledger.total.paid + ledger.total.credited == Money("177.00", "EUR")
    assert ledger.total.open == Money("0", "EUR")
    page = shopper.get(f"/orders/{order_id}").text
    assert marked(page, "ledger-paid-total") == promised
    assert marked(page, "ledger-paid-d1") == promised
    assert marked(page, "ledger-promised-total") == promised
    assert marked(page, "ledger-open-total") == eur("0")
    how = {"payout": "payout_made", "voucher": "voucher_issued", "discount": "discount_applied"}[plan]
    assert f'data-kind="{how}"' in page
    assert 'data-kind="promotion"' in page
    assert "+50 € für jedes Samsung Galaxy S21 oder neuer" in page  # the promotion, by its title


def test_a_withdrawn_promotion_and_the_revision_are_explained(shop_app: Flask, staff: ShopClient) -> None:
    """An iPhone promised 200 € (minimum for grade good) is found cracked: both changes shown with reasons."""
    iphone = dict(example_answers("smartphone", "worn").answers)
    shopper, order_id, promised = checkout(shop_app, "payout", device="apple-iphone-13-128gb", answers=iphone)
    assert promised == eur("200.00")
    inspect(staff, order_id, iphone, display_glass="cracked")
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "accept"})
    settle(staff, order_id)
    trade_in = shop_state(shop_app).trade_in
    offer = trade_in.order(order_id).device("d1").offer
    page = shopper.get(f"/orders/{order_id}").text
    assert 'data-kind="revision"' in page
    assert "Nach der Prüfung angepasst" in page
    assert 'data-kind="promotion_withdrawn"' in page
    assert "Aktion entfallen" in page
    assert marked(page, "ledger-promised-total") == eur("200.00")
    assert marked(page, "ledger-owed-total") == offer.format("de_DE")
    assert marked(page, "ledger-paid-total") == offer.format("de_DE")
    ledger = trade_in.ledger(order_id)
    assert ledger.total.paid == offer
    assert ledger.total.revised == offer - Money("200.00", "EUR")


def test_a_device_not_sent_in_time_is_charged_back(
    shop_app: Flask, staff: ShopClient, clock: FixedClock
) -> None:
    """Instant discount, then nothing sent: the order page shows why and what is charged back."""
    shopper, order_id, promised = checkout(shop_app, "discount")
    assert marked(shopper.get(f"/orders/{order_id}").text, "ledger-paid-total") == promised  # at checkout
    clock.advance(days=15)
    staff.post("/staff/tick")
    page = shopper.get(f"/orders/{order_id}").text
    assert 'data-kind="not_bought"' in page
    assert "Nicht angekauft (Nicht rechtzeitig eingesandt)" in page
    charged = shop_state(shop_app).trade_in.clawbacks(order_id)["d1"]
    assert charged >= Money("177.00", "EUR")
    assert marked(page, "ledger-clawed-back-total") == charged.format("de_DE")
    assert marked(page, "ledger-owed-total") == eur("0")


def test_bill_credits_are_scheduled_credited_once_and_stopped(
    shop_app: Flask, staff: ShopClient, clock: FixedClock
) -> None:
    """Bill credits: 24 installments after settlement; the billing run credits one once; the rest stop."""
    shopper, order_id, promised = checkout(shop_app, "bill_credits")
    assert promised == eur("177.00")
    assert marked(shopper.get(f"/orders/{order_id}").text, "ledger-open-total") == promised
    inspect(staff, order_id, worn_galaxy())
    first = billing_period(DEMO_DAY, 1)
    assert "Januar 2027" in settle(staff, order_id)
    page = shopper.get(f"/orders/{order_id}").text
    assert page.count('data-status="open"') == 24
    assert marked(page, "ledger-paid-total") == eur("0")
    assert marked(page, "ledger-open-total") == promised

    # the billing page defaults to the shop's current period: nothing due yet
    billing = staff.get("/staff/billing").text
    assert f'value="{billing_period(DEMO_DAY)}"' in billing
    assert 'data-testid="billing-due" data-count="0"' in billing

    # a month on, the first installment is due and is credited exactly once
    clock.advance(days=31)
    billing = staff.get("/staff/billing").text
    assert f'value="{first}"' in billing
    assert 'data-testid="billing-due" data-count="1"' in billing
    run = staff.get(staff.post("/staff/billing/credit", {"period": first}).location).text
    assert 'data-testid="billing-run" data-count="1"' in run
    assert f"1 Rate bis Januar 2027 gutgeschrieben: {eur('7.38')}." in run
    assert 'data-testid="billing-due" data-count="0"' in run
    again = staff.get(staff.post("/staff/billing/credit", {"period": first}).location).text
    assert 'data-testid="billing-run" data-count="0"' in again
    assert "Jede fällige Rate war bereits gutgeschrieben" in again
    ledger = shop_state(shop_app).trade_in.ledger(order_id)
    assert ledger.total.credited == Money("7.38", "EUR")
    page = shopper.get(f"/orders/{order_id}").text
    assert marked(page, "ledger-paid-total") == eur("7.38")
    assert f'data-period="{first}" data-status="credited"' in page

    # the contract ends: the 23 installments left are stopped, the terms owe what was credited
    staff_page = staff.get(f"/staff/orders/{order_id}").text
    assert 'data-action="stop-installments"' in staff_page
    stopped = staff.post(f"/staff/orders/{order_id}/installments/stop", {"reason": "contract_ended"})
    assert "23 Raten beendet." in staff.get(stopped.location).text
    page = shopper.get(f"/orders/{order_id}").text
    assert page.count('data-status="stopped"') == 23
    assert "Rechnungsgutschriften beendet (Vertrag beendet)" in page
    assert marked(page, "ledger-owed-total") == eur("7.38")
    assert marked(page, "ledger-open-total") == eur("0")
    assert 'data-action="stop-installments"' not in staff.get(f"/staff/orders/{order_id}").text
    assert staff.post(f"/staff/orders/{order_id}/installments/stop", {"reason": "bored"}).status_code == 400


def test_a_remainder_above_the_price_is_a_voucher_without_bank_details(
    shop_app: Flask, staff: ShopClient
) -> None:
    """A Galaxy Z Fold6 for a 379 € Galaxy A35: 379 € off now, the rest a voucher after inspection."""
    fold = {**dict(example_answers("smartphone", "flawless").answers), "platform": "samsung"}
    fold = {key: value for key, value in fold.items() if key not in {"find_my_off", "google_account_removed"}}
    fold |= {"google_account_removed": True, "samsung_account_removed": True}
    shopper, order_id, promised = checkout(
        shop_app,
        "discount",
        sku="samsung-galaxy-a35-5g-128gb",
        device="samsung-galaxy-z-fold6-256gb",
        answers=fold,
    )
    trade_in = shop_state(shop_app).trade_in
    total = trade_in.ledger(order_id).total.promised
    assert promised == total.format("de_DE")
    remainder = total - Money("379", "EUR")
    assert remainder > Money("0", "EUR")
    inspect(staff, order_id, fold)
    settle(staff, order_id)
    assert trade_in.order(order_id).device("d1").state is DeviceState.CREDITED
    ledger = trade_in.ledger(order_id)
    vouchers = [entry.amount for entry in ledger.entries if entry.kind is EntryKind.VOUCHER_ISSUED]
    assert vouchers == [remainder]
    page = shopper.get(f"/orders/{order_id}").text
    assert marked(page, "ledger-paid-total") == promised
    assert 'data-kind="discount_applied"' in page
    assert 'data-kind="voucher_issued"' in page


def test_the_review_page_states_the_trade_in_value_once(shop_app: Flask) -> None:
    """The review page lists the trade-in value (quote and promotion, one total) and how it is paid."""
    client = ShopClient(shop_app)
    client.post("/cart/device", {"sku": GALAXY_S25})
    quoted = client.post(f"/trade-in/devices/{GALAXY_S22}", answers_form(worn_galaxy()))
    client.post(f"{quoted.location}/cart")
    client.post("/checkout/", {"plan": "discount", "protection": "none", "customer_case": "upgrade"})
    review = client.get("/checkout/review").text
    assert marked(review, "promised-credit") == eur("177.00")
    assert f"{eur('177.00')} heute vom Preis abgezogen" in review
    assert 'value="bill_credits"' in client.get("/checkout/").text
    client.post("/checkout/", {"plan": "payout", "protection": "none", "customer_case": "upgrade"})
    deferred = client.get("/checkout/review").text
    promised = deferred.split('id="trade-in-value"', 1)[1].split("</section>", 1)[0]
    assert f'Ankauf: Samsung Galaxy S22</td><td class="num">{eur("127.00")}<' in promised
    assert f">{eur('50.00')}<" in promised
    assert marked(deferred, "promised-credit") == eur("177.00")
    assert "127.00 EUR" not in deferred  # the library's sentence with the bare quote is not shown
    assert "per Überweisung nach der Prüfung" in deferred


def test_the_staff_order_page_lists_every_entry_and_the_balances(shop_app: Flask, staff: ShopClient) -> None:
    """Every ledger entry is a row (time, device, kind, amount, reason, due period); balances per device."""
    _, order_id, _ = checkout(shop_app, "payout")
    inspect(staff, order_id, worn_galaxy())
    settle(staff, order_id)
    ledger = shop_state(shop_app).trade_in.ledger(order_id)
    page = staff.get(f"/staff/orders/{order_id}").text
    table = page.split('data-testid="ledger-entries"', 1)[1].split("</table>", 1)[0]
    assert table.count("data-entry=") == len(ledger.entries) == 3
    for entry in ledger.entries:
        assert f'data-entry="{entry.entry_id}"' in table
    assert "Überweisung" in table
    assert "galaxy-s21-or-newer-for-s25" in table  # the promotion's id, beside its title
    balances = page.split('data-testid="ledger-balances"', 1)[1].split("</table>", 1)[0]
    assert f'data-field="paid">{eur("177.00")}<' in balances
    assert f'data-field="promised">{eur("177.00")}<' in balances
    assert 'data-device="d1"' in balances
    assert 'data-device="total"' in balances


def _report_totals(text: str) -> dict[str, Decimal]:
    """The EUR totals of the CSV report."""
    rows = csv.DictReader(io.StringIO(text))
    return {
        row["name"]: Decimal(row["amount"])
        for row in rows
        if row["section"] == "totals" and row["currency"] == "EUR" and row["amount"]
    }


def test_the_report_downloads_tie_out(shop_app: Flask, staff: ShopClient, clock: FixedClock) -> None:
    """CSV and JSON for a date range: the totals tie out, and both say what the library's report says."""
    _, paid, _ = checkout(shop_app, "payout")
    inspect(staff, paid, worn_galaxy())
    settle(staff, paid)
    _, billed, _ = checkout(shop_app, "bill_credits")
    inspect(staff, billed, worn_galaxy(), display_glass="cracked")
    checkout(shop_app, "discount")
    clock.advance(days=40)
    staff.post("/staff/billing/credit", {"period": billing_period(clock.now())})
    query = {"start": "2026-12-01", "end": "2027-01-31"}

    page = staff.get("/staff/report", query_string=query).text
    assert 'data-testid="ties-out"' in page
    downloaded = staff.get("/staff/report.csv", query_string=query)
    assert downloaded.status_code == 200
    assert downloaded.mimetype == "text/csv"
    disposition = downloaded.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="ledger-2026-12-01-2027-01-31.csv"'
    totals = _report_totals(downloaded.text)
    moved = (
        totals["promised"] + totals["revised"] - totals["paid"] - totals["credited"] + totals["clawed_back"]
    )
    assert totals["open_at_start"] + moved == totals["open_at_end"]
    assert totals["promised"] == Decimal("177.00") * 3
    assert totals["paid"] == Decimal("177.00")

    document = staff.get("/staff/report.json", query_string=query)
    assert document.mimetype == "application/json"
    data = json.loads(document.text)
    assert data["ties_out"] is True
    library = shop_state(shop_app).trade_in.ledger_report(date(2026, 12, 1), date(2027, 2, 1))
    assert data == library.to_json()
    assert downloaded.text == library.to_csv()

    assert (
        staff.get("/staff/report", query_string={"start": "2027-01-31", "end": "2026-12-01"}).status_code
        == 400
    )
    assert staff.get("/staff/report.csv", query_string={"start": "yesterday"}).status_code == 400
    assert staff.get("/staff/report.xml", query_string=query).status_code == 404


def test_an_invalid_billing_period_is_explained(staff: ShopClient) -> None:
    """A period that is not YYYY-MM is refused with the library's translated message; nothing credited."""
    page = staff.get("/staff/billing", query_string={"period": "2027-13"})
    assert page.status_code == 400
    assert "2027-13" in page.text
    assert 'data-action="credit-installments"' not in page.text
    refused = staff.post("/staff/billing/credit", {"period": "next month"})
    assert refused.status_code == 400


STAFF_GETS = ("/staff/billing", "/staff/report", "/staff/report.csv", "/staff/report.json")


def test_staff_pages_are_for_staff_only(shop_app: Flask) -> None:
    """The shopper, even of the order, is sent to sign in; forms without the CSRF token are refused."""
    shopper, order_id, _ = checkout(shop_app, "bill_credits")
    for url in (*STAFF_GETS, f"/staff/orders/{order_id}"):
        response = shopper.get(url)
        assert response.status_code == 302, url
        assert "/staff/login" in response.location, url
    for url in ("/staff/billing/credit", f"/staff/orders/{order_id}/installments/stop"):
        response = shopper.post(url, {"period": "2027-01", "reason": "contract_ended"})
        assert response.status_code == 302, url
        assert "/staff/login" in response.location, url
    staff = ShopClient(shop_app)
    staff.login_staff()
    forged = staff.client.post("/staff/billing/credit", data={"period": "2027-01"})
    assert forged.status_code == 400
    assert "Formular ist abgelaufen" in forged.text
    for url in STAFF_GETS:
        assert staff.get(url).status_code == 200, url


def test_the_staff_navigation_links_billing_and_report(staff: ShopClient) -> None:
    """The back office's menu leads to the billing page and the report."""
    page = staff.get("/staff/").text
    assert 'href="/staff/billing"' in page
    assert 'href="/staff/report"' in page


@pytest.mark.parametrize("locale", ["de_DE", "en_GB", "fr_FR"])
def test_every_ledger_kind_has_words(shop_app: Flask, locale: str) -> None:
    """Each kind of ledger entry has a label in each of the shop's languages; the order page renders."""
    assert all(has_text("ledger.kind", kind.value) for kind in EntryKind)
    shopper, order_id, _ = checkout(shop_app, "discount")
    shopper.get("/", query_string={"lang": locale})
    page = shopper.get(f"/orders/{order_id}").text
    heading = {"de_DE": "Ihr Geld", "en_GB": "Your money", "fr_FR": "Votre argent"}[locale]
    assert heading in page
    assert marked(page, "ledger-paid-total") == Money("177.00", "EUR").format(locale)
