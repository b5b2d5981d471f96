"""The guarantee liability as a chart: per month, what is guaranteed against the expected market value.

Bars show the guaranteed amounts of the contracts expected to be exercised each month; a line and a band show
their expected market value (central, between low and high); the reserve (expected cost over the central
market value) is written on each bar. matplotlib is an optional dependency (``pip install
'tradein-sdk[reports]'``) drawn on the Agg canvas, with no display.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

from tradein_sdk._errors import ConfigurationError

if TYPE_CHECKING:
    from tradein_sdk._domain.guarantees import Liability

REPORTS_EXTRA: Final = "pip install 'tradein-sdk[reports]'"


def liability_chart(liability: Liability, *, image_format: str = "png") -> bytes:
    """Draw the liability view by month (``png`` or ``svg``).

    Raises:
        ConfigurationError: matplotlib is not installed.
        ValueError: an image format other than png or svg.
    """
    if image_format not in {"png", "svg"}:
        raise ValueError(f"a chart is png or svg, not {image_format!r}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - optional, loads late
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
        raise ConfigurationError(f"the liability chart needs matplotlib: {REPORTS_EXTRA}") from exc
    months = [row.month for row in liability.months]
    figure = Figure(figsize=(8, 4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(months))
    guaranteed = [float(row.guaranteed.amount) for row in liability.months]
    axes.bar(positions, guaranteed, color="#4c72b0", label="guaranteed")
    axes.plot(
        positions,
        [float(row.market[1].amount) for row in liability.months],
        color="#dd8452",
        label="market (central)",
    )
    axes.fill_between(
        positions,
        [float(row.market[0].amount) for row in liability.months],
        [float(row.market[2].amount) for row in liability.months],
        color="#dd8452",
        alpha=0.2,
        label="market (low to high)",
    )
    for position, row in zip(positions, liability.months, strict=True):
        axes.annotate(
            f"{row.reserve.amount:,.0f}",
            (position, float(row.guaranteed.amount)),
            ha="center",
            va="bottom",
            fontsize=7,
        )
    axes.set_xticks(list(positions), months, rotation=45, ha="right", fontsize=7)
    axes.set_ylabel(liability.currency)
    axes.set_title(
        f"Outstanding guarantees as of {liability.as_of.isoformat()} (reserve on each bar)", fontsize=9
    )
    axes.legend(fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format=image_format, metadata={"Software": None} if image_format == "png" else {"Date": None}
    )
    return buffer.getvalue()
