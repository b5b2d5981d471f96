"""The exception tree of tradein-sdk.

Every failure a caller of the public API can see is a :class:`TradeInError` with a stable ``code``::

    TradeInError                        tradein_error
    ├── InvalidMoneyError               invalid_money
    │   └── CurrencyMismatchError       currency_mismatch
    ├── InvalidTextError                invalid_text          (.field, .maximum: empty, too long, not text)
    │   └── InvalidTenantError          invalid_tenant        (.field: not a tenant or organisation id)
    ├── InvalidCursorError              invalid_cursor        (a page cursor this library did not make)
    ├── InvalidIdentifierError          invalid_identifier
    │   ├── InvalidIMEIError            invalid_imei          (.rule: length | digits | check_digit)
    │   └── InvalidSerialNumberError    invalid_serial_number (.rule: empty | characters | length | ...)
    ├── DocumentInvalidError            document_invalid      (.problems: each with a JSON path)
    ├── AnswersInvalidError             answers_invalid       (.problems: path, code, message per answer)
    ├── UnsupportedLocaleError          unknown_locale
    ├── NotFoundError                   not_found
    │   ├── DeviceNotFoundError         device_not_found
    │   │   └── VariantRequiredError    variant_required      (.variants: a quote needs one of them)
    │   ├── QuestionnaireNotFoundError  questionnaire_not_found
    │   ├── OrderNotFoundError          order_not_found
    │   ├── QuoteNotFoundError          quote_not_found
    │   ├── CertificateNotFoundError    certificate_not_found (.certificate_id: no erasure certificate)
    │   ├── CompanyNotFoundError        company_not_found     (.company_id: no company account)
    │   ├── BatchNotFoundError          batch_not_found       (.batch_id: no fleet batch)
    │   └── GuaranteeNotFoundError      guarantee_not_found   (.contract_id: no guarantee contract)
    ├── QuoteTokenError                 token_invalid
    │   ├── TokenMalformedError         token_malformed       (not a token of this library)
    │   ├── TokenSignatureError         token_signature_invalid
    │   ├── TokenUnknownKeyError        token_unknown_key     (a key id the key ring does not hold)
    │   ├── TokenExpiredError           token_expired
    │   └── TokenAudienceError          token_wrong_audience
    ├── QuoteStateError                 quote_state
    │   ├── QuoteExpiredError           quote_expired
    │   ├── QuoteAlreadyRedeemedError   quote_already_redeemed
    │   ├── QuoteNotRedeemableError     quote_not_redeemable  (a recycling-only quote)
    │   └── QuoteTamperedError          quote_tampered        (.field: stored quote differs from its token)
    ├── PriceUnavailableError           price_unavailable     (no price for a device, market or grade)
    │   └── PriceFeedError              price_feed_unavailable
    ├── InsuranceProviderError          insurance_provider_unavailable
    ├── AuditEntryInvalidError          audit_entry_invalid   (.rule, .path)
    │   └── AuditPersonalDataError      audit_personal_data   (personal data kept out of the audit chain)
    ├── WithdrawalPeriodOverError       withdrawal_period_over
    ├── PromotionExhaustedError         promotion_exhausted   (budget or redemptions used up meanwhile)
    ├── CheckoutInvalidError            checkout_invalid      (a plan that does not fit its timing, ...)
    ├── CheckoutChangedError            checkout_changed      (altered, expired, or prices changed since)
    ├── OrderError                      order_error
    │   ├── IllegalTransitionError      illegal_transition    (no such event in the device's state)
    │   │   ├── StaleEventError         stale_event           (the device is already past the event)
    │   │   ├── ActorNotAllowedError    actor_not_allowed     (.actor, .allowed)
    │   │   └── GuardFailedError        guard_failed          (.guard names the guard)
    │   ├── EventConflictError          event_conflict        (an event id reused for another event)
    │   ├── OrderDeviceNotFoundError    order_device_not_found
    │   ├── InvalidOrderError           order_invalid
    │   ├── InvalidPeriodError          invalid_period        (.period: not a YYYY-MM billing period)
    │   ├── ReceiptUnavailableError     receipt_unavailable   (.order_id, .device_id, .state: not bought)
    │   └── InspectionInputError        inspection_input_invalid (.field)
    ├── InvalidPayoutError              invalid_payout        (.field, .rule: iban/checksum, bic/format, ...)
    ├── SignatureInvalidError           signature_invalid     (.reason: malformed, wrong_purpose, unknown_kid,
    │                                                          bad_signature: a signed document, offline)
    ├── CO2Error                        co2_error             (a CO2 figure the factors cannot give)
    ├── ErasureError                    erasure_error
    │   ├── ErasureNotAllowedError      erasure_not_allowed   (.state, .rule: the device is not in custody)
    │   ├── ErasureUnverifiedError      erasure_unverified    (no certificate without a passed verification)
    │   ├── CertificateRequiredError    certificate_required  (.disposition, .reason: resale/parts need one)
    │   ├── CertificateRevokedError     certificate_revoked   (.certificate_id, .reason)
    │   └── CertificateExistsError      certificate_exists    (.certificate_id: the device has one, unrevoked)
    ├── GuaranteeError                  guarantee_error       (.rule: expired, not_yet_exercisable,
    │                                                          already_exercised, new_contract_required, ...)
    ├── FleetError                      fleet_error           (a company account, asset list or batch rule)
    │   ├── InvalidVatIdError           invalid_vat_id        (.value, .rule: format, check_digit, country)
    │   ├── AssetImportError            asset_import_invalid  (.problems: row, column, code per cell)
    │   ├── BatchStateError             batch_state           (.batch_id, .state, .action)
    │   ├── PickupTooSmallError         pickup_too_small      (.count, .minimum: 4 devices or more)
    │   └── CreditNoteError             credit_note_error     (a field a credit note needs is missing)
    ├── APIError                        api_error             (HTTP clients: .method, .path, .attempts, ...)
    │   ├── APIConnectionError          api_connection_error  (transport failure after the last retry)
    │   │   └── APITimeoutError         api_timeout
    │   ├── APIResponseError            api_response_invalid  (a 2xx body that is not JSON or not the model)
    │   └── APIStatusError              api_status_error      (.status, .problem_code, .title, .detail)
    │       ├── BadRequestError         api_bad_request       400
    │       ├── AuthenticationError     api_authentication    401
    │       ├── PermissionDeniedError   api_permission_denied 403
    │       ├── NotFoundAPIError        api_not_found         404
    │       ├── ConflictError           api_conflict          409 (retried first)
    │       ├── UnprocessableEntityError api_unprocessable    422
    │       ├── RateLimitError          api_rate_limited      429 (retried first)
    │       └── InternalServerError     api_server_error      500-599 (retried first)
    ├── InvalidIdempotencyKeyError      invalid_idempotency_key
    ├── IdempotencyKeyReusedError       idempotency_key_reused (the same key sent with other parameters)
    ├── IdempotencyKeyInUseError        idempotency_key_in_use (a call with the key is still running)
    ├── StoreError                      store_error
    │   └── ConcurrentUpdateError       concurrent_update     (another process changed the order first)
    └── ConfigurationError              configuration_error
        └── InvalidPolicyError          invalid_policy        (.field)

The errors of signed webhooks (``webhook_*`` codes) live in the public :mod:`tradein_sdk.webhooks` module and
are drawn in its docstring; they are :class:`TradeInError` subclasses too.

A message is an English template with ``{named}`` parameters. ``str(error)`` is the English text;
:meth:`TradeInError.localized` gives it in a shopper's language when the template is shopper-facing.
"""

