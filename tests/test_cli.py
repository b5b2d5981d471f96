from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from grading_questionnaire import example_answers
from grading_questionnaire._schemas import schema_problems
from tradein_sdk import (
    CheckoutRequest,
    CreditPlan,
    CreditTiming,
    Money,
    NewDevice,
    TradeIn,
    __version__,
    billing_period,
)
from tradein_sdk._cli import main
from tradein_sdk._domain.tenancy import Role, Scope

if TYPE_CHECKING:
    from collections.abc import Callable


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_search_prints_ranked_devices(capsys: pytest.CaptureFixture[str]) -> None:
    """`tradein catalog search` prints one line per hit, best first."""
    status, out, _ = run(capsys, "catalog", "search", "galaxy", "s23", "ultra", "--limit", "2")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("samsung-galaxy-s23-ultra ")
    assert "Samsung Galaxy S23 Ultra · 256 GB, 512 GB, 1 TB · smartphone · 2023-02-17" in lines[0]


def test_search_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints the documented document, valid against schemas/search-results.schema.json."""
    status, out, _ = run(capsys, "catalog", "search", "iphone 13 128", "--json")
    assert status == 0
    data = json.loads(out)
    assert schema_problems("search-results", data) == []
    assert data["query"] == "iphone 13 128"
    assert data["results"][0]["id"] == "apple-iphone-13-128gb"
    assert data["catalog"]["version"].startswith("tradein-reference@")


def test_search_without_hits(capsys: pytest.CaptureFixture[str]) -> None:
    """No hit is a normal outcome: a message and exit 0 (an empty list with --json)."""
    assert run(capsys, "catalog", "search", "nokia")[:2] == (0, "no device matches 'nokia'\n")
    _, out, _ = run(capsys, "catalog", "search", "nokia", "--json")
    assert json.loads(out)["results"] == []


def test_search_category_filter(capsys: pytest.CaptureFixture[str]) -> None:
    """--category keeps only that category."""
    _, out, _ = run(capsys, "catalog", "search", "samsung", "--category", "smartwatch", "--json")
    assert {hit["category"] for hit in json.loads(out)["results"]} == {"smartwatch"}


def test_search_with_shop_catalog(
    capsys: pytest.CaptureFixture[str], write_json: Callable[[str, object], Path]
) -> None:
    """--catalog lays a shop file over the bundled catalog; --without-bundled uses it alone."""
    shop = write_json(
        "shop.json",
        {
            "catalog_id": "shop",
            "version": "1",
            "as_of": "2026-01-01",
            "models": [
                {
                    "id": "nothing-phone-2",
                    "brand": "Nothing",
                    "name": "Phone (2)",
                    "category": "smartphone",
                    "release_date": "2023-07-17",
                    "variants": [{"id": "nothing-phone-2-256gb", "storage_gb": 256}],
                }
            ],
        },
    )
    _, out, _ = run(capsys, "catalog", "search", "nothing phone", "--catalog", str(shop), "--json")
    assert json.loads(out)["results"][0]["id"] == "nothing-phone-2"
    _, out, _ = run(
        capsys, "catalog", "search", "pixel", "--catalog", str(shop), "--without-bundled", "--json"
    )
    assert json.loads(out)["results"] == []


def test_without_bundled_needs_a_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """--without-bundled alone is a usage error (exit 2), one line naming the command."""
    status, out, err = run(capsys, "catalog", "search", "iphone", "--without-bundled")
    assert (status, out) == (2, "")
    assert err == (
        "error [usage]: tradein catalog search: --without-bundled needs at least one --catalog FILE "
        "(see tradein catalog search --help)\n"
    )


def test_show_device(capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog show` prints the model, its variants with launch prices and its source."""
    status, out, _ = run(capsys, "catalog", "show", "apple-iphone-13-128gb")
    assert status == 0
    assert out.splitlines()[0] == "Apple iPhone 13 (smartphone, released 2021-09-24)"
    assert "* apple-iphone-13-128gb" in out
    assert "DE €899.00, US $799.00" in out
    assert "launch price unknown" in out
    assert "confidence: high" in out


