from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import attrs
import httpx
import pytest
import respx

from tradein_sdk import TradeInError, __version__
from tradein_sdk._domain.clock import FixedClock
from tradein_sdk._domain.converters import document_converter
from tradein_sdk._errors import ConfigurationError
from tradein_sdk._remote import transport as _transport
from tradein_sdk._remote.transport import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_DELAY,
    APIConnectionError,
    APIError,
    ApiResponse,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncRequestCore,
    AuthenticationError,
    BadRequestError,
    ClientConfig,
    ConflictError,
    InternalServerError,
    InvalidIdempotencyKeyError,
    NotFoundAPIError,
    PermissionDeniedError,
    RateLimitError,
    RequestCore,
    UnprocessableEntityError,
    backoff_delay,
    parse_retry_after,
    retry_delays_disabled,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

BASE_URL = "https://tradein.test/api"
API_KEY = "sk_test_4f2a"
CONFIG = ClientConfig(base_url=BASE_URL, api_key=API_KEY)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
JITTER = 0.5
KINDS = ("sync", "async")
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def _leaves(cls: type[Exception]) -> set[type[Exception]]:
    children = cls.__subclasses__()
    return set().union(*(_leaves(child) for child in children)) if children else {cls}


TRANSPORT_ERRORS = sorted(_leaves(httpx.TransportError), key=lambda cls: cls.__name__)


