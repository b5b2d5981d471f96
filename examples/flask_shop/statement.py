"""What the order pages show of an order's settlement ledger: the shopper's statement and the staff's table.

The library keeps every amount promised at checkout in a ledger (``TradeIn.ledger(order_id)``) and nets it
into balances; this module only arranges the entries for reading, in the shopper's language:

- :func:`statement` — the shopper's "Your money": what was promised at checkout (trade-in value and each
  promotion), what changed since and why (inspection, promotion withdrawn, not sent, bill credits
  stopped...), what was paid or credited and how (discount at checkout, voucher, bank transfer, bill
  credits), what was charged back, and what is still open;
- :func:`schedule` — each bill-credit installment with its period and whether it was credited, is still
  scheduled or was stopped;
- :func:`kind_label` and :func:`reason_text` — an entry's kind and reason as words, for both pages.

No amount is computed here beyond sums of the ledger's own entries; the totals shown are the library's
:class:`~tradein_sdk.Balance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
from flask_babel import gettext, ngettext

from tradein_sdk import Balance, EntryGroup, EntryKind, Money

from .texts import has_text, text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradein_sdk import LedgerEntry, OrderLedger

_PROMISES = frozenset({EntryKind.TRADE_IN_CREDIT, EntryKind.PROMOTION})
_PROMOTION_KINDS = frozenset({EntryKind.PROMOTION, EntryKind.PROMOTION_WITHDRAWN})
_SECTIONS: Mapping[EntryGroup, str] = {
    EntryGroup.TERMS: "changes",
    EntryGroup.PAID: "delivered",
    EntryGroup.CREDITED: "delivered",
    EntryGroup.CLAWED_BACK: "clawed_back",
}
_WITH_REASON = frozenset(
    {
        EntryKind.NOT_BOUGHT,
        EntryKind.REINSTATED,
        EntryKind.INSTALLMENT_STOPPED,
        EntryKind.CLAWBACK,
        EntryKind.REFUND,
        EntryKind.CLAWBACK_TAX,
    }
)


@attrs.frozen(kw_only=True)
class Line:
    """One line of the shopper's statement.

    Attributes:
        kind: what the ledger recorded.
        device_id: the device it concerns (``None``: the whole order).
        label: the line's text, translated.
        amount: its amount (negative: the shopper is owed less).
        at: when it was posted (the latest, for a line that sums several entries).
    """

    kind: EntryKind
    device_id: str | None
    label: str
    amount: Money
    at: datetime


@attrs.frozen(kw_only=True)
class Installment:
    """One bill-credit installment.

    Attributes:
        device_id: the device whose credit it pays.
        period: its billing period, ``YYYY-MM``.
        amount: its amount.
        status: ``credited``, ``open`` (scheduled) or ``stopped``.
        settled_at: when it was credited or stopped.
    """

    device_id: str | None
    period: str
    amount: Money
    status: str
    settled_at: datetime | None


@attrs.frozen(kw_only=True)
class Statement:
    """The shopper's view of an order's ledger.

    Attributes:
        total: the order's balance, as the library nets it.
        devices: each device's balance.
        promised: the trade-in value and promotion shares promised at checkout.
        changes: every later change of what is owed, with its reason.
        delivered: what was paid or credited, by how (bill credits summed per device).
        clawed_back: charge-backs, refunds and the tax on them.
        installments: the bill-credit schedule, first period first.
    """

    total: Balance
    devices: Mapping[str, Balance]
    promised: tuple[Line, ...]
    changes: tuple[Line, ...]
    delivered: tuple[Line, ...]
    clawed_back: tuple[Line, ...]
    installments: tuple[Installment, ...]

    @property
    def paid_total(self) -> Money:
        """What was paid or credited so far (bank transfers, discounts, vouchers, bill credits)."""
        return self.total.paid + self.total.credited

    @property
    def net(self) -> Money:
        """What the shopper kept: paid and credited, less what was charged back (with its tax)."""
        return self.paid_total - self.total.charged_back


def kind_label(kind: EntryKind) -> str:
    """An entry kind in the shopper's language."""
    return text("ledger.kind", kind.value)


