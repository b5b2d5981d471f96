"""The ``tradein`` command.

Exit status: 0 on success; 1 when a document is invalid or a command fails with a library error
(``error [code]: message`` on standard error); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._domain.catalog import Catalog, catalog_problems, read_json_document
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.tenancy import Role
from tradein_sdk._errors import (
    ConfigurationError,
    DocumentInvalidError,
    DocumentProblem,
    TradeInError,
    questionnaire_errors,
)
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from grading_questionnaire import DefinitionProblem, Questionnaire
    from tradein_sdk._adapters.sql.store import SQLStore
    from tradein_sdk._app.facade import TradeIn
    from tradein_sdk._domain.co2 import DeviceCO2
    from tradein_sdk._domain.erasure import CertificateCheck
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.signing import PublicKeys
    from tradein_sdk._remote.service import TradeInService


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
    import grading_questionnaire as gq  # noqa: PLC0415 - loaded by its sub-command only

    with questionnaire_errors():
        if getattr(args, "questionnaire_file", None):
            return gq.load_questionnaire_file(args.questionnaire_file)
        return gq.load_questionnaire(args.category)


def _questionnaire_command(args: argparse.Namespace) -> int:
    from grading_questionnaire import Audience  # noqa: PLC0415 - loaded by its sub-command only

    questionnaire = _questionnaire(args)
    with questionnaire_errors():
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
    from grading_questionnaire import VerificationDepth  # noqa: PLC0415 - loaded by its sub-command only

    questionnaire = _questionnaire(args)
    answers = _read_json_file(args.answers_file, "answers")
    with questionnaire_errors():
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
    from tradein_sdk._app.facade import TradeIn  # noqa: PLC0415 - loaded by its sub-command only

    return TradeIn.embedded(args.data_dir, market=getattr(args, "market", None) or "DE")


def _serve_command(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415 - loaded by its sub-command only
    import os  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._remote.service import ApiKeys, configure_logging, create_service  # noqa: PLC0415 - loaded by its sub-command only

    keys = ApiKeys.parse(",".join(args.api_key)) if args.api_key else None
    trade_in = _trade_in(args)  # creates the database, its migrations and the key file once, before workers
    try:
        service = create_service(trade_in, api_keys=keys)
    except TradeInError:
        trade_in.close()
        raise
    configure_logging()
    gunicorn_runs = os.name == "posix" and importlib.util.find_spec("gunicorn") is not None
    # Port 0 (any free port) runs the development server too: it prints the port it took; gunicorn cannot.
    if args.dev or args.port == 0 or not gunicorn_runs:
        if not args.dev and args.port != 0:
            print("gunicorn cannot run here: serving with the development server", file=sys.stderr)
        return _serve_development(args, service)
    trade_in.close()
    _exec_gunicorn(args)  # pragma: no cover - the process becomes gunicorn (tested in a subprocess)
    return 0  # pragma: no cover


def _serve_development(args: argparse.Namespace, service: TradeInService) -> int:
    from tradein_sdk._remote.service import serve  # noqa: PLC0415 - loaded by its sub-command only

    def ready(port: int) -> None:
        print(f"trade-in service on http://{args.host}:{port}/v1 (Ctrl+C stops it)", flush=True)

    try:
        serve(service, host=args.host, port=args.port, ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        service.trade_in.close()
    return 0


def _no_control_socket() -> list[str]:
    """``--no-control-socket`` on gunicorn 25.1+: its one socket path per user clashes between services."""
    from importlib.metadata import version  # noqa: PLC0415 - loaded by its sub-command only

    major, minor, *_ = (int(part) if part.isdigit() else 0 for part in version("gunicorn").split("."))
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def _exec_gunicorn(args: argparse.Namespace) -> None:  # pragma: no cover - replaces the process
    """Become a gunicorn master serving the service; its workers read the configuration from the environment.

    The library imports no web framework (see the import contracts): gunicorn runs as ``python -m gunicorn``
    with the service's application factory.
    """
    import os  # noqa: PLC0415 - loaded by its sub-command only
    import tempfile  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._app.facade import DATA_DIR_ENV  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._remote.service import (  # noqa: PLC0415 - loaded by its sub-command only
        API_KEYS_ENV,
        MARKET_ENV,
        MAX_BODY_ENV,
        MULTIPROCESS_ENV,
    )

    env = dict(os.environ)
    if args.api_key:
        env[API_KEYS_ENV] = ",".join(args.api_key)
    if args.data_dir:
        env[DATA_DIR_ENV] = str(Path(args.data_dir).resolve())
    env[MARKET_ENV] = args.market
    env[MAX_BODY_ENV] = str(args.max_body_bytes)
    if not env.get(MULTIPROCESS_ENV):  # counters summed over the workers; a fresh directory per start
        env[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="tradein-metrics-")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        str(args.timeout),
        "--graceful-timeout",
        str(args.graceful_timeout),
        "--keep-alive",
        str(args.keep_alive),
        "--limit-request-line",
        str(args.limit_request_line),
        "--limit-request-fields",
        str(args.limit_request_fields),
        "--limit-request-field_size",
        str(args.limit_request_field_size),
        *_no_control_socket(),
        "tradein_sdk._remote.service:create_server_application()",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # noqa: S606 - our own interpreter, running gunicorn


def _db_store(args: argparse.Namespace) -> SQLStore:
    import os  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._adapters.sql.store import SQLStore  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._app.facade import DATABASE_URL_ENV, default_data_dir  # noqa: PLC0415 - loaded by its sub-command only

    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return SQLStore(url, migrate=False)
    directory = Path(args.data_dir) if args.data_dir else default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return SQLStore(f"sqlite:///{directory / 'tradein.sqlite3'}", migrate=False)


def _db_command(args: argparse.Namespace) -> int:
    from tradein_sdk._adapters.sql.store import iter_migrations  # noqa: PLC0415 - loaded by its sub-command only

    store = _db_store(args)
    try:
        before = store.schema_version()
        if args.db_command == "migrate":
            after = store.migrate()
            print(
                f"schema version {after} (was {before})"
                if after != before
                else f"schema version {after}: up to date"
            )
            return 0
        migrations = list(iter_migrations())
        latest = max(version for version, _ in migrations)
        pending = [(version, text) for version, text in migrations if version > before]
        if args.json:
            document = {
                "schema_version": before,
                "latest": latest,
                "pending": [{"version": version, "description": text} for version, text in pending],
            }
            print(json.dumps(document, indent=2))
            return 0
        print(f"schema version {before} of {latest}" + ("" if pending else ": up to date"))
        for version, text in pending:
            print(f"  pending {version}: {text}")
        return 0
    finally:
        store.close()


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
    from tradein_sdk._domain.quotes import Channel  # noqa: PLC0415 - loaded by its sub-command only

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
    from babel.dates import format_datetime  # noqa: PLC0415 - loaded by its sub-command only

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


def _orders_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.orders.machine import transitions_mermaid  # noqa: PLC0415 - loaded by its sub-command only

    if args.action == "diagram":
        print(transitions_mermaid())
        return 0
    trade_in = _trade_in(args)
    try:
        if args.action == "tick":
            print(f"{trade_in.tick()} order(s) changed")
            return 0
        if args.action == "list":
            orders = trade_in.list_orders(limit=args.limit)
            if args.json:
                _print_json([_order_json(order, trade_in.order_outcome(order.id)) for order in orders])
            for order in [] if args.json else orders:
                states = ", ".join(f"{device.id} {device.state.value}" for device in order.devices)
                print(f"{order.id}  {order.created_at.isoformat()}  {states}")
            return 0
        if args.order_id is None:
            raise argparse.ArgumentTypeError("orders show needs ORDER_ID")
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


def _ledger_command(args: argparse.Namespace) -> int:
    needs = {
        "show": ("order_id", "ORDER_ID"),
        "stop": ("order_id", "ORDER_ID"),
        "report": ("start", "--from and --to"),
        "installments": ("period", "--period YYYY-MM"),
    }
    field, what = needs[args.action]
    if getattr(args, field) is None or (args.action == "report" and args.end is None):
        raise argparse.ArgumentTypeError(f"ledger {args.action} needs {what}")
    actions = {
        "show": _ledger_show,
        "stop": _ledger_stop,
        "report": _ledger_report,
        "installments": _ledger_installments,
    }
    trade_in = _trade_in(args)
    try:
        return actions[args.action](trade_in, args)
    finally:
        trade_in.close()


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
    stopped = trade_in.stop_installments(args.order_id, reason=args.reason)
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


def _audit_verify(args: argparse.Namespace) -> int:
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    trade_in = _trade_in(args)
    try:
        latest = trade_in.latest_checkpoint()
        if args.no_checkpoint:
            result = trade_in.verify_audit(anchor=())
        else:
            result = trade_in.checkpoint_audit(adopt=args.adopt)
    except SignatureInvalidError as exc:
        print(f"error: the latest audit checkpoint does not verify: {exc}", file=sys.stderr)
        return 1
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            {
                "ok": result.ok,
                "entries_checked": result.entries_checked,
                "problem_count": result.problem_count,
                "checkpoint": None if latest is None else latest.to_json(),
                "problems": [
                    {
                        "kind": problem.kind,
                        "chain": problem.chain,
                        "sequence": problem.sequence,
                        "position": problem.position,
                        "message": problem.message,
                    }
                    for problem in result.problems
                ],
            }
        )
    else:
        for problem in result.problems:
            print(problem)
        verdict = "intact" if result.ok else f"{result.problem_count} problem(s)"
        against = "" if latest is None or args.no_checkpoint else f" against the checkpoint of {latest.at:%c}"
        print(f"audit log: {result.entries_checked} entries checked{against}, {verdict}")
        if result.ok and not args.no_checkpoint:
            print("a new signed checkpoint is kept")
    return 0 if result.ok else 1


def _audit_export(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        written = trade_in.export_audit(Path(args.output), format=args.format)
    finally:
        trade_in.close()
    for path in written:
        print(f"wrote {path}")
    return 0


def _report_problems(path: str, problems: Sequence[DocumentProblem | DefinitionProblem], kind: str) -> int:
    if not problems:
        print(f"{path}: valid {kind}")
        return 0
    for problem in problems:
        code = getattr(problem, "code", None)
        print(f"{path}: {problem.path}: {problem.message}" + (f" [{code}]" if code else ""))
    return 1


def _validate_questionnaire(args: argparse.Namespace) -> int:
    from grading_questionnaire import validate_questionnaire_file  # noqa: PLC0415 - loaded by its sub-command only

    return _report_problems(args.file, validate_questionnaire_file(args.file), "questionnaire")


def _validate_with(
    kind: str, problems_of: Callable[[object], Sequence[DocumentProblem]]
) -> Callable[[argparse.Namespace], int]:
    def validate(args: argparse.Namespace) -> int:
        try:
            document = read_json_document(Path(args.file), kind=kind)
        except DocumentInvalidError as exc:
            return _report_problems(args.file, exc.problems, kind)
        return _report_problems(args.file, problems_of(document), kind)

    return validate


def _offers_command(args: argparse.Namespace) -> int:

    from tradein_sdk._domain.insurance import PlanCatalogOfferSource, PurchaseCondition  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.money import Money  # noqa: PLC0415 - loaded by its sub-command only

    entry = _catalog(args).lookup(args.device_id)
    source = PlanCatalogOfferSource.from_file(args.plans) if args.plans else PlanCatalogOfferSource.example()
    today = date.fromisoformat(args.date) if args.date else date.today()  # noqa: DTZ011 - a CLI default
    offers = source.offers(
        category=entry.model.category,
        device_price=Money(args.price, args.currency),
        condition=PurchaseCondition(args.condition),
        country=args.market,
        purchased_on=today,
        today=today,
        with_trade_in=args.with_trade_in,
    )
    if args.json:
        _print_json(
            [
                {
                    "offer_id": offer.offer_id,
                    "plan_id": offer.plan_id,
                    "coverage": offer.coverage.value,
                    "term": offer.term.value,
                    "premium": {
                        key: getattr(offer.premium, key).to_json() for key in ("gross", "net", "tax")
                    },
                    "bundle_discount": offer.bundle_discount.to_json(),
                    "monthly_amount": offer.monthly_amount.to_json() if offer.monthly_amount else None,
                    "first_year": offer.first_year.gross.to_json(),
                    "annual_premium": offer.annual_premium.to_json(),
                    "exceeds_ancillary_exemption": offer.exceeds_ancillary_exemption,
                    "ipid_url": offer.ipid_url,
                    "terms_version": offer.terms_version,
                    "texts": list(offer.disclosures(args.locale)),
                }
                for offer in offers
            ]
        )
        return 0
    if not offers:
        print(f"no protection plan fits {entry.model.display_name} at {args.price} {args.currency}")
    for offer in offers:
        print(f"{offer.offer_id}: {offer.premium.gross.format(args.locale)}")
        for text in offer.disclosures(args.locale):
            print(f"  {text}")
    return 0


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
    _add_data_dir(quote)
    quote.set_defaults(handler=_quote_command)


def _add_offers_and_audit_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    offers = commands.add_parser("offers", help="device protection offers for a new device")
    offers.add_argument("device_id", help="the new device's catalog id")
    offers.add_argument("--price", required=True, help="the new device's price, e.g. 999")
    offers.add_argument("--currency", default="EUR")
    offers.add_argument("--market", default="DE", help="the customer's country (default DE)")
    offers.add_argument("--locale", default="de_DE")
    offers.add_argument("--condition", default="new", choices=["new", "refurbished"])
    offers.add_argument("--with-trade-in", action="store_true", help="a trade-in is in the same checkout")
    offers.add_argument("--date", help="the purchase date (default today), YYYY-MM-DD")
    offers.add_argument("--plans", metavar="FILE", help="a plan catalog instead of the bundled example")
    offers.add_argument("--json", action="store_true", help="print JSON")
    _add_catalog_options(offers)
    offers.set_defaults(handler=_offers_command)

    orders = commands.add_parser("orders", help="trade-in orders: list, show, tick, diagram")
    orders.add_argument("action", choices=["list", "show", "tick", "diagram"])
    orders.add_argument("order_id", nargs="?", help="the order (for show)")
    orders.add_argument("--limit", type=int, default=50, help="at most this many orders (list)")
    orders.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(orders)
    orders.set_defaults(handler=_orders_command)

    ledger = commands.add_parser(
        "ledger",
        help="the settlement ledger: an order's ledger, the period report, bill-credit runs",
        description=(
            "show ORDER_ID: every entry and balance of an order; report --from D --to D: the shop's "
            "period report (CSV or JSON) with totals that tie out; installments --period YYYY-MM: the "
            "bill credits due (--credit credits them, each once); stop ORDER_ID --reason R: stop the "
            "installments left (the contract ended)."
        ),
    )
    ledger.add_argument("action", choices=["show", "report", "installments", "stop"])
    ledger.add_argument("order_id", nargs="?", help="the order (show, stop)")
    ledger.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (report)")
    ledger.add_argument("--to", dest="end", type=date.fromisoformat, help="day after the last (report)")
    ledger.add_argument("--format", choices=["csv", "json"], default="csv", help="report format")
    ledger.add_argument("--period", help="billing period YYYY-MM (installments)")
    ledger.add_argument("--credit", action="store_true", help="credit the installments due (installments)")
    ledger.add_argument("--reason", default="contract_ended", help="why installments stop (stop)")
    ledger.add_argument("--json", action="store_true", help="print JSON (show, installments)")
    _add_data_dir(ledger)
    ledger.set_defaults(handler=_ledger_command)

    _add_serve_and_db_commands(commands)
    _add_worker_commands(commands)

    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="verify the hash chain; report every modified, deleted, inserted or reordered entry"
    )
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument(
        "--no-checkpoint",
        "--no-anchor",
        action="store_true",
        help="verify from the first entry without the latest signed checkpoint, and keep none",
    )
    verify.add_argument(
        "--adopt",
        action="store_true",
        help="check the chain only, not the seals (once, for a log written before entries were sealed)",
    )
    _add_data_dir(verify)
    verify.set_defaults(handler=_audit_verify)
    export = audit_commands.add_parser(
        "export", help="write the log, its signed checkpoints and public keys for an auditor (JSON or CSV)"
    )
    export.add_argument(
        "output", help="the file to write (CSV: the checkpoints go beside it, .checkpoints.json)"
    )
    export.add_argument("--format", choices=["json", "csv"], default="json")
    _add_data_dir(export)
    export.set_defaults(handler=_audit_export)


def _add_serve_and_db_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    serve = commands.add_parser(
        "serve",
        help="run the trade-in service (HTTP API) on the embedded engine and store",
        description=(
            "Serve the trade-in HTTP API (OpenAPI document at /v1/openapi.json). API keys come from "
            "--api-key or $TRADEIN_API_KEYS (client=key pairs separated by commas); the database from "
            "--data-dir or $TRADEIN_DATABASE_URL. Runs on gunicorn (worker processes, timeouts, header "
            "and body limits; put a buffering proxy in front of it on the internet); --dev runs the "
            "threaded development server. /healthz, /readyz and /metrics need no key: firewall /metrics "
            "or set $TRADEIN_METRICS_KEY."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int,
        default=8080,
        help="the port (default 8080; 0: any free port, on the development server)",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="CLIENT=KEY",
        help="accept this key for this client (repeatable; default: $TRADEIN_API_KEYS)",
    )
    serve.add_argument("--market", default="DE", help="the default market (default DE)")
    serve.add_argument(
        "--dev", action="store_true", help="the threaded development server instead of gunicorn"
    )
    server = serve.add_argument_group("gunicorn (production server)")
    for flag, default, text in (
        ("--workers", 2, "worker processes"),
        ("--threads", 1, "threads per worker (more than 1: gunicorn's gthread workers)"),
        ("--timeout", 30, "seconds a worker may spend on one request, body included, before it is restarted"),
        ("--graceful-timeout", 30, "seconds workers have to finish their requests on a restart or stop"),
        ("--keep-alive", 5, "seconds an idle keep-alive connection stays open"),
        ("--limit-request-line", 8190, "longest request line, in bytes"),
        ("--limit-request-fields", 100, "most header fields in a request"),
        ("--limit-request-field-size", 8190, "longest header field, in bytes"),
        ("--max-body-bytes", 1 << 20, "largest request body, in bytes (413 above it)"),
    ):
        server.add_argument(flag, type=int, default=default, help=f"{text} (default {default})")
    _add_data_dir(serve)
    serve.set_defaults(handler=_serve_command)

    db = commands.add_parser("db", help="the database schema: status and migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_status = db_commands.add_parser(
        "status", help="the schema version, the latest, the migrations pending"
    )
    db_status.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(db_status)
    db_status.set_defaults(handler=_db_command)
    db_migrate = db_commands.add_parser("migrate", help="apply the pending migrations")
    _add_data_dir(db_migrate)
    db_migrate.set_defaults(handler=_db_command)


def _add_worker_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    worker = commands.add_parser(
        "worker",
        help="deliver webhooks and run the deadlines, until stopped (SIGTERM, Ctrl-C)",
        description=(
            "Claims due webhooks in batches (several workers on one PostgreSQL share them: FOR UPDATE SKIP "
            "LOCKED), sends them concurrently with retries and dead letters, and runs tick() once per slot "
            "across all workers. Endpoints come from $TRADEIN_WEBHOOK_URLS as for the service."
        ),
    )
    worker.add_argument("--concurrency", type=int, default=8, help="sends at once (default 8)")
    worker.add_argument("--batch", type=int, default=100, help="webhooks claimed per pass (default 100)")
    worker.add_argument(
        "--poll", type=float, default=1.0, help="seconds between passes when idle (default 1)"
    )
    worker.add_argument(
        "--tick-every", type=float, default=60.0, help="seconds between deadline runs (0: none)"
    )
    worker.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per webhook request (default 10)"
    )
    _add_data_dir(worker)
    worker.set_defaults(handler=_worker_command)

    webhooks = commands.add_parser("webhooks", help="webhook dead letters: list and replay")
    webhooks.add_argument("action", choices=["dead", "replay"])
    webhooks.add_argument("ids", nargs="*", help="delivery ids to replay (replay)")
    webhooks.add_argument(
        "--event", action="append", default=[], help="replay every delivery of this event id"
    )
    webhooks.add_argument("--all-dead", action="store_true", help="replay every dead letter (replay)")
    webhooks.add_argument("--limit", type=int, default=100, help="at most this many (dead)")
    _add_data_dir(webhooks)
    webhooks.set_defaults(handler=_webhooks_command)

    keys = commands.add_parser(
        "keys",
        help="API keys of the service: create, list, revoke, rotate",
        description=(
            "Each key belongs to a tenant (a shop, a store, a partner) of an organisation and has a role: "
            "shop, store, back_office, provider or admin. The store keeps a key's SHA-256 digest only: "
            "a new key is printed once."
        ),
    )
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="mint a key (printed once)")
    create.add_argument("--tenant", required=True, help="the shop, store or partner (a-z 0-9 . _ -)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--organisation", help="the tenant's organisation (default: the tenant)")
    create.add_argument("--label", help="a note: the terminal, the partner system")
    listing = key_commands.add_parser("list", help="every key with its scope and last use (never the key)")
    listing.add_argument("--organisation", help="only this organisation's keys")
    revoke = key_commands.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id", help="the key's id (key_...)")
    rotate = key_commands.add_parser("rotate", help="a successor key; the old one works --grace-days longer")
    rotate.add_argument("key_id", help="the key's id (key_...)")
    rotate.add_argument("--grace-days", type=float, default=7.0, help="days the old key keeps working")
    for parser in (create, listing, revoke, rotate):
        parser.add_argument("--json", action="store_true", help="print JSON")
        _add_data_dir(parser)
        parser.set_defaults(handler=_keys_command)


def _worker_command(args: argparse.Namespace) -> int:
    import threading  # noqa: PLC0415 - loaded by its sub-command only
    from datetime import timedelta  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._app.facade import TradeIn  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._app.worker import install_stop_signals, run_worker  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._remote.service import configure_logging, webhook_endpoints_from  # noqa: PLC0415 - loaded by its sub-command only

    configure_logging()  # passes, ticks and give-ups on standard error ($TRADEIN_LOG_FORMAT=json)
    trade_in = TradeIn.embedded(args.data_dir, webhook_endpoints=webhook_endpoints_from(os.environ))
    stop = threading.Event()
    restore = install_stop_signals(stop)
    try:
        report = run_worker(
            trade_in,
            stop=stop,
            poll_interval=args.poll,
            batch=args.batch,
            concurrency=args.concurrency,
            tick_every=timedelta(seconds=args.tick_every) if args.tick_every > 0 else None,
            timeout=args.timeout,
        )
    finally:
        restore()
        trade_in.close()
    print(report)
    return 0


def _keys_command(args: argparse.Namespace) -> int:
    from datetime import timedelta  # noqa: PLC0415 - loaded by its sub-command only

    trade_in = _trade_in(args)
    try:
        secret = None
        if args.keys_command == "create":
            record, secret = trade_in.create_api_key(
                tenant=args.tenant, role=args.role, organisation=args.organisation, label=args.label
            )
            records = [record]
        elif args.keys_command == "rotate":
            record, secret = trade_in.rotate_api_key(args.key_id, grace=timedelta(days=args.grace_days))
            records = [record]
        elif args.keys_command == "revoke":
            records = [trade_in.revoke_api_key(args.key_id)]
        else:
            records = trade_in.api_keys(organisation=args.organisation)
        now = trade_in.clock.now()
    finally:
        trade_in.close()
    rows = [
        {
            "key_id": record.key_id,
            "tenant": record.scope.tenant,
            "organisation": record.scope.organisation,
            "role": record.scope.role.value,
            "label": record.label,
            "active": record.active(now),
            "created_at": record.created_at.isoformat(),
            "expires_at": None if record.expires_at is None else record.expires_at.isoformat(),
            "revoked_at": None if record.revoked_at is None else record.revoked_at.isoformat(),
            "last_used_at": None if record.last_used_at is None else record.last_used_at.isoformat(),
        }
        for record in records
    ]
    if args.json:
        _print_json({"keys": rows, **({"key": secret} if secret else {})})
        return 0
    for row in rows:
        state = "active" if row["active"] else ("revoked" if row["revoked_at"] else "expired")
        used = row["last_used_at"] or "never used"
        print(f"{row['key_id']}  {row['tenant']}@{row['organisation']}  {row['role']}  {state}  {used}")
    if secret:
        print(f"key (shown once, keep it secret): {secret}")
    return 0


def _webhooks_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        if args.action == "dead":
            for dead in trade_in.dead_webhooks(limit=args.limit):
                error = dead.last_error or ""
                print(f"{dead.delivery_id}  {dead.event_id}  {dead.type}  {dead.endpoint}  {error}")
            return 0
        if not (args.ids or args.event or args.all_dead):
            raise argparse.ArgumentTypeError("webhooks replay needs delivery ids, --event or --all-dead")
        count = trade_in.replay_webhooks(
            delivery_ids=tuple(args.ids), event_ids=tuple(args.event), all_dead=args.all_dead
        )
    finally:
        trade_in.close()
    print(f"{count} webhook(s) queued again")
    return 0


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            "cannot read {path}: {reason}", path=path, reason=exc.strerror or str(exc)
        ) from exc


def _certificate_keys(args: argparse.Namespace) -> PublicKeys:
    """The published keys: ``--keys``, else the installation's ring (never created here)."""
    from tradein_sdk._app.facade import default_data_dir  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.signing import (  # noqa: PLC0415 - loaded by its sub-command only
        ENVIRONMENT_VARIABLE,
        PublicKeys,
        SigningKeys,
    )

    if getattr(args, "keys", None):
        try:
            return PublicKeys.from_jwks(_read_bytes(args.keys))
        except DocumentInvalidError as exc:
            raise DocumentInvalidError(kind=exc.kind, source=args.keys, problems=exc.problems) from exc
    key_file = (Path(args.data_dir) if args.data_dir else default_data_dir()) / "signing-keys.json"
    if os.environ.get(ENVIRONMENT_VARIABLE, "").strip():
        return SigningKeys.configured(key_file).public_keys()
    if not key_file.exists():
        raise ConfigurationError(
            "no signing keys at {path} (this installation has issued no certificate); pass --keys "
            "JWKS_FILE with the issuer's published keys",
            path=str(key_file),
        )
    return SigningKeys.load(key_file).public_keys()


