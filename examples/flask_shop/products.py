"""The new devices the demo shop sells: recent models of the bundled catalog at their launch prices.

A real shop has its own product feed and prices; the demo uses the catalog's launch prices so that it
shows something plausible without one, and sells a few earlier models at a price of its own
(:data:`STILL_ON_SALE`). Prices live here, on the server: a form names a product by its article number
(SKU), never by price. Every product is a variant of the bundled catalog and names it to the checkout
(``NewDevice.catalog_id``): that is what lets the library offer a buy-back guarantee for it, whose
contract names the device it buys back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
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
    "samsung-galaxy-s23-128gb": "SM-S911BZKDEUB",
}
"""The manufacturer's article numbers where the shop uses them (promotions name them)."""

STILL_ON_SALE = {"samsung-galaxy-s23-128gb": Decimal("899.00")}
"""Earlier models the shop still sells, by catalog variant id, at the shop's own price (in the market's
currency): the Galaxy S23 128 GB at 899.00 € instead of its 949.00 € launch price."""


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
            catalog_id=self.variant.id,
        )


def products_for_sale(catalog: Catalog, market: str) -> tuple[Product, ...]:
    """Every recent model with a launch price in ``market``, and the earlier ones still on sale; newest first.

    A recent model is sold in its first variant with a launch price, at that price; a variant of
    :data:`STILL_ON_SALE` (with a launch price in ``market``, for its currency) at the shop's price.
    """
    products = []
    for model in catalog.models:
        recent = model.release_date >= NEWEST_FIRST_SINCE
        for variant in model.variants:
            launch = variant.launch_price(market)
            if launch is None or not (recent or variant.id in STILL_ON_SALE):
                continue
            kept = STILL_ON_SALE.get(variant.id)
            price = launch.price if kept is None else Money(kept, launch.price.currency)
            sku = ARTICLE_NUMBERS.get(variant.id, variant.id)
            products.append(Product(sku=sku, model=model, variant=variant, price=price))
            if recent:
                break
    return tuple(
        sorted(products, key=lambda product: (product.model.release_date, product.sku), reverse=True)
    )
