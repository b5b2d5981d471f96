"""The built wheels work on their own: installed into fresh virtual environments with no dev dependencies.

The library's wheel and the reference shop's wheel (``examples/flask_shop``, distribution
``tradein-demo-shop``) are built once for the module. Then, for each Python the CI tests (3.11 required; 3.12
and 3.13 when the machine has them), a fresh environment with only the library's wheel and its documented
extras runs every ```python block of README.md and docs/**/*.md, from a folder outside the repository; the
shop's wheel, installed beside it, serves its pages; and the bare wheel runs a smoke script, installed and
from a zip archive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

from tests import _doc_blocks
from tests._doc_blocks import ROOT, docs_examples, dump, readme_examples

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.packaging

PYTHONS = ("3.11", "3.12", "3.13")
"""The Pythons of the classifiers in pyproject.toml, which the CI machine has; the first one is required."""
DOCS_EXTRAS = "fleet,testing"
"""The documented extras the examples use: ``fleet`` (XLSX asset lists, e-invoices), ``testing`` (respx)."""
DOCS_TOOLS = ("pytest",)
"""Not a dependency of the library: docs/how-to/testing.md writes a pytest fixture (the reader's pytest)."""
DEV_ONLY = {"hypothesis", "mypy", "ruff", "flask", "playwright", "psycopg", "matplotlib"}
"""Packages no example may rely on: the test stack, the shop's framework and the extras the examples skip."""

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

SHOP_SMOKE = textwrap.dedent(
    """
    import re
    import sys
    import tempfile

    import httpx

    import tradein_demo_shop
    from tradein_demo_shop.testing import gunicorn_serving, shop_state

    assert tradein_demo_shop.__file__.startswith(sys.prefix), tradein_demo_shop.__file__
    data_dir = tempfile.mkdtemp()
    app = tradein_demo_shop.create_app({"TESTING": True, "TRADEIN_DATA_DIR": data_dir})
    client = app.test_client()
    home = client.get("/", query_string={"lang": "de_DE"})
    assert home.status_code == 200, home.status_code
    assert 'name="csrf-token"' in home.text, home.text[:2000]
    image = re.search(r'/products/[^"]+[.]svg', home.text)
    assert image is not None, "no product drawing on the start page"
    drawing = client.get(image.group(0))
    assert (drawing.status_code, drawing.mimetype) == (200, "image/svg+xml"), drawing.status
    assert "<svg" in drawing.text
    assert client.get("/static/shop.css").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    shop_state(app).close()
    env = {"TRADEIN_DATA_DIR": data_dir}
    with gunicorn_serving("tradein_demo_shop:create_app()", workers=1, env=env) as port:
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
    print("shop ok")
    """
)


class Wheels(NamedTuple):
    """The two wheels built from the working tree."""

    library: Path
    shop: Path


def clean_env() -> dict[str, str]:
    """The environment of the fresh installs: nothing that points at the repository or sets the library up."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"} and not name.startswith("TRADEIN_")
    }


def run(
    command: list[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (on the clean environment unless ``env`` is given); a failure shows its output."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (
        f"{command}: exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done


def find_python(version: str) -> Path | None:
    """A base interpreter of ``version`` (``3.12``): pyenv's newest, else ``python3.12`` on PATH."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(
        versions.glob(f"{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path.parent.parent.name)],
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def fresh_environment(base: Path, folder: Path, *requirements: str | Path) -> Path:
    """A new virtual environment of ``base`` with ``requirements`` installed; returns its ``python``."""
    run([base, "-m", "venv", folder])
    python = folder / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements])
    return python


def installed(python: Path) -> set[str]:
    """The normalised names of the distributions installed in ``python``'s environment."""
    freeze = run([python, "-m", "pip", "freeze"]).stdout
    return {re.split(r"[=@ ]", line, maxsplit=1)[0].lower().replace("_", "-") for line in freeze.splitlines()}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    """The library's wheel and the shop's wheel, built once from the working tree."""
    dist = tmp_path_factory.mktemp("dist")
    for project in (ROOT, ROOT / "examples" / "flask_shop"):
        run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, project])
    (library,) = dist.glob("tradein_sdk-*.whl")
    (shop,) = dist.glob("tradein_demo_shop-*.whl")
    return Wheels(library, shop)


class Environments:
    """The module's fresh environments, installed side by side (pip waits on the disk as much as on the CPU).

    One per Python of PYTHONS found on the machine, with the library's wheel, its documented extras and
    pytest; and one with the bare wheel, on the first of PYTHONS.
    """

    def __init__(self, root: Path, wheels: Wheels, pool: ThreadPoolExecutor) -> None:
        """Start installing every environment below ``root``."""
        self.bases = {version: find_python(version) for version in PYTHONS}
        requirement = f"{wheels.library}[{DOCS_EXTRAS}]"
        self.docs: dict[str, Future[Path]] = {
            version: pool.submit(fresh_environment, base, root / version, requirement, *DOCS_TOOLS)
            for version, base in self.bases.items()
            if base is not None
        }
        first = self.bases[PYTHONS[0]]
        self.bare = (
            None if first is None else pool.submit(fresh_environment, first, root / "bare", wheels.library)
        )

    def python(self, version: str) -> Path:
        """The ``python`` of ``version``'s environment; skips when missing (fails for PYTHONS[0])."""
        if version not in self.docs:
            self.require(version)
            pytest.skip(f"Python {version} is not on this machine (neither in pyenv nor on PATH)")
        return self.docs[version].result()

    def bare_python(self) -> Path:
        """The ``python`` of the environment with the bare wheel."""
        if self.bare is None:
            self.require(PYTHONS[0])
        assert self.bare is not None
        return self.bare.result()

    def require(self, version: str) -> None:
        """Fail when ``version`` is the required Python and it is missing."""
        if version == PYTHONS[0] and self.bases[version] is None:
            pytest.fail(f"Python {version} is required for the packaging tests and was not found")


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory, wheels: Wheels) -> Iterator[Environments]:
    """The module's fresh environments, installed in parallel."""
    with ThreadPoolExecutor(max_workers=len(PYTHONS) + 1) as pool:
        yield Environments(tmp_path_factory.mktemp("envs"), wheels, pool)


