"""Forward trade-in: a buy-back price guaranteed with the new device, and what the retailer owes for it.

A **plan** (``schemas/guarantee-plans.schema.json``, examples in ``tradein_sdk/data/guarantees/``) says what
the shop pays for a device it sold when the device comes back: by the device's age in whole months, a share
of the purchase price or a fixed amount per band (``12 months: 50 %``, ``24 months: 35 %``); the condition
it must meet at inspection (a minimum pricing grade, no lock, no knockout); the fallback credit when it does
not; when it may be exercised (a window in months since the purchase, an early start for a fee) and when it
expires; who may buy it; its fee; and the carrier variant (``upgrade``: the outstanding financed balance, up
to a share of the financed amount, against a new contract).

Sold at checkout, an offer becomes a **contract**: its amounts fixed in money per band, its floor, window
and terms version, signed (Ed25519, purpose ``buyback-guarantee``) so the customer verifies it offline.

**Exercise** decides once, on the day, from the inspection's grade and locks: the guaranteed amount when the
floor is met, the fallback otherwise, never below the day's market quote, less the early-exercise fee where
it applies; a contract exercised before, not yet exercisable or expired is refused with its code.

The **liability view** lists the outstanding contracts by month of expected exercise against the expected
market value of those devices (low, central and high residual-value curves), giving the expected cost and a
reserve per month. It serves the retailer's accounting of repurchase obligations (IFRS 15 B64–B76: a put
option priced below the original selling price is a lease or a sale with a right of return, judged at
inception); it does not do that accounting.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._i18n import N_, normalize_locale, translate
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.identifiers import spreadsheet_cell
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import DocumentInvalidError, DocumentProblem, GuaranteeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

CONTRACT_PURPOSE: Final = "buyback-guarantee"
"""The signature purpose of a guarantee contract."""
GRADES: Final = ("excellent", "good", "fair", "damaged", "faulty")
"""The pricing grades, best first (a floor of ``good`` accepts ``excellent`` and ``good``)."""
ACCOUNTING_NOTE: Final = (
    "Figures for the retailer's accounting of repurchase obligations (IFRS 15 B64-B76: a customer's put "
    "option "
    "priced below the original selling price is judged at inception as a lease or as a sale with a right of "
    "return; HGB: the consideration received for a fixed repurchase price is a liability until exercise or "
    "lapse). They are estimates from a residual-value model, not an accounting of them."
)
_CENT: Final = Decimal("0.01")
EXAMPLE_PLAN_NAMES: Final = (N_("Guaranteed buy-back"), N_("Upgrade after 12 months"))
"""The bundled example plans' names: msgids, so a summary line shows them in the shopper's language."""


class PlanKind(StrEnum):
    """How a plan's amount is set."""

    BUYBACK = "buyback"
    UPGRADE = "upgrade"


class ExerciseBasis(StrEnum):
    """What an exercise paid."""

    GUARANTEED = "guaranteed"
    FALLBACK = "fallback"
    MARKET = "market"
    """The day's market quote was higher than what the guarantee gives."""