from __future__ import annotations

from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from grading_questionnaire._i18n import N_, translate

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import date

    from tradein_sdk._domain.orders.machine import Guard
    from tradein_sdk._domain.orders.vocabulary import Actor, DeviceState, EventKind


class TradeInError(Exception):
    """The root of every error tradein-sdk raises.

    Attributes:
        code: a stable, machine-readable identifier of the kind of failure.
        message_id: the English message template (a gettext msgid for shopper-facing errors).
        params: the values filled into the template.
    """

    code: ClassVar[str] = "tradein_error"

    def __init__(self, message_id: str, /, **params: object) -> None:
        """Create the error from an English template and its parameters."""
        self.message_id = message_id
        self.params = params
        super().__init__(message_id.format(**params) if params else message_id)

    @property
    def message(self) -> str:
        """The English message."""
        return str(self)

    def localized(self, locale: str) -> str:
        """Return the message in ``locale`` (English where no translation exists).

        Args:
            locale: a locale identifier such as ``de_DE``.

        Returns:
            The translated message with its parameters filled in.
        """
        from grading_questionnaire._i18n import normalize_locale  # noqa: PLC0415

        return translate(self.message_id, normalize_locale(locale), **self.params)


class InvalidMoneyError(TradeInError):
    """An amount or currency is not valid money (a float, NaN, an unknown currency code)."""

    code = "invalid_money"


class CurrencyMismatchError(InvalidMoneyError):
    """Two amounts in different currencies were combined or compared."""

    code = "currency_mismatch"

    def __init__(self, left: str, right: str) -> None:
        """Create the error naming both currencies."""
        super().__init__("cannot combine amounts in {left} and {right}", left=left, right=right)
        self.currencies = (left, right)


class InvalidTextError(TradeInError):
    """A text argument cannot be kept: empty, too long, or not printable text (a lone surrogate, a control).

    Attributes:
        field: the argument (``audience``, ``reference``, ``customer_ref``, ``reason``).
        maximum: the most characters it may have.
    """

    code = "invalid_text"

    def __init__(self, field: str, *, maximum: int) -> None:
        """Create the error naming the argument and its limit."""
        super().__init__(
            N_("{field} must be 1 to {maximum} printable characters."), field=field, maximum=maximum
        )
        self.field = field
        self.maximum = maximum


class InvalidTenantError(InvalidTextError):
    """A tenant, organisation or provider id is not 1-120 of ``a-z 0-9 . _ -`` (first a letter or digit).

    Attributes:
        field: the argument (``tenant``, ``organisation``, ``provider``).
    """

    code = "invalid_tenant"

    def __init__(self, field: str) -> None:
        """Create the error naming the argument."""
        TradeInError.__init__(
            self,
            N_(
                "{field} must be 1 to {maximum} of a-z, 0-9, '.', '_' and '-', starting with a letter or a "
                "digit."
            ),
            field=field,
            maximum=120,
        )
        self.field = field
        self.maximum = 120