def test_classifiers_name_the_tested_pythons() -> None:
    """The library and the shop claim exactly the Pythons these tests run the examples on."""
    for project in (ROOT, ROOT / "examples" / "flask_shop"):
        metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        pythons = [
            classifier.rsplit(" :: ", 1)[1]
            for classifier in metadata["classifiers"]
            if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
        ]
        assert tuple(pythons) == PYTHONS, project
        assert metadata["requires-python"] == f">={PYTHONS[0]}", project


def test_wheels_hold_what_they_need(wheels: Wheels) -> None:
    """The library's data, schemas and translations, and the shop's templates, files and catalogs, travel."""
    names = set(zipfile.ZipFile(wheels.library).namelist())
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
    assert not any(name.startswith(("tests/", "scripts/", "examples/")) for name in names)

    shop_dir = ROOT / "examples" / "flask_shop"
    shop_names = set(zipfile.ZipFile(wheels.shop).namelist())
    package = "tradein_demo_shop"
    sources = {path.relative_to(shop_dir).as_posix() for path in shop_dir.rglob("*.py")} - {"hatch_build.py"}
    files = {
        path.relative_to(shop_dir).as_posix()
        for folder in ("templates", "static")
        for path in (shop_dir / folder).rglob("*")
        if path.is_file()
    }
    catalogs = {
        path.relative_to(shop_dir).with_suffix(".mo").as_posix()
        for path in shop_dir.glob("translations/*/LC_MESSAGES/*.po")
    }
    assert {"__init__.py", "views/__init__.py", "templates/product.svg", "static/shop.css"} <= sources | files
    missing = sorted(name for name in sources | files | catalogs if f"{package}/{name}" not in shop_names)
    assert not missing, missing
    assert all(name.startswith((f"{package}/", f"{package}-")) for name in shop_names), sorted(shop_names)
    assert f"{package}/hatch_build.py" not in shop_names
    assert f"{package}/pyproject.toml" not in shop_names


@pytest.mark.parametrize("version", PYTHONS)
def test_readme_and_docs_examples_run_from_the_wheel(
    version: str, environments: Environments, tmp_path: Path
) -> None:
    """Every ```python block of README.md and docs/ runs with only the wheel (and its documented extras)."""
    python = environments.python(version)
    present = installed(python)
    assert "tradein-sdk" in present
    assert not present & DEV_ONLY, present & DEV_ONLY
    examples = readme_examples() + docs_examples()
    assert len(examples) >= 40
    work = tmp_path / "work"  # outside the repository: only the installed packages are importable
    work.mkdir()
    runner = shutil.copy(_doc_blocks.__file__, tmp_path / "run_blocks.py")
    dump(examples, tmp_path / "blocks.json")
    where = run(
        [python, "-I", "-c", "import sys, tradein_sdk; print(tradein_sdk.__file__, sys.prefix)"], cwd=work
    )
    module, prefix = where.stdout.split()
    assert module.startswith(prefix), module
    done = subprocess.run(
        [str(python), "-I", runner, str(tmp_path / "blocks.json")],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr[-4000:]
    failures: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "\n\n".join(f"--- {where}\n{trace}" for where, trace in failures.items())
    assert done.returncode == 0, done.stderr[-4000:]


def test_shop_wheel_installs_and_serves(wheels: Wheels, environments: Environments, tmp_path: Path) -> None:
    """The shop's wheel installs beside the library's and serves its pages, templates and files from there."""
    python = environments.python(PYTHONS[0])
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheels.shop])
    assert {"tradein-demo-shop", "flask", "flask-babel", "gunicorn"} <= installed(python)
    result = run([python, "-I", "-c", SHOP_SMOKE], cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "shop ok"


def test_wheel_installs_and_works_in_a_fresh_environment(environments: Environments, tmp_path: Path) -> None:
    """The wheel alone (runtime dependencies only) runs the smoke script, installed and from a zip archive."""
    python = environments.bare_python()
    assert not installed(python) & {"pytest", "respx", *DEV_ONLY}

    result = run([python, "-c", "import sys\n" + SMOKE], cwd=tmp_path)
    assert result.stdout.strip() == "smoke ok"
    cli = run([python.with_name("tradein"), "catalog", "search", "pixel 8", "--limit", "1"])
    assert cli.stdout.startswith("google-pixel-8 ")

    # A zipped installation: both packages from a zip archive on sys.path (their dependencies from the
    # environment); the data, schemas, translations and questionnaires are read through importlib.resources.
    site = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    archive = tmp_path / "tradein.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for package in ("tradein_sdk", "grading_questionnaire"):
            for path in sorted((site / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    bundle.write(path, path.relative_to(site).as_posix())
    zipped = SMOKE.replace("sys.prefix", "str(sys.argv[1])")
    result = run(
        [python, "-c", f"import sys\nsys.path.insert(0, sys.argv[1])\n{zipped}", archive],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TRADEIN_RESOURCE_CACHE": str(tmp_path / "cache")},
    )
    assert result.stdout.strip() == "smoke ok"
