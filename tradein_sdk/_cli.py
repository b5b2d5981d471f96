"""The ``tradein`` command.

One shape throughout: ``tradein COMMAND [ACTION] ARGUMENTS [OPTIONS]``, each command and action with its own
``--help``; ``--json`` on every command that prints results; ``--locale``, else ``$TRADEIN_LOCALE``, else
``en`` wherever texts are rendered. Heavy modules load inside the sub-command handlers only.

Exit status: 0 on success; 1 when a document is invalid, a check fails or a command fails with a library
error (one line ``error [code]: message`` on standard error, never a traceback); 2 for a usage error
(``error [usage]: ...``); 130 when interrupted; 141 when the reader of standard output went away (``| head``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tradein_sdk._domain.catalog import Catalog, read_json_document
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
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from datetime import date

    from grading_questionnaire import Questionnaire
    from tradein_sdk._adapters.sql.store import SQLStore
    from tradein_sdk._app.facade import TradeIn
    from tradein_sdk._domain.co2 import DeviceCO2
    from tradein_sdk._domain.erasure import CertificateCheck
    from tradein_sdk._domain.quotes import Quote
    from tradein_sdk._domain.signing import PublicKeys
    from tradein_sdk._remote.service import TradeInService

LOCALE_ENV = "TRADEIN_LOCALE"
"""The locale of every command that renders texts, when ``--locale`` is not given (else ``en``)."""
DEFAULT_LOCALE = "en"
USAGE_STATUS = 2
INTERRUPTED_STATUS = 130
BROKEN_PIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


class UsageError(Exception):
    """A command line that does not fit the command: ``error [usage]: ...``, exit status 2."""

    code = "usage"

    def __init__(self, message: str, *, prog: str | None = None) -> None:
        """Create the error; ``prog`` is the command it is about (``tradein quote create``), when known."""
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error [usage]: ...`` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Raise the CLI's one-line usage error (:func:`main` prints it and returns status 2)."""
        raise UsageError(message, prog=self.prog)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _locale(args: argparse.Namespace) -> str:
    """The locale of the texts a command renders: ``--locale``, else ``$TRADEIN_LOCALE``, else ``en``."""
    return getattr(args, "locale", None) or os.environ.get(LOCALE_ENV, "").strip() or DEFAULT_LOCALE


