"""The facade on narrow ports: a store of one concern, and use cases callers once reached the store for."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import (
    Actor,
    AuditLog,
    ConfigurationError,
    DeviceState,
    FixedClock,
    IdempotencyKeys,
    KeyRing,
    Money,
    OrderDeviceNotFoundError,
    OrderStore,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteNotFoundError,
    QuoteNotRedeemableError,
    QuoteRecord,
    QuoteStore,
    Redemption,
    SQLStore,
    Store,
    StoredDocument,
    TradeIn,
    TradeInService,
    WebhookEndpoint,
)
from tradein_sdk.testing import example_erasure_report
from tradein_sdk.webhooks import WebhookEvent, WebhookSecrets

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from pathlib import Path

    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import AuditFact

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
IPHONE = "apple-iphone-13-128gb"


class DictQuoteStore:
    """A shop's own quote store: quotes and their documents in dictionaries, nothing else."""

    def __init__(self) -> None:
        """Start empty."""
        self.quotes: dict[str, QuoteRecord] = {}
        self.redemptions: dict[str, Redemption] = {}
        self.documents: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_quote(
        self,
        record: QuoteRecord,
        *,
        documents: Iterable[StoredDocument] = (),
        audit: Sequence[AuditFact] = (),  # noqa: ARG002 - a store without an audit log drops it
    ) -> None:
        """Keep the quote and the documents it was computed from."""
        with self._lock:
            for document in documents:
                self.documents.setdefault(document.content_hash, document.text)
            self.quotes[record.quote_id] = record

    def get_quote(
        self, quote_id: str, *, scope: Scope | None = None
    ) -> tuple[QuoteRecord, Redemption | None]:
        """Return the quote and its redemption (in ``scope``: a quote of the scope's tenant only)."""
        record = self.quotes.get(quote_id)
        if record is None or (scope is not None and record.audience != scope.tenant):
            raise QuoteNotFoundError(quote_id)
        return record, self.redemptions.get(quote_id)

    def redeem_quote(
        self,
        quote_id: str,
        *,
        now: datetime,
        reference: str | None = None,
        audit: Sequence[AuditFact] = (),  # noqa: ARG002 - a store without an audit log drops it
        scope: Scope | None = None,
    ) -> Redemption:
        """Redeem once, under a lock."""
        with self._lock:
            record, redemption = self.get_quote(quote_id, scope=scope)
            if redemption is not None:
                raise QuoteAlreadyRedeemedError(quote_id)
            if not record.redeemable:
                raise QuoteNotRedeemableError(quote_id)
            if record.expires_at <= now:
                raise QuoteExpiredError(quote_id)
            redemption = Redemption(
                redemption_id=f"red_{len(self.redemptions) + 1}",
                quote_id=quote_id,
                amount=record.amount,
                reference=reference,
                redeemed_at=now,
            )
            self.redemptions[quote_id] = redemption
            return redemption

    def get_document(self, content_hash: str) -> str:
        """Return a kept document."""
        return self.documents[content_hash]


@pytest.fixture
def quotes_only(tmp_path: Path) -> TradeIn:
    """A facade whose store keeps quotes only."""
    key_ring = KeyRing.load_or_create(tmp_path / "keys.json")
    return TradeIn(store=DictQuoteStore(), key_ring=key_ring, audience="shop", clock=FixedClock(START))


@pytest.fixture
def trade_in(tmp_path: Path) -> Iterator[TradeIn]:
    """The embedded facade on SQLite."""
    facade = TradeIn.embedded(tmp_path / "data", clock=FixedClock(START))
    yield facade
    facade.close()


def _answers(name: str = "worn") -> dict[str, object]:
    return dict(example_answers("smartphone", name).answers)


def test_sql_store_implements_every_port() -> None:
    """The SQL store is each narrow port and the whole Store; a dictionary store is only a QuoteStore."""
    for port in (QuoteStore, OrderStore, AuditLog, IdempotencyKeys, Store):
        assert issubclass(SQLStore, port), port
    assert isinstance(DictQuoteStore(), QuoteStore)
    assert not isinstance(DictQuoteStore(), OrderStore)


def test_a_quote_store_alone_serves_quotes_tokens_and_redemption(quotes_only: TradeIn) -> None:
    """Quote, read back, verify, explain and redeem exactly once, on a store that keeps nothing but quotes."""
    issued = quotes_only.quote(IPHONE, _answers(), locale="de_DE")
    stored = quotes_only.get_quote(issued.quote.id)
    assert stored.quote == issued.quote
    assert stored.redemption is None
    assert quotes_only.verify_token(issued.token).amount == issued.quote.amount
    lines = quotes_only.explain(issued.quote, "fr_FR")
    assert sum((line.amount for line in lines), Money.zero("EUR")) == issued.quote.amount
    assert quotes_only.reproduce_quote(issued.quote.id) == issued.quote
    redemption = quotes_only.redeem(issued.token, reference="basket-7")
    assert (redemption.amount, redemption.reference) == (issued.quote.amount, "basket-7")
    with pytest.raises(QuoteAlreadyRedeemedError):
        quotes_only.redeem(issued.token)
    assert quotes_only.get_quote(issued.quote.id).redemption == redemption


