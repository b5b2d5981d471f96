"""Diagnostics import: automated test results become answers marked as measured.

A diagnostics document (``schemas/diagnostics.schema.json``) lists test results::

    {"tool": {"name": "PhoneCheck", "version": "5.2"},
     "performed_at": "2026-11-25T10:15:00Z",
     "results": [{"test": "battery.health", "outcome": "pass", "value": 86.7},
                 {"test": "camera.rear", "outcome": "fail"}]}

The questionnaire's ``diagnostics`` mappings say which question each test answers:

* yes/no and single choice: the ``fail`` answer when any mapped test failed, the ``pass`` answer when
  every mapped test ran and passed, nothing otherwise;
* multiple choice: the mapped ``option`` is selected when any mapped test failed and cleared when all
  passed; options no test covered keep the answer given by the person;
* number: the ``value`` of the one mapped test; a whole-number question takes the value rounded down,
  so a measurement never grades better than it measured.

``not_run`` results answer nothing. Tests no mapping names are ignored and listed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire._answers import AnswerValue
from grading_questionnaire._errors import DefinitionProblem, DiagnosticsInvalidError
from grading_questionnaire._grades import QuestionKind, VerificationDepth
from grading_questionnaire._schemas import schema_problems

if TYPE_CHECKING:
    from grading_questionnaire._definition import Question, Questionnaire


@attrs.frozen(kw_only=True)
class MeasuredOption:
    """One option of a multiple-choice question settled by tests.

    Attributes:
        question: the question's id.
        option: the option's id.
        selected: ``True`` when a test failed (the defect is present), ``False`` when all passed.
    """

    question: str
    option: str
    selected: bool


@attrs.frozen(kw_only=True)
class DiagnosticsResult:
    """Answers measured by an automated diagnostics tool, for :meth:`Questionnaire.evaluate`.

    Attributes:
        questionnaire_id: the questionnaire whose mappings read the results.
        tool_name: the tool that ran the tests.
        tool_version: its version.
        performed_at: when the tests ran (timezone-aware).
        answers: measured answers to yes/no, single-choice and number questions.
        options: options of multiple-choice questions settled by tests, in mapping order.
        ignored_tests: tests in the document that no mapping names, in document order.
    """

    questionnaire_id: str
    tool_name: str
    tool_version: str
    performed_at: datetime
    answers: Mapping[str, AnswerValue]
    options: tuple[MeasuredOption, ...] = ()
    ignored_tests: tuple[str, ...] = ()

    @property
    def measured_questions(self) -> tuple[str, ...]:
        """The questions the results answer, wholly or in part."""
        return tuple(dict.fromkeys((*self.answers, *(item.question for item in self.options))))

    def merge(
        self,
        answers: Mapping[str, Any],
        verification: VerificationDepth,
        questions: Mapping[str, Question],
    ) -> tuple[dict[str, Any], dict[str, VerificationDepth]]:
        """Lay the measured answers over ``answers``.

        Args:
            answers: the answers given by a person.
            verification: how those answers were obtained.
            questions: the questionnaire's questions by id.

        Returns:
            The merged answers and how each was obtained. A multiple-choice answer counts as
            measured only when tests settled every one of its options.
        """
        values: dict[str, Any] = dict(answers)
        sources = dict.fromkeys(values, verification)
        for key, value in self.answers.items():
            values[key] = value
            sources[key] = VerificationDepth.MEASURED
        settled: dict[str, dict[str, bool]] = {}
        for item in self.options:
            settled.setdefault(item.question, {})[item.option] = item.selected
        for key, options in settled.items():
            given = values.get(key)
            complete = len(options) == len(questions[key].options)
            if given is None and not complete:
                continue  # the person must still answer the options no test covered
            if given is not None and not (
                isinstance(given, list | tuple) and all(type(item) is str for item in given)
            ):
                continue  # a malformed answer is reported by the evaluator as it stands
            kept = [item for item in given or () if item not in options]
            values[key] = [*kept, *(option for option, selected in options.items() if selected)]
            sources[key] = VerificationDepth.MEASURED if complete else verification
        return values, sources


def import_diagnostics(
    questionnaire: Questionnaire, document: object, *, source: str = "<memory>"
) -> DiagnosticsResult:
    """Map a diagnostics document onto ``questionnaire``'s answers.

    Args:
        questionnaire: the questionnaire whose ``diagnostics`` mappings apply.
        document: the decoded diagnostics document.
        source: where it came from, for error messages.

    Returns:
        The measured answers.

    Raises:
        DiagnosticsInvalidError: the document breaks its schema, names a test twice, or measures a
            number outside its question's range; ``problems`` lists each with its JSON path.
    """
    found = [
        DefinitionProblem(path=path, code="schema", message=message)
        for path, message in schema_problems("diagnostics", document)
    ]
    if found:
        raise DiagnosticsInvalidError(source=source, problems=found)
    assert isinstance(document, dict)  # noqa: S101 - the schema made sure
    results = _results_by_test(document["results"], found)
    questions = {question.id: question for question in questionnaire.questions}
    answers: dict[str, AnswerValue] = {}
    options: list[MeasuredOption] = []
    mapped: set[str] = set()
    for mapping in questionnaire.diagnostics:
        mapped.update(mapping.tests)
        question = questions[mapping.question]
        ran = [results[test] for test in mapping.tests if test in results]
        ran = [(index, result) for index, result in ran if result["outcome"] != "not_run"]
        if question.kind is QuestionKind.NUMBER:
            if ran:
                value = _number(question, *ran[0], found)
                if value is not None:
                    answers[question.id] = value
            continue
        failed = any(result["outcome"] == "fail" for _, result in ran)
        passed = len(ran) == len(mapping.tests) and not failed
        if not (failed or passed):
            continue
        if mapping.option is not None:
            options.append(MeasuredOption(question=question.id, option=mapping.option, selected=failed))
        else:
            outcome = mapping.on_fail if failed else mapping.on_pass
            assert outcome is not None  # noqa: S101 - the loader checked the mapping's shape
            answers[question.id] = outcome
    if found:
        raise DiagnosticsInvalidError(source=source, problems=found)
    return DiagnosticsResult(
        questionnaire_id=questionnaire.id,
        tool_name=document["tool"]["name"],
        tool_version=document["tool"]["version"],
        performed_at=datetime.fromisoformat(document["performed_at"]),
        answers=answers,
        options=tuple(options),
        ignored_tests=tuple(test for test in results if test not in mapped),
    )


def _results_by_test(
    results: list[dict[str, Any]], found: list[DefinitionProblem]
) -> dict[str, tuple[int, dict[str, Any]]]:
    by_test: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, result in enumerate(results):
        test = result["test"]
        if test in by_test:
            message = f"test {test!r} is already reported at $.results[{by_test[test][0]}]"
            found.append(
                DefinitionProblem(path=f"$.results[{index}].test", code="duplicate_test", message=message)
            )
        else:
            by_test[test] = (index, result)
    return by_test


def _number(
    question: Question, index: int, result: Mapping[str, Any], found: list[DefinitionProblem]
) -> int | float | None:
    path = f"$.results[{index}].value"
    value: float | None = result.get("value")
    number = question.number
    assert number is not None  # noqa: S101 - a number question has a range
    if value is None:
        message = f"test {result['test']!r} answers the number question {question.id!r} but has no value"
        found.append(DefinitionProblem(path=f"$.results[{index}]", code="missing_value", message=message))
        return None
    if not number.minimum <= value <= number.maximum:
        message = f"{value} is outside {question.id!r}'s range {number.minimum} to {number.maximum}"
        found.append(DefinitionProblem(path=path, code="number_out_of_range", message=message))
        return None
    return math.floor(value) if number.integer else value
