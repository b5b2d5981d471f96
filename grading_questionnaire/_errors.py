"""The exceptions of ``grading_questionnaire``, each with a stable ``code``.

::

    QuestionnaireError              questionnaire_error
    ├── QuestionnaireNotFoundError  questionnaire_not_found  (no bundled definition or example by that name)
    ├── QuestionnaireInvalidError   questionnaire_invalid    (.problems: DefinitionProblem, each with a path)
    ├── AnswersInvalidError         answers_invalid          (.problems: AnswerProblem, each with a path)
    ├── DiagnosticsInvalidError     diagnostics_invalid      (.problems: DefinitionProblem, each with a path)
    └── UnknownLocaleError          unknown_locale

Every problem names where it is as a JSON path (``$.display_glass``, ``$.faults[1]``,
``$.sections[0].questions[2].show_if``) and what is wrong as a stable ``code``.

Codes of :class:`AnswerProblem` (answers are checked against the questionnaire, in its order):

======================== ==========================================================================
``wrong_type``           the answers are not an object, or a value has the wrong JSON type (yes/no
                         takes true/false, a choice an option id, multiple choice a list, a number a
                         finite number; a whole number where the question asks for one)
``unknown_question``     the questionnaire has no question with that id
``question_not_shown``   the question is hidden by its ``show_if`` given the other answers, or it
                         is a staff check and the answers are the shopper's own
``missing_answer``       a required question that is shown has no answer
``option_not_offered``   the option id is not one of the question's options
``duplicate_option``     a multiple-choice answer names the same option twice
``number_out_of_range``  the number is outside the question's minimum and maximum
======================== ==========================================================================

Codes of :class:`DefinitionProblem` in definition files: ``unreadable``, ``invalid_json``, ``schema``
(the document does not match its JSON schema), ``duplicate_id``, ``unknown_question``, ``unknown_option``,
``forward_reference`` (a ``show_if`` names a question that is not asked before), ``operator_mismatch``
(an operator that does not fit the question's kind), ``not_monotone`` (a grading rule whose condition is
not in its question's damage direction), ``audience_mismatch`` (a question for everyone depends on a
staff-only check), ``range`` (minimum above maximum), ``no_catch_all`` (the last pricing grade limits
something), ``duplicate_mapping`` and ``mapping_mismatch`` (a diagnostics mapping that does not fit its
question). In diagnostics documents: ``schema``, ``duplicate_test``, ``missing_value`` (a number test
without a value) and ``number_out_of_range``.

Messages of answer problems are English gettext msgids (``message_id`` and ``params``), so a
store terminal can show them translated; definition problems are for developers and English only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import attrs

from grading_questionnaire._i18n import translate

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


@attrs.frozen(kw_only=True)
class AnswerProblem:
    """One problem with a set of answers.

    Attributes:
        path: where it is, as a JSON path into the answers (``$.display_glass``, ``$.faults[1]``).
        code: what kind of problem it is (see the module documentation).
        message_id: the English message template, a gettext msgid.
        params: the values filled into the template.
    """

    path: str
    code: str
    message_id: str
    params: Mapping[str, object] = attrs.field(factory=dict)

    @property
    def message(self) -> str:
        """The English message."""
        return self.message_id.format(**self.params)

    def localized(self, locale: str, extra_locale_dirs: tuple[Path, ...] = ()) -> str:
        """Return the message in ``locale``.

        Args:
            locale: a canonical locale identifier such as ``de`` or ``fr_FR``.
            extra_locale_dirs: shop catalog folders that win over the bundled ones.

        Returns:
            The translated message with its parameters filled in.
        """
        return translate(self.message_id, locale, extra_locale_dirs, **self.params)

    def __str__(self) -> str:
        """Return the problem as ``path: message [code]``."""
        return f"{self.path}: {self.message} [{self.code}]"


@attrs.frozen(kw_only=True)
class DefinitionProblem:
    """One problem with a questionnaire definition or a diagnostics document.

    Attributes:
        path: where it is, as a JSON path into the document.
        code: what kind of problem it is (see the module documentation).
        message: what is wrong there, in English.
    """

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        """Return the problem as ``path: message [code]``."""
        return f"{self.path}: {self.message} [{self.code}]"


class QuestionnaireError(Exception):
    """The root of every error ``grading_questionnaire`` raises.

    Attributes:
        code: a stable, machine-readable identifier of the kind of failure.
    """

    code: ClassVar[str] = "questionnaire_error"


class QuestionnaireNotFoundError(QuestionnaireError):
    """No bundled questionnaire or example has the name asked for, or a definition file is missing.

    Attributes:
        name: the category, example name or path asked for.
    """

    code = "questionnaire_not_found"

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        """Create the error naming what was asked for and, when given, what exists."""
        self.name = name
        self.known = tuple(known)
        listing = f"; known: {', '.join(self.known)}" if self.known else ""
        super().__init__(f"no questionnaire or example named {name!r}{listing}")


class _ProblemsError(QuestionnaireError):
    kind: ClassVar[str] = "document"

    def __init__(self, *, source: str, problems: Iterable[DefinitionProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listing = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"{self.kind} {source} is invalid: {listing}")


class QuestionnaireInvalidError(_ProblemsError):
    """A questionnaire definition breaks its schema or a rule the schema cannot state.

    Attributes:
        source: where the definition came from (a file path, or ``<memory>``).
        problems: every problem found, each with its JSON path and code.
    """

    code = "questionnaire_invalid"
    kind = "questionnaire"


class DiagnosticsInvalidError(_ProblemsError):
    """A diagnostics document breaks its schema or does not fit the questionnaire.

    Attributes:
        source: where the document came from.
        problems: every problem found, each with its JSON path and code.
    """

    code = "diagnostics_invalid"
    kind = "diagnostics document"


class AnswersInvalidError(QuestionnaireError):
    """Answers do not fit the questionnaire.

    Attributes:
        questionnaire_id: the questionnaire the answers were checked against.
        problems: every problem found, each with its JSON path and code, in questionnaire order
            (answers to unknown questions last).
    """

    code = "answers_invalid"

    def __init__(self, *, questionnaire_id: str, problems: Iterable[AnswerProblem]) -> None:
        """Create the error listing every problem."""
        self.questionnaire_id = questionnaire_id
        self.problems = tuple(problems)
        listing = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"answers do not fit questionnaire {questionnaire_id}: {listing}")

    @property
    def codes(self) -> tuple[tuple[str, str], ...]:
        """The ``(path, code)`` pair of every problem, in order."""
        return tuple((problem.path, problem.code) for problem in self.problems)


class UnknownLocaleError(QuestionnaireError):
    """A locale identifier is not one Babel knows.

    Attributes:
        locale: the identifier as given.
    """

    code = "unknown_locale"

    def __init__(self, locale: str) -> None:
        """Create the error naming the identifier."""
        self.locale = locale
        super().__init__(f"unknown locale {locale!r}")
