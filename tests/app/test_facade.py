from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from grading_questionnaire import (
    build_questionnaire,
    example_answer_names,
    example_answers,
    example_diagnostics,
)
from grading_questionnaire._schemas import schema_problems
from tradein_sdk import (
    AnswersInvalidError,
    Catalog,
    Channel,
    DeviceNotFoundError,
    DocumentInvalidError,
    FixedClock,
    InvalidIMEIError,
    KeyRing,
    Money,
    PriceBookSource,
    PriceUnavailableError,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteKind,
    QuoteNotRedeemableError,
    SQLStore,
    TokenAudienceError,
    TokenExpiredError,
    TokenUnknownKeyError,
    TradeIn,
    UnsupportedLocaleError,
    parse_pricebook,
)
from tradein_sdk._adapters.prices import BUNDLED_PRICEBOOKS
from tradein_sdk._app.facade import default_data_dir
from tradein_sdk._domain.converters import document_converter
from tradein_sdk._domain.device_answers import expected_platforms

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from grading_questionnaire import Questionnaire
    from tradein_sdk import DeviceModel

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
IPHONE = "apple-iphone-13-128gb"


def answers(name: str, category: str = "smartphone") -> dict[str, Any]:
    """A bundled example answer set."""
    return example_answers(category, name).answers


def imei_with_tac(tac: str) -> str:
    """A valid IMEI with the given TAC."""
    body = tac + "123456"
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def start() -> datetime:
    """Half past nine on 24 November 2026: this module's start time."""
    return START


def test_quote_flow_online(trade_in: TradeIn) -> None:
    """An online quote is an estimate, valid 14 days, schema-valid, explained line by line, and signed."""
    issued = trade_in.quote(IPHONE, answers("worn"), locale="de_DE")
    quote = issued.quote
    assert quote.kind is QuoteKind.ESTIMATE
    assert quote.expires_at - quote.issued_at == timedelta(days=14)
    assert schema_problems("quote", quote.to_json()) == []
    assert sum((line.amount for line in quote.lines), Money.zero("EUR")) == quote.amount
    assert quote.amount > Money.zero("EUR")
    assert quote.device.variant_id == IPHONE
    assert quote.questionnaire.content_hash == trade_in.questionnaire("smartphone").content_hash
    assert quote.pricebook.id == "tradein-reference-de"
    assert quote.catalog.content_hash == Catalog.bundled().content_hash
    assert any(line.text.startswith("Alter:") for line in quote.lines)
    assert {entry.question for entry in quote.transcript} == set(quote.answers)
    claims = trade_in.verify_token(issued.token)
    assert (claims.quote_id, claims.amount, claims.expires_at) == (quote.id, quote.amount, quote.expires_at)


def test_stored_quote_reads_back_equal(trade_in: TradeIn) -> None:
    """get_quote returns exactly the quote that was issued, unredeemed."""
    issued = trade_in.quote(IPHONE, answers("flawless"))
    stored = trade_in.get_quote(issued.quote.id)
    assert stored.quote == issued.quote
    assert stored.redemption is None


def test_store_quotes_are_short_lived(trade_in: TradeIn) -> None:
    """A store quote is valid for one day by default."""
    quote = trade_in.quote(IPHONE, answers("flawless"), channel=Channel.STORE).quote
    assert quote.expires_at - quote.issued_at == timedelta(days=1)


def test_redemption_credits_the_stored_amount_exactly_once(trade_in: TradeIn) -> None:
    """Redeeming credits the stored amount with the shop's reference; a second redemption is refused."""
    issued = trade_in.quote(IPHONE, answers("flawless"))
    redemption = trade_in.redeem(issued.token, reference="basket-17")
    assert redemption.amount == issued.quote.amount
    assert redemption.reference == "basket-17"
    with pytest.raises(QuoteAlreadyRedeemedError):
        trade_in.redeem(issued.token)
    assert trade_in.get_quote(issued.quote.id).redemption == redemption


