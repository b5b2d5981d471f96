"""``tradein fleet``: fleet trade-in for companies, from the asset list to the credit note."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import (
    UsageError,
    _actions,
    _command,
    _json_format,
    _locale,
    _print_json,
    _read_bytes,
    _trade_in,
    _write_output,
)
from tradein_sdk._cli._signed import _add_verify_command, _invalid_document, _valid_document, _verified
from tradein_sdk._domain.catalog import read_json_document

if TYPE_CHECKING:
    import argparse


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
