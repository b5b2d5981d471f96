"""Trade-in promotions ("boosts"): bonuses on top of a quote, as data, each explaining itself.

A promotions document (``schemas/promotions.schema.json``) lists offers for one market and currency. Each
is a **fixed bonus** (``+50 €``), a **percent bonus** of the quoted value (``+10 %``, optionally capped) or
a **guaranteed minimum** (``at least 200 €``: the quote is topped up to the minimum). Each has conditions on
the traded device, the purchase, the channel, the dates and the customer case; a stacking rule, a priority,
and optionally a total budget and a maximum number of redemptions.

:func:`evaluate_promotions` is pure: everything it depends on (the date, the budgets already spent) is a
parameter. It considers the promotions from the highest ``priority`` down (equal priorities keep document
order) and, for each one, checks in this order and reports the **first** reason that fails (what the
shopper cannot change comes before what they can, so "only in store" is never said of a device that would
not qualify in store either):

1. the device is priced (a recycling-only device gets no promotion);
2. the dates: ``valid_from``, ``valid_until``, ``weekdays``;
3. the traded device: brand, model, category, release date, age in whole months, pricing grade;
4. the channel, then the customer case;
5. the purchase: present at all, SKU, brand, category, minimum price;
6. the usage: maximum redemptions, a boost above zero, a boost that fits in what is left of the budget;
7. stacking.

**Boosts** are independent of each other: a percent bonus is a share of the *quoted* value, and a
guaranteed minimum adds ``max(0, minimum - quoted value)``; a ``cap`` limits what one promotion adds for one
device; every boost is rounded (half up) to the currency's minor units. A promotion that would add nothing
(a quote already above the guaranteed minimum) is not applied, so it never blocks another one.

**Stacking: the highest priority decides.** The first eligible promotion in priority order sets the rule:
if it is ``exclusive`` it is applied alone and every later one is rejected; if it is ``combinable``, every
later eligible combinable promotion is added to it and every later exclusive one is rejected. So when
several exclusive promotions are eligible, the one with the highest priority wins (the earlier in the
document on a tie), whatever their amounts: the shop, not the quote, decides which offer it funds.

A budget is a hard limit: a boost that does not fit in what is left is refused, never cut. Budgets and
redemption counts are read from ``spent``; checking them here is advisory, so a shop reserves the budget
atomically when it redeems (:meth:`PromotionOutcome.spent_after` gives the new figures).

Every explanation is an English msgid with typed parameters; ``describe(locale)`` translates it and formats
the parameters with Babel (money, percentages, dates, day names, "A or B" lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire._extract import json_extractor
from grading_questionnaire._i18n import N_, translate
from grading_questionnaire._schemas import json_path, schema_problems
from tradein_sdk._domain.catalog import read_json_document
from tradein_sdk._domain.converters import build_document, structure_document, structuring_problems
from tradein_sdk._domain.dates import long_date
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.params import ExplanationParam, Phrase, Weekday
from tradein_sdk._domain.pricing import months_between
from tradein_sdk._domain.quotes import Channel
from tradein_sdk._errors import CurrencyMismatchError, DocumentProblem, canonical_locale
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradein_sdk._domain.devices import DeviceModel

EXAMPLE_PROMOTIONS = DATA_DIR / "promotions" / "example-de.json"
"""An example promotions document (EUR, Germany): a sample to copy, not an offer."""

PRICING_GRADES = ("excellent", "good", "fair", "damaged", "faulty")
"""The price book's pricing grades, best first: a ``min_grade`` accepts that grade and every better one."""

_GRADE_LABELS = {
    "excellent": N_("Excellent"),
    "good": N_("Good"),
    "fair": N_("Fair"),
    "damaged": N_("Damaged"),
    "faulty": N_("Faulty"),
}


class PromotionKind(StrEnum):
    """What a promotion adds."""

    FIXED_BONUS = "fixed_bonus"
    """A fixed amount on top of the quote."""
    PERCENT_BONUS = "percent_bonus"
    """A percentage of the quoted value, optionally capped."""
    GUARANTEED_MINIMUM = "guaranteed_minimum"
    """Tops the quote up to a minimum value."""


class Stacking(StrEnum):
    """Whether a promotion may be combined with others."""

    EXCLUSIVE = "exclusive"
    COMBINABLE = "combinable"


