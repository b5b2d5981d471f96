"""Answers checked against the device they describe, before they are graded.

A questionnaire is per category, so its answers alone cannot tell an iPhone from a Pixel: the platform answer
decides which lock questions follow (Activation Lock, "Find My", for Apple; the Samsung account for
Samsung; the Google account for other Android devices). A shopper who quotes an iPhone and answers the
platform question "Android" would skip the Activation Lock question. :func:`device_answer_problems` ties the
platform answer to the catalog's brand of the device being quoted, so the brand's own lock questions are
asked and graded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from grading_questionnaire._errors import AnswerProblem
from grading_questionnaire._i18n import N_

if TYPE_CHECKING:
    from collections.abc import Mapping

    from grading_questionnaire import Questionnaire
    from tradein_sdk._domain.devices import DeviceModel

PLATFORM_QUESTION: Final = "platform"
"""The question whose answer names the device's platform in every bundled questionnaire."""

_APPLE: Final = frozenset({"ios", "ipados", "watchos"})
_BRAND_PLATFORMS: Final[Mapping[str, frozenset[str]]] = {"apple": _APPLE, "samsung": frozenset({"samsung"})}
_PLATFORM_MISMATCH = N_(
    "“{given}” does not fit the {device} being quoted: answer “{question}” with “{expected}”."
)


def expected_platforms(model: DeviceModel, options: tuple[str, ...]) -> tuple[str, ...]:
    """The options of the platform question that fit ``model``, in the question's order.

    Apple devices answer with the Apple platform of their category (iOS, iPadOS, watchOS), Samsung devices
    with ``samsung``; any other brand with the options that are neither.
    """
    brand = _BRAND_PLATFORMS.get(model.brand.casefold())
    if brand is not None:
        return tuple(option for option in options if option in brand)
    others = _APPLE.union(*_BRAND_PLATFORMS.values())
    return tuple(option for option in options if option not in others)


def device_answer_problems(
    model: DeviceModel, answers: Mapping[str, object], questionnaire: Questionnaire, locale: str = "en"
) -> list[AnswerProblem]:
    """The answers that contradict the device being quoted (each with its JSON path), else an empty list.

    Args:
        model: the catalog model being quoted or inspected.
        answers: the answers given.
        questionnaire: the questionnaire they answer; one without a platform question has nothing to check.
        locale: the language of the option labels named in the message.

    Returns:
        A problem for the platform answer when it names another platform than the device's. A missing
        answer is left to the questionnaire, which reports it as required.
    """
    given = answers.get(PLATFORM_QUESTION)
    if not isinstance(given, str):
        return []
    try:
        question = questionnaire.question(PLATFORM_QUESTION)
    except KeyError:
        return []  # a questionnaire without a platform question has nothing to check
    expected = expected_platforms(model, question.option_ids)
    if not expected or given in expected:
        return []
    labels = {option.id: questionnaire.translate(option.label, locale) for option in question.options}
    return [
        AnswerProblem(
            path=f"$.{PLATFORM_QUESTION}",
            code="device_mismatch",
            message_id=_PLATFORM_MISMATCH,
            params={
                "device": f"{model.brand} {model.name}",
                "question": questionnaire.translate(question.text, locale),
                "expected": " / ".join(labels.get(option, option) for option in expected),
                "given": labels.get(given, given),
            },
        )
    ]
