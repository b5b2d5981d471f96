from __future__ import annotations

import base64
import doctest
import email.utils
import hashlib
import hmac
import inspect
import itertools
import json
import random
import string
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from tradein_sdk import webhooks
from tradein_sdk._adapters.sql.store import _configure_sqlite, engine_url
from tradein_sdk._domain.clock import FixedClock
from tradein_sdk._errors import ConfigurationError, StoreError, TradeInError
from tradein_sdk.webhooks import (
    DEFAULT_TOLERANCE,
    STANDARD_RETRY_DELAYS,
    WEBHOOK_RECEIPTS_TABLE,
    AttemptOutcome,
    RetrySchedule,
    WebhookDeliveryError,
    WebhookEndpointGoneError,
    WebhookEvent,
    WebhookEventType,
    WebhookHeaderMalformedError,
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookSecrets,
    WebhookSender,
    WebhookSignatureError,
    WebhookTimestampTooNewError,
    WebhookTimestampTooOldError,
    WebhookVerificationError,
    delivery_attempts,
    migration_webhooks,
    new_webhook_id,
    purge_receipts,
    record_receipt,
    sign,
    verify,
)

if TYPE_CHECKING:
    from pathlib import Path

    import respx
    from sqlalchemy import Connection, Engine

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    """Standard base64 with padding, written independently of the module under test."""
    return base64.b64encode(data).decode("ascii")


OLD_SECRET = bytes(range(32))
NEW_SECRET = bytes(range(100, 140))
STRANGER_SECRET = bytes(range(200, 224))
OLD_TEXT = "whsec_" + b64(OLD_SECRET)
NEW_TEXT = "whsec_" + b64(NEW_SECRET)
OLD = WebhookSecrets.parse(OLD_TEXT)
NEW = WebhookSecrets.parse(NEW_TEXT)
ROTATING = WebhookSecrets.parse(OLD_TEXT, NEW_TEXT)
STRANGER = WebhookSecrets.parse("whsec_" + b64(STRANGER_SECRET))

# The Standard Webhooks reference library's test vector (libraries/python/tests/test_webhooks.py).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the published test vector
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

Delivery = tuple[dict[str, str], bytes]


def reference_signature(secret: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The v1 signature as the spec defines it, computed without the module under test."""
    content = f"{webhook_id}.{timestamp}.".encode("ascii") + body
    return b64(hmac.new(secret, content, hashlib.sha256).digest())


def make_event(**changes: Any) -> WebhookEvent:  # noqa: ANN401 - any WebhookEvent field
    """A device.received event for order ord_1, happened at NOW, with ``changes`` applied."""
    fields: dict[str, Any] = {
        "id": "msg_0001",
        "type": WebhookEventType.DEVICE_RECEIVED,
        "timestamp": NOW,
        "data": {"order_id": "ord_1", "device_id": "dev_1", "store": "Läden München"},
    }
    fields.update(changes)
    return WebhookEvent(**fields)


def deliver(event: WebhookEvent, secrets: WebhookSecrets = ROTATING, *, at: datetime = NOW) -> Delivery:
    """The headers and body the service sends for ``event`` at ``at``."""
    body = event.to_body()
    return sign(body, secrets, webhook_id=event.id, timestamp=at), body


def check(delivery: Delivery, secrets: WebhookSecrets = ROTATING) -> WebhookEvent:
    """Verify a delivery at NOW."""
    headers, body = delivery
    return verify(headers, body, secrets, now=NOW)


# -- signing and verifying -------------------------------------------------------------------------------


def test_standard_webhooks_test_vector() -> None:
    """The spec's test vector signs to its published signature, and that signature verifies."""
    secrets = WebhookSecrets.parse(VECTOR_SECRET)
    at = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC)
    headers = sign(VECTOR_BODY, secrets, webhook_id=VECTOR_ID, timestamp=at)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    # The signature passes; the vector's body is not an event, so only the payload check refuses it.
    with pytest.raises(WebhookPayloadError) as caught:
        verify(headers, VECTOR_BODY, secrets, now=at)
    assert caught.value.path == "$.type"
    tampered = {**headers, "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="}
    with pytest.raises(WebhookSignatureError):
        verify(tampered, VECTOR_BODY, secrets, now=at)


def test_headers_and_body_follow_the_documented_format() -> None:
    """Headers carry the id, Unix seconds and one v1 HMAC per secret; the body is compact event JSON."""
    event = make_event()
    headers, body = deliver(event, at=NOW + timedelta(microseconds=999_999))
    assert body == (
        b'{"type":"device.received","timestamp":"2026-11-24T12:00:00.000000Z",'
        b'"data":{"order_id":"ord_1","device_id":"dev_1","store":"L\\u00e4den M\\u00fcnchen"}}'
    )
    timestamp = str(int(NOW.timestamp()))
    assert headers == {
        "webhook-id": "msg_0001",
        "webhook-timestamp": timestamp,
        "webhook-signature": (
            f"v1,{reference_signature(OLD_SECRET, 'msg_0001', timestamp, body)} "
            f"v1,{reference_signature(NEW_SECRET, 'msg_0001', timestamp, body)}"
        ),
    }


@pytest.mark.parametrize(
    ("sender", "receiver"),
    [
        (OLD, OLD),
        (ROTATING, OLD),
        (ROTATING, NEW),
        (ROTATING, ROTATING),
        (OLD, ROTATING),
        (NEW, ROTATING),
    ],
    ids=[
        "one-secret",
        "rotating-sender-old-receiver",
        "rotating-sender-new-receiver",
        "both-rotating",
        "old-sender-rotating-receiver",
        "new-sender-rotating-receiver",
    ],
)
def test_round_trip_with_one_or_two_secrets(sender: WebhookSecrets, receiver: WebhookSecrets) -> None:
    """A delivery verifies whenever sender and receiver share at least one secret, and returns the event."""
    event = make_event(data={"order_id": "ord_9", "amount": "412.50", "flags": [True, None, 1.5]})
    assert check(deliver(event, sender), receiver) == event


@pytest.mark.parametrize(
    ("sender", "receiver"),
    [(ROTATING, STRANGER), (OLD, NEW), (NEW, OLD), (STRANGER, ROTATING)],
    ids=["rotating-vs-stranger", "old-vs-new", "new-vs-old", "stranger-vs-rotating"],
)
def test_no_shared_secret_no_verification(sender: WebhookSecrets, receiver: WebhookSecrets) -> None:
    """A delivery signed only with secrets the receiver does not hold is refused."""
    with pytest.raises(WebhookSignatureError) as caught:
        check(deliver(make_event(), sender), receiver)
    assert caught.value.code == "webhook_signature_invalid"


@pytest.mark.parametrize(
    "rename",
    [str.lower, str.title, str.upper, lambda name: name.replace("webhook", "WebHook")],
    ids=["lower", "title", "upper", "mixed"],
)
def test_header_names_are_case_insensitive(rename: Callable[[str], str]) -> None:
    """Header names are matched whatever their case, in a plain dict as in httpx.Headers."""
    headers, body = deliver(make_event())
    renamed = {rename(name): value for name, value in headers.items()}
    assert verify(renamed, body, ROTATING, now=NOW).id == "msg_0001"
    assert verify(httpx.Headers(renamed), body, ROTATING, now=NOW).id == "msg_0001"


def test_other_signature_versions_are_ignored() -> None:
    """Entries of other versions (v1a, v2) are skipped; a header with no v1 entry matches nothing."""
    headers, body = deliver(make_event(), OLD)
    other = "v1a,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    mixed = {**headers, "webhook-signature": f"{other} {headers['webhook-signature']}"}
    assert verify(mixed, body, OLD, now=NOW).id == "msg_0001"
    with pytest.raises(WebhookSignatureError, match="no v1 signature"):
        verify({**headers, "webhook-signature": other}, body, OLD, now=NOW)


@pytest.mark.parametrize(
    ("offset", "tolerance", "error"),
    [
        (timedelta(seconds=-300), DEFAULT_TOLERANCE, None),
        (timedelta(seconds=300), DEFAULT_TOLERANCE, None),
        (timedelta(seconds=-301), DEFAULT_TOLERANCE, WebhookTimestampTooOldError),
        (timedelta(seconds=301), DEFAULT_TOLERANCE, WebhookTimestampTooNewError),
        (timedelta(days=-3), DEFAULT_TOLERANCE, WebhookTimestampTooOldError),
        (timedelta(days=365), DEFAULT_TOLERANCE, WebhookTimestampTooNewError),
        (timedelta(seconds=-61), timedelta(seconds=60), WebhookTimestampTooOldError),
        (timedelta(seconds=60), timedelta(seconds=60), None),
    ],
    ids=[
        "300s-old",
        "300s-ahead",
        "301s-old",
        "301s-ahead",
        "three-days-old",
        "a-year-ahead",
        "61s-old-tolerance-60",
        "60s-ahead-tolerance-60",
    ],
)
def test_timestamp_window(offset: timedelta, tolerance: timedelta, error: type[Exception] | None) -> None:
    """A correctly signed delivery is accepted up to the tolerance either side of now, refused beyond."""
    headers, body = deliver(make_event(), at=NOW + offset)
    if error is None:
        assert verify(headers, body, ROTATING, now=NOW, tolerance=tolerance).id == "msg_0001"
        return
    with pytest.raises(error) as caught:
        verify(headers, body, ROTATING, now=NOW, tolerance=tolerance)
    assert caught.value.timestamp == int((NOW + offset).timestamp())  # type: ignore[attr-defined]
    assert caught.value.now == NOW  # type: ignore[attr-defined]