class CustomerCase(StrEnum):
    """The contract situation of the purchase the trade-in goes with."""

    NEW_CONTRACT = "new_contract"
    UPGRADE = "upgrade"
    """An existing contract renewed with a new device."""
    NONE = "none"
    """No contract: a plain purchase (or a trade-in without a purchase)."""


_CHANNEL_LABELS = {Channel.ONLINE: N_("online"), Channel.STORE: N_("in store")}
_CASE_LABELS = {
    CustomerCase.NEW_CONTRACT: N_("a new contract"),
    CustomerCase.UPGRADE: N_("a contract upgrade"),
    CustomerCase.NONE: N_("a purchase without a contract"),
}


# -- the document ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TradedDeviceConditions:
    """Conditions on the device traded in; ``None`` means "any".

    Attributes:
        brands: catalog brands, compared without regard to case.
        model_ids: catalog model ids.
        categories: device categories.
        released_on_or_after: the earliest release date accepted.
        max_age_months: the most whole months from release to the day of the trade-in.
        min_grade: the worst pricing grade accepted (see :data:`PRICING_GRADES`).
    """

    brands: tuple[str, ...] | None = None
    model_ids: tuple[str, ...] | None = None
    categories: tuple[DeviceCategory, ...] | None = None
    released_on_or_after: date | None = None
    max_age_months: int | None = None
    min_grade: str | None = None


@attrs.frozen(kw_only=True)
class PurchaseConditions:
    """Conditions on the new product bought with the trade-in; a promotion with any needs a purchase.

    Attributes:
        skus: the shop's article numbers.
        brands: brands, compared without regard to case.
        categories: the shop's product categories.
        min_price: the lowest purchase price accepted.
    """

    skus: tuple[str, ...] | None = None
    brands: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    min_price: Money | None = None


@attrs.frozen(kw_only=True)
class PromotionConditions:
    """When a promotion applies: every condition given must hold; each list means "any of".

    Attributes:
        traded_device: conditions on the device traded in.
        purchase: conditions on the purchase (``None``: no purchase needed).
        channels: where the trade-in happens.
        customer_cases: the contract situations accepted.
        valid_from: the first day, inclusive.
        valid_until: the last day, inclusive.
        weekdays: the days of the week it runs on.
    """

    traded_device: TradedDeviceConditions = TradedDeviceConditions()
    purchase: PurchaseConditions | None = None
    channels: tuple[Channel, ...] | None = None
    customer_cases: tuple[CustomerCase, ...] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    weekdays: tuple[Weekday, ...] | None = None


@attrs.frozen(kw_only=True)
class Promotion:
    """One trade-in promotion.

    Attributes:
        id: its identifier, unique in the document (the key of its usage in ``spent``).
        title: its name for the shopper, an English msgid.
        kind: fixed bonus, percent bonus or guaranteed minimum.
        amount: the bonus (fixed bonus) or the minimum (guaranteed minimum).
        percent: the bonus in percent of the quoted value (percent bonus).
        cap: the most it adds for one device (percent bonus, guaranteed minimum).
        conditions: when it applies.
        stacking: exclusive or combinable.
        priority: higher is considered first.
        budget: the most all its redemptions together may add.
        max_redemptions: how many devices may receive it in all.
    """

    id: str
    title: str
    kind: PromotionKind
    amount: Money | None = None
    percent: Decimal | None = None
    cap: Money | None = None
    conditions: PromotionConditions = PromotionConditions()
    stacking: Stacking
    priority: int = 0
    budget: Money | None = None
    max_redemptions: int | None = None

    def localized_title(self, locale: str, extra_locale_dirs: tuple[Path, ...] = ()) -> str:
        """Return the title in ``locale`` (shop catalogs in ``extra_locale_dirs`` first)."""
        return translate(self.title, canonical_locale(locale), extra_locale_dirs)


@attrs.frozen(kw_only=True)
class PromotionBook:
    """The promotions a shop runs in one market and currency.

    Build it with :func:`parse_promotions` or :func:`load_promotions`, which validate the document.

    Attributes:
        promotions_id: the document's id.
        version: its version.
        market: ISO 3166-1 alpha-2 country code.
        currency: ISO 4217 code; every amount of the document is in it.
        description: what the document is.
        promotions: the promotions, in document order.
        content_hash: ``sha256:`` of the document's canonical JSON.
        document: the document as read.
    """

    promotions_id: str
    version: str
    market: str
    currency: str
    description: str | None = None
    promotions: tuple[Promotion, ...] = ()
    content_hash: str = ""
    document: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


