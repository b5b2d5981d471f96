"""The audit log of the trade-in order lifecycle: an append-only, hash-chained record of every change.

**The chain.** Each :class:`AuditEntry` carries a gap-free ``sequence`` (1, 2, 3, ...), the time, who acted
(``actor``), what happened (``action``, such as ``order.shipped``), the pseudonymous ``subject`` it
happened to (an order id such as ``ord_...``), non-personal ``details`` (states, amounts as
``{"amount", "currency"}`` strings, reason codes) and ``previous_hash``, the ``entry_hash`` of the entry
before it. Its own ``entry_hash`` is ``sha256:`` and the hex digest of the canonical JSON (sorted keys, no
spaces, UTF-8) of every other field, ``previous_hash`` and ``sequence`` included; times are written as
ISO 8601 UTC with microseconds (``2026-11-24T12:00:00.000000+00:00``). The first entry's
``previous_hash`` is the fixed :data:`GENESIS_HASH` (``sha256:`` and 64 zeros). Changing any field of any
entry therefore changes its hash, which no longer matches the stored one or the next entry's link.

**Chains.** The log is :data:`AUDIT_CHAINS` chains side by side, so that writers of different orders do
not wait for one another: an entry goes to the chain of its subject (:func:`chain_of`), so the whole history
of an order is one chain, in order. Each chain is numbered and linked on its own, from its own genesis
(:func:`genesis_hash`; chain 0's is :data:`GENESIS_HASH`, so a log written before chains existed is chain 0
as it was). An entry of chain 1 or above also hashes its chain number.

**Same transaction.** :func:`append_entry` runs inside the caller's transaction, so an order change and its
entry commit together or not at all. Writers of one chain are serialized by the chain's head row (its last
sequence number and hash), which the append locks first (the inserted entry moves it, by trigger) and which
stays locked until the transaction ends: on SQLite the caller's ``BEGIN IMMEDIATE`` serializes every writer
anyway; on PostgreSQL (READ COMMITTED, its default) the row lock makes the next writer of that chain wait and
then read the head the previous one committed, while writers of the other chains go on. The primary key on
``(chain, sequence)`` and a unique ``previous_hash`` are the last line of defence: two entries can never chain
onto the same predecessor.

**No personal data.** Entries name people and orders only by pseudonymous references; names, e-mail
addresses, phone numbers, bank details and postal addresses live elsewhere, keyed by the same reference,
where they can be erased without touching the chain. :func:`append_entry` refuses details that look
personal (see :func:`check_details`) with :class:`AuditPersonalDataError`; the check is a guard against
mistakes, not a proof of absence.

**Append-only in the database.** :func:`migration_audit` creates the ``tradein_audit_log`` table with
triggers that refuse every UPDATE and DELETE with ``audit log is append-only``: on SQLite ``BEFORE
UPDATE``/``BEFORE DELETE`` triggers, plus a ``BEFORE INSERT`` trigger refusing a row that would collide
with an existing one (``INSERT OR REPLACE`` deletes without firing delete triggers); on PostgreSQL a
plpgsql function behind a ``BEFORE UPDATE OR DELETE OR TRUNCATE`` statement trigger. Someone who owns the
database can still drop the triggers; the chain is what catches what they then change.

**Verification.** :func:`verify_chain` streams the table in sequence order, in batches (memory stays flat
however long the log), through the same checks as :func:`verify_entries`, and returns an
:class:`AuditVerification` listing each :class:`AuditProblem` with its kind, sequence and position (see
:class:`AuditProblemKind` for what each kind means and where it is reported). Any single-entry change,
deletion, insertion, swap or move is reported at the first position where the log differs from the
original, except that an inserted or rewritten entry carrying a valid hash and a valid link is only told
apart at the entry after it. Deleting or rewriting the *last* entries leaves a shorter chain that is
consistent in itself: pass the :class:`AuditAnchor` list of an earlier verification (its ``heads``, kept
outside the database) to detect that too. The database's own head rows are checked the same way, so cutting
entries off the end without also rewriting the head rows is found without an anchor.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire._schemas import content_hash
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import AuditEntryInvalidError, AuditPersonalDataError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


AUDIT_TABLE = "tradein_audit_log"
"""The name of the audit log table."""
GENESIS_HASH = "sha256:" + "0" * 64
"""The ``previous_hash`` of the first entry of chain 0: no entry comes before it."""
AUDIT_CHAINS = 16
"""How many chains the log is made of (:func:`chain_of` spreads subjects over them)."""
APPEND_ONLY_MESSAGE = "audit log is append-only"
"""The message with which the database refuses an UPDATE, DELETE or TRUNCATE of the audit log."""
DEFAULT_BATCH_SIZE = 2_000
"""How many rows :func:`verify_chain` reads per query unless told otherwise."""
DEFAULT_MAX_PROBLEMS = 1_000
"""How many problems a verification lists unless told otherwise (all are counted)."""


_ACTOR_LENGTH = 40
_ACTION_LENGTH = 80
_SUBJECT_LENGTH = 120
_HASH_LENGTH = len(GENESIS_HASH)
_SEAL_LENGTH = 100  # "<kid>:<43 characters>", a key id of up to 56
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PERSONAL_KEY_WORDS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "surname",
        "fullname",
        "username",
        "email",
        "mail",
        "phone",
        "telephone",
        "mobile",
        "iban",
        "bic",
        "swift",
        "address",
        "street",
        "postcode",
        "zip",
        "holder",
        "birthday",
        "birthdate",
        "passport",
    }
)
"""Words that make a details key personal: ``holder``, ``emailAddress`` and ``first_name`` are refused."""

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IBAN_CANDIDATE = re.compile(r"(?<![A-Z0-9_-])[A-Z]{2}[0-9]{2}[A-Z0-9 ]{11,40}")
"""Where an IBAN may start: a country code and check digits not inside a longer id (random hex holds some)."""
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_IBAN_LENGTHS = range(15, 35)


# -- errors ----------------------------------------------------------------------------------------------


# -- models ----------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One entry of the audit log.

    Attributes:
        sequence: its place in its chain: 1, 2, 3, ... without gaps.
        recorded_at: when it was recorded (UTC).
        actor: who acted: ``shopper``, ``staff``, ``provider``, ``system``.
        action: what happened, as ``<thing>.<event>``: ``order.shipped``.
        subject: the pseudonymous reference of what it happened to: an order id ``ord_...``.
        details: non-personal facts as a JSON object: states, amounts as ``{"amount", "currency"}``
            strings, reason codes.
        previous_hash: the ``entry_hash`` of the entry before it in its chain (the chain's
            :func:`genesis_hash` for the first).
        entry_hash: ``sha256:<hex>`` of the canonical JSON of every other field.
        chain: the chain it belongs to (:func:`chain_of` its subject, when appended to a store).
        seal: ``<kid>:<base64url HMAC-SHA256 of the entry hash>`` under a key of the installation, when it
            was appended by one that seals (see :mod:`tradein_sdk._domain.checkpoints`); not hashed.
    """

    sequence: int
    recorded_at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    previous_hash: str
    entry_hash: str
    chain: int = 0
    seal: str | None = None

    def hashed_content(self) -> dict[str, Any]:
        """Return the fields the entry hash covers: every field but ``entry_hash``, times as ISO text.

        Returns:
            A JSON object; its canonical JSON is what :meth:`compute_hash` hashes. The chain number is
            part of it from chain 1 on (chain 0's entries hash as entries did before there were chains).
        """
        content = {
            "sequence": self.sequence,
            "recorded_at": self.recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "previous_hash": self.previous_hash,
        }
        if self.chain:
            content["chain"] = self.chain
        return content

    def compute_hash(self) -> str:
        """Recompute the entry hash from the entry's content (ignoring the stored ``entry_hash``).

        Returns:
            ``sha256:<hex>`` of the canonical JSON of :meth:`hashed_content`.
        """
        return content_hash(self.hashed_content())


