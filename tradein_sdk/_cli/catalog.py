"""``tradein catalog``: search and show devices of the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _actions, _add_catalog_options, _catalog, _command, _locale, _print_json
from tradein_sdk._domain.devices import DeviceCategory

if TYPE_CHECKING:
    import argparse


def _catalog_search(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    text = " ".join(args.text)
    category = DeviceCategory(args.category) if args.category else None
    hits = catalog.search(text, limit=args.limit, category=category)
    if args.json:
        from tradein_sdk._domain.search import SearchResults  # noqa: PLC0415 - loaded by its sub-command only

        _print_json(SearchResults.from_hits(text, catalog, hits).to_json())
        return 0
    if not hits:
        print(f"no device matches {text!r}")
    for hit in hits:
        model = hit.model
        storage = (
            hit.variant.storage_label
            if hit.variant
            else ", ".join(variant.storage_label for variant in model.variants)
        )
        print(
            f"{hit.id:45} {model.display_name} · {storage} · {model.category.value} · "
            f"{model.release_date.isoformat()}"
        )
    return 0


def _catalog_show(args: argparse.Namespace) -> int:
    entry = _catalog(args).lookup(args.device_id)
    from tradein_sdk._domain.converters import document_converter  # noqa: PLC0415 - loaded by its sub-command only

    data = {
        "id": entry.id,
        "display_name": entry.model.display_name,
        "model": document_converter().unstructure(entry.model),
        "variant": document_converter().unstructure(entry.variant) if entry.variant else None,
    }
    if args.json:
        _print_json(data)
        return 0
    model, locale = entry.model, _locale(args)
    print(f"{model.display_name} ({model.category.value}, released {model.release_date.isoformat()})")
    for variant in model.variants:
        marker = "*" if entry.variant is not None and variant.id == entry.variant.id else " "
        prices = ", ".join(f"{price.market} {price.price.format(locale)}" for price in variant.launch_prices)
        print(f" {marker} {variant.id:45} {variant.storage_label:>7}  {prices or 'launch price unknown'}")
    if model.source is not None:
        print(f"source: {model.source.reference} (confidence: {model.source.confidence.value})")
    return 0


def _add_catalog_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    catalog = _command(commands, "catalog", "search and show devices of the catalog")
    actions = _actions(catalog, "catalog_command")
    search = _command(
        actions,
        "search",
        "find devices by free text",
        handler=_catalog_search,
        json="print JSON (schemas/search-results.schema.json)",
    )
    search.add_argument("text", nargs="+", metavar="TEXT", help="what to look for, e.g. iphone 13 128")
    search.add_argument("--limit", type=int, default=10, help="at most this many results (default 10)")
    search.add_argument("--category", choices=[category.value for category in DeviceCategory])
    _add_catalog_options(search)
    show = _command(
        actions,
        "show",
        "show a model or variant by its id",
        handler=_catalog_show,
        json="print JSON",
        locale="the launch prices",
    )
    show.add_argument("device_id", metavar="DEVICE_ID", help="a model or variant id")
    _add_catalog_options(show)
