"""The device catalog: models and variants of phones, tablets and watches.

A catalog is built from one or more JSON documents (``schemas/catalog.schema.json``): the bundled reference
catalog, then any shop documents laid over it, model by model. Each document is validated against the
schema and against the rules a schema cannot state (unique identifiers, unambiguous TACs); every problem
is reported with its JSON path.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from grading_questionnaire._schemas import content_hash, json_path, schema_problems
from tradein_sdk._domain.devices import CatalogDocumentInfo, CatalogEntry, DeviceCategory, DeviceModel
from tradein_sdk._domain.identifiers import parse_imei
from tradein_sdk._domain.search import SearchIndex
from tradein_sdk._errors import (
    ConfigurationError,
    DeviceNotFoundError,
    DocumentInvalidError,
    DocumentProblem,
)
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from tradein_sdk._domain.search import SearchHit

BUNDLED_CATALOG = DATA_DIR / "catalog.json"


class Catalog:
    """A searchable set of device models, built from one or more catalog documents.

    Use :meth:`bundled` for the reference catalog shipped with the library, :meth:`from_file` for a
    shop's own, and :meth:`extended_with` to lay a shop's models over the bundled ones.
    """

    __slots__ = (
        "_by_model",
        "_by_variant",
        "_content_hash",
        "_index",
        "_model_documents",
        "_models",
        "_tacs",
        "documents",
    )

    def __init__(self, models: Iterable[DeviceModel], documents: Iterable[CatalogDocumentInfo]) -> None:
        """Index ``models`` (already validated) and remember which ``documents`` they came from.

        Raises:
            DocumentInvalidError: two models or variants share an identifier, or two models share a TAC.
        """
        self._models = tuple(models)
        self.documents = tuple(documents)
        problems = list(_uniqueness_problems(self._models))
        if problems:
            origin = self.documents[-1].origin if self.documents else "<memory>"
            raise DocumentInvalidError(kind="catalog", source=origin, problems=problems)
        self._by_model = {model.id: model for model in self._models}
        self._by_variant = {
            variant.id: CatalogEntry(model=model, variant=variant)
            for model in self._models
            for variant in model.variants
        }
        self._tacs = {tac: model for model in self._models for tac in model.tac_prefixes}
        self._index: SearchIndex | None = None
        self._content_hash = content_hash([doc.content_hash for doc in self.documents])
        self._model_documents: dict[str, Mapping[str, Any]] = {}

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def bundled(cls) -> Catalog:
        """Return the reference catalog shipped with the library (loaded once, then shared)."""
        return _bundled_catalog()

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Load and validate a catalog document from a JSON file.

        Raises:
            ConfigurationError: the file cannot be read.
            DocumentInvalidError: the file is not JSON or not a valid catalog; each problem has its
                JSON path.
        """
        path = Path(path)
        document = read_json_document(path, kind="catalog")
        return cls.from_document(document, origin=str(path))

    @classmethod
    def from_document(cls, document: object, *, origin: str = "<memory>") -> Self:
        """Build a catalog from a decoded JSON document.

        Args:
            document: the decoded catalog document.
            origin: where it came from, for error messages.

        Raises:
            DocumentInvalidError: the document is not a valid catalog.
        """
        info, models = parse_catalog_document(document, origin=origin)
        return cls(models, [info])

    def extended_with(self, other: Catalog) -> Catalog:
        """Return a catalog with ``other``'s models laid over this one's.

        A model of ``other`` replaces the model with the same identifier (with all its variants); the
        others are added.

        Raises:
            DocumentInvalidError: the result would have clashing variant identifiers or TACs.
        """
        replaced = {model.id for model in other.models}
        kept = [model for model in self._models if model.id not in replaced]
        return Catalog([*kept, *other.models], [*self.documents, *other.documents])

    # -- look-ups --------------------------------------------------------------------------------

    @property
    def models(self) -> tuple[DeviceModel, ...]:
        """Every model, in document order."""
        return self._models

    @property
    def version(self) -> str:
        """The versions of the documents it was built from: ``tradein-reference@2026.11.0``."""
        return "+".join(f"{doc.catalog_id}@{doc.version}" for doc in self.documents)

    @property
    def content_hash(self) -> str:
        """A hash over every source document's hash: it changes when any document changes."""
        return self._content_hash

    def __len__(self) -> int:
        """Return the number of models."""
        return len(self._models)

    def __iter__(self) -> Iterator[DeviceModel]:
        """Iterate over the models."""
        return iter(self._models)

    def model(self, model_id: str) -> DeviceModel:
        """Return the model with identifier ``model_id``.

        Raises:
            DeviceNotFoundError: no model has that identifier.
        """
        try:
            return self._by_model[model_id]
        except KeyError:
            raise DeviceNotFoundError(model_id) from None

    def lookup(self, device_id: str) -> CatalogEntry:
        """Return the model or variant with identifier ``device_id``.

        Args:
            device_id: a variant identifier (``apple-iphone-13-128gb``) or a model identifier.

        Raises:
            DeviceNotFoundError: no model or variant has that identifier.
        """
        entry = self._by_variant.get(device_id)
        if entry is not None:
            return entry
        return CatalogEntry(model=self.model(device_id))

    def model_document(self, model_id: str) -> Mapping[str, Any]:
        """Return a model's catalog document (fields at their default left out), made once per model.

        Quotes keep it as the device's snapshot; it is shared between them, so read it, do not change it.

        Raises:
            DeviceNotFoundError: no model has that identifier.
        """
        document = self._model_documents.get(model_id)
        if document is None:
            from tradein_sdk._domain.converters import document_converter  # noqa: PLC0415 - see _parse

            document = self._model_documents[model_id] = document_converter().unstructure(
                self.model(model_id)
            )
        return document

    def model_for_imei(self, imei: str) -> DeviceModel:
        """Return the model whose TAC prefix matches the IMEI (the longest prefix wins).

        Raises:
            InvalidIMEIError: ``imei`` is not a valid IMEI.
            DeviceNotFoundError: no model in the catalog lists a matching TAC.
        """
        tac = parse_imei(imei).tac
        for length in range(len(tac), 5, -1):
            model = self._tacs.get(tac[:length])
            if model is not None:
                return model
        raise DeviceNotFoundError(f"TAC {tac}")

    def search(
        self, text: str, *, limit: int = 10, category: DeviceCategory | None = None
    ) -> tuple[SearchHit, ...]:
        """Find models by free text, best match first (``iphone 13 128``, ``Galaxy Uhr 6``).

        Words may be in English, German or French, with storage (``128``, ``256 GB``, ``1 To``) and
        small typing slips; a storage size that matches selects the variant.

        Args:
            text: what the shopper typed.
            limit: at most this many hits.
            category: only models of this category.

        Returns:
            The hits, ranked; empty when nothing matches.
        """
        if self._index is None:
            self._index = SearchIndex(self._models)
        return self._index.search(text, limit=limit, category=category)


