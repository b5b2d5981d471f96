from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from grading_questionnaire import example_answers
from tradein_sdk import Money

if TYPE_CHECKING:
    from flask import Flask

GALAXY = "SM-S931BZKDEUB"
PROTECTION = "example-de/damage-cover/upfront_12"


@pytest.fixture
def client(app: Flask) -> ShopClient:
    """A shopper with a Galaxy S25 and a worn Galaxy S22 trade-in in the cart."""
    client = ShopClient(app)
    client.post("/cart/device", {"sku": GALAXY})
    answers = answers_form(example_answers("smartphone", "worn-samsung").answers)
    quoted = client.post("/trade-in/devices/samsung-galaxy-s22-128gb", answers)
    client.post(f"{quoted.location}/cart")
    return client


def review(client: ShopClient, plan: str = "discount", protection: str = PROTECTION) -> str:
    """Choose the options and return the review page."""
    assert (
        client.post(
            "/checkout/", {"plan": plan, "protection": protection, "customer_case": "upgrade"}
        ).status_code
        == 302
    )
    return client.get("/checkout/review").text


def test_cart_shows_device_credit_and_promotions(client: ShopClient) -> None:
    """The cart shows the new device, the trade-in credit, the promotions applied and not, and the total."""
    page = client.get("/cart").text
    assert f'data-sku="{GALAXY}"' in page
    assert 'class="promo promo-applied" data-promotion="galaxy-s21-or-newer-for-s25"' in page
    assert 'class="promo promo-rejected" data-promotion="iphone-12-or-newer-minimum-200"' in page
    assert find(r'data-testid="cart-due">([^<]+)<', page).endswith("€")


def test_unknown_product_is_not_found(client: ShopClient) -> None:
    """Only the shop's own products can be chosen."""
    assert client.post("/cart/device", {"sku": "cheap-phone", "price": "1.00"}).status_code == 404


def test_removing_a_trade_in(client: ShopClient) -> None:
    """A trade-in can be taken out of the cart."""
    quote_id = find(r'data-quote-id="([^"]+)"', client.get("/cart").text)
    client.post(f"/cart/trade-ins/{quote_id}/remove")
    assert "Noch kein Altgerät." in client.get("/cart").text


def test_checkout_needs_a_device_and_a_trade_in(app: Flask) -> None:
    """Checkout sends an empty cart back with a message."""
    client = ShopClient(app)
    assert client.get("/checkout/").location.endswith("/cart")
    assert client.get("/checkout/review").location.endswith("/cart")
    assert client.post("/checkout/confirm").location.endswith("/cart")


def test_options_show_plan_cards_with_tax_and_ipid(client: ShopClient) -> None:
    """The protection step shows each plan with its premium, its tax and its IPID, and a way to decline."""
    page = client.get("/checkout/").text
    assert f'data-offer-id="{PROTECTION}"' in page
    assert "Versicherungsteuer" in page
    assert "ipid/damage-cover-2026-01.pdf" in page
    assert 'value="none"' in page
    assert client.get("/checkout/review").location.endswith("/checkout/")  # no choice made yet


def test_options_refuse_an_unknown_offer(client: ShopClient) -> None:
    """An offer id the shop did not offer is refused."""
    response = client.post(
        "/checkout/", {"plan": "discount", "protection": "made-up", "customer_case": "upgrade"}
    )
    assert response.status_code == 200
    assert "Bitte wählen Sie" in response.text


def test_review_shows_lines_clawback_and_consent(client: ShopClient) -> None:
    """The review lists every line, what is due, the clawback terms and the consent box."""
    page = review(client)
    assert "Neues Gerät: Samsung Galaxy S25 128 GB" in page
    assert "Geräteschutz: Schadenschutz" in page
    assert "innerhalb von 14 Tagen nach Erhalt des Versandetiketts" in page
    assert 'name="protection_consent"' in page
    assert 'name="iban"' not in page


