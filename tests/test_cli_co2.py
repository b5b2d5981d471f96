"""`tradein co2`: device, order and report results with their sources; a signed report verifies offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._cli import main

if TYPE_CHECKING:
    from pathlib import Path

STAFF_CHECKS = {"liquid_indicator": "not_triggered", "blocklist_status": "clear", "authenticity": "genuine"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with one paid iPhone 13 order, made on 2026-03-02."""
    facade = TradeIn.embedded(tmp_path, clock=FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    issued = facade.quote("apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers)
    order = facade.accept([issued.token])
    facade.issue_label(order.id)
    facade.receive(order.id, "d1")
    facade.inspect(order.id, "d1", {**issued.quote.answers, **STAFF_CHECKS})
    facade.settle(order.id, "d1")
    facade.close()
    return tmp_path


def test_device_prints_each_term_with_its_source(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """The text names the range and each line's source; --json is the facade's result."""
    status, out, _ = run(capsys, "co2", "device", "apple-iphone-13-128gb", "--data-dir", str(data_dir))
    assert status == 0
    assert "CO2e avoided (range" in out
    assert "refurbed-fraunhofer-2022" in out
    assert "assumption:" in out
    status, out, _ = run(
        capsys,
        "co2",
        "device",
        "apple-iphone-13-128gb",
        "--json",
        "--years",
        "3",
        "--data-dir",
        str(data_dir),
    )
    facade = TradeIn.embedded(data_dir)
    try:
        expected = facade.device_co2("apple-iphone-13-128gb", second_life_years=3).to_json()
    finally:
        facade.close()
    assert json.loads(out) == expected


def test_order_and_report_tie_out_and_verify(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    """The order's total equals the report's; the written report verifies; a changed one does not."""
    orders = TradeIn.embedded(data_dir)
    try:
        order_id = orders.list_orders()[0].id
    finally:
        orders.close()
    status, out, _ = run(capsys, "co2", "order", order_id, "--json", "--data-dir", str(data_dir))
    assert status == 0
    order = json.loads(out)
    report = tmp_path / "report.json"
    argv = ["co2", "report", "--from", "2026-03-01", "--to", "2026-03-31", "--data-dir", str(data_dir)]
    status, out, err = run(capsys, *argv, "--progress", "-o", str(report))
    assert status == 0
    assert "read 1 orders" in err
    payload = json.loads(report.read_text())["payload"]
    assert payload["totals"]["avoided_kg"] == order["totals"]["avoided_kg"]
    assert run(capsys, "co2", "verify", str(report), "--data-dir", str(data_dir))[0] == 0
    changed = json.loads(report.read_text())
    changed["payload"]["totals"]["avoided_kg"]["central"] = str(
        Decimal(order["totals"]["avoided_kg"]["central"]) * 2
    )
    report.write_text(json.dumps(changed))
    status, out, _ = run(capsys, "co2", "verify", str(report), "--data-dir", str(data_dir))
    assert (status, "invalid (bad_signature)" in out) == (1, True)
    status, out, _ = run(capsys, *argv, "--format", "csv")
    assert out.count("\n") == 2  # the header and the one device
    status, out, _ = run(
        capsys, "co2", "report", "--from", "2026-03-31", "--to", "2026-03-01", "--data-dir", str(data_dir)
    )
    assert status == 1


def test_bad_input_names_what_is_wrong(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """An unknown part, an unknown device and a bad date each get a clear message, not a traceback."""
    status, _, err = run(
        capsys, "co2", "device", "apple-iphone-13-128gb", "--part", "wing", "--data-dir", str(data_dir)
    )
    assert (status, "co2_error" in err, "wing" in err) == (1, True, True)
    status, _, err = run(capsys, "co2", "device", "nokia-3310", "--data-dir", str(data_dir))
    assert (status, "device_not_found" in err) == (1, True)
    status, _, err = run(
        capsys, "co2", "report", "--from", "2026-13-01", "--to", "2026-12-31", "--data-dir", str(data_dir)
    )
    assert status == 2
    assert err == (
        "error [usage]: tradein co2 report: argument --from: '2026-13-01' is not a date (YYYY-MM-DD) "
        "(see tradein co2 report --help)\n"
    )
