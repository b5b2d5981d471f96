"""``tradein certificate``: data erasure certificates verified offline, the published keys, a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _actions, _command, _locale, _print_json, _read_bytes, _write_file
from tradein_sdk._cli._signed import _certificate_keys
from tradein_sdk._errors import ConfigurationError, DocumentInvalidError, DocumentProblem

if TYPE_CHECKING:
    import argparse

    from tradein_sdk._domain.erasure import CertificateCheck


def _check_certificate(args: argparse.Namespace) -> CertificateCheck:
    from tradein_sdk._domain.erasure import (  # noqa: PLC0415 - loaded by its sub-command only
        verify_certificate,
        verify_revocations,
    )
    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    keys = _certificate_keys(args)
    revocations = None
    if args.revocations:
        try:
            revocations = verify_revocations(_read_bytes(args.revocations), keys)
        except (SignatureInvalidError, DocumentInvalidError) as exc:
            raise ConfigurationError(
                "the revocation list {path} cannot be used: {problem}",
                path=args.revocations,
                problem=str(exc),
            ) from exc
    return verify_certificate(_read_bytes(args.file), keys, revocations=revocations)


def _certificate_verify(args: argparse.Namespace) -> int:
    check = _check_certificate(args)
    certificate = check.certificate
    if args.json:
        _print_json(
            {
                "file": args.file,
                "status": check.status.value,
                "certificate_id": None if certificate is None else certificate.id,
                "kid": check.kid,
                "reason": check.reason,
                "revocations_checked": args.revocations is not None,
                "revocation": None if check.revocation is None else check.revocation.to_json(),
                "problems": [
                    {"path": problem.path, "message": problem.message} for problem in check.problems
                ],
            }
        )
        return 0 if check.ok else 1
    if check.ok and certificate is not None:
        print(
            f"{args.file}: valid erasure certificate {certificate.id} for {certificate.order_id} / "
            f"{certificate.device_id} ({certificate.device.manufacturer} {certificate.device.model}), "
            f"issued by {certificate.issuer}, signed with key {check.kid}"
        )
        if args.revocations is None:
            print("revocation not checked: pass --revocations FILE with the issuer's latest revocation list")
        return 0
    if check.revocation is not None:
        revocation = check.revocation
        print(
            f"{args.file}: revoked: certificate {revocation.certificate_id} was revoked at "
            f"{revocation.revoked_at:%Y-%m-%dT%H:%M:%SZ} ({revocation.reason.value})"
        )
        return 1
    print(f"{args.file}: invalid ({check.reason})")
    for problem in check.problems:
        print(f"  {problem.path}: {problem.message}")
    return 1


def _certificate_keys_command(args: argparse.Namespace) -> int:
    _print_json(_certificate_keys(args).to_jwks())
    return 0


def _certificate_pdf_command(args: argparse.Namespace) -> int:
    from tradein_sdk._adapters.pdf import certificate_pdf  # noqa: PLC0415 - loaded by its sub-command only
    from tradein_sdk._domain.signing import loads_strict  # noqa: PLC0415 - loaded by its sub-command only

    if not args.no_verify:
        check = _check_certificate(args)
        if not check.ok:
            reason = check.reason or check.status.value
            details = "; ".join(f"{problem.path}: {problem.message}" for problem in check.problems)
            print(f"{args.file}: not rendered, the certificate is {check.status.value} ({reason}): {details}")
            return 1
    try:
        envelope = loads_strict(_read_bytes(args.file))
    except ValueError as exc:
        raise DocumentInvalidError(
            kind="erasure-certificate",
            source=args.file,
            problems=[DocumentProblem(path="$", message=str(exc))],
        ) from exc
    output = Path(args.output) if args.output else Path(args.file).with_suffix(".pdf")
    _write_file(output, certificate_pdf(envelope, locale=_locale(args)))
    if args.json:
        _print_json({"written": str(output)})
        return 0
    print(f"wrote {output}")
    return 0


def _add_certificate_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    certificate = _command(
        commands,
        "certificate",
        "data erasure certificates: verify offline, print the published keys, render a PDF",
        description=(
            "A certificate file is the signed JSON document the shop issues (its QR code holds the same). "
            "verify checks it offline with the issuer's published keys (--keys, or this installation's "
            "keys in --data-dir) and, with --revocations, against the signed revocation list."
        ),
    )
    actions = _actions(certificate, "certificate_command")

    def add_key_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--keys",
            metavar="JWKS_FILE",
            help="the issuer's published keys (JWKS); default: this installation's keys in --data-dir",
        )
        parser.add_argument(
            "--revocations", metavar="FILE", help="the issuer's signed revocation list, to check revocation"
        )

    verify = _command(
        actions,
        "verify",
        "verify a certificate file offline: exit 0 only when it is valid",
        handler=_certificate_verify,
        description=(
            "Prints valid, revoked or invalid with the reason (malformed, wrong_purpose, unknown_kid, "
            "bad_signature, content) and every problem with its JSON path. Exit status 0 only when valid. "
            "Never creates a key file: without --keys, the installation's key file must exist."
        ),
        json="print the outcome as JSON",
        data_dir=True,
    )
    verify.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    add_key_options(verify)
    _command(
        actions,
        "keys",
        "print this installation's published keys (JWKS) for verifiers",
        handler=_certificate_keys_command,
        json="print JSON (it always is)",
        data_dir=True,
    )
    pdf = _command(
        actions,
        "pdf",
        "render a certificate file as an A4 PDF for the customer, with a QR code",
        handler=_certificate_pdf_command,
        description="Verifies the certificate first (as verify does) unless --no-verify.",
        json="print the file written as JSON",
        data_dir=True,
        locale="the PDF (de, en, es, fr, it)",
    )
    pdf.add_argument("file", metavar="FILE", help="the signed certificate (JSON)")
    pdf.add_argument("--output", "-o", metavar="OUT", help="the PDF to write (default: FILE with .pdf)")
    pdf.add_argument("--no-verify", action="store_true", help="render without verifying the certificate")
    add_key_options(pdf)