def _day(text: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD."""
    from datetime import date  # noqa: PLC0415 - loaded by its sub-command only

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _data_dir(args: argparse.Namespace) -> Path:
    from tradein_sdk._app.facade import default_data_dir  # noqa: PLC0415 - loaded by its sub-command only

    return Path(args.data_dir) if getattr(args, "data_dir", None) else default_data_dir()


def _require_stored_data(args: argparse.Namespace) -> None:
    """Refuse a command that reads stored data where none was ever stored: it creates nothing there."""
    from tradein_sdk._app.facade import DATABASE_URL_ENV  # noqa: PLC0415 - loaded by its sub-command only

    if os.environ.get(DATABASE_URL_ENV):
        return
    directory = _data_dir(args)
    if not (directory / "tradein.sqlite3").is_file():
        raise ConfigurationError(
            "no trade-in data in {path}: nothing was stored there (give --data-dir DIR or set "
            "$TRADEIN_DATA_DIR to where the trade-ins are kept)",
            path=str(directory),
        )


def _catalog(args: argparse.Namespace) -> Catalog:
    catalog = None if args.without_bundled else Catalog.bundled()
    for path in args.catalog:
        layer = Catalog.from_file(path)
        catalog = layer if catalog is None else catalog.extended_with(layer)
    if catalog is None:
        raise UsageError("--without-bundled needs at least one --catalog FILE")
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
    model, locale = entry.model, _locale(args)
    print(f"{model.display_name} ({model.category.value}, released {model.release_date.isoformat()})")
    for variant in model.variants:
        marker = "*" if entry.variant is not None and variant.id == entry.variant.id else " "
        prices = ", ".join(f"{price.market} {price.price.format(locale)}" for price in variant.launch_prices)
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
            _locale(args), audience=Audience.STAFF if args.staff else Audience.SHOPPER
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
        print(f"knockout {knockout.code}: {questionnaire.translate(knockout.message_id, _locale(args))}")
    for finding in report.findings:
        print(f"  - {questionnaire.translate(finding.message_id, _locale(args))}")
    return 0


def _trade_in(args: argparse.Namespace, *, reads: bool = False) -> TradeIn:
    """The embedded facade on ``--data-dir``; ``reads``: the command only reads what is stored there.

    A reading command refuses a data directory that holds no database rather than create one (and keys).
    """
    from tradein_sdk._app.facade import TradeIn  # noqa: PLC0415 - loaded by its sub-command only

    if reads:
        _require_stored_data(args)
    return TradeIn.embedded(
        args.data_dir,
        market=getattr(args, "market", None) or "DE",
        locale=_locale(args),
    )


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


def _db_store(args: argparse.Namespace) -> SQLStore | None:
    """The store of ``--data-dir`` or ``$TRADEIN_DATABASE_URL``; ``None``: ``db status`` and no database."""
    from tradein_sdk._adapters.sql.store import SQLStore  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._app.facade import DATABASE_URL_ENV  # noqa: PLC0415 - loaded by its sub-command only

    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return SQLStore(url, migrate=False)
    database = _data_dir(args) / "tradein.sqlite3"
    if args.db_command == "status" and not database.is_file():
        return None  # schema version 0: nothing to open, and a status creates nothing
    database.parent.mkdir(parents=True, exist_ok=True)
    return SQLStore(f"sqlite:///{database}", migrate=False)


def _db_command(args: argparse.Namespace) -> int:
    from tradein_sdk._adapters.sql.store import iter_migrations  # noqa: PLC0415 - loaded by its sub-command only

    store = _db_store(args)
    try:
        before = 0 if store is None else store.schema_version()
        if store is not None and args.db_command == "migrate":
            after = store.migrate()
            if args.json:
                _print_json({"schema_version": after, "was": before})
            else:
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
            _print_json(document)
            return 0
        print(f"schema version {before} of {latest}" + ("" if pending else ": up to date"))
        for version, text in pending:
            print(f"  pending {version}: {text}")
        return 0
    finally:
        if store is not None:
            store.close()


def _quote_create(args: argparse.Namespace) -> int:
    from tradein_sdk._domain.quotes import Channel  # noqa: PLC0415 - loaded by its sub-command only

    answers = _read_json_file(args.answers, "answers")
    diagnostics = _read_json_file(args.diagnostics, "diagnostics") if args.diagnostics else None
    trade_in = _trade_in(args)
    try:
        issued = trade_in.quote(
            args.device_id,
            answers,
            market=args.market,
            locale=_locale(args),
            imei=args.imei,
            channel=Channel(args.channel),
            verification=args.verification,
            diagnostics=diagnostics,
            audience=args.audience,
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
    """The quote's lines as issued, in its locale; the command's own words are English, times in UTC."""
    from datetime import UTC  # noqa: PLC0415 - loaded by its sub-command only

    expires = quote.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"quote {quote.id} ({quote.kind.value}, {quote.locale}, valid until {expires})")
    grade = quote.pricing_grade or "recycling only"
    print(f"{quote.device.display_name} · {quote.device.storage_gb} GB · {grade}")
    width = max([len(line.text) for line in quote.lines] + [len("total")])
    for line in quote.lines:
        print(f"  {line.text:<{width}}  {line.amount.format(quote.locale):>14}")
    print(f"  {'total':<{width}}  {quote.amount.format(quote.locale):>14}")


def _require_quote_keys(args: argparse.Namespace) -> None:
    """Refuse to verify a token where no quote key was ever made: verifying never creates a key."""
    from tradein_sdk._domain.tokens import ENVIRONMENT_VARIABLE  # noqa: PLC0415 - loaded by its sub-command only

    if os.environ.get(ENVIRONMENT_VARIABLE, "").strip():
        return
    key_file = _data_dir(args) / "quote-keys.json"
    if not key_file.is_file():
        raise ConfigurationError(
            "no quote key found in the data directory {directory} ({file} is missing), so no token can "
            "be checked here: give --data-dir DIR where the quotes were issued, or set ${variable}",
            directory=str(key_file.parent),
            file=key_file.name,
            variable=ENVIRONMENT_VARIABLE,
        )


def _quote_verify(args: argparse.Namespace) -> int:
    _require_quote_keys(args)
    trade_in = _trade_in(args, reads=True)
    try:
        claims = trade_in.verify_token(args.token, audience=args.audience)
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


def _quote_show(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        stored = trade_in.get_quote(args.quote_id)
    finally:
        trade_in.close()
    if args.json:
        redemption = stored.redemption
        _print_json(
            {
                "quote": stored.quote.to_json(),
                "redemption": None if redemption is None else _redemption_json(redemption),
            }
        )
        return 0
    _print_quote(stored.quote)
    if stored.redemption is not None:
        reference = stored.redemption.reference or "no reference"
        print(f"redeemed {stored.redemption.redeemed_at.isoformat()} ({reference})")
    return 0


def _redemption_json(redemption: Any) -> dict[str, Any]:  # noqa: ANN401 - a Redemption
    return {
        "quote_id": redemption.quote_id,
        "redemption_id": redemption.redemption_id,
        "amount": redemption.amount.to_json(),
        "reference": redemption.reference,
        "redeemed_at": redemption.redeemed_at.isoformat(),
    }


def _quote_redeem(args: argparse.Namespace) -> int:
    _require_quote_keys(args)
    trade_in = _trade_in(args, reads=True)
    try:
        redemption = trade_in.redeem(args.token, reference=args.reference, audience=args.audience)
    finally:
        trade_in.close()
    if args.json:
        _print_json(_redemption_json(redemption))
        return 0
    print(f"redeemed quote {redemption.quote_id}: {redemption.amount} ({redemption.redemption_id})")
    return 0


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


def _progress_console(args: argparse.Namespace) -> Any:  # noqa: ANN401 - a rich Console
    """Standard error as a rich console: progress on a terminal (or with ``--progress``), not in a pipe."""
    from rich.console import Console  # noqa: PLC0415 - loaded by its sub-command only

    return Console(stderr=True, force_terminal=True if getattr(args, "progress", False) else None)


def _audit_verify(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    errors = _progress_console(args)
    trade_in = _trade_in(args, reads=True)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=errors,
            disable=not errors.is_terminal,
            transient=True,
        ) as bar:
            task = bar.add_task("reading the latest signed checkpoint", total=None)
            latest = trade_in.latest_checkpoint()
            bar.update(task, description="verifying the audit log's hash chain")
            if args.no_checkpoint:
                result = trade_in.verify_audit(anchor=())
            else:
                result = trade_in.checkpoint_audit(adopt=args.adopt)
    except SignatureInvalidError as exc:
        print(f"error [{exc.code}]: the latest audit checkpoint does not verify: {exc}", file=sys.stderr)
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
    trade_in = _trade_in(args, reads=True)
    try:
        written = trade_in.export_audit(Path(args.output), format=args.format)
    finally:
        trade_in.close()
    if args.json:
        _print_json({"written": [str(path) for path in written]})
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0


# -- validate ---------------------------------------------------------------------------------------------

VALIDATED_DOCUMENTS: dict[str, str] = {
    "catalog": "catalog",
    "questionnaire": "questionnaire",
    "pricebook": "pricebook",
    "promotions": "promotions",
    "plans": "insurance-plans",
    "co2-factors": "co2-factors",
    "guarantee-plans": "guarantee-plans",
}
"""``tradein validate`` sub-command → the kind of document (its schema's name)."""

_PATH_IN_TEXT = re.compile(r"\$(?:\.[A-Za-z_][\w-]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\])+")
_PATH_STEP = re.compile(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")

Steps = tuple[str | int, ...]


def _problems_function(kind: str) -> Callable[[object], Sequence[Any]]:
    """The domain's check of a kind of document: schema problems first; rules only on a schema-valid one."""
    function: Callable[[object], Sequence[Any]]
    if kind == "catalog":
        from tradein_sdk._domain.catalog import catalog_problems as function  # noqa: PLC0415
    elif kind == "questionnaire":
        from grading_questionnaire._definition import questionnaire_problems as function  # noqa: PLC0415
    elif kind == "pricebook":
        from tradein_sdk._domain.pricing import pricebook_problems as function  # noqa: PLC0415
    elif kind == "promotions":
        from tradein_sdk._domain.promotions import promotions_problems as function  # noqa: PLC0415
    elif kind == "insurance-plans":
        from tradein_sdk._domain.insurance import insurance_plans_problems as function  # noqa: PLC0415
    elif kind == "co2-factors":
        from tradein_sdk._domain.co2 import co2_factors_problems as function  # noqa: PLC0415
    else:
        from tradein_sdk._domain.guarantees import guarantee_plans_problems as function  # noqa: PLC0415
    return function


def _path_steps(path: str) -> Steps | None:
    """A JSON path's steps (``$.models[3]['a b']`` → ``("models", 3, "a b")``); ``None`` if it is not one."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return None
        key, quoted, index = match.groups()
        if index is not None:
            steps.append(int(index))
        elif quoted is not None:
            steps.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            steps.append(key)
        position = match.end()
    return tuple(steps)


def _original_path(path: str, kept: dict[Steps, list[int]]) -> str:
    """Rewrite a path into a pruned document (see :func:`_document_problems`) as a path into the original."""
    steps = _path_steps(path)
    if steps is None:
        return path
    original = _original_steps(steps, kept)
    text = "$"
    for step, (key, quoted, _) in zip(original, _PATH_STEP.findall(path[1:]), strict=True):
        text += f"[{step}]" if isinstance(step, int) else (f"['{quoted}']" if quoted else f".{key}")
    return text


def _original_text(text: str, kept: dict[Steps, list[int]]) -> str:
    """A message with the paths it names (``already used at $.models[7].id``) pointing into the original."""
    return _PATH_IN_TEXT.sub(lambda match: _original_path(match[0], kept), text)


def _original_steps(steps: Sequence[str | int], kept: dict[Steps, list[int]]) -> Steps:
    original: list[str | int] = []
    for step in steps:
        indices = kept.get(tuple(original))
        if isinstance(step, int) and indices is not None and 0 <= step < len(indices):
            original.append(indices[step])
        else:
            original.append(step)
    return tuple(original)


def _pruned(node: object, removed: set[Steps], here: Steps, kept: dict[Steps, list[int]]) -> object:
    """``node`` without the array elements in ``removed``; ``kept``: the indices that stayed, per array."""
    if isinstance(node, list):
        indices = [index for index in range(len(node)) if (*here, index) not in removed]
        kept[here] = indices
        return [_pruned(node[index], removed, (*here, index), kept) for index in indices]
    if isinstance(node, dict):
        return {key: _pruned(value, removed, (*here, key), kept) for key, value in node.items()}
    return node


def _document_problems(kind: str, document: object) -> tuple[list[dict[str, Any]], bool]:
    """Every problem of a decoded document, schema and rules at once, and whether the rules were checked.

    The domain checks its rules only on a document that matches the schema, and some rules only once the
    earlier ones hold. So the array elements with problems are left out (the innermost element around each;
    an element emptied of its only items goes too) and the rest is checked again, until no new problem comes
    up; every path points into the original document. A schema problem outside any array element
    (``$.version``) leaves nothing to leave out: then the rules are not checked.
    """
    from grading_questionnaire._schemas import validator  # noqa: PLC0415 - jsonschema loads with its sub-command

    problems_of = _problems_function(kind)
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    removed: set[Steps] = set()
    rules_checked = False
    while True:
        kept: dict[Steps, list[int]] = {}
        rest = _pruned(document, removed, (), kept)
        errors = list(validator(kind).iter_errors(rest))  # type: ignore[arg-type]  # any decoded JSON value
        stage = "schema" if errors else "rules"
        rules_checked = rules_checked or not errors
        targets: list[Steps] = []
        for problem in problems_of(rest):
            path = _original_path(problem.path, kept)
            steps = _path_steps(path)
            if stage == "schema" and steps is not None and any(steps == item[:-1] for item in removed):
                continue  # an array that leaving elements out shortened: not the document's problem
            if steps is not None and stage == "rules":
                targets.append(steps)
            message = _original_text(problem.message, kept)
            if (path, message) not in seen:
                seen.add((path, message))
                code = getattr(problem, "code", None)
                found.append({"path": path, "message": message, "code": code, "stage": stage})
        targets += [_original_steps(list(error.absolute_path), kept) for error in errors]
        before = len(removed)
        for steps in targets:
            elements = [position for position, step in enumerate(steps) if isinstance(step, int)]
            if not elements and errors:
                return found, rules_checked  # the schema fails outside any element: the rules cannot run
            if elements:
                removed.add(steps[: elements[-1] + 1])
        if len(removed) == before:
            return found, rules_checked


def _validate_command(args: argparse.Namespace) -> int:
    kind = VALIDATED_DOCUMENTS[args.document]
    try:
        document = read_json_document(Path(args.file), kind=kind)
    except DocumentInvalidError as exc:  # not JSON at all: nothing else can be checked
        problems = [
            {"path": problem.path, "message": problem.message, "code": None, "stage": "json"}
            for problem in exc.problems
        ]
        rules_checked = False
    else:
        problems, rules_checked = _document_problems(kind, document)
    if args.json:
        _print_json(
            {
                "file": args.file,
                "kind": kind,
                "valid": not problems,
                "rules_checked": rules_checked,
                "problems": problems,
            }
        )
        return 1 if problems else 0
    if not problems:
        print(f"{args.file}: valid {kind}")
        return 0
    for problem in problems:
        code = f" [{problem['code']}]" if problem["code"] else ""
        print(f"{args.file}: {problem['path']}: {problem['message']}{code}")
    if not rules_checked:
        print(
            f"{args.file}: the rules beyond the schema are checked once the problems above are fixed",
            file=sys.stderr,
        )
    return 1


def _offers_command(args: argparse.Namespace) -> int:
    from datetime import date  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._domain.insurance import PlanCatalogOfferSource, PurchaseCondition  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.money import Money  # noqa: PLC0415 - loaded by its sub-command only

    entry = _catalog(args).lookup(args.device_id)
    source = PlanCatalogOfferSource.from_file(args.plans) if args.plans else PlanCatalogOfferSource.example()
    today = args.date or date.today()  # noqa: DTZ011 - a CLI default
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
                    "texts": list(offer.disclosures(_locale(args))),
                }
                for offer in offers
            ]
        )
        return 0
    if not offers:
        print(f"no protection plan fits {entry.model.display_name} at {args.price} {args.currency}")
    for offer in offers:
        print(f"{offer.offer_id}: {offer.premium.gross.format(_locale(args))}")
        for text in offer.disclosures(_locale(args)):
            print(f"  {text}")
    return 0


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

    trade_in = _trade_in(args, reads=args.keys_command != "create")
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


def _webhooks_dead(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        dead = trade_in.dead_webhooks(limit=args.limit)
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            [
                {
                    "delivery_id": letter.delivery_id,
                    "event_id": letter.event_id,
                    "type": letter.type,
                    "endpoint": letter.endpoint,
                    "created_at": letter.created_at.isoformat(),
                    "attempts": letter.attempts,
                    "last_error": letter.last_error,
                }
                for letter in dead
            ]
        )
        return 0
    for letter in dead:
        error = letter.last_error or ""
        print(f"{letter.delivery_id}  {letter.event_id}  {letter.type}  {letter.endpoint}  {error}")
    return 0


def _webhooks_replay(args: argparse.Namespace) -> int:
    if not (args.ids or args.event or args.all_dead):
        raise UsageError("tradein webhooks replay: give delivery ids, --event EVENT_ID or --all-dead")
    trade_in = _trade_in(args, reads=True)
    try:
        count = trade_in.replay_webhooks(
            delivery_ids=tuple(args.ids), event_ids=tuple(args.event), all_dead=args.all_dead
        )
    finally:
        trade_in.close()
    if args.json:
        _print_json({"queued": count})
        return 0
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
    _write_file(output, certificate_pdf(envelope, locale=_locale(args)))
    if args.json:
        _print_json({"written": str(output)})
        return 0
    print(f"wrote {output}")
    return 0


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

            document = trade_in._co2_document(entries, start=start, end=end, company=args.company)  # noqa: SLF001
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


def _invalid_document(args: argparse.Namespace, reason: str, detail: str) -> int:
    """A signed document that does not verify: exit status 1, the reason on standard output."""
    if args.json:
        _print_json({"file": args.file, "valid": False, "reason": reason, "detail": detail})
    else:
        print(f"{args.file}: invalid ({reason}): {detail}")
    return 1


def _verified(
    args: argparse.Namespace, document: Mapping[str, Any] | str | bytes, purpose: str
) -> dict[str, Any] | int:
    """A signed document's payload checked against the issuer's keys, or the exit status of an invalid one."""
    from tradein_sdk._domain.signing import verify_document  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    try:
        payload: dict[str, Any] = verify_document(document, _certificate_keys(args), purpose=purpose)
    except SignatureInvalidError as exc:
        return _invalid_document(args, exc.reason, exc.detail)
    return payload


def _add_verify_command(actions: Any, help_text: str, handler: Callable[[argparse.Namespace], int]) -> None:  # noqa: ANN401 - argparse's subparsers action
    """The ``verify FILE [--keys JWKS_FILE]`` sub-command of a signed document kind."""
    verify = _command(actions, "verify", help_text, handler=handler, json="print JSON", data_dir=True)
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--keys", metavar="JWKS_FILE", help="the issuer's published keys (default: --data-dir's)"
    )


def _valid_document(args: argparse.Namespace, payload: object, text: str) -> int:
    if args.json:
        _print_json({"file": args.file, "valid": True, "payload": payload})
    else:
        print(f"{args.file}: {text}")
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


# -- fleet ------------------------------------------------------------------------------------------------


def _fleet_company_command(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415 - loaded by its sub-command only

    from tradein_sdk._domain.credit_notes import SelfBillingAgreement  # noqa: PLC0415
    from tradein_sdk._domain.fleet import Address, FrameworkContract  # noqa: PLC0415

    try:
        factor = Decimal(args.factor)
    except InvalidOperation as exc:
        raise UsageError(f"--factor: {args.factor!r} is not a number") from exc
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
    trade_in = _trade_in(args, reads=True)
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
    data = _read_bytes(args.file)
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
    data = _read_bytes(args.file)
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
    trade_in = _trade_in(args, reads=True)
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
    trade_in = _trade_in(args, reads=True)
    try:
        content = trade_in.fleet_report_file(args.batch_id, format=args.format, locale=_locale(args))
    finally:
        trade_in.close()
    return _write_output(content, args.output, binary=args.format in {"xlsx", "pdf"})


def _fleet_document_command(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        if args.kind is None:
            documents = trade_in.fleet_documents(args.batch_id)
        else:
            document = trade_in.fleet_document(args.batch_id, args.kind)
    finally:
        trade_in.close()
    if args.kind is None and args.json:
        _print_json(
            [
                {
                    "kind": item.kind,
                    "number": item.number,
                    "media_type": item.media_type,
                    "sha256": item.sha256,
                    "created_at": item.created_at.isoformat(),
                    "retain_until": item.retain_until.isoformat(),
                }
                for item in documents
            ]
        )
        return 0
    if args.kind is None:
        for item in documents:
            number = item.number or "-"
            print(f"{item.kind:<24} {number:<16} sha256:{item.sha256}  kept until {item.retain_until}")
        return 0
    return _write_output(document.content, args.output, binary=document.media_type == "application/pdf")


def _write_file(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise ConfigurationError(
            "cannot write {path}: {reason}", path=str(path), reason=exc.strerror or str(exc)
        ) from exc


def _write_output(content: bytes, output: str | None, *, binary: bool) -> int:
    """Write a file's bytes to ``output``, or to standard output (refused for a binary to a terminal)."""
    if output and output != "-":
        _write_file(Path(output), content)
        print(output, file=sys.stderr)
        return 0
    if binary and sys.stdout.isatty():
        raise UsageError("a binary file is not written to a terminal: give --output FILE")
    sys.stdout.buffer.write(content)
    sys.stdout.flush()
    return 0


def _fleet_verify_command(args: argparse.Namespace) -> int:
    from tradein_sdk._app.fleet import lines_digest  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.fleet import HANDOVER_PURPOSE, PORTFOLIO_PURPOSE  # noqa: PLC0415
    from tradein_sdk._domain.signing import envelope_kid  # noqa: PLC0415

    data = read_json_document(Path(args.file), kind="signed-document")
    envelope = data.get("signed", data) if isinstance(data, dict) else data
    if not isinstance(envelope, dict):
        return _invalid_document(args, "malformed", "not a signed document (a JSON object)")
    purpose = HANDOVER_PURPOSE if "handed_over_at" in str(envelope) else PORTFOLIO_PURPOSE
    payload = _verified(args, envelope, purpose)
    if isinstance(payload, int):
        return payload
    lines = data.get("lines") if isinstance(data, dict) else None
    if purpose == PORTFOLIO_PURPOSE and isinstance(lines, list):
        from tradein_sdk._app.fleet import _line_json_text  # noqa: PLC0415
        from tradein_sdk._domain.fleet import PortfolioLine  # noqa: PLC0415

        texts = [_line_json_text(PortfolioLine.from_json(line)) for line in lines]
        if lines_digest(texts) != payload.get("lines_digest"):
            return _invalid_document(args, "lines_changed", "the lines do not match the signed digest")
    kind = "hand-over record" if purpose == HANDOVER_PURPOSE else "portfolio quote"
    return _valid_document(
        args, payload, f"valid {kind} of batch {payload.get('batch_id')} (key {envelope_kid(envelope)})"
    )


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


# -- openapi, completion ------------------------------------------------------------------------------------


def _openapi_command(args: argparse.Namespace) -> int:
    from tradein_sdk._remote.openapi import openapi_text  # noqa: PLC0415 - the service's modules load late

    return _write_output(openapi_text().encode(), args.output, binary=False)


def _completion_command(args: argparse.Namespace) -> int:
    nodes = list(_completion_nodes(build_parser()))
    script = {"bash": _bash_completion, "zsh": _zsh_completion, "fish": _fish_completion}[args.shell](nodes)
    sys.stdout.write(script)
    return 0


class _Option:
    """An option as completion sees it: its flags, its help, and the value it takes."""

    def __init__(self, action: argparse.Action) -> None:
        self.flags = list(action.option_strings)
        self.help = " ".join((action.help or "").replace("%%", "%").split())
        self.value = None if action.nargs == 0 else _value_kind(action)


class _Node:
    """A command or action: its path (``quote create``), sub-commands, options, positional values."""

    def __init__(self, path: str, parser: argparse.ArgumentParser) -> None:
        self.path = path
        self.commands: list[tuple[str, str]] = []
        self.children: list[tuple[str, argparse.ArgumentParser]] = []
        self.options: list[_Option] = []
        self.positional = ""
        for action in parser._actions:  # noqa: SLF001 - argparse keeps its tree there
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                visible = {choice.dest: choice.help or "" for choice in action._choices_actions}  # noqa: SLF001
                self.commands = list(visible.items())
                self.children = [(name, action.choices[name]) for name in visible]
            elif action.option_strings and action.help != argparse.SUPPRESS:
                self.options.append(_Option(action))
            elif not action.option_strings and not self.positional:
                self.positional = _value_kind(action) if action.choices or _is_path(action) else ""


def _is_path(action: argparse.Action) -> bool:
    name = str(action.metavar or action.dest).upper()
    return "FILE" in name or "DIR" in name or name in {"OUT", "OUTPUT"}


def _value_kind(action: argparse.Action) -> str:
    """``@file``, ``@dir``, the choices separated by spaces, or ``@any`` (no completion)."""
    if action.choices:
        return " ".join(str(choice) for choice in action.choices)
    if _is_path(action):
        return "@dir" if "DIR" in str(action.metavar or action.dest).upper() else "@file"
    return "@any"


def _completion_nodes(parser: argparse.ArgumentParser, path: str = "") -> Iterator[_Node]:
    node = _Node(path, parser)
    yield node
    for name, child in node.children:
        yield from _completion_nodes(child, f"{path} {name}".strip())


def _shell_lists(nodes: Sequence[_Node], *, zsh: bool) -> str:
    """The lookups of the bash and zsh scripts, one ``case`` over the command paths each.

    ``_tradein_commands PATH``: the sub-commands (zsh: ``name:help``); ``_tradein_options PATH``: the options;
    ``_tradein_value PATH OPTION``: what the option takes (``@file``, ``@dir``, ``@any`` or the choices;
    status 1 for a flag); ``_tradein_positional PATH``: what the positional arguments take.
    """
    commands: list[tuple[str, list[str]]] = []
    options: list[tuple[str, list[str]]] = []
    values: list[tuple[str, list[str]]] = []
    positional: list[tuple[str, list[str]]] = []
    for node in nodes:
        if node.commands:
            names = [f"{name}:{text}" if zsh else name for name, text in node.commands]
            commands.append((node.path, names))
        options.append((node.path, [flag for option in node.options for flag in option.flags]))
        values += [
            (f"{node.path} {flag}".strip(), option.value.split())
            for option in node.options
            if option.value is not None
            for flag in option.flags
        ]
        if node.positional:
            positional.append((node.path, node.positional.split()))
    empty = "reply=()" if zsh else ":"
    return "".join(
        _shell_case(name, subject, arms, zsh=zsh, otherwise=otherwise)
        for name, subject, arms, otherwise in (
            ("_tradein_commands", "$1", commands, empty),
            ("_tradein_options", "$1", options, empty),
            ("_tradein_value", "$1 $2", values, "return 1"),
            ("_tradein_positional", "$1", positional, empty),
        )
    )


def _shell_case(
    name: str, subject: str, arms: Sequence[tuple[str, list[str]]], *, zsh: bool, otherwise: str
) -> str:
    """A shell function answering with words per pattern: bash echoes them, zsh sets ``reply``."""
    paren = "(" if zsh else ""
    lines = [f"{name}() {{", f'    case "{subject}" in']
    for pattern, words in arms:
        body = (
            f"reply=({' '.join(shlex.quote(word) for word in words)})"
            if zsh
            else f"echo {shlex.quote(' '.join(words))}"
        )
        lines.append(f"        {paren}{shlex.quote(pattern)}) {body} ;;")
    lines += [f"        {paren}*) {otherwise} ;;", "    esac", "}", ""]
    return "\n".join(lines)


def _bash_completion(nodes: Sequence[_Node]) -> str:
    return (
        "# bash completion for tradein, made by `tradein completion bash`.\n"
        '# Load it with: eval "$(tradein completion bash)" (e.g. in ~/.bashrc), or save it as\n'
        "# ~/.local/share/bash-completion/completions/tradein.\n"
        + _shell_lists(nodes, zsh=False)
        + """_tradein() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmdpath="" word values i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ "$word" == -* ]]; then
            if _tradein_value "$cmdpath" "$word" >/dev/null; then ((i++)); fi
            continue
        fi
        if [[ " $(_tradein_commands "$cmdpath") " == *" $word "* ]]; then
            cmdpath="${cmdpath:+$cmdpath }$word"
        fi
    done
    COMPREPLY=()
    if [[ "$prev" == -* ]] && values="$(_tradein_value "$cmdpath" "$prev")"; then
        case "$values" in
            @file | @any) ;;
            @dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
            *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
        esac
        return 0
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_tradein_options "$cmdpath")" -- "$cur"))
        return 0
    fi
    values="$(_tradein_commands "$cmdpath")"
    [[ -n "$values" ]] || values="$(_tradein_positional "$cmdpath")"
    case "$values" in
        @file | @dir | @any | "") ;;
        *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
    esac
    return 0
}
complete -o default -F _tradein tradein
"""
    )


def _zsh_completion(nodes: Sequence[_Node]) -> str:
    return (
        "#compdef tradein\n"
        "# zsh completion for tradein, made by `tradein completion zsh`.\n"
        '# Load it with: eval "$(tradein completion zsh)" after compinit (e.g. in ~/.zshrc), or save it as\n'
        "# _tradein in a directory on $fpath.\n"
        + _shell_lists(nodes, zsh=True)
        + """_tradein_complete_value() {
    case "${reply[1]}" in
        (@file) _files ;;
        (@dir) _files -/ ;;
        (@any|'') ;;
        (*) compadd -- $reply ;;
    esac
}
_tradein() {
    local cmdpath='' word prev cur i
    local -a reply names
    for (( i = 2; i < CURRENT; i++ )); do
        word=${words[i]}
        if [[ $word == -* ]]; then
            _tradein_value "$cmdpath" "$word" && (( i++ ))
            continue
        fi
        _tradein_commands "$cmdpath"
        names=(${reply%%:*})
        (( ${names[(Ie)$word]} )) && cmdpath=${cmdpath:+$cmdpath }$word
    done
    prev=${words[CURRENT-1]}
    cur=${words[CURRENT]}
    if [[ $prev == -* ]] && _tradein_value "$cmdpath" "$prev"; then
        _tradein_complete_value
        return
    fi
    if [[ $cur == -* ]]; then
        _tradein_options "$cmdpath"
        compadd -- $reply
        return
    fi
    _tradein_commands "$cmdpath"
    if (( ${#reply} )); then
        _describe -t commands 'tradein command' reply
        return
    fi
    _tradein_positional "$cmdpath"
    _tradein_complete_value
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _tradein "$@"
else
    compdef _tradein tradein
fi
"""
    )


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_FISH_FUNCTIONS = """function __tradein_path
    set -l cmdpath
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $word
            __tradein_takes_value (string join ' ' $cmdpath) $word; and set skip 1
            continue
        end
        contains -- $word (__tradein_commands (string join ' ' $cmdpath)); and set -a cmdpath $word
    end
    string join ' ' $cmdpath
end
function __tradein_at
    set -l here (__tradein_path)
    test "$here" = "$argv[1]"
end
complete -c tradein -f
"""


def _fish_value(value: str | None) -> str:
    """The ``complete`` switches for what an option takes."""
    if value is None:
        return ""
    return {
        "@file": " -r -F",
        "@dir": " -x -a '(__fish_complete_directories)'",
        "@any": " -x",
    }.get(value, f" -x -a {_fish_quote(value)}")


def _fish_completion(nodes: Sequence[_Node]) -> str:
    lines = [
        "# fish completion for tradein, made by `tradein completion fish`.",
        "# Load it with: tradein completion fish | source,",
        "# or save it as ~/.config/fish/completions/tradein.fish.",
        "function __tradein_commands",
        '    switch "$argv[1]"',
    ]
    for node in nodes:
        if node.commands:
            names = " ".join(name for name, _ in node.commands)
            lines += [f"        case {_fish_quote(node.path)}", f"            printf '%s\\n' {names}"]
    takes_value = [
        _fish_quote(f"{node.path} {flag}".strip())
        for node in nodes
        for option in node.options
        if option.value is not None
        for flag in option.flags
    ]
    lines += ["    end", "end", "function __tradein_takes_value", '    switch "$argv[1] $argv[2]"']
    lines += [
        f"        case {' '.join(takes_value)}",
        "            return 0",
        "    end",
        "    return 1",
        "end",
    ]
    lines.append(_FISH_FUNCTIONS.rstrip("\n"))
    for node in nodes:
        at = _fish_quote(f'__tradein_at "{node.path}"')
        lines += [
            f"complete -c tradein -n {at} -a {name} -d {_fish_quote(text)}" for name, text in node.commands
        ]
        for option in node.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}" for flag in option.flags
            )
            lines.append(
                f"complete -c tradein -n {at} {flags}{_fish_value(option.value)} "
                f"-d {_fish_quote(option.help)}"
            )
        if node.positional:
            lines.append(f"complete -c tradein -n {at}{_fish_value(node.positional).replace(' -r', '')}")
    return "\n".join(lines) + "\n"


# -- the parser ---------------------------------------------------------------------------------------------


def _actions(parser: argparse.ArgumentParser, dest: str) -> Any:  # noqa: ANN401 - argparse's subparsers action
    return parser.add_subparsers(dest=dest, required=True, metavar="ACTION", title="actions")


def _command(
    group: Any,  # noqa: ANN401 - argparse's subparsers action
    name: str,
    help_text: str,
    *,
    handler: Callable[[argparse.Namespace], int] | None = None,
    description: str | None = None,
    json: str | None = None,
    data_dir: bool = False,
    locale: str | None = None,
) -> argparse.ArgumentParser:
    """Add a command or action with its own help; ``json``: the help of its ``--json`` option, if any."""
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=help_text, description=description or help_text[:1].upper() + help_text[1:] + "."
    )
    if handler is not None:
        parser.set_defaults(handler=handler, command_prog=parser.prog)
    if json is not None:
        parser.add_argument("--json", action="store_true", help=json)
    if locale is not None:
        parser.add_argument(
            "--locale",
            metavar="LOCALE",
            help=f"the language of {locale}, e.g. de_DE (default: ${LOCALE_ENV}, else {DEFAULT_LOCALE})",
        )
    if data_dir:
        _add_data_dir(parser)
    return parser


