"""``tradein serve``, ``tradein worker``, ``tradein openapi``: the service, its worker, its API document."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _command, _trade_in, _write_output
from tradein_sdk._errors import TradeInError

if TYPE_CHECKING:
    import argparse

    from tradein_sdk._remote.service import TradeInService


def _serve_command(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415 - loaded by its sub-command only
    import os  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._remote.service import ApiKeys, configure_logging, create_service  # noqa: PLC0415 - loaded by its sub-command only

    keys = ApiKeys.parse(",".join(args.api_key)) if args.api_key else None
    trade_in = _trade_in(args)  # creates the database, its migrations and the key file once, before workers
    try:
        service = create_service(trade_in, api_keys=keys)
    except TradeInError:
        trade_in.close()
        raise
    configure_logging()
    gunicorn_runs = os.name == "posix" and importlib.util.find_spec("gunicorn") is not None
    # Port 0 (any free port) runs the development server too: it prints the port it took; gunicorn cannot.
    if args.dev or args.port == 0 or not gunicorn_runs:
        if not args.dev and args.port != 0:
            print("gunicorn cannot run here: serving with the development server", file=sys.stderr)
        return _serve_development(args, service)
    trade_in.close()
    _exec_gunicorn(args)  # pragma: no cover - the process becomes gunicorn (tested in a subprocess)
    return 0  # pragma: no cover


def _serve_development(args: argparse.Namespace, service: TradeInService) -> int:
    from tradein_sdk._remote.service import serve  # noqa: PLC0415 - loaded by its sub-command only

    def ready(port: int) -> None:
        print(f"trade-in service on http://{args.host}:{port}/v1 (Ctrl+C stops it)", flush=True)

    try:
        serve(service, host=args.host, port=args.port, ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        service.trade_in.close()
    return 0


def _no_control_socket() -> list[str]:
    """``--no-control-socket`` on gunicorn 25.1+: its one socket path per user clashes between services."""
    from importlib.metadata import version  # noqa: PLC0415 - loaded by its sub-command only

    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in version("gunicorn").split("."))
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def _exec_gunicorn(args: argparse.Namespace) -> None:  # pragma: no cover - replaces the process
    """Become a gunicorn master serving the service; its workers read the configuration from the environment.

    The library imports no web framework (see the import contracts): gunicorn runs as ``python -m gunicorn``
    with the service's application factory.
    """
    import os  # noqa: PLC0415 - loaded by its sub-command only
    import tempfile  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._app.facade import DATA_DIR_ENV  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._remote.service import (  # noqa: PLC0415 - loaded by its sub-command only
        API_KEYS_ENV,
        MARKET_ENV,
        MAX_BODY_ENV,
        MULTIPROCESS_ENV,
    )

    env = dict(os.environ)
    if args.api_key:
        env[API_KEYS_ENV] = ",".join(args.api_key)
    if args.data_dir:
        env[DATA_DIR_ENV] = str(Path(args.data_dir).resolve())
    env[MARKET_ENV] = args.market
    env[MAX_BODY_ENV] = str(args.max_body_bytes)
    if not env.get(MULTIPROCESS_ENV):  # counters summed over the workers; a fresh directory per start
        env[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="tradein-metrics-")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        str(args.timeout),
        "--graceful-timeout",
        str(args.graceful_timeout),
        "--keep-alive",
        str(args.keep_alive),
        "--limit-request-line",
        str(args.limit_request_line),
        "--limit-request-fields",
        str(args.limit_request_fields),
        "--limit-request-field_size",
        str(args.limit_request_field_size),
        *_no_control_socket(),
        "tradein_sdk._remote.service:create_server_application()",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - our own interpreter, running gunicorn


def _worker_command(args: argparse.Namespace) -> int:
    import threading  # noqa: PLC0415 - loaded by its sub-command only
    from datetime import timedelta  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._app.facade import TradeIn  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._app.worker import install_stop_signals, run_worker  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._remote.service import configure_logging, webhook_endpoints_from  # noqa: PLC0415 - loaded by its sub-command only

    configure_logging()  # passes, ticks and give-ups on standard error ($TRADEIN_LOG_FORMAT=json)
    trade_in = TradeIn.embedded(args.data_dir, webhook_endpoints=webhook_endpoints_from(os.environ))
    stop = threading.Event()
    restore = install_stop_signals(stop)
    try:
        report = run_worker(
            trade_in,
            stop=stop,
            poll_interval=args.poll,
            batch=args.batch,
            concurrency=args.concurrency,
            tick_every=timedelta(seconds=args.tick_every) if args.tick_every > 0 else None,
            timeout=args.timeout,
        )
    finally:
        restore()
        trade_in.close()
    print(report)
    return 0


def _openapi_command(args: argparse.Namespace) -> int:
    from tradein_sdk._remote.openapi import openapi_text  # noqa: PLC0415 - the service's modules load late

    return _write_output(openapi_text().encode(), args.output, binary=False)


def _add_serve_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    serve = _command(
        commands,
        "serve",
        "run the trade-in service (HTTP API) on the embedded engine and store",
        handler=_serve_command,
        description=(
            "Serve the trade-in HTTP API (OpenAPI document at /v1/openapi.json). API keys come from "
            "--api-key or $TRADEIN_API_KEYS (client=key pairs separated by commas); the database from "
            "--data-dir or $TRADEIN_DATABASE_URL. Runs on gunicorn (worker processes, timeouts, header "
            "and body limits; put a buffering proxy in front of it on the internet); --dev runs the "
            "threaded development server. /healthz, /readyz and /metrics need no key: firewall /metrics "
            "or set $TRADEIN_METRICS_KEY."
        ),
        data_dir=True,
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=8080,
        help="the port (default 8080; 0: any free port, on the development server)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="CLIENT=KEY",
        help="accept this key for this client (repeatable; default: $TRADEIN_API_KEYS)",
    )
    serve.add_argument("--market", default="DE", help="the default market (default DE)")
    serve.add_argument(
        "--dev", action="store_true", help="the threaded development server instead of gunicorn"
    )
    server = serve.add_argument_group("gunicorn (production server)")
    for flag, default, text in (
        ("--workers", 2, "worker processes"),
        ("--threads", 1, "threads per worker (more than 1: gunicorn's gthread workers)"),
        ("--timeout", 30, "seconds a worker may spend on one request, body included, before it is restarted"),
        ("--graceful-timeout", 30, "seconds workers have to finish their requests on a restart or stop"),
        ("--keep-alive", 5, "seconds an idle keep-alive connection stays open"),
        ("--limit-request-line", 8190, "longest request line, in bytes"),
        ("--limit-request-fields", 100, "most header fields in a request"),
        ("--limit-request-field-size", 8190, "longest header field, in bytes"),
        ("--max-body-bytes", 1 << 20, "largest request body, in bytes (413 above it)"),
    ):
        server.add_argument(flag, type=int, default=default, help=f"{text} (default {default})")

    worker = _command(
        commands,
        "worker",
        "deliver webhooks and run the deadlines, until stopped (SIGTERM, Ctrl-C)",
        handler=_worker_command,
        description=(
            "Claims due webhooks in batches (several workers on one PostgreSQL share them: FOR UPDATE SKIP "
            "LOCKED), sends them concurrently with retries and dead letters, and runs tick() once per slot "
            "across all workers. Endpoints come from $TRADEIN_WEBHOOK_URLS as for the service."
        ),
        data_dir=True,
    )
    worker.add_argument("--concurrency", type=int, default=8, help="sends at once (default 8)")
    worker.add_argument("--batch", type=int, default=100, help="webhooks claimed per pass (default 100)")
    worker.add_argument(
        "--poll", type=float, default=1.0, help="seconds between passes when idle (default 1)"
    )
    worker.add_argument(
        "--tick-every", type=float, default=60.0, help="seconds between deadline runs (0: none)"
    )
    worker.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per webhook request (default 10)"
    )

    openapi = _command(
        commands,
        "openapi",
        "print or write the OpenAPI 3.1 document of the trade-in service",
        handler=_openapi_command,
        json="print JSON (it always is)",
    )
    openapi.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
