"""CO2 avoided by a second life: the cited factor document, the published figures, the calculation's laws."""

from __future__ import annotations

import copy
import csv
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradein_sdk._domain.catalog import Catalog
from tradein_sdk._domain.co2 import (
    CSV_COLUMNS,
    METHOD_VERSION,
    ZERO_RANGE,
    CO2Entry,
    CO2Factors,
    DeviceCO2,
    EntryStatus,
    FactorBasis,
    LineKind,
    Outcome,
    Range,
    annual_footprint_change,
    co2_factors_problems,
    co2_report_csv,
    co2_report_document,
    co2_totals,
    device_co2,
    parse_co2_factors,
)
from tradein_sdk._errors import CO2Error, DocumentInvalidError, TradeInError
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from tradein_sdk._domain.co2 import CO2Line

_BUNDLED_DOCUMENT: Final[dict[str, Any]] = json.loads(
    (DATA_DIR / "co2-factors.json").read_text(encoding="utf-8")
)
FACTORS: Final = CO2Factors.bundled()
CATALOG: Final = Catalog.bundled()
CATEGORIES: Final = ("smartphone", "tablet", "smartwatch")
ROUGHLY: Final = settings(max_examples=100, deadline=None)


def bundled_document() -> dict[str, Any]:
    """A fresh, mutable copy of the bundled factor document."""
    return copy.deepcopy(_BUNDLED_DOCUMENT)


def row_index(document: dict[str, Any], model_id: str, storage_gb: int | None) -> int:
    """The index of the one device row of ``model_id`` with ``storage_gb``."""
    (index,) = [
        index
        for index, row in enumerate(document["devices"])
        if row.get("model_id") == model_id and row.get("storage_gb") == storage_gb
    ]
    return index


IPHONE_11_ROW: Final = row_index(_BUNDLED_DOCUMENT, "apple-iphone-11", 64)


