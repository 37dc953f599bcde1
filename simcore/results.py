"""Immutable results of the steps a user runs, with tidy tables under consistent names.

Every result has ``table`` (its main table, a DataFrame), ``tables`` (every table it
holds, by the name its files are written under) and ``warnings``. Results never print;
``write`` puts them on disk through :mod:`simcore.outputs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from simcore.config import Config
from simcore.errors import Problem

#: Label of the rows that add up every segment.
TOTAL = "(all segments)"


@dataclass(frozen=True)
class SegmentedBook:
    """A loaded, validated customer book with its ``segment`` column.

    Attributes
    ----------
    book : simcore.data.CustomerBook
        Customers (canonical columns plus ``segment``), MRR history, ``as_of``, shape,
        source and data hash.
    merged_segments : dict of str -> int
        Segments merged into ``other`` for being small, with their sizes.
    warnings : tuple of Problem
    """

    book: object
    merged_segments: dict
    warnings: tuple[Problem, ...]

    @property
    def customers(self) -> pd.DataFrame:
        return self.book.customers

    @property
    def segments(self) -> list[str]:
        """Segment names, sorted."""
        return sorted(self.customers["segment"].astype(str).unique())


@dataclass(frozen=True)
class SegmentsResult:
    """``Project.segments()``: per segment customers, active, churned, churned share,
    median observed tenure and (with MRR) the MRR of active customers; a total row last."""

    table: pd.DataFrame
    book: SegmentedBook
    warnings: tuple[Problem, ...]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"segments": self.table}


@dataclass(frozen=True)
class ValidationResult:
    """``Project.validate()``: what was checked without fitting or simulating: the book,
    its segments, the economics of every segment and every scenario's levers."""

    table: pd.DataFrame
    book: SegmentedBook
    economics: object  # simcore.economics.SegmentEconomics
    scenarios: tuple[str, ...]
    warnings: tuple[Problem, ...]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"segments": self.table, "economics": self.economics.table}


@dataclass(frozen=True)
class FitResult:
    """``Project.fit()``: retention per segment and revenue retention from the history.

    Attributes
    ----------
    fits : simcore.retention.SegmentFits
        Per segment the chosen fit, the ranking of every family and the Kaplan-Meier curve.
    revenue : simcore.revenue.RevenueRetention or None
        Expansion, contraction, GRR/NRR and the fitted revenue dynamics (with an MRR history).
    metadata : dict
        What the fits were made from (data and settings hashes, segments), saved with them.
    """

    fits: object
    revenue: object | None
    metadata: dict
    warnings: tuple[Problem, ...]
    horizon_months: int = 120

    @property
    def table(self) -> pd.DataFrame:
        """One row per segment: chosen family, ranking, parameters with 95% intervals,
        median lifetime, S(12), S(24), S(60), GRR_12 and NRR_12 (NaN without history)."""
        table = self.fits.summary_table()
        if self.revenue is not None and len(self.revenue.segments):
            revenue = self.revenue.segments[["segment", "grr_12", "nrr_12"]]
            return table.merge(revenue, on="segment", how="left")
        return table.assign(grr_12=float("nan"), nrr_12=float("nan"))

    @property
    def ranking(self) -> pd.DataFrame:
        """Every family's fit per segment (log-likelihood, AIC, BIC, rank)."""
        return pd.concat([result.ranking.assign(segment=name) for name, result in self.fits.results.items()],
                         ignore_index=True)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {"fits": self.table, "ranking": self.ranking}
        if self.revenue is not None:
            tables["revenue_retention"] = self.revenue.segments
            tables["revenue_cohorts"] = self.revenue.cohorts.astype({"cohort": str})
        return tables

    @property
    def dynamics(self) -> dict | None:
        return self.revenue.dynamics if self.revenue is not None else None

    def to_json(self) -> dict:
        out = self.fits.to_json()
        if self.revenue is not None:
            out["revenue_retention"] = {
                "segments": self.revenue.segments.to_dict(orient="records"),
                "dynamics": {k: v.to_dict() for k, v in self.revenue.dynamics.items()},
            }
        return out

    def write(self, directory: str | Path, *, force: bool = False) -> list[Path]:
        """Write fits.csv, fits.json, ranking.csv, revenue tables, one PNG per segment and
        saved_fits.json (reusable by a later run) into a fresh directory, atomically."""
        from simcore.outputs.results import write_fit

        return write_fit(self, directory, force=force)