# -- plans -----------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Band:
    """What a plan guarantees while the device's age in whole months is in ``[from_month, to_month)``."""

    from_month: int
    to_month: int
    percent: Decimal | None = None
    amount: Decimal | None = None

    def value(self, basis: Decimal) -> Decimal:
        """The band's amount for a price basis, to the cent (half up)."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None  # noqa: S101 - the schema requires one of the two
        return (basis * self.percent / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


@attrs.frozen(kw_only=True)
class GuaranteePlan:
    """One plan of a plan document (see the module docstring and the schema)."""

    id: str
    name: str
    terms_version: str
    kind: PlanKind
    schedule: tuple[Band, ...]
    minimum_grade: str
    no_locks: bool
    no_knockouts: bool
    fallback: Decimal
    window_from: int
    window_to: int
    early_from: int | None
    early_fee: Decimal | None
    categories: tuple[str, ...]
    min_price: Decimal | None
    max_price: Decimal | None
    channels: tuple[str, ...] | None
    customer_cases: tuple[str, ...] | None
    fee: Decimal | None
    upgrade_max_percent: Decimal | None
    requires_new_contract: bool

    def band_at(self, age_months: int) -> Band | None:
        """The band covering an age, or ``None``."""
        return next((band for band in self.schedule if band.from_month <= age_months < band.to_month), None)

    def eligible(self, *, category: str, price: Decimal, channel: str, customer_case: str) -> str | None:
        """Why a purchase cannot have this plan (``None``: it can)."""
        if category not in self.categories:
            return f"the plan covers {', '.join(self.categories)}, not a {category}"
        if self.min_price is not None and price < self.min_price:
            return f"the plan starts at a price of {self.min_price}"
        if self.max_price is not None and price > self.max_price:
            return f"the plan ends at a price of {self.max_price}"
        if self.channels is not None and channel not in self.channels:
            return f"the plan is sold {' or '.join(self.channels)}, not {channel}"
        if self.customer_cases is not None and customer_case not in self.customer_cases:
            return f"the plan is for {' and '.join(self.customer_cases)} customers"
        return None


@attrs.frozen(kw_only=True)
class GuaranteePlans:
    """A plan document: its id, version, currency and plans."""

    plans_id: str
    version: str
    currency: str
    plans: tuple[GuaranteePlan, ...]

    def plan(self, plan_id: str) -> GuaranteePlan:
        """The plan with that id.

        Raises:
            GuaranteeError: no such plan (``not_eligible``).
        """
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise GuaranteeError.not_eligible(plan_id, known=False)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def guarantee_plans_problems(document: object) -> list[DocumentProblem]:
    """Every problem of a plan document, each with its JSON path.

    Beyond the schema: a band ending before it starts, bands that overlap or leave a gap, a later band that
    guarantees more than an earlier one (the guaranteed amount never increases with age), a window outside the
    schedule, an early start after the window's start, an upgrade plan without its ``upgrade`` terms.
    """
    from grading_questionnaire._schemas import schema_problems  # noqa: PLC0415 - jsonschema loads with it

    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("guarantee-plans", document)
    ]
    if problems or not isinstance(document, dict):
        return problems
    for index, plan in enumerate(document["plans"]):
        where = f"$.plans[{index}]"
        bands = plan["schedule"]
        for number, band in enumerate(bands):
            if band["to_month"] <= band["from_month"]:
                problems.append(
                    DocumentProblem(path=f"{where}.schedule[{number}]", message="ends before it starts")
                )
            if number and band["from_month"] != bands[number - 1]["to_month"]:
                problems.append(
                    DocumentProblem(
                        path=f"{where}.schedule[{number}].from_month",
                        message="does not start where the band before it ends",
                    )
                )
            if number and _grows(bands[number - 1], band):
                problems.append(
                    DocumentProblem(
                        path=f"{where}.schedule[{number}]",
                        message="guarantees more than the band before it (never more with age)",
                    )
                )
        window = plan["window"]
        if not bands[0]["from_month"] <= window["from_month"] <= window["to_month"] < bands[-1]["to_month"]:
            problems.append(
                DocumentProblem(path=f"{where}.window", message="is not inside the schedule's bands")
            )
        early = window.get("early_from_month")
        if early is not None and (early > window["from_month"] or early < bands[0]["from_month"]):
            problems.append(
                DocumentProblem(path=f"{where}.window.early_from_month", message="is not before the window")
            )
        if plan["kind"] == "upgrade" and "upgrade" not in plan:
            problems.append(
                DocumentProblem(path=f"{where}.upgrade", message="an upgrade plan states its terms")
            )
    return problems


def _grows(before: Mapping[str, Any], band: Mapping[str, Any]) -> bool:
    """Whether a band guarantees more than the one before it (bands of the same kind compare)."""
    for kind in ("percent", "amount"):
        if kind in before and kind in band:
            return Decimal(band[kind]) > Decimal(before[kind])
    return False


def parse_guarantee_plans(document: object, *, origin: str = "<memory>") -> GuaranteePlans:
    """Validate a plan document and read it.

    Raises:
        DocumentInvalidError: the document has problems (kind ``guarantee-plans``; each with its JSON path).
    """
    problems = guarantee_plans_problems(document)
    if problems or not isinstance(document, dict):
        raise DocumentInvalidError(kind="guarantee-plans", source=origin, problems=problems)
    plans = []
    for plan in document["plans"]:
        window, floor, eligibility = plan["window"], plan["floor"], plan["eligibility"]
        upgrade = plan.get("upgrade") or {}
        plans.append(
            GuaranteePlan(
                id=plan["id"],
                name=plan["name"],
                terms_version=plan["terms_version"],
                kind=PlanKind(plan["kind"]),
                schedule=tuple(
                    Band(
                        from_month=band["from_month"],
                        to_month=band["to_month"],
                        percent=_decimal(band.get("percent")),
                        amount=_decimal(band.get("amount")),
                    )
                    for band in plan["schedule"]
                ),
                minimum_grade=floor["minimum_grade"],
                no_locks=floor.get("no_locks", True),
                no_knockouts=floor.get("no_knockouts", True),
                fallback=Decimal(plan["fallback"]["amount"]),
                window_from=window["from_month"],
                window_to=window["to_month"],
                early_from=window.get("early_from_month"),
                early_fee=_decimal(window.get("early_fee")),
                categories=tuple(eligibility["categories"]),
                min_price=_decimal(eligibility.get("min_price")),
                max_price=_decimal(eligibility.get("max_price")),
                channels=tuple(eligibility["channels"]) if "channels" in eligibility else None,
                customer_cases=tuple(eligibility["customer_cases"])
                if "customer_cases" in eligibility
                else None,
                fee=_decimal(plan.get("fee")),
                upgrade_max_percent=_decimal(upgrade.get("max_percent")),
                requires_new_contract=bool(upgrade.get("requires_new_contract", False)),
            )
        )
    return GuaranteePlans(
        plans_id=document["plans_id"],
        version=document["version"],
        currency=document["currency"],
        plans=tuple(plans),
    )


def example_guarantee_plans() -> GuaranteePlans:
    """The bundled example plans (``tradein_sdk/data/guarantees/example-plans.json``)."""
    import json  # noqa: PLC0415

    from tradein_sdk._resources import DATA_DIR  # noqa: PLC0415

    path = DATA_DIR / "guarantees" / "example-plans.json"
    return parse_guarantee_plans(json.loads(path.read_text(encoding="utf-8")), origin=str(path))


# -- dates -----------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter: 31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_in_months(purchased_on: dt.date, on: dt.date) -> int:
    """Whole months from the purchase to ``on`` (0 before the first month is full)."""
    months = (on.year - purchased_on.year) * 12 + on.month - purchased_on.month
    if add_months(purchased_on, months) > on:
        months -= 1
    return max(months, 0)


# -- offers and contracts ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ScheduleLine:
    """One band of a contract in money: the amount guaranteed from ``starts_on`` until before ``ends_on``."""

    from_month: int
    to_month: int
    starts_on: dt.date
    ends_on: dt.date
    amount: Money
    explanation: str

    def describe(self, locale: str) -> str:
        """The line in the customer's language: the months, their days and the amount."""
        locale = normalize_locale(locale)
        last = self.ends_on - dt.timedelta(days=1)
        return translate(
            N_("Months {start} to {end} ({first} to {last}): {amount}"),
            locale,
            start=str(self.from_month),
            end=str(self.to_month - 1),
            first=long_date(self.starts_on, locale, width="medium"),
            last=long_date(last, locale, width="medium"),
            amount=self.amount.format(locale),
        )

    def to_json(self) -> dict[str, Any]:
        """The line's JSON form."""
        return {
            "from_month": self.from_month,
            "to_month": self.to_month,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "amount": self.amount.to_json(),
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleLine:
        """Read the JSON form back."""
        return cls(
            from_month=int(data["from_month"]),
            to_month=int(data["to_month"]),
            starts_on=dt.date.fromisoformat(data["starts_on"]),
            ends_on=dt.date.fromisoformat(data["ends_on"]),
            amount=Money.from_json(data["amount"]),
            explanation=data["explanation"],
        )


@attrs.frozen(kw_only=True)
class GuaranteeOffer:
    """A plan offered for a device being bought, explained line by line (what ``sell`` turns into a contract).

    Attributes:
        plan_id: the plan.
        name: the plan's name.
        terms_version: the terms the customer accepts.
        kind: buyback or upgrade.
        price: the device's purchase price (the basis of percentages).
        financed_amount: the financed amount (upgrade plans), else ``None``.
        fee: what the plan costs (zero when free).
        schedule: the guaranteed amount per band, with its dates.
        fallback: the credit when the floor is missed.
        minimum_grade: the floor's grade.
        exercisable_from: the first day of the exercise window.
        early_from: the first day of early exercise (for ``early_fee``), else ``None``.
        early_fee: the early-exercise fee, else ``None``.
        expires_on: the last day the guarantee may be exercised.
    """

    plan_id: str
    name: str
    terms_version: str
    kind: PlanKind
    price: Money
    financed_amount: Money | None
    fee: Money
    schedule: tuple[ScheduleLine, ...]
    fallback: Money
    minimum_grade: str
    exercisable_from: dt.date
    early_from: dt.date | None
    early_fee: Money | None
    expires_on: dt.date
    upgrade_max_percent: Decimal | None = None
    requires_new_contract: bool = False
    no_locks: bool = True
    no_knockouts: bool = True

    def title(self, locale: str) -> str:
        """The plan's name in the customer's language (a name the catalogs do not know stays as written)."""
        return translate(self.name, normalize_locale(locale))


def guarantee_offers(
    plans: GuaranteePlans,
    *,
    category: str,
    price: Money,
    purchased_on: dt.date,
    channel: str = "online",
    customer_case: str = "consumer",
    financed_amount: Money | None = None,
) -> tuple[GuaranteeOffer, ...]:
    """The plans a device being bought may have, each with its schedule in money and dates.

    An upgrade plan is offered only with a financed amount (its guarantee is a share of it).

    Raises:
        GuaranteeError: the price is in another currency than the plans (``currency``).
    """
    if price.currency != plans.currency:
        raise GuaranteeError.currency(plans.currency, price.currency)
    offers = []
    for plan in plans.plans:
        if plan.eligible(category=category, price=price.amount, channel=channel, customer_case=customer_case):
            continue
        if plan.kind is PlanKind.UPGRADE and financed_amount is None:
            continue
        offers.append(_offer(plan, price=price, purchased_on=purchased_on, financed_amount=financed_amount))
    return tuple(offers)


def _offer(
    plan: GuaranteePlan, *, price: Money, purchased_on: dt.date, financed_amount: Money | None
) -> GuaranteeOffer:
    currency = price.currency
    basis = financed_amount.amount if plan.kind is PlanKind.UPGRADE and financed_amount else price.amount
    lines = []
    for band in plan.schedule:
        amount = band.value(basis)
        if band.percent is not None:
            what = "the financed amount" if plan.kind is PlanKind.UPGRADE else "the purchase price"
            explanation = (
                f"{band.from_month}-{band.to_month - 1} months: {band.percent} % of {what} {basis} = {amount}"
            )
        else:
            explanation = f"{band.from_month}-{band.to_month - 1} months: {amount}"
        if plan.kind is PlanKind.UPGRADE:
            explanation += " at most: the balance still owed then"
        lines.append(
            ScheduleLine(
                from_month=band.from_month,
                to_month=band.to_month,
                starts_on=add_months(purchased_on, band.from_month),
                ends_on=add_months(purchased_on, band.to_month),
                amount=Money(amount, currency),
                explanation=explanation,
            )
        )
    return GuaranteeOffer(
        plan_id=plan.id,
        name=plan.name,
        terms_version=plan.terms_version,
        kind=plan.kind,
        price=price,
        financed_amount=financed_amount if plan.kind is PlanKind.UPGRADE else None,
        fee=Money(plan.fee or Decimal(0), currency),
        schedule=tuple(lines),
        fallback=Money(plan.fallback, currency),
        minimum_grade=plan.minimum_grade,
        exercisable_from=add_months(purchased_on, plan.window_from),
        early_from=add_months(purchased_on, plan.early_from) if plan.early_from is not None else None,
        early_fee=Money(plan.early_fee, currency) if plan.early_fee is not None else None,
        expires_on=add_months(purchased_on, plan.window_to + 1) - dt.timedelta(days=1),
        upgrade_max_percent=plan.upgrade_max_percent,
        requires_new_contract=plan.requires_new_contract,
        no_locks=plan.no_locks,
        no_knockouts=plan.no_knockouts,
    )


@attrs.frozen(kw_only=True)
class GuaranteeContract:
    """A guarantee sold with a device: what the customer holds, signed (see :func:`contract_document`).

    Attributes:
        id: the contract's id (``gtc_...``).
        offer: the offer accepted (plan, schedule, floor, window, terms).
        device: the variant id of the device sold.
        imei: its IMEI, when known at the sale.
        purchased_on: the day of the purchase (the ages count from it).
        sold_at: when the contract was made (UTC).
    """

    id: str
    offer: GuaranteeOffer
    device: str
    imei: str | None
    purchased_on: dt.date
    sold_at: dt.datetime

    def guaranteed_on(self, on: dt.date) -> Money:
        """The amount the schedule guarantees on a day (zero outside every band)."""
        for line in self.offer.schedule:
            if line.starts_on <= on < line.ends_on:
                return line.amount
        return Money(Decimal(0), self.offer.price.currency)

    @property
    def currency(self) -> str:
        """The contract's currency."""
        return self.offer.price.currency


def contract_document(contract: GuaranteeContract) -> dict[str, Any]:
    """The contract's JSON document, the payload its signature covers."""
    offer = contract.offer
    return {
        "type": "buyback-guarantee",
        "id": contract.id,
        "device": contract.device,
        "imei": contract.imei,
        "purchased_on": contract.purchased_on.isoformat(),
        "sold_at": contract.sold_at.isoformat(),
        "plan": {
            "id": offer.plan_id,
            "name": offer.name,
            "kind": offer.kind.value,
            "terms_version": offer.terms_version,
        },
        "price": offer.price.to_json(),
        "financed_amount": offer.financed_amount.to_json() if offer.financed_amount else None,
        "fee": offer.fee.to_json(),
        "schedule": [line.to_json() for line in offer.schedule],
        "floor": {
            "minimum_grade": offer.minimum_grade,
            "no_locks": offer.no_locks,
            "no_knockouts": offer.no_knockouts,
        },
        "fallback": offer.fallback.to_json(),
        "window": {
            "exercisable_from": offer.exercisable_from.isoformat(),
            "early_from": offer.early_from.isoformat() if offer.early_from else None,
            "early_fee": offer.early_fee.to_json() if offer.early_fee else None,
            "expires_on": offer.expires_on.isoformat(),
        },
        "upgrade": (
            {
                "max_percent": str(offer.upgrade_max_percent),
                "requires_new_contract": offer.requires_new_contract,
            }
            if offer.kind is PlanKind.UPGRADE
            else None
        ),
    }


def contract_from_document(document: Mapping[str, Any]) -> GuaranteeContract:
    """Read a contract back from its document (a verified envelope's payload)."""
    plan, window, floor = document["plan"], document["window"], document["floor"]
    upgrade = document.get("upgrade") or {}
    offer = GuaranteeOffer(
        plan_id=plan["id"],
        name=plan["name"],
        terms_version=plan["terms_version"],
        kind=PlanKind(plan["kind"]),
        price=Money.from_json(document["price"]),
        financed_amount=Money.from_json(document["financed_amount"])
        if document.get("financed_amount")
        else None,
        fee=Money.from_json(document["fee"]),
        schedule=tuple(ScheduleLine.from_json(line) for line in document["schedule"]),
        fallback=Money.from_json(document["fallback"]),
        minimum_grade=floor["minimum_grade"],
        exercisable_from=dt.date.fromisoformat(window["exercisable_from"]),
        early_from=dt.date.fromisoformat(window["early_from"]) if window.get("early_from") else None,
        early_fee=Money.from_json(window["early_fee"]) if window.get("early_fee") else None,
        expires_on=dt.date.fromisoformat(window["expires_on"]),
        upgrade_max_percent=Decimal(upgrade["max_percent"]) if upgrade else None,
        requires_new_contract=bool(upgrade.get("requires_new_contract", False)),
        no_locks=bool(floor["no_locks"]),
        no_knockouts=bool(floor["no_knockouts"]),
    )
    return GuaranteeContract(
        id=document["id"],
        offer=offer,
        device=document["device"],
        imei=document.get("imei"),
        purchased_on=dt.date.fromisoformat(document["purchased_on"]),
        sold_at=dt.datetime.fromisoformat(document["sold_at"]),
    )


def sell(
    offer: GuaranteeOffer,
    *,
    contract_id: str,
    device: str,
    imei: str | None,
    purchased_on: dt.date,
    sold_at: dt.datetime,
) -> GuaranteeContract:
    """The contract of an accepted offer."""
    return GuaranteeContract(
        id=contract_id, offer=offer, device=device, imei=imei, purchased_on=purchased_on, sold_at=sold_at
    )


@attrs.frozen(kw_only=True)
class GuaranteeConsent:
    """The customer's decision on the buy-back guarantees shown at checkout, as the shop records it.

    Attributes:
        decision: ``accepted`` or ``declined``.
        plan_id: the plan accepted, or the first one shown when all were declined.
        terms_version: that plan's terms version.
        offered: every plan shown.
        contract_id: the contract made, when accepted.
        customer_ref: the shop's pseudonymous customer id.
        locale: the locale the offer was shown in.
        at: when (UTC).
    """

    decision: str
    plan_id: str
    terms_version: str
    offered: tuple[str, ...]
    contract_id: str | None
    customer_ref: str
    locale: str
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The decision as JSON."""
        return {
            "decision": self.decision,
            "plan_id": self.plan_id,
            "terms_version": self.terms_version,
            "offered": list(self.offered),
            "contract_id": self.contract_id,
            "customer_ref": self.customer_ref,
            "locale": self.locale,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuaranteeConsent:
        """Read the JSON form :meth:`to_json` writes."""
        return cls(
            decision=data["decision"],
            plan_id=data["plan_id"],
            terms_version=data["terms_version"],
            offered=tuple(data["offered"]),
            contract_id=data["contract_id"],
            customer_ref=data["customer_ref"],
            locale=data["locale"],
            at=dt.datetime.fromisoformat(data["at"]),
        )


def highest_guaranteed(offer: GuaranteeOffer) -> Money:
    """The most a contract of ``offer`` may pay (its contingent liability at the sale)."""
    return max((line.amount for line in offer.schedule), default=offer.fallback)


# -- exercise -----------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GuaranteeExercise:
    """What exercising a guarantee pays, and why.

    Attributes:
        contract_id: the contract.
        on: the day.
        amount: what is paid (never below ``market``).
        basis: guaranteed, fallback or market.
        guaranteed: what the guarantee gave before the market comparison (after any early fee).
        market: the day's market quote for the device as inspected.
        early_fee: the early-exercise fee taken, else zero.
        floor_met: whether the device met the floor.
        reasons: why the floor was missed (empty when met).
    """

    contract_id: str
    on: dt.date
    amount: Money
    basis: ExerciseBasis
    guaranteed: Money
    market: Money
    early_fee: Money
    floor_met: bool
    reasons: tuple[str, ...] = ()


def floor_reasons(offer: GuaranteeOffer, *, grade: str | None, locked: bool) -> tuple[str, ...]:
    """Why a device misses a guarantee's floor (empty: it meets it).

    Args:
        offer: the guarantee's terms.
        grade: the pricing grade at inspection, ``None`` when a knockout applies.
        locked: an account lock (Activation Lock, a Google or Samsung account) is on.

    Raises:
        GuaranteeError: ``grade`` is not one of :data:`GRADES` (rule ``grade``).
    """
    if grade is not None and grade not in GRADES:
        raise GuaranteeError.unknown_grade(grade, GRADES)
    reasons = []
    if grade is None:
        if offer.no_knockouts:
            reasons.append("knockout")
    elif GRADES.index(grade) > GRADES.index(offer.minimum_grade):
        reasons.append(f"grade {grade} is below {offer.minimum_grade}")
    if locked and offer.no_locks:
        reasons.append("locked")
    return tuple(reasons)


def exercise(
    contract: GuaranteeContract,
    *,
    on: dt.date,
    grade: str | None,
    locked: bool,
    market: Money,
    exercised_before: bool = False,
    outstanding_balance: Money | None = None,
    new_contract: bool = False,
) -> GuaranteeExercise:
    """Decide what a guarantee pays on a day, from the inspection.

    Args:
        contract: the contract.
        on: the day of the exercise.
        grade: the pricing grade the inspection found (``None``: a knockout applies).
        locked: the inspection found an account lock on.
        market: the day's market quote for the device as inspected (what a trade-in without guarantee pays).
        exercised_before: the contract was exercised already.
        outstanding_balance: what the customer still owes on the financed device (upgrade plans).
        new_contract: the customer signs the new contract an upgrade plan asks for.

    Raises:
        GuaranteeError: ``already_exercised``, ``not_yet_exercisable`` (before the window or early start),
            ``expired`` (after its last day), ``new_contract_required``, or ``currency``.
    """
    offer = contract.offer
    currency = contract.currency
    if market.currency != currency:
        raise GuaranteeError.currency(currency, market.currency)
    if exercised_before:
        raise GuaranteeError.already_exercised(contract.id)
    if on > offer.expires_on:
        raise GuaranteeError.expired(contract.id, offer.expires_on.isoformat())
    early = on < offer.exercisable_from
    if early and (offer.early_from is None or on < offer.early_from):
        starts = offer.early_from or offer.exercisable_from
        raise GuaranteeError.not_yet_exercisable(contract.id, starts.isoformat())
    if offer.kind is PlanKind.UPGRADE and offer.requires_new_contract and not new_contract:
        raise GuaranteeError.new_contract_required(contract.id)
    reasons = floor_reasons(offer, grade=grade, locked=locked)
    if offer.kind is PlanKind.UPGRADE:
        balance = outstanding_balance.amount if outstanding_balance is not None else Decimal(0)
        full = min(balance, contract.guaranteed_on(on).amount)
        fallback = min(balance, offer.fallback.amount)
    else:
        full = contract.guaranteed_on(on).amount
        fallback = offer.fallback.amount
    chosen = fallback if reasons else full
    fee = offer.early_fee.amount if early and offer.early_fee is not None else Decimal(0)
    guaranteed = max(chosen - fee, Decimal(0))
    if market.amount > guaranteed:
        amount, basis = market.amount, ExerciseBasis.MARKET
    else:
        amount, basis = guaranteed, ExerciseBasis.FALLBACK if reasons else ExerciseBasis.GUARANTEED
    return GuaranteeExercise(
        contract_id=contract.id,
        on=on,
        amount=Money(amount, currency),
        basis=basis,
        guaranteed=Money(guaranteed, currency),
        market=market,
        early_fee=Money(fee, currency),
        floor_met=not reasons,
        reasons=reasons,
    )


def as_declared(
    contract: GuaranteeContract,
    *,
    on: dt.date,
    grade: str | None,
    quoted: Money,
    outstanding_balance: Money | None = None,
    new_contract: bool = False,
) -> GuaranteeExercise:
    """The exercise for a device as its owner declares it (its quote's grade and amount, no lock found)."""
    return exercise(
        contract,
        on=on,
        grade=grade,
        locked=False,
        market=quoted,
        outstanding_balance=outstanding_balance,
        new_contract=new_contract,
    )


def promised_and_found(
    contract: GuaranteeContract,
    *,
    on: dt.date,
    declared: tuple[str | None, Money],
    found: tuple[str | None, bool, Money],
    outstanding_balance: Money | None = None,
    new_contract: bool = False,
) -> tuple[Money, Money]:
    """What a trade-in order exercising a guarantee promises, and what it offers after the inspection.

    The promise is the exercise for the device as declared (its quote's grade and amount, no lock); the offer
    is the exercise for the device as found (the inspection's grade, lock and value), never above the
    promise, as every inspection's offer is never above its quote. The offer is never below what the same
    trade-in without a guarantee would pay (``min(quote, inspected value)``).

    Args:
        contract: the contract.
        on: the day the order opened (the window and the band are judged on it).
        declared: ``(pricing grade, market quote)`` of the device as declared.
        found: ``(pricing grade, locked, inspected value)`` of the device as found.
        outstanding_balance: what is still owed on the financed device (upgrade plans).
        new_contract: the customer signs the new contract an upgrade plan asks for.

    Raises:
        GuaranteeError: as :func:`exercise`.
    """
    grade, quoted = declared
    promised = as_declared(
        contract,
        on=on,
        grade=grade,
        quoted=quoted,
        outstanding_balance=outstanding_balance,
        new_contract=new_contract,
    ).amount
    grade, locked, value = found
    paid = exercise(
        contract,
        on=on,
        grade=grade,
        locked=locked,
        market=value,
        outstanding_balance=outstanding_balance,
        new_contract=new_contract,
    ).amount
    return promised, min(promised, paid)


# -- the retailer's liability ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ResidualCurve:
    """The expected market value of a device as a share of its purchase price, by age in months.

    ``share(m) = max(minimum, at_launch × retention^m)``, with a low, central and high monthly retention. The
    central defaults follow the bundled reference price book's smartphone curve (0.62 at launch, 0.982 a
    month, at least 0.04); the low and high ones bracket the published depreciation figures (B3 of the
    reference on guarantees:
    iPhones lose about 14-25 % of their trade-in value in a year, Android flagships 32-45 %).
    """

    at_launch: Decimal = Decimal("0.62")
    low: Decimal = Decimal("0.965")
    central: Decimal = Decimal("0.982")
    high: Decimal = Decimal("0.992")
    minimum: Decimal = Decimal("0.04")

    def share(self, months: int, scenario: str) -> Decimal:
        """The share of the purchase price a device of that age fetches, in a scenario (low/central/high)."""
        return _share(self, months, scenario)


@functools.lru_cache(maxsize=4096)
def _share(curve: ResidualCurve, months: int, scenario: str) -> Decimal:
    """A curve's share, computed once per age and scenario (a view over a million contracts asks often)."""
    retention = {"low": curve.low, "central": curve.central, "high": curve.high}[scenario]
    return max(curve.minimum, curve.at_launch * retention**months)


@attrs.frozen(kw_only=True)
class LiabilityMonth:
    """The outstanding guarantees expected to be exercised in one month.

    Attributes:
        month: ``YYYY-MM``.
        contracts: how many.
        guaranteed: what they guarantee then.
        market: their expected market value then, (low, central, high).
        cost: the expected cost over market, (at a low market, central, at a high market); never negative.
        reserve: the month's reserve (the expected cost at the central market value).
    """

    month: str
    contracts: int
    guaranteed: Money
    market: tuple[Money, Money, Money]
    cost: tuple[Money, Money, Money]

    @property
    def reserve(self) -> Money:
        """The month's reserve: the expected cost at the central market value."""
        return self.cost[1]

    def to_json(self) -> dict[str, Any]:
        """The month's JSON form."""
        return {
            "month": self.month,
            "contracts": self.contracts,
            "guaranteed": self.guaranteed.to_json(),
            "market": {
                "low": self.market[0].to_json(),
                "central": self.market[1].to_json(),
                "high": self.market[2].to_json(),
            },
            "cost": {
                "low_market": self.cost[0].to_json(),
                "central": self.cost[1].to_json(),
                "high_market": self.cost[2].to_json(),
            },
            "reserve": self.reserve.to_json(),
        }


@attrs.frozen(kw_only=True)
class Liability:
    """The retailer's view of its outstanding guarantees (see the module docstring).

    Attributes:
        as_of: the day it is computed for.
        currency: the currency.
        months: one row per month of expected exercise, in order.
        accounting: what the figures serve (:data:`ACCOUNTING_NOTE`).
    """

    as_of: dt.date
    currency: str
    months: tuple[LiabilityMonth, ...]
    accounting: str = ACCOUNTING_NOTE

    @property
    def totals(self) -> LiabilityMonth:
        """The sums over the months (``month`` reads ``total``)."""
        return _sum_months("total", self.months, self.currency)

    def to_json(self) -> dict[str, Any]:
        """The view's JSON form."""
        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "months": [month.to_json() for month in self.months],
            "totals": self.totals.to_json(),
            "accounting": self.accounting,
        }

    def to_csv(self) -> str:
        """One CSV row per month (and a total row)."""
        import csv  # noqa: PLC0415
        import io  # noqa: PLC0415

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            [
                "month",
                "contracts",
                "guaranteed",
                "market_low",
                "market_central",
                "market_high",
                "cost_low_market",
                "cost_central",
                "cost_high_market",
                "reserve",
                "currency",
            ]
        )
        for row in (*self.months, self.totals):
            writer.writerow(
                [
                    row.month,
                    row.contracts,
                    row.guaranteed.amount,
                    *(m.amount for m in row.market),
                    *(c.amount for c in row.cost),
                    row.reserve.amount,
                    self.currency,
                ]
            )
        return buffer.getvalue()