def test_signed_timestamps_beyond_any_date_are_compared_not_crashed_on() -> None:
    """A signed timestamp past the year 9999 is too new; the largest tolerance compares without overflow."""
    body = make_event().to_body()
    signature = reference_signature(OLD_SECRET, "msg_0001", "999999999999", body)
    headers = {
        "webhook-id": "msg_0001",
        "webhook-timestamp": "999999999999",
        "webhook-signature": f"v1,{signature}",
    }
    with pytest.raises(WebhookTimestampTooNewError):
        verify(headers, body, OLD, now=NOW)
    assert verify(headers, body, OLD, now=NOW, tolerance=timedelta.max).id == "msg_0001"


def test_now_in_another_zone_is_the_same_instant() -> None:
    """``now`` may be given in any zone; the window is about the instant."""
    headers, body = deliver(make_event(), at=NOW - timedelta(seconds=300))
    berlin = NOW.astimezone(timezone(timedelta(hours=1)))
    assert verify(headers, body, ROTATING, now=berlin).timestamp == NOW


REFUSALS: dict[str, type[WebhookVerificationError]] = {
    "webhook_header_missing": WebhookHeaderMissingError,
    "webhook_header_malformed": WebhookHeaderMalformedError,
    "webhook_signature_invalid": WebhookSignatureError,
}


def _without(name: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda headers: {key: value for key, value in headers.items() if key != name}


def _with(name: str, value: object) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda headers: {**headers, name: value}


@pytest.mark.parametrize(
    ("change", "code", "header"),
    [
        (_without("webhook-id"), "webhook_header_missing", "webhook-id"),
        (_without("webhook-timestamp"), "webhook_header_missing", "webhook-timestamp"),
        (_without("webhook-signature"), "webhook_header_missing", "webhook-signature"),
        (_with("webhook-id", ""), "webhook_header_missing", "webhook-id"),
        (_with("webhook-signature", b""), "webhook_header_missing", "webhook-signature"),
        (_with("webhook-id", "msg.1"), "webhook_header_malformed", "webhook-id"),
        (_with("webhook-id", "m" * 256), "webhook_header_malformed", "webhook-id"),
        (_with("webhook-id", "msg_1\n"), "webhook_header_malformed", "webhook-id"),
        (_with("webhook-id", b"msg_0001"), "webhook_header_malformed", "webhook-id"),
        (_with("webhook-id", ["msg_0001"]), "webhook_header_malformed", "webhook-id"),
        (_with("webhook-timestamp", "1795521600.5"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", "01795521600"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", "+1795521600"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", " 1795521600"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", "1_795_521_600"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", "١٧٩٥٥٢١٦٠٠"), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-timestamp", "9" * 13), "webhook_header_malformed", "webhook-timestamp"),
        (_with("webhook-signature", "v1"), "webhook_header_malformed", "webhook-signature"),
        (_with("webhook-signature", "v1,"), "webhook_header_malformed", "webhook-signature"),
        (_with("webhook-signature", "v1,abc  v1,def"), "webhook_header_malformed", "webhook-signature"),
        (_with("webhook-signature", "v1,abc,def"), "webhook_header_malformed", "webhook-signature"),
        (_with("webhook-signature", "V1,abc"), "webhook_header_malformed", "webhook-signature"),
        (
            _with("webhook-signature", " ".join(["v1,abc"] * 33)),
            "webhook_header_malformed",
            "webhook-signature",
        ),
        (_with("webhook-signature", "v1," + "A" * 4094), "webhook_header_malformed", "webhook-signature"),
        (lambda headers: {**headers, "Webhook-Id": "msg_0002"}, "webhook_header_malformed", "webhook-id"),
        (
            lambda headers: {**headers, "WEBHOOK-ID": headers["webhook-id"]},
            "webhook_header_malformed",
            "webhook-id",
        ),
        (_with("webhook-signature", "v1,abc"), "webhook_signature_invalid", None),
        (_with("webhook-signature", "v1a,abc"), "webhook_signature_invalid", None),
        (_with("webhook-timestamp", "1795521601"), "webhook_signature_invalid", None),
        (_with("webhook-id", "msg_0002"), "webhook_signature_invalid", None),
    ],
    ids=[
        "no-id",
        "no-timestamp",
        "no-signature",
        "empty-id",
        "empty-bytes-signature",
        "id-with-dot",
        "id-too-long",
        "id-with-newline",
        "id-as-bytes",
        "id-as-list",
        "fractional-timestamp",
        "timestamp-leading-zero",
        "timestamp-plus-sign",
        "timestamp-leading-space",
        "timestamp-underscores",
        "timestamp-arabic-digits",
        "timestamp-13-digits",
        "signature-without-comma",
        "signature-empty-value",
        "signature-double-space",
        "signature-two-commas",
        "signature-upper-case-version",
        "33-signatures",
        "signature-header-too-long",
        "id-twice-different-values",
        "id-twice-same-value",
        "wrong-v1-signature",
        "only-v1a-signature",
        "timestamp-changed-by-one-second",
        "other-id",
    ],
)
def test_each_refusal_has_its_code(
    change: Callable[[dict[str, str]], dict[str, Any]], code: str, header: str | None
) -> None:
    """Missing, malformed or unsigned headers are each refused with their own code, naming the header."""
    headers, body = deliver(make_event())
    with pytest.raises(WebhookVerificationError) as caught:
        verify(change(headers), body, ROTATING, now=NOW)
    assert caught.value.code == code
    assert type(caught.value) is REFUSALS[code]
    assert getattr(caught.value, "header", None) == header
    assert isinstance(caught.value, TradeInError)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"\xff\xfe{}", "$"),
        (b"", "$"),
        (b"{", "$"),
        (b"[1, 2]", "$"),
        (b'"device.received"', "$"),
        (b'{"type":"a","type":"b","timestamp":"2026-11-24T12:00:00Z","data":{}}', "$"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00Z","data":{"n":NaN}}', "$"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00Z","data":{"n":-Infinity}}', "$"),
        (b"[" * 100_000 + b"]" * 100_000, "$"),
        (b'{"timestamp":"2026-11-24T12:00:00Z","data":{}}', "$.type"),
        (b'{"type":7,"timestamp":"2026-11-24T12:00:00Z","data":{}}', "$.type"),
        (b'{"type":"device received","timestamp":"2026-11-24T12:00:00Z","data":{}}', "$.type"),
        (b'{"type":"device.","timestamp":"2026-11-24T12:00:00Z","data":{}}', "$.type"),
        (b'{"type":"a.b","data":{}}', "$.timestamp"),
        (b'{"type":"a.b","timestamp":1795521600,"data":{}}', "$.timestamp"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00","data":{}}', "$.timestamp"),
        (b'{"type":"a.b","timestamp":"yesterday","data":{}}', "$.timestamp"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00Z"}', "$.data"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00Z","data":[]}', "$.data"),
        (b'{"type":"a.b","timestamp":"2026-11-24T12:00:00Z","data":{"n":1e400}}', "$.data"),
    ],
    ids=[
        "not-utf8",
        "empty",
        "truncated-json",
        "array",
        "string",
        "duplicate-key",
        "nan",
        "infinity",
        "nested-too-deeply",
        "no-type",
        "type-not-text",
        "type-with-space",
        "type-ends-with-dot",
        "no-timestamp",
        "timestamp-a-number",
        "timestamp-without-offset",
        "timestamp-not-a-time",
        "no-data",
        "data-an-array",
        "data-overflows-to-infinity",
    ],
)
def test_signed_bodies_that_are_not_events_are_refused(body: bytes, path: str) -> None:
    """An authentic body that is not {"type","timestamp","data"} JSON is refused naming where it fails."""
    headers = sign(body, ROTATING, webhook_id="msg_0001", timestamp=NOW)
    with pytest.raises(WebhookPayloadError) as caught:
        verify(headers, body, ROTATING, now=NOW)
    assert caught.value.code == "webhook_payload_invalid"
    assert caught.value.path == path