def _json_format(parser: argparse.ArgumentParser) -> None:
    """``--json``: the same as ``--format json``, for a command whose output has several formats."""
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help="print JSON (as --format json)"
    )


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="where the database and keys live (default $TRADEIN_DATA_DIR or ~/.local/share/tradein)",
    )


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


def _add_questionnaire_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questionnaire",
        dest="questionnaire_file",
        metavar="FILE",
        help="a shop's own definition instead of the bundled one",
    )


VERIFICATIONS = ("self_declared", "staff_verified", "measured")


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


def _add_grading_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    questionnaire = _command(
        commands,
        "questionnaire",
        "print a questionnaire rendered for a locale",
        handler=_questionnaire_command,
        json="print JSON (schemas/rendered-questionnaire.schema.json)",
        locale="the questions",
    )
    questionnaire.add_argument("category", metavar="CATEGORY", help="smartphone, tablet or smartwatch")
    questionnaire.add_argument("--staff", action="store_true", help="include the staff-only checks")
    _add_questionnaire_option(questionnaire)

    grade = _command(
        commands,
        "grade",
        "grade an answers file into a condition report",
        handler=_grade_command,
        json="print JSON (schemas/condition-report.schema.json)",
        locale="the findings",
    )
    grade.add_argument("category", metavar="CATEGORY", help="smartphone, tablet or smartwatch")
    grade.add_argument("answers_file", metavar="ANSWERS_FILE", help="the questionnaire answers (JSON)")
    grade.add_argument("--verification", default="self_declared", choices=VERIFICATIONS)
    grade.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    _add_questionnaire_option(grade)


