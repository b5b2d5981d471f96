from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradein_sdk import ConfigurationError, DocumentInvalidError
from tradein_sdk._adapters.prices import HTTPPriceFeed, PriceBookSource
from tradein_sdk._errors import PriceFeedError, PriceUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import respx

    from tradein_sdk._domain.clock import FixedClock

URL = "https://prices.example/books/{market}.json"
DE_URL = "https://prices.example/books/DE.json"
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LAST_MODIFIED = "Tue, 24 Nov 2026 11:00:00 GMT"


def book_document(version: str = "2026.11.0", market: str = "DE", currency: str = "EUR") -> dict[str, Any]:
    """A small valid price book: one listed variant."""
    return {
        "pricebook_id": f"shop-{market.lower()}",
        "version": version,
        "market": market,
        "currency": currency,
        "prices": [{"variant_id": "apple-iphone-13-128gb", "grades": {"excellent": "400", "good": "320"}}],
    }


def ok(document: object, **headers: str) -> httpx.Response:
    """A 200 response carrying ``document`` as JSON (``ETag`` / ``Last_Modified`` keyword headers)."""
    return httpx.Response(
        200, json=document, headers={key.replace("_", "-"): v for key, v in headers.items()}
    )


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An httpx client owned by the test."""
    with httpx.Client() as owned:
        yield owned


@pytest.fixture
def start() -> datetime:
    """Noon, an hour after the feed's books were last modified."""
    return START


def conditional_headers(request: httpx.Request) -> dict[str, str | None]:
    """The revalidation headers a request carries."""
    return {name: request.headers.get(name) for name in ("If-None-Match", "If-Modified-Since")}


# -- books in memory ------------------------------------------------------------------------------------


def test_bundled_source_serves_germany_and_the_united_states() -> None:
    """The bundled reference books cover DE in EUR and US in USD."""
    source = PriceBookSource.bundled()
    assert source.markets == ("DE", "US")
    assert (source.price_book("DE").market, source.price_book("DE").currency) == ("DE", "EUR")
    assert (source.price_book("US").market, source.price_book("US").currency) == ("US", "USD")


def test_unknown_market_is_price_unavailable() -> None:
    """A market without a book raises PriceUnavailableError (code price_unavailable) naming it."""
    with pytest.raises(PriceUnavailableError) as caught:
        PriceBookSource.bundled().price_book("FR")
    assert caught.value.code == "price_unavailable"
    assert not isinstance(caught.value, PriceFeedError)
    assert str(caught.value) == "no price book for market FR"


def test_files_are_validated_and_a_later_book_replaces_an_earlier_one(tmp_path: Path) -> None:
    """from_files loads each file; a second book for the same market wins."""
    first, second, other = tmp_path / "de-1.json", tmp_path / "de-2.json", tmp_path / "us.json"
    first.write_text(json.dumps(book_document("1")), encoding="utf-8")
    second.write_text(json.dumps(book_document("2")), encoding="utf-8")
    other.write_text(json.dumps(book_document("1", market="US", currency="USD")), encoding="utf-8")
    source = PriceBookSource.from_files(first, str(second), other)
    assert source.markets == ("DE", "US")
    assert source.price_book("DE").version == "2"
    assert source.price_book("US").currency == "USD"