def at(document: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """The object at ``path`` inside ``document``."""
    found: Any = document
    for part in path:
        found = found[part]
    result: dict[str, Any] = found
    return result


def figures(node: object, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object with ``central``, ``low`` and ``high`` below ``node``, with its JSON path."""
    if isinstance(node, dict):
        if {"central", "low", "high"} <= set(node):
            yield path, node
        for key, value in node.items():
            yield from figures(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from figures(value, f"{path}[{index}]")


def lines_of(result: DeviceCO2, kind: LineKind) -> list[CO2Line]:
    """The result's lines of one kind."""
    return [line for line in result.lines if line.kind is kind]


def ordered(value: Range) -> bool:
    """Whether ``low <= central <= high``."""
    return value.low <= value.central <= value.high


def percent(value: Decimal) -> Decimal:
    """A fraction as a whole percentage, rounded half-even (``0.7811`` → ``0.78``)."""
    return value.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


# -- the factor document: every figure cited ---------------------------------------------------------------


def test_the_bundled_document_has_no_problems() -> None:
    """The bundled document passes the schema and the rules, so each negative test below breaks one thing."""
    assert co2_factors_problems(bundled_document()) == []
    assert parse_co2_factors(bundled_document()) == FACTORS


def test_every_device_row_has_a_source_and_a_confidence() -> None:
    """Each manufacturer footprint says where it was read and how far it is trusted."""
    rows = _BUNDLED_DOCUMENT["devices"]
    assert rows
    for index, row in enumerate(rows):
        assert isinstance(row.get("source"), str), index
        assert row["source"].strip(), index
        assert row.get("confidence") in {"high", "medium", "low"}, index
    assert all(row.source.strip() and row.confidence in FACTORS.uncertainty for row in FACTORS.rows)


def test_every_figure_with_a_range_is_cited_or_flagged() -> None:
    """Fallback footprints, burdens, recycling shares, weights and the scenario are cited or flagged.

    Each names a source that ``$.sources`` has, or an assumption; every figure of those groups is found, so
    the check is not vacuous.
    """
    document = bundled_document()
    known = set(document["sources"])
    found = dict(figures(document))
    burdens = document["burdens"]
    expected = (
        {f"$.fallbacks[{index}].footprint_kg" for index in range(len(document["fallbacks"]))}
        | {f"$.burdens.{kind}[{index}]" for kind in burdens for index in range(len(burdens[kind]))}
        | {f"$.{name}[{index}]" for name in ("recycling", "weights") for index in range(len(document[name]))}
        | {"$.scenario.second_life_years", "$.scenario.displacement"}
    )
    assert set(found) == expected
    for path, figure in found.items():
        source, assumption = figure.get("source"), figure.get("assumption")
        assert source is None or source in known, path
        assert source in known or (isinstance(assumption, str) and assumption.strip()), path


def test_every_uncertainty_level_and_every_read_figure_is_cited_or_flagged() -> None:
    """The ± percent of each confidence level is cited too, and so is every figure the calculation reads."""
    document = bundled_document()
    known = set(document["sources"])
    assert set(document["uncertainty"]) == {"high", "medium", "low"}
    for level, item in document["uncertainty"].items():
        assert item.get("source") in known or item.get("assumption", "").strip(), level
        assert item.get("source") is None or item["source"] in known, level
    cited = [
        *FACTORS.uncertainty.values(),
        *FACTORS.refurbishment.values(),
        *FACTORS.logistics.values(),
        *FACTORS.parts.values(),
        *FACTORS.recycling.values(),
        *FACTORS.weights.values(),
        *(fallback.footprint for fallback in FACTORS.fallbacks.values()),
        FACTORS.second_life_years,
        FACTORS.displacement,
    ]
    for figure in cited:
        assert figure.source in FACTORS.sources or figure.assumption, figure.ref
        assert ordered(figure.value), figure.ref


def _drop_source(document: dict[str, Any]) -> None:
    del document["devices"][IPHONE_11_ROW]["source"]


def _uncite_burden(document: dict[str, Any]) -> None:
    burden = at(document, "burdens", "refurbishment", 0)
    burden.pop("source", None)
    burden.pop("assumption", None)


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (_drop_source, f"$.devices[{IPHONE_11_ROW}]", "'source' is a required property"),
        (_uncite_burden, "$.burdens.refurbishment[0]", "is not valid under any of the given schemas"),
        (
            lambda document: at(document, "burdens", "logistics", 1).update(source="nowhere-2020"),
            "$.burdens.logistics[1].source",
            "no source 'nowhere-2020' in $.sources",
        ),
        (
            lambda document: at(document, "uncertainty", "medium").update(source="nowhere-2020"),
            "$.uncertainty.medium.source",
            "no source 'nowhere-2020' in $.sources",
        ),
        (
            lambda document: at(document, "burdens", "parts", 0).update(low="2"),  # central 1.5
            "$.burdens.parts[0]",
            "does not hold",
        ),
        (
            lambda document: at(document, "fallbacks", 0, "footprint_kg").update(high="1"),
            "$.fallbacks[0].footprint_kg",
            "does not hold",
        ),
        (
            lambda document: at(document, "scenario", "displacement").update(high="1.5"),
            "$.scenario.displacement.high",
            "at most 1",
        ),
    ],
    ids=[
        "row-without-source",
        "burden-neither-source-nor-assumption",
        "unknown-source-id",
        "uncertainty-unknown-source-id",
        "low-above-central",
        "high-below-central",
        "displacement-above-1",
    ],
)
def test_factor_problems_name_their_json_path(
    change: Callable[[dict[str, Any]], object], path: str, words: str
) -> None:
    """Each broken rule is reported at its JSON path, and parsing refuses the document with those problems."""
    document = bundled_document()
    change(document)
    problems = co2_factors_problems(document)
    assert any(problem.path == path and words in problem.message for problem in problems), problems
    with pytest.raises(DocumentInvalidError) as caught:
        parse_co2_factors(document, origin="factors.json")
    assert caught.value.code == "document_invalid"
    assert caught.value.kind == "co2-factors"
    assert caught.value.source == "factors.json"
    assert caught.value.problems == tuple(problems)
    assert path in str(caught.value)


