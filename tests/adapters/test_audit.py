from __future__ import annotations

import hashlib
import itertools
import json
import random
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban

from tradein_sdk import AuditEntryInvalidError, AuditPersonalDataError, StoreError
from tradein_sdk._adapters.sql.audit import (
    append_entry,
    audit_log_table,
    migration_audit,
    migration_audit_chains,
    migration_audit_seals,
    verify_chain,
)
from tradein_sdk._adapters.sql.store import SQLStore, engine_url
from tradein_sdk._domain.audit import (
    APPEND_ONLY_MESSAGE,
    GENESIS_HASH,
    AuditAnchor,
    AuditEntry,
    AuditProblemKind,
    AuditVerification,
    check_details,
    next_entry,
    verify_entries,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ACTORS = ("shopper", "staff", "provider", "system")
ACTIONS = ("order.placed", "order.shipped", "order.received", "order.inspected", "order.paid_out")
STATES = ("placed", "shipped", "received", "inspected", "paid_out")
LONG_LOG = 10_000
SAMPLES_PER_KIND = 25  # random positions per kind of tampering in memory, besides the first and last
TABLE_SAMPLES_PER_KIND = 2  # idem, through the SQLite table
THREADS = 8
APPENDS_PER_THREAD = 25


def seeded(seed: int | str) -> random.Random:
    """A reproducible random source for test data (not for secrets)."""
    return random.Random(seed)  # noqa: S311 - seeded test data


def fact(rng: random.Random, sequence: int) -> dict[str, Any]:
    """The keyword arguments of one plausible, non-personal audit entry, of chain 0 whatever its subject.

    The checks of one chain are tested here on chain 0; ``test_audit_chains.py`` tests the chains together.
    """
    state = rng.randrange(len(STATES) - 1)
    return {
        "now": NOW + timedelta(seconds=sequence, microseconds=rng.randrange(1_000_000)),
        "actor": rng.choice(ACTORS),
        "action": rng.choice(ACTIONS),
        "subject": f"ord_{rng.getrandbits(64):016x}",
        "chain": 0,
        "details": {
            "from": STATES[state],
            "to": STATES[state + 1],
            "amount": {"amount": f"{rng.randrange(1, 100_000) / 100:.2f}", "currency": "EUR"},
            "reason_code": rng.choice(["ok", "display_cracked", "late"]),
        },
    }


def chain(length: int, seed: int = 0) -> list[AuditEntry]:
    """A valid in-memory log of ``length`` entries."""
    rng = seeded(seed)
    entries: list[AuditEntry] = []
    for sequence in range(1, length + 1):
        entries.append(next_entry(entries[-1] if entries else None, **fact(rng, sequence)))
    return entries


def anchor_of(entries: Sequence[AuditEntry]) -> AuditAnchor:
    """The anchor an earlier verification of ``entries`` would have kept: its last entry."""
    return AuditAnchor(sequence=entries[-1].sequence, entry_hash=entries[-1].entry_hash)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SQLStore]:
    """A store with the audit log table, on a SQLite file and on PostgreSQL when reachable."""
    if database_url is None:
        opened = SQLStore.sqlite_file(tmp_path / "audit.sqlite3")
    else:
        opened = SQLStore(database_url, pool_size=THREADS)
    with opened._engine.begin() as conn:
        migration_audit(conn)
    yield opened
    opened.close()


def append_many(
    store: SQLStore, count: int, *, seed: int = 0, each_in_own_transaction: bool = True
) -> list[AuditEntry]:
    """Append ``count`` entries through :func:`append_entry` and return them as it did."""
    rng = seeded(seed)
    if each_in_own_transaction:
        appended = []
        for sequence in range(1, count + 1):
            with store._engine.begin() as conn:
                appended.append(append_entry(conn, **fact(rng, sequence)))
        return appended
    with store._engine.begin() as conn:
        return [append_entry(conn, **fact(rng, sequence)) for sequence in range(1, count + 1)]


def stored_rows(store: SQLStore, table: str = "tradein_audit_log") -> list[tuple[Any, ...]]:
    """Every row of an audit table as stored, in sequence order."""
    with store._engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY sequence"))]  # noqa: S608


def read_back(store: SQLStore) -> list[AuditEntry]:
    """The entries as the verifier reads them."""
    from tradein_sdk._adapters.sql.audit import _entry_from_row, _rows  # noqa: PLC0415

    with store._engine.connect() as conn:
        return [_entry_from_row(row) for row in _rows(conn, 100)]


# -- the chain -------------------------------------------------------------------------------------------


