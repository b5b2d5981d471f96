"""Answers must fit the device being quoted: the platform answer decides which lock questions are asked."""

from __future__ import annotations

import pytest

from grading_questionnaire import example_answers, load_questionnaire
from tradein_sdk import AnswersInvalidError, Catalog, TradeIn
from tradein_sdk._domain.device_answers import device_answer_problems, expected_platforms

CASES = [
    ("apple-iphone-13", "smartphone", "ios", True),
    ("apple-iphone-13", "smartphone", "android", False),
    ("apple-iphone-13", "smartphone", "samsung", False),
    ("samsung-galaxy-s23", "smartphone", "samsung", True),
    ("samsung-galaxy-s23", "smartphone", "android", False),
    ("samsung-galaxy-s23", "smartphone", "ios", False),
    ("google-pixel-9", "smartphone", "android", True),
    ("google-pixel-9", "smartphone", "samsung", False),
    ("fairphone-5", "smartphone", "android", True),
    ("apple-watch-series-9", "smartwatch", "watchos", True),
    ("apple-watch-series-9", "smartwatch", "wearos", False),
]


@pytest.mark.parametrize(("model_id", "category", "platform", "fits"), CASES, ids=str)
def test_platform_answer_must_match_the_brand(
    model_id: str, category: str, platform: str, fits: bool
) -> None:
    """Apple devices answer their Apple platform, Samsung devices ``samsung``, other brands the generic."""
    model = Catalog.bundled().model(model_id)
    questionnaire = load_questionnaire(category)
    problems = device_answer_problems(model, {"platform": platform}, questionnaire, "en")
    if fits:
        assert problems == []
    else:
        assert [(problem.path, problem.code) for problem in problems] == [("$.platform", "device_mismatch")]
        assert model.name in problems[0].message


def test_expected_platforms_per_brand() -> None:
    """Each brand has exactly the options that fit it, in the question's order."""
    catalog = Catalog.bundled()
    options = ("ios", "samsung", "android")
    assert expected_platforms(catalog.model("apple-iphone-13"), options) == ("ios",)
    assert expected_platforms(catalog.model("samsung-galaxy-s23"), options) == ("samsung",)
    assert expected_platforms(catalog.model("google-pixel-9"), options) == ("android",)


def test_missing_or_foreign_answers_are_left_to_the_questionnaire() -> None:
    """No platform answer, or one that is not text, is reported by the questionnaire, not here."""
    model = Catalog.bundled().model("apple-iphone-13")
    questionnaire = load_questionnaire("smartphone")
    assert device_answer_problems(model, {}, questionnaire) == []
    assert device_answer_problems(model, {"platform": 7}, questionnaire) == []


def test_an_iphone_cannot_skip_activation_lock_by_answering_android(trade_in: TradeIn) -> None:
    """Quoting an iPhone with Android answers (no Activation Lock question) is refused, naming the answer."""
    answers = dict(example_answers("smartphone", "worn").answers)
    answers.pop("find_my_off")
    answers.update(platform="android", google_account_removed=True)
    with pytest.raises(AnswersInvalidError) as raised:
        trade_in.quote("apple-iphone-13-128gb", answers, locale="de_DE")
    assert raised.value.code == "answers_invalid"
    assert [(problem.path, problem.code) for problem in raised.value.problems] == [
        ("$.platform", "device_mismatch")
    ]
    shown = raised.value.problems[0].localized("de_DE")
    assert "Apple iPhone 13" in shown
    assert "iOS" in shown
    answers.update(platform="ios", find_my_off=False)
    answers.pop("google_account_removed")
    assert trade_in.quote("apple-iphone-13-128gb", answers).quote.recycle_only  # the lock question now counts
