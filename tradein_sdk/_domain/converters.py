"""The private cattrs converter for JSON documents: explicit hooks for Decimal, Money, dates and enums."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import orjson

from grading_questionnaire._schemas import content_hash
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.params import ExplanationParam, Phrase, Weekday
from tradein_sdk._domain.payouts import BankTransfer, PayoutDetails, PayoutMethod, PurchaseCredit, Voucher
from tradein_sdk._errors import DocumentInvalidError, TradeInError

if TYPE_CHECKING:
    from collections.abc import Callable

    import cattrs

    from tradein_sdk._errors import DocumentProblem


T = TypeVar("T")


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 date-time string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("date-time must carry a UTC offset")
    return parsed.astimezone(UTC)


def _structure_bytes(value: object, _: object) -> bytes:
    """Bytes travel in JSON as standard base64 text."""
    if not isinstance(value, str):
        raise TypeError("expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


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


def document_text(data: object) -> str:
    """Serialise a JSON document the way the store keeps it: keys sorted, no spaces, UTF-8 text.

    One serialisation for every stored document (orjson: a tenth of the standard library's time for a
    quote); ``json.loads`` reads it back.

    Raises:
        TypeError: ``data`` holds a value JSON has no form for (a ``Decimal``, a ``datetime``: convert
            them first, as the ``to_json`` methods do).
    """
    return orjson.dumps(data, default=_json_default, option=orjson.OPT_SORT_KEYS).decode()


def _json_default(value: object) -> object:
    """What orjson does not know itself: mappings that are not dicts (read-only views of documents)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


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
    converter.register_structure_hook(bytes, _structure_bytes)
    converter.register_unstructure_hook(bytes, lambda value: base64.b64encode(value).decode("ascii"))
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, lambda value: value.astimezone(UTC).isoformat())
    _register_documents(converter)
    converter.register_structure_hook_func(_is_param, structure_param)
    converter.register_unstructure_hook_func(_is_param, unstructure_param)
    return converter


def _register_documents(converter: cattrs.Converter) -> None:
    """Types with a JSON form of their own, and payout details tagged by their ``method``."""
    from grading_questionnaire import (  # noqa: PLC0415 - the evaluator and renderer load with the first converter
        ConditionReport,
        RenderedQuestionnaire,
    )

    converter.register_structure_hook(ConditionReport, lambda value, _: ConditionReport.from_json(value))
    converter.register_unstructure_hook(ConditionReport, ConditionReport.to_json)
    converter.register_structure_hook(
        RenderedQuestionnaire, lambda value, _: RenderedQuestionnaire.from_json(value)
    )
    converter.register_unstructure_hook(RenderedQuestionnaire, RenderedQuestionnaire.to_json)

    kinds: dict[str, type[PayoutDetails]] = {
        PayoutMethod.BANK_TRANSFER.value: BankTransfer,
        PayoutMethod.VOUCHER.value: Voucher,
        PayoutMethod.PURCHASE_CREDIT.value: PurchaseCredit,
    }
    fields = {kind: {field.name for field in attrs.fields(kind)} for kind in kinds.values()}

    def structure_payout(value: object, _: type) -> PayoutDetails:
        if not isinstance(value, dict):
            raise TypeError("expected a JSON object with a method")
        method = value.get("method")
        kind = kinds.get(method) if isinstance(method, str) else None
        if kind is None:
            raise ValueError(f"method must be one of {', '.join(kinds)}, not {method!r}")
        rest = {name: item for name, item in value.items() if name != "method"}
        extra = sorted(set(rest) - fields[kind])
        if extra:
            raise ValueError(f"unexpected field(s) for {method}: {', '.join(extra)}")
        return kind(**rest)

    def structure_optional_payout(value: object, _: type) -> PayoutDetails | None:
        return None if value is None else structure_payout(value, _)

    def unstructure_payout(value: PayoutDetails) -> dict[str, object]:
        return {"method": value.method.value, **attrs.asdict(value)}

    payout_union = PayoutDetails
    converter.register_structure_hook_func(lambda kind: kind == payout_union, structure_payout)
    optional_union = payout_union | None
    converter.register_structure_hook_func(lambda kind: kind == optional_union, structure_optional_payout)
    for kind in kinds.values():
        converter.register_unstructure_hook(kind, unstructure_payout)


