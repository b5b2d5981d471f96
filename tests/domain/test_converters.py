from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from cattrs.errors import ClassValidationError

from tradein_sdk import Money
from tradein_sdk._domain.converters import json_converter, structuring_problems


@attrs.frozen(kw_only=True)
class Sample:
    """A document with every value type the converter has a hook for."""

    price: Money
    rate: Decimal
    day: date
    at: datetime


def test_round_trip_through_json_forms() -> None:
    """Money, Decimal, date and datetime survive unstructure → structure; datetimes come back in UTC."""
    berlin = timezone(timedelta(hours=1))
    sample = Sample(
        price=Money("9.99", "EUR"),
        rate=Decimal("0.19"),
        day=date(2026, 11, 24),
        at=datetime(2026, 11, 24, 13, 0, tzinfo=berlin),
    )
    data = json_converter().unstructure(sample)
    assert data == {
        "price": {"amount": "9.99", "currency": "EUR"},
        "rate": "0.19",
        "day": "2026-11-24",
        "at": "2026-11-24T12:00:00+00:00",
    }
    back = json_converter().structure(data, Sample)
    assert back == sample
    assert back.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("at", "2026-11-24T12:00:00", "UTC offset"),
        ("at", 1700000000, "ISO 8601 date-time"),
        ("day", 20261124, "ISO 8601 date"),
        ("rate", 0.19, "decimal string"),
        ("price", {"amount": "1", "currency": "XYZ"}, "unknown currency"),
    ],
    ids=["naive-datetime", "epoch-number", "date-number", "float-rate", "unknown-currency"],
)
def test_bad_values_become_located_problems(field: str, value: object, fragment: str) -> None:
    """Each bad value is reported at its JSON path with a readable reason."""
    data: dict[str, object] = {
        "price": {"amount": "1", "currency": "EUR"},
        "rate": "1",
        "day": "2026-01-01",
        "at": "2026-01-01T00:00:00+00:00",
    }
    data[field] = value
    with pytest.raises(ClassValidationError) as caught:
        json_converter().structure(data, Sample)
    ((path, message),) = structuring_problems(caught.value, "$.sample")
    assert path == f"$.sample.{field}"
    assert fragment in message


def test_unknown_keys_are_refused() -> None:
    """A key the model does not have is an error, not silently dropped."""
    data = {
        "price": {"amount": "1", "currency": "EUR"},
        "rate": "1",
        "day": "2026-01-01",
        "at": "2026-01-01T00:00:00+00:00",
        "extra": 1,
    }
    with pytest.raises(ClassValidationError) as caught:
        json_converter().structure(data, Sample)
    assert "extra" in " ".join(message for _, message in structuring_problems(caught.value))