def _sum_months(label: str, rows: Iterable[LiabilityMonth], currency: str) -> LiabilityMonth:
    rows = list(rows)

    def total(pick: Any) -> Money:  # noqa: ANN401 - a getter of one Money per row
        return Money(sum((pick(row).amount for row in rows), Decimal(0)), currency)

    return LiabilityMonth(
        month=label,
        contracts=sum(row.contracts for row in rows),
        guaranteed=total(lambda row: row.guaranteed),
        market=(
            total(lambda row: row.market[0]),
            total(lambda row: row.market[1]),
            total(lambda row: row.market[2]),
        ),
        cost=(total(lambda row: row.cost[0]), total(lambda row: row.cost[1]), total(lambda row: row.cost[2])),
    )


@attrs.frozen(kw_only=True)
class OutstandingGuarantee:
    """What the liability view needs of one contract (read in bulk, without its envelope).

    Attributes:
        purchased_on: the day the device was bought.
        exercisable_from: the first day of the exercise window.
        expires_on: the last day.
        price: the purchase price (the residual-value basis).
        kind: buyback or upgrade.
        schedule: ``(starts_on, ends_on, amount)`` per band.
    """

    purchased_on: dt.date
    exercisable_from: dt.date
    expires_on: dt.date
    price: Money
    kind: PlanKind
    schedule: tuple[tuple[dt.date, dt.date, Decimal], ...]

    @classmethod
    def of(cls, contract: GuaranteeContract) -> OutstandingGuarantee:
        """The liability view's part of a contract."""
        offer = contract.offer
        return cls(
            purchased_on=contract.purchased_on,
            exercisable_from=offer.exercisable_from,
            expires_on=offer.expires_on,
            price=offer.price,
            kind=offer.kind,
            schedule=tuple((line.starts_on, line.ends_on, line.amount.amount) for line in offer.schedule),
        )

    def guaranteed_on(self, on: dt.date) -> Decimal:
        """The band amount on a day (zero outside every band)."""
        return next((amount for starts, ends, amount in self.schedule if starts <= on < ends), Decimal(0))


