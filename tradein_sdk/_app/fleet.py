"""The fleet trade-in use cases of :class:`~tradein_sdk.TradeIn`: company accounts to the settled batch.

A batch's devices travel in one order (one device per line), so everything a shopper's device goes through
applies to each of them unchanged: the quote a line is bought at (priced with the company's contract book),
the inspection diff, the ledger that carries every amount to its payout, erasure certificates and CO2. What
the batch adds is the company's side: a signed portfolio quote, a pickup with its manifest and signed
hand-over, the boxes' reconciliation, one settlement and one self-billing credit note for the whole batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

from tradein_sdk._domain.identifiers import checked_text
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, EventKind
from tradein_sdk._domain.quotes import Channel, QuoteKind
from tradein_sdk._domain.tenancy import acting_actor
from tradein_sdk._errors import (
    AssetImportError,
    BatchStateError,
    ConcurrentUpdateError,
    ConfigurationError,
    CreditNoteError,
    FleetError,
    ImportProblem,
    PickupTooSmallError,
    PriceUnavailableError,
)
from tradein_sdk._ports import (
    ArchivedDocument,
    AuditFact,
    BatchRecord,
    CompanyRecord,
    FleetStore,
    OrderStore,
    PersonalData,
    PersonalDataStore,
)

if TYPE_CHECKING:
    from grading_questionnaire import ConditionReport
    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.co2 import OrderCO2
    from tradein_sdk._domain.credit_notes import (
        CreditNote,
        DocumentKind,
        Party,
        SellerVatStatus,
    )
    from tradein_sdk._domain.devices import DeviceModel, DeviceVariant
    from tradein_sdk._domain.fleet import (
        Address,
        BatchLineView,
        BatchState,
        BatchTrueUp,
        Company,
        ExtraDecision,
        ExtraDevice,
        FleetBatch,
        FrameworkContract,
        PortfolioLine,
        PortfolioQuote,
    )
    from tradein_sdk._domain.fleet_import import AssetImport, AssetRow
    from tradein_sdk._domain.fleet_report import FleetReport
    from tradein_sdk._domain.orders.inspection import InspectionDiff
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.payouts import PayoutDetails
    from tradein_sdk._domain.pricing import PriceBook
    from tradein_sdk._domain.quotes import IssuedQuote
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import PriceSource, _Port

__all__ = ["RETENTION_YEARS", "FleetUseCases", "Progress", "lines_digest"]

RETENTION_YEARS: Final = 10
"""Years after the end of the issue year that credit notes and e-invoices are kept (§ 147 AO, § 14b UStG)."""
_NEXT_GRADE: Final = {"excellent": "good", "good": "fair", "fair": "damaged", "damaged": "faulty"}
Progress = Callable[[int, int], None]
"""A progress callback: (lines done, lines in all)."""


def _line_json_text(line: PortfolioLine) -> str:
    import orjson  # noqa: PLC0415 - loads with the first batch

    return orjson.dumps(line.to_json(), option=orjson.OPT_SORT_KEYS).decode()


def lines_digest(texts: Sequence[str]) -> str:
    """The digest a portfolio quote signs for its lines: SHA-256 over their canonical JSON, one per line."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def _end_of_retention(day: dt.date) -> dt.date:
    """The first day a document of ``day`` may be deleted: 10 full years after the end of its year."""
    return dt.date(day.year + RETENTION_YEARS + 1, 1, 1)


