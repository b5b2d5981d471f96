"""Library texts a shop shows: amounts, rounding, the insurer, the label, storage sizes, order references.

Each text is checked in German, English and French (where its wording differs), with Babel's CLDR forms: a
no-break space (U+00A0) or a narrow one (U+202F) where the locale puts one.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from grading_questionnaire import example_answers, load_questionnaire
from tradein_sdk import (
    Catalog,
    CheckoutRequest,
    ConfigurationError,
    DeviceCategory,
    DeviceState,
    DeviceVariant,
    Money,
    NewDevice,
    PlanCatalogOfferSource,
    PurchaseCondition,
    ReceivingAddress,
    ShippingLabel,
    TrackingEvent,
    TrackingStatus,
    format_storage,
    order_id_from_reference,
    order_reference,
    parse_pricebook,
    value_device,
)
from tradein_sdk._domain.pricing import ValuationLine
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from tradein_sdk import TradeIn

NBSP, NNBSP = "\u00a0", "\u202f"
OUTRIGHT = NewDevice(
    sku="CASE-165",
    name="Fairphone 5",
    brand="Fairphone",
    category="smartphone",
    price=Money("165.00", "EUR"),
)


# -- a. the checkout's amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de_DE", ("Neues Gerät: Fairphone 5", f"165,00{NBSP}€")),
        ("en", ("New device: Fairphone 5", "€165.00")),
        ("fr_FR", (f"Nouvel appareil{NBSP}: Fairphone 5", f"165,00{NBSP}€")),
    ],
    ids=["de", "en", "fr"],
)
def test_the_checkout_review_formats_its_amounts_for_the_locale(
    trade_in: TradeIn, locale: str, expected: tuple[str, str]
) -> None:
    """Every line's amount, and every amount in a line, is Babel's currency format, never ``165.00 EUR``."""
    summary = trade_in.checkout(CheckoutRequest(quote_ids=(), new_device=OUTRIGHT, locale=locale))
    described = summary.describe()
    assert described[0] == expected
    assert all("EUR" not in text and "EUR" not in amount for text, amount in described)


# -- b. the rounding line of a quote ----------------------------------------------------------------------


def _valued(rounding: dict[str, str]) -> ValuationLine | None:
    """The rounding line of a worn iPhone 13 on the German book, with ``rounding`` instead of its own."""
    document = json.loads((DATA_DIR / "pricebooks" / "reference-de.json").read_text(encoding="utf-8"))
    book = parse_pricebook({**document, "rounding": rounding})
    entry = Catalog.bundled().lookup("apple-iphone-13-128gb")
    assert entry.variant is not None
    report = load_questionnaire("smartphone").evaluate(dict(example_answers("smartphone", "worn").answers))
    valuation = value_device(
        book, model=entry.model, variant=entry.variant, report=report, as_of=date(2026, 12, 4)
    )
    return next((line for line in valuation.lines if line.code == "rounding"), None)


@pytest.mark.parametrize(
    ("rounding", "texts"),
    [
        (
            {"increment": "1", "mode": "down"},
            {
                "en": "Rounded down to whole euros",
                "de_DE": "Auf volle Euro abgerundet",
                "fr_FR": "Arrondi vers le bas en euros entiers",
            },
        ),
        (
            {"increment": "5", "mode": "down"},
            {
                "en": "Rounded down to a multiple of €5",
                "de_DE": f"Auf ein Vielfaches von 5{NBSP}€ abgerundet",
                "fr_FR": f"Arrondi vers le bas à un multiple de 5{NBSP}€",
            },
        ),
        (
            {"increment": "5", "mode": "up"},
            {
                "en": "Rounded up to a multiple of €5",
                "de_DE": f"Auf ein Vielfaches von 5{NBSP}€ aufgerundet",
                "fr_FR": f"Arrondi vers le haut à un multiple de 5{NBSP}€",
            },
        ),
        (
            {"increment": "0.5", "mode": "half_up"},
            {
                "en": "Rounded to the nearest multiple of €0.50",
                "de_DE": f"Auf das nächste Vielfache von 0,50{NBSP}€ gerundet",
                "fr_FR": f"Arrondi au multiple de 0,50{NBSP}€ le plus proche",
            },
        ),
    ],
    ids=["whole-euros-down", "five-down", "five-up", "half-euro-nearest"],
)
def test_the_rounding_line_reads_naturally_with_its_amount_formatted(
    rounding: dict[str, str], texts: dict[str, str]
) -> None:
    """Not "Rounded to a multiple of 1": the direction and the increment as money, in the shopper's words."""
    line = _valued(rounding)
    assert line is not None
    assert {locale: line.describe(locale) for locale in texts} == texts


