"""Plots (matplotlib, imported only when plotting)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

KAPLAN_MEIER = "kaplan_meier"


def plot_segment_fit(result, ax=None, *, horizon_months: int | None = None, families=None):
    """Kaplan-Meier steps with their 95% band, the chosen fit and extrapolation.

    Parameters
    ----------
    result : SegmentResult
        From :func:`simcore.retention.fit_segment`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure (Agg canvas, no display needed) otherwise.
    horizon_months : int, optional
        Right end of the x axis; default twice the longest observed tenure (at least 24).
    families : sequence of str, optional
        Other fitted families to draw thinly for comparison (default: none).

    Returns
    -------
    matplotlib Axes
        Solid curves inside the observed window, dashed beyond it (extrapolation).
    """
    # A book counted in quarters or years is drawn in its own periods, as fitted.
    unit = getattr(result.fit, "period", "month")
    if unit != "month":
        import dataclasses

        native = {id(f): getattr(f, "native", f) for f in (result.fit, result.kaplan_meier, *result.fits.values())}
        result = dataclasses.replace(result, fit=native[id(result.fit)], kaplan_meier=native[id(result.kaplan_meier)],
                                     fits={k: native[id(f)] for k, f in result.fits.items()})
        horizon_months = None if horizon_months is None else max(1, horizon_months // (3 if unit == "quarter" else 12))
    if ax is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7.5, 4.5))
        FigureCanvasAgg(figure)
        ax = figure.add_subplot(1, 1, 1)
    km = result.kaplan_meier
    m = km.max_observed_tenure
    horizon = int(horizon_months) if horizon_months is not None else max(2 * m, 24)
    grid = np.arange(m + 1)
    ax.fill_between(grid, km.km_lower, km.km_upper, step="post", color="0.8", alpha=0.7,
                    label="Kaplan-Meier 95% band")
    ax.step(grid, km.survival(grid), where="post", color="black", linewidth=1.2, label="Kaplan-Meier")

    def draw(fit, colour, width, label):
        inside = np.arange(0, min(m, horizon) + 1)
        ax.plot(inside, fit.survival(inside), color=colour, linewidth=width, label=label)
        if horizon > m and (fit.family != KAPLAN_MEIER or fit.tail is not None):
            outside = np.arange(m, horizon + 1)
            ax.plot(outside, fit.survival(outside), color=colour, linewidth=width, linestyle="--")

    for i, name in enumerate(families or ()):
        if name in result.fits and name != result.fit.family:
            draw(result.fits[name], f"C{(i % 8) + 1}", 0.9, name)
    chosen = result.fit
    chosen_label = chosen.family + (f" (tail: {chosen.tail.family})" if chosen.tail is not None else "")
    draw(chosen, "C0", 2.0, f"{chosen_label}, fitted")
    if horizon > m:
        ax.plot([], [], color="0.3", linestyle="--", linewidth=1.0, label="extrapolated (beyond the data)")
    ax.axvline(m, color="0.5", linewidth=0.8, linestyle=":")
    # Written up the dotted line from the bottom, where the legend (top right) and the
    # curves (which start at the top left) leave room.
    ax.annotate("end of observed window", xy=(m, 0.02), xytext=(-3, 0), textcoords="offset points",
                fontsize=8, color="0.4", rotation=90, ha="right", va="bottom")
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"tenure ({unit}s)")
    ax.set_ylabel("share of customers still active, S(t)")
    name = result.segment if result.segment is not None else "all customers"
    ax.set_title(f"Retention, segment {name}: {chosen_label}")
    ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.9, edgecolor="none")
    ax.grid(True, linewidth=0.3, alpha=0.5)
    return ax


def write_fit_plots(fits, directory, horizon_months: int) -> list[str]:
    """One PNG per segment, ``retention_<segment>.png``; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for name, result in fits.results.items():
        figure, ax = plt.subplots(figsize=(8, 5), dpi=110)
        plot_segment_fit(result, ax=ax, horizon_months=horizon_months)
        figure.tight_layout()
        file_name = f"retention_{file_safe(name)}.png"
        figure.savefig(Path(directory) / file_name)
        plt.close(figure)
        names.append(file_name)
    return names


def file_safe(name: str) -> str:
    """A segment name as a file-name part: runs of other characters become ``_``."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "segment"
