"""Price sources: where price books come from.

- :class:`PriceBookSource` serves price books held in memory: the bundled reference books, or a shop's
  own files.
- :class:`HTTPPriceFeed` fetches a market's book from a URL with httpx: a timeout on every request,
  conditional requests (``ETag`` / ``Last-Modified``) so an unchanged book is not downloaded again, and a
  :class:`PriceFeedError` when the feed cannot be reached or sends something unusable. It never falls
  back to a zero price; it serves its last good copy only within ``max_stale``, when you allow that.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tradein_sdk._adapters.http.documents import HTTPDocumentFeed
from tradein_sdk._domain.catalog import read_json_document
from tradein_sdk._domain.pricing import PriceBook, parse_pricebook
from tradein_sdk._errors import PriceFeedError, PriceUnavailableError
from tradein_sdk._resources import DATA_DIR

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

    from tradein_sdk._domain.clock import Clock

BUNDLED_PRICEBOOKS = DATA_DIR / "pricebooks"


class PriceBookSource:
    """Price books held in memory, one per market."""

    def __init__(self, books: Iterable[PriceBook]) -> None:
        """Serve ``books``; a later book for the same market replaces an earlier one."""
        self._books = {book.market: book for book in books}

    @classmethod
    def bundled(cls) -> PriceBookSource:
        """The reference price books shipped with the library (a reference model, not market prices)."""
        return cls.from_files(*sorted(BUNDLED_PRICEBOOKS.glob("*.json")))

    @classmethod
    def from_files(cls, *paths: str | Path) -> PriceBookSource:
        """Load and validate price book files.

        Raises:
            ConfigurationError: a file cannot be read.
            DocumentInvalidError: a file is not a valid price book (each problem with its JSON path).
        """
        books = []
        for path in paths:
            document = read_json_document(Path(path), kind="pricebook")
            books.append(parse_pricebook(document, origin=str(path)))
        return cls(books)

    @property
    def markets(self) -> tuple[str, ...]:
        """The markets served, sorted."""
        return tuple(sorted(self._books))

    def price_book(self, market: str) -> PriceBook:
        """Return the book for ``market``.

        Raises:
            PriceUnavailableError: no book covers the market.
        """
        try:
            return self._books[market.upper()]
        except KeyError:
            raise PriceUnavailableError("no price book for market {market}", market=market) from None


class HTTPPriceFeed:
    """Price books fetched over HTTP, one URL per market, cached and revalidated.

    >>> feed = HTTPPriceFeed("https://prices.example/books/{market}.json")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        refresh_after: timedelta = timedelta(minutes=5),
        max_stale: timedelta = timedelta(0),
        headers: dict[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Configure the feed.

        Args:
            url: the book's URL; ``{market}`` is replaced by the market code.
            client: an httpx client to use (connection pooling, proxies, test transports); one is created
                when omitted.
            timeout: seconds allowed for each request.
            refresh_after: how long a fetched book is used before it is revalidated.
            max_stale: how long past ``refresh_after`` the last good book may still be served while the
                feed is failing (zero: never; the failure is raised).
            headers: extra request headers (an API key).
            clock: where "now" comes from.
        """
        self._feed: HTTPDocumentFeed[PriceBook] = HTTPDocumentFeed(
            url.replace("{market}", "{key}"),
            parse=_market_book,
            error=PriceFeedError,
            label="price feed",
            document="price book",
            client=client,
            timeout=timeout,
            refresh_after=refresh_after,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
        )
        self._client = self._feed.client

    def price_book(self, market: str) -> PriceBook:
        """Return the market's book, fetching or revalidating it when due.

        Raises:
            PriceFeedError: the feed cannot be reached, times out, answers with an error status, or
                sends a document that is not a valid price book for the market (and no cached book may
                be served).
        """
        return self._feed.get(market.upper())

    def close(self) -> None:
        """Close the HTTP client the feed created (a client passed in stays open for its owner)."""
        self._feed.close()


def _market_book(document: object, market: str, url: str) -> PriceBook:
    book = parse_pricebook(document, origin=url)
    if book.market != market:
        raise PriceFeedError(
            "price feed {url} sent the book of market {other}, not {market}",
            url=url,
            other=book.market,
            market=market,
        )
    return book
