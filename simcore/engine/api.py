"""One call from fitted segments to tidy results: :func:`simulate`.

Populations
-----------
Results are reported per segment for two populations:

``existing``
    Customers active at ``as_of``. Their acquisition cost is sunk, so their *value* is
    the remaining discounted contribution from ``as_of`` on, and their "unit profit" is
    that same remaining value (nothing further to pay back). A customer with tenure
    ``a`` (whole months completed at ``as_of``) has already paid for life months
    ``0..a``; its value counts only payments still to come, from the first month after
    ``as_of`` (discount weight ``d^0``) on, each made only if it renews, so it pays
    in projection month ``c`` with probability ``S(a + 1 + c) / S(a)`` and may churn
    before paying anything more (value 0). Expansion and contraction can occur from
    its first projected month on, since that month is a renewal. CAC columns show what was
    paid for them (per-customer ``cac`` where the book has it), for information.
``new``
    Customers acquired during the projection. Value is discounted to the month of
    acquisition; unit profit = value - CAC - onboarding cost (paid at acquisition,
    undiscounted); payback months = the number of monthly contributions needed until
    the cumulative undiscounted contribution reaches CAC + onboarding (0 when both are
    zero; "never" when not reached within the horizon or before churn).

Per-customer distributions pool all customers of all replications (process noise and
parameter uncertainty together); segment totals are summed within a replication and
their intervals are taken across replications (parameter uncertainty plus the noise
of the book's aggregate).

With expansion and contraction, each customer's value in the per-customer
distributions is its value on a simulated MRR path (exactly the walked model's
distribution), while segment totals and monthly projections use the exact expected
MRR path given each customer's lifetime: their means are the walked model's, and
their spread across replications leaves out the events' own aggregate noise (see
:mod:`simcore.engine.kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from simcore.economics import Economics
from simcore.engine.accumulators import (
    DEFAULT_BINS,
    EXISTING,
    EXISTING_COUNT,
    EXISTING_MAX,
    EXISTING_MIN,
    NEW,
    NEW_COUNT,
    NEW_MAX,
    NEW_MIN,
    NEW_PROFIT_AT_START,
    POPULATIONS,
    SegmentAccumulators,
)
from simcore.engine.compile import CompiledBook, CompiledSegment, compile_book
from simcore.engine.levers import ScenarioLevers
from simcore.engine.protocols import MrrDynamics, SurvivalModel
from simcore.errors import ConfigError, Problem

__all__ = ["SimulationResult", "StatusThresholds", "simulate", "simulate_compiled",
           "histogram_quantiles", "histogram_fraction_below"]

TOTAL_SEGMENT = "(all segments)"
_PROJECTION_QUANTILES = (0.1, 0.5, 0.9)
_CUSTOMER_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class StatusThresholds:
    """Rules of the segment status (DESIGN §5).

    A population is ``margin-draining`` when its median unit profit is below
    ``median_unit_profit_below``, else ``marginal`` when P(unit profit < 0) exceeds
    ``loss_probability_above``, else ``profitable``.
    """

    median_unit_profit_below: float = 0.0
    loss_probability_above: float = 0.25

    def status(self, median_unit_profit: float, loss_probability: float) -> str:
        if not np.isfinite(median_unit_profit):
            return "unknown"
        if median_unit_profit < self.median_unit_profit_below:
            return "margin-draining"
        if loss_probability > self.loss_probability_above:
            return "marginal"
        return "profitable"


@dataclass(frozen=True)
class SimulationResult:
    """Tidy results of one simulation.

    Attributes
    ----------
    segment_summary : DataFrame
        One row per (segment, population); columns described in :func:`simulate`.
    customer_quantiles : DataFrame
        Columns ``segment, population, quantile, ltv, unit_profit`` (per customer).
    projections : DataFrame
        Columns ``segment, population, month, metric, mean, p10, p50, p90``: monthly
        active customers, MRR, contribution, cash and cumulative cash across
        replications, for ``existing``, ``new`` and ``all``, per segment and for
        ``"(all segments)"``. ``month`` is the projection month (0 = first month).
    replication_totals : DataFrame
        One row per (segment, replication): customers and summed values.
    seed, replications, horizon_months, method
        Settings of the run (``method`` = ``"engine"`` or ``"reference"``).
    accumulators : dict
        The raw :class:`~simcore.engine.accumulators.SegmentAccumulators` per segment.
    """

    segment_summary: pd.DataFrame
    customer_quantiles: pd.DataFrame
    projections: pd.DataFrame
    replication_totals: pd.DataFrame
    seed: int
    replications: int
    horizon_months: int
    method: str
    accumulators: dict = field(repr=False, default_factory=dict)


# ---------------------------------------------------------------------- histograms


def _edges(bounds: np.ndarray, n_bins: int, observed_min: float, observed_max: float):
    """Bin edges including the under/overflow bins stretched to the observed range."""
    low, high = float(bounds[0]), float(bounds[1])
    inner = np.linspace(low, high, n_bins + 1)
    first = min(observed_min, low) if np.isfinite(observed_min) else low
    last = max(observed_max, high) if np.isfinite(observed_max) else high
    return np.concatenate([[first], inner, [last]])


def histogram_quantiles(counts: np.ndarray, bounds: np.ndarray, observed_min: float,
                        observed_max: float, quantiles) -> np.ndarray:
    """Quantiles from a histogram with under/overflow bins, interpolating linearly
    within a bin; the under/overflow bins span to the observed minimum/maximum."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    quantiles = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if total <= 0:
        return np.full(quantiles.shape, np.nan)
    edges = _edges(bounds, counts.size - 2, observed_min, observed_max)
    cumulative = np.concatenate([[0.0], np.cumsum(counts)])
    target = quantiles * total
    index = np.clip(np.searchsorted(cumulative, target, side="left") - 1, 0, counts.size - 1)
    # Move past empty bins so the interpolation happens inside a bin with mass.
    inside = np.where(counts[index] > 0, (target - cumulative[index]) / np.where(
        counts[index] > 0, counts[index], 1.0), 0.0)
    values = edges[index] + np.clip(inside, 0.0, 1.0) * (edges[index + 1] - edges[index])
    return np.clip(values, observed_min, observed_max)


