"""Typed clients of the trade-in service: the facade's use cases over HTTP, sync and async.

:class:`TradeInClient` and :class:`AsyncTradeInClient` have the methods of :class:`~tradein_sdk.TradeIn`
that make up the service's API (:data:`.api.OPERATIONS`), with the same names, arguments and
result types, so a shop moves from the embedded facade to a central service by changing one line::

    trade_in = TradeIn.embedded()   # in the shop's process
    trade_in = TradeInClient()      # or the central service: $TRADEIN_BASE_URL, $TRADEIN_API_KEY
    issued = trade_in.quote("apple-iphone-13-128gb", answers)

Every call goes through the request core (:mod:`.transport`): a timeout per attempt, retries
with capped exponential backoff and jitter after connection errors, 408, 409, 429 and 5xx (a capped
``Retry-After`` honoured), and one ``Idempotency-Key`` per POST call that changes something, the same on
every retry (a call that changes nothing, such as :meth:`~TradeInClient.grade` or
:meth:`~TradeInClient.verify_token`, sends none: it is repeated safely as it is). Results are structured
with cattrs into the library's own types. A failure raises the error an embedded call would raise
(``QuoteAlreadyRedeemedError``, ``AnswersInvalidError``, ...), which is at the same time the
:class:`~tradein_sdk.APIStatusError` subclass of its HTTP status (``.status``, ``.request_id``,
``.attempts``); transport failures raise :class:`~tradein_sdk.APIConnectionError` or
:class:`~tradein_sdk.APITimeoutError`. No httpx exception escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import attrs

from grading_questionnaire import AnswerProblem
from tradein_sdk._domain.converters import json_converter
from tradein_sdk._domain.quotes import Channel
from tradein_sdk._errors import (
    AnswersInvalidError,
    APIError,
    APIStatusError,
    AssetImportError,
    DocumentProblem,
    ImportProblem,
    TradeInError,
)
from tradein_sdk._remote.api import Operation, error_classes, operations, query_name
from tradein_sdk._remote.transport import ApiResponse, AsyncRequestCore, ClientConfig, RequestCore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import date
    from types import TracebackType

    import cattrs
    import httpx

    from grading_questionnaire import ConditionReport, RenderedQuestionnaire
    from tradein_sdk._app.checkout import ConfirmedCheckout
    from tradein_sdk._app.facade import StoredQuote
    from tradein_sdk._app.fleet import Progress
    from tradein_sdk._app.ledger import OrderLedger
    from tradein_sdk._app.tenancy import RegisteredEndpoint
    from tradein_sdk._domain.checkout import CheckoutRequest, CheckoutSummary
    from tradein_sdk._domain.co2 import DeviceCO2, OrderCO2, Outcome
    from tradein_sdk._domain.credit_notes import Party, SellerVatStatus
    from tradein_sdk._domain.devices import DeviceCategory
    from tradein_sdk._domain.erasure import ErasureReport, IssuedCertificate, Revocation, RevocationReason
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
    from tradein_sdk._domain.ledger import LedgerEntry
    from tradein_sdk._domain.ledger_report import LedgerReport
    from tradein_sdk._domain.money import Money
    from tradein_sdk._domain.orders.inspection import InspectionDiff
    from tradein_sdk._domain.orders.model import TradeInOrder
    from tradein_sdk._domain.orders.vocabulary import Disposition, HoldReason
    from tradein_sdk._domain.outcome import OrderOutcome
    from tradein_sdk._domain.pages import OrderPage
    from tradein_sdk._domain.payouts import PayoutDetails
    from tradein_sdk._domain.quotes import IssuedQuote, Quote
    from tradein_sdk._domain.search import SearchResults
    from tradein_sdk._domain.shipping import ShippingLabel, TrackingEvent
    from tradein_sdk._domain.tokens import QuoteClaims
    from tradein_sdk._ports import ArchivedDocument, DeadWebhook, Redemption
    from tradein_sdk._remote.api import ManualEvent

__all__ = ["AsyncTradeInClient", "TradeInClient"]


# -- requests and results, shared by both clients -------------------------------------------------------


def _prepare(operation_id: str, arguments: dict[str, Any]) -> tuple[Operation, dict[str, Any]]:
    """The operation and the core's request arguments for a use case called with ``arguments``."""
    converter = json_converter()
    operation = operations()[operation_id]
    arguments = {name: value for name, value in arguments.items() if name != "self"}
    key = arguments.pop("idempotency_key", None)
    # A call that changes nothing carries no key (the service would ignore it): repeating it is safe.
    request: dict[str, Any] = {"idempotency_key": None if operation.read_only else key}
    if operation.read_only:
        request["read_only"] = True
    request["path"] = operation.path.format(
        **{name: quote(str(arguments.pop(name)), safe="") for name in operation.path_parameters}
    )
    if operation.query is not None:
        model = operation.query
        # A query standing for other arguments (a curve as its figures) is made of them by its own method.
        made = model.from_arguments(arguments) if hasattr(model, "from_arguments") else model(**arguments)
        query = converter.unstructure(made)
        names = {field.name: query_name(field) for field in attrs.fields(operation.query)}
        request["params"] = {names[name]: value for name, value in query.items() if value is not None}
    elif operation.body_argument is not None:
        request["json"] = converter.unstructure(arguments[operation.body_argument])
    elif operation.body is not None:
        request["json"] = converter.unstructure(operation.body(**arguments))
    return operation, request


def _result(operation: Operation, response: ApiResponse) -> Any:  # noqa: ANN401 - the operation's result type
    if operation.form is not None:
        return response.structure(operation.result, converter=_forms_converter())
    return response.structure(operation.result)


@cache
def _forms_converter() -> cattrs.Converter:
    """The JSON converter, also reading the results with a JSON form of their own (:class:`.api.Form`)."""
    converter = json_converter().copy()
    for operation in operations().values():
        if operation.form is not None:
            converter.register_structure_hook_func(*_form_hook(operation.result, operation.form.read))
    return converter


def _form_hook(
    result: object, read: Callable[[Any], Any]
) -> tuple[Callable[[Any], bool], Callable[[Any, Any], Any]]:
    """The predicate and the structure hook that read ``result`` with ``read``."""

    def matches(kind: Any) -> bool:  # noqa: ANN401 - any type cattrs asks about
        return bool(kind == result)

    def structure(value: Any, _: Any) -> Any:  # noqa: ANN401 - a JSON value in, the result out
        return read(value)

    return matches, structure


_REMOTE_CLASSES: dict[tuple[type[APIStatusError], type[TradeInError]], type[APIStatusError]] = {}


def _remote_class(
    status_class: type[APIStatusError], library_class: type[TradeInError]
) -> type[APIStatusError]:
    """The error class that is both the library's error and the HTTP status error it came as."""
    found = _REMOTE_CLASSES.get((status_class, library_class))
    if found is None:
        found = type(
            library_class.__name__,
            (status_class, library_class),
            {
                "code": library_class.code,
                "remote": True,
                "__module__": __name__,
                "__doc__": f"{library_class.__doc__}\n\n(From the service as {status_class.__name__}.)",
            },
        )
        found = _REMOTE_CLASSES.setdefault((status_class, library_class), found)
    return found


def _library_error(error: APIStatusError) -> APIStatusError:
    """The library error a problem document names, carrying the HTTP details of ``error``."""
    library_class = error_classes().get(error.problem_code or "")
    if library_class is None or issubclass(library_class, APIError):
        return error
    problem = error.problem
    remote = _remote_class(type(error), library_class)
    raised: APIStatusError = remote.__new__(remote)
    raised.__dict__.update(error.__dict__)
    raised.args = (error.detail or str(error),)
    params = problem.get("params")
    raised.params = dict(params) if isinstance(params, dict) else {}
    message_id = problem.get("message_id")
    raised.message_id = message_id if isinstance(message_id, str) else raised.args[0]
    for name, value in raised.params.items():
        if name not in raised.__dict__:
            setattr(raised, name, value)
    listed = problem.get("problems")
    if isinstance(listed, list):
        raised.__dict__["problems"] = tuple(
            _problem(item, library_class) for item in listed if isinstance(item, dict)
        )
    return raised


def _problem(item: Mapping[str, Any], library_class: type[TradeInError]) -> object:
    path, message = str(item.get("path", "$")), str(item.get("message", ""))
    if issubclass(library_class, AnswersInvalidError):
        params = item.get("params")
        return AnswerProblem(
            path=path,
            code=str(item.get("code", "")),
            message_id=str(item.get("message_id", message)),
            params=dict(params) if isinstance(params, dict) else {},
        )
    if issubclass(library_class, AssetImportError):
        row = item.get("row")
        return ImportProblem(
            row=row if isinstance(row, int) else 0,
            column=str(item.get("column", "*")),
            code=str(item.get("code", "")),
            message=message,
            value=str(item.get("value", "")),
        )
    return DocumentProblem(path=path, message=message)


def _config(
    base_url: str | None,
    api_key: str | None,
    timeout: float | None,
    max_retries: int | None,
    max_retry_after: float | None,
) -> ClientConfig:
    return ClientConfig.from_environment(
        base_url=base_url,
        api_key=api_key,
        timeout=timeout,
        max_retries=max_retries,
        max_retry_after=max_retry_after,
    )


# -- the clients ------------------------------------------------------------------------------------------


