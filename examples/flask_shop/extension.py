"""The Flask extension: one :class:`~tradein_sdk.TradeIn` per application, configured from ``app.config``.

``TradeInShop(app)`` or ``TradeInShop().init_app(app)`` reads the settings below (each falls back to the
environment variable of the same name, then to the default), builds the facade and keeps everything in
``app.extensions["tradein_shop"]`` (a :class:`ShopState`); views reach it with :func:`shop`.

=========================  ==========================================================================
``TRADEIN_DATA_DIR``       where the SQLite file, the key file and the session secret live
                           (default: the app's instance folder)
``TRADEIN_DATABASE_URL``   ``postgresql://...`` for several workers or hosts (default: a SQLite file)
``TRADEIN_QUOTE_KEYS``     ``k2=<base64url>,k1=<...>``: the quote-signing keys (default: a key file)
``TRADEIN_MARKET``         the market prices and quotes are for (``DE``)
``TRADEIN_LOCALE``         the default locale (``de_DE``); ``TRADEIN_LOCALES`` the ones offered
``TRADEIN_AUDIENCE``       the shop id quote tokens are issued for (``flask-shop``)
``TRADEIN_SEED_DEMO``      fill an empty database with demo orders (on; ``0`` turns it off)
``TRADEIN_STAFF_PASSWORD`` the back office password (``demo``: change it)
``TRADEIN_FLEET_ISSUER``   the shop as it appears on fleet credit notes: a ``Party``, or its fields as a
                           mapping or JSON text (default: :data:`DEMO_ISSUER`, a demo company)
``TRADEIN_CLOCK``          where "now" comes from (a ``Clock``; default: the system clock)
``TRADEIN_DEMO_CLOCK``     ``on``, ``staff`` or ``off``: a demo clock the shop can move on ("Demo: one year
                           later"), shown to anyone or to staff only (default: ``on`` when the shop seeds
                           demo data, else ``off``; see :mod:`.democlock`)
``SECRET_KEY``             signs the session cookie (default: generated once, kept in the data dir)
=========================  ==========================================================================

The extension also gives every template what it needs: ``t()`` for the shop's texts, ``csrf_token()``,
and the ``money``, ``date``, ``datetime``, ``number`` and ``period`` (a billing month) filters (Babel, in
the shopper's locale). Every POST must carry the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``), else 400. Library errors become a friendly, translated message.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, session

from examples.flask_shop.democlock import DemoClock, demo_clock_mode
from examples.flask_shop.messages import LANGUAGES, translate
from examples.flask_shop.products import Product, products_for_sale
from examples.flask_shop.records import ShopRecords
from tradein_sdk import (
    KeyRing,
    LocalFulfilment,
    Money,
    Party,
    ReceivingAddress,
    SQLStore,
    SystemClock,
    TradeIn,
    TradeInError,
    load_promotions,
)

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from flask.typing import ResponseReturnValue

EXTENSION_KEY = "tradein_shop"
SHOP_TIME_ZONE = "Europe/Berlin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
DEMO_STAFF_PASSWORD = "demo"  # noqa: S105 - the demo's published password; set TRADEIN_STAFF_PASSWORD
DEMO_ISSUER = Party(
    name="Demo Phone Shop GmbH",
    street="Ankaufstraße 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_id="DE123456788",
)
"""The shop's own company data on fleet credit notes (a demo: set ``TRADEIN_FLEET_ISSUER``)."""

DEFAULTS: dict[str, Any] = {
    "TRADEIN_DATA_DIR": None,
    "TRADEIN_DATABASE_URL": None,
    "TRADEIN_MARKET": "DE",
    "TRADEIN_LOCALE": "de_DE",
    "TRADEIN_LOCALES": ("de_DE", "en_GB", "fr_FR"),
    "TRADEIN_AUDIENCE": "flask-shop",
    "TRADEIN_SEED_DEMO": True,
    "TRADEIN_STAFF_PASSWORD": DEMO_STAFF_PASSWORD,
    "TRADEIN_PROMOTIONS_FILE": None,
    "TRADEIN_CLOCK": None,
    "TRADEIN_DEMO_CLOCK": None,
    "TRADEIN_FLEET_ISSUER": None,
}


