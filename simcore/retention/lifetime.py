"""Discounted expected (residual) lifetimes of Fader & Hardie (2010) for any fitted family.

Timing (simcore's convention, DESIGN.md §4): a customer pays at the start of every period
while active, so period ``t`` counts with weight ``S(t)`` and ``S(0) = 1``; with
``delta = 1 / (1 + d)`` for a discount rate ``d`` per period (one period = one month for
simcore fits; the grid step of the fit in general):

* DEL (new customer): ``sum_{t>=0} delta^t S(t)``.
* DERL (Fader & Hardie 2010) for a customer who has made ``n - 1`` renewals (paid ``n``
  periods, ``T > n - 1``), valued just *before* the next renewal decision:
  ``sum_{t>=n} delta^(t-n) S(t) / S(n-1)``. The upcoming payment is undiscounted but
  uncertain. This is the timing that reproduces their Table 3.
* :func:`residual_value_at_tenure`: a customer active at tenure ``a`` (``T > a``) who is
  about to pay period ``a``: ``sum_{k>=0} delta^k S(a+k) / S(a) = 1 + delta * DERL(n=a+1)``.
  This is what the engine's conditional curve ``S(a+t)/S(a)`` sums to.

Sums are truncated at the first ``N`` where the remaining tail is provably below
``tolerance``: because ``S`` is non-increasing, ``sum_{t>N} delta^t S(t) / S(start)``
is at most ``delta^(N+1) S(N) / S(start) / (1 - delta)``.

For sBG, :mod:`simcore.retention.sbg` has the closed forms with the Gauss hypergeometric
function; the tests check that both agree.
"""

from __future__ import annotations

import numpy as np

from simcore.errors import FitError, Problem

#: Default absolute truncation tolerance of the sums (in periods).
DEFAULT_TOLERANCE = 1e-10
#: Largest number of periods summed before giving up.
MAX_PERIODS = 1_000_000


def _discounted_sum(fit, start: int, discount_rate_per_period: float, tolerance: float) -> float:
    """``sum_{t>=start} delta^(t-start) S(t)`` with the documented truncation."""
    if not discount_rate_per_period > 0:
        raise FitError(Problem(
            f"discount rate {discount_rate_per_period!r} per period must be > 0 for a lifetime sum",
            "undiscounted expected lifetimes may be infinite; pass a positive rate",
            field="discount_rate",
        ))
    delta = 1.0 / (1.0 + discount_rate_per_period)
    total = 0.0
    block = 512
    offset = 0
    while offset < MAX_PERIODS:
        t = np.arange(start + offset, start + offset + block)
        s = fit.survival(t)
        weights = delta ** (t - start)
        total += float(np.sum(weights * s))
        bound = weights[-1] * delta * s[-1] / (1.0 - delta)
        if bound < tolerance:
            return total
        offset += block
        block = min(block * 2, 65536)
    raise FitError(Problem(
        f"lifetime sum did not converge within {MAX_PERIODS} periods", field="discount_rate"
    ))


def discounted_expected_lifetime(fit, discount_rate_per_period: float, *, tolerance: float = DEFAULT_TOLERANCE) -> float:
    """DEL = ``sum_{t>=0} S(t) / (1 + d)^t`` for a new customer (Fader & Hardie 2010).

    Parameters
    ----------
    fit : RetentionFit
    discount_rate_per_period : float
        ``d`` per grid period (a month for simcore fits); > 0.
    tolerance : float
        Absolute bound on the truncated tail, in periods.
    """
    return _discounted_sum(fit, 0, discount_rate_per_period, tolerance)


def discounted_expected_residual_lifetime(
    fit, renewals: int, discount_rate_per_period: float, *, tolerance: float = DEFAULT_TOLERANCE
) -> float:
    """DERL of Fader & Hardie (2010): ``sum_{t>=n} S(t)/S(n-1) / (1+d)^(t-n)``, ``n = renewals + 1``.

    The customer has made ``renewals`` renewals and is valued just before the next renewal
    decision (see the module notes for the timing).
    """
    n = int(renewals) + 1
    s_before = float(fit.survival([n - 1])[0])
    if s_before <= 0:
        raise FitError(Problem(f"the fitted survival is 0 after {n - 1} periods", field="renewals"))
    return _discounted_sum(fit, n, discount_rate_per_period, tolerance * s_before) / s_before


def residual_value_at_tenure(
    fit, tenure: int, discount_rate_per_period: float, *, tolerance: float = DEFAULT_TOLERANCE
) -> float:
    """``sum_{k>=0} S(a+k)/S(a) / (1+d)^k`` for a customer active at tenure ``a`` (``T > a``).

    Expected discounted number of payments still to come, counting the one due now.
    """
    s_now = float(fit.survival([tenure])[0])
    if s_now <= 0:
        raise FitError(Problem(f"the fitted survival is 0 at tenure {tenure}", field="tenure"))
    return _discounted_sum(fit, int(tenure), discount_rate_per_period, tolerance * s_now) / s_now
