"""The fleet domain: working days, contract price books, grades as answers, portfolio totals, manifests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grading_questionnaire import load_questionnaire
from tradein_sdk._domain.catalog import Catalog
from tradein_sdk._domain.fleet import (
    CONTRACT_ADJUSTMENT,
    FrameworkContract,
    PortfolioLine,
    add_working_days,
    contract_pricebook,
    grade_answers,
    manifest_problems,
    portfolio_totals,
)
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.pricing import PriceBook, value_device
from tradein_sdk._errors import FleetError

if TYPE_CHECKING:
    from tradein_sdk._domain.devices import DeviceModel

CATALOG = Catalog.bundled()
GRADES = ("excellent", "good", "fair", "damaged", "faulty")


def shop_book() -> PriceBook:
    """The bundled German reference price book."""
    from tradein_sdk._adapters.prices import PriceBookSource  # noqa: PLC0415

    return PriceBookSource.bundled().price_book("DE")


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=40),
    state=st.sampled_from([None, "BY", "BE", "NW"]),
)
def test_working_days_land_on_a_working_day_and_count_each_one(
    start: dt.date, days: int, state: str | None
) -> None:
    """The result is a weekday that is no holiday, and exactly ``days`` working days follow ``start``."""
    calendar = holidays.country_holidays("DE", subdiv=state)
    end = add_working_days(start, days, country="DE", subdivision=state)
    if days == 0:
        assert end == start
        return
    assert end.weekday() < 5
    assert end not in calendar
    between = [start + dt.timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert sum(1 for day in between if day.weekday() < 5 and day not in calendar) == days
    assert add_working_days(start, days + 1, country="DE", subdivision=state) > end


def test_an_unknown_holiday_calendar_is_refused() -> None:
    """A contract names a calendar the holidays package knows."""
    with pytest.raises(FleetError, match="no holiday calendar"):
        FrameworkContract(reference="x", holiday_country="XX")


@pytest.mark.parametrize("factor", ["0.4", "2.5", "1.00001"])
def test_a_price_factor_out_of_bounds_is_refused(factor: str) -> None:
    """Between 0.5 and 2, at most four decimals."""
    with pytest.raises(FleetError, match="price factor"):
        FrameworkContract(reference="x", price_factor=Decimal(factor))


SMARTPHONES = [model for model in CATALOG.models if model.category.value == "smartphone"][:40]


@settings(max_examples=30, deadline=None)
@given(
    factors=st.lists(
        st.decimals(min_value=Decimal("0.5"), max_value=Decimal(2), places=2), min_size=2, max_size=2
    ),
    model=st.sampled_from(SMARTPHONES),
    grade=st.sampled_from(GRADES[:4]),
)
def test_a_higher_contract_factor_never_lowers_a_price(
    factors: list[Decimal], model: DeviceModel, grade: str
) -> None:
    """A higher factor never prices a device lower; every line names the contract's adjustment."""
    book = shop_book()
    questionnaire = load_questionnaire("smartphone")
    report = questionnaire.evaluate(grade_answers(questionnaire, model, grade))

    def price(factor: Decimal) -> Decimal:
        contract = FrameworkContract(reference="c", price_factor=factor)
        priced = contract_pricebook(book, contract, company_id="co_test")
        valuation = value_device(
            priced, model=model, variant=model.variants[0], report=report, as_of=dt.date(2026, 12, 7)
        )
        if factor != 1:
            assert priced.pricebook_id == f"{book.pricebook_id}-co-test"
            assert CONTRACT_ADJUSTMENT in {line.adjustment_id for line in valuation.lines}
        return valuation.total.amount

    low, high = sorted(factors)
    assert price(low) <= price(high)


@pytest.mark.parametrize("category", ["smartphone", "tablet", "smartwatch"])
@pytest.mark.parametrize("grade", GRADES)
def test_a_grade_as_answers_grades_as_that_grade_for_every_brand(category: str, grade: str) -> None:
    """A fleet list's grade, as answers, evaluates to that pricing grade, whatever the brand."""
    questionnaire = load_questionnaire(category)
    brands: dict[str, DeviceModel] = {}
    for model in CATALOG.models:
        if model.category.value == category:
            brands.setdefault(model.brand, model)
    for model in brands.values():
        report = questionnaire.evaluate(grade_answers(questionnaire, model, grade))
        assert report.pricing_grade == grade, (model, report.pricing_grade)


def test_an_unknown_grade_is_refused() -> None:
    """Only the questionnaire's pricing grades."""
    with pytest.raises(FleetError, match="not a pricing grade"):
        grade_answers(load_questionnaire("smartphone"), CATALOG.models[0], "mint")


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=2000, places=2),
            st.decimals(min_value=0, max_value=1, places=2),
            st.booleans(),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_portfolio_totals_are_the_sums_of_their_lines(amounts: list[tuple[Decimal, Decimal, bool]]) -> None:
    """Totals tie out to the lines; the low total never exceeds the quoted total."""
    lines = [
        PortfolioLine(
            line=index,
            row=index + 1,
            variant_id="apple-iphone-13-128gb",
            description="Apple iPhone 13 128 GB",
            imei=None,
            serial=f"S{index}",
            asset_tag=None,
            cost_centre=None,
            lock_released=released,
            grade=None if amount == 0 else "good",
            answers={},
            amount=Money(amount, "EUR"),
            low=Money((amount * share).quantize(Decimal("0.01")), "EUR"),
            recycle_only=amount == 0,
        )
        for index, (amount, share, released) in enumerate(amounts, start=1)
    ]
    totals = portfolio_totals(lines, "EUR")
    assert totals.amount.amount == sum(amount for amount, _, _ in amounts)
    assert totals.low.amount <= totals.amount.amount
    assert totals.devices == len(lines)
    assert totals.with_value == sum(1 for amount, _, _ in amounts if amount != 0)
    assert totals.locks_to_release == sum(1 for _, _, released in amounts if not released)


def test_a_manifest_needs_one_distinct_seal_per_box() -> None:
    """Boxes and seals match; seals are distinct and printable."""
    assert manifest_problems(["A", "B"], 2) == []
    assert manifest_problems(["A"], 2) == ["2 box(es) need 2 seal number(s); 1 given"]
    assert manifest_problems(["A", "A"], 2) == ["each box has its own seal number"]
    assert manifest_problems([], 0) == ["a pickup has 1 to 500 boxes, not 0"]
    assert manifest_problems(["\x00"], 1) == ["a seal number is 1 to 40 printable characters"]