def test_unknown_types_and_extra_keys_are_accepted() -> None:
    """A type added later and extra top-level keys pass, so an older receiver keeps acknowledging."""
    body = b'{"type":"device.recycled.v2","timestamp":"2026-11-24T13:00:00+01:00","data":{},"version":2}'
    event = verify(sign(body, OLD, webhook_id="evt_9", timestamp=NOW), body, OLD, now=NOW)
    assert event == WebhookEvent(id="evt_9", type="device.recycled.v2", timestamp=NOW, data={})
    assert event.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: verify({}, "{}", OLD, now=NOW), TypeError, "bytes"),  # type: ignore[arg-type]
        (lambda: verify({}, b"{}", OLD, now=datetime(2026, 11, 24)), ValueError, "no timezone"),  # noqa: DTZ001
        (lambda: verify({}, b"{}", OLD, now=NOW, tolerance=timedelta(0)), ValueError, "positive"),
        (lambda: sign("{}", OLD, webhook_id="m", timestamp=NOW), TypeError, "bytes"),  # type: ignore[arg-type]
        (lambda: sign(b"{}", OLD, webhook_id="m.1", timestamp=NOW), ValueError, "webhook id"),
        (lambda: sign(b"{}", OLD, webhook_id="m", timestamp=datetime(2026, 1, 1)), ValueError, "timezone"),  # noqa: DTZ001
        (
            lambda: sign(b"{}", OLD, webhook_id="m", timestamp=datetime(1969, 12, 31, tzinfo=UTC)),
            ValueError,
            "1970",
        ),
    ],
    ids=[
        "verify-text-body",
        "verify-naive-now",
        "verify-zero-tolerance",
        "sign-text-body",
        "sign-id-with-dot",
        "sign-naive-time",
        "sign-before-1970",
    ],
)
def test_misuse_is_a_programming_error(
    call: Callable[[], object], error: type[Exception], match: str
) -> None:
    """Text bodies, naive times and impossible ids or tolerances raise TypeError or ValueError."""
    with pytest.raises(error, match=match):
        call()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
EVENTS = st.builds(
    WebhookEvent,
    id=st.from_regex(r"[A-Za-z0-9_-]{1,255}", fullmatch=True),
    type=st.sampled_from(list(WebhookEventType))
    | st.from_regex(r"[a-z]{1,10}(\.[a-z_-]{1,10}){0,3}", fullmatch=True),
    timestamp=st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(9999, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=5, minutes=30))]
        ),
    ),
    data=st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5),
)


@given(event=EVENTS, offset=st.integers(min_value=-300, max_value=300), two_secrets=st.booleans())
def test_any_event_survives_signing_and_verification(
    event: WebhookEvent, offset: int, two_secrets: bool
) -> None:
    """Any event, sent up to 300 s either side of now with one or two secrets, verifies to itself."""
    secrets = ROTATING if two_secrets else NEW
    assert check(deliver(event, secrets, at=NOW + timedelta(seconds=offset)), NEW) == event


@given(
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "Webhook-Timestamp", "webhook-signature", "x"]) | st.text(max_size=20),
        st.text(max_size=80) | st.binary(max_size=10) | st.none() | st.integers(),
        max_size=6,
    ),
    body=st.binary(max_size=200),
)
def test_arbitrary_input_raises_only_verification_errors(headers: dict[str, Any], body: bytes) -> None:
    """Whatever headers and body arrive, verification raises a WebhookVerificationError and nothing else."""
    with pytest.raises(WebhookVerificationError):
        verify(headers, body, ROTATING, now=NOW)


@given(
    body=st.binary(max_size=200)
    | st.dictionaries(
        st.sampled_from(["type", "timestamp", "data", "x"]),
        JSON_VALUES | st.sampled_from(["a.b", "2026-11-24T12:00:00Z", "2026-11-24"]),
    ).map(lambda document: json.dumps(document).encode())
)
def test_any_signed_body_is_an_event_or_a_payload_error(body: bytes) -> None:
    """A correctly signed body either is an event or raises WebhookPayloadError, never anything else."""
    headers = sign(body, OLD, webhook_id="msg_1", timestamp=NOW)
    try:
        event = verify(headers, body, OLD, now=NOW)
    except WebhookPayloadError:
        return
    assert event.id == "msg_1"


# -- tampering -------------------------------------------------------------------------------------------

Mutator = Callable[[random.Random, Delivery], tuple[dict[str, Any], bytes]]
BASE64_CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
ID_CHARACTERS = string.ascii_letters + string.digits + "_-"


def seeded(seed: int | str) -> random.Random:
    """A reproducible generator of test data (not of secrets)."""
    return random.Random(seed)  # noqa: S311 - reproducible mutations, nothing secret


def _entries(headers: dict[str, str]) -> list[str]:
    return headers["webhook-signature"].split(" ")


def _with_entry(_rng: random.Random, headers: dict[str, str], change: Callable[[str], str]) -> dict[str, str]:
    """Change the value of every v1 entry of the signature header (one intact entry would still verify)."""
    entries = ["v1," + change(entry.removeprefix("v1,")) for entry in _entries(headers)]
    return {**headers, "webhook-signature": " ".join(entries)}


