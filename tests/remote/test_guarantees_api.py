"""Forward trade-in over HTTP: offers, the signed contract, its status, the liability, the buyer's calendar.

A Samsung Galaxy S23 128 GB is bought on 4 December 2026 for 899.00 € with the plan ``buyback-24``: 50 % of
the price (449.50 €) up to month 13, exercisable from 4 December 2027. A year later (10 December 2027) the
same phone declared in grade good is quoted at 144.00 €; the guarantee pays 449.50 €. The shop's key offers,
sells, checks out and redeems; the back office's key inspects, exercises and settles. Results are the
facade's types (equal to what the facade answers); the signed contract verifies offline with the published
keys; refusals carry their rule; bad input is a typed 4xx naming the field, never a 500.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, DeviceState, Money, TradeIn
from tradein_sdk._domain.checkout import CheckoutRequest, NewDevice
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.guarantees import (
    CONTRACT_PURPOSE,
    ExerciseBasis,
    InflowCalendar,
    InflowLine,
    InflowStatus,
    ResidualCurve,
)
from tradein_sdk._domain.signing import verify_document
from tradein_sdk._domain.tenancy import Role
from tradein_sdk._errors import (
    CheckoutInvalidError,
    DeviceNotFoundError,
    GuaranteeError,
    GuaranteeNotFoundError,
    NotFoundAPIError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from tradein_sdk._remote.openapi import openapi_document
from tradein_sdk._remote.service import TradeInService
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradein_sdk import FixedClock
    from tradein_sdk._remote.client import TradeInClient

S23 = "samsung-galaxy-s23-128gb"
IPHONE = "apple-iphone-13-128gb"
PLAN = "buyback-24"
BANK = BankTransfer(iban="DE89370400440532013000", holder="Erika Mustermann")
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")
BOUGHT = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
A_YEAR_LATER = dt.datetime(2027, 12, 10, 10, 0, tzinfo=dt.UTC)
PRICE: dict[str, str] = {"amount": "899.00", "currency": "EUR"}


def eur(amount: str) -> Money:
    """An amount in euros."""
    return Money(Decimal(amount), "EUR")


def galaxy(**changes: Any) -> dict[str, Any]:  # noqa: ANN401
    """The Galaxy S23 as its owner declares it a year later: light wear, grade good."""
    answers = dict(example_answers("smartphone", "worn").answers)
    answers.pop("find_my_off")
    return {
        **answers,
        "platform": "samsung",
        "google_account_removed": True,
        "samsung_account_removed": True,
        **changes,
    }


def as_inspected(answers: dict[str, Any]) -> dict[str, Any]:
    """The inspector's answers: the given ones and clean staff checks."""
    store = example_answers("smartphone", "store-inspected").answers
    return {**answers, **{key: store[key] for key in STAFF_CHECKS}}


@pytest.fixture
def start() -> dt.datetime:
    """The day the Galaxy S23 is bought."""
    return BOUGHT


@pytest.fixture
def fake(any_store_trade_in: TradeIn) -> Iterator[FakeTradeInService]:
    """The fake service on the embedded facade of each store kind, at the test's clock, started."""
    with FakeTradeInService(any_store_trade_in) as service:
        yield service


def http_of(fake: FakeTradeInService, role: Role = Role.SHOP) -> httpx.Client:
    """A plain httpx client of the fake service with the key of ``role``."""
    headers = {"Authorization": f"Bearer {fake.api_keys[role]}"}
    return httpx.Client(base_url=fake.base_url, headers=headers)


def sell(client: TradeInClient, **options: Any) -> str:  # noqa: ANN401
    """Sell ``buyback-24`` with the Galaxy S23 at 899.00 € over HTTP; the contract's id."""
    envelope = client.sell_guarantee(PLAN, S23, eur("899.00"), **options)
    contract_id: str = envelope["payload"]["id"]
    return contract_id


