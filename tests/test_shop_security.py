"""The demo shop's security, the Flask way (Flask test client on a real SQLite store, one browser test).

- After sign-in the shop goes back only to a path of its own: ``?next=`` with a scheme, a host, a backslash
  or a control character (also percent-encoded) leads to the back office's start page instead.
- Wrong passwords are throttled per client address (Flask-Limiter): the sixth within a minute, or the
  twenty-first within an hour, answers 429 with the shop's translated page.
- A staff session lives on the server: signing out revokes it, so a copy of the cookie opens nothing; it
  ends after eight hours (configurable) on its own.
- The session cookie is ``SameSite=Lax`` and ``HttpOnly`` (``Secure`` behind HTTPS); every response carries
  the security headers, and the Content-Security-Policy lets the shop's own pages work (browser test).
- CSRF is Flask-WTF's ``CSRFProtect``: the shop's translated page on a failure (400), and a host application
  exempts its own webhook with ``csrf.exempt``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import limits.storage.memory
import pytest
from flask import jsonify, request

from examples.flask_shop import create_app, tradein_shop
from examples.flask_shop.extension import DEMO_STAFF_PASSWORD
from examples.flask_shop.testing import ShopClient, shop_state
from tradein_sdk import FixedClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flask import Flask
    from flask.typing import ResponseReturnValue
    from playwright.sync_api import Browser, ConsoleMessage
    from werkzeug.test import TestResponse

TEMPLATES = Path(__file__).parent.parent / "examples" / "flask_shop" / "templates"
STAFF_HOME = "/staff/"


def login(client: ShopClient, next_target: str | None = None, password: str = DEMO_STAFF_PASSWORD) -> str:
    """Sign in (to ``?next=next_target`` when given); returns where the shop sends the browser."""
    query = {} if next_target is None else {"next": next_target}
    response = client.post("/staff/login", {"password": password}, query_string=query)
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def session_cookie(client: ShopClient) -> str:
    """The value of the client's session cookie."""
    cookie = client.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def is_login_redirect(response: TestResponse) -> bool:
    """Whether a response sends the browser to the sign-in page."""
    return response.status_code == 302 and "/staff/login" in (response.location or "")


