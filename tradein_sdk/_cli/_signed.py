"""Signed documents checked offline: the issuer's keys, the verdict, and the ``verify FILE`` sub-command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _command, _print_json, _read_bytes, _signing_keys
from tradein_sdk._errors import ConfigurationError, DocumentInvalidError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping

    from tradein_sdk._domain.signing import PublicKeys


def _certificate_keys(args: argparse.Namespace) -> PublicKeys:
    """The published keys: ``--keys``, else the installation's ring, opened read-only (never created)."""
    from tradein_sdk._domain.signing import PublicKeys  # noqa: PLC0415 - loaded by its sub-command only

    if getattr(args, "keys", None):
        try:
            return PublicKeys.from_jwks(_read_bytes(args.keys))
        except DocumentInvalidError as exc:
            raise DocumentInvalidError(kind=exc.kind, source=args.keys, problems=exc.problems) from exc
    try:
        return _signing_keys(args).public_keys()
    except ConfigurationError as exc:  # whatever is wrong with this installation's keys, the issuer's will do
        raise ConfigurationError(
            "{problem}; pass --keys JWKS_FILE with the issuer's published keys", problem=str(exc)
        ) from exc


def _invalid_document(args: argparse.Namespace, reason: str, detail: str) -> int:
    """A signed document that does not verify: exit status 1, the reason on standard output."""
    if args.json:
        _print_json({"file": args.file, "valid": False, "reason": reason, "detail": detail})
    else:
        print(f"{args.file}: invalid ({reason}): {detail}")
    return 1


def _verified(
    args: argparse.Namespace, document: Mapping[str, Any] | str | bytes, purpose: str
) -> dict[str, Any] | int:
    """A signed document's payload checked against the issuer's keys, or the exit status of an invalid one."""
    from tradein_sdk._domain.signing import verify_document  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    try:
        payload: dict[str, Any] = verify_document(document, _certificate_keys(args), purpose=purpose)
    except SignatureInvalidError as exc:
        return _invalid_document(args, exc.reason, exc.detail)
    return payload


def _valid_document(args: argparse.Namespace, payload: object, text: str) -> int:
    if args.json:
        _print_json({"file": args.file, "valid": True, "payload": payload})
    else:
        print(f"{args.file}: {text}")
    return 0


def _add_verify_command(actions: Any, help_text: str, handler: Callable[[argparse.Namespace], int]) -> None:  # noqa: ANN401 - argparse's subparsers action
    """The ``verify FILE [--keys JWKS_FILE]`` sub-command of a signed document kind."""
    verify = _command(actions, "verify", help_text, handler=handler, json="print JSON", data_dir=True)
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--keys", metavar="JWKS_FILE", help="the issuer's published keys (default: --data-dir's)"
    )
