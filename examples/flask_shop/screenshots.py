"""Write the README's screenshots of the shop, on a desktop and on a phone.

Run: ``.venv/bin/python -m examples.flask_shop.screenshots [OUTPUT_DIR]`` (default ``docs/screenshots``).
Serves a fresh shop (demo data, German) from a thread and photographs it with Debian's Chromium: on a
1280×900 desktop ``home``, ``questionnaire``, ``quote``, ``checkout`` (the options: how the trade-in value
is paid, the protection and the buy-back guarantee offers) and ``order`` (the order with its guarantee);
on a 390×844 phone (one screen each, at twice the pixels) ``home-phone``, ``checkout-phone`` (at the
protection offers) and ``order-phone``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from grading_questionnaire import example_answers

from . import create_app
from .browser import answer_questionnaire, browser_missing, launch_chromium, serving
from .extension import EXTENSION_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
WORN_IPHONE = example_answers("smartphone", "worn").answers | {"find_my_off": True}


def main(output: Path) -> None:
    """Photograph the shop's main pages into ``output``, on a desktop and on a phone."""
    missing = browser_missing()
    if missing is not None:
        raise SystemExit(f"cannot take screenshots: {missing}")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    output.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"TRADEIN_DATA_DIR": data_dir})
        with serving(app) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            written += _journey(browser, url, output, phone=False)
            written += _journey(browser, url, output, phone=True)
            browser.close()
        app.extensions[EXTENSION_KEY].close()
    for path in written:
        print(path)  # noqa: T201 - the script reports what it wrote


def _journey(browser: Browser, url: str, output: Path, *, phone: bool) -> list[Path]:
    """Photograph the sales tour, then buy a Galaxy S23 with an iPhone 13 traded in and the options."""
    context = browser.new_context(
        locale="de-DE", viewport=PHONE if phone else DESKTOP, device_scale_factor=2 if phone else 1
    )
    page = context.new_page()
    suffix = "-phone" if phone else ""
    written: list[Path] = []

    def shoot(name: str, *, full_page: bool, at: str | None = None) -> None:
        """The page from its top (all of it on a desktop when ``full_page``), or a phone screen at ``at``."""
        page.evaluate("window.scrollTo(0, 0)")
        if phone and at is not None:
            page.locator(at).first.evaluate("e => scrollTo(0, e.getBoundingClientRect().top - 64)")
        path = output / f"{name}{suffix}.png"
        page.screenshot(path=str(path), full_page=full_page and not phone)
        written.append(path)

    page.goto(f"{url}/tour?lang=de_DE")
    shoot("tour", full_page=False)
    page.goto(f"{url}/?lang=de_DE")
    shoot("home", full_page=False)
    page.locator('article[data-sku="SM-S911BZKDEUB"] button').click()
    page.goto(f"{url}/trade-in/devices/apple-iphone-13-128gb")
    if not phone:
        page.locator("label.choice:has(input[name=powers_on][value=true])").click()
        shoot("questionnaire", full_page=False)
    answer_questionnaire(page, WORN_IPHONE)
    page.wait_for_url("**/trade-in/quotes/**")
    if not phone:
        shoot("quote", full_page=False)
    page.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
    page.get_by_role("link", name="Weiter zur Kasse").click()
    page.locator('input[name=plan][value="discount"]').check()
    page.locator('input[name=customer_case][value="upgrade"]').check()
    page.locator('[data-offer-id="example-de/damage-cover/upfront_12"] input').check()
    page.locator('[data-guarantee-plan="buyback-24"] input[name=guarantee]').check()
    shoot("checkout", full_page=True, at="section:has([data-offer-id]) h2")
    page.get_by_role("button", name="Weiter").click()
    page.locator("input[name=protection_consent]").check()
    page.locator("input[name=guarantee_consent]").check()
    page.get_by_label("Name", exact=True).fill("Erika Mustermann")
    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    shoot("order", full_page=True)
    page.locator('[data-testid="thanks-receipt-link"]').click()
    page.wait_for_url(re.compile(r".*/receipt$"))
    shoot("receipt", full_page=True)
    context.close()
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