@attrs.define
class Caller:
    """Runs one call through the sync or the async core, recording the waits between attempts."""

    kind: str
    sleeps: list[float] = attrs.Factory(list)
    jitters: int = 0

    def _random(self) -> float:
        self.jitters += 1
        return JITTER

    def sync_core(self, config: ClientConfig | None = CONFIG) -> RequestCore:
        """A sync core with recorded sleep, fixed jitter and a fixed clock."""
        return RequestCore(config, sleep=self.sleeps.append, random=self._random, clock=FixedClock(NOW))

    def async_core(self, config: ClientConfig | None = CONFIG) -> AsyncRequestCore:
        """An async core with recorded sleep, fixed jitter and a fixed clock."""

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return AsyncRequestCore(config, sleep=sleep, random=self._random, clock=FixedClock(NOW))

    def __call__(
        self,
        method: str,
        path: str = "/v1/quotes",
        *,
        config: ClientConfig | None = CONFIG,
        json: object = None,
        params: Mapping[str, str | int | float | bool] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> ApiResponse:
        """Send the call and close the core."""
        if self.kind == "sync":
            with self.sync_core(config) as core:
                return core.request(
                    method, path, json=json, params=params, idempotency_key=idempotency_key, timeout=timeout
                )

        async def run() -> ApiResponse:
            async with self.async_core(config) as core:
                return await core.request(
                    method, path, json=json, params=params, idempotency_key=idempotency_key, timeout=timeout
                )

        return asyncio.run(run())


@pytest.fixture(params=KINDS, ids=KINDS)
def call(request: pytest.FixtureRequest) -> Caller:
    """A caller through the sync core, then through the async one."""
    return Caller(request.param)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """A respx router for the service; a request it was not told about fails."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as mock:
        yield mock


def keys_of(route: respx.Route) -> list[str | None]:
    """The Idempotency-Key each attempt on the route carried."""
    return [sent.request.headers.get("Idempotency-Key") for sent in route.calls]


def schedule(retries: int, jitter: float = JITTER) -> list[float]:
    """The backoff the formula gives for the first ``retries`` retries."""
    return [min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**n) * jitter for n in range(retries)]


def with_retries(max_retries: int, *, max_retry_after: float = 60.0) -> ClientConfig:
    """The test configuration with another retry budget (and Retry-After cap)."""
    return attrs.evolve(CONFIG, max_retries=max_retries, max_retry_after=max_retry_after)


# --------------------------------------------------------------------------------------- transport


def test_every_transport_exception_is_listed() -> None:
    """The parametrized list covers every leaf of httpx.TransportError in the installed httpx."""
    names = {cls.__name__ for cls in TRANSPORT_ERRORS}
    assert {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout"} <= names
    assert {"ReadError", "WriteError", "CloseError", "RemoteProtocolError", "LocalProtocolError"} <= names
    assert {"ProxyError", "UnsupportedProtocol"} <= names


@pytest.mark.parametrize("method", ["POST", "GET"], ids=["post", "get"])
@pytest.mark.parametrize("exception", TRANSPORT_ERRORS, ids=[cls.__name__ for cls in TRANSPORT_ERRORS])
def test_transport_failures_are_retried_then_raised_typed(
    call: Caller, router: respx.MockRouter, exception: type[httpx.TransportError], method: str
) -> None:
    """Each transport exception is retried, then ends in APIConnectionError (APITimeoutError for timeouts)."""
    route = router.route(method=method, path="/v1/quotes").mock(side_effect=exception)
    with pytest.raises(APIConnectionError) as raised:
        call(method)
    error = raised.value
    assert isinstance(error, APITimeoutError) == issubclass(exception, httpx.TimeoutException)
    assert isinstance(error.__cause__, exception)
    assert route.call_count == 3
    assert error.attempts == 3
    assert call.sleeps == schedule(2)
    keys = keys_of(route)
    assert error.idempotency_key == keys[0]
    assert len(set(keys)) == 1
    assert (keys[0] is None) == (method == "GET")
    assert exception.__name__ in str(error)


def test_transport_failures_then_success_send_one_key(call: Caller, router: respx.MockRouter) -> None:
    """ReadTimeout, then 503, then 200: the call succeeds and all three attempts carry the same key."""
    route = router.post("/v1/quotes").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(503), httpx.Response(201, json={"id": "q1"})]
    )
    response = call("POST", json={"imei": "356938035643809"})
    assert response.status == 201
    assert response.data == {"id": "q1"}
    assert response.attempts == 3
    keys = keys_of(route)
    assert keys == [response.idempotency_key] * 3
    assert [sent.request.content for sent in route.calls] == [b'{"imei":"356938035643809"}'] * 3


def test_transport_error_without_retries_fails_at_once(call: Caller, router: respx.MockRouter) -> None:
    """With max_retries 0 a connection error is raised after one attempt, without waiting."""
    route = router.get("/v1/quotes").mock(side_effect=httpx.ConnectError)
    with pytest.raises(APIConnectionError) as raised:
        call("GET", config=with_retries(0))
    assert type(raised.value) is APIConnectionError
    assert raised.value.attempts == 1
    assert route.call_count == 1
    assert call.sleeps == []


@pytest.mark.parametrize(
    ("exception", "expected"),
    [(httpx.DecodingError, APIResponseError), (httpx.TooManyRedirects, APIConnectionError)],
    ids=["decoding-error", "too-many-redirects"],
)
def test_other_httpx_errors_are_typed_and_not_retried(
    call: Caller, router: respx.MockRouter, exception: type[httpx.HTTPError], expected: type[APIError]
) -> None:
    """Httpx errors that are not transport failures end in a typed error after one attempt."""
    route = router.post("/v1/quotes").mock(side_effect=exception)
    with pytest.raises(expected) as raised:
        call("POST")
    assert type(raised.value) is expected
    assert isinstance(raised.value.__cause__, exception)
    assert raised.value.idempotency_key is not None
    assert route.call_count == 1


# ------------------------------------------------------------------------------------- status codes


@pytest.mark.parametrize("failures", [0, 2, 4], ids=["0-failures", "2-failures", "4-failures"])
def test_server_errors_then_success(call: Caller, router: respx.MockRouter, failures: int) -> None:
    """5xx answers N times, then 200: the call succeeds after N retries with the backoff schedule."""
    statuses = [500, 502, 503, 504][:failures]
    route = router.put("/v1/orders/o1").mock(
        side_effect=[*(httpx.Response(status) for status in statuses), httpx.Response(200, json={"ok": True})]
    )
    response = call("PUT", "/v1/orders/o1", config=with_retries(4), json={"state": "received"})
    assert response.data == {"ok": True}
    assert response.attempts == failures + 1
    assert route.call_count == failures + 1
    assert call.sleeps == schedule(failures)
    assert len(set(keys_of(route))) == 1


@pytest.mark.parametrize("status", [500, 503, 599], ids=["500", "503", "599"])
def test_server_errors_beyond_the_retries_fail(call: Caller, router: respx.MockRouter, status: int) -> None:
    """More 5xx answers than retries end in InternalServerError after max_retries + 1 attempts."""
    route = router.post("/v1/quotes").respond(status)
    with pytest.raises(InternalServerError) as raised:
        call("POST", config=with_retries(4))
    assert raised.value.status == status
    assert raised.value.attempts == 5
    assert route.call_count == 5
    assert call.sleeps == schedule(4)
    assert keys_of(route) == [raised.value.idempotency_key] * 5


@pytest.mark.parametrize(
    ("status", "expected"),
    [(408, APIStatusError), (409, ConflictError), (429, RateLimitError), (500, InternalServerError)],
    ids=["408", "409", "429", "500"],
)
def test_retryable_statuses_are_retried_then_typed(
    call: Caller, router: respx.MockRouter, status: int, expected: type[APIStatusError]
) -> None:
    """408, 409, 429 and 5xx are retried, then raised as the status's own error class."""
    route = router.delete("/v1/quotes/q1").respond(status)
    with pytest.raises(APIStatusError) as raised:
        call("DELETE", "/v1/quotes/q1")
    assert type(raised.value) is expected
    assert route.call_count == 3
    assert len(set(keys_of(route))) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundAPIError),
        (405, APIStatusError),
        (410, APIStatusError),
        (422, UnprocessableEntityError),
        (302, APIStatusError),
    ],
    ids=["400", "401", "403", "404", "405", "410", "422", "302"],
)
def test_client_errors_are_typed_and_not_retried(
    call: Caller, router: respx.MockRouter, status: int, expected: type[APIStatusError]
) -> None:
    """Other error statuses are raised at once as the status's class (the generic one when none exists)."""
    route = router.get("/v1/quotes/q1").respond(status)
    with pytest.raises(APIStatusError) as raised:
        call("GET", "/v1/quotes/q1")
    assert type(raised.value) is expected
    assert raised.value.status == status
    assert raised.value.attempts == 1
    assert route.call_count == 1
    assert call.sleeps == []


