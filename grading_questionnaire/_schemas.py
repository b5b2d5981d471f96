"""JSON Schema validation for every document of the library, with JSON paths in each problem.

All schemas in ``schemas/`` are loaded into one :class:`referencing.Registry` (Draft 2020-12, by ``$id``)
the first time one is needed, and each validator is compiled once and cached.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from grading_questionnaire._resources import shared_dir

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMA_ID_PREFIX = "urn:tradein-sdk:schemas:"


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource  # noqa: PLC0415 - loaded on first validation

    pairs: list[tuple[str, Resource[Any]]] = []
    for path in sorted(shared_dir("schemas").glob("*.schema.json")):
        resource: Resource[Any] = Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))
        schema_id = resource.id()
        if schema_id is None:
            raise ValueError(f"{path.name} has no $id")
        pairs.append((schema_id, resource))
    return Registry().with_resources(pairs)


@cache
def validator(name: str) -> Validator:
    """Return the compiled validator for schema ``name`` (``"catalog"`` for ``catalog.schema.json``).

    Args:
        name: the schema's short name; its ``$id`` is ``urn:tradein-sdk:schemas:<name>``.

    Returns:
        A Draft 2020-12 validator bound to the shared registry.

    Raises:
        KeyError: no schema has that name.
    """
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - loaded on first validation

    registry = _registry()
    schema_id = SCHEMA_ID_PREFIX + name
    try:
        schema = registry.contents(schema_id)
    except LookupError as exc:
        raise KeyError(f"no schema named {name!r}") from exc
    return Draft202012Validator(schema, registry=registry)


def schema_problems(name: str, document: object) -> list[tuple[str, str]]:
    """Validate ``document`` against schema ``name`` and list every problem.

    Args:
        name: the schema's short name (see :func:`validator`).
        document: the decoded JSON document.

    Returns:
        ``(json_path, message)`` pairs in document order; empty when the document is valid.
    """
    errors = validator(name).iter_errors(document)  # type: ignore[arg-type]  # any decoded JSON value
    ordered = sorted(errors, key=lambda error: [(isinstance(p, str), p) for p in error.absolute_path])
    return [(error.json_path, error.message) for error in ordered]


def json_path(*parts: str | int) -> str:
    """Build a JSON path from keys and indexes: ``json_path("models", 3, "id")`` → ``$.models[3].id``."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def content_hash(document: object) -> str:
    """Return ``sha256:<hex>`` of a JSON document's canonical form (sorted keys, no spaces).

    Two documents that differ only in key order or white space have the same hash.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
