"""The trade-in service: the facade's use cases over HTTP, as a WSGI application.

One central service answers many shop or store systems (carrier terminals) with the same engine and store
as the embedded facade. Run it with ``tradein serve`` (a small threaded server with keep-alive, for
development and modest load) or under any WSGI server::

    gunicorn --workers 4 --threads 8 'tradein_sdk:create_service()'

What every request gets:

* **API keys**: ``Authorization: Bearer <key>``; each key names its client. Keys are compared by their
  SHA-256 digest, so the table of keys holds no key itself. ``GET /v1/openapi.json`` needs no key.
* **Problem documents**: every error is ``application/problem+json`` with the library's error ``code``
  (see :mod:`.api`); an unexpected failure is a 500 ``internal_error`` that names the request
  id and nothing else.
* **Idempotency**: a POST with an ``Idempotency-Key`` header is done once per client and key. Its answer
  is kept in the store for at least ``idempotency_ttl`` (24 hours by default) and sent again, byte for
  byte, to every repeat, with ``Idempotent-Replayed: true``; the same key with another method, path or
  body is refused (422 ``idempotency_key_reused``), and a repeat while the first is still running gets 409
  ``idempotency_key_in_use`` (clients retry it). Answers a retry could change (408, 409, 429, 5xx) are not
  kept, so a retry runs the request again.
* ``X-Request-Id`` on every answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socketserver
import threading
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
from tradein_sdk._domain.webhooks import WebhookSecrets
from tradein_sdk._errors import ConfigurationError, TradeInError
from tradein_sdk._ports import IdempotencyKeys, StoredResponse
from tradein_sdk._remote.api import (
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

    from tradein_sdk._domain.clock import Clock

__all__ = [
    "API_KEYS_ENV",
    "WEBHOOK_URLS_ENV",
    "ApiKeys",
    "TradeInService",
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
OPENAPI_PATH: Final = "/v1/openapi.json"
PROVIDER_EVENTS_PATH: Final = "/v1/provider/events"
PROVIDER_SECRETS_ENV: Final = "TRADEIN_PROVIDER_WEBHOOK_SECRETS"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_JSON: Final = "application/json"
_CSV: Final = "text/csv; charset=utf-8"
_FORMATS: Final = {"json": _JSON, "csv": _CSV}
_MIN_KEY_LENGTH: Final = 16

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


@attrs.frozen
class ApiKeys:
    """The API keys the service accepts, each naming its client; only their SHA-256 digests are held.

    >>> keys = ApiKeys.parse("store-berlin=k3y-for-berlin-0001,store-paris=k3y-for-paris-00002")
    >>> keys.client_for("k3y-for-paris-00002")
    'store-paris'
    """

    _clients: Mapping[str, str] = attrs.field(alias="clients")

    @classmethod
    def of(cls, keys: Mapping[str, str]) -> ApiKeys:
        """Build the table from ``{client name: key}``.

        Raises:
            ConfigurationError: a key is shorter than 16 characters or not printable ASCII, a client name
                is empty, or two clients share a key.
        """
        clients: dict[str, str] = {}
        for client, key in keys.items():
            if not client or not client.isascii() or not client.isprintable():
                raise ConfigurationError(
                    "an API client needs a printable name, not {client!r}", client=client
                )
            if len(key) < _MIN_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
                raise ConfigurationError(
                    "the API key of {client} must be at least {length} printable ASCII characters",
                    client=client,
                    length=_MIN_KEY_LENGTH,
                )
            if clients.setdefault(_digest(key), client) != client:
                raise ConfigurationError("two API clients share one key ({client})", client=client)
        return cls(clients)

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

    def client_for(self, key: str) -> str | None:
        """The client a key belongs to, or ``None``."""
        return self._clients.get(_digest(key))

    def __len__(self) -> int:
        """How many keys there are."""
        return len(self._clients)


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
        api_keys: ApiKeys | Mapping[str, str],
        clock: Clock | None = None,
        idempotency_ttl: timedelta = timedelta(hours=24),
        idempotency_lock: timedelta = timedelta(seconds=60),
        provider_secrets: WebhookSecrets | None = None,
        idempotency_keys: IdempotencyKeys | None = None,
    ) -> None:
        """Serve ``trade_in``'s use cases.

        Args:
            trade_in: the engine and store every request uses.
            api_keys: the keys accepted (``{client: key}`` or :class:`ApiKeys`); at least one.
            clock: where "now" comes from for idempotency records (default: the facade's clock).
            idempotency_ttl: how long an idempotency key's answer is kept (at least 24 hours).
            idempotency_lock: how long a request holds its key before another may take it over (a
                request whose process died).
            provider_secrets: the secrets a refurbishment provider signs its webhooks with; when given,
                ``POST /v1/provider/events`` turns them into order transitions (:class:`ProviderEvents`).
            idempotency_keys: where idempotency keys and their answers are kept (default: the facade's
                store, which must keep every concern: the service serves every use case).

        Raises:
            ConfigurationError: no key is given, a key is unusable, or the TTL is under 24 hours.
        """
        keys = api_keys if isinstance(api_keys, ApiKeys) else ApiKeys.of(api_keys)
        if not len(keys):
            raise ConfigurationError("the trade-in service needs at least one API key")
        if idempotency_ttl < timedelta(hours=24):
            raise ConfigurationError("idempotency keys are kept for at least 24 hours")
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
        request_id = f"req_{uuid.uuid4().hex}"
        try:
            answer = self._answer(environ)
        except _RequestError as exc:
            answer = _problem(
                exc.status,
                exc.code,
                exc.detail,
                problems=exc.problems,
                headers=exc.headers,
                message_id=exc.message_id,
                params=exc.params,
            )
        except TradeInError as exc:
            answer = _error_answer(exc)
        except Exception:  # the service must answer; the details stay in the log
            _logger.exception("request %s failed", request_id)
            answer = _problem(500, "internal_error", f"the service failed; request id {request_id}")
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            (REQUEST_ID_HEADER, request_id),
            *answer.headers,
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [answer.body]

    def _answer(self, environ: Environ) -> _Answer:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        if path == OPENAPI_PATH and method in {"GET", "HEAD"}:
            return _Answer(status=200, body=self._openapi_document())
        if path == PROVIDER_EVENTS_PATH and self._provider is not None:
            if method != "POST":
                raise _method_not_allowed(path, ["POST"])
            return self._provider_event(environ)
        operation, parameters = self._route(method, path)
        client = self._authenticate(environ)
        if operation.method == "GET":
            pairs, media = _representation(operation, environ.get("QUERY_STRING", ""))
            arguments = {**parameters, **_query_arguments(operation, pairs)}
            return self._run(operation, arguments, media)
        body = _read_body(environ)
        arguments = {**parameters, **_body_arguments(operation, body)}
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if key is None:
            return self._run(operation, arguments)
        return self._run_once(client, key, method, path, body, operation, arguments)

    def _provider_event(self, environ: Environ) -> _Answer:
        """A provider's webhook: authenticated by its signature, not by an API key."""
        assert self._provider is not None  # noqa: S101 - the caller checked
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        outcome = self._provider.handle(headers, _read_raw(environ))
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

    def _authenticate(self, environ: Environ) -> str:
        scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        client = self._keys.client_for(key.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            error = _RequestError(401, "unauthenticated", "send a valid API key: Authorization: Bearer <key>")
            error.headers.append(("WWW-Authenticate", 'Bearer realm="tradein"'))
            raise error
        return client

    def _run(self, operation: Operation, arguments: dict[str, Any], media: str = _JSON) -> _Answer:
        result = getattr(self.trade_in, operation.id)(**arguments)
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
        arguments: dict[str, Any],
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
            answer = self._run(operation, arguments)
        except TradeInError as exc:
            answer = _error_answer(exc)
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


def _read_raw(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _RequestError(400, "request_malformed", "Content-Length is not a number") from None
    if length > MAX_BODY_BYTES:
        raise _RequestError(413, "request_too_large", f"a request body is at most {MAX_BODY_BYTES} bytes")
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def _read_body(environ: Environ) -> object:
    raw = _read_raw(environ)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _RequestError(400, "request_malformed", f"the body is not a JSON document: {exc}") from exc


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a member name appears twice in an object")
    return result


def _structured(model: type, data: object, root: str) -> Any:  # noqa: ANN401 - an instance of model

    if not isinstance(data, dict):
        raise _RequestError(
            400, "request_invalid", f"{root} must be a JSON object", problems=[{"path": root}]
        )
    try:
        return json_converter().structure(data, model)
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
        return {"true": True, "false": False}.get(text, text)
    return text


# -- answers ---------------------------------------------------------------------------------------------


def _encode(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _json_safe(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return str(value)


def _error_answer(error: TradeInError) -> _Answer:
    problems = []
    for problem in getattr(error, "problems", ()) or ():
        item: dict[str, object] = {
            "path": getattr(problem, "path", "$"),
            "message": getattr(problem, "message", str(problem)),
        }
        for name in ("code", "message_id"):
            if isinstance(getattr(problem, name, None), str):
                item[name] = getattr(problem, name)
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
    return _Answer(
        status=status, body=_encode(document), content_type=PROBLEM_CONTENT_TYPE, headers=tuple(headers)
    )


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
        api_keys: the keys (default: ``$TRADEIN_API_KEYS``, ``client=key`` pairs separated by commas).
            A provider's webhook secrets come from ``$TRADEIN_PROVIDER_WEBHOOK_SECRETS`` (``whsec_``
            secrets separated by spaces).
        environ: the environment to read (default: ``os.environ``).

    Raises:
        ConfigurationError: no API key is configured, or a key is unusable.
    """
    env = os.environ if environ is None else environ
    if trade_in is None:
        trade_in = TradeIn.embedded(webhook_endpoints=webhook_endpoints_from(env))
    if api_keys is None:
        text = env.get(API_KEYS_ENV, "")
        if not text.strip():
            raise ConfigurationError(
                "set {variable} to client=key pairs (keys of at least 16 characters)", variable=API_KEYS_ENV
            )
        api_keys = ApiKeys.parse(text)
    provider = env.get(PROVIDER_SECRETS_ENV, "").split()
    if provider:
        return TradeInService(trade_in, api_keys=api_keys, provider_secrets=WebhookSecrets.parse(*provider))
    return TradeInService(trade_in, api_keys=api_keys)


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
        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            length = 0
            self.close_connection = True
        body = _BodyReader(self.rfile, length)
        output = cast("IO[bytes]", self.wfile)
        handler = _KeepAliveHandler(body, output, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if not body.drain():  # a body left unread (refused early): the connection cannot be reused
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
