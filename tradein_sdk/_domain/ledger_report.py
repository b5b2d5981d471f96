"""The period report of a shop's ledger: what was promised, revised, paid, credited and clawed back.

Pure: :func:`build_report` turns the sums the store computes (:class:`~tradein_sdk._ports.LedgerSum`,
before the period and within it) and the promotions' budgets into a :class:`LedgerReport` whose totals tie
out per currency::

    open at start + promised + revised - paid - credited + clawed back == open at end

where *revised* nets every later change of the terms (revisions, promotions withdrawn or restored,
devices not bought or reinstated, installments stopped). Promotion spend is shown per promotion against
its budget, for the period and in all.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.ledger import GROUPS, PROMOTION_KINDS, EntryGroup, EntryKind
from tradein_sdk._domain.money import Money

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tradein_sdk._ports import LedgerSum

_PROMISES = frozenset({EntryKind.TRADE_IN_CREDIT, EntryKind.PROMOTION})
_TOTALS = (
    "open_at_start",
    "promised",
    "revised",
    "paid",
    "credited",
    "clawed_back",
    "open_at_end",
    "charges",
)


@attrs.frozen(kw_only=True)
class CurrencyTotals:
    """One currency's movements in the period and the open liability around it.

    Attributes:
        currency: the currency.
        open_at_start: what the terms owed and was not yet paid or credited when the period began.
        promised: trade-in credit and promotion shares promised at checkout in the period.
        revised: later changes of the terms (negative: owed less).
        paid: bank payouts.
        credited: discounts, vouchers and installments credited.
        clawed_back: clawbacks net of refunds.
        open_at_end: the open liability when the period ended.
        charges: protection premiums (net of bundle discounts) and clawback tax, beside the trade-in.
        entries: how many entries the period holds.
    """

    currency: str
    open_at_start: Money
    promised: Money
    revised: Money
    paid: Money
    credited: Money
    clawed_back: Money
    open_at_end: Money
    charges: Money
    entries: int

    @property
    def ties_out(self) -> bool:
        """Whether the opening balance and the movements give the closing balance."""
        moved = self.promised + self.revised - self.paid - self.credited + self.clawed_back
        return self.open_at_start + moved == self.open_at_end


@attrs.frozen(kw_only=True)
class PromotionSpend:
    """A promotion's spend.

    Attributes:
        promotion_id: the promotion.
        promised: shares promised in the period.
        withdrawn: shares withdrawn in the period, net of restorations (negative).
        spent_in_period: ``promised + withdrawn``.
        spent_in_all: what its budget holds up to the end of the period.
        budget: its budget, when it has one.
    """

    promotion_id: str
    promised: Money
    withdrawn: Money
    spent_in_period: Money
    spent_in_all: Money
    budget: Money | None

    @property
    def budget_left(self) -> Money | None:
        """What is left of the budget, when it has one."""
        return None if self.budget is None else self.budget - self.spent_in_all


@attrs.frozen(kw_only=True)
class LedgerReport:
    """A shop's ledger over a period ``[start, end)``.

    Attributes:
        start: the first day.
        end: the day after the last.
        totals: per currency, the movements and the open liability.
        kinds: per currency and kind, the period's sum and count.
        promotions: each promotion's spend.
    """

    start: date
    end: date
    totals: tuple[CurrencyTotals, ...]
    kinds: tuple[tuple[str, EntryKind, Money, int], ...]
    promotions: tuple[PromotionSpend, ...]

    @property
    def ties_out(self) -> bool:
        """Whether every currency's totals tie out."""
        return all(totals.ties_out for totals in self.totals)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "ties_out": self.ties_out,
            "totals": [
                {
                    "currency": item.currency,
                    **{name: getattr(item, name).to_json() for name in _TOTALS},
                    "entries": item.entries,
                }
                for item in self.totals
            ],
            "kinds": [
                {"currency": currency, "kind": kind.value, "amount": amount.to_json(), "count": count}
                for currency, kind, amount, count in self.kinds
            ],
            "promotions": [
                {
                    "promotion_id": item.promotion_id,
                    "promised": item.promised.to_json(),
                    "withdrawn": item.withdrawn.to_json(),
                    "spent_in_period": item.spent_in_period.to_json(),
                    "spent_in_all": item.spent_in_all.to_json(),
                    "budget": None if item.budget is None else item.budget.to_json(),
                    "budget_left": None if item.budget_left is None else item.budget_left.to_json(),
                }
                for item in self.promotions
            ],
        }

    def to_csv(self) -> str:
        """The report as CSV: ``section,currency,name,amount,count`` rows (amounts as plain decimals)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "currency", "name", "amount", "count"])
        for item in self.totals:
            for name in (
                "open_at_start",
                "promised",
                "revised",
                "paid",
                "credited",
                "clawed_back",
                "open_at_end",
            ):
                writer.writerow(["totals", item.currency, name, getattr(item, name).amount, ""])
            writer.writerow(["totals", item.currency, "entries", "", item.entries])
        for currency, kind, amount, count in self.kinds:
            writer.writerow(["kind", currency, kind.value, amount.amount, count])
        for spend in self.promotions:
            currency = spend.spent_in_all.currency
            writer.writerow(
                ["promotion", currency, f"{spend.promotion_id}:promised", spend.promised.amount, ""]
            )
            writer.writerow(
                ["promotion", currency, f"{spend.promotion_id}:withdrawn", spend.withdrawn.amount, ""]
            )
            writer.writerow(
                ["promotion", currency, f"{spend.promotion_id}:spent_in_all", spend.spent_in_all.amount, ""]
            )
            if spend.budget is not None:
                writer.writerow(
                    ["promotion", currency, f"{spend.promotion_id}:budget", spend.budget.amount, ""]
                )
        return out.getvalue()


def _open(sums: Iterable[LedgerSum], currency: str) -> Money:
    owed = paid = Money.zero(currency)
    for item in sums:
        if item.total.currency != currency:
            continue
        group = GROUPS[item.kind]
        if group is EntryGroup.TERMS:
            owed = owed + item.total
        elif group in {EntryGroup.PAID, EntryGroup.CREDITED}:
            paid = paid + item.total
        elif group is EntryGroup.CLAWED_BACK:
            paid = paid - item.total
    return owed - paid


def build_report(
    *,
    start: date,
    end: date,
    before: Sequence[LedgerSum],
    during: Sequence[LedgerSum],
    budgets: Mapping[str, Money | None],
) -> LedgerReport:
    """Build the period report from the sums before the period and within it.

    Args:
        start: the first day.
        end: the day after the last.
        before: the sums of every entry posted before ``start``.
        during: the sums of the entries posted in ``[start, end)``.
        budgets: each known promotion's budget (``None``: unlimited).

    Returns:
        The report.
    """
    currencies = sorted({item.total.currency for item in (*before, *during)})
    totals = []
    for currency in currencies:
        mine = [item for item in during if item.total.currency == currency]

        def total(test: Any, items: Sequence[LedgerSum] = mine, currency: str = currency) -> Money:  # noqa: ANN401
            return Money.total((item.total for item in items if test(item)), currency)

        terms = total(lambda item: GROUPS[item.kind] is EntryGroup.TERMS)
        promised = total(lambda item: item.kind in _PROMISES)
        opening = _open(before, currency)
        totals.append(
            CurrencyTotals(
                currency=currency,
                open_at_start=opening,
                promised=promised,
                revised=terms - promised,
                paid=total(lambda item: GROUPS[item.kind] is EntryGroup.PAID),
                credited=total(lambda item: GROUPS[item.kind] is EntryGroup.CREDITED),
                clawed_back=total(lambda item: GROUPS[item.kind] is EntryGroup.CLAWED_BACK),
                open_at_end=_open([*before, *during], currency),
                charges=total(lambda item: GROUPS[item.kind] is EntryGroup.CHARGES),
                entries=sum(item.count for item in mine),
            )
        )
    kinds: dict[tuple[str, EntryKind], tuple[Money, int]] = {}
    for item in during:
        key = (item.total.currency, item.kind)
        amount, count = kinds.get(key, (Money.zero(item.total.currency), 0))
        kinds[key] = (amount + item.total, count + item.count)
    spends = []
    promotion_ids = sorted(
        {item.reason for item in (*before, *during) if item.kind in PROMOTION_KINDS and item.reason}
        | set(budgets)
    )
    for promotion_id in promotion_ids:
        mine = [item for item in during if item.kind in PROMOTION_KINDS and item.reason == promotion_id]
        every = [
            item
            for item in (*before, *during)
            if item.kind in PROMOTION_KINDS and item.reason == promotion_id
        ]
        budget = budgets.get(promotion_id)
        known = [item.total.currency for item in every] + ([budget.currency] if budget is not None else [])
        if not known:
            continue
        currency = known[0]
        promised = Money.total((i.total for i in mine if i.kind is EntryKind.PROMOTION), currency)
        withdrawn = Money.total((i.total for i in mine if i.kind is not EntryKind.PROMOTION), currency)
        spends.append(
            PromotionSpend(
                promotion_id=promotion_id,
                promised=promised,
                withdrawn=withdrawn,
                spent_in_period=promised + withdrawn,
                spent_in_all=Money.total((i.total for i in every), currency),
                budget=budget,
            )
        )
    return LedgerReport(
        start=start,
        end=end,
        totals=tuple(totals),
        kinds=tuple(
            (currency, kind, amount, count) for (currency, kind), (amount, count) in sorted(kinds.items())
        ),
        promotions=tuple(spends),
    )
