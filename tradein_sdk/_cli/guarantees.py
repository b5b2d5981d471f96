"""``tradein guarantees``: buy-back guarantees sold with new devices, and what they may cost."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import (
    _actions,
    _command,
    _day,
    _json_format,
    _print_json,
    _read_bytes,
    _trade_in,
    _write_output,
)
from tradein_sdk._cli._signed import _add_verify_command, _valid_document, _verified

if TYPE_CHECKING:
    import argparse
    from datetime import date


def _guarantee_offers_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.money import Money  # noqa: PLC0415 - loaded by its sub-command only

    trade_in = _trade_in(args)
    try:
        offers = trade_in.offer_guarantees(
            args.device_id,
            Money(args.price, args.currency),
            channel=args.channel,
            customer_case=args.customer_case,
            financed_amount=Money(args.financed, args.currency) if args.financed else None,
        )
    finally:
        trade_in.close()
    if args.json:
        from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415

        _print_json([json_converter().unstructure(offer) for offer in offers])
        return 0
    if not offers:
        print("no guarantee plan covers this purchase")
    for offer in offers:
        print(f"{offer.plan_id}: {offer.name} (terms {offer.terms_version}), fee {offer.fee}")
        for line in offer.schedule:
            print(f"  {line.starts_on} to {line.ends_on}: {line.amount}  ({line.explanation})")
        print(
            f"  exercisable {offer.exercisable_from} to {offer.expires_on}; "
            f"condition at least {offer.minimum_grade}"
        )
    return 0


def _guarantee_show_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        envelope = trade_in.guarantee_document(args.contract_id)
    finally:
        trade_in.close()
    _print_json(envelope)
    return 0


def _guarantee_liability_command(args: argparse.Namespace) -> int:
    as_of = _as_of(args)
    trade_in = _trade_in(args, reads=True)
    try:
        view = trade_in.guarantee_liability(as_of=as_of)
    finally:
        trade_in.close()
    if args.format in {"png", "svg"}:
        from tradein_sdk._adapters.guarantee_chart import liability_chart  # noqa: PLC0415 - matplotlib loads late

        return _write_output(liability_chart(view, image_format=args.format), args.output, binary=True)
    if args.format == "csv":
        return _write_output(view.to_csv().encode(), args.output, binary=False)
    return _write_output(json.dumps(view.to_json(), indent=2).encode() + b"\n", args.output, binary=False)


def _as_of(args: argparse.Namespace) -> date | None:
    """The ``--as-of`` day of a guarantee command, ``None`` for today."""
    day: date | None = args.as_of
    return day


def _guarantee_status_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        line = trade_in.guarantee_status(args.contract_id, as_of=_as_of(args))
    finally:
        trade_in.close()
    if args.json:
        _print_json(line.to_json())
        return 0
    print(f"{line.contract_id}: {line.status.value} ({line.plan_id}, {line.device})")
    print(f"  window {line.exercisable_from} to {line.expires_on}; {line.expected} guaranteed from its start")
    for starts, ends, amount in line.bands:
        print(f"  {starts} to {ends}: {amount}")
    if line.order_id:
        print(f"  order {line.order_id}")
    if line.received is not None:
        print(f"  exercised on {line.received_on}: {line.received}")
    return 0


def _guarantee_calendar_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        calendar = trade_in.guarantee_calendar(args.customer_ref, as_of=_as_of(args))
    finally:
        trade_in.close()
    if args.format == "csv":
        return _write_output(calendar.to_csv().encode(), args.output, binary=False)
    return _write_output(json.dumps(calendar.to_json(), indent=2).encode() + b"\n", args.output, binary=False)


def _guarantee_verify_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE  # noqa: PLC0415 - loaded by its sub-command only

    payload = _verified(args, _read_bytes(args.file), CONTRACT_PURPOSE)
    if isinstance(payload, int):
        return payload
    plan, window = payload.get("plan", {}), payload.get("window", {})
    return _valid_document(
        args,
        payload,
        f"valid buy-back guarantee {payload.get('id')} for {payload.get('device')} "
        f"bought on {payload.get('purchased_on')}: plan {plan.get('id')}, terms {plan.get('terms_version')}, "
        f"exercisable {window.get('exercisable_from')} to {window.get('expires_on')}",
    )


def _guarantee_release_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        released = trade_in.release_lapsed_guarantees()
    finally:
        trade_in.close()
    if args.json:
        _print_json({"released": released})
        return 0
    print(f"{released} lapsed guarantee{'' if released == 1 else 's'} released")
    return 0


def _add_guarantee_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    guarantees = _command(
        commands,
        "guarantees",
        "forward trade-in: buy-back guarantees sold with new devices, and what they may cost",
        description="Guaranteed buy-back prices; plans in tradein_sdk/data/guarantees/.",
    )
    actions = _actions(guarantees, "guarantees_command")
    offers = _command(
        actions,
        "offers",
        "the guarantees a device being bought may have",
        handler=_guarantee_offers_command,
        json="print JSON",
        data_dir=True,
    )
    offers.add_argument("device_id", metavar="DEVICE_ID")
    offers.add_argument("--price", required=True, help="the purchase price, e.g. 899")
    offers.add_argument("--currency", default="EUR")
    offers.add_argument("--financed", help="the financed amount, for upgrade plans")
    offers.add_argument("--channel", choices=("online", "store"), default="online")
    offers.add_argument("--customer-case", choices=("consumer", "business"), default="consumer")
    show = _command(
        actions,
        "show",
        "a sold contract's signed document",
        handler=_guarantee_show_command,
        json="print JSON (it always is)",
        data_dir=True,
    )
    show.add_argument("contract_id", metavar="CONTRACT_ID")
    liability = _command(
        actions,
        "liability",
        "outstanding guarantees by month: guaranteed, market value, expected cost, reserve",
        handler=_guarantee_liability_command,
        data_dir=True,
    )
    liability.add_argument(
        "--as-of", type=_day, metavar="YYYY-MM-DD", help="the day of the view (default: today)"
    )
    liability.add_argument(
        "--format", choices=("json", "csv", "png", "svg"), default="json", help="a chart as png or svg"
    )
    _json_format(liability)
    liability.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    status = _command(
        actions,
        "status",
        "where a contract stands: open, in progress, exercised, lapsed",
        handler=_guarantee_status_command,
        json="print JSON",
        data_dir=True,
    )
    status.add_argument("contract_id", metavar="CONTRACT_ID")
    status.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD", help="the day (default: today)")
    calendar = _command(
        actions,
        "calendar",
        "a buyer's guaranteed inflows per device, month and cost centre",
        handler=_guarantee_calendar_command,
        data_dir=True,
    )
    calendar.add_argument("customer_ref", metavar="CUSTOMER_REF", help="the buyer (a company's id)")
    calendar.add_argument(
        "--as-of", type=_day, metavar="YYYY-MM-DD", help="the day of the calendar (default: today)"
    )
    calendar.add_argument("--format", choices=("json", "csv"), default="json")
    _json_format(calendar)
    calendar.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_verify_command(
        actions,
        "verify a signed guarantee contract offline (as `guarantees show` prints it)",
        _guarantee_verify_command,
    )
    _command(
        actions,
        "release-lapsed",
        "release the contingent liability of guarantees that expired unexercised",
        handler=_guarantee_release_command,
        json="print JSON",
        data_dir=True,
    )
