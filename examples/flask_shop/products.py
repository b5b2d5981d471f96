"""The new devices the demo shop sells: recent models of the bundled catalog at their launch prices.

A real shop has its own product feed and prices; the demo uses the catalog's launch prices so that it
shows something plausible without one. Prices live here, on the server: a form names a product by its
article number (SKU), never by price.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import attrs

from tradein_sdk import DeviceModel, DeviceVariant, Money, NewDevice

if TYPE_CHECKING:
    from tradein_sdk import Catalog

NEWEST_FIRST_SINCE = date(2024, 1, 1)
"""Models released since this day are on sale."""

ARTICLE_NUMBERS = {
    "samsung-galaxy-s25-128gb": "SM-S931BZKDEUB",
    "samsung-galaxy-s25-plus-256gb": "SM-S936BZKDEUB",
    "samsung-galaxy-s25-ultra-256gb": "SM-S938BZKDEUB",
}
"""The manufacturer's article numbers where the shop uses them (promotions name them)."""


@attrs.frozen(kw_only=True)
class Product:
    """A new device on sale.

    Attributes:
        sku: the shop's article number.
        model: the catalog model.
        variant: the storage variant sold.
        price: the retail price.
    """

    sku: str
    model: DeviceModel
    variant: DeviceVariant
    price: Money

    @property
    def name(self) -> str:
        """``Samsung Galaxy S25 128 GB``."""
        return f"{self.model.display_name} {self.variant.storage_label}"

    def new_device(self) -> NewDevice:
        """The purchase as the library's checkout takes it."""
        return NewDevice(
            sku=self.sku,
            name=self.name,
            brand=self.model.brand,
            category=self.model.category.value,
            price=self.price,
            device_category=self.model.category.value,
        )


def products_for_sale(catalog: Catalog, market: str) -> tuple[Product, ...]:
    """Every recent model with a launch price in ``market``, newest first."""
    products = []
    for model in catalog.models:
        if model.release_date < NEWEST_FIRST_SINCE:
            continue
        for variant in model.variants:
            launch = variant.launch_price(market)
            if launch is not None:
                sku = ARTICLE_NUMBERS.get(variant.id, variant.id)
                products.append(Product(sku=sku, model=model, variant=variant, price=launch.price))
                break
    return tuple(
        sorted(products, key=lambda product: (product.model.release_date, product.sku), reverse=True)
    )
