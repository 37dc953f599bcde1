"""`simcore run`: fit once, simulate the baseline and every scenario, write the results.

Every scenario is simulated with the same seed, so all of them see the same random
numbers (common random numbers): for each replication the same parameter draw and the
same customer uniforms. A scenario's difference from the baseline, taken replication by
replication, is then the lever's effect rather than noise, and its interval is the
interval of those paired differences.

Tables written (each in every requested format):

``segment_summary``
    Baseline, one row per (segment, population): LTV and unit profit per customer
    (mean, P5, P50, P95), CAC, LTV:CAC, payback, P(unit profit < 0), segment totals with
    intervals, status.
``scenario_summary``
    The same for every scenario (a ``scenario`` column first).
``scenario_comparison``
    Per scenario, per segment and in total: baseline and scenario value (remaining
    value of the existing base plus new cohorts' profit discounted to ``as_of``), the
    paired difference (mean, P5, P95 across replications) and P(difference > 0).
``distributions``
    Per scenario, segment and population: quantiles of per-customer LTV and unit profit.
``projection``
    Per scenario, segment and population, monthly: active customers, MRR, contribution,
    cash, cumulative cash (mean, P10, P50, P90).
``fits``, ``economics``
    Retention fit per segment; economics per segment with the origin of every number and
    the blended CAC beside the segment CAC.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from simcore._version import __version__
from simcore.config import BASELINE, Config
from simcore.errors import ConfigError, Problem

FORMATS = ("csv", "parquet", "xlsx", "json")
TOTAL = "(all segments)"


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, in memory; :func:`write_run` writes it."""

    config: Config
    scenarios: tuple[str, ...]
    tables: dict[str, pd.DataFrame]
    manifest: dict
    warnings: tuple[Problem, ...]
    simulations: dict = field(default_factory=dict, repr=False)
    fit_report: object = field(default=None, repr=False)


def _config_hash(config: Config) -> str:
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _value_per_replication(result) -> pd.DataFrame:
    """(segment, replication) -> value = existing base's remaining value + new cohorts'
    profit discounted to the projection start."""
    totals = result.replication_totals
    return pd.DataFrame({
        "segment": totals["segment"],
        "replication": totals["replication"],
        "value": totals["existing_value"] + totals["new_profit_discounted_to_start"],
    })


def _comparison(name: str, baseline, scenario) -> pd.DataFrame:
    base = _value_per_replication(baseline)
    other = _value_per_replication(scenario)
    merged = base.merge(other, on=["segment", "replication"], suffixes=("_baseline", "_scenario"))
    total = merged.groupby("replication", as_index=False)[["value_baseline", "value_scenario"]].sum()
    total["segment"] = TOTAL
    rows = []
    for segment, group in pd.concat([merged, total], ignore_index=True).groupby("segment", sort=False):
        delta = (group["value_scenario"] - group["value_baseline"]).to_numpy()
        rows.append({
            "scenario": name, "segment": segment,
            "baseline_value_mean": group["value_baseline"].mean(),
            "scenario_value_mean": group["value_scenario"].mean(),
            "delta_mean": delta.mean(),
            "delta_p5": float(np.quantile(delta, 0.05)),
            "delta_p50": float(np.quantile(delta, 0.5)),
            "delta_p95": float(np.quantile(delta, 0.95)),
            "p_delta_positive": float(np.mean(delta > 0)),
        })
    return pd.DataFrame(rows)


def new_customer_starting_mrr(book, customers: pd.DataFrame, months: int = 12) -> dict[str, float]:
    """Starting MRR of a new customer per segment, from the MRR history.

    The book's ``mrr`` column is each customer's *current* MRR, which already holds years
    of expansion; starting new cohorts there and simulating expansion again would count
    it twice. With a history, a new customer starts at the mean first-month MRR of the
    customers who signed up in the ``months`` before ``as_of`` (all customers when too
    few did). Without a history the engine falls back to the book's mean MRR.
    """
    history = book.history
    if history is None or not len(history):
        return {}
    first = history.sort_values("month", kind="stable").groupby("customer_id", sort=False).first()
    frame = customers[["customer_id", "segment"]].merge(
        first[["month", "mrr"]], left_on="customer_id", right_index=True, how="inner"
    )
    out: dict[str, float] = {}
    cutoff = None if book.as_of is None else pd.Timestamp(book.as_of) - pd.DateOffset(months=months)
    for segment, group in frame.groupby("segment", sort=True):
        recent = group[group["month"] > cutoff] if cutoff is not None else group
        chosen = recent if len(recent) >= 30 else group
        if len(chosen):
            out[str(segment)] = float(chosen["mrr"].mean())
    return out


