"""Bootstrap of a parametric fit on aggregated counts: many refits at once.

A bootstrap resample of a book of ``N`` customers is a multinomial draw of the row counts
(:func:`simcore.retention.counts.resample_counts`), so a refit costs the same for ten
customers or ten million. The refits of all resamples are run together: one batched
quasi-Newton (BFGS) search on the unconstrained parameters, started at the point estimate,
every likelihood, gradient and Hessian evaluated for all resamples in one array
operation (:class:`simcore.retention.likelihood.GridLikelihood`). This is numerical code
of this package (scipy minimises one vector at a time, which would make 200 refits 200
separate searches); the tests check that it lands where ``scipy.optimize.minimize``
lands on each resample.

The pool
    A fit's bootstrap is a fixed pool of :data:`BOOTSTRAP_REFITS` refits, resampled with
    the fixed seed :data:`BOOTSTRAP_SEED`: like the point estimate it is a property of
    the fit, computed once, saved with it, and identical after reloading. A caller's seed
    then picks which pool members its draws use (see
    :meth:`simcore.retention.records.ParametricFit.survival_draws`); more draws than
    refits reuse the pool in shuffled cycles, so 1,000 replications use every refit five
    times. That keeps a bootstrap run's cost independent of the number of replications.

On a flat ridge
    Where the likelihood is flat along some direction (the generalized gamma on Telco
    Month-to-month, flat in lambda from about 6 to infinity), each refit stops once its
    steps stop gaining likelihood, so refits stay near where they started along the
    ridge. The pool then describes what the data determine (the curve: S(120) between
    0.004 and 0.064 there) and not the unidentified parameter; its percentile interval
    for such a parameter is not a confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.retention.counts import SurvivalCounts, readonly, resample_counts
from simcore.retention.families import FamilySpec
from simcore.retention.likelihood import GridLikelihood

#: Refits in a fit's bootstrap pool.
BOOTSTRAP_REFITS = 200
#: Seed of the pool's resamples (the pool is part of the fit, so its seed is fixed).
BOOTSTRAP_SEED = 20_240_917
#: Search iterations before a refit counts as failed.
MAX_SEARCH_ITERATIONS = 200
#: A search that gains less than this (log-likelihood units) in each of three steps in a
#: row has stalled on a flat ridge and stops: moving the likelihood-ratio statistic by
#: 2e-4 is immaterial next to the sampling spread the bootstrap measures.
STALL_TOLERANCE = 1e-4
#: Longest move of one unconstrained parameter in one search step.
MAX_STEP = 2.0
#: A refit whose unconstrained parameters pass this has run off to a boundary of the
#: parameter space (the resample does not identify the family) and counts as failed.
RUN_OFF = 30.0
#: A refit has converged when the log-likelihood still to gain (the Newton decrement) is
#: below this, in log-likelihood units.
DECREMENT_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class BootstrapPool:
    """Maximum-likelihood refits on bootstrap resamples of a fit's counts.

    Attributes
    ----------
    params : ndarray, shape (n_converged, p)
        Natural parameters of the refits that converged, in resample order.
    n_resamples : int
        Resamples drawn.
    seed : int
        Seed of the resamples.
    """

    params: np.ndarray
    n_resamples: int
    seed: int

    @property
    def n_failed(self) -> int:
        return self.n_resamples - len(self.params)


def maximise_batched(objective: GridLikelihood, z0: np.ndarray, counts: np.ndarray | None = None,
                     *, information: np.ndarray | None = None,
                     max_iterations: int = MAX_SEARCH_ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Maximise ``objective`` from each row of ``z0`` at once (batched BFGS).

    Parameters
    ----------
    objective : GridLikelihood
    z0 : ndarray, shape (n, p)
        Unconstrained start points.
    counts : ndarray, shape (n, rows), optional
        Customer counts per row of the data for each search (default: the data's own).
    information : ndarray, shape (p, p), optional
        Observed information at the point estimate: its inverse is every search's first
        inverse-Hessian estimate (resamples of one book have nearly the same
        information), refined by BFGS updates from the gradients along the way. Without
        it, each search starts from its own finite-difference Hessian.

    Returns
    -------
    z : ndarray, shape (n, p)
        The maxima.
    converged : ndarray of bool, shape (n,)
        Whether the Newton decrement ``g' B g / 2`` (``B`` the inverse-Hessian estimate;
        the log-likelihood still to gain) fell below :data:`DECREMENT_TOLERANCE`, or three
        steps in a row each gained less than :data:`STALL_TOLERANCE`.

    Notes
    -----
    Each step goes along ``d = B g``, shortened so that no parameter moves by more than
    :data:`MAX_STEP`, and is halved until the log-likelihood does not fall; ``B`` gets the BFGS update (Nocedal & Wright 2006, eq. 6.17) whenever the
    curvature condition holds, so it stays positive definite and every direction climbs.
    """
    z = np.array(z0, dtype=float, copy=True)
    n, p = z.shape
    counts = np.broadcast_to(objective.data.counts, (n, len(objective.data.counts))) if counts is None \
        else np.asarray(counts, dtype=float)
    value = objective.values(z, counts)
    gradient = objective.gradient(z, counts)
    inverse = np.empty((n, p, p))
    if information is not None and np.all(np.isfinite(information)) \
            and np.all(np.linalg.eigvalsh(information) > 0):
        inverse[:] = np.linalg.inv(information)
    else:
        inverse[:] = _inverse_positive_definite(-objective.hessian(z, counts))
    converged = np.zeros(n, dtype=bool)
    failed = ~(np.isfinite(value) & np.all(np.isfinite(gradient), axis=1))
    stalled = np.zeros(n, dtype=np.int64)
    identity = np.eye(p)
    for _ in range(max_iterations):
        rows = np.flatnonzero(~converged & ~failed)
        if rows.size == 0:
            break
        direction = np.einsum("rpq,rq->rp", inverse[rows], gradient[rows])
        decrement = 0.5 * np.sum(gradient[rows] * direction, axis=1)
        bad = ~(np.all(np.isfinite(direction), axis=1) & np.isfinite(decrement)) \
            | np.any(np.abs(z[rows]) > RUN_OFF, axis=1)
        failed[rows[bad]] = True
        done = ~bad & (decrement < DECREMENT_TOLERANCE)
        converged[rows[done]] = True
        moving = ~bad & ~done
        rows, direction = rows[moving], direction[moving]
        # a step moves no parameter by more than MAX_STEP on the unconstrained scale (a
        # factor e^2 for a positive parameter): along a flat ridge the quasi-Newton step
        # is far too long, and halving it from there wastes evaluations
        step = np.minimum(1.0, MAX_STEP / np.maximum(np.abs(direction).max(axis=1), 1e-300))
        pending = np.ones(len(rows), dtype=bool)
        before = value[rows].copy()
        for _ in range(40):
            if not pending.any():
                break
            trial = z[rows[pending]] + step[pending, None] * direction[pending]
            trial_value = objective.values(trial, counts[rows[pending]])
            accept = trial_value >= value[rows[pending]]
            accepted = np.flatnonzero(pending)[accept]
            z[rows[accepted]] = trial[accept]
            value[rows[accepted]] = trial_value[accept]
            pending[accepted] = False
            step[pending] *= 0.5
        # no step gains anything: the point is a maximum to rounding
        converged[rows[pending]] = True
        # on a flat ridge the decrement (measured with a near-singular curvature) stays
        # large while the search creeps along the ridge: three steps in a row each gaining
        # less than STALL_TOLERANCE end it there
        stalled[rows] = np.where(value[rows] - before < STALL_TOLERANCE, stalled[rows] + 1, 0)
        converged[rows[stalled[rows] >= 3]] = True
        rows, step = rows[~pending], step[~pending, None] * direction[~pending]
        if rows.size == 0:
            continue
        new_gradient = objective.gradient(z[rows], counts[rows])
        # BFGS on f = -log L: s = step, y = grad f(new) - grad f(old) = g_old - g_new
        change = gradient[rows] - new_gradient
        curvature = np.sum(step * change, axis=1)
        gradient[rows] = new_gradient
        update = curvature > 1e-12 * np.linalg.norm(step, axis=1) * np.linalg.norm(change, axis=1)
        rows, s, y, rho = rows[update], step[update], change[update], 1.0 / curvature[update]
        left = identity[None] - rho[:, None, None] * np.einsum("rp,rq->rpq", s, y)
        inverse[rows] = (np.einsum("rpq,rqk,rlk->rpl", left, inverse[rows], left)
                         + rho[:, None, None] * np.einsum("rp,rq->rpq", s, s))
    return z, converged & ~failed


