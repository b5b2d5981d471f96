"""The sales tour: three guided stories through the demo shop, each step on a page of real demo data.

``/tour`` presents the stories (an online shopper, a carrier's store counter, a company's fleet) as
cards: what the story shows, how long it takes, "Start". ``/tour/<story>`` lists its numbered steps: what
to click, what to point out to the customer, and a link to the step. ``/tour/<story>/<n>`` opens step
``n``: it makes the story's demo data where it is missing or used up (:mod:`..tour_seed`), lets this session
see it (the tour's quotes, orders, cart and company, as if the salesperson had made them), remembers the
step in the session and sends the browser to the step's page. While a tour runs, every shop page shows
the bar ``_tour_bar.html`` under the header: the story, "step 2 of 10", what to do, "Next step →" and "End
tour" (``POST /tour/end``).

Staff steps open the back office: its sign-in comes first (the demo password is on the tour's pages) and
brings the salesperson back to the step. The tour exists only in a demo installation (``TRADEIN_SEED_DEMO``
on): elsewhere its pages are not found, and it makes no data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString

from tradein_sdk import CustomerCase

from ..cart import DECLINED, Cart, keep_quote, my_orders, quote_tokens, remember_order
from ..extension import DEMO_STAFF_PASSWORD, current_locale, shop
from ..fleet import chosen_company_id, remember_company
from ..tour_seed import OLD_PHONE, Data, tour_data

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue

bp = Blueprint("tour", __name__, url_prefix="/tour")

SESSION_KEY: Final = "tour"
"""Where the session keeps the running tour: ``{"story": slug, "step": number}``."""


@attrs.frozen(kw_only=True)
class Step:
    """One step of a story.

    Attributes:
        key: its name (in test ids and screenshot names).
        title: what the step is, in a few words (the bar shows it).
        action: what the salesperson clicks.
        point: what to point out to the customer: the selling point.
        target: the step's page, from the story's demo data (called in a request).
        staff: the page is in the back office (the sign-in comes first).
    """

    key: str
    title: LazyString
    action: LazyString
    point: LazyString
    target: Callable[[Data], str]
    staff: bool = False


@attrs.frozen(kw_only=True)
class Story:
    """A guided story: its steps in order.

    Attributes:
        slug: its name in the address (``/tour/online-shopper``).
        name: its name as shown.
        summary: what it shows, in one sentence.
        minutes: about how long it takes.
        steps: its steps.
    """

    slug: str
    name: LazyString
    summary: LazyString
    minutes: int
    steps: tuple[Step, ...]

    @property
    def has_staff_steps(self) -> bool:
        """Whether a step needs the back office's sign-in."""
        return any(step.staff for step in self.steps)


@attrs.frozen(kw_only=True)
class TourBar:
    """What the bar under the header shows while a tour runs.

    Attributes:
        story: the story.
        number: the step the salesperson is on (from 1).
        step: that step.
        next_url: the next step's address (``None`` on the last step).
    """

    story: Story
    number: int
    step: Step
    next_url: str | None


def _co2_period(data: Data) -> dict[str, Any]:
    """The CO2 report's period: from the day the tour's batch was settled to today (either way round)."""
    today = shop().trade_in.clock.now().date().isoformat()
    settled = data.get("settled_on") or today
    return {"from": min(settled, today), "to": max(settled, today)}