def test_conflict_then_success(call: Caller, router: respx.MockRouter) -> None:
    """A 409 (a concurrent call with the same key) is retried with the same key and may then succeed."""
    route = router.post("/v1/redemptions").mock(
        side_effect=[httpx.Response(409), httpx.Response(200, json={"redeemed": True})]
    )
    response = call("POST", "/v1/redemptions", idempotency_key="redeem-q1")
    assert response.data == {"redeemed": True}
    assert keys_of(route) == ["redeem-q1", "redeem-q1"]


def test_problem_document_is_carried_by_the_error(call: Caller, router: respx.MockRouter) -> None:
    """An RFC 9457 problem body gives the error its type, code, title and detail, plus the request id."""
    problem = {
        "type": "https://tradein.test/problems/quote-expired",
        "title": "Quote expired",
        "status": 422,
        "detail": "Quote q1 expired at 2026-11-24T11:00:00Z.",
        "code": "quote_expired",
    }
    router.post("/v1/redemptions").respond(
        422,
        json=problem,
        headers={"Content-Type": "application/problem+json", "X-Request-Id": "req_81"},
    )
    with pytest.raises(UnprocessableEntityError) as raised:
        call("POST", "/v1/redemptions", json={"quote": "q1"})
    error = raised.value
    assert (error.problem_type, error.problem_code) == (problem["type"], "quote_expired")
    assert (error.title, error.detail) == ("Quote expired", problem["detail"])
    assert error.request_id == "req_81"
    assert error.method == "POST"
    assert error.path == "/v1/redemptions"
    assert str(error) == "POST /v1/redemptions answered HTTP 422: Quote expired"
    assert error.code == "api_unprocessable"


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"<html>oops</html>", 400, "Bad Request"),
        (b'["not", "a", "problem"]', 404, "Not Found"),
        (b'{"title": 7, "detail": "only detail"}', 403, "only detail"),
        (b"", 499, "error"),
    ],
    ids=["html", "json-array", "detail-only", "empty-unknown-status"],
)
def test_error_bodies_that_are_not_problem_documents(
    call: Caller, router: respx.MockRouter, body: bytes, status: int, reason: str
) -> None:
    """A body that is no problem document leaves the fields empty; the message falls back on the reason."""
    router.get("/v1/quotes").respond(status, content=body)
    with pytest.raises(APIStatusError) as raised:
        call("GET")
    error = raised.value
    assert error.problem_code is None
    assert error.title is None
    assert error.request_id is None
    assert str(error) == f"GET /v1/quotes answered HTTP {status}: {reason}"


# -------------------------------------------------------------------------------------- Retry-After


def http_date(seconds_from_now: float) -> str:
    """An HTTP date ``seconds_from_now`` after the fixed clock."""
    return format_datetime(NOW + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "max_retry_after", "expected"),
    [
        ("3", 60.0, 3.0),
        ("1.5", 60.0, 1.5),
        (http_date(5), 60.0, 5.0),
        ("3600", 60.0, 60.0),
        (http_date(600), 60.0, 60.0),
        ("3", 2.0, 2.0),
        (http_date(-30), 60.0, 0.0),
    ],
    ids=["seconds", "fraction", "http-date", "above-cap", "date-above-cap", "lower-cap", "past-date"],
)
def test_rate_limit_waits_for_retry_after(
    call: Caller, router: respx.MockRouter, retry_after: str, max_retry_after: float, expected: float
) -> None:
    """A 429 with Retry-After waits as asked (capped at max_retry_after), then succeeds with the same key."""
    route = router.post("/v1/quotes").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": retry_after}),
            httpx.Response(200, json={"id": "q1"}),
        ]
    )
    config = attrs.evolve(with_retries(2, max_retry_after=max_retry_after), deadline=300.0)
    response = call("POST", config=config)
    assert response.data == {"id": "q1"}
    assert call.sleeps == [expected]
    assert call.jitters == 0
    assert len(set(keys_of(route))) == 1


@pytest.mark.parametrize(
    "retry_after", ["soon", "-1", "nan", "inf", ""], ids=["word", "negative", "nan", "inf", "empty"]
)
def test_malformed_retry_after_falls_back_on_backoff(
    call: Caller, router: respx.MockRouter, retry_after: str
) -> None:
    """A Retry-After that is neither seconds nor an HTTP date is ignored in favour of the backoff."""
    router.get("/v1/quotes").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": retry_after}), httpx.Response(200)]
    )
    call("GET")
    assert call.sleeps == schedule(1)


