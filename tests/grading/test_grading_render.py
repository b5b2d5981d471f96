"""Tests for grading_questionnaire._render: the questionnaire as a translated document for frontends."""

from __future__ import annotations

import json

import pytest

import grading_questionnaire as gq
from grading_questionnaire import Audience
from grading_questionnaire._schemas import schema_problems

CATEGORIES = ("smartphone", "smartwatch", "tablet")
LOCALES = ("de", "en", "es", "fr", "it")


@pytest.mark.parametrize("audience", list(Audience), ids=[audience.value for audience in Audience])
@pytest.mark.parametrize("locale", LOCALES, ids=LOCALES)
@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
def test_rendered_document_matches_its_schema(category: str, locale: str, audience: Audience) -> None:
    """Every bundled questionnaire renders valid documents in every shipped locale, for both audiences."""
    document = gq.load_questionnaire(category).render(locale, audience=audience).to_json()
    assert schema_problems("rendered-questionnaire", json.loads(json.dumps(document))) == []


def test_shopper_rendering_leaves_out_staff_checks() -> None:
    """A shopper's rendering has no staff-only question and drops the section of store checks."""
    questionnaire = gq.load_questionnaire("smartphone")
    shopper = questionnaire.render("en")
    shown = [question.id for section in shopper.sections for question in section.questions]
    assert "blocklist_status" not in shown
    assert "liquid_indicator" not in shown
    assert "checks" not in [section.id for section in shopper.sections]
    staff = questionnaire.render("en", audience=Audience.STAFF)
    staff_shown = [question.id for section in staff.sections for question in section.questions]
    assert staff_shown == [question.id for question in questionnaire.questions]
    assert [q.id for q in staff.sections[-1].questions if q.staff_only] == [
        "blocklist_status",
        "authenticity",
    ]


def test_rendered_document_names_the_questionnaire_and_locale() -> None:
    """The document records the questionnaire's id, version, hash, and the locale and audience rendered."""
    questionnaire = gq.load_questionnaire("tablet")
    document = questionnaire.render("fr-FR").to_json()
    assert document["questionnaire"] == {
        "id": "tablet-condition",
        "version": questionnaire.version,
        "category": "tablet",
        "content_hash": questionnaire.content_hash,
    }
    assert (document["locale"], document["audience"]) == ("fr_FR", "shopper")


def test_yes_no_question_offers_true_and_false() -> None:
    """A yes/no question is rendered with the answer values true and false and translated labels."""
    rendered = gq.load_questionnaire("smartphone").render("it")
    question = rendered.sections[0].questions[1].to_json()
    assert question["id"] == "powers_on"
    assert question["options"] == [{"value": True, "label": "Sì"}, {"value": False, "label": "No"}]


def test_choice_question_offers_option_ids_with_help_and_conditions() -> None:
    """Choice options carry their ids as values; show_if travels as the definition states it."""
    rendered = gq.load_questionnaire("smartphone").render("es")
    document = rendered.to_json()
    defects = document["sections"][1]["questions"][1]
    assert defects["id"] == "display_defects"
    assert defects["show_if"] == {"question": "powers_on", "is": True}
    assert [option["value"] for option in defects["options"]] == [
        "dead_pixels",
        "burn_in",
        "discoloration",
        "touch",
    ]
    assert defects["help"].startswith("Compruébelo")


def test_number_question_carries_its_range() -> None:
    """A number question is rendered with its range, whole-number flag and unit, and no options."""
    document = gq.load_questionnaire("smartphone").render("en").to_json()
    (question,) = [q for s in document["sections"] for q in s["questions"] if q["id"] == "battery_health"]
    assert question["number"] == {"minimum": 0, "maximum": 100, "integer": True, "unit": "percent"}
    assert "options" not in question
    assert question["required"] is False


def test_pricing_grades_and_findings_are_translated_in_order() -> None:
    """The document lists pricing grades best to worst and every finding with its knockout code."""
    rendered = gq.load_questionnaire("smartphone").render("de").to_json()
    assert [grade["id"] for grade in rendered["pricing_grades"]] == [
        "excellent",
        "good",
        "fair",
        "damaged",
        "faulty",
    ]
    assert rendered["pricing_grades"][0]["label"] == "Hervorragend"
    findings = {finding["id"]: finding for finding in rendered["findings"]}
    assert findings["activation_lock"]["knockout"] == "activation_lock_on"
    assert findings["display_cracked"] == {
        "id": "display_cracked",
        "message": "Das Displayglas ist gesprungen.",
    }


