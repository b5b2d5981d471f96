"""CO2e avoided by a device's second life, and what its recycling emits: cited, with a range, pure.

The factors (:class:`CO2Factors`, ``schemas/co2-factors.schema.json``, bundled as
``tradein_sdk/data/co2-factors.json`` and replaceable) hold per model and storage the manufacturer's
footprint with its stage shares, lifetime, source and confidence; per category a fallback footprint with its
range; the burdens of refurbishment, spare parts and logistics; the end-of-life treatment share; device
weights; and the reuse scenario. Every number carries a source or a flagged assumption.

The calculation (:func:`device_co2`, method :data:`METHOD_VERSION`) follows the transparent per-device form
that ADEME's refurbishment study, the WBCSD avoided-emissions guidance and the Rainbow Standard's
refurbishment methodology share:

``avoided = d × PCF × (production + transport share) × min(1, L2 / L_ref) − E_refurb − E_parts − E_logistics``

- **Reference scenario**: the next user would otherwise buy a new device of the same model and storage
  (``PCF_new``, the factor row; the model's figure for another storage, or the category's fallback, when the
  exact one is missing — :class:`FactorBasis` says which).
- **Boundary**: production and transport of the displaced device (the factory-gate convention); use and end
  of life are left out because they are the same in both scenarios.
- **Displacement** ``d``: the share of reused devices that really replace a new one (below 1: rebound and
  market mix); the result at ``d = 1`` is given beside.
- **Lifetime**: a second life of ``L_second`` years credits at most the reference lifetime ``L_ref`` of the
  new device's report.
- **Burdens**: refurbishment, spare parts replaced, and two parcel journeys.
- **Recycling** (a device recycled or kept for parts): no avoided emissions are claimed; the end-of-life
  treatment (``PCF × end-of-life share``) is reported as a burden for the GHG Protocol's category 5 or 12,
  and no material credit is netted (none is published per phone).

Each term is a :class:`CO2Line` with its inputs and source. The range (low, central, high) combines the
stated uncertainties in the direction each term moves the result, so ``low ≤ central ≤ high`` always; a
longer second life never lowers the result. Avoided emissions are reported **apart from any Scope-3
inventory**, never subtracted from it (:func:`co2_report_document` names the categories they touch).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._i18n import N_, translate
from grading_questionnaire._schemas import content_hash, json_path, schema_problems
from tradein_sdk._domain.catalog import read_json_document
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._errors import CO2Error, DocumentInvalidError, DocumentProblem, canonical_locale

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from datetime import date
    from pathlib import Path

METHOD_VERSION: Final = "tradein-co2-1"
"""The calculation's version; every result carries it."""

REPORT_PURPOSE: Final = "co2-report"
"""The purpose a signed CO2 report is bound to (:func:`~tradein_sdk._domain.signing.verify_document`)."""

KG: Final = Decimal("0.001")
"""Results are kept to the gram: lines are rounded to it and totals are the sums of the rounded lines."""

ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
_ONE: Final = Decimal(1)


class Outcome(StrEnum):
    """What became of a device."""

    REUSE = "reuse"
    """Refurbished and sold to a next user: a second life."""
    PARTS = "parts"
    """Kept for spare parts: treated like recycling (no per-part credit is published)."""
    RECYCLE = "recycle"
    """Recycled: its end-of-life treatment is reported, nothing is claimed as avoided."""


CO2Outcome = Outcome
"""The public name of :class:`Outcome`."""


class FactorBasis(StrEnum):
    """Which footprint stood for the device."""

    EXACT = "exact"
    """The model's footprint for this storage."""
    MODEL = "model"
    """The model's footprint for another storage, or its one figure for every storage."""
    CATEGORY = "category"
    """No row for the model: its category's fallback, with its wider range."""


@dataclass(frozen=True, slots=True)
class Range:
    """A central value with its low and high bound (kg CO2e, or a factor's unit)."""

    central: Decimal
    low: Decimal
    high: Decimal

    @classmethod
    def of(cls, value: Decimal) -> Range:
        """A range with no spread."""
        return cls(value, value, value)

    def __add__(self, other: Range) -> Range:
        """Add bound by bound."""
        return Range(self.central + other.central, self.low + other.low, self.high + other.high)

    def negated(self) -> Range:
        """The range of the negative value (its low is the negated high)."""
        return Range(-self.central, -self.high, -self.low)

    def rounded(self, quantum: Decimal = KG) -> Range:
        """Each bound rounded half-even to ``quantum``."""
        return Range(
            self.central.quantize(quantum, ROUND_HALF_EVEN),
            self.low.quantize(quantum, ROUND_HALF_EVEN),
            self.high.quantize(quantum, ROUND_HALF_EVEN),
        )

    def to_json(self) -> dict[str, str]:
        """``{"central", "low", "high"}`` as decimal strings."""
        return {"central": _text(self.central), "low": _text(self.low), "high": _text(self.high)}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Range:
        """Read :meth:`to_json`'s form."""
        return cls(Decimal(data["central"]), Decimal(data["low"]), Decimal(data["high"]))


ZERO_RANGE: Final = Range.of(ZERO)

CO2Range = Range
"""The public name of :class:`Range`."""


def _text(value: Decimal) -> str:
    return format(value, "f")


# -- the factor document -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Cited:
    """A figure of the factor document: its range and where it comes from.

    Attributes:
        value: the central value with its bounds.
        source: the source's id in the document's ``sources`` (``None``: an assumption only).
        assumption: why the figure was chosen, when it is an assumption.
        ref: its JSON path in the document.
    """

    value: Range
    source: str | None
    assumption: str | None
    ref: str