@pytest.mark.parametrize(
    ("content", "path", "message"),
    [
        ('{"pricebook_id": ', "$", "not valid JSON"),
        (json.dumps({**book_document(), "currency": "euro"}), "$.currency", "'euro' does not match"),
        (json.dumps({**book_document(), "floor": "9", "cap": "5"}), "$.floor", "the floor is above the cap"),
    ],
    ids=["not-json", "schema-error", "rule-error"],
)
def test_a_broken_file_is_reported_with_its_path(
    tmp_path: Path, content: str, path: str, message: str
) -> None:
    """A file that is not a valid book raises DocumentInvalidError naming the file and the JSON path."""
    broken = tmp_path / "broken.json"
    broken.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentInvalidError) as caught:
        PriceBookSource.from_files(broken)
    assert caught.value.source == str(broken)
    assert caught.value.kind == "pricebook"
    ((problem_path, problem_message),) = [
        (problem.path, problem.message) for problem in caught.value.problems
    ]
    assert problem_path == path
    assert message in problem_message


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A path that cannot be read raises ConfigurationError naming it."""
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigurationError) as caught:
        PriceBookSource.from_files(missing)
    assert str(missing) in str(caught.value)


# -- the HTTP feed --------------------------------------------------------------------------------------


def test_first_fetch_parses_the_book(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """The first request fetches and validates the market's book, without revalidation headers."""
    route = router.get(DE_URL).mock(
        return_value=ok(book_document(), ETag='"v1"', Last_Modified=LAST_MODIFIED)
    )
    book = HTTPPriceFeed(URL, client=client, clock=clock).price_book("DE")
    assert (book.pricebook_id, book.version, book.market, book.currency) == (
        "shop-de",
        "2026.11.0",
        "DE",
        "EUR",
    )
    assert book.explicit_prices("apple-iphone-13-128gb") is not None
    assert route.call_count == 1
    assert conditional_headers(route.calls.last.request) == {"If-None-Match": None, "If-Modified-Since": None}


@pytest.mark.parametrize(
    ("refresh_after", "waited"),
    [
        (timedelta(minutes=5), timedelta(minutes=4, seconds=59)),
        (timedelta(hours=1), timedelta(minutes=59)),
        (timedelta(minutes=5), timedelta(0)),
    ],
    ids=["default-just-before", "one-hour", "immediately"],
)
def test_no_request_within_refresh_after(
    router: respx.MockRouter,
    client: httpx.Client,
    clock: FixedClock,
    refresh_after: timedelta,
    waited: timedelta,
) -> None:
    """Before refresh_after has passed the cached book is served without a request."""
    route = router.get(DE_URL).mock(return_value=ok(book_document(), ETag='"v1"'))
    feed = HTTPPriceFeed(URL, client=client, clock=clock, refresh_after=refresh_after)
    first = feed.price_book("DE")
    clock.advance(seconds=waited.total_seconds())
    assert feed.price_book("DE") is first
    assert route.call_count == 1


def test_not_modified_reuses_the_cached_book(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """After refresh_after a conditional request is sent; a 304 keeps the book and restarts the wait."""
    route = router.get(DE_URL).mock(
        side_effect=[
            ok(book_document(), ETag='"v1"', Last_Modified=LAST_MODIFIED),
            httpx.Response(304),
            httpx.Response(304),
        ]
    )
    feed = HTTPPriceFeed(URL, client=client, clock=clock)
    first = feed.price_book("DE")
    clock.advance(minutes=5)
    assert feed.price_book("DE") is first
    assert route.call_count == 2
    assert conditional_headers(route.calls[1].request) == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": LAST_MODIFIED,
    }
    clock.advance(minutes=4, seconds=59)  # the 304 counts as a fresh fetch
    assert feed.price_book("DE") is first
    assert route.call_count == 2
    clock.advance(seconds=1)
    assert feed.price_book("DE") is first
    assert route.call_count == 3
    assert conditional_headers(route.calls[2].request)["If-None-Match"] == '"v1"'


