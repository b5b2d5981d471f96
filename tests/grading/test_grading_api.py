"""The public surface of grading_questionnaire: exports, cheap import, independence, examples, errors."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import grading_questionnaire as gq

if TYPE_CHECKING:
    from collections.abc import Callable

PACKAGE = Path(gq.__file__).resolve().parent


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted (constants first) and lists every public name the package defines."""
    names = list(gq.__all__)
    assert names == sorted(names, key=lambda name: (not name.isupper(), name))
    assert dir(gq) == sorted(names)
    for name in names:  # every name resolves, the lazily loaded ones included
        assert getattr(gq, name) is not None, name
    helpers = {"annotations", "TYPE_CHECKING", "importlib"}
    public = {name for name in vars(gq) if not name.startswith("_")} - helpers
    modules = {name for name, value in vars(gq).items() if inspect.ismodule(value)}
    assert public - modules <= set(names)
    assert "DOMAIN" in names
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = gq.Nope


def test_public_callables_have_docstrings() -> None:
    """Every exported class and function says what it does."""
    undocumented = [
        name for name in gq.__all__ if callable(getattr(gq, name)) and not getattr(gq, name).__doc__
    ]
    assert undocumented == []


def test_import_is_cheap() -> None:
    """Importing the package loads neither jsonschema nor Babel, and no definition."""
    code = (
        "import sys, grading_questionnaire\n"
        "heavy = [m for m in ('jsonschema', 'babel', 'referencing') if m in sys.modules]\n"
        "loaded = grading_questionnaire.load_questionnaire.cache_info().currsize\n"
        "print(heavy, loaded)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] 0"


def test_package_never_imports_tradein_sdk() -> None:
    """grading_questionnaire is the innermost layer: no module of it imports tradein_sdk."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("tradein_sdk") for alias in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("tradein_sdk"), path


def test_error_codes_are_stable_and_distinct() -> None:
    """Each exception class has its own documented code, and all derive from QuestionnaireError."""
    classes: list[type[gq.QuestionnaireError]] = [
        gq.QuestionnaireError,
        gq.QuestionnaireNotFoundError,
        gq.QuestionnaireInvalidError,
        gq.AnswersInvalidError,
        gq.DiagnosticsInvalidError,
        gq.UnknownLocaleError,
    ]
    codes = [cls.code for cls in classes]
    assert codes == [
        "questionnaire_error",
        "questionnaire_not_found",
        "questionnaire_invalid",
        "answers_invalid",
        "diagnostics_invalid",
        "unknown_locale",
    ]
    assert all(issubclass(cls, gq.QuestionnaireError) for cls in classes)
    doc = sys.modules["grading_questionnaire._errors"].__doc__ or ""
    assert all(code in doc for code in codes)
    answer_codes = [
        "wrong_type",
        "unknown_question",
        "question_not_shown",
        "missing_answer",
        "option_not_offered",
    ]
    assert all(f"``{code}``" in doc for code in [*answer_codes, "duplicate_option", "number_out_of_range"])


@pytest.mark.parametrize("category", ["smartphone", "smartwatch", "tablet"], ids=str)
def test_each_category_ships_the_named_examples(category: str) -> None:
    """Every category ships flawless, worn, cracked-display and activation-locked answer sets."""
    assert {"flawless", "worn", "cracked-display", "activation-locked"} <= set(
        gq.example_answer_names(category)
    )


def test_example_answers_are_fresh_copies() -> None:
    """Changing a returned example does not change the next one."""
    first = gq.example_answers("smartphone", "flawless")
    first.answers["powers_on"] = False
    assert gq.example_answers("smartphone", "flawless").answers["powers_on"] is True
    assert (first.category, first.name) == ("smartphone", "flawless")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: gq.example_answer_names("laptop"), "laptop"),
        (lambda: gq.example_answers("smartphone", "mint"), "smartphone/mint"),
        (lambda: gq.example_diagnostics("smartphone", "none"), "smartphone/diagnostics/none"),
    ],
    ids=["category", "answers", "diagnostics"],
)
def test_unknown_example_is_not_found(call: Callable[[], object], name: str) -> None:
    """Asking for an example that does not exist raises QuestionnaireNotFoundError naming it."""
    with pytest.raises(gq.QuestionnaireNotFoundError) as caught:
        call()
    assert caught.value.name == name
