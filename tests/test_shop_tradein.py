from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop.testing import ShopClient, answers_form, find
from grading_questionnaire import example_answers

if TYPE_CHECKING:
    from flask import Flask

DEVICE = "apple-iphone-13-128gb"


@pytest.fixture
def client(app: Flask) -> ShopClient:
    """A shopper's session in German."""
    return ShopClient(app)


def test_search_lists_matching_devices(client: ShopClient) -> None:
    """The search finds devices by free text; a storage size picks the variant."""
    page = client.get("/trade-in/", query_string={"q": "iphone 13 128"}).text
    assert 'data-device-id="apple-iphone-13-128gb"' in page
    assert "109 Smartphones, Tablets und Uhren" in page


def test_search_says_plainly_when_nothing_matches(client: ShopClient) -> None:
    """A search without hits says so."""
    assert "Kein Gerät passt zu „nokia 3310“." in client.get("/trade-in/?q=nokia+3310").text


def test_typeahead_suggests_with_the_next_step(client: ShopClient) -> None:
    """The typeahead's JSON names each hit and links storage choice or questions."""
    hits = client.get("/trade-in/search.json?q=galaxy+s23+ultra+256").get_json()
    assert hits[0] == {
        "id": "samsung-galaxy-s23-ultra-256gb",
        "name": "Samsung Galaxy S23 Ultra",
        "storage": "256 GB",
        "category": "Smartphone",
        "url": "/trade-in/devices/samsung-galaxy-s23-ultra-256gb",
    }
    assert client.get("/trade-in/search.json?q=i").get_json() == []


def test_storage_choice_lists_variants(client: ShopClient) -> None:
    """A model with several sizes asks for the size; one with a single size goes straight on."""
    page = client.get("/trade-in/models/apple-iphone-13").text
    assert 'data-variant-id="apple-iphone-13-512gb"' in page
    single = client.get("/trade-in/models/google-pixel-7a")
    assert single.status_code == 302
    assert single.location.endswith("/trade-in/devices/google-pixel-7a-128gb")
    assert client.get("/trade-in/models/nokia-3310").status_code == 404
    assert client.get("/trade-in/devices/apple-iphone-13").location.endswith(
        "/trade-in/models/apple-iphone-13"
    )


def test_questionnaire_is_rendered_from_the_document_with_show_if(client: ShopClient) -> None:
    """Every question is in the page; conditional ones carry their show_if for the script."""
    page = client.get(f"/trade-in/devices/{DEVICE}").text
    assert 'data-question="find_my_off"' in page
    show_if = json.loads(find(r"data-question=\"find_my_off\"[^>]*data-show-if='([^']+)'", page))
    assert show_if == {"question": "platform", "in": ["ios"]}
    assert "Lässt sich das Gerät einschalten" in page
    assert 'data-question="blocklist_status"' not in page  # staff checks are not for shoppers


