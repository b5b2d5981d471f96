"""The shop's words and flow as shoppers and staff read them, in German, English and French.

No internal code reaches a shopper (knockout codes, catalog ids, raw order ids); the order reference has one
human form on every page (the ``reference`` filter); times show no UTC offset and French dates say « 1er »;
staff read who acted from their side; the questionnaire's hints fit the device's brand; the order timeline
follows the device's real history; a device that does not match says what happens next; no template carries
an inline event handler, so the Content-Security-Policy needs no ``'unsafe-hashes'``.
"""

from __future__ import annotations

import html
import importlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import g

from examples.flask_shop import extension
from examples.flask_shop.testing import ShopClient, answers_form, shop_state
from grading_questionnaire import example_answers
from tests.test_shop_backoffice import arrive, inspect, place_order
from tradein_sdk import DeviceState, order_reference

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask import Flask

LOCALES = ("de_DE", "en_GB", "fr_FR")
IPHONE = "apple-iphone-13-128gb"
GALAXY = "samsung-galaxy-s23-128gb"
PIXEL = "google-pixel-6-128gb"
TEMPLATES = Path(__file__).resolve().parent.parent / "examples" / "flask_shop" / "templates"
FLAWLESS = example_answers("smartphone", "flawless").answers
NBSP, NNBSP = "\u00a0", "\u202f"


def visible(page: str) -> str:
    """The text a person reads: no scripts, styles, drawings or tags; runs of spaces as one (NBSP kept)."""
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def switch(client: ShopClient, locale: str) -> ShopClient:
    """The same session, now in ``locale``."""
    client.get("/", query_string={"lang": locale})
    return client


def staff_client(app: Flask, locale: str) -> ShopClient:
    """A member of staff signed in, reading in ``locale``."""
    client = ShopClient(app, locale=locale)
    client.login_staff()
    return client


def reference_of(order_id: str) -> str:
    """The human form of an order's reference (the library's: ``TI-7YD0-R6VQ-T08T-QGZ4``)."""
    return order_reference(order_id)


# -- internal codes ------------------------------------------------------------------------------------------