def test_rate_limit_error_reports_retry_after(call: Caller, router: respx.MockRouter) -> None:
    """When 429 persists, RateLimitError carries the server's uncapped Retry-After."""
    router.get("/v1/quotes").respond(429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimitError) as raised:
        call("GET", config=attrs.evolve(CONFIG, deadline=300.0))
    assert raised.value.retry_after == 120.0
    assert call.sleeps == [60.0, 60.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (" 4 ", 4.0),
        ("0", 0.0),
        ("Tue, 24 Nov 2026 12:00:10 -0000", 10.0),
        ("Tue, 24 Nov 2026 12:00:10 +0100", 0.0),
        ("Tue, 99 Nov 2026 12:00:10 GMT", None),
    ],
    ids=["absent", "padded", "zero", "utc-without-zone", "past-with-offset", "bad-date"],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After is read as delay-seconds or as an HTTP date relative to now."""
    assert parse_retry_after(value, NOW) == expected


# ---------------------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b'{"amount": NaN}', b'{"amount": Infinity}', b"[1, 2"],
    ids=["broken", "not-utf8", "nan", "infinity", "truncated"],
)
def test_malformed_json_in_a_success_is_a_response_error(
    call: Caller, router: respx.MockRouter, body: bytes
) -> None:
    """A 2xx body that is not strict JSON ends in APIResponseError after one attempt."""
    route = router.post("/v1/quotes").respond(200, content=body, headers={"X-Request-Id": "req_9"})
    with pytest.raises(APIResponseError) as raised:
        call("POST")
    assert raised.value.request_id == "req_9"
    assert raised.value.idempotency_key == keys_of(route)[0]
    assert route.call_count == 1
    assert "not JSON" in str(raised.value)


def test_empty_success_body_is_none(call: Caller, router: respx.MockRouter) -> None:
    """A 204 without a body gives data None and the request id."""
    router.delete("/v1/quotes/q1").respond(204, headers={"X-Request-Id": "req_1"})
    response = call("DELETE", "/v1/quotes/q1")
    assert response.status == 204
    assert response.data is None
    assert response.request_id == "req_1"


# --------------------------------------------------------------------------------- idempotency keys


@pytest.mark.parametrize("method", MUTATING, ids=[method.lower() for method in MUTATING])
def test_mutating_calls_send_one_key_on_every_attempt(
    call: Caller, router: respx.MockRouter, method: str
) -> None:
    """POST, PUT, PATCH and DELETE carry one UUID4 Idempotency-Key, identical on each retry."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(503 if len(seen) == 2 else 200)

    router.route(method=method, path="/v1/orders/o1").mock(side_effect=answer)
    response = call(method.lower(), "/v1/orders/o1")
    assert len(seen) == 3
    assert seen == [response.idempotency_key] * 3
    assert uuid.UUID(seen[0]).version == 4


def test_each_call_gets_its_own_key(call: Caller, router: respx.MockRouter) -> None:
    """Two calls are two operations: their generated keys differ."""
    route = router.post("/v1/quotes").respond(200)
    call("POST")
    call("POST")
    first, second = keys_of(route)
    assert first != second


def test_given_key_is_sent_on_every_attempt(call: Caller, router: respx.MockRouter) -> None:
    """A caller's own key is used as given, on the retry too."""
    route = router.post("/v1/quotes").mock(side_effect=[httpx.ConnectError, httpx.Response(200)])
    response = call("POST", idempotency_key="order-o1-accept")
    assert keys_of(route) == ["order-o1-accept", "order-o1-accept"]
    assert response.idempotency_key == "order-o1-accept"


def test_safe_calls_carry_no_key(call: Caller, router: respx.MockRouter) -> None:
    """A GET carries no Idempotency-Key, on the retry neither."""
    route = router.get("/v1/quotes").mock(side_effect=[httpx.Response(502), httpx.Response(200, json=[])])
    response = call("GET")
    assert keys_of(route) == [None, None]
    assert response.idempotency_key is None


@pytest.mark.parametrize(
    ("method", "key"),
    [("POST", ""), ("POST", "k" * 256), ("POST", "line\nbreak"), ("PUT", "schlüssel"), ("GET", "k1")],
    ids=["empty", "too-long", "control-character", "not-ascii", "on-get"],
)
def test_unusable_keys_are_refused_before_sending(
    call: Caller, router: respx.MockRouter, method: str, key: str
) -> None:
    """An empty, over-long or non-ASCII key, or any key on a GET, raises before a request is sent."""
    route = router.route(path="/v1/quotes").respond(200)
    with pytest.raises(InvalidIdempotencyKeyError):
        call(method, idempotency_key=key)
    assert route.call_count == 0


def test_longest_key_is_accepted(call: Caller, router: respx.MockRouter) -> None:
    """A key of 255 characters (Stripe's limit) is sent."""
    route = router.post("/v1/quotes").respond(200)
    call("POST", idempotency_key="k" * 255)
    assert keys_of(route) == ["k" * 255]


# --------------------------------------------------------------------------------------- backoff


def test_backoff_follows_the_formula(call: Caller, router: respx.MockRouter) -> None:
    """Waits are min(cap, base·2**retry)·random, recorded through the injected sleep."""
    router.post("/v1/quotes").respond(500)
    with pytest.raises(InternalServerError):
        call("POST", config=with_retries(7))
    assert call.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert call.sleeps == schedule(7)
    assert call.jitters == 7


@pytest.mark.parametrize(
    ("retry", "jitter", "expected"),
    [(0, 1.0, 0.5), (3, 1.0, 4.0), (4, 1.0, 8.0), (40, 1.0, 8.0), (2, 0.0, 0.0), (2, 0.25, 0.5)],
    ids=["first", "fourth", "at-cap", "far-past-cap", "no-jitter-left", "quarter"],
)
def test_backoff_delay(retry: int, jitter: float, expected: float) -> None:
    """backoff_delay is capped exponential backoff scaled by the jitter factor."""
    assert backoff_delay(retry, jitter) == expected


