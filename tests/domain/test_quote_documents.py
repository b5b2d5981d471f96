"""A quote's JSON form, written field by field, is what the library's converter gives, and reads back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import attrs
import pytest

from grading_questionnaire import example_answer_names, example_answers
from tradein_sdk import Quote, TradeIn
from tradein_sdk._domain.converters import json_converter

if TYPE_CHECKING:
    from tradein_sdk import IssuedQuote

DEVICES = {
    "smartphone": "apple-iphone-13-128gb",
    "tablet": "apple-ipad-9th-generation-64gb",
    "smartwatch": "apple-watch-series-7-32gb",
}
CASES = [
    (category, name, locale)
    for category in DEVICES
    for name in example_answer_names(category)
    for locale in ("de_DE", "en", "fr_FR")
]


def issue(trade_in: TradeIn, category: str, name: str, locale: str) -> IssuedQuote:
    """A quote for the example answers, on the category's device (a Samsung for the Samsung example)."""
    device = "samsung-galaxy-s23-128gb" if name == "worn-samsung" else DEVICES[category]
    answers = example_answers(category, name).answers
    if name == "store-inspected":  # staff checks: a guaranteed quote, with the IMEI
        return trade_in.quote(
            device, answers, locale=locale, verification="staff_verified", imei="490154203237518"
        )
    return trade_in.quote(device, answers, locale=locale)


@pytest.mark.parametrize(("category", "name", "locale"), CASES)
def test_the_direct_json_form_is_the_converters(
    trade_in: TradeIn, category: str, name: str, locale: str
) -> None:
    """Every example, knockouts and recycling included: same JSON as cattrs, and it reads back equal."""
    quote = issue(trade_in, category, name, locale).quote
    assert quote.to_json() == json_converter().unstructure(quote)
    text = quote.document_text()
    assert Quote.from_json(json.loads(text)) == quote  # schema-checked too
    assert text == trade_in.store.get_quote(quote.id)[0].document
    assert list(json.loads(text)) == sorted(json.loads(text))  # keys sorted, as stored


def test_every_field_of_a_quote_is_written() -> None:
    """A field added to Quote or its parts must be added to the direct form too (this names the gap)."""
    names = {field.name for field in attrs.fields(Quote)}
    written = set(Quote.to_json.__code__.co_consts) | set(Quote.to_json.__code__.co_names)
    assert names <= written, names - written


def test_the_json_form_is_a_new_object_at_the_top(trade_in: TradeIn) -> None:
    """Changing the returned object's own keys leaves the quote as it was."""
    quote = issue(trade_in, "smartphone", "worn", "en").quote
    data = quote.to_json()
    data["amount"] = {"amount": "0.00", "currency": "EUR"}
    data["lines"].clear()
    assert quote.to_json()["amount"] == quote.amount.to_json()
    assert quote.lines