def _check_certificate(args: argparse.Namespace) -> CertificateCheck:
    from tradein_sdk._domain.erasure import (  # noqa: PLC0415 - loaded by its sub-command only
        verify_certificate,
        verify_revocations,
    )
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    keys = _certificate_keys(args)
    revocations = None
    if args.revocations:
        try:
            revocations = verify_revocations(_read_bytes(args.revocations), keys)
        except (SignatureInvalidError, DocumentInvalidError) as exc:
            raise ConfigurationError(
                "the revocation list {path} cannot be used: {problem}",
                path=args.revocations,
                problem=str(exc),
            ) from exc
    return verify_certificate(_read_bytes(args.file), keys, revocations=revocations)


def _certificate_verify(args: argparse.Namespace) -> int:
    check = _check_certificate(args)
    certificate = check.certificate
    if args.json:
        _print_json(
            {
                "file": args.file,
                "status": check.status.value,
                "certificate_id": None if certificate is None else certificate.id,
                "kid": check.kid,
                "reason": check.reason,
                "revocations_checked": args.revocations is not None,
                "revocation": None if check.revocation is None else check.revocation.to_json(),
                "problems": [
                    {"path": problem.path, "message": problem.message} for problem in check.problems
                ],
            }
        )
        return 0 if check.ok else 1
    if check.ok and certificate is not None:
        print(
            f"{args.file}: valid erasure certificate {certificate.id} for {certificate.order_id} / "
            f"{certificate.device_id} ({certificate.device.manufacturer} {certificate.device.model}), "
            f"issued by {certificate.issuer}, signed with key {check.kid}"
        )
        if args.revocations is None:
            print("revocation not checked: pass --revocations FILE with the issuer's latest revocation list")
        return 0
    if check.revocation is not None:
        revocation = check.revocation
        print(
            f"{args.file}: revoked: certificate {revocation.certificate_id} was revoked at "
            f"{revocation.revoked_at:%Y-%m-%dT%H:%M:%SZ} ({revocation.reason.value})"
        )
        return 1
    print(f"{args.file}: invalid ({check.reason})")
    for problem in check.problems:
        print(f"  {problem.path}: {problem.message}")
    return 1


