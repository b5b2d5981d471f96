"""The settlement ledger under any lifecycle: a state machine over the whole facade, and properties.

:class:`LedgerMachine` opens checkouts (1–3 iPhones and Galaxies, every credit plan, with and without
promotions and protection) and walks their devices through any path the order lifecycle allows — label,
ship, receive, hold, inspect as declared or worse or as another device, answer a revision, settle, cancel,
let deadlines pass, receive late, return, recycle, surrender, dispose — together with billing runs and
stopped bill credits. Illegal steps are tried too and must be refused with a typed error that changes
nothing. After every step each ledger must balance to the cent, owe exactly what the device's current terms
owe (kept by a model written here, not by the library: the offer, each promotion's share at most as promised
and withdrawn for good once no longer earned, less installments stopped), hold each promotion's budget use,
never credit an installment before its billing run, and the audit chain must verify.

The plain properties check the pure functions: :func:`balances` nets any entries, :func:`reconcile` is
idempotent, and bill-credit schedules add up to the settled amount exactly.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, FixedClock, Money, TradeIn
from tradein_sdk._domain.checkout import (
    BillCreditSchedule,
    CheckoutRequest,
    ClawbackPolicy,
    CreditPlan,
    CreditTiming,
    NewDevice,
    RemainderRule,
)
from tradein_sdk._domain.ledger import (
    GROUPS,
    PROMOTION_KINDS,
    DeviceTerms,
    EntryGroup,
    EntryKind,
    LedgerEntry,
    LedgerTerms,
    SettlementMethod,
    balances,
    billing_period,
    device_balances,
    opening_entries,
    promotion_shares,
    reconcile,
    unsettled_installments,
)
from tradein_sdk._domain.orders.inspection import InspectionResult
from tradein_sdk._domain.orders.model import OrderDevice, TradeInOrder
from tradein_sdk._domain.orders.vocabulary import (
    Actor,
    DeviceState,
    Disposition,
    EventKind,
    HoldReason,
    MismatchReason,
)
from tradein_sdk._domain.promotions import parse_promotions
from tradein_sdk._errors import IllegalTransitionError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from tradein_sdk._app.ledger import OrderLedger
    from tradein_sdk._domain.checkout import CheckoutSummary
    from tradein_sdk._domain.promotions import PromotionBook

EUR: Final = "EUR"
START: Final = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ZERO: Final = Money("0", EUR)
FULL_PRICE: Final = Money("999.00", EUR)
BANK: Final = BankTransfer(iban="DE89370400440532013000", holder="Erika Mustermann")
IPHONE: Final = "apple-iphone-13-128gb"
SAMSUNG: Final = "samsung-galaxy-s23-128gb"
OTHER_IMEI: Final = "356938035643809"
SEND_WINDOW: Final = timedelta(days=14)
RESPOND_WINDOW: Final = timedelta(days=7)
MAX_ORDERS: Final = 3
"""At most this many orders per run, so that 25 steps take them far."""
DATABASE: Final = "tradein.sqlite3"

_S = DeviceState
NOT_BOUGHT: Final = frozenset(
    {
        _S.CANCELLED,
        _S.EXPIRED,
        _S.MISMATCH,
        _S.REVISION_DECLINED,
        _S.RETURNING,
        _S.RETURNED,
        _S.SURRENDERED,
        _S.RECYCLED,
    }
)
SETTLED: Final = frozenset({_S.PAID, _S.CREDITED, _S.DISPOSED})
GRADES: Final = ("excellent", "good", "fair", "damaged", "faulty")


@attrs.frozen(kw_only=True)
class Traded:
    """A kind of device traded in: the catalog variant, the declared answers, the brand and quoted grade."""

    variant: str
    answers: str
    brand: str
    grade: str
    other_variant: str


TRADED: Final = {
    "iphone-worn": Traded(
        variant=IPHONE, answers="worn", brand="Apple", grade="good", other_variant="apple-iphone-13-256gb"
    ),
    "iphone-flawless": Traded(
        variant=IPHONE,
        answers="flawless",
        brand="Apple",
        grade="excellent",
        other_variant="apple-iphone-13-256gb",
    ),
    "samsung-worn": Traded(
        variant=SAMSUNG,
        answers="worn-samsung",
        brand="Samsung",
        grade="good",
        other_variant="samsung-galaxy-s23-256gb",
    ),
}

FLAVOURS: Final = ("as_declared", "worn", "fair", "cracked", "mismatch")
"""How an inspection finds a device: as declared; worn (grade good: a downgrade for a flawless iPhone);
heavy frame wear (grade fair); a cracked display (damaged: below every promotion's condition); another
device (another IMEI, or another storage size when no IMEI was given)."""


def answers(name: str) -> dict[str, Any]:
    """A bundled example answer set."""
    return dict(example_answers("smartphone", name).answers)


def inspector(traded: Traded, flavour: str) -> dict[str, Any]:
    """The inspector's answers for ``flavour``: the found answers plus the staff checks, all clean."""
    store = example_answers("smartphone", "store-inspected").answers
    staff = {key: store[key] for key in ("liquid_indicator", "blocklist_status", "authenticity")}
    declared = answers(traded.answers)
    worn = answers("worn-samsung" if traded.brand == "Samsung" else "worn")
    found = {
        "as_declared": declared,
        "mismatch": declared,
        "worn": worn,
        "fair": {**declared, "frame": "heavy_wear"},
        "cracked": {**declared, "display_glass": "cracked"},
    }[flavour]
    return {**found, **staff}


def imei_number(serial: int) -> str:
    """A valid IMEI (Luhn check digit) for a serial number."""
    body = f"35{serial:012d}"
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str((10 - total % 10) % 10)


# -- promotions, as this test understands them --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PromotionSpec:
    """One promotion of the book, with the boost it should give, computed here independently."""

    id: str
    kind: str
    amount: Decimal | None = None
    percent: Decimal | None = None
    cap: Decimal | None = None
    brands: tuple[str, ...] | None = None
    min_grade: str | None = None
    budget: Decimal | None = None

    def document(self) -> dict[str, Any]:
        """The promotion as a promotions document entry."""
        traded: dict[str, Any] = {"categories": ["smartphone"]}
        if self.brands is not None:
            traded["brands"] = list(self.brands)
        if self.min_grade is not None:
            traded["min_grade"] = self.min_grade
        document: dict[str, Any] = {
            "id": self.id,
            "title": self.id,
            "kind": self.kind,
            "stacking": "combinable",
            "conditions": {"traded_device": traded},
        }
        for name, value in (("amount", self.amount), ("cap", self.cap), ("budget", self.budget)):
            if value is not None:
                document[name] = {"amount": str(value), "currency": EUR}
        if self.percent is not None:
            document["percent"] = str(self.percent)
        return document

    def boost(self, brand: str, grade: str | None, value: Money) -> Money:
        """What it adds to a device of ``brand`` in ``grade`` worth ``value`` (zero: not eligible)."""
        if self.brands is not None and brand not in self.brands:
            return ZERO
        if self.min_grade is not None and (
            grade not in GRADES or GRADES.index(grade) > GRADES.index(self.min_grade)
        ):
            return ZERO
        if self.kind == "fixed_bonus":
            assert self.amount is not None
            raw = Money(self.amount, EUR)
        elif self.kind == "percent_bonus":
            assert self.percent is not None
            raw = value * (self.percent / 100)
        else:
            assert self.amount is not None
            raw = max(Money(self.amount, EUR) - value, ZERO)
        if self.cap is not None:
            raw = min(raw, Money(self.cap, EUR))
        return raw.rounded()


# 40 €: a 5 € top-up fits, the 50 € the same iPhone would get once found worn does not (it keeps its 5 €);
# 60 €: one 50 € top-up fits, not two.
BUDGETS: Final = st.sampled_from([None, Decimal(40), Decimal(60), Decimal(100), Decimal(1000)])


@st.composite
def promotion_books(draw: st.DrawFn) -> tuple[PromotionSpec, ...]:
    """A fixed bonus, a capped percent bonus and a guaranteed minimum, each present or not, with budgets."""
    candidates = [
        PromotionSpec(
            id="bonus-25", kind="fixed_bonus", amount=Decimal(25), min_grade="fair", budget=draw(BUDGETS)
        ),
        PromotionSpec(
            id="percent",
            kind="percent_bonus",
            percent=draw(st.sampled_from([Decimal(10), Decimal("12.5")])),
            cap=draw(st.sampled_from([Decimal(15), Decimal(25)])),
            budget=draw(BUDGETS),
        ),
        PromotionSpec(
            id="minimum-200",
            kind="guaranteed_minimum",
            amount=Decimal(200),
            brands=("Apple",),
            min_grade="good",
            budget=draw(BUDGETS),
        ),
    ]
    chosen = draw(st.lists(st.sampled_from(range(len(candidates))), min_size=1, max_size=3, unique=True))
    return tuple(candidates[index] for index in sorted(chosen))


def book_document(specs: Iterable[PromotionSpec]) -> dict[str, Any]:
    """A promotions document of ``specs``."""
    return {
        "promotions_id": "ledger-machine",
        "version": "1",
        "market": "DE",
        "currency": EUR,
        "promotions": [spec.document() for spec in specs],
    }


# -- the plan of a checkout -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Plan:
    """How a checkout credits the trade-in."""

    timing: CreditTiming
    plan: CreditPlan
    months: int | None = None
    remainder: RemainderRule = RemainderRule.VOUCHER
    price: Money = FULL_PRICE

    @property
    def method(self) -> SettlementMethod:
        """How an open amount is settled."""
        if self.plan is CreditPlan.PAYOUT or (
            self.plan is CreditPlan.DISCOUNT and self.remainder is RemainderRule.PAYOUT
        ):
            return SettlementMethod.BANK_TRANSFER
        if self.plan is CreditPlan.BILL_CREDITS:
            return SettlementMethod.BILL_CREDITS
        return SettlementMethod.VOUCHER


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Every valid plan.

    A discount (voucher or payout remainder, sometimes on a cheap device), an instant or deferred voucher,
    a deferred payout, bill credits over 1–24 months.
    """
    kind = draw(
        st.sampled_from(["bill_credits", "discount", "payout", "instant_voucher", "deferred_voucher"])
    )
    if kind == "discount":
        return Plan(
            timing=CreditTiming.INSTANT,
            plan=CreditPlan.DISCOUNT,
            remainder=draw(st.sampled_from(RemainderRule)),
            price=Money(draw(st.sampled_from(["999.00", "55.00", "120.00", "250.00"])), EUR),
        )
    if kind == "instant_voucher":
        return Plan(timing=CreditTiming.INSTANT, plan=CreditPlan.VOUCHER)
    if kind == "deferred_voucher":
        return Plan(timing=CreditTiming.DEFERRED, plan=CreditPlan.VOUCHER)
    if kind == "payout":
        return Plan(timing=CreditTiming.DEFERRED, plan=CreditPlan.PAYOUT)
    return Plan(timing=CreditTiming.DEFERRED, plan=CreditPlan.BILL_CREDITS, months=draw(st.integers(1, 24)))


DEVICES: Final = st.lists(st.tuples(st.sampled_from(sorted(TRADED)), st.booleans()), min_size=1, max_size=3)
"""1–3 devices, each a kind and whether the quote names its IMEI."""


# -- the model --------------------------------------------------------------------------------------------


@attrs.define(kw_only=True)
class DeviceModel:
    """What this test expects of one device."""

    device_id: str
    traded: Traded
    imei: str | None
    quoted: Money
    shares: dict[str, Money]
    earned: dict[str, Money]
    upfront: Money
    state: DeviceState = DeviceState.ACCEPTED
    offer: Money
    grade: str | None = None
    inspected: bool = False
    send_by: datetime | None = None
    respond_by: datetime | None = None
    stopped: Money = ZERO


@attrs.define(kw_only=True)
class OrderModel:
    """What this test expects of one order."""

    order_id: str
    plan: Plan
    devices: list[DeviceModel]
    charges: Money

    def device(self, device_id: str) -> DeviceModel:
        """One device."""
        return next(device for device in self.devices if device.device_id == device_id)


INSPECTIONS: Final = tuple(f"inspect_{flavour}" for flavour in FLAVOURS)
DEVICE_ACTIONS: Final = (
    "ship",
    "receive",
    "receive_late",
    "hold",
    "release",
    "surrender",
    "inspect_as_declared",
    "accept",
    "decline",
    "start_return",
    "returned",
    "recycle",
    "settle",
    "dispose",
)


NEXT: Final[Mapping[DeviceState, tuple[str, ...]]] = {
    _S.AWAITING_SHIPMENT: ("ship", "receive"),
    _S.IN_TRANSIT: ("receive",),
    _S.EXPIRED: ("receive_late",),
    _S.RECEIVED: (*INSPECTIONS, "hold"),
    _S.ON_HOLD: ("release", "surrender"),
    _S.RELEASED: (*INSPECTIONS, "start_return"),
    _S.REVISED: ("accept", "decline"),
    _S.CONFIRMED: ("settle",),
    _S.REVISION_ACCEPTED: ("settle",),
    _S.MISMATCH: ("start_return", "recycle", "surrender"),
    _S.REVISION_DECLINED: ("start_return",),
    _S.RETURNING: ("returned",),
    _S.PAID: ("dispose",),
    _S.CREDITED: ("dispose",),
}
"""The next steps a device may take from each state (the ones the facade must accept, windows aside)."""


def _sources(action: str) -> frozenset[DeviceState]:
    """The states a facade action may start from (its other guards aside)."""
    if action.startswith("inspect_"):
        return frozenset({_S.RECEIVED, _S.RELEASED})
    return {
        "ship": frozenset({_S.AWAITING_SHIPMENT}),
        "receive": frozenset({_S.AWAITING_SHIPMENT, _S.IN_TRANSIT}),
        "receive_late": frozenset({_S.EXPIRED}),
        "hold": frozenset({_S.RECEIVED}),
        "release": frozenset({_S.ON_HOLD}),
        "surrender": frozenset({_S.ON_HOLD, _S.MISMATCH}),
        "accept": frozenset({_S.REVISED}),
        "decline": frozenset({_S.REVISED}),
        "start_return": frozenset({_S.RELEASED, _S.MISMATCH, _S.REVISION_DECLINED}),
        "returned": frozenset({_S.RETURNING}),
        # a confirmed device has a value here: it is paid for, not recycled
        "recycle": frozenset({_S.MISMATCH}),
        "settle": frozenset({_S.CONFIRMED, _S.REVISION_ACCEPTED}),
        "dispose": frozenset({_S.PAID, _S.CREDITED}),
    }[action]


def total_of(entries: Iterable[LedgerEntry], *kinds: EntryKind) -> Money:
    """The sum of the entries of ``kinds``."""
    return Money.total((entry.amount for entry in entries if entry.kind in kinds), EUR)


class LedgerMachine(RuleBasedStateMachine):
    """Checkouts and orders through the facade, against a model of what each device's terms owe."""

    orders = Bundle("orders")

    template: ClassVar[Path | None] = None
    """A data directory each run starts from a copy of (its database migrated once), else an empty one."""

    def __init__(self) -> None:
        """A fresh data directory: empty, or a copy of :attr:`template`."""
        super().__init__()
        self.data_dir = Path(tempfile.mkdtemp(prefix="ledger-machine-"))
        if self.template is not None:
            shutil.copytree(self.template, self.data_dir, dirs_exist_ok=True)
        self.clock = FixedClock(START)
        self.shop: TradeIn | None = None
        self.book: tuple[PromotionSpec, ...] = ()
        self.model: dict[str, OrderModel] = {}
        self.serial = 0
        self.billed_through = ""  # the latest billing period run so far
        self.runs = 0
        # order id → (its version and entries when last checked, the promotion shares it held then)
        self.checked: dict[str, tuple[tuple[int, tuple[LedgerEntry, ...]], list[tuple[str, Money]]]] = {}

    def teardown(self) -> None:
        """Check the audit chain a last time, close the facade and remove its data directory."""
        try:
            if self.shop is not None:
                assert self.shop.verify_audit().ok
        finally:
            if self.shop is not None:
                self.shop.close()
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def facade(self) -> TradeIn:
        """The facade (made by the initialize rule)."""
        assert self.shop is not None
        return self.shop

    # -- the shop and its checkouts ------------------------------------------------------------------

    @initialize(
        target=orders,
        book=st.none() | promotion_books(),
        tax=st.sampled_from([Decimal(0), Decimal(19)]),
        devices=DEVICES,
        plan=plans(),
        protection=st.none() | st.integers(0, 4),
        bank=st.booleans(),
    )
    def open_shop(
        self,
        *,
        book: tuple[PromotionSpec, ...] | None,
        tax: Decimal,
        devices: list[tuple[str, bool]],
        plan: Plan,
        protection: int | None,
        bank: bool,
    ) -> str:
        """An embedded shop (with or without promotions and clawback tax) and a first checkout."""
        self.book = book or ()
        self.shop = TradeIn.embedded(
            self.data_dir,
            database_url=f"sqlite:///{self.data_dir / DATABASE}",
            clock=self.clock,
            promotions=None if book is None else parse_promotions(book_document(book)),
            clawback_policy=ClawbackPolicy(tax_rate_percent=tax),
        )
        return self._open_checkout(devices, plan, protection, bank)

    @precondition(lambda self: len(self.model) < MAX_ORDERS)
    @rule(
        target=orders,
        devices=DEVICES,
        plan=plans(),
        protection=st.none() | st.integers(0, 4),
        bank=st.booleans(),
    )
    def open_checkout(
        self, devices: list[tuple[str, bool]], plan: Plan, protection: int | None, bank: bool
    ) -> str:
        """Another checkout, confirmed at once."""
        return self._open_checkout(devices, plan, protection, bank)

    def _open_checkout(
        self, devices: list[tuple[str, bool]], plan: Plan, protection: int | None, bank: bool
    ) -> str:
        shop = self.facade
        quotes = []
        for kind, with_imei in devices:
            traded = TRADED[kind]
            imei = None
            if with_imei:
                self.serial += 1
                imei = imei_number(self.serial)
            quotes.append(
                (traded, imei, shop.quote(traded.variant, answers(traded.answers), imei=imei).quote)
            )
        new_device = NewDevice(
            sku="SM-S931B-256", name="Galaxy S25", brand="Samsung", category="smartphone", price=plan.price
        )
        request = CheckoutRequest(
            quote_ids=tuple(quote.id for _, _, quote in quotes),
            new_device=new_device,
            timing=plan.timing,
            plan=plan.plan,
            months=plan.months,
            remainder_rule=plan.remainder,
        )
        if protection is not None:
            offers = shop.insurance_offers(request)
            request = attrs.evolve(request, insurance_offer_id=offers[protection % len(offers)].offer_id)
        summary = shop.checkout(request)
        usage = self._usage()
        shares = self._check_boosts(summary, [traded for traded, _, _ in quotes], usage)
        payout = BANK if bank or plan.method is SettlementMethod.BANK_TRANSFER else None
        assert not self._exceeds_budgets(shares, usage)  # a summary never promises more than a budget holds
        confirmed = shop.confirm_checkout(summary, payout=payout, insurance_accepted=protection is not None)
        order = confirmed.order
        left = min(summary.total_credit, plan.price)
        models = []
        for index, (traded, imei, quote) in enumerate(quotes, start=1):
            credit = quote.amount + Money.total(shares[index - 1].values(), EUR)
            if plan.timing is CreditTiming.DEFERRED:
                upfront = ZERO
            elif plan.plan is CreditPlan.DISCOUNT:
                upfront = min(credit, left)
                left = left - upfront
            else:
                upfront = credit
            models.append(
                DeviceModel(
                    device_id=f"d{index}",
                    traded=traded,
                    imei=imei,
                    quoted=quote.amount,
                    shares=shares[index - 1],
                    earned=dict(shares[index - 1]),
                    upfront=upfront,
                    offer=quote.amount,
                )
            )
        total_credit = Money.total((device.quoted for device in models), EUR) + Money.total(
            (share for device in models for share in device.shares.values()), EUR
        )
        assert summary.total_credit == total_credit
        charges = ZERO
        if summary.insurance is not None:
            charges = summary.insurance.premium.gross  # after the trade-in bundle discount
        self.model[order.id] = OrderModel(order_id=order.id, plan=plan, devices=models, charges=charges)
        ledger = shop.ledger(order.id)
        for device in models:
            assert ledger.devices[device.device_id].credited == device.upfront
            assert ledger.devices[device.device_id].promised == device.quoted + Money.total(
                device.shares.values(), EUR
            )
        assert ledger.total.charges == charges
        self._verify_states(order.id)
        return order.id

    def _usage(self) -> dict[str, tuple[int, Money]]:
        return self.facade.store.promotion_usage()

    def _check_boosts(
        self, summary: CheckoutSummary, traded: list[Traded], usage: Mapping[str, tuple[int, Money]]
    ) -> list[dict[str, Money]]:
        """Each device's boosts, checked against this test's own reading of the promotions."""
        shares = []
        spent = {spec.id: usage.get(spec.id, (0, ZERO))[1] for spec in self.book}
        for kind, trade_in in zip(traded, summary.trade_ins, strict=True):
            applied = {promotion.promotion_id: promotion.boost for promotion in trade_in.promotions}
            for spec in self.book:
                expected = spec.boost(kind.brand, kind.grade, trade_in.quoted)
                if spec.id in applied:
                    assert applied[spec.id] == expected
                    spent[spec.id] = spent[spec.id] + expected  # the next device sees what is left
                else:  # nothing to add, or it did not fit in what the devices before it left of the budget
                    assert expected.is_zero() or (
                        spec.budget is not None and spent[spec.id] + expected > Money(spec.budget, EUR)
                    )
            assert set(applied) <= {spec.id for spec in self.book}
            shares.append(applied)
        return shares

    def _exceeds_budgets(
        self, shares: list[dict[str, Money]], usage: Mapping[str, tuple[int, Money]]
    ) -> bool:
        for spec in self.book:
            wanted = Money.total((device[spec.id] for device in shares if spec.id in device), EUR)
            if spec.budget is not None and usage.get(spec.id, (0, ZERO))[1] + wanted > Money(
                spec.budget, EUR
            ):
                return True
        return False

    # -- choosing what to act on ---------------------------------------------------------------------

    def _legal(self, device: DeviceModel, action: str) -> bool:
        """Whether the facade must accept ``action`` on ``device`` now."""
        if device.state not in _sources(action):
            return False
        now = self.clock.now()
        if action == "ship":
            return device.send_by is not None and now <= device.send_by
        if action in {"accept", "decline"}:
            return device.respond_by is not None and now <= device.respond_by
        return True

    def _candidates(self, action: str) -> list[tuple[str, str]]:
        return [
            (order.order_id, device.device_id)
            for order in self.model.values()
            for device in order.devices
            if self._legal(device, action)
        ]

    def _orders_with(self, *states: DeviceState) -> list[str]:
        return [
            order.order_id
            for order in self.model.values()
            if any(device.state in states for device in order.devices)
        ]

    # -- acting -------------------------------------------------------------------------------------

    def _snapshot(self, order_id: str) -> tuple[object, ...]:
        """The order as stored (its document and version), its ledger and the promotion budgets."""
        store = self.facade.store
        return (store.get_order(order_id), tuple(store.ledger_entries(order_id)), self._usage())

    def _refused(self, order_id: str, action: Callable[[], object]) -> None:
        """``action`` must be refused with a typed error, and change nothing."""
        before = self._snapshot(order_id)
        with pytest.raises(IllegalTransitionError):
            action()
        assert self._snapshot(order_id) == before

    def _verify_states(self, order_id: str) -> None:
        order = self.facade.order(order_id)
        model = self.model[order_id]
        assert [device.state for device in order.devices] == [device.state for device in model.devices]

    def _act(self, order_id: str, device_id: str, action: str) -> None:
        """Try ``action`` on one device: done and as expected when legal, else refused without a change."""
        shop = self.facade
        model = self.model[order_id]
        device = model.device(device_id)
        calls: dict[str, Callable[[], object]] = {
            "ship": lambda: shop.ship(order_id, device_id, tracking=f"TRACK-{device_id}"),
            "receive": lambda: shop.receive(order_id, device_id),
            "receive_late": lambda: shop.record_event(
                order_id, device_id, EventKind.RECEIVE_LATE, actor=Actor.STAFF, reason="arrived late"
            ),
            "hold": lambda: shop.record_event(
                order_id, device_id, EventKind.HOLD, actor=Actor.STAFF, hold_reason=HoldReason.OWNERSHIP_CHECK
            ),
            "release": lambda: shop.record_event(
                order_id, device_id, EventKind.RELEASE, actor=Actor.STAFF, reason="ownership confirmed"
            ),
            "surrender": lambda: shop.record_event(
                order_id, device_id, EventKind.SURRENDER, actor=Actor.STAFF, reason="police request"
            ),
            "accept": lambda: shop.respond_to_revision(order_id, device_id, accept=True),
            "decline": lambda: shop.respond_to_revision(order_id, device_id, accept=False),
            "start_return": lambda: shop.record_event(
                order_id, device_id, EventKind.START_RETURN, actor=Actor.STAFF
            ),
            "returned": lambda: shop.record_event(order_id, device_id, EventKind.RETURNED, actor=Actor.STAFF),
            "recycle": lambda: shop.record_event(order_id, device_id, EventKind.RECYCLE, actor=Actor.SHOPPER),
            "settle": lambda: shop.settle(order_id, device_id),
            "dispose": lambda: shop.record_event(
                order_id, device_id, EventKind.DISPOSE, actor=Actor.STAFF, disposition=Disposition.RECYCLE
            ),
        }
        if action.startswith("inspect_"):
            flavour = action.removeprefix("inspect_")
            imei = device.imei
            variant = None
            if flavour == "mismatch":
                imei, variant = (OTHER_IMEI, None) if device.imei else (None, device.traded.other_variant)
            calls[action] = lambda: shop.inspect(
                order_id, device_id, inspector(device.traded, flavour), imei=imei, variant_id=variant
            )
        if not self._legal(device, action):
            self._refused(order_id, calls[action])
            return
        if action == "settle":
            self._settle(model, device)
        elif action.startswith("inspect_"):
            calls[action]()
            self._inspected(model, device, action.removeprefix("inspect_"))
        else:
            calls[action]()
            self._move(
                device,
                {
                    "ship": _S.IN_TRANSIT,
                    "receive": _S.RECEIVED,
                    "receive_late": _S.RECEIVED,
                    "hold": _S.ON_HOLD,
                    "release": _S.RELEASED,
                    "surrender": _S.SURRENDERED,
                    "accept": _S.REVISION_ACCEPTED,
                    "decline": _S.RETURNING,  # declined, and sent back at once
                    "start_return": _S.RETURNING,
                    "returned": _S.RETURNED,
                    "recycle": _S.RECYCLED,
                    "dispose": _S.DISPOSED,
                }[action],
            )
        self._verify_states(order_id)

    def _inspected(self, model: OrderModel, device: DeviceModel, flavour: str) -> None:
        found = self.facade.order(model.order_id).device(device.device_id)
        assert found.inspection is not None
        device.inspected = True
        device.offer = found.offer
        device.grade = found.inspection.pricing_grade
        assert device.offer <= device.quoted
        if flavour == "mismatch":
            assert found.inspection.major_mismatch
            self._move(device, _S.MISMATCH)
            return
        assert not found.inspection.major_mismatch
        expected_grade = {
            "as_declared": device.traded.grade,
            "worn": "good",
            "fair": "fair",
            "cracked": "damaged",
        }[flavour]
        assert device.grade == expected_grade
        matches = flavour == "as_declared" or (flavour == "worn" and device.traded.grade == "good")
        assert (device.offer == device.quoted) is matches
        if matches:
            self._move(device, _S.CONFIRMED)
        else:
            self._move(device, _S.REVISED)
            device.respond_by = self.clock.now() + RESPOND_WINDOW
            assert found.respond_by == device.respond_by

    def _settle(self, model: OrderModel, device: DeviceModel) -> None:
        shop = self.facade
        before = shop.ledger(model.order_id)
        amount = max(before.devices[device.device_id].open, ZERO)
        settled = shop.settle(model.order_id, device.device_id).device(device.device_id)
        bank = model.plan.method is SettlementMethod.BANK_TRANSFER and not amount.is_zero()
        self._move(device, _S.PAID if bank else _S.CREDITED)
        assert settled.settled == amount
        known = {entry.entry_id for entry in before.entries}
        posted = [
            entry
            for entry in shop.ledger(model.order_id).entries
            if entry.entry_id not in known and entry.device_id == device.device_id
        ]
        if model.plan.method is SettlementMethod.BILL_CREDITS and not amount.is_zero():
            assert model.plan.months is not None
            due = [entry for entry in posted if entry.kind is EntryKind.INSTALLMENT_DUE]
            assert len(due) == model.plan.months
            assert total_of(due, EntryKind.INSTALLMENT_DUE) == amount
            now = self.clock.now()
            assert [entry.due_period for entry in due] == [
                billing_period(now, month) for month in range(1, model.plan.months + 1)
            ]
        elif amount.is_zero():  # nothing open: a settlement mark of nothing
            assert [entry.amount for entry in posted] == [ZERO]
            assert posted[0].kind in {EntryKind.PAYOUT_MADE, EntryKind.VOUCHER_ISSUED}
        else:
            kind = EntryKind.PAYOUT_MADE if bank else EntryKind.VOUCHER_ISSUED
            assert [(entry.kind, entry.amount) for entry in posted] == [(kind, amount)]

    # -- rules per device --------------------------------------------------------------------------------

    @precondition(lambda self: bool(self._candidates("ship")))
    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        """The shopper hands a device to the carrier in time."""
        self._act(*data.draw(st.sampled_from(self._candidates("ship"))), "ship")

    @precondition(lambda self: bool(self._candidates("receive")))
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        """A device arrives (after a carrier scan or without one)."""
        self._act(*data.draw(st.sampled_from(self._candidates("receive"))), "receive")

    @precondition(lambda self: bool(self._candidates("receive_late")))
    @rule(data=st.data())
    def receive_late(self, data: st.DataObject) -> None:
        """Staff accept a device that arrived after it expired."""
        self._act(*data.draw(st.sampled_from(self._candidates("receive_late"))), "receive_late")

    @precondition(lambda self: bool(self._candidates("inspect_as_declared")))
    @rule(data=st.data(), flavour=st.sampled_from(FLAVOURS))
    def inspect(self, data: st.DataObject, flavour: str) -> None:
        """An inspection: as declared, worn, fair, cracked, or another device."""
        self._act(*data.draw(st.sampled_from(self._candidates("inspect_as_declared"))), f"inspect_{flavour}")

    @precondition(lambda self: bool(self._candidates("accept")))
    @rule(data=st.data(), accept=st.booleans())
    def respond(self, data: st.DataObject, accept: bool) -> None:
        """The shopper accepts a revised offer, or declines it (the device goes back)."""
        self._act(*data.draw(st.sampled_from(self._candidates("accept"))), "accept" if accept else "decline")

    @precondition(lambda self: bool(self._candidates("settle")))
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        """A confirmed device is settled: paid, vouchered or scheduled as bill credits."""
        self._act(*data.draw(st.sampled_from(self._candidates("settle"))), "settle")

    @precondition(
        lambda self: bool(
            self._candidates("start_return")
            + self._candidates("returned")
            + self._candidates("recycle")
            + self._candidates("surrender")
        )
    )
    @rule(data=st.data())
    def send_back_or_recycle(self, data: st.DataObject) -> None:
        """A device not bought goes back, arrives back, is recycled or surrendered."""
        choices = [
            (*pair, action)
            for action in ("start_return", "returned", "recycle", "surrender")
            for pair in self._candidates(action)
        ]
        self._act(*data.draw(st.sampled_from(choices)))

    def _advanceable(self) -> list[str]:
        return [
            order.order_id
            for order in self.model.values()
            if any(
                device.state is _S.ACCEPTED
                or any(self._legal(device, action) for action in NEXT.get(device.state, ()))
                for device in order.devices
            )
        ]

    @precondition(lambda self: bool(self._advanceable()))
    @rule(data=st.data(), steps=st.integers(1, 4))
    def advance(self, data: st.DataObject, steps: int) -> None:
        """Every device of one order takes up to ``steps`` steps on its way, each one of its choosing."""
        order_id = data.draw(st.sampled_from(self._advanceable()))
        model = self.model[order_id]
        for _ in range(steps):
            if any(device.state is _S.ACCEPTED for device in model.devices):
                self._issue_label(order_id)
            for device in model.devices:
                options = [action for action in NEXT.get(device.state, ()) if self._legal(device, action)]
                if options:
                    self._act(order_id, device.device_id, data.draw(st.sampled_from(options)))

    @rule(order_id=orders, index=st.integers(0, 2), action=st.sampled_from((*DEVICE_ACTIONS, "cancel")))
    def anything(self, order_id: str, index: int, action: str) -> None:
        """Any action on any device, or cancelling the order.

        Legal ones happen; the others are refused and change nothing.
        """
        if action == "cancel":
            self._cancel(order_id)
            return
        devices = self.model[order_id].devices
        self._act(order_id, devices[index % len(devices)].device_id, action)

    # -- rules per order ---------------------------------------------------------------------------------

    @precondition(lambda self: bool(self._orders_with(_S.ACCEPTED)))
    @rule(data=st.data())
    def issue_label(self, data: st.DataObject) -> None:
        """The label for every device not yet sent; the send-by deadline starts."""
        self._issue_label(data.draw(st.sampled_from(self._orders_with(_S.ACCEPTED))))

    def _issue_label(self, order_id: str) -> None:
        self.facade.issue_label(order_id)
        for device in self.model[order_id].devices:
            if device.state is _S.ACCEPTED:
                self._move(device, _S.AWAITING_SHIPMENT)
                device.send_by = self.clock.now() + SEND_WINDOW
        self._verify_states(order_id)

    def _cancel(self, order_id: str) -> None:
        """Cancel every device not yet sent (nothing happens to the others)."""
        self.facade.cancel(order_id)
        for device in self.model[order_id].devices:
            if device.state in {_S.ACCEPTED, _S.AWAITING_SHIPMENT}:
                self._move(device, _S.CANCELLED)
        self._verify_states(order_id)

    # -- time and billing ----------------------------------------------------------------------------

    @rule(days=st.integers(1, 20), tick=st.booleans())
    def let_time_pass(self, days: int, tick: bool) -> None:
        """Days pass; the scheduler's tick expires unsent devices and declines unanswered revisions."""
        self.clock.advance(days=days)
        if tick:
            self.tick()

    @rule()
    def tick(self) -> None:
        """The scheduler's tick: each due transition once."""
        now = self.clock.now()
        changed = set()
        for order in self.model.values():
            for device in order.devices:
                if (
                    device.state is _S.AWAITING_SHIPMENT
                    and device.send_by is not None
                    and now >= device.send_by
                ):
                    self._move(device, _S.EXPIRED)
                    changed.add(order.order_id)
                elif (
                    device.state is _S.REVISED and device.respond_by is not None and now >= device.respond_by
                ):
                    self._move(device, _S.REVISION_DECLINED)
                    changed.add(order.order_id)
        assert self.facade.tick() == len(changed)
        assert self.facade.tick() == 0
        for order_id in self.model:
            self._verify_states(order_id)

    def _all_entries(self) -> dict[str, tuple[LedgerEntry, ...]]:
        return {order_id: tuple(self.facade.store.ledger_entries(order_id)) for order_id in self.model}

    @rule(months_ahead=st.integers(0, 2), billed=st.none() | st.integers(0, 6))
    def billing_run(self, months_ahead: int, billed: int | None) -> None:
        """The carrier's billing run for this month or a later one credits each installment due once.

        With ``billed`` the carrier lists what is due, bills the first ``billed`` of them and credits exactly
        those (by id); without, every installment due up to the period is credited.
        """
        shop = self.facade
        period = billing_period(self.clock.now(), months_ahead)
        before = self._all_entries()
        due = {
            entry.entry_id: entry
            for entries in before.values()
            for entry in unsettled_installments(entries)
            if (entry.due_period or "") <= period
        }
        listed = [entry for _, entry in shop.installments_due(period)]
        assert sorted(entry.entry_id for entry in listed) == sorted(due)
        ids = None
        if billed is not None:
            ids = [entry.entry_id for entry in listed[:billed]]
            due = {key: due[key] for key in ids}
        self.runs += 1
        run_id = f"run-{self.runs}"
        count, totals = shop.credit_installments(period, run_id=run_id, ids=ids)
        assert count == len(due)
        assert totals == ({EUR: total_of(due.values(), EntryKind.INSTALLMENT_DUE)} if due else {})
        self.billed_through = max(self.billed_through, period)
        after = self._all_entries()
        known = {entry.entry_id for entries in before.values() for entry in entries}
        posted = [entry for entries in after.values() for entry in entries if entry.entry_id not in known]
        assert sorted(entry.settles or "" for entry in posted) == sorted(due)
        for entry in posted:
            assert entry.kind is EntryKind.INSTALLMENT_CREDITED
            assert entry.settles is not None
            assert (entry.amount, entry.due_period) == (
                due[entry.settles].amount,
                due[entry.settles].due_period,
            )
        # the same run again, the same period or the same installments in another run: nothing more
        assert shop.credit_installments(period, run_id=run_id, ids=ids) == (0, {})
        assert shop.credit_installments(period, ids=ids) == (0, {})
        assert self._all_entries() == after
        if ids is None:
            assert shop.installments_due(period) == []

    @precondition(
        lambda self: any(device.state in SETTLED for o in self.model.values() for device in o.devices)
    )
    @rule(data=st.data(), whole_order=st.booleans())
    def stop_installments(self, data: st.DataObject, whole_order: bool) -> None:
        """The contract ends: the installments not yet credited stop (of one device, or of the order)."""
        shop = self.facade
        pairs = [
            (order.order_id, device.device_id)
            for order in self.model.values()
            for device in order.devices
            if device.state in SETTLED
        ]
        order_id, device_id = data.draw(st.sampled_from(pairs))
        only = None if whole_order else device_id
        expected = [entry for entry in shop.ledger(order_id).installments if only in {None, entry.device_id}]
        stopped = shop.stop_installments(order_id, reason="contract_ended", device_id=only)
        assert sorted(entry.settles or "" for entry in stopped) == sorted(
            entry.entry_id for entry in expected
        )
        for entry in stopped:
            assert entry.kind is EntryKind.INSTALLMENT_STOPPED
            assert entry.device_id is not None
            self.model[order_id].device(entry.device_id).stopped += -entry.amount
        assert shop.stop_installments(order_id, reason="contract_ended", device_id=only) == []

    # -- invariants -------------------------------------------------------------------------------------

    def _earned_now(self, device: DeviceModel) -> dict[str, Money]:
        """Each promotion's share the device earns as it stands, as this test reads the terms."""
        if device.state in NOT_BOUGHT:
            return dict.fromkeys(device.shares, ZERO)
        if not device.inspected:
            return dict(device.shares)
        specs = {spec.id: spec for spec in self.book}
        return {
            promotion_id: min(
                share, specs[promotion_id].boost(device.traded.brand, device.grade, device.offer)
            )
            for promotion_id, share in device.shares.items()
        }

    def _move(self, device: DeviceModel, state: DeviceState) -> None:
        """The device is now in ``state``; a share it no longer earns is withdrawn for good."""
        device.state = state
        now = self._earned_now(device)
        device.earned = {key: min(share, now[key]) for key, share in device.earned.items()}

    @invariant()
    def ledgers_hold_the_terms(self) -> None:
        """Every ledger balances, owes what the terms owe, and the budgets hold what the ledgers owe.

        An order whose version and ledger did not change since the last check is not checked again (the
        checks are functions of both); the budgets are checked every time, the audit chain whenever an order
        changed.
        """
        if self.shop is None:
            return
        shop = self.shop
        budget_use: dict[str, Money] = defaultdict(lambda: ZERO)
        redemptions: Counter[str] = Counter()
        changed = False
        for order_id, model in self.model.items():
            key = (shop.store.get_order(order_id)[1], tuple(shop.store.ledger_entries(order_id)))
            checked = self.checked.get(order_id)
            if checked is None or checked[0] != key:
                changed = True
                shares = self._check_order(model, shop.order(order_id), shop.ledger(order_id))
                self.checked[order_id] = (key, shares)
            for promotion_id, share in self.checked[order_id][1]:
                budget_use[promotion_id] += share
                redemptions[promotion_id] += not share.is_zero()
        usage = self._usage()
        for spec in self.book:
            count, spent = usage.get(spec.id, (0, ZERO))
            assert spent == budget_use[spec.id], spec.id
            assert count == redemptions[spec.id], spec.id
        if changed:  # (and once more at the end: teardown)
            assert shop.verify_audit().ok

    def _check_order(
        self, model: OrderModel, order: TradeInOrder, ledger: OrderLedger
    ) -> list[tuple[str, Money]]:
        """Check one order's ledger against the model; return each device's promotion shares."""
        shop = self.facade
        assert [device.state for device in order.devices] == [device.state for device in model.devices]
        for balance in (ledger.total, *ledger.devices.values()):
            assert balance.paid + balance.credited + balance.open - balance.clawed_back == balance.owed
        for field in ("owed", "paid", "credited", "clawed_back", "scheduled"):
            parts = Money.total((getattr(balance, field) for balance in ledger.devices.values()), EUR)
            assert getattr(ledger.total, field) == parts, field
        assert ledger.total.charges - ledger.total.clawback_tax == model.charges
        outcome = shop.order_outcome(order.id)
        assert {device.device_id: device.clawback for device in outcome.devices} == shop.clawbacks(order.id)
        held = []
        for device in model.devices:
            balance = ledger.devices[device.device_id]
            mine = [entry for entry in ledger.entries if entry.device_id == device.device_id]
            shares = promotion_shares(mine)
            expected = device.earned
            for promotion_id, share in expected.items():
                assert shares.get(promotion_id, ZERO) == share, promotion_id
                assert ZERO <= share <= device.shares[promotion_id]
                held.append((promotion_id, share))
            assert set(shares) <= set(device.shares)
            owed = ZERO
            if device.state not in NOT_BOUGHT:
                owed = device.offer + Money.total(expected.values(), EUR) - device.stopped
            assert balance.owed == owed
            assert balance.open >= ZERO
            if device.state in SETTLED:
                assert balance.open == balance.scheduled
                if balance.scheduled.is_zero():
                    assert balance.open == ZERO
            credited = [entry for entry in mine if entry.kind is EntryKind.INSTALLMENT_CREDITED]
            due = [
                entry
                for entry in mine
                if entry.kind is EntryKind.INSTALLMENT_DUE and (entry.due_period or "") <= self.billed_through
            ]
            assert all((entry.due_period or "") <= self.billed_through for entry in credited)
            assert total_of(credited, EntryKind.INSTALLMENT_CREDITED) <= total_of(
                due, EntryKind.INSTALLMENT_DUE
            )
        self._reconciled(order, ledger.entries)
        return held

    def _reconciled(self, order: TradeInOrder, entries: tuple[LedgerEntry, ...]) -> None:
        """Reconciling the order as it stands posts nothing: the ledger already says what it means."""
        terms, _ = self.facade._ledger_terms(order)
        posting = reconcile(entries, order, terms, now=self.clock.now(), cause="check")
        assert posting.entries == ()
        assert posting.budget_changes == {}


def test_the_ledger_holds_through_any_lifecycle(tmp_path: Path) -> None:
    """Random checkouts and order lifecycles through the facade keep every ledger to its terms."""
    # each run starts from a copy of one database migrated here, with its key file
    TradeIn.embedded(
        tmp_path, database_url=f"sqlite:///{tmp_path / DATABASE}", clock=FixedClock(START)
    ).close()

    class FromTemplate(LedgerMachine):
        template = tmp_path

    run_state_machine_as_test(
        FromTemplate,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# -- the pure functions ----------------------------------------------------------------------------------

AT: Final = START
CENTS: Final = st.integers(min_value=-500_000, max_value=500_000)


def cents(value: int) -> Money:
    """``value`` minor units in euros."""
    return Money(Decimal(value) / 100, EUR)


@st.composite
def ledgers(draw: st.DrawFn) -> list[LedgerEntry]:
    """Any entries of any kinds on a few devices, some settling an earlier installment."""
    entries: list[LedgerEntry] = []
    for number in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(EntryKind))
        dues = [entry.entry_id for entry in entries if entry.kind is EntryKind.INSTALLMENT_DUE]
        settles = None
        if kind in {EntryKind.INSTALLMENT_CREDITED, EntryKind.INSTALLMENT_STOPPED} and dues:
            settles = draw(st.none() | st.sampled_from(dues))
        entries.append(
            LedgerEntry(
                entry_id=f"led_{number}",
                order_id="ord_1",
                device_id=draw(st.sampled_from([None, "d1", "d2"])),
                kind=kind,
                amount=cents(draw(CENTS)),
                at=AT,
                cause="test",
                reason=draw(st.sampled_from([None, "a", "b"])),
                settles=settles,
            )
        )
    return entries


@given(entries=ledgers())
def test_balances_net_any_entries(entries: list[LedgerEntry]) -> None:
    """Each balance is its group's sum, the identity holds, devices and order-wide entries add up."""
    total = balances(entries, EUR)
    assert total.paid + total.credited + total.open - total.clawed_back == total.owed

    def group(name: EntryGroup, items: Iterable[LedgerEntry]) -> Money:
        return Money.total((entry.amount for entry in items if GROUPS[entry.kind] is name), EUR)

    assert total.owed == group(EntryGroup.TERMS, entries)
    assert total.paid == group(EntryGroup.PAID, entries)
    assert total.credited == group(EntryGroup.CREDITED, entries)
    assert total.clawed_back == group(EntryGroup.CLAWED_BACK, entries)
    assert total.charges == group(EntryGroup.CHARGES, entries)
    assert total.promised == total_of(entries, EntryKind.TRADE_IN_CREDIT, EntryKind.PROMOTION)
    assert total.clawback_tax == total_of(entries, EntryKind.CLAWBACK_TAX)
    settled = {entry.settles for entry in entries}
    assert total.scheduled == Money.total(
        (e.amount for e in entries if e.kind is EntryKind.INSTALLMENT_DUE and e.entry_id not in settled), EUR
    )
    per_device = device_balances(entries, EUR)
    order_wide = balances([entry for entry in entries if entry.device_id is None], EUR)
    for field in ("owed", "paid", "credited", "clawed_back", "charges", "promised"):
        parts = [getattr(balance, field) for balance in (*per_device.values(), order_wide)]
        assert Money.total(parts, EUR) == getattr(total, field), field
    for balance in per_device.values():
        assert balance.paid + balance.credited + balance.open - balance.clawed_back == balance.owed


STATES: Final = st.sampled_from(DeviceState)


@st.composite
def reconcile_cases(draw: st.DrawFn) -> tuple[LedgerTerms, list[TradeInOrder]]:
    """Terms of 1–3 devices and a few successive versions of their order (states and inspections)."""
    count = draw(st.integers(1, 3))
    method = draw(st.sampled_from([None, *SettlementMethod]))
    devices = []
    for index in range(1, count + 1):
        quoted = cents(draw(st.integers(0, 100_000)))
        promotions = tuple(
            (promotion_id, cents(draw(st.integers(1, 10_000))))
            for promotion_id in draw(st.lists(st.sampled_from(["a", "b"]), unique=True))
        )
        credit = quoted + Money.total((share for _, share in promotions), EUR)
        upfront = draw(st.sampled_from([ZERO, credit, min(credit, cents(draw(st.integers(0, 100_000))))]))
        devices.append(
            DeviceTerms(
                device_id=f"d{index}",
                quote_id=f"q{index}",
                quoted=quoted,
                promotions=promotions,
                upfront=upfront,
            )
        )
    terms = LedgerTerms(
        source="chk_1",
        currency=EUR,
        devices=tuple(devices),
        upfront_kind=draw(st.sampled_from([EntryKind.DISCOUNT_APPLIED, EntryKind.VOUCHER_ISSUED])),
        method=method,
        months=draw(st.integers(1, 60)) if method is SettlementMethod.BILL_CREDITS else None,
        charge_promotions=draw(st.booleans()),
        clawback_tax_percent=draw(st.sampled_from([Decimal(0), Decimal(19), Decimal("7.5")])),
    )
    versions = []
    for _ in range(draw(st.integers(1, 4))):
        order_devices = []
        for device in devices:
            inspection = None
            if draw(st.booleans()):
                offer = cents(draw(st.integers(0, int(device.quoted.amount * 100))))
                judged = {  # what each promotion still adds for the device as inspected
                    promotion_id: min(share, cents(draw(st.integers(0, 10_000))))
                    for promotion_id, share in device.promotions
                }
                inspection = InspectionResult(
                    offer=offer,
                    inspected_value=offer,
                    mismatch=draw(st.sampled_from([(), (MismatchReason.IMEI_DIFFERS,)])),
                    pricing_grade="good",
                    promotions=draw(st.none() | st.just(judged)),
                )
            order_devices.append(
                OrderDevice(
                    id=device.device_id,
                    quote_id=device.quote_id,
                    variant_id=IPHONE,
                    quoted=device.quoted,
                    offer=device.quoted if inspection is None else inspection.offer,
                    upfront_credit=device.upfront,
                    state=draw(STATES),
                    inspection=inspection,
                )
            )
        order = TradeInOrder(id="ord_1", currency=EUR, created_at=AT, devices=tuple(order_devices))
        versions.append(order)
    return terms, versions


@given(case=reconcile_cases())
def test_reconcile_is_idempotent(case: tuple[LedgerTerms, list[TradeInOrder]]) -> None:
    """Whatever the order becomes, posting what it means twice posts nothing the second time.

    After each posting every device balances with nothing negative open, no promotion's share grew, and
    the budget changes posted carry each promotion's share from the checkout to what the ledger now holds.
    """
    terms, versions = case
    entries = opening_entries(terms, order_id="ord_1", now=AT)
    budget = promotion_shares(entries)
    for step, order in enumerate(versions):
        now = AT + timedelta(days=step)
        shares_before = {
            device.id: promotion_shares(entry for entry in entries if entry.device_id == device.id)
            for device in order.devices
        }
        posting = reconcile(entries, order, terms, now=now, cause=f"evt_{step}")
        entries = [*entries, *posting.entries]
        for promotion_id, change in posting.budget_changes.items():
            budget[promotion_id] = budget.get(promotion_id, ZERO) + change
        for cause, later in ((f"evt_{step}", now), ("again", now + timedelta(days=40))):
            again = reconcile(entries, order, terms, now=later, cause=cause)
            assert again.entries == ()
            assert again.budget_changes == {}
            assert again.redemption_changes == {}
        for device in order.devices:
            after = promotion_shares(entry for entry in entries if entry.device_id == device.id)
            assert all(share <= shares_before[device.id][key] for key, share in after.items())
        held = promotion_shares(entries)
        assert {key: value for key, value in budget.items() if not value.is_zero()} == {
            key: value for key, value in held.items() if not value.is_zero()
        }
        assert len({entry.entry_id for entry in entries}) == len(entries)
        for balance in device_balances(entries, EUR).values():
            assert balance.paid + balance.credited + balance.open - balance.clawed_back == balance.owed
            assert balance.open >= ZERO


@given(amount=st.integers(0, 10_000_000), months=st.integers(1, 60))
def test_bill_credits_add_up_to_the_settled_amount(amount: int, months: int) -> None:
    """A schedule (and the installments a settlement posts) sums to the amount exactly, larger cents first."""
    total = cents(amount)
    schedule = BillCreditSchedule.spread(total, months)
    assert len(schedule.installments) == months
    assert Money.total(schedule.installments, EUR) == total
    assert list(schedule.installments) == sorted(schedule.installments, reverse=True)
    assert schedule.installments[0] - schedule.installments[-1] <= cents(1)
    assert all(installment >= ZERO for installment in schedule.installments)

    terms = LedgerTerms(
        source="chk_1",
        currency=EUR,
        devices=(DeviceTerms(device_id="d1", quote_id="q1", quoted=total, upfront=ZERO),),
        method=SettlementMethod.BILL_CREDITS,
        months=months,
    )
    device = OrderDevice(
        id="d1",
        quote_id="q1",
        variant_id=IPHONE,
        quoted=total,
        offer=total,
        upfront_credit=ZERO,
        state=_S.CREDITED,
    )
    order = TradeInOrder(id="ord_1", currency=EUR, created_at=AT, devices=(device,))
    opening = opening_entries(terms, order_id="ord_1", now=AT)
    posted = reconcile(opening, order, terms, now=AT, cause="settle").entries
    due = [entry for entry in posted if entry.kind is EntryKind.INSTALLMENT_DUE]
    # one installment due per month from the next billing period, a month that credits nothing left out
    expected = [
        (installment, billing_period(AT, month))
        for month, installment in enumerate(schedule.installments, start=1)
        if not installment.is_zero()
    ]
    assert [(entry.amount, entry.due_period) for entry in due] == expected
    assert balances([*opening, *posted], EUR).open == total_of(due, EntryKind.INSTALLMENT_DUE)


# -- promotion budgets: several devices, a revised one ------------------------------------------------------


def _minimum_book(budget: str) -> PromotionBook:
    """At least 200 € for an iPhone in grade good or better, from ``budget``."""
    spec = PromotionSpec(
        id="minimum-200",
        kind="guaranteed_minimum",
        amount=Decimal(200),
        brands=("Apple",),
        min_grade="good",
        budget=Decimal(budget),
    )
    return parse_promotions(book_document([spec]))


def test_a_checkout_offers_only_what_its_budget_holds(tmp_path: Path) -> None:
    """Two iPhones (150 € each) against a 60 € budget: the summary offers 50 € once, not twice.

    The second trade-in is evaluated against what the first leaves of the budget, so the summary the shopper
    sees is one the shop can confirm.
    """
    shop = TradeIn.embedded(tmp_path, clock=FixedClock(START), promotions=_minimum_book("60.00"))
    try:
        quotes = tuple(shop.quote(IPHONE, answers("worn")).quote.id for _ in range(2))
        new = NewDevice(sku="X", name="X", brand="Samsung", category="smartphone", price=FULL_PRICE)
        summary = shop.checkout(CheckoutRequest(quote_ids=quotes, new_device=new))
        boosts = [promotion.boost for trade_in in summary.trade_ins for promotion in trade_in.promotions]
        assert Money.total(boosts, EUR) == Money("50.00", EUR)
        shop.confirm_checkout(summary)
    finally:
        shop.close()


def test_a_reserved_share_survives_a_small_budget(tmp_path: Path) -> None:
    """A flawless iPhone (195 €, +5 € reserved) found worn (grade good) keeps its 5 €, whatever the budget.

    The boost the inspected device would get now (50 €) is more than the whole budget (40 €); the share was
    reserved at checkout, so the budget does not count again.
    """
    shop = TradeIn.embedded(tmp_path, clock=FixedClock(START), promotions=_minimum_book("40.00"))
    try:
        quote = shop.quote(IPHONE, answers("flawless")).quote
        new = NewDevice(sku="X", name="X", brand="Samsung", category="smartphone", price=FULL_PRICE)
        order = shop.confirm_checkout(
            shop.checkout(CheckoutRequest(quote_ids=(quote.id,), new_device=new))
        ).order
        shop.issue_label(order.id)
        shop.receive(order.id, "d1")
        shop.inspect(order.id, "d1", inspector(TRADED["iphone-flawless"], "worn"))
        entries = shop.ledger(order.id).entries
        assert [entry.kind for entry in entries if entry.kind in PROMOTION_KINDS] == [EntryKind.PROMOTION]
        assert promotion_shares(entries) == {"minimum-200": Money("5.00", EUR)}
        assert shop.store.promotion_usage() == {"minimum-200": (1, Money("5.00", EUR))}
    finally:
        shop.close()
