"""Signed webhooks (Standard Webhooks), pure: events, secrets, signing and verifying, the retry plan.

The public face of this module is :mod:`tradein_sdk.webhooks`, which also exports the HTTP sender
(:mod:`tradein_sdk._adapters.http.webhooks`) and the receipts table
(:mod:`tradein_sdk._adapters.sql.receipts`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from secrets import token_bytes, token_urlsafe
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self

import attrs

from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import ConfigurationError, TradeInError

if TYPE_CHECKING:
    from random import Random


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
    BATCH_SETTLED = "fleet.batch.settled"


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

    >>> from datetime import UTC, datetime
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
        import email.utils  # noqa: PLC0415 - the e-mail package loads with the first HTTP date

        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return max(moment - now, timedelta(0))
