"""The ports: one narrow Protocol per concern the application needs from the outside world.

A shop that brings its own storage implements only the concerns it uses: a :class:`QuoteStore` alone serves
instant quotes, tokens and redemption; orders need an :class:`OrderStore`, and so on. :class:`Store` is all
of them together, as :class:`~tradein_sdk.SQLStore` implements them (on SQLite or PostgreSQL), where one
transaction can span several concerns (an order, its audit entries and its webhooks are written together).

Concerns: quotes (:class:`QuoteStore`), orders (:class:`OrderStore`), the audit log (:class:`AuditLog`),
personal data kept apart (:class:`PersonalDataStore`), erasure certificates (:class:`ErasureStore`),
promotion budgets (:class:`PromotionBudgets`), idempotency keys of the HTTP service
(:class:`IdempotencyKeys`), the webhook outbox (:class:`WebhookOutbox`), price books (:class:`PriceSource`),
insurance offers (:class:`InsuranceOfferSource`) and the movement of devices (:class:`Fulfilment`). The
records they exchange are defined here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import attrs

from tradein_sdk._domain.money import Money
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from datetime import timedelta

    from tradein_sdk._domain.audit import AuditAnchor, AuditEntry, AuditVerification
    from tradein_sdk._domain.devices import DeviceCategory
    from tradein_sdk._domain.insurance import InsuranceOffer, PurchaseCondition
    from tradein_sdk._domain.ledger import EntryKind, LedgerEntry  # noqa: TC004 - annotations only
    from tradein_sdk._domain.outbox import (
        OutboxMessage,  # noqa: TC004 - annotations only; loads with the first webhook
        WebhookEndpoint,
    )
    from tradein_sdk._domain.pricing import PriceBook
    from tradein_sdk._domain.shipping import LabelDevice, ShippingLabel
    from tradein_sdk._domain.tenancy import Scope  # noqa: TC004 - annotations only
    from tradein_sdk._domain.webhooks import WebhookEvent, WebhookSecrets


# -- records ---------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class QuoteRecord:
    """A quote as the store keeps it: the indexed fields plus the quote's full JSON document.

    Attributes:
        quote_id: the quote's identifier.
        issued_at: when it was issued (UTC).
        expires_at: when it stops being redeemable (UTC).
        amount: the amount a redemption credits.
        audience: the shop or store it was issued for.
        redeemable: ``False`` for a recycling-only quote.
        document: the quote's JSON document (``schemas/quote.schema.json``), as text.
        organisation: the organisation of the tenant it was issued for (the audience is the tenant; the
            audience itself when ``None``).
    """

    quote_id: str
    issued_at: datetime
    expires_at: datetime
    amount: Money
    audience: str
    redeemable: bool
    document: str
    organisation: str | None = None


@attrs.frozen(kw_only=True)
class OrderRecord:
    """An order as the store keeps it: the queried fields plus the order's JSON document.

    Attributes:
        order_id: the order's id.
        created_at: when it was opened (UTC).
        customer_ref: the pseudonymous customer reference (personal data lives apart, under it).
        closed: every device reached a final state.
        next_deadline_at: when its next time-driven action (an expiry, a revision timeout) falls due, if any.
        document: the order's JSON document, as text.
        tenant: the shop or store that opened it (fixed when it is stored).
        organisation: that tenant's organisation.
        provider: the provider (refurbisher) its devices are assigned to, if any.
        reminders_from: from when a reminder may fall due (a device to send, a revision to answer, a return
            overdue), if any.
    """

    order_id: str
    created_at: datetime
    customer_ref: str | None
    closed: bool
    next_deadline_at: datetime | None
    document: str
    tenant: str | None = None
    organisation: str | None = None
    provider: str | None = None
    reminders_from: datetime | None = None

    def values(self) -> dict[str, Any]:
        """The row's column values that change with the order (ownership and assignment are kept apart)."""
        return {
            "id": self.order_id,
            "created_at": self.created_at,
            "customer_ref": self.customer_ref,
            "closed": self.closed,
            "next_deadline_at": self.next_deadline_at,
            "reminders_from": self.reminders_from,
            "document": self.document,
        }


@attrs.frozen(kw_only=True)
class PromotionUse:
    """One use of a promotion to reserve against its limits.

    Attributes:
        promotion_id: the promotion.
        boost: what it adds for this device.
        budget: the promotion's total budget, if it has one.
        max_redemptions: how many uses it allows, if limited.
    """

    promotion_id: str
    boost: Money
    budget: Money | None = None
    max_redemptions: int | None = None


