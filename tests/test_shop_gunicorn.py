"""The shop as deployed: several gunicorn workers sharing one database (a SQLite file or PostgreSQL)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx

from examples.flask_shop import create_app
from examples.flask_shop.testing import gunicorn_serving, shop_state
from grading_questionnaire import example_answers
from tradein_sdk import SQLStore

if TYPE_CHECKING:
    from pathlib import Path

WORKERS = 3
CLIENTS = 6
QUOTES_EACH = 5
BODY = {"device_id": "apple-iphone-13-128gb", "answers": example_answers("smartphone", "worn").answers}


def seeded_order_count(tmp_path: Path) -> int:
    """How many demo orders one shop seeds into an empty database."""
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path / "single")})
    try:
        return len(shop_state(app).trade_in.store.list_orders(limit=1000))
    finally:
        shop_state(app).close()


def quote_as_new_shopper(port: int) -> list[str]:
    """A shopper with their own session asks for several instant quotes; returns the quote ids."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        page = client.get("/", params={"lang": "en_GB"}).text
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert found is not None
        ids = []
        for _ in range(QUOTES_EACH):
            response = client.post("/api/quotes", json=BODY, headers={"X-CSRF-Token": found.group(1)})
            assert response.status_code == 200, response.text
            ids.append(response.json()["quote_id"])
        return ids


def test_several_workers_share_one_database(tmp_path: Path, database_url: str | None) -> None:
    """Workers started together migrate and seed once, share keys and sessions, and store every quote."""
    expected_orders = seeded_order_count(tmp_path)
    assert expected_orders > 0
    shared = tmp_path / "shared"
    env = {"TRADEIN_DATA_DIR": str(shared)}
    if database_url is not None:
        env["TRADEIN_DATABASE_URL"] = database_url
    with gunicorn_serving("examples.flask_shop:create_app()", workers=WORKERS, env=env) as port:
        with ThreadPoolExecutor(CLIENTS) as pool:
            batches = list(pool.map(quote_as_new_shopper, [port] * CLIENTS))
        # A session opened by one worker is honoured by the others: the CSRF token of the first page
        # was accepted on every POST above, whichever worker took it.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/trade-in/", params={"q": "iphone 13"}).status_code == 200

    quote_ids = [quote_id for batch in batches for quote_id in batch]
    assert len(set(quote_ids)) == CLIENTS * QUOTES_EACH
    store = (
        SQLStore(database_url)
        if database_url is not None
        else SQLStore.sqlite_file(shared / "tradein.sqlite3")
    )
    try:
        assert len(store.list_orders(limit=1000)) == expected_orders  # seeded by one worker only
        for quote_id in quote_ids:
            record, redemption = store.get_quote(quote_id)
            assert (record.quote_id, record.audience, redemption) == (quote_id, "flask-shop", None)
    finally:
        store.close()