@attrs.frozen(kw_only=True)
class ShopState:
    """What the extension keeps per application.

    Attributes:
        trade_in: the library facade.
        records: the shop's own tables (inspection reports).
        products: the new devices the shop sells.
        locales: the locales the shop offers, the default first.
        staff_password: the back office password.
        issuer: the shop's company data, as fleet credit notes name the buyer.
        demo_clock: the demo clock the facade tells time by, when ``TRADEIN_DEMO_CLOCK`` is not ``off``.
        demo_clock_mode: who may see and move it: ``on`` (anyone), ``staff`` or ``off``.
    """

    trade_in: TradeIn
    records: ShopRecords
    products: tuple[Product, ...]
    locales: tuple[str, ...]
    staff_password: str
    issuer: Party = DEMO_ISSUER
    demo_clock: DemoClock | None = None
    demo_clock_mode: str = "off"

    def demo_clock_shown(self) -> bool:
        """Whether this request may see and move the demo clock (demo mode, or staff signed in)."""
        if self.demo_clock is None:
            return False
        return self.demo_clock_mode == "on" or bool(session.get("staff"))

    def close(self) -> None:
        """Release the database connections (when the process ends, or after a test)."""
        self.trade_in.close()
        self.records.close()

    def product(self, sku: str) -> Product | None:
        """The product with that article number, or ``None``."""
        return next((product for product in self.products if product.sku == sku), None)


def shop() -> ShopState:
    """The extension state of the current application."""
    state: ShopState = current_app.extensions[EXTENSION_KEY]
    return state


def current_locale() -> str:
    """The shopper's locale for this request."""
    locale: str = g.get("locale") or shop().locales[0]
    return locale


def t(key: str, **params: object) -> str:
    """A shop text in the shopper's language."""
    return translate(key, current_locale(), **params)


class TradeInShop:
    """The Flask extension (see the module docstring)."""

    def __init__(self, app: Flask | None = None) -> None:
        """Set up ``app`` now, or later with :meth:`init_app`."""
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Configure the facade for ``app`` and register the request hooks, template helpers and errors."""
        for name, default in DEFAULTS.items():
            app.config.setdefault(name, os.environ.get(name, default))
        data_dir = Path(app.config["TRADEIN_DATA_DIR"] or app.instance_path)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _secret_key(data_dir / "session-secret")
        locales = tuple(app.config["TRADEIN_LOCALES"])
        default_locale = app.config["TRADEIN_LOCALE"]
        if default_locale in locales:
            locales = (default_locale, *(locale for locale in locales if locale != default_locale))
        records = ShopRecords(app.config["TRADEIN_DATABASE_URL"] or f"sqlite:///{data_dir / 'shop.sqlite3'}")
        mode = demo_clock_mode(
            app.config["TRADEIN_DEMO_CLOCK"], demo=_enabled(app.config["TRADEIN_SEED_DEMO"])
        )
        demo_clock = (
            None if mode == "off" else DemoClock(app.config["TRADEIN_CLOCK"] or SystemClock(), records)
        )
        state = ShopState(
            trade_in=_build_trade_in(app.config, data_dir, clock=demo_clock),
            records=records,
            products=(),
            locales=locales,
            staff_password=str(app.config["TRADEIN_STAFF_PASSWORD"]),
            issuer=_issuer(app.config["TRADEIN_FLEET_ISSUER"]),
            demo_clock=demo_clock,
            demo_clock_mode=mode,
        )
        state = attrs.evolve(state, products=products_for_sale(state.trade_in.catalog, state.trade_in.market))
        app.extensions[EXTENSION_KEY] = state

        app.before_request(_select_locale)
        app.before_request(_check_csrf)
        app.register_error_handler(TradeInError, _library_error)
        app.jinja_env.globals.update(t=t, csrf_token=csrf_token, current_locale=current_locale)
        app.jinja_env.filters.update(
            money=format_money,
            date=format_date,
            datetime=format_datetime,
            number=format_number,
            period=format_period,
        )
        app.context_processor(
            lambda: {
                "locales": shop().locales,
                "languages": LANGUAGES,
                "demo_clock": shop().demo_clock if shop().demo_clock_shown() else None,
            }
        )


def _enabled(value: object) -> bool:
    return str(value).strip().lower() not in {"0", "false", "no", "off", ""}


def _build_trade_in(config: Any, data_dir: Path, *, clock: DemoClock | None = None) -> TradeIn:  # noqa: ANN401 - a flask.Config
    """The facade: SQLite file or PostgreSQL, keys from the environment or a key file, example promotions.

    Its clock is ``clock`` (the demo clock) when given, else ``TRADEIN_CLOCK`` (the system clock by default).

    The installation's signing keys seal every audit entry and sign the audit checkpoints kept in
    ``audit-checkpoints/`` beside the data (the staff audit page verifies against the latest one).
    """
    from tradein_sdk import (  # noqa: PLC0415
        EXAMPLE_PROMOTIONS,
        AuditSeals,
        DirectoryCheckpoints,
        SigningKeys,
    )

    url = config["TRADEIN_DATABASE_URL"]
    data_dir.mkdir(parents=True, exist_ok=True)
    signing = SigningKeys.configured(data_dir / "signing-keys.json")
    store = SQLStore(
        url or f"sqlite:///{data_dir / 'tradein.sqlite3'}", audit_seals=AuditSeals.from_signing_keys(signing)
    )
    keys = KeyRing.configured(data_dir / "quote-keys.json")
    return TradeIn(
        store=store,
        signing_keys=signing,
        checkpoints=DirectoryCheckpoints(data_dir / "audit-checkpoints"),
        key_ring=keys,
        audience=config["TRADEIN_AUDIENCE"],
        market=config["TRADEIN_MARKET"],
        locale=config["TRADEIN_LOCALE"],
        clock=clock or config["TRADEIN_CLOCK"],
        promotions=load_promotions(config["TRADEIN_PROMOTIONS_FILE"] or EXAMPLE_PROMOTIONS),
        fulfilment=LocalFulfilment(
            ReceivingAddress(
                name="Demo Phone Shop GmbH – Trade-in", lines=("Ankaufstraße 1", "10115 Berlin", "Germany")
            )
        ),
    )


def _issuer(value: object) -> Party:
    """The configured issuer: a ``Party``, its fields as a mapping or JSON text, or the demo's."""
    if isinstance(value, Party):
        return value
    if isinstance(value, str) and value.strip():
        value = json.loads(value)
    if isinstance(value, dict):
        return Party(**value)
    return DEMO_ISSUER


