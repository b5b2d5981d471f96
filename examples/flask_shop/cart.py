"""The shopper's cart, kept in the signed session cookie: ids and signed quote tokens, never amounts.

Every amount shown or charged is computed on the server from these ids: the product's price from the
shop's product list, the trade-in credit from the stored quote (its token is verified first), the
summary by :meth:`TradeIn.checkout`. A cart may hold a new device alone: it is bought outright, without a
trade-in (the checkout then asks nothing about a trade-in value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from flask import session

from tradein_sdk import CheckoutRequest, CreditPlan, CreditTiming, CustomerCase

if TYPE_CHECKING:
    from .products import Product

MAX_QUOTES = 8
"""How many quote tokens a session keeps (the newest)."""

PLANS: dict[str, tuple[CreditTiming, CreditPlan]] = {
    "discount": (CreditTiming.INSTANT, CreditPlan.DISCOUNT),
    "voucher": (CreditTiming.DEFERRED, CreditPlan.VOUCHER),
    "payout": (CreditTiming.DEFERRED, CreditPlan.PAYOUT),
    "bill_credits": (CreditTiming.DEFERRED, CreditPlan.BILL_CREDITS),
}
"""The ways the shop pays the trade-in value, by the name the form uses."""

BILL_CREDIT_MONTHS = 24
"""How many monthly bills a bill credit is spread over (the length of the shop's contracts)."""

DECLINED = "none"
"""The protection (or buy-back guarantee) choice of a shopper who declines every plan."""

CUSTOMER_CASES = tuple(
    case.value for case in (CustomerCase.NEW_CONTRACT, CustomerCase.UPGRADE, CustomerCase.NONE)
)
"""The contract situations the checkout asks about, in its order (a promotion may be for some only)."""

DEFAULT_CUSTOMER_CASE = ""
"""Not answered yet: the checkout asks and refuses to go on without an answer; until then the cart's preview
assumes no contract (``none``), so no contract-only promotion is shown as if it applied."""


@attrs.frozen(kw_only=True)
class Cart:
    """What the session holds.

    Attributes:
        product_sku: the new device chosen.
        trade_ins: the quote ids to credit (each has its token in :func:`quote_tokens`).
        plan: how the trade-in value is paid (a key of :data:`PLANS`).
        protection: the protection offer id, :data:`DECLINED`, or ``None`` (not chosen yet).
        guarantee: the buy-back guarantee plan id chosen, or :data:`DECLINED` (the default).
        customer_case: the contract situation of the purchase (one of :data:`CUSTOMER_CASES`).
    """

    product_sku: str | None = None
    trade_ins: tuple[str, ...] = ()
    plan: str = "discount"
    protection: str | None = None
    guarantee: str = DECLINED
    customer_case: str = DEFAULT_CUSTOMER_CASE

    @classmethod
    def load(cls) -> Cart:
        """The session's cart."""
        data: dict[str, Any] = session.get("cart") or {}
        plan = data.get("plan")
        case = data.get("customer_case")
        return cls(
            product_sku=data.get("product"),
            trade_ins=tuple(quote for quote in data.get("trade_ins", ()) if quote in quote_tokens()),
            plan=plan if plan in PLANS else "discount",
            protection=data.get("protection"),
            guarantee=str(data.get("guarantee") or DECLINED),
            customer_case=case if case in CUSTOMER_CASES else DEFAULT_CUSTOMER_CASE,
        )

    def save(self) -> None:
        """Write the cart back to the session."""
        session["cart"] = {
            "product": self.product_sku,
            "trade_ins": list(self.trade_ins),
            "plan": self.plan,
            "protection": self.protection,
            "guarantee": self.guarantee,
            "customer_case": self.customer_case,
        }

    @property
    def is_empty(self) -> bool:
        """Nothing chosen yet."""
        return self.product_sku is None and not self.trade_ins

    @property
    def outright(self) -> bool:
        """No trade-in: the new device is bought outright (no credit to pay, no trade-in terms)."""
        return not self.trade_ins

    def request(self, product: Product, locale: str) -> CheckoutRequest:
        """The checkout request these choices make (the library computes every amount from it).

        Without a trade-in the plan is the default one: the library checks no credit choice then.
        """
        timing, plan = PLANS[self.plan if self.trade_ins else "discount"]
        offer = self.protection if self.protection not in {None, DECLINED} else None
        guarantee = self.guarantee if self.guarantee != DECLINED else None
        return CheckoutRequest(
            quote_ids=self.trade_ins,
            new_device=product.new_device(),
            timing=timing,
            plan=plan,
            months=BILL_CREDIT_MONTHS if plan is CreditPlan.BILL_CREDITS else None,
            insurance_offer_id=offer,
            locale=locale,
            guarantee_plan_id=guarantee,
            customer_case=CustomerCase(self.customer_case or CustomerCase.NONE.value),
        )


def quote_tokens() -> dict[str, str]:
    """The signed tokens of the quotes this session was given, by quote id."""
    tokens: dict[str, str] = session.get("quotes") or {}
    return tokens


def keep_quote(quote_id: str, token: str) -> None:
    """Remember a quote's token in the session (the newest :data:`MAX_QUOTES`)."""
    tokens = {**quote_tokens(), quote_id: token}
    session["quotes"] = dict(list(tokens.items())[-MAX_QUOTES:])


def my_orders() -> list[str]:
    """The ids of the orders placed in this session, newest first."""
    orders: list[str] = session.get("orders") or []
    return orders


def remember_order(order_id: str) -> None:
    """Let this session see the order's page."""
    session["orders"] = [order_id, *my_orders()][:20]