# -- the evaluation's inputs -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TradedDevice:
    """The device traded in, as the promotions see it.

    Attributes:
        model_id: the catalog model id.
        brand: the brand.
        category: smartphone, tablet or smartwatch.
        release_date: the model's release date.
        grade: the pricing grade; ``None`` for a recycling-only quote, which gets no promotion.
        quoted: the quoted value, before promotions.
    """

    model_id: str
    brand: str
    category: DeviceCategory
    release_date: date
    grade: str | None = attrs.field(validator=attrs.validators.optional(attrs.validators.in_(PRICING_GRADES)))
    quoted: Money

    @classmethod
    def from_model(cls, model: DeviceModel, *, grade: str | None, quoted: Money) -> TradedDevice:
        """Describe a device of a catalog ``model`` in pricing ``grade``, quoted at ``quoted``."""
        return cls(
            model_id=model.id,
            brand=model.brand,
            category=model.category,
            release_date=model.release_date,
            grade=grade,
            quoted=quoted,
        )


@attrs.frozen(kw_only=True)
class Purchase:
    """The new product bought with the trade-in.

    Attributes:
        sku: the shop's article number.
        brand: its brand.
        category: the shop's product category.
        price: its price.
    """

    sku: str
    brand: str
    category: str
    price: Money


@attrs.frozen(kw_only=True)
class PromotionUsage:
    """What a promotion has used so far, across all shoppers.

    Attributes:
        redemptions: how many devices received it.
        spent: how much it added in all.
    """

    redemptions: int = 0
    spent: Money


# -- the evaluation's results ----------------------------------------------------------------------------


def format_param(  # noqa: PLR0911 - one return per kind of parameter
    value: ExplanationParam, locale: str, extra_locale_dirs: tuple[Path, ...] = ()
) -> str:
    """Format an explanation parameter for ``locale`` with Babel.

    Money is formatted as currency, a ``Decimal`` as a percentage (``Decimal(10)`` → ``10 %``), a date in
    the long form, an ``int`` as a number, a :class:`Phrase` and a category by translating them, a
    :class:`Weekday` as the day's name; a tuple becomes an "A, B or C" list.

    Args:
        value: the parameter.
        locale: a canonical locale identifier.
        extra_locale_dirs: shop catalog folders that win over the bundled ones.

    Returns:
        The text shown.
    """
    from babel.dates import get_day_names  # noqa: PLC0415 - Babel loads on first use
    from babel.lists import format_list  # noqa: PLC0415 - Babel loads on first use
    from babel.numbers import format_decimal, format_percent  # noqa: PLC0415 - Babel loads on first use

    if isinstance(value, tuple):
        items = [format_param(item, locale, extra_locale_dirs) for item in value]
        return str(format_list(items, style="or", locale=locale))
    if isinstance(value, Money):
        return value.format(locale)
    if isinstance(value, Phrase):
        return translate(value.message_id, locale, extra_locale_dirs)
    if isinstance(value, DeviceCategory):
        return value.label(locale)
    if isinstance(value, Weekday):
        return str(get_day_names("wide", locale=locale)[tuple(Weekday).index(value)])
    if isinstance(value, date):
        return long_date(value, locale)
    if isinstance(value, Decimal):
        return str(format_percent(value / 100, locale=locale, decimal_quantization=False))
    if isinstance(value, int):
        return str(format_decimal(value, locale=locale))
    return value


def _render(
    message_id: str, params: Mapping[str, ExplanationParam], locale: str, extra_locale_dirs: tuple[Path, ...]
) -> str:
    canonical = canonical_locale(locale)
    texts = {name: format_param(value, canonical, extra_locale_dirs) for name, value in params.items()}
    return translate(message_id, canonical, extra_locale_dirs, **texts)


