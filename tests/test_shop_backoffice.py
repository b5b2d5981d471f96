from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from grading_questionnaire import example_answers
from tradein_sdk import DeviceState

if TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask

    from tradein_sdk import FixedClock

STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
IMEI = "490154203237518"


def place_order(app: Flask, plan: str = "discount") -> tuple[ShopClient, str]:
    """A shopper who traded in a flawless iPhone 13 at checkout; returns the session and the order id."""
    client = ShopClient(app)
    client.post("/cart/device", {"sku": "apple-iphone-16-128gb"})
    quoted = client.post(
        "/trade-in/devices/apple-iphone-13-128gb",
        answers_form(example_answers("smartphone", "flawless").answers),
    )
    client.post(f"{quoted.location}/cart")
    client.post("/checkout/", {"plan": plan, "protection": "none", "customer_case": "upgrade"})
    digest = find(r'name="digest" value="([^"]+)"', client.get("/checkout/review").text)
    bank = {"iban": "DE89 3704 0044 0532 0130 00", "holder": "Erika Mustermann"} if plan == "payout" else {}
    response = client.post("/checkout/confirm", {"digest": digest, **bank})
    return client, response.location.rsplit("/", 1)[1]


@pytest.fixture
def staff(app: Flask) -> ShopClient:
    """A signed-in member of staff."""
    client = ShopClient(app)
    client.login_staff()
    return client


def arrive(staff: ShopClient, order_id: str) -> None:
    """The parcel arrives and staff marks it received."""
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/receive").status_code == 302


def inspect(staff: ShopClient, order_id: str, **found: object) -> None:
    """Staff inspects the device with the shopper's answers changed by ``found``."""
    answers = {**example_answers("smartphone", "flawless").answers, **STAFF_CHECKS, **found}
    assert (
        staff.post(f"/staff/orders/{order_id}/devices/d1/inspect", answers_form(answers)).status_code == 302
    )


def test_order_page_shows_timeline_deadline_and_label(app: Flask) -> None:
    """The order page shows the state, a timeline, the send-by date and the printable label."""
    client, order_id = place_order(app)
    page = client.get(f"/orders/{order_id}").text
    assert 'data-state="awaiting_shipment"' in page
    assert 'class="timeline"' in page
    assert 'data-testid="send-by"' in page
    label = client.get(f"/orders/{order_id}/label")
    assert label.status_code == 200
    assert "<svg" in label.text
    assert "Versandetikett" in label.text
    assert order_id in client.get("/orders/").text


def test_order_page_is_private_to_its_session(app: Flask) -> None:
    """Another shopper cannot open the order; an unknown order is not found."""
    _, order_id = place_order(app)
    assert ShopClient(app).get(f"/orders/{order_id}").status_code == 404
    assert ShopClient(app).post(f"/orders/{order_id}/devices/d1/shipped").status_code == 404


def test_shopper_marks_the_parcel_shipped(app: Flask) -> None:
    """The shopper says the parcel is on its way; the label is no longer offered."""
    client, order_id = place_order(app)
    client.post(f"/orders/{order_id}/devices/d1/shipped")
    assert 'data-state="in_transit"' in client.get(f"/orders/{order_id}").text
    assert client.get(f"/orders/{order_id}/label").status_code == 404


def test_back_office_needs_sign_in(app: Flask) -> None:
    """The back office and store mode send anyone not signed in to the sign-in page."""
    client = ShopClient(app)
    assert "/staff/login" in client.get("/staff/").location
    assert "/staff/login" in client.get("/store/").location
    wrong = client.post("/staff/login", {"password": "guess"})
    assert "Falsches Passwort." in wrong.text
    client.login_staff()
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout")
    assert "/staff/login" in client.get("/staff/").location


