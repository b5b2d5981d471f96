"""The buy-back guarantee in the demo shop: offered at checkout, shown on the order, exercised a year later.

Flask's test client on a real SQLite store. A Samsung Galaxy S23 128 GB is bought on Friday 4 December 2026
for 899.00 € with a worn iPhone 13 traded in (150.00 €, and the example promotion's 50.00 €) and the
guaranteed buy-back ``buyback-24`` (fee 29.00 €): 50 % of the price until month 13 (449.50 €), 40 % from
month 13 (359.60 €), 35 % from month 19 (314.65 €); exercisable from 4 December 2027, early from 4 June 2027
for 50.00 €, last day 3 January 2029; floor: grade good, no lock. The demo clock then moves the shop a year
on: the same phone, described as worn (grade good), is quoted at 144.00 € and the guarantee promises 449.50 €.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from examples.flask_shop import create_app
from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from grading_questionnaire import example_answers
from tradein_sdk import FixedClock, InflowStatus, Money, order_reference, verify_document

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

S23 = "SM-S911BZKDEUB"
S23_VARIANT = "samsung-galaxy-s23-128gb"
IPHONE = "apple-iphone-13-128gb"
PLAN = "buyback-24"
BOUGHT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}
NBSP = "\xa0"


def eur(amount: str, locale: str = "de_DE") -> str:
    """An amount in euros as the shop shows it (``449,50 €`` in German)."""
    return Money(amount, "EUR").format(locale)


def galaxy(**changes: Any) -> dict[str, Any]:  # noqa: ANN401
    """The Galaxy S23 as its owner describes it a year later: light wear (grade good), accounts removed."""
    answers = dict(example_answers("smartphone", "worn").answers)
    answers.pop("find_my_off")
    return {
        **answers,
        "platform": "samsung",
        "google_account_removed": True,
        "samsung_account_removed": True,
        **changes,
    }


@pytest.fixture
def start() -> datetime:
    """The shop's clock stands at the day of the purchase."""
    return BOUGHT