def flip_body_bit(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Flip one bit of the body."""
    headers, body = delivery
    data = bytearray(body)
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return headers, bytes(data)


def reformat_body_whitespace(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Re-encode the same JSON with spaces, an indent or a trailing newline."""
    headers, body = delivery
    document = json.loads(body)
    layout: dict[str, Any] = rng.choice([{"indent": 2}, {"separators": (", ", ": ")}, {"indent": "\t"}])
    return headers, json.dumps(document, **layout).encode()


def reencode_body(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Re-encode the same JSON as UTF-8 instead of escapes, with keys sorted."""
    headers, body = delivery
    document = json.loads(body)
    text = json.dumps(document, ensure_ascii=False, sort_keys=rng.random() < 0.5, separators=(",", ":"))
    if text.encode() == body:
        text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return headers, text.encode()


def truncate_body(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Drop 1 to 20 bytes from the end of the body."""
    headers, body = delivery
    return headers, body[: -rng.randint(1, 20)]


def extend_body(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Append whitespace (still the same JSON) or other bytes to the body."""
    headers, body = delivery
    return headers, body + rng.choice([b" ", b"\n", b"\r\n", b"\x00", b"}"])


def change_event_data(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Re-encode the body compactly with one data value or the type changed."""
    headers, body = delivery
    document = json.loads(body)
    if rng.random() < 0.5:
        document["type"] = rng.choice([kind.value for kind in WebhookEventType if kind != document["type"]])
    else:
        document["data"]["device_id"] = document["data"]["device_id"] + "0"
    return headers, json.dumps(document, separators=(",", ":")).encode()


def flip_signature_character(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Replace one base64 character of each signature with another."""
    headers, body = delivery

    def change(value: str) -> str:
        index = rng.randrange(len(value) - 1)
        other = rng.choice([c for c in BASE64_CHARACTERS if c != value[index]])
        return value[:index] + other + value[index + 1 :]

    return _with_entry(rng, headers, change), body


def flip_signature_bit(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Flip one bit of each decoded signature and re-encode it."""
    headers, body = delivery

    def change(value: str) -> str:
        digest = bytearray(base64.b64decode(value))
        digest[rng.randrange(len(digest))] ^= 1 << rng.randrange(8)
        return b64(bytes(digest))

    return _with_entry(rng, headers, change), body


def flip_spare_bits(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Change only the unused low bits of each signature's last character: the same bytes, other text."""
    headers, body = delivery

    def change(value: str) -> str:
        last = BASE64_CHARACTERS.index(value[-2])
        return value[:-2] + BASE64_CHARACTERS[last ^ rng.randrange(1, 4)] + "="

    return _with_entry(rng, headers, change), body


def truncate_signature(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Drop 1 to 43 characters from the end of each signature."""
    headers, body = delivery
    return _with_entry(rng, headers, lambda value: value[: -rng.randint(1, 43)]), body


def swap_signature(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Take the signature header of another delivery."""
    headers, body = delivery
    other = rng.choice([sample for sample in SAMPLES if sample[1] != body])
    return {**headers, "webhook-signature": other[0]["webhook-signature"]}, body


def sign_with_stranger(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Re-sign the same id, timestamp and body with a secret the receiver does not hold."""
    headers, body = delivery
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    signed = sign(body, STRANGER, webhook_id=headers["webhook-id"], timestamp=at)
    if rng.random() < 0.5:
        return signed, body
    mixed = f"{signed['webhook-signature']} {signed['webhook-signature']}"
    return {**headers, "webhook-signature": mixed}, body


def change_id(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Replace, append or drop one character of the id (staying a well-formed id)."""
    headers, body = delivery
    webhook_id = headers["webhook-id"]
    index = rng.randrange(len(webhook_id))
    choice = rng.randrange(3)
    if choice == 0:
        other = rng.choice([c for c in ID_CHARACTERS if c != webhook_id[index]])
        changed = webhook_id[:index] + other + webhook_id[index + 1 :]
    elif choice == 1:
        changed = webhook_id + rng.choice(ID_CHARACTERS)
    else:
        changed = webhook_id[:index] + webhook_id[index + 1 :]
    return {**headers, "webhook-id": changed}, body


def move_delimiter(_rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Move the timestamp's first digit onto the end of the id: the same characters, split otherwise."""
    headers, body = delivery
    timestamp = headers["webhook-timestamp"]
    return {
        **headers,
        "webhook-id": headers["webhook-id"] + timestamp[0],
        "webhook-timestamp": timestamp[1:],
    }, body


def shift_timestamp(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Move the timestamp by 1 to 40 s, staying inside the window, without re-signing."""
    headers, body = delivery
    shifted = int(headers["webhook-timestamp"]) + rng.choice([-1, 1]) * rng.randint(1, 40)
    return {**headers, "webhook-timestamp": str(shifted)}, body


def resign_outside_window(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Sign the same id and body correctly, but more than 300 s before or after now (a replay)."""
    headers, body = delivery
    offset = timedelta(seconds=rng.choice([-1, 1]) * rng.randint(301, 10**7))
    return sign(body, ROTATING, webhook_id=headers["webhook-id"], timestamp=NOW + offset), body


def drop_header(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Leave one of the three headers out."""
    headers, body = delivery
    dropped = rng.choice(sorted(headers))
    return {name: value for name, value in headers.items() if name != dropped}, body


def repeat_header(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Give one header twice, under another case, with another delivery's value."""
    headers, body = delivery
    name = rng.choice(sorted(headers))
    other = rng.choice([sample for sample in SAMPLES if sample[1] != body])
    return {**headers, name.upper(): other[0][name]}, body


def change_version(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Relabel every signature as another version (v1a, v2, v0)."""
    headers, body = delivery
    version = rng.choice(["v1a", "v2", "v0", "v10"])
    relabelled = headers["webhook-signature"].replace("v1,", f"{version},")
    return {**headers, "webhook-signature": relabelled}, body


def change_signature_case(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Swap the case of every letter of each signature."""
    headers, body = delivery
    return _with_entry(rng, headers, str.swapcase), body


def pad_header(rng: random.Random, delivery: Delivery) -> tuple[dict[str, Any], bytes]:
    """Add a space or tab before or after one header value."""
    headers, body = delivery
    name = rng.choice(sorted(headers))
    padding = rng.choice([" ", "\t"])
    value = padding + headers[name] if rng.random() < 0.5 else headers[name] + padding
    return {**headers, name: value}, body


MUTATORS: list[Mutator] = [
    flip_body_bit,
    reformat_body_whitespace,
    reencode_body,
    truncate_body,
    extend_body,
    change_event_data,
    flip_signature_character,
    flip_signature_bit,
    flip_spare_bits,
    truncate_signature,
    swap_signature,
    sign_with_stranger,
    change_id,
    move_delimiter,
    shift_timestamp,
    resign_outside_window,
    drop_header,
    repeat_header,
    change_version,
    change_signature_case,
    pad_header,
]


def sample_deliveries() -> list[Delivery]:
    """A spread of valid deliveries: every event type, several ids and times, one or two secrets."""
    rng = seeded(20261124)
    kinds = list(WebhookEventType)
    samples = []
    for number in range(60):
        event = WebhookEvent(
            id=rng.choice([f"msg_{number:04d}", new_webhook_id(), f"evt-{number}_{'x' * number}"]),
            type=kinds[number % len(kinds)],
            timestamp=NOW - timedelta(seconds=rng.randrange(10**6), microseconds=rng.randrange(10**6)),
            data={
                "order_id": f"ord_{number}",
                "device_id": f"dev_{rng.randrange(10**6)}",
                "note": rng.choice(["", "Läden", "✓ geprüft", "plain"]),
                "amount": f"{rng.randrange(10**5)}.{rng.randrange(100):02d}",
            },
        )
        secrets = (OLD, NEW, ROTATING)[number % 3]
        samples.append(deliver(event, secrets, at=NOW + timedelta(seconds=rng.randint(-250, 250))))
    return samples


SAMPLES = sample_deliveries()


def test_sample_deliveries_verify() -> None:
    """The deliveries the tampering tests start from verify, signed with one secret or two."""
    for delivery in SAMPLES:
        check(delivery)
    assert {len(_entries(headers)) for headers, _ in SAMPLES} == {1, 2}


def test_ten_thousand_mutated_deliveries_none_accepted() -> None:
    """10,000 seeded mutations of bodies, signatures, ids, timestamps and headers: none verifies."""
    rng = seeded(1_000_003)
    accepted: list[Delivery] = []
    codes: dict[str, set[str]] = {mutator.__name__: set() for mutator in MUTATORS}
    for number in range(10_000):
        mutator = MUTATORS[number % len(MUTATORS)]
        delivery = rng.choice(SAMPLES)
        mutant = mutator(rng, delivery)
        assert mutant != delivery, mutator.__name__
        try:
            verify(mutant[0], mutant[1], ROTATING, now=NOW)
        except WebhookVerificationError as error:
            codes[mutator.__name__].add(error.code)
        else:
            accepted.append(mutant)
    assert accepted == []
    assert all(codes.values())
    # Nothing tampered ever reaches the body's content: the signature or the window stops it first.
    assert set().union(*codes.values()) == {
        "webhook_header_missing",
        "webhook_header_malformed",
        "webhook_signature_invalid",
        "webhook_timestamp_too_old",
        "webhook_timestamp_too_new",
    }


@pytest.mark.parametrize(
    ("mutator", "codes"),
    [
        (flip_body_bit, {"webhook_signature_invalid"}),
        (reformat_body_whitespace, {"webhook_signature_invalid"}),
        (reencode_body, {"webhook_signature_invalid"}),
        (extend_body, {"webhook_signature_invalid"}),
        (change_event_data, {"webhook_signature_invalid"}),
        (flip_signature_bit, {"webhook_signature_invalid"}),
        (flip_spare_bits, {"webhook_signature_invalid"}),
        (swap_signature, {"webhook_signature_invalid"}),
        (sign_with_stranger, {"webhook_signature_invalid"}),
        (change_id, {"webhook_signature_invalid"}),
        (move_delimiter, {"webhook_signature_invalid"}),
        (shift_timestamp, {"webhook_signature_invalid"}),
        (resign_outside_window, {"webhook_timestamp_too_old", "webhook_timestamp_too_new"}),
        (drop_header, {"webhook_header_missing"}),
        (repeat_header, {"webhook_header_malformed"}),
        (change_version, {"webhook_signature_invalid"}),
        (pad_header, {"webhook_header_malformed"}),
    ],
    ids=lambda value: value.__name__ if callable(value) else "-".join(sorted(value)),
)
def test_each_kind_of_tampering_gets_its_code(mutator: Mutator, codes: set[str]) -> None:
    """Each kind of tampering is refused with the code of the check that catches it."""
    rng = seeded(mutator.__name__)
    seen = set()
    for delivery in SAMPLES:
        headers, body = mutator(rng, delivery)
        with pytest.raises(WebhookVerificationError) as caught:
            verify(headers, body, ROTATING, now=NOW)
        seen.add(caught.value.code)
    assert seen == codes


# -- secrets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b64(OLD_SECRET), "does not start with whsec_"),
        ("WHSEC_" + b64(OLD_SECRET), "does not start with whsec_"),
        ("whsec_", "24 to 64"),
        ("whsec_" + b64(bytes(23)), "24 to 64"),
        ("whsec_" + b64(bytes(65)), "24 to 64"),
        ("whsec_" + b64(bytes([251] * 32)).replace("+", "-"), "not base64"),
        ("whsec_" + base64.urlsafe_b64encode(bytes([251] * 32)).decode(), "not base64"),
        ("whsec_" + b64(OLD_SECRET) + "=", "not base64"),
        ("whsec_" + b64(OLD_SECRET)[:-1] + "==", "not base64"),
        ("whsec_ " + b64(OLD_SECRET), "not base64"),
        ("whsec_" + b64(OLD_SECRET)[:-2] + "B=", "canonical"),
        ("whsec_" + "A" * 33, "not base64"),
    ],
    ids=[
        "no-prefix",
        "upper-case-prefix",
        "empty",
        "23-bytes",
        "65-bytes",
        "minus-sign",
        "base64url",
        "extra-padding",
        "wrong-padding",
        "space",
        "spare-bits-set",
        "impossible-length",
    ],
)
def test_secret_texts_that_are_refused(text: str, match: str) -> None:
    """A secret must be whsec_ and canonical base64 of 24 to 64 bytes; the message never shows it."""
    with pytest.raises(ConfigurationError, match=match) as caught:
        WebhookSecrets.parse(text)
    assert caught.value.code == "configuration_error"
    assert b64(OLD_SECRET)[5:] not in str(caught.value)


@pytest.mark.parametrize("size", [24, 32, 64], ids=["24-bytes", "32-bytes", "64-bytes"])
def test_secret_sizes_and_unpadded_texts(size: int) -> None:
    """Secrets of 24 to 64 bytes are read with or without padding and written back padded."""
    secret = bytes(range(size))
    padded = "whsec_" + b64(secret)
    assert WebhookSecrets.parse(padded).secrets == (secret,)
    assert WebhookSecrets.parse(padded.rstrip("=")).secrets == (secret,)
    assert WebhookSecrets.parse(padded.rstrip("=")).texts == (padded,)


@pytest.mark.parametrize(
    ("secrets", "match"),
    [
        ([], "at least one"),
        ([OLD_SECRET, OLD_SECRET], "twice"),
        (["whsec_" + b64(OLD_SECRET)], "must be bytes"),
        ([bytes(10)], "10 bytes"),
    ],
    ids=["none", "duplicate", "text-not-bytes", "too-short"],
)
def test_secret_sets_that_are_refused(secrets: list[Any], match: str) -> None:
    """Empty sets, repeated secrets and secrets that are not bytes of the right size are refused."""
    with pytest.raises(ConfigurationError, match=match):
        WebhookSecrets(secrets=secrets)


def test_secrets_are_hidden_from_repr() -> None:
    """The repr shows how many secrets there are, never their bytes or text."""
    shown = repr(ROTATING)
    assert shown == "WebhookSecrets(secrets=<2 hidden>)"
    assert b64(OLD_SECRET)[:10] not in shown


def test_generated_secrets_are_random_and_usable() -> None:
    """A generated secret has 32 random bytes, and its text configures the other end."""
    first, second = WebhookSecrets.generate(), WebhookSecrets.generate()
    assert len(first.secrets[0]) == 32
    assert first.secrets != second.secrets
    receiver = WebhookSecrets.parse(*first.texts)
    assert check(deliver(make_event(), first), receiver).id == "msg_0001"


def test_rotation_step_by_step() -> None:
    """Add the new secret on both ends, then drop the old one: deliveries verify at every step."""
    sender = receiver = OLD
    receiver = receiver.with_secret(NEW_TEXT)
    check(deliver(make_event(), sender), receiver)
    sender = sender.with_secret(NEW_TEXT)
    check(deliver(make_event(), sender), receiver)
    sender = sender.without_secret(OLD_TEXT)
    check(deliver(make_event(), sender), receiver)
    receiver = receiver.without_secret(OLD_TEXT)
    assert check(deliver(make_event(), sender), receiver).id == "msg_0001"
    assert receiver == NEW
    with pytest.raises(WebhookSignatureError):
        check(deliver(make_event(), OLD), receiver)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda secrets: secrets.with_secret(OLD_TEXT), "twice"),
        (lambda secrets: secrets.with_secret("nope"), "whsec_"),
        (lambda secrets: secrets.without_secret(NEW_TEXT), "not held"),
        (lambda secrets: secrets.without_secret(OLD_TEXT), "at least one"),
    ],
    ids=["add-held", "add-malformed", "drop-unknown", "drop-last"],
)
def test_rotation_mistakes_are_refused(change: Callable[[WebhookSecrets], object], match: str) -> None:
    """Adding a held secret, dropping one not held or dropping the last one is refused."""
    with pytest.raises(ConfigurationError, match=match):
        change(OLD)


@pytest.mark.parametrize(
    ("environ", "expected", "match"),
    [
        ({"TRADEIN_WEBHOOK_SECRETS": OLD_TEXT}, OLD, None),
        ({"TRADEIN_WEBHOOK_SECRETS": f"  {OLD_TEXT}   {NEW_TEXT}\n"}, ROTATING, None),
        ({}, None, "is not set"),
        ({"TRADEIN_WEBHOOK_SECRETS": "  "}, None, "is not set"),
        ({"TRADEIN_WEBHOOK_SECRETS": f"{OLD_TEXT},{NEW_TEXT}"}, None, "entry 1 is not base64"),
        ({"TRADEIN_WEBHOOK_SECRETS": f"{OLD_TEXT} secret"}, None, "entry 2 does not start"),
    ],
    ids=["one", "two-with-spaces", "absent", "blank", "comma-separated", "second-malformed"],
)
def test_secrets_from_the_environment(
    environ: dict[str, str], expected: WebhookSecrets | None, match: str | None
) -> None:
    """TRADEIN_WEBHOOK_SECRETS holds space-separated whsec_ secrets; anything else names the entry."""
    if expected is not None:
        assert WebhookSecrets.from_environment(environ) == expected
        return
    with pytest.raises(ConfigurationError, match=match):
        WebhookSecrets.from_environment(environ)


# -- events ----------------------------------------------------------------------------------------------


def nested_lists(depth: int) -> list[Any]:
    """A list nested ``depth`` levels deep."""
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"timestamp": datetime(2026, 11, 24, 12)}, ValueError, "no timezone"),  # noqa: DTZ001 - naive on purpose
        ({"id": "msg.1"}, ValueError, "webhook id"),
        ({"id": ""}, ValueError, "webhook id"),
        ({"type": "device received"}, ValueError, "event type"),
        ({"type": "d" * 201}, ValueError, "event type"),
        ({"data": {"amount": Decimal("1.50")}}, TypeError, "Decimal"),
        ({"data": {"ratio": float("nan")}}, ValueError, "Out of range"),
        ({"data": {"pair": (1, 2)}}, ValueError, "unchanged"),
        ({"data": {1: "one"}}, ValueError, "unchanged"),
        ({"data": ["a"]}, TypeError, "mapping"),
        ({"data": {"deep": nested_lists(5000)}}, ValueError, "nested"),
    ],
    ids=[
        "naive-timestamp",
        "id-with-dot",
        "empty-id",
        "type-with-space",
        "type-too-long",
        "decimal",
        "nan",
        "tuple",
        "integer-key",
        "list-data",
        "nested-too-deeply",
    ],
)
def test_invalid_events_are_refused(changes: dict[str, Any], error: type[Exception], match: str) -> None:
    """Events with naive times, bad ids or types, or data JSON cannot carry unchanged are refused."""
    with pytest.raises(error, match=match):
        make_event(**changes)


def test_created_events_get_fresh_ids() -> None:
    """create() gives each event its own msg_ id with 128 random bits, and keeps the data as JSON."""
    data = {"order_id": "ord_1"}
    events = [
        WebhookEvent.create(event_type=WebhookEventType.DEVICE_PAID, data=data, timestamp=NOW)
        for _ in range(100)
    ]
    assert len({event.id for event in events}) == 100
    assert all(event.id.startswith("msg_") and len(event.id) == 26 for event in events)
    assert events[0].type == "device.paid"
    assert events[0].data == data
    assert events[0].data is not data


def test_event_times_are_utc_and_the_body_is_stable() -> None:
    """Event times become UTC; the body is the same bytes on every call and ASCII only."""
    event = make_event(
        timestamp=datetime(2026, 11, 24, 13, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=1)))
    )
    assert event.timestamp == NOW + timedelta(microseconds=250_000)
    assert event.timestamp.tzinfo is UTC
    assert event.to_body() == event.to_body()
    assert b'"timestamp":"2026-11-24T12:00:00.250000Z"' in event.to_body()
    assert event.to_body().isascii()


