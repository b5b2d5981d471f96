r"""tradein-sdk: device trade-in for shop backends.

Import what you need from here; everything else is private. Heavy work (loading the catalog, compiling
schemas, CLDR data) happens on first use, not on import.

>>> from tradein_sdk import Catalog, Money, parse_imei
>>> Catalog.bundled().search("iphone 13 128")[0].id
'apple-iphone-13-128gb'
>>> Money("1234.56", "EUR").format("de_DE")
'1.234,56\\xa0€'
>>> parse_imei("35-209900-176148-1").tac
'35209900'
"""

from tradein_sdk._catalog import (
    Catalog,
    CatalogDocumentInfo,
    CatalogEntry,
    Confidence,
    DataSource,
    DatePrecision,
    DeviceCategory,
    DeviceModel,
    DeviceVariant,
    LaunchPrice,
    catalog_problems,
)
from tradein_sdk._errors import (
    ConfigurationError,
    CurrencyMismatchError,
    DeviceNotFoundError,
    DocumentInvalidError,
    DocumentProblem,
    InvalidIdentifierError,
    InvalidIMEIError,
    InvalidMoneyError,
    InvalidSerialNumberError,
    NotFoundError,
    TradeInError,
)
from tradein_sdk._identifiers import IMEI, is_valid_imei, normalize_serial_number, parse_imei
from tradein_sdk._money import Money, minor_units
from tradein_sdk._search import SearchHit
from tradein_sdk._version import __version__

__all__ = [
    "IMEI",
    "Catalog",
    "CatalogDocumentInfo",
    "CatalogEntry",
    "Confidence",
    "ConfigurationError",
    "CurrencyMismatchError",
    "DataSource",
    "DatePrecision",
    "DeviceCategory",
    "DeviceModel",
    "DeviceNotFoundError",
    "DeviceVariant",
    "DocumentInvalidError",
    "DocumentProblem",
    "InvalidIMEIError",
    "InvalidIdentifierError",
    "InvalidMoneyError",
    "InvalidSerialNumberError",
    "LaunchPrice",
    "Money",
    "NotFoundError",
    "SearchHit",
    "TradeInError",
    "__version__",
    "catalog_problems",
    "is_valid_imei",
    "minor_units",
    "normalize_serial_number",
    "parse_imei",
]
