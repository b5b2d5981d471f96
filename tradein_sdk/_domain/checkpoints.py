"""How the audit log proves itself: a seal on every entry and signed checkpoints kept outside the database.

The hash chain (:mod:`tradein_sdk._domain.audit`) shows that nothing was changed, removed or reordered
*relative to the entries around it*; someone who can write to the database can still append an entry with a
hash recomputed to fit, or cut the newest entries and their head rows together. Two things close that:

**Seals.** Each entry an installation appends carries a seal: ``<kid>:<base64url HMAC-SHA256>`` of its
entry hash under a key derived (HKDF-SHA256, ``info = "tradein audit seal"``) from the installation's
Ed25519 signing key of that key id (:class:`~tradein_sdk._domain.signing.SigningKeys`). The database never
holds the key, so an entry appended around the library cannot carry a valid seal. A verifier holding the
signing keys checks every entry after the last checkpoint (:class:`AuditSeals`). A retired key keeps only its
public half, so its seals can no longer be checked: the checkpoints made while it was active vouch for them.

**Checkpoints.** :func:`sign_checkpoint` signs, with the same Ed25519 machinery as the erasure certificates
(purpose ``audit-checkpoint``), the head of every chain, the number of entries and the time of a verification
that passed; the checkpoint is kept outside the database (a directory by default, see
:mod:`tradein_sdk._adapters.checkpoints`). A later verification reads the latest checkpoint
(:func:`read_checkpoint`, offline, with the public keys only) and uses its heads as anchors: every entry up
to them must still be there, unchanged (a rewrite, a reorder or a truncation is found there), and every entry
after them must be sealed (a forged append is found there). An auditor without the private keys checks the
chain and the checkpoints; the installation also checks the seals.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from tradein_sdk._domain.audit import AuditAnchor
from tradein_sdk._domain.signing import b64decode, b64encode, sign_document, verify_document
from tradein_sdk._errors import DocumentInvalidError, DocumentProblem, SignatureInvalidError

if TYPE_CHECKING:
    from tradein_sdk._domain.audit import AuditEntry, AuditVerification
    from tradein_sdk._domain.signing import PublicKeys, SigningKeys

CHECKPOINT_PURPOSE = "audit-checkpoint"
"""The purpose audit checkpoints are signed for."""
_SEAL_INFO = b"tradein audit seal"


def _seal_key(private_bytes: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 - loaded with the first seal
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(private_bytes)


@attrs.frozen
class AuditSeals:
    """The keys that seal audit entries: one per signing key still held privately, the active one sealing.

    Attributes:
        active: the key id new entries are sealed with.
        keys: each key id's sealing key (derived from its Ed25519 private key; never stored).
    """

    active: str
    keys: Mapping[str, bytes] = attrs.field(repr=False)

    @classmethod
    def from_signing_keys(cls, keys: SigningKeys) -> AuditSeals:
        """The sealing keys of a signing ring: its active key seals, every private key it holds verifies."""
        return cls(active=keys.active_kid, keys={key.kid: _seal_key(key.d) for key in keys.keys})

    def seal(self, entry_hash: str) -> str:
        """The seal of an entry hash: ``<kid>:<base64url HMAC-SHA256>`` under the active key."""
        digest = hmac.new(self.keys[self.active], entry_hash.encode(), hashlib.sha256).digest()
        return f"{self.active}:{b64encode(digest)}"

    def verifies(self, entry: AuditEntry) -> bool:
        """Whether the entry carries a valid seal of its hash under one of these keys."""
        if entry.seal is None or ":" not in entry.seal:
            return False
        kid, _, value = entry.seal.partition(":")
        key = self.keys.get(kid)
        given = b64decode(value, size=32)
        if key is None or given is None:
            return False
        return hmac.compare_digest(hmac.new(key, entry.entry_hash.encode(), hashlib.sha256).digest(), given)


@attrs.frozen(kw_only=True)
class AuditCheckpoint:
    """A verified state of the audit log: the head of each chain and the number of entries, at a time.

    Attributes:
        log: what log it is of (the installation's name for it, ``tradein`` by default).
        at: when the verification ran (UTC).
        entries: how many entries the log held then.
        heads: the last entry of each chain then.
    """

    log: str
    at: datetime
    entries: int
    heads: tuple[AuditAnchor, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (the signed payload)."""
        return {
            "log": self.log,
            "at": self.at.astimezone(UTC).isoformat(),
            "entries": self.entries,
            "heads": [head.to_json() for head in self.heads],
        }

    @classmethod
    def from_json(cls, data: object) -> AuditCheckpoint:
        """Read the JSON form.

        Raises:
            DocumentInvalidError: ``data`` is not a checkpoint (kind ``audit-checkpoint``; each problem named
                by its JSON path).
        """

        def invalid(path: str, message: str) -> DocumentInvalidError:
            return DocumentInvalidError(
                kind=CHECKPOINT_PURPOSE,
                source="<memory>",
                problems=[DocumentProblem(path=path, message=message)],
            )

        if not isinstance(data, dict):
            raise invalid("$", "a checkpoint is a JSON object")
        log, at, entries = data.get("log"), data.get("at"), data.get("entries")
        if not isinstance(log, str) or not log:
            raise invalid("$.log", "must be non-empty text")
        if not isinstance(entries, int) or isinstance(entries, bool) or entries < 0:
            raise invalid("$.entries", "must be a count")
        try:
            moment = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise invalid("$.at", "must be an ISO 8601 time with its offset")
        try:
            heads = AuditAnchor.list_from_json({"heads": data.get("heads")})
        except TypeError as exc:
            raise invalid("$.heads", str(exc)) from exc
        return cls(log=log, at=moment.astimezone(UTC), entries=entries, heads=heads)


def sign_checkpoint(
    verification: AuditVerification, *, keys: SigningKeys, now: datetime, log: str = "tradein"
) -> dict[str, Any]:
    """Sign the state a passed verification found, to keep outside the database.

    Args:
        verification: a verification that found no problem.
        keys: the installation's signing keys (the active one signs).
        now: when (from the injected clock).
        log: the installation's name for the log.

    Returns:
        The signed envelope (see :mod:`tradein_sdk._domain.signing`), purpose ``audit-checkpoint``.

    Raises:
        ValueError: the verification found problems (a checkpoint would vouch for a broken log).
    """
    if not verification.ok:
        raise ValueError(
            f"the audit log has {verification.problem_count} problem(s): no checkpoint is signed"
        )
    checkpoint = AuditCheckpoint(
        log=log, at=now.astimezone(UTC), entries=verification.entries_checked, heads=verification.heads
    )
    return sign_document(checkpoint.to_json(), keys, purpose=CHECKPOINT_PURPOSE)


def read_checkpoint(
    envelope: Mapping[str, Any] | str | bytes, public_keys: PublicKeys | Mapping[str, Any] | str | bytes
) -> AuditCheckpoint:
    """Verify a signed checkpoint offline (with the public keys only) and read it.

    Raises:
        SignatureInvalidError: it does not verify (``reason`` says why); never use its heads then.
    """
    payload = verify_document(envelope, public_keys, purpose=CHECKPOINT_PURPOSE)
    try:
        return AuditCheckpoint.from_json(payload)
    except DocumentInvalidError as exc:  # signed, but not a checkpoint: a key was misused
        raise SignatureInvalidError(reason="malformed", detail=str(exc)) from exc
