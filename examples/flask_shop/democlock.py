"""The demo clock: the shop's time moved on by hand, to show in minutes what takes a year.

A buy-back guarantee sold today is exercised a year later. To show that in a sales demo (on a phone), the
shop's clock (``TRADEIN_CLOCK``, the system clock by default) is wrapped in a :class:`DemoClock`: its time
is the wrapped clock's plus an offset that the "Demo: one year later" control moves on and "back to today"
sets to zero. The library reads every "now" from it (quotes, deadlines, guarantee windows, the ledger), so
the whole shop lives a year later at once.

The offset is kept in the shop's settings table (:class:`~examples.flask_shop.records.ShopRecords`), so
every worker tells the same time; each reads it again at most every :data:`REFRESH_SECONDS`.

``TRADEIN_DEMO_CLOCK`` decides who sees the control: ``on`` (anyone: a demo installation, which is the
default when the shop seeds demo data), ``staff`` (signed-in staff only) or ``off`` (no demo clock: the
default otherwise, and what a real shop keeps).
"""

from __future__ import annotations

import calendar
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tradein_sdk import Clock

    from .records import ShopRecords

SETTING: Final = "demo_clock_offset_seconds"
"""The name of the offset in the shop's settings (whole seconds)."""
REFRESH_SECONDS: Final = 1.0
"""How long a worker trusts the offset it read last."""
MODES: Final = ("off", "staff", "on")
"""Who may see and move the demo clock."""


def demo_clock_mode(value: object, *, demo: bool) -> str:
    """The mode of a ``TRADEIN_DEMO_CLOCK`` setting (``None``: ``on`` in a demo installation, else ``off``).

    ``1``/``true``/``yes`` mean ``on``, ``0``/``false``/``no``/empty mean ``off``.

    Raises:
        ValueError: the setting is none of these.
    """
    if value is None:
        return "on" if demo else "off"
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return "on"
    if text in {"0", "false", "no", "off", ""}:
        return "off"
    if text == "staff":
        return "staff"
    raise ValueError(f"TRADEIN_DEMO_CLOCK is {value!r}: use on, staff or off")


def a_year_after(moment: datetime) -> datetime:
    """The same moment a calendar year later (29 February → 28 February)."""
    year = moment.year + 1
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def a_month_after(moment: datetime) -> datetime:
    """The same moment a calendar month later (31 January → 28/29 February)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class DemoClock:
    """A clock standing ``offset`` after another one; the offset is shared through the shop's settings."""

    def __init__(self, base: Clock, records: ShopRecords) -> None:
        """Tell ``base``'s time plus the offset kept in ``records``."""
        self.base = base
        self._records = records
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._read_at: float | None = None

    def now(self) -> datetime:
        """The wrapped clock's time plus the offset."""
        return self.base.now() + self.offset

    @property
    def offset(self) -> timedelta:
        """How far the demo moved the clock on (read again at most every :data:`REFRESH_SECONDS`)."""
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at > REFRESH_SECONDS:
                stored = self._records.setting(SETTING)
                self._offset = timedelta(seconds=int(stored)) if stored else timedelta(0)
                self._read_at = time.monotonic()
            return self._offset

    def refresh(self) -> None:
        """Read the offset again on the next call (another worker may have moved the clock)."""
        with self._lock:
            self._read_at = None

    @property
    def moved(self) -> bool:
        """Whether the demo moved the clock (else it tells the wrapped clock's time)."""
        return self.offset != timedelta(0)

    def move_to(self, moment: datetime) -> datetime:
        """Move the clock to ``moment`` (to the second; never before the wrapped clock's time)."""
        offset = max(moment - self.base.now(), timedelta(0))
        seconds = int(offset.total_seconds())
        self._records.set_setting(SETTING, str(seconds))
        with self._lock:
            self._offset = timedelta(seconds=seconds)
            self._read_at = time.monotonic()
        return self.now()

    def one_year_later(self) -> datetime:
        """Move the clock on by a calendar year."""
        return self.move_to(a_year_after(self.now()))

    def one_month_later(self) -> datetime:
        """Move the clock on by a calendar month."""
        return self.move_to(a_month_after(self.now()))

    def reset(self) -> datetime:
        """Back to the wrapped clock's time."""
        return self.move_to(self.base.now())
