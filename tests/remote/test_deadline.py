"""The overall deadline of one call: attempts, timeouts and waits bounded together, sync and async alike.

Most tests run on a fake monotonic clock that only the injected sleep and the slow faults move, so no test
waits for real; the few marked "real time" use the default sleep and clock with deadlines below a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs
import httpx
import pytest
import respx

from tradein_sdk import AsyncTradeInClient, TradeInClient
from tradein_sdk._domain.clock import FixedClock
from tradein_sdk._errors import ConfigurationError
from tradein_sdk._remote.transport import (
    DEADLINE_ENV,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MIN_ATTEMPT_TIME,
    TIMEOUT_ENV,
    APIConnectionError,
    ApiResponse,
    APITimeoutError,
    AsyncRequestCore,
    ClientConfig,
    InternalServerError,
    RateLimitError,
    RequestCore,
)
from tradein_sdk.testing import FakeTradeInService, retry_delays_disabled

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tradein_sdk import TradeIn

BASE_URL = "https://tradein.test/api"
API_KEY = "sk_test_4f2a"
CONFIG = ClientConfig(base_url=BASE_URL, api_key=API_KEY)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KINDS = ("sync", "async")
PHASES = ("connect", "read", "write", "pool")


def configured(
    *,
    deadline: float = DEFAULT_DEADLINE,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> ClientConfig:
    """The test configuration with another deadline, timeout or retry budget."""
    return attrs.evolve(CONFIG, deadline=deadline, timeout=timeout, max_retries=max_retries)


@attrs.define
class FakeTime:
    """A monotonic clock that moves only when the core sleeps or a fault takes time."""

    now: float = 0.0
    sleeps: list[float] = attrs.Factory(list)

    def monotonic(self) -> float:
        """The fake monotonic time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and let it pass at once."""
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        """The async twin of :meth:`sleep`."""
        self.sleep(seconds)

    def slow_read(self, request: httpx.Request) -> httpx.Response:
        """A server that never answers: the read times out after the timeout the attempt was given."""
        self.now += request.extensions["timeout"]["read"]
        raise httpx.ReadTimeout("no answer", request=request)


@attrs.define
class Caller:
    """Runs one call through the sync or the async core on fake time, with a fixed jitter factor."""

    kind: str
    time: FakeTime = attrs.Factory(FakeTime)
    jitter: float = 1.0

    def core(self, config: ClientConfig | None = CONFIG) -> RequestCore | AsyncRequestCore:
        """The core of this kind, on fake time."""
        if self.kind == "sync":
            return RequestCore(
                config,
                sleep=self.time.sleep,
                random=lambda: self.jitter,
                clock=FixedClock(NOW),
                monotonic=self.time.monotonic,
            )
        return AsyncRequestCore(
            config,
            sleep=self.time.asleep,
            random=lambda: self.jitter,
            clock=FixedClock(NOW),
            monotonic=self.time.monotonic,
        )

    def __call__(
        self,
        method: str = "GET",
        path: str = "/v1/quotes",
        *,
        config: ClientConfig | None = CONFIG,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> ApiResponse:
        """Send the call through ``self.core(config)`` and close the core."""
        return run_call(self.core(config), method, path, timeout=timeout, deadline=deadline)


def close(core: RequestCore | AsyncRequestCore) -> None:
    """Close a core that was not closed by :func:`run_call`."""
    if isinstance(core, RequestCore):
        core.close()
    else:
        asyncio.run(core.aclose())


def run_call(
    core: RequestCore | AsyncRequestCore,
    method: str = "GET",
    path: str = "/v1/quotes",
    *,
    timeout: float | None = None,
    deadline: float | None = None,
) -> ApiResponse:
    """Send one call through a sync or an async core, then close the core."""
    if isinstance(core, RequestCore):
        with core:
            return core.request(method, path, timeout=timeout, deadline=deadline)

    async def run() -> ApiResponse:
        async with core:
            return await core.request(method, path, timeout=timeout, deadline=deadline)

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


def timeouts_of(route: respx.Route) -> list[dict[str, float]]:
    """The httpx timeout each attempt on the route was sent with."""
    return [sent.request.extensions["timeout"] for sent in route.calls]


def everywhere(seconds: float) -> dict[str, float]:
    """An httpx timeout of ``seconds`` for each of connect, read, write and pool."""
    return dict.fromkeys(PHASES, seconds)


# -------------------------------------------------------------------------------------- Retry-After


def test_retry_after_beyond_the_deadline_ends_the_call_at_once(
    call: Caller, router: respx.MockRouter
) -> None:
    """503 with Retry-After 10 and a 1 s deadline: APITimeoutError after one attempt, without any wait."""
    route = router.post("/v1/quotes").respond(
        503, headers={"Retry-After": "10", "X-Request-Id": "req_7"}, json={"code": "service_unavailable"}
    )
    with pytest.raises(APITimeoutError) as raised:
        call("POST", config=configured(deadline=1.0))
    error = raised.value
    assert error.code == "api_timeout"
    assert str(error) == (
        "POST /v1/quotes: the deadline of 1 s passed after 1 attempt(s) (last: HTTP 503, Retry-After 10 s)"
    )
    assert (error.attempts, error.request_id, error.params["deadline"]) == (1, "req_7", 1.0)
    assert error.idempotency_key == route.calls.last.request.headers["Idempotency-Key"]
    assert route.call_count == 1
    assert call.time.sleeps == []
    assert call.time.now == 0.0
    last = error.__cause__
    assert isinstance(last, InternalServerError)
    assert (last.status, last.retry_after, last.problem_code) == (503, 10.0, "service_unavailable")


def test_retry_after_within_the_deadline_is_waited_for(call: Caller, router: respx.MockRouter) -> None:
    """A Retry-After that leaves time for the retry is honoured in full."""
    router.get("/v1/quotes").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=[])]
    )
    response = call(config=configured(deadline=5.0))
    assert response.attempts == 2
    assert call.time.sleeps == [3.0]


def test_retry_after_that_leaves_too_little_time_is_not_shortened(
    call: Caller, router: respx.MockRouter
) -> None:
    """A Retry-After ending less than MIN_ATTEMPT_TIME before the deadline ends the call; it is not cut."""
    route = router.get("/v1/quotes").respond(429, headers={"Retry-After": "2"})
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(deadline=2.0 + MIN_ATTEMPT_TIME / 2))
    assert isinstance(raised.value.__cause__, RateLimitError)
    assert route.call_count == 1
    assert call.time.sleeps == []


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_real_time_retry_after_ends_well_before_it(router: respx.MockRouter, kind: str) -> None:
    """Real time, default sleep and clock: a 1 s deadline against Retry-After 10 ends in well under 1 s."""
    route = router.get("/v1/quotes").respond(503, headers={"Retry-After": "10"})
    core = (
        RequestCore(configured(deadline=1.0))
        if kind == "sync"
        else AsyncRequestCore(configured(deadline=1.0))
    )
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline of 1 s passed after 1 attempt"):
        run_call(core)
    assert time.monotonic() - started < 0.5
    assert route.call_count == 1


# ---------------------------------------------------------------------------------------- backoff


def test_backoff_is_cut_to_leave_the_last_attempt_its_time(call: Caller, router: respx.MockRouter) -> None:
    """Backoff 0.5, 1, 2 s against a 1 s deadline: the second wait is cut, and no attempt starts late."""
    route = router.get("/v1/quotes").respond(503)
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(deadline=1.0, max_retries=5))
    assert call.time.sleeps == pytest.approx([0.5, 0.5 - MIN_ATTEMPT_TIME])
    assert call.time.now <= 1.0
    assert route.call_count == 3
    assert raised.value.attempts == 3
    assert "deadline of 1 s passed after 3 attempt(s) (last: HTTP 503)" in str(raised.value)
    sent = [timeout["read"] for timeout in timeouts_of(route)]
    assert sent == pytest.approx([1.0, 0.5, MIN_ATTEMPT_TIME])


def test_retries_run_out_before_the_deadline(call: Caller, router: respx.MockRouter) -> None:
    """With time to spare, the retry budget still ends the call with the status error, as before."""
    route = router.get("/v1/quotes").respond(503)
    with pytest.raises(InternalServerError) as raised:
        call(config=configured(deadline=60.0))
    assert raised.value.attempts == 3
    assert route.call_count == 3
    assert call.time.sleeps == [0.5, 1.0]


def test_real_time_backoff_never_sleeps_past_the_deadline(router: respx.MockRouter) -> None:
    """Real time: backoff of 0.5 s and 1 s against a 0.3 s deadline is cut; the call ends within it."""
    route = router.get("/v1/quotes").respond(503)
    with RequestCore(configured(deadline=0.3, max_retries=4), random=lambda: 1.0) as core:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            core.request("GET", "/v1/quotes")
        elapsed = time.monotonic() - started
    assert 0.3 - MIN_ATTEMPT_TIME - 0.05 < elapsed < 0.3
    assert route.call_count == 2


# ------------------------------------------------------------------------------------- slow reads


def test_slow_read_ends_at_the_deadline_not_the_timeout(call: Caller, router: respx.MockRouter) -> None:
    """A server that never answers, timeout 10 s, deadline 1 s: one attempt of 1 s, then APITimeoutError."""
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(deadline=1.0))
    error = raised.value
    assert timeouts_of(route) == [everywhere(1.0)]
    assert call.time.now == 1.0
    assert call.time.sleeps == []
    assert error.attempts == 1
    assert str(error) == "GET /v1/quotes: the deadline of 1 s passed after 1 attempt(s) (last: ReadTimeout)"
    assert isinstance(error.__cause__, httpx.ReadTimeout)


def test_each_attempt_timeout_shrinks_to_the_remaining_time(call: Caller, router: respx.MockRouter) -> None:
    """Timeout 0.4 s, deadline 1 s, slow reads: attempts get 0.4 s, then the 0.35 s left after a wait."""
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    call.jitter = 0.5
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(deadline=1.0, timeout=0.4, max_retries=5))
    assert call.time.sleeps == [0.25]
    sent = timeouts_of(route)
    assert sent[0] == everywhere(0.4)
    assert sent[1] == pytest.approx(everywhere(0.35))
    assert raised.value.attempts == 2
    assert call.time.now == pytest.approx(1.0)


def test_slow_read_on_the_last_retry_names_the_deadline(call: Caller, router: respx.MockRouter) -> None:
    """Without retries left, an attempt the deadline cut that times out reports the deadline."""
    router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    with pytest.raises(APITimeoutError, match=r"deadline of 2\.5 s passed after 1 attempt"):
        call(config=configured(deadline=2.5, max_retries=0))


def test_timeouts_within_the_deadline_keep_their_own_message(call: Caller, router: respx.MockRouter) -> None:
    """Timeouts that end the retries long before the deadline are reported as timeouts of each attempt."""
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(timeout=1.0, deadline=30.0))
    assert str(raised.value) == "GET /v1/quotes timed out (ReadTimeout) on each of 3 attempt(s) of 1.0 s"
    assert timeouts_of(route) == [everywhere(1.0)] * 3


def test_connection_errors_after_the_retries_stay_connection_errors(
    call: Caller, router: respx.MockRouter
) -> None:
    """A connection refused on the last retry stays APIConnectionError, even near the deadline."""
    router.get("/v1/quotes").mock(side_effect=httpx.ConnectError)
    with pytest.raises(APIConnectionError) as raised:
        call(config=configured(deadline=1.0, max_retries=1))
    assert type(raised.value) is APIConnectionError
    assert call.time.sleeps == [0.5]


def test_cut_waits_are_logged(
    call: Caller, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """The retry log shows the wait actually made, after the deadline cut it."""
    router.get("/v1/quotes").mock(side_effect=[httpx.Response(502), httpx.Response(502), httpx.Response(200)])
    with caplog.at_level(logging.INFO, logger="tradein_sdk.transport"):
        call(config=configured(deadline=1.0))
    assert [record.getMessage() for record in caplog.records] == [
        "retrying GET /v1/quotes after attempt 1 (HTTP 502) in 0.50 s",
        "retrying GET /v1/quotes after attempt 2 (HTTP 502) in 0.40 s",
    ]


# ------------------------------------------------------------------------------ where it is set


def test_default_deadline_bounds_timeouts_and_waits(call: Caller, router: respx.MockRouter) -> None:
    """By default a call has 30 s: three slow attempts of 10 s and their waits end at 30 s, not later."""
    assert CONFIG.deadline == DEFAULT_DEADLINE == 30.0
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    with pytest.raises(APITimeoutError, match="deadline of 30 s passed after 3 attempt"):
        call()
    assert call.time.sleeps == [0.5, 1.0]
    assert [timeout["read"] for timeout in timeouts_of(route)] == [10.0, 10.0, 8.5]
    assert call.time.now == 30.0


def test_deadline_from_the_configuration(call: Caller, router: respx.MockRouter) -> None:
    """ClientConfig.deadline bounds the call: 2 s against Retry-After 3 ends it, 5 s waits."""
    router.get("/v1/quotes").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    with pytest.raises(APITimeoutError) as raised:
        call(config=configured(deadline=2.0))
    assert raised.value.params["deadline"] == 2.0
    assert call(config=configured(deadline=5.0)).data == {"ok": True}
    assert call.time.sleeps == [3.0]


def test_deadline_per_call_wins_over_the_configuration(call: Caller, router: respx.MockRouter) -> None:
    """request(deadline=...) replaces the configured deadline for that call only."""
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    with pytest.raises(APITimeoutError, match=r"deadline of 0\.5 s"):
        call(config=configured(deadline=20.0), deadline=0.5)
    assert timeouts_of(route) == [everywhere(0.5)]


def test_per_call_timeout_is_cut_by_the_deadline_too(call: Caller, router: respx.MockRouter) -> None:
    """A per-call timeout above the deadline is cut to it; one below it is kept."""
    route = router.get("/v1/quotes").respond(200)
    call(timeout=5.0, deadline=2.0)
    call(timeout=1.5, deadline=2.0)
    assert timeouts_of(route) == [everywhere(2.0), everywhere(1.5)]


@pytest.mark.parametrize("deadline", [0.0, -1.0, math.nan, math.inf], ids=["zero", "negative", "nan", "inf"])
def test_unusable_call_deadline_is_refused(call: Caller, router: respx.MockRouter, deadline: float) -> None:
    """A per-call deadline that is not a positive finite number raises before anything is sent."""
    route = router.get("/v1/quotes").respond(200)
    with pytest.raises(ConfigurationError) as raised:
        call(deadline=deadline)
    assert raised.value.params["setting"] == "deadline"
    assert route.call_count == 0


@pytest.mark.parametrize(
    "deadline", [0, -2.0, math.inf, True, "30"], ids=["zero", "negative", "inf", "bool", "str"]
)
def test_unusable_configured_deadline_is_refused(deadline: object) -> None:
    """The configuration refuses a deadline that is not a positive finite number, naming the setting."""
    with pytest.raises(ConfigurationError) as raised:
        configured(deadline=deadline)  # type: ignore[arg-type]  # wrong types on purpose
    assert raised.value.params["setting"] == "deadline"


def test_with_options_changes_the_deadline_and_keeps_the_clock(
    call: Caller, router: respx.MockRouter
) -> None:
    """with_options(deadline=...) makes a core with that deadline, on the same injected clock and sleep."""
    route = router.get("/v1/quotes").mock(side_effect=call.time.slow_read)
    core = call.core()
    quick = core.with_options(deadline=0.75)
    assert quick.config == configured(deadline=0.75)
    assert core.config.deadline == DEFAULT_DEADLINE
    with pytest.raises(APITimeoutError):
        run_call(quick)
    assert timeouts_of(route) == [everywhere(0.75)]
    assert call.time.now == 0.75
    with pytest.raises(ConfigurationError):
        core.with_options(deadline=-1.0)
    close(core)


# ------------------------------------------------------------------------------------ environment


ENVIRON = {"TRADEIN_BASE_URL": BASE_URL, "TRADEIN_API_KEY": API_KEY}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4.5", 4.5), (" 12 ", 12.0), ("", 30.0), ("  ", 30.0)],
    ids=["float", "padded", "empty", "blank"],
)
def test_deadline_comes_from_the_environment(value: str, expected: float) -> None:
    """TRADEIN_DEADLINE is read like TRADEIN_TIMEOUT; empty means the default of 30 s."""
    config = ClientConfig.from_environment(environ={**ENVIRON, DEADLINE_ENV: value})
    assert config.deadline == expected
    assert DEADLINE_ENV == "TRADEIN_DEADLINE"


def test_deadline_argument_wins_over_the_environment() -> None:
    """deadline= passed to from_environment overrides TRADEIN_DEADLINE."""
    config = ClientConfig.from_environment(deadline=2.0, environ={**ENVIRON, DEADLINE_ENV: "9"})
    assert config.deadline == 2.0


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_cores_and_clients_read_the_deadline_from_os_environ(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A core or client built without a deadline takes TRADEIN_DEADLINE from the process environment."""
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    monkeypatch.setenv(DEADLINE_ENV, "0.25")
    route = router.get("/v1/quotes").respond(200)
    core = RequestCore() if kind == "sync" else AsyncRequestCore()
    assert core.config.deadline == 0.25
    run_call(core)
    assert timeouts_of(route) == [pytest.approx(everywhere(0.25), abs=0.01)]
    if kind == "sync":
        with TradeInClient() as client:
            assert client.config.deadline == 0.25
    else:
        asynchronous = AsyncTradeInClient()
        assert asynchronous.config.deadline == 0.25
        asyncio.run(asynchronous.aclose())


