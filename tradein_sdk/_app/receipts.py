"""The receipt use cases of :class:`~tradein_sdk.TradeIn`: the shopper's purchase receipt, the register.

A device the shop bought (paid, credited, then perhaps disposed) gets a purchase receipt
(:mod:`tradein_sdk._domain.receipt`): the shop as buyer, the shopper as seller, the device, its condition,
the price the ledger says the terms owe and how it was paid, and the statement that a private person sold
it without VAT, so the shop may resell it under the margin scheme (§ 25a UStG). The purchase register lists
every device bought in a span of days, the per-item records the margin scheme asks for.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from tradein_sdk._domain.payouts import PayoutMethod
from tradein_sdk._domain.receipt import (
    BOUGHT_STATES,
    PurchaseReceipt,
    PurchaseRegisterRow,
    ReceiptIssuer,
    ReceiptSeller,
    bought_device,
    build_receipt,
    purchase_moment,
    receipt_html,
    register_row,
)
from tradein_sdk._errors import ConfigurationError, InvalidPeriodError, canonical_locale
from tradein_sdk._ports import Ledger, OrderStore, PersonalDataStore

if TYPE_CHECKING:
    from datetime import date

    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.quotes import Quote

    _Port = TypeVar("_Port")

_REGISTER_LIMIT = 10_000


class ReceiptUseCases:
    """The purchase receipt methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _order_quote(self, quote_id: str) -> Quote: ...

        def _port(self, port: type[_Port]) -> _Port: ...
        def get_quote(self, quote_id: str) -> Any: ...  # noqa: ANN401
        def order(self, order_id: str) -> TradeInOrder: ...
        def list_orders(
            self, *, limit: int = 50, customer_ref: str | None = None, open_only: bool = False
        ) -> list[TradeInOrder]: ...
        def _snapshot_documents(self, quote: Quote) -> tuple[Any, Any]: ...

    # -- the receipt -------------------------------------------------------------------------------

    def purchase_receipt(
        self,
        order_id: str,
        device_id: str,
        *,
        issuer: ReceiptIssuer,
        seller: ReceiptSeller | None = None,
        locale: str | None = None,
    ) -> PurchaseReceipt:
        """Return the purchase receipt of a device the shop bought from the shopper.

        The price is what the order's ledger says the terms owe for the device, with how it was paid or
        credited; the date of purchase is the settlement's.

        Args:
            order_id: the order.
            device_id: the device of the order.
            issuer: the shop (the buyer), as it is named on the receipt.
            seller: the shopper (the seller) by name and address, as the shop's customer account knows
                them. When omitted: the bank account holder's name kept with the order's payout details
                (while not erased), else the pseudonymous customer reference alone.
            locale: the receipt's language (default: the shopper's, the locale of the device's quote).

        Returns:
            The receipt (see :func:`purchase_receipt_html`, :func:`purchase_receipt_pdf` to print it).

        Raises:
            OrderNotFoundError: no order has that id.
            OrderDeviceNotFoundError: the order has no such device.
            ReceiptUnavailableError: the device was not bought (it is not paid, credited or disposed).
            UnsupportedLocaleError: the locale is unknown.
        """
        order = self.order(order_id)
        device = bought_device(order, device_id)
        quote: Quote = self._order_quote(device.quote_id)
        locale = canonical_locale(locale or quote.locale)
        return build_receipt(
            order=order,
            device_id=device_id,
            entries=self._port(Ledger).ledger_entries(order_id),
            quote=quote,
            issuer=issuer,
            seller=seller or self._seller(order, device),
            locale=locale,
            grade_labels=self._grade_labels(quote, locale),
        )

    def purchase_receipt_html(
        self,
        order_id: str,
        device_id: str,
        *,
        issuer: ReceiptIssuer,
        seller: ReceiptSeller | None = None,
        locale: str | None = None,
    ) -> str:
        """Return a device's purchase receipt as a printable HTML page (see :meth:`purchase_receipt`).

        Raises:
            OrderNotFoundError: no order has that id.
            OrderDeviceNotFoundError: the order has no such device.
            ReceiptUnavailableError: the device was not bought.
            UnsupportedLocaleError: the locale is unknown.
        """
        receipt = self.purchase_receipt(order_id, device_id, issuer=issuer, seller=seller, locale=locale)
        return receipt_html(receipt)

    def purchase_receipt_pdf(
        self,
        order_id: str,
        device_id: str,
        *,
        issuer: ReceiptIssuer,
        seller: ReceiptSeller | None = None,
        locale: str | None = None,
    ) -> bytes:
        """Return a device's purchase receipt as a one-page A4 PDF (see :meth:`purchase_receipt`).

        Raises:
            OrderNotFoundError: no order has that id.
            OrderDeviceNotFoundError: the order has no such device.
            ReceiptUnavailableError: the device was not bought.
            UnsupportedLocaleError: the locale is unknown.
        """
        receipt = self.purchase_receipt(order_id, device_id, issuer=issuer, seller=seller, locale=locale)
        from tradein_sdk._adapters.pdf import receipt_pdf  # noqa: PLC0415 - the PDF module (and the certificates it renders) loads with the first PDF

        return receipt_pdf(receipt)

    def _seller(self, order: TradeInOrder, device: OrderDevice) -> ReceiptSeller:
        """The seller as the order's stored data knows them: the bank account holder, else pseudonymous."""
        record, _ = self._port(OrderStore).get_order(order.id, **self._in_scope)
        customer_ref = record.customer_ref or order.id
        payout = device.payout or order.payout
        if payout is None or payout.method is not PayoutMethod.BANK_TRANSFER:
            return ReceiptSeller(customer_ref=customer_ref)
        try:
            stored = self._port(PersonalDataStore).get_personal_data(payout.reference)
        except ConfigurationError:  # a store that keeps no personal data
            return ReceiptSeller(customer_ref=customer_ref)
        holder = json.loads(stored.data).get("holder") if stored is not None else None
        return ReceiptSeller(customer_ref=customer_ref, name=holder if isinstance(holder, str) else None)

    def _grade_labels(self, quote: Quote, locale: str) -> dict[str, str]:
        """Each pricing grade's name in ``locale``, from the questionnaire the quote was made with."""
        questionnaire, _ = self._snapshot_documents(quote)
        return {
            grade.id: questionnaire.translate(grade.label, locale) for grade in questionnaire.pricing_grades
        }

    # -- the purchase register ---------------------------------------------------------------------

    def purchase_register(
        self, start: date, end: date, *, limit: int = _REGISTER_LIMIT
    ) -> list[PurchaseRegisterRow]:
        """The devices the shop bought over the days ``[start, end)``: the margin scheme's purchase records.

        One row per device bought (its settlement, UTC, falls in the span): date, receipt number, device,
        IMEI, purchase price and payout method, oldest first;
        :func:`~tradein_sdk._domain.receipt.register_csv` writes them as CSV.

        Args:
            start: the first day (UTC).
            end: the day after the last.
            limit: how many of the newest orders are looked through.

        Returns:
            The rows, by date of purchase, then receipt number.

        Raises:
            InvalidPeriodError: ``end`` is not after ``start``.
        """
        if end <= start:
            raise InvalidPeriodError(f"{start.isoformat()}..{end.isoformat()}", rule="range")
        rows: list[PurchaseRegisterRow] = []
        for order in self.list_orders(limit=limit):
            bought = [
                device
                for device in order.devices
                if device.state in BOUGHT_STATES and start <= purchase_moment(order, device).date() < end
            ]
            if not bought:
                continue
            entries = self._port(Ledger).ledger_entries(order.id)
            rows.extend(
                register_row(
                    order=order,
                    device_id=device.id,
                    entries=entries,
                    quote=self._order_quote(device.quote_id),
                )
                for device in bought
            )
        return sorted(rows, key=lambda row: (row.purchase_date, row.receipt_number))
