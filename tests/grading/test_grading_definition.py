"""Tests for grading_questionnaire._definition: loading and checking questionnaire definitions."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest

import grading_questionnaire as gq
from grading_questionnaire._definition import DEFINITIONS_DIR
from grading_questionnaire._schemas import schema_problems

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

CATEGORIES = ("smartphone", "smartwatch", "tablet")


def _smartphone() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEFINITIONS_DIR / "smartphone.json").read_text(encoding="utf-8"))
    return document


def _question(document: dict[str, Any], question_id: str) -> dict[str, Any]:
    for section in document["sections"]:
        for question in section["questions"]:
            if question["id"] == question_id:
                found: dict[str, Any] = question
                return found
    raise KeyError(question_id)


def _rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    (rule,) = (rule for rule in document["grading"]["rules"] if rule["id"] == rule_id)
    found: dict[str, Any] = rule
    return found


@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
def test_bundled_definition_matches_its_schema(category: str) -> None:
    """Every bundled definition is valid against schemas/questionnaire.schema.json."""
    document = json.loads((DEFINITIONS_DIR / f"{category}.json").read_text(encoding="utf-8"))
    assert schema_problems("questionnaire", document) == []


@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
def test_bundled_definition_has_no_problems(category: str) -> None:
    """Every bundled definition passes the checks beyond the schema too."""
    assert gq.validate_questionnaire_file(DEFINITIONS_DIR / f"{category}.json") == ()


def test_bundled_categories_are_listed() -> None:
    """The three bundled device categories are listed, sorted."""
    assert gq.bundled_categories() == CATEGORIES


@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
def test_load_questionnaire_carries_identity(category: str) -> None:
    """A loaded questionnaire names its category, id, version and a sha256 content hash."""
    questionnaire = gq.load_questionnaire(category)
    assert questionnaire.category == category
    assert questionnaire.id == f"{category}-condition"
    assert questionnaire.version
    assert questionnaire.content_hash.startswith("sha256:")
    assert len(questionnaire.content_hash) == len("sha256:") + 64


def test_load_questionnaire_is_cached() -> None:
    """Loading a bundled questionnaire twice gives the same object (loaded and compiled once)."""
    assert gq.load_questionnaire("smartphone") is gq.load_questionnaire("smartphone")


def test_unknown_category_is_not_found() -> None:
    """An unknown category raises QuestionnaireNotFoundError naming the known ones."""
    with pytest.raises(gq.QuestionnaireNotFoundError) as caught:
        gq.load_questionnaire("laptop")
    assert caught.value.code == "questionnaire_not_found"
    assert caught.value.known == CATEGORIES
    assert "smartwatch" in str(caught.value)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    """Loading a file that does not exist raises QuestionnaireNotFoundError."""
    with pytest.raises(gq.QuestionnaireNotFoundError):
        gq.load_questionnaire_file(tmp_path / "absent.json")


def test_smartphone_covers_what_programmes_ask() -> None:
    """The smartphone questionnaire asks what real trade-in programmes ask, in every question kind."""
    questionnaire = gq.load_questionnaire("smartphone")
    ids = {question.id for question in questionnaire.questions}
    assert {
        "powers_on",
        "display_glass",
        "display_defects",
        "back_glass",
        "frame",
        "faults",
        "battery_swollen",
        "battery_health",
        "liquid_contact",
        "find_my_off",
        "google_account_removed",
        "samsung_account_removed",
        "carrier_lock",
        "accessories",
        "blocklist_status",
        "authenticity",
    } <= ids
    assert {question.kind for question in questionnaire.questions} == set(gq.QuestionKind)
    staff_only = {question.id for question in questionnaire.questions if question.staff_only}
    assert {"blocklist_status", "authenticity", "liquid_indicator"} == staff_only
    assert {rule.knockout for rule in questionnaire.rules if rule.knockout} == {
        "activation_lock_on",
        "google_frp_on",
        "samsung_account_on",
        "battery_swollen",
        "blocklisted",
        "counterfeit",
    }


def test_question_lookup() -> None:
    """question() returns a question by id and raises KeyError for an unknown id."""
    questionnaire = gq.load_questionnaire("smartphone")
    assert questionnaire.question("battery_health").number == gq.NumberRange(
        minimum=0, maximum=100, integer=True, unit="percent"
    )
    with pytest.raises(KeyError):
        questionnaire.question("nope")


def test_to_json_returns_the_document_as_loaded() -> None:
    """to_json() gives back the definition document, as a copy the caller may change."""
    questionnaire = gq.load_questionnaire("smartphone")
    document = questionnaire.to_json()
    assert document == _smartphone()
    document["id"] = "changed"
    assert questionnaire.to_json()["id"] == "smartphone-condition"


def test_content_hash_ignores_key_order_and_whitespace(write_json: Callable[[str, object], Path]) -> None:
    """Two files with the same content in a different key order and layout have the same hash."""
    document = _smartphone()
    reordered = dict(reversed(list(document.items())))
    path = write_json("reordered.json", reordered)
    assert gq.load_questionnaire_file(path).content_hash == gq.load_questionnaire("smartphone").content_hash


def test_content_hash_changes_with_content(write_json: Callable[[str, object], Path]) -> None:
    """Changing one text of a definition changes its content hash."""
    document = _smartphone()
    _question(document, "powers_on")["text"] = "Does it start?"
    path = write_json("changed.json", document)
    assert gq.load_questionnaire_file(path).content_hash != gq.load_questionnaire("smartphone").content_hash


def test_build_questionnaire_from_memory() -> None:
    """build_questionnaire() checks and builds a decoded definition; its source is <memory>."""
    questionnaire = gq.build_questionnaire(_smartphone())
    assert questionnaire.source == "<memory>"
    assert questionnaire == gq.load_questionnaire("smartphone")


def test_invalid_definition_raises_with_every_problem() -> None:
    """An invalid definition raises QuestionnaireInvalidError listing each problem with path and code."""
    document = _smartphone()
    del document["title"]
    document["version"] = "latest"
    with pytest.raises(gq.QuestionnaireInvalidError) as caught:
        gq.build_questionnaire(document, source="shop.json")
    error = caught.value
    assert error.code == "questionnaire_invalid"
    assert error.source == "shop.json"
    assert [(problem.path, problem.code) for problem in error.problems] == [
        ("$", "schema"),
        ("$.version", "schema"),
    ]
    assert "shop.json" in str(error)


def test_load_file_with_invalid_json_raises(tmp_path: Path) -> None:
    """A definition file that is not JSON raises QuestionnaireInvalidError with an invalid_json problem."""
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(gq.QuestionnaireInvalidError) as caught:
        gq.load_questionnaire_file(path)
    assert [(p.path, p.code) for p in caught.value.problems] == [("$", "invalid_json")]


def test_validate_reports_unreadable_file(tmp_path: Path) -> None:
    """Validating a file that cannot be read gives one unreadable problem at $."""
    problems = gq.validate_questionnaire_file(tmp_path / "absent.json")
    assert [(p.path, p.code) for p in problems] == [("$", "unreadable")]


def test_validate_reports_invalid_json(tmp_path: Path) -> None:
    """Validating a file that is not JSON names the line of the mistake."""
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": ,\n}', encoding="utf-8")
    (problem,) = gq.validate_questionnaire_file(path)
    assert (problem.path, problem.code) == ("$", "invalid_json")
    assert "line 2" in problem.message
    assert str(problem).startswith("$: not JSON")


def _mutate_duplicate_question(document: dict[str, Any]) -> None:
    document["sections"][1]["questions"].append(copy.deepcopy(_question(document, "powers_on")))


def _mutate_duplicate_option(document: dict[str, Any]) -> None:
    options = _question(document, "display_glass")["options"]
    options.append(copy.deepcopy(options[0]))


def _mutate_forward_reference(document: dict[str, Any]) -> None:
    _question(document, "powers_on")["show_if"] = {"question": "frame", "at_least": "bent"}


def _mutate_unknown_show_if_option(document: dict[str, Any]) -> None:
    _question(document, "find_my_off")["show_if"] = {"question": "platform", "in": ["ios", "symbian"]}


def _mutate_operator_kind(document: dict[str, Any]) -> None:
    _question(document, "display_defects")["show_if"] = {"question": "powers_on", "includes": "yes"}


def _mutate_at_least_unordered(document: dict[str, Any]) -> None:
    _question(document, "powers_on")["show_if"] = {"question": "platform", "at_least": "samsung"}


def _mutate_audience(document: dict[str, Any]) -> None:
    section = document["sections"][-1]
    section["questions"].append(
        {
            "id": "after_check",
            "kind": "yes_no",
            "text": "Anything else?",
            "show_if": {"question": "authenticity", "in": ["genuine"]},
        }
    )


def _mutate_range(document: dict[str, Any]) -> None:
    _question(document, "battery_health")["number"]["minimum"] = 101


def _mutate_duplicate_rule(document: dict[str, Any]) -> None:
    document["grading"]["rules"].append(copy.deepcopy(document["grading"]["rules"][0]))


def _mutate_rule_unknown_question(document: dict[str, Any]) -> None:
    _rule(document, "no_power")["when"] = {"question": "starts", "is": False}


def _mutate_rule_wrong_direction(document: dict[str, Any]) -> None:
    _rule(document, "no_power")["when"] = {"question": "powers_on", "is": True}


def _mutate_rule_negated(document: dict[str, Any]) -> None:
    _rule(document, "display_cracked")["when"] = {"not": {"question": "display_glass", "at_least": "cracked"}}


def _mutate_rule_in(document: dict[str, Any]) -> None:
    _rule(document, "display_cracked")["when"] = {"question": "display_glass", "in": ["cracked"]}


def _mutate_rule_neutral_question(document: dict[str, Any]) -> None:
    _rule(document, "no_power")["when"] = {"question": "platform", "in": ["android"]}


def _mutate_rule_lacks_on_more(document: dict[str, Any]) -> None:
    _rule(document, "fault_buttons")["when"] = {"question": "faults", "lacks": "buttons"}


def _mutate_rule_greater_on_lower(document: dict[str, Any]) -> None:
    _rule(document, "battery_worn_out")["when"] = {"question": "battery_health", "greater_than": 80}


def _mutate_rule_unknown_option(document: dict[str, Any]) -> None:
    _rule(document, "display_cracked")["when"] = {"question": "display_glass", "at_least": "shattered"}


def _mutate_duplicate_grade(document: dict[str, Any]) -> None:
    grades = document["grading"]["pricing_grades"]
    grades.insert(0, copy.deepcopy(grades[1]))


def _mutate_no_catch_all(document: dict[str, Any]) -> None:
    document["grading"]["pricing_grades"][-1]["at_worst"] = {"functional": 9}


def _mutate_duplicate_mapping(document: dict[str, Any]) -> None:
    document["diagnostics"].append(
        {"question": "powers_on", "tests": ["device.start"], "pass": True, "fail": False}
    )


def _mutate_mapping_unknown_question(document: dict[str, Any]) -> None:
    document["diagnostics"].append(
        {"question": "starts", "tests": ["device.start"], "pass": True, "fail": False}
    )


def _mutate_mapping_shape_yes_no(document: dict[str, Any]) -> None:
    document["diagnostics"][0]["pass"] = "yes"  # noqa: S105 - an outcome key, not a password


def _mutate_mapping_shape_single(document: dict[str, Any]) -> None:
    mapping = next(m for m in document["diagnostics"] if m["question"] == "carrier_lock")
    mapping["pass"] = True


def _mutate_mapping_shape_multiple(document: dict[str, Any]) -> None:
    mapping = next(m for m in document["diagnostics"] if m["question"] == "faults")
    del mapping["option"]


def _mutate_mapping_shape_number(document: dict[str, Any]) -> None:
    mapping = next(m for m in document["diagnostics"] if m["question"] == "battery_health")
    mapping["tests"] = ["battery.health", "battery.capacity"]


def _mutate_mapping_unknown_option(document: dict[str, Any]) -> None:
    mapping = next(m for m in document["diagnostics"] if m["question"] == "carrier_lock")
    mapping["fail"] = "sim_locked"


def _mutate_mapping_unknown_multiple_option(document: dict[str, Any]) -> None:
    mapping = next(m for m in document["diagnostics"] if m["question"] == "faults")
    mapping["option"] = "stylus"


# Paths index the bundled smartphone definition: rule 0 is no_power, 3 display_cracked, 15 fault_buttons,
# 27 battery_worn_out and 40 the appended copy; mapping 0 is powers_on, 5 the first faults option,
# 16 battery_health, 20 carrier_lock and 23 the appended one. A test below pins these positions.
SEMANTIC_CASES = [
    ("duplicate question id", _mutate_duplicate_question, "$.sections[1].questions[2].id", "duplicate_id"),
    (
        "duplicate option id",
        _mutate_duplicate_option,
        "$.sections[1].questions[0].options[4].id",
        "duplicate_id",
    ),
    ("show_if forward", _mutate_forward_reference, "$.sections[0].questions[1].show_if", "forward_reference"),
    (
        "show_if option",
        _mutate_unknown_show_if_option,
        "$.sections[6].questions[0].show_if",
        "unknown_option",
    ),
    ("show_if kind", _mutate_operator_kind, "$.sections[1].questions[1].show_if", "operator_mismatch"),
    (
        "at_least unordered",
        _mutate_at_least_unordered,
        "$.sections[0].questions[1].show_if",
        "operator_mismatch",
    ),
    ("audience", _mutate_audience, "$.sections[8].questions[2].show_if", "audience_mismatch"),
    ("range", _mutate_range, "$.sections[4].questions[1].number", "range"),
    ("duplicate rule", _mutate_duplicate_rule, "$.grading.rules[40].id", "duplicate_id"),
    ("rule unknown question", _mutate_rule_unknown_question, "$.grading.rules[0].when", "unknown_question"),
    ("rule wrong direction", _mutate_rule_wrong_direction, "$.grading.rules[0].when", "not_monotone"),
    ("rule negated", _mutate_rule_negated, "$.grading.rules[3].when.not", "not_monotone"),
    ("rule in", _mutate_rule_in, "$.grading.rules[3].when", "not_monotone"),
    ("rule neutral question", _mutate_rule_neutral_question, "$.grading.rules[0].when", "not_monotone"),
    ("rule lacks on more", _mutate_rule_lacks_on_more, "$.grading.rules[15].when", "not_monotone"),
    ("rule greater on lower", _mutate_rule_greater_on_lower, "$.grading.rules[27].when", "not_monotone"),
    ("rule unknown option", _mutate_rule_unknown_option, "$.grading.rules[3].when", "unknown_option"),
    ("duplicate grade", _mutate_duplicate_grade, "$.grading.pricing_grades[2].id", "duplicate_id"),
    ("no catch-all", _mutate_no_catch_all, "$.grading.pricing_grades[4].at_worst", "no_catch_all"),
    ("duplicate mapping", _mutate_duplicate_mapping, "$.diagnostics[23]", "duplicate_mapping"),
    ("mapping question", _mutate_mapping_unknown_question, "$.diagnostics[23].question", "unknown_question"),
    ("mapping yes/no", _mutate_mapping_shape_yes_no, "$.diagnostics[0]", "mapping_mismatch"),
    ("mapping single", _mutate_mapping_shape_single, "$.diagnostics[20]", "mapping_mismatch"),
    ("mapping multiple", _mutate_mapping_shape_multiple, "$.diagnostics[5]", "mapping_mismatch"),
    ("mapping number", _mutate_mapping_shape_number, "$.diagnostics[16]", "mapping_mismatch"),
    ("mapping option", _mutate_mapping_unknown_option, "$.diagnostics[20].fail", "unknown_option"),
    (
        "mapping multiple option",
        _mutate_mapping_unknown_multiple_option,
        "$.diagnostics[5].option",
        "unknown_option",
    ),
]


def test_semantic_case_paths_point_at_the_named_parts() -> None:
    """The positions the semantic cases use are those of the rules and mappings they change."""
    document = _smartphone()
    rules = [rule["id"] for rule in document["grading"]["rules"]]
    assert [
        rules.index(name) for name in ("no_power", "display_cracked", "fault_buttons", "battery_worn_out")
    ] == [
        0,
        3,
        15,
        27,
    ]
    assert len(rules) == 40
    mappings = [mapping["question"] for mapping in document["diagnostics"]]
    assert [mappings.index(name) for name in ("powers_on", "faults", "battery_health", "carrier_lock")] == [
        0,
        5,
        16,
        20,
    ]
    assert len(mappings) == 23


@pytest.mark.parametrize(
    ("mutate", "path", "code"), [case[1:] for case in SEMANTIC_CASES], ids=[c[0] for c in SEMANTIC_CASES]
)
def test_semantic_problem_is_reported_with_path_and_code(
    mutate: Callable[[dict[str, Any]], None], path: str, code: str
) -> None:
    """Each rule beyond the schema reports exactly one problem, at the JSON path of the offending part."""
    document = _smartphone()
    mutate(document)
    assert schema_problems("questionnaire", document) == []
    with pytest.raises(gq.QuestionnaireInvalidError) as caught:
        gq.build_questionnaire(document)
    assert [(problem.path, problem.code) for problem in caught.value.problems] == [(path, code)]


def test_validate_file_lists_semantic_problems(write_json: Callable[[str, object], Path]) -> None:
    """validate_questionnaire_file() returns the same problems instead of raising."""
    document = _smartphone()
    _mutate_no_catch_all(document)
    _mutate_range(document)
    problems = gq.validate_questionnaire_file(write_json("shop.json", document))
    assert [(p.path, p.code) for p in problems] == [
        ("$.sections[4].questions[1].number", "range"),
        ("$.grading.pricing_grades[4].at_worst", "no_catch_all"),
    ]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("yes_no", {"options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}),
        ("single_choice", {}),
        (
            "multiple_choice",
            {"worse": "later", "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]},
        ),
        ("number", {"options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]}),
    ],
    ids=["yes_no with options", "single without options", "multiple with later", "number without range"],
)
def test_schema_rejects_a_question_whose_parts_do_not_fit_its_kind(kind: str, extra: dict[str, Any]) -> None:
    """The schema ties options, ranges and the damage direction to the question's kind."""
    document = _smartphone()
    document["sections"][0]["questions"].append({"id": "extra", "kind": kind, "text": "Extra?", **extra})
    paths = {path for path, _ in schema_problems("questionnaire", document)}
    assert paths
    assert all(path.startswith("$.sections[0].questions[2]") for path in paths)


