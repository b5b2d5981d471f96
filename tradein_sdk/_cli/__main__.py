"""``python -m tradein_sdk._cli``: the ``tradein`` command (``python -m tradein_sdk`` is the same)."""

import sys

from tradein_sdk._cli import main

if __name__ == "__main__":  # pragma: no cover - run as a module
    sys.exit(main())
