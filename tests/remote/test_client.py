"""The HTTP clients: against the real service on a loopback port, and with respx for faults."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest

from grading_questionnaire import ConditionReport, RenderedQuestionnaire, example_answers
from tradein_sdk import (
    AnswersInvalidError,
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncTradeInClient,
    BankTransfer,
    CheckoutRequest,
    CheckoutSummary,
    ConfigurationError,
    DeviceState,
    InspectionDiff,
    IssuedQuote,
    Money,
    NewDevice,
    NotFoundError,
    OrderNotFoundError,
    QuoteAlreadyRedeemedError,
    SearchResults,
    TradeIn,
    TradeInClient,
    TradeInError,
    TradeInOrder,
    UnprocessableEntityError,
    order_reference,
)
from tradein_sdk._remote.api import EventBody, operations
from tradein_sdk._remote.service import TradeInService, make_server
from tradein_sdk.testing import FakeTradeInService, retry_delays_disabled

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KEY = "terminal-key-0123456789"
"""An online shop of the chain: quotes, orders, shipping."""
OFFICE_KEY = "office-key-0123456789"
"""The chain's back office: receiving, inspection, payout, clawbacks."""
IBAN = "DE89 3704 0044 0532 0130 00"
GALAXY = NewDevice(
    sku="SM-S931B-256",
    name="Galaxy S25 256 GB",
    brand="Samsung",
    category="smartphone",
    price=Money("999.00", "EUR"),
)
KINDS = ("sync", "async")


def answers(name: str = "flawless") -> dict[str, Any]:
    """A bundled smartphone example answer set."""
    return example_answers("smartphone", name).answers


