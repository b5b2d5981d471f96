"""Purchase receipts and the purchase register, through the facade: what the ledger owes is what is printed.

Each test walks an order the way a shop does — quote, checkout, confirm, label, ship, receive, inspect,
settle — then asks for the device's purchase receipt (HTML, PDF) or the shop's purchase register.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, DeviceState, FixedClock, Money, TradeIn
from tradein_sdk._adapters.pdf import receipt_pdf
from tradein_sdk._domain.checkout import CheckoutRequest, CreditPlan, CreditTiming, NewDevice, RemainderRule
from tradein_sdk._domain.promotions import parse_promotions
from tradein_sdk._domain.receipt import (
    REGISTER_COLUMNS,
    PaymentMethod,
    PurchaseReceipt,
    PurchaseRegisterRow,
    ReceiptIssuer,
    ReceiptSeller,
    receipt_text,
    register_csv,
)
from tradein_sdk._errors import InvalidPeriodError, ReceiptUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk._domain.checkout import CheckoutSummary
    from tradein_sdk._domain.orders.model import TradeInOrder

EUR = "EUR"
IPHONE = "apple-iphone-13-128gb"
IMEI = "490154203237518"
STAFF_CHECKS = {"liquid_indicator": False, "blocklist_status": "clean", "authenticity": "genuine"}
PHONE = NewDevice(
    sku="SM-S931B-256",
    name="Samsung Galaxy S25",
    brand="Samsung",
    category="smartphone",
    price=Money("999", EUR),
)
BANK = BankTransfer(iban="DE89370400440532013000", holder="Erika Mustermann")
SHOP = ReceiptIssuer(
    name="Phone Shop GmbH", address=("Hauptstraße 1", "10115 Berlin", "Germany"), vat_id="DE123456789"
)


def worn() -> dict[str, Any]:
    """The iPhone as declared: light wear, grade good, quoted 150 €."""
    return dict(example_answers("smartphone", "worn").answers)


def inspected(answers: dict[str, Any]) -> dict[str, Any]:
    """The inspector's answers: the declared ones plus the staff checks, all clean."""
    store = example_answers("smartphone", "store-inspected").answers
    return {**answers, **{key: store[key] for key in STAFF_CHECKS}}


def cracked() -> dict[str, Any]:
    """The same iPhone as found with a cracked display: below grade good."""
    return {**inspected(worn()), "display_glass": "cracked"}


def book() -> Any:  # noqa: ANN401 - a PromotionBook
    """At least 200 € for an iPhone in grade good or better."""
    return parse_promotions(
        {
            "promotions_id": "receipt-test",
            "version": "1",
            "market": "DE",
            "currency": EUR,
            "promotions": [
                {
                    "id": "minimum-200",
                    "title": "At least 200 €",
                    "kind": "guaranteed_minimum",
                    "amount": {"amount": "200.00", "currency": EUR},
                    "stacking": "combinable",
                    "conditions": {"traded_device": {"brands": ["Apple"], "min_grade": "good"}},
                }
            ],
        }
    )


@pytest.fixture
def shop(tmp_path: Path, clock: FixedClock) -> Iterator[TradeIn]:
    """An embedded shop (German by default) with the guaranteed-minimum promotion."""
    facade = TradeIn.embedded(tmp_path, clock=clock, promotions=book())
    yield facade
    facade.close()


def checkout(shop: TradeIn, answers: dict[str, Any] | None = None, **choices: Any) -> CheckoutSummary:  # noqa: ANN401
    """A checkout of one iPhone trade-in with ``choices``."""
    quote = shop.quote(IPHONE, answers or worn(), imei=IMEI).quote
    request = CheckoutRequest(quote_ids=(quote.id,), new_device=choices.pop("new_device", PHONE), **choices)
    return shop.checkout(request)


def arrive(shop: TradeIn, order: TradeInOrder, answers: dict[str, Any]) -> None:
    """Label, ship, receive and inspect the order's only device."""
    shop.issue_label(order.id)
    shop.ship(order.id, "d1", tracking="TRACK1")
    shop.receive(order.id, "d1")
    shop.inspect(order.id, "d1", answers, imei=IMEI)


def bought(shop: TradeIn, payout: BankTransfer | None = BANK, **choices: Any) -> TradeInOrder:  # noqa: ANN401
    """An order whose only device was inspected as declared and settled (deferred bank payout by default)."""
    summary = checkout(shop, **(choices or {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.PAYOUT}))
    order = shop.confirm_checkout(summary, payout=payout).order
    arrive(shop, order, inspected(worn()))
    return shop.settle(order.id, "d1")


