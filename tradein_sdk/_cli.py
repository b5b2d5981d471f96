"""The ``tradein`` command.

Exit status: 0 on success; 1 when a document is invalid or a command fails with a library error
(``error [code]: message`` on standard error); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._catalog import Catalog, DeviceCategory, catalog_problems, read_json_document
from tradein_sdk._errors import DocumentInvalidError, TradeInError
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from grading_questionnaire import DefinitionProblem, Questionnaire
    from tradein_sdk._errors import DocumentProblem
    from tradein_sdk._facade import TradeIn
    from tradein_sdk._quotes import Quote


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


def _read_json_file(path: str, kind: str) -> object:
    return read_json_document(Path(path), kind=kind)


def _questionnaire(args: argparse.Namespace) -> Questionnaire:
    import grading_questionnaire as gq  # noqa: PLC0415
    from tradein_sdk._facade import _library_errors  # noqa: PLC0415

    with _library_errors():
        if getattr(args, "questionnaire_file", None):
            return gq.load_questionnaire_file(args.questionnaire_file)
        return gq.load_questionnaire(args.category)


def _questionnaire_command(args: argparse.Namespace) -> int:
    from grading_questionnaire import Audience  # noqa: PLC0415
    from tradein_sdk._facade import _library_errors  # noqa: PLC0415

    questionnaire = _questionnaire(args)
    with _library_errors():
        rendered = questionnaire.render(
            args.locale, audience=Audience.STAFF if args.staff else Audience.SHOPPER
        )
    document = rendered.to_json()
    if args.json:
        _print_json(document)
        return 0
    print(f"{document['title']} ({questionnaire.id} {questionnaire.version}, {document['locale']})")
    for section in document["sections"]:
        print(f"\n{section['title']}")
        for question in section["questions"]:
            choices = " / ".join(option["label"] for option in question.get("options", []))
            print(f"  [{question['id']}] {question['text']}" + (f"  ({choices})" if choices else ""))
    return 0


def _grade_command(args: argparse.Namespace) -> int:
    from grading_questionnaire import VerificationDepth  # noqa: PLC0415
    from tradein_sdk._facade import _library_errors  # noqa: PLC0415

    questionnaire = _questionnaire(args)
    answers = _read_json_file(args.answers_file, "answers")
    with _library_errors():
        diagnostics = (
            questionnaire.import_diagnostics(
                _read_json_file(args.diagnostics, "diagnostics"), source=args.diagnostics
            )
            if args.diagnostics
            else None
        )
        report = questionnaire.evaluate(
            answers, verification=VerificationDepth(args.verification), diagnostics=diagnostics
        )
    if args.json:
        _print_json(report.to_json())
        return 0
    print(f"pricing grade: {report.pricing_grade or 'none (recycling only)'}")
    print(
        f"cosmetic {report.cosmetic.value} · functional {report.functional} · lock {report.lock.value} · "
        f"battery {report.battery.value} · liquid {report.liquid.value} · {report.verification.value}"
    )
    for knockout in report.knockouts:
        print(f"knockout {knockout.code}: {questionnaire.translate(knockout.message_id, args.locale)}")
    for finding in report.findings:
        print(f"  - {questionnaire.translate(finding.message_id, args.locale)}")
    return 0


def _trade_in(args: argparse.Namespace) -> TradeIn:
    from tradein_sdk._facade import TradeIn  # noqa: PLC0415

    return TradeIn.embedded(args.data_dir, market=getattr(args, "market", None) or "DE")


def _quote_command(args: argparse.Namespace) -> int:
    action, value = args.target, args.value
    if action in {"verify", "show", "redeem"}:
        if value is None:
            raise argparse.ArgumentTypeError(f"quote {action} needs its argument")
        return {"verify": _quote_verify, "show": _quote_show, "redeem": _quote_redeem}[action](args, value)
    if value is not None:
        raise argparse.ArgumentTypeError(f"unexpected argument {value!r}")
    if not args.answers:
        raise argparse.ArgumentTypeError("quote DEVICE_ID needs --answers FILE")
    from tradein_sdk._quotes import Channel  # noqa: PLC0415

    trade_in = _trade_in(args)
    try:
        diagnostics = _read_json_file(args.diagnostics, "diagnostics") if args.diagnostics else None
        issued = trade_in.quote(
            action,
            _read_json_file(args.answers, "answers"),
            market=args.market,
            locale=args.locale,
            imei=args.imei,
            channel=Channel(args.channel),
            verification=args.verification,
            diagnostics=diagnostics,
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json({"quote": issued.quote.to_json(), "token": issued.token})
        return 0
    _print_quote(issued.quote)
    print(f"token: {issued.token}")
    return 0


def _print_quote(quote: Quote) -> None:
    from babel.dates import format_datetime  # noqa: PLC0415

    until = format_datetime(
        quote.expires_at, format="medium", tzinfo=quote.expires_at.tzinfo, locale=quote.locale
    )
    print(f"quote {quote.id} ({quote.kind.value}, valid until {until} UTC)")
    grade = quote.pricing_grade or "recycling only"
    print(f"{quote.device.display_name} · {quote.device.storage_gb} GB · {grade}")
    width = max(len(line.text) for line in quote.lines)
    for line in quote.lines:
        print(f"  {line.text:<{width}}  {line.amount.format(quote.locale):>14}")
    print(f"  {'total':<{width}}  {quote.amount.format(quote.locale):>14}")


def _quote_verify(args: argparse.Namespace, token: str) -> int:
    trade_in = _trade_in(args)
    try:
        claims = trade_in.verify_token(token, audience=args.audience)
    finally:
        trade_in.close()
    data = {
        "quote_id": claims.quote_id,
        "amount": claims.amount.to_json(),
        "audience": claims.audience,
        "issued_at": claims.issued_at.isoformat(),
        "expires_at": claims.expires_at.isoformat(),
        "key_id": claims.key_id,
    }
    if args.json:
        _print_json(data)
    else:
        print(
            f"valid: quote {claims.quote_id}, {claims.amount}, for {claims.audience}, "
            f"until {claims.expires_at.isoformat()} (key {claims.key_id})"
        )
    return 0


def _quote_show(args: argparse.Namespace, quote_id: str) -> int:
    trade_in = _trade_in(args)
    try:
        stored = trade_in.get_quote(quote_id)
    finally:
        trade_in.close()
    if args.json:
        redemption = stored.redemption
        _print_json(
            {
                "quote": stored.quote.to_json(),
                "redemption": None
                if redemption is None
                else {
                    "redemption_id": redemption.redemption_id,
                    "amount": redemption.amount.to_json(),
                    "reference": redemption.reference,
                    "redeemed_at": redemption.redeemed_at.isoformat(),
                },
            }
        )
        return 0
    _print_quote(stored.quote)
    if stored.redemption is not None:
        reference = stored.redemption.reference or "no reference"
        print(f"redeemed {stored.redemption.redeemed_at.isoformat()} ({reference})")
    return 0


def _quote_redeem(args: argparse.Namespace, token: str) -> int:
    trade_in = _trade_in(args)
    try:
        redemption = trade_in.redeem(token, reference=args.reference, audience=args.audience)
    finally:
        trade_in.close()
    print(f"redeemed quote {redemption.quote_id}: {redemption.amount} ({redemption.redemption_id})")
    return 0


def _report_problems(path: str, problems: Sequence[DocumentProblem | DefinitionProblem], kind: str) -> int:
    if not problems:
        print(f"{path}: valid {kind}")
        return 0
    for problem in problems:
        code = getattr(problem, "code", None)
        print(f"{path}: {problem.path}: {problem.message}" + (f" [{code}]" if code else ""))
    return 1


def _validate_catalog(args: argparse.Namespace) -> int:
    try:
        document = read_json_document(Path(args.file), kind="catalog")
    except DocumentInvalidError as exc:
        return _report_problems(args.file, exc.problems, "catalog")
    return _report_problems(args.file, catalog_problems(document), "catalog")


def _validate_questionnaire(args: argparse.Namespace) -> int:
    from grading_questionnaire import validate_questionnaire_file  # noqa: PLC0415

    return _report_problems(args.file, validate_questionnaire_file(args.file), "questionnaire")


def _validate_pricebook(args: argparse.Namespace) -> int:
    from tradein_sdk._pricing import pricebook_problems  # noqa: PLC0415

    try:
        document = read_json_document(Path(args.file), kind="pricebook")
    except DocumentInvalidError as exc:
        return _report_problems(args.file, exc.problems, "pricebook")
    return _report_problems(args.file, pricebook_problems(document), "pricebook")


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


def _add_questionnaire_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    questionnaire = commands.add_parser("questionnaire", help="print a questionnaire rendered for a locale")
    questionnaire.add_argument("category", help="smartphone, tablet or smartwatch")
    questionnaire.add_argument("--locale", default="en", help="the locale to render in (default en)")
    questionnaire.add_argument("--staff", action="store_true", help="include the staff-only checks")
    questionnaire.add_argument(
        "--json", action="store_true", help="print JSON (schemas/rendered-questionnaire.schema.json)"
    )
    questionnaire.add_argument(
        "--questionnaire",
        dest="questionnaire_file",
        metavar="FILE",
        help="a shop's own definition instead of the bundled one",
    )
    questionnaire.set_defaults(handler=_questionnaire_command)

    grade = commands.add_parser("grade", help="grade an answers file into a condition report")
    grade.add_argument("category", help="smartphone, tablet or smartwatch")
    grade.add_argument("answers_file")
    grade.add_argument(
        "--json", action="store_true", help="print JSON (schemas/condition-report.schema.json)"
    )
    grade.add_argument("--locale", default="en", help="the locale for findings (default en)")
    grade.add_argument(
        "--verification", default="self_declared", choices=["self_declared", "staff_verified", "measured"]
    )
    grade.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    grade.add_argument(
        "--questionnaire",
        dest="questionnaire_file",
        metavar="FILE",
        help="a shop's own definition instead of the bundled one",
    )
    grade.set_defaults(handler=_grade_command)


def _add_quote_command(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    quote = commands.add_parser(
        "quote",
        help="issue a quote (DEVICE_ID --answers FILE), or: quote verify TOKEN | show ID | redeem TOKEN",
    )
    quote.add_argument("target", metavar="DEVICE_ID|verify|show|redeem")
    quote.add_argument("value", nargs="?", metavar="TOKEN|ID")
    quote.add_argument("--answers", metavar="FILE", help="the questionnaire answers (JSON)")
    quote.add_argument("--imei", help="the device's IMEI (needed for a guaranteed quote)")
    quote.add_argument("--market", default=None, help="the market to price in (default DE)")
    quote.add_argument("--locale", default=None, help="the locale of the texts (default de_DE)")
    quote.add_argument("--channel", default="online", choices=["online", "store"])
    quote.add_argument(
        "--verification", default="self_declared", choices=["self_declared", "staff_verified", "measured"]
    )
    quote.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    quote.add_argument("--audience", default=None, help="the shop or store verifying or redeeming")
    quote.add_argument("--reference", default=None, help="the shop's reference for a redemption")
    quote.add_argument("--json", action="store_true", help="print JSON (schemas/quote.schema.json)")
    quote.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="where the database and keys live (default $TRADEIN_DATA_DIR or ~/.local/share/tradein)",
    )
    quote.set_defaults(handler=_quote_command)


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

    _add_questionnaire_commands(commands)
    _add_quote_command(commands)

    validate = commands.add_parser("validate", help="check a document against its schema and rules")
    validate_commands = validate.add_subparsers(dest="document", required=True, metavar="DOCUMENT")
    validate_catalog = validate_commands.add_parser("catalog", help="validate a catalog file")
    validate_catalog.add_argument("file")
    validate_catalog.set_defaults(handler=_validate_catalog)
    validate_questionnaire = validate_commands.add_parser(
        "questionnaire", help="validate a questionnaire file"
    )
    validate_questionnaire.add_argument("file")
    validate_questionnaire.set_defaults(handler=_validate_questionnaire)
    validate_pricebook = validate_commands.add_parser("pricebook", help="validate a price book file")
    validate_pricebook.add_argument("file")
    validate_pricebook.set_defaults(handler=_validate_pricebook)
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