class RejectionReason(StrEnum):
    """Why a promotion was not applied: the first check that failed, in the order they are made."""

    RECYCLE_ONLY = "recycle_only"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    WEEKDAY = "weekday"
    CHANNEL = "channel"
    CUSTOMER_CASE = "customer_case"
    BRAND = "brand"
    MODEL = "model"
    CATEGORY = "category"
    RELEASE_DATE = "release_date"
    AGE = "age"
    GRADE = "grade"
    NO_PURCHASE = "no_purchase"
    PURCHASE_SKU = "purchase_sku"
    PURCHASE_BRAND = "purchase_brand"
    PURCHASE_CATEGORY = "purchase_category"
    PURCHASE_PRICE = "purchase_price"
    MAX_REDEMPTIONS = "max_redemptions"
    NO_BOOST = "no_boost"
    BUDGET = "budget"
    EXCLUSIVE_APPLIES = "exclusive_applies"
    NOT_COMBINABLE = "not_combinable"


class _Explained:
    """What applied and rejected promotions share: a title and an explanation, both translatable."""

    __slots__ = ()
    title: str
    message_id: str
    params: Mapping[str, ExplanationParam]

    def describe(self, locale: str, extra_locale_dirs: tuple[Path, ...] = ()) -> str:
        """Return the explanation in ``locale`` (``Not eligible: only for Apple devices.``).

        Args:
            locale: a locale identifier such as ``de_DE``.
            extra_locale_dirs: shop catalog folders that win over the bundled ones.

        Raises:
            ValueError: the locale is unknown.
        """
        return _render(self.message_id, self.params, locale, extra_locale_dirs)

    def localized_title(self, locale: str, extra_locale_dirs: tuple[Path, ...] = ()) -> str:
        """Return the promotion's title in ``locale``."""
        return translate(self.title, canonical_locale(locale), extra_locale_dirs)


@attrs.frozen(kw_only=True)
class AppliedPromotion(_Explained):
    """A promotion that applies, with what it adds and why.

    Attributes:
        promotion_id: the promotion.
        title: its title, an English msgid.
        kind: fixed bonus, percent bonus or guaranteed minimum.
        stacking: exclusive or combinable.
        boost: what it adds, rounded to the currency's minor units (always above zero).
        capped: its cap limited the boost.
        message_id: the explanation, an English msgid.
        params: the explanation's parameters.
    """

    promotion_id: str
    title: str
    kind: PromotionKind
    stacking: Stacking
    boost: Money
    capped: bool = False
    message_id: str
    params: Mapping[str, ExplanationParam] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RejectedPromotion(_Explained):
    """A promotion that does not apply, with the first reason.

    Attributes:
        promotion_id: the promotion.
        title: its title, an English msgid.
        reason: the check that failed.
        message_id: the explanation, an English msgid.
        params: the explanation's parameters.
    """

    promotion_id: str
    title: str
    reason: RejectionReason
    message_id: str
    params: Mapping[str, ExplanationParam] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PromotionOutcome:
    """Which promotions apply to one trade-in and what they add.

    Attributes:
        promotions_id: the promotions document used.
        promotions_version: its version.
        promotions_hash: its content hash.
        quoted: the quoted value before promotions.
        applied: the promotions applied, in the order considered (highest priority first).
        rejected: the others, in the order considered, each with its reason.
        total_boost: the sum of the applied boosts (zero when none applies).
    """

    promotions_id: str
    promotions_version: str
    promotions_hash: str
    quoted: Money
    applied: tuple[AppliedPromotion, ...]
    rejected: tuple[RejectedPromotion, ...]
    total_boost: Money

    @property
    def boosted_value(self) -> Money:
        """The quoted value plus every boost: what the shopper is credited."""
        return self.quoted + self.total_boost

    def spent_after(self, spent: Mapping[str, PromotionUsage]) -> dict[str, PromotionUsage]:
        """Return the usage figures once this outcome is redeemed: one more redemption per applied promotion.

        Args:
            spent: the usage before, by promotion id (promotions absent from it have used nothing).

        Returns:
            A new mapping; ``spent`` is not changed.
        """
        after = dict(spent)
        for promotion in self.applied:
            before = after.get(promotion.promotion_id) or PromotionUsage(
                spent=Money.zero(self.quoted.currency)
            )
            after[promotion.promotion_id] = PromotionUsage(
                redemptions=before.redemptions + 1, spent=before.spent + promotion.boost
            )
        return after


# -- documents -------------------------------------------------------------------------------------------


