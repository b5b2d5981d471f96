"""Rendering: a questionnaire in one locale, as a document any frontend can show.

The document (``schemas/rendered-questionnaire.schema.json``) carries every text translated, the
options with the values an answer uses, the ``show_if`` conditions for the frontend to apply, the
pricing-grade labels and the finding messages (to explain a condition report). What the shopper saw is
what a quote records: the rendered document's hash, and the :meth:`RenderedQuestionnaire.transcript`
of the questions answered.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Self

import attrs

from grading_questionnaire._answers import NumberRange
from grading_questionnaire._conditions import Condition, parse_condition
from grading_questionnaire._grades import Audience, QuestionKind
from grading_questionnaire._i18n import N_, translate
from grading_questionnaire._schemas import content_hash, schema_problems

if TYPE_CHECKING:
    from collections.abc import Mapping

    from grading_questionnaire._definition import Question, Questionnaire

_YES = N_("Yes")
_NO = N_("No")
_NONE_SELECTED = N_("None of these")


@attrs.frozen(kw_only=True)
class RenderedOption:
    """An option as a frontend shows it.

    Attributes:
        value: what the answer holds when it is chosen (``True``/``False`` for yes/no, an option id).
        label: the translated label.
        help: the translated explanation, or ``None``.
    """

    value: bool | str
    label: str
    help: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        document: dict[str, Any] = {"value": self.value, "label": self.label}
        if self.help is not None:
            document["help"] = self.help
        return document


@attrs.frozen(kw_only=True)
class RenderedQuestion:
    """A question as a frontend shows it.

    Attributes:
        id: the key of its answer.
        kind: what kind of answer it takes.
        text: the translated question.
        help: the translated explanation, or ``None``.
        required: whether it must be answered when shown.
        staff_only: whether it is a check for staff or diagnostics.
        show_if: when to show it (``None``: always).
        options: the options (yes/no and choice questions).
        number: the accepted range (number questions).
    """

    id: str
    kind: QuestionKind
    text: str
    help: str | None = None
    required: bool
    staff_only: bool = False
    show_if: Condition | None = None
    options: tuple[RenderedOption, ...] = ()
    number: NumberRange | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        document: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "text": self.text,
            "required": self.required,
            "audience": "staff" if self.staff_only else "everyone",
        }
        if self.help is not None:
            document["help"] = self.help
        if self.show_if is not None:
            document["show_if"] = self.show_if.to_json()
        if self.number is not None:
            document["number"] = {
                "minimum": self.number.minimum,
                "maximum": self.number.maximum,
                "integer": self.number.integer,
            }
            if self.number.unit is not None:
                document["number"]["unit"] = self.number.unit
        else:
            document["options"] = [option.to_json() for option in self.options]
        return document


@attrs.frozen(kw_only=True)
class RenderedSection:
    """A section as a frontend shows it.

    Attributes:
        id: a stable key.
        title: the translated title.
        questions: the questions shown to the audience, in order.
    """

    id: str
    title: str
    questions: tuple[RenderedQuestion, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "title": self.title,
            "questions": [question.to_json() for question in self.questions],
        }


@attrs.frozen(kw_only=True)
class RenderedLabel:
    """A translated label of a pricing grade or a finding.

    Attributes:
        id: the pricing grade's or the finding's id.
        text: the translated label or message.
        description: the translated description of a pricing grade, or ``None``.
        knockout: the knockout code a finding raises, or ``None``.
    """

    id: str
    text: str
    description: str | None = None
    knockout: str | None = None


@attrs.frozen(kw_only=True)
class TranscriptEntry:
    """A question and answer as the person answering saw them.

    Attributes:
        question: the question's id.
        text: the translated question.
        answer: the answer's value.
        answer_text: the answer as shown (option labels, a formatted number).
    """

    question: str
    text: str
    answer: bool | str | tuple[str, ...] | int | float
    answer_text: str

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        answer = list(self.answer) if isinstance(self.answer, tuple) else self.answer
        return {
            "question": self.question,
            "text": self.text,
            "answer": answer,
            "answer_text": self.answer_text,
        }


@attrs.frozen(kw_only=True)
class RenderedQuestionnaire:
    """A questionnaire rendered in one locale for one audience.

    Attributes:
        questionnaire_id: the questionnaire's id.
        version: its version.
        category: the device category.
        questionnaire_hash: the definition's content hash.
        locale: the canonical locale of the texts.
        audience: who it is rendered for.
        title: the translated title.
        description: the translated introduction, or ``None``.
        sections: the sections with at least one question for the audience.
        pricing_grades: the pricing grades, best to worst.
        findings: the message of every grading rule.
    """

    questionnaire_id: str
    version: str
    category: str
    questionnaire_hash: str
    locale: str
    audience: Audience
    title: str
    description: str | None = None
    sections: tuple[RenderedSection, ...]
    pricing_grades: tuple[RenderedLabel, ...]
    findings: tuple[RenderedLabel, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the document of ``schemas/rendered-questionnaire.schema.json``."""
        document: dict[str, Any] = {
            "questionnaire": {
                "id": self.questionnaire_id,
                "version": self.version,
                "category": self.category,
                "content_hash": self.questionnaire_hash,
            },
            "locale": self.locale,
            "audience": self.audience.value,
            "title": self.title,
        }
        if self.description is not None:
            document["description"] = self.description
        document["sections"] = [section.to_json() for section in self.sections]
        document["pricing_grades"] = [
            {"id": grade.id, "label": grade.text}
            | ({"description": grade.description} if grade.description else {})
            for grade in self.pricing_grades
        ]
        document["findings"] = [
            {"id": finding.id, "message": finding.text}
            | ({"knockout": finding.knockout} if finding.knockout else {})
            for finding in self.findings
        ]
        return document

    @classmethod
    def from_json(cls, document: object) -> Self:
        """Read the document :meth:`to_json` writes (what a remote trade-in service sends).

        The "None of these" text of a transcript comes from the library's own catalogs (a shop's extra
        catalogs are not known on this side).

        Raises:
            ValueError: the document does not match ``schemas/rendered-questionnaire.schema.json``; the
                message names each JSON path.
        """
        problems = schema_problems("rendered-questionnaire", document)
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        assert isinstance(document, dict)  # noqa: S101 - the schema requires an object
        head = document["questionnaire"]
        return cls(
            questionnaire_id=head["id"],
            version=head["version"],
            category=head["category"],
            questionnaire_hash=head["content_hash"],
            locale=document["locale"],
            audience=Audience(document["audience"]),
            title=document["title"],
            description=document.get("description"),
            sections=tuple(
                RenderedSection(
                    id=section["id"],
                    title=section["title"],
                    questions=tuple(_question_from_json(item) for item in section["questions"]),
                )
                for section in document["sections"]
            ),
            pricing_grades=tuple(
                RenderedLabel(id=grade["id"], text=grade["label"], description=grade.get("description"))
                for grade in document["pricing_grades"]
            ),
            findings=tuple(
                RenderedLabel(id=finding["id"], text=finding["message"], knockout=finding.get("knockout"))
                for finding in document["findings"]
            ),
            none_selected=translate(_NONE_SELECTED, document["locale"]),
        )

    @property
    def content_hash(self) -> str:
        """``sha256:`` of the rendered document: identifies exactly the texts shown."""
        return content_hash(self.to_json())

    def transcript(self, answers: Mapping[str, Any]) -> tuple[TranscriptEntry, ...]:
        """Pair each answered question shown here with its text and the answer as shown.

        Args:
            answers: valid answers, such as :attr:`ConditionReport.answers`.

        Returns:
            One entry per answered question in this rendering, in questionnaire order; answers to
            questions not in this rendering are left out.
        """
        entries = []
        known = self._entries
        for section in self.sections:
            for question in section.questions:
                if question.id not in answers:
                    continue
                answer = answers[question.id]
                key = (question.id, tuple(answer) if isinstance(answer, list) else answer)
                entry = known.get(key)
                if entry is None:
                    entry = self._entry(question, answer)
                    if len(known) < _MAX_KNOWN_ENTRIES:  # numbers vary without end: keep the first ones
                        known[key] = entry
                entries.append(entry)
        return tuple(entries)

    def _entry(self, question: RenderedQuestion, answer: Any) -> TranscriptEntry:  # noqa: ANN401 - a JSON answer
        labels = {option.value: option.label for option in question.options}
        if question.kind is QuestionKind.NUMBER:
            unit = question.number.unit if question.number else None
            text = _number_text(answer, self.locale, percent=unit == "percent")
        elif question.kind is QuestionKind.MULTIPLE_CHOICE:
            chosen = [labels[option] for option in answer]
            text = "; ".join(chosen) if chosen else self._none_selected
        else:
            text = labels[answer]
        return TranscriptEntry(
            question=question.id,
            text=question.text,
            answer=tuple(answer) if isinstance(answer, list) else answer,
            answer_text=text,
        )

    _none_selected: str = attrs.field(alias="none_selected", default=_NONE_SELECTED, repr=False)
    _entries: dict[tuple[str, Any], TranscriptEntry] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )
    """The entries made so far, by question and answer (entries are immutable, so they are shared)."""