def _secret_key(path: Path) -> str:
    """The session secret kept in ``path`` (created once, mode 0600; every worker reads the same).

    Written to a temporary file first and linked into place, so a worker starting at the same moment
    reads either no file or the whole secret, never an empty one; the first link wins.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(32))
            with contextlib.suppress(FileExistsError):
                path.hardlink_to(temporary)
        finally:
            Path(temporary).unlink()
    return path.read_text(encoding="ascii").strip()


# -- locale -------------------------------------------------------------------------------------------------


def _select_locale() -> None:
    """``?lang=`` switches and remembers the language; else the session's, the browser's, the default."""
    locales = shop().locales
    asked = request.args.get("lang")
    if asked in locales:
        session["locale"] = asked
    chosen = session.get("locale")
    if chosen not in locales:
        best = request.accept_languages.best_match([locale[:2] for locale in locales])
        chosen = next((locale for locale in locales if best and locale.startswith(best)), locales[0])
    g.locale = chosen


def format_money(value: Money | None) -> str:
    """``1.234,56 €`` in the shopper's locale."""
    return "" if value is None else value.format(current_locale())


def format_date(value: date | datetime | None, style: str = "medium") -> str:
    """A date in the shopper's locale."""
    from babel.dates import format_date as babel_date  # noqa: PLC0415

    return "" if value is None else str(babel_date(value, format=style, locale=current_locale()))


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    """A moment in the shopper's locale and the shop's time zone."""
    from babel.dates import format_datetime as babel_datetime  # noqa: PLC0415
    from babel.dates import get_timezone  # noqa: PLC0415

    if value is None:
        return ""
    zone = get_timezone(SHOP_TIME_ZONE)
    return str(babel_datetime(value, format=style, tzinfo=zone, locale=current_locale()))


def format_period(period: str | None, style: str = "long") -> str:
    """A ``YYYY-MM`` billing period as its month and year in the shopper's locale (``Januar 2027``).

    ``style="short"`` abbreviates the month (``Jan. 2027``).
    """
    from datetime import date  # noqa: PLC0415

    from babel.dates import format_date as babel_date  # noqa: PLC0415

    year, _, month = (period or "").partition("-")
    try:
        first = date(int(year), int(month), 1)
    except ValueError:
        return period or ""
    pattern = "LLL y" if style == "short" else "LLLL y"
    return str(babel_date(first, format=pattern, locale=current_locale()))


def format_number(value: float | Decimal) -> str:
    """A number in the shopper's locale."""
    from babel.numbers import format_decimal  # noqa: PLC0415

    return str(format_decimal(value, locale=current_locale()))


# -- CSRF ---------------------------------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token (made on first use); every form carries it in a hidden field."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    """Refuse (400) any unsafe request without the session's token."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400, description="csrf")


# -- errors -------------------------------------------------------------------------------------------------


def _library_error(error: TradeInError) -> ResponseReturnValue:
    """A library error a view did not handle: its translated message, back where the shopper came from."""
    message = error.localized(current_locale())
    referrer = request.referrer
    if request.method == "POST" and referrer and urlsplit(referrer).netloc == request.host:
        flash(message, "error")
        return redirect(referrer)
    return render_template("error.html", message=message, code=error.code), 400