STORIES: Final[dict[str, Story]] = {
    story.slug: story
    for story in (
        Story(
            slug="online-shopper",
            name=lazy_gettext("Online shopper"),
            summary=lazy_gettext(
                "A shopper trades in an iPhone 13 while buying a new phone: a signed quote, the checkout "
                "with its options, and every amount in the order’s ledger."
            ),
            minutes=5,
            steps=(
                Step(
                    key="search",
                    title=lazy_gettext("Search the old phone"),
                    action=lazy_gettext(
                        "Type “iPhone 13” in the search: suggestions appear as you type. Open the "
                        "128 GB model."
                    ),
                    point=lazy_gettext(
                        "Every model of the catalog with its storage sizes: the shopper needs no model "
                        "number."
                    ),
                    target=lambda _: url_for("tradein.search", q="iPhone 13 128"),
                ),
                Step(
                    key="questions",
                    title=lazy_gettext("Answer the questions"),
                    action=lazy_gettext(
                        "Answer a few questions, one step at a time: the next ones appear as the answers "
                        "make them relevant."
                    ),
                    point=lazy_gettext(
                        "Plain questions instead of grades: the shopper describes the phone, the shop "
                        "works out the condition."
                    ),
                    target=lambda _: url_for("tradein.questions", device_id=OLD_PHONE),
                ),
                Step(
                    key="quote",
                    title=lazy_gettext("The signed quote"),
                    action=lazy_gettext("Show the price and how it is made, line by line."),
                    point=lazy_gettext(
                        "The quote is signed: the price cannot change before the date shown, and every "
                        "line of it is explained."
                    ),
                    target=lambda data: url_for("tradein.quote", quote_id=data["quote"]),
                ),
                Step(
                    key="cart",
                    title=lazy_gettext("Cart with a new phone"),
                    action=lazy_gettext(
                        "The new phone and the trade-in credit are in the cart: show the promotions, "
                        "then go to the checkout."
                    ),
                    point=lazy_gettext(
                        "The trade-in comes off the new phone’s price; each promotion says whether it "
                        "applies, and why not."
                    ),
                    target=lambda _: url_for("shop.cart"),
                ),
                Step(
                    key="options",
                    title=lazy_gettext("Checkout options"),
                    action=lazy_gettext(
                        "Choose how the value is paid, a protection plan and the buy-back guarantee."
                    ),
                    point=lazy_gettext(
                        "Four ways to be paid (discount, voucher, bank transfer, bill credits); the "
                        "buy-back guarantee fixes today what the new phone is worth in a year."
                    ),
                    target=lambda _: url_for("checkout.options"),
                ),
                Step(
                    key="review",
                    title=lazy_gettext("Confirm the order"),
                    action=lazy_gettext(
                        "Go through the summary and the consents, and show the “Buy now” button (no "
                        "need to buy)."
                    ),
                    point=lazy_gettext(
                        "On confirm the summary is computed again and compared with the one shown: the "
                        "shopper pays exactly what the page says."
                    ),
                    target=lambda _: url_for("checkout.review"),
                ),
                Step(
                    key="order",
                    title=lazy_gettext("Your money and the label"),
                    action=lazy_gettext(
                        "Open an order placed this way: scroll to “Your money”, then open the shipping label."
                    ),
                    point=lazy_gettext(
                        "Promised equals paid: the order’s ledger shows every amount. The label carries "
                        "the send-by date."
                    ),
                    target=lambda data: url_for("orders.order", order_id=data["awaiting"]),
                ),
                Step(
                    key="inspection",
                    title=lazy_gettext("Staff: the inspection"),
                    action=lazy_gettext(
                        "Sign in to the back office and show a phone that arrived with a cracked display."
                    ),
                    point=lazy_gettext(
                        "The inspector answers the shopper’s questions again, plus the staff checks: each "
                        "difference is priced, so the lower offer explains itself."
                    ),
                    target=lambda data: url_for("staff.order", order_id=data["revised"]),
                    staff=True,
                ),
                Step(
                    key="accept",
                    title=lazy_gettext("The shopper accepts"),
                    action=lazy_gettext(
                        "Back on the shopper’s side: show what was found and the two buttons."
                    ),
                    point=lazy_gettext(
                        "The shopper decides: accept the new offer, or get the phone back free of charge. "
                        "Nothing is deducted without consent."
                    ),
                    target=lambda data: url_for("orders.order", order_id=data["revised"]),
                ),
                Step(
                    key="paid",
                    title=lazy_gettext("Paid"),
                    action=lazy_gettext("Open an order whose new offer was accepted and paid: “Your money”."),
                    point=lazy_gettext(
                        "Promised, revised and paid are all in the ledger, dated: what was paid is the "
                        "accepted offer, to the cent."
                    ),
                    target=lambda data: url_for("orders.order", order_id=data["paid"], _anchor="money"),
                ),
            ),
        ),
        Story(
            slug="store-counter",
            name=lazy_gettext("Carrier store counter"),
            summary=lazy_gettext(
                "A clerk quotes a phone at the counter with its IMEI and the staff checks: a guaranteed "
                "price, credited on the spot."
            ),
            minutes=3,
            steps=(
                Step(
                    key="store",
                    title=lazy_gettext("Store mode"),
                    action=lazy_gettext("Open the store mode and sign in with the back office password."),
                    point=lazy_gettext(
                        "The counter is for staff only; a sign-in ends on the server when the clerk signs "
                        "out."
                    ),
                    target=lambda _: url_for("store.identify"),
                    staff=True,
                ),
                Step(
                    key="identify",
                    title=lazy_gettext("Identify by IMEI"),
                    action=lazy_gettext(
                        "The customer dials *#06#: type or scan the IMEI, then pick the model."
                    ),
                    point=lazy_gettext(
                        "The IMEI is checked as it is entered and kept with the quote: no typing error "
                        "reaches an order."
                    ),
                    target=lambda data: url_for("store.identify", imei=data["imei"], q="iPhone 13 128"),
                    staff=True,
                ),
                Step(
                    key="check",
                    title=lazy_gettext("Staff checks"),
                    action=lazy_gettext(
                        "Go through the questions with the customer, the staff checks included: liquid "
                        "indicator, blocklist, authenticity."
                    ),
                    point=lazy_gettext(
                        "The clerk answers every check, so the price is verified, not self-declared."
                    ),
                    target=lambda data: url_for("store.check", device_id=OLD_PHONE, imei=data["imei"]),
                    staff=True,
                ),
                Step(
                    key="quote",
                    title=lazy_gettext("Guaranteed quote"),
                    action=lazy_gettext(
                        "Show the price and the button that applies it at the counter (apply it if you like)."
                    ),
                    point=lazy_gettext(
                        "A store quote is guaranteed: checked by staff, valid for a day, no inspection and "
                        "no lower offer later."
                    ),
                    target=lambda data: url_for("store.quote", quote_id=data["quote"]),
                    staff=True,
                ),
                Step(
                    key="applied",
                    title=lazy_gettext("Applied to a purchase"),
                    action=lazy_gettext("Open a quote that was applied at the counter."),
                    point=lazy_gettext(
                        "One click: the order opens, the phone is handed over and the credit is given at "
                        "once."
                    ),
                    target=lambda data: url_for("store.quote", quote_id=data["applied_quote"]),
                    staff=True,
                ),
                Step(
                    key="ledger",
                    title=lazy_gettext("In the ledger"),
                    action=lazy_gettext("Open the order of the applied quote and its ledger."),
                    point=lazy_gettext(
                        "The counter’s credit is in the same ledger as every online order: promised equals "
                        "credited, and the audit log records each step."
                    ),
                    target=lambda data: url_for(
                        "staff.order", order_id=data["applied_order"], _anchor="ledger"
                    ),
                    staff=True,
                ),
            ),
        ),
        Story(
            slug="company-fleet",
            name=lazy_gettext("Company fleet"),
            summary=lazy_gettext(
                "A company uploads its asset list and books one pickup: one quote, one payout with a "
                "self-billing credit note, and a CO2 report."
            ),
            minutes=4,
            steps=(
                Step(
                    key="company",
                    title=lazy_gettext("The company portal"),
                    action=lazy_gettext("Open the company portal and choose Muster Logistik GmbH."),
                    point=lazy_gettext(
                        "A company trades in under its framework contract: its own prices, pickup days and "
                        "a self-billing agreement."
                    ),
                    target=lambda _: url_for("company.start"),
                ),
                Step(
                    key="upload",
                    title=lazy_gettext("Upload the asset list"),
                    action=lazy_gettext("Download the sample list (CSV), upload it and check it."),
                    point=lazy_gettext(
                        "Any export of the asset management will do, CSV or Excel: every rejected row and "
                        "column is named before anything is stored."
                    ),
                    target=lambda _: url_for("company.portal", _anchor="upload"),
                ),
                Step(
                    key="quote",
                    title=lazy_gettext("Portfolio quote"),
                    action=lazy_gettext(
                        "Open the quote of the sample list: the total, the range and every device."
                    ),
                    point=lazy_gettext(
                        "One signed quote for the whole list, binding until the date shown, with the total "
                        "if inspection finds each device one grade worse."
                    ),
                    target=lambda data: url_for("company.batch", batch_id=data["quoted"]),
                ),
                Step(
                    key="pickup",
                    title=lazy_gettext("Book the pickup"),
                    action=lazy_gettext(
                        "Scroll to the pickup form: boxes, seal numbers, contact and bank account (book it "
                        "if you like)."
                    ),
                    point=lazy_gettext(
                        "The carrier’s day is counted in working days, public holidays included; a seal "
                        "number makes each box traceable."
                    ),
                    target=lambda data: url_for("company.batch", batch_id=data["quoted"], _anchor="pickup"),
                ),
                Step(
                    key="inspect",
                    title=lazy_gettext("Staff: receive and inspect"),
                    action=lazy_gettext(
                        "Sign in and open a batch whose boxes arrived: inspect a device with one click."
                    ),
                    point=lazy_gettext(
                        "The boxes are reconciled with the list (missing devices and devices not on it are "
                        "found at once); each inspection is priced like the quote."
                    ),
                    target=lambda data: url_for("staff_fleet.batch", batch_id=data["received"]),
                    staff=True,
                ),
                Step(
                    key="credit-note",
                    title=lazy_gettext("Self-billing credit note"),
                    action=lazy_gettext(
                        "Open a settled batch: the amount paid, the credit note’s number and its downloads."
                    ),
                    point=lazy_gettext(
                        "One payout and one self-billing credit note, numbered, with its e-invoice, archived "
                        "for ten years."
                    ),
                    target=lambda data: url_for("company.batch", batch_id=data["settled"]),
                ),
                Step(
                    key="co2",
                    title=lazy_gettext("CO2 report"),
                    action=lazy_gettext(
                        "Open the CO2 report: the emissions avoided by reuse, with their range."
                    ),
                    point=lazy_gettext(
                        "CO2e avoided is stated with its method and range, apart from the Scope 3 inventory: "
                        "ready for the company’s sustainability report."
                    ),
                    target=lambda data: url_for("staff_co2.report", **_co2_period(data)),
                    staff=True,
                ),
            ),
        ),
    )
}
"""The stories, in the order the landing page shows them."""


