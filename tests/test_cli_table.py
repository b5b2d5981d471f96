"""Every command and action of `tradein` in one table: its own help, JSON output, one-line errors.

The commands are read from the parser itself, so a command added later is in the table or fails it: each leaf
either prints JSON with `--json` (a row of JSON_COMMANDS) or is named in NO_RESULTS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import tradein_sdk._errors as errors_module
import tradein_sdk.webhooks as webhooks_module
from grading_questionnaire import example_answers
from tests.app.test_fleet import asset_csv, open_company, twenty_five
from tests.test_cli import _bill_credit_order_in, _certificate_files
from tradein_sdk import TradeIn, TradeInError
from tradein_sdk._cli import build_parser, main
from tradein_sdk._domain.money import Money

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "grading_questionnaire" / "definitions" / "examples"
DATA = ROOT / "tradein_sdk" / "data"
ERROR_LINE = re.compile(r"error \[[a-z0-9_]+\]: \S.*\n")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _tree(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command path with its parser, the groups (``quote``) and the leaves (``quote create``)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield from _tree(action.choices[choice.dest], (*path, choice.dest))


def _is_leaf(parser: argparse.ArgumentParser) -> bool:
    return not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions)


def _has_json(parser: argparse.ArgumentParser) -> bool:
    return any("--json" in action.option_strings for action in parser._actions)


TREE = [path for path, _ in _tree(build_parser())]
LEAVES = {path: parser for path, parser in _tree(build_parser()) if path and _is_leaf(parser)}
NO_RESULTS = {
    ("serve",): "runs a server until stopped",
    ("worker",): "runs until stopped",
    ("completion",): "prints a shell script",
}


# -- help ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TREE, ids=[" ".join(path) or "tradein" for path in TREE])
def test_every_command_has_its_own_help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> None:
    """`--help` exits 0 and shows that command's own usage line (not its parent's)."""
    status, out, err = run(capsys, *path, "--help")
    assert (status, err) == (0, "")
    assert out.startswith(f"usage: {' '.join(('tradein', *path))} ")
    if path and path in LEAVES:
        assert "ACTION ..." not in out.splitlines()[0]


def test_the_tree_has_the_documented_shape() -> None:
    """The sub-commands that used to be positional words are sub-commands with their own help now."""
    groups = {
        path: sorted(p[-1] for p in TREE if len(p) == len(path) + 1 and p[:-1] == path) for path in TREE
    }
    assert groups[("quote",)] == ["create", "redeem", "show", "verify"]
    assert groups[("orders",)] == ["diagram", "list", "show", "tick"]
    assert groups[("ledger",)] == ["installments", "report", "show", "stop"]
    assert groups[("webhooks",)] == ["dead", "replay"]
    assert {("openapi",), ("completion",), ("validate", "catalog")} <= set(LEAVES)


def test_every_leaf_prints_json_or_is_exempt() -> None:
    """A leaf that prints results takes --json and is in the JSON table; the others say why not."""
    with_json = {path for path, parser in LEAVES.items() if _has_json(parser)}
    assert set(LEAVES) - with_json == set(NO_RESULTS)
    assert with_json == set(JSON_COMMANDS)


# -- a data directory with something of everything -----------------------------------------------------------


class World:
    """A data directory with a quote, orders, a fleet batch, a guarantee, keys and signed files beside it."""

    def __init__(self, root: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
        """Build it through the facade, and the signed files through the CLI."""
        self.root = root
        self.data = root / "data"
        self.answers = str(EXAMPLES / "smartphone" / "flawless.json")
        trade_in = TradeIn.embedded(self.data)
        try:
            declared = example_answers("smartphone", "flawless").answers
            issued = [trade_in.quote("apple-iphone-13-128gb", declared) for _ in range(3)]
            self.quote_id = issued[0].quote.id
            self.token, self.redeem_token = issued[0].token, issued[1].token
            order = trade_in.accept([issued[2].token])
            trade_in.issue_label(order.id)
            self.order_id = order.id
            self.company_id = open_company(trade_in)
            self.assets = root / "assets.csv"
            self.assets.write_bytes(asset_csv(twenty_five(trade_in)[:4]))
            portfolio = trade_in.fleet_quote(self.company_id, self.assets.read_bytes())
            self.batch_id = portfolio.batch_id or ""
            contract = trade_in.sell_guarantee(
                "buyback-24",
                "samsung-galaxy-s23-128gb",
                Money(Decimal("899.00"), "EUR"),
                customer_ref=self.company_id,
            )
            self.contract_id = contract["payload"]["id"]
            self.contract = root / "contract.json"
            self.contract.write_text(json.dumps(contract), encoding="utf-8")
            self.keys = [trade_in.create_api_key(tenant=f"t{n}", role="shop")[0].key_id for n in range(2)]
        finally:
            trade_in.close()
        self.billed_order, self.first_period = _bill_credit_order_in(self.data)
        folder = ("--data-dir", str(self.data))
        self.co2_report = root / "co2.json"
        status, _, _ = cli(
            "co2", "report", "--from", "2026-01-01", "--to", "2031-12-31", "-o", str(self.co2_report), *folder
        )
        assert status == 0
        self.portfolio = root / "portfolio.json"
        _, out, _ = cli("fleet", "quote", str(self.assets), "--company", self.company_id, "--json", *folder)
        self.portfolio.write_text(out, encoding="utf-8")
        certificates = root / "certificates"
        certificates.mkdir()
        _certificate_files(certificates)
        self.certificate = str(certificates / "certificate.json")
        self.jwks = str(certificates / "jwks.json")

    def argv(self, *argv: str) -> list[str]:
        """``argv`` with the world's placeholders filled in."""
        names = {
            "DATA": str(self.data),
            "ANSWERS": self.answers,
            "QUOTE": self.quote_id,
            "TOKEN": self.token,
            "REDEEM_TOKEN": self.redeem_token,
            "ORDER": self.order_id,
            "BILLED": self.billed_order,
            "PERIOD": self.first_period,
            "COMPANY": self.company_id,
            "ASSETS": str(self.assets),
            "BATCH": self.batch_id,
            "CONTRACT": self.contract_id,
            "CONTRACT_FILE": str(self.contract),
            "CO2_REPORT": str(self.co2_report),
            "PORTFOLIO": str(self.portfolio),
            "CERTIFICATE": self.certificate,
            "JWKS": self.jwks,
            "KEY0": self.keys[0],
            "KEY1": self.keys[1],
            "OUT": str(self.root / "out"),
        }
        return [names.get(word, word) for word in argv]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One world for the module (the JSON rows only read it, or change what no other row reads)."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("TRADEIN_")}
    root = tmp_path_factory.mktemp("world")

    def quiet(*argv: str) -> tuple[int, str, str]:
        import contextlib  # noqa: PLC0415
        import io  # noqa: PLC0415

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
        return status, out.getvalue(), err.getvalue()

    try:
        return World(root, quiet)
    finally:
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _no_tradein_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands see --data-dir and their options only, not the developer's $TRADEIN_* settings."""
    for name in list(os.environ):
        if name.startswith("TRADEIN_"):
            monkeypatch.delenv(name)


