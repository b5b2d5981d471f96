"""Tests for grading_questionnaire._conditions: the show_if and rule conditions, on a small questionnaire."""

from __future__ import annotations

from typing import Any

import pytest

import grading_questionnaire as gq


def _yes_no(question_id: str, show_if: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    question: dict[str, Any] = {
        "id": question_id,
        "kind": "yes_no",
        "text": f"{question_id}?",
        "required": False,
    }
    if show_if is not None:
        question["show_if"] = show_if
    return question | extra


GADGET: dict[str, Any] = {
    "id": "gadget",
    "version": "1.0",
    "category": "gadget",
    "title": "Gadget",
    "sections": [
        {
            "id": "main",
            "title": "Main",
            "questions": [
                _yes_no("power", worse="no", required=True),
                {
                    "id": "model",
                    "kind": "single_choice",
                    "text": "Model?",
                    "options": [
                        {"id": "basic", "label": "Basic", "help": "The cheapest one."},
                        {"id": "pro", "label": "Pro"},
                        {"id": "max", "label": "Max"},
                    ],
                },
                {
                    "id": "wear",
                    "kind": "single_choice",
                    "text": "Wear?",
                    "worse": "later",
                    "options": [
                        {"id": "none", "label": "None"},
                        {"id": "light", "label": "Light"},
                        {"id": "heavy", "label": "Heavy"},
                    ],
                },
                {
                    "id": "parts",
                    "kind": "multiple_choice",
                    "text": "Included?",
                    "required": False,
                    "worse": "fewer",
                    "options": [{"id": "charger", "label": "Charger"}, {"id": "manual", "label": "Manual"}],
                },
                {
                    "id": "hours",
                    "kind": "number",
                    "text": "Hours used?",
                    "required": False,
                    "worse": "higher",
                    "number": {"minimum": 0, "maximum": 10000},
                },
                {
                    "id": "level",
                    "kind": "number",
                    "text": "Charge level?",
                    "required": False,
                    "worse": "lower",
                    "number": {"minimum": 0, "maximum": 100, "integer": True, "unit": "percent"},
                },
                _yes_no(
                    "pro_only",
                    {"all": [{"question": "power", "is": True}, {"question": "model", "in": ["pro", "max"]}]},
                ),
                _yes_no(
                    "worn_or_old",
                    {
                        "any": [
                            {"question": "wear", "at_least": "heavy"},
                            {"question": "hours", "greater_than": 5000},
                        ]
                    },
                ),
                _yes_no("no_charger", {"not": {"question": "parts", "includes": "charger"}}),
                _yes_no("no_manual", {"question": "parts", "lacks": "manual"}),
                _yes_no("young", {"question": "hours", "less_than": 100}),
            ],
        }
    ],
    "grading": {
        "rules": [
            {
                "id": "used",
                "message": "Used.",
                "when": {"question": "hours", "greater_than": 3000},
                "set": {"functional": 1},
            },
            {
                "id": "worn_out",
                "message": "Worn out.",
                "when": {"question": "hours", "greater_than": 6000},
                "set": {"functional": 2},
            },
            {
                "id": "no_charger",
                "message": "No charger.",
                "when": {"question": "parts", "lacks": "charger"},
                "set": {"cosmetic": "B"},
            },
            {
                "id": "low",
                "message": "Low.",
                "when": {"question": "level", "less_than": 50},
                "set": {"battery": "degraded"},
            },
            {
                "id": "very_low",
                "message": "Very low.",
                "when": {"question": "level", "less_than": 20},
                "set": {"battery": "degraded"},
            },
            {
                "id": "dead_and_worn",
                "message": "Dead and worn.",
                "when": {
                    "all": [{"question": "power", "is": False}, {"question": "wear", "at_least": "light"}]
                },
                "set": {"cosmetic": "C"},
            },
            {
                "id": "either",
                "message": "Either.",
                "when": {
                    "any": [{"question": "power", "is": False}, {"question": "wear", "at_least": "heavy"}]
                },
                "set": {"liquid": "suspected"},
            },
        ],
        "pricing_grades": [
            {"id": "top", "label": "Top", "at_worst": {"cosmetic": "A", "functional": 0}},
            {"id": "rest", "label": "Rest", "at_worst": {}},
        ],
    },
}


def _gadget() -> gq.Questionnaire:
    return gq.build_questionnaire(GADGET)


VISIBILITY = [
    ("all holds", {"power": True, "model": "pro"}, "pro_only", True),
    ("all fails on one part", {"power": True, "model": "basic"}, "pro_only", False),
    ("any holds on the first", {"power": True, "model": "basic", "wear": "heavy"}, "worn_or_old", True),
    (
        "any holds on the second",
        {"power": True, "model": "basic", "wear": "none", "hours": 5001},
        "worn_or_old",
        True,
    ),
    (
        "any fails on both",
        {"power": True, "model": "basic", "wear": "light", "hours": 5000},
        "worn_or_old",
        False,
    ),
    ("not of a false leaf", {"power": True, "model": "basic", "parts": ["manual"]}, "no_charger", True),
    ("not of a true leaf", {"power": True, "model": "basic", "parts": ["charger"]}, "no_charger", False),
    ("not of an unanswered leaf", {"power": True, "model": "basic"}, "no_charger", True),
    ("lacks holds", {"power": True, "model": "basic", "parts": ["charger"]}, "no_manual", True),
    ("lacks fails", {"power": True, "model": "basic", "parts": ["manual"]}, "no_manual", False),
    ("lacks on unanswered is false", {"power": True, "model": "basic"}, "no_manual", False),
    ("less_than holds", {"power": True, "model": "basic", "hours": 99.5}, "young", True),
    ("less_than fails", {"power": True, "model": "basic", "hours": 100}, "young", False),
]


@pytest.mark.parametrize(
    ("answers", "question", "shown"), [case[1:] for case in VISIBILITY], ids=[case[0] for case in VISIBILITY]
)
def test_show_if_decides_whether_a_question_may_be_answered(
    answers: dict[str, Any], question: str, *, shown: bool
) -> None:
    """A question can be answered exactly when its show_if holds on the answers before it."""
    problems = _gadget().answer_problems({"wear": "none", **answers, question: True})
    expected = [] if shown else [(f"$.{question}", "question_not_shown")]
    assert [(problem.path, problem.code) for problem in problems] == expected


def test_composite_rules_fire_as_their_parts_say() -> None:
    """Rules with all/any conditions fire only when their parts hold."""
    questionnaire = _gadget()
    dead_worn = questionnaire.evaluate(
        {"power": False, "model": "basic", "wear": "light", "parts": ["charger"]}
    )
    assert [finding.id for finding in dead_worn.findings] == ["dead_and_worn", "either"]
    heavy = questionnaire.evaluate({"power": True, "model": "basic", "wear": "heavy", "parts": ["charger"]})
    assert [finding.id for finding in heavy.findings] == ["either"]
    fine = questionnaire.evaluate({"power": True, "model": "basic", "wear": "light", "parts": ["charger"]})
    assert fine.findings == ()
    assert fine.pricing_grade == "top"


def test_numeric_thresholds_keep_only_the_stricter_finding() -> None:
    """Of two 'more than N hours' findings, only the stricter one is reported when both fire."""
    report = _gadget().evaluate(
        {"power": True, "model": "basic", "wear": "none", "parts": ["charger"], "hours": 7000}
    )
    assert [finding.id for finding in report.findings] == ["worn_out"]
    assert report.functional == 2


def test_lower_number_thresholds_keep_only_the_stricter_finding() -> None:
    """Of two 'below N percent' findings, only the stricter is reported when both fire; one alone stays."""
    answers = {"power": True, "model": "basic", "wear": "none", "parts": ["charger"]}
    assert [finding.id for finding in _gadget().evaluate(answers | {"level": 10}).findings] == ["very_low"]
    assert [finding.id for finding in _gadget().evaluate(answers | {"level": 30}).findings] == ["low"]


def test_missing_accessory_lowers_through_lacks() -> None:
    """A rule on 'fewer is worse' fires when the option is not selected."""
    report = _gadget().evaluate({"power": True, "model": "basic", "wear": "none", "parts": []})
    assert [finding.id for finding in report.findings] == ["no_charger"]
    assert report.cosmetic is gq.CosmeticGrade.B


def test_conditions_travel_to_the_rendered_document_unchanged() -> None:
    """Rendered show_if conditions are the definition's own JSON, all/any/not included."""
    document = _gadget().render("en").to_json()
    definition = {question["id"]: question for question in GADGET["sections"][0]["questions"]}
    for question in document["sections"][0]["questions"]:
        assert question.get("show_if") == definition[question["id"]].get("show_if")


def test_option_help_and_unitless_number_render() -> None:
    """Option help texts are rendered, and a number without a unit has no unit field."""
    questions = {
        question["id"]: question for question in _gadget().render("en").to_json()["sections"][0]["questions"]
    }
    assert questions["model"]["options"][0] == {
        "value": "basic",
        "label": "Basic",
        "help": "The cheapest one.",
    }
    assert questions["hours"]["number"] == {"minimum": 0, "maximum": 10000, "integer": False}


def test_condition_models_are_public_and_comparable() -> None:
    """The parsed show_if is a public model that equals one built by hand."""
    question = _gadget().question("pro_only")
    assert question.show_if == gq.AllOf(
        conditions=(
            gq.AnswerCondition(question="power", operator=gq.Operator.IS, operand=True),
            gq.AnswerCondition(question="model", operator=gq.Operator.IN, operand=("pro", "max")),
        )
    )
    assert gq.Not(condition=question.show_if).to_json() == {"not": question.show_if.to_json()}


@pytest.mark.parametrize(
    ("scale", "rank"),
    [(gq.CosmeticGrade, 3), (gq.LockStatus, 3), (gq.BatteryState, 3), (gq.LiquidDamage, 2)],
    ids=["cosmetic", "lock", "battery", "liquid"],
)
def test_scales_run_best_to_worst(scale: type[gq.CosmeticGrade], rank: int) -> None:
    """Each dimension's members are ranked from 0 (best) up, and at_rank returns them."""
    members = list(scale)
    assert [member.rank for member in members] == list(range(rank + 1))
    assert scale.at_rank(rank) is members[-1]