_MAX_KNOWN_ENTRIES = 10_000


@lru_cache(maxsize=4096)
def _number_text(value: float, locale: str, *, percent: bool) -> str:
    """A number as ``locale`` writes it (a percentage when ``percent``); answers repeat, Babel is slow."""
    from babel.numbers import format_decimal, format_percent  # noqa: PLC0415 - Babel loads on first use

    return str(
        format_percent(value / 100, locale=locale) if percent else format_decimal(value, locale=locale)
    )


def _question_from_json(document: Mapping[str, Any]) -> RenderedQuestion:
    number = document.get("number")
    return RenderedQuestion(
        id=document["id"],
        kind=QuestionKind(document["kind"]),
        text=document["text"],
        help=document.get("help"),
        required=document["required"],
        staff_only=document["audience"] == "staff",
        show_if=parse_condition(document["show_if"]) if "show_if" in document else None,
        options=tuple(
            RenderedOption(value=option["value"], label=option["label"], help=option.get("help"))
            for option in document.get("options", ())
        ),
        number=None if number is None else NumberRange.from_json(number),
    )


def render(questionnaire: Questionnaire, locale: str, audience: Audience) -> RenderedQuestionnaire:
    """Render ``questionnaire`` in ``locale`` (canonical) for ``audience``."""

    def text(message: str) -> str:
        return questionnaire.translate(message, locale)

    def optional(message: str | None) -> str | None:
        return None if message is None else text(message)

    def options(question: Question) -> tuple[RenderedOption, ...]:
        if question.kind is QuestionKind.YES_NO:
            return (
                RenderedOption(value=True, label=text(_YES)),
                RenderedOption(value=False, label=text(_NO)),
            )
        return tuple(
            RenderedOption(value=option.id, label=text(option.label), help=optional(option.help))
            for option in question.options
        )

    sections = []
    for section in questionnaire.sections:
        questions = tuple(
            RenderedQuestion(
                id=question.id,
                kind=question.kind,
                text=text(question.text),
                help=optional(question.help),
                required=question.required,
                staff_only=question.staff_only,
                show_if=question.show_if,
                options=options(question),
                number=question.number,
            )
            for question in section.questions
            if question.shown_to(audience)
        )
        if questions:
            sections.append(RenderedSection(id=section.id, title=text(section.title), questions=questions))
    return RenderedQuestionnaire(
        questionnaire_id=questionnaire.id,
        version=questionnaire.version,
        category=questionnaire.category,
        questionnaire_hash=questionnaire.content_hash,
        locale=locale,
        audience=audience,
        title=text(questionnaire.title),
        description=optional(questionnaire.description),
        sections=tuple(sections),
        pricing_grades=tuple(
            RenderedLabel(id=grade.id, text=text(grade.label), description=optional(grade.description))
            for grade in questionnaire.pricing_grades
        ),
        findings=tuple(
            RenderedLabel(id=rule.id, text=text(rule.message), knockout=rule.knockout)
            for rule in questionnaire.rules
        ),
        none_selected=text(_NONE_SELECTED),
    )
