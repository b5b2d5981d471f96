"""Tests for grading_questionnaire._diagnostics: automated test results become measured answers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

import grading_questionnaire as gq
from grading_questionnaire import VerificationDepth
from grading_questionnaire._schemas import schema_problems

MEASURED = VerificationDepth.MEASURED


def _phone() -> gq.Questionnaire:
    return gq.load_questionnaire("smartphone")


def _document(*results: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": {"name": "Bench", "version": "1.0"},
        "performed_at": "2026-11-25T10:15:00+01:00",
        "results": list(results),
    }


def _pass(test: str) -> dict[str, Any]:
    return {"test": test, "outcome": "pass"}


def _fail(test: str) -> dict[str, Any]:
    return {"test": test, "outcome": "fail"}


@pytest.mark.parametrize("name", ["all-pass", "camera-fault"], ids=str)
def test_example_documents_match_the_schema(name: str) -> None:
    """The bundled diagnostics examples are valid against diagnostics.schema.json."""
    assert schema_problems("diagnostics", gq.example_diagnostics("smartphone", name)) == []


def test_import_reads_tool_and_time() -> None:
    """An import records the tool, its version and when the tests ran, as an aware datetime."""
    result = _phone().import_diagnostics(_document())
    assert (result.tool_name, result.tool_version, result.questionnaire_id) == (
        "Bench",
        "1.0",
        "smartphone-condition",
    )
    assert result.performed_at == datetime(2026, 11, 25, 9, 15, tzinfo=UTC)


def test_yes_no_question_takes_pass_or_fail_answer() -> None:
    """A passed boot test answers 'powers on' yes; a failed one answers no."""
    assert _phone().import_diagnostics(_document(_pass("device.boot"))).answers == {"powers_on": True}
    assert _phone().import_diagnostics(_document(_fail("device.boot"))).answers == {"powers_on": False}


def test_single_choice_takes_the_mapped_option() -> None:
    """A failed blocklist lookup answers 'listed'; a passed one 'clear'."""
    assert _phone().import_diagnostics(_document(_fail("imei.blocklist"))).answers == {
        "blocklist_status": "listed"
    }
    assert _phone().import_diagnostics(_document(_pass("imei.blocklist"))).answers == {
        "blocklist_status": "clear"
    }


def test_option_needs_every_mapped_test_to_pass() -> None:
    """Buttons count as working only when all three button tests passed; one failure selects the option."""
    partial = _phone().import_diagnostics(_document(_pass("buttons.power"), _pass("buttons.volume_up")))
    assert [item for item in partial.options if item.option == "buttons"] == []
    failed = _phone().import_diagnostics(_document(_pass("buttons.power"), _fail("buttons.volume_down")))
    assert gq.MeasuredOption(question="faults", option="buttons", selected=True) in failed.options
    passed = _phone().import_diagnostics(
        _document(_pass("buttons.power"), _pass("buttons.volume_up"), _pass("buttons.volume_down"))
    )
    assert gq.MeasuredOption(question="faults", option="buttons", selected=False) in passed.options


def test_not_run_answers_nothing() -> None:
    """A test that could not run leaves its question to the person answering."""
    result = _phone().import_diagnostics(_document({"test": "device.boot", "outcome": "not_run"}))
    assert result.answers == {}
    assert result.measured_questions == ()


def test_number_is_rounded_down_for_whole_number_questions() -> None:
    """A measured 79.8 % battery health becomes 79, so it never grades better than measured."""
    result = _phone().import_diagnostics(
        _document({"test": "battery.health", "outcome": "pass", "value": 79.8})
    )
    assert result.answers == {"battery_health": 79}


def test_unmapped_tests_are_ignored_and_listed() -> None:
    """Tests the questionnaire does not map are listed as ignored, in document order."""
    result = _phone().import_diagnostics(
        _document(_pass("sensors.proximity"), _pass("device.boot"), _pass("nfc"))
    )
    assert result.ignored_tests == ("sensors.proximity", "nfc")


def test_measured_answers_win_and_are_marked_measured() -> None:
    """Diagnostics override what the shopper declared, and the report marks those answers as measured."""
    answers = gq.example_answers("smartphone", "flawless").answers  # declares 97 % and no faults
    diagnostics = _phone().import_diagnostics(gq.example_diagnostics("smartphone", "camera-fault"))
    report = _phone().evaluate(answers, diagnostics=diagnostics)
    assert report.answers["battery_health"] == 79
    assert report.sources["battery_health"] is MEASURED
    assert report.answers["faults"] == ("rear_camera",)
    assert [finding.id for finding in report.findings] == ["fault_rear_camera", "battery_worn_out"]
    assert report.verification is VerificationDepth.SELF_DECLARED  # the weakest answer decides


def test_partly_measured_multiple_choice_keeps_the_declared_options() -> None:
    """Options no test covered keep the declared answer; the question is then not wholly measured."""
    answers = gq.example_answers("smartphone", "flawless").answers | {"faults": ["biometrics", "vibration"]}
    diagnostics = _phone().import_diagnostics(_document(_pass("haptics.vibration"), _fail("camera.front")))
    report = _phone().evaluate(answers, diagnostics=diagnostics)
    assert report.answers["faults"] == ("front_camera", "biometrics")
    assert report.sources["faults"] is VerificationDepth.SELF_DECLARED


def test_fully_measured_multiple_choice_needs_no_declared_answer() -> None:
    """When tests settle every option, the measured answer stands in for a missing declared one."""
    document = gq.example_diagnostics("smartphone", "all-pass")
    answers = gq.example_answers("smartphone", "flawless").answers
    del answers["faults"], answers["display_defects"]
    report = _phone().evaluate(answers, diagnostics=_phone().import_diagnostics(document))
    assert report.answers["faults"] == ()
    assert report.sources["faults"] is MEASURED
    assert report.sources["display_defects"] is MEASURED


def test_partly_measured_multiple_choice_without_declared_answer_is_still_missing() -> None:
    """If tests covered only some options and nobody answered, the question is still missing."""
    answers = gq.example_answers("smartphone", "flawless").answers
    del answers["faults"]
    diagnostics = _phone().import_diagnostics(_document(_pass("camera.rear")))
    problems = _phone().answer_problems(answers, diagnostics=diagnostics)
    assert [(problem.path, problem.code) for problem in problems] == [("$.faults", "missing_answer")]


def test_malformed_declared_answer_is_reported_as_it_stands() -> None:
    """A declared multiple-choice answer of the wrong type is not merged but reported."""
    answers = gq.example_answers("smartphone", "flawless").answers | {"faults": "none"}
    diagnostics = _phone().import_diagnostics(_document(_fail("camera.rear")))
    problems = _phone().answer_problems(answers, diagnostics=diagnostics)
    assert [(problem.path, problem.code) for problem in problems] == [("$.faults", "wrong_type")]


def test_measured_staff_check_is_accepted_from_a_shopper_flow() -> None:
    """A blocklist check measured by a tool counts even when the other answers are the shopper's."""
    answers = gq.example_answers("smartphone", "flawless").answers
    diagnostics = _phone().import_diagnostics(_document(_pass("imei.blocklist")))
    report = _phone().evaluate(answers, diagnostics=diagnostics)
    assert report.answers["blocklist_status"] == "clear"
    assert report.pending_checks == ("liquid_indicator", "authenticity")