def test_unknown_locale_is_refused() -> None:
    """A locale Babel does not know raises UnknownLocaleError."""
    with pytest.raises(gq.UnknownLocaleError) as caught:
        gq.load_questionnaire("smartphone").render("xx-nowhere")
    assert caught.value.code == "unknown_locale"
    assert caught.value.locale == "xx-nowhere"


def test_locale_without_catalog_falls_back_to_english() -> None:
    """A valid locale without a catalog (Polish) gets the English texts."""
    rendered = gq.load_questionnaire("smartphone").render("pl")
    assert rendered.title == "Condition of your smartphone"
    assert rendered.locale == "pl"


def test_rendering_is_cached_per_locale_and_audience() -> None:
    """Rendering twice in the same locale and audience gives the same object; another locale another one."""
    questionnaire = gq.load_questionnaire("smartwatch")
    assert questionnaire.render("de") is questionnaire.render("de")
    assert questionnaire.render("de") is not questionnaire.render("de", audience=Audience.STAFF)
    assert questionnaire.render("de").content_hash != questionnaire.render("fr").content_hash


def test_transcript_records_what_the_shopper_saw() -> None:
    """The transcript pairs each answered question's text with the answer as shown, in the shown language."""
    questionnaire = gq.load_questionnaire("smartphone")
    report = questionnaire.evaluate(gq.example_answers("smartphone", "worn-samsung").answers)
    transcript = {entry.question: entry for entry in questionnaire.render("de").transcript(report.answers)}
    assert list(transcript) == list(report.answers)
    assert transcript["display_glass"].text == "Wie sieht das Displayglas aus?"
    assert (
        transcript["display_glass"].answer_text
        == "Leichte Kratzer, bei eingeschaltetem Bildschirm unsichtbar"
    )
    assert transcript["battery_health"].answer_text == "78\xa0%"
    assert transcript["powers_on"].answer_text == "Ja"
    assert transcript["faults"].answer_text == "Nichts davon"
    assert transcript["platform"].to_json() == {
        "question": "platform",
        "text": "Welches Betriebssystem läuft auf dem Gerät?",
        "answer": "samsung",
        "answer_text": "Android auf einem Samsung Galaxy",
    }


def test_transcript_joins_several_choices_and_skips_unrendered_questions() -> None:
    """Several choices are joined in option order; answers to questions not in the rendering are left out."""
    questionnaire = gq.load_questionnaire("smartphone")
    answers = gq.example_answers("smartphone", "store-inspected").answers | {
        "faults": ["vibration", "buttons"]
    }
    report = questionnaire.evaluate(answers, verification=gq.VerificationDepth.STAFF_VERIFIED)
    entries = questionnaire.render("en").transcript(report.answers)
    by_id = {entry.question: entry for entry in entries}
    assert by_id["faults"].answer == ("buttons", "vibration")
    assert by_id["faults"].answer_text == "Buttons (power, volume, mute switch); Vibration"
    assert "blocklist_status" not in by_id  # a staff check is not in the shopper's rendering
    staff_entries = questionnaire.render("en", audience=Audience.STAFF).transcript(report.answers)
    assert "blocklist_status" in {entry.question for entry in staff_entries}


def test_transcript_formats_plain_numbers() -> None:
    """A number without the percent unit is formatted as a localized decimal."""
    document = gq.load_questionnaire("smartphone").to_json()
    (question,) = [q for s in document["sections"] for q in s["questions"] if q["id"] == "battery_health"]
    question["number"] = {"minimum": 0, "maximum": 5000, "unit": "cycles"}
    question["text"] = "How many charge cycles?"
    question["worse"] = "higher"
    for rule in document["grading"]["rules"]:
        if rule["id"] == "battery_worn_out":
            rule["when"] = {"question": "battery_health", "greater_than": 1000}
    questionnaire = gq.build_questionnaire(document)
    entries = questionnaire.render("de").transcript({"battery_health": 1234.5})
    assert entries[0].answer_text == "1.234,5"
