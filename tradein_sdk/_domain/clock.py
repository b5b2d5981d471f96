"""Time, injected: every "now" the library uses comes from a :class:`Clock`.

Inside the library every datetime is timezone-aware UTC; it is localized only for display.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Where the current time comes from."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests and for replaying events.

    >>> clock = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    >>> clock.advance(days=14).isoformat()
    '2026-12-08T12:00:00+00:00'
    """

    def __init__(self, at: datetime) -> None:
        """Start the clock at ``at`` (which must be timezone-aware).

        Raises:
            ValueError: ``at`` has no timezone.
        """
        self._at = as_utc(at)

    def now(self) -> datetime:
        """Return the time the clock stands at."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (forwards or backwards)."""
        self._at = as_utc(at)

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        self._at += timedelta(**delta)
        return self._at


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC.

    Raises:
        ValueError: ``moment`` is naive (has no timezone), which would make it ambiguous.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone; pass an aware datetime")
    return moment.astimezone(UTC)
