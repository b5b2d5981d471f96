"""Texts a reviewer of the demo shop saw wrong: French first days, English euro amounts, the CO2 note."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest

from grading_questionnaire._i18n import translate
from tradein_sdk._domain.co2 import SCOPE3_NOTES, CO2Factors, co2_report_document
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.promotions import format_param
from tradein_sdk._resources import DATA_DIR

# -- 1. French long dates say « 1er » ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "day", "expected"),
    [
        ("fr", date(2027, 2, 1), "1er février 2027"),
        ("fr_FR", date(2027, 2, 1), "1er février 2027"),
        ("fr_CH", date(2027, 2, 1), "1er février 2027"),
        ("fr", date(2027, 2, 2), "2 février 2027"),
        ("fr", date(2027, 2, 11), "11 février 2027"),
        ("fr", date(2027, 2, 21), "21 février 2027"),
        ("de", date(2027, 2, 1), "1. Februar 2027"),
        ("de", date(2027, 2, 2), "2. Februar 2027"),
        ("en", date(2027, 2, 1), "February 1, 2027"),
        ("en", date(2027, 2, 2), "February 2, 2027"),
    ],
)
def test_long_date_writes_the_french_first_day_as_1er(locale: str, day: date, expected: str) -> None:
    """Day 1 is « 1er » in French only, and only the day: 2, 11 and 21 stay as they are."""
    assert long_date(day, locale) == expected


def test_medium_french_date_also_says_1er() -> None:
    """The medium form (a guarantee schedule) follows the same rule."""
    assert long_date(date(2027, 2, 1), "fr", width="medium") == "1er févr. 2027"
    assert long_date(date(2027, 2, 1), "de", width="medium") == "01.02.2027"


def test_promotion_explanation_says_1er_in_french() -> None:
    """A promotion not yet available starts « le 1er février 2027 »."""
    assert format_param(date(2027, 2, 1), "fr_FR", ()) == "1er février 2027"
    text = translate(
        "Not available yet: the offer starts on {date}.", "fr_FR", date=long_date(date(2027, 2, 1), "fr")
    )
    assert "le 1er février 2027" in text


# -- 2. an English text writes €200 ------------------------------------------------------------------------


def _titles() -> list[str]:
    document = json.loads((DATA_DIR / "promotions" / "example-de.json").read_text(encoding="utf-8"))
    return [promotion["title"] for promotion in document["promotions"]]


def test_english_promotion_titles_put_the_euro_sign_first() -> None:
    """The example promotions' English titles write €200 and 10%, not 200 € or 10 %."""
    titles = _titles()
    assert "At least €200 for any iPhone 12 or newer in grade good or better with a contract" in titles
    assert not [title for title in titles if re.search(r"\d\s[€%]", title)]


@pytest.mark.parametrize(
    ("locale", "amount"),
    [
        ("de_DE", "mindestens 200 €"),
        ("fr_FR", "200 €"),
        ("es_ES", "200 €"),
        ("it_IT", "200 €"),
        ("en", "€200"),
    ],
)
def test_each_language_keeps_its_own_euro_form(locale: str, amount: str) -> None:
    """The catalogs translate the new English title, each in its own form of the amount."""
    title = "At least €200 for any iPhone 12 or newer in grade good or better with a contract"
    translated = translate(title, locale)
    assert amount in translated.replace("\u00a0", " ").replace("\u202f", " ").lower()
    if locale != "en":
        assert translated != title


# -- 3. the CO2 report's avoided-emissions note is translated ----------------------------------------------


def _report(locale: str) -> dict[str, object]:
    return co2_report_document(
        [],
        factors=CO2Factors.bundled(),
        company="Beispiel Handel GmbH",
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        generated_at=datetime(2027, 1, 2, 9, 0, tzinfo=UTC),
        locale=locale,
    )


@pytest.mark.parametrize(
    ("locale", "word"), [("de_DE", "Vermiedene Emissionen"), ("fr_FR", "Les émissions évitées")]
)
def test_co2_report_note_is_translated(locale: str, word: str) -> None:
    """The avoided-emissions note is in the report's language."""
    note = _report(locale)["avoided_emissions"]["note"]  # type: ignore[index]
    assert note.startswith(word)
    assert note != SCOPE3_NOTES["avoided_emissions"]


def test_co2_report_note_stays_english_in_english() -> None:
    """In English the note is the domain's own text (the PDF recognises it)."""
    assert _report("en")["avoided_emissions"]["note"] == SCOPE3_NOTES["avoided_emissions"]  # type: ignore[index]
