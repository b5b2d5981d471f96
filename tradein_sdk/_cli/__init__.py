"""The ``tradein`` command.

One shape throughout: ``tradein COMMAND [ACTION] ARGUMENTS [OPTIONS]``, each command and action with its own
``--help``; ``--json`` on every command that prints results; ``--locale``, else ``$TRADEIN_LOCALE``, else
``en`` wherever texts are rendered. Heavy modules load inside the sub-command handlers only.

Exit status: 0 on success; 1 when a document is invalid, a check fails or a command fails with a library
error (one line ``error [code]: message`` on standard error, never a traceback); 2 for a usage error
(``error [usage]: ...``); 130 when interrupted; 141 when the reader of standard output went away (``| head``).

Each command group is a module of this package (``quote``, ``orders``, ``fleet``, ...): its handlers and the
function adding its sub-commands to the parser; ``_common`` holds what they share (the locale rule, JSON
output, usage errors, files, the facade), ``_signed`` the offline check of signed documents.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from tradein_sdk._cli._common import BROKEN_PIPE_STATUS, INTERRUPTED_STATUS, USAGE_STATUS, UsageError, _Parser
from tradein_sdk._cli.audit import _add_audit_commands
from tradein_sdk._cli.catalog import _add_catalog_commands
from tradein_sdk._cli.certificate import _add_certificate_commands
from tradein_sdk._cli.co2 import _add_co2_commands
from tradein_sdk._cli.completion import _add_completion_command
from tradein_sdk._cli.fleet import _add_fleet_commands
from tradein_sdk._cli.grading import _add_grading_commands
from tradein_sdk._cli.guarantees import _add_guarantee_commands
from tradein_sdk._cli.ledger import _add_ledger_commands
from tradein_sdk._cli.offers import _add_offers_command
from tradein_sdk._cli.operations import _add_operator_commands
from tradein_sdk._cli.orders import _add_order_commands
from tradein_sdk._cli.quote import _add_quote_commands
from tradein_sdk._cli.serve import _add_serve_commands
from tradein_sdk._cli.validate import _add_validate_commands
from tradein_sdk._errors import TradeInError
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``tradein`` command."""
    parser = _Parser(
        prog="tradein",
        description="Device trade-in tools. Each command has its own --help.",
        epilog=(
            "Exit status: 0 success, 1 failure (error [code]: message on standard error), 2 usage error. "
            "Locale: --locale, else $TRADEIN_LOCALE, else en."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tradein-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    _add_catalog_commands(commands)
    _add_grading_commands(commands)
    _add_quote_commands(commands)
    _add_offers_command(commands)
    _add_order_commands(commands)
    _add_ledger_commands(commands)
    _add_audit_commands(commands)
    _add_certificate_commands(commands)
    _add_co2_commands(commands)
    _add_fleet_commands(commands)
    _add_guarantee_commands(commands)
    _add_validate_commands(commands)
    _add_operator_commands(commands)
    _add_serve_commands(commands)
    _add_completion_command(commands)
    return parser


QUOTE_ACTIONS = frozenset({"create", "verify", "show", "redeem", "-h", "--help"})


def _with_aliases(arguments: list[str]) -> list[str]:
    """Earlier spellings kept working: ``quote DEVICE_ID --answers FILE`` means ``quote create ...``.

    Only a line with ``--answers`` is taken for the earlier spelling: a mistyped action stays an error.
    """
    old = arguments[:1] == ["quote"] and arguments[1:2] and arguments[1] not in QUOTE_ACTIONS
    if old and not arguments[1].startswith("-") and any(a.split("=")[0] == "--answers" for a in arguments):
        return ["quote", "create", *arguments[1:]]
    return arguments


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _quiet_stdout() -> None:
    """After a broken pipe: point standard output at /dev/null so that the exit's flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (captured in tests): nothing will be flushed to a pipe
        pass


def _parse(arguments: Sequence[str]) -> argparse.Namespace:
    args, extra = build_parser().parse_known_args(arguments)
    if extra:  # named with the command they were given to, not with `tradein`
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}", prog=args.command_prog)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tradein`` command with ``argv`` (default: the process arguments) and return its status."""
    arguments = _with_aliases(list(sys.argv[1:] if argv is None else argv))
    prog = "tradein"
    try:
        try:
            args = _parse(arguments)
        except SystemExit as exc:  # --help and --version
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else 0
        prog = args.command_prog
        handler: Callable[[argparse.Namespace], int] = args.handler
        status = handler(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return status  # noqa: TRY300 - the flush belongs inside the try
    except UsageError as exc:
        where = exc.prog or prog
        print(f"error [{exc.code}]: {where}: {_one_line(str(exc))} (see {where} --help)", file=sys.stderr)
        return USAGE_STATUS
    except TradeInError as exc:
        print(f"error [{exc.code}]: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE_STATUS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
