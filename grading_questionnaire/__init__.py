"""Condition questionnaires for used devices and the pure evaluator that grades the answers.

This package stands alone: it does not import ``tradein_sdk``. It holds the questionnaire definitions (JSON
data, one per device category) and turns answers into a condition report.
"""

from grading_questionnaire._i18n import DOMAIN

__all__ = ["DOMAIN"]