def test_an_unknown_source_id_in_a_device_rows_shares_is_reported() -> None:
    """A device row's stage shares may cite a source id; one that ``$.sources`` lacks is a problem."""
    document = bundled_document()
    at(document, "devices", IPHONE_11_ROW, "shares")["source"] = "nowhere-2020"
    problems = co2_factors_problems(document)
    assert any(problem.path == f"$.devices[{IPHONE_11_ROW}].shares.source" for problem in problems), problems


# -- the bundled catalog's coverage and the derived fallbacks ---------------------------------------------


def test_coverage_of_the_bundled_catalog() -> None:
    """35 of the 109 catalog models have a footprint of their own; the rest use their category's fallback."""
    ids = [model.id for model in CATALOG.models]
    with_rows = {row.model_id for row in FACTORS.rows if row.model_id is not None}
    coverage = FACTORS.coverage(model.id for model in CATALOG.models)
    assert coverage == (sum(1 for model_id in ids if model_id in with_rows), len(ids))
    assert coverage == (35, 109)


def test_rows_name_catalog_models_of_the_same_category() -> None:
    """A row's ``model_id`` is a catalog model of the row's category (a typo would silently fall back)."""
    models = {model.id: model for model in CATALOG.models}
    for row in FACTORS.rows:
        if row.model_id is not None:
            assert row.model_id in models, row.ref
            assert models[row.model_id].category.value == row.category, row.ref


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_fallback_is_derived_from_its_category_rows(category: str) -> None:
    """A category's fallback is derived from its rows, as ``scripts/co2_factors.py`` says.

    The central value is the median of the rows' footprints, low and high the smallest and largest; the
    shares are the mean (to 0.1) of the rows that state production and transport.
    """
    rows = [row for row in _BUNDLED_DOCUMENT["devices"] if row["category"] == category]
    footprints = [Decimal(row["footprint_kg"]) for row in rows]
    fallback = FACTORS.fallbacks[category]
    assert fallback.footprint.value == Range(statistics.median(footprints), min(footprints), max(footprints))
    stated = [row["shares"] for row in rows if {"production", "transport"} <= set(row.get("shares", {}))]
    mean_production = statistics.mean(Decimal(shares["production"]) for shares in stated)
    mean_transport = statistics.mean(Decimal(shares["transport"]) for shares in stated)
    assert fallback.production_pct == mean_production.quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    assert fallback.transport_pct == mean_transport.quantize(Decimal("0.1"), ROUND_HALF_EVEN)


# -- published figures, recomputed from the same inputs ----------------------------------------------------


def test_refurbed_fraunhofer_iphone_11_production() -> None:
    """Refurbed/Fraunhofer Austria: iPhone 11 production 56.9 kg = Apple's 72 kg × 79 % (bundled row)."""
    found = FACTORS.footprint(model_id="apple-iphone-11", category="smartphone", storage_gb=64)
    production = found.footprint.central * found.production_pct / 100
    assert production.quantize(Decimal("0.1"), ROUND_HALF_EVEN) == Decimal("56.9")


def test_refurbed_fraunhofer_78_percent_saving() -> None:
    """Refurbed/Fraunhofer: a refurbished iPhone 11 (2.8 kg refurbishment) saves 78 % of the 72 kg footprint.

    With the iPhone 11 report's stages (production 79 %, use 17 %, end of life 1 % as Boavizta's Apple
    ratio, transport the remaining 3 %), a full second life (the reference lifetime) and a displacement of 1,
    the displaced production and transport minus the refurbishment is 72 × 0.82 − 2.8 = 56.24 kg, 78.1 %.
    Logistics are left out: the study does not state them.
    """
    document = bundled_document()
    at(document, "devices", IPHONE_11_ROW)["shares"] = {
        "production": "79",
        "transport": "3",
        "use": "17",
        "end_of_life": "1",
    }
    factors = parse_co2_factors(document)
    found = factors.footprint(model_id="apple-iphone-11", category="smartphone", storage_gb=64)
    assert (found.production_pct, found.transport_pct, found.lifetime_years) == (Decimal(79), Decimal(3), 3)
    result = device_co2(
        factors,
        model_id="apple-iphone-11",
        category="smartphone",
        storage_gb=64,
        second_life_years=found.lifetime_years,
        displacement=Decimal(1),
    )
    (displaced,) = lines_of(result, LineKind.DISPLACED_PRODUCTION)
    (refurbishment,) = lines_of(result, LineKind.REFURBISHMENT)
    assert refurbishment.kg.central == Decimal("-2.8")  # the study's own figure
    saving = (displaced.kg.central + refurbishment.kg.central) / found.footprint.central
    assert percent(saving) == Decimal("0.78")