class InvalidCursorError(TradeInError):
    """A page cursor was not made by the library (changed, cut short, or from elsewhere)."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        """Create the error."""
        super().__init__(N_("The page cursor is not valid: start again from the first page."))


class InvalidIdentifierError(TradeInError):
    """A device identifier (IMEI, serial number) is malformed.

    Attributes:
        rule: the name of the rule the value broke.
        value: the value as given.
    """

    code = "invalid_identifier"

    def __init__(self, message_id: str, /, *, rule: str, value: str, **params: object) -> None:
        """Create the error naming the rule that failed."""
        super().__init__(message_id, value=value, **params)
        self.rule = rule
        self.value = value


class InvalidIMEIError(InvalidIdentifierError):
    """An IMEI broke a rule: ``length`` (15 digits), ``digits`` (0-9 only) or ``check_digit`` (Luhn)."""

    code = "invalid_imei"


class InvalidSerialNumberError(InvalidIdentifierError):
    """A serial number failed a sanity check.

    The ``rule`` is ``empty``, ``characters``, ``length``, ``repeated``, ``placeholder`` or ``imei_given``.
    """

    code = "invalid_serial_number"


@attrs.frozen(kw_only=True)
class DocumentProblem:
    """One problem in a JSON document.

    Attributes:
        path: where it is, as a JSON path (``$.models[3].release_date``).
        message: what is wrong there.
    """

    path: str
    message: str

    def __str__(self) -> str:
        """Return the problem as ``path: message``."""
        return f"{self.path}: {self.message}"


class DocumentInvalidError(TradeInError):
    """A document (catalog, questionnaire, price book, ...) does not match its schema or rules.

    Attributes:
        kind: what kind of document it is (``catalog``).
        source: where it came from (a file path, or ``<memory>``).
        problems: every problem found, each with its JSON path, in document order.
    """

    code = "document_invalid"

    def __init__(self, *, kind: str, source: str, problems: Iterable[DocumentProblem]) -> None:
        """Create the error listing every problem."""
        self.kind = kind
        self.source = source
        self.problems = tuple(problems)
        listing = "; ".join(str(problem) for problem in self.problems)
        super().__init__(
            "{kind} document {source} is invalid: {listing}",
            kind=kind,
            source=source,
            listing=listing,
        )


class NotFoundError(TradeInError):
    """Something looked up by its identifier does not exist."""

    code = "not_found"


class DeviceNotFoundError(NotFoundError):
    """No device model or variant has the identifier given."""

    code = "device_not_found"

    def __init__(self, device_id: str) -> None:
        """Create the error naming the identifier."""
        super().__init__(N_("No device is known as {device_id}."), device_id=device_id)
        self.device_id = device_id


class VariantRequiredError(DeviceNotFoundError):
    """A model's id where a quote needs one of its storage variants; the message lists them.

    Attributes:
        variants: the variants' ids, e.g. ``samsung-galaxy-s23-128gb``.
    """

    code = "variant_required"

    def __init__(self, model_id: str, variants: tuple[tuple[str, str], ...]) -> None:
        """Create the error naming the model and its ``(variant id, storage label)`` pairs."""
        TradeInError.__init__(
            self,
            N_(
                "{device_id} is a model with {count} storage variants; a quote needs one of them: {variants}."
            ),
            device_id=model_id,
            count=len(variants),
            variants=", ".join(f"{variant} ({storage})" for variant, storage in variants),
        )
        self.device_id = model_id
        self.variants = tuple(variant for variant, _ in variants)


class ConfigurationError(TradeInError):
    """The library was configured with something it cannot use (a missing file, a bad option)."""

    code = "configuration_error"


class QuoteNotFoundError(NotFoundError):
    """No quote has the identifier given."""

    code = "quote_not_found"

    def __init__(self, quote_id: str) -> None:
        """Create the error naming the quote."""
        super().__init__(N_("No quote {quote_id} exists."), quote_id=quote_id)
        self.quote_id = quote_id


class QuoteTokenError(TradeInError):
    """A quote token did not verify. Subclasses say why; none of them is ever honoured."""

    code = "token_invalid"


class TokenMalformedError(QuoteTokenError):
    """The text is not a quote token of this library (wrong shape, encoding or fields)."""

    code = "token_malformed"


class TokenSignatureError(QuoteTokenError):
    """The token's signature does not match its content: it was altered or signed with another key."""

    code = "token_signature_invalid"


class TokenUnknownKeyError(QuoteTokenError):
    """The token names a signing key id the key ring does not hold (retired, or never issued here)."""

    code = "token_unknown_key"


class TokenExpiredError(QuoteTokenError):
    """The token's expiry has passed."""

    code = "token_expired"


class TokenAudienceError(QuoteTokenError):
    """The token was issued for another shop or store."""

    code = "token_wrong_audience"


class QuoteStateError(TradeInError):
    """The quote exists but cannot be used the way asked."""

    code = "quote_state"


class QuoteExpiredError(QuoteStateError):
    """The quote's validity has ended."""

    code = "quote_expired"

    def __init__(self, quote_id: str) -> None:
        """Create the error naming the quote."""
        super().__init__(N_("Quote {quote_id} has expired."), quote_id=quote_id)
        self.quote_id = quote_id


class QuoteAlreadyRedeemedError(QuoteStateError):
    """The quote was redeemed before; a quote is redeemed exactly once."""

    code = "quote_already_redeemed"

    def __init__(self, quote_id: str) -> None:
        """Create the error naming the quote."""
        super().__init__(N_("Quote {quote_id} has already been redeemed."), quote_id=quote_id)
        self.quote_id = quote_id


class QuoteTamperedError(QuoteStateError):
    """The stored quote no longer matches what its token signed: it was changed after it was issued.

    Nothing is credited and the attempt is recorded in the audit log (``quote.tampered``).

    Attributes:
        quote_id: the quote.
        field: what differs (``amount``, ``currency``, ``expires_at`` or ``quote_id``).
    """

    code = "quote_tampered"

    def __init__(self, quote_id: str, *, field: str) -> None:
        """Create the error naming the quote and what differs."""
        super().__init__(
            N_("Quote {quote_id} was changed after it was issued ({field}); it cannot be used."),
            quote_id=quote_id,
            field=field,
        )
        self.quote_id = quote_id
        self.field = field


class QuoteNotRedeemableError(QuoteStateError):
    """The quote has no value to redeem (a recycling-only quote for a knocked-out device)."""

    code = "quote_not_redeemable"

    def __init__(self, quote_id: str) -> None:
        """Create the error naming the quote."""
        super().__init__(
            N_("Quote {quote_id} is for free recycling and has no value to redeem."), quote_id=quote_id
        )
        self.quote_id = quote_id


class PriceUnavailableError(TradeInError):
    """The price source has no price for this device, market or grade."""

    code = "price_unavailable"


class PriceFeedError(PriceUnavailableError):
    """The HTTP price feed could not be reached or answered with something unusable."""

    code = "price_feed_unavailable"


class StoreError(TradeInError):
    """The store (database) failed; the operation was rolled back and nothing was written."""

    code = "store_error"


class AnswersInvalidError(TradeInError):
    """Answers do not fit the questionnaire.

    Attributes:
        problems: every problem, each with ``path`` (``$.display_glass``), ``code``
            (``unknown_question``, ``missing_answer``, ``option_not_offered``, ``number_out_of_range``,
            ``question_not_shown``, ``wrong_type``, ...) and a translatable message
            (``problem.localized(locale)``).
    """

    code = "answers_invalid"

    def __init__(self, *, questionnaire_id: str, problems: Iterable[Any]) -> None:
        """Create the error listing every problem."""
        self.questionnaire_id = questionnaire_id
        self.problems = tuple(problems)
        super().__init__(
            "answers do not fit questionnaire {questionnaire_id}: {listing}",
            questionnaire_id=questionnaire_id,
            listing="; ".join(str(problem) for problem in self.problems),
        )


