"""The figures of a fit and of a run (matplotlib, imported only when plotting).

Each ``plot_*`` function draws from a fit record or from a run's tables, the same tables
the run writes to files, so a figure can always be redrawn from a run directory.
:func:`run_figures` lists every figure of a run (name, title, caption, how to draw it);
``simcore run`` writes them as PNGs into ``plots/`` and the HTML report embeds them.
Style and the generic charts (fan chart, tornado, heatmap) are in
:mod:`simcore.outputs.charts`; the figures of scenarios and projections in
:mod:`simcore.outputs.scenario_plots`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from simcore.outputs import charts
from simcore.outputs.charts import file_safe, unique_name
from simcore.outputs.numbers import NEVER, estimate, flag, share

KAPLAN_MEIER = "kaplan_meier"
#: Label of the rows that add up every segment (as in the run tables).
TOTAL = "(all segments)"
#: Survival curves drawn for a fit's uncertainty band.
BAND_DRAWS = 400
#: Central share of drawn curves the band covers.
BAND_COVERAGE = 0.90


# ------------------------------------------------------------------------ retention


def _family_label(fit) -> str:
    from simcore.retention.names import label

    text = label(fit.family)
    if getattr(fit, "tail", None) is not None:
        text += f" with a {label(fit.tail.family)} tail"
    return text


def _band(result, horizon: int, seed: int):
    """P5 and P95 per month of the curves the simulation draws for this segment (its
    survival model: the chosen family, or the weighted families with model averaging),
    with the number of families drawn from; or the reason no curve can be drawn."""
    from simcore.errors import SimcoreError

    try:
        model = result.survival_model()
        draws = model.survival_draws(BAND_DRAWS, horizon, seed)
    except SimcoreError as error:
        return error.problems[0].message if error.problems else str(error)
    tail = (1.0 - BAND_COVERAGE) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    return low, high, _family_count(model)


def _family_count(model) -> int:
    """Families a survival model draws from (its tail's included)."""
    return len(set(model.families) | set(model.tail.families if model.tail is not None else ()))


def _averaged_model(result):
    """The segment's survival model when it weighs more than one family, else None."""
    from simcore.errors import SimcoreError

    try:
        model = result.survival_model()
    except SimcoreError:
        return None
    return model if len(model.fits) > 1 or model.tail is not None else None


@charts.styled
def plot_segment_fit(result, ax=None, *, horizon_months: int | None = None, families=None, band: bool = True,
                     seed: int = 0):
    """Retention of one segment: Kaplan-Meier steps with their 95% band, the chosen fit
    with the 90% band of the curves the simulation draws, extrapolation marked.

    Parameters
    ----------
    result : SegmentResult
        From :func:`simcore.retention.fit_segment` (or loaded saved fits).
    ax : matplotlib Axes, optional
        Drawn into; a new figure (Agg canvas, no display needed) otherwise.
    horizon_months : int, optional
        Right end of the x axis; default twice the longest observed tenure (at least 24).
    families : sequence of str, optional
        Other fitted families to draw thinly for comparison (default: none).
    band : bool
        Draw the uncertainty band of the fit: P5-P95 per month of
        :data:`BAND_DRAWS` curves from ``result.survival_model()`` (parameter
        uncertainty, and model uncertainty when families are averaged). A fit whose
        extrapolation is unstable shows as a band that fans out.
    seed : int
        Seed of those draws.

    Returns
    -------
    matplotlib Axes
        Solid curves inside the observed window, dashed beyond it, where the background
        is shaded (extrapolation).
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
        _, ax = charts.new_figure(8.0, 5.6)
    km = result.kaplan_meier
    m = km.max_observed_tenure
    horizon = int(horizon_months) if horizon_months is not None else max(2 * m, 24)
    chosen = result.fit
    extrapolates = horizon > m and (chosen.family != KAPLAN_MEIER or chosen.tail is not None)
    if horizon > m:
        ax.axvspan(m, horizon, color="#f2f2f2", zorder=0, linewidth=0)
        # The short word when the extrapolated stretch is too narrow for the sentence.
        note = "extrapolated beyond the data" if horizon - m >= 0.3 * horizon else "extrapolated"
        ax.text(m + (horizon - m) / 2, 0.985, note, ha="center", va="top", fontsize=8, color="0.35")
    grid = np.arange(m + 1)
    ax.fill_between(grid, km.km_lower, km.km_upper, step="post", color="0.75", alpha=0.6, linewidth=0,
                    label="Kaplan\u2013Meier (observed), 95% band")
    ax.step(grid, km.survival(grid), where="post", color=charts.BLACK, linewidth=1.1, label="Kaplan\u2013Meier (observed)")

    if band:
        drawn = _band(result, horizon if extrapolates else min(m, horizon), seed)
        if isinstance(drawn, str):
            # Said on the figure: a missing band must not pass for a certain curve.
            ax.text(0.01, 0.02, charts.wrapped(f"No uncertainty band: {drawn}", 70), transform=ax.transAxes,
                    fontsize=7.5, color=charts.VERMILLION, va="bottom")
        else:
            low, high, n_families = drawn
            months = np.arange(low.size)
            what = (f"averaged over {n_families} families" if n_families > 1 else "parameter uncertainty")
            ax.fill_between(months, low, high, color=charts.BLUE, alpha=0.18, linewidth=0,
                            label=f"curves the simulation draws, 90% band ({what})")

    def draw(fit, colour, width, label):
        inside = np.arange(0, min(m, horizon) + 1)
        ax.plot(inside, fit.survival(inside), color=colour, linewidth=width, label=label)
        if horizon > m and (getattr(fit, "family", None) != KAPLAN_MEIER or fit.tail is not None):
            outside = np.arange(m, horizon + 1)
            ax.plot(outside, fit.survival(outside), color=colour, linewidth=width, linestyle="--")

    for i, name in enumerate(families or ()):
        if name in result.fits and name != chosen.family:
            draw(result.fits[name], charts.CYCLE[(i + 1) % len(charts.CYCLE)], 0.9, _family_label(result.fits[name]))
    chosen_label = _family_label(chosen)
    model = _averaged_model(result)
    if model is None:
        draw(chosen, charts.BLUE, 2.0, f"{chosen_label}, fitted")
        subtitle = chosen_label
    else:
        # The simulation draws from the weighted families, so that is the curve shown
        # boldly; the family ranked first is drawn thinly for reference.
        draw(chosen, charts.ORANGE, 1.1, f"{chosen_label}, ranked first")
        families = _family_count(model)
        draw(model, charts.BLUE, 2.0, f"model used ({families} families weighted)")
        subtitle = f"{families} families averaged, {chosen_label} ranked first"
    if extrapolates:
        ax.plot([], [], color=charts.BLUE, linestyle="--", linewidth=2.0, label="fitted, extrapolated")
    ax.axvline(m, color="0.5", linewidth=0.8, linestyle=":")
    # Written up the dotted line from the bottom, where the legend (top right) and the
    # curves (which start at the top left) leave room.
    ax.annotate(f"end of observed data ({m} months)", xy=(m, 0.02), xytext=(-3, 0), textcoords="offset points",
                fontsize=8, color="0.4", rotation=90, ha="right", va="bottom")
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 1.0)
    charts.percent_axis(ax.yaxis)
    ax.set_xlabel(f"Tenure ({unit}s since signup)")
    ax.set_ylabel("Customers still active, S(t)")
    name = result.segment if result.segment is not None else "all customers"
    ax.set_title(charts.wrapped(f"Retention of {name}: {subtitle}", 72))
    # Below the axes: inside, it would hide part of a curve or the extrapolation note.
    labels = ax.get_legend_handles_labels()[1]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1 if max(map(len, labels)) > 48 else 2, fontsize=8)
    return ax


def write_fit_plots(fits, directory, horizon_months: int, seed: int = 0) -> list[str]:
    """One PNG per segment, ``retention_<segment>.png``; returns the file names."""
    names = []
    for name, result in fits.results.items():
        figure, ax = charts.new_figure(8.0, 5.6)
        plot_segment_fit(result, ax=ax, horizon_months=horizon_months, seed=seed)
        file_name = unique_name(f"retention_{file_safe(name)}", names) + ".png"
        charts.save_png(figure, Path(directory) / file_name)
        names.append(file_name)
    return names


# ------------------------------------------------------------------- segment plots


def _new_rows(summary, *, with_total: bool = False):
    """Rows of new customers that have a unit profit, segments first, the blended row last."""
    rows = summary[(summary["population"] == "new") & summary["unit_profit_mean"].notna()]
    segments = rows[rows["segment"] != TOTAL].sort_values("segment")
    if with_total:
        return segments, rows[rows["segment"] == TOTAL]
    return segments


#: Quantile bands of the unit-profit figure, widest first: (low, high, shade alpha).
_BANDS = ((0.05, 0.95, 0.35), (0.25, 0.75, 0.75))


def plot_unit_profit(distributions, summary, *, scenario: str = "baseline", currency: str | None = None):
    """Per segment, the spread of unit profit across new customers, and its expectation.

    One panel per segment, each on its own scale: P5-P95 and P25-P75 of unit profit
    across customers as bands (the part below zero in vermillion), the median as a white
    tick, P1-P99 as a thin line, the zero line, and above them the expected unit profit
    with its 90% interval across replications (what decides the status). The title gives
    the status; a margin-draining segment's panel is tinted.

    Parameters
    ----------
    distributions : DataFrame
        The run's ``distributions`` table (``scenario, segment, population, quantile,
        unit_profit``).
    summary : DataFrame
        The run's ``segment_summary`` (status, expected unit profit and interval, share
        of customers losing money).

    Returns
    -------
    matplotlib Figure
    """
    rows = _new_rows(summary)
    data = distributions[(distributions["population"] == "new")]
    if "scenario" in data.columns:
        data = data[data["scenario"] == scenario]
    figure, axes = charts.new_figure(8.0, 0.7 + 1.25 * max(len(rows), 1), rows=max(len(rows), 1), columns=1)
    axes = np.atleast_1d(axes)
    for i, (ax, row) in enumerate(zip(axes, rows.itertuples(index=False))):
        _unit_profit_panel(ax, row, data[data["segment"] == row.segment], legend=i == 0)
        charts.money_axis(ax.xaxis)
    axes[-1].set_xlabel(charts.with_unit("Unit profit per new customer: LTV \u2212 CAC \u2212 onboarding", currency))
    return figure


def _split_bar(ax, low: float, high: float, y: float, height: float, alpha: float) -> None:
    """A horizontal bar from ``low`` to ``high``: vermillion below zero, blue above."""
    if low < 0:
        ax.barh(y, min(high, 0.0) - low, left=low, height=height, color=charts.VERMILLION, alpha=alpha, linewidth=0)
    if high > 0:
        ax.barh(y, high - max(low, 0.0), left=max(low, 0.0), height=height, color=charts.BLUE, alpha=alpha,
                linewidth=0)


@charts.styled
def _unit_profit_panel(ax, row, quantiles, *, legend: bool = False):
    status = str(row.status)
    colour = charts.status_colour(status)
    if status == "margin-draining":
        ax.set_facecolor("#fdf0ea")
    by_q = dict(zip(np.round(quantiles["quantile"].to_numpy(float), 4), quantiles["unit_profit"].to_numpy(float)))
    if 0.01 in by_q and 0.99 in by_q:
        ax.plot([by_q[0.01], by_q[0.99]], [0, 0], color="0.45", linewidth=1.0, label="P1\u2013P99")
    for low, high, alpha in _BANDS:
        if low in by_q and high in by_q:
            _split_bar(ax, by_q[low], by_q[high], 0.0, 0.28 if alpha < 0.5 else 0.5, alpha)
    if 0.5 in by_q:
        ax.plot([by_q[0.5]] * 2, [-0.25, 0.25], color="white", linewidth=2.2, solid_capstyle="butt")
        ax.plot([by_q[0.5]] * 2, [-0.25, 0.25], color=charts.BLACK, linewidth=0.8, label="median customer")
    ax.axvline(0, color=charts.BLACK, linewidth=1.0)
    mean, low, high = row.unit_profit_mean, row.unit_profit_mean_lower_90, row.unit_profit_mean_upper_90
    ax.errorbar([mean], [0.62], xerr=[[mean - low], [high - mean]], fmt="D", color=colour, markersize=5,
                capsize=3, elinewidth=1.5, label="expected, 90% interval")
    ax.set_ylim(-0.45, 0.95)
    ax.set_yticks([])
    ax.grid(axis="y", visible=False)
    if legend:
        from matplotlib.patches import Patch

        # One key for every panel, under the figure, so the panels keep one width.
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(color=charts.BLUE, alpha=0.35), Patch(color=charts.BLUE, alpha=0.75),
                    Patch(color=charts.VERMILLION, alpha=0.55)]
        labels += ["P5\u2013P95 of customers", "P25\u2013P75 of customers", "below zero"]
        ax.figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    title = (f"{row.segment}: {status} \u2014 expected {estimate(mean, low, high)}, "
             f"{share(row.p_unit_profit_negative)} of new customers lose money")
    ax.set_title(charts.wrapped(title, 88), color=colour if status == "margin-draining" else charts.BLACK,
                 fontsize=9.5)


@charts.styled
def plot_ltv_cac_payback(summary, ax=None, *, horizon_months: int | None = None):
    """LTV:CAC (expected, with its 90% interval as a whisker) against the median payback
    month, one point per segment of new customers, coloured and labelled by status; the
    blended row as a hollow marker. A payback never reached within the horizon sits in a
    "never" column at the right.

    Parameters
    ----------
    summary : DataFrame
        The run's ``segment_summary``.
    horizon_months : int, optional
        Where "never" is drawn (default: past the largest payback).

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = charts.new_figure(8.0, 5.0)
    segments, blended = _new_rows(summary, with_total=True)
    import pandas as pd

    rows = pd.concat([segments.assign(blended=False), blended.assign(blended=True)], ignore_index=True)
    ratio = rows["ltv_to_cac"].astype(float)
    shown = rows[ratio.notna()]
    payback = shown["payback_months_p50"].astype(float)
    never = np.isposinf(payback.to_numpy())
    if "payback_never" in shown.columns:
        never |= np.array([flag(v) for v in shown["payback_never"]], dtype=bool)
    finite = payback[~never & payback.notna().to_numpy()]
    right = max(float(finite.max()) if len(finite) else 12.0, 12.0)
    never_x = right * 1.25 + 3
    xs = np.where(never, never_x, payback.to_numpy())
    for x, row in zip(xs, shown.itertuples(index=False)):
        if not np.isfinite(x):
            continue
        colour = charts.BLACK if row.blended else charts.status_colour(row.status)
        y, low, high = row.ltv_to_cac, row.ltv_to_cac_lower_90, row.ltv_to_cac_upper_90
        ax.errorbar([x], [y], yerr=[[y - low], [high - y]], fmt="o", color=colour, markersize=8, capsize=4,
                    markerfacecolor="white" if row.blended else colour, elinewidth=1.6, markeredgewidth=1.6)
        name = "all (blended)" if row.blended else str(row.segment)
        ax.annotate(f"{name}\n{row.status}", xy=(x, y), xytext=(8, 0), textcoords="offset points", fontsize=8,
                    va="center", color=colour)
    ax.axhline(1.0, color=charts.VERMILLION, linewidth=1.0, linestyle="--")
    ax.text(0.3, 1.0, "LTV = CAC", color=charts.VERMILLION, fontsize=8, va="bottom")
    ax.axvspan(right * 1.25, never_x + right * 0.25, color="#f2f2f2", zorder=0, linewidth=0)
    step = 3 if right <= 18 else 6 if right <= 48 else 12
    ticks = list(np.arange(0, right * 1.2 + 1e-9, step))
    ax.set_xticks([*ticks, never_x], [f"{t:.0f}" for t in ticks] + [NEVER])
    ax.set_xlim(0, never_x + right * 0.25)
    ax.set_xlabel("Payback: median months until contribution repays CAC + onboarding")
    ax.set_ylabel("LTV:CAC, expected (whiskers: 90% interval)")
    ax.set_title("New customers: LTV:CAC against payback")
    missing = rows[ratio.isna()]
    if len(missing):
        ax.text(0.0, -0.16, "not shown (no CAC given): " + ", ".join(map(str, missing["segment"])),
                transform=ax.transAxes, fontsize=8, color="0.35")
    return ax


