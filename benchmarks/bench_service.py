"""Service benchmark: quotes over HTTP under gunicorn (load from wrk), webhooks sent by ``tradein worker``.

Run: ``.venv/bin/python benchmarks/bench_service.py [--seconds 10] [--rounds 3] [--connections 8]
[--workers 2] [--threads 1] [--webhooks 1000] [--database-url postgresql://postgres@127.0.0.1:5432/test]
[--quick]`` (``--help`` lists the rest). The HTTP load comes from ``wrk`` (the Debian package: ``apt-get
install wrk``); without it on PATH the benchmark exits at once saying so. Without ``--database-url``
everything runs on SQLite files in a fresh temporary directory; with it, in a scratch schema
(``bench_service_<tag>``) of that database and two scratch databases on its server, never in the database's
own schemas. ``--quick`` is a smoke run (2 rounds of 2 s, 1 s warm-ups, 60 webhooks); the default run takes
about 3 minutes on SQLite, 4 on PostgreSQL. Every process started here is ended, and every temporary
directory, schema and database dropped, when the run ends, failed or not. Nothing here asserts on timing; the
exit status is 1 when a run had errors (listed again at the end). Three tables (``--webhooks 0`` leaves out
the third):

**POST /v1/quotes under gunicorn.** The service is started as operators start it: ``tradein serve --workers 2
--threads 1`` (gunicorn; ``--threads`` above 1 makes gthread workers), configured from the environment:
``TRADEIN_API_KEYS`` (``bench=<key>``), ``TRADEIN_DATA_DIR`` (a fresh directory: SQLite) and, with
``--database-url``, ``TRADEIN_DATABASE_URL`` (the scratch schema). Baseline, in the same run:
:func:`baseline_app`, a bare WSGI application under ``python -m gunicorn`` with the same workers, threads,
timeouts and keep-alive, that parses the same JSON body, inserts one row into a table of the same database
kind (a SQLite file set up as the library sets up its own, or the same scratch schema) with a document as long
as the one the service stored for the first quote (~6 KB for these answers), and answers 201 with that
document. Both servers run at once, each ready when ``GET /readyz`` answers 200. The load: wrk (``-t2
-c<--connections> -d<--seconds>s --latency``, see :mod:`benchmarks._wrk`) posting ``{"device_id":
"apple-iphone-13-128gb", "answers": <the bundled "flawless" smartphone answers>}`` with the API key header,
the same Lua script for both servers: one ``--warmup`` run on each (not in the figures), then ``--rounds``
runs of ``--seconds`` on each, alternating (baseline, service, baseline, ...) so both see the same machine.
Shown: 2xx answers, requests/s, p50 and p99 latency (medians over the rounds; wrk's latency, queueing on the
server included), non-2xx answers and socket errors (every run with either is listed, and one more request
shows what the server answers), the requests/s of each round, the ratio service/baseline (of the medians, and
per round), then the rows each server stored against the 2xx answers wrk counted (warm-ups included; up to
one request per connection may still be in flight when a run ends) and the average document size.

**GET /v1/quotes/{id}.** The same two servers, the same wrk settings: each fetches the quotes it stored above
(up to 1,000 ids, the Lua script cycles through them): the service answers the stored quote (key check,
scoped read, the quote rebuilt and serialized), the baseline reads the row by primary key and answers its
document. Same table; the issue's target is a service rate of at least 30 % of the bare app's.

**Webhook deliveries.** The outbox is filled through the embedded facade (``TradeIn.embedded(data_dir,
webhook_endpoints=...)``): quotes, ``accept`` (orders of 4 devices), ``issue_label``, then ``ship`` and
``receive`` of each device; each receipt writes one ``device.received`` row for the one endpoint, until
``--webhooks`` rows are pending (written by 2 processes on SQLite, 3 on PostgreSQL with
``synchronous_commit=off``, from 500 rows up). The filled database is copied (the SQLite data directory; on
PostgreSQL ``CREATE DATABASE ... TEMPLATE``, with scratch databases on the server of ``--database-url``) and
each copy drained by ``tradein worker`` processes configured with ``TRADEIN_WEBHOOK_URLS`` and
``TRADEIN_WEBHOOK_SECRETS`` (options: ``--tick-every 0``, so only webhooks are timed; otherwise the defaults:
batches of 100, 8 sends at once, at most 2 to one endpoint), sending to a local threaded ``http.server`` that
verifies every signature, counts distinct ``webhook-id`` headers and answers 204. Timed until the receiver has
seen every row: 1 worker (the baseline) on one copy, ``--webhook-workers`` (3) on the other. Shown: seconds
and deliveries/s from the workers' start (process start-up included), deliveries/s from the first delivery to
the last, the duplicates the receiver saw (a row sent twice), bad signatures, the rows the database marks
delivered once the workers have stopped, and the ratio to 1 worker.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from benchmarks._wrk import (
    Children,
    Load,
    Request,
    Target,
    admin_engine,
    alternate,
    environment,
    free_port,
    gunicorn_command,
    library_engine,
    print_targets,
    require_wrk,
    rows_line,
    tail,
    wait_ready,
    with_option,
)
from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, StoreError, TradeIn, TradeInError, WebhookEndpoint
from tradein_sdk._adapters.sql.store import engine_url
from tradein_sdk.webhooks import WebhookSecrets, WebhookVerificationError, verify

if TYPE_CHECKING:
    from collections.abc import Callable
    from wsgiref.types import StartResponse, WSGIEnvironment

KEY = "benchmark-key-0123456789"
DEVICE = "apple-iphone-13-128gb"
QUOTE_PATH = "/v1/quotes"
DOCUMENT_CHARS = 7_600
"""The baseline's document size when the service stored no quote to measure."""
BASELINE_URL_ENV = "BENCH_SERVICE_BASELINE_URL"
BASELINE_CHARS_ENV = "BENCH_SERVICE_DOCUMENT_CHARS"
BASELINE = sa.Table(
    "bench_baseline_quotes",
    sa.MetaData(),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(120), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)