def test_confirm_opens_the_order_with_the_computed_amounts(app: Flask, client: ShopClient) -> None:
    """Confirming opens the order, records the consent, issues the label and empties the cart."""
    page = review(client)
    due = find(r'data-testid="due-now">([^<]+)<', page)
    response = client.post(
        "/checkout/confirm",
        {"digest": find(r'name="digest" value="([^"]+)"', page), "protection_consent": "yes", "name": "Max"},
    )
    order_id = response.location.rsplit("/", 1)[1]
    stored = json.loads(shop_state(app).trade_in.store.get_checkout(order_id) or "{}")
    assert stored["consent"]["decision"] == "accepted"
    assert stored["summary"]["due_now"]["amount"] == due.replace("\xa0€", "").replace(".", "").replace(
        ",", "."
    )
    assert 'data-state="awaiting_shipment"' in client.get(response.location).text
    assert "Noch kein Altgerät." in client.get("/cart").text


def test_tampered_fields_never_change_the_price(app: Flask, client: ShopClient) -> None:
    """Amounts sent with the form are ignored: the order carries what the library computed."""
    page = review(client)
    expected = find(r'data-testid="due-now">([^<]+)<', page)
    response = client.post(
        "/checkout/confirm",
        {
            "digest": find(r'name="digest" value="([^"]+)"', page),
            "protection_consent": "yes",
            "due_now": "1.00",
            "price": "1.00",
            "amount": "9999.00",
            "total_credit": "9999.00",
        },
    )
    order_id = response.location.rsplit("/", 1)[1]
    stored = json.loads(shop_state(app).trade_in.store.get_checkout(order_id) or "{}")
    assert money_text(stored["summary"]["due_now"]) == expected


def money_text(document: dict[str, str]) -> str:
    """A Money JSON document formatted in German."""
    return Money.from_json(document).format("de_DE")


def test_altered_digest_is_refused_and_nothing_is_written(app: Flask, client: ShopClient) -> None:
    """A summary digest that does not match what the library computes now is refused; no order opens."""
    review(client)
    response = client.post("/checkout/confirm", {"digest": "0" * 64, "protection_consent": "yes"})
    assert response.location.endswith("/checkout/review")
    assert "hat sich geändert" in client.get("/checkout/review").text
    assert shop_state(app).trade_in.store.list_orders(limit=5) == []


def test_protection_needs_explicit_consent(app: Flask, client: ShopClient) -> None:
    """Without the consent box ticked, a chosen protection is not bought and no order opens."""
    page = review(client)
    response = client.post("/checkout/confirm", {"digest": find(r'name="digest" value="([^"]+)"', page)})
    assert response.location.endswith("/checkout/review")
    assert "Bitte setzen Sie das Häkchen" in client.get("/checkout/review").text
    assert shop_state(app).trade_in.store.list_orders(limit=5) == []


def test_declining_protection_records_the_opt_out(app: Flask, client: ShopClient) -> None:
    """Declining protection records the decision shown."""
    page = review(client, protection="none")
    assert 'name="protection_consent"' not in page
    response = client.post("/checkout/confirm", {"digest": find(r'name="digest" value="([^"]+)"', page)})
    order_id = response.location.rsplit("/", 1)[1]
    stored = json.loads(shop_state(app).trade_in.store.get_checkout(order_id) or "{}")
    assert stored["consent"]["decision"] == "declined"


def test_bank_payout_validates_the_iban(app: Flask, client: ShopClient) -> None:
    """A payout by bank transfer asks for the account; a wrong IBAN is explained and kept for correction."""
    page = review(client, plan="payout", protection="none")
    assert 'name="iban"' in page
    assert "Überweisung nach Prüfung" in page
    digest = find(r'name="digest" value="([^"]+)"', page)
    wrong = client.post("/checkout/confirm", {"digest": digest, "iban": "DE00 1234", "holder": "Max"})
    assert wrong.location.endswith("/checkout/review")
    again = client.get("/checkout/review").text
    assert 'value="DE00 1234"' in again
    assert shop_state(app).trade_in.store.list_orders(limit=5) == []
    done = client.post(
        "/checkout/confirm", {"digest": digest, "iban": "DE89 3704 0044 0532 0130 00", "holder": "Max"}
    )
    assert "/orders/ord_" in done.location