@pytest.fixture
def shop_app(tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The demo shop at the day of the purchase, its demo clock on, without demo data."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
            "TRADEIN_DEMO_CLOCK": "on",
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


def cart_with_s23(app: Flask, locale: str = "de_DE") -> ShopClient:
    """A shopper with the Galaxy S23 and a worn iPhone 13 trade-in in the cart."""
    client = ShopClient(app, locale=locale)
    assert client.post("/cart/device", {"sku": S23}).status_code == 302
    worn = dict(example_answers("smartphone", "worn").answers)
    quoted = client.post(f"/trade-in/devices/{IPHONE}", answers_form(worn))
    assert client.post(f"{quoted.location}/cart").status_code == 302
    return client


def review(client: ShopClient, guarantee: str | None = PLAN) -> str:
    """Choose the options (a discount, no protection, ``guarantee``); the review page."""
    options = {"plan": "discount", "protection": "none", "customer_case": "upgrade"}
    if guarantee is not None:
        options["guarantee"] = guarantee
    assert client.post("/checkout/", options).status_code == 302
    return client.get("/checkout/review").text


def buy(app: Flask, *, guarantee: str | None = PLAN) -> tuple[ShopClient, str]:
    """Buy the Galaxy S23 with ``guarantee`` (consenting to its terms); the session and the order id."""
    client = cart_with_s23(app)
    page = review(client, guarantee)
    form = {"digest": find(r'name="digest" value="([^"]+)"', page)}
    if guarantee not in {None, "none"}:
        form["guarantee_consent"] = "yes"
    confirmed = client.post("/checkout/confirm", form)
    assert "/orders/ord_" in confirmed.location, client.get("/checkout/review").text
    return client, confirmed.location.rsplit("/", 1)[1]


def contract_id_of(page: str) -> str:
    """The contract id shown on an order page."""
    return find(r'data-testid="guarantee-id">([^<]+)<', page)


def one_year_later(client: ShopClient) -> str:
    """Move the shop's demo clock on by a year; the flashed message."""
    moved = client.post("/demo/clock", {"move": "year", "next": "/"})
    assert moved.status_code == 302
    return find(r'class="flash flash-success"[^>]*>([^<]+)<', client.get("/").text)


def exercise(client: ShopClient, order_id: str, contract_id: str, answers: dict[str, Any]) -> str:
    """Describe the device on the guaranteed trade-in's questionnaire; the URL of the price page."""
    url = f"/orders/{order_id}/guarantees/{contract_id}/trade-in"
    assert client.get(url).status_code == 200
    described = client.post(url, answers_form(answers))
    assert described.status_code == 302, described.text
    return str(described.location)


def marked(page: str, name: str) -> str:
    """The text of the element marked ``data-testid=name``."""
    return find(rf'data-testid="{re.escape(name)}"[^>]*>([^<]+)<', page).strip()


def text(page: str) -> str:
    """The page's text, tags and repeated spaces removed (non-breaking spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", page))


# -- the offer -----------------------------------------------------------------------------------------------


def test_the_offer_card_explains_the_hand_checked_schedule(shop_app: Flask) -> None:
    """Beside protection: 449.50 € until month 13, then 359.60 € and 314.65 €, with their dates; fee 29 €."""
    page = cart_with_s23(shop_app).get("/checkout/").text
    card = find(
        r'(?s)(<div class="plan-card guarantee-card" data-guarantee-plan="buyback-24">.*?)</table>', page
    )
    rows = re.findall(r'data-band="(\d+-\d+)" data-amount="([\d.]+)"', card)
    assert rows == [("0-13", "449.50"), ("13-19", "359.60"), ("19-25", "314.65")]
    words = text(page)
    assert f"0–12 Monate 04.12.2026 – 03.01.2028 {eur('449.50')} 50 % von {eur('899.00')}" in words
    assert f"13–18 Monate 04.01.2028 – 03.07.2028 {eur('359.60')} 40 % von {eur('899.00')}" in words
    assert f"19–24 Monate 04.07.2028 – 03.01.2029 {eur('314.65')} 35 % von {eur('899.00')}" in words
    assert marked(page, "guarantee-fee") == eur("29.00")
    assert "Erforderlicher Zustand: Gut oder besser (Hervorragend, Gut)." in words
    assert "Eintauschen vom 4. Dezember 2027 bis zum 3. Januar 2029." in words
    assert f"Früher ab dem 4. Juni 2027, gegen eine Gebühr von {eur('50.00')}." in words
    assert "Unter diesem Zustand: der Marktwert des Tages." in words
    assert "Bedingungen in der Fassung 2026-12." in words
    assert 'name="guarantee" value="none" checked' in page  # declined unless chosen
    assert 'data-offer-id="example-de/damage-cover/upfront_12"' in page  # beside the protection offer


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_GB", "Trade it in from 4 December 2027 until 3 January 2029."),
        ("fr_FR", "Reprise possible du 4 décembre 2027 au 3 janvier 2029."),
    ],
    ids=["en", "fr"],
)
def test_the_offer_speaks_the_shoppers_language(shop_app: Flask, locale: str, expected: str) -> None:
    """Texts, amounts and dates in English and French too."""
    page = cart_with_s23(shop_app, locale).get("/checkout/").text
    assert expected in text(page)
    assert marked(page, "guarantee-fee") == eur("29.00", locale)
    assert eur("449.50", locale) in page


def test_a_device_without_a_plan_has_no_offer(shop_app: Flask) -> None:
    """An Apple Watch is not covered by any plan: no guarantee card, and the checkout works as before."""
    client = ShopClient(shop_app)
    client.post("/cart/device", {"sku": "apple-watch-series-10-64gb"})
    quoted = client.post(
        f"/trade-in/devices/{IPHONE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    client.post(f"{quoted.location}/cart")
    page = client.get("/checkout/").text
    assert "data-guarantee-plan" not in page
    assert 'data-testid="guarantee-declined"' not in review(client, None)


def test_the_review_shows_the_guarantee_line_and_asks_for_consent(shop_app: Flask) -> None:
    """The summary line with its fee, the terms, and a consent box; without the tick nothing is ordered."""
    client = cart_with_s23(shop_app)
    page = review(client)
    words = text(page)
    line = f"Rückkaufgarantie: Garantierter Rückkauf, bis zu {eur('449.50')} ab dem 4. Dezember 2027"
    assert f"{line} {eur('29.00')}" in words
    # 899.00 − 150.00 (iPhone 13) − 50.00 (the example promotion for an iPhone 12 or newer) + 29.00 (fee)
    assert marked(page, "due-now") == eur("728.00")
    assert 'name="guarantee_consent" value="yes" required' in page
    refused = client.post("/checkout/confirm", {"digest": find(r'name="digest" value="([^"]+)"', page)})
    assert refused.location.endswith("/checkout/review")
    again = client.get("/checkout/review").text
    assert "Bitte akzeptieren Sie die Bedingungen der Rückkaufgarantie" in again
    assert shop_state(shop_app).trade_in.list_orders(limit=5) == []


def test_after_an_error_elsewhere_the_choice_is_kept(shop_app: Flask) -> None:
    """Protection left unanswered: the page says so and still shows the guarantee and plan chosen."""
    client = cart_with_s23(shop_app)
    page = client.post("/checkout/", {"plan": "payout", "guarantee": PLAN})
    assert page.status_code == 200
    assert "Bitte wählen Sie" in page.text
    assert f'name="guarantee" value="{PLAN}" checked' in page.text
    assert 'name="plan" value="payout" checked' in page.text
    client.post(
        "/checkout/", {"plan": "payout", "protection": "none", "customer_case": "upgrade", "guarantee": PLAN}
    )
    reviewed = client.get("/checkout/review").text
    assert 'name="guarantee_consent" value="yes" required>' in reviewed  # never ticked for the shopper
    kept = client.post(
        "/checkout/confirm",
        {
            "digest": find(r'name="digest" value="([^"]+)"', reviewed),
            "guarantee_consent": "yes",
            "iban": "DE00 1234",
            "holder": "Erika Mustermann",
        },
    )
    assert kept.location.endswith("/checkout/review")
    again = client.get("/checkout/review").text
    assert 'name="guarantee_consent" value="yes" required checked' in again
    assert 'value="Erika Mustermann"' in again


def test_a_plan_not_offered_is_refused_with_a_message(shop_app: Flask) -> None:
    """A made-up plan, or the upgrade plan (it needs financing), is refused on the page, never a 500."""
    client = cart_with_s23(shop_app)
    for plan in ("made-up", "upgrade-12"):
        page = client.post(
            "/checkout/",
            {"plan": "discount", "protection": "none", "customer_case": "upgrade", "guarantee": plan},
        )
        assert page.status_code == 200
        assert "Bitte wählen Sie eine für dieses Gerät angebotene Rückkaufgarantie oder keine." in page.text
        assert 'name="guarantee" value="none" checked' in page.text


def test_declined_is_recorded_and_owes_nothing(shop_app: Flask) -> None:
    """Shown and declined: the opt-out is in the audit log, no contract, no contingent liability."""
    client, order_id = buy(shop_app, guarantee="none")
    trade_in = shop_state(shop_app).trade_in
    consent = [
        entry.details
        for entry in trade_in.store.audit_entries()
        if (entry.subject, entry.action) == (order_id, "guarantee.consent")
    ]
    assert [(details["decision"], details["offered"]) for details in consent] == [("declined", [PLAN])]
    assert trade_in.ledger(order_id).total.contingent == Money("0", "EUR")
    assert 'data-testid="guarantee-contract"' not in client.get(f"/orders/{order_id}").text


# -- the contract --------------------------------------------------------------------------------------------


def test_accepted_the_contract_is_on_the_order_pages(shop_app: Flask, staff: ShopClient) -> None:
    """Contract id, device, schedule, window, floor, status; the staff page adds the contingent liability."""
    client, order_id = buy(shop_app)
    page = client.get(f"/orders/{order_id}").text
    contract_id = contract_id_of(page)
    trade_in = shop_state(shop_app).trade_in
    assert trade_in.guarantee(contract_id).device == S23_VARIANT
    assert re.search(r'data-testid="guarantee-contract" data-contract="gtc_\w+" data-status="open"', page)
    words = text(page)
    assert "Garantierter Rückkauf: Samsung Galaxy S23 128 GB" in words
    assert f"Gekauft 4. Dezember 2026 · {eur('899.00')}" in words
    assert (
        "Sie können es vom 4. Dezember 2027 bis zum 3. Januar 2029 eintauschen; schon ab dem 4. Juni 2027 "
        "vorzeitig, gegen eine Gebühr von 50,00\xa0€."
    ) in words
    assert f"0–12 Monate 04.12.2026 – 03.01.2028 heute {eur('449.50')}" in words
    assert "Erforderlicher Zustand: Gut oder besser" in words
    assert marked(page, "guarantee-signature") == "Signatur gültig"
    assert 'data-testid="guarantee-exercise"' not in page  # not yet: from 4 June 2027
    assert "ist unterzeichnet" not in page  # the thanks say it, with no internal contract id in a message
    assert "Vielen Dank für Ihre Bestellung" in page

    back_office = staff.get(f"/staff/orders/{order_id}").text
    assert marked(back_office, "guarantee-contingent") == eur("449.50")
    assert trade_in.ledger(order_id).total.contingent == Money("449.50", "EUR")
    total = find(r'(?s)<tr data-device="total">(.*?)</tr>', back_office)
    assert find(r'data-field="contingent">([^<]+)<', total) == eur("449.50")
    assert 'data-kind="guarantee_contingent"' in back_office


def test_the_signed_contract_downloads_and_verifies_offline(shop_app: Flask) -> None:
    """The JSON verifies with the published keys (and on the shop's check page); an altered copy does not."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    download = client.get(f"/orders/{order_id}/guarantees/{contract_id}.json")
    assert download.status_code == 200
    assert f'filename="buyback-guarantee-{contract_id}.json"' in download.headers["Content-Disposition"]
    keys = client.get("/guarantees/keys.json").get_json()
    payload = verify_document(download.data, keys, purpose="buyback-guarantee")
    assert (payload["id"], payload["device"], payload["schedule"][0]["amount"]) == (
        contract_id,
        S23_VARIANT,
        {"amount": "449.50", "currency": "EUR"},
    )
    checked = client.post("/guarantees/verify", {"text": download.text})
    assert 'data-status="valid"' in checked.text
    assert contract_id in checked.text
    altered = json.loads(download.data)
    altered["payload"]["schedule"][0]["amount"]["amount"] = "899.00"
    refused = client.post("/guarantees/verify", {"text": json.dumps(altered)})
    assert 'data-reason="bad_signature"' in refused.text
    assert "Die Signatur passt nicht" in refused.text
    other = ShopClient(shop_app)  # another session cannot read it
    assert other.get(f"/orders/{order_id}/guarantees/{contract_id}.json").status_code == 404


# -- a year later --------------------------------------------------------------------------------------------


def test_a_year_later_it_is_exercised_at_449_50(shop_app: Flask, staff: ShopClient) -> None:
    """The demo clock moves a year on; the trade-in at the guaranteed price promises 449.50 € and is paid."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    assert "4. Dezember 2027, ein Jahr später" in one_year_later(client)

    page = client.get(f"/orders/{order_id}").text
    assert marked(page, "demo-clock-today") == "4. Dezember 2027"
    assert marked(page, "guarantee-today") == eur("449.50")
    assert 'data-testid="guarantee-exercise"' in page
    price_url = exercise(client, order_id, contract_id, galaxy())
    price = client.get(price_url).text
    assert marked(price, "guarantee-promise") == eur("449.50")
    assert marked(price, "guarantee-market") == eur("144.00")
    assert 'data-basis="guaranteed"' in price

    opened = client.post(price_url, {"payout": "voucher"})
    assert opened.status_code == 302
    new_id = opened.location.rsplit("/", 1)[1]
    assert new_id != order_id
    new_page = client.get(opened.location).text
    assert f"Wir sagen {eur('449.50')} zu." in new_page
    assert re.search(rf'data-testid="guarantee-claim-d1" data-contract="{contract_id}"', new_page)
    trade_in = shop_state(shop_app).trade_in
    device = trade_in.order(new_id).device("d1")
    assert device.quoted == Money("449.50", "EUR")
    assert device.guarantee is not None
    assert device.guarantee.contract_id == contract_id
    old = client.get(f"/orders/{order_id}").text
    assert re.search(rf'data-contract="{contract_id}" data-status="in_progress"', old)
    assert marked(old, "guarantee-order") == order_reference(new_id)

    assert staff.post(f"/staff/orders/{new_id}/devices/d1/receive").status_code == 302
    inspected = staff.post(
        f"/staff/orders/{new_id}/devices/d1/inspect", answers_form({**galaxy(), **STAFF_CHECKS})
    )
    assert inspected.status_code == 302
    assert staff.post(f"/staff/orders/{new_id}/devices/d1/settle").status_code == 302
    assert trade_in.order(new_id).device("d1").state.value == "credited"  # a shop voucher
    assert trade_in.ledger(new_id).total.paid + trade_in.ledger(new_id).total.credited == Money(
        "449.50", "EUR"
    )
    status = trade_in.guarantee_status(contract_id)
    assert (status.status, status.received) == (InflowStatus.EXERCISED, Money("449.50", "EUR"))
    assert trade_in.ledger(order_id).total.contingent == Money("0", "EUR")
    done = client.get(f"/orders/{order_id}").text
    assert re.search(rf'data-contract="{contract_id}" data-status="exercised"', done)
    assert f"Eingelöst am 4. Dezember 2027: {eur('449.50')}." in text(done)
    again = client.get(f"/orders/{order_id}/guarantees/{contract_id}/trade-in")
    assert again.status_code == 302  # used: back to the order with a message
    assert "bereits eingelöst" in client.get(again.location).text


def test_found_cracked_the_inspection_offers_the_market_value(shop_app: Flask, staff: ShopClient) -> None:
    """Below the floor (grade damaged), the fallback 0.00 € gives way to the market value 50.00 €."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    one_year_later(client)
    opened = client.post(exercise(client, order_id, contract_id, galaxy()), {"payout": "voucher"})
    new_id = opened.location.rsplit("/", 1)[1]
    staff.post(f"/staff/orders/{new_id}/devices/d1/receive")
    found = answers_form({**galaxy(display_glass="cracked"), **STAFF_CHECKS})
    assert staff.post(f"/staff/orders/{new_id}/devices/d1/inspect", found).status_code == 302
    device = shop_state(shop_app).trade_in.order(new_id).device("d1")
    assert (device.state.value, device.offer) == ("revised", Money("50.00", "EUR"))


def test_early_exercise_deducts_its_fee(shop_app: Flask, clock: FixedClock) -> None:
    """On 10 June 2027 (month 6): 449.50 € less the 50.00 € early fee, 399.50 €."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    clock.set(datetime(2027, 6, 10, 10, 0, tzinfo=UTC))
    page = client.get(f"/orders/{order_id}").text
    assert f"Die Gebühr von {eur('50.00')} wird abgezogen" in text(page)
    price = client.get(exercise(client, order_id, contract_id, galaxy())).text
    assert marked(price, "guarantee-promise") == eur("399.50")


# -- errors are explained ------------------------------------------------------------------------------------


def test_before_its_window_the_exercise_is_refused_with_the_day(shop_app: Flask) -> None:
    """Months before 4 June 2027: the trade-in page sends the shopper back with the first day named."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    early = client.get(f"/orders/{order_id}/guarantees/{contract_id}/trade-in")
    assert early.status_code == 302
    assert (
        "Diese Rückkaufgarantie kann ab dem 4. Juni 2027 eingelöst werden." in client.get(early.location).text
    )


def test_forms_without_the_csrf_token_are_refused(shop_app: Flask) -> None:
    """The guarantee forms and the demo clock refuse a POST without the session's token (400)."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    raw = client.client
    clock_moved = raw.post("/demo/clock", data={"move": "year"})
    assert clock_moved.status_code == 400
    assert "Formular ist abgelaufen" in clock_moved.text
    assert marked(client.get("/").text, "demo-clock-today") == "4. Dezember 2026"
    one_year_later(client)
    url = f"/orders/{order_id}/guarantees/{contract_id}/trade-in"
    assert raw.post(url, data=answers_form(galaxy())).status_code == 400
    price_url = exercise(client, order_id, contract_id, galaxy())
    refused = raw.post(price_url, data={"payout": "voucher"})
    assert refused.status_code == 400
    assert "Formular ist abgelaufen" in refused.text
    status = shop_state(shop_app).trade_in.guarantee_status(contract_id)
    assert status.status is InflowStatus.OPEN
    assert raw.post("/guarantees/verify", data={"text": "{}"}).status_code == 400


def test_bad_input_gets_a_clear_message_never_a_500(shop_app: Flask) -> None:
    """No payout, a bad IBAN, a wrong quote, unknown ids, garbage to check, a bad clock move: explained."""
    client, order_id = buy(shop_app)
    contract_id = contract_id_of(client.get(f"/orders/{order_id}").text)
    one_year_later(client)
    price_url = exercise(client, order_id, contract_id, galaxy())
    no_payout = client.post(price_url, {"payout": "cash"})
    assert no_payout.status_code == 422
    assert "Bitte wählen Sie, wie wir Sie bezahlen." in no_payout.text
    bad_iban = client.post(price_url, {"payout": "bank", "iban": "DE00 0000", "holder": "Erika Mustermann"})
    assert bad_iban.status_code == 422
    assert marked(bad_iban.text, "guarantee-error")
    assert 'value="Erika Mustermann"' in bad_iban.text
    missing = client.post(f"/orders/{order_id}/guarantees/{contract_id}/trade-in", {"platform": "samsung"})
    assert missing.status_code == 422
    assert "has-error" in missing.text
    iphone = client.post(
        f"/trade-in/devices/{IPHONE}", answers_form(example_answers("smartphone", "worn").answers)
    )
    quote_id = iphone.location.rsplit("/", 1)[1]
    wrong_device = f"/orders/{order_id}/guarantees/{contract_id}/trade-in/{quote_id}"
    assert client.get(wrong_device).status_code == 404
    assert client.get(f"/orders/{order_id}/guarantees/gtc_unknown/trade-in").status_code == 404
    assert client.get(f"/orders/{order_id}/guarantees/gtc_unknown.json").status_code == 404
    assert client.get(f"/orders/{order_id}/guarantees/{contract_id}/trade-in/q_unknown").status_code == 404
    for garbage, message in (("", "Wählen Sie eine Vertragsdatei"), ("not json", "kein JSON-Objekt")):
        checked = client.post("/guarantees/verify", {"text": garbage})
        assert checked.status_code == 400
        assert message in checked.text
    assert 'data-reason="malformed"' in client.post("/guarantees/verify", {"text": "{}"}).text
    bad_move = client.post("/demo/clock", {"move": "century"})
    assert bad_move.status_code == 400
    assert "konnte nicht verarbeitet werden" in bad_move.text
    opened = client.post(price_url, {"payout": "voucher"})
    assert opened.status_code == 302
    twice = client.post(price_url, {"payout": "voucher"})  # the quote backs the order now
    assert twice.status_code == 302
    assert "/orders/" in twice.location


# -- the demo clock ------------------------------------------------------------------------------------------


def test_the_demo_clock_is_for_staff_only_when_configured_so(tmp_path: Path, clock: FixedClock) -> None:
    """``staff``: shoppers neither see nor reach it, staff move it. ``off`` (a real shop): no such thing."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path / "staff"),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
            "TRADEIN_DEMO_CLOCK": "staff",
        }
    )
    try:
        shopper = ShopClient(app)
        assert 'data-testid="demo-clock"' not in shopper.get("/").text
        assert shopper.post("/demo/clock", {"move": "year"}).status_code == 404
        member = ShopClient(app)
        member.login_staff()
        assert 'data-testid="demo-clock"' in member.get("/staff/").text
        assert member.post("/demo/clock", {"move": "year", "next": "/staff/"}).location == "/staff/"
        assert shop_state(app).trade_in.clock.now() == datetime(2027, 12, 4, 10, 0, tzinfo=UTC)
        assert member.post("/demo/clock", {"move": "reset"}).status_code == 302
        assert shop_state(app).trade_in.clock.now() == BOUGHT
    finally:
        shop_state(app).close()
    off = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path / "off"),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
        }
    )
    try:
        client = ShopClient(off)
        client.login_staff()
        assert 'data-testid="demo-clock"' not in client.get("/").text
        assert client.post("/demo/clock", {"move": "year"}).status_code == 404
        assert shop_state(off).trade_in.clock is clock
    finally:
        shop_state(off).close()


def test_the_demo_clock_is_shared_by_every_worker(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> None:
    """Two workers on the same data (SQLite, then PostgreSQL) tell the same moved time, whichever moved it."""
    config = {
        "TESTING": True,
        "TRADEIN_DATA_DIR": str(tmp_path),
        "TRADEIN_DATABASE_URL": database_url,
        "TRADEIN_SEED_DEMO": False,
        "TRADEIN_CLOCK": clock,
        "TRADEIN_DEMO_CLOCK": "on",
    }
    first, second = create_app(config), create_app(config)
    try:
        one_year_later(ShopClient(first))
        assert shop_state(second).trade_in.clock.now() == datetime(2027, 12, 4, 10, 0, tzinfo=UTC)
        assert ShopClient(second).post("/demo/clock", {"move": "month"}).status_code == 302
        demo_clock = shop_state(first).demo_clock
        assert demo_clock is not None
        demo_clock.refresh()  # at once, not a second later
        assert shop_state(first).trade_in.clock.now() == datetime(2028, 1, 4, 10, 0, tzinfo=UTC)
    finally:
        shop_state(first).close()
        shop_state(second).close()
