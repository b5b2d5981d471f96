"""Shop benchmark: requests per second of the instant-quote view against a bare Flask JSON view.

Run: ``.venv/bin/python benchmarks/bench_shop.py [--requests N] [--workers 2] [--clients 4]``. Both apps run
under gunicorn (sync workers) on 127.0.0.1 in the same run, one after the other, each driven by the same
httpx clients with the same JSON body. The shop's view does everything a real request does: session and
CSRF check, grading, valuation, storing the quote (SQLite file, WAL) and signing its token. The bare view
parses the body and returns a fixed JSON document. The overhead is ``1 - shop / bare`` in requests per second.
Loopback only; every server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, jsonify, request

from examples.flask_shop.testing import gunicorn_serving
from grading_questionnaire import example_answers

BENCHMARKS = Path(__file__).resolve().parent
BODY = {"device_id": "apple-iphone-13-128gb", "answers": example_answers("smartphone", "worn").answers}
WARMUP = 50


def bare_app() -> Flask:
    """The baseline: a Flask JSON view that reads the body and answers at once."""
    app = Flask(__name__)

    @app.post("/api/quotes")
    def quote() -> Any:  # noqa: ANN401 - a Flask response value
        body = request.get_json()
        return jsonify({"device_id": body["device_id"], "amount": {"amount": "0.00", "currency": "EUR"}})

    return app


def client_for(port: int, *, csrf: bool) -> httpx.Client:
    """An HTTP client with its own session (and the CSRF token the shop gave it)."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    if csrf:
        page = client.get("/").text
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if found is None:
            raise SystemExit("the shop's start page carries no CSRF token")
        client.headers["X-CSRF-Token"] = found.group(1)
    return client


def measure(port: int, *, requests: int, clients: int, csrf: bool) -> float:
    """Requests per second of ``requests`` POSTs from ``clients`` parallel clients."""
    sessions = [client_for(port, csrf=csrf) for _ in range(clients)]

    def run(client: httpx.Client, count: int) -> None:
        for _ in range(count):
            response = client.post("/api/quotes", json=BODY)
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")

    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(run, sessions, [WARMUP // clients] * clients))
            start_time = time.perf_counter()
            list(pool.map(run, sessions, [requests // clients] * clients))
            elapsed = time.perf_counter() - start_time
    finally:
        for client in sessions:
            client.close()
    return (requests // clients) * clients / elapsed


def main() -> None:
    """Measure both apps and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--database-url", help="serve the shop on this PostgreSQL database (default: SQLite file)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        shop_env = {"TRADEIN_DATA_DIR": data_dir, "TRADEIN_SEED_DEMO": "0"}
        if options.database_url:
            shop_env["TRADEIN_DATABASE_URL"] = options.database_url
        figures = {}
        for name, target, env, csrf in (
            ("bare Flask JSON view", "bench_shop:bare_app()", {}, False),
            ("shop instant quote", "examples.flask_shop:create_app()", shop_env, True),
        ):
            with gunicorn_serving(target, workers=options.workers, env=env, pythonpath=(BENCHMARKS,)) as port:
                figures[name] = measure(port, requests=options.requests, clients=options.clients, csrf=csrf)
            print(f"{name:24} {figures[name]:8.0f} req/s")
    bare, shop = figures["bare Flask JSON view"], figures["shop instant quote"]
    database = "PostgreSQL" if options.database_url else "SQLite"
    print(
        f"gunicorn, {options.workers} workers on {database}, {options.clients} clients, "
        f"{options.requests} requests: the shop serves {shop / bare:.1%} of the bare rate "
        f"(overhead {1 - shop / bare:.1%}; target < 15 %)"
    )


if __name__ == "__main__":
    main()
