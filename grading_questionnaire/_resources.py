"""Where the distribution's files live: the packages' data and the shared ``schemas/`` and ``locales/``.

Every file is found through :mod:`importlib.resources`, so the library works however it is installed: from a
checkout, an installed wheel, or a zip archive on ``sys.path`` (a zipped application, a frozen bundle). On a
file system the packages' folders are used as they are. Inside an archive the folder is copied once, the first
time it is asked for, into a cache folder keyed by the archive and its modification time (written to a
temporary name and renamed, so processes starting together do not see half a copy); callers always get a
:class:`~pathlib.Path`.

The shared documents sit at the repository's top level in a checkout and travel inside the ``tradein_sdk``
package in a wheel (see ``pyproject.toml``); :func:`shared_dir` finds either.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "TRADEIN_RESOURCE_CACHE"
"""Where files from a zipped installation are copied (default: the system's temporary folder)."""


@cache
def package_dir(package: str, *parts: str) -> Path:
    """Return a folder of a package's files as a real path (copied out of a zip archive when needed).

    Args:
        package: the package (``"tradein_sdk"``, ``"grading_questionnaire"``).
        parts: the folder inside it (``"data"``, ``"definitions"``).

    Raises:
        FileNotFoundError: the package has no such folder.
    """
    folder = files(package).joinpath(*parts)
    if not folder.is_dir():
        raise FileNotFoundError(f"{package} has no folder {'/'.join(parts)!r}")
    if isinstance(folder, Path):
        return folder
    return _copied(folder, package, parts)


def _copied(folder: Traversable, package: str, parts: tuple[str, ...]) -> Path:
    """The cache's copy of a folder inside an archive, made once per archive and version of it."""
    archive = str(getattr(getattr(folder, "root", None), "filename", "") or folder)
    try:
        stamp = str(Path(archive).stat().st_mtime_ns)
    except OSError:
        stamp = ""
    key = hashlib.sha256(f"{archive}\x1f{stamp}".encode()).hexdigest()[:16]
    base = Path(os.environ.get(CACHE_ENV) or tempfile.gettempdir()) / f"tradein-sdk-resources-{key}"
    target = base.joinpath(package, *parts)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".copy-", dir=target.parent))
    _copy_tree(folder, scratch)
    try:
        scratch.rename(target)
    except OSError:  # another process finished first: its copy is the same
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _copy_tree(source: Traversable, target: Path) -> None:
    for item in source.iterdir():
        if item.is_dir():
            (target / item.name).mkdir()
            _copy_tree(item, target / item.name)
        else:
            (target / item.name).write_bytes(item.read_bytes())


@cache
def shared_dir(name: str) -> Path:
    """Return the folder of shared documents called ``name`` (``"schemas"`` or ``"locales"``).

    Args:
        name: the folder's name at the repository's top level.

    Returns:
        The installed copy (inside ``tradein_sdk``) when there is one, else the checkout's.

    Raises:
        FileNotFoundError: neither location exists (a broken installation).
    """
    if files("tradein_sdk").joinpath(name).is_dir():
        return package_dir("tradein_sdk", name)
    if (_CHECKOUT_ROOT / name).is_dir():
        return _CHECKOUT_ROOT / name
    raise FileNotFoundError(f"shared folder {name!r} is missing from the tradein-sdk installation")