def test_default_jitter_stays_within_the_cap(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an injected random, each wait lies in [0, min(cap, base·2**retry))."""
    waits: list[float] = []
    monkeypatch.setattr(_transport, "_sleep", waits.append)
    router.get("/v1/quotes").respond(503)
    with RequestCore(with_retries(5)) as core, pytest.raises(InternalServerError):
        core.request("GET", "/v1/quotes")
    assert len(waits) == 5
    assert all(0 <= wait < limit for wait, limit in zip(waits, schedule(5, jitter=1.0), strict=True))


def test_sync_core_waits_through_the_patchable_sleep(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync core without an injected sleep waits through the module's _sleep."""
    waits: list[float] = []
    monkeypatch.setattr(_transport, "_sleep", waits.append)
    router.get("/v1/quotes").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    with RequestCore(CONFIG, random=lambda: JITTER) as core:
        core.request("GET", "/v1/quotes")
    assert waits == schedule(1)


def test_async_core_waits_through_the_patchable_asleep(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An async core without an injected sleep waits through the module's _asleep."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_transport, "_asleep", record)
    router.get("/v1/quotes").mock(side_effect=[httpx.Response(503), httpx.Response(200)])

    async def run() -> None:
        async with AsyncRequestCore(CONFIG, random=lambda: JITTER) as core:
            await core.request("GET", "/v1/quotes")

    asyncio.run(run())
    assert waits == schedule(1)


@pytest.mark.parametrize("disabled", [True, False], ids=["switched-off", "default"])
def test_delay_switch_controls_the_default_sleeps(monkeypatch: pytest.MonkeyPatch, disabled: bool) -> None:
    """retry_delays_disabled() makes _sleep and _asleep return at once; outside it they wait."""
    waited: list[float] = []

    async def fake_asyncio_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(time, "sleep", waited.append)
    monkeypatch.setattr(asyncio, "sleep", fake_asyncio_sleep)

    async def run_async_sleep() -> None:
        await _transport._asleep(3.0)

    if disabled:
        with retry_delays_disabled():
            _transport._sleep(2.0)
            asyncio.run(run_async_sleep())
        assert waited == []
    else:
        _transport._sleep(2.0)
        asyncio.run(run_async_sleep())
        assert waited == [2.0, 3.0]


def test_delay_switch_restores_the_previous_state() -> None:
    """The switch nests and restores what was there, even after an exception."""
    with retry_delays_disabled():
        with retry_delays_disabled():
            pass
        assert not _transport._DELAYS.enabled
        with pytest.raises(RuntimeError), retry_delays_disabled():
            raise RuntimeError
        assert not _transport._DELAYS.enabled
    assert _transport._DELAYS.enabled


def test_retries_are_logged_without_secrets(
    call: Caller, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """Each retry is logged with method, path and reason; neither the API key nor the key appear."""
    router.post("/v1/quotes").mock(side_effect=[httpx.ConnectError, httpx.Response(200)])
    with caplog.at_level(logging.INFO, logger="tradein_sdk.transport"):
        response = call("POST")
    assert [record.getMessage() for record in caplog.records] == [
        "retrying POST /v1/quotes after attempt 1 (ConnectError) in 0.25 s"
    ]
    assert API_KEY not in caplog.text
    assert str(response.idempotency_key) not in caplog.text


# ------------------------------------------------------------------------------------ what is sent


def test_every_call_sends_auth_agent_and_json(call: Caller, router: respx.MockRouter) -> None:
    """The bearer key, the User-Agent with the version, Accept and a compact JSON body go out."""
    route = router.post("/v1/quotes").respond(200)
    call("POST", json={"model": "Pixel 8", "grade": "B", "price": "€ 120"}, params={"market": "de", "n": 2})
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith(f"tradein-sdk/{__version__} Python/")
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"model": "Pixel 8", "grade": "B", "price": "€ 120"}
    assert request.content == '{"model":"Pixel 8","grade":"B","price":"€ 120"}'.encode()
    assert request.url == httpx.URL(f"{BASE_URL}/v1/quotes?market=de&n=2")


def test_call_without_body_sends_no_content_type(call: Caller, router: respx.MockRouter) -> None:
    """A call without json sends no body and no Content-Type."""
    route = router.get("/v1/quotes").respond(200)
    call("GET")
    request = route.calls.last.request
    assert request.content == b""
    assert "Content-Type" not in request.headers


@pytest.mark.parametrize(
    ("timeout", "expected"), [(None, 10.0), (2.5, 2.5)], ids=["configured-default", "per-call"]
)
def test_every_attempt_has_a_timeout(
    call: Caller, router: respx.MockRouter, timeout: float | None, expected: float
) -> None:
    """Each attempt carries the configured timeout (10 s by default) or the call's own."""
    route = router.get("/v1/quotes").mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    call("GET", timeout=timeout)
    for sent in route.calls:
        assert sent.request.extensions["timeout"] == dict.fromkeys(
            ("connect", "read", "write", "pool"), expected
        )


@pytest.mark.parametrize("timeout", [0.0, -1.0, math.nan], ids=["zero", "negative", "nan"])
def test_unusable_call_timeout_is_refused(call: Caller, router: respx.MockRouter, timeout: float) -> None:
    """A per-call timeout that is not a positive number raises ConfigurationError before sending."""
    route = router.get("/v1/quotes").respond(200)
    with pytest.raises(ConfigurationError, match="timeout"):
        call("GET", timeout=timeout)
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("base_url", "path"),
    [
        ("https://tradein.test/api", "/v1/quotes"),
        ("https://tradein.test/api/", "/v1/quotes"),
        ("https://tradein.test/api/", "v1/quotes"),
    ],
    ids=["plain", "trailing-slash", "no-leading-slash"],
)
def test_paths_are_joined_below_the_base_url(
    call: Caller, router: respx.MockRouter, base_url: str, path: str
) -> None:
    """The path goes below the base URL however the slashes are written."""
    route = router.get("/v1/quotes").respond(200)
    call("GET", path, config=attrs.evolve(CONFIG, base_url=base_url))
    assert str(route.calls.last.request.url) == "https://tradein.test/api/v1/quotes"


@pytest.mark.parametrize(
    "path",
    ["https://evil.example/steal", "//evil.example/steal", "/v1/quotes\x00", "/" + "x" * 70_000],
    ids=["absolute-url", "scheme-relative", "control-character", "too-long"],
)
def test_paths_that_leave_the_service_are_refused(call: Caller, router: respx.MockRouter, path: str) -> None:
    """A path that is another URL, or makes no URL, raises ConfigurationError; the key goes nowhere."""
    with pytest.raises(ConfigurationError, match="path"):
        call("GET", path)
    assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [({"price": math.nan}, ValueError), ({"at": object()}, TypeError)],
    ids=["nan", "object"],
)
def test_bodies_json_cannot_encode_are_refused(
    call: Caller, router: respx.MockRouter, body: object, error: type[Exception]
) -> None:
    """A body with NaN or a non-JSON object raises before a request is sent."""
    with pytest.raises(error):
        call("POST", json=body)
    assert router.calls.call_count == 0


