"""Tenants, roles and scopes: who may see and change what in a service shared by many shops and stores.

One carrier runs one trade-in service for hundreds of **tenants**: a shop, or one store of a carrier, each
grouped under an **organisation** (the carrier, a retail chain; a tenant on its own is its own
organisation). Every API key belongs to one tenant and has one **role**:

========================  ==========================================================================
role                      may
========================  ==========================================================================
``shop``                  an online shop's backend: quote, check out, ship and answer revisions for its
                          shoppers, read its own orders (it acts as the shopper)
``store``                 a store terminal: the same for its own store, and hand-overs at the counter
                          (it acts as store staff)
``back_office``           everything on the orders of its organisation: inspection, revision, payout,
                          settlement, erasure, the ledger and its billing runs
``provider``              receive and inspect the devices assigned to it (a refurbisher, an insurer)
``admin``                 the organisation's webhooks, dead letters and deadlines
========================  ==========================================================================

A :class:`Scope` is what a key grants: its tenant, organisation and role. The store applies it in every
query (``WHERE tenant = …``, ``organisation = …`` or ``provider = …``), so a record of another tenant is
simply not found, never "forbidden". The actor of what a key does follows from its role (:attr:`Scope.actor`)
and a quote's audience is the key's tenant: neither comes from a request.

>>> scope = Scope(tenant="store-berlin", organisation="carrier-x", role=Role.STORE)
>>> scope.actor.value, scope.sees_quotes, scope.by_organisation
('staff', True, False)
"""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum
from typing import Final

import attrs

from tradein_sdk._domain.orders.vocabulary import Actor
from tradein_sdk._errors import InvalidTenantError

__all__ = [
    "KEY_PREFIX",
    "TENANT_PATTERN",
    "MintedKey",
    "Owner",
    "Role",
    "Scope",
    "check_tenant",
    "key_digest",
    "mint_key",
]

TENANT_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,119}")
"""A tenant or organisation id: lower-case letters, digits, ``.``, ``_`` and ``-``; at most 120 characters."""
KEY_PREFIX: Final = "tik_"
"""Every API key the service mints starts with this (secret scanners can find leaked keys by it)."""


class Role(StrEnum):
    """What an API key may do (see the module documentation)."""

    SHOP = "shop"
    STORE = "store"
    BACK_OFFICE = "back_office"
    PROVIDER = "provider"
    ADMIN = "admin"


_ACTORS: Final = {
    Role.SHOP: Actor.SHOPPER,  # an online shop relays its shoppers' own decisions
    Role.STORE: Actor.STAFF,  # a store terminal is operated by store staff
    Role.BACK_OFFICE: Actor.STAFF,
    Role.PROVIDER: Actor.PROVIDER,
    Role.ADMIN: Actor.SYSTEM,
}


def check_tenant(value: str, *, field: str = "tenant") -> str:
    """Return ``value`` when it is a valid tenant or organisation id.

    Raises:
        InvalidTenantError: it is not 1-120 of ``a-z 0-9 . _ -`` starting with a letter or digit (the error
            names ``field``).
    """
    if not isinstance(value, str) or TENANT_PATTERN.fullmatch(value) is None:
        raise InvalidTenantError(field)
    return value


def _tenant(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_tenant(value, field=attribute.name)


@attrs.frozen(kw_only=True)
class Owner:
    """Whose a quote or an order is: the tenant that made it and that tenant's organisation."""

    tenant: str = attrs.field(validator=_tenant)
    organisation: str = attrs.field(validator=_tenant)


@attrs.frozen(kw_only=True)
class Scope:
    """What one API key grants: its tenant, the tenant's organisation and the key's role.

    Attributes:
        tenant: the shop, store or partner the key belongs to.
        organisation: the group the tenant belongs to (the tenant itself when it stands alone).
        role: what the key may do.
    """

    tenant: str = attrs.field(validator=_tenant)
    organisation: str = attrs.field(validator=_tenant)
    role: Role = attrs.field(converter=Role)

    @property
    def owner(self) -> Owner:
        """The owner of what this key creates (its tenant and organisation)."""
        return Owner(tenant=self.tenant, organisation=self.organisation)

    @property
    def actor(self) -> Actor:
        """Who the key acts as in an order's history and the audit log."""
        return _ACTORS[self.role]

    @property
    def by_organisation(self) -> bool:
        """Whether the key sees its whole organisation (back office, admin), not just its tenant."""
        return self.role in {Role.BACK_OFFICE, Role.ADMIN}

    @property
    def sees_quotes(self) -> bool:
        """Whether the key may read quotes at all (a provider sees orders assigned to it, not quotes)."""
        return self.role is not Role.PROVIDER


@attrs.frozen(kw_only=True, repr=False)
class MintedKey:
    """A new API key: shown once, kept only as its digest.

    Attributes:
        key_id: the key's public id (``key_…``), for listing and revoking.
        secret: the key itself (``tik_…``), to hand to the client once.
        digest: its SHA-256 digest, what the store keeps.
    """

    key_id: str
    secret: str
    digest: str

    def __repr__(self) -> str:
        """The key id only: a key never appears in a log or a traceback."""
        return f"MintedKey(key_id={self.key_id!r})"


def key_digest(secret: str) -> str:
    """The SHA-256 digest (hex) the store keeps of an API key (256 random bits: no slow hash needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_key() -> MintedKey:
    """A new random API key with its id and digest."""
    key_id = f"key_{secrets.token_hex(8)}"
    secret = f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    return MintedKey(key_id=key_id, secret=secret, digest=key_digest(secret))


def acting_actor(scope: Scope | None) -> Actor:
    """Who acts in the history and the audit log: the key's role's actor, or staff for the shop's own code."""
    return scope.actor if scope is not None else Actor.STAFF
