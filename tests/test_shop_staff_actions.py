"""The staff order page: device actions from the library's transition table, the history; the audit list."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import pytest

from examples.flask_shop.testing import ShopClient, shop_state
from tests.test_shop_backoffice import arrive, inspect, place_order
from tradein_sdk import DeviceState, HoldReason

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask import Flask

_FORM = re.compile(
    r'<form method="post" action="([^"]+)"[^>]*data-staff-action="([a-z_]+)"[^>]*>(.*?)</form>', re.DOTALL
)


@pytest.fixture
def staff(app: Flask) -> ShopClient:
    """A signed-in member of staff."""
    client = ShopClient(app)
    client.login_staff()
    return client


def actions(page: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The staff action forms of a page: event → (the form's URL, its fields filled in as staff would)."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for url, event, body in _FORM.findall(page):
        fields = dict.fromkeys(re.findall(r'<input name="([a-z_]+)"', body), "Checked by the goods-in team")
        for name, options in re.findall(r'<select name="([a-z_]+)"[^>]*>(.*?)</select>', body, re.DOTALL):
            fields[name] = re.findall(r'<option value="([a-z_]+)"', options)[0]
        found[event] = (html.unescape(url), fields)
    return found


def state_of(app: Flask, order_id: str) -> DeviceState:
    """The state of the order's device."""
    return shop_state(app).trade_in.order(order_id).device("d1").state


def awaiting(app: Flask, _: ShopClient) -> str:
    """An order whose device awaits shipment."""
    return place_order(app)[1]


def received(app: Flask, staff: ShopClient) -> str:
    """An order whose device arrived."""
    order_id = awaiting(app, staff)
    arrive(staff, order_id)
    return order_id


def mismatch(app: Flask, staff: ShopClient) -> str:
    """A phone reported stolen: the inspection rejects it as a major mismatch."""
    order_id = received(app, staff)
    inspect(staff, order_id, blocklist_status="listed")
    return order_id


def revised(app: Flask, staff: ShopClient) -> str:
    """An order whose device got a lower offer (a cracked glass)."""
    order_id = received(app, staff)
    inspect(staff, order_id, display_glass="cracked")
    return order_id


def confirmed(app: Flask, staff: ShopClient) -> str:
    """An order whose device was found as declared."""
    order_id = received(app, staff)
    inspect(staff, order_id)
    return order_id


def on_hold(app: Flask, staff: ShopClient) -> str:
    """An order whose device staff held at receipt."""
    order_id = received(app, staff)
    url, fields = actions(staff.get(f"/staff/orders/{order_id}").text)["hold"]
    assert staff.post(url, fields).status_code == 302
    return order_id


def test_mismatch_device_offers_surrender_and_return(app: Flask, staff: ShopClient) -> None:
    """A blocklisted (reported stolen) phone: surrender, return or recycle; surrendering asks for a reason."""
    order_id = mismatch(app, staff)
    assert state_of(app, order_id) is DeviceState.MISMATCH
    page = staff.get(f"/staff/orders/{order_id}").text
    offered = actions(page)
    assert set(offered) == {"surrender", "start_return", "recycle"}  # hold: only a device just received
    url, fields = offered["surrender"]
    assert set(fields) == {"reason"}
    assert "Den Behörden übergeben" in page
    refused = staff.post(url)
    assert refused.status_code == 302
    assert "Bitte geben Sie einen Grund an." in staff.get(refused.location).text
    assert state_of(app, order_id) is DeviceState.MISMATCH
    done = staff.post(url, {"reason": "Police request 2024/117"})
    assert done.status_code == 302
    assert state_of(app, order_id) is DeviceState.SURRENDERED
    assert "Erledigt: Den Behörden übergeben." in staff.get(done.location).text
    assert actions(staff.get(f"/staff/orders/{order_id}").text) == {}


