"""Signed quote tokens: a compact, tamper-evident reference to an instant quote.

A shopper's frontend carries the token; the shop's backend verifies it offline with the shared key ring.
The amount a shop credits always comes from the stored quote: the token only proves that this library,
holding the key, issued it for this quote, amount, audience and validity.

Format (ASCII, at most :data:`MAX_TOKEN_LENGTH` characters)::

    tq1.<key id>.<payload>.<signature>

* ``tq1`` is the format version.
* ``<key id>`` names the signing key: 1-32 characters of ``A-Z a-z 0-9 _ -``.
* ``<payload>`` is base64url without padding of the canonical JSON: sorted keys, no spaces, ASCII only
  (other characters as JSON escapes), for example
  ``{"amt":"12.50","aud":"shop-1","cur":"EUR","exp":1767225600,"iat":1767224700,"qid":"q-1"}``:
  the amount as a decimal string (:meth:`Money.to_json`), the currency, the audience (shop or store id),
  expiry and issue time as integer Unix seconds, and the quote id.
* ``<signature>`` is base64url without padding of HMAC-SHA256(secret, ASCII of ``tq1.<key id>.<payload>``).

Every base64url segment must be canonical: its decoded bytes must re-encode to exactly the same text, so
the spare bits of a segment's last character cannot be flipped unnoticed.

Verification runs in this order and raises a :class:`~tradein_sdk._errors.QuoteTokenError` subclass::

    wrong length, shape, version, characters or base64    TokenMalformedError    token_malformed
    key id not held by the key ring                       TokenUnknownKeyError   token_unknown_key
    signature does not match                              TokenSignatureError    token_signature_invalid
    payload fields wrong (only checked once signed)       TokenMalformedError    token_malformed
    audience is another shop or store                     TokenAudienceError     token_wrong_audience
    now >= expiry                                         TokenExpiredError      token_expired

Keys live in a :class:`KeyRing`: one active key signs, every held key verifies. To rotate, add a new key,
make it active, and drop the old one once the tokens it signed have expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.secret_files import create_private_file
from tradein_sdk._errors import (
    ConfigurationError,
    InvalidMoneyError,
    TokenAudienceError,
    TokenExpiredError,
    TokenMalformedError,
    TokenSignatureError,
    TokenUnknownKeyError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

FORMAT_VERSION: Final = "tq1"
"""The version prefix of every token this module issues."""

MAX_TOKEN_LENGTH: Final = 2048
"""Longer texts are refused before any decoding; no token this module issues is longer."""

MIN_SECRET_BYTES: Final = 32
"""A signing secret has at least 256 bits, the output size of SHA-256."""

MAX_IDENTIFIER_LENGTH: Final = 128
"""The longest quote id or audience a token carries."""

ENVIRONMENT_VARIABLE: Final = "TRADEIN_QUOTE_KEYS"
"""Where :meth:`KeyRing.from_environment` reads keys: ``kid1=<base64url secret>,kid2=<...>``."""

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_SIGNATURE_LENGTH = 43  # base64url characters of a 32-byte HMAC-SHA256 digest, without padding
_PAYLOAD_FIELDS = frozenset({"aud", "amt", "cur", "exp", "iat", "qid"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


# -- base64url -----------------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode_canonical(text: str) -> bytes | None:
    """Decode unpadded base64url, or return None unless ``text`` is exactly how its bytes encode."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if _b64encode(data) == text else None


def _decode_secret(text: str) -> bytes:
    """Decode a configured secret: base64url, padding optional.

    Raises:
        ValueError: the text is not base64url; the message never repeats the text.
    """
    unpadded = text.rstrip("=")
    data = _b64decode_canonical(unpadded)
    if data is None or text not in {unpadded, unpadded + "=" * (-len(unpadded) % 4)}:
        raise ValueError("the secret is not base64url (A-Z a-z 0-9 - _, padding optional)")
    return data


# -- keys ----------------------------------------------------------------------------------------


