"""Driving the shop in a real browser: a server thread, Debian's Chromium, the questionnaire filled in.

Used by the browser tests and by ``screenshots.py``; needs the ``playwright`` package
(never ``playwright install``: the system's Chromium is used).
"""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server

from .questionnaire import form_value

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from flask import Flask
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def browser_missing() -> str | None:
    """Why the browser cannot run here, or ``None`` when Playwright and Chromium are both present."""
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if shutil.which(CHROMIUM) is None:
        return f"Chromium is not installed at {CHROMIUM} (apt install chromium)"
    return None


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def answer_questionnaire(page: Page, answers: Mapping[str, Any]) -> None:
    """Answer the step-by-step questionnaire as a person would, then submit it.

    Questions not in ``answers`` keep what they show (the inspector's form is prefilled); questions the
    page hides are skipped, as a person would never see them.
    """
    while True:
        step = page.locator(".step.active")
        step.wait_for()  # the page's script has set the questionnaire up (a slow machine is still loading)
        for question in step.locator(".question:not([hidden])").all():
            name = question.get_attribute("data-question") or ""
            if name not in answers:
                continue
            value = answers[name]
            if isinstance(value, list):
                for box in question.locator("input[type=checkbox]").all():
                    box.set_checked((box.get_attribute("value") or "") in value)
            elif question.get_attribute("data-kind") == "number":
                question.locator("input").fill(str(value))
            else:
                question.locator(f"label.choice:has(input[value='{form_value(value)}'])").click()
        next_button = step.locator("[data-next]")
        if next_button.is_visible():
            next_button.click()
            continue
        page.locator("[data-submit-row] button[type=submit]").click()
        return


@contextmanager
def screenshots_on_failure(folder: Path, name: str, *pages: Page) -> Iterator[None]:
    """Save a screenshot of every page into ``folder`` (``<name>-<n>.png``) when the block fails."""
    try:
        yield
    except BaseException:
        folder.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(pages):
            page.screenshot(path=str(folder / f"{name}-{index}.png"), full_page=True)
        raise