TextParam = Money | Decimal | str
"""A parameter of an offer's text: an amount, a percentage or plain text."""


def _is_param(kind: object) -> bool:
    """Whether ``kind`` is a union of text parameters (offer texts, promotion explanations)."""
    return kind in (TextParam, ExplanationParam)


def unstructure_param(value: object) -> object:  # noqa: PLR0911 - one return per kind of parameter
    """A text parameter as JSON that tells its kind, so it reads back as the same value.

    Text and whole numbers stay as they are; an amount is ``{"amount", "currency"}``; a percentage
    (``Decimal``) ``{"percent": "19"}``; a date ``{"date": "2026-12-01"}``; a msgid to translate
    ``{"phrase": ...}``; a weekday ``{"weekday": "monday"}``; a device category ``{"category": ...}``; a
    tuple a list of these.
    """
    if isinstance(value, tuple | list):
        return [unstructure_param(item) for item in value]
    if isinstance(value, Money):
        return value.to_json()
    if isinstance(value, Decimal):
        return {"percent": format(value, "f")}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Phrase):
        return {"phrase": value.message_id}
    if isinstance(value, Weekday):
        return {"weekday": value.value}
    if isinstance(value, DeviceCategory):
        return {"category": value.value}
    return value


def structure_param(value: object, _: object = None) -> Any:  # noqa: ANN401 - a TextParam or ExplanationParam
    """Read what :func:`unstructure_param` wrote.

    Raises:
        TypeError: the value is none of the kinds.
        ValueError: a tagged value is malformed (an unknown weekday, an invalid date).
    """
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, list):
        return tuple(structure_param(item) for item in value)
    if isinstance(value, dict) and len(value) == 1:
        ((tag, content),) = value.items()
        readers: dict[str, Callable[[Any], object]] = {
            "percent": lambda text: _structure_decimal(text, Decimal),
            "date": lambda text: _structure_date(text, date),
            "phrase": lambda text: Phrase(_text(text)),
            "weekday": lambda text: Weekday(_text(text)),
            "category": lambda text: DeviceCategory(_text(text)),
        }
        if tag in readers:
            return readers[tag](content)
    if isinstance(value, dict):
        return Money.from_json(value)
    raise TypeError(
        "expected text, a whole number, an amount, a list, or {percent|date|phrase|weekday|category}"
    )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def structure_document(document: Mapping[str, Any], model: type[T]) -> T:
    """Build ``model`` from a validated document of the library (its ``$schema`` member left out)."""
    fields = {key: value for key, value in document.items() if key != "$schema"}
    return json_converter().structure(fields, model)


def build_document(
    document: object,
    model: type[T],
    *,
    kind: str,
    origin: str,
    problems: Callable[[object], list[DocumentProblem]],
) -> T:
    """Validate a document with ``problems``, build ``model`` and stamp its content hash and document.

    Raises:
        DocumentInvalidError: ``problems`` found some (each with its JSON path).
    """
    found = problems(document)
    if found or not isinstance(document, dict):
        raise DocumentInvalidError(kind=kind, source=origin, problems=found)
    built = structure_document(document, model)
    return attrs.evolve(built, content_hash=content_hash(document), document=document)  # type: ignore[misc]


def structuring_problems(exc: Exception, root: str = "$") -> list[tuple[str, str]]:
    """Turn a cattrs structuring failure into ``(json_path, message)`` pairs.

    Args:
        exc: what :meth:`cattrs.Converter.structure` raised.
        root: the JSON path of the structured value within its document.

    Returns:
        One pair per leaf failure, the path written like ``$.models[3].release_date``.
    """
    from cattrs import transform_error  # noqa: PLC0415 - cattrs loads with the first document
    from cattrs.v import format_exception  # noqa: PLC0415 - cattrs loads with the first document

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