def test_append_and_verify_round_trip(store: SQLStore) -> None:
    """Entries appended in separate transactions read back unchanged, chained from the genesis, and verify."""
    appended = append_many(store, 30)
    assert [entry.sequence for entry in appended] == list(range(1, 31))
    assert appended[0].previous_hash == GENESIS_HASH
    assert all(later.previous_hash == earlier.entry_hash for earlier, later in itertools.pairwise(appended))
    assert read_back(store) == appended
    assert appended[0].recorded_at.tzinfo is UTC
    verification = verify_chain(store._engine)
    assert verification.ok
    assert verification.entries_checked == 30
    assert verification.problems == ()
    assert verification.heads == (anchor_of(appended),)
    assert verify_chain(store._engine, anchor=anchor_of(appended[:10])).ok


def test_the_entry_hash_is_sha256_of_the_canonical_json() -> None:
    """The hash covers every field but itself as sorted, space-free UTF-8 JSON; the first links to genesis."""
    entry = next_entry(
        None,
        now=datetime(2026, 11, 24, 13, 0, 0, 5, tzinfo=UTC),
        actor="staff",
        action="order.inspected",
        subject="ord_0001",
        details={
            "to": "inspected",
            "note": "Display – Kratzer",
            "amount": {"currency": "EUR", "amount": "1.50"},
        },
    )
    text = (
        '{"action":"order.inspected","actor":"staff",'
        '"details":{"amount":{"amount":"1.50","currency":"EUR"},"note":"Display – Kratzer","to":"inspected"},'
        f'"previous_hash":"{GENESIS_HASH}","recorded_at":"2026-11-24T13:00:00.000005+00:00",'
        '"sequence":1,"subject":"ord_0001"}'
    )
    assert entry.entry_hash == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert GENESIS_HASH == "sha256:" + "0" * 64


@given(
    details=st.dictionaries(
        st.text(alphabet="abcdefgh_", min_size=1, max_size=8),
        st.one_of(st.integers(), st.booleans(), st.none(), st.text(alphabet="xyz 0123456789-.", max_size=12)),
        max_size=6,
    ),
    offset=st.integers(min_value=-12, max_value=12),
)
def test_the_hash_does_not_depend_on_key_order_or_time_zone(details: dict[str, Any], offset: int) -> None:
    """The same facts in another key order, at the same instant in another zone, hash the same."""
    shifted = NOW.astimezone(timezone(timedelta(hours=offset)))
    first = next_entry(None, now=NOW, actor="system", action="order.placed", subject="ord_1", details=details)
    again = next_entry(
        None,
        now=shifted,
        actor="system",
        action="order.placed",
        subject="ord_1",
        details=dict(reversed(list(details.items()))),
    )
    assert first.entry_hash == again.entry_hash == first.compute_hash()
    assert first.recorded_at.tzinfo is UTC


# -- the database refuses changes ------------------------------------------------------------------------

REFUSED = {
    "update": "UPDATE tradein_audit_log SET actor = 'system' WHERE sequence = 2",
    "delete": "DELETE FROM tradein_audit_log WHERE sequence = 2",
    "delete-all": "DELETE FROM tradein_audit_log",
    "upsert": (
        "INSERT INTO tradein_audit_log SELECT * FROM tradein_audit_log WHERE sequence = 2 "
        "ON CONFLICT (chain, sequence) DO UPDATE SET actor = 'system'"
    ),
}
EXTRA_REFUSED = {
    "sqlite": (
        "INSERT OR REPLACE INTO tradein_audit_log SELECT chain, sequence, recorded_at, 'system', action, "
        "subject, details, previous_hash, entry_hash, seal FROM tradein_audit_log WHERE sequence = 2"
    ),
    "postgresql": "TRUNCATE tradein_audit_log",
}


def assert_refused(store: SQLStore, sql: str) -> None:
    """The statement fails with the trigger's message and the log is exactly as before."""
    append_many(store, 3)
    before = stored_rows(store)
    with pytest.raises(sa.exc.DBAPIError, match=APPEND_ONLY_MESSAGE), store._engine.begin() as conn:
        conn.execute(sa.text(sql))
    assert stored_rows(store) == before
    assert verify_chain(store._engine).ok


@pytest.mark.parametrize("statement", list(REFUSED), ids=list(REFUSED))
def test_the_database_refuses_changes_to_the_log(store: SQLStore, statement: str) -> None:
    """UPDATE, DELETE and upserts fail with the trigger's message; nothing changes."""
    assert_refused(store, REFUSED[statement])


def test_the_database_refuses_its_own_ways_around(store: SQLStore) -> None:
    """SQLite's INSERT OR REPLACE (which skips delete triggers) and PostgreSQL's TRUNCATE are refused too."""
    assert_refused(store, EXTRA_REFUSED[store.dialect])


