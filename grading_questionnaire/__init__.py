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

from typing import TYPE_CHECKING

from grading_questionnaire._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from grading_questionnaire._answers import AnswerValue, NumberRange
    from grading_questionnaire._conditions import AllOf, AnswerCondition, AnyOf, Condition, Not, Operator
    from grading_questionnaire._definition import (
        DiagnosticsMapping,
        GradingRule,
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

# Everything loads on first use: importing the package (or its translation helpers) stays cheap.
_LAZY = {
    "Acceptance": "grading_questionnaire._grades",
    "AllOf": "grading_questionnaire._conditions",
    "AnswerCondition": "grading_questionnaire._conditions",
    "AnswerProblem": "grading_questionnaire._errors",
    "AnswerValue": "grading_questionnaire._answers",
    "AnswersInvalidError": "grading_questionnaire._errors",
    "AnyOf": "grading_questionnaire._conditions",
    "Audience": "grading_questionnaire._grades",
    "BatteryState": "grading_questionnaire._grades",
    "Condition": "grading_questionnaire._conditions",
    "ConditionReport": "grading_questionnaire._evaluate",
    "CosmeticGrade": "grading_questionnaire._grades",
    "DOMAIN": "grading_questionnaire._i18n",
    "DefinitionProblem": "grading_questionnaire._errors",
    "DiagnosticsInvalidError": "grading_questionnaire._errors",
    "DiagnosticsMapping": "grading_questionnaire._definition",
    "DiagnosticsResult": "grading_questionnaire._diagnostics",
    "DimensionValues": "grading_questionnaire._grades",
    "ExampleAnswers": "grading_questionnaire._examples",
    "Finding": "grading_questionnaire._evaluate",
    "GradingRule": "grading_questionnaire._definition",
    "Knockout": "grading_questionnaire._evaluate",
    "LiquidDamage": "grading_questionnaire._grades",
    "LockStatus": "grading_questionnaire._grades",
    "MeasuredOption": "grading_questionnaire._diagnostics",
    "Not": "grading_questionnaire._conditions",
    "NumberRange": "grading_questionnaire._answers",
    "Operator": "grading_questionnaire._conditions",
    "Option": "grading_questionnaire._definition",
    "PricingGrade": "grading_questionnaire._definition",
    "Question": "grading_questionnaire._definition",
    "QuestionKind": "grading_questionnaire._grades",
    "Questionnaire": "grading_questionnaire._definition",
    "QuestionnaireError": "grading_questionnaire._errors",
    "QuestionnaireInvalidError": "grading_questionnaire._errors",
    "QuestionnaireNotFoundError": "grading_questionnaire._errors",
    "RenderedLabel": "grading_questionnaire._render",
    "RenderedOption": "grading_questionnaire._render",
    "RenderedQuestion": "grading_questionnaire._render",
    "RenderedQuestionnaire": "grading_questionnaire._render",
    "RenderedSection": "grading_questionnaire._render",
    "Section": "grading_questionnaire._definition",
    "TranscriptEntry": "grading_questionnaire._render",
    "UnknownLocaleError": "grading_questionnaire._errors",
    "VerificationDepth": "grading_questionnaire._grades",
    "Worse": "grading_questionnaire._grades",
    "build_questionnaire": "grading_questionnaire._definition",
    "bundled_categories": "grading_questionnaire._definition",
    "example_answer_names": "grading_questionnaire._examples",
    "example_answers": "grading_questionnaire._examples",
    "example_diagnostics": "grading_questionnaire._examples",
    "extract_questionnaire_messages": "grading_questionnaire._extract",
    "load_questionnaire": "grading_questionnaire._definition",
    "load_questionnaire_file": "grading_questionnaire._definition",
    "validate_questionnaire_file": "grading_questionnaire._definition",
}


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

__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, __all__)