def _certificate_keys_command(args: argparse.Namespace) -> int:
    _print_json(_certificate_keys(args).to_jwks())
    return 0


def _certificate_pdf_command(args: argparse.Namespace) -> int:
    from tradein_sdk._adapters.pdf import certificate_pdf  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.signing import loads_strict  # noqa: PLC0415 - loaded by its sub-command only

    if not args.no_verify:
        check = _check_certificate(args)
        if not check.ok:
            reason = check.reason or check.status.value
            details = "; ".join(f"{problem.path}: {problem.message}" for problem in check.problems)
            print(f"{args.file}: not rendered, the certificate is {check.status.value} ({reason}): {details}")
            return 1
    try:
        envelope = loads_strict(_read_bytes(args.file))
    except ValueError as exc:
        raise DocumentInvalidError(
            kind="erasure-certificate",
            source=args.file,
            problems=[DocumentProblem(path="$", message=str(exc))],
        ) from exc
    output = Path(args.output) if args.output else Path(args.file).with_suffix(".pdf")
    output.write_bytes(certificate_pdf(envelope, locale=args.locale))
    print(f"wrote {output}")
    return 0


def _add_certificate_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    certificate = commands.add_parser(
        "certificate",
        help="data erasure certificates: verify offline, print the published keys, render a PDF",
        description=(
            "A certificate file is the signed JSON document the shop issues (its QR code holds the same). "
            "verify checks it offline with the issuer's published keys (--keys, or this installation's "
            "keys in --data-dir) and, with --revocations, against the signed revocation list."
        ),
    )
    certificate_commands = certificate.add_subparsers(
        dest="certificate_command", required=True, metavar="ACTION"
    )

    def add_key_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--keys",
            metavar="JWKS_FILE",
            help="the issuer's published keys (JWKS); default: this installation's keys in --data-dir",
        )
        parser.add_argument(
            "--revocations", metavar="FILE", help="the issuer's signed revocation list, to check revocation"
        )
        _add_data_dir(parser)

    verify = certificate_commands.add_parser(
        "verify",
        help="verify a certificate file offline: exit 0 only when it is valid",
        description=(
            "Prints valid, revoked or invalid with the reason (malformed, wrong_purpose, unknown_kid, "
            "bad_signature, content) and every problem with its JSON path. Exit status 0 only when valid. "
            "Never creates a key file: without --keys, the installation's key file must exist."
        ),
    )
    verify.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    add_key_options(verify)
    verify.add_argument("--json", action="store_true", help="print the outcome as JSON")
    verify.set_defaults(handler=_certificate_verify)

    keys = certificate_commands.add_parser(
        "keys", help="print this installation's published keys (JWKS) for verifiers"
    )
    _add_data_dir(keys)
    keys.set_defaults(handler=_certificate_keys_command)

    pdf = certificate_commands.add_parser(
        "pdf",
        help="render a certificate file as an A4 PDF for the customer, with a QR code",
        description="Verifies the certificate first (as verify does) unless --no-verify.",
    )
    pdf.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    pdf.add_argument(
        "--locale", default="de", help="the customer's language: de, en, es, fr, it (default de)"
    )
    pdf.add_argument("--output", "-o", metavar="OUT", help="the PDF to write (default: FILE with .pdf)")
    pdf.add_argument("--no-verify", action="store_true", help="render without verifying the certificate")
    add_key_options(pdf)
    pdf.set_defaults(handler=_certificate_pdf_command)