GET_IDS = 1_000
"""How many stored quotes the GET load cycles through."""
GET_TARGET = 0.30
"""The issue's target: the service's GET rate at least this share of the bare app's."""
DEVICES_PER_ORDER = 4
FILL_ALONE_BELOW = 500
"""Fewer outbox rows than this are written by this process alone, more by 2 (SQLite) or 3 processes."""
HOOK_PATH = "/hook"
SERVER_OPTIONS = ("--timeout", "30", "--graceful-timeout", "30", "--keep-alive", "5")
"""What ``tradein serve`` passes gunicorn by default, passed to the baseline's gunicorn too."""


# -- processes -------------------------------------------------------------------------------------------


def tradein_command() -> list[str]:
    """The ``tradein`` console script of this interpreter's environment (``python -m`` if there is none)."""
    script = Path(sys.executable).with_name("tradein")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradein_sdk._cli"]


# -- databases -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """Where a service or workers keep their data: a data directory, and PostgreSQL when ``url`` is set."""

    data_dir: Path
    url: str | None = None

    @property
    def sql_url(self) -> str:
        """The database's URL (the SQLite file of the data directory without ``url``)."""
        return self.url or f"sqlite:///{self.data_dir / 'tradein.sqlite3'}"

    @property
    def label(self) -> str:
        """SQLite or PostgreSQL."""
        return "PostgreSQL" if self.url else "SQLite"

    def settings(self) -> dict[str, str]:
        """The environment naming this database to ``tradein`` commands."""
        found = {"TRADEIN_DATA_DIR": str(self.data_dir)}
        if self.url:
            found["TRADEIN_DATABASE_URL"] = self.url
        return found

    def scalar(self, query: str) -> Any:  # noqa: ANN401 - whatever the query selects
        """The single value ``query`` selects."""
        engine = sa.create_engine(engine_url(self.sql_url))
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(query)).scalar_one()
        finally:
            engine.dispose()

    def strings(self, query: str) -> list[str]:
        """The first column of the rows ``query`` selects."""
        engine = sa.create_engine(engine_url(self.sql_url))
        try:
            with engine.connect() as conn:
                return [str(value) for value in conn.execute(sa.text(query)).scalars()]
        finally:
            engine.dispose()


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead."""
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


# -- the baseline application ----------------------------------------------------------------------------


@functools.cache
def baseline_engine() -> sa.Engine:
    """The baseline's engine in this process, set up as the library sets up its own."""
    return library_engine(os.environ[BASELINE_URL_ENV])