class FleetUseCases:
    """The fleet methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    catalog: Catalog
    market: str
    locale: str
    audience: str
    organisation: str
    scope: Scope | None
    signing_keys: SigningKeys | None

    if TYPE_CHECKING:
        prices: PriceSource

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _port(self, port: type[_Port]) -> _Port: ...
        def questionnaire(self, category: str) -> Any: ...  # noqa: ANN401
        def grade(
            self, category: str, answers: object, *, verification: str = ..., diagnostics: object | None = ...
        ) -> ConditionReport: ...
        def _issue_quote(
            self,
            book: PriceBook,
            *,
            model: DeviceModel,
            variant: DeviceVariant,
            report: ConditionReport,
            kind: QuoteKind,
            channel: Channel,
            audience: str,
            locale: str,
            imei: str | None,
            now: dt.datetime,
            expires_at: dt.datetime,
            as_of: dt.date | None = None,
        ) -> IssuedQuote: ...
        def _check_answers_fit(self, model: DeviceModel, answers: object, locale: str) -> None: ...
        def accept(
            self,
            tokens: Sequence[str],
            *,
            payout: PayoutDetails | None = None,
            customer_ref: str | None = None,
            contact: Mapping[str, str] | None = None,
            instant_credit: bool = False,
            actor: Actor = Actor.SHOPPER,
        ) -> TradeInOrder: ...
        def order(self, order_id: str) -> TradeInOrder: ...
        def record_event(
            self,
            order_id: str,
            device_id: str,
            kind: EventKind | str,
            *,
            actor: Actor | str,
            event_id: str | None = ...,
            **fields: Any,  # noqa: ANN401 - record_event's fields
        ) -> TradeInOrder: ...
        def inspect(
            self,
            order_id: str,
            device_id: str,
            answers: Mapping[str, Any],
            *,
            imei: str | None = None,
            variant_id: str | None = None,
            lock_removable: bool = False,
            locale: str | None = None,
            actor: Actor = Actor.STAFF,
            event_id: str | None = None,
        ) -> InspectionDiff: ...
        def respond_to_revision(self, order_id: str, device_id: str, *, accept: bool) -> TradeInOrder: ...
        def cancel(self, order_id: str, *, actor: Actor = Actor.SHOPPER) -> TradeInOrder: ...
        def _change(self, order_id: str, events: Callable[[TradeInOrder], Sequence[Any]]) -> TradeInOrder: ...
        def _endpoints_for(self, record: Any) -> list[Any]: ...  # noqa: ANN401
        def scoped(self, scope: Scope) -> Self: ...
        def certificate_bundle(self, order_id: str) -> dict[str, Any]: ...
        def order_co2(self, order_id: str) -> OrderCO2: ...

    # -- company accounts ---------------------------------------------------------------------------------

    def open_company(
        self,
        legal_name: str,
        address: Address,
        *,
        vat_status: SellerVatStatus | str,
        contract: FrameworkContract,
        vat_id: str | None = None,
        tax_number: str | None = None,
        contacts: Sequence[Mapping[str, str]] = (),
    ) -> Company:
        """Open a company account.

        Args:
            legal_name: the registered name, as on invoices.
            address: the registered address.
            vat_status: how the company sells for VAT (``regular``, ``small_business``, ``margin_scheme``,
                ``not_registered``): it decides the document a settlement produces.
            contract: the framework contract.
            vat_id: the VAT identification number (checked for form and check digits); a business seller
                needs it or a tax number for a credit note.
            tax_number: the national tax number.
            contacts: the contact persons (name, e-mail, phone); kept apart as personal data, erasable.

        Raises:
            InvalidVatIdError: the VAT id is malformed, its check digits fail, or it is another country's.
            InvalidTextError: the name is empty, too long or not printable.
            FleetError: a business seller without a VAT id or tax number.
        """
        from tradein_sdk._domain.credit_notes import SellerVatStatus  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.fleet import Company, check_vat_id, contract_pricebook  # noqa: PLC0415 - loads with the first call

        status = SellerVatStatus(vat_status)
        name = checked_text(legal_name, field="legal_name", maximum=200)
        for field in ("street", "postcode", "city"):
            checked_text(getattr(address, field), field=f"address.{field}", maximum=120)
        checked_vat = check_vat_id(vat_id, country=address.country) if vat_id else None
        if status is SellerVatStatus.REGULAR and address.country.upper() != "DE":
            raise FleetError(
                "a company in {country} selling as a regular VAT business makes an intra-Community supply; "
                "its credit note is not supported (open it as not_registered, small_business or "
                "margin_scheme where that is its status)",
                country=address.country.upper(),
            )
        contract_pricebook(
            self.prices.price_book(self.market), contract, company_id="co-check"
        )  # its own book
        if status is not SellerVatStatus.NOT_REGISTERED and checked_vat is None and not tax_number:
            raise FleetError(
                "a company that sells as a business ({status}) needs a VAT id or a tax number",
                status=status.value,
            )
        now = self.clock.now()
        company_id = f"co_{uuid.uuid4().hex[:20]}"
        contact_ref = f"con_{uuid.uuid4().hex[:20]}" if contacts else None
        company = Company(
            id=company_id,
            legal_name=name,
            address=address,
            vat_id=checked_vat,
            tax_number=tax_number,
            vat_status=status,
            contract=contract,
            contact_ref=contact_ref,
            created_at=now,
        )
        owner = self._owner()
        if contact_ref is not None:
            self._port(PersonalDataStore).add_personal_data(
                PersonalData(
                    ref=contact_ref,
                    kind="contact",
                    subject_ref=company_id,
                    data=json.dumps([dict(contact) for contact in contacts], sort_keys=True),
                    **owner,
                ),
                now=now,
            )
        self._port(FleetStore).add_company(
            CompanyRecord(
                company_id=company_id, document=json.dumps(company.to_json()), created_at=now, **owner
            ),
            audit=[
                AuditFact(
                    actor=self._actor().value,
                    action="company.opened",
                    subject=company_id,
                    details={"vat_status": status.value, "contract": contract.reference},
                )
            ],
        )
        return company

    def _owner(self) -> dict[str, str | None]:
        """Who owns what this facade writes: its tenant and organisation (a scoped facade's are its key's)."""
        return {"tenant": self.audience, "organisation": self.organisation}

    def _actor(self) -> Actor:
        return acting_actor(self.scope)

    def company(self, company_id: str) -> Company:
        """A company account.

        Raises:
            CompanyNotFoundError: no account in scope has that id.
        """
        from tradein_sdk._domain.fleet import Company  # noqa: PLC0415 - loads with the first call

        record = self._port(FleetStore).get_company(company_id, **self._in_scope)
        return Company.from_json(json.loads(record.document))

    def companies(self) -> list[Company]:
        """Every company account in scope, oldest first."""
        from tradein_sdk._domain.fleet import Company  # noqa: PLC0415 - loads with the first call

        return [
            Company.from_json(json.loads(record.document))
            for record in self._port(FleetStore).companies(**self._in_scope)
        ]

    def pickup_contact(self, batch_id: str) -> dict[str, str] | None:
        """The pickup contact of a booked batch (``None`` when none was given, or once erased)."""
        batch = self.fleet_batch(batch_id)
        if batch.manifest is None or batch.manifest.contact_ref is None:
            return None
        data = self._port(PersonalDataStore).get_personal_data(batch.manifest.contact_ref)
        return None if data is None else dict(json.loads(data.data))

    def company_contacts(self, company_id: str) -> list[dict[str, str]]:
        """The contact persons of a company (empty once erased)."""
        company = self.company(company_id)
        if company.contact_ref is None:
            return []
        data = self._port(PersonalDataStore).get_personal_data(company.contact_ref)
        return [] if data is None else list(json.loads(data.data))

    # -- portfolio quote -----------------------------------------------------------------------------------

    def read_assets(
        self, data: bytes, *, filename: str | None = None, default_grade: str | None = None
    ) -> AssetImport:
        """Read a CSV or XLSX asset list against the catalog (nothing is stored: a dry run of the import).

        Returns:
            The rows that import and every rejected cell by row and column.
        """
        from tradein_sdk._domain.fleet_import import GRADES, read_assets  # noqa: PLC0415 - loads with the first list

        if default_grade is not None and default_grade not in GRADES:
            raise FleetError(
                "the default grade is one of {grades}, not “{grade}”",
                grades=", ".join(GRADES),
                grade=default_grade,
            )
        return read_assets(data, catalog=self.catalog, filename=filename, default_grade=default_grade)

    def fleet_quote(
        self,
        company_id: str,
        assets: bytes | AssetImport,
        *,
        filename: str | None = None,
        default_grade: str | None = None,
        skip_invalid: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> PortfolioQuote:
        """Price a company's asset list: one signed portfolio quote for the batch.

        Each row is graded (its answers, or the default condition grade), priced with the company's contract
        book as of today, and given the range inspection may find (one grade worse) when its condition is
        self-declared. The quote is guaranteed for the contract's validity.

        Args:
            company_id: the company.
            assets: the asset list (CSV or XLSX bytes), or an import already read with :meth:`read_assets`.
            filename: the file's name (its suffix tells CSV from XLSX).
            default_grade: the condition grade of rows that give neither answers nor a grade.
            skip_invalid: quote the rows that import and list the rejected ones; by default any rejected row
                rejects the list (nothing is stored).
            dry_run: price without storing or signing (no batch is opened).
            progress: called with (lines priced, lines in all) as the pricing goes.

        Raises:
            AssetImportError: rows were rejected (each named by row and column) and ``skip_invalid`` is off.
            CompanyNotFoundError: no such company in scope.
            FleetError: nothing to quote.
        """
        from tradein_sdk._domain.fleet import (  # noqa: PLC0415 - loads with the first call
            PORTFOLIO_PURPOSE,
            BatchState,
            PortfolioQuote,
            contract_pricebook,
            portfolio_totals,
        )

        company = self.company(company_id)
        imported = (
            self.read_assets(assets, filename=filename, default_grade=default_grade)
            if isinstance(assets, bytes)
            else assets
        )
        if not skip_invalid:
            imported.raise_for_problems()
        if not imported.rows:
            raise FleetError("the asset list has no device to quote")
        book = contract_pricebook(
            self.prices.price_book(self.market), company.contract, company_id=company.id
        )
        now = self.clock.now().replace(microsecond=0)
        lines, unpriced = self._price_rows(imported.rows, book, as_of=now.date(), progress=progress)
        if unpriced and not skip_invalid:
            raise AssetImportError(unpriced)
        if not lines:
            raise FleetError("the asset list has no device to quote")
        imported = attrs.evolve(
            imported, problems=tuple(sorted((*imported.problems, *unpriced), key=_by_row))
        )
        valid_until = now + dt.timedelta(days=company.contract.quote_validity_days)
        totals = portfolio_totals(lines, book.currency)
        pricebook = f"{book.pricebook_id}@{book.version}"
        if dry_run:
            return PortfolioQuote(
                batch_id=None,
                company_id=company.id,
                issued_at=now,
                valid_until=valid_until,
                currency=book.currency,
                pricebook=pricebook,
                lines=tuple(lines),
                totals=totals,
                problems=imported.problems,
            )
        batch_id = f"fb_{uuid.uuid4().hex[:20]}"
        texts = [_line_json_text(line) for line in lines]
        document = {
            "batch_id": batch_id,
            "company": {"id": company.id, "legal_name": company.legal_name, "vat_id": company.vat_id},
            "contract": company.contract.reference,
            "issued_at": now.isoformat(),
            "valid_until": valid_until.isoformat(),
            "currency": book.currency,
            "pricebook": {
                "id": book.pricebook_id,
                "version": book.version,
                "content_hash": book.content_hash,
            },
            "lines": len(lines),
            "lines_digest": lines_digest(texts),
            "totals": totals.to_json(),
        }
        envelope = self._sign_fleet(document, PORTFOLIO_PURPOSE)
        self._store_document("pricebook", book)
        portfolio = PortfolioQuote(
            batch_id=batch_id,
            company_id=company.id,
            issued_at=now,
            valid_until=valid_until,
            currency=book.currency,
            pricebook=pricebook,
            lines=tuple(lines),
            totals=totals,
            problems=imported.problems,
            envelope=envelope,
        )
        state = {
            "id": batch_id,
            "company_id": company.id,
            "state": BatchState.QUOTED.value,
            "issued_at": now.isoformat(),
            "valid_until": valid_until.isoformat(),
            "currency": book.currency,
            "pricebook": pricebook,
            "pricebook_hash": book.content_hash,
            "totals": totals.to_json(),
            "envelope": envelope,
            "problems": [attrs.asdict(problem) for problem in imported.problems],
            "status": {},
            "devices": {},
            "extras": [],
        }
        self._port(FleetStore).add_batch(
            BatchRecord(
                batch_id=batch_id,
                company_id=company.id,
                state=BatchState.QUOTED.value,
                created_at=now,
                document=json.dumps(state),
                **self._owner(),
            ),
            texts,
            audit=[
                AuditFact(
                    actor=self._actor().value,
                    action="fleet.quoted",
                    subject=batch_id,
                    details={
                        "company": company.id,
                        "devices": totals.devices,
                        "amount": totals.amount.to_json(),
                        "lines_digest": document["lines_digest"],
                    },
                )
            ],
        )
        return portfolio

    def _sign_fleet(self, document: Mapping[str, Any], purpose: str) -> dict[str, Any]:
        from tradein_sdk._domain.signing import sign_document  # noqa: PLC0415 - cryptography loads with it

        if self.signing_keys is None:
            raise ConfigurationError(
                "fleet quotes and hand-over records are signed: give the facade signing_keys "
                "(TradeIn.embedded does)"
            )
        return sign_document(document, self.signing_keys, purpose=purpose)

    def _store_document(self, kind: str, book: PriceBook) -> None:
        from tradein_sdk._ports import Store  # noqa: PLC0415

        store = self._port(Store)
        store.add_document(
            kind=kind, content_hash=book.content_hash, document=json.dumps(dict(book.document))
        )

    def _price_rows(
        self,
        rows: Sequence[AssetRow],
        book: PriceBook,
        *,
        as_of: dt.date,
        progress: Progress | None,
    ) -> tuple[list[PortfolioLine], list[ImportProblem]]:
        """One portfolio line per row, and a problem per row no price exists for (``no_price``).

        Each distinct device and answers is graded and priced once.
        """
        from tradein_sdk._domain.fleet import PortfolioLine  # noqa: PLC0415 - loads with the first call

        pricer = _Pricer(self, book, as_of)
        graded_answers, value = pricer.graded_answers, pricer.value

        lines: list[PortfolioLine] = []
        unpriced: list[ImportProblem] = []
        total = len(rows)
        for done, row in enumerate(rows, start=1):
            entry = self.catalog.lookup(row.variant_id)
            model = entry.model
            variant = entry.variant or model.variants[0]
            if row.answers is not None:
                key, answers = json.dumps(row.answers, sort_keys=True), row.answers
            else:
                key, answers = graded_answers(model, row.grade or "good")
            try:
                amount, grade = value(model, variant, key, answers)
            except PriceUnavailableError as exc:
                unpriced.append(
                    ImportProblem(
                        row=row.row, column="*", code="no_price", message=str(exc), value=row.model_text
                    )
                )
                continue
            index = len(lines) + 1
            low = amount
            worse = _NEXT_GRADE.get(grade or "")
            if worse is not None:
                low = min(amount, value(model, variant, *graded_answers(model, worse))[0])
            lines.append(
                PortfolioLine(
                    line=index,
                    row=row.row,
                    variant_id=variant.id,
                    description=f"{model.display_name} {variant.storage_label}",
                    imei=row.imei,
                    serial=row.serial,
                    asset_tag=row.asset_tag,
                    cost_centre=row.cost_centre,
                    lock_released=row.lock_released,
                    grade=grade,
                    answers=answers,
                    amount=amount,
                    low=low,
                    recycle_only=grade is None,
                )
            )
            if progress is not None and (done % 500 == 0 or done == total):
                progress(done, total)
        return lines, unpriced

    # -- reading a batch ----------------------------------------------------------------------------------

    def _batch_state(self, batch_id: str) -> tuple[BatchRecord, int, dict[str, Any]]:
        record, version = self._port(FleetStore).get_batch(batch_id, **self._in_scope)
        return record, version, json.loads(record.document)

    def _portfolio_lines(self, batch_id: str) -> tuple[PortfolioLine, ...]:
        from tradein_sdk._domain.fleet import PortfolioLine  # noqa: PLC0415 - loads with the first call

        return tuple(
            PortfolioLine.from_json(json.loads(text)) for text in self._port(FleetStore).batch_lines(batch_id)
        )

    def fleet_batch(self, batch_id: str) -> FleetBatch:
        """A batch and its lines as they stand (each line's device state read from the batch's order).

        Raises:
            BatchNotFoundError: no batch in scope has that id.
        """
        record, _, state = self._batch_state(batch_id)
        lines = self._portfolio_lines(batch_id)
        order = self.order(record.order_id) if record.order_id else None
        return self._view(record, state, lines, order)

    def fleet_batches(self, company_id: str | None = None) -> list[FleetBatch]:
        """The batches in scope (of one company), newest first, without their lines."""
        return [
            self._view(record, json.loads(record.document), (), None)
            for record in self._port(FleetStore).batches(company_id=company_id, **self._in_scope)
        ]

    def _view(
        self,
        record: BatchRecord,
        state: Mapping[str, Any],
        lines: Sequence[PortfolioLine],
        order: TradeInOrder | None,
    ) -> FleetBatch:
        from tradein_sdk._domain.fleet import (  # noqa: PLC0415 - loads with the first call
            BatchLineView,
            BatchState,
            ExtraDevice,
            FleetBatch,
            LineStatus,
            Manifest,
            PortfolioQuote,
            PortfolioTotals,
        )

        status: Mapping[str, str] = state.get("status", {})
        devices: Mapping[str, str] = state.get("devices", {})
        views = []
        for line in lines:
            device_id = devices.get(str(line.line))
            device = order.device(device_id) if order is not None and device_id is not None else None
            views.append(
                BatchLineView(
                    line=line,
                    status=LineStatus(status.get(str(line.line), LineStatus.EXPECTED.value)),
                    device_id=device_id,
                    state=device.state if device is not None else None,
                    offer=device.offer if device is not None else None,
                    settled=device.settled if device is not None else None,
                    reasons=_reasons(device) if device is not None else (),
                )
            )
        envelope = state.get("envelope")
        totals = state["totals"]
        portfolio = PortfolioQuote(
            batch_id=record.batch_id,
            company_id=record.company_id,
            issued_at=dt.datetime.fromisoformat(state["issued_at"]),
            valid_until=dt.datetime.fromisoformat(state["valid_until"]),
            currency=state["currency"],
            pricebook=state["pricebook"],
            lines=tuple(lines),
            totals=PortfolioTotals(
                devices=totals["devices"],
                with_value=totals["with_value"],
                locks_to_release=totals["locks_to_release"],
                amount=Money.from_json(totals["amount"]),
                low=Money.from_json(totals["low"]),
            ),
            problems=tuple(ImportProblem(**problem) for problem in state.get("problems", [])),
            envelope=envelope,
        )
        manifest = state.get("manifest")
        return FleetBatch(
            id=record.batch_id,
            company_id=record.company_id,
            state=BatchState(record.state),
            portfolio=portfolio,
            order_id=record.order_id,
            manifest=Manifest.from_json(manifest) if manifest else None,
            handover=state.get("handover"),
            lines=tuple(views),
            extras=tuple(ExtraDevice.from_json(extra) for extra in state.get("extras", [])),
            settlement=state.get("settlement"),
        )

    def _save(
        self,
        record: BatchRecord,
        version: int,
        state: dict[str, Any],
        *,
        new_state: BatchState | None = None,
        order_id: str | None = None,
        action: str,
        details: Mapping[str, Any],
        outbox: Sequence[Any] = (),
        archive: Sequence[ArchivedDocument] = (),
    ) -> None:
        if new_state is not None:
            state["state"] = new_state.value
        self._port(FleetStore).save_batch(
            attrs.evolve(
                record,
                state=state["state"],
                order_id=order_id or record.order_id,
                document=json.dumps(state),
            ),
            version=version,
            now=self.clock.now(),
            audit=[
                AuditFact(
                    actor=self._actor().value, action=action, subject=record.batch_id, details=dict(details)
                )
            ],
            outbox=outbox,
            archive=archive,
        )

    def _require(self, record: BatchRecord, action: str, *states: BatchState) -> None:
        from tradein_sdk._domain.fleet import BatchState  # noqa: PLC0415 - loads with the first call

        if BatchState(record.state) not in states:
            raise BatchStateError(record.batch_id, state=record.state, action=action)

    # -- pickup --------------------------------------------------------------------------------------------

    def book_pickup(
        self,
        batch_id: str,
        *,
        boxes: int,
        seals: Sequence[str],
        lines: Sequence[int] | None = None,
        contact: Mapping[str, str] | None = None,
        payout: PayoutDetails | None = None,
    ) -> FleetBatch:
        """Book the pickup of a quoted batch: its order opens with one device per line, and a manifest.

        The pickup day is the contract's pickup promise in working days from today (weekends and the
        contract country's public holidays skipped). Each line is bought at its portfolio amount: a quote
        priced with the contract book, valid until the portfolio's validity ends.

        Args:
            batch_id: the batch.
            boxes: how many boxes the carrier collects.
            seals: the seal number of each box.
            lines: the line numbers picked up (default: every line).
            contact: the pickup contact (name, phone, address); kept apart as personal data.
            payout: the company's bank account for the settlement; kept apart as personal data.

        Raises:
            BatchStateError: the batch is not ``quoted``, or its portfolio quote has expired.
            PickupTooSmallError: fewer than 4 devices.
            FleetError: a line number the batch does not have, or boxes and seals that do not match.
        """
        from tradein_sdk._domain.fleet import (  # noqa: PLC0415 - loads with the first call
            MIN_PICKUP_DEVICES,
            BatchState,
            LineStatus,
            Manifest,
            add_working_days,
            manifest_problems,
        )

        record, version, state = self._batch_state(batch_id)
        self._require(record, "book_pickup", BatchState.QUOTED)
        now = self.clock.now()
        valid_until = dt.datetime.fromisoformat(state["valid_until"])
        if now >= valid_until:
            raise BatchStateError(
                batch_id,
                state=record.state,
                action="book_pickup",
                detail="the quote expired",
                reason="expired",
            )
        all_lines = self._portfolio_lines(batch_id)
        chosen = sorted(set(lines)) if lines is not None else [line.line for line in all_lines]
        unknown = [number for number in chosen if not 1 <= number <= len(all_lines)]
        if unknown:
            raise FleetError("fleet batch {batch} has no line {line}", batch=batch_id, line=unknown[0])
        if len(chosen) < MIN_PICKUP_DEVICES:
            raise PickupTooSmallError(count=len(chosen), minimum=MIN_PICKUP_DEVICES)
        problems = manifest_problems(seals, boxes)
        if problems:
            raise FleetError("the manifest is not valid: {problems}", problems="; ".join(problems))
        company = self.company(record.company_id)
        owner = self._batch_owner(record)
        tokens = self._line_quotes(owner, state, [all_lines[number - 1] for number in chosen], now=now)
        order = owner.accept(tokens, payout=payout, customer_ref=company.id, actor=self._actor())
        pickup_on = add_working_days(
            now.date(),
            company.contract.pickup_days,
            country=company.contract.holiday_country,
            subdivision=company.contract.holiday_subdivision,
        )
        contact_ref = None
        if contact:
            contact_ref = f"con_{uuid.uuid4().hex[:20]}"
            self._port(PersonalDataStore).add_personal_data(
                PersonalData(
                    ref=contact_ref,
                    kind="contact",
                    subject_ref=company.id,
                    data=json.dumps(dict(contact), sort_keys=True),
                    tenant=record.tenant,
                    organisation=record.organisation,
                ),
                now=now,
            )
        manifest = Manifest(
            boxes=boxes,
            seals=tuple(seal.strip() for seal in seals),
            lines=tuple(chosen),
            pickup_on=pickup_on,
            contact_ref=contact_ref,
        )
        for number, device in zip(chosen, order.devices, strict=True):
            state["devices"][str(number)] = device.id
            state["status"][str(number)] = LineStatus.EXPECTED.value
        state["manifest"] = manifest.to_json()
        state["booked_at"] = now.isoformat()
        try:
            self._save(
                record,
                version,
                state,
                new_state=BatchState.BOOKED,
                order_id=order.id,
                action="fleet.pickup_booked",
                details={
                    "order": order.id,
                    "devices": len(chosen),
                    "boxes": boxes,
                    "pickup_on": pickup_on.isoformat(),
                },
            )
        except ConcurrentUpdateError:  # booked meanwhile by another call: this call's order is withdrawn
            owner.cancel(order.id, actor=Actor.SYSTEM)
            raise BatchStateError(
                batch_id, state=record.state, action="book_pickup", detail="booked meanwhile", reason="busy"
            ) from None
        for device in order.devices:
            self.record_event(order.id, device.id, EventKind.ISSUE_LABEL, actor=Actor.SYSTEM)
        return self.fleet_batch(batch_id)

    def _line_quotes(
        self, owner: Self, state: Mapping[str, Any], lines: Sequence[PortfolioLine], *, now: dt.datetime
    ) -> list[str]:
        """The tokens of a quote per line, issued for the batch's owner at the portfolio's day and book."""
        book = self._contract_book(state["pricebook_hash"])
        valid_until = dt.datetime.fromisoformat(state["valid_until"])
        priced_on = dt.datetime.fromisoformat(state["issued_at"]).date()  # the guaranteed day's prices
        tokens = []
        for line in lines:
            entry = self.catalog.lookup(line.variant_id)
            model = entry.model
            issued = owner._issue_quote(
                book,
                model=model,
                variant=entry.variant or model.variants[0],
                report=self.grade(model.category.value, line.answers),
                kind=QuoteKind.ESTIMATE,
                channel=Channel.ONLINE,
                audience=owner.audience,
                locale=self.locale,
                imei=line.imei,
                now=now.replace(microsecond=0),
                expires_at=valid_until,
                as_of=priced_on,
            )
            if issued.quote.amount != line.amount:  # the portfolio's book and day: never differs
                raise FleetError(
                    "line {line} prices at {now}, not the quoted {quoted}",
                    line=line.line,
                    now=str(issued.quote.amount),
                    quoted=str(line.amount),
                )
            tokens.append(issued.token)
        return tokens

    def _batch_owner(self, record: BatchRecord) -> Self:
        """This facade as the batch's owner: its quotes and order belong to the tenant that quoted the batch.

        A back office books a store's batch within its organisation; the order is still the store's.
        """
        if self.scope is None or record.tenant in {None, self.scope.tenant}:
            return self
        from tradein_sdk._domain.tenancy import Role, Scope  # noqa: PLC0415

        owner = Scope(
            tenant=record.tenant or self.scope.tenant,
            organisation=record.organisation or self.scope.organisation,
            role=Role.STORE,
        )
        return self.scoped(owner)

    def _contract_book(self, content_hash: str) -> PriceBook:
        from tradein_sdk._domain.pricing import parse_pricebook  # noqa: PLC0415
        from tradein_sdk._ports import Store  # noqa: PLC0415

        return parse_pricebook(json.loads(self._port(Store).get_document(content_hash)))

    def hand_over(
        self, batch_id: str, *, seals: Sequence[str], carrier: str, tracking: str | None = None
    ) -> FleetBatch:
        """Record the carrier's pickup: a signed hand-over record of the boxes and their seals.

        Args:
            batch_id: the batch.
            seals: the seal numbers the carrier saw intact (each box of the manifest).
            carrier: the carrier's name.
            tracking: the carrier's tracking number.

        Raises:
            BatchStateError: the batch is not ``booked``.
            FleetError: the seals are not the manifest's.
        """
        from tradein_sdk._domain.fleet import HANDOVER_PURPOSE, BatchState, Manifest  # noqa: PLC0415 - loads with the first call

        record, version, state = self._batch_state(batch_id)
        self._require(record, "hand_over", BatchState.BOOKED)
        manifest = Manifest.from_json(state["manifest"])
        given = sorted(seal.strip() for seal in seals)
        if given != sorted(manifest.seals):
            raise FleetError(
                "the seals handed over ({given}) are not the manifest's ({expected})",
                given=", ".join(given),
                expected=", ".join(sorted(manifest.seals)),
            )
        now = self.clock.now()
        lines = self._portfolio_lines(batch_id)
        listed = [lines[number - 1] for number in manifest.lines]
        document = {
            "batch_id": batch_id,
            "company_id": record.company_id,
            "order_id": record.order_id,
            "handed_over_at": now.isoformat(),
            "carrier": checked_text(carrier, field="carrier", maximum=80),
            "tracking": tracking,
            "boxes": manifest.boxes,
            "seals": list(manifest.seals),
            "devices": len(listed),
            "devices_digest": lines_digest([line.identifier for line in listed]),
        }
        envelope = self._sign_fleet(document, HANDOVER_PURPOSE)
        state["handover"] = envelope
        content = json.dumps(envelope, sort_keys=True).encode()
        self._save(
            record,
            version,
            state,
            new_state=BatchState.PICKED_UP,
            action="fleet.handed_over",
            details={"boxes": manifest.boxes, "carrier": document["carrier"]},
            archive=[self._archived("handover_record", None, record, "application/json", content)],
        )
        return self.fleet_batch(batch_id)

    def _archived(
        self, kind: str, number: str | None, record: BatchRecord, media_type: str, content: bytes
    ) -> ArchivedDocument:
        """A document to archive for a batch, owned like the batch (whoever's key issued it)."""
        now = self.clock.now()
        return ArchivedDocument(
            document_id=f"doc_{uuid.uuid4().hex[:24]}",
            kind=kind,
            number=number,
            batch_id=record.batch_id,
            media_type=media_type,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=now,
            retain_until=_end_of_retention(now.date()),
            tenant=record.tenant,
            organisation=record.organisation,
        )

    # -- the boxes at the warehouse --------------------------------------------------------------------------

    def receive_batch(self, batch_id: str, scanned: Sequence[str]) -> FleetBatch:
        """Open the boxes: each scanned IMEI, serial or asset tag is matched to its manifest line.

        Lines found are received; lines not found are **missing** (their device is cancelled: nothing is
        owed for it, and the ledger releases its amount); identifiers on no line are **extra** devices, kept
        apart until the company decides (:meth:`decide_extra`).

        Raises:
            BatchStateError: the batch is not ``picked_up`` (or ``booked``: a hand-over may be recorded late).
        """
        from tradein_sdk._domain.fleet import BatchState, ExtraDevice, LineStatus, Manifest  # noqa: PLC0415 - loads with the first call

        record, version, state = self._batch_state(batch_id)
        self._require(record, "receive", BatchState.PICKED_UP, BatchState.BOOKED)
        assert record.order_id is not None  # noqa: S101 - booked batches have their order
        manifest = Manifest.from_json(state["manifest"])
        lines = self._portfolio_lines(batch_id)
        index: dict[str, int] = {}
        for number in manifest.lines:
            line = lines[number - 1]
            for key in (line.imei, line.serial, line.asset_tag):
                if key:
                    index[_key(key)] = number
        found: set[int] = set()
        extras: list[ExtraDevice] = []
        for text in scanned:
            matched = index.get(_key(text))
            if matched is None:
                extras.append(ExtraDevice(identifier=text.strip()))
            else:
                found.add(matched)
        order_id = record.order_id
        for number in manifest.lines:
            state["status"][str(number)] = (
                LineStatus.RECEIVED.value if number in found else LineStatus.MISSING.value
            )

        def events(_: TradeInOrder) -> list[Any]:
            """Every line at once, under this batch's ids: a retry applies nothing twice."""
            from tradein_sdk._domain.orders.model import DeviceEvent  # noqa: PLC0415

            return [
                DeviceEvent(
                    id=f"fleet-receive:{batch_id}:{number}",
                    kind=EventKind.RECEIVE if number in found else EventKind.CANCEL,
                    device_id=state["devices"][str(number)],
                    actor=Actor.STAFF if number in found else Actor.SYSTEM,
                    reason=None if number in found else "not in the boxes",
                )
                for number in manifest.lines
            ]

        self._change(order_id, events)
        state["received_at"] = self.clock.now().isoformat()
        state["extras"] = [extra.to_json() for extra in extras]
        self._save(
            record,
            version,
            state,
            new_state=BatchState.RECEIVED,
            action="fleet.received",
            details={
                "received": len(found),
                "missing": len(manifest.lines) - len(found),
                "extras": len(extras),
            },
        )
        return self.fleet_batch(batch_id)

    def decide_extra(self, batch_id: str, identifier: str, decision: ExtraDecision | str) -> FleetBatch:
        """Record what happens to a device found in the boxes but not on the manifest (return or recycle).

        Raises:
            FleetError: the batch has no such extra device.
        """
        from tradein_sdk._domain.fleet import BatchState, ExtraDecision  # noqa: PLC0415 - loads with the first call

        record, version, state = self._batch_state(batch_id)
        self._require(record, "decide_extra", BatchState.RECEIVED)
        chosen = ExtraDecision(decision)
        for extra in state.get("extras", []):
            if _key(extra["identifier"]) == _key(identifier):
                extra["decision"] = chosen.value
                break
        else:
            raise FleetError(
                "fleet batch {batch} has no extra device {identifier}", batch=batch_id, identifier=identifier
            )
        self._save(record, version, state, action="fleet.extra_decided", details={"decision": chosen.value})
        return self.fleet_batch(batch_id)

    def inspect_fleet_device(
        self,
        batch_id: str,
        line: int,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
    ) -> InspectionDiff:
        """Inspect one device of a received batch, with the existing diff against its line's answers.

        Under a contract whose revisions are binding, a revised offer is accepted on the company's behalf at
        once; otherwise it waits for :meth:`respond_to_revision` on the batch's order.

        Raises:
            BatchStateError: the batch is not ``received``.
            FleetError: the line was not received.
        """
        from tradein_sdk._domain.fleet import BatchState, LineStatus  # noqa: PLC0415 - loads with the first call

        record, _, state = self._batch_state(batch_id)
        self._require(record, "inspect", BatchState.RECEIVED)
        if state["status"].get(str(line)) != LineStatus.RECEIVED.value:
            raise FleetError("line {line} of fleet batch {batch} was not received", line=line, batch=batch_id)
        assert record.order_id is not None  # noqa: S101 - booked batches have their order
        device_id = state["devices"][str(line)]
        diff = self.inspect(
            record.order_id,
            device_id,
            answers,
            imei=imei,
            variant_id=variant_id,
            lock_removable=lock_removable,
        )
        company = self.company(record.company_id)
        device = self.order(record.order_id).device(device_id)
        if device.state is DeviceState.REVISED and company.contract.revisions_binding:
            self.respond_to_revision(record.order_id, device_id, accept=True)
        return diff

    def fleet_true_up(self, batch_id: str) -> BatchTrueUp:
        """What inspection found against the quote, per line and for the batch."""
        from tradein_sdk._domain.fleet import BatchTrueUp, LineStatus  # noqa: PLC0415 - loads with the first call

        batch = self.fleet_batch(batch_id)
        manifest_lines = set(batch.manifest.lines) if batch.manifest else set()
        picked = [view for view in batch.lines if view.line.line in manifest_lines]
        currency = batch.portfolio.currency
        quoted = sum((view.line.amount.amount for view in picked), Decimal(0))
        bought = sum(
            (view.offer.amount for view in picked if view.offer is not None and _bought(view)),
            Decimal(0),
        )
        return BatchTrueUp(
            batch_id=batch.id,
            lines=tuple(picked),
            quoted=Money(quoted, currency),
            confirmed=Money(bought, currency),
            adjustment=Money(bought - quoted, currency),
            missing=sum(1 for view in picked if view.status is LineStatus.MISSING),
            returned=sum(
                1
                for view in picked
                if view.state in {DeviceState.MISMATCH, DeviceState.RETURNING, DeviceState.RETURNED}
            ),
            extras=len(batch.extras),
        )

    # -- settlement -----------------------------------------------------------------------------------------

    def settle_batch(
        self, batch_id: str, *, issuer: Party, payout: PayoutDetails | None = None
    ) -> FleetBatch:
        """Settle a received batch at once: one settlement in the ledger and one credit note (or statement).

        Every device confirmed (or accepted at a revised offer) is paid in one change of the batch's order,
        under one payout reference; devices without value are recycled free of charge; devices in mismatch
        go back to the company. The document is a self-billing credit note (Gutschrift) for a business
        seller, a purchase statement otherwise; its payable total is the ledger's settled total, to the cent.
        It is numbered in the issuer's series, rendered as PDF (and, for a credit note, as an EN 16931
        e-invoice embedded in it), and archived with its SHA-256 for 10 years. A batch with nothing to pay
        (every device missing or going back) is closed without a document.

        The document is built and checked before any money moves; the batch is then claimed (``settling``,
        under one settlement id), the devices paid, the document numbered and archived. A call that fails
        after the claim (the database, the PDF) leaves the batch ``settling``: calling again finishes the same
        settlement, never a second one.

        Args:
            batch_id: the batch.
            issuer: the shop as it appears on the document (name, address, VAT id).
            payout: the company's bank account, when not given at booking.

        Raises:
            BatchStateError: the batch is not ``received`` (or ``settling``), a received device is not
                decided yet (not inspected, or a revised offer waits for an answer), or no bank account is
                known; nothing was paid.
            CreditNoteError: the document cannot be issued (the seller's VAT id, the self-billing agreement,
                the issuer's VAT id); nothing was paid.
        """
        from tradein_sdk._app.orders import _payout_data  # noqa: PLC0415
        from tradein_sdk._domain.fleet import BatchState  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.payouts import PayoutMethod, payout_ref  # noqa: PLC0415

        record, version, state = self._batch_state(batch_id)
        self._require(record, "settle", BatchState.RECEIVED, BatchState.SETTLING)
        assert record.order_id is not None  # noqa: S101 - booked batches have their order
        order_id = record.order_id
        company = self.company(record.company_id)
        if record.state == BatchState.SETTLING.value:  # a settlement begun before: finish it
            return self._finish_settlement(batch_id, company, issuer)
        self._check_document_fields(company, issuer)
        order = self.order(order_id)
        undecided = [
            device.id
            for device in order.devices
            if device.state
            in {DeviceState.RECEIVED, DeviceState.INSPECTED, DeviceState.REVISED, DeviceState.ON_HOLD}
        ]
        if undecided:
            raise BatchStateError(
                batch_id,
                state=record.state,
                action="settle",
                detail=f"{len(undecided)} device(s) not decided yet",
                reason="undecided",
            )
        plan = self._settlement_plan(order, state)
        reference = order.payout
        if payout is not None:
            reference = payout_ref(payout, reference=f"pay_{uuid.uuid4().hex[:20]}")
        if plan and (reference is None or reference.method is not PayoutMethod.BANK_TRANSFER):
            raise BatchStateError(
                batch_id,
                state=record.state,
                action="settle",
                detail="no bank account was given for the payout",
                reason="no_bank_account",
            )
        now = self.clock.now()
        lines = self._portfolio_lines(batch_id)
        if plan:  # the document must build (every field, every rule) before any money moves
            self._settlement_note(
                company, issuer, state, lines, plan, number="GS-0000-000000", now=now, order_id=order_id
            )
        if payout is not None and reference is not None:
            order_record, _ = self._port(OrderStore).get_order(order_id, **self._in_scope)
            self._port(PersonalDataStore).add_personal_data(
                attrs.evolve(
                    _payout_data(payout, reference, company.id),
                    tenant=order_record.tenant,
                    organisation=order_record.organisation,
                ),
                now=now,
            )
        settlement_id = f"set_{uuid.uuid4().hex[:20]}"
        state["settlement"] = {
            "id": settlement_id,
            "payout": reference.reference if reference is not None else None,
            "planned": {device_id: amount.to_json() for device_id, amount in plan.items()},
        }
        try:
            self._save(
                record,
                version,
                state,
                new_state=BatchState.SETTLING,
                action="fleet.settling",
                details={"settlement": settlement_id, "devices": len(plan)},
            )
        except ConcurrentUpdateError:
            raise BatchStateError(
                batch_id, state=record.state, action="settle", detail="settled meanwhile", reason="busy"
            ) from None
        return self._finish_settlement(batch_id, company, issuer)

    def _settlement_plan(self, order: TradeInOrder, state: Mapping[str, Any]) -> dict[str, Money]:
        """What each device to be paid is owed now, by the ledger (devices in line order)."""
        from tradein_sdk._domain.ledger import settlement_amount  # noqa: PLC0415
        from tradein_sdk._ports import Ledger  # noqa: PLC0415

        entries = self._port(Ledger).ledger_entries(order.id)
        by_device = _lines_by_device(state)
        plan = {
            device.id: settlement_amount(entries, device.id, order.currency)
            for device in order.devices
            if device.state in {DeviceState.CONFIRMED, DeviceState.REVISION_ACCEPTED}
            and not device.offer.is_zero()
        }
        return {
            device_id: plan[device_id] for device_id in sorted(plan, key=lambda device: by_device[device])
        }

    def _finish_settlement(self, batch_id: str, company: Company, issuer: Party) -> FleetBatch:
        """Pay the claimed settlement's devices (once), then number, archive and announce its document."""
        from tradein_sdk._domain.orders.model import DeviceEvent  # noqa: PLC0415
        from tradein_sdk._domain.payouts import PayoutMethod, PayoutRef  # noqa: PLC0415

        record, _, state = self._batch_state(batch_id)
        assert record.order_id is not None  # noqa: S101 - booked batches have their order
        settlement = state["settlement"]
        settlement_id = settlement["id"]
        planned = {device_id: Money.from_json(amount) for device_id, amount in settlement["planned"].items()}
        batch_ref = (
            PayoutRef(method=PayoutMethod.BANK_TRANSFER, reference=settlement["payout"])
            if settlement.get("payout")
            else None
        )

        def events(current: TradeInOrder) -> list[Any]:
            out = []
            for device in current.devices:
                event_id = f"{settlement_id}:{device.id}"  # the same on a second call: applied once
                decided = device.state in {DeviceState.CONFIRMED, DeviceState.REVISION_ACCEPTED}
                if decided and device.id in planned:
                    event = DeviceEvent(
                        id=event_id,
                        kind=EventKind.PAY,
                        device_id=device.id,
                        actor=Actor.STAFF,
                        payout=batch_ref,
                        amount=planned[device.id],
                    )
                elif decided:  # no value: recycled free of charge
                    event = DeviceEvent(
                        id=event_id, kind=EventKind.RECYCLE, device_id=device.id, actor=Actor.STAFF
                    )
                elif device.state is DeviceState.MISMATCH:
                    event = DeviceEvent(
                        id=event_id, kind=EventKind.START_RETURN, device_id=device.id, actor=Actor.STAFF
                    )
                else:
                    continue
                out.append(event)
            return out

        order = self._change(record.order_id, events)
        return self._issue_settlement_documents(batch_id, company, issuer, order, settlement_id)

    def _check_document_fields(self, company: Company, issuer: Party) -> None:
        from tradein_sdk._domain.credit_notes import SellerVatStatus  # noqa: PLC0415 - loads with the first call

        if company.vat_status is SellerVatStatus.NOT_REGISTERED:
            return
        if not (company.vat_id or company.tax_number):
            raise CreditNoteError(
                "a credit note names the seller's VAT id or tax number; {company} has neither",
                company=company.id,
            )
        if company.contract.self_billing is None:
            raise CreditNoteError(
                "a credit note (Gutschrift) needs a prior self-billing agreement (§ 14 Abs. 2 UStG); "
                "the contract of {company} has none",
                company=company.id,
            )
        if not (issuer.vat_id or issuer.tax_number):
            raise CreditNoteError("the issuer of a credit note names its VAT id or tax number")

    def _settlement_note(
        self,
        company: Company,
        issuer: Party,
        state: Mapping[str, Any],
        lines: Sequence[PortfolioLine],
        paid: Mapping[str, Money],
        *,
        number: str,
        now: dt.datetime,
        order_id: str,
    ) -> tuple[CreditNote, list[tuple[str, str, bytes]]]:
        """The batch's document and its files ``(kind, media type, bytes)``, built and checked.

        Raises:
            CreditNoteError: a field or rule of the document fails (nothing is numbered or paid then).
        """
        from tradein_sdk._adapters.credit_note_documents import (  # noqa: PLC0415 - fpdf2, drafthorse load with it
            credit_note_pdf,
            credit_note_xml,
            facturx_pdf,
        )
        from tradein_sdk._domain.credit_notes import (  # noqa: PLC0415 - loads with the first call
            REVERSE_CHARGE_THRESHOLD,
            DocumentKind,
            Party,
            build_credit_note,
        )
        from tradein_sdk._domain.fleet import add_working_days  # noqa: PLC0415 - loads with the first call

        by_device = _lines_by_device(state)
        handover = state.get("handover") or {}
        supplied = dt.datetime.fromisoformat(
            handover.get("payload", {}).get("handed_over_at") or state.get("received_at") or now.isoformat()
        ).date()
        kind = _document_kind(company)
        covered = all(  # § 13b Abs. 2 Nr. 10 UStG names phones and tablets (and consoles), not watches
            self.catalog.lookup(lines[by_device[device_id] - 1].variant_id).model.category.value
            in {"smartphone", "tablet"}
            for device_id in paid
        )
        note = build_credit_note(
            number=number,
            issued_on=now.date(),
            supplied_on=supplied,
            issuer=issuer,
            seller=Party(
                name=company.legal_name,
                street=company.address.street,
                postcode=company.address.postcode,
                city=company.address.city,
                country=company.address.country,
                vat_id=company.vat_id,
                tax_number=company.tax_number,
            ),
            status=company.vat_status,
            lines=[
                (
                    lines[by_device[device_id] - 1].description,
                    lines[by_device[device_id] - 1].imei or lines[by_device[device_id] - 1].serial,
                    lines[by_device[device_id] - 1].asset_tag,
                    amount,
                )
                for device_id, amount in paid.items()
            ],
            payment_due=add_working_days(
                now.date(),
                company.contract.payment_days,
                country=company.contract.holiday_country,
                subdivision=company.contract.holiday_subdivision,
            ),
            agreement=company.contract.self_billing,
            references={"batch": state["id"], "order": order_id, "company": company.id},
            reverse_charge_threshold=REVERSE_CHARGE_THRESHOLD if covered else Decimal("Infinity"),
        )
        files = [
            (f"{kind.value}_json", "application/json", json.dumps(note.to_json(), sort_keys=True).encode())
        ]
        if kind is DocumentKind.CREDIT_NOTE:
            files.append(("credit_note_xml", "application/xml", credit_note_xml(note)))
            files.append(("credit_note_pdf", "application/pdf", facturx_pdf(note)))
        else:
            files.append(("purchase_statement_pdf", "application/pdf", credit_note_pdf(note)))
        return note, files

    def _issue_settlement_documents(
        self, batch_id: str, company: Company, issuer: Party, order: TradeInOrder, settlement_id: str
    ) -> FleetBatch:
        """Number, archive and announce the document of a paid settlement (none when nothing was paid)."""
        from tradein_sdk._domain.credit_notes import document_number  # noqa: PLC0415
        from tradein_sdk._domain.fleet import BatchState  # noqa: PLC0415 - loads with the first call
        from tradein_sdk._domain.outbox import outbox_messages  # noqa: PLC0415
        from tradein_sdk._domain.webhooks import WebhookEvent, WebhookEventType  # noqa: PLC0415

        record, version, state = self._batch_state(batch_id)
        if record.state == BatchState.SETTLED.value:
            return self.fleet_batch(batch_id)
        lines = self._portfolio_lines(batch_id)
        by_device = _lines_by_device(state)
        paid = {
            device.id: device.settled
            for device in sorted(order.devices, key=lambda device: by_device[device.id])
            if device.state is DeviceState.PAID and device.settled is not None
        }
        now = self.clock.now()
        documents: list[ArchivedDocument] = []
        document: dict[str, Any] | None = None
        payable = Money(Decimal(0), order.currency)
        payment_due = None
        if paid:
            kind = _document_kind(company)
            series = f"{record.organisation or self._owner()['organisation']}:{kind.value}:{now.year}"
            number = document_number(kind, now.year, self._port(FleetStore).next_document_number(series))
            note, files = self._settlement_note(
                company, issuer, state, lines, paid, number=number, now=now, order_id=order.id
            )
            documents = [
                self._archived(name, number, record, media, content) for name, media, content in files
            ]
            document = {"kind": kind.value, "number": number, "sha256": documents[-1].sha256}
            payable = note.payable
            payment_due = note.payment_due
        settlement = {
            **state["settlement"],
            "settled_at": now.isoformat(),
            "amount": payable.to_json(),
            "devices": len(paid),
            "document": document,
            "payment_due": payment_due.isoformat() if payment_due else None,
            "lines": {str(by_device[device_id]): index for index, device_id in enumerate(paid, start=1)},
        }
        state["settlement"] = settlement
        order_record, _ = self._port(OrderStore).get_order(order.id, **self._in_scope)
        told = WebhookEvent(
            id="msg_" + hashlib.sha256(f"fleet-settlement/{settlement_id}".encode()).hexdigest()[:32],
            type=WebhookEventType.BATCH_SETTLED.value,
            timestamp=now,
            data={
                "batch_id": batch_id,
                "company_id": company.id,
                "order_id": order.id,
                "settlement_id": settlement_id,
                "amount": payable.to_json(),
                "devices": len(paid),
                "document": document,
                "payment_due": settlement["payment_due"],
            },
        )
        event = outbox_messages(
            [told],
            self._endpoints_for(order_record),
            tenant=order_record.tenant,
            organisation=order_record.organisation,
        )
        try:
            self._save(
                record,
                version,
                state,
                new_state=BatchState.SETTLED,
                action="fleet.settled",
                details={
                    "settlement": settlement_id,
                    "amount": payable.to_json(),
                    "document": document["number"] if document else None,
                },
                outbox=event,
                archive=documents,
            )
        except ConcurrentUpdateError:  # another call finished the same settlement first
            return self.fleet_batch(batch_id)
        return self.fleet_batch(batch_id)

    # -- documents ------------------------------------------------------------------------------------------

    def fleet_documents(self, batch_id: str) -> list[ArchivedDocument]:
        """The documents archived for a batch (hand-over record, credit note, statement), without content."""
        self._batch_state(batch_id)  # in scope
        return self._port(FleetStore).archived_documents(batch_id, with_content=False, **self._in_scope)

    def fleet_document(self, batch_id: str, kind: str) -> ArchivedDocument:
        """One archived document of a batch with its content, checked against its stored SHA-256.

        Raises:
            FleetError: the batch has no such document, or its content no longer matches its hash.
        """
        self._batch_state(batch_id)
        for document in self._port(FleetStore).archived_documents(batch_id, **self._in_scope):
            if document.kind == kind:
                if hashlib.sha256(document.content).hexdigest() != document.sha256:
                    raise FleetError(
                        "the archived {kind} of {batch} does not match its hash", kind=kind, batch=batch_id
                    )
                return document
        raise FleetError("fleet batch {batch} has no {kind}", batch=batch_id, kind=kind)

    # -- the company's report -------------------------------------------------------------------------------

    def fleet_report(self, batch_id: str) -> FleetReport:
        """The company's report of a batch: each line's outcome, amounts, certificate and CO2; the totals.

        Every line has its quoted, inspected and paid amounts, the reasons of its adjustment, its erasure
        certificate, its credit-note line and its CO2 figure; the report adds the extras, the settlement and
        the CO2 totals, and carries the order's erasure certificates bundle.

        Raises:
            BatchNotFoundError: no batch in scope has that id.
        """
        from tradein_sdk._domain.fleet_report import FleetReport, ReportRow, outcome_of  # noqa: PLC0415

        batch = self.fleet_batch(batch_id)
        company = self.company(batch.company_id)
        record, _, state = self._batch_state(batch_id)
        certificates: dict[str, str] = {}
        co2: dict[str, Decimal] = {}
        co2_totals: dict[str, Any] | None = None
        bundle: Mapping[str, Any] | None = None
        if batch.order_id is not None:
            bundle = self.certificate_bundle(batch.order_id)
            for certificate in bundle.get("certificates", []):
                payload = certificate.get("payload", {})
                certificates[str(payload.get("device_id"))] = str(
                    payload.get("certificate_id") or payload.get("id")
                )
            result = self.order_co2(batch.order_id)
            for entry in result.entries:
                co2[entry.device_id] = entry.result.avoided.central
            if result.entries:
                co2_totals = {
                    "devices": result.totals.devices,
                    "low": f"{result.totals.avoided.low:.1f}",
                    "central": f"{result.totals.avoided.central:.1f}",
                    "high": f"{result.totals.avoided.high:.1f}",
                    "complete": result.complete,
                    "method": "tradein-co2-1",
                }
        settlement = batch.settlement
        settled_lines: Mapping[str, int] = settlement.get("lines", {}) if settlement else {}
        picked = set(batch.manifest.lines) if batch.manifest else set()
        rows = []
        for view in batch.lines:
            number = view.line.line
            rows.append(
                ReportRow(
                    line=number,
                    asset_tag=view.line.asset_tag,
                    cost_centre=view.line.cost_centre,
                    device=view.line.description,
                    identifier=view.line.identifier,
                    outcome=outcome_of(
                        view.state.value if view.state else None,
                        view.status.value,
                        picked=number in picked,
                        settled_line=settled_lines.get(str(number)),
                    ),
                    state=view.state.value if view.state else "",
                    quoted=view.line.amount.amount,
                    inspected=view.offer.amount if view.offer is not None and _inspected(view) else None,
                    paid=view.settled.amount if view.settled is not None else None,
                    reasons=view.reasons,
                    certificate_id=certificates.get(view.device_id or ""),
                    credit_note_line=settled_lines.get(str(number)),
                    co2_avoided_kg=co2.get(view.device_id or ""),
                )
            )
        dates = {key: state[key] for key in ("issued_at", "booked_at") if state.get(key)}
        if batch.handover:
            dates["handed_over_at"] = batch.handover.get("payload", {}).get("handed_over_at", "")
        if settlement:
            dates["settled_at"] = settlement.get("settled_at", "")
        return FleetReport(
            batch_id=batch.id,
            company={"id": company.id, "legal_name": company.legal_name, "vat_id": company.vat_id},
            state=record.state,
            currency=batch.portfolio.currency,
            dates=dates,
            rows=tuple(rows),
            extras=tuple(extra.to_json() for extra in batch.extras),
            settlement=settlement,
            co2=co2_totals,
            certificates=bundle,
        )

    def fleet_report_file(self, batch_id: str, *, format: str = "csv", locale: str | None = None) -> bytes:  # noqa: A002 - the CLI's word
        """The report as a file: ``csv`` (the asset-disposal export), ``xlsx``, ``pdf`` or ``json``.

        Raises:
            FleetError: an unknown format, or the [fleet] extra (openpyxl) missing for XLSX.
        """
        from tradein_sdk._domain.fleet_report import report_csv, report_xlsx  # noqa: PLC0415

        report = self.fleet_report(batch_id)
        if format == "csv":
            return report_csv(report).encode()
        if format == "xlsx":
            return report_xlsx(report)
        if format == "json":
            return json.dumps(report.to_json(), indent=2, ensure_ascii=False).encode()
        if format == "pdf":
            from tradein_sdk._adapters.fleet_report_pdf import fleet_report_pdf  # noqa: PLC0415 - fpdf2 loads with it

            return fleet_report_pdf(report, locale=locale or self.locale)
        raise FleetError("a report is csv, xlsx, pdf or json, not {format}", format=format)


class _Pricer:
    """Grades and prices a fleet list's devices, each distinct device and answers once."""

    def __init__(self, trade_in: FleetUseCases, book: PriceBook, as_of: dt.date) -> None:
        self._trade_in = trade_in
        self._book = book
        self._as_of = as_of
        self._graded: dict[tuple[str, str], ConditionReport] = {}
        self._valued: dict[tuple[str, str], Money] = {}
        self._as_grade: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}

    def graded_answers(self, model: DeviceModel, grade: str) -> tuple[str, Mapping[str, Any]]:
        """The key and the answers a grade stands for on this model (made once per model and grade)."""
        from tradein_sdk._domain.fleet import grade_answers  # noqa: PLC0415 - loads with the first call

        known = self._as_grade.get((model.id, grade))
        if known is None:
            answers = grade_answers(self._trade_in.questionnaire(model.category.value), model, grade)
            known = self._as_grade[(model.id, grade)] = (json.dumps(answers, sort_keys=True), answers)
        return known

    def value(
        self, model: DeviceModel, variant: DeviceVariant, key: str, answers: Mapping[str, Any]
    ) -> tuple[Money, str | None]:
        """The price of a variant with these answers (``key`` names them), and its pricing grade."""
        from tradein_sdk._domain.pricing import value_device  # noqa: PLC0415

        category = model.category.value
        report = self._graded.get((category, key))
        if report is None:
            self._trade_in._check_answers_fit(model, answers, self._trade_in.locale)  # noqa: SLF001
            report = self._graded[(category, key)] = self._trade_in.grade(category, answers)
        amount = self._valued.get((variant.id, key))
        if amount is None:
            amount = self._valued[(variant.id, key)] = value_device(
                self._book, model=model, variant=variant, report=report, as_of=self._as_of
            ).total
        return amount, report.pricing_grade


