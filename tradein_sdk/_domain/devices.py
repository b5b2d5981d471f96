"""The devices a catalog describes: categories, models, storage variants, launch prices and their sources."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.money import Money
from tradein_sdk._errors import (
    DeviceNotFoundError,
    canonical_locale,
)


class DeviceCategory(StrEnum):
    """What kind of device a model is."""

    SMARTPHONE = "smartphone"
    TABLET = "tablet"
    SMARTWATCH = "smartwatch"

    def label(self, locale: str) -> str:
        """Return the category's name in ``locale`` (``Smartwatch`` → ``Montre connectée`` in French)."""
        return translate(_CATEGORY_LABELS[self], canonical_locale(locale))


_CATEGORY_LABELS = {
    DeviceCategory.SMARTPHONE: N_("Smartphone"),
    DeviceCategory.TABLET: N_("Tablet"),
    DeviceCategory.SMARTWATCH: N_("Smartwatch"),
}


_GB_PER_TB = 1024


def format_storage(storage_gb: int, locale: str) -> str:
    """A storage size as a shopper in ``locale`` reads it, with CLDR's short units (through Babel).

    A whole number of terabytes is shown in TB (1 TB is 1024 GB, as the catalog counts). The number and the
    space before the unit are the locale's: ``128 GB`` in English, ``128 GB`` with a no-break space in
    German, ``128 Go`` and ``1 To`` with a narrow no-break space in French.

    Args:
        storage_gb: the size in GB, as the catalog gives it.
        locale: the shopper's locale (``fr_FR``, ``de``, ``en-GB``).

    Returns:
        The text shown; ids and :attr:`DeviceVariant.storage_label` stay as they are.

    Raises:
        UnsupportedLocaleError: the locale is not one Babel knows.
    """
    from babel.units import format_unit  # noqa: PLC0415 - Babel's unit data loads with the first size shown

    if storage_gb >= _GB_PER_TB and storage_gb % _GB_PER_TB == 0:
        size, unit = storage_gb // _GB_PER_TB, "digital-terabyte"
    else:
        size, unit = storage_gb, "digital-gigabyte"
    return str(format_unit(size, unit, length="short", locale=canonical_locale(locale)))


class DatePrecision(StrEnum):
    """How precisely a release date is known."""

    DAY = "day"
    MONTH = "month"
    """Only the month is known; the date is the month's first day."""


class Confidence(StrEnum):
    """How sure the catalog is of a model's facts."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@attrs.frozen(kw_only=True)
class DataSource:
    """Where a model's facts come from.

    Attributes:
        reference: a URL, or a short note such as ``general knowledge``.
        confidence: how sure the figures are.
        note: anything a reader should know about the figures.
    """

    reference: str
    confidence: Confidence
    note: str | None = None


@attrs.frozen(kw_only=True)
class LaunchPrice:
    """A variant's launch price in one market.

    Attributes:
        market: ISO 3166-1 alpha-2 country code.
        price: the price at launch.
        tax_included: whether the price includes VAT or sales tax.
    """

    market: str
    price: Money
    tax_included: bool


@attrs.frozen(kw_only=True)
class DeviceVariant:
    """One sellable configuration of a model (its storage size).

    Attributes:
        id: the variant's identifier, unique in the catalog (``apple-iphone-13-128gb``).
        storage_gb: storage in GB (1 TB is 1024).
        launch_prices: launch prices per market, where known.
    """

    id: str
    storage_gb: int
    launch_prices: tuple[LaunchPrice, ...] = ()

    @property
    def storage_label(self) -> str:
        """Storage as an English label, the same in every locale: ``128 GB``, ``1 TB``.

        A shopper reads :meth:`localized_storage`.
        """
        if self.storage_gb >= _GB_PER_TB and self.storage_gb % _GB_PER_TB == 0:
            return f"{self.storage_gb // _GB_PER_TB} TB"
        return f"{self.storage_gb} GB"

    def localized_storage(self, locale: str) -> str:
        """Storage for a shopper in ``locale``: ``128 GB``, ``128 Go`` in French (:func:`format_storage`)."""
        return format_storage(self.storage_gb, locale)

    def launch_price(self, market: str) -> LaunchPrice | None:
        """Return the launch price in ``market`` (``DE``, ``US``), or ``None`` when unknown."""
        return next((price for price in self.launch_prices if price.market == market), None)


@attrs.frozen(kw_only=True)
class DeviceModel:
    """A device model with its variants.

    Attributes:
        id: the model's identifier (``apple-iphone-13``).
        brand: the manufacturer (``Apple``).
        name: the marketing name (``iPhone 13``).
        category: smartphone, tablet or smartwatch.
        release_date: first on-sale date in the catalog's home market.
        release_date_precision: ``month`` when only the month is known.
        aliases: other names shoppers use for it.
        tac_prefixes: Type Allocation Codes (or prefixes of them) identifying the model by IMEI.
        variants: its storage variants.
        source: where its facts come from.
    """

    id: str
    brand: str
    name: str
    category: DeviceCategory
    release_date: date
    release_date_precision: DatePrecision = DatePrecision.DAY
    aliases: tuple[str, ...] = ()
    tac_prefixes: tuple[str, ...] = ()
    variants: tuple[DeviceVariant, ...]
    source: DataSource | None = None

    @property
    def display_name(self) -> str:
        """Brand and name, without repeating the brand (``Apple iPhone 13``, ``Fairphone 5``)."""
        if self.name.casefold().startswith(self.brand.casefold()):
            return self.name
        return f"{self.brand} {self.name}"

    def variant_for_storage(self, storage_gb: int) -> DeviceVariant:
        """Return the variant with ``storage_gb`` of storage.

        Raises:
            DeviceNotFoundError: the model has no such variant.
        """
        for variant in self.variants:
            if variant.storage_gb == storage_gb:
                return variant
        raise DeviceNotFoundError(f"{self.id} with {storage_gb} GB")


@attrs.frozen(kw_only=True)
class CatalogEntry:
    """A model and, when the identifier named one, its variant.

    Attributes:
        model: the device model.
        variant: the variant, or ``None`` when a model identifier was looked up.
    """

    model: DeviceModel
    variant: DeviceVariant | None = None

    @property
    def id(self) -> str:
        """The variant's identifier when there is a variant, else the model's."""
        return self.variant.id if self.variant is not None else self.model.id

    def localized_name(self, locale: str) -> str:
        """What a shopper in ``locale`` reads: ``Apple iPhone 13 128 Go`` in French.

        The model's name alone when no variant was looked up.
        """
        if self.variant is None:
            return self.model.display_name
        return f"{self.model.display_name} {self.variant.localized_storage(locale)}"


@attrs.frozen(kw_only=True)
class CatalogDocumentInfo:
    """Which document a catalog was built from.

    Attributes:
        catalog_id: the document's ``catalog_id``.
        version: the document's ``version``.
        as_of: the date its data was last checked.
        content_hash: ``sha256:`` of the document's canonical JSON form.
        origin: a file path, ``bundled`` or ``<memory>``.
    """

    catalog_id: str
    version: str
    as_of: date
    content_hash: str
    origin: str