@functools.cache
def document_size() -> int:
    """The size of the service's document, from the file the benchmark wrote before the first request."""
    path = Path(os.environ.get(BASELINE_CHARS_ENV, "-"))
    return int(path.read_text()) if path.is_file() else DOCUMENT_CHARS


def baseline_document(quote_id: str, body: dict[str, Any]) -> str:
    """The JSON text stored and answered for one request: the request, padded to the service's size."""
    chars = document_size()
    document = {"id": quote_id, "device_id": body["device_id"], "answers": body["answers"], "padding": ""}
    document["padding"] = "x" * max(0, chars - len(json.dumps(document)))
    return json.dumps(document)


def _answer(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    data = text.encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def baseline_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The baseline: ``POST /v1/quotes`` parses the JSON body, inserts one row, answers its document.

    ``GET /v1/quotes/{id}`` reads the row by primary key and answers its document (404 without one); any
    other GET answers 200 (the readiness probe).
    """
    path = str(environ.get("PATH_INFO") or "/")
    if environ.get("REQUEST_METHOD") != "POST":
        if not path.startswith(QUOTE_PATH + "/"):
            return _answer(start_response, "200 OK", '{"status": "ready"}')
        reading = baseline_engine().execution_options(tradein_read_only=True)  # BEGIN, as the library reads
        with reading.begin() as conn:
            found = conn.execute(
                sa.select(BASELINE.c.document).where(BASELINE.c.id == path.removeprefix(QUOTE_PATH + "/"))
            ).scalar()
        if found is None:
            return _answer(start_response, "404 Not Found", '{"error": "not_found"}')
        return _answer(start_response, "200 OK", found)
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("device_id"), str)
        or not isinstance(body.get("answers"), dict)
    ):
        return _answer(start_response, "422 Unprocessable Entity", '{"error": "device_id and answers"}')
    quote_id = f"q_{uuid.uuid4().hex}"
    document = baseline_document(quote_id, body)
    with baseline_engine().begin() as conn:
        conn.execute(
            BASELINE.insert().values(
                id=quote_id, device_id=body["device_id"], issued_at=datetime.now(UTC), document=document
            )
        )
    return _answer(start_response, "201 Created", document)


# -- part 1: quotes under gunicorn, load from wrk --------------------------------------------------------


QUOTE_BODY = json.dumps({"device_id": DEVICE, "answers": example_answers("smartphone", "flawless").answers})
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def start_service(
    children: Children, database: Database, folder: Path, args: argparse.Namespace
) -> Callable[[], str]:
    """Start ``tradein serve`` (gunicorn) on ``database``, configured from the environment.

    Returns:
        What waits until the service is ready and returns its base URL.
    """
    port = free_port()
    log = folder / "service.log"
    metrics = folder / "metrics"  # the metrics directory gunicorn's workers share (else one left in /tmp)
    metrics.mkdir()
    env = environment(
        TRADEIN_API_KEYS=f"bench={KEY}", PROMETHEUS_MULTIPROC_DIR=str(metrics), **database.settings()
    )
    command = [
        *tradein_command(),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
    ]
    process = children.start(command, env=env, log=log)
    return functools.partial(wait_ready, process, f"http://127.0.0.1:{port}", log)


def start_baseline(children: Children, url: str, folder: Path, args: argparse.Namespace) -> Callable[[], str]:
    """Create the baseline's table on ``url``; serve :func:`baseline_app` with gunicorn set up as the service.

    Returns:
        What waits until the server is ready and returns its base URL.
    """
    engine = sa.create_engine(engine_url(url))
    try:
        BASELINE.metadata.create_all(engine)
    finally:
        engine.dispose()
    port = free_port()
    log = folder / "baseline.log"
    command = gunicorn_command(
        "benchmarks.bench_service:baseline_app",
        port=port,
        workers=args.workers,
        threads=args.threads,
        options=SERVER_OPTIONS,
    )
    env = environment(**{BASELINE_URL_ENV: url, BASELINE_CHARS_ENV: str(folder / "document-chars")})
    process = children.start(command, env=env, log=log)
    return functools.partial(wait_ready, process, f"http://127.0.0.1:{port}", log)


def document_chars(base_url: str, database: Database) -> tuple[int, int]:
    """Issue one quote through the service: the length of the document it stored, and 1 if it was created.

    Without a stored quote the length is ``DOCUMENT_CHARS``.
    """
    response = httpx.post(base_url + QUOTE_PATH, content=QUOTE_BODY, headers=HEADERS, timeout=30)
    if response.status_code != 201:
        print(f"the service refused the first quote: {response.status_code} {response.text[:300]}")
    chars = database.scalar("SELECT max(length(document)) FROM tradein_quotes")
    return (int(chars) if chars else DOCUMENT_CHARS), int(response.status_code == 201)


def settings_text(label: str, load: Load, args: argparse.Namespace) -> str:
    """The server and load settings, for a table's title."""
    return (
        f"gunicorn --workers {args.workers} --threads {args.threads} ({label}); {load.describe()}; "
        f"{args.rounds} alternating rounds per server after a {args.warmup} s warm-up each; medians of the "
        "rounds"
    )


def quotes_part(database: Database, baseline_url: str, folder: Path, args: argparse.Namespace) -> list[str]:
    """Part 1: both servers up; POST then GET, each warmed up and loaded in alternating rounds; the errors."""
    load = Load(connections=args.connections, seconds=args.seconds, threads=args.wrk_threads)
    stored = Database(folder, baseline_url)
    names = ("bare WSGI app + insert (baseline)", "tradein serve (service)")
    with Children() as children:
        ready = (
            start_baseline(children, baseline_url, folder, args),
            start_service(children, database, folder, args),
        )
        baseline_base, service_base = (wait() for wait in ready)
        chars, first = document_chars(service_base, database)
        (folder / "document-chars").write_text(str(chars))
        posting = Request("POST", HEADERS, QUOTE_BODY, (QUOTE_PATH,))
        posts = [
            Target.of(names[0], baseline_base, posting, folder, "post-baseline"),
            Target.of(names[1], service_base, posting, folder, "post-service"),
        ]
        alternate(posts, load, rounds=args.rounds, warmup=args.warmup)
        print(f"POST {QUOTE_PATH}: {settings_text(database.label, load, args)}")
        problems = print_targets(f"  body {len(QUOTE_BODY):,} bytes, API key header", *posts)
        quotes = int(database.scalar("SELECT count(*) FROM tradein_quotes"))
        quote_chars = database.scalar("SELECT avg(length(document)) FROM tradein_quotes") or 0
        rows = int(stored.scalar(f"SELECT count(*) FROM {BASELINE.name}"))  # noqa: S608 - a constant name
        row_chars = stored.scalar(f"SELECT avg(length(document)) FROM {BASELINE.name}") or 0  # noqa: S608
        for name, count, target in ((names[0], rows, posts[0]), (names[1], quotes - first, posts[1])):
            line, agrees = rows_line(name, count, target, load)
            print(line)
            if not agrees:
                problems.append(line.strip())
        print(
            f"  documents: service {float(quote_chars):,.0f} chars on average, baseline "
            f"{float(row_chars):,.0f}"
        )
        ids = (
            stored.strings(f"SELECT id FROM {BASELINE.name} ORDER BY id LIMIT {GET_IDS}"),  # noqa: S608
            database.strings(f"SELECT id FROM tradein_quotes ORDER BY id LIMIT {GET_IDS}"),  # noqa: S608
        )
        if not all(ids):
            problems.append(f"GET {QUOTE_PATH}/{{id}} not measured: a server stored no quote")
            print(f"\n{problems[-1]}")
            return problems
        gets = [
            Target.of(
                name,
                base,
                Request(
                    "GET",
                    {"Authorization": HEADERS["Authorization"]},
                    None,
                    tuple(f"{QUOTE_PATH}/{i}" for i in found),
                ),
                folder,
                f"get-{tag}",
            )
            for name, base, found, tag in (
                ("bare WSGI app + select (baseline)", baseline_base, ids[0], "baseline"),
                (names[1], service_base, ids[1], "service"),
            )
        ]
        alternate(gets, load, rounds=args.rounds, warmup=args.warmup)
    print(f"\nGET {QUOTE_PATH}/{{id}}: {settings_text(database.label, load, args)}")
    problems += print_targets(
        f"  each server cycles through {min(len(found) for found in ids):,} of the quotes it stored", *gets
    )
    baseline, service = gets
    if baseline.rate:
        share = service.rate / baseline.rate
        verdict = "met" if share >= GET_TARGET else "NOT met"
        print(
            f"  the service serves {share:.1%} of the bare app's GET rate (target >= {GET_TARGET:.0%}): "
            f"{verdict}"
        )
    return problems


# -- part 2: webhook deliveries --------------------------------------------------------------------------


class Receiver:
    """A local threaded HTTP server answering 204 to every webhook, counting ``webhook-id`` headers."""

    def __init__(self, secrets: WebhookSecrets) -> None:
        """Start serving on a free loopback port."""
        self.lock = threading.Lock()
        self.ids: set[str] = set()
        self.posts = 0
        self.bad_signatures = 0
        self.first_at = self.last_at = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    verify(headers, body, secrets, now=datetime.now(UTC))
                    good = True
                except WebhookVerificationError:
                    good = False
                self.send_response(204)
                self.end_headers()
                receiver.count(headers.get("webhook-id", ""), good=good)

            def log_message(self, *_args: Any) -> None:  # noqa: ANN401 - http.server's signature
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}{HOOK_PATH}"

    def count(self, webhook_id: str, *, good: bool) -> None:
        """Count one delivery."""
        now = time.perf_counter()
        with self.lock:
            self.posts += 1
            self.bad_signatures += 0 if good else 1
            if webhook_id not in self.ids:
                self.ids.add(webhook_id)
                self.first_at = self.first_at or now
                self.last_at = now

    def distinct(self) -> int:
        """Distinct ``webhook-id`` headers seen since the last reset."""
        with self.lock:
            return len(self.ids)

    def reset(self) -> None:
        """Forget every delivery."""
        with self.lock:
            self.ids.clear()
            self.posts = self.bad_signatures = 0
            self.first_at = self.last_at = 0.0

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def fill_orders(data_dir: str, database_url: str | None, hook_url: str, secret: str, rows: int) -> int:
    """Drive orders through the embedded facade until ``rows`` ``device.received`` webhooks are written."""
    endpoint = WebhookEndpoint(url=hook_url, secrets=WebhookSecrets.parse(secret))
    trade_in = TradeIn.embedded(data_dir, database_url=database_url, webhook_endpoints=(endpoint,))
    answers = example_answers("smartphone", "flawless").answers
    payout = BankTransfer(iban="DE89 3704 0044 0532 0130 00", holder="Erika Mustermann")
    written = 0
    try:
        while written < rows:
            devices = min(DEVICES_PER_ORDER, rows - written)
            tokens = [trade_in.quote(DEVICE, answers).token for _ in range(devices)]
            order = trade_in.accept(tokens, payout=payout)
            trade_in.issue_label(order.id)
            for device in order.devices:
                trade_in.ship(order.id, device.id)
                trade_in.receive(order.id, device.id)
                written += 1
    except TradeInError as exc:  # not every library error pickles back to the parent: send its text
        raise RuntimeError(f"{type(exc).__name__} [{exc.code}]: {exc}") from None
    finally:
        trade_in.close()
    return written