def test_offers_contract_status_liability_and_calendar_over_http(fake: FakeTradeInService) -> None:
    """Every read is the facade's answer; the contract verifies offline with the published keys."""
    shop, facade = fake.client(role="shop"), fake.facade("shop")
    offers = shop.offer_guarantees(S23, eur("899.00"))
    assert offers == facade.offer_guarantees(S23, eur("899.00"))
    (offer,) = offers
    assert offer.plan_id == PLAN
    assert [line.amount for line in offer.schedule] == [eur("449.50"), eur("359.60"), eur("314.65")]
    assert (offer.fee, offer.exercisable_from, offer.expires_on) == (
        eur("29.00"),
        dt.date(2027, 12, 4),
        dt.date(2029, 1, 3),
    )
    assert shop.offer_guarantees(S23, eur("899.00"), channel="store", customer_case="business") == offers

    envelope = shop.sell_guarantee(
        PLAN, S23, eur("899.00"), imei="490154203237518", customer_ref="acme-gmbh", cost_centre="IT"
    )
    payload = verify_document(envelope, shop.certificate_keys(), purpose=CONTRACT_PURPOSE)
    contract_id = payload["id"]
    assert (payload["device"], payload["imei"], payload["plan"]["id"]) == (S23, "490154203237518", PLAN)
    assert shop.guarantee_document(contract_id) == envelope == facade.guarantee_document(contract_id)
    contract = shop.guarantee(contract_id)
    assert contract == facade.guarantee(contract_id)
    assert contract.offer.schedule == offer.schedule

    status = shop.guarantee_status(contract_id)
    assert isinstance(status, InflowLine)
    assert status == facade.guarantee_status(contract_id)
    assert (status.status, status.expected, status.month, status.cost_centre) == (
        InflowStatus.OPEN,
        eur("449.50"),
        "2027-12",
        "IT",
    )
    later = shop.guarantee_status(contract_id, as_of=dt.date(2029, 2, 1))
    assert later.status is InflowStatus.LAPSED

    sell(shop, customer_ref="acme-gmbh", cost_centre="Sales")
    with http_of(fake) as http:
        liability = http.get("/v1/guarantees/liability")
        calendar = http.get("/v1/customers/acme-gmbh/guarantee-calendar")
    assert liability.status_code == 200
    assert liability.json() == facade.guarantee_liability().to_json()
    (month,) = liability.json()["months"]
    assert (month["month"], month["contracts"], month["guaranteed"]) == (
        "2027-12",
        2,
        {"amount": "899.00", "currency": "EUR"},
    )
    assert liability.json()["totals"]["reserve"] == month["reserve"]
    assert shop.guarantee_liability() == facade.guarantee_liability()

    assert calendar.status_code == 200
    assert calendar.json() == facade.guarantee_calendar("acme-gmbh").to_json()
    assert [(total["cost_centre"], total["expected"]["amount"]) for total in calendar.json()["totals"]] == [
        ("IT", "449.50"),
        ("Sales", "449.50"),
    ]
    read = shop.guarantee_calendar("acme-gmbh")
    assert isinstance(read, InflowCalendar)
    assert read == facade.guarantee_calendar("acme-gmbh")
    assert shop.guarantee_calendar("nobody").lines == ()

    async def remote() -> tuple[InflowLine, InflowCalendar, dict[str, Any]]:
        async with fake.async_client(role="shop") as client:
            return (
                await client.guarantee_status(contract_id),
                await client.guarantee_calendar("acme-gmbh"),
                await client.guarantee_document(contract_id),
            )

    assert asyncio.run(remote()) == (status, read, envelope)


def test_the_liability_curve_travels_as_its_figures(fake: FakeTradeInService) -> None:
    """A client's curve is sent as its five figures and computed with by the service, as the facade does."""
    shop, facade = fake.client(role="shop"), fake.facade("shop")
    sell(shop)
    curve = ResidualCurve(low=Decimal("0.9"), central=Decimal("0.95"), minimum=Decimal("0.1"))
    remote = shop.guarantee_liability(curve=curve, as_of=dt.date(2027, 1, 1), currency="EUR")
    assert remote == facade.guarantee_liability(curve=curve, as_of=dt.date(2027, 1, 1), currency="EUR")
    assert remote != shop.guarantee_liability(as_of=dt.date(2027, 1, 1))
    with http_of(fake) as http:
        answer = http.get(
            "/v1/guarantees/liability", params={"central": "0.95", "low": "0.9", "minimum": "0.1"}
        )
    assert answer.json() == facade.guarantee_liability(curve=curve).to_json()


NEW_DEVICE = NewDevice(
    sku="SM-S911B-128",
    name="Samsung Galaxy S23",
    brand="Samsung",
    category="smartphone",
    price=eur("899.00"),
    catalog_id=S23,
)


def worn() -> dict[str, Any]:
    """The traded iPhone 13 as declared: light wear."""
    return dict(example_answers("smartphone", "worn").answers)


