"""Build hook: compile the gettext catalogs in ``locales/`` and ship them in the wheel.

The ``.po`` sources are committed; the ``.mo`` files are build products. For an editable install they are
compiled in place (``locales/<lang>/LC_MESSAGES/*.mo``, ignored by git) so a checkout translates like an
installed wheel; for a wheel they are also mapped to ``tradein_sdk/locales/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogs(locales_dir: Path) -> list[Path]:
    """Compile every ``.po`` file below ``locales_dir`` to a ``.mo`` file beside it.

    Args:
        locales_dir: the folder holding ``<lang>/LC_MESSAGES/<domain>.po``.

    Returns:
        The paths of the ``.mo`` files written, sorted.
    """
    written: list[Path] = []
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the gettext catalogs before the wheel is assembled."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the catalogs and, for a regular wheel, include them under ``tradein_sdk/locales``."""
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        for mo_path in compile_catalogs(root / "locales"):
            if version != "editable":
                relative = mo_path.relative_to(root / "locales").as_posix()
                build_data["force_include"][str(mo_path)] = f"tradein_sdk/locales/{relative}"
