from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from examples.flask_shop import create_app

if TYPE_CHECKING:
    from flask.testing import FlaskClient


@pytest.fixture
def client() -> FlaskClient:
    """A test client of the demo shop."""
    return create_app({"TESTING": True}).test_client()


def test_start_page_offers_the_device_search(client: FlaskClient) -> None:
    """The start page shows the search form and how many devices it knows."""
    response = client.get("/")
    assert response.status_code == 200
    assert 'name="q"' in response.text
    assert "109 phones, tablets and watches" in response.text


def test_search_shows_devices_with_localized_launch_prices(client: FlaskClient) -> None:
    """A search lists matching devices with their launch price formatted for the locale."""
    response = client.get("/", query_string={"q": "iphone 13 128", "lang": "de_DE"})
    assert 'data-device-id="apple-iphone-13-128gb"' in response.text
    assert "899,00\xa0€" in response.text


def test_unknown_locale_falls_back_to_the_default(client: FlaskClient) -> None:
    """A locale the shop does not offer falls back to its default (German)."""
    response = client.get("/", query_string={"q": "ipad 10", "lang": "xx_YY"})
    assert 'lang="de"' in response.text
    assert "Tablet" in response.text


def test_no_match_is_said_plainly(client: FlaskClient) -> None:
    """A search without hits says so."""
    assert "No device matches" in client.get("/", query_string={"q": "nokia 3310"}).text
