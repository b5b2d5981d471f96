"""Erasing a customer takes the IMEIs out of their quotes too; the audit's record check still holds."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import SQLStore, TradeIn
from tradein_sdk._domain.audit import AuditProblemKind

if TYPE_CHECKING:
    from pathlib import Path

    from tradein_sdk import FixedClock

IMEI = "490154203237518"


def guaranteed_order(trade_in: TradeIn, customer: str) -> str:
    """A store-verified (guaranteed) quote with its IMEI, accepted for ``customer``; the quote id."""
    answers = {
        **example_answers("smartphone", "flawless").answers,
        "liquid_indicator": "not_triggered",
        "blocklist_status": "clear",
        "authenticity": "genuine",
    }
    issued = trade_in.quote("apple-iphone-13-128gb", answers, verification="staff_verified", imei=IMEI)
    trade_in.accept([issued.token], customer_ref=customer)
    return issued.quote.id


def stored_document(trade_in: TradeIn, quote_id: str) -> str:
    """The quote's document as the store keeps it."""
    return trade_in.store.get_quote(quote_id)[0].document


def test_the_imei_leaves_the_customers_quotes_and_the_files(tmp_path: Path, clock: FixedClock) -> None:
    """After erase_customer no stored quote, database page or WAL frame holds the IMEI; the audit verifies."""
    trade_in = TradeIn.embedded(tmp_path / "data", clock=clock)
    mine = guaranteed_order(trade_in, "cus_gone")
    other = guaranteed_order(trade_in, "cus_stays")
    assert IMEI in stored_document(trade_in, mine)
    trade_in.erase_customer("cus_gone")
    assert IMEI not in stored_document(trade_in, mine)
    assert json.loads(stored_document(trade_in, mine))["device"]["imei"] is None
    assert (
        trade_in.get_quote(mine).quote.amount == trade_in.get_quote(other).quote.amount
    )  # nothing else changed
    assert IMEI in stored_document(trade_in, other)  # another customer's quote keeps its IMEI
    verification = trade_in.verify_audit()
    assert verification.ok, verification.problems
    trade_in.erase_customer("cus_stays")
    for suffix in ("", "-wal", "-shm"):
        path = tmp_path / "data" / f"tradein.sqlite3{suffix}"
        assert not path.exists() or IMEI.encode() not in path.read_bytes(), suffix
    trade_in.close()


def test_a_redacted_quote_changed_afterwards_is_still_found(tmp_path: Path, clock: FixedClock) -> None:
    """The redaction is audited with the new document's hash: a later change to the document is reported."""
    trade_in = TradeIn.embedded(tmp_path / "data", clock=clock)
    quote_id = guaranteed_order(trade_in, "cus_gone")
    trade_in.erase_customer("cus_gone")
    store = trade_in.store
    assert isinstance(store, SQLStore)
    quotes = store._t["quotes"]
    document = json.loads(stored_document(trade_in, quote_id))
    document["amount"]["amount"] = "999.00"
    with store._engine.begin() as conn:
        conn.execute(sa.update(quotes).where(quotes.c.id == quote_id).values(document=json.dumps(document)))
    problems = trade_in.verify_audit().problems
    assert [problem.kind for problem in problems] == [AuditProblemKind.RECORD_CHANGED]
    assert quote_id in problems[0].message
    trade_in.close()
