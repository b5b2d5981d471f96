"""The private cattrs converter for JSON documents: explicit hooks for Decimal, Money, dates and enums."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from tradein_sdk._errors import TradeInError
from tradein_sdk._money import Money

if TYPE_CHECKING:
    import cattrs


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 date-time string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("date-time must carry a UTC offset")
    return parsed.astimezone(UTC)


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 date string")
    return date.fromisoformat(value)


def _structure_decimal(value: object, _: type) -> Decimal:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise TypeError("expected a decimal string")
    return Decimal(value)


def _structure_money(value: object, _: type) -> Money:
    return Money.from_json(value)


@cache
def json_converter() -> cattrs.Converter:
    """Return the converter for the library's own JSON forms: every field written, even when empty."""
    return _converter(omit_defaults=False)


@cache
def document_converter() -> cattrs.Converter:
    """Return the converter for documents a shop writes (catalogs): fields at their default are left out."""
    return _converter(omit_defaults=True)


def _converter(*, omit_defaults: bool) -> cattrs.Converter:
    import cattrs  # noqa: PLC0415 - cattrs loads with the first document

    converter = cattrs.Converter(forbid_extra_keys=True, omit_if_default=omit_defaults)
    converter.register_structure_hook(Money, _structure_money)
    converter.register_unstructure_hook(Money, Money.to_json)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, lambda value: format(value, "f"))
    converter.register_structure_hook(date, _structure_date)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, lambda value: value.astimezone(UTC).isoformat())
    return converter


def structuring_problems(exc: Exception, root: str = "$") -> list[tuple[str, str]]:
    """Turn a cattrs structuring failure into ``(json_path, message)`` pairs.

    Args:
        exc: what :meth:`cattrs.Converter.structure` raised.
        root: the JSON path of the structured value within its document.

    Returns:
        One pair per leaf failure, the path written like ``$.models[3].release_date``.
    """
    from cattrs import transform_error  # noqa: PLC0415
    from cattrs.v import format_exception  # noqa: PLC0415

    def describe(error: BaseException, type_: type | None) -> str:
        if isinstance(error, TradeInError):
            return str(error.__cause__ or error)
        if type(error) in {ValueError, TypeError} and str(error):
            return f"{format_exception(error, type_)}: {error}"
        return format_exception(error, type_)

    pairs = []
    for line in transform_error(exc, path=root, format_exception=describe):
        message, _, path = line.rpartition(" @ ")
        pairs.append((path or root, message or line))
    return pairs
