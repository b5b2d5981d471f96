"""Tenancy use cases of :class:`~tradein_sdk.TradeIn`: API keys, webhook endpoints, dead letters, providers.

Keys are minted here and kept in the store as digests (:mod:`tradein_sdk._domain.tenancy`); the service asks
:meth:`TenancyUseCases.authenticate` for the scope of each request's key. A facade viewed through
:meth:`~tradein_sdk.TradeIn.scoped` keeps every one of these methods inside its scope: an admin key of one
organisation lists, rotates and replays only what its organisation owns.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from tradein_sdk._domain.orders.vocabulary import Actor
from tradein_sdk._domain.tenancy import Role, Scope, acting_actor, check_tenant, key_digest, mint_key
from tradein_sdk._errors import NotFoundError
from tradein_sdk._ports import ApiKeyRecord, AuditFact, Tenancy, WebhookOutbox

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from tradein_sdk._domain.clock import Clock
    from tradein_sdk._domain.orders.model import TradeInOrder
    from tradein_sdk._domain.outbox import WebhookEndpoint
    from tradein_sdk._ports import DeadWebhook

_Port = TypeVar("_Port")

DEFAULT_KEY_GRACE: Final = timedelta(days=7)
"""How long a rotated key keeps working beside its successor, by default."""


@attrs.frozen(kw_only=True)
class RegisteredEndpoint:
    """A webhook endpoint a tenant or organisation registered.

    Attributes:
        endpoint_id: its id (``whe_…``); outbox rows name it.
        url: where deliveries go.
        organisation: whose it is.
        tenant: the one tenant whose events it receives (``None``: the whole organisation's).
        events: the event types it receives (``None``: all).
        secret: the newest signing secret (``whsec_…``), shown when the endpoint is registered or its secret
            rotated, never when listed.
    """

    endpoint_id: str
    url: str
    organisation: str
    tenant: str | None
    events: tuple[str, ...] | None
    secret: str | None = attrs.field(default=None, repr=False)


def _registered(endpoint: WebhookEndpoint, secret: str | None = None) -> RegisteredEndpoint:
    return RegisteredEndpoint(
        endpoint_id=endpoint.key,
        url=endpoint.url,
        organisation=endpoint.organisation or "",
        tenant=endpoint.tenant,
        events=None if endpoint.events is None else tuple(sorted(endpoint.events)),
        secret=secret,
    )


class TenancyUseCases:
    """The tenancy methods of :class:`~tradein_sdk.TradeIn` (mixed into it)."""

    clock: Clock
    organisation: str
    scope: Scope | None

    if TYPE_CHECKING:

        @property
        def _in_scope(self) -> dict[str, Any]: ...
        def _port(self, port: type[_Port]) -> _Port: ...
        def order(self, order_id: str) -> TradeInOrder: ...

    # -- API keys ----------------------------------------------------------------------------------

    def authenticate(self, key: str) -> Scope | None:
        """The scope an API key grants, or ``None`` for a key that is unknown, revoked or expired.

        Raises:
            ConfigurationError: the store keeps no API keys.
        """
        record = self._port(Tenancy).authenticate_key(key_digest(key), now=self.clock.now())
        return None if record is None else record.scope

    def create_api_key(
        self, *, tenant: str, role: Role | str, organisation: str | None = None, label: str | None = None
    ) -> tuple[ApiKeyRecord, str]:
        """Mint an API key for a tenant; the key itself is returned once and kept only as its digest.

        Args:
            tenant: the shop, store or partner (``a-z 0-9 . _ -``, at most 120 characters).
            role: ``shop``, ``store``, ``back_office``, ``provider`` or ``admin``.
            organisation: the tenant's organisation (default: the tenant itself).
            label: a note for the operator (the terminal, the partner system).

        Returns:
            The key's record and the key, to hand to the client.

        Raises:
            InvalidTextError: ``tenant``, ``organisation`` or ``label`` cannot be kept.
            ValueError: ``role`` is not a role.
        """
        from tradein_sdk._domain.identifiers import checked_text  # noqa: PLC0415 - with the first key

        scope = Scope(tenant=check_tenant(tenant), organisation=organisation or tenant, role=Role(role))
        if label is not None:
            checked_text(label, field="label", maximum=120)
        minted = mint_key()
        record = ApiKeyRecord(key_id=minted.key_id, scope=scope, label=label, created_at=self.clock.now())
        fact = AuditFact(
            actor=Actor.SYSTEM.value,
            action="api_key.created",
            subject=minted.key_id,
            details={"tenant": scope.tenant, "organisation": scope.organisation, "role": scope.role.value},
        )
        self._port(Tenancy).add_api_key(record, digest=minted.digest, audit=[fact])
        return record, minted.secret

    def api_keys(self, *, organisation: str | None = None) -> list[ApiKeyRecord]:
        """Every API key (of one organisation), newest first, with its last use; never a key itself."""
        return self._port(Tenancy).api_keys(organisation=organisation)

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord:
        """Revoke a key now: the next request with it is refused (401).

        Raises:
            NotFoundError: no key has that id.
        """
        return self._port(Tenancy).end_api_key(key_id, now=self.clock.now(), revoke=True)

    def rotate_api_key(
        self, key_id: str, *, grace: timedelta = DEFAULT_KEY_GRACE
    ) -> tuple[ApiKeyRecord, str]:
        """Mint a successor with the same tenant, organisation and role; the old key works ``grace`` longer.

        Returns:
            The new key's record and the new key.

        Raises:
            NotFoundError: no key has that id.
        """
        now = self.clock.now()
        old = self._port(Tenancy).end_api_key(key_id, now=now, revoke=False, expires_at=now + grace)
        return self.create_api_key(
            tenant=old.scope.tenant,
            role=old.scope.role,
            organisation=old.scope.organisation,
            label=old.label,
        )

    # -- webhook endpoints --------------------------------------------------------------------------

    def register_webhook_endpoint(
        self, url: str, *, events: Iterable[str] | None = None, tenant: str | None = None
    ) -> RegisteredEndpoint:
        """Register an endpoint for this organisation's events (or one tenant's), with a new secret.

        Deliveries are signed with the endpoint's own secret (Standard Webhooks); only events of orders its
        organisation (or tenant) owns are sent to it.

        Args:
            url: the receiver (``https://…``).
            events: the event types to send (default: all).
            tenant: only this tenant's events (a shop or store key may register only its own).

        Returns:
            The endpoint, with its secret shown this once.

        Raises:
            ConfigurationError: the URL is not http(s).
            InvalidTextError: ``tenant`` is not a tenant id.
        """
        from tradein_sdk._domain.outbox import WebhookEndpoint  # noqa: PLC0415 - webhooks load with the first endpoint
        from tradein_sdk._domain.webhooks import WebhookSecrets  # noqa: PLC0415

        if self.scope is not None and not self.scope.by_organisation:
            tenant = self.scope.tenant
        if tenant is not None:
            check_tenant(tenant)
        fresh = WebhookSecrets.generate()
        endpoint = WebhookEndpoint(
            id=f"whe_{secrets.token_hex(10)}",
            url=url,
            secrets=fresh,
            events=None if events is None else list(events),
            organisation=self.organisation,
            tenant=tenant,
        )
        self._port(Tenancy).add_webhook_endpoint(endpoint, now=self.clock.now())
        return _registered(endpoint, fresh.texts[0])

    def registered_webhook_endpoints(self) -> list[RegisteredEndpoint]:
        """The active endpoints of this organisation (a shop or store key: those receiving its events)."""
        tenant = None if self.scope is None or self.scope.by_organisation else self.scope.tenant
        found = self._port(Tenancy).webhook_endpoints_of(organisation=self.organisation, tenant=tenant)
        return [_registered(endpoint) for endpoint in found if tenant is None or endpoint.tenant == tenant]

    def rotate_webhook_secret(self, endpoint_id: str) -> RegisteredEndpoint:
        """Give an endpoint a new secret; deliveries carry both signatures until :meth:`retire_old_secrets`.

        Raises:
            NotFoundError: no active endpoint of this organisation has that id.
        """
        from tradein_sdk._domain.webhooks import WebhookSecrets  # noqa: PLC0415 - with the first rotation

        endpoint = self._own_endpoint(endpoint_id)
        fresh = WebhookSecrets.generate().texts[0]
        rotated = WebhookSecrets.parse(fresh, endpoint.secrets.texts[0])
        changed = self._port(Tenancy).change_webhook_endpoint(
            endpoint_id, organisation=self.organisation, now=self.clock.now(), secrets=rotated
        )
        return _registered(changed, fresh)

    def retire_old_secrets(self, endpoint_id: str) -> RegisteredEndpoint:
        """Sign with the newest secret only (once the receiver has switched to it).

        Raises:
            NotFoundError: no active endpoint of this organisation has that id.
        """
        from tradein_sdk._domain.webhooks import WebhookSecrets  # noqa: PLC0415 - with the first rotation

        endpoint = self._own_endpoint(endpoint_id)
        newest = WebhookSecrets.parse(endpoint.secrets.texts[0])
        changed = self._port(Tenancy).change_webhook_endpoint(
            endpoint_id, organisation=self.organisation, now=self.clock.now(), secrets=newest
        )
        return _registered(changed)

    def disable_webhook_endpoint(self, endpoint_id: str) -> RegisteredEndpoint:
        """Stop sending to an endpoint; rows already queued for it become dead letters.

        Raises:
            NotFoundError: no active endpoint of this organisation has that id.
        """
        self._own_endpoint(endpoint_id)
        changed = self._port(Tenancy).change_webhook_endpoint(
            endpoint_id, organisation=self.organisation, now=self.clock.now(), disable=True
        )
        return _registered(changed)

    def _own_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        """An active endpoint this facade's scope may change (another's is not found)."""
        found = self._port(Tenancy).webhook_endpoints_of(ids=[endpoint_id])
        mine = [
            endpoint
            for endpoint in found
            if (self.scope is None or endpoint.organisation == self.organisation)
            and (self.scope is None or self.scope.by_organisation or endpoint.tenant == self.scope.tenant)
        ]
        if not mine:
            raise NotFoundError("no webhook endpoint {endpoint_id} exists", endpoint_id=endpoint_id[:64])
        return mine[0]

    # -- dead letters --------------------------------------------------------------------------------

    def dead_webhooks(self, *, limit: int = 100, after: str | None = None) -> list[DeadWebhook]:
        """The webhooks given up (dead letters) of this scope, by delivery id; ``after`` pages on."""
        from tradein_sdk._app.outbox import dead_webhooks  # noqa: PLC0415 - with the first listing

        return dead_webhooks(self._port(WebhookOutbox), limit=limit, after=after, **self._in_scope)

    def replay_webhooks(
        self, *, delivery_ids: Sequence[str] = (), event_ids: Sequence[str] = (), all_dead: bool = False
    ) -> int:
        """Send finished webhooks of this scope again (by delivery id, event id, or every dead letter).

        Returns:
            How many deliveries were made due again (the receiver drops events it already has by id).
        """
        from tradein_sdk._app.outbox import replay_webhooks  # noqa: PLC0415 - with the first replay

        return replay_webhooks(
            self._port(WebhookOutbox),
            now=self.clock.now(),
            delivery_ids=delivery_ids,
            event_ids=event_ids,
            all_dead=all_dead,
            **self._in_scope,
        )

    # -- providers -----------------------------------------------------------------------------------

    def assign_provider(self, order_id: str, provider: str | None) -> TradeInOrder:
        """Assign an order's devices to a provider of the organisation (``None``: take them back).

        A provider's key then sees the order and may receive, inspect and dispose of its devices.

        Raises:
            OrderNotFoundError: no order has that id (in this scope).
            InvalidTextError: ``provider`` is not a tenant id.
        """
        if provider is not None:
            check_tenant(provider, field="provider")
        fact = AuditFact(
            actor=acting_actor(self.scope).value,
            action="order.assigned",
            subject=order_id,
            details={"provider": provider},
        )
        self._port(Tenancy).assign_order(
            order_id, provider=provider, scope=self.scope, audit=[fact], now=self.clock.now()
        )
        return self.order(order_id)