def _add_quote_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    quote = _command(
        commands,
        "quote",
        "issue, verify, show and redeem instant quotes",
        description=(
            "Instant quotes: create one for a device variant from questionnaire answers (a signed token "
            "comes with it), verify a token offline, show a stored quote, redeem a token once."
        ),
    )
    actions = _actions(quote, "quote_command")
    create = _command(
        actions,
        "create",
        "issue a quote for a device variant from questionnaire answers",
        handler=_quote_create,
        description=(
            "Grade, price, sign and store a quote. DEVICE_ID is a storage variant "
            "(apple-iphone-13-128gb); `tradein catalog show MODEL_ID` lists a model's variants."
        ),
        json="print JSON: the quote (schemas/quote.schema.json) and its token",
        data_dir=True,
        locale="the quote's texts and amounts",
    )
    create.add_argument("device_id", metavar="DEVICE_ID", help="the catalog variant id")
    create.add_argument("--answers", required=True, metavar="FILE", help="the questionnaire answers (JSON)")
    create.add_argument("--imei", help="the device's IMEI (needed for a guaranteed quote)")
    create.add_argument("--market", default=None, help="the market to price in (default DE)")
    create.add_argument("--channel", default="online", choices=["online", "store"])
    create.add_argument("--verification", default="self_declared", choices=VERIFICATIONS)
    create.add_argument("--diagnostics", metavar="FILE", help="automated test results, merged in as measured")
    create.add_argument("--audience", default=None, help="the shop or store the quote is for")

    verify = _command(
        actions,
        "verify",
        "verify a quote token offline: signature, key, audience, expiry",
        handler=_quote_verify,
        description=(
            "Verify a token with the quote keys of --data-dir (or $TRADEIN_QUOTE_KEYS). Never creates a key: "
            "without one, it says where it looked."
        ),
        json="print JSON",
        data_dir=True,
    )
    verify.add_argument("token", metavar="TOKEN")
    verify.add_argument("--audience", default=None, help="the shop or store verifying")

    show = _command(
        actions,
        "show",
        "show a stored quote and its redemption",
        handler=_quote_show,
        description="Show a stored quote as it was issued (in its locale) and its redemption, if any.",
        json="print JSON",
        data_dir=True,
    )
    show.add_argument("quote_id", metavar="QUOTE_ID")

    redeem = _command(
        actions,
        "redeem",
        "redeem the quote a token names, once",
        handler=_quote_redeem,
        json="print JSON",
        data_dir=True,
    )
    redeem.add_argument("token", metavar="TOKEN")
    redeem.add_argument("--reference", default=None, help="the shop's reference for the redemption")
    redeem.add_argument("--audience", default=None, help="the shop or store redeeming")


