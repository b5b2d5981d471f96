"""Two service instances and three workers on one PostgreSQL: four tenants' webhooks, tokens, deadlines.

Everything runs as operators run it, in subprocesses of the ``tradein`` command, on a fresh schema of the test
PostgreSQL (the ``postgres_url`` fixture: skipped when no server answers, failed with
``TRADEIN_REQUIRE_POSTGRES=1``): ``tradein db migrate`` once; API keys minted with ``tradein keys create``
(a ``shop`` key per tenant, a ``back_office`` and an ``admin`` key per organisation); two ``tradein serve
--workers 2`` instances (gunicorn) on two ports and three ``tradein worker --tick-every 1 --poll 0.2
--timeout 2`` processes, all sharing ``TRADEIN_DATABASE_URL`` and ``TRADEIN_QUOTE_KEYS``.

Four tenants in two organisations each register one endpoint of their own (``POST /v1/webhooks/endpoints``
with their organisation's admin key, ``"tenant": ...``) on a local receiver that checks every POST with that
tenant's secret only, deduplicates by ``webhook-id`` and fails 30 % of first attempts, chosen by a hash of
the id and the attempt: two thirds answer 503, one third is processed but answered after the worker's
timeout (so the retry is a duplicate the receiver drops). Only first attempts fail because the retry
schedule of a registered endpoint is the Standard Webhooks one (5 s, then 5 min, 30 min, ...) and neither
``tradein worker`` nor the endpoint registration can shorten it: a second failure would wait 5 minutes.

Four threads, one per tenant, then open orders through both instances at once (a quote on one instance is
accepted on the other), issue labels and ship; the organisation's back office receives, inspects (confirmed
or revised), and pays some. Asserted afterwards: every event of a tenant's orders (computed from the orders'
histories) is in the outbox for that tenant's endpoint only, delivered (none dead, none pending) and
processed by that tenant's receiver exactly once, with bodies naming only that tenant's orders and
signatures only by its secret; every POST the receivers saw is an attempt the outbox counted.

Deadlines: the service takes no delivery policy from its environment (at least 1 day to send), so one order
per tenant gets its send-by deadline moved into the past in its stored row; the ticks of the three workers
must expire each exactly once (one ``order.expire`` audit entry, one change in the workers' reports). And
``tradein_schedule`` keeps one row per job (its last claimed slot), so the slots are watched while the
workers run: no slot ever has two holders, and the workers' ticks add up to no more than the slots elapsed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import AuditSeals, BankTransfer, SigningKeys, TradeInClient
from tradein_sdk._adapters.sql.store import SQLStore, engine_url
from tradein_sdk._domain.outbox import order_events
from tradein_sdk.webhooks import WebhookSecrets, WebhookVerificationError, verify

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

TENANTS = {"north": "carrier-a", "south": "carrier-a", "east": "carrier-b", "west": "carrier-b"}
ORGANISATIONS = sorted(set(TENANTS.values()))
ORDERS_PER_TENANT = 8
DEVICES = ("apple-iphone-13-128gb", "apple-iphone-14-128gb")
PAYOUT = BankTransfer(iban="DE89 3704 0044 0532 0130 00", holder="Erika Mustermann")
HOOKS = "/hooks/"
FAIL_BELOW = 77
"""A first attempt whose draw (the first byte of sha256(id/attempt)) is below this fails: 77/256, ~30 %."""
LATE_BELOW = 26
"""...of which those below this (~10 % of all) are processed but answered after the worker's timeout."""
WORKER_TIMEOUT = 2.0
LATE_ANSWER = WORKER_TIMEOUT + 0.8
SETTLE_SECONDS = 60.0
READY_SECONDS = 60.0
STOP_SECONDS = 30.0
WORKER_REPORT = re.compile(
    r"WorkerReport\(passes=(?P<passes>\d+), deliveries=DeliveryReport\(delivered=(?P<delivered>\d+), "
    r"retrying=(?P<retrying>\d+), failed=(?P<failed>\d+), skipped=(?P<skipped>\d+)\), "
    r"ticks=(?P<ticks>\d+), changed=(?P<changed>\d+), errors=(?P<errors>\d+), "
    r"checkpoints=(?P<checkpoints>\d+)\)"
)


