"""Files that hold secrets (signing keys): written whole, readable by their owner only, never clobbered."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from tradein_sdk._errors import ConfigurationError


def write_private_temporary(file: Path, document: object) -> str:
    """Write ``document`` as JSON to a new temporary file (mode 0600) beside ``file``; return its path.

    The parent directory is created (mode 0700) when missing; the data is on disk (fsync) when this returns.
    """
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:  # mkstemp opens it with mode 0600
        json.dump(document, stream, indent=2)
        stream.write("\n")
        stream.flush()
        os.fsync(stream.fileno())
    return temporary


def create_private_file(file: Path, document: object, *, what: str) -> None:
    """Create ``file`` holding ``document`` (mode 0600) unless it exists: a file another process made wins.

    Args:
        file: the file to create.
        document: the JSON document to write.
        what: what the file is, for the error message (``key file``).

    Raises:
        ConfigurationError: the file cannot be created.
    """
    temporary = None
    try:
        temporary = write_private_temporary(file, document)
        try:
            file.hardlink_to(temporary)  # never replaces a file another process created meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: replace atomically instead
            Path(temporary).replace(file)
            temporary = None
    except OSError as exc:
        raise ConfigurationError(
            "{what} {path}: cannot be created ({reason})",
            what=what,
            path=str(file),
            reason=exc.strerror or type(exc).__name__,
        ) from exc
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                Path(temporary).unlink()
