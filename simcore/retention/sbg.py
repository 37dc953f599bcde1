"""Shifted-beta-geometric (sBG) retention model of Fader & Hardie.

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
from scipy import optimize, special

from simcore.errors import FitError, Problem


def _log_likelihood_terms(log_ab: np.ndarray, durations, events, weights):
    """Log-likelihood, gradient and Hessian on (log alpha, log beta), analytic.

    Uses d/dx log B(x, y) = psi(x) - psi(x + y) and the trigamma function for second
    derivatives, then the chain rule to the log scale.
    """
    a, b = np.exp(log_ab)
    t = durations
    ev = events.astype(bool)
    # Each observation contributes log B(x, y) - log B(a, b) with (x, y) = (a + 1, b + t - 1)
    # for a churn at t and (a, b + t) for a customer still active after t.
    x = np.where(ev, a + 1.0, a)
    y = np.where(ev, b + t - 1.0, b + t)
    w = weights
    total = w.sum()
    ll = float(np.sum(w * special.betaln(x, y)) - total * special.betaln(a, b))

    psi_xy = special.digamma(x + y)
    grad_a = np.sum(w * (special.digamma(x) - psi_xy)) - total * (special.digamma(a) - special.digamma(a + b))
    grad_b = np.sum(w * (special.digamma(y) - psi_xy)) - total * (special.digamma(b) - special.digamma(a + b))

    tri_xy = special.polygamma(1, x + y)
    tri_ab = special.polygamma(1, a + b)
    h_aa = np.sum(w * (special.polygamma(1, x) - tri_xy)) - total * (special.polygamma(1, a) - tri_ab)
    h_bb = np.sum(w * (special.polygamma(1, y) - tri_xy)) - total * (special.polygamma(1, b) - tri_ab)
    h_ab = -np.sum(w * tri_xy) + total * tri_ab

    gradient = np.array([a * grad_a, b * grad_b])
    hessian = np.array(
        [[a * a * h_aa + a * grad_a, a * b * h_ab], [a * b * h_ab, b * b * h_bb + b * grad_b]]
    )
    return ll, gradient, hessian


def sbg_log_likelihood(alpha: float, beta: float, durations, events, weights=None) -> float:
    """sBG log-likelihood of (possibly aggregated) survival data.

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
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events)
    weights = np.ones_like(durations) if weights is None else np.asarray(weights, dtype=float)
    ll, _, _ = _log_likelihood_terms(np.log([alpha, beta]), durations, events, weights)
    return ll


def fit_sbg(durations, events, weights) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood sBG fit on (log alpha, log beta).

    Returns
    -------
    params : ndarray, shape (2,)
        (alpha, beta), natural scale.
    covariance : ndarray, shape (2, 2)
        Inverse of the observed information (minus the analytic Hessian of the
        log-likelihood) on (log alpha, log beta).
    log_likelihood : float
    """
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events)
    weights = np.asarray(weights, dtype=float)

    def negative(z):
        ll, g, h = _log_likelihood_terms(z, durations, events, weights)
        return -ll, -g, -h

    cache: dict = {}

    def value(z):
        cache["last"] = (tuple(z), negative(z))
        return cache["last"][1][0]

    def gradient(z):
        return negative(z)[1]

    def hessian(z):
        return negative(z)[2]

    with np.errstate(over="ignore", invalid="ignore"):
        try:
            result = optimize.minimize(
                value, x0=np.zeros(2), jac=gradient, hess=hessian, method="trust-exact",
                options={"gtol": 1e-9, "maxiter": 500},
            )
        except ValueError:  # the Hessian overflowed: the parameters ran off (e.g. all churn at once)
            result = optimize.OptimizeResult(x=np.full(2, np.inf))
    if not np.all(np.isfinite(result.x)) or np.max(np.abs(result.x)) > 30:
        raise FitError(
            Problem(
                "the shifted-beta-geometric fit did not converge (parameters ran off to "
                f"alpha={np.exp(result.x[0]):.3g}, beta={np.exp(result.x[1]):.3g})",
                "this happens when churn shows no heterogeneity or no churn at all; use another family",
                field="retention.family",
            )
        )
    ll, _, h = _log_likelihood_terms(result.x, durations, events, weights)
    information = -h
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        covariance = np.linalg.pinv(information)
    return np.exp(result.x), covariance, ll


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