def _answers(name: str) -> dict[str, Any]:
    return dict(example_answers("smartphone", name).answers)


DECLARED = _answers("flawless")
CONFIRMING = {
    **DECLARED,
    **{
        key: _answers("store-inspected")[key]
        for key in ("liquid_indicator", "blocklist_status", "authenticity")
    },
}
"""The inspector finds what the shopper declared: the offer is confirmed."""
REVISING = _answers("store-inspected")
"""The inspector finds wear: the offer is revised."""


# -- processes ---------------------------------------------------------------------------------------------


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
    """A loopback port free right now (gunicorn cannot report the port it took)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Processes:
    """The processes the test starts, each with a log file; :meth:`stop` ends them."""

    def __init__(self, folder: Path) -> None:
        """No process yet; logs go to ``folder``."""
        self.folder = folder
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.exits: dict[str, int] = {}
        self._logs: list[BinaryIO] = []

    def start(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        """Start ``command`` as ``name``; its output goes to ``<name>.log``."""
        output = (self.folder / f"{name}.log").open("ab")
        self._logs.append(output)
        process = subprocess.Popen(
            command, env=dict(env), stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
        self.running[name] = process
        return process

    def log(self, name: str, lines: int = 30) -> str:
        """The last lines of a process's log."""
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, names: Sequence[str] | None = None) -> None:
        """SIGTERM to the named processes (default: all), wait for each; SIGKILL after 30 s."""
        chosen = [name for name in (self.running if names is None else names) if name in self.running]
        for name in chosen:
            if self.running[name].poll() is None:
                self.running[name].send_signal(signal.SIGTERM)
        try:
            for name in chosen:
                process = self.running[name]
                try:
                    process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                self.exits[name] = process.returncode
        finally:
            for name in chosen:
                process = self.running.pop(name)
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def close(self) -> None:
        """End every process still running and close the logs."""
        try:
            self.stop()
        finally:
            for output in self._logs:
                output.close()


def wait_ready(processes: Processes, name: str, base_url: str) -> None:
    """Poll ``GET /readyz`` until it answers 200 (fail with the log if the process exits or never is)."""
    deadline = time.monotonic() + READY_SECONDS
    process = processes.running[name]
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited ({process.returncode}):\n{processes.log(name)}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"{name} was not ready after {READY_SECONDS:.0f} s:\n{processes.log(name)}")


