"""The webhook sender: one event to one endpoint over httpx, each attempt signed afresh, retried on plan."""

from __future__ import annotations

import time
from datetime import timedelta
from random import Random, SystemRandom
from typing import TYPE_CHECKING

from tradein_sdk._domain.clock import Clock, SystemClock, as_utc
from tradein_sdk._domain.webhooks import (
    AttemptOutcome,
    DeliveryAttempt,
    RetrySchedule,
    WebhookDelivery,
    WebhookDeliveryError,
    WebhookEndpointGoneError,
    WebhookEvent,
    WebhookRejectedError,
    WebhookSecrets,
    _check_body,
    _check_webhook_id,
    _outcome,
    _retry_after,
    sign,
)
from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx


class WebhookSender:
    """Deliver webhooks to an endpoint: sign each attempt, POST it, retry on the schedule.

    The sleeps between attempts go through ``sleep`` (tests pass one that records and returns at once).
    A service that keeps its own queue calls :meth:`attempt` and plans the next one with
    :meth:`RetrySchedule.delay_before` instead of :meth:`send`.
    """

    def __init__(
        self,
        *,
        secrets: WebhookSecrets,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
        schedule: RetrySchedule | None = None,
        timeout: float = 15.0,
        retry_after_cap: timedelta = timedelta(hours=1),
        sleep: Callable[[float], None] = time.sleep,
        rng: Random | None = None,
    ) -> None:
        """Create a sender.

        Args:
            secrets: the endpoint's secrets; every attempt carries one signature per secret.
            client: the httpx client to send with (one is created, and closed by :meth:`close`, when
                omitted).
            clock: where each attempt's time comes from (the system clock by default).
            schedule: when to retry (the Standard Webhooks schedule by default).
            timeout: seconds allowed for each attempt's connect, write, read and pool wait.
            retry_after_cap: the longest ``Retry-After`` honoured; a longer one waits only this long.
            sleep: how to wait between attempts, given seconds (:func:`time.sleep` by default).
            rng: where the jitter comes from (:class:`random.SystemRandom` by default).

        Raises:
            ConfigurationError: the timeout is not positive or the cap is negative.
        """
        if not timeout > 0:
            raise ConfigurationError("the webhook timeout must be positive, not {timeout}", timeout=timeout)
        if retry_after_cap < timedelta(0):
            raise ConfigurationError("the Retry-After cap cannot be negative")
        if client is None:
            import httpx  # noqa: PLC0415 - httpx loads with the first sender

            self._own_client: httpx.Client | None = httpx.Client()
            self._client = self._own_client
        else:
            self._own_client = None
            self._client = client
        self._secrets = secrets
        self._clock = clock or SystemClock()
        self._schedule = schedule or RetrySchedule()
        self._timeout = timeout
        self._retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._rng = rng or SystemRandom()

    @property
    def secrets(self) -> WebhookSecrets:
        """The secrets every attempt is signed with."""
        return self._secrets

    def close(self) -> None:
        """Close the httpx client if this sender created it (an injected client stays open)."""
        if self._own_client is not None:
            self._own_client.close()

    def attempt(self, url: str, event: WebhookEvent, *, number: int = 1) -> DeliveryAttempt:
        """POST the event once, signed now, and classify the answer; never raises for a failed POST.

        Args:
            url: the endpoint (``http`` or ``https``).
            event: the event.
            number: which attempt this is, for the record.

        Returns:
            The attempt and its outcome.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
        """
        return self.attempt_body(url, event.id, event.to_body(), number=number)

    def attempt_body(self, url: str, webhook_id: str, body: bytes, *, number: int = 1) -> DeliveryAttempt:
        """POST a body kept earlier (an outbox row's :meth:`WebhookEvent.to_body`) once, signed now.

        Args:
            url: the endpoint (``http`` or ``https``).
            webhook_id: the event's id.
            body: the body bytes exactly as first produced.
            number: which attempt this is, for the record.

        Returns:
            The attempt and its outcome.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
            TypeError: the body is not bytes.
            ValueError: the id is not a webhook id.
        """
        _check_url(url)
        _check_body(body)
        _check_webhook_id(None, None, webhook_id)
        return self._post(url, webhook_id, body, number)[0]

    def send(self, url: str, event: WebhookEvent) -> WebhookDelivery:
        """Deliver the event, retrying on the schedule until the receiver answers 2xx.

        Every attempt carries the same ``webhook-id`` and body, signed at the attempt's own time.

        Args:
            url: the endpoint (``http`` or ``https``).
            event: the event.

        Returns:
            The delivery, whose last attempt was answered 2xx.

        Raises:
            ConfigurationError: the URL is not an http(s) URL.
            WebhookEndpointGoneError: the receiver answered 410; stop sending to it.
            WebhookRejectedError: the receiver answered a status retrying will not change (3xx, 4xx).
            WebhookDeliveryError: every attempt of the schedule failed (raised from the last connection
                error, if the last attempt had one).
        """
        _check_url(url)
        body = event.to_body()
        attempts: list[DeliveryAttempt] = []
        cause: Exception | None = None
        for number in range(1, self._schedule.max_attempts + 1):
            if attempts:
                self._sleep(self._wait_before(number, attempts[-1]).total_seconds())
            attempt, cause = self._post(url, event.id, body, number)
            attempts.append(attempt)
            if attempt.outcome is not AttemptOutcome.RETRY:
                break
        delivery = WebhookDelivery(event_id=event.id, url=url, attempts=tuple(attempts))
        outcome = attempts[-1].outcome
        if outcome is AttemptOutcome.DELIVERED:
            return delivery
        if outcome is AttemptOutcome.GONE:
            raise WebhookEndpointGoneError(delivery)
        if outcome is AttemptOutcome.REJECTED:
            raise WebhookRejectedError(delivery)
        raise WebhookDeliveryError(delivery) from cause

    def _wait_before(self, number: int, previous: DeliveryAttempt) -> timedelta:
        wait = self._schedule.delay_before(number, draw=self._rng.random())
        if previous.retry_after is not None:
            wait = max(wait, min(previous.retry_after, self._retry_after_cap))
        return wait

    def _post(
        self, url: str, webhook_id: str, body: bytes, number: int
    ) -> tuple[DeliveryAttempt, Exception | None]:
        import httpx  # noqa: PLC0415 - httpx loads with the first sender

        attempted_at = as_utc(self._clock.now())
        headers = sign(body, self._secrets, webhook_id=webhook_id, timestamp=attempted_at)
        headers["content-type"] = "application/json"
        try:
            with self._client.stream(
                "POST", url, content=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status_code
                retry_after = _retry_after(response.headers.get("retry-after"), attempted_at)
        except httpx.RequestError as exc:
            attempt = DeliveryAttempt(
                number=number,
                attempted_at=attempted_at,
                outcome=AttemptOutcome.RETRY,
                error=f"{type(exc).__name__}: {exc}",
            )
            return attempt, exc
        attempt = DeliveryAttempt(
            number=number,
            attempted_at=attempted_at,
            outcome=_outcome(status),
            status_code=status,
            retry_after=retry_after,
        )
        return attempt, None


def _check_url(url: str) -> None:
    import httpx  # noqa: PLC0415 - httpx loads with the first sender

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError("the webhook URL is not a URL: {reason}", reason=str(exc)) from exc
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ConfigurationError("the webhook URL must be an http or https URL with a host")
