"""Free-text search over the device catalog, ranked, in English, German and French.

Text is split into tokens at spaces, punctuation and letter/digit boundaries (``s23`` → ``s`` ``23``,
``Flip4`` → ``flip`` ``4``), so spellings with and without spaces meet. Words are mapped to one vocabulary
(``Uhr``/``montre`` → ``watch``, ``zweite``/``2nd`` → ``2``); storage sizes (``128``, ``256 GB``,
``1 To``) select a variant; a typing slip in a longer word still matches its closest catalog word.

Ranking: each query word found in a model's name scores, brand and category words score less, a query
word found nowhere costs, and so does each name word the query left out, so ``iphone 13`` ranks the
iPhone 13 above the iPhone 13 Pro Max. A query of only a brand or category (``samsung``, ``Uhr``) lists
those models. Ties go to the newer model.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import attrs

from tradein_sdk._domain.devices import DeviceModel, DeviceVariant

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradein_sdk._domain.catalog import Catalog
    from tradein_sdk._domain.devices import DeviceCategory

_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_STORAGE_UNITS = {"gb": 1, "go": 1, "g": 1, "tb": 1024, "to": 1024, "t": 1024}
_SYNONYMS = {
    # German, French and English words shoppers use, mapped onto the catalog's words.
    "uhr": "watch",
    "montre": "watch",
    "smartwatch": "watch",
    "serie": "series",
    "série": "series",
    "zoll": "inch",
    "pouces": "inch",
    "pouce": "inch",
    "in": "inch",
    "handy": "phone",
    "telefon": "phone",
    "smartphone": "phone",
    "telephone": "phone",
    "portable": "phone",
    "tablette": "tablet",
    "pixelwatch": "pixel",
    "plus": "plus",
    "erste": "1",
    "first": "1",
    "premiere": "1",
    "zweite": "2",
    "second": "2",
    "deuxieme": "2",
    "dritte": "3",
    "third": "3",
    "troisieme": "3",
    "vierte": "4",
    "fourth": "4",
    "quatrieme": "4",
    "funfte": "5",
    "fuenfte": "5",
    "fifth": "5",
    "cinquieme": "5",
    "sechste": "6",
    "sixth": "6",
    "sixieme": "6",
}
_IGNORED = frozenset(
    {
        "gen",
        "generation",
        "generacion",
        "the",
        "der",
        "die",
        "das",
        "de",
        "du",
        "la",
        "le",
        "mit",
        "with",
        "avec",
        "st",
        "nd",
        "rd",
        "th",
        "eme",
        "er",
        "te",
        "ten",
    }
)
_CATEGORY_WORDS = {"smartphone": ("phone",), "tablet": ("tablet",), "smartwatch": ("watch",)}

_NAME_WEIGHT = 3.0
_BRAND_WEIGHT = 1.0
_MISSING_PENALTY = 2.5
_LEFT_OUT_PENALTY = 0.6
_FUZZY_FACTOR = 0.7
_PREFIX_FACTOR = 0.8


@attrs.frozen(kw_only=True)
class SearchHit:
    """One search result.

    Attributes:
        model: the matching model.
        variant: the variant, when the query named a storage size the model has.
        score: how well it matches; higher is better, comparable within one search only.
    """

    model: DeviceModel
    variant: DeviceVariant | None
    score: float

    @property
    def id(self) -> str:
        """The variant's identifier when a variant matched, else the model's."""
        return self.variant.id if self.variant is not None else self.model.id

    def to_json(self) -> dict[str, object]:
        """Return the hit's JSON form (``schemas/search-results.schema.json``, ``results`` items)."""
        from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - keeps converters out of `import tradein_sdk`

        data: dict[str, object] = json_converter().unstructure(SearchResult.from_hit(self))
        return data


@attrs.frozen(kw_only=True)
class SearchResult:
    """One search result as plain data (what the trade-in service sends for a :class:`SearchHit`).

    Attributes:
        id: the variant id when a storage size matched, else the model id.
        model_id: the model's id.
        variant_id: the matched variant's id, or ``None``.
        brand: the brand.
        name: the model name without the brand.
        display_name: brand and name as shown.
        category: the device category (``smartphone``).
        release_date: the model's release date.
        storage_gb: the matched variant's storage, or ``None``.
        storage_options_gb: the storage of every variant.
        score: relevance; higher is better, comparable within one search only.
    """

    id: str
    model_id: str
    variant_id: str | None
    brand: str
    name: str
    display_name: str
    category: str
    release_date: date
    storage_gb: int | None
    storage_options_gb: tuple[int, ...]
    score: float

    @classmethod
    def from_hit(cls, hit: SearchHit) -> SearchResult:
        """The plain data of a search hit."""
        model, variant = hit.model, hit.variant
        return cls(
            id=hit.id,
            model_id=model.id,
            variant_id=variant.id if variant is not None else None,
            brand=model.brand,
            name=model.name,
            display_name=model.display_name,
            category=model.category.value,
            release_date=model.release_date,
            storage_gb=variant.storage_gb if variant is not None else None,
            storage_options_gb=tuple(option.storage_gb for option in model.variants),
            score=hit.score,
        )


@attrs.frozen(kw_only=True)
class CatalogRef:
    """Which catalog answered: its version and content hash.

    Attributes:
        version: the catalog's version.
        content_hash: ``sha256:`` of its content.
    """

    version: str
    content_hash: str


