"""`tradein guarantees offers|show|liability`: offers explained, a signed contract, the liability view."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._cli import main
from tradein_sdk._domain.money import Money

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_offers_show_and_liability(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two plans for a financed phone; a sold contract's document; the liability as JSON and CSV."""
    folder = ["--data-dir", str(tmp_path)]
    status, out, _ = run(
        capsys,
        "guarantees",
        "offers",
        "samsung-galaxy-s23-128gb",
        "--price",
        "899",
        "--financed",
        "899",
        *folder,
    )
    assert status == 0
    assert "buyback-24: Guaranteed buy-back" in out
    assert "449.50 EUR" in out
    status, out, _ = run(
        capsys, "guarantees", "offers", "samsung-galaxy-s23-128gb", "--price", "899", "--json", *folder
    )
    assert [offer["plan_id"] for offer in json.loads(out)] == ["buyback-24"]
    trade_in = TradeIn.embedded(tmp_path, clock=FixedClock(datetime(2026, 12, 4, 10, tzinfo=UTC)))
    contract_id = trade_in.sell_guarantee(
        "buyback-24", "samsung-galaxy-s23-128gb", Money(Decimal("899.00"), "EUR")
    )["payload"]["id"]
    trade_in.close()
    status, out, _ = run(capsys, "guarantees", "show", contract_id, *folder)
    assert json.loads(out)["signature"]["purpose"] == "buyback-guarantee"
    document = tmp_path / "contract.json"
    document.write_text(out)
    status, out, _ = run(capsys, "guarantees", "verify", str(document), *folder)
    expected = (
        f"valid buy-back guarantee {contract_id} for samsung-galaxy-s23-128gb bought on 2026-12-04: plan "
        "buyback-24, terms 2026-12, exercisable 2027-12-04 to 2029-01-03\n"
    )
    assert (status, out.split(": ", 1)[1]) == (0, expected)
    document.write_text(document.read_text().replace("449.50", "549.50"))  # the guaranteed amount raised
    status, out, _ = run(capsys, "guarantees", "verify", str(document), *folder)
    assert status == 1
    assert ": invalid (" in out
    status, out, _ = run(capsys, "guarantees", "liability", "--as-of", "2027-01-01", *folder)
    view = json.loads(out)
    assert view["totals"]["contracts"] == 1
    assert view["months"][0]["month"] == "2027-12"
    status, out, _ = run(
        capsys, "guarantees", "liability", "--as-of", "2027-01-01", "--format", "csv", *folder
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["month"] for row in rows] == ["2027-12", "total"]
    assert rows[0]["guaranteed"] == "449.50"
    chart = tmp_path / "liability.png"
    status, _, _ = run(
        capsys,
        "guarantees",
        "liability",
        "--as-of",
        "2027-01-01",
        "--format",
        "png",
        "-o",
        str(chart),
        *folder,
    )
    assert status == 0
    assert chart.read_bytes().startswith(b"\x89PNG")
    svg = tmp_path / "liability.svg"
    run(
        capsys, "guarantees", "liability", "--as-of", "2027-01-01", "--format", "svg", "-o", str(svg), *folder
    )
    assert "2027-12" in svg.read_text()
    status, _, err = run(capsys, "guarantees", "show", "gtc_none", *folder)
    assert status == 1
    assert "error [guarantee_not_found]" in err


def test_status_calendar_and_lapse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A company's two contracts: one's status, the calendar in CSV and JSON, and the lapse run."""
    folder = ["--data-dir", str(tmp_path)]
    trade_in = TradeIn.embedded(tmp_path, clock=FixedClock(datetime(2026, 12, 4, 10, tzinfo=UTC)))
    ids = [
        trade_in.sell_guarantee(
            "buyback-24",
            "samsung-galaxy-s23-128gb",
            Money(Decimal("899.00"), "EUR"),
            customer_ref="cmp_acme",
            cost_centre=centre,
        )["payload"]["id"]
        for centre in ("=IT", "Sales")
    ]
    trade_in.close()
    status, out, _ = run(capsys, "guarantees", "status", ids[0], "--as-of", "2027-01-01", *folder)
    assert status == 0
    assert f"{ids[0]}: open (buyback-24, samsung-galaxy-s23-128gb)" in out
    assert "2027-12-04 to 2029-01-03; 449.50 EUR guaranteed from its start" in out
    status, out, _ = run(capsys, "guarantees", "status", ids[0], "--json", *folder)
    assert json.loads(out)["status"] == "open"
    status, out, _ = run(capsys, "guarantees", "calendar", "cmp_acme", "--format", "csv", *folder)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["month"], row["cost_centre"], row["expected"]) for row in rows] == [
        ("2027-12", "'=IT", "449.50"),  # a formula-looking cost centre is written as text
        ("2027-12", "Sales", "449.50"),
    ]
    status, out, _ = run(capsys, "guarantees", "calendar", "cmp_acme", *folder)
    assert [total["devices"] for total in json.loads(out)["totals"]] == [1, 1]
    status, out, _ = run(capsys, "guarantees", "release-lapsed", *folder)
    # sold without a checkout, neither carries a liability in a ledger: none to release
    assert (status, out) == (0, "0 lapsed guarantees released\n")
    status, _, err = run(capsys, "guarantees", "status", "gtc_none", *folder)
    assert status == 1
    assert "error [guarantee_not_found]" in err
    status, _, err = run(capsys, "guarantees", "calendar", "cmp_acme", "--as-of", "1.1.2027", *folder)
    assert status == 2
    assert "--as-of: '1.1.2027' is not a date (YYYY-MM-DD)" in err
    assert "Traceback" not in err
