"""Shipping a traded-in device: labels, the receiving address, carrier tracking statuses and events.

What a :class:`~tradein_sdk._ports.Fulfilment` (the shop's own counter, a provider) exchanges with the order
lifecycle.
"""

from __future__ import annotations

import html
from datetime import datetime
from enum import StrEnum

import attrs

from grading_questionnaire._i18n import N_, translate
from tradein_sdk._domain.dates import long_date
from tradein_sdk._errors import ConfigurationError, canonical_locale


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


_ALPHA_2 = 2


def _country_code(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code CLDR names, in capitals; ``None`` stays ``None``.

    Raises:
        ConfigurationError: the code is not one CLDR knows.
    """
    if value is None:
        return None
    from babel import Locale  # noqa: PLC0415 - Babel's territory names load with the first address

    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != _ALPHA_2 or not code.isascii() or code not in Locale.parse("en").territories:
        raise ConfigurationError(
            "the receiving address's country must be an ISO 3166-1 alpha-2 code such as DE, not {value!r}",
            value=value,
        )
    return code


@attrs.frozen(kw_only=True)
class ReceivingAddress:
    """Where devices are sent: the shop's own returns desk or its provider's warehouse.

    Attributes:
        name: the addressee (``Phone Shop GmbH – Trade-in``).
        lines: street, postcode and city: as printed, one entry a line.
        country: the country as an ISO 3166-1 alpha-2 code (``DE``); the label prints its name in the
            label's language (``Deutschland``, ``Germany``, ``Allemagne``), after the lines. ``None``: the
            lines say everything (a country written in them is printed as written).

    Raises:
        ConfigurationError: ``country`` is not a code CLDR knows.
    """

    name: str
    lines: tuple[str, ...]
    country: str | None = attrs.field(default=None, converter=_country_code)

    def printed_lines(self, locale: str) -> tuple[str, ...]:
        """The address as printed for ``locale``: the name, the lines, then the country's name from CLDR."""
        if self.country is None:
            return (self.name, *self.lines)
        from babel import Locale  # noqa: PLC0415 - Babel's territory names load with the first label

        country = str(Locale.parse(canonical_locale(locale)).territories[self.country])
        return (self.name, *self.lines, country)


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
        locale = canonical_locale(locale)
        send_by = long_date(self.send_by.date(), locale)
        address = "<br>".join(html.escape(line) for line in self.ship_to.printed_lines(locale))
        devices = "".join(
            f"<li>{html.escape(device.display_name)} ({html.escape(device.device_ref)})</li>"
            for device in self.devices
        )
        svg = self.barcode_svg[self.barcode_svg.index("<svg") :]
        texts = {
            "title": translate(N_("Trade-in shipping label"), locale),
            "ship_to": translate(N_("Send to"), locale),
            "reference": translate(N_("Order reference: {reference}"), locale, reference="\x00"),
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
        # the reference in bold inside its translated sentence ("Référence de la commande : …")
        reference = html.escape(texts["reference"]).replace(
            "\x00", f"<strong>{html.escape(self.order_ref)}</strong>"
        )
        return (
            f'<!doctype html><html lang="{locale[:2]}"><head><meta charset="utf-8">'
            f"<title>{html.escape(texts['title'])} {html.escape(self.order_ref)}</title>"
            "<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto}"
            ".address{font-size:1.3rem;border:2px solid #000;padding:1rem;margin:1rem 0}"
            ".barcode svg{max-width:100%}</style></head><body>"
            f"<h1>{html.escape(texts['title'])}</h1>"
            f'<h2>{html.escape(texts["ship_to"])}</h2><div class="address">{address}</div>'
            f"<p>{reference}</p>"
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
