"""Signed JSON documents that anyone holding the published public keys can verify offline.

Documents the shop hands out (erasure certificates, their revocation list) are signed with **Ed25519**
(RFC 8032, the ``cryptography`` package) over **canonical JSON** (RFC 8785, JCS; the ``rfc8785`` package),
so a customer or an auditor verifies them with the public keys alone, without asking the shop.

**The envelope** (what :func:`sign_document` returns and :func:`verify_document` reads)::

    {
      "payload": {...the document...},
      "signature": {
        "alg": "EdDSA",
        "kid": "e1",
        "purpose": "erasure-certificate",
        "value": "<base64url without padding of the 64-byte Ed25519 signature>"
      }
    }

**The signed bytes** are the RFC 8785 canonical JSON (UTF-8) of one object binding the algorithm, the key
id, the purpose and the payload::

    {"alg": "EdDSA", "kid": <kid>, "payload": <payload>, "purpose": <purpose>}

so a signature made for one purpose (an erasure certificate) cannot be replayed as another (a revocation
list), and the key id cannot be swapped. Canonical JSON makes the envelope independent of key order and of
white space between tokens; anything that changes content (a character, a number's type, a key) breaks
the signature.

**Payloads** hold only strings, integers (within ±(2**53 − 1), which every JSON reader keeps exactly),
booleans, null, lists and objects with string keys. Floats are refused when signing and when verifying:
RFC 8785 writes ``1.0`` as ``1``, so allowing them would let ``1.0`` stand for a signed ``1``. Write amounts
and measurements as decimal strings.

**Keys.** :class:`SigningKeys` is the private ring: one active key signs; the others still verify (they
are published) until dropped; :meth:`SigningKeys.retire` keeps only a key's public half, so old documents
verify while the private key is destroyed. :meth:`SigningKeys.jwks` publishes the public keys as a JWKS
(RFC 7517, RFC 8037)::

    {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "e1", "x": "<base64url public key>", "use": "sig"}]}

The private ring is a JSON file (mode 0600) of the same shape with the private part ``d`` (RFC 8037)::

    {"active": "e2",
     "keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "e2", "x": "...", "d": "..."}],
     "retired": [{"kty": "OKP", "crv": "Ed25519", "kid": "e1", "x": "..."}]}

**Verification** uses only a :class:`PublicKeys` set (read from the JWKS) and raises
:class:`~tradein_sdk._errors.SignatureInvalidError` with ``reason``:

    malformed        not an envelope of this shape: fields, types, encoding, a float, a duplicate key
    wrong_purpose    signed for another purpose than the one asked for
    unknown_kid      the key id is not among the published keys (never published, or dropped)
    bad_signature    the signature does not match the content under that key
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import attrs
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tradein_sdk._domain.secret_files import create_private_file, write_private_temporary
from tradein_sdk._errors import (
    ConfigurationError,
    DocumentInvalidError,
    DocumentProblem,
    SignatureInvalidError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ALGORITHM: Final = "EdDSA"
"""The JOSE name of the signature algorithm (Ed25519), written in every envelope's ``alg``."""

ENVIRONMENT_VARIABLE: Final = "TRADEIN_SIGNING_KEYS"
"""Where :meth:`SigningKeys.configured` reads the private ring (its JSON document) when it is set."""

