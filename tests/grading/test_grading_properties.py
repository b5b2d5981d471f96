"""Properties of the evaluator over generated answer sets: no crash, monotone grading, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grading_questionnaire as gq
from grading_questionnaire import AllOf, AnswerCondition, AnyOf, Not, Operator, QuestionKind, Worse

CATEGORIES = ("smartphone", "smartwatch", "tablet")
DEPTHS = (gq.VerificationDepth.SELF_DECLARED, gq.VerificationDepth.STAFF_VERIFIED)


def holds(  # noqa: C901, PLR0911 - one branch per operator
    condition: gq.Condition, answers: dict[str, Any], question_options: dict[str, tuple[str, ...]]
) -> bool:
    """Interpret a condition directly from its model (independent of the evaluator's compiled predicates)."""
    if isinstance(condition, AllOf):
        return all(holds(item, answers, question_options) for item in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(holds(item, answers, question_options) for item in condition.conditions)
    if isinstance(condition, Not):
        return not holds(condition.condition, answers, question_options)
    assert isinstance(condition, AnswerCondition)
    if condition.question not in answers:
        return False
    value, operand = answers[condition.question], condition.operand
    match condition.operator:
        case Operator.IS:
            return bool(value is operand)
        case Operator.IN:
            return value in operand  # type: ignore[operator] # a tuple of option ids
        case Operator.AT_LEAST:
            order = question_options[condition.question]
            return order.index(value) >= order.index(str(operand))
        case Operator.INCLUDES:
            return operand in value
        case Operator.LACKS:
            return operand not in value
        case Operator.LESS_THAN:
            return bool(value < operand)
        case _:
            return bool(value > operand)


def _asked(question: gq.Question, staff: bool) -> bool:
    return staff or not question.staff_only


def _best(question: gq.Question) -> Any:  # noqa: ANN401 - an answer of any kind
    """The least damaged answer to a question."""
    if question.kind is QuestionKind.YES_NO:
        return question.worse is Worse.NO
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return question.option_ids[0]
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return list(question.option_ids) if question.worse is Worse.FEWER else []
    assert question.number is not None
    return question.number.maximum if question.worse is Worse.LOWER else question.number.minimum


def _value(draw: st.DrawFn, question: gq.Question) -> Any:  # noqa: ANN401 - an answer of any kind
    if question.kind is QuestionKind.YES_NO:
        return draw(st.booleans())
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return draw(st.sampled_from(question.option_ids))
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return draw(st.lists(st.sampled_from(question.option_ids), unique=True))
    number = question.number
    assert number is not None
    if number.integer:
        return draw(st.integers(int(number.minimum), int(number.maximum)))
    return draw(st.floats(number.minimum, number.maximum))


def _options(questionnaire: gq.Questionnaire) -> dict[str, tuple[str, ...]]:
    return {question.id: question.option_ids for question in questionnaire.questions}


@st.composite
def answer_sets(draw: st.DrawFn, questionnaire: gq.Questionnaire, staff: bool) -> dict[str, Any]:
    """Valid answers: each shown question answered (optional ones sometimes left out), in order."""
    options = _options(questionnaire)
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        if not _asked(question, staff):
            continue
        if question.show_if is not None and not holds(question.show_if, answers, options):
            continue
        if not question.required and draw(st.booleans()):
            continue
        answers[question.id] = _value(draw, question)
    return answers


def _worse_value(draw: st.DrawFn, question: gq.Question, value: Any) -> Any:  # noqa: ANN401, PLR0911
    """An answer at least as damaged as ``value`` in the question's damage direction."""
    match question.worse:
        case Worse.YES:
            return True
        case Worse.NO:
            return False
        case Worse.LATER:
            return draw(st.sampled_from(question.option_ids[question.option_ids.index(value) :]))
        case Worse.MORE:
            extra = draw(st.lists(st.sampled_from(question.option_ids), unique=True))
            return [option for option in question.option_ids if option in value or option in extra]
        case Worse.FEWER:
            return [option for option in value if draw(st.booleans())]
        case Worse.LOWER:
            assert question.number is not None
            return draw(st.integers(int(question.number.minimum), int(value)))
        case Worse.HIGHER:
            assert question.number is not None
            return draw(st.integers(int(value), int(question.number.maximum)))
        case _:
            return value


@st.composite
def worsened_pairs(
    draw: st.DrawFn, questionnaire: gq.Questionnaire, staff: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid answer set and a valid, more damaged one: some graded answers moved toward damage.

    Questions that become hidden lose their answer; questions that become shown get their best answer
    (if required), so only the moved answers add damage.
    """
    options = _options(questionnaire)
    original = draw(answer_sets(questionnaire, staff))
    worse: dict[str, Any] = {}
    for question in questionnaire.questions:
        if not _asked(question, staff):
            continue
        if question.show_if is not None and not holds(question.show_if, worse, options):
            continue
        if question.id in original:
            value = original[question.id]
            worse[question.id] = _worse_value(draw, question, value) if draw(st.booleans()) else value
        elif question.required:
            worse[question.id] = _best(question)
    return original, worse


def _severity(report: gq.ConditionReport, questionnaire: gq.Questionnaire) -> tuple[int, ...]:
    grades = [grade.id for grade in questionnaire.pricing_grades]
    grade = len(grades) if report.pricing_grade is None else grades.index(report.pricing_grade)
    return (
        report.cosmetic.rank,
        report.functional,
        report.lock.rank,
        report.battery.rank,
        report.liquid.rank,
        grade,
        report.acceptance is gq.Acceptance.RECYCLE_ONLY,
    )


@pytest.mark.parametrize("depth", DEPTHS, ids=[depth.value for depth in DEPTHS])
@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
@settings(max_examples=150)
@given(data=st.data())
def test_any_valid_answer_set_evaluates(
    category: str, depth: gq.VerificationDepth, data: st.DataObject
) -> None:
    """Every valid answer set evaluates to a report without an exception, with a grade or a knockout."""
    questionnaire = gq.load_questionnaire(category)
    answers = data.draw(answer_sets(questionnaire, depth is not gq.VerificationDepth.SELF_DECLARED))
    report = questionnaire.evaluate(answers, verification=depth)
    assert (report.pricing_grade is None) == bool(report.knockouts)
    assert set(report.answers) == set(answers)


@pytest.mark.parametrize("depth", DEPTHS, ids=[depth.value for depth in DEPTHS])
@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
@settings(max_examples=300)
@given(data=st.data())
def test_more_damage_never_grades_better(
    category: str, depth: gq.VerificationDepth, data: st.DataObject
) -> None:
    """Moving answers toward damage never improves any dimension, the pricing grade or the acceptance."""
    questionnaire = gq.load_questionnaire(category)
    original, worse = data.draw(
        worsened_pairs(questionnaire, depth is not gq.VerificationDepth.SELF_DECLARED)
    )
    before = questionnaire.evaluate(original, verification=depth)
    after = questionnaire.evaluate(worse, verification=depth)
    pairs = zip(_severity(before, questionnaire), _severity(after, questionnaire), strict=True)
    assert all(old <= new for old, new in pairs), (before.to_json(), after.to_json())
    assert set(before.knockout_codes) <= set(after.knockout_codes)


@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
@settings(max_examples=100)
@given(data=st.data())
def test_evaluation_is_deterministic(category: str, data: st.DataObject) -> None:
    """The same answers give the same report: again, in another key order, from fresh data."""
    questionnaire = gq.load_questionnaire(category)
    answers = data.draw(answer_sets(questionnaire, staff=False))
    report = questionnaire.evaluate(answers)
    assert questionnaire.evaluate(answers) == report
    assert questionnaire.evaluate(dict(reversed(list(answers.items())))).to_json() == report.to_json()
    fresh = gq.build_questionnaire(questionnaire.to_json())
    assert fresh.evaluate(answers) == report


@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
@settings(max_examples=100)
@given(data=st.data())
def test_report_json_round_trips(category: str, data: st.DataObject) -> None:
    """Any report survives to_json() and from_json() unchanged."""
    questionnaire = gq.load_questionnaire(category)
    report = questionnaire.evaluate(data.draw(answer_sets(questionnaire, staff=False)))
    assert gq.ConditionReport.from_json(report.to_json()) == report


@settings(max_examples=200)
@given(
    answers=st.dictionaries(
        st.sampled_from(["powers_on", "display_glass", "faults", "battery_health", "frame", "nope"]),
        st.one_of(
            st.booleans(),
            st.integers(-5, 200),
            st.floats(allow_nan=True),
            st.sampled_from(["flawless", "cracked", "bent", "buttons", "x"]),
            st.lists(st.sampled_from(["buttons", "vibration", "x"])),
            st.none(),
        ),
    )
)
def test_arbitrary_answers_raise_only_answers_invalid(answers: dict[str, Any]) -> None:
    """Arbitrary input grades, or raises AnswersInvalidError with problems; never any other error."""
    questionnaire = gq.load_questionnaire("smartphone")
    problems = questionnaire.answer_problems(answers)
    assert all(problem.path.startswith("$") for problem in problems)
    if problems:
        with pytest.raises(gq.AnswersInvalidError) as caught:
            questionnaire.evaluate(answers)
        assert caught.value.problems == problems
    else:
        questionnaire.evaluate(answers)
