"""The exception tree of tradein-sdk.

Every failure a caller of the public API can see is a :class:`TradeInError` with a stable ``code``::

    TradeInError                        tradein_error
    ├── InvalidMoneyError               invalid_money
    │   └── CurrencyMismatchError       currency_mismatch
    ├── InvalidIdentifierError          invalid_identifier
    │   ├── InvalidIMEIError            invalid_imei          (.rule: length | digits | check_digit)
    │   └── InvalidSerialNumberError    invalid_serial_number (.rule: empty | characters | length | ...)
    ├── DocumentInvalidError            document_invalid      (.problems: each with a JSON path)
    ├── NotFoundError                   not_found
    │   └── DeviceNotFoundError         device_not_found
    └── ConfigurationError              configuration_error

A message is an English template with ``{named}`` parameters. ``str(error)`` is the English text;
:meth:`TradeInError.localized` gives it in a shopper's language when the template is shopper-facing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

from grading_questionnaire._i18n import N_, translate

if TYPE_CHECKING:
    from collections.abc import Iterable


class TradeInError(Exception):
    """The root of every error tradein-sdk raises.

    Attributes:
        code: a stable, machine-readable identifier of the kind of failure.
        message_id: the English message template (a gettext msgid for shopper-facing errors).
        params: the values filled into the template.
    """

    code: ClassVar[str] = "tradein_error"

    def __init__(self, message_id: str, /, **params: object) -> None:
        """Create the error from an English template and its parameters."""
        self.message_id = message_id
        self.params = params
        super().__init__(message_id.format(**params) if params else message_id)

    @property
    def message(self) -> str:
        """The English message."""
        return str(self)

    def localized(self, locale: str) -> str:
        """Return the message in ``locale`` (English where no translation exists).

        Args:
            locale: a locale identifier such as ``de_DE``.

        Returns:
            The translated message with its parameters filled in.
        """
        from grading_questionnaire._i18n import normalize_locale  # noqa: PLC0415

        return translate(self.message_id, normalize_locale(locale), **self.params)


class InvalidMoneyError(TradeInError):
    """An amount or currency is not valid money (a float, NaN, an unknown currency code)."""

    code = "invalid_money"


class CurrencyMismatchError(InvalidMoneyError):
    """Two amounts in different currencies were combined or compared."""

    code = "currency_mismatch"

    def __init__(self, left: str, right: str) -> None:
        """Create the error naming both currencies."""
        super().__init__("cannot combine amounts in {left} and {right}", left=left, right=right)
        self.currencies = (left, right)


class InvalidIdentifierError(TradeInError):
    """A device identifier (IMEI, serial number) is malformed.

    Attributes:
        rule: the name of the rule the value broke.
        value: the value as given.
    """

    code = "invalid_identifier"

    def __init__(self, message_id: str, /, *, rule: str, value: str, **params: object) -> None:
        """Create the error naming the rule that failed."""
        super().__init__(message_id, value=value, **params)
        self.rule = rule
        self.value = value


class InvalidIMEIError(InvalidIdentifierError):
    """An IMEI broke a rule: ``length`` (15 digits), ``digits`` (0-9 only) or ``check_digit`` (Luhn)."""

    code = "invalid_imei"


class InvalidSerialNumberError(InvalidIdentifierError):
    """A serial number failed a sanity check.

    The ``rule`` is ``empty``, ``characters``, ``length``, ``repeated``, ``placeholder`` or ``imei_given``.
    """

    code = "invalid_serial_number"


@attrs.frozen(kw_only=True)
class DocumentProblem:
    """One problem in a JSON document.

    Attributes:
        path: where it is, as a JSON path (``$.models[3].release_date``).
        message: what is wrong there.
    """

    path: str
    message: str

    def __str__(self) -> str:
        """Return the problem as ``path: message``."""
        return f"{self.path}: {self.message}"


class DocumentInvalidError(TradeInError):
    """A document (catalog, questionnaire, price book, ...) does not match its schema or rules.

    Attributes:
        kind: what kind of document it is (``catalog``).
        source: where it came from (a file path, or ``<memory>``).
        problems: every problem found, each with its JSON path, in document order.
    """

    code = "document_invalid"

    def __init__(self, *, kind: str, source: str, problems: Iterable[DocumentProblem]) -> None:
        """Create the error listing every problem."""
        self.kind = kind
        self.source = source
        self.problems = tuple(problems)
        listing = "; ".join(str(problem) for problem in self.problems)
        super().__init__(
            "{kind} document {source} is invalid: {listing}",
            kind=kind,
            source=source,
            listing=listing,
        )


class NotFoundError(TradeInError):
    """Something looked up by its identifier does not exist."""

    code = "not_found"


class DeviceNotFoundError(NotFoundError):
    """No device model or variant has the identifier given."""

    code = "device_not_found"

    def __init__(self, device_id: str) -> None:
        """Create the error naming the identifier."""
        super().__init__(N_("No device is known as {device_id}."), device_id=device_id)
        self.device_id = device_id


class ConfigurationError(TradeInError):
    """The library was configured with something it cannot use (a missing file, a bad option)."""

    code = "configuration_error"
