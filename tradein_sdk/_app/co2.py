"""The CO2 use cases of :class:`~tradein_sdk.TradeIn`: avoided emissions per quote, order and period.

The calculation is :func:`tradein_sdk._domain.co2.device_co2` with the facade's factor document
(``TradeIn(co2_factors=...)``, the bundled one by default). A device counts once, when it was bought (paid or
credited) or recycled: a bought device is expected to be reused until its disposition is recorded, which then
decides (refurbish: reuse; parts; recycle). Returned, cancelled and expired devices had no second life through
the shop and are left out. Reports are signed with the installation's keys (purpose ``co2-report``) so an
auditor can check with the published keys that nothing was changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tradein_sdk._domain.orders.vocabulary import DeviceState, Disposition

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date, datetime
    from decimal import Decimal

    from tradein_sdk._app.facade import StoredQuote
    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.co2 import CO2Entry, CO2Factors, DeviceCO2, EntryStatus, OrderCO2, Outcome
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.pages import OrderPage
    from tradein_sdk._domain.signing import SigningKeys

_COUNTED: Final = frozenset(
    {DeviceState.PAID, DeviceState.CREDITED, DeviceState.RECYCLED, DeviceState.DISPOSED}
)
_EXCLUDED: Final = frozenset(
    {DeviceState.RETURNED, DeviceState.CANCELLED, DeviceState.EXPIRED, DeviceState.SURRENDERED}
)
_PAGE: Final = 500
_MEMO_SIZE: Final = 4096
_RESULTS: dict[tuple[str, str, str, str], DeviceCO2] = {}
"""Device results by (factor document, catalog, variant, outcome): the same inputs, the same result."""


def device_outcome(device: OrderDevice) -> tuple[Outcome, EntryStatus, datetime] | None:
    """What became of an order's device for CO2 purposes, how settled that is, and since when.

    Returns:
        ``None`` while the device is under way or when it was left out; else its outcome, whether it is
        final (disposed of or recycled) or expected (bought, awaiting disposition), and the time it was bought
        or recycled.
    """
    from tradein_sdk._domain.co2 import EntryStatus, Outcome  # noqa: PLC0415 - the CO2 domain loads with its first use

    if device.state not in _COUNTED:
        return None
    at = next(entry.at for entry in device.history if entry.to_state in _COUNTED)
    if device.state is DeviceState.RECYCLED:
        return Outcome.RECYCLE, EntryStatus.FINAL, at
    if device.state is DeviceState.DISPOSED:
        outcome = {
            Disposition.REFURBISH: Outcome.REUSE,
            Disposition.PARTS: Outcome.PARTS,
            Disposition.RECYCLE: Outcome.RECYCLE,
        }[device.disposition or Disposition.RECYCLE]
        return outcome, EntryStatus.FINAL, at
    return Outcome.REUSE, EntryStatus.EXPECTED, at


class CO2UseCases:
    """Avoided emissions of quotes, orders and periods (mixed into :class:`~tradein_sdk.TradeIn`)."""

    if TYPE_CHECKING:
        catalog: Catalog
        clock: Clock
        organisation: str
        locale: str
        signing_keys: SigningKeys | None
        _co2_factors: CO2Factors | None

        def order(self, order_id: str) -> TradeInOrder: ...
        def get_quote(self, quote_id: str) -> StoredQuote: ...
        def orders_page(self, *, limit: int = 50, cursor: str | None = None) -> OrderPage: ...

    @property
    def co2_factors(self) -> CO2Factors:
        """The CO2e factor document in use (the bundled one unless the facade was given another)."""
        if self._co2_factors is None:
            from tradein_sdk._domain.co2 import CO2Factors  # noqa: PLC0415 - the factors load with the first use

            self._co2_factors = CO2Factors.bundled()
        return self._co2_factors

    def device_co2(
        self,
        device_id: str,
        *,
        outcome: Outcome | str = "reuse",
        second_life_years: Decimal | int | None = None,
        parts: Sequence[str] = (),
    ) -> DeviceCO2:
        """The CO2 result of a catalog device (a variant id, or a model id for its smallest storage).

        Args:
            device_id: the catalog variant (``apple-iphone-13-128gb``) or model.
            outcome: ``reuse``, ``parts`` or ``recycle``.
            second_life_years: the second life to assume (the scenario's range when ``None``).
            parts: spare parts replaced in refurbishment.

        Raises:
            DeviceNotFoundError: the catalog has no such device.
            CO2Error: a part or value the factors do not allow.
            ValueError: ``outcome`` is not one of the outcomes.
        """
        from tradein_sdk._domain.co2 import Outcome  # noqa: PLC0415 - loads with the first use

        return self._catalog_co2(
            device_id, Outcome(outcome), second_life_years=second_life_years, parts=parts
        )

    def _catalog_co2(
        self,
        device_id: str,
        outcome: Outcome,
        *,
        second_life_years: Decimal | int | None = None,
        parts: Sequence[str] = (),
    ) -> DeviceCO2:
        """The result of a catalog variant (or a model's smallest storage) with the facade's factors."""
        from tradein_sdk._domain.co2 import device_co2  # noqa: PLC0415 - loads with the first use

        entry = self.catalog.lookup(device_id)
        variant = entry.variant or min(entry.model.variants, key=lambda item: item.storage_gb)
        return device_co2(
            self.co2_factors,
            model_id=entry.model.id,
            category=entry.model.category.value,
            storage_gb=variant.storage_gb,
            variant_id=variant.id,
            outcome=outcome,
            second_life_years=second_life_years,
            parts=parts,
        )

    def quote_co2(self, quote_id: str) -> DeviceCO2:
        """The CO2 estimate of a quoted device: its reuse, or its recycling for a recycle-only quote.

        Raises:
            QuoteNotFoundError: no quote (in scope) has that id.
        """
        from tradein_sdk._domain.co2 import Outcome, device_co2  # noqa: PLC0415 - loads with the first use

        quote = self.get_quote(quote_id).quote
        quoted = quote.device  # as quoted (the quote keeps its device even if the catalog changes since)
        return device_co2(
            self.co2_factors,
            model_id=quoted.model_id,
            category=quoted.category,
            storage_gb=quoted.storage_gb,
            variant_id=quoted.variant_id,
            outcome=Outcome.RECYCLE if quote.recycle_only else Outcome.REUSE,
        )

    def _entry(self, order: TradeInOrder, device: OrderDevice) -> CO2Entry | None:
        from tradein_sdk._domain.co2 import CO2Entry  # noqa: PLC0415 - loads with the first use

        found = device_outcome(device)
        if found is None:
            return None
        outcome, status, at = found
        factors = self.co2_factors
        key = (factors.content_hash, self.catalog.content_hash, device.variant_id, outcome.value)
        memo = _RESULTS.get(key)
        if memo is None:  # a device's result depends on its variant and outcome only: made once per pair
            memo = self._catalog_co2(device.variant_id, outcome)
            if len(_RESULTS) >= _MEMO_SIZE:
                _RESULTS.clear()
            _RESULTS[key] = memo
        return CO2Entry(order_id=order.id, device_id=device.id, completed_at=at, status=status, result=memo)

    def order_co2(self, order_id: str) -> OrderCO2:
        """The CO2 result of an order: each bought or recycled device, and the totals.

        Raises:
            OrderNotFoundError: no order (in scope) has that id.
        """
        from tradein_sdk._domain.co2 import OrderCO2, co2_totals  # noqa: PLC0415 - loads with the first use

        order = self.order(order_id)
        entries, pending, excluded = [], [], []
        for device in order.devices:
            entry = self._entry(order, device)
            if entry is not None:
                entries.append(entry)
            elif device.state in _EXCLUDED:
                excluded.append(device.id)
            else:
                pending.append(device.id)
        return OrderCO2(
            order_id=order.id,
            complete=not pending,
            entries=tuple(entries),
            pending=tuple(pending),
            excluded=tuple(excluded),
            totals=co2_totals(entry.result for entry in entries),
        )

    def co2_entries(
        self, start: date, end: date, *, progress: Callable[[int], None] | None = None
    ) -> list[CO2Entry]:
        """Every device bought or recycled from ``start`` to ``end`` (inclusive, UTC days), oldest first.

        Args:
            start: the period's first day.
            end: the period's last day.
            progress: called with the number of orders read so far, after each page.

        Raises:
            InvalidPeriodError: ``end`` is before ``start``.
        """
        if end < start:
            from tradein_sdk._errors import InvalidPeriodError  # noqa: PLC0415

            raise InvalidPeriodError(f"{start} to {end}", rule="range")
        entries: list[CO2Entry] = []
        cursor: str | None = None
        read = 0
        while True:
            page = self.orders_page(limit=_PAGE, cursor=cursor)
            for order in page.orders:
                for device in order.devices:
                    entry = self._entry(order, device)
                    if entry is not None and start <= entry.completed_at.date() <= end:
                        entries.append(entry)
            read += len(page.orders)
            if progress is not None:
                progress(read)
            cursor = page.next_cursor
            if cursor is None:
                break
        entries.sort(key=lambda entry: (entry.completed_at, entry.order_id, entry.device_id))
        return entries

    def co2_report(self, start: date, end: date, *, company: str | None = None) -> dict[str, Any]:
        """The signed CO2 report of a period: avoided emissions apart from the inventory view.

        Args:
            start: the period's first day.
            end: the period's last day.
            company: whom the report is for (default: the organisation).

        Returns:
            The signed envelope (purpose ``co2-report``); its ``payload`` is :meth:`co2_report_document`'s.

        Raises:
            ConfigurationError: the facade has no signing keys.
            InvalidPeriodError: ``end`` is before ``start``.
        """
        return self._signed_co2_report(self.co2_entries(start, end), start=start, end=end, company=company)

    def co2_report_document(
        self, start: date, end: date, *, company: str | None = None, locale: str | None = None
    ) -> dict[str, Any]:
        """The CO2 report of a period unsigned, for a page or a chart (:meth:`co2_report` signs the same).

        Args:
            start: the period's first day.
            end: the period's last day.
            company: whom the report is for (default: the organisation).
            locale: the language of the report's avoided-emissions note (default: the facade's locale).

        Raises:
            InvalidPeriodError: ``end`` is before ``start``.
            UnsupportedLocaleError: ``locale`` is not a locale Babel knows.
        """
        return self._co2_document(
            self.co2_entries(start, end), start=start, end=end, company=company, locale=locale
        )

    def _co2_document(
        self,
        entries: Sequence[CO2Entry],
        *,
        start: date,
        end: date,
        company: str | None,
        locale: str | None = None,
    ) -> dict[str, Any]:
        from tradein_sdk._domain.co2 import co2_report_document  # noqa: PLC0415 - loads with the first use

        return co2_report_document(
            entries,
            factors=self.co2_factors,
            company=company or self.organisation,
            start=start,
            end=end,
            generated_at=self.clock.now(),
            locale=locale or self.locale,
        )

    def _signed_co2_report(
        self, entries: Sequence[CO2Entry], *, start: date, end: date, company: str | None
    ) -> dict[str, Any]:
        """Sign the report of ``entries`` (read with :meth:`co2_entries`, which reports progress)."""
        from tradein_sdk._domain.co2 import REPORT_PURPOSE  # noqa: PLC0415 - loads with the first use
        from tradein_sdk._domain.signing import sign_document  # noqa: PLC0415 - cryptography loads with it
        from tradein_sdk._errors import ConfigurationError  # noqa: PLC0415

        if self.signing_keys is None:
            raise ConfigurationError(
                "a CO2 report is signed: give the facade signing_keys (TradeIn.embedded does)"
            )
        document = self._co2_document(entries, start=start, end=end, company=company)
        return sign_document(document, self.signing_keys, purpose=REPORT_PURPOSE)
