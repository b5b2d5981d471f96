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
``TRADEIN_SHOP_HTTPS``     the shop is served over HTTPS: the session cookie is ``Secure``, responses
                           carry HSTS (off for the local demo; ``PREFERRED_URL_SCHEME=https`` too)
``TRADEIN_STAFF_SESSION_LIFETIME``
                           how long a staff sign-in lasts: a ``timedelta`` or seconds (8 hours)
``TRADEIN_STAFF_LOGIN_LIMITS``
                           wrong back office passwords allowed per client address, in Flask-Limiter's
                           notation (``5 per minute; 20 per hour``)
``RATELIMIT_STORAGE_URI``  where Flask-Limiter counts (``memory://``, one count per process; use
                           ``redis://...`` or ``memcached://...`` for several workers)
``TRADEIN_SESSION_CLOCK``  where the staff sessions' "now" comes from (a ``Clock``; the system clock,
                           never the shop's or the demo clock, which move by months)
=========================  ==========================================================================

The shop's texts are gettext messages (Flask-Babel): ``_("Order placed")`` in a template, ``gettext`` and
``ngettext`` in Python, ``text(group, value)`` (:mod:`.texts`) where a value picks the text. Their catalogs
are ``translations/<lang>/LC_MESSAGES/messages.po``, kept with the standard ``pybabel`` workflow (the
README's shop section). The extension sets up Flask-Babel when the application has not (its locale is the
shopper's, below; its catalogs are the shop's and the application's own ``BABEL_TRANSLATION_DIRECTORIES``).

The extension also gives every template what it needs: ``text()``, ``csrf_token()``
(Flask-WTF's), ``csp_nonce()`` (for an inline script or style a host's template adds), and the ``money``,
``date``, ``datetime``, ``number`` and ``period`` (a billing month) filters (Babel, in the shopper's
locale and the shop's time zone; a time shows no UTC offset, a French long date says « 1er »), ``reference``
(an order's human reference, :func:`~tradein_sdk.order_reference`: the one form every page, label and
e-mail writes) and ``device_name`` (a catalog id as its name with storage).
Library errors become a friendly, translated message.

Security, the Flask way:

- CSRF is Flask-WTF's :class:`~flask_wtf.csrf.CSRFProtect` (``TradeInShop.csrf``): every POST carries the
  session's token (form field ``csrf_token``, or header ``X-CSRFToken``/``X-CSRF-Token``), else the shop's
  translated 400 page. A host application exempts its own webhook with ``shop_extension.csrf.exempt``.
- The back office sign-in is rate limited per client address by Flask-Limiter (``TradeInShop.limiter``,
  counting wrong passwords only; 429 with a translated page). Behind a proxy, apply Werkzeug's ``ProxyFix``
  so the client's address is the one counted.
- A staff sign-in is a session on the server (:class:`StaffSessions`, a table beside the shop's own):
  checked on every request, ended by signing out (a copied cookie opens nothing) or by its lifetime.
- The session cookie is ``SameSite=Lax`` and ``HttpOnly`` (and ``Secure`` with HTTPS); every response
  carries a Content-Security-Policy (the shop's own scripts and styles only), ``X-Content-Type-Options``,
  ``X-Frame-Options``, ``Referrer-Policy`` and ``Permissions-Policy``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
import unicodedata
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

import attrs
import sqlalchemy as sa
from flask import Flask, current_app, flash, g, redirect, render_template, request, session
from flask_babel import Babel, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect

from tradein_sdk import (
    DeviceNotFoundError,
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
    order_reference,
)

from .democlock import DemoClock, demo_clock_mode
from .products import Product, products_for_sale
from .records import ShopRecords
from .texts import text

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from flask.typing import ResponseReturnValue
    from werkzeug.exceptions import TooManyRequests
    from werkzeug.wrappers import Response

    from tradein_sdk import Clock

EXTENSION_KEY = "tradein_shop"
TRANSLATIONS = Path(__file__).parent / "translations"
"""The shop's gettext catalogs (``<lang>/LC_MESSAGES/messages.po`` and the compiled ``.mo``)."""
LANGUAGES = {"de_DE": "Deutsch", "en_GB": "English", "fr_FR": "Français"}
"""How each locale the shop offers names itself (in the language switch)."""
SHOP_TIME_ZONE = "Europe/Berlin"
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

limiter = Limiter(get_remote_address, headers_enabled=True, key_prefix="tradein-shop")
"""Flask-Limiter's limiter of the back office sign-in (``TradeInShop.limiter``, :func:`sign_in_limits`)."""

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
    "TRADEIN_SHOP_HTTPS": False,
    "TRADEIN_STAFF_SESSION_LIFETIME": timedelta(hours=8),
    "TRADEIN_STAFF_LOGIN_LIMITS": "5 per minute; 20 per hour",
    "TRADEIN_SESSION_CLOCK": None,
    "RATELIMIT_STORAGE_URI": "memory://",
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
        staff_sessions: the signed-in staff sessions, kept on the server.
        issuer: the shop's company data, as fleet credit notes name the buyer.
        demo_clock: the demo clock the facade tells time by, when ``TRADEIN_DEMO_CLOCK`` is not ``off``.
        demo_clock_mode: who may see and move it: ``on`` (anyone), ``staff`` or ``off``.
    """

    trade_in: TradeIn
    records: ShopRecords
    products: tuple[Product, ...]
    locales: tuple[str, ...]
    staff_password: str
    staff_sessions: StaffSessions
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
        self.staff_sessions.dispose()

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


class TradeInShop:
    """The Flask extension (see the module docstring).

    Attributes:
        csrf: its Flask-WTF ``CSRFProtect``: ``shop_extension.csrf.exempt(view)`` exempts a host's own
            route (a webhook signed by its sender, say) from the CSRF check.
        limiter: the Flask-Limiter ``Limiter`` of the sign-in (one per process, like the views it limits;
            each application it is set up for counts in that application's ``RATELIMIT_STORAGE_URI``);
            ``limiter.reset()`` clears the counts.
    """

    def __init__(self, app: Flask | None = None) -> None:
        """Set up ``app`` now, or later with :meth:`init_app`."""
        self.csrf: CSRFProtect = CSRFProtect()
        self.limiter = limiter
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
        shop_url = app.config["TRADEIN_DATABASE_URL"] or f"sqlite:///{data_dir / 'shop.sqlite3'}"
        records = ShopRecords(shop_url)
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
            staff_sessions=StaffSessions(
                shop_url,
                lifetime=_lifetime(app.config["TRADEIN_STAFF_SESSION_LIFETIME"]),
                clock=app.config["TRADEIN_SESSION_CLOCK"],
            ),
            issuer=_issuer(app.config["TRADEIN_FLEET_ISSUER"]),
            demo_clock=demo_clock,
            demo_clock_mode=mode,
        )
        state = attrs.evolve(state, products=products_for_sale(state.trade_in.catalog, state.trade_in.market))
        app.extensions[EXTENSION_KEY] = state

        _set_up_babel(app, default_locale)
        _secure_cookies(app)
        app.before_request(_select_locale)  # first: the error pages of the checks below are translated
        app.before_request(_check_staff_session)
        self.csrf.init_app(app)
        self.limiter.init_app(app)
        app.after_request(_security_headers)
        app.register_error_handler(TradeInError, _library_error)
        app.register_error_handler(CSRFError, _csrf_error)
        app.register_error_handler(429, _too_many_requests)
        app.jinja_env.globals.update(text=text, csp_nonce=csp_nonce, current_locale=current_locale)
        app.jinja_env.filters.update(
            money=format_money,
            date=format_date,
            datetime=format_datetime,
            number=format_number,
            period=format_period,
            reference=order_reference,
            device_name=device_name,
        )
        app.context_processor(
            lambda: {
                "locales": shop().locales,
                "languages": LANGUAGES,
                "demo_clock": shop().demo_clock if shop().demo_clock_shown() else None,
            }
        )


def _set_up_babel(app: Flask, default_locale: str) -> None:
    """Flask-Babel with the shop's catalogs, unless the application set it up itself.

    The shop's catalogs come first in ``BABEL_TRANSLATION_DIRECTORIES``, the application's own
    (``translations`` beside it, by default) after them, so a host's templates keep their texts. A host
    that set up Flask-Babel before keeps its own locale selector (the shop's catalogs are added to it).
    """
    own = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
    directories = [
        str(TRANSLATIONS),
        *(part for part in own.split(";") if part and part != str(TRANSLATIONS)),
    ]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", default_locale)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", SHOP_TIME_ZONE)
    if "babel" not in app.extensions:
        Babel(app, locale_selector=current_locale, timezone_selector=lambda: SHOP_TIME_ZONE)
    elif str(TRANSLATIONS) not in app.extensions["babel"].translation_directories:
        app.extensions["babel"].translation_directories.insert(0, str(TRANSLATIONS))


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
                name="Demo Phone Shop GmbH – Trade-in", lines=("Ankaufstraße 1", "10115 Berlin"), country="DE"
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
    """A date in the shopper's locale; a moment is dated in the shop's time zone.

    ``style`` is Babel's (``short``, ``medium``, ``long``, ``full``) or a pattern. French writes the first of
    a month « 1er » in a date with the month's name (``1er février 2027``).
    """
    from babel.dates import format_date as babel_date  # noqa: PLC0415

    if value is None:
        return ""
    day = _shop_date(value)
    locale = current_locale()
    return str(babel_date(day, format=_date_pattern(style, locale, day), locale=locale))


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    """A moment in the shopper's locale and the shop's time zone: its date (as :func:`format_date`) and time.

    The time is the locale's short one (hours and minutes), with no UTC offset or zone name: every time the
    shop shows is the shop's own (:data:`SHOP_TIME_ZONE`). Date and time are joined as the locale joins them
    at ``style``.
    """
    from babel.dates import format_date as babel_date  # noqa: PLC0415
    from babel.dates import format_time, get_datetime_format, get_timezone  # noqa: PLC0415

    if value is None:
        return ""
    locale = current_locale()
    moment = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(
        get_timezone(SHOP_TIME_ZONE)
    )
    day = moment.date()
    joined = str(get_datetime_format(_STYLES.get(style, "medium"), locale=locale))
    shown_date = str(babel_date(day, format=_date_pattern(style, locale, day), locale=locale))
    shown_time = str(format_time(moment.time(), format="short", locale=locale))
    return joined.replace("{1}", shown_date).replace("{0}", shown_time)


_STYLES: dict[str, Literal["short", "medium", "long", "full"]] = {
    "short": "short",
    "medium": "medium",
    "long": "long",
    "full": "full",
}
"""Babel's named styles (any other ``style`` is a pattern)."""
_DAY_BEFORE_MONTH_NAME = re.compile(r"(?<![d'])d(?= MMMM)")


def _shop_date(value: date | datetime) -> date:
    """The day ``value`` falls on in the shop's time zone (a date as it is; a moment without zone is UTC)."""
    from datetime import datetime as moment_type  # noqa: PLC0415

    from babel.dates import get_timezone  # noqa: PLC0415

    if not isinstance(value, moment_type):
        return value
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(get_timezone(SHOP_TIME_ZONE)).date()


def _date_pattern(style: str, locale: str, day: date) -> str:
    """Babel's date pattern of ``style`` in ``locale``; in French « 1er » for the 1st before a month name."""
    from babel.dates import get_date_format  # noqa: PLC0415

    known = _STYLES.get(style)
    pattern = style if known is None else str(get_date_format(known, locale=locale).pattern)
    if day.day == 1 and locale.startswith("fr"):
        pattern = _DAY_BEFORE_MONTH_NAME.sub("d'er'", pattern)
    return pattern


def device_name(device_id: str) -> str:
    """A catalog device's name with its storage (``Samsung Galaxy S23 128 GB``); the id when unknown.

    The ``device_name`` filter: pages name a device by it, never by its catalog id.
    """
    try:
        entry = shop().trade_in.catalog.lookup(device_id)
    except DeviceNotFoundError:
        return device_id
    if entry.variant is None:
        return entry.model.display_name
    return f"{entry.model.display_name} {entry.variant.storage_label}"


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


# -- errors -------------------------------------------------------------------------------------------------


def _library_error(error: TradeInError) -> ResponseReturnValue:
    """A library error a view did not handle: its translated message, back where the shopper came from."""
    message = error.localized(current_locale())
    referrer = request.referrer
    if request.method == "POST" and referrer and urlsplit(referrer).netloc == request.host:
        flash(message, "error")
        return redirect(referrer)
    return render_template("error.html", message=message, code=error.code), 400


def _csrf_error(_: CSRFError) -> ResponseReturnValue:
    """A POST without the session's valid CSRF token: the shop's page (400), in the shopper's language."""
    return render_template("error.html", message=None, code="csrf"), 400


def _too_many_requests(_: TooManyRequests) -> ResponseReturnValue:
    """A rate limit was reached (the sign-in's): the shop's page (429; Flask-Limiter adds Retry-After)."""
    message = (
        gettext("Too many sign-in attempts. Please wait a few minutes and try again.")
        if request.endpoint == "staff.login"
        else None
    )
    return render_template("error.html", message=message, code="too_many_requests"), 429


# -- redirects ----------------------------------------------------------------------------------------------


def same_site_path(target: str | None) -> str | None:
    r"""``target`` when it is a path of this site (``/staff/orders?state=received``), else ``None``.

    Refused: anything with a scheme or a host (``https://evil.example``, ``javascript:...``), a path that
    browsers read as another host (``//evil.example``, ``/\evil.example``), a relative path, and any control,
    format or separator character (a tab or newline that browsers drop or that would split the header), also
    when percent-encoded (``/%09/evil.example`` is ``//evil.example`` to a browser).
    """
    if not target:
        return None
    decoded = target
    for _ in range(4):  # a few rounds of percent-decoding: %2509 is %09 is a tab
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    for candidate in (target, decoded):
        if any(char == "\\" or _invisible(char) for char in candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc or not candidate.startswith("/") or candidate.startswith("//"):
            return None
    return target


def _invisible(char: str) -> bool:
    """Control, format and separator characters (a space excepted)."""
    return char != " " and unicodedata.category(char)[0] in {"C", "Z"}


# -- staff sessions -----------------------------------------------------------------------------------------

_sessions_metadata = sa.MetaData()
_staff_sessions = sa.Table(
    "flask_shop_staff_sessions",
    _sessions_metadata,
    sa.Column("digest", sa.String(64), primary_key=True),  # SHA-256 of the id: the table holds no cookie
    sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


class StaffSessions:
    """The signed-in staff sessions, on the server: a small table on the shop's database.

    A sign-in starts a session and the cookie carries its random id; every request checks that the session
    is still there and has not expired; signing out deletes it. So a copy of the cookie opens the back office
    only while the member of staff who signed in has not signed out, and for ``lifetime`` at most.
    """

    def __init__(self, url: str, *, lifetime: timedelta, clock: Clock | None = None) -> None:
        """Connect to ``url`` (the shop's SQLite file or PostgreSQL) and create the table when missing."""
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self._engine = sa.create_engine(url, pool_pre_ping=True)
        try:
            _sessions_metadata.create_all(self._engine)
        except sa.exc.DatabaseError:  # workers starting together: another one created it meanwhile
            if not sa.inspect(self._engine).has_table(_staff_sessions.name):
                raise
        self.lifetime = lifetime
        self.clock: Clock = clock or SystemClock()

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def start(self) -> str:
        """Start a session; returns its id (for the cookie). Expired sessions are removed on the way."""
        session_id = secrets.token_urlsafe(32)
        now = self._now()
        with self._engine.begin() as conn:
            conn.execute(_staff_sessions.delete().where(_staff_sessions.c.expires_at <= now))
            conn.execute(
                _staff_sessions.insert().values(
                    digest=_digest(session_id), signed_in_at=now, expires_at=now + self.lifetime
                )
            )
        return session_id

    def is_active(self, session_id: object) -> bool:
        """Whether ``session_id`` is a session that was started, not ended and has not expired."""
        if not isinstance(session_id, str) or not session_id:
            return False
        query = sa.select(_staff_sessions.c.expires_at).where(_staff_sessions.c.digest == _digest(session_id))
        with self._engine.connect() as conn:
            expires_at: datetime | None = conn.execute(query).scalar_one_or_none()
        if expires_at is None:
            return False
        if expires_at.tzinfo is None:  # SQLite keeps the UTC time without its zone
            expires_at = expires_at.replace(tzinfo=UTC)
        return self._now() < expires_at

    def end(self, session_id: object) -> None:
        """End the session (signing out); an unknown or ended one is ignored."""
        if isinstance(session_id, str) and session_id:
            with self._engine.begin() as conn:
                conn.execute(_staff_sessions.delete().where(_staff_sessions.c.digest == _digest(session_id)))

    def end_all(self) -> int:
        """End every staff session (after a password change, say); returns how many were open."""
        with self._engine.begin() as conn:
            return conn.execute(_staff_sessions.delete()).rowcount

    def dispose(self) -> None:
        """Release the connections."""
        self._engine.dispose()


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _lifetime(value: object) -> timedelta:
    """A ``timedelta``, or a number of seconds (``28800``, also as text)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return timedelta(seconds=float(value))
    raise ValueError(f"TRADEIN_STAFF_SESSION_LIFETIME: a timedelta or seconds, not {value!r}")


def is_staff() -> bool:
    """Whether this request comes from a signed-in member of staff (an active session on the server)."""
    return bool(g.get("staff"))


def sign_in_staff() -> None:
    """Start a staff session for this browser (ending the one it had)."""
    sessions = shop().staff_sessions
    sessions.end(session.get("staff"))
    session["staff"] = sessions.start()
    g.staff = g.staff_signed_in = True


def sign_out_staff() -> None:
    """End this browser's staff session, on the server too."""
    shop().staff_sessions.end(session.pop("staff", None))
    g.staff = False


def _check_staff_session() -> None:
    """Before each request: a staff cookie counts only while its session is active on the server.

    Otherwise the staff mark is removed from the cookie, so every page (not only the guarded ones) treats
    the browser as signed out.
    """
    g.staff = False
    if "staff" not in session or request.endpoint == "static":
        return
    if shop().staff_sessions.is_active(session["staff"]):
        g.staff = True
        return
    session.pop("staff")
    flash(gettext("Your back office session has ended. Please sign in again."), "info")


# -- the sign-in's rate limit -------------------------------------------------------------------------------


def sign_in_limits() -> str:
    """The app's limits of wrong passwords per client address (``TRADEIN_STAFF_LOGIN_LIMITS``)."""
    return str(current_app.config["TRADEIN_STAFF_LOGIN_LIMITS"])


def failed_sign_in(_: Response) -> bool:
    """Whether a sign-in request counts against the limit: every one that did not sign in."""
    return not g.get("staff_signed_in")


# -- cookies and security headers ---------------------------------------------------------------------------

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""The policy of the library's self-contained printable pages: their own inline styles, no script at all."""

DOCUMENT_ENDPOINTS = frozenset({"orders.label"})
"""The views that answer with such a page (the shipping label: :meth:`~tradein_sdk.ShippingLabel.to_html`)."""

OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""The policy of everything that is no HTML page (JSON, CSV, PDF, images): nothing runs, nothing frames it."""


def csp_nonce() -> str:
    """The nonce of this response's Content-Security-Policy (made on first use).

    A template's inline script or style carries it: ``<script nonce="{{ csp_nonce() }}">``.
    """
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str | None = None) -> str:
    """The policy of the shop's pages: its own scripts, styles, images and requests, nothing inline.

    ``nonce`` allows a ``<script>`` or ``<style>`` carrying it (:func:`csp_nonce`). No inline event handler
    is allowed (no ``'unsafe-hashes'``): the templates carry none, ``shop.js`` adds the listeners.
    """
    nonces = [f"'nonce-{nonce}'"] if nonce else []
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *nonces],
        "style-src": ["'self'", *nonces],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _https(config: Any) -> bool:  # noqa: ANN401 - a flask.Config
    return _enabled(config["TRADEIN_SHOP_HTTPS"]) or config.get("PREFERRED_URL_SCHEME") == "https"


def _secure_cookies(app: Flask) -> None:
    """``SameSite=Lax`` unless set otherwise; ``Secure`` (and https URLs) when the shop runs on HTTPS."""
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if _https(app.config):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"


def _security_headers(response: Response) -> Response:
    """After each request: the security headers (a view's or the host's own win)."""
    headers = response.headers
    if request.endpoint in DOCUMENT_ENDPOINTS:
        policy = DOCUMENT_POLICY
    elif response.mimetype == "text/html":
        policy = content_security_policy(g.get("csp_nonce"))
    else:
        policy = OTHER_POLICY
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")  # the CSRF check over HTTPS needs the Referer
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _https(current_app.config):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
