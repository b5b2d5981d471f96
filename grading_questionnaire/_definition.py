"""Questionnaire definitions: loading, checking and the models they become.

A definition is a JSON document (``schemas/questionnaire.schema.json``). Loading checks it against the
schema, then against the rules a schema cannot state (unique ids, conditions that name earlier
questions and offered options, operators that fit the question, grading rules that only look in the
damage direction, a pricing-grade table that ends with a catch-all row). Every problem is reported with
its JSON path and a code; see :mod:`grading_questionnaire._errors`.

Bundled definitions live in ``grading_questionnaire/definitions/<category>.json``; each is loaded and
compiled once, on first use.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire._answers import NumberRange
from grading_questionnaire._conditions import (
    AnswerCondition,
    Condition,
    Operator,
    leaves,
    parse_condition,
)
from grading_questionnaire._errors import (
    DefinitionProblem,
    QuestionnaireInvalidError,
    QuestionnaireNotFoundError,
    UnknownLocaleError,
)
from grading_questionnaire._evaluate import Evaluator
from grading_questionnaire._grades import (
    Audience,
    DimensionValues,
    QuestionKind,
    VerificationDepth,
    Worse,
)
from grading_questionnaire._i18n import normalize_locale, translate
from grading_questionnaire._resources import package_dir
from grading_questionnaire._schemas import content_hash, schema_problems

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from grading_questionnaire._diagnostics import DiagnosticsResult
    from grading_questionnaire._errors import AnswerProblem
    from grading_questionnaire._evaluate import ConditionReport
    from grading_questionnaire._render import RenderedQuestionnaire

DEFINITIONS_DIR = package_dir("grading_questionnaire", "definitions")
"""Where the bundled definitions live: ``<category>.json``, and example answers in ``examples/``."""


@attrs.frozen(kw_only=True)
class Option:
    """An option of a choice question.

    Attributes:
        id: the value an answer uses.
        label: the English label, a gettext msgid.
        help: an optional English explanation, a gettext msgid.
    """

    id: str
    label: str
    help: str | None = None


@attrs.frozen(kw_only=True)
class Question:
    """A question of a questionnaire.

    Attributes:
        id: the key of its answer.
        kind: what kind of answer it takes.
        text: the English question, a gettext msgid.
        help: an optional English explanation, a gettext msgid.
        required: whether it must be answered when shown.
        staff_only: a check made in store or by diagnostics, never declared by the shopper.
        show_if: when it is shown (``None``: always).
        worse: which way an answer means more damage (``None``: the answer does not grade).
        options: the options of a choice question (empty otherwise).
        number: the range of a number question (``None`` otherwise).
        section: the id of the section it belongs to.
    """

    id: str
    kind: QuestionKind
    text: str
    help: str | None = None
    required: bool = True
    staff_only: bool = False
    show_if: Condition | None = None
    worse: Worse | None = None
    options: tuple[Option, ...] = ()
    number: NumberRange | None = None
    section: str

    @property
    def option_ids(self) -> tuple[str, ...]:
        """The ids of the options, in order."""
        return tuple(option.id for option in self.options)

    def shown_to(self, audience: Audience) -> bool:
        """Return whether ``audience`` is asked this question at all (its ``show_if`` aside)."""
        return audience is Audience.STAFF or not self.staff_only


@attrs.frozen(kw_only=True)
class Section:
    """A group of questions shown together.

    Attributes:
        id: a stable key.
        title: the English title, a gettext msgid.
        questions: the questions, in the order they are asked.
    """

    id: str
    title: str
    questions: tuple[Question, ...]


@attrs.frozen(kw_only=True)
class GradingRule:
    """A finding: when ``when`` holds, the dimensions in ``sets`` become at least that bad.

    Attributes:
        id: the finding's id, stable across versions.
        message: the English explanation shown to the shopper, a gettext msgid.
        when: the condition on the answers.
        sets: the dimensions it lowers and to what.
        knockout: a reason code that makes the device acceptable only for recycling, or ``None``.
        questions: the questions its condition reads, in order.
    """

    id: str
    message: str
    when: Condition
    sets: DimensionValues
    knockout: str | None = None
    questions: tuple[str, ...]


@attrs.frozen(kw_only=True)
class PricingGrade:
    """A row of the pricing-grade table.

    Attributes:
        id: the grade a price book keys its prices by.
        label: the English name, a gettext msgid.
        description: an optional English explanation, a gettext msgid.
        at_worst: the worst value each named dimension may have for this grade.
    """

    id: str
    label: str
    description: str | None = None
    at_worst: DimensionValues


@attrs.frozen(kw_only=True)
class DiagnosticsMapping:
    """How automated test results answer one question (see ``schemas/questionnaire.schema.json``).

    Attributes:
        question: the question answered.
        tests: the test ids read.
        option: for a multiple-choice question, the option a failed test selects.
        on_pass: for yes/no and single choice, the answer when every test passed.
        on_fail: for yes/no and single choice, the answer when a test failed.
    """

    question: str
    tests: tuple[str, ...]
    option: str | None = None
    on_pass: bool | str | None = None
    on_fail: bool | str | None = None


@attrs.frozen(kw_only=True)
class Questionnaire:
    """A loaded, checked questionnaire for one device category.

    Attributes:
        id: the questionnaire's id.
        version: its version.
        category: the device category it is for (``smartphone``).
        title: the English title, a gettext msgid.
        description: an optional English introduction, a gettext msgid.
        sections: the sections, in order.
        rules: the grading rules, in order.
        pricing_grades: the pricing-grade table, best to worst.
        diagnostics: how automated test results answer questions.
        content_hash: ``sha256:`` of the definition's canonical JSON; a quote records it.
        source: where the definition came from (a path, or ``<memory>``); not part of equality.
        extra_locale_dirs: the shop's own catalog folders, searched before the bundled ones.
    """

    id: str
    version: str
    category: str
    title: str
    description: str | None = None
    sections: tuple[Section, ...]
    rules: tuple[GradingRule, ...]
    pricing_grades: tuple[PricingGrade, ...]
    diagnostics: tuple[DiagnosticsMapping, ...] = ()
    content_hash: str
    source: str = attrs.field(default="<memory>", eq=False)
    extra_locale_dirs: tuple[Path, ...] = ()
    _document: Mapping[str, Any] = attrs.field(alias="document", eq=False, repr=False)
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in the order asked."""
        return tuple(question for section in self.sections for question in section.questions)

    def question(self, question_id: str) -> Question:
        """Return the question called ``question_id``.

        Args:
            question_id: the question's id.

        Returns:
            The question.

        Raises:
            KeyError: the questionnaire has no such question.
        """
        return self._evaluator().questions_by_id[question_id]

    def to_json(self) -> dict[str, Any]:
        """Return the definition's JSON form (a copy of the document it was loaded from)."""
        return copy.deepcopy(dict(self._document))

    def translate(self, message_id: str, locale: str) -> str:
        """Translate one of the questionnaire's msgids, the shop's catalogs first.

        Args:
            message_id: an English msgid (a question text, an option label, a finding's message).
            locale: a locale identifier such as ``de``, ``de_DE`` or ``fr-FR``.

        Returns:
            The translated text (the English msgid where no catalog has it).

        Raises:
            UnknownLocaleError: the locale is not one Babel knows.
        """
        return translate(message_id, canonical_locale(locale), self.extra_locale_dirs)

    def render(self, locale: str, *, audience: Audience = Audience.SHOPPER) -> RenderedQuestionnaire:
        """Render the questionnaire for a frontend, with every text translated.

        Args:
            locale: a locale identifier such as ``de``, ``de_DE`` or ``fr-FR``.
            audience: ``shopper`` leaves out staff-only checks; ``staff`` shows every question.

        Returns:
            The rendered questionnaire; ``to_json()`` gives the document of
            ``schemas/rendered-questionnaire.schema.json``. Cached per locale and audience.

        Raises:
            UnknownLocaleError: the locale is not one Babel knows.
        """
        from grading_questionnaire._render import render  # noqa: PLC0415 - keeps the renderer out of `from tradein_sdk import TradeIn`

        key = f"render:{canonical_locale(locale)}:{Audience(audience).value}"
        rendered: RenderedQuestionnaire | None = self._cache.get(key)
        if rendered is None:
            rendered = self._cache[key] = render(self, canonical_locale(locale), Audience(audience))
        return rendered

    def evaluate(
        self,
        answers: object,
        *,
        verification: VerificationDepth = VerificationDepth.SELF_DECLARED,
        diagnostics: DiagnosticsResult | None = None,
    ) -> ConditionReport:
        """Check answers and grade them into a condition report. Pure and deterministic.

        Args:
            answers: the decoded answers document (``schemas/answers.schema.json``): an object keyed
                by question id.
            verification: who gave the answers: the shopper (``self_declared``: staff-only checks
                are not asked), a store employee or inspector (``staff_verified``), or a tool
                (``measured``).
            diagnostics: automated test results (from :meth:`import_diagnostics`); they win over the
                answers given and are marked as measured.

        Returns:
            The condition report.

        Raises:
            AnswersInvalidError: the answers do not fit the questionnaire; ``problems`` lists every
                problem with its JSON path and code.
        """
        return self._evaluator().evaluate(answers, VerificationDepth(verification), diagnostics)

    def answer_problems(
        self,
        answers: object,
        *,
        verification: VerificationDepth = VerificationDepth.SELF_DECLARED,
        diagnostics: DiagnosticsResult | None = None,
    ) -> tuple[AnswerProblem, ...]:
        """List what is wrong with answers, without grading them (for a form's live checks).

        Args:
            answers: the decoded answers document.
            verification: who gave the answers (see :meth:`evaluate`).
            diagnostics: automated test results merged in first (see :meth:`evaluate`).

        Returns:
            Every problem, in questionnaire order; empty when :meth:`evaluate` would succeed.
        """
        return self._evaluator().problems(answers, VerificationDepth(verification), diagnostics)

    def import_diagnostics(self, document: object, *, source: str = "<memory>") -> DiagnosticsResult:
        """Turn automated test results into answers marked as measured.

        Args:
            document: the decoded diagnostics document (``schemas/diagnostics.schema.json``).
            source: where it came from, for error messages.

        Returns:
            The measured answers, ready for :meth:`evaluate`'s ``diagnostics`` argument.

        Raises:
            DiagnosticsInvalidError: the document breaks its schema, or a measured value does not
                fit its question; ``problems`` lists each with its JSON path.
        """
        from grading_questionnaire._diagnostics import (  # noqa: PLC0415 - keeps diagnostics out of `from tradein_sdk import TradeIn`
            import_diagnostics,
        )

        return import_diagnostics(self, document, source=source)

    def _evaluator(self) -> Evaluator:
        evaluator: Evaluator | None = self._cache.get("evaluator")
        if evaluator is None:
            evaluator = self._cache["evaluator"] = Evaluator(self)
        return evaluator