def promotions_problems(document: object) -> list[DocumentProblem]:
    """Return every problem of a promotions document, each with its JSON path.

    Schema violations come first; a document that matches the schema is then checked for what the
    schema cannot say: an unknown currency, impossible dates, amounts in another currency or with more
    decimal places than the currency has, amounts that must be above zero, unknown pricing grades, a
    ``valid_from`` after ``valid_until`` and promotion ids used twice.

    Args:
        document: the decoded JSON document.

    Returns:
        The problems in document order; empty when the document is valid.
    """
    problems = [_schema_problem(path, message) for path, message in schema_problems("promotions", document)]
    if problems or not isinstance(document, dict):
        return problems
    currency = document["currency"]
    try:
        Money.zero(currency)
    except Exception:  # noqa: BLE001 - reported as a problem
        return [DocumentProblem(path="$.currency", message=f"unknown currency {currency!r}")]
    try:
        book = structure_document(document, PromotionBook)
    except Exception as exc:  # noqa: BLE001 - every structuring failure is reported with its path
        return [DocumentProblem(path=path, message=message) for path, message in structuring_problems(exc)]
    seen: dict[str, int] = {}
    for index, promotion in enumerate(book.promotions):
        problems.extend(_promotion_problems(promotion, index, currency))
        if promotion.id in seen:
            problems.append(
                DocumentProblem(
                    path=json_path("promotions", index, "id"),
                    message=f"promotion id {promotion.id!r} is already used at "
                    f"{json_path('promotions', seen[promotion.id])}",
                )
            )
        seen.setdefault(promotion.id, index)
    return problems


_FORBIDDEN = " should not be valid under {}"
"""How jsonschema words a field the schema forbids (``{"not": {}}``): a field of another kind of promotion."""


def _schema_problem(path: str, message: str) -> DocumentProblem:
    if message.endswith(_FORBIDDEN):
        field = path.rpartition(".")[2]
        message = f"{field!r} does not belong to this kind of promotion"
    return DocumentProblem(path=path, message=message)


def _promotion_problems(promotion: Promotion, index: int, currency: str) -> Iterator[DocumentProblem]:
    here = ("promotions", index)
    conditions = promotion.conditions
    purchase = conditions.purchase or PurchaseConditions()
    amounts: list[tuple[tuple[str, ...], Money | None, bool]] = [
        (("amount",), promotion.amount, True),
        (("cap",), promotion.cap, True),
        (("budget",), promotion.budget, True),
        (("conditions", "purchase", "min_price"), purchase.min_price, False),
    ]
    for parts, money, positive in amounts:
        if money is None:
            continue
        if money.currency != currency:
            yield DocumentProblem(
                path=json_path(*here, *parts, "currency"),
                message=f"the amount is in {money.currency}, the document's currency is {currency}",
            )
        elif money.rounded() != money:
            yield DocumentProblem(
                path=json_path(*here, *parts, "amount"),
                message=f"{money.amount} has more decimal places than {currency} uses",
            )
        if positive and money.amount <= 0:
            yield DocumentProblem(path=json_path(*here, *parts, "amount"), message="must be above zero")
        elif money.amount < 0:
            yield DocumentProblem(path=json_path(*here, *parts, "amount"), message="must not be negative")
    if promotion.percent is not None and promotion.percent <= 0:
        yield DocumentProblem(path=json_path(*here, "percent"), message="must be above zero")
    grade = conditions.traded_device.min_grade
    if grade is not None and grade not in PRICING_GRADES:
        yield DocumentProblem(
            path=json_path(*here, "conditions", "traded_device", "min_grade"),
            message=f"unknown pricing grade {grade!r}: expected one of {', '.join(PRICING_GRADES)}",
        )
    start, end = conditions.valid_from, conditions.valid_until
    if start is not None and end is not None and start > end:
        yield DocumentProblem(
            path=json_path(*here, "conditions", "valid_from"),
            message=f"the promotion starts ({start.isoformat()}) after it ends ({end.isoformat()})",
        )


def parse_promotions(document: object, *, origin: str = "<memory>") -> PromotionBook:
    """Validate a promotions document and build the :class:`PromotionBook`.

    Args:
        document: the decoded JSON document.
        origin: where it came from, for error messages.

    Returns:
        The promotions, with the document's content hash.

    Raises:
        DocumentInvalidError: the document has problems (each with its JSON path).
    """
    return build_document(
        document, PromotionBook, kind="promotions", origin=origin, problems=promotions_problems
    )


