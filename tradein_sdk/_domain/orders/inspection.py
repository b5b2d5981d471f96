"""Inspection: the inspector's answers diffed against the shopper's, question by question; the new value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire import Audience, LockStatus, QuestionKind, VerificationDepth, Worse
from grading_questionnaire._conditions import compile_condition
from grading_questionnaire._evaluate import ConditionReport
from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.devices import DeviceModel
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import MismatchReason
from tradein_sdk._domain.pricing import Valuation, value_device
from tradein_sdk._errors import (
    InspectionInputError,
    questionnaire_errors,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from grading_questionnaire import DiagnosticsResult, Question, Questionnaire
    from tradein_sdk._domain.pricing import PriceBook
    from tradein_sdk._domain.quotes import Quote

# -- inspection -------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InspectionResult:
    """What an order records of an inspection: amounts and codes only, no answers or texts.

    Attributes:
        offer: the revised offer, ``min(quoted amount, inspected value)``.
        inspected_value: the value of the device with the inspector's answers.
        mismatch: the major mismatches found (empty: none).
        differences: the ids of the questions whose answers differ.
        pricing_grade: the pricing grade of the inspector's answers (``None``: recycling only, or not known).
        impacts: question id → what its difference changed in the value (a decimal text, negative: lowered).
        promotions: promotion id → what each checkout promotion still adds for the device as inspected
            (judged once, when the inspection is recorded, as at the checkout; ``None``: not judged — the
            order has no promotions, or it was recorded before promotions were judged).
    """

    offer: Money
    inspected_value: Money
    mismatch: tuple[MismatchReason, ...] = ()
    differences: tuple[str, ...] = ()
    pricing_grade: str | None = None
    impacts: Mapping[str, str] = attrs.field(factory=dict)
    promotions: Mapping[str, Money] | None = None

    @property
    def major_mismatch(self) -> bool:
        """Whether a major mismatch was found."""
        return bool(self.mismatch)


@attrs.frozen(kw_only=True)
class QuestionDiff:
    """One question, as the shopper declared it and as the inspector found it.

    Attributes:
        question: the question id.
        text: the question in the diff's locale.
        shopper_answer: the shopper's answer, ``None`` when the shopper was not asked (a check only staff
            make, or a question the shopper's other answers hid).
        shopper_answer_text: the shopper's answer as shown, or "not declared".
        inspector_answer: the inspector's answer, ``None`` when the question does not apply.
        inspector_answer_text: the inspector's answer as shown, or "not applicable".
        matches: whether the answers agree (a question the shopper was not asked counts as declared at its
            most favourable answer).
        price_impact: what this difference changed in the value (negative: lowered it); zero when matched.
        explanation: one sentence for the shopper, in the diff's locale.
    """

    question: str
    text: str
    shopper_answer: Any  # an AnswerValue: bool, str, tuple of option ids or a number
    shopper_answer_text: str
    inspector_answer: Any
    inspector_answer_text: str
    matches: bool
    price_impact: Money
    explanation: str


@attrs.frozen(kw_only=True)
class InspectionDiff:
    """The inspection of one device against its quote, question by question, with the price impact of each.

    The price impacts are a *waterfall in questionnaire order*: starting from the answers the shopper
    declared, each differing answer is replaced by the inspector's, one question at a time in the order the
    questionnaire asks them, and the device is valued after each step with the quote's price book, device
    and price date. A question's impact is the change of value its replacement caused, given the
    replacements before it, so the impacts add up exactly to ``inspected_value - declared_value``. A question
    the shopper was not asked counts as declared at its most favourable answer (the quote assumed that staff
    checks would pass). Therefore::

        quoted + basis_adjustment + sum(price impacts) + cap_adjustment == revised_offer

    where ``basis_adjustment = declared_value - quoted`` (zero unless the quote carried something the
    answers do not explain) and ``cap_adjustment = revised_offer - inspected_value`` (non-zero only when the
    inspector's answers are worth more than the quote: the offer never rises above it).

    Attributes:
        quote_id: the quote inspected against.
        locale: the locale of the texts.
        quoted: the quoted amount.
        declared_value: the value of the shopper's answers, priced as at the quote.
        inspected_value: the value of the inspector's answers, priced as at the quote.
        revised_offer: ``min(quoted, inspected_value)``.
        questions: every question either side answered, in questionnaire order.
        mismatch: the major mismatches found.
        mismatch_texts: an explanation of each, in the diff's locale.
        report: the inspector's condition report.
        valuation: the valuation of the inspector's answers.
    """

    quote_id: str
    locale: str
    quoted: Money
    declared_value: Money
    inspected_value: Money
    revised_offer: Money
    questions: tuple[QuestionDiff, ...]
    mismatch: tuple[MismatchReason, ...] = ()
    mismatch_texts: tuple[str, ...] = ()
    report: ConditionReport = attrs.field(eq=False, repr=False)
    valuation: Valuation = attrs.field(eq=False, repr=False)

    @property
    def differences(self) -> tuple[QuestionDiff, ...]:
        """The questions whose answers differ."""
        return tuple(question for question in self.questions if not question.matches)

    @property
    def basis_adjustment(self) -> Money:
        """``declared_value - quoted``: zero when the quote is the value of the declared answers."""
        return self.declared_value - self.quoted

    @property
    def cap_adjustment(self) -> Money:
        """``revised_offer - inspected_value``: what the quote's cap took off (zero or negative)."""
        return self.revised_offer - self.inspected_value

    @property
    def major_mismatch(self) -> bool:
        """Whether a major mismatch was found."""
        return bool(self.mismatch)

    @property
    def result(self) -> InspectionResult:
        """What the order records (the payload of an ``inspect`` event)."""
        return InspectionResult(
            offer=self.revised_offer,
            inspected_value=self.inspected_value,
            mismatch=self.mismatch,
            differences=tuple(question.question for question in self.differences),
            pricing_grade=self.valuation.pricing_grade,
            impacts={
                question.question: format(question.price_impact.amount, "f") for question in self.differences
            },
        )


_ABSENT: Final[Any] = object()

_MISMATCH_MESSAGES: Final = {
    MismatchReason.IMEI_DIFFERS: N_("The device received has another IMEI than the one declared."),
    MismatchReason.MODEL_DIFFERS: N_("The device received is another model than the one declared."),
    MismatchReason.VARIANT_DIFFERS: N_("The device received has another storage size than the one declared."),
    MismatchReason.LOCK_NOT_REMOVABLE: N_(
        "The device is still locked to an account, and the lock cannot be removed."
    ),
    MismatchReason.BLOCKLISTED: N_("The device is reported lost or stolen."),
}
_NOT_DECLARED = N_("not declared")
_NOT_APPLICABLE = N_("not applicable")
_AS_DECLARED = N_("As declared.")
_CHECKED_OK = N_("Checked at inspection: no issue found.")
_LOWERS = N_("Declared: {declared}. Found at inspection: {found}. This lowers the value by {amount}.")
_RAISES = N_("Declared: {declared}. Found at inspection: {found}. This raises the value by {amount}.")
_NO_CHANGE = N_("Declared: {declared}. Found at inspection: {found}. This does not change the value.")


def _favourable(question: Question) -> Any:  # noqa: ANN401 - an AnswerValue of the question's kind
    """The most favourable answer to ``question``: what a passing check or a flawless device answers."""
    if question.kind is QuestionKind.YES_NO:
        return question.worse is not Worse.YES
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return question.option_ids[0]
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return question.option_ids if question.worse is Worse.FEWER else ()
    number = question.number
    assert number is not None  # noqa: S101 - a number question has a range
    value = number.minimum if question.worse is Worse.HIGHER else number.maximum
    return int(value) if number.integer else value


def _normalized(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in answers.items()}


def _check_inspection_inputs(quote: Quote, questionnaire: Questionnaire, book: PriceBook) -> DeviceModel:
    if questionnaire.content_hash != quote.questionnaire.content_hash:
        raise InspectionInputError(
            "questionnaire {given} is not the one quote {quote_id} was answered with ({expected})",
            field="questionnaire",
            given=questionnaire.content_hash,
            quote_id=quote.id,
            expected=quote.questionnaire.content_hash,
        )
    if book.content_hash != quote.pricebook.content_hash:
        raise InspectionInputError(
            "price book {given} is not the one quote {quote_id} was priced with ({expected})",
            field="pricebook",
            given=book.content_hash,
            quote_id=quote.id,
            expected=quote.pricebook.content_hash,
        )
    model: DeviceModel = json_converter().structure(dict(quote.device.model), DeviceModel)
    return model


def _mismatches(
    quote: Quote,
    model: DeviceModel,
    report: ConditionReport,
    *,
    observed_imei: str | None,
    observed_variant_id: str | None,
    lock_removable: bool,
) -> tuple[MismatchReason, ...]:
    found: list[MismatchReason] = []
    declared_imei = quote.device.imei
    if (
        observed_imei is not None
        and declared_imei is not None
        and re.sub(r"\D", "", observed_imei) != re.sub(r"\D", "", declared_imei)
    ):
        found.append(MismatchReason.IMEI_DIFFERS)
    if observed_variant_id is not None and observed_variant_id != quote.device.variant_id:
        same_model = any(variant.id == observed_variant_id for variant in model.variants)
        found.append(MismatchReason.VARIANT_DIFFERS if same_model else MismatchReason.MODEL_DIFFERS)
    if report.lock is LockStatus.ACCOUNT_LOCKED and not lock_removable:
        found.append(MismatchReason.LOCK_NOT_REMOVABLE)
    if report.lock is LockStatus.BLOCKLISTED:
        found.append(MismatchReason.BLOCKLISTED)
    return tuple(found)


class _Waterfall:
    """Values the answers step by step, from the declared ones to the inspector's (see InspectionDiff)."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        declared: Mapping[str, Any],
        found: Mapping[str, Any],
        value: Callable[[ConditionReport], Money],
    ) -> None:
        self.questionnaire = questionnaire
        self.declared = declared
        self.found = found
        self.value = value
        ranks = {
            question.id: {option: rank for rank, option in enumerate(question.option_ids)}
            for question in questionnaire.questions
            if question.kind is QuestionKind.SINGLE_CHOICE
        }
        self.shown = {
            question.id: compile_condition(question.show_if, ranks)
            for question in questionnaire.questions
            if question.show_if is not None
        }

    def declared_view(self, question: Question) -> Any:  # noqa: ANN401 - an answer value or _ABSENT
        """The declared answer, or the favourable one for a required question the shopper was not asked."""
        if question.id in self.declared:
            return self.declared[question.id]
        return _favourable(question) if question.required else _ABSENT

    def answers(self, walked: frozenset[str]) -> dict[str, Any]:
        """The inspector's answers to the ``walked`` questions and the declared ones to the rest."""
        fitted: dict[str, Any] = {}
        for question in self.questionnaire.questions:
            shown = self.shown.get(question.id)
            if shown is not None and not shown(fitted):
                continue
            if question.id in walked:
                chosen = self.found.get(question.id, _ABSENT)
            else:
                chosen = self.declared_view(question)
            if chosen is not _ABSENT:
                fitted[question.id] = chosen
        return fitted

    def values(self, differing: Sequence[str]) -> list[Money]:
        """The value before any step and after each step but the last."""
        values = []
        for step in range(len(differing)):
            answers = self.answers(frozenset(differing[:step]))
            with questionnaire_errors():
                report = self.questionnaire.evaluate(answers, verification=VerificationDepth.STAFF_VERIFIED)
            values.append(self.value(report))
        return values


def inspect_device(
    quote: Quote,
    inspector_answers: Mapping[str, Any],
    *,
    questionnaire: Questionnaire,
    book: PriceBook,
    locale: str,
    observed_imei: str | None = None,
    observed_variant_id: str | None = None,
    lock_removable: bool = False,
    diagnostics: DiagnosticsResult | None = None,
) -> InspectionDiff:
    """Diff an inspection against the quote, question by question, and compute the revised offer.

    The inspector answers the same questionnaire (every question, staff checks included). Both sides are
    priced with :func:`~tradein_sdk.value_device`, the quote's price book, device and price date, so only
    the condition can change the amount; the revised offer is never above the quote. See
    :class:`InspectionDiff` for how each difference's price impact is computed.

    Args:
        quote: the quote the shopper accepted.
        inspector_answers: the inspector's answers document.
        questionnaire: the questionnaire the quote was answered with (same content hash).
        book: the price book the quote was priced with (same content hash).
        locale: the shopper's locale for every text of the diff.
        observed_imei: the IMEI read from the device, compared with the quote's when both are known.
        observed_variant_id: the catalog variant the device turned out to be.
        lock_removable: whether an account lock found can still be removed (the shopper was reached and can
            remove it remotely); a lock that cannot is a major mismatch.
        diagnostics: automated test results, merged into the inspector's answers as measured.

    Returns:
        The diff; ``diff.result`` is the payload of the ``inspect`` event.

    Raises:
        InspectionInputError: the questionnaire or price book is not the quote's.
        AnswersInvalidError: the inspector's answers do not fit the questionnaire.
        UnsupportedLocaleError: the locale is unknown.
        PriceUnavailableError: the price book cannot price the device.
    """
    model = _check_inspection_inputs(quote, questionnaire, book)
    variant = next(variant for variant in model.variants if variant.id == quote.device.variant_id)
    with questionnaire_errors():
        report = questionnaire.evaluate(
            inspector_answers, verification=VerificationDepth.STAFF_VERIFIED, diagnostics=diagnostics
        )
        rendered = questionnaire.render(locale, audience=Audience.STAFF)

    def value(of: ConditionReport) -> Money:
        return value_device(book, model=model, variant=variant, report=of, as_of=quote.price_date).total

    valuation = value_device(book, model=model, variant=variant, report=report, as_of=quote.price_date)
    declared, found = _normalized(quote.answers), _normalized(report.answers)
    walk = _Waterfall(questionnaire, declared, found, value)
    asked = [
        question for question in questionnaire.questions if question.id in declared or question.id in found
    ]
    differing = [
        question.id for question in asked if walk.declared_view(question) != found.get(question.id, _ABSENT)
    ]
    values = [*walk.values(differing), valuation.total]
    impacts = {question: values[index + 1] - values[index] for index, question in enumerate(differing)}
    declared_value = values[0]
    zero = Money.zero(quote.amount.currency)
    shopper_texts = {entry.question: entry.answer_text for entry in rendered.transcript(declared)}
    inspector_texts = {entry.question: entry.answer_text for entry in rendered.transcript(found)}
    mismatch = _mismatches(
        quote,
        model,
        report,
        observed_imei=observed_imei,
        observed_variant_id=observed_variant_id,
        lock_removable=lock_removable,
    )
    texts = {question.id: question.text for section in rendered.sections for question in section.questions}
    return InspectionDiff(
        quote_id=quote.id,
        locale=rendered.locale,
        quoted=quote.amount,
        declared_value=declared_value,
        inspected_value=valuation.total,
        revised_offer=min(quote.amount, valuation.total),
        questions=tuple(
            _question_diff(
                questionnaire,
                rendered.locale,
                question_id=question.id,
                text=texts[question.id],
                shopper=(declared.get(question.id), shopper_texts.get(question.id)),
                inspector=(found.get(question.id), inspector_texts.get(question.id)),
                matches=question.id not in impacts,
                impact=impacts.get(question.id, zero),
            )
            for question in asked
        ),
        mismatch=mismatch,
        mismatch_texts=tuple(
            questionnaire.translate(_MISMATCH_MESSAGES[reason], rendered.locale) for reason in mismatch
        ),
        report=report,
        valuation=valuation,
    )


def _question_diff(
    questionnaire: Questionnaire,
    locale: str,
    *,
    question_id: str,
    text: str,
    shopper: tuple[Any, str | None],
    inspector: tuple[Any, str | None],
    matches: bool,
    impact: Money,
) -> QuestionDiff:
    """One row of the diff."""
    shopper_answer, shopper_text = shopper
    inspector_answer, inspector_text = inspector
    declared = shopper_text or questionnaire.translate(_NOT_DECLARED, locale)
    found = inspector_text or questionnaire.translate(_NOT_APPLICABLE, locale)
    if matches:
        explanation = questionnaire.translate(_CHECKED_OK if shopper_text is None else _AS_DECLARED, locale)
    else:
        message = _NO_CHANGE if impact.is_zero() else _LOWERS if impact.amount < 0 else _RAISES
        explanation = translate(
            message,
            locale,
            questionnaire.extra_locale_dirs,
            declared=declared,
            found=found,
            amount=abs(impact).format(locale),
        )
    return QuestionDiff(
        question=question_id,
        text=text,
        shopper_answer=shopper_answer,
        shopper_answer_text=declared,
        inspector_answer=inspector_answer,
        inspector_answer_text=found,
        matches=matches,
        price_impact=impact,
        explanation=explanation,
    )
