"""Write ``schemas/openapi.json``, the OpenAPI 3.1 document of the trade-in service.

Usage::

    python scripts/openapi.py              # regenerate it from the operations and the JSON Schemas
    python scripts/openapi.py --check      # exit 1 if it is stale (the test suite checks this too)
    python scripts/openapi.py -o api.json  # write it elsewhere (-o - prints it)

``tradein openapi`` prints the same document from an installed package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "schemas" / "openapi.json"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def parser() -> argparse.ArgumentParser:
    """The script's arguments."""
    arguments = argparse.ArgumentParser(
        prog="scripts/openapi.py",
        description="Write the OpenAPI 3.1 document of the trade-in service (default: schemas/openapi.json).",
    )
    arguments.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the file differs from the document the code describes",
    )
    arguments.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=Path,
        default=TARGET,
        help="the file to write or check (default: schemas/openapi.json; - prints it)",
    )
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Write, print or check the document."""
    options = parser().parse_args(argv)  # --help prints the usage and exits before anything is written
    sys.path.insert(0, str(ROOT))
    from tradein_sdk._remote.openapi import openapi_text  # noqa: PLC0415 - after the path set-up

    text = openapi_text()
    target: Path = options.output
    if str(target) == "-":
        sys.stdout.write(text)
        return 0
    if options.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            sys.stderr.write(f"{_shown(target)} is stale: run python scripts/openapi.py\n")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {_shown(target)} ({len(text)} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
