"""Metrics of a sweep point, per replication, straight from the accumulators.

Every metric is computed for each replication, so two sweep points simulated with the
same seed (common random numbers) give paired values whose differences carry the
lever's effect and little noise. Definitions (money discounted to the projection start
unless said otherwise; ``c`` = projection month, 0 = the first month after ``as_of``):

``total_value``
    Existing customers' remaining value plus new customers' profit (value minus CAC and
    onboarding, discounted from their acquisition month), summed over the segment(s);
    ``population`` existing / new / all (default all).
``ltv`` / ``unit_profit``
    Per customer of the population (default new): value; value minus the mean
    acquisition cost (existing customers: unit profit = value).
``ltv_to_cac``
    New customers' mean value / their mean CAC.
``payback_months``
    The median (interpolated within a month) of new customers' payback months in the
    replication; ``H + 1`` when the median is not reached within the horizon.
``mrr``, ``active_customers``, ``contribution`` at ``month``
    The projection's monthly totals (expected MRR path given the lifetimes).
``cumulative_cash`` at ``month``
    Contribution less acquisition spend, summed over months ``0..month``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.config.sensitivity import ALL_SEGMENTS, METRICS, MetricSpec
from simcore.engine.accumulators import (
    EXISTING,
    EXISTING_COUNT,
    EXISTING_SUM,
    NEW,
    NEW_COUNT,
    NEW_PROFIT_AT_START,
    NEW_SUM,
)

_MONTHLY = {"active_customers": 0, "mrr": 1, "contribution": 2}
_DEFAULT_POPULATION = {"total_value": "all", "ltv": "new", "unit_profit": "new", "ltv_to_cac": "new",
                       "payback_months": "new", "mrr": "all", "active_customers": "all", "contribution": "all",
                       "cumulative_cash": "all"}


@dataclass(frozen=True)
class Metric:
    """A validated :class:`~simcore.config.sensitivity.MetricSpec` that can be evaluated."""

    name: str
    segment: str
    population: str
    month: int | None

    @classmethod
    def of(cls, spec: MetricSpec) -> "Metric":
        return cls(spec.metric, spec.segment, spec.population or _DEFAULT_POPULATION[spec.metric], spec.month)

    @property
    def unit(self) -> str:
        return METRICS[self.name][0]

    @property
    def is_money(self) -> bool:
        return self.unit.startswith("money")

    @property
    def key(self) -> str:
        """A short identifier for file names and table rows."""
        parts = [self.name]
        if self.month is not None:
            parts.append(f"m{self.month}")
        if self.segment != ALL_SEGMENTS:
            parts.append(self.segment)
        if self.population != _DEFAULT_POPULATION[self.name]:
            parts.append(self.population)
        return "_".join(parts)

    @property
    def label(self) -> str:
        """In words: ``total value (all segments, all customers)``."""
        name = self.name.replace("_", " ").replace("ltv to cac", "LTV:CAC").replace("ltv", "LTV").replace(
            "mrr", "MRR")
        when = f" in month {self.month}" if self.name in _MONTHLY else (
            f" to month {self.month}" if self.month is not None else "")
        segment = "all segments" if self.segment == ALL_SEGMENTS else self.segment
        return f"{name}{when} ({segment}, {self.population} customers)"

    def values(self, book, accumulators: dict) -> np.ndarray:
        """(R,) float64: the metric in each replication of a simulated book."""
        segments = [s for s in book.segments if self.segment in (ALL_SEGMENTS, s.name)]
        if not segments:
            raise KeyError(self.segment)
        parts = [(segment, accumulators[segment.name]) for segment in segments]
        return _VALUES[self.name](self, parts, book)


def _populations(metric: Metric) -> tuple[int, ...]:
    return {"existing": (EXISTING,), "new": (NEW,), "all": (EXISTING, NEW)}[metric.population]


def _total_value(metric, parts, book):
    total = np.zeros(book.replications)
    for _, acc in parts:
        if EXISTING in _populations(metric):
            total += acc.totals[:, EXISTING_SUM]
        if NEW in _populations(metric):
            total += acc.totals[:, NEW_PROFIT_AT_START]
    return total


def _per_customer(metric, parts, book, profit: bool):
    value, customers, acquisition = (np.zeros(book.replications) for _ in range(3))
    for segment, acc in parts:
        if EXISTING in _populations(metric):
            value += acc.totals[:, EXISTING_SUM]
            customers += acc.totals[:, EXISTING_COUNT]
        if NEW in _populations(metric):
            value += acc.totals[:, NEW_SUM]
            customers += acc.totals[:, NEW_COUNT]
            acquisition += acc.totals[:, NEW_COUNT] * segment.new_acquisition_cost
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((value - acquisition) if profit else value) / customers


def _ltv_to_cac(metric, parts, book):
    value, cac = np.zeros(book.replications), np.zeros(book.replications)
    for segment, acc in parts:
        value += acc.totals[:, NEW_SUM]
        cac += acc.totals[:, NEW_COUNT] * segment.new_cac
    with np.errstate(invalid="ignore", divide="ignore"):
        return value / cac


def _payback(metric, parts, book):
    counts = sum(acc.payback_by_replication.astype(np.float64) for _, acc in parts)
    return median_months(counts)


def median_months(counts: np.ndarray) -> np.ndarray:
    """Per row of ``(R, H + 2)`` counts by payback month (``H + 1`` = never): the month at
    which half the customers have paid back, interpolated linearly within the month
    (``H + 1`` when half never do within the horizon)."""
    total = counts.sum(axis=1, keepdims=True)
    share = np.cumsum(counts, axis=1) / np.where(total > 0, total, 1.0)
    out = np.empty(counts.shape[0])
    last = counts.shape[1] - 1
    for r, row in enumerate(share):
        month = int(np.searchsorted(row, 0.5, side="left"))
        if total[r, 0] <= 0:
            out[r] = np.nan
        elif month >= last:
            out[r] = float(last)
        else:
            below = row[month - 1] if month > 0 else 0.0
            inside = row[month] - below
            out[r] = month - 1 + (0.5 - below) / inside if inside > 0 else float(month)
    return np.maximum(out, 0.0)


def _monthly(metric, parts, book):
    index = _MONTHLY[metric.name]
    return sum(acc.monthly[:, population, index, metric.month]
               for _, acc in parts for population in _populations(metric))


def _cumulative_cash(metric, parts, book):
    total = np.zeros(book.replications)
    upto = metric.month + 1
    for _, acc in parts:
        for population in _populations(metric):
            total += acc.monthly[:, population, 2, :upto].sum(axis=1)
        if NEW in _populations(metric):
            total -= acc.acquisition_spend[:upto].sum()
    return total


_VALUES = {
    "total_value": _total_value,
    "ltv": lambda m, p, b: _per_customer(m, p, b, profit=False),
    "unit_profit": lambda m, p, b: _per_customer(m, p, b, profit=True),
    "ltv_to_cac": _ltv_to_cac,
    "payback_months": _payback,
    "mrr": _monthly,
    "active_customers": _monthly,
    "contribution": _monthly,
    "cumulative_cash": _cumulative_cash,
}


def monthly_paths(book, accumulators: dict) -> dict[str, np.ndarray]:
    """Every segment together, all customers: ``{"mrr", "active_customers",
    "cumulative_cash"}`` -> (R, H) per replication (for fan charts)."""
    H = book.horizon_months
    out = {"mrr": np.zeros((book.replications, H)), "active_customers": np.zeros((book.replications, H)),
           "cumulative_cash": np.zeros((book.replications, H))}
    for segment in book.segments:
        acc = accumulators[segment.name]
        out["active_customers"] += acc.monthly[:, :, 0].sum(axis=1)
        out["mrr"] += acc.monthly[:, :, 1].sum(axis=1)
        out["cumulative_cash"] += acc.monthly[:, :, 2].sum(axis=1) - acc.acquisition_spend[None, :]
    out["cumulative_cash"] = np.cumsum(out["cumulative_cash"], axis=1)
    return out