class QuestionnaireNotFoundError(NotFoundError):
    """No questionnaire exists for the device category."""

    code = "questionnaire_not_found"

    def __init__(self, category: str) -> None:
        """Create the error naming the category."""
        super().__init__(N_("There is no questionnaire for {category}."), category=category)
        self.category = category


class UnsupportedLocaleError(TradeInError, ValueError):
    """A locale identifier is not one Babel knows (also a ``ValueError``)."""

    code = "unknown_locale"


def canonical_locale(locale: str) -> str:
    """The canonical form of a locale identifier (``de-de`` → ``de_DE``).

    Raises:
        UnsupportedLocaleError: the identifier is not a locale Babel knows.
    """
    from grading_questionnaire._i18n import normalize_locale  # noqa: PLC0415

    try:
        return normalize_locale(locale)
    except ValueError as exc:
        raise UnsupportedLocaleError(str(exc)) from exc


@contextmanager
def questionnaire_errors() -> Iterator[None]:
    """Turn the questionnaire package's errors into the library's TradeInError tree (a ``with`` block)."""
    import grading_questionnaire as gq  # noqa: PLC0415

    try:
        yield
    except gq.AnswersInvalidError as exc:
        raise AnswersInvalidError(questionnaire_id=exc.questionnaire_id, problems=exc.problems) from exc
    except gq.QuestionnaireNotFoundError as exc:
        raise QuestionnaireNotFoundError(exc.name) from exc
    except (gq.QuestionnaireInvalidError, gq.DiagnosticsInvalidError) as exc:
        kind = "questionnaire" if isinstance(exc, gq.QuestionnaireInvalidError) else "diagnostics"
        problems = [
            DocumentProblem(path=problem.path, message=f"{problem.message} [{problem.code}]")
            for problem in exc.problems
        ]
        raise DocumentInvalidError(kind=kind, source=exc.source, problems=problems) from exc
    except gq.UnknownLocaleError as exc:
        raise UnsupportedLocaleError(str(exc)) from exc


class AuditEntryInvalidError(TradeInError):
    """An audit entry cannot be written as given; nothing was appended.

    Attributes:
        rule: the rule broken: ``empty``, ``too_long``, ``not_json`` (a value JSON cannot hold exactly:
            a float, a set, a non-text key), or one of :class:`AuditPersonalDataError`'s rules.
        path: where, as a JSON path: ``$.subject``, ``$.details.refund.amount``.
    """

    code = "audit_entry_invalid"

    def __init__(self, message_id: str, /, *, rule: str, path: str, **params: object) -> None:
        """Create the error naming the rule and the path (never the offending value)."""
        super().__init__(message_id, path=path, **params)
        self.rule = rule
        self.path = path


class AuditPersonalDataError(AuditEntryInvalidError):
    """An audit entry would carry personal data; the chain must hold pseudonymous references only.

    The ``rule`` is ``personal_key`` (a key named like personal data), ``email`` (a value containing an
    e-mail address) or ``iban`` (a value containing a valid IBAN). The message names the path, never the
    value, so the error itself can be logged.
    """

    code = "audit_personal_data"


class WithdrawalPeriodOverError(TradeInError):
    """The 14-day withdrawal period had ended when the customer withdrew.

    Attributes:
        deadline: the last day on which the withdrawal could be sent.
        withdrawn_on: the day it was sent.
    """

    code = "withdrawal_period_over"

    def __init__(self, *, deadline: date, withdrawn_on: date) -> None:
        """Create the error naming the deadline and the late withdrawal."""
        super().__init__(
            N_(
                "The 14-day withdrawal period ended on {deadline}; withdrawing on {withdrawn_on} is too late."
            ),
            deadline=deadline.isoformat(),
            withdrawn_on=withdrawn_on.isoformat(),
        )
        self.deadline = deadline
        self.withdrawn_on = withdrawn_on


class OrderError(TradeInError):
    """An order cannot do what was asked."""

    code = "order_error"


class IllegalTransitionError(OrderError):
    """The event does not fit the device's state.

    Attributes:
        device_id: the device of the order.
        event: the event's kind.
        state: the device's state when the event arrived.
    """

    code = "illegal_transition"

    def __init__(
        self, message_id: str, /, *, device_id: str, event: EventKind, state: DeviceState, **params: object
    ) -> None:
        """Create the error naming the device, the event and the state."""
        super().__init__(message_id, device_id=device_id, event=event.value, state=state.value, **params)
        self.device_id = device_id
        self.event = event
        self.state = state


class StaleEventError(IllegalTransitionError):
    """The event arrived after the device had already moved past it; it changes nothing."""

    code = "stale_event"


class ActorNotAllowedError(IllegalTransitionError):
    """The event fits the state, but this actor may not trigger it.

    Attributes:
        actor: who tried.
        allowed: who may.
    """

    code = "actor_not_allowed"

    def __init__(
        self, *, device_id: str, event: EventKind, state: DeviceState, actor: Actor, allowed: Iterable[Actor]
    ) -> None:
        """Create the error naming the actor and those allowed."""
        self.actor = actor
        self.allowed = tuple(allowed)
        super().__init__(
            N_("A {actor} may not {event} a device that is {state}."),
            device_id=device_id,
            event=event,
            state=state,
            actor=actor.value,
            allowed=", ".join(actor.value for actor in self.allowed),
        )


class GuardFailedError(IllegalTransitionError):
    """The event fits the state and the actor, but a condition of the transition does not hold.

    Attributes:
        guard: the name of the guard that failed (see :func:`transition_table`).
    """

    code = "guard_failed"

    def __init__(self, *, device_id: str, event: EventKind, state: DeviceState, guard: Guard) -> None:
        """Create the error from the guard's explanation."""
        self.guard = guard.name
        super().__init__(guard.message, device_id=device_id, event=event, state=state, guard=guard.name)


class EventConflictError(OrderError):
    """An event id the order already recorded was reused for a different event.

    Attributes:
        event_id: the id.
    """

    code = "event_conflict"

    def __init__(self, event_id: str) -> None:
        """Create the error naming the id."""
        super().__init__("event id {event_id} was already used for another event", event_id=event_id)
        self.event_id = event_id


