"""Trade-in orders: the state machine each device follows, its deadlines, the inspection diff and payout data.

Pure: no I/O, no database, no clock of its own (``now`` is always a parameter) and no randomness (event ids
and payout references come from the caller). An order holds one or more devices, each with its own quote
and its own path; :func:`order_outcome` nets them (some paid, some returned, some recycled).

A device changes state only through :func:`apply`, which looks the event up in one declarative table
(:func:`transition_table`; :func:`transitions_mermaid` draws it). Time-driven transitions (expiry, silence
on a revised offer) come from :func:`due_actions` and are applied by :func:`tick`.

States (:class:`DeviceState`)::

    accepted            the quote was accepted at checkout; nothing has been sent yet
    awaiting_shipment   a label was issued; the device must be sent by ``send_by``
    in_transit          the carrier has it
    received            it arrived, or was handed over in a store
    on_hold             held at receipt: blocklist hit, police request, ownership check
    released            the hold was lifted
    surrendered         handed to the authorities (final)
    inspected           the inspection is recorded
    confirmed           the inspection matches the quote (or the quote was guaranteed): the amount stands
    revised             a lower offer was made; the shopper answers by ``respond_by``
    mismatch            a major mismatch: another IMEI, model or variant, a lock that cannot be removed,
                        a blocklisted device
    revision_accepted   the lower offer was accepted (by the shopper, or by silence if the shop says so)
    revision_declined   declined (or silence): the device goes back free of charge by ``return_by``
    returning           on its way back to the shopper
    returned            back with the shopper (final)
    paid                paid by bank transfer
    credited            paid as a voucher or as credit on the new purchase
    recycled            no value: recycled free of charge (final)
    disposed            after purchase: refurbished, used for parts or recycled (final)
    expired             not sent in time (staff can still accept a late arrival)
    cancelled           cancelled before shipping (final)

Actors (:class:`Actor`): ``shopper``, ``staff``, ``provider`` (carrier, inspection partner) and ``system``.

Errors, each a :class:`~tradein_sdk.TradeInError` with a stable ``code``::

    OrderError                        order_error
    ├── IllegalTransitionError        illegal_transition       (no such event in the device's state)
    │   ├── StaleEventError           stale_event              (the device is already past the event)
    │   ├── ActorNotAllowedError      actor_not_allowed        (.actor, .allowed)
    │   └── GuardFailedError          guard_failed             (.guard names the guard)
    ├── EventConflictError            event_conflict           (an event id reused for another event)
    ├── OrderDeviceNotFoundError      order_device_not_found
    ├── InvalidOrderError             order_invalid
    └── InspectionInputError          inspection_input_invalid (.field)
    InvalidPolicyError                invalid_policy           (a ConfigurationError; .field)
    InvalidPayoutError                invalid_payout           (.field, .rule)

Duplicated and reordered events: an event whose id the order has already recorded (for the same device, kind
and actor) is ignored, and :func:`apply` returns the order unchanged. An event that arrives after the device
has moved past it (the carrier's "in transit" scan after the device was received) raises
:class:`StaleEventError`, which a webhook handler may acknowledge and drop; any other event that does not fit
the device's state raises :class:`IllegalTransitionError`. Reusing an event id for a different event raises
:class:`EventConflictError`.

Personal data: the order holds a payout *reference* (a pseudonymous id) and the method only. The payout
details (:class:`BankTransfer`, ...) are validated here but stored separately, so they can be erased
without touching the order or its history. Free-text ``reason`` fields are recorded in the history: they
must not carry personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from grading_questionnaire._evaluate import ConditionReport
from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.pricing import Valuation
from tradein_sdk._domain.quotes import QuoteKind
from tradein_sdk._errors import (
    ActorNotAllowedError,
    CurrencyMismatchError,
    EventConflictError,
    GuardFailedError,
    IllegalTransitionError,
    InspectionInputError,
    InvalidOrderError,
    InvalidPayoutError,
    InvalidPolicyError,
    OrderDeviceNotFoundError,
    QuoteExpiredError,
    StaleEventError,
    questionnaire_errors,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from grading_questionnaire import DiagnosticsResult, Question, Questionnaire
    from tradein_sdk._domain.catalog import DeviceModel
    from tradein_sdk._domain.pricing import PriceBook
    from tradein_sdk._domain.quotes import Quote

# -- vocabularies ---------------------------------------------------------------------------------------


class DeviceState(StrEnum):
    """Where one device of an order is (see the module docstring for each state)."""

    ACCEPTED = "accepted"
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RECEIVED = "received"
    ON_HOLD = "on_hold"
    RELEASED = "released"
    INSPECTED = "inspected"
    CONFIRMED = "confirmed"
    REVISED = "revised"
    MISMATCH = "mismatch"
    REVISION_ACCEPTED = "revision_accepted"
    REVISION_DECLINED = "revision_declined"
    SURRENDERED = "surrendered"
    RETURNING = "returning"
    RETURNED = "returned"
    PAID = "paid"
    CREDITED = "credited"
    RECYCLED = "recycled"
    DISPOSED = "disposed"

    @property
    def rank(self) -> int:
        """The state's place in the partial order of states: the longest path to it from ``accepted``.

        Every transition leads to a state of strictly higher rank, so a device never goes back.
        """
        return _state_ranks()[self]

    @property
    def is_final(self) -> bool:
        """Whether no transition leaves this state."""
        return self not in _sources()


class Actor(StrEnum):
    """Who triggers an event."""

    SHOPPER = "shopper"
    STAFF = "staff"
    PROVIDER = "provider"
    """A carrier or an inspection partner (through its webhook)."""
    SYSTEM = "system"
    """The library or the shop's scheduler (deadlines, automatic decisions)."""


class EventKind(StrEnum):
    """What happened to a device: the name of a transition."""

    ISSUE_LABEL = "issue_label"
    CANCEL = "cancel"
    SHIP = "ship"
    EXPIRE = "expire"
    RECEIVE = "receive"
    HAND_OVER = "hand_over"
    RECEIVE_LATE = "receive_late"
    HOLD = "hold"
    RELEASE = "release"
    SURRENDER = "surrender"
    INSPECT = "inspect"
    CONFIRM = "confirm"
    REVISE = "revise"
    REJECT_MISMATCH = "reject_mismatch"
    ACCEPT_REVISION = "accept_revision"
    DECLINE_REVISION = "decline_revision"
    RESPOND_TIMEOUT = "respond_timeout"
    START_RETURN = "start_return"
    RETURNED = "returned"
    PAY = "pay"
    CREDIT = "credit"
    RECYCLE = "recycle"
    DISPOSE = "dispose"


class Disposition(StrEnum):
    """What the shop does with a device it bought."""

    REFURBISH = "refurbish"
    PARTS = "parts"
    RECYCLE = "recycle"


class PayoutMethod(StrEnum):
    """How the shopper is paid."""

    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"
    PURCHASE_CREDIT = "purchase_credit"
    """Credit on the new device's purchase (an upgrade credit)."""


class HoldReason(StrEnum):
    """Why a received device is held."""

    BLOCKLIST = "blocklist"
    POLICE_REQUEST = "police_request"
    OWNERSHIP_CHECK = "ownership_check"


class SilenceAction(StrEnum):
    """What happens when the shopper does not answer a revised offer in time."""

    RETURN = "return"
    """Treated as declined: the device is sent back free of charge."""
    ACCEPT = "accept"
    """Treated as accepted: the lower offer is paid."""


class MismatchReason(StrEnum):
    """A major mismatch between the device declared and the device received."""

    IMEI_DIFFERS = "imei_differs"
    MODEL_DIFFERS = "model_differs"
    VARIANT_DIFFERS = "variant_differs"
    LOCK_NOT_REMOVABLE = "lock_not_removable"
    BLOCKLISTED = "blocklisted"


class ReminderKind(StrEnum):
    """What a reminder is about."""

    SEND_DEVICE = "send_device"
    RESPOND_TO_REVISION = "respond_to_revision"
    RETURN_OVERDUE = "return_overdue"
    """For staff: a declined device has not been sent back by ``return_by``."""


# -- policy -----------------------------------------------------------------------------------------------

_DAY = timedelta(days=1)


