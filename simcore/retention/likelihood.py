"""The monthly-grid (interval) log-likelihood of a family on aggregated counts.

Churn is only known to the month: a customer who churned at tenure ``t`` left in
``(t - 1, t]`` and one still active after ``t`` months has ``T > t``. The likelihood of
the data as observed on the monthly grid is therefore

    log L = sum_churned w log(S(t-1) - S(t)) + sum_active w log S(t),

the sBG likelihood itself, and lifelines' ``fit_interval_censoring`` on the intervals
``(t-1, t]`` and ``(t, inf)`` for the continuous families (``S(inf) = 0`` for them). For
the cure model an active customer contributes ``S(t)``, which includes the cured
fraction. Families with densities and families with probabilities are comparable on it,
so model choice ranks on it too.

No continuous (density) likelihood is offered. simcore's data are monthly by
construction, this is the exact likelihood of what is observed, and the density
alternative is unbounded for flexible families when many customers churn in month 1 (the
generalized gamma runs to a spike at t = 1). The cure model, the one family that used to
need it, is scored correctly here: an active customer contributes ``S(t)``, cured
fraction included.

Written here (numerical code of this package, tested against lifelines): the likelihood
and its gradient for many parameter vectors at once, and many resampled count vectors at
once (the bootstrap). The gradient is analytic through each family's ``dS/dz`` where the
registry has one, else central finite differences evaluated in one batched call. The
observed information at a point estimate uses ``scipy.differentiate``.
"""

from __future__ import annotations

import numpy as np

from simcore.retention.counts import SurvivalCounts
from simcore.retention.families import FamilySpec, survival_on_grid

#: Probabilities are floored here before the log, so a parameter vector that gives some
#: observed outcome probability 0 scores very badly instead of -inf.
PROBABILITY_FLOOR = 1e-300
#: Relative step of the central finite-difference gradient (unconstrained scale).
GRADIENT_STEP = 1e-6


class GridLikelihood:
    """Batched monthly-grid log-likelihood of one family on one book's rows.

    Parameters
    ----------
    spec : FamilySpec
    data : SurvivalCounts
        Rows (duration, event) and their customer counts; other count vectors on the same
        rows (bootstrap resamples) can be passed to every method.
    """

    def __init__(self, spec: FamilySpec, data: SurvivalCounts):
        self.spec = spec
        self.data = data
        self.months = np.arange(data.max_observed_tenure + 1, dtype=float)
        self.now = data.durations.astype(np.int64)
        self.before = np.maximum(self.now - 1, 0)
        self.churned = data.events == 1

    # ------------------------------------------------------------------ probabilities
    def _probabilities(self, curves: np.ndarray) -> np.ndarray:
        """P(observed outcome) per row, shape (draws, rows), from S on months 0..m."""
        at_now = curves[:, self.now]
        return np.where(self.churned[None, :], curves[:, self.before] - at_now, at_now)

    def _weights(self, counts) -> np.ndarray:
        return self.data.counts[None, :] if counts is None else np.atleast_2d(counts)

    def values(self, z, counts=None) -> np.ndarray:
        """log L at unconstrained parameter rows ``z`` (draws, p), shape (draws,).

        ``counts`` (rows,) or (draws, rows) replaces the book's counts (row by row when 2-D).
        """
        z = np.atleast_2d(z)
        curves = survival_on_grid(self.spec, self.spec.to_natural(z), self.months)
        prob = np.maximum(self._probabilities(curves), PROBABILITY_FLOOR)
        return np.sum(self._weights(counts) * np.log(prob), axis=1)

    def gradient(self, z, counts=None) -> np.ndarray:
        """d log L / dz at rows ``z`` (draws, p), shape (draws, p)."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        if self.spec.survival_gradient is None:
            return self._finite_difference_gradient(z, counts)
        natural = self.spec.to_natural(z)
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            s, ds = self.spec.survival_gradient(natural, self.months, self.spec.options)
        s = np.where(self.months[None, :] <= 0, 1.0, s)
        ds = np.where(self.months[None, :, None] <= 0, 0.0, ds)
        at_now, d_now = s[:, self.now], ds[:, self.now, :]
        prob = np.where(self.churned[None, :], s[:, self.before] - at_now, at_now)
        d_prob = np.where(self.churned[None, :, None], ds[:, self.before, :] - d_now, d_now)
        # a floored probability contributes a constant, so no gradient
        live = prob > PROBABILITY_FLOOR
        scale = np.where(live, self._weights(counts) / np.where(live, prob, 1.0), 0.0)
        return np.nan_to_num(np.sum(scale[:, :, None] * d_prob, axis=1))

    def _finite_difference_gradient(self, z: np.ndarray, counts) -> np.ndarray:
        draws, p = z.shape
        step = GRADIENT_STEP * np.maximum(1.0, np.abs(z))
        shifted = np.repeat(z[:, None, :], 2 * p, axis=1)
        for j in range(p):
            shifted[:, 2 * j, j] += step[:, j]
            shifted[:, 2 * j + 1, j] -= step[:, j]
        weights = self._weights(counts)
        if weights.shape[0] > 1:
            weights = np.repeat(weights, 2 * p, axis=0)
        values = self.values(shifted.reshape(draws * 2 * p, p), weights).reshape(draws, p, 2)
        return (values[:, :, 0] - values[:, :, 1]) / (2.0 * step)

    def hessian(self, z, counts=None) -> np.ndarray:
        """Second derivatives of log L at rows ``z``, shape (draws, p, p), by central
        differences of :meth:`gradient` (for Newton steps; the covariance of a point
        estimate uses :meth:`observed_information`)."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        draws, p = z.shape
        step = 1e-4 * np.maximum(1.0, np.abs(z))
        shifted = np.repeat(z[:, None, :], 2 * p, axis=1)
        for j in range(p):
            shifted[:, 2 * j, j] += step[:, j]
            shifted[:, 2 * j + 1, j] -= step[:, j]
        weights = self._weights(counts)
        if weights.shape[0] > 1:
            weights = np.repeat(weights, 2 * p, axis=0)
        grads = self.gradient(shifted.reshape(draws * 2 * p, p), weights).reshape(draws, p, 2, p)
        out = (grads[:, :, 0, :] - grads[:, :, 1, :]) / (2.0 * step[:, :, None])
        return 0.5 * (out + np.swapaxes(out, 1, 2))

    def observed_information(self, z) -> np.ndarray:
        """Minus the Hessian of log L at one point ``z`` (p,), shape (p, p).

        ``scipy.differentiate`` (adaptive central differences with Richardson
        extrapolation): of the analytic gradient where the family has one, else of the
        log-likelihood itself.
        """
        from scipy import differentiate

        z = np.asarray(z, dtype=float)
        p = len(z)

        def batched_gradient(x):
            flat = np.moveaxis(x, 0, -1).reshape(-1, p)
            return np.moveaxis(self.gradient(flat).reshape(*x.shape[1:], p), -1, 0)

        def batched_values(x):
            flat = np.moveaxis(x, 0, -1).reshape(-1, p)
            return self.values(flat).reshape(x.shape[1:])

        with np.errstate(all="ignore"):
            if self.spec.survival_gradient is not None:
                hessian = differentiate.jacobian(batched_gradient, z, initial_step=0.05, order=8, maxiter=4).df
            else:
                # four rounds of step refinement: on flat likelihoods more rounds chase
                # rounding noise for hundreds of milliseconds without settling
                hessian = differentiate.hessian(batched_values, z, initial_step=0.05, order=8, maxiter=4).ddf
        return -0.5 * (hessian + hessian.T)
