"""Where the shared documents live: ``schemas/`` and ``locales/``.

In a checkout they sit at the repository's top level; in an installed wheel they travel inside the
``tradein_sdk`` folder (see ``pyproject.toml``). Both packages of the distribution find them through
:func:`shared_dir`, so there is one rule for the whole library.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DISTRIBUTION_ROOT = Path(__file__).resolve().parent.parent


@cache
def shared_dir(name: str) -> Path:
    """Return the folder of shared documents called ``name`` (``"schemas"`` or ``"locales"``).

    Args:
        name: the folder's name at the repository's top level.

    Returns:
        The installed copy (``<site-packages>/tradein_sdk/<name>``) when it exists, else the checkout's.

    Raises:
        FileNotFoundError: neither location exists (a broken installation).
    """
    for candidate in (_DISTRIBUTION_ROOT / "tradein_sdk" / name, _DISTRIBUTION_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shared folder {name!r} is missing from the tradein-sdk installation")