def load_promotions(path: str | Path) -> PromotionBook:
    """Read and validate a promotions file.

    Raises:
        ConfigurationError: the file cannot be read.
        DocumentInvalidError: the file is not JSON or not a valid promotions document.
    """
    path = Path(path)
    return parse_promotions(read_json_document(path, kind="promotions"), origin=str(path))


# -- evaluation ------------------------------------------------------------------------------------------


@attrs.frozen
class _Refusal:
    reason: RejectionReason
    message_id: str
    params: Mapping[str, ExplanationParam] = attrs.field(factory=dict)


def evaluate_promotions(
    promotions: PromotionBook,
    *,
    traded: TradedDevice,
    purchase: Purchase | None,
    channel: Channel,
    customer_case: CustomerCase,
    today: date,
    spent: Mapping[str, PromotionUsage],
) -> PromotionOutcome:
    """Decide which promotions apply to one trade-in and what they add (see the module docstring).

    Args:
        promotions: the shop's promotions.
        traded: the device traded in, with its pricing grade and quoted value.
        purchase: the product bought with it, or ``None``.
        channel: online or in store.
        customer_case: new contract, upgrade or none.
        today: the day of the trade-in, in the shop's time zone.
        spent: each promotion's usage so far, by promotion id (absent: nothing used).

    Returns:
        Every promotion, applied or rejected with its first failing condition, and the total boost.

    Raises:
        CurrencyMismatchError: the quoted value, the purchase price or a usage figure is not in the
            promotions' currency.
    """
    currency = promotions.currency
    amounts = [traded.quoted, *([purchase.price] if purchase else []), *(u.spent for u in spent.values())]
    for money in amounts:
        if money.currency != currency:
            raise CurrencyMismatchError(currency, money.currency)
    applied: list[AppliedPromotion] = []
    rejected: list[RejectedPromotion] = []
    for promotion in sorted(promotions.promotions, key=lambda promotion: -promotion.priority):
        refusal = _eligibility_refusal(
            promotion, traded=traded, purchase=purchase, channel=channel, case=customer_case, today=today
        )
        if refusal is None:
            result = _applied(promotion, traded.quoted)
            refusal = _usage_refusal(promotion, result.boost, spent.get(promotion.id)) or _stacking_refusal(
                promotion, applied
            )
            if refusal is None:
                applied.append(result)
                continue
        rejected.append(
            RejectedPromotion(
                promotion_id=promotion.id,
                title=promotion.title,
                reason=refusal.reason,
                message_id=refusal.message_id,
                params=refusal.params,
            )
        )
    return PromotionOutcome(
        promotions_id=promotions.promotions_id,
        promotions_version=promotions.version,
        promotions_hash=promotions.content_hash,
        quoted=traded.quoted,
        applied=tuple(applied),
        rejected=tuple(rejected),
        total_boost=Money.total((item.boost for item in applied), currency),
    )


def _eligibility_refusal(
    promotion: Promotion,
    *,
    traded: TradedDevice,
    purchase: Purchase | None,
    channel: Channel,
    case: CustomerCase,
    today: date,
) -> _Refusal | None:
    if traded.grade is None:
        return _Refusal(
            RejectionReason.RECYCLE_ONLY,
            N_("Not eligible: a device accepted for free recycling only gets no promotion."),
        )
    return (
        _date_refusal(promotion.conditions, today)
        or _device_refusal(promotion.conditions.traded_device, traded, today)
        or _channel_refusal(promotion.conditions, channel, case)
        or _purchase_refusal(promotion.conditions.purchase, purchase)
    )


def _date_refusal(conditions: PromotionConditions, today: date) -> _Refusal | None:
    if conditions.valid_from is not None and today < conditions.valid_from:
        return _Refusal(
            RejectionReason.NOT_STARTED,
            N_("Not available yet: the offer starts on {date}."),
            {"date": conditions.valid_from},
        )
    if conditions.valid_until is not None and today > conditions.valid_until:
        return _Refusal(
            RejectionReason.ENDED,
            N_("No longer available: the offer ended on {date}."),
            {"date": conditions.valid_until},
        )
    if conditions.weekdays is not None and Weekday.of(today) not in conditions.weekdays:
        return _Refusal(
            RejectionReason.WEEKDAY,
            # Translators: {days} are weekday names from CLDR, joined with "or" ("Saturday or Sunday").
            N_("Not available today: the offer runs on {days} only."),
            {"days": conditions.weekdays},
        )
    return None