@attrs.frozen(kw_only=True)
class AuditAnchor:
    """A known point of one chain, kept outside the database, against which a later log is checked.

    Attributes:
        sequence: the entry's sequence number.
        entry_hash: the entry's hash then.
        chain: the chain it belongs to.
    """

    sequence: int
    entry_hash: str
    chain: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: ``{"chain", "sequence", "entry_hash"}``."""
        return {"chain": self.chain, "sequence": self.sequence, "entry_hash": self.entry_hash}

    @classmethod
    def list_from_json(cls, data: object) -> tuple[AuditAnchor, ...]:
        """Read anchors kept as JSON: ``{"heads": [...]}`` (or one anchor, as written before chains existed).

        Raises:
            TypeError: ``data`` is neither.
        """
        items = data.get("heads") if isinstance(data, Mapping) and "heads" in data else [data]
        if not isinstance(items, list):
            raise TypeError("heads must be a list of anchors")
        anchors = []
        for item in items:
            if not isinstance(item, Mapping):
                raise TypeError("an anchor must be an object with sequence and entry_hash")
            chain, sequence, entry_hash = item.get("chain", 0), item.get("sequence"), item.get("entry_hash")
            if not isinstance(chain, int) or not isinstance(sequence, int) or not isinstance(entry_hash, str):
                raise TypeError("an anchor needs an integer chain and sequence and a text entry_hash")
            anchors.append(cls(sequence=sequence, entry_hash=entry_hash, chain=chain))
        return tuple(anchors)


class AuditProblemKind(StrEnum):
    """What is wrong at a place in the audit log, and where it is reported."""

    MODIFIED = "modified"
    """The entry's stored hash differs from the hash of its content (or its content cannot be read): a
    field or the hash itself was edited. Reported at that entry."""
    BROKEN_LINK = "broken_link"
    """The entry's ``previous_hash`` is not the hash of the entry before it (or not the genesis value for
    the first): an entry before it was deleted, inserted, rewritten or moved. Reported at that entry."""
    GAP = "gap"
    """Sequence numbers are missing: the entry read has a higher number than the next expected one.
    Reported at the first missing number, at the position where it should have been."""
    OUT_OF_ORDER = "out_of_order"
    """The entry's sequence number repeats or goes back. Only entries given in memory can show it: the
    table's primary key orders and de-duplicates sequence numbers. Reported at that entry."""
    TRUNCATED = "truncated"
    """The chain ends before the anchor's entry (or before its head row's, in a database): entries at the end
    were deleted. Reported at the first missing number, at the position after the chain's last entry."""
    ANCHOR_MISMATCH = "anchor_mismatch"
    """The entry at the anchor's (or head row's) sequence number has another hash than it recorded: the chain
    was rewritten from there or before. Reported at that entry."""
    UNSEALED = "unsealed"
    """The entry comes after the chain's last signed checkpoint and carries no valid seal (the installation's
    keyed MAC of its hash): it was appended around the library, with a hash recomputed to fit (a forged
    append). Checked only when the verifier holds the sealing keys. Reported at that entry."""
    RECORD_CHANGED = "record_changed"
    """A record the entry describes no longer matches it: a stored quote's amount, currency, expiry or
    document was changed after its issue was audited. Reported at that entry."""


