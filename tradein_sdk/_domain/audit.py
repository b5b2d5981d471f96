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

**Same transaction.** :func:`append_entry` runs inside the caller's transaction, so an order change and its
entry commit together or not at all. Writers are serialized: on SQLite by the caller's ``BEGIN
IMMEDIATE``; on PostgreSQL by a transaction-scoped advisory lock taken before the last entry is read (use
READ COMMITTED, PostgreSQL's default, so the read sees the entry the previous lock holder committed). The
primary key on ``sequence`` and a unique ``previous_hash`` are the last line of defence: two entries can
never chain onto the same predecessor.

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
consistent in itself: pass the :class:`AuditAnchor` of an earlier verification (its ``head``, kept
outside the database) to detect that too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from grading_questionnaire._schemas import content_hash
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import AuditEntryInvalidError, AuditPersonalDataError

if TYPE_CHECKING:
    from collections.abc import Iterable


AUDIT_TABLE = "tradein_audit_log"
"""The name of the audit log table."""
GENESIS_HASH = "sha256:" + "0" * 64
"""The ``previous_hash`` of the first entry: no entry comes before it."""
APPEND_ONLY_MESSAGE = "audit log is append-only"
"""The message with which the database refuses an UPDATE, DELETE or TRUNCATE of the audit log."""
DEFAULT_BATCH_SIZE = 2_000
"""How many rows :func:`verify_chain` reads per query unless told otherwise."""
DEFAULT_MAX_PROBLEMS = 1_000
"""How many problems a verification lists unless told otherwise (all are counted)."""


"""The PostgreSQL advisory lock key (``trau``) that serializes appends until each transaction ends."""

_ACTOR_LENGTH = 40
_ACTION_LENGTH = 80
_SUBJECT_LENGTH = 120
_HASH_LENGTH = len(GENESIS_HASH)
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
        sequence: its place in the log: 1, 2, 3, ... without gaps.
        recorded_at: when it was recorded (UTC).
        actor: who acted: ``shopper``, ``staff``, ``provider``, ``system``.
        action: what happened, as ``<thing>.<event>``: ``order.shipped``.
        subject: the pseudonymous reference of what it happened to: an order id ``ord_...``.
        details: non-personal facts as a JSON object: states, amounts as ``{"amount", "currency"}``
            strings, reason codes.
        previous_hash: the ``entry_hash`` of the entry before it (:data:`GENESIS_HASH` for the first).
        entry_hash: ``sha256:<hex>`` of the canonical JSON of every other field.
    """

    sequence: int
    recorded_at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    previous_hash: str
    entry_hash: str

    def hashed_content(self) -> dict[str, Any]:
        """Return the fields the entry hash covers: every field but ``entry_hash``, times as ISO text.

        Returns:
            A JSON object; its canonical JSON is what :meth:`compute_hash` hashes.
        """
        return {
            "sequence": self.sequence,
            "recorded_at": self.recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self) -> str:
        """Recompute the entry hash from the entry's content (ignoring the stored ``entry_hash``).

        Returns:
            ``sha256:<hex>`` of the canonical JSON of :meth:`hashed_content`.
        """
        return content_hash(self.hashed_content())


@attrs.frozen(kw_only=True)
class AuditAnchor:
    """A known point of the chain, kept outside the database, against which a later log is checked.

    Attributes:
        sequence: the entry's sequence number.
        entry_hash: the entry's hash then.
    """

    sequence: int
    entry_hash: str


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
    """The log ends before the anchor's entry: entries at the end were deleted. Reported at the first
    missing number, at the position after the last entry."""
    ANCHOR_MISMATCH = "anchor_mismatch"
    """The entry at the anchor's sequence number has another hash than the anchor recorded: the log was
    rewritten from there or before. Reported at that entry."""
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
        position: where in sequence order it was found: the n-th entry read (1-based); for
            ``truncated``, one past the last entry.
        message: what was found, in English.
    """

    kind: AuditProblemKind
    sequence: int
    position: int
    message: str

    def __str__(self) -> str:
        """Return the problem as ``entry N (position P): kind: message``."""
        return f"entry {self.sequence} (position {self.position}): {self.kind}: {self.message}"


@attrs.frozen(kw_only=True)
class AuditVerification:
    """The outcome of verifying the audit log.

    Attributes:
        ok: ``True`` when no problem was found.
        entries_checked: how many entries were read.
        problems: the problems found, in the order they were found (at most ``max_problems``).
        problem_count: how many problems were found in all.
        head: the last entry read (its sequence and hash), to keep as the anchor of a later
            verification; ``None`` for an empty log.
    """

    ok: bool
    entries_checked: int
    problems: tuple[AuditProblem, ...]
    problem_count: int
    head: AuditAnchor | None


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


def next_entry(
    previous: AuditEntry | None,
    *,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
) -> AuditEntry:
    """Build the entry that follows ``previous`` (or the first entry), checked and hashed.

    Args:
        previous: the last entry of the log, ``None`` when the log is empty.
        now: when it is recorded (timezone-aware).
        actor: who acted (``shopper``, ``staff``, ``provider``, ``system``).
        action: what happened (``order.shipped``).
        subject: the pseudonymous reference it happened to (``ord_...``).
        details: non-personal facts (see :func:`check_details`).

    Returns:
        The new entry, with the next sequence number, linked to ``previous`` and hashed.

    Raises:
        ValueError: ``now`` has no timezone.
        AuditPersonalDataError: a value looks like personal data.
        AuditEntryInvalidError: a field is empty, too long or not JSON.
    """
    sequence, previous_hash = (
        (0, GENESIS_HASH) if previous is None else (previous.sequence, previous.entry_hash)
    )
    return _build(
        sequence + 1, previous_hash, now=now, actor=actor, action=action, subject=subject, details=details
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


def _is_personal_key(key: str) -> bool:
    words = _NOT_ALNUM.split(_CAMEL.sub(r"\1_\2", key).lower())
    return any(word in PERSONAL_KEY_WORDS for word in [*words, "".join(words)])


def _check_text(text: str, path: str, *, in_key: bool = False) -> None:
    """Refuse text containing an e-mail address or an IBAN (a key's text is not repeated in the path)."""
    where = "{path} has a key that contains" if in_key else "{path} contains"
    if "@" in text and _EMAIL.search(text):
        raise AuditPersonalDataError(
            where + " an e-mail address; record a pseudonymous reference instead", rule="email", path=path
        )
    if _contains_iban(text):
        raise AuditPersonalDataError(
            where + " an IBAN; record a pseudonymous reference instead", rule="iban", path=path
        )


def _contains_iban(text: str) -> bool:
    from stdnum import iban  # noqa: PLC0415 - loaded with the first check

    for match in _IBAN_CANDIDATE.finditer(text.upper()):
        compact = match.group().replace(" ", "")
        if any(iban.is_valid(compact[:length]) for length in _IBAN_LENGTHS if length <= len(compact)):
            return True
    return False


# -- the table -------------------------------------------------------------------------------------------


# -- verifying -------------------------------------------------------------------------------------------


class _ChainCheck:
    """The checks of verification, fed one entry at a time in the order read."""

    def __init__(self, anchor: AuditAnchor | None, max_problems: int) -> None:
        self.anchor = anchor
        self.max_problems = max_problems
        self.problems: list[AuditProblem] = []
        self.problem_count = 0
        self.position = 0
        self.expected = 1
        self.previous_hash = GENESIS_HASH
        self.head: AuditAnchor | None = None

    def report(self, kind: AuditProblemKind, sequence: int, position: int, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(
                AuditProblem(kind=kind, sequence=sequence, position=position, message=message)
            )

    def add(self, entry: AuditEntry, recomputed: str | None, unreadable: str = "") -> None:
        self.position += 1
        position, sequence = self.position, entry.sequence
        if recomputed is None:
            self.report(
                AuditProblemKind.MODIFIED, sequence, position, f"its content cannot be read: {unreadable}"
            )
        elif recomputed != entry.entry_hash:
            self.report(
                AuditProblemKind.MODIFIED,
                sequence,
                position,
                "its stored hash differs from its content's hash",
            )
        if sequence > self.expected:
            missing = (
                str(self.expected) if sequence == self.expected + 1 else f"{self.expected}-{sequence - 1}"
            )
            self.report(
                AuditProblemKind.GAP,
                self.expected,
                position,
                f"entry {missing} missing before entry {sequence}",
            )
        elif sequence < self.expected:
            self.report(
                AuditProblemKind.OUT_OF_ORDER,
                sequence,
                position,
                f"sequence {sequence} comes after sequence {self.expected - 1}",
            )
        if entry.previous_hash != self.previous_hash:
            self.report(
                AuditProblemKind.BROKEN_LINK,
                sequence,
                position,
                "its previous hash is not the hash of the entry before it",
            )
        anchor = self.anchor
        if anchor is not None and sequence == anchor.sequence and entry.entry_hash != anchor.entry_hash:
            self.report(
                AuditProblemKind.ANCHOR_MISMATCH, sequence, position, "its hash differs from the anchor's"
            )
        self.expected = max(self.expected, sequence + 1)
        self.previous_hash = entry.entry_hash
        self.head = AuditAnchor(sequence=sequence, entry_hash=entry.entry_hash)

    def result(self) -> AuditVerification:
        anchor = self.anchor
        if anchor is not None and self.expected <= anchor.sequence:
            self.report(
                AuditProblemKind.TRUNCATED,
                self.expected,
                self.position + 1,
                f"the log ends before entry {anchor.sequence}, which the anchor names",
            )
        return AuditVerification(
            ok=self.problem_count == 0,
            entries_checked=self.position,
            problems=tuple(self.problems),
            problem_count=self.problem_count,
            head=self.head,
        )


def verify_entries(
    entries: Iterable[AuditEntry],
    *,
    anchor: AuditAnchor | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
) -> AuditVerification:
    """Verify audit entries given in the order they are kept, one at a time (an iterator is not listed).

    Each entry's hash is recomputed and compared with the stored one (``modified``); its sequence number
    must be the next one (``gap``, ``out_of_order``); its ``previous_hash`` must be the stored hash of the
    entry read before it, or :data:`GENESIS_HASH` for the first (``broken_link``); with an anchor, the
    entry at the anchor's sequence must have the anchor's hash (``anchor_mismatch``) and the log must
    reach it (``truncated``). See :class:`AuditProblemKind`.

    Args:
        entries: the entries, in sequence order as stored.
        anchor: a point of the chain known from before (an earlier verification's ``head``).
        max_problems: how many problems to list; the rest are only counted.

    Returns:
        The verification, with every problem located by sequence number and position.
    """
    check = _ChainCheck(anchor, max_problems)
    for entry in entries:
        check.add(entry, *_recompute(entry))
    return check.result()


def _recompute(entry: AuditEntry) -> tuple[str | None, str]:
    """Return the entry's hash recomputed, or ``None`` and why its content cannot be hashed."""
    try:
        return entry.compute_hash(), ""
    except (TypeError, ValueError) as exc:
        return None, str(exc)
