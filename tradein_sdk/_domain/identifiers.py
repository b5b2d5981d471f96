"""Device identifiers: IMEI (with its TAC) and serial-number sanity checks.

IMEI rules follow 3GPP TS 23.003: 15 decimal digits, the first 8 the Type Allocation Code (TAC), then a
6-digit serial and a Luhn check digit. The check digit is computed with python-stdnum. Each failure
raises a typed error naming the rule it broke, in words a shopper can read.
"""

from __future__ import annotations

import re

import attrs

from grading_questionnaire._i18n import N_
from tradein_sdk._errors import InvalidIMEIError, InvalidSerialNumberError, InvalidTextError

IMEI_LENGTH = 15
TAC_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-./]")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value)


@attrs.frozen(kw_only=True)
class IMEI:
    """A valid 15-digit IMEI.

    Attributes:
        value: the 15 digits, without separators.
    """

    value: str

    @property
    def tac(self) -> str:
        """The Type Allocation Code: the first 8 digits, which identify make and model."""
        return self.value[:TAC_LENGTH]

    @property
    def serial(self) -> str:
        """The 6-digit serial number the manufacturer assigned within the TAC."""
        return self.value[TAC_LENGTH : IMEI_LENGTH - 1]

    @property
    def check_digit(self) -> str:
        """The Luhn check digit (the last digit)."""
        return self.value[-1]

    def __str__(self) -> str:
        """Return the 15 digits."""
        return self.value


def parse_imei(value: str) -> IMEI:
    """Validate an IMEI and return it in compact form.

    Spaces, dashes, dots and slashes are ignored (``35-209900-176148-1`` is accepted).

    Args:
        value: the IMEI as typed, scanned or read from the device (``*#06#``).

    Returns:
        The IMEI.

    Raises:
        InvalidIMEIError: with ``rule`` ``digits`` (a character other than 0-9), ``length`` (not 15
            digits; a 14-digit IMEI lacks its check digit, a 16-digit one is an IMEISV) or
            ``check_digit`` (the Luhn check digit does not match).
    """
    from stdnum import luhn  # noqa: PLC0415 - python-stdnum loads lazily

    if not isinstance(value, str):
        raise InvalidIMEIError(N_("An IMEI must be text."), rule="type", value=repr(value))
    compact = _compact(value)
    if compact and not (compact.isascii() and compact.isdigit()):
        raise InvalidIMEIError(
            N_("An IMEI consists of digits only; “{value}” contains other characters."),
            rule="digits",
            value=value,
        )
    if len(compact) != IMEI_LENGTH:
        raise InvalidIMEIError(
            N_("An IMEI has 15 digits; “{value}” has {count}."),
            rule="length",
            value=value,
            count=len(compact),
        )
    if not luhn.is_valid(compact):
        raise InvalidIMEIError(
            N_("The check digit of IMEI “{value}” is wrong; please check for a typing error."),
            rule="check_digit",
            value=value,
        )
    return IMEI(value=compact)


def is_valid_imei(value: str) -> bool:
    """Return whether ``value`` is a valid IMEI (see :func:`parse_imei`)."""
    try:
        parse_imei(value)
    except InvalidIMEIError:
        return False
    return True


def tac_of(value: str) -> str:
    """Return the Type Allocation Code (first 8 digits) of a valid IMEI.

    Raises:
        InvalidIMEIError: ``value`` is not a valid IMEI.
    """
    return parse_imei(value).tac


_SERIAL_LENGTHS_BY_BRAND = {"apple": (10, 12), "samsung": (11,)}
_SERIAL_PLACEHOLDERS = frozenset({"UNKNOWN", "NONE", "NA", "NULL", "SERIAL", "0123456789", "123456789"})
_SERIAL_MIN, _SERIAL_MAX = 6, 20


def normalize_serial_number(value: str, *, brand: str | None = None) -> str:
    """Check that a serial number is plausible and return it upper-cased without separators.

    These are sanity checks, not a manufacturer look-up: they catch typing slips and pasted wrong fields.

    Args:
        value: the serial number as typed.
        brand: the device's brand; Apple serials have 10 or 12 characters, Samsung serials 11.

    Returns:
        The normalized serial number.

    Raises:
        InvalidSerialNumberError: with ``rule`` ``empty``, ``characters`` (only A-Z and 0-9),
            ``length`` (6-20 characters, or the brand's own lengths), ``repeated`` (one character
            throughout), ``placeholder`` (UNKNOWN, 123456789, ...) or ``imei_given`` (an IMEI was
            entered as the serial).
    """
    compact = _compact(value).upper() if isinstance(value, str) else ""
    if not compact:
        raise InvalidSerialNumberError(N_("Please enter the serial number."), rule="empty", value=str(value))
    if not (compact.isascii() and compact.isalnum()):
        raise InvalidSerialNumberError(
            N_("A serial number consists of letters A–Z and digits only."),
            rule="characters",
            value=value,
        )
    if compact in _SERIAL_PLACEHOLDERS:
        raise InvalidSerialNumberError(
            N_("“{value}” is a placeholder, not a serial number."), rule="placeholder", value=value
        )
    if len(set(compact)) == 1:
        raise InvalidSerialNumberError(
            N_("“{value}” repeats one character and is not a serial number."),
            rule="repeated",
            value=value,
        )
    if len(compact) == IMEI_LENGTH and is_valid_imei(compact):
        raise InvalidSerialNumberError(
            N_("“{value}” is an IMEI; please enter the serial number from the device's settings."),
            rule="imei_given",
            value=value,
        )
    allowed = _SERIAL_LENGTHS_BY_BRAND.get((brand or "").strip().lower())
    if allowed is not None and len(compact) not in allowed:
        raise InvalidSerialNumberError(
            N_("A {brand} serial number has {lengths} characters; “{value}” has {count}."),
            rule="length",
            value=value,
            brand=brand,
            lengths="/".join(str(length) for length in allowed),
            count=len(compact),
        )
    if not _SERIAL_MIN <= len(compact) <= _SERIAL_MAX:
        raise InvalidSerialNumberError(
            N_("A serial number has 6 to 20 characters; “{value}” has {count}."),
            rule="length",
            value=value,
            count=len(compact),
        )
    return compact


def checked_text(value: str, *, field: str, maximum: int) -> str:
    """Return ``value`` if it is 1 to ``maximum`` printable characters that encode as UTF-8.

    Raises:
        InvalidTextError: it is empty, too long, or holds a control character or a lone surrogate.
    """
    if not isinstance(value, str) or not 1 <= len(value) <= maximum or not _is_text(value):
        raise InvalidTextError(field, maximum=maximum)
    return value


def is_known_id(value: str, *, maximum: int = 64) -> bool:
    """Whether ``value`` could be an id the library made (so a lookup of anything else is "not found")."""
    return isinstance(value, str) and 1 <= len(value) <= maximum and _is_text(value)


def _is_text(value: str) -> bool:
    if not value.isprintable():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection): ``'`` before such text."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
