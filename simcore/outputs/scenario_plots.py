"""Figures of scenarios against the baseline: the effect of each scenario, a waterfall of
its change by segment, and monthly fan charts of MRR, customers and cumulative cash.

Drawn from the run's ``scenario_comparison`` and ``projection`` tables. Changes are
paired by replication (common random numbers), so their intervals are the levers'
effect, not the noise between two runs.
"""

from __future__ import annotations

import numpy as np

from simcore.outputs import charts
from simcore.outputs.numbers import money, share

TOTAL = "(all segments)"
BASELINE = "baseline"
#: Monthly metrics of the fan charts: (metric, axis label, is money).
FAN_METRICS = (
    ("mrr", "MRR per month", True),
    ("active_customers", "Active customers", False),
    ("cumulative_cash", "Cumulative cash, undiscounted", True),
)


def _scenarios(tables) -> list[str]:
    comparison = tables.get("scenario_comparison")
    if comparison is not None and len(comparison):
        return list(dict.fromkeys(comparison["scenario"].astype(str)))
    projection = tables.get("projection")
    if projection is not None and "scenario" in projection.columns:
        return [s for s in dict.fromkeys(projection["scenario"].astype(str)) if s != BASELINE]
    return []


def _effect_colour(low: float, high: float) -> str:
    """Blue for a gain and vermillion for a loss when the interval excludes zero; grey
    when it straddles zero (the sign is not settled)."""
    if low > 0:
        return charts.BLUE
    if high < 0:
        return charts.VERMILLION
    return charts.GREY


def plot_scenario_effects(comparison, *, currency: str | None = None):
    """Each scenario's change in total value against the baseline: the expected change
    as a bar, P5-P95 across replications as a whisker, and beside it the numbers with
    the share of replications in which the scenario does better.

    Parameters
    ----------
    comparison : DataFrame
        The run's ``scenario_comparison`` (its ``(all segments)`` rows are used).

    Returns
    -------
    matplotlib Figure
    """
    totals = comparison[comparison["segment"] == TOTAL].reset_index(drop=True)
    figure, (ax, text) = charts.new_figure(9.0, 1.3 + 0.5 * max(len(totals), 1), rows=1, columns=2,
                                           sharey=True, width_ratios=[3, 2])
    _effect_bars(ax, text, totals, currency)
    return figure


@charts.styled
def _effect_bars(ax, text, totals, currency):
    positions = np.arange(len(totals))[::-1]
    for y, row in zip(positions, totals.itertuples(index=False)):
        colour = _effect_colour(row.delta_p5, row.delta_p95)
        ax.barh(y, row.delta_mean, color=colour, height=0.55, alpha=0.85)
        ax.errorbar([row.delta_mean], [y], xerr=[[row.delta_mean - row.delta_p5], [row.delta_p95 - row.delta_mean]],
                    fmt="none", ecolor=charts.BLACK, elinewidth=1.1, capsize=3)
        text.text(0.0, y, f"{money(row.delta_mean, signed=True)}  [{money(row.delta_p5, signed=True)} .. "
                          f"{money(row.delta_p95, signed=True)}]   {share(row.p_delta_positive)}",
                  va="center", ha="left", fontsize=8.5, transform=text.get_yaxis_transform())
    text.text(0.0, len(totals) - 0.4, "expected  [P5 .. P95]   better in", fontsize=8, color="0.35",
              va="bottom", ha="left", transform=text.get_yaxis_transform())
    text.axis("off")
    ax.axvline(0, color=charts.BLACK, linewidth=1.0)
    ax.set_yticks(positions, [str(s) for s in totals["scenario"]])
    ax.set_ylim(-0.6, len(totals) - 0.2)
    ax.grid(axis="y", visible=False)
    charts.money_axis(ax.xaxis)
    ax.set_xlabel(charts.with_unit("Change in total value against the baseline", currency))
    ax.set_title("Effect of each scenario on total value (bar: expected; whisker: P5\u2013P95)")


