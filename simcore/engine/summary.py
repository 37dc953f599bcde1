"""Tidy results from the accumulators: per-segment summaries, customer quantiles, projections.

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

Two kinds of interval, named apart
-----------------------------------
*Estimates* — the expected LTV, unit profit and LTV:CAC per customer, and the segment
totals — come with a 90% interval across replications (``*_mean_lower_90``,
``*_mean_upper_90``, ``total_value_lower_90/upper_90``): each replication draws the
retention parameters (and, with model averaging, the family), so the interval carries
parameter and model uncertainty and the noise of a finite book. ``*_mean_mc_error`` is
the Monte Carlo standard error of the mean at replication level (customers of one
replication share a parameter draw and are not independent).

*Spread across customers* — ``ltv_customer_p5/p50/p95`` and
``unit_profit_customer_p5/p50/p95`` — pools every customer of every replication: how
different customers fare, not how sure the estimate is.

The status follows the expected unit profit and its interval
(:mod:`simcore.economics.status`). With several segments an ``"(all segments)"`` row per
population shows the blended numbers a single average would report.

With expansion and contraction, each customer's value in the per-customer
distributions is its value on a simulated MRR path (exactly the walked model's
distribution), while segment totals and monthly projections use the exact expected
MRR path given each customer's lifetime: their means are the walked model's, and
their spread across replications (the estimates' intervals) leaves out the events'
own aggregate noise (see
:mod:`simcore.engine.kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from simcore.economics.status import ESTIMATE_INTERVAL, NO_CUSTOMERS, StatusRule
from simcore.engine.accumulators import (
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
from simcore.engine.compiled import CompiledBook, CompiledSegment

TOTAL_SEGMENT = "(all segments)"
_PROJECTION_QUANTILES = (0.1, 0.5, 0.9)
_CUSTOMER_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


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


def _interval(values: np.ndarray) -> tuple[float, float]:
    """The 90% interval of an expected value: P5 and P95 of its replication values."""
    tail = (1.0 - ESTIMATE_INTERVAL) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def _estimate(prefix: str, per_replication: np.ndarray, pooled_mean: float, shift: float = 0.0,
              scale: float = 1.0) -> dict[str, float]:
    """``<prefix>_mean`` (pooled over customers and replications), its 90% interval across
    replications and its Monte Carlo standard error (replication level: customers of one
    replication share a parameter draw, so they are not independent)."""
    low, high = _interval(per_replication)
    spread = float(np.std(per_replication, ddof=1)) if per_replication.size > 1 else float("nan")
    return {f"{prefix}_mean": (pooled_mean - shift) / scale,
            f"{prefix}_mean_lower_90": (low - shift) / scale,
            f"{prefix}_mean_upper_90": (high - shift) / scale,
            f"{prefix}_mean_mc_error": spread / np.sqrt(per_replication.size) / scale}


def _new_customer_columns(cac: float, onboarding: float, per_replication: np.ndarray, mean: float,
                          payback: np.ndarray, horizon: int) -> dict[str, float]:
    """CAC, LTV:CAC with its interval and payback of a new-customer row (a segment's or
    the blended one): ``payback`` counts new customers by the month they repay in
    (index ``horizon``: never)."""
    paid_share = np.cumsum(payback.astype(np.float64)) / payback.sum()
    median_index = int(np.searchsorted(paid_share, 0.5, side="left"))
    columns = {"cac": cac, "onboarding_cost": onboarding}
    if cac > 0:
        ratio = _estimate("ltv_to_cac", per_replication, mean, scale=cac)
        columns.update({"ltv_to_cac": ratio["ltv_to_cac_mean"], "ltv_to_cac_lower_90": ratio["ltv_to_cac_mean_lower_90"],
                        "ltv_to_cac_upper_90": ratio["ltv_to_cac_mean_upper_90"]})
    else:
        columns.update({"ltv_to_cac": np.nan, "ltv_to_cac_lower_90": np.nan, "ltv_to_cac_upper_90": np.nan})
    columns.update({"payback_months_p50": float(median_index) if median_index <= horizon else np.inf,
                    "p_payback_within_12_months": float(paid_share[min(12, horizon)]),
                    "p_payback_within_24_months": float(paid_share[min(24, horizon)])})
    return columns


#: The new-customer columns of an existing-customer row (CAC is set apart: sunk, reported).
_NOT_NEW = {"onboarding_cost": np.nan, "ltv_to_cac": np.nan, "ltv_to_cac_lower_90": np.nan,
            "ltv_to_cac_upper_90": np.nan, "payback_months_p50": np.nan,
            "p_payback_within_12_months": np.nan, "p_payback_within_24_months": np.nan}


def _population_row(segment: CompiledSegment, acc: SegmentAccumulators, population: int,
                    rule: StatusRule, acquisition_cost_given: bool = True) -> dict[str, Any]:
    offset = EXISTING_COUNT if population == EXISTING else NEW_COUNT
    totals = acc.totals
    customers = totals[:, offset]
    pooled_customers = customers.sum()
    H = segment.horizon_months
    row: dict[str, Any] = {"segment": segment.name, "population": POPULATIONS[population],
                           "customers": float(customers.mean()) if customers.size else 0.0}
    if pooled_customers <= 0:
        row["status"] = NO_CUSTOMERS
        return row
    mean = totals[:, offset + 1].sum() / pooled_customers
    with np.errstate(invalid="ignore", divide="ignore"):
        per_replication = np.where(customers > 0, totals[:, offset + 1] / np.where(customers > 0, customers, 1), np.nan)
    per_replication = per_replication[np.isfinite(per_replication)]
    observed_min = float(totals[:, EXISTING_MIN if population == EXISTING else NEW_MIN].min())
    observed_max = float(totals[:, EXISTING_MAX if population == EXISTING else NEW_MAX].max())
    bounds = acc.bounds[population]
    counts = acc.histogram[population]
    ltv = histogram_quantiles(counts, bounds, observed_min, observed_max, (0.05, 0.5, 0.95))
    acquisition = segment.new_acquisition_cost if population == NEW else 0.0
    loss = histogram_fraction_below(counts, bounds, observed_min, observed_max, acquisition)
    row.update(_estimate("ltv", per_replication, mean))
    row.update({"ltv_customer_p5": ltv[0], "ltv_customer_p50": ltv[1], "ltv_customer_p95": ltv[2]})
    row.update(_estimate("unit_profit", per_replication, mean, shift=acquisition))
    row.update({"unit_profit_customer_p5": ltv[0] - acquisition, "unit_profit_customer_p50": ltv[1] - acquisition,
                "unit_profit_customer_p95": ltv[2] - acquisition, "p_unit_profit_negative": loss})
    if population == NEW:
        row.update(_new_customer_columns(segment.new_cac, segment.new_onboarding_cost, per_replication, mean,
                                         acc.payback, H))
        if not acquisition_cost_given:
            # Without an acquisition cost there is nothing to pay back.
            row.update({"payback_months_p50": np.nan, "p_payback_within_12_months": np.nan,
                        "p_payback_within_24_months": np.nan})
        segment_total = totals[:, NEW_PROFIT_AT_START]
    else:
        row.update({"cac": float(np.mean(segment.customer_cac)) if segment.customer_cac.size else np.nan,
                    **_NOT_NEW})
        segment_total = totals[:, offset + 1]
    row.update(_estimate("total_value", segment_total, float(segment_total.mean())))
    row["status"] = rule.status(row["unit_profit_mean"], row["unit_profit_mean_lower_90"],
                                row["unit_profit_mean_upper_90"], loss,
                                acquisition_cost_given or population == EXISTING)
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


def _mixture_quantiles(parts: list, weights: np.ndarray, quantiles) -> list[float]:
    """Quantiles of the pooled per-customer distribution of several segments: the
    mixture of their histograms, weighted by customers, solved by bisection."""
    low = min(p[2] for p in parts)
    high = max(p[3] for p in parts)
    weights = weights / weights.sum()

    def below(x: float) -> float:
        return float(sum(w * histogram_fraction_below(*part, x) for w, part in zip(weights, parts)))

    out = []
    for q in quantiles:
        a, b = low, high
        for _ in range(80):
            middle = 0.5 * (a + b)
            if below(middle) < q:
                a = middle
            else:
                b = middle
        out.append(0.5 * (a + b))
    return out


def _blended_row(book: CompiledBook, accumulators: Mapping[str, SegmentAccumulators], population: int,
                 rule: StatusRule, cost_given: Mapping[str, bool]) -> dict[str, Any]:
    """Every segment as one: the blended number a single average would report, shown next
    to the segments so its optimism (or pessimism) is visible."""
    offset = EXISTING_COUNT if population == EXISTING else NEW_COUNT
    low_col = EXISTING_MIN if population == EXISTING else NEW_MIN
    high_col = EXISTING_MAX if population == EXISTING else NEW_MAX
    counts = np.zeros(book.replications)
    sums = np.zeros(book.replications)
    profits = np.zeros(book.replications)
    totals = np.zeros(book.replications)
    weights, parts, losses, paybacks, cac_paid, acquisition_paid = [], [], [], [], 0.0, 0.0
    given = True
    for segment in book.segments:
        acc = accumulators[segment.name]
        n = acc.totals[:, offset]
        if n.sum() <= 0:
            continue
        acquisition = segment.new_acquisition_cost if population == NEW else 0.0
        counts += n
        sums += acc.totals[:, offset + 1]
        profits += acc.totals[:, offset + 1] - n * acquisition
        totals += acc.totals[:, NEW_PROFIT_AT_START] if population == NEW else acc.totals[:, offset + 1]
        part = (acc.histogram[population], acc.bounds[population], float(acc.totals[:, low_col].min()),
                float(acc.totals[:, high_col].max()))
        parts.append(part)
        weights.append(n.sum())
        losses.append(histogram_fraction_below(*part, acquisition))
        if population == NEW:
            paybacks.append(acc.payback)
            cac_paid += n.sum() * segment.new_cac
            acquisition_paid += n.sum() * acquisition
            given = given and cost_given.get(segment.name, True)
    row: dict[str, Any] = {"segment": TOTAL_SEGMENT, "population": POPULATIONS[population],
                           "customers": float(counts.mean())}
    if counts.sum() <= 0:
        row["status"] = NO_CUSTOMERS
        return row
    weights = np.asarray(weights, dtype=np.float64)
    pooled = weights.sum()
    acquisition = acquisition_paid / pooled
    mean = sums.sum() / counts.sum()
    per_replication = (sums / np.where(counts > 0, counts, 1))[counts > 0]
    profit_per_replication = (profits / np.where(counts > 0, counts, 1))[counts > 0]
    ltv = _mixture_quantiles(parts, weights, (0.05, 0.5, 0.95))
    loss = float(np.dot(weights, losses) / pooled)
    row.update(_estimate("ltv", per_replication, mean))
    row.update({"ltv_customer_p5": ltv[0], "ltv_customer_p50": ltv[1], "ltv_customer_p95": ltv[2]})
    row.update(_estimate("unit_profit", profit_per_replication, mean - acquisition))
    # Customer quantiles of unit profit would need the joint distribution of value and
    # acquisition cost across segments; the blended row reports the estimate only.
    row.update({"unit_profit_customer_p5": np.nan, "unit_profit_customer_p50": np.nan,
                "unit_profit_customer_p95": np.nan, "p_unit_profit_negative": loss})
    if population == NEW:
        cac = cac_paid / pooled
        row.update(_new_customer_columns(cac, acquisition - cac, per_replication, mean, np.sum(paybacks, axis=0),
                                         book.horizon_months))
    else:
        row.update({"cac": np.nan, **_NOT_NEW})
    row.update(_estimate("total_value", totals, float(totals.mean())))
    row["status"] = rule.status(row["unit_profit_mean"], row["unit_profit_mean_lower_90"],
                                row["unit_profit_mean_upper_90"], loss, given or population == EXISTING)
    return row


def summarise(book: CompiledBook, accumulators: Mapping[str, SegmentAccumulators], *,
              thresholds: StatusRule = StatusRule(), method: str = "engine",
              acquisition_cost_given: Mapping[str, bool] | None = None) -> SimulationResult:
    """Build the tidy :class:`SimulationResult` from per-segment accumulators.

    ``acquisition_cost_given`` maps a segment to whether its CAC or onboarding cost was
    given at all (default: yes); new customers of a segment without one get the status
    ``"no CAC given"``.
    """
    given = dict(acquisition_cost_given or {})
    summary_rows, quantile_rows, projection_frames, total_frames = [], [], [], []
    H = book.horizon_months
    portfolio = None
    for segment in book.segments:
        acc = accumulators[segment.name]
        for population in (EXISTING, NEW):
            summary_rows.append(_population_row(segment, acc, population, thresholds,
                                                given.get(segment.name, True)))
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
        for population in (EXISTING, NEW):
            summary_rows.append(_blended_row(book, accumulators, population, thresholds, given))
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