def run(
    config: Config,
    *,
    scenario_names: Sequence[str] | None = None,
    seed: int | None = None,
    replications: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_compile: Callable[[], None] | None = None,
    saved_fits: str | Path | None = None,
) -> RunResult:
    """Load, fit, and simulate the baseline plus scenarios; return the result tables.

    Parameters
    ----------
    config
        Validated configuration.
    scenario_names
        Scenarios to run (default: all of them); the baseline always runs.
    seed, replications
        Override ``simulation.seed`` / ``simulation.replications``.
    progress
        Called as ``progress(step, done, total)`` as work advances.
    on_compile
        Called once before the simulation kernels compile (first run on a machine).
    saved_fits
        Reuse these saved fits instead of fitting (default: ``retention.saved_fits``).
    """
    from simcore.engine import warm_up
    from simcore.engine.api import StatusThresholds, simulate
    from simcore.derived import segment_economics
    from simcore.scenarios import check_scenario_levers, check_scenario_segments, scenario_levers
    from simcore.workflows import fit_book, load_segmented_book

    timings: dict[str, float] = {}
    started = time.perf_counter()
    seed = config.simulation.seed if seed is None else seed
    replications = config.simulation.replications if replications is None else replications
    known = [s.name for s in config.scenarios]
    names = list(known if scenario_names is None else scenario_names)
    unknown = [n for n in names if n not in known and n != BASELINE]
    if unknown:
        import difflib

        raise ConfigError([
            Problem(f"no scenario named '{n}'", (
                f"did you mean '{difflib.get_close_matches(n, known, n=1)[0]}'?"
                if difflib.get_close_matches(n, known, n=1) else f"scenarios are: {', '.join(known) or 'none'}"
            ), field="--scenario") for n in unknown
        ])
    names = [n for n in dict.fromkeys(names) if n != BASELINE]
    total_steps = 3 + 1 + len(names)
    step = 0

    def advance(label: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(label, step, total_steps)

    segmented = load_segmented_book(config)
    timings["load_s"] = time.perf_counter() - started
    advance("loaded customers")
    segments = sorted(segmented.customers["segment"].astype(str).unique())
    check_scenario_segments(config, segments)

    # Economics from data before fitting: a missing cost table should fail in a second,
    # not after the fits.
    book = segmented.book
    as_of = book.as_of
    economics = segment_economics(config, segmented.customers, segments, as_of)
    advance("derived economics")

    mark = time.perf_counter()
    report = fit_book(config, segmented, saved_fits=saved_fits)
    timings["fit_s"] = time.perf_counter() - mark
    advance("reused saved fits" if (saved_fits or config.retention.saved_fits) else "fitted retention")

    fits = {name: result.fit for name, result in report.fits.results.items()}
    dynamics = report.revenue.dynamics if report.revenue is not None else None
    check_scenario_levers(config, segments, economics.economics, dynamics)
    thresholds = StatusThresholds(loss_probability_above=config.status.marginal_loss_probability)
    warm_up(on_compile=on_compile)

    simulations = {}
    mark = time.perf_counter()
    starting_mrr = new_customer_starting_mrr(book, segmented.customers)
    for name in [BASELINE, *names]:
        levers = {
            segment: replace(lever, new_customer_mrr=starting_mrr[segment])
            if lever.new_customer_mrr is None and segment in starting_mrr else lever
            for segment, lever in scenario_levers(config, name, segments).items()
        }
        simulations[name] = simulate(
            fits, segmented.customers, economics.economics, dynamics, levers,
            replications=replications, seed=seed, horizon_months=config.horizon_months,
            as_of=as_of, draw_method=config.retention.uncertainty, thresholds=thresholds,
        )
        advance(f"simulated {name}")
    timings["simulate_s"] = time.perf_counter() - mark

    tables = _tables(report, economics, simulations, names)
    if starting_mrr:
        tables["economics"] = tables["economics"].assign(
            new_customer_starting_mrr=tables["economics"]["segment"].map(starting_mrr))
    manifest = {
        "simcore_version": __version__,
        "name": config.name,
        "config_file": config.source,
        "config_sha256": _config_hash(config),
        "data_sha256": book.data_hash,
        "as_of": None if as_of is None else pd.Timestamp(as_of).date().isoformat(),
        "seed": int(seed),
        "replications": int(replications),
        "horizon_months": config.horizon_months,
        "scenarios": [BASELINE, *names],
        "segments": segments,
        "customers": int(len(segmented.customers)),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "python": platform.python_version(),
    }
    if saved_fits is not None or config.retention.saved_fits is not None:
        manifest["saved_fits"] = str(saved_fits or config.retention.saved_fits)
    warnings = tuple(report.warnings) + tuple(economics.warnings)
    return RunResult(config, (BASELINE, *names), tables, manifest, warnings, simulations, report)


def _tables(report, economics, simulations: dict, names: list[str]) -> dict[str, pd.DataFrame]:
    baseline = simulations[BASELINE]
    tables = {
        "segment_summary": baseline.segment_summary,
        "scenario_summary": pd.concat(
            [s.segment_summary.assign(scenario=n) for n, s in simulations.items()], ignore_index=True
        ),
        "distributions": pd.concat(
            [s.customer_quantiles.assign(scenario=n) for n, s in simulations.items()], ignore_index=True
        ),
        "projection": pd.concat(
            [s.projections.assign(scenario=n) for n, s in simulations.items()], ignore_index=True
        ),
        "fits": report.table(),
        "economics": economics.table,
    }
    if names:
        tables["scenario_comparison"] = pd.concat(
            [_comparison(n, baseline, simulations[n]) for n in names], ignore_index=True
        )
    for key in ("scenario_summary", "distributions", "projection"):
        frame = tables[key]
        tables[key] = frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]
    if report.revenue is not None:
        tables["revenue_retention"] = report.revenue.segments
    if economics.cac is not None:
        tables["cac_by_channel"] = economics.cac.by_key.rename(
            columns={"total": "spend", "count": "new_customers", "per_unit": "cac"}
        )
    return tables