def test_redemption_ignores_later_price_changes(tmp_path: Path, clock: FixedClock) -> None:
    """A quote redeemed after the shop doubled its prices still credits what was quoted."""
    first = TradeIn.embedded(tmp_path, clock=clock)
    issued = first.quote(IPHONE, answers("flawless"))
    first.close()
    doubled = _changed_book(factor="2")
    second = TradeIn.embedded(tmp_path, clock=clock, prices=PriceBookSource([doubled]))
    assert second.quote(IPHONE, answers("flawless")).quote.amount > issued.quote.amount
    assert second.redeem(issued.token).amount == issued.quote.amount
    second.close()


def _changed_book(*, factor: str) -> Any:  # noqa: ANN401 - a PriceBook
    document = json.loads((BUNDLED_PRICEBOOKS / "reference-de.json").read_text(encoding="utf-8"))
    document["version"] = "2026.12.0"
    curve = document["reference_model"]["curves"]["smartphone"]
    curve["at_launch"] = str(Decimal(curve["at_launch"]) * Decimal(factor))
    return parse_pricebook(document)


def test_quote_from_yesterday_reproduces_after_book_and_questionnaire_changed(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A quote issued yesterday is recomputed today from its snapshot, identical to the stored one."""
    yesterday = TradeIn.embedded(tmp_path, clock=clock)
    original = yesterday.quote(IPHONE, answers("worn"), locale="fr_FR").quote
    yesterday.close()

    smartphone = yesterday.questionnaire("smartphone")
    changed_document = copy.deepcopy(smartphone.to_json())
    changed_document["version"] = "2026.12.0"
    for rule in changed_document["grading"]["rules"]:
        if rule["id"] == "display_scratched":  # light scratches now count as heavy wear
            rule["set"] = {"cosmetic": "C"}
    changed_questionnaire = build_questionnaire(changed_document)
    assert changed_questionnaire.content_hash != smartphone.content_hash

    clock.advance(days=1)
    today = TradeIn.embedded(
        tmp_path,
        clock=clock,
        prices=PriceBookSource([_changed_book(factor="1.5")]),
        questionnaires={"smartphone": changed_questionnaire},
    )
    fresh = today.quote(IPHONE, answers("worn"), locale="fr_FR").quote
    assert fresh.amount != original.amount
    assert today.reproduce_quote(original.id) == original
    today.close()


def _expire(_: TradeIn, clock: FixedClock) -> None:
    clock.advance(days=14)


def _other_shop(facade: TradeIn, _: FixedClock) -> None:
    facade.audience = "another-shop"


def _rotated_away(facade: TradeIn, _: FixedClock) -> None:
    facade.key_ring = KeyRing.generate(key_id="k9")


@pytest.mark.parametrize(
    ("move", "error"),
    [(_expire, TokenExpiredError), (_other_shop, TokenAudienceError), (_rotated_away, TokenUnknownKeyError)],
    ids=["expired", "other-audience", "unknown-key"],
)
def test_tokens_that_do_not_verify(
    trade_in: TradeIn,
    clock: FixedClock,
    move: Callable[[TradeIn, FixedClock], None],
    error: type[Exception],
) -> None:
    """Expired, wrong-audience and unknown-key tokens are refused, each with its own code."""
    issued = trade_in.quote(IPHONE, answers("flawless"))
    move(trade_in, clock)
    with pytest.raises(error):
        trade_in.verify_token(issued.token)
    with pytest.raises(error):
        trade_in.redeem(issued.token)


def test_expired_quote_cannot_be_redeemed_even_with_a_valid_token(
    trade_in: TradeIn, clock: FixedClock
) -> None:
    """The store checks expiry itself: a quote past its validity is refused whatever the token says."""
    issued = trade_in.quote(IPHONE, answers("flawless"))
    clock.advance(days=14)
    with pytest.raises(QuoteExpiredError):
        trade_in.store.redeem_quote(issued.quote.id, now=clock.now())


def test_knocked_out_device_gets_a_recycling_quote(trade_in: TradeIn) -> None:
    """An activation-locked phone gets a zero, recycling-only quote with reasons; it cannot be redeemed."""
    issued = trade_in.quote(IPHONE, answers("activation-locked"), locale="de_DE")
    quote = issued.quote
    assert quote.recycle_only
    assert quote.amount == Money("0.00", "EUR")
    assert quote.pricing_grade is None
    assert quote.recycle_reasons
    assert [line.code for line in quote.lines] == ["recycle_only"]
    with pytest.raises(QuoteNotRedeemableError):
        trade_in.redeem(issued.token)


def test_guaranteed_quote_needs_the_imei(trade_in: TradeIn) -> None:
    """A staff-verified quote without an IMEI is refused; with one it is guaranteed and records it."""
    store_answers = answers("store-inspected")
    with pytest.raises(InvalidIMEIError) as caught:
        trade_in.quote(IPHONE, store_answers, verification="staff_verified")
    assert caught.value.rule == "missing"
    quote = trade_in.quote(IPHONE, store_answers, verification="staff_verified", imei="490154203237518").quote
    assert quote.kind is QuoteKind.GUARANTEED
    assert quote.device.imei == "490154203237518"
    assert quote.verification == "staff_verified"


def test_imei_of_another_model_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    """When the catalog knows the IMEI's TAC, an IMEI of another model is refused; a matching one passes."""
    shop = Catalog.from_document(
        {
            "catalog_id": "shop-tacs",
            "version": "1",
            "as_of": "2026-11-01",
            "models": [{**_model_json("apple-iphone-13"), "tac_prefixes": ["35123456"]}],
        }
    )
    facade = TradeIn.embedded(tmp_path, clock=clock, catalog=Catalog.bundled().extended_with(shop))
    facade.quote(IPHONE, answers("flawless"), imei=imei_with_tac("35123456"))
    with pytest.raises(InvalidIMEIError) as caught:
        facade.quote("apple-iphone-14-128gb", answers("flawless"), imei=imei_with_tac("35123456"))
    assert caught.value.rule == "model_mismatch"
    with pytest.raises(InvalidIMEIError):
        facade.quote(IPHONE, answers("flawless"), imei="490154203237519")
    facade.close()


def _model_json(model_id: str) -> dict[str, Any]:
    data: dict[str, Any] = document_converter().unstructure(Catalog.bundled().model(model_id))
    return data


def test_diagnostics_make_a_measured_guaranteed_quote(trade_in: TradeIn) -> None:
    """Diagnostics results merge into the answers as measured."""
    quote = trade_in.quote(
        IPHONE,
        answers("store-inspected"),
        verification="measured",
        diagnostics=example_diagnostics("smartphone", "camera-fault"),
        imei="490154203237518",
    ).quote
    assert quote.kind is QuoteKind.GUARANTEED
    assert quote.verification == "measured"


def test_device_ids(trade_in: TradeIn) -> None:
    """A model with one variant may be quoted by its model id; one with several needs the variant id."""
    watch = trade_in.quote("apple-watch-series-9", answers("flawless", "smartwatch")).quote
    assert watch.device.variant_id == "apple-watch-series-9-64gb"
    with pytest.raises(DeviceNotFoundError):
        trade_in.quote("apple-iphone-13", answers("flawless"))


def test_invalid_answers_are_a_trade_in_error_with_paths(trade_in: TradeIn) -> None:
    """Answers that do not fit raise AnswersInvalidError listing each problem with its path and code."""
    broken = {**answers("flawless"), "display_glass": "shattered-into-dust", "mystery": True}
    with pytest.raises(AnswersInvalidError) as caught:
        trade_in.quote(IPHONE, broken)
    codes = {(problem.path, problem.code) for problem in caught.value.problems}
    assert ("$.display_glass", "option_not_offered") in codes
    assert ("$.mystery", "unknown_question") in codes
    assert caught.value.code == "answers_invalid"


def test_market_without_price_book(trade_in: TradeIn) -> None:
    """A market the price source does not cover raises PriceUnavailableError, and nothing is stored."""
    with pytest.raises(PriceUnavailableError):
        trade_in.quote(IPHONE, answers("flawless"), market="FR")


def test_us_market_prices_in_dollars(trade_in: TradeIn) -> None:
    """The US reference book prices from the US launch price, in USD."""
    quote = trade_in.quote(IPHONE, answers("flawless"), market="US", locale="en_US").quote
    assert quote.amount.currency == "USD"
    assert quote.lines[0].amount == Money("799.00", "USD")


def test_embedded_keeps_its_key_between_starts(tmp_path: Path, clock: FixedClock) -> None:
    """A second embedded instance on the same data directory verifies the first one's tokens."""
    first = TradeIn.embedded(tmp_path, clock=clock)
    issued = first.quote(IPHONE, answers("flawless"))
    first.close()
    second = TradeIn.embedded(tmp_path, clock=clock)
    assert second.verify_token(issued.token).quote_id == issued.quote.id
    assert (tmp_path / "quote-keys.json").stat().st_mode & 0o777 == 0o600
    second.close()


def test_embedded_uses_a_database_url(tmp_path: Path, clock: FixedClock) -> None:
    """A database URL replaces the SQLite file in the data directory."""
    facade = TradeIn.embedded(tmp_path / "d", database_url=f"sqlite:///{tmp_path / 'other.db'}", clock=clock)
    facade.quote(IPHONE, answers("flawless"))
    facade.close()
    assert (tmp_path / "other.db").exists()
    assert not (tmp_path / "d" / "tradein.sqlite3").exists()


def test_rendered_questionnaire_is_localized(trade_in: TradeIn) -> None:
    """The facade renders the questionnaire in the shopper's locale."""
    rendered = trade_in.render_questionnaire("smartphone", "de_DE").to_json()
    assert rendered["locale"].startswith("de")
    assert "Gerät" in json.dumps(rendered, ensure_ascii=False)


DEVICES = [model.variants[0].id for model in Catalog.bundled() if model.variants[0].launch_price("DE")]
LOCK_QUESTIONS = ("find_my_off", "google_account_removed", "samsung_account_removed")


def fitted_to(given: dict[str, Any], model: DeviceModel, questionnaire: Questionnaire) -> dict[str, Any]:
    """An example answer set moved to ``model``'s platform, its lock answers kept (all unlocked or not)."""
    options = questionnaire.question("platform").option_ids
    platform = expected_platforms(model, options)[0]
    unlocked = all(given.get(question, True) for question in LOCK_QUESTIONS)
    fitted = {key: value for key, value in given.items() if key not in LOCK_QUESTIONS} | {
        "platform": platform
    }
    for question in questionnaire.questions:
        condition = question.show_if.to_json() if question.show_if is not None else {}
        if question.id in LOCK_QUESTIONS and platform in condition.get("in", ()):
            fitted[question.id] = unlocked
    return fitted


@settings(max_examples=60)
@given(
    device=st.sampled_from(DEVICES),
    name=st.sampled_from(example_answer_names("smartphone")),
    days=st.integers(0, 1500),
)
def test_quote_lines_always_sum_to_the_amount(device: str, name: str, days: int) -> None:
    """Across devices, answers and dates, the explanation lines add up to the quoted amount exactly."""
    clock = FixedClock(START + timedelta(days=days))
    facade = TradeIn(
        store=SQLStore("sqlite:///:memory:"),
        key_ring=KeyRing.generate(key_id="k1"),
        audience="shop",
        clock=clock,
    )
    category = Catalog.bundled().lookup(device).model.category.value
    available = example_answer_names(category)
    chosen = name if name in available else available[0]
    verification = "staff_verified" if chosen == "store-inspected" else "self_declared"
    model = Catalog.bundled().lookup(device).model
    fitted = fitted_to(answers(chosen, category), model, facade.questionnaire(category))
    quote = facade.quote(device, fitted, verification=verification, imei="490154203237518").quote
    facade.close()
    assert sum((line.amount for line in quote.lines), Money.zero("EUR")) == quote.amount
    assert quote.amount >= Money.zero("EUR")
    assert quote.amount.amount == quote.amount.amount.to_integral_value()  # the book rounds to whole euros


def test_default_data_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TRADEIN_DATA_DIR wins; otherwise XDG_DATA_HOME/tradein; otherwise ~/.local/share/tradein."""
    monkeypatch.setenv("TRADEIN_DATA_DIR", str(tmp_path / "explicit"))
    assert default_data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("TRADEIN_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "tradein"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "tradein"


def test_questionnaire_errors_become_trade_in_errors(trade_in: TradeIn) -> None:
    """An unknown locale and an invalid diagnostics document surface as the library's own errors."""
    with pytest.raises(UnsupportedLocaleError) as locale_error:
        trade_in.render_questionnaire("smartphone", "xx_NOWHERE")
    assert locale_error.value.code == "unknown_locale"
    with pytest.raises(DocumentInvalidError) as diagnostics_error:
        trade_in.grade("smartphone", answers("flawless"), verification="measured", diagnostics={"tool": 1})
    assert diagnostics_error.value.kind == "diagnostics"
    assert diagnostics_error.value.problems


def test_a_damaged_snapshot_cannot_be_reproduced(trade_in: TradeIn) -> None:
    """A stored questionnaire document that was damaged is reported as an invalid document, by path."""
    quote = trade_in.quote(IPHONE, answers("worn")).quote
    assert isinstance(trade_in.store, SQLStore)
    with trade_in.store._engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE tradein_documents SET document = :doc WHERE content_hash = :hash"),
            {"doc": '{"id": "broken"}', "hash": quote.questionnaire.content_hash},
        )
    with pytest.raises(DocumentInvalidError) as caught:
        trade_in.reproduce_quote(quote.id)
    assert caught.value.kind == "questionnaire"
    assert caught.value.problems[0].path == "$"


