"""Shop benchmark: the shop's instant-quote view under gunicorn against a bare Flask view doing its insert.

Run: ``.venv/bin/python benchmarks/bench_shop.py [--seconds 10] [--rounds 3] [--connections 8] [--workers 2]
[--threads 1] [--database-url postgresql://postgres@127.0.0.1:5432/test]`` (``--help`` lists the rest). The
load comes from ``wrk`` (the Debian package: ``apt-get install wrk``); without it on PATH the benchmark exits
at once saying so. Without ``--database-url`` both apps keep SQLite files in a fresh temporary directory; with
it, each its own scratch schema (``bench_shop_<tag>_shop``, ``..._bare``) of that database, dropped at the end
(nothing is created in the database's own schemas). The default run takes about 75 s. Every server is stopped
at the end, whatever happens. The exit status is 1 when a run had errors (listed again at the end); nothing
asserts on timing.

**Subject:** ``POST /api/quotes`` of the reference shop (``examples.flask_shop:create_app()``, demo seeding
off) doing everything a real request does: session and CSRF check, grading, valuation, storing the quote (its
row, its audit entry) and signing its token, which it keeps in the session cookie. **Baseline:**
:func:`bare_app`, a bare Flask view that parses the same JSON body and inserts the same row, in one
transaction of an engine set up as the library's store sets up its own, into the library's own
``tradein_quotes`` table (a database of the same kind, migrated by ``SQLStore``): a copy of the row the shop
stored for its first quote (same document, amount, audience, tenant), with a fresh id and times; it answers a
copy of the shop's first JSON answer. Everything else the shop does (the audit entry written in the same
transaction, the session, grading, pricing, signing) is what the ratio measures. Both run at once under the
same gunicorn command (``python -m gunicorn --workers 2 --threads 1``; ``--threads`` above 1 makes gthread
workers), each ready when ``GET /`` answers 200.

The load: wrk (``-t2 -c<--connections> -d<--seconds>s --latency``, see :mod:`benchmarks._wrk`) posting
``{"device_id": "apple-iphone-13-128gb", "answers": <the bundled "worn" smartphone answers>}`` with the
session cookie and ``X-CSRF-Token`` header of a session opened on the shop's start page; the same Lua script
contents for both apps (the bare view ignores the session). One ``--warmup`` run on each (not in the
figures), then ``--rounds`` runs of ``--seconds`` on each, alternating (baseline, shop, baseline, ...) so both
see the same machine. Shown: 2xx answers, requests/s, p50 and p99 latency (medians over the rounds; wrk's
latency, queueing on the server included), non-2xx answers and socket errors (every run with either is
listed, and one more request shows what the server answers), the requests/s of each round, the ratio
shop/baseline (of the medians, and per round), the overhead ``1 - shop / baseline`` against the issue's target
(within 25 % on SQLite, 15 % on PostgreSQL), and the rows each app stored against the 2xx answers wrk counted
(warm-ups included; up to one request per connection may still be in flight when a run ends).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import signal
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa
from flask import Flask, jsonify, request

from benchmarks._wrk import (
    Children,
    Load,
    Request,
    Target,
    alternate,
    environment,
    free_port,
    gunicorn_command,
    library_engine,
    print_targets,
    require_wrk,
    rows_line,
    scalar,
    scratch_schemas,
    wait_ready,
)
from grading_questionnaire import example_answers
from tradein_sdk import SQLStore, StoreError
from tradein_sdk._adapters.sql.store import tables

if TYPE_CHECKING:
    from collections.abc import Callable

BODY = json.dumps(
    {"device_id": "apple-iphone-13-128gb", "answers": example_answers("smartphone", "worn").answers}
)
QUOTE_PATH = "/api/quotes"
BASELINE_URL_ENV = "BENCH_SHOP_BASELINE_URL"
SAMPLE_ENV = "BENCH_SHOP_SAMPLE"
TARGETS = {"SQLite": 0.25, "PostgreSQL": 0.15}
"""The issue's targets: the shop's overhead against the bare view at most this, by database."""
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


# -- the baseline application ----------------------------------------------------------------------------


@functools.cache
def _engine() -> sa.Engine:
    """The bare view's engine in this worker, set up as the library's store sets up its own."""
    return library_engine(os.environ[BASELINE_URL_ENV])


@functools.cache
def _sample() -> dict[str, Any]:
    """The shop's first quote (``row``: its stored columns, datetimes as ISO text; ``answer``: its JSON)."""
    sample: dict[str, Any] = json.loads(Path(os.environ[SAMPLE_ENV]).read_text())
    return sample


