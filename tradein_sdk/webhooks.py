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

from tradein_sdk._adapters.http.webhooks import WebhookSender
from tradein_sdk._adapters.sql.receipts import (
    WEBHOOK_RECEIPTS_TABLE,
    migration_webhooks,
    purge_receipts,
    record_receipt,
)
from tradein_sdk._domain.webhooks import (
    DEFAULT_TOLERANCE,
    ENVIRONMENT_VARIABLE,
    SECRET_PREFIX,
    STANDARD_RETRY_DELAYS,
    WEBHOOK_ID_HEADER,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    AttemptOutcome,
    DeliveryAttempt,
    RetrySchedule,
    WebhookDelivery,
    WebhookDeliveryError,
    WebhookEndpointGoneError,
    WebhookError,
    WebhookEvent,
    WebhookEventType,
    WebhookHeaderMalformedError,
    WebhookHeaderMissingError,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookSecrets,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTimestampTooNewError,
    WebhookTimestampTooOldError,
    WebhookVerificationError,
    delivery_attempts,
    new_webhook_id,
    sign,
    verify,
)

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

# The names are implemented in the domain and adapter modules; they present themselves as this module's
# (reprs, tracebacks, pickling, documentation), the one users import them from.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) or callable(_value):
        _value.__module__ = __name__
del _name, _value
