"""The trade-in service: the facade's use cases over HTTP, as a WSGI application.

One central service answers many shop or store systems (carrier terminals) with the same engine and store
as the embedded facade. Run it with ``tradein serve`` (gunicorn with
worker processes, timeouts and header limits; ``tradein serve --dev`` for a small threaded server) or under
any WSGI server::

    gunicorn --workers 4 'tradein_sdk:create_service()'

What every request gets:

* **API keys, tenants and roles**: ``Authorization: Bearer <key>``. Each key belongs to one tenant (a shop,
  a store of a carrier, a partner) of one organisation and has one role (:mod:`~tradein_sdk._domain.tenancy`:
  ``shop``, ``store``, ``back_office``, ``provider``, ``admin``). Keys are minted with ``tradein keys create``
  and kept in the store as SHA-256 digests (each process asks the store about a key at most every 5 s, so a
  revoked key is refused within 5 s), or configured in ``$TRADEIN_API_KEYS``. Every request runs on
  the facade scoped to its key (:meth:`TradeIn.scoped`): another tenant's quote or order is not found (404),
  an operation the role may not call is refused (403 ``forbidden``), the actor recorded is the key's and a
  quote's audience is the key's tenant. ``GET /v1/openapi.json`` needs no key.
* **Problem documents**: every error is ``application/problem+json`` with the library's error ``code``
  (see :mod:`.api`); an unexpected failure is a 500 ``internal_error`` that names the request
  id and nothing else.
* **Idempotency**: a POST with an ``Idempotency-Key`` header is done once per client and key (a POST
  that changes nothing, such as grading or verifying a token, is simply done again: its key is ignored).
  Its answer is kept in the store for at least ``idempotency_ttl`` (24 hours by default) and sent
  again, byte for byte, to every repeat, with ``Idempotent-Replayed: true``; the same key with another
  method, path or body is refused (422 ``idempotency_key_reused``), and a repeat while the first is still
  running gets 409 ``idempotency_key_in_use`` (clients retry it). Answers a retry could change (408, 409,
  429, 5xx) are not kept, so a retry runs the request again.
* **Request ids**: ``X-Request-Id`` on every answer: the caller's when it is 1 to 128 of
  ``A-Z a-z 0-9 . _ : -``, else a new one; it is in every problem document (``request_id``) and in the
  request's log line (:func:`configure_logging`; JSON with ``TRADEIN_LOG_FORMAT=json``).
* **Strict input**: a body is ``application/json`` in UTF-8 (415 otherwise), at most 1 MiB (413), nested
  at most 64 deep, free of lone surrogates, duplicate member names, ``NaN`` and numbers too large for a
  float; a value of the wrong JSON type is refused, never coerced (``"no"`` is not a boolean); a chunked
  body is read when the server ends the input (``wsgi.input_terminated``), otherwise refused with 411.
  Each is a 4xx problem document naming the JSON path, parameter or header.
* **Operations** (no API key): ``GET /healthz`` (the process answers), ``GET /readyz`` (the database
  answers and has every migration: 503 ``not_ready`` otherwise), ``GET /metrics`` (Prometheus: requests
  by operation and status, latency per operation, webhook outbox depth and age, deliveries given up).
  ``/metrics`` is public unless ``$TRADEIN_METRICS_KEY`` is set: firewall it, or set the key.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import socketserver
import threading
import time
import typing
import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any, Final, cast
from urllib.parse import parse_qsl, unquote
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

import attrs

from grading_questionnaire._resources import shared_dir
from tradein_sdk._app.facade import TradeIn
from tradein_sdk._domain.converters import json_converter, structuring_problems
from tradein_sdk._domain.outbox import WebhookEndpoint
from tradein_sdk._domain.tenancy import Role, Scope
from tradein_sdk._domain.webhooks import WebhookSecrets
from tradein_sdk._errors import ConfigurationError, DocumentProblem, StoreError, TradeInError
from tradein_sdk._ports import IdempotencyKeys, StoredResponse, Tenancy
from tradein_sdk._remote.api import (
    FIELD_CONSTRAINTS,
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_PREFIX,
    Operation,
    operations,
    query_name,
    status_for,
)
from tradein_sdk._remote.provider import ProviderEvents
from tradein_sdk._remote.transport import REQUEST_ID_HEADER, RETRYABLE_STATUSES, _check_idempotency_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import cattrs
    from prometheus_client import CollectorRegistry

    from tradein_sdk._domain.clock import Clock

__all__ = [
    "API_KEYS_ENV",
    "LOG_FORMAT_ENV",
    "MARKET_ENV",
    "MAX_BODY_ENV",
    "METRICS_KEY_ENV",
    "WEBHOOK_URLS_ENV",
    "ApiKeys",
    "TradeInService",
    "configure_logging",
    "create_server_application",
    "create_service",
    "serve",
    "webhook_endpoints_from",
]

_logger = logging.getLogger("tradein_sdk.service")

API_KEYS_ENV: Final = "TRADEIN_API_KEYS"
WEBHOOK_URLS_ENV: Final = "TRADEIN_WEBHOOK_URLS"
WEBHOOK_INTERVAL: Final = 1.0
"""Seconds between two passes of the webhook outbox while the service runs."""
MAX_BODY_BYTES: Final = 1 << 20
"""The default limit of a request body (1 MiB)."""
MAX_JSON_DEPTH: Final = 64
"""The default limit of nested arrays and objects in a request body."""
LOG_FORMAT_ENV: Final = "TRADEIN_LOG_FORMAT"
MARKET_ENV: Final = "TRADEIN_MARKET"
MAX_BODY_ENV: Final = "TRADEIN_MAX_BODY_BYTES"
METRICS_KEY_ENV: Final = "TRADEIN_METRICS_KEY"
MULTIPROCESS_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
_access_logger = logging.getLogger("tradein_sdk.service.access")
OPENAPI_PATH: Final = "/v1/openapi.json"
PROVIDER_EVENTS_PATH: Final = "/v1/provider/events"
PROVIDER_SECRETS_ENV: Final = "TRADEIN_PROVIDER_WEBHOOK_SECRETS"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_JSON: Final = "application/json"
_CSV: Final = "text/csv; charset=utf-8"
_FORMATS: Final = {"json": _JSON, "csv": _CSV}
_MIN_KEY_LENGTH: Final = 16
_MAX_KEY_LENGTH: Final = 512
KEY_CACHE_SECONDS: Final = 5.0
"""How long a process trusts what the store said about a key: a revoked key is refused within this time."""
_KEY_CACHE_SIZE: Final = 10_000


@cache
def _accepts_actor(function: Callable[..., Any]) -> bool:
    import inspect  # noqa: PLC0415 - once per use case

    return "actor" in inspect.signature(function).parameters


def _takes_actor(method: Callable[..., Any]) -> bool:
    """Whether a facade method records who acts (``actor=``)."""
    return _accepts_actor(getattr(method, "__func__", method))


StartResponse = Any  # the WSGI start_response callable
Environ = dict[str, Any]


class _RequestError(Exception):
    """A request the service refuses before any use case runs."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        problems: Iterable[Mapping[str, object]] = (),
        params: Mapping[str, object] | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.problems = tuple(problems)
        self.params = params
        self.message_id = message_id
        self.headers: list[tuple[str, str]] = []