def test_answers_give_an_itemized_quote(client: ShopClient) -> None:
    """Valid answers make an instant quote: amount, every line, validity."""
    response = client.post(
        f"/trade-in/devices/{DEVICE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    assert response.status_code == 302
    page = client.get(response.location).text
    assert find(r'data-testid="quote-amount">([^<]+)<', page).endswith("€")
    assert 'data-code="launch_price"' in page
    assert "Schätzung" in page
    assert "gültig bis" in page


def test_quote_lines_follow_a_language_switch(client: ShopClient) -> None:
    """A quote made in German reads in French after switching; its amount stays the same."""
    response = client.post(
        f"/trade-in/devices/{DEVICE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    german = client.get(response.location).text
    french = client.get(response.location, query_string={"lang": "fr_FR"}).text
    line = r'data-code="age"><td>([^<]+)<'
    assert find(line, german).startswith("Alter")
    assert find(line, french).startswith("Âge")
    amount = r'data-testid="quote-amount">([^<]+)<'
    assert re.sub(r"\D", "", find(amount, german)) == re.sub(r"\D", "", find(amount, french))


def test_hidden_questions_are_dropped_by_the_server(client: ShopClient) -> None:
    """An answer to a question its show_if hides never reaches the library (the server walks show_if)."""
    answers = answers_form(example_answers("smartphone", "worn").answers)  # Samsung: find_my_off hidden
    response = client.post(f"/trade-in/devices/{DEVICE}", {**answers, "find_my_off": "false"})
    assert response.status_code == 302


def test_missing_answers_are_shown_at_their_question(client: ShopClient) -> None:
    """The library's problems are shown translated, next to the question they concern."""
    answers = answers_form(example_answers("smartphone", "worn").answers)
    del answers["display_glass"]
    response = client.post(f"/trade-in/devices/{DEVICE}", answers)
    assert response.status_code == 422
    assert "question has-error" in response.text
    assert 'data-question="display_glass"' in response.text
    assert 'name="powers_on" value="true" checked' in response.text  # what was answered stays
    assert 'name="platform" value="ios" data-fixed-answer' in response.text  # the iPhone's, not asked


def test_answers_of_another_platform_are_read_as_the_devices_own(client: ShopClient) -> None:
    """Android answers for an iPhone: the platform is the iPhone's (not asked), so Activation Lock is too."""
    answers = answers_form(example_answers("smartphone", "worn-samsung").answers)
    response = client.post(f"/trade-in/devices/{DEVICE}", answers)
    assert response.status_code == 422
    assert 'name="platform" value="ios" data-fixed-answer' in response.text
    assert 'class="question has-error" data-question="find_my_off"' in response.text
    assert 'data-question="samsung_account_removed"' not in response.text


def test_knocked_out_device_gets_free_recycling(client: ShopClient) -> None:
    """An activation-locked device gets a recycling-only quote with its reasons."""
    response = client.post(
        f"/trade-in/devices/{DEVICE}",
        answers_form(example_answers("smartphone", "activation-locked").answers),
    )
    page = client.get(response.location).text
    assert "Wir recyceln dieses Gerät kostenlos" in page
    assert "Als Guthaben" not in page


def test_quote_page_needs_the_sessions_token(app: Flask, client: ShopClient) -> None:
    """Another session cannot open a quote page it was not given."""
    response = client.post(
        f"/trade-in/devices/{DEVICE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    assert ShopClient(app).get(response.location).status_code == 404


def test_quote_goes_into_the_cart(client: ShopClient) -> None:
    """Adding the quote puts its id in the cart; the cart shows the stored amount."""
    response = client.post(
        f"/trade-in/devices/{DEVICE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    quote_id = response.location.rsplit("/", 1)[1]
    amount = find(r'data-testid="quote-amount">([^<]+)<', client.get(response.location).text)
    assert client.post(f"/trade-in/quotes/{quote_id}/cart").status_code == 302
    cart = client.get("/cart").text
    assert f'data-quote-id="{quote_id}"' in cart
    assert f"−{amount}" in cart
    assert "Im Warenkorb" in client.get(response.location).text
    assert client.post("/trade-in/quotes/q_unknown/cart").status_code == 404


def test_instant_quote_json(client: ShopClient) -> None:
    """The JSON endpoint quotes with the CSRF header and explains refusals with paths."""
    body = {"device_id": DEVICE, "answers": example_answers("smartphone", "worn").answers}
    headers = {"X-CSRF-Token": client.csrf_token}
    quote = client.client.post("/api/quotes", json=body, headers=headers).get_json()
    assert quote["amount"]["currency"] == "EUR"
    assert quote["lines"][0]["text"].startswith("Einführungspreis")
    assert quote["token"].startswith("tq1.")
    refused = client.client.post("/api/quotes", json={"device_id": DEVICE, "answers": {}}, headers=headers)
    assert refused.status_code == 422
    assert {"path": "$.platform", "code": "missing_answer"} in refused.get_json()["problems"]
    assert client.client.post("/api/quotes", json=[], headers=headers).status_code == 400
    assert client.client.post("/api/quotes", json=body).status_code == 400  # no CSRF header
