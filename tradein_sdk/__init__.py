r"""tradein-sdk: device trade-in for shop backends.

Import what you need from here; everything else is private. Heavy work (loading the catalog, compiling
schemas, CLDR data, database drivers) happens on first use, not on import.

>>> from tradein_sdk import Catalog, Money, parse_imei
>>> Catalog.bundled().search("iphone 13 128")[0].id
'apple-iphone-13-128gb'
>>> Money("1234.56", "EUR").format("de_DE")
'1.234,56\xa0€'
>>> parse_imei("35-209900-176148-1").tac
'35209900'
"""

from typing import TYPE_CHECKING

from grading_questionnaire._lazy import lazy_exports as _lazy_exports
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
from tradein_sdk._clock import Clock, FixedClock, SystemClock
from tradein_sdk._errors import (
    AnswersInvalidError,
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
    PriceFeedError,
    PriceUnavailableError,
    QuestionnaireNotFoundError,
    QuoteAlreadyRedeemedError,
    QuoteExpiredError,
    QuoteNotFoundError,
    QuoteNotRedeemableError,
    QuoteStateError,
    QuoteTokenError,
    StoreError,
    TokenAudienceError,
    TokenExpiredError,
    TokenMalformedError,
    TokenSignatureError,
    TokenUnknownKeyError,
    TradeInError,
    UnsupportedLocaleError,
)
from tradein_sdk._identifiers import IMEI, is_valid_imei, normalize_serial_number, parse_imei
from tradein_sdk._money import Money, minor_units
from tradein_sdk._search import SearchHit
from tradein_sdk._version import __version__

if TYPE_CHECKING:
    from tradein_sdk._facade import StoredQuote, TradeIn
    from tradein_sdk._prices import HTTPPriceFeed, PriceBookSource, PriceSource
    from tradein_sdk._pricing import (
        PriceBook,
        Valuation,
        ValuationLine,
        parse_pricebook,
        pricebook_problems,
        value_device,
    )
    from tradein_sdk._quotes import (
        Channel,
        DocumentRef,
        IssuedQuote,
        Quote,
        QuotedDevice,
        QuoteKind,
        QuoteLine,
        TranscriptLine,
    )
    from tradein_sdk._store import QuoteRecord, Redemption, SQLStore, Store
    from tradein_sdk._tokens import KeyRing, QuoteClaims, SigningKey, issue_quote_token, verify_quote_token

# Quotes, pricing, tokens, the store and the facade load on first use, so importing the package stays cheap.
_LAZY = {
    "Channel": "tradein_sdk._quotes",
    "DocumentRef": "tradein_sdk._quotes",
    "HTTPPriceFeed": "tradein_sdk._prices",
    "IssuedQuote": "tradein_sdk._quotes",
    "KeyRing": "tradein_sdk._tokens",
    "PriceBook": "tradein_sdk._pricing",
    "PriceBookSource": "tradein_sdk._prices",
    "PriceSource": "tradein_sdk._prices",
    "Quote": "tradein_sdk._quotes",
    "QuoteClaims": "tradein_sdk._tokens",
    "QuoteKind": "tradein_sdk._quotes",
    "QuoteLine": "tradein_sdk._quotes",
    "QuoteRecord": "tradein_sdk._store",
    "QuotedDevice": "tradein_sdk._quotes",
    "Redemption": "tradein_sdk._store",
    "SQLStore": "tradein_sdk._store",
    "SigningKey": "tradein_sdk._tokens",
    "Store": "tradein_sdk._store",
    "StoredQuote": "tradein_sdk._facade",
    "TradeIn": "tradein_sdk._facade",
    "TranscriptLine": "tradein_sdk._quotes",
    "Valuation": "tradein_sdk._pricing",
    "ValuationLine": "tradein_sdk._pricing",
    "issue_quote_token": "tradein_sdk._tokens",
    "parse_pricebook": "tradein_sdk._pricing",
    "pricebook_problems": "tradein_sdk._pricing",
    "value_device": "tradein_sdk._pricing",
    "verify_quote_token": "tradein_sdk._tokens",
}


__all__ = [
    "IMEI",
    "AnswersInvalidError",
    "Catalog",
    "CatalogDocumentInfo",
    "CatalogEntry",
    "Channel",
    "Clock",
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
    "DocumentRef",
    "FixedClock",
    "HTTPPriceFeed",
    "InvalidIMEIError",
    "InvalidIdentifierError",
    "InvalidMoneyError",
    "InvalidSerialNumberError",
    "IssuedQuote",
    "KeyRing",
    "LaunchPrice",
    "Money",
    "NotFoundError",
    "PriceBook",
    "PriceBookSource",
    "PriceFeedError",
    "PriceSource",
    "PriceUnavailableError",
    "QuestionnaireNotFoundError",
    "Quote",
    "QuoteAlreadyRedeemedError",
    "QuoteClaims",
    "QuoteExpiredError",
    "QuoteKind",
    "QuoteLine",
    "QuoteNotFoundError",
    "QuoteNotRedeemableError",
    "QuoteRecord",
    "QuoteStateError",
    "QuoteTokenError",
    "QuotedDevice",
    "Redemption",
    "SQLStore",
    "SearchHit",
    "SigningKey",
    "Store",
    "StoreError",
    "StoredQuote",
    "SystemClock",
    "TokenAudienceError",
    "TokenExpiredError",
    "TokenMalformedError",
    "TokenSignatureError",
    "TokenUnknownKeyError",
    "TradeIn",
    "TradeInError",
    "TranscriptLine",
    "UnsupportedLocaleError",
    "Valuation",
    "ValuationLine",
    "__version__",
    "catalog_problems",
    "is_valid_imei",
    "issue_quote_token",
    "minor_units",
    "normalize_serial_number",
    "parse_imei",
    "parse_pricebook",
    "pricebook_problems",
    "value_device",
    "verify_quote_token",
]

__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, __all__)