@charts.styled
def plot_scenario_waterfall(comparison, scenario: str, ax=None, *, currency: str | None = None):
    """Waterfall of one scenario's change in value, segment by segment, from the baseline
    (0) to the total change; each step's whisker is P5-P95 of that segment's paired
    change, the total's whisker P5-P95 of the total change.

    Parameters
    ----------
    comparison : DataFrame
        The run's ``scenario_comparison``.
    scenario : str
        Which scenario.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = charts.new_figure(8.0, 4.8)
    rows = comparison[comparison["scenario"] == scenario]
    segments = rows[rows["segment"] != TOTAL].reset_index(drop=True)
    total = rows[rows["segment"] == TOTAL]
    labels, running, reach = [], 0.0, [0.0]

    def label(i, value, low, high, text, **style):
        # Above a gain, below a loss, past its whisker.
        up = value >= 0
        ax.annotate(text, xy=(i, high if up else low), xytext=(0, 4 if up else -4), textcoords="offset points",
                    ha="center", va="bottom" if up else "top", fontsize=8, **style)

    for i, row in enumerate(segments.itertuples(index=False)):
        start, end = running, running + row.delta_mean
        colour = _effect_colour(row.delta_p5, row.delta_p95)
        ax.bar(i, end - start, bottom=start, color=colour, width=0.6, alpha=0.85)
        low, high = running + row.delta_p5, running + row.delta_p95
        ax.errorbar([i], [end], yerr=[[end - low], [high - end]], fmt="none", ecolor=charts.BLACK, elinewidth=1.0,
                    capsize=3)
        ax.plot([i + 0.3, i + 0.7], [end, end], color="0.5", linewidth=0.8)
        label(i, row.delta_mean, min(start, end, low), max(start, end, high), money(row.delta_mean, signed=True))
        reach += [start, end, low, high]
        labels.append(str(row.segment))
        running = end
    if len(total):
        row = next(total.itertuples(index=False))
        i = len(segments)
        colour = _effect_colour(row.delta_p5, row.delta_p95)
        ax.bar(i, row.delta_mean, color=colour, width=0.6, edgecolor=charts.BLACK, linewidth=1.0)
        ax.errorbar([i], [row.delta_mean], yerr=[[row.delta_mean - row.delta_p5], [row.delta_p95 - row.delta_mean]],
                    fmt="none", ecolor=charts.BLACK, elinewidth=1.2, capsize=4)
        label(i, row.delta_mean, min(row.delta_p5, 0), max(row.delta_p95, 0),
              f"{money(row.delta_mean, signed=True)}\nbetter in {share(row.p_delta_positive)}", fontweight="bold")
        reach += [row.delta_p5, row.delta_p95]
        labels.append("total change")
        title_totals = f" (baseline {money(row.baseline_value_mean)} \u2192 {money(row.scenario_value_mean)})"
    else:
        title_totals = ""
    # Bars stick to zero, so matplotlib's margins cannot make room for the labels: set it here.
    bottom, top = min(reach), max(reach)
    pad = 0.18 * ((top - bottom) or 1.0)
    ax.set_ylim(bottom - pad * ((bottom < 0) + 0.05), top + pad * ((top > 0) + 0.05))
    ax.axhline(0, color=charts.BLACK, linewidth=1.0)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=20 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    ax.grid(axis="x", visible=False)
    charts.money_axis(ax.yaxis)
    ax.set_ylabel(charts.with_unit("Change in value against the baseline", currency))
    ax.set_title(charts.wrapped(f"{scenario}: change in value by segment{title_totals}", 72))
    return ax


def _calendar(months: np.ndarray, as_of):
    """Projection months as the first day of each calendar month (month 0 is the month
    after ``as_of``), or the month numbers when there is no ``as_of``."""
    if as_of is None:
        return months, "Projection month (0 = first month)"
    import pandas as pd

    start = pd.Period(pd.Timestamp(as_of), freq="M") + 1
    return pd.period_range(start, periods=int(months.max()) + 1, freq="M").to_timestamp().to_numpy()[
        months.astype(int)], "Month"


def plot_projection(projection, scenario: str | None, *, as_of=None, currency: str | None = None,
                    baseline: str = BASELINE):
    """Monthly fan charts of MRR, active customers and cumulative cash for all segments
    together (or the only segment): the baseline and ``scenario`` as P10-P90 bands across
    replications with their medians.

    Parameters
    ----------
    projection : DataFrame
        The run's ``projection`` table (``scenario, segment, population, month, metric,
        mean, p10, p50, p90``).
    scenario : str or None
        The scenario beside the baseline; ``None`` for the baseline alone.

    Returns
    -------
    matplotlib Figure
    """
    segments = projection["segment"].astype(str)
    segment = TOTAL if (segments == TOTAL).any() else segments.iloc[0]
    data = projection[(segments == segment) & (projection["population"] == "all")]
    figure, axes = charts.new_figure(8.0, 8.4, rows=len(FAN_METRICS), columns=1, sharex=True)
    for ax, (metric, label, is_money) in zip(axes, FAN_METRICS):
        series = []
        for name, colour in ((baseline, charts.BASELINE_COLOUR), (scenario, charts.SCENARIO_COLOUR)):
            if name is None:
                continue
            rows = data[(data["scenario"] == name) & (data["metric"] == metric)].sort_values("month")
            if not len(rows):
                continue
            series.append(charts.FanSeries(name, rows["p50"].to_numpy(), rows["p10"].to_numpy(), rows["p90"].to_numpy(),
                                           colour=colour))
            months = rows["month"].to_numpy()
        if not series:
            continue
        x, xlabel = _calendar(months, as_of)
        charts.fan_chart(ax, x, series, ylabel=label, money_unit=is_money, currency=currency,
                         legend=ax is axes[0])
        if metric == "cumulative_cash":
            ax.axhline(0, color=charts.BLACK, linewidth=0.8)
    axes[-1].set_xlabel(xlabel if "xlabel" in locals() else "")
    who = "all segments" if segment == TOTAL else segment
    figure.suptitle(charts.wrapped(f"{scenario} against the baseline, {who}: P10\u2013P90 across replications"
                                  if scenario else f"Baseline projection, {who}: P10\u2013P90 across replications", 80),
                    fontsize=11, fontweight="bold", x=0.01, ha="left")
    return figure


def scenario_figures(tables, *, as_of=None, currency: str | None = None) -> list[tuple]:
    """``(name, group, key, title, caption, render)`` of every scenario figure the tables
    allow (see :func:`simcore.outputs.plots.run_figures`)."""
    from simcore.outputs.charts import file_safe

    comparison, projection = tables.get("scenario_comparison"), tables.get("projection")
    scenarios = _scenarios(tables)
    out = []
    if comparison is not None and len(comparison):
        out.append(("scenario_effects", "scenarios", None, "Effect of each scenario on total value",
                    "Change in total value (existing base plus new cohorts, discounted to the start) against the "
                    "baseline, paired by replication: bar = expected change, whisker = P5\u2013P95.",
                    lambda: plot_scenario_effects(comparison, currency=currency)))
    for scenario in scenarios:
        if comparison is not None and (comparison["scenario"] == scenario).any():
            out.append((f"waterfall_{file_safe(scenario)}", "waterfall", scenario,
                        f"{scenario}: change in value by segment",
                        "Each step is a segment's expected change against the baseline, with P5\u2013P95 of its "
                        "paired change as a whisker; the last bar is the total change. Segment intervals do not "
                        "add up to the total's.",
                        lambda scenario=scenario: plot_scenario_waterfall(comparison, scenario,
                                                                          currency=currency).figure))
        if projection is not None and len(projection):
            out.append((f"projection_{file_safe(scenario)}", "projection", scenario,
                        f"{scenario}: monthly MRR, customers and cash against the baseline",
                        "Medians with P10\u2013P90 bands across replications; cash is contribution minus "
                        "acquisition spend, undiscounted.",
                        lambda scenario=scenario: plot_projection(projection, scenario, as_of=as_of,
                                                                  currency=currency)))
    if not scenarios and projection is not None and len(projection):
        out.append(("projection_baseline", "projection", BASELINE, "Baseline: monthly MRR, customers and cash",
                    "Medians with P10\u2013P90 bands across replications; cash is contribution minus acquisition "
                    "spend, undiscounted.",
                    lambda: plot_projection(projection, None, as_of=as_of, currency=currency)))
    return out