def reason_text(entry: LedgerEntry, promotion_titles: Mapping[str, str]) -> str:
    """An entry's reason as words: a promotion's title, a device state, why bill credits stopped."""
    reason = entry.reason
    if not reason:
        return ""
    if entry.kind in _PROMOTION_KINDS:
        return promotion_titles.get(reason, reason)
    for group in ("state", "ledger.stop", "ledger.reason"):
        if has_text(group, reason):
            return text(group, reason)
    return reason


def statement(
    ledger: OrderLedger, *, device_names: Mapping[str, str], promotion_titles: Mapping[str, str]
) -> Statement:
    """Arrange an order's ledger as the shopper reads it.

    Args:
        ledger: the order's ledger (``TradeIn.ledger``).
        device_names: device id → the traded device's name.
        promotion_titles: promotion id → its title in the shopper's language.
    """
    sections: dict[str, list[Line]] = {"promised": [], "changes": [], "delivered": [], "clawed_back": []}
    bill_credits: dict[str | None, list[LedgerEntry]] = {}
    for entry in ledger.entries:
        section = _section(entry)
        if section == "bill_credits":
            bill_credits.setdefault(entry.device_id, []).append(entry)
        elif section is not None:
            sections[section].append(_line(entry, device_names, promotion_titles))
    for device_id, credited in bill_credits.items():
        sections["delivered"].append(
            Line(
                kind=EntryKind.INSTALLMENT_CREDITED,
                device_id=device_id,
                label=ngettext(
                    "Bill credits, %(count)s month",
                    "Bill credits, %(count)s months",
                    len(credited),
                    count=len(credited),
                ),
                amount=Money.total((entry.amount for entry in credited), ledger.currency),
                at=max(entry.at for entry in credited),
            )
        )
    return Statement(
        total=ledger.total,
        devices=ledger.devices,
        promised=tuple(sections["promised"]),
        changes=tuple(sections["changes"]),
        delivered=tuple(sections["delivered"]),
        clawed_back=tuple(sections["clawed_back"]),
        installments=schedule(ledger.entries),
    )


def _section(entry: LedgerEntry) -> str | None:
    """Where the statement shows an entry; ``None``: left out (schedule, premiums, a settlement of zero)."""
    if entry.amount.is_zero() and entry.kind is not EntryKind.TRADE_IN_CREDIT:
        return None  # a settlement that pays nothing: all of it was credited at checkout
    if entry.kind in _PROMISES:
        return "promised"
    if entry.kind is EntryKind.INSTALLMENT_CREDITED:
        return "bill_credits"
    if entry.kind is EntryKind.CLAWBACK_TAX:
        return "clawed_back"
    return _SECTIONS.get(entry.group)


def _line(entry: LedgerEntry, device_names: Mapping[str, str], promotion_titles: Mapping[str, str]) -> Line:
    """One entry as a statement line: its kind in words, with the device, promotion or reason it names."""
    label = kind_label(entry.kind)
    reason = reason_text(entry, promotion_titles)
    device = device_names.get(entry.device_id or "")
    if entry.kind is EntryKind.TRADE_IN_CREDIT and device:
        label = gettext("%(label)s: %(detail)s", label=label, detail=device)
    elif entry.kind is EntryKind.PROMOTION:
        label = gettext("%(label)s: %(detail)s", label=label, detail=reason)
    elif entry.kind in _PROMOTION_KINDS:
        label = f"{label} – {reason}"
    elif entry.kind in _WITH_REASON and reason:
        label = f"{label} ({reason})"
    return Line(kind=entry.kind, device_id=entry.device_id, label=label, amount=entry.amount, at=entry.at)


def schedule(entries: Iterable[LedgerEntry]) -> tuple[Installment, ...]:
    """Every bill-credit installment of the entries, with whether it was credited, stopped or is open."""
    items = list(entries)
    settling = {entry.settles: entry for entry in items if entry.settles is not None}
    installments = []
    for entry in items:
        if entry.kind is not EntryKind.INSTALLMENT_DUE:
            continue
        settled = settling.get(entry.entry_id)
        status = "open"
        if settled is not None:
            status = "credited" if settled.kind is EntryKind.INSTALLMENT_CREDITED else "stopped"
        installments.append(
            Installment(
                device_id=entry.device_id,
                period=entry.due_period or "",
                amount=entry.amount,
                status=status,
                settled_at=None if settled is None else settled.at,
            )
        )
    return tuple(sorted(installments, key=lambda item: (item.period, item.device_id or "")))