# -- availability, the bar -----------------------------------------------------------------------------------


def available() -> bool:
    """Whether the shop runs as a demo (``TRADEIN_SEED_DEMO``): only then is there a tour."""
    return str(current_app.config.get("TRADEIN_SEED_DEMO")).strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
        "",
    }


def current_bar() -> TourBar | None:
    """The bar of the tour this session runs, or ``None``."""
    if not has_request_context() or not available():
        return None
    running = session.get(SESSION_KEY)
    if not isinstance(running, dict):
        return None
    story = STORIES.get(str(running.get("story")))
    number = running.get("step")
    if story is None or not isinstance(number, int) or not 1 <= number <= len(story.steps):
        return None
    return TourBar(
        story=story,
        number=number,
        step=story.steps[number - 1],
        next_url=url_for("tour.step", story=story.slug, number=number + 1)
        if number < len(story.steps)
        else None,
    )


@bp.app_context_processor
def _tour_context() -> dict[str, Any]:
    """Every template: the running tour's bar (``tour_bar``) and whether the shop has a tour."""
    if not has_request_context():
        return {}
    return {"tour_bar": current_bar(), "tour_available": available()}


@bp.before_request
def _only_in_a_demo() -> None:
    if not available():
        abort(404)


# -- the pages -----------------------------------------------------------------------------------------------