def test_fairphone_4_five_years_instead_of_three() -> None:
    """Fraunhofer/Fairphone 4: 5 years of use instead of 3 cut the annual footprint by 33 %.

    That holds when the 4.2 % end-of-life share is a credit; read as a burden it would be 34 %, so the
    published figure supports the credit reading that co2-method.md suspects.
    """
    stages = {"production_pct": Decimal("73.7"), "transport_pct": Decimal("4.7"), "use_pct": Decimal("24.8")}
    as_credit = annual_footprint_change(
        **stages, end_of_life_pct=Decimal("-4.2"), study_years=5, from_years=3, to_years=5
    )
    as_burden = annual_footprint_change(
        **stages, end_of_life_pct=Decimal("4.2"), study_years=5, from_years=3, to_years=5
    )
    assert percent(as_credit) == Decimal("-0.33")
    assert percent(as_burden) == Decimal("-0.34")


# -- the calculation's laws, for any catalog device ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Device:
    """A catalog device with what became of it and the scenario to compute with."""

    model_id: str
    variant_id: str
    category: str
    storage_gb: int
    outcome: Outcome
    parts: tuple[str, ...]
    displacement: Decimal | None
    second_life_years: Decimal | int | None

    def co2(self, factors: CO2Factors = FACTORS, **changes: Any) -> DeviceCO2:  # noqa: ANN401 - arguments
        """Its result with ``changes`` to the arguments of :func:`device_co2`."""
        arguments: dict[str, Any] = {
            "model_id": self.model_id,
            "variant_id": self.variant_id,
            "category": self.category,
            "storage_gb": self.storage_gb,
            "outcome": self.outcome,
            "parts": self.parts,
            "displacement": self.displacement,
            "second_life_years": self.second_life_years,
        } | changes
        return device_co2(factors, **arguments)


