"""PostgreSQL connections: no ping per use case, yet a connection the server closed while idle is replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import FixedClock, KeyRing, SQLStore, StoreError, TradeIn
from tradein_sdk._adapters.sql.dialects import ping_when_idle
from tradein_sdk._adapters.sql.store import engine_url

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEVICE = "apple-iphone-13-128gb"


@pytest.fixture
def trade_in(postgres_url: str) -> Iterator[TradeIn]:
    """A facade on PostgreSQL with one pooled connection, and its pings counted in ``pings``."""
    facade = TradeIn(
        store=SQLStore(postgres_url, pool_size=1),
        key_ring=KeyRing.generate(key_id="k1"),
        audience="shop",
        clock=FixedClock(NOW),
    )
    yield facade
    facade.close()


def count_pings(store: SQLStore) -> list[int]:
    """Count the dialect's pings from now on."""
    pings: list[int] = []
    ping = store._engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:  # noqa: ANN401 - a DBAPI connection
        pings.append(1)
        return ping(dbapi_connection)

    store._engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def kill_pooled_connection(store: SQLStore, postgres_url: str) -> None:
    """Terminate the server process behind the pool's connection, as a restart or an idle timeout would."""
    with store._engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    admin = sa.create_engine(engine_url(postgres_url))
    with admin.begin() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_use_cases_in_a_row_send_no_ping(trade_in: TradeIn) -> None:
    """Twenty quotes and redemptions in a row: not one ping (the connection was just used)."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    pings = count_pings(store)
    answers = example_answers("smartphone", "worn").answers
    for _ in range(10):
        issued = trade_in.quote(DEVICE, answers)
        store.redeem_quote(issued.quote.id, now=NOW)
    assert pings == []


def test_a_connection_closed_while_idle_is_replaced_before_use(trade_in: TradeIn, postgres_url: str) -> None:
    """Idle past the threshold, the connection is pinged; found closed, a new one serves the call."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    answers = example_answers("smartphone", "worn").answers
    trade_in.quote(DEVICE, answers)
    ping_when_idle(store._engine, idle_seconds=0)  # every checkout counts as after an idle spell
    pings = count_pings(store)
    kill_pooled_connection(store, postgres_url)
    issued = trade_in.quote(DEVICE, answers)  # no error: the dead connection was found and replaced
    assert pings
    assert store.get_quote(issued.quote.id)[0].amount == issued.quote.amount


def test_without_the_idle_check_one_call_fails_cleanly_and_the_next_works(
    trade_in: TradeIn, postgres_url: str
) -> None:
    """A connection killed just after use fails that call as StoreError (nothing written); then it heals."""
    store = trade_in.store
    assert isinstance(store, SQLStore)
    answers = example_answers("smartphone", "worn").answers
    trade_in.quote(DEVICE, answers)
    kill_pooled_connection(store, postgres_url)
    with pytest.raises(StoreError):
        trade_in.quote(DEVICE, answers)
    issued = trade_in.quote(DEVICE, answers)
    assert store.get_quote(issued.quote.id)[0].quote_id == issued.quote.id
