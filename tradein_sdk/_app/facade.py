"""The facade: :class:`TradeIn`, the one object a shop creates; every use case is a method on it."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar, cast

import attrs

from grading_questionnaire import Audience, VerificationDepth, build_questionnaire, load_questionnaire
from grading_questionnaire._errors import AnswersInvalidError as QuestionnaireAnswersInvalidError
from grading_questionnaire._i18n import N_
from tradein_sdk._adapters.fulfilment import LocalFulfilment
from tradein_sdk._adapters.prices import PriceBookSource
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._app.checkout import CheckoutUseCases
from tradein_sdk._app.co2 import CO2UseCases
from tradein_sdk._app.erasure import ErasureUseCases
from tradein_sdk._app.fleet import FleetUseCases
from tradein_sdk._app.guarantees import GuaranteeUseCases
from tradein_sdk._app.ledger import LedgerUseCases
from tradein_sdk._app.orders import OrderUseCases
from tradein_sdk._app.receipts import ReceiptUseCases
from tradein_sdk._app.tenancy import TenancyUseCases
from tradein_sdk._domain.catalog import Catalog
from tradein_sdk._domain.checkout import ClawbackPolicy
from tradein_sdk._domain.clock import Clock, SystemClock
from tradein_sdk._domain.converters import document_text, json_converter
from tradein_sdk._domain.device_answers import device_answer_problems
from tradein_sdk._domain.devices import DeviceCategory, DeviceModel
from tradein_sdk._domain.identifiers import checked_text, parse_imei
from tradein_sdk._domain.insurance import PlanCatalogOfferSource
from tradein_sdk._domain.orders.model import DEFAULT_POLICY
from tradein_sdk._domain.orders.vocabulary import Actor
from tradein_sdk._domain.pricing import parse_pricebook, value_device
from tradein_sdk._domain.quotes import (
    Channel,
    DocumentRef,
    IssuedQuote,
    Quote,
    QuoteKind,
    QuoteLine,
    assemble_quote,
    explain_lines,
)
from tradein_sdk._domain.search import SearchResults
from tradein_sdk._domain.shipping import ReceivingAddress
from tradein_sdk._domain.tokens import KeyRing, QuoteClaims, issue_quote_token, verify_quote_token
from tradein_sdk._errors import (
    DeviceNotFoundError,
    InvalidIMEIError,
    QuoteTamperedError,
    VariantRequiredError,
    canonical_locale,
    questionnaire_errors,
)
from tradein_sdk._ports import (
    AuditFact,
    AuditLog,
    PriceSource,
    QuoteRecord,
    QuoteStore,
    Redemption,
    Store,
    StoredDocument,
    require,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date, datetime

    from grading_questionnaire import ConditionReport, Questionnaire, RenderedQuestionnaire
    from tradein_sdk._domain.co2 import CO2Factors
    from tradein_sdk._domain.devices import DeviceVariant
    from tradein_sdk._domain.guarantees import GuaranteePlans
    from tradein_sdk._domain.orders.model import DeliveryPolicy
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._domain.pricing import PriceBook
    from tradein_sdk._domain.promotions import PromotionBook
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tenancy import Scope
    from tradein_sdk._ports import CheckpointLog, Fulfilment, InsuranceOfferSource

_Port = TypeVar("_Port")

DEFAULT_VALIDITY: Mapping[Channel, timedelta] = {
    Channel.ONLINE: timedelta(days=14),
    Channel.STORE: timedelta(days=1),
}
"""How long a quote is valid by channel unless configured otherwise."""

DATA_DIR_ENV = "TRADEIN_DATA_DIR"
DATABASE_URL_ENV = "TRADEIN_DATABASE_URL"
CHECKPOINTS_ENV = "TRADEIN_AUDIT_CHECKPOINTS"
"""Where :meth:`TradeIn.embedded` keeps audit checkpoints (default: ``audit-checkpoints/`` in data_dir)."""


MAX_AUDIENCE_LENGTH: Final = 120
"""The longest shop or store id a quote can be issued for (what the store keeps)."""
MAX_REFERENCE_LENGTH: Final = 200
"""The longest redemption reference the store keeps."""


def default_data_dir() -> Path:
    """Return ``$TRADEIN_DATA_DIR``, else ``$XDG_DATA_HOME/tradein`` or ``~/.local/share/tradein``."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tradein"


