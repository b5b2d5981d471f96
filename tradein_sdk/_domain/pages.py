"""Pages of orders: a stable cursor over ``(created_at, id)``, newest first.

A cursor is opaque to callers: the base64url text of the last order's creation time and id, which the next
page starts after. Orders added meanwhile never shift a page (they are newer than every cursor).

>>> from datetime import UTC, datetime
>>> cursor = make_cursor(datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "ord_1")
>>> read_cursor(cursor)
(datetime.datetime(2026, 12, 3, 9, 30, tzinfo=datetime.timezone.utc), 'ord_1')
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Final

import attrs

from tradein_sdk._domain.orders.model import TradeInOrder
from tradein_sdk._errors import InvalidCursorError

MAX_PAGE: Final = 1000
"""The most orders one page holds."""
_SEPARATOR: Final = "|"
_LONGEST: Final = 400


@attrs.frozen(kw_only=True)
class OrderPage:
    """One page of orders, newest first.

    Attributes:
        orders: the orders of this page.
        next_cursor: pass it as ``cursor`` for the next page; ``None`` on the last page.
    """

    orders: tuple[TradeInOrder, ...]
    next_cursor: str | None


def make_cursor(created_at: datetime, order_id: str) -> str:
    """The cursor after the order created at ``created_at`` with id ``order_id``."""
    text = f"{created_at.astimezone(UTC).isoformat()}{_SEPARATOR}{order_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, str]:
    """The ``(created_at, id)`` a cursor names.

    Raises:
        InvalidCursorError: the text is not a cursor made by :func:`make_cursor`.
    """
    if not isinstance(cursor, str) or not cursor.isascii() or len(cursor) > _LONGEST:
        raise InvalidCursorError
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, separator, order_id = text.partition(_SEPARATOR)
        created_at = datetime.fromisoformat(moment)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError from exc
    if not separator or not order_id or created_at.tzinfo is None:
        raise InvalidCursorError
    return created_at, order_id
