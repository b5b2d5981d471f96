"""The parameters of an explanation (a promotion's, an offer text's): the kinds of value a text may carry.

Each kind has a tagged JSON form (:func:`~tradein_sdk._domain.converters.unstructure_param`) so a stored text
reads back as the same value, and a display form (:func:`~tradein_sdk._domain.promotions.format_param`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

import attrs

from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.money import Money


class Weekday(StrEnum):
    """A day of the week, Monday first (as :meth:`datetime.date.weekday` counts)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @classmethod
    def of(cls, day: date) -> Weekday:
        """Return the day of the week ``day`` falls on."""
        return tuple(cls)[day.weekday()]


@attrs.frozen
class Phrase:
    """A parameter that is itself a msgid, translated when the explanation is shown (a title, a label)."""

    message_id: str


Atom: TypeAlias = str | int | Decimal | Money | date | Phrase | Weekday | DeviceCategory
ExplanationParam: TypeAlias = Atom | tuple[Atom, ...]
"""A parameter of an explanation; :func:`format_param` says how each kind is shown."""