RECYCLE_TEXTS = {
    "de_DE": (
        "„Wo ist?“ (Aktivierungssperre) ist noch eingeschaltet",  # why (the questionnaire's knockout text)
        "Kein Preis: Wir recyceln das Gerät kostenlos.",
        "Schalten Sie „Wo ist?“ (Aktivierungssperre) auf dem Gerät aus und holen Sie ein neues Angebot ein",
        "Einstellungen › Ihr Name › „Wo ist?“",  # where, for an iPhone (the question's hint)
        "Oder lassen Sie es kostenlos recyceln",
    ),
    "en_GB": (
        "Find My (Activation Lock) is still on",
        "No price: we can recycle the device free of charge.",
        "Turn off Find My (Activation Lock) on the device, then get a new quote",
        "Settings › your name › Find My",
        "Or have it recycled free of charge",
    ),
    "fr_FR": (
        "Localiser (verrouillage d’activation) est encore activé",
        f"Pas de prix{NBSP}: nous recyclons l’appareil gratuitement.",
        "Désactivez Localiser (verrouillage d’activation) sur l’appareil, puis demandez une nouvelle offre",
        "Réglages › votre nom › Localiser",
        "Ou faites-le recycler gratuitement",
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_recycle_only_quote_says_why_and_what_the_shopper_can_do(app: Flask, locale: str) -> None:
    """No "No price (activation_lock_on)": the reason in words, how to lift it, a new quote, recycling."""
    client = ShopClient(app, locale=locale)
    quoted = client.post(f"/trade-in/devices/{IPHONE}", answers_form({**FLAWLESS, "find_my_off": False}))
    page = client.get(quoted.location).text
    words = visible(page)
    assert "activation_lock_on" not in words
    for expected in RECYCLE_TEXTS[locale]:
        assert expected in words, expected
    assert f'href="/trade-in/devices/{IPHONE}"' in page  # the new quote starts from the same device


def test_a_locked_galaxy_is_told_to_remove_its_google_account(app: Flask) -> None:
    """Each lock names its own remedy: a Google account on an Android phone, not Find My."""
    client = ShopClient(app, locale="en_GB")
    galaxy = {**example_answers("smartphone", "worn-samsung").answers, "google_account_removed": False}
    page = client.get(client.post(f"/trade-in/devices/{GALAXY}", answers_form(galaxy)).location).text
    words = visible(page)
    assert "google_frp_on" not in words
    assert "Remove the Google account from the device, then get a new quote" in words
    assert "Find My" not in words


def test_the_quote_api_explains_a_recycle_only_quote_in_words(app: Flask) -> None:
    """The JSON quote's lines carry the same words as the page, no knockout code."""
    client = ShopClient(app, locale="en_GB")
    response = client.client.post(
        "/api/quotes",
        json={"device_id": IPHONE, "answers": {**FLAWLESS, "find_my_off": False}},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    lines = response.get_json()["lines"]
    assert [line["text"] for line in lines] == ["No price: we can recycle the device free of charge."]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_label_names_the_device_and_the_order_reference(app: Flask, locale: str) -> None:
    """The label lists "Apple iPhone 13 128 GB (ORD-…)", in the page's language, not catalog or order ids."""
    client, order_id = place_order(app)
    label = switch(client, locale).get(f"/orders/{order_id}/label").text
    words = visible(label)
    assert f"Apple iPhone 13 128 GB ({reference_of(order_id)})" in words
    assert IPHONE not in words
    assert order_id not in words
    assert f'<html lang="{locale[:2]}"' in label


@pytest.mark.parametrize("locale", LOCALES)
def test_one_order_reference_on_every_page(app: Flask, locale: str) -> None:
    """Order page, label, staff list and staff order page: the reference, never ord_…, ORD-… or ORD_…."""
    client, order_id = place_order(app)
    switch(client, locale)
    staff = staff_client(app, locale)
    reference = reference_of(order_id)
    pages = {
        "order": client.get(f"/orders/{order_id}").text,
        "label": client.get(f"/orders/{order_id}/label").text,
        "staff list": staff.get("/staff/").text,
        "staff order": staff.get(f"/staff/orders/{order_id}").text,
    }
    for name, page in pages.items():
        words = visible(page)
        assert reference in words, name
        assert not re.search(r"\bord_|\bORD[_-]", words), name


def test_the_reference_and_device_name_filters(app: Flask) -> None:
    """``reference`` is the library's order reference; ``device_name`` a catalog id's name with storage."""
    reference = app.jinja_env.filters["reference"]
    assert reference is order_reference
    assert reference("ord_3f9a0c1b77d011abc3e4").startswith("TI-")
    name = app.jinja_env.filters["device_name"]
    with app.test_request_context("/"):
        assert name(IPHONE) == "Apple iPhone 13 128 GB"
        assert name("apple-iphone-13") == "Apple iPhone 13"
        assert name("nokia-3310") == "nokia-3310"
    guarantees = importlib.import_module("examples.flask_shop.guarantees")
    assert vars(guarantees)["device_name"] is extension.device_name  # moved, still importable there


@pytest.mark.parametrize("locale", LOCALES)
def test_staff_lists_name_the_devices(app: Flask, locale: str) -> None:
    """The staff's incoming devices and order list show device names, not variant ids."""
    _, first = place_order(app)
    place_order(app)
    staff = staff_client(app, locale)
    arrive(staff, first)
    page = staff.get("/staff/").text
    words = visible(page)
    assert words.count("Apple iPhone 13 128 GB") == 3  # once incoming, once per order in the list
    assert IPHONE not in words


# -- formatting and wording ----------------------------------------------------------------------------------


def formatted(app: Flask, locale: str, formatter: Callable[..., str], *args: object) -> str:
    """``formatter(*args)`` in a request of ``locale``."""
    with app.test_request_context("/"):
        g.locale = locale
        return formatter(*args)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de_DE", "1. Februar 2027, 00:30"),
        ("en_GB", "1 February 2027, 00:30"),
        ("fr_FR", "1er février 2027, 00:30"),
    ],
)
def test_times_show_the_shop_time_without_an_offset(app: Flask, locale: str, expected: str) -> None:
    """31 January 23:30 UTC is 1 February 00:30 in Berlin; no "+0100", "MEZ" or "CET" after it."""
    moment = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)
    assert formatted(app, locale, extension.format_datetime, moment, "long") == expected
    for style in ("short", "medium", "full"):
        shown = formatted(app, locale, extension.format_datetime, moment, style)
        assert not re.search(r"[+-]\d{2}:?\d{2}\b|UTC|GMT|MEZ|CET|Europe|heure|Time|Zeit", shown), shown