def buy_with_guarantee(fake: FakeTradeInService) -> tuple[str, str]:
    """Check the Galaxy S23 out with ``buyback-24`` accepted, the confirm request written by hand.

    Returns:
        The contract's id and the order the checkout opened.
    """
    shop = fake.client(role="shop")
    traded = shop.quote(IPHONE, worn()).quote
    summary = shop.checkout(
        CheckoutRequest(quote_ids=(traded.id,), new_device=NEW_DEVICE, guarantee_plan_id=PLAN)
    )
    assert summary.guarantee is not None
    assert [offer.plan_id for offer in summary.guarantee_offers] == [PLAN]
    assert summary.due_now == eur("899.00") - traded.amount + eur("29.00")
    with http_of(fake) as http:  # the confirm body names the decision; the answer carries the contract
        body = {
            "summary": json_converter().unstructure(summary),
            "payout": json_converter().unstructure(BANK),
            "guarantee_accepted": True,
        }
        answer = http.post("/v1/checkouts/confirm", json=body)
    assert answer.status_code == 201, answer.text
    payload = verify_document(answer.json()["guarantee"], shop.certificate_keys(), purpose=CONTRACT_PURPOSE)
    consent = answer.json()["guarantee_consent"]
    assert (consent["decision"], consent["contract_id"], consent["offered"]) == (
        "accepted",
        payload["id"],
        [PLAN],
    )
    return payload["id"], answer.json()["order"]["id"]


def test_a_guarantee_chosen_at_checkout_is_signed_and_consented_over_http(fake: FakeTradeInService) -> None:
    """Accepted: the contract, its consent and the contingent liability; declined: the opt-out only."""
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    contract_id, sold_order = buy_with_guarantee(fake)
    assert office.ledger(sold_order).total.contingent == eur("449.50")
    assert shop.guarantee(contract_id).device == S23
    request = CheckoutRequest(
        quote_ids=(shop.quote(IPHONE, worn()).quote.id,), new_device=NEW_DEVICE, guarantee_plan_id=PLAN
    )
    declined = shop.confirm_checkout(shop.checkout(request), guarantee_accepted=False)
    assert declined.guarantee is None
    assert declined.guarantee_consent is not None
    assert (declined.guarantee_consent.decision, declined.guarantee_consent.offered) == ("declined", (PLAN,))
    assert office.ledger(declined.order.id).total.contingent == eur("0")
    accepted = shop.confirm_checkout(
        shop.checkout(attrs.evolve(request, quote_ids=(shop.quote(IPHONE, worn()).quote.id,))),
        guarantee_accepted=True,
    )
    assert accepted.guarantee is not None
    assert accepted.guarantee_consent is not None
    contract_id = accepted.guarantee["payload"]["id"]
    assert accepted.guarantee_consent.contract_id == contract_id
    assert shop.guarantee_document(contract_id) == accepted.guarantee
    consent = shop.guarantee_consent(accepted.order.id)
    assert consent == fake.facade("shop").guarantee_consent(accepted.order.id)
    assert consent is not None
    assert (consent.decision, consent.contract_id) == ("accepted", contract_id)
    assert shop.guarantee_consent(declined.order.id) == declined.guarantee_consent
    plain = shop.accept([shop.quote(IPHONE, worn()).token])
    assert shop.guarantee_consent(plain.id) is None


def test_the_promise_is_shown_before_redeeming_and_writes_nothing(
    fake: FakeTradeInService, clock: FixedClock
) -> None:
    """The promise for today's quote: refused while not exercisable, 449.50 a year later; nothing changes."""
    shop = fake.client(role="shop")
    contract_id, _ = buy_with_guarantee(fake)
    with pytest.raises(GuaranteeError) as early:
        shop.guarantee_promise(contract_id, shop.quote(S23, galaxy()).token)
    assert early.value.rule == "not_yet_exercisable"
    clock.set(A_YEAR_LATER)
    issued = shop.quote(S23, galaxy())
    promise = shop.guarantee_promise(contract_id, issued.token, idempotency_key="not-sent")
    assert promise == fake.facade("shop").guarantee_promise(contract_id, issued.token)
    assert (promise.amount, promise.basis, promise.market) == (
        eur("449.50"),
        ExerciseBasis.GUARANTEED,
        eur("144.00"),
    )
    assert shop.guarantee_status(contract_id).status is InflowStatus.OPEN
    assert shop.get_quote(issued.quote.id).redemption is None
    with pytest.raises(GuaranteeError) as other:  # a quote for another device than the contract's
        shop.guarantee_promise(contract_id, shop.quote(IPHONE, worn()).token)
    assert other.value.rule == "device_mismatch"
    assert shop.redeem_guarantee(contract_id, issued.token).device("d1").quoted == promise.amount


