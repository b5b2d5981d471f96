"""``tradein ledger``: an order's settlement ledger, the period report, bill-credit runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _actions, _command, _day, _json_format, _print_json, _trade_in

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tradein_sdk._app.facade import TradeIn


def _ledger(action: Callable[[TradeIn, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A ledger action run on the facade of ``--data-dir`` (which must hold stored data)."""

    def run(args: argparse.Namespace) -> int:
        trade_in = _trade_in(args, reads=True)
        try:
            return action(trade_in, args)
        finally:
            trade_in.close()

    return run


def _ledger_show(trade_in: TradeIn, args: argparse.Namespace) -> int:
    from tradein_sdk._app.ledger import balance_json  # noqa: PLC0415 - loaded by its sub-command only

    ledger = trade_in.ledger(args.order_id)
    if args.json:
        _print_json(ledger.to_json())
        return 0
    print(f"ledger of order {ledger.order_id} ({ledger.currency})")
    for entry in ledger.entries:
        where = entry.device_id or "order"
        extra = f" due {entry.due_period}" if entry.due_period else ""
        print(f"  {entry.at.isoformat()}  {where:5}  {entry.kind.value:26} {entry.amount}{extra}")
    for name, value in balance_json(ledger.total).items():
        print(f"  {name:12} {value['amount']} {value['currency']}")
    return 0


def _ledger_stop(trade_in: TradeIn, args: argparse.Namespace) -> int:
    from tradein_sdk._app.ledger import entry_json  # noqa: PLC0415 - loaded by its sub-command only

    stopped = trade_in.stop_installments(args.order_id, reason=args.reason)
    if args.json:
        _print_json({"order_id": args.order_id, "stopped": [entry_json(entry) for entry in stopped]})
        return 0
    print(f"stopped {len(stopped)} installment(s) of {args.order_id}")
    return 0


def _ledger_report(trade_in: TradeIn, args: argparse.Namespace) -> int:
    report = trade_in.ledger_report(args.start, args.end)
    if args.format == "json":
        _print_json(report.to_json())
    else:
        sys.stdout.write(report.to_csv())
    return 0 if report.ties_out else 1


def _ledger_installments(trade_in: TradeIn, args: argparse.Namespace) -> int:
    from tradein_sdk._app.ledger import entry_json  # noqa: PLC0415 - loaded by its sub-command only

    if args.credit:
        count, totals = trade_in.credit_installments(args.period)
        if args.json:
            _print_json(
                {
                    "period": args.period,
                    "credited": count,
                    "totals": [total.to_json() for total in totals.values()],
                }
            )
            return 0
        amounts = ", ".join(str(total) for total in totals.values()) or "nothing"
        print(f"credited {count} installment(s) due by {args.period}: {amounts}")
        return 0
    due = [entry for _, entry in trade_in.installments_due(args.period, limit=100_000)]
    if args.json:
        _print_json([entry_json(entry) for entry in due])
        return 0
    for entry in due:
        print(f"{entry.order_id} {entry.device_id} {entry.due_period} {entry.amount}")
    return 0


def _add_ledger_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    ledger = _command(
        commands,
        "ledger",
        "the settlement ledger: an order's ledger, the period report, bill-credit runs",
    )
    actions = _actions(ledger, "ledger_command")
    show = _command(
        actions,
        "show",
        "every entry and balance of an order",
        handler=_ledger(_ledger_show),
        json="print JSON",
        data_dir=True,
    )
    show.add_argument("order_id", metavar="ORDER_ID")
    report = _command(
        actions,
        "report",
        "the shop's period report, with totals that tie out (exit 1 when they do not)",
        handler=_ledger(_ledger_report),
        data_dir=True,
    )
    report.add_argument(
        "--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD", help="the first day"
    )
    report.add_argument(
        "--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD", help="the day after the last"
    )
    report.add_argument("--format", choices=["csv", "json"], default="csv")
    _json_format(report)
    installments = _command(
        actions,
        "installments",
        "the bill credits due by a period; --credit credits them, each once",
        handler=_ledger(_ledger_installments),
        json="print JSON",
        data_dir=True,
    )
    installments.add_argument("--period", required=True, metavar="YYYY-MM", help="the billing period")
    installments.add_argument("--credit", action="store_true", help="credit the installments due")
    stop = _command(
        actions,
        "stop",
        "stop the installments left of an order (the contract ended)",
        handler=_ledger(_ledger_stop),
        json="print JSON",
        data_dir=True,
    )
    stop.add_argument("order_id", metavar="ORDER_ID")
    stop.add_argument("--reason", default="contract_ended", help="why (default contract_ended)")