def test_the_migration_step_can_run_again(store: SQLStore) -> None:
    """Running the step on a database that has the log keeps the entries and the triggers."""
    appended = append_many(store, 2)
    with store._engine.begin() as conn:
        migration_audit(conn)
    assert read_back(store) == appended
    with pytest.raises(sa.exc.DBAPIError, match=APPEND_ONLY_MESSAGE), store._engine.begin() as conn:
        conn.execute(sa.text(REFUSED["delete"]))


def test_a_failed_transaction_leaves_no_entry(store: SQLStore) -> None:
    """An entry appended in a transaction that rolls back is gone; the next append reuses its sequence."""
    append_many(store, 1)

    def change_that_fails() -> None:
        with store._engine.begin() as conn:
            append_entry(conn, **fact(seeded(1), 2))
            raise RuntimeError("order change failed")

    with pytest.raises(RuntimeError, match="order change failed"):
        change_that_fails()
    with store._engine.begin() as conn:
        assert append_entry(conn, **fact(seeded(2), 2)).sequence == 2
    assert verify_chain(store._engine).entries_checked == 2


def test_appending_without_the_table_is_a_store_error(tmp_path: Path) -> None:
    """Without the migration, appending raises StoreError naming the audit log, and so does verifying."""
    store = SQLStore(f"sqlite:///{tmp_path / 'bare.sqlite3'}", migrate=False)
    with pytest.raises(StoreError, match="cannot append to the audit log"), store._engine.begin() as conn:
        append_entry(conn, **fact(seeded(0), 1))
    with pytest.raises(StoreError, match="cannot verify the audit log"):
        verify_chain(store._engine)
    store.close()


# -- concurrency -----------------------------------------------------------------------------------------


def test_concurrent_appends_make_one_gap_free_chain(store: SQLStore) -> None:
    """Eight threads on their own connections appending at once produce one chain that verifies."""
    barrier = threading.Barrier(THREADS)
    appended: list[AuditEntry] = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        rng = seeded(seed)
        barrier.wait()
        for sequence in range(APPENDS_PER_THREAD):
            with store._engine.begin() as conn:
                entry = append_entry(conn, **fact(rng, sequence))
            with lock:
                appended.append(entry)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = THREADS * APPENDS_PER_THREAD
    verification = verify_chain(store._engine)
    assert verification.ok
    assert verification.entries_checked == total
    assert read_back(store) == sorted(appended, key=lambda entry: entry.sequence)
    assert [entry.sequence for entry in read_back(store)] == list(range(1, total + 1))


# -- personal data ---------------------------------------------------------------------------------------

VALID_IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    ("field", "value", "rule", "path"),
    [
        ("details", {"name": "Jane Doe"}, "personal_key", "$.details.name"),
        (
            "details",
            {"refund": {"account_holder": "J. Doe"}},
            "personal_key",
            "$.details.refund.account_holder",
        ),
        ("details", {"emailAddress": "x"}, "personal_key", "$.details.emailAddress"),
        ("details", {"E-Mail": "x"}, "personal_key", "$.details.E-Mail"),
        ("details", {"shipping_address": {"city": "Berlin"}}, "personal_key", "$.details.shipping_address"),
        ("details", {"phone": "+49 30 1234567"}, "personal_key", "$.details.phone"),
        ("details", {"IBAN": "x"}, "personal_key", "$.details.IBAN"),
        ("details", {"bic": "COBADEFFXXX"}, "personal_key", "$.details.bic"),
        ("details", {"note": "mail jane.doe@example.com please"}, "email", "$.details.note"),
        ("details", {"refund_to": VALID_IBAN}, "iban", "$.details.refund_to"),
        ("details", {"refund_to": "paid to de89370400440532013000 today"}, "iban", "$.details.refund_to"),
        ("details", {"steps": ["ok", {"to": VALID_IBAN}]}, "iban", "$.details.steps[1].to"),
        ("details", {"refund": {"jane@example.com": True}}, "email", "$.details.refund"),
        ("subject", "jane.doe@example.com", "email", "$.subject"),
        ("subject", VALID_IBAN, "iban", "$.subject"),
        ("actor", "staff jane@shop.example", "email", "$.actor"),
    ],
    ids=[
        "name-key",
        "nested-holder-key",
        "camel-case-email-key",
        "hyphenated-email-key",
        "address-key",
        "phone-key",
        "iban-key",
        "bic-key",
        "email-in-text",
        "iban-value",
        "iban-compact-lower-case-in-text",
        "iban-in-a-list",
        "email-as-key",
        "email-subject",
        "iban-subject",
        "email-in-actor",
    ],
)
def test_personal_data_is_refused(store: SQLStore, field: str, value: Any, rule: str, path: str) -> None:  # noqa: ANN401
    """Personal keys, e-mail addresses and IBANs are refused by path, not echoing the value; none written."""
    arguments = {**fact(seeded(0), 1), field: value}
    with pytest.raises(AuditPersonalDataError) as caught, store._engine.begin() as conn:
        append_entry(conn, **arguments)
    assert caught.value.code == "audit_personal_data"
    assert (caught.value.rule, caught.value.path) == (rule, path)
    assert "jane" not in str(caught.value).lower()
    assert "0532" not in str(caught.value)
    assert verify_chain(store._engine).entries_checked == 0