def test_a_guarantee_is_redeemed_a_year_later_and_settled_once(
    fake: FakeTradeInService, clock: FixedClock
) -> None:
    """A year later the order that exercises it promises 449.50 (the market says 144.00) and pays it once."""
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    contract_id, sold_order = buy_with_guarantee(fake)
    clock.set(A_YEAR_LATER)
    issued = shop.quote(S23, galaxy())
    assert issued.quote.amount == eur("144.00")
    order = shop.redeem_guarantee(contract_id, issued.token)
    device = order.device("d1")
    assert device.quoted == eur("449.50")
    assert device.guarantee is not None
    assert device.guarantee.contract_id == contract_id
    status = shop.guarantee_status(contract_id)
    assert (status.status, status.order_id) == (InflowStatus.IN_PROGRESS, order.id)
    with pytest.raises(GuaranteeError) as held:
        shop.redeem_guarantee(contract_id, shop.quote(S23, galaxy()).token)
    assert held.value.rule == "already_exercised"
    assert isinstance(held.value, UnprocessableEntityError)

    shop.issue_label(order.id)
    shop.ship(order.id, "d1", tracking="TRACK1")
    office.receive(order.id, "d1")
    office.inspect(order.id, "d1", as_inspected(galaxy()))
    assert office.order(order.id).device("d1").state is DeviceState.CONFIRMED
    paid = office.settle(order.id, "d1", payout=BANK)
    assert paid.device("d1").state is DeviceState.PAID
    ledger = office.ledger(order.id)
    assert (ledger.total.promised, ledger.total.paid, ledger.total.open) == (
        eur("449.50"),
        eur("449.50"),
        eur("0"),
    )
    assert office.ledger(sold_order).total.contingent == eur("0")
    exercised = shop.guarantee_status(contract_id)
    assert (exercised.status, exercised.received, exercised.received_on, exercised.order_id) == (
        InflowStatus.EXERCISED,
        eur("449.50"),
        A_YEAR_LATER.date(),
        order.id,
    )
    with http_of(fake) as http:
        again = http.post(
            f"/v1/guarantees/contracts/{contract_id}/redeem", json={"token": shop.quote(S23, galaxy()).token}
        )
        assert (again.status_code, again.json()["code"], again.json()["params"]["rule"]) == (
            422,
            "guarantee_error",
            "already_exercised",
        )
        assert http.get("/v1/guarantees/liability").json()["months"] == []


def test_exercise_refusals_carry_their_rule(fake: FakeTradeInService) -> None:
    """Not yet exercisable, expired, exercised already: 422 ``guarantee_error`` with the rule.

    A retry of the same request (its Idempotency-Key) gets the first answer again.
    """
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    today = sell(shop)
    with pytest.raises(GuaranteeError) as early:
        office.exercise_guarantee(today, grade="good", locked=False, market=eur("144.00"))
    assert early.value.rule == "not_yet_exercisable"
    assert isinstance(early.value, UnprocessableEntityError)
    assert early.value.status == 422

    expired = sell(shop, purchased_on=dt.date(2024, 6, 1))
    with pytest.raises(GuaranteeError) as late:
        office.exercise_guarantee(expired, grade="good", locked=False, market=eur("144.00"))
    assert late.value.rule == "expired"

    due = sell(shop, purchased_on=dt.date(2025, 12, 1))  # 12 months old today: in the window
    done = office.exercise_guarantee(
        due, grade="good", locked=False, market=eur("144.00"), idempotency_key="exercise-1"
    )
    assert (done.amount, done.basis, done.floor_met) == (eur("449.50"), ExerciseBasis.GUARANTEED, True)
    repeat = office.exercise_guarantee(
        due, grade="good", locked=False, market=eur("144.00"), idempotency_key="exercise-1"
    )
    assert repeat == done
    with pytest.raises(GuaranteeError) as twice:
        office.exercise_guarantee(due, grade="good", locked=False, market=eur("144.00"))
    assert twice.value.rule == "already_exercised"
    assert shop.guarantee_status(due).status is InflowStatus.EXERCISED

    with pytest.raises(PermissionDeniedError):  # an online shop does not inspect devices
        shop.exercise_guarantee(due, grade="good", locked=False, market=eur("144.00"))
    with http_of(fake, Role.BACK_OFFICE) as http:
        answer = http.post(
            f"/v1/guarantees/contracts/{expired}/exercise",
            json={"grade": None, "locked": True, "market": {"amount": "10.00", "currency": "EUR"}},
        )
    problem = answer.json()
    assert (answer.status_code, answer.headers["content-type"]) == (422, "application/problem+json")
    assert (problem["code"], problem["params"]["rule"], problem["params"]["contract"]) == (
        "guarantee_error",
        "expired",
        expired,
    )