def _add_offers_command(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    offers = _command(
        commands,
        "offers",
        "device protection offers for a new device",
        handler=_offers_command,
        json="print JSON",
        locale="the offers' texts and amounts",
    )
    offers.add_argument("device_id", metavar="DEVICE_ID", help="the new device's catalog id")
    offers.add_argument("--price", required=True, help="the new device's price, e.g. 999")
    offers.add_argument("--currency", default="EUR")
    offers.add_argument("--market", default="DE", help="the customer's country (default DE)")
    offers.add_argument("--condition", default="new", choices=["new", "refurbished"])
    offers.add_argument("--with-trade-in", action="store_true", help="a trade-in is in the same checkout")
    offers.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="the purchase date (default today)")
    offers.add_argument("--plans", metavar="FILE", help="a plan catalog instead of the bundled example")
    _add_catalog_options(offers)


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


def _add_audit_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    audit = _command(commands, "audit", "check and export the audit log")
    actions = _actions(audit, "audit_command")
    verify = _command(
        actions,
        "verify",
        "verify the hash chain; report every modified, deleted, inserted or reordered entry",
        handler=_audit_verify,
        description=(
            "Verify the audit log against the latest signed checkpoint and keep a new one. Exit 1 on a "
            "problem. A progress bar shows on standard error when it is a terminal (or with --progress)."
        ),
        json="print JSON",
        data_dir=True,
    )
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
    verify.add_argument("--progress", action="store_true", help="show the progress bar even in a pipe")
    export = _command(
        actions,
        "export",
        "write the log, its signed checkpoints and public keys for an auditor (JSON or CSV)",
        handler=_audit_export,
        json="print the files written as JSON",
        data_dir=True,
    )
    export.add_argument(
        "output",
        metavar="OUT",
        help="the file to write (CSV: the checkpoints go beside it, .checkpoints.json)",
    )
    export.add_argument("--format", choices=["json", "csv"], default="json")


