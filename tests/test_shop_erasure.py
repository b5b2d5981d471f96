"""The shop's erasure certificates: staff records an erasure, the shopper downloads it, anyone verifies it."""

from __future__ import annotations

import html
import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from examples.flask_shop.testing import ShopClient, answers_form, find, shop_state
from grading_questionnaire import example_answers
from tradein_sdk import ErasureNotAllowedError, verify_certificate

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flask import Flask

    from tradein_sdk import FixedClock

IMEI = "490154203237518"
ERASURE_FORM = {
    "technique": "cryptographic_erase",
    "tool_name": "Blancco Mobile",
    "tool_version": "7.2.1",
    "imei": IMEI,
    "verification_method": "crypto_key_destruction",
    "verification_result": "passed",
    "site": "Returns centre Berlin",
    "destination": "resale",
}


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """The demo shop on a fresh data directory, without demo data, on the test's clock."""
    from examples.flask_shop import create_app  # noqa: PLC0415 - as the shared fixture does

    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_CLOCK": clock,
        }
    )
    yield app
    shop_state(app).close()


def place_order(app: Flask) -> tuple[ShopClient, str]:
    """A shopper who traded in a flawless iPhone 13 at checkout; returns the session and the order id."""
    client = ShopClient(app)
    client.post("/cart/device", {"sku": "apple-iphone-16-128gb"})
    quoted = client.post(
        "/trade-in/devices/apple-iphone-13-128gb",
        answers_form(example_answers("smartphone", "flawless").answers),
    )
    client.post(f"{quoted.location}/cart")
    client.post("/checkout/", {"plan": "discount", "protection": "none", "customer_case": "upgrade"})
    digest = find(r'name="digest" value="([^"]+)"', client.get("/checkout/review").text)
    response = client.post("/checkout/confirm", {"digest": digest})
    return client, response.location.rsplit("/", 1)[1]


@pytest.fixture
def staff(app: Flask) -> ShopClient:
    """A signed-in member of staff."""
    client = ShopClient(app)
    client.login_staff()
    return client


def arrive(staff: ShopClient, order_id: str, clock: FixedClock) -> None:
    """The parcel arrives and staff marks it received; the erasure is done an hour later."""
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/receive").status_code == 302
    clock.advance(hours=1)


