"""Reading the condition questionnaire from an HTML form.

Every question is rendered server-side from the rendered questionnaire document; a small script hides
those whose ``show_if`` does not hold. The server does not trust what the browser sent: it walks the
questions in order and keeps an answer only when its question is shown given the answers before it
(the same rule as the script), so a hidden question never reaches the library. The library then
validates the answers (``AnswersInvalidError`` names each problem by path).

The shop knows the device, so it does not ask what it knows: the ``platform`` question is answered from the
catalog's brand (an iPhone runs iOS, a Galaxy Samsung's Android), shown as a fact, and kept whatever a form
sends. The questions that platform hides are left out of the page (another brand's lock question, with its
settings path), and a hint that names several platforms' paths is replaced by the shop's for this platform
(:func:`for_device`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from flask import request

from grading_questionnaire import RenderedQuestionnaire
from tradein_sdk import AnswersInvalidError, DeviceNotFoundError

from .texts import has_text, text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from werkzeug.datastructures import MultiDict

    from grading_questionnaire import RenderedQuestion

YES, NO = "true", "false"

PLATFORM = "platform"
"""The question whose answer the device's brand gives."""
APPLE_PLATFORMS = frozenset({"ios", "ipados", "watchos"})
"""Apple's own systems among the ``platform`` options (iPhone, iPad, Apple Watch)."""
BRAND_PLATFORMS: Mapping[str, frozenset[str]] = {"apple": APPLE_PLATFORMS, "samsung": frozenset({"samsung"})}
"""The platform options of a brand with its own; any other brand answers with the options left (Android, Wear
OS). The library checks a quote's platform answer against the brand by the same rule."""


def questions(rendered: RenderedQuestionnaire) -> Iterator[RenderedQuestion]:
    """Every question of the document, in order."""
    for section in rendered.sections:
        yield from section.questions


_OPERATORS: dict[str, Callable[[Any, Any, list[Any]], bool]] = {
    "is": lambda value, operand, _: value is operand,
    "in": lambda value, operand, _: value in operand,
    "at_least": lambda value, operand, order: value in order and order.index(value) >= order.index(operand),
    "includes": lambda value, operand, _: operand in value,
    "lacks": lambda value, operand, _: operand not in value,
    "less_than": lambda value, operand, _: value < operand,
    "greater_than": lambda value, operand, _: value > operand,
}
"""The leaf operators of the condition language (see ``grading_questionnaire._conditions``)."""


def shown(
    condition: Mapping[str, Any] | None, answers: Mapping[str, Any], ranks: Mapping[str, list[Any]]
) -> bool:
    """Whether a ``show_if`` condition (its JSON form) holds for the answers so far.

    A leaf on an unanswered question is false; ``at_least`` compares option positions (best first).
    """
    if condition is None:
        return True
    if "all" in condition:
        return all(shown(item, answers, ranks) for item in condition["all"])
    if "any" in condition:
        return any(shown(item, answers, ranks) for item in condition["any"])
    if "not" in condition:
        return not shown(condition["not"], answers, ranks)
    question = condition["question"]
    value = answers.get(question)
    (operator,) = (key for key in condition if key != "question")
    if value is None or operator not in _OPERATORS:
        return False
    return _OPERATORS[operator](value, condition[operator], ranks.get(question, []))


def known(
    condition: Mapping[str, Any] | None, answers: Mapping[str, Any], ranks: Mapping[str, list[Any]]
) -> bool | None:
    """Whether a ``show_if`` condition holds given only ``answers``: ``None`` when other answers decide."""
    if condition is None:
        return True
    if "all" in condition or "any" in condition:
        every = "all" in condition
        results = [known(item, answers, ranks) for item in condition["all" if every else "any"]]
        if (not every) in results:
            return not every
        return None if None in results else every
    if "not" in condition:
        result = known(condition["not"], answers, ranks)
        return None if result is None else not result
    if condition["question"] not in answers:
        return None
    return shown(condition, answers, ranks)


def device_platform(brand: str, options: list[Any]) -> str | None:
    """The ``platform`` option a brand answers: Apple's system, Samsung's, else the one left (or ``None``)."""
    own = BRAND_PLATFORMS.get(brand.casefold())
    if own is None:
        others = frozenset().union(*BRAND_PLATFORMS.values())
        fitting = [option for option in options if option not in others]
    else:
        fitting = [option for option in options if option in own]
    return fitting[0] if len(fitting) == 1 else None


def device_answers(device_id: str, rendered: RenderedQuestionnaire) -> dict[str, Any]:
    """The answers the shop knows for a catalog device: its platform, when the questionnaire asks it."""
    from .extension import shop  # noqa: PLC0415 - the extension imports the views' helpers

    try:
        model = shop().trade_in.catalog.lookup(device_id).model
    except DeviceNotFoundError:
        return {}
    for question in questions(rendered):
        if question.id == PLATFORM:
            platform = device_platform(model.brand, [option.value for option in question.options])
            return {} if platform is None else {PLATFORM: platform}
    return {}