MAX_DOCUMENT_BYTES: Final = 1_000_000
"""Signed documents given as text longer than this are refused before parsing."""

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""The largest integer a payload may hold (RFC 8785: every JSON reader keeps it exactly)."""

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PURPOSE = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_KEY_BYTES = 32
_SIGNATURE_BYTES = 64
_ENVELOPE_FIELDS = frozenset({"payload", "signature"})
_SIGNATURE_FIELDS = frozenset({"alg", "kid", "purpose", "value"})


# -- base64url and strict JSON -------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Encode ``data`` as base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: object, *, size: int | None = None) -> bytes | None:
    """Decode canonical unpadded base64url, or return ``None``.

    Canonical: the text is exactly how its bytes encode, so the spare bits of the last character cannot
    be flipped unnoticed.

    Args:
        text: the text to decode.
        size: the number of bytes required, if any.

    Returns:
        The bytes, or ``None`` when ``text`` is not canonical unpadded base64url (of ``size`` bytes).
    """
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64encode(data) != text or (size is not None and len(data) != size):
        return None
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"the key {duplicate!r:.40} appears twice in one object")
    return fields


def _refuse_float(text: str) -> float:
    raise ValueError(f"the number {text:.40} is not an integer; payloads hold no floats")


def _refuse_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def loads_strict(text: str | bytes) -> Any:  # noqa: ANN401 - any JSON value
    """Parse JSON text strictly: UTF-8, no duplicate keys, no floats, no NaN or Infinity.

    Args:
        text: the JSON text (bytes must be UTF-8).

    Returns:
        The decoded value.

    Raises:
        ValueError: the text is too long, not UTF-8, not JSON, or holds a duplicate key or a float; the
            message says which.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"the text is longer than {MAX_DOCUMENT_BYTES} characters")
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        return json.loads(
            decoded,
            object_pairs_hook=_reject_duplicates,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
        )
    except RecursionError as exc:
        raise ValueError("the text nests too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("the text is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"the text is not JSON ({exc.msg} at character {exc.pos})") from exc


def json_problems(value: object, path: str = "$") -> list[DocumentProblem]:
    """List what keeps ``value`` from being a payload this module signs (see the module docstring).

    Args:
        value: the value to check.
        path: the JSON path of ``value`` in its document.

    Returns:
        One problem per offending value, with its JSON path; empty when the value is fine.
    """
    problems: list[DocumentProblem] = []
    pending: list[tuple[object, str, int]] = [(value, path, 0)]
    while pending:
        item, where, depth = pending.pop()
        if depth > 64:
            problems.append(DocumentProblem(path=where, message="nests deeper than 64 levels"))
        elif isinstance(item, list | tuple):
            pending.extend((element, f"{where}[{index}]", depth + 1) for index, element in enumerate(item))
        elif isinstance(item, Mapping):
            for key, element in item.items():
                if not isinstance(key, str) or not _is_unicode_text(key):
                    problems.append(
                        DocumentProblem(path=where, message=f"has a key {key!r:.40} that is not text")
                    )
                else:
                    pending.append((element, f"{where}.{key}", depth + 1))
        else:
            message = _scalar_problem(item)
            if message is not None:
                problems.append(DocumentProblem(path=where, message=message))
    return sorted(problems, key=lambda problem: problem.path)