# ---------------------------------------------------------------------------------- configuration


def test_configuration_comes_from_the_environment() -> None:
    """from_environment reads TRADEIN_BASE_URL, _API_KEY, _TIMEOUT and _MAX_RETRIES."""
    config = ClientConfig.from_environment(
        environ={
            "TRADEIN_BASE_URL": BASE_URL,
            "TRADEIN_API_KEY": API_KEY,
            "TRADEIN_TIMEOUT": "2.5",
            "TRADEIN_MAX_RETRIES": " 5 ",
        }
    )
    assert (config.base_url, config.api_key, config.timeout, config.max_retries) == (
        BASE_URL,
        API_KEY,
        2.5,
        5,
    )
    assert config.max_retry_after == 60.0


def test_arguments_win_over_the_environment() -> None:
    """Values passed to from_environment override the variables."""
    environ = {
        "TRADEIN_BASE_URL": "https://other.test",
        "TRADEIN_API_KEY": "sk_other",
        "TRADEIN_TIMEOUT": "2.5",
        "TRADEIN_MAX_RETRIES": "5",
    }
    config = ClientConfig.from_environment(
        base_url=BASE_URL,
        api_key=API_KEY,
        timeout=3.0,
        max_retries=0,
        max_retry_after=5.0,
        user_agent="carrier-pos/7",
        environ=environ,
    )
    assert config == ClientConfig(
        base_url=BASE_URL,
        api_key=API_KEY,
        timeout=3.0,
        max_retries=0,
        max_retry_after=5.0,
        user_agent="carrier-pos/7",
    )


def test_defaults_apply_when_the_variables_are_empty() -> None:
    """Empty TRADEIN_TIMEOUT / _MAX_RETRIES mean the defaults: 10 s and 2 retries."""
    config = ClientConfig.from_environment(
        environ={"TRADEIN_BASE_URL": BASE_URL, "TRADEIN_API_KEY": API_KEY, "TRADEIN_TIMEOUT": " "}
    )
    assert (config.timeout, config.max_retries) == (10.0, 2)


def test_from_environment_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without environ=, the process environment is read."""
    monkeypatch.setenv("TRADEIN_BASE_URL", BASE_URL)
    monkeypatch.setenv("TRADEIN_API_KEY", API_KEY)
    assert ClientConfig.from_environment() == CONFIG


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"TRADEIN_API_KEY": API_KEY}, "TRADEIN_BASE_URL"),
        ({"TRADEIN_BASE_URL": "", "TRADEIN_API_KEY": API_KEY}, "TRADEIN_BASE_URL"),
        ({"TRADEIN_BASE_URL": BASE_URL}, "TRADEIN_API_KEY"),
        (
            {"TRADEIN_BASE_URL": BASE_URL, "TRADEIN_API_KEY": API_KEY, "TRADEIN_TIMEOUT": "ten"},
            "TRADEIN_TIMEOUT",
        ),
        (
            {"TRADEIN_BASE_URL": BASE_URL, "TRADEIN_API_KEY": API_KEY, "TRADEIN_MAX_RETRIES": "2.5"},
            "TRADEIN_MAX_RETRIES",
        ),
    ],
    ids=["no-base-url", "empty-base-url", "no-api-key", "bad-timeout", "bad-max-retries"],
)
def test_missing_or_malformed_variables_are_named(environ: dict[str, str], variable: str) -> None:
    """A missing base URL or key, or an unreadable number, raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError) as raised:
        ClientConfig.from_environment(environ=environ)
    assert variable in str(raised.value)
    assert raised.value.params["variable"] == variable


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"base_url": "ftp://tradein.test"}, "base_url"),
        ({"base_url": "tradein.test/api"}, "base_url"),
        ({"base_url": "https://tradein.test/api?key=1"}, "base_url"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": "sk test"}, "api_key"),
        ({"api_key": "sk\r\nX-Evil: 1"}, "api_key"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retry_after": -1.0}, "max_retry_after"),
        ({"user_agent": ""}, "user_agent"),
        ({"user_agent": "pos\n"}, "user_agent"),
    ],
    ids=[
        "ftp-url",
        "no-scheme",
        "query-in-url",
        "empty-key",
        "space-in-key",
        "header-injection",
        "zero-timeout",
        "infinite-timeout",
        "bool-timeout",
        "string-timeout",
        "negative-retries",
        "fractional-retries",
        "bool-retries",
        "negative-cap",
        "empty-agent",
        "newline-agent",
    ],
)
def test_unusable_settings_are_refused(change: dict[str, object], setting: str) -> None:
    """Each setting is checked when the configuration is built; the error names it."""
    with pytest.raises(ConfigurationError) as raised:
        attrs.evolve(CONFIG, **change)  # type: ignore[arg-type]  # wrong types on purpose
    assert raised.value.params["setting"] == setting