@pytest.mark.parametrize(
    "details",
    [
        {"from": "shipped", "to": "received", "amount": {"amount": "180.00", "currency": "EUR"}},
        {"shopper_ref": "shp_8f2c", "reason_code": "display_cracked", "grade": "C", "functional": 7},
        {"tracking": "DE00 1234 5678 9012 3456 78", "carrier": "dhl"},
        {"checks": [True, None, 3], "nested": {"state": "ok"}},
        {},
        {"event_id": "inspect:45591821ad7841869655851ef2a8e5b0"},  # holds AD78 4186 9655 851E F2A8 E5B0
        {"entry": "led_45591821ad7841869655851ef2a8e5b0_x"},
    ],
    ids=[
        "transition",
        "pseudonymous-reference",
        "iban-shaped-with-a-wrong-checksum",
        "lists-and-nulls",
        "empty",
        "a-valid-iban-inside-a-random-id",
        "the-same-inside-a-ledger-id",
    ],
)
def test_non_personal_facts_are_accepted(details: dict[str, Any]) -> None:
    """States, amounts as text, reason codes and references pass the check unchanged."""
    assert check_details(details) == details


@given(address=st.emails(), before=st.text(max_size=10), after=st.text(max_size=10))
def test_any_email_address_in_text_is_refused(address: str, before: str, after: str) -> None:
    """An e-mail address anywhere in a value is refused."""
    with pytest.raises(AuditPersonalDataError) as caught:
        check_details({"note": f"{before} {address} {after}"})
    assert caught.value.rule == "email"


@given(bban=st.text(alphabet="0123456789", min_size=18, max_size=18), spaced=st.booleans())
def test_any_valid_german_iban_is_refused(bban: str, spaced: bool) -> None:
    """A valid IBAN, spaced in fours or compact, is refused; the same with a wrong check digit is not."""
    number = f"DE{iban.calc_check_digits('DE00' + bban)}{bban}"
    shown = " ".join(number[index : index + 4] for index in range(0, len(number), 4)) if spaced else number
    with pytest.raises(AuditPersonalDataError):
        check_details({"refund_to": shown})
    wrong = f"DE{(int(number[2:4]) + 1) % 100:02d}{bban}"
    assert check_details({"refund_to": wrong}) == {"refund_to": wrong}


@pytest.mark.parametrize(
    ("changes", "rule", "path"),
    [
        ({"details": {"amount": 1.5}}, "not_json", "$.details.amount"),
        ({"details": {"amount": Decimal("1.50")}}, "not_json", "$.details.amount"),
        ({"details": {"tags": {"a", "b"}}}, "not_json", "$.details.tags"),
        ({"details": {1: "x"}}, "not_json", "$.details"),
        ({"details": ["not", "an", "object"]}, "not_json", "$.details"),
        ({"actor": " "}, "empty", "$.actor"),
        ({"action": ""}, "empty", "$.action"),
        ({"subject": "ord_" + "x" * 120}, "too_long", "$.subject"),
    ],
    ids=["float", "decimal", "set", "integer-key", "list", "blank-actor", "empty-action", "long-subject"],
)
def test_invalid_entries_are_refused(changes: dict[str, Any], rule: str, path: str) -> None:
    """Values JSON cannot hold exactly, and empty or overlong fields, are refused with the rule and path."""
    with pytest.raises(AuditEntryInvalidError) as caught:
        next_entry(None, **{**fact(seeded(0), 1), **changes})
    assert not isinstance(caught.value, AuditPersonalDataError)
    assert caught.value.code == "audit_entry_invalid"
    assert (caught.value.rule, caught.value.path) == (rule, path)


def test_a_naive_time_is_refused() -> None:
    """A naive 'now' is a programming error, not a silent local-time guess."""
    with pytest.raises(ValueError, match="no timezone"):
        next_entry(None, **{**fact(seeded(0), 1), "now": datetime(2026, 11, 24, 12, 0)})  # noqa: DTZ001