class OrderDeviceNotFoundError(OrderError):
    """The order has no device with the id given.

    Attributes:
        device_id: the id.
    """

    code = "order_device_not_found"

    def __init__(self, order_id: str, device_id: str) -> None:
        """Create the error naming the order and the id."""
        super().__init__(
            N_("Order {order_id} has no device {device_id}."), order_id=order_id, device_id=device_id
        )
        self.device_id = device_id


class InvalidOrderError(OrderError):
    """An order cannot be opened as asked (no devices, a quote used twice)."""

    code = "order_invalid"


class InvalidPeriodError(OrderError):
    """A billing period is not a ``YYYY-MM`` month, or a span of days ends before it starts.

    Attributes:
        period: what was given.
        rule: ``format`` or ``range``.
    """

    code = "invalid_period"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "format": N_("{period!r} is not a billing period (YYYY-MM)."),
        "range": N_("A period must end after it starts: {period}."),
    }

    def __init__(self, period: str, *, rule: str = "format") -> None:
        """Create the error naming what was given and the rule it broke."""
        super().__init__(self._MESSAGES[rule], period=period)
        self.period = period
        self.rule = rule


class ReceiptUnavailableError(OrderError):
    """A purchase receipt was asked for a device the shop has not bought (not paid, credited or disposed).

    Attributes:
        order_id: the order.
        device_id: the device of the order.
        state: the device's state.
    """

    code = "receipt_unavailable"

    def __init__(self, *, order_id: str, device_id: str, state: str) -> None:
        """Create the error naming the order, the device and its state."""
        super().__init__(
            N_("No purchase receipt for device {device_id} of order {order_id}: it is {state}, not bought."),
            order_id=order_id,
            device_id=device_id,
            state=state,
        )
        self.order_id = order_id
        self.device_id = device_id
        self.state = state


class InspectionInputError(OrderError):
    """The inputs of an inspection do not belong together (not the quote's price book or questionnaire).

    Attributes:
        field: which input is wrong.
    """

    code = "inspection_input_invalid"

    def __init__(self, message_id: str, /, *, field: str, **params: object) -> None:
        """Create the error naming the input."""
        super().__init__(message_id, field=field, **params)
        self.field = field


class InvalidPolicyError(ConfigurationError):
    """A delivery policy setting is out of range.

    Attributes:
        field: the setting.
    """

    code = "invalid_policy"

    def __init__(self, message_id: str, /, *, field: str, **params: object) -> None:
        """Create the error naming the setting."""
        super().__init__(message_id, field=field, **params)
        self.field = field


class InvalidPayoutError(TradeInError):
    """Payout details are not valid. The message is shopper-facing (translated with ``localized``).

    Attributes:
        field: the field (``iban``, ``bic``, ``holder``, ``program``, ``purchase_reference``,
            ``reference``).
        rule: the rule it broke (``empty``, ``format``, ``country``, ``length``, ``checksum``).
    """

    code = "invalid_payout"

    def __init__(self, message_id: str, /, *, field: str, rule: str, **params: object) -> None:
        """Create the error naming the field and the rule."""
        super().__init__(message_id, field=field, rule=rule, **params)
        self.field = field
        self.rule = rule


class OrderNotFoundError(NotFoundError):
    """No order has the id given."""

    code = "order_not_found"

    def __init__(self, order_id: str) -> None:
        """Create the error naming the order."""
        super().__init__(N_("No order {order_id} exists."), order_id=order_id)
        self.order_id = order_id


class ConcurrentUpdateError(StoreError):
    """Another process changed the order between reading and writing it; nothing was written."""

    code = "concurrent_update"

    def __init__(self, order_id: str) -> None:
        """Create the error naming the order."""
        super().__init__("order {order_id} was changed by someone else; read it again", order_id=order_id)
        self.order_id = order_id


class PromotionExhaustedError(TradeInError):
    """A promotion's budget or redemption limit was used up before the checkout was confirmed."""

    code = "promotion_exhausted"

    def __init__(self, promotion_id: str) -> None:
        """Create the error naming the promotion."""
        super().__init__(N_("The promotion {promotion} is no longer available."), promotion=promotion_id)
        self.promotion_id = promotion_id


class CheckoutInvalidError(TradeInError):
    """The checkout cannot be built as asked: a plan that does not fit its timing, no months, a bad device."""

    code = "checkout_invalid"


class CheckoutChangedError(TradeInError):
    """The summary no longer holds: its signature does not match, or prices changed since it was shown."""

    code = "checkout_changed"


class InsuranceProviderError(TradeInError):
    """The insurance provider could not be reached or sent an unusable plan catalog."""

    code = "insurance_provider_unavailable"


# -- errors of the HTTP clients ------------------------------------------------------------------------


class InvalidIdempotencyKeyError(TradeInError):
    """An idempotency key given to a call is empty, too long, not printable ASCII, or on a safe method."""

    code = "invalid_idempotency_key"