def _channel_refusal(
    conditions: PromotionConditions, channel: Channel, case: CustomerCase
) -> _Refusal | None:
    if conditions.channels is not None and channel not in conditions.channels:
        return _Refusal(
            RejectionReason.CHANNEL,
            # Translators: {channels} is "online" and/or "in store" (translated on their own).
            N_("Not eligible: this offer is only available {channels}."),
            {"channels": tuple(Phrase(_CHANNEL_LABELS[item]) for item in conditions.channels)},
        )
    if conditions.customer_cases is not None and case not in conditions.customer_cases:
        return _Refusal(
            RejectionReason.CUSTOMER_CASE,
            # Translators: {cases}: "a new contract", "a contract upgrade", "a purchase without a contract".
            N_("Not eligible: this offer is for {cases}."),
            {"cases": tuple(Phrase(_CASE_LABELS[item]) for item in conditions.customer_cases)},
        )
    return None


def _casefolded(names: tuple[str, ...]) -> set[str]:
    return {name.casefold() for name in names}


def _device_refusal(  # noqa: PLR0911 - one return per condition, in the documented order
    conditions: TradedDeviceConditions, traded: TradedDevice, today: date
) -> _Refusal | None:
    if conditions.brands is not None and traded.brand.casefold() not in _casefolded(conditions.brands):
        return _Refusal(
            RejectionReason.BRAND,
            N_("Not eligible: only for {brands} devices."),
            {"brands": conditions.brands},
        )
    if conditions.model_ids is not None and traded.model_id not in conditions.model_ids:
        return _Refusal(RejectionReason.MODEL, N_("Not eligible: this offer is for other device models."))
    if conditions.categories is not None and traded.category not in conditions.categories:
        return _Refusal(
            RejectionReason.CATEGORY,
            # Translators: {categories} are device category names ("Smartphone or Tablet").
            N_("Not eligible: only for these kinds of device: {categories}."),
            {"categories": conditions.categories},
        )
    released = conditions.released_on_or_after
    if released is not None and traded.release_date < released:
        return _Refusal(
            RejectionReason.RELEASE_DATE,
            N_("Not eligible: only for devices released on or after {date}."),
            {"date": released},
        )
    if conditions.max_age_months is not None and (
        months_between(traded.release_date, today) > conditions.max_age_months
    ):
        return _Refusal(
            RejectionReason.AGE,
            N_("Not eligible: the traded device is older than {months} months."),
            {"months": conditions.max_age_months},
        )
    minimum = conditions.min_grade
    assert traded.grade is not None  # noqa: S101 - recycling-only devices are refused before
    if minimum is not None and PRICING_GRADES.index(traded.grade) > PRICING_GRADES.index(minimum):
        return _Refusal(
            RejectionReason.GRADE,
            # Translators: {grade} is a pricing grade label ("Good").
            N_("Not eligible: the traded device must be in grade “{grade}” or better."),
            {"grade": Phrase(_GRADE_LABELS[minimum])},
        )
    return None


def _purchase_refusal(  # noqa: PLR0911 - one return per condition, in the documented order
    conditions: PurchaseConditions | None, purchase: Purchase | None
) -> _Refusal | None:
    if conditions is None:
        return None
    if purchase is None:
        return _Refusal(
            RejectionReason.NO_PURCHASE, N_("Not eligible: this offer needs the purchase of a new product.")
        )
    if conditions.skus is not None and purchase.sku not in conditions.skus:
        return _Refusal(
            RejectionReason.PURCHASE_SKU,
            N_("Not eligible: this offer is for the purchase of other products."),
        )
    if conditions.brands is not None and purchase.brand.casefold() not in _casefolded(conditions.brands):
        return _Refusal(
            RejectionReason.PURCHASE_BRAND,
            N_("Not eligible: only when you buy a product by {brands}."),
            {"brands": conditions.brands},
        )
    if conditions.categories is not None and purchase.category not in conditions.categories:
        return _Refusal(
            RejectionReason.PURCHASE_CATEGORY,
            N_("Not eligible: the product you buy is not in a category of this offer."),
        )
    if conditions.min_price is not None and purchase.price < conditions.min_price:
        return _Refusal(
            RejectionReason.PURCHASE_PRICE,
            N_("Not eligible: the product you buy must cost at least {amount}."),
            {"amount": conditions.min_price},
        )
    return None


