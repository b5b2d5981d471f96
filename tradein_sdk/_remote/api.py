"""The trade-in service's HTTP API, declared once.

The service (:mod:`.service`), the clients (:mod:`.client`) and the OpenAPI
document (:mod:`.openapi`) are all built from :data:`OPERATIONS`. Each operation is one use
case of :class:`~tradein_sdk.TradeIn` under the same name: its path parameters, query parameters and JSON
body fields carry the method's arguments by name, and its answer is the method's result in the library's
JSON form (:func:`~.converters.json_converter`), or in the JSON form of its own that a few results have
(:class:`Form`: the ledger and its report, written by their ``to_json``). That is what lets a shop switch
between the embedded facade and a remote client without rewriting its code.

Errors travel as RFC 9457 problem documents (``application/problem+json``)::

    {"type": "urn:tradein-sdk:problem:quote_already_redeemed", "title": "Unprocessable Content",
     "status": 422, "code": "quote_already_redeemed", "detail": "...", "message_id": "...",
     "params": {...}, "problems": [{"path": "$.answers.display_glass", "code": "...", "message": "..."}],
     "request_id": "req_..."}

``code`` is the library's error code, so a client raises the same :class:`~tradein_sdk.TradeInError`
subclass an embedded call would. :func:`status_for` chooses the HTTP status of an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire import VerificationDepth
from tradein_sdk._domain.checkout import CheckoutRequest, CheckoutSummary, NewDevice
from tradein_sdk._domain.co2 import DeviceCO2, OrderCO2
from tradein_sdk._domain.co2 import Outcome as CO2Outcome
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.credit_notes import Party, SellerVatStatus
from tradein_sdk._domain.devices import DeviceCategory
from tradein_sdk._domain.erasure import ErasureCertificate, IssuedCertificate, Revocation, RevocationReason
from tradein_sdk._domain.fleet import (
    Address,
    BatchTrueUp,
    Company,
    ExtraDecision,
    FleetBatch,
    FrameworkContract,
    PortfolioQuote,
)
from tradein_sdk._domain.fleet_import import AssetImport
from tradein_sdk._domain.fleet_report import FleetReport
from tradein_sdk._domain.guarantees import (
    GuaranteeConsent,
    GuaranteeContract,
    GuaranteeExercise,
    GuaranteeOffer,
    InflowCalendar,
    InflowLine,
    Liability,
    ResidualCurve,
)
from tradein_sdk._domain.insurance import InsuranceOffer
from tradein_sdk._domain.ledger import Balance, LedgerEntry
from tradein_sdk._domain.ledger_report import LedgerReport
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.orders.vocabulary import Disposition, EventKind, HoldReason
from tradein_sdk._domain.payouts import PayoutDetails
from tradein_sdk._domain.quotes import Channel, IssuedQuote
from tradein_sdk._domain.search import SearchResults
from tradein_sdk._domain.tenancy import Role
from tradein_sdk._errors import (
    ConcurrentUpdateError,
    IdempotencyKeyInUseError,
    InsuranceProviderError,
    NotFoundError,
    PriceFeedError,
    StoreError,
    TradeInError,
)
from tradein_sdk._ports import ArchivedDocument

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradein_sdk._app.ledger import OrderLedger

PROBLEM_TYPE_PREFIX: Final = "urn:tradein-sdk:problem:"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
API_PREFIX: Final = "/v1"

Payout = PayoutDetails

PERIOD_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
"""A billing period, ``YYYY-MM``."""
MAX_POSITION: Final = 2**63 - 1
"""The largest ledger position (a 64-bit sequence)."""

# Field metadata the service checks before a use case runs, and the OpenAPI document states:
#   "name": the query parameter's name when it is not the field's (``from`` is a Python keyword);
#   "constraints": JSON Schema keywords the value must meet (``pattern``, anchored ``^...$`` and matched
#       whole; ``minimum``, ``maximum``); a ``date`` field must also be an ISO date;
#   "invalid": ``(code, param)``: a value that breaks them is a 422 with this error code, the value as this
#       param (the library error's attribute), instead of a 400 ``request_invalid``;
#   "expected": what the pattern stands for, in the message of a value that does not match it.
_INVALID_PERIOD: Final = ("invalid_period", "period")
_PERIOD: Final = {
    "constraints": {"pattern": PERIOD_PATTERN},
    "invalid": _INVALID_PERIOD,
    "expected": "a billing period (YYYY-MM)",
}


# -- request bodies and queries ----------------------------------------------------------------------------
# Field names are the facade's argument names; defaults are the facade's defaults.


@attrs.frozen(kw_only=True)
class SearchQuery:
    """The query of ``GET /v1/catalog/search``."""

    text: str
    limit: int = 10
    category: DeviceCategory | None = None


@attrs.frozen(kw_only=True)
class QuestionnaireQuery:
    """The query of ``GET /v1/questionnaires/{category}``."""

    locale: str | None = None
    staff: bool = False


@attrs.frozen(kw_only=True)
class GradeBody:
    """The body of ``POST /v1/grade``."""

    category: str
    answers: dict[str, Any] = attrs.field(metadata={"schema": "answers"})
    verification: VerificationDepth = VerificationDepth.SELF_DECLARED
    diagnostics: dict[str, Any] | None = attrs.field(default=None, metadata={"schema": "diagnostics"})


@attrs.frozen(kw_only=True)
class QuoteBody:
    """The body of ``POST /v1/quotes``."""

    device_id: str
    answers: dict[str, Any] = attrs.field(metadata={"schema": "answers"})
    market: str | None = None
    locale: str | None = None
    imei: str | None = None
    channel: Channel = Channel.ONLINE
    verification: VerificationDepth = VerificationDepth.SELF_DECLARED
    diagnostics: dict[str, Any] | None = attrs.field(default=None, metadata={"schema": "diagnostics"})


@attrs.frozen(kw_only=True)
class VerifyTokenBody:
    """The body of ``POST /v1/quotes/verify`` (the audience is the API key's tenant)."""

    token: str


@attrs.frozen(kw_only=True)
class RedeemBody:
    """The body of ``POST /v1/quotes/redeem``."""

    token: str
    reference: str | None = None


@attrs.frozen(kw_only=True)
class AcceptBody:
    """The body of ``POST /v1/orders``."""

    tokens: tuple[str, ...]
    payout: Payout | None = None
    customer_ref: str | None = None
    contact: dict[str, str] | None = None
    instant_credit: bool = False


@attrs.frozen(kw_only=True)
class LabelBody:
    """The body of ``POST /v1/orders/{order_id}/label`` (empty: the order says what to ship)."""


@attrs.frozen(kw_only=True)
class ShipBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/ship``."""

    tracking: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ReceiveBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/receive`` (empty: the key acts)."""


@attrs.frozen(kw_only=True)
class InspectBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/inspect``."""

    answers: dict[str, Any] = attrs.field(metadata={"schema": "answers"})
    imei: str | None = None
    variant_id: str | None = None
    lock_removable: bool = False
    locale: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class RevisionBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/revision``."""

    accept: bool


@attrs.frozen(kw_only=True)
class PayBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/pay``."""

    payout: Payout | None = None


@attrs.frozen(kw_only=True)
class CancelBody:
    """The body of ``POST /v1/orders/{order_id}/cancel`` (empty: the key is the actor)."""


@attrs.frozen(kw_only=True)
class ConfirmCheckoutBody:
    """The body of ``POST /v1/checkouts/confirm``."""

    summary: CheckoutSummary
    payout: Payout | None = None
    customer_ref: str | None = None
    contact: dict[str, str] | None = None
    insurance_accepted: bool = False
    guarantee_accepted: bool = False


@attrs.frozen(kw_only=True)
class InstallmentsQuery:
    """The query of ``GET /v1/ledger/installments``: one page of the installments due."""

    period: str = attrs.field(metadata=_PERIOD)
    limit: int = attrs.field(default=1000, metadata={"constraints": {"minimum": 1, "maximum": 1000}})
    after: int = attrs.field(default=0, metadata={"constraints": {"minimum": 0, "maximum": MAX_POSITION}})


@attrs.frozen(kw_only=True)
class CreditInstallmentsBody:
    """The body of ``POST /v1/ledger/installments/credit``: a carrier's billing run."""

    period: str = attrs.field(metadata=_PERIOD)
    run_id: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": r"^[!-~]{1,100}$"}})
    ids: tuple[str, ...] | None = attrs.field(
        default=None, metadata={"constraints": {"maxItems": 10000, "items": {"pattern": r"^[!-~]{1,64}$"}}}
    )


@attrs.frozen(kw_only=True)
class StopInstallmentsBody:
    """The body of ``POST /v1/orders/{order_id}/installments/stop``."""

    reason: str = attrs.field(metadata={"constraints": {"pattern": r"^[A-Za-z0-9_.:-]{1,100}$"}})
    device_id: str | None = None


@attrs.frozen(kw_only=True)
class LedgerReportQuery:
    """The query of ``GET /v1/ledger/report``: the days ``[from, to)``; ``format=csv`` asks for CSV."""

    start: date = attrs.field(metadata={"name": "from", "invalid": _INVALID_PERIOD})
    end: date = attrs.field(metadata={"name": "to", "invalid": _INVALID_PERIOD})


_ID: Final = {"constraints": {"pattern": r"^[!-~]{1,64}$"}}
"""An id in a query or body: 1-64 printable ASCII characters."""
FIELD_CONSTRAINTS: Final[dict[tuple[type, str], dict[str, Any]]] = {
    (NewDevice, "device_category"): {"enum": [category.value for category in DeviceCategory]},
}
"""JSON Schema keywords a field of a library type must meet in a request (only ``enum`` for now): the service
refuses another value (400 ``request_invalid`` naming the field) and the OpenAPI document states them. A new
device's category is read as a :class:`DeviceCategory` when protection offers are computed."""


class ManualEvent(StrEnum):
    """The order events a key may record directly (the others have their own operation)."""

    HAND_OVER = EventKind.HAND_OVER.value
    RECEIVE_LATE = EventKind.RECEIVE_LATE.value
    HOLD = EventKind.HOLD.value
    RELEASE = EventKind.RELEASE.value
    SURRENDER = EventKind.SURRENDER.value
    START_RETURN = EventKind.START_RETURN.value
    RETURNED = EventKind.RETURNED.value
    RECYCLE = EventKind.RECYCLE.value
    DISPOSE = EventKind.DISPOSE.value


@attrs.frozen(kw_only=True)
class OrdersQuery:
    """The query of ``GET /v1/orders``: one page, newest first."""

    limit: int = attrs.field(default=50, metadata={"constraints": {"minimum": 1, "maximum": 1000}})
    cursor: str | None = attrs.field(
        default=None, metadata={"constraints": {"pattern": r"^[A-Za-z0-9_-]{1,400}$"}}
    )
    customer_ref: str | None = attrs.field(default=None, metadata=_ID)
    open_only: bool = False


@attrs.frozen(kw_only=True)
class SettleBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/settle``."""

    payout: Payout | None = None


@attrs.frozen(kw_only=True)
class EventBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/events``."""

    kind: ManualEvent
    event_id: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": r"^[!-~]{1,200}$"}})
    reason: str | None = attrs.field(
        default=None, metadata={"constraints": {"pattern": r"^[^\x00-\x1f]{1,200}$"}}
    )
    tracking: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": r"^[!-~]{1,64}$"}})
    hold_reason: HoldReason | None = None
    disposition: Disposition | None = None


@attrs.frozen(kw_only=True)
class TickBody:
    """The body of ``POST /v1/deadlines/tick``."""

    limit: int = attrs.field(default=500, metadata={"constraints": {"minimum": 1, "maximum": 5000}})


@attrs.frozen(kw_only=True)
class AssignBody:
    """The body of ``POST /v1/orders/{order_id}/provider``: ``null`` takes the assignment back."""

    provider: str | None = attrs.field(metadata={"constraints": {"pattern": r"^[a-z0-9][a-z0-9._-]{0,119}$"}})


@attrs.frozen(kw_only=True)
class EraseBody:
    """The body of ``POST /v1/customers/{customer_ref}/erase`` (empty)."""


@attrs.frozen(kw_only=True)
class EndpointBody:
    """The body of ``POST /v1/webhooks/endpoints``."""

    url: str = attrs.field(metadata={"constraints": {"pattern": r"^https?://[!-~]{1,1990}$"}})
    events: tuple[str, ...] | None = None
    tenant: str | None = attrs.field(
        default=None, metadata={"constraints": {"pattern": r"^[a-z0-9][a-z0-9._-]{0,119}$"}}
    )


@attrs.frozen(kw_only=True)
class EmptyBody:
    """An empty body."""


@attrs.frozen(kw_only=True)
class ErasureReportBody:
    """The body of ``POST /v1/orders/{order_id}/devices/{device_id}/erasure``: the erasure report."""

    report: dict[str, Any] = attrs.field(metadata={"schema": "erasure-report"})


@attrs.frozen(kw_only=True)
class RevokeCertificateBody:
    """The body of ``POST /v1/erasure-certificates/{certificate_id}/revoke``."""

    reason: RevocationReason


@attrs.frozen(kw_only=True)
class DeviceCO2Body:
    """The body of ``POST /v1/co2/devices/{device_id}`` (it changes nothing)."""

    outcome: CO2Outcome = CO2Outcome.REUSE
    second_life_years: int | None = attrs.field(
        default=None, metadata={"constraints": {"minimum": 0, "maximum": 15}}
    )
    parts: tuple[str, ...] = attrs.field(default=(), metadata={"constraints": {"maxItems": 10}})


@attrs.frozen(kw_only=True)
class CO2ReportQuery:
    """The query of ``GET /v1/co2/report``: the devices bought or recycled on the days ``[from, to]``."""

    start: date = attrs.field(metadata={"name": "from", "invalid": _INVALID_PERIOD})
    end: date = attrs.field(metadata={"name": "to", "invalid": _INVALID_PERIOD})
    company: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": r"^[ -~]{1,120}$"}})


_TEXT: Final = {"constraints": {"pattern": r"^[^\x00-\x1f\x7f]{1,200}$"}}
_FILE: Final = {"constraints": {"maxLength": 40_000_000}}


@attrs.frozen(kw_only=True)
class OpenCompanyBody:
    """The body of ``POST /v1/fleet/companies``."""

    legal_name: str = attrs.field(metadata=_TEXT)
    address: Address
    vat_status: SellerVatStatus
    contract: FrameworkContract
    vat_id: str | None = attrs.field(default=None, metadata={"constraints": {"maxLength": 40}})
    tax_number: str | None = attrs.field(default=None, metadata={"constraints": {"maxLength": 40}})
    contacts: tuple[dict[str, str], ...] = attrs.field(default=(), metadata={"constraints": {"maxItems": 20}})


@attrs.frozen(kw_only=True)
class ReadAssetsBody:
    """The body of ``POST /v1/fleet/asset-lists`` (it changes nothing): the file in base64."""

    data: bytes = attrs.field(metadata=_FILE)
    filename: str | None = attrs.field(default=None, metadata=_TEXT)
    default_grade: str | None = None


@attrs.frozen(kw_only=True)
class FleetQuoteBody:
    """The body of ``POST /v1/fleet/companies/{company_id}/quotes``: the asset list in base64."""

    assets: bytes = attrs.field(metadata=_FILE)
    filename: str | None = attrs.field(default=None, metadata=_TEXT)
    default_grade: str | None = None
    skip_invalid: bool = False
    dry_run: bool = False


@attrs.frozen(kw_only=True)
class BatchesQuery:
    """The query of ``GET /v1/fleet/batches``."""

    company_id: str | None = attrs.field(
        default=None, metadata={"constraints": {"pattern": r"^[ -~]{1,40}$"}}
    )


@attrs.frozen(kw_only=True)
class BookPickupBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/pickup``."""

    boxes: int = attrs.field(metadata={"constraints": {"minimum": 1, "maximum": 500}})
    seals: tuple[str, ...] = attrs.field(metadata={"constraints": {"maxItems": 500}})
    lines: tuple[int, ...] | None = None
    contact: dict[str, str] | None = None
    payout: Payout | None = None


@attrs.frozen(kw_only=True)
class HandOverBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/hand-over``."""

    seals: tuple[str, ...] = attrs.field(metadata={"constraints": {"maxItems": 500}})
    carrier: str = attrs.field(metadata=_TEXT)
    tracking: str | None = attrs.field(default=None, metadata=_TEXT)


@attrs.frozen(kw_only=True)
class ReceiveBatchBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/receive``: every IMEI, serial or asset tag scanned."""

    scanned: tuple[str, ...] = attrs.field(metadata={"constraints": {"maxItems": 200_000}})


@attrs.frozen(kw_only=True)
class DecideExtraBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/extras``."""

    identifier: str = attrs.field(metadata=_TEXT)
    decision: ExtraDecision


@attrs.frozen(kw_only=True)
class InspectFleetDeviceBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/inspect``."""

    line: int = attrs.field(metadata={"constraints": {"minimum": 1, "maximum": 1_000_000}})
    answers: dict[str, Any] = attrs.field(metadata={"schema": "answers"})
    imei: str | None = None
    variant_id: str | None = None
    lock_removable: bool = False


@attrs.frozen(kw_only=True)
class SettleBatchBody:
    """The body of ``POST /v1/fleet/batches/{batch_id}/settle``."""

    issuer: Party
    payout: Payout | None = None


@attrs.frozen(kw_only=True)
class ReportFileQuery:
    """The query of ``GET /v1/fleet/batches/{batch_id}/report-file``."""

    format: str = attrs.field(default="csv", metadata={"constraints": {"pattern": "^(csv|xlsx|pdf|json)$"}})
    locale: str | None = attrs.field(
        default=None, metadata={"constraints": {"pattern": r"^[A-Za-z_-]{2,20}$"}}
    )


@attrs.frozen(kw_only=True)
class DeadQuery:
    """The query of ``GET /v1/webhooks/dead``."""

    limit: int = attrs.field(default=100, metadata={"constraints": {"minimum": 1, "maximum": 1000}})
    after: str | None = attrs.field(default=None, metadata=_ID)


@attrs.frozen(kw_only=True)
class ReplayBody:
    """The body of ``POST /v1/webhooks/replay``: deliveries by id, events by id, or every dead letter."""

    delivery_ids: tuple[str, ...] = attrs.field(default=(), metadata={"constraints": {"maxItems": 1000}})
    event_ids: tuple[str, ...] = attrs.field(default=(), metadata={"constraints": {"maxItems": 1000}})
    all_dead: bool = False


_DAY: Final = {"constraints": {"format": "date"}}
"""A day in a query or body: an ISO date, ``YYYY-MM-DD`` (checked before structuring, as its schema says)."""
_CHANNEL: Final = {"constraints": {"pattern": "^(online|store)$"}}
_CUSTOMER_CASE: Final = {"constraints": {"pattern": "^(consumer|business)$"}}
_PLAN_ID: Final = {"constraints": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"}}
_GRADE: Final = {"constraints": {"pattern": "^(excellent|good|fair|damaged|faulty)$"}}
_SHARE: Final = {
    "constraints": {"pattern": r"^(0(\.[0-9]{1,12})?|1(\.0{1,12})?)$"},
    "expected": "a share from 0 to 1 (a decimal string)",
}
_CURVE_FIGURES: Final = ("at_launch", "low", "central", "high", "minimum")


@attrs.frozen(kw_only=True)
class GuaranteeOffersBody:
    """The body of ``POST /v1/guarantees/offers`` (it changes nothing)."""

    device_id: str = attrs.field(metadata=_ID)
    price: Money
    purchased_on: date | None = attrs.field(default=None, metadata=_DAY)
    channel: str = attrs.field(default="online", metadata=_CHANNEL)
    customer_case: str = attrs.field(default="consumer", metadata=_CUSTOMER_CASE)
    financed_amount: Money | None = None


@attrs.frozen(kw_only=True)
class SellGuaranteeBody:
    """The body of ``POST /v1/guarantees/contracts``: the customer accepted the plan's terms."""

    plan_id: str = attrs.field(metadata=_PLAN_ID)
    device_id: str = attrs.field(metadata=_ID)
    price: Money
    purchased_on: date | None = attrs.field(default=None, metadata=_DAY)
    imei: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": r"^[0-9 -]{1,32}$"}})
    channel: str = attrs.field(default="online", metadata=_CHANNEL)
    customer_case: str = attrs.field(default="consumer", metadata=_CUSTOMER_CASE)
    financed_amount: Money | None = None
    customer_ref: str | None = attrs.field(default=None, metadata=_ID)
    cost_centre: str | None = attrs.field(default=None, metadata={"constraints": {"maxLength": 120}})


@attrs.frozen(kw_only=True)
class AsOfQuery:
    """The query of a guarantee's status or a buyer's calendar: the day (default: today)."""

    as_of: date | None = attrs.field(default=None, metadata=_DAY)


@attrs.frozen(kw_only=True)
class ExerciseGuaranteeBody:
    """The body of ``POST /v1/guarantees/contracts/{contract_id}/exercise``: the inspection's findings."""

    grade: str | None = attrs.field(metadata=_GRADE)
    locked: bool
    market: Money
    outstanding_balance: Money | None = None
    new_contract: bool = False


@attrs.frozen(kw_only=True)
class RedeemGuaranteeBody:
    """The body of ``POST /v1/guarantees/contracts/{contract_id}/redeem``: today's quote of the device."""

    token: str
    payout: Payout | None = None
    contact: dict[str, str] | None = None
    outstanding_balance: Money | None = None
    new_contract: bool = False


@attrs.frozen(kw_only=True)
class GuaranteePromiseBody:
    """The body of ``POST /v1/guarantees/contracts/{contract_id}/promise`` (it changes nothing)."""

    token: str
    outstanding_balance: Money | None = None
    new_contract: bool = False


@attrs.frozen(kw_only=True)
class LiabilityQuery:
    """The query of ``GET /v1/guarantees/liability``: the day, the currency, the residual-value curve.

    The curve's figures (:class:`~tradein_sdk.ResidualCurve`: the share at launch, the low, central and high
    monthly retention, the floor share) are optional; a figure left out keeps the default curve's.
    """

    as_of: date | None = attrs.field(default=None, metadata=_DAY)
    currency: str | None = attrs.field(default=None, metadata={"constraints": {"pattern": "^[A-Z]{3}$"}})
    at_launch: Decimal | None = attrs.field(default=None, metadata=_SHARE)
    low: Decimal | None = attrs.field(default=None, metadata=_SHARE)
    central: Decimal | None = attrs.field(default=None, metadata=_SHARE)
    high: Decimal | None = attrs.field(default=None, metadata=_SHARE)
    minimum: Decimal | None = attrs.field(default=None, metadata=_SHARE)

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> LiabilityQuery:
        """The query of the method's arguments (a client's call): the curve as its five figures."""
        curve: ResidualCurve | None = arguments.get("curve")
        figures = {} if curve is None else {name: getattr(curve, name) for name in _CURVE_FIGURES}
        return cls(as_of=arguments.get("as_of"), currency=arguments.get("currency"), **figures)

    def to_arguments(self) -> dict[str, Any]:
        """The method's arguments of the query (the service's call): the figures given make the curve."""
        figures = {name: getattr(self, name) for name in _CURVE_FIGURES if getattr(self, name) is not None}
        curve = ResidualCurve(**figures) if figures else None
        return {"as_of": self.as_of, "currency": self.currency, "curve": curve}


def query_name(field: attrs.Attribute[Any]) -> str:
    """The name of a query field's parameter."""
    name: str = field.metadata.get("name", field.name)
    return name


# -- JSON forms of their own ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Form:
    """The JSON form of a result that has one of its own (``to_json``), not the converter's form of its type.

    Attributes:
        name: its OpenAPI component (:mod:`.openapi` describes it).
        write: the result as JSON (the service).
        read: the result from that JSON (the clients); raises on JSON that does not fit.
        csv: the result as CSV, when ``format=csv`` may ask for it.
    """

    name: str
    write: Callable[[Any], object]
    read: Callable[[Any], Any]
    csv: Callable[[Any], str] | None = None


def _entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as it travels on its own: the ledger's entry JSON with its order."""
    from tradein_sdk._app.ledger import entry_json  # noqa: PLC0415 - loads with the first ledger answer

    return {"order_id": entry.order_id, **entry_json(entry)}


def _entry(data: Mapping[str, Any], order_id: str | None = None) -> LedgerEntry:
    """Read an entry's JSON (``order_id`` from the entry itself when not given)."""
    fields = {
        "entry_id": data["id"],
        "order_id": data["order_id"] if order_id is None else order_id,
        "device_id": data["device"],
        "kind": data["kind"],
        "amount": data["amount"],
        "at": data["at"],
        "cause": data["cause"],
        "reason": data["reason"],
        "due_period": data["due_period"],
        "settles": data["settles"],
        "details": data["details"],
    }
    entry: LedgerEntry = json_converter().structure(fields, LedgerEntry)
    return entry


def _balance(data: Mapping[str, Any], currency: str) -> Balance:
    """Read a balance's JSON (its derived figures, ``open`` and ``revised``, are recomputed)."""
    derived = {"open", "revised"}
    fields = {"currency": currency, **{name: value for name, value in data.items() if name not in derived}}
    balance: Balance = json_converter().structure(fields, Balance)
    return balance


def _order_ledger(data: Mapping[str, Any]) -> OrderLedger:
    """Read :meth:`OrderLedger.to_json <tradein_sdk.OrderLedger.to_json>`."""
    from tradein_sdk._app.ledger import OrderLedger  # noqa: PLC0415 - loads with the first ledger answer

    order_id, currency = data["order_id"], data["currency"]
    if not isinstance(order_id, str) or not isinstance(currency, str):
        raise TypeError("order_id and currency must be strings")
    return OrderLedger(
        order_id=order_id,
        currency=currency,
        entries=tuple(_entry(item, order_id) for item in data["entries"]),
        total=_balance(data["total"], currency),
        devices={device: _balance(item, currency) for device, item in data["devices"].items()},
        installments=tuple(_entry(item, order_id) for item in data["installments"]),
    )


def _installments_json(due: list[tuple[int, LedgerEntry]]) -> dict[str, Any]:
    return {"installments": [{"position": position, **_entry_json(entry)} for position, entry in due]}


def _installments(data: Mapping[str, Any]) -> list[tuple[int, LedgerEntry]]:
    due = []
    for item in data["installments"]:
        position = item["position"]
        if not isinstance(position, int) or isinstance(position, bool):
            raise TypeError("position must be an integer")
        due.append((position, _entry(item)))
    return due


def _credited_json(result: tuple[int, dict[str, Money]]) -> dict[str, Any]:
    count, totals = result
    return {"count": count, "totals": {currency: amount.to_json() for currency, amount in totals.items()}}


def _credited(data: Mapping[str, Any]) -> tuple[int, dict[str, Money]]:
    result: tuple[int, dict[str, Money]] = json_converter().structure(
        [data["count"], data["totals"]], tuple[int, dict[str, Money]]
    )
    return result


def _stopped_json(entries: list[LedgerEntry]) -> dict[str, Any]:
    return {"entries": [_entry_json(entry) for entry in entries]}


def _stopped(data: Mapping[str, Any]) -> list[LedgerEntry]:
    return [_entry(item) for item in data["entries"]]


def _report(data: Mapping[str, Any]) -> LedgerReport:
    """Read :meth:`LedgerReport.to_json <tradein_sdk.LedgerReport.to_json>` (derived figures recomputed)."""
    fields = {
        "start": data["start"],
        "end": data["end"],
        "totals": data["totals"],
        "kinds": [[item["currency"], item["kind"], item["amount"], item["count"]] for item in data["kinds"]],
        "promotions": [
            {name: value for name, value in item.items() if name != "budget_left"}
            for item in data["promotions"]
        ],
    }
    report: LedgerReport = json_converter().structure(fields, LedgerReport)
    return report


def _issued_json(issued: IssuedCertificate) -> dict[str, Any]:
    return issued.to_json()


def _issued(data: Mapping[str, Any]) -> IssuedCertificate:
    """Read a signed certificate (its signature is not checked here: verify it with the published keys)."""
    return IssuedCertificate(certificate=ErasureCertificate.from_json(data["payload"]), document=dict(data))


def _document_json(document: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return document


def _document(data: Any) -> dict[str, Any] | None:  # noqa: ANN401 - any JSON value
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def _to_json(result: Any) -> Mapping[str, Any]:  # noqa: ANN401 - a result with a to_json()
    document: Mapping[str, Any] = result.to_json()
    return document


def _object(data: Any) -> dict[str, Any]:  # noqa: ANN401 - any JSON value
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def _inflow_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of :meth:`InflowLine.to_json <tradein_sdk.InflowLine.to_json>` (``month`` is derived)."""
    bands = [[band["starts_on"], band["ends_on"], band["amount"]] for band in data["bands"]]
    return {**{name: value for name, value in data.items() if name != "month"}, "bands": bands}


def _inflow_line(data: Mapping[str, Any]) -> InflowLine:
    """Read :meth:`InflowLine.to_json <tradein_sdk.InflowLine.to_json>`."""
    line: InflowLine = json_converter().structure(_inflow_fields(data), InflowLine)
    return line


def _inflow_calendar(data: Mapping[str, Any]) -> InflowCalendar:
    """Read :meth:`InflowCalendar.to_json <tradein_sdk.InflowCalendar.to_json>` (totals recomputed)."""
    fields = {
        "customer_ref": data["customer_ref"],
        "as_of": data["as_of"],
        "currency": data["currency"],
        "lines": [_inflow_fields(line) for line in data["lines"]],
    }
    calendar: InflowCalendar = json_converter().structure(fields, InflowCalendar)
    return calendar


def _liability(data: Mapping[str, Any]) -> Liability:
    """Read :meth:`Liability.to_json <tradein_sdk.Liability.to_json>` (totals and reserves recomputed)."""
    months = [
        {
            "month": month["month"],
            "contracts": month["contracts"],
            "guaranteed": month["guaranteed"],
            "market": [month["market"][name] for name in ("low", "central", "high")],
            "cost": [month["cost"][name] for name in ("low_market", "central", "high_market")],
        }
        for month in data["months"]
    ]
    fields = {
        "as_of": data["as_of"],
        "currency": data["currency"],
        "months": months,
        "accounting": data["accounting"],
    }
    liability: Liability = json_converter().structure(fields, Liability)
    return liability


# -- operations ------------------------------------------------------------------------------------------

ANYONE: Final = frozenset(Role)
SELLING: Final = frozenset({Role.SHOP, Role.STORE, Role.BACK_OFFICE})
"""Keys that quote and open orders: shops, store terminals and the back office."""
READING: Final = frozenset({Role.SHOP, Role.STORE, Role.BACK_OFFICE, Role.PROVIDER})
"""Keys that read orders in their scope (a provider: the orders assigned to it)."""
HANDLING: Final = frozenset({Role.BACK_OFFICE, Role.PROVIDER})
"""Keys that receive and inspect devices."""
BACK_OFFICE: Final = frozenset({Role.BACK_OFFICE})
ADMIN: Final = frozenset({Role.ADMIN})


def _roles(value: frozenset[Role] | None) -> frozenset[Role]:
    return SELLING if value is None else frozenset(value)


def _is_get(operation: Operation) -> bool:
    """Whether an operation is a GET (read-only unless it says otherwise)."""
    return operation.method == "GET"


@attrs.frozen(kw_only=True)
class Operation:
    """One use case over HTTP.

    Attributes:
        id: the facade method and the OpenAPI ``operationId``.
        method: ``GET`` or ``POST``.
        path: the path template, parameters in braces (``/v1/orders/{order_id}``).
        tag: the OpenAPI tag (the area).
        summary: one line for the OpenAPI document.
        result: the type of the answer (structured by the client, unstructured by the service).
        query: the type of the query string (GET), or ``None``.
        body: the type of the JSON body (POST), or ``None``.
        body_argument: when set, the whole body is passed to the method as this one argument (a
            :class:`CheckoutRequest`), instead of one argument per field.
        status: the status of a success.
        form: the JSON form of the result, when it has one of its own (:class:`Form`).
        roles: the roles whose keys may call it (another role's key is refused, 403).
        read_only: it changes nothing (every GET; a POST that only computes or checks, such as grading or
            verifying a token): the service keeps no idempotency record for it, ignoring an
            ``Idempotency-Key``, and the clients send none (repeating it is safe as it is).
        param_paths: ``(param, path)`` pairs: an error of the use case with that parameter (an unknown plan's
            ``plan``) is about the request value at that JSON path (``$.plan_id``), which its problem
            document then names (unless the error names its problems itself).
    """

    id: str
    method: str
    path: str
    tag: str
    summary: str
    result: Any
    query: type | None = None
    body: type | None = None
    body_argument: str | None = None
    status: int = 200
    form: Form | None = None
    roles: frozenset[Role] = attrs.field(default=None, converter=_roles)
    read_only: bool = attrs.field(default=attrs.Factory(_is_get, takes_self=True))
    param_paths: tuple[tuple[str, str], ...] = ()

    @property
    def path_parameters(self) -> tuple[str, ...]:
        """The names of the path's parameters, in order."""
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def pattern(self) -> re.Pattern[str]:
        """A regular expression matching the path, one group per parameter."""
        return re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.path) + "$")


def _operations() -> tuple[Operation, ...]:
    from grading_questionnaire import ConditionReport, RenderedQuestionnaire  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._app.checkout import ConfirmedCheckout  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._app.facade import StoredQuote  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._app.ledger import OrderLedger  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._app.tenancy import RegisteredEndpoint  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.orders.inspection import InspectionDiff  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.orders.model import TradeInOrder  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.outcome import OrderOutcome  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.pages import OrderPage  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.quotes import Quote  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.shipping import ShippingLabel, TrackingEvent  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._domain.tokens import QuoteClaims  # noqa: PLC0415 - loads with the first operation, not with the client
    from tradein_sdk._ports import DeadWebhook, Redemption  # noqa: PLC0415 - loads with the first operation, not with the client

    device = "/v1/orders/{order_id}/devices/{device_id}"
    return (
        Operation(
            id="search",
            method="GET",
            path="/v1/catalog/search",
            tag="catalog",
            summary="Find devices of the catalog by free text, best match first",
            query=SearchQuery,
            result=SearchResults,
            roles=ANYONE,
        ),
        Operation(
            id="render_questionnaire",
            method="GET",
            path="/v1/questionnaires/{category}",
            tag="grading",
            summary="The condition questionnaire of a device category, rendered in a locale",
            query=QuestionnaireQuery,
            result=RenderedQuestionnaire,
            roles=ANYONE,
        ),
        Operation(
            id="grade",
            method="POST",
            path="/v1/grade",
            tag="grading",
            summary="Grade answers (and diagnostics) into a condition report",
            body=GradeBody,
            result=ConditionReport,
            roles=ANYONE,
            read_only=True,
        ),
        Operation(
            id="quote",
            method="POST",
            path="/v1/quotes",
            tag="quotes",
            summary="Grade, price, sign and store a quote for a device variant",
            body=QuoteBody,
            result=IssuedQuote,
            status=201,
        ),
        Operation(
            id="get_quote",
            method="GET",
            path="/v1/quotes/{quote_id}",
            tag="quotes",
            summary="A stored quote and its redemption",
            result=StoredQuote,
        ),
        Operation(
            id="verify_token",
            method="POST",
            path="/v1/quotes/verify",
            tag="quotes",
            summary="Verify a quote token: signature, key, audience and expiry",
            body=VerifyTokenBody,
            result=QuoteClaims,
            read_only=True,
        ),
        Operation(
            id="redeem",
            method="POST",
            path="/v1/quotes/redeem",
            tag="quotes",
            summary="Redeem a quote token, exactly once",
            body=RedeemBody,
            result=Redemption,
        ),
        Operation(
            id="accept",
            method="POST",
            path="/v1/orders",
            tag="orders",
            summary="Open an order for accepted quotes",
            body=AcceptBody,
            result=TradeInOrder,
            status=201,
        ),
        Operation(
            id="order",
            method="GET",
            path="/v1/orders/{order_id}",
            tag="orders",
            summary="An order as it stands",
            result=TradeInOrder,
            roles=READING,
        ),
        Operation(
            id="issue_label",
            method="POST",
            path="/v1/orders/{order_id}/label",
            tag="orders",
            summary="Issue the shipping label for the devices not yet sent; the send-by deadline starts",
            body=LabelBody,
            result=ShippingLabel,
        ),
        Operation(
            id="ship",
            method="POST",
            path=f"{device}/ship",
            tag="orders",
            summary="The shopper handed the device to the carrier",
            body=ShipBody,
            result=TradeInOrder,
        ),
        Operation(
            id="receive",
            method="POST",
            path=f"{device}/receive",
            tag="orders",
            summary="The device arrived where it is inspected",
            body=ReceiveBody,
            result=TradeInOrder,
            roles=HANDLING,
        ),
        Operation(
            id="inspect",
            method="POST",
            path=f"{device}/inspect",
            tag="orders",
            summary="Record an inspection: confirm, revise or reject the offer",
            body=InspectBody,
            result=InspectionDiff,
            roles=HANDLING,
        ),
        Operation(
            id="respond_to_revision",
            method="POST",
            path=f"{device}/revision",
            tag="orders",
            summary="The shopper accepts or declines a revised offer",
            body=RevisionBody,
            result=TradeInOrder,
        ),
        Operation(
            id="pay",
            method="POST",
            path=f"{device}/pay",
            tag="orders",
            summary="Pay out or credit a confirmed device",
            body=PayBody,
            result=TradeInOrder,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="cancel",
            method="POST",
            path="/v1/orders/{order_id}/cancel",
            tag="orders",
            summary="Cancel every device not yet sent",
            body=CancelBody,
            result=TradeInOrder,
        ),
        Operation(
            id="clawbacks",
            method="GET",
            path="/v1/orders/{order_id}/clawbacks",
            tag="checkout",
            summary="What to charge back now for each device of an order confirmed at checkout",
            result=dict[str, Money],
            roles=BACK_OFFICE,
        ),
        Operation(
            id="insurance_offers",
            method="POST",
            path="/v1/insurance/offers",
            tag="checkout",
            summary="The device protection offers for the new device of a checkout",
            body=CheckoutRequest,
            body_argument="request",
            result=tuple[InsuranceOffer, ...],
            read_only=True,
        ),
        Operation(
            id="checkout",
            method="POST",
            path="/v1/checkouts",
            tag="checkout",
            summary="Compute and sign the checkout summary the shopper sees before committing",
            body=CheckoutRequest,
            body_argument="request",
            result=CheckoutSummary,
            status=201,
            read_only=True,  # signs a summary and stores nothing: a repeat signs another, equally valid
        ),
        Operation(
            id="confirm_checkout",
            method="POST",
            path="/v1/checkouts/confirm",
            tag="checkout",
            summary="Verify, recompute and commit a signed checkout summary",
            body=ConfirmCheckoutBody,
            result=ConfirmedCheckout,
            status=201,
        ),
        Operation(
            id="ledger",
            method="GET",
            path="/v1/orders/{order_id}/ledger",
            tag="ledger",
            summary="An order's settlement ledger: its entries, the balances they net to, installments open",
            result=OrderLedger,
            form=Form(name="OrderLedger", write=OrderLedger.to_json, read=_order_ledger),
        ),
        Operation(
            id="installments_due",
            method="GET",
            path="/v1/ledger/installments",
            tag="ledger",
            summary="The bill-credit installments due up to a billing period, not yet credited or stopped",
            query=InstallmentsQuery,
            result=list[tuple[int, LedgerEntry]],
            form=Form(name="DueInstallments", write=_installments_json, read=_installments),
            roles=BACK_OFFICE,
        ),
        Operation(
            id="credit_installments",
            method="POST",
            path="/v1/ledger/installments/credit",
            tag="ledger",
            summary="Credit the installments due up to a billing period (only `ids` when given), each once",
            body=CreditInstallmentsBody,
            result=tuple[int, dict[str, Money]],
            form=Form(name="InstallmentsCredited", write=_credited_json, read=_credited),
            roles=BACK_OFFICE,
        ),
        Operation(
            id="stop_installments",
            method="POST",
            path="/v1/orders/{order_id}/installments/stop",
            tag="ledger",
            summary="Stop the installments not yet credited (the contract ended, the device came back)",
            body=StopInstallmentsBody,
            result=list[LedgerEntry],
            form=Form(name="InstallmentsStopped", write=_stopped_json, read=_stopped),
            roles=BACK_OFFICE,
        ),
        Operation(
            id="ledger_report",
            method="GET",
            path="/v1/ledger/report",
            tag="ledger",
            summary="The shop's ledger over the days [from, to), with totals that tie out (JSON or CSV)",
            query=LedgerReportQuery,
            result=LedgerReport,
            form=Form(name="LedgerReport", write=LedgerReport.to_json, read=_report, csv=LedgerReport.to_csv),
            roles=BACK_OFFICE,
        ),
        Operation(
            id="orders_page",
            method="GET",
            path="/v1/orders",
            tag="orders",
            summary="Orders in the key's scope, newest first, one page at a time (pass next_cursor on)",
            query=OrdersQuery,
            result=OrderPage,
            roles=READING,
        ),
        Operation(
            id="settle",
            method="POST",
            path=f"{device}/settle",
            tag="orders",
            summary="Settle a confirmed device: pay or credit what its ledger holds open, as the terms say",
            body=SettleBody,
            result=TradeInOrder,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="record_event",
            method="POST",
            path=f"{device}/events",
            tag="orders",
            summary="Record a hand-over, hold, release, surrender, return or disposal of a device",
            body=EventBody,
            result=TradeInOrder,
            roles=frozenset({Role.STORE, Role.BACK_OFFICE, Role.PROVIDER}),
        ),
        Operation(
            id="record_tracking",
            method="POST",
            path="/v1/tracking",
            tag="orders",
            summary="A carrier's news about a parcel (handed over, in transit, delivered)",
            body=TrackingEvent,
            body_argument="event",
            result=TradeInOrder,
            roles=HANDLING,
        ),
        Operation(
            id="assign_provider",
            method="POST",
            path="/v1/orders/{order_id}/provider",
            tag="orders",
            summary="Assign an order's devices to a provider of the organisation (null takes them back)",
            body=AssignBody,
            result=TradeInOrder,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="order_outcome",
            method="GET",
            path="/v1/orders/{order_id}/outcome",
            tag="ledger",
            summary="What an order paid and credited, per device, as its ledger says",
            result=OrderOutcome,
            roles=SELLING,
        ),
        Operation(
            id="reproduce_quote",
            method="GET",
            path="/v1/quotes/{quote_id}/reproduction",
            tag="quotes",
            summary="Recompute a stored quote from its snapshot (the exact questionnaire and price book)",
            result=Quote,
            roles=SELLING,
        ),
        Operation(
            id="erase_customer",
            method="POST",
            path="/v1/customers/{customer_ref}/erase",
            tag="orders",
            summary="Erase a customer's personal data (payout details, contact); orders and amounts stay",
            body=EraseBody,
            result=int,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="tick",
            method="POST",
            path="/v1/deadlines/tick",
            tag="operations",
            summary="Apply the deadlines due (expiry, silence on a revised offer) in the key's scope",
            body=TickBody,
            result=int,
            roles=frozenset({Role.BACK_OFFICE, Role.ADMIN}),
        ),
        Operation(
            id="register_webhook_endpoint",
            method="POST",
            path="/v1/webhooks/endpoints",
            tag="webhooks",
            summary="Register a webhook endpoint for the organisation's (or one tenant's) events; its secret",
            body=EndpointBody,
            result=RegisteredEndpoint,
            status=201,
            roles=ADMIN,
        ),
        Operation(
            id="registered_webhook_endpoints",
            method="GET",
            path="/v1/webhooks/endpoints",
            tag="webhooks",
            summary="The organisation's active webhook endpoints (never their secrets)",
            result=list[RegisteredEndpoint],
            roles=ADMIN,
        ),
        Operation(
            id="rotate_webhook_secret",
            method="POST",
            path="/v1/webhooks/endpoints/{endpoint_id}/rotate",
            tag="webhooks",
            summary="A new secret for an endpoint; deliveries carry both signatures until the old is retired",
            body=EmptyBody,
            result=RegisteredEndpoint,
            roles=ADMIN,
        ),
        Operation(
            id="retire_old_secrets",
            method="POST",
            path="/v1/webhooks/endpoints/{endpoint_id}/retire",
            tag="webhooks",
            summary="Sign an endpoint's deliveries with its newest secret only",
            body=EmptyBody,
            result=RegisteredEndpoint,
            roles=ADMIN,
        ),
        Operation(
            id="disable_webhook_endpoint",
            method="POST",
            path="/v1/webhooks/endpoints/{endpoint_id}/disable",
            tag="webhooks",
            summary="Stop sending to an endpoint",
            body=EmptyBody,
            result=RegisteredEndpoint,
            roles=ADMIN,
        ),
        Operation(
            id="dead_webhooks",
            method="GET",
            path="/v1/webhooks/dead",
            tag="webhooks",
            summary="Webhooks given up (dead letters) for the organisation's orders",
            query=DeadQuery,
            result=list[DeadWebhook],
            roles=ADMIN,
        ),
        Operation(
            id="replay_webhooks",
            method="POST",
            path="/v1/webhooks/replay",
            tag="webhooks",
            summary="Send finished webhooks again (by delivery id, event id, or every dead letter)",
            body=ReplayBody,
            result=int,
            roles=ADMIN,
        ),
        Operation(
            id="record_erasure_report",
            method="POST",
            path=f"{device}/erasure",
            tag="erasure",
            summary="Record the erasure of a device in custody and issue its signed certificate",
            body=ErasureReportBody,
            result=IssuedCertificate,
            status=201,
            form=Form(name="SignedErasureCertificate", write=_issued_json, read=_issued),
            roles=frozenset({Role.STORE, Role.BACK_OFFICE, Role.PROVIDER}),
        ),
        Operation(
            id="erasure_certificate",
            method="GET",
            path=f"{device}/erasure-certificate",
            tag="erasure",
            summary="A device's latest signed erasure certificate, revoked or not (null when it has none)",
            result=dict[str, Any] | None,
            form=Form(name="SignedErasureCertificateOrNull", write=_document_json, read=_document),
            roles=READING,
        ),
        Operation(
            id="certificate_bundle",
            method="GET",
            path="/v1/orders/{order_id}/erasure-certificates",
            tag="erasure",
            summary="The latest signed erasure certificate of each erased device of an order, as one bundle",
            result=dict[str, Any],
            form=Form(name="ErasureCertificateBundle", write=_document_json, read=_object),
            roles=READING,
        ),
        Operation(
            id="revoke_certificate",
            method="POST",
            path="/v1/erasure-certificates/{certificate_id}/revoke",
            tag="erasure",
            summary="Revoke an erasure certificate (the device may then be certified anew)",
            body=RevokeCertificateBody,
            result=Revocation,
            roles=frozenset({Role.BACK_OFFICE, Role.ADMIN}),
        ),
        Operation(
            id="certificate_revocations",
            method="GET",
            path="/v1/erasure-certificates/revocations",
            tag="erasure",
            summary="The signed list of revoked erasure certificates, as of now",
            result=dict[str, Any],
            form=Form(name="SignedRevocationList", write=_document_json, read=_object),
            roles=ANYONE,
        ),
        Operation(
            id="certificate_keys",
            method="GET",
            path="/v1/erasure-certificates/keys",
            tag="erasure",
            summary="The published keys (JWKS) that verify erasure certificates and revocation lists offline",
            result=dict[str, list[dict[str, str]]],
            form=Form(name="JWKS", write=_document_json, read=_object),
            roles=ANYONE,
        ),
        Operation(
            id="device_co2",
            method="POST",
            path="/v1/co2/devices/{device_id}",
            tag="co2",
            summary="The CO2e a catalog device's reuse avoids (or its recycling emits), term by term",
            body=DeviceCO2Body,
            result=DeviceCO2,
            form=Form(name="DeviceCO2", write=_to_json, read=DeviceCO2.from_json),
            roles=ANYONE,
            read_only=True,
        ),
        Operation(
            id="quote_co2",
            method="GET",
            path="/v1/quotes/{quote_id}/co2",
            tag="co2",
            summary="The CO2e estimate of a quoted device (its recycling for a recycle-only quote)",
            result=DeviceCO2,
            form=Form(name="DeviceCO2", write=_to_json, read=DeviceCO2.from_json),
            roles=SELLING,  # as reading the quote itself
        ),
        Operation(
            id="order_co2",
            method="GET",
            path="/v1/orders/{order_id}/co2",
            tag="co2",
            summary="The CO2e of an order's bought and recycled devices, with totals",
            result=OrderCO2,
            form=Form(name="OrderCO2", write=_to_json, read=OrderCO2.from_json),
            roles=READING,
        ),
        Operation(
            id="co2_report",
            method="GET",
            path="/v1/co2/report",
            tag="co2",
            summary="The signed CO2 report of a period: avoided emissions apart from the inventory view",
            query=CO2ReportQuery,
            result=dict[str, Any],
            form=Form(name="SignedCO2Report", write=_document_json, read=_object),
            roles=frozenset({Role.SHOP, Role.BACK_OFFICE, Role.ADMIN}),
        ),
        Operation(
            id="open_company",
            method="POST",
            path="/v1/fleet/companies",
            tag="fleet",
            summary="Open a company account (VAT id checked) with its framework contract",
            body=OpenCompanyBody,
            result=Company,
            status=201,
        ),
        Operation(
            id="companies",
            method="GET",
            path="/v1/fleet/companies",
            tag="fleet",
            summary="The company accounts in the key's scope, oldest first",
            result=list[Company],
        ),
        Operation(
            id="company",
            method="GET",
            path="/v1/fleet/companies/{company_id}",
            tag="fleet",
            summary="A company account",
            result=Company,
        ),
        Operation(
            id="read_assets",
            method="POST",
            path="/v1/fleet/asset-lists",
            tag="fleet",
            summary="Check an asset list (CSV or XLSX, base64): its rows and every problem by row and column",
            body=ReadAssetsBody,
            result=AssetImport,
            read_only=True,
        ),
        Operation(
            id="fleet_quote",
            method="POST",
            path="/v1/fleet/companies/{company_id}/quotes",
            tag="fleet",
            summary="Price an asset list: one signed portfolio quote for the batch (or a dry run)",
            body=FleetQuoteBody,
            result=PortfolioQuote,
            status=201,
        ),
        Operation(
            id="fleet_batches",
            method="GET",
            path="/v1/fleet/batches",
            tag="fleet",
            summary="The fleet batches in the key's scope (of one company), newest first, without lines",
            query=BatchesQuery,
            result=list[FleetBatch],
        ),
        Operation(
            id="fleet_batch",
            method="GET",
            path="/v1/fleet/batches/{batch_id}",
            tag="fleet",
            summary="A fleet batch and its lines as they stand",
            result=FleetBatch,
        ),
        Operation(
            id="book_pickup",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/pickup",
            tag="fleet",
            summary="Book the pickup of a quoted batch: its order and manifest",
            body=BookPickupBody,
            result=FleetBatch,
        ),
        Operation(
            id="hand_over",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/hand-over",
            tag="fleet",
            summary="Record the carrier's pickup: a signed hand-over record",
            body=HandOverBody,
            result=FleetBatch,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="receive_batch",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/receive",
            tag="fleet",
            summary="Open the boxes: lines received or missing, devices not on the manifest",
            body=ReceiveBatchBody,
            result=FleetBatch,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="decide_extra",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/extras",
            tag="fleet",
            summary="Return or recycle a device found in the boxes but not on the manifest",
            body=DecideExtraBody,
            result=FleetBatch,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="inspect_fleet_device",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/inspect",
            tag="fleet",
            summary="Inspect one received line of a batch against its declared answers",
            body=InspectFleetDeviceBody,
            result=InspectionDiff,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="fleet_true_up",
            method="GET",
            path="/v1/fleet/batches/{batch_id}/true-up",
            tag="fleet",
            summary="What inspection found against the quote, per line and for the batch",
            result=BatchTrueUp,
        ),
        Operation(
            id="settle_batch",
            method="POST",
            path="/v1/fleet/batches/{batch_id}/settle",
            tag="fleet",
            summary="Settle a received batch: one settlement, one credit note or purchase statement",
            body=SettleBatchBody,
            result=FleetBatch,
            roles=BACK_OFFICE,
        ),
        Operation(
            id="fleet_documents",
            method="GET",
            path="/v1/fleet/batches/{batch_id}/documents",
            tag="fleet",
            summary="The documents archived for a batch (without their content)",
            result=list[ArchivedDocument],
        ),
        Operation(
            id="fleet_document",
            method="GET",
            path="/v1/fleet/batches/{batch_id}/documents/{kind}",
            tag="fleet",
            summary="One archived document with its content (base64), checked against its hash",
            result=ArchivedDocument,
        ),
        Operation(
            id="fleet_report",
            method="GET",
            path="/v1/fleet/batches/{batch_id}/report",
            tag="fleet",
            summary="The company's report of a batch: outcomes, amounts, certificates, CO2",
            result=FleetReport,
        ),
        Operation(
            id="fleet_report_file",
            method="GET",
            path="/v1/fleet/batches/{batch_id}/report-file",
            tag="fleet",
            summary="The report as CSV (the asset-disposal export), XLSX, PDF or JSON, in base64",
            query=ReportFileQuery,
            result=bytes,
        ),
        Operation(
            id="offer_guarantees",
            method="POST",
            path="/v1/guarantees/offers",
            tag="guarantees",
            summary="The buy-back guarantees a device being bought may have, each explained band by band",
            body=GuaranteeOffersBody,
            result=tuple[GuaranteeOffer, ...],
            read_only=True,
            param_paths=(("device_id", "$.device_id"),),
        ),
        Operation(
            id="sell_guarantee",
            method="POST",
            path="/v1/guarantees/contracts",
            tag="guarantees",
            summary="Sell a guarantee with a device (its terms accepted): the signed contract",
            body=SellGuaranteeBody,
            result=dict[str, Any],
            status=201,
            form=Form(name="SignedGuaranteeContract", write=_document_json, read=_object),
            param_paths=(("plan", "$.plan_id"), ("device_id", "$.device_id")),
        ),
        Operation(
            id="guarantee",
            method="GET",
            path="/v1/guarantees/contracts/{contract_id}",
            tag="guarantees",
            summary="A guarantee contract: its offer's terms, the device, the day of purchase",
            result=GuaranteeContract,
        ),
        Operation(
            id="guarantee_document",
            method="GET",
            path="/v1/guarantees/contracts/{contract_id}/document",
            tag="guarantees",
            summary="A guarantee contract's signed envelope, which the customer verifies offline",
            result=dict[str, Any],
            form=Form(name="SignedGuaranteeContract", write=_document_json, read=_object),
        ),
        Operation(
            id="guarantee_status",
            method="GET",
            path="/v1/guarantees/contracts/{contract_id}/status",
            tag="guarantees",
            summary="Where a contract stands: open, in progress (its order), exercised or lapsed",
            query=AsOfQuery,
            result=InflowLine,
            form=Form(name="GuaranteeInflowLine", write=_to_json, read=_inflow_line),
        ),
        Operation(
            id="exercise_guarantee",
            method="POST",
            path="/v1/guarantees/contracts/{contract_id}/exercise",
            tag="guarantees",
            summary="Exercise a guarantee once, today, from the inspection of the returned device",
            body=ExerciseGuaranteeBody,
            result=GuaranteeExercise,
            roles=frozenset({Role.STORE, Role.BACK_OFFICE}),
        ),
        Operation(
            id="guarantee_promise",
            method="POST",
            path="/v1/guarantees/contracts/{contract_id}/promise",
            tag="guarantees",
            summary="What redeeming a guarantee would promise today for the device a quote token describes",
            body=GuaranteePromiseBody,
            result=GuaranteeExercise,
            read_only=True,
        ),
        Operation(
            id="redeem_guarantee",
            method="POST",
            path="/v1/guarantees/contracts/{contract_id}/redeem",
            tag="guarantees",
            summary="Open the trade-in order that exercises a guarantee, from today's quote of the device",
            body=RedeemGuaranteeBody,
            result=TradeInOrder,
            status=201,
        ),
        Operation(
            id="guarantee_liability",
            method="GET",
            path="/v1/guarantees/liability",
            tag="guarantees",
            summary="The outstanding guarantees by month of expected exercise: market, cost and reserve",
            query=LiabilityQuery,
            result=Liability,
            form=Form(name="GuaranteeLiability", write=_to_json, read=_liability),
            roles=frozenset({Role.SHOP, Role.BACK_OFFICE}),
        ),
        Operation(
            id="guarantee_calendar",
            method="GET",
            path="/v1/customers/{customer_ref}/guarantee-calendar",
            tag="guarantees",
            summary="A buyer's calendar of guaranteed inflows: per device, and per month and cost centre",
            query=AsOfQuery,
            result=InflowCalendar,
            form=Form(name="GuaranteeCalendar", write=_to_json, read=_inflow_calendar),
        ),
        Operation(
            id="guarantee_consent",
            method="GET",
            path="/v1/orders/{order_id}/guarantee-consent",
            tag="guarantees",
            summary="The buy-back guarantee decision recorded at an order's checkout (null: none offered)",
            result=GuaranteeConsent | None,
        ),
    )


_CACHE: dict[str, Operation] = {}


def operations() -> Mapping[str, Operation]:
    """Every operation by id, in the order of the OpenAPI document."""
    if not _CACHE:
        _CACHE.update((operation.id, operation) for operation in _operations())
    return _CACHE


# -- errors ------------------------------------------------------------------------------------------------


def status_for(error: TradeInError) -> int:
    """The HTTP status of a library error.

    404 for what does not exist; 400 for a webhook that does not verify; 409 for a concurrent change
    (worth retrying); 503 when the store or a provider failed; 422 for every other rule a request broke
    (invalid answers, a spent quote, an illegal transition, an altered checkout).
    """
    from tradein_sdk._domain.webhooks import WebhookVerificationError  # noqa: PLC0415 - keeps webhooks out of the client's import

    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, WebhookVerificationError):
        return 400
    if isinstance(error, ConcurrentUpdateError | IdempotencyKeyInUseError):
        return 409
    if isinstance(error, StoreError | PriceFeedError | InsuranceProviderError):
        return 503
    return 422


@cache
def error_classes() -> dict[str, type[TradeInError]]:
    """Every library error class by code (for a client to raise what the service raised)."""
    import tradein_sdk._domain.webhooks  # noqa: F401, PLC0415 - its errors join the tree, at the first lookup

    found: dict[str, type[TradeInError]] = {}
    pending: list[type[TradeInError]] = [TradeInError]
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("tradein_sdk") and not getattr(cls, "remote", False):
            found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found
