"""``python -m tradein_sdk``: the ``tradein`` command, for an environment without its script on the PATH."""

import sys

from tradein_sdk._cli import main

if __name__ == "__main__":
    sys.exit(main())