# -- co2 ------------------------------------------------------------------------------------------------


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
        raise argparse.ArgumentTypeError(f"--years: {args.years!r} is not a number") from exc
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
    trade_in = _trade_in(args)
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
    from datetime import date  # noqa: PLC0415 - loaded by its sub-command only

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--from/--to: {exc} (write YYYY-MM-DD)") from exc
    show = sys.stderr.isatty() or args.progress

    def progress(read: int) -> None:
        if show:
            print(f"read {read} orders", file=sys.stderr, flush=True)

    trade_in = _trade_in(args)
    try:
        entries = trade_in.co2_entries(start, end, progress=progress)
        if args.format == "csv":
            from tradein_sdk._domain.co2 import co2_report_csv  # noqa: PLC0415 - loaded by its sub-command only

            data = co2_report_csv(entries).encode()
        elif args.format == "pdf":  # a rendering of the figures; the signed JSON is what an auditor checks
            from tradein_sdk._adapters.co2_pdf import co2_report_pdf  # noqa: PLC0415 - loaded by its sub-command only

            document = trade_in._co2_document(entries, start=start, end=end, company=args.company)  # noqa: SLF001
            data = co2_report_pdf(document, locale=args.locale)
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
    output.write_bytes(data)
    print(f"wrote {output}")
    return 0