def test_an_unknown_contract_is_not_found(fake: FakeTradeInService) -> None:
    """Every operation on a contract id that does not exist: 404 ``guarantee_not_found``."""
    shop, office = fake.client(role="shop"), fake.client(role="back_office")
    with pytest.raises(GuaranteeNotFoundError) as missing:
        shop.guarantee("gtc_missing")
    assert isinstance(missing.value, NotFoundAPIError)
    assert missing.value.contract_id == "gtc_missing"
    with pytest.raises(GuaranteeNotFoundError):
        office.exercise_guarantee("gtc_missing", grade="good", locked=False, market=eur("1.00"))
    with pytest.raises(GuaranteeNotFoundError):
        shop.redeem_guarantee("gtc_missing", shop.quote(S23, galaxy()).token)
    with http_of(fake) as http:
        for path in ("", "/document", "/status"):
            answer = http.get(f"/v1/guarantees/contracts/gtc_missing{path}")
            assert (answer.status_code, answer.json()["code"]) == (404, "guarantee_not_found"), path


Expected = tuple[int, str, str | None]
"""A refusal: its status, its problem code and the JSON path (or query parameter) a problem names."""


def refused(answer: httpx.Response, expected: Expected, case: object) -> None:
    """Check that ``answer`` is the problem document ``expected`` describes."""
    status, code, where = expected
    problem = answer.json()
    context = (case, answer.text[:300])
    assert (answer.status_code, problem["code"]) == (status, code), context
    assert answer.headers["content-type"] == "application/problem+json", context
    if where is not None:
        assert where in [item["path"] for item in problem.get("problems", [])], context


