"""Signed webhooks in the Standard Webhooks style: sign, verify, deliver with retries, deduplicate.

The trade-in service tells a shop what happened to a device (received, inspected, offer revised, erased,
paid, returned) by POSTing a webhook. This module is both ends of that conversation and the database
table that makes a repeated delivery harmless.

**On the wire** (https://www.standardwebhooks.com, ``v1`` symmetric signatures)::

    POST <endpoint>
    content-type: application/json
    webhook-id: msg_2Lq0x4mV8c1J5YQeHnq3sA
    webhook-timestamp: 1795521600
    webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,3V0N9m...=

    {"type":"device.received","timestamp":"2026-11-24T12:00:00.000000Z","data":{"order_id":"ord_1"}}

* ``webhook-id`` identifies the event: 1-255 characters of ``A-Z a-z 0-9 _ -``; the same on every retry,
  so receivers deduplicate on it.
* ``webhook-timestamp`` is the time of *this attempt*, in Unix seconds (digits, no leading zero).
* ``webhook-signature`` is one or more space-separated ``<version>,<base64>`` entries. Each ``v1`` entry is
  the standard base64 of HMAC-SHA256(secret, ``<id>.<timestamp>.<body>``) over the body bytes exactly as
  sent; there is one per secret while secrets rotate. Entries of other versions (``v1a``) are ignored.
* The body is the JSON object ``{"type", "timestamp", "data"}``: the event type (``device.received``),
  when the event happened (ISO 8601 with an offset) and a JSON object of details.

Secrets are written ``whsec_<base64>`` (24 to 64 random bytes). A :class:`WebhookSecrets` holds one or
more: the sender signs with every one of them, the receiver accepts a signature from any one of them. To
rotate, give both ends the old and the new secret, then remove the old one.

**Verifying** (:func:`verify`) runs in this order and raises a :class:`WebhookVerificationError`::

    a header absent or empty                       WebhookHeaderMissingError    webhook_header_missing
    a header not of its format, or given twice     WebhookHeaderMalformedError  webhook_header_malformed
    no v1 signature matches any held secret        WebhookSignatureError        webhook_signature_invalid
    webhook-timestamp > tolerance before now       WebhookTimestampTooOldError  webhook_timestamp_too_old
    webhook-timestamp > tolerance after now        WebhookTimestampTooNewError  webhook_timestamp_too_new
    the signed body is not an event's JSON         WebhookPayloadError          webhook_payload_invalid

Signatures are compared in constant time (:func:`hmac.compare_digest`) against the base64 text, so an
encoding that differs only in spare bits is refused too. The body is read only after its signature
matched. A verified delivery can still arrive twice (a retry after a lost answer) or out of order.

**Delivering** (:class:`WebhookSender`): each attempt is signed afresh at the attempt's time with the same
id and body; 2xx is success; connection errors (any :class:`httpx.RequestError`), 408, 429 and 5xx are
retried on a :class:`RetrySchedule` (by default the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h,
5 h, 10 h, 14 h, 20 h, 24 h, each ±10 % jitter, about 75.5 h in all), waiting at least a ``Retry-After``
the receiver sends, up to a cap; 410 means the endpoint is gone; other answers are not retried.

**Deduplicating**: :func:`migration_webhooks` creates ``tradein_webhook_receipts`` (event id as primary
key). :func:`record_receipt` inserts the event's id inside the caller's transaction with ``INSERT ... ON
CONFLICT DO NOTHING`` and says whether this was the first time; the handler applies the event's state
change in the same transaction only then. Concurrent deliveries of one id wait for each other in the
database, so exactly one of them applies it, on SQLite and on PostgreSQL. Keep receipts for longer than
the sender's retry horizon (:attr:`RetrySchedule.horizon`) before :func:`purge_receipts`.

Errors::

    TradeInError
    └── WebhookError                            webhook_error
        ├── WebhookVerificationError            webhook_invalid
        │   ├── WebhookHeaderMissingError       webhook_header_missing     (.header)
        │   ├── WebhookHeaderMalformedError     webhook_header_malformed   (.header)
        │   ├── WebhookSignatureError           webhook_signature_invalid
        │   ├── WebhookTimestampError           webhook_timestamp_out_of_tolerance
        │   │   ├── WebhookTimestampTooOldError webhook_timestamp_too_old
        │   │   └── WebhookTimestampTooNewError webhook_timestamp_too_new
        │   └── WebhookPayloadError             webhook_payload_invalid    (.path)
        └── WebhookDeliveryError                webhook_delivery_failed    (.delivery; retries used up)
            └── WebhookRejectedError            webhook_rejected           (.status_code; not retried)
                └── WebhookEndpointGoneError    webhook_endpoint_gone      (410: disable the endpoint)
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from random import Random, SystemRandom
from secrets import token_bytes, token_urlsafe
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self

import attrs

from tradein_sdk._domain.clock import Clock, SystemClock, as_utc
from tradein_sdk._errors import ConfigurationError, StoreError, TradeInError

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Connection, Table

__all__ = [
    "DEFAULT_TOLERANCE",
    "ENVIRONMENT_VARIABLE",
    "SECRET_PREFIX",
    "STANDARD_RETRY_DELAYS",
    "WEBHOOK_ID_HEADER",
    "WEBHOOK_RECEIPTS_TABLE",
    "WEBHOOK_SIGNATURE_HEADER",
    "WEBHOOK_TIMESTAMP_HEADER",
    "AttemptOutcome",
    "DeliveryAttempt",
    "RetrySchedule",
    "WebhookDelivery",
    "WebhookDeliveryError",
    "WebhookEndpointGoneError",
    "WebhookError",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookHeaderMalformedError",
    "WebhookHeaderMissingError",
    "WebhookPayloadError",
    "WebhookRejectedError",
    "WebhookSecrets",
    "WebhookSender",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookTimestampTooNewError",
    "WebhookTimestampTooOldError",
    "WebhookVerificationError",
    "delivery_attempts",
    "migration_webhooks",
    "new_webhook_id",
    "purge_receipts",
    "record_receipt",
    "sign",
    "verify",
]

WEBHOOK_ID_HEADER: Final = "webhook-id"
"""The header carrying the event id, the same on every attempt."""
WEBHOOK_TIMESTAMP_HEADER: Final = "webhook-timestamp"
"""The header carrying the attempt's time in Unix seconds."""
WEBHOOK_SIGNATURE_HEADER: Final = "webhook-signature"
"""The header carrying the space-separated ``v1,<base64>`` signatures."""
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format's prefix, not a secret
"""The prefix of a secret's text: ``whsec_<base64>``."""
DEFAULT_TOLERANCE: Final = timedelta(seconds=300)
"""How far a ``webhook-timestamp`` may lie before or after now: five minutes either way."""
ENVIRONMENT_VARIABLE: Final = "TRADEIN_WEBHOOK_SECRETS"
"""Where :meth:`WebhookSecrets.from_environment` reads space-separated ``whsec_`` secrets."""
WEBHOOK_RECEIPTS_TABLE: Final = "tradein_webhook_receipts"
"""The table of received event ids."""
STANDARD_RETRY_DELAYS: Final = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
"""The Standard Webhooks example schedule: the waits before the 2nd to the 10th attempt (75 h 35 min 5 s)."""