D = ("--data-dir", "DATA")

JSON_COMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("catalog", "search"): ("iphone", "13"),
    ("catalog", "show"): ("apple-iphone-13-128gb",),
    ("questionnaire",): ("smartphone",),
    ("grade",): ("smartphone", "ANSWERS"),
    ("quote", "create"): ("apple-iphone-13-128gb", "--answers", "ANSWERS", *D),
    ("quote", "verify"): ("TOKEN", *D),
    ("quote", "show"): ("QUOTE", *D),
    ("quote", "redeem"): ("REDEEM_TOKEN", "--reference", "order-1", *D),
    ("offers",): ("samsung-galaxy-s25-256gb", "--price", "999", "--date", "2026-11-24"),
    ("orders", "list"): D,
    ("orders", "show"): ("ORDER", *D),
    ("orders", "tick"): D,
    ("orders", "diagram"): (),
    ("ledger", "show"): ("BILLED", *D),
    ("ledger", "report"): ("--from", "2026-01-01", "--to", "2031-01-01", *D),
    ("ledger", "installments"): ("--period", "PERIOD", *D),
    ("ledger", "stop"): ("BILLED", *D),
    ("audit", "verify"): D,
    ("audit", "export"): ("OUT", *D),
    ("certificate", "verify"): ("CERTIFICATE", "--keys", "JWKS"),
    ("certificate", "keys"): D,
    ("certificate", "pdf"): ("CERTIFICATE", "--keys", "JWKS", "-o", "OUT"),
    ("co2", "device"): ("apple-iphone-13-128gb", *D),
    ("co2", "order"): ("ORDER", *D),
    ("co2", "report"): ("--from", "2026-01-01", "--to", "2026-12-31", *D),
    ("co2", "verify"): ("CO2_REPORT", *D),
    ("fleet", "company"): (
        "--name",
        "X",
        "--street",
        "W 1",
        "--postcode",
        "10115",
        "--city",
        "B",
        "--tax-number",
        "1",
        *D,
    ),
    ("fleet", "companies"): D,
    ("fleet", "check"): ("ASSETS", *D),
    ("fleet", "quote"): ("ASSETS", "--company", "COMPANY", "--dry-run", *D),
    ("fleet", "show"): ("BATCH", *D),
    ("fleet", "report"): ("BATCH", *D),
    ("fleet", "documents"): ("BATCH", *D),
    ("fleet", "verify"): ("PORTFOLIO", *D),
    ("guarantees", "offers"): ("samsung-galaxy-s23-128gb", "--price", "899", *D),
    ("guarantees", "show"): ("CONTRACT", *D),
    ("guarantees", "liability"): D,
    ("guarantees", "status"): ("CONTRACT", *D),
    ("guarantees", "calendar"): ("COMPANY", *D),
    ("guarantees", "verify"): ("CONTRACT_FILE", *D),
    ("guarantees", "release-lapsed"): D,
    ("validate", "catalog"): (str(DATA / "catalog.json"),),
    ("validate", "questionnaire"): (str(ROOT / "grading_questionnaire" / "definitions" / "smartphone.json"),),
    ("validate", "pricebook"): (str(DATA / "pricebooks" / "reference-de.json"),),
    ("validate", "promotions"): (str(DATA / "promotions" / "example-de.json"),),
    ("validate", "plans"): (str(DATA / "insurance" / "example-plans.json"),),
    ("validate", "co2-factors"): (str(DATA / "co2-factors.json"),),
    ("validate", "guarantee-plans"): (str(DATA / "guarantees" / "example-plans.json"),),
    ("db", "status"): D,
    ("db", "migrate"): D,
    ("keys", "create"): ("--tenant", "t9", "--role", "store", *D),
    ("keys", "list"): D,
    ("keys", "revoke"): ("KEY0", *D),
    ("keys", "rotate"): ("KEY1", *D),
    ("webhooks", "dead"): D,
    ("webhooks", "replay"): ("--all-dead", *D),
    ("openapi",): (),
}