DISPLACEMENTS: Final = st.none() | st.decimals(
    min_value=0, max_value=1, places=3, allow_nan=False, allow_infinity=False
)
YEAR_VALUES: Final = st.integers(min_value=0, max_value=10) | st.decimals(
    min_value=0, max_value=10, places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def devices(draw: st.DrawFn, outcomes: Sequence[Outcome] = tuple(Outcome)) -> Device:
    """Any catalog model and variant, any outcome, any parts its category has factors for, any scenario."""
    model = draw(st.sampled_from(CATALOG.models))
    variant = draw(st.sampled_from(model.variants))
    category = model.category.value
    available = sorted(part for part_category, part in FACTORS.parts if part_category == category)
    parts = draw(st.lists(st.sampled_from(available), unique=True)) if available else []
    return Device(
        model_id=model.id,
        variant_id=variant.id,
        category=category,
        storage_gb=variant.storage_gb,
        outcome=draw(st.sampled_from(outcomes)),
        parts=tuple(parts),
        displacement=draw(DISPLACEMENTS),
        second_life_years=draw(st.none() | YEAR_VALUES),
    )


@given(devices())
@ROUGHLY
def test_every_range_is_ordered(device: Device) -> None:
    """Avoided emissions, treatment, weight and every line have ``low <= central <= high``."""
    result = device.co2()
    assert ordered(result.avoided), result.avoided
    assert ordered(result.treatment), result.treatment
    assert ordered(result.weight_kg), result.weight_kg
    for line in result.lines:
        assert ordered(line.kg), (line.kind, line.kg)


@given(devices(outcomes=(Outcome.REUSE,)), YEAR_VALUES, YEAR_VALUES)
@ROUGHLY
def test_more_reuse_years_never_lower_the_avoided_emissions(
    device: Device, first: Decimal | int, second: Decimal | int
) -> None:
    """For a reused device, a longer explicit second life never lowers the central, low or high result."""
    shorter, longer = sorted((Decimal(first), Decimal(second)))
    fewer = device.co2(second_life_years=shorter).avoided
    more = device.co2(second_life_years=longer).avoided
    assert more.central >= fewer.central
    assert more.low >= fewer.low
    assert more.high >= fewer.high


@given(devices())
@ROUGHLY
def test_outcomes_claim_either_avoided_emissions_or_treatment(device: Device) -> None:
    """A recycled or parts device claims nothing avoided; a reused one reports no treatment.

    The recycled or parts device reports its end-of-life treatment as a burden beside the avoided emissions;
    the reused one claims the sum of its lines (each rounded to the gram), at most its result at d = 1.
    """
    result = device.co2()
    if device.outcome is Outcome.REUSE:
        assert result.treatment == ZERO_RANGE
        assert [line.kind for line in result.lines] == [
            LineKind.DISPLACED_PRODUCTION,
            LineKind.REFURBISHMENT,
            *(LineKind.SPARE_PART for _ in device.parts),
            LineKind.LOGISTICS,
        ]
        assert all(line.counted for line in result.lines)
        assert result.avoided.central == sum((line.kg.central for line in result.lines), Decimal(0))
        assert result.avoided.central <= result.avoided_full_displacement
        if device.displacement == 1:
            assert result.avoided.central == result.avoided_full_displacement
    else:
        assert result.avoided == ZERO_RANGE
        assert result.avoided_full_displacement == 0
        assert result.treatment.central > 0
        (line,) = result.lines
        assert line.kind is LineKind.END_OF_LIFE_TREATMENT
        assert not line.counted
        assert line.kg == result.treatment


@given(devices())
@ROUGHLY
def test_every_result_carries_the_method_and_the_factors_version(device: Device) -> None:
    """The method version and ``factors_id@version`` of the document used are on every result."""
    result = device.co2()
    assert result.method == METHOD_VERSION
    assert result.factors_version == f"{_BUNDLED_DOCUMENT['factors_id']}@{_BUNDLED_DOCUMENT['version']}"
    assert result.to_json()["method"] == METHOD_VERSION
    assert (result.model_id, result.variant_id, result.outcome) == (
        device.model_id,
        device.variant_id,
        device.outcome,
    )


@given(st.lists(devices(), max_size=12))
@ROUGHLY
def test_totals_tie_out_to_the_devices(many: list[Device]) -> None:
    """The totals are the exact sums of the devices' figures, and the outcome counts match."""
    results = [device.co2() for device in many]
    totals = co2_totals(results)
    assert totals.devices == len(results)
    assert totals.avoided.central == sum((result.avoided.central for result in results), Decimal(0))
    assert totals.avoided.low == sum((result.avoided.low for result in results), Decimal(0))
    assert totals.avoided.high == sum((result.avoided.high for result in results), Decimal(0))
    assert totals.treatment.central == sum((result.treatment.central for result in results), Decimal(0))
    assert totals.treatment.low == sum((result.treatment.low for result in results), Decimal(0))
    assert totals.treatment.high == sum((result.treatment.high for result in results), Decimal(0))
    assert totals.avoided_full_displacement == sum(
        (result.avoided_full_displacement for result in results), Decimal(0)
    )
    assert totals.weight_kg == sum((result.weight_kg.central for result in results), Decimal(0))
    assert dict(totals.by_outcome) == dict(Counter(result.outcome.value for result in results))


MOMENTS: Final = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - Hypothesis takes naive bounds with its timezones
    max_value=datetime(2026, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
)
STATUSES: Final = st.sampled_from(EntryStatus)


def entries_of(many: Sequence[tuple[Device, datetime, EntryStatus]]) -> list[CO2Entry]:
    """One report entry per device, each on an order of its own."""
    return [
        CO2Entry(
            order_id=f"ord_{index:04d}",
            device_id="d1",
            completed_at=moment,
            status=status,
            result=device.co2(),
        )
        for index, (device, moment, status) in enumerate(many)
    ]


def report(entries: Sequence[CO2Entry]) -> dict[str, Any]:
    """The 2026 report of the entries."""
    return co2_report_document(
        entries,
        factors=FACTORS,
        company="Beispiel Handel GmbH",
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        generated_at=datetime(2027, 1, 2, 9, 0, tzinfo=UTC),
    )


def range_sum(ranges: Sequence[dict[str, str]]) -> dict[str, Decimal]:
    """The sum of JSON ranges, bound by bound."""
    return {
        key: sum((Decimal(item[key]) for item in ranges), Decimal(0)) for key in ("central", "low", "high")
    }


def decimal_range(item: dict[str, str]) -> dict[str, Decimal]:
    """A JSON range as decimals."""
    return {key: Decimal(value) for key, value in item.items()}


@given(st.lists(st.tuples(devices(), MOMENTS, STATUSES), max_size=12))
@ROUGHLY
def test_the_report_ties_out_to_its_devices_and_months(
    many: list[tuple[Device, datetime, EntryStatus]],
) -> None:
    """The report's totals are the sums of its device rows; months and categories add up to them.

    The CSV has a header and one row per device, and its avoided column sums to the total.
    """
    entries = entries_of(many)
    document = report(entries)
    totals = document["totals"]
    rows = document["devices"]
    assert len(rows) == len(entries) == totals["devices"]
    assert decimal_range(totals["avoided_kg"]) == {
        "central": sum((Decimal(row["avoided_kg"]) for row in rows), Decimal(0)),
        "low": sum((Decimal(row["avoided_low_kg"]) for row in rows), Decimal(0)),
        "high": sum((Decimal(row["avoided_high_kg"]) for row in rows), Decimal(0)),
    }
    assert Decimal(totals["treatment_kg"]["central"]) == sum(
        (Decimal(row["treatment_kg"]) for row in rows), Decimal(0)
    )
    months = document["by_month"]
    assert [month["month"] for month in months] == sorted(
        {entry.completed_at.strftime("%Y-%m") for entry in entries}
    )
    for group in (months, document["by_category"]):
        assert sum(item["devices"] for item in group) == totals["devices"]
        for key in ("avoided_kg", "treatment_kg"):
            assert range_sum([item[key] for item in group]) == decimal_range(totals[key])
    assert Decimal(document["avoided_emissions"]["kg"]["central"]) == Decimal(totals["avoided_kg"]["central"])
    table = list(csv.reader(io.StringIO(co2_report_csv(entries))))
    assert table[0] == list(CSV_COLUMNS)
    assert len(table) == len(entries) + 1
    avoided = CSV_COLUMNS.index("avoided_kg")
    assert sum((Decimal(row[avoided]) for row in table[1:]), Decimal(0)) == Decimal(
        totals["avoided_kg"]["central"]
    )


def test_a_completion_time_in_another_zone_is_reported_in_utc() -> None:
    """00:30 on 1 December at UTC+1 is 23:30 UTC on 30 November: the report says so, in November."""
    device = Device(
        model_id="apple-iphone-11",
        variant_id="apple-iphone-11-64gb",
        category="smartphone",
        storage_gb=64,
        outcome=Outcome.REUSE,
        parts=(),
        displacement=None,
        second_life_years=None,
    )
    berlin = timezone(timedelta(hours=1))
    entries = entries_of([(device, datetime(2026, 12, 1, 0, 30, tzinfo=berlin), EntryStatus.FINAL)])
    document = report(entries)
    assert document["devices"][0]["completed_at"] == "2026-11-30T23:30:00Z"
    assert [month["month"] for month in document["by_month"]] == ["2026-11"]


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"model_id": "apple-iphone-11", "category": "smartphone", "storage_gb": 64, "parts": ["camera"]},
        {"model_id": "apple-watch-ultra", "category": "smartwatch", "parts": ["display"]},
        {"model_id": "apple-iphone-11", "category": "smartphone", "displacement": Decimal("1.5")},
        {"model_id": "apple-iphone-11", "category": "smartphone", "displacement": Decimal("-0.1")},
        {"model_id": "apple-iphone-11", "category": "smartphone", "second_life_years": -1},
        {"model_id": "apple-iphone-11", "category": "smartphone", "second_life_years": Decimal("-0.5")},
        {"model_id": "acme-laptop-1", "category": "laptop", "outcome": Outcome.REUSE},
        {"model_id": "acme-laptop-1", "category": "laptop", "outcome": Outcome.RECYCLE},
    ],
    ids=[
        "phone-camera",
        "watch-display",
        "displacement-1.5",
        "displacement-negative",
        "negative-years",
        "negative-fractional-years",
        "unknown-category-reuse",
        "unknown-category-recycle",
    ],
)
def test_impossible_inputs_are_refused(arguments: dict[str, Any]) -> None:
    """Inputs the calculation cannot honour raise ``CO2Error`` with the code ``co2_error``.

    A part without a factor for the category, a displacement outside 0 to 1, negative years, or an unknown
    category for a model without a row.
    """
    with pytest.raises(CO2Error) as caught:
        device_co2(FACTORS, **arguments)
    assert isinstance(caught.value, TradeInError)
    assert caught.value.code == "co2_error"