@attrs.frozen(kw_only=True)
class SearchResults:
    """The answer to a catalog search (``schemas/search-results.schema.json``).

    Attributes:
        query: the text searched for.
        catalog: the catalog searched.
        results: the hits, best first.
    """

    query: str
    catalog: CatalogRef
    results: tuple[SearchResult, ...]

    @classmethod
    def from_hits(cls, query: str, catalog: Catalog, hits: Iterable[SearchHit]) -> SearchResults:
        """The results of ``catalog.search(query)`` as plain data."""
        return cls(
            query=query,
            catalog=CatalogRef(version=catalog.version, content_hash=catalog.content_hash),
            results=tuple(SearchResult.from_hit(hit) for hit in hits),
        )

    def to_json(self) -> dict[str, object]:
        """Return the JSON form."""
        from tradein_sdk._domain.converters import json_converter  # noqa: PLC0415 - keeps converters out of `import tradein_sdk`

        data: dict[str, object] = json_converter().unstructure(self)
        return data


@cache
def _fold(word: str) -> str:
    """Lower-case and strip accents: ``Zweite`` → ``zweite``, ``deuxième`` → ``deuxieme``."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().replace("ß", "ss"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def tokens(text: str) -> list[str]:
    """Split ``text`` into normalized search tokens (see the module docstring)."""
    folded = _fold(text).replace("+", " plus ")
    result = []
    for raw in _TOKEN.findall(folded):
        word = _SYNONYMS.get(raw, raw)
        if word not in _IGNORED:
            result.append(word)
    return result


@attrs.frozen(kw_only=True)
class _Entry:
    model: DeviceModel
    name_tokens: frozenset[str]
    name_token_count: int
    other_tokens: frozenset[str]
    storages: dict[int, DeviceVariant]


class SearchIndex:
    """A precomputed index of a catalog's models for :meth:`Catalog.search`."""

    def __init__(self, models: Iterable[DeviceModel]) -> None:
        """Tokenize every model's name, aliases, brand and category once."""
        self._entries: list[_Entry] = []
        self._by_token: dict[str, list[int]] = defaultdict(list)
        for model in models:
            name_tokens = set(tokens(model.name))
            for alias in model.aliases:
                name_tokens.update(tokens(alias))
            other = (set(tokens(model.brand)) | set(_CATEGORY_WORDS[model.category.value])) - name_tokens
            entry = _Entry(
                model=model,
                name_tokens=frozenset(name_tokens),
                name_token_count=len(set(tokens(model.name))),
                other_tokens=frozenset(other),
                storages={variant.storage_gb: variant for variant in model.variants},
            )
            index = len(self._entries)
            self._entries.append(entry)
            for token in name_tokens | other:
                self._by_token[token].append(index)
        self._vocabulary = sorted(self._by_token)

    def _expand(self, token: str) -> dict[str, float]:
        """Return the catalog words ``token`` may stand for, each with how well it matches."""
        matches: dict[str, float] = {}
        if token in self._by_token:
            matches[token] = 1.0
        if len(token) >= 3 and not token.isdigit():
            for word in self._vocabulary:
                if word != token and word.startswith(token):
                    matches.setdefault(word, _PREFIX_FACTOR)
        if not matches and len(token) >= 4 and not token.isdigit():
            for word in difflib.get_close_matches(token, self._vocabulary, n=3, cutoff=0.75):
                matches.setdefault(word, _FUZZY_FACTOR)
        return matches

    def search(
        self, text: str, *, limit: int = 10, category: DeviceCategory | None = None
    ) -> tuple[SearchHit, ...]:
        """Rank the models for ``text``; see :meth:`Catalog.search`."""
        query, storage = _split_storage(tokens(text))
        if not query and storage is None:
            return ()
        expansions = [self._expand(token) for token in query]
        candidates: set[int] = set()
        for expansion in expansions:
            for word in expansion:
                candidates.update(self._by_token[word])
        hits = []
        for index in candidates:
            entry = self._entries[index]
            if category is not None and entry.model.category != category:
                continue
            hit = self._score(entry, query, expansions, storage)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda hit: (-hit.score, -hit.model.release_date.toordinal(), hit.model.id))
        return tuple(hits[: max(limit, 0)])

    def _score(
        self,
        entry: _Entry,
        query: list[str],
        expansions: list[dict[str, float]],
        storage: int | None,
    ) -> SearchHit | None:
        score = 0.0
        matched_name: set[str] = set()
        for token, expansion in zip(query, expansions, strict=True):
            best = 0.0
            for word, quality in expansion.items():
                if word in entry.name_tokens and quality * _NAME_WEIGHT > best:
                    best = quality * _NAME_WEIGHT
                    matched = word
                elif word in entry.other_tokens:
                    best = max(best, quality * _BRAND_WEIGHT)
            if best >= _NAME_WEIGHT * _FUZZY_FACTOR:
                matched_name.add(matched)
            variant_storage = _as_storage(token)
            if best == 0.0 and variant_storage is not None and variant_storage in entry.storages:
                storage = storage or variant_storage
                continue
            score += best or -_MISSING_PENALTY
        if matched_name:
            score -= _LEFT_OUT_PENALTY * max(entry.name_token_count - len(matched_name), 0)
        variant = entry.storages.get(storage) if storage is not None else None
        if variant is not None:
            score += _BRAND_WEIGHT
        if score <= 0:
            return None
        return SearchHit(model=entry.model, variant=variant, score=round(score, 3))


def _as_storage(token: str) -> int | None:
    return int(token) if token.isdigit() and int(token) >= 8 else None


def _split_storage(query: list[str]) -> tuple[list[str], int | None]:
    """Take an explicit storage size (a number followed by GB/TB/Go/To) out of the query."""
    rest: list[str] = []
    storage = None
    skip = False
    for position, token in enumerate(query):
        if skip:
            skip = False
            continue
        unit = query[position + 1] if position + 1 < len(query) else None
        if token.isdigit() and unit in _STORAGE_UNITS:
            storage = int(token) * _STORAGE_UNITS[unit]
            skip = True
        else:
            rest.append(token)
    return rest, storage
