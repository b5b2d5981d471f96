"""The built wheel works on its own: installed into a fresh virtual environment with no dev dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SMOKE = textwrap.dedent(
    """
    import tradein_sdk
    from tradein_sdk import Catalog, InvalidIMEIError, Money, parse_imei

    assert tradein_sdk.__file__.startswith(sys.prefix), tradein_sdk.__file__
    hits = Catalog.bundled().search("galaxy s23 ultra 256")
    assert hits[0].id == "samsung-galaxy-s23-ultra-256gb", hits
    assert Money("1234.56", "EUR").format("de_DE") == "1.234,56\\xa0€"
    assert parse_imei("490154203237518").tac == "49015420"
    try:
        parse_imei("490154203237519")
    except InvalidIMEIError as error:
        assert "Prüfziffer" in error.localized("de_DE"), error.localized("de_DE")
    else:
        raise AssertionError("invalid IMEI accepted")
    import tempfile
    from grading_questionnaire import example_answers
    from tradein_sdk import TradeIn

    trade_in = TradeIn.embedded(tempfile.mkdtemp(), locale="fr_FR")
    issued = trade_in.quote("apple-iphone-13-128gb", example_answers("smartphone", "worn").answers)
    assert issued.quote.lines[0].text.startswith("Prix de lancement"), issued.quote.lines[0].text
    assert trade_in.redeem(issued.token).amount == issued.quote.amount
    from tradein_sdk import CheckoutRequest, Money, NewDevice, PlanCatalogOfferSource, load_promotions
    from tradein_sdk import EXAMPLE_PROMOTIONS
    assert load_promotions(EXAMPLE_PROMOTIONS).promotions
    assert PlanCatalogOfferSource.example().plans.plans
    order = trade_in.accept([trade_in.quote("apple-iphone-13-128gb",
                                            example_answers("smartphone", "flawless").answers).token])
    assert trade_in.store.verify_audit().ok, "audit log with its triggers"
    trade_in.close()
    print("smoke ok")
    """
)


@pytest.mark.packaging
def test_wheel_installs_and_works_in_a_fresh_environment(tmp_path: Path) -> None:
    """Build the wheel, install it with its runtime dependencies only, and run the smoke script."""
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("tradein_sdk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "tradein_sdk/py.typed",
        "tradein_sdk/data/catalog.json",
        "tradein_sdk/schemas/catalog.schema.json",
        "tradein_sdk/locales/de/LC_MESSAGES/tradein.mo",
        "grading_questionnaire/__init__.py",
        "grading_questionnaire/py.typed",
        "grading_questionnaire/definitions/smartphone.json",
        "grading_questionnaire/definitions/examples/smartphone/worn.json",
        "tradein_sdk/data/pricebooks/reference-de.json",
        "tradein_sdk/schemas/quote.schema.json",
        "tradein_sdk/locales/fr/LC_MESSAGES/tradein.mo",
        "tradein_sdk/data/promotions/example-de.json",
        "tradein_sdk/data/insurance/example-plans.json",
        "tradein_sdk/schemas/promotions.schema.json",
        "tradein_sdk/schemas/insurance-plans.schema.json",
    ):
        assert expected in names, expected
    assert not any(name.startswith(("tests/", "scripts/")) for name in names)

    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True)
    installed = {line.split("==")[0].lower() for line in freeze.stdout.splitlines()}
    assert not installed & {"pytest", "hypothesis", "respx", "mypy", "ruff", "flask"}

    result = subprocess.run(
        [str(python), "-c", "import sys\n" + SMOKE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "smoke ok"
    cli = subprocess.run(
        [str(environment / "bin" / "tradein"), "catalog", "search", "pixel 8", "--limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli.stdout.startswith("google-pixel-8 ")

    # A zipped installation: both packages from a zip archive on sys.path (their dependencies from the
    # environment); the data, schemas, translations and questionnaires are read through importlib.resources.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    archive = tmp_path / "tradein.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for package in ("tradein_sdk", "grading_questionnaire"):
            for path in sorted((site / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    bundle.write(path, path.relative_to(site).as_posix())
    zipped = SMOKE.replace("sys.prefix", "str(sys.argv[1])")
    result = subprocess.run(
        [str(python), "-c", f"import sys\nsys.path.insert(0, sys.argv[1])\n{zipped}", str(archive)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "TRADEIN_RESOURCE_CACHE": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "smoke ok"
