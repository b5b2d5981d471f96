"""Quotes: the signed, reproducible price offer for one device in a stated condition.

A :class:`Quote` snapshots everything that made its amount: the device as the catalog described it, the
questionnaire (id, version, content hash) with the questions and answers as the shopper saw them, the
condition report, the price book (id, version, content hash) and every valuation line. Its JSON form is
``schemas/quote.schema.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire import Audience
from grading_questionnaire._i18n import translate
from grading_questionnaire._schemas import schema_problems
from tradein_sdk._domain.converters import document_converter, document_text, json_converter
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.pricing import shown_params
from tradein_sdk._errors import DocumentInvalidError, DocumentProblem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from grading_questionnaire import ConditionReport, Questionnaire
    from tradein_sdk._domain.devices import DeviceModel, DeviceVariant
    from tradein_sdk._domain.pricing import Valuation


class QuoteKind(StrEnum):
    """How binding a quote is."""

    ESTIMATE = "estimate"
    """Based on the shopper's own answers: subject to inspection."""
    GUARANTEED = "guaranteed"
    """Based on a check by staff or diagnostics, with the IMEI recorded: honoured as quoted."""


class Channel(StrEnum):
    """Where the quote was given."""

    ONLINE = "online"
    STORE = "store"


@attrs.frozen(kw_only=True)
class DocumentRef:
    """The exact document a quote was computed from.

    Attributes:
        id: the document's id (or, for a catalog, its layered version).
        version: its version.
        content_hash: ``sha256:`` of its canonical JSON.
    """

    id: str
    version: str
    content_hash: str


@attrs.frozen(kw_only=True)
class QuotedDevice:
    """The device quoted, as the catalog described it then.

    Attributes:
        model_id: the catalog model.
        variant_id: the catalog variant.
        display_name: the name shown (``Apple iPhone 13``).
        storage_gb: the variant's storage.
        category: smartphone, tablet or smartwatch.
        imei: the IMEI, when given (required for a guaranteed quote).
        model: the catalog's model document at the time, for reproduction.
    """

    model_id: str
    variant_id: str
    display_name: str
    storage_gb: int
    category: str
    imei: str | None = None
    model: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class QuoteLine:
    """One line of a quote's explanation.

    Attributes:
        code: the kind of step (see :class:`ValuationLine`).
        message_id: the English explanation, a gettext msgid.
        params: values for its placeholders.
        text: the explanation as shown, in the quote's locale.
        amount: what it adds (negative: takes away).
        adjustment_id: the price book adjustment, for adjustment lines.
    """

    code: str
    message_id: str
    params: Mapping[str, str] = attrs.field(factory=dict)
    text: str
    amount: Money
    adjustment_id: str | None = None


@attrs.frozen(kw_only=True)
class TranscriptLine:
    """A question and its answer as the person answering saw them.

    Attributes:
        question: the question id.
        text: the question as shown.
        answer: the answer's value.
        answer_text: the answer as shown.
    """

    question: str
    text: str
    answer: Any  # a JSON answer value: true/false, a number, an option id or a list of them
    answer_text: str


