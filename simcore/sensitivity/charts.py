"""The sensitivity figures, drawn with the generic charts of :mod:`simcore.outputs.charts`.

One PNG per tornado metric, grid, solve, the Sobol' indices and each stress template.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simcore.outputs.charts import (
    BASELINE_COLOUR,
    BLACK,
    BLUE,
    ORANGE,
    SCENARIO_COLOUR,
    VERMILLION,
    FanSeries,
    count_axis,
    fan_chart,
    file_safe,
    heatmap,
    money_axis,
    new_figure,
    save_png,
    styled,
    tornado,
    wrapped,
)

_MONEY = ("total_value", "ltv", "unit_profit", "mrr", "contribution", "cumulative_cash")


def _is_money(metric_key: str) -> bool:
    return metric_key.split("_m")[0] in _MONEY or any(metric_key.startswith(m) for m in _MONEY)


def _save(figure, directory: Path, name: str, written: list[str]) -> None:
    save_png(figure, directory / name)
    written.append(name)


def tornado_figure(rows: pd.DataFrame, currency: str | None):
    """Bars from the base outcome to the outcome at each lever's low and high setting,
    whiskers at +/- 2 Monte Carlo errors of each paired change."""
    first = rows.iloc[0]
    figure, ax = new_figure(8.0, 1.2 + 0.45 * len(rows))
    labels = [f"{r.lever_label} ({r.low_setting} .. {r.high_setting})" for r in rows.itertuples()]
    base = float(first.base_mean)
    low = rows["base_mean"] + rows["low_delta_mean"]
    high = rows["base_mean"] + rows["high_delta_mean"]
    tornado(ax, labels, low, high, base, low_label="lever at low", high_label="lever at high",
            xlabel=f"{first.metric_label}, mean\n(whiskers: \u00b12 Monte Carlo errors of the paired change from the base)",
            currency=currency, money_unit=_is_money(first.metric),
            title=wrapped(f"Tornado: {first.metric_label}"),
            low_intervals=list(zip(low - 2 * rows["low_delta_mc_error"], low + 2 * rows["low_delta_mc_error"])),
            high_intervals=list(zip(high - 2 * rows["high_delta_mc_error"], high + 2 * rows["high_delta_mc_error"])))
    return figure


@styled
def _contour(ax, values: np.ndarray, level: float) -> None:
    if values.shape[0] >= 2 and values.shape[1] >= 2 and np.nanmin(values) < level < np.nanmax(values):
        lines = ax.contour(np.arange(values.shape[1]), np.arange(values.shape[0]), values, levels=[level],
                           colors=BLACK, linewidths=2.0, linestyles="--")
        ax.clabel(lines, fmt={level: "break-even"}, fontsize=8)


def grid_figure(rows: pd.DataFrame, currency: str | None):
    """2-D: heatmap of the change from the base (or of the metric, with a target) with
    the break-even contour; 1-D: the metric's mean and P5-P95 band against the lever."""
    first = rows.iloc[0]
    money = _is_money(first.metric)
    target = first.get("target")
    use_target = target is not None and np.isfinite(target)
    column = "mean" if use_target else "delta_mean"
    level = float(target) if use_target else 0.0
    if first.y_lever:
        xs = list(dict.fromkeys(rows["x_setting"]))
        ys = list(dict.fromkeys(rows["y_setting"]))
        values = rows[column].to_numpy().reshape(len(ys), len(xs))
        figure, ax = new_figure(8.0, 5.2)
        what = first.metric_label if use_target else f"change in {first.metric_label} from the base"
        heatmap(ax, values, ys, xs, row_title=first.y_lever, column_title=first.x_lever, colour_label=what,
                centre=level, money_unit=money, currency=currency,
                title=wrapped(f"{first.grid}: {what}; dashed line = " +
                              (f"{first.metric_label} at {level:g}" if use_target else "no change (break-even)")))
        _contour(ax, values, level)
        return figure
    figure, ax = new_figure(8.0, 4.6)
    x = rows["x_value"].to_numpy()
    series = FanSeries(first.metric_label, rows["mean"].to_numpy(), rows["p5"].to_numpy(), rows["p95"].to_numpy(),
                       colour=SCENARIO_COLOUR, band_label="P5\u2013P95 across replications")
    fan_chart(ax, x, [series], ylabel=first.metric_label, xlabel=first.x_lever, money_unit=money, currency=currency,
              title=wrapped(f"{first.grid}: {first.metric_label}"))
    ax.errorbar(x, rows["mean"], yerr=2 * rows["mc_error"], fmt="o", color=SCENARIO_COLOUR, markersize=3,
                capsize=2, label="mean \u00b12 Monte Carlo errors")
    ax.axhline(level if use_target else float(first.base_mean), color=BASELINE_COLOUR, linewidth=1,
               linestyle="--", label="target" if use_target else "base")
    ax.legend(loc="best")
    return figure


