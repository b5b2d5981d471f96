"""Foundation benchmarks: import time, catalog load and validation, free-text search.

Run: ``.venv/bin/python benchmarks/bench_foundation.py``. Each figure is printed with a baseline measured in
the same run on the same machine:

- ``import tradein_sdk`` in a fresh interpreter against ``import httpx`` (median of many runs);
- loading and validating the bundled catalog (schema, values, rules, structuring) against ``json.loads`` of
  the same file; the first load in a process also compiles the schema validator;
- one free-text search against a naive scan that checks every query word as a substring of every model name.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from tradein_sdk import Catalog
from tradein_sdk._domain.catalog import BUNDLED_CATALOG, parse_catalog_document

if TYPE_CHECKING:
    from collections.abc import Callable

IMPORT_RUNS = 15
QUERIES = (
    "iphone 13 128",
    "galaxy s23 ultra",
    "Apple Uhr Serie 9",
    "pixel 7a",
    "iPad 10. Generation",
    "iphnoe 15 pro",
    "Galaxy Z Flip4 256 GB",
    "fairphone",
)


def import_seconds(module: str) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(IMPORT_RUNS)
    ]
    return statistics.median(samples)


def per_call(function: Callable[[], object], repeat: int) -> float:
    """Best-of-five mean seconds per call of ``function`` over ``repeat`` calls."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    """Print every figure and its ratio to the baseline."""
    ours, httpx_import = import_seconds("tradein_sdk"), import_seconds("httpx")
    print(
        f"import tradein_sdk          {ours * 1e3:8.1f} ms   (import httpx {httpx_import * 1e3:.1f} ms, "
        f"ratio {ours / httpx_import:.2f}; target < 100 ms)"
    )

    text = BUNDLED_CATALOG.read_text(encoding="utf-8")
    start = time.perf_counter()
    parse_catalog_document(json.loads(text), origin="bench")
    cold = time.perf_counter() - start
    warm = per_call(lambda: parse_catalog_document(json.loads(text), origin="bench"), 20)
    raw = per_call(lambda: json.loads(text), 200)
    models = len(Catalog.bundled())
    print(
        f"catalog load + validation   {warm * 1e3:8.2f} ms   ({models} models; first in process "
        f"{cold * 1e3:.1f} ms incl. schema compile; json.loads {raw * 1e3:.2f} ms, ratio {warm / raw:.1f})"
    )

    catalog = Catalog.bundled()
    catalog.search("warm up")
    names = [model.display_name.casefold() for model in catalog]

    def naive(query: str) -> list[str]:
        words = query.casefold().split()
        return [name for name in names if all(word in name for word in words)]

    ours_search = statistics.mean(per_call(functools.partial(catalog.search, q), 200) for q in QUERIES)
    naive_search = statistics.mean(per_call(functools.partial(naive, q), 200) for q in QUERIES)
    print(
        f"free-text search            {ours_search * 1e6:8.1f} µs   (per query, {len(QUERIES)} queries; "
        f"naive substring scan {naive_search * 1e6:.1f} µs, ratio {ours_search / naive_search:.1f}; "
        f"{1 / ours_search:,.0f} searches/s)"
    )


if __name__ == "__main__":
    main()
