"""Shared helpers of the HTTP benchmarks (``bench_service.py``, ``bench_shop.py``): load from ``wrk``.

The load generator is `wrk <https://github.com/wg/wrk>`_ (Debian package ``wrk``), a C program driving many
connections from a couple of threads, so that it is not what limits the servers measured (Python client
threads on the same two cores were: 950 req/s against 2,846 under wrk for the same bare view). Every run is
``wrk -t<threads> -c<connections> -d<seconds>s --timeout <s>s --latency -s <script>.lua <url>``; the Lua
script (written to the benchmark's temporary directory) sets the method, headers and body, and cycles
through a list of paths when there are several. What wrk prints is parsed: the requests and the run's
length, the 50 % and 99 % latencies of ``--latency``, ``Non-2xx or 3xx responses`` and the socket errors
(connect, read, write, timeout). A run with errors is reported as such, never folded into the figures: the
rate counts the 2xx/3xx answers only, and :meth:`Series.problems` names every run that had others.

Also here: the processes a benchmark starts (:class:`Children`, ended whatever happens), gunicorn's command
line (the same for a subject and its baseline), scratch PostgreSQL schemas, an engine set up as the
library sets up its own, and the table of a subject against its baseline (medians of alternating rounds,
the ratio, the ratio per round).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Self

import httpx
import sqlalchemy as sa

from tradein_sdk._adapters.sql.store import SQLITE_BUSY_TIMEOUT_MS, _configure_sqlite, engine_url

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from types import TracebackType

REPOSITORY = Path(__file__).resolve().parents[1]
STOP_SECONDS = 30
WRK_MISSING = (
    "wrk, the HTTP load generator these benchmarks drive, is not on PATH: install it with "
    "`apt-get install wrk` (Debian/Ubuntu; `brew install wrk` on macOS), then run the benchmark again"
)


# -- wrk -------------------------------------------------------------------------------------------------


def require_wrk() -> str:
    """The path of ``wrk``; exit with how to install it when it is not on PATH."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(WRK_MISSING)
    return found


@dataclass(frozen=True)
class Request:
    """What wrk sends: the method, headers and body, to one path or to each of ``paths`` in turn."""

    method: str
    headers: Mapping[str, str]
    body: str | None = None
    paths: tuple[str, ...] = ("/",)


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal: every quote, backslash, control and non-ASCII byte in decimal."""
    escaped = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and byte not in {0x22, 0x5C} else f"\\{byte:03d}"
        for byte in text.encode()
    )
    return f'"{escaped}"'


def write_script(folder: Path, name: str, request: Request) -> Path:
    """Write the Lua script sending ``request`` to ``folder/name.lua``; its path."""
    lines = ["-- written by benchmarks/_wrk.py", f"wrk.method = {lua_string(request.method)}"]
    lines += [
        f"wrk.headers[{lua_string(key)}] = {lua_string(value)}" for key, value in request.headers.items()
    ]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    if len(request.paths) > 1:  # one path: wrk formats the request once, from the URL
        lines.append("local paths = {")
        lines += [f"  {lua_string(path)}," for path in request.paths]
        lines += [
            "}",
            "local turn = 0",
            "function request()",
            "  turn = turn % #paths + 1",
            "  return wrk.format(nil, paths[turn])",
            "end",
        ]
    script = folder / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    connect_errors: int = 0
    read_errors: int = 0
    write_errors: int = 0
    timeouts: int = 0

    @property
    def ok(self) -> int:
        """Answers with a 2xx or 3xx status."""
        return self.requests - self.non_2xx

    @property
    def rate(self) -> float:
        """2xx/3xx answers per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def socket_errors(self) -> int:
        """Connect, read and write errors and timeouts."""
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def clean(self) -> bool:
        """Every request answered 2xx/3xx, no socket error."""
        return not self.non_2xx and not self.socket_errors

    def errors_text(self) -> str:
        """The run's errors in words (empty when clean)."""
        parts = [f"{self.non_2xx:,} non-2xx/3xx answers"] if self.non_2xx else []
        if self.socket_errors:
            parts.append(
                f"socket errors: connect {self.connect_errors}, read {self.read_errors}, "
                f"write {self.write_errors}, timeout {self.timeouts}"
            )
        return "; ".join(parts)


_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_TIME = r"([\d.]+)(us|ms|s|m|h)"


def _ms(number: str, unit: str) -> float:
    return float(number) * _TIME_UNITS[unit]


def parse_wrk(output: str) -> WrkRun:
    """Read a wrk run's figures from what it printed (with ``--latency``).

    Raises:
        ValueError: the output lacks the requests line or the latency distribution.
    """
    total = re.search(rf"^\s*(\d+) requests in {_TIME}", output, re.MULTILINE)
    p50 = re.search(rf"^\s*50(?:\.0+)?%\s+{_TIME}", output, re.MULTILINE)
    p99 = re.search(rf"^\s*99(?:\.0+)?%\s+{_TIME}", output, re.MULTILINE)
    if total is None or p50 is None or p99 is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    status = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    connect, read, write, timeout = (int(value) for value in sockets.groups()) if sockets else (0, 0, 0, 0)
    return WrkRun(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1e3,
        p50_ms=_ms(p50.group(1), p50.group(2)),
        p99_ms=_ms(p99.group(1), p99.group(2)),
        non_2xx=int(status.group(1)) if status else 0,
        connect_errors=connect,
        read_errors=read,
        write_errors=write,
        timeouts=timeout,
    )