def _co2_verify_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.co2 import REPORT_PURPOSE  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.signing import verify_document  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    try:
        payload = verify_document(_read_bytes(args.file), _certificate_keys(args), purpose=REPORT_PURPOSE)
    except SignatureInvalidError as exc:
        print(f"{args.file}: invalid ({exc.reason}): {exc.detail}")
        return 1
    totals = payload.get("totals", {})
    print(
        f"{args.file}: valid CO2 report for {payload.get('company')} "
        f"{payload.get('period', {}).get('start')} to {payload.get('period', {}).get('end')}: "
        f"{totals.get('devices')} devices, {totals.get('avoided_kg', {}).get('central')} kg CO2e avoided"
    )
    return 0


def _add_co2_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    co2 = commands.add_parser(
        "co2",
        help="CO2e avoided by device reuse: per device, order and period, with cited factors",
        description=(
            "Avoided emissions (outside any Scope-3 inventory) with a low/central/high range; every term "
            "cites its factor row and source (tradein_sdk/data/co2-factors.json, method tradein-co2-1)."
        ),
    )
    co2_commands = co2.add_subparsers(dest="co2_command", required=True, metavar="ACTION")
    device = co2_commands.add_parser("device", help="the CO2 result of a catalog device")
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
    device.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(device)
    device.set_defaults(handler=_co2_device_command)
    order = co2_commands.add_parser("order", help="the CO2 result of an order's bought and recycled devices")
    order.add_argument("order_id", metavar="ORDER_ID")
    order.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(order)
    order.set_defaults(handler=_co2_order_command)
    report = co2_commands.add_parser(
        "report",
        help="the signed report of a period (JSON), its devices (CSV) or a PDF with a chart",
        description="Progress goes to stderr (when it is a terminal, or with --progress).",
    )
    report.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="the first day")
    report.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="the last day")
    report.add_argument("--company", help="whom the report is for (default: the organisation)")
    report.add_argument("--format", choices=("json", "csv", "pdf"), default="json")
    report.add_argument("--locale", default="en", help="the PDF's language (default en)")
    report.add_argument(
        "--output", "-o", metavar="OUT", help="the file to write (default: stdout; PDF: a file)"
    )
    report.add_argument("--progress", action="store_true", help="report progress on stderr")
    _add_data_dir(report)
    report.set_defaults(handler=_co2_report_command)
    verify = co2_commands.add_parser("verify", help="verify a signed CO2 report offline")
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--keys", metavar="JWKS_FILE", help="the issuer's published keys (default: --data-dir's)"
    )
    _add_data_dir(verify)
    verify.set_defaults(handler=_co2_verify_command)


