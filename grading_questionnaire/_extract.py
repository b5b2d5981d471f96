"""A Babel extractor for questionnaire definitions: their texts become msgids in the template.

Register it in ``babel.cfg`` (a shop does the same for its own questionnaire files)::

    [extractors]
    questionnaire = grading_questionnaire:extract_questionnaire_messages

    [questionnaire: grading_questionnaire/definitions/*.json]

Every translatable field is extracted (title, description, section titles, question texts and help,
option labels and help, rule messages, pricing-grade labels and descriptions), each with a comment
that tells translators where it appears.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

Extracted = tuple[int, str | None, str, list[str]]
"""What a Babel extractor yields: line number, function name, message, comments."""

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
    from typing import IO


def extract_questionnaire_messages(
    fileobj: IO[bytes],
    keywords: Collection[str],  # noqa: ARG001 - part of Babel's extractor interface
    comment_tags: Collection[str],  # noqa: ARG001 - idem
    options: Mapping[str, Any],  # noqa: ARG001 - idem
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield the translatable texts of a questionnaire definition, for Babel.

    Args:
        fileobj: the definition file, opened in binary mode.
        keywords: unused (the texts are found by their place in the document).
        comment_tags: unused.
        options: unused.

    Yields:
        ``(line number, None, message, [translator comment])`` for each text, in document order.
        A file that is not a JSON object yields nothing (``validate`` reports it).
    """
    return extract_json_messages(fileobj, _texts)


def json_extractor(
    texts: Callable[[Mapping[str, Any]], Iterable[tuple[str, str]]], summary: str
) -> Callable[[IO[bytes], Collection[str], Collection[str], Mapping[str, Any]], Iterator[Extracted]]:
    """Make a Babel extractor (``fileobj, keywords, comment_tags, options``) for JSON documents.

    Args:
        texts: yields each translatable text of the decoded document with a translator comment.
        summary: the extractor's docstring (what it extracts).

    Returns:
        The extractor function, to register in ``babel.cfg``'s ``[extractors]`` section.
    """

    def extract(
        fileobj: IO[bytes],
        keywords: Collection[str],  # noqa: ARG001 - part of Babel's extractor interface
        comment_tags: Collection[str],  # noqa: ARG001 - idem
        options: Mapping[str, Any],  # noqa: ARG001 - idem
    ) -> Iterator[Extracted]:
        return extract_json_messages(fileobj, texts)

    extract.__doc__ = summary
    return extract


def extract_json_messages(
    fileobj: IO[bytes], texts: Callable[[Mapping[str, Any]], Iterable[tuple[str, str]]]
) -> Iterator[Extracted]:
    """Run a Babel extraction over a JSON document: ``texts`` picks the (message, comment) pairs.

    Args:
        fileobj: the JSON file, opened in binary mode.
        texts: yields each translatable text of the decoded document with a translator comment.

    Yields:
        ``(line number, None, message, [comment])``; a file that is not a JSON object yields nothing.
    """
    text = fileobj.read().decode("utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return
    if not isinstance(document, dict):
        return
    for message, comment in texts(document):
        yield _line_of(text, message), None, message, [comment]


def _line_of(text: str, message: str) -> int:
    offset = text.find(json.dumps(message, ensure_ascii=False))
    if offset < 0:  # written with escapes in the file
        offset = text.find(json.dumps(message))
    return text.count("\n", 0, max(offset, 0)) + 1


def _texts(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    def field(item: Mapping[str, Any], name: str, comment: str) -> Iterator[tuple[str, str]]:
        value = item.get(name)
        if isinstance(value, str) and value:
            yield value, comment

    def items(item: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        value = item.get(name)
        return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []

    name = document.get("id", "questionnaire")
    yield from field(document, "title", f"Title of questionnaire {name}")
    yield from field(document, "description", f"Introduction of questionnaire {name}")
    for section in items(document, "sections"):
        yield from field(section, "title", f"Section title {section.get('id')}")
        for question in items(section, "questions"):
            qid = question.get("id")
            yield from field(question, "text", f"Question {qid}")
            yield from field(question, "help", f"Help of question {qid}")
            for option in items(question, "options"):
                yield from field(option, "label", f"Answer option {option.get('id')} of question {qid}")
                yield from field(option, "help", f"Help of option {option.get('id')} of question {qid}")
    grading = document.get("grading")
    if isinstance(grading, dict):
        for rule in items(grading, "rules"):
            yield from field(rule, "message", f"Finding {rule.get('id')}, shown with a condition report")
        for grade in items(grading, "pricing_grades"):
            yield from field(grade, "label", f"Pricing grade {grade.get('id')}")
            yield from field(grade, "description", f"Description of pricing grade {grade.get('id')}")
