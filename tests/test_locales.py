"""Translations: the template matches the sources, every shipped locale is complete and is what renders."""

from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

import grading_questionnaire as gq

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TRANSLATED = ("de", "es", "fr", "it")
CATEGORIES = ("smartphone", "smartwatch", "tablet")

# Texts that are rightly the same as the English msgid in a language (checked by hand).
SAME_AS_ENGLISH = {"de": set[str](), "es": {"No"}, "fr": set[str](), "it": {"No"}}


def _catalog(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / "tradein.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(message.id): str(message.string) for message in catalog if message.id}


def _texts(document: Any) -> list[str]:  # noqa: ANN401 - walks any JSON value
    """Every shopper-facing text of a rendered document."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in {"title", "description", "text", "help", "label", "message"} and isinstance(value, str):
                found.append(value)
            elif key not in {"show_if", "questionnaire"}:
                found.extend(_texts(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(_texts(item))
    return found


def _english_texts(category: str) -> list[str]:
    return _texts(gq.load_questionnaire(category).render("en", audience=gq.Audience.STAFF).to_json())


def test_i18n_check_passes() -> None:
    """scripts/i18n.py check finds no template drift and no missing or fuzzy translation."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_pybabel_compile_takes_every_catalog(tmp_path: Path) -> None:
    """The standard Babel workflow: ``pybabel compile -d locales`` compiles every language, no error."""
    import shutil  # noqa: PLC0415

    copy = tmp_path / "locales"
    shutil.copytree(LOCALES, copy, ignore=shutil.ignore_patterns("*.mo"))
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(copy), "-D", "tradein"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stderr
    assert sorted(path.parent.parent.name for path in copy.glob("*/LC_MESSAGES/tradein.mo")) == [
        "de",
        "en",
        "es",
        "fr",
        "it",
    ]


def test_questionnaire_texts_are_in_the_template() -> None:
    """The extraction workflow picks up the msgids inside the definition JSON files."""
    with (LOCALES / "tradein.pot").open("rb") as handle:
        template = {str(message.id) for message in read_po(handle) if message.id}
    for category in CATEGORIES:
        missing = set(_english_texts(category)) - template
        assert not missing, f"{category}: {sorted(missing)[:5]}"


@pytest.mark.parametrize("language", ["de", "en", "es", "fr", "it"], ids=str)
def test_compiled_catalog_matches_its_source(language: str) -> None:
    """The .mo the library reads holds exactly the .po's translations (run scripts/i18n.py compile if not)."""
    path = LOCALES / language / "LC_MESSAGES" / "tradein.mo"
    assert path.exists(), "run: python scripts/i18n.py compile"
    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, text in _catalog(language).items() if compiled.gettext(msgid) != text]
    assert not stale, f"stale {language}.mo (run: python scripts/i18n.py compile): {stale[:3]}"


@pytest.mark.parametrize("language", TRANSLATED, ids=str)
@pytest.mark.parametrize("category", CATEGORIES, ids=CATEGORIES)
def test_rendered_texts_are_in_the_locales_language(category: str, language: str) -> None:
    """Each rendered text is the catalog's translation of its English msgid, not the msgid itself."""
    english = _english_texts(category)
    rendered = _texts(gq.load_questionnaire(category).render(language, audience=gq.Audience.STAFF).to_json())
    catalog = _catalog(language)
    assert len(rendered) == len(english)
    for msgid, text in zip(english, rendered, strict=True):
        assert text == catalog[msgid], msgid
        if msgid not in SAME_AS_ENGLISH[language]:
            assert text != msgid, f"{language} shows the English text {msgid!r}"


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("de", "Lässt sich das Gerät einschalten und startet es normal?"),
        ("en", "Does the device switch on and start normally?"),
        ("es", "¿El dispositivo se enciende y arranca con normalidad?"),
        ("fr", "L’appareil s’allume-t-il et démarre-t-il normalement\u00a0?"),
        ("it", "Il dispositivo si accende e si avvia normalmente?"),
    ],
    ids=["de", "en", "es", "fr", "it"],
)
def test_first_question_reads_in_each_language(language: str, question: str) -> None:
    """The 'powers on' question reads as a native speaker writes it in each shipped language."""
    rendered = gq.load_questionnaire("smartphone").render(language)
    assert rendered.sections[0].questions[1].text == question


def test_english_catalog_is_the_source_text() -> None:
    """The English catalog maps every msgid to itself, so English renders the source text."""
    assert all(msgid == text for msgid, text in _catalog("en").items())
