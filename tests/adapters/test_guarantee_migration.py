"""Migration 18 on a database that already holds guarantee contracts: nothing sold before it is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tradein_sdk._adapters.sql.guarantees import define_guarantees
from tradein_sdk._adapters.sql.store import MIGRATIONS, SQLStore

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_contracts_kept_at_version_17_read_and_lapse_after_the_upgrade(tmp_path: Path) -> None:
    """A contract stored by version 17 reads back whole, unclaimed and open after the upgrade."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = SQLStore(url, migrate=False)
    with old._engine.begin() as conn:
        old._t["schema_migrations"].create(conn)
        for version, description, step in MIGRATIONS:
            if version > 17:
                break
            step(conn)
            conn.execute(
                sa.insert(old._t["schema_migrations"]).values(
                    version=version, description=description, applied_at=NOW
                )
            )
        conn.execute(
            sa.insert(define_guarantees(sa.MetaData())).values(
                id="gtc_old",
                plan_id="buyback-24",
                sold_at=NOW,
                purchased_on=date(2026, 12, 4),
                exercisable_from=date(2027, 12, 4),
                expires_on=date(2029, 1, 3),
                currency="EUR",
                price=Decimal("899.00"),
                kind="buyback",
                schedule='[["2026-12-04","2028-01-04","449.50"]]',
                document="{}",
                customer_ref="cmp_acme",
            )
        )
    old.close()
    store = SQLStore(url)
    try:
        assert store.schema_version() == MIGRATIONS[-1][0]
        record = store.get_guarantee("gtc_old")
        assert (record.price, record.customer_ref, record.order_id, record.closed_at) == (
            Decimal("899.00"),
            "cmp_acme",
            None,
            None,
        )
        assert [r.contract_id for r in store.guarantees_of("cmp_acme")] == ["gtc_old"]
        assert store.lapsed_guarantees(on=date(2029, 1, 4)) == []  # sold without a checkout: no ledger entry
    finally:
        store.close()
