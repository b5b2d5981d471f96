"""``tradein validate``: a document against its schema and the rules beyond it, every problem at once."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradein_sdk._cli._common import _command, _print_json
from tradein_sdk._domain.catalog import read_json_document
from tradein_sdk._errors import DocumentInvalidError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence


VALIDATED_DOCUMENTS: dict[str, str] = {
    "catalog": "catalog",
    "questionnaire": "questionnaire",
    "pricebook": "pricebook",
    "promotions": "promotions",
    "plans": "insurance-plans",
    "co2-factors": "co2-factors",
    "guarantee-plans": "guarantee-plans",
}
"""``tradein validate`` sub-command → the kind of document (its schema's name)."""


_PATH_IN_TEXT = re.compile(r"\$(?:\.[A-Za-z_][\w-]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\])+")


_PATH_STEP = re.compile(r"\.([^.\[]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


Steps = tuple[str | int, ...]


def _problems_function(kind: str) -> Callable[[object], Sequence[Any]]:
    """The domain's check of a kind of document: schema problems first; rules only on a schema-valid one."""
    function: Callable[[object], Sequence[Any]]
    if kind == "catalog":
        from tradein_sdk._domain.catalog import catalog_problems as function  # noqa: PLC0415
    elif kind == "questionnaire":
        from grading_questionnaire._definition import questionnaire_problems as function  # noqa: PLC0415
    elif kind == "pricebook":
        from tradein_sdk._domain.pricing import pricebook_problems as function  # noqa: PLC0415
    elif kind == "promotions":
        from tradein_sdk._domain.promotions import promotions_problems as function  # noqa: PLC0415
    elif kind == "insurance-plans":
        from tradein_sdk._domain.insurance import insurance_plans_problems as function  # noqa: PLC0415
    elif kind == "co2-factors":
        from tradein_sdk._domain.co2 import co2_factors_problems as function  # noqa: PLC0415
    else:
        from tradein_sdk._domain.guarantees import guarantee_plans_problems as function  # noqa: PLC0415
    return function


def _path_steps(path: str) -> Steps | None:
    """A JSON path's steps (``$.models[3]['a b']`` → ``("models", 3, "a b")``); ``None`` if it is not one."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return None
        key, quoted, index = match.groups()
        if index is not None:
            steps.append(int(index))
        elif quoted is not None:
            steps.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            steps.append(key)
        position = match.end()
    return tuple(steps)


def _original_path(path: str, kept: dict[Steps, list[int]]) -> str:
    """Rewrite a path into a pruned document (see :func:`_document_problems`) as a path into the original."""
    steps = _path_steps(path)
    if steps is None:
        return path
    original = _original_steps(steps, kept)
    text = "$"
    for step, (key, quoted, _) in zip(original, _PATH_STEP.findall(path[1:]), strict=True):
        text += f"[{step}]" if isinstance(step, int) else (f"['{quoted}']" if quoted else f".{key}")
    return text


def _original_text(text: str, kept: dict[Steps, list[int]]) -> str:
    """A message with the paths it names (``already used at $.models[7].id``) pointing into the original."""
    return _PATH_IN_TEXT.sub(lambda match: _original_path(match[0], kept), text)


def _original_steps(steps: Sequence[str | int], kept: dict[Steps, list[int]]) -> Steps:
    original: list[str | int] = []
    for step in steps:
        indices = kept.get(tuple(original))
        if isinstance(step, int) and indices is not None and 0 <= step < len(indices):
            original.append(indices[step])
        else:
            original.append(step)
    return tuple(original)


def _pruned(node: object, removed: set[Steps], here: Steps, kept: dict[Steps, list[int]]) -> object:
    """``node`` without the array elements in ``removed``; ``kept``: the indices that stayed, per array."""
    if isinstance(node, list):
        indices = [index for index in range(len(node)) if (*here, index) not in removed]
        kept[here] = indices
        return [_pruned(node[index], removed, (*here, index), kept) for index in indices]
    if isinstance(node, dict):
        return {key: _pruned(value, removed, (*here, key), kept) for key, value in node.items()}
    return node


def _document_problems(kind: str, document: object) -> tuple[list[dict[str, Any]], bool]:
    """Every problem of a decoded document, schema and rules at once, and whether the rules were checked.

    The domain checks its rules only on a document that matches the schema, and some rules only once the
    earlier ones hold. So the array elements with problems are left out (the innermost element around each;
    an element emptied of its only items goes too) and the rest is checked again, until no new problem comes
    up; every path points into the original document. A schema problem outside any array element
    (``$.version``) leaves nothing to leave out: then the rules are not checked.
    """
    from grading_questionnaire._schemas import validator  # noqa: PLC0415 - jsonschema loads with its sub-command

    problems_of = _problems_function(kind)
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    removed: set[Steps] = set()
    rules_checked = False
    while True:
        kept: dict[Steps, list[int]] = {}
        rest = _pruned(document, removed, (), kept)
        errors = list(validator(kind).iter_errors(rest))  # type: ignore[arg-type]  # any decoded JSON value
        stage = "schema" if errors else "rules"
        rules_checked = rules_checked or not errors
        targets: list[Steps] = []
        for problem in problems_of(rest):
            path = _original_path(problem.path, kept)
            steps = _path_steps(path)
            if stage == "schema" and steps is not None and any(steps == item[:-1] for item in removed):
                continue  # an array that leaving elements out shortened: not the document's problem
            if steps is not None and stage == "rules":
                targets.append(steps)
            message = _original_text(problem.message, kept)
            if (path, message) not in seen:
                seen.add((path, message))
                code = getattr(problem, "code", None)
                found.append({"path": path, "message": message, "code": code, "stage": stage})
        targets += [_original_steps(list(error.absolute_path), kept) for error in errors]
        before = len(removed)
        for steps in targets:
            elements = [position for position, step in enumerate(steps) if isinstance(step, int)]
            if not elements and errors:
                return found, rules_checked  # the schema fails outside any element: the rules cannot run
            if elements:
                removed.add(steps[: elements[-1] + 1])
        if len(removed) == before:
            return found, rules_checked


def _validate_command(args: argparse.Namespace) -> int:
    kind = VALIDATED_DOCUMENTS[args.document]
    try:
        document = read_json_document(Path(args.file), kind=kind)
    except DocumentInvalidError as exc:  # not JSON at all: nothing else can be checked
        problems = [
            {"path": problem.path, "message": problem.message, "code": None, "stage": "json"}
            for problem in exc.problems
        ]
        rules_checked = False
    else:
        problems, rules_checked = _document_problems(kind, document)
    if args.json:
        _print_json(
            {
                "file": args.file,
                "kind": kind,
                "valid": not problems,
                "rules_checked": rules_checked,
                "problems": problems,
            }
        )
        return 1 if problems else 0
    if not problems:
        print(f"{args.file}: valid {kind}")
        return 0
    for problem in problems:
        code = f" [{problem['code']}]" if problem["code"] else ""
        print(f"{args.file}: {problem['path']}: {problem['message']}{code}")
    if not rules_checked:
        print(
            f"{args.file}: the rules beyond the schema are checked once the problems above are fixed",
            file=sys.stderr,
        )
    return 1


def _add_validate_commands(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers action
    validate = _command(
        commands,
        "validate",
        "check a document against its schema and rules",
        description=(
            "Check a document against its schema and the rules beyond it, every problem at once with its "
            "JSON path (the rules are checked on the parts that match the schema). Exit 1 when invalid."
        ),
    )
    documents = validate.add_subparsers(dest="document", required=True, metavar="DOCUMENT", title="documents")
    for name, kind in VALIDATED_DOCUMENTS.items():
        command = _command(
            documents,
            name,
            f"validate a {kind} file",
            handler=_validate_command,
            json="print JSON: the problems and whether the rules were checked",
        )
        command.add_argument("file", metavar="FILE")
