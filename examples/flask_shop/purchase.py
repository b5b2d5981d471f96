"""A confirmed purchase as the shop shows it: on the order pages, in "My orders" and on the receipt.

Everything is read back from what the library stored with the order when the shopper confirmed: the signed
:class:`~tradein_sdk.CheckoutSummary` (the new device, every line and amount, the protection, the buy-back
guarantee, the promotions, the clawback terms), the protection and guarantee decisions, and the payout
details kept apart as personal data (only the masked IBAN is shown). Nothing is computed again: the pages
show what was charged, not what the prices are today. An order opened without a checkout (a trade-in under a
buy-back guarantee, a demo order) has no purchase.

The texts are in the shopper's language: the library's lines (``summary.describe``), its clawback sentences
(``summary.clawback.describe``) and the shop's own texts (gettext).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs
from babel.lists import format_list
from flask import session
from flask_babel import gettext

from tradein_sdk import (
    CheckoutLine,
    CheckoutSummary,
    DeviceNotFoundError,
    DeviceState,
    InsuranceOffer,
    Money,
    PremiumTerm,
    TradeInOrder,
    order_reference,
)

from .extension import current_locale, shop
from .guarantees import Terms, sold_with, terms_of
from .texts import text

CREDIT_LINES = frozenset({"deferred_credit", "remainder"})
"""Summary lines of credit paid after inspection: their amount is inside their sentence, so pages show them as
the trade-in value table instead (:func:`charged_line`)."""

JUST_PLACED = "just_placed"
"""The session's key naming the order just confirmed (its page thanks the shopper once)."""


@attrs.frozen(kw_only=True)
class Line:
    """A line of what the purchase costs.

    Attributes:
        code: the summary line's code (``new_device``, ``trade_in``, ``promotion``, ``insurance``...).
        text: what it is, in the shopper's language.
        amount: its amount, formatted; empty for an information line.
        monthly: it is charged (or credited) every month rather than today.
    """

    code: str
    text: str
    amount: str
    monthly: bool


@attrs.frozen(kw_only=True)
class PromotionLine:
    """A promotion applied to a traded device.

    Attributes:
        promotion_id: its id.
        title: its title in the shopper's language.
        boost: what it adds.
        condition: its contract condition in words (``Only with a new contract...``), if it has one.
    """

    promotion_id: str
    title: str
    boost: Money
    condition: str | None


@attrs.frozen(kw_only=True)
class TradedDevice:
    """A device traded in with the purchase.

    Attributes:
        name: what it is (``Samsung Galaxy S22``).
        quoted: its quote.
        promotions: the promotions applied to it.
        credit: its quote and promotions together.
    """

    name: str
    quoted: Money
    promotions: tuple[PromotionLine, ...]
    credit: Money


@attrs.frozen(kw_only=True)
class Payout:
    """How the trade-in value still to come is paid.

    Attributes:
        plan: the plan chosen (a key of :data:`~.cart.PLANS`).
        later: what is paid after inspection.
        how: how it is paid, in the shopper's language (the bank account masked).
        iban: the masked IBAN of a bank transfer (``DE89 •••• •••• •••• 3000``), else ``None``.
        installments: the bill credits' count, for bill credits.
        installment: the first bill credit, for bill credits.
    """

    plan: str
    later: Money
    how: str
    iban: str | None = None
    installments: int | None = None
    installment: Money | None = None


@attrs.frozen(kw_only=True)
class Purchase:
    """A confirmed purchase, ready to show.

    Attributes:
        order: the order it opened.
        reference: the order's reference for people (``TI-7YD0-R6VQ-T08T-QGZ4``, the library's).
        summary: the summary the shopper confirmed.
        customer_case: the contract situation chosen, in words.
        lines: what is due, line by line (today and monthly).
        traded: the devices traded in, with their promotions.
        payout: how the trade-in value still to come is paid (``None``: nothing comes later).
        insurance: the protection bought, or ``None``.
        insurance_name: its product name in the shopper's language.
        guarantee: the buy-back guarantee's terms, when one was bought.
        guarantee_highest: the most it guarantees (its first band), when one was bought.
        contract_id: the guarantee contract signed, when one was.
        send_by: the earliest send-by deadline of a device still to send, once its label is issued.
        label: a device awaits its parcel: the label can be printed.
        clawback: the clawback terms, sentence by sentence (none without a trade-in).
        just_placed: the shopper confirmed it just now (the page thanks them).
    """

    order: TradeInOrder
    reference: str
    summary: CheckoutSummary
    customer_case: str
    lines: tuple[Line, ...]
    traded: tuple[TradedDevice, ...]
    payout: Payout | None
    insurance: InsuranceOffer | None
    insurance_name: str
    guarantee: Terms | None
    guarantee_highest: Money | None
    contract_id: str | None
    send_by: datetime | None
    label: bool
    clawback: tuple[str, ...]
    just_placed: bool = False

    @property
    def new_device(self) -> str:
        """The new device's name."""
        return self.summary.request.new_device.name

    @property
    def price(self) -> Money:
        """The new device's price."""
        return self.summary.request.new_device.price

    @property
    def today(self) -> tuple[Line, ...]:
        """The lines charged today."""
        return tuple(line for line in self.lines if not line.monthly)

    @property
    def monthly(self) -> tuple[Line, ...]:
        """The lines charged or credited each month."""
        return tuple(line for line in self.lines if line.monthly)

    @property
    def promotions(self) -> tuple[PromotionLine, ...]:
        """Every promotion applied, device by device."""
        return tuple(promotion for device in self.traded for promotion in device.promotions)