def canonical_locale(locale: str) -> str:
    """Return the canonical form of ``locale`` (``de-de`` → ``de_DE``).

    Raises:
        UnknownLocaleError: the locale is not one Babel knows.
    """
    try:
        return normalize_locale(locale)
    except ValueError as exc:
        raise UnknownLocaleError(locale) from exc


# Loading -------------------------------------------------------------------------------------------


def bundled_categories() -> tuple[str, ...]:
    """Return the device categories that have a bundled questionnaire, sorted.

    Returns:
        Category names such as ``smartphone``, ``smartwatch`` and ``tablet``.
    """
    return tuple(sorted(path.stem for path in DEFINITIONS_DIR.glob("*.json")))


@cache
def load_questionnaire(category: str) -> Questionnaire:
    """Return the bundled questionnaire for a device category (loaded and checked once).

    Args:
        category: a device category such as ``smartphone`` (see :func:`bundled_categories`).

    Returns:
        The questionnaire.

    Raises:
        QuestionnaireNotFoundError: no bundled questionnaire is for that category.
    """
    if category not in bundled_categories():
        raise QuestionnaireNotFoundError(category, bundled_categories())
    return load_questionnaire_file(DEFINITIONS_DIR / f"{category}.json")


def load_questionnaire_file(
    path: str | Path, *, extra_locale_dirs: Iterable[str | Path] = ()
) -> Questionnaire:
    """Load and check a questionnaire definition file, such as a shop's own questionnaire.

    Args:
        path: the JSON definition file.
        extra_locale_dirs: folders laid out like ``locales/`` (``<lang>/LC_MESSAGES/tradein.mo``)
            whose translations win over the bundled ones, for the shop's own texts.

    Returns:
        The questionnaire.

    Raises:
        QuestionnaireNotFoundError: the file does not exist.
        QuestionnaireInvalidError: the file cannot be read or decoded, or the definition is invalid;
            ``problems`` lists every problem with its JSON path.
    """
    path = Path(path)
    if not path.is_file():
        raise QuestionnaireNotFoundError(str(path))
    document, problems = _read_json(path)
    if problems:
        raise QuestionnaireInvalidError(source=str(path), problems=problems)
    return build_questionnaire(
        document,
        source=str(path),
        extra_locale_dirs=tuple(Path(directory) for directory in extra_locale_dirs),
    )