def test_show_device_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog show --json` prints the model and the variant in their document form."""
    _, out, _ = run(capsys, "catalog", "show", "google-pixel-9", "--json")
    data: dict[str, Any] = json.loads(out)
    assert data["variant"] is None
    assert data["model"]["id"] == "google-pixel-9"
    assert data["model"]["category"] == "smartphone"
    assert data["model"]["variants"][0]["id"].startswith("google-pixel-9-")


def test_unknown_device_is_an_error_with_code(capsys: pytest.CaptureFixture[str]) -> None:
    """A library error prints its code on standard error and exits 1."""
    status, out, err = run(capsys, "catalog", "show", "nokia-3310")
    assert (status, out) == (1, "")
    assert err == "error [device_not_found]: No device is known as nokia-3310.\n"


def test_validate_valid_catalog(
    capsys: pytest.CaptureFixture[str],
    write_json: Callable[[str, object], Path],
    catalog_document: dict[str, Any],
) -> None:
    """A valid catalog file: exit 0 and one confirming line."""
    path = write_json("catalog.json", catalog_document)
    assert run(capsys, "validate", "catalog", str(path))[:2] == (0, f"{path}: valid catalog\n")


def test_validate_invalid_catalog_lists_each_problem(
    capsys: pytest.CaptureFixture[str],
    write_json: Callable[[str, object], Path],
    catalog_document: dict[str, Any],
) -> None:
    """An invalid catalog: exit 1 and one line per problem with its JSON path."""
    catalog_document["models"][2]["category"] = "laptop"
    catalog_document["models"][7]["variants"][0]["id"] = "Not An Id"
    path = write_json("catalog.json", catalog_document)
    status, out, _ = run(capsys, "validate", "catalog", str(path))
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: $.models[2].category: 'laptop' is not one of")
    assert lines[1].startswith(f"{path}: $.models[7].variants[0].id: ")


def test_validate_non_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that is not JSON is one problem at $ with its line and column."""
    path = tmp_path / "x.json"
    path.write_text("{oops", encoding="utf-8")
    status, out, _ = run(capsys, "validate", "catalog", str(path))
    assert status == 1
    assert out.startswith(f"{path}: $: not valid JSON")


def test_validate_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing file is a configuration error: exit 1 with its code."""
    status, _, err = run(capsys, "validate", "catalog", str(tmp_path / "none.json"))
    assert status == 1
    assert err.startswith("error [configuration_error]: cannot read")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tradein-sdk {__version__}"


EXAMPLES = Path(__file__).resolve().parent.parent / "grading_questionnaire" / "definitions" / "examples"


def test_quote_issue_verify_show_redeem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The quote commands issue a schema-valid quote with a token, verify it, show it and redeem it once."""
    data_dir = str(tmp_path / "data")
    answers = str(EXAMPLES / "smartphone" / "worn.json")
    status, out, _ = run(
        capsys,
        "quote",
        "create",
        "apple-iphone-13-128gb",
        "--answers",
        answers,
        "--json",
        "--data-dir",
        data_dir,
    )
    assert status == 0
    issued = json.loads(out)
    status, out, _ = run(  # the earlier spelling, without `create`, still works
        capsys, "quote", "apple-iphone-13-128gb", "--answers", answers, "--json", "--data-dir", data_dir
    )
    assert (status, json.loads(out)["quote"]["amount"]) == (0, issued["quote"]["amount"])
    assert schema_problems("quote", issued["quote"]) == []
    quote_id, token = issued["quote"]["id"], issued["token"]

    status, out, _ = run(capsys, "quote", "verify", token, "--json", "--data-dir", data_dir)
    assert (status, json.loads(out)["quote_id"]) == (0, quote_id)
    assert json.loads(out)["amount"] == issued["quote"]["amount"]

    status, out, _ = run(capsys, "quote", "redeem", token, "--reference", "order-5", "--data-dir", data_dir)
    assert status == 0
    assert out.startswith(f"redeemed quote {quote_id}: {issued['quote']['amount']['amount']} EUR")
    status, _, err = run(capsys, "quote", "redeem", token, "--data-dir", data_dir)
    assert (status, err.split("]")[0]) == (1, "error [quote_already_redeemed")

    status, out, _ = run(capsys, "quote", "show", quote_id, "--json", "--data-dir", data_dir)
    shown = json.loads(out)
    assert shown["quote"] == issued["quote"]
    assert shown["redemption"]["reference"] == "order-5"


def test_quote_text_output_is_localized(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Without --json the quote prints its lines in the chosen locale, a total and the token."""
    answers = str(EXAMPLES / "smartphone" / "flawless.json")
    status, out, _ = run(
        capsys,
        "quote",
        "apple-iphone-13-128gb",
        "--answers",
        answers,
        "--locale",
        "de_DE",
        "--data-dir",
        str(tmp_path),
    )
    assert status == 0
    assert "Einführungspreis" in out
    assert "899,00\xa0€" in out
    assert out.splitlines()[-1].startswith("token: tq1.")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["quote", "create", "apple-iphone-13-128gb"], "tradein quote create: the following arguments are "),
        (["quote", "apple-iphone-13-128gb"], "invalid choice: 'apple-iphone-13-128gb' (choose from 'create'"),
        (["quote", "verify"], "tradein quote verify: the following arguments are required: TOKEN"),
        (["quote", "create", "apple-iphone-13-128gb", "extra", "--answers", "x.json"], "unrecognized arg"),
        (["quote", "show"], "required: QUOTE_ID"),
    ],
    ids=["no-answers", "no-action", "verify-without-token", "extra-argument", "show-no-id"],
)
def test_quote_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    """Missing or surplus arguments are usage errors (exit 2): one line that says what is missing."""
    status, out, err = run(capsys, *argv, "--data-dir", str(tmp_path))
    assert (status, out) == (2, "")
    assert err.startswith("error [usage]: tradein quote")
    assert message in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_quote_of_a_model_names_its_variants(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A model id that `catalog search` gives is not quotable: the error says which variants are."""
    _, out, _ = run(capsys, "catalog", "search", "galaxy", "s23", "--limit", "1")
    assert out.split()[0] == "samsung-galaxy-s23"
    answers = str(EXAMPLES / "smartphone" / "flawless.json")
    status, out, err = run(
        capsys, "quote", "create", "samsung-galaxy-s23", "--answers", answers, "--data-dir", str(tmp_path)
    )
    assert (status, out) == (1, "")
    assert err == (
        "error [variant_required]: samsung-galaxy-s23 is a model with 2 storage variants; a quote needs one "
        "of them: samsung-galaxy-s23-128gb (128 GB), samsung-galaxy-s23-256gb (256 GB).\n"
    )
    status, _, err = run(
        capsys, "quote", "create", "nokia-3310", "--answers", answers, "--data-dir", str(tmp_path)
    )
    assert (status, err) == (1, "error [device_not_found]: No device is known as nokia-3310.\n")


def test_quote_verify_without_keys_creates_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --data-dir, verify reads $TRADEIN_DATA_DIR's keys: none there is said, and none is made."""
    monkeypatch.delenv("TRADEIN_QUOTE_KEYS", raising=False)
    monkeypatch.setenv("TRADEIN_DATA_DIR", str(tmp_path / "nothing-here"))
    for action in ("verify", "redeem"):
        status, out, err = run(capsys, "quote", action, "tq1.k1.e30.c2ln")
        assert (status, out) == (1, "")
        assert err == (
            "error [configuration_error]: no quote key found in the data directory "
            f"{tmp_path / 'nothing-here'} (quote-keys.json is missing), so no token can be checked here: "
            "use the data directory where the quotes were issued, or set $TRADEIN_QUOTE_KEYS\n"
        )
    status, _, err = run(capsys, "quote", "show", "q_1")
    assert status == 1
    assert err.startswith(f"error [configuration_error]: no trade-in data in {tmp_path / 'nothing-here'}: ")
    assert not (tmp_path / "nothing-here").exists()


def test_quote_texts_follow_one_locale_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--locale, else $TRADEIN_LOCALE, else en: the quote's lines and amounts are in that one language."""
    monkeypatch.delenv("TRADEIN_LOCALE", raising=False)
    answers = str(EXAMPLES / "smartphone" / "flawless.json")
    argv = ["quote", "create", "apple-iphone-13-128gb", "--answers", answers, "--data-dir", str(tmp_path)]
    _, out, _ = run(capsys, *argv)
    assert "(estimate, en, valid until " in out
    assert "Launch price" in out
    assert "€899.00" in out
    assert "Einführungspreis" not in out
    monkeypatch.setenv("TRADEIN_LOCALE", "fr_FR")
    _, out, _ = run(capsys, *argv)
    assert "(estimate, fr_FR, valid until " in out
    assert "Prix de lancement" in out
    _, out, _ = run(capsys, *argv, "--locale", "de_DE")  # the option wins
    assert "Einführungspreis" in out
    _, out, _ = run(capsys, "offers", "samsung-galaxy-s25-256gb", "--price", "999", "--date", "2026-11-24")
    assert out.splitlines()[0].endswith("\xa0€")  # offers follow the same rule (fr_FR: 79,00 €)


def test_tampered_token_is_refused_with_its_code(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A token with a changed character exits 1 naming the refusal code."""
    answers = str(EXAMPLES / "smartphone" / "flawless.json")
    _, out, _ = run(
        capsys, "quote", "apple-iphone-13-128gb", "--answers", answers, "--json", "--data-dir", str(tmp_path)
    )
    token = json.loads(out)["token"]
    payload_start = len("tq1.k1.")
    tampered = (
        token[:payload_start] + ("A" if token[payload_start] != "A" else "B") + token[payload_start + 1 :]
    )
    status, _, err = run(capsys, "quote", "verify", tampered, "--data-dir", str(tmp_path))
    assert status == 1
    assert err.startswith(("error [token_signature_invalid]", "error [token_malformed]"))


def test_grade_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    """`grade` prints the pricing grade and findings in the locale; --json prints the report's schema form."""
    answers = str(EXAMPLES / "smartphone" / "cracked-display.json")
    status, out, _ = run(capsys, "grade", "smartphone", answers, "--locale", "de")
    assert status == 0
    assert out.startswith("pricing grade: damaged")
    assert "gesprungen" in out
    _, out, _ = run(capsys, "grade", "smartphone", answers, "--json")
    assert schema_problems("condition-report", json.loads(out)) == []


def test_grade_knockout_and_invalid_answers(
    capsys: pytest.CaptureFixture[str], write_json: Callable[[str, object], Path]
) -> None:
    """A knockout is printed with its code; answers that do not fit exit 1 with answers_invalid."""
    status, out, _ = run(
        capsys, "grade", "smartphone", str(EXAMPLES / "smartphone" / "activation-locked.json")
    )
    assert status == 0
    assert "recycling only" in out
    assert "knockout " in out
    bad = write_json("bad.json", {"powers_on": "maybe"})
    status, _, err = run(capsys, "grade", "smartphone", str(bad))
    assert status == 1
    assert err.startswith("error [answers_invalid]")
    assert "$.powers_on" in err


def test_questionnaire_json_matches_its_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`questionnaire --json` prints the rendered document in the locale, valid against its schema."""
    status, out, _ = run(capsys, "questionnaire", "tablet", "--locale", "fr_FR", "--json")
    assert status == 0
    document = json.loads(out)
    assert schema_problems("rendered-questionnaire", document) == []
    assert document["locale"].startswith("fr")
    status, out, _ = run(capsys, "questionnaire", "smartphone", "--locale", "it")
    assert status == 0
    assert "[powers_on]" in out


def test_unknown_category_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A category without a questionnaire exits 1 with questionnaire_not_found."""
    status, _, err = run(capsys, "questionnaire", "laptop")
    assert status == 1
    assert err.startswith("error [questionnaire_not_found]")


@pytest.mark.parametrize(
    ("kind", "path", "expected_status"),
    [
        ("questionnaire", "grading_questionnaire/definitions/smartphone.json", 0),
        ("pricebook", "tradein_sdk/data/pricebooks/reference-de.json", 0),
    ],
    ids=["questionnaire", "pricebook"],
)
def test_validate_bundled_documents(
    capsys: pytest.CaptureFixture[str], kind: str, path: str, expected_status: int
) -> None:
    """The bundled questionnaire and price book validate."""
    full = Path(__file__).resolve().parent.parent / path
    status, out, _ = run(capsys, "validate", kind, str(full))
    assert status == expected_status
    assert out == f"{full}: valid {kind}\n"


def test_validate_broken_pricebook_and_questionnaire(
    capsys: pytest.CaptureFixture[str], write_json: Callable[[str, object], Path], tmp_path: Path
) -> None:
    """Broken documents exit 1 with one line per problem and its JSON path."""
    book = json.loads(
        (Path(__file__).resolve().parent.parent / "tradein_sdk/data/pricebooks/reference-de.json").read_text()
    )
    book["floor"] = "-1"
    book["market"] = "Germany"
    status, out, _ = run(capsys, "validate", "pricebook", str(write_json("book.json", book)))
    assert status == 1
    assert {line.split(": ")[1] for line in out.splitlines()} == {"$.floor", "$.market"}
    status, out, _ = run(capsys, "validate", "questionnaire", str(write_json("q.json", {"id": "x"})))
    assert status == 1
    assert out.startswith(f"{tmp_path / 'q.json'}: $")
    broken = tmp_path / "not-json.json"
    broken.write_text("{", encoding="utf-8")
    status, out, _ = run(capsys, "validate", "pricebook", str(broken))
    assert (status, out.split(": ")[1]) == (1, "$")


def _order_in(data_dir: Path) -> str:
    """Issue a quote and accept it in an order, in the CLI's data directory; return the order id."""
    facade = TradeIn.embedded(data_dir)
    issued = facade.quote("apple-iphone-13-128gb", example_answers("smartphone", "flawless").answers)
    order = facade.accept([issued.token])
    facade.issue_label(order.id)
    facade.close()
    return order.id


def test_orders_list_show_tick_and_diagram(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`orders` lists, shows (text and JSON), ticks and draws the state diagram."""
    order_id = _order_in(tmp_path)
    status, out, _ = run(capsys, "orders", "list", "--data-dir", str(tmp_path))
    assert status == 0
    assert out.startswith(order_id)
    assert "d1 awaiting_shipment" in out
    _, out, _ = run(capsys, "orders", "list", "--json", "--data-dir", str(tmp_path))
    (listed,) = json.loads(out)
    assert listed["id"] == order_id
    _, out, _ = run(capsys, "orders", "show", order_id, "--data-dir", str(tmp_path))
    assert "issue_label by system: accepted → awaiting_shipment" in out
    _, out, _ = run(capsys, "orders", "show", order_id, "--json", "--data-dir", str(tmp_path))
    assert json.loads(out)["devices"][0]["state"] == "awaiting_shipment"
    assert run(capsys, "orders", "tick", "--data-dir", str(tmp_path))[1] == "0 order(s) changed\n"
    _, out, _ = run(capsys, "orders", "diagram")
    assert out.startswith("stateDiagram-v2")
    status, _, err = run(capsys, "orders", "show", "--data-dir", str(tmp_path))
    assert status == 2
    assert err.startswith(
        "error [usage]: tradein orders show: the following arguments are required: ORDER_ID"
    )
    status, _, err = run(capsys, "orders", "show", "ord_missing", "--data-dir", str(tmp_path))
    assert (status, err.split("]")[0]) == (1, "error [order_not_found")


def test_audit_verify_detects_tampering_and_keeps_an_anchor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`audit verify` passes an intact log, keeps a signed checkpoint, locates a rewritten entry."""
    _order_in(tmp_path)
    status, out, _ = run(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    # the quote issued, the order accepted, its ledger opened, the label issued
    assert (status, out) == (0, "audit log: 4 entries checked, intact\na new signed checkpoint is kept\n")
    [kept] = (tmp_path / "audit-checkpoints").glob("audit-checkpoint-*.json")
    heads = json.loads(kept.read_text())["payload"]["heads"]  # the last entry of each chain
    assert sum(head["sequence"] for head in heads) == 4
    assert len({head["chain"] for head in heads}) == len(heads)
    status, out, _ = run(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert status == 0
    assert out.startswith("audit log: 4 entries checked against the checkpoint of ")

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tradein.sqlite3'}")
    with engine.begin() as conn:  # an attacker with database access drops the guard and edits history
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS tradein_audit_log_no_update")
        for name in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars():
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        conn.exec_driver_sql("UPDATE tradein_audit_log SET actor = 'staff' WHERE sequence = 1")
    engine.dispose()
    status, out, _ = run(capsys, "audit", "verify", "--json", "--data-dir", str(tmp_path))
    report = json.loads(out)
    assert status == 1
    assert report["ok"] is False
    assert report["problems"][0]["sequence"] == 1
    assert report["problems"][0]["kind"] == "modified"
    kept = max((tmp_path / "audit-checkpoints").glob("audit-checkpoint-*.json"))
    kept.write_text(kept.read_text().replace('"entries": 4', '"entries": 3'))
    status, _, err = run(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert status == 1
    assert "the latest audit checkpoint does not verify" in err
    status, out, _ = run(
        capsys, "audit", "export", str(tmp_path / "audit.csv"), "--format", "csv", "--data-dir", str(tmp_path)
    )
    assert (status, out.count("wrote ")) == (0, 2)


def test_offers_for_a_new_device(capsys: pytest.CaptureFixture[str]) -> None:
    """`offers` lists protection plans with premium and tax in the locale; --json gives the figures."""
    status, out, _ = run(
        capsys,
        "offers",
        "samsung-galaxy-s25-256gb",
        "--price",
        "999",
        "--with-trade-in",
        "--date",
        "2026-11-24",
        "--locale",
        "de_DE",
    )
    assert status == 0
    assert "Versicherungsteuer" in out
    _, out, _ = run(
        capsys, "offers", "samsung-galaxy-s25-256gb", "--price", "999", "--date", "2026-11-24", "--json"
    )
    offers = json.loads(out)
    assert offers
    first = offers[0]
    assert Decimal(first["premium"]["net"]["amount"]) + Decimal(first["premium"]["tax"]["amount"]) == Decimal(
        first["premium"]["gross"]["amount"]
    )
    _, out, _ = run(capsys, "offers", "apple-watch-series-9", "--price", "99999", "--date", "2026-11-24")
    assert out.startswith("no protection plan fits")


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("promotions", "tradein_sdk/data/promotions/example-de.json"),
        ("plans", "tradein_sdk/data/insurance/example-plans.json"),
    ],
    ids=["promotions", "plans"],
)
def test_validate_promotions_and_plans(
    capsys: pytest.CaptureFixture[str], write_json: Callable[[str, object], Path], kind: str, path: str
) -> None:
    """The bundled examples validate; a broken copy lists its problems with JSON paths."""
    full = Path(__file__).resolve().parent.parent / path
    status, out, _ = run(capsys, "validate", kind, str(full))
    assert status == 0
    assert out.endswith("valid " + ("promotions" if kind == "promotions" else "insurance-plans") + "\n")
    document = json.loads(full.read_text(encoding="utf-8"))
    document["version"] = "latest"
    status, out, _ = run(capsys, "validate", kind, str(write_json("broken.json", document)))
    assert status == 1
    assert ": $.version: " in out


def _bill_credit_order_in(data_dir: Path) -> tuple[str, str]:
    """A settled bill-credit order (12 months) in the CLI's data directory; return its id and first period."""
    facade = TradeIn.embedded(data_dir)
    declared = example_answers("smartphone", "flawless").answers
    quote = facade.quote("apple-iphone-13-128gb", declared).quote
    phone = NewDevice(
        sku="S25", name="Galaxy S25", brand="Samsung", category="smartphone", price=Money("999", "EUR")
    )
    request = CheckoutRequest(
        quote_ids=(quote.id,),
        new_device=phone,
        timing=CreditTiming.DEFERRED,
        plan=CreditPlan.BILL_CREDITS,
        months=12,
    )
    order = facade.confirm_checkout(facade.checkout(request)).order
    facade.issue_label(order.id)
    facade.ship(order.id, "d1")
    facade.receive(order.id, "d1")
    checks = example_answers("smartphone", "store-inspected").answers
    staff = {key: checks[key] for key in ("liquid_indicator", "blocklist_status", "authenticity")}
    facade.inspect(order.id, "d1", {**declared, **staff})
    facade.settle(order.id, "d1")
    first = billing_period(facade.clock.now(), 1)
    facade.close()
    return order.id, first


def test_ledger_show_installments_report_and_stop(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`ledger` shows an order's entries, lists and credits installments once, reports and stops the rest."""
    order_id, first = _bill_credit_order_in(tmp_path)
    data = ("--data-dir", str(tmp_path))
    status, out, _ = run(capsys, "ledger", "show", order_id, *data)
    assert status == 0
    assert "installment_due" in out
    assert "open         0.00 EUR" not in out  # the schedule is open until credited
    _, out, _ = run(capsys, "ledger", "show", order_id, "--json", *data)
    assert len(json.loads(out)["installments"]) == 12
    _, out, _ = run(capsys, "ledger", "installments", "--period", first, *data)
    assert out.count(order_id) == 1
    _, out, _ = run(capsys, "ledger", "installments", "--period", first, "--credit", *data)
    assert out.startswith(f"credited 1 installment(s) due by {first}")
    _, out, _ = run(capsys, "ledger", "installments", "--period", first, "--credit", *data)
    assert out.startswith(f"credited 0 installment(s) due by {first}: nothing")
    _, out, _ = run(capsys, "ledger", "stop", order_id, *data)
    assert out == f"stopped 11 installment(s) of {order_id}\n"
    status, out, _ = run(capsys, "ledger", "report", "--from", "2026-01-01", "--to", "2031-01-01", *data)
    assert status == 0  # the totals tie out
    rows = {tuple(line.split(",")[:3]): line.split(",")[3] for line in out.splitlines()[1:]}
    assert rows[("totals", "EUR", "open_at_end")] == "0.00"
    status, out, _ = run(
        capsys, "ledger", "report", "--from", "2026-01-01", "--to", "2031-01-01", "--format", "json", *data
    )
    assert json.loads(out)["ties_out"] is True
    status, _, err = run(capsys, "ledger", "installments", "--period", "2027-13", *data)
    assert (status, err.split("]")[0]) == (1, "error [invalid_period")
    status, _, err = run(capsys, "ledger", "report", "--from", "2026-01-01", *data)
    assert status == 2
    assert err.startswith("error [usage]: tradein ledger report: the following arguments are required: --to")
    status, _, err = run(capsys, "ledger", "report", "--from", "2026-01-01", "--to", "2026-02-30", *data)
    assert status == 2
    assert "argument --to: '2026-02-30' is not a date (YYYY-MM-DD)" in err


# -- db status | migrate, serve on gunicorn -------------------------------------------------------------


def test_db_status_and_migrate_for_operators(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db status`` lists the pending migrations of a new database; ``db migrate`` applies them."""
    from tradein_sdk._adapters.sql.store import iter_migrations  # noqa: PLC0415

    monkeypatch.delenv("TRADEIN_DATABASE_URL", raising=False)
    latest = max(version for version, _ in iter_migrations())
    data_dir = str(tmp_path / "data")
    code, out, _ = run(capsys, "db", "status", "--json", "--data-dir", data_dir)
    assert code == 0
    status = json.loads(out)
    assert status["schema_version"] == 0
    assert status["latest"] == latest
    assert [item["version"] for item in status["pending"]] == [v for v, _ in iter_migrations()]
    assert not (tmp_path / "data").exists()  # a status creates no database
    code, out, _ = run(capsys, "db", "migrate", "--data-dir", data_dir)
    assert (code, out.strip()) == (0, f"schema version {latest} (was 0)")
    code, out, _ = run(capsys, "db", "status", "--data-dir", data_dir)
    assert (code, out.strip()) == (0, f"schema version {latest} of {latest}: up to date")
    code, out, _ = run(capsys, "db", "migrate", "--data-dir", data_dir)
    assert out.strip() == f"schema version {latest}: up to date"


def test_serve_runs_on_gunicorn_with_two_workers(tmp_path: Path) -> None:
    """``tradein serve`` starts gunicorn: 2 workers, /healthz and an operation answer, SIGTERM stops it."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import socket  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEIN_", "PROMETHEUS_"))}
    env["TRADEIN_LOG_FORMAT"] = "json"
    key = "store-key-0123456789"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradein_sdk._cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--data-dir",
            str(tmp_path),
            "--api-key",
            f"store-1={key}",
            "--timeout",
            "10",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 12
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.headers["server"] == "gunicorn"
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        while len(children.read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children.read_text().split()) == 2  # the master and two workers
        headers = {"Authorization": f"Bearer {key}"}
        found = httpx.get(f"{base}/v1/catalog/search", params={"text": "iphone 13"}, headers=headers)
        assert found.status_code == 200
        assert found.json()["results"]
        refused = httpx.post(
            f"{base}/v1/grade", content=b"{}", headers={**headers, "Content-Type": "text/plain"}
        )
        assert refused.status_code == 415
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert 'tradein_http_requests_total{operation="search",status="200"} 1.0' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    access = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    assert {"search", "healthz"} <= {entry.get("operation") for entry in access}


def test_keys_are_created_listed_rotated_and_revoked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A key is printed once and kept as a digest; a rotated key works for its grace; a revoked one ends."""
    data = str(tmp_path / "data")
    code, out, _ = run(
        capsys,
        "keys",
        "create",
        "--tenant",
        "berlin",
        "--organisation",
        "carrier-x",
        "--role",
        "store",
        "--label",
        "till 3",
        "--json",
        "--data-dir",
        data,
    )
    assert code == 0
    created = json.loads(out)
    key, key_id = created["key"], created["keys"][0]["key_id"]
    assert key.startswith("tik_")
    listed = created["keys"][0]
    assert (listed["tenant"], listed["organisation"], listed["role"]) == ("berlin", "carrier-x", "store")
    facade = TradeIn.embedded(tmp_path / "data")
    try:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'tradein.sqlite3'}")
        with engine.connect() as conn:  # the stored row, to see no key is kept
            rows = conn.execute(sa.text("SELECT * FROM tradein_api_keys")).all()
        engine.dispose()
        assert rows
        assert all(key not in str(row) for row in rows)
        assert facade.authenticate(key) == Scope(tenant="berlin", organisation="carrier-x", role=Role.STORE)
        code, out, _ = run(
            capsys, "keys", "rotate", key_id, "--grace-days", "2", "--json", "--data-dir", data
        )
        rotated = json.loads(out)
        assert code == 0
        assert rotated["key"] != key
        assert facade.authenticate(rotated["key"]) is not None
        assert facade.authenticate(key) is not None  # the grace period
        code, out, _ = run(capsys, "keys", "list", "--organisation", "carrier-x", "--data-dir", data)
        assert code == 0
        assert key_id in out
        assert rotated["keys"][0]["key_id"] in out
        assert key not in out
        code, out, _ = run(capsys, "keys", "revoke", key_id, "--data-dir", data)
        assert code == 0
        assert "revoked" in out
        assert facade.authenticate(key) is None
    finally:
        facade.close()
    code, _, err = run(
        capsys, "keys", "create", "--tenant", "Bad Name", "--role", "store", "--data-dir", data
    )
    assert code != 0
    assert "invalid_tenant" in err
    code, _, err = run(capsys, "keys", "revoke", "key_unknown", "--data-dir", data)
    assert code != 0
    assert "key_unknown" in err


def _certificate_files(tmp_path: Path) -> tuple[Path, dict[str, Any], str]:
    """An installation whose key file signed a certificate: (its data dir, the JWKS, the certificate id)."""
    from datetime import UTC, datetime  # noqa: PLC0415 - only the certificate tests need these

    from tradein_sdk._domain.erasure import issue_certificate, parse_erasure_report  # noqa: PLC0415
    from tradein_sdk._domain.signing import SigningKeys  # noqa: PLC0415

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    ring = SigningKeys.generate(kid="e1")
    ring.save(data_dir / "signing-keys.json")
    place = {"site": "Köln returns centre", "role": "Erasure technician"}
    report = parse_erasure_report(
        {
            "order_id": "ord_4f2a9c1e7b3d5a60c8e1",
            "device_id": "d1",
            "device": {
                "manufacturer": "Apple",
                "model": "iPhone 13",
                "imei": "352099001761481",
                "media_type": "embedded_flash",
                "capacity_gb": 128,
            },
            "sanitization": {
                "method": "purge",
                "technique": "cryptographic_erase",
                "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
                "operator_role": "Erasure technician",
                "site": "Köln returns centre",
                "started_at": "2026-11-25T10:00:00Z",
                "ended_at": "2026-11-25T10:12:00Z",
            },
            "verification": {
                "method": "crypto_key_destruction",
                "result": "passed",
                "verifier_role": "Quality lead",
                "verified_at": "2026-11-25T10:20:00Z",
            },
            "destination": "resale",
            "custody": [
                {"step": "received", "at": "2026-11-24T09:00:00Z", **place},
                {"step": "erased", "at": "2026-11-25T10:12:00Z", **place},
            ],
        }
    )
    issued = issue_certificate(
        report, issuer="Beispiel Handel GmbH", keys=ring, now=datetime(2026, 11, 25, 12, tzinfo=UTC)
    )
    (tmp_path / "certificate.json").write_text(issued.to_text(), encoding="utf-8")
    tampered = issued.to_json()
    tampered["payload"]["sanitization"]["method"] = "clear"
    tampered["payload"]["sanitization"]["technique"] = "factory_reset"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
    jwks = ring.jwks()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks), encoding="utf-8")
    return data_dir, jwks, issued.certificate.id


def test_certificate_verify_accepts_a_good_certificate_and_refuses_a_tampered_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tradein certificate verify` exits 0 only for a valid certificate; a tampered one names the reason."""
    monkeypatch.delenv("TRADEIN_SIGNING_KEYS", raising=False)
    data_dir, _, certificate_id = _certificate_files(tmp_path)
    good, tampered = str(tmp_path / "certificate.json"), str(tmp_path / "tampered.json")

    status, out, _ = run(capsys, "certificate", "verify", good, "--data-dir", str(data_dir))
    assert status == 0
    assert f"valid erasure certificate {certificate_id}" in out
    assert "revocation not checked" in out
    status, out, _ = run(
        capsys, "certificate", "verify", good, "--keys", str(tmp_path / "jwks.json"), "--json"
    )
    assert (status, json.loads(out)["status"], json.loads(out)["certificate_id"]) == (
        0,
        "valid",
        certificate_id,
    )

    status, out, _ = run(capsys, "certificate", "verify", tampered, "--data-dir", str(data_dir))
    assert status == 1
    assert "invalid (bad_signature)" in out
    assert "$.signature: signed document does not verify (bad signature)" in out
    status, out, _ = run(
        capsys, "certificate", "verify", tampered, "--keys", str(tmp_path / "jwks.json"), "--json"
    )
    outcome = json.loads(out)
    assert (status, outcome["status"], outcome["reason"]) == (1, "invalid", "bad_signature")


def test_certificate_verify_checks_the_revocation_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --revocations, a revoked certificate is reported as revoked with its reason, exit 1."""
    from datetime import UTC, datetime  # noqa: PLC0415 - only the certificate tests need these

    from tradein_sdk._domain.erasure import Revocation, RevocationList, sign_revocations  # noqa: PLC0415
    from tradein_sdk._domain.signing import SigningKeys  # noqa: PLC0415

    monkeypatch.delenv("TRADEIN_SIGNING_KEYS", raising=False)
    data_dir, _, certificate_id = _certificate_files(tmp_path)
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    revocations = RevocationList(
        issuer="Beispiel Handel GmbH",
        issued_at=now,
        revocations=[Revocation(certificate_id=certificate_id, reason="superseded", revoked_at=now)],
    )
    signed = sign_revocations(revocations, SigningKeys.load(data_dir / "signing-keys.json"))
    (tmp_path / "revocations.json").write_text(json.dumps(signed), encoding="utf-8")
    status, out, _ = run(
        capsys,
        "certificate",
        "verify",
        str(tmp_path / "certificate.json"),
        "--data-dir",
        str(data_dir),
        "--revocations",
        str(tmp_path / "revocations.json"),
    )
    assert status == 1
    assert f"revoked: certificate {certificate_id} was revoked at 2026-11-26T09:00:00Z (superseded)" in out