@pytest.mark.parametrize("variable", [TIMEOUT_ENV, DEADLINE_ENV], ids=["timeout", "deadline"])
@pytest.mark.parametrize("value", ["ten", "1,5", "30s"], ids=["word", "comma", "unit"])
def test_malformed_deadline_variable_fails_like_the_timeout_one(variable: str, value: str) -> None:
    """A TRADEIN_DEADLINE that is no number raises the same typed ConfigurationError as TRADEIN_TIMEOUT."""
    with pytest.raises(ConfigurationError) as raised:
        ClientConfig.from_environment(environ={**ENVIRON, variable: value})
    error = raised.value
    assert type(error) is ConfigurationError
    assert error.code == "configuration_error"
    assert error.params == {"variable": variable, "value": value, "kind": "number of seconds"}
    assert str(error) == f"{variable}={value!r} is not a number of seconds"
    assert isinstance(error.__cause__, ValueError)


@pytest.mark.parametrize(("variable", "setting"), [(TIMEOUT_ENV, "timeout"), (DEADLINE_ENV, "deadline")])
@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan"])
def test_out_of_range_deadline_variable_fails_like_the_timeout_one(
    variable: str, setting: str, value: str
) -> None:
    """A TRADEIN_DEADLINE of zero, below zero or not finite is refused like TRADEIN_TIMEOUT, naming it."""
    with pytest.raises(ConfigurationError) as raised:
        ClientConfig.from_environment(environ={**ENVIRON, variable: value})
    assert raised.value.params["setting"] == setting


