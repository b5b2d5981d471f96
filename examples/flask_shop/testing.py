"""Helpers for testing the shop (and a shop built from it) with Flask's test client."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from examples.flask_shop.extension import DEMO_STAFF_PASSWORD, EXTENSION_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from examples.flask_shop.extension import ShopState

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class ShopClient:
    """A test client that reads the session's CSRF token from the first page and sends it with each POST."""

    def __init__(self, app: Flask, *, locale: str = "de_DE") -> None:
        """Open a session (in ``locale``) and read its CSRF token."""
        self.client: FlaskClient = app.test_client()
        page = self.client.get("/", query_string={"lang": locale})
        found = _CSRF.search(page.text)
        if found is None:
            raise AssertionError("the start page carries no CSRF token")
        self.csrf_token = found.group(1)

    def get(self, url: str, **kwargs: Any) -> TestResponse:  # noqa: ANN401 - the test client's options
        """GET ``url``."""
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: Mapping[str, Any] | None = None, **kwargs: Any) -> TestResponse:  # noqa: ANN401
        """POST a form with the session's CSRF token added."""
        return self.client.post(url, data={"csrf_token": self.csrf_token, **(data or {})}, **kwargs)

    def login_staff(self, password: str = DEMO_STAFF_PASSWORD) -> None:
        """Sign in to the back office."""
        response = self.post("/staff/login", {"password": password})
        if response.status_code != 302:
            raise AssertionError("staff sign-in failed")


def answers_form(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Questionnaire answers as the HTML form sends them (``true``/``false``, lists for checkboxes)."""
    form: dict[str, Any] = {}
    for question, value in answers.items():
        if isinstance(value, bool):
            form[question] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            form[question] = list(value)
        else:
            form[question] = str(value)
    return form


def find(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text`` (fails the test when it is missing)."""
    found = re.search(pattern, text)
    if found is None:
        raise AssertionError(f"{pattern!r} not found")
    return found.group(1)


def shop_state(app: Flask) -> ShopState:
    """The shop extension's state of ``app`` (its ``TradeIn``, records and settings)."""
    state: ShopState = app.extensions[EXTENSION_KEY]
    return state