def test_certificate_verify_without_keys_never_creates_a_key_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --keys and no key file in the data dir: a clear error naming --keys, and no key file appears."""
    monkeypatch.delenv("TRADEIN_SIGNING_KEYS", raising=False)
    _certificate_files(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("verify", "pdf"):
        status, out, err = run(
            capsys, "certificate", command, str(tmp_path / "certificate.json"), "--data-dir", str(empty)
        )
        assert (status, out) == (1, "")
        assert err.startswith("error [configuration_error]: no signing keys found in the data directory ")
        assert f"{empty} (signing-keys.json is missing)" in err
        assert "pass --keys JWKS_FILE" in err
        assert "Traceback" not in err
    status, _, err = run(capsys, "certificate", "keys", "--data-dir", str(empty))
    assert status == 1
    assert "no signing keys" in err
    assert list(empty.iterdir()) == []

    status, _, err = run(
        capsys, "certificate", "verify", str(tmp_path / "missing.json"), "--keys", str(tmp_path / "jwks.json")
    )
    assert (status, err) == (
        1,
        f"error [configuration_error]: cannot read {tmp_path / 'missing.json'}: No such file or directory\n",
    )


def test_certificate_keys_prints_the_published_jwks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tradein certificate keys` prints the installation's public keys only, as a JWKS."""
    monkeypatch.delenv("TRADEIN_SIGNING_KEYS", raising=False)
    data_dir, jwks, _ = _certificate_files(tmp_path)
    status, out, _ = run(capsys, "certificate", "keys", "--data-dir", str(data_dir))
    assert status == 0
    assert json.loads(out) == jwks
    assert '"d"' not in out
    assert json.loads(out)["keys"][0]["kty"] == "OKP"