def pdf_texts(document: bytes) -> list[str]:
    """The text shown by each ``Tj`` operator of an uncompressed PDF (core fonts, Windows-1252).

    Every kind of space reads as a plain space (the PDF shows a no-break space as one).
    """
    unescaped = {b"\\(": b"(", b"\\)": b")", b"\\\\": b"\\"}
    return [
        re.sub(rb"\\[()\\]", lambda match: unescaped[match.group()], text)
        .decode("cp1252")
        .replace("\xa0", " ")
        for text in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", document)
    ]


def paid_out(receipt: PurchaseReceipt) -> Money:
    """What the receipt's parts add up to: each payment, less what was taken back, plus what is open."""
    payments = Money.total((payment.amount for payment in receipt.payments), receipt.currency)
    return payments - receipt.clawed_back + receipt.outstanding


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        (
            {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.PAYOUT},
            {PaymentMethod.BANK_TRANSFER: "200.00"},
        ),
        (
            {
                "new_device": attrs.evolve(PHONE, price=Money("55.00", EUR)),
                "remainder_rule": RemainderRule.PAYOUT,
            },
            {PaymentMethod.PURCHASE_CREDIT: "55.00", PaymentMethod.BANK_TRANSFER: "145.00"},
        ),
        (
            {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.VOUCHER},
            {PaymentMethod.VOUCHER: "200.00"},
        ),
        (
            {"timing": CreditTiming.DEFERRED, "plan": CreditPlan.BILL_CREDITS, "months": 24},
            {PaymentMethod.BILL_CREDITS: "200.00"},
        ),
    ],
    ids=["bank payout", "discount and remainder paid", "voucher", "bill credits"],
)
def test_the_price_is_what_the_ledger_owes(
    shop: TradeIn, choices: dict[str, Any], expected: dict[PaymentMethod, str]
) -> None:
    """150 € quoted + 50 € promotion: the receipt's price is the ledger's owed, split the way it was paid."""
    order = bought(shop, **choices)
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP)
    balance = shop.ledger(order.id).devices["d1"]
    assert receipt.amount == balance.owed == Money("200.00", EUR)
    assert {payment.method: payment.amount for payment in receipt.payments} == {
        method: Money(amount, EUR) for method, amount in expected.items()
    }
    assert paid_out(receipt) == receipt.amount
    if PaymentMethod.BILL_CREDITS in receipt.methods:
        assert balance.credited + balance.scheduled == receipt.amount  # installments come due monthly
    else:
        assert balance.paid + balance.credited == receipt.amount
    assert receipt.purchased_at == shop.order(order.id).device("d1").history[-1].at


def test_a_device_found_worse_is_bought_at_the_revised_price(shop: TradeIn) -> None:
    """Instant credit 200 €, found cracked and revised: bought at the revised offer, the rest taken back."""
    summary = checkout(shop)
    order = shop.confirm_checkout(summary).order
    arrive(shop, order, cracked())
    shop.respond_to_revision(order.id, "d1", accept=True)
    settled = shop.settle(order.id, "d1")
    assert settled.device("d1").state is DeviceState.CREDITED
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP, locale="en")
    balance = shop.ledger(order.id).devices["d1"]
    assert receipt.amount == balance.owed == settled.device("d1").offer
    assert receipt.clawed_back == summary.total_credit - receipt.amount
    assert paid_out(receipt) == receipt.amount
    assert receipt.condition.as_declared is False
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP, locale="en")
    assert "Credit taken back" in page
    assert "(as declared)" not in page


def test_the_receipt_reads_in_german_for_a_german_shopper(shop: TradeIn) -> None:
    """The quote's locale (de_DE) is the receipt's: German texts, euro amounts and the § 25a statement."""
    order = bought(shop)
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP)
    assert page.startswith("<!doctype html>")
    assert '<html lang="de">' in page
    for text in (
        "Ankaufsbeleg",
        "Per Überweisung bezahlt",
        "200,00\xa0€",
        "als Privatperson verkauft",
        "keine Umsatzsteuer",
        "§ 25a UStG",
        "Gut (wie angegeben)",
        "USt-IdNr.: DE123456789",
        "Erika Mustermann",
        IMEI,
        "24. November 2026",
    ):
        assert text in page, text