def test_tuples_and_mappings_are_stored_as_plain_json() -> None:
    """Details given with tuples come back as lists, as they are stored and hashed."""
    entry = next_entry(None, **{**fact(seeded(0), 1), "details": {"checks": ("a", ("b",))}})
    assert entry.details == {"checks": ["a", ["b"]]}


# -- tampering -------------------------------------------------------------------------------------------

FIELDS = ("sequence", "recorded_at", "actor", "action", "subject", "details", "previous_hash", "entry_hash")
TAMPERINGS = (*FIELDS, "delete", "insert", "forge", "swap", "move")
FORGERIES = frozenset({"insert", "forge"})  # entries with a valid hash and a valid link to their predecessor


def flip(digest: str, rng: random.Random) -> str:
    """The digest with one hex digit changed."""
    index = rng.randrange(len("sha256:"), len(digest))
    digit = rng.choice([other for other in "0123456789abcdef" if other != digest[index]])
    return digest[:index] + digit + digest[index + 1 :]


def altered(entry: AuditEntry, field: str, rng: random.Random, *, free_sequences: range) -> AuditEntry:
    """The entry with one field changed and its stored hash left as it was."""
    value: Any
    if field == "sequence":
        value = rng.choice([number for number in free_sequences if number != entry.sequence])
    elif field == "recorded_at":
        value = entry.recorded_at + rng.choice([1, -1]) * timedelta(microseconds=rng.randrange(1, 10**10))
    elif field == "actor":
        value = rng.choice([actor for actor in ACTORS if actor != entry.actor])
    elif field == "action":
        value = rng.choice([action for action in ACTIONS if action != entry.action])
    elif field == "subject":
        value = f"ord_{rng.getrandbits(64):016x}x"
    elif field == "details":
        amount = Decimal(entry.details["amount"]["amount"]) + Decimal("0.01")
        value = {**entry.details, "amount": {"amount": str(amount), "currency": "EUR"}}
    else:
        value = flip(getattr(entry, field), rng)
    return attrs.evolve(entry, **{field: value})


def rehashed(entry: AuditEntry) -> AuditEntry:
    """The entry with a valid hash of its (changed) content."""
    return attrs.evolve(entry, entry_hash=entry.compute_hash())


def forged_after(previous: AuditEntry | None, rng: random.Random) -> AuditEntry:
    """A forged entry correctly linked to ``previous``, with a valid hash of its own."""
    return next_entry(previous, **fact(rng, 0))


def tampered(entries: list[AuditEntry], kind: str, position: int, rng: random.Random) -> list[AuditEntry]:
    """The in-memory log with the entry at ``position`` (1-based) tampered with; others keep their numbers."""
    out, index = list(entries), position - 1
    if kind in FIELDS:
        out[index] = altered(out[index], kind, rng, free_sequences=range(-5, len(entries) + 50))
    elif kind == "forge":
        out[index] = rehashed(altered(out[index], "details", rng, free_sequences=range(0)))
    elif kind == "delete":
        del out[index]
    elif kind == "insert":
        out.insert(index, forged_after(out[index - 1] if index else None, rng))
    elif kind == "swap":
        out[index], out[index + 1] = out[index + 1], out[index]
    else:
        target = rng.choice([other for other in range(len(entries)) if other != index])
        out.insert(target, out.pop(index))
    return out


def positions(kind: str, length: int, rng: random.Random, samples: int) -> list[int]:
    """Where to tamper: the first and last possible positions and ``samples`` random ones."""
    last = length - 1 if kind == "swap" else length
    return [1, last, *(rng.randint(1, last) for _ in range(samples))]


def first_difference(original: Sequence[object], changed: Sequence[object]) -> int:
    """The first position (1-based) at which two logs differ."""
    for position, (before, after) in enumerate(zip(original, changed, strict=False), start=1):
        if before != after:
            return position
    return min(len(original), len(changed)) + 1


def expected_position(kind: str, first_changed: int, length: int) -> int:
    """Where the first problem must be reported.

    At the first position where the log differs from the original; an entry with a valid hash and a valid
    link to its predecessor (inserted or rewritten) can only be told apart at the entry after it, or at the
    anchor (the last original entry) when that comes first.
    """
    return min(first_changed + 1, length) if kind in FORGERIES else first_changed


def assert_located(
    entries: list[AuditEntry], changed: Sequence[AuditEntry], kind: str, verification: AuditVerification
) -> None:
    """The verification failed and its first problem is where the rule says."""
    assert not verification.ok, kind
    expected = expected_position(kind, first_difference(entries, changed), len(entries))
    assert verification.problems[0].position == expected, (kind, verification.problems[:3])