@pytest.mark.parametrize("locale", ["en_GB", "fr-FR", "it"])
def test_explain_translates_each_line_again(trade_in: TradeIn, locale: str) -> None:
    """After a language switch the lines read in the new language; amounts, codes and order stay as quoted."""
    quote = trade_in.quote(IPHONE, answers("worn"), locale="de_DE").quote
    explained = trade_in.explain(quote, locale)
    assert [(line.code, line.amount, line.message_id) for line in explained] == [
        (line.code, line.amount, line.message_id) for line in quote.lines
    ]
    fresh = trade_in.quote(IPHONE, answers("worn"), locale=locale).quote
    assert [line.text for line in explained] == [line.text for line in fresh.lines]
    assert [line.text for line in explained] != [line.text for line in quote.lines]
    assert trade_in.explain(quote, "de_DE") == quote.lines
    assert trade_in.get_quote(quote.id).quote.lines == quote.lines  # the stored texts are untouched


def test_unknown_locales_raise_the_typed_error_everywhere(trade_in: TradeIn) -> None:
    """Quoting, explaining and error messages refuse an unknown locale with ``unknown_locale``."""
    quote = trade_in.quote(IPHONE, answers("worn")).quote
    for call in (
        lambda: trade_in.quote(IPHONE, answers("worn"), locale="xx_NOWHERE"),
        lambda: trade_in.explain(quote, "xx_NOWHERE"),
        lambda: quote.amount.format("not a locale"),
    ):
        with pytest.raises(UnsupportedLocaleError) as error:
            call()
        assert error.value.code == "unknown_locale"
        assert isinstance(error.value, ValueError)