def test_repr_hides_the_api_key() -> None:
    """The API key never shows in the configuration's repr."""
    assert API_KEY not in repr(CONFIG)
    assert BASE_URL in repr(CONFIG)


def test_zero_retry_after_cap_retries_at_once(call: Caller, router: respx.MockRouter) -> None:
    """max_retry_after 0 turns every Retry-After into an immediate retry."""
    router.get("/v1/quotes").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200)]
    )
    call("GET", config=with_retries(2, max_retry_after=0.0))
    assert call.sleeps == [0.0]


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_cores_fall_back_on_the_environment(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A core built without a configuration reads it from the environment."""
    monkeypatch.setenv("TRADEIN_BASE_URL", BASE_URL)
    monkeypatch.setenv("TRADEIN_API_KEY", "sk_from_env")
    monkeypatch.setenv("TRADEIN_MAX_RETRIES", "0")
    route = router.get("/v1/quotes").respond(503)
    with pytest.raises(InternalServerError):
        Caller(kind)("GET", config=None)
    assert route.call_count == 1
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk_from_env"


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_cores_without_configuration_name_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A core built without configuration and without TRADEIN_BASE_URL raises ConfigurationError."""
    monkeypatch.delenv("TRADEIN_BASE_URL", raising=False)
    core_class = RequestCore if kind == "sync" else AsyncRequestCore
    with pytest.raises(ConfigurationError, match="TRADEIN_BASE_URL"):
        core_class()


# ------------------------------------------------------------------------------------- with_options


def test_cores_have_identical_signatures() -> None:
    """The sync and async cores take the same arguments in request and with_options."""
    for name in ("request", "with_options"):
        assert inspect.signature(getattr(RequestCore, name)) == inspect.signature(
            getattr(AsyncRequestCore, name)
        )
    assert inspect.iscoroutinefunction(AsyncRequestCore.request)


def test_sync_with_options_changes_a_copy(router: respx.MockRouter) -> None:
    """with_options returns a core with the changes, sharing the pool; the original is unchanged."""
    route = router.get("/v1/quotes").respond(503)
    caller = Caller("sync")
    with caller.sync_core() as core:
        quick = core.with_options(max_retries=0, timeout=1.0, api_key="sk_other")
        assert quick.config == attrs.evolve(CONFIG, max_retries=0, timeout=1.0, api_key="sk_other")
        assert core.config == CONFIG
        with pytest.raises(InternalServerError):
            quick.request("GET", "/v1/quotes")
        assert route.call_count == 1
        assert route.calls.last.request.headers["Authorization"] == "Bearer sk_other"
        quick.close()
        with pytest.raises(InternalServerError):
            core.request("GET", "/v1/quotes")
    assert route.call_count == 4
    assert caller.sleeps == schedule(2)
    assert core._client.is_closed


def test_async_with_options_changes_a_copy(router: respx.MockRouter) -> None:
    """The async with_options behaves like the sync one: changes on a copy sharing the pool."""
    route = router.get("/v1/quotes").respond(503)
    caller = Caller("async")

    async def run() -> AsyncRequestCore:
        async with caller.async_core() as core:
            quick = core.with_options(max_retries=0, base_url="https://tradein.test/api/")
            assert quick.config.max_retries == 0
            assert core.config == CONFIG
            with pytest.raises(InternalServerError):
                await quick.request("GET", "/v1/quotes")
            await quick.aclose()
            with pytest.raises(InternalServerError):
                await core.request("GET", "/v1/quotes")
        return core

    core = asyncio.run(run())
    assert route.call_count == 4
    assert caller.sleeps == schedule(2)
    assert core._client.is_closed


@pytest.mark.parametrize("change", [{"timeout": -1.0}, {"base_url": "nope"}], ids=["timeout", "base-url"])
def test_with_options_checks_the_changes(change: dict[str, object]) -> None:
    """with_options refuses the same unusable settings as the configuration."""
    with RequestCore(CONFIG) as core, pytest.raises(ConfigurationError):
        core.with_options(**change)  # type: ignore[arg-type]


def test_clients_passed_in_stay_open(router: respx.MockRouter) -> None:
    """A core closes only the pool it created; an httpx client passed in stays its owner's."""
    router.get("/v1/quotes").respond(200, json={"n": 1})
    with httpx.Client() as client:
        with RequestCore(CONFIG, http_client=client) as core:
            assert core.request("GET", "/v1/quotes").data == {"n": 1}
        assert not client.is_closed

    async def run() -> bool:
        async with httpx.AsyncClient() as client:
            async with AsyncRequestCore(CONFIG, http_client=client) as core:
                assert (await core.request("GET", "/v1/quotes")).data == {"n": 1}
            return client.is_closed

    assert asyncio.run(run()) is False


# ----------------------------------------------------------------------------------- ApiResponse


@attrs.frozen(kw_only=True)
class QuoteLine:
    """A model the tests structure answers into."""

    grade: str
    amount: int


@attrs.frozen(kw_only=True)
class QuoteAnswer:
    """A model the tests structure answers into."""

    id: str
    lines: list[QuoteLine]


def answer(data: object) -> ApiResponse:
    """An answer to GET /v1/quotes/q1 holding ``data``."""
    return ApiResponse(
        status=200, data=data, method="GET", path="/v1/quotes/q1", attempts=2, request_id="req_3"
    )


def test_answers_structure_into_models(call: Caller, router: respx.MockRouter) -> None:
    """An answer's JSON becomes the attrs model through the library's converter."""
    router.get("/v1/quotes/q1").respond(200, json={"id": "q1", "lines": [{"grade": "A", "amount": 120}]})
    quote = call("GET", "/v1/quotes/q1").structure(QuoteAnswer)
    assert quote == QuoteAnswer(id="q1", lines=[QuoteLine(grade="A", amount=120)])


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"id": "q1", "lines": [{"grade": "A", "amount": "lots"}]}, "$.lines[0].amount", "expected int"),
        ({"id": "q1"}, "$.lines", "required field missing"),
        ({"id": "q1", "lines": [], "secret": 1}, "$", "extra fields"),
        ([{"id": "q1"}], "$", "expected a JSON object, not an array"),
        (None, "$", "not null"),
        ("q1", "$", "not a string"),
        (7, "$", "not a number"),
        (True, "$", "not a boolean"),
    ],
    ids=["wrong-type", "missing", "extra", "array", "null", "string", "number", "boolean"],
)
def test_answers_that_do_not_fit_name_the_json_path(data: object, path: str, message: str) -> None:
    """A body that does not fit the model raises APIResponseError naming the JSON path."""
    with pytest.raises(APIResponseError) as raised:
        answer(data).structure(QuoteAnswer)
    error = raised.value
    assert error.problems[0][0] == path
    assert message in error.problems[0][1]
    assert f"@ {path}" in str(error)
    assert (error.request_id, error.attempts, error.path) == ("req_3", 2, "/v1/quotes/q1")