@pytest.mark.parametrize(
    ("locale", "title", "amount"),
    [
        ("en", "Purchase receipt", "€200.00"),
        ("es", "Recibo de compra", "200,00\xa0€"),
        ("fr", "Reçu d’achat", "200,00\xa0€"),
        ("it", "Ricevuta di acquisto", "200,00\xa0€"),
    ],
    ids=["en", "es", "fr", "it"],
)
def test_the_receipt_reads_in_each_shipped_language(
    shop: TradeIn, locale: str, title: str, amount: str
) -> None:
    """Asked in another language, every text is translated and the amounts are formatted for it."""
    order = bought(shop)
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP, locale=locale)
    assert f"<h1>{title}</h1>" in page
    assert amount in page
    assert "§ 25a UStG" in page
    assert IMEI in page
    if locale == "en":
        assert "The seller sold this device as a private person" in page
        assert "Good (as declared)" in page
    else:
        assert "Ankaufsbeleg" not in page
        assert "private person" not in page


def test_a_hostile_holder_name_is_escaped(shop: TradeIn) -> None:
    """A holder name with markup is printed as text, never run as a script."""
    hostile = BankTransfer(iban="DE89370400440532013000", holder='<script>alert("x")</script> & Co')
    order = bought(shop, payout=hostile)
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page


def test_the_seller_is_named_as_the_shop_knows_them_or_by_reference(shop: TradeIn) -> None:
    """An explicit seller is printed with their address; after erasure only the customer reference is left."""
    order = bought(shop)
    customer_ref = shop.store.get_order(order.id)[0].customer_ref
    assert customer_ref is not None
    seller = ReceiptSeller(
        customer_ref=customer_ref, name="Erika Muster", address=("Am Markt 3", "50667 Köln")
    )
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP, seller=seller)
    assert "Erika Muster<br>Am Markt 3<br>50667 Köln" in page
    shop.erase_customer(customer_ref)
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP)
    assert receipt.seller == ReceiptSeller(customer_ref=customer_ref)
    page = shop.purchase_receipt_html(order.id, "d1", issuer=SHOP)
    assert "Privater Verkäufer" in page
    assert f"Kundenreferenz: {customer_ref}" in page
    assert "Mustermann" not in page


def test_the_pdf_shows_the_price_the_device_and_the_statement(shop: TradeIn) -> None:
    """The PDF is a PDF; its text holds the number, the IMEI, the euro amount and the § 25a statement."""
    order = bought(shop)
    document = shop.purchase_receipt_pdf(order.id, "d1", issuer=SHOP)
    assert document.startswith(b"%PDF-")
    assert document.rstrip().endswith(b"%%EOF")
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP)
    texts = pdf_texts(receipt_pdf(receipt, compress=False))
    for text in (
        "Ankaufsbeleg",
        receipt.number,
        IMEI,
        "Hauptstraße 1",
        "Per Überweisung bezahlt",
        "200,00 €",
    ):
        assert text in texts, text
    assert any("§ 25a UStG" in text for text in texts)
    assert receipt_pdf(receipt) == document  # reproducible: the same receipt gives the same bytes


def test_the_pdf_prints_what_its_font_cannot_as_question_marks(shop: TradeIn) -> None:
    """French digit groups (narrow no-break space) print; a name in another script prints as ``?``."""
    order = bought(shop)
    seller = ReceiptSeller(customer_ref="cus_1", name="Алиса Öztürk")
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP, seller=seller, locale="fr")
    big = attrs.evolve(receipt, amount=Money("1234.50", EUR))
    texts = pdf_texts(receipt_pdf(big, compress=False))
    assert "Reçu d’achat" in texts
    assert "????? Öztürk" in texts
    assert "1 234,50 €" in texts


@pytest.mark.parametrize("step", ["confirmed", "cancelled"], ids=["inspected, not settled", "cancelled"])
def test_no_receipt_for_a_device_not_bought(shop: TradeIn, step: str) -> None:
    """A device not paid, credited or disposed has no receipt: a typed error names order, device, state."""
    summary = checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.PAYOUT)
    order = shop.confirm_checkout(summary, payout=BANK).order
    if step == "confirmed":
        arrive(shop, order, inspected(worn()))
    else:
        shop.cancel(order.id)
    with pytest.raises(ReceiptUnavailableError) as caught:
        shop.purchase_receipt(order.id, "d1", issuer=SHOP)
    error = caught.value
    assert (error.code, error.order_id, error.device_id, error.state) == (
        "receipt_unavailable",
        order.id,
        "d1",
        step,
    )
    assert "nicht angekauft" in error.localized("de")
    with pytest.raises(ReceiptUnavailableError):
        shop.purchase_receipt_pdf(order.id, "d1", issuer=SHOP)