def test_received_device_is_held_then_surrendered(app: Flask, staff: ShopClient) -> None:
    """A device just received can be held (a reason from the library's list), then released or surrendered."""
    order_id = received(app, staff)
    page = staff.get(f"/staff/orders/{order_id}").text
    url, fields = actions(page)["hold"]
    assert set(fields) == {"hold_reason"}
    for reason in HoldReason:
        assert f'<option value="{reason.value}"' in page
    assert staff.post(url, {"hold_reason": "police_request"}).status_code == 302
    order = shop_state(app).trade_in.order(order_id)
    assert order.device("d1").state is DeviceState.ON_HOLD
    assert order.device("d1").hold_reason is HoldReason.POLICE_REQUEST
    offered = actions(staff.get(f"/staff/orders/{order_id}").text)
    assert set(offered) == {"release", "surrender"}
    assert staff.post(offered["surrender"][0], {"reason": "Handed to the police"}).status_code == 302
    assert state_of(app, order_id) is DeviceState.SURRENDERED


SCENARIOS: dict[str, Callable[[Flask, ShopClient], str]] = {
    "awaiting_shipment": awaiting,
    "received": received,
    "on_hold": on_hold,
    "mismatch": mismatch,
    "revised": revised,
    "confirmed": confirmed,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_action_shown_is_accepted(app: Flask, staff: ShopClient, scenario: str) -> None:
    """Each action the page offers, posted as its form fills it, moves the device on (a fresh order each)."""
    make = SCENARIOS[scenario]
    order_id = make(app, staff)
    assert state_of(app, order_id).value == scenario
    offered = actions(staff.get(f"/staff/orders/{order_id}").text)
    assert offered
    for event in offered:
        order_id = make(app, staff)
        url, fields = actions(staff.get(f"/staff/orders/{order_id}").text)[event]
        response = staff.post(url, fields)
        assert response.status_code == 302, event
        flashed = re.findall(
            r'<p class="flash flash-(\w+)" role="(?:alert|status)"', staff.get(response.location).text
        )
        assert flashed == ["success"], event
        assert state_of(app, order_id).value != scenario, event


def test_refused_actions_are_explained(app: Flask, staff: ShopClient) -> None:
    """An event the state does not allow is a translated message, never a server error."""
    order_id = awaiting(app, staff)
    for event, data in (
        ("hold", {"hold_reason": "blocklist"}),
        ("surrender", {"reason": "x"}),
        ("release", {}),
    ):
        response = staff.post(f"/staff/orders/{order_id}/devices/d1/{event}", data)
        assert response.status_code == 302, event
        page = staff.get(response.location).text
        assert re.search(r'<p class="flash flash-error" role="alert">[^<]+</p>', page), event
    assert (
        staff.post(f"/staff/orders/{order_id}/devices/d1/hold", {"hold_reason": "bogus"}).status_code == 400
    )
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/inspect_now").status_code == 404
    assert (
        staff.post(f"/staff/orders/{order_id}/devices/d9/hold", {"hold_reason": "blocklist"}).status_code
        < 500
    )
    assert state_of(app, order_id) is DeviceState.AWAITING_SHIPMENT


def test_audit_page_lists_the_latest_entries(app: Flask, staff: ShopClient) -> None:
    """The audit page lists entries newest first (time, actor, action, subject), with no personal data."""
    _, order_id = place_order(app, plan="payout")
    arrive(staff, order_id)
    page = staff.get("/staff/audit").text
    assert 'data-testid="audit-ok"' in page
    rows = re.findall(r'<tr data-testid="audit-entry" data-sequence="\d+" data-action="([a-z_.]+)"', page)
    assert len(rows) >= 2
    assert order_id in page
    assert "<time" in page
    assert "Mustermann" not in page
    assert "DE89" not in page


def test_staff_history_names_who_acted(app: Flask, staff: ShopClient) -> None:
    """Staff read who did what from their side (the shopper, staff), not the shopper's "you"."""
    shopper, order_id = place_order(app)
    arrive(staff, order_id)
    inspect(staff, order_id, display_glass="cracked")
    shopper.post(f"/orders/{order_id}/devices/d1/revision", {"decision": "accept"})
    page = staff.get(f"/staff/orders/{order_id}").text
    assert "(Sie)" not in page
    assert "(unser Team)" not in page
    assert re.search(r"Neues Angebot angenommen <span class=\"muted\">\(Kunde\)</span>", page)
    assert "(Mitarbeiter)" in page