class IdempotencyKeyReusedError(TradeInError):
    """An idempotency key came back with different parameters: a key belongs to one request only."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        """Create the error naming the key."""
        super().__init__(
            "idempotency key {key!r} was used for a different request; use a new key for a new request",
            key=key,
        )
        self.key = key


class IdempotencyKeyInUseError(TradeInError):
    """A request with the same idempotency key is still being processed; retry a little later."""

    code = "idempotency_key_in_use"

    def __init__(self, key: str) -> None:
        """Create the error naming the key."""
        super().__init__("a request with idempotency key {key!r} is still being processed", key=key)
        self.key = key


class APIError(TradeInError):
    """A call to the trade-in service failed.

    Attributes:
        method: the HTTP method.
        path: the path called (without the query string, which may hold personal data).
        attempts: how many requests were sent (1 + retries).
        idempotency_key: the key every attempt carried (``None`` on safe methods); call again with it
            to learn the outcome of a mutating call without repeating its effect.
        request_id: the server's ``X-Request-Id`` of the last answer, if any.
    """

    code = "api_error"

    def __init__(
        self,
        message_id: str,
        /,
        *,
        method: str,
        path: str,
        attempts: int,
        idempotency_key: str | None = None,
        request_id: str | None = None,
        **params: object,
    ) -> None:
        """Create the error naming the call."""
        super().__init__(message_id, method=method, path=path, attempts=attempts, **params)
        self.method = method
        self.path = path
        self.attempts = attempts
        self.idempotency_key = idempotency_key
        self.request_id = request_id


class APIConnectionError(APIError):
    """The service could not be reached, or the exchange broke off, on every attempt."""

    code = "api_connection_error"


class APITimeoutError(APIConnectionError):
    """The last attempt timed out (connecting, sending, waiting for the answer or for a pooled connection)."""

    code = "api_timeout"


class APIResponseError(APIError):
    """A successful answer whose body is not JSON, or does not fit the model it is structured into.

    Attributes:
        problems: ``(json_path, message)`` pairs when the body did not fit the model; empty otherwise.
    """

    code = "api_response_invalid"

    def __init__(
        self,
        message_id: str,
        /,
        *,
        method: str,
        path: str,
        attempts: int,
        problems: tuple[tuple[str, str], ...] = (),
        idempotency_key: str | None = None,
        request_id: str | None = None,
        **params: object,
    ) -> None:
        """Create the error naming the call and, for a body that does not fit, the JSON paths."""
        super().__init__(
            message_id,
            method=method,
            path=path,
            attempts=attempts,
            idempotency_key=idempotency_key,
            request_id=request_id,
            **params,
        )
        self.problems = problems


class APIStatusError(APIError):
    """The service answered with an error status (after the last retry for the retryable ones).

    Attributes:
        status: the HTTP status code.
        problem_type: the problem document's ``type`` (RFC 9457), if the body was one.
        problem_code: the problem document's ``code`` extension member, if any.
        title: the problem document's ``title``, if any.
        detail: the problem document's ``detail``, if any.
        retry_after: the answer's ``Retry-After`` in seconds (not capped), if any.
        problem: the whole problem document (empty when the body was not one).
    """

    code = "api_status_error"

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        attempts: int,
        problem_type: str | None = None,
        problem_code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
        problem: Mapping[str, object] | None = None,
    ) -> None:
        """Create the error from the answer's status and problem document."""
        reason = title or detail or _reason_phrase(status)
        super().__init__(
            "{method} {path} answered HTTP {status}: {reason}",
            method=method,
            path=path,
            attempts=attempts,
            idempotency_key=idempotency_key,
            request_id=request_id,
            status=status,
            reason=reason,
        )
        self.status = status
        self.problem_type = problem_type
        self.problem_code = problem_code
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.problem: Mapping[str, object] = dict(problem or {})


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class BadRequestError(APIStatusError):
    """HTTP 400: the service could not read the request."""

    code = "api_bad_request"


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, unknown or revoked."""

    code = "api_authentication"


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the API key may not do this."""

    code = "api_permission_denied"


class NotFoundAPIError(APIStatusError):
    """HTTP 404: the service has no such resource."""

    code = "api_not_found"