@pytest.mark.parametrize("path", list(JSON_COMMANDS), ids=[" ".join(path) for path in JSON_COMMANDS])
def test_json_output_is_json(capsys: pytest.CaptureFixture[str], world: World, path: tuple[str, ...]) -> None:
    """`--json` prints one JSON document on standard output and exits 0."""
    status, out, err = run(capsys, *path, *world.argv(*JSON_COMMANDS[path]), "--json")
    assert (status, "Traceback" in err) == (0, False), err
    json.loads(out)


# -- bad input: one line, a code, no traceback ---------------------------------------------------------------

BAD_INPUT: list[tuple[tuple[str, ...], int, str]] = [
    # a model where a variant is needed, and an unknown id
    (("quote", "create", "samsung-galaxy-s23", "--answers", "ANSWERS", *D), 1, "variant_required"),
    (("quote", "create", "nokia-3310", "--answers", "ANSWERS", *D), 1, "device_not_found"),
    (("quote", "verify", "not-a-token", *D), 1, "token_malformed"),
    (("quote", "show", "q_missing", *D), 1, "quote_not_found"),
    (("orders", "show", "ord_missing", *D), 1, "order_not_found"),
    (("ledger", "show", "ord_missing", *D), 1, "order_not_found"),
    (("co2", "order", "ord_missing", *D), 1, "order_not_found"),
    (("fleet", "show", "batch_missing", *D), 1, "batch_not_found"),
    (("guarantees", "status", "gtc_missing", *D), 1, "guarantee_not_found"),
    (("keys", "revoke", "key_missing", *D), 1, "not_found"),
    (("catalog", "show", "nokia-3310"), 1, "device_not_found"),
    (("questionnaire", "laptop"), 1, "questionnaire_not_found"),
    (("questionnaire", "smartphone", "--locale", "xx_NOPE"), 1, "unknown_locale"),
    (("offers", "samsung-galaxy-s25-256gb", "--price", "a lot"), 1, "invalid_money"),
    (("ledger", "installments", "--period", "2027-13", *D), 1, "invalid_period"),
    # missing and unreadable files
    (("grade", "smartphone", "missing.json"), 1, "configuration_error"),
    (("validate", "catalog", "missing.json"), 1, "configuration_error"),
    (("quote", "create", "apple-iphone-13-128gb", "--answers", "missing.json", *D), 1, "configuration_error"),
    (("certificate", "verify", "missing.json", "--keys", "JWKS"), 1, "configuration_error"),
    (("co2", "verify", "missing.json", *D), 1, "configuration_error"),
    (("fleet", "check", "missing.csv", *D), 1, "configuration_error"),
    (("fleet", "verify", "ASSETS", *D), 1, "document_invalid"),  # not JSON
    (("openapi", "-o", "/nonexistent-directory/openapi.json"), 1, "configuration_error"),
    # malformed dates and other usage errors
    (("ledger", "report", "--from", "2026-13-01", "--to", "2027-01-01", *D), 2, "usage"),
    (("co2", "report", "--from", "yesterday", "--to", "2026-12-31", *D), 2, "usage"),
    (("guarantees", "liability", "--as-of", "1.1.2027", *D), 2, "usage"),
    (("offers", "samsung-galaxy-s25-256gb", "--price", "999", "--date", "2026-02-30"), 2, "usage"),
    (("frobnicate",), 2, "usage"),
    (("quote", "verfiy", "TOKEN"), 2, "usage"),
    (("quote", "create", "apple-iphone-13-128gb", *D), 2, "usage"),
    (("orders", "show", *D), 2, "usage"),
    (("webhooks", "replay", *D), 2, "usage"),
    (("completion", "powershell"), 2, "usage"),
    ((), 2, "usage"),
]