def test_a_stored_rounding_line_of_the_old_wording_still_shows_its_increment_as_money() -> None:
    """A quote kept from before keeps its line; shown, its increment is money, in the shopper's language."""
    line = ValuationLine(
        code="rounding",
        message_id="Rounded to a multiple of {increment}",
        params={"increment": "5"},
        amount=Money("-0.92", "EUR"),
    )
    assert line.describe("de_DE") == f"Auf ein Vielfaches von 5{NBSP}€ gerundet"


def test_a_quote_explains_its_rounding_and_storage_in_the_shoppers_language(trade_in: TradeIn) -> None:
    """The bundled German book rounds down to whole euros; the launch line names the storage per locale."""
    quote = trade_in.quote("apple-iphone-13-128gb", dict(example_answers("smartphone", "worn").answers)).quote
    french = {line.code: line.text for line in trade_in.explain(quote, "fr_FR")}
    english = {line.code: line.text for line in trade_in.explain(quote, "en")}
    assert english["rounding"] == "Rounded down to whole euros"
    assert french["rounding"] == "Arrondi vers le bas en euros entiers"
    assert english["launch_price"] == "Launch price of the 128 GB model"
    assert f"128{NNBSP}Go" in french["launch_price"]


# -- c. the insurer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Insurer: Example Versicherung AG (example only)"),
        ("de_DE", "Versicherer: Example Versicherung AG (nur ein Beispiel)"),
        ("fr_FR", f"Assureur{NBSP}: Example Versicherung AG (exemple uniquement)"),
        ("es", "Aseguradora: Example Versicherung AG (solo un ejemplo)"),
        ("it", "Compagnia assicurativa: Example Versicherung AG (solo un esempio)"),
    ],
    ids=["en", "de", "fr", "es", "it"],
)
def test_the_example_insurer_says_it_is_an_example_in_the_shoppers_language(
    locale: str, expected: str
) -> None:
    """The insurer's name is a name; that the plans are examples is a translated remark beside it."""
    (offer, *_) = PlanCatalogOfferSource.example().offers(
        category=DeviceCategory.SMARTPHONE,
        device_price=Money("499.00", "EUR"),
        condition=PurchaseCondition.NEW,
        country="DE",
        purchased_on=date(2026, 12, 4),
        today=date(2026, 12, 4),
        with_trade_in=False,
    )
    assert offer.insurer == "Example Versicherung AG"
    (text,) = [text.render(locale) for text in offer.texts if text.code == "insurer"]
    assert text == expected


# -- d. the shipping label's country ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "country"), [("de_DE", "Deutschland"), ("en", "Germany"), ("fr_FR", "Allemagne")]
)
def test_the_label_names_the_country_in_the_labels_language(locale: str, country: str) -> None:
    """The receiving address gives an ISO code; the label prints the country's name from CLDR."""
    address = ReceivingAddress(
        name="Phone Shop GmbH – Ankauf", lines=("Ankaufstraße 1", "10115 Berlin"), country="DE"
    )
    assert address.printed_lines(locale) == (
        "Phone Shop GmbH – Ankauf",
        "Ankaufstraße 1",
        "10115 Berlin",
        country,
    )
    label = ShippingLabel(
        order_ref="TI-0000-0000-0000-0001",
        send_by=datetime(2026, 12, 18, tzinfo=UTC),
        ship_to=address,
        devices=(),
        barcode_svg="<svg></svg>",
    )
    page = label.to_html(locale)
    assert f"10115 Berlin<br>{country}</div>" in page
    assert ("Germany" in page) is (country == "Germany")


def test_a_country_code_must_be_one_cldr_knows() -> None:
    """A typo in the code is refused when the address is made, not printed as a wrong country."""
    with pytest.raises(ConfigurationError, match="country"):
        ReceivingAddress(name="Shop", lines=("Street 1",), country="XX")
    assert ReceivingAddress(name="Shop", lines=("Street 1",), country="de").country == "DE"
    assert ReceivingAddress(name="Shop", lines=("Street 1",)).printed_lines("fr") == ("Shop", "Street 1")


