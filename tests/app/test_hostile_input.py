"""Hostile or sloppy text reaching the facade: a typed error or "not found", never a raw exception."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import InvalidTextError, OrderNotFoundError, QuoteNotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradein_sdk import TradeIn

IPHONE = "apple-iphone-13-128gb"
LONE = "\ud800"


def _answers() -> dict[str, Any]:
    return dict(example_answers("smartphone", "worn").answers)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda t: t.get_quote(f"q_{LONE}"), QuoteNotFoundError),
        (lambda t: t.get_quote("q_" + "x" * 500), QuoteNotFoundError),
        (lambda t: t.order(f"ord_{LONE}"), OrderNotFoundError),
        (lambda t: t.ledger(f"ord_{LONE}"), OrderNotFoundError),
        (lambda t: t.clawbacks(f"ord_{LONE}"), OrderNotFoundError),
        (lambda t: t.ship(f"ord_{LONE}", "d1"), OrderNotFoundError),
        (lambda t: t.settle(f"ord_{LONE}", "d1"), OrderNotFoundError),
        (lambda t: t.stop_installments(f"ord_{LONE}", reason="contract_ended"), OrderNotFoundError),
    ],
    ids=["quote", "long quote id", "order", "ledger", "clawbacks", "ship", "settle", "stop"],
)
def test_an_id_that_cannot_exist_is_not_found(
    any_store_trade_in: TradeIn, call: Callable[[TradeIn], object], error: type[Exception]
) -> None:
    """A lone surrogate or an overlong id is looked up like any unknown id: not found, with its code."""
    with pytest.raises(error) as raised:
        call(any_store_trade_in)
    assert "\\ud800" in str(raised.value) or "xxx" in str(raised.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda t: t.quote(IPHONE, _answers(), audience="x" * 121), "audience"),
        (lambda t: t.quote(IPHONE, _answers(), audience=f"shop{LONE}"), "audience"),
        (lambda t: t.quote(IPHONE, _answers(), audience="shop\n"), "audience"),
        (lambda t: t.redeem(t.quote(IPHONE, _answers()).token, reference=f"r{LONE}"), "reference"),
        (lambda t: t.accept([t.quote(IPHONE, _answers()).token], customer_ref=f"c{LONE}"), "customer_ref"),
        (lambda t: t.accept([t.quote(IPHONE, _answers()).token], customer_ref="c" * 65), "customer_ref"),
    ],
    ids=["long audience", "surrogate audience", "control audience", "reference", "customer", "long customer"],
)
def test_text_that_cannot_be_kept_is_refused_before_anything_is_written(
    any_store_trade_in: TradeIn, call: Callable[[TradeIn], object], field: str
) -> None:
    """InvalidTextError names the argument; no quote is redeemed and no order opened."""
    trade_in = any_store_trade_in
    with pytest.raises(InvalidTextError) as raised:
        call(trade_in)
    assert (raised.value.code, raised.value.field) == ("invalid_text", field)
    assert trade_in.list_orders() == []


def test_a_stop_reason_must_be_text(trade_in: TradeIn) -> None:
    """The reason an installment stops is kept: it must be printable text."""
    order = trade_in.accept([trade_in.quote(IPHONE, _answers()).token])
    with pytest.raises(InvalidTextError):
        trade_in.stop_installments(order.id, reason=f"x{LONE}")