# -------------------------------------------------------------------------------- the clients


def test_clients_with_options_take_a_deadline(trade_in: TradeIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients' with_options(deadline=) bounds their calls: Retry-After 10 against 1 s ends at once.

    The same faults against the default 30 s are waited out (delays switched off) until the retries run out.
    """
    monkeypatch.delenv(DEADLINE_ENV, raising=False)
    with FakeTradeInService(trade_in) as fake, retry_delays_disabled():
        route = fake.routes["search"]
        with fake.client() as client:
            quick = client.with_options(deadline=1.0)
            assert (client.config.deadline, quick.config.deadline) == (DEFAULT_DEADLINE, 1.0)
            fake.fail("search", times=4, retry_after=10)
            with pytest.raises(APITimeoutError) as raised:
                quick.search("pixel 8")
            assert (raised.value.attempts, route.call_count) == (1, 1)
            with pytest.raises(InternalServerError):
                client.search("pixel 8")
            assert route.call_count == 4

        async def run_async() -> tuple[int, int]:
            async with fake.async_client() as asynchronous:
                quick = asynchronous.with_options(deadline=1.0)
                assert quick.config.deadline == 1.0
                fake.fail("search", times=4, retry_after=10)
                with pytest.raises(APITimeoutError) as raised:
                    await quick.search("pixel 8")
                with pytest.raises(InternalServerError):
                    await asynchronous.search("pixel 8")
                return raised.value.attempts, route.call_count

        assert asyncio.run(run_async()) == (1, 8)


# ------------------------------------------------------------------------------------ the twins


def _retry_after() -> list[httpx.Response | Exception]:
    return [httpx.Response(503, headers={"Retry-After": "10"}) for _ in range(6)]


def _backoff() -> list[httpx.Response | Exception]:
    return [httpx.Response(status) for status in (500, 502, 503, 504, 500, 500)]


def _timeout_then_success() -> list[httpx.Response | Exception]:
    return [httpx.ReadTimeout("slow"), httpx.Response(429), httpx.Response(200, json={"ok": True})]


@pytest.mark.parametrize(
    "answers", [_retry_after, _backoff, _timeout_then_success], ids=["retry-after", "backoff", "success"]
)
def test_sync_and_async_cores_behave_alike(answers: Callable[[], list[httpx.Response | Exception]]) -> None:
    """The same faults give the same waits, attempt timeouts and outcome through both cores."""

    def outcome(kind: str) -> tuple[list[float], list[dict[str, float]], str]:
        caller = Caller(kind, jitter=0.8)
        with respx.mock(base_url=BASE_URL) as mock:
            route = mock.get("/v1/quotes").mock(side_effect=answers())
            try:
                result = repr(caller(config=configured(deadline=1.2, max_retries=5)).data)
            except APITimeoutError as exc:
                result = str(exc)
            return caller.time.sleeps, timeouts_of(route), result

    assert outcome("sync") == outcome("async")
