"""Tests for grading_questionnaire._evaluate: checking answers and grading them into a condition report."""

from __future__ import annotations

import json
import math
from types import MappingProxyType
from typing import Any

import pytest

import grading_questionnaire as gq
from grading_questionnaire import (
    Acceptance,
    BatteryState,
    CosmeticGrade,
    LiquidDamage,
    LockStatus,
    VerificationDepth,
)
from grading_questionnaire._definition import DEFINITIONS_DIR
from grading_questionnaire._schemas import schema_problems

STAFF = VerificationDepth.STAFF_VERIFIED
SHOPPER = VerificationDepth.SELF_DECLARED
CHECKS_PASSED = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


def _phone() -> gq.Questionnaire:
    return gq.load_questionnaire("smartphone")


def _flawless(**changes: Any) -> dict[str, Any]:  # noqa: ANN401 - answers of every kind
    answers = gq.example_answers("smartphone", "flawless").answers
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


def _codes(error: gq.AnswersInvalidError) -> list[tuple[str, str]]:
    return [(problem.path, problem.code) for problem in error.problems]


# Example answer sets ------------------------------------------------------------------------------------

# Expected grades follow from the definition's rules: light scratches and light wear lower cosmetic to B,
# a battery under 80 % is degraded, cracked glass is cosmetic D; the table then gives excellent for
# A/0/good, good for B/1/degraded, damaged for D; a dead device is functional 9 with an unknown battery.
EXAMPLES = [
    ("smartphone", "flawless", SHOPPER, ("A", 0, "none", "good", "none"), "excellent"),
    ("smartphone", "worn", SHOPPER, ("B", 0, "none", "degraded", "none"), "good"),
    ("smartphone", "cracked-display", SHOPPER, ("D", 0, "none", "good", "none"), "damaged"),
    ("smartphone", "activation-locked", SHOPPER, ("A", 0, "account_locked", "good", "none"), None),
    ("smartphone", "no-power", SHOPPER, ("B", 9, "carrier_locked", "unknown", "none"), "faulty"),
    ("smartphone", "store-inspected", STAFF, ("B", 1, "none", "good", "none"), "good"),
    ("tablet", "flawless", SHOPPER, ("A", 0, "none", "good", "none"), "excellent"),
    ("tablet", "worn", SHOPPER, ("B", 0, "none", "degraded", "none"), "good"),
    ("tablet", "cracked-display", SHOPPER, ("D", 0, "none", "good", "none"), "damaged"),
    ("tablet", "activation-locked", SHOPPER, ("A", 0, "account_locked", "good", "none"), None),
    ("smartwatch", "flawless", SHOPPER, ("A", 0, "none", "good", "none"), "excellent"),
    ("smartwatch", "worn", SHOPPER, ("B", 0, "none", "degraded", "none"), "good"),
    ("smartwatch", "cracked-display", SHOPPER, ("D", 0, "none", "good", "none"), "damaged"),
    ("smartwatch", "activation-locked", SHOPPER, ("A", 0, "account_locked", "good", "none"), None),
]


@pytest.mark.parametrize(
    ("category", "name", "verification", "dimensions", "grade"),
    EXAMPLES,
    ids=[f"{category}/{name}" for category, name, *_ in EXAMPLES],
)
def test_example_answers_grade_as_reasoned(
    category: str,
    name: str,
    verification: VerificationDepth,
    dimensions: tuple[str, int, str, str, str],
    grade: str | None,
) -> None:
    """Each bundled example answer set grades to the dimensions and pricing grade its answers imply."""
    report = gq.load_questionnaire(category).evaluate(
        gq.example_answers(category, name).answers, verification=verification
    )
    assert (report.cosmetic, report.functional, report.lock, report.battery, report.liquid) == dimensions
    assert report.pricing_grade == grade
    assert report.acceptance is (Acceptance.PRICED if grade else Acceptance.RECYCLE_ONLY)


def test_report_names_the_questionnaire() -> None:
    """A report records the questionnaire's id, version, category and content hash."""
    questionnaire = _phone()
    report = questionnaire.evaluate(_flawless())
    assert (report.questionnaire_id, report.questionnaire_version, report.category) == (
        "smartphone-condition",
        questionnaire.version,
        "smartphone",
    )
    assert report.questionnaire_hash == questionnaire.content_hash


def test_flawless_device_has_no_findings() -> None:
    """A flawless device has no findings and no knockouts."""
    report = _phone().evaluate(_flawless())
    assert report.findings == ()
    assert report.knockouts == ()


