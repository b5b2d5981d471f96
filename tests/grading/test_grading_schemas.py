"""Tests for grading_questionnaire._schemas and ._resources: the shared schema registry and folders."""

from __future__ import annotations

from typing import Any

import pytest

from grading_questionnaire._resources import shared_dir
from grading_questionnaire._schemas import content_hash, json_path, validator

NAMES = ["answers", "condition-report", "diagnostics", "questionnaire", "rendered-questionnaire"]


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_questionnaire_schemas_are_valid_draft_2020_12(name: str) -> None:
    """Each schema of the questionnaire package is itself a valid Draft 2020-12 schema with its $id."""
    schema = validator(name).schema
    assert isinstance(schema, dict)
    validator(name).check_schema(schema)
    assert schema["$id"] == f"urn:tradein-sdk:schemas:{name}"


def test_unknown_schema_name_is_a_key_error() -> None:
    """Asking for a schema that does not exist raises KeyError."""
    with pytest.raises(KeyError, match="no schema named"):
        validator("nothing")


def test_json_path_joins_keys_and_indexes() -> None:
    """json_path() writes keys with dots and indexes in brackets."""
    assert json_path("sections", 2, "questions", 0, "id") == "$.sections[2].questions[0].id"
    assert json_path() == "$"


def test_content_hash_is_canonical() -> None:
    """content_hash() ignores key order."""
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_missing_shared_folder_is_reported() -> None:
    """A shared folder that exists nowhere raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        shared_dir("no-such-folder")


@pytest.mark.parametrize(
    ("answers", "valid"),
    [
        ({"powers_on": True, "display_glass": "cracked", "faults": [], "battery_health": 88.5}, True),
        ({"Powers On": True}, False),
        ({"faults": ["a", "a"]}, False),
        ({"faults": [1]}, False),
        ({"powers_on": None}, False),
    ],
    ids=["typical", "bad key", "repeated option", "non-id option", "null"],
)
def test_answers_schema_describes_the_answers_format(answers: dict[str, Any], *, valid: bool) -> None:
    """The answers schema takes ids with true/false, an option id, distinct option ids or a number."""
    assert validator("answers").is_valid(answers) is valid