def test_certificate_pdf_renders_a_verified_certificate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tradein certificate pdf` verifies, then writes the PDF; a tampered certificate is not rendered."""
    monkeypatch.delenv("TRADEIN_SIGNING_KEYS", raising=False)
    data_dir, _, _ = _certificate_files(tmp_path)
    output = tmp_path / "certificate-de.pdf"
    status, out, _ = run(
        capsys,
        "certificate",
        "pdf",
        str(tmp_path / "certificate.json"),
        "--locale",
        "de",
        "--output",
        str(output),
        "--data-dir",
        str(data_dir),
    )
    assert (status, out) == (0, f"wrote {output}\n")
    assert output.read_bytes().startswith(b"%PDF-")
    status, out, _ = run(
        capsys, "certificate", "pdf", str(tmp_path / "tampered.json"), "--data-dir", str(data_dir)
    )
    assert status == 1
    assert "not rendered, the certificate is invalid (bad_signature)" in out
    assert not (tmp_path / "tampered.pdf").exists()


def test_certificate_pdf_without_verifying(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--no-verify renders without keys (output beside the file by default); a non-JSON file is refused."""
    _certificate_files(tmp_path)
    status, out, _ = run(capsys, "certificate", "pdf", str(tmp_path / "certificate.json"), "--no-verify")
    assert (status, out) == (0, f"wrote {tmp_path / 'certificate.pdf'}\n")
    (tmp_path / "broken.json").write_text('{"payload": 1.5}', encoding="utf-8")
    status, _, err = run(capsys, "certificate", "pdf", str(tmp_path / "broken.json"), "--no-verify")
    assert status == 1
    assert err.startswith("error [document_invalid]: erasure-certificate document ")
    assert "not an integer" in err
