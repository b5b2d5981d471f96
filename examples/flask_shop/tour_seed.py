"""The sales tour's demo data: what the steps of each story point at (see :mod:`.views.tour`).

A story's steps open pages of real data in the state the step talks about: a signed quote still open, an
order waiting for its parcel, an inspected order with a lower offer waiting for the shopper, a paid one; a
guaranteed store quote and one applied at the counter; the demo company's portfolio quote, a batch received
and half inspected, a settled batch with its self-billing credit note. The tour makes them when a story is
opened (:func:`tour_data`): once, and again only for a piece that was used up meanwhile (the salesperson
accepted the offer, applied the quote, booked the pickup) or has expired (the demo clock moved on). So every
run of a story, the first on a fresh ``./scripts/demo`` too, finds its pages as the steps describe them, and
the demo orders the shop seeds (:mod:`.seed`) stay as they are.

What it made is kept in the shop's settings table (:class:`~.records.ShopRecords`, the setting
:data:`SETTING`): a JSON object with one object of ids per story (``online-shopper``, ``store-counter``,
``company-fleet``). A lock file in the data folder keeps several workers from making the same data twice.
"""

from __future__ import annotations

import fcntl
import json
import secrets
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire import example_answers
from tradein_sdk import (
    Actor,
    BankTransfer,
    BatchState,
    Channel,
    CheckoutRequest,
    CreditPlan,
    CreditTiming,
    DeviceState,
    NotFoundError,
    PurchaseCredit,
    TradeInError,
    Voucher,
)

from .fleet import DEMO_CONTACT, STAFF_CHECKS, is_demo, open_demo_company, sample_csv
from .records import InspectionReport
from .seed import DEMO_IBAN

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tradein_sdk import FleetBatch, TradeIn

    from .extension import ShopState
    from .products import Product

SETTING: Final = "sales_tour_data"
"""The name of the tour's ids in the shop's settings (a JSON object: story → name → id)."""
LOCK_FILE: Final = "tour.lock"
OLD_PHONE: Final = "apple-iphone-13-128gb"
"""The device the shopper (and the store's customer) trades in."""
NEW_PHONES: Final = ("apple-iphone-16-128gb", "SM-S931BZKDEUB")
"""The new phone the shopper buys (the first the shop sells; else its first phone with a guarantee)."""
SEALS: Final = ("TOUR-0001", "TOUR-0002")
"""The seal numbers of the tour's fleet pickups (two boxes)."""
CARRIER: Final = "DHL"
CUSTOMER: Final = {"name": "Erika Mustermann", "email": "erika@example.com"}
INSPECTED_AS_DECLARED: Final = (1, 2)
"""The received fleet batch's lines inspected as declared (line 3: a cracked display; the rest wait)."""

Data = dict[str, str]


def tour_data(state: ShopState, story: str, data_dir: Path, *, locale: str = "de_DE") -> Data:
    """The ids the story's steps point at, made first where missing, used up or expired.

    Args:
        state: the shop.
        story: ``online-shopper``, ``store-counter`` or ``company-fleet``.
        data_dir: the shop's data folder (for the lock file).
        locale: the language texts made now are kept in (the inspection reports).

    Raises:
        KeyError: no such story.
    """
    make = MAKERS[story]
    with _locked(data_dir):
        stored = stored_tour_data(state)
        current = stored.get(story, {})
        fresh = make(state, dict(current), locale)
        if fresh != current:
            stored[story] = fresh
            state.records.set_setting(SETTING, json.dumps(stored, sort_keys=True))
    return fresh


def stored_tour_data(state: ShopState) -> dict[str, Data]:
    """What the tour made so far, by story (nothing made yet: empty)."""
    raw = state.records.setting(SETTING)
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        story: {str(name): str(value) for name, value in ids.items()}
        for story, ids in found.items()
        if isinstance(ids, dict)
    }


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / LOCK_FILE).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# -- the online shopper ------------------------------------------------------------------------------------


def _online_shopper(state: ShopState, data: Data, locale: str) -> Data:
    """An open quote and a new phone for the cart; orders awaiting the parcel, with a lower offer, paid."""
    trade_in = state.trade_in
    data["product"] = new_phone(state).sku
    if not quote_open(trade_in, data.get("quote"), data.get("quote_token")):
        issued = trade_in.quote(OLD_PHONE, _declared(), locale=locale)
        data["quote"], data["quote_token"] = issued.quote.id, issued.token
    if _device_state(trade_in, data.get("awaiting")) is not DeviceState.AWAITING_SHIPMENT:
        data["awaiting"] = _order(state, data["product"], locale, payout=False, extras=True)
    if _device_state(trade_in, data.get("revised")) is not DeviceState.REVISED:
        data["revised"] = _revised_order(state, data["product"], locale)
    if _device_state(trade_in, data.get("paid")) is not DeviceState.PAID:
        paid = _revised_order(state, data["product"], locale)
        trade_in.respond_to_revision(paid, "d1", accept=True)
        trade_in.settle(paid, "d1")
        data["paid"] = paid
    return data