@attrs.frozen(kw_only=True)
class AuditProblem:
    """One inconsistency found in the audit log.

    Attributes:
        kind: what is wrong (see :class:`AuditProblemKind`).
        sequence: the sequence number it concerns: the entry's, or for ``gap`` and ``truncated`` the
            first missing one.
        position: where in reading order (chain by chain, each in sequence order) it was found: the n-th
            entry read (1-based); for ``truncated``, one past the chain's last entry.
        message: what was found, in English.
        chain: the chain of the entry.
    """

    kind: AuditProblemKind
    sequence: int
    position: int
    message: str
    chain: int = 0

    def __str__(self) -> str:
        """Return the problem as ``entry N (position P): kind: message`` (``entry C/N`` from chain 1 on)."""
        entry = f"{self.chain}/{self.sequence}" if self.chain else str(self.sequence)
        return f"entry {entry} (position {self.position}): {self.kind}: {self.message}"


@attrs.frozen(kw_only=True)
class AuditVerification:
    """The outcome of verifying the audit log.

    Attributes:
        ok: ``True`` when no problem was found.
        entries_checked: how many entries were read.
        problems: the problems found, in the order they were found (at most ``max_problems``).
        problem_count: how many problems were found in all.
        heads: the last entry read of each chain (its chain, sequence and hash), to keep as the anchors of
            a later verification; empty for an empty log.
    """

    ok: bool
    entries_checked: int
    problems: tuple[AuditProblem, ...]
    problem_count: int
    heads: tuple[AuditAnchor, ...]


# -- entries ---------------------------------------------------------------------------------------------