@cache
def _bundled_catalog() -> Catalog:
    return Catalog.from_document(read_json_document(BUNDLED_CATALOG, kind="catalog"), origin="bundled")


def read_json_document(path: Path, *, kind: str) -> object:
    """Read a JSON file.

    Raises:
        ConfigurationError: the file cannot be read.
        DocumentInvalidError: the file is not valid JSON (the problem names line and column).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            "cannot read {path}: {reason}", path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = DocumentProblem(
            path="$", message=f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        )
        raise DocumentInvalidError(kind=kind, source=str(path), problems=[problem]) from exc


def catalog_problems(document: object) -> list[DocumentProblem]:
    """Return every problem of a catalog document: schema violations, then rule violations.

    Args:
        document: the decoded JSON document.

    Returns:
        The problems with their JSON paths, in document order; empty when the document is valid.
    """
    return _checked_models(document)[0]


def parse_catalog_document(document: object, *, origin: str) -> tuple[CatalogDocumentInfo, list[DeviceModel]]:
    """Validate a catalog document and structure its models.

    Raises:
        DocumentInvalidError: the document has problems (see :func:`catalog_problems`).
    """
    problems, models = _checked_models(document)
    if problems:
        raise DocumentInvalidError(kind="catalog", source=origin, problems=problems)
    assert isinstance(document, dict)  # noqa: S101 - validated above
    info = CatalogDocumentInfo(
        catalog_id=document["catalog_id"],
        version=document["version"],
        as_of=date.fromisoformat(document["as_of"]),
        content_hash=content_hash(document),
        origin=origin,
    )
    return info, models


def _checked_models(document: object) -> tuple[list[DocumentProblem], list[DeviceModel]]:
    """Validate in three stages (schema, values, cross-references); structure the models once."""
    problems = [
        DocumentProblem(path=path, message=message) for path, message in schema_problems("catalog", document)
    ]
    if problems:
        return problems, []
    assert isinstance(document, dict)  # noqa: S101 - guaranteed by the schema
    dates = [("$.as_of", document["as_of"])] + [
        (json_path("models", index, "release_date"), model["release_date"])
        for index, model in enumerate(document["models"])
    ]
    for path, raw in dates:
        try:
            date.fromisoformat(raw)
        except ValueError:
            problems.append(DocumentProblem(path=path, message=f"{raw!r} is not a calendar date"))
    if problems:
        return problems, []
    from tradein_sdk._domain.converters import (  # noqa: PLC0415 - keeps converters out of `import tradein_sdk`
        json_converter,
        structuring_problems,
    )

    try:
        models = json_converter().structure(document["models"], list[DeviceModel])
    except Exception as exc:  # noqa: BLE001 - every structuring failure becomes a located problem
        located = structuring_problems(exc, "$.models")
        return [DocumentProblem(path=path, message=message) for path, message in located], []
    return list(_uniqueness_problems(models)), models


def _uniqueness_problems(models: Iterable[DeviceModel]) -> Iterator[DocumentProblem]:
    model_at: dict[str, int] = {}
    variant_at: dict[str, str] = {}
    tac_at: dict[str, str] = {}
    for index, model in enumerate(models):
        if model.id in model_at:
            yield DocumentProblem(
                path=json_path("models", index, "id"),
                message=f"model id {model.id!r} is already used at "
                f"{json_path('models', model_at[model.id], 'id')}",
            )
        model_at.setdefault(model.id, index)
        storages: set[int] = set()
        for v_index, variant in enumerate(model.variants):
            here = json_path("models", index, "variants", v_index)
            if variant.id in variant_at or variant.id in model_at:
                first = variant_at.get(variant.id, "a model id")
                yield DocumentProblem(
                    path=f"{here}.id",
                    message=f"variant id {variant.id!r} is already used at {first}",
                )
            variant_at.setdefault(variant.id, f"{here}.id")
            if variant.storage_gb in storages:
                yield DocumentProblem(
                    path=f"{here}.storage_gb",
                    message=f"{model.id} lists {variant.storage_gb} GB twice",
                )
            storages.add(variant.storage_gb)
            markets = [price.market for price in variant.launch_prices]
            if len(markets) != len(set(markets)):
                yield DocumentProblem(
                    path=f"{here}.launch_prices", message="a market has more than one launch price"
                )
        for t_index, tac in enumerate(model.tac_prefixes):
            clash = next((other for other in tac_at if other.startswith(tac) or tac.startswith(other)), None)
            if clash is not None:
                yield DocumentProblem(
                    path=json_path("models", index, "tac_prefixes", t_index),
                    message=f"TAC prefix {tac} overlaps {clash} of {tac_at[clash]}",
                )
            tac_at.setdefault(tac, model.id)