def new_phone(state: ShopState) -> Product:
    """The new phone of the shopper's story: one of :data:`NEW_PHONES`, else the shop's first phone."""
    for sku in NEW_PHONES:
        product = state.product(sku)
        if product is not None:
            return product
    phones = [product for product in state.products if product.model.category.value == "smartphone"]
    return (phones or list(state.products))[0]


def quote_open(trade_in: TradeIn, quote_id: str | None, token: str | None) -> bool:
    """Whether the quote exists, its token still verifies (not expired) and it was not used."""
    if not quote_id or not token:
        return False
    try:
        trade_in.verify_token(token)
        return trade_in.get_quote(quote_id).redemption is None
    except TradeInError:
        return False


def _device_state(trade_in: TradeIn, order_id: str | None) -> DeviceState | None:
    if not order_id:
        return None
    try:
        return trade_in.order(order_id).devices[0].state
    except TradeInError:
        return None


def _declared() -> dict[str, Any]:
    """The shopper's answers for the iPhone 13: worn, light scratches, its lock released."""
    return dict(example_answers("smartphone", "worn").answers)


def _found_cracked() -> dict[str, Any]:
    """What the inspector finds: the staff checks passed, but the display glass is cracked."""
    return {**_declared(), **STAFF_CHECKS, "display_glass": "cracked"}


def _order(state: ShopState, sku: str, locale: str, *, payout: bool, extras: bool = False) -> str:
    """An order of the new phone with the iPhone 13 traded in and its label issued; its id.

    ``payout``: the value is paid by bank transfer after inspection (else taken off the price now);
    ``extras``: with the first protection plan and the buy-back guarantee offered.
    """
    from .guarantees import offers_for  # noqa: PLC0415 - the guarantee plans load with the first use

    trade_in = state.trade_in
    product = state.product(sku) or new_phone(state)
    quote = trade_in.quote(OLD_PHONE, _declared(), locale=locale).quote
    request = CheckoutRequest(
        quote_ids=(quote.id,),
        new_device=product.new_device(),
        timing=CreditTiming.DEFERRED if payout else CreditTiming.INSTANT,
        plan=CreditPlan.PAYOUT if payout else CreditPlan.DISCOUNT,
        locale=locale,
    )
    offers = trade_in.insurance_offers(request) if extras else ()
    if offers:
        request = attrs.evolve(request, insurance_offer_id=offers[0].offer_id)
    plans = offers_for(request) if extras else ()
    if plans:
        request = attrs.evolve(request, guarantee_plan_id=plans[0].plan_id)
    summary = trade_in.checkout(request)
    confirmed = trade_in.confirm_checkout(
        summary,
        payout=BankTransfer(iban=DEMO_IBAN, holder=CUSTOMER["name"])
        if payout
        else PurchaseCredit(purchase_reference=summary.checkout_id),
        contact=CUSTOMER,
        insurance_accepted=bool(offers),
        guarantee_accepted=bool(plans),
    )
    trade_in.issue_label(confirmed.order.id)
    return confirmed.order.id


def _revised_order(state: ShopState, sku: str, locale: str) -> str:
    """An order (paid by bank transfer) whose iPhone 13 arrived with a cracked display: a lower offer."""
    from .views.staff import record_inspection  # noqa: PLC0415 - the views import this module's users

    order_id = _order(state, sku, locale, payout=True)
    state.trade_in.record_event(order_id, "d1", "ship", actor="shopper")
    state.trade_in.record_event(order_id, "d1", "receive", actor="staff")
    record_inspection(state, order_id, "d1", _found_cracked())
    return order_id


# -- the store's counter -----------------------------------------------------------------------------------


def _store_counter(state: ShopState, data: Data, locale: str) -> Data:
    """A guaranteed store quote to apply, and one applied at the counter (its order settled)."""
    from .views.store import COUNTER_CREDIT  # noqa: PLC0415 - the views import this module's users

    trade_in = state.trade_in
    if not quote_open(trade_in, data.get("quote"), data.get("quote_token")):
        data["imei"] = tour_imei()
        issued = _store_quote(trade_in, data["imei"], locale)
        data["quote"], data["quote_token"] = issued
    if _device_state(trade_in, data.get("applied_order")) is not DeviceState.CREDITED:
        quote_id, token = _store_quote(trade_in, tour_imei(), locale)
        order = trade_in.accept(
            [token], payout=Voucher(program=COUNTER_CREDIT), instant_credit=True, actor=Actor.STAFF
        )
        trade_in.record_event(order.id, "d1", "hand_over", actor="staff")
        trade_in.record_event(order.id, "d1", "confirm", actor="staff")
        trade_in.settle(order.id, "d1")
        data["applied_quote"], data["applied_token"], data["applied_order"] = quote_id, token, order.id
    return data


