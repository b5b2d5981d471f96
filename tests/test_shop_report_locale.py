"""The inspection report ("What we found") is shown in the reader's language, not the one it was made in.

A report keeps the question ids, the raw answers and the mismatch codes; the order pages render them in the
page's locale (questions and answer labels from the questionnaire rendered in that locale, the sentence and
the mismatches from the shop's texts). A report stored before it kept them is shown as stored.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import attrs
import pytest

from examples.flask_shop.records import InspectionReport, ReportLine
from examples.flask_shop.testing import ShopClient, shop_state
from tests.test_shop_backoffice import arrive, inspect, place_order
from tradein_sdk import Money

if TYPE_CHECKING:
    from flask import Flask

GERMAN = (
    "Wie sieht das Displayglas aus?",
    "Gesprungenes oder zersplittertes Glas",
    "Keinerlei Spuren",
    "Angegeben:",
    "Bei der Prüfung festgestellt",
    "Dadurch sinkt",
    "Lautsprecher",
)
ENGLISH = (
    "What does the display glass look like?",
    "No marks at all",
    "Cracked or shattered glass",
    "Does any of these not work properly?",
    "None of these",
    "Front camera and Loudspeaker",
    "What colour is the liquid contact indicator?",
    "not declared",
    "Checked at inspection: we found “Red or pink: triggered”. This does not change the value.",
    "You declared “No marks at all”; we found “Cracked or shattered glass”. This lowers the value by",
)
FRENCH = (
    "Dans quel état est le verre de l’écran\u00a0?",
    (
        "Vous avez déclaré «\u00a0Aucune trace\u00a0»\u00a0; "
        "nous avons constaté «\u00a0Verre fissuré ou brisé\u00a0»."
    ),
    "La valeur baisse donc de",
    "Caméra avant et Haut-parleur",
    "non déclaré",
)


def report_block(page: str) -> str:
    """The text of the page's inspection report (unescaped), failing when the page has none."""
    found = re.search(r'<div class="report">.*?</ul>\s*</div>', page, flags=re.DOTALL)
    assert found is not None, "the page shows no inspection report"
    return html.unescape(found.group(0))


def switch(client: ShopClient, locale: str) -> ShopClient:
    """The same session, now in ``locale``."""
    client.get("/", query_string={"lang": locale})
    return client


@pytest.fixture
def inspected(app: Flask) -> tuple[ShopClient, ShopClient, str]:
    """An order quoted and inspected in German: cracked glass, two faults, a triggered liquid indicator."""
    shopper, order_id = place_order(app)
    staff = ShopClient(app)
    staff.login_staff()
    arrive(staff, order_id)
    found = {
        "display_glass": "cracked",
        "faults": ["loudspeaker", "front_camera"],
        "liquid_indicator": "triggered",
    }
    inspect(staff, order_id, **found)
    return shopper, staff, order_id


def test_a_report_made_in_german_reads_in_english_and_french(
    app: Flask, inspected: tuple[ShopClient, ShopClient, str]
) -> None:
    """The shopper's and staff's order pages show the report in the page's language, with no German left."""
    shopper, staff, order_id = inspected
    report = shop_state(app).records.reports(order_id)["d1"]
    glass = next(line for line in report.lines if line.question_id == "display_glass")
    assert glass.declared_answer == "flawless"
    assert glass.found_answer == "cracked"
    assert (
        "Gesprungenes oder zersplittertes Glas" in glass.found
    )  # stored as rendered, in the quote's language
    for client, url in ((shopper, f"/orders/{order_id}"), (staff, f"/staff/orders/{order_id}")):
        english = report_block(switch(client, "en_GB").get(url).text)
        for expected in ENGLISH:
            assert expected in english
        assert f"by {abs(glass.impact).format('en_GB')}." in english
        french = report_block(switch(client, "fr_FR").get(url).text)
        for expected in FRENCH:
            assert expected in french
        assert f"de {abs(glass.impact).format('fr_FR')}." in french
        for page in (english, french):
            for german in GERMAN:
                assert german not in page


def test_a_report_still_reads_in_german(inspected: tuple[ShopClient, ShopClient, str]) -> None:
    """In German the page shows the German question, answers and sentence."""
    shopper, staff, order_id = inspected
    for client, url in ((shopper, f"/orders/{order_id}"), (staff, f"/staff/orders/{order_id}")):
        german = report_block(switch(client, "de_DE").get(url).text)
        assert "Wie sieht das Displayglas aus?" in german
        assert "Keinerlei Spuren" in german
        assert "Gesprungenes oder zersplittertes Glas" in german
        assert "Sie haben „Keinerlei Spuren“ angegeben" in german
        assert "Dadurch sinkt der Wert um" in german
        assert "What does the display glass look like?" not in german


def test_mismatches_are_shown_in_the_page_language(app: Flask) -> None:
    """A mismatch found in German (the lock is still on) reads in English on the staff page."""
    _, order_id = place_order(app)
    staff = ShopClient(app)
    staff.login_staff()
    arrive(staff, order_id)
    inspect(staff, order_id, find_my_off=False)
    report = shop_state(app).records.reports(order_id)["d1"]
    assert report.mismatch_reasons == ("lock_not_removable",)
    english = report_block(switch(staff, "en_GB").get(f"/staff/orders/{order_id}").text)
    assert "Activation Lock or an account lock is still on, so we cannot buy the device." in english
    assert report.mismatches[0] not in english  # the library's German text, as stored
    assert "Is Find My iPhone turned off?" in english


def test_a_report_stored_without_ids_is_shown_as_stored(
    app: Flask, inspected: tuple[ShopClient, ShopClient, str]
) -> None:
    """An older report (texts only, no ids or codes) still reads, as it was stored."""
    shopper, _, order_id = inspected
    records = shop_state(app).records
    old = {
        "quoted": Money("300", "EUR").to_json(),
        "revised_offer": Money("200", "EUR").to_json(),
        "lines": [
            {
                "question": "Wie sieht das Displayglas aus?",
                "declared": "Keinerlei Spuren",
                "found": "Alter Text",
                "impact": Money("-100", "EUR").to_json(),
                "explanation": "Angegeben: Keinerlei Spuren. Dadurch sinkt der Wert um 100,00 €.",
            }
        ],
        "mismatches": ["Alter Hinweis"],
    }
    stored = InspectionReport.from_json(old)
    assert stored.lines[0].question_id is None
    assert InspectionReport.from_json(stored.to_json()) == stored
    records.add_report(order_id, "d1", stored, now=shop_state(app).trade_in.clock.now())
    english = report_block(switch(shopper, "en_GB").get(f"/orders/{order_id}").text)
    assert "Alter Text" in english
    assert "Angegeben: Keinerlei Spuren. Dadurch sinkt der Wert um 100,00 €." in english
    assert "Alter Hinweis" in english


def test_the_stored_form_round_trips_answers() -> None:
    """Ids, answers (a tuple of options stays a tuple), codes and category survive storage."""
    line = ReportLine(
        question="Q",
        declared="A",
        found="B",
        impact=Money("-5", "EUR"),
        explanation="E",
        question_id="faults",
        declared_answer=(),
        found_answer=("loudspeaker",),
    )
    report = InspectionReport(
        quoted=Money("10", "EUR"),
        revised_offer=Money("5", "EUR"),
        lines=(line, attrs.evolve(line, question_id="powers_on", declared_answer=True, found_answer=None)),
        mismatches=("text",),
        mismatch_reasons=("blocklisted",),
        quote_id="q1",
        category="smartphone",
    )
    assert InspectionReport.from_json(report.to_json()) == report