@dataclass(frozen=True)
class Load:
    """How wrk loads every server of a benchmark: the same for a subject and its baseline."""

    connections: int
    seconds: int
    threads: int = 2
    timeout: int = 10

    def describe(self) -> str:
        """The wrk options in words."""
        return (
            f"wrk -t{self.threads} -c{self.connections} -d{self.seconds}s --timeout {self.timeout}s --latency"
        )


def run_wrk(url: str, script: Path, load: Load, *, seconds: int | None = None) -> WrkRun:
    """One wrk run against ``url`` with ``script`` (``seconds`` instead of the load's, for a warm-up).

    Raises:
        SystemExit: wrk failed or printed something unreadable (its output is shown).
    """
    length = seconds or load.seconds
    command = [
        require_wrk(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{length}s",
        "--timeout",
        f"{load.timeout}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=length + load.timeout + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"wrk did not finish: {' '.join(command)}") from exc
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {' '.join(command)}\n{done.stdout}{done.stderr}")
    try:
        return parse_wrk(done.stdout)
    except ValueError as exc:
        raise SystemExit(f"{exc}\n{done.stderr}") from exc


# -- rounds ----------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One server under load: its name, base URL, what it is sent, and the runs it had."""

    name: str
    base_url: str
    request: Request
    script: Path
    warmups: list[WrkRun] = field(default_factory=list)
    runs: list[WrkRun] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, base_url: str, request: Request, folder: Path, tag: str) -> Target:
        """A target whose script is written to ``folder`` (``tag`` names the file)."""
        return cls(name, base_url, request, write_script(folder, tag, request))

    @property
    def url(self) -> str:
        """The URL wrk is given (with several paths the script chooses each request's)."""
        return self.base_url + self.request.paths[0]

    @property
    def rate(self) -> float:
        """The median of the rounds' 2xx/3xx answers per second."""
        return statistics.median(run.rate for run in self.runs) if self.runs else 0.0

    @property
    def p50(self) -> float:
        """The median of the rounds' 50th percentile latency, in ms."""
        return statistics.median(run.p50_ms for run in self.runs) if self.runs else float("nan")

    @property
    def p99(self) -> float:
        """The median of the rounds' 99th percentile latency, in ms."""
        return statistics.median(run.p99_ms for run in self.runs) if self.runs else float("nan")

    @property
    def answered(self) -> int:
        """2xx/3xx answers of the measured rounds."""
        return sum(run.ok for run in self.runs)

    @property
    def answered_all(self) -> int:
        """2xx/3xx answers of every run, warm-ups included."""
        return sum(run.ok for run in self.all_runs)

    @property
    def all_runs(self) -> list[WrkRun]:
        """Warm-ups and rounds."""
        return [*self.warmups, *self.runs]

    def problems(self) -> list[str]:
        """One line per run with errors (warm-ups included)."""
        found = [f"{self.name}: warm-up: {run.errors_text()}" for run in self.warmups if not run.clean]
        found += [
            f"{self.name}: round {number}: {run.errors_text()}"
            for number, run in enumerate(self.runs, 1)
            if not run.clean
        ]
        return found

    def probe(self, tries: int = 20) -> str:
        """Send the request again with httpx (to each of the first paths): the first error's status and text.

        For a run with errors, to show what the server answers; names the last answer when all are fine.
        """
        answer = "no request sent"
        with httpx.Client(base_url=self.base_url, headers=dict(self.request.headers), timeout=30) as client:
            for path in self.request.paths[:tries]:
                try:
                    response = client.request(self.request.method, path, content=self.request.body)
                except httpx.HTTPError as exc:
                    return f"{path}: {type(exc).__name__}: {exc}"
                answer = f"{path}: HTTP {response.status_code}: {response.text[:300]!r}"
                if response.status_code >= 400:
                    return answer
        return answer


def alternate(targets: Sequence[Target], load: Load, *, rounds: int, warmup: int) -> None:
    """Warm each target up for ``warmup`` s (0: none), then ``rounds`` rounds of one run on each in turn."""
    if warmup:
        for target in targets:
            target.warmups.append(run_wrk(target.url, target.script, load, seconds=warmup))
    for _ in range(rounds):
        for target in targets:
            target.runs.append(run_wrk(target.url, target.script, load))


def print_targets(title: str, baseline: Target, subject: Target) -> list[str]:
    """Print the table of both targets and the ratio; the error lines (also printed, with a probe each)."""
    print(title)
    print(
        f"  {'server':<38} {'2xx/3xx':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'sock err':>8}  req/s per round"
    )
    for target in (baseline, subject):
        rounds = " ".join(f"{run.rate:.0f}" for run in target.runs)
        print(
            f"  {target.name:<38} {target.answered:9,} {target.rate:8.1f} {target.p50:8.2f} "
            f"{target.p99:8.2f} "
            f"{sum(run.non_2xx for run in target.all_runs):8,} "
            f"{sum(run.socket_errors for run in target.all_runs):8,}  {rounds}"
        )
    if baseline.rate and subject.rate:
        per_round = " ".join(
            f"{mine.rate / theirs.rate:.2f}" if theirs.rate else "-"
            for mine, theirs in zip(subject.runs, baseline.runs, strict=True)
        )
        print(
            f"  ratio {subject.name.split(' (')[0]} / baseline: {subject.rate / baseline.rate:.3f} (median "
            f"req/s; per round {per_round}); latency p50 {subject.p50 / baseline.p50:.2f}x, "
            f"p99 {subject.p99 / baseline.p99:.2f}x"
        )
    problems = []
    for target in (baseline, subject):
        found = target.problems()
        if found:
            for line in found:
                print(f"  ERRORS {line}")
            print(f"  one more request to the {target.name}: {target.probe()}")
        problems += found
    return problems


def rows_line(name: str, stored: int, target: Target, load: Load) -> tuple[str, bool]:
    """Compare the rows ``target`` stored with its 2xx answers: the line to print, and whether they agree.

    A run ends with up to one request per connection in flight: the server may store it without wrk
    counting its answer, so up to ``connections`` rows more per run (warm-ups included) is agreement.
    """
    answered = target.answered_all
    runs = target.all_runs
    slack = load.connections * len(runs) + sum(run.socket_errors for run in runs)
    agrees = answered <= stored <= answered + slack
    verdict = "agree" if agrees else "MISMATCH"
    line = (
        f"  {name}: {stored:,} rows stored for {answered:,} 2xx answers counted by wrk "
        f"(+{stored - answered:,}; up to {slack:,} may be requests in flight when a run ended): {verdict}"
    )
    return line, agrees


# -- processes -------------------------------------------------------------------------------------------


class Children:
    """The processes a part of the run starts; leaving the ``with`` block ends every one still running."""

    def __init__(self) -> None:
        """No process yet."""
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[BinaryIO] = []

    def start(self, command: Sequence[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        """Start ``command`` in the repository; its output goes to ``log``."""
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


def wait_ready(
    process: subprocess.Popen[bytes], base_url: str, log: Path, *, path: str = "/readyz", seconds: float = 60
) -> str:
    """Poll ``GET path`` until it answers 200; return ``base_url`` (exit with the log if it never does)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited ({process.returncode}):\n{tail(log)}")
            try:
                if client.get(path).status_code == 200:
                    return base_url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"the server was not ready after {seconds:.0f} s:\n{tail(log)}")


def control_socket_off() -> list[str]:
    """``--no-control-socket`` where gunicorn has one (25.1 and later), as ``tradein serve`` passes it."""
    version = importlib.metadata.version("gunicorn").split(".")
    major, minor = (int(part) if part.isdigit() else 0 for part in (*version, "0")[:2])
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def gunicorn_command(
    target: str, *, port: int, workers: int, threads: int, options: Sequence[str] = ()
) -> list[str]:
    """``python -m gunicorn`` serving ``target`` on 127.0.0.1 (sync workers; gthread with threads)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--pythonpath",
        str(REPOSITORY),
        "--log-level",
        "warning",
        *options,
        *control_socket_off(),
        target,
    ]


# -- databases -------------------------------------------------------------------------------------------


def library_engine(url: str) -> sa.Engine:
    """An engine on ``url`` set up as the library's store sets up its own.

    SQLite: WAL, the busy timeout, ``BEGIN IMMEDIATE`` for writes; PostgreSQL: pre-ping; the default pool.
    """
    url = engine_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def scalar(url: str, query: str) -> object:
    """The single value ``query`` selects on the database of ``url``."""
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            value: object = conn.execute(sa.text(query)).scalar_one()
            return value
    finally:
        engine.dispose()


def with_option(url: str, setting: str) -> str:
    """``url`` with a server setting (``name=value``) for its connections (a URL without ``options``)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-c{setting.replace('=', '%3D')}"


def admin_engine(url: str) -> sa.Engine:
    """An autocommit engine on the server of ``url`` (to create and drop schemas and databases)."""
    engine = sa.create_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        raise SystemExit(f"{url.rsplit('@', 1)[-1]} not reachable ({type(exc).__name__})") from exc
    return engine


@contextlib.contextmanager
def scratch_schemas(url: str, prefix: str, *names: str) -> Iterator[list[str]]:
    """Create one fresh schema per name in the database of ``url``; yield a URL on each; drop them after."""
    admin = admin_engine(url)
    tag = uuid.uuid4().hex[:8]
    schemas = [f"{prefix}_{tag}_{name}" for name in names]
    try:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield [with_option(url, f"search_path={schema}") for schema in schemas]
    finally:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
