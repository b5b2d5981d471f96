"""Service benchmark: quotes over HTTP under gunicorn, and webhook deliveries by ``tradein worker`` processes.

Run: ``.venv/bin/python benchmarks/bench_service.py [--clients 8] [--duration 10] [--webhooks 1000]
[--database-url postgresql://postgres@127.0.0.1:5432/bench_service] [--quick]`` (``--help`` lists the
rest). Without ``--database-url`` everything runs on SQLite files in a fresh temporary directory;
``--quick`` is a smoke run (about 20 s on an idle machine; the default run takes under 2 minutes). Every
process started here is ended, and every temporary directory, schema and database dropped, when the run
ends, failed or not. Nothing here asserts on timing. Two tables:

**Quotes under gunicorn.** The service is started as operators start it: ``tradein serve --workers 2``
(gunicorn's sync workers, on a free loopback port), configured from the environment: ``TRADEIN_API_KEYS``
(``bench=<key>``), ``TRADEIN_DATA_DIR`` (a fresh directory: SQLite) and, with ``--database-url``,
``TRADEIN_DATABASE_URL`` (a scratch schema of that database). Baseline, in the same run:
:func:`baseline_app`, a bare WSGI application under ``python -m gunicorn --workers 2`` that parses the same
JSON body, inserts one row into a table of the same database kind (a SQLite file set up as the library
sets up its own, or the same scratch schema) with a document as long as the one the service stored for
the first quote (~6.8 KB for these answers), and answers 201 with that document. Both servers run at once,
each ready when ``GET /readyz`` answers 200. The load: ``--clients`` threads, each with its own httpx
client, posting ``POST /v1/quotes`` ``{"device_id": "apple-iphone-13-128gb", "answers": <the bundled
"flawless" smartphone answers>}`` back to back: ``--warmup`` seconds on each server (not counted), then
``--duration`` seconds on each, in ``--rounds`` alternating rounds (baseline, service, baseline, ...) so
that both see the same machine. Shown: requests/s (201 answers), p50 and p99 latency as the client sees
it (queueing included), errors (any other answer, or a transport error; the first one is printed), the
ratio service/baseline, and then the rows each server stored against the 201 answers it gave, with the
average document size. The load generator shares the machine with the servers.

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
import importlib.metadata
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Self

import httpx
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, StoreError, TradeIn, TradeInError, WebhookEndpoint
from tradein_sdk._adapters.sql.store import SQLITE_BUSY_TIMEOUT_MS, _configure_sqlite, engine_url
from tradein_sdk.webhooks import WebhookSecrets, WebhookVerificationError, verify

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType
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
DEVICES_PER_ORDER = 4
FILL_ALONE_BELOW = 500
"""Fewer outbox rows than this are written by this process alone, more by 2 (SQLite) or 3 processes."""
HOOK_PATH = "/hook"
REPOSITORY = Path(__file__).resolve().parents[1]
STOP_SECONDS = 30


# -- processes -------------------------------------------------------------------------------------------


class Children:
    """The processes a part of the run starts; leaving the ``with`` block ends every one still running."""

    def __init__(self) -> None:
        """No process yet."""
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[BinaryIO] = []

    def start(self, command: Sequence[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        """Start ``command``; its output goes to ``log``."""
        output = log.open("ab")
        self._logs.append(output)
        process = subprocess.Popen(
            command, env=env, cwd=REPOSITORY, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """SIGTERM to every process still running, then wait for each.

        A process still running after 30 s gets SIGKILL, and so does every one left if the wait is
        interrupted (Ctrl-C, SIGTERM).
        """
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        try:
            for process in self.processes:
                try:
                    process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        except BaseException:
            for process in self.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            raise
        finally:
            self.processes.clear()
            for output in self._logs:
                output.close()
            self._logs.clear()

    def __enter__(self) -> Self:
        """Start collecting processes."""
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """End every process."""
        self.stop()


def tradein_command() -> list[str]:
    """The ``tradein`` console script of this interpreter's environment (``python -m`` if there is none)."""
    script = Path(sys.executable).with_name("tradein")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradein_sdk._cli"]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ``TRADEIN_`` setting or metrics directory, plus ``settings``."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TRADEIN_") and name != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {**kept, **settings}


def free_port() -> int:
    """A loopback port free right now (gunicorn cannot report the port it took, so one is chosen here)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    if not log.exists():
        return "(no output)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_ready(process: subprocess.Popen[bytes], base_url: str, log: Path, seconds: float = 60) -> str:
    """Poll ``GET /readyz`` until it answers 200; return ``base_url`` (exit with the log if it never does)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited ({process.returncode}):\n{tail(log)}")
            try:
                if client.get("/readyz").status_code == 200:
                    return base_url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"the server was not ready after {seconds:.0f} s:\n{tail(log)}")


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


