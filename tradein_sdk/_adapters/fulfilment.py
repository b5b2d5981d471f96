"""The local fulfilment adapter: for shops that receive and inspect devices themselves.

:class:`LocalFulfilment` implements the :class:`~tradein_sdk._ports.Fulfilment` port. Its label is a
printable document (HTML with an inline SVG Code 128 barcode of the order reference) naming the shop's
receiving address, the devices and the send-by date; tracking is what the shop records at its counter.
A provider adapter (a refurbisher's API) implements the same port.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from tradein_sdk._domain.shipping import LabelDevice, ReceivingAddress, ShippingLabel

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


def code128_svg(text: str) -> str:
    """Render ``text`` as a Code 128 barcode in SVG (with the text under the bars).

    Args:
        text: printable ASCII, such as an order reference.

    Returns:
        The SVG document, sized in millimetres with a ``viewBox``, so that it scales to the space it is
        given (a phone, an A6 label) instead of being cut off.

    Raises:
        ValueError: ``text`` has characters Code 128 cannot encode.
    """
    import barcode  # noqa: PLC0415 - python-barcode loads with the first label
    from barcode.writer import SVGWriter  # noqa: PLC0415 - python-barcode loads with the first label

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
    svg = buffer.getvalue().decode("utf-8")
    return _SVG_SIZE.sub(_with_view_box, svg, count=1)


_SVG_SIZE = re.compile(r'<svg(?![^>]*viewBox)([^>]*?) width="([\d.]+)mm" height="([\d.]+)mm"')
"""The root ``<svg`` tag python-barcode writes: a size in millimetres and no ``viewBox``."""
_PX_PER_MM = 96 / 25.4


def _with_view_box(svg: re.Match[str]) -> str:
    """The ``<svg`` tag with a ``viewBox`` of its size in millimetres (in CSS pixels, its content's unit)."""
    width, height = float(svg[2]) * _PX_PER_MM, float(svg[3]) * _PX_PER_MM
    return (
        f'<svg{svg[1]} width="{svg[2]}mm" height="{svg[3]}mm" viewBox="0 0 {width:.2f} {height:.2f}" '
        'preserveAspectRatio="xMidYMid meet"'
    )


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