def _inverse_positive_definite(matrices: np.ndarray) -> np.ndarray:
    """Inverses of symmetric ``matrices`` (n, p, p) with eigenvalues floored at ``1e-10``
    of the largest, so that every direction they give climbs."""
    eigenvalues, vectors = np.linalg.eigh(matrices)
    floor = 1e-10 * np.maximum(np.abs(eigenvalues).max(axis=1, keepdims=True), 1e-300)
    eigenvalues = np.maximum(eigenvalues, floor)
    return np.einsum("rpk,rk,rqk->rpq", vectors, 1.0 / eigenvalues, vectors)


def bootstrap_pool(spec: FamilySpec, data: SurvivalCounts, point: np.ndarray, *,
                   information: np.ndarray | None = None, n_resamples: int = BOOTSTRAP_REFITS,
                   seed: int = BOOTSTRAP_SEED) -> BootstrapPool:
    """Refit ``spec`` on ``n_resamples`` multinomial resamples of ``data``.

    Parameters
    ----------
    spec : FamilySpec
    data : SurvivalCounts
    point : ndarray, shape (p,)
        The fit's natural parameters (every search starts there).
    information : ndarray, shape (p, p), optional
        The fit's observed information (unconstrained scale): the searches' first Newton
        matrix.
    n_resamples, seed : int

    Returns
    -------
    BootstrapPool
        Refits that did not converge, or ran off to a boundary of the parameter space
        (an unconstrained value beyond :data:`RUN_OFF`), are left out and counted in
        ``n_failed``.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    counts = resample_counts(data, rng, n_resamples)
    objective = GridLikelihood(spec, data)
    z0 = np.repeat(spec.to_unconstrained(np.asarray(point, dtype=float))[None, :], n_resamples, axis=0)
    with np.errstate(all="ignore"):
        z, converged = maximise_batched(objective, z0, counts, information=information)
    kept = converged & np.all(np.isfinite(z), axis=1) & np.all(np.abs(z) <= RUN_OFF, axis=1)
    return BootstrapPool(readonly(spec.to_natural(z[kept])), int(n_resamples), int(seed))
