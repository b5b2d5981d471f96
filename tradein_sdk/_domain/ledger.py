"""The settlement ledger: every amount promised at checkout, carried through the order to its payout.

Pure. An order's ledger is an append-only list of :class:`LedgerEntry`; every balance is a sum of entries.
Each entry belongs to one **group**:

- **terms** — what the shop owes the shopper under the current terms: the trade-in credit and each
  promotion's share (promised at checkout), then a revision after inspection, a promotion withdrawn
  because the inspected device no longer meets its conditions, a device not bought (not sent, cancelled,
  rejected, declined, recycled), installments stopped (the contract ended) — and their reversals;
- **paid** — bank payouts made;
- **credited** — the instant discount applied at checkout, vouchers issued, bill-credit installments
  credited;
- **clawed back** — credit taken back because the shopper received more than the terms owe (a refund
  is a negative clawback);
- **schedule** — bill-credit installments due, one entry per billing period (they move no balance: the
  installment credited does);
- **charges** — what the shopper pays the shop beside the trade-in: the protection premium, its bundle
  discount, tax charged on a clawback.

The invariant, per device and per order, to the cent: ``paid + credited + open - clawed_back == owed``,
where ``owed`` is the sum of the terms and ``open`` what is still to be paid or credited.

:func:`opening_entries` turns a confirmed checkout (:class:`LedgerTerms`) into its first entries;
:func:`reconcile` compares the ledger with the order as it stands and posts what the change means —
revision, withdrawal, not bought, settlement, clawback — so the order lifecycle and the ledger can never
drift apart; :func:`balances` nets the entries; :func:`settlement_amount` is what settling a device pays.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import attrs

from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import DeviceState
from tradein_sdk._domain.payouts import PayoutMethod

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tradein_sdk._domain.checkout import CheckoutSummary, ClawbackPolicy
    from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder


class EntryKind(StrEnum):
    """What a ledger entry records."""

    # terms: what the shop owes
    TRADE_IN_CREDIT = "trade_in_credit"
    PROMOTION = "promotion"
    REVISION = "revision"
    PROMOTION_WITHDRAWN = "promotion_withdrawn"
    NOT_BOUGHT = "not_bought"
    REINSTATED = "reinstated"
    INSTALLMENT_STOPPED = "installment_stopped"
    # paid
    PAYOUT_MADE = "payout_made"
    # credited
    DISCOUNT_APPLIED = "discount_applied"
    VOUCHER_ISSUED = "voucher_issued"
    INSTALLMENT_CREDITED = "installment_credited"
    # clawed back
    CLAWBACK = "clawback"
    REFUND = "refund"
    # schedule
    INSTALLMENT_DUE = "installment_due"
    # charges beside the trade-in
    INSURANCE_PREMIUM = "insurance_premium"
    INSURANCE_BUNDLE_DISCOUNT = "insurance_bundle_discount"
    CLAWBACK_TAX = "clawback_tax"
    # contingent: a buy-back guarantee sold with the new device, owed only if it is exercised
    GUARANTEE_CONTINGENT = "guarantee_contingent"
    GUARANTEE_RELEASED = "guarantee_released"


class EntryGroup(StrEnum):
    """Which balance an entry moves."""

    TERMS = "terms"
    PAID = "paid"
    CREDITED = "credited"
    CLAWED_BACK = "clawed_back"
    SCHEDULE = "schedule"
    CHARGES = "charges"
    CONTINGENT = "contingent"


_K = EntryKind
GROUPS: Final[Mapping[EntryKind, EntryGroup]] = {
    _K.TRADE_IN_CREDIT: EntryGroup.TERMS,
    _K.PROMOTION: EntryGroup.TERMS,
    _K.REVISION: EntryGroup.TERMS,
    _K.PROMOTION_WITHDRAWN: EntryGroup.TERMS,
    _K.NOT_BOUGHT: EntryGroup.TERMS,
    _K.REINSTATED: EntryGroup.TERMS,
    _K.INSTALLMENT_STOPPED: EntryGroup.TERMS,
    _K.PAYOUT_MADE: EntryGroup.PAID,
    _K.DISCOUNT_APPLIED: EntryGroup.CREDITED,
    _K.VOUCHER_ISSUED: EntryGroup.CREDITED,
    _K.INSTALLMENT_CREDITED: EntryGroup.CREDITED,
    _K.CLAWBACK: EntryGroup.CLAWED_BACK,
    _K.REFUND: EntryGroup.CLAWED_BACK,
    _K.INSTALLMENT_DUE: EntryGroup.SCHEDULE,
    _K.INSURANCE_PREMIUM: EntryGroup.CHARGES,
    _K.INSURANCE_BUNDLE_DISCOUNT: EntryGroup.CHARGES,
    _K.CLAWBACK_TAX: EntryGroup.CHARGES,
    _K.GUARANTEE_CONTINGENT: EntryGroup.CONTINGENT,
    _K.GUARANTEE_RELEASED: EntryGroup.CONTINGENT,
}
"""The group of every kind."""

PROMOTION_KINDS: Final = frozenset({_K.PROMOTION, _K.PROMOTION_WITHDRAWN})
_NOT_BOUGHT_KINDS: Final = frozenset({_K.NOT_BOUGHT, _K.REINSTATED})
ENTRY_PREFIX: Final = "led_"
"""The prefix of an entry id."""
SETTLES_PREFIX: Final = "stl_"
"""An installment's settling entry has the id ``stl_`` + the installment's id without its ``led_`` prefix."""
UPFRONT: Final = "checkout"
"""The ``reason`` of the credit given at checkout (instant discount or voucher)."""
SETTLEMENT: Final = "settlement"
"""The ``reason`` of the entries a device's settlement posts."""