def with_option(url: str, setting: str) -> str:
    """``url`` with a server setting (``name=value``) for its connections (a URL without ``options``)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-c{setting.replace('=', '%3D')}"


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead."""
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def admin_engine(url: str) -> sa.Engine:
    """An autocommit engine on the server of ``url`` (to create and drop schemas and databases)."""
    engine = sa.create_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        raise SystemExit(f"{url.rsplit('@', 1)[-1]} not reachable ({type(exc).__name__})") from exc
    return engine


# -- the baseline application ----------------------------------------------------------------------------


@functools.cache
def baseline_engine() -> sa.Engine:
    """The baseline's engine in this process, set up as the library sets up its own."""
    url = engine_url(os.environ[BASELINE_URL_ENV])
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


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
    """The baseline: parse the JSON body, insert one row with a document as long as the service's, answer it.

    Any other method than POST answers 200 (the readiness probe).
    """
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, "200 OK", '{"status": "ready"}')
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


# -- load ------------------------------------------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add(self, other: Load) -> None:
        """Count ``other``'s requests and time too."""
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error

    def percentile(self, which: int) -> float:
        """The ``which``-th percentile latency in milliseconds (NaN without two requests)."""
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[which - 1] * 1e3


QUOTE_BODY = json.dumps({"device_id": DEVICE, "answers": example_answers("smartphone", "flawless").answers})
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def load(base_url: str, *, clients: int, seconds: float) -> Load:
    """``clients`` threads posting the quote request back to back for ``seconds``."""
    result = Load()
    lock = threading.Lock()
    start = time.perf_counter()
    end = start + seconds
    finished: list[float] = []

    def run() -> None:
        latencies: list[float] = []
        errors = 0
        first_error = ""
        with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as client:
            while (began := time.perf_counter()) < end:
                try:
                    response = client.post(QUOTE_PATH, content=QUOTE_BODY)
                except httpx.HTTPError as exc:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                    continue
                if response.status_code == 201:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors += 1
                    first_error = first_error or f"{response.status_code} {response.text[:200]}"
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.first_error = result.first_error or first_error
            finished.append(time.perf_counter())

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = max(finished) - start
    return result


# -- part 1: quotes under gunicorn -----------------------------------------------------------------------


def start_service(children: Children, database: Database, folder: Path, workers: int) -> Callable[[], str]:
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
    command = [*tradein_command(), "serve", "--port", str(port), "--workers", str(workers)]
    process = children.start(command, env=env, log=log)
    return functools.partial(wait_ready, process, f"http://127.0.0.1:{port}", log)