# -- fleet ------------------------------------------------------------------------------------------------


def _fleet_company_command(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._domain.credit_notes import SelfBillingAgreement  # noqa: PLC0415
    from tradein_sdk._domain.fleet import Address, FrameworkContract  # noqa: PLC0415

    try:
        factor = Decimal(args.factor)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"--factor: {args.factor!r} is not a number") from exc
    country, _, subdivision = args.holidays.partition("-")
    trade_in = _trade_in(args)
    try:
        agreement = (
            SelfBillingAgreement(version=args.self_billing, accepted_at=trade_in.clock.now())
            if args.self_billing
            else None
        )
        company = trade_in.open_company(
            args.name,
            Address(street=args.street, postcode=args.postcode, city=args.city, country=args.country.upper()),
            vat_status=args.vat_status,
            vat_id=args.vat_id,
            tax_number=args.tax_number,
            contract=FrameworkContract(
                reference=args.contract,
                price_factor=factor,
                quote_validity_days=args.validity_days,
                pickup_days=args.pickup_days,
                payment_days=args.payment_days,
                holiday_country=country,
                holiday_subdivision=subdivision or None,
                self_billing=agreement,
            ),
            contacts=[{"email": args.contact}] if args.contact else (),
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json(company.to_json())
    else:
        print(company.id)
    return 0


def _fleet_companies_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        companies = trade_in.companies()
    finally:
        trade_in.close()
    if args.json:
        _print_json([company.to_json() for company in companies])
        return 0
    for company in companies:
        print(f"{company.id}  {company.legal_name}  {company.vat_id or '-'}  {company.vat_status.value}")
    return 0


def _fleet_quote_command(args: argparse.Namespace) -> int:
    from rich.console import Console  # noqa: PLC0415 - loaded by its sub-command only
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from tradein_sdk._errors import AssetImportError  # noqa: PLC0415

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc
    errors = Console(stderr=True)
    shown = args.progress or (errors.is_terminal and not args.json)
    trade_in = _trade_in(args)
    try:
        with Progress(
            TextColumn("pricing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            disable=not shown,
            transient=True,
        ) as bar:
            task = bar.add_task("pricing", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            try:
                portfolio = trade_in.fleet_quote(
                    args.company,
                    data,
                    filename=path.name,
                    default_grade=args.default_grade,
                    skip_invalid=args.skip_invalid,
                    dry_run=args.dry_run,
                    progress=progress,
                )
            except AssetImportError as exc:
                for problem in exc.problems:
                    print(f"{path.name}: {problem}", file=sys.stderr)
                print(
                    f"error [{exc.code}]: {len(exc.problems)} problem(s); nothing was imported",
                    file=sys.stderr,
                )
                return 1
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            {
                "batch_id": portfolio.batch_id,
                "company_id": portfolio.company_id,
                "issued_at": portfolio.issued_at.isoformat(),
                "valid_until": portfolio.valid_until.isoformat(),
                "pricebook": portfolio.pricebook,
                "totals": portfolio.totals.to_json(),
                "lines": [line.to_json() for line in portfolio.lines],
                "problems": [str(problem) for problem in portfolio.problems],
                "signed": portfolio.envelope,
            }
        )
        return 0
    console = Console()
    groups: dict[str, list[Any]] = {}
    for line in portfolio.lines:
        groups.setdefault(line.description, []).append(line)
    table = Table(title=f"Portfolio quote {portfolio.batch_id or '(dry run)'}", show_footer=True)
    totals = portfolio.totals
    table.add_column("Device", footer="Total")
    table.add_column("Count", justify="right", footer=str(totals.devices))
    table.add_column("Quoted", justify="right", footer=str(totals.amount))
    table.add_column("If one grade worse", justify="right", footer=str(totals.low))
    for description, lines in sorted(groups.items()):
        amount = sum(line.amount.amount for line in lines)
        low = sum(line.low.amount for line in lines)
        table.add_row(description, str(len(lines)), f"{amount:.2f}", f"{low:.2f}")
    console.print(table)
    print(f"valid until {portfolio.valid_until.isoformat()}; price book {portfolio.pricebook}")
    if totals.locks_to_release:
        print(
            f"{totals.locks_to_release} device(s) not marked as released from MDM or Activation Lock: "
            "release them before the pickup"
        )
    for problem in portfolio.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def _fleet_check_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc
    trade_in = _trade_in(args)
    try:
        imported = trade_in.read_assets(data, filename=path.name, default_grade=args.default_grade)
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            {
                "rows_read": imported.rows_read,
                "rows": len(imported.rows),
                "problems": [
                    {"row": p.row, "column": p.column, "code": p.code, "message": p.message, "value": p.value}
                    for p in imported.problems
                ],
            }
        )
    else:
        for problem in imported.problems:
            print(f"{path.name}: {problem}")
        print(
            f"{len(imported.rows)} of {imported.rows_read} row(s) import; {len(imported.problems)} problem(s)"
        )
    return 1 if imported.problems else 0


def _fleet_show_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        batch = trade_in.fleet_batch(args.batch_id)
    finally:
        trade_in.close()
    summary = {
        "id": batch.id,
        "company_id": batch.company_id,
        "state": batch.state.value,
        "order_id": batch.order_id,
        "totals": batch.portfolio.totals.to_json(),
        "lines": [
            {
                "line": view.line.line,
                "description": view.line.description,
                "asset_tag": view.line.asset_tag,
                "status": view.status.value,
                "state": view.state.value if view.state else None,
                "quoted": view.line.amount.to_json(),
                "offer": view.offer.to_json() if view.offer else None,
            }
            for view in batch.lines
        ],
        "extras": [extra.to_json() for extra in batch.extras],
        "settlement": batch.settlement,
    }
    if args.json:
        _print_json(summary)
        return 0
    print(
        f"{batch.id}  {batch.state.value}  {batch.portfolio.totals.devices} device(s)  "
        f"{batch.portfolio.totals.amount}"
    )
    for view in batch.lines:
        state = view.state.value if view.state else view.status.value
        print(
            f"  {view.line.line:>4}  {view.line.description:<36} {view.line.asset_tag or '-':<12} "
            f"{state:<18} {view.line.amount}"
        )
    return 0


def _fleet_report_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        content = trade_in.fleet_report_file(args.batch_id, format=args.format, locale=args.locale)
    finally:
        trade_in.close()
    return _write_output(content, args.output, binary=args.format in {"xlsx", "pdf"})


def _fleet_document_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        if args.kind is None:
            documents = trade_in.fleet_documents(args.batch_id)
        else:
            document = trade_in.fleet_document(args.batch_id, args.kind)
    finally:
        trade_in.close()
    if args.kind is None:
        for item in documents:
            number = item.number or "-"
            print(f"{item.kind:<24} {number:<16} sha256:{item.sha256}  kept until {item.retain_until}")
        return 0
    return _write_output(document.content, args.output, binary=document.media_type == "application/pdf")


def _write_output(content: bytes, output: str | None, *, binary: bool) -> int:
    """Write a file's bytes to ``output``, or to standard output (refused for a binary to a terminal)."""
    if output:
        Path(output).write_bytes(content)
        print(output, file=sys.stderr)
        return 0
    if binary and sys.stdout.isatty():
        raise argparse.ArgumentTypeError("a binary file is not written to a terminal: give --output FILE")
    sys.stdout.buffer.write(content)
    sys.stdout.flush()
    return 0


def _fleet_verify_command(args: argparse.Namespace) -> int:
    import json  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._app.fleet import lines_digest  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.fleet import HANDOVER_PURPOSE, PORTFOLIO_PURPOSE  # noqa: PLC0415
    from tradein_sdk._domain.signing import envelope_kid, verify_document  # noqa: PLC0415
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    data = json.loads(_read_bytes(args.file))
    envelope = data.get("signed", data) if isinstance(data, dict) else data
    purpose = (
        HANDOVER_PURPOSE
        if isinstance(envelope, dict) and "handed_over_at" in str(envelope)
        else PORTFOLIO_PURPOSE
    )
    try:
        payload = verify_document(envelope, _certificate_keys(args), purpose=purpose)
    except SignatureInvalidError as exc:
        print(f"{args.file}: invalid ({exc.reason}): {exc.detail}")
        return 1
    lines = data.get("lines") if isinstance(data, dict) else None
    if purpose == PORTFOLIO_PURPOSE and isinstance(lines, list):
        from tradein_sdk._app.fleet import _line_json_text  # noqa: PLC0415
        from tradein_sdk._domain.fleet import PortfolioLine  # noqa: PLC0415

        texts = [_line_json_text(PortfolioLine.from_json(line)) for line in lines]
        if lines_digest(texts) != payload.get("lines_digest"):
            print(f"{args.file}: invalid (lines_changed): the lines do not match the signed digest")
            return 1
    kind = "hand-over record" if purpose == HANDOVER_PURPOSE else "portfolio quote"
    print(f"{args.file}: valid {kind} of batch {payload.get('batch_id')} (key {envelope_kid(envelope)})")
    return 0


def _add_fleet_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    fleet = commands.add_parser(
        "fleet",
        help="fleet trade-in for companies: accounts, asset lists, portfolio quotes, batches",
        description="A company's devices traded in together: from its asset list to one credit note.",
    )
    fleet_commands = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    company = fleet_commands.add_parser("company", help="open a company account")
    company.add_argument("--name", required=True, help="the legal name")
    company.add_argument("--street", required=True)
    company.add_argument("--postcode", required=True)
    company.add_argument("--city", required=True)
    company.add_argument("--country", default="DE", help="ISO 3166 alpha-2 (default DE)")
    company.add_argument("--vat-id", help="the VAT identification number (checked)")
    company.add_argument("--tax-number", help="the national tax number")
    company.add_argument(
        "--vat-status",
        choices=("regular", "small_business", "margin_scheme", "not_registered"),
        default="regular",
        help="how the company sells for VAT (default regular)",
    )
    company.add_argument("--contract", default="framework", help="the framework contract's reference")
    company.add_argument("--factor", default="1", help="a factor on the shop's prices (default 1)")
    company.add_argument(
        "--validity-days", type=int, default=30, help="portfolio quote validity (default 30)"
    )
    company.add_argument(
        "--pickup-days", type=int, default=5, help="pickup within N working days (default 5)"
    )
    company.add_argument(
        "--payment-days", type=int, default=10, help="payment within N working days (default 10)"
    )
    company.add_argument(
        "--holidays", default="DE", help="holiday calendar: country[-subdivision], e.g. DE-BY"
    )
    company.add_argument(
        "--self-billing", metavar="VERSION", help="the self-billing agreement's version, accepted now"
    )
    company.add_argument("--contact", metavar="EMAIL", help="a contact e-mail (kept as personal data)")
    company.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(company)
    company.set_defaults(handler=_fleet_company_command)
    companies = fleet_commands.add_parser("companies", help="list the company accounts")
    companies.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(companies)
    companies.set_defaults(handler=_fleet_companies_command)
    check = fleet_commands.add_parser("check", help="check an asset list: every problem by row and column")
    check.add_argument("file", metavar="FILE", help="a CSV or XLSX asset list")
    check.add_argument("--default-grade", help="the grade of rows without answers or grade")
    check.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(check)
    check.set_defaults(handler=_fleet_check_command)
    quote = fleet_commands.add_parser(
        "quote",
        help="price an asset list: one signed portfolio quote with a summary table",
        description="Progress goes to stderr (when it is a terminal, or with --progress).",
    )
    quote.add_argument("file", metavar="FILE", help="a CSV or XLSX asset list")
    quote.add_argument("--company", required=True, help="the company account's id")
    quote.add_argument("--default-grade", help="the grade of rows without answers or grade")
    quote.add_argument(
        "--skip-invalid", action="store_true", help="quote the good rows, list the rejected ones"
    )
    quote.add_argument("--dry-run", action="store_true", help="price without storing or signing")
    quote.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    quote.add_argument("--json", action="store_true", help="print JSON (every line and the signed document)")
    _add_data_dir(quote)
    quote.set_defaults(handler=_fleet_quote_command)
    _add_fleet_batch_commands(fleet_commands)


def _add_fleet_batch_commands(fleet_commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    show = fleet_commands.add_parser("show", help="a batch and its lines as they stand")
    show.add_argument("batch_id", metavar="BATCH_ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(show)
    show.set_defaults(handler=_fleet_show_command)
    report = fleet_commands.add_parser(
        "report", help="a batch's report: the asset-disposal export (CSV), XLSX, PDF or JSON"
    )
    report.add_argument("batch_id", metavar="BATCH_ID")
    report.add_argument("--format", choices=("csv", "xlsx", "pdf", "json"), default="csv")
    report.add_argument("--locale", help="the PDF's language (default: the shop's)")
    report.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_data_dir(report)
    report.set_defaults(handler=_fleet_report_command)
    document = fleet_commands.add_parser(
        "documents", help="a batch's archived documents, or one of them (credit note PDF or XML, ...)"
    )
    document.add_argument("batch_id", metavar="BATCH_ID")
    document.add_argument(
        "kind",
        nargs="?",
        help="credit_note_pdf, credit_note_xml, purchase_statement_pdf, handover_record, ...",
    )
    document.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_data_dir(document)
    document.set_defaults(handler=_fleet_document_command)
    verify = fleet_commands.add_parser(
        "verify", help="verify a portfolio quote (`fleet quote --json`) or a hand-over record offline"
    )
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--keys", metavar="JWKS_FILE", help="the issuer's published keys (default: --data-dir's)"
    )
    _add_data_dir(verify)
    verify.set_defaults(handler=_fleet_verify_command)


# -- guarantees ---------------------------------------------------------------------------------------------


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
    trade_in = _trade_in(args)
    try:
        envelope = trade_in.guarantee_document(args.contract_id)
    finally:
        trade_in.close()
    _print_json(envelope)
    return 0


def _guarantee_liability_command(args: argparse.Namespace) -> int:
    as_of = _as_of(args)
    trade_in = _trade_in(args)
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


def _as_of(args: argparse.Namespace) -> Any:  # noqa: ANN401 - a date or None
    """The ``--as-of`` day of a guarantee command, ``None`` for today."""
    import datetime as dt  # noqa: PLC0415 - loaded by its sub-command only

    try:
        return dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--as-of: {args.as_of!r} is not a date (YYYY-MM-DD)") from exc


def _guarantee_status_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
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
    trade_in = _trade_in(args)
    try:
        calendar = trade_in.guarantee_calendar(args.customer_ref, as_of=_as_of(args))
    finally:
        trade_in.close()
    if args.format == "csv":
        return _write_output(calendar.to_csv().encode(), args.output, binary=False)
    return _write_output(json.dumps(calendar.to_json(), indent=2).encode() + b"\n", args.output, binary=False)


def _guarantee_verify_command(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.guarantees import CONTRACT_PURPOSE  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.signing import verify_document  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    try:
        payload = verify_document(_read_bytes(args.file), _certificate_keys(args), purpose=CONTRACT_PURPOSE)
    except SignatureInvalidError as exc:
        print(f"{args.file}: invalid ({exc.reason}): {exc.detail}")
        return 1
    plan, window = payload.get("plan", {}), payload.get("window", {})
    print(
        f"{args.file}: valid buy-back guarantee {payload.get('id')} for {payload.get('device')} "
        f"bought on {payload.get('purchased_on')}: plan {plan.get('id')}, terms {plan.get('terms_version')}, "
        f"exercisable {window.get('exercisable_from')} to {window.get('expires_on')}"
    )
    return 0


def _guarantee_release_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args)
    try:
        released = trade_in.release_lapsed_guarantees()
    finally:
        trade_in.close()
    print(f"{released} lapsed guarantee{'' if released == 1 else 's'} released")
    return 0


def _add_guarantee_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    guarantees = commands.add_parser(
        "guarantees",
        help="forward trade-in: buy-back guarantees sold with new devices, and what they may cost",
        description="Guaranteed buy-back prices; plans in tradein_sdk/data/guarantees/.",
    )
    actions = guarantees.add_subparsers(dest="guarantees_command", required=True, metavar="ACTION")
    offers = actions.add_parser("offers", help="the guarantees a device being bought may have")
    offers.add_argument("device_id", metavar="DEVICE_ID")
    offers.add_argument("--price", required=True, help="the purchase price, e.g. 899")
    offers.add_argument("--currency", default="EUR")
    offers.add_argument("--financed", help="the financed amount, for upgrade plans")
    offers.add_argument("--channel", choices=("online", "store"), default="online")
    offers.add_argument("--customer-case", choices=("consumer", "business"), default="consumer")
    offers.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(offers)
    offers.set_defaults(handler=_guarantee_offers_command)
    show = actions.add_parser("show", help="a sold contract's signed document")
    show.add_argument("contract_id", metavar="CONTRACT_ID")
    _add_data_dir(show)
    show.set_defaults(handler=_guarantee_show_command)
    liability = actions.add_parser(
        "liability", help="outstanding guarantees by month: guaranteed, market value, expected cost, reserve"
    )
    liability.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day of the view (default: today)")
    liability.add_argument(
        "--format", choices=("json", "csv", "png", "svg"), default="json", help="a chart as png or svg"
    )
    liability.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_data_dir(liability)
    liability.set_defaults(handler=_guarantee_liability_command)
    status = actions.add_parser(
        "status", help="where a contract stands: open, in progress, exercised, lapsed"
    )
    status.add_argument("contract_id", metavar="CONTRACT_ID")
    status.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day (default: today)")
    status.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(status)
    status.set_defaults(handler=_guarantee_status_command)
    calendar = actions.add_parser(
        "calendar", help="a buyer's guaranteed inflows per device, month and cost centre"
    )
    calendar.add_argument("customer_ref", metavar="CUSTOMER_REF", help="the buyer (a company's id)")
    calendar.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day of the calendar (default: today)")
    calendar.add_argument("--format", choices=("json", "csv"), default="json")
    calendar.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_data_dir(calendar)
    calendar.set_defaults(handler=_guarantee_calendar_command)
    verify = actions.add_parser("verify", help="verify a signed guarantee contract offline")
    verify.add_argument("file", metavar="FILE", help="the contract as `guarantees show` prints it")
    verify.add_argument(
        "--keys", metavar="JWKS_FILE", help="the issuer's published keys (default: --data-dir's)"
    )
    _add_data_dir(verify)
    verify.set_defaults(handler=_guarantee_verify_command)
    release = actions.add_parser(
        "release-lapsed", help="release the contingent liability of guarantees that expired unexercised"
    )
    _add_data_dir(release)
    release.set_defaults(handler=_guarantee_release_command)


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="where the database and keys live (default $TRADEIN_DATA_DIR or ~/.local/share/tradein)",
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

    _add_questionnaire_commands(commands)
    _add_quote_command(commands)

    _add_offers_and_audit_commands(commands)
    _add_certificate_commands(commands)
    _add_co2_commands(commands)
    _add_fleet_commands(commands)
    _add_guarantee_commands(commands)

    validate = commands.add_parser("validate", help="check a document against its schema and rules")
    validate_commands = validate.add_subparsers(dest="document", required=True, metavar="DOCUMENT")
    validate_catalog = validate_commands.add_parser("catalog", help="validate a catalog file")
    validate_catalog.add_argument("file")
    validate_catalog.set_defaults(handler=_validate_with("catalog", catalog_problems))
    validate_questionnaire = validate_commands.add_parser(
        "questionnaire", help="validate a questionnaire file"
    )
    validate_questionnaire.add_argument("file")
    validate_questionnaire.set_defaults(handler=_validate_questionnaire)
    validate_pricebook = validate_commands.add_parser("pricebook", help="validate a price book file")
    validate_pricebook.add_argument("file")
    from tradein_sdk._domain.pricing import pricebook_problems  # noqa: PLC0415 - loaded by its sub-command only

    validate_pricebook.set_defaults(handler=_validate_with("pricebook", pricebook_problems))
    from tradein_sdk._domain.co2 import co2_factors_problems  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.guarantees import guarantee_plans_problems  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.insurance import insurance_plans_problems  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.promotions import promotions_problems  # noqa: PLC0415 - loaded by its sub-command only

    for name, kind, problems_of in (
        ("co2-factors", "co2-factors", co2_factors_problems),
        ("promotions", "promotions", promotions_problems),
        ("plans", "insurance-plans", insurance_plans_problems),
        ("guarantee-plans", "guarantee-plans", guarantee_plans_problems),
    ):
        command = validate_commands.add_parser(name, help=f"validate a {kind} file")
        command.add_argument("file")
        command.set_defaults(handler=_validate_with(kind, problems_of))
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
