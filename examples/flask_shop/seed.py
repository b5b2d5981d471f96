"""Demo data: a fresh shop shows orders in every interesting state, so the back office is not empty.

Runs once, on start, when the shop's config asks for it (``TRADEIN_SEED_DEMO``) and the database has no
order yet; the demo company of the company portal (Muster Logistik GmbH) is opened once too, when no
company has the demo's contract (so a database seeded before the portal existed gets it). A lock file in
the data directory keeps several workers from seeding at the same time.
"""

from __future__ import annotations

import fcntl
from typing import TYPE_CHECKING

import attrs

from grading_questionnaire import example_answers
from tradein_sdk import BankTransfer, CheckoutRequest, CreditPlan, CreditTiming, PurchaseCredit

from .fleet import is_demo, open_demo_company

if TYPE_CHECKING:
    from pathlib import Path

    from .extension import ShopState

DEMO_IBAN = "DE89 3704 0044 0532 0130 00"
STAFF_CHECKS = ("liquid_indicator", "blocklist_status", "authenticity")


def seed_demo_data(state: ShopState, data_dir: Path) -> int:
    """Create the demo orders unless the database has orders already, and the demo company unless it has it.

    Returns:
        How many orders were created.
    """
    with (data_dir / "seed.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(is_demo(company) for company in state.trade_in.companies()):
            open_demo_company(state.trade_in)
        if state.trade_in.list_orders(limit=1):
            return 0
        return _seed(state)


def _seed(state: ShopState) -> int:
    from .guarantees import offers_for  # noqa: PLC0415
    from .views.staff import record_inspection  # noqa: PLC0415

    trade_in = state.trade_in
    product = state.products[0]
    flawless = dict(example_answers("smartphone", "flawless").answers)
    inspected = {
        **flawless,
        **{k: example_answers("smartphone", "store-inspected").answers[k] for k in STAFF_CHECKS},
    }
    cracked = {**inspected, "display_glass": "cracked"}

    def order(
        device_id: str, platform: str, *, payout: bool, insurance: bool = False, guarantee: bool = False
    ) -> str:
        quote = trade_in.quote(device_id, _for_platform(flawless, platform), locale="de_DE").quote
        request = CheckoutRequest(
            quote_ids=(quote.id,),
            new_device=product.new_device(),
            timing=CreditTiming.DEFERRED if payout else CreditTiming.INSTANT,
            plan=CreditPlan.PAYOUT if payout else CreditPlan.DISCOUNT,
            locale="de_DE",
        )
        if insurance:
            offers = trade_in.insurance_offers(request)
            request = attrs.evolve(request, insurance_offer_id=offers[0].offer_id)
        plans = offers_for(request) if guarantee else ()
        if plans:
            request = attrs.evolve(request, guarantee_plan_id=plans[0].plan_id)
        summary = trade_in.checkout(request)
        details = (
            BankTransfer(iban=DEMO_IBAN, holder="Erika Mustermann")
            if payout
            else PurchaseCredit(purchase_reference=summary.checkout_id)
        )
        confirmed = trade_in.confirm_checkout(
            summary,
            payout=details,
            contact={"name": "Erika Mustermann", "email": "erika@example.com"},
            insurance_accepted=insurance,
            guarantee_accepted=bool(plans),
        )
        trade_in.issue_label(confirmed.order.id)
        return confirmed.order.id

    def arrive(order_id: str) -> None:
        trade_in.record_event(order_id, "d1", "ship", actor="shopper")
        trade_in.record_event(order_id, "d1", "receive", actor="staff")

    # waiting for the parcel; its new device has a buy-back guarantee (the staff order page shows it)
    order("apple-iphone-13-128gb", "ios", payout=False, insurance=True, guarantee=True)

    received = order("samsung-galaxy-s22-128gb", "samsung", payout=True)  # arrived: inspect it
    arrive(received)

    revised = order(
        "apple-iphone-12-128gb", "ios", payout=False
    )  # inspection found a crack: shopper to answer
    arrive(revised)
    record_inspection(state, revised, "d1", _for_platform(cracked, "ios"))

    paid = order("google-pixel-7-128gb", "android", payout=True)  # found as declared, paid out
    arrive(paid)
    record_inspection(state, paid, "d1", _for_platform(inspected, "android"))
    trade_in.settle(paid, "d1")

    returning = order("samsung-galaxy-s21-5g-128gb", "samsung", payout=True)  # revision declined: going back
    arrive(returning)
    record_inspection(state, returning, "d1", _for_platform(cracked, "samsung"))
    trade_in.respond_to_revision(returning, "d1", accept=False)
    return 5


def _for_platform(answers: dict[str, object], platform: str) -> dict[str, object]:
    """The answers with the lock questions of another platform (they show by platform)."""
    locks = {"find_my_off", "google_account_removed", "samsung_account_removed"}
    adjusted = {key: value for key, value in answers.items() if key not in locks}
    adjusted["platform"] = platform
    if platform == "ios":
        adjusted["find_my_off"] = True
    else:
        adjusted["google_account_removed"] = True
    if platform == "samsung":
        adjusted["samsung_account_removed"] = True
    return adjusted