def test_the_register_lists_each_device_bought_in_the_period(shop: TradeIn, clock: FixedClock) -> None:
    """One row per device bought in [start, end); none for a device not bought or bought outside."""
    first_day = clock.now().date()
    first = bought(shop)
    clock.advance(days=3)
    second = bought(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.VOUCHER, payout=None)
    pending = shop.confirm_checkout(
        checkout(shop, timing=CreditTiming.DEFERRED, plan=CreditPlan.PAYOUT)
    ).order
    arrive(shop, pending, inspected(worn()))  # inspected, never settled: not bought
    day = timedelta(days=1)

    rows = shop.purchase_register(first_day, first_day + day)
    assert [(row.order_id, row.device_id) for row in rows] == [(first.id, "d1")]
    row = rows[0]
    assert row.purchase_date == first_day
    assert row.receipt_number == shop.purchase_receipt(first.id, "d1", issuer=SHOP).number
    assert (row.model, row.variant, row.identifier) == ("Apple iPhone 13", IPHONE, IMEI)
    assert row.purchase_price == shop.ledger(first.id).devices["d1"].owed == Money("200.00", EUR)
    assert row.payout_method == "bank_transfer"

    both = shop.purchase_register(first_day, first_day + 7 * day)
    assert [(row.order_id, row.purchase_date) for row in both] == [
        (first.id, first_day),
        (second.id, first_day + 3 * day),
    ]
    assert both[1].payout_method == "voucher"
    assert shop.purchase_register(first_day + day, first_day + 3 * day) == []
    assert shop.purchase_register(first_day + 4 * day, first_day + 30 * day) == []

    lines = list(csv.reader(io.StringIO(register_csv(both))))
    assert lines[0] == list(REGISTER_COLUMNS)
    assert lines[1] == [
        first_day.isoformat(),
        row.receipt_number,
        first.id,
        "d1",
        "Apple iPhone 13",
        IPHONE,
        IMEI,
        "200.00",
        EUR,
        "bank_transfer",
    ]
    assert len(lines) == 3


def test_the_register_needs_a_period(shop: TradeIn) -> None:
    """An end that is not after the start is refused with the period error."""
    with pytest.raises(InvalidPeriodError):
        shop.purchase_register(date(2026, 12, 1), date(2026, 12, 1))


def test_the_register_csv_keeps_formulas_out_of_spreadsheets() -> None:
    """A text cell a spreadsheet would run as a formula is written with a leading apostrophe."""
    row = PurchaseRegisterRow(
        purchase_date=date(2026, 11, 24),
        receipt_number="ORD-1-D1",
        order_id="ord_1",
        device_id="d1",
        model='=HYPERLINK("http://example.com")',
        variant="-variant",
        identifier=None,
        purchase_price=Money("99.5", EUR),
        payout_method="voucher",
    )
    line = list(csv.reader(io.StringIO(register_csv([row]))))[1]
    assert line[4:9] == ['\'=HYPERLINK("http://example.com")', "'-variant", "", "99.50", EUR]


@pytest.mark.parametrize(
    ("device", "condition", "shown"),
    [
        (
            {"imei": None, "serial": "F2LXK0QJHG7F"},
            {},
            ("Serial number", "F2LXK0QJHG7F", "Good (as declared)"),
        ),
        ({"imei": None}, {"grade_label": None}, ("IMEI / serial number", "not recorded", "As declared")),
        ({}, {"grade_label": None, "as_declared": False}, ("IMEI", IMEI, "Not graded")),
    ],
    ids=["serial number", "no identifier, as declared", "not graded"],
)
def test_the_device_is_named_by_what_was_recorded(
    shop: TradeIn, device: dict[str, Any], condition: dict[str, Any], shown: tuple[str, str, str]
) -> None:
    """A device without an IMEI shows its serial number, or that none was recorded; then its condition."""
    order = bought(shop)
    receipt = shop.purchase_receipt(order.id, "d1", issuer=SHOP, locale="en")
    receipt = attrs.evolve(
        receipt,
        device=attrs.evolve(receipt.device, **device),
        condition=attrs.evolve(receipt.condition, **condition),
    )
    label, identifier, condition_text = shown
    rows = dict(receipt_text(receipt).device)
    assert rows[label] == identifier
    assert rows["Condition found at inspection"] == condition_text
