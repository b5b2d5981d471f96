"""What differs between the SQL dialects the store runs on (SQLite, PostgreSQL)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct with ``ON CONFLICT DO NOTHING`` support for the dialect."""
    from sqlalchemy.dialects import postgresql, sqlite  # noqa: PLC0415 - sqlalchemy loads with the first statement

    return postgresql.insert if dialect == "postgresql" else sqlite.insert


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection idle longer than this is checked (``SELECT 1``) before it is used again."""


def ping_when_idle(engine: Engine, *, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Check a pooled connection before use only when it sat idle longer than ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip on every checkout (one per use case, under load too).
    A connection that was used a moment ago is as alive as a ping would show, so only one that sat idle, and
    may have been closed by the server, a proxy or a restart meanwhile, is pinged; a dead one is replaced
    before the use case runs (the pool's own recipe: raise ``DisconnectionError`` from ``checkout``).
    """
    from sqlalchemy import event, exc  # noqa: PLC0415 - sqlalchemy loads with the first statement

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:  # noqa: ANN401 - SQLAlchemy's pool types
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:  # noqa: ANN401
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError from error
        if not alive:
            raise exc.DisconnectionError
