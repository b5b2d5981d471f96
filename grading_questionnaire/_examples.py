"""Example answer sets shipped beside each bundled definition.

``definitions/examples/<category>/<name>.json`` holds answers in the format of
``schemas/answers.schema.json`` (``flawless``, ``worn``, ``cracked-display``, ``activation-locked``,
...); ``definitions/examples/<category>/diagnostics/<name>.json`` holds diagnostics documents. They
serve the README, the tests and anyone trying the library out.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from grading_questionnaire._definition import DEFINITIONS_DIR
from grading_questionnaire._errors import QuestionnaireNotFoundError

EXAMPLES_DIR = DEFINITIONS_DIR / "examples"


@attrs.frozen(kw_only=True)
class ExampleAnswers:
    """A bundled example answer set.

    Attributes:
        category: the device category whose questionnaire it answers.
        name: its name (``cracked-display``).
        answers: the decoded answers document, ready for :meth:`Questionnaire.evaluate`.
    """

    category: str
    name: str
    answers: dict[str, Any]


def example_answer_names(category: str) -> tuple[str, ...]:
    """Return the names of the example answer sets for ``category``, sorted.

    Args:
        category: a device category with a bundled questionnaire.

    Returns:
        Names such as ``activation-locked``, ``cracked-display``, ``flawless`` and ``worn``.

    Raises:
        QuestionnaireNotFoundError: no examples exist for that category.
    """
    folder = EXAMPLES_DIR / category
    if not folder.is_dir():
        known = sorted(path.name for path in EXAMPLES_DIR.iterdir() if path.is_dir())
        raise QuestionnaireNotFoundError(category, known)
    return tuple(sorted(path.stem for path in folder.glob("*.json")))


def example_answers(category: str, name: str) -> ExampleAnswers:
    """Return one bundled example answer set.

    Args:
        category: a device category with a bundled questionnaire.
        name: the example's name (see :func:`example_answer_names`).

    Returns:
        The example, with its answers freshly decoded (changing them changes no other copy).

    Raises:
        QuestionnaireNotFoundError: no such category or example.
    """
    names = example_answer_names(category)
    if name not in names:
        raise QuestionnaireNotFoundError(f"{category}/{name}", names)
    path = EXAMPLES_DIR / category / f"{name}.json"
    return ExampleAnswers(category=category, name=name, answers=json.loads(path.read_text(encoding="utf-8")))


def example_diagnostics(category: str, name: str) -> dict[str, Any]:
    """Return a bundled example diagnostics document (``schemas/diagnostics.schema.json``).

    Args:
        category: a device category with a bundled questionnaire.
        name: the document's name, such as ``camera-fault``.

    Returns:
        The decoded document, ready for :meth:`Questionnaire.import_diagnostics`.

    Raises:
        QuestionnaireNotFoundError: no such category or document.
    """
    folder = EXAMPLES_DIR / category / "diagnostics"
    names = sorted(path.stem for path in folder.glob("*.json"))
    if name not in names:
        raise QuestionnaireNotFoundError(f"{category}/diagnostics/{name}", names)
    document: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return document