# -- where the shop goes after sign-in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/%09/evil.example",  # a tab: browsers drop it, "//evil.example" is another site
        "/%0a/evil.example",  # a newline: was a 500 (a header may not hold one)
        "/%0d%0aSet-Cookie:%20staff=1",
        "//evil.example",
        "/%5Cevil.example",  # "/\evil.example": browsers read the backslash as a slash
        "%5C%5Cevil.example",
        "https://evil.example/staff/",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "/%252F/evil.example",  # "//evil.example" once decoded again
        "/%2509/evil.example",
        "staff/orders",  # relative to the sign-in page, not a path
        "",
    ],
)
def test_sign_in_never_leaves_the_shop(app: Flask, query: str) -> None:
    """A hostile or malformed ``?next=`` leads to the back office's start page, never elsewhere, no 500."""
    client = ShopClient(app)
    response = client.post(f"/staff/login?next={query}", {"password": DEMO_STAFF_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == STAFF_HOME


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\\evil.example", "/\x00", "/staff/\r\n", "http:evil.example", "/\u2028x"]
)
def test_sign_in_refuses_control_characters_and_backslashes(app: Flask, target: str) -> None:
    """The same for the decoded characters themselves (as a form or a proxy may pass them)."""
    assert login(ShopClient(app), target) == STAFF_HOME


@pytest.mark.parametrize(
    "target",
    ["/staff/orders/ord_123", "/staff/orders?state=received", "/store/", "/staff/billing?period=2027-1"],
)
def test_sign_in_goes_back_to_a_page_of_the_shop(app: Flask, target: str) -> None:
    """A path of the shop (with its query) is where the guard came from: the shop goes back there."""
    assert login(ShopClient(app), target) == target


def test_the_guard_sends_the_page_asked_for_to_the_sign_in(app: Flask) -> None:
    """Opening a staff page signed out leads to the sign-in with that page as ``next``, and back after it."""
    client = ShopClient(app)
    response = client.get("/staff/billing")
    assert is_login_redirect(response)
    assert response.location.endswith("/staff/login?next=/staff/billing")
    assert login(client, "/staff/billing") == "/staff/billing"


# -- throttled sign-in --------------------------------------------------------------------------------------


class FakeTime:
    """Stands in for the ``time`` module of the limiter's memory storage: a clock the test moves."""

    def __init__(self) -> None:
        """Start at the real time."""
        self.now = time.time()

    def time(self) -> float:
        """The time the clock stands at."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move on by ``seconds``."""
        self.now += seconds


@pytest.fixture
def limiter_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The rate limits' clock (the in-memory storage's), moved by hand."""
    fake = FakeTime()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    return fake


def wrong(client: ShopClient) -> int:
    """One sign-in with a wrong password; returns the status."""
    return client.post("/staff/login", {"password": "guess"}).status_code


def test_wrong_passwords_are_throttled_with_a_translated_page(app: Flask) -> None:
    """Five wrong passwords answer the form again; the sixth within the minute answers 429, translated."""
    client = ShopClient(app, locale="en_GB")
    assert [wrong(client) for _ in range(5)] == [200] * 5
    refused = client.post("/staff/login", {"password": "guess"})
    assert refused.status_code == 429
    assert 'data-error="too_many_requests"' in refused.text
    assert "Too many sign-in attempts" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    right = client.post("/staff/login", {"password": DEMO_STAFF_PASSWORD})
    assert right.status_code == 429  # even the right password waits
    assert client.get("/staff/login").status_code == 200  # the form still opens
    german = ShopClient(app, locale="de_DE")
    assert "Zu viele Anmeldeversuche" in german.post("/staff/login", {"password": "guess"}).text


def test_the_limit_is_per_client_address_and_signing_in_does_not_count(app: Flask) -> None:
    """Another address signs in; signing in successfully many times is no attempt to guess."""
    attacker = ShopClient(app)
    for _ in range(5):
        wrong(attacker)
    assert wrong(attacker) == 429
    colleague = ShopClient(app)
    colleague.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for _ in range(10):
        assert login(colleague) == STAFF_HOME


def test_the_limiter_resets(app: Flask) -> None:
    """The extension's limiter can be reset (by a test, or an operator): the address may try again."""
    client = ShopClient(app)
    for _ in range(5):
        wrong(client)
    assert wrong(client) == 429
    tradein_shop.limiter.reset()
    assert wrong(client) == 200
    assert login(client) == STAFF_HOME


def test_five_a_minute_and_twenty_an_hour(app: Flask, limiter_time: FakeTime) -> None:
    """A minute later five more tries are allowed, up to twenty in the hour; an hour later, again five."""
    client = ShopClient(app)
    statuses = []
    for _ in range(4):
        statuses.append([wrong(client) for _ in range(6)])
        limiter_time.advance(61)
    assert statuses == [[200] * 5 + [429]] * 4
    assert wrong(client) == 429  # twenty in this hour: the next minute does not help
    limiter_time.advance(3600)
    assert [wrong(client) for _ in range(6)] == [200] * 5 + [429]


def test_the_limits_are_configurable(tmp_path: Path) -> None:
    """``TRADEIN_STAFF_LOGIN_LIMITS`` sets them (Flask-Limiter's notation)."""
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_STAFF_LOGIN_LIMITS": "2 per minute",
        }
    )
    try:
        client = ShopClient(app)
        assert [wrong(client) for _ in range(3)] == [200, 200, 429]
    finally:
        shop_state(app).close()


# -- staff sessions on the server ---------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app: Flask) -> None:
    """Signing out revokes the session on the server: the copied cookie is a signed-out visitor's."""
    staff = ShopClient(app)
    login(staff)
    copied = session_cookie(staff)
    assert staff.get(STAFF_HOME).status_code == 200
    assert staff.post("/staff/logout").status_code == 302
    assert is_login_redirect(staff.get(STAFF_HOME))

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert is_login_redirect(thief.get(STAFF_HOME))
    assert is_login_redirect(thief.get("/staff/billing"))
    with thief.session_transaction() as session:
        assert "staff" not in session  # dropped from the cookie too: no page takes it for staff


