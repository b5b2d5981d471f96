"""Fulfilment: how a traded-in device travels from the shopper to whoever inspects it.

The :class:`Fulfilment` port issues shipping labels and turns carrier tracking into order events. The
:class:`LocalFulfilment` adapter is for shops that receive and inspect devices themselves: its label is a
printable document (HTML with an inline SVG Code 128 barcode of the order reference) naming the shop's
receiving address, the devices and the send-by date; tracking is what the shop records at its counter.
A provider adapter (a refurbisher's API) implements the same port.
"""

from __future__ import annotations

import html
import io
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._errors import canonical_locale

if TYPE_CHECKING:
    from collections.abc import Sequence


class TrackingStatus(StrEnum):
    """Where a parcel is."""

    LABEL_ISSUED = "label_issued"
    HANDED_OVER = "handed_over"
    """The shopper handed the parcel to the carrier (or to the shop's counter)."""
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    """It arrived where it is inspected."""
    EXCEPTION = "exception"
    """Lost, damaged or returned to sender: staff must look at it."""


@attrs.frozen(kw_only=True)
class ReceivingAddress:
    """Where devices are sent: the shop's own returns desk or its provider's warehouse.

    Attributes:
        name: the addressee (``Phone Shop GmbH – Trade-in``).
        lines: street, postcode and city, country: as printed, one entry a line.
    """

    name: str
    lines: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LabelDevice:
    """A device a label covers (pseudonymous: no customer data).

    Attributes:
        device_ref: the order device's reference.
        display_name: what it is (``Apple iPhone 13 · 128 GB``).
    """

    device_ref: str
    display_name: str


@attrs.frozen(kw_only=True)
class ShippingLabel:
    """A printable shipping label.

    Attributes:
        order_ref: the order's reference, also encoded in the barcode.
        send_by: the deadline for handing the parcel over.
        ship_to: where it goes.
        devices: what is inside.
        barcode_svg: the Code 128 barcode of ``order_ref``, as an SVG document.
    """

    order_ref: str
    send_by: datetime
    ship_to: ReceivingAddress
    devices: tuple[LabelDevice, ...]
    barcode_svg: str

    def to_html(self, locale: str) -> str:
        """Return the label as a self-contained printable HTML page in ``locale``.

        Args:
            locale: the shopper's locale (texts and the send-by date are localized).

        Returns:
            An HTML document with the barcode inline; nothing is loaded from elsewhere.
        """
        from babel.dates import format_date  # noqa: PLC0415

        locale = canonical_locale(locale)
        send_by = format_date(self.send_by.date(), format="long", locale=locale)
        address = "<br>".join(html.escape(line) for line in (self.ship_to.name, *self.ship_to.lines))
        devices = "".join(
            f"<li>{html.escape(device.display_name)} ({html.escape(device.device_ref)})</li>"
            for device in self.devices
        )
        svg = self.barcode_svg[self.barcode_svg.index("<svg") :]
        texts = {
            "title": translate(N_("Trade-in shipping label"), locale),
            "ship_to": translate(N_("Send to"), locale),
            "reference": translate(N_("Order reference"), locale),
            "send_by": translate(N_("Hand the parcel over by {date}."), locale, date=send_by),
            "contents": translate(N_("Contents"), locale),
            "advice": translate(
                N_(
                    "Switch the device off, remove your SIM card and pack it safely. Stick this label on the "
                    "outside of the parcel."
                ),
                locale,
            ),
        }
        return (
            f'<!doctype html><html lang="{locale[:2]}"><head><meta charset="utf-8">'
            f"<title>{html.escape(texts['title'])} {html.escape(self.order_ref)}</title>"
            "<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto}"
            ".address{font-size:1.3rem;border:2px solid #000;padding:1rem;margin:1rem 0}"
            ".barcode svg{max-width:100%}</style></head><body>"
            f"<h1>{html.escape(texts['title'])}</h1>"
            f'<h2>{html.escape(texts["ship_to"])}</h2><div class="address">{address}</div>'
            f"<p>{html.escape(texts['reference'])}: <strong>{html.escape(self.order_ref)}</strong></p>"
            f'<div class="barcode">{svg}</div>'
            f"<p><strong>{html.escape(texts['send_by'])}</strong></p>"
            f"<h2>{html.escape(texts['contents'])}</h2><ul>{devices}</ul>"
            f"<p>{html.escape(texts['advice'])}</p></body></html>"
        )


@attrs.frozen(kw_only=True)
class TrackingEvent:
    """A carrier's (or the shop's) news about a parcel.

    Attributes:
        event_id: unique per event, so a repeated delivery of the same news is recognised.
        order_ref: the order reference on the label.
        status: where the parcel is.
        at: when it happened (UTC).
        note: free text from the carrier, without personal data.
    """

    event_id: str
    order_ref: str
    status: TrackingStatus
    at: datetime
    note: str | None = None


class Fulfilment(Protocol):
    """What the order lifecycle needs from whoever moves and receives devices."""

    def issue_label(
        self, order_ref: str, devices: Sequence[LabelDevice], *, send_by: datetime
    ) -> ShippingLabel:
        """Issue a shipping label for the devices of an order."""
        ...


def code128_svg(text: str) -> str:
    """Render ``text`` as a Code 128 barcode in SVG (with the text under the bars).

    Args:
        text: printable ASCII, such as an order reference.

    Returns:
        The SVG document.

    Raises:
        ValueError: ``text`` has characters Code 128 cannot encode.
    """
    import barcode  # noqa: PLC0415 - python-barcode loads with the first label
    from barcode.writer import SVGWriter  # noqa: PLC0415

    if not text.isascii() or not text.isprintable():
        raise ValueError(f"{text!r} cannot be encoded in Code 128")
    buffer = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(
        buffer,
        options={
            "module_width": 0.4,
            "module_height": 18.0,
            "write_text": True,
            "font_size": 12,
            "quiet_zone": 4.0,
        },
    )
    return buffer.getvalue().decode("utf-8")


class LocalFulfilment:
    """The shop receives and inspects devices itself: labels point to its own receiving address."""

    def __init__(self, ship_to: ReceivingAddress) -> None:
        """Send devices to ``ship_to``."""
        self.ship_to = ship_to

    def issue_label(
        self, order_ref: str, devices: Sequence[LabelDevice], *, send_by: datetime
    ) -> ShippingLabel:
        """Issue a printable label for the order's devices, with a barcode of its reference.

        Args:
            order_ref: the order reference (printed and encoded in the barcode).
            devices: the devices in the parcel.
            send_by: the hand-over deadline printed on the label.

        Returns:
            The label; ``to_html(locale)`` prints it.
        """
        return ShippingLabel(
            order_ref=order_ref,
            send_by=send_by,
            ship_to=self.ship_to,
            devices=tuple(devices),
            barcode_svg=code128_svg(order_ref),
        )