def _row(quote_id: str, now: datetime) -> dict[str, Any]:
    """The sample row with a fresh id, its times moved to ``now`` (the expiry as far after it as before)."""
    sample = _sample()
    issued = datetime.fromisoformat(sample["row"]["issued_at"])
    row = dict(sample["row"])
    for name in sample["datetimes"]:
        if row[name] is not None:
            row[name] = now + (datetime.fromisoformat(row[name]) - issued)
    row["id"] = quote_id
    return row


def bare_app() -> Flask:
    """The baseline: a Flask view that parses the body, inserts the shop's row again and answers its JSON.

    ``GET /`` answers 200 (the readiness probe).
    """
    app = Flask(__name__)
    insert = sa.insert(tables()["quotes"])  # one compiled statement, parameters bound per call, as the store

    @app.get("/")
    def ready() -> Any:  # noqa: ANN401 - a Flask response value
        return jsonify({"status": "ready"})

    @app.post(QUOTE_PATH)
    def quote() -> Any:  # noqa: ANN401 - a Flask response value
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("device_id"), str):
            return jsonify({"error": "bad_request"}), 400
        quote_id = f"q_{uuid.uuid4().hex}"
        with _engine().begin() as conn:
            conn.execute(insert, _row(quote_id, datetime.now(UTC).replace(microsecond=0)))
        return jsonify({**_sample()["answer"], "quote_id": quote_id})

    return app


# -- the run ---------------------------------------------------------------------------------------------


def open_session(base_url: str, folder: Path, shop_url: str) -> tuple[dict[str, str], str]:
    """Open a shop session, get one quote, write the sample the bare view copies; the headers to send.

    Returns:
        The request headers (JSON, the session cookie, its CSRF token) and the first quote's id.
    """
    with httpx.Client(base_url=base_url, timeout=30) as client:
        found = CSRF.search(client.get("/").text)
        if found is None:
            raise SystemExit("the shop's start page carries no CSRF token")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        headers = {"Content-Type": "application/json", "X-CSRF-Token": found.group(1), "Cookie": cookie}
        response = client.post(QUOTE_PATH, content=BODY, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"the shop refused the first quote: {response.status_code} {response.text[:300]}")
    answer = response.json()
    quotes = tables()["quotes"]
    engine = library_engine(shop_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(quotes).where(quotes.c.id == answer["quote_id"])).mappings().one()
    finally:
        engine.dispose()
    row = {
        name: value.isoformat() if isinstance(value, datetime) else value for name, value in stored.items()
    }
    datetimes = [name for name, value in stored.items() if isinstance(value, datetime)]
    sample = {"row": row, "datetimes": datetimes, "answer": answer}
    (folder / "sample.json").write_text(json.dumps(sample))
    return headers, str(answer["quote_id"])


def start(
    children: Children, target: str, env: dict[str, str], log: Path, args: argparse.Namespace
) -> Callable[[], str]:
    """Start gunicorn serving ``target``; what waits until it answers ``GET /`` and returns its base URL."""
    port = free_port()
    command = gunicorn_command(target, port=port, workers=args.workers, threads=args.threads)
    process = children.start(command, env=env, log=log)
    return lambda: wait_ready(process, f"http://127.0.0.1:{port}", log, path="/")


