"""``tradein co2``: CO2e avoided by device reuse per device, order and period, and signed reports verified."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import (
    UsageError,
    _actions,
    _command,
    _day,
    _json_format,
    _locale,
    _print_json,
    _read_bytes,
    _trade_in,
    _write_file,
)
from tradein_sdk._cli._signed import _add_verify_command, _valid_document, _verified

if TYPE_CHECKING:
    import argparse

    from tradein_sdk._domain.co2 import DeviceCO2


def _kg(value: Any) -> str:  # noqa: ANN401 - a Decimal
    return f"{value:.1f} kg"


def _print_device_co2(result: DeviceCO2, *, title: str) -> None:
    avoided = result.avoided
    if result.outcome.value == "reuse":
        print(
            f"{title}: reuse, ≈ {_kg(avoided.central)} CO2e avoided (range {_kg(avoided.low)} to "
            f"{_kg(avoided.high)}; {_kg(result.avoided_full_displacement)} at full displacement)"
        )
    else:
        print(
            f"{title}: {result.outcome.value}, nothing claimed as avoided; end-of-life treatment "
            f"{_kg(result.treatment.central)} CO2e, reported apart for the inventory"
        )
    print(f"  basis: {result.basis.value} ({result.factor_ref}); {result.method}; {result.factors_version}")
    for line in result.lines:
        counted = "" if line.counted else " (reported apart, not netted)"
        print(f"  {line.kg.central:>10.3f} kg  {line.label}{counted}")
        print(f"              sources: {'; '.join(line.sources) or '-'} · refs: {', '.join(line.refs)}")
        if line.assumption:
            print(f"              assumption: {line.assumption}")


def _co2_device_command(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - loaded by its sub-command only

    try:
        years = None if args.years is None else Decimal(args.years)
    except InvalidOperation as exc:
        raise UsageError(f"--years: {args.years!r} is not a number") from exc
    trade_in = _trade_in(args)
    try:
        result = trade_in.device_co2(
            args.device_id, outcome=args.outcome, second_life_years=years, parts=args.part
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json(result.to_json())
    else:
        _print_device_co2(result, title=args.device_id)
    return 0


def _co2_order_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        result = trade_in.order_co2(args.order_id)
    finally:
        trade_in.close()
    if args.json:
        _print_json(result.to_json())
        return 0
    totals = result.totals
    state = "complete" if result.complete else f"still under way: {', '.join(result.pending)}"
    print(
        f"{result.order_id}: {totals.devices} device(s) counted, "
        f"≈ {_kg(totals.avoided.central)} CO2e avoided "
        f"(range {_kg(totals.avoided.low)} to {_kg(totals.avoided.high)}); {state}"
    )
    if result.excluded:
        print(f"  left out (no second life through the shop): {', '.join(result.excluded)}")
    for entry in result.entries:
        _print_device_co2(entry.result, title=f"  {entry.device_id} ({entry.status.value})")
    return 0


def _co2_report_command(args: argparse.Namespace) -> int:
    start, end = args.start, args.end
    show = sys.stderr.isatty() or args.progress

    def progress(read: int) -> None:
        if show:
            print(f"read {read} orders", file=sys.stderr, flush=True)

    trade_in = _trade_in(args, reads=True)
    try:
        entries = trade_in.co2_entries(start, end, progress=progress)
        if args.format == "csv":
            from tradein_sdk._domain.co2 import co2_report_csv  # noqa: PLC0415 - loaded by its sub-command only

            data = co2_report_csv(entries).encode()
        elif args.format == "pdf":  # a rendering of the figures; the signed JSON is what an auditor checks
            from tradein_sdk._adapters.co2_pdf import co2_report_pdf  # noqa: PLC0415 - loaded by its sub-command only

            document = trade_in._co2_document(  # noqa: SLF001
                entries, start=start, end=end, company=args.company, locale=_locale(args)
            )
            data = co2_report_pdf(document, locale=_locale(args))
        else:
            envelope = trade_in._signed_co2_report(  # noqa: SLF001 - the CLI reads the entries with progress
                entries, start=start, end=end, company=args.company
            )
            data = (json.dumps(envelope, indent=2, ensure_ascii=False) + "\n").encode()
    finally:
        trade_in.close()
    if args.output in (None, "-") and args.format != "pdf":
        sys.stdout.write(data.decode())
        return 0
    output = Path(args.output or f"co2-report-{start}-{end}.{args.format}")
    _write_file(output, data)
    print(f"wrote {output}")
    return 0


def _co2_verify_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.co2 import REPORT_PURPOSE  # noqa: PLC0415 - loaded by its sub-command only

    payload = _verified(args, _read_bytes(args.file), REPORT_PURPOSE)
    if isinstance(payload, int):
        return payload
    totals = payload.get("totals", {})
    return _valid_document(
        args,
        payload,
        f"valid CO2 report for {payload.get('company')} "
        f"{payload.get('period', {}).get('start')} to {payload.get('period', {}).get('end')}: "
        f"{totals.get('devices')} devices, {totals.get('avoided_kg', {}).get('central')} kg CO2e avoided",
    )


def _add_co2_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    co2 = _command(
        commands,
        "co2",
        "CO2e avoided by device reuse: per device, order and period, with cited factors",
        description=(
            "Avoided emissions (outside any Scope-3 inventory) with a low/central/high range; every term "
            "cites its factor row and source (tradein_sdk/data/co2-factors.json, method tradein-co2-1)."
        ),
    )
    actions = _actions(co2, "co2_command")
    device = _command(
        actions,
        "device",
        "the CO2 result of a catalog device",
        handler=_co2_device_command,
        json="print JSON",
        data_dir=True,
    )
    device.add_argument("device_id", metavar="DEVICE_ID", help="a catalog variant or model id")
    device.add_argument("--outcome", choices=("reuse", "parts", "recycle"), default="reuse")
    device.add_argument("--years", metavar="N", help="years of second life (default: the scenario's range)")
    device.add_argument(
        "--part",
        action="append",
        default=[],
        metavar="PART",
        help="a spare part replaced (battery, display, ...)",
    )
    order = _command(
        actions,
        "order",
        "the CO2 result of an order's bought and recycled devices",
        handler=_co2_order_command,
        json="print JSON",
        data_dir=True,
    )
    order.add_argument("order_id", metavar="ORDER_ID")
    report = _command(
        actions,
        "report",
        "the signed report of a period (JSON), its devices (CSV) or a PDF with a chart",
        handler=_co2_report_command,
        description=(
            "The signed report of a period (JSON), its devices (CSV) or a PDF with a chart. Progress goes to "
            "standard error (when it is a terminal, or with --progress)."
        ),
        data_dir=True,
        locale="the PDF",
    )
    report.add_argument(
        "--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD", help="the first day"
    )
    report.add_argument(
        "--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD", help="the last day"
    )
    report.add_argument("--company", help="whom the report is for (default: the organisation)")
    report.add_argument("--format", choices=("json", "csv", "pdf"), default="json")
    _json_format(report)
    report.add_argument(
        "--output", "-o", metavar="OUT", help="the file to write (default: stdout; PDF: a file)"
    )
    report.add_argument("--progress", action="store_true", help="report progress on stderr")
    _add_verify_command(actions, "verify a signed CO2 report offline", _co2_verify_command)
