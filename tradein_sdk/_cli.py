"""The ``tradein`` command.

Exit status: 0 on success; 1 when a document is invalid or a command fails with a library error
(``error [code]: message`` on standard error); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tradein_sdk._catalog import Catalog, DeviceCategory, catalog_problems, read_json_document
from tradein_sdk._errors import DocumentInvalidError, TradeInError
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tradein_sdk._errors import DocumentProblem


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _catalog(args: argparse.Namespace) -> Catalog:
    catalog = None if args.without_bundled else Catalog.bundled()
    for path in args.catalog:
        layer = Catalog.from_file(path)
        catalog = layer if catalog is None else catalog.extended_with(layer)
    if catalog is None:
        raise argparse.ArgumentTypeError("--without-bundled needs at least one --catalog FILE")
    return catalog


def _catalog_search(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    text = " ".join(args.text)
    category = DeviceCategory(args.category) if args.category else None
    hits = catalog.search(text, limit=args.limit, category=category)
    if args.json:
        _print_json(
            {
                "query": text,
                "catalog": {"version": catalog.version, "content_hash": catalog.content_hash},
                "results": [hit.to_json() for hit in hits],
            }
        )
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
    from tradein_sdk._converters import document_converter  # noqa: PLC0415

    data = {
        "id": entry.id,
        "display_name": entry.model.display_name,
        "model": document_converter().unstructure(entry.model),
        "variant": document_converter().unstructure(entry.variant) if entry.variant else None,
    }
    if args.json:
        _print_json(data)
        return 0
    model = entry.model
    print(f"{model.display_name} ({model.category.value}, released {model.release_date.isoformat()})")
    for variant in model.variants:
        marker = "*" if entry.variant is not None and variant.id == entry.variant.id else " "
        prices = ", ".join(f"{price.market} {price.price.format('en')}" for price in variant.launch_prices)
        print(f" {marker} {variant.id:45} {variant.storage_label:>7}  {prices or 'launch price unknown'}")
    if model.source is not None:
        print(f"source: {model.source.reference} (confidence: {model.source.confidence.value})")
    return 0


def _report_problems(path: str, problems: Sequence[DocumentProblem], kind: str) -> int:
    if not problems:
        print(f"{path}: valid {kind}")
        return 0
    for problem in problems:
        print(f"{path}: {problem.path}: {problem.message}")
    return 1


def _validate_catalog(args: argparse.Namespace) -> int:
    try:
        document = read_json_document(Path(args.file), kind="catalog")
    except DocumentInvalidError as exc:
        return _report_problems(args.file, exc.problems, "catalog")
    return _report_problems(args.file, catalog_problems(document), "catalog")


def _add_catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="a shop catalog laid over the bundled one (may be repeated)",
    )
    parser.add_argument(
        "--without-bundled",
        action="store_true",
        help="use only the --catalog files, not the bundled reference catalog",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``tradein`` command."""
    parser = argparse.ArgumentParser(prog="tradein", description="Device trade-in tools.")
    parser.add_argument("--version", action="version", version=f"tradein-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    catalog = commands.add_parser("catalog", help="search and show devices of the catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    search = catalog_commands.add_parser("search", help="find devices by free text")
    search.add_argument("text", nargs="+", help="what to look for, e.g. iphone 13 128")
    search.add_argument("--json", action="store_true", help="print JSON (schemas/search-results.schema.json)")
    search.add_argument("--limit", type=int, default=10, help="at most this many results (default 10)")
    search.add_argument("--category", choices=[category.value for category in DeviceCategory])
    _add_catalog_options(search)
    search.set_defaults(handler=_catalog_search)
    show = catalog_commands.add_parser("show", help="show a model or variant by its id")
    show.add_argument("device_id")
    show.add_argument("--json", action="store_true", help="print JSON")
    _add_catalog_options(show)
    show.set_defaults(handler=_catalog_show)

    validate = commands.add_parser("validate", help="check a document against its schema and rules")
    validate_commands = validate.add_subparsers(dest="document", required=True, metavar="DOCUMENT")
    validate_catalog = validate_commands.add_parser("catalog", help="validate a catalog file")
    validate_catalog.add_argument("file")
    validate_catalog.set_defaults(handler=_validate_catalog)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tradein`` command with ``argv`` (default: the process arguments) and return its status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    except TradeInError as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover - python -m tradein_sdk._cli
    sys.exit(main())