@attrs.frozen(kw_only=True)
class PromotionChange:
    """A change of a promotion's use after checkout: a share withdrawn (released) or restored.

    Attributes:
        promotion_id: the promotion.
        amount: the change of its spent budget (negative: released).
        redemptions: the change of its redemption count.
    """

    promotion_id: str
    amount: Money
    redemptions: int = 0


@attrs.frozen(kw_only=True)
class LedgerSum:
    """Ledger entries of one kind (and, for promotions, one promotion) summed over a span of time.

    Attributes:
        kind: the entries' kind.
        reason: the promotion id for promotion entries, else ``None``.
        total: their sum.
        count: how many there are.
    """

    kind: EntryKind
    reason: str | None
    total: Money
    count: int


@attrs.frozen(kw_only=True)
class CheckoutRecord:
    """A confirmed checkout to store with its order.

    Attributes:
        checkout_id: the summary's id.
        document: the signed summary as JSON text.
        promotion_uses: the promotions it used, reserved against their limits.
    """

    checkout_id: str
    document: str
    promotion_uses: tuple[PromotionUse, ...] = ()


@attrs.frozen(kw_only=True)
class PersonalData:
    """Personal data kept apart from orders and the audit log, so it can be erased.

    Attributes:
        ref: its own pseudonymous reference (what orders and audit entries name).
        kind: ``payout`` or ``contact``.
        subject_ref: the customer it belongs to (erasure works per customer).
        data: the data as JSON text.
        tenant: the tenant whose customer it is (a customer reference is unique per tenant only).
        organisation: that tenant's organisation.
    """

    ref: str
    kind: str
    subject_ref: str
    data: str
    tenant: str | None = None
    organisation: str | None = None