@attrs.frozen(kw_only=True)
class FactorRow:
    """A manufacturer footprint of one model (and storage).

    Attributes:
        ref: its JSON path in the document (``$.devices[12]``).
        model_id: the catalog model, when the catalog has it.
        brand: the brand.
        model: the model's name as the report gives it.
        category: the device category.
        storage_gb: the storage configuration (``None``: one figure for the model).
        footprint_kg: the cradle-to-grave footprint of a new device, kg CO2e.
        production_pct: the production stage's share of it (``None`` when the report gives none).
        transport_pct: the transport stage's share.
        end_of_life_pct: the end-of-life stage's share.
        lifetime_years: the use period the report assumes.
        report: the report's name (and date).
        source: where it was read.
        confidence: ``high``, ``medium`` or ``low``.
    """

    ref: str
    model_id: str | None
    brand: str
    model: str
    category: str
    storage_gb: int | None
    footprint_kg: Decimal
    production_pct: Decimal | None
    transport_pct: Decimal | None
    end_of_life_pct: Decimal | None
    lifetime_years: int
    report: str
    source: str
    confidence: str


@attrs.frozen(kw_only=True)
class Fallback:
    """A category's footprint for a model without a row.

    Attributes:
        ref: its JSON path.
        category: the category.
        footprint: the footprint range (kg CO2e).
        production_pct: the production share.
        transport_pct: the transport share.
        lifetime_years: the reference lifetime.
        basis: how it was derived.
    """

    ref: str
    category: str
    footprint: Cited
    production_pct: Decimal
    transport_pct: Decimal
    lifetime_years: int
    basis: str


def _cited(
    document: Mapping[str, Any], ref: str, *, keys: tuple[str, str, str] = ("central", "low", "high")
) -> Cited:
    central, low, high = (Decimal(document[key]) for key in keys)
    return Cited(
        value=Range(central, low, high),
        source=document.get("source"),
        assumption=document.get("assumption"),
        ref=ref,
    )


def _optional_decimal(document: Mapping[str, Any], key: str) -> Decimal | None:
    value = document.get(key)
    return None if value is None else Decimal(value)