@styled
def solve_figure(row: pd.Series, curve: pd.DataFrame, currency: str | None):
    """The simulated curve (mean and P5-P95 across replications), the target and the
    solution with its 90% interval."""
    figure, ax = new_figure(8.0, 4.6)
    money = _is_money(row.metric)
    x = curve["lever_value"].to_numpy()
    ax.fill_between(x, curve["p5"], curve["p95"], color=SCENARIO_COLOUR, alpha=0.18, linewidth=0,
                    label="P5\u2013P95 across replications")
    ax.plot(x, curve["mean"], color=SCENARIO_COLOUR, linewidth=1.8, label="mean")
    if money:
        money_axis(ax.yaxis)
    ax.set_ylabel(row.metric_label if not money or not currency else f"{row.metric_label} ({currency})")
    ax.set_xlabel(row.lever)
    ax.set_title(wrapped(f"{row.solve}: " + (f"{row.lever} that maximises {row.metric_label}" if row.goal ==
                                                 "maximise" else f"{row.lever} at which {row.metric_label} = "
                                                 f"{row.target:g}")))
    ax.plot(curve["lever_value"], curve["mean"], "o", color=SCENARIO_COLOUR, markersize=3)
    if row.goal != "maximise":
        ax.axhline(row.target, color=BASELINE_COLOUR, linewidth=1, linestyle="--", label="target")
    if row.found:
        ax.axvspan(row.lower_90, row.upper_90, color=ORANGE, alpha=0.15, label="90% interval of the solution")
        ax.axvline(row.value, color=VERMILLION, linewidth=1.5, label=f"solution {row.setting}")
    if not money:
        count_axis(ax.yaxis) if row.metric.startswith("active") else None
    ax.legend(loc="best", fontsize=7.5)
    return figure


@styled
def sobol_figure(table: pd.DataFrame):
    figure, ax = new_figure(8.0, 1.5 + 0.5 * len(table))
    y = np.arange(len(table))
    for offset, column, colour, label in ((-0.18, "first_order", BLUE, "first order"),
                                          (0.18, "total", ORANGE, "total")):
        values = table[column].to_numpy()
        errors = [values - table[f"{column}_lower_90"].to_numpy(), table[f"{column}_upper_90"].to_numpy() - values]
        ax.barh(y + offset, values, height=0.34, color=colour, label=label, xerr=np.maximum(errors, 0),
                error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, table["lever"])
    ax.invert_yaxis()
    ax.set_xlabel("share of the variance of the metric (whiskers: 90% bootstrap interval)")
    ax.set_title(wrapped(f"Sobol' indices of {table['metric'].iloc[0]}"))
    ax.legend(loc="lower right")
    return figure


def stress_figure(fans: pd.DataFrame, template: str, description: str, currency: str | None):
    """MRR, customers and cumulative cash by month: the template against the base."""
    figure, axes = new_figure(8.0, 8.4, rows=3, sharex=True)
    for ax, (metric, label) in zip(axes, (("mrr", "MRR per month"), ("active_customers", "Active customers"),
                                          ("cumulative_cash", "Cumulative cash"))):
        series = []
        for name, colour in (("base", BASELINE_COLOUR), (template, VERMILLION)):
            part = fans[(fans["template"] == name) & (fans["metric"] == metric)]
            series.append(FanSeries(name, part["p50"].to_numpy(), part["p5"].to_numpy(), part["p95"].to_numpy(),
                                    colour=colour, band_label="P5\u2013P95"))
        months = fans[(fans["template"] == template) & (fans["metric"] == metric)]["month"].to_numpy()
        fan_chart(ax, months, series, ylabel=label, money_unit=metric != "active_customers", currency=currency,
                  legend=ax is axes[0])
        if metric == "cumulative_cash":
            ax.axhline(0.0, color=BLACK, linewidth=0.8)
    axes[-1].set_xlabel("projection month")
    axes[0].set_title(wrapped(f"Stress: {template}. {description}", 80))
    return figure


def write_charts(tables: dict, directory: Path, currency: str | None = None) -> list[str]:
    """Every figure of the tables into ``directory``; returns the file names."""
    written: list[str] = []
    tornado_table = tables.get("sensitivity_tornado")
    if tornado_table is not None:
        for metric, rows in tornado_table.groupby("metric", sort=False):
            _save(tornado_figure(rows.reset_index(drop=True), currency), directory,
                  f"sensitivity_tornado_{file_safe(metric)}.png", written)
    grid_table = tables.get("sensitivity_grid")
    if grid_table is not None:
        for name, rows in grid_table.groupby("grid", sort=False):
            _save(grid_figure(rows.reset_index(drop=True), currency), directory,
                  f"sensitivity_grid_{file_safe(name)}.png", written)
    solves = tables.get("sensitivity_solve")
    if solves is not None:
        curves = tables["sensitivity_solve_curves"]
        for row in solves.itertuples(index=False):
            row = pd.Series(row._asdict())
            curve = curves[curves["solve"] == row.solve]
            _save(solve_figure(row, curve, currency), directory, f"sensitivity_solve_{file_safe(row.solve)}.png",
                  written)
    sobol = tables.get("sensitivity_sobol")
    if sobol is not None:
        _save(sobol_figure(sobol), directory, "sensitivity_sobol.png", written)
    stress = tables.get("sensitivity_stress")
    if stress is not None:
        fans = tables["sensitivity_stress_fans"]
        for row in stress.itertuples(index=False):
            if row.template != "base":
                _save(stress_figure(fans, row.template, row.description, currency), directory,
                      f"sensitivity_stress_{file_safe(row.template)}.png", written)
    return written


__all__ = ["write_charts", "money_axis"]