def check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Check audit details and return them as plain JSON (lists for tuples, dicts for mappings).

    The rule: details are a JSON object of text keys and values that are ``None``, booleans, integers,
    text, lists or objects; floats are refused (write amounts and measures as decimal text). A key whose
    words include one of :data:`PERSONAL_KEY_WORDS` (``emailAddress``, ``account_holder``, ``IBAN``) is
    refused, and so is any text (key or value) containing an e-mail address or a valid IBAN.

    Args:
        details: the facts to record.

    Returns:
        The details as they will be stored and hashed.

    Raises:
        AuditPersonalDataError: something looks like personal data.
        AuditEntryInvalidError: the details are not a JSON object of exact values.
    """
    if not isinstance(details, Mapping):
        raise AuditEntryInvalidError("{path} must be a JSON object", rule="not_json", path="$.details")
    _check_value(details, "$.details")
    plain: dict[str, Any] = json.loads(_canonical(details))
    return plain


def chain_of(subject: str) -> int:
    """The chain a subject's entries go to: its SHA-256 modulo :data:`AUDIT_CHAINS`."""
    return int.from_bytes(hashlib.sha256(subject.encode()).digest()[:4], "big") % AUDIT_CHAINS


def genesis_hash(chain: int) -> str:
    """The ``previous_hash`` of a chain's first entry: :data:`GENESIS_HASH` for chain 0, its own otherwise."""
    if chain == 0:
        return GENESIS_HASH
    return "sha256:" + hashlib.sha256(f"tradein audit chain {chain}".encode()).hexdigest()


def next_entry(
    previous: AuditEntry | None,
    *,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    chain: int = 0,
) -> AuditEntry:
    """Build the entry that follows ``previous`` (or the first entry of ``chain``), checked and hashed.

    Args:
        previous: the last entry of the chain, ``None`` when the chain is empty.
        now: when it is recorded (timezone-aware).
        actor: who acted (``shopper``, ``staff``, ``provider``, ``system``).
        action: what happened (``order.shipped``).
        subject: the pseudonymous reference it happened to (``ord_...``).
        details: non-personal facts (see :func:`check_details`).
        chain: the chain of a first entry (an entry after ``previous`` is in its chain).

    Returns:
        The new entry, with the next sequence number, linked to ``previous`` and hashed.

    Raises:
        ValueError: ``now`` has no timezone.
        AuditPersonalDataError: a value looks like personal data.
        AuditEntryInvalidError: a field is empty, too long or not JSON.
    """
    if previous is not None:
        chain = previous.chain
    sequence, previous_hash = (
        (0, genesis_hash(chain)) if previous is None else (previous.sequence, previous.entry_hash)
    )
    return _build(
        sequence + 1,
        previous_hash,
        now=now,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        chain=chain,
    )