def _lines_by_device(state: Mapping[str, Any]) -> dict[str, int]:
    """A booked batch's line number of each of its order's devices."""
    return {device_id: int(line) for line, device_id in state["devices"].items()}


def _document_kind(company: Company) -> DocumentKind:
    """A self-billing credit note for a business seller; a purchase statement for one not VAT-registered."""
    from tradein_sdk._domain.credit_notes import DocumentKind, SellerVatStatus  # noqa: PLC0415 - loads with the first call

    if company.vat_status is SellerVatStatus.NOT_REGISTERED:
        return DocumentKind.PURCHASE_STATEMENT
    return DocumentKind.CREDIT_NOTE


def _by_row(problem: ImportProblem) -> int:
    return problem.row


def _key(text: str) -> str:
    return "".join(character for character in text if character.isalnum()).casefold()


def _inspected(view: BatchLineView) -> bool:
    from tradein_sdk._domain.fleet import LineStatus  # noqa: PLC0415 - loads with the first call

    return view.state not in {
        None,
        DeviceState.ACCEPTED,
        DeviceState.AWAITING_SHIPMENT,
        DeviceState.RECEIVED,
    } and (view.status is LineStatus.RECEIVED)


def _bought(view: BatchLineView) -> bool:
    from tradein_sdk._domain.fleet import LineStatus  # noqa: PLC0415 - loads with the first call

    return view.status is LineStatus.RECEIVED and view.state in {
        DeviceState.CONFIRMED,
        DeviceState.REVISION_ACCEPTED,
        DeviceState.PAID,
        DeviceState.CREDITED,
        DeviceState.DISPOSED,
    }


def _reasons(device: OrderDevice) -> tuple[str, ...]:
    inspection = device.inspection
    if inspection is None:
        return ()
    reasons = [
        f"{question}: {impact}"
        for question, impact in inspection.impacts.items()
        if impact not in {"0", "0.00"}
    ]
    reasons.extend(f"mismatch: {reason.value}" for reason in inspection.mismatch)
    return tuple(reasons)