_MIN_SECRET_BYTES = 24
_MAX_SECRET_BYTES = 64
_GENERATED_SECRET_BYTES = 32
_MAX_SIGNATURE_HEADER = 4096
_MAX_SIGNATURES = 32
_MAX_TYPE_LENGTH = 200
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")
_SIGNATURE_ENTRY = re.compile(r"(v[0-9]+[a-z]*),([A-Za-z0-9+/=_-]+)")
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")
_DELTA_SECONDS = re.compile(r"[0-9]{1,10}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEADERS = (WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER)


# -- errors ----------------------------------------------------------------------------------------------


class WebhookError(TradeInError):
    """A webhook could not be verified or delivered."""

    code = "webhook_error"


class WebhookVerificationError(WebhookError):
    """A received webhook is not authentic, not timely or not an event; it must not be acted on."""

    code = "webhook_invalid"


class WebhookHeaderMissingError(WebhookVerificationError):
    """A Standard Webhooks header is absent or empty.

    Attributes:
        header: the header's name, in lower case.
    """

    code = "webhook_header_missing"

    def __init__(self, header: str) -> None:
        """Create the error naming the header."""
        super().__init__("the {header} header is missing", header=header)
        self.header = header


class WebhookHeaderMalformedError(WebhookVerificationError):
    """A Standard Webhooks header is not of its format, or is given twice (the value is never repeated).

    Attributes:
        header: the header's name, in lower case.
    """

    code = "webhook_header_malformed"

    def __init__(self, header: str, problem: str) -> None:
        """Create the error naming the header and what is wrong with it."""
        super().__init__("the {header} header is malformed: {problem}", header=header, problem=problem)
        self.header = header


class WebhookSignatureError(WebhookVerificationError):
    """No ``v1`` signature matches: the id, timestamp or body was altered, or another secret signed it."""

    code = "webhook_signature_invalid"


class WebhookTimestampError(WebhookVerificationError):
    """The signed ``webhook-timestamp`` lies outside the tolerance around now (a replay, or a clock off).

    Attributes:
        timestamp: the header's Unix seconds.
        now: the receiver's time.
    """

    code = "webhook_timestamp_out_of_tolerance"

    def __init__(self, message_id: str, /, *, timestamp: int, now: datetime, tolerance: timedelta) -> None:
        """Create the error naming both times and the tolerance."""
        super().__init__(
            message_id, timestamp=timestamp, now=now.isoformat(), seconds=int(tolerance.total_seconds())
        )
        self.timestamp = timestamp
        self.now = now


class WebhookTimestampTooOldError(WebhookTimestampError):
    """The ``webhook-timestamp`` is more than the tolerance before now."""

    code = "webhook_timestamp_too_old"


class WebhookTimestampTooNewError(WebhookTimestampError):
    """The ``webhook-timestamp`` is more than the tolerance after now."""

    code = "webhook_timestamp_too_new"


class WebhookPayloadError(WebhookVerificationError):
    """The body is authentic but is not the JSON of an event (``{"type", "timestamp", "data"}``).

    Attributes:
        path: where, as a JSON path: ``$`` (the whole body), ``$.type``, ``$.timestamp``, ``$.data``.
    """

    code = "webhook_payload_invalid"

    def __init__(self, path: str, problem: str) -> None:
        """Create the error naming the path and the problem."""
        super().__init__("the webhook body is not an event: {path}: {problem}", path=path, problem=problem)
        self.path = path


class WebhookDeliveryError(WebhookError):
    """Every attempt to deliver the webhook failed; the schedule is used up.

    Attributes:
        delivery: every attempt made, with its outcome.
    """

    code = "webhook_delivery_failed"

    def __init__(self, delivery: WebhookDelivery) -> None:
        """Create the error from the attempts made."""
        last = delivery.attempts[-1]
        super().__init__(
            "webhook {event_id} was not delivered to {host} in {count} attempts; the last: {last}",
            event_id=delivery.event_id,
            host=_host(delivery.url),
            count=len(delivery.attempts),
            last=last.summary(),
        )
        self.delivery = delivery


class WebhookRejectedError(WebhookDeliveryError):
    """The receiver answered with a status that retrying will not change (a 4xx other than 408 or 429).

    Attributes:
        status_code: the receiver's answer.
    """

    code = "webhook_rejected"

    def __init__(self, delivery: WebhookDelivery) -> None:
        """Create the error from the attempts made."""
        super().__init__(delivery)
        self.status_code = delivery.attempts[-1].status_code


class WebhookEndpointGoneError(WebhookRejectedError):
    """The receiver answered ``410 Gone``: stop sending to this endpoint."""

    code = "webhook_endpoint_gone"


# -- events ----------------------------------------------------------------------------------------------


class WebhookEventType(StrEnum):
    """The event types the trade-in service sends; a receiver may also get types added later."""

    DEVICE_RECEIVED = "device.received"
    DEVICE_INSPECTED = "device.inspected"
    OFFER_REVISED = "offer.revised"
    DEVICE_ERASED = "device.erased"
    DEVICE_PAID = "device.paid"
    DEVICE_RETURNED = "device.returned"


def new_webhook_id() -> str:
    """Return a fresh event id: ``msg_`` and 128 random bits in base64url.

    Returns:
        The id, for example ``msg_2Lq0x4mV8c1J5YQeHnq3sA``.
    """
    return "msg_" + token_urlsafe(16)


def _check_webhook_id(_instance: object, _attribute: object, webhook_id: str) -> None:
    value: object = webhook_id  # checked at run time too: ids come from headers and callers
    if not isinstance(value, str) or not _WEBHOOK_ID.fullmatch(value):
        raise ValueError("a webhook id is 1-255 characters of A-Z a-z 0-9 _ -")


def _check_event_type(_instance: object, _attribute: object, event_type: str) -> None:
    value: object = event_type
    if not isinstance(value, str) or len(value) > _MAX_TYPE_LENGTH or not _EVENT_TYPE.fullmatch(value):
        raise ValueError(
            "an event type is 1-200 characters: dot-separated words of A-Z a-z 0-9 _ - (device.received)"
        )


def _json_object(value: Mapping[str, Any]) -> dict[str, Any]:
    """Copy event data through JSON, refusing what JSON cannot carry unchanged.

    Raises:
        TypeError: the data is not a mapping, or holds a value JSON has no type for (a Decimal, a set).
        ValueError: the data holds NaN or infinity, non-text keys or tuples (which JSON would change).
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"event data must be a JSON object (a mapping), not {type(value).__name__}")
    original = dict(value)
    try:
        text = json.dumps(original, allow_nan=False)
    except RecursionError as exc:
        raise ValueError("event data is nested too deeply") from exc
    copy: dict[str, Any] = json.loads(text)
    if copy != original:
        raise ValueError("event data does not survive JSON unchanged (non-text keys or tuples)")
    return copy


def _timestamp_text(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One event the trade-in service reports, as a webhook carries it.

    Attributes:
        id: the event id (the ``webhook-id`` header), the same on every delivery attempt.
        type: what happened, such as ``device.received`` (see :class:`WebhookEventType`; later versions
            of the service may send other types).
        timestamp: when it happened (UTC), not when it was sent.
        data: the event's details as a JSON object (ids, states, amounts as strings).

    Raises:
        ValueError: the id or type is not of its format, the timestamp has no timezone, or the data holds
            values JSON cannot carry unchanged.
        TypeError: the data is not a mapping of JSON values.
    """

    id: str = attrs.field(validator=_check_webhook_id)
    type: str = attrs.field(validator=_check_event_type)
    timestamp: datetime = attrs.field(converter=as_utc)
    data: Mapping[str, Any] = attrs.field(converter=_json_object)

    @classmethod
    def create(cls, *, event_type: str, data: Mapping[str, Any], timestamp: datetime) -> Self:
        """Create an event with a fresh id (:func:`new_webhook_id`).

        Args:
            event_type: what happened, such as ``WebhookEventType.DEVICE_RECEIVED``.
            data: the details, a JSON object.
            timestamp: when it happened (timezone-aware; from the injected clock).

        Returns:
            The event.

        Raises:
            ValueError: the type, timestamp or data is not acceptable.
            TypeError: the data is not a mapping of JSON values.
        """
        return cls(id=new_webhook_id(), type=str(event_type), timestamp=timestamp, data=data)

    def to_body(self) -> bytes:
        """Return the request body: ``{"type","timestamp","data"}`` as compact ASCII JSON.

        Returns:
            The body bytes, the same on every call.
        """
        document = {"type": self.type, "timestamp": _timestamp_text(self.timestamp), "data": self.data}
        return json.dumps(document, separators=(",", ":")).encode("ascii")


# -- secrets ---------------------------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode_secret(text: object, where: str) -> bytes:
    """Decode ``whsec_<base64>`` (padding optional; no other characters).

    Raises:
        ConfigurationError: the text is not such a secret; the message never repeats the text.
    """
    if not isinstance(text, str) or not text.startswith(SECRET_PREFIX):
        raise ConfigurationError("{where} does not start with {prefix}", where=where, prefix=SECRET_PREFIX)
    encoded = text.removeprefix(SECRET_PREFIX)
    unpadded = encoded.rstrip("=")
    padded = unpadded + "=" * (-len(unpadded) % 4)
    if not _BASE64.fullmatch(unpadded) or encoded not in {unpadded, padded} or len(unpadded) % 4 == 1:
        raise ConfigurationError("{where} is not base64 (A-Z a-z 0-9 + /, padding optional)", where=where)
    secret = base64.b64decode(padded)
    if _b64encode(secret) != padded:
        raise ConfigurationError("{where} is not canonical base64 (its last character)", where=where)
    return secret


def _to_secret_tuple(secrets: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(secrets)


def _check_secrets(_instance: object, _attribute: object, secrets: tuple[bytes, ...]) -> None:
    if not secrets:
        raise ConfigurationError("webhook secrets need at least one secret")
    for number, secret in enumerate(secrets, start=1):
        value: object = secret
        if not isinstance(value, bytes):
            raise ConfigurationError(
                "webhook secret {number} must be bytes, not {kind}", number=number, kind=type(value).__name__
            )
        if not _MIN_SECRET_BYTES <= len(value) <= _MAX_SECRET_BYTES:
            raise ConfigurationError(
                "webhook secret {number} has {size} bytes; 24 to 64 are required",
                number=number,
                size=len(value),
            )
    if len(set(secrets)) != len(secrets):
        raise ConfigurationError("the same webhook secret is given twice")


@attrs.frozen(kw_only=True)
class WebhookSecrets:
    """The HMAC secrets of a webhook endpoint: the sender signs with each, the receiver accepts any.

    Attributes:
        secrets: 1 or more secrets of 24 to 64 bytes each; never shown by ``repr``.

    Raises:
        ConfigurationError: no secret, one of a wrong size, or one given twice.
    """

    secrets: tuple[bytes, ...] = attrs.field(
        converter=_to_secret_tuple,
        validator=_check_secrets,
        repr=lambda secrets: f"<{len(secrets)} hidden>",
    )

    @classmethod
    def parse(cls, *texts: str) -> Self:
        """Read secrets written ``whsec_<base64>``.

        Args:
            texts: one or more secrets.

        Returns:
            The secrets, in the order given.

        Raises:
            ConfigurationError: a text is not such a secret; the message names which, never its value.
        """
        return cls(secrets=[_decode_secret(text, f"webhook secret {n}") for n, text in enumerate(texts, 1)])

    @classmethod
    def generate(cls) -> Self:
        """Create one fresh secret of 32 random bytes.

        Returns:
            The secrets.
        """
        return cls(secrets=[token_bytes(_GENERATED_SECRET_BYTES)])

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        """Read ``TRADEIN_WEBHOOK_SECRETS``: one or more ``whsec_`` secrets separated by spaces.

        Args:
            environ: the environment to read (the process environment by default).

        Returns:
            The secrets.

        Raises:
            ConfigurationError: the variable is absent, empty or holds something else than secrets.
        """
        text = environ.get(ENVIRONMENT_VARIABLE, "")
        if not text.strip():
            raise ConfigurationError(
                "{variable} is not set; expected whsec_<base64> secrets separated by spaces",
                variable=ENVIRONMENT_VARIABLE,
            )
        return cls(
            secrets=[
                _decode_secret(entry, f"{ENVIRONMENT_VARIABLE} entry {number}")
                for number, entry in enumerate(text.split(), start=1)
            ]
        )

    @property
    def texts(self) -> tuple[str, ...]:
        """Each secret written ``whsec_<base64>``, to configure the other end."""
        return tuple(SECRET_PREFIX + _b64encode(secret) for secret in self.secrets)

    def with_secret(self, text: str) -> Self:
        """Return these secrets and one more (the first step of a rotation).

        Args:
            text: the new secret, ``whsec_<base64>``.

        Returns:
            The new secrets; these are unchanged.

        Raises:
            ConfigurationError: the text is not a secret, or is held already.
        """
        return type(self)(secrets=(*self.secrets, _decode_secret(text, "the new webhook secret")))

    def without_secret(self, text: str) -> Self:
        """Return these secrets without one (the last step of a rotation).

        Args:
            text: the secret to drop, ``whsec_<base64>``.

        Returns:
            The remaining secrets; these are unchanged.

        Raises:
            ConfigurationError: the text is not a secret, is not held, or is the only one.
        """
        secret = _decode_secret(text, "the webhook secret to drop")
        if secret not in self.secrets:
            raise ConfigurationError("the webhook secret to drop is not held")
        return type(self)(secrets=[held for held in self.secrets if held != secret])

    def signatures(self, content: bytes) -> tuple[str, ...]:
        """Return the base64 HMAC-SHA256 of ``content`` under each secret.

        Args:
            content: the signed content, ``<id>.<timestamp>.<body>``.

        Returns:
            One signature per secret, in order.
        """
        return tuple(
            _b64encode(hmac.new(secret, content, hashlib.sha256).digest()) for secret in self.secrets
        )


# -- signing and verifying -------------------------------------------------------------------------------


def _signed_content(webhook_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode("ascii") + body


def _check_body(body: object) -> None:
    if not isinstance(body, bytes):
        raise TypeError(f"the body must be the bytes exactly as sent or received, not {type(body).__name__}")


def sign(body: bytes, secrets: WebhookSecrets, *, webhook_id: str, timestamp: datetime) -> dict[str, str]:
    """Sign a webhook body: the headers to send with it (also the signer for integrators' tests).

    Args:
        body: the request body bytes, exactly as they will be sent (:meth:`WebhookEvent.to_body`).
        secrets: the endpoint's secrets; each adds one ``v1`` signature.
        webhook_id: the event id (:attr:`WebhookEvent.id`).
        timestamp: the time of this attempt (timezone-aware); sent in whole Unix seconds.

    Returns:
        The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers.

    Raises:
        TypeError: the body is not bytes.
        ValueError: the id is not 1-255 characters of ``A-Z a-z 0-9 _ -``, or the timestamp has no
            timezone or lies before 1970.

    >>> secrets = WebhookSecrets.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    >>> at = datetime.fromtimestamp(1614265330, UTC)
    >>> sign(b'{"test": 2432232314}', secrets, webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=at)
    ... # doctest: +NORMALIZE_WHITESPACE
    {'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330',
     'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='}
    """
    _check_body(body)
    _check_webhook_id(None, None, webhook_id)
    moment = as_utc(timestamp)
    if moment < _EPOCH:
        raise ValueError("a webhook timestamp cannot lie before 1970")
    seconds = str((moment - _EPOCH) // timedelta(seconds=1))
    signatures = secrets.signatures(_signed_content(webhook_id, seconds, body))
    return {
        WEBHOOK_ID_HEADER: webhook_id,
        WEBHOOK_TIMESTAMP_HEADER: seconds,
        WEBHOOK_SIGNATURE_HEADER: " ".join(f"v1,{signature}" for signature in signatures),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: WebhookSecrets,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """Verify a received webhook and return its event.

    Header names are matched case-insensitively. Verification runs in the order of the table in this
    module's documentation: headers, signature, timestamp, then the body's content.

    Args:
        headers: the request's headers (a dict, ``httpx.Headers``, a framework's header mapping).
        body: the request body, exactly the bytes received (never re-encoded JSON).
        secrets: the endpoint's secrets; a signature by any of them is accepted.
        now: the receiver's time (timezone-aware; from the injected clock).
        tolerance: how far ``webhook-timestamp`` may lie before or after ``now`` (exactly the
            tolerance is still accepted).

    Returns:
        The event. It may be a repeat of one received before: deduplicate on its id
        (:func:`record_receipt`).

    Raises:
        WebhookHeaderMissingError: a header is absent or empty.
        WebhookHeaderMalformedError: a header is not of its format or is given twice.
        WebhookSignatureError: no ``v1`` signature matches any of ``secrets``.
        WebhookTimestampTooOldError: the timestamp is more than ``tolerance`` before ``now``.
        WebhookTimestampTooNewError: the timestamp is more than ``tolerance`` after ``now``.
        WebhookPayloadError: the signed body is not an event's JSON.
        TypeError: the body is not bytes.
        ValueError: ``now`` has no timezone, or ``tolerance`` is not positive.
    """
    _check_body(body)
    moment = as_utc(now)
    if tolerance <= timedelta(0):
        raise ValueError("the tolerance must be positive")
    webhook_id, timestamp, signature = _read_headers(headers)
    _check_signature(signature, secrets.signatures(_signed_content(webhook_id, timestamp, body)))
    _check_timestamp(int(timestamp), moment, tolerance)
    return _parse_event(webhook_id, body)


def _read_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """Return the id, timestamp and signature headers, each checked against its format."""
    found: dict[str, object] = {}
    for name, value in headers.items():
        key = name.lower() if isinstance(name, str) else name
        if key in _HEADERS:
            if key in found:
                raise WebhookHeaderMalformedError(key, "it is given more than once")
            found[key] = value
    values: list[str] = []
    for header in _HEADERS:
        given = found.get(header)
        if given is None or (isinstance(given, (str, bytes)) and not given):
            raise WebhookHeaderMissingError(header)
        if not isinstance(given, str):
            raise WebhookHeaderMalformedError(header, "it is not text")
        values.append(given)
    webhook_id, timestamp, signature = values
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise WebhookHeaderMalformedError(WEBHOOK_ID_HEADER, "not 1-255 characters of A-Z a-z 0-9 _ -")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookHeaderMalformedError(WEBHOOK_TIMESTAMP_HEADER, "not whole Unix seconds")
    return webhook_id, timestamp, signature


def _check_signature(header: str, expected: tuple[str, ...]) -> None:
    """Compare every ``v1`` entry with every expected signature in constant time; any match passes."""
    if len(header) > _MAX_SIGNATURE_HEADER:
        raise WebhookHeaderMalformedError(WEBHOOK_SIGNATURE_HEADER, "longer than 4096 characters")
    entries = header.split(" ")
    if len(entries) > _MAX_SIGNATURES:
        raise WebhookHeaderMalformedError(WEBHOOK_SIGNATURE_HEADER, "more than 32 signatures")
    candidates = []
    for entry in entries:
        match = _SIGNATURE_ENTRY.fullmatch(entry)
        if match is None:
            raise WebhookHeaderMalformedError(
                WEBHOOK_SIGNATURE_HEADER, "not space-separated <version>,<base64> entries"
            )
        if match[1] == "v1":
            candidates.append(match[2].encode("ascii"))
    if not candidates:
        raise WebhookSignatureError("the webhook-signature header has no v1 signature")
    matched = False
    for candidate in candidates:
        for signature in expected:
            matched |= hmac.compare_digest(candidate, signature.encode("ascii"))
    if not matched:
        raise WebhookSignatureError("no webhook signature matches the id, timestamp and body")


def _check_timestamp(timestamp: int, now: datetime, tolerance: timedelta) -> None:
    """Compare in seconds: a signed timestamp beyond the year 9999 is too new, not an overflow."""
    second = timedelta(seconds=1)
    now_seconds, window = (now - _EPOCH) / second, tolerance / second
    if timestamp < now_seconds - window:
        raise WebhookTimestampTooOldError(
            "webhook-timestamp {timestamp} is more than {seconds} s before now ({now})",
            timestamp=timestamp,
            now=now,
            tolerance=tolerance,
        )
    if timestamp > now_seconds + window:
        raise WebhookTimestampTooNewError(
            "webhook-timestamp {timestamp} is more than {seconds} s after now ({now})",
            timestamp=timestamp,
            now=now,
            tolerance=tolerance,
        )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("a JSON object has a key twice")
    return document


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _parse_event(webhook_id: str, body: bytes) -> WebhookEvent:
    """Read the signed body as ``{"type", "timestamp", "data"}``; other top-level keys are ignored."""
    try:
        document = json.loads(
            body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant
        )
    except (ValueError, RecursionError) as exc:
        raise WebhookPayloadError("$", f"not UTF-8 JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise WebhookPayloadError("$", "not a JSON object")
    event_type, stamp, data = document.get("type"), document.get("timestamp"), document.get("data")
    if not isinstance(event_type, str):
        raise WebhookPayloadError("$.type", "not a text")
    try:
        _check_event_type(None, None, event_type)
    except ValueError as exc:
        raise WebhookPayloadError("$.type", str(exc)) from exc
    if not isinstance(stamp, str):
        raise WebhookPayloadError("$.timestamp", "not a text")
    try:
        timestamp = as_utc(datetime.fromisoformat(stamp))
    except ValueError as exc:
        raise WebhookPayloadError("$.timestamp", "not an ISO 8601 time with an offset") from exc
    if not isinstance(data, dict):
        raise WebhookPayloadError("$.data", "not a JSON object")
    try:
        return WebhookEvent(id=webhook_id, type=event_type, timestamp=timestamp, data=data)
    except ValueError as exc:
        raise WebhookPayloadError("$.data", str(exc)) from exc


# -- delivery --------------------------------------------------------------------------------------------


def _to_delays(delays: Iterable[timedelta]) -> tuple[timedelta, ...]:
    return tuple(delays)


def _check_delays(_instance: object, _attribute: object, delays: tuple[timedelta, ...]) -> None:
    for number, delay in enumerate(delays, start=2):
        value: object = delay
        if not isinstance(value, timedelta) or value < timedelta(0):
            raise ConfigurationError(
                "the wait before attempt {number} must be a timedelta of zero or more", number=number
            )


def _check_jitter(_instance: object, _attribute: object, jitter: float) -> None:
    if not 0 <= jitter < 1:
        raise ConfigurationError("the jitter must be at least 0 and less than 1, not {jitter}", jitter=jitter)


@attrs.frozen(kw_only=True)
class RetrySchedule:
    """When to try a webhook again: the waits between attempts, each varied by a random jitter.

    Pure: it draws no random numbers itself; the caller passes a draw in ``[0, 1]`` (0.5 means no jitter).

    Attributes:
        delays: the wait before the 2nd, 3rd, ... attempt (the Standard Webhooks schedule by default).
        jitter: each wait is multiplied by a factor in ``[1 - jitter, 1 + jitter]`` (0.1 by default), so
            that many failed deliveries do not all come back at once.

    Raises:
        ConfigurationError: a wait is negative or not a timedelta, or the jitter is outside ``[0, 1)``.
    """

    delays: tuple[timedelta, ...] = attrs.field(
        default=STANDARD_RETRY_DELAYS, converter=_to_delays, validator=_check_delays
    )
    jitter: float = attrs.field(default=0.1, validator=_check_jitter)

    @classmethod
    def exponential(
        cls, *, first: timedelta, cap: timedelta, retries: int, factor: float = 2.0, jitter: float = 0.1
    ) -> Self:
        """Return a capped exponential schedule: ``first``, ``first·factor``, ... never above ``cap``.

        Args:
            first: the wait before the second attempt.
            cap: the longest wait.
            retries: how many attempts follow the first (0 means a single attempt).
            factor: how much each wait grows (at least 1).
            jitter: see :attr:`jitter`.

        Returns:
            The schedule.

        Raises:
            ConfigurationError: ``first`` is not positive, ``cap`` is shorter than ``first``, ``factor``
                is below 1, ``retries`` is negative, or the jitter is outside ``[0, 1)``.
        """
        if first <= timedelta(0) or cap < first or factor < 1 or retries < 0:
            raise ConfigurationError(
                "an exponential schedule needs first > 0, cap >= first, factor >= 1 and retries >= 0"
            )
        delays, wait = [], first
        for _ in range(retries):
            delays.append(wait)
            wait = min(wait * factor, cap)
        return cls(delays=delays, jitter=jitter)

    @property
    def max_attempts(self) -> int:
        """How many attempts the schedule allows in all, the first included."""
        return len(self.delays) + 1

    @property
    def horizon(self) -> timedelta:
        """The longest time from the first attempt to the last: keep receipts at least this long."""
        return sum(self.delays, timedelta(0)) * (1 + self.jitter)

    def delay_before(self, attempt: int, *, draw: float = 0.5) -> timedelta:
        """Return the wait before attempt number ``attempt``.

        Args:
            attempt: the attempt about to be made: 2 to :attr:`max_attempts`.
            draw: a random number in ``[0, 1]``; 0 gives the shortest wait, 1 the longest, 0.5 the
                nominal one.

        Returns:
            The wait.

        Raises:
            ValueError: the schedule has no such attempt, or ``draw`` is outside ``[0, 1]``.
        """
        if not 2 <= attempt <= self.max_attempts:
            raise ValueError(f"attempt {attempt} is not one of 2 to {self.max_attempts}")
        if not 0 <= draw <= 1:
            raise ValueError(f"the draw {draw} is not in [0, 1]")
        return self.delays[attempt - 2] * (1 + self.jitter * (2 * draw - 1))


def delivery_attempts(
    schedule: RetrySchedule, *, first_attempt_at: datetime, rng: Random | None = None
) -> tuple[datetime, ...]:
    """Return when each attempt of a delivery falls due if every attempt before it fails.

    Args:
        schedule: the retry schedule.
        first_attempt_at: when the first attempt is made (timezone-aware).
        rng: where the jitter comes from; without it, the nominal times.

    Returns:
        The time of every attempt in UTC, the first included.

    Raises:
        ValueError: ``first_attempt_at`` has no timezone.
    """
    times = [as_utc(first_attempt_at)]
    for attempt in range(2, schedule.max_attempts + 1):
        draw = 0.5 if rng is None else rng.random()
        times.append(times[-1] + schedule.delay_before(attempt, draw=draw))
    return tuple(times)


class AttemptOutcome(StrEnum):
    """What one delivery attempt came to."""

    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    RETRY = "retry"
    """A connection error, 408, 429 or 5xx: try again later."""
    REJECTED = "rejected"
    """Any other answer (3xx, 4xx): retrying would change nothing."""
    GONE = "gone"
    """410 Gone: the endpoint should be disabled."""


@attrs.frozen(kw_only=True)
class DeliveryAttempt:
    """One POST of a webhook and what came of it.

    Attributes:
        number: 1 for the first attempt.
        attempted_at: when it was signed and sent (UTC).
        outcome: what it came to.
        status_code: the receiver's answer, if one came.
        error: the connection error, as ``<httpx exception>: <message>``, if no answer came.
        retry_after: how long the receiver asked to wait (``Retry-After``), if it did.
    """

    number: int
    attempted_at: datetime
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None

    def summary(self) -> str:
        """Describe the attempt's result in a few words: ``HTTP 503`` or ``ConnectError: ...``.

        Returns:
            The description.
        """
        return f"HTTP {self.status_code}" if self.status_code is not None else str(self.error)


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """The attempts made to deliver one webhook to one endpoint.

    Attributes:
        event_id: the webhook's id.
        url: the endpoint.
        attempts: every attempt, in order; the last one says how it ended.
    """

    event_id: str
    url: str
    attempts: tuple[DeliveryAttempt, ...]

    @property
    def delivered(self) -> bool:
        """Whether the last attempt was answered with 2xx."""
        return self.attempts[-1].outcome is AttemptOutcome.DELIVERED


def _host(url: str) -> str:
    """The scheme and host of a URL: enough to name an endpoint without its path's secrets."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1]}"


def _outcome(status: int) -> AttemptOutcome:
    if 200 <= status < 300:
        return AttemptOutcome.DELIVERED
    if status == 410:
        return AttemptOutcome.GONE
    if status in {408, 429} or status >= 500:
        return AttemptOutcome.RETRY
    return AttemptOutcome.REJECTED


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Read ``Retry-After``: delay-seconds or an HTTP date (RFC 9110 §10.2.3); otherwise ``None``."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return timedelta(seconds=int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return max(moment - now, timedelta(0))


class WebhookSender:
    """Deliver webhooks to an endpoint: sign each attempt, POST it, retry on the schedule.

    The sleeps between attempts go through ``sleep`` (tests pass one that records and returns at once).
    A service that keeps its own queue calls :meth:`attempt` and plans the next one with
    :meth:`RetrySchedule.delay_before` instead of :meth:`send`.
    """

    def __init__(
        self,
        *,
        secrets: WebhookSecrets,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
        schedule: RetrySchedule | None = None,
        timeout: float = 15.0,
        retry_after_cap: timedelta = timedelta(hours=1),
        sleep: Callable[[float], None] = time.sleep,
        rng: Random | None = None,
    ) -> None:
        """Create a sender.

        Args:
            secrets: the endpoint's secrets; every attempt carries one signature per secret.
            client: the httpx client to send with (one is created, and closed by :meth:`close`, when
                omitted).
            clock: where each attempt's time comes from (the system clock by default).
            schedule: when to retry (the Standard Webhooks schedule by default).
            timeout: seconds allowed for each attempt's connect, write, read and pool wait.
            retry_after_cap: the longest ``Retry-After`` honoured; a longer one waits only this long.
            sleep: how to wait between attempts, given seconds (:func:`time.sleep` by default).
            rng: where the jitter comes from (:class:`random.SystemRandom` by default).

        Raises:
            ConfigurationError: the timeout is not positive or the cap is negative.
        """
        if not timeout > 0:
            raise ConfigurationError("the webhook timeout must be positive, not {timeout}", timeout=timeout)
        if retry_after_cap < timedelta(0):
            raise ConfigurationError("the Retry-After cap cannot be negative")
        if client is None:
            import httpx  # noqa: PLC0415 - httpx loads with the first sender

            self._own_client: httpx.Client | None = httpx.Client()
            self._client = self._own_client
        else:
            self._own_client = None
            self._client = client
        self._secrets = secrets
        self._clock = clock or SystemClock()
        self._schedule = schedule or RetrySchedule()
        self._timeout = timeout
        self._retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._rng = rng or SystemRandom()

    def close(self) -> None:
        """Close the httpx client if this sender created it (an injected client stays open)."""
        if self._own_client is not None:
            self._own_client.close()

    def attempt(self, url: str, event: WebhookEvent, *, number: int = 1) -> DeliveryAttempt:
        """POST the event once, signed now, and classify the answer; never raises for a failed POST.

        Args:
            url: the endpoint (``http`` or ``https``).
            event: the event.
            number: which attempt this is, for the record.

        Returns:
            The attempt and its outcome.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
        """
        return self.attempt_body(url, event.id, event.to_body(), number=number)

    def attempt_body(self, url: str, webhook_id: str, body: bytes, *, number: int = 1) -> DeliveryAttempt:
        """POST a body kept earlier (an outbox row's :meth:`WebhookEvent.to_body`) once, signed now.

        Args:
            url: the endpoint (``http`` or ``https``).
            webhook_id: the event's id.
            body: the body bytes exactly as first produced.
            number: which attempt this is, for the record.

        Returns:
            The attempt and its outcome.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
            TypeError: the body is not bytes.
            ValueError: the id is not a webhook id.
        """
        _check_url(url)
        _check_body(body)
        _check_webhook_id(None, None, webhook_id)
        return self._post(url, webhook_id, body, number)[0]

    def send(self, url: str, event: WebhookEvent) -> WebhookDelivery:
        """Deliver the event, retrying on the schedule until the receiver answers 2xx.

        Every attempt carries the same ``webhook-id`` and body, signed at the attempt's own time.

        Args:
            url: the endpoint (``http`` or ``https``).
            event: the event.

        Returns:
            The delivery, whose last attempt was answered 2xx.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
            WebhookEndpointGoneError: the receiver answered 410; stop sending to it.
            WebhookRejectedError: the receiver answered a status retrying will not change (3xx, 4xx).
            WebhookDeliveryError: every attempt of the schedule failed (raised from the last connection
                error, if the last attempt had one).
        """
        _check_url(url)
        body = event.to_body()
        attempts: list[DeliveryAttempt] = []
        cause: Exception | None = None
        for number in range(1, self._schedule.max_attempts + 1):
            if attempts:
                self._sleep(self._wait_before(number, attempts[-1]).total_seconds())
            attempt, cause = self._post(url, event.id, body, number)
            attempts.append(attempt)
            if attempt.outcome is not AttemptOutcome.RETRY:
                break
        delivery = WebhookDelivery(event_id=event.id, url=url, attempts=tuple(attempts))
        outcome = attempts[-1].outcome
        if outcome is AttemptOutcome.DELIVERED:
            return delivery
        if outcome is AttemptOutcome.GONE:
            raise WebhookEndpointGoneError(delivery)
        if outcome is AttemptOutcome.REJECTED:
            raise WebhookRejectedError(delivery)
        raise WebhookDeliveryError(delivery) from cause

    def _wait_before(self, number: int, previous: DeliveryAttempt) -> timedelta:
        wait = self._schedule.delay_before(number, draw=self._rng.random())
        if previous.retry_after is not None:
            wait = max(wait, min(previous.retry_after, self._retry_after_cap))
        return wait

    def _post(
        self, url: str, webhook_id: str, body: bytes, number: int
    ) -> tuple[DeliveryAttempt, Exception | None]:
        import httpx  # noqa: PLC0415

        attempted_at = as_utc(self._clock.now())
        headers = sign(body, self._secrets, webhook_id=webhook_id, timestamp=attempted_at)
        headers["content-type"] = "application/json"
        try:
            with self._client.stream(
                "POST", url, content=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status_code
                retry_after = _retry_after(response.headers.get("retry-after"), attempted_at)
        except httpx.RequestError as exc:
            attempt = DeliveryAttempt(
                number=number,
                attempted_at=attempted_at,
                outcome=AttemptOutcome.RETRY,
                error=f"{type(exc).__name__}: {exc}",
            )
            return attempt, exc
        attempt = DeliveryAttempt(
            number=number,
            attempted_at=attempted_at,
            outcome=_outcome(status),
            status_code=status,
            retry_after=retry_after,
        )
        return attempt, None


def _check_url(url: str) -> None:
    import httpx  # noqa: PLC0415

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError("the webhook URL is not a URL: {reason}", reason=str(exc)) from exc
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ConfigurationError("the webhook URL must be an http or https URL with a host")


# -- deduplication ---------------------------------------------------------------------------------------


@cache
def _receipts_table() -> Table:
    import sqlalchemy as sa  # noqa: PLC0415

    from tradein_sdk._adapters.sql.types import UTCDateTime  # noqa: PLC0415

    return sa.Table(
        WEBHOOK_RECEIPTS_TABLE,
        sa.MetaData(),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(_MAX_TYPE_LENGTH), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("applied", sa.Boolean, nullable=False),
        sa.Index("ix_tradein_webhook_receipts_received_at", "received_at"),
    )


def migration_webhooks(conn: Connection) -> None:
    """The migration step creating ``tradein_webhook_receipts``; safe on a database that has it already.

    Columns: ``id`` (the event id, primary key), ``type``, ``received_at`` (UTC) and ``applied`` (whether
    the handler acted on it), with an index on ``received_at`` for :func:`purge_receipts`.

    Args:
        conn: a connection in the migration's transaction, on SQLite or PostgreSQL.
    """
    _receipts_table().create(conn, checkfirst=True)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def record_receipt(conn: Connection, event: WebhookEvent, *, now: datetime, applied: bool = True) -> bool:
    """Record that ``event`` was received, inside the caller's transaction; say if it is the first time.

    Apply the event's state change in the same transaction only when this returns ``True``, then commit;
    on ``False`` acknowledge the delivery (2xx) and change nothing. A concurrent delivery of the same id
    waits for this transaction: if it commits, the other gets ``False``; if it rolls back, the receipt
    goes with it and the other delivery applies the event. On SQLite, begin the transaction with
    ``BEGIN IMMEDIATE`` when the handler reads before it writes.

    Args:
        conn: a connection inside the caller's write transaction.
        event: the verified event.
        now: when it was received (timezone-aware; from the injected clock).
        applied: ``False`` to record an event deliberately not acted on (a type the handler does not
            know), so that its redeliveries are still acknowledged once.

    Returns:
        ``True`` the first time the event's id is recorded, ``False`` for every repeat.

    Raises:
        ConfigurationError: the database is neither SQLite nor PostgreSQL.
        StoreError: the database failed (no receipt table, for one); roll the transaction back.
        ValueError: ``now`` has no timezone.
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from tradein_sdk._adapters.sql.store import _dialect_insert  # noqa: PLC0415

    dialect = conn.dialect.name
    if dialect not in {"sqlite", "postgresql"}:
        raise ConfigurationError("webhook receipts need SQLite or PostgreSQL, not {dialect}", dialect=dialect)
    table = _receipts_table()
    statement = (
        _dialect_insert(dialect)(table)
        .values(id=event.id, type=event.type, received_at=as_utc(now), applied=applied)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )
    try:
        return conn.execute(statement).first() is not None
    except SQLAlchemyError as exc:
        raise StoreError("cannot record the webhook receipt: {reason}", reason=_reason(exc)) from exc


def purge_receipts(conn: Connection, *, received_before: datetime) -> int:
    """Delete the receipts received before a time, inside the caller's transaction.

    Choose a time further back than the sender's retry horizon (:attr:`RetrySchedule.horizon`, about
    83 h for the standard schedule with its jitter): a delivery retried after its receipt is gone would
    be applied again.

    Args:
        conn: a connection inside the caller's write transaction.
        received_before: receipts received strictly before this time are deleted (timezone-aware).

    Returns:
        How many receipts were deleted.

    Raises:
        StoreError: the database failed; roll the transaction back.
        ValueError: ``received_before`` has no timezone.
    """
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    table = _receipts_table()
    statement = sa.delete(table).where(table.c.received_at < as_utc(received_before))
    try:
        return int(conn.execute(statement).rowcount)
    except SQLAlchemyError as exc:
        raise StoreError("cannot purge webhook receipts: {reason}", reason=_reason(exc)) from exc
