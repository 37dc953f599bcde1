"""Start points of the maximum-likelihood search, one rule per family.

A good start matters more than the optimiser: on heterogeneous monthly churn a default
start sends flexible families to degenerate corners (lifelines' default start for the
generalized gamma runs to lambda near -1400 on such data). Each rule returns one or more
natural-scale parameter vectors; :mod:`simcore.retention.grid_fit` optimises from each
and keeps the highest likelihood.

Most rules read the Kaplan-Meier curve of the counts: each two-parameter family is a
straight line in log t after a transform of S (Weibull ``log(-log S) = rho log t -
rho log lambda``; log-normal ``Phi^-1(1 - S) = (log t - mu) / sigma``; log-logistic
``log((1 - S) / S) = beta log t - beta log alpha``), so a least-squares line gives its
parameters.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from simcore.errors import FitError, Problem
from simcore.retention.counts import SurvivalCounts


def kaplan_meier_curve(data: SurvivalCounts) -> np.ndarray:
    """Product-limit S(1..max_observed_tenure) of the counts, shape (max_observed_tenure,)."""
    at_risk, churned = data.risk_table()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.cumprod(1.0 - np.where(at_risk > 0, churned / at_risk, 0.0))


def _line(data: SurvivalCounts, transform) -> tuple[float, float] | None:
    """Slope and intercept of ``transform(S_KM(t))`` against ``log t``, or None."""
    curve = kaplan_meier_curve(data)
    months = np.arange(1, len(curve) + 1, dtype=float)
    usable = (curve > 1e-3) & (curve < 1 - 1e-3)
    if usable.sum() < 2:
        return None
    slope, intercept = np.polyfit(np.log(months[usable]), transform(curve[usable]), 1)
    if not (np.isfinite(slope) and slope > 0):
        return None
    return float(slope), float(intercept)


def _mean_exposure_per_churn(data: SurvivalCounts) -> float:
    """Months at risk per churn: the exponential maximum of continuous data."""
    return max(float(np.sum(data.counts * data.durations)) / max(data.n_events, 1e-12), 1.0)


def exponential(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    return [np.array([_mean_exposure_per_churn(data)])]


def weibull(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    line = _line(data, lambda s: np.log(-np.log(s)))
    fallback = np.array([_mean_exposure_per_churn(data), 1.0])
    if line is None:
        return [fallback]
    slope, intercept = line
    return [np.array([np.exp(-intercept / slope), slope]), fallback]


def lognormal(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    line = _line(data, lambda s: special.ndtri(1 - s))
    fallback = np.array([np.log(_mean_exposure_per_churn(data)), 1.0])
    if line is None:
        return [fallback]
    slope, intercept = line
    return [np.array([-intercept / slope, 1.0 / slope]), fallback]


def loglogistic(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    line = _line(data, lambda s: np.log((1 - s) / s))
    fallback = np.array([_mean_exposure_per_churn(data), 1.0])
    if line is None:
        return [fallback]
    slope, intercept = line
    return [np.array([np.exp(-intercept / slope), slope]), fallback]


def generalized_gamma(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    """From the two families it nests: the Weibull (lambda = 1: scale e^mu, shape
    1 / sigma) and, near lambda = 0, the log-normal; the search keeps the better end."""
    starts = []
    for scale, shape in weibull(data, options):
        starts.append(np.array([np.log(scale), -np.log(shape), 1.0]))
    mu, sigma = lognormal(data, options)[0]
    starts.append(np.array([mu, np.log(sigma), 0.1]))
    return starts


def piecewise_exponential(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    """Closed-form maximum of continuous data: lambda_i = exposure_i / churns_i.

    Raises
    ------
    FitError
        A piece has no churn, so its hazard cannot be estimated.
    """
    edges = np.concatenate([[0.0], options["breakpoints"], [np.inf]])
    d = data.durations.astype(float)
    exposure = (np.clip(d[:, None] - edges[None, :-1], 0.0, np.diff(edges)[None, :])
                * data.counts[:, None]).sum(axis=0)
    piece = np.clip(np.searchsorted(edges, d, side="left") - 1, 0, len(edges) - 2)
    churns = np.bincount(piece, weights=data.counts * (data.events == 1), minlength=len(edges) - 1)
    if np.any(churns <= 0):
        empty = int(np.flatnonzero(churns <= 0)[0])
        raise FitError(Problem(
            f"no churn between {edges[empty]:g} and {edges[empty + 1]:g} months, so that "
            "piece's hazard cannot be estimated",
            "remove or move that breakpoint", field="retention.breakpoints_months",
        ))
    return [exposure / churns]


def cure_weibull(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    """Cured fraction a little under the Kaplan-Meier curve's last value (the share never
    seen to churn), the rest from the Weibull line; and a small cured fraction."""
    last = float(kaplan_meier_curve(data)[-1])
    starts = []
    for cured in (float(np.clip(0.8 * last, 0.02, 0.9)), 0.02):
        for scale, shape in weibull(data, options)[:1]:
            starts.append(np.array([cured, scale, shape]))
    return starts


def sbg(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    """alpha = beta = 1 (uniform churn probabilities), and the mean first-month churn
    ``alpha / (alpha + beta)`` with ``alpha + beta = 2``."""
    curve = kaplan_meier_curve(data)
    first = float(np.clip(1.0 - curve[0], 0.01, 0.99)) if len(curve) else 0.5
    return [np.array([1.0, 1.0]), np.array([2.0 * first, 2.0 * (1.0 - first)])]


def two_class_geometric(data: SurvivalCounts, options: dict) -> list[np.ndarray]:
    """From the Kaplan-Meier curve's tail: a straight line in ``log S`` over the last
    third of the window gives the loyal class's churn (slope) and share (intercept); the
    first month's churn then gives the other class's extra churn. And a generic start
    (a third loyal at 1% a month, the rest 10% a month churnier)."""
    curve = kaplan_meier_curve(data)
    starts = []
    months = np.arange(1, len(curve) + 1, dtype=float)
    tail = (months >= 2.0 * len(curve) / 3.0) & (curve > 1e-3)
    if tail.sum() >= 2:
        slope, intercept = np.polyfit(months[tail], np.log(curve[tail]), 1)
        churn = float(np.clip(-np.expm1(slope), 1e-3, 0.5))
        share = float(np.clip(np.exp(intercept), 0.02, 0.98))
        first = float(np.clip(1.0 - curve[0], 1e-3, 0.99))
        # 1 - S(1) = p + (1 - w)(1 - p) q
        extra = float(np.clip((first - churn) / ((1.0 - share) * (1.0 - churn)), 0.01, 0.95))
        starts.append(np.array([churn, share, extra]))
    starts.append(np.array([0.01, 1.0 / 3.0, 0.1]))
    return starts