def test_findings_name_message_questions_and_effects() -> None:
    """Each finding carries its rule id, message msgid, the questions read and the dimensions it set."""
    report = _phone().evaluate(_flawless(faults=["rear_camera"]))
    (finding,) = report.findings
    assert finding == gq.Finding(
        id="fault_rear_camera",
        message_id="The rear camera does not work properly.",
        questions=("faults",),
        sets=gq.DimensionValues(functional=3),
        knockout=None,
        decisive=True,
    )


def test_stricter_finding_on_the_same_answer_replaces_the_milder_ones() -> None:
    """Cracked glass is reported as cracked only, not also as scratched (all three thresholds fire)."""
    report = _phone().evaluate(_flawless(display_glass="cracked"))
    assert [finding.id for finding in report.findings] == ["display_cracked"]


def test_outweighed_finding_is_kept_but_not_decisive() -> None:
    """A finding on another answer that a worse one outweighs stays listed, marked not decisive."""
    report = _phone().evaluate(_flawless(display_glass="cracked", back_glass="light_scratches"))
    assert [(finding.id, finding.decisive) for finding in report.findings] == [
        ("display_cracked", True),
        ("back_scratched", False),
    ]
    assert report.cosmetic is CosmeticGrade.D


def test_worst_finding_wins_per_dimension() -> None:
    """Each dimension takes the worst value any finding sets; other dimensions are untouched."""
    report = _phone().evaluate(_flawless(faults=["vibration", "charging", "buttons"], frame="bent"))
    assert report.functional == 4  # charging 4 beats frame bent 2, buttons 2 and vibration 1
    assert report.cosmetic is CosmeticGrade.D
    assert report.pricing_grade == "damaged"


@pytest.mark.parametrize(
    ("changes", "lock", "grade"),
    [
        ({"carrier_lock": "not_sure"}, LockStatus.CARRIER_LOCKED, "good"),
        ({"carrier_lock": "locked"}, LockStatus.CARRIER_LOCKED, "good"),
        ({"liquid_contact": True}, LockStatus.NONE, "fair"),
        ({"battery_lasts_day": False}, LockStatus.NONE, "good"),
    ],
    ids=["carrier unknown", "carrier locked", "liquid contact", "short battery life"],
)
def test_one_blemish_drops_excellent_by_the_table(
    changes: dict[str, Any], lock: LockStatus, grade: str
) -> None:
    """A flawless device with one blemish gets the first table row that tolerates it."""
    report = _phone().evaluate(_flawless(**changes))
    assert report.lock is lock
    assert report.pricing_grade == grade


def test_liquid_contact_is_suspected_and_a_triggered_indicator_confirms() -> None:
    """Reported liquid contact is 'suspected'; staff seeing a triggered indicator makes it 'confirmed'."""
    questionnaire = _phone()
    reported = questionnaire.evaluate(_flawless(liquid_contact=True))
    assert reported.liquid is LiquidDamage.SUSPECTED
    checked = questionnaire.evaluate(
        _flawless(liquid_contact=True, **{**CHECKS_PASSED, "liquid_indicator": "triggered"}),
        verification=STAFF,
    )
    assert checked.liquid is LiquidDamage.CONFIRMED
    assert checked.pricing_grade == "damaged"


def test_carrier_lock_reports_the_stricter_finding_only() -> None:
    """A locked device is reported as locked, not also as 'lock unknown'."""
    report = _phone().evaluate(_flawless(carrier_lock="locked"))
    assert [finding.id for finding in report.findings] == ["carrier_locked"]


# Knockouts ---------------------------------------------------------------------------------------------

KNOCKOUTS = [
    ("activation lock", {"find_my_off": False}, SHOPPER, "activation_lock_on", "activation_lock"),
    (
        "google frp",
        {"platform": "android", "find_my_off": None, "google_account_removed": False},
        SHOPPER,
        "google_frp_on",
        "google_frp",
    ),
    (
        "samsung account",
        {
            "platform": "samsung",
            "find_my_off": None,
            "google_account_removed": True,
            "samsung_account_removed": False,
        },
        SHOPPER,
        "samsung_account_on",
        "samsung_account",
    ),
    ("swollen battery", {"battery_swollen": True}, SHOPPER, "battery_swollen", "battery_swollen"),
    ("blocklisted", {**CHECKS_PASSED, "blocklist_status": "listed"}, STAFF, "blocklisted", "blocklisted"),
    ("counterfeit", {**CHECKS_PASSED, "authenticity": "counterfeit"}, STAFF, "counterfeit", "counterfeit"),
]


