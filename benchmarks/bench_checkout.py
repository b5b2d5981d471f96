"""Checkout benchmark: a checkout summary with two trade-ins, two promotions and the insurance offers.

Run: ``.venv/bin/python benchmarks/bench_checkout.py``. The summary is built in-process from stored quotes
(SQLite file): quotes read back, promotions evaluated per trade-in, insurance offers priced, clawback terms
computed, the summary signed. Printed with a baseline measured in the same run: building the same summary
with :func:`build_checkout` alone, from quotes and promotions already in memory (the pure arithmetic).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from grading_questionnaire import example_answers
from tradein_sdk import (
    CheckoutRequest,
    FixedClock,
    KeyRing,
    Money,
    NewDevice,
    SQLStore,
    TradeIn,
    build_checkout,
)
from tradein_sdk._domain.promotions import parse_promotions

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PROMOTIONS = {
    "promotions_id": "bench",
    "version": "1",
    "market": "DE",
    "currency": "EUR",
    "promotions": [
        {
            "id": "bonus",
            "title": "Bonus",
            "kind": "fixed_bonus",
            "stacking": "combinable",
            "amount": {"amount": "50.00", "currency": "EUR"},
        },
        {
            "id": "percent",
            "title": "Ten percent",
            "kind": "percent_bonus",
            "stacking": "combinable",
            "percent": "10",
            "cap": {"amount": "40.00", "currency": "EUR"},
        },
    ],
}


def per_call(function: object, repeat: int) -> float:
    """Median of five runs of the mean seconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()  # type: ignore[operator]
        runs.append((time.perf_counter() - start) / repeat)
    return statistics.median(runs)


def main() -> None:
    """Print summaries per second and µs per summary, against the pure build."""
    with tempfile.TemporaryDirectory() as directory:
        shop = TradeIn(
            store=SQLStore.sqlite_file(Path(directory) / "bench.sqlite3"),
            key_ring=KeyRing.generate(key_id="k1"),
            audience="shop",
            clock=FixedClock(NOW),
            promotions=parse_promotions(PROMOTIONS),
        )
        quotes = (
            shop.quote("apple-iphone-13-128gb", example_answers("smartphone", "worn").answers).quote,
            shop.quote("samsung-galaxy-s23-128gb", example_answers("smartphone", "flawless").answers).quote,
        )
        device = NewDevice(
            sku="SM-S931B-256",
            name="Samsung Galaxy S25 256 GB",
            brand="Samsung",
            category="smartphone",
            price=Money("999.00", "EUR"),
        )
        request = CheckoutRequest(quote_ids=tuple(quote.id for quote in quotes), new_device=device)
        offers = shop.insurance_offers(request)
        request = CheckoutRequest(
            quote_ids=request.quote_ids, new_device=device, insurance_offer_id=offers[0].offer_id
        )
        summary = shop.checkout(request)
        assert len(summary.trade_ins) == 2 and len(summary.trade_ins[0].promotions) == 2  # noqa: S101, PT018
        assert len(summary.insurance_offers) >= 3  # noqa: S101
        promotions = [(trade_in.promotions, trade_in.rejected) for trade_in in summary.trade_ins]

        def pure() -> object:
            return build_checkout(
                request,
                checkout_id="chk_bench",
                now=NOW,
                quotes=quotes,
                promotions=promotions,
                insurance_offers=offers,
                clawback=shop.clawback_policy,
                send_by_days=14,
            )

        ours, baseline = per_call(lambda: shop.checkout(request), 300), per_call(pure, 3000)
        shop.close()
    print(
        f"checkout summary (2 trade-ins, 2 promotions each, {len(summary.insurance_offers)} offers): "
        f"{ours * 1e6:8.1f} µs  {1 / ours:8,.0f} /s  (pure build_checkout {baseline * 1e6:.1f} µs, "
        f"ratio {ours / baseline:.1f})"
    )


if __name__ == "__main__":
    main()
