"""Fleet benchmark: import and portfolio quote of 100,000 devices, against single quotes in the same run.

Run: ``.venv/bin/python benchmarks/bench_fleet.py [--devices 100000] [--database-url URL]``. Figures (time,
and the process's peak resident memory after each step):

- **write the list**: a German Excel CSV (BOM, semicolons) of the devices: IMEIs with spaces, 30 models of
  the bundled catalog, grades mixed, asset tags and cost centres;
- **import**: ``read_assets`` (delimiter sniffing, header aliases, model resolution, IMEI check digits and
  TACs, duplicate checks);
- **portfolio quote**: ``fleet_quote`` on the imported rows (grading and pricing per distinct device and
  answers, the range one grade worse, the lines' digest and the signature, 100,000 lines stored);
- **baseline**: ``TradeIn.quote`` for single devices in-process (grade, price, sign, store one quote), the
  cost a shop pays per device today; the ratio is the portfolio's cost per device against it.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stdnum import luhn

from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._domain.credit_notes import SelfBillingAgreement
from tradein_sdk._domain.fleet import Address, FrameworkContract
from tradein_sdk._domain.fleet_import import read_assets

if TYPE_CHECKING:
    from collections.abc import Callable

GRADES = ("sehr gut", "gut", "B", "C", "D")


def measured(label: str, action: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``action`` once; print and return its result, seconds and the process's peak RSS (MiB) after it."""
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<44} {seconds:8.2f} s  {mib:8.1f} MiB peak RSS")
    return result, seconds, mib


def asset_list(trade_in: TradeIn, devices: int) -> bytes:
    """A CSV of ``devices`` rows over 30 catalog smartphones (TACs the catalog does not know)."""
    models = [
        (model.variants[0].id, f"9900{number:04d}")
        for number, model in enumerate(trade_in.catalog.models)
        if model.category.value == "smartphone"
    ][:30]
    lines = ["\ufeffIMEI;Modell;Inventarnummer;Kostenstelle;Sperre aufgehoben;Zustand"]
    for index in range(devices):
        variant, tac = models[index % len(models)]
        body = tac[:8].ljust(8, "0") + f"{index:06d}"
        imei = body + luhn.calc_check_digit(body)
        lines.append(
            f"{imei[:8]} {imei[8:]};{variant};INV-{index:06d};{4700 + index % 40};ja;"
            f"{GRADES[index % len(GRADES)]}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=200, help="single quotes for the baseline")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    clock = FixedClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as folder:
        trade_in = TradeIn.embedded(Path(folder), clock=clock, database_url=args.database_url)
        company = trade_in.open_company(
            "Benchmark GmbH",
            Address(street="Weg 1", postcode="10115", city="Berlin", country="DE"),
            vat_status="regular",
            vat_id="DE136695976",
            contract=FrameworkContract(
                reference="bench",
                price_factor=Decimal("1.03"),
                self_billing=SelfBillingAgreement(version="1", accepted_at=clock.now()),
            ),
        )
        data, _, _ = measured(
            f"write the list ({args.devices:,} rows)", lambda: asset_list(trade_in, args.devices)
        )
        imported, import_s, _ = measured(
            "import (read_assets)", lambda: read_assets(data, catalog=trade_in.catalog, filename="assets.csv")
        )
        assert not imported.problems, imported.problems[:3]  # noqa: S101 - a benchmark's own check
        portfolio, quote_s, mib = measured(
            "portfolio quote (fleet_quote, stored, signed)",
            lambda: trade_in.fleet_quote(company.id, imported),
        )
        first = imported.rows[0]
        answers = portfolio.lines[0].answers

        def singles() -> None:
            for _ in range(args.singles):
                trade_in.quote(first.variant_id, answers)

        _, single_s, _ = measured(f"baseline: {args.singles} single quotes (TradeIn.quote)", singles)
        trade_in.close()
    per_device = (import_s + quote_s) / args.devices * 1000
    per_single = single_s / args.singles * 1000
    print()
    print(f"devices: {args.devices:,}; total {portfolio.totals.amount}; peak RSS {mib:.0f} MiB")
    print(f"import + portfolio quote: {import_s + quote_s:.2f} s = {per_device:.3f} ms per device")
    print(f"single in-process quote: {per_single:.3f} ms per device")
    print(f"ratio (portfolio per device / single quote): {per_device / per_single:.3f}")


if __name__ == "__main__":
    main()