@pytest.mark.parametrize(
    ("locale", "first", "second", "full"),
    [
        ("de_DE", "1. Februar 2027", "2. Februar 2027", "Montag, 1. Februar 2027"),
        ("en_GB", "1 February 2027", "2 February 2027", "Monday, 1 February 2027"),
        ("fr_FR", "1er février 2027", "2 février 2027", "lundi 1er février 2027"),
    ],
)
def test_french_long_dates_say_premier(app: Flask, locale: str, first: str, second: str, full: str) -> None:
    """French writes the first of a month « 1er » in long dates; other days and languages are unchanged."""
    assert formatted(app, locale, extension.format_date, date(2027, 2, 1), "long") == first
    assert formatted(app, locale, extension.format_date, date(2027, 2, 2), "long") == second
    assert formatted(app, locale, extension.format_date, date(2027, 2, 1), "full") == full
    # a moment is dated in the shop's time zone: 23:30 UTC on 31 January is 1 February in Berlin
    late = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)
    assert formatted(app, locale, extension.format_date, late, "long") == first


@pytest.mark.parametrize("locale", LOCALES)
def test_shopper_and_staff_pages_show_no_utc_offset(app: Flask, locale: str) -> None:
    """The order page's "placed" and "send by" times, the staff order page: no offset, no zone name."""
    client, order_id = place_order(app)
    staff = staff_client(app, locale)
    for page in (
        switch(client, locale).get(f"/orders/{order_id}").text,
        staff.get(f"/staff/orders/{order_id}").text,
    ):
        assert not re.search(r"\d{2}:\d{2}(:\d{2})? ?([+-]\d{4}|UTC|GMT|MEZ|CET)", visible(page))


COLON_WITHOUT_SPACE = re.compile(rf"[^\s{NBSP}{NNBSP}]:(?=\s|$)")


def test_french_pages_put_a_no_break_space_before_colons(app: Flask) -> None:
    """The quote, the questionnaire (the shopper's and staff's) and the label's controls: « Papier : »."""
    client = ShopClient(app, locale="fr_FR")
    quoted = client.post(f"/trade-in/devices/{IPHONE}", answers_form({**FLAWLESS, "find_my_off": False}))
    _, order_id = place_order(app)
    staff = staff_client(app, "fr_FR")
    arrive(staff, order_id)
    shopper_pages = {
        "quote": client.get(quoted.location).text,
        "questions": client.get(f"/trade-in/devices/{GALAXY}").text,
        "inspection's questions": staff.get(f"/staff/orders/{order_id}/devices/d1/inspect").text.split(
            "data-questionnaire", 1
        )[1],
        "label controls": staff.get(f"/orders/{order_id}/label").text.split("</nav>", 1)[0],
        "order's devices": staff.get(f"/orders/{order_id}")
        .text.split('class="panel device"', 1)[1]
        .split('data-testid="money"', 1)[0],
    }
    for name, page in shopper_pages.items():
        words = visible(page.split('<main class="wrap" id="main"', 1)[-1])
        assert not COLON_WITHOUT_SPACE.findall(words), (name, COLON_WITHOUT_SPACE.findall(words))


