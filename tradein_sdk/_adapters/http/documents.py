"""Documents fetched over HTTP: cached, revalidated with ETag / Last-Modified, failing with a typed error.

Shared by the HTTP price feed and the HTTP insurance plan provider: one place for timeouts, conditional
requests, stale-while-failing and the mapping of every httpx failure onto the library's own error.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from tradein_sdk._domain.clock import Clock, SystemClock
from tradein_sdk._errors import DocumentInvalidError, TradeInError

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class _Fetched(Generic[T]):
    value: T
    fetched_at: datetime
    etag: str | None
    last_modified: str | None


class HTTPDocumentFeed(Generic[T]):
    """A JSON document per key (``{key}`` in the URL), parsed, cached and revalidated."""

    def __init__(
        self,
        url: str,
        *,
        parse: Callable[[object, str, str], T],
        error: type[TradeInError],
        label: str,
        document: str,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        refresh_after: timedelta = timedelta(minutes=5),
        max_stale: timedelta = timedelta(0),
        headers: dict[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Configure the feed.

        Args:
            url: the document's URL; ``{key}`` is replaced by the key asked for.
            parse: builds the value from ``(decoded JSON, key, url)``; raises ``DocumentInvalidError`` or
                ``error`` for a document that does not fit.
            error: the library error raised for every failure (a subclass of ``TradeInError``).
            label: how messages name the source (``price feed``).
            document: how messages name the document (``price book``).
            client: an httpx client (pooling, proxies, test transports); one is created when omitted.
            timeout: seconds allowed for each request.
            refresh_after: how long a fetched document is used before it is revalidated.
            max_stale: how long past ``refresh_after`` the last good document may be served while failing.
            headers: extra request headers (an API key).
            clock: where "now" comes from.
        """
        import httpx  # noqa: PLC0415 - httpx loads with the first feed

        self.url = url
        self._parse = parse
        self._error = error
        self._label = label
        self._document = document
        self.owns_client = client is None
        self.client = client or httpx.Client(timeout=timeout)
        self._timeout = timeout
        self._refresh_after = refresh_after
        self._max_stale = max_stale
        self._headers = dict(headers or {})
        self._clock = clock or SystemClock()
        self._cache: dict[str, _Fetched[T]] = {}

    def get(self, key: str) -> T:
        """Return the document for ``key``, fetching or revalidating it when due.

        Raises:
            TradeInError: (the configured ``error``) the source cannot be reached, times out, answers with
                an error status or sends an unusable document, and no cached copy may be served.
        """
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and now - cached.fetched_at < self._refresh_after:
            return cached.value
        try:
            fetched = self._fetch(key, cached, now)
        except self._error:
            if cached is not None and now - cached.fetched_at < self._refresh_after + self._max_stale:
                return cached.value
            raise
        self._cache[key] = fetched
        return fetched.value

    def _fetch(self, key: str, cached: _Fetched[T] | None, now: datetime) -> _Fetched[T]:
        import httpx  # noqa: PLC0415 - httpx loads with the first feed

        url = self.url.format(key=key)
        headers = dict(self._headers)
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        label = self._label
        try:
            response = self.client.get(url, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise self._error(
                "{label} {url} timed out after {seconds} s", label=label, url=url, seconds=self._timeout
            ) from exc
        except httpx.HTTPError as exc:
            raise self._error(
                "{label} {url} unreachable: {reason}", label=label, url=url, reason=type(exc).__name__
            ) from exc
        if response.status_code == 304 and cached is not None:  # Not Modified; validators may be new
            return attrs.evolve(
                cached,
                fetched_at=now,
                etag=response.headers.get("ETag", cached.etag),
                last_modified=response.headers.get("Last-Modified", cached.last_modified),
            )
        if response.status_code != 200:
            raise self._error(
                "{label} {url} answered HTTP {status}", label=label, url=url, status=response.status_code
            )
        try:
            value = self._parse(json.loads(response.content), key, url)
        except ValueError as exc:  # not UTF-8, or not JSON
            raise self._error("{label} {url} sent something that is not JSON", label=label, url=url) from exc
        except DocumentInvalidError as exc:
            first = "; ".join(str(problem) for problem in exc.problems[:3])
            raise self._error(
                "{label} {url} sent an invalid {document}: {problems}",
                label=label,
                url=url,
                document=self._document,
                problems=first,
            ) from exc
        return _Fetched(
            value=value,
            fetched_at=now,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )

    def close(self) -> None:
        """Close the HTTP client the feed created (a client passed in stays open for its owner)."""
        if self.owns_client:
            self.client.close()
