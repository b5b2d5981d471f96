"""``tradein audit``: verify the audit log against its signed checkpoints, export it for an auditor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _actions, _command, _print_json, _trade_in

if TYPE_CHECKING:
    import argparse


def _progress_console(args: argparse.Namespace) -> Any:  # noqa: ANN401 - a rich Console
    """Standard error as a rich console: progress on a terminal (or with ``--progress``), not in a pipe."""
    from rich.console import Console  # noqa: PLC0415 - loaded by its sub-command only

    return Console(stderr=True, force_terminal=True if getattr(args, "progress", False) else None)


def _audit_verify(args: argparse.Namespace) -> int:
    from rich.progress import (  # noqa: PLC0415 - loaded by its sub-command only
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from tradein_sdk._errors import SignatureInvalidError  # noqa: PLC0415 - loaded by its sub-command only

    errors = _progress_console(args)
    trade_in = _trade_in(args, reads=True)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            disable=not errors.is_terminal,
            transient=True,
        ) as bar:
            task = bar.add_task("reading the latest signed checkpoint", total=None)
            latest = trade_in.latest_checkpoint()
            bar.update(task, description="verifying the audit log's hash chain")

            def progress(checked: int, total: int) -> None:  # the library counts the entries it checked
                bar.update(task, completed=checked, total=total)

            if args.no_checkpoint:
                result = trade_in.verify_audit(anchor=(), progress=progress)
            else:
                result = trade_in.checkpoint_audit(adopt=args.adopt, progress=progress)
    except SignatureInvalidError as exc:
        print(f"error [{exc.code}]: the latest audit checkpoint does not verify: {exc}", file=sys.stderr)
        return 1
    finally:
        trade_in.close()
    if args.json:
        _print_json(
            {
                "ok": result.ok,
                "entries_checked": result.entries_checked,
                "problem_count": result.problem_count,
                "checkpoint": None if latest is None else latest.to_json(),
                "problems": [
                    {
                        "kind": problem.kind,
                        "chain": problem.chain,
                        "sequence": problem.sequence,
                        "position": problem.position,
                        "message": problem.message,
                    }
                    for problem in result.problems
                ],
            }
        )
    else:
        for problem in result.problems:
            print(problem)
        verdict = "intact" if result.ok else f"{result.problem_count} problem(s)"
        against = "" if latest is None or args.no_checkpoint else f" against the checkpoint of {latest.at:%c}"
        print(f"audit log: {result.entries_checked} entries checked{against}, {verdict}")
        if result.ok and not args.no_checkpoint:
            print("a new signed checkpoint is kept")
    return 0 if result.ok else 1


def _audit_export(args: argparse.Namespace) -> int:
    trade_in = _trade_in(args, reads=True)
    try:
        written = trade_in.export_audit(Path(args.output), format=args.format)
    finally:
        trade_in.close()
    if args.json:
        _print_json({"written": [str(path) for path in written]})
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0


def _add_audit_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    audit = _command(commands, "audit", "check and export the audit log")
    actions = _actions(audit, "audit_command")
    verify = _command(
        actions,
        "verify",
        "verify the hash chain; report every modified, deleted, inserted or reordered entry",
        handler=_audit_verify,
        description=(
            "Verify the audit log against the latest signed checkpoint and keep a new one. Exit 1 on a "
            "problem. A progress bar shows on standard error when it is a terminal (or with --progress)."
        ),
        json="print JSON",
        data_dir=True,
    )
    verify.add_argument(
        "--no-checkpoint",
        "--no-anchor",
        action="store_true",
        help="verify from the first entry without the latest signed checkpoint, and keep none",
    )
    verify.add_argument(
        "--adopt",
        action="store_true",
        help="check the chain only, not the seals (once, for a log written before entries were sealed)",
    )
    verify.add_argument("--progress", action="store_true", help="show the progress bar even in a pipe")
    export = _command(
        actions,
        "export",
        "write the log, its signed checkpoints and public keys for an auditor (JSON or CSV)",
        handler=_audit_export,
        json="print the files written as JSON",
        data_dir=True,
    )
    export.add_argument(
        "output",
        metavar="OUT",
        help="the file to write (CSV: the checkpoints go beside it, .checkpoints.json)",
    )
    export.add_argument("--format", choices=["json", "csv"], default="json")