def histogram_fraction_below(counts: np.ndarray, bounds: np.ndarray, observed_min: float,
                             observed_max: float, threshold: float) -> float:
    """Share of the histogram's mass below ``threshold`` (linear within a bin)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return float("nan")
    if threshold <= observed_min:
        return 0.0
    if threshold > observed_max:
        return 1.0
    edges = _edges(bounds, counts.size - 2, observed_min, observed_max)
    left, right = edges[:-1], edges[1:]
    width = np.where(right > left, right - left, 1.0)
    share = np.clip((threshold - left) / width, 0.0, 1.0)
    share = np.where(right <= threshold, 1.0, share)
    return float((counts * share).sum() / total)


# ------------------------------------------------------------------------- summary


def _population_row(segment: CompiledSegment, acc: SegmentAccumulators, population: int,
                    thresholds: StatusThresholds) -> dict[str, Any]:
    offset = EXISTING_COUNT if population == EXISTING else NEW_COUNT
    totals = acc.totals
    customers = totals[:, offset]
    pooled_customers = customers.sum()
    H = segment.horizon_months
    row: dict[str, Any] = {"segment": segment.name, "population": POPULATIONS[population],
                           "customers": float(customers.mean()) if customers.size else 0.0}
    if pooled_customers <= 0:
        row["status"] = "no customers"
        return row
    mean = totals[:, offset + 1].sum() / pooled_customers
    second = totals[:, offset + 2].sum() / pooled_customers
    variance = max(second - mean * mean, 0.0)
    observed_min = float(totals[:, EXISTING_MIN if population == EXISTING else NEW_MIN].min())
    observed_max = float(totals[:, EXISTING_MAX if population == EXISTING else NEW_MAX].max())
    bounds = acc.bounds[population]
    counts = acc.histogram[population]
    ltv = histogram_quantiles(counts, bounds, observed_min, observed_max, (0.05, 0.5, 0.95))
    acquisition = segment.new_acquisition_cost if population == NEW else 0.0
    loss = histogram_fraction_below(counts, bounds, observed_min, observed_max, acquisition)
    row.update({
        "ltv_mean": mean,
        "ltv_mean_standard_error": np.sqrt(variance / pooled_customers),
        "ltv_p5": ltv[0], "ltv_p50": ltv[1], "ltv_p95": ltv[2],
        "unit_profit_mean": mean - acquisition,
        "unit_profit_p5": ltv[0] - acquisition, "unit_profit_p50": ltv[1] - acquisition,
        "unit_profit_p95": ltv[2] - acquisition,
        "p_unit_profit_negative": loss,
    })
    if population == NEW:
        cac = segment.new_cac
        payback = acc.payback.astype(np.float64)
        paid_share = np.cumsum(payback) / payback.sum()
        median_index = int(np.searchsorted(paid_share, 0.5, side="left"))
        row.update({
            "cac": cac, "onboarding_cost": segment.new_onboarding_cost,
            "ltv_to_cac": mean / cac if cac > 0 else np.nan,
            "payback_months_p50": float(median_index) if median_index <= H else np.inf,
            "p_payback_within_12_months": float(paid_share[min(12, H)]),
            "p_payback_within_24_months": float(paid_share[min(24, H)]),
        })
        segment_total = totals[:, NEW_PROFIT_AT_START]
    else:
        row.update({
            "cac": float(np.mean(segment.customer_cac)) if segment.customer_cac.size else np.nan,
            "onboarding_cost": np.nan, "ltv_to_cac": np.nan, "payback_months_p50": np.nan,
            "p_payback_within_12_months": np.nan, "p_payback_within_24_months": np.nan,
        })
        segment_total = totals[:, offset + 1]
    row.update({
        "total_value_mean": float(segment_total.mean()),
        "total_value_p5": float(np.quantile(segment_total, 0.05)),
        "total_value_p50": float(np.quantile(segment_total, 0.5)),
        "total_value_p95": float(np.quantile(segment_total, 0.95)),
        "status": thresholds.status(row["unit_profit_p50"], loss),
    })
    return row


def _customer_quantiles(segment: CompiledSegment, acc: SegmentAccumulators) -> list[dict]:
    rows = []
    for population in (EXISTING, NEW):
        offset = EXISTING_COUNT if population == EXISTING else NEW_COUNT
        if acc.totals[:, offset].sum() <= 0:
            continue
        values = histogram_quantiles(
            acc.histogram[population], acc.bounds[population],
            float(acc.totals[:, offset + 3].min()), float(acc.totals[:, offset + 4].max()),
            _CUSTOMER_QUANTILES)
        acquisition = segment.new_acquisition_cost if population == NEW else 0.0
        for q, value in zip(_CUSTOMER_QUANTILES, values):
            rows.append({"segment": segment.name, "population": POPULATIONS[population],
                         "quantile": q, "ltv": value, "unit_profit": value - acquisition})
    return rows


def _projection_series(monthly: np.ndarray, acquisition_spend: np.ndarray) -> dict[str, np.ndarray]:
    """(R, 2, 3, H) monthly accumulators -> metric -> population -> (R, H)."""
    series: dict[str, dict[str, np.ndarray]] = {}
    for population, name in ((EXISTING, "existing"), (NEW, "new")):
        active, mrr, contribution = (monthly[:, population, m] for m in range(3))
        cash = contribution - (acquisition_spend[None, :] if population == NEW else 0.0)
        series[name] = {"active_customers": active, "mrr": mrr, "contribution": contribution,
                        "cash": cash}
    series["all"] = {metric: series["existing"][metric] + series["new"][metric]
                     for metric in series["existing"]}
    for population in series.values():
        population["cumulative_cash"] = np.cumsum(population["cash"], axis=1)
    return series


def _projection_rows(name: str, series: dict, horizon: int) -> list[pd.DataFrame]:
    frames = []
    months = np.arange(horizon)
    for population, metrics in series.items():
        for metric, values in metrics.items():
            q = np.quantile(values, _PROJECTION_QUANTILES, axis=0)
            frames.append(pd.DataFrame({
                "segment": name, "population": population, "month": months, "metric": metric,
                "mean": values.mean(axis=0), "p10": q[0], "p50": q[1], "p90": q[2]}))
    return frames


def summarise(book: CompiledBook, accumulators: Mapping[str, SegmentAccumulators], *,
              thresholds: StatusThresholds = StatusThresholds(), method: str = "engine"
              ) -> SimulationResult:
    """Build the tidy :class:`SimulationResult` from per-segment accumulators."""
    summary_rows, quantile_rows, projection_frames, total_frames = [], [], [], []
    H = book.horizon_months
    portfolio = None
    for segment in book.segments:
        acc = accumulators[segment.name]
        for population in (EXISTING, NEW):
            summary_rows.append(_population_row(segment, acc, population, thresholds))
        quantile_rows.extend(_customer_quantiles(segment, acc))
        series = _projection_series(acc.monthly, acc.acquisition_spend)
        projection_frames.extend(_projection_rows(segment.name, series, H))
        if portfolio is None:
            portfolio = {p: {m: v.copy() for m, v in metrics.items()} for p, metrics in series.items()}
        else:
            for p, metrics in series.items():
                for m, v in metrics.items():
                    portfolio[p][m] += v
        total_frames.append(pd.DataFrame({
            "segment": segment.name, "replication": np.arange(book.replications),
            "existing_customers": acc.totals[:, EXISTING_COUNT],
            "existing_value": acc.totals[:, EXISTING_COUNT + 1],
            "new_customers": acc.totals[:, NEW_COUNT],
            "new_value_at_acquisition": acc.totals[:, NEW_COUNT + 1],
            "new_profit_discounted_to_start": acc.totals[:, NEW_PROFIT_AT_START],
            "acquisition_spend": float(acc.acquisition_spend.sum()),
        }))
    if portfolio is not None and len(book.segments) > 1:
        projection_frames.extend(_projection_rows(TOTAL_SEGMENT, portfolio, H))
    summary = pd.DataFrame(summary_rows)
    return SimulationResult(
        segment_summary=summary,
        customer_quantiles=pd.DataFrame(quantile_rows),
        projections=pd.concat(projection_frames, ignore_index=True) if projection_frames
        else pd.DataFrame(),
        replication_totals=pd.concat(total_frames, ignore_index=True) if total_frames
        else pd.DataFrame(),
        seed=book.seed, replications=book.replications, horizon_months=H, method=method,
        accumulators=dict(accumulators),
    )


# ---------------------------------------------------------------------------- entry


def _book_progress(book: CompiledBook, progress):
    """Per-segment callbacks that report ``progress(done, total)`` over the whole book."""
    sizes = [(s.n_existing + s.n_new) * s.replications for s in book.segments]
    total = int(sum(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    def for_segment(index: int):
        if progress is None:
            return None
        return lambda done, _segment_total: progress(int(offsets[index] + done), total)

    return for_segment


def simulate_compiled(book: CompiledBook, *, method: str = "engine",
                      thresholds: StatusThresholds = StatusThresholds(),
                      block_size: int = 64, chunk_size: int | None = None,
                      n_bins: int = DEFAULT_BINS, paths: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Simulate an already compiled book (for sweeps that compile once per scenario).

    ``paths`` sets the MRR paths simulated per replication for segments with expansion
    or contraction (see :func:`simcore.engine.run.run_segment`); ``progress`` is called
    as ``progress(done, total)`` in customer-lifetimes over the whole book (see
    :func:`simulate`).
    """
    segment_progress = _book_progress(book, progress)
    if method == "engine":
        from simcore.engine import warm_up
        from simcore.engine.rng import seed_to_uint64
        from simcore.engine.run import run_segment

        warm_up()
        seed = seed_to_uint64(book.seed)
        accumulators = {s.name: run_segment(s, seed, block_size=block_size,
                                            chunk_size=chunk_size, n_bins=n_bins, paths=paths,
                                            progress=segment_progress(i))
                        for i, s in enumerate(book.segments)}
    elif method == "reference":
        from simcore.engine.reference import reference_segment

        accumulators = {s.name: reference_segment(s, book.seed, n_bins=n_bins,
                                                  progress=segment_progress(i))
                        for i, s in enumerate(book.segments)}
    else:
        raise ConfigError(Problem(f"unknown simulation method {method!r}",
                                  "use 'engine' or 'reference'", field="simulation.method"))
    return summarise(book, accumulators, thresholds=thresholds, method=method)