def test_bad_guarantee_input_is_a_typed_4xx_naming_the_field(fake: FakeTradeInService) -> None:
    """Malformed amounts, ids, days and figures, an unknown plan or device: 4xx naming where, never a 500."""
    sale = {"plan_id": PLAN, "device_id": S23, "price": PRICE}
    sales: list[tuple[dict[str, Any], Expected]] = [
        ({"price": {"amount": 899.0, "currency": "EUR"}}, (400, "request_invalid", "$.price")),
        ({"price": {"amount": "lots", "currency": "EUR"}}, (400, "request_invalid", "$.price")),
        ({"price": "899.00"}, (400, "request_invalid", "$.price")),
        ({"plan_id": "platinum"}, (422, "guarantee_error", "$.plan_id")),
        ({"plan_id": "no plan!"}, (400, "request_invalid", "$.plan_id")),
        ({"device_id": "nokia-3310"}, (404, "device_not_found", "$.device_id")),
        ({"channel": "kiosk"}, (400, "request_invalid", "$.channel")),
        ({"purchased_on": "04.12.2026"}, (400, "request_invalid", "$.purchased_on")),
        ({"imei": "12345"}, (422, "invalid_imei", None)),
        ({"customer_ref": "x" * 65}, (400, "request_invalid", "$.customer_ref")),
        ({"actor": "staff"}, (400, "request_invalid", None)),
    ]
    offers: list[tuple[dict[str, Any], Expected]] = [
        ({"device_id": S23, "price": {"amount": "899", "currency": "USD"}}, (422, "guarantee_error", None)),
        ({"device_id": S23}, (400, "request_invalid", None)),
    ]
    due = sell(fake.client(role="shop"), purchased_on=dt.date(2025, 12, 1))
    market = {"amount": "144.00", "currency": "EUR"}
    exercises: list[tuple[dict[str, Any], Expected]] = [
        ({"grade": "mint", "locked": False, "market": market}, (400, "request_invalid", "$.grade")),
        ({"locked": False, "market": market}, (400, "request_invalid", None)),
        ({"grade": "good", "locked": "no", "market": market}, (400, "request_invalid", "$.locked")),
        (
            {"grade": "good", "locked": False, "market": {"amount": "1", "currency": "USD"}},
            (422, "guarantee_error", None),
        ),
    ]
    reads: list[tuple[str, dict[str, str], Expected]] = [
        (
            f"/v1/guarantees/contracts/{due}/status",
            {"as_of": "tomorrow"},
            (400, "request_invalid", "query.as_of"),
        ),
        ("/v1/guarantees/liability", {"low": "1.5"}, (400, "request_invalid", "query.low")),
        ("/v1/guarantees/liability", {"central": "NaN"}, (400, "request_invalid", "query.central")),
        ("/v1/guarantees/liability", {"currency": "eur"}, (400, "request_invalid", "query.currency")),
        ("/v1/guarantees/liability", {"curve": "low"}, (400, "request_invalid", None)),
        (
            "/v1/customers/acme/guarantee-calendar",
            {"as_of": "2026-13-01"},
            (400, "request_invalid", "query.as_of"),
        ),
    ]
    new_device = {**json_converter().unstructure(NEW_DEVICE), "device_category": "phablet"}
    with http_of(fake) as shop, http_of(fake, Role.BACK_OFFICE) as office:
        for changes, expected in sales:
            refused(shop.post("/v1/guarantees/contracts", json={**sale, **changes}), expected, changes)
        for body, expected in offers:
            refused(shop.post("/v1/guarantees/offers", json=body), expected, body)
        for body, expected in exercises:
            refused(office.post(f"/v1/guarantees/contracts/{due}/exercise", json=body), expected, body)
        for path, params, expected in reads:
            refused(shop.get(path, params=params), expected, (path, params))
        redeemed = shop.post(f"/v1/guarantees/contracts/{due}/redeem", json={"token": "not-a-token"})
        refused(redeemed, (422, "token_malformed", None), "redeem")
        checkout = {"quote_ids": ["q_1"], "new_device": new_device, "guarantee_plan_id": PLAN}
        refused(
            shop.post("/v1/checkouts", json=checkout),
            (400, "request_invalid", "$.new_device.device_category"),
            "category",
        )
        confirm = {"summary": {}, "guarantee_accepted": "yes"}
        refused(shop.post("/v1/checkouts/confirm", json=confirm), (400, "request_invalid", None), "accepted")
    assert fake.facade("shop").guarantee_status(due).status is InflowStatus.OPEN  # nothing was exercised


def test_an_unknown_plan_is_refused_by_name_by_the_clients(fake: FakeTradeInService) -> None:
    """The client raises the facade's errors: the rule, the plan, the field; at checkout the plan is named."""
    shop = fake.client(role="shop")
    with pytest.raises(GuaranteeError) as unknown:
        shop.sell_guarantee("platinum", S23, eur("899.00"))
    assert (unknown.value.rule, unknown.value.params["plan"]) == ("not_eligible", "platinum")
    assert [problem.path for problem in unknown.value.problems] == ["$.plan_id"]  # type: ignore[attr-defined]
    with pytest.raises(GuaranteeError) as uncovered:  # a plan that exists but not for a 120 € phone
        shop.sell_guarantee(PLAN, S23, eur("120.00"))
    assert uncovered.value.rule == "not_eligible"
    with pytest.raises(DeviceNotFoundError):
        shop.offer_guarantees("nokia-3310", eur("99.00"))
    assert shop.offer_guarantees(S23, eur("120.00")) == ()
    traded = shop.quote(IPHONE, worn()).quote
    new = NEW_DEVICE
    with pytest.raises(CheckoutInvalidError, match="upgrade-12"):  # not offered without a financed amount
        shop.checkout(CheckoutRequest(quote_ids=(traded.id,), new_device=new, guarantee_plan_id="upgrade-12"))
    financed = shop.checkout(
        CheckoutRequest(
            quote_ids=(traded.id,),
            new_device=new,
            guarantee_plan_id="upgrade-12",
            financed_amount=eur("899.00"),
        )
    )
    assert financed.guarantee is not None
    assert financed.guarantee.plan_id == "upgrade-12"