class SettlementMethod(StrEnum):
    """How a device's open amount reaches the shopper when it is settled."""

    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"
    BILL_CREDITS = "bill_credits"


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One line of an order's ledger; never changed once written.

    Attributes:
        entry_id: unique; an entry derived from an event carries a stable id, so it is posted once.
        order_id: the order.
        device_id: the device (``d1``...), ``None`` for an order-wide entry (a protection premium).
        kind: what it records.
        amount: its signed contribution to its group (a revision or a withdrawal is negative).
        at: when it was posted (UTC).
        cause: what posted it: a checkout id, an event id, a billing run.
        reason: a promotion id, the device state that ended the purchase, ``settlement``, a stop reason.
        due_period: the billing period (``YYYY-MM``) of an installment.
        settles: the ``installment_due`` entry an installment credited or stopped settles.
        details: further text (question impacts, tax rate); never personal data.
    """

    entry_id: str
    order_id: str
    device_id: str | None
    kind: EntryKind = attrs.field(converter=EntryKind)
    amount: Money
    at: datetime
    cause: str
    reason: str | None = None
    due_period: str | None = None
    settles: str | None = None
    details: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def group(self) -> EntryGroup:
        """The balance it moves."""
        return GROUPS[self.kind]


@attrs.frozen(kw_only=True)
class DeviceTerms:
    """What a checkout promised for one device.

    Attributes:
        device_id: the device of the order.
        quote_id: its quote.
        quoted: the quoted amount.
        promotions: ``(promotion id, share)`` of each promotion applied to it.
        upfront: what it was credited at checkout (instant discount or voucher), zero for deferred credit.
    """

    device_id: str
    quote_id: str
    quoted: Money
    promotions: tuple[tuple[str, Money], ...] = ()
    upfront: Money


@attrs.frozen(kw_only=True)
class LedgerTerms:
    """The terms an order's ledger is kept against: a confirmed checkout, or a plain accepted quote.

    Attributes:
        source: the checkout id, or the order id for an order accepted without a checkout.
        currency: the currency of every amount.
        devices: the terms of each device.
        upfront_kind: how the upfront credit was given (``discount_applied`` or ``voucher_issued``).
        method: how an open amount is settled: bank transfer, voucher, bill credits; ``None``: by the payout
            the order names.
        months: the number of monthly installments (bill credits).
        charge_promotions: a clawback takes the promotion share back too.
        clawback_tax_percent: tax charged on top of a clawback.
        premium: the protection premium chosen at checkout before its bundle discount (one payment, gross),
            with its term (a :class:`~tradein_sdk.PremiumTerm` value).
        bundle_discount: what the trade-in bundle takes off each payment; the premium less it is what the
            shopper pays per payment.
        guarantees: ``(contract id, highest guaranteed amount)`` of each buy-back guarantee the checkout
            sold: a contingent liability until it is exercised or lapses.
    """

    source: str
    currency: str
    devices: tuple[DeviceTerms, ...]
    upfront_kind: EntryKind = EntryKind.DISCOUNT_APPLIED
    method: SettlementMethod | None = None
    months: int | None = None
    charge_promotions: bool = True
    clawback_tax_percent: Decimal = Decimal(0)
    premium: tuple[Money, str] | None = None
    bundle_discount: Money | None = None
    guarantees: tuple[tuple[str, Money], ...] = ()

    def device(self, device_id: str) -> DeviceTerms | None:
        """The terms of one device, ``None`` for a device the terms do not know."""
        return next((device for device in self.devices if device.device_id == device_id), None)


# -- balances ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Balance:
    """The netted entries of a device or an order.

    Attributes:
        currency: the currency.
        promised: the terms as promised at checkout (trade-in credit and promotions).
        owed: what the current terms owe.
        paid: paid by bank transfer.
        credited: discounts, vouchers and installments credited.
        clawed_back: taken back (net of refunds).
        scheduled: installments due and not yet credited or stopped.
        charges: premiums and clawback tax, beside the trade-in.
        clawback_tax: the tax charged on top of the clawbacks (part of ``charges``).
        contingent: the buy-back guarantees sold and not yet exercised or lapsed, at their highest
            guaranteed amount (a contingent liability: owed only if a device comes back; beside the rest).
    """

    currency: str
    promised: Money
    owed: Money
    paid: Money
    credited: Money
    clawed_back: Money
    scheduled: Money
    charges: Money
    clawback_tax: Money
    contingent: Money

    @property
    def charged_back(self) -> Money:
        """What the shopper is charged back: the clawbacks and their tax."""
        return self.clawed_back + self.clawback_tax

    @property
    def open(self) -> Money:
        """What is still to be paid or credited: ``owed - paid - credited + clawed_back``."""
        return self.owed - self.paid - self.credited + self.clawed_back

    @property
    def revised(self) -> Money:
        """How far the terms moved since checkout (negative: the shopper is owed less)."""
        return self.owed - self.promised


def balances(entries: Iterable[LedgerEntry], currency: str) -> Balance:
    """Net ``entries`` (of one device, one order or many orders) into a :class:`Balance`."""
    sums: dict[EntryGroup, Decimal] = defaultdict(Decimal)
    promised = tax = Decimal(0)
    settled_installments: set[str] = set()
    due: dict[str, Decimal] = {}
    for entry in entries:
        sums[entry.group] += entry.amount.amount
        if entry.kind in {_K.TRADE_IN_CREDIT, _K.PROMOTION}:
            promised += entry.amount.amount
        if entry.kind is _K.CLAWBACK_TAX:
            tax += entry.amount.amount
        if entry.kind is _K.INSTALLMENT_DUE:
            due[entry.entry_id] = entry.amount.amount
        elif entry.settles is not None:
            settled_installments.add(entry.settles)
    scheduled = sum((amount for key, amount in due.items() if key not in settled_installments), Decimal(0))

    def money(value: Decimal) -> Money:
        return Money(value, currency)

    return Balance(
        currency=currency,
        promised=money(promised),
        owed=money(sums[EntryGroup.TERMS]),
        paid=money(sums[EntryGroup.PAID]),
        credited=money(sums[EntryGroup.CREDITED]),
        clawed_back=money(sums[EntryGroup.CLAWED_BACK]),
        scheduled=money(scheduled),
        charges=money(sums[EntryGroup.CHARGES]),
        clawback_tax=money(tax),
        contingent=money(sums[EntryGroup.CONTINGENT]),
    )


def device_balances(entries: Iterable[LedgerEntry], currency: str) -> dict[str, Balance]:
    """The balance of each device named in ``entries``."""
    by_device: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.device_id is not None:
            by_device[entry.device_id].append(entry)
    return {device_id: balances(items, currency) for device_id, items in by_device.items()}


def promotion_shares(entries: Iterable[LedgerEntry]) -> dict[str, Money]:
    """Each promotion's share the terms still owe (what its budget holds for these entries)."""
    shares: dict[str, Money] = {}
    for entry in entries:
        if entry.kind in PROMOTION_KINDS and entry.reason is not None:
            shares[entry.reason] = shares.get(entry.reason, Money.zero(entry.amount.currency)) + entry.amount
    return shares