def _applied(promotion: Promotion, quoted: Money) -> AppliedPromotion:
    """The promotion applied, before the usage and stacking checks (its boost may still be zero)."""
    params: dict[str, ExplanationParam] = {}
    if promotion.kind is PromotionKind.FIXED_BONUS:
        assert promotion.amount is not None  # noqa: S101 - the schema requires it
        raw = promotion.amount
        message_id = capped_id = N_("Bonus of {amount} on top of the trade-in value.")
    elif promotion.kind is PromotionKind.PERCENT_BONUS:
        assert promotion.percent is not None  # noqa: S101 - the schema requires it
        raw = quoted * (promotion.percent / 100)
        params["percent"] = promotion.percent
        message_id = N_("Bonus of {percent} of the trade-in value: {amount}.")
        capped_id = N_("Bonus of {percent} of the trade-in value, at most {cap}: {amount}.")
    else:
        assert promotion.amount is not None  # noqa: S101 - the schema requires it
        raw = max(promotion.amount - quoted, Money.zero(quoted.currency))
        params["minimum"] = promotion.amount
        message_id = N_("Guaranteed minimum of {minimum}: {amount} added to the trade-in value.")
        capped_id = N_("Guaranteed minimum of {minimum}, top-up at most {cap}: {amount} added.")
    capped = promotion.cap is not None and raw > promotion.cap
    if capped:
        assert promotion.cap is not None  # noqa: S101 - checked just above
        raw = promotion.cap
        params["cap"] = promotion.cap
        message_id = capped_id
    boost = raw.rounded()
    params["amount"] = boost
    return AppliedPromotion(
        promotion_id=promotion.id,
        title=promotion.title,
        kind=promotion.kind,
        stacking=promotion.stacking,
        boost=boost,
        capped=capped,
        message_id=message_id,
        params=params,
    )


def _usage_refusal(promotion: Promotion, boost: Money, usage: PromotionUsage | None) -> _Refusal | None:
    redemptions = usage.redemptions if usage is not None else 0
    if promotion.max_redemptions is not None and redemptions >= promotion.max_redemptions:
        return _Refusal(
            RejectionReason.MAX_REDEMPTIONS,
            N_("No longer available: the offer has been redeemed as often as planned."),
        )
    if boost.is_zero():
        if promotion.kind is PromotionKind.GUARANTEED_MINIMUM:
            return _Refusal(
                RejectionReason.NO_BOOST,
                N_("No top-up needed: the trade-in value is already at least the guaranteed {minimum}."),
                {"minimum": promotion.amount or boost},
            )
        return _Refusal(
            RejectionReason.NO_BOOST, N_("No bonus: the offer adds nothing to this trade-in value.")
        )
    if promotion.budget is not None:
        used = usage.spent if usage is not None else Money.zero(boost.currency)
        if used + boost > promotion.budget:
            return _Refusal(RejectionReason.BUDGET, N_("No longer available: the offer's budget is used up."))
    return None


def _stacking_refusal(promotion: Promotion, applied: list[AppliedPromotion]) -> _Refusal | None:
    if not applied:
        return None
    first = applied[0]
    if first.stacking is Stacking.EXCLUSIVE:
        return _Refusal(
            RejectionReason.EXCLUSIVE_APPLIES,
            # Translators: {offer} is the other promotion's title.
            N_("Not combined: the exclusive offer “{offer}” applies instead."),
            {"offer": Phrase(first.title)},
        )
    if promotion.stacking is Stacking.EXCLUSIVE:
        return _Refusal(
            RejectionReason.NOT_COMBINABLE,
            # Translators: {offer} is the other promotion's title.
            N_("Not combined: this offer cannot be combined with “{offer}”, which applies."),
            {"offer": Phrase(first.title)},
        )
    return None


# -- translation -----------------------------------------------------------------------------------------


def _titles(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    promotions = document.get("promotions")
    for promotion in promotions if isinstance(promotions, list) else []:
        title = promotion.get("title") if isinstance(promotion, dict) else None
        if isinstance(title, str):
            yield title, f"trade-in promotion {promotion.get('id')}"


extract_promotions_messages = json_extractor(
    _titles, "Yield the promotion titles of a promotions file, for Babel (registered in babel.cfg)."
)