def _check_key_id(_instance: object, _attribute: object, key_id: str) -> None:
    value: object = key_id  # checked at run time too: keys come from files and the environment
    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise ConfigurationError(
            "signing key id {key_id} is not 1-32 characters of A-Z a-z 0-9 _ -", key_id=repr(value)[:40]
        )


def _check_secret(instance: SigningKey, _attribute: object, secret: bytes) -> None:
    key_id = instance.key_id
    value: object = secret
    if not isinstance(value, bytes):
        raise ConfigurationError(
            "the secret of signing key {key_id} must be bytes, not {kind}",
            key_id=key_id,
            kind=type(value).__name__,
        )
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            "the secret of signing key {key_id} has {size} bytes; at least {minimum} are required",
            key_id=key_id,
            size=len(value),
            minimum=MIN_SECRET_BYTES,
        )


@attrs.frozen(kw_only=True)
class SigningKey:
    """A named HMAC-SHA256 secret that signs and verifies quote tokens.

    Attributes:
        key_id: the name carried in each token it signs: 1-32 characters of ``A-Z a-z 0-9 _ -``.
        secret: at least 32 random bytes; never shown by ``repr``.

    Raises:
        ConfigurationError: the key id or the secret is not acceptable.
    """

    key_id: str = attrs.field(validator=_check_key_id)
    secret: bytes = attrs.field(validator=_check_secret, repr=lambda secret: f"<{len(secret)} bytes hidden>")

    @classmethod
    def generate(cls, *, key_id: str) -> Self:
        """Create a key with 32 fresh bytes from :func:`secrets.token_bytes`.

        Args:
            key_id: the new key's id.

        Returns:
            The new key.

        Raises:
            ConfigurationError: ``key_id`` is not a valid key id.
        """
        return cls(key_id=key_id, secret=secrets.token_bytes(MIN_SECRET_BYTES))


def _key_from_json(entry: object, where: str) -> SigningKey:
    """Read one ``{"key_id": ..., "secret": ...}`` entry of a key file.

    Raises:
        TypeError: the secret is not a string.
        ValueError: the entry is not of that shape or its secret is not base64url.
        ConfigurationError: the key id or secret is not acceptable.
    """
    if not isinstance(entry, dict) or set(entry) != {"key_id", "secret"}:
        raise ValueError(f'{where}: expected an object with exactly "key_id" and "secret"')
    if not isinstance(entry["secret"], str):
        raise TypeError(f"{where}.secret: expected a base64url string")
    try:
        return SigningKey(key_id=entry["key_id"], secret=_decode_secret(entry["secret"]))
    except (ValueError, ConfigurationError) as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _to_key_tuple(keys: Iterable[SigningKey]) -> tuple[SigningKey, ...]:
    return tuple(keys)


