"""What differs between the SQL dialects the store runs on (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct with ``ON CONFLICT DO NOTHING`` support for the dialect."""
    from sqlalchemy.dialects import postgresql, sqlite  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return postgresql.insert if dialect == "postgresql" else sqlite.insert
