"""The values an answer may take, and the range of a number question: what every other module builds on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

AnswerValue = bool | str | tuple[str, ...] | int | float
"""A valid answer: yes/no, an option id, the option ids selected (in the question's order), a number."""


@attrs.frozen(kw_only=True)
class NumberRange:
    """The accepted numbers of a number question.

    Attributes:
        minimum: the smallest accepted value (inclusive).
        maximum: the largest accepted value (inclusive).
        integer: whether only whole numbers are accepted.
        unit: what the number counts (``percent``, ``cycles``), or ``None``.
    """

    minimum: float
    maximum: float
    integer: bool = False
    unit: str | None = None

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> NumberRange:
        """Read ``{"minimum", "maximum", "integer"?, "unit"?}`` (a definition's or a rendering's)."""
        return cls(
            minimum=document["minimum"],
            maximum=document["maximum"],
            integer=document.get("integer", False),
            unit=document.get("unit"),
        )