def test_a_new_version_replaces_the_cached_book(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """A 200 on revalidation replaces the book, and its validators are sent next time."""
    route = router.get(DE_URL).mock(
        side_effect=[
            ok(book_document("2026.11.0"), ETag='"v1"', Last_Modified=LAST_MODIFIED),
            ok(book_document("2026.11.1"), ETag='"v2"', Last_Modified="Tue, 24 Nov 2026 12:03:00 GMT"),
            httpx.Response(304),
        ]
    )
    feed = HTTPPriceFeed(URL, client=client, clock=clock)
    assert feed.price_book("DE").version == "2026.11.0"
    clock.advance(minutes=5)
    assert feed.price_book("DE").version == "2026.11.1"
    clock.advance(minutes=5)
    assert feed.price_book("DE").version == "2026.11.1"
    assert conditional_headers(route.calls[2].request) == {
        "If-None-Match": '"v2"',
        "If-Modified-Since": "Tue, 24 Nov 2026 12:03:00 GMT",
    }


@pytest.mark.parametrize(
    ("validators", "expected"),
    [
        (
            {"ETag": '"v1"', "Last_Modified": LAST_MODIFIED},
            {"If-None-Match": '"v1"', "If-Modified-Since": LAST_MODIFIED},
        ),
        ({"ETag": 'W/"v1"'}, {"If-None-Match": 'W/"v1"', "If-Modified-Since": None}),
        ({"Last_Modified": LAST_MODIFIED}, {"If-None-Match": None, "If-Modified-Since": LAST_MODIFIED}),
        ({}, {"If-None-Match": None, "If-Modified-Since": None}),
    ],
    ids=["both", "etag-only", "last-modified-only", "neither"],
)
def test_revalidation_sends_the_validators_it_was_given(
    router: respx.MockRouter,
    client: httpx.Client,
    clock: FixedClock,
    validators: dict[str, str],
    expected: dict[str, str | None],
) -> None:
    """The conditional request carries If-None-Match / If-Modified-Since only for validators received."""
    route = router.get(DE_URL).mock(side_effect=[ok(book_document(), **validators), ok(book_document())])
    feed = HTTPPriceFeed(URL, client=client, clock=clock)
    feed.price_book("DE")
    clock.advance(minutes=5)
    feed.price_book("DE")
    assert conditional_headers(route.calls[1].request) == expected


def test_each_market_has_its_own_url_and_cache(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """{market} in the URL is replaced by the market code; each market's book is cached on its own."""
    de = router.get(DE_URL).mock(return_value=ok(book_document()))
    us = router.get("https://prices.example/books/US.json").mock(
        return_value=ok(book_document(market="US", currency="USD"))
    )
    feed = HTTPPriceFeed(URL, client=client, clock=clock)
    assert feed.price_book("DE").currency == "EUR"
    assert feed.price_book("US").currency == "USD"
    assert feed.price_book("DE").market == "DE"
    assert (de.call_count, us.call_count) == (1, 1)


FEED = f"price feed {DE_URL}"
TRANSPORT_FAILURES: list[tuple[Exception, str]] = [
    (httpx.ConnectError("connection refused"), f"{FEED} unreachable: ConnectError"),
    (httpx.ConnectTimeout("connect timed out"), f"{FEED} timed out after 5.0 s"),
    (httpx.ReadTimeout("read timed out"), f"{FEED} timed out after 5.0 s"),
    (httpx.WriteTimeout("write timed out"), f"{FEED} timed out after 5.0 s"),
    (httpx.PoolTimeout("no free connection"), f"{FEED} timed out after 5.0 s"),
    (httpx.ReadError("connection reset"), f"{FEED} unreachable: ReadError"),
    (httpx.WriteError("broken pipe"), f"{FEED} unreachable: WriteError"),
    (httpx.RemoteProtocolError("server disconnected"), f"{FEED} unreachable: RemoteProtocolError"),
    (httpx.LocalProtocolError("illegal header"), f"{FEED} unreachable: LocalProtocolError"),
    (httpx.ProxyError("proxy refused"), f"{FEED} unreachable: ProxyError"),
    (httpx.UnsupportedProtocol("no such scheme"), f"{FEED} unreachable: UnsupportedProtocol"),
    (httpx.CloseError("close failed"), f"{FEED} unreachable: CloseError"),
]


@pytest.mark.parametrize(
    ("failure", "message"),
    TRANSPORT_FAILURES,
    ids=[type(failure).__name__ for failure, _ in TRANSPORT_FAILURES],
)
def test_transport_failures_are_price_feed_errors(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock, failure: Exception, message: str
) -> None:
    """Every httpx transport exception becomes PriceFeedError naming the URL and what failed."""
    router.get(DE_URL).mock(side_effect=failure)
    with pytest.raises(PriceFeedError) as caught:
        HTTPPriceFeed(URL, client=client, clock=clock).price_book("DE")
    assert caught.value.code == "price_feed_unavailable"
    assert isinstance(caught.value, PriceUnavailableError)
    assert str(caught.value) == message
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404), f"{FEED} answered HTTP 404"),
        (httpx.Response(500), f"{FEED} answered HTTP 500"),
        (httpx.Response(503, text="maintenance"), f"{FEED} answered HTTP 503"),
        (httpx.Response(304), f"{FEED} answered HTTP 304"),
        (httpx.Response(200, text="<html>prices</html>"), f"{FEED} sent something that is not JSON"),
        (httpx.Response(200, content=b""), f"{FEED} sent something that is not JSON"),
        (ok([]), f"{FEED} sent an invalid price book: $: [] is not of type 'object'"),
        (
            ok({key: value for key, value in book_document().items() if key != "currency"}),
            f"{FEED} sent an invalid price book: $: 'currency' is a required property",
        ),
        (
            ok(book_document(market="US", currency="USD")),
            f"{FEED} sent the book of market US, not DE",
        ),
        (
            httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}),
            f"{FEED} unreachable: DecodingError",
        ),
    ],
    ids=[
        "404",
        "500",
        "503",
        "304-without-a-cached-book",
        "html-body",
        "empty-body",
        "json-array",
        "invalid-book",
        "book-of-another-market",
        "corrupt-gzip-body",
    ],
)
def test_unusable_answers_are_price_feed_errors(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock, response: httpx.Response, message: str
) -> None:
    """An error status, a body that is not a valid book, or another market's book is a PriceFeedError."""
    router.get(DE_URL).mock(return_value=response)
    with pytest.raises(PriceFeedError) as caught:
        HTTPPriceFeed(URL, client=client, clock=clock).price_book("DE")
    assert caught.value.code == "price_feed_unavailable"
    assert str(caught.value) == message