# -- retry schedule --------------------------------------------------------------------------------------


def test_standard_schedule() -> None:
    """The default schedule is Standard Webhooks': 10 attempts over 75 h 35 min 5 s, ±10 % jitter."""
    schedule = RetrySchedule()
    assert schedule.delays == STANDARD_RETRY_DELAYS
    assert schedule.max_attempts == 10
    assert sum(schedule.delays, timedelta(0)) == timedelta(hours=75, minutes=35, seconds=5)
    assert schedule.horizon == timedelta(hours=75, minutes=35, seconds=5) * 1.1
    assert schedule.horizon >= timedelta(hours=76)
    assert [schedule.delay_before(attempt) for attempt in range(2, 11)] == list(STANDARD_RETRY_DELAYS)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"first": timedelta(seconds=1), "cap": timedelta(seconds=10), "retries": 6}, [1, 2, 4, 8, 10, 10]),
        (
            {"first": timedelta(seconds=0.5), "cap": timedelta(seconds=5), "retries": 7},
            [0.5, 1, 2, 4, 5, 5, 5],
        ),
        ({"first": timedelta(seconds=3), "cap": timedelta(seconds=3), "retries": 2, "factor": 1}, [3, 3]),
        ({"first": timedelta(seconds=1), "cap": timedelta(days=1), "retries": 0}, []),
    ],
    ids=["doubling-capped-at-10", "stripe-like", "constant", "single-attempt"],
)
def test_exponential_schedules(arguments: dict[str, Any], expected: list[float]) -> None:
    """An exponential schedule grows by its factor from the first wait and never exceeds the cap."""
    schedule = RetrySchedule.exponential(**arguments)
    assert [delay.total_seconds() for delay in schedule.delays] == expected
    assert schedule.max_attempts == len(expected) + 1