def fill(database: Database, receiver: Receiver, secret: str, rows: int) -> float:
    """Fill ``database``'s outbox with ``rows`` pending webhooks, several processes at once; the seconds."""
    TradeIn.embedded(database.data_dir, database_url=database.url).close()  # migrations and keys, once
    # Filling is not what is measured: PostgreSQL need not wait for the disk at each commit meanwhile.
    url = database.url and with_option(database.url, "synchronous_commit=off")
    fillers = 1 if rows < FILL_ALONE_BELOW else 3 if url else 2
    shares = [rows // fillers + (1 if index < rows % fillers else 0) for index in range(fillers)]
    started = time.perf_counter()
    if fillers == 1:  # starting processes would cost more than they save
        written = fill_orders(str(database.data_dir), url, receiver.url, secret, rows)
    else:
        with ProcessPoolExecutor(fillers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [
                pool.submit(fill_orders, str(database.data_dir), url, receiver.url, secret, share)
                for share in shares
            ]
            written = sum(future.result() for future in futures)
    seconds = time.perf_counter() - started
    pending = database.scalar("SELECT count(*) FROM tradein_webhook_outbox WHERE delivered_at IS NULL")
    if pending != rows or written != rows:
        raise SystemExit(f"the outbox holds {pending} pending rows after writing {written}, not {rows}")
    return seconds


@dataclass(frozen=True)
class Delivery:
    """What one set of workers did."""

    workers: int
    rows: int
    received: int
    posts: int
    bad_signatures: int
    from_start: float
    first_to_last: float
    delivered_in_db: int

    @property
    def rate(self) -> float:
        """Deliveries per second from the workers' start to the last delivery."""
        return self.received / self.from_start if self.from_start else 0.0

    @property
    def steady_rate(self) -> float:
        """Deliveries per second from the first delivery to the last."""
        return (self.received - 1) / self.first_to_last if self.first_to_last else 0.0


def deliver(
    database: Database, receiver: Receiver, secret: str, *, workers: int, rows: int, folder: Path
) -> Delivery:
    """Start ``workers`` ``tradein worker`` processes on ``database``; time them until all rows arrive."""
    receiver.reset()
    env = environment(
        TRADEIN_WEBHOOK_URLS=receiver.url, TRADEIN_WEBHOOK_SECRETS=secret, **database.settings()
    )
    command = [*tradein_command(), "worker", "--tick-every", "0"]
    deadline = time.perf_counter() + 60 + rows / 10
    with Children() as children:
        started = time.perf_counter()
        for number in range(workers):
            children.start(command, env=env, log=folder / f"worker-{workers}-{number}.log")
        while receiver.distinct() < rows and time.perf_counter() < deadline:
            if all(process.poll() is not None for process in children.processes):
                break
            time.sleep(0.005)
        if receiver.distinct() < rows:
            print(f"  {workers} worker(s) stopped early:\n{tail(folder / f'worker-{workers}-0.log')}")
    with receiver.lock:
        received, posts, bad = len(receiver.ids), receiver.posts, receiver.bad_signatures
        first, last = receiver.first_at, receiver.last_at
    delivered = database.scalar("SELECT count(*) FROM tradein_webhook_outbox WHERE delivered_at IS NOT NULL")
    return Delivery(
        workers=workers,
        rows=rows,
        received=received,
        posts=posts,
        bad_signatures=bad,
        from_start=(last - started) if last else 0.0,
        first_to_last=last - first,
        delivered_in_db=int(delivered),
    )


def print_deliveries(label: str, rows: int, fill_seconds: float, results: list[Delivery]) -> None:
    """The table of the delivery figures and the ratio."""
    print(
        f"\nwebhook deliveries ({label}): {rows:,} rows filled through the facade in {fill_seconds:.1f} s "
        f"({rows / fill_seconds:.0f} rows/s), one copy drained per line"
    )
    print(
        f"  {'tradein worker':<18} {'received':>9} {'s':>7} {'deliv/s':>8} {'steady/s':>9} "
        f"{'duplicates':>10} {'bad sig':>8} {'delivered in db':>16}"
    )
    for result in results:
        name = f"{result.workers} (baseline)" if result.workers == 1 else str(result.workers)
        print(
            f"  {name:<18} {result.received:9,} {result.from_start:7.2f} {result.rate:8.0f} "
            f"{result.steady_rate:9.0f} {result.posts - result.received:10,} {result.bad_signatures:8,} "
            f"{result.delivered_in_db:16,}"
        )
    one, many = results
    if one.rate and many.rate:
        print(
            f"  ratio {many.workers} workers / 1 worker: {many.rate / one.rate:.2f} (from the start), "
            f"{many.steady_rate / one.steady_rate:.2f} (first to last delivery)"
        )


def webhooks_part(
    first: Database, second: Database, copy: Callable[[], object], folder: Path, args: argparse.Namespace
) -> None:
    """Part 2: fill ``first``, copy it to ``second`` with ``copy()``, drain each; print the table."""
    secrets = WebhookSecrets.generate()
    secret = secrets.texts[0]
    receiver = Receiver(secrets)
    try:
        seconds = fill(first, receiver, secret, args.webhooks)
        copy()
        results = [
            deliver(second, receiver, secret, workers=1, rows=args.webhooks, folder=folder),
            deliver(first, receiver, secret, workers=args.webhook_workers, rows=args.webhooks, folder=folder),
        ]
    finally:
        receiver.close()
    print_deliveries(first.label, args.webhooks, seconds, results)


# -- the run ---------------------------------------------------------------------------------------------


def sqlite_run(folder: Path, args: argparse.Namespace) -> list[str]:
    """Both parts on SQLite files; the errors."""
    problems = quotes_part(
        Database(folder / "service"), f"sqlite:///{folder / 'baseline.sqlite3'}", folder, args
    )
    if args.webhooks:
        first, second = Database(folder / "hooks-a"), Database(folder / "hooks-b")
        webhooks_part(first, second, lambda: shutil.copytree(first.data_dir, second.data_dir), folder, args)
    return problems


def postgres_run(folder: Path, args: argparse.Namespace) -> list[str]:
    """Both parts on PostgreSQL: a scratch schema of the database, then two scratch databases; the errors."""
    admin = admin_engine(args.database_url)
    tag = uuid.uuid4().hex[:8]
    schema = f"bench_service_{tag}"
    base = sa.make_url(args.database_url).database or "postgres"
    fill_name, copy_name = f"{base}_hooks_{tag}", f"{base}_hooks_{tag}_copy"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = with_option(args.database_url, f"search_path={schema}")
        problems = quotes_part(Database(folder / "service", url), url, folder, args)
        if not args.webhooks:
            return problems
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{fill_name}"'))
        first = Database(folder / "hooks-a", with_database(args.database_url, fill_name))
        second = Database(folder / "hooks-b", with_database(args.database_url, copy_name))

        def copy() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{copy_name}" TEMPLATE "{fill_name}"'))

        webhooks_part(first, second, copy, folder, args)
        return problems
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            for name in (copy_name, fill_name):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _exit_on_signal(number: int, _frame: object) -> None:
    raise SystemExit(128 + number)


def main() -> None:
    """Run the parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--connections", "--clients", type=int, default=8, help="wrk's open connections (default 8)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each wrk round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server (default 3)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of the warm-up run of each server (default 2; 0: none)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers (default 2)")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker of both servers (default 1)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk's threads (default 2)")
    parser.add_argument(
        "--webhooks", type=int, default=1000, help="outbox rows to deliver (default 1000; 0: no webhook part)"
    )
    parser.add_argument(
        "--webhook-workers", type=int, default=3, help="tradein worker processes against 1 (default 3)"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL database (scratch schema and databases; default: SQLite files)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 rounds of 2 s, 1 s warm-ups, 60 webhooks"
    )
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    if args.quick:
        args.seconds, args.rounds, args.warmup, args.webhooks = 2, 2, 1, min(args.webhooks, 60)
    if args.seconds < 1 or args.rounds < 1 or args.warmup < 0 or args.wrk_threads < 1:
        parser.error("--seconds and --rounds take 1 or more, --warmup 0 or more (whole seconds)")
    if args.connections < args.wrk_threads:
        parser.error("--connections must be at least --wrk-threads (wrk opens at least one per thread)")
    require_wrk()
    signal.signal(signal.SIGTERM, _exit_on_signal)  # ends the processes and removes the files, as Ctrl-C does
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as directory:
        try:
            if args.database_url:
                problems = postgres_run(Path(directory), args)
            else:
                problems = sqlite_run(Path(directory), args)
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