@dataclass(frozen=True)
class RunResult:
    """``Project.simulate()``: the baseline and every scenario, with common random numbers.

    Tables (each also an attribute):

    ``segment_summary``
        Baseline, per (segment, population): customers; LTV and unit profit per customer;
        CAC, LTV:CAC, payback; P(unit profit < 0); segment totals with intervals; status.
    ``scenario_summary``
        The same for every scenario (a ``scenario`` column first).
    ``scenario_comparison``
        Per scenario, segment and in total: baseline and scenario value, the paired
        difference (mean, P5, P50, P95 across replications) and P(difference > 0).
    ``distributions``
        Per scenario, segment, population: quantiles of per-customer LTV and unit profit.
    ``projection``
        Per scenario, segment, population, month: active customers, MRR, contribution,
        cash, cumulative cash (mean, P10, P50, P90).
    ``fits``, ``economics``, ``revenue_retention``, ``cac_by_channel``
        The inputs: retention per segment, economics with the origin of every number.
    """

    config: Config
    scenarios: tuple[str, ...]
    tables: dict
    manifest: dict
    warnings: tuple[Problem, ...]
    fit: FitResult | None = field(default=None, repr=False)
    simulations: dict = field(default_factory=dict, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        return self.tables["segment_summary"]

    def __getattr__(self, name: str):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"'RunResult' has no attribute {name!r}")

    def write(self, directory: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
              plots: bool = True, report: bool = False) -> Path:
        """Write every table in every format, the saved fits, ``plots/`` (unless
        ``plots=False``), ``report.html`` (with ``report=True``), ``warnings.json`` and
        ``manifest.json`` into a fresh directory, atomically (nothing appears unless
        everything succeeded)."""
        from simcore.outputs.results import write_run

        return write_run(self, directory, formats=formats, force=force, plots=plots, report=report)


def scenario_comparison(name: str, baseline, scenario) -> pd.DataFrame:
    """Paired difference of one scenario's value from the baseline's, per segment and in
    total. Value per replication = the existing base's remaining value + new cohorts'
    profit discounted to the projection start; both runs share their random numbers, so
    the difference per replication is the levers' effect."""
    def value(result) -> pd.DataFrame:
        totals = result.replication_totals
        return pd.DataFrame({"segment": totals["segment"], "replication": totals["replication"],
                             "value": totals["existing_value"] + totals["new_profit_discounted_to_start"]})

    merged = value(baseline).merge(value(scenario), on=["segment", "replication"], suffixes=("_baseline", "_scenario"))
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


def run_tables(fit: FitResult, economics, simulations: dict, baseline: str) -> dict[str, pd.DataFrame]:
    """The tables of a run, by file name (see :class:`RunResult`)."""
    names = [name for name in simulations if name != baseline]
    first = simulations[baseline]

    def stacked(attribute: str) -> pd.DataFrame:
        frame = pd.concat([getattr(s, attribute).assign(scenario=n) for n, s in simulations.items()],
                          ignore_index=True)
        return frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]

    tables = {
        "segment_summary": first.segment_summary,
        "scenario_summary": stacked("segment_summary"),
        "distributions": stacked("customer_quantiles"),
        "projection": stacked("projections"),
        "fits": fit.table,
        "economics": economics.table,
    }
    if names:
        tables["scenario_comparison"] = pd.concat(
            [scenario_comparison(n, first, simulations[n]) for n in names], ignore_index=True)
    if fit.revenue is not None:
        tables["revenue_retention"] = fit.revenue.segments
    if economics.cac is not None:
        tables["cac_by_channel"] = economics.cac.by_key.rename(
            columns={"total": "spend", "count": "new_customers", "per_unit": "cac"})
        tables["cac_allocation"] = economics.cac.allocation.rename(
            columns={"units": "new_customers", "share": "share_of_channel", "allocated": "spend_allocated"})
    return tables
