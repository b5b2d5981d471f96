"""The CLI's shared parts: the locale rule, JSON output, usage errors, files, the facade, parser helpers."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tradein_sdk._domain.catalog import Catalog, read_json_document
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from tradein_sdk._app.facade import TradeIn
    from tradein_sdk._domain.signing import SigningKeys
    from tradein_sdk._domain.tokens import KeyRing


LOCALE_ENV = "TRADEIN_LOCALE"
"""The locale of every command that renders texts, when ``--locale`` is not given (else ``en``)."""
DEFAULT_LOCALE = "en"
USAGE_STATUS = 2
INTERRUPTED_STATUS = 130
BROKEN_PIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


class UsageError(Exception):
    """A command line that does not fit the command: ``error [usage]: ...``, exit status 2."""

    code = "usage"

    def __init__(self, message: str, *, prog: str | None = None) -> None:
        """Create the error; ``prog`` is the command it is about (``tradein quote create``), when known."""
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``error [usage]: ...`` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Raise the CLI's one-line usage error (:func:`main` prints it and returns status 2)."""
        raise UsageError(message, prog=self.prog)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _locale(args: argparse.Namespace) -> str:
    """The locale of the texts a command renders: ``--locale``, else ``$TRADEIN_LOCALE``, else ``en``."""
    return getattr(args, "locale", None) or os.environ.get(LOCALE_ENV, "").strip() or DEFAULT_LOCALE


def _day(text: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD."""
    from datetime import date  # noqa: PLC0415 - loaded by its sub-command only

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _data_dir(args: argparse.Namespace) -> Path:
    from tradein_sdk._app.facade import default_data_dir  # noqa: PLC0415 - loaded by its sub-command only

    return Path(args.data_dir) if getattr(args, "data_dir", None) else default_data_dir()


def _require_stored_data(args: argparse.Namespace) -> None:
    """Refuse a command that reads stored data where none was ever stored: it creates nothing there."""
    from tradein_sdk._app.facade import DATABASE_URL_ENV  # noqa: PLC0415 - loaded by its sub-command only

    if os.environ.get(DATABASE_URL_ENV):
        return
    directory = _data_dir(args)
    if not (directory / "tradein.sqlite3").is_file():
        raise ConfigurationError(
            "no trade-in data in {path}: nothing was stored there (give --data-dir DIR or set "
            "$TRADEIN_DATA_DIR to where the trade-ins are kept)",
            path=str(directory),
        )


def _trade_in(args: argparse.Namespace, *, reads: bool = False, key_ring: KeyRing | None = None) -> TradeIn:
    """The embedded facade on ``--data-dir``; ``reads``: the command only reads what is stored there.

    A reading command refuses a data directory that holds no database rather than create one, and opens
    its keys read-only (:meth:`SigningKeys.configured` and :meth:`KeyRing.configured` with
    ``create=False``): keys that are not there are said, and where, never made. ``key_ring``: the quote
    keys, when the command opened them already.
    """
    from tradein_sdk._app.facade import TradeIn  # noqa: PLC0415 - loaded by its sub-command only

    market, locale = getattr(args, "market", None) or "DE", _locale(args)
    if not reads:
        return TradeIn.embedded(args.data_dir, market=market, locale=locale)
    _require_stored_data(args)
    return TradeIn.embedded(
        args.data_dir,
        market=market,
        locale=locale,
        signing_keys=_signing_keys(args),
        key_ring=key_ring or _quote_keys(args),
    )


def _signing_keys(args: argparse.Namespace) -> SigningKeys:
    """The installation's signing keys, opened read-only: ``$TRADEIN_SIGNING_KEYS``, else --data-dir's."""
    from tradein_sdk._domain.signing import SigningKeys  # noqa: PLC0415 - cryptography loads with its sub-command

    return SigningKeys.configured(_data_dir(args) / "signing-keys.json", create=False)


def _quote_keys(args: argparse.Namespace) -> KeyRing:
    """The quote keys, opened read-only: ``$TRADEIN_QUOTE_KEYS``, else --data-dir's ``quote-keys.json``."""
    from tradein_sdk._domain.tokens import KeyRing  # noqa: PLC0415 - loaded by its sub-command only

    return KeyRing.configured(_data_dir(args) / "quote-keys.json", create=False)


def _catalog(args: argparse.Namespace) -> Catalog:
    catalog = None if args.without_bundled else Catalog.bundled()
    for path in args.catalog:
        layer = Catalog.from_file(path)
        catalog = layer if catalog is None else catalog.extended_with(layer)
    if catalog is None:
        raise UsageError("--without-bundled needs at least one --catalog FILE")
    return catalog


def _read_json_file(path: str, kind: str) -> object:
    return read_json_document(Path(path), kind=kind)


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            "cannot read {path}: {reason}", path=path, reason=exc.strerror or str(exc)
        ) from exc


def _write_file(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise ConfigurationError(
            "cannot write {path}: {reason}", path=str(path), reason=exc.strerror or str(exc)
        ) from exc


def _write_output(content: bytes, output: str | None, *, binary: bool) -> int:
    """Write a file's bytes to ``output``, or to standard output (refused for a binary to a terminal)."""
    if output and output != "-":
        _write_file(Path(output), content)
        print(output, file=sys.stderr)
        return 0
    if binary and sys.stdout.isatty():
        raise UsageError("a binary file is not written to a terminal: give --output FILE")
    sys.stdout.buffer.write(content)
    sys.stdout.flush()
    return 0


# -- parser helpers -----------------------------------------------------------------------------------------


def _actions(parser: argparse.ArgumentParser, dest: str) -> Any:  # noqa: ANN401 - argparse's subparsers action
    return parser.add_subparsers(dest=dest, required=True, metavar="ACTION", title="actions")


def _command(
    group: Any,  # noqa: ANN401 - argparse's subparsers action
    name: str,
    help_text: str,
    *,
    handler: Callable[[argparse.Namespace], int] | None = None,
    description: str | None = None,
    json: str | None = None,
    data_dir: bool = False,
    locale: str | None = None,
) -> argparse.ArgumentParser:
    """Add a command or action with its own help; ``json``: the help of its ``--json`` option, if any."""
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=help_text, description=description or help_text[:1].upper() + help_text[1:] + "."
    )
    if handler is not None:
        parser.set_defaults(handler=handler, command_prog=parser.prog)
    if json is not None:
        parser.add_argument("--json", action="store_true", help=json)
    if locale is not None:
        parser.add_argument(
            "--locale",
            metavar="LOCALE",
            help=f"the language of {locale}, e.g. de_DE (default: ${LOCALE_ENV}, else {DEFAULT_LOCALE})",
        )
    if data_dir:
        _add_data_dir(parser)
    return parser


def _json_format(parser: argparse.ArgumentParser) -> None:
    """``--json``: the same as ``--format json``, for a command whose output has several formats."""
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help="print JSON (as --format json)"
    )


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="where the database and keys live (default $TRADEIN_DATA_DIR or ~/.local/share/tradein)",
    )


def _add_catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="a shop catalog laid over the bundled one (may be repeated)",
    )
    parser.add_argument(
        "--without-bundled",
        action="store_true",
        help="use only the --catalog files, not the bundled reference catalog",
    )


VERIFICATIONS = ("self_declared", "staff_verified", "measured")
