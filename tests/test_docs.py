"""The documentation site: its Python examples run, it builds strictly, and its API reference is whole."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, NamedTuple

import pytest

import grading_questionnaire
import tradein_sdk
import tradein_sdk.testing
import tradein_sdk.webhooks
from tests._doc_blocks import ROOT, Example, docs_examples, scratch_environment

if TYPE_CHECKING:
    from pathlib import Path

DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
PUBLIC_MODULES = (
    (tradein_sdk, "tradein_sdk"),
    (grading_questionnaire, "grading_questionnaire"),
    (tradein_sdk.webhooks, "tradein_sdk.webhooks"),
    (tradein_sdk.testing, "tradein_sdk.testing"),
)

EXAMPLES = docs_examples()


def test_docs_have_examples() -> None:
    """The pages show runnable Python, and few examples are left unrun."""
    assert len(EXAMPLES) >= 20
    skipped = [example.id for example in EXAMPLES if example.not_run is not None]
    assert len(skipped) <= 3, skipped


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_docs_python_examples_run(example: Example, tmp_path: Path) -> None:
    """Every ```python block of the docs runs as written, on a clean environment, in a scratch folder."""
    if example.not_run is not None:
        assert example.not_run, f"{example.id}: say why the example is not run"
        pytest.skip(f"not run: {example.not_run}")
    with scratch_environment(tmp_path):
        exec(example.compiled(), {"__name__": "__docs__"})  # noqa: S102 - the docs' own examples


def missing_docs_tools() -> list[str]:
    """The packages of the docs build (the ``docs`` extra) that are not installed."""
    return [name for name in DOCS_TOOLS if importlib.util.find_spec(name) is None]


class Build(NamedTuple):
    """A strict build of the site into a scratch folder."""

    site: Path
    returncode: int
    output: str


@pytest.fixture(scope="module")
def strict_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """``mkdocs build --strict`` of the repository's site, once for the tests of this module."""
    missing = missing_docs_tools()
    if missing:
        pytest.skip(f"the docs tools are not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return Build(site, done.returncode, done.stdout + done.stderr)


def test_site_builds_in_strict_mode(strict_build: Build) -> None:
    """The site builds with no warning: no broken link, anchor or cross-reference, no name without a page."""
    warnings = [line for line in strict_build.output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert strict_build.returncode == 0, "\n".join(warnings) or strict_build.output[-4000:]
    assert (strict_build.site / "index.html").is_file()


def test_api_reference_documents_every_public_name(strict_build: Build) -> None:
    """Each name of ``tradein_sdk.__all__`` (and of the other public modules) is in the API reference."""
    assert strict_build.returncode == 0, "the site did not build; see test_site_builds_in_strict_mode"
    pages = sorted((strict_build.site / "reference" / "api").rglob("*.html"))
    assert pages
    html = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    anchors = set(re.findall(r'id="([A-Za-z0-9_.]+)"', html))
    missing = [
        f"{prefix}.{name}"
        for module, prefix in PUBLIC_MODULES
        for name in module.__all__
        if f"{prefix}.{name}" not in anchors
    ]
    assert not missing, missing


def test_generated_reference_pages_are_there(strict_build: Build) -> None:
    """The HTTP API, the error codes, the changelog and the order diagram are generated into the site."""
    assert strict_build.returncode == 0, "the site did not build; see test_site_builds_in_strict_mode"
    site = strict_build.site
    quotes = (site / "reference" / "http" / "quotes" / "index.html").read_text(encoding="utf-8")
    assert "/v1/quotes/redeem" in quotes
    errors = (site / "reference" / "errors" / "index.html").read_text(encoding="utf-8")
    assert 'id="quote_already_redeemed"' in errors
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Unreleased" in changelog
    orders = (site / "concepts" / "orders" / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in orders
    assert "awaiting_shipment --&gt; in_transit" in orders
