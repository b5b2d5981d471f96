"""Helpers for testing an integration of tradein-sdk.

- :class:`FakeTradeInService`: respx routes that fake the trade-in service for :class:`TradeInClient` and
  :class:`AsyncTradeInClient`. Behind the routes runs the real service on a real engine and store (a
  temporary SQLite file), so quotes, orders and checkouts behave as in production, without a network.
  It has one API key per role (:attr:`FakeTradeInService.api_keys`): ``fake.client()`` is the shop's,
  ``fake.client(role="back_office")`` the back office's, which receives, inspects and settles.
  Each operation has a named route, for asserting on calls and for injecting faults
  (:meth:`FakeTradeInService.fail`).
- :func:`signed_webhook`: the headers and body of a signed webhook delivery, to post to a shop's
  webhook endpoint in a test.
- :func:`retry_delays_disabled`: turns the HTTP clients' backoff delays into no-ops, so retry tests run
  instantly (``with retry_delays_disabled(): ...``, or in a pytest fixture).

The fake needs respx (``pip install tradein-sdk[testing]``)::

    with FakeTradeInService() as fake, retry_delays_disabled():
        fake.fail("quote", times=2, status=503)
        client = fake.client()
        issued = client.quote("apple-iphone-13-128gb", answers)   # succeeds on the third attempt
        keys = {call.request.headers["Idempotency-Key"] for call in fake.routes["quote"].calls}
        assert len(keys) == 1
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx

from tradein_sdk._app.facade import TradeIn
from tradein_sdk._domain.tenancy import Role
from tradein_sdk._remote.api import operations
from tradein_sdk._remote.client import AsyncTradeInClient, TradeInClient
from tradein_sdk._remote.service import TradeInService
from tradein_sdk._remote.transport import retry_delays_disabled
from tradein_sdk.webhooks import sign

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from types import TracebackType

    import respx

    from tradein_sdk.webhooks import WebhookEvent, WebhookSecrets

__all__ = ["FakeTradeInService", "example_erasure_report", "retry_delays_disabled", "signed_webhook"]

DEFAULT_BASE_URL = "https://tradein.test"
DEFAULT_API_KEY = "test-api-key-0123456789"

_Fault = httpx.Response | type[Exception] | Exception


class FakeTradeInService:
    """respx routes that fake the trade-in service, backed by the real service on a temporary store."""

    def __init__(
        self,
        trade_in: TradeIn | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = DEFAULT_API_KEY,
    ) -> None:
        """Prepare the routes (they intercept httpx once the fake is started, or entered with ``with``).

        The fake serves one organisation, ``test-org``: the shop ``test-shop`` (keys of the roles ``shop``
        and ``store``), its head office ``test-hq`` (``back_office`` and ``admin``) and the refurbisher
        ``test-provider`` (``provider``).

        Args:
            trade_in: the facade behind the routes (default: :meth:`TradeIn.embedded` on a temporary
                folder, removed on :meth:`stop`).
            base_url: the URL the clients call.
            api_key: the shop's API key (the other roles' keys are derived from it).
        """
        import respx  # noqa: PLC0415 - a test dependency, needed only here

        self._folder: Path | None = None
        if trade_in is None:
            self._folder = Path(tempfile.mkdtemp(prefix="tradein-fake-"))
            trade_in = TradeIn.embedded(self._folder)
        self.trade_in = trade_in
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_keys = {role: api_key if role is Role.SHOP else f"{api_key}-{role.value}" for role in Role}
        owners = {
            Role.SHOP: "test-shop",
            Role.STORE: "test-shop",
            Role.BACK_OFFICE: "test-hq",
            Role.ADMIN: "test-hq",
            Role.PROVIDER: "test-provider",
        }
        names = {f"{owners[role]}@test-org:{role.value}": key for role, key in self.api_keys.items()}
        self.service = TradeInService(trade_in, api_keys=names)
        self._app = httpx.WSGITransport(app=self.service)
        self._faults: dict[str, deque[_Fault]] = {}
        self.router = respx.MockRouter(base_url=self.base_url, assert_all_called=False)
        self.routes: dict[str, respx.Route] = {}
        for operation in operations().values():
            pattern = operation.pattern.pattern.removeprefix("^")
            self.routes[operation.id] = self.router.route(
                method=operation.method, path__regex="^" + pattern, name=operation.id
            ).mock(side_effect=self._answer(operation.id))

    def _answer(self, operation_id: str) -> Any:  # noqa: ANN401 - a respx side effect
        def answer(request: httpx.Request, **_: str) -> httpx.Response:  # respx passes the path's parameters
            faults = self._faults.get(operation_id)
            if faults:
                fault = faults.popleft()
                if isinstance(fault, httpx.Response):
                    return fault
                raise fault("injected by FakeTradeInService") if isinstance(fault, type) else fault
            request.read()
            response = self._app.handle_request(request)
            response.read()
            return httpx.Response(response.status_code, headers=response.headers, content=response.content)

        return answer

    def fail(
        self,
        operation_id: str,
        *,
        times: int = 1,
        status: int = 503,
        error: type[Exception] | Exception | None = None,
        retry_after: float | None = None,
        body: bytes | None = None,
    ) -> None:
        """Make the next ``times`` calls of an operation fail, then let the service answer again.

        Args:
            operation_id: the operation (the facade method's name, ``quote``).
            times: how many calls fail.
            status: the HTTP status of each failure (ignored when ``error`` is given).
            error: raise this instead (an httpx transport exception such as ``httpx.ConnectError``).
            retry_after: send ``Retry-After`` with this many seconds.
            body: the failure's body (default: a problem document ``service_unavailable``).

        Raises:
            KeyError: no operation has that id.
        """
        if operation_id not in self.routes:
            raise KeyError(f"no operation {operation_id!r}; known: {', '.join(self.routes)}")
        queue = self._faults.setdefault(operation_id, deque())
        for _ in range(times):
            if error is not None:
                queue.append(error)
                continue
            headers = {"Content-Type": "application/problem+json"}
            if retry_after is not None:
                headers["Retry-After"] = f"{retry_after:g}"
            content = body if body is not None else b'{"status":%d,"code":"service_unavailable"}' % status
            queue.append(httpx.Response(status, headers=headers, content=content))

    def facade(self, role: Role | str = Role.SHOP) -> TradeIn:
        """The facade behind the fake as the key of ``role`` sees it (to prepare data a client then reads)."""
        scope = self.service.scope_for(self.api_keys[Role(role)])
        assert scope is not None  # noqa: S101 - the fake configured every role's key
        return self.trade_in.scoped(scope)

    def client(self, *, role: Role | str = Role.SHOP, **options: Any) -> TradeInClient:  # noqa: ANN401 - TradeInClient's keyword settings
        """A :class:`TradeInClient` with the key of ``role`` (extra settings passed on)."""
        return TradeInClient(base_url=self.base_url, api_key=self.api_keys[Role(role)], **options)

    def async_client(self, *, role: Role | str = Role.SHOP, **options: Any) -> AsyncTradeInClient:  # noqa: ANN401 - the client's settings
        """An :class:`AsyncTradeInClient` with the key of ``role`` (extra settings passed on)."""
        return AsyncTradeInClient(base_url=self.base_url, api_key=self.api_keys[Role(role)], **options)

    def start(self) -> None:
        """Start intercepting httpx requests to :attr:`base_url`."""
        self.router.start()

    def stop(self) -> None:
        """Stop intercepting, close the facade and remove its temporary folder (if the fake made it)."""
        self.router.stop()
        if self._folder is not None:
            self.trade_in.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Self:
        """Start the fake for a ``with`` block."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the fake."""
        self.stop()


def signed_webhook(
    event: WebhookEvent, secrets: WebhookSecrets, *, at: datetime
) -> tuple[Mapping[str, str], bytes]:
    """The headers and body of a webhook delivery of ``event`` signed at ``at``, as a sender posts it.

    >>> from datetime import UTC, datetime
    >>> from tradein_sdk.webhooks import WebhookEvent, WebhookSecrets
    >>> at = datetime(2026, 11, 24, 12, tzinfo=UTC)
    >>> event = WebhookEvent.create(event_type="device.received", data={"order_id": "ord_1"}, timestamp=at)
    >>> headers, body = signed_webhook(event, WebhookSecrets.generate(), at=at)
    >>> sorted(headers)
    ['content-type', 'webhook-id', 'webhook-signature', 'webhook-timestamp']
    """
    body = event.to_body()
    headers = {"content-type": "application/json", **sign(body, secrets, webhook_id=event.id, timestamp=at)}
    return headers, body


def example_erasure_report(
    order_id: str,
    *,
    received_at: datetime,
    device_id: str = "d1",
    imei: str = "490154203237518",
    site: str = "Returns centre",
    **changes: Any,  # noqa: ANN401 - any top-level field of the report
) -> dict[str, Any]:
    """A complete, passing Purge report (a cryptographic erase) for one device, to test an integration with.

    The device was received at ``received_at``, erased an hour later and verified eight minutes after; the
    report is valid for ``schemas/erasure-report.schema.json`` and for
    :meth:`~tradein_sdk.TradeIn.record_erasure_report` once the device is in custody.

    Args:
        order_id: the order.
        received_at: when the device was received (timezone-aware).
        device_id: the device of the order.
        imei: the device's IMEI.
        site: where it was received and erased.
        changes: top-level fields to replace (``verification``, ``destination``, ...).
    """
    from datetime import UTC, timedelta  # noqa: PLC0415 - only tests build reports

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    erased = received_at + timedelta(hours=1, minutes=12)
    document: dict[str, Any] = {
        "order_id": order_id,
        "device_id": device_id,
        "device": {
            "manufacturer": "Apple",
            "model": "iPhone 13",
            "imei": imei,
            "media_type": "embedded_flash",
            "capacity_gb": 128,
        },
        "sanitization": {
            "method": "purge",
            "technique": "cryptographic_erase",
            "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
            "operator_role": "Erasure technician",
            "site": site,
            "started_at": stamp(received_at + timedelta(hours=1)),
            "ended_at": stamp(erased),
        },
        "verification": {
            "method": "crypto_key_destruction",
            "result": "passed",
            "verifier_role": "Quality lead",
            "verified_at": stamp(erased + timedelta(minutes=8)),
        },
        "destination": "resale",
        "custody": [
            {"step": "received", "at": stamp(received_at), "site": site, "role": "Goods-in clerk"},
            {"step": "erased", "at": stamp(erased), "site": site, "role": "Erasure technician"},
        ],
    }
    document.update(changes)
    return document