def test_an_invalid_book_names_at_most_three_problems(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """The error lists the first three problems of an invalid book, each with its path."""
    router.get(DE_URL).mock(return_value=ok({"surprise": 1}))
    with pytest.raises(PriceFeedError) as caught:
        HTTPPriceFeed(URL, client=client, clock=clock).price_book("DE")
    assert isinstance(caught.value.__cause__, DocumentInvalidError)
    assert len(caught.value.__cause__.problems) > 3
    listed = str(caught.value).removeprefix(f"{FEED} sent an invalid price book: ").split("; ")
    assert listed == [str(problem) for problem in caught.value.__cause__.problems[:3]]


def test_a_body_that_is_not_utf8_is_a_price_feed_error(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """A book sent in Latin-1 is refused with PriceFeedError, never a raw decoding exception."""
    document = {**book_document(), "description": "Ankaufspreise für Händler"}
    body = json.dumps(document, ensure_ascii=False).encode("latin-1")
    router.get(DE_URL).mock(
        return_value=httpx.Response(
            200, content=body, headers={"Content-Type": "application/json; charset=iso-8859-1"}
        )
    )
    with pytest.raises(PriceFeedError):
        HTTPPriceFeed(URL, client=client, clock=clock).price_book("DE")


def test_max_stale_serves_the_last_good_book_while_the_feed_fails(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """Within refresh_after + max_stale a failing feed gives the cached book; after it, the error."""
    route = router.get(DE_URL).mock(
        side_effect=[
            ok(book_document("2026.11.0")),
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.Response(503),
            ok(book_document("2026.11.1")),
        ]
    )
    feed = HTTPPriceFeed(
        URL, client=client, clock=clock, refresh_after=timedelta(minutes=5), max_stale=timedelta(hours=1)
    )
    good = feed.price_book("DE")
    clock.advance(minutes=5)
    assert feed.price_book("DE") is good
    clock.set(START + timedelta(hours=1, minutes=4, seconds=59))
    assert feed.price_book("DE") is good
    assert route.call_count == 3  # every call after refresh_after tries the feed again
    clock.set(START + timedelta(hours=1, minutes=5))
    with pytest.raises(PriceFeedError, match="answered HTTP 503"):
        feed.price_book("DE")
    assert feed.price_book("DE").version == "2026.11.1"
    assert route.call_count == 5


def test_without_max_stale_a_failure_after_expiry_raises(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """By default a cached book is not served once refresh_after has passed and the feed fails."""
    router.get(DE_URL).mock(side_effect=[ok(book_document()), httpx.Response(500)])
    feed = HTTPPriceFeed(URL, client=client, clock=clock)
    feed.price_book("DE")
    clock.advance(minutes=5)
    with pytest.raises(PriceFeedError, match="answered HTTP 500"):
        feed.price_book("DE")


def test_max_stale_does_not_help_before_the_first_fetch(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """With nothing cached a failure raises, whatever max_stale allows."""
    router.get(DE_URL).mock(side_effect=httpx.ConnectError("refused"))
    feed = HTTPPriceFeed(URL, client=client, clock=clock, max_stale=timedelta(days=1))
    with pytest.raises(PriceFeedError, match="unreachable: ConnectError"):
        feed.price_book("DE")


def test_requests_use_the_configured_timeout_and_headers(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """Each request carries the extra headers (an API key) and the configured timeout, revalidation too."""
    route = router.get(DE_URL).mock(
        side_effect=[ok(book_document(), ETag='"v1"'), httpx.Response(304), httpx.ReadTimeout("slow")]
    )
    headers = {"X-Api-Key": "key-123"}
    feed = HTTPPriceFeed(URL, client=client, clock=clock, timeout=2.5, headers=headers)
    headers["X-Api-Key"] = "changed-later"
    feed.price_book("DE")
    clock.advance(minutes=5)
    feed.price_book("DE")
    for call in route.calls:
        assert call.request.headers["X-Api-Key"] == "key-123"
        assert call.request.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert route.calls[1].request.headers["If-None-Match"] == '"v1"'
    clock.advance(minutes=5)
    with pytest.raises(PriceFeedError) as caught:
        feed.price_book("DE")
    assert str(caught.value) == f"{FEED} timed out after 2.5 s"


def test_without_a_client_the_feed_makes_its_own(router: respx.MockRouter) -> None:
    """Without a client or clock the feed creates an httpx client with the timeout and uses the real time."""
    route = router.get(DE_URL).mock(return_value=ok(book_document()))
    feed = HTTPPriceFeed(URL, timeout=3.0)
    try:
        assert feed.price_book("DE").market == "DE"
        assert route.calls.last.request.extensions["timeout"]["read"] == 3.0
        assert feed.price_book("DE").market == "DE"
        assert route.call_count == 1
    finally:
        feed.close()
    assert feed._client.is_closed


def test_close_leaves_a_callers_client_open(client: httpx.Client) -> None:
    """close() closes the client the feed created, but not one its caller passed in and still owns."""
    HTTPPriceFeed(URL, client=client).close()
    assert not client.is_closed
    own = HTTPPriceFeed(URL)
    own.close()
    assert own._client.is_closed


def test_market_codes_are_case_insensitive(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """price_book("de") asks for the DE book and accepts it."""
    route = router.get(URL.format(market="DE")).respond(200, json=book_document())
    assert HTTPPriceFeed(URL, client=client, clock=clock).price_book("de").market == "DE"
    assert route.call_count == 1


def test_a_304_with_new_validators_keeps_them(
    router: respx.MockRouter, client: httpx.Client, clock: FixedClock
) -> None:
    """Validators sent with a 304 replace the old ones for the next conditional request."""
    route = router.get(URL.format(market="DE"))
    route.side_effect = [
        httpx.Response(200, json=book_document(), headers={"ETag": '"v1"'}),
        httpx.Response(304, headers={"ETag": '"v2"'}),
        httpx.Response(304),
    ]
    feed = HTTPPriceFeed(URL, client=client, clock=clock, refresh_after=timedelta(minutes=5))
    feed.price_book("DE")
    clock.advance(minutes=6)
    feed.price_book("DE")
    clock.advance(minutes=6)
    feed.price_book("DE")
    assert route.calls[2].request.headers["If-None-Match"] == '"v2"'
