"""Write ``schemas/openapi.json``, the OpenAPI 3.1 document of the trade-in service.

Usage::

    python scripts/openapi.py          # regenerate it from the operations and the JSON Schemas
    python scripts/openapi.py --check  # exit 1 if it is stale (the test suite checks this too)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tradein_sdk._remote.openapi import openapi_text  # noqa: E402 - after the path set-up

TARGET = ROOT / "schemas" / "openapi.json"


def main(arguments: list[str]) -> int:
    """Write or check the document."""
    text = openapi_text()
    if arguments == ["--check"]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            sys.stderr.write(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/openapi.py\n")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET.relative_to(ROOT)} ({len(text)} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
