"""The condition language of questionnaires: when a question shows, and when a grading rule fires.

A condition is ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or a leaf naming a question
and one operator:

============== ================== ==========================================================
operator       question kind      holds when the answer ...
============== ================== ==========================================================
``is``         yes_no             is this value (``true`` or ``false``)
``in``         single_choice      is one of these option ids
``at_least``   single_choice      is this option or a later one (options run best to worst)
``includes``   multiple_choice    selects this option
``lacks``      multiple_choice    does not select this option
``less_than``  number             is strictly below this value
``greater_than`` number           is strictly above this value
============== ================== ==========================================================

A leaf on a question without an answer is false (so ``not`` of it is true).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    Predicate = Callable[[Mapping[str, Any]], bool]


class Operator(StrEnum):
    """An operator of a condition leaf (see the module documentation)."""

    IS = "is"
    IN = "in"
    AT_LEAST = "at_least"
    INCLUDES = "includes"
    LACKS = "lacks"
    LESS_THAN = "less_than"
    GREATER_THAN = "greater_than"


@attrs.frozen(kw_only=True)
class AnswerCondition:
    """A leaf: the answer to ``question`` compared by ``operator`` with ``operand``.

    Attributes:
        question: the id of the question.
        operator: how the answer is compared.
        operand: ``True``/``False`` (is), option ids (in), an option id (at_least, includes, lacks)
            or a number (less_than, greater_than).
    """

    question: str
    operator: Operator
    operand: bool | str | tuple[str, ...] | float

    def to_json(self) -> dict[str, Any]:
        """Return the condition's JSON form."""
        operand = list(self.operand) if isinstance(self.operand, tuple) else self.operand
        return {"question": self.question, self.operator.value: operand}


@attrs.frozen(kw_only=True)
class AllOf:
    """Holds when every one of ``conditions`` holds."""

    conditions: tuple[Condition, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the condition's JSON form."""
        return {"all": [condition.to_json() for condition in self.conditions]}


@attrs.frozen(kw_only=True)
class AnyOf:
    """Holds when at least one of ``conditions`` holds."""

    conditions: tuple[Condition, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the condition's JSON form."""
        return {"any": [condition.to_json() for condition in self.conditions]}


@attrs.frozen(kw_only=True)
class Not:
    """Holds when ``condition`` does not."""

    condition: Condition

    def to_json(self) -> dict[str, Any]:
        """Return the condition's JSON form."""
        return {"not": self.condition.to_json()}


Condition = AnswerCondition | AllOf | AnyOf | Not


def parse_condition(document: Mapping[str, Any]) -> Condition:
    """Build a condition from its JSON form (already valid against the questionnaire schema)."""
    if "all" in document:
        return AllOf(conditions=tuple(parse_condition(item) for item in document["all"]))
    if "any" in document:
        return AnyOf(conditions=tuple(parse_condition(item) for item in document["any"]))
    if "not" in document:
        return Not(condition=parse_condition(document["not"]))
    (name,) = (key for key in document if key != "question")
    operand = document[name]
    return AnswerCondition(
        question=document["question"],
        operator=Operator(name),
        operand=tuple(operand) if isinstance(operand, list) else operand,
    )


def leaves(condition: Condition, path: str) -> Iterator[tuple[AnswerCondition, str, bool]]:
    """Yield every leaf with its JSON path and whether it sits below a ``not``."""
    yield from _leaves(condition, path, negated=False)


def _leaves(condition: Condition, path: str, *, negated: bool) -> Iterator[tuple[AnswerCondition, str, bool]]:
    if isinstance(condition, AnswerCondition):
        yield condition, path, negated
    elif isinstance(condition, Not):
        yield from _leaves(condition.condition, f"{path}.not", negated=not negated)
    else:
        name = "all" if isinstance(condition, AllOf) else "any"
        for index, item in enumerate(condition.conditions):
            yield from _leaves(item, f"{path}.{name}[{index}]", negated=negated)


def compile_condition(condition: Condition, option_ranks: Mapping[str, Mapping[str, int]]) -> Predicate:
    """Turn a condition into a fast predicate over a mapping of valid answers.

    Args:
        condition: a condition whose questions and options exist (checked by the loader).
        option_ranks: for each single-choice question, each option id's position.

    Returns:
        A function of the answers that tells whether the condition holds.
    """
    if isinstance(condition, AllOf):
        parts = tuple(compile_condition(item, option_ranks) for item in condition.conditions)
        return lambda answers: all(part(answers) for part in parts)
    if isinstance(condition, AnyOf):
        parts = tuple(compile_condition(item, option_ranks) for item in condition.conditions)
        return lambda answers: any(part(answers) for part in parts)
    if isinstance(condition, Not):
        inner = compile_condition(condition.condition, option_ranks)
        return lambda answers: not inner(answers)
    return _compile_leaf(condition, option_ranks)


def _compile_leaf(  # noqa: C901, PLR0911 - one small closure per operator reads best side by side
    leaf: AnswerCondition, option_ranks: Mapping[str, Mapping[str, int]]
) -> Predicate:
    question, operand = leaf.question, leaf.operand
    match leaf.operator:
        case Operator.IS:
            return lambda answers: answers.get(question) is operand
        case Operator.IN:
            options = frozenset(operand if isinstance(operand, tuple) else (operand,))
            return lambda answers: answers.get(question) in options
        case Operator.AT_LEAST:
            ranks = option_ranks[question]
            threshold = ranks[str(operand)]

            def at_least(answers: Mapping[str, Any]) -> bool:
                value = answers.get(question)
                return value is not None and ranks[value] >= threshold

            return at_least
        case Operator.INCLUDES:

            def includes(answers: Mapping[str, Any]) -> bool:
                value = answers.get(question)
                return value is not None and operand in value

            return includes
        case Operator.LACKS:

            def lacks(answers: Mapping[str, Any]) -> bool:
                value = answers.get(question)
                return value is not None and operand not in value

            return lacks
        case Operator.LESS_THAN:

            def less_than(answers: Mapping[str, Any]) -> bool:
                value = answers.get(question)
                return value is not None and value < operand

            return less_than
        case Operator.GREATER_THAN:  # pragma: no branch - the enum has no other member

            def greater_than(answers: Mapping[str, Any]) -> bool:
                value = answers.get(question)
                return value is not None and value > operand

            return greater_than
