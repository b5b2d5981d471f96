"""The audit log proves itself: sealed entries and signed checkpoints kept outside the database.

An attacker here has full write access to the database (triggers disabled) but not the installation's keys.
Every forged append, truncation, reorder and rewrite must be caught by ``verify_audit`` against the latest
signed checkpoint, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import random
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from tradein_sdk import SignatureInvalidError, TradeIn
from tradein_sdk._adapters.sql.audit import iter_entries
from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._domain.audit import AuditEntry, AuditProblemKind, next_entry
from tradein_sdk._domain.checkpoints import CHECKPOINT_PURPOSE, read_checkpoint
from tradein_sdk._domain.signing import verify_document

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tradein_sdk import FixedClock

TRIALS = 200
KINDS = ("forged_append", "truncate", "reorder", "rewrite")
LOG, HEADS = "tradein_audit_log", "tradein_audit_heads"


@pytest.fixture
def shop(tmp_path: Path, clock: FixedClock, database_url: str | None) -> Iterator[TradeIn]:
    """An installation with signing keys and checkpoints, and a few orders' worth of audit entries."""
    facade = TradeIn.embedded(tmp_path / "data", database_url=database_url, clock=clock)
    answers = example_answers("smartphone", "worn").answers
    for _ in range(12):
        order = facade.accept([facade.quote("apple-iphone-13-128gb", answers).token])
        facade.issue_label(order.id)
        clock.advance(minutes=5)
    yield facade
    facade.close()


def engine_of(facade: TradeIn) -> sa.Engine:
    """The engine of the facade's SQL store."""
    store = facade.store
    assert isinstance(store, SQLStore)
    return store._engine


def entries(facade: TradeIn) -> list[AuditEntry]:
    """Every entry as stored."""
    return list(iter_entries(engine_of(facade)))


def test_a_checkpoint_is_signed_kept_outside_and_verifies_offline(shop: TradeIn, tmp_path: Path) -> None:
    """checkpoint_audit signs the heads and the count; the file verifies with the published keys alone."""
    assert shop.latest_checkpoint() is None
    verification = shop.checkpoint_audit()
    assert verification.ok, verification.problems
    kept = sorted((tmp_path / "data" / "audit-checkpoints").glob("audit-checkpoint-*.json"))
    assert len(kept) == 1
    assert shop.signing_keys is not None
    jwks = json.loads(json.dumps(shop.signing_keys.jwks()))
    payload = verify_document(kept[0].read_text(), jwks, purpose=CHECKPOINT_PURPOSE)
    assert payload["entries"] == verification.entries_checked == len(entries(shop))
    checkpoint = read_checkpoint(kept[0].read_text(), jwks)
    assert checkpoint.heads == verification.heads
    assert all(entry.seal is not None for entry in entries(shop))  # the installation seals every entry


def test_a_changed_checkpoint_file_is_refused(shop: TradeIn, tmp_path: Path) -> None:
    """A checkpoint edited to vouch for a shorter log does not verify: it is never used."""
    shop.checkpoint_audit()
    path = next((tmp_path / "data" / "audit-checkpoints").glob("audit-checkpoint-*.json"))
    document = json.loads(path.read_text())
    document["payload"]["entries"] -= 1
    path.write_text(json.dumps(document))
    with pytest.raises(SignatureInvalidError, match=r"bad_signature|does not match"):
        shop.verify_audit()