@attrs.frozen(kw_only=True)
class Quote:
    """A price offer for one device in a stated condition.

    Attributes:
        id: the quote's identifier (``q_...``).
        kind: estimate (subject to inspection) or guaranteed.
        channel: online or store.
        audience: the shop or store it was issued for (its tokens verify only there).
        market: the market priced in.
        locale: the locale its texts were shown in.
        issued_at: when it was issued (UTC).
        expires_at: when it stops being redeemable (UTC).
        price_date: the date the device's age was counted to.
        device: the device quoted.
        amount: what the shop credits; zero for recycling only.
        recycle_only: a knockout applies: no value, free recycling.
        recycle_reasons: the knockout codes.
        pricing_grade: the pricing grade, ``None`` when recycling only.
        verification: who established the answers (self_declared, staff_verified, measured).
        lines: the valuation lines; their amounts add up to ``amount`` exactly.
        answers: the answers given.
        transcript: the questions and answers as shown.
        condition: the condition report's JSON form.
        questionnaire: the questionnaire used.
        catalog: the catalog used.
        pricebook: the price book used.
    """

    id: str
    kind: QuoteKind
    channel: Channel
    audience: str
    market: str
    locale: str
    issued_at: datetime
    expires_at: datetime
    price_date: date
    device: QuotedDevice
    amount: Money
    recycle_only: bool
    recycle_reasons: tuple[str, ...] = ()
    pricing_grade: str | None
    verification: str
    lines: tuple[QuoteLine, ...]
    answers: Mapping[str, Any]
    transcript: tuple[TranscriptLine, ...]
    condition: Mapping[str, Any]
    questionnaire: DocumentRef
    catalog: DocumentRef
    pricebook: DocumentRef

    def to_json(self) -> dict[str, Any]:
        """Return the quote's JSON form (``schemas/quote.schema.json``).

        Written field by field, the same JSON as the library's converter gives in a sixth of the time (a
        quote is serialised on every issue). The nested documents (``answers``, ``condition``, the device's
        ``model``) are the quote's own objects, not copies: read them, do not change them.
        """
        device = self.device
        return {
            "id": self.id,
            "kind": self.kind.value,
            "channel": self.channel.value,
            "audience": self.audience,
            "market": self.market,
            "locale": self.locale,
            "issued_at": self.issued_at.astimezone(UTC).isoformat(),
            "expires_at": self.expires_at.astimezone(UTC).isoformat(),
            "price_date": self.price_date.isoformat(),
            "device": {
                "model_id": device.model_id,
                "variant_id": device.variant_id,
                "display_name": device.display_name,
                "storage_gb": device.storage_gb,
                "category": device.category,
                "imei": device.imei,
                "model": device.model,
            },
            "amount": self.amount.to_json(),
            "recycle_only": self.recycle_only,
            "recycle_reasons": list(self.recycle_reasons),
            "pricing_grade": self.pricing_grade,
            "verification": self.verification,
            "lines": [
                {
                    "code": line.code,
                    "message_id": line.message_id,
                    "params": dict(line.params),
                    "text": line.text,
                    "amount": line.amount.to_json(),
                    "adjustment_id": line.adjustment_id,
                }
                for line in self.lines
            ],
            "answers": self.answers,
            "transcript": [
                {
                    "question": line.question,
                    "text": line.text,
                    "answer": line.answer,
                    "answer_text": line.answer_text,
                }
                for line in self.transcript
            ],
            "condition": self.condition,
            "questionnaire": _ref_json(self.questionnaire),
            "catalog": _ref_json(self.catalog),
            "pricebook": _ref_json(self.pricebook),
        }

    def document_text(self) -> str:
        """Return the quote's JSON form as the text the store keeps (keys sorted, compact, UTF-8)."""
        return document_text(self.to_json())

    @classmethod
    def from_json(cls, data: object, *, validate: bool = True) -> Quote:
        """Read a quote's JSON form.

        Args:
            data: the decoded document.
            validate: check it against ``schemas/quote.schema.json`` first (skip only for documents the
                library wrote itself, such as those it reads back from its store).

        Raises:
            DocumentInvalidError: ``data`` is not a valid quote document; each problem has its path.
        """
        if validate:
            found = schema_problems("quote", data)
            problems = [DocumentProblem(path=path, message=message) for path, message in found]
            if problems:
                raise DocumentInvalidError(kind="quote", source="<memory>", problems=problems)
        return json_converter().structure(data, cls)


@attrs.frozen(kw_only=True)
class IssuedQuote:
    """A new quote and the signed token a frontend carries for it.

    Attributes:
        quote: the quote, as stored.
        token: the compact signed token (verifies offline with the shop's key ring).
    """

    quote: Quote
    token: str


def _ref_json(ref: DocumentRef) -> dict[str, str]:
    return {"id": ref.id, "version": ref.version, "content_hash": ref.content_hash}


# -- assembly ---------------------------------------------------------------------------------------------


def line_text(
    message_id: str,
    params: Mapping[str, str],
    locale: str,
    questionnaire: Questionnaire,
    grade_labels: Mapping[str, str],
    *,
    currency: str,
) -> str:
    """A valuation line in ``locale``, its values shown as the locale writes them.

    The pricing grade is shown by its translated label; amounts, currency names and storage sizes are
    formatted there (:func:`~tradein_sdk._domain.pricing.shown_params`), ``currency`` being the line's.
    """
    shown = shown_params(params, locale, currency)
    grade = params.get("grade")
    if grade is not None and grade in grade_labels:
        shown["grade"] = questionnaire.translate(grade_labels[grade], locale)
    return _translated(message_id, locale, tuple(shown.items()))