def run_tradein(arguments: Sequence[str], env: Mapping[str, str]) -> str:
    """Run a ``tradein`` command to its end; its standard output (fail with its output if it fails)."""
    result = subprocess.run(
        [*tradein_command(), *arguments],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"tradein {' '.join(arguments)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Keys:
    """The API keys one tenant's thread works with."""

    shop: str
    back_office: str
    admin: str


def mint_keys(env: Mapping[str, str], data_dir: Path) -> dict[str, Keys]:
    """A ``shop`` key per tenant, a ``back_office`` and an ``admin`` key per organisation (minted at once)."""
    wanted = [(tenant, organisation, "shop") for tenant, organisation in TENANTS.items()]
    wanted += [
        (organisation, organisation, role)
        for organisation in ORGANISATIONS
        for role in ("back_office", "admin")
    ]
    started = {
        (tenant, role): subprocess.Popen(
            [
                *tradein_command(),
                "keys",
                "create",
                "--tenant",
                tenant,
                "--organisation",
                organisation,
                "--role",
                role,
                "--json",
                "--data-dir",
                str(data_dir),
            ],
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tenant, organisation, role in wanted
    }
    minted: dict[tuple[str, str], str] = {}
    for (tenant, role), process in started.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"tradein keys create {tenant} {role}:\n{out}\n{err}"
        document = json.loads(out)
        assert document["keys"][0]["tenant"] == tenant
        assert document["keys"][0]["role"] == role
        assert document["key"].startswith("tik_")
        minted[tenant, role] = document["key"]
    return {
        tenant: Keys(
            shop=minted[tenant, "shop"],
            back_office=minted[organisation, "back_office"],
            admin=minted[organisation, "admin"],
        )
        for tenant, organisation in TENANTS.items()
    }


# -- the receivers -----------------------------------------------------------------------------------------


def draw(webhook_id: str, attempt: int) -> int:
    """A deterministic number in [0, 256) for one attempt of one webhook."""
    return hashlib.sha256(f"{webhook_id}/{attempt}".encode()).digest()[0]


@dataclass(frozen=True)
class Post:
    """One POST a receiver got, and what it made of it.

    ``answer``: ``accepted`` (processed, 204), ``duplicate`` (already processed: dropped, 204), ``failed``
    (503, not processed), ``late`` (processed, answered after the worker's timeout) or ``refused`` (not
    signed with the receiving tenant's secret: a violation, 400).
    """

    receiver: str
    webhook_id: str
    attempt: int
    signed_by: str | None
    answer: str
    order_id: str | None
    event_type: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # up to 3 workers x 2 sends x 4 endpoints connect at once


class Receivers:
    """One local HTTP server holding one webhook endpoint per tenant (``/hooks/<tenant>``)."""

    def __init__(self, tenants: Sequence[str]) -> None:
        """Start serving on a free loopback port; no secret is known until :meth:`know`."""
        self.lock = threading.Lock()
        self.secrets: dict[str, WebhookSecrets] = {}
        self.posts: list[Post] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.processed: dict[str, set[str]] = {tenant: set() for tenant in tenants}
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, delay = receivers.handle(self.path, headers, body)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the worker gave up waiting (a late answer)
                    self.close_connection = True

            def log_message(self, *_args: Any) -> None:  # noqa: ANN401 - http.server's signature
                return

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, tenant: str) -> str:
        """The endpoint of ``tenant``."""
        return f"http://127.0.0.1:{self.server.server_port}{HOOKS}{tenant}"

    def know(self, tenant: str, secret: str) -> None:
        """Verify ``tenant``'s deliveries with ``secret`` from now on."""
        with self.lock:
            self.secrets[tenant] = WebhookSecrets.parse(secret)

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, float]:
        """Check, count and deduplicate one POST; the status to answer and the seconds to wait first."""
        tenant = path.removeprefix(HOOKS)
        with self.lock:
            known = dict(self.secrets)
        signed_by, event = None, None
        for owner in sorted(known, key=lambda name: name != tenant):  # its own secret first, then the others
            try:
                event = verify(headers, body, known[owner], now=datetime.now(UTC))
            except WebhookVerificationError:
                continue
            signed_by = owner
            break
        webhook_id = headers.get("webhook-id", "")
        order_id = event.data.get("order_id") if event is not None else None
        with self.lock:
            self.counts[tenant, webhook_id] += 1
            attempt = self.counts[tenant, webhook_id]
            chance = draw(webhook_id, attempt)
            if signed_by != tenant or tenant not in self.processed:
                answer = "refused"
            elif webhook_id in self.processed[tenant]:
                answer = "duplicate"
            elif attempt == 1 and chance < FAIL_BELOW:
                answer = "late" if chance < LATE_BELOW else "failed"
            else:
                answer = "accepted"
            if answer in {"accepted", "late"}:
                self.processed[tenant].add(webhook_id)
            self.posts.append(
                Post(
                    receiver=tenant,
                    webhook_id=webhook_id,
                    attempt=attempt,
                    signed_by=signed_by,
                    answer=answer,
                    order_id=order_id if isinstance(order_id, str) else None,
                    event_type=event.type if event is not None else None,
                )
            )
        return {"refused": (400, 0.0), "failed": (503, 0.0), "late": (204, LATE_ANSWER)}.get(
            answer, (204, 0.0)
        )

    def processed_ids(self) -> dict[str, set[str]]:
        """A copy of the ids each tenant's receiver processed."""
        with self.lock:
            return {tenant: set(ids) for tenant, ids in self.processed.items()}

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


# -- the schedule ------------------------------------------------------------------------------------------


class ScheduleWatch:
    """Reads the tick job's row of ``tradein_schedule`` every 50 ms: which holders each slot had."""

    def __init__(self, url: str) -> None:
        """Start watching the database at ``url``."""
        self.engine = sa.create_engine(engine_url(url))
        self.holders: dict[datetime, set[str]] = defaultdict(set)
        self.reads = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        query = sa.text("SELECT slot, holder FROM tradein_schedule WHERE name = 'tick'")
        while not self.stopping.wait(0.05):
            try:
                with self.engine.connect() as conn:
                    row = conn.execute(query).first()
            except sa.exc.SQLAlchemyError:
                continue
            self.reads += 1
            if row is not None:
                self.holders[row.slot].add(row.holder)

    def stop(self) -> None:
        """Stop watching."""
        self.stopping.set()
        self.thread.join(timeout=10)
        self.engine.dispose()