def record_erasure(staff: ShopClient, order_id: str, **changes: str) -> str:
    """Staff submits the erasure form of device d1; returns the staff order page it leads to."""
    response = staff.post(
        f"/staff/orders/{order_id}/devices/d1/erasure", {**ERASURE_FORM, **changes}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.text


@pytest.fixture
def certified(app: Flask, staff: ShopClient, clock: FixedClock) -> tuple[ShopClient, str, str]:
    """A shopper whose device staff received and erased: the session, the order id and the certificate id."""
    client, order_id = place_order(app)
    arrive(staff, order_id, clock)
    assert 'data-testid="erasure-form-d1"' in staff.get(f"/staff/orders/{order_id}").text
    page = record_erasure(staff, order_id)
    certificate_id = find(r'data-certificate="([^"]+)"', page)
    assert certificate_id in find(r'class="flash flash-success"[^>]*>([^<]+)<', page)
    assert 'data-testid="erasure-form-d1"' not in page
    return client, order_id, certificate_id


def test_shopper_sees_downloads_and_verifies_the_certificate(
    app: Flask, certified: tuple[ShopClient, str, str]
) -> None:
    """The order page shows the certificate; its PDF downloads and its JSON verifies offline."""
    client, order_id, certificate_id = certified
    page = client.get(f"/orders/{order_id}").text
    block = find(r'(<div class="certificate".*?</div>\s*</dl>)', page.replace("\n", " "))
    assert certificate_id in block
    assert 'data-status="valid"' in block
    assert "Purge" in block
    assert "Gültig" in block
    assert "/certificates/verify" in page

    pdf = client.get(f"/orders/{order_id}/devices/d1/certificate.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")

    signed = client.get(f"/orders/{order_id}/devices/d1/certificate.json")
    assert signed.status_code == 200
    check = verify_certificate(signed.data, shop_state(app).trade_in.certificate_keys())
    assert check.ok
    assert check.certificate is not None
    assert check.certificate.id == certificate_id
    assert check.certificate.identifier_matches(IMEI)


def test_certificate_downloads_are_private_to_the_order(
    app: Flask, certified: tuple[ShopClient, str, str]
) -> None:
    """Another session gets 404 for the files; a device without a certificate has none to download."""
    client, order_id, _ = certified
    stranger = ShopClient(app)
    assert stranger.get(f"/orders/{order_id}/devices/d1/certificate.pdf").status_code == 404
    assert stranger.get(f"/orders/{order_id}/devices/d1/certificate.json").status_code == 404
    assert client.get(f"/orders/{order_id}/devices/d9/certificate.pdf").status_code == 404
    _, uncertified = place_order(app)
    assert client.get(f"/orders/{uncertified}/devices/d1/certificate.json").status_code == 404


def test_device_without_certificate_has_no_downloads(app: Flask) -> None:
    """The order's own session gets 404 while the device has no certificate; the page shows no block."""
    client, order_id = place_order(app)
    assert client.get(f"/orders/{order_id}/devices/d1/certificate.pdf").status_code == 404
    assert 'class="certificate"' not in client.get(f"/orders/{order_id}").text


def test_erasure_of_a_device_not_received_is_explained(app: Flask, staff: ShopClient) -> None:
    """Staff recording an erasure before the parcel arrived sees the library's message, not a 500."""
    _, order_id = place_order(app)
    page = record_erasure(staff, order_id)
    expected = ErasureNotAllowedError(state="awaiting_shipment", rule="not_received").localized("de_DE")
    assert expected in html.unescape(page)
    assert 'class="flash flash-error"' in page
    assert shop_state(app).trade_in.erasure_certificate(order_id, "d1") is None


def test_failed_verification_issues_no_certificate(app: Flask, staff: ShopClient, clock: FixedClock) -> None:
    """A verification that failed is flashed as an error in the staff's language; the form stays."""
    _, order_id = place_order(app)
    arrive(staff, order_id, clock)
    page = record_erasure(staff, order_id, verification_result="failed")
    flashed = html.unescape(find(r'class="flash flash-error"[^>]*>([^<]+)<', page))
    assert "hat die Prüfung nicht bestanden (failed)" in flashed
    assert 'data-testid="erasure-form-d1"' in page
    assert shop_state(app).trade_in.erasure_certificate(order_id, "d1") is None


def test_unknown_technique_is_a_bad_request(app: Flask, staff: ShopClient, clock: FixedClock) -> None:
    """Only the offered techniques are accepted."""
    _, order_id = place_order(app)
    arrive(staff, order_id, clock)
    response = staff.post(f"/staff/orders/{order_id}/devices/d1/erasure", {**ERASURE_FORM, "technique": "x"})
    assert response.status_code == 400


def test_erasure_in_the_second_of_receipt_is_refused(app: Flask, staff: ShopClient) -> None:
    """An erasure recorded in the very second the device was received is refused with a message."""
    _, order_id = place_order(app)
    assert staff.post(f"/staff/orders/{order_id}/devices/d1/receive").status_code == 302
    page = record_erasure(staff, order_id)
    assert "gerade erst eingegangen" in html.unescape(page)
    assert shop_state(app).trade_in.erasure_certificate(order_id, "d1") is None


def _verify(client: ShopClient, data: dict[str, Any]) -> tuple[int, str]:
    response = client.post("/certificates/verify", data, content_type="multipart/form-data")
    return response.status_code, response.text


def test_verification_page_checks_files_and_text(app: Flask, certified: tuple[ShopClient, str, str]) -> None:
    """Valid for the real file, invalid for a tampered one, revoked once revoked, 400 for garbage."""
    client, order_id, certificate_id = certified
    signed = client.get(f"/orders/{order_id}/devices/d1/certificate.json").data
    visitor = ShopClient(app, locale="en_GB")
    assert visitor.get("/certificates/verify").status_code == 200

    status, page = _verify(visitor, {"certificate": (io.BytesIO(signed), "certificate.json")})
    assert status == 200
    assert 'data-status="valid"' in page
    assert certificate_id in page

    status, page = _verify(visitor, {"text": signed.decode()})
    assert (status, 'data-status="valid"' in page) == (200, True)

    tampered = json.loads(signed)
    tampered["payload"]["destination"] = "parts"
    status, page = _verify(visitor, {"certificate": (io.BytesIO(json.dumps(tampered).encode()), "c.json")})
    assert status == 200
    assert 'data-status="invalid"' in page
    assert 'data-reason="bad_signature"' in page
    assert "changed after it was issued" in html.unescape(page)

    shop_state(app).trade_in.revoke_certificate(certificate_id, "issued_in_error")
    status, page = _verify(visitor, {"text": signed.decode()})
    assert (status, 'data-status="revoked"' in page) == (200, True)

    for garbage in ({"text": "not json {"}, {"text": "[1, 2]"}, {"text": "  "}, {}):
        status, page = _verify(visitor, garbage)
        assert status == 400
        assert 'data-testid="verify-error"' in page
    status, page = _verify(visitor, {"certificate": (io.BytesIO(b"\x89PNG\r\n"), "photo.png")})
    assert status == 400
    assert "not a certificate file" in html.unescape(page)