def _build(
    sequence: int,
    previous_hash: str,
    *,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    chain: int = 0,
) -> AuditEntry:
    for path, value, limit in (
        ("$.actor", actor, _ACTOR_LENGTH),
        ("$.action", action, _ACTION_LENGTH),
        ("$.subject", subject, _SUBJECT_LENGTH),
    ):
        if not isinstance(value, str) or not value.strip():
            raise AuditEntryInvalidError("{path} must be non-empty text", rule="empty", path=path)
        if len(value) > limit:
            raise AuditEntryInvalidError(
                "{path} is longer than {limit} characters", rule="too_long", path=path, limit=limit
            )
        _check_text(value, path)
    unsigned = AuditEntry(
        sequence=sequence,
        recorded_at=as_utc(now),
        actor=actor,
        action=action,
        subject=subject,
        details=check_details(details),
        previous_hash=previous_hash,
        entry_hash="",
        chain=chain,
    )
    return attrs.evolve(unsigned, entry_hash=unsigned.compute_hash())


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_value(value: object, path: str) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditEntryInvalidError("{path} has a key that is not text", rule="not_json", path=path)
            key_path = f"{path}.{key}"
            if _is_personal_key(key):
                raise AuditPersonalDataError(
                    "{path} is named like personal data; record a pseudonymous reference instead",
                    rule="personal_key",
                    path=key_path,
                )
            _check_text(key, path, in_key=True)
            _check_value(item, key_path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")
    elif isinstance(value, float):
        raise AuditEntryInvalidError(
            "{path} is a float; write amounts and measures as decimal text", rule="not_json", path=path
        )
    else:
        raise AuditEntryInvalidError(
            "{path} is a {kind}, which JSON cannot hold",
            rule="not_json",
            path=path,
            kind=type(value).__name__,
        )


@lru_cache(maxsize=1024)
def _is_personal_key(key: str) -> bool:
    words = _NOT_ALNUM.split(_CAMEL.sub(r"\1_\2", key).lower())
    return any(word in PERSONAL_KEY_WORDS for word in [*words, "".join(words)])


def _check_text(text: str, path: str, *, in_key: bool = False) -> None:
    """Refuse text containing an e-mail address or an IBAN (a key's text is not repeated in the path)."""
    rule = _personal_text(text)
    if rule is None:
        return
    where = "{path} has a key that contains" if in_key else "{path} contains"
    what = " an e-mail address" if rule == "email" else " an IBAN"
    raise AuditPersonalDataError(
        where + what + "; record a pseudonymous reference instead", rule=rule, path=path
    )


@lru_cache(maxsize=2048)
def _personal_text(text: str) -> str | None:
    """``email`` or ``iban`` when the text holds one, else ``None`` (keys and states repeat: checked once)."""
    if "@" in text and _EMAIL.search(text):
        return "email"
    if _contains_iban(text):
        return "iban"
    return None


def _contains_iban(text: str) -> bool:
    from stdnum import iban  # noqa: PLC0415 - loaded with the first check

    for match in _IBAN_CANDIDATE.finditer(text.upper()):
        compact = match.group().replace(" ", "")
        if compact[:2] not in _iban_countries():
            continue  # no IBAN starts so: skips python-stdnum's checks of every length (hashes, ids)
        if any(iban.is_valid(compact[:length]) for length in _IBAN_LENGTHS if length <= len(compact)):
            return True
    return False


@cache
def _iban_countries() -> frozenset[str]:
    """The country codes IBANs are issued for, from python-stdnum's registry."""
    from stdnum import numdb  # noqa: PLC0415 - loaded with the first check

    return frozenset(prefix[1] for prefix in numdb.get("iban").prefixes)


# -- the table -------------------------------------------------------------------------------------------


# -- verifying -------------------------------------------------------------------------------------------


class _ChainCheck:
    """The checks of one chain, fed its entries in the order read."""

    def __init__(
        self,
        chain: int,
        anchors: Iterable[tuple[AuditAnchor, str]],
        sealed: Callable[[AuditEntry], bool] | None = None,
        proven_to: int = 0,
    ) -> None:
        self.chain = chain
        self.anchors = tuple(anchors)
        self.sealed = sealed
        self.proven_to = proven_to  # entries up to here are vouched for by a signed checkpoint
        self.expected = 1
        self.previous_hash = genesis_hash(chain)
        self.head: AuditAnchor | None = None
        self.last_position = 0

    def add(self, log: _LogCheck, entry: AuditEntry, recomputed: str | None, unreadable: str) -> None:
        position, sequence = log.position, entry.sequence
        self.last_position = position

        def report(kind: AuditProblemKind, at: int, message: str) -> None:
            log.report(kind, at, position, message, self.chain)

        if recomputed is None:
            report(AuditProblemKind.MODIFIED, sequence, f"its content cannot be read: {unreadable}")
        elif recomputed != entry.entry_hash:
            report(AuditProblemKind.MODIFIED, sequence, "its stored hash differs from its content's hash")
        if sequence > self.expected:
            missing = (
                str(self.expected) if sequence == self.expected + 1 else f"{self.expected}-{sequence - 1}"
            )
            report(AuditProblemKind.GAP, self.expected, f"entry {missing} missing before entry {sequence}")
        elif sequence < self.expected:
            report(
                AuditProblemKind.OUT_OF_ORDER,
                sequence,
                f"sequence {sequence} comes after sequence {self.expected - 1}",
            )
        if entry.previous_hash != self.previous_hash:
            report(
                AuditProblemKind.BROKEN_LINK,
                sequence,
                "its previous hash is not the hash of the entry before it",
            )
        for anchor, named in self.anchors:
            if sequence == anchor.sequence and entry.entry_hash != anchor.entry_hash:
                report(AuditProblemKind.ANCHOR_MISMATCH, sequence, f"its hash differs from {named}'s")
        if self.sealed is not None and sequence > self.proven_to and not self.sealed(entry):
            report(
                AuditProblemKind.UNSEALED,
                sequence,
                "it comes after the last signed checkpoint and carries no valid seal"
                if entry.seal is None
                else "its seal does not match its hash under the installation's keys",
            )
        self.expected = max(self.expected, sequence + 1)
        self.previous_hash = entry.entry_hash
        self.head = AuditAnchor(sequence=sequence, entry_hash=entry.entry_hash, chain=self.chain)

    def finish(self, log: _LogCheck) -> None:
        position = (self.last_position or log.position) + 1
        for anchor, named in self.anchors:
            if self.expected <= anchor.sequence:
                log.report(
                    AuditProblemKind.TRUNCATED,
                    self.expected,
                    position,
                    f"the log ends before entry {anchor.sequence}, which {named} names",
                    self.chain,
                )


class _LogCheck:
    """The checks of verification over every chain, fed one entry at a time in the order read."""

    def __init__(
        self,
        anchor: AuditAnchor | Iterable[AuditAnchor] | None,
        max_problems: int,
        *,
        recorded: Iterable[AuditAnchor] = (),
        sealed: Callable[[AuditEntry], bool] | None = None,
    ) -> None:
        self.max_problems = max_problems
        self.sealed = sealed
        self.problems: list[AuditProblem] = []
        self.problem_count = 0
        self.position = 0
        given = anchors_of(anchor)
        self.anchors: dict[int, list[tuple[AuditAnchor, str]]] = {}
        self.proven: dict[int, int] = {}  # per chain, the last sequence a caller's anchor vouches for
        for point in given:
            self.anchors.setdefault(point.chain, []).append((point, "the anchor"))
            self.proven[point.chain] = max(self.proven.get(point.chain, 0), point.sequence)
        for point in recorded:  # the database's head rows, unless the caller's anchor says the same
            if point.sequence and point not in given:
                self.anchors.setdefault(point.chain, []).append((point, "the chain's head row"))
        self.chains: dict[int, _ChainCheck] = {}

    def report(self, kind: AuditProblemKind, sequence: int, position: int, message: str, chain: int) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(
                AuditProblem(kind=kind, sequence=sequence, position=position, message=message, chain=chain)
            )

    def add(self, entry: AuditEntry, recomputed: str | None, unreadable: str = "") -> None:
        self.position += 1
        check = self.chains.get(entry.chain)
        if check is None:
            check = self.chains[entry.chain] = self._chain(entry.chain)
        check.add(self, entry, recomputed, unreadable)

    def _chain(self, chain: int) -> _ChainCheck:
        return _ChainCheck(chain, self.anchors.get(chain, []), self.sealed, self.proven.get(chain, 0))

    def result(self) -> AuditVerification:
        for chain in sorted(self.anchors.keys() - self.chains.keys()):
            self.chains[chain] = self._chain(chain)
        for chain in sorted(self.chains):
            self.chains[chain].finish(self)
        heads = tuple(check.head for _, check in sorted(self.chains.items()) if check.head is not None)
        return AuditVerification(
            ok=self.problem_count == 0,
            entries_checked=self.position,
            problems=tuple(self.problems),
            problem_count=self.problem_count,
            heads=heads,
        )


def anchors_of(anchor: AuditAnchor | Iterable[AuditAnchor] | None) -> tuple[AuditAnchor, ...]:
    """One anchor, several (an earlier verification's ``heads``) or none, as a tuple."""
    if anchor is None:
        return ()
    if isinstance(anchor, AuditAnchor):
        return (anchor,)
    return tuple(anchor)


def verify_entries(
    entries: Iterable[AuditEntry],
    *,
    anchor: AuditAnchor | Iterable[AuditAnchor] | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    sealed: Callable[[AuditEntry], bool] | None = None,
) -> AuditVerification:
    """Verify audit entries given in the order they are kept, one at a time (an iterator is not listed).

    Each entry's hash is recomputed and compared with the stored one (``modified``); its sequence number
    must be the next one of its chain (``gap``, ``out_of_order``); its ``previous_hash`` must be the stored
    hash of the entry of its chain read before it, or the chain's :func:`genesis_hash` for the first
    (``broken_link``); with anchors, the entry at an anchor's chain and sequence must have the anchor's hash
    (``anchor_mismatch``) and the chain must reach it (``truncated``). See :class:`AuditProblemKind`.

    Args:
        entries: the entries, chain by chain, each chain in sequence order, as stored.
        anchor: points of the chains known from before (an earlier verification's ``heads``, or one of
            them).
        max_problems: how many problems to list; the rest are only counted.
        sealed: whether an entry's seal is valid (:meth:`AuditSeals.verifies`); when given, every entry
            after its chain's anchor (the last signed checkpoint) must be sealed (``unsealed``).

    Returns:
        The verification, with every problem located by chain, sequence number and position.
    """
    check = _LogCheck(anchor, max_problems, sealed=sealed)
    for entry in entries:
        check.add(entry, *_recompute(entry))
    return check.result()


def _recompute(entry: AuditEntry) -> tuple[str | None, str]:
    """Return the entry's hash recomputed, or ``None`` and why its content cannot be hashed."""
    try:
        return entry.compute_hash(), ""
    except (TypeError, ValueError) as exc:
        return None, str(exc)