def test_inspection_revises_and_the_shopper_declines(app: Flask, staff: ShopClient) -> None:
    """A crack found at inspection revises the offer with reasons; declining sends the device back."""
    shopper, order_id = place_order(app)
    arrive(staff, order_id)
    assert (
        'data-question="blocklist_status"' in staff.get(f"/staff/orders/{order_id}/devices/d1/inspect").text
    )
    inspect(staff, order_id, display_glass="cracked")
    staff_page = staff.get(f"/staff/orders/{order_id}").text
    assert 'data-state="revised"' in staff_page
    assert "Gesprungenes oder zersplittertes Glas" in staff_page
    page = shopper.get(f"/orders/{order_id}").text
    assert "Keinerlei Spuren" in page  # what the shopper declared
    assert "Gesprungenes oder zersplittertes Glas" in page  # what was found
    assert 'value="decline"' in page
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "decline"})
    order = shop_state(app).trade_in.order(order_id)
    assert order.device("d1").state is DeviceState.RETURNING
    assert "Nach den Ankaufsbedingungen zurückgefordert" in shopper.get(f"/orders/{order_id}").text
    staff.post(f"/staff/orders/{order_id}/devices/d1/returned")
    assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.RETURNED


def test_shopper_accepts_a_revision(app: Flask, staff: ShopClient) -> None:
    """Accepting the revised offer moves the device on to payment."""
    shopper, order_id = place_order(app)
    arrive(staff, order_id)
    inspect(staff, order_id, display_glass="cracked")
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "accept"})
    assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.REVISION_ACCEPTED


def test_matching_inspection_is_confirmed_and_paid(app: Flask, staff: ShopClient) -> None:
    """Found as declared: confirmed at the quote, then paid to the bank account chosen at checkout."""
    _, order_id = place_order(app, plan="payout")
    arrive(staff, order_id)
    inspect(staff, order_id)
    assert 'data-action="settle"' in staff.get(f"/staff/orders/{order_id}").text
    staff.post(f"/staff/orders/{order_id}/devices/d1/settle")
    assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.PAID
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/teleport").status_code == 404


def test_inspection_errors_are_shown_on_the_form(app: Flask, staff: ShopClient) -> None:
    """Missing staff checks are shown at their question; nothing changes."""
    _, order_id = place_order(app)
    arrive(staff, order_id)
    answers = answers_form(example_answers("smartphone", "flawless").answers)
    response = staff.post(f"/staff/orders/{order_id}/devices/d1/inspect", answers)
    assert response.status_code == 422
    assert "has-error" in response.text
    assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.RECEIVED


def test_illegal_action_is_explained(app: Flask, staff: ShopClient) -> None:
    """An action the device's state does not allow comes back as a translated message."""
    _, order_id = place_order(app)
    response = staff.post(
        f"/staff/orders/{order_id}/devices/d1/settle",
        headers={"Referer": f"http://localhost/staff/orders/{order_id}"},
    )
    assert response.status_code == 302
    assert 'class="flash flash-error"' in staff.get(f"/staff/orders/{order_id}").text


def test_orders_list_tick_and_audit(app: Flask, staff: ShopClient) -> None:
    """The list shows orders and incoming devices; tick runs; the audit chain verifies."""
    _, order_id = place_order(app)
    arrive(staff, order_id)
    page = staff.get("/staff/").text
    assert page.count(f'data-order="{order_id}"') == 2  # incoming and in the list
    assert order_id not in staff.get("/staff/?state=paid").text
    assert "0 Bestellungen geändert." in staff.get(staff.post("/staff/tick").location).text
    assert 'data-testid="audit-ok"' in staff.get("/staff/audit").text
    assert staff.get("/staff/orders/ord_missing").status_code == 404