def _add_operator_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    db = _command(commands, "db", "the database schema: status and migrations")
    actions = _actions(db, "db_command")
    _command(
        actions,
        "status",
        "the schema version, the latest, the migrations pending",
        handler=_db_command,
        json="print JSON",
        data_dir=True,
    )
    _command(
        actions,
        "migrate",
        "apply the pending migrations",
        handler=_db_command,
        json="print JSON",
        data_dir=True,
    )

    keys = _command(
        commands,
        "keys",
        "API keys of the service: create, list, revoke, rotate",
        description=(
            "Each key belongs to a tenant (a shop, a store, a partner) of an organisation and has a role: "
            "shop, store, back_office, provider or admin. The store keeps a key's SHA-256 digest only: "
            "a new key is printed once."
        ),
    )
    actions = _actions(keys, "keys_command")
    create = _command(
        actions,
        "create",
        "mint a key (printed once)",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    create.add_argument("--tenant", required=True, help="the shop, store or partner (a-z 0-9 . _ -)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--organisation", help="the tenant's organisation (default: the tenant)")
    create.add_argument("--label", help="a note: the terminal, the partner system")
    listing = _command(
        actions,
        "list",
        "every key with its scope and last use (never the key)",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    listing.add_argument("--organisation", help="only this organisation's keys")
    revoke = _command(
        actions, "revoke", "refuse a key from now on", handler=_keys_command, json="print JSON", data_dir=True
    )
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_...)")
    rotate = _command(
        actions,
        "rotate",
        "a successor key; the old one works --grace-days longer",
        handler=_keys_command,
        json="print JSON",
        data_dir=True,
    )
    rotate.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_...)")
    rotate.add_argument("--grace-days", type=float, default=7.0, help="days the old key keeps working")

    webhooks = _command(commands, "webhooks", "webhook dead letters: list and replay")
    actions = _actions(webhooks, "webhooks_command")
    dead = _command(
        actions, "dead", "the deliveries given up", handler=_webhooks_dead, json="print JSON", data_dir=True
    )
    dead.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    replay = _command(
        actions,
        "replay",
        "queue dead deliveries again: by id, by event, or all",
        handler=_webhooks_replay,
        json="print JSON",
        data_dir=True,
    )
    replay.add_argument("ids", nargs="*", metavar="DELIVERY_ID", help="delivery ids to replay")
    replay.add_argument(
        "--event", action="append", default=[], metavar="EVENT_ID", help="replay every delivery of this event"
    )
    replay.add_argument("--all-dead", action="store_true", help="replay every dead letter")