def simulate(
    fits: Mapping[str, SurvivalModel],
    customers: pd.DataFrame,
    economics: Economics | Mapping[str, Economics],
    dynamics: MrrDynamics | Mapping[str, MrrDynamics] | None = None,
    levers: ScenarioLevers | Mapping[str, ScenarioLevers] | None = None,
    *,
    replications: int = 1000,
    seed: int = 0,
    horizon_months: int = 120,
    include_existing: bool = True,
    include_new: bool = True,
    as_of: pd.Timestamp | None = None,
    draw_method: str = "asymptotic",
    thresholds: StatusThresholds = StatusThresholds(),
    method: str = "engine",
    block_size: int = 64,
    chunk_size: int | None = None,
    n_bins: int = DEFAULT_BINS,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate every segment's customers and summarise the distributions.

    Parameters
    ----------
    fits
        Segment name -> fitted retention model (a
        :class:`~simcore.engine.protocols.SurvivalModel`: anything with
        ``survival_draws``). Replication ``r`` uses parameter draw ``r`` of each fit.
    customers
        The customer book's table (canonical columns, ``segment`` when there are
        several segments).
    economics, dynamics, levers
        One value for every segment or a mapping by segment name (optionally with a
        ``"default"`` entry). ``dynamics`` ``None`` = constant MRR; ``levers``
        ``None`` = baseline scenario.
    replications, seed, horizon_months
        Monte Carlo settings; ``horizon_months`` is both the projection window and the
        horizon over which each customer is valued.
    include_existing, include_new
        Simulate the existing base and/or the new cohorts.
    as_of
        Projection start; defaults to the latest date in the book. Anchors the
        baseline acquisition volume.
    draw_method
        How fits draw parameters (``"asymptotic"`` or ``"bootstrap"``).
    thresholds
        Status rules (see :class:`StatusThresholds`).
    method
        ``"engine"`` (numba) or ``"reference"`` (slow NumPy, for checking).
    block_size, chunk_size, n_bins
        Replications per kernel call, existing customers per kernel call, histogram
        bins; none of them changes the results (bins only their resolution).
    progress
        ``None``, or called as ``progress(done, total)`` after each block of
        replications of each segment: customer-lifetimes (customers x replications,
        existing and new) simulated so far and in the whole book, so a caller can show
        progress and estimate the time left from the rate so far. ``total`` is fixed
        for the call (0 for an empty book) and the last call has ``done == total``. It
        never changes results.

    Returns
    -------
    SimulationResult
        ``segment_summary`` columns: ``segment, population, customers`` (per
        replication), ``ltv_mean, ltv_mean_standard_error, ltv_p5, ltv_p50, ltv_p95``
        (per customer, discounted), ``unit_profit_mean/p5/p50/p95``,
        ``p_unit_profit_negative``, ``cac, onboarding_cost, ltv_to_cac``,
        ``payback_months_p50`` (inf when most never pay back),
        ``p_payback_within_12_months``, ``p_payback_within_24_months``,
        ``total_value_mean/p5/p50/p95`` (segment total across replications: remaining
        value of the existing base; profit of new cohorts discounted to ``as_of``),
        ``status``.
    """
    problems = []
    if not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        problems.append(Problem(f"seed must be a non-negative integer, got {seed!r}",
                                "use e.g. 42", field="simulation.seed"))
    if not isinstance(replications, (int, np.integer)) or replications < 1:
        problems.append(Problem(f"replications must be a positive integer, got {replications!r}",
                                "use e.g. 1000", field="simulation.replications"))
    if not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        problems.append(Problem(f"horizon_months must be a positive integer, got "
                                f"{horizon_months!r}", "use e.g. 120", field="horizon_months"))
    if problems:
        raise ConfigError(problems)
    book = compile_book(fits, customers, economics, dynamics=dynamics, levers=levers,
                        replications=int(replications), seed=int(seed),
                        horizon_months=int(horizon_months), include_existing=include_existing,
                        include_new=include_new, as_of=as_of, draw_method=draw_method)
    return simulate_compiled(book, method=method, thresholds=thresholds, block_size=block_size,
                             chunk_size=chunk_size, n_bins=n_bins, progress=progress)