@attrs.frozen(kw_only=True)
class CO2Factors:
    """The factor document, read (see the module documentation). Build with :func:`parse_co2_factors`.

    Attributes:
        factors_id: the document's id.
        version: its version.
        as_of: the date its figures were compiled.
        method: the method version it is meant for.
        content_hash: ``sha256:`` of its canonical JSON.
        rows: the device rows, in document order.
        fallbacks: the category fallbacks by category.
        uncertainty: the ± percent of each confidence level.
        refurbishment: per category.
        logistics: per category.
        parts: per (category, part).
        recycling: the end-of-life treatment share (percent) per category.
        weights: the device mass (kg) per category.
        second_life_years: the scenario's second life.
        displacement: the scenario's displacement factor.
        sources: the cited sources by id (``title``, ``reference``, ...).
        document: the document as read.
    """

    factors_id: str
    version: str
    as_of: str
    method: str
    content_hash: str
    rows: tuple[FactorRow, ...]
    fallbacks: Mapping[str, Fallback]
    uncertainty: Mapping[str, Cited]
    refurbishment: Mapping[str, Cited]
    logistics: Mapping[str, Cited]
    parts: Mapping[tuple[str, str], Cited]
    recycling: Mapping[str, Cited]
    weights: Mapping[str, Cited]
    second_life_years: Cited
    displacement: Cited
    sources: Mapping[str, Mapping[str, str]]
    document: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    _by_model: Mapping[str, tuple[FactorRow, ...]] = attrs.field(eq=False, repr=False)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CO2Factors:
        """Build from a document that passed :func:`co2_factors_problems` (use :func:`parse_co2_factors`)."""
        rows = tuple(
            FactorRow(
                ref=json_path("devices", index),
                model_id=row.get("model_id"),
                brand=row["brand"],
                model=row["model"],
                category=row["category"],
                storage_gb=row.get("storage_gb"),
                footprint_kg=Decimal(row["footprint_kg"]),
                production_pct=_optional_decimal(row.get("shares", {}), "production"),
                transport_pct=_optional_decimal(row.get("shares", {}), "transport"),
                end_of_life_pct=_optional_decimal(row.get("shares", {}), "end_of_life"),
                lifetime_years=row["lifetime_years"],
                report=" ".join(filter(None, (row["report"], row.get("report_date")))),
                source=row["source"],
                confidence=row["confidence"],
            )
            for index, row in enumerate(document["devices"])
        )
        by_model: dict[str, list[FactorRow]] = defaultdict(list)
        for row in rows:
            if row.model_id is not None:
                by_model[row.model_id].append(row)
        fallbacks = {
            item["category"]: Fallback(
                ref=json_path("fallbacks", index),
                category=item["category"],
                footprint=_cited(item["footprint_kg"], json_path("fallbacks", index, "footprint_kg")),
                production_pct=Decimal(item["shares"]["production"]),
                transport_pct=Decimal(item["shares"]["transport"]),
                lifetime_years=item["lifetime_years"],
                basis=item["basis"],
            )
            for index, item in enumerate(document["fallbacks"])
        }
        burdens = document["burdens"]

        def per_category(items: Sequence[Mapping[str, Any]], *path: str | int) -> dict[str, Cited]:
            return {
                item["category"]: _cited(item, json_path(*path, index)) for index, item in enumerate(items)
            }

        uncertainty = {
            level: Cited(
                value=Range.of(Decimal(item["percent"])),
                source=item.get("source"),
                assumption=item.get("assumption"),
                ref=json_path("uncertainty", level),
            )
            for level, item in document["uncertainty"].items()
        }
        return cls(
            factors_id=document["factors_id"],
            version=document["version"],
            as_of=document["as_of"],
            method=document["method"],
            content_hash=content_hash(document),
            rows=rows,
            fallbacks=fallbacks,
            uncertainty=uncertainty,
            refurbishment=per_category(burdens["refurbishment"], "burdens", "refurbishment"),
            logistics=per_category(burdens["logistics"], "burdens", "logistics"),
            parts={
                (item["category"], item["part"]): _cited(item, json_path("burdens", "parts", index))
                for index, item in enumerate(burdens["parts"])
            },
            recycling=per_category(document["recycling"], "recycling"),
            weights=per_category(document["weights"], "weights"),
            second_life_years=_cited(
                document["scenario"]["second_life_years"], json_path("scenario", "second_life_years")
            ),
            displacement=_cited(document["scenario"]["displacement"], json_path("scenario", "displacement")),
            sources=document["sources"],
            document=document,
            by_model={key: tuple(value) for key, value in by_model.items()},
        )

    @classmethod
    def bundled(cls) -> CO2Factors:
        """The factor document shipped with the package (``tradein_sdk/data/co2-factors.json``)."""
        return _bundled()

    def coverage(self, model_ids: Iterable[str]) -> tuple[int, int]:
        """How many of ``model_ids`` have a footprint of their own: ``(with a row, all)``."""
        ids = list(model_ids)
        return sum(1 for model_id in ids if model_id in self._by_model), len(ids)

    def footprint(self, *, model_id: str | None, category: str, storage_gb: int | None) -> Footprint:
        """The footprint that stands for a device (see :class:`FactorBasis`).

        Raises:
            CO2Error: the category has no fallback in the document.
        """
        rows = self._by_model.get(model_id or "", ())
        if rows:
            exact = [row for row in rows if row.storage_gb == storage_gb and storage_gb is not None]
            if exact:
                row, basis = exact[0], FactorBasis.EXACT
            else:  # the smallest configuration at or below, else the smallest
                below = [row for row in rows if (row.storage_gb or 0) <= (storage_gb or 0)]
                ordered = sorted(below or rows, key=lambda row: row.storage_gb or 0)
                row, basis = (ordered[-1] if below else ordered[0]), FactorBasis.MODEL
            return self._row_footprint(row, rows, basis)
        fallback = self.fallbacks.get(category)
        if fallback is None:
            raise CO2Error("the CO2 factors have no fallback for the category {category}", category=category)
        return Footprint(
            basis=FactorBasis.CATEGORY,
            ref=fallback.ref,
            footprint=fallback.footprint.value,
            production_pct=fallback.production_pct,
            transport_pct=fallback.transport_pct,
            shares_ref=fallback.ref,
            end_of_life_pct=None,
            lifetime_years=fallback.lifetime_years,
            source=fallback.footprint.source or "",
            description=f"{category} fallback: {fallback.basis}",
            confidence="low",
        )

    def _row_footprint(self, row: FactorRow, rows: Sequence[FactorRow], basis: FactorBasis) -> Footprint:
        fallback = self.fallbacks[row.category]
        production, transport, shares_ref = row.production_pct, row.transport_pct, row.ref
        if production is None:  # a larger configuration: its model's base row states the shares
            base = next((other for other in rows if other.production_pct is not None), None)
            if base is not None:
                production, transport, shares_ref = base.production_pct, base.transport_pct, base.ref
        if production is None:
            production, shares_ref = fallback.production_pct, fallback.ref
        if transport is None:
            transport = fallback.transport_pct
        spread = self.uncertainty[row.confidence].value.central / _HUNDRED
        storage = f" {row.storage_gb} GB" if row.storage_gb else ""
        return Footprint(
            basis=basis,
            ref=row.ref,
            footprint=Range(
                row.footprint_kg, row.footprint_kg * (_ONE - spread), row.footprint_kg * (_ONE + spread)
            ),
            production_pct=production,
            transport_pct=transport,
            shares_ref=shares_ref,
            end_of_life_pct=row.end_of_life_pct,
            lifetime_years=row.lifetime_years,
            source=row.source,
            description=f"{row.brand} {row.model}{storage}: {row.report}",
            confidence=row.confidence,
        )


@attrs.frozen(kw_only=True)
class Footprint:
    """The footprint chosen for a device, with the shares and lifetime that go with it.

    Attributes:
        basis: which kind of figure it is.
        ref: the factor row's (or fallback's) JSON path.
        footprint: the footprint range, kg CO2e (the row's value ± its confidence's uncertainty).
        production_pct: the production share used.
        transport_pct: the transport share used.
        shares_ref: where the shares come from (the row, the model's base row, or the fallback).
        end_of_life_pct: the row's end-of-life share, when stated.
        lifetime_years: the reference lifetime.
        source: the figure's source.
        description: the model, storage and report, readable.
        confidence: the row's confidence.
    """

    basis: FactorBasis
    ref: str
    footprint: Range
    production_pct: Decimal
    transport_pct: Decimal
    shares_ref: str
    end_of_life_pct: Decimal | None
    lifetime_years: int
    source: str
    description: str
    confidence: str