def test_long_exponential_schedules_do_not_overflow() -> None:
    """Thousands of retries stay at the cap instead of overflowing."""
    schedule = RetrySchedule.exponential(first=timedelta(seconds=1), cap=timedelta(hours=1), retries=5000)
    assert schedule.delays[-1] == timedelta(hours=1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: RetrySchedule(delays=[timedelta(seconds=-1)]),
        lambda: RetrySchedule(delays=[5]),  # type: ignore[list-item]
        lambda: RetrySchedule(jitter=1.0),
        lambda: RetrySchedule(jitter=-0.1),
        lambda: RetrySchedule.exponential(first=timedelta(0), cap=timedelta(1), retries=1),
        lambda: RetrySchedule.exponential(first=timedelta(2), cap=timedelta(1), retries=1),
        lambda: RetrySchedule.exponential(first=timedelta(1), cap=timedelta(2), retries=1, factor=0.5),
        lambda: RetrySchedule.exponential(first=timedelta(1), cap=timedelta(2), retries=-1),
    ],
    ids=[
        "negative-wait",
        "wait-not-timedelta",
        "jitter-one",
        "negative-jitter",
        "zero-first",
        "cap-below-first",
        "shrinking",
        "negative-retries",
    ],
)
def test_invalid_schedules_are_refused(build: Callable[[], object]) -> None:
    """Negative or non-timedelta waits, jitter outside [0, 1) and impossible exponentials are refused."""
    with pytest.raises(ConfigurationError):
        build()


@given(
    attempt=st.integers(min_value=2, max_value=10),
    draw=st.floats(min_value=0, max_value=1),
    jitter=st.floats(min_value=0, max_value=0.99),
)
def test_jitter_stays_within_its_bounds(attempt: int, draw: float, jitter: float) -> None:
    """Every jittered wait lies within ±jitter of the nominal wait, and grows with the draw."""
    schedule = RetrySchedule(jitter=jitter)
    nominal = STANDARD_RETRY_DELAYS[attempt - 2]
    wait = schedule.delay_before(attempt, draw=draw)
    tick = timedelta(microseconds=1)
    assert nominal * (1 - jitter) - tick <= wait <= nominal * (1 + jitter) + tick
    assert schedule.delay_before(attempt, draw=0) <= wait <= schedule.delay_before(attempt, draw=1)


@pytest.mark.parametrize(
    ("attempt", "draw"),
    [(1, 0.5), (11, 0.5), (2, -0.1), (2, 1.1)],
    ids=["first-attempt", "beyond-the-last", "negative-draw", "draw-above-one"],
)
def test_delay_before_refuses_what_the_schedule_has_not(attempt: int, draw: float) -> None:
    """There is no wait before the first attempt or after the last, and draws lie in [0, 1]."""
    with pytest.raises(ValueError, match=r"attempt|draw"):
        RetrySchedule().delay_before(attempt, draw=draw)


def test_delivery_attempts_nominal_and_jittered() -> None:
    """Attempts fall due at the cumulative waits; with a seeded generator, reproducibly jittered."""
    nominal = delivery_attempts(RetrySchedule(), first_attempt_at=NOW)
    assert nominal[0] == NOW
    assert nominal[1] == NOW + timedelta(seconds=5)
    assert nominal[-1] - nominal[0] == timedelta(hours=75, minutes=35, seconds=5)
    jittered = delivery_attempts(RetrySchedule(), first_attempt_at=NOW, rng=seeded(7))
    assert jittered == delivery_attempts(RetrySchedule(), first_attempt_at=NOW, rng=seeded(7))
    assert jittered != nominal
    for (before, after), delay in zip(itertools.pairwise(jittered), STANDARD_RETRY_DELAYS, strict=True):
        assert delay * 0.9 <= after - before <= delay * 1.1
    with pytest.raises(ValueError, match="no timezone"):
        delivery_attempts(RetrySchedule(), first_attempt_at=datetime(2026, 11, 24))  # noqa: DTZ001


# -- sending ---------------------------------------------------------------------------------------------

URL = "https://shop.example/hooks/tradein?token=s3cr3t"


class MiddleRandom(random.Random):
    """A generator whose every draw is 0.5: waits come out exactly nominal."""

    def random(self) -> float:
        """Return 0.5."""
        return 0.5


class Harness:
    """A sender on a fixed clock whose sleeps are recorded and move the clock, never wait."""

    def __init__(self, **options: Any) -> None:  # noqa: ANN401 - WebhookSender options
        """Create the sender with ``options`` over the defaults."""
        self.clock = FixedClock(NOW)
        self.sleeps: list[float] = []
        self.client = httpx.Client()
        settings: dict[str, Any] = {
            "secrets": ROTATING,
            "client": self.client,
            "clock": self.clock,
            "sleep": self.sleep,
            "rng": MiddleRandom(),
        }
        settings.update(options)
        self.sender = WebhookSender(**settings)

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock by it."""
        self.sleeps.append(seconds)
        self.clock.advance(seconds=seconds)


FAILURES: list[Any] = [
    httpx.ConnectError,
    httpx.Response(503),
    httpx.ReadTimeout,
    httpx.Response(429),
    httpx.Response(408),
    httpx.Response(500),
]


@pytest.mark.parametrize("failures", [0, 2, 4], ids=["first-try", "fails-twice", "fails-four-times"])
def test_fails_n_times_then_succeeds(router: respx.MockRouter, failures: int) -> None:
    """Failed attempts are retried after the schedule's waits with the same id and body, each signed anew."""
    route = router.post(URL).mock(side_effect=[*FAILURES[:failures], httpx.Response(204)])
    harness = Harness()
    event = make_event()
    delivery = harness.sender.send(URL, event)
    assert delivery.delivered
    assert route.call_count == failures + 1
    assert [attempt.number for attempt in delivery.attempts] == list(range(1, failures + 2))
    assert harness.sleeps == [delay.total_seconds() for delay in STANDARD_RETRY_DELAYS[:failures]]
    moments = [NOW + timedelta(seconds=sum(harness.sleeps[:number])) for number in range(failures + 1)]
    assert [attempt.attempted_at for attempt in delivery.attempts] == moments
    for call, moment in zip(route.calls, moments, strict=True):
        request = call.request
        assert request.headers["webhook-id"] == event.id
        assert request.content == event.to_body()
        assert request.headers["content-type"] == "application/json"
        assert request.extensions["timeout"] == {"connect": 15.0, "read": 15.0, "write": 15.0, "pool": 15.0}
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        assert verify(request.headers, request.content, OLD, now=moment) == event
    assert delivery.attempts[-1].status_code == 204
    assert all(attempt.outcome is AttemptOutcome.RETRY for attempt in delivery.attempts[:-1])


def test_attempts_in_the_same_second_carry_identical_headers(router: respx.MockRouter) -> None:
    """The same id, timestamp and body give byte-identical signatures; a later attempt only re-signs."""
    route = router.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200)])
    standing = Harness(sleep=lambda _seconds: None)  # the clock does not move
    standing.sender.send(URL, make_event())
    first, second, third = (call.request.headers for call in route.calls)
    assert first["webhook-id"] == second["webhook-id"] == third["webhook-id"]
    assert first["webhook-signature"] == second["webhook-signature"] == third["webhook-signature"]