def validate_questionnaire_file(path: str | Path) -> tuple[DefinitionProblem, ...]:
    """Check a questionnaire definition file and list every problem (for a ``validate`` command).

    Args:
        path: the JSON definition file.

    Returns:
        Every problem with its JSON path and code; empty when the definition is valid. A missing or
        unreadable file is one ``unreadable`` problem at ``$``.
    """
    document, problems = _read_json(Path(path))
    return problems or questionnaire_problems(document)


def _read_json(path: Path) -> tuple[Any, tuple[DefinitionProblem, ...]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, (DefinitionProblem(path="$", code="unreadable", message=str(exc)),)
    try:
        return json.loads(text), ()
    except json.JSONDecodeError as exc:
        message = f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        return None, (DefinitionProblem(path="$", code="invalid_json", message=message),)


def build_questionnaire(
    document: object, *, source: str = "<memory>", extra_locale_dirs: tuple[Path, ...] = ()
) -> Questionnaire:
    """Check a decoded definition and build the questionnaire.

    Args:
        document: the decoded JSON definition.
        source: where it came from, for error messages.
        extra_locale_dirs: the shop's own catalog folders (see :func:`load_questionnaire_file`).

    Returns:
        The questionnaire.

    Raises:
        QuestionnaireInvalidError: the definition is invalid; ``problems`` lists every problem.
    """
    problems = questionnaire_problems(document)
    if problems:
        raise QuestionnaireInvalidError(source=source, problems=problems)
    assert isinstance(document, dict)  # noqa: S101 - the schema made sure
    return _build(document, source=source, extra_locale_dirs=extra_locale_dirs)


def questionnaire_problems(document: object) -> tuple[DefinitionProblem, ...]:
    """List every problem of a decoded definition: its schema first, then the rules beyond it.

    Args:
        document: the decoded JSON definition.

    Returns:
        The problems, each with a JSON path and a code; empty when the definition is valid.
    """
    found = tuple(
        DefinitionProblem(path=path, code="schema", message=message)
        for path, message in schema_problems("questionnaire", document)
    )
    if found:
        return found
    assert isinstance(document, dict)  # noqa: S101 - the schema made sure
    questionnaire = _build(document, source="<check>", extra_locale_dirs=())
    return tuple(_semantic_problems(questionnaire))


def _build(
    document: dict[str, Any],
    *,
    source: str,
    extra_locale_dirs: tuple[Path, ...],
) -> Questionnaire:
    grading = document["grading"]
    return Questionnaire(
        id=document["id"],
        version=document["version"],
        category=document["category"],
        title=document["title"],
        description=document.get("description"),
        sections=tuple(_section(section) for section in document["sections"]),
        rules=tuple(_rule(rule) for rule in grading["rules"]),
        pricing_grades=tuple(_pricing_grade(row) for row in grading["pricing_grades"]),
        diagnostics=tuple(_mapping(mapping) for mapping in document.get("diagnostics", ())),
        content_hash=content_hash(document),
        source=source,
        extra_locale_dirs=extra_locale_dirs,
        document=document,
    )


def _section(document: dict[str, Any]) -> Section:
    return Section(
        id=document["id"],
        title=document["title"],
        questions=tuple(_question(question, document["id"]) for question in document["questions"]),
    )


def _question(document: dict[str, Any], section: str) -> Question:
    number = document.get("number")
    return Question(
        id=document["id"],
        kind=QuestionKind(document["kind"]),
        text=document["text"],
        help=document.get("help"),
        required=document.get("required", True),
        staff_only=document.get("audience") == "staff",
        show_if=parse_condition(document["show_if"]) if "show_if" in document else None,
        worse=Worse(document["worse"]) if "worse" in document else None,
        options=tuple(
            Option(id=option["id"], label=option["label"], help=option.get("help"))
            for option in document.get("options", ())
        ),
        number=None if number is None else NumberRange.from_json(number),
        section=section,
    )


def _rule(document: dict[str, Any]) -> GradingRule:
    when = parse_condition(document["when"])
    referenced = dict.fromkeys(leaf.question for leaf, _, _ in leaves(when, "$"))
    return GradingRule(
        id=document["id"],
        message=document["message"],
        when=when,
        sets=DimensionValues.from_json(document.get("set", {})),
        knockout=document.get("knockout"),
        questions=tuple(referenced),
    )


def _pricing_grade(document: dict[str, Any]) -> PricingGrade:
    return PricingGrade(
        id=document["id"],
        label=document["label"],
        description=document.get("description"),
        at_worst=DimensionValues.from_json(document["at_worst"]),
    )


def _mapping(document: dict[str, Any]) -> DiagnosticsMapping:
    return DiagnosticsMapping(
        question=document["question"],
        tests=tuple(document["tests"]),
        option=document.get("option"),
        on_pass=document.get("pass"),
        on_fail=document.get("fail"),
    )


# Rules beyond the schema ---------------------------------------------------------------------------

_OPERATOR_KINDS = {
    Operator.IS: QuestionKind.YES_NO,
    Operator.IN: QuestionKind.SINGLE_CHOICE,
    Operator.AT_LEAST: QuestionKind.SINGLE_CHOICE,
    Operator.INCLUDES: QuestionKind.MULTIPLE_CHOICE,
    Operator.LACKS: QuestionKind.MULTIPLE_CHOICE,
    Operator.LESS_THAN: QuestionKind.NUMBER,
    Operator.GREATER_THAN: QuestionKind.NUMBER,
}

_DAMAGE_OPERATORS = {
    Worse.LATER: Operator.AT_LEAST,
    Worse.MORE: Operator.INCLUDES,
    Worse.FEWER: Operator.LACKS,
    Worse.LOWER: Operator.LESS_THAN,
    Worse.HIGHER: Operator.GREATER_THAN,
    Worse.YES: Operator.IS,
    Worse.NO: Operator.IS,
}


def _duplicates(items: Iterable[tuple[str, str]], what: str) -> Iterator[DefinitionProblem]:
    seen: dict[str, str] = {}
    for key, path in items:
        if key in seen:
            message = f"{what} {key!r} is already used at {seen[key]}"
            yield DefinitionProblem(path=path, code="duplicate_id", message=message)
        else:
            seen[key] = path


def _semantic_problems(questionnaire: Questionnaire) -> Iterator[DefinitionProblem]:
    sections = questionnaire.sections
    yield from _duplicates(
        ((section.id, f"$.sections[{s}].id") for s, section in enumerate(sections)), "section id"
    )
    yield from _duplicates(
        (
            (question.id, f"$.sections[{s}].questions[{q}].id")
            for s, section in enumerate(sections)
            for q, question in enumerate(section.questions)
        ),
        "question id",
    )
    by_id: dict[str, Question] = {}
    for s, section in enumerate(sections):
        for q, question in enumerate(section.questions):
            yield from _question_problems(question, by_id, f"$.sections[{s}].questions[{q}]")
            by_id.setdefault(question.id, question)
    yield from _grading_problems(questionnaire, by_id)
    yield from _mapping_problems(questionnaire, by_id)


def _question_problems(
    question: Question, earlier: Mapping[str, Question], path: str
) -> Iterator[DefinitionProblem]:
    yield from _duplicates(
        ((option.id, f"{path}.options[{o}].id") for o, option in enumerate(question.options)),
        "option id",
    )
    if question.number is not None and question.number.minimum > question.number.maximum:
        message = f"minimum {question.number.minimum} is above maximum {question.number.maximum}"
        yield DefinitionProblem(path=f"{path}.number", code="range", message=message)
    if question.show_if is None:
        return
    for leaf, leaf_path, _ in leaves(question.show_if, f"{path}.show_if"):
        target = earlier.get(leaf.question)
        if target is None:
            message = f"show_if names {leaf.question!r}, which is not a question asked before"
            yield DefinitionProblem(path=leaf_path, code="forward_reference", message=message)
            continue
        yield from _leaf_problems(leaf, target, leaf_path)
        if target.staff_only and not question.staff_only:
            message = f"a question for everyone cannot depend on the staff-only check {target.id!r}"
            yield DefinitionProblem(path=leaf_path, code="audience_mismatch", message=message)


def _leaf_problems(leaf: AnswerCondition, target: Question, path: str) -> Iterator[DefinitionProblem]:
    kind = _OPERATOR_KINDS[leaf.operator]
    if kind is not target.kind:
        message = f"{leaf.operator.value!r} does not apply to {target.id!r}, a {target.kind.value} question"
        yield DefinitionProblem(path=path, code="operator_mismatch", message=message)
        return
    if leaf.operator is Operator.AT_LEAST and target.worse is not Worse.LATER:
        message = f"'at_least' needs options ordered best to worst ('worse': 'later') on {target.id!r}"
        yield DefinitionProblem(path=path, code="operator_mismatch", message=message)
    operands = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
    if target.options:
        for operand in operands:
            if operand not in target.option_ids:
                message = f"{target.id!r} offers no option {operand!r}"
                yield DefinitionProblem(path=path, code="unknown_option", message=message)


def _grading_problems(
    questionnaire: Questionnaire, by_id: Mapping[str, Question]
) -> Iterator[DefinitionProblem]:
    yield from _duplicates(
        ((rule.id, f"$.grading.rules[{r}].id") for r, rule in enumerate(questionnaire.rules)),
        "rule id",
    )
    for r, rule in enumerate(questionnaire.rules):
        for leaf, path, negated in leaves(rule.when, f"$.grading.rules[{r}].when"):
            target = by_id.get(leaf.question)
            if target is None:
                message = f"no question is called {leaf.question!r}"
                yield DefinitionProblem(path=path, code="unknown_question", message=message)
                continue
            problems = list(_leaf_problems(leaf, target, path))
            yield from problems
            if not problems:
                yield from _monotone_problems(leaf, target, path, negated=negated)
    grades = questionnaire.pricing_grades
    yield from _duplicates(
        ((grade.id, f"$.grading.pricing_grades[{g}].id") for g, grade in enumerate(grades)),
        "pricing grade id",
    )
    if grades[-1].at_worst != DimensionValues():
        message = "the last pricing grade must have an empty 'at_worst', so every device gets a grade"
        path = f"$.grading.pricing_grades[{len(grades) - 1}].at_worst"
        yield DefinitionProblem(path=path, code="no_catch_all", message=message)


def _monotone_problems(
    leaf: AnswerCondition, target: Question, path: str, *, negated: bool
) -> Iterator[DefinitionProblem]:
    if target.worse is None:
        message = f"{target.id!r} has no 'worse' direction, so a rule cannot grade on it"
        yield DefinitionProblem(path=path, code="not_monotone", message=message)
        return
    damage = _DAMAGE_OPERATORS[target.worse]
    expected_is = target.worse is Worse.YES
    if negated or leaf.operator is not damage or (damage is Operator.IS and leaf.operand is not expected_is):
        wanted = f"'is': {str(expected_is).lower()}" if damage is Operator.IS else f"'{damage.value}'"
        message = (
            f"{target.id!r} gets worse {target.worse.value!r}; a rule may only test it with {wanted}"
            " (outside any 'not'), so a worse answer never turns the finding off"
        )
        yield DefinitionProblem(path=path, code="not_monotone", message=message)


def _mapping_problems(
    questionnaire: Questionnaire, by_id: Mapping[str, Question]
) -> Iterator[DefinitionProblem]:
    seen: dict[tuple[str, str | None], str] = {}
    for m, mapping in enumerate(questionnaire.diagnostics):
        path = f"$.diagnostics[{m}]"
        target = by_id.get(mapping.question)
        if target is None:
            message = f"no question is called {mapping.question!r}"
            yield DefinitionProblem(path=f"{path}.question", code="unknown_question", message=message)
            continue
        key = (mapping.question, mapping.option)
        if key in seen:
            message = f"{mapping.question!r} is already answered by {seen[key]}"
            yield DefinitionProblem(path=path, code="duplicate_mapping", message=message)
        seen.setdefault(key, path)
        yield from _mapping_shape_problems(mapping, target, path)


def _mapping_shape_problems(
    mapping: DiagnosticsMapping, target: Question, path: str
) -> Iterator[DefinitionProblem]:
    shape = {
        QuestionKind.YES_NO: "'pass' and 'fail' as true/false",
        QuestionKind.SINGLE_CHOICE: "'pass' and 'fail' as option ids",
        QuestionKind.MULTIPLE_CHOICE: "an 'option' and no 'pass'/'fail'",
        QuestionKind.NUMBER: "exactly one test and no 'option', 'pass' or 'fail'",
    }[target.kind]
    outcomes = (mapping.on_pass, mapping.on_fail)
    if target.kind is QuestionKind.YES_NO:
        fits = mapping.option is None and all(isinstance(value, bool) for value in outcomes)
    elif target.kind is QuestionKind.SINGLE_CHOICE:
        fits = mapping.option is None and all(isinstance(value, str) for value in outcomes)
    elif target.kind is QuestionKind.MULTIPLE_CHOICE:
        fits = mapping.option is not None and outcomes == (None, None)
    else:
        fits = len(mapping.tests) == 1 and mapping.option is None and outcomes == (None, None)
    if not fits:
        message = f"{target.id!r} is a {target.kind.value} question; its mapping needs {shape}"
        yield DefinitionProblem(path=path, code="mapping_mismatch", message=message)
        return
    for name, value in (("option", mapping.option), ("pass", mapping.on_pass), ("fail", mapping.on_fail)):
        if isinstance(value, str) and value not in target.option_ids:
            message = f"{target.id!r} offers no option {value!r}"
            yield DefinitionProblem(path=f"{path}.{name}", code="unknown_option", message=message)