# -- which footprint stands for the device -----------------------------------------------------------------


def test_an_exact_row_is_the_exact_basis() -> None:
    """The iPhone 11 64 GB has a row of its own: its footprint, ± the medium confidence's uncertainty."""
    row = FACTORS.rows[IPHONE_11_ROW]
    found = FACTORS.footprint(model_id="apple-iphone-11", category="smartphone", storage_gb=64)
    spread = FACTORS.uncertainty[row.confidence].value.central / 100
    assert found.basis is FactorBasis.EXACT
    assert found.ref == row.ref == f"$.devices[{IPHONE_11_ROW}]"
    assert found.footprint == Range(
        row.footprint_kg, row.footprint_kg * (1 - spread), row.footprint_kg * (1 + spread)
    )
    result = device_co2(FACTORS, model_id="apple-iphone-11", category="smartphone", storage_gb=64)
    assert result.basis is FactorBasis.EXACT
    assert result.factor_ref == row.ref


def test_a_missing_storage_uses_the_largest_row_at_or_below() -> None:
    """No iPhone 11 row is for 512 GB: the largest row at or below it stands in, on the model basis.

    Its stage shares are those of the model's base row.
    """
    rows = [row for row in FACTORS.rows if row.model_id == "apple-iphone-11"]
    assert 512 not in {row.storage_gb for row in rows}
    largest = max((row for row in rows if (row.storage_gb or 0) <= 512), key=lambda row: row.storage_gb or 0)
    base = next(row for row in rows if row.production_pct is not None)
    found = FACTORS.footprint(model_id="apple-iphone-11", category="smartphone", storage_gb=512)
    assert found.basis is FactorBasis.MODEL
    assert found.ref == largest.ref
    assert found.footprint.central == largest.footprint_kg
    assert (found.production_pct, found.shares_ref) == (base.production_pct, base.ref)
    assert device_co2(FACTORS, model_id="apple-iphone-11", category="smartphone", storage_gb=512).basis is (
        FactorBasis.MODEL
    )


