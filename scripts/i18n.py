"""Translation workflow for the ``tradein`` gettext domain.

Usage::

    python scripts/i18n.py extract   # sources (Python, questionnaire JSON; babel.cfg) → locales/tradein.pot
    python scripts/i18n.py update    # merge the template into every locales/<lang>/LC_MESSAGES/tradein.po
    python scripts/i18n.py compile   # .po → .mo beside them (what the wheel build does), for a checkout
    python scripts/i18n.py check     # exit 1 if the template drifted from the sources, or a locale
                                     # lacks a translation (or has a fuzzy one)

English is the source language: its catalog is filled with the msgids themselves by ``update``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hatch_build import compile_catalogs  # noqa: E402 - the build hook's compiler, shared

LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "tradein.pot"
DOMAIN = "tradein"
LANGUAGES = ("de", "en", "es", "fr", "it")
SOURCE_LANGUAGE = "en"


def _searched(directory: str) -> bool:
    """Search the private subpackages (``_domain``, ``_app``, ...), which Babel skips by default."""
    name = Path(directory).name
    return not name.startswith(".") and name not in {"__pycache__", "node_modules"}


def extract() -> Catalog:
    """Extract every marked message from the sources named in ``babel.cfg``."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as mapping_file:
        method_map, options_map = parse_mapping_cfg(mapping_file)  # type: ignore[no-untyped-call]  # Babel lacks a hint
    catalog = Catalog(project="tradein-sdk", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=_searched,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    """Write a catalog; a language's catalog as plain ``pybabel compile`` takes it.

    Its header is not fuzzy and names the project; no message carries ``python-format`` (the messages are
    ``str.format`` texts: Babel flags a text such as ``+10 % on`` as %-formatted, which ``pybabel compile``
    then checks against the translation and refuses).
    """
    catalog.project = "tradein-sdk"
    catalog.msgid_bugs_address = ""
    catalog.copyright_holder = "the tradein-sdk authors"
    for message in catalog:
        message.flags.discard("python-format")
    if path.suffix == ".po":
        catalog.fuzzy = False
        catalog.last_translator = "the tradein-sdk authors"
        catalog.language_team = f"{catalog.locale} <tradein-sdk>"
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def update() -> None:
    """Merge the template into each language's catalog (creating missing ones)."""
    for language in LANGUAGES:
        template = _read(TEMPLATE)  # Catalog.update shares message objects: one template per language
        path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = _read(path, language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        if language == SOURCE_LANGUAGE:
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        _write(catalog, path)


def problems() -> list[str]:
    """Return what is out of date: template drift, then missing or fuzzy translations per locale."""
    found: list[str] = []
    extracted, template = _ids(extract()), _ids(_read(TEMPLATE))
    found.extend(
        f"template lacks {msgid!r} (run extract)" for msgid in sorted(map(str, extracted - template))
    )
    found.extend(
        f"template has stale {msgid!r} (run extract)" for msgid in sorted(map(str, template - extracted))
    )
    for language in LANGUAGES:
        path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.exists():
            found.append(f"{language}: no catalog at {path.relative_to(ROOT)}")
            continue
        catalog = _read(path, language)
        by_id = {str(message.id): message for message in catalog if message.id}
        for msgid in sorted(map(str, extracted)):
            message = by_id.get(msgid)
            if (
                message is None
                or not message.string
                or (isinstance(message.string, tuple) and not all(message.string))
            ):
                found.append(f"{language}: no translation for {msgid!r}")
            elif message.fuzzy:
                found.append(f"{language}: fuzzy translation for {msgid!r}")
            elif "python-format" in message.flags:
                found.append(f"{language}: {msgid!r} is flagged python-format (run update)")
        if catalog.fuzzy:
            found.append(f"{language}: the catalog's header is marked fuzzy (run update)")
    return found


def main(argv: list[str]) -> int:
    """Run the command named in ``argv``."""
    command = argv[1] if len(argv) > 1 else "check"
    if command == "extract":
        _write(extract(), TEMPLATE)
    elif command == "update":
        update()
    elif command == "compile":
        compile_catalogs(LOCALES)
    elif command == "check":
        found = problems()
        for line in found:
            print(line)  # noqa: T201
        return 1 if found else 0
    else:
        print(__doc__)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
