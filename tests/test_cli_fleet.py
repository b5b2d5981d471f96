"""`tradein fleet`: a company account, an asset list checked and quoted, the batch shown; bad input named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from stdnum import luhn

from tests.app.test_fleet import BANK, ISSUER, asset_csv, inspect_all, open_company, twenty_five
from tradein_sdk import FixedClock, TradeIn
from tradein_sdk._cli import main

if TYPE_CHECKING:
    from pathlib import Path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def imei(serial: int) -> str:
    """A valid IMEI of a TAC the catalog does not know."""
    body = f"99001234{serial:06d}"
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def asset_list(tmp_path: Path) -> Path:
    """Six iPhones in a German Excel CSV; row 5 names no device of the catalog."""
    rows = ["IMEI;Modell;Inventarnummer;Zustand"]
    for index in range(6):
        model = "Nokia 3310 Turbo" if index == 3 else "apple-iphone-13-128gb"
        rows.append(f"{imei(index)};{model};INV-{index};gut")
    path = tmp_path / "geraete.csv"
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")
    return path


@pytest.fixture
def company(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A company account opened through the CLI."""
    status, out, _ = run(
        capsys,
        "fleet",
        "company",
        "--name",
        "Muster GmbH",
        "--street",
        "Weg 1",
        "--postcode",
        "10115",
        "--city",
        "Berlin",
        "--vat-id",
        "DE136695976",
        "--factor",
        "1.02",
        "--holidays",
        "DE-BE",
        "--self-billing",
        "2026-01",
        "--data-dir",
        str(tmp_path),
    )
    assert status == 0
    assert out.strip().startswith("co_")
    return out.strip()


