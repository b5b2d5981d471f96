"""The reference Flask shop: how a shop integrates tradein-sdk.

Start it with ``./scripts/demo`` (or ``flask --app examples.flask_shop:create_app run``); with no
configuration it keeps a SQLite file, its keys and its session secret in the app's instance folder and
seeds demo orders. For several workers use PostgreSQL::

    TRADEIN_DATABASE_URL=postgresql://shop@db/shop gunicorn -w 4 'examples.flask_shop:create_app()'

Layout: :mod:`.extension` (the Flask extension: configuration, the facade, locale, formatting, errors and
security: Flask-WTF's CSRF protection, the rate-limited staff sign-in, staff sessions on the server, the
cookie's flags, the security headers), :mod:`.cart` (the session cart: ids and signed tokens only),
:mod:`.products` (new devices and their prices), :mod:`.purchase` (what a confirmed checkout bought, for the
confirmation page and the receipt), :mod:`.questionnaire` (reading the condition questionnaire from a form),
:mod:`.records` (the shop's own table of inspection reports), :mod:`.texts` (texts a value picks; every text
is gettext, the catalogs are in ``translations/``), :mod:`.fleet` (the company portal's demo company, uploads
and labels), :mod:`.seed` (demo data) and one blueprint per area in :mod:`.views` (the company portal:
:mod:`.views.company` and :mod:`.views.staff_fleet`; the buy-back guarantee: :mod:`.guarantees` and
:mod:`.views.guarantees`; the demo clock that shows it a year later: :mod:`.democlock` and
:mod:`.views.demo`; the sales tour: :mod:`.views.tour` and its demo data, :mod:`.tour_seed`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template

from .extension import TradeInShop, shop
from .seed import seed_demo_data
from .views import (
    checkout,
    co2,
    company,
    demo,
    guarantees,
    orders,
    staff,
    staff_co2,
    staff_fleet,
    store,
    tour,
    tradein,
)
from .views import shop as shop_views

tradein_shop = TradeInShop()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the shop application.

    Args:
        config: settings that override the defaults and the environment (see :mod:`.extension`);
            ``TRADEIN_SHOP_*`` environment variables set Flask's own (``TRADEIN_SHOP_SECRET_KEY``).

    Returns:
        The configured Flask application.
    """
    app = Flask(__name__)
    app.config.from_prefixed_env("TRADEIN_SHOP")
    if config:
        app.config.update(config)
    tradein_shop.init_app(app)
    for blueprint in (
        shop_views.bp,
        tradein.bp,
        tradein.api,
        checkout.bp,
        orders.bp,
        staff.bp,
        co2.bp,
        staff_co2.bp,
        company.bp,
        staff_fleet.bp,
        store.bp,
        guarantees.bp,
        demo.bp,
        tour.bp,
    ):
        app.register_blueprint(blueprint)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(404, _not_found)
    if _enabled(app.config["TRADEIN_SEED_DEMO"]):
        with app.app_context():
            seed_demo_data(shop(), Path(app.config["TRADEIN_DATA_DIR"] or app.instance_path))
    return app


def _enabled(value: object) -> bool:
    return str(value).strip().lower() not in {"0", "false", "no", "off", ""}


def _bad_request(_: Exception) -> tuple[str, int]:
    """A malformed request (a CSRF failure has its own page: :mod:`.extension`)."""
    return render_template("error.html", message=None, code="bad_request"), 400


def _not_found(_: Exception) -> tuple[str, int]:
    return render_template("error.html", message=None, code="not_found"), 404