def start_baseline(children: Children, url: str, folder: Path, workers: int) -> Callable[[], str]:
    """Create the baseline's table on ``url`` and serve :func:`baseline_app` with gunicorn.

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
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *control_socket_off(),
        f"{Path(__file__).parent.name}.{Path(__file__).stem}:baseline_app",
    ]
    env = environment(**{BASELINE_URL_ENV: url, BASELINE_CHARS_ENV: str(folder / "document-chars")})
    process = children.start(command, env=env, log=log)
    return functools.partial(wait_ready, process, f"http://127.0.0.1:{port}", log)


def control_socket_off() -> list[str]:
    """``--no-control-socket`` where gunicorn has one (27 and later), so the service keeps its socket path."""
    major = int(importlib.metadata.version("gunicorn").split(".", 1)[0])
    return ["--no-control-socket"] if major >= 27 else []


def document_chars(base_url: str, database: Database) -> tuple[int, int]:
    """Issue one quote through the service: the length of the document it stored, and 1 if it was created.

    Without a stored quote the length is ``DOCUMENT_CHARS``.
    """
    response = httpx.post(base_url + QUOTE_PATH, content=QUOTE_BODY, headers=HEADERS, timeout=30)
    if response.status_code != 201:
        print(f"the service refused the first quote: {response.status_code} {response.text[:300]}")
    chars = database.scalar("SELECT max(length(document)) FROM tradein_quotes")
    return (int(chars) if chars else DOCUMENT_CHARS), int(response.status_code == 201)


def print_quotes(label: str, args: argparse.Namespace, rows: list[tuple[str, Load]]) -> None:
    """The table of the quote figures and the ratio."""
    print(
        f"POST {QUOTE_PATH} under gunicorn --workers {args.workers} ({label}): {args.clients} client "
        f"threads; {args.rounds} alternating rounds of {args.duration / args.rounds:g} s per server "
        f"after {args.warmup:g} s warm-up each"
    )
    print(f"  {'server':<34} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in rows:
        print(
            f"  {name:<34} {len(result.latencies):9,} {result.rate:8.1f} {result.percentile(50):8.2f} "
            f"{result.percentile(99):8.2f} {result.errors:7,}"
        )
    (_, baseline), (_, service) = rows
    if baseline.rate and service.rate:
        print(
            f"  ratio service / baseline: {service.rate / baseline.rate:.3f} (req/s); latency "
            f"p50 {service.percentile(50) / baseline.percentile(50):.2f}x, "
            f"p99 {service.percentile(99) / baseline.percentile(99):.2f}x"
        )
    for name, result in rows:
        if result.first_error:
            print(f"  first error of the {name}: {result.first_error}")


def quotes_part(database: Database, baseline_url: str, folder: Path, args: argparse.Namespace) -> None:
    """Part 1: both servers up, each warmed up, then loaded in alternating rounds; the table."""
    names = ("bare WSGI app + insert (baseline)", "tradein serve (service)")
    results = {name: Load() for name in names}
    created = dict.fromkeys(names, 0)
    with Children() as children:
        ready = (
            start_baseline(children, baseline_url, folder, args.workers),
            start_service(children, database, folder, args.workers),
        )
        urls = {name: wait() for name, wait in zip(names, ready, strict=True)}
        chars, created[names[1]] = document_chars(urls[names[1]], database)
        (folder / "document-chars").write_text(str(chars))
        for name, url in urls.items():
            created[name] += len(load(url, clients=args.clients, seconds=args.warmup).latencies)
        for _ in range(args.rounds):
            for name, url in urls.items():
                result = load(url, clients=args.clients, seconds=args.duration / args.rounds)
                results[name].add(result)
                created[name] += len(result.latencies)
    print_quotes(database.label, args, list(results.items()))
    stored = Database(folder, baseline_url)
    quotes = database.scalar("SELECT count(*) FROM tradein_quotes")
    quote_chars = database.scalar("SELECT avg(length(document)) FROM tradein_quotes") or 0
    rows = stored.scalar(f"SELECT count(*) FROM {BASELINE.name}")  # noqa: S608 - a constant name
    row_chars = stored.scalar(f"SELECT avg(length(document)) FROM {BASELINE.name}") or 0  # noqa: S608
    print(
        f"  stored (warm-up included): service {quotes:,} quotes for {created[names[1]]:,} 201 answers, "
        f"document {float(quote_chars):,.0f} chars on average; baseline {rows:,} rows for "
        f"{created[names[0]]:,} answers, document {float(row_chars):,.0f} chars"
    )


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


def sqlite_run(folder: Path, args: argparse.Namespace) -> None:
    """Both parts on SQLite files."""
    quotes_part(Database(folder / "service"), f"sqlite:///{folder / 'baseline.sqlite3'}", folder, args)
    first, second = Database(folder / "hooks-a"), Database(folder / "hooks-b")
    webhooks_part(first, second, lambda: shutil.copytree(first.data_dir, second.data_dir), folder, args)


def postgres_run(folder: Path, args: argparse.Namespace) -> None:
    """Both parts on PostgreSQL: a scratch schema of the database, then two scratch databases."""
    admin = admin_engine(args.database_url)
    tag = uuid.uuid4().hex[:8]
    schema = f"bench_service_{tag}"
    base = sa.make_url(args.database_url).database or "postgres"
    fill_name, copy_name = f"{base}_hooks_{tag}", f"{base}_hooks_{tag}_copy"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = with_option(args.database_url, f"search_path={schema}")
        quotes_part(Database(folder / "service", url), url, folder, args)
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{fill_name}"'))
        first = Database(folder / "hooks-a", with_database(args.database_url, fill_name))
        second = Database(folder / "hooks-b", with_database(args.database_url, copy_name))

        def copy() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{copy_name}" TEMPLATE "{fill_name}"'))

        webhooks_part(first, second, copy, folder, args)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            for name in (copy_name, fill_name):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _exit_on_signal(number: int, _frame: object) -> None:
    raise SystemExit(128 + number)


def main() -> None:
    """Run both parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load on each server (default 10)"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="the load is split into this many rounds per server (default 4)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of warm-up of each server (default 2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers (default 2)")
    parser.add_argument("--webhooks", type=int, default=1000, help="outbox rows to deliver (default 1000)")
    parser.add_argument(
        "--webhook-workers", type=int, default=3, help="tradein worker processes against 1 (default 3)"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL database (scratch schema and databases; default: SQLite files)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 s of load in 2 rounds, 0.5 s warm-up, 60 webhooks"
    )
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url takes a postgresql:// URL (SQLite is the default)")
    if args.quick:
        args.duration, args.rounds, args.warmup, args.webhooks = 2.0, 2, 0.5, 60
    signal.signal(signal.SIGTERM, _exit_on_signal)  # ends the processes and removes the files, as Ctrl-C does
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as directory:
        try:
            if args.database_url:
                postgres_run(Path(directory), args)
            else:
                sqlite_run(Path(directory), args)
        except StoreError as exc:
            raise SystemExit(f"the database failed: {exc}") from exc
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