@attrs.frozen(kw_only=True)
class AuditFact:
    """What to write in the audit log with a change (see :mod:`tradein_sdk._adapters.sql.audit`)."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class StoredDocument:
    """A document kept under its content hash.

    Attributes:
        kind: ``questionnaire`` or ``pricebook``.
        content_hash: ``sha256:`` of its canonical JSON.
        text: the document as JSON text.
    """

    kind: str
    content_hash: str
    text: str


@attrs.frozen(kw_only=True)
class Redemption:
    """The one redemption of a quote.

    Attributes:
        redemption_id: the redemption's identifier.
        quote_id: the quote redeemed.
        amount: the amount credited: always the stored quote's amount.
        reference: the shop's reference for it (an order or basket number), if given.
        redeemed_at: when it happened (UTC).
    """

    redemption_id: str
    quote_id: str
    amount: Money
    reference: str | None
    redeemed_at: datetime


@attrs.frozen(kw_only=True)
class StoredResponse:
    """The answer kept for an idempotency key: sent again, byte for byte, to a repeated request.

    Attributes:
        status: the HTTP status.
        body: the body as sent.
        content_type: its media type.
    """

    status: int
    body: bytes
    content_type: str


@attrs.frozen(kw_only=True)
class PendingWebhook:
    """An outbox row that is due: the message and how many attempts it had.

    Attributes:
        delivery_id: the row's id.
        message: what to send where.
        attempts: attempts made so far.
        next_attempt_at: when it is due (the claim compares it, so two senders cannot take one row).
    """

    delivery_id: str
    message: OutboxMessage
    attempts: int
    next_attempt_at: datetime


@attrs.frozen(kw_only=True)
class DeadWebhook:
    """An outbox row given up (retries used up, refused, or its endpoint gone): a dead letter.

    Attributes:
        delivery_id: the row's id (what :meth:`WebhookOutbox.replay_webhooks` takes).
        event_id: the ``webhook-id`` (the same for every endpoint the event went to).
        endpoint: the endpoint's URL.
        type: the event type.
        created_at: when the change happened.
        attempts: attempts made.
        last_error: what the last attempt got (``HTTP 503``, a connection error), if anything.
    """

    delivery_id: str
    event_id: str
    endpoint: str
    type: str
    created_at: datetime
    attempts: int
    last_error: str | None


@attrs.frozen(kw_only=True)
class OutboxCounts:
    """How many outbox rows are in each state, and how old the oldest waiting one is.

    Attributes:
        pending: rows not yet delivered nor given up (due now, planned, or being sent).
        delivered: rows answered with 2xx.
        dead: rows given up (dead letters).
        oldest_pending_at: when the oldest pending row's change happened (``None``: nothing pending).
    """

    pending: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None


# -- storage, one concern each ---------------------------------------------------------------------------


@runtime_checkable
class QuoteStore(Protocol):
    """Where quotes are kept, with the documents they were computed from; redemption happens here."""

    def add_quote(
        self,
        record: QuoteRecord,
        *,
        documents: Iterable[StoredDocument] = (),
        audit: Sequence[AuditFact] = (),
    ) -> None:
        """Persist a new quote, its documents and its audit entry in one transaction."""
        ...

    def get_quote(
        self, quote_id: str, *, scope: Scope | None = None
    ) -> tuple[QuoteRecord, Redemption | None]:
        """Return a stored quote and its redemption, if any.

        A ``scope`` keeps the read inside a tenant or organisation (every scoped method below does the same):
        a quote outside it is not found.

        Raises:
            QuoteNotFoundError: no quote has this id (in ``scope``).
        """
        ...

    def redeem_quote(
        self,
        quote_id: str,
        *,
        now: datetime,
        reference: str | None = None,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
    ) -> Redemption:
        """Redeem a quote exactly once (with its audit entries) and return the redemption.

        Exactly once is the store's promise: of concurrent callers one succeeds, the rest get
        :class:`~tradein_sdk.QuoteAlreadyRedeemedError`.

        Raises:
            QuoteNotFoundError: no quote has this id.
            QuoteAlreadyRedeemedError: it was redeemed before.
            QuoteExpiredError: it expired before ``now``.
            QuoteNotRedeemableError: it carries no amount to credit (a recycling-only quote).
        """
        ...

    def get_document(self, content_hash: str) -> str:
        """Return the document stored under ``content_hash`` (a quote's questionnaire or price book).

        Raises:
            NotFoundError: no document has this hash.
        """
        ...


@runtime_checkable
class OrderStore(Protocol):
    """Where orders are kept, each with a version for optimistic concurrency."""

    def add_order(
        self,
        record: OrderRecord,
        *,
        quote_ids: Sequence[str],
        now: datetime,
        personal_data: Sequence[PersonalData] = (),
        audit: Sequence[AuditFact] = (),
        checkout: CheckoutRecord | None = None,
        ledger: Sequence[LedgerEntry] = (),
        guarantees_sold: Sequence[GuaranteeRecord] = (),
        guarantee_changes: Sequence[GuaranteeChange] = (),
        scope: Scope | None = None,
    ) -> None:
        """Store a new order, claiming its quotes (in ``scope``) exactly once, with its audit entry.

        The guarantees its checkout sold are kept, and the guarantees it exercises claimed, in the same
        transaction (``GuaranteeError`` with rule ``already_exercised`` when one is held or exercised).
        """
        ...

    def get_order(self, order_id: str, *, scope: Scope | None = None) -> tuple[OrderRecord, int]:
        """Return a stored order and its version."""
        ...

    def save_order(
        self,
        record: OrderRecord,
        *,
        expected_version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
        ledger: Sequence[LedgerEntry] = (),
        promotion_changes: Sequence[PromotionChange] = (),
        guarantee_changes: Sequence[GuaranteeChange] = (),
        scope: Scope | None = None,
    ) -> int:
        """Write a changed order unless it changed since ``expected_version``; return the new version.

        The ledger entries (of this order, and the release of a contingent liability in the ledger of the
        order that sold a guarantee it exercises), promotion budget changes and guarantee changes the change
        posts are written in the same transaction.
        """
        ...

    def get_checkout(self, order_id: str) -> str | None:
        """Return the stored checkout summary of an order."""
        ...

    def orders_due(self, now: datetime, *, limit: int = 500, scope: Scope | None = None) -> list[str]:
        """Return the ids of open orders with a deadline at or before ``now``."""
        ...

    def orders_to_remind(
        self, now: datetime, *, limit: int = 500, scope: Scope | None = None
    ) -> list[OrderRecord]:
        """Return open orders whose ``reminders_from`` has passed at ``now``, earliest first."""
        ...

    def list_orders(
        self,
        *,
        limit: int = 50,
        customer_ref: str | None = None,
        open_only: bool = False,
        scope: Scope | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[OrderRecord]:
        """Return the newest orders first (``before``: only orders older than this ``(created_at, id)``)."""
        ...


@runtime_checkable
class AuditLog(Protocol):
    """The append-only, hash-chained audit log."""

    def add_audit(
        self,
        facts: Sequence[AuditFact],
        *,
        now: datetime,
        receipt: WebhookEvent | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> bool:
        """Append audit entries that record no order change, once per received webhook."""
        ...

    def verify_audit(
        self,
        *,
        anchor: AuditAnchor | Iterable[AuditAnchor] | None = None,
        seals: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> AuditVerification:
        """Verify the audit log's hash chain (and the seals after the anchors, when the store seals).

        ``progress``, when given, is called with (entries checked, entries in all) as the check goes, the
        last time with the two equal.
        """
        ...

    def audit_entries(self) -> Iterator[AuditEntry]:
        """Every audit entry as stored, chain by chain in sequence order."""
        ...


@attrs.frozen(kw_only=True)
class CertificateRevocationRecord:
    """The revocation of an erasure certificate, as the store keeps it.

    Attributes:
        certificate_id: the certificate revoked.
        reason: the reason code (:class:`~tradein_sdk._domain.erasure.RevocationReason`).
        revoked_at: when (UTC).
        actor: who revoked it (a role, never a name).
    """

    certificate_id: str
    reason: str
    revoked_at: datetime
    actor: str


@attrs.frozen(kw_only=True)
class CertificateRecord:
    """An erasure certificate as the store keeps it: the queried fields and the signed envelope's JSON text.

    Attributes:
        certificate_id: the certificate's id (``cert_<32 hex>``).
        order_id: the order.
        device_id: the device of the order.
        issued_at: when it was issued (UTC).
        method: the sanitization method (``clear``, ``purge``, ``destruct``).
        destination: where the device goes (``resale``, ``parts``, ``recycling``).
        document: the signed envelope, as JSON text.
        tenant: the tenant of the order.
        organisation: the organisation of the order.
        revocation: its revocation, once revoked.
    """

    certificate_id: str
    order_id: str
    device_id: str
    issued_at: datetime
    method: str
    destination: str
    document: str
    tenant: str | None = None
    organisation: str | None = None
    revocation: CertificateRevocationRecord | None = None


@attrs.frozen(kw_only=True)
class CompanyRecord:
    """A company account as the store keeps it.

    Attributes:
        company_id: the account's id (``co_...``).
        document: the account's JSON text (:class:`~tradein_sdk._domain.fleet.Company`).
        created_at: when it was opened (UTC).
        tenant: the tenant that opened it.
        organisation: its organisation.
    """

    company_id: str
    document: str
    created_at: datetime
    tenant: str | None = None
    organisation: str | None = None


@attrs.frozen(kw_only=True)
class BatchRecord:
    """A fleet batch as the store keeps it: its queried fields and its JSON text (the lines are kept apart).

    Attributes:
        batch_id: the batch's id (``fb_...``).
        company_id: the company whose devices it holds.
        state: its state (:class:`~tradein_sdk._domain.fleet.BatchState`).
        created_at: when its portfolio quote was issued (UTC).
        document: the batch's JSON text, without its lines.
        order_id: the order its devices travel in, once booked.
        tenant: the tenant that quoted it.
        organisation: its organisation.
    """

    batch_id: str
    company_id: str
    state: str
    created_at: datetime
    document: str
    order_id: str | None = None
    tenant: str | None = None
    organisation: str | None = None


@attrs.frozen(kw_only=True)
class ArchivedDocument:
    """A document kept unchanged for its retention period (a credit note, its e-invoice, a hand-over record).

    Attributes:
        document_id: its id.
        kind: what it is (``credit_note_xml``, ``credit_note_pdf``, ``purchase_statement_pdf``, ...).
        number: the number printed on it, when it has one.
        batch_id: the batch it belongs to.
        media_type: its media type (``application/xml``, ``application/pdf``).
        content: its bytes, exactly as issued.
        sha256: the hex SHA-256 of ``content``, stored beside it.
        created_at: when it was archived (UTC).
        retain_until: the first day it may be deleted.
        tenant: the tenant that issued it.
        organisation: its organisation.
    """

    document_id: str
    kind: str
    number: str | None
    batch_id: str
    media_type: str
    content: bytes = attrs.field(repr=False)
    sha256: str
    created_at: datetime
    retain_until: date
    tenant: str | None = None
    organisation: str | None = None


@runtime_checkable
class FleetStore(Protocol):
    """Company accounts, fleet batches and their lines, document numbers and the document archive."""

    def add_company(self, record: CompanyRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a new company account."""
        ...

    def save_company(self, record: CompanyRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Replace a company account's document."""
        ...

    def get_company(self, company_id: str, *, scope: Scope | None = None) -> CompanyRecord:
        """Read a company account (``CompanyNotFoundError`` when none is in ``scope``)."""
        ...

    def companies(self, *, scope: Scope | None = None) -> list[CompanyRecord]:
        """Every company account in ``scope``, oldest first."""
        ...

    def add_batch(
        self, record: BatchRecord, lines: Sequence[str], *, audit: Sequence[AuditFact] = ()
    ) -> None:
        """Keep a new batch with its lines (JSON texts, line 1 first) in one transaction."""
        ...

    def get_batch(self, batch_id: str, *, scope: Scope | None = None) -> tuple[BatchRecord, int]:
        """Read a batch and its version (``BatchNotFoundError`` when none is in ``scope``)."""
        ...

    def batch_lines(self, batch_id: str) -> list[str]:
        """The JSON texts of a batch's lines, line 1 first."""
        ...

    def save_batch(
        self,
        record: BatchRecord,
        *,
        version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
        archive: Sequence[ArchivedDocument] = (),
    ) -> None:
        """Replace a batch read at ``version``, with its audit entries, webhooks and archived documents."""
        ...

    def batches(self, *, company_id: str | None = None, scope: Scope | None = None) -> list[BatchRecord]:
        """The batches in ``scope`` (of one company), newest first."""
        ...

    def next_document_number(self, series: str) -> int:
        """The next number of a document series (1, 2, ...), each given out once."""
        ...

    def archived_documents(
        self, batch_id: str, *, scope: Scope | None = None, with_content: bool = True
    ) -> list[ArchivedDocument]:
        """The documents archived for a batch, oldest first."""
        ...


@attrs.frozen(kw_only=True)
class GuaranteeRecord:
    """A buy-back guarantee contract as the store keeps it: the liability view's fields, and its envelope.

    Attributes:
        contract_id: the contract's id (``gtc_...``).
        plan_id: the plan it was sold under.
        sold_at: when it was sold (UTC).
        purchased_on: the day the device was bought.
        exercisable_from: the first day of its exercise window.
        expires_on: its last day.
        currency: its currency.
        price: the device's purchase price (the residual-value basis).
        schedule: the bands in money, as compact JSON text (``[[starts_on, ends_on, amount], ...]``).
        kind: ``buyback`` or ``upgrade``.
        document: the signed envelope, as JSON text.
        customer_ref: the shop's pseudonymous customer id.
        cost_centre: the buyer's cost centre (a company's calendar of inflows), else ``None``.
        exercised_at: when it was exercised, else ``None``.
        exercise: the exercise's JSON text, else ``None``.
        tenant: the tenant that sold it.
        organisation: its organisation.
        sold_order_id: the order of the checkout that sold it (its ledger carries the contingent
            liability), else ``None``.
        order_id: the trade-in order exercising it now (claimed until the device is paid or not bought).
        closed_at: when its contingent liability was released (exercised or expired), else ``None``.
    """

    contract_id: str
    plan_id: str
    sold_at: datetime
    purchased_on: date
    exercisable_from: date
    expires_on: date
    currency: str
    price: Decimal
    schedule: str
    kind: str
    document: str
    customer_ref: str | None = None
    cost_centre: str | None = None
    exercised_at: datetime | None = None
    exercise: str | None = None
    tenant: str | None = None
    organisation: str | None = None
    sold_order_id: str | None = None
    order_id: str | None = None
    closed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class GuaranteeChange:
    """What an order change does to a guarantee it exercises, written in the order's transaction.

    Attributes:
        contract_id: the contract.
        order_id: the order exercising it.
        action: ``claim`` (the order opens: refused when another order holds it or it was exercised),
            ``release`` (the device is not bought: the contract is free again) or ``exercise`` (the device
            is paid: the contract is exercised, once).
        at: when.
        exercise: the exercise's JSON text (``exercise`` only).
    """

    contract_id: str
    order_id: str
    action: str
    at: datetime
    exercise: str | None = None


@runtime_checkable
class GuaranteeStore(Protocol):
    """Buy-back guarantee contracts: kept once, exercised at most once, read in bulk for the liability."""

    def add_guarantee(self, record: GuaranteeRecord, *, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a sold contract with its audit entries."""
        ...

    def get_guarantee(self, contract_id: str, *, scope: Scope | None = None) -> GuaranteeRecord:
        """Read a contract in ``scope`` (``GuaranteeNotFoundError`` when none)."""
        ...

    def record_exercise(
        self,
        contract_id: str,
        *,
        at: datetime,
        exercise: str,
        audit: Sequence[AuditFact] = (),
        ledger: Sequence[LedgerEntry] = (),
    ) -> bool:
        """Mark a contract exercised, once: ``False`` when it was exercised or claimed (nothing written then).

        ``ledger`` holds the release of its contingent liability, written in the same transaction.
        """
        ...

    def guarantees_of(self, customer_ref: str, *, scope: Scope | None = None) -> list[GuaranteeRecord]:
        """Every contract of a customer (a company's id for a fleet), in order of purchase, with envelopes."""
        ...

    def lapsed_guarantees(
        self, *, on: date, limit: int = 500, scope: Scope | None = None
    ) -> list[GuaranteeRecord]:
        """Contracts (in ``scope``) expired before ``on``, their contingent liability open in a ledger."""
        ...

    def close_guarantee(
        self,
        contract_id: str,
        *,
        at: datetime,
        ledger: Sequence[LedgerEntry] = (),
        audit: Sequence[AuditFact] = (),
    ) -> bool:
        """Release a lapsed contract's contingent liability once (``False``: released already)."""
        ...

    def outstanding_guarantees(
        self, *, on: date, scope: Scope | None = None, batch: int = 10_000
    ) -> Iterator[GuaranteeRecord]:
        """Every contract not exercised and not expired on ``on``, in batches (without their envelopes)."""
        ...


@runtime_checkable
class ErasureStore(Protocol):
    """Erasure certificates and their revocations; at most one unrevoked certificate per device."""

    def add_certificate(
        self,
        record: CertificateRecord,
        *,
        order_version: int,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """Keep a certificate with its audit entries and webhooks, if the order is still at ``order_version``.

        Raises:
            CertificateExistsError: the device has an unrevoked certificate.
            ConcurrentUpdateError: the order changed since it was read; read it and check again.
        """
        ...

    def certificates_of(
        self, order_id: str, *, device_id: str | None = None, scope: Scope | None = None
    ) -> list[CertificateRecord]:
        """The certificates of an order (or of one of its devices), oldest first."""
        ...

    def get_certificate(self, certificate_id: str, *, scope: Scope | None = None) -> CertificateRecord:
        """A certificate by id.

        Raises:
            CertificateNotFoundError: none has that id (in ``scope``).
        """
        ...

    def revoke_certificate(
        self,
        revocation: CertificateRevocationRecord,
        *,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
    ) -> CertificateRecord:
        """Revoke a certificate (a second revocation keeps the first) and return it as revoked.

        Raises:
            CertificateNotFoundError: none has that id (in ``scope``).
        """
        ...

    def certificate_revocations(
        self, *, organisation: str | None = None
    ) -> list[CertificateRevocationRecord]:
        """Every revocation (of one organisation's certificates), oldest first."""
        ...


@runtime_checkable
class CheckpointLog(Protocol):
    """Where signed audit checkpoints are kept, outside the database (:class:`DirectoryCheckpoints`)."""

    def add(self, envelope: Mapping[str, Any], *, at: datetime) -> object:
        """Keep a signed checkpoint."""
        ...

    def latest(self) -> str | None:
        """The newest checkpoint as kept (its signature unchecked), ``None`` when there is none."""
        ...

    def all(self) -> list[str]:
        """Every checkpoint as kept, oldest first."""
        ...


@runtime_checkable
class PersonalDataStore(Protocol):
    """Personal data (payout details, contacts) kept apart from orders and the audit log, erasable."""

    def add_personal_data(self, item: PersonalData, *, now: datetime) -> None:
        """Keep personal data apart from orders."""
        ...

    def get_personal_data(self, ref: str) -> PersonalData | None:
        """Return personal data by its reference (``None`` once erased)."""
        ...

    def erase_personal_data(
        self,
        subject_ref: str,
        *,
        now: datetime,
        audit: Sequence[AuditFact] = (),
        scope: Scope | None = None,
        redactions: Mapping[str, str] | None = None,
    ) -> int:
        """Erase a customer's personal data (and rewrite the quotes in ``redactions``); return the count."""
        ...


@runtime_checkable
class PromotionBudgets(Protocol):
    """What promotions have used of their budgets (reserved when a checkout is confirmed)."""

    def promotion_usage(self) -> dict[str, tuple[int, Money]]:
        """Return each promotion's redemptions and total spent so far."""
        ...


@runtime_checkable
class Ledger(Protocol):
    """The settlement ledger: append-only entries per order (see :mod:`tradein_sdk._domain.ledger`)."""

    def ledger_entries(self, order_id: str) -> list[LedgerEntry]:
        """Return an order's entries, oldest first."""
        ...

    def append_ledger(
        self,
        entries: Sequence[LedgerEntry],
        *,
        now: datetime,
        audit: Callable[[Sequence[LedgerEntry]], Sequence[AuditFact]] | None = None,
    ) -> list[LedgerEntry]:
        """Append entries not posted before (by id), audit them (``audit`` makes the facts); return them."""
        ...

    def installments_due(
        self, period: str, *, limit: int = 1000, after: int = 0, scope: Scope | None = None
    ) -> list[tuple[int, LedgerEntry]]:
        """Installments due by ``period``, not yet credited or stopped: (position, entry) after ``after``."""
        ...

    def credit_installments(
        self,
        period: str,
        *,
        now: datetime,
        cause: str,
        audit: AuditFact,
        ids: Sequence[str] | None = None,
        scope: Scope | None = None,
    ) -> tuple[int, dict[str, Money]]:
        """Credit the installments due up to ``period`` (only ``ids`` when given), each once.

        Returns how many and the total per currency; a ``cause`` used before credits nothing.
        """
        ...

    def ledger_sums(
        self, *, start: datetime | None, end: datetime, scope: Scope | None = None
    ) -> list[LedgerSum]:
        """Sum the entries posted in ``[start, end)`` by kind (and promotion), for the period report."""
        ...


@runtime_checkable
class IdempotencyKeys(Protocol):
    """The idempotency keys of the HTTP service and the answers kept for them."""

    def claim_idempotency_key(
        self, *, client: str, key: str, request_hash: str, now: datetime, lock_for: timedelta
    ) -> StoredResponse | None:
        """Start a request under an idempotency key, or return the answer kept for it."""
        ...

    def save_idempotent_response(self, *, client: str, key: str, response: StoredResponse) -> None:
        """Keep the answer of a request started with :meth:`claim_idempotency_key`."""
        ...

    def release_idempotency_key(self, *, client: str, key: str) -> None:
        """Forget a key whose request ended without an answer worth repeating."""
        ...

    def purge_idempotency_keys(self, *, created_before: datetime) -> int:
        """Forget the keys created before a time; return how many."""
        ...


@runtime_checkable
class WebhookOutbox(Protocol):
    """Webhooks written with order changes, waiting to be delivered."""

    def due_webhooks(self, *, now: datetime, limit: int = 100) -> list[PendingWebhook]:
        """Return outbox rows due for an attempt, oldest first."""
        ...

    def claim_webhook(self, delivery_id: str, *, due_at: datetime, until: datetime) -> bool:
        """Take a due row for one attempt (``False``: another process took it)."""
        ...

    def finish_webhook(
        self,
        delivery_id: str,
        *,
        attempts: int,
        delivered_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        failed: bool = False,
        error: str | None = None,
    ) -> None:
        """Record an attempt's end: delivered, planned again, or given up."""
        ...

    def claim_due_webhooks(self, *, now: datetime, until: datetime, limit: int = 100) -> list[PendingWebhook]:
        """Take up to ``limit`` due rows at once, leased until ``until`` (rows other workers hold skipped).

        Each returned row's ``next_attempt_at`` is its lease; pass it to :meth:`finish_leased_webhook`.
        """
        ...

    def finish_leased_webhook(
        self,
        delivery_id: str,
        *,
        leased_until: datetime,
        attempts: int,
        delivered_at: datetime | None = None,
        next_attempt_at: datetime | None = None,
        failed: bool = False,
        error: str | None = None,
    ) -> bool:
        """Record an attempt's end if the lease still holds (``False``: it expired and another took it)."""
        ...

    def dead_webhooks(
        self, *, limit: int = 100, after: str | None = None, scope: Scope | None = None
    ) -> list[DeadWebhook]:
        """Return the rows given up, oldest first (``after``: a delivery id, for the next page)."""
        ...

    def replay_webhooks(
        self,
        *,
        now: datetime,
        delivery_ids: Sequence[str] = (),
        event_ids: Sequence[str] = (),
        all_dead: bool = False,
        scope: Scope | None = None,
    ) -> int:
        """Make finished rows (delivered or dead) due again with a fresh attempt count; return how many."""
        ...

    def outbox_counts(self) -> OutboxCounts:
        """Count the rows by state (for metrics and the CLI)."""
        ...

    def claim_schedule_slot(self, name: str, *, slot: datetime, holder: str, now: datetime) -> bool:
        """Claim the run of job ``name`` for ``slot`` (``False``: that slot was claimed already)."""
        ...


@attrs.frozen(kw_only=True)
class ApiKeyRecord:
    """An API key as the store keeps it (its digest only; the key itself is shown once, when minted).

    Attributes:
        key_id: its public id (``key_…``).
        scope: the tenant, organisation and role it grants.
        label: what the operator called it (a terminal, a partner system).
        created_at: when it was minted.
        expires_at: when it stops working (set when it is rotated), if ever.
        revoked_at: when it was revoked, if it was.
        last_used_at: when it last authenticated a request (kept to the minute).
    """

    key_id: str
    scope: Scope
    label: str | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether the key authenticates requests at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@runtime_checkable
class Tenancy(Protocol):
    """API keys by tenant and role, tenants' webhook endpoints, and which provider handles an order."""

    def add_api_key(self, record: ApiKeyRecord, *, digest: str, audit: Sequence[AuditFact] = ()) -> None:
        """Keep a new key (its digest) with the scope it grants."""
        ...

    def authenticate_key(self, digest: str, *, now: datetime) -> ApiKeyRecord | None:
        """The active key with this digest (its last use noted), or ``None``."""
        ...

    def api_keys(self, *, organisation: str | None = None) -> list[ApiKeyRecord]:
        """Every key (of one organisation), newest first."""
        ...

    def end_api_key(
        self, key_id: str, *, now: datetime, revoke: bool, expires_at: datetime | None = None
    ) -> ApiKeyRecord:
        """Revoke a key now, or let it expire at ``expires_at`` (a rotation's grace period)."""
        ...

    def add_webhook_endpoint(self, endpoint: WebhookEndpoint, *, now: datetime) -> None:
        """Register a tenant's (or an organisation's) webhook endpoint."""
        ...

    def webhook_endpoints_of(
        self, *, organisation: str | None = None, tenant: str | None = None, ids: Sequence[str] = ()
    ) -> list[WebhookEndpoint]:
        """Active endpoints: of an organisation (with ``tenant``: those that receive its events), or by id."""
        ...

    def change_webhook_endpoint(
        self,
        endpoint_id: str,
        *,
        organisation: str | None,
        now: datetime,
        secrets: WebhookSecrets | None = None,
        disable: bool = False,
    ) -> WebhookEndpoint:
        """Replace an endpoint's secrets (a rotation) or disable it."""
        ...

    def assign_order(
        self,
        order_id: str,
        *,
        provider: str | None,
        scope: Scope | None,
        audit: Sequence[AuditFact],
        now: datetime,
    ) -> None:
        """Assign an order's devices to a provider (``None``: take the assignment back)."""
        ...


@runtime_checkable
class Store(
    QuoteStore,
    OrderStore,
    AuditLog,
    PersonalDataStore,
    PromotionBudgets,
    Ledger,
    IdempotencyKeys,
    WebhookOutbox,
    Protocol,
):
    """Every storage concern in one place, as :class:`~tradein_sdk.SQLStore` keeps them."""

    def migrate(self) -> int:
        """Bring the schema up to date and return its version."""
        ...

    def add_document(self, *, kind: str, content_hash: str, document: str) -> None:
        """Keep a document under its content hash (idempotent)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


_Port = TypeVar("_Port")


def require(store: object, port: type[_Port]) -> _Port:
    """Return ``store`` as the ``port`` a use case needs.

    Args:
        store: the store the facade was given.
        port: the concern the use case needs (:class:`OrderStore`, :class:`AuditLog`, ...).

    Returns:
        ``store`` itself.

    Raises:
        ConfigurationError: the store does not implement ``port`` (a quote store alone keeps no orders).
    """
    if isinstance(store, port):
        return store
    raise ConfigurationError(
        "the store ({store}) does not implement {port}, which this use case needs",
        store=type(store).__name__,
        port=port.__name__,
    )


# -- other ports -----------------------------------------------------------------------------------------


class PriceSource(Protocol):
    """Where the price book of a market comes from."""

    def price_book(self, market: str) -> PriceBook:
        """Return the price book in force for ``market`` (an ISO 3166-1 alpha-2 code)."""
        ...


class InsuranceOfferSource(Protocol):
    """Where the insurance offers for a device at checkout come from (a plan catalog, a provider's API)."""

    def offers(
        self,
        *,
        category: DeviceCategory,
        device_price: Money,
        condition: PurchaseCondition,
        country: str,
        purchased_on: date,
        today: date,
        with_trade_in: bool,
    ) -> tuple[InsuranceOffer, ...]:
        """Return the offers for this device and customer (empty when none fits)."""
        ...


class Fulfilment(Protocol):
    """What the order lifecycle needs from whoever moves and receives devices."""

    def issue_label(
        self, order_ref: str, devices: Sequence[LabelDevice], *, send_by: datetime
    ) -> ShippingLabel:
        """Issue a shipping label for the devices of an order."""
        ...