@pytest.mark.parametrize(
    ("locale", "entry", "wrong"),
    [
        ("de_DE", "Neues Angebot angenommen (Kunde)", "(Sie)"),
        ("en_GB", "New offer accepted (shopper)", "(you)"),
        ("fr_FR", "Nouvelle offre acceptée (client)", "(vous)"),
    ],
)
def test_staff_history_names_the_shopper_not_you(app: Flask, locale: str, entry: str, wrong: str) -> None:
    """On the staff page the shopper who accepted the new offer is "the shopper", not "you"."""
    shopper, order_id = place_order(app)
    staff = staff_client(app, locale)
    arrive(staff, order_id)
    inspect(staff, order_id, display_glass="cracked")
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "accept"})
    history = staff.get(f"/staff/orders/{order_id}").text.split('class="history', 1)[1].split("</ol>", 1)[0]
    assert entry in visible(history)
    assert wrong not in visible(history)


# -- the questionnaire's hints fit the brand -----------------------------------------------------------------

BATTERY_HINTS = {
    ("de_DE", IPHONE): "Auf dem iPhone unter Einstellungen › Batterie › Batteriezustand.",
    ("de_DE", GALAXY): "Auf einem Samsung Galaxy unter Einstellungen › Akku › Akkuinformationen.",
    ("de_DE", PIXEL): "Viele Android-Smartphones zeigen ihn in den Akku-Einstellungen",
    ("en_GB", IPHONE): "Shown under Settings › Battery › Battery Health on the iPhone.",
    ("en_GB", GALAXY): "On a Samsung Galaxy, look under Settings › Battery › Battery information.",
    ("en_GB", PIXEL): "Many Android phones show it in the battery settings",
    ("fr_FR", IPHONE): "Sur l’iPhone, dans Réglages › Batterie › État de la batterie.",
    ("fr_FR", GALAXY): "Sur un Samsung Galaxy, dans Paramètres › Batterie › Informations sur la batterie.",
    ("fr_FR", PIXEL): "De nombreux téléphones Android l’indiquent dans les paramètres de la batterie",
}
LOCK_QUESTIONS = {
    IPHONE: ("ios", {"find_my_off"}),
    GALAXY: ("samsung", {"google_account_removed", "samsung_account_removed"}),
    PIXEL: ("android", {"google_account_removed"}),
}


def hints(page: str) -> dict[str, str]:
    """Each question's hint on a questionnaire page, by question id."""
    found: dict[str, str] = {}
    for block in page.split('<div class="question')[1:]:
        question = re.search(r'data-question="([a-z_]+)"', block)
        hint = re.search(r'<p class="q-help">(.*?)</p>', block, re.DOTALL)
        if question and hint:
            found[question.group(1)] = html.unescape(hint.group(1))
    return found


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("device", [IPHONE, GALAXY, PIXEL])
def test_the_questionnaire_asks_and_hints_for_the_devices_own_brand(
    app: Flask, locale: str, device: str
) -> None:
    """The platform is the brand's (not asked); its lock questions only; the battery hint names its path."""
    page = ShopClient(app, locale=locale).get(f"/trade-in/devices/{device}").text
    platform, locks = LOCK_QUESTIONS[device]
    assert re.findall(r'name="platform" value="([a-z]+)"', page) == [platform]
    asked = set(re.findall(r'data-question="([a-z_]+)"', page))
    assert asked & {"find_my_off", "google_account_removed", "samsung_account_removed"} == locks
    found = hints(page)
    assert found["battery_health"].startswith(BATTERY_HINTS[locale, device])
    if device != IPHONE:
        apple = r"iPhone|Apple|your name › Find My|Ihr Name|votre nom"
        assert not any(re.search(apple, hint) for hint in found.values()), found
    else:
        assert not any("Android" in hint or "Samsung" in hint for hint in found.values()), found


def test_a_watch_and_a_tablet_get_their_brands_questions_too(app: Flask) -> None:
    """A Galaxy Watch is not told about the Apple Watch's settings; an iPad is asked about Find My iPad."""
    client = ShopClient(app, locale="en_GB")
    watch = client.get("/trade-in/devices/samsung-galaxy-watch5-16gb").text
    assert re.findall(r'name="platform" value="([a-z]+)"', watch) == ["samsung"]
    assert not any("Apple" in hint or "iPhone" in hint for hint in hints(watch).values())
    ipad = client.get("/trade-in/devices/apple-ipad-9th-generation-64gb").text
    assert re.findall(r'name="platform" value="([a-z]+)"', ipad) == ["ipados"]
    assert 'data-question="find_my_off"' in ipad
    assert 'data-question="google_account_removed"' not in ipad