@pytest.mark.parametrize(
    ("answer", "sleep"),
    [
        (httpx.Response(429, headers={"Retry-After": "30"}), 30.0),
        (httpx.Response(429, headers={"Retry-After": "100000"}), 600.0),
        (httpx.Response(429, headers={"Retry-After": "1"}), 5.0),
        (httpx.Response(503, headers={"Retry-After": "120"}), 120.0),
        (
            httpx.Response(
                429,
                headers={"Retry-After": email.utils.format_datetime(NOW + timedelta(minutes=2), usegmt=True)},
            ),
            120.0,
        ),
        (httpx.Response(429, headers={"Retry-After": "Tue, 24 Nov 2026 12:03:00 -0000"}), 180.0),
        (httpx.Response(429, headers={"Retry-After": "Tue, 24 Nov 2026 11:00:00 GMT"}), 5.0),
        (httpx.Response(429, headers={"Retry-After": "soon"}), 5.0),
        (httpx.Response(429, headers={"Retry-After": "-30"}), 5.0),
        (httpx.Response(429), 5.0),
    ],
    ids=[
        "seconds",
        "capped",
        "shorter-than-the-schedule",
        "503-with-retry-after",
        "http-date",
        "http-date-without-zone",
        "date-in-the-past",
        "garbage",
        "negative",
        "absent",
    ],
)
def test_retry_after_is_honoured_up_to_the_cap(
    router: respx.MockRouter, answer: httpx.Response, sleep: float
) -> None:
    """A Retry-After longer than the scheduled wait is honoured, up to the cap; anything else is ignored."""
    router.post(URL).mock(side_effect=[answer, httpx.Response(200)])
    schedule = RetrySchedule.exponential(first=timedelta(seconds=5), cap=timedelta(minutes=1), retries=3)
    harness = Harness(schedule=schedule, retry_after_cap=timedelta(minutes=10))
    delivery = harness.sender.send(URL, make_event())
    assert harness.sleeps == [sleep]
    assert delivery.delivered


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, WebhookRejectedError, "webhook_rejected"),
        (401, WebhookRejectedError, "webhook_rejected"),
        (404, WebhookRejectedError, "webhook_rejected"),
        (409, WebhookRejectedError, "webhook_rejected"),
        (422, WebhookRejectedError, "webhook_rejected"),
        (301, WebhookRejectedError, "webhook_rejected"),
        (410, WebhookEndpointGoneError, "webhook_endpoint_gone"),
    ],
    ids=["400", "401", "404", "409", "422", "301-redirect", "410-gone"],
)
def test_answers_retrying_cannot_change_are_not_retried(
    router: respx.MockRouter, status: int, error: type[WebhookRejectedError], code: str
) -> None:
    """A 3xx or a 4xx other than 408 and 429 ends the delivery at once; 410 says the endpoint is gone."""
    route = router.post(URL).mock(return_value=httpx.Response(status))
    harness = Harness()
    with pytest.raises(error) as caught:
        harness.sender.send(URL, make_event())
    assert caught.value.code == code
    assert caught.value.status_code == status
    assert route.call_count == 1
    assert harness.sleeps == []
    assert not caught.value.delivery.delivered
    assert f"HTTP {status}" in str(caught.value)


REQUEST_ERRORS = [
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.PoolTimeout,
    httpx.ConnectError,
    httpx.ReadError,
    httpx.WriteError,
    httpx.CloseError,
    httpx.LocalProtocolError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.DecodingError,
    httpx.TooManyRedirects,
]


@pytest.mark.parametrize("exception", REQUEST_ERRORS, ids=lambda exception: exception.__name__)
def test_every_httpx_request_error_is_retried(router: respx.MockRouter, exception: type[Exception]) -> None:
    """Each of httpx's 12 transport errors, and its decoding and redirect errors, is retried."""
    route = router.post(URL).mock(side_effect=[exception, httpx.Response(200)])
    harness = Harness()
    delivery = harness.sender.send(URL, make_event())
    assert delivery.delivered
    assert route.call_count == 2
    assert delivery.attempts[0].status_code is None
    assert delivery.attempts[0].error is not None
    assert delivery.attempts[0].error.startswith(f"{exception.__name__}: ")
    assert harness.sleeps == [5.0]


def test_test_every_request_error_class_is_covered() -> None:
    """The list above holds every concrete httpx.RequestError subclass this httpx version has."""

    def leaves(cls: type[Exception]) -> set[type[Exception]]:
        subclasses = set(cls.__subclasses__())
        return {leaf for sub in subclasses for leaf in leaves(sub)} if subclasses else {cls}

    assert leaves(httpx.RequestError) == set(REQUEST_ERRORS)


@pytest.mark.parametrize(
    ("answer", "cause"),
    [(httpx.Response(503), None), (httpx.ConnectError, httpx.ConnectError)],
    ids=["always-503", "always-unreachable"],
)
def test_a_delivery_that_never_succeeds(
    router: respx.MockRouter,
    answer: httpx.Response | type[Exception],
    cause: type[Exception] | None,
) -> None:
    """After the schedule's last attempt the delivery fails with every attempt recorded, the URL hidden."""
    route = router.post(URL).mock(side_effect=itertools.repeat(answer))
    harness = Harness()
    with pytest.raises(WebhookDeliveryError) as caught:
        harness.sender.send(URL, make_event())
    assert type(caught.value) is WebhookDeliveryError
    assert caught.value.code == "webhook_delivery_failed"
    assert route.call_count == 10
    assert len(caught.value.delivery.attempts) == 10
    assert harness.sleeps == [delay.total_seconds() for delay in STANDARD_RETRY_DELAYS]
    assert "https://shop.example" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert "hooks" not in str(caught.value)
    if cause is None:
        assert caught.value.__cause__ is None
    else:
        assert isinstance(caught.value.__cause__, cause)


def test_jitter_spreads_the_waits(router: respx.MockRouter) -> None:
    """With real draws, each wait is the scheduled one times a factor in [0.9, 1.1] from the generator."""
    router.post(URL).mock(side_effect=[httpx.Response(500)] * 4 + [httpx.Response(200)])
    harness = Harness(rng=seeded(11))
    harness.sender.send(URL, make_event())
    draws = seeded(11)
    expected = [
        RetrySchedule().delay_before(attempt, draw=draws.random()).total_seconds() for attempt in range(2, 6)
    ]
    assert harness.sleeps == expected
    assert harness.sleeps != [delay.total_seconds() for delay in STANDARD_RETRY_DELAYS[:4]]


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (httpx.Response(200), AttemptOutcome.DELIVERED),
        (httpx.Response(299), AttemptOutcome.DELIVERED),
        (httpx.Response(502), AttemptOutcome.RETRY),
        (httpx.ConnectTimeout, AttemptOutcome.RETRY),
        (httpx.Response(403), AttemptOutcome.REJECTED),
        (httpx.Response(410), AttemptOutcome.GONE),
    ],
    ids=["200", "299", "502", "connect-timeout", "403", "410"],
)
def test_a_single_attempt_reports_its_outcome(
    router: respx.MockRouter,
    answer: httpx.Response | type[Exception],
    outcome: AttemptOutcome,
) -> None:
    """attempt() posts once and classifies the answer without raising, for services with their own queue."""
    router.post(URL).mock(side_effect=[answer])
    harness = Harness()
    attempt = harness.sender.attempt(URL, make_event(), number=3)
    assert attempt.outcome is outcome
    assert attempt.number == 3
    assert attempt.attempted_at == NOW
    assert harness.sleeps == []


@pytest.mark.parametrize(
    "url",
    ["ftp://shop.example/hook", "shop.example/hook", "https://", "http://[::1", 42],
    ids=["ftp", "no-scheme", "no-host", "broken-ipv6", "not-text"],
)
def test_endpoints_must_be_http_urls(url: Any) -> None:  # noqa: ANN401 - wrong on purpose
    """A URL that is not http(s) with a host is a configuration error before anything is sent."""
    harness = Harness()
    with pytest.raises(ConfigurationError, match="webhook URL"):
        harness.sender.send(url, make_event())
    with pytest.raises(ConfigurationError, match="webhook URL"):
        harness.sender.attempt(url, make_event())


@pytest.mark.parametrize(
    ("options", "match"),
    [({"timeout": 0}, "timeout"), ({"retry_after_cap": timedelta(seconds=-1)}, "cap")],
    ids=["zero-timeout", "negative-cap"],
)
def test_sender_settings_are_checked(options: dict[str, Any], match: str) -> None:
    """A sender needs a positive timeout and a Retry-After cap of zero or more."""
    with pytest.raises(ConfigurationError, match=match):
        WebhookSender(secrets=OLD, **options)


def test_own_client_is_closed_an_injected_one_is_not(router: respx.MockRouter) -> None:
    """A sender without a client makes and closes its own; close() leaves an injected client open."""
    router.post(URL).mock(return_value=httpx.Response(200))
    own = WebhookSender(secrets=OLD, clock=FixedClock(NOW), timeout=2.5)
    assert own.send(URL, make_event()).delivered
    assert router.calls.last.request.extensions["timeout"]["read"] == 2.5
    own.close()
    assert own._client.is_closed
    harness = Harness()
    harness.sender.close()
    assert not harness.client.is_closed
    harness.client.close()


# -- deduplication ---------------------------------------------------------------------------------------

CONTENDERS = 20
ROUNDS = 5


def _create_counters(conn: Connection) -> None:
    conn.execute(
        sa.text(
            "CREATE TABLE webhook_test_devices (device_id VARCHAR(40) PRIMARY KEY, state_changes INTEGER)"
        )
    )