@pytest.mark.parametrize(
    ("argv", "status", "code"), BAD_INPUT, ids=[" ".join(argv) or "nothing" for argv, _, _ in BAD_INPUT]
)
def test_bad_input_is_one_error_line(
    capsys: pytest.CaptureFixture[str], world: World, argv: tuple[str, ...], status: int, code: str
) -> None:
    """Bad input exits non-zero with one line `error [code]: ...` on standard error, nothing else."""
    got, out, err = run(capsys, *world.argv(*argv))
    assert (got, out) == (status, "")
    assert ERROR_LINE.fullmatch(err), err
    assert err.startswith(f"error [{code}]: ")


@pytest.mark.parametrize("action", ["verify", "redeem", "show"])
def test_reading_commands_create_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """Without --data-dir the default directory is read: that it is empty is said, and where; nothing made."""
    monkeypatch.setenv("TRADEIN_DATA_DIR", str(tmp_path / "none"))
    status, out, err = run(capsys, "quote", action, "x")
    assert (status, out) == (1, "")
    assert ERROR_LINE.fullmatch(err)
    assert str(tmp_path / "none") in err
    assert "quote-keys.json is missing" in err or "no trade-in data" in err
    for command in (["orders", "list"], ["audit", "verify"], ["keys", "list"], ["ledger", "show", "o"]):
        status, _, err = run(capsys, *command)
        assert (status, err.startswith("error [configuration_error]: no trade-in data in ")) == (1, True)
    assert not (tmp_path / "none").exists()


# -- pipes, python -m, progress ------------------------------------------------------------------------------


def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "tradein_sdk", *argv]


def test_python_m_runs_the_command() -> None:
    """`python -m tradein_sdk` is the `tradein` command."""
    result = subprocess.run(_command("--version"), capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.startswith("tradein-sdk "), result.stderr) == (0, True, "")
    result = subprocess.run(
        _command("quote", "verify", "--help"), capture_output=True, text=True, check=False
    )
    assert result.stdout.startswith("usage: tradein quote verify ")


@pytest.mark.parametrize(
    "argv",
    [("catalog", "search", "iphone", "--limit", "200"), ("questionnaire", "smartphone"), ("openapi",)],
    ids=["search", "questionnaire", "openapi"],
)
def test_a_closed_pipe_ends_quietly(argv: tuple[str, ...]) -> None:
    """`tradein ... | head -1` once head has gone: no traceback, status 141 as for `yes | head -1`."""
    read, write = os.pipe()
    os.close(read)  # the reader went away before the command wrote
    try:
        result = subprocess.run(_command(*argv), stdout=write, stderr=subprocess.PIPE, check=False)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr.decode()) == (141, "")


