from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tradein_sdk._adapters.fulfilment import LocalFulfilment, code128_svg
from tradein_sdk._domain.shipping import LabelDevice, ReceivingAddress, ShippingLabel

ADDRESS = ReceivingAddress(
    name="Phone Shop GmbH – Trade-in", lines=("Hauptstr. 1", "10115 Berlin", "Deutschland")
)
DEVICES = [LabelDevice(device_ref="dev_1", display_name="Apple iPhone 13 · 128 GB")]


def label() -> ShippingLabel:
    """A label for one device, due on 8 December 2026."""
    return LocalFulfilment(ADDRESS).issue_label(
        "ORD-7F3K92QX", DEVICES, send_by=datetime(2026, 12, 8, tzinfo=UTC)
    )


def bars(svg: str) -> list[str]:
    """The bar rectangles of a barcode, as their x positions and widths."""
    return re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', svg)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("de_DE", ("Versandetikett", "8. Dezember 2026", "Senden an")),
        ("fr_FR", ("Étiquette", "8 décembre 2026")),
        ("en_GB", ("Trade-in shipping label", "8 December 2026")),
    ],
    ids=["de", "fr", "en"],
)
def test_label_prints_in_the_shoppers_language(locale: str, words: tuple[str, ...]) -> None:
    """The label's texts and send-by date are localized; address, reference and devices are printed."""
    page = label().to_html(locale)
    for word in words:
        assert word in page
    assert "ORD-7F3K92QX" in page
    assert "10115 Berlin" in page
    assert "Apple iPhone 13 · 128 GB (dev_1)" in page
    assert page.startswith("<!doctype html>")
    assert "<svg" in page
    assert "http" not in page.split("<svg", 1)[0]  # nothing is loaded from elsewhere


def test_label_escapes_markup() -> None:
    """Text from the shop's data cannot inject markup into the label."""
    address = ReceivingAddress(name="<script>alert(1)</script>", lines=())
    page = (
        LocalFulfilment(address)
        .issue_label("ORD-1", DEVICES, send_by=datetime(2026, 1, 1, tzinfo=UTC))
        .to_html("en")
    )
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_barcode_encodes_the_reference() -> None:
    """Different references give different bar patterns; the text is printed under the bars."""
    first, second = code128_svg("ORD-AAAA"), code128_svg("ORD-AAAB")
    assert bars(first)
    assert bars(first) != bars(second)
    assert "ORD-AAAA" in first


@pytest.mark.parametrize("text", ["ORD-ÄÖÜ", "ORD\n1"], ids=["non-ascii", "control-character"])
def test_barcode_refuses_what_code128_cannot_encode(text: str) -> None:
    """Characters outside printable ASCII are refused before any drawing."""
    with pytest.raises(ValueError, match="cannot be encoded"):
        code128_svg(text)


def test_the_barcode_scales_to_the_space_it_is_given() -> None:
    """The barcode has a size in millimetres and a viewBox: a phone or an A6 label shrinks it whole."""
    svg = code128_svg("ORD-2026-0001")
    tag = svg[svg.index("<svg") : svg.index(">", svg.index("<svg"))]
    width_mm = float(tag.split('width="')[1].split("mm")[0])
    view_box = [float(part) for part in tag.split('viewBox="')[1].split('"')[0].split()]
    assert view_box[:2] == [0, 0]
    assert abs(view_box[2] - width_mm * 96 / 25.4) < 0.01
    assert 'preserveAspectRatio="xMidYMid meet"' in tag