def _walk(node: object, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object of a document with its JSON path (the ``$.sources`` table left out)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key != "sources" or path != "$":
                yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _figure_problems(document: Mapping[str, Any]) -> Iterator[DocumentProblem]:
    """Source ids that ``$.sources`` lacks, and ranges whose bounds do not hold."""
    known = set(document["sources"])
    for path, node in _walk(document, "$"):
        source = node.get("source")
        own_text = path.startswith("$.devices[") and path.endswith("]")  # a row's source is free text
        if isinstance(source, str) and not own_text and source not in known:
            yield DocumentProblem(path=f"{path}.source", message=f"no source {source!r} in $.sources")
        if {"central", "low", "high"} <= set(node):
            low, central, high = (Decimal(node[key]) for key in ("low", "central", "high"))
            if not low <= central <= high:
                yield DocumentProblem(
                    path=path, message=f"low {low} ≤ central {central} ≤ high {high} does not hold"
                )


def _coverage_problems(document: Mapping[str, Any]) -> Iterator[DocumentProblem]:
    """Categories without their figures, and device rows whose shares exceed 100 %."""
    categories = {row["category"] for row in document["devices"]} | {"smartphone", "tablet", "smartwatch"}
    for name, items in (
        ("fallbacks", document["fallbacks"]),
        ("burdens.refurbishment", document["burdens"]["refurbishment"]),
        ("burdens.logistics", document["burdens"]["logistics"]),
        ("recycling", document["recycling"]),
        ("weights", document["weights"]),
    ):
        missing = categories - {item["category"] for item in items}
        yield from (
            DocumentProblem(path=f"$.{name}", message=f"no entry for the category {category}")
            for category in sorted(missing)
        )
    for index, row in enumerate(document["devices"]):
        stages = [
            Decimal(value)
            for key, value in row.get("shares", {}).items()
            if key in {"production", "transport"}
        ]
        if sum(stages, ZERO) > _HUNDRED:
            yield (
                DocumentProblem(
                    path=json_path("devices", index, "shares"),
                    message="production and transport shares add up to more than 100 %",
                )
            )


def co2_factors_problems(document: object) -> list[DocumentProblem]:
    """Every problem of a factor document, each with its JSON path.

    Beyond the schema: a source id that ``sources`` lacks, a range whose low is above its central value or
    whose high is below it, a displacement above 1, a category without a fallback, refurbishment, logistics,
    recycling share or weight, and a device row's stage shares above 100 %.
    """
    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("co2-factors", document)
    ]
    if problems or not isinstance(document, dict):
        return problems
    problems.extend(_figure_problems(document))
    if Decimal(document["scenario"]["displacement"]["high"]) > _ONE:
        problems.append(
            DocumentProblem(path="$.scenario.displacement.high", message="a displacement is at most 1")
        )
    problems.extend(_coverage_problems(document))
    return problems


def parse_co2_factors(document: object, *, origin: str = "<memory>") -> CO2Factors:
    """Validate a factor document and read it.

    Raises:
        DocumentInvalidError: the document has problems (kind ``co2-factors``; each with its JSON path).
    """
    problems = co2_factors_problems(document)
    if problems or not isinstance(document, dict):
        raise DocumentInvalidError(kind="co2-factors", source=origin, problems=problems)
    return CO2Factors.from_document(document)


def load_co2_factors(path: str | Path) -> CO2Factors:
    """Read and validate a factor document file.

    Raises:
        ConfigurationError: the file cannot be read.
        DocumentInvalidError: it is not JSON, or not a valid factor document (problems with JSON paths).
    """
    from pathlib import Path  # noqa: PLC0415 - only for reading

    document = read_json_document(Path(path), kind="co2-factors")
    return parse_co2_factors(document, origin=str(path))


_BUNDLED: list[CO2Factors] = []


def _bundled() -> CO2Factors:
    if not _BUNDLED:
        from tradein_sdk._resources import DATA_DIR  # noqa: PLC0415 - the data loads with the first use

        _BUNDLED.append(load_co2_factors(DATA_DIR / "co2-factors.json"))
    return _BUNDLED[0]


# -- the calculation ---------------------------------------------------------------------------------------


class LineKind(StrEnum):
    """The terms of a device's result."""

    DISPLACED_PRODUCTION = "displaced_production"
    REFURBISHMENT = "refurbishment"
    SPARE_PART = "spare_part"
    LOGISTICS = "logistics"
    END_OF_LIFE_TREATMENT = "end_of_life_treatment"


@attrs.frozen(kw_only=True)
class CO2Line:
    """One term of a device's result, with what it was computed from.

    Attributes:
        kind: which term.
        label: what it is, in English.
        kg: its value, kg CO2e (negative: a burden subtracted from the avoided emissions).
        refs: the factor document's JSON paths it uses.
        sources: the sources cited (ids of the document's ``sources``, or a row's source text).
        inputs: the inputs, as text (``{"footprint_kg": "72", ...}``).
        assumption: the flagged assumption behind it, if any.
        counted: whether it is part of the avoided emissions (``False``: the end-of-life treatment, which is
            reported beside them for the inventory).
    """

    kind: LineKind
    label: str
    kg: Range
    refs: tuple[str, ...]
    sources: tuple[str, ...]
    inputs: Mapping[str, str]
    assumption: str | None = None
    counted: bool = True

    def to_json(self) -> dict[str, Any]:
        """The line as JSON."""
        document: dict[str, Any] = {
            "kind": self.kind.value,
            "label": self.label,
            "kg": self.kg.to_json(),
            "refs": list(self.refs),
            "sources": list(self.sources),
            "inputs": dict(self.inputs),
            "counted": self.counted,
        }
        if self.assumption is not None:
            document["assumption"] = self.assumption
        return document

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CO2Line:
        """Read :meth:`to_json`'s form."""
        return cls(
            kind=LineKind(data["kind"]),
            label=data["label"],
            kg=Range.from_json(data["kg"]),
            refs=tuple(data["refs"]),
            sources=tuple(data["sources"]),
            inputs=dict(data["inputs"]),
            assumption=data.get("assumption"),
            counted=data["counted"],
        )