def test_the_server_keeps_the_brands_platform_whatever_the_form_says(app: Flask) -> None:
    """A Galaxy's form sent as "iOS" is still quoted as a Samsung, with the Samsung lock questions."""
    client = ShopClient(app, locale="en_GB")
    galaxy = {**example_answers("smartphone", "worn-samsung").answers, "platform": "ios", "find_my_off": True}
    quoted = client.post(f"/trade-in/devices/{GALAXY}", answers_form(galaxy))
    assert quoted.status_code == 302
    quote_id = quoted.location.rsplit("/", 1)[1]
    answers = shop_state(app).trade_in.get_quote(quote_id).quote.answers
    assert answers["platform"] == "samsung"
    assert "find_my_off" not in answers


# -- the order timeline --------------------------------------------------------------------------------------


def timeline(page: str, device: str = "d1") -> list[tuple[str, str]]:
    """A device's timeline on the order page: (state, its classes) for each step, in order."""
    section = page.split(f'data-device="{device}"', 1)[1]
    block = re.search(r'<ol class="timeline"[^>]*>(.*?)</ol>', section, re.DOTALL)
    assert block is not None
    steps = re.findall(r'<li class="([^"]*)" data-state="([a-z_]+)"', block.group(1))
    return [(state, classes) for classes, state in steps]


def test_the_timeline_starts_with_the_order_placed_and_greys_what_is_to_come(app: Flask) -> None:
    """Awaiting shipment: "Order placed" done with its date, the label current, the rest expected."""
    client, order_id = place_order(app)
    page = switch(client, "en_GB").get(f"/orders/{order_id}").text
    assert timeline(page) == [
        ("accepted", "done"),
        ("awaiting_shipment", "done current"),
        ("in_transit", "next"),
        ("received", "next"),
        ("inspected", "next"),
        ("confirmed", "next"),
        ("credited", "next"),  # the discount plan credits the purchase
    ]
    placed = page.split('data-state="accepted"', 1)[1].split("</li>", 1)[0]
    created = shop_state(app).trade_in.order(order_id).created_at
    assert f'datetime="{created.isoformat()}"' in placed
    assert "Order placed" in visible(placed)


def test_the_timeline_shows_a_revision_where_it_happened(app: Flask) -> None:
    """Received without a carrier scan, revised, accepted, credited: those steps in that order, no other."""
    shopper, order_id = place_order(app)
    staff = staff_client(app, "en_GB")
    arrive(staff, order_id)
    inspect(staff, order_id, display_glass="cracked")
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "accept"})
    staff.post(f"/staff/orders/{order_id}/devices/d1/settle")
    assert timeline(shopper.get(f"/orders/{order_id}").text) == [
        ("accepted", "done"),
        ("awaiting_shipment", "done"),
        ("received", "done"),
        ("inspected", "done"),
        ("revised", "done"),
        ("revision_accepted", "done"),
        ("credited", "done current"),
    ]


def test_the_timeline_of_a_paid_device_ends_with_paid(app: Flask) -> None:
    """Bank transfer: shipped, received, inspected, confirmed, paid; no revision, no step after paid."""
    shopper, order_id = place_order(app, plan="payout")
    staff = staff_client(app, "en_GB")
    shopper.post(f"/orders/{order_id}/devices/d1/shipped")
    arrive(staff, order_id)
    assert timeline(shopper.get(f"/orders/{order_id}").text) == [
        ("accepted", "done"),
        ("awaiting_shipment", "done"),
        ("in_transit", "done"),
        ("received", "done current"),
        ("inspected", "next"),
        ("confirmed", "next"),
        ("paid", "next"),
    ]
    inspect(staff, order_id)
    staff.post(f"/staff/orders/{order_id}/devices/d1/settle")
    steps = timeline(shopper.get(f"/orders/{order_id}").text)
    assert [state for state, _ in steps] == [
        "accepted",
        "awaiting_shipment",
        "in_transit",
        "received",
        "inspected",
        "confirmed",
        "paid",
    ]
    assert steps[-1] == ("paid", "done current")
    assert all(classes.startswith("done") for _, classes in steps)