def test_head_takes_the_first_line_quietly(tmp_path: Path) -> None:
    """The shell's own pipe: `tradein catalog search iphone | head -1` prints one line and nothing else."""
    command = " ".join(_command("catalog", "search", "iphone", "--limit", "200"))
    result = subprocess.run(
        ["bash", "-c", f"{command} 2>{tmp_path / 'err'} | head -1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("apple-iphone")
    assert result.stdout.count("\n") == 1
    assert (tmp_path / "err").read_text() == ""


def test_audit_verify_shows_progress_on_a_terminal_only(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    """Standard error in a pipe gets no progress; --progress forces the bar (a terminal would get it)."""
    status, out, err = run(capsys, "audit", "verify", *world.argv(*D))
    assert (status, err) == (0, "")
    assert "entries checked" in out
    status, out, err = run(capsys, "audit", "verify", "--progress", *world.argv(*D))
    assert status == 0
    assert "verifying the audit log" in err
    assert "entries checked" in out


# -- validate: schema and rules at once ----------------------------------------------------------------------


def test_validate_reports_schema_and_rule_problems_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_document: dict[str, Any]
) -> None:
    """The rules are checked on the entries that match the schema; paths and messages point at the file."""
    catalog_document["models"][2]["category"] = "laptop"  # schema
    catalog_document["models"][9]["id"] = catalog_document["models"][8]["id"]  # rule: an id used twice
    catalog_document["models"][11]["release_date"] = "2023-02-30"  # rule: no such day
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_document), encoding="utf-8")
    status, out, err = run(capsys, "validate", "catalog", str(path))
    assert (status, err) == (1, "")
    duplicate = catalog_document["models"][8]["id"]
    assert out.splitlines() == [
        f"{path}: $.models[2].category: 'laptop' is not one of ['smartphone', 'tablet', 'smartwatch']",
        f"{path}: $.models[11].release_date: '2023-02-30' is not a calendar date",
        f"{path}: $.models[9].id: model id {duplicate!r} is already used at $.models[8].id",
    ]
    status, out, _ = run(capsys, "validate", "catalog", str(path), "--json")
    report = json.loads(out)
    assert (status, report["valid"], report["rules_checked"]) == (1, False, True)
    assert [problem["stage"] for problem in report["problems"]] == ["schema", "rules", "rules"]

    plans = json.loads((DATA / "insurance" / "example-plans.json").read_text(encoding="utf-8"))
    plans["plans"][0]["currency"] = 5
    plans["plans"][2]["id"] = plans["plans"][1]["id"]
    path.write_text(json.dumps(plans), encoding="utf-8")
    _, out, _ = run(capsys, "validate", "plans", str(path))
    assert [line.split(": ")[1] for line in out.splitlines()] == ["$.plans[0].currency", "$.plans[2].id"]
    assert out.splitlines()[1].endswith("is already used at $.plans[1]")

    catalog_document["version"] = 5  # outside any entry: the rules cannot run, and it is said
    path.write_text(json.dumps(catalog_document), encoding="utf-8")
    status, out, err = run(capsys, "validate", "catalog", str(path))
    assert status == 1
    assert f"{path}: $.version: 5 is not of type 'string'" in out.splitlines()
    assert err == f"{path}: the rules beyond the schema are checked once the problems above are fixed\n"


# -- the README's error table --------------------------------------------------------------------------------


def _error_classes() -> dict[str, str]:
    modules = (errors_module, webhooks_module)
    return {
        value.__name__: value.code
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, TradeInError)
    }


def test_readme_error_table_lists_every_code() -> None:
    """Every exception and code of the tree is in the README's table under Errors, and nothing else is."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    names = {name for row in rows for name in re.findall(r"`(\w+)`", row[0])}
    codes = {code for row in rows for code in re.findall(r"`(\w+)`", row[1])}
    classes = _error_classes()
    assert codes == set(classes.values())
    assert names == set(classes)


# -- completion ----------------------------------------------------------------------------------------------


def _script(capsys: pytest.CaptureFixture[str], shell: str, directory: Path) -> Path:
    status, out, _ = run(capsys, "completion", shell)
    assert status == 0
    path = directory / f"tradein.{shell}"
    path.write_text(out, encoding="utf-8")
    return path


def test_bash_completion_completes_commands_actions_options_and_choices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The bash script (made from the parser, no extra package) completes each level of the tree."""
    script = _script(capsys, "bash", tmp_path)
    probe = f"""
source {script}
t() {{
    COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMPREPLY=()
    _tradein; echo "${{COMPREPLY[*]}}"
}}
t tradein qu
t tradein quote ''
t tradein quote create --ch
t tradein quote create --channel ''
t tradein --version
t tradein quote create --data-dir /tmp ''
t tradein completion ''
"""
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "questionnaire quote",
        "create verify show redeem",
        "--channel",
        "online store",
        "--version",
        "",
        "bash zsh fish",
    ]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_offers_described_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The zsh script parses, and offers the actions with their help and the options of an action."""
    script = _script(capsys, "zsh", tmp_path)
    probe = f"""