class Attacker:
    """Write access to the database, no keys: restores the pristine log, then changes it one way."""

    def __init__(self, facade: TradeIn) -> None:
        """Take the triggers off the log and copy it and its head rows as they are (``pristine_*``)."""
        self.engine = engine_of(facade)
        self.postgres = self.engine.dialect.name == "postgresql"
        with self.engine.begin() as conn:
            if self.postgres:
                conn.exec_driver_sql(f"ALTER TABLE {LOG} DISABLE TRIGGER USER")
            else:
                for name in conn.exec_driver_sql(
                    f"SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{LOG}'"  # noqa: S608
                ).scalars():
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            conn.exec_driver_sql(f"CREATE TABLE pristine_log AS SELECT * FROM {LOG}")  # noqa: S608
            conn.exec_driver_sql(f"CREATE TABLE pristine_heads AS SELECT * FROM {HEADS}")  # noqa: S608
        self.pristine = list(iter_entries(self.engine))

    def restore(self) -> None:
        """Put the log and its head rows back as copied."""
        with self.engine.begin() as conn:
            for table, copy in ((LOG, "pristine_log"), (HEADS, "pristine_heads")):
                conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608
                conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM {copy}")  # noqa: S608

    def _write(self, conn: sa.Connection, entry: AuditEntry) -> None:
        conn.execute(
            sa.text(
                f"INSERT INTO {LOG} (chain, sequence, recorded_at, actor, action, subject, details, "  # noqa: S608
                "previous_hash, entry_hash, seal) VALUES (:chain, :sequence, :recorded_at, :actor, :action, "
                ":subject, :details, :previous_hash, :entry_hash, :seal)"
            ),
            {
                **attrs.asdict(entry),
                "recorded_at": entry.recorded_at if self.postgres else entry.recorded_at.isoformat(sep=" "),
                "details": json.dumps(entry.details, sort_keys=True, separators=(",", ":")),
            },
        )

    def _set_head(self, conn: sa.Connection, chain: int, last: AuditEntry | None) -> None:
        conn.execute(
            sa.text(f"UPDATE {HEADS} SET sequence = :sequence, entry_hash = :hash WHERE chain = :chain"),  # noqa: S608
            {
                "sequence": 0 if last is None else last.sequence,
                "hash": "" if last is None else last.entry_hash,
                "chain": chain,
            },
        )

    def _replace_chain(self, chain: int, new: list[AuditEntry]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {LOG} WHERE chain = :chain"), {"chain": chain})  # noqa: S608
            for entry in new:
                self._write(conn, entry)
            if new:
                self._set_head(conn, chain, new[-1])

    def tamper(self, kind: str, rng: random.Random) -> None:
        """Change one chain of the pristine log one way, keeping the head rows consistent with the change."""
        chains: dict[int, list[AuditEntry]] = {}
        for entry in self.pristine:
            chains.setdefault(entry.chain, []).append(entry)
        chain = rng.choice(sorted(chains))
        log = list(chains[chain])
        if kind == "forged_append":  # a valid hash and link, without the installation's key: no valid seal
            forged = next_entry(
                log[-1],
                now=log[-1].recorded_at,
                actor="staff",
                action="order.paid",
                subject=log[-1].subject,
                details={"amount": {"amount": "999.00", "currency": "EUR"}},
            )
            seal = None if rng.random() < 0.5 else log[-1].seal  # no seal, or one copied from another entry
            self._replace_chain(chain, [*log, attrs.evolve(forged, seal=seal)])
        elif kind == "truncate":  # the newest entries go, and the head row is moved back to fit
            keep = rng.randrange(0, len(log))
            self._replace_chain(chain, log[:keep])
            if keep == 0:
                with self.engine.begin() as conn:
                    conn.execute(sa.text(f"UPDATE {HEADS} SET sequence = 0 WHERE chain = :c"), {"c": chain})  # noqa: S608
        elif kind == "reorder" and len(log) > 1:  # two entries change places, their numbers kept
            first, second = rng.sample(range(len(log)), 2)
            swapped = list(log)
            swapped[first], swapped[second] = (
                attrs.evolve(log[second], sequence=log[first].sequence),
                attrs.evolve(log[first], sequence=log[second].sequence),
            )
            self._replace_chain(chain, swapped)
        else:  # rewrite: one entry's details changed, it and every later entry re-hashed and re-linked
            at = rng.randrange(len(log))
            rewritten = log[:at]
            for index, entry in enumerate(log[at:]):
                details = {**entry.details, "note": "changed"} if index == 0 else entry.details
                previous = rewritten[-1] if rewritten else None
                rebuilt = next_entry(
                    previous,
                    now=entry.recorded_at,
                    actor=entry.actor,
                    action=entry.action,
                    subject=entry.subject,
                    details=details,
                    chain=chain,
                )
                rewritten.append(attrs.evolve(rebuilt, seal=entry.seal))
            self._replace_chain(chain, rewritten)


def test_200_random_tamperings_are_all_caught_against_the_signed_checkpoint(shop: TradeIn) -> None:
    """Forged appends, truncations, reorders and rewrites: 100 % found, and the pristine log still passes."""
    assert shop.checkpoint_audit().ok
    attacker = Attacker(shop)
    rng = random.Random(f"tamper-{attacker.engine.dialect.name}")  # noqa: S311 - reproducible test data
    missed: list[tuple[str, Any]] = []
    kinds_seen: dict[str, int] = {}
    for trial in range(TRIALS):
        attacker.restore()
        if trial % 50 == 0:
            assert shop.verify_audit().ok, "the restored log must verify"
        kind = KINDS[trial % len(KINDS)]
        attacker.tamper(kind, rng)
        verification = shop.verify_audit()
        kinds_seen[kind] = kinds_seen.get(kind, 0) + 1
        if verification.ok:
            missed.append((kind, trial))
    assert missed == []
    assert kinds_seen == dict.fromkeys(KINDS, TRIALS // len(KINDS))


def test_a_forged_append_passes_the_chain_but_not_the_seals(shop: TradeIn) -> None:
    """The chain alone cannot tell a forged append (what the seals are for); the seals name it."""
    assert shop.checkpoint_audit().ok
    attacker = Attacker(shop)
    attacker.tamper("forged_append", random.Random(1))  # noqa: S311 - reproducible test data
    store = shop.store
    assert isinstance(store, SQLStore)
    checkpoint = shop.latest_checkpoint()
    assert checkpoint is not None
    assert store.verify_audit(anchor=checkpoint.heads, seals=False).ok
    found = shop.verify_audit()
    assert [problem.kind for problem in found.problems] == [AuditProblemKind.UNSEALED]


def test_the_export_carries_entries_retention_checkpoints_and_keys(shop: TradeIn, tmp_path: Path) -> None:
    """JSON and CSV exports: every entry in order with its retention, the signed checkpoints, the JWKS."""
    shop.checkpoint_audit()
    stored = entries(shop)
    [written] = shop.export_audit(tmp_path / "audit.json")
    document = json.loads(written.read_text())
    assert [(row["chain"], row["sequence"]) for row in document["entries"]] == [
        (entry.chain, entry.sequence) for entry in stored
    ]
    assert {row["retention"] for row in document["entries"]} == {"books"}
    assert document["entries"][0]["retained_until"].endswith("-12-31")
    read_checkpoint(document["checkpoints"][-1], document["jwks"])  # verifies with the exported keys
    table, sidecar = shop.export_audit(tmp_path / "audit.csv", format="csv")
    with table.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["entry_hash"] for row in rows] == [entry.entry_hash for entry in stored]
    assert json.loads(rows[0]["details"]) == stored[0].details
    assert read_checkpoint(
        json.loads(sidecar.read_text())["checkpoints"][-1], document["jwks"]
    ).entries == len(stored)
    with pytest.raises(ValueError, match="json or csv"):
        shop.export_audit(tmp_path / "audit.xml", format="xml")


def test_workers_keep_one_checkpoint_per_slot(tmp_path: Path, clock: FixedClock) -> None:
    """Two workers on one installation, three hourly slots: three checkpoints in all, each verifying."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from tradein_sdk._app.worker import run_worker  # noqa: PLC0415

    workers = [TradeIn.embedded(tmp_path / "data", clock=clock) for _ in range(2)]
    workers[0].quote("apple-iphone-13-128gb", example_answers("smartphone", "worn").answers)
    folder = tmp_path / "data" / "audit-checkpoints"
    stop = threading.Event()
    reports: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda facade=facade: reports.append(
                run_worker(
                    facade,
                    stop=stop,
                    poll_interval=0.005,
                    tick_every=None,
                    checkpoint_every=timedelta(hours=1),
                )
            )
        )
        for facade in workers
    ]
    for thread in threads:
        thread.start()
    for slot in range(1, 4):
        deadline = time.monotonic() + 20
        while len(list(folder.glob("*.json"))) < slot and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # both workers have seen the slot
        clock.advance(hours=1)
    stop.set()
    for thread in threads:
        thread.join()
    assert sum(report.checkpoints for report in reports) == 3
    assert len(list(folder.glob("*.json"))) == 3
    latest = workers[1].latest_checkpoint()
    assert latest is not None
    assert latest.entries == 1
    for facade in workers:
        facade.close()
