"""``tradein orders``: list, show, tick and draw trade-in orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _actions, _command, _print_json, _trade_in

if TYPE_CHECKING:
    import argparse


def _orders_diagram(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.orders.machine import transitions_mermaid  # noqa: PLC0415 - loaded by its sub-command only

    if args.json:
        _print_json({"format": "mermaid", "diagram": transitions_mermaid()})
    else:
        print(transitions_mermaid())
    return 0


def _orders_tick(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        changed = trade_in.tick()
    finally:
        trade_in.close()
    if args.json:
        _print_json({"changed": changed})
    else:
        print(f"{changed} order(s) changed")
    return 0


def _orders_list(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        orders = trade_in.list_orders(limit=args.limit)
        if args.json:
            _print_json([_order_json(order, trade_in.order_outcome(order.id)) for order in orders])
            return 0
    finally:
        trade_in.close()
    for order in orders:
        states = ", ".join(f"{device.id} {device.state.value}" for device in order.devices)
        print(f"{order.id}  {order.created_at.isoformat()}  {states}")
    return 0


def _orders_show(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        order = trade_in.order(args.order_id)
        outcome = trade_in.order_outcome(order.id)
    finally:
        trade_in.close()
    if args.json:
        _print_json(_order_json(order, outcome))
        return 0
    print(f"order {order.id} (opened {order.created_at.isoformat()})")
    for device in order.devices:
        offer = f"offer {device.offer} (quoted {device.quoted})"
        print(f"  {device.id} {device.variant_id}: {device.state.value}, {offer}")
        for entry in device.history:
            source = entry.from_state.value if entry.from_state is not None else "-"
            print(
                f"      {entry.at.isoformat()}  {entry.kind.value} by {entry.actor.value}: {source} → "
                f"{entry.to_state.value}"
            )
    return 0


def _order_json(order: Any, outcome: Any) -> dict[str, Any]:  # noqa: ANN401 - a TradeInOrder, its OrderOutcome
    from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - loaded by its sub-command only

    data: dict[str, Any] = json_converter().unstructure(order)
    data["outcome"] = json_converter().unstructure(outcome)
    return data


def _add_order_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    orders = _command(commands, "orders", "trade-in orders: list, show, tick, diagram")
    actions = _actions(orders, "orders_command")
    listing = _command(
        actions, "list", "the latest orders", handler=_orders_list, json="print JSON", data_dir=True
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many orders (default 50)")
    show = _command(
        actions,
        "show",
        "an order with each device's state and history",
        handler=_orders_show,
        json="print JSON",
        data_dir=True,
    )
    show.add_argument("order_id", metavar="ORDER_ID")
    _command(
        actions,
        "tick",
        "apply the deadlines that are due (reminders, expiries)",
        handler=_orders_tick,
        json="print JSON",
        data_dir=True,
    )
    _command(
        actions,
        "diagram",
        "the order state machine as a Mermaid diagram",
        handler=_orders_diagram,
        json="print JSON",
    )