def test_signing_out_ends_only_that_session(app: Flask) -> None:
    """A colleague's session (another sign-in) stays open; signing in again ends the previous session."""
    first, second = ShopClient(app), ShopClient(app)
    login(first)
    login(second)
    before_again = session_cookie(second)
    login(second)  # signed in again from the same browser: the earlier session id is revoked
    first.post("/staff/logout")
    assert second.get(STAFF_HOME).status_code == 200
    stale = app.test_client()
    stale.set_cookie("session", before_again)
    assert is_login_redirect(stale.get(STAFF_HOME))


def test_a_staff_session_ends_after_eight_hours(tmp_path: Path) -> None:
    """Eight hours after sign-in the session is over (the session clock; the shop's clock plays no part)."""
    clock = FixedClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    app = create_app(
        {
            "TESTING": True,
            "TRADEIN_DATA_DIR": str(tmp_path),
            "TRADEIN_SEED_DEMO": False,
            "TRADEIN_SESSION_CLOCK": clock,
        }
    )
    try:
        staff = ShopClient(app)
        login(staff)
        clock.advance(hours=7, minutes=59)
        assert staff.get(STAFF_HOME).status_code == 200
        clock.advance(minutes=1)
        assert is_login_redirect(staff.get(STAFF_HOME))
        login(staff)
        assert staff.get(STAFF_HOME).status_code == 200
    finally:
        shop_state(app).close()


def test_the_staff_session_lifetime_is_configurable(tmp_path: Path) -> None:
    """``TRADEIN_STAFF_SESSION_LIFETIME``: a ``timedelta`` or seconds."""
    clock = FixedClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    for lifetime in (timedelta(minutes=30), 1800, "1800"):
        app = create_app(
            {
                "TESTING": True,
                "TRADEIN_DATA_DIR": str(tmp_path / str(lifetime)),
                "TRADEIN_SEED_DEMO": False,
                "TRADEIN_SESSION_CLOCK": clock,
                "TRADEIN_STAFF_SESSION_LIFETIME": lifetime,
            }
        )
        try:
            staff = ShopClient(app)
            login(staff)
            clock.advance(minutes=29)
            assert staff.get(STAFF_HOME).status_code == 200
            clock.advance(minutes=1)
            assert is_login_redirect(staff.get(STAFF_HOME)), lifetime
        finally:
            shop_state(app).close()


def test_a_cookie_of_the_old_kind_is_no_staff_session(app: Flask) -> None:
    """A cookie signed by the shop with ``staff: true`` (the old kind, no session on the server) is no use."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff"] = True
    assert is_login_redirect(client.get(STAFF_HOME))


# -- cookie and headers -------------------------------------------------------------------------------------


def set_cookie(response: TestResponse) -> str:
    """The response's ``Set-Cookie`` header for the session."""
    return next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))