@settings(max_examples=400)
@given(
    length=st.integers(min_value=1, max_value=30),
    kind=st.sampled_from(TAMPERINGS),
    where=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_every_single_entry_tampering_is_detected_and_located(
    length: int, kind: str, where: float, seed: int
) -> None:
    """On any short log, any one tampering of any kind is found at the position the rule names."""
    if kind in {"swap", "move"} and length < 2:
        kind = "delete"
    entries = chain(length, seed)
    last = length - 1 if kind == "swap" else length
    position = 1 + min(int(where * last), last - 1)
    changed = tampered(entries, kind, position, seeded(seed))
    assert_located(entries, changed, kind, verify_entries(changed, anchor=anchor_of(entries)))


@pytest.fixture(scope="module")
def long_log() -> list[AuditEntry]:
    """A valid in-memory log of 10,000 entries."""
    return chain(LONG_LOG, seed=10_000)


@pytest.mark.parametrize("kind", TAMPERINGS, ids=TAMPERINGS)
def test_tampering_one_entry_of_10000_is_always_detected_and_located(
    long_log: list[AuditEntry], kind: str
) -> None:
    """Each sampled single-entry tampering of a 10,000-entry log is found at the position the rule names."""
    assert verify_entries(long_log, anchor=anchor_of(long_log)).ok
    rng = seeded(f"tamper-{kind}")
    for position in positions(kind, LONG_LOG, rng, SAMPLES_PER_KIND):
        changed = tampered(long_log, kind, position, rng)
        assert_located(long_log, changed, kind, verify_entries(changed, anchor=anchor_of(long_log)))


ATTACKER_TABLE = """CREATE TABLE tradein_audit_log (chain INTEGER NOT NULL,
    sequence INTEGER NOT NULL PRIMARY KEY, recorded_at DATETIME NOT NULL, actor VARCHAR(40) NOT NULL,
    action VARCHAR(80) NOT NULL, subject VARCHAR(120) NOT NULL, details TEXT NOT NULL,
    previous_hash VARCHAR(71) NOT NULL, entry_hash VARCHAR(71) NOT NULL, seal VARCHAR(100))"""


@pytest.fixture(scope="module")
def attacked_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLStore, list[AuditEntry]]]:
    """A SQLite log of 10,000 real entries, then opened up as an attacker with file access would.

    The triggers are dropped and the table rebuilt without its unique ``previous_hash`` (which would stop a
    second entry linking to the same predecessor); the real entries are kept as ``pristine``.
    """
    store = SQLStore.sqlite_file(tmp_path_factory.mktemp("attacked") / "audit.sqlite3")
    with store._engine.begin() as conn:
        migration_audit(conn)
    appended = append_many(store, LONG_LOG, seed=7, each_in_own_transaction=False)
    with store._engine.begin() as conn:
        for trigger in ("no_update", "no_delete", "no_replace"):
            conn.exec_driver_sql(f"DROP TRIGGER tradein_audit_log_{trigger}")
        conn.exec_driver_sql("ALTER TABLE tradein_audit_log RENAME TO pristine")
        conn.exec_driver_sql(ATTACKER_TABLE)
    yield store, appended
    store.close()


def write_contents(conn: sa.Connection, contents: dict[int, AuditEntry]) -> None:
    """Overwrite the rows at the given sequence numbers with other entries' content (sequence kept)."""
    table = audit_log_table()
    conn.execute(
        sa.update(table)
        .where(table.c.sequence == sa.bindparam("at"))
        .values({column: sa.bindparam(f"new_{column}") for column in FIELDS if column != "sequence"}),
        [
            {
                "at": at,
                **{f"new_{column}": getattr(entry, column) for column in FIELDS if column != "sequence"},
                "new_details": json.dumps(
                    entry.details, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ),
            }
            for at, entry in contents.items()
        ],
    )


