"""Helpers for testing the shop (and a shop built from it) with Flask's test client."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .extension import DEMO_STAFF_PASSWORD, EXTENSION_KEY

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from .extension import ShopState

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


ROOT = Path(__file__).resolve().parent.parent.parent if __package__ == "examples.flask_shop" else None
"""The repository root, from which ``examples.flask_shop`` is importable; ``None`` when the shop is installed
(as ``tradein_demo_shop``, importable from anywhere)."""


@contextmanager
def gunicorn_serving(
    target: str,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    pythonpath: tuple[Path, ...] = (),
    timeout: float = 60.0,
) -> Iterator[int]:
    """Serve ``target`` (``module:factory()``) with gunicorn on a free loopback port; yields the port.

    The server runs in its own process group with sync workers; it is stopped (and its workers with it)
    when the block ends, whatever happens.

    Raises:
        RuntimeError: the server did not answer within ``timeout`` seconds (its exit code is named).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            ",".join(str(path) for path in (ROOT, *pythonpath) if path is not None) or ".",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        _wait_until_answering(server, port, target, timeout)
        yield port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _wait_until_answering(server: subprocess.Popen[bytes], port: int, target: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn serving {target} exited with code {server.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)
        else:
            return
    raise RuntimeError(f"gunicorn serving {target} did not answer within {timeout:.0f} s")
