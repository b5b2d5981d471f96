"""Purchase receipts for devices bought from private sellers, and the margin-scheme purchase register.

Pure. When the shop buys a traded-in device from a consumer, the consumer issues no invoice: the shop writes
its own purchase voucher (*Ankaufsbeleg*) naming the seller, the device, its condition, the price and how it
was paid, with the statement that the purchase is from a private person and carries no VAT — what lets the
shop resell the device under the margin scheme (§ 25a UStG). The price is what the order's ledger says the
terms owe for the device (:attr:`~tradein_sdk._domain.ledger.Balance.owed`), so the receipt, the ledger and
the payout agree to the cent.

:func:`build_receipt` makes a :class:`PurchaseReceipt` for one bought device (paid, credited or disposed);
:func:`receipt_text` gives its texts in the receipt's locale for any renderer, :func:`receipt_html` a
printable page. :func:`register_row` and :func:`register_csv` keep the per-device purchase records the
margin scheme asks for (§ 25a Abs. 6 UStG): date, receipt, device, purchase price, payout.
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.identifiers import spreadsheet_cell
from tradein_sdk._domain.ledger import EntryKind, balances
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import DeviceState, EventKind
from tradein_sdk._errors import ReceiptUnavailableError, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tradein_sdk._domain.ledger import LedgerEntry
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
    from tradein_sdk._domain.quotes import Quote

BOUGHT_STATES: Final = frozenset({DeviceState.PAID, DeviceState.CREDITED, DeviceState.DISPOSED})
"""The states of a device the shop bought: a receipt exists only for these."""

_SETTLING_EVENTS: Final = frozenset({EventKind.PAY, EventKind.CREDIT})


class PaymentMethod(StrEnum):
    """How (part of) the purchase price reached the seller."""

    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"
    PURCHASE_CREDIT = "purchase_credit"
    """Credited on the purchase of a new device (the instant discount at checkout)."""
    BILL_CREDITS = "bill_credits"
    """Credited on the carrier's bill in monthly installments."""


_PAYMENT_LABELS: Final[Mapping[PaymentMethod, str]] = {
    PaymentMethod.BANK_TRANSFER: N_("Paid by bank transfer"),
    PaymentMethod.VOUCHER: N_("Issued as a voucher"),
    PaymentMethod.PURCHASE_CREDIT: N_("Credited on the purchase of a new device"),
    PaymentMethod.BILL_CREDITS: N_("Credited on the phone bill in monthly installments"),
}


# -- the receipt ------------------------------------------------------------------------------------------