def tamper_table(
    conn: sa.Connection, entries: list[AuditEntry], kind: str, position: int, rng: random.Random
) -> None:
    """Tamper with one entry of the table by SQL, as an attacker with write access would."""
    length, index = len(entries), position - 1
    if kind == "sequence":
        free = rng.choice([*range(-50, 1), *range(length + 1, length + 50)])
        conn.execute(
            sa.text("UPDATE tradein_audit_log SET sequence = :free WHERE sequence = :at"),
            {"free": free, "at": position},
        )
    elif kind == "details" and rng.random() < 0.5:
        garbage = rng.choice(["{", "[]", '"text"', "null"])
        conn.execute(
            sa.text("UPDATE tradein_audit_log SET details = :garbage WHERE sequence = :at"),
            {"garbage": garbage, "at": position},
        )
    elif kind in FIELDS:
        write_contents(conn, {position: altered(entries[index], kind, rng, free_sequences=range(0))})
    elif kind == "forge":
        write_contents(
            conn, {position: rehashed(altered(entries[index], "details", rng, free_sequences=range(0)))}
        )
    elif kind == "delete":
        conn.execute(sa.text("DELETE FROM tradein_audit_log WHERE sequence = :at"), {"at": position})
    elif kind == "insert":
        conn.execute(
            sa.text("UPDATE tradein_audit_log SET sequence = -(sequence + 1) WHERE sequence >= :at"),
            {"at": position},
        )
        conn.execute(sa.text("UPDATE tradein_audit_log SET sequence = -sequence WHERE sequence < 0"))
        forged = forged_after(entries[index - 1] if index else None, rng)
        conn.execute(
            sa.insert(audit_log_table()).values(
                {**attrs.asdict(forged), "details": json.dumps(forged.details)}
            )
        )
    elif kind == "swap":
        write_contents(conn, {position: entries[index + 1], position + 1: entries[index]})
    else:
        target = rng.choice([other for other in range(length) if other != index])
        moved = list(entries)
        moved.insert(target, moved.pop(index))
        low, high = min(index, target), max(index, target)
        write_contents(conn, {at + 1: moved[at] for at in range(low, high + 1)})


@pytest.mark.parametrize("kind", TAMPERINGS, ids=TAMPERINGS)
def test_tampering_the_10000_entry_sqlite_table_is_detected_and_located(
    attacked_store: tuple[SQLStore, list[AuditEntry]], kind: str
) -> None:
    """Each sampled single-row tampering by SQL of the 10,000-entry table is found where the rule says."""
    store, entries = attacked_store
    pristine = stored_rows(store, "pristine")
    anchor = anchor_of(entries)
    rng = seeded(f"table-{kind}")
    for position in positions(kind, LONG_LOG, rng, TABLE_SAMPLES_PER_KIND):
        with store._engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM tradein_audit_log")
            conn.exec_driver_sql("INSERT INTO tradein_audit_log SELECT * FROM pristine")
        assert verify_chain(store._engine, anchor=anchor).ok
        with store._engine.begin() as conn:
            tamper_table(conn, entries, kind, position, rng)
        verification = verify_chain(store._engine, anchor=anchor)
        assert not verification.ok, (kind, position)
        first_changed = first_difference(pristine, stored_rows(store))
        assert verification.problems[0].position == expected_position(kind, first_changed, LONG_LOG), (
            kind,
            position,
            verification.problems[:3],
        )


# -- what verification reports ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "position", "expected"),
    [
        ("details", 3, [(AuditProblemKind.MODIFIED, 3, 3)]),
        ("entry_hash", 3, [(AuditProblemKind.MODIFIED, 3, 3), (AuditProblemKind.BROKEN_LINK, 4, 4)]),
        ("delete", 3, [(AuditProblemKind.GAP, 3, 3), (AuditProblemKind.BROKEN_LINK, 4, 3)]),
        ("delete", 5, [(AuditProblemKind.TRUNCATED, 5, 5)]),
        ("insert", 3, [(AuditProblemKind.OUT_OF_ORDER, 3, 4), (AuditProblemKind.BROKEN_LINK, 3, 4)]),
        ("forge", 3, [(AuditProblemKind.BROKEN_LINK, 4, 4)]),
        ("forge", 5, [(AuditProblemKind.ANCHOR_MISMATCH, 5, 5)]),
        (
            "swap",
            2,
            [
                (AuditProblemKind.GAP, 2, 2),
                (AuditProblemKind.BROKEN_LINK, 3, 2),
                (AuditProblemKind.OUT_OF_ORDER, 2, 3),
                (AuditProblemKind.BROKEN_LINK, 2, 3),
                (AuditProblemKind.BROKEN_LINK, 4, 4),
            ],
        ),
    ],
    ids=[
        "modified",
        "hash-edited",
        "deleted",
        "last-deleted",
        "inserted",
        "rewritten",
        "last-rewritten",
        "swapped",
    ],
)
def test_each_tampering_reports_its_kinds(
    kind: str, position: int, expected: list[tuple[str, int, int]]
) -> None:
    """Each kind of tampering of a 5-entry log shows as the documented kinds, sequences and positions."""
    entries = chain(5)
    verification = verify_entries(tampered(entries, kind, position, seeded(0)), anchor=anchor_of(entries))
    assert [
        (problem.kind, problem.sequence, problem.position) for problem in verification.problems
    ] == expected
    assert verification.problem_count == len(expected)