# --------------------------------------------------------------------- every figure


@dataclass(frozen=True)
class FigureSpec:
    """One figure of a run: where it goes and how to draw it.

    Attributes
    ----------
    name : str
        File stem (``retention_enterprise``); the PNG is ``plots/<name>.png``.
    group : str
        ``"retention"``, ``"unit_profit"``, ``"ltv_cac"``, ``"scenarios"``, ``"waterfall"`` or
        ``"projection"``: the report section that shows it.
    key : str or None
        The segment or scenario it is about.
    title, caption : str
        Text for the report (plain text; the report escapes it).
    render : callable
        ``render() -> Figure``.
    """

    name: str
    group: str
    key: str | None
    title: str
    caption: str
    render: Callable


def _figure_of(draw, height: float = 5.0) -> Callable:
    def render():
        figure, ax = charts.new_figure(8.0, height)
        draw(ax)
        return figure
    return render


def run_figures(tables, *, fits=None, seed: int = 0, horizon_months: int = 120, as_of=None,
                currency: str | None = None) -> list[FigureSpec]:
    """Every figure of a run, in report order.

    Parameters
    ----------
    tables : mapping of str -> DataFrame
        The run's tables by file name (``segment_summary``, ``distributions``,
        ``scenario_comparison``, ``projection``); a figure whose table is missing is left out.
    fits : SegmentFits, optional
        The run's fits (retention figures need them).
    seed, horizon_months, as_of, currency
        From the run's manifest.
    """
    from simcore.outputs import scenario_plots

    specs: list[FigureSpec] = []
    taken: list[str] = []

    def add(stem, group, key, title, caption, render):
        name = unique_name(stem, taken)
        taken.append(name)
        specs.append(FigureSpec(name, group, key, title, caption, render))

    summary = tables.get("segment_summary")
    if summary is not None and "distributions" in tables and len(_new_rows(summary)):
        add("unit_profit", "unit_profit", None, "Unit profit per new customer, by segment",
            "Spread of unit profit across new customers: P5\u2013P95 and P25\u2013P75 bands (vermillion below "
            "zero), the median customer as a tick, P1\u2013P99 as a line. Above it, the diamond is the expected "
            "unit profit with its 90% interval across replications, which decides the status. Each panel has "
            "its own scale.",
            lambda: plot_unit_profit(tables["distributions"], summary, currency=currency))
    if summary is not None and "ltv_to_cac" in summary.columns and _new_rows(summary)["ltv_to_cac"].notna().any():
        add("ltv_cac_payback", "ltv_cac", None, "LTV:CAC against payback",
            "One point per segment of new customers: expected LTV:CAC with its 90% interval, and the median "
            "month in which contribution repays CAC and onboarding (payback has no interval in the tables).",
            _figure_of(lambda ax: plot_ltv_cac_payback(summary, ax, horizon_months=horizon_months)))
    specs_of = scenario_plots.scenario_figures(tables, as_of=as_of, currency=currency)
    for stem, group, key, title, caption, render in specs_of:
        add(stem, group, key, title, caption, render)
    if fits is not None:
        for name, result in fits.results.items():
            add(f"retention_{file_safe(name)}", "retention", name, f"Retention of {name}",
                "Kaplan\u2013Meier curve of the book with its 95% band, the curve the simulation uses (dashed "
                "where it extrapolates; with model averaging, the family ranked first drawn thinly beside it), and "
                "the 90% band of the survival curves the simulation draws.",
                _figure_of(lambda ax, result=result: plot_segment_fit(result, ax, horizon_months=horizon_months,
                                                                      seed=seed), height=5.6))
    return specs


def write_run_plots(specs: list[FigureSpec], directory) -> dict[str, Path]:
    """Draw every figure into ``directory`` as ``<name>.png``; returns name -> path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for spec in specs:
        path = directory / f"{spec.name}.png"
        charts.save_png(spec.render(), path)
        written[spec.name] = path
    return written