class ConflictError(APIStatusError):
    """HTTP 409 on every attempt: the resource's state, or a concurrent call with the same key, conflicts."""

    code = "api_conflict"


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request was read but breaks a rule of the service."""

    code = "api_unprocessable"


class RateLimitError(APIStatusError):
    """HTTP 429 on every attempt: too many requests."""

    code = "api_rate_limited"


class InternalServerError(APIStatusError):
    """HTTP 500–599 on every attempt: the service failed."""

    code = "api_server_error"


class SignatureInvalidError(TradeInError):
    """A signed document (an erasure certificate, a revocation list) does not verify; never trust its content.

    Attributes:
        reason: ``malformed`` (not a signed envelope: fields, types, encoding, a float, a duplicate key),
            ``wrong_purpose`` (signed for another purpose), ``unknown_kid`` (its key id is not among the
            published keys) or ``bad_signature`` (the signature does not match the content).
        detail: what exactly is wrong, in English.
    """

    code = "signature_invalid"

    _REASONS: ClassVar[dict[str, str]] = {
        "malformed": "malformed",
        "wrong_purpose": "wrong purpose",
        "unknown_kid": "unknown kid",
        "bad_signature": "bad signature",
    }

    def __init__(self, *, reason: str, detail: str) -> None:
        """Create the error naming why the document does not verify."""
        super().__init__(
            "signed document does not verify ({reason_text}): {detail}",
            reason_text=self._REASONS.get(reason, reason),
            detail=detail,
        )
        self.reason = reason
        self.detail = detail


class CO2Error(TradeInError):
    """A CO2 figure cannot be computed for what was asked (a part, category or value the factors lack)."""

    code = "co2_error"


class ErasureError(TradeInError):
    """Data erasure or its certificate does not allow what was asked."""

    code = "erasure_error"


class ErasureNotAllowedError(ErasureError):
    """No erasure may be reported for the device in its state: the shop does not hold it, or must not wipe it.

    Attributes:
        state: the device's state.
        rule: ``not_received`` (not yet in custody), ``held`` (on hold or a mismatch: it may be evidence
            or go back), ``going_back`` (being returned to its owner), ``left_custody`` (recycled,
            disposed, returned, surrendered) or ``before_receipt`` (the report's custody starts before the
            device was received).
    """

    code = "erasure_not_allowed"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "not_received": N_(
            "The device is {state} and has not been received: no erasure can be recorded for it."
        ),
        "held": N_(
            "The device is {state}: it is held (it may be evidence or go back) and must not be erased."
        ),
        "going_back": N_("The device is {state} and goes back to its owner: it must not be erased."),
        "left_custody": N_(
            "The device is {state} and has left the shop's custody: no erasure can be recorded for it."
        ),
        "before_receipt": N_(
            "The erasure report's custody starts at {at}, before the device was received at {received_at}."
        ),
    }

    def __init__(self, *, state: str, rule: str, **params: object) -> None:
        """Create the error naming the state and the rule."""
        super().__init__(self._MESSAGES[rule], state=state, **params)
        self.state = state
        self.rule = rule


class ErasureUnverifiedError(ErasureError):
    """The erasure's verification did not pass, so no certificate is issued for it.

    Attributes:
        order_id: the order.
        device_id: the device of the order.
        result: the verification's result.
    """

    code = "erasure_unverified"

    def __init__(self, *, order_id: str, device_id: str, result: str) -> None:
        """Create the error naming the device and the result."""
        super().__init__(
            N_(
                "The erasure of device {device_id} of order {order_id} did not pass verification ({result}): "
                "no certificate is issued for it."
            ),
            order_id=order_id,
            device_id=device_id,
            result=result,
        )
        self.order_id = order_id
        self.device_id = device_id
        self.result = result


class CertificateRequiredError(ErasureError):
    """A device goes to resale or parts only with a valid erasure certificate for it.

    Attributes:
        disposition: what the device was to become (``resale``, ``parts``).
        reason: ``missing``, ``revoked``, ``invalid`` (it does not verify), ``unverified`` (no passed
            verification), ``other_device`` (it certifies another device) or ``insufficient_method``
            (resale needs a purge, parts a purge or destruct).
    """

    code = "certificate_required"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "missing": N_("A device for {disposition} needs a valid erasure certificate; it has none."),
        "revoked": N_(
            "A device for {disposition} needs a valid erasure certificate; {certificate_id} was revoked."
        ),
        "invalid": N_(
            "A device for {disposition} needs a valid erasure certificate; {certificate_id} does not verify."
        ),
        "unverified": N_(
            "A device for {disposition} needs a valid erasure certificate; {certificate_id} records no "
            "passed verification."
        ),
        "other_device": N_(
            "A device for {disposition} needs a valid erasure certificate; {certificate_id} is for device "
            "{certified} of order {certified_order}."
        ),
        "insufficient_method": N_(
            "A device for {disposition} needs a {needed} sanitization; certificate {certificate_id} records "
            "{method}."
        ),
    }

    def __init__(self, *, disposition: str, reason: str, certificate_id: str = "-", **params: object) -> None:
        """Create the error naming the disposition and why the certificate does not do."""
        super().__init__(
            self._MESSAGES[reason], disposition=disposition, certificate_id=certificate_id, **params
        )
        self.disposition = disposition
        self.reason = reason


class CertificateRevokedError(ErasureError):
    """The erasure certificate verifies but its issuer revoked it; it certifies nothing any more.

    Attributes:
        certificate_id: the certificate.
        reason: the revocation's reason code.
        revoked_at: when it was revoked (ISO 8601).
    """

    code = "certificate_revoked"

    def __init__(self, *, certificate_id: str, reason: str, revoked_at: str) -> None:
        """Create the error naming the certificate and the revocation."""
        super().__init__(
            N_("Erasure certificate {certificate_id} was revoked at {revoked_at} ({reason})."),
            certificate_id=certificate_id,
            reason=reason,
            revoked_at=revoked_at,
        )
        self.certificate_id = certificate_id
        self.reason = reason
        self.revoked_at = revoked_at


class CertificateExistsError(ErasureError):
    """The device already has an erasure certificate that is not revoked: revoke it before issuing another.

    Attributes:
        certificate_id: the device's certificate.
        order_id: the order.
        device_id: the device of the order.
    """

    code = "certificate_exists"

    def __init__(self, *, certificate_id: str, order_id: str, device_id: str) -> None:
        """Create the error naming the certificate the device has."""
        super().__init__(
            N_(
                "Device {device_id} of order {order_id} already has erasure certificate {certificate_id}; "
                "revoke it before issuing another."
            ),
            certificate_id=certificate_id,
            order_id=order_id,
            device_id=device_id,
        )
        self.certificate_id = certificate_id
        self.order_id = order_id
        self.device_id = device_id


class CertificateNotFoundError(NotFoundError):
    """No erasure certificate has the id given (in the caller's scope).

    Attributes:
        certificate_id: the id looked up.
    """

    code = "certificate_not_found"

    def __init__(self, certificate_id: str) -> None:
        """Create the error naming the id."""
        super().__init__("no erasure certificate {certificate_id} exists", certificate_id=certificate_id)
        self.certificate_id = certificate_id


class GuaranteeError(TradeInError):
    """A buy-back guarantee cannot be offered, sold or exercised as asked.

    Raised through one constructor per rule, each with its translated message.

    Attributes:
        rule: ``expired``, ``not_yet_exercisable``, ``already_exercised``, ``new_contract_required``,
            ``device_mismatch``, ``not_eligible``, ``grade`` or ``currency``.
    """

    code = "guarantee_error"

    def __init__(self, message: str, /, *, rule: str, **params: object) -> None:
        """Create the error for one of the rules above (prefer the constructors below)."""
        super().__init__(message, rule=rule, **params)
        self.rule = rule

    @classmethod
    def already_exercised(cls, contract: str) -> GuaranteeError:
        """The contract was exercised, or an order is exercising it."""
        message = N_("Guarantee {contract} was exercised already, or an order is exercising it.")
        return cls(message, rule="already_exercised", contract=contract)

    @classmethod
    def expired(cls, contract: str, day: str) -> GuaranteeError:
        """The contract's last day (``day``, ISO 8601) has passed."""
        return cls(N_("Guarantee {contract} expired on {day}."), rule="expired", contract=contract, day=day)

    @classmethod
    def not_yet_exercisable(cls, contract: str, day: str) -> GuaranteeError:
        """The contract may be exercised from ``day`` (ISO 8601) only."""
        message = N_("Guarantee {contract} may be exercised from {day}.")
        return cls(message, rule="not_yet_exercisable", contract=contract, day=day)

    @classmethod
    def new_contract_required(cls, contract: str) -> GuaranteeError:
        """An upgrade plan pays against a new contract, and none is signed."""
        message = N_("Guarantee {contract} pays out only with a new contract.")
        return cls(message, rule="new_contract_required", contract=contract)

    @classmethod
    def device_mismatch(cls, contract: str, device: str, quoted: str) -> GuaranteeError:
        """The device returned is not the one the contract buys back."""
        message = N_("Guarantee {contract} buys back {device}, not {quoted}.")
        return cls(message, rule="device_mismatch", contract=contract, device=device, quoted=quoted)

    @classmethod
    def not_eligible(cls, plan: str, *, known: bool = True) -> GuaranteeError:
        """The plan does not cover the purchase (``known=False``: no such plan exists)."""
        message = (
            N_("The guarantee plan {plan} does not cover this purchase.")
            if known
            else N_("No guarantee plan {plan} exists.")
        )
        return cls(message, rule="not_eligible", plan=plan)

    @classmethod
    def unknown_grade(cls, grade: str, grades: tuple[str, ...]) -> GuaranteeError:
        """``grade`` is not a pricing grade."""
        message = N_("{grade} is not a pricing grade; the grades are {grades}.")
        return cls(message, rule="grade", grade=grade, grades=", ".join(grades))

    @classmethod
    def currency(cls, currency: str, found: str) -> GuaranteeError:
        """An amount is in ``found``, the guarantee in ``currency``."""
        message = N_("The guarantee is in {currency}, an amount in {found}.")
        return cls(message, rule="currency", currency=currency, found=found)


class GuaranteeNotFoundError(NotFoundError):
    """No buy-back guarantee contract has the id given (in the caller's scope)."""

    code = "guarantee_not_found"

    def __init__(self, contract_id: str) -> None:
        """Create the error naming the id."""
        super().__init__("no guarantee contract {contract_id} exists", contract_id=contract_id)
        self.contract_id = contract_id


class FleetError(TradeInError):
    """A fleet trade-in (company account, asset import, batch, credit note) does not allow what was asked."""

    code = "fleet_error"


class InvalidVatIdError(FleetError):
    """A VAT identification number is malformed or fails its check digits.

    Attributes:
        value: the number given.
        rule: ``format`` (not a VAT id of any EU country), ``check_digit`` (the check digits do not match) or
            ``country`` (the number is not one of the company's country).
    """

    code = "invalid_vat_id"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "format": N_("“{value}” is not a VAT identification number (country prefix and digits)."),
        "check_digit": N_("The check digits of VAT identification number “{value}” do not match."),
        "country": N_("VAT identification number “{value}” is not one of {country}."),
    }

    def __init__(self, value: str, *, rule: str, country: str = "") -> None:
        """Create the error for one of the rules above."""
        super().__init__(self._MESSAGES[rule], value=value, country=country, rule=rule)
        self.value = value
        self.rule = rule


