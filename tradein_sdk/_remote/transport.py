"""The request core of the trade-in service clients: one call, retried safely, failing with a typed error.

:class:`RequestCore` and :class:`AsyncRequestCore` are twins with identical method signatures. Each call:

* carries ``Authorization: Bearer <api key>``, a ``User-Agent`` with the library version and, per attempt,
  an httpx timeout of ``min(timeout, remaining)``: the configured ``timeout`` (for each of connect, write,
  read and pool), cut to what is left of the call's deadline;
* carries one ``Idempotency-Key`` when it is mutating (POST, PUT, PATCH, DELETE), generated once per call
  with :func:`uuid.uuid4` unless given, and sent unchanged on every retry; safe methods (GET) carry none,
  nor does a ``read_only`` call (a POST that changes nothing: repeating it is safe as it is);
* is retried up to ``max_retries`` times after a transport failure (every :class:`httpx.TransportError`:
  connection errors, timeouts, protocol errors) or an answer of HTTP 408, 409, 429 or 500–599;
* waits before each retry for the server's ``Retry-After`` (seconds or an HTTP date, capped at
  ``max_retry_after``), else for capped exponential backoff with full jitter:
  ``min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**retry) * random()``;
* ends within its ``deadline`` (``TRADEIN_DEADLINE``, default 30 s; attempts and waits together, measured
  on a monotonic clock): a retry is made only when at least :data:`MIN_ATTEMPT_TIME` remains after its
  wait; a backoff wait is cut to leave that much, while a ``Retry-After`` wait that does not fit ends the
  call at once (retrying before the server's time would only be refused again). A call the deadline ends
  raises :class:`APITimeoutError` saying the deadline passed after how many attempts, with the last
  failure (the httpx exception, or the status error of the last answer) as its ``__cause__``. httpx
  applies a timeout to each phase (and each read) of an attempt, so an attempt under way can outlast the
  deadline somewhat; the deadline is not a hard stop of a transfer in progress;
* ends in an :class:`ApiResponse` or in one of the errors below; no httpx exception escapes.

The errors, all :class:`~tradein_sdk.TradeInError` subclasses with a stable ``code``::

    APIError                            api_error             (.method, .path, .attempts, .idempotency_key)
    ├── APIConnectionError              api_connection_error  (transport failure after the last retry)
    │   └── APITimeoutError             api_timeout           (also: the call's deadline passed)
    ├── APIResponseError                api_response_invalid  (a 2xx body that is not JSON or not the model)
    └── APIStatusError                  api_status_error      (.status, .problem_code, .title, .detail, ...)
        ├── BadRequestError             api_bad_request       400
        ├── AuthenticationError         api_authentication    401
        ├── PermissionDeniedError       api_permission_denied 403
        ├── NotFoundAPIError            api_not_found         404
        ├── ConflictError               api_conflict          409 (retried first)
        ├── UnprocessableEntityError    api_unprocessable     422
        ├── RateLimitError              api_rate_limited      429 (retried first)
        └── InternalServerError         api_server_error      500–599 (retried first)
    InvalidIdempotencyKeyError          invalid_idempotency_key

Delays go through :func:`_sleep` / :func:`_asleep` (patchable) unless a ``sleep`` is injected, and
:func:`retry_delays_disabled` turns those two into no-ops for a test suite. The deadline is measured with
:func:`time.monotonic` unless a ``monotonic`` clock is injected (tests pair it with a ``sleep`` that
advances it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json as _json
import logging
import math
import os
import platform
import random as _random
import time
import uuid
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Final, Generic, Self, TypeVar
from urllib.parse import urlsplit

import attrs
import httpx

from tradein_sdk._domain.clock import Clock, SystemClock
from tradein_sdk._domain.converters import json_converter, structuring_problems
from tradein_sdk._errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidIdempotencyKeyError,
    NotFoundAPIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    _status_error_class,
)
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime
    from types import TracebackType

    import cattrs

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEADLINE_ENV",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENCY_KEY_HEADER",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRIES_ENV",
    "MAX_RETRY_DELAY",
    "MIN_ATTEMPT_TIME",
    "MUTATING_METHODS",
    "REQUEST_ID_HEADER",
    "RETRYABLE_STATUSES",
    "TIMEOUT_ENV",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "ApiResponse",
    "AsyncRequestCore",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfig",
    "ConflictError",
    "InternalServerError",
    "InvalidIdempotencyKeyError",
    "NotFoundAPIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestCore",
    "UnprocessableEntityError",
    "backoff_delay",
    "parse_retry_after",
    "retry_delays_disabled",
]

T = TypeVar("T")
ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)
SleepT = TypeVar("SleepT")

_logger = logging.getLogger("tradein_sdk.transport")

BASE_URL_ENV: Final = "TRADEIN_BASE_URL"
API_KEY_ENV: Final = "TRADEIN_API_KEY"
TIMEOUT_ENV: Final = "TRADEIN_TIMEOUT"
DEADLINE_ENV: Final = "TRADEIN_DEADLINE"
MAX_RETRIES_ENV: Final = "TRADEIN_MAX_RETRIES"

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds allowed for each of connect, write, read and pool acquisition, per attempt."""
DEFAULT_DEADLINE: Final = 30.0
"""Seconds one call may take in all: its attempts and the waits between them."""
MIN_ATTEMPT_TIME: Final = 0.1
"""The least time, in seconds, left of a call's deadline for a retry to be made."""
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_RETRY_AFTER: Final = 60.0
"""The longest wait a server's ``Retry-After`` can ask for; longer asks are cut to this."""
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0

IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
REQUEST_ID_HEADER: Final = "X-Request-Id"
MUTATING_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429, *range(500, 600)})
_MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255


# --------------------------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------------------------- config


def _default_user_agent() -> str:
    return f"tradein-sdk/{__version__} Python/{platform.python_version()}"


def _is_header_safe(value: str) -> bool:
    """Printable ASCII without control characters: what may go into a header unchanged."""
    return value.isascii() and value.isprintable()


def _check_base_url(_: object, __: attrs.Attribute[str], value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            "base_url {value!r} is not an http(s) URL without query or fragment",
            value=value,
            setting="base_url",
            variable=BASE_URL_ENV,
        )


def _check_api_key(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not value or not _is_header_safe(value) or " " in value:
        raise ConfigurationError(
            "api_key must be non-empty printable ASCII without spaces",
            setting="api_key",
            variable=API_KEY_ENV,
        )


def _require_seconds(setting: str, value: float, *, positive: bool) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        raise ConfigurationError(
            "{setting} must be a finite number of seconds {bound}, not {value!r}",
            setting=setting,
            bound="> 0" if positive else "≥ 0",
            value=value,
        )


def _check_timeout(_: object, __: attrs.Attribute[float], value: float) -> None:
    _require_seconds("timeout", value, positive=True)


def _check_deadline(_: object, __: attrs.Attribute[float], value: float) -> None:
    _require_seconds("deadline", value, positive=True)


def _check_max_retry_after(_: object, __: attrs.Attribute[float], value: float) -> None:
    _require_seconds("max_retry_after", value, positive=False)


def _check_max_retries(_: object, __: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            "max_retries must be a whole number ≥ 0, not {value!r}", setting="max_retries", value=value
        )


def _check_user_agent(_: object, __: attrs.Attribute[str], value: str) -> None:
    if not value or not _is_header_safe(value):
        raise ConfigurationError("user_agent must be non-empty printable ASCII", setting="user_agent")


@attrs.frozen(kw_only=True)
class ClientConfig:
    """How a client reaches the trade-in service.

    Build it with :meth:`from_environment` to fall back on ``TRADEIN_*`` environment variables; the
    constructor takes every value as given.

    Attributes:
        base_url: the service's root URL, e.g. ``https://tradein.example/api`` (``TRADEIN_BASE_URL``).
        api_key: sent as ``Authorization: Bearer <api_key>`` (``TRADEIN_API_KEY``); never shown in ``repr``.
        timeout: seconds allowed per attempt for each of connect, write, read and pool
            (``TRADEIN_TIMEOUT``, default 10).
        deadline: seconds one call may take in all, its attempts and the waits between them together
            (``TRADEIN_DEADLINE``, default 30); each attempt's timeout is cut to what is left of it.
        max_retries: retries after the first attempt (``TRADEIN_MAX_RETRIES``, default 2).
        max_retry_after: the longest ``Retry-After`` wait honoured, in seconds (default 60).
        user_agent: the ``User-Agent`` header (default ``tradein-sdk/<version> Python/<version>``).
    """

    base_url: str = attrs.field(validator=_check_base_url)
    api_key: str = attrs.field(repr=False, validator=_check_api_key)
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=_check_timeout)
    deadline: float = attrs.field(default=DEFAULT_DEADLINE, validator=_check_deadline)
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_check_max_retries)
    max_retry_after: float = attrs.field(default=DEFAULT_MAX_RETRY_AFTER, validator=_check_max_retry_after)
    user_agent: str = attrs.field(factory=_default_user_agent, validator=_check_user_agent)

    @classmethod
    def from_environment(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        max_retries: int | None = None,
        max_retry_after: float | None = None,
        user_agent: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Build the configuration from the arguments given, falling back on the environment, then defaults.

        Args:
            base_url: overrides ``TRADEIN_BASE_URL``.
            api_key: overrides ``TRADEIN_API_KEY``.
            timeout: overrides ``TRADEIN_TIMEOUT``.
            deadline: overrides ``TRADEIN_DEADLINE``.
            max_retries: overrides ``TRADEIN_MAX_RETRIES``.
            max_retry_after: the ``Retry-After`` cap in seconds.
            user_agent: the ``User-Agent`` header.
            environ: where the variables are read (``os.environ`` when omitted).

        Returns:
            The configuration.

        Raises:
            ConfigurationError: the base URL or API key is neither given nor set (the message names the
                variable), or a value is malformed or out of range.
        """
        env = os.environ if environ is None else environ
        found_url = base_url or env.get(BASE_URL_ENV)
        if not found_url:
            raise ConfigurationError(
                "no base URL for the trade-in service: pass base_url= or set {variable}",
                setting="base_url",
                variable=BASE_URL_ENV,
            )
        found_key = api_key or env.get(API_KEY_ENV)
        if not found_key:
            raise ConfigurationError(
                "no API key for the trade-in service: pass api_key= or set {variable}",
                setting="api_key",
                variable=API_KEY_ENV,
            )
        if timeout is None:
            timeout = _env_number(env, TIMEOUT_ENV, float, "number of seconds")
        if deadline is None:
            deadline = _env_number(env, DEADLINE_ENV, float, "number of seconds")
        if max_retries is None:
            max_retries = _env_number(env, MAX_RETRIES_ENV, int, "whole number")
        return cls(
            base_url=found_url,
            api_key=found_key,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            deadline=DEFAULT_DEADLINE if deadline is None else deadline,
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
            max_retry_after=DEFAULT_MAX_RETRY_AFTER if max_retry_after is None else max_retry_after,
            user_agent=user_agent or _default_user_agent(),
        )

    def url_for(self, path: str) -> str:
        """Return the absolute URL of ``path`` below :attr:`base_url`.

        Raises:
            ConfigurationError: ``path`` is an absolute URL (the API key only goes to ``base_url``), or
                makes no valid URL (control characters, too long).
        """
        return str(self.parsed_url_for(path))

    def parsed_url_for(self, path: str) -> httpx.URL:
        """Return :meth:`url_for` parsed once, as httpx takes it without parsing it again.

        Raises:
            ConfigurationError: as :meth:`url_for`.
        """
        if "://" in path or path.startswith("//"):
            raise ConfigurationError(
                "path {path!r} must be relative to base_url, not an absolute URL", path=path, setting="path"
            )
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        try:
            return httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ConfigurationError(
                "path {path!r} does not make a valid URL: {reason}",
                path=path,
                reason=str(exc),
                setting="path",
            ) from exc


def _env_number(env: Mapping[str, str], variable: str, parse: Callable[[str], T], kind: str) -> T | None:
    raw = env.get(variable, "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigurationError(
            "{variable}={value!r} is not a {kind}", variable=variable, value=raw, kind=kind
        ) from exc


def _changed(
    config: ClientConfig,
    *,
    base_url: str | None,
    api_key: str | None,
    timeout: float | None,
    deadline: float | None,
    max_retries: int | None,
    max_retry_after: float | None,
    user_agent: str | None,
) -> ClientConfig:
    return ClientConfig(
        base_url=config.base_url if base_url is None else base_url,
        api_key=config.api_key if api_key is None else api_key,
        timeout=config.timeout if timeout is None else timeout,
        deadline=config.deadline if deadline is None else deadline,
        max_retries=config.max_retries if max_retries is None else max_retries,
        max_retry_after=config.max_retry_after if max_retry_after is None else max_retry_after,
        user_agent=config.user_agent if user_agent is None else user_agent,
    )


# ------------------------------------------------------------------------------------- retry timing


def backoff_delay(retry: int, jitter: float) -> float:
    """Return the wait before retry number ``retry`` (0 for the first): capped exponential, full jitter.

    Args:
        retry: how many retries were already made.
        jitter: a factor in ``[0, 1)``, normally ``random.random()``.

    Returns:
        ``min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**retry) * jitter`` seconds.
    """
    return min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0 ** min(retry, 32)) * jitter


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Read a ``Retry-After`` header: delay-seconds, or an HTTP date (a past date means 0).

    Args:
        value: the header's value, or ``None`` when absent.
        now: the current time (timezone-aware), for the HTTP-date form.

    Returns:
        The seconds to wait, or ``None`` when the header is absent or malformed.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
            moment = moment.replace(tzinfo=now.tzinfo)
        return max(0.0, (moment - now).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


# -------------------------------------------------------------------------------------- delays switch


@attrs.define
class _DelaySwitch:
    enabled: bool = True


_DELAYS: Final = _DelaySwitch()


def _sleep(seconds: float) -> None:
    """Wait ``seconds`` before a retry (the sync core's default; patch it, or switch delays off)."""
    if _DELAYS.enabled:
        time.sleep(seconds)


async def _asleep(seconds: float) -> None:
    """Wait ``seconds`` before a retry (the async core's default; patch it, or switch delays off)."""
    if _DELAYS.enabled:
        await asyncio.sleep(seconds)


@contextlib.contextmanager
def retry_delays_disabled() -> Iterator[None]:
    """Within the block, retries of cores that use the default sleep follow each other at once (for tests).

    Cores given their own ``sleep`` still call it, so tests can record the delays. The switch is
    process-wide; the previous state is restored on exit.
    """
    previous = _DELAYS.enabled
    _DELAYS.enabled = False
    try:
        yield
    finally:
        _DELAYS.enabled = previous


# ------------------------------------------------------------------------------------------ response


@attrs.frozen(kw_only=True)
class ApiResponse:
    """A successful (2xx) answer of the trade-in service.

    Attributes:
        status: the HTTP status code.
        data: the decoded JSON body; ``None`` for an empty body.
        method: the HTTP method of the call.
        path: the path called.
        attempts: how many requests were sent (1 + retries).
        idempotency_key: the key every attempt carried (``None`` on safe methods and read-only calls).
        request_id: the server's ``X-Request-Id``, if any.
    """

    status: int
    data: object
    method: str
    path: str
    attempts: int = 1
    idempotency_key: str | None = None
    request_id: str | None = None

    def structure(self, model: type[T], *, converter: cattrs.Converter | None = None) -> T:
        """Build ``model`` (an attrs class, or any type cattrs structures) from :attr:`data`.

        Args:
            model: the type to build.
            converter: the cattrs converter (the library's JSON converter when omitted).

        Returns:
            The structured value.

        Raises:
            APIResponseError: the body does not fit ``model``; ``problems`` names each JSON path.
        """
        problems: tuple[tuple[str, str], ...]
        if attrs.has(model) and not isinstance(self.data, dict):
            problems = (("$", f"expected a JSON object, not {_json_type(self.data)}"),)
            raise self._does_not_fit(model, problems)
        try:
            return (converter or json_converter()).structure(self.data, model)
        except Exception as exc:  # an untrusted body: whatever structuring raises is a bad answer
            problems = tuple(structuring_problems(exc))
            raise self._does_not_fit(model, problems) from exc

    def _does_not_fit(self, model: type, problems: tuple[tuple[str, str], ...]) -> APIResponseError:
        return APIResponseError(
            "{method} {path} answered with a body that does not fit {model}: {summary}",
            method=self.method,
            path=self.path,
            attempts=self.attempts,
            idempotency_key=self.idempotency_key,
            request_id=self.request_id,
            problems=problems,
            model=getattr(model, "__name__", str(model)),
            summary="; ".join(f"{message} @ {where}" for where, message in problems[:3]),
        )


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


# ---------------------------------------------------------------------------------- shared machinery


@attrs.frozen(kw_only=True)
class _Call:
    method: str
    path: str
    url: httpx.URL
    headers: dict[str, str]
    content: bytes | None
    params: dict[str, str | int | float | bool] | None
    timeout: float
    deadline: float
    idempotency_key: str | None


@attrs.define
class _Deadline:
    """The overall deadline of one call on a monotonic clock: the arithmetic both cores share."""

    seconds: float
    monotonic: Callable[[], float]
    ends_at: float

    @classmethod
    def start(cls, seconds: float, monotonic: Callable[[], float]) -> _Deadline:
        """Start the deadline of a call of ``seconds`` now."""
        return cls(seconds, monotonic, monotonic() + seconds)

    def remaining(self) -> float:
        """The seconds left (negative once the deadline passed)."""
        return self.ends_at - self.monotonic()

    def passed(self) -> bool:
        """Whether too little time is left to start another attempt."""
        return self.remaining() < MIN_ATTEMPT_TIME

    def attempt_timeout(self, timeout: float) -> httpx.Timeout:
        """The httpx timeout of the next attempt: ``min(timeout, remaining)``.

        A retry is only planned with :data:`MIN_ATTEMPT_TIME` left after its wait (:meth:`fit_wait`), so
        the floor of that much (never more than the deadline) matters only when a sleep overran.
        """
        floor = min(MIN_ATTEMPT_TIME, self.seconds)
        return httpx.Timeout(min(timeout, max(self.remaining(), floor)))

    def fit_wait(self, delay: float, *, shorten: bool) -> float | None:
        """The wait before a retry that leaves it :data:`MIN_ATTEMPT_TIME`, or ``None``: end the call now.

        Args:
            delay: the wait planned (backoff or ``Retry-After``).
            shorten: whether the wait may be cut to fit (backoff); a server's ``Retry-After`` is not.
        """
        room = self.remaining() - MIN_ATTEMPT_TIME
        if delay <= room:
            return delay
        if shorten and room > 0:
            return room
        return None


def _check_idempotency_key(key: str, method: str) -> None:
    if method not in MUTATING_METHODS:
        raise InvalidIdempotencyKeyError(
            "{method} is not a mutating method; it takes no idempotency key", method=method
        )
    if not key or len(key) > _MAX_IDEMPOTENCY_KEY_LENGTH or not _is_header_safe(key):
        raise InvalidIdempotencyKeyError(
            "an idempotency key is 1 to {limit} printable ASCII characters", limit=_MAX_IDEMPOTENCY_KEY_LENGTH
        )


def _decode_json(content: bytes) -> object:
    """Decode a JSON body strictly (no NaN or Infinity); an empty body is ``None``."""
    if not content.strip():
        return None

    def reject_constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return _json.loads(content, parse_constant=reject_constant)


def _text_member(document: Mapping[str, object], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) else None


class _CoreBase(Generic[ClientT, SleepT]):
    """What the sync and async cores share: configuration, call preparation, retry decisions, errors."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http_client: ClientT | None = None,
        sleep: SleepT | None = None,
        random: Callable[[], float] | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._config = config if config is not None else ClientConfig.from_environment()
        self._owns_client = http_client is None
        self._client: ClientT = http_client if http_client is not None else self._new_client()
        self._injected_sleep = sleep
        self._random = random if random is not None else _random.random
        self._clock = clock if clock is not None else SystemClock()
        self._monotonic = monotonic if monotonic is not None else time.monotonic

    def _new_client(self) -> ClientT:
        raise NotImplementedError

    def with_options(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_after: float | None = None,
        user_agent: str | None = None,
        deadline: float | None = None,
    ) -> Self:
        """Return a core with some settings changed, sharing this one's connection pool.

        Args:
            base_url: the service's root URL.
            api_key: the API key.
            timeout: seconds per attempt.
            deadline: seconds per call, attempts and waits together.
            max_retries: retries after the first attempt.
            max_retry_after: the ``Retry-After`` cap in seconds.
            user_agent: the ``User-Agent`` header.

        Returns:
            The new core; closing it leaves the shared pool open.

        Raises:
            ConfigurationError: a value is malformed or out of range.
        """
        config = _changed(
            self._config,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            deadline=deadline,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            user_agent=user_agent,
        )
        return type(self)(
            config,
            http_client=self._client,
            sleep=self._injected_sleep,
            random=self._random,
            clock=self._clock,
            monotonic=self._monotonic,
        )

    @property
    def config(self) -> ClientConfig:
        """The configuration this core sends with."""
        return self._config

    def _prepare(
        self,
        *,
        method: str,
        path: str,
        body: object,
        params: Mapping[str, str | int | float | bool] | None,
        idempotency_key: str | None,
        timeout: float | None,
        deadline: float | None,
        read_only: bool = False,
    ) -> _Call:
        config = self._config
        method = method.upper()
        url = config.parsed_url_for(path)
        if timeout is not None:
            _require_seconds("timeout", timeout, positive=True)
        if deadline is not None:
            _require_seconds("deadline", deadline, positive=True)
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {config.api_key}",
            "User-Agent": config.user_agent,
        }
        if idempotency_key is not None:
            if read_only:
                raise InvalidIdempotencyKeyError(
                    "{method} {path} changes nothing; it takes no idempotency key", method=method, path=path
                )
            _check_idempotency_key(idempotency_key, method)
        elif method in MUTATING_METHODS and not read_only:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key
        content = None
        if body is not None:  # encoded once, so every attempt sends the same bytes
            content = _json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        return _Call(
            method=method,
            path=path,
            url=url,
            headers=headers,
            content=content,
            params=dict(params) if params is not None else None,
            timeout=timeout if timeout is not None else config.timeout,
            deadline=deadline if deadline is not None else config.deadline,
            idempotency_key=idempotency_key,
        )

    def _start_deadline(self, call: _Call) -> _Deadline:
        return _Deadline.start(call.deadline, self._monotonic)

    def _retry_delay(self, retries: int, response: httpx.Response | None) -> tuple[float, bool] | None:
        """The wait before the next attempt and whether the server asked for it; ``None``: the call ends."""
        if retries >= self._config.max_retries:
            return None
        if response is None:
            return backoff_delay(retries, self._random()), False
        if response.status_code not in RETRYABLE_STATUSES:
            return None
        asked = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
        if asked is not None:
            return min(asked, self._config.max_retry_after), True
        return backoff_delay(retries, self._random()), False

    def _after_attempt(
        self, call: _Call, deadline: _Deadline, retries: int, outcome: httpx.Response | httpx.TransportError
    ) -> ApiResponse | float:
        """Finish the call, or return the wait before the next attempt within the deadline (for both cores).

        Args:
            call: the call.
            deadline: the call's deadline.
            retries: how many retries were already made.
            outcome: the answer to the last attempt, or its transport failure.

        Returns:
            The successful answer that ends the call, or the seconds to wait before the next attempt.

        Raises:
            APITimeoutError: the deadline leaves no time for a retry that was due (the last answer, a 429
                with its Retry-After say, is its ``__cause__``), or cut the attempt that timed out last.
            APIConnectionError: the last attempt failed in transport and no retry is left.
            APIStatusError: the last answer is an error status that is not retried, or no retry is left.
            APIResponseError: the last answer is a 2xx whose body is not JSON.
        """
        attempts = retries + 1
        if isinstance(outcome, httpx.Response):
            planned = self._retry_delay(retries, outcome)
            if planned is None:
                return self._finish(call, outcome, attempts)
            reason = f"HTTP {outcome.status_code}"
        else:
            planned = self._retry_delay(retries, None)
            reason = type(outcome).__name__
            if planned is None:
                if isinstance(outcome, httpx.TimeoutException) and deadline.passed():
                    raise self._deadline_error(call, attempts, reason, None) from outcome
                raise self._transport_error(call, outcome, attempts) from outcome
        delay, asked = planned
        wait = deadline.fit_wait(delay, shorten=not asked)
        if wait is not None:
            self._log_retry(call, attempts, wait, reason)
            return wait
        if not isinstance(outcome, httpx.Response):
            raise self._deadline_error(call, attempts, reason, None) from outcome
        request_id = outcome.headers.get(REQUEST_ID_HEADER)
        last = self._status_error(call, outcome, attempts, request_id)
        if asked:
            reason += f", Retry-After {delay:g} s"
        raise self._deadline_error(call, attempts, reason, request_id) from last

    def _log_retry(self, call: _Call, attempt: int, delay: float, reason: str) -> None:
        _logger.info(
            "retrying %s %s after attempt %d (%s) in %.2f s", call.method, call.path, attempt, reason, delay
        )

    def _finish(self, call: _Call, response: httpx.Response, attempts: int) -> ApiResponse:
        request_id = response.headers.get(REQUEST_ID_HEADER)
        if not response.is_success:
            raise self._status_error(call, response, attempts, request_id)
        try:
            data = _decode_json(response.content)
        except ValueError as exc:  # not UTF-8, not JSON, or NaN / Infinity
            raise APIResponseError(
                "{method} {path} answered HTTP {status} with a body that is not JSON",
                method=call.method,
                path=call.path,
                attempts=attempts,
                idempotency_key=call.idempotency_key,
                request_id=request_id,
                status=response.status_code,
            ) from exc
        return ApiResponse(
            status=response.status_code,
            data=data,
            method=call.method,
            path=call.path,
            attempts=attempts,
            idempotency_key=call.idempotency_key,
            request_id=request_id,
        )

    def _status_error(
        self, call: _Call, response: httpx.Response, attempts: int, request_id: str | None
    ) -> APIStatusError:
        try:
            document = _decode_json(response.content)
        except ValueError:
            document = None
        problem: Mapping[str, object] = document if isinstance(document, dict) else {}
        return _status_error_class(response.status_code)(
            status=response.status_code,
            method=call.method,
            path=call.path,
            attempts=attempts,
            problem_type=_text_member(problem, "type"),
            problem_code=_text_member(problem, "code"),
            title=_text_member(problem, "title"),
            detail=_text_member(problem, "detail"),
            retry_after=parse_retry_after(response.headers.get("Retry-After"), self._clock.now()),
            idempotency_key=call.idempotency_key,
            request_id=request_id,
            problem=problem,
        )

    @staticmethod
    def _transport_error(call: _Call, exc: httpx.TransportError, attempts: int) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                "{method} {path} timed out ({reason}) on each of {attempts} attempt(s) of {seconds} s",
                method=call.method,
                path=call.path,
                attempts=attempts,
                idempotency_key=call.idempotency_key,
                reason=type(exc).__name__,
                seconds=call.timeout,
            )
        return APIConnectionError(
            "{method} {path} failed ({reason}) on each of {attempts} attempt(s)",
            method=call.method,
            path=call.path,
            attempts=attempts,
            idempotency_key=call.idempotency_key,
            reason=type(exc).__name__,
        )

    @staticmethod
    def _deadline_error(call: _Call, attempts: int, reason: str, request_id: str | None) -> APITimeoutError:
        return APITimeoutError(
            "{method} {path}: the deadline of {deadline:g} s passed after {attempts} attempt(s) "
            "(last: {reason})",
            method=call.method,
            path=call.path,
            attempts=attempts,
            idempotency_key=call.idempotency_key,
            request_id=request_id,
            deadline=call.deadline,
            reason=reason,
        )

    @staticmethod
    def _other_error(call: _Call, exc: Exception, attempts: int) -> APIError:
        """An httpx failure that is not a transport failure (a body that cannot be decoded, redirects)."""
        if isinstance(exc, httpx.DecodingError):
            return APIResponseError(
                "{method} {path} answered with a body that cannot be decoded ({reason})",
                method=call.method,
                path=call.path,
                attempts=attempts,
                idempotency_key=call.idempotency_key,
                reason=type(exc).__name__,
            )
        return APIConnectionError(
            "{method} {path} failed ({reason})",
            method=call.method,
            path=call.path,
            attempts=attempts,
            idempotency_key=call.idempotency_key,
            reason=type(exc).__name__,
        )


# --------------------------------------------------------------------------------------------- cores


class RequestCore(_CoreBase[httpx.Client, Callable[[float], None]]):
    """Sends requests to the trade-in service, retrying safely (sync twin of :class:`AsyncRequestCore`)."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Configure the core.

        Args:
            config: where and how to call (``ClientConfig.from_environment()`` when omitted).
            http_client: an httpx client to send with (proxies, transports); it stays its owner's to
                close. One is created, and closed by :meth:`close`, when omitted.
            sleep: waits before a retry (the module's ``_sleep`` when omitted).
            random: the jitter source, returning a float in ``[0, 1)`` (``random.random`` when omitted).
            clock: the current time, for ``Retry-After`` dates.
            monotonic: the clock the deadline is measured on, in seconds (``time.monotonic`` when
                omitted); a test pairs it with a ``sleep`` that moves it on.

        Raises:
            ConfigurationError: no ``config`` is given and the environment does not make one.
        """
        super().__init__(
            config, http_client=http_client, sleep=sleep, random=random, clock=clock, monotonic=monotonic
        )

    def _new_client(self) -> httpx.Client:
        return httpx.Client()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int | float | bool] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        read_only: bool = False,
    ) -> ApiResponse:
        """Send one call, retrying transport failures and HTTP 408, 409, 429 and 5xx, within a deadline.

        Retries are made up to ``max_retries`` while the deadline leaves time for them; each attempt's
        timeout is ``min(timeout, remaining)``.

        Args:
            method: the HTTP method; POST, PUT, PATCH and DELETE carry an ``Idempotency-Key``.
            path: the path below the base URL, e.g. ``/v1/quotes``.
            json: the request body, encoded as JSON once for all attempts (``None``: no body).
            params: the query parameters.
            idempotency_key: the key of a mutating call (a new UUID4 when omitted), sent on every attempt.
            timeout: seconds per attempt for this call (the configured timeout when omitted).
            deadline: seconds for the whole call, attempts and waits together (the configured deadline
                when omitted).
            read_only: the call changes nothing (a POST that only computes or checks): it carries no
                ``Idempotency-Key`` and is retried all the same.

        Returns:
            The successful answer.

        Raises:
            APIStatusError: (a subclass per status) the service answered with an error status.
            APITimeoutError: the last attempt timed out, or the deadline passed before the call could end
                otherwise (``__cause__`` holds the last failure).
            APIConnectionError: the last attempt failed in transport.
            APIResponseError: a 2xx body that is not JSON.
            InvalidIdempotencyKeyError: the key given is unusable, or given to a safe method or a
                read-only call.
            ConfigurationError: ``path`` is an absolute URL, or ``timeout`` or ``deadline`` is not a
                positive number.
            TypeError: ``json`` holds something JSON cannot encode.
            ValueError: ``json`` holds NaN or an infinity.
        """
        call = self._prepare(
            method=method,
            path=path,
            body=json,
            params=params,
            idempotency_key=idempotency_key,
            timeout=timeout,
            deadline=deadline,
            read_only=read_only,
        )
        sleep = self._injected_sleep if self._injected_sleep is not None else _sleep
        limit = self._start_deadline(call)
        retries = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = self._client.request(
                    call.method,
                    call.url,
                    content=call.content,
                    params=call.params,
                    headers=call.headers,
                    timeout=limit.attempt_timeout(call.timeout),
                )
            except httpx.TransportError as exc:
                outcome = exc
            except httpx.HTTPError as exc:  # not a transport failure: not retried
                raise self._other_error(call, exc, retries + 1) from exc
            step = self._after_attempt(call, limit, retries, outcome)
            if isinstance(step, ApiResponse):
                return step
            sleep(step)
            retries += 1

    def close(self) -> None:
        """Close the connection pool, if this core created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        """Use the core in a ``with`` block that closes it."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the core."""
        self.close()


class AsyncRequestCore(_CoreBase[httpx.AsyncClient, Callable[[float], Awaitable[None]]]):
    """Sends requests to the trade-in service, retrying safely (async twin of :class:`RequestCore`)."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        random: Callable[[], float] | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Configure the core.

        Args:
            config: where and how to call (``ClientConfig.from_environment()`` when omitted).
            http_client: an httpx async client to send with; it stays its owner's to close. One is
                created, and closed by :meth:`aclose`, when omitted.
            sleep: waits before a retry (the module's ``_asleep`` when omitted).
            random: the jitter source, returning a float in ``[0, 1)`` (``random.random`` when omitted).
            clock: the current time, for ``Retry-After`` dates.
            monotonic: the clock the deadline is measured on, in seconds (``time.monotonic`` when
                omitted); a test pairs it with a ``sleep`` that moves it on.

        Raises:
            ConfigurationError: no ``config`` is given and the environment does not make one.
        """
        super().__init__(
            config, http_client=http_client, sleep=sleep, random=random, clock=clock, monotonic=monotonic
        )

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int | float | bool] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-attempt httpx timeout, as in the sync twin
        deadline: float | None = None,
        read_only: bool = False,
    ) -> ApiResponse:
        """Send one call, retrying transport failures and HTTP 408, 409, 429 and 5xx, within a deadline.

        Retries are made up to ``max_retries`` while the deadline leaves time for them; each attempt's
        timeout is ``min(timeout, remaining)``.

        Args:
            method: the HTTP method; POST, PUT, PATCH and DELETE carry an ``Idempotency-Key``.
            path: the path below the base URL, e.g. ``/v1/quotes``.
            json: the request body, encoded as JSON once for all attempts (``None``: no body).
            params: the query parameters.
            idempotency_key: the key of a mutating call (a new UUID4 when omitted), sent on every attempt.
            timeout: seconds per attempt for this call (the configured timeout when omitted).
            deadline: seconds for the whole call, attempts and waits together (the configured deadline
                when omitted).
            read_only: the call changes nothing (a POST that only computes or checks): it carries no
                ``Idempotency-Key`` and is retried all the same.

        Returns:
            The successful answer.

        Raises:
            APIStatusError: (a subclass per status) the service answered with an error status.
            APITimeoutError: the last attempt timed out, or the deadline passed before the call could end
                otherwise (``__cause__`` holds the last failure).
            APIConnectionError: the last attempt failed in transport.
            APIResponseError: a 2xx body that is not JSON.
            InvalidIdempotencyKeyError: the key given is unusable, or given to a safe method or a
                read-only call.
            ConfigurationError: ``path`` is an absolute URL, or ``timeout`` or ``deadline`` is not a
                positive number.
            TypeError: ``json`` holds something JSON cannot encode.
            ValueError: ``json`` holds NaN or an infinity.
        """
        call = self._prepare(
            method=method,
            path=path,
            body=json,
            params=params,
            idempotency_key=idempotency_key,
            timeout=timeout,
            deadline=deadline,
            read_only=read_only,
        )
        sleep = self._injected_sleep if self._injected_sleep is not None else _asleep
        limit = self._start_deadline(call)
        retries = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = await self._client.request(
                    call.method,
                    call.url,
                    content=call.content,
                    params=call.params,
                    headers=call.headers,
                    timeout=limit.attempt_timeout(call.timeout),
                )
            except httpx.TransportError as exc:
                outcome = exc
            except httpx.HTTPError as exc:  # not a transport failure: not retried
                raise self._other_error(call, exc, retries + 1) from exc
            step = self._after_attempt(call, limit, retries, outcome)
            if isinstance(step, ApiResponse):
                return step
            await sleep(step)
            retries += 1

    async def aclose(self) -> None:
        """Close the connection pool, if this core created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        """Use the core in an ``async with`` block that closes it."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the core."""
        await self.aclose()