class Remote:
    """Calls the sync or the async client with one signature, so each test runs against both.

    The async client runs on one event loop of its own, kept for the client's life (its connection pool
    belongs to that loop).
    """

    def __init__(self, kind: str, base_url: str, api_key: str = KEY, **options: Any) -> None:  # noqa: ANN401
        """Make the client of ``kind`` for the service at ``base_url``."""
        self.kind = kind
        self.loop = asyncio.new_event_loop() if kind == "async" else None
        factory = TradeInClient if kind == "sync" else AsyncTradeInClient
        self.client: Any = factory(base_url=base_url, api_key=api_key, **options)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """The client's method ``name``, run to completion when it is a coroutine."""
        method = getattr(self.client, name)
        if self.loop is None:
            return method  # type: ignore[no-any-return]
        loop = self.loop

        def run(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            return loop.run_until_complete(method(*args, **kwargs))

        return run

    def close(self) -> None:
        """Close the client (its connection pool) and its event loop."""
        if self.loop is None:
            self.client.close()
        else:
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()


@pytest.fixture
def service_url(trade_in: TradeIn) -> Iterator[str]:
    """The real service on a loopback port (the threaded keep-alive server), on a fresh store."""
    keys = {"terminal@chain:shop": KEY, "chain-hq@chain:back_office": OFFICE_KEY}
    server = make_server(TradeInService(trade_in, api_keys=keys), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=KINDS)
def remote(request: pytest.FixtureRequest, service_url: str) -> Iterator[Remote]:
    """The sync or the async client of the loopback service."""
    client = Remote(request.param, service_url)
    yield client
    client.close()


@pytest.fixture
def office(remote: Remote, service_url: str) -> Iterator[Remote]:
    """The back office's client, of the same kind as ``remote``."""
    client = Remote(remote.kind, service_url, OFFICE_KEY)
    yield client
    client.close()


# -- the same use cases ------------------------------------------------------------------------------------


def test_the_clients_have_the_facades_use_cases() -> None:
    """Each operation is a client method taking the facade method's arguments (same kinds and defaults).

    Except what the API key decides (who acts, the audience of quotes), and ``record_event``'s event fields,
    which the client names one by one.
    """
    by_key = {"actor", "audience"}
    for operation in operations().values():
        facade = inspect.signature(getattr(TradeIn, operation.id))
        sync = inspect.signature(getattr(TradeInClient, operation.id))
        asynchronous = inspect.signature(getattr(AsyncTradeInClient, operation.id))
        assert sync == asynchronous, operation.id
        assert inspect.iscoroutinefunction(getattr(AsyncTradeInClient, operation.id))
        client_parameters = dict(sync.parameters)
        for name, parameter in facade.parameters.items():
            if name in by_key or parameter.kind is inspect.Parameter.VAR_KEYWORD:
                assert name not in client_parameters, (operation.id, name)
                continue
            assert name in client_parameters, (operation.id, name)
            twin = client_parameters.pop(name)
            assert (twin.kind, twin.default) == (parameter.kind, parameter.default), (operation.id, name)
        extra = set(client_parameters)
        if operation.id == "record_event":
            extra -= {field.name for field in attrs.fields(EventBody)}
        assert extra == ({"idempotency_key"} if operation.method == "POST" else set()), operation.id
        assert str(sync.return_annotation) == str(facade.return_annotation), operation.id


def test_a_whole_trade_in_over_http(remote: Remote, office: Remote) -> None:
    """Search, questionnaire, grade, quote, order, inspection, revision, payout: typed results throughout.

    The shop quotes, opens the order, ships and answers the revision; the back office receives, inspects
    and pays.
    """
    found = remote.search("iphone 13 128", limit=3)
    assert isinstance(found, SearchResults)
    assert found.results[0].id == "apple-iphone-13-128gb"

    rendered = remote.render_questionnaire("smartphone", "de", staff=True)
    assert isinstance(rendered, RenderedQuestionnaire)
    assert rendered.locale == "de"
    assert any(question.staff_only for section in rendered.sections for question in section.questions)

    report = remote.grade("smartphone", answers())
    assert isinstance(report, ConditionReport)
    assert report.cosmetic == "A"

    first = remote.quote("apple-iphone-13-128gb", answers(), locale="de_DE")
    second = remote.quote("apple-iphone-14-128gb", answers("worn"))
    assert isinstance(first, IssuedQuote)
    assert first.quote.amount.currency == "EUR"
    assert remote.verify_token(first.token).quote_id == first.quote.id
    assert remote.get_quote(first.quote.id).redemption is None

    order = remote.accept(
        [first.token, second.token], payout=BankTransfer(iban=IBAN, holder="Erika Mustermann")
    )
    assert isinstance(order, TradeInOrder)
    assert remote.get_quote(first.quote.id).redemption is not None
    label = remote.issue_label(order.id)
    reference = order_reference(order.id)
    assert [device.device_ref for device in label.devices] == [f"{reference}/d1", f"{reference}/d2"]
    assert "<svg" in label.barcode_svg
    for device in ("d1", "d2"):
        remote.ship(order.id, device, tracking="1Z999AA10123456784")
        office.receive(order.id, device)
    diff = office.inspect(order.id, "d1", answers("store-inspected"), imei="490154203237518", locale="de_DE")
    assert isinstance(diff, InspectionDiff)
    assert diff.revised_offer < first.quote.amount
    assert remote.order(order.id).device("d1").state is DeviceState.REVISED
    assert (
        remote.respond_to_revision(order.id, "d1", accept=False).device("d1").state is DeviceState.RETURNING
    )

    inspected = {
        **answers("worn"),
        **{
            key: answers("store-inspected")[key]
            for key in ("liquid_indicator", "blocklist_status", "authenticity")
        },
    }
    office.inspect(order.id, "d2", inspected, imei="357805023984942")
    paid = office.pay(order.id, "d2")
    assert paid.device("d2").state is DeviceState.PAID
    assert paid.device("d2").settled == second.quote.amount


def test_checkout_with_protection_over_http(remote: Remote, office: Remote) -> None:
    """Offers, a signed summary, confirmation with consent, and clawbacks, as the facade gives them."""
    issued = remote.quote("apple-iphone-13-128gb", answers())
    offers = remote.insurance_offers(CheckoutRequest(quote_ids=(issued.quote.id,), new_device=GALAXY))
    assert offers
    request = CheckoutRequest(
        quote_ids=(issued.quote.id,), new_device=GALAXY, insurance_offer_id=offers[0].offer_id
    )
    summary = remote.checkout(request)
    assert isinstance(summary, CheckoutSummary)
    assert summary.signature.startswith("cs1.")
    assert summary.applied_now == issued.quote.amount
    confirmed = remote.confirm_checkout(summary, insurance_accepted=True)
    assert confirmed.summary == summary
    assert confirmed.consent is not None
    assert confirmed.consent.decision.value == "accepted"
    clawbacks = office.clawbacks(confirmed.order.id)
    assert set(clawbacks) == {"d1"}
    assert remote.cancel(confirmed.order.id).device("d1").state is DeviceState.CANCELLED
    assert office.clawbacks(confirmed.order.id)["d1"] == issued.quote.amount


def test_a_tampered_summary_is_refused_remotely(remote: Remote) -> None:
    """Prices are recomputed by the service: an altered summary raises checkout_changed."""
    import attrs  # noqa: PLC0415

    issued = remote.quote("apple-iphone-13-128gb", answers())
    summary = remote.checkout(CheckoutRequest(quote_ids=(issued.quote.id,), new_device=GALAXY))
    cheaper = attrs.evolve(summary, due_now=Money("1.00", "EUR"))
    with pytest.raises(TradeInError) as raised:
        remote.confirm_checkout(cheaper)
    assert raised.value.code == "checkout_changed"


def test_remote_errors_are_the_library_errors(remote: Remote) -> None:
    """A client raises what the facade raises, and it is at once the HTTP status error."""
    issued = remote.quote("apple-iphone-13-128gb", answers())
    remote.accept([issued.token])
    with pytest.raises(QuoteAlreadyRedeemedError) as redeemed:
        remote.accept([issued.token])
    error = redeemed.value
    assert isinstance(error, UnprocessableEntityError)
    assert isinstance(error, APIStatusError)
    assert error.code == "quote_already_redeemed"
    assert error.status == 422
    assert error.attempts == 1
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert error.quote_id == issued.quote.id
    assert issued.quote.id in str(error)

    with pytest.raises(OrderNotFoundError) as missing:
        remote.order("ord_nope")
    assert isinstance(missing.value, NotFoundError)
    assert missing.value.status == 404  # type: ignore[attr-defined]
    assert missing.value.localized("de_DE") == "Es gibt keinen Auftrag ord_nope."

    with pytest.raises(AnswersInvalidError) as invalid:
        remote.quote("apple-iphone-13-128gb", {"display_glass": "shattered"})
    problems = {(problem.path, problem.code) for problem in invalid.value.problems}
    assert ("$.display_glass", "option_not_offered") in problems
    assert all(problem.localized("fr") for problem in invalid.value.problems)


def test_a_wrong_key_is_an_authentication_error(service_url: str) -> None:
    """401 is not a library error: the client raises AuthenticationError (an APIStatusError)."""
    from tradein_sdk import AuthenticationError  # noqa: PLC0415

    with (
        TradeInClient(base_url=service_url, api_key="wrong-key-0123456789") as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        client.search("pixel")
    assert raised.value.problem_code == "unauthenticated"


def test_configuration_falls_back_on_the_environment(
    monkeypatch: pytest.MonkeyPatch, service_url: str
) -> None:
    """TRADEIN_BASE_URL and TRADEIN_API_KEY configure a client made without arguments."""
    monkeypatch.delenv("TRADEIN_BASE_URL", raising=False)
    monkeypatch.delenv("TRADEIN_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="TRADEIN_BASE_URL"):
        TradeInClient()
    monkeypatch.setenv("TRADEIN_BASE_URL", service_url)
    monkeypatch.setenv("TRADEIN_API_KEY", KEY)
    monkeypatch.setenv("TRADEIN_TIMEOUT", "3.5")
    with TradeInClient() as client:
        assert client.config.timeout == 3.5
        assert client.search("pixel 8").results
        quick = client.with_options(timeout=1.0, max_retries=0)
        assert (quick.config.timeout, quick.config.max_retries) == (1.0, 0)
        assert quick.search("pixel 8").results
    assert AsyncTradeInClient().config.base_url == service_url


# -- faults (respx, through the testing helper) --------------------------------------------------------------


def _transport_errors() -> list[type[httpx.TransportError]]:
    def leaves(cls: type[httpx.TransportError]) -> list[type[httpx.TransportError]]:
        children = cls.__subclasses__()
        return [leaf for child in children for leaf in leaves(child)] if children else [cls]

    return sorted(leaves(httpx.TransportError), key=lambda cls: cls.__name__)


@pytest.fixture
def fake(trade_in: TradeIn) -> Iterator[FakeTradeInService]:
    """The respx fake of the service, with backoff delays removed."""
    with FakeTradeInService(trade_in) as service, retry_delays_disabled():
        yield service


@pytest.fixture
def connect(fake: FakeTradeInService) -> Iterator[Callable[..., Remote]]:
    """Make sync or async clients of the fake (closed after the test)."""
    made: list[Remote] = []

    def make(kind: str, **options: Any) -> Remote:  # noqa: ANN401
        client = Remote(kind, fake.base_url, fake.api_key, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def keys_sent(fake: FakeTradeInService, operation: str) -> list[str | None]:
    """The Idempotency-Key of every attempt of an operation."""
    return [call.request.headers.get("Idempotency-Key") for call in fake.routes[operation].calls]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("exception", _transport_errors(), ids=lambda cls: cls.__name__)
def test_every_transport_failure_ends_typed_with_one_key(
    fake: FakeTradeInService, connect: Callable[..., Remote], kind: str, exception: type[httpx.TransportError]
) -> None:
    """Each httpx transport exception every time: retried, then APIConnectionError or APITimeoutError."""
    fake.fail("quote", times=3, error=exception)
    client = connect(kind)
    with pytest.raises(APIConnectionError) as raised:
        client.quote("apple-iphone-13-128gb", answers())
    assert isinstance(raised.value, APITimeoutError) == issubclass(exception, httpx.TimeoutException)
    assert raised.value.attempts == 3
    keys = keys_sent(fake, "quote")
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert keys[0] == raised.value.idempotency_key


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("failures", [0, 2, 4])
def test_server_errors_then_success(
    fake: FakeTradeInService, connect: Callable[..., Remote], kind: str, failures: int
) -> None:
    """0, 2 or 4 answers of 5xx, then the service answers: one quote, issued once, one key throughout."""
    for status in [500, 502, 503, 504][:failures]:
        fake.fail("quote", status=status)
    client = connect(kind, max_retries=4)
    issued = client.quote("apple-iphone-13-128gb", answers(), idempotency_key="checkout-42-device-1")
    assert isinstance(issued, IssuedQuote)
    assert keys_sent(fake, "quote") == ["checkout-42-device-1"] * (failures + 1)
    assert fake.trade_in.get_quote(issued.quote.id).quote == issued.quote


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limited_then_served(
    fake: FakeTradeInService, connect: Callable[..., Remote], kind: str
) -> None:
    """429 with Retry-After twice, then success; without retries left, RateLimitError carries Retry-After."""
    from tradein_sdk import RateLimitError  # noqa: PLC0415

    fake.fail("search", times=2, status=429, retry_after=1)
    assert connect(kind).search("pixel").results
    assert fake.routes["search"].call_count == 3
    fake.fail("search", times=1, status=429, retry_after=30)
    with pytest.raises(RateLimitError) as raised:
        connect(kind, max_retries=0).search("pixel")
    assert raised.value.retry_after == 30


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("body", "status"), [(b"{not json", 200), (b'{"quote": 1}', 201), (b"[]", 201), (b"NaN", 200)]
)
def test_malformed_answers_are_response_errors(
    fake: FakeTradeInService, connect: Callable[..., Remote], kind: str, body: bytes, status: int
) -> None:
    """A 2xx body that is not JSON, or not the result type, is APIResponseError; nothing is retried."""
    fake.fail("quote", status=status, body=body)
    with pytest.raises(APIResponseError) as raised:
        connect(kind).quote("apple-iphone-13-128gb", answers())
    assert raised.value.attempts == 1
    assert fake.routes["quote"].call_count == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_answer_is_recovered_by_the_retry(
    fake: FakeTradeInService, connect: Callable[..., Remote], kind: str
) -> None:
    """The order is opened, its answer lost (read timeout); the retry with the same key gets that order."""
    issued = fake.facade().quote("apple-iphone-13-128gb", answers())
    answer: Any = fake.routes["accept"].side_effect
    calls: list[httpx.Response] = []

    def lose_first_answer(request: httpx.Request) -> httpx.Response:
        response: httpx.Response = answer(request)
        calls.append(response)
        if len(calls) == 1:
            raise httpx.ReadTimeout("the answer was lost on the way back")
        return response

    fake.routes["accept"].side_effect = lose_first_answer
    order = connect(kind).accept([issued.token])
    assert [response.status_code for response in calls] == [201, 201]
    assert calls[1].headers["Idempotent-Replayed"] == "true"
    assert calls[0].json()["id"] == order.id
    assert len(fake.trade_in.store.list_orders()) == 1