def unsettled_installments(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The ``installment_due`` entries neither credited nor stopped, first due first."""
    items = list(entries)
    settled = {entry.settles for entry in items if entry.settles is not None}
    due = [entry for entry in items if entry.kind is _K.INSTALLMENT_DUE and entry.entry_id not in settled]
    return sorted(due, key=lambda entry: (entry.due_period or "", entry.entry_id))


# -- posting ----------------------------------------------------------------------------------------------


def _entry_id(*parts: str) -> str:
    """A stable id for an entry derived from what caused it (posting twice gives the same id)."""
    return ENTRY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def opening_entries(terms: LedgerTerms, *, order_id: str, now: datetime) -> list[LedgerEntry]:
    """The entries a confirmed checkout (or an accepted quote) opens the ledger with.

    Per device: the trade-in credit, each promotion's share and the upfront credit; for the order: the
    protection premium and its bundle discount.
    """
    entries: list[LedgerEntry] = []

    def post(
        kind: EntryKind, amount: Money, device_id: str | None, reason: str | None = None, **details: str
    ) -> None:
        if amount.is_zero() and kind is not _K.TRADE_IN_CREDIT:
            return
        entries.append(
            LedgerEntry(
                entry_id=_entry_id(order_id, terms.source, kind, device_id or "", reason or ""),
                order_id=order_id,
                device_id=device_id,
                kind=kind,
                amount=amount,
                at=now,
                cause=terms.source,
                reason=reason,
                details=details,
            )
        )

    for device in terms.devices:
        post(_K.TRADE_IN_CREDIT, device.quoted, device.device_id, quote=device.quote_id)
        for promotion_id, share in device.promotions:
            post(_K.PROMOTION, share, device.device_id, promotion_id)
        post(terms.upfront_kind, device.upfront, device.device_id, UPFRONT)
    if terms.premium is not None:
        premium, term = terms.premium
        post(_K.INSURANCE_PREMIUM, premium, None, term)
    if terms.bundle_discount is not None:
        post(_K.INSURANCE_BUNDLE_DISCOUNT, -terms.bundle_discount, None, "bundle")
    for contract_id, amount in terms.guarantees:
        post(_K.GUARANTEE_CONTINGENT, amount, None, contract_id)
    return entries


def guarantee_release(
    contract_id: str, *, sold_order_id: str, amount: Money, at: datetime, cause: str, why: str
) -> LedgerEntry:
    """The entry releasing a guarantee's contingent liability in the ledger of the order that sold it.

    Its id is derived from the contract, so a liability is released once, whoever posts it.

    Args:
        contract_id: the contract.
        sold_order_id: the order of the checkout that sold it.
        amount: the amount posted as contingent when it was sold.
        at: when.
        cause: what released it (the exercising order's event, or the lapse run).
        why: ``exercised`` or ``lapsed``.
    """
    return LedgerEntry(
        entry_id=_entry_id(sold_order_id, "guarantee-release", contract_id),
        order_id=sold_order_id,
        device_id=None,
        kind=_K.GUARANTEE_RELEASED,
        amount=-amount,
        at=at,
        cause=cause,
        reason=contract_id,
        details={"released": why},
    )


_NOT_BOUGHT_STATES: Final = frozenset(
    {
        DeviceState.CANCELLED,
        DeviceState.EXPIRED,
        DeviceState.MISMATCH,
        DeviceState.REVISION_DECLINED,
        DeviceState.RETURNING,
        DeviceState.RETURNED,
        DeviceState.SURRENDERED,
        DeviceState.RECYCLED,
    }
)
_SETTLED_STATES: Final = frozenset({DeviceState.PAID, DeviceState.CREDITED, DeviceState.DISPOSED})


def not_bought(device: OrderDevice) -> bool:
    """Whether the device, as it stands, is not bought (the terms owe nothing for it)."""
    return device.state in _NOT_BOUGHT_STATES


@attrs.frozen(kw_only=True)
class Posting:
    """What :func:`reconcile` posts for a change.

    Attributes:
        entries: the new entries.
        budget_changes: promotion id → change of its budget use (negative: released).
        redemption_changes: promotion id → change of its redemption count (-1 when a share is withdrawn
            whole).
    """

    entries: tuple[LedgerEntry, ...] = ()
    budget_changes: Mapping[str, Money] = attrs.field(factory=dict)
    redemption_changes: Mapping[str, int] = attrs.field(factory=dict)


def earned_shares(device: OrderDevice, terms: DeviceTerms, *, keep_on_failure: bool) -> dict[str, Money]:
    """Each promotion's share a device earns as it stands.

    A device not bought earns none — unless the shop does not charge promotions back
    (``keep_on_failure``): then the shopper keeps what of the share was credited at checkout. An inspected
    device earns what the inspection judged (:attr:`InspectionResult.promotions`: each at most its checkout
    share, nothing for a promotion whose conditions the inspected device no longer meets); before an
    inspection, or for an inspection that judged none, the checkout share.
    """
    zero = Money.zero(terms.quoted.currency)
    judged = device.inspection.promotions if device.inspection is not None else None
    shares: dict[str, Money] = {}
    upfront_left = terms.upfront - terms.quoted if keep_on_failure else zero
    for promotion_id, share in terms.promotions:
        if not_bought(device):
            kept = min(share, max(upfront_left, zero))
            upfront_left = upfront_left - kept
            shares[promotion_id] = kept
        elif judged is None or promotion_id not in judged:
            shares[promotion_id] = share
        else:
            shares[promotion_id] = min(share, judged[promotion_id])
    return shares


class _Poster:
    """Collects the entries one :func:`reconcile` call posts, with stable ids."""

    def __init__(self, entries: Sequence[LedgerEntry], order_id: str, *, now: datetime, cause: str) -> None:
        self.entries = entries
        self.order_id = order_id
        self.now = now
        self.cause = cause
        self.posted: list[LedgerEntry] = []

    def of(self, device_id: str) -> list[LedgerEntry]:
        """The device's entries, old and new."""
        return [entry for entry in (*self.entries, *self.posted) if entry.device_id == device_id]

    def total(
        self, device_id: str, kinds: frozenset[EntryKind], *, reason: str | None = None
    ) -> Money | None:
        """The sum of the device's entries of ``kinds`` (and ``reason``), ``None`` when there are none."""
        amounts = [
            entry.amount
            for entry in self.of(device_id)
            if entry.kind in kinds and (reason is None or entry.reason == reason)
        ]
        return Money.total(amounts, amounts[0].currency) if amounts else None

    def post(
        self,
        kind: EntryKind,
        amount: Money,
        device_id: str,
        reason: str | None = None,
        *,
        due_period: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """Append an entry (a zero amount only as the mark of a settlement that pays nothing)."""
        if amount.is_zero() and (reason != SETTLEMENT or kind is _K.INSTALLMENT_DUE):
            return
        sequence = sum(1 for entry in self.of(device_id) if entry.kind is kind)
        self.posted.append(
            LedgerEntry(
                entry_id=_entry_id(self.order_id, device_id, kind, reason or "", self.cause, str(sequence)),
                order_id=self.order_id,
                device_id=device_id,
                kind=kind,
                amount=amount,
                at=self.now,
                cause=self.cause,
                reason=reason,
                due_period=due_period,
                details=details or {},
            )
        )


def reconcile(
    entries: Sequence[LedgerEntry],
    order: TradeInOrder,
    terms: LedgerTerms,
    *,
    now: datetime,
    cause: str,
) -> Posting:
    """Post what the order, as it now stands, means for its ledger.

    Per device, in this order: the revision (``offer - quoted`` once inspected); each promotion's share
    still earned (:func:`earned_shares`; what is no longer earned is withdrawn and its budget released — a
    withdrawn share is never restored, so a budget is never taken twice);
    a device not bought owes nothing (``not_bought``, reversed as ``reinstated``); a device that reached
    ``paid`` or ``credited`` gets its settlement (its open amount, by the terms' method: a payout, a
    voucher, or installments due month by month from the next billing period); then, when what the
    shopper received exceeds what the terms owe, the difference is clawed back (with the policy's tax),
    and refunded when the terms owe more again. Posting again for the same order changes nothing.

    Args:
        entries: the order's ledger so far.
        order: the order after the change.
        terms: the terms the ledger is kept against.
        now: the current time.
        cause: what changed (an event id), recorded on each new entry.

    Returns:
        The entries to append and the promotion budget changes, to be written in one transaction with
        the order.
    """
    zero = Money.zero(terms.currency)
    poster = _Poster(entries, order.id, now=now, cause=cause)
    budget: dict[str, Money] = {}
    redemptions: dict[str, int] = {}
    for device in order.devices:
        device_terms = terms.device(device.id)
        if device_terms is None:
            continue
        # the revision
        revision = device.offer - device.quoted if device.inspection is not None else zero
        impacts = {} if device.inspection is None else dict(device.inspection.impacts)
        current = poster.total(device.id, frozenset({_K.REVISION})) or zero
        poster.post(_K.REVISION, revision - current, device.id, "inspection", details=impacts)
        # the promotions: a share no longer earned is withdrawn, its budget released; never restored
        shares = earned_shares(device, device_terms, keep_on_failure=not terms.charge_promotions)
        for promotion_id, share in shares.items():
            current = poster.total(device.id, PROMOTION_KINDS, reason=promotion_id) or zero
            change = share - current
            if change >= zero:
                continue
            poster.post(_K.PROMOTION_WITHDRAWN, change, device.id, promotion_id)
            budget[promotion_id] = budget.get(promotion_id, zero) + change
            if share.is_zero():
                redemptions[promotion_id] = redemptions.get(promotion_id, 0) - 1
        # a device not bought owes nothing
        target = -(device.quoted + revision) if not_bought(device) else zero
        change = target - (poster.total(device.id, _NOT_BOUGHT_KINDS) or zero)
        poster.post(_K.NOT_BOUGHT if change < zero else _K.REINSTATED, change, device.id, device.state.value)
        # the settlement
        mine = poster.of(device.id)
        if device.state in _SETTLED_STATES and not any(entry.reason == SETTLEMENT for entry in mine):
            _settle(poster, device, terms, balances(mine, terms.currency).open)
        # the clawback
        balance = balances(poster.of(device.id), terms.currency)
        change = max(balance.paid + balance.credited - balance.owed, zero) - balance.clawed_back
        if not change.is_zero():
            poster.post(_K.CLAWBACK if change > zero else _K.REFUND, change, device.id, device.state.value)
            if terms.clawback_tax_percent:
                tax = (change * (terms.clawback_tax_percent / 100)).rounded()
                rate = {"rate_percent": str(terms.clawback_tax_percent)}
                poster.post(_K.CLAWBACK_TAX, tax, device.id, device.state.value, details=rate)
    return Posting(entries=tuple(poster.posted), budget_changes=budget, redemption_changes=redemptions)


def settlement_method(terms: LedgerTerms, device: OrderDevice) -> SettlementMethod:
    """How settling ``device`` pays its open amount: the terms' method, else the payout the device names."""
    if terms.method is not None:
        return terms.method
    if device.payout is not None and device.payout.method is PayoutMethod.BANK_TRANSFER:
        return SettlementMethod.BANK_TRANSFER
    return SettlementMethod.VOUCHER


def settlement_amount(entries: Sequence[LedgerEntry], device_id: str, currency: str) -> Money:
    """What settling a device pays now: its open amount, never below zero."""
    mine = [entry for entry in entries if entry.device_id == device_id]
    return max(balances(mine, currency).open, Money.zero(currency))


def _settle(poster: _Poster, device: OrderDevice, terms: LedgerTerms, open_amount: Money) -> None:
    """Post a device's settlement as a payout, a voucher or installments due.

    The amount is the one the order recorded (``settled``: what ``settle`` paid, computed from this ledger),
    so the order and its ledger never disagree; a device settled without an amount pays its open amount.
    """
    recorded = device.settled if device.settled is not None else open_amount
    amount = max(recorded, Money.zero(terms.currency))
    method = settlement_method(terms, device)
    if method is SettlementMethod.BILL_CREDITS and terms.months and not amount.is_zero():
        for index, installment in enumerate(amount.rounded().allocate(terms.months), start=1):
            poster.post(
                _K.INSTALLMENT_DUE,
                installment,
                device.id,
                SETTLEMENT,
                due_period=billing_period(poster.now, index),
            )
        return
    kind = _K.PAYOUT_MADE if method is SettlementMethod.BANK_TRANSFER else _K.VOUCHER_ISSUED
    poster.post(kind, amount, device.id, SETTLEMENT)


def billing_period(moment: datetime, months_after: int = 0) -> str:
    """The billing period (``YYYY-MM``) ``months_after`` calendar months after the one ``moment`` falls in."""
    index = moment.year * 12 + (moment.month - 1) + months_after
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_period(period: str) -> str:
    """Return ``period`` if it is a ``YYYY-MM`` billing period.

    Raises:
        ValueError: it is not.
    """
    year, _, month = period.partition("-")
    if not (len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()) or not (
        1 <= int(month) <= 12
    ):
        raise ValueError(period)
    return period


def settle_installment(
    installment: LedgerEntry, *, kind: EntryKind, now: datetime, cause: str, reason: str | None = None
) -> LedgerEntry:
    """The entry that settles one installment due: credited on the bill, or stopped (the terms owe less).

    Its id is derived from the installment's, so an installment is settled once, whoever posts it.
    """
    if kind not in {_K.INSTALLMENT_CREDITED, _K.INSTALLMENT_STOPPED}:
        raise ValueError(kind)
    return LedgerEntry(
        entry_id=SETTLES_PREFIX + installment.entry_id.removeprefix(ENTRY_PREFIX),
        order_id=installment.order_id,
        device_id=installment.device_id,
        kind=kind,
        amount=installment.amount if kind is _K.INSTALLMENT_CREDITED else -installment.amount,
        at=now,
        cause=cause,
        reason=reason or installment.due_period,
        due_period=installment.due_period,
        settles=installment.entry_id,
    )


# -- the terms of a checkout ------------------------------------------------------------------------------


def checkout_terms(summary: CheckoutSummary, policy: ClawbackPolicy) -> LedgerTerms:
    """The ledger terms of a confirmed checkout: what it promised per device and how it pays.

    The instant discount is allocated to the devices in quote order (each up to its credit); an instant
    voucher credits each device in full; the rest of each device's credit is open until it is settled, by
    the plan (a payout, a voucher, bill credits) or, for a discount, by the shop's remainder rule.
    """
    from tradein_sdk._domain.checkout import (  # noqa: PLC0415 - checkout imports the order model, as the ledger does
        CreditPlan,
        RemainderRule,
        upfront_credits,
    )

    request = summary.request
    currency = summary.currency
    upfront_of = upfront_credits(request, summary.trade_ins, summary.applied_now)
    devices = []
    for index, (trade_in, upfront) in enumerate(zip(summary.trade_ins, upfront_of, strict=True), start=1):
        devices.append(
            DeviceTerms(
                device_id=f"d{index}",
                quote_id=trade_in.quote_id,
                quoted=trade_in.quoted,
                promotions=tuple(
                    (promotion.promotion_id, promotion.boost) for promotion in trade_in.promotions
                ),
                upfront=upfront,
            )
        )
    method = {
        CreditPlan.PAYOUT: SettlementMethod.BANK_TRANSFER,
        CreditPlan.VOUCHER: SettlementMethod.VOUCHER,
        CreditPlan.BILL_CREDITS: SettlementMethod.BILL_CREDITS,
        CreditPlan.DISCOUNT: SettlementMethod.BANK_TRANSFER
        if request.remainder_rule is RemainderRule.PAYOUT
        else SettlementMethod.VOUCHER,
    }[request.plan]
    insurance = summary.insurance
    return LedgerTerms(
        source=summary.checkout_id,
        currency=currency,
        devices=tuple(devices),
        upfront_kind=_K.DISCOUNT_APPLIED if request.plan is CreditPlan.DISCOUNT else _K.VOUCHER_ISSUED,
        method=method,
        months=request.months,
        charge_promotions=policy.charge_promotions,
        clawback_tax_percent=policy.tax_rate_percent,
        premium=None if insurance is None else (insurance.list_price, insurance.term.value),
        bundle_discount=None if insurance is None else insurance.bundle_discount,
    )


def order_terms(order: TradeInOrder) -> LedgerTerms:
    """The ledger terms of an order accepted without a checkout: each quote, settled by the order's payout."""
    return LedgerTerms(
        source=order.id,
        currency=order.currency,
        devices=tuple(
            DeviceTerms(
                device_id=device.id,
                quote_id=device.quote_id,
                quoted=device.quoted,
                upfront=device.upfront_credit,
            )
            for device in order.devices
        ),
    )