def test_measured_answer_to_a_hidden_question_is_reported() -> None:
    """A measurement that contradicts the visibility (battery measured on a 'dead' device) is a problem."""
    answers = gq.example_answers("smartphone", "no-power").answers
    diagnostics = _phone().import_diagnostics(
        _document({"test": "battery.health", "outcome": "pass", "value": 90})
    )
    problems = _phone().answer_problems(answers, diagnostics=diagnostics)
    assert [(problem.path, problem.code) for problem in problems] == [
        ("$.battery_health", "question_not_shown")
    ]


def test_measured_evaluation_is_measured_throughout() -> None:
    """A tool that answers in the answers format itself gives a measured report."""
    answers = gq.example_answers("smartphone", "store-inspected").answers
    report = _phone().evaluate(answers, verification=MEASURED)
    assert report.verification is MEASURED
    assert report.pending_checks == ()


PROBLEMS = [
    ("schema", lambda d: d.pop("tool"), [("$", "schema")]),
    (
        "bad outcome",
        lambda d: d["results"].append({"test": "x", "outcome": "ok"}),
        [("$.results[1].outcome", "schema")],
    ),
    (
        "duplicate test",
        lambda d: d["results"].append(_fail("device.boot")),
        [("$.results[1].test", "duplicate_test")],
    ),
    (
        "value out of range",
        lambda d: d["results"].append({"test": "battery.health", "outcome": "pass", "value": 112}),
        [("$.results[1].value", "number_out_of_range")],
    ),
    (
        "missing value",
        lambda d: d["results"].append({"test": "battery.health", "outcome": "pass"}),
        [("$.results[1]", "missing_value")],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in PROBLEMS], ids=[case[0] for case in PROBLEMS]
)
def test_invalid_document_raises_with_paths(mutate: Any, expected: list[tuple[str, str]]) -> None:  # noqa: ANN401
    """A bad diagnostics document raises DiagnosticsInvalidError naming each problem's path and code."""
    document = _document(_pass("device.boot"))
    mutate(document)
    with pytest.raises(gq.DiagnosticsInvalidError) as caught:
        _phone().import_diagnostics(copy.deepcopy(document), source="bench.json")
    assert [(problem.path, problem.code) for problem in caught.value.problems] == expected
    assert caught.value.code == "diagnostics_invalid"
    assert "bench.json" in str(caught.value)
