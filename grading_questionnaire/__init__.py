"""Condition questionnaires for used devices and the pure evaluator that grades the answers.

This package stands alone: it does not import ``tradein_sdk``. It holds the questionnaire definitions (JSON
data, one per device category) and turns answers into a condition report::

    from grading_questionnaire import example_answers, load_questionnaire

    questionnaire = load_questionnaire("smartphone")
    report = questionnaire.evaluate(example_answers("smartphone", "worn").answers)
    report.cosmetic, report.functional, report.pricing_grade      # (B, 0, 'good')

A report grades separate dimensions (cosmetic A-D, functional 0-9, lock, battery, liquid), names every
finding and knockout, and records the questionnaire's id, version and content hash. Errors are
:class:`QuestionnaireError` subclasses with stable codes; see :mod:`grading_questionnaire._errors`.
"""

from grading_questionnaire._conditions import AllOf, AnswerCondition, AnyOf, Condition, Not, Operator
from grading_questionnaire._definition import (
    AnswerValue,
    DiagnosticsMapping,
    GradingRule,
    NumberRange,
    Option,
    PricingGrade,
    Question,
    Questionnaire,
    Section,
    build_questionnaire,
    bundled_categories,
    load_questionnaire,
    load_questionnaire_file,
    validate_questionnaire_file,
)
from grading_questionnaire._diagnostics import DiagnosticsResult, MeasuredOption
from grading_questionnaire._errors import (
    AnswerProblem,
    AnswersInvalidError,
    DefinitionProblem,
    DiagnosticsInvalidError,
    QuestionnaireError,
    QuestionnaireInvalidError,
    QuestionnaireNotFoundError,
    UnknownLocaleError,
)
from grading_questionnaire._evaluate import ConditionReport, Finding, Knockout
from grading_questionnaire._examples import (
    ExampleAnswers,
    example_answer_names,
    example_answers,
    example_diagnostics,
)
from grading_questionnaire._extract import extract_questionnaire_messages
from grading_questionnaire._grades import (
    Acceptance,
    Audience,
    BatteryState,
    CosmeticGrade,
    DimensionValues,
    LiquidDamage,
    LockStatus,
    QuestionKind,
    VerificationDepth,
    Worse,
)
from grading_questionnaire._i18n import DOMAIN
from grading_questionnaire._render import (
    RenderedLabel,
    RenderedOption,
    RenderedQuestion,
    RenderedQuestionnaire,
    RenderedSection,
    TranscriptEntry,
)

__all__ = [
    "DOMAIN",
    "Acceptance",
    "AllOf",
    "AnswerCondition",
    "AnswerProblem",
    "AnswerValue",
    "AnswersInvalidError",
    "AnyOf",
    "Audience",
    "BatteryState",
    "Condition",
    "ConditionReport",
    "CosmeticGrade",
    "DefinitionProblem",
    "DiagnosticsInvalidError",
    "DiagnosticsMapping",
    "DiagnosticsResult",
    "DimensionValues",
    "ExampleAnswers",
    "Finding",
    "GradingRule",
    "Knockout",
    "LiquidDamage",
    "LockStatus",
    "MeasuredOption",
    "Not",
    "NumberRange",
    "Operator",
    "Option",
    "PricingGrade",
    "Question",
    "QuestionKind",
    "Questionnaire",
    "QuestionnaireError",
    "QuestionnaireInvalidError",
    "QuestionnaireNotFoundError",
    "RenderedLabel",
    "RenderedOption",
    "RenderedQuestion",
    "RenderedQuestionnaire",
    "RenderedSection",
    "Section",
    "TranscriptEntry",
    "UnknownLocaleError",
    "VerificationDepth",
    "Worse",
    "build_questionnaire",
    "bundled_categories",
    "example_answer_names",
    "example_answers",
    "example_diagnostics",
    "extract_questionnaire_messages",
    "load_questionnaire",
    "load_questionnaire_file",
    "validate_questionnaire_file",
]
