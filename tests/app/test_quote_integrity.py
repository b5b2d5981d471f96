"""A stored quote changed after issue is refused wherever it would be credited; the attempt is audited."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import APIStatusError, QuoteTamperedError, SQLStore, TradeIn
from tradein_sdk.testing import FakeTradeInService

if TYPE_CHECKING:
    from collections.abc import Callable

IPHONE = "apple-iphone-13-128gb"


def _answers() -> dict[str, object]:
    return dict(example_answers("smartphone", "worn").answers)


def _quotes_table(trade_in: TradeIn) -> tuple[SQLStore, sa.Table]:
    store = trade_in.store
    assert isinstance(store, SQLStore)
    return store, sa.Table("tradein_quotes", sa.MetaData(), autoload_with=store._engine)


def _set_amount_column(trade_in: TradeIn, quote_id: str) -> None:
    """The attack the checkout met: an UPDATE of the amount the store credits."""
    store, quotes = _quotes_table(trade_in)
    with store._engine.begin() as conn:
        conn.execute(sa.update(quotes).where(quotes.c.id == quote_id).values(amount="999.00"))


def _set_document_amount(trade_in: TradeIn, quote_id: str) -> None:
    """The quote document edited, the column left alone."""
    store, quotes = _quotes_table(trade_in)
    with store._engine.begin() as conn:
        document = json.loads(
            conn.execute(sa.select(quotes.c.document).where(quotes.c.id == quote_id)).scalar_one()
        )
        document["amount"]["amount"] = "999.00"
        conn.execute(sa.update(quotes).where(quotes.c.id == quote_id).values(document=json.dumps(document)))


def _extend_expiry(trade_in: TradeIn, quote_id: str) -> None:
    """The validity stretched by a year."""
    store, quotes = _quotes_table(trade_in)
    stored = trade_in.get_quote(quote_id).quote
    with store._engine.begin() as conn:
        conn.execute(
            sa.update(quotes)
            .where(quotes.c.id == quote_id)
            .values(expires_at=stored.expires_at + timedelta(days=365))
        )


def _audit_actions(trade_in: TradeIn) -> list[tuple[str, str]]:
    store, _ = _quotes_table(trade_in)
    log = sa.Table("tradein_audit_log", sa.MetaData(), autoload_with=store._engine)
    with store._engine.connect() as conn:
        rows = conn.execute(sa.select(log.c.action, log.c.subject).order_by(log.c.chain, log.c.sequence))
        return [(row.action, row.subject) for row in rows]


TAMPERINGS: list[tuple[Callable[[TradeIn, str], None], str]] = [
    (_set_amount_column, "amount"),
    (_set_document_amount, "amount"),
    (_extend_expiry, "expires_at"),
]


@pytest.mark.parametrize(("tamper", "field"), TAMPERINGS, ids=["amount-column", "document", "expiry"])
def test_redemption_refuses_a_changed_quote(
    any_store_trade_in: TradeIn, tamper: Callable[[TradeIn, str], None], field: str
) -> None:
    """A 195 € token never redeems 999 €: a changed quote is refused, nothing credited, the try audited."""
    trade_in = any_store_trade_in
    issued = trade_in.quote(IPHONE, _answers())
    tamper(trade_in, issued.quote.id)
    with pytest.raises(QuoteTamperedError) as raised:
        trade_in.redeem(issued.token)
    assert (raised.value.code, raised.value.field, raised.value.quote_id) == (
        "quote_tampered",
        field,
        issued.quote.id,
    )
    assert trade_in.get_quote(issued.quote.id).redemption is None
    assert _audit_actions(trade_in) == [
        ("quote.issued", issued.quote.id),
        ("quote.tampered", issued.quote.id),
    ]


@pytest.mark.parametrize(("tamper", "field"), TAMPERINGS, ids=["amount-column", "document", "expiry"])
def test_the_audit_verification_reports_a_changed_quote(
    any_store_trade_in: TradeIn, tamper: Callable[[TradeIn, str], None], field: str
) -> None:
    """The chain itself is intact, but the quote no longer matches its audited issue: record_changed."""
    trade_in = any_store_trade_in
    issued = trade_in.quote(IPHONE, _answers())
    untouched = trade_in.quote(IPHONE, _answers())
    assert trade_in.verify_audit().ok
    tamper(trade_in, issued.quote.id)
    verification = trade_in.verify_audit()
    assert not verification.ok
    assert [(problem.kind.value, problem.sequence) for problem in verification.problems] == [
        ("record_changed", 1)
    ]
    message = verification.problems[0].message
    assert issued.quote.id in message
    assert untouched.quote.id not in message
    expected = "document" if field == "amount" and tamper is _set_document_amount else field
    assert expected in message


@pytest.mark.parametrize(("tamper", "field"), TAMPERINGS, ids=["amount-column", "document", "expiry"])
def test_an_order_is_not_opened_on_a_changed_quote(
    trade_in: TradeIn, tamper: Callable[[TradeIn, str], None], field: str
) -> None:
    """Accepting a changed quote opens no order and claims no quote, the untouched one included."""
    kept = trade_in.quote(IPHONE, _answers())
    changed = trade_in.quote(IPHONE, _answers())
    tamper(trade_in, changed.quote.id)
    with pytest.raises(QuoteTamperedError, match=field):
        trade_in.accept([kept.token, changed.token])
    assert trade_in.list_orders() == []
    assert trade_in.redeem(kept.token).amount == kept.quote.amount


def test_an_untouched_quote_passes_the_check(trade_in: TradeIn) -> None:
    """The check returns the stored quote as issued."""
    issued = trade_in.quote(IPHONE, _answers())
    assert trade_in.claimed_quote(trade_in.verify_token(issued.token)).quote == issued.quote
    assert trade_in.redeem(issued.token).amount == issued.quote.amount
    assert _audit_actions(trade_in) == [
        ("quote.issued", issued.quote.id),
        ("quote.redeemed", issued.quote.id),
    ]


def test_the_service_answers_422_quote_tampered(trade_in: TradeIn) -> None:
    """Over HTTP the refusal is a 422 problem with the library's code; the client raises the same class."""
    with FakeTradeInService(trade_in) as service, service.client() as client:
        issued = client.quote(IPHONE, _answers())
        _set_amount_column(trade_in, issued.quote.id)
        with pytest.raises(QuoteTamperedError) as raised:
            client.redeem(issued.token)
    assert isinstance(raised.value, APIStatusError)
    assert (raised.value.code, raised.value.status) == ("quote_tampered", 422)
    assert trade_in.get_quote(issued.quote.id).redemption is None