def _add_serve_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    serve = _command(
        commands,
        "serve",
        "run the trade-in service (HTTP API) on the embedded engine and store",
        handler=_serve_command,
        description=(
            "Serve the trade-in HTTP API (OpenAPI document at /v1/openapi.json). API keys come from "
            "--api-key or $TRADEIN_API_KEYS (client=key pairs separated by commas); the database from "
            "--data-dir or $TRADEIN_DATABASE_URL. Runs on gunicorn (worker processes, timeouts, header "
            "and body limits; put a buffering proxy in front of it on the internet); --dev runs the "
            "threaded development server. /healthz, /readyz and /metrics need no key: firewall /metrics "
            "or set $TRADEIN_METRICS_KEY."
        ),
        data_dir=True,
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

    worker = _command(
        commands,
        "worker",
        "deliver webhooks and run the deadlines, until stopped (SIGTERM, Ctrl-C)",
        handler=_worker_command,
        description=(
            "Claims due webhooks in batches (several workers on one PostgreSQL share them: FOR UPDATE SKIP "
            "LOCKED), sends them concurrently with retries and dead letters, and runs tick() once per slot "
            "across all workers. Endpoints come from $TRADEIN_WEBHOOK_URLS as for the service."
        ),
        data_dir=True,
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

    openapi = _command(
        commands,
        "openapi",
        "print or write the OpenAPI 3.1 document of the trade-in service",
        handler=_openapi_command,
        json="print JSON (it always is)",
    )
    openapi.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")


def _add_certificate_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    certificate = _command(
        commands,
        "certificate",
        "data erasure certificates: verify offline, print the published keys, render a PDF",
        description=(
            "A certificate file is the signed JSON document the shop issues (its QR code holds the same). "
            "verify checks it offline with the issuer's published keys (--keys, or this installation's "
            "keys in --data-dir) and, with --revocations, against the signed revocation list."
        ),
    )
    actions = _actions(certificate, "certificate_command")

    def add_key_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--keys",
            metavar="JWKS_FILE",
            help="the issuer's published keys (JWKS); default: this installation's keys in --data-dir",
        )
        parser.add_argument(
            "--revocations", metavar="FILE", help="the issuer's signed revocation list, to check revocation"
        )

    verify = _command(
        actions,
        "verify",
        "verify a certificate file offline: exit 0 only when it is valid",
        handler=_certificate_verify,
        description=(
            "Prints valid, revoked or invalid with the reason (malformed, wrong_purpose, unknown_kid, "
            "bad_signature, content) and every problem with its JSON path. Exit status 0 only when valid. "
            "Never creates a key file: without --keys, the installation's key file must exist."
        ),
        json="print the outcome as JSON",
        data_dir=True,
    )
    verify.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    add_key_options(verify)
    _command(
        actions,
        "keys",
        "print this installation's published keys (JWKS) for verifiers",
        handler=_certificate_keys_command,
        json="print JSON (it always is)",
        data_dir=True,
    )
    pdf = _command(
        actions,
        "pdf",
        "render a certificate file as an A4 PDF for the customer, with a QR code",
        handler=_certificate_pdf_command,
        description="Verifies the certificate first (as verify does) unless --no-verify.",
        json="print the file written as JSON",
        data_dir=True,
        locale="the PDF (de, en, es, fr, it)",
    )
    pdf.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    pdf.add_argument("--output", "-o", metavar="OUT", help="the PDF to write (default: FILE with .pdf)")
    pdf.add_argument("--no-verify", action="store_true", help="render without verifying the certificate")
    add_key_options(pdf)


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


def _add_fleet_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    fleet = _command(
        commands,
        "fleet",
        "fleet trade-in for companies: accounts, asset lists, portfolio quotes, batches",
        description="A company's devices traded in together: from its asset list to one credit note.",
    )
    actions = _actions(fleet, "fleet_command")
    company = _command(
        actions,
        "company",
        "open a company account",
        handler=_fleet_company_command,
        json="print JSON",
        data_dir=True,
    )
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
    _command(
        actions,
        "companies",
        "list the company accounts",
        handler=_fleet_companies_command,
        json="print JSON",
        data_dir=True,
    )
    check = _command(
        actions,
        "check",
        "check an asset list: every problem by row and column",
        handler=_fleet_check_command,
        json="print JSON",
        data_dir=True,
    )
    check.add_argument("file", metavar="FILE", help="a CSV or XLSX asset list")
    check.add_argument("--default-grade", help="the grade of rows without answers or grade")
    quote = _command(
        actions,
        "quote",
        "price an asset list: one signed portfolio quote with a summary table",
        handler=_fleet_quote_command,
        description=(
            "Price an asset list into one signed portfolio quote. Progress goes to standard error (when it "
            "is a terminal, or with --progress)."
        ),
        json="print JSON (every line and the signed document)",
        data_dir=True,
    )
    quote.add_argument("file", metavar="FILE", help="a CSV or XLSX asset list")
    quote.add_argument("--company", required=True, help="the company account's id")
    quote.add_argument("--default-grade", help="the grade of rows without answers or grade")
    quote.add_argument(
        "--skip-invalid", action="store_true", help="quote the good rows, list the rejected ones"
    )
    quote.add_argument("--dry-run", action="store_true", help="price without storing or signing")
    quote.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    show = _command(
        actions,
        "show",
        "a batch and its lines as they stand",
        handler=_fleet_show_command,
        json="print JSON",
        data_dir=True,
    )
    show.add_argument("batch_id", metavar="BATCH_ID")
    report = _command(
        actions,
        "report",
        "a batch's report: the asset-disposal export (CSV), XLSX, PDF or JSON",
        handler=_fleet_report_command,
        data_dir=True,
        locale="the PDF",
    )
    report.add_argument("batch_id", metavar="BATCH_ID")
    report.add_argument("--format", choices=("csv", "xlsx", "pdf", "json"), default="csv")
    _json_format(report)
    report.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    documents = _command(
        actions,
        "documents",
        "a batch's archived documents, or one of them (credit note PDF or XML, ...)",
        handler=_fleet_document_command,
        json="print the list as JSON (without KIND)",
        data_dir=True,
    )
    documents.add_argument("batch_id", metavar="BATCH_ID")
    documents.add_argument(
        "kind",
        nargs="?",
        metavar="KIND",
        help="credit_note_pdf, credit_note_xml, purchase_statement_pdf, handover_record, ...",
    )
    documents.add_argument("--output", "-o", metavar="OUT", help="the file to write (default: stdout)")
    _add_verify_command(
        actions,
        "verify a portfolio quote (`fleet quote --json`) or a hand-over record offline",
        _fleet_verify_command,
    )


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


def _add_validate_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    validate = _command(
        commands,
        "validate",
        "check a document against its schema and rules",
        description=(
            "Check a document against its schema and the rules beyond it, every problem at once with its "
            "JSON path (the rules are checked on the parts that match the schema). Exit 1 when invalid."
        ),
    )
    documents = validate.add_subparsers(dest="document", required=True, metavar="DOCUMENT", title="documents")
    for name, kind in VALIDATED_DOCUMENTS.items():
        command = _command(
            documents,
            name,
            f"validate a {kind} file",
            handler=_validate_command,
            json="print JSON: the problems and whether the rules were checked",
        )
        command.add_argument("file", metavar="FILE")


def _add_completion_command(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    completion = _command(
        commands,
        "completion",
        "print a shell completion script (bash, zsh, fish)",
        handler=_completion_command,
        description=(
            'Print a completion script for the shell: eval "$(tradein completion bash)" in ~/.bashrc, '
            'eval "$(tradein completion zsh)" in ~/.zshrc (after compinit), or '
            "tradein completion fish > ~/.config/fish/completions/tradein.fish."
        ),
    )
    completion.add_argument(
        "shell", metavar="SHELL", choices=("bash", "zsh", "fish"), help="bash, zsh or fish"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``tradein`` command."""
    parser = _Parser(
        prog="tradein",
        description="Device trade-in tools. Each command has its own --help.",
        epilog=(
            "Exit status: 0 success, 1 failure (error [code]: message on standard error), 2 usage error. "
            "Locale: --locale, else $TRADEIN_LOCALE, else en."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tradein-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    _add_catalog_commands(commands)
    _add_grading_commands(commands)
    _add_quote_commands(commands)
    _add_offers_command(commands)
    _add_order_commands(commands)
    _add_audit_commands(commands)
    _add_certificate_commands(commands)
    _add_co2_commands(commands)
    _add_fleet_commands(commands)
    _add_guarantee_commands(commands)
    _add_validate_commands(commands)
    _add_operator_commands(commands)
    _add_serve_commands(commands)
    _add_completion_command(commands)
    return parser


QUOTE_ACTIONS = frozenset({"create", "verify", "show", "redeem", "-h", "--help"})


def _with_aliases(arguments: list[str]) -> list[str]:
    """Earlier spellings kept working: ``quote DEVICE_ID --answers FILE`` means ``quote create ...``.

    Only a line with ``--answers`` is taken for the earlier spelling: a mistyped action stays an error.
    """
    old = arguments[:1] == ["quote"] and arguments[1:2] and arguments[1] not in QUOTE_ACTIONS
    if old and not arguments[1].startswith("-") and any(a.split("=")[0] == "--answers" for a in arguments):
        return ["quote", "create", *arguments[1:]]
    return arguments


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _quiet_stdout() -> None:
    """After a broken pipe: point standard output at /dev/null so that the exit's flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (captured in tests): nothing will be flushed to a pipe
        pass


def _parse(arguments: Sequence[str]) -> argparse.Namespace:
    args, extra = build_parser().parse_known_args(arguments)
    if extra:  # named with the command they were given to, not with `tradein`
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}", prog=args.command_prog)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tradein`` command with ``argv`` (default: the process arguments) and return its status."""
    arguments = _with_aliases(list(sys.argv[1:] if argv is None else argv))
    prog = "tradein"
    try:
        try:
            args = _parse(arguments)
        except SystemExit as exc:  # --help and --version
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else 0
        prog = args.command_prog
        handler: Callable[[argparse.Namespace], int] = args.handler
        status = handler(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return status  # noqa: TRY300 - the flush belongs inside the try
    except UsageError as exc:
        where = exc.prog or prog
        print(f"error [{exc.code}]: {where}: {_one_line(str(exc))} (see {where} --help)", file=sys.stderr)
        return USAGE_STATUS
    except TradeInError as exc:
        print(f"error [{exc.code}]: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS


if __name__ == "__main__":  # pragma: no cover - python -m tradein_sdk._cli (python -m tradein_sdk too)
    sys.exit(main())