def test_use_cases_of_other_concerns_name_the_missing_port(quotes_only: TradeIn) -> None:
    """Orders, the audit log and the full store are refused with a ConfigurationError naming the port."""
    issued = quotes_only.quote(IPHONE, _answers())
    with pytest.raises(ConfigurationError, match="OrderStore"):
        quotes_only.accept([issued.token])
    with pytest.raises(ConfigurationError, match="OrderStore"):
        quotes_only.list_orders()
    with pytest.raises(ConfigurationError, match="AuditLog"):
        quotes_only.verify_audit()
    with pytest.raises(ConfigurationError, match="Store"):
        _ = quotes_only.store
    with pytest.raises(ConfigurationError, match="not implement Store"):  # the service serves every use case
        TradeInService(quotes_only, api_keys={"shop": "a-key-of-16-chars-or-more"})
    assert quotes_only.get_quote(issued.quote.id).redemption is None  # the refused accept claimed nothing


def test_list_orders_newest_first_by_customer_and_open(trade_in: TradeIn) -> None:
    """Orders come back newest first, filtered by customer and by whether a device can still change."""
    clock = trade_in.clock
    assert isinstance(clock, FixedClock)
    opened = []
    for customer in ("cus_a", "cus_b", "cus_a"):
        token = trade_in.quote(IPHONE, _answers()).token
        opened.append(trade_in.accept([token], customer_ref=customer))
        clock.advance(minutes=1)
    trade_in.cancel(opened[0].id)
    assert [order.id for order in trade_in.list_orders()] == [order.id for order in reversed(opened)]
    assert [order.id for order in trade_in.list_orders(limit=2)] == [opened[2].id, opened[1].id]
    assert [order.id for order in trade_in.list_orders(customer_ref="cus_a")] == [opened[2].id, opened[0].id]
    assert [order.id for order in trade_in.list_orders(open_only=True)] == [opened[2].id, opened[1].id]
    assert trade_in.list_orders()[-1].device("d1").state is DeviceState.CANCELLED
    with pytest.raises(ValueError, match="limit"):
        trade_in.list_orders(limit=0)


def test_verify_audit_through_the_facade(trade_in: TradeIn) -> None:
    """The facade checks the audit chain its changes wrote."""
    assert trade_in.verify_audit().entries_checked == 0
    order = trade_in.accept([trade_in.quote(IPHONE, _answers()).token])
    trade_in.cancel(order.id)
    verification = trade_in.verify_audit()
    assert verification.ok
    # the quote issued, the order opened and its ledger opened; the cancellation and what it posted
    assert verification.entries_checked == 5
    assert trade_in.verify_audit(anchor=verification.heads).ok


def test_an_erasure_report_is_recorded_once_per_receipt(tmp_path: Path) -> None:
    """A delivered erasure report: a certificate, an audit entry, a webhook per endpoint; a repeat: none."""
    secrets = WebhookSecrets.generate()
    endpoint = WebhookEndpoint(url="https://shop.example/hooks", secrets=secrets)
    clock = FixedClock(START)
    facade = TradeIn.embedded(tmp_path / "data", clock=clock, webhook_endpoints=[endpoint])
    try:
        order = facade.accept([facade.quote(IPHONE, _answers()).token])
        facade.issue_label(order.id)
        facade.receive(order.id, "d1")  # only a device in custody can be erased
        clock.advance(hours=2)
        before = facade.verify_audit().entries_checked
        report = example_erasure_report(order.id, received_at=START)
        receipt = WebhookEvent(id="msg_provider_1", type="device.erased", timestamp=START, data={})
        for expected in (True, False):
            assert (
                facade._erasure_reported_once(order.id, "d1", report, actor=Actor.PROVIDER, receipt=receipt)
                is expected
            )
        with pytest.raises(OrderDeviceNotFoundError):
            facade.record_erasure_report(order.id, "d9", {**report, "device_id": "d9"}, actor=Actor.STAFF)
        verification = facade.verify_audit()
        assert (verification.ok, verification.entries_checked) == (True, before + 1)  # one certificate entry
        due = facade.store.due_webhooks(now=clock.now() + timedelta(minutes=1))
        assert [
            (row.message.type, row.message.endpoint) for row in due if row.message.type == "device.erased"
        ] == [("device.erased", "https://shop.example/hooks")]
    finally:
        facade.close()
