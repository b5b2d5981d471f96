"""The reference Flask shop: how a shop integrates tradein-sdk.

Start it with ``./scripts/demo`` (or ``flask --app examples.flask_shop:create_app run``). This first
version shows the device search of the trade-in flow on the bundled catalog.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request

from tradein_sdk import Catalog, DeviceCategory

SUPPORTED_LOCALES = ("de_DE", "en_GB", "fr_FR")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the shop application.

    Args:
        config: settings that override the defaults (``TRADEIN_LOCALE``, ``TRADEIN_MARKET``).

    Returns:
        The configured Flask application.
    """
    app = Flask(__name__)
    app.config.from_mapping(TRADEIN_LOCALE="de_DE", TRADEIN_MARKET="DE")
    app.config.from_prefixed_env("TRADEIN_SHOP")
    if config:
        app.config.update(config)

    @app.get("/")
    def index() -> str:
        catalog = Catalog.bundled()
        query = request.args.get("q", "").strip()
        locale = request.args.get("lang", app.config["TRADEIN_LOCALE"])
        if locale not in SUPPORTED_LOCALES:
            locale = app.config["TRADEIN_LOCALE"]
        hits = catalog.search(query, limit=12) if query else ()
        return render_template(
            "index.html",
            query=query,
            hits=hits,
            locale=locale,
            locales=SUPPORTED_LOCALES,
            market=app.config["TRADEIN_MARKET"],
            model_count=len(catalog),
            categories=list(DeviceCategory),
        )

    return app
