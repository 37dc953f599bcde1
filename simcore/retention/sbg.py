"""Shifted-beta-geometric (sBG) retention model of Fader & Hardie: closed forms.

The sBG family is fitted like every other family (:mod:`simcore.retention.grid_fit`; its
survival function and gradient are in :mod:`simcore.retention.families`); this module
holds its log-likelihood and the closed-form DEL and DERL, which the tests use as
references.

Each customer churns at the end of every period with a constant probability ``theta``;
``theta`` varies across customers as Beta(alpha, beta). For the lifetime ``T`` (number of
periods paid, ``T >= 1``):

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta),   t = 1, 2, ...
    S(t)     = P(T > t) = B(alpha, beta + t) / B(alpha, beta)

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). "How to project customer retention."
Journal of Interactive Marketing 21(1), 76-90.
Fader, P. S. and Hardie, B. G. S. (2010). "Customer-base valuation in a contractual
setting: the perils of ignoring heterogeneity." Marketing Science 29(1), 85-93.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def sbg_log_likelihood(alpha: float, beta: float, durations, events, weights=None) -> float:
    """sBG log-likelihood of (possibly aggregated) survival data.

    A churn at ``t`` contributes ``log P(T = t) = log B(alpha + 1, beta + t - 1) - log
    B(alpha, beta)``; a customer still active after ``t`` periods contributes
    ``log S(t) = log B(alpha, beta + t) - log B(alpha, beta)``.

    Parameters
    ----------
    alpha, beta
        Beta-distribution parameters (> 0).
    durations
        Periods paid (churned: ``T``; active: completed periods, ``T > duration``), shape (n,).
    events
        1 if churned, 0 if still active, shape (n,).
    weights
        Number of customers per row (frequency weights); ones when omitted.
    """
    t = np.asarray(durations, dtype=float)
    churned = np.asarray(events).astype(bool)
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float)
    x = np.where(churned, alpha + 1.0, alpha)
    y = np.where(churned, beta + t - 1.0, beta + t)
    return float(np.sum(w * special.betaln(x, y)) - w.sum() * special.betaln(alpha, beta))


def sbg_discounted_expected_lifetime(alpha: float, beta: float, discount_rate_per_period: float) -> float:
    """DEL of Fader & Hardie (2010): ``2F1(1, beta; alpha + beta; 1/(1+d))``.

    ``DEL = sum_{t>=0} S(t) / (1 + d)^t``: expected number of discounted payments of a new
    customer who pays at the start of every period while active (the first payment is
    certain and undiscounted).
    """
    delta = 1.0 / (1.0 + discount_rate_per_period)
    return float(special.hyp2f1(1.0, beta, alpha + beta, delta))


def sbg_discounted_expected_residual_lifetime(
    alpha: float, beta: float, discount_rate_per_period: float, renewals: int
) -> float:
    """DERL of Fader & Hardie (2010) for a customer who has made ``renewals = n - 1``
    renewals, valued just before the next renewal decision:

        DERL = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1/(1+d))
             = sum_{t>=n} S(t) / S(n - 1) / (1 + d)^(t - n)

    The payment at the upcoming renewal is undiscounted but uncertain. This timing
    reproduces their Table 3 (alpha = 3.80, beta = 15.20, d = 10%: 3.31, 3.45, 3.59, 3.72,
    3.84 for n = 1..5).
    """
    n = renewals + 1
    delta = 1.0 / (1.0 + discount_rate_per_period)
    return float(
        (beta + n - 1) / (alpha + beta + n - 1) * special.hyp2f1(1.0, beta + n, alpha + beta + n, delta)
    )
