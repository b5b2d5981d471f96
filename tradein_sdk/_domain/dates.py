"""Dates as a shopper reads them: Babel's CLDR forms, with the French ordinal first day (« 1er »)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Literal

from tradein_sdk._errors import canonical_locale

if TYPE_CHECKING:
    from datetime import date

_LEADING_ONE: Final = re.compile(r"^1(?!\d)")


def long_date(day: date, locale: str, *, width: Literal["long", "medium"] = "long") -> str:
    """``day`` in Babel's ``long`` (or ``medium``) form for ``locale``; French writes day 1 as « 1er ».

    CLDR writes ``1 février 2027``, French typography ``1er février 2027``: only the day number the text
    starts with is changed (``d MMMM y``), never a year or a later number.

    Args:
        day: the date.
        locale: a locale identifier (``fr``, ``fr_FR``, ``de-DE``, ...).
        width: Babel's date format name.

    Returns:
        The date as text (``February 1, 2027``, ``1. Februar 2027``, ``1er février 2027``).
    """
    from babel.dates import format_date  # noqa: PLC0415 - Babel's date data loads with the first date shown

    locale = canonical_locale(locale)
    text = str(format_date(day, width, locale=locale))
    if day.day == 1 and locale.split("_", 1)[0] == "fr":
        text = _LEADING_ONE.sub("1er", text, count=1)
    return text