@attrs.frozen(kw_only=True)
class StoredQuote:
    """A quote as stored, with its redemption once redeemed.

    Attributes:
        quote: the quote.
        redemption: its redemption, or ``None``.
    """

    quote: Quote
    redemption: Redemption | None


class TradeIn(
    OrderUseCases,
    CheckoutUseCases,
    LedgerUseCases,
    ReceiptUseCases,
    TenancyUseCases,
    ErasureUseCases,
    CO2UseCases,
    FleetUseCases,
    GuaranteeUseCases,
):
    """Device trade-in for one shop: questionnaires, grading, quotes, tokens and redemption.

    Create it once and share it; it is safe to use from several threads. For the bundled defaults use
    :meth:`embedded`; in production pass the store, keys and data explicitly.
    """

    def __init__(
        self,
        *,
        store: Store | QuoteStore,
        key_ring: KeyRing,
        audience: str,
        catalog: Catalog | None = None,
        questionnaires: Mapping[str, Questionnaire] | None = None,
        prices: PriceSource | None = None,
        clock: Clock | None = None,
        market: str = "DE",
        locale: str = "en",
        validity: Mapping[Channel, timedelta] | None = None,
        policy: DeliveryPolicy | None = None,
        fulfilment: Fulfilment | None = None,
        promotions: PromotionBook | None = None,
        insurance: InsuranceOfferSource | None = None,
        clawback_policy: ClawbackPolicy | None = None,
        webhook_endpoints: Sequence[WebhookEndpoint] = (),
        organisation: str | None = None,
        signing_keys: SigningKeys | None = None,
        checkpoints: CheckpointLog | None = None,
        co2_factors: CO2Factors | None = None,
        guarantee_plans: GuaranteePlans | None = None,
    ) -> None:
        """Wire the parts together.

        Args:
            store: where quotes, orders, the audit log and personal data are kept (see :class:`SQLStore`).
                A store of one concern serves the use cases of that concern: a :class:`QuoteStore` alone
                serves quotes, tokens and redemption; the order and checkout use cases then raise
                :class:`ConfigurationError`.
            key_ring: the keys that sign and verify quote tokens.
            audience: the shop or store id quotes are issued for; tokens verify only here.
            catalog: the device catalog (default: the bundled reference catalog).
            questionnaires: a questionnaire per device category (default: the bundled ones).
            prices: where price books come from (default: the bundled reference books).
            clock: where "now" comes from (default: the system clock).
            market: the default market (ISO 3166-1 alpha-2).
            locale: the default locale for texts.
            validity: how long quotes are valid per channel (default: 14 days online, 1 day in store).
            policy: the shop's deadlines for orders (default: 14 days to send, 7 to answer a revision).
            promotions: the shop's trade-in promotions (default: none).
            insurance: where protection offers come from (default: the example plan catalog).
            clawback_policy: what is charged back when instant credit is not earned (default: the credit
                and its promotions, no tax, 7 days to ask for a rejected device back).
            fulfilment: how devices travel (default: the shop receives them itself; give a
                :class:`LocalFulfilment` with the receiving address to print on labels).
            webhook_endpoints: where to send webhooks about devices (received, inspected, revised, paid,
                returned); each order change writes them to an outbox that :meth:`deliver_webhooks` sends.
            organisation: the organisation the shop (``audience``) belongs to (default: the shop itself);
                quotes and orders are stored as the shop's and the organisation's.
            signing_keys: the installation's Ed25519 keys (:class:`SigningKeys`): they sign audit
                checkpoints and erasure certificates; give the store the seals made from them
                (``SQLStore(..., audit_seals=AuditSeals.from_signing_keys(keys))``).
            checkpoints: where signed audit checkpoints are kept, outside the database
                (:class:`DirectoryCheckpoints`).
            co2_factors: the CO2e factors for avoided-emissions figures (default: the bundled document,
                :meth:`CO2Factors.bundled`; a shop's own with :func:`load_co2_factors`).
            guarantee_plans: the buy-back guarantee plans offered with new devices (default: the bundled
                examples; a shop's own with :func:`parse_guarantee_plans`).
        """
        self._store: QuoteStore = store
        self._ports: dict[type, object] = {}
        self.key_ring = key_ring
        self.audience = audience
        self.organisation = organisation or audience
        self.scope: Scope | None = None
        self.catalog = catalog or Catalog.bundled()
        self._questionnaires = dict(questionnaires or {})
        self.prices = prices or PriceBookSource.bundled()
        self.clock = clock or SystemClock()
        self.market = market
        self.locale = canonical_locale(locale)
        self.validity = {**DEFAULT_VALIDITY, **(validity or {})}
        self._documents: dict[str, StoredDocument] = {}
        self._snapshots: dict[tuple[str, str], tuple[Questionnaire, PriceBook]] = {}
        self.policy = policy or DEFAULT_POLICY
        self.promotions = promotions
        self.insurance = insurance or PlanCatalogOfferSource.example()
        self.clawback_policy = clawback_policy or ClawbackPolicy()
        self.webhook_endpoints = tuple(webhook_endpoints)
        self.signing_keys = signing_keys
        self.checkpoints = checkpoints
        self._co2_factors = co2_factors
        self._guarantee_plans = guarantee_plans
        self._webhook_senders = {}
        self.fulfilment = fulfilment or LocalFulfilment(
            ReceivingAddress(name="Trade-in returns", lines=("(set the receiving address)",))
        )

    @classmethod
    def embedded(
        cls,
        data_dir: str | Path | None = None,
        *,
        database_url: str | None = None,
        audience: str = "embedded-shop",
        market: str = "DE",
        locale: str = "de_DE",
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        questionnaires: Mapping[str, Questionnaire] | None = None,
        prices: PriceSource | None = None,
        policy: DeliveryPolicy | None = None,
        fulfilment: Fulfilment | None = None,
        promotions: PromotionBook | None = None,
        insurance: InsuranceOfferSource | None = None,
        clawback_policy: ClawbackPolicy | None = None,
        webhook_endpoints: Sequence[WebhookEndpoint] = (),
        key_ring: KeyRing | None = None,
        signing_keys: SigningKeys | None = None,
        co2_factors: CO2Factors | None = None,
        guarantee_plans: GuaranteePlans | None = None,
    ) -> TradeIn:
        """The bundled defaults: bundled data, a SQLite file and signing keys kept in ``data_dir``.

        Every instance of a shop must sign and verify quote tokens with the same keys: give them in
        ``$TRADEIN_QUOTE_KEYS`` (``kid1=<base64url secret>,kid2=<...>``, the first active) or as ``key_ring``;
        only without either is a key generated and kept in ``data_dir``.

        Args:
            data_dir: where the database and the key file live (default: :func:`default_data_dir`).
            database_url: use this database instead (``$TRADEIN_DATABASE_URL`` when set).
            audience: the shop id tokens are issued for.
            market: the default market.
            locale: the default locale.
            clock: where "now" comes from.
            catalog: a catalog instead of the bundled one.
            questionnaires: the shop's own questionnaires by category, instead of the bundled ones.
            prices: a price source instead of the bundled reference books.
            policy: the shop's order deadlines.
            fulfilment: how devices travel (labels).
            promotions: the shop's trade-in promotions.
            insurance: where protection offers come from.
            clawback_policy: what is charged back when instant credit is not earned.
            webhook_endpoints: where to send webhooks about devices.
            key_ring: the quote-signing keys (default: ``$TRADEIN_QUOTE_KEYS``, else a key file in
                ``data_dir``).
            signing_keys: the installation's Ed25519 keys, which seal audit entries and sign checkpoints and
                certificates (default: ``$TRADEIN_SIGNING_KEYS``, else ``signing-keys.json`` in ``data_dir``;
                every instance of a service must share them). Checkpoints are kept in
                ``$TRADEIN_AUDIT_CHECKPOINTS``, else ``audit-checkpoints/`` in ``data_dir``.
            co2_factors: the CO2e factors (default: the bundled document).
            guarantee_plans: the buy-back guarantee plans (default: the bundled examples).

        Returns:
            A ready-to-use facade.

        Raises:
            ConfigurationError: ``$TRADEIN_QUOTE_KEYS`` is set but malformed (the entry is named, never a
                secret).
        """
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        directory.mkdir(parents=True, exist_ok=True)
        from tradein_sdk._adapters.checkpoints import DirectoryCheckpoints  # noqa: PLC0415 - cryptography loads with the first installation
        from tradein_sdk._domain.checkpoints import AuditSeals  # noqa: PLC0415
        from tradein_sdk._domain.signing import SigningKeys  # noqa: PLC0415

        url = database_url or os.environ.get(DATABASE_URL_ENV)
        keys = signing_keys or SigningKeys.configured(directory / "signing-keys.json")
        seals = AuditSeals.from_signing_keys(keys)
        store = SQLStore(url or f"sqlite:///{directory / 'tradein.sqlite3'}", clock=clock, audit_seals=seals)
        return cls(
            signing_keys=keys,
            checkpoints=DirectoryCheckpoints(
                os.environ.get(CHECKPOINTS_ENV) or directory / "audit-checkpoints"
            ),
            store=store,
            key_ring=key_ring or KeyRing.configured(directory / "quote-keys.json"),
            audience=audience,
            catalog=catalog,
            questionnaires=questionnaires,
            prices=prices,
            clock=clock,
            market=market,
            locale=locale,
            policy=policy,
            fulfilment=fulfilment,
            promotions=promotions,
            insurance=insurance,
            clawback_policy=clawback_policy,
            webhook_endpoints=webhook_endpoints,
            co2_factors=co2_factors,
            guarantee_plans=guarantee_plans,
        )

    # -- catalog -------------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store the facade was given, when it keeps every concern (a :class:`Store`: :class:`SQLStore`).

        Raises:
            ConfigurationError: the facade was given a store of fewer concerns (a :class:`QuoteStore` alone).
        """
        return self._port(Store)

    def scoped(self, scope: Scope) -> Self:
        """This facade acting for one API key of a shared service: every read and write kept inside ``scope``.

        The copy shares the store, keys and caches. Its quotes are issued for ``scope.tenant`` (the audience)
        and its orders belong to the tenant and its organisation; an id of another tenant is not found.
        """
        view = copy.copy(self)
        view.scope = scope
        view.audience = scope.tenant
        view.organisation = scope.organisation
        return view

    @property
    def _in_scope(self) -> dict[str, Any]:
        """The ``scope`` keyword for store calls: empty for the whole shop (stores without tenancy work)."""
        return {} if self.scope is None else {"scope": self.scope}

    def _port(self, port: type[_Port]) -> _Port:
        """The store as the ``port`` a use case needs, checked once per port.

        Raises:
            ConfigurationError: the store does not implement ``port``.
        """
        found = self._ports.get(port)
        if found is None:
            found = self._ports[port] = require(self._store, port)
        return cast("_Port", found)

    def search(self, text: str, *, limit: int = 10, category: DeviceCategory | None = None) -> SearchResults:
        """Find devices of the catalog by free text, best match first (``iphone 13 128``).

        Args:
            text: what the shopper typed.
            limit: at most this many results.
            category: only devices of this category.

        Returns:
            The results as plain data (the form the trade-in service sends).
        """
        hits = self.catalog.search(text, limit=limit, category=category)
        return SearchResults.from_hits(text, self.catalog, hits)

    # -- questionnaires and grading ------------------------------------------------------------------

    def questionnaire(self, category: str) -> Questionnaire:
        """Return the questionnaire for a device category (``smartphone``, ``tablet``, ``smartwatch``).

        Raises:
            QuestionnaireNotFoundError: no questionnaire exists for the category.
        """
        found = self._questionnaires.get(category)
        if found is None:
            with questionnaire_errors():
                found = self._questionnaires[category] = load_questionnaire(category)
        return found

    def render_questionnaire(
        self, category: str, locale: str | None = None, *, staff: bool = False
    ) -> RenderedQuestionnaire:
        """Return the questionnaire of ``category`` rendered for a frontend in ``locale``.

        Args:
            category: the device category.
            locale: the shopper's locale (default: the facade's).
            staff: include the staff-only checks (blocklist, authenticity) for a store terminal.

        Raises:
            QuestionnaireNotFoundError: no questionnaire exists for the category.
            UnsupportedLocaleError: the locale is unknown.
        """
        with questionnaire_errors():
            return self.questionnaire(category).render(
                locale or self.locale, audience=Audience.STAFF if staff else Audience.SHOPPER
            )

    def grade(
        self,
        category: str,
        answers: object,
        *,
        verification: str = "self_declared",
        diagnostics: object | None = None,
    ) -> ConditionReport:
        """Grade answers (and optional diagnostics results) into a condition report.

        Args:
            category: the device category.
            answers: the answers document, keyed by question id.
            verification: ``self_declared`` (the shopper), ``staff_verified`` or ``measured``.
            diagnostics: a diagnostics document (``schemas/diagnostics.schema.json``), merged in as measured.

        Raises:
            AnswersInvalidError: the answers do not fit; ``problems`` lists each with path and code.
            DocumentInvalidError: the diagnostics document is invalid.
        """
        questionnaire = self.questionnaire(category)
        with questionnaire_errors():
            measured = questionnaire.import_diagnostics(diagnostics) if diagnostics is not None else None
            return questionnaire.evaluate(
                answers, verification=VerificationDepth(verification), diagnostics=measured
            )

    # -- quotes ------------------------------------------------------------------------------------

    def quote(
        self,
        device_id: str,
        answers: object,
        *,
        market: str | None = None,
        locale: str | None = None,
        imei: str | None = None,
        channel: Channel = Channel.ONLINE,
        verification: str = "self_declared",
        diagnostics: object | None = None,
        audience: str | None = None,
    ) -> IssuedQuote:
        """Grade, price, sign and store a quote for a device variant.

        A self-declared quote is an estimate, subject to inspection; one verified by staff or measured
        by diagnostics is guaranteed and needs the IMEI. A knocked-out device gets a recycling-only quote
        with its reasons, not an error.

        Args:
            device_id: the catalog variant id (``apple-iphone-13-128gb``).
            answers: the questionnaire answers.
            market: the market to price in (default: the facade's).
            locale: the locale the shopper sees texts in (default: the facade's).
            imei: the device's IMEI (required for a guaranteed quote).
            channel: online or store (sets the validity).
            verification: ``self_declared``, ``staff_verified`` or ``measured``.
            diagnostics: a diagnostics document merged in as measured.
            audience: the shop or store id the quote is for (default: the facade's).

        Returns:
            The stored quote and its signed token.

        Raises:
            DeviceNotFoundError: the id is not a variant of the catalog (``VariantRequiredError``, which lists
                them, for a model of several variants).
            AnswersInvalidError: the answers do not fit the questionnaire, or name another platform than the
                device's (``device_mismatch`` at ``$.platform``: an iPhone's answers must say iOS, so that
                its Activation Lock question is asked).
            InvalidIMEIError: the IMEI is malformed, missing for a guaranteed quote, or its TAC belongs
                to another model.
            PriceUnavailableError: no price for this device and market.
            InvalidTextError: ``audience`` is empty, longer than 120 characters or not printable text.
            StoreError: the quote could not be stored (nothing was issued).
        """
        audience = checked_text(audience or self.audience, field="audience", maximum=MAX_AUDIENCE_LENGTH)
        entry = self.catalog.lookup(device_id)
        if entry.variant is None and len(entry.model.variants) != 1:
            raise VariantRequiredError(
                entry.model.id, tuple((variant.id, variant.storage_label) for variant in entry.model.variants)
            )
        variant = entry.variant or entry.model.variants[0]
        model = entry.model
        locale = canonical_locale(locale or self.locale)
        kind = QuoteKind.ESTIMATE if verification == "self_declared" else QuoteKind.GUARANTEED
        checked_imei = self._check_imei(imei, model, required=kind is QuoteKind.GUARANTEED)
        self._check_answers_fit(model, answers, locale)
        report = self.grade(model.category.value, answers, verification=verification, diagnostics=diagnostics)
        book = self.prices.price_book(market or self.market)
        now = self.clock.now().replace(microsecond=0)
        return self._issue_quote(
            book,
            model=model,
            variant=variant,
            report=report,
            kind=kind,
            channel=channel,
            audience=audience,
            locale=locale,
            imei=checked_imei,
            now=now,
            expires_at=now + self.validity[channel],
        )

    def _issue_quote(
        self,
        book: PriceBook,
        *,
        model: DeviceModel,
        variant: DeviceVariant,
        report: ConditionReport,
        kind: QuoteKind,
        channel: Channel,
        audience: str,
        locale: str,
        imei: str | None,
        now: datetime,
        expires_at: datetime,
        as_of: date | None = None,
    ) -> IssuedQuote:
        """Price a graded device with ``book``; sign and store its quote (the last steps of :meth:`quote`).

        ``as_of`` is the day the device's age is counted to (default: today); a fleet batch's quotes keep the
        day of its portfolio quote, whose amounts were guaranteed.
        """
        valuation = value_device(book, model=model, variant=variant, report=report, as_of=as_of or now.date())
        questionnaire = self.questionnaire(model.category.value)
        quote = assemble_quote(
            quote_id=f"q_{uuid.uuid4().hex}",
            kind=kind,
            channel=channel,
            audience=audience,
            locale=locale,
            issued_at=now,
            expires_at=expires_at,
            model=model,
            variant=variant,
            imei=imei,
            report=report,
            valuation=valuation,
            questionnaire=questionnaire,
            catalog=DocumentRef(
                id=self.catalog.version, version=self.catalog.version, content_hash=self.catalog.content_hash
            ),
            model_document=self.catalog.model_document(model.id),
        )
        document = quote.document_text()
        self._store.add_quote(
            QuoteRecord(
                quote_id=quote.id,
                issued_at=quote.issued_at,
                expires_at=quote.expires_at,
                amount=quote.amount,
                audience=quote.audience,
                redeemable=not quote.recycle_only,
                document=document,
                organisation=self.organisation,
            ),
            documents=(
                self._document("questionnaire", questionnaire.content_hash, questionnaire.to_json),
                self._document("pricebook", book.content_hash, lambda: dict(book.document)),
            ),
            audit=[
                AuditFact(
                    actor=Actor.SYSTEM.value,
                    action="quote.issued",
                    subject=quote.id,
                    details={
                        "amount": quote.amount.to_json(),
                        "expires_at": quote.expires_at.isoformat(),
                        "document": "sha256:" + hashlib.sha256(document.encode()).hexdigest(),
                        "kind": quote.kind.value,
                        "audience": quote.audience,
                    },
                )
            ],
        )
        token = issue_quote_token(
            QuoteClaims(
                quote_id=quote.id,
                amount=quote.amount,
                audience=quote.audience,
                issued_at=quote.issued_at,
                expires_at=quote.expires_at,
            ),
            self.key_ring,
        )
        return IssuedQuote(quote=quote, token=token)

    def _document(self, kind: str, content_hash: str, content: Callable[[], object]) -> StoredDocument:
        """The document to keep beside a quote, serialized once per content hash."""
        document = self._documents.get(content_hash)
        if document is None:
            text = document_text(content())
            document = self._documents[content_hash] = StoredDocument(
                kind=kind, content_hash=content_hash, text=text
            )
        return document

    def _check_answers_fit(self, model: DeviceModel, answers: object, locale: str) -> None:
        """Refuse answers naming another platform than the device's: its lock questions would be skipped."""
        if not isinstance(answers, Mapping):
            return  # the questionnaire reports answers that are not an object
        questionnaire = self.questionnaire(model.category.value)
        problems = device_answer_problems(model, answers, questionnaire, locale)
        if problems:
            with questionnaire_errors():
                raise QuestionnaireAnswersInvalidError(questionnaire_id=questionnaire.id, problems=problems)

    def _check_imei(self, imei: str | None, model: DeviceModel, *, required: bool) -> str | None:

        if imei is None:
            if required:
                raise InvalidIMEIError(
                    N_("A guaranteed quote needs the device's IMEI."), rule="missing", value=""
                )
            return None
        parsed = parse_imei(imei)
        try:
            identified = self.catalog.model_for_imei(parsed.value)
        except DeviceNotFoundError:
            return parsed.value
        if identified.id != model.id:
            raise InvalidIMEIError(
                N_("IMEI “{value}” belongs to the model {other}, not to {expected}."),
                rule="model_mismatch",
                value=parsed.value,
                other=identified.display_name,
                expected=model.display_name,
            )
        return parsed.value

    def verify_token(self, token: str, *, audience: str | None = None) -> QuoteClaims:
        """Verify a quote token offline: signature, key id, audience and expiry.

        Raises:
            QuoteTokenError: a subclass says why (``token_malformed``, ``token_signature_invalid``,
                ``token_unknown_key``, ``token_expired``, ``token_wrong_audience``).
        """
        return verify_quote_token(
            token, self.key_ring, audience=audience or self.audience, now=self.clock.now()
        )

    def get_quote(self, quote_id: str) -> StoredQuote:
        """Return a stored quote and its redemption.

        Raises:
            QuoteNotFoundError: no quote has that id (in this facade's scope).
        """
        record, redemption = self._store.get_quote(quote_id, **self._in_scope)
        return _stored_quote(record, redemption)

    def _order_quote(self, quote_id: str) -> Quote:
        """The quote behind a device of an order the caller may already see (read whatever the scope)."""
        record, redemption = self._store.get_quote(quote_id)
        return _stored_quote(record, redemption).quote

    def redeem(self, token: str, *, reference: str | None = None, audience: str | None = None) -> Redemption:
        """Redeem the quote a token names, exactly once, crediting the stored amount.

        The token is verified first; the amount credited comes from the stored quote, never from the
        token or the caller.

        Args:
            token: the quote token the frontend carried.
            reference: the shop's reference for the redemption (an order number).
            audience: the shop or store redeeming (default: the facade's).

        Raises:
            QuoteTokenError: the token does not verify.
            QuoteAlreadyRedeemedError: the quote was redeemed before.
            QuoteExpiredError: the quote's validity ended.
            QuoteNotRedeemableError: it is a recycling-only quote.
            QuoteTamperedError: the stored quote was changed after it was issued; nothing is credited.
            InvalidTextError: ``reference`` is empty, longer than 200 characters or not printable text.
        """
        if reference is not None:
            checked_text(reference, field="reference", maximum=MAX_REFERENCE_LENGTH)
        claims = self.verify_token(token, audience=audience)
        self.claimed_quote(claims)
        fact = AuditFact(
            actor=Actor.SYSTEM.value,
            action="quote.redeemed",
            subject=claims.quote_id,
            details={"reference": reference},
        )
        return self._store.redeem_quote(
            claims.quote_id, now=self.clock.now(), reference=reference, audit=[fact], **self._in_scope
        )

    def claimed_quote(self, claims: QuoteClaims) -> StoredQuote:
        """Return the stored quote a verified token names, checked against what the token signed.

        The amount a redemption or an order credits is the stored one; it must still be the amount, the
        currency and the expiry the token was signed with. A stored quote changed after issue (a database
        edit) is refused, and the attempt is recorded in the audit log (``quote.tampered``) where the store
        keeps one.

        Args:
            claims: the claims of a token that verified (:meth:`verify_token`).

        Raises:
            QuoteNotFoundError: no quote has the token's id.
            QuoteTamperedError: the stored quote differs from the token (``.field`` says where).
        """
        record, redemption = self._store.get_quote(claims.quote_id, **self._in_scope)
        stored = _stored_quote(record, redemption)
        field = _tampered_field(claims, record, stored.quote)
        if field is not None:
            if isinstance(self._store, AuditLog):
                fact = AuditFact(
                    actor="system",
                    action="quote.tampered",
                    subject=claims.quote_id,
                    details={"field": field, "signed": claims.amount.to_json()},
                )
                self._store.add_audit([fact], now=self.clock.now())
            raise QuoteTamperedError(claims.quote_id, field=field)
        return stored

    def explain(self, quote: Quote, locale: str) -> tuple[QuoteLine, ...]:
        """A quote's lines with their texts in ``locale``, for showing a quote after a language switch.

        The stored quote keeps the texts as the shopper saw them; this translates each line again from
        its message id and parameters, with grade labels from the quote's own questionnaire. Amounts,
        codes and order are the quote's.

        Args:
            quote: a stored quote (:meth:`get_quote`).
            locale: the locale to show the lines in.

        Returns:
            The lines, each with ``text`` in ``locale``.

        Raises:
            UnsupportedLocaleError: the locale is unknown.
        """
        locale = canonical_locale(locale)
        questionnaire, _ = self._snapshot_documents(quote)
        return explain_lines(quote.lines, questionnaire, locale)

    def reproduce_quote(self, quote_id: str) -> Quote:
        """Recompute a stored quote from its snapshot: the exact questionnaire, price book and device data.

        The result equals the stored quote whenever the computation is deterministic, whatever changed in
        the shop's current questionnaires, price books or catalog since.

        Raises:
            QuoteNotFoundError: no quote has that id.
        """
        stored = self.get_quote(quote_id).quote
        questionnaire, book = self._snapshot_documents(stored)
        with questionnaire_errors():
            report = questionnaire.evaluate(
                dict(stored.answers), verification=VerificationDepth(stored.verification)
            )
        model = json_converter().structure(dict(stored.device.model), DeviceModel)
        variant = next(variant for variant in model.variants if variant.id == stored.device.variant_id)
        valuation = value_device(book, model=model, variant=variant, report=report, as_of=stored.price_date)
        return assemble_quote(
            quote_id=stored.id,
            kind=stored.kind,
            channel=stored.channel,
            audience=stored.audience,
            locale=stored.locale,
            issued_at=stored.issued_at,
            expires_at=stored.expires_at,
            model=model,
            variant=variant,
            imei=stored.device.imei,
            report=report,
            valuation=valuation,
            questionnaire=questionnaire,
            catalog=stored.catalog,
        )

    def _snapshot_documents(self, quote: Quote) -> tuple[Questionnaire, PriceBook]:
        """The exact questionnaire and price book a quote was computed from, read back by content hash.

        Documents are immutable by hash, so each is read and built once per facade.
        """
        key = (quote.questionnaire.content_hash, quote.pricebook.content_hash)
        found = self._snapshots.get(key)
        if found is None:
            with questionnaire_errors():
                questionnaire = build_questionnaire(json.loads(self._store.get_document(key[0])))
            book = parse_pricebook(json.loads(self._store.get_document(key[1])))
            found = self._snapshots[key] = (questionnaire, book)
        return found

    def close(self) -> None:
        """Release the store's connections and the webhook senders' connection pools."""
        for sender in self._webhook_senders.values():
            sender.close()
        close = getattr(self._store, "close", None)
        if callable(close):
            close()


def _stored_quote(record: QuoteRecord, redemption: Redemption | None) -> StoredQuote:
    """A stored quote read back from its record (validated when it was issued)."""
    return StoredQuote(
        quote=Quote.from_json(json.loads(record.document), validate=False), redemption=redemption
    )


def _tampered_field(claims: QuoteClaims, record: QuoteRecord, quote: Quote) -> str | None:
    """What of a stored quote differs from what its token signed, or ``None`` when nothing does."""
    if record.quote_id != claims.quote_id or quote.id != claims.quote_id:
        return "quote_id"
    if record.amount.currency != claims.amount.currency or quote.amount.currency != claims.amount.currency:
        return "currency"
    if record.amount != claims.amount or quote.amount != claims.amount:
        return "amount"
    if record.expires_at != claims.expires_at or quote.expires_at != claims.expires_at:
        return "expires_at"
    return None