class TradeInClient:
    """The trade-in service's use cases over HTTP (sync twin of :class:`AsyncTradeInClient`).

    >>> client = TradeInClient(base_url="https://tradein.example/api", api_key="...")  # doctest: +SKIP
    >>> client.search("iphone 13 128").results[0].id  # doctest: +SKIP
    'apple-iphone-13-128gb'
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_after: float | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        """Configure the client; each setting falls back on its environment variable, then a default.

        Args:
            base_url: the service's root URL (``$TRADEIN_BASE_URL``).
            api_key: the API key (``$TRADEIN_API_KEY``).
            timeout: seconds per attempt (``$TRADEIN_TIMEOUT``, default 10).
            max_retries: retries after the first attempt (``$TRADEIN_MAX_RETRIES``, default 2).
            max_retry_after: the longest ``Retry-After`` wait honoured (default 60 s).
            http_client: an httpx client to send with (proxies, transports); it stays its owner's to
                close. One is created, kept alive between calls and closed by :meth:`close`, when omitted.

        Raises:
            ConfigurationError: the base URL or the API key is missing, or a value is out of range.
        """
        config = _config(base_url, api_key, timeout, max_retries, max_retry_after)
        self._core = RequestCore(config, http_client=http_client)

    @classmethod
    def _with_core(cls, core: RequestCore) -> Self:
        client = cls.__new__(cls)
        client._core = core  # noqa: SLF001 - the class's own attribute
        return client

    @property
    def config(self) -> ClientConfig:
        """The configuration the client sends with."""
        return self._core.config

    def with_options(
        self, *, timeout: float | None = None, max_retries: int | None = None, deadline: float | None = None
    ) -> Self:
        """A client with another timeout, retry budget or deadline, sharing this one's connections.

        Args:
            timeout: seconds per attempt.
            max_retries: retries after the first attempt.
            deadline: seconds per call, its attempts and the waits between them together.

        Returns:
            The new client; the settings not given stay as they are.

        Raises:
            ConfigurationError: a value is out of range.
        """
        return self._with_core(
            self._core.with_options(timeout=timeout, max_retries=max_retries, deadline=deadline)
        )

    def _call(self, operation_id: str, arguments: dict[str, Any]) -> Any:  # noqa: ANN401
        operation, request = _prepare(operation_id, arguments)
        try:
            response = self._core.request(operation.method, **request)
        except APIStatusError as exc:
            raise _library_error(exc) from None
        return _result(operation, response)

    def close(self) -> None:
        """Close the connections, if this client opened them."""
        self._core.close()

    def __enter__(self) -> Self:
        """Use the client in a ``with`` block that closes it."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the client."""
        self.close()

    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        category: DeviceCategory | None = None,
    ) -> SearchResults:
        """Find devices of the catalog by free text, best match first.

        The remote twin of :meth:`TradeIn.search <tradein_sdk.TradeIn.search>`.
        """
        result: SearchResults = self._call("search", locals())
        return result

    def render_questionnaire(
        self,
        category: str,
        locale: str | None = None,
        *,
        staff: bool = False,
    ) -> RenderedQuestionnaire:
        """The condition questionnaire of a device category, rendered in a locale.

        The remote twin of :meth:`TradeIn.render_questionnaire <tradein_sdk.TradeIn.render_questionnaire>`.
        """
        result: RenderedQuestionnaire = self._call("render_questionnaire", locals())
        return result

    def grade(
        self,
        category: str,
        answers: Mapping[str, Any],
        *,
        verification: str = "self_declared",
        diagnostics: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> ConditionReport:
        """Grade answers (and diagnostics) into a condition report.

        The remote twin of :meth:`TradeIn.grade <tradein_sdk.TradeIn.grade>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: ConditionReport = self._call("grade", locals())
        return result

    def quote(
        self,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        market: str | None = None,
        locale: str | None = None,
        imei: str | None = None,
        channel: Channel = Channel.ONLINE,
        verification: str = "self_declared",
        diagnostics: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> IssuedQuote:
        """Grade, price, sign and store a quote for a device variant.

        The remote twin of :meth:`TradeIn.quote <tradein_sdk.TradeIn.quote>`.
        The quote's audience is the API key's tenant: the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: IssuedQuote = self._call("quote", locals())
        return result

    def get_quote(
        self,
        quote_id: str,
    ) -> StoredQuote:
        """A stored quote and its redemption.

        The remote twin of :meth:`TradeIn.get_quote <tradein_sdk.TradeIn.get_quote>`.
        """
        result: StoredQuote = self._call("get_quote", locals())
        return result

    def verify_token(
        self,
        token: str,
        *,
        idempotency_key: str | None = None,
    ) -> QuoteClaims:
        """Verify a quote token: signature, key, audience and expiry.

        The remote twin of :meth:`TradeIn.verify_token <tradein_sdk.TradeIn.verify_token>`.
        The audience checked is the API key's tenant.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: QuoteClaims = self._call("verify_token", locals())
        return result

    def redeem(
        self,
        token: str,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Redemption:
        """Redeem a quote token, exactly once.

        The remote twin of :meth:`TradeIn.redeem <tradein_sdk.TradeIn.redeem>`.
        The audience checked is the API key's tenant.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: Redemption = self._call("redeem", locals())
        return result

    def accept(
        self,
        tokens: Sequence[str],
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        instant_credit: bool = False,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Open an order for accepted quotes.

        The remote twin of :meth:`TradeIn.accept <tradein_sdk.TradeIn.accept>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("accept", locals())
        return result

    def order(
        self,
        order_id: str,
    ) -> TradeInOrder:
        """An order as it stands.

        The remote twin of :meth:`TradeIn.order <tradein_sdk.TradeIn.order>`.
        """
        result: TradeInOrder = self._call("order", locals())
        return result

    def issue_label(
        self,
        order_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> ShippingLabel:
        """Issue the shipping label for the devices not yet sent; the send-by deadline starts.

        The remote twin of :meth:`TradeIn.issue_label <tradein_sdk.TradeIn.issue_label>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: ShippingLabel = self._call("issue_label", locals())
        return result

    def ship(
        self,
        order_id: str,
        device_id: str,
        *,
        tracking: str | None = None,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The shopper handed the device to the carrier.

        The remote twin of :meth:`TradeIn.ship <tradein_sdk.TradeIn.ship>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("ship", locals())
        return result

    def receive(
        self,
        order_id: str,
        device_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The device arrived where it is inspected.

        The remote twin of :meth:`TradeIn.receive <tradein_sdk.TradeIn.receive>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("receive", locals())
        return result

    def inspect(
        self,
        order_id: str,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
        locale: str | None = None,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> InspectionDiff:
        """Record an inspection: confirm, revise or reject the offer.

        The remote twin of :meth:`TradeIn.inspect <tradein_sdk.TradeIn.inspect>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: InspectionDiff = self._call("inspect", locals())
        return result

    def respond_to_revision(
        self,
        order_id: str,
        device_id: str,
        *,
        accept: bool,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The shopper accepts or declines a revised offer.

        The remote twin of :meth:`TradeIn.respond_to_revision <tradein_sdk.TradeIn.respond_to_revision>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("respond_to_revision", locals())
        return result

    def pay(
        self,
        order_id: str,
        device_id: str,
        *,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Pay out or credit a confirmed device.

        The remote twin of :meth:`TradeIn.pay <tradein_sdk.TradeIn.pay>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("pay", locals())
        return result

    def cancel(
        self,
        order_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Cancel every device not yet sent.

        The remote twin of :meth:`TradeIn.cancel <tradein_sdk.TradeIn.cancel>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("cancel", locals())
        return result

    def clawbacks(
        self,
        order_id: str,
    ) -> dict[str, Money]:
        """What to charge back now for each device of an order confirmed at checkout.

        The remote twin of :meth:`TradeIn.clawbacks <tradein_sdk.TradeIn.clawbacks>`.
        """
        result: dict[str, Money] = self._call("clawbacks", locals())
        return result

    def insurance_offers(
        self,
        request: CheckoutRequest,
        *,
        idempotency_key: str | None = None,
    ) -> tuple[InsuranceOffer, ...]:
        """The device protection offers for the new device of a checkout.

        The remote twin of :meth:`TradeIn.insurance_offers <tradein_sdk.TradeIn.insurance_offers>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: tuple[InsuranceOffer, ...] = self._call("insurance_offers", locals())
        return result

    def checkout(
        self,
        request: CheckoutRequest,
        *,
        idempotency_key: str | None = None,
    ) -> CheckoutSummary:
        """Compute and sign the checkout summary the shopper sees before committing.

        The remote twin of :meth:`TradeIn.checkout <tradein_sdk.TradeIn.checkout>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: CheckoutSummary = self._call("checkout", locals())
        return result

    def confirm_checkout(
        self,
        summary: CheckoutSummary,
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        insurance_accepted: bool = False,
        guarantee_accepted: bool = False,
        idempotency_key: str | None = None,
    ) -> ConfirmedCheckout:
        """Verify, recompute and commit a signed checkout summary.

        The remote twin of :meth:`TradeIn.confirm_checkout <tradein_sdk.TradeIn.confirm_checkout>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: ConfirmedCheckout = self._call("confirm_checkout", locals())
        return result

    def ledger(
        self,
        order_id: str,
    ) -> OrderLedger:
        """An order's settlement ledger: every entry, the balances they net to, the installments open.

        The remote twin of :meth:`TradeIn.ledger <tradein_sdk.TradeIn.ledger>`: the service sends
        :meth:`OrderLedger.to_json <tradein_sdk.OrderLedger.to_json>`, read back into an ``OrderLedger``.
        """
        result: OrderLedger = self._call("ledger", locals())
        return result

    def installments_due(
        self,
        period: str,
        *,
        limit: int = 1000,
        after: int = 0,
    ) -> list[tuple[int, LedgerEntry]]:
        """The bill-credit installments due up to a billing period, not yet credited or stopped.

        The remote twin of :meth:`TradeIn.installments_due <tradein_sdk.TradeIn.installments_due>`:
        ``(position, installment)`` pairs; pass the last position as ``after`` for the next page.
        ``limit`` is at most 1000.
        """
        result: list[tuple[int, LedgerEntry]] = self._call("installments_due", locals())
        return result

    def credit_installments(
        self,
        period: str,
        *,
        run_id: str | None = None,
        ids: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, Money]]:
        """Credit every installment due up to a billing period, each exactly once (a billing run).

        The remote twin of :meth:`TradeIn.credit_installments <tradein_sdk.TradeIn.credit_installments>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: tuple[int, dict[str, Money]] = self._call("credit_installments", locals())
        return result

    def stop_installments(
        self,
        order_id: str,
        *,
        reason: str,
        device_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[LedgerEntry]:
        """Stop the installments not yet credited (the contract ended, the device came back).

        The remote twin of :meth:`TradeIn.stop_installments <tradein_sdk.TradeIn.stop_installments>`.
        ``reason`` is a code of letters, digits and ``_.:-`` (at most 100).
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: list[LedgerEntry] = self._call("stop_installments", locals())
        return result

    def ledger_report(
        self,
        start: date,
        end: date,
    ) -> LedgerReport:
        """The shop's ledger over the days ``[start, end)``, with totals that tie out.

        The remote twin of :meth:`TradeIn.ledger_report <tradein_sdk.TradeIn.ledger_report>`: the
        service's JSON read back into a ``LedgerReport`` (``report.to_csv()`` gives the CSV the service
        also sends for ``GET /v1/ledger/report?format=csv``).
        """
        result: LedgerReport = self._call("ledger_report", locals())
        return result

    def orders_page(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        customer_ref: str | None = None,
        open_only: bool = False,
    ) -> OrderPage:
        """One page of the orders in the API key's scope, newest first, and the cursor of the next page.

        The remote twin of :meth:`TradeIn.orders_page <tradein_sdk.TradeIn.orders_page>`. A provider's key
        sees the orders assigned to it.

        Args:
            limit: at most this many orders (1 to 1,000).
            cursor: the ``next_cursor`` of the previous page (``None``: the first page).
            customer_ref: only this customer's orders.
            open_only: only orders with a device that can still change.

        Returns:
            The page; its ``next_cursor`` is ``None`` on the last page.

        Raises:
            InvalidCursorError: the cursor was not made by the service.
            BadRequestError: ``limit`` is out of range, or the cursor or ``customer_ref`` is malformed.
            PermissionDeniedError: the API key's role may not read orders.
        """
        result: OrderPage = self._call("orders_page", locals())
        return result

    def settle(
        self,
        order_id: str,
        device_id: str,
        *,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Settle a confirmed device: pay or credit what its ledger holds open, as the terms say.

        The remote twin of :meth:`TradeIn.settle <tradein_sdk.TradeIn.settle>`. The actor recorded is the
        API key's (its role): the service sets it, the caller does not.

        Args:
            order_id: the order.
            device_id: the device (``d1``, ``d2``, ...).
            payout: how to pay, when the shopper chose now (else the order's payout).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the settlement.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            OrderDeviceNotFoundError: the order has no such device.
            GuardFailedError: the device is not confirmed or accepted at a revised offer, has no value, or a
                bank payout is due and no bank account was given.
            InvalidPayoutError: the payout details are not valid.
            PermissionDeniedError: the API key's role may not settle (only the back office's may).
        """
        result: TradeInOrder = self._call("settle", locals())
        return result

    def record_event(
        self,
        order_id: str,
        device_id: str,
        kind: ManualEvent | str,
        *,
        event_id: str | None = None,
        reason: str | None = None,
        tracking: str | None = None,
        hold_reason: HoldReason | str | None = None,
        disposition: Disposition | str | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Record a hand-over, hold, release, surrender, return or disposal of a device.

        The remote twin of :meth:`TradeIn.record_event <tradein_sdk.TradeIn.record_event>` for the events a
        key may record directly (``ManualEvent``; the others have their own method). The actor recorded is
        the API key's (its role): the service sets it, the caller does not.

        Args:
            order_id: the order.
            device_id: the device (``d1``, ``d2``, ...).
            kind: what happened (``hand_over``, ``receive_late``, ``hold``, ``release``, ``surrender``,
                ``start_return``, ``returned``, ``recycle``, ``dispose``).
            event_id: the event's id, for deliveries that may repeat; a repeated id changes nothing. A new id
                is made when omitted.
            reason: why (a late receipt, a hold, a return), without personal data.
            tracking: the carrier's tracking number (a hand-over, a return).
            hold_reason: why a received device is held (``hold``).
            disposition: what becomes of the device (``dispose``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the event.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            OrderDeviceNotFoundError: the order has no such device.
            IllegalTransitionError: the event does not fit the device's state (``StaleEventError``,
                ``ActorNotAllowedError`` and ``GuardFailedError`` say why).
            BadRequestError: ``kind`` is not an event recorded directly, or a field is malformed.
            PermissionDeniedError: the API key's role may not record events.
        """
        result: TradeInOrder = self._call("record_event", locals())
        return result

    def record_tracking(
        self,
        event: TrackingEvent,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """A carrier's news about a parcel (handed over, in transit, delivered), for the devices on its label.

        The remote twin of :meth:`TradeIn.record_tracking <tradein_sdk.TradeIn.record_tracking>`. A repeated
        delivery of the same news (same ``event_id``) changes nothing.

        Args:
            event: the tracking event; its ``order_ref`` is the reference printed on the label.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the change.

        Raises:
            OrderNotFoundError: the reference names no order in the API key's scope.
            IllegalTransitionError: the news does not fit the devices' states (``StaleEventError``: they
                moved on, which a webhook handler can acknowledge and drop).
            PermissionDeniedError: the API key's role may not record tracking news.
        """
        result: TradeInOrder = self._call("record_tracking", locals())
        return result

    def assign_provider(
        self,
        order_id: str,
        provider: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Assign an order's devices to a provider of the organisation (``None`` takes them back).

        The remote twin of :meth:`TradeIn.assign_provider <tradein_sdk.TradeIn.assign_provider>`. The
        provider's key then sees the order and may receive, inspect and dispose of its devices.

        Args:
            order_id: the order.
            provider: the provider's tenant id, or ``None``.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            BadRequestError: ``provider`` is not a tenant id.
            PermissionDeniedError: the API key's role may not assign orders (only the back office's may).
        """
        result: TradeInOrder = self._call("assign_provider", locals())
        return result

    def order_outcome(
        self,
        order_id: str,
    ) -> OrderOutcome:
        """What an order paid and credited, per device, as its ledger says.

        The remote twin of :meth:`TradeIn.order_outcome <tradein_sdk.TradeIn.order_outcome>`.

        Args:
            order_id: the order.

        Returns:
            The order's outcome, netted from its ledger.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not read outcomes.
        """
        result: OrderOutcome = self._call("order_outcome", locals())
        return result

    def reproduce_quote(
        self,
        quote_id: str,
    ) -> Quote:
        """Recompute a stored quote from its snapshot (the exact questionnaire and price book).

        The remote twin of :meth:`TradeIn.reproduce_quote <tradein_sdk.TradeIn.reproduce_quote>`.

        Args:
            quote_id: the quote.

        Returns:
            The recomputed quote; it equals the stored one whenever the computation is deterministic.

        Raises:
            QuoteNotFoundError: no quote in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not read quotes.
        """
        result: Quote = self._call("reproduce_quote", locals())
        return result

    def erase_customer(
        self,
        customer_ref: str,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Erase a customer's personal data (payout details, contact); orders and amounts stay.

        The remote twin of :meth:`TradeIn.erase_customer <tradein_sdk.TradeIn.erase_customer>`.

        Args:
            customer_ref: the shop's pseudonymous customer id.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many records were erased.

        Raises:
            PermissionDeniedError: the API key's role may not erase (only the back office's may).
        """
        result: int = self._call("erase_customer", locals())
        return result

    def tick(
        self,
        *,
        limit: int = 500,
        idempotency_key: str | None = None,
    ) -> int:
        """Apply the deadlines due (expiry, silence on a revised offer) in the API key's scope.

        The remote twin of :meth:`TradeIn.tick <tradein_sdk.TradeIn.tick>`; safe to run from several
        schedulers at once (each transition is applied once).

        Args:
            limit: at most this many orders (1 to 5,000).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many orders changed.

        Raises:
            BadRequestError: ``limit`` is out of range.
            PermissionDeniedError: the API key's role may not apply deadlines (the back office's and an
                admin's may).
        """
        result: int = self._call("tick", locals())
        return result

    def register_webhook_endpoint(
        self,
        url: str,
        *,
        events: Iterable[str] | None = None,
        tenant: str | None = None,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Register a webhook endpoint for the organisation's (or one tenant's) events, with a new secret.

        The remote twin of :meth:`TradeIn.register_webhook_endpoint
        <tradein_sdk.TradeIn.register_webhook_endpoint>`.

        Args:
            url: the receiver (``https://…``).
            events: the event types to send (default: all).
            tenant: only this tenant's events.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, with its secret shown this once.

        Raises:
            BadRequestError: the URL is not http(s), or ``tenant`` is not a tenant id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = self._call("register_webhook_endpoint", locals())
        return result

    def registered_webhook_endpoints(
        self,
    ) -> list[RegisteredEndpoint]:
        """The organisation's active webhook endpoints (never their secrets).

        The remote twin of :meth:`TradeIn.registered_webhook_endpoints
        <tradein_sdk.TradeIn.registered_webhook_endpoints>`.

        Returns:
            The endpoints, without their secrets.

        Raises:
            PermissionDeniedError: the API key is not an admin's.
        """
        result: list[RegisteredEndpoint] = self._call("registered_webhook_endpoints", locals())
        return result

    def rotate_webhook_secret(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """A new secret for an endpoint; deliveries carry both signatures until the old is retired.

        The remote twin of :meth:`TradeIn.rotate_webhook_secret <tradein_sdk.TradeIn.rotate_webhook_secret>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, with its new secret shown this once.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = self._call("rotate_webhook_secret", locals())
        return result

    def retire_old_secrets(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Sign an endpoint's deliveries with its newest secret only (once the receiver has switched to it).

        The remote twin of :meth:`TradeIn.retire_old_secrets <tradein_sdk.TradeIn.retire_old_secrets>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, without its secret.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = self._call("retire_old_secrets", locals())
        return result

    def disable_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Stop sending to an endpoint; deliveries already queued for it become dead letters.

        The remote twin of :meth:`TradeIn.disable_webhook_endpoint
        <tradein_sdk.TradeIn.disable_webhook_endpoint>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, without its secret.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = self._call("disable_webhook_endpoint", locals())
        return result

    def dead_webhooks(
        self,
        *,
        limit: int = 100,
        after: str | None = None,
    ) -> list[DeadWebhook]:
        """Webhooks given up (dead letters) for the organisation's orders, by delivery id.

        The remote twin of :meth:`TradeIn.dead_webhooks <tradein_sdk.TradeIn.dead_webhooks>`.

        Args:
            limit: at most this many (1 to 1,000).
            after: the last ``delivery_id`` of the previous page (``None``: the first page).

        Returns:
            The dead letters, by delivery id.

        Raises:
            BadRequestError: ``limit`` is out of range, or ``after`` is malformed.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: list[DeadWebhook] = self._call("dead_webhooks", locals())
        return result

    def record_erasure_report(
        self,
        order_id: str,
        device_id: str,
        report: Mapping[str, Any] | ErasureReport,
        *,
        idempotency_key: str | None = None,
    ) -> IssuedCertificate:
        """Record a device's erasure and issue its signed certificate.

        The remote twin of :meth:`TradeIn.record_erasure_report <tradein_sdk.TradeIn.record_erasure_report>`.

        Args:
            order_id: the order.
            device_id: the device of the order.
            report: the erasure report (``schemas/erasure-report.schema.json``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The certificate and its signed document (verify it with :meth:`certificate_keys`).

        Raises:
            ErasureNotAllowedError: the device is not in the shop's custody.
            ErasureUnverifiedError: the report's verification did not pass.
            CertificateExistsError: the device has a certificate that is not revoked.
            PermissionDeniedError: the API key's role may not report erasures.
        """
        if not isinstance(report, Mapping):
            report = report.to_json()
        result: IssuedCertificate = self._call("record_erasure_report", locals())
        return result

    def erasure_certificate(
        self,
        order_id: str,
        device_id: str,
    ) -> dict[str, Any] | None:
        """A device's latest signed erasure certificate, revoked or not (``None`` when it has none).

        The remote twin of :meth:`TradeIn.erasure_certificate <tradein_sdk.TradeIn.erasure_certificate>`.

        Args:
            order_id: the order.
            device_id: the device of the order.

        Returns:
            The signed certificate, or ``None``.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
        """
        result: dict[str, Any] | None = self._call("erasure_certificate", locals())
        return result

    def certificate_bundle(
        self,
        order_id: str,
    ) -> dict[str, Any]:
        """The latest signed erasure certificate of each erased device of an order, as one bundle.

        The remote twin of :meth:`TradeIn.certificate_bundle <tradein_sdk.TradeIn.certificate_bundle>`.

        Args:
            order_id: the order.

        Returns:
            The bundle (verify it with ``verify_bundle``).

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
        """
        result: dict[str, Any] = self._call("certificate_bundle", locals())
        return result

    def revoke_certificate(
        self,
        certificate_id: str,
        reason: RevocationReason | str,
        *,
        idempotency_key: str | None = None,
    ) -> Revocation:
        """Revoke an erasure certificate (the device may then be certified anew).

        The remote twin of :meth:`TradeIn.revoke_certificate <tradein_sdk.TradeIn.revoke_certificate>`.

        Args:
            certificate_id: the certificate.
            reason: why (a :class:`RevocationReason`).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The revocation.

        Raises:
            CertificateNotFoundError: no certificate in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not revoke (the back office's and admin's may).
        """
        result: Revocation = self._call("revoke_certificate", locals())
        return result

    def certificate_revocations(
        self,
    ) -> dict[str, Any]:
        """The signed list of revoked erasure certificates, as of now.

        The remote twin of
        :meth:`TradeIn.certificate_revocations <tradein_sdk.TradeIn.certificate_revocations>`.

        Returns:
            The signed revocation list (purpose ``erasure-revocations``).
        """
        result: dict[str, Any] = self._call("certificate_revocations", locals())
        return result

    def certificate_keys(
        self,
    ) -> dict[str, list[dict[str, str]]]:
        """The published keys (JWKS) that verify erasure certificates and revocation lists offline.

        The remote twin of :meth:`TradeIn.certificate_keys <tradein_sdk.TradeIn.certificate_keys>`.

        Returns:
            The JWKS document.
        """
        result: dict[str, list[dict[str, str]]] = self._call("certificate_keys", locals())
        return result

    def device_co2(
        self,
        device_id: str,
        *,
        outcome: Outcome | str = "reuse",
        second_life_years: int | None = None,
        parts: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> DeviceCO2:
        """The CO2e a catalog device's reuse avoids (or its recycling emits), term by term.

        The remote twin of :meth:`TradeIn.device_co2 <tradein_sdk.TradeIn.device_co2>` (whole years only).
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: DeviceCO2 = self._call("device_co2", locals())
        return result

    def quote_co2(self, quote_id: str) -> DeviceCO2:
        """The CO2e estimate of a quoted device (its recycling for a recycle-only quote).

        The remote twin of :meth:`TradeIn.quote_co2 <tradein_sdk.TradeIn.quote_co2>`.
        """
        result: DeviceCO2 = self._call("quote_co2", locals())
        return result

    def order_co2(self, order_id: str) -> OrderCO2:
        """The CO2e of an order's bought and recycled devices, with totals.

        The remote twin of :meth:`TradeIn.order_co2 <tradein_sdk.TradeIn.order_co2>`.
        """
        result: OrderCO2 = self._call("order_co2", locals())
        return result

    def co2_report(self, start: date, end: date, *, company: str | None = None) -> dict[str, Any]:
        """The signed CO2 report of the days ``[start, end]`` (verify it with the published keys).

        The remote twin of :meth:`TradeIn.co2_report <tradein_sdk.TradeIn.co2_report>`.
        """
        result: dict[str, Any] = self._call("co2_report", locals())
        return result

    def open_company(
        self,
        legal_name: str,
        address: Address,
        *,
        vat_status: SellerVatStatus | str,
        contract: FrameworkContract,
        vat_id: str | None = None,
        tax_number: str | None = None,
        contacts: Sequence[Mapping[str, str]] = (),
        idempotency_key: str | None = None,
    ) -> Company:
        """Open a company account (VAT id checked) with its framework contract.

        The remote twin of :meth:`TradeIn.open_company <tradein_sdk.TradeIn.open_company>`.
        """
        result: Company = self._call("open_company", locals())
        return result

    def companies(self) -> list[Company]:
        """The company accounts in the API key's scope, oldest first.

        The remote twin of :meth:`TradeIn.companies <tradein_sdk.TradeIn.companies>`.
        """
        result: list[Company] = self._call("companies", locals())
        return result

    def company(self, company_id: str) -> Company:
        """A company account.

        The remote twin of :meth:`TradeIn.company <tradein_sdk.TradeIn.company>`.
        """
        result: Company = self._call("company", locals())
        return result

    def read_assets(
        self,
        data: bytes,
        *,
        filename: str | None = None,
        default_grade: str | None = None,
        idempotency_key: str | None = None,
    ) -> AssetImport:
        """Check an asset list (CSV or XLSX): its rows and every problem by row and column.

        The remote twin of :meth:`TradeIn.read_assets <tradein_sdk.TradeIn.read_assets>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: AssetImport = self._call("read_assets", locals())
        return result

    def fleet_quote(
        self,
        company_id: str,
        assets: bytes,
        *,
        filename: str | None = None,
        default_grade: str | None = None,
        skip_invalid: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> PortfolioQuote:
        """Price an asset list: one signed portfolio quote for the batch (or a dry run).

        The remote twin of :meth:`TradeIn.fleet_quote <tradein_sdk.TradeIn.fleet_quote>`.
        The service prices the list in one request; ``progress`` is called once, with the lines priced, when
        the answer arrives.
        """
        arguments = dict(locals())
        arguments.pop("progress")
        result: PortfolioQuote = self._call("fleet_quote", arguments)
        if progress is not None:
            progress(len(result.lines), len(result.lines))
        return result

    def fleet_batches(self, company_id: str | None = None) -> list[FleetBatch]:
        """The fleet batches in the API key's scope (of one company), newest first, without lines.

        The remote twin of :meth:`TradeIn.fleet_batches <tradein_sdk.TradeIn.fleet_batches>`.
        """
        result: list[FleetBatch] = self._call("fleet_batches", locals())
        return result

    def fleet_batch(self, batch_id: str) -> FleetBatch:
        """A fleet batch and its lines as they stand.

        The remote twin of :meth:`TradeIn.fleet_batch <tradein_sdk.TradeIn.fleet_batch>`.
        """
        result: FleetBatch = self._call("fleet_batch", locals())
        return result

    def book_pickup(
        self,
        batch_id: str,
        *,
        boxes: int,
        seals: Sequence[str],
        lines: Sequence[int] | None = None,
        contact: Mapping[str, str] | None = None,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Book the pickup of a quoted batch: its order and manifest.

        The remote twin of :meth:`TradeIn.book_pickup <tradein_sdk.TradeIn.book_pickup>`.
        """
        result: FleetBatch = self._call("book_pickup", locals())
        return result

    def hand_over(
        self,
        batch_id: str,
        *,
        seals: Sequence[str],
        carrier: str,
        tracking: str | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Record the carrier's pickup: a signed hand-over record.

        The remote twin of :meth:`TradeIn.hand_over <tradein_sdk.TradeIn.hand_over>`.
        """
        result: FleetBatch = self._call("hand_over", locals())
        return result

    def receive_batch(
        self, batch_id: str, scanned: Sequence[str], *, idempotency_key: str | None = None
    ) -> FleetBatch:
        """Open the boxes: lines received or missing, devices not on the manifest.

        The remote twin of :meth:`TradeIn.receive_batch <tradein_sdk.TradeIn.receive_batch>`.
        """
        result: FleetBatch = self._call("receive_batch", locals())
        return result

    def decide_extra(
        self,
        batch_id: str,
        identifier: str,
        decision: ExtraDecision | str,
        *,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Return or recycle a device found in the boxes but not on the manifest.

        The remote twin of :meth:`TradeIn.decide_extra <tradein_sdk.TradeIn.decide_extra>`.
        """
        result: FleetBatch = self._call("decide_extra", locals())
        return result

    def inspect_fleet_device(
        self,
        batch_id: str,
        line: int,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
        idempotency_key: str | None = None,
    ) -> InspectionDiff:
        """Inspect one received line of a batch against its declared answers.

        The remote twin of :meth:`TradeIn.inspect_fleet_device <tradein_sdk.TradeIn.inspect_fleet_device>`.
        """
        result: InspectionDiff = self._call("inspect_fleet_device", locals())
        return result

    def fleet_true_up(self, batch_id: str) -> BatchTrueUp:
        """What inspection found against the quote, per line and for the batch.

        The remote twin of :meth:`TradeIn.fleet_true_up <tradein_sdk.TradeIn.fleet_true_up>`.
        """
        result: BatchTrueUp = self._call("fleet_true_up", locals())
        return result

    def settle_batch(
        self,
        batch_id: str,
        *,
        issuer: Party,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Settle a received batch: one settlement, one credit note or purchase statement.

        The remote twin of :meth:`TradeIn.settle_batch <tradein_sdk.TradeIn.settle_batch>`.
        """
        result: FleetBatch = self._call("settle_batch", locals())
        return result

    def fleet_documents(self, batch_id: str) -> list[ArchivedDocument]:
        """The documents archived for a batch (without their content).

        The remote twin of :meth:`TradeIn.fleet_documents <tradein_sdk.TradeIn.fleet_documents>`.
        """
        result: list[ArchivedDocument] = self._call("fleet_documents", locals())
        return result

    def fleet_document(self, batch_id: str, kind: str) -> ArchivedDocument:
        """One archived document with its content, checked against its hash.

        The remote twin of :meth:`TradeIn.fleet_document <tradein_sdk.TradeIn.fleet_document>`.
        """
        result: ArchivedDocument = self._call("fleet_document", locals())
        return result

    def fleet_report(self, batch_id: str) -> FleetReport:
        """The company's report of a batch: outcomes, amounts, certificates, CO2.

        The remote twin of :meth:`TradeIn.fleet_report <tradein_sdk.TradeIn.fleet_report>`.
        """
        result: FleetReport = self._call("fleet_report", locals())
        return result

    def fleet_report_file(
        self,
        batch_id: str,
        *,
        format: str = "csv",  # noqa: A002 - the facade's word
        locale: str | None = None,
    ) -> bytes:
        """The report as CSV (the asset-disposal export), XLSX, PDF or JSON.

        The remote twin of :meth:`TradeIn.fleet_report_file <tradein_sdk.TradeIn.fleet_report_file>`.
        """
        result: bytes = self._call("fleet_report_file", locals())
        return result

    def offer_guarantees(
        self,
        device_id: str,
        price: Money,
        *,
        purchased_on: date | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[GuaranteeOffer, ...]:
        """The buy-back guarantees a device being bought may have, each explained band by band.

        The remote twin of :meth:`TradeIn.offer_guarantees <tradein_sdk.TradeIn.offer_guarantees>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: tuple[GuaranteeOffer, ...] = self._call("offer_guarantees", locals())
        return result

    def sell_guarantee(
        self,
        plan_id: str,
        device_id: str,
        price: Money,
        *,
        purchased_on: date | None = None,
        imei: str | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        customer_ref: str | None = None,
        cost_centre: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Sell a guarantee with a device (the customer accepted the plan's terms); the signed contract.

        The remote twin of :meth:`TradeIn.sell_guarantee <tradein_sdk.TradeIn.sell_guarantee>`: the
        envelope as the service signed it (verify it with the keys of :meth:`certificate_keys`, purpose
        ``buyback-guarantee``). ``idempotency_key`` is sent on every attempt (a new UUID when omitted): a
        retry never sells a second contract.
        """
        result: dict[str, Any] = self._call("sell_guarantee", locals())
        return result

    def guarantee(self, contract_id: str) -> GuaranteeContract:
        """A guarantee contract.

        The remote twin of :meth:`TradeIn.guarantee <tradein_sdk.TradeIn.guarantee>`.
        """
        result: GuaranteeContract = self._call("guarantee", locals())
        return result

    def guarantee_document(self, contract_id: str) -> dict[str, Any]:
        """A guarantee contract's signed envelope (what the customer verifies offline).

        The remote twin of :meth:`TradeIn.guarantee_document <tradein_sdk.TradeIn.guarantee_document>`.
        """
        result: dict[str, Any] = self._call("guarantee_document", locals())
        return result

    def guarantee_status(self, contract_id: str, *, as_of: date | None = None) -> InflowLine:
        """Where a contract stands: open, in progress (with the order exercising it), exercised, or lapsed.

        The remote twin of :meth:`TradeIn.guarantee_status <tradein_sdk.TradeIn.guarantee_status>`.
        """
        result: InflowLine = self._call("guarantee_status", locals())
        return result

    def exercise_guarantee(
        self,
        contract_id: str,
        *,
        grade: str | None,
        locked: bool,
        market: Money,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> GuaranteeExercise:
        """Exercise a guarantee once, on the service's day, from the inspection of the returned device.

        The remote twin of :meth:`TradeIn.exercise_guarantee <tradein_sdk.TradeIn.exercise_guarantee>`
        (a store's or the back office's key). ``idempotency_key`` is sent on every attempt (a new UUID
        when omitted): a retry gets the first answer, never ``already_exercised``.
        """
        result: GuaranteeExercise = self._call("exercise_guarantee", locals())
        return result

    def guarantee_promise(
        self,
        contract_id: str,
        token: str,
        *,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> GuaranteeExercise:
        """What :meth:`redeem_guarantee` would promise today for the device a quote token describes.

        The remote twin of :meth:`TradeIn.guarantee_promise <tradein_sdk.TradeIn.guarantee_promise>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: GuaranteeExercise = self._call("guarantee_promise", locals())
        return result

    def guarantee_consent(self, order_id: str) -> GuaranteeConsent | None:
        """The buy-back guarantee decision recorded at an order's checkout (``None``: none was offered).

        The remote twin of :meth:`TradeIn.guarantee_consent <tradein_sdk.TradeIn.guarantee_consent>`.
        """
        result: GuaranteeConsent | None = self._call("guarantee_consent", locals())
        return result

    def redeem_guarantee(
        self,
        contract_id: str,
        token: str,
        *,
        payout: PayoutDetails | None = None,
        contact: Mapping[str, str] | None = None,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Open the trade-in order that exercises a guarantee: the device comes back the normal way.

        The remote twin of :meth:`TradeIn.redeem_guarantee <tradein_sdk.TradeIn.redeem_guarantee>`; who
        acts is the API key's (a shopper online, staff in a store). ``idempotency_key`` is sent on every
        attempt (a new UUID when omitted).
        """
        result: TradeInOrder = self._call("redeem_guarantee", locals())
        return result

    def guarantee_liability(
        self, *, as_of: date | None = None, currency: str | None = None, curve: ResidualCurve | None = None
    ) -> Liability:
        """The outstanding guarantees by month of expected exercise: guaranteed, market, cost, reserve.

        The remote twin of :meth:`TradeIn.guarantee_liability <tradein_sdk.TradeIn.guarantee_liability>`
        (a shop's or the back office's key): ``curve`` travels as its five figures.
        """
        result: Liability = self._call("guarantee_liability", locals())
        return result

    def guarantee_calendar(self, customer_ref: str, *, as_of: date | None = None) -> InflowCalendar:
        """A buyer's calendar of guaranteed inflows: each device's planned month, amount and cost centre.

        The remote twin of :meth:`TradeIn.guarantee_calendar <tradein_sdk.TradeIn.guarantee_calendar>`.
        """
        result: InflowCalendar = self._call("guarantee_calendar", locals())
        return result

    def replay_webhooks(
        self,
        *,
        delivery_ids: Sequence[str] = (),
        event_ids: Sequence[str] = (),
        all_dead: bool = False,
        idempotency_key: str | None = None,
    ) -> int:
        """Send finished webhooks again (by delivery id, event id, or every dead letter).

        The remote twin of :meth:`TradeIn.replay_webhooks <tradein_sdk.TradeIn.replay_webhooks>`.

        Args:
            delivery_ids: these deliveries (at most 1,000).
            event_ids: every delivery of these events (at most 1,000).
            all_dead: every dead letter of the organisation.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many deliveries were made due again (the receiver drops events it already has by id).

        Raises:
            BadRequestError: more than 1,000 ids were given.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: int = self._call("replay_webhooks", locals())
        return result


class AsyncTradeInClient:
    """The trade-in service's use cases over HTTP (async twin of :class:`TradeInClient`).

    >>> async with AsyncTradeInClient() as client:  # doctest: +SKIP
    ...     results = await client.search("iphone 13 128")
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_after: float | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the client; each setting falls back on its environment variable, then a default.

        Args:
            base_url: the service's root URL (``$TRADEIN_BASE_URL``).
            api_key: the API key (``$TRADEIN_API_KEY``).
            timeout: seconds per attempt (``$TRADEIN_TIMEOUT``, default 10).
            max_retries: retries after the first attempt (``$TRADEIN_MAX_RETRIES``, default 2).
            max_retry_after: the longest ``Retry-After`` wait honoured (default 60 s).
            http_client: an httpx async client to send with; it stays its owner's to close. One is
                created, kept alive between calls and closed by :meth:`aclose`, when omitted.

        Raises:
            ConfigurationError: the base URL or the API key is missing, or a value is out of range.
        """
        config = _config(base_url, api_key, timeout, max_retries, max_retry_after)
        self._core = AsyncRequestCore(config, http_client=http_client)

    @classmethod
    def _with_core(cls, core: AsyncRequestCore) -> Self:
        client = cls.__new__(cls)
        client._core = core  # noqa: SLF001 - the class's own attribute
        return client

    @property
    def config(self) -> ClientConfig:
        """The configuration the client sends with."""
        return self._core.config

    def with_options(
        self, *, timeout: float | None = None, max_retries: int | None = None, deadline: float | None = None
    ) -> Self:
        """A client with another timeout, retry budget or deadline, sharing this one's connections.

        Args:
            timeout: seconds per attempt.
            max_retries: retries after the first attempt.
            deadline: seconds per call, its attempts and the waits between them together.

        Returns:
            The new client; the settings not given stay as they are.

        Raises:
            ConfigurationError: a value is out of range.
        """
        return self._with_core(
            self._core.with_options(timeout=timeout, max_retries=max_retries, deadline=deadline)
        )

    async def _call(self, operation_id: str, arguments: dict[str, Any]) -> Any:  # noqa: ANN401
        operation, request = _prepare(operation_id, arguments)
        try:
            response = await self._core.request(operation.method, **request)
        except APIStatusError as exc:
            raise _library_error(exc) from None
        return _result(operation, response)

    async def aclose(self) -> None:
        """Close the connections, if this client opened them."""
        await self._core.aclose()

    async def __aenter__(self) -> Self:
        """Use the client in an ``async with`` block that closes it."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the client."""
        await self.aclose()

    async def search(
        self,
        text: str,
        *,
        limit: int = 10,
        category: DeviceCategory | None = None,
    ) -> SearchResults:
        """Find devices of the catalog by free text, best match first.

        The remote twin of :meth:`TradeIn.search <tradein_sdk.TradeIn.search>`.
        """
        result: SearchResults = await self._call("search", locals())
        return result

    async def render_questionnaire(
        self,
        category: str,
        locale: str | None = None,
        *,
        staff: bool = False,
    ) -> RenderedQuestionnaire:
        """The condition questionnaire of a device category, rendered in a locale.

        The remote twin of :meth:`TradeIn.render_questionnaire <tradein_sdk.TradeIn.render_questionnaire>`.
        """
        result: RenderedQuestionnaire = await self._call("render_questionnaire", locals())
        return result

    async def grade(
        self,
        category: str,
        answers: Mapping[str, Any],
        *,
        verification: str = "self_declared",
        diagnostics: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> ConditionReport:
        """Grade answers (and diagnostics) into a condition report.

        The remote twin of :meth:`TradeIn.grade <tradein_sdk.TradeIn.grade>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: ConditionReport = await self._call("grade", locals())
        return result

    async def quote(
        self,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        market: str | None = None,
        locale: str | None = None,
        imei: str | None = None,
        channel: Channel = Channel.ONLINE,
        verification: str = "self_declared",
        diagnostics: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> IssuedQuote:
        """Grade, price, sign and store a quote for a device variant.

        The remote twin of :meth:`TradeIn.quote <tradein_sdk.TradeIn.quote>`.
        The quote's audience is the API key's tenant: the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: IssuedQuote = await self._call("quote", locals())
        return result

    async def get_quote(
        self,
        quote_id: str,
    ) -> StoredQuote:
        """A stored quote and its redemption.

        The remote twin of :meth:`TradeIn.get_quote <tradein_sdk.TradeIn.get_quote>`.
        """
        result: StoredQuote = await self._call("get_quote", locals())
        return result

    async def verify_token(
        self,
        token: str,
        *,
        idempotency_key: str | None = None,
    ) -> QuoteClaims:
        """Verify a quote token: signature, key, audience and expiry.

        The remote twin of :meth:`TradeIn.verify_token <tradein_sdk.TradeIn.verify_token>`.
        The audience checked is the API key's tenant.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: QuoteClaims = await self._call("verify_token", locals())
        return result

    async def redeem(
        self,
        token: str,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Redemption:
        """Redeem a quote token, exactly once.

        The remote twin of :meth:`TradeIn.redeem <tradein_sdk.TradeIn.redeem>`.
        The audience checked is the API key's tenant.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: Redemption = await self._call("redeem", locals())
        return result

    async def accept(
        self,
        tokens: Sequence[str],
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        instant_credit: bool = False,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Open an order for accepted quotes.

        The remote twin of :meth:`TradeIn.accept <tradein_sdk.TradeIn.accept>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("accept", locals())
        return result

    async def order(
        self,
        order_id: str,
    ) -> TradeInOrder:
        """An order as it stands.

        The remote twin of :meth:`TradeIn.order <tradein_sdk.TradeIn.order>`.
        """
        result: TradeInOrder = await self._call("order", locals())
        return result

    async def issue_label(
        self,
        order_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> ShippingLabel:
        """Issue the shipping label for the devices not yet sent; the send-by deadline starts.

        The remote twin of :meth:`TradeIn.issue_label <tradein_sdk.TradeIn.issue_label>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: ShippingLabel = await self._call("issue_label", locals())
        return result

    async def ship(
        self,
        order_id: str,
        device_id: str,
        *,
        tracking: str | None = None,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The shopper handed the device to the carrier.

        The remote twin of :meth:`TradeIn.ship <tradein_sdk.TradeIn.ship>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("ship", locals())
        return result

    async def receive(
        self,
        order_id: str,
        device_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The device arrived where it is inspected.

        The remote twin of :meth:`TradeIn.receive <tradein_sdk.TradeIn.receive>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("receive", locals())
        return result

    async def inspect(
        self,
        order_id: str,
        device_id: str,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
        locale: str | None = None,
        event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> InspectionDiff:
        """Record an inspection: confirm, revise or reject the offer.

        The remote twin of :meth:`TradeIn.inspect <tradein_sdk.TradeIn.inspect>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: InspectionDiff = await self._call("inspect", locals())
        return result

    async def respond_to_revision(
        self,
        order_id: str,
        device_id: str,
        *,
        accept: bool,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """The shopper accepts or declines a revised offer.

        The remote twin of :meth:`TradeIn.respond_to_revision <tradein_sdk.TradeIn.respond_to_revision>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("respond_to_revision", locals())
        return result

    async def pay(
        self,
        order_id: str,
        device_id: str,
        *,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Pay out or credit a confirmed device.

        The remote twin of :meth:`TradeIn.pay <tradein_sdk.TradeIn.pay>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("pay", locals())
        return result

    async def cancel(
        self,
        order_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Cancel every device not yet sent.

        The remote twin of :meth:`TradeIn.cancel <tradein_sdk.TradeIn.cancel>`.
        The actor recorded is the API key's (its role): the service sets it, the caller does not.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("cancel", locals())
        return result

    async def clawbacks(
        self,
        order_id: str,
    ) -> dict[str, Money]:
        """What to charge back now for each device of an order confirmed at checkout.

        The remote twin of :meth:`TradeIn.clawbacks <tradein_sdk.TradeIn.clawbacks>`.
        """
        result: dict[str, Money] = await self._call("clawbacks", locals())
        return result

    async def insurance_offers(
        self,
        request: CheckoutRequest,
        *,
        idempotency_key: str | None = None,
    ) -> tuple[InsuranceOffer, ...]:
        """The device protection offers for the new device of a checkout.

        The remote twin of :meth:`TradeIn.insurance_offers <tradein_sdk.TradeIn.insurance_offers>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: tuple[InsuranceOffer, ...] = await self._call("insurance_offers", locals())
        return result

    async def checkout(
        self,
        request: CheckoutRequest,
        *,
        idempotency_key: str | None = None,
    ) -> CheckoutSummary:
        """Compute and sign the checkout summary the shopper sees before committing.

        The remote twin of :meth:`TradeIn.checkout <tradein_sdk.TradeIn.checkout>`.
        It changes nothing, so it carries no ``Idempotency-Key`` and is retried without one;
        ``idempotency_key`` is accepted, like every POST method's, and not sent.
        """
        result: CheckoutSummary = await self._call("checkout", locals())
        return result

    async def confirm_checkout(
        self,
        summary: CheckoutSummary,
        *,
        payout: PayoutDetails | None = None,
        customer_ref: str | None = None,
        contact: Mapping[str, str] | None = None,
        insurance_accepted: bool = False,
        guarantee_accepted: bool = False,
        idempotency_key: str | None = None,
    ) -> ConfirmedCheckout:
        """Verify, recompute and commit a signed checkout summary.

        The remote twin of :meth:`TradeIn.confirm_checkout <tradein_sdk.TradeIn.confirm_checkout>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: ConfirmedCheckout = await self._call("confirm_checkout", locals())
        return result

    async def ledger(
        self,
        order_id: str,
    ) -> OrderLedger:
        """An order's settlement ledger: every entry, the balances they net to, the installments open.

        The remote twin of :meth:`TradeIn.ledger <tradein_sdk.TradeIn.ledger>`: the service sends
        :meth:`OrderLedger.to_json <tradein_sdk.OrderLedger.to_json>`, read back into an ``OrderLedger``.
        """
        result: OrderLedger = await self._call("ledger", locals())
        return result

    async def installments_due(
        self,
        period: str,
        *,
        limit: int = 1000,
        after: int = 0,
    ) -> list[tuple[int, LedgerEntry]]:
        """The bill-credit installments due up to a billing period, not yet credited or stopped.

        The remote twin of :meth:`TradeIn.installments_due <tradein_sdk.TradeIn.installments_due>`:
        ``(position, installment)`` pairs; pass the last position as ``after`` for the next page.
        ``limit`` is at most 1000.
        """
        result: list[tuple[int, LedgerEntry]] = await self._call("installments_due", locals())
        return result

    async def credit_installments(
        self,
        period: str,
        *,
        run_id: str | None = None,
        ids: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, Money]]:
        """Credit every installment due up to a billing period, each exactly once (a billing run).

        The remote twin of :meth:`TradeIn.credit_installments <tradein_sdk.TradeIn.credit_installments>`.
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: tuple[int, dict[str, Money]] = await self._call("credit_installments", locals())
        return result

    async def stop_installments(
        self,
        order_id: str,
        *,
        reason: str,
        device_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[LedgerEntry]:
        """Stop the installments not yet credited (the contract ended, the device came back).

        The remote twin of :meth:`TradeIn.stop_installments <tradein_sdk.TradeIn.stop_installments>`.
        ``reason`` is a code of letters, digits and ``_.:-`` (at most 100).
        ``idempotency_key`` is sent on every attempt (a new UUID when omitted).
        """
        result: list[LedgerEntry] = await self._call("stop_installments", locals())
        return result

    async def ledger_report(
        self,
        start: date,
        end: date,
    ) -> LedgerReport:
        """The shop's ledger over the days ``[start, end)``, with totals that tie out.

        The remote twin of :meth:`TradeIn.ledger_report <tradein_sdk.TradeIn.ledger_report>`: the
        service's JSON read back into a ``LedgerReport`` (``report.to_csv()`` gives the CSV the service
        also sends for ``GET /v1/ledger/report?format=csv``).
        """
        result: LedgerReport = await self._call("ledger_report", locals())
        return result

    async def orders_page(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        customer_ref: str | None = None,
        open_only: bool = False,
    ) -> OrderPage:
        """One page of the orders in the API key's scope, newest first, and the cursor of the next page.

        The remote twin of :meth:`TradeIn.orders_page <tradein_sdk.TradeIn.orders_page>`. A provider's key
        sees the orders assigned to it.

        Args:
            limit: at most this many orders (1 to 1,000).
            cursor: the ``next_cursor`` of the previous page (``None``: the first page).
            customer_ref: only this customer's orders.
            open_only: only orders with a device that can still change.

        Returns:
            The page; its ``next_cursor`` is ``None`` on the last page.

        Raises:
            InvalidCursorError: the cursor was not made by the service.
            BadRequestError: ``limit`` is out of range, or the cursor or ``customer_ref`` is malformed.
            PermissionDeniedError: the API key's role may not read orders.
        """
        result: OrderPage = await self._call("orders_page", locals())
        return result

    async def settle(
        self,
        order_id: str,
        device_id: str,
        *,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Settle a confirmed device: pay or credit what its ledger holds open, as the terms say.

        The remote twin of :meth:`TradeIn.settle <tradein_sdk.TradeIn.settle>`. The actor recorded is the
        API key's (its role): the service sets it, the caller does not.

        Args:
            order_id: the order.
            device_id: the device (``d1``, ``d2``, ...).
            payout: how to pay, when the shopper chose now (else the order's payout).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the settlement.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            OrderDeviceNotFoundError: the order has no such device.
            GuardFailedError: the device is not confirmed or accepted at a revised offer, has no value, or a
                bank payout is due and no bank account was given.
            InvalidPayoutError: the payout details are not valid.
            PermissionDeniedError: the API key's role may not settle (only the back office's may).
        """
        result: TradeInOrder = await self._call("settle", locals())
        return result

    async def record_event(
        self,
        order_id: str,
        device_id: str,
        kind: ManualEvent | str,
        *,
        event_id: str | None = None,
        reason: str | None = None,
        tracking: str | None = None,
        hold_reason: HoldReason | str | None = None,
        disposition: Disposition | str | None = None,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Record a hand-over, hold, release, surrender, return or disposal of a device.

        The remote twin of :meth:`TradeIn.record_event <tradein_sdk.TradeIn.record_event>` for the events a
        key may record directly (``ManualEvent``; the others have their own method). The actor recorded is
        the API key's (its role): the service sets it, the caller does not.

        Args:
            order_id: the order.
            device_id: the device (``d1``, ``d2``, ...).
            kind: what happened (``hand_over``, ``receive_late``, ``hold``, ``release``, ``surrender``,
                ``start_return``, ``returned``, ``recycle``, ``dispose``).
            event_id: the event's id, for deliveries that may repeat; a repeated id changes nothing. A new id
                is made when omitted.
            reason: why (a late receipt, a hold, a return), without personal data.
            tracking: the carrier's tracking number (a hand-over, a return).
            hold_reason: why a received device is held (``hold``).
            disposition: what becomes of the device (``dispose``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the event.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            OrderDeviceNotFoundError: the order has no such device.
            IllegalTransitionError: the event does not fit the device's state (``StaleEventError``,
                ``ActorNotAllowedError`` and ``GuardFailedError`` say why).
            BadRequestError: ``kind`` is not an event recorded directly, or a field is malformed.
            PermissionDeniedError: the API key's role may not record events.
        """
        result: TradeInOrder = await self._call("record_event", locals())
        return result

    async def record_tracking(
        self,
        event: TrackingEvent,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """A carrier's news about a parcel (handed over, in transit, delivered), for the devices on its label.

        The remote twin of :meth:`TradeIn.record_tracking <tradein_sdk.TradeIn.record_tracking>`. A repeated
        delivery of the same news (same ``event_id``) changes nothing.

        Args:
            event: the tracking event; its ``order_ref`` is the reference printed on the label.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order after the change.

        Raises:
            OrderNotFoundError: the reference names no order in the API key's scope.
            IllegalTransitionError: the news does not fit the devices' states (``StaleEventError``: they
                moved on, which a webhook handler can acknowledge and drop).
            PermissionDeniedError: the API key's role may not record tracking news.
        """
        result: TradeInOrder = await self._call("record_tracking", locals())
        return result

    async def assign_provider(
        self,
        order_id: str,
        provider: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Assign an order's devices to a provider of the organisation (``None`` takes them back).

        The remote twin of :meth:`TradeIn.assign_provider <tradein_sdk.TradeIn.assign_provider>`. The
        provider's key then sees the order and may receive, inspect and dispose of its devices.

        Args:
            order_id: the order.
            provider: the provider's tenant id, or ``None``.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The order.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            BadRequestError: ``provider`` is not a tenant id.
            PermissionDeniedError: the API key's role may not assign orders (only the back office's may).
        """
        result: TradeInOrder = await self._call("assign_provider", locals())
        return result

    async def order_outcome(
        self,
        order_id: str,
    ) -> OrderOutcome:
        """What an order paid and credited, per device, as its ledger says.

        The remote twin of :meth:`TradeIn.order_outcome <tradein_sdk.TradeIn.order_outcome>`.

        Args:
            order_id: the order.

        Returns:
            The order's outcome, netted from its ledger.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not read outcomes.
        """
        result: OrderOutcome = await self._call("order_outcome", locals())
        return result

    async def reproduce_quote(
        self,
        quote_id: str,
    ) -> Quote:
        """Recompute a stored quote from its snapshot (the exact questionnaire and price book).

        The remote twin of :meth:`TradeIn.reproduce_quote <tradein_sdk.TradeIn.reproduce_quote>`.

        Args:
            quote_id: the quote.

        Returns:
            The recomputed quote; it equals the stored one whenever the computation is deterministic.

        Raises:
            QuoteNotFoundError: no quote in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not read quotes.
        """
        result: Quote = await self._call("reproduce_quote", locals())
        return result

    async def erase_customer(
        self,
        customer_ref: str,
        *,
        idempotency_key: str | None = None,
    ) -> int:
        """Erase a customer's personal data (payout details, contact); orders and amounts stay.

        The remote twin of :meth:`TradeIn.erase_customer <tradein_sdk.TradeIn.erase_customer>`.

        Args:
            customer_ref: the shop's pseudonymous customer id.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many records were erased.

        Raises:
            PermissionDeniedError: the API key's role may not erase (only the back office's may).
        """
        result: int = await self._call("erase_customer", locals())
        return result

    async def tick(
        self,
        *,
        limit: int = 500,
        idempotency_key: str | None = None,
    ) -> int:
        """Apply the deadlines due (expiry, silence on a revised offer) in the API key's scope.

        The remote twin of :meth:`TradeIn.tick <tradein_sdk.TradeIn.tick>`; safe to run from several
        schedulers at once (each transition is applied once).

        Args:
            limit: at most this many orders (1 to 5,000).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many orders changed.

        Raises:
            BadRequestError: ``limit`` is out of range.
            PermissionDeniedError: the API key's role may not apply deadlines (the back office's and an
                admin's may).
        """
        result: int = await self._call("tick", locals())
        return result

    async def register_webhook_endpoint(
        self,
        url: str,
        *,
        events: Iterable[str] | None = None,
        tenant: str | None = None,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Register a webhook endpoint for the organisation's (or one tenant's) events, with a new secret.

        The remote twin of :meth:`TradeIn.register_webhook_endpoint
        <tradein_sdk.TradeIn.register_webhook_endpoint>`.

        Args:
            url: the receiver (``https://…``).
            events: the event types to send (default: all).
            tenant: only this tenant's events.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, with its secret shown this once.

        Raises:
            BadRequestError: the URL is not http(s), or ``tenant`` is not a tenant id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = await self._call("register_webhook_endpoint", locals())
        return result

    async def registered_webhook_endpoints(
        self,
    ) -> list[RegisteredEndpoint]:
        """The organisation's active webhook endpoints (never their secrets).

        The remote twin of :meth:`TradeIn.registered_webhook_endpoints
        <tradein_sdk.TradeIn.registered_webhook_endpoints>`.

        Returns:
            The endpoints, without their secrets.

        Raises:
            PermissionDeniedError: the API key is not an admin's.
        """
        result: list[RegisteredEndpoint] = await self._call("registered_webhook_endpoints", locals())
        return result

    async def rotate_webhook_secret(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """A new secret for an endpoint; deliveries carry both signatures until the old is retired.

        The remote twin of :meth:`TradeIn.rotate_webhook_secret <tradein_sdk.TradeIn.rotate_webhook_secret>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, with its new secret shown this once.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = await self._call("rotate_webhook_secret", locals())
        return result

    async def retire_old_secrets(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Sign an endpoint's deliveries with its newest secret only (once the receiver has switched to it).

        The remote twin of :meth:`TradeIn.retire_old_secrets <tradein_sdk.TradeIn.retire_old_secrets>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, without its secret.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = await self._call("retire_old_secrets", locals())
        return result

    async def disable_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> RegisteredEndpoint:
        """Stop sending to an endpoint; deliveries already queued for it become dead letters.

        The remote twin of :meth:`TradeIn.disable_webhook_endpoint
        <tradein_sdk.TradeIn.disable_webhook_endpoint>`.

        Args:
            endpoint_id: the endpoint (``whe_…``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The endpoint, without its secret.

        Raises:
            NotFoundError: no active endpoint of the organisation has that id.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: RegisteredEndpoint = await self._call("disable_webhook_endpoint", locals())
        return result

    async def dead_webhooks(
        self,
        *,
        limit: int = 100,
        after: str | None = None,
    ) -> list[DeadWebhook]:
        """Webhooks given up (dead letters) for the organisation's orders, by delivery id.

        The remote twin of :meth:`TradeIn.dead_webhooks <tradein_sdk.TradeIn.dead_webhooks>`.

        Args:
            limit: at most this many (1 to 1,000).
            after: the last ``delivery_id`` of the previous page (``None``: the first page).

        Returns:
            The dead letters, by delivery id.

        Raises:
            BadRequestError: ``limit`` is out of range, or ``after`` is malformed.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: list[DeadWebhook] = await self._call("dead_webhooks", locals())
        return result

    async def record_erasure_report(
        self,
        order_id: str,
        device_id: str,
        report: Mapping[str, Any] | ErasureReport,
        *,
        idempotency_key: str | None = None,
    ) -> IssuedCertificate:
        """Record a device's erasure and issue its signed certificate.

        The remote twin of :meth:`TradeIn.record_erasure_report <tradein_sdk.TradeIn.record_erasure_report>`.

        Args:
            order_id: the order.
            device_id: the device of the order.
            report: the erasure report (``schemas/erasure-report.schema.json``).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The certificate and its signed document (verify it with :meth:`certificate_keys`).

        Raises:
            ErasureNotAllowedError: the device is not in the shop's custody.
            ErasureUnverifiedError: the report's verification did not pass.
            CertificateExistsError: the device has a certificate that is not revoked.
            PermissionDeniedError: the API key's role may not report erasures.
        """
        if not isinstance(report, Mapping):
            report = report.to_json()
        result: IssuedCertificate = await self._call("record_erasure_report", locals())
        return result

    async def erasure_certificate(
        self,
        order_id: str,
        device_id: str,
    ) -> dict[str, Any] | None:
        """A device's latest signed erasure certificate, revoked or not (``None`` when it has none).

        The remote twin of :meth:`TradeIn.erasure_certificate <tradein_sdk.TradeIn.erasure_certificate>`.

        Args:
            order_id: the order.
            device_id: the device of the order.

        Returns:
            The signed certificate, or ``None``.

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
        """
        result: dict[str, Any] | None = await self._call("erasure_certificate", locals())
        return result

    async def certificate_bundle(
        self,
        order_id: str,
    ) -> dict[str, Any]:
        """The latest signed erasure certificate of each erased device of an order, as one bundle.

        The remote twin of :meth:`TradeIn.certificate_bundle <tradein_sdk.TradeIn.certificate_bundle>`.

        Args:
            order_id: the order.

        Returns:
            The bundle (verify it with ``verify_bundle``).

        Raises:
            OrderNotFoundError: no order in the API key's scope has that id.
        """
        result: dict[str, Any] = await self._call("certificate_bundle", locals())
        return result

    async def revoke_certificate(
        self,
        certificate_id: str,
        reason: RevocationReason | str,
        *,
        idempotency_key: str | None = None,
    ) -> Revocation:
        """Revoke an erasure certificate (the device may then be certified anew).

        The remote twin of :meth:`TradeIn.revoke_certificate <tradein_sdk.TradeIn.revoke_certificate>`.

        Args:
            certificate_id: the certificate.
            reason: why (a :class:`RevocationReason`).
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            The revocation.

        Raises:
            CertificateNotFoundError: no certificate in the API key's scope has that id.
            PermissionDeniedError: the API key's role may not revoke (the back office's and admin's may).
        """
        result: Revocation = await self._call("revoke_certificate", locals())
        return result

    async def certificate_revocations(
        self,
    ) -> dict[str, Any]:
        """The signed list of revoked erasure certificates, as of now.

        The remote twin of
        :meth:`TradeIn.certificate_revocations <tradein_sdk.TradeIn.certificate_revocations>`.

        Returns:
            The signed revocation list (purpose ``erasure-revocations``).
        """
        result: dict[str, Any] = await self._call("certificate_revocations", locals())
        return result

    async def certificate_keys(
        self,
    ) -> dict[str, list[dict[str, str]]]:
        """The published keys (JWKS) that verify erasure certificates and revocation lists offline.

        The remote twin of :meth:`TradeIn.certificate_keys <tradein_sdk.TradeIn.certificate_keys>`.

        Returns:
            The JWKS document.
        """
        result: dict[str, list[dict[str, str]]] = await self._call("certificate_keys", locals())
        return result

    async def device_co2(
        self,
        device_id: str,
        *,
        outcome: Outcome | str = "reuse",
        second_life_years: int | None = None,
        parts: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> DeviceCO2:
        """The CO2e a catalog device's reuse avoids (or its recycling emits), term by term.

        The remote twin of :meth:`TradeIn.device_co2 <tradein_sdk.TradeIn.device_co2>` (whole years only).
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: DeviceCO2 = await self._call("device_co2", locals())
        return result

    async def quote_co2(self, quote_id: str) -> DeviceCO2:
        """The CO2e estimate of a quoted device (its recycling for a recycle-only quote).

        The remote twin of :meth:`TradeIn.quote_co2 <tradein_sdk.TradeIn.quote_co2>`.
        """
        result: DeviceCO2 = await self._call("quote_co2", locals())
        return result

    async def order_co2(self, order_id: str) -> OrderCO2:
        """The CO2e of an order's bought and recycled devices, with totals.

        The remote twin of :meth:`TradeIn.order_co2 <tradein_sdk.TradeIn.order_co2>`.
        """
        result: OrderCO2 = await self._call("order_co2", locals())
        return result

    async def co2_report(self, start: date, end: date, *, company: str | None = None) -> dict[str, Any]:
        """The signed CO2 report of the days ``[start, end]`` (verify it with the published keys).

        The remote twin of :meth:`TradeIn.co2_report <tradein_sdk.TradeIn.co2_report>`.
        """
        result: dict[str, Any] = await self._call("co2_report", locals())
        return result

    async def open_company(
        self,
        legal_name: str,
        address: Address,
        *,
        vat_status: SellerVatStatus | str,
        contract: FrameworkContract,
        vat_id: str | None = None,
        tax_number: str | None = None,
        contacts: Sequence[Mapping[str, str]] = (),
        idempotency_key: str | None = None,
    ) -> Company:
        """Open a company account (VAT id checked) with its framework contract.

        The remote twin of :meth:`TradeIn.open_company <tradein_sdk.TradeIn.open_company>`.
        """
        result: Company = await self._call("open_company", locals())
        return result

    async def companies(self) -> list[Company]:
        """The company accounts in the API key's scope, oldest first.

        The remote twin of :meth:`TradeIn.companies <tradein_sdk.TradeIn.companies>`.
        """
        result: list[Company] = await self._call("companies", locals())
        return result

    async def company(self, company_id: str) -> Company:
        """A company account.

        The remote twin of :meth:`TradeIn.company <tradein_sdk.TradeIn.company>`.
        """
        result: Company = await self._call("company", locals())
        return result

    async def read_assets(
        self,
        data: bytes,
        *,
        filename: str | None = None,
        default_grade: str | None = None,
        idempotency_key: str | None = None,
    ) -> AssetImport:
        """Check an asset list (CSV or XLSX): its rows and every problem by row and column.

        The remote twin of :meth:`TradeIn.read_assets <tradein_sdk.TradeIn.read_assets>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: AssetImport = await self._call("read_assets", locals())
        return result

    async def fleet_quote(
        self,
        company_id: str,
        assets: bytes,
        *,
        filename: str | None = None,
        default_grade: str | None = None,
        skip_invalid: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> PortfolioQuote:
        """Price an asset list: one signed portfolio quote for the batch (or a dry run).

        The remote twin of :meth:`TradeIn.fleet_quote <tradein_sdk.TradeIn.fleet_quote>`.
        The service prices the list in one request; ``progress`` is called once, with the lines priced, when
        the answer arrives.
        """
        arguments = dict(locals())
        arguments.pop("progress")
        result: PortfolioQuote = await self._call("fleet_quote", arguments)
        if progress is not None:
            progress(len(result.lines), len(result.lines))
        return result

    async def fleet_batches(self, company_id: str | None = None) -> list[FleetBatch]:
        """The fleet batches in the API key's scope (of one company), newest first, without lines.

        The remote twin of :meth:`TradeIn.fleet_batches <tradein_sdk.TradeIn.fleet_batches>`.
        """
        result: list[FleetBatch] = await self._call("fleet_batches", locals())
        return result

    async def fleet_batch(self, batch_id: str) -> FleetBatch:
        """A fleet batch and its lines as they stand.

        The remote twin of :meth:`TradeIn.fleet_batch <tradein_sdk.TradeIn.fleet_batch>`.
        """
        result: FleetBatch = await self._call("fleet_batch", locals())
        return result

    async def book_pickup(
        self,
        batch_id: str,
        *,
        boxes: int,
        seals: Sequence[str],
        lines: Sequence[int] | None = None,
        contact: Mapping[str, str] | None = None,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Book the pickup of a quoted batch: its order and manifest.

        The remote twin of :meth:`TradeIn.book_pickup <tradein_sdk.TradeIn.book_pickup>`.
        """
        result: FleetBatch = await self._call("book_pickup", locals())
        return result

    async def hand_over(
        self,
        batch_id: str,
        *,
        seals: Sequence[str],
        carrier: str,
        tracking: str | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Record the carrier's pickup: a signed hand-over record.

        The remote twin of :meth:`TradeIn.hand_over <tradein_sdk.TradeIn.hand_over>`.
        """
        result: FleetBatch = await self._call("hand_over", locals())
        return result

    async def receive_batch(
        self, batch_id: str, scanned: Sequence[str], *, idempotency_key: str | None = None
    ) -> FleetBatch:
        """Open the boxes: lines received or missing, devices not on the manifest.

        The remote twin of :meth:`TradeIn.receive_batch <tradein_sdk.TradeIn.receive_batch>`.
        """
        result: FleetBatch = await self._call("receive_batch", locals())
        return result

    async def decide_extra(
        self,
        batch_id: str,
        identifier: str,
        decision: ExtraDecision | str,
        *,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Return or recycle a device found in the boxes but not on the manifest.

        The remote twin of :meth:`TradeIn.decide_extra <tradein_sdk.TradeIn.decide_extra>`.
        """
        result: FleetBatch = await self._call("decide_extra", locals())
        return result

    async def inspect_fleet_device(
        self,
        batch_id: str,
        line: int,
        answers: Mapping[str, Any],
        *,
        imei: str | None = None,
        variant_id: str | None = None,
        lock_removable: bool = False,
        idempotency_key: str | None = None,
    ) -> InspectionDiff:
        """Inspect one received line of a batch against its declared answers.

        The remote twin of :meth:`TradeIn.inspect_fleet_device <tradein_sdk.TradeIn.inspect_fleet_device>`.
        """
        result: InspectionDiff = await self._call("inspect_fleet_device", locals())
        return result

    async def fleet_true_up(self, batch_id: str) -> BatchTrueUp:
        """What inspection found against the quote, per line and for the batch.

        The remote twin of :meth:`TradeIn.fleet_true_up <tradein_sdk.TradeIn.fleet_true_up>`.
        """
        result: BatchTrueUp = await self._call("fleet_true_up", locals())
        return result

    async def settle_batch(
        self,
        batch_id: str,
        *,
        issuer: Party,
        payout: PayoutDetails | None = None,
        idempotency_key: str | None = None,
    ) -> FleetBatch:
        """Settle a received batch: one settlement, one credit note or purchase statement.

        The remote twin of :meth:`TradeIn.settle_batch <tradein_sdk.TradeIn.settle_batch>`.
        """
        result: FleetBatch = await self._call("settle_batch", locals())
        return result

    async def fleet_documents(self, batch_id: str) -> list[ArchivedDocument]:
        """The documents archived for a batch (without their content).

        The remote twin of :meth:`TradeIn.fleet_documents <tradein_sdk.TradeIn.fleet_documents>`.
        """
        result: list[ArchivedDocument] = await self._call("fleet_documents", locals())
        return result

    async def fleet_document(self, batch_id: str, kind: str) -> ArchivedDocument:
        """One archived document with its content, checked against its hash.

        The remote twin of :meth:`TradeIn.fleet_document <tradein_sdk.TradeIn.fleet_document>`.
        """
        result: ArchivedDocument = await self._call("fleet_document", locals())
        return result

    async def fleet_report(self, batch_id: str) -> FleetReport:
        """The company's report of a batch: outcomes, amounts, certificates, CO2.

        The remote twin of :meth:`TradeIn.fleet_report <tradein_sdk.TradeIn.fleet_report>`.
        """
        result: FleetReport = await self._call("fleet_report", locals())
        return result

    async def fleet_report_file(
        self,
        batch_id: str,
        *,
        format: str = "csv",  # noqa: A002 - the facade's word
        locale: str | None = None,
    ) -> bytes:
        """The report as CSV (the asset-disposal export), XLSX, PDF or JSON.

        The remote twin of :meth:`TradeIn.fleet_report_file <tradein_sdk.TradeIn.fleet_report_file>`.
        """
        result: bytes = await self._call("fleet_report_file", locals())
        return result

    async def offer_guarantees(
        self,
        device_id: str,
        price: Money,
        *,
        purchased_on: date | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[GuaranteeOffer, ...]:
        """The buy-back guarantees a device being bought may have, each explained band by band.

        The remote twin of :meth:`TradeIn.offer_guarantees <tradein_sdk.TradeIn.offer_guarantees>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: tuple[GuaranteeOffer, ...] = await self._call("offer_guarantees", locals())
        return result

    async def sell_guarantee(
        self,
        plan_id: str,
        device_id: str,
        price: Money,
        *,
        purchased_on: date | None = None,
        imei: str | None = None,
        channel: str = "online",
        customer_case: str = "consumer",
        financed_amount: Money | None = None,
        customer_ref: str | None = None,
        cost_centre: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Sell a guarantee with a device (the customer accepted the plan's terms); the signed contract.

        The remote twin of :meth:`TradeIn.sell_guarantee <tradein_sdk.TradeIn.sell_guarantee>`: the
        envelope as the service signed it (verify it with the keys of :meth:`certificate_keys`, purpose
        ``buyback-guarantee``). ``idempotency_key`` is sent on every attempt (a new UUID when omitted): a
        retry never sells a second contract.
        """
        result: dict[str, Any] = await self._call("sell_guarantee", locals())
        return result

    async def guarantee(self, contract_id: str) -> GuaranteeContract:
        """A guarantee contract.

        The remote twin of :meth:`TradeIn.guarantee <tradein_sdk.TradeIn.guarantee>`.
        """
        result: GuaranteeContract = await self._call("guarantee", locals())
        return result

    async def guarantee_document(self, contract_id: str) -> dict[str, Any]:
        """A guarantee contract's signed envelope (what the customer verifies offline).

        The remote twin of :meth:`TradeIn.guarantee_document <tradein_sdk.TradeIn.guarantee_document>`.
        """
        result: dict[str, Any] = await self._call("guarantee_document", locals())
        return result

    async def guarantee_status(self, contract_id: str, *, as_of: date | None = None) -> InflowLine:
        """Where a contract stands: open, in progress (with the order exercising it), exercised, or lapsed.

        The remote twin of :meth:`TradeIn.guarantee_status <tradein_sdk.TradeIn.guarantee_status>`.
        """
        result: InflowLine = await self._call("guarantee_status", locals())
        return result

    async def exercise_guarantee(
        self,
        contract_id: str,
        *,
        grade: str | None,
        locked: bool,
        market: Money,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> GuaranteeExercise:
        """Exercise a guarantee once, on the service's day, from the inspection of the returned device.

        The remote twin of :meth:`TradeIn.exercise_guarantee <tradein_sdk.TradeIn.exercise_guarantee>`
        (a store's or the back office's key). ``idempotency_key`` is sent on every attempt (a new UUID
        when omitted): a retry gets the first answer, never ``already_exercised``.
        """
        result: GuaranteeExercise = await self._call("exercise_guarantee", locals())
        return result

    async def guarantee_promise(
        self,
        contract_id: str,
        token: str,
        *,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> GuaranteeExercise:
        """What :meth:`redeem_guarantee` would promise today for the device a quote token describes.

        The remote twin of :meth:`TradeIn.guarantee_promise <tradein_sdk.TradeIn.guarantee_promise>`.
        It changes nothing, so it carries no ``Idempotency-Key``; ``idempotency_key`` is accepted, like every
        POST method's, and not sent.
        """
        result: GuaranteeExercise = await self._call("guarantee_promise", locals())
        return result

    async def guarantee_consent(self, order_id: str) -> GuaranteeConsent | None:
        """The buy-back guarantee decision recorded at an order's checkout (``None``: none was offered).

        The remote twin of :meth:`TradeIn.guarantee_consent <tradein_sdk.TradeIn.guarantee_consent>`.
        """
        result: GuaranteeConsent | None = await self._call("guarantee_consent", locals())
        return result

    async def redeem_guarantee(
        self,
        contract_id: str,
        token: str,
        *,
        payout: PayoutDetails | None = None,
        contact: Mapping[str, str] | None = None,
        outstanding_balance: Money | None = None,
        new_contract: bool = False,
        idempotency_key: str | None = None,
    ) -> TradeInOrder:
        """Open the trade-in order that exercises a guarantee: the device comes back the normal way.

        The remote twin of :meth:`TradeIn.redeem_guarantee <tradein_sdk.TradeIn.redeem_guarantee>`; who
        acts is the API key's (a shopper online, staff in a store). ``idempotency_key`` is sent on every
        attempt (a new UUID when omitted).
        """
        result: TradeInOrder = await self._call("redeem_guarantee", locals())
        return result

    async def guarantee_liability(
        self, *, as_of: date | None = None, currency: str | None = None, curve: ResidualCurve | None = None
    ) -> Liability:
        """The outstanding guarantees by month of expected exercise: guaranteed, market, cost, reserve.

        The remote twin of :meth:`TradeIn.guarantee_liability <tradein_sdk.TradeIn.guarantee_liability>`
        (a shop's or the back office's key): ``curve`` travels as its five figures.
        """
        result: Liability = await self._call("guarantee_liability", locals())
        return result

    async def guarantee_calendar(self, customer_ref: str, *, as_of: date | None = None) -> InflowCalendar:
        """A buyer's calendar of guaranteed inflows: each device's planned month, amount and cost centre.

        The remote twin of :meth:`TradeIn.guarantee_calendar <tradein_sdk.TradeIn.guarantee_calendar>`.
        """
        result: InflowCalendar = await self._call("guarantee_calendar", locals())
        return result

    async def replay_webhooks(
        self,
        *,
        delivery_ids: Sequence[str] = (),
        event_ids: Sequence[str] = (),
        all_dead: bool = False,
        idempotency_key: str | None = None,
    ) -> int:
        """Send finished webhooks again (by delivery id, event id, or every dead letter).

        The remote twin of :meth:`TradeIn.replay_webhooks <tradein_sdk.TradeIn.replay_webhooks>`.

        Args:
            delivery_ids: these deliveries (at most 1,000).
            event_ids: every delivery of these events (at most 1,000).
            all_dead: every dead letter of the organisation.
            idempotency_key: sent on every attempt (a new UUID when omitted).

        Returns:
            How many deliveries were made due again (the receiver drops events it already has by id).

        Raises:
            BadRequestError: more than 1,000 ids were given.
            PermissionDeniedError: the API key is not an admin's.
        """
        result: int = await self._call("replay_webhooks", locals())
        return result