def _store_quote(trade_in: TradeIn, imei: str, locale: str) -> tuple[str, str]:
    """A guaranteed quote for the iPhone 13 with that IMEI, every staff check answered: its id and token."""
    answers = {**_declared(), **STAFF_CHECKS}
    issued = trade_in.quote(
        OLD_PHONE, answers, locale=locale, imei=imei, channel=Channel.STORE, verification="staff_verified"
    )
    return issued.quote.id, issued.token


def tour_imei() -> str:
    """A new valid IMEI (its Luhn check digit right) for a device at the counter."""
    body = f"35{secrets.randbelow(10**12):012d}"
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str(-total % 10)


# -- the company fleet -------------------------------------------------------------------------------------


def _company_fleet(state: ShopState, data: Data, locale: str) -> Data:
    """The demo company's quote to book, a batch received and half inspected, a settled batch."""
    trade_in = state.trade_in
    company = next((company for company in trade_in.companies() if is_demo(company)), None)
    if company is None:
        company = open_demo_company(trade_in)
    data["company"] = company.id
    now = trade_in.clock.now()
    quoted = _batch(trade_in, data.get("quoted"))
    if quoted is None or quoted.state is not BatchState.QUOTED or now >= quoted.portfolio.valid_until:
        data["quoted"] = _fleet_quote(state, company.id, locale)
    received = _batch(trade_in, data.get("received"))
    if received is None or received.state is not BatchState.RECEIVED:
        batch_id = _fleet_quote(state, company.id, locale)
        _received(state, batch_id, company.legal_name)
        _inspect(state, batch_id, INSPECTED_AS_DECLARED)
        _inspect(state, batch_id, (3,), cracked=True)
        data["received"] = batch_id
    settled = _batch(trade_in, data.get("settled"))
    if settled is None or settled.state is not BatchState.SETTLED:
        batch_id = _fleet_quote(state, company.id, locale)
        lines = _received(state, batch_id, company.legal_name)
        _inspect(state, batch_id, lines)
        trade_in.settle_batch(batch_id, issuer=state.issuer)
        data["settled"] = batch_id
        data["settled_on"] = now.date().isoformat()
    return data


def _batch(trade_in: TradeIn, batch_id: str | None) -> FleetBatch | None:
    if not batch_id:
        return None
    try:
        return trade_in.fleet_batch(batch_id)
    except NotFoundError:
        return None


def _fleet_quote(state: ShopState, company_id: str, locale: str) -> str:
    """A portfolio quote of the portal's sample asset list (eight phones): the batch's id."""
    data = sample_csv(state.trade_in.catalog, locale)
    portfolio = state.trade_in.fleet_quote(company_id, data, filename="assets.csv")
    assert portfolio.batch_id is not None  # noqa: S101 - not a dry run: the quote opened a batch
    return portfolio.batch_id


def _received(state: ShopState, batch_id: str, holder: str) -> tuple[int, ...]:
    """Book the pickup, hand the boxes over and receive every device; the lines received."""
    trade_in = state.trade_in
    trade_in.book_pickup(
        batch_id,
        boxes=len(SEALS),
        seals=list(SEALS),
        contact={"name": DEMO_CONTACT["name"], "phone": DEMO_CONTACT["phone"]},
        payout=BankTransfer(iban=DEMO_IBAN, holder=holder),
    )
    batch = trade_in.hand_over(batch_id, seals=list(SEALS), carrier=CARRIER)
    received = trade_in.receive_batch(
        batch_id, [view.line.imei or view.line.identifier for view in batch.lines]
    )
    return tuple(view.line.line for view in received.lines if view.device_id is not None)


def _inspect(state: ShopState, batch_id: str, lines: tuple[int, ...], *, cracked: bool = False) -> None:
    """Inspect those lines (as declared, or with a cracked display); keep each report for the order page."""
    from .views.staff_fleet import inspected_answers  # noqa: PLC0415 - the views import this module's users

    trade_in = state.trade_in
    batch = trade_in.fleet_batch(batch_id)
    for line in lines:
        view = batch.line(line)
        diff = trade_in.inspect_fleet_device(
            batch_id, line, inspected_answers(view, cracked=cracked), imei=view.line.imei
        )
        if batch.order_id is not None and view.device_id is not None:
            state.records.add_report(
                batch.order_id, view.device_id, InspectionReport.from_diff(diff), now=trade_in.clock.now()
            )


MAKERS: Final[dict[str, Callable[[ShopState, Data, str], Data]]] = {
    "online-shopper": _online_shopper,
    "store-counter": _store_counter,
    "company-fleet": _company_fleet,
}
"""Each story's maker: it checks the ids it made before and makes what is missing, used up or expired."""
