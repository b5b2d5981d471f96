"""Client benchmark: TradeInClient calls per second over keep-alive, against raw httpx to the same endpoint.

Run: ``.venv/bin/python benchmarks/bench_client.py [--calls N]``. The service runs in its own process
(``tradein serve`` on a free loopback port, a SQLite file), so client and server do not share a GIL. For
each endpoint the two callers alternate in rounds (A B A B ...), each on one keep-alive connection, and
the figure is the median round:

- **raw httpx**: ``httpx.Client.request`` with the same headers (the API key, and for a POST a fresh
  ``Idempotency-Key``, so the service does the same work) and ``response.json()``;
- **TradeInClient**: the typed call: request preparation, the retry loop, the JSON decode, structuring
  the answer into the library's types with cattrs, error mapping.

Endpoints: ``POST /v1/quotes/verify`` (a small answer: the token's claims) and ``GET /v1/quotes/{id}``
(a stored quote: about 6 KB of JSON structured into a ``StoredQuote``). The overhead is
``1 - client rate / raw rate``; the target is under 10 %.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import TYPE_CHECKING

import httpx

from grading_questionnaire import example_answers
from tradein_sdk import TradeInClient

if TYPE_CHECKING:
    from collections.abc import Callable

KEY = "benchmark-key-0123456789"
ROUNDS = 7


def start_service(folder: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``tradein serve`` on a free port; return the process and its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradein_sdk._cli",
            "serve",
            "--port",
            "0",
            "--data-dir",
            folder,
            "--api-key",
            f"bench={KEY}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline() if process.stdout is not None else ""
    return process, line.split(" on ", 1)[1].split(" ", 1)[0].removesuffix("/v1")


def rate(call: Callable[[], object], calls: int) -> float:
    """Calls per second of ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return calls / (time.perf_counter() - started)


def compare(name: str, raw: Callable[[], object], typed: Callable[[], object], calls: int) -> None:
    """Alternate rounds of both callers; print the median rates and the overhead."""
    for call in (raw, typed):  # warm-up: connections, caches, first-use imports
        rate(call, 50)
    raw_rates, typed_rates = [], []
    for _ in range(ROUNDS):
        raw_rates.append(rate(raw, calls))
        typed_rates.append(rate(typed, calls))
    raw_rate, typed_rate = statistics.median(raw_rates), statistics.median(typed_rates)
    overhead = 1 - typed_rate / raw_rate
    print(
        f"{name:<28} raw httpx {raw_rate:8.0f}/s ({1e3 / raw_rate:.2f} ms)   "
        f"TradeInClient {typed_rate:8.0f}/s ({1e3 / typed_rate:.2f} ms)   "
        f"ratio {typed_rate / raw_rate:.3f}   overhead {overhead:6.1%}"
    )


def main() -> None:
    """Run the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="calls per round (default 400)")
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        process, base_url = start_service(folder)
        try:
            client = TradeInClient(base_url=base_url, api_key=KEY)
            raw = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"})
            issued = client.quote("apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers)
            body = {"token": issued.token}

            def raw_verify() -> object:
                headers = {"Idempotency-Key": str(uuid.uuid4())}
                return raw.post("/v1/quotes/verify", json=body, headers=headers).json()

            def raw_quote() -> object:
                return raw.get(f"/v1/quotes/{issued.quote.id}").json()

            print(f"{ROUNDS} alternating rounds of {calls} calls, one keep-alive connection each")
            compare("POST /v1/quotes/verify", raw_verify, lambda: client.verify_token(issued.token), calls)
            compare("GET /v1/quotes/{id}", raw_quote, lambda: client.get_quote(issued.quote.id), calls)
            client.close()
            raw.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