MISMATCH_TEXTS = {
    "de_DE": (
        "Das Gerät ist als verloren oder gestohlen gemeldet, daher können wir es nicht ankaufen.",
        "bringen Sie bitte Ihren Kaufbeleg in unsere Filiale",
        "Aktivierungssperre oder Kontosperre ist noch aktiv, daher können wir das Gerät nicht ankaufen.",
        "Wir senden Ihnen das Gerät kostenlos zurück.",
        "Stattdessen kostenlos recyceln",
    ),
    "en_GB": (
        "The device is reported lost or stolen, so we cannot buy it.",
        "please bring your proof of purchase to our store",
        "Activation Lock or an account lock is still on, so we cannot buy the device.",
        "We will send the device back to you free of charge.",
        "Recycle it for free instead",
    ),
    "fr_FR": (
        "L’appareil est déclaré perdu ou volé, nous ne pouvons donc pas le racheter.",
        "apportez votre preuve d’achat dans notre boutique",
        "Le verrouillage d’activation ou un verrouillage de compte est encore actif",
        "Nous vous renvoyons l’appareil gratuitement.",
        "Le faire recycler gratuitement",
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_device_that_does_not_match_says_what_happens_next(app: Flask, locale: str) -> None:
    """Blocklisted: why and what its owner may do (not recycling); a lock: it comes back, or recycle."""
    blocklisted, to_do, lock, back, recycle = MISMATCH_TEXTS[locale]
    staff = staff_client(app, locale)
    shopper, stolen = place_order(app)
    arrive(staff, stolen)
    inspect(staff, stolen, blocklist_status="listed")
    page = switch(shopper, locale).get(f"/orders/{stolen}").text
    words = visible(page)
    device_section = page.split('data-testid="mismatch-d1"', 1)[1].split("</section>", 1)[0]
    assert "<tfoot>" not in device_section  # what was found, but no "new offer" of 0 €
    assert blocklisted in words
    assert to_do in words
    assert reference_of(stolen) in words
    assert recycle not in words

    shopper, locked = place_order(app)
    arrive(staff, locked)
    inspect(staff, locked, find_my_off=False)
    page = switch(shopper, locale).get(f"/orders/{locked}").text
    words = visible(page)
    assert lock in words
    assert back in words
    assert recycle in words
    assert shopper.post(f"/orders/{locked}/devices/d1/recycle").status_code == 302
    assert shop_state(app).trade_in.order(locked).device("d1").state is DeviceState.RECYCLED


def test_another_session_cannot_recycle_a_device(app: Flask) -> None:
    """Recycling is the order's shopper's choice: another session gets 404."""
    staff = staff_client(app, "en_GB")
    _, order_id = place_order(app)
    arrive(staff, order_id)
    inspect(staff, order_id, find_my_off=False)
    assert ShopClient(app).post(f"/orders/{order_id}/devices/d1/recycle").status_code == 404
    assert shop_state(app).trade_in.order(order_id).device("d1").state is DeviceState.MISMATCH


# -- no inline event handlers --------------------------------------------------------------------------------


def test_no_template_has_an_inline_event_handler(app: Flask) -> None:
    """Handlers live in shop.js; the policy allows the shop's own scripts only, without 'unsafe-hashes'."""
    for template in sorted(TEMPLATES.glob("*.html")):
        assert not re.search(r"\son[a-z]+\s*=", template.read_text(encoding="utf-8")), template.name
    client = ShopClient(app)
    client.login_staff()
    for url in ("/", "/staff/"):
        policy = client.get(url).headers["Content-Security-Policy"]
        assert "'unsafe-hashes'" not in policy
        assert "sha256-" not in policy
    assert "data-submit-on-change" in client.get("/staff/").text