@pytest.fixture
def engine(tmp_path: Path, database_url: str | None) -> Iterator[Engine]:
    """An engine on a SQLite file (as the store configures it) and on PostgreSQL, with receipts migrated."""
    if database_url is None:
        opened = sa.create_engine(
            f"sqlite:///{tmp_path / 'webhooks.sqlite3'}",
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=CONTENDERS,
        )
        _configure_sqlite(opened)
    else:
        opened = sa.create_engine(engine_url(database_url), pool_size=CONTENDERS, max_overflow=0)
    with opened.begin() as conn:
        migration_webhooks(conn)
        _create_counters(conn)
    yield opened
    opened.dispose()


def handle(engine: Engine, event: WebhookEvent, *, fail_after_recording: bool = False) -> bool:
    """A receiver's handler: record the receipt and, only if new, count a state change, in one transaction."""
    with engine.begin() as conn:
        if not record_receipt(conn, event, now=NOW):
            return False
        device_id = event.data["device_id"]
        conn.execute(
            sa.text(
                "UPDATE webhook_test_devices SET state_changes = state_changes + 1 WHERE device_id = :device"
            ),
            {"device": device_id},
        )
        if fail_after_recording:
            raise RuntimeError("the handler failed after recording")
        return True


def state_changes(engine: Engine, device_id: str) -> int:
    """How many state changes the handler applied to a device."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT state_changes FROM webhook_test_devices WHERE device_id = :device_id"),
                {"device_id": device_id},
            ).scalar_one()
        )


def add_device(engine: Engine, device_id: str) -> None:
    """A device with no state change yet."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO webhook_test_devices VALUES (:device_id, 0)"), {"device_id": device_id}
        )


def _contend(engine: Engine, event: WebhookEvent) -> Counter[str]:
    """Start CONTENDERS threads at once, each delivering the same event to the handler; count the outcomes."""
    barrier = threading.Barrier(CONTENDERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def deliver_once() -> None:
        barrier.wait()
        outcome = "applied" if handle(engine, event) else "duplicate"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=deliver_once) for _ in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_twenty_concurrent_duplicate_deliveries_change_state_once(engine: Engine) -> None:
    """20 threads delivering one event at once: one applies it, 19 acknowledge a duplicate; counter is 1."""
    for round_number in range(ROUNDS):
        device_id = f"dev_{round_number}"
        add_device(engine, device_id)
        event = make_event(id=f"msg_round_{round_number}", data={"device_id": device_id})
        assert _contend(engine, event) == Counter(applied=1, duplicate=CONTENDERS - 1)
        assert state_changes(engine, device_id) == 1


def test_a_failed_handler_leaves_no_receipt(engine: Engine) -> None:
    """A handler failing after recording rolls its receipt back too, so the retry applies the event."""
    add_device(engine, "dev_1")
    event = make_event(data={"device_id": "dev_1"})
    with pytest.raises(RuntimeError, match="failed after recording"):
        handle(engine, event, fail_after_recording=True)
    assert state_changes(engine, "dev_1") == 0
    assert handle(engine, event)
    assert not handle(engine, event)
    assert state_changes(engine, "dev_1") == 1


def test_receipts_keep_what_was_received(engine: Engine) -> None:
    """A receipt stores the event's id, type, the time received (UTC) and whether it was applied."""
    with engine.begin() as conn:
        assert record_receipt(conn, make_event(id="msg_a"), now=NOW)
        assert record_receipt(
            conn, make_event(id="msg_b", type="device.recycled"), now=NOW + timedelta(hours=1), applied=False
        )
        assert not record_receipt(conn, make_event(id="msg_a"), now=NOW + timedelta(days=1), applied=False)
    table = sa.table(
        WEBHOOK_RECEIPTS_TABLE,
        sa.column("id"),
        sa.column("type"),
        sa.column("received_at"),
        sa.column("applied"),
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.id)).all()
    assert [(row.id, row.type, bool(row.applied)) for row in rows] == [
        ("msg_a", "device.received", True),
        ("msg_b", "device.recycled", False),
    ]


def test_purging_old_receipts(engine: Engine) -> None:
    """Receipts received before the given time are deleted; a purged id is new again."""
    with engine.begin() as conn:
        for hours in range(5):
            record_receipt(conn, make_event(id=f"msg_{hours}"), now=NOW + timedelta(hours=hours))
    with engine.begin() as conn:
        assert purge_receipts(conn, received_before=NOW + timedelta(hours=3)) == 3
    with engine.begin() as conn:
        assert record_receipt(conn, make_event(id="msg_0"), now=NOW + timedelta(days=4))
        assert not record_receipt(conn, make_event(id="msg_4"), now=NOW + timedelta(days=4))


def test_migration_can_run_twice(engine: Engine) -> None:
    """The migration step leaves an existing receipts table and its rows alone."""
    with engine.begin() as conn:
        record_receipt(conn, make_event(), now=NOW)
    with engine.begin() as conn:
        migration_webhooks(conn)
    with engine.begin() as conn:
        assert not record_receipt(conn, make_event(), now=NOW)


def test_without_the_table_it_is_a_store_error(tmp_path: Path) -> None:
    """Recording or purging without the migration raises StoreError naming the problem."""
    bare = sa.create_engine(f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    with (
        pytest.raises(StoreError, match="cannot record the webhook receipt: no such table") as caught,
        bare.begin() as conn,
    ):
        record_receipt(conn, make_event(), now=NOW)
    assert caught.value.code == "store_error"
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    with (
        pytest.raises(StoreError, match="cannot purge webhook receipts: no such table"),
        bare.begin() as conn,
    ):
        purge_receipts(conn, received_before=NOW)
    bare.dispose()


def test_other_databases_are_refused() -> None:
    """Receipts need SQLite or PostgreSQL; another dialect is a configuration error."""
    conn = cast("Connection", SimpleNamespace(dialect=SimpleNamespace(name="mysql")))
    with pytest.raises(ConfigurationError, match="not mysql"):
        record_receipt(conn, make_event(), now=NOW)


KINDS = list(WebhookEventType)


@settings(max_examples=50)
@given(deliveries=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=30))
def test_duplicated_and_reordered_deliveries_apply_each_event_once(deliveries: list[int]) -> None:
    """Whatever order and however often six events arrive, each changes its device's state exactly once."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        migration_webhooks(conn)
        _create_counters(conn)
    for number in range(6):
        add_device(engine, f"dev_{number}")
    events = [
        make_event(id=f"msg_{number}", type=KINDS[number], data={"device_id": f"dev_{number}"})
        for number in range(6)
    ]
    applied = [handle(engine, events[number]) for number in deliveries]
    assert applied.count(True) == len(set(deliveries))
    for number in range(6):
        assert state_changes(engine, f"dev_{number}") == (1 if number in deliveries else 0)
    engine.dispose()


# -- the module itself -----------------------------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    """__all__ lists every public name of the module once, constants, classes, then functions, each sorted."""
    names = webhooks.__all__
    assert names == sorted(
        names, key=lambda name: (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)
    )
    assert len(set(names)) == len(names)
    defined = {
        name
        for name, value in vars(webhooks).items()
        if not name.startswith("_")
        and (getattr(value, "__module__", None) == webhooks.__name__ or (name.isupper() and name != "UTC"))
    } - {"TYPE_CHECKING"}
    assert defined == set(names)


def test_every_public_callable_has_a_docstring() -> None:
    """Each exported class, function and public method says what it does."""
    missing = []
    for name in webhooks.__all__:
        value = getattr(webhooks, name)
        if callable(value) and not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            missing.extend(
                f"{name}.{attribute}"
                for attribute, member in vars(value).items()
                if not attribute.startswith("_")
                and (callable(member) or isinstance(member, property))
                and not inspect.getdoc(member)
            )
    assert missing == []


def test_error_codes_are_unique_and_documented() -> None:
    """Every webhook error has its own stable code, listed in the module's documentation."""
    classes = [
        value
        for value in vars(webhooks).values()
        if inspect.isclass(value)
        and issubclass(value, TradeInError)
        and value.__module__ == webhooks.__name__
    ]
    codes = {cls.__name__: cls.code for cls in classes}
    assert len(classes) == 12
    assert len(set(codes.values())) == len(codes)
    for cls in classes:
        assert f"{cls.__name__}" in (webhooks.__doc__ or "")
        assert cls.code in (webhooks.__doc__ or ""), cls.__name__


def test_import_is_cheap() -> None:
    """Importing the webhooks module loads neither httpx nor SQLAlchemy (they load on first use)."""
    code = (
        "import json, sys; import tradein_sdk.webhooks; "
        "print(json.dumps([m for m in ('httpx', 'sqlalchemy') if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_documentation_examples_run() -> None:
    """The module's docstring examples (the spec's test vector) give what they show."""
    assert doctest.testmod(webhooks, raise_on_error=False).failed == 0