@attrs.frozen(kw_only=True)
class DeliveryPolicy:
    """A shop's deadlines and automatic decisions. The defaults follow common practice.

    Deadlines are exact durations after the event that starts them (a label issued at 10:00 UTC gives a
    send-by deadline 14 days later at 10:00 UTC).

    Attributes:
        send_by_days: days from the label to the send-by deadline (1-60; platforms use 14-21).
        respond_by_days: days the shopper has to answer a revised offer (1-30; platforms use 7-14).
        return_within_days: days the shop has to send a declined device back (1-30).
        send_reminders: how long before the send-by deadline the shopper is reminded.
        respond_reminders: how long before the respond-by deadline the shopper is reminded.
        expiry_grace: how long after the send-by deadline an unsent device expires.
        on_silence: what an unanswered revised offer becomes.

    Raises:
        InvalidPolicyError: a setting is out of range; ``field`` names it.
    """

    send_by_days: int = 14
    respond_by_days: int = 7
    return_within_days: int = 2
    send_reminders: tuple[timedelta, ...] = (3 * _DAY, _DAY)
    respond_reminders: tuple[timedelta, ...] = (3 * _DAY, _DAY)
    expiry_grace: timedelta = timedelta(0)
    on_silence: SilenceAction = SilenceAction.RETURN

    def __attrs_post_init__(self) -> None:
        """Check every setting."""
        for field, value, maximum in (
            ("send_by_days", self.send_by_days, 60),
            ("respond_by_days", self.respond_by_days, 30),
            ("return_within_days", self.return_within_days, 30),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
                raise InvalidPolicyError(
                    "{field} must be a whole number of days from 1 to {maximum}, not {value!r}",
                    field=field,
                    maximum=maximum,
                    value=value,
                )
        for field, offsets, window in (
            ("send_reminders", self.send_reminders, self.send_by_days),
            ("respond_reminders", self.respond_reminders, self.respond_by_days),
        ):
            if any(not timedelta(0) < offset < window * _DAY for offset in offsets):
                raise InvalidPolicyError(
                    "{field}: each reminder must come after the window opens and before its deadline",
                    field=field,
                )
        if self.expiry_grace < timedelta(0):
            raise InvalidPolicyError("expiry_grace must not be negative", field="expiry_grace")

    @property
    def send_window(self) -> timedelta:
        """The time from the label to the send-by deadline."""
        return self.send_by_days * _DAY

    @property
    def respond_window(self) -> timedelta:
        """The time the shopper has to answer a revised offer."""
        return self.respond_by_days * _DAY

    @property
    def return_window(self) -> timedelta:
        """The time the shop has to send a declined device back."""
        return self.return_within_days * _DAY


DEFAULT_POLICY: Final = DeliveryPolicy()
"""14 days to send, 7 days to answer a revision, reminders 3 days and 1 day before, return on silence."""


# -- payout data ------------------------------------------------------------------------------------------

_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")
_BBAN_PART = re.compile(r"(\d+)!?[nac]")


def _compact(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayoutError(
            N_("Please enter the {label}."), field=field, rule="empty", label=field.upper()
        )
    return re.sub(r"[\s.-]", "", value).upper()


def _checked_iban(value: object) -> str:
    """Validate an IBAN and return it compact; see :class:`BankTransfer` for the rules."""
    from stdnum import iban, numdb  # noqa: PLC0415 - loaded on first use
    from stdnum.exceptions import InvalidChecksum, ValidationError  # noqa: PLC0415

    number = _compact(value, "iban")
    if not _IBAN_SHAPE.fullmatch(number):
        raise InvalidPayoutError(
            N_("An IBAN starts with a country code and two check digits, followed by letters and digits."),
            field="iban",
            rule="format",
        )
    info = numdb.get("iban").info(number[:2])[0][1]
    if not info:
        raise InvalidPayoutError(
            N_("IBANs from {country} are not accepted."), field="iban", rule="country", country=number[:2]
        )
    length = 4 + sum(int(size) for size in _BBAN_PART.findall(info["bban"]))
    if len(number) != length:
        raise InvalidPayoutError(
            N_("An IBAN from {country} has {length} characters."),
            field="iban",
            rule="length",
            country=number[:2],
            length=length,
        )
    try:
        return str(iban.validate(number))
    except InvalidChecksum as exc:
        raise InvalidPayoutError(
            N_("This IBAN contains a typing error: its check digits do not match."),
            field="iban",
            rule="checksum",
        ) from exc
    except ValidationError as exc:
        raise InvalidPayoutError(
            N_("This is not a valid IBAN for {country}."), field="iban", rule="format", country=number[:2]
        ) from exc


def _checked_bic(value: object) -> str | None:
    """Validate a BIC (optional: SEPA transfers do not need one) and return it compact."""
    if value is None:
        return None
    from stdnum import bic  # noqa: PLC0415
    from stdnum.exceptions import InvalidComponent, InvalidLength, ValidationError  # noqa: PLC0415

    number = _compact(value, "bic")
    try:
        return str(bic.validate(number))
    except InvalidLength as exc:
        raise InvalidPayoutError(N_("A BIC has 8 or 11 characters."), field="bic", rule="length") from exc
    except InvalidComponent as exc:
        raise InvalidPayoutError(
            N_("This BIC names an unknown country."), field="bic", rule="country"
        ) from exc
    except ValidationError as exc:
        raise InvalidPayoutError(
            N_("A BIC has four letters for the bank, two for the country, then letters or digits."),
            field="bic",
            rule="format",
        ) from exc


def _checked_text(value: object, field: str, message_id: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayoutError(message_id, field=field, rule="empty")
    return " ".join(value.split())


def _checked_holder(value: object) -> str:
    return _checked_text(value, "holder", N_("Please enter the account holder's name."))


def _checked_program(value: object) -> str:
    return _checked_text(value, "program", N_("Please choose a voucher."))


def _checked_purchase(value: object) -> str:
    return _checked_text(value, "purchase_reference", N_("Please name the purchase to credit."))


def _checked_reference(value: object) -> str:
    return _checked_text(value, "reference", "a payout reference must not be empty")


@attrs.frozen(kw_only=True, repr=False)
class BankTransfer:
    """Bank details for a payout: personal data, to be stored apart from the order and erasable.

    Building one validates it: the IBAN (``stdnum.iban``: country, length, check digits, national format),
    the BIC when given (``stdnum.bic``) and the holder's name. Spaces are removed and letters upper-cased.

    Attributes:
        iban: the IBAN, compact (``DE89370400440532013000``).
        holder: the account holder's name.
        bic: the BIC, or ``None`` (not needed for SEPA transfers).

    Raises:
        InvalidPayoutError: ``field`` is ``iban``, ``bic`` or ``holder``; ``rule`` is ``empty``,
            ``format``, ``country``, ``length`` or ``checksum``.
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.BANK_TRANSFER

    iban: str = attrs.field(converter=_checked_iban)
    holder: str = attrs.field(converter=_checked_holder)
    bic: str | None = attrs.field(default=None, converter=_checked_bic)

    @property
    def masked_iban(self) -> str:
        """The IBAN for display with all but the country, check digits and last four hidden."""
        return f"{self.iban[:4]} {'•' * (len(self.iban) - 8)} {self.iban[-4:]}"

    def __repr__(self) -> str:
        """Return a representation that keeps the account number out of logs."""
        return f"BankTransfer(iban={self.masked_iban!r}, holder='…', bic={self.bic!r})"


@attrs.frozen(kw_only=True)
class Voucher:
    """Payout as a voucher or gift card of a programme the shop offers.

    Attributes:
        program: the voucher programme's id.

    Raises:
        InvalidPayoutError: the programme is empty (``field`` ``program``).
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.VOUCHER

    program: str = attrs.field(converter=_checked_program)


@attrs.frozen(kw_only=True)
class PurchaseCredit:
    """Payout as credit on the purchase of the new device.

    Attributes:
        purchase_reference: the shop's reference of the purchase (its order number).

    Raises:
        InvalidPayoutError: the reference is empty (``field`` ``purchase_reference``).
    """

    method: ClassVar[PayoutMethod] = PayoutMethod.PURCHASE_CREDIT

    purchase_reference: str = attrs.field(converter=_checked_purchase)


PayoutDetails = BankTransfer | Voucher | PurchaseCredit
"""Validated payout details: stored apart from the order, under a :class:`PayoutRef`."""


@attrs.frozen(kw_only=True)
class PayoutRef:
    """What an order knows about a payout: the method and a pseudonymous reference to the stored details.

    Attributes:
        method: how the shopper is paid.
        reference: the id under which the shop stores the details (no personal data).

    Raises:
        InvalidPayoutError: the reference is empty.
    """

    method: PayoutMethod = attrs.field(converter=PayoutMethod)
    reference: str = attrs.field(converter=_checked_reference)


def payout_ref(details: PayoutDetails, *, reference: str) -> PayoutRef:
    """Return the reference an order keeps for validated payout details.

    Args:
        details: the validated details.
        reference: the pseudonymous id under which the shop stores them (generated by the shop).

    Returns:
        The method and the reference.

    Raises:
        InvalidPayoutError: the reference is empty.
    """
    return PayoutRef(method=details.method, reference=reference)


# -- inspection -------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InspectionResult:
    """What an order records of an inspection: amounts and codes only, no answers or texts.

    Attributes:
        offer: the revised offer, ``min(quoted amount, inspected value)``.
        inspected_value: the value of the device with the inspector's answers.
        mismatch: the major mismatches found (empty: none).
        differences: the ids of the questions whose answers differ.
    """

    offer: Money
    inspected_value: Money
    mismatch: tuple[MismatchReason, ...] = ()
    differences: tuple[str, ...] = ()

    @property
    def major_mismatch(self) -> bool:
        """Whether a major mismatch was found."""
        return bool(self.mismatch)


@attrs.frozen(kw_only=True)
class QuestionDiff:
    """One question, as the shopper declared it and as the inspector found it.

    Attributes:
        question: the question id.
        text: the question in the diff's locale.
        shopper_answer: the shopper's answer, ``None`` when the shopper was not asked (a check only staff
            make, or a question the shopper's other answers hid).
        shopper_answer_text: the shopper's answer as shown, or "not declared".
        inspector_answer: the inspector's answer, ``None`` when the question does not apply.
        inspector_answer_text: the inspector's answer as shown, or "not applicable".
        matches: whether the answers agree (a question the shopper was not asked counts as declared at its
            most favourable answer).
        price_impact: what this difference changed in the value (negative: lowered it); zero when matched.
        explanation: one sentence for the shopper, in the diff's locale.
    """

    question: str
    text: str
    shopper_answer: Any  # an AnswerValue: bool, str, tuple of option ids or a number
    shopper_answer_text: str
    inspector_answer: Any
    inspector_answer_text: str
    matches: bool
    price_impact: Money
    explanation: str


@attrs.frozen(kw_only=True)
class InspectionDiff:
    """The inspection of one device against its quote, question by question, with the price impact of each.

    The price impacts are a *waterfall in questionnaire order*: starting from the answers the shopper
    declared, each differing answer is replaced by the inspector's, one question at a time in the order the
    questionnaire asks them, and the device is valued after each step with the quote's price book, device
    and price date. A question's impact is the change of value its replacement caused, given the
    replacements before it, so the impacts add up exactly to ``inspected_value - declared_value``. A question
    the shopper was not asked counts as declared at its most favourable answer (the quote assumed that staff
    checks would pass). Therefore::

        quoted + basis_adjustment + sum(price impacts) + cap_adjustment == revised_offer

    where ``basis_adjustment = declared_value - quoted`` (zero unless the quote carried something the
    answers do not explain) and ``cap_adjustment = revised_offer - inspected_value`` (non-zero only when the
    inspector's answers are worth more than the quote: the offer never rises above it).

    Attributes:
        quote_id: the quote inspected against.
        locale: the locale of the texts.
        quoted: the quoted amount.
        declared_value: the value of the shopper's answers, priced as at the quote.
        inspected_value: the value of the inspector's answers, priced as at the quote.
        revised_offer: ``min(quoted, inspected_value)``.
        questions: every question either side answered, in questionnaire order.
        mismatch: the major mismatches found.
        mismatch_texts: an explanation of each, in the diff's locale.
        report: the inspector's condition report.
        valuation: the valuation of the inspector's answers.
    """

    quote_id: str
    locale: str
    quoted: Money
    declared_value: Money
    inspected_value: Money
    revised_offer: Money
    questions: tuple[QuestionDiff, ...]
    mismatch: tuple[MismatchReason, ...] = ()
    mismatch_texts: tuple[str, ...] = ()
    report: ConditionReport = attrs.field(eq=False, repr=False)
    valuation: Valuation = attrs.field(eq=False, repr=False)

    @property
    def differences(self) -> tuple[QuestionDiff, ...]:
        """The questions whose answers differ."""
        return tuple(question for question in self.questions if not question.matches)

    @property
    def basis_adjustment(self) -> Money:
        """``declared_value - quoted``: zero when the quote is the value of the declared answers."""
        return self.declared_value - self.quoted

    @property
    def cap_adjustment(self) -> Money:
        """``revised_offer - inspected_value``: what the quote's cap took off (zero or negative)."""
        return self.revised_offer - self.inspected_value

    @property
    def major_mismatch(self) -> bool:
        """Whether a major mismatch was found."""
        return bool(self.mismatch)

    @property
    def result(self) -> InspectionResult:
        """What the order records (the payload of an ``inspect`` event)."""
        return InspectionResult(
            offer=self.revised_offer,
            inspected_value=self.inspected_value,
            mismatch=self.mismatch,
            differences=tuple(question.question for question in self.differences),
        )


_ABSENT: Final[Any] = object()

_MISMATCH_MESSAGES: Final = {
    MismatchReason.IMEI_DIFFERS: N_("The device received has another IMEI than the one declared."),
    MismatchReason.MODEL_DIFFERS: N_("The device received is another model than the one declared."),
    MismatchReason.VARIANT_DIFFERS: N_("The device received has another storage size than the one declared."),
    MismatchReason.LOCK_NOT_REMOVABLE: N_(
        "The device is still locked to an account, and the lock cannot be removed."
    ),
    MismatchReason.BLOCKLISTED: N_("The device is reported lost or stolen."),
}
_NOT_DECLARED = N_("not declared")
_NOT_APPLICABLE = N_("not applicable")
_AS_DECLARED = N_("As declared.")
_CHECKED_OK = N_("Checked at inspection: no issue found.")
_LOWERS = N_("Declared: {declared}. Found at inspection: {found}. This lowers the value by {amount}.")
_RAISES = N_("Declared: {declared}. Found at inspection: {found}. This raises the value by {amount}.")
_NO_CHANGE = N_("Declared: {declared}. Found at inspection: {found}. This does not change the value.")


def _favourable(question: Question) -> Any:  # noqa: ANN401 - an AnswerValue of the question's kind
    """The most favourable answer to ``question``: what a passing check or a flawless device answers."""
    from grading_questionnaire import QuestionKind, Worse  # noqa: PLC0415

    if question.kind is QuestionKind.YES_NO:
        return question.worse is not Worse.YES
    if question.kind is QuestionKind.SINGLE_CHOICE:
        return question.option_ids[0]
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return question.option_ids if question.worse is Worse.FEWER else ()
    number = question.number
    assert number is not None  # noqa: S101 - a number question has a range
    value = number.minimum if question.worse is Worse.HIGHER else number.maximum
    return int(value) if number.integer else value


def _normalized(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in answers.items()}


def _check_inspection_inputs(quote: Quote, questionnaire: Questionnaire, book: PriceBook) -> DeviceModel:
    from tradein_sdk._domain.catalog import DeviceModel  # noqa: PLC0415
    from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415

    if questionnaire.content_hash != quote.questionnaire.content_hash:
        raise InspectionInputError(
            "questionnaire {given} is not the one quote {quote_id} was answered with ({expected})",
            field="questionnaire",
            given=questionnaire.content_hash,
            quote_id=quote.id,
            expected=quote.questionnaire.content_hash,
        )
    if book.content_hash != quote.pricebook.content_hash:
        raise InspectionInputError(
            "price book {given} is not the one quote {quote_id} was priced with ({expected})",
            field="pricebook",
            given=book.content_hash,
            quote_id=quote.id,
            expected=quote.pricebook.content_hash,
        )
    model: DeviceModel = json_converter().structure(dict(quote.device.model), DeviceModel)
    return model


def _mismatches(
    quote: Quote,
    model: DeviceModel,
    report: ConditionReport,
    *,
    observed_imei: str | None,
    observed_variant_id: str | None,
    lock_removable: bool,
) -> tuple[MismatchReason, ...]:
    from grading_questionnaire import LockStatus  # noqa: PLC0415

    found: list[MismatchReason] = []
    declared_imei = quote.device.imei
    if (
        observed_imei is not None
        and declared_imei is not None
        and re.sub(r"\D", "", observed_imei) != re.sub(r"\D", "", declared_imei)
    ):
        found.append(MismatchReason.IMEI_DIFFERS)
    if observed_variant_id is not None and observed_variant_id != quote.device.variant_id:
        same_model = any(variant.id == observed_variant_id for variant in model.variants)
        found.append(MismatchReason.VARIANT_DIFFERS if same_model else MismatchReason.MODEL_DIFFERS)
    if report.lock is LockStatus.ACCOUNT_LOCKED and not lock_removable:
        found.append(MismatchReason.LOCK_NOT_REMOVABLE)
    if report.lock is LockStatus.BLOCKLISTED:
        found.append(MismatchReason.BLOCKLISTED)
    return tuple(found)


class _Waterfall:
    """Values the answers step by step, from the declared ones to the inspector's (see InspectionDiff)."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        declared: Mapping[str, Any],
        found: Mapping[str, Any],
        value: Callable[[ConditionReport], Money],
    ) -> None:
        from grading_questionnaire import QuestionKind  # noqa: PLC0415
        from grading_questionnaire._conditions import compile_condition  # noqa: PLC0415

        self.questionnaire = questionnaire
        self.declared = declared
        self.found = found
        self.value = value
        ranks = {
            question.id: {option: rank for rank, option in enumerate(question.option_ids)}
            for question in questionnaire.questions
            if question.kind is QuestionKind.SINGLE_CHOICE
        }
        self.shown = {
            question.id: compile_condition(question.show_if, ranks)
            for question in questionnaire.questions
            if question.show_if is not None
        }

    def declared_view(self, question: Question) -> Any:  # noqa: ANN401 - an answer value or _ABSENT
        """The declared answer, or the favourable one for a required question the shopper was not asked."""
        if question.id in self.declared:
            return self.declared[question.id]
        return _favourable(question) if question.required else _ABSENT

    def answers(self, walked: frozenset[str]) -> dict[str, Any]:
        """The inspector's answers to the ``walked`` questions and the declared ones to the rest."""
        fitted: dict[str, Any] = {}
        for question in self.questionnaire.questions:
            shown = self.shown.get(question.id)
            if shown is not None and not shown(fitted):
                continue
            if question.id in walked:
                chosen = self.found.get(question.id, _ABSENT)
            else:
                chosen = self.declared_view(question)
            if chosen is not _ABSENT:
                fitted[question.id] = chosen
        return fitted

    def values(self, differing: Sequence[str]) -> list[Money]:
        """The value before any step and after each step but the last."""
        from grading_questionnaire import VerificationDepth  # noqa: PLC0415

        values = []
        for step in range(len(differing)):
            answers = self.answers(frozenset(differing[:step]))
            with questionnaire_errors():
                report = self.questionnaire.evaluate(answers, verification=VerificationDepth.STAFF_VERIFIED)
            values.append(self.value(report))
        return values


def inspect_device(
    quote: Quote,
    inspector_answers: Mapping[str, Any],
    *,
    questionnaire: Questionnaire,
    book: PriceBook,
    locale: str,
    observed_imei: str | None = None,
    observed_variant_id: str | None = None,
    lock_removable: bool = False,
    diagnostics: DiagnosticsResult | None = None,
) -> InspectionDiff:
    """Diff an inspection against the quote, question by question, and compute the revised offer.

    The inspector answers the same questionnaire (every question, staff checks included). Both sides are
    priced with :func:`~tradein_sdk.value_device`, the quote's price book, device and price date, so only
    the condition can change the amount; the revised offer is never above the quote. See
    :class:`InspectionDiff` for how each difference's price impact is computed.

    Args:
        quote: the quote the shopper accepted.
        inspector_answers: the inspector's answers document.
        questionnaire: the questionnaire the quote was answered with (same content hash).
        book: the price book the quote was priced with (same content hash).
        locale: the shopper's locale for every text of the diff.
        observed_imei: the IMEI read from the device, compared with the quote's when both are known.
        observed_variant_id: the catalog variant the device turned out to be.
        lock_removable: whether an account lock found can still be removed (the shopper was reached and can
            remove it remotely); a lock that cannot is a major mismatch.
        diagnostics: automated test results, merged into the inspector's answers as measured.

    Returns:
        The diff; ``diff.result`` is the payload of the ``inspect`` event.

    Raises:
        InspectionInputError: the questionnaire or price book is not the quote's.
        AnswersInvalidError: the inspector's answers do not fit the questionnaire.
        UnsupportedLocaleError: the locale is unknown.
        PriceUnavailableError: the price book cannot price the device.
    """
    from grading_questionnaire import Audience, VerificationDepth  # noqa: PLC0415
    from tradein_sdk._domain.pricing import value_device  # noqa: PLC0415

    model = _check_inspection_inputs(quote, questionnaire, book)
    variant = next(variant for variant in model.variants if variant.id == quote.device.variant_id)
    with questionnaire_errors():
        report = questionnaire.evaluate(
            inspector_answers, verification=VerificationDepth.STAFF_VERIFIED, diagnostics=diagnostics
        )
        rendered = questionnaire.render(locale, audience=Audience.STAFF)

    def value(of: ConditionReport) -> Money:
        return value_device(book, model=model, variant=variant, report=of, as_of=quote.price_date).total

    valuation = value_device(book, model=model, variant=variant, report=report, as_of=quote.price_date)
    declared, found = _normalized(quote.answers), _normalized(report.answers)
    walk = _Waterfall(questionnaire, declared, found, value)
    asked = [
        question for question in questionnaire.questions if question.id in declared or question.id in found
    ]
    differing = [
        question.id for question in asked if walk.declared_view(question) != found.get(question.id, _ABSENT)
    ]
    values = [*walk.values(differing), valuation.total]
    impacts = {question: values[index + 1] - values[index] for index, question in enumerate(differing)}
    declared_value = values[0]
    zero = Money.zero(quote.amount.currency)
    shopper_texts = {entry.question: entry.answer_text for entry in rendered.transcript(declared)}
    inspector_texts = {entry.question: entry.answer_text for entry in rendered.transcript(found)}
    mismatch = _mismatches(
        quote,
        model,
        report,
        observed_imei=observed_imei,
        observed_variant_id=observed_variant_id,
        lock_removable=lock_removable,
    )
    texts = {question.id: question.text for section in rendered.sections for question in section.questions}
    return InspectionDiff(
        quote_id=quote.id,
        locale=rendered.locale,
        quoted=quote.amount,
        declared_value=declared_value,
        inspected_value=valuation.total,
        revised_offer=min(quote.amount, valuation.total),
        questions=tuple(
            _question_diff(
                questionnaire,
                rendered.locale,
                question_id=question.id,
                text=texts[question.id],
                shopper=(declared.get(question.id), shopper_texts.get(question.id)),
                inspector=(found.get(question.id), inspector_texts.get(question.id)),
                matches=question.id not in impacts,
                impact=impacts.get(question.id, zero),
            )
            for question in asked
        ),
        mismatch=mismatch,
        mismatch_texts=tuple(
            questionnaire.translate(_MISMATCH_MESSAGES[reason], rendered.locale) for reason in mismatch
        ),
        report=report,
        valuation=valuation,
    )


def _question_diff(
    questionnaire: Questionnaire,
    locale: str,
    *,
    question_id: str,
    text: str,
    shopper: tuple[Any, str | None],
    inspector: tuple[Any, str | None],
    matches: bool,
    impact: Money,
) -> QuestionDiff:
    """One row of the diff."""
    shopper_answer, shopper_text = shopper
    inspector_answer, inspector_text = inspector
    declared = shopper_text or questionnaire.translate(_NOT_DECLARED, locale)
    found = inspector_text or questionnaire.translate(_NOT_APPLICABLE, locale)
    if matches:
        explanation = questionnaire.translate(_CHECKED_OK if shopper_text is None else _AS_DECLARED, locale)
    else:
        message = _NO_CHANGE if impact.is_zero() else _LOWERS if impact.amount < 0 else _RAISES
        explanation = translate(
            message,
            locale,
            questionnaire.extra_locale_dirs,
            declared=declared,
            found=found,
            amount=abs(impact).format(locale),
        )
    return QuestionDiff(
        question=question_id,
        text=text,
        shopper_answer=shopper_answer,
        shopper_answer_text=declared,
        inspector_answer=inspector_answer,
        inspector_answer_text=found,
        matches=matches,
        price_impact=impact,
        explanation=explanation,
    )


# -- orders -----------------------------------------------------------------------------------------------


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@attrs.frozen(kw_only=True)
class DeviceEvent:
    """Something that happened to one device of an order: the input of :func:`apply`.

    Attributes:
        id: unique per event; a repeated delivery carries the same id and is ignored.
        kind: what happened.
        device_id: the device of the order.
        actor: who triggered it.
        occurred_at: when it happened at its source (a carrier scan), when that is earlier than its arrival;
            windows are checked against it (never later than ``now``).
        reason: why, where a guard asks for one (a staff override, a surrender); no personal data.
        tracking: a carrier tracking number.
        hold_reason: why the device is held (``hold``).
        inspection: the inspection's result (``inspect``), see :attr:`InspectionDiff.result`.
        payout: the payout to use (``pay``, ``credit``); the order's default when ``None``.
        disposition: what the shop does with a device it bought (``dispose``).
    """

    id: str
    kind: EventKind = attrs.field(converter=EventKind)
    device_id: str
    actor: Actor = attrs.field(converter=Actor)
    occurred_at: datetime | None = attrs.field(default=None, converter=_utc_or_none)
    reason: str | None = None
    tracking: str | None = None
    hold_reason: HoldReason | None = None
    inspection: InspectionResult | None = None
    payout: PayoutRef | None = None
    disposition: Disposition | None = None


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One applied event in a device's history, which only ever grows.

    Attributes:
        event_id: the event's id.
        kind: what happened.
        actor: who triggered it.
        at: when it was applied (UTC).
        from_state: the state before.
        to_state: the state after.
        details: what the transition recorded, as text (deadlines, offer, payout reference, reason, ...);
            never personal data.
    """

    event_id: str
    kind: EventKind
    actor: Actor
    at: datetime
    from_state: DeviceState
    to_state: DeviceState
    details: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class OrderDevice:
    """One device of an order, with its own quote, state, deadlines and history.

    Attributes:
        id: the device's id within the order (``d1``, ``d2``, ...).
        quote_id: the quote it was accepted with.
        variant_id: the catalog variant quoted.
        guaranteed: whether the quote was guaranteed (checked in store): it can be confirmed without an
            inspection.
        quoted: the quoted amount.
        offer: the current offer: the quoted amount until an inspection revises it (never above it).
        upfront_credit: what the shopper was already credited at checkout for it (instant credit).
        state: where the device is.
        send_by: the send-by deadline, once a label was issued.
        respond_by: the deadline to answer a revised offer.
        return_by: the deadline for the shop to send a declined device back.
        inspection: the inspection's result, once inspected.
        hold_reason: why it was held, if it was.
        payout: the payout used, once paid or credited.
        settled: the amount paid or credited at settlement (the offer less the upfront credit, not below
            zero).
        disposition: what the shop did with it after buying it.
        history: every applied event, oldest first.
    """

    id: str
    quote_id: str
    variant_id: str
    guaranteed: bool = False
    quoted: Money
    offer: Money
    upfront_credit: Money
    state: DeviceState = DeviceState.ACCEPTED
    send_by: datetime | None = None
    respond_by: datetime | None = None
    return_by: datetime | None = None
    inspection: InspectionResult | None = None
    hold_reason: HoldReason | None = None
    payout: PayoutRef | None = None
    settled: Money | None = None
    disposition: Disposition | None = None
    history: tuple[HistoryEntry, ...] = ()


@attrs.frozen(kw_only=True)
class TradeInOrder:
    """A trade-in order of one or more devices. Immutable: :func:`apply` returns a new order.

    Attributes:
        id: the order's id.
        currency: the currency of every amount.
        created_at: when it was opened (UTC).
        payout: the default payout for ``pay`` and ``credit`` events (a reference, no personal data).
        devices: its devices.
    """

    id: str
    currency: str
    created_at: datetime
    payout: PayoutRef | None = None
    devices: tuple[OrderDevice, ...]

    def device(self, device_id: str) -> OrderDevice:
        """Return one device of the order.

        Args:
            device_id: the device's id within the order.

        Returns:
            The device.

        Raises:
            OrderDeviceNotFoundError: the order has no such device.
        """
        for device in self.devices:
            if device.id == device_id:
                return device
        raise OrderDeviceNotFoundError(self.id, device_id)

    def recorded(self, event_id: str) -> tuple[OrderDevice, HistoryEntry] | None:
        """Return the device and history entry of an applied event, or ``None`` when it was never applied.

        Args:
            event_id: the event's id.

        Returns:
            The device and its entry, or ``None``.
        """
        for device in self.devices:
            for entry in device.history:
                if entry.event_id == event_id:
                    return device, entry
        return None

    @property
    def history(self) -> tuple[tuple[str, HistoryEntry], ...]:
        """Every device's history merged, as ``(device_id, entry)`` by time applied (ties in device order)."""
        entries = [(device.id, entry) for device in self.devices for entry in device.history]
        return tuple(sorted(entries, key=lambda item: item[1].at))

    @property
    def is_closed(self) -> bool:
        """Whether every device is in a final state."""
        return all(device.state.is_final for device in self.devices)


def open_order(
    *,
    order_id: str,
    quotes: Sequence[Quote],
    now: datetime,
    payout: PayoutRef | None = None,
    instant_credit: bool = False,
) -> TradeInOrder:
    """Open an order for the devices of some accepted quotes, each device ``accepted``.

    Args:
        order_id: the order's id.
        quotes: one quote per device, all in one currency and valid at ``now``.
        now: the current time.
        payout: the default payout (a reference to details stored apart).
        instant_credit: whether each quoted amount was credited upfront at checkout; it is clawed back in
            whole or in part when a device is not bought at that amount (see :func:`order_outcome`).

    Returns:
        The new order; its devices are ``d1``, ``d2``, ... in the order of ``quotes``.

    Raises:
        InvalidOrderError: no quotes, or a quote given twice.
        CurrencyMismatchError: the quotes are in different currencies.
        QuoteExpiredError: a quote's validity ended.
    """
    now = as_utc(now)
    if not quotes:
        raise InvalidOrderError("an order needs at least one device")
    currency = quotes[0].amount.currency
    seen: set[str] = set()
    for quote in quotes:
        if quote.id in seen:
            raise InvalidOrderError("quote {quote_id} is given twice", quote_id=quote.id)
        seen.add(quote.id)
        if quote.amount.currency != currency:
            raise CurrencyMismatchError(currency, quote.amount.currency)
        if now > quote.expires_at:
            raise QuoteExpiredError(quote.id)
    zero = Money.zero(currency)
    return TradeInOrder(
        id=order_id,
        currency=currency,
        created_at=now,
        payout=payout,
        devices=tuple(
            OrderDevice(
                id=f"d{index}",
                quote_id=quote.id,
                variant_id=quote.device.variant_id,
                guaranteed=quote.kind is QuoteKind.GUARANTEED,
                quoted=quote.amount,
                offer=quote.amount,
                upfront_credit=quote.amount if instant_credit else zero,
            )
            for index, quote in enumerate(quotes, start=1)
        ),
    )


# -- the transition table ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GuardContext:
    """What a guard or an effect sees.

    Attributes:
        order: the order before the event.
        device: the device before the event.
        event: the event.
        now: the current time (UTC).
        policy: the shop's delivery policy.
    """

    order: TradeInOrder
    device: OrderDevice
    event: DeviceEvent
    now: datetime
    policy: DeliveryPolicy

    @property
    def moment(self) -> datetime:
        """When the event happened: its ``occurred_at``, but never later than ``now``."""
        occurred = self.event.occurred_at
        return self.now if occurred is None else min(occurred, self.now)

    @property
    def payout(self) -> PayoutRef | None:
        """The payout the event names, else the order's default."""
        return self.event.payout or self.order.payout


@attrs.frozen(kw_only=True)
class Guard:
    """A condition a transition needs.

    Attributes:
        name: its stable name (``send_window_open``), the ``guard`` of :class:`GuardFailedError`.
        message: the English explanation when it fails, a gettext msgid.
        check: the condition.
    """

    name: str
    message: str
    check: Callable[[GuardContext], bool] = attrs.field(eq=False, repr=False)


def _no_effect(_: GuardContext) -> Mapping[str, Any]:
    return {}


@attrs.frozen(kw_only=True)
class Transition:
    """One row of the transition table.

    Attributes:
        event: the event that triggers it.
        sources: the states it leaves from.
        target: the state it leads to.
        actors: who may trigger it.
        guards: what must hold, checked in order.
        records: the device fields it sets besides the state and the history.
        description: what it means, in English.
        effect: computes the fields it sets.
    """

    event: EventKind
    sources: tuple[DeviceState, ...]
    target: DeviceState
    actors: tuple[Actor, ...]
    guards: tuple[Guard, ...] = ()
    records: tuple[str, ...] = ()
    description: str
    effect: Callable[[GuardContext], Mapping[str, Any]] = attrs.field(
        default=_no_effect, eq=False, repr=False
    )


def _expires_at(device: OrderDevice, policy: DeliveryPolicy) -> datetime:
    """When an unsent device expires: the send-by deadline plus the grace."""
    return (device.send_by or device.history[-1].at) + policy.expiry_grace


def _reason_given(ctx: GuardContext) -> bool:
    return bool(ctx.event.reason and ctx.event.reason.strip())


def _offer_not_above_quote(ctx: GuardContext) -> bool:
    inspection = ctx.event.inspection
    return (
        inspection is not None
        and inspection.offer.currency == ctx.device.quoted.currency
        and inspection.offer <= ctx.device.quoted
    )


def _matches_quote(ctx: GuardContext) -> bool:
    inspection = ctx.device.inspection
    if inspection is None:
        return ctx.device.guaranteed
    return not inspection.major_mismatch and inspection.offer == ctx.device.quoted


def _below_quote(ctx: GuardContext) -> bool:
    inspection = ctx.device.inspection
    return inspection is not None and not inspection.major_mismatch and inspection.offer < ctx.device.quoted


def _payout_is(*methods: PayoutMethod) -> Callable[[GuardContext], bool]:
    return lambda ctx: ctx.payout is not None and ctx.payout.method in methods


def _settlement(ctx: GuardContext) -> Mapping[str, Any]:
    device = ctx.device
    owed = device.offer - device.upfront_credit
    return {"payout": ctx.payout, "settled": max(owed, Money.zero(owed.currency))}


SEND_WINDOW_OPEN = Guard(
    name="send_window_open",
    message=N_("The date to send the device by has passed."),
    check=lambda ctx: ctx.moment <= _expires_at(ctx.device, ctx.policy),
)
SEND_WINDOW_CLOSED = Guard(
    name="send_window_closed",
    message=N_("The date to send the device by has not passed yet."),
    check=lambda ctx: ctx.now >= _expires_at(ctx.device, ctx.policy),
)
REASON_GIVEN = Guard(name="reason_given", message=N_("Please give a reason."), check=_reason_given)
STAFF_GIVES_REASON = Guard(
    name="staff_gives_reason",
    message=N_("Staff acting on the shopper's behalf must give a reason."),
    check=lambda ctx: ctx.event.actor is not Actor.STAFF or _reason_given(ctx),
)
HOLD_REASON_GIVEN = Guard(
    name="hold_reason_given",
    message=N_("Please say why the device is held."),
    check=lambda ctx: ctx.event.hold_reason is not None,
)
OFFER_NOT_ABOVE_QUOTE = Guard(
    name="offer_not_above_quote",
    message=N_("An inspection result is needed, and its offer is never above the quote."),
    check=_offer_not_above_quote,
)
MATCHES_QUOTE = Guard(
    name="matches_quote",
    message=N_("The quoted amount is confirmed only by a matching inspection or a guaranteed quote."),
    check=_matches_quote,
)
BELOW_QUOTE = Guard(
    name="offer_below_quote",
    message=N_("The inspection gives no lower offer to make."),
    check=_below_quote,
)
MAJOR_MISMATCH = Guard(
    name="major_mismatch",
    message=N_("The inspection found no major mismatch."),
    check=lambda ctx: ctx.device.inspection is not None and ctx.device.inspection.major_mismatch,
)
RESPOND_WINDOW_OPEN = Guard(
    name="respond_window_open",
    message=N_("The time to answer the revised offer has passed."),
    check=lambda ctx: ctx.device.respond_by is not None and ctx.moment <= ctx.device.respond_by,
)
RESPOND_WINDOW_CLOSED = Guard(
    name="respond_window_closed",
    message=N_("The time to answer the revised offer has not passed yet."),
    check=lambda ctx: ctx.device.respond_by is not None and ctx.now >= ctx.device.respond_by,
)
SILENCE_MEANS_RETURN = Guard(
    name="silence_means_return",
    message=N_("The shop's policy does not return a device on silence."),
    check=lambda ctx: ctx.policy.on_silence is SilenceAction.RETURN,
)
SILENCE_MEANS_ACCEPT = Guard(
    name="silence_means_accept",
    message=N_("The shop's policy does not accept a revised offer on silence."),
    check=lambda ctx: ctx.policy.on_silence is SilenceAction.ACCEPT,
)
HAS_VALUE = Guard(
    name="has_value",
    message=N_("The device has no value to pay out; it can be recycled free of charge."),
    check=lambda ctx: ctx.device.offer.amount > 0,
)
BANK_TRANSFER_CHOSEN = Guard(
    name="bank_transfer_chosen",
    message=N_("Please choose a bank account for the payout."),
    check=_payout_is(PayoutMethod.BANK_TRANSFER),
)
CREDIT_CHOSEN = Guard(
    name="credit_chosen",
    message=N_("Please choose a voucher or a credit on your purchase for the payout."),
    check=_payout_is(PayoutMethod.VOUCHER, PayoutMethod.PURCHASE_CREDIT),
)
NO_VALUE_OR_MISMATCH = Guard(
    name="no_value_or_mismatch",
    message=N_("A device with a value is paid for, not recycled."),
    check=lambda ctx: ctx.device.state is DeviceState.MISMATCH or ctx.device.offer.is_zero(),
)
DISPOSITION_GIVEN = Guard(
    name="disposition_given",
    message=N_("Please say whether the device is refurbished, used for parts or recycled."),
    check=lambda ctx: ctx.event.disposition is not None,
)

_S = DeviceState
_A = Actor
_E = EventKind

_TABLE: Final[tuple[Transition, ...]] = (
    Transition(
        event=_E.ISSUE_LABEL,
        sources=(_S.ACCEPTED,),
        target=_S.AWAITING_SHIPMENT,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        records=("send_by",),
        description="A shipping label was issued; the send-by deadline starts.",
        effect=lambda ctx: {"send_by": ctx.now + ctx.policy.send_window},
    ),
    Transition(
        event=_E.CANCEL,
        sources=(_S.ACCEPTED, _S.AWAITING_SHIPMENT),
        target=_S.CANCELLED,
        actors=(_A.SHOPPER, _A.STAFF, _A.SYSTEM),
        description="The trade-in was cancelled before the device was sent.",
    ),
    Transition(
        event=_E.SHIP,
        sources=(_S.AWAITING_SHIPMENT,),
        target=_S.IN_TRANSIT,
        actors=(_A.SHOPPER, _A.PROVIDER),
        guards=(SEND_WINDOW_OPEN,),
        description="The carrier picked the device up in time.",
    ),
    Transition(
        event=_E.EXPIRE,
        sources=(_S.AWAITING_SHIPMENT,),
        target=_S.EXPIRED,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(SEND_WINDOW_CLOSED,),
        description="The device was not sent in time.",
    ),
    Transition(
        event=_E.RECEIVE,
        sources=(_S.AWAITING_SHIPMENT, _S.IN_TRANSIT),
        target=_S.RECEIVED,
        actors=(_A.STAFF, _A.PROVIDER),
        description="The device arrived (with or without a carrier scan before).",
    ),
    Transition(
        event=_E.HAND_OVER,
        sources=(_S.ACCEPTED,),
        target=_S.RECEIVED,
        actors=(_A.STAFF,),
        description="The shopper handed the device over in a store.",
    ),
    Transition(
        event=_E.RECEIVE_LATE,
        sources=(_S.EXPIRED,),
        target=_S.RECEIVED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="Staff accept a device that arrived after it expired.",
    ),
    Transition(
        event=_E.HOLD,
        sources=(_S.RECEIVED,),
        target=_S.ON_HOLD,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(HOLD_REASON_GIVEN,),
        records=("hold_reason",),
        description="The device is held: blocklist hit, police request or ownership check.",
        effect=lambda ctx: {"hold_reason": ctx.event.hold_reason},
    ),
    Transition(
        event=_E.RELEASE,
        sources=(_S.ON_HOLD,),
        target=_S.RELEASED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="The hold was lifted.",
    ),
    Transition(
        event=_E.SURRENDER,
        sources=(_S.ON_HOLD, _S.MISMATCH),
        target=_S.SURRENDERED,
        actors=(_A.STAFF,),
        guards=(REASON_GIVEN,),
        description="The device was handed to the authorities.",
    ),
    Transition(
        event=_E.INSPECT,
        sources=(_S.RECEIVED, _S.RELEASED),
        target=_S.INSPECTED,
        actors=(_A.STAFF, _A.PROVIDER),
        guards=(OFFER_NOT_ABOVE_QUOTE,),
        records=("inspection", "offer"),
        description="The inspection was recorded; its offer becomes the current offer.",
        effect=lambda ctx: (
            {"inspection": ctx.event.inspection, "offer": ctx.event.inspection.offer}
            if ctx.event.inspection
            else {}
        ),
    ),
    Transition(
        event=_E.CONFIRM,
        sources=(_S.RECEIVED, _S.RELEASED, _S.INSPECTED),
        target=_S.CONFIRMED,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(MATCHES_QUOTE,),
        description="The quoted amount stands (a matching inspection, or a guaranteed quote).",
    ),
    Transition(
        event=_E.REVISE,
        sources=(_S.INSPECTED,),
        target=_S.REVISED,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(BELOW_QUOTE,),
        records=("respond_by",),
        description="A lower offer was made; the respond-by deadline starts.",
        effect=lambda ctx: {"respond_by": ctx.now + ctx.policy.respond_window},
    ),
    Transition(
        event=_E.REJECT_MISMATCH,
        sources=(_S.INSPECTED,),
        target=_S.MISMATCH,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        guards=(MAJOR_MISMATCH,),
        description="A major mismatch: the device is not the one quoted.",
    ),
    Transition(
        event=_E.ACCEPT_REVISION,
        sources=(_S.REVISED,),
        target=_S.REVISION_ACCEPTED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(RESPOND_WINDOW_OPEN, STAFF_GIVES_REASON),
        description="The shopper accepted the lower offer.",
    ),
    Transition(
        event=_E.DECLINE_REVISION,
        sources=(_S.REVISED,),
        target=_S.REVISION_DECLINED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(RESPOND_WINDOW_OPEN, STAFF_GIVES_REASON),
        records=("return_by",),
        description="The shopper declined the lower offer; the device goes back free of charge.",
        effect=lambda ctx: {"return_by": ctx.now + ctx.policy.return_window},
    ),
    Transition(
        event=_E.RESPOND_TIMEOUT,
        sources=(_S.REVISED,),
        target=_S.REVISION_DECLINED,
        actors=(_A.SYSTEM,),
        guards=(RESPOND_WINDOW_CLOSED, SILENCE_MEANS_RETURN),
        records=("return_by",),
        description="No answer in time, and silence means return: declined.",
        effect=lambda ctx: {"return_by": ctx.now + ctx.policy.return_window},
    ),
    Transition(
        event=_E.RESPOND_TIMEOUT,
        sources=(_S.REVISED,),
        target=_S.REVISION_ACCEPTED,
        actors=(_A.SYSTEM,),
        guards=(RESPOND_WINDOW_CLOSED, SILENCE_MEANS_ACCEPT),
        description="No answer in time, and silence means acceptance: accepted.",
    ),
    Transition(
        event=_E.START_RETURN,
        sources=(_S.RELEASED, _S.MISMATCH, _S.REVISION_DECLINED),
        target=_S.RETURNING,
        actors=(_A.STAFF, _A.PROVIDER, _A.SYSTEM),
        description="The device was sent back to the shopper.",
    ),
    Transition(
        event=_E.RETURNED,
        sources=(_S.RETURNING,),
        target=_S.RETURNED,
        actors=(_A.STAFF, _A.PROVIDER),
        description="The shopper has the device back.",
    ),
    Transition(
        event=_E.PAY,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED),
        target=_S.PAID,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(HAS_VALUE, BANK_TRANSFER_CHOSEN),
        records=("payout", "settled"),
        description="Paid by bank transfer: the offer less any upfront credit.",
        effect=_settlement,
    ),
    Transition(
        event=_E.CREDIT,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED),
        target=_S.CREDITED,
        actors=(_A.STAFF, _A.SYSTEM),
        guards=(HAS_VALUE, CREDIT_CHOSEN),
        records=("payout", "settled"),
        description="Paid as a voucher or a purchase credit: the offer less any upfront credit.",
        effect=_settlement,
    ),
    Transition(
        event=_E.RECYCLE,
        sources=(_S.CONFIRMED, _S.REVISION_ACCEPTED, _S.MISMATCH),
        target=_S.RECYCLED,
        actors=(_A.SHOPPER, _A.STAFF),
        guards=(NO_VALUE_OR_MISMATCH, STAFF_GIVES_REASON),
        description="A device without value (or a mismatch the shopper gives up) is recycled for free.",
    ),
    Transition(
        event=_E.DISPOSE,
        sources=(_S.PAID, _S.CREDITED),
        target=_S.DISPOSED,
        actors=(_A.STAFF, _A.PROVIDER),
        guards=(DISPOSITION_GIVEN,),
        records=("disposition",),
        description="The device bought was refurbished, used for parts or recycled.",
        effect=lambda ctx: {"disposition": ctx.event.disposition},
    ),
)


def transition_table() -> tuple[Transition, ...]:
    """Return the transition table: the single source of truth of how a device's state changes.

    Returns:
        Every transition, in the order of the lifecycle.
    """
    return _TABLE


def transitions_mermaid() -> str:
    """Return the transition table as a Mermaid ``stateDiagram-v2`` for the README.

    Each arrow is labelled ``event by actor/actor if guard and guard``; final states lead to ``[*]``.

    Returns:
        The diagram's text, one line per arrow.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {DeviceState.ACCEPTED.value}"]
    for transition in _TABLE:
        label = f"{transition.event.value} by {'/'.join(actor.value for actor in transition.actors)}"
        if transition.guards:
            label += " if " + " and ".join(guard.name for guard in transition.guards)
        lines.extend(
            f"    {source.value} --> {transition.target.value} : {label}" for source in transition.sources
        )
    lines.extend(f"    {state.value} --> [*]" for state in DeviceState if state.is_final)
    return "\n".join(lines) + "\n"


@cache
def _index() -> dict[tuple[EventKind, DeviceState], tuple[Transition, ...]]:
    index: dict[tuple[EventKind, DeviceState], tuple[Transition, ...]] = {}
    for transition in _TABLE:
        for source in transition.sources:
            key = (transition.event, source)
            index[key] = (*index.get(key, ()), transition)
    return index


@cache
def _sources() -> frozenset[DeviceState]:
    return frozenset(source for transition in _TABLE for source in transition.sources)


@cache
def _successors() -> dict[DeviceState, frozenset[DeviceState]]:
    successors: dict[DeviceState, set[DeviceState]] = {state: set() for state in DeviceState}
    for transition in _TABLE:
        for source in transition.sources:
            successors[source].add(transition.target)
    return {state: frozenset(targets) for state, targets in successors.items()}


@cache
def _reachable(state: DeviceState) -> frozenset[DeviceState]:
    """The states reachable from ``state`` (itself excluded; the table is acyclic)."""
    found: set[DeviceState] = set()
    for successor in _successors()[state]:
        found |= {successor, *_reachable(successor)}
    return frozenset(found)


@cache
def _state_ranks() -> dict[DeviceState, int]:
    ranks = dict.fromkeys(DeviceState, 0)
    for _ in DeviceState:  # longest paths in an acyclic graph settle within |states| rounds
        for transition in _TABLE:
            for source in transition.sources:
                ranks[transition.target] = max(ranks[transition.target], ranks[source] + 1)
    return ranks


# -- applying events --------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def _details(event: DeviceEvent, changes: Mapping[str, Any]) -> dict[str, str]:
    details: dict[str, str] = {}
    for name in ("occurred_at", "reason", "tracking"):
        value = getattr(event, name)
        if value is not None:
            details[name] = _text(value)
    for name, value in changes.items():
        if isinstance(value, InspectionResult):
            details["inspected_value"] = str(value.inspected_value)
            details["mismatch"] = ",".join(reason.value for reason in value.mismatch)
            details["differences"] = ",".join(value.differences)
        elif isinstance(value, PayoutRef):
            details["payout_method"] = value.method.value
            details["payout_reference"] = value.reference
        else:
            details[name] = _text(value)
    return details


def _choose(ctx: GuardContext) -> Transition:
    """The transition the event fires, or the error saying why none does."""
    event, state = ctx.event, ctx.device.state
    candidates = _index().get((event.kind, state), ())
    if not candidates:
        if any(
            state is transition.target or state in _reachable(transition.target)
            for transition in _TABLE
            if transition.event is event.kind
        ):
            raise StaleEventError(
                N_("Device {device_id} is already {state}: the {event} event comes too late."),
                device_id=ctx.device.id,
                event=event.kind,
                state=state,
            )
        raise IllegalTransitionError(
            N_("A device that is {state} cannot take the {event} event."),
            device_id=ctx.device.id,
            event=event.kind,
            state=state,
        )
    allowed = [transition for transition in candidates if event.actor in transition.actors]
    if not allowed:
        raise ActorNotAllowedError(
            device_id=ctx.device.id,
            event=event.kind,
            state=state,
            actor=event.actor,
            allowed=dict.fromkeys(actor for transition in candidates for actor in transition.actors),
        )
    failed: Guard | None = None
    for transition in allowed:
        failing = next((guard for guard in transition.guards if not guard.check(ctx)), None)
        if failing is None:
            return transition
        failed = failed or failing
    assert failed is not None  # noqa: S101 - every allowed transition had a failing guard
    raise GuardFailedError(device_id=ctx.device.id, event=event.kind, state=state, guard=failed)


def apply(
    order: TradeInOrder, event: DeviceEvent, *, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY
) -> TradeInOrder:
    """Apply one event to an order: the only way a device changes state.

    Args:
        order: the order.
        event: what happened.
        now: the current time (from the injected clock).
        policy: the shop's delivery policy (deadlines, silence).

    Returns:
        The new order, with the device's new state, the fields the transition records, and one more
        history entry; the same order when the event's id was already applied (a duplicate delivery).

    Raises:
        OrderDeviceNotFoundError: the order has no such device.
        EventConflictError: the event's id was already used for another event.
        StaleEventError: the device has already moved past the event.
        IllegalTransitionError: the event does not fit the device's state.
        ActorNotAllowedError: the actor may not trigger this event.
        GuardFailedError: a condition of the transition does not hold; ``guard`` names it.
    """
    now = as_utc(now)
    device = order.device(event.device_id)
    recorded = order.recorded(event.id)
    if recorded is not None:
        owner, entry = recorded
        if owner.id == device.id and entry.kind is event.kind and entry.actor is event.actor:
            return order
        raise EventConflictError(event.id)
    ctx = GuardContext(order=order, device=device, event=event, now=now, policy=policy)
    transition = _choose(ctx)
    changes = transition.effect(ctx)
    entry = HistoryEntry(
        event_id=event.id,
        kind=event.kind,
        actor=event.actor,
        at=now,
        from_state=device.state,
        to_state=transition.target,
        details=_details(event, changes),
    )
    changed = attrs.evolve(device, state=transition.target, history=(*device.history, entry), **changes)
    return attrs.evolve(
        order, devices=tuple(changed if other.id == device.id else other for other in order.devices)
    )


def inspection_verdict(device: OrderDevice) -> EventKind | None:
    """Return the event that settles an inspected device: ``confirm``, ``revise`` or ``reject_mismatch``.

    Args:
        device: a device of an order.

    Returns:
        The event whose guard the device's inspection satisfies, or ``None`` when it is not ``inspected``.
    """
    if device.state is not DeviceState.INSPECTED or device.inspection is None:
        return None
    if device.inspection.major_mismatch:
        return EventKind.REJECT_MISMATCH
    return EventKind.REVISE if device.inspection.offer < device.quoted else EventKind.CONFIRM


# -- time -------------------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def due_actions(
    order: TradeInOrder, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY
) -> tuple[DeviceEvent, ...]:
    """Return the time-driven events due at ``now``: expiry of unsent devices, silence on revised offers.

    Each event's id is derived from the order, the device and the deadline, so the same action computed
    twice (two schedulers, a retry) is one event and applies once.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.

    Returns:
        The events, by ``system``, in device order.
    """
    now = as_utc(now)
    events: list[DeviceEvent] = []
    for device in order.devices:
        if device.state is DeviceState.AWAITING_SHIPMENT:
            deadline = _expires_at(device, policy)
            kind = EventKind.EXPIRE
        elif device.state is DeviceState.REVISED and device.respond_by is not None:
            deadline = device.respond_by
            kind = EventKind.RESPOND_TIMEOUT
        else:
            continue
        if now >= deadline:
            events.append(
                DeviceEvent(
                    id=f"{order.id}/{device.id}/{kind.value}/{_stamp(deadline)}",
                    kind=kind,
                    device_id=device.id,
                    actor=Actor.SYSTEM,
                )
            )
    return tuple(events)


def tick(order: TradeInOrder, now: datetime, policy: DeliveryPolicy = DEFAULT_POLICY) -> TradeInOrder:
    """Apply every time-driven transition due at ``now``. Idempotent: a second tick changes nothing.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.

    Returns:
        The order after the due events (the same order when none is due).
    """
    for event in due_actions(order, now, policy):
        order = apply(order, event, now=now, policy=policy)
    return order


@attrs.frozen(kw_only=True)
class Reminder:
    """A reminder to send.

    Attributes:
        key: stable for this reminder (order, device, kind and time), for an outbox's unique constraint.
        device_id: the device.
        kind: what it is about.
        audience: who receives it (the shopper, or staff for an overdue return).
        deadline: the deadline it is about.
        due_at: when it became due.
    """

    key: str
    device_id: str
    kind: ReminderKind
    audience: Actor
    deadline: datetime
    due_at: datetime


def _reminder_plan(
    device: OrderDevice, policy: DeliveryPolicy
) -> tuple[ReminderKind, Actor, datetime, tuple[timedelta, ...]] | None:
    if device.state is DeviceState.AWAITING_SHIPMENT and device.send_by is not None:
        return ReminderKind.SEND_DEVICE, Actor.SHOPPER, device.send_by, policy.send_reminders
    if device.state is DeviceState.REVISED and device.respond_by is not None:
        return ReminderKind.RESPOND_TO_REVISION, Actor.SHOPPER, device.respond_by, policy.respond_reminders
    if device.state is DeviceState.REVISION_DECLINED and device.return_by is not None:
        return ReminderKind.RETURN_OVERDUE, Actor.STAFF, device.return_by, (timedelta(0),)
    return None


def reminders_due(
    order: TradeInOrder,
    now: datetime,
    policy: DeliveryPolicy = DEFAULT_POLICY,
    *,
    since: datetime | None = None,
) -> tuple[Reminder, ...]:
    """Return the reminders due at ``now``: at most one per device, the latest that fell due.

    A shopper is reminded before a deadline (``policy.send_reminders``, ``policy.respond_reminders``)
    until it passes; staff are reminded once a declined device's ``return_by`` has passed.

    Args:
        order: the order.
        now: the current time.
        policy: the shop's delivery policy.
        since: when the previous run was: reminders that fell due at or before it are left out.

    Returns:
        The reminders, in device order.
    """
    now = as_utc(now)
    since = None if since is None else as_utc(since)
    reminders: list[Reminder] = []
    for device in order.devices:
        plan = _reminder_plan(device, policy)
        if plan is None:
            continue
        kind, audience, deadline, offsets = plan
        if audience is Actor.SHOPPER and now >= deadline:
            continue
        due = [
            deadline - offset
            for offset in offsets
            if deadline - offset <= now and (since is None or deadline - offset > since)
        ]
        if due:
            due_at = max(due)
            reminders.append(
                Reminder(
                    key=f"{order.id}/{device.id}/{kind.value}/{_stamp(due_at)}",
                    device_id=device.id,
                    kind=kind,
                    audience=audience,
                    deadline=deadline,
                    due_at=due_at,
                )
            )
    return tuple(reminders)


# -- the outcome ------------------------------------------------------------------------------------------

_BOUGHT: Final = frozenset({DeviceState.PAID, DeviceState.CREDITED, DeviceState.DISPOSED})
_GOING_BACK: Final = frozenset({DeviceState.REVISION_DECLINED, DeviceState.RETURNING, DeviceState.RETURNED})
_NOT_BOUGHT: Final = _GOING_BACK | {
    DeviceState.CANCELLED,
    DeviceState.EXPIRED,
    DeviceState.SURRENDERED,
    DeviceState.RECYCLED,
}


@attrs.frozen(kw_only=True)
class DeviceOutcome:
    """What one device comes to.

    Attributes:
        device_id: the device.
        state: its state.
        decided: whether its money outcome is known (bought, or not bought).
        paid: paid by bank transfer at settlement.
        credited: credited as a voucher or a purchase credit at settlement.
        returned: the quoted amount of a device going back (not bought).
        recycled: the quoted amount of a device recycled without value.
        clawback: upfront credit to take back: all of it when the device is not bought, the part above
            the final offer when it is bought for less.
    """

    device_id: str
    state: DeviceState
    decided: bool
    paid: Money
    credited: Money
    returned: Money
    recycled: Money
    clawback: Money


@attrs.frozen(kw_only=True)
class OrderOutcome:
    """The order's devices netted.

    Attributes:
        currency: the currency of every amount.
        devices: each device's outcome.
        upfront_credit: what was credited at checkout.
        paid: paid by bank transfer.
        credited: credited as vouchers or purchase credits at settlement.
        returned: the quoted amounts of devices going back.
        recycled: the quoted amounts of devices recycled without value.
        clawback: upfront credit to take back.
    """

    currency: str
    devices: tuple[DeviceOutcome, ...]
    upfront_credit: Money
    paid: Money
    credited: Money
    returned: Money
    recycled: Money
    clawback: Money

    @property
    def pending(self) -> tuple[str, ...]:
        """The devices whose outcome is not known yet."""
        return tuple(device.device_id for device in self.devices if not device.decided)

    @property
    def shopper_total(self) -> Money:
        """What the shopper gets in all: upfront credit, payouts and credits, less the clawback."""
        return self.upfront_credit + self.paid + self.credited - self.clawback


def _device_outcome(device: OrderDevice) -> DeviceOutcome:
    zero = Money.zero(device.quoted.currency)
    paid = credited = returned = recycled = clawback = zero
    if device.state in _BOUGHT:
        settled = device.settled or zero
        if device.payout is not None and device.payout.method is PayoutMethod.BANK_TRANSFER:
            paid = settled
        else:
            credited = settled
        clawback = max(device.upfront_credit - device.offer, zero)
    elif device.state in _NOT_BOUGHT:
        clawback = device.upfront_credit
        if device.state in _GOING_BACK:
            returned = device.quoted
        elif device.state is DeviceState.RECYCLED:
            recycled = device.quoted
    return DeviceOutcome(
        device_id=device.id,
        state=device.state,
        decided=device.state in _BOUGHT or device.state in _NOT_BOUGHT,
        paid=paid,
        credited=credited,
        returned=returned,
        recycled=recycled,
        clawback=clawback,
    )


def order_outcome(order: TradeInOrder) -> OrderOutcome:
    """Net an order's devices: what was paid, credited, returned, recycled and must be clawed back.

    An expired device counts as not bought (its upfront credit is clawed back); if staff accept it late,
    the outcome changes with it.

    Args:
        order: the order.

    Returns:
        The totals and each device's part.
    """
    devices = tuple(_device_outcome(device) for device in order.devices)

    def total(part: Callable[[DeviceOutcome], Money]) -> Money:
        return Money.total((part(device) for device in devices), order.currency)

    return OrderOutcome(
        currency=order.currency,
        devices=devices,
        upfront_credit=Money.total((device.upfront_credit for device in order.devices), order.currency),
        paid=total(lambda device: device.paid),
        credited=total(lambda device: device.credited),
        returned=total(lambda device: device.returned),
        recycled=total(lambda device: device.recycled),
        clawback=total(lambda device: device.clawback),
    )
