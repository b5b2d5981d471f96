"""Signed audit checkpoints kept outside the database: one JSON file per checkpoint in a directory.

What a checkpoint is and how it is verified is :mod:`tradein_sdk._domain.checkpoints`. Keep the directory
where a writer of the database cannot also write (another volume, a synced or versioned folder, an object
store mirrored from it): a checkpoint proves the log only if it outlives an attack on the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

_PREFIX = "audit-checkpoint-"


class DirectoryCheckpoints:
    """Checkpoints as files ``audit-checkpoint-<UTC time>.json`` in ``directory`` (created when needed)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Keep checkpoints in ``directory``."""
        self.directory = Path(directory)

    def add(self, envelope: Mapping[str, Any], *, at: datetime) -> Path:
        """Write a signed checkpoint (atomically: a reader sees the whole file or none) and return its path.

        Raises:
            ConfigurationError: the directory cannot be written.
        """
        name = f"{_PREFIX}{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"
        target = self.directory / name
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(envelope, file, ensure_ascii=False, sort_keys=True)
                Path(temporary).replace(target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    Path(temporary).unlink()
        except OSError as exc:
            raise ConfigurationError(
                "cannot write the audit checkpoint to {directory}: {reason}",
                directory=str(self.directory),
                reason=exc.strerror or type(exc).__name__,
            ) from exc
        return target

    def paths(self) -> list[Path]:
        """Every checkpoint file, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(path for path in self.directory.glob(f"{_PREFIX}*.json") if path.is_file())

    def latest(self) -> str | None:
        """The newest checkpoint's text, unverified (``None`` when there is none yet).

        Raises:
            ConfigurationError: the file cannot be read.
        """
        paths = self.paths()
        return _read(paths[-1]) if paths else None

    def all(self) -> list[str]:
        """Every checkpoint's text, unverified, oldest first.

        Raises:
            ConfigurationError: a file cannot be read.
        """
        return [_read(path) for path in self.paths()]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError("cannot read the audit checkpoint {path}", path=str(path)) from exc