def test_a_model_without_rows_uses_its_category_fallback() -> None:
    """The Galaxy S22 has no row: the smartphone fallback stands in, with its range wider than a row's."""
    assert CATALOG.model("samsung-galaxy-s22").category.value == "smartphone"
    assert not any(row.model_id == "samsung-galaxy-s22" for row in FACTORS.rows)
    fallback = FACTORS.fallbacks["smartphone"]
    found = FACTORS.footprint(model_id="samsung-galaxy-s22", category="smartphone", storage_gb=128)
    exact = FACTORS.footprint(model_id="apple-iphone-11", category="smartphone", storage_gb=64)
    assert found.basis is FactorBasis.CATEGORY
    assert found.ref == fallback.ref
    assert found.footprint == fallback.footprint.value
    assert (found.production_pct, found.transport_pct) == (fallback.production_pct, fallback.transport_pct)
    assert found.confidence == "low"

    def width(value: Range) -> Decimal:
        return (value.high - value.low) / value.central

    assert width(found.footprint) > width(exact.footprint)
    result = device_co2(FACTORS, model_id="samsung-galaxy-s22", category="smartphone", storage_gb=128)
    assert result.basis is FactorBasis.CATEGORY
    assert result.factor_ref == fallback.ref
    assert fallback.ref in lines_of(result, LineKind.DISPLACED_PRODUCTION)[0].refs