def test_another_tenants_contract_is_not_found(any_store_trade_in: TradeIn) -> None:
    """Berlin's contract: Rome's key gets 404 for it, nothing of it in its calendar or liability."""
    keys = {
        "berlin@carrier-x:shop": "berlin-shop-key-0123456789",
        "rome@carrier-y:shop": "rome-shop-key-0123456789",
    }
    service = TradeInService(any_store_trade_in, api_keys=keys)
    berlin, rome = ({"Authorization": f"Bearer {key}"} for key in keys.values())
    with httpx.Client(transport=httpx.WSGITransport(app=service), base_url="http://service") as http:
        sold = http.post(
            "/v1/guarantees/contracts",
            json={"plan_id": PLAN, "device_id": S23, "price": PRICE, "customer_ref": "cus-shared"},
            headers=berlin,
        )
        assert sold.status_code == 201, sold.text
        contract_id = sold.json()["payload"]["id"]
        for path in ("", "/document", "/status"):
            assert (
                http.get(f"/v1/guarantees/contracts/{contract_id}{path}", headers=berlin).status_code == 200
            )
            answer = http.get(f"/v1/guarantees/contracts/{contract_id}{path}", headers=rome)
            assert (answer.status_code, answer.json()["code"]) == (404, "guarantee_not_found")
        token = http.post("/v1/quotes", json={"device_id": S23, "answers": galaxy()}, headers=rome).json()[
            "token"
        ]
        redeemed = http.post(
            f"/v1/guarantees/contracts/{contract_id}/redeem", json={"token": token}, headers=rome
        )
        assert (redeemed.status_code, redeemed.json()["code"]) == (404, "guarantee_not_found")
        calendar = http.get("/v1/customers/cus-shared/guarantee-calendar", headers=rome)
        assert calendar.json()["lines"] == []
        assert (
            len(http.get("/v1/customers/cus-shared/guarantee-calendar", headers=berlin).json()["lines"]) == 1
        )
        assert http.get("/v1/guarantees/liability", headers=rome).json()["months"] == []
        assert http.get("/v1/guarantees/liability", headers=berlin).json()["months"][0]["contracts"] == 1


def test_the_answers_are_what_the_openapi_document_says(fake: FakeTradeInService) -> None:
    """Each guarantee operation's answer validates against its documented schema (the forms included)."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    document = openapi_document()

    def check(answer: httpx.Response, path: str, status: int) -> None:
        assert answer.status_code == status, answer.text
        method = answer.request.method.lower()
        content = document["paths"][path][method]["responses"][str(status)]["content"]
        schema = {**content["application/json"]["schema"], "components": document["components"]}
        Draft202012Validator(schema).validate(answer.json())

    contracts = "/v1/guarantees/contracts"
    contract = f"{contracts}/{{contract_id}}"
    sale = {"plan_id": PLAN, "device_id": S23, "price": PRICE, "customer_ref": "acme", "cost_centre": "IT"}
    with http_of(fake) as shop, http_of(fake, Role.BACK_OFFICE) as office:
        check(
            shop.post("/v1/guarantees/offers", json={"device_id": S23, "price": PRICE}),
            "/v1/guarantees/offers",
            200,
        )
        sold = shop.post(contracts, json=sale)
        check(sold, contracts, 201)
        due = shop.post(contracts, json={**sale, "purchased_on": "2025-12-01"}).json()["payload"]["id"]
        other = shop.post(contracts, json={**sale, "purchased_on": "2025-12-01"}).json()["payload"]["id"]
        contract_id = sold.json()["payload"]["id"]
        check(shop.get(f"{contracts}/{contract_id}"), contract, 200)
        check(shop.get(f"{contracts}/{contract_id}/document"), f"{contract}/document", 200)
        check(shop.get(f"{contracts}/{contract_id}/status"), f"{contract}/status", 200)
        exercise = {"grade": "good", "locked": False, "market": {"amount": "144.00", "currency": "EUR"}}
        check(office.post(f"{contracts}/{due}/exercise", json=exercise), f"{contract}/exercise", 200)
        token = shop.post("/v1/quotes", json={"device_id": S23, "answers": galaxy()}).json()["token"]
        check(shop.post(f"{contracts}/{other}/redeem", json={"token": token}), f"{contract}/redeem", 201)
        check(shop.get(f"{contracts}/{due}/status"), f"{contract}/status", 200)
        check(shop.get("/v1/guarantees/liability", params={"low": "0.9"}), "/v1/guarantees/liability", 200)
        calendar = "/v1/customers/{customer_ref}/guarantee-calendar"
        check(shop.get("/v1/customers/acme/guarantee-calendar"), calendar, 200)