# -- the load ----------------------------------------------------------------------------------------------


@dataclass
class Load:
    """What one tenant's thread did."""

    tenant: str
    orders: list[str] = field(default_factory=list)
    deadline_orders: list[str] = field(default_factory=list)
    devices: int = 0
    tokens_across: int = 0
    calls: int = 0
    error: str | None = None


def walk(load: Load, urls: Sequence[str], keys: Keys) -> None:
    """Open and progress one tenant's orders, alternating the two instances; errors go to ``load.error``."""
    shop = [TradeInClient(base_url=url, api_key=keys.shop, max_retries=0, timeout=30) for url in urls]
    office = [
        TradeInClient(base_url=url, api_key=keys.back_office, max_retries=0, timeout=30) for url in urls
    ]
    try:
        for number in range(ORDERS_PER_TENANT):
            here, there = number % 2, (number + 1) % 2
            quoted_on = [(here + index) % 2 for index in range(2 if number % 3 == 0 else 1)]
            tokens = [
                shop[side].quote(DEVICES[index], DECLARED).token for index, side in enumerate(quoted_on)
            ]
            order = shop[there].accept(tokens, payout=PAYOUT)  # tokens of the other instance verify here
            load.tokens_across += sum(side != there for side in quoted_on)
            load.orders.append(order.id)
            shop[here].issue_label(order.id)
            load.calls += len(tokens) + 2
            for index, device in enumerate(order.devices):
                side = (number + index) % 2
                shop[side].ship(order.id, device.id)
                load.calls += 1 + progress(
                    shop[1 - side],
                    office,
                    side=side,
                    order_id=order.id,
                    device_id=device.id,
                    plan=(number + index) % 4,
                )
                load.devices += 1
        token = shop[1].quote(DEVICES[0], DECLARED).token
        order = shop[0].accept([token], payout=PAYOUT)
        shop[1].issue_label(order.id)  # never sent: its send-by deadline is what the workers' ticks act on
        load.deadline_orders.append(order.id)
        load.devices += 1
        load.calls += 3
    except Exception:  # noqa: BLE001 - reported by the test, with the traceback
        load.error = traceback.format_exc()
    finally:
        for client in (*shop, *office):
            client.close()


def progress(
    shop: TradeInClient,
    office: Sequence[TradeInClient],
    *,
    side: int,
    order_id: str,
    device_id: str,
    plan: int,
) -> int:
    """The back office's part for one shipped device, by ``plan``; the calls made.

    0: received, inspected (confirmed), paid. 1: received, inspected (revised), the revision accepted by the
    shop, paid. 2: received, inspected (confirmed). 3: received.
    """
    desk, bench = office[side], office[1 - side]
    desk.receive(order_id, device_id)
    if plan == 3:
        return 1
    if plan == 1:
        bench.inspect(order_id, device_id, REVISING)
        shop.respond_to_revision(order_id, device_id, accept=True)
        desk.pay(order_id, device_id)
        return 4
    bench.inspect(order_id, device_id, CONFIRMING)
    if plan == 0:
        desk.pay(order_id, device_id)
        return 3
    return 2


def move_send_by_into_the_past(url: str, order_ids: Sequence[str]) -> None:
    """Move the send-by deadline of the orders' unsent devices 1 minute into the past, in the stored rows.

    The service takes no delivery policy from its environment and a policy's send window is at least a day;
    this is the one write the test makes behind the service's back, so that the workers' ticks have a
    deadline to act on.
    """
    past = datetime.now(UTC) - timedelta(minutes=1)
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            for order_id in order_ids:
                document, version = conn.execute(
                    sa.text("SELECT document, version FROM tradein_orders WHERE id = :id"), {"id": order_id}
                ).one()
                stored = json.loads(document)
                for device in stored["devices"]:
                    assert device["state"] == "awaiting_shipment", device["state"]
                    device["send_by"] = past.isoformat()
                changed = conn.execute(
                    sa.text(
                        "UPDATE tradein_orders SET document = :document, next_deadline_at = :past "
                        "WHERE id = :id AND version = :version"
                    ),
                    {"document": json.dumps(stored), "past": past, "id": order_id, "version": version},
                ).rowcount
                assert changed == 1, order_id
    finally:
        engine.dispose()