@attrs.frozen(kw_only=True)
class DeviceCO2:
    """A device's CO2 result.

    Attributes:
        model_id: the catalog model.
        variant_id: the catalog variant, when known.
        category: the device category.
        storage_gb: its storage.
        outcome: reuse, parts or recycling.
        basis: which footprint stood for it.
        factor_ref: that footprint's JSON path in the factor document.
        lines: the terms, each with its inputs and sources.
        avoided: the avoided emissions (kg CO2e; zero for parts and recycling), outside any inventory.
        avoided_full_displacement: the central avoided emissions at a displacement of 1.
        treatment: the end-of-life treatment emissions (recycled or parts devices), kg CO2e.
        weight_kg: the device's mass for the waste view.
        second_life_years: the second life assumed (central), for reuse.
        method: :data:`METHOD_VERSION`.
        factors_version: the factor document's ``factors_id@version``.
    """

    model_id: str
    variant_id: str | None
    category: str
    storage_gb: int | None
    outcome: Outcome
    basis: FactorBasis
    factor_ref: str
    lines: tuple[CO2Line, ...]
    avoided: Range
    avoided_full_displacement: Decimal
    treatment: Range
    weight_kg: Range
    second_life_years: Decimal | None
    method: str
    factors_version: str

    def to_json(self) -> dict[str, Any]:
        """The result as JSON (decimal strings), with its lines."""
        return {
            "method": self.method,
            "factors": self.factors_version,
            "model_id": self.model_id,
            "variant_id": self.variant_id,
            "category": self.category,
            "storage_gb": self.storage_gb,
            "outcome": self.outcome.value,
            "basis": self.basis.value,
            "factor_ref": self.factor_ref,
            "second_life_years": None if self.second_life_years is None else _text(self.second_life_years),
            "avoided_kg": self.avoided.to_json(),
            "avoided_full_displacement_kg": _text(self.avoided_full_displacement),
            "treatment_kg": self.treatment.to_json(),
            "weight_kg": self.weight_kg.to_json(),
            "lines": [line.to_json() for line in self.lines],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeviceCO2:
        """Read :meth:`to_json`'s form (a client reads the service's answer with it)."""
        years = data["second_life_years"]
        return cls(
            model_id=data["model_id"],
            variant_id=data["variant_id"],
            category=data["category"],
            storage_gb=data["storage_gb"],
            outcome=Outcome(data["outcome"]),
            basis=FactorBasis(data["basis"]),
            factor_ref=data["factor_ref"],
            lines=tuple(CO2Line.from_json(line) for line in data["lines"]),
            avoided=Range.from_json(data["avoided_kg"]),
            avoided_full_displacement=Decimal(data["avoided_full_displacement_kg"]),
            treatment=Range.from_json(data["treatment_kg"]),
            weight_kg=Range.from_json(data["weight_kg"]),
            second_life_years=None if years is None else Decimal(years),
            method=data["method"],
            factors_version=data["factors"],
        )


def _sources(cited: Cited) -> tuple[str, ...]:
    return (cited.source,) if cited.source else ()


def _burden_line(kind: LineKind, label: str, cited: Cited) -> CO2Line:
    return CO2Line(
        kind=kind,
        label=label,
        kg=cited.value.negated().rounded(),
        refs=(cited.ref,),
        sources=_sources(cited),
        inputs={"kg": _text(cited.value.central)},
        assumption=cited.assumption,
    )


def _clamped(value: Decimal) -> Decimal:
    return min(_ONE, value)


def device_co2(
    factors: CO2Factors,
    *,
    model_id: str,
    category: str,
    storage_gb: int | None = None,
    variant_id: str | None = None,
    outcome: Outcome = Outcome.REUSE,
    second_life_years: Decimal | int | None = None,
    parts: Sequence[str] = (),
    displacement: Decimal | None = None,
) -> DeviceCO2:
    """Compute a device's avoided emissions (reuse) or its end-of-life treatment (parts, recycling).

    Args:
        factors: the factor document.
        model_id: the catalog model.
        category: its category (``smartphone``, ``tablet``, ``smartwatch``).
        storage_gb: its storage.
        variant_id: the catalog variant, carried into the result.
        outcome: what became of it.
        second_life_years: the second life to assume (the scenario's range when ``None``); more years never
            lower the result.
        parts: spare parts replaced in refurbishment (``battery``, ``display``, ...).
        displacement: the displacement factor to assume (0 to 1; the scenario's range when ``None``).

    Returns:
        The result, each term a line with its inputs and sources.

    Raises:
        CO2Error: a part has no factor for the category, a value is out of range, or the category has no
            fallback.
    """
    outcome = Outcome(outcome)
    found = factors.footprint(model_id=model_id, category=category, storage_gb=storage_gb)
    weight = factors.weights.get(category)
    if weight is None:
        raise CO2Error("the CO2 factors have no weight for the category {category}", category=category)
    lines: list[CO2Line] = []
    years: Range | None = None
    full = ZERO
    if outcome is Outcome.REUSE:
        years, d = _scenario(factors, second_life_years, displacement)
        share = (found.production_pct + found.transport_pct) / _HUNDRED
        reference = Decimal(found.lifetime_years)

        def displaced(d_value: Decimal, footprint: Decimal, life: Decimal) -> Decimal:
            return d_value * footprint * share * _clamped(life / reference)

        central = displaced(d.central, found.footprint.central, years.central)
        inputs_spread = [  # one input at a time at its bound: how far each moves the term down and up
            (
                central - displaced(d.low, found.footprint.central, years.central),
                displaced(d.high, found.footprint.central, years.central) - central,
            ),
            (
                central - displaced(d.central, found.footprint.low, years.central),
                displaced(d.central, found.footprint.high, years.central) - central,
            ),
            (
                central - displaced(d.central, found.footprint.central, years.low),
                displaced(d.central, found.footprint.central, years.high) - central,
            ),
        ]
        value = _combined(central, inputs_spread)
        full = displaced(_ONE, found.footprint.central, years.central)
        lines.append(
            CO2Line(
                kind=LineKind.DISPLACED_PRODUCTION,
                label=f"Production and transport of a new device not made ({found.description})",
                kg=value,
                refs=tuple(
                    dict.fromkeys(
                        (found.ref, found.shares_ref, factors.second_life_years.ref, factors.displacement.ref)
                    )
                ),
                sources=tuple(
                    dict.fromkeys(
                        filter(
                            None,
                            (found.source, factors.second_life_years.source, factors.displacement.source),
                        )
                    )
                ),
                inputs={
                    "footprint_kg": _text(found.footprint.central),
                    "production_pct": _text(found.production_pct),
                    "transport_pct": _text(found.transport_pct),
                    "second_life_years": _text(years.central),
                    "reference_lifetime_years": str(found.lifetime_years),
                    "displacement": _text(d.central),
                    "basis": found.basis.value,
                    "confidence": found.confidence,
                },
                assumption=factors.displacement.assumption if displacement is None else None,
            )
        )
        lines.append(
            _burden_line(
                LineKind.REFURBISHMENT,
                "Refurbishment",
                _required(factors.refurbishment, category, "refurbishment"),
            )
        )
        for part in parts:
            cited = factors.parts.get((category, part))
            if cited is None:
                raise CO2Error(
                    "the CO2 factors have no {part} for a {category}", part=part, category=category
                )
            lines.append(_burden_line(LineKind.SPARE_PART, f"Spare part: {part.replace('_', ' ')}", cited))
        lines.append(
            _burden_line(
                LineKind.LOGISTICS,
                "Collection and delivery to the next user",
                _required(factors.logistics, category, "logistics"),
            )
        )
        full += sum((line.kg.central for line in lines[1:]), ZERO)  # the burdens, negative
    treatment = ZERO_RANGE
    if outcome is not Outcome.REUSE:
        share_cited = _required(factors.recycling, category, "recycling")
        shares = share_cited.value
        if found.end_of_life_pct is not None:  # the report's own share, with the document's range around it
            shares = Range(
                found.end_of_life_pct,
                min(found.end_of_life_pct, shares.low),
                max(found.end_of_life_pct, shares.high),
            )
        treatment = Range(
            found.footprint.central * shares.central / _HUNDRED,
            found.footprint.low * shares.low / _HUNDRED,
            found.footprint.high * shares.high / _HUNDRED,
        ).rounded()
        lines.append(
            CO2Line(
                kind=LineKind.END_OF_LIFE_TREATMENT,
                label=f"End-of-life treatment ({found.description}); no material credit netted",
                kg=treatment,
                refs=tuple(dict.fromkeys((found.ref, share_cited.ref))),
                sources=tuple(dict.fromkeys(filter(None, (found.source, share_cited.source)))),
                inputs={
                    "footprint_kg": _text(found.footprint.central),
                    "end_of_life_pct": _text(shares.central),
                },
                assumption=share_cited.assumption,
                counted=False,
            )
        )
    counted = [line.kg for line in lines if line.counted]
    avoided = (
        _combined(
            sum((kg.central for kg in counted), ZERO),
            [(kg.central - kg.low, kg.high - kg.central) for kg in counted],
        )
        if counted
        else ZERO_RANGE
    )
    return DeviceCO2(
        model_id=model_id,
        variant_id=variant_id,
        category=category,
        storage_gb=storage_gb,
        outcome=outcome,
        basis=found.basis,
        factor_ref=found.ref,
        lines=tuple(lines),
        avoided=avoided,
        avoided_full_displacement=full.quantize(KG, ROUND_HALF_EVEN) if outcome is Outcome.REUSE else ZERO,
        treatment=treatment,
        weight_kg=weight.value,
        second_life_years=None if years is None else years.central,
        method=METHOD_VERSION,
        factors_version=f"{factors.factors_id}@{factors.version}",
    )


def _scenario(
    factors: CO2Factors, second_life_years: Decimal | int | None, displacement: Decimal | None
) -> tuple[Range, Range]:
    """The second life and displacement to compute with: the given values, else the scenario's ranges."""
    if second_life_years is None:
        years = factors.second_life_years.value
    else:
        given = Decimal(second_life_years)
        if given < 0:
            raise CO2Error("a second life of {years} years is not possible", years=given)
        years = Range.of(given)
    if displacement is None:
        return years, factors.displacement.value
    if not ZERO <= displacement <= _ONE:
        raise CO2Error("a displacement factor is between 0 and 1, not {value}", value=displacement)
    return years, Range.of(displacement)


def _combined(central: Decimal, spreads: Sequence[tuple[Decimal, Decimal]]) -> Range:
    """A value with the range its independent inputs give: each input's move down and up, root-sum-square.

    The inputs' uncertainties are independent (a footprint, a displacement, a lifetime, a burden), so their
    effects are combined in quadrature rather than all taken at their worst at once.
    """
    down = sum((low * low for low, _ in spreads), ZERO).sqrt()
    up = sum((high * high for _, high in spreads), ZERO).sqrt()
    return Range(central, central - down, central + up).rounded()


def _required(table: Mapping[str, Cited], category: str, what: str) -> Cited:
    cited = table.get(category)
    if cited is None:
        raise CO2Error(
            "the CO2 factors have no {what} for the category {category}", what=what, category=category
        )
    return cited


def annual_footprint_change(
    *,
    production_pct: Decimal,
    transport_pct: Decimal,
    use_pct: Decimal,
    end_of_life_pct: Decimal,
    study_years: Decimal | int,
    from_years: Decimal | int,
    to_years: Decimal | int,
) -> Decimal:
    """The relative change of the footprint per year of use when a device is used longer (ADEME-style).

    Production, transport and end of life are spent once; the use stage grows with the years (its share is
    of the study's use period). A negative result is a saving (``-0.33``: a third less per year).

    Args:
        production_pct: the production share of the study's total.
        transport_pct: the transport share.
        use_pct: the use stage's share, for ``study_years`` of use.
        end_of_life_pct: the end-of-life share (negative when it is a credit).
        study_years: the use period of the study.
        from_years: the shorter life.
        to_years: the longer life.
    """
    once = production_pct + transport_pct + end_of_life_pct
    per_year = use_pct / Decimal(study_years)

    def annual(years: Decimal | int) -> Decimal:
        return once / Decimal(years) + per_year

    return annual(to_years) / annual(from_years) - _ONE


# -- totals and reports -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CO2Totals:
    """The sums over devices (they tie out to the devices' own figures, to the gram).

    Attributes:
        devices: how many devices.
        avoided: the avoided emissions, kg CO2e.
        avoided_full_displacement: the central avoided emissions at a displacement of 1.
        treatment: the end-of-life treatment emissions, kg CO2e.
        weight_kg: the devices' mass (central).
        by_outcome: how many devices per outcome.
    """

    devices: int
    avoided: Range
    avoided_full_displacement: Decimal
    treatment: Range
    weight_kg: Decimal
    by_outcome: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        """The totals as JSON."""
        return {
            "devices": self.devices,
            "avoided_kg": self.avoided.to_json(),
            "avoided_full_displacement_kg": _text(self.avoided_full_displacement),
            "treatment_kg": self.treatment.to_json(),
            "weight_kg": _text(self.weight_kg),
            "by_outcome": dict(self.by_outcome),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CO2Totals:
        """Read :meth:`to_json`'s form."""
        return cls(
            devices=data["devices"],
            avoided=Range.from_json(data["avoided_kg"]),
            avoided_full_displacement=Decimal(data["avoided_full_displacement_kg"]),
            treatment=Range.from_json(data["treatment_kg"]),
            weight_kg=Decimal(data["weight_kg"]),
            by_outcome=dict(data["by_outcome"]),
        )


def co2_totals(results: Iterable[DeviceCO2]) -> CO2Totals:
    """Sum device results."""
    count = 0
    avoided = treatment = ZERO_RANGE
    full = weight = ZERO
    outcomes: dict[str, int] = {}
    for result in results:
        count += 1
        avoided += result.avoided
        treatment += result.treatment
        full += result.avoided_full_displacement
        weight += result.weight_kg.central
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return CO2Totals(
        devices=count,
        avoided=avoided,
        avoided_full_displacement=full,
        treatment=treatment,
        weight_kg=weight,
        by_outcome=dict(sorted(outcomes.items())),
    )


class EntryStatus(StrEnum):
    """How settled a report entry's outcome is."""

    FINAL = "final"
    """The device was disposed of, recycled or refurbished: its outcome is known."""
    EXPECTED = "expected"
    """The device was bought (paid or credited) and awaits its disposition: reuse is expected."""


@attrs.frozen(kw_only=True)
class CO2Entry:
    """One device of a report.

    Attributes:
        order_id: the order.
        device_id: the device of the order.
        completed_at: when it reached its outcome (the day of the report's period it counts in).
        status: final or expected.
        result: its CO2 result.
    """

    order_id: str
    device_id: str
    completed_at: datetime
    status: EntryStatus
    result: DeviceCO2


@attrs.frozen(kw_only=True)
class OrderCO2:
    """The CO2 result of an order: its counted devices, and which are still under way or left out.

    Attributes:
        order_id: the order.
        complete: whether every device reached its outcome or was left out (the order's figures are final
            once its counted devices are disposed of).
        entries: the counted devices, each with its result.
        pending: devices still under way (not yet bought or recycled).
        excluded: devices returned, cancelled, expired or surrendered (no second life through the shop).
        totals: the sums over ``entries``.
    """

    order_id: str
    complete: bool
    entries: tuple[CO2Entry, ...]
    pending: tuple[str, ...]
    excluded: tuple[str, ...]
    totals: CO2Totals

    def to_json(self) -> dict[str, Any]:
        """The result as JSON: totals and each device's lines."""
        return {
            "order_id": self.order_id,
            "complete": self.complete,
            "pending": list(self.pending),
            "excluded": list(self.excluded),
            "totals": self.totals.to_json(),
            "devices": [
                {
                    "device_id": entry.device_id,
                    "completed_at": as_utc(entry.completed_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "status": entry.status.value,
                    **entry.result.to_json(),
                }
                for entry in self.entries
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderCO2:
        """Read :meth:`to_json`'s form (a client reads the service's answer with it)."""
        return cls(
            order_id=data["order_id"],
            complete=data["complete"],
            entries=tuple(
                CO2Entry(
                    order_id=data["order_id"],
                    device_id=device["device_id"],
                    completed_at=datetime.fromisoformat(device["completed_at"]),
                    status=EntryStatus(device["status"]),
                    result=DeviceCO2.from_json(device),
                )
                for device in data["devices"]
            ),
            pending=tuple(data["pending"]),
            excluded=tuple(data["excluded"]),
            totals=CO2Totals.from_json(data["totals"]),
        )


SCOPE3_NOTES: Final[Mapping[str, str]] = {
    "avoided_emissions": N_(
        "Avoided emissions are an impact outside the reporting company's inventory, against a reference "
        "scenario (WBCSD Guidance on Avoided Emissions, 2023). They are reported apart from scopes 1, 2 "
        "and 3 and never added to or subtracted from them."
    ),
    "category_1_2": (
        "Categories 1 and 2 (purchased goods, capital goods): the buyer of a refurbished device shows a "
        "lower figure in its own inventory; that is an inventory effect of the buyer, not this report's "
        "claim."
    ),
    "category_5": (
        "Category 5 (waste generated in operations): for a company handing in its own devices, the devices "
        "recycled or kept for parts, their mass and the treatment emissions below."
    ),
    "category_12": (
        "Category 12 (end-of-life treatment of sold products): for a seller of the devices, the treatment "
        "emissions below (recycled-content convention; no material credit netted)."
    ),
}


def co2_report_document(
    entries: Sequence[CO2Entry],
    *,
    factors: CO2Factors,
    company: str,
    start: date,
    end: date,
    generated_at: datetime,
    locale: str = "en",
) -> dict[str, Any]:
    """The report of a company and period as a JSON document (the payload a signature covers).

    It holds the totals (avoided emissions apart from the inventory figures), the totals per month, category
    and outcome, the Scope-3 notes with the categories the figures touch, every factor row used with its
    source, and one compact entry per device (its factor row, outcome and figures) that the totals tie out
    to.

    Args:
        entries: the devices, each with its result.
        factors: the factor document used.
        company: whom the report is for.
        start: the period's first day.
        end: the period's last day.
        generated_at: when the report was made.
        locale: the language of the avoided-emissions note (English by default).
    """
    locale = canonical_locale(locale)
    totals = co2_totals(entry.result for entry in entries)
    months: dict[str, list[DeviceCO2]] = defaultdict(list)
    categories: dict[str, list[DeviceCO2]] = defaultdict(list)
    used: dict[str, int] = defaultdict(int)
    for entry in entries:
        months[as_utc(entry.completed_at).strftime("%Y-%m")].append(entry.result)
        categories[entry.result.category].append(entry.result)
        used[entry.result.factor_ref] += 1
    inventory = [entry.result for entry in entries if entry.result.outcome is not Outcome.REUSE]
    recycled = co2_totals(inventory)
    return {
        "report": "co2-avoided",
        "method": METHOD_VERSION,
        "factors": {
            "id": factors.factors_id,
            "version": factors.version,
            "as_of": factors.as_of,
            "content_hash": factors.content_hash,
        },
        "company": company,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "generated_at": as_utc(generated_at).isoformat().replace("+00:00", "Z"),
        "avoided_emissions": {
            "note": translate(SCOPE3_NOTES["avoided_emissions"], locale),
            "kg": totals.avoided.to_json(),
            "full_displacement_kg": _text(totals.avoided_full_displacement),
            "devices_reused": totals.by_outcome.get(Outcome.REUSE.value, 0),
        },
        "inventory_view": {
            "category_1_2": SCOPE3_NOTES["category_1_2"],
            "category_5": SCOPE3_NOTES["category_5"],
            "category_12": SCOPE3_NOTES["category_12"],
            "devices_recycled_or_parts": recycled.devices,
            "treatment_kg": recycled.treatment.to_json(),
            "waste_weight_kg": _text(recycled.weight_kg),
        },
        "totals": totals.to_json(),
        "by_month": [
            {"month": month, **co2_totals(results).to_json()} for month, results in sorted(months.items())
        ],
        "by_category": [
            {"category": category, **co2_totals(results).to_json()}
            for category, results in sorted(categories.items())
        ],
        "factor_rows": [_factor_row_json(factors, ref, count) for ref, count in sorted(used.items())],
        "sources": {key: dict(value) for key, value in sorted(factors.sources.items())},
        "devices": [_entry_json(entry) for entry in entries],
    }


def _factor_row_json(factors: CO2Factors, ref: str, count: int) -> dict[str, Any]:
    document: dict[str, Any] = {"ref": ref, "devices": count}
    row = next((row for row in factors.rows if row.ref == ref), None)
    if row is not None:
        storage = f" {row.storage_gb} GB" if row.storage_gb else ""
        document.update(
            description=f"{row.brand} {row.model}{storage}",
            footprint_kg=_text(row.footprint_kg),
            report=row.report,
            source=row.source,
            confidence=row.confidence,
        )
        return document
    fallback = next(item for item in factors.fallbacks.values() if item.ref == ref)
    document.update(
        description=f"{fallback.category} fallback",
        footprint_kg=fallback.footprint.value.to_json(),
        report=fallback.basis,
        source=fallback.footprint.source or "",
        confidence="low",
    )
    return document


CSV_COLUMNS: Final = (
    "order_id",
    "device_id",
    "completed_at",
    "status",
    "model_id",
    "variant_id",
    "category",
    "outcome",
    "basis",
    "factor_ref",
    "avoided_kg",
    "avoided_low_kg",
    "avoided_high_kg",
    "avoided_full_displacement_kg",
    "treatment_kg",
    "weight_kg",
    "method",
    "factors",
)


def _entry_row(entry: CO2Entry) -> tuple[str, ...]:
    result = entry.result
    return (
        entry.order_id,
        entry.device_id,
        as_utc(entry.completed_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        entry.status.value,
        result.model_id,
        result.variant_id or "",
        result.category,
        result.outcome.value,
        result.basis.value,
        result.factor_ref,
        _text(result.avoided.central),
        _text(result.avoided.low),
        _text(result.avoided.high),
        _text(result.avoided_full_displacement),
        _text(result.treatment.central),
        _text(result.weight_kg.central),
        result.method,
        result.factors_version,
    )


def _entry_json(entry: CO2Entry) -> dict[str, Any]:
    return dict(zip(CSV_COLUMNS, _entry_row(entry), strict=True))


def co2_report_csv(entries: Iterable[CO2Entry]) -> str:
    """The report's devices as CSV, one row per device (``CSV_COLUMNS``), with a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_entry_row(entry) for entry in entries)
    return buffer.getvalue()
