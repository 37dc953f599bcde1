"""One chart per segment: the forecast fan of each cutoff against the actual line.

Rows are cutoffs, columns the audited quantities of the customers active at the cutoff:
active customers, MRR and contribution summed since the cutoff (the last two with an
MRR history). The fan shows the P5–P95 and P10–P90 intervals and the median across
replications; the actual is the black line. Each panel's title carries its verdict.
matplotlib is imported only here, with the Agg canvas (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simcore.backtest.accuracy import TOTAL

#: metric -> (panel title, y-axis label with units).
PANELS = {
    "active_customers": ("active customers", "customers"),
    "mrr": ("MRR", "MRR (currency units per month)"),
    "cumulative_contribution": ("contribution since the cutoff", "contribution (currency units)"),
}
FAN = "C0"


def chart_file_name(segment: str) -> str:
    """``backtest_<segment>.png`` (``backtest_all_segments.png`` for the total)."""
    from simcore.outputs.plots import file_safe

    return "backtest_all_segments.png" if segment == TOTAL else f"backtest_{file_safe(segment)}.png"


def _axis_format(largest: float):
    """Tick labels for an axis whose values reach ``largest``: millions as ``1.2M`` for
    every tick when the axis reaches a million, else whole numbers with separators."""
    from matplotlib.ticker import FuncFormatter

    if largest >= 1e6:
        return FuncFormatter(lambda value, _: f"{value / 1e6:,.2f}M")
    return FuncFormatter(lambda value, _: f"{value:,.0f}")


def plot_segment_backtest(accuracy: pd.DataFrame, summary: pd.DataFrame, segment: str):
    """The figure of one segment (a matplotlib Figure on an Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mine = accuracy[(accuracy["segment"] == segment) & (accuracy["population"] == "existing")]
    metrics = [m for m in PANELS if m in set(mine["metric"])]
    cutoffs = list(dict.fromkeys(mine["cutoff"]))
    verdicts = summary.set_index(["cutoff", "segment", "population", "metric"])["verdict"]
    figure = Figure(figsize=(4.4 * len(metrics), 2.9 * len(cutoffs) + 0.7), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(cutoffs), len(metrics), squeeze=False)
    for row, cutoff in enumerate(cutoffs):
        for column, metric in enumerate(metrics):
            ax = axes[row][column]
            data = mine[(mine["cutoff"] == cutoff) & (mine["metric"] == metric)]
            x = pd.PeriodIndex(data["month"], freq="M").to_timestamp()
            ax.fill_between(x, data["p5"], data["p95"], color=FAN, alpha=0.18, linewidth=0, label="forecast P5–P95")
            ax.fill_between(x, data["p10"], data["p90"], color=FAN, alpha=0.35, linewidth=0,
                            label="forecast P10–P90")
            ax.plot(x, data["p50"], color=FAN, linewidth=1.4, label="forecast median")
            ax.plot(x, data["actual"], color="black", linewidth=1.6, marker="o", markersize=2.5, label="actual")
            verdict = verdicts.get((cutoff, segment, "existing", metric), "")
            title = PANELS[metric][0] + (f": {verdict}" if verdict else "")
            ax.set_title(f"{title}\nforecast made at cutoff {cutoff}", fontsize=9)
            ax.set_ylabel(PANELS[metric][1], fontsize=8)
            ax.set_xlabel("month", fontsize=8)
            largest = float(data[["p95", "actual"]].abs().to_numpy().max()) if len(data) else 0.0
            ax.yaxis.set_major_formatter(_axis_format(largest))
            ax.tick_params(labelsize=7)
            ax.grid(True, linewidth=0.3, alpha=0.5)
            for label in ax.get_xticklabels():
                label.set_rotation(30)
                label.set_horizontalalignment("right")
    axes[0][0].legend(loc="best", fontsize=7, frameon=True, framealpha=0.9, edgecolor="none")
    name = "all segments" if segment == TOTAL else f"segment {segment}"
    figure.suptitle(f"Backtest, {name}: forecast made at each cutoff vs what happened "
                    "(customers active at the cutoff)", fontsize=10)
    figure.tight_layout()
    return figure


def write_charts(accuracy: pd.DataFrame, summary: pd.DataFrame, directory: Path) -> list[str]:
    """One PNG per segment (and for every segment together); returns the file names."""
    names = []
    for segment in dict.fromkeys(accuracy["segment"]):
        figure = plot_segment_backtest(accuracy, summary, segment)
        name = chart_file_name(segment)
        figure.savefig(Path(directory) / name)
        names.append(name)
    return names


__all__ = ["PANELS", "chart_file_name", "plot_segment_backtest", "write_charts"]