def contract_liability(
    contract: GuaranteeContract | OutstandingGuarantee, *, as_of: dt.date, curve: ResidualCurve
) -> LiabilityMonth:
    """One outstanding contract's row: what it guarantees at its expected exercise, against the market.

    An upgrade plan's guarantee counts at its cap (the balance then owed is not known yet).
    """
    held = OutstandingGuarantee.of(contract) if isinstance(contract, GuaranteeContract) else contract
    day = max(held.exercisable_from, as_of)
    age = age_in_months(held.purchased_on, day)
    currency = held.price.currency
    guaranteed = held.guaranteed_on(day)
    markets = [
        (held.price.amount * curve.share(age, scenario)).quantize(_CENT, rounding=ROUND_HALF_UP)
        for scenario in ("low", "central", "high")
    ]
    costs = [Money(max(guaranteed - market, Decimal(0)), currency) for market in markets]
    return LiabilityMonth(
        month=f"{day.year:04d}-{day.month:02d}",
        contracts=1,
        guaranteed=Money(guaranteed, currency),
        market=(Money(markets[0], currency), Money(markets[1], currency), Money(markets[2], currency)),
        cost=(costs[0], costs[1], costs[2]),
    )


def liability_view(
    contracts: Iterable[GuaranteeContract | OutstandingGuarantee],
    *,
    as_of: dt.date,
    currency: str,
    curve: ResidualCurve | None = None,
) -> Liability:
    """The outstanding guarantees by month of expected exercise, with the expected cost and reserve per month.

    Args:
        contracts: the contracts not exercised (expired ones are left out here).
        as_of: the day of the view.
        currency: the currency of the contracts (another one is refused).
        curve: the residual-value model (default :class:`ResidualCurve`).

    Raises:
        GuaranteeError: a contract in another currency (``currency``).
    """
    curve = curve or ResidualCurve()
    sums: dict[str, list[Decimal]] = {}  # month -> [contracts, guaranteed, 3 markets, 3 costs], running
    for contract in contracts:
        held = OutstandingGuarantee.of(contract) if isinstance(contract, GuaranteeContract) else contract
        if held.price.currency != currency:
            raise GuaranteeError.currency(currency, held.price.currency)
        if held.expires_on < as_of:
            continue
        row = contract_liability(held, as_of=as_of, curve=curve)
        total = sums.setdefault(row.month, [Decimal(0)] * 8)
        values = (
            Decimal(1),
            row.guaranteed.amount,
            *(market.amount for market in row.market),
            *(cost.amount for cost in row.cost),
        )
        for index, value in enumerate(values):
            total[index] += value

    def month_of(month: str, total: list[Decimal]) -> LiabilityMonth:
        money = [Money(value, currency) for value in total]
        return LiabilityMonth(
            month=month,
            contracts=int(total[0]),
            guaranteed=money[1],
            market=(money[2], money[3], money[4]),
            cost=(money[5], money[6], money[7]),
        )

    return Liability(
        as_of=as_of,
        currency=currency,
        months=tuple(month_of(month, total) for month, total in sorted(sums.items())),
    )


