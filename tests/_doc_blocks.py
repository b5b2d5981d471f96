"""The ```python blocks of README.md and docs/**/*.md: found once here, run the same way everywhere.

``tests/test_docs.py`` runs the docs' blocks in the test process; ``tests/test_packaging.py`` copies this file
into a fresh virtual environment that has only the built wheel and runs every block there with
``python -I run_blocks.py BLOCKS.json`` (so the module imports nothing but the standard library).

A block whose first line is ``# not run: <reason>`` is skipped with that reason (kept for examples that need
a real external service). Each block runs on a clean environment (no ``TRADEIN_*`` variables, its own
``XDG_DATA_HOME``) in a scratch folder that is also the default of :mod:`tempfile`, with blank lines before
its code so that a traceback names the line of the page.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import textwrap
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import CodeType

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
NOT_RUN = "# not run:"
"""The first line of an example that needs a real external service, followed by the reason."""
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```python(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.MULTILINE | re.DOTALL
)


class Example(NamedTuple):
    """A ```python block of a page: where it starts and its code."""

    page: str
    line: int
    code: str

    @property
    def id(self) -> str:
        """``page:line``, as tests and failures name the block."""
        return f"{self.page}:{self.line}"

    @property
    def not_run(self) -> str | None:
        """Why the block is not run (the text after ``# not run:``), or ``None`` when it runs."""
        first = self.code.split("\n", 1)[0]
        return first.removeprefix(NOT_RUN).strip() if first.startswith(NOT_RUN) else None

    def compiled(self) -> CodeType:
        """The block compiled under the page's name, its lines numbered as on the page."""
        return compile("\n" * (self.line - 1) + self.code, self.page, "exec")


def python_blocks(path: Path) -> list[Example]:
    """Every ```python block of one Markdown file, dedented when it sits in an admonition or a tab."""
    text = path.read_text(encoding="utf-8")
    page = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    return [
        Example(page, text.count("\n", 0, match.start("body")) + 1, textwrap.dedent(match["body"]))
        for match in FENCE.finditer(text)
    ]


def docs_examples() -> list[Example]:
    """Every ```python block of docs/**/*.md, page by page."""
    return [example for path in sorted(DOCS.rglob("*.md")) for example in python_blocks(path)]


def readme_examples() -> list[Example]:
    """Every ```python block of README.md."""
    return python_blocks(README)


@contextlib.contextmanager
def scratch_environment(folder: Path) -> Iterator[None]:
    """Run a block in ``folder`` (its data and temporary files too), without ``TRADEIN_*`` variables."""
    folder.mkdir(parents=True, exist_ok=True)
    saved_environ = dict(os.environ)
    saved_tempdir = tempfile.tempdir
    saved_cwd = Path.cwd()
    for name in list(os.environ):
        if name.startswith("TRADEIN_"):
            del os.environ[name]
    os.environ["XDG_DATA_HOME"] = str(folder / "data")
    tempfile.tempdir = str(folder)  # the examples' mkdtemp() folders go with the block
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        tempfile.tempdir = saved_tempdir
        os.environ.clear()
        os.environ.update(saved_environ)


def run_examples(examples: list[Example], scratch: Path) -> dict[str, str]:
    """Run each block (its output swallowed) in a folder of its own below ``scratch``; returns the failures.

    Returns:
        For each block that raised, its ``page:line`` and the traceback; skipped blocks are not run.
    """
    failures: dict[str, str] = {}
    for number, example in enumerate(examples):
        if example.not_run is not None:
            continue
        output = io.StringIO()
        with (
            scratch_environment(scratch / f"block-{number}"),
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
        ):
            try:
                exec(example.compiled(), {"__name__": "__docs__"})  # noqa: S102 - the docs' own examples
            except BaseException:  # noqa: BLE001 - every failure is reported with the block that made it
                failures[example.id] = traceback.format_exc() + output.getvalue()[-2000:]
    return failures


def dump(examples: list[Example], path: Path) -> None:
    """Write ``examples`` to a JSON file for :func:`main`."""
    path.write_text(json.dumps([example._asdict() for example in examples]), encoding="utf-8")


def main(argv: list[str]) -> int:
    """``run_blocks.py BLOCKS.json``: run the blocks in a scratch folder, print the failures as JSON.

    Returns:
        The exit code: 0 when every block ran, 1 when one failed.
    """
    examples = [Example(**item) for item in json.loads(Path(argv[0]).read_text(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as scratch:
        failures = run_examples(examples, Path(scratch))
    print(json.dumps(failures))  # noqa: T201 - the report read by the packaging test
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
