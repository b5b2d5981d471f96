"""Build hook of the shop's wheel: compile its gettext catalogs (``translations/``) and ship them.

Flask-Babel reads ``translations/<lang>/LC_MESSAGES/messages.mo`` beside the package. The ``.po`` sources are
committed and the ``.mo`` files are build products (ignored by git), so each ``.po`` is compiled here,
beside its source; ``pyproject.toml`` lists the ``.mo`` files as artifacts, so the wheel carries them (and
any shipped without a ``.po``) under ``tradein_demo_shop/translations/``. A shop without catalogs builds as
well. Not a module of the shop: the wheel leaves this file out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogs(translations: Path) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` below ``translations`` to a ``.mo`` file beside it.

    Returns:
        The paths of the ``.mo`` files written, sorted.
    """
    written: list[Path] = []
    for po_path in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the shop's catalogs before its wheel is assembled."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:  # noqa: ARG002 - hatchling's signature
        """Compile the catalogs (the wheel's file selection then picks the ``.mo`` files up)."""
        if self.target_name == "wheel":
            compile_catalogs(Path(self.root) / "translations")