compdef() {{ }}
compadd() {{ print -r -- "${{@:#--}}" }}
_describe() {{ print -r -- "${{(P)4}}" }}
_files() {{ print -r -- files }}
source {script}
t() {{ words=("$@"); CURRENT=$#words; _tradein }}
t tradein quote ''
t tradein quote create --channel ''
t tradein validate catalog ''
"""
    result = subprocess.run(["zsh", "-f", "-c", probe], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("create:issue a quote for a device variant")
    assert lines[1:] == ["online store", "files"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion_offers_described_commands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The fish script completes actions with their help and an option's choices."""
    script = _script(capsys, "fish", tmp_path)
    probe = f"source {script}; complete -C'tradein quote '; complete -C'tradein quote create --channel '"
    result = subprocess.run(["fish", "--no-config", "-c", probe], capture_output=True, text=True, check=True)
    assert (
        "verify\tverify a quote token offline: signature, key, audience, expiry" in result.stdout.splitlines()
    )
    assert {"online", "store"} <= set(result.stdout.splitlines())


# -- openapi -------------------------------------------------------------------------------------------------


def test_openapi_prints_or_writes_the_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`tradein openapi` prints the service's OpenAPI document; -o writes the same text."""
    status, out, _ = run(capsys, "openapi")
    assert status == 0
    assert json.loads(out)["openapi"].startswith("3.1")
    target = tmp_path / "openapi.json"
    status, _, err = run(capsys, "openapi", "-o", str(target))
    assert (status, err) == (0, f"{target}\n")
    assert target.read_text(encoding="utf-8") == out


def test_openapi_script_has_help_and_writes_only_when_asked(tmp_path: Path) -> None:
    """scripts/openapi.py --help prints its usage and writes nothing; --check compares; -o writes there."""
    script = [sys.executable, str(ROOT / "scripts" / "openapi.py")]
    target = tmp_path / "openapi.json"
    result = subprocess.run(
        [*script, "--help", "-o", str(target)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout.startswith("usage: scripts/openapi.py")) == (0, True)
    assert not target.exists()
    assert (
        subprocess.run([*script, "--check", "-o", str(target)], capture_output=True, check=False).returncode
        == 1
    )
    result = subprocess.run([*script, "-o", str(target)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.startswith(f"wrote {target}")) == (0, True)
    assert (
        subprocess.run([*script, "--check", "-o", str(target)], capture_output=True, check=False).returncode
        == 0
    )
    result = subprocess.run([*script, "--bogus"], capture_output=True, text=True, check=False)
    assert result.returncode == 2


# -- scripts/demo --------------------------------------------------------------------------------------------


def test_demo_says_what_it_is_doing(tmp_path: Path) -> None:
    """./scripts/demo names the install before it starts (it takes about a minute the first time)."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(ROOT / "scripts" / "demo", scripts / "demo")
    (scripts / "_venv.sh").write_text(  # the real one installs with pip; here only its stamp is written
        'ensure_venv() { mkdir -p .venv; echo "$1 x" >> .venv/.tradein-installed; }\n', encoding="utf-8"
    )
    flask = tmp_path / ".venv" / "bin" / "flask"
    flask.parent.mkdir(parents=True)
    flask.write_text('#!/bin/sh\necho "flask $*"\n', encoding="utf-8")
    flask.chmod(0o755)
    first = subprocess.run(["bash", str(scripts / "demo")], capture_output=True, text=True, check=True)
    assert first.stderr.splitlines()[0] == (
        "demo: installing the project and Flask into .venv: the first run takes about a minute"
    )
    assert "demo: starting the reference shop on http://127.0.0.1:5000/ (Ctrl+C stops it)" in first.stderr
    assert first.stdout.startswith("flask --app examples.flask_shop:create_app run")
    again = subprocess.run(["bash", str(scripts / "demo")], capture_output=True, text=True, check=True)
    assert again.stderr.startswith("demo: checking .venv")