# -- e. storage sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage_gb", "locale", "expected"),
    [
        (128, "en", "128 GB"),
        (1024, "en", "1 TB"),
        (128, "de_DE", f"128{NBSP}GB"),
        (2048, "de_DE", "2 TB"),
        (128, "fr_FR", f"128{NNBSP}Go"),
        (1024, "fr", f"1{NNBSP}To"),
        (1536, "fr", f"1{NNBSP}536{NNBSP}Go"),
        (256, "es", "256 GB"),
        (64, "it", "64 GB"),
    ],
)
def test_storage_is_formatted_for_the_locale(storage_gb: int, locale: str, expected: str) -> None:
    """CLDR's short units: French says Go and To; a whole number of TB is shown in TB."""
    assert format_storage(storage_gb, locale) == expected


def test_a_variant_and_an_entry_read_in_the_shoppers_language_and_keep_their_ids() -> None:
    """Ids and ``storage_label`` stay as they are; the localized forms are beside them."""
    entry = Catalog.bundled().lookup("apple-iphone-13-128gb")
    assert entry.variant is not None
    assert entry.id == "apple-iphone-13-128gb"
    assert entry.variant.storage_label == "128 GB"
    assert entry.variant.localized_storage("fr_FR") == f"128{NNBSP}Go"
    assert entry.localized_name("fr_FR") == f"Apple iPhone 13 128{NNBSP}Go"
    assert entry.localized_name("en") == "Apple iPhone 13 128 GB"
    assert Catalog.bundled().lookup("apple-iphone-13").localized_name("fr") == "Apple iPhone 13"
    assert DeviceVariant(id="x-1tb", storage_gb=1024).localized_storage("en") == "1 TB"


# -- f. the order reference ------------------------------------------------------------------------------


def test_an_orders_reference_is_short_grouped_and_leads_back_to_the_order() -> None:
    """``ord_`` + 20 hex digits (80 bits) is 16 Crockford base-32 characters in four groups, and back."""
    order_id = "ord_3f9a0c1b77d011abc3e4"
    reference = order_reference(order_id)
    assert re.fullmatch(r"TI-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", reference)
    assert reference == "TI-7YD0-R6VQ-T08T-QGZ4"
    assert reference == order_reference(order_id)  # stable
    assert order_id_from_reference(reference) == order_id
    typed = reference.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert order_id_from_reference(typed) == order_id  # as a shopper reads it out or types it
    assert order_reference("ord_00000000000000000000") == "TI-0000-0000-0000-0000"
    assert order_reference("ord_ffffffffffffffffffff") == "TI-ZZZZ-ZZZZ-ZZZZ-ZZZZ"


@pytest.mark.parametrize(
    "order_id", ["ord_1", "ord_3F9A0C1B77D011ABC3E4", "shop_42", "ord_3f9a0c1b77d011abc3e"]
)
def test_another_id_keeps_the_labels_earlier_form(order_id: str) -> None:
    """An id the library did not make is printed as labels printed it (``ORD-1``), and read back."""
    reference = order_reference(order_id)
    assert reference == order_id.upper().replace("_", "-")
    assert order_id_from_reference(reference) == order_id.lower()


def test_every_reference_of_a_random_id_leads_back() -> None:
    """Round trip over many ids (the encoding is a bijection on 80 bits)."""
    for number in range(0, 2**80, 2**80 // 997):
        order_id = f"ord_{number:020x}"
        assert order_id_from_reference(order_reference(order_id)) == order_id


def test_the_label_prints_the_reference_and_carrier_news_names_it_or_the_earlier_form(
    trade_in: TradeIn, start: datetime
) -> None:
    """One form on the label and in its barcode; tracking reads it, and the ``ORD-...`` of earlier labels."""
    order = trade_in.accept(
        [trade_in.quote("apple-iphone-13-128gb", dict(example_answers("smartphone", "worn").answers)).token]
    )
    label = trade_in.issue_label(order.id)
    assert label.order_ref == order_reference(order.id)
    assert label.order_ref.startswith("TI-")
    assert f"<strong>{label.order_ref}</strong>" in label.to_html("de_DE")
    scan = TrackingEvent(
        event_id="dhl-1", order_ref=label.order_ref, status=TrackingStatus.HANDED_OVER, at=start
    )
    assert trade_in.record_tracking(scan).device("d1").state is DeviceState.IN_TRANSIT
    earlier = order.id.upper().replace("_", "-")
    delivered = TrackingEvent(event_id="dhl-2", order_ref=earlier, status=TrackingStatus.DELIVERED, at=start)
    assert trade_in.record_tracking(delivered).device("d1").state is DeviceState.RECEIVED