def mask_iban(iban: str) -> str:
    """An IBAN with only its country, check digits and last four shown: ``DE89 •••• •••• •••• 3000``."""
    compact = "".join(iban.split()).upper()
    hidden = max(1, (len(compact) - 8) // 4)
    return " ".join([compact[:4], *(["••••"] * hidden), compact[-4:]])


def stored_checkout(order_id: str) -> dict[str, Any] | None:
    """What the library stored with the order at checkout (summary, decisions), or ``None`` without one."""
    stored = shop().trade_in.store.get_checkout(order_id)
    if not stored:
        return None
    document: dict[str, Any] = json.loads(stored)
    return document


def purchase_of(order: TradeInOrder, *, thanks: bool = False) -> Purchase | None:
    """The purchase an order was opened with, or ``None`` (an order opened without a checkout).

    With ``thanks`` (the order page), a purchase confirmed just now is marked so, once: the mark is taken
    from the session, so the page thanks the shopper on the first visit only.
    """
    document = stored_checkout(order.id)
    if document is None or "summary" not in document:
        return None
    summary = CheckoutSummary.from_json(document["summary"])
    locale = current_locale()
    consent = document.get("consent") or {}
    accepted = summary.insurance is not None and consent.get("decision") == "accepted"
    contracts = sold_with(order.id) if summary.guarantee is not None else []
    waiting = [device for device in order.devices if device.state is DeviceState.AWAITING_SHIPMENT]
    guarantee = summary.guarantee if contracts else None
    deadlines = [device.send_by for device in waiting if device.send_by is not None]
    return Purchase(
        order=order,
        reference=order_reference(order.id),
        summary=summary,
        customer_case=text("customer_case", summary.request.customer_case.value),
        lines=purchase_lines(summary),
        traded=traded_devices(summary),
        payout=payout_of(order, summary),
        insurance=summary.insurance if accepted else None,
        insurance_name=insurance_name(summary.insurance) if accepted and summary.insurance else "",
        guarantee=terms_of(guarantee, summary.request.new_device.catalog_id or "") if guarantee else None,
        guarantee_highest=max(line.amount for line in guarantee.schedule) if guarantee else None,
        contract_id=contracts[0] if contracts else None,
        send_by=min(deadlines) if deadlines else None,
        label=bool(waiting),
        clawback=summary.clawback.describe(locale) if summary.trade_ins else (),
        just_placed=thanks and session.get(JUST_PLACED) == order.id and bool(session.pop(JUST_PLACED)),
    )


def charged_line(line: CheckoutLine) -> bool:
    """Whether a summary line belongs to what is due (review page, purchase block, receipt).

    Credit paid after inspection (:data:`CREDIT_LINES`, and a promotion without an amount of its own) is
    shown in the trade-in value table instead.
    """
    return line.code not in CREDIT_LINES and not (line.code == "promotion" and line.amount is None)


def purchase_lines(summary: CheckoutSummary) -> tuple[Line, ...]:
    """What the purchase costs, line by line: today's lines first, as the summary orders them, then monthly.

    The lines of credit paid after inspection are left out (the trade-in value table shows them); a
    promotion deducted today keeps its line.
    """
    locale = current_locale()
    lines = [
        Line(code=line.code, text=described, amount=amount, monthly=line.monthly)
        for line, (described, amount) in zip(summary.lines, summary.describe(locale), strict=True)
        if charged_line(line) and line.code != "credit_total"  # the value table has the total
    ]
    return tuple(sorted(lines, key=lambda line: line.monthly))


def traded_devices(summary: CheckoutSummary) -> tuple[TradedDevice, ...]:
    """The traded devices of a summary, each with its promotions and their contract condition."""
    locale = current_locale()
    return tuple(
        TradedDevice(
            name=trade_in.device_name,
            quoted=trade_in.quoted,
            promotions=tuple(
                PromotionLine(
                    promotion_id=promotion.promotion_id,
                    title=promotion.localized_title(locale),
                    boost=promotion.boost,
                    condition=contract_condition(promotion.promotion_id),
                )
                for promotion in trade_in.promotions
            ),
            credit=trade_in.credit,
        )
        for trade_in in summary.trade_ins
    )


def contract_condition(promotion_id: str) -> str | None:
    """A promotion's contract condition in words (``Only with a new contract or a contract upgrade.``).

    ``None`` when the promotion is for any contract situation (or unknown to the shop's promotions).
    """
    book = shop().trade_in.promotions
    promotion = next((item for item in book.promotions if item.id == promotion_id), None) if book else None
    if promotion is None or promotion.conditions.customer_cases is None:
        return None
    cases = [text("customer_case.phrase", case.value) for case in promotion.conditions.customer_cases]
    return gettext("Only with %(cases)s.", cases=format_list(cases, style="or", locale=current_locale()))


def insurance_name(offer: InsuranceOffer) -> str:
    """The protection product's name in the shopper's language (the first of its disclosures)."""
    return offer.disclosures(current_locale())[0]


def premium_term(offer: InsuranceOffer) -> str:
    """How the premium is paid, in words: monthly, or once for its months of cover."""
    if offer.term is PremiumTerm.MONTHLY:
        return gettext("%(amount)s per month", amount=offer.premium.gross.format(current_locale()))
    return gettext(
        "%(amount)s once, for %(months)s months of cover",
        amount=offer.premium.gross.format(current_locale()),
        months=offer.term_months,
    )


def payout_of(order: TradeInOrder, summary: CheckoutSummary) -> Payout | None:
    """How the trade-in value still to come is paid, or ``None`` when nothing comes after inspection."""
    if not summary.trade_ins:
        return None
    locale = current_locale()
    plan = summary.request.plan.value
    if plan == "discount":
        if summary.remainder.amount <= 0:
            return None
        return Payout(
            plan=plan,
            later=summary.remainder,
            how=gettext("as a shop voucher after inspection")
            if summary.request.remainder_rule.value == "voucher"
            else gettext("by bank transfer after inspection"),
        )
    if plan == "payout":
        iban = _iban(order)
        how = (
            gettext("by bank transfer to the account %(iban)s after inspection", iban=iban)
            if iban
            else gettext("by bank transfer after inspection")
        )
        return Payout(plan=plan, later=summary.total_credit, how=how, iban=iban)
    if plan == "bill_credits" and summary.bill_credits is not None:
        schedule = summary.bill_credits
        first = schedule.installments[0]
        return Payout(
            plan=plan,
            later=summary.total_credit,
            how=gettext(
                "as %(count)s monthly bill credits of %(amount)s, from the first bill after inspection",
                count=len(schedule.installments),
                amount=first.format(locale),
            ),
            installments=len(schedule.installments),
            installment=first,
        )
    return Payout(plan=plan, later=summary.total_credit, how=gettext("as a shop voucher after inspection"))


def _iban(order: TradeInOrder) -> str | None:
    """The masked IBAN the order's payout goes to (``None``: none given, or erased since)."""
    if order.payout is None or order.payout.method.value != "bank_transfer":
        return None
    stored = shop().trade_in.store.get_personal_data(order.payout.reference)
    if stored is None:
        return None
    iban = json.loads(stored.data).get("iban")
    return mask_iban(iban) if isinstance(iban, str) and iban else None


def trade_in_names(order: TradeInOrder) -> list[str]:
    """The names of the devices an order trades in (``Samsung Galaxy S22 · 128 GB``), in order.

    From the catalog by each device's variant (no quote read per device: "My orders" lists many orders).
    """
    catalog = shop().trade_in.catalog
    names = []
    for device in order.devices:
        try:
            entry = catalog.lookup(device.variant_id)
        except DeviceNotFoundError:
            names.append(device.variant_id)
            continue
        storage = f" · {entry.variant.storage_gb} GB" if entry.variant is not None else ""
        names.append(f"{entry.model.display_name}{storage}")
    return names