@pytest.mark.parametrize(
    ("changes", "verification", "code", "finding"),
    [case[1:] for case in KNOCKOUTS],
    ids=[case[0] for case in KNOCKOUTS],
)
def test_knockout_makes_the_device_recycle_only(
    changes: dict[str, Any], verification: VerificationDepth, code: str, finding: str
) -> None:
    """A knockout answer gives recycle_only, no pricing grade, and the knockout with its code and finding."""
    report = _phone().evaluate(_flawless(**changes), verification=verification)
    assert report.acceptance is Acceptance.RECYCLE_ONLY
    assert report.pricing_grade is None
    assert report.knockout_codes == (code,)
    (knockout,) = report.knockouts
    assert knockout.finding == finding
    assert knockout.message_id == next(rule.message for rule in _phone().rules if rule.id == finding)


def test_knockout_dimensions_are_still_graded() -> None:
    """A knocked-out device still reports its dimensions: lock, battery and the rest."""
    report = _phone().evaluate(
        _flawless(find_my_off=False, battery_swollen=True, display_glass="deep_scratches")
    )
    assert report.knockout_codes == ("battery_swollen", "activation_lock_on")  # in rule order
    assert report.lock is LockStatus.ACCOUNT_LOCKED
    assert report.battery is BatteryState.SWOLLEN
    assert report.cosmetic is CosmeticGrade.C


def test_blocklisted_device_has_blocklisted_lock_status() -> None:
    """A device on the blocklist has the worst lock status."""
    report = _phone().evaluate(
        _flawless(**{**CHECKS_PASSED, "blocklist_status": "listed"}), verification=STAFF
    )
    assert report.lock is LockStatus.BLOCKLISTED


# Answer validation -------------------------------------------------------------------------------------

