"""Translations: gettext catalogs in ``locales/``, looked up per call with an explicit locale.

All shopper-facing text is an English msgid in the ``tradein`` domain. A locale is always a parameter,
never process state. A shop may put its own catalog folder in front of the bundled one.
"""

from __future__ import annotations

import gettext
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from grading_questionnaire._resources import shared_dir

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

DOMAIN = "tradein"
"""The gettext domain of every shopper-facing text of the library."""

DEFAULT_LOCALE = "en"


def N_(message: str) -> str:  # noqa: N802 - the conventional name the extractor looks for
    """Mark ``message`` for extraction without translating it (it is translated where it is shown)."""
    return message


@lru_cache(maxsize=256)  # bounded: identifiers may come from requests
def normalize_locale(locale: str) -> str:
    """Return the canonical form of a locale identifier (``de-de`` → ``de_DE``).

    Args:
        locale: a locale identifier such as ``de``, ``de_DE`` or ``de-DE``.

    Returns:
        The identifier as Babel prints it.

    Raises:
        ValueError: the identifier is not a locale Babel knows.
    """
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415 - Babel loads with the first locale

    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc


@cache
def translations(locale: str, extra_dirs: tuple[Path, ...] = ()) -> gettext.NullTranslations:
    """Return the translations for ``locale``, shop catalogs first, then the bundled ones.

    ``de_DE`` falls back to ``de``, and an unknown language falls back to the English msgids.

    Args:
        locale: a canonical locale identifier (see :func:`normalize_locale`).
        extra_dirs: folders laid out like ``locales/`` whose messages win over the bundled ones.

    Returns:
        A translations object; ``gettext`` on it never raises.
    """
    languages = _fallback_chain(locale)
    chain: gettext.NullTranslations | None = None
    for directory in (*extra_dirs, shared_dir("locales")):
        found = gettext.translation(DOMAIN, str(directory), languages=languages, fallback=True)
        if chain is None:
            chain = found
        elif found is not chain:
            chain.add_fallback(found)
    return chain if chain is not None else gettext.NullTranslations()


def _fallback_chain(locale: str) -> Sequence[str]:
    language = locale.split("_", 1)[0]
    return (locale, language) if language != locale else (locale,)


def translate(message: str, locale: str, extra_dirs: tuple[Path, ...] = (), /, **params: object) -> str:
    """Translate ``message`` into ``locale`` and fill in its ``{named}`` parameters.

    Args:
        message: the English msgid.
        locale: a canonical locale identifier.
        extra_dirs: shop catalog folders that win over the bundled ones.
        **params: values for the ``{named}`` placeholders of the message.

    Returns:
        The translated, formatted text.
    """
    text = translations(locale, extra_dirs).gettext(message)
    return text.format(**params) if params else text
