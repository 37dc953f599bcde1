"""Survival data collapsed to unique (tenure, churned) rows with customer counts.

Every fit in :mod:`simcore.retention` works on these counts, so its cost does not grow with
the number of customers: a segment of ten million customers observed over five years has
at most a few hundred distinct ``(tenure, churned)`` rows. Multinomial resampling of the
counts (:func:`resample_counts`) is the bootstrap of a book of customers, again without
touching the customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.errors import DataError, FitError, Problem


def readonly(array) -> np.ndarray:
    """A read-only copy of ``array`` (fit records are immutable, their arrays too)."""
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class SurvivalCounts:
    """Survival data collapsed to unique (duration, event) rows.

    Attributes
    ----------
    durations : ndarray of int64, shape (k,)
        Tenure in whole months, sorted.
    events : ndarray of int8, shape (k,)
        1 = churned at that tenure, 0 = still active (censored).
    counts : ndarray of float64, shape (k,)
        Number of customers (or summed frequency weights) per row, all > 0.
    """

    durations: np.ndarray
    events: np.ndarray
    counts: np.ndarray

    @property
    def n_customers(self) -> float:
        return float(self.counts.sum())

    @property
    def n_events(self) -> float:
        return float(self.counts[self.events == 1].sum())

    @property
    def max_observed_tenure(self) -> int:
        return int(self.durations.max()) if len(self.durations) else 0

    def risk_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Customers at risk and churned at months 1..max_observed_tenure.

        ``at_risk[t-1]`` counts customers with duration >= t, ``churned[t-1]`` those who
        churned at exactly t. Both have shape (max_observed_tenure,).
        """
        m = self.max_observed_tenure
        by_duration = np.bincount(self.durations, weights=self.counts, minlength=m + 1)
        churned = np.bincount(
            self.durations, weights=self.counts * (self.events == 1), minlength=m + 1
        )
        at_risk = np.cumsum(by_duration[::-1])[::-1]
        return at_risk[1:], churned[1:]

    def reweighted(self, counts: np.ndarray) -> "SurvivalCounts":
        """The same rows with other customer counts (rows with count 0 dropped)."""
        counts = np.asarray(counts, dtype=float)
        keep = counts > 0
        return SurvivalCounts(readonly(self.durations[keep]), readonly(self.events[keep]), readonly(counts[keep]))


def aggregate_survival(durations, events, weights=None, *, source: str | None = None) -> SurvivalCounts:
    """Validate survival data and collapse it to unique (duration, event) rows with counts.

    Parameters
    ----------
    durations : array-like, shape (n,)
        Tenure in whole months: lifetime ``T >= 1`` for churned customers, completed months
        for active ones (``T > duration``).
    events : array-like of bool or {0, 1}, shape (n,)
        1 if the customer churned.
    weights : array-like, shape (n,), optional
        Frequency weights (customer counts per row), >= 0.
    source : str, optional
        Name of the input, used in error messages.

    Returns
    -------
    SurvivalCounts
        Active customers with duration 0 (no information) and rows of zero weight dropped.

    Raises
    ------
    DataError
        Lengths differ, durations are negative, non-integer or missing, events are not 0/1,
        weights are negative, or a churn happens at duration 0.
    FitError
        Nothing is left to fit.
    """
    d = np.asarray(durations)
    e = np.asarray(events)
    problems: list[Problem] = []
    if d.ndim != 1 or e.shape != d.shape:
        raise DataError(Problem(
            f"durations and events must be one-dimensional of equal length, got shapes {d.shape} and {e.shape}",
            "pass one duration and one event flag per customer", source=source,
        ))
    w = np.ones(d.shape, dtype=float) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != d.shape:
        problems.append(Problem(
            f"weights have shape {w.shape} but durations have {d.shape}",
            "pass one weight per row", source=source, field="weights",
        ))
        raise DataError(problems)
    d_float = d.astype(float, copy=False)
    bad = ~np.isfinite(d_float) | (d_float < 0) | (d_float != np.floor(d_float))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        problems.append(Problem(
            f"{int(bad.sum())} durations are not whole non-negative months (first at position {first}: {d[first]!r})",
            "durations are tenure in whole months since signup", source=source, field="durations",
        ))
    e_float = e.astype(float, copy=False)
    bad_e = ~np.isin(e_float, (0.0, 1.0))
    if bad_e.any():
        first = int(np.flatnonzero(bad_e)[0])
        problems.append(Problem(
            f"{int(bad_e.sum())} event flags are not 0/1 (first at position {first}: {e[first]!r})",
            "events must be 1 (churned) or 0 (still active)", source=source, field="events",
        ))
    bad_w = ~np.isfinite(w) | (w < 0)
    if bad_w.any():
        problems.append(Problem(
            f"{int(bad_w.sum())} weights are negative or not finite",
            "weights are customer counts, >= 0", source=source, field="weights",
        ))
    if problems:
        raise DataError(problems)
    d_int = d_float.astype(np.int64)
    e_int = e_float.astype(np.int64)
    churn_at_zero = (d_int == 0) & (e_int == 1) & (w > 0)
    if churn_at_zero.any():
        raise DataError(Problem(
            f"{int(churn_at_zero.sum())} customers churned at tenure 0",
            "a churned customer paid at least one month, so its tenure is >= 1", source=source,
            field="durations",
        ))
    key = d_int * 2 + e_int
    if key.size and key.max() < 50_000_000:
        summed = np.bincount(key, weights=w)
        unique_keys = np.flatnonzero(summed)
        counts = summed[unique_keys]
    else:
        unique_keys, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse, weights=w)
    durations_u = unique_keys // 2
    events_u = (unique_keys % 2).astype(np.int8)
    keep = (counts > 0) & (durations_u > 0)
    if not keep.any():
        raise FitError(Problem(
            "no customer with a positive tenure to fit",
            "check the tenure and churn columns of the segment", source=source,
        ))
    return SurvivalCounts(
        readonly(durations_u[keep].astype(np.int64)),
        readonly(events_u[keep]),
        readonly(counts[keep].astype(float)),
    )


def resample_counts(data: SurvivalCounts, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """Bootstrap resamples of the customers, as counts per row of ``data``.

    Drawing ``N`` customers with replacement from a book of ``N`` customers is the same
    as drawing the row counts from a multinomial with ``N`` trials and probabilities
    ``counts / N``; rows keep their ``(duration, event)``.

    Parameters
    ----------
    data : SurvivalCounts
        The aggregated book; ``N`` is its customer count rounded to a whole number.
    rng : numpy.random.Generator
    n_resamples : int

    Returns
    -------
    ndarray of float64, shape (n_resamples, len(data.counts))
        Customers per row in each resample (rows may be 0).
    """
    counts = data.counts
    total = int(round(counts.sum()))
    return rng.multinomial(total, counts / counts.sum(), size=n_resamples).astype(float)
