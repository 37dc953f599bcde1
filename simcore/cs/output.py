"""Writing accounts tables and customer-success plans: a fresh directory, atomically.

A plan directory holds the ``cs_plan_*`` tables in the requested formats, ``warnings.json``,
``plots/cs_plan_headcount.png`` (CSMs needed per tier: P50 with the P10-P90 band of the
paths, and the CSMs employed under the hiring plan) and ``plots/cs_plan_roi.png`` (each
plan's expected net gain with its 90% interval), ``manifest.json`` and, on request,
``report.html``. The tier effects are assumptions, and every figure says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np

from simcore.outputs.atomic import atomic_directory
from simcore.outputs.jsonio import dumps
from simcore.outputs.results import WARNINGS, warning_records
from simcore.outputs.tables import check_formats, write_tables

PLOTS = "plots"
HEADCOUNT_PLOT = "cs_plan_headcount.png"
ROI_PLOT = "cs_plan_roi.png"


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def write_accounts(result, out: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False) -> Path:
    """The tables of an :class:`~simcore.cs.result.AccountsResult` and ``manifest.json``."""
    formats = check_formats(formats)
    out = Path(out)
    with atomic_directory(out, force=force) as staging:
        write_tables(result.tables, staging, formats, workbook_name="accounts.xlsx")
        (staging / WARNINGS).write_text(dumps(warning_records(result.warnings)) + "\n")
        manifest = {**result.manifest, "formats": formats}
        manifest["files"] = sorted([*_files(staging), "manifest.json"])
        (staging / "manifest.json").write_text(dumps(manifest) + "\n")
    return out


def write_plan(result, out: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
               plots: bool = True, report: bool = False) -> Path:
    """The tables of a :class:`~simcore.cs.result.CSPlanResult`, its figures, manifest and,
    with ``report``, the HTML report (its customer-success section reads these files)."""
    formats = check_formats(formats)
    out = Path(out)
    mark = time.perf_counter()
    currency = result.manifest.get("currency")
    with atomic_directory(out, force=force) as staging:
        write_tables(result.tables, staging, formats, workbook_name="cs_plan.xlsx")
        (staging / WARNINGS).write_text(dumps(warning_records(result.warnings)) + "\n")
        if plots:
            from simcore.outputs.charts import save_png

            (staging / PLOTS).mkdir()
            save_png(headcount_figure(result.tables["cs_plan_headcount_monthly"], result.specs),
                     staging / PLOTS / HEADCOUNT_PLOT)
            save_png(roi_figure(result.tables["cs_plan_roi"], currency=currency), staging / PLOTS / ROI_PLOT)
        manifest = {**result.manifest, "formats": formats}
        manifest["files"] = sorted([*_files(staging), "manifest.json", *(["report.html"] if report else [])])
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(time.perf_counter() - mark, 3)}
        (staging / "manifest.json").write_text(dumps(manifest) + "\n")
        if report:
            from simcore.report import RunDirectory, write_report

            write_report(RunDirectory(staging), staging / "report.html")
    return out


def headcount_figure(monthly, specs):
    """One panel per tier: CSMs needed by month (P50 line, band from the P10 to the P90
    path's covered accounts) for the configured and the optimised plan, and the CSMs the
    optimised plan employs (step line)."""
    from simcore.outputs.charts import BLUE, GREY, BLACK, FanSeries, fan_chart, new_figure, wrapped

    tiers = [s.name for s in specs]
    figure, axes = new_figure(8.0, 2.6 * len(tiers) + 0.8, rows=len(tiers), columns=1, sharex=True)
    axes = np.atleast_1d(axes)
    for ax, spec in zip(axes, specs):
        series = []
        for plan, colour in (("current", GREY), ("optimised", BLUE)):
            rows = monthly[(monthly["plan"] == plan) & (monthly["tier"] == spec.name)]
            if not len(rows):
                continue
            ratio = spec.accounts_per_csm
            series.append(FanSeries(f"{plan} rules", rows["csms_needed_p50"].to_numpy(float),
                                    np.ceil(rows["covered_accounts_p10"].to_numpy(float) / ratio),
                                    rows["csms_needed_p90"].to_numpy(float), colour=colour))
        x = monthly.loc[monthly["tier"] == spec.name, "month"].unique()
        fan_chart(ax, x, series, ylabel="CSMs", legend=ax is axes[0],
                  title=wrapped(f"{spec.name}: 1 CSM per {spec.accounts_per_csm:g} accounts, assumed churn "
                                f"x{spec.churn_multiplier:g}, expansion x{spec.expansion_multiplier:g}", 90))
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))   # CSMs are whole people
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        rows = monthly[(monthly["plan"] == "optimised") & (monthly["tier"] == spec.name)]
        if len(rows):
            # dashed, so a median path on the same number of CSMs still shows between the dashes
            ax.step(rows["month"], rows["employed"], where="post", color=BLACK, linewidth=1.2,
                    linestyle=(0, (4, 3)), label="employed (optimised hiring plan)")
            if ax is axes[0]:
                ax.legend(loc="best")
    axes[-1].set_xlabel("Month of the plan (0 = first month after as_of)")
    figure.suptitle("CSMs needed per tier: median path with P10\u2013P90 of the paths; effects are assumptions",
                    fontsize=10)
    return figure


def roi_figure(roi, *, currency: str | None = None):
    """Expected net gain over no customer success of every plan, with its 90% interval."""
    from simcore.outputs.charts import BLUE, GREY, VERMILLION, money_axis, new_figure, with_unit

    from simcore.cs.tables import ALL_TIERS

    rows = roi[roi["tier"] == ALL_TIERS].reset_index(drop=True)
    figure, ax = new_figure(8.0, 0.55 * len(rows) + 1.6)
    positions = np.arange(len(rows))[::-1]
    for y, row in zip(positions, rows.itertuples()):
        colour = BLUE if row.plan == "optimised" else VERMILLION if row.net_gain_mean < 0 else GREY
        ax.barh(y, row.net_gain_mean, color=colour, height=0.6)
        ax.errorbar(row.net_gain_mean, y, xerr=[[row.net_gain_mean - row.net_gain_lower_90],
                                                [row.net_gain_upper_90 - row.net_gain_mean]],
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    # "beyond the cap" goes with the plan's name, where no bar or whisker can cover it
    ax.set_yticks(positions, [str(r.plan) if r.within_cap else f"{r.plan} (beyond the cap)"
                              for r in rows.itertuples()])
    ax.axvline(0, color="black", linewidth=1)
    money_axis(ax.xaxis)
    ax.set_xlabel(with_unit("Expected net gain over no customer success, discounted (90% interval)", currency))
    ax.set_title("Profit net of CS cost by plan (tier effects are assumptions)")
    return figure
