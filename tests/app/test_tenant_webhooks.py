"""Webhooks per tenant: an organisation's (or tenant's) endpoint gets its own events, with its secret."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from grading_questionnaire import example_answers
from tradein_sdk import InvalidTenantError, NotFoundError, Role, Scope, TradeIn
from tradein_sdk.webhooks import WebhookSecrets, WebhookVerificationError, verify

if TYPE_CHECKING:
    import respx

    from tradein_sdk import FixedClock

IPHONE = "apple-iphone-13-128gb"
BERLIN = Scope(tenant="berlin", organisation="carrier-x", role=Role.SHOP)
PARIS = Scope(tenant="paris", organisation="carrier-x", role=Role.SHOP)
ROME = Scope(tenant="rome", organisation="carrier-y", role=Role.SHOP)
ADMIN_X = Scope(tenant="hq", organisation="carrier-x", role=Role.ADMIN)
ADMIN_Y = Scope(tenant="hq-y", organisation="carrier-y", role=Role.ADMIN)
OFFICE_X = Scope(tenant="hq", organisation="carrier-x", role=Role.BACK_OFFICE)


def shipped_order(trade_in: TradeIn, scope: Scope) -> str:
    """An order of ``scope``'s tenant, its device shipped (shipping sends no webhook)."""
    shop = trade_in.scoped(scope)
    issued = shop.quote(IPHONE, dict(example_answers("smartphone", "worn").answers))
    order = shop.accept([issued.token])
    shop.issue_label(order.id)
    shop.ship(order.id, "d1")
    return order.id


def test_each_endpoint_gets_its_own_tenants_events_signed_with_its_own_secret(
    any_store_trade_in: TradeIn, router: respx.MockRouter, clock: FixedClock
) -> None:
    """Berlin's endpoint sees Berlin only; carrier-y's organisation-wide one sees Rome; nothing crosses."""
    trade_in = any_store_trade_in
    berlin_hook = trade_in.scoped(ADMIN_X).register_webhook_endpoint(
        "https://berlin.test/hooks", tenant="berlin"
    )
    carrier_y_hook = trade_in.scoped(ADMIN_Y).register_webhook_endpoint("https://carrier-y.test/hooks")
    assert berlin_hook.secret is not None
    assert carrier_y_hook.secret is not None
    received: dict[str, list[httpx.Request]] = {"berlin": [], "carrier-y": []}

    def receiver(name: str) -> Any:  # noqa: ANN401 - a respx side effect
        def answer(request: httpx.Request) -> httpx.Response:
            received[name].append(request)
            return httpx.Response(204)

        return answer

    router.post("https://berlin.test/hooks").mock(side_effect=receiver("berlin"))
    router.post("https://carrier-y.test/hooks").mock(side_effect=receiver("carrier-y"))

    berlin_order = shipped_order(trade_in, BERLIN)
    paris_order = shipped_order(trade_in, PARIS)
    rome_order = shipped_order(trade_in, ROME)
    for office, order_id in ((OFFICE_X, berlin_order), (OFFICE_X, paris_order)):
        trade_in.scoped(office).receive(order_id, "d1")
    trade_in.scoped(Scope(tenant="hq-y", organisation="carrier-y", role=Role.BACK_OFFICE)).receive(
        rome_order, "d1"
    )
    report = trade_in.deliver_webhooks()
    assert report.failed == 0
    assert report.retrying == 0

    def orders_of(requests: list[httpx.Request], secret: str) -> set[str]:
        found = set()
        for request in requests:
            verify(dict(request.headers), request.content, WebhookSecrets.parse(secret), now=clock.now())
            found.add(json.loads(request.content)["data"]["order_id"])
        return found

    assert orders_of(received["berlin"], berlin_hook.secret) == {berlin_order}
    assert orders_of(received["carrier-y"], carrier_y_hook.secret) == {rome_order}
    assert len(received["berlin"]) == 1  # device.received (shipping sends no event)
    with pytest.raises(WebhookVerificationError):  # another tenant's secret cannot forge Berlin's events
        orders_of(received["berlin"], carrier_y_hook.secret)


def test_a_rotated_secret_signs_beside_the_old_one_until_it_is_retired(
    any_store_trade_in: TradeIn, router: respx.MockRouter, clock: FixedClock
) -> None:
    """During a rotation deliveries verify with the old and the new secret; after retiring, the new only."""
    trade_in = any_store_trade_in
    admin = trade_in.scoped(ADMIN_X)
    hook = admin.register_webhook_endpoint("https://x.test/hooks")
    assert hook.secret is not None
    route = router.post("https://x.test/hooks").respond(204)
    rotated = admin.rotate_webhook_secret(hook.endpoint_id)
    assert rotated.secret is not None
    assert rotated.secret != hook.secret
    order_id = shipped_order(trade_in, BERLIN)
    trade_in.scoped(OFFICE_X).receive(order_id, "d1")
    trade_in.deliver_webhooks()
    first = route.calls.last.request
    for secret in (hook.secret, rotated.secret):
        verify(dict(first.headers), first.content, WebhookSecrets.parse(secret), now=clock.now())
    admin.retire_old_secrets(hook.endpoint_id)
    trade_in.scoped(OFFICE_X).inspect(
        order_id, "d1", dict(example_answers("smartphone", "store-inspected").answers), imei="490154203237518"
    )
    trade_in.deliver_webhooks()
    last = route.calls.last.request
    verify(dict(last.headers), last.content, WebhookSecrets.parse(rotated.secret), now=clock.now())
    with pytest.raises(WebhookVerificationError):
        verify(dict(last.headers), last.content, WebhookSecrets.parse(hook.secret), now=clock.now())


def test_endpoints_are_kept_inside_their_organisation(any_store_trade_in: TradeIn) -> None:
    """Listing, rotating and disabling see the own organisation's endpoints only; a shop's are its own."""
    trade_in = any_store_trade_in
    mine = trade_in.scoped(ADMIN_X).register_webhook_endpoint("https://x.test/a")
    theirs = trade_in.scoped(ADMIN_Y).register_webhook_endpoint("https://y.test/a")
    assert [item.endpoint_id for item in trade_in.scoped(ADMIN_X).registered_webhook_endpoints()] == [
        mine.endpoint_id
    ]
    assert all(item.secret is None for item in trade_in.scoped(ADMIN_X).registered_webhook_endpoints())
    for change in ("rotate_webhook_secret", "retire_old_secrets", "disable_webhook_endpoint"):
        with pytest.raises(NotFoundError):
            getattr(trade_in.scoped(ADMIN_X), change)(theirs.endpoint_id)
    berlin_only = trade_in.scoped(BERLIN).register_webhook_endpoint("https://berlin.test/a", tenant="paris")
    assert berlin_only.tenant == "berlin"  # a shop registers for itself, whatever it asks
    assert (
        trade_in.scoped(ADMIN_Y).disable_webhook_endpoint(theirs.endpoint_id).endpoint_id
        == theirs.endpoint_id
    )
    assert trade_in.scoped(ADMIN_Y).registered_webhook_endpoints() == []
    with pytest.raises(InvalidTenantError):
        trade_in.scoped(ADMIN_X).register_webhook_endpoint("https://x.test/b", tenant="Not A Tenant")