def test_deleting_the_last_entry_needs_an_anchor() -> None:
    """Without an anchor a log missing its last entry is consistent in itself; with one, it is truncated."""
    entries = chain(4)
    assert verify_entries(entries[:-1]).ok
    truncated = verify_entries(entries[:-1], anchor=anchor_of(entries))
    assert str(truncated.problems[0]) == (
        "entry 4 (position 4): truncated: the log ends before entry 4, which the anchor names"
    )
    assert verify_entries([], anchor=anchor_of(entries)).problems[0].sequence == 1


def test_an_empty_log_verifies_and_has_no_head(store: SQLStore) -> None:
    """An empty log is consistent; there is no head to anchor yet."""
    verification = verify_chain(store._engine)
    assert (verification.ok, verification.entries_checked, verification.heads) == (True, 0, ())


def test_problems_are_listed_up_to_a_limit_and_all_counted() -> None:
    """A renumbered log lists at most max_problems problems but counts every one."""
    entries = [attrs.evolve(entry, sequence=entry.sequence + 1) for entry in chain(20)]
    verification = verify_entries(entries, max_problems=5)
    assert len(verification.problems) == 5
    assert verification.problem_count == 21  # 20 modified entries and the gap at 1
    assert verification.problems[1].message == "entry 1 missing before entry 2"


def test_a_gap_of_several_entries_names_them() -> None:
    """Several missing entries are reported once, at the first missing number, naming the range."""
    entries = chain(6)
    verification = verify_entries([*entries[:2], *entries[5:]], anchor=anchor_of(entries))
    assert verification.problems[0].message == "entry 3-5 missing before entry 6"
    assert (verification.problems[0].kind, verification.problems[0].sequence) == (AuditProblemKind.GAP, 3)


def test_an_entry_whose_content_cannot_be_hashed_is_modified() -> None:
    """An in-memory entry holding something JSON cannot write is reported as modified, with the reason."""
    entries = chain(3)
    broken = [entries[0], attrs.evolve(entries[1], details={"at": NOW}), entries[2]]
    problem = verify_entries(broken).problems[0]
    assert (problem.kind, problem.position) == (AuditProblemKind.MODIFIED, 2)
    assert "cannot be read" in problem.message


@pytest.mark.parametrize("batch_size", [1, 7, 30, 1000], ids=["one", "uneven", "exact", "large"])
def test_streaming_in_batches_checks_every_entry_once(store: SQLStore, batch_size: int) -> None:
    """Whatever the batch size, the stream verifies every entry once, in order, through a connection too."""
    appended = append_many(store, 30, each_in_own_transaction=False)
    assert verify_chain(store._engine, batch_size=batch_size) == verify_entries(appended)
    with store._engine.connect() as conn:
        assert verify_chain(conn, batch_size=batch_size).entries_checked == 30


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", "{not json"),
        ("details", "[1, 2]"),
        ("recorded_at", "yesterday"),
        ("recorded_at", 12),
        ("actor", 12),
    ],
    ids=["details-not-json", "details-not-an-object", "time-not-a-time", "time-a-number", "actor-a-number"],
)
def test_unreadable_rows_are_reported_as_modified(tmp_path: Path, column: str, value: object) -> None:
    """A row garbled beyond reading (triggers dropped) is reported as modified at its position, only it."""
    store = SQLStore.sqlite_file(tmp_path / "garbled.sqlite3")
    with store._engine.begin() as conn:
        migration_audit(conn)
    append_many(store, 4, each_in_own_transaction=False)
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER tradein_audit_log_no_update")
        garble = f"UPDATE tradein_audit_log SET {column} = :value WHERE sequence = 2"  # noqa: S608
        conn.execute(sa.text(garble), {"value": value})
    verification = verify_chain(store._engine)
    assert [(problem.kind, problem.position) for problem in verification.problems] == [
        (AuditProblemKind.MODIFIED, 2)
    ]
    assert verification.entries_checked == 4
    store.close()


def test_a_plain_engine_works_too(tmp_path: Path) -> None:
    """The step, appends and verification work on an engine made with engine_url, not only a SQLStore's."""
    engine = sa.create_engine(engine_url(f"sqlite:///{tmp_path / 'plain.sqlite3'}"))
    with engine.begin() as conn:
        migration_audit(conn)
        migration_audit_chains(conn)
        migration_audit_seals(conn)
        entries = [append_entry(conn, **fact(seeded(sequence), sequence)) for sequence in (1, 2)]
    assert verify_entries(entries).heads == verify_chain(engine).heads == (anchor_of(entries),)
    engine.dispose()