# -- the database's view -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One outbox row."""

    event_id: str
    endpoint: str
    tenant: str | None
    done: bool
    delivered: bool
    attempts: int
    last_error: str | None


def outbox(url: str) -> list[Row]:
    """Every row of the webhook outbox."""
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT event_id, endpoint, tenant, done, delivered_at, attempts, last_error "
                    "FROM tradein_webhook_outbox"
                )
            ).all()
    finally:
        engine.dispose()
    return [
        Row(
            event_id=row.event_id,
            endpoint=row.endpoint,
            tenant=row.tenant,
            done=bool(row.done),
            delivered=row.delivered_at is not None,
            attempts=int(row.attempts),
            last_error=row.last_error,
        )
        for row in rows
    ]


def expired_entries(url: str) -> Counter[str]:
    """How many ``order.expire`` audit entries each order has."""
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            subjects = conn.execute(
                sa.text("SELECT subject FROM tradein_audit_log WHERE action = 'order.expire'")
            ).scalars()
            return Counter(subjects)
    finally:
        engine.dispose()


def settled(url: str, expected: int, deadline_orders: int) -> bool:
    """Whether every expected event is in the outbox and finished, and every deadline order expired."""
    rows = outbox(url)
    return (
        len(rows) >= expected
        and all(row.done for row in rows)
        and sum(expired_entries(url).values()) >= deadline_orders
    )


# -- the run -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What happened, collected while the processes ran."""

    loads: dict[str, Load]
    endpoints: dict[str, str] = field(default_factory=dict)
    expected: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per tenant: the id of each event its orders' histories give, and the event's order."""
    expired_states: dict[str, list[str]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    processed: dict[str, set[str]] = field(default_factory=dict)
    exits: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    worker_pids: set[int] = field(default_factory=set)
    slot_holders: dict[datetime, set[str]] = field(default_factory=dict)
    schedule_reads: int = 0
    slots_elapsed: int = 0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def deadline_orders(self) -> list[str]:
        """The order of each tenant whose send-by deadline was moved into the past."""
        return [order_id for load in self.loads.values() for order_id in load.deadline_orders]


SERVICES = ("service-a", "service-b")
WORKERS = ("worker-0", "worker-1", "worker-2")


def operate(url: str, folder: Path) -> Run:
    """Set up, start the services and workers, run the load, wait for the deliveries and deadlines, stop."""
    began = time.monotonic()
    data_dir = folder / "data"
    data_dir.mkdir()
    env = environment(
        TRADEIN_DATABASE_URL=url,
        TRADEIN_QUOTE_KEYS=f"k1={secrets.token_urlsafe(32)}",
        TRADEIN_DATA_DIR=str(data_dir),
    )
    assert "schema version" in run_tradein(["db", "migrate", "--data-dir", str(data_dir)], env)
    keys = mint_keys(env, data_dir)
    run = Run(loads={tenant: Load(tenant) for tenant in TENANTS})
    mark = time.monotonic()
    run.phases["migrate and keys"] = mark - began
    receivers = Receivers(list(TENANTS))
    processes = Processes(folder)
    watch = ScheduleWatch(url)
    try:
        urls = start_services(processes, env, folder, data_dir)
        run.phases["services ready"], mark = time.monotonic() - mark, time.monotonic()
        register_endpoints(run, urls, keys, receivers)
        workers_started = time.time()
        command = [
            *tradein_command(),
            *("worker", "--tick-every", "1", "--poll", "0.2", "--timeout", str(WORKER_TIMEOUT)),
            *("--data-dir", str(data_dir)),
        ]
        run.worker_pids = {processes.start(name, command, env).pid for name in WORKERS}
        run.phases["endpoints and workers"], mark = time.monotonic() - mark, time.monotonic()
        run_load(run, urls, keys)
        run.phases["load"], mark = time.monotonic() - mark, time.monotonic()
        move_send_by_into_the_past(url, run.deadline_orders)
        wait_until_settled(run, url, urls, keys)
        run.phases["settle"], mark = time.monotonic() - mark, time.monotonic()
        for tenant, load in run.loads.items():  # read through instance A
            with TradeInClient(base_url=urls[0], api_key=keys[tenant].shop, max_retries=0) as shop:
                for order_id in load.deadline_orders:
                    run.expired_states[order_id] = [
                        device.state.value for device in shop.order(order_id).devices
                    ]

        processes.stop(SERVICES)  # the workers alone go on ticking for a moment
        time.sleep(1.5)
        processes.stop(WORKERS)
        run.slots_elapsed = int(time.time()) - int(workers_started) + 1
        run.phases["stop"] = time.monotonic() - mark
    finally:
        watch.stop()
        processes.close()
        receivers.close()
    run.exits = processes.exits
    run.logs = {name: processes.log(name, lines=200) for name in (*SERVICES, *WORKERS)}
    run.posts, run.processed = receivers.posts, receivers.processed_ids()
    run.slot_holders, run.schedule_reads = dict(watch.holders), watch.reads
    return run


def run_load(run: Run, urls: Sequence[str], keys: Mapping[str, Keys]) -> None:
    """One thread per tenant, all at once (fail with the tracebacks of those that failed)."""
    threads = [
        threading.Thread(target=walk, args=(run.loads[tenant], urls, keys[tenant]), name=f"load-{tenant}")
        for tenant in TENANTS
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a tenant's load did not finish"
    failures = {tenant: load.error for tenant, load in run.loads.items() if load.error}
    assert not failures, "\n".join(f"{tenant}:\n{error}" for tenant, error in failures.items())


def wait_until_settled(run: Run, url: str, urls: Sequence[str], keys: Mapping[str, Keys]) -> None:
    """Read the orders' events (through instance B); wait until all are delivered and the deadlines fired."""
    for tenant, load in run.loads.items():
        with TradeInClient(base_url=urls[1], api_key=keys[tenant].back_office, max_retries=0) as office:
            orders = [office.order(order_id) for order_id in load.orders]
        run.expected[tenant] = {event.id: order.id for order in orders for event in order_events(None, order)}
    events = sum(len(ids) for ids in run.expected.values())
    waited = time.monotonic()
    while not settled(url, events, len(run.deadline_orders)) and time.monotonic() - waited < SETTLE_SECONDS:
        time.sleep(0.25)