def _lines(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(line for line in (str(item).strip() for item in value) if line)


@attrs.frozen(kw_only=True)
class ReceiptIssuer:
    """The buyer: the shop that issues the receipt, as it wants to be named on it.

    Attributes:
        name: the shop's legal name (``Phone Shop GmbH``).
        address: street, postcode and city, country: one entry a line, as printed.
        vat_id: the shop's VAT identification number (``DE123456789``), if it prints one.
    """

    name: str
    address: tuple[str, ...] = attrs.field(default=(), converter=_lines)
    vat_id: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class ReceiptSeller:
    """The seller: the shopper, by name and address when the shop knows them, else pseudonymously.

    Attributes:
        customer_ref: the shop's pseudonymous customer reference (always printed).
        name: the seller's name, ``None`` when not known (or erased).
        address: the seller's address lines, empty when not known.
    """

    customer_ref: str
    name: str | None = None
    address: tuple[str, ...] = attrs.field(default=(), converter=_lines)

    def __repr__(self) -> str:
        """Return a representation that keeps the seller's name and address out of logs."""
        return f"ReceiptSeller(customer_ref={self.customer_ref!r}, name=…, address=…)"


@attrs.frozen(kw_only=True)
class ReceiptDevice:
    """The device bought, as its quote described it.

    Attributes:
        display_name: what it is (``Apple iPhone 13``).
        model_id: the catalog model.
        variant_id: the catalog variant.
        variant: the variant for display (``128 GB``).
        imei: its IMEI, when recorded.
        serial: its serial number, when recorded (devices without an IMEI).
    """

    display_name: str
    model_id: str
    variant_id: str
    variant: str
    imei: str | None = None
    serial: str | None = None

    @property
    def identifier(self) -> str | None:
        """The IMEI, else the serial number, ``None`` when neither was recorded."""
        return self.imei or self.serial


@attrs.frozen(kw_only=True)
class ReceiptCondition:
    """The condition the device was bought in.

    Attributes:
        grade: the pricing grade's id, ``None`` when not graded.
        grade_label: the grade's name in the receipt's locale.
        as_declared: the inspection found the device as the shopper declared it (or it was checked in store
            and not inspected again).
        inspected: whether it was inspected after it arrived.
    """

    grade: str | None = None
    grade_label: str | None = None
    as_declared: bool = True
    inspected: bool = True


@attrs.frozen(kw_only=True)
class ReceiptPayment:
    """The part of the purchase price paid or credited one way.

    Attributes:
        method: how.
        amount: how much.
    """

    method: PaymentMethod
    amount: Money


@attrs.frozen(kw_only=True)
class PurchaseReceipt:
    """The shop's purchase voucher for one device bought from a private seller.

    The parts of the price add up to it: ``sum(payments) - clawed_back + outstanding == amount``.

    Attributes:
        number: the receipt number, stable: derived from the order and the device (see
            :func:`receipt_number`), so a receipt printed again carries the same number.
        order_id: the order.
        device_id: the device of the order.
        issuer: the buyer (the shop).
        seller: the seller (the shopper).
        device: the device bought.
        condition: the condition found at inspection.
        amount: the purchase price: what the terms owe for the device (the ledger's ``owed``).
        payments: how it was paid or credited, each way with its amount (zero amounts left out).
        clawed_back: credit given beyond the price and taken back (net of refunds).
        outstanding: what is still to be paid (zero once settled, apart from installments scheduled, which
            are counted in ``payments``).
        purchased_at: when the shop bought it: the settlement (payment or credit), else the inspection (UTC).
        locale: the language of the receipt (the shopper's).
    """

    number: str
    order_id: str
    device_id: str
    issuer: ReceiptIssuer
    seller: ReceiptSeller
    device: ReceiptDevice
    condition: ReceiptCondition
    amount: Money
    payments: tuple[ReceiptPayment, ...]
    clawed_back: Money
    outstanding: Money
    purchased_at: datetime
    locale: str

    @property
    def currency(self) -> str:
        """The currency of every amount."""
        return self.amount.currency

    @property
    def methods(self) -> tuple[PaymentMethod, ...]:
        """The ways the price was paid, in the order of :attr:`payments`."""
        return tuple(payment.method for payment in self.payments)


def receipt_number(order_id: str, device_id: str) -> str:
    """The receipt number of a device: the order reference printed on its label, then the device.

    Unique (an order id is unique, a device id unique within its order) and stable.

    Args:
        order_id: the order (``ord_3f9a...``).
        device_id: the device of the order (``d1``).

    Returns:
        The number, such as ``ORD-3F9A...-D1``.
    """
    return f"{order_id.upper().replace('_', '-')}-{device_id.upper()}"


def purchase_moment(order: TradeInOrder, device: OrderDevice) -> datetime:
    """When the shop bought a device: its settlement (paid or credited), else its inspection.

    Args:
        order: the order (its opening is the last resort).
        device: one of its devices.

    Returns:
        The moment, UTC.
    """
    for kinds in (_SETTLING_EVENTS, frozenset({EventKind.INSPECT})):
        found = [entry.at for entry in device.history if entry.kind in kinds]
        if found:
            return found[-1]
    return device.history[-1].at if device.history else order.created_at


def bought_device(order: TradeInOrder, device_id: str) -> OrderDevice:
    """Return a device of the order the shop bought.

    Raises:
        OrderDeviceNotFoundError: the order has no such device.
        ReceiptUnavailableError: the device is not paid, credited or disposed.
    """
    device = order.device(device_id)
    if device.state not in BOUGHT_STATES:
        raise ReceiptUnavailableError(order_id=order.id, device_id=device_id, state=device.state.value)
    return device


def _receipt_device(quote: Quote, device: OrderDevice) -> ReceiptDevice:
    quoted = quote.device
    storage = quoted.storage_gb
    variant = f"{storage // 1024} TB" if storage >= 1024 and storage % 1024 == 0 else f"{storage} GB"
    return ReceiptDevice(
        display_name=quoted.display_name,
        model_id=quoted.model_id,
        variant_id=device.variant_id,
        variant=variant,
        imei=quoted.imei,
    )


def _condition(quote: Quote, device: OrderDevice, grade_labels: Mapping[str, str]) -> ReceiptCondition:
    inspection = device.inspection
    if inspection is None:
        grade = quote.pricing_grade
        as_declared = True
    else:
        grade = inspection.pricing_grade
        if grade is None and inspection.offer == device.quoted:
            grade = quote.pricing_grade  # confirmed as quoted: the quote's grade stands
        as_declared = not inspection.differences and not inspection.mismatch
    return ReceiptCondition(
        grade=grade,
        grade_label=None if grade is None else grade_labels.get(grade, grade),
        as_declared=as_declared,
        inspected=inspection is not None,
    )


@attrs.frozen(kw_only=True)
class _Settlement:
    amount: Money
    payments: tuple[ReceiptPayment, ...]
    clawed_back: Money
    outstanding: Money


def _settlement(entries: Sequence[LedgerEntry], device_id: str, currency: str) -> _Settlement:
    """The device's price and how it was paid, from its ledger entries."""
    mine = [entry for entry in entries if entry.device_id == device_id]
    balance = balances(mine, currency)
    by_kind: dict[EntryKind, Money] = defaultdict(lambda: Money.zero(currency))
    for entry in mine:
        by_kind[entry.kind] = by_kind[entry.kind] + entry.amount
    parts = (
        (PaymentMethod.PURCHASE_CREDIT, by_kind[EntryKind.DISCOUNT_APPLIED]),
        (PaymentMethod.VOUCHER, by_kind[EntryKind.VOUCHER_ISSUED]),
        (PaymentMethod.BANK_TRANSFER, balance.paid),
        (PaymentMethod.BILL_CREDITS, by_kind[EntryKind.INSTALLMENT_CREDITED] + balance.scheduled),
    )
    return _Settlement(
        amount=balance.owed,
        payments=tuple(
            ReceiptPayment(method=method, amount=amount) for method, amount in parts if not amount.is_zero()
        ),
        clawed_back=balance.clawed_back,
        outstanding=balance.open - balance.scheduled,
    )


def build_receipt(
    *,
    order: TradeInOrder,
    device_id: str,
    entries: Sequence[LedgerEntry],
    quote: Quote,
    issuer: ReceiptIssuer,
    seller: ReceiptSeller,
    locale: str,
    grade_labels: Mapping[str, str] | None = None,
) -> PurchaseReceipt:
    """Build the purchase receipt of a device the shop bought.

    Args:
        order: the order.
        device_id: the device of the order.
        entries: the order's ledger entries (the price is what they say the terms owe for the device).
        quote: the device's quote (what the device is, its IMEI, the grade it was quoted in).
        issuer: the shop, as it is named on the receipt.
        seller: the shopper, by name and address when known.
        locale: the receipt's language (the shopper's).
        grade_labels: pricing grade id → its name in ``locale`` (the grade id is shown where missing).

    Returns:
        The receipt.

    Raises:
        OrderDeviceNotFoundError: the order has no such device.
        ReceiptUnavailableError: the device was not bought (not paid, credited or disposed).
        UnsupportedLocaleError: the locale is unknown.
    """
    device = bought_device(order, device_id)
    settlement = _settlement(entries, device_id, order.currency)
    return PurchaseReceipt(
        number=receipt_number(order.id, device_id),
        order_id=order.id,
        device_id=device_id,
        issuer=issuer,
        seller=seller,
        device=_receipt_device(quote, device),
        condition=_condition(quote, device, grade_labels or {}),
        amount=settlement.amount,
        payments=settlement.payments,
        clawed_back=settlement.clawed_back,
        outstanding=settlement.outstanding,
        purchased_at=purchase_moment(order, device),
        locale=canonical_locale(locale),
    )


# -- texts and HTML ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ReceiptText:
    """A receipt's texts in its locale, ready for a renderer (HTML, PDF): every value already formatted.

    Attributes:
        language: the language code (``de``), for the document's ``lang``.
        title: the document's title.
        facts: receipt number, date of purchase and order reference, as ``(label, value)``.
        buyer_heading: "Buyer".
        buyer: the shop's name, address and VAT id, one entry a line.
        seller_heading: "Seller".
        seller: the seller's name and address (or that it is a private seller), one entry a line.
        device_heading: "Device".
        device: model, variant, IMEI and condition, as ``(label, value)``.
        price_heading: "Purchase price".
        payments: each way it was paid, what was taken back and what is still to be paid, as
            ``(label, amount)``.
        total: the purchase price, as ``(label, amount)``.
        statement: the tax statement, one paragraph an entry.
    """

    language: str
    title: str
    facts: tuple[tuple[str, str], ...]
    buyer_heading: str
    buyer: tuple[str, ...]
    seller_heading: str
    seller: tuple[str, ...]
    device_heading: str
    device: tuple[tuple[str, str], ...]
    price_heading: str
    payments: tuple[tuple[str, str], ...]
    total: tuple[str, str]
    statement: tuple[str, ...]


def _condition_text(condition: ReceiptCondition, locale: str) -> str:
    if condition.grade_label is None:
        return translate(N_("As declared") if condition.as_declared else N_("Not graded"), locale)
    if condition.as_declared:
        return translate(N_("{grade} (as declared)"), locale, grade=condition.grade_label)
    return condition.grade_label


def receipt_text(receipt: PurchaseReceipt) -> ReceiptText:
    """Return a receipt's texts in its locale: labels translated, amounts and the date formatted by Babel.

    Args:
        receipt: the receipt.

    Returns:
        Its texts, for :func:`receipt_html` or a PDF renderer.
    """
    locale = receipt.locale

    def t(message: str, **params: object) -> str:
        return translate(message, locale, **params)

    issuer = receipt.issuer
    buyer = (issuer.name, *issuer.address)
    if issuer.vat_id:
        buyer = (*buyer, t(N_("VAT ID: {vat_id}"), vat_id=issuer.vat_id))
    seller = receipt.seller
    reference = t(N_("Customer reference: {reference}"), reference=seller.customer_ref)
    if seller.name:
        seller_lines = (seller.name, *seller.address, reference)
    else:
        seller_lines = (t(N_("Private seller")), *seller.address, reference)
    device = receipt.device
    if device.imei:
        identifier = (t(N_("IMEI")), device.imei)
    elif device.serial:
        identifier = (t(N_("Serial number")), device.serial)
    else:
        identifier = (t(N_("IMEI / serial number")), t(N_("not recorded")))
    payments = [
        (t(_PAYMENT_LABELS[payment.method]), payment.amount.format(locale)) for payment in receipt.payments
    ]
    if not receipt.clawed_back.is_zero():
        payments.append((t(N_("Credit taken back")), (-receipt.clawed_back).format(locale)))
    if not receipt.outstanding.is_zero():
        payments.append((t(N_("Still to be paid")), receipt.outstanding.format(locale)))
    return ReceiptText(
        language=locale.split("_", 1)[0],
        title=t(N_("Purchase receipt")),
        facts=(
            (t(N_("Receipt number")), receipt.number),
            (t(N_("Date of purchase")), long_date(receipt.purchased_at.date(), locale)),
            (t(N_("Order reference")), f"{receipt.order_id} / {receipt.device_id}"),
        ),
        buyer_heading=t(N_("Buyer")),
        buyer=buyer,
        seller_heading=t(N_("Seller")),
        seller=seller_lines,
        device_heading=t(N_("Device")),
        device=(
            (t(N_("Model")), device.display_name),
            (t(N_("Variant")), device.variant),
            identifier,
            (t(N_("Condition found at inspection")), _condition_text(receipt.condition, locale)),
        ),
        price_heading=t(N_("Purchase price")),
        payments=tuple(payments),
        total=(t(N_("Total purchase price")), receipt.amount.format(locale)),
        statement=(
            t(
                N_(
                    "The seller sold this device as a private person, not as a business. The purchase is "
                    "not subject to VAT, and no VAT is shown."
                )
            ),
            t(N_("The device is resold under the margin scheme for second-hand goods (§ 25a UStG).")),
        ),
    )


def _rows(rows: Iterable[tuple[str, str]], css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return "".join(
        f"<tr{attribute}><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in rows
    )


def receipt_html(receipt: PurchaseReceipt) -> str:
    """Return the receipt as a complete, printable HTML page in its locale; every value is escaped.

    Args:
        receipt: the receipt.

    Returns:
        A self-contained HTML document (nothing is loaded from elsewhere), laid out for an A4 page.
    """
    text = receipt_text(receipt)

    def lines(items: Iterable[str]) -> str:
        return "<br>".join(html.escape(item) for item in items)

    return (
        f'<!doctype html><html lang="{html.escape(text.language)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(text.title)} {html.escape(receipt.number)}</title>"
        "<style>@page{size:A4;margin:20mm}"
        "body{font-family:sans-serif;max-width:46rem;margin:2rem auto;color:#000}"
        "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}"
        "th,td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid #ccc}"
        "td.amount,tr.total td{text-align:right;white-space:nowrap}"
        "tr.total th,tr.total td{font-weight:bold;border-top:2px solid #000}"
        ".parties{display:flex;gap:2rem}.parties section{flex:1}"
        ".statement{border:1px solid #000;padding:.75rem}</style></head><body>"
        f"<h1>{html.escape(text.title)}</h1>"
        f"<table>{_rows(text.facts)}</table>"
        '<div class="parties">'
        f"<section><h2>{html.escape(text.buyer_heading)}</h2><p>{lines(text.buyer)}</p></section>"
        f"<section><h2>{html.escape(text.seller_heading)}</h2><p>{lines(text.seller)}</p></section>"
        "</div>"
        f"<h2>{html.escape(text.device_heading)}</h2><table>{_rows(text.device)}</table>"
        f"<h2>{html.escape(text.price_heading)}</h2><table>"
        + "".join(
            f'<tr><th>{html.escape(label)}</th><td class="amount">{html.escape(value)}</td></tr>'
            for label, value in text.payments
        )
        + _rows([text.total], "total")
        + "</table>"
        + '<div class="statement">'
        + "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in text.statement)
        + "</div></body></html>"
    )


# -- the purchase register --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PurchaseRegisterRow:
    """One device bought, as the margin scheme's records keep it (§ 25a Abs. 6 UStG: per item).

    No personal data: the receipt number leads to the seller.

    Attributes:
        purchase_date: the day it was bought (UTC).
        receipt_number: its purchase receipt.
        order_id: the order.
        device_id: the device of the order.
        model: the device's name.
        variant: the catalog variant.
        identifier: its IMEI (or serial number), ``None`` when not recorded.
        purchase_price: what the shop paid for it (the ledger's ``owed``).
        payout_method: how it was paid: the methods joined by ``+`` (``purchase_credit+bank_transfer``).
    """

    purchase_date: date
    receipt_number: str
    order_id: str
    device_id: str
    model: str
    variant: str
    identifier: str | None
    purchase_price: Money
    payout_method: str

    @property
    def currency(self) -> str:
        """The purchase price's currency."""
        return self.purchase_price.currency


def register_row(
    *, order: TradeInOrder, device_id: str, entries: Sequence[LedgerEntry], quote: Quote
) -> PurchaseRegisterRow:
    """The purchase register's row of a device the shop bought.

    Args:
        order: the order.
        device_id: the device of the order.
        entries: the order's ledger entries.
        quote: the device's quote.

    Returns:
        The row.

    Raises:
        OrderDeviceNotFoundError: the order has no such device.
        ReceiptUnavailableError: the device was not bought.
    """
    device = bought_device(order, device_id)
    described = _receipt_device(quote, device)
    settlement = _settlement(entries, device_id, order.currency)
    return PurchaseRegisterRow(
        purchase_date=purchase_moment(order, device).date(),
        receipt_number=receipt_number(order.id, device_id),
        order_id=order.id,
        device_id=device_id,
        model=described.display_name,
        variant=described.variant_id,
        identifier=described.identifier,
        purchase_price=settlement.amount,
        payout_method="+".join(payment.method.value for payment in settlement.payments),
    )


REGISTER_COLUMNS: Final = (
    "purchase_date",
    "receipt_number",
    "order_id",
    "device_id",
    "model",
    "variant",
    "imei_or_serial",
    "purchase_price",
    "currency",
    "payout_method",
)
"""The columns of :func:`register_csv`, in order."""


def _price(money: Money) -> str:
    return format(money.rounded().amount, "f")


def register_csv(rows: Iterable[PurchaseRegisterRow]) -> str:
    """Return the purchase register as CSV text: a header, then one line per device bought.

    Prices are plain decimals in the currency's minor units (``150.00``), dates ISO 8601; a text that a
    spreadsheet would read as a formula is prefixed with ``'``.

    Args:
        rows: the rows, in the order to write them.

    Returns:
        The CSV document (CRLF line ends).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REGISTER_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.purchase_date.isoformat(),
                spreadsheet_cell(row.receipt_number),
                spreadsheet_cell(row.order_id),
                spreadsheet_cell(row.device_id),
                spreadsheet_cell(row.model),
                spreadsheet_cell(row.variant),
                spreadsheet_cell(row.identifier or ""),
                _price(row.purchase_price),
                row.currency,
                spreadsheet_cell(row.payout_method),
            )
        )
    return buffer.getvalue()
