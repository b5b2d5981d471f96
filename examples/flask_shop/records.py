"""The shop's own tables beside the library's: the inspection reports shown to the shopper, and settings.

An order records only the amounts and the ids of the questions that differed; the texts of an
inspection (what was declared, what was found, what each difference costs, in the shopper's language)
are the shop's to keep. They go into one small table on the same kind of database (the shop's SQLite file
or the PostgreSQL database of the library), written once per inspection.

A second small table keeps the shop's settings by name; the demo clock keeps its offset there, so every
worker (and every host on PostgreSQL) tells the same time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from tradein_sdk import Money

if TYPE_CHECKING:
    from datetime import datetime

    from tradein_sdk import InspectionDiff

_metadata = sa.MetaData()
_reports = sa.Table(
    "flask_shop_inspection_reports",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), nullable=False, index=True),
    sa.Column("device_id", sa.String(16), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)

_settings = sa.Table(
    "flask_shop_settings",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


@attrs.frozen(kw_only=True)
class ReportLine:
    """One question of an inspection that differed from the shopper's answer.

    Attributes:
        question: the question as shown.
        declared: the shopper's answer.
        found: the inspector's answer.
        impact: what the difference changes in the offer.
        explanation: the full sentence, in the shopper's language.
    """

    question: str
    declared: str
    found: str
    impact: Money
    explanation: str


@attrs.frozen(kw_only=True)
class InspectionReport:
    """What the shopper sees of an inspection.

    Attributes:
        quoted: the quote's amount.
        revised_offer: the offer after inspection.
        lines: each question that differed.
        mismatches: the major mismatches, explained.
    """

    quoted: Money
    revised_offer: Money
    lines: tuple[ReportLine, ...]
    mismatches: tuple[str, ...]

    @classmethod
    def from_diff(cls, diff: InspectionDiff) -> InspectionReport:
        """Keep the texts of an inspection diff."""
        return cls(
            quoted=diff.quoted,
            revised_offer=diff.revised_offer,
            lines=tuple(
                ReportLine(
                    question=item.text,
                    declared=item.shopper_answer_text,
                    found=item.inspector_answer_text,
                    impact=item.price_impact,
                    explanation=item.explanation,
                )
                for item in diff.differences
            ),
            mismatches=tuple(diff.mismatch_texts),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "quoted": self.quoted.to_json(),
            "revised_offer": self.revised_offer.to_json(),
            "lines": [
                {
                    "question": line.question,
                    "declared": line.declared,
                    "found": line.found,
                    "impact": line.impact.to_json(),
                    "explanation": line.explanation,
                }
                for line in self.lines
            ],
            "mismatches": list(self.mismatches),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InspectionReport:
        """Read the stored form."""
        return cls(
            quoted=Money.from_json(data["quoted"]),
            revised_offer=Money.from_json(data["revised_offer"]),
            lines=tuple(
                ReportLine(
                    question=line["question"],
                    declared=line["declared"],
                    found=line["found"],
                    impact=Money.from_json(line["impact"]),
                    explanation=line["explanation"],
                )
                for line in data["lines"]
            ),
            mismatches=tuple(data["mismatches"]),
        )


class ShopRecords:
    """The shop's inspection reports and settings, on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        """Connect and create the table when it does not exist."""
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self._engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            _metadata.create_all(self._engine)
        except sa.exc.DatabaseError:
            # Workers starting together: another one created the table between the check and the CREATE
            # (SQLite says "already exists", PostgreSQL a unique violation). Anything else is raised.
            tables = sa.inspect(self._engine)
            if not all(tables.has_table(table.name) for table in (_reports, _settings)):
                raise

    def add_report(self, order_id: str, device_id: str, report: InspectionReport, *, now: datetime) -> None:
        """Keep the report of an inspection made at ``now`` (the newest one wins)."""
        with self._engine.begin() as conn:
            conn.execute(
                _reports.insert().values(
                    order_id=order_id,
                    device_id=device_id,
                    recorded_at=now,
                    document=json.dumps(report.to_json(), ensure_ascii=False),
                )
            )

    def reports(self, order_id: str) -> dict[str, InspectionReport]:
        """The newest report of each inspected device of an order, by device id."""
        query = sa.select(_reports.c.device_id, _reports.c.document).where(_reports.c.order_id == order_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(_reports.c.id)).all()
        return {row.device_id: InspectionReport.from_json(json.loads(row.document)) for row in rows}

    def setting(self, name: str) -> str | None:
        """The setting ``name``, or ``None`` when it was never set."""
        query = sa.select(_settings.c.value).where(_settings.c.name == name)
        with self._engine.connect() as conn:
            value: str | None = conn.execute(query).scalar_one_or_none()
        return value

    def set_setting(self, name: str, value: str) -> None:
        """Set ``name`` to ``value`` (the last writer wins)."""
        with self._engine.begin() as conn:
            updated = conn.execute(_settings.update().where(_settings.c.name == name).values(value=value))
            if updated.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(_settings.insert().values(name=name, value=value))
                except sa.exc.IntegrityError:  # another worker inserted it meanwhile: update that row
                    conn.execute(_settings.update().where(_settings.c.name == name).values(value=value))

    def close(self) -> None:
        """Release the connections."""
        self._engine.dispose()