def test_structure_takes_another_converter() -> None:
    """A converter passed in is used instead of the library's JSON converter."""
    assert answer(["A", "B"]).structure(list[str], converter=document_converter()) == ["A", "B"]
    with pytest.raises(APIResponseError, match="does not fit int"):
        answer("many").structure(int)


# --------------------------------------------------------------------------------------- errors


def test_error_classes_and_codes_are_stable() -> None:
    """Each API error is a TradeInError with its own stable code."""
    codes: dict[type[TradeInError], str] = {
        InvalidIdempotencyKeyError: "invalid_idempotency_key",
        APIError: "api_error",
        APIConnectionError: "api_connection_error",
        APITimeoutError: "api_timeout",
        APIResponseError: "api_response_invalid",
        APIStatusError: "api_status_error",
        BadRequestError: "api_bad_request",
        AuthenticationError: "api_authentication",
        PermissionDeniedError: "api_permission_denied",
        NotFoundAPIError: "api_not_found",
        ConflictError: "api_conflict",
        UnprocessableEntityError: "api_unprocessable",
        RateLimitError: "api_rate_limited",
        InternalServerError: "api_server_error",
    }
    assert {cls: cls.code for cls in codes} == codes
    assert all(issubclass(cls, TradeInError) for cls in codes)
    assert len(set(codes.values())) == len(codes)
    for code in codes.values():
        assert code in (_transport.__doc__ or "")


def test_public_names_are_listed_sorted() -> None:
    """The module's __all__ is sorted like the package's and names only what exists."""
    names = _transport.__all__
    assert names == sorted(
        names, key=lambda name: (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)
    )
    assert all(hasattr(_transport, name) for name in names)


def test_transport_failure_keeps_the_call_for_a_safe_repeat(router: respx.MockRouter) -> None:
    """After a lost answer the error holds the key, so the call can be repeated without a double effect."""
    route = router.post("/v1/redemptions").mock(
        side_effect=[httpx.ReadTimeout, httpx.ReadTimeout, httpx.Response(200, json={"redeemed": True})]
    )
    caller = Caller("sync")
    with caller.sync_core(with_retries(1)) as core:
        with pytest.raises(APITimeoutError) as raised:
            core.request("POST", "/v1/redemptions")
        again = core.request("POST", "/v1/redemptions", idempotency_key=raised.value.idempotency_key)
    assert again.data == {"redeemed": True}
    assert len(set(keys_of(route))) == 1