# --------------------------------------------------------------------------- writing


def check_formats(formats: Sequence[str]) -> list[str]:
    wanted = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise ConfigError(Problem(
            f"unknown output format {', '.join(repr(b) for b in bad)}",
            f"choose from {', '.join(FORMATS)} (comma-separated)", field="--format",
        ))
    return list(dict.fromkeys(wanted)) or ["csv"]


def write_run(result: RunResult, out: str | Path, *, formats: Sequence[str] = ("csv",), force: bool = False) -> Path:
    """Write every table in every format plus ``manifest.json``, atomically."""
    from simcore.outputs import atomic_directory

    formats = check_formats(formats)
    out = Path(out)
    mark = time.perf_counter()
    with atomic_directory(out, force=force) as staging:
        for name, table in result.tables.items():
            if "csv" in formats:
                table.to_csv(staging / f"{name}.csv", index=False, float_format="%.10g")
            if "parquet" in formats:
                table.to_parquet(staging / f"{name}.parquet", index=False)
            if "json" in formats:
                table.to_json(staging / f"{name}.json", orient="records", indent=1, double_precision=10)
        if "xlsx" in formats:
            write_workbook(result.tables, staging / "results.xlsx")
        if result.fit_report is not None:
            from simcore.workflows import SAVED_FITS, save_report_fits

            save_report_fits(result.fit_report, result.config, staging / SAVED_FITS)
        manifest = dict(result.manifest)
        manifest["formats"] = formats
        manifest["files"] = sorted(p.name for p in staging.iterdir()) + ["manifest.json"]
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(time.perf_counter() - mark, 3)}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out


_PERCENT_COLUMNS = ("p_", "share", "grr_12", "nrr_12", "S_", "gross_margin", "infrastructure_cost_share")
_MONEY_HINTS = ("ltv", "profit", "value", "cac", "cost", "mrr", "spend", "cash", "contribution", "delta")
_COUNT_HINTS = ("customers", "active", "churned", "n_", "count", "months")


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One workbook, one sheet per table, formatted for finance readers: bold frozen
    header, filters, money with thousands separators, probabilities as percentages,
    columns sized to their content."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            sheet_name = name[:31]
            frame = table.replace([np.inf, -np.inf], np.nan)
            frame.to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for index, column in enumerate(frame.columns, start=1):
                letter = get_column_letter(index)
                lower = str(column).lower()
                if frame[column].dtype.kind == "f":
                    if lower.startswith(_PERCENT_COLUMNS) or lower in _PERCENT_COLUMNS:
                        number_format = "0.0%"
                    elif any(hint in lower for hint in _COUNT_HINTS) and "_per_" not in lower:
                        number_format = "#,##0"
                    elif any(hint in lower for hint in _MONEY_HINTS):
                        number_format = "#,##0;[Red]-#,##0"
                    else:
                        number_format = "#,##0.00"
                    for cell in sheet[letter][1:]:
                        cell.number_format = number_format
                width = max(len(str(column)), *(len(f"{v:,.0f}") if isinstance(v, float) and np.isfinite(v) else len(str(v))
                                                  for v in frame[column].head(200))) if len(frame) else len(str(column))
                sheet.column_dimensions[letter].width = min(max(10, width + 2), 48)