# -- the buyer's calendar of guaranteed inflows -----------------------------------------------------------


class InflowStatus(StrEnum):
    """Where a contract of the buyer's calendar stands."""

    OPEN = "open"
    """Not yet exercised; the inflow is expected."""
    IN_PROGRESS = "in_progress"
    """A trade-in order is exercising it (the device is on its way or being inspected)."""
    EXERCISED = "exercised"
    """Exercised: the inflow is the amount paid."""
    LAPSED = "lapsed"
    """Expired without being exercised."""


@attrs.frozen(kw_only=True)
class InflowLine:
    """One device of the buyer's calendar.

    Attributes:
        contract_id: the contract.
        device: the catalog variant bought.
        imei: its IMEI, when the contract names it.
        cost_centre: the buyer's cost centre, when given at the sale.
        plan_id: the plan.
        kind: buyback or upgrade (an upgrade pays at most the balance still owed then).
        purchased_on: the day of the purchase.
        exercisable_from: the first day of the window: the day the inflow is planned for.
        expires_on: the last day.
        expected: the amount guaranteed on ``exercisable_from`` (a device meeting the floor).
        bands: ``(starts_on, ends_on, amount)`` of every band: what returning it later brings.
        status: where it stands.
        received: the amount paid when exercised, else ``None``.
        received_on: the day it was exercised, else ``None``.
        order_id: the trade-in order exercising it (in progress) or that exercised it, else ``None``.
    """

    contract_id: str
    device: str
    imei: str | None
    cost_centre: str | None
    plan_id: str
    kind: PlanKind
    purchased_on: dt.date
    exercisable_from: dt.date
    expires_on: dt.date
    expected: Money
    bands: tuple[tuple[dt.date, dt.date, Money], ...]
    status: InflowStatus
    received: Money | None = None
    received_on: dt.date | None = None
    order_id: str | None = None

    @property
    def month(self) -> str:
        """The month of the inflow (``YYYY-MM``): when it was received, else when the window opens."""
        day = self.received_on or self.exercisable_from
        return f"{day.year:04d}-{day.month:02d}"

    def to_json(self) -> dict[str, Any]:
        """The line as JSON."""
        return {
            "contract_id": self.contract_id,
            "device": self.device,
            "imei": self.imei,
            "cost_centre": self.cost_centre,
            "plan_id": self.plan_id,
            "kind": self.kind.value,
            "purchased_on": self.purchased_on.isoformat(),
            "exercisable_from": self.exercisable_from.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "month": self.month,
            "expected": self.expected.to_json(),
            "bands": [
                {"starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "amount": amount.to_json()}
                for starts, ends, amount in self.bands
            ],
            "status": self.status.value,
            "received": self.received.to_json() if self.received is not None else None,
            "received_on": self.received_on.isoformat() if self.received_on is not None else None,
            "order_id": self.order_id,
        }


@attrs.frozen(kw_only=True)
class InflowTotal:
    """The inflows of one month and cost centre.

    Attributes:
        month: ``YYYY-MM``.
        cost_centre: the cost centre (``None``: none given).
        devices: how many devices.
        expected: the amounts still expected (open and in progress).
        received: the amounts received (exercised).
    """

    month: str
    cost_centre: str | None
    devices: int
    expected: Money
    received: Money


@attrs.frozen(kw_only=True)
class InflowCalendar:
    """A buyer's calendar of guaranteed inflows: per device, and per month and cost centre.

    Attributes:
        customer_ref: the buyer (a company's id, or the shop's customer id).
        as_of: the day it was made.
        currency: the currency of every amount.
        lines: one per contract, by month then cost centre.
    """

    customer_ref: str
    as_of: dt.date
    currency: str
    lines: tuple[InflowLine, ...]

    @property
    def totals(self) -> tuple[InflowTotal, ...]:
        """The sums per month and cost centre, lapsed contracts left out."""
        groups: dict[tuple[str, str], list[InflowLine]] = {}
        for line in self.lines:
            if line.status is not InflowStatus.LAPSED:
                groups.setdefault((line.month, line.cost_centre or ""), []).append(line)
        zero = Money(Decimal(0), self.currency)
        totals = []
        for (month, centre), lines in sorted(groups.items()):
            expected = [line.expected for line in lines if line.status is not InflowStatus.EXERCISED]
            received = [line.received for line in lines if line.received is not None]
            totals.append(
                InflowTotal(
                    month=month,
                    cost_centre=centre or None,
                    devices=len(lines),
                    expected=sum(expected, zero),
                    received=sum(received, zero),
                )
            )
        return tuple(totals)

    def to_json(self) -> dict[str, Any]:
        """The calendar as JSON."""
        return {
            "customer_ref": self.customer_ref,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "lines": [line.to_json() for line in self.lines],
            "totals": [
                {
                    "month": total.month,
                    "cost_centre": total.cost_centre,
                    "devices": total.devices,
                    "expected": total.expected.to_json(),
                    "received": total.received.to_json(),
                }
                for total in self.totals
            ],
        }

    def to_csv(self) -> str:
        """One CSV row per device, by month (a spreadsheet sums by cost centre)."""
        import csv  # noqa: PLC0415
        import io  # noqa: PLC0415

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            [
                "month",
                "cost_centre",
                "contract_id",
                "device",
                "imei",
                "plan_id",
                "exercisable_from",
                "expires_on",
                "status",
                "expected",
                "received",
                "currency",
            ]
        )
        for line in self.lines:
            writer.writerow(
                [
                    line.month,
                    spreadsheet_cell(line.cost_centre or ""),
                    line.contract_id,
                    line.device,
                    line.imei or "",
                    line.plan_id,
                    line.exercisable_from.isoformat(),
                    line.expires_on.isoformat(),
                    line.status.value,
                    line.expected.amount,
                    line.received.amount if line.received is not None else "",
                    self.currency,
                ]
            )
        return buffer.getvalue()


def inflow_line(
    contract: GuaranteeContract,
    *,
    cost_centre: str | None,
    as_of: dt.date,
    order_id: str | None,
    received: Money | None,
    received_on: dt.date | None,
) -> InflowLine:
    """A contract's line of the buyer's calendar on ``as_of``."""
    offer = contract.offer
    if received is not None:
        status = InflowStatus.EXERCISED
    elif order_id is not None:
        status = InflowStatus.IN_PROGRESS
    elif as_of > offer.expires_on:
        status = InflowStatus.LAPSED
    else:
        status = InflowStatus.OPEN
    return InflowLine(
        contract_id=contract.id,
        device=contract.device,
        imei=contract.imei,
        cost_centre=cost_centre,
        plan_id=offer.plan_id,
        kind=offer.kind,
        purchased_on=contract.purchased_on,
        exercisable_from=offer.exercisable_from,
        expires_on=offer.expires_on,
        expected=contract.guaranteed_on(offer.exercisable_from),
        bands=tuple((line.starts_on, line.ends_on, line.amount) for line in offer.schedule),
        status=status,
        received=received,
        received_on=received_on,
        order_id=order_id,
    )