def test_check_names_each_bad_row_by_row_and_column(
    tmp_path: Path, asset_list: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fleet check` lists the problems and fails; `--json` gives them as data."""
    status, out, _ = run(capsys, "fleet", "check", str(asset_list), "--data-dir", str(tmp_path))
    assert status == 1
    assert "row 5, Modell" in out
    assert "5 of 6 row(s) import" in out
    status, out, _ = run(capsys, "fleet", "check", str(asset_list), "--json", "--data-dir", str(tmp_path))
    problems = json.loads(out)["problems"]
    assert [(problem["row"], problem["column"], problem["code"]) for problem in problems] == [
        (5, "Modell", "unknown_model")
    ]


def test_quote_refuses_a_list_with_bad_rows_and_quotes_the_good_ones_when_asked(
    tmp_path: Path, asset_list: Path, company: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing imported on a bad row (no traceback); `--skip-invalid` quotes the rest with a summary table."""
    status, _, err = run(
        capsys, "fleet", "quote", str(asset_list), "--company", company, "--data-dir", str(tmp_path)
    )
    assert status == 1
    assert "row 5, Modell" in err
    assert "nothing was imported" in err
    assert "Traceback" not in err
    status, out, err = run(
        capsys,
        "fleet",
        "quote",
        str(asset_list),
        "--company",
        company,
        "--skip-invalid",
        "--data-dir",
        str(tmp_path),
    )
    assert status == 0
    assert "Apple iPhone 13 128 GB" in out
    assert "Total" in out
    assert "skipped: row 5" in err
    status, out, _ = run(
        capsys,
        "fleet",
        "quote",
        str(asset_list),
        "--company",
        company,
        "--skip-invalid",
        "--json",
        "--data-dir",
        str(tmp_path),
    )
    quoted = json.loads(out)
    assert quoted["totals"]["devices"] == 5
    assert quoted["signed"]["payload"]["lines"] == 5
    status, out, _ = run(capsys, "fleet", "show", quoted["batch_id"], "--json", "--data-dir", str(tmp_path))
    shown = json.loads(out)
    assert shown["state"] == "quoted"
    assert [line["asset_tag"] for line in shown["lines"]] == ["INV-0", "INV-1", "INV-2", "INV-4", "INV-5"]


def test_bad_company_input_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A VAT id whose check digits fail is named with its code."""
    status, _, err = run(
        capsys,
        "fleet",
        "company",
        "--name",
        "X GmbH",
        "--street",
        "Weg 1",
        "--postcode",
        "10115",
        "--city",
        "Berlin",
        "--vat-id",
        "DE136695977",
        "--data-dir",
        str(tmp_path),
    )
    assert status == 1
    assert "error [invalid_vat_id]" in err
    status, _, err = run(
        capsys, "fleet", "quote", str(tmp_path / "none.csv"), "--company", "co_x", "--data-dir", str(tmp_path)
    )
    assert status == 1
    assert err == (
        f"error [configuration_error]: cannot read {tmp_path / 'none.csv'}: No such file or directory\n"
    )


def test_a_settled_batch_s_report_documents_and_signatures_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fleet report`, `fleet documents` and `fleet verify`: files written, hashes listed, tampering found."""
    trade_in = TradeIn.embedded(tmp_path, clock=FixedClock(datetime(2026, 12, 7, 9, tzinfo=UTC)))
    company_id = open_company(trade_in)
    portfolio = trade_in.fleet_quote(company_id, asset_csv(twenty_five(trade_in)[:4]))
    batch_id = portfolio.batch_id or ""
    trade_in.book_pickup(batch_id, boxes=1, seals=["S-1"], payout=BANK)
    batch = trade_in.hand_over(batch_id, seals=["S-1"], carrier="GLS")
    trade_in.receive_batch(batch_id, [view.line.imei or "" for view in batch.lines])
    inspect_all(trade_in, batch_id, downgraded=set(), locked=set())
    trade_in.settle_batch(batch_id, issuer=ISSUER)
    trade_in.close()
    folder = ["--data-dir", str(tmp_path)]

    status, out, _ = run(capsys, "fleet", "report", batch_id, *folder)
    assert status == 0
    assert out.splitlines()[0].startswith("line,asset_tag")
    pdf = tmp_path / "report.pdf"
    status, _, _ = run(capsys, "fleet", "report", batch_id, "--format", "pdf", "-o", str(pdf), *folder)
    assert status == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    status, out, _ = run(capsys, "fleet", "documents", batch_id, *folder)
    assert {line.split()[0] for line in out.splitlines()} >= {
        "handover_record",
        "credit_note_xml",
        "credit_note_pdf",
    }
    xml = tmp_path / "credit-note.xml"
    status, _, _ = run(capsys, "fleet", "documents", batch_id, "credit_note_xml", "-o", str(xml), *folder)
    assert b"urn:cen.eu:en16931:2017" in xml.read_bytes()
    handover = tmp_path / "handover.json"
    run(capsys, "fleet", "documents", batch_id, "handover_record", "-o", str(handover), *folder)
    status, out, _ = run(capsys, "fleet", "verify", str(handover), *folder)
    assert status == 0
    assert "valid hand-over record" in out
    signed = json.loads(handover.read_text())
    signed["payload"]["boxes"] = 9
    handover.write_text(json.dumps(signed))
    status, out, _ = run(capsys, "fleet", "verify", str(handover), *folder)
    assert status == 1
    assert "invalid" in out


def test_a_portfolio_quote_verifies_with_its_lines_and_not_with_changed_ones(
    tmp_path: Path, asset_list: Path, company: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The `--json` quote carries its signed document and its lines; a changed amount breaks the digest."""
    status, out, _ = run(
        capsys,
        "fleet",
        "quote",
        str(asset_list),
        "--company",
        company,
        "--skip-invalid",
        "--json",
        "--data-dir",
        str(tmp_path),
    )
    quote = tmp_path / "quote.json"
    quote.write_text(out)
    status, out, _ = run(capsys, "fleet", "verify", str(quote), "--data-dir", str(tmp_path))
    assert status == 0
    assert "valid portfolio quote" in out
    changed = json.loads(quote.read_text())
    changed["lines"][0]["amount"]["amount"] = "999.00"
    quote.write_text(json.dumps(changed))
    status, out, _ = run(capsys, "fleet", "verify", str(quote), "--data-dir", str(tmp_path))
    assert status == 1
    assert "lines_changed" in out
