"""One look for every simcore figure, and the generic charts other analyses plug into.

Style
    :func:`new_figure` gives a figure on an Agg canvas (no display, no pyplot state, so
    figures never leak between calls) under :data:`STYLE`. Colours come from the
    Okabe & Ito (2008) palette, which stays distinguishable under the common forms of
    colour blindness; the status colours are its vermillion, orange and bluish green,
    and every chart also says the status in words, never by colour alone.
Generic charts
    :func:`fan_chart` (monthly bands: MRR, customers, cash, a headcount plan),
    :func:`tornado` (one bar per lever: low and high outcome around a base value) and
    :func:`heatmap` (a grid of outcomes over two levers). Each draws into an ``ax`` and
    returns it, as lifelines' plot functions do, so a caller composes figures freely.

Every function imports matplotlib when called, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simcore.outputs.numbers import money

#: Okabe & Ito colour-blind-safe palette.
BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN = "#000000", "#E69F00", "#56B4E9", "#009E73"
YELLOW, BLUE, VERMILLION, REDDISH_PURPLE = "#F0E442", "#0072B2", "#D55E00", "#CC79A7"
GREY = "#777777"
#: Colour of each status word.
STATUS_COLOURS = {"profitable": BLUISH_GREEN, "marginal": ORANGE, "margin-draining": VERMILLION,
                  "no CAC given": GREY, "unknown": GREY, "no customers": GREY}
#: Baseline against one scenario.
BASELINE_COLOUR, SCENARIO_COLOUR = GREY, BLUE
#: A cycle for series without a meaning of their own.
CYCLE = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, SKY_BLUE, VERMILLION, YELLOW, BLACK)

#: Matplotlib settings of every figure.
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "savefig.facecolor": "white",
}


def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(str(status), GREY)


def _rc() -> dict:
    from matplotlib import cycler

    # The colour cycle needs matplotlib (cycler), so it is added here, not in STYLE.
    return {**STYLE, "axes.prop_cycle": cycler(color=list(CYCLE))}


def new_figure(width: float = 8.0, height: float = 4.8, *, rows: int = 1, columns: int = 1, **subplots):
    """A figure in the simcore style on an Agg canvas, with its axes.

    Parameters
    ----------
    width, height : float
        Inches (at 110 dpi: 880 x 528 pixels by default).
    rows, columns : int
        Grid of axes; ``subplots`` go to ``Figure.subplots`` (``sharex=True``, ...).

    Returns
    -------
    (Figure, Axes or ndarray of Axes)
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc()):
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(rows, columns, squeeze=True, **subplots)
    return figure, axes


def styled(function):
    """Run a drawing function under :data:`STYLE` (so fonts, grids and colours apply to
    what it draws into an axes made elsewhere)."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_rc()):
            return function(*args, **kwargs)

    return wrapper


def save_png(figure, target) -> None:
    """Write ``figure`` as a PNG to ``target`` (a path or a binary file) at the style's
    resolution, whatever matplotlib's global settings are."""
    figure.savefig(target, format="png", dpi=STYLE["savefig.dpi"], facecolor="white")


def file_safe(name: str) -> str:
    """A segment or scenario name as a file-name part: runs of other characters become ``_``."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("_.") or "segment"


def unique_name(stem: str, taken) -> str:
    """``stem``, or ``stem_2``, ``stem_3``... when two names map to the same file name
    (segments ``a/b`` and ``a_b``)."""
    from pathlib import Path

    taken = {Path(t).stem for t in taken}
    candidate, i = stem, 1
    while candidate in taken:
        i += 1
        candidate = f"{stem}_{i}"
    return candidate


def png_bytes(figure) -> bytes:
    """The figure as PNG bytes (for embedding in the report)."""
    import io

    buffer = io.BytesIO()
    save_png(figure, buffer)
    return buffer.getvalue()


def _tick_money(value, _position=None) -> str:
    import re

    # Ticks are round numbers: "150M" and "1.5B", not "150.0M" and "1.50B".
    text = re.sub(r"(\.\d*?)0+(?=[kMB]$)", r"\1", money(value))
    return re.sub(r"\.(?=[kMB]$)", "", text)


def money_axis(axis) -> None:
    """Ticks of ``axis`` (``ax.xaxis`` or ``ax.yaxis``) as compact money (88.8k, 1.2M), at
    most seven of them so their labels never collide."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(_tick_money))