def measure(
    label: str, shop_url: str, baseline_url: str, folder: Path, args: argparse.Namespace
) -> list[str]:
    """Both apps up, one shop session, then the alternating rounds; print the table; the errors."""
    load = Load(connections=args.connections, seconds=args.seconds, threads=args.wrk_threads)
    SQLStore(baseline_url).close()  # the library's tables, migrations applied
    shop_env = environment(TRADEIN_DATA_DIR=str(folder / "shop"), TRADEIN_SEED_DEMO="0")
    if label == "PostgreSQL":
        shop_env["TRADEIN_DATABASE_URL"] = shop_url
    bare_env = environment(**{BASELINE_URL_ENV: baseline_url, SAMPLE_ENV: str(folder / "sample.json")})
    with Children() as children:
        ready = (
            start(children, "benchmarks.bench_shop:bare_app()", bare_env, folder / "bare.log", args),
            start(children, "examples.flask_shop:create_app()", shop_env, folder / "shop.log", args),
        )
        bare_base, shop_base = (wait() for wait in ready)
        headers, _ = open_session(shop_base, folder, shop_url)
        posting = Request("POST", headers, BODY, (QUOTE_PATH,))
        targets = [
            Target.of("bare Flask view + insert (baseline)", bare_base, posting, folder, "bare"),
            Target.of("shop instant quote (shop)", shop_base, posting, folder, "shop"),
        ]
        alternate(targets, load, rounds=args.rounds, warmup=args.warmup)
    print(
        f"POST {QUOTE_PATH} ({label}): gunicorn --workers {args.workers} --threads {args.threads}; "
        f"{load.describe()}; {args.rounds} alternating rounds per app after a {args.warmup} s warm-up each; "
        "medians of the rounds"
    )
    problems = print_targets(f"  body {len(BODY):,} bytes, session cookie and CSRF header", *targets)
    baseline, shop = targets
    if baseline.rate:
        share, limit = shop.rate / baseline.rate, TARGETS[label]
        verdict = "met" if 1 - share <= limit else "NOT met"
        print(
            f"  the shop serves {share:.1%} of the bare view's rate: overhead {1 - share:.1%} "
            f"(target within {limit:.0%} on {label}): {verdict}"
        )
    count = "SELECT count(*) FROM tradein_quotes"
    for name, stored, target in (
        ("bare Flask view", int(str(scalar(baseline_url, count))), baseline),
        ("shop", int(str(scalar(shop_url, count))) - 1, shop),  # less the first quote, sent before the load
    ):
        line, agrees = rows_line(name, stored, target, load)
        print(line)
        if not agrees:
            problems.append(line.strip())
    return problems


def _exit_on_signal(number: int, _frame: object) -> None:
    raise SystemExit(128 + number)


def main() -> None:
    """Measure both apps and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--connections", "--clients", type=int, default=8, help="wrk's open connections (default 8)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each wrk round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per app (default 3)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of the warm-up run of each app (default 2; 0: none)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both apps (default 2)")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker of both apps (default 1)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk's threads (default 2)")
    parser.add_argument(
        "--database-url", help="a PostgreSQL database (two scratch schemas in it; default: SQLite files)"
    )
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    if args.seconds < 1 or args.rounds < 1 or args.warmup < 0 or args.wrk_threads < 1:
        parser.error("--seconds and --rounds take 1 or more, --warmup 0 or more (whole seconds)")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads (wrk opens at least one per thread)")
    require_wrk()
    signal.signal(signal.SIGTERM, _exit_on_signal)  # stops the servers and removes the files, as Ctrl-C does
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-shop-") as directory:
        folder = Path(directory)
        try:
            if args.database_url:
                with scratch_schemas(args.database_url, "bench_shop", "shop", "bare") as (shop_url, bare_url):
                    problems = measure("PostgreSQL", shop_url, bare_url, folder, args)
            else:
                (folder / "bare").mkdir()
                shop_url = f"sqlite:///{folder / 'shop' / 'tradein.sqlite3'}"
                problems = measure(
                    "SQLite", shop_url, f"sqlite:///{folder / 'bare' / 'tradein.sqlite3'}", folder, args
                )
        except StoreError as exc:
            raise SystemExit(f"the database failed: {exc}") from exc
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")
    if problems:
        print("\nERRORS during the run (the figures above count the 2xx answers only):")
        for line in problems:
            print(f"  {line}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