@attrs.frozen(kw_only=True)
class ImportProblem:
    """One rejected cell of an asset list.

    Attributes:
        row: the row as the spreadsheet numbers it (the header is row 1).
        column: the column's header as written in the file (``IMEI``), or ``*`` for the whole row.
        code: what is wrong (``invalid_imei``, ``unknown_model``, ``ambiguous_model``, ``duplicate``, ...).
        message: what is wrong, in English, naming the value.
        value: the cell's text as read.
    """

    row: int
    column: str
    code: str
    message: str
    value: str = ""

    def __str__(self) -> str:
        """Return the problem as ``row 4, IMEI: message``."""
        return f"row {self.row}, {self.column}: {self.message}"


class AssetImportError(FleetError):
    """An asset list has rows that cannot be imported; nothing of it was imported.

    Attributes:
        problems: every problem found, by row and column, in file order.
    """

    code = "asset_import_invalid"

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        """Create the error listing every problem."""
        self.problems = tuple(problems)
        rows = len({problem.row for problem in self.problems})
        listing = "; ".join(str(problem) for problem in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(
            "{rows} row(s) of the asset list cannot be imported: {listing}{more}",
            rows=rows,
            listing=listing,
            more=f" (and {more} more)" if more > 0 else "",
        )


class CompanyNotFoundError(NotFoundError):
    """No company account has the id given (in the caller's scope)."""

    code = "company_not_found"

    def __init__(self, company_id: str) -> None:
        """Create the error naming the id."""
        super().__init__("no company {company_id} exists", company_id=company_id)
        self.company_id = company_id


class BatchNotFoundError(NotFoundError):
    """No fleet batch has the id given (in the caller's scope)."""

    code = "batch_not_found"

    def __init__(self, batch_id: str) -> None:
        """Create the error naming the id."""
        super().__init__("no fleet batch {batch_id} exists", batch_id=batch_id)
        self.batch_id = batch_id


class BatchStateError(FleetError):
    """A fleet batch is not in a state that allows the action.

    Attributes:
        batch_id: the batch.
        state: its state.
        action: what was asked (``book_pickup``, ``hand_over``, ``receive``, ``settle``, ...).
        reason: why, as a code: ``state`` (the batch's state does not allow it), ``expired`` (the portfolio
            quote's validity ended), ``undecided`` (a received device is not inspected or its revised offer
            waits for an answer), ``no_bank_account`` (a settlement has no bank account to pay) or ``busy``
            (the batch kept changing under the call).
    """

    code = "batch_state"

    def __init__(
        self, batch_id: str, *, state: str, action: str, detail: str = "", reason: str = "state"
    ) -> None:
        """Create the error naming the batch, its state, the action and why."""
        super().__init__(
            "fleet batch {batch_id} is {state}: it cannot {action}{detail}",
            batch_id=batch_id,
            state=state,
            action=action.replace("_", " "),
            detail=f" ({detail})" if detail else "",
            reason=reason,
        )
        self.batch_id = batch_id
        self.state = state
        self.action = action
        self.reason = reason


class PickupTooSmallError(FleetError):
    """A pickup was booked for fewer devices than a pickup takes (send fewer by parcel label instead)."""

    code = "pickup_too_small"

    def __init__(self, *, count: int, minimum: int) -> None:
        """Create the error naming the count and the minimum."""
        super().__init__(
            "a pickup takes at least {minimum} devices; {count} were chosen", count=count, minimum=minimum
        )
        self.count = count
        self.minimum = minimum


class CreditNoteError(FleetError):
    """A self-billing credit note or purchase statement cannot be issued (a mandatory field is missing)."""

    code = "credit_note_error"


_STATUS_ERRORS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundAPIError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _status_error_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIStatusError)
