"""The package's layout holds: layers import downwards only, no circles, and importing stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "httpx", "cattrs", "jsonschema", "babel", "psycopg", "flask", "barcode", "respx")


def _loaded_after(statement: str) -> set[str]:
    """The heavy third-party packages a fresh interpreter has loaded after ``statement``."""
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", f"{statement}\n{report}"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(result.stdout)) & set(HEAVY)


def test_import_contracts_are_kept() -> None:
    """import-linter finds every contract of pyproject.toml kept: layers, a pure domain, no circles."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    for contract in ("Layers:", "No import circles", "do no I/O"):
        assert contract in result.stdout


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ("import tradein_sdk", set()),
        ("import tradein_sdk.webhooks", set()),
        ("from tradein_sdk import TradeIn", {"babel"}),
        ("from tradein_sdk import TradeInClient", {"babel", "httpx"}),
    ],
    ids=["package", "webhooks", "facade", "client"],
)
def test_importing_loads_no_heavy_dependency(statement: str, allowed: set[str]) -> None:
    """Databases, HTTP, cattrs, jsonschema and the web framework load with their first use, not on import."""
    assert _loaded_after(statement) <= allowed
