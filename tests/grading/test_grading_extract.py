"""Tests for grading_questionnaire._extract: the Babel extractor for questionnaire definitions."""

from __future__ import annotations

import io
import json

import pytest
from babel.messages.extract import extract

import grading_questionnaire as gq
from grading_questionnaire._definition import DEFINITIONS_DIR

METHOD = "grading_questionnaire:extract_questionnaire_messages"


def _extract(text: str) -> list[tuple[int, str, list[str]]]:
    return [
        (lineno, str(message), comments)
        for lineno, message, comments, _ in extract(METHOD, io.BytesIO(text.encode("utf-8")))
    ]


def test_every_text_field_is_extracted_with_its_line_and_a_translator_comment() -> None:
    """Titles, questions, help, options, findings and grade labels come out with line numbers and context."""
    document = {
        "id": "mini",
        "title": "Mini check",
        "description": "Two questions.",
        "sections": [
            {
                "id": "s",
                "title": "Only section",
                "questions": [
                    {
                        "id": "q",
                        "kind": "single_choice",
                        "text": "How is it?",
                        "help": "Be honest.",
                        "options": [
                            {"id": "ok", "label": "Fine", "help": "No marks."},
                            {"id": "bad", "label": "Bad"},
                        ],
                    }
                ],
            }
        ],
        "grading": {
            "rules": [{"id": "r", "message": "It is bad.", "when": {}, "set": {}}],
            "pricing_grades": [{"id": "g", "label": "Any", "description": "Everything.", "at_worst": {}}],
        },
    }
    text = json.dumps(document, indent=2)
    found = _extract(text)
    messages = [message for _, message, _ in found]
    assert messages == [
        "Mini check",
        "Two questions.",
        "Only section",
        "How is it?",
        "Be honest.",
        "Fine",
        "No marks.",
        "Bad",
        "It is bad.",
        "Any",
        "Everything.",
    ]
    lines = text.splitlines()
    for lineno, message, _ in found:
        assert json.dumps(message) in lines[lineno - 1]
    comments = {message: comment for _, message, comment in found}
    assert comments["Fine"] == ["Answer option ok of question q"]
    assert comments["It is bad."] == ["Finding r, shown with a condition report"]


def test_texts_written_with_escapes_are_found_on_their_line() -> None:
    """A text the file spells with unicode escapes is still located on its own line."""
    text = '{\n  "id": "x",\n  "title": "Caf\\u00e9 check"\n}'
    assert _extract(text) == [(3, "Café check", ["Title of questionnaire x"])]


@pytest.mark.parametrize(
    "text",
    ["{", "[1, 2]", '{"sections": "nope", "grading": []}', '{"sections": [{"questions": [1]}]}'],
    ids=["not json", "not an object", "wrong shapes", "question not an object"],
)
def test_malformed_files_yield_nothing_rather_than_failing(text: str) -> None:
    """The extractor skips what it cannot read; the validate command reports such files."""
    assert _extract(text) == []


def test_bundled_smartphone_texts_are_all_extracted() -> None:
    """Every question text and option label of the bundled smartphone definition is extracted."""
    text = (DEFINITIONS_DIR / "smartphone.json").read_text(encoding="utf-8")
    messages = {message for _, message, _ in _extract(text)}
    questionnaire = gq.load_questionnaire("smartphone")
    for question in questionnaire.questions:
        assert question.text in messages
        assert all(option.label in messages for option in question.options)
    assert all(rule.message in messages for rule in questionnaire.rules)