def count_axis(axis) -> None:
    """Ticks of ``axis`` as whole numbers with thousands separators (24,000)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def wrapped(text: str, width: int = 80) -> str:
    """A title wrapped onto more lines rather than clipped when names make it long
    (``width`` characters per line suits an 8-inch figure at the title size)."""
    import textwrap

    return textwrap.fill(str(text), width)


def with_unit(label: str, unit: str | None) -> str:
    """``"MRR per month (USD)"``; the label alone without a unit."""
    return f"{label} ({unit})" if unit else label


# ------------------------------------------------------------------------ fan chart


@dataclass(frozen=True)
class FanSeries:
    """One band of a fan chart.

    Attributes
    ----------
    label : str
        Legend text ("baseline", "downturn_stress", "CSMs needed").
    centre : array, shape (n,)
        The line (a median or mean).
    lower, upper : array, shape (n,)
        The band's edges (e.g. P10 and P90 across replications).
    colour : str, optional
        Default: the next colour of the palette.
    band_label : str
        What the band is, for the legend ("P10-P90").
    inner_lower, inner_upper : array, optional
        A darker inner band (e.g. P25-P75), when available.
    """

    label: str
    centre: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    colour: str | None = None
    band_label: str = "P10\u2013P90"
    inner_lower: np.ndarray | None = None
    inner_upper: np.ndarray | None = None


@styled
def fan_chart(ax, x, series: Sequence[FanSeries], *, ylabel: str = "", xlabel: str = "", money_unit: bool = False,
              currency: str | None = None, title: str | None = None, legend: bool = True):
    """Monthly fan chart: for each series a shaded band and its centre line.

    Parameters
    ----------
    ax : matplotlib Axes
    x : array, shape (n,)
        Months (numbers or dates), shared by every series.
    series : sequence of FanSeries
        Drawn in order; later series lie on top.
    ylabel, xlabel, title : str
    money_unit : bool
        Format the y ticks as compact money (else as whole numbers with separators).
    currency : str, optional
        Added to the money axis' label: "MRR per month (USD)".
    legend : bool
        Draw the legend (off for the lower panels of a stack that share one).

    Returns
    -------
    matplotlib Axes
    """
    x = np.asarray(x)
    for i, item in enumerate(series):
        colour = item.colour or CYCLE[i % len(CYCLE)]
        ax.fill_between(x, np.asarray(item.lower, float), np.asarray(item.upper, float), color=colour, alpha=0.18,
                        linewidth=0, label=f"{item.label}, {item.band_label}")
        if item.inner_lower is not None and item.inner_upper is not None:
            ax.fill_between(x, item.inner_lower, item.inner_upper, color=colour, alpha=0.25, linewidth=0)
        ax.plot(x, np.asarray(item.centre, float), color=colour, linewidth=1.8, label=f"{item.label}, median")
    if money_unit:
        money_axis(ax.yaxis)
    else:
        count_axis(ax.yaxis)
    ax.set_ylabel(with_unit(ylabel, currency if money_unit else None))
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best")
    return ax


# -------------------------------------------------------------------------- tornado


@styled
def tornado(ax, labels: Sequence[str], low: Sequence[float], high: Sequence[float], base: float, *,
            low_label: str = "lever low", high_label: str = "lever high", xlabel: str = "",
            currency: str | None = None, money_unit: bool = True, title: str | None = None,
            low_intervals: Sequence[tuple[float, float]] | None = None,
            high_intervals: Sequence[tuple[float, float]] | None = None):
    """Tornado chart: per lever, the outcome with the lever at its low and at its high
    setting, as bars from the base outcome; the widest swing on top.

    Parameters
    ----------
    ax : matplotlib Axes
    labels : sequence of str
        Lever names, one per bar.
    low, high : sequence of float
        Outcome at the low / high setting of each lever.
    base : float
        Outcome with every lever at its base setting (the bars' common origin).
    low_label, high_label : str
        Legend text of the two bar colours.
    low_intervals, high_intervals : sequence of (float, float), optional
        An interval around each outcome (e.g. P5-P95 across replications), drawn as
        whiskers.
    money_unit : bool
        Format the x ticks as compact money.
    currency : str, optional
        Added to the money axis' label.

    Returns
    -------
    matplotlib Axes
    """
    low, high = np.asarray(low, float), np.asarray(high, float)
    order = np.argsort(np.abs(high - low))  # barh draws from the bottom: widest swing last, on top
    positions = np.arange(len(order))
    for bars, values, colour, label, intervals in ((0, low, SKY_BLUE, low_label, low_intervals),
                                                   (1, high, BLUE, high_label, high_intervals)):
        ax.barh(positions, values[order] - base, left=base, color=colour, height=0.6, label=label)
        if intervals is not None:
            spans = np.asarray(intervals, float)[order]
            centre = values[order]
            ax.errorbar(centre, positions, xerr=[centre - spans[:, 0], spans[:, 1] - centre], fmt="none",
                        ecolor=BLACK, elinewidth=0.8, capsize=2)
    ax.axvline(base, color=BLACK, linewidth=1)
    ax.set_yticks(positions, [str(labels[i]) for i in order])
    ax.grid(axis="y", visible=False)
    if money_unit:
        money_axis(ax.xaxis)
    ax.set_xlabel(with_unit(xlabel, currency if money_unit else None))
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right")
    return ax


# -------------------------------------------------------------------------- heatmap


@styled
def heatmap(ax, values, row_labels: Sequence, column_labels: Sequence, *, row_title: str = "",
            column_title: str = "", colour_label: str = "", centre: float | None = 0.0, annotate: bool = True,
            money_unit: bool = True, currency: str | None = None, title: str | None = None):
    """A grid of outcomes over two levers (rows x columns), coloured by value.

    Parameters
    ----------
    ax : matplotlib Axes
    values : array, shape (rows, columns)
        Outcome of each combination; NaN cells stay blank.
    row_labels, column_labels : sequence
        Lever settings along each side.
    centre : float or None
        Value at the middle of a diverging colour map (0: losses and gains in different
        colours); ``None`` for a one-directional map.
    annotate : bool
        Write each value in its cell.
    money_unit : bool
        Values are money (compact labels); ``currency`` is added to the colour bar's label.

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import TwoSlopeNorm

    values = np.asarray(values, float)
    finite = values[np.isfinite(values)]
    if centre is not None and finite.size and finite.min() < centre < finite.max():
        norm, cmap = TwoSlopeNorm(vcenter=centre, vmin=finite.min(), vmax=finite.max()), "PuOr"
    else:
        norm, cmap = None, "cividis"
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", origin="lower")
    ax.set_xticks(np.arange(len(column_labels)), [str(c) for c in column_labels])
    ax.set_yticks(np.arange(len(row_labels)), [str(r) for r in row_labels])
    ax.grid(False)
    ax.set_xlabel(column_title)
    ax.set_ylabel(row_title)
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(with_unit(colour_label, currency if money_unit else None))
    if money_unit:
        money_axis(bar.ax.yaxis)
    if annotate:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                # White on dark cells, black on light ones, judged by the cell's own colour.
                red, green, blue, _ = image.cmap(image.norm(value))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                ax.text(j, i, money(value) if money_unit else f"{value:.3g}", ha="center", va="center",
                        fontsize=8, color="white" if dark else BLACK)
    if title:
        ax.set_title(title)
    return ax