@bp.get("")
def landing() -> ResponseReturnValue:
    """The three stories as cards: what each shows, how long it takes, "Start"."""
    return render_template("tour.html", stories=list(STORIES.values()), **_password())


@bp.get("/<story>")
def story(story: str) -> ResponseReturnValue:
    """A story's numbered steps: what to click, what to point out, the link to each (its data made first)."""
    found = _story_or_404(story)
    _data(found)
    bar = current_bar()
    return render_template(
        "tour_story.html",
        story=found,
        current=bar.number if bar is not None and bar.story is found else None,
        **_password(),
    )


@bp.get("/<story>/<int:number>")
def step(story: str, number: int) -> ResponseReturnValue:
    """Open step ``number``: the story's data made and shown to this session, the step kept, its page."""
    found = _story_or_404(story)
    if not 1 <= number <= len(found.steps):
        abort(404)
    data = _data(found)
    _let_this_session_see(found, found.steps[number - 1], data)
    session[SESSION_KEY] = {"story": found.slug, "step": number}
    return redirect(found.steps[number - 1].target(data))


@bp.post("/end")
def end() -> ResponseReturnValue:
    """End the tour: the bar goes; back to the stories."""
    if session.pop(SESSION_KEY, None) is not None:
        flash(gettext("The tour has ended. Start another story whenever you like."), "success")
    return redirect(url_for("tour.landing"))