@attrs.frozen(kw_only=True)
class KeyRing:
    """The signing keys a shop holds: the active one signs new tokens, every one of them verifies.

    Rotation: add a new key and make it active (:meth:`with_key`), keep the old key until the tokens it
    signed have expired, then drop it (:meth:`without_key`).

    Attributes:
        keys: the held keys, each with its own key id.
        active_key_id: the id of the key that signs new tokens; one of ``keys``.

    Raises:
        ConfigurationError: no keys, two keys with one id, or the active key is not held.
    """

    keys: tuple[SigningKey, ...] = attrs.field(converter=_to_key_tuple)
    active_key_id: str
    _by_id: dict[str, SigningKey] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Index the keys by id and check the ring is usable."""
        if not self.keys:
            raise ConfigurationError("a key ring needs at least one signing key")
        by_id: dict[str, SigningKey] = {}
        for key in self.keys:
            if not isinstance(key, SigningKey):
                raise ConfigurationError(
                    "a key ring holds SigningKey values, not {kind}", kind=type(key).__name__
                )
            if key.key_id in by_id:
                raise ConfigurationError("the key ring holds key id {key_id} twice", key_id=key.key_id)
            by_id[key.key_id] = key
        if self.active_key_id not in by_id:
            raise ConfigurationError(
                "the active key id {key_id} is not one of the held keys ({held})",
                key_id=repr(self.active_key_id)[:40],
                held=", ".join(by_id),
            )
        object.__setattr__(self, "_by_id", by_id)

    @property
    def active_key(self) -> SigningKey:
        """The key that signs new tokens."""
        return self._by_id[self.active_key_id]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of all held keys, in the order given."""
        return tuple(self._by_id)

    def get(self, key_id: str) -> SigningKey | None:
        """Return the held key named ``key_id``.

        Args:
            key_id: a key id.

        Returns:
            The key, or ``None`` when the ring does not hold it.
        """
        return self._by_id.get(key_id)

    def with_key(self, key: SigningKey, *, active: bool = True) -> Self:
        """Return a ring that also holds ``key``.

        Args:
            key: the key to add.
            active: whether the new key signs from now on (otherwise it only verifies, for example
                while every backend learns it before it becomes active).

        Returns:
            The new ring; this one is unchanged.

        Raises:
            ConfigurationError: the ring already holds a key with that id.
        """
        return type(self)(keys=(*self.keys, key), active_key_id=key.key_id if active else self.active_key_id)

    def without_key(self, key_id: str) -> Self:
        """Return a ring that no longer holds ``key_id``: tokens it signed stop verifying.

        Args:
            key_id: the id of the key to drop.

        Returns:
            The new ring; this one is unchanged.

        Raises:
            ConfigurationError: the ring does not hold ``key_id``, or it is the active key (make another
                key active first).
        """
        if key_id not in self._by_id:
            raise ConfigurationError("the key ring holds no key {key_id}", key_id=repr(key_id)[:40])
        if key_id == self.active_key_id:
            raise ConfigurationError(
                "key {key_id} is the active key; make another key active before dropping it", key_id=key_id
            )
        return type(self)(
            keys=[key for key in self.keys if key.key_id != key_id], active_key_id=self.active_key_id
        )

    @classmethod
    def generate(cls, *, key_id: str) -> Self:
        """Return a ring holding one fresh random key, which is active.

        Args:
            key_id: the new key's id.

        Returns:
            The new ring.

        Raises:
            ConfigurationError: ``key_id`` is not a valid key id.
        """
        key = SigningKey.generate(key_id=key_id)
        return cls(keys=[key], active_key_id=key.key_id)

    @classmethod
    def configured(
        cls, key_file: Path, environ: Mapping[str, str] = os.environ, *, create: bool = True
    ) -> Self:
        """The keys of an installation, alike on every instance configured alike.

        ``TRADEIN_QUOTE_KEYS`` when it is set (every instance of a shop or service must share it), else the
        key file (:meth:`load_or_create`: made on first use, for a single instance).

        Args:
            key_file: the installation's key file (``quote-keys.json`` in its data directory).
            environ: the environment to read (the process environment by default).
            create: make the key file when it does not exist. ``False`` opens the keys read-only, to verify
                tokens issued before: nothing is created, and an installation without keys is an error.

        Returns:
            The key ring.

        Raises:
            ConfigurationError: the variable is set but malformed, or the key file is unreadable; with
                ``create=False``, no key file exists and the variable is not set (the message names the
                data directory and the file).
        """
        if environ.get(ENVIRONMENT_VARIABLE, "").strip():
            return cls.from_environment(environ)
        if create:
            return cls.load_or_create(key_file)
        file = Path(key_file)
        if not file.exists():
            raise ConfigurationError(
                "no quote key found in the data directory {directory} ({file} is missing), so no token can "
                "be checked here: use the data directory where the quotes were issued, or set ${variable}",
                directory=str(file.parent),
                file=file.name,
                variable=ENVIRONMENT_VARIABLE,
            )
        return cls._read(file)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        """Read the keys from ``TRADEIN_QUOTE_KEYS``: ``kid1=<base64url secret>,kid2=<...>``.

        The first key is active; the others only verify. Secrets are base64url, padding optional.
        Spaces around entries are ignored.

        Args:
            environ: the environment to read (the process environment by default).

        Returns:
            The key ring.

        Raises:
            ConfigurationError: the variable is absent, empty or malformed; the message names the entry
                and the problem, never a secret.
        """
        text = environ.get(ENVIRONMENT_VARIABLE)
        if text is None or not text.strip():
            raise ConfigurationError(
                "{variable} is not set; expected kid1=<base64url secret>,kid2=<...> (the first is active)",
                variable=ENVIRONMENT_VARIABLE,
            )
        keys = []
        for number, entry in enumerate(text.split(","), start=1):
            key_id, equals, secret = entry.strip().partition("=")
            where = f"{ENVIRONMENT_VARIABLE} entry {number}"
            if not equals:
                raise ConfigurationError(
                    "{where} is not of the form <key id>=<base64url secret>", where=where
                )
            try:
                keys.append(SigningKey(key_id=key_id, secret=_decode_secret(secret)))
            except (ValueError, ConfigurationError) as exc:
                raise ConfigurationError("{where}: {problem}", where=where, problem=str(exc)) from exc
        return cls._checked(keys, keys[0].key_id, source=ENVIRONMENT_VARIABLE)

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str], *, key_id: str = "k1") -> Self:
        """Read the key file at ``path``, or create it with one fresh key when it does not exist.

        The file is JSON: ``{"active": "k1", "keys": [{"key_id": "k1", "secret": "<base64url>"}]}``. It
        is created atomically with mode 0600: written to a temporary file in the same folder, then put
        in place without overwriting a file another process created meanwhile (that file wins).

        Args:
            path: the key file.
            key_id: the id of the key generated when the file is created.

        Returns:
            The key ring in the file.

        Raises:
            ConfigurationError: the file cannot be read or written, or its content is not a key ring;
                the message names the file and the problem, never a secret.
        """
        file = Path(path)
        if not file.exists():
            cls._create(file, cls.generate(key_id=key_id))
        return cls._read(file)

    @classmethod
    def _checked(cls, keys: Iterable[SigningKey], active: str, *, source: str) -> Self:
        try:
            return cls(keys=keys, active_key_id=active)
        except ConfigurationError as exc:
            raise ConfigurationError("{source}: {problem}", source=source, problem=str(exc)) from exc

    @classmethod
    def _read(cls, file: Path) -> Self:
        def problem(message: str) -> ConfigurationError:
            return ConfigurationError("key file {path}: {problem}", path=str(file), problem=message)

        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise problem(f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
        except ValueError as exc:
            raise problem("is not UTF-8 JSON") from exc
        if not isinstance(document, dict) or set(document) != {"active", "keys"}:
            raise problem('$: expected an object with exactly "active" and "keys"')
        entries = document["keys"]
        if not isinstance(entries, list):
            raise problem("$.keys: expected a list of keys")
        keys = []
        for index, entry in enumerate(entries):
            try:
                keys.append(_key_from_json(entry, f"$.keys[{index}]"))
            except (TypeError, ValueError, ConfigurationError) as exc:
                raise problem(str(exc)) from exc
        active = document["active"]
        if not isinstance(active, str):
            raise problem("$.active: expected a key id string")
        return cls._checked(keys, active, source=f"key file {file}")

    @staticmethod
    def _create(file: Path, ring: KeyRing) -> None:
        document = {
            "active": ring.active_key_id,
            "keys": [{"key_id": key.key_id, "secret": _b64encode(key.secret)} for key in ring.keys],
        }
        create_private_file(file, document, what="key file")


# -- claims --------------------------------------------------------------------------------------


def _to_utc_second(moment: datetime) -> datetime:
    return as_utc(moment).replace(microsecond=0)


def _check_identifier(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_IDENTIFIER_LENGTH or not value.isprintable():
        raise ValueError(
            f"{attribute.name} must be 1-{MAX_IDENTIFIER_LENGTH} printable characters, got {value!r:.60}"
        )


@attrs.frozen(kw_only=True)
class QuoteClaims:
    """What a quote token says: which quote, how much, for whom, and how long it is valid.

    Times are UTC and whole seconds (a token carries Unix seconds): aware datetimes in any zone are
    converted to UTC and their fractions of a second dropped.

    Attributes:
        quote_id: the quote's id: 1-128 printable characters.
        amount: the quoted amount. The amount a shop credits comes from the stored quote, not from here.
        audience: the shop or store the token is for: 1-128 printable characters.
        issued_at: when the token was issued.
        expires_at: when the token stops verifying; at least one second after ``issued_at``.
        key_id: the id of the key that signed the token, set by :func:`verify_quote_token`; ignored by
            :func:`issue_quote_token`, which always signs with the active key.

    Raises:
        ValueError: a time is naive (has no timezone), ``expires_at`` is not after ``issued_at``, or an
            id is empty, too long or has control characters.
        TypeError: ``amount`` is not :class:`Money`.
    """

    quote_id: str = attrs.field(validator=_check_identifier)
    amount: Money = attrs.field(validator=attrs.validators.instance_of(Money))
    audience: str = attrs.field(validator=_check_identifier)
    issued_at: datetime = attrs.field(converter=_to_utc_second)
    expires_at: datetime = attrs.field(converter=_to_utc_second)
    key_id: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check the validity window."""
        if self.expires_at <= self.issued_at:
            raise ValueError(
                f"expires_at {self.expires_at.isoformat()} must be at least one second after "
                f"issued_at {self.issued_at.isoformat()}"
            )


def _unix_seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _SECOND


def _canonical_payload(claims: QuoteClaims) -> bytes:
    money = claims.amount.to_json()
    fields = {
        "aud": claims.audience,
        "amt": money["amount"],
        "cur": money["currency"],
        "exp": _unix_seconds(claims.expires_at),
        "iat": _unix_seconds(claims.issued_at),
        "qid": claims.quote_id,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _signature(key: SigningKey, signed_part: str) -> bytes:
    return hmac.new(key.secret, signed_part.encode("ascii"), hashlib.sha256).digest()


# -- issuing and verifying -----------------------------------------------------------------------


def issue_quote_token(claims: QuoteClaims, key_ring: KeyRing) -> str:
    """Sign ``claims`` with the ring's active key.

    Args:
        claims: what the token says; its ``key_id`` is ignored.
        key_ring: the keys; the active one signs.

    Returns:
        The token, ``tq1.<key id>.<payload>.<signature>``.

    Raises:
        ValueError: the claims do not fit in :data:`MAX_TOKEN_LENGTH` characters (an amount with
            hundreds of decimal places, ids full of characters JSON escapes).
    """
    key = key_ring.active_key
    signed_part = f"{FORMAT_VERSION}.{key.key_id}.{_b64encode(_canonical_payload(claims))}"
    token = f"{signed_part}.{_b64encode(_signature(key, signed_part))}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(
            f"the claims of quote {claims.quote_id!r:.60} make a token of {len(token)} characters; "
            f"at most {MAX_TOKEN_LENGTH} verify"
        )
    return token


def verify_quote_token(token: str, key_ring: KeyRing, *, audience: str, now: datetime) -> QuoteClaims:
    """Check a token offline and return what it says.

    Args:
        token: the text the frontend sent.
        key_ring: the keys; any held key verifies.
        audience: the shop or store verifying; the token must have been issued for it.
        now: the current time (aware); the token must expire after it.

    Returns:
        The claims, with ``key_id`` set to the id of the key that signed them.

    Raises:
        TokenMalformedError: the text is not a well-formed token (length, segments, version, characters,
            non-canonical base64url, or signed fields of the wrong shape).
        TokenUnknownKeyError: the ring holds no key with the token's key id.
        TokenSignatureError: the signature does not match the token's content.
        TokenAudienceError: the token was issued for another audience.
        TokenExpiredError: ``now`` is at or after the token's expiry.
        ValueError: ``now`` is naive.
    """
    now = as_utc(now)
    key_id, signed_part, payload, signature = _split(token)
    key = key_ring.get(key_id)
    if key is None:
        raise TokenUnknownKeyError(
            "quote token is signed with key {key_id}, which the key ring does not hold", key_id=key_id
        )
    if not hmac.compare_digest(_signature(key, signed_part), signature):
        raise TokenSignatureError(
            "quote token signature does not match its content under key {key_id}", key_id=key_id
        )
    claims = _decode_payload(payload, key_id)
    if claims.audience != audience:
        raise TokenAudienceError(
            "quote token for quote {quote_id} was issued for {token_audience}, not {audience}",
            quote_id=claims.quote_id,
            token_audience=claims.audience,
            audience=audience,
        )
    if now >= claims.expires_at:
        raise TokenExpiredError(
            "quote token for quote {quote_id} expired at {expires_at}",
            quote_id=claims.quote_id,
            expires_at=claims.expires_at.isoformat(),
        )
    return claims


def _split(token: object) -> tuple[str, str, bytes, bytes]:
    """Return the key id, the signed text, the payload bytes and the signature bytes of ``token``."""
    if not isinstance(token, str):
        raise TokenMalformedError("a quote token is text, not {kind}", kind=type(token).__name__)
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenMalformedError(
            "quote token is {length} characters long; at most {limit} are allowed",
            length=len(token),
            limit=MAX_TOKEN_LENGTH,
        )
    segments = token.split(".")
    if len(segments) != 4:
        raise TokenMalformedError(
            "quote token has {count} dot-separated segments; expected 4: tq1.<key id>.<payload>.<signature>",
            count=len(segments),
        )
    version, key_id, payload_text, signature_text = segments
    if version != FORMAT_VERSION:
        raise TokenMalformedError(
            "quote token does not start with the version {version}", version=FORMAT_VERSION
        )
    if not _KEY_ID.fullmatch(key_id):
        raise TokenMalformedError("quote token key id is not 1-32 characters of A-Z a-z 0-9 _ -")
    payload = _b64decode_canonical(payload_text)
    if not payload:
        raise TokenMalformedError("quote token payload is not canonical unpadded base64url")
    signature = _b64decode_canonical(signature_text)
    if len(signature_text) != _SIGNATURE_LENGTH or signature is None:
        raise TokenMalformedError(
            "quote token signature is not {length} characters of canonical unpadded base64url",
            length=_SIGNATURE_LENGTH,
        )
    return key_id, f"{version}.{key_id}.{payload_text}", payload, signature


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ValueError("duplicate field")
    return fields


def _decode_payload(payload: bytes, key_id: str) -> QuoteClaims:
    """Decode signed payload bytes strictly into claims."""

    def malformed(problem: str) -> TokenMalformedError:
        return TokenMalformedError("quote token payload {problem}", problem=problem)

    try:
        fields = json.loads(payload.decode("ascii"), object_pairs_hook=_reject_duplicates)
    except (ValueError, RecursionError) as exc:
        raise malformed("is not ASCII JSON without duplicate fields") from exc
    if not isinstance(fields, dict) or set(fields) != _PAYLOAD_FIELDS:
        raise malformed("is not an object with exactly the fields aud, amt, cur, exp, iat, qid")
    if not all(isinstance(fields[name], str) for name in ("aud", "amt", "cur", "qid")):
        raise malformed("fields aud, amt, cur and qid are not all strings")
    if not all(type(fields[name]) is int for name in ("exp", "iat")):
        raise malformed("fields exp and iat are not both integers")
    try:
        amount = Money(fields["amt"], fields["cur"])
    except InvalidMoneyError as exc:
        raise malformed("does not hold a valid amount and currency") from exc
    try:
        issued_at = _EPOCH + fields["iat"] * _SECOND
        expires_at = _EPOCH + fields["exp"] * _SECOND
    except OverflowError as exc:
        raise malformed("has times outside the years 1-9999") from exc
    try:
        claims = QuoteClaims(
            quote_id=fields["qid"],
            amount=amount,
            audience=fields["aud"],
            issued_at=issued_at,
            expires_at=expires_at,
            key_id=key_id,
        )
    except ValueError as exc:
        raise malformed(f"does not hold valid claims: {exc}") from exc
    if _canonical_payload(claims) != payload:
        raise malformed("is not in canonical form (sorted keys, no spaces, canonical amount)")
    return claims
