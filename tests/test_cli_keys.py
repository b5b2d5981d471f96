"""Reading commands open the key rings read-only: they never create a key, a key file or a database.

``tradein quote verify``, ``tradein certificate verify`` and the other reads ask the library for the keys
with ``create=False`` (:meth:`KeyRing.configured`, :meth:`SigningKeys.configured`): an installation without
them is one ``error [configuration_error]: ...`` line naming the data directory, exit status 1.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from tradein_sdk._adapters.sql.store import SQLStore
from tradein_sdk._cli import main
from tradein_sdk._domain.signing import SigningKeys
from tradein_sdk._domain.tokens import KeyRing
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

ERROR_LINE = re.compile(r"error \[configuration_error\]: \S.*\n")
TOKEN = "tq1.k1.e30.c2ln"  # noqa: S105 - a token of no key, not a secret


@pytest.fixture(autouse=True)
def _no_configured_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and database come from the data directory only, as on a machine without the service's settings."""
    for variable in (
        "TRADEIN_QUOTE_KEYS",
        "TRADEIN_SIGNING_KEYS",
        "TRADEIN_DATABASE_URL",
        "TRADEIN_DATA_DIR",
    ):
        monkeypatch.delenv(variable, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process with ``argv`` and return its status, standard output and standard error."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _document(tmp_path: Path) -> str:
    """A file to verify, outside the data directory (what it holds does not matter: the keys come first)."""
    path = tmp_path / "document.json"
    path.write_text(json.dumps({"payload": "e30", "signatures": []}), encoding="utf-8")
    return str(path)


QUOTE_READS: list[tuple[str, ...]] = [("quote", "verify", TOKEN), ("quote", "redeem", TOKEN)]
SIGNED_READS: list[tuple[str, ...]] = [
    ("certificate", "verify", "FILE"),
    ("certificate", "pdf", "FILE"),
    ("certificate", "keys"),
    ("guarantees", "verify", "FILE"),
    ("co2", "verify", "FILE"),
    ("fleet", "verify", "FILE"),
]


@pytest.mark.parametrize("argv", QUOTE_READS + SIGNED_READS, ids=" ".join)
def test_a_read_against_an_empty_data_directory_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """One error line naming the directory and the missing key file, exit 1, no traceback, nothing made."""
    empty = tmp_path / "data"
    empty.mkdir()
    arguments = [_document(tmp_path) if word == "FILE" else word for word in argv]
    status, out, err = run(capsys, *arguments, "--data-dir", str(empty))
    assert (status, out) == (1, "")
    assert ERROR_LINE.fullmatch(err), err
    assert "Traceback" not in err
    assert f"in the data directory {empty} " in err
    if argv in QUOTE_READS:
        assert "(quote-keys.json is missing)" in err
        assert "$TRADEIN_QUOTE_KEYS" in err
    else:
        assert "no signing keys found" in err
        assert "(signing-keys.json is missing)" in err
        assert "pass --keys JWKS_FILE" in err
    assert list(empty.iterdir()) == []


def test_a_read_of_a_directory_that_does_not_exist_does_not_make_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The default data directory ($TRADEIN_DATA_DIR) missing altogether stays missing."""
    missing = tmp_path / "nowhere"
    for argv in (["quote", "verify", TOKEN], ["certificate", "keys"], ["orders", "list"]):
        status, _, err = run(capsys, *argv, "--data-dir", str(missing))
        assert status == 1
        assert ERROR_LINE.fullmatch(err), err
        assert str(missing) in err
    assert not missing.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("orders", "list"),
        ("audit", "verify"),
        ("keys", "list"),
        ("quote", "show", "q_1"),
        ("quote", "verify", TOKEN),
    ],
    ids=" ".join,
)
def test_a_database_without_keys_gets_none_from_a_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """A database is there but no key file: the read says which keys are missing and makes neither."""
    data = tmp_path / "data"
    data.mkdir()
    SQLStore(f"sqlite:///{data / 'tradein.sqlite3'}").close()
    before = sorted(path.name for path in data.iterdir())
    status, out, err = run(capsys, *argv, "--data-dir", str(data))
    assert (status, out) == (1, "")
    assert ERROR_LINE.fullmatch(err), err
    assert f"in the data directory {data} " in err
    assert sorted(path.name for path in data.iterdir()) == before
    assert not (data / "signing-keys.json").exists()
    assert not (data / "quote-keys.json").exists()


def test_the_key_rings_open_read_only(tmp_path: Path) -> None:
    """create=False reads the file or the variable and never writes; without either: an error naming where."""
    quote_file, signing_file = tmp_path / "quote-keys.json", tmp_path / "signing-keys.json"
    with pytest.raises(ConfigurationError, match=r"quote-keys\.json is missing") as quote_error:
        KeyRing.configured(quote_file, {}, create=False)
    assert quote_error.value.params["directory"] == str(tmp_path)
    with pytest.raises(ConfigurationError, match=r"signing-keys\.json is missing") as signing_error:
        SigningKeys.configured(signing_file, {}, create=False)
    assert signing_error.value.params["directory"] == str(tmp_path)
    assert list(tmp_path.iterdir()) == []

    made = KeyRing.configured(quote_file, {})  # the default: made on first use
    signing = SigningKeys.configured(signing_file, {})
    assert KeyRing.configured(quote_file, {}, create=False) == made
    assert SigningKeys.configured(signing_file, {}, create=False).jwks() == signing.jwks()

    elsewhere = tmp_path / "elsewhere"
    environ = {
        "TRADEIN_QUOTE_KEYS": "k9=" + "A" * 43,
        "TRADEIN_SIGNING_KEYS": json.dumps(signing.to_json()),
    }
    assert KeyRing.configured(elsewhere / "quote-keys.json", environ, create=False).key_ids == ("k9",)
    assert (
        SigningKeys.configured(elsewhere / "signing-keys.json", environ, create=False).jwks()
        == signing.jwks()
    )
    assert not elsewhere.exists()


def test_a_read_with_the_keys_in_the_environment_needs_no_key_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$TRADEIN_SIGNING_KEYS serves the published keys; the data directory stays as it was."""
    signing = SigningKeys.generate(kid="e7")
    monkeypatch.setenv("TRADEIN_SIGNING_KEYS", json.dumps(signing.to_json()))
    empty = tmp_path / "data"
    empty.mkdir()
    status, out, err = run(capsys, "certificate", "keys", "--data-dir", str(empty))
    assert (status, err) == (0, "")
    assert json.loads(out) == signing.jwks()
    assert list(empty.iterdir()) == []
