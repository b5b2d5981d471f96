"""Write the README's screenshots of the shop: home, questionnaire, quote and checkout.

Run: ``.venv/bin/python -m examples.flask_shop.screenshots [OUTPUT_DIR]`` (default ``docs/screenshots``).
Serves a fresh shop (demo data, German) from a thread and photographs it with Debian's Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from examples.flask_shop import create_app
from examples.flask_shop.browser import answer_questionnaire, browser_missing, launch_chromium, serving
from examples.flask_shop.extension import EXTENSION_KEY
from grading_questionnaire import example_answers

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


def main(output: Path) -> None:
    """Photograph the four main pages into ``output``."""
    missing = browser_missing()
    if missing is not None:
        raise SystemExit(f"cannot take screenshots: {missing}")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"TRADEIN_DATA_DIR": data_dir})
        with serving(app) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_context(locale="de-DE", viewport=VIEWPORT, device_scale_factor=1).new_page()
            page.goto(f"{url}/?lang=de_DE")
            page.screenshot(path=str(output / "home.png"))
            page.locator('article[data-sku="SM-S931BZKDEUB"] button').click()
            page.goto(f"{url}/trade-in/devices/apple-iphone-13-128gb")
            page.locator("label.choice:has(input[name=platform][value=ios])").click()
            page.locator("label.choice:has(input[name=powers_on][value=true])").click()
            page.screenshot(path=str(output / "questionnaire.png"))
            answer_questionnaire(
                page, example_answers("smartphone", "worn").answers | {"platform": "ios", "find_my_off": True}
            )
            page.wait_for_url("**/trade-in/quotes/**")
            page.screenshot(path=str(output / "quote.png"))
            page.get_by_role("button", name="Als Guthaben für ein neues Gerät nutzen").click()
            page.get_by_role("link", name="Weiter zur Kasse").click()
            page.locator('[data-offer-id="example-de/damage-cover/upfront_12"]').click()
            page.get_by_role("button", name="Weiter").click()
            page.screenshot(path=str(output / "checkout.png"), full_page=True)
            browser.close()
        app.extensions[EXTENSION_KEY].close()
    for name in ("home", "questionnaire", "quote", "checkout"):
        print(output / f"{name}.png")  # noqa: T201 - the script reports what it wrote


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