def start_services(processes: Processes, env: Mapping[str, str], folder: Path, data_dir: Path) -> list[str]:
    """Start ``tradein serve --workers 2`` twice, on two ports; their base URLs once both are ready."""
    urls = []
    for name in SERVICES:
        port = free_port()
        metrics = folder / f"metrics-{name}"
        metrics.mkdir()
        command = [
            *tradein_command(),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--data-dir",
            str(data_dir),
        ]
        processes.start(name, command, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)})
        urls.append(f"http://127.0.0.1:{port}")
    for name, url in zip(SERVICES, urls, strict=True):
        wait_ready(processes, name, url)
    return urls


def register_endpoints(run: Run, urls: Sequence[str], keys: Mapping[str, Keys], receivers: Receivers) -> None:
    """Each tenant's endpoint, registered by its organisation's admin key (alternately on A and B)."""
    for number, (tenant, tenant_keys) in enumerate(keys.items()):
        answer = httpx.post(
            f"{urls[number % 2]}/v1/webhooks/endpoints",
            json={"url": receivers.url(tenant), "tenant": tenant},
            headers={"Authorization": f"Bearer {tenant_keys.admin}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        registered = answer.json()
        assert (registered["tenant"], registered["organisation"]) == (tenant, TENANTS[tenant])
        assert registered["secret"].startswith("whsec_")
        receivers.know(tenant, registered["secret"])
        run.endpoints[tenant] = registered["endpoint_id"]


def worker_reports(run: Run) -> dict[str, dict[str, int]]:
    """What each worker printed when it stopped: its passes, deliveries, ticks, changes and errors."""
    reports = {}
    for name in WORKERS:
        found = WORKER_REPORT.search(run.logs[name])
        assert found is not None, f"{name} printed no report:\n{run.logs[name][-3000:]}"
        reports[name] = {key: int(value) for key, value in found.groupdict().items()}
    return reports


def print_figures(run: Run, rows: Sequence[Row], reports: Mapping[str, Mapping[str, int]]) -> None:
    """The run's figures (shown with ``pytest -s``)."""
    loads = run.loads.values()
    answers = Counter(post.answer for post in run.posts)
    print_line(
        f"\n2 instances x 2 gunicorn workers, {len(WORKERS)} tradein workers, {len(TENANTS)} tenants: "
        f"{sum(len(load.orders) + len(load.deadline_orders) for load in loads)} orders "
        f"({sum(load.devices for load in loads)} devices, {sum(load.calls for load in loads)} calls, "
        f"{sum(load.tokens_across for load in loads)} tokens accepted on the other instance)"
    )
    per_tenant = ", ".join(f"{tenant} {len(ids)}" for tenant, ids in run.expected.items())
    print_line(
        f"events {sum(len(ids) for ids in run.expected.values())} ({per_tenant}); outbox rows {len(rows)}: "
        f"delivered {sum(row.delivered for row in rows)}, "
        f"dead {sum(row.done and not row.delivered for row in rows)}, "
        f"pending {sum(not row.done for row in rows)}"
    )
    print_line(
        f"deliveries (POSTs) {len(run.posts)}: processed {answers['accepted'] + answers['late']}, "
        f"503 {answers['failed']}, answered after the timeout {answers['late']}, "
        f"duplicates dropped {answers['duplicate']}, refused (signature) {answers['refused']}; "
        f"retries {sum(row.attempts - 1 for row in rows)}"
    )
    print_line(
        "workers: "
        + "; ".join(
            f"{name} delivered {report['delivered']}, retrying {report['retrying']}, "
            f"ticks {report['ticks']}, changed {report['changed']}, errors {report['errors']}"
            for name, report in reports.items()
        )
    )
    shared = sum(len(holders) > 1 for holders in run.slot_holders.values())
    print_line(
        f"deadlines: {sum(report['ticks'] for report in reports.values())} ticks "
        f"in {run.slots_elapsed} slots, "
        f"{len(run.slot_holders)} slots watched ({run.schedule_reads} reads), {shared} with two holders; "
        f"expired {sum(states == ['expired'] for states in run.expired_states.values())} "
        f"of {len(run.deadline_orders)} orders"
    )
    print_line("time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.phases.items()))


def print_line(text: str) -> None:
    """Print one line of figures."""
    print(text, flush=True)  # noqa: T201 - the figures are the run's report


# -- the checks --------------------------------------------------------------------------------------------


def check_processes(run: Run, reports: Mapping[str, Mapping[str, int]]) -> None:
    """Every service and worker stopped cleanly when told to; no worker pass failed."""
    for name in (*SERVICES, *WORKERS):
        assert run.exits.get(name) == 0, f"{name} exited {run.exits.get(name)}:\n{run.logs[name][-3000:]}"
    for name, report in reports.items():
        assert report["errors"] == 0, f"{name} had failing passes:\n{run.logs[name][-6000:]}"


def check_outbox(run: Run, rows: Sequence[Row]) -> None:
    """One row per event of a tenant's orders, to that tenant's endpoint only, each delivered."""
    queued: set[tuple[str | None, str]] = set()
    for row in rows:
        assert row.tenant in TENANTS, row
        assert row.endpoint == run.endpoints[row.tenant], f"{row.event_id} of {row.tenant} to {row.endpoint}"
        assert (row.tenant, row.event_id) not in queued, f"{row.event_id} queued twice for {row.tenant}"
        queued.add((row.tenant, row.event_id))
    assert not [row for row in rows if row.done and not row.delivered], "dead letters"
    assert not [row for row in rows if not row.done], f"still pending after {SETTLE_SECONDS:.0f} s"
    for tenant in TENANTS:
        in_outbox = {row.event_id for row in rows if row.tenant == tenant}
        assert in_outbox == set(run.expected[tenant]), f"{tenant}: outbox and order histories differ"


def check_receivers(run: Run, rows: Sequence[Row]) -> None:
    """Each receiver processed each of its tenant's events once, and nothing signed or owned by another."""
    refused = [post for post in run.posts if post.answer == "refused"]
    assert not refused, f"not signed with the receiving tenant's secret: {refused[:5]}"
    for tenant in TENANTS:
        expected = run.expected[tenant]
        assert run.processed[tenant] == set(expected), (
            f"{tenant}: lost {sorted(set(expected) - run.processed[tenant])[:5]}, "
            f"foreign {sorted(run.processed[tenant] - set(expected))[:5]}"
        )
        own_orders = set(run.loads[tenant].orders)
        for post in run.posts:
            if post.receiver == tenant:
                assert post.signed_by == tenant, post
                assert post.order_id in own_orders, f"{tenant} got an event of another's order: {post}"
                assert post.order_id == expected[post.webhook_id], post
    processing = Counter(
        (post.receiver, post.webhook_id) for post in run.posts if post.answer in {"accepted", "late"}
    )
    assert set(processing.values()) == {1}, "an event was processed twice"
    seen = Counter((post.receiver, post.webhook_id) for post in run.posts)
    for row in rows:
        assert seen[row.tenant or "", row.event_id] == row.attempts, (
            f"{seen[row.tenant or '', row.event_id]} POSTs of {row}"
        )
    answers = Counter(post.answer for post in run.posts)
    assert answers["failed"] + answers["late"] > 0, (
        "no attempt failed: the receivers' failures did not happen"
    )
    last = {(post.receiver, post.webhook_id): post.answer for post in run.posts}
    assert set(last.values()) <= {"accepted", "duplicate"}, "a failed attempt was not tried again"
    late = {(post.receiver, post.webhook_id) for post in run.posts if post.answer == "late"}
    assert all(last[key] == "duplicate" for key in late), "a late answer was not followed by a duplicate"


def check_worker_counts(rows: Sequence[Row], reports: Mapping[str, Mapping[str, int]]) -> None:
    """The deliveries and retries the workers counted are the outbox's: no row recorded by two workers."""
    assert sum(report["delivered"] for report in reports.values()) == len(rows), (
        "a row delivered twice or never"
    )
    assert sum(report["retrying"] for report in reports.values()) == sum(row.attempts - 1 for row in rows)
    assert sum(report["failed"] for report in reports.values()) == 0


def check_deadlines(run: Run, url: str, reports: Mapping[str, Mapping[str, int]]) -> None:
    """Each unsent device expired once, by one tick; no schedule slot had two holders."""
    assert all(states == ["expired"] for states in run.expired_states.values()), run.expired_states
    assert expired_entries(url) == Counter(dict.fromkeys(run.deadline_orders, 1))
    assert sum(report["changed"] for report in reports.values()) == len(run.deadline_orders)
    shared = {slot: holders for slot, holders in run.slot_holders.items() if len(holders) > 1}
    assert not shared, f"slots claimed by more than one worker: {shared}"
    holders = {holder for holders in run.slot_holders.values() for holder in holders}
    assert {int(holder.rsplit(":", 2)[1]) for holder in holders} <= run.worker_pids, holders
    ticks = sum(report["ticks"] for report in reports.values())
    assert 0 < ticks <= run.slots_elapsed, (ticks, run.slots_elapsed)
    assert len(run.slot_holders) <= ticks


# -- the test ----------------------------------------------------------------------------------------------


def test_two_instances_three_workers_four_tenants(postgres_url: str, tmp_path: Path) -> None:
    """Each tenant's receiver processes each of its events once; tokens cross instances; deadlines once."""
    began = time.monotonic()
    run = operate(postgres_url, tmp_path)
    rows = outbox(postgres_url)
    reports = worker_reports(run)
    run.phases["whole run"] = time.monotonic() - began
    print_figures(run, rows, reports)

    check_processes(run, reports)
    check_receivers(run, rows)
    check_outbox(run, rows)
    check_worker_counts(rows, reports)
    check_deadlines(run, postgres_url, reports)
    signing = SigningKeys.load(tmp_path / "data" / "signing-keys.json")  # the one ring every process shares
    audit = SQLStore(postgres_url, migrate=False, audit_seals=AuditSeals.from_signing_keys(signing))
    try:
        verification = audit.verify_audit()  # every entry sealed, whichever instance wrote it
        assert verification.ok, (
            f"the audit log does not verify after concurrent writers: {verification.problems[:3]}"
        )
    finally:
        audit.close()
    assert sum(report["checkpoints"] for report in reports.values()) >= 1  # one worker per hourly slot
