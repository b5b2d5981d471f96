"""The shop's own tables beside the library's: the inspection reports shown to the shopper, and settings.

An order records only the amounts and the ids of the questions that differed; what an inspection found
(each question that differed, the answer declared and the answer found, what the difference costs, the
major mismatches) is the shop's to keep. It goes into one small table on the same kind of database (the
shop's SQLite file or the PostgreSQL database of the library), written once per inspection. A report keeps
the question ids, the raw answers and the mismatch codes, and is shown in the reader's language
(:func:`localized_reports`): the question and the answers from the questionnaire rendered in that locale,
the sentence and the mismatches from the shop's own texts. The texts rendered at inspection time (in the
quote's language) are kept too, and shown as they are for a report stored before the ids were (or one
whose question the questionnaire no longer has).

A second small table keeps the shop's settings by name; the demo clock keeps its offset there, so every
worker (and every host on PostgreSQL) tells the same time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from babel.lists import format_list
from flask_babel import gettext

from grading_questionnaire import QuestionKind
from tradein_sdk import Money, TradeInError

from .texts import has_text, text

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from grading_questionnaire import RenderedQuestion, RenderedQuestionnaire
    from tradein_sdk import InspectionDiff, TradeIn

_metadata = sa.MetaData()
_reports = sa.Table(
    "flask_shop_inspection_reports",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), nullable=False, index=True),
    sa.Column("device_id", sa.String(16), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)

_settings = sa.Table(
    "flask_shop_settings",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


@attrs.frozen(kw_only=True)
class ReportLine:
    """One question of an inspection that differed from the shopper's answer.

    Attributes:
        question: the question as shown.
        declared: the shopper's answer as shown.
        found: the inspector's answer as shown.
        impact: what the difference changes in the offer.
        explanation: the full sentence.
        question_id: the question's id (``None``: a report stored before ids were, shown as stored).
        declared_answer: the shopper's answer (``None``: not declared).
        found_answer: the inspector's answer (``None``: not applicable).

    The texts are those of the locale they were rendered in: the quote's when stored,
    the reader's after :meth:`InspectionReport.localized`.
    """

    question: str
    declared: str
    found: str
    impact: Money
    explanation: str
    question_id: str | None = None
    declared_answer: Any = None  # an answer value: bool, str, tuple of option ids or a number
    found_answer: Any = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        document: dict[str, Any] = {
            "question": self.question,
            "declared": self.declared,
            "found": self.found,
            "impact": self.impact.to_json(),
            "explanation": self.explanation,
        }
        if self.question_id is not None:
            document["question_id"] = self.question_id
            document["declared_answer"] = _answer_to_json(self.declared_answer)
            document["found_answer"] = _answer_to_json(self.found_answer)
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportLine:
        """Read the stored form (one stored without ids too)."""
        return cls(
            question=data["question"],
            declared=data["declared"],
            found=data["found"],
            impact=Money.from_json(data["impact"]),
            explanation=data["explanation"],
            question_id=data.get("question_id"),
            declared_answer=_answer_from_json(data.get("declared_answer")),
            found_answer=_answer_from_json(data.get("found_answer")),
        )


def _answer_to_json(answer: Any) -> Any:  # noqa: ANN401 - an answer value
    return list(answer) if isinstance(answer, (tuple, list)) else answer


def _answer_from_json(answer: Any) -> Any:  # noqa: ANN401 - an answer value
    return tuple(answer) if isinstance(answer, list) else answer


@attrs.frozen(kw_only=True)
class InspectionReport:
    """What the shopper sees of an inspection.

    Attributes:
        quoted: the quote's amount.
        revised_offer: the offer after inspection.
        lines: each question that differed.
        mismatches: the major mismatches, explained.
        mismatch_reasons: the codes of the major mismatches (a ``MismatchReason`` value each, in the order
            of ``mismatches``; empty in a report stored before they were).
        quote_id: the quote inspected against (``None``: a report stored before it was).
        category: the device category, whose questionnaire renders the questions (``None``: not stored; the
            quote's is used).
    """

    quoted: Money
    revised_offer: Money
    lines: tuple[ReportLine, ...]
    mismatches: tuple[str, ...]
    mismatch_reasons: tuple[str, ...] = ()
    quote_id: str | None = None
    category: str | None = None

    @classmethod
    def from_diff(cls, diff: InspectionDiff, *, category: str | None = None) -> InspectionReport:
        """Keep what an inspection diff found: ids, answers and codes, and its texts as rendered."""
        return cls(
            quoted=diff.quoted,
            revised_offer=diff.revised_offer,
            lines=tuple(
                ReportLine(
                    question=item.text,
                    declared=item.shopper_answer_text,
                    found=item.inspector_answer_text,
                    impact=item.price_impact,
                    explanation=item.explanation,
                    question_id=item.question,
                    declared_answer=_answer_from_json(item.shopper_answer),
                    found_answer=_answer_from_json(item.inspector_answer),
                )
                for item in diff.differences
            ),
            mismatches=tuple(diff.mismatch_texts),
            mismatch_reasons=tuple(reason.value for reason in diff.mismatch),
            quote_id=diff.quote_id,
            category=category,
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        document: dict[str, Any] = {
            "quoted": self.quoted.to_json(),
            "revised_offer": self.revised_offer.to_json(),
            "lines": [line.to_json() for line in self.lines],
            "mismatches": list(self.mismatches),
        }
        if self.mismatch_reasons:
            document["mismatch_reasons"] = list(self.mismatch_reasons)
        if self.quote_id is not None:
            document["quote_id"] = self.quote_id
        if self.category is not None:
            document["category"] = self.category
        return document

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InspectionReport:
        """Read the stored form (one stored without ids and codes too)."""
        return cls(
            quoted=Money.from_json(data["quoted"]),
            revised_offer=Money.from_json(data["revised_offer"]),
            lines=tuple(ReportLine.from_json(line) for line in data["lines"]),
            mismatches=tuple(data["mismatches"]),
            mismatch_reasons=tuple(data.get("mismatch_reasons", ())),
            quote_id=data.get("quote_id"),
            category=data.get("category"),
        )


def localized_reports(
    reports: Mapping[str, InspectionReport], trade_in: TradeIn, locale: str
) -> dict[str, InspectionReport]:
    """The reports (by device id) with their texts in ``locale``, the request's (see the module docstring).

    Call it in a request: the sentences are the shop's gettext texts in the request's language.
    """
    texts = _ReportTexts(trade_in, locale)
    return {device_id: texts.report(report) for device_id, report in reports.items()}


class _ReportTexts:
    """Renders stored reports in one locale, each questionnaire rendered once."""

    def __init__(self, trade_in: TradeIn, locale: str) -> None:
        self.trade_in = trade_in
        self.locale = locale
        self._questions: dict[str, dict[str, tuple[RenderedQuestionnaire, RenderedQuestion]]] = {}

    def report(self, report: InspectionReport) -> InspectionReport:
        """``report`` in this locale; what cannot be rendered is kept as stored."""
        questions = self.questions(self.category(report))
        return attrs.evolve(
            report,
            lines=tuple(self.line(line, questions) for line in report.lines),
            mismatches=self.mismatches(report),
        )

    def category(self, report: InspectionReport) -> str | None:
        """The report's device category: stored, or the quote's."""
        if report.category is not None or report.quote_id is None:
            return report.category
        try:
            category: str = self.trade_in.get_quote(report.quote_id).quote.device.category
        except TradeInError:  # the quote is gone: the stored texts are shown
            return None
        return category

    def questions(self, category: str | None) -> dict[str, tuple[RenderedQuestionnaire, RenderedQuestion]]:
        """Question id → its rendering and rendered question: the shopper's first, then the staff's."""
        if category is None:
            return {}
        if category not in self._questions:
            found: dict[str, tuple[RenderedQuestionnaire, RenderedQuestion]] = {}
            for staff in (False, True):
                try:
                    rendered = self.trade_in.render_questionnaire(category, self.locale, staff=staff)
                except TradeInError:  # no questionnaire or locale: the stored texts are shown
                    break
                for section in rendered.sections:
                    for question in section.questions:
                        found.setdefault(question.id, (rendered, question))
            self._questions[category] = found
        return self._questions[category]

    def line(
        self, line: ReportLine, questions: Mapping[str, tuple[RenderedQuestionnaire, RenderedQuestion]]
    ) -> ReportLine:
        """``line`` in this locale, or as stored (no id, or a question or option the questionnaire lacks)."""
        if line.question_id is None or line.question_id not in questions:
            return line
        rendered, question = questions[line.question_id]
        try:
            declared = self.answer(rendered, question, line.declared_answer)
            found = self.answer(rendered, question, line.found_answer)
        except (LookupError, TypeError, ValueError):
            return line
        return attrs.evolve(
            line,
            question=question.text,
            declared=gettext("not declared") if declared is None else declared,
            found=gettext("not applicable") if found is None else found,
            explanation=self.explanation(line.impact, declared, found),
        )

    def answer(
        self,
        rendered: RenderedQuestionnaire,
        question: RenderedQuestion,
        answer: Any,  # noqa: ANN401 - an answer value
    ) -> str | None:
        """An answer as shown (``None``: no answer): labels, "yes"/"no", a number as the locale writes it.

        Raises:
            LookupError: the question has no such option.
        """
        if answer is None:
            return None
        if question.kind is QuestionKind.MULTIPLE_CHOICE and answer:
            labels = {option.value: option.label for option in question.options}
            return str(format_list([labels[option] for option in answer], locale=self.locale))
        entries = rendered.transcript({question.id: answer})
        if not entries:
            raise LookupError(question.id)
        return entries[0].answer_text

    def explanation(self, impact: Money, declared: str | None, found: str | None) -> str:
        """The sentence: what was declared, what was found, what it changes in the value."""
        found_text = gettext("not applicable") if found is None else found
        amount = abs(impact).format(self.locale)
        if declared is None:  # a check only staff make, or a question the shopper was not shown
            if impact.is_zero():
                return gettext(
                    "Checked at inspection: we found “%(found)s”. This does not change the value.",
                    found=found_text,
                )
            if impact.amount < 0:
                return gettext(
                    "Checked at inspection: we found “%(found)s”. This lowers the value by %(amount)s.",
                    found=found_text,
                    amount=amount,
                )
            return gettext(
                "Checked at inspection: we found “%(found)s”. This raises the value by %(amount)s.",
                found=found_text,
                amount=amount,
            )
        if impact.is_zero():
            return gettext(
                "You declared “%(declared)s”; we found “%(found)s”. This does not change the value.",
                declared=declared,
                found=found_text,
            )
        if impact.amount < 0:
            return gettext(
                "You declared “%(declared)s”; we found “%(found)s”. This lowers the value by %(amount)s.",
                declared=declared,
                found=found_text,
                amount=amount,
            )
        return gettext(
            "You declared “%(declared)s”; we found “%(found)s”. This raises the value by %(amount)s.",
            declared=declared,
            found=found_text,
            amount=amount,
        )

    def mismatches(self, report: InspectionReport) -> tuple[str, ...]:
        """The mismatches in the shop's texts where it has one; as stored otherwise."""
        if len(report.mismatch_reasons) != len(report.mismatches):
            return report.mismatches
        return tuple(
            text("mismatch.reason", reason) if has_text("mismatch.reason", reason) else stored
            for reason, stored in zip(report.mismatch_reasons, report.mismatches, strict=True)
        )


class ShopRecords:
    """The shop's inspection reports and settings, on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        """Connect and create the table when it does not exist."""
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self._engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            _metadata.create_all(self._engine)
        except sa.exc.DatabaseError:
            # Workers starting together: another one created the table between the check and the CREATE
            # (SQLite says "already exists", PostgreSQL a unique violation). Anything else is raised.
            tables = sa.inspect(self._engine)
            if not all(tables.has_table(table.name) for table in (_reports, _settings)):
                raise

    def add_report(self, order_id: str, device_id: str, report: InspectionReport, *, now: datetime) -> None:
        """Keep the report of an inspection made at ``now`` (the newest one wins)."""
        with self._engine.begin() as conn:
            conn.execute(
                _reports.insert().values(
                    order_id=order_id,
                    device_id=device_id,
                    recorded_at=now,
                    document=json.dumps(report.to_json(), ensure_ascii=False),
                )
            )

    def reports(self, order_id: str) -> dict[str, InspectionReport]:
        """The newest report of each inspected device of an order, by device id."""
        query = sa.select(_reports.c.device_id, _reports.c.document).where(_reports.c.order_id == order_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(_reports.c.id)).all()
        return {row.device_id: InspectionReport.from_json(json.loads(row.document)) for row in rows}

    def setting(self, name: str) -> str | None:
        """The setting ``name``, or ``None`` when it was never set."""
        query = sa.select(_settings.c.value).where(_settings.c.name == name)
        with self._engine.connect() as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
        return value

    def set_setting(self, name: str, value: str) -> None:
        """Set ``name`` to ``value`` (the last writer wins)."""
        with self._engine.begin() as conn:
            updated = conn.execute(_settings.update().where(_settings.c.name == name).values(value=value))
            if updated.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(_settings.insert().values(name=name, value=value))
                except sa.exc.IntegrityError:  # another worker inserted it meanwhile: update that row
                    conn.execute(_settings.update().where(_settings.c.name == name).values(value=value))

    def close(self) -> None:
        """Release the connections."""
        self._engine.dispose()