def _story_or_404(slug: str) -> Story:
    found = STORIES.get(slug)
    if found is None:
        abort(404)
    return found


def _password() -> dict[str, Any]:
    """The demo password, shown on the tour's pages while the shop keeps it (``None`` once it is changed)."""
    return {"demo_password": DEMO_STAFF_PASSWORD if shop().staff_password == DEMO_STAFF_PASSWORD else None}


def _data(story: Story) -> Data:
    """The story's demo data (made first where missing, used up or expired)."""
    data_dir = Path(current_app.config["TRADEIN_DATA_DIR"] or current_app.instance_path)
    return tour_data(shop(), story.slug, data_dir, locale=current_locale())


# -- what the session may see --------------------------------------------------------------------------------

CART_STEPS: Final = ("cart", "options", "review")
"""The online shopper's steps that need the new phone and the trade-in in the cart."""


def _let_this_session_see(story: Story, step: Step, data: Data) -> None:
    """Give this session what the visitor who made the story's data would have: quotes, orders, cart..."""
    if story.slug == "online-shopper":
        _keep_quote(data["quote"], data["quote_token"])
        for order_id in (data["paid"], data["revised"], data["awaiting"]):
            if order_id not in my_orders():
                remember_order(order_id)
        if step.key in CART_STEPS:
            _fill_cart(data, choose=step.key == "review")
    elif story.slug == "store-counter":
        _keep_quote(data["applied_quote"], data["applied_token"])
        _keep_quote(data["quote"], data["quote_token"])
    elif story.slug == "company-fleet" and step.key != "company" and chosen_company_id() != data["company"]:
        remember_company(data["company"])


def _keep_quote(quote_id: str, token: str) -> None:
    if quote_tokens().get(quote_id) != token:
        keep_quote(quote_id, token)


def _fill_cart(data: Data, *, choose: bool) -> None:
    """The tour's new phone and trade-in in the cart, unless the salesperson chose another phone.

    With ``choose``, the checkout's options too (the first protection plan and buy-back guarantee offered,
    a contract upgrade), unless they were chosen already.
    """
    from ..guarantees import offers_for  # noqa: PLC0415 - the guarantee plans load with the first use

    cart = Cart.load()
    if data["quote"] not in cart.trade_ins:
        cart = attrs.evolve(cart, trade_ins=(*cart.trade_ins, data["quote"]))
    product = shop().product(cart.product_sku or "") or shop().product(data["product"])
    if product is None:
        return
    cart = attrs.evolve(cart, product_sku=product.sku)
    if choose and cart.protection is None:
        request = cart.request(product, current_locale())
        offers = shop().trade_in.insurance_offers(request)
        plans = offers_for(request)
        cart = attrs.evolve(
            cart,
            protection=offers[0].offer_id if offers else DECLINED,
            guarantee=plans[0].plan_id if plans else DECLINED,
            customer_case=cart.customer_case or CustomerCase.UPGRADE.value,
        )
    cart.save()