def _scalar_problem(item: object) -> str | None:
    """What is wrong with a value that is neither a list nor an object, or ``None``."""
    if item is None or isinstance(item, bool):
        return None
    if isinstance(item, str):
        return None if _is_unicode_text(item) else "holds a lone surrogate, not Unicode text"
    if isinstance(item, int):
        if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
            return None
        return "is an integer beyond ±(2**53 - 1); write it as a string"
    if isinstance(item, float):
        return "is a float; write it as an integer or a decimal string"
    return f"is a {type(item).__name__}, not a JSON value"


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """A deep copy of a checked JSON value as plain dicts and lists (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(element) for key, element in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(element) for element in value]
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain text
    if isinstance(value, bool) or value is None:
        return value
    return int(value)


def signed_bytes(payload: Any, *, kid: str, purpose: str) -> bytes:  # noqa: ANN401 - any JSON value
    """Return the bytes an envelope's signature covers (see the module docstring).

    Args:
        payload: the payload, already checked by :func:`json_problems`.
        kid: the signing key's id.
        purpose: what the document is for (``erasure-certificate``).

    Returns:
        The RFC 8785 canonical JSON of ``{"alg", "kid", "payload", "purpose"}``, UTF-8.

    Raises:
        ValueError: the payload cannot be canonicalised (see :func:`json_problems`).
    """
    return rfc8785.dumps({"alg": ALGORITHM, "kid": kid, "payload": payload, "purpose": purpose})


# -- keys ----------------------------------------------------------------------------------------------


def _check_kid(_instance: object, _attribute: object, kid: str) -> None:
    value: object = kid  # checked at run time too: keys come from files and the environment
    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise ConfigurationError(
            "signing key id {kid} is not 1-32 characters of A-Z a-z 0-9 _ -", kid=repr(kid)[:40]
        )


def _check_key_bytes(instance: object, attribute: attrs.Attribute[bytes], key: bytes) -> None:
    value: object = key
    if not isinstance(value, bytes) or len(value) != _KEY_BYTES:
        raise ConfigurationError(
            "the {field} of signing key {kid} must be {size} bytes",
            field=attribute.name,
            kid=getattr(instance, "kid", "?"),
            size=_KEY_BYTES,
        )


@attrs.frozen(kw_only=True)
class PublicKey:
    """The public half of an Ed25519 signing key, as published in the JWKS.

    Attributes:
        kid: the key id: 1-32 characters of ``A-Z a-z 0-9 _ -``.
        x: the 32-byte Ed25519 public key.

    Raises:
        ConfigurationError: the key id or the key bytes are not acceptable.
    """

    kid: str = attrs.field(validator=_check_kid)
    x: bytes = attrs.field(validator=_check_key_bytes)

    def to_jwk(self) -> dict[str, str]:
        """Return the key as a JWK (RFC 8037): ``{"kty": "OKP", "crv": "Ed25519", "kid", "x", "use"}``."""
        return {"kty": "OKP", "crv": "Ed25519", "kid": self.kid, "x": b64encode(self.x), "use": "sig"}

    def verifies(self, signature: bytes, data: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature of ``data``.

        Args:
            signature: the 64-byte signature.
            data: the signed bytes.

        Returns:
            ``True`` when it verifies.
        """
        try:
            Ed25519PublicKey.from_public_bytes(self.x).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