INVALID = [
    ("unknown question", {"colour": "red"}, [("$.colour", "unknown_question")]),
    ("unknown odd key", {"bad key's": 1}, [("$['bad key\\'s']", "unknown_question")]),
    ("missing answer", {"display_glass": None}, [("$.display_glass", "missing_answer")]),
    ("option not offered", {"display_glass": "scratched"}, [("$.display_glass", "option_not_offered")]),
    ("list option not offered", {"faults": ["buttons", "antenna"]}, [("$.faults[1]", "option_not_offered")]),
    ("duplicate option", {"faults": ["buttons", "buttons"]}, [("$.faults[1]", "duplicate_option")]),
    ("number above range", {"battery_health": 101}, [("$.battery_health", "number_out_of_range")]),
    ("number below range", {"battery_health": -1}, [("$.battery_health", "number_out_of_range")]),
    ("yes/no as text", {"powers_on": "yes"}, [("$.powers_on", "wrong_type")]),
    ("yes/no as number", {"camera_lens_cracked": 0}, [("$.camera_lens_cracked", "wrong_type")]),
    ("choice as number", {"display_glass": 3}, [("$.display_glass", "wrong_type")]),
    ("choice as list", {"carrier_lock": ["unlocked"]}, [("$.carrier_lock", "wrong_type")]),
    ("multiple as text", {"faults": "buttons"}, [("$.faults", "wrong_type")]),
    ("multiple item as number", {"faults": [1]}, [("$.faults[0]", "wrong_type")]),
    ("number as text", {"battery_health": "90"}, [("$.battery_health", "wrong_type")]),
    ("number as boolean", {"battery_health": True}, [("$.battery_health", "wrong_type")]),
    ("fractional whole number", {"battery_health": 90.5}, [("$.battery_health", "wrong_type")]),
    ("not a number", {"battery_health": math.nan}, [("$.battery_health", "wrong_type")]),
    ("infinite", {"battery_health": math.inf}, [("$.battery_health", "wrong_type")]),
    (
        "hidden by platform",
        {"google_account_removed": True},
        [("$.google_account_removed", "question_not_shown")],
    ),
    ("staff check by shopper", {"blocklist_status": "clear"}, [("$.blocklist_status", "question_not_shown")]),
    (
        "dependents of a dead device",
        {"powers_on": False},
        [
            ("$.display_defects", "question_not_shown"),
            ("$.faults", "question_not_shown"),
            ("$.battery_health", "question_not_shown"),
            ("$.battery_lasts_day", "question_not_shown"),
        ],
    ),
    (
        "every problem at once, unknown last",
        {"zzz": 1, "frame": "dented", "find_my_off": None, "faults": ["buttons", "x", "buttons"]},
        [
            ("$.frame", "option_not_offered"),
            ("$.faults[1]", "option_not_offered"),
            ("$.faults[2]", "duplicate_option"),
            ("$.find_my_off", "missing_answer"),
            ("$.zzz", "unknown_question"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_answers_list_every_problem_with_path_and_code(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    """Invalid answers raise AnswersInvalidError listing each problem's JSON path and code, in order."""
    with pytest.raises(gq.AnswersInvalidError) as caught:
        _phone().evaluate(_flawless(**changes))
    assert _codes(caught.value) == expected
    assert caught.value.code == "answers_invalid"
    assert caught.value.questionnaire_id == "smartphone-condition"


def test_invalid_controlling_answer_does_not_cascade() -> None:
    """A malformed 'powers on' answer is one problem; the questions it controls are not reported too."""
    problems = _phone().answer_problems(_flawless(powers_on="yes"))
    assert [(problem.path, problem.code) for problem in problems] == [("$.powers_on", "wrong_type")]


def test_missing_controlling_answer_does_not_cascade() -> None:
    """A missing 'powers on' answer is one problem; answers to the questions it controls are not judged."""
    problems = _phone().answer_problems(_flawless(powers_on=None))
    assert [(problem.path, problem.code) for problem in problems] == [("$.powers_on", "missing_answer")]


@pytest.mark.parametrize("answers", [[], "flawless", None, 3], ids=["list", "text", "null", "number"])
def test_answers_that_are_not_an_object_are_one_problem(answers: object) -> None:
    """Answers that are not a JSON object are a single wrong_type problem at $."""
    with pytest.raises(gq.AnswersInvalidError) as caught:
        _phone().evaluate(answers)
    assert _codes(caught.value) == [("$", "wrong_type")]


def test_problem_messages_explain_in_english_and_the_shoppers_language() -> None:
    """A problem's message is English with its parameters filled in, and localized on request."""
    (problem,) = _phone().answer_problems(_flawless(battery_health=120))
    assert problem.message == "Enter a number from 0 to 100."
    assert problem.localized("de") == "Geben Sie eine Zahl von 0 bis 100 ein."
    assert str(problem) == "$.battery_health: Enter a number from 0 to 100. [number_out_of_range]"
    (unknown,) = _phone().answer_problems(_flawless(colour="red"))
    assert unknown.localized("fr") == "Il n’y a pas de question «\u00a0colour\u00a0»."


def test_staff_check_declared_by_shopper_says_why() -> None:
    """A shopper answering a staff-only check is told it is checked in store."""
    (problem,) = _phone().answer_problems(_flawless(authenticity="genuine"))
    assert problem.message == "This is checked in store or by diagnostics, not declared by the shopper."


def test_error_message_lists_every_problem() -> None:
    """str(AnswersInvalidError) names the questionnaire and every problem."""
    with pytest.raises(gq.AnswersInvalidError) as caught:
        _phone().evaluate(_flawless(frame="dented", colour="red"))
    text = str(caught.value)
    assert "smartphone-condition" in text
    assert "$.frame" in text
    assert "$.colour" in text


def test_answer_problems_is_empty_for_valid_answers() -> None:
    """answer_problems() returns nothing for answers evaluate() accepts."""
    assert _phone().answer_problems(_flawless()) == ()


# Staff checks, verification and normalization -------------------------------------------------------------


def test_staff_must_answer_the_checks() -> None:
    """In store, the staff-only checks are required like any other question."""
    with pytest.raises(gq.AnswersInvalidError) as caught:
        _phone().evaluate(_flawless(), verification=STAFF)
    assert _codes(caught.value) == [
        ("$.liquid_indicator", "missing_answer"),
        ("$.blocklist_status", "missing_answer"),
        ("$.authenticity", "missing_answer"),
    ]


def test_shopper_report_lists_the_checks_still_to_make() -> None:
    """A self-declared report lists the staff checks that still apply as pending."""
    assert _phone().evaluate(_flawless()).pending_checks == (
        "liquid_indicator",
        "blocklist_status",
        "authenticity",
    )
    staff = _phone().evaluate(_flawless(**CHECKS_PASSED), verification=STAFF)
    assert staff.pending_checks == ()


def test_pending_checks_follow_show_if() -> None:
    """A Wi-Fi-only tablet needs no blocklist check, so only the authenticity check is pending."""
    report = gq.load_questionnaire("tablet").evaluate(gq.example_answers("tablet", "flawless").answers)
    assert report.pending_checks == ("authenticity",)


@pytest.mark.parametrize("verification", list(VerificationDepth), ids=[v.value for v in VerificationDepth])
def test_every_answer_records_how_it_was_obtained(verification: VerificationDepth) -> None:
    """The report's sources mark each answer with the verification depth it was given at."""
    answers = _flawless() if verification is SHOPPER else _flawless(**CHECKS_PASSED)
    report = _phone().evaluate(answers, verification=verification)
    assert report.verification is verification
    assert set(report.sources) == set(answers)
    assert set(report.sources.values()) == {verification}


def test_answers_are_normalized() -> None:
    """Multiple choices come back in option order and a whole number given as 90.0 as 90."""
    report = _phone().evaluate(_flawless(faults=["vibration", "buttons"], battery_health=90.0))
    assert report.answers["faults"] == ("buttons", "vibration")
    assert report.answers["battery_health"] == 90
    assert type(report.answers["battery_health"]) is int


def test_any_mapping_is_accepted() -> None:
    """Answers may be any mapping, not only a dict."""
    report = _phone().evaluate(MappingProxyType(_flawless()))
    assert report.pricing_grade == "excellent"


def test_optional_questions_may_be_left_out() -> None:
    """Leaving out optional questions (battery health, accessories) is valid."""
    report = _phone().evaluate(_flawless(battery_health=None, accessories=None))
    assert report.pricing_grade == "excellent"
    assert "battery_health" not in report.answers


def test_evaluation_does_not_change_the_answers() -> None:
    """Evaluating leaves the caller's answers as they were."""
    answers = _flawless(faults=["vibration", "buttons"])
    before = json.dumps(answers, sort_keys=True)
    _phone().evaluate(answers)
    assert json.dumps(answers, sort_keys=True) == before


# The report's JSON form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["flawless", "worn", "cracked-display", "activation-locked", "no-power"], ids=str
)
def test_report_json_matches_its_schema_and_round_trips(name: str) -> None:
    """to_json() gives a document valid against its schema; from_json() rebuilds the same report."""
    report = _phone().evaluate(gq.example_answers("smartphone", name).answers)
    document = report.to_json()
    assert schema_problems("condition-report", document) == []
    assert gq.ConditionReport.from_json(json.loads(json.dumps(document))) == report


def test_report_json_spells_the_dimensions() -> None:
    """The JSON form carries the dimensions, grade, knockouts and answers as plain JSON values."""
    document = _phone().evaluate(gq.example_answers("smartphone", "activation-locked").answers).to_json()
    assert {
        key: document[key] for key in ("cosmetic", "functional", "lock", "acceptance", "pricing_grade")
    } == {
        "cosmetic": "A",
        "functional": 0,
        "lock": "account_locked",
        "acceptance": "recycle_only",
        "pricing_grade": None,
    }
    assert document["knockouts"] == [
        {
            "code": "activation_lock_on",
            "finding": "activation_lock",
            "message_id": "Find My (Activation Lock) is still on, so the device cannot be bought; "
            "it can still be recycled.",
        }
    ]
    assert document["answers"]["accessories"] == ["original_box", "cable"]


def test_report_from_invalid_json_is_refused() -> None:
    """from_json() refuses a document that breaks the report schema, naming the path."""
    document = _phone().evaluate(_flawless()).to_json()
    document["cosmetic"] = "E"
    with pytest.raises(ValueError, match=r"\$\.cosmetic"):
        gq.ConditionReport.from_json(document)


def test_dimensions_property_groups_the_five_dimensions() -> None:
    """report.dimensions gives the five dimensions as one value."""
    report = _phone().evaluate(_flawless(display_glass="light_scratches"))
    assert report.dimensions.to_json() == {
        "cosmetic": "B",
        "functional": 0,
        "lock": "none",
        "battery": "good",
        "liquid": "none",
    }


def test_pricing_grade_comes_from_the_table_in_the_data() -> None:
    """Changing the definition's table changes the grade: the rule is data, not code."""
    document = json.loads((DEFINITIONS_DIR / "smartphone.json").read_text(encoding="utf-8"))
    document["grading"]["pricing_grades"] = [
        {"id": "resale", "label": "Good", "at_worst": {"cosmetic": "C"}},
        {"id": "parts", "label": "Faulty", "at_worst": {}},
    ]
    questionnaire = gq.build_questionnaire(document)
    assert questionnaire.evaluate(_flawless(display_glass="deep_scratches")).pricing_grade == "resale"
    assert questionnaire.evaluate(_flawless(display_glass="cracked")).pricing_grade == "parts"