def test_store_mode_quotes_and_applies_at_the_counter(app: Flask, staff: ShopClient) -> None:
    """Store mode checks the IMEI, finds the model, quotes guaranteed and applies it at the counter."""
    bad = staff.get("/store/", query_string={"imei": "490154203237519"}).text
    assert "Prüfziffer" in bad
    found = staff.get("/store/", query_string={"imei": IMEI, "q": "iphone 13 128"}).text
    assert f"IMEI {IMEI} ist gültig." in found
    assert 'data-device-id="apple-iphone-13-128gb"' in found
    check = staff.get(f"/store/check/apple-iphone-13-128gb?imei={IMEI}").text
    assert 'data-question="authenticity"' in check
    answers = {**example_answers("smartphone", "store-inspected").answers}
    quoted = staff.post("/store/check/apple-iphone-13-128gb", {**answers_form(answers), "imei": IMEI})
    page = staff.get(quoted.location).text
    assert "Garantiert" in page
    quote_id = quoted.location.rsplit("/", 1)[1]
    applied = staff.post(f"/store/quotes/{quote_id}/apply")
    assert 'data-testid="applied"' in staff.get(applied.location).text
    orders = shop_state(app).trade_in.store.list_orders(limit=5)
    assert shop_state(app).trade_in.order(orders[0].order_id).device("d1").state is DeviceState.CREDITED


def test_store_mode_needs_every_check_and_the_storage(staff: ShopClient) -> None:
    """A model with several sizes asks for one; missing staff checks are refused."""
    assert (
        'data-variant-id="apple-iphone-13-256gb"'
        in staff.get(f"/store/check/apple-iphone-13?imei={IMEI}").text
    )
    answers = answers_form(example_answers("smartphone", "flawless").answers)
    response = staff.post("/store/check/apple-iphone-13-128gb", {**answers, "imei": IMEI})
    assert response.status_code == 422
    assert staff.get("/store/check/nokia-3310").status_code == 404
    assert staff.get("/store/quotes/q_other").status_code == 404


def test_tick_expires_an_order_whose_send_by_date_passed(tmp_path: Path, clock: FixedClock) -> None:
    """With the shop's clock 15 days on, tick expires the unsent device; the shopper's page says so."""
    from examples.flask_shop import create_app  # noqa: PLC0415

    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
        }
    )
    try:
        shopper, order_id = place_order(app)
        staff = ShopClient(app)
        staff.login_staff()
        assert "0 Bestellungen geändert." in staff.get(staff.post("/staff/tick").location).text
        clock.advance(days=15)
        assert "1 Bestellung geändert." in staff.get(staff.post("/staff/tick").location).text
        assert 'data-state="expired"' in shopper.get(f"/orders/{order_id}").text
        assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.EXPIRED
    finally:
        shop_state(app).close()


def test_orders_list_pages_and_finds_an_older_order_in_a_state(
    app: Flask, staff: ShopClient, clock: FixedClock
) -> None:
    """60 orders: 50 on the first page, the rest behind "next"; a state filter finds the oldest one."""
    trade_in = shop_state(app).trade_in
    answers = example_answers("smartphone", "flawless").answers
    placed = []
    for _ in range(60):
        issued = trade_in.quote("apple-iphone-13-128gb", answers)
        placed.append(trade_in.accept([issued.token]).id)
        clock.advance(seconds=1)
    oldest = placed[0]
    trade_in.issue_label(oldest)
    trade_in.receive(oldest, "d1")
    first = staff.get("/staff/").text
    shown = [order_id for order_id in placed if f'data-order="{order_id}"' in first]
    assert shown == placed[10:]  # the newest 50
    following = find(r'data-testid="next-page" href="([^"]+)"', first).replace("&amp;", "&")
    rest = staff.get(following).text
    assert [order_id for order_id in placed if f'data-order="{order_id}"' in rest] == placed[:10]
    assert 'data-testid="next-page"' not in rest
    received = staff.get("/staff/?state=received").text
    assert f'data-order="{oldest}"' in received
    assert f'data-order="{placed[1]}"' not in received
    assert staff.get("/staff/?state=teleported").status_code == 400