def test_schema_rejects_a_condition_with_two_operators() -> None:
    """A condition leaf names exactly one operator."""
    document = _smartphone()
    _question(document, "find_my_off")["show_if"] = {"question": "platform", "in": ["ios"], "is": True}
    paths = {path for path, _ in schema_problems("questionnaire", document)}
    assert paths == {"$.sections[6].questions[0].show_if"}


def test_shop_questionnaire_with_own_translations(
    tmp_path: Path, write_json: Callable[[str, object], Path]
) -> None:
    """A shop's own questionnaire loads with its own catalog folder, which wins over the bundled one."""
    from babel.messages.catalog import Catalog  # noqa: PLC0415
    from babel.messages.mofile import write_mo  # noqa: PLC0415

    document = _smartphone()
    document["id"] = "shop-phone"
    _question(document, "powers_on")["text"] = "Does the phone boot to the home screen?"
    catalog = Catalog(locale="de", domain="tradein")
    catalog.add("Does the phone boot to the home screen?", "Startet das Telefon bis zum Startbildschirm?")
    catalog.add("Yes", "Jawohl")
    folder = tmp_path / "shop-locales" / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "tradein.mo").open("wb") as handle:
        write_mo(handle, catalog)

    questionnaire = gq.load_questionnaire_file(
        write_json("shop.json", document), extra_locale_dirs=[tmp_path / "shop-locales"]
    )
    rendered = questionnaire.render("de")
    question = rendered.sections[0].questions[1]
    assert question.text == "Startet das Telefon bis zum Startbildschirm?"
    assert question.options[0].label == "Jawohl"  # the shop's catalog wins
    assert question.options[1].label == "Nein"  # the bundled catalog fills in the rest
    assert questionnaire.translate("Display", "de") == "Bildschirm"