def _method_not_allowed(path: str, allowed: Iterable[str]) -> _RequestError:
    """405 for ``path``, with the ``Allow`` header naming its methods."""
    methods = ", ".join(sorted(allowed))
    error = _RequestError(405, "method_not_allowed", f"{path} takes {methods}")
    error.headers.append(("Allow", methods))
    return error


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _scope_of(name: str) -> Scope:
    """The scope a key's name grants: ``tenant[@organisation][:role]`` (role ``store`` if left out)."""
    owner, _, role = name.partition(":")
    tenant, _, organisation = owner.partition("@")
    try:
        return Scope(tenant=tenant, organisation=organisation or tenant, role=Role(role or Role.STORE))
    except (TradeInError, ValueError) as exc:
        raise ConfigurationError(
            "an API key is named tenant[@organisation][:role] (a-z 0-9 . _ -; roles {roles}), not {name!r}",
            name=name[:60],
            roles=", ".join(Role),
        ) from exc


@attrs.frozen
class ApiKeys:
    """The API keys configured for the service, each granting a scope; only their SHA-256 digests are held.

    A key's name is ``tenant[@organisation][:role]``: ``store-berlin@carrier-x:store``; the organisation is
    the tenant itself and the role ``store`` when left out.

    >>> keys = ApiKeys.parse("store-berlin=k3y-for-berlin-0001,hq@carrier-x:back_office=k3y-for-the-hq-000")
    >>> keys.scope_for("k3y-for-the-hq-000").role.value
    'back_office'
    """

    _scopes: Mapping[str, Scope] = attrs.field(alias="scopes")

    @classmethod
    def of(cls, keys: Mapping[str, str]) -> ApiKeys:
        """Build the table from ``{name: key}`` (names as above).

        Raises:
            ConfigurationError: a key is shorter than 16 characters or not printable ASCII, a name is not
                ``tenant[@organisation][:role]``, or two names share a key.
        """
        scopes: dict[str, Scope] = {}
        for client, key in keys.items():
            scope = _scope_of(client)
            if len(key) < _MIN_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
                raise ConfigurationError(
                    "the API key of {client} must be at least {length} printable ASCII characters",
                    client=client,
                    length=_MIN_KEY_LENGTH,
                )
            if scopes.setdefault(_digest(key), scope) != scope:
                raise ConfigurationError("two API clients share one key ({client})", client=client)
        return cls(scopes)

    @classmethod
    def parse(cls, text: str) -> ApiKeys:
        """Read ``client=key`` pairs separated by commas (the form of ``$TRADEIN_API_KEYS``).

        Raises:
            ConfigurationError: a pair is not ``client=key``, or :meth:`of` refuses the keys.
        """
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            client, separator, key = item.partition("=")
            if not separator:
                raise ConfigurationError("API keys are written client=key, not {item!r}", item=item[:3] + "…")
            pairs[client.strip()] = key.strip()
        return cls.of(pairs)

    def scope_for(self, key: str) -> Scope | None:
        """The scope a key grants, or ``None``."""
        return self._scopes.get(_digest(key))

    def __len__(self) -> int:
        """How many keys there are."""
        return len(self._scopes)