def test_the_session_cookie_is_lax_and_http_only_not_secure_for_the_local_demo(app: Flask) -> None:
    """``SameSite=Lax`` and ``HttpOnly``; without HTTPS not ``Secure`` (the demo runs on http://localhost)."""
    cookie = set_cookie(app.test_client().get("/"))
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("environment", "config"),
    [
        ({"TRADEIN_SHOP_HTTPS": "1"}, {}),
        ({}, {"PREFERRED_URL_SCHEME": "https"}),
        ({}, {"TRADEIN_SHOP_HTTPS": True}),
        ({}, {"SESSION_COOKIE_SECURE": True}),
    ],
)
def test_the_session_cookie_is_secure_behind_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], config: dict[str, object]
) -> None:
    """``TRADEIN_SHOP_HTTPS`` or ``PREFERRED_URL_SCHEME=https`` makes the cookie ``Secure`` and adds HSTS."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = {"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False, **config}
    app = create_app(settings)
    try:
        response = app.test_client().get("/", base_url="https://shop.example")
        assert "Secure" in set_cookie(response)
        assert "SameSite=Lax" in set_cookie(response)
        if "SESSION_COOKIE_SECURE" not in config:
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        shop_state(app).close()


def csp(response: TestResponse) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, by directive."""
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_security_headers(response: TestResponse) -> None:
    """The headers every response of the shop carries."""
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    policy = csp(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("script-src", [])


def test_every_response_carries_the_security_headers(app: Flask) -> None:
    """Pages, redirects, errors, JSON, static files and the 429 page."""
    client = ShopClient(app)
    responses = [
        client.get("/"),
        client.get("/staff/"),  # a redirect
        client.get("/no-such-page"),
        client.client.post("/cart/device", data={"sku": "x"}),  # a CSRF failure
        client.get("/static/shop.js"),
        client.get("/trade-in/search.json", query_string={"q": "iphone"}),
        client.client.post("/api/quotes", json={}, headers={"X-CSRFToken": client.csrf_token}),
    ]
    responses.extend(client.post("/staff/login", {"password": "guess"}) for _ in range(6))
    assert [r.status_code for r in responses][:4] == [200, 302, 404, 400]
    assert responses[-1].status_code == 429
    for response in responses:
        assert_security_headers(response)
        response.close()  # the static file's


def test_the_pages_allow_only_their_own_scripts_and_styles(app: Flask) -> None:
    """The shop's policy: its own files, no inline script or style; nothing else loads, nothing frames it."""
    policy = csp(ShopClient(app).get("/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def inline_handlers(source: str) -> list[str]:
    """The inline event handlers (``onchange="..."``) of a template."""
    return re.findall(r"""\son[a-z]+=["']([^"']*)["']""", source)


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly ``text`` (``'sha256-...'``)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_templates_have_no_inline_script_or_style_the_policy_would_block(app: Flask) -> None:
    """Every ``<script>`` loads a file; no ``<style>``, no ``style=``; each inline handler is allowed by hash.

    A template that adds inline code fails here before it fails in a browser.
    """
    script_src = csp(ShopClient(app).get("/"))["script-src"]
    for template in sorted(TEMPLATES.glob("*.html")):
        source = template.read_text(encoding="utf-8")
        for script in re.findall(r"<script\b[^>]*>", source):
            assert " src=" in script or "csp_nonce()" in script, (template.name, script)
        assert "<style" not in source or "csp_nonce()" in source, template.name
        assert not re.search(r"\sstyle=", source), template.name
        for handler in inline_handlers(source):
            assert csp_hash(handler) in script_src, (template.name, handler)
            assert "'unsafe-hashes'" in script_src


def test_the_printable_label_keeps_its_own_styles_and_runs_no_script(app: Flask) -> None:
    """The library's self-contained label (inline ``<style>``) gets a document policy: styles, no scripts."""
    from tests.test_shop_backoffice import place_order  # noqa: PLC0415 - the back office's order helper

    client, order_id = place_order(app)
    response = client.get(f"/orders/{order_id}/label")
    assert response.status_code == 200
    assert "<style>" in response.text
    policy = csp(response)
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == ["'unsafe-inline'"]
    assert "script-src" not in policy
    assert_security_headers(response)


# -- CSRF (Flask-WTF) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c", "x" * 5000])
def test_a_post_without_a_valid_token_is_the_translated_400_page(app: Flask, token: str | None) -> None:
    """Missing, empty, malformed: 400 with the shop's page in the shopper's language, never a 500."""
    client = ShopClient(app, locale="en_GB")
    data = {"sku": "SM-S931BZKDEUB"} if token is None else {"sku": "SM-S931BZKDEUB", "csrf_token": token}
    response = client.client.post("/cart/device", data=data)
    assert response.status_code == 400
    assert 'data-error="csrf"' in response.text
    assert "This form has expired" in response.text
    assert "SM-S931BZKDEUB" not in client.get("/cart").text


def test_a_token_of_another_session_is_refused(app: Flask) -> None:
    """Each session has its own token."""
    client, other = ShopClient(app), ShopClient(app)
    response = client.client.post("/cart/device", data={"sku": "x", "csrf_token": other.csrf_token})
    assert response.status_code == 400
    assert 'data-error="csrf"' in response.text


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-Token"])
def test_the_token_may_come_in_a_header(app: Flask, header: str) -> None:
    """A frontend sends it in ``X-CSRFToken`` or ``X-CSRF-Token``; without it the JSON endpoint says 400."""
    client = ShopClient(app)
    body = {"device_id": "apple-iphone-13-128gb"}
    quoted = client.client.post("/api/quotes", json=body, headers={header: client.csrf_token})
    assert quoted.status_code != 400
    refused = client.client.post("/api/quotes", json=body)
    assert refused.status_code == 400
    assert 'data-error="csrf"' in refused.text


def test_the_shop_uses_flask_wtf_csrf_protect(app: Flask) -> None:
    """The extension exposes its ``CSRFProtect``; the form field and the headers are the shop's."""
    assert type(tradein_shop.csrf).__module__ == "flask_wtf.csrf"
    assert type(tradein_shop.csrf).__name__ == "CSRFProtect"
    assert app.extensions["csrf"] is tradein_shop.csrf
    assert app.config["WTF_CSRF_FIELD_NAME"] == "csrf_token"
    assert {"X-CSRFToken", "X-CSRF-Token"} <= set(app.config["WTF_CSRF_HEADERS"])


def test_a_host_application_exempts_its_own_webhook(tmp_path: Path) -> None:
    """A host registers a JSON webhook on the shop's app and exempts it; its other POSTs stay protected.

    (As a decorator: ``@app.post("/hooks/payments")`` above ``@tradein_shop.csrf.exempt``.)
    """
    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path), "TRADEIN_SEED_DEMO": False})
    received: list[object] = []

    def payment_webhook() -> ResponseReturnValue:
        received.append(request.get_json())
        return jsonify({"ok": True})

    tradein_shop.csrf.exempt(payment_webhook)
    app.add_url_rule("/hooks/payments", view_func=payment_webhook, methods=["POST"])

    @app.post("/host/form")
    def host_form() -> ResponseReturnValue:
        return "posted"

    try:
        client = app.test_client()
        event = {"type": "payment.succeeded", "id": "evt_1"}
        response = client.post("/hooks/payments", data=json.dumps(event), content_type="application/json")
        assert response.status_code == 200
        assert response.get_json() == {"ok": True}
        assert received == [event]
        assert client.post("/host/form").status_code == 400
        assert client.post("/cart/device", data={"sku": "x"}).status_code == 400
    finally:
        shop_state(app).close()