@attrs.frozen(kw_only=True)
class PrivateKey:
    """An Ed25519 private key with its id.

    Attributes:
        kid: the key id written in every envelope it signs.
        d: the 32-byte private key (the RFC 8032 seed); never shown by ``repr``.

    Raises:
        ConfigurationError: the key id or the key bytes are not acceptable.
    """

    kid: str = attrs.field(validator=_check_kid)
    d: bytes = attrs.field(validator=_check_key_bytes, repr=lambda _: "<32 bytes hidden>")

    @classmethod
    def generate(cls, *, kid: str) -> Self:
        """Create a fresh key from the operating system's random source.

        Args:
            kid: the new key's id.

        Returns:
            The new key.

        Raises:
            ConfigurationError: ``kid`` is not a valid key id.
        """
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return cls(kid=kid, d=raw)

    @property
    def public_key(self) -> PublicKey:
        """The key's public half."""
        raw = (
            Ed25519PrivateKey.from_private_bytes(self.d)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return PublicKey(kid=self.kid, x=raw)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return Ed25519PrivateKey.from_private_bytes(self.d).sign(data)

    def to_jwk(self) -> dict[str, str]:
        """Return the key as a private JWK (RFC 8037): the public members and ``d``. Keep it secret."""
        return {**self.public_key.to_jwk(), "d": b64encode(self.d)}


def _unique(kids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for kid in kids:
        if kid in seen:
            raise ConfigurationError("the {what} holds key id {kid} twice", what=what, kid=kid)
        seen.add(kid)


def _to_public_tuple(keys: Iterable[PublicKey]) -> tuple[PublicKey, ...]:
    return tuple(keys)


def _to_private_tuple(keys: Iterable[PrivateKey]) -> tuple[PrivateKey, ...]:
    return tuple(keys)


@attrs.frozen(kw_only=True)
class PublicKeys:
    """A set of published public keys: what a verifier needs, and all it needs.

    Attributes:
        keys: the keys, each with its own key id.

    Raises:
        ConfigurationError: two keys share a key id.
    """

    keys: tuple[PublicKey, ...] = attrs.field(converter=_to_public_tuple)

    def __attrs_post_init__(self) -> None:
        """Check that no key id is used twice."""
        _unique((key.kid for key in self.keys), "public key set")

    @property
    def kids(self) -> tuple[str, ...]:
        """The key ids, in order."""
        return tuple(key.kid for key in self.keys)

    def get(self, kid: str) -> PublicKey | None:
        """Return the key named ``kid``, or ``None`` when the set does not hold it."""
        return next((key for key in self.keys if key.kid == kid), None)

    def to_jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the set as a JWKS document: ``{"keys": [<JWK>, ...]}``."""
        return {"keys": [key.to_jwk() for key in self.keys]}

    @classmethod
    def from_jwks(cls, document: object) -> Self:
        """Read a JWKS document (RFC 7517) of Ed25519 keys.

        Members other than ``kty``, ``crv``, ``kid``, ``x`` and ``use`` are ignored, as RFC 7517 asks; a
        key for another use than ``sig`` or with a private part ``d`` is refused.

        Args:
            document: the decoded document, or its JSON text.

        Returns:
            The public keys.

        Raises:
            DocumentInvalidError: ``document`` is not a JWKS of Ed25519 public keys (kind ``jwks``); each
                problem names its JSON path.
        """
        problems: list[DocumentProblem] = []

        def problem(path: str, message: str) -> None:
            problems.append(DocumentProblem(path=path, message=message))

        if isinstance(document, str | bytes):
            try:
                document = loads_strict(document)
            except ValueError as exc:
                raise DocumentInvalidError(
                    kind="jwks", source="<memory>", problems=[DocumentProblem(path="$", message=str(exc))]
                ) from exc
        entries = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(entries, list):
            problem("$.keys", "expected a list of keys")
            entries = []
        keys: list[PublicKey] = []
        for index, entry in enumerate(entries):
            key = _read_jwk(entry, f"$.keys[{index}]", problem)
            if key is not None and key.kid in {held.kid for held in keys}:
                problem(f"$.keys[{index}].kid", f"key id {key.kid} is used twice")
            elif key is not None:
                keys.append(key)
        if problems:
            raise DocumentInvalidError(kind="jwks", source="<memory>", problems=problems)
        return cls(keys=keys)


def _read_jwk(entry: object, where: str, problem: Callable[[str, str], None]) -> PublicKey | None:
    """Read one published JWK, reporting what is wrong with it through ``problem``."""
    if not isinstance(entry, Mapping):
        problem(where, "expected a JWK object")
        return None
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        problem(where, 'expected "kty": "OKP" and "crv": "Ed25519"')
        return None
    if "d" in entry:
        problem(f"{where}.d", "a published key must not carry its private part")
    if entry.get("use", "sig") != "sig":
        problem(f"{where}.use", 'expected "sig"')
    kid = entry.get("kid")
    if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
        problem(f"{where}.kid", "expected 1-32 characters of A-Z a-z 0-9 _ -")
        return None
    x = b64decode(entry.get("x"), size=_KEY_BYTES)
    if x is None:
        problem(f"{where}.x", "expected 32 bytes as canonical unpadded base64url")
        return None
    return PublicKey(kid=kid, x=x)


@attrs.frozen(kw_only=True)
class SigningKeys:
    """The private signing ring of an installation: the active key signs, every held key verifies.

    Rotation: add a key and make it active (:meth:`with_new_key`); keep publishing the old one so what
    it signed still verifies, destroying its private part once no longer needed (:meth:`retire`); drop a
    key entirely (:meth:`without_key`) only to make everything it signed stop verifying (a compromised
    key). Save the ring after each change (:meth:`save`).

    Attributes:
        keys: the private keys held.
        active_kid: the id of the key that signs; one of ``keys``.
        retired: public keys of retired keys: still published, so their documents verify; they sign
            nothing.

    Raises:
        ConfigurationError: no keys, a key id used twice, or the active key is not held.
    """

    keys: tuple[PrivateKey, ...] = attrs.field(converter=_to_private_tuple)
    active_kid: str
    retired: tuple[PublicKey, ...] = attrs.field(converter=_to_public_tuple, default=())

    def __attrs_post_init__(self) -> None:
        """Check the ring is usable."""
        if not self.keys:
            raise ConfigurationError("a signing ring needs at least one private key")
        for held, kind in ((self.keys, PrivateKey), (self.retired, PublicKey)):
            for key in held:
                if not isinstance(key, kind):
                    raise ConfigurationError(
                        "a signing ring holds {expected} values there, not {kind}",
                        expected=kind.__name__,
                        kind=type(key).__name__,
                    )
        _unique([key.kid for key in self.keys] + [key.kid for key in self.retired], "signing ring")
        if self.active_kid not in {key.kid for key in self.keys}:
            raise ConfigurationError(
                "the active key id {kid} is not one of the private keys held ({held})",
                kid=repr(self.active_kid)[:40],
                held=", ".join(key.kid for key in self.keys),
            )

    @property
    def active_key(self) -> PrivateKey:
        """The key that signs new documents."""
        return next(key for key in self.keys if key.kid == self.active_kid)

    @classmethod
    def generate(cls, *, kid: str = "e1") -> Self:
        """Return a ring holding one fresh key, which is active.

        Args:
            kid: the new key's id.

        Returns:
            The new ring.

        Raises:
            ConfigurationError: ``kid`` is not a valid key id.
        """
        return cls(keys=[PrivateKey.generate(kid=kid)], active_kid=kid)

    def with_key(self, key: PrivateKey, *, active: bool = True) -> Self:
        """Return a ring that also holds ``key``.

        Args:
            key: the key to add.
            active: whether it signs from now on (otherwise it is only published, for example until every
                verifier has fetched the new JWKS).

        Returns:
            The new ring; this one is unchanged.

        Raises:
            ConfigurationError: the ring already holds a key with that id.
        """
        return type(self)(
            keys=(*self.keys, key), active_kid=key.kid if active else self.active_kid, retired=self.retired
        )

    def with_new_key(self, kid: str, *, active: bool = True) -> Self:
        """Return a ring that also holds a freshly generated key ``kid`` (see :meth:`with_key`).

        Raises:
            ConfigurationError: ``kid`` is not valid or already held.
        """
        return self.with_key(PrivateKey.generate(kid=kid), active=active)

    def retire(self, kid: str) -> Self:
        """Return a ring that keeps only the public half of ``kid``: it still verifies, it signs nothing.

        Args:
            kid: a private key held, not the active one.

        Returns:
            The new ring; this one is unchanged (destroy its saved file's old copy yourself).

        Raises:
            ConfigurationError: ``kid`` is not a private key held, or it is the active key.
        """
        key = self._private(kid)
        return type(self)(
            keys=[held for held in self.keys if held.kid != kid],
            active_kid=self.active_kid,
            retired=(*self.retired, key.public_key),
        )

    def without_key(self, kid: str) -> Self:
        """Return a ring without ``kid`` at all: documents it signed stop verifying (``unknown_kid``).

        Args:
            kid: a private or retired key held, not the active one.

        Returns:
            The new ring; this one is unchanged.

        Raises:
            ConfigurationError: the ring holds no such key, or it is the active key.
        """
        if any(key.kid == kid for key in self.retired):
            return type(self)(
                keys=self.keys,
                active_kid=self.active_kid,
                retired=[key for key in self.retired if key.kid != kid],
            )
        self._private(kid)
        return type(self)(
            keys=[key for key in self.keys if key.kid != kid],
            active_kid=self.active_kid,
            retired=self.retired,
        )

    def _private(self, kid: str) -> PrivateKey:
        key = next((key for key in self.keys if key.kid == kid), None)
        if key is None:
            raise ConfigurationError("the signing ring holds no private key {kid}", kid=repr(kid)[:40])
        if kid == self.active_kid:
            raise ConfigurationError(
                "key {kid} is the active key; make another key active before retiring or dropping it", kid=kid
            )
        return key

    def public_keys(self) -> PublicKeys:
        """The keys to publish: every private key's public half, then the retired keys."""
        return PublicKeys(keys=[*(key.public_key for key in self.keys), *self.retired])

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document to publish (see the module docstring); it holds no private part."""
        return self.public_keys().to_jwks()

    # -- the private file -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Return the private ring document (see the module docstring). It holds secrets: keep it private."""
        return {
            "active": self.active_kid,
            "keys": [key.to_jwk() for key in self.keys],
            "retired": [key.to_jwk() for key in self.retired],
        }

    @classmethod
    def from_json(cls, document: object, *, source: str = "<memory>") -> Self:
        """Read a private ring document.

        Args:
            document: the decoded document.
            source: where it came from, for messages.

        Returns:
            The ring.

        Raises:
            ConfigurationError: the document is not a valid ring; the message names the JSON path and
                never a private key.
        """

        def problem(message: str) -> ConfigurationError:
            return ConfigurationError("signing keys {source}: {problem}", source=source, problem=message)

        if not isinstance(document, Mapping) or not {"active", "keys"} <= set(document) <= {
            "active",
            "keys",
            "retired",
        }:
            raise problem('$: expected an object with "active", "keys" and optionally "retired"')
        entries, retired_entries = document["keys"], document.get("retired", [])
        if not isinstance(entries, list) or not isinstance(retired_entries, list):
            raise problem("$.keys and $.retired: expected lists of JWKs")
        keys = []
        for index, entry in enumerate(entries):
            try:
                keys.append(_private_key_from_jwk(entry))
            except (ValueError, ConfigurationError) as exc:
                raise problem(f"$.keys[{index}]: {exc}") from exc
        retired: list[PublicKey] = []
        for index, entry in enumerate(retired_entries):
            try:
                retired.extend(PublicKeys.from_jwks({"keys": [entry]}).keys)
            except DocumentInvalidError as exc:
                listing = "; ".join(p.message for p in exc.problems)
                raise problem(f"$.retired[{index}]: {listing}") from exc
        if not isinstance(document["active"], str):
            raise problem("$.active: expected a key id")
        try:
            return cls(keys=keys, active_kid=document["active"], retired=retired)
        except ConfigurationError as exc:
            raise problem(str(exc)) from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read the ring saved at ``path``.

        Raises:
            ConfigurationError: the file cannot be read or is not a ring; the message names the file.
        """
        file = Path(path)
        try:
            document = loads_strict(file.read_bytes())
        except OSError as exc:
            raise ConfigurationError(
                "signing keys {path}: cannot be read ({reason})",
                path=str(file),
                reason=exc.strerror or type(exc).__name__,
            ) from exc
        except ValueError as exc:
            raise ConfigurationError(
                "signing keys {path}: {problem}", path=str(file), problem=str(exc)
            ) from exc
        return cls.from_json(document, source=str(file))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ring to ``path`` atomically, with mode 0600 (replacing what was there).

        Raises:
            ConfigurationError: the file cannot be written.
        """
        file = Path(path)
        temporary = None
        try:
            temporary = write_private_temporary(file, self.to_json())
            Path(temporary).replace(file)
            temporary = None
        except OSError as exc:
            raise ConfigurationError(
                "signing keys {path}: cannot be written ({reason})",
                path=str(file),
                reason=exc.strerror or type(exc).__name__,
            ) from exc
        finally:
            if temporary is not None:
                with contextlib.suppress(FileNotFoundError):
                    Path(temporary).unlink()

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str], *, kid: str = "e1") -> Self:
        """Read the ring at ``path``, or create it (mode 0600) with one fresh key when it does not exist.

        Creation never replaces a file another process created meanwhile: that file wins.

        Args:
            path: the ring's file.
            kid: the id of the key generated when the file is created.

        Returns:
            The ring in the file.

        Raises:
            ConfigurationError: the file cannot be read, created, or is not a ring.
        """
        file = Path(path)
        if not file.exists():
            create_private_file(file, cls.generate(kid=kid).to_json(), what="signing keys")
        return cls.load(file)

    @classmethod
    def configured(
        cls,
        key_file: str | os.PathLike[str],
        environ: Mapping[str, str] = os.environ,
        *,
        create: bool = True,
    ) -> Self:
        """The signing keys of an installation, alike on every instance configured alike.

        ``TRADEIN_SIGNING_KEYS`` (the ring's JSON document) when it is set, which every instance of a
        service must share; else the key file, created on first use (:meth:`load_or_create`).

        Args:
            key_file: the ring's file (``signing-keys.json`` in the installation's data directory).
            environ: the environment to read (the process environment by default).
            create: make the key file when it does not exist. ``False`` opens the keys read-only, to verify
                what was signed before: nothing is created, and an installation without keys is an error.

        Returns:
            The ring.

        Raises:
            ConfigurationError: the variable is set but not a ring, or the file cannot be used; with
                ``create=False``, no key file exists and the variable is not set (the message names the
                data directory and the file).
        """
        text = environ.get(ENVIRONMENT_VARIABLE, "")
        if not text.strip():
            file = Path(key_file)
            if create:
                return cls.load_or_create(file)
            if not file.exists():
                raise ConfigurationError(
                    "no signing keys found in the data directory {directory} ({file} is missing), and "
                    "${variable} is not set",
                    directory=str(file.parent),
                    file=file.name,
                    variable=ENVIRONMENT_VARIABLE,
                )
            return cls.load(file)
        try:
            document = loads_strict(text)
        except ValueError as exc:
            raise ConfigurationError(
                "{variable}: {problem}", variable=ENVIRONMENT_VARIABLE, problem=str(exc)
            ) from exc
        return cls.from_json(document, source=ENVIRONMENT_VARIABLE)


def _private_key_from_jwk(entry: object) -> PrivateKey:
    """Read one private JWK of a ring file.

    Raises:
        ValueError: it is not a private Ed25519 JWK, or its ``x`` is not the public key of its ``d``.
        ConfigurationError: its key id is not valid.
    """
    if not isinstance(entry, Mapping) or set(entry) - {"use"} != {"kty", "crv", "kid", "x", "d"}:
        raise ValueError('expected a private Ed25519 JWK ("kty", "crv", "kid", "x", "d")')
    d = b64decode(entry["d"], size=_KEY_BYTES)
    if entry["kty"] != "OKP" or entry["crv"] != "Ed25519" or d is None:
        raise ValueError("expected kty OKP, crv Ed25519 and d of 32 bytes in base64url")
    key = PrivateKey(kid=entry["kid"], d=d)
    if entry["x"] != key.public_key.to_jwk()["x"]:
        raise ValueError("x is not the public key of d")
    return key


# -- signing and verifying -----------------------------------------------------------------------------


def _check_purpose(purpose: object) -> str:
    if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
        raise ValueError(
            f"purpose {purpose!r:.40} is not 1-64 of a-z 0-9 . - (starting with a letter or digit)"
        )
    return purpose


def sign_document(payload: Mapping[str, Any], keys: SigningKeys, *, purpose: str) -> dict[str, Any]:
    """Sign ``payload`` with the ring's active key for ``purpose``.

    Args:
        payload: a JSON object of strings, integers, booleans, null, lists and objects (no floats).
        keys: the ring; its active key signs.
        purpose: what the document is for, such as ``erasure-certificate``; a verifier asks for it.

    Returns:
        The envelope ``{"payload": ..., "signature": {"alg", "kid", "purpose", "value"}}``; its payload is
        a plain copy of ``payload``.

    Raises:
        DocumentInvalidError: ``payload`` is not an object of JSON values as above (kind
            ``signed-payload``; each problem names its JSON path).
        ValueError: ``purpose`` is not 1-64 of ``a-z 0-9 . -``.
    """
    purpose = _check_purpose(purpose)
    problems = (
        json_problems(payload)
        if isinstance(payload, Mapping)
        else [DocumentProblem(path="$", message="a signed payload is a JSON object")]
    )
    if problems:
        raise DocumentInvalidError(kind="signed-payload", source="<memory>", problems=problems)
    plain = _plain(payload)
    key = keys.active_key
    signature = key.sign(signed_bytes(plain, kid=key.kid, purpose=purpose))
    return {
        "payload": plain,
        "signature": {"alg": ALGORITHM, "kid": key.kid, "purpose": purpose, "value": b64encode(signature)},
    }


def _public_keys(public_keys: PublicKeys | Mapping[str, Any] | str | bytes) -> PublicKeys:
    return public_keys if isinstance(public_keys, PublicKeys) else PublicKeys.from_jwks(public_keys)


def envelope_kid(envelope: object) -> str | None:
    """Return the key id an envelope names, without verifying anything (``None`` when it names none)."""
    signature = envelope.get("signature") if isinstance(envelope, Mapping) else None
    kid = signature.get("kid") if isinstance(signature, Mapping) else None
    return kid if isinstance(kid, str) else None


def verify_document(
    envelope: Mapping[str, Any] | str | bytes,
    public_keys: PublicKeys | Mapping[str, Any] | str | bytes,
    *,
    purpose: str,
) -> dict[str, Any]:
    """Verify a signed envelope offline and return its payload.

    Args:
        envelope: the envelope, decoded or as JSON text (text is parsed strictly: a duplicate key, a
            float, NaN or a non-UTF-8 byte make it malformed).
        public_keys: the published keys: a :class:`PublicKeys` or a JWKS document (decoded or text).
        purpose: the purpose the document must have been signed for.

    Returns:
        A plain copy of the payload.

    Raises:
        SignatureInvalidError: the envelope does not verify; ``reason`` is ``malformed``,
            ``wrong_purpose``, ``unknown_kid`` or ``bad_signature`` (checked in that order).
        DocumentInvalidError: ``public_keys`` is not a JWKS of Ed25519 keys (kind ``jwks``).
        ValueError: ``purpose`` is not a valid purpose.
    """
    purpose = _check_purpose(purpose)
    keys = _public_keys(public_keys)
    if isinstance(envelope, str | bytes):
        try:
            envelope = loads_strict(envelope)
        except ValueError as exc:
            raise SignatureInvalidError(reason="malformed", detail=str(exc)) from exc
    kid, signed_purpose, signature, payload = _parts(envelope)
    if signed_purpose != purpose:
        raise SignatureInvalidError(
            reason="wrong_purpose", detail=f"it was signed for {signed_purpose!r:.70}, not {purpose!r}"
        )
    key = keys.get(kid)
    if key is None:
        raise SignatureInvalidError(
            reason="unknown_kid",
            detail=f"key id {kid} is not among the published keys ({', '.join(keys.kids) or 'none'})",
        )
    try:
        data = signed_bytes(payload, kid=kid, purpose=signed_purpose)
    except rfc8785.CanonicalizationError as exc:  # pragma: no cover - json_problems catches these first
        raise SignatureInvalidError(reason="malformed", detail=str(exc)) from exc
    if not key.verifies(signature, data):
        raise SignatureInvalidError(
            reason="bad_signature", detail=f"the signature does not match the content under key {kid}"
        )
    result: dict[str, Any] = _plain(payload)
    return result


def _parts(envelope: object) -> tuple[str, str, bytes, Mapping[str, Any]]:
    """Return the key id, the purpose, the signature bytes and the payload of a well-formed envelope."""

    def malformed(detail: str) -> SignatureInvalidError:
        return SignatureInvalidError(reason="malformed", detail=detail)

    if not isinstance(envelope, Mapping) or set(envelope) != _ENVELOPE_FIELDS:
        raise malformed('expected an object with exactly "payload" and "signature"')
    header, payload = envelope["signature"], envelope["payload"]
    if not isinstance(header, Mapping) or set(header) != _SIGNATURE_FIELDS:
        raise malformed('$.signature: expected an object with exactly "alg", "kid", "purpose" and "value"')
    if header["alg"] != ALGORITHM:
        raise malformed(f'$.signature.alg: expected "{ALGORITHM}"')
    kid, signed_purpose = header["kid"], header["purpose"]
    if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
        raise malformed("$.signature.kid: expected 1-32 characters of A-Z a-z 0-9 _ -")
    if not isinstance(signed_purpose, str):
        raise malformed("$.signature.purpose: expected text")
    signature = b64decode(header["value"], size=_SIGNATURE_BYTES)
    if signature is None:
        raise malformed("$.signature.value: expected 64 bytes as canonical unpadded base64url")
    if not isinstance(payload, Mapping):
        raise malformed("$.payload: expected an object")
    problems = json_problems(payload, "$.payload")
    if problems:
        raise malformed("; ".join(str(problem) for problem in problems[:5]))
    return kid, signed_purpose, signature, payload