@lru_cache(maxsize=4096)
def _translated(message_id: str, locale: str, params: tuple[tuple[str, str], ...]) -> str:
    """A message in ``locale``: valuation lines repeat (a grade, an age, a rounding): translated once."""
    return translate(message_id, locale, **dict(params))


def explain_lines(
    lines: Iterable[QuoteLine], questionnaire: Questionnaire, locale: str
) -> tuple[QuoteLine, ...]:
    """The lines of a quote with their text in ``locale``, the pricing grade named by its translated label."""
    grade_labels = {grade.id: grade.label for grade in questionnaire.pricing_grades}
    return tuple(
        attrs.evolve(
            line,
            text=line_text(
                line.message_id,
                line.params,
                locale,
                questionnaire,
                grade_labels,
                currency=line.amount.currency,
            ),
        )
        for line in lines
    )


def assemble_quote(
    *,
    quote_id: str,
    kind: QuoteKind,
    channel: Channel,
    audience: str,
    locale: str,
    issued_at: datetime,
    expires_at: datetime,
    model: DeviceModel,
    variant: DeviceVariant,
    imei: str | None,
    report: ConditionReport,
    valuation: Valuation,
    questionnaire: Questionnaire,
    catalog: DocumentRef,
    model_document: Mapping[str, Any] | None = None,
) -> Quote:
    """Assemble the quote for a graded and valued device: every fact that made its amount, snapshotted.

    The transcript shows the questions and answers as the shopper saw them in ``locale`` (staff checks
    included when the report was verified by staff or measured); each valuation line carries its text in
    ``locale``; the device's catalog entry, the questionnaire, price book and catalog are named by content
    hash, so the quote can be reproduced (:meth:`~tradein_sdk.TradeIn.reproduce_quote`). The model's
    catalog document is ``model_document`` when given (:meth:`~tradein_sdk.Catalog.model_document`, made once
    per model), else made here.
    """
    staff = report.verification.value != "self_declared"
    rendered = questionnaire.render(locale, audience=Audience.STAFF if staff else Audience.SHOPPER)
    transcript = tuple(
        TranscriptLine(
            question=entry.question,
            text=entry.text,
            answer=list(entry.answer) if isinstance(entry.answer, tuple) else entry.answer,
            answer_text=entry.answer_text,
        )
        for entry in rendered.transcript(report.answers)
    )
    grade_labels = {grade.id: grade.label for grade in questionnaire.pricing_grades}
    lines = tuple(
        QuoteLine(
            code=line.code,
            message_id=line.message_id,
            params=dict(line.params),
            text=line_text(
                line.message_id,
                line.params,
                locale,
                questionnaire,
                grade_labels,
                currency=line.amount.currency,
            ),
            amount=line.amount,
            adjustment_id=line.adjustment_id,
        )
        for line in valuation.lines
    )
    answers: dict[str, Any] = {
        key: list(value) if isinstance(value, tuple) else value for key, value in report.answers.items()
    }
    return Quote(
        id=quote_id,
        kind=kind,
        channel=channel,
        audience=audience,
        market=valuation.market,
        locale=locale,
        issued_at=issued_at,
        expires_at=expires_at,
        price_date=valuation.as_of,
        device=QuotedDevice(
            model_id=model.id,
            variant_id=variant.id,
            display_name=model.display_name,
            storage_gb=variant.storage_gb,
            category=model.category.value,
            imei=imei,
            model=document_converter().unstructure(model) if model_document is None else model_document,
        ),
        amount=valuation.total,
        recycle_only=valuation.recycle_only,
        recycle_reasons=tuple(knockout.code for knockout in report.knockouts),
        pricing_grade=valuation.pricing_grade,
        verification=report.verification.value,
        lines=lines,
        answers=answers,
        transcript=transcript,
        condition=report.to_json(),
        questionnaire=DocumentRef(
            id=questionnaire.id, version=questionnaire.version, content_hash=questionnaire.content_hash
        ),
        catalog=catalog,
        pricebook=DocumentRef(
            id=valuation.pricebook_id,
            version=valuation.pricebook_version,
            content_hash=valuation.pricebook_hash,
        ),
    )