# -- in the browser -----------------------------------------------------------------------------------------


@pytest.fixture
def demo_shop_url(tmp_path: Path) -> Iterator[str]:
    """The shop with its demo data, served on a free loopback port."""
    from examples.flask_shop.browser import serving  # noqa: PLC0415

    app = create_app({"TESTING": True, "TRADEIN_DATA_DIR": str(tmp_path)})
    with serving(app) as url:
        yield url
    shop_state(app).close()


@pytest.mark.browser
def test_the_pages_work_under_the_content_security_policy(browser: Browser, demo_shop_url: str) -> None:
    """The shop's pages work with the policy on, and Chromium reports no violation.

    Search-as-you-type, the questionnaire's steps, the staff's state filter (an inline handler), the CO2
    chart and the label's own styles.
    """
    from playwright.sync_api import expect  # noqa: PLC0415

    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", watch)
    page.goto(f"{demo_shop_url}/?lang=de_DE")
    assert page.locator("link[rel=stylesheet]").count() == 1
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # shop.css applied
    page.goto(f"{demo_shop_url}/trade-in/")
    page.locator("#q").press_sequentially("iphone 13 128", delay=10)
    page.locator('.suggestions a[data-device-id="apple-iphone-13-128gb"]').click()
    expect(page.locator("[data-questionnaire] .step.active")).to_have_count(1)  # shop.js runs the steps

    page.goto(f"{demo_shop_url}/staff/")
    page.get_by_label("Passwort").fill("demo")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r".*/staff/$"))
    page.locator("select[name=state]").select_option("awaiting_shipment")
    page.wait_for_url(re.compile(r".*/staff/\?state=awaiting_shipment$"))  # the onchange handler submitted
    order_link = page.locator("a[href*='/staff/orders/ord_']").first.get_attribute("href")
    assert order_link is not None

    page.goto(f"{demo_shop_url}/staff/co2")
    chart = page.locator('[data-testid="co2-chart"]')
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_js_property("complete", value=True, timeout=30_000)  # matplotlib draws it
    assert chart.evaluate("image => image.naturalWidth") > 0  # the chart (an image of the shop) loaded

    page.goto(f"{demo_shop_url}/orders/{order_link.rsplit('/', 1)[1]}/label")
    assert page.evaluate("getComputedStyle(document.querySelector('.address')).borderTopWidth") == "2px"
    context.close()
    assert violations == []
