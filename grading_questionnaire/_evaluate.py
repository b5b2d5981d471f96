"""The evaluator: answers in, a :class:`ConditionReport` out. Pure and deterministic.

1. Automated test results (if any) are merged in: they win, and are marked ``measured``.
2. The answers are checked in questionnaire order. A question is shown when its ``show_if`` holds on
   the valid answers before it, and (for a staff-only check) when staff or a tool gives the answers.
   A question whose ``show_if`` reads an invalid or missing answer is skipped, so one mistake is
   reported once. Every problem is collected; if there is any, :class:`AnswersInvalidError` lists them.
3. Each grading rule whose condition holds is a finding: every dimension it names becomes at least that
   bad (the worst finding wins), and its knockout, if any, applies. A finding is left out of the report
   when a stricter finding on the same answer fired and lowers the same dimensions at least as far
   ("light scratches" when the glass is cracked): rules are thresholds, so both fire.
4. With a knockout the device is ``recycle_only`` and has no pricing grade; otherwise the pricing grade
   is the first row of the table whose ``at_worst`` limits every dimension respects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import attrs

from grading_questionnaire._answers import AnswerValue
from grading_questionnaire._conditions import AnswerCondition, Operator, compile_condition, leaves
from grading_questionnaire._errors import AnswerProblem, AnswersInvalidError
from grading_questionnaire._grades import (
    Acceptance,
    BatteryState,
    CosmeticGrade,
    DimensionValues,
    LiquidDamage,
    LockStatus,
    QuestionKind,
    VerificationDepth,
    scale_value,
)
from grading_questionnaire._i18n import N_
from grading_questionnaire._schemas import schema_problems

if TYPE_CHECKING:
    from collections.abc import Callable

    from grading_questionnaire._definition import GradingRule, Question, Questionnaire
    from grading_questionnaire._diagnostics import DiagnosticsResult


@attrs.frozen(kw_only=True)
class Knockout:
    """A reason the device cannot get a price (it can still be recycled for free).

    Attributes:
        code: the stable reason code (``activation_lock_on``, ``battery_swollen``, ``counterfeit``).
        finding: the id of the finding that raised it.
        message_id: the English explanation, a gettext msgid.
    """

    code: str
    finding: str
    message_id: str

    def to_json(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"code": self.code, "finding": self.finding, "message_id": self.message_id}


@attrs.frozen(kw_only=True)
class Finding:
    """A grading rule that fired: what the answers showed and what it lowered.

    Attributes:
        id: the rule's id.
        message_id: the English explanation, a gettext msgid.
        questions: the questions whose answers triggered it.
        sets: the dimensions it lowered and to what.
        knockout: the knockout code it raised, or ``None``.
        decisive: whether it set a dimension's final value (or raised a knockout); a finding that is
            not decisive was outweighed by a worse one on each dimension it names.
    """

    id: str
    message_id: str
    questions: tuple[str, ...]
    sets: DimensionValues
    knockout: str | None = None
    decisive: bool

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "message_id": self.message_id,
            "questions": list(self.questions),
            "set": self.sets.to_json(),
            "knockout": self.knockout,
            "decisive": self.decisive,
        }


@attrs.frozen(kw_only=True)
class ConditionReport:
    """The graded condition of one device: what a price is computed from.

    Attributes:
        questionnaire_id: the questionnaire answered.
        questionnaire_version: its version.
        questionnaire_hash: its content hash (``sha256:...``).
        category: the device category.
        verification: the weakest evidence among the answers (self-declared, staff-verified or
            measured).
        cosmetic: the cosmetic grade, ``A`` (like new) to ``D``.
        functional: the functional grade, ``0`` (fully functional) to ``9``.
        lock: the lock status.
        battery: the battery state.
        liquid: the liquid-damage level.
        acceptance: ``priced``, or ``recycle_only`` when a knockout applies.
        pricing_grade: the pricing grade's id, ``None`` when a knockout applies.
        knockouts: every knockout, in rule order.
        findings: every rule that fired, in rule order.
        pending_checks: staff-only checks that apply but were not answered (for example the blocklist
            check of a shopper's online answers): a price based on this report is an estimate.
        answers: the valid answers the grade rests on (multiple choice as a tuple in option order).
        sources: how each answer was obtained.
    """

    questionnaire_id: str
    questionnaire_version: str
    questionnaire_hash: str
    category: str
    verification: VerificationDepth
    cosmetic: CosmeticGrade
    functional: int
    lock: LockStatus
    battery: BatteryState
    liquid: LiquidDamage
    acceptance: Acceptance
    pricing_grade: str | None
    knockouts: tuple[Knockout, ...] = ()
    findings: tuple[Finding, ...] = ()
    pending_checks: tuple[str, ...] = ()
    answers: Mapping[str, AnswerValue]
    sources: Mapping[str, VerificationDepth]

    @property
    def knockout_codes(self) -> tuple[str, ...]:
        """The codes of the knockouts, in rule order."""
        return tuple(knockout.code for knockout in self.knockouts)

    @property
    def dimensions(self) -> DimensionValues:
        """The five dimensions together."""
        return DimensionValues(
            cosmetic=self.cosmetic,
            functional=self.functional,
            lock=self.lock,
            battery=self.battery,
            liquid=self.liquid,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (``schemas/condition-report.schema.json``)."""
        return {
            "questionnaire": {
                "id": self.questionnaire_id,
                "version": self.questionnaire_version,
                "category": self.category,
                "content_hash": self.questionnaire_hash,
            },
            "verification": self.verification.value,
            "cosmetic": self.cosmetic.value,
            "functional": self.functional,
            "lock": self.lock.value,
            "battery": self.battery.value,
            "liquid": self.liquid.value,
            "acceptance": self.acceptance.value,
            "pricing_grade": self.pricing_grade,
            "knockouts": [knockout.to_json() for knockout in self.knockouts],
            "findings": [finding.to_json() for finding in self.findings],
            "pending_checks": list(self.pending_checks),
            "answers": {
                key: list(value) if isinstance(value, tuple) else value for key, value in self.answers.items()
            },
            "sources": {key: value.value for key, value in self.sources.items()},
        }

    @classmethod
    def from_json(cls, document: object) -> Self:
        """Rebuild a report from its JSON form (for example, one a quote stored).

        Args:
            document: the decoded JSON report.

        Returns:
            The report.

        Raises:
            ValueError: the document does not match ``schemas/condition-report.schema.json``; the
                message lists each problem with its JSON path.
        """
        problems = schema_problems("condition-report", document)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        assert isinstance(document, dict)  # noqa: S101 - the schema made sure
        meta = document["questionnaire"]
        return cls(
            questionnaire_id=meta["id"],
            questionnaire_version=meta["version"],
            questionnaire_hash=meta["content_hash"],
            category=meta["category"],
            verification=VerificationDepth(document["verification"]),
            cosmetic=CosmeticGrade(document["cosmetic"]),
            functional=document["functional"],
            lock=LockStatus(document["lock"]),
            battery=BatteryState(document["battery"]),
            liquid=LiquidDamage(document["liquid"]),
            acceptance=Acceptance(document["acceptance"]),
            pricing_grade=document["pricing_grade"],
            knockouts=tuple(Knockout(**knockout) for knockout in document["knockouts"]),
            findings=tuple(
                Finding(
                    id=finding["id"],
                    message_id=finding["message_id"],
                    questions=tuple(finding["questions"]),
                    sets=DimensionValues.from_json(finding["set"]),
                    knockout=finding["knockout"],
                    decisive=finding["decisive"],
                )
                for finding in document["findings"]
            ),
            pending_checks=tuple(document["pending_checks"]),
            answers={
                key: tuple(value) if isinstance(value, list) else value
                for key, value in document["answers"].items()
            },
            sources={key: VerificationDepth(value) for key, value in document["sources"].items()},
        )


# Messages of answer problems (shown by store terminals, so translated) ------------------------------

_NOT_AN_OBJECT = N_("The answers must be an object keyed by question id.")
_UNKNOWN_QUESTION = N_("There is no question “{question}”.")
_NOT_SHOWN = N_("This question is not asked, given the other answers.")
_STAFF_ONLY = N_("This is checked in store or by diagnostics, not declared by the shopper.")
_MISSING = N_("Please answer this question.")
_YES_NO = N_("Answer yes or no.")
_ONE_OPTION = N_("Choose one of the options.")
_OPTION_LIST = N_("Choose a list of options.")
_NUMBER = N_("Enter a number.")
_WHOLE_NUMBER = N_("Enter a whole number.")
_NOT_OFFERED = N_("“{option}” is not one of the options.")
_DUPLICATE = N_("“{option}” is chosen more than once.")
_OUT_OF_RANGE = N_("Enter a number from {minimum} to {maximum}.")

_INVALID: Any = object()
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _key_path(key: object) -> str:
    text = str(key)
    if _SIMPLE_KEY.fullmatch(text):
        return f"$.{text}"
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"$['{escaped}']"


def _problem(path: str, code: str, message_id: str, **params: object) -> AnswerProblem:
    return AnswerProblem(path=path, code=code, message_id=message_id, params=params)


class _CompiledQuestion:
    """A question prepared for fast checking."""

    __slots__ = (
        "check",
        "depends",
        "id",
        "path",
        "required",
        "staff_only",
        "visible",
    )

    def __init__(self, question: Question, option_ranks: Mapping[str, Mapping[str, int]]) -> None:
        self.id = question.id
        self.path = _key_path(question.id)
        self.required = question.required
        self.staff_only = question.staff_only
        self.visible = None if question.show_if is None else compile_condition(question.show_if, option_ranks)
        self.depends = (
            frozenset(leaf.question for leaf, _, _ in leaves(question.show_if, "$"))
            if question.show_if is not None
            else frozenset()
        )
        self.check: Callable[[object, list[AnswerProblem]], Any] = _checker(question)


def _checker(question: Question) -> Callable[[object, list[AnswerProblem]], Any]:  # noqa: C901
    path = _key_path(question.id)
    if question.kind is QuestionKind.YES_NO:

        def check_yes_no(value: object, problems: list[AnswerProblem]) -> Any:  # noqa: ANN401
            if value is True or value is False:
                return value
            problems.append(_problem(path, "wrong_type", _YES_NO))
            return _INVALID

        return check_yes_no

    option_ids = question.option_ids
    offered = frozenset(option_ids)
    if question.kind is QuestionKind.SINGLE_CHOICE:

        def check_single(value: object, problems: list[AnswerProblem]) -> Any:  # noqa: ANN401
            if type(value) is not str:
                problems.append(_problem(path, "wrong_type", _ONE_OPTION))
                return _INVALID
            if value not in offered:
                problems.append(_problem(path, "option_not_offered", _NOT_OFFERED, option=value))
                return _INVALID
            return value

        return check_single

    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        order = {option: index for index, option in enumerate(option_ids)}

        def check_multiple(value: object, problems: list[AnswerProblem]) -> Any:  # noqa: ANN401
            if type(value) is not list and type(value) is not tuple:
                problems.append(_problem(path, "wrong_type", _OPTION_LIST))
                return _INVALID
            if not value:
                return ()
            before = len(problems)
            seen: set[str] = set()
            for index, item in enumerate(value):
                if type(item) is not str:
                    problems.append(_problem(f"{path}[{index}]", "wrong_type", _ONE_OPTION))
                elif item not in offered:
                    problems.append(
                        _problem(f"{path}[{index}]", "option_not_offered", _NOT_OFFERED, option=item)
                    )
                elif item in seen:
                    problems.append(_problem(f"{path}[{index}]", "duplicate_option", _DUPLICATE, option=item))
                else:
                    seen.add(item)
            if len(problems) > before:
                return _INVALID
            return tuple(sorted(seen, key=order.__getitem__))

        return check_multiple

    number = question.number
    assert number is not None  # noqa: S101 - a number question has a range (schema)
    minimum, maximum, integer = number.minimum, number.maximum, number.integer
    shown_min, shown_max = _plain(minimum), _plain(maximum)

    def check_number(value: object, problems: list[AnswerProblem]) -> Any:  # noqa: ANN401
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(_problem(path, "wrong_type", _NUMBER))
            return _INVALID
        if integer and value != int(value):
            problems.append(_problem(path, "wrong_type", _WHOLE_NUMBER))
            return _INVALID
        if not minimum <= value <= maximum:
            problems.append(
                _problem(path, "number_out_of_range", _OUT_OF_RANGE, minimum=shown_min, maximum=shown_max)
            )
            return _INVALID
        return int(value) if integer else value

    return check_number


def _plain(number: float) -> int | float:
    """Show ``80.0`` as ``80`` in messages."""
    return int(number) if float(number).is_integer() else number


class _CompiledRule:
    __slots__ = ("effects", "finding", "knockout", "outweighed", "superseded_by", "when")

    def __init__(self, rule: GradingRule, option_ranks: Mapping[str, Mapping[str, int]]) -> None:
        self.when = compile_condition(rule.when, option_ranks)
        ranks = rule.sets.ranks(missing=-1)
        self.effects = tuple((index, rank) for index, rank in enumerate(ranks) if rank >= 0)
        self.knockout = (
            None
            if rule.knockout is None
            else Knockout(code=rule.knockout, finding=rule.id, message_id=rule.message)
        )
        self.finding = Finding(
            id=rule.id,
            message_id=rule.message,
            questions=rule.questions,
            sets=rule.sets,
            knockout=rule.knockout,
            decisive=True,
        )
        self.outweighed = attrs.evolve(self.finding, decisive=False)
        self.superseded_by: frozenset[_CompiledRule] = frozenset()


def _supersedes(
    stricter: GradingRule, rule: GradingRule, option_ranks: Mapping[str, Mapping[str, int]]
) -> bool:
    """Whether ``stricter`` fires only when ``rule`` does and lowers everything ``rule`` lowers."""
    first, second = rule.when, stricter.when
    if not (
        isinstance(first, AnswerCondition)
        and isinstance(second, AnswerCondition)
        and first.question == second.question
        and first.operator is second.operator
        and first.operand != second.operand
    ):
        return False
    if first.operator is Operator.AT_LEAST:
        ranks = option_ranks[first.question]
        narrower = ranks[str(second.operand)] > ranks[str(first.operand)]
    elif first.operator is Operator.LESS_THAN:
        narrower = second.operand < first.operand  # type: ignore[operator] # numbers (schema)
    elif first.operator is Operator.GREATER_THAN:
        narrower = second.operand > first.operand  # type: ignore[operator] # numbers (schema)
    else:
        return False
    lowered = stricter.sets.ranks(missing=-1)
    return (
        narrower
        and rule.knockout in (None, stricter.knockout)
        and all(rank <= lowered[index] for index, rank in enumerate(rule.sets.ranks(missing=-1)) if rank >= 0)
    )


class Evaluator:
    """A questionnaire compiled for fast, repeated evaluation (built once per questionnaire)."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        """Compile the questionnaire's conditions, checks and rules."""
        self.questionnaire = questionnaire
        self.questions_by_id = {question.id: question for question in questionnaire.questions}
        option_ranks = {
            question.id: {option: rank for rank, option in enumerate(question.option_ids)}
            for question in questionnaire.questions
            if question.kind is QuestionKind.SINGLE_CHOICE
        }
        self._questions = tuple(
            _CompiledQuestion(question, option_ranks) for question in questionnaire.questions
        )
        self._rules = tuple(_CompiledRule(rule, option_ranks) for rule in questionnaire.rules)
        rules = questionnaire.rules
        for compiled, rule in zip(self._rules, rules, strict=True):
            compiled.superseded_by = frozenset(
                other
                for other, candidate in zip(self._rules, rules, strict=True)
                if _supersedes(candidate, rule, option_ranks)
            )
        self._grades = tuple(
            (grade.id, grade.at_worst.ranks(missing=10)) for grade in questionnaire.pricing_grades
        )

    def problems(
        self,
        answers: object,
        verification: VerificationDepth,
        diagnostics: DiagnosticsResult | None,
    ) -> tuple[AnswerProblem, ...]:
        """Return every problem of ``answers`` (see :meth:`Questionnaire.answer_problems`)."""
        return tuple(self._check(answers, verification, diagnostics)[2])

    def evaluate(
        self,
        answers: object,
        verification: VerificationDepth,
        diagnostics: DiagnosticsResult | None,
    ) -> ConditionReport:
        """Check and grade ``answers`` (see :meth:`Questionnaire.evaluate`)."""
        accepted, sources, problems, pending = self._check(answers, verification, diagnostics)
        if problems:
            raise AnswersInvalidError(questionnaire_id=self.questionnaire.id, problems=problems)
        worst = [0, 0, 0, 0, 0]
        fired = [rule for rule in self._rules if rule.when(accepted)]
        if len(fired) > 1:
            firing = set(fired)
            fired = [rule for rule in fired if rule.superseded_by.isdisjoint(firing)]
        for rule in fired:
            for index, rank in rule.effects:
                worst[index] = max(worst[index], rank)
        findings = tuple(
            rule.finding
            if rule.knockout is not None or any(worst[index] == rank for index, rank in rule.effects)
            else rule.outweighed
            for rule in fired
        )
        knockouts = tuple(rule.knockout for rule in fired if rule.knockout is not None)
        grade = None if knockouts else self._pricing_grade(worst)
        used = {key: sources[key] for key in accepted}
        weakest = min(used.values(), key=_STRENGTH.__getitem__) if used else verification
        questionnaire = self.questionnaire
        return ConditionReport(
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            questionnaire_hash=questionnaire.content_hash,
            category=questionnaire.category,
            verification=weakest,
            cosmetic=scale_value("cosmetic", worst[0]),
            functional=worst[1],
            lock=scale_value("lock", worst[2]),
            battery=scale_value("battery", worst[3]),
            liquid=scale_value("liquid", worst[4]),
            acceptance=Acceptance.RECYCLE_ONLY if knockouts else Acceptance.PRICED,
            pricing_grade=grade,
            knockouts=knockouts,
            findings=findings,
            pending_checks=tuple(pending),
            answers=accepted,
            sources=used,
        )

    def _pricing_grade(self, worst: list[int]) -> str:
        for grade, limits in self._grades:  # pragma: no branch - the last row is a catch-all
            if all(rank <= limit for rank, limit in zip(worst, limits, strict=True)):
                return grade
        raise AssertionError("the pricing-grade table has no catch-all row")  # pragma: no cover

    def _check(  # noqa: C901 - one pass over the questions keeps evaluation fast
        self,
        answers: object,
        verification: VerificationDepth,
        diagnostics: DiagnosticsResult | None,
    ) -> tuple[dict[str, Any], dict[str, VerificationDepth], list[AnswerProblem], list[str]]:
        problems: list[AnswerProblem] = []
        if type(answers) is not dict:
            if not isinstance(answers, Mapping):
                problems.append(_problem("$", "wrong_type", _NOT_AN_OBJECT))
                return {}, {}, problems, []
            answers = dict(answers)
        values: dict[Any, Any] = answers
        sources = dict.fromkeys(answers, verification)
        if diagnostics is not None:
            values, sources = diagnostics.merge(answers, verification, self.questions_by_id)
        staff = verification is not VerificationDepth.SELF_DECLARED
        accepted: dict[str, Any] = {}
        skipped: set[str] = set()
        pending: list[str] = []
        for question in self._questions:
            key = question.id
            if question.depends and not question.depends.isdisjoint(skipped):
                skipped.add(key)
                continue
            present = key in values
            shown = question.visible is None or question.visible(accepted)
            asked = (
                not question.staff_only or staff or (present and sources[key] is VerificationDepth.MEASURED)
            )
            if shown and asked and present:
                value = question.check(values[key], problems)
                if value is _INVALID:
                    skipped.add(key)
                else:
                    accepted[key] = value
            elif shown and asked and question.required:
                problems.append(_problem(question.path, "missing_answer", _MISSING))
                skipped.add(key)
            elif present:
                message = _NOT_SHOWN if asked else _STAFF_ONLY
                problems.append(_problem(question.path, "question_not_shown", message))
                skipped.add(key)
            elif shown and question.staff_only:
                pending.append(key)
        if not values.keys() <= self.questions_by_id.keys():
            problems.extend(
                _problem(_key_path(key), "unknown_question", _UNKNOWN_QUESTION, question=str(key))
                for key in values
                if key not in self.questions_by_id
            )
        return accepted, sources, problems, pending


_STRENGTH = {depth: depth.rank for depth in VerificationDepth}
