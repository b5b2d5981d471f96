"""CO2 report benchmark: a company report over 100,000 devices, against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_co2.py [--devices 100000]``. Figures (time, and the process's
peak resident memory after each step):

- **device results**: ``device_co2`` for every device (models drawn from the bundled catalog, a seventh
  recycled), against the **baseline** of reading the same devices' footprint rows alone
  (``CO2Factors.footprint``), the lookup every result starts from;
- **report document**: ``co2_report_document`` (totals, months, categories, factor rows, one row per device);
- **CSV**: ``co2_report_csv``;
- **signature**: ``sign_document`` over the whole report (RFC 8785 canonical JSON, Ed25519), against the
  baseline of ``json.dumps`` of the same document;
- **PDF**: ``co2_report_pdf`` with its chart, when matplotlib is installed.

The store is left out: reading the orders is the listing benchmark's (``bench_orders.py``).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tradein_sdk._domain.catalog import Catalog
from tradein_sdk._domain.co2 import (
    CO2Entry,
    CO2Factors,
    EntryStatus,
    Outcome,
    co2_report_csv,
    co2_report_document,
    device_co2,
)
from tradein_sdk._domain.signing import SigningKeys, sign_document

if TYPE_CHECKING:
    from collections.abc import Callable


def measured(label: str, action: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``action`` once; print and return its result, seconds and the process's peak RSS (MiB) after it."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<44} {seconds:8.2f} s  {mib:8.1f} MiB peak RSS")
    return result, seconds, mib


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=int, default=100_000)
    args = parser.parse_args()
    factors = CO2Factors.bundled()
    devices = [
        (model.id, model.category.value, variant.storage_gb, variant.id)
        for model in Catalog.bundled()
        for variant in model.variants
    ]
    count: int = args.devices
    picks = [devices[(index * 7919) % len(devices)] for index in range(count)]

    def lookups() -> int:
        for model_id, category, storage, _ in picks:
            factors.footprint(model_id=model_id, category=category, storage_gb=storage)
        return count

    memo: dict[tuple[str, Outcome], Any] = {}

    def computed(model_id: str, category: str, storage: int, variant_id: str, outcome: Outcome) -> Any:  # noqa: ANN401
        return device_co2(
            factors,
            model_id=model_id,
            category=category,
            storage_gb=storage,
            variant_id=variant_id,
            outcome=outcome,
        )

    def memoised(model_id: str, category: str, storage: int, variant_id: str, outcome: Outcome) -> Any:  # noqa: ANN401
        key = (variant_id, outcome)  # as TradeIn.co2_entries does: one result per variant and outcome
        if key not in memo:
            memo[key] = computed(model_id, category, storage, variant_id, outcome)
        return memo[key]

    def entries_with(result_of: Callable[..., Any]) -> Callable[[], list[CO2Entry]]:
        def build() -> list[CO2Entry]:
            return [
                CO2Entry(
                    order_id=f"ord_{index:020d}",
                    device_id="d1",
                    completed_at=datetime(2026, 1 + index % 12, 1 + index % 28, tzinfo=UTC),
                    status=EntryStatus.FINAL,
                    result=result_of(*pick, Outcome.RECYCLE if index % 7 == 0 else Outcome.REUSE),
                )
                for index, pick in enumerate(picks)
            ]

        return build

    print(f"{count} devices over 12 months, {len(devices)} catalog variants")
    _, baseline, _ = measured("baseline: footprint lookups", lookups)
    _, seconds, _ = measured("device results, each computed (device_co2)", entries_with(computed))
    print(f"{'':<44} ratio {seconds / baseline:6.1f}x the lookups")
    entries, seconds, _ = measured("device results, one per variant and outcome", entries_with(memoised))
    print(f"{'':<44} ratio {seconds / baseline:6.1f}x the lookups")
    document, _, _ = measured(
        "report document",
        lambda: co2_report_document(
            entries,
            factors=factors,
            company="ACME GmbH",
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            generated_at=datetime.now(UTC),
        ),
    )
    measured("CSV", lambda: co2_report_csv(entries))
    _, plain, _ = measured("baseline: json.dumps of the document", lambda: json.dumps(document))
    keys = SigningKeys.generate()
    _, signing, _ = measured(
        "signature (RFC 8785 + Ed25519)", lambda: sign_document(document, keys, purpose="co2-report")
    )
    print(f"{'':<44} ratio {signing / plain:6.1f}x json.dumps")
    try:
        from tradein_sdk._adapters.co2_pdf import co2_report_pdf  # noqa: PLC0415 - optional
    except ImportError:
        print("PDF: skipped (tradein_sdk._adapters.co2_pdf is not available)")
        return
    try:
        measured("PDF with chart", lambda: co2_report_pdf(document))
    except Exception as exc:  # noqa: BLE001 - a missing extra is reported, not raised
        print(f"PDF: skipped ({exc})")


if __name__ == "__main__":
    main()