@attrs.frozen(kw_only=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


class TradeInService:
    """The WSGI application of the trade-in service (see the module documentation)."""

    def __init__(
        self,
        trade_in: TradeIn,
        *,
        api_keys: ApiKeys | Mapping[str, str] | None = None,
        clock: Clock | None = None,
        idempotency_ttl: timedelta = timedelta(hours=24),
        idempotency_lock: timedelta = timedelta(seconds=60),
        provider_secrets: WebhookSecrets | None = None,
        idempotency_keys: IdempotencyKeys | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_json_depth: int = MAX_JSON_DEPTH,
        metrics_key: str | None = None,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
    ) -> None:
        """Serve ``trade_in``'s use cases.

        Args:
            trade_in: the engine and store every request uses.
            api_keys: keys configured besides those kept in the store (``{name: key}`` or :class:`ApiKeys`);
                a store without API keys needs at least one here.
            clock: where "now" comes from for idempotency records (default: the facade's clock).
            idempotency_ttl: how long an idempotency key's answer is kept (at least 24 hours).
            idempotency_lock: how long a request holds its key before another may take it over (a
                request whose process died).
            provider_secrets: the secrets a refurbishment provider signs its webhooks with; when given,
                ``POST /v1/provider/events`` turns them into order transitions (:class:`ProviderEvents`).
            idempotency_keys: where idempotency keys and their answers are kept (default: the facade's
                store, which must keep every concern: the service serves every use case).
            max_body_bytes: the largest request body accepted (413 above it).
            max_json_depth: how deeply arrays and objects may nest in a request body (400 deeper).
            metrics_key: when set, ``GET /metrics`` needs ``Authorization: Bearer <metrics_key>``;
                otherwise it is public and should be reachable from the monitoring network only.
            key_cache_seconds: how long a stored key's scope is trusted before the store is asked again
                (a revocation takes effect within it; 0 asks on every request).

        Raises:
            ConfigurationError: no key is given, a key is unusable, the TTL is under 24 hours, or a
                limit is not positive.
        """
        keys = api_keys if isinstance(api_keys, ApiKeys) else ApiKeys.of(api_keys or {})
        self._stored_keys = isinstance(trade_in._store, Tenancy)  # noqa: SLF001 - the facade's own store
        self._key_cache: dict[str, tuple[Scope, float]] = {}
        self._key_cache_seconds = key_cache_seconds
        if not len(keys) and not self._stored_keys:
            raise ConfigurationError("the trade-in service needs at least one API key")
        if idempotency_ttl < timedelta(hours=24):
            raise ConfigurationError("idempotency keys are kept for at least 24 hours")
        if max_body_bytes < 1 or max_json_depth < 1:
            raise ConfigurationError("the body size and nesting limits must be positive")
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self._metrics_key = _digest(metrics_key) if metrics_key else None
        self._metrics = _Metrics(trade_in)
        self.trade_in = trade_in
        self._keys = keys
        self._clock = clock or trade_in.clock
        self._ttl = idempotency_ttl
        self._idempotency: IdempotencyKeys = idempotency_keys or trade_in.store
        self._lock = idempotency_lock
        self._routes = [(operation.pattern, operation) for operation in operations().values()]
        self._openapi: bytes | None = None
        self._provider: ProviderEvents | None = None
        if provider_secrets is not None:
            self._provider = ProviderEvents(trade_in, provider_secrets)
        self._purge_lock = threading.Lock()
        self._next_purge = self._clock.now()

    # -- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        """Answer one request (the WSGI entry point)."""
        started = time.perf_counter()
        request_id = _request_id(environ.get("HTTP_X_REQUEST_ID"))
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        context = _RequestContext()
        try:
            answer = self._answer(environ, context)
        except _RequestError as exc:
            answer = _problem(
                exc.status,
                exc.code,
                exc.detail,
                problems=exc.problems,
                headers=exc.headers,
                message_id=exc.message_id,
                params=exc.params,
                request_id=request_id,
            )
        except TradeInError as exc:
            answer = _error_answer(exc, request_id)
        except Exception:  # the service must answer; the details stay in the log
            _logger.exception("request %s failed", request_id)
            answer = _problem(
                500, "internal_error", f"the service failed; request id {request_id}", request_id=request_id
            )
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            (REQUEST_ID_HEADER, request_id),
            *answer.headers,
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        duration = time.perf_counter() - started
        operation = context.operation or "unrouted"
        self._metrics.observe(operation, answer.status, duration)
        _access_logger.info(
            "%s %s %s %d %.1fms %s",
            method,
            _printable(str(environ.get("PATH_INFO", ""))),
            operation,
            answer.status,
            duration * 1000,
            request_id,
            extra={
                "request_id": request_id,
                "method": method,
                "operation": operation,
                "status": answer.status,
                "duration_ms": round(duration * 1000, 3),
            },
        )
        return [answer.body]

    def _answer(self, environ: Environ, context: _RequestContext) -> _Answer:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        operational = self._operational(method, path, environ, context)
        if operational is not None:
            return operational
        if path == OPENAPI_PATH and method in {"GET", "HEAD"}:
            context.operation = "openapi"
            return _Answer(status=200, body=self._openapi_document())
        if path == PROVIDER_EVENTS_PATH and self._provider is not None:
            context.operation = "provider_event"
            if method != "POST":
                raise _method_not_allowed(path, ["POST"])
            return self._provider_event(environ)
        operation, parameters = self._route(method, path)
        context.operation = operation.id
        scope, client = self._authenticate(environ)
        if scope.role not in operation.roles:
            raise _RequestError(
                403,
                "forbidden",
                f"a {scope.role.value} key may not call {operation.id}",
                params={"role": scope.role.value, "operation": operation.id},
            )
        facade = self.trade_in.scoped(scope)
        if operation.method == "GET":
            pairs, media = _representation(operation, environ.get("QUERY_STRING", ""))
            arguments = {**parameters, **_query_arguments(operation, pairs)}
            return self._run(facade, operation, arguments, media)
        body = self._read_body(environ)
        arguments = {**parameters, **_body_arguments(operation, body)}
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if key is None or operation.read_only:  # a call that changes nothing is repeated, never recorded
            return self._run(facade, operation, arguments)
        return self._run_once(client, key, method, path, body, operation, (facade, arguments))

    # -- operations: health, readiness, metrics ----------------------------------------------------------

    def _operational(
        self, method: str, path: str, environ: Environ, context: _RequestContext
    ) -> _Answer | None:
        """Answer ``/healthz``, ``/readyz`` and ``/metrics`` (no API key), or ``None`` for other paths."""
        handlers: dict[str, Callable[[Environ], _Answer]] = {
            HEALTH_PATH: lambda _: _Answer(status=200, body=_encode({"status": "ok"})),
            READY_PATH: lambda _: self._readiness(),
            METRICS_PATH: self._metrics_answer,
        }
        handler = handlers.get(path)
        if handler is None:
            return None
        context.operation = path.strip("/")
        if method not in {"GET", "HEAD"}:
            raise _method_not_allowed(path, ["GET", "HEAD"])
        return handler(environ)

    def _readiness(self) -> _Answer:
        """200 when the database answers and has every migration of this version; 503 otherwise."""
        from tradein_sdk._adapters.sql.store import iter_migrations  # noqa: PLC0415 - with the first probe

        latest = max(version for version, _ in iter_migrations())
        reader = getattr(self.trade_in.store, "schema_version", None)
        if reader is None:  # a store without migrations (in memory): ready when it exists
            return _Answer(status=200, body=_encode({"status": "ready"}))
        try:
            current = int(reader())
        except StoreError as exc:
            _logger.warning("readiness: the database cannot be reached: %s", exc)
            raise _not_ready(
                "the database cannot be reached", {"schema_version": None, "latest": latest}
            ) from exc
        if current < latest:
            raise _not_ready(
                f"the database schema is at version {current}, this service needs {latest}: "
                "run tradein db migrate",
                {"schema_version": current, "latest": latest},
            )
        return _Answer(
            status=200, body=_encode({"status": "ready", "schema_version": current, "latest": latest})
        )

    def _metrics_answer(self, environ: Environ) -> _Answer:
        if self._metrics_key is not None:
            scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer" or _digest(key.strip()) != self._metrics_key:
                error = _RequestError(
                    401, "unauthenticated", "send the metrics key: Authorization: Bearer <key>"
                )
                error.headers.append(("WWW-Authenticate", 'Bearer realm="tradein-metrics"'))
                raise error
        body, content_type = self._metrics.exposition()
        return _Answer(status=200, body=body, content_type=content_type)

    def _read_body(self, environ: Environ) -> object:
        """The request's JSON body, read strictly (see :func:`_parse_json`)."""
        raw = _read_raw(environ, self.max_body_bytes)
        if not raw.strip():
            return {}
        _check_media_type(environ)
        return _parse_json(raw, self.max_json_depth)

    def _provider_event(self, environ: Environ) -> _Answer:
        """A provider's webhook: authenticated by its signature, not by an API key."""
        assert self._provider is not None  # noqa: S101 - the caller checked
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        outcome = self._provider.handle(headers, _read_raw(environ, self.max_body_bytes))
        return _Answer(status=200, body=_encode({"event_id": outcome.event.id, "applied": outcome.applied}))

    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        allowed = []
        for pattern, operation in self._routes:
            matched = pattern.match(path)
            if matched is None:
                continue
            if operation.method == method:
                return operation, {name: unquote(value) for name, value in matched.groupdict().items()}
            allowed.append(operation.method)
        if allowed:
            raise _method_not_allowed(path, allowed)
        raise _RequestError(404, "route_not_found", f"the service has no resource {path}")

    def scope_for(self, key: str) -> Scope | None:
        """The scope an API key grants (a configured key's, else a stored active key's), or ``None``."""
        if not key.isascii() or not 0 < len(key) <= _MAX_KEY_LENGTH:
            return None
        scope = self._keys.scope_for(key)
        if scope is None and self._stored_keys:
            scope = self._stored_scope(key)
        return scope

    def _stored_scope(self, key: str) -> Scope | None:
        """A stored key's scope, looked up at most once per :data:`KEY_CACHE_SECONDS` per key and process."""
        digest = _digest(key)
        now = time.monotonic()
        cached = self._key_cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        scope = self.trade_in.authenticate(key)
        if scope is not None:  # an unknown key is asked again: a key minted a moment ago works at once
            if len(self._key_cache) >= _KEY_CACHE_SIZE:
                self._key_cache.clear()
            self._key_cache[digest] = (scope, now + self._key_cache_seconds)
        return scope

    def _authenticate(self, environ: Environ) -> tuple[Scope, str]:
        """The scope of the request's key and the key's idempotency namespace (a part of its digest)."""
        scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = key.strip()
        scope = self.scope_for(key) if scheme.lower() == "bearer" else None
        if scope is None:
            error = _RequestError(401, "unauthenticated", "send a valid API key: Authorization: Bearer <key>")
            error.headers.append(("WWW-Authenticate", 'Bearer realm="tradein"'))
            raise error
        return scope, _digest(key)[:40]

    def _run(
        self, facade: TradeIn, operation: Operation, arguments: dict[str, Any], media: str = _JSON
    ) -> _Answer:
        method = getattr(facade, operation.id)
        # A stored quote goes out as stored, unless a subclass (or a test) replaced get_quote.
        if operation.id == "get_quote" and getattr(method, "__func__", None) is TradeIn.get_quote:
            return _stored_quote_answer(facade, **arguments)
        if _takes_actor(method) and facade.scope is not None:
            arguments["actor"] = facade.scope.actor  # who acts is the key's role, never the body's say
        try:
            result = method(**arguments)
        except TradeInError as exc:
            _name_request_values(exc, operation)
            raise
        form = operation.form
        if form is None:
            return _Answer(status=operation.status, body=_encode(json_converter().unstructure(result)))
        if media == _CSV and form.csv is not None:
            return _Answer(status=operation.status, body=form.csv(result).encode(), content_type=_CSV)
        return _Answer(status=operation.status, body=_encode(form.write(result)))

    def _run_once(  # noqa: PLR0917 - one request's parts, private
        self,
        client: str,
        key: str,
        method: str,
        path: str,
        body: object,
        operation: Operation,
        call: tuple[TradeIn, dict[str, Any]],
    ) -> _Answer:
        try:
            _check_idempotency_key(key, method)
        except TradeInError as exc:
            raise _RequestError(400, exc.code, str(exc)) from exc
        store = self._idempotency
        now = self._clock.now()
        self._purge(now)
        request_hash = hashlib.sha256(
            b"\0".join((method.encode(), path.encode(), json.dumps(body, sort_keys=True).encode()))
        ).hexdigest()
        kept = store.claim_idempotency_key(
            client=client, key=key, request_hash=request_hash, now=now, lock_for=self._lock
        )
        if kept is not None:
            return _Answer(
                status=kept.status,
                body=kept.body,
                content_type=kept.content_type,
                headers=((REPLAYED_HEADER, "true"),),
            )
        try:
            answer = self._run(call[0], operation, call[1])
        except TradeInError as exc:
            answer = _error_answer(exc)  # kept for replays: no request id in the stored answer
        except BaseException:
            store.release_idempotency_key(client=client, key=key)
            raise
        if answer.status in RETRYABLE_STATUSES:
            store.release_idempotency_key(client=client, key=key)
        else:
            store.save_idempotent_response(
                client=client,
                key=key,
                response=StoredResponse(
                    status=answer.status, body=answer.body, content_type=answer.content_type
                ),
            )
        return answer

    def _purge(self, now: Any) -> None:  # noqa: ANN401 - a datetime
        """Forget expired idempotency keys, at most once an hour (the request that notices does it)."""
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = now + timedelta(hours=1)
            self._idempotency.purge_idempotency_keys(created_before=now - self._ttl)
        finally:
            self._purge_lock.release()

    def _openapi_document(self) -> bytes:
        if self._openapi is None:
            self._openapi = (shared_dir("schemas") / "openapi.json").read_bytes()
        return self._openapi


# -- requests --------------------------------------------------------------------------------------------


def _read_raw(environ: Environ, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body: ``Content-Length`` bytes, or up to the end of a chunked body the server decoded.

    A chunked body is read when the server says it ends the input (``wsgi.input_terminated``, as
    gunicorn and the development server do); otherwise it is refused (411), never read as empty.
    """
    text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if text:
        if not text.isdigit():
            raise _RequestError(400, "request_malformed", "Content-Length is not a number")
        length = int(text)
        if length > limit:
            raise _too_large(limit)
        return bytes(stream.read(length)) if length > 0 else b""
    if "HTTP_TRANSFER_ENCODING" not in environ:
        return b""
    if not environ.get("wsgi.input_terminated"):
        raise _RequestError(411, "length_required", "send the body with Content-Length")
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(65536, limit + 1 - size)):
        chunks.append(bytes(chunk))
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
    return b"".join(chunks)


def _too_large(limit: int) -> _RequestError:
    return _RequestError(413, "request_too_large", f"a request body is at most {limit} bytes")


def _check_media_type(environ: Environ) -> None:
    """Refuse a body that is not ``application/json`` (UTF-8): 415."""
    media, _, parameters = str(environ.get("CONTENT_TYPE", "")).partition(";")
    charset = "utf-8"
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != _JSON or charset not in {"utf-8", "utf8"}:
        error = _RequestError(
            415,
            "unsupported_media_type",
            "send the body as application/json (UTF-8)",
            problems=[{"path": "header.Content-Type", "message": "must be application/json"}],
        )
        error.headers.append(("Accept-Post", _JSON))
        raise error


def _parse_json(raw: bytes, max_depth: int) -> object:
    """Parse a request body strictly.

    UTF-8; no NaN or infinity; no duplicate member names; nesting limited; no lone surrogate in a string.

    Raises:
        _RequestError: 400 ``request_malformed`` (not JSON, too deep) or ``request_invalid`` (a string
            that is not Unicode text), naming the JSON path where one can be named.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _RequestError(400, "request_malformed", f"the body is not UTF-8 (byte {exc.start})") from exc
    if text.count("[") + text.count("{") > max_depth:
        _check_depth(text, max_depth)
    try:
        document = json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_no_duplicates
        )
    except _DuplicateNameError as exc:
        raise _RequestError(
            400, "request_malformed", str(exc), problems=[{"path": "$", "message": str(exc)}]
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise _RequestError(400, "request_malformed", f"the body is not a JSON document: {exc}") from exc
    if _SURROGATE_ESCAPE.search(raw):
        _check_text(document)
    return document


_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"\s*:|"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse arrays and objects nested deeper than ``max_depth``, naming where (before parsing)."""
    stack: list[list[object]] = []  # per open container: [kind, key or index]
    for token in _TOKENS.finditer(text):
        value = token.group()
        if value in {"[", "{"}:
            if len(stack) >= max_depth:
                where = _json_path(stack)
                message = f"arrays and objects nest at most {max_depth} deep"
                raise _RequestError(
                    400,
                    "request_malformed",
                    f"{where}: {message}",
                    problems=[{"path": where, "message": message}],
                )
            stack.append([value, 0 if value == "[" else None])
        elif value in {"]", "}"}:
            if stack:
                stack.pop()
        elif value == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] = int(cast("int", stack[-1][1])) + 1
        elif value.endswith(":") and stack:
            try:
                stack[-1][1] = json.loads(value[:-1].rstrip())
            except ValueError:
                stack[-1][1] = "?"


def _json_path(stack: Iterable[list[object]]) -> str:
    path = "$"
    for kind, key in stack:
        if kind == "[":
            path += f"[{key}]"
        elif isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            path += f".{key}"
        elif key is not None:
            path += f"[{json.dumps(key)}]"
    return path


def _check_text(document: object) -> None:
    """Refuse a string (or a member name) holding a lone surrogate, naming its JSON path."""
    pending: list[tuple[str, object]] = [("$", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                if not _is_unicode(name):
                    _not_text(path, "a member name")
                pending.append((path + _json_path([["{", name]])[1:], item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str) and not _is_unicode(value):
            _not_text(path, "the string")


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_text(path: str, what: str) -> typing.NoReturn:
    message = f"{what} holds a lone surrogate (\\ud800-\\udfff): it is not Unicode text"
    raise _RequestError(
        400, "request_invalid", f"{path}: {message}", problems=[{"path": path, "message": message}]
    )


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]}… is too large")
    return value


class _DuplicateNameError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _DuplicateNameError(f"the member name {name!r} appears twice in an object")
        result[name] = value
    return result


@cache
def _strict_converter() -> cattrs.Converter:
    """The JSON converter, refusing values of the wrong JSON type instead of coercing them.

    cattrs would read ``"no"`` as ``True`` (``bool("no")``), ``1.9`` as ``1`` and ``5`` as ``"5"``; a
    request must say what it means.
    """
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415 - cattrs loads with the first request

    converter = json_converter().copy()

    def strict(accepted: tuple[type, ...], name: str) -> Callable[[object, type], Any]:
        def structure(value: object, target: type) -> object:
            if isinstance(value, bool) and bool not in accepted:
                raise TypeError(f"expected {name}, not a boolean")
            if not isinstance(value, accepted):
                raise TypeError(f"expected {name}, not {_json_type(value)}")
            return target(value)  # the type asked for: str, or a str enum (its value is checked there)

        return structure

    # Registered by class, these hooks also serve subclasses (str and int enums), through ``target``.
    converter.register_structure_hook(bool, strict((bool,), "a boolean (true or false)"))
    converter.register_structure_hook(int, strict((int,), "an integer"))
    converter.register_structure_hook(float, strict((int, float), "a number"))
    converter.register_structure_hook(str, strict((str,), "a string"))
    for (model, name), constraints in FIELD_CONSTRAINTS.items():  # after the hooks above: its fields use them
        overrides: dict[str, Any] = {name: override(struct_hook=_one_of(tuple(constraints["enum"])))}
        converter.register_structure_hook(model, make_dict_structure_fn(model, converter, **overrides))
    return converter


def _one_of(values: tuple[str, ...]) -> Callable[[object, type], str]:
    """A structure hook taking one of ``values`` (see :data:`.api.FIELD_CONSTRAINTS`)."""

    def structure(value: object, _: type) -> str:
        if not isinstance(value, str) or value not in values:
            raise ValueError(f"must be one of {', '.join(values)}, not {value!r:.40}")
        return value

    return structure


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}
    if value is None:
        return "null"
    return names.get(type(value), "an object")


def _structured(model: type, data: object, root: str) -> Any:  # noqa: ANN401 - an instance of model

    if not isinstance(data, dict):
        raise _RequestError(
            400, "request_invalid", f"{root} must be a JSON object", problems=[{"path": root}]
        )
    try:
        return _strict_converter().structure(data, model)
    except Exception as exc:  # an untrusted request: whatever structuring raises is a bad request
        problems = [{"path": path, "message": message} for path, message in structuring_problems(exc, root)]
        summary = "; ".join(f"{item['path']}: {item['message']}" for item in problems[:3])
        raise _RequestError(400, "request_invalid", summary, problems=problems) from exc


def _body_arguments(operation: Operation, body: object) -> dict[str, Any]:
    if operation.body is None:  # pragma: no cover - every POST operation has a body type
        return {}
    if isinstance(body, dict):
        _check_values(operation.body, body, lambda name: f"$.{name}")
    value = _structured(operation.body, body, "$")
    if operation.body_argument is not None:
        return {operation.body_argument: value}
    return {field.name: getattr(value, field.name) for field in attrs.fields(operation.body)}


def _representation(operation: Operation, query: str) -> tuple[list[tuple[str, str]], str]:
    """The query's parameters, less ``format`` when the operation answers in CSV too, and the media type."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if operation.form is None or operation.form.csv is None:
        return pairs, _JSON
    media = _JSON
    for name, value in pairs:
        if name == "format":
            if value not in _FORMATS:
                message = f"must be one of {', '.join(_FORMATS)}, not {value!r}"
                raise _RequestError(
                    400,
                    "request_invalid",
                    f"query.format: {message}",
                    problems=[{"path": "query.format", "message": message}],
                )
            media = _FORMATS[value]
    return [(name, value) for name, value in pairs if name != "format"], media


def _query_arguments(operation: Operation, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    if operation.query is None:
        return {}
    data: dict[str, object] = {}
    fields = _query_types(operation.query)
    names = {query_name(field): field.name for field in attrs.fields(operation.query)}
    for name, value in pairs:
        if name not in names:
            raise _RequestError(
                400, "request_invalid", f"unknown query parameter {name!r}", problems=[{"path": name}]
            )
        data[names[name]] = _query_value(value, fields[names[name]])
    wire = {field: name for name, field in names.items()}
    _check_values(operation.query, data, lambda field: f"query.{wire[field]}")
    try:
        value = _structured(operation.query, data, "query")
    except _RequestError as exc:
        renamed = [(f"query.{field}", f"query.{name}") for field, name in wire.items() if field != name]
        if not renamed:
            raise
        raise _renamed(exc, renamed) from exc.__cause__
    if hasattr(value, "to_arguments"):  # a query standing for other arguments (a curve's figures)
        arguments: dict[str, Any] = value.to_arguments()
        return arguments
    return {name: getattr(value, name) for name in fields}


def _renamed(error: _RequestError, renames: Iterable[tuple[str, str]]) -> _RequestError:
    """``error`` with each field path written as its query parameter (``query.start`` → ``query.from``)."""

    def rename(text: str) -> str:
        for old, new in renames:
            text = re.sub(rf"{re.escape(old)}\b", new, text)
        return text

    problems = [{**item, "path": rename(str(item.get("path", "")))} for item in error.problems]
    return _RequestError(error.status, error.code, rename(error.detail), problems=problems)


def _check_values(model: type, data: Mapping[str, object], path: Callable[[str], str]) -> None:
    """Refuse a value that breaks its field's constraints (:mod:`.api`), naming it by ``path(field)``.

    Values of the wrong JSON type are left to structuring, which names them too.
    """
    for field, kind in _checked_fields(model):
        value = data.get(field.name)
        message = _value_problem(field, kind, value)
        if message is None:
            continue
        where = path(field.name)
        detail = f"{where}: {value!r} {message}"
        problems = [{"path": where, "message": f"{value!r} {message}"}]
        if "invalid" not in field.metadata:
            raise _RequestError(400, "request_invalid", detail, problems=problems)
        code, param = field.metadata["invalid"]
        escaped = message.replace("{", "{{").replace("}", "}}")
        raise _RequestError(
            422,
            code,
            detail,
            problems=problems,
            params={param: value, "parameter": where},
            message_id=f"{{parameter}}: {{{param}!r}} {escaped}",
        )


@cache
def _checked_fields(model: type) -> tuple[tuple[attrs.Attribute[Any], object], ...]:
    """The fields of a query or body model that carry constraints, with their types."""
    if not any(
        "constraints" in field.metadata or "invalid" in field.metadata for field in attrs.fields(model)
    ):
        return ()
    hints = _query_types(model)
    return tuple(
        (field, hints[field.name])
        for field in attrs.fields(model)
        if "constraints" in field.metadata or "invalid" in field.metadata
    )


def _value_problem(field: attrs.Attribute[Any], kind: object, value: object) -> str | None:
    """What is wrong with ``value`` for ``field`` beside its JSON type, or ``None``."""
    constraints: Mapping[str, Any] = field.metadata.get("constraints", {})
    if isinstance(value, str):
        pattern = constraints.get("pattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            expected = field.metadata.get("expected")
            return f"does not match {pattern}" if expected is None else f"is not {expected}"
        if date in {kind, *typing.get_args(kind)} and not _is_date(value):
            return "is not a date (YYYY-MM-DD)"
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in constraints and value < constraints["minimum"]:
            return f"is less than {constraints['minimum']}"
        if "maximum" in constraints and value > constraints["maximum"]:
            return f"is more than {constraints['maximum']}"
    return None


def _is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date written ``YYYY-MM-DD``."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is None:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@cache
def _query_types(model: type) -> dict[str, object]:
    """The field types of a query (or body) model, resolved once."""
    hints = typing.get_type_hints(model)
    return {field.name: hints[field.name] for field in attrs.fields(model)}


def _query_value(text: str, kind: object) -> object:
    """A query string value in the JSON type its field takes (``limit=5`` → 5, ``staff=true`` → True)."""
    if kind is int:
        try:
            return int(text)
        except ValueError:
            return text  # structuring names the field and the type
    if kind is bool:
        return {"true": True, "false": False}.get(text, text)  # anything else: structuring refuses it
    return text


# -- answers ---------------------------------------------------------------------------------------------


def _encode(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _stored_quote_answer(facade: TradeIn, quote_id: str) -> _Answer:
    """``GET /v1/quotes/{quote_id}``: the quote's document as the store keeps it, and its redemption.

    The same JSON as :meth:`TradeIn.get_quote`'s result unstructured (a :class:`StoredQuote`), without
    reading the document into a quote and writing it out again: the store keeps exactly the quote's JSON
    form (:meth:`Quote.to_json`), so its text is spliced into the answer as it is. The read is the facade's,
    in the key's scope (another tenant's quote is not found, 404).

    Raises:
        QuoteNotFoundError: no quote has that id in the key's scope.
        StoreError: the database failed.
    """
    in_scope = {} if facade.scope is None else {"scope": facade.scope}
    record, redemption = facade._store.get_quote(quote_id, **in_scope)  # noqa: SLF001 - the facade's read, verbatim
    redeemed = _encode(json_converter().unstructure(redemption))
    body = b'{"quote":' + record.document.encode() + b',"redemption":' + redeemed + b"}"
    return _Answer(status=200, body=body)


def _json_safe(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return str(value)


def _name_request_values(error: TradeInError, operation: Operation) -> None:
    """Give an error the problems of the request values its parameters name (``operation.param_paths``).

    An unknown plan (``plan``) is then a problem at ``$.plan_id``; an error that names its problems itself
    keeps them.
    """
    if getattr(error, "problems", None):
        return
    problems = tuple(
        DocumentProblem(path=path, message=str(error))
        for param, path in operation.param_paths
        if param in error.params
    )
    if problems:
        error.__dict__["problems"] = problems


def _error_answer(error: TradeInError, request_id: str | None = None) -> _Answer:
    problems = []
    for problem in getattr(error, "problems", ()) or ():
        item: dict[str, object] = {
            "path": getattr(problem, "path", "$"),
            "message": getattr(problem, "message", str(problem)),
        }
        for name in ("code", "message_id", "column", "value"):
            if isinstance(getattr(problem, name, None), str):
                item[name] = getattr(problem, name)
        if isinstance(getattr(problem, "row", None), int):  # a row of an asset list (row and column)
            item["row"] = problem.row
            item["path"] = f"$.assets[row {problem.row}][{problem.column}]"
        params = getattr(problem, "params", None)
        if isinstance(params, Mapping):
            item["params"] = {key: _json_safe(value) for key, value in params.items()}
        problems.append(item)
    return _problem(
        status_for(error),
        error.code,
        str(error),
        problems=problems,
        message_id=error.message_id,
        params={key: _json_safe(value) for key, value in error.params.items()},
        request_id=request_id,
    )


def _problem(
    status: int,
    code: str,
    detail: str,
    *,
    problems: Iterable[Mapping[str, object]] = (),
    headers: Iterable[tuple[str, str]] = (),
    message_id: str | None = None,
    params: Mapping[str, object] | None = None,
    request_id: str | None = None,
) -> _Answer:
    document: dict[str, object] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if message_id is not None:
        document["message_id"] = message_id
        document["params"] = dict(params or {})
    listed = list(problems)
    if listed:
        document["problems"] = listed
    if request_id is not None:
        document["request_id"] = request_id
    return _Answer(
        status=status, body=_encode(document), content_type=PROBLEM_CONTENT_TYPE, headers=tuple(headers)
    )


def _not_ready(detail: str, params: Mapping[str, object]) -> _RequestError:
    escaped = detail.replace("{", "{{").replace("}", "}}")
    return _RequestError(503, "not_ready", detail, message_id=escaped, params=params)


@attrs.define
class _RequestContext:
    """What the service learnt of a request while answering it (for its log line and metrics)."""

    operation: str | None = None


def _request_id(given: object) -> str:
    """The caller's ``X-Request-Id`` when it is 1 to 128 of ``A-Z a-z 0-9 . _ : -``, else a new one."""
    if isinstance(given, str) and _REQUEST_ID.fullmatch(given):
        return given
    return f"req_{uuid.uuid4().hex}"


def _printable(text: str) -> str:
    """``text`` fit for one log line (no control characters, at most 200 characters)."""
    return "".join(char if char.isprintable() else "?" for char in text[:200])


# -- metrics ---------------------------------------------------------------------------------------------


class _Metrics:
    """The service's Prometheus metrics, in a registry of its own (several services never mix).

    Under several worker processes (``tradein serve`` on gunicorn) ``$PROMETHEUS_MULTIPROC_DIR`` is set
    and the exposition sums every worker's counters.
    """

    def __init__(self, trade_in: TradeIn) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram  # noqa: PLC0415 - with the service

        self._registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "tradein_http_requests",
            "HTTP requests answered, by operation and status",
            ["operation", "status"],
            registry=self._registry,
        )
        self._latency = Histogram(
            "tradein_http_request_duration_seconds",
            "Time to answer an HTTP request, by operation",
            ["operation"],
            registry=self._registry,
        )
        self._outbox = _OutboxCollector(trade_in)
        self._registry.register(self._outbox)

    def observe(self, operation: str, status: int, seconds: float) -> None:
        self._requests.labels(operation=operation, status=str(status)).inc()
        self._latency.labels(operation=operation).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in the Prometheus text format, and its media type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: PLC0415 - with the first scrape

        registry: CollectorRegistry = self._registry
        if os.environ.get(MULTIPROCESS_ENV):
            from prometheus_client import CollectorRegistry  # noqa: PLC0415 - with the first scrape
            from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call] # prometheus-client leaves it unannotated
            registry.register(self._outbox)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _OutboxCollector:
    """Outbox depth, the age of its oldest pending row and the deliveries given up, read at each scrape.

    Needs a store with ``outbox_counts()``; a store without it adds no outbox metrics.
    """

    def __init__(self, trade_in: TradeIn) -> None:
        self._trade_in = trade_in

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily  # noqa: PLC0415

        counts_of = getattr(self._trade_in.store, "outbox_counts", None)
        if counts_of is None:
            return
        try:
            counts = counts_of()
        except StoreError:
            _logger.warning("metrics: the webhook outbox cannot be read", exc_info=True)
            return
        yield GaugeMetricFamily(
            "tradein_webhook_outbox_pending", "Webhooks waiting to be delivered", value=counts.pending
        )
        oldest = counts.oldest_pending_at
        age = 0.0 if oldest is None else max(0.0, (self._trade_in.clock.now() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "tradein_webhook_outbox_oldest_pending_age_seconds",
            "Age of the oldest webhook waiting to be delivered (0: none waits)",
            value=age,
        )
        yield CounterMetricFamily(
            "tradein_webhook_deliveries_failed",
            "Webhooks given up (dead letters) since the outbox began",
            value=counts.dead,
        )


# -- logging ---------------------------------------------------------------------------------------------


class _JsonFormatter(logging.Formatter):
    """One JSON object per log record, with the request's fields when it has them."""

    _FIELDS: Final = ("request_id", "method", "operation", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self._FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(environ: Mapping[str, str] | None = None, *, level: int = logging.INFO) -> None:
    """Log to standard error: one JSON object a line when ``$TRADEIN_LOG_FORMAT`` is ``json``, else text.

    Every answered request logs one line on ``tradein_sdk.service.access`` with its method, operation,
    status, duration (ms) and request id.
    """
    env = os.environ if environ is None else environ
    handler = logging.StreamHandler()
    if env.get(LOG_FORMAT_ENV, "").lower() == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# -- configuration and serving ---------------------------------------------------------------------------


def create_service(
    trade_in: TradeIn | None = None,
    *,
    api_keys: ApiKeys | Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> TradeInService:
    """The service on the embedded defaults, configured from the environment (for a WSGI server).

    Args:
        trade_in: the facade (default: :meth:`TradeIn.embedded`: ``$TRADEIN_DATA_DIR``,
            ``$TRADEIN_DATABASE_URL``, webhooks to ``$TRADEIN_WEBHOOK_URLS``).
        api_keys: keys besides those kept in the store (default: ``$TRADEIN_API_KEYS``, ``name=key`` pairs
            separated by commas, a name being ``tenant[@organisation][:role]``).
            A provider's webhook secrets come from ``$TRADEIN_PROVIDER_WEBHOOK_SECRETS`` (``whsec_``
            secrets separated by spaces).
        environ: the environment to read (default: ``os.environ``). Also read: ``$TRADEIN_MARKET`` (the
            default market of the embedded facade), ``$TRADEIN_MAX_BODY_BYTES`` (the body limit, 1 MiB
            by default) and ``$TRADEIN_METRICS_KEY`` (the key ``/metrics`` then needs).

    Raises:
        ConfigurationError: no API key is configured or kept in the store, a key is unusable, or the body
            limit is not a positive number.
    """
    env = os.environ if environ is None else environ
    if trade_in is None:
        trade_in = TradeIn.embedded(
            webhook_endpoints=webhook_endpoints_from(env), market=env.get(MARKET_ENV) or "DE"
        )
    if api_keys is None:
        api_keys = ApiKeys.parse(env.get(API_KEYS_ENV, ""))
        if not len(api_keys) and not _has_stored_keys(trade_in):
            raise ConfigurationError(
                "no API key: create one with tradein keys create, or set {variable} to name=key pairs "
                "(keys of at least 16 characters)",
                variable=API_KEYS_ENV,
            )
    limit = env.get(MAX_BODY_ENV, "").strip() or str(MAX_BODY_BYTES)
    if not limit.isdigit():
        raise ConfigurationError("{variable} must be a number of bytes", variable=MAX_BODY_ENV)
    provider = env.get(PROVIDER_SECRETS_ENV, "").split()
    return TradeInService(
        trade_in,
        api_keys=api_keys,
        provider_secrets=WebhookSecrets.parse(*provider) if provider else None,
        max_body_bytes=int(limit),
        metrics_key=env.get(METRICS_KEY_ENV) or None,
    )


def _has_stored_keys(trade_in: TradeIn) -> bool:
    """Whether the facade's store keeps an active API key."""
    if not isinstance(trade_in._store, Tenancy):  # noqa: SLF001 - the facade's own store
        return False
    now = trade_in.clock.now()
    return any(record.active(now) for record in trade_in.api_keys())


def create_server_application() -> TradeInService:
    """The service of one gunicorn worker (``tradein serve``): logging set up, then :func:`create_service`."""
    configure_logging()
    return create_service()


def webhook_endpoints_from(environ: Mapping[str, str]) -> tuple[WebhookEndpoint, ...]:
    """The endpoints of ``$TRADEIN_WEBHOOK_URLS`` (space-separated), signed with ``$TRADEIN_WEBHOOK_SECRETS``.

    Raises:
        ConfigurationError: URLs are set but no secrets, or a URL is not http(s).
    """
    urls = environ.get(WEBHOOK_URLS_ENV, "").split()
    if not urls:
        return ()

    secrets = WebhookSecrets.from_environment(environ)
    return tuple(WebhookEndpoint(url=url, secrets=secrets) for url in urls)


class _BodyReader:
    """``wsgi.input``: at most Content-Length bytes of the connection."""

    def __init__(self, stream: Any, length: int) -> None:  # noqa: ANN401 - a buffered socket file
        self._stream = stream
        self._left = length

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size) if size else b""
        self._left -= len(data)
        return bytes(data)

    def readline(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.readline(size) if size else b""
        self._left -= len(data)
        return bytes(data)

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if 0 < hint <= sum(map(len, lines)):
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readlines())

    def drain(self) -> bool:
        """Read what the application left unread; ``False`` when that is too much to bother."""
        if self._left > MAX_BODY_BYTES:
            return False
        while self._left and self.read(65536):
            pass
        return not self._left


def _read_chunked(stream: Any, limit: int) -> tuple[bytes, bool]:  # noqa: ANN401 - a buffered socket file
    """Decode a chunked body (RFC 9112 §7.1): at most ``limit`` + 1 bytes, and whether it ended cleanly.

    A body over the limit, or a malformed one, is cut short (the application refuses it) and the
    connection is not reused.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        line = stream.readline(1024)
        text = line.split(b";", 1)[0].strip()
        try:
            length = int(text, 16)
        except ValueError:
            return b"".join(chunks), False
        if length == 0:
            while stream.readline(1024) not in {b"\r\n", b"\n", b""}:  # trailers
                pass
            return b"".join(chunks), True
        if size + length > limit:
            chunks.append(stream.read(limit + 1 - size))
            return b"".join(chunks), False
        chunks.append(stream.read(length))
        size += length
        stream.readline(3)  # the CRLF after the chunk


class _KeepAliveHandler(ServerHandler):
    http_version = "1.1"


class _RequestHandler(WSGIRequestHandler):
    """wsgiref's handler, answering HTTP/1.1 and keeping the connection open between requests."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK wait

    def handle(self) -> None:
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        body: _BodyReader | io.BytesIO
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            decoded, complete = _read_chunked(self.rfile, MAX_BODY_BYTES)
            body = io.BytesIO(decoded)
            environ["wsgi.input_terminated"] = True
            environ.pop("CONTENT_LENGTH", None)
            self.close_connection = self.close_connection or not complete
        else:
            try:
                length = max(0, int(self.headers.get("Content-Length") or 0))
            except ValueError:
                length = 0
                self.close_connection = True
            body = _BodyReader(self.rfile, length)
        output = cast("IO[bytes]", self.wfile)
        handler = _KeepAliveHandler(body, output, self.get_stderr(), environ, multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if isinstance(body, _BodyReader) and not body.drain():  # a body left unread: the connection is spent
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        _logger.info("%s %s", self.address_string(), format % args)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: many terminals connect at once


def make_server(app: Callable[..., Any], host: str, port: int) -> WSGIServer:
    """A threaded HTTP/1.1 server with keep-alive for ``app`` (port 0: any free port)."""
    from wsgiref.simple_server import make_server as wsgiref_server  # noqa: PLC0415

    return wsgiref_server(host, port, app, server_class=_ThreadingServer, handler_class=_RequestHandler)


def serve(
    service: TradeInService,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    ready: Callable[[int], None] | None = None,
) -> None:
    """Serve until interrupted (``tradein serve``).

    Args:
        service: the application.
        host: the address to listen on.
        port: the port (0: any free port).
        ready: called with the port once the server listens.
    """
    stop = threading.Event()
    if service.trade_in.webhook_endpoints:
        threading.Thread(target=_deliver_webhooks, args=(service.trade_in, stop), daemon=True).start()
    try:
        with make_server(service, host, port) as server:
            _logger.info("trade-in service on http://%s:%d", host, server.server_port)
            if ready is not None:
                ready(server.server_port)
            server.serve_forever()
    finally:
        stop.set()


def _deliver_webhooks(trade_in: TradeIn, stop: threading.Event) -> None:
    """Send due webhooks every second until ``stop`` is set (a failed pass is logged and retried)."""
    while not stop.wait(WEBHOOK_INTERVAL):
        try:
            trade_in.deliver_webhooks()
        except Exception:  # the loop must outlive a database hiccup; the rows stay due
            _logger.exception("delivering webhooks failed; retrying in %s s", WEBHOOK_INTERVAL)