def for_device(rendered: RenderedQuestionnaire, fixed: Mapping[str, Any]) -> RenderedQuestionnaire:
    """The questionnaire for a device whose ``fixed`` answers the shop knows (its platform).

    A fixed question keeps only its answer as option (the page shows it as a fact); a question the fixed
    answers hide whatever else is answered is left out, and a section left empty with it; a hint the shop
    has for this category and platform (``hint.<question>`` in :mod:`.texts`) replaces the library's.
    """
    if not fixed:
        return rendered
    ranks = {question.id: [option.value for option in question.options] for question in questions(rendered)}
    hint_key = f"{rendered.category}.{fixed.get(PLATFORM)}"
    sections = []
    for section in rendered.sections:
        kept = []
        for question in section.questions:
            condition = question.show_if.to_json() if question.show_if is not None else None
            if known(condition, fixed, ranks) is False:
                continue
            if question.id in fixed:
                options = tuple(option for option in question.options if option.value == fixed[question.id])
                question = attrs.evolve(question, options=options)  # noqa: PLW2901 - the same question, narrowed
            if has_text(f"hint.{question.id}", hint_key):
                question = attrs.evolve(question, help=text(f"hint.{question.id}", hint_key))  # noqa: PLW2901
            kept.append(question)
        if kept:
            sections.append(attrs.evolve(section, questions=tuple(kept)))
    return attrs.evolve(rendered, sections=tuple(sections))


def answers_from_form(
    rendered: RenderedQuestionnaire, form: MultiDict[str, str], fixed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The answers of the questions shown, typed as the library takes them.

    Unanswered shown questions are left out (the library reports them as missing); a value that is not
    one of the options or not a number is passed on as text, for the library to refuse with its path.
    The ``fixed`` answers (the device's platform) are the shop's, whatever the form says.
    """
    fixed = fixed or {}
    ranks = {question.id: [option.value for option in question.options] for question in questions(rendered)}
    answers: dict[str, Any] = {}
    for question in questions(rendered):
        condition = question.show_if.to_json() if question.show_if is not None else None
        if not shown(condition, answers, ranks):
            continue
        if question.id in fixed:
            answers[question.id] = fixed[question.id]
            continue
        kind = question.kind.value
        if kind == "multiple_choice":
            answers[question.id] = form.getlist(question.id)
            continue
        raw = form.get(question.id, "").strip()
        if not raw:
            continue
        if kind == "yes_no":
            answers[question.id] = {YES: True, NO: False}.get(raw, raw)
        elif kind == "number":
            answers[question.id] = _number(raw)
        else:
            answers[question.id] = raw
    return answers


def _number(raw: str) -> int | float | str:
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return raw
    return int(number) if number.is_integer() else number


def problems_by_question(error_problems: tuple[Any, ...], locale: str) -> dict[str, str]:
    """The library's answer problems as messages keyed by question id (``$.faults[1]`` → ``faults``)."""
    found: dict[str, str] = {}
    for problem in error_problems:
        question = problem.path.removeprefix("$.").split("[", 1)[0].split(".", 1)[0] or "_"
        found.setdefault(question, problem.localized(locale))
    return found


def form_value(value: object) -> str:
    """An option's value as the form sends it (``true``/``false`` for yes/no)."""
    if value is True:
        return YES
    if value is False:
        return NO
    return str(value)


@attrs.frozen(kw_only=True)
class QuestionnairePage:
    """A questionnaire page and what its form gave: the answers, the problems, the quote when they fit.

    Attributes:
        rendered: the questionnaire in the shopper's locale.
        answers: the answers read from the form (empty on a GET).
        errors: question id → what is wrong with its answer.
        quote_id: the instant quote issued for the answers (kept with the cart), else ``None``.
    """

    rendered: RenderedQuestionnaire
    answers: dict[str, Any]
    errors: dict[str, str]
    quote_id: str | None = None


def questionnaire_page(device_id: str, category: str) -> QuestionnairePage:
    """The questionnaire for a device; on a POST its answers are read and quoted (the quote kept).

    What the shop knows of the device (its platform) is answered already (:func:`for_device`).
    """
    from .cart import keep_quote  # noqa: PLC0415 - the cart imports the views' helpers
    from .extension import current_locale, shop  # noqa: PLC0415

    trade_in = shop().trade_in
    locale = current_locale()
    full = trade_in.render_questionnaire(category, locale)
    fixed = device_answers(device_id, full)
    rendered = for_device(full, fixed)
    if request.method != "POST":
        return QuestionnairePage(rendered=rendered, answers=dict(fixed), errors={})
    answers = answers_from_form(full, request.form, fixed)
    try:
        issued = trade_in.quote(device_id, answers, locale=locale)
    except AnswersInvalidError as error:
        return QuestionnairePage(
            rendered=rendered, answers=answers, errors=problems_by_question(error.problems, locale)
        )
    keep_quote(issued.quote.id, issued.token)
    return QuestionnairePage(rendered=rendered, answers=answers, errors={}, quote_id=issued.quote.id)
