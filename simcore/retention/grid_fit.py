"""Maximum likelihood of a parametric family on the monthly grid, with scipy.

Every parametric family is fitted the same way (its registry entry supplies what
differs):

1. every start point of the family (:mod:`simcore.retention.start`) is climbed at once
   by the batched quasi-Newton search of :mod:`simcore.retention.bootstrap`, on the
   unconstrained parameters (the family's transforms: log for positive parameters,
   logit for fractions), with the analytic gradient of the monthly-grid log-likelihood
   (:mod:`simcore.retention.likelihood`) where the registry has one and batched central
   differences otherwise; the best end point wins;
2. ``scipy.optimize.minimize`` (BFGS) refines it, and Newton steps on a
   finite-difference Hessian polish it (BFGS stops where its gradient test is met, a
   little short of the maximum on flat likelihoods);
3. the covariance of the unconstrained parameters is the inverse observed information
   (``scipy.differentiate``) at the maximum, and :mod:`simcore.retention.conditioning`
   judges whether asymptotic draws from it are usable.

lifelines is the reference in the tests: on aggregated counts and on lifelines' Rossi
data its ``fit_interval_censoring`` reaches the same estimates (tolerances stated in
``tests/test_retention_lifelines.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy import optimize

from simcore.errors import FitError, Problem
from simcore.retention.bootstrap import maximise_batched
from simcore.retention.conditioning import assess
from simcore.retention.counts import SurvivalCounts
from simcore.retention.families import FamilySpec, family_spec
from simcore.retention.likelihood import GridLikelihood
from simcore.retention.names import LOGIT
from simcore.retention.records import ParametricFit, readonly_fields

#: An unconstrained estimate beyond this has run off to a boundary of the parameter space.
RUN_OFF = 30.0
#: A fraction's unconstrained estimate beyond this (1e-6 from 0 or 1) sits on its bound.
FRACTION_BOUND = 13.8


@dataclass(frozen=True)
class Maximum:
    """Where the search ended: unconstrained estimate, log-likelihood, observed information."""

    z: np.ndarray
    log_likelihood: float
    information: np.ndarray


def _refine(objective: GridLikelihood, z0: np.ndarray) -> tuple[np.ndarray, float]:
    """``scipy.optimize.minimize`` (BFGS) from ``z0`` on minus the mean log-likelihood."""
    n = objective.data.n_customers

    def negative_mean(z):
        return -float(objective.values(z[None, :])[0]) / n

    def negative_mean_gradient(z):
        return -objective.gradient(z[None, :])[0] / n

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # BFGS warns when its line search cannot improve on a point that is already a
        # maximum to rounding; the polish and the checks below judge the result instead
        warnings.simplefilter("ignore", RuntimeWarning)
        result = optimize.minimize(negative_mean, z0, jac=negative_mean_gradient, method="BFGS",
                                   options={"gtol": 1e-10, "maxiter": 2000})
    z = np.asarray(result.x, dtype=float)
    return z, float(objective.values(z[None, :])[0])


def _polish(objective: GridLikelihood, z: np.ndarray, value: float) -> tuple[np.ndarray, float]:
    """Newton steps (finite-difference Hessian of the gradient) while they gain likelihood."""
    for _ in range(5):
        gradient = objective.gradient(z[None, :])[0]
        information = -objective.hessian(z[None, :])[0]
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or not np.all(np.linalg.eigvalsh(information) > 0):
            break
        trial = z + step
        trial_value = float(objective.values(trial[None, :])[0])
        if not trial_value > value:
            break
        gain = trial_value - value
        z, value = trial, trial_value
        if gain < 1e-10:
            break
    return z, value


def maximise(spec: FamilySpec, data: SurvivalCounts) -> Maximum:
    """The maximum-likelihood estimate of ``spec`` on ``data`` (unconstrained scale).

    All start points of the family are climbed at once first (the batched BFGS of
    :mod:`simcore.retention.bootstrap`), then scipy's BFGS refines the best and Newton
    steps polish it.

    Raises
    ------
    FitError
        No start point reached a finite likelihood, or the estimate ran off to a
        boundary of the parameter space (the family degenerates on these data).
    """
    objective = GridLikelihood(spec, data)
    starts = [spec.to_unconstrained(np.asarray(x, dtype=float)) for x in spec.start_points(data, spec.options)]
    starts = np.array([z for z in starts if np.all(np.isfinite(z))])
    if len(starts):
        with np.errstate(all="ignore"):
            climbed, _ = maximise_batched(objective, starts, max_iterations=100)
            values = objective.values(climbed)
    if not len(starts) or not np.any(np.isfinite(values)):
        raise FitError(Problem(
            f"the {spec.name} fit found no parameters with a finite likelihood",
            "choose another family or check that the segment has enough churn events",
            field="retention.family",
        ))
    best = climbed[int(np.nanargmax(np.where(np.isfinite(values), values, -np.inf)))]
    _check_run_off(spec, best)
    z, value = _refine(objective, best)
    z, value = _polish(objective, z, value)
    _check_run_off(spec, z)
    return Maximum(z, value, objective.observed_information(z))


def _check_run_off(spec: FamilySpec, z: np.ndarray) -> None:
    natural = spec.to_natural(z)
    for name, kind, value, x in zip(spec.param_names, spec.transforms, z, natural):
        if kind == LOGIT and abs(value) > FRACTION_BOUND:
            raise FitError(Problem(
                f"the {spec.name} fit put {name.rstrip('_')} on its bound ({x:.2g}), so the model "
                "reduces to a simpler family and its uncertainty is undefined",
                "use the weibull family for this segment" if spec.name == "cure_weibull"
                else "choose another family", field="retention.family",
            ))
        if abs(value) > RUN_OFF:
            shown = ", ".join(f"{n}={v:.3g}" for n, v in zip(spec.param_names, natural))
            raise FitError(Problem(
                f"the {spec.name} fit did not converge: its parameters ran off to {shown}",
                "this happens when the data carry no information on part of the model (for sBG: "
                "churn shows no heterogeneity); choose another family",
                field="retention.family",
            ))


def _degeneracy_warnings(spec: FamilySpec, params: np.ndarray) -> list[Problem]:
    if spec.name == "sbg" and params.sum() > 1e4:
        # alpha, beta -> infinity with alpha / (alpha + beta) fixed is the homogeneous
        # geometric model; the likelihood is flat along that ridge
        return [Problem(
            f"sbg fit shows no heterogeneity in churn (alpha + beta = {params.sum():.3g}): it reduces "
            "to a constant monthly churn probability",
            "prefer the exponential family for this segment", severity="warning", field="retention.family",
        )]
    return []


def _record(spec: FamilySpec, data: SurvivalCounts, z: np.ndarray, log_likelihood: float,
            information: np.ndarray) -> ParametricFit:
    objective = GridLikelihood(spec, data)
    covariance, conditioning = assess(spec, objective, z, information, log_likelihood)
    params = spec.to_natural(z)
    return ParametricFit(
        family=spec.name,
        **readonly_fields(params=params, covariance=covariance, information=information),
        log_likelihood=float(log_likelihood),
        data=data,
        options=MappingProxyType(dict(spec.options)),
        conditioning=conditioning,
        warnings=tuple(_degeneracy_warnings(spec, params)),
    )


def fit_parametric(family: str, data: SurvivalCounts, options: dict | None = None) -> ParametricFit:
    """Maximum-likelihood fit of a parametric ``family`` on aggregated ``data``.

    Parameters
    ----------
    family : str
        One of :data:`simcore.retention.names.PARAMETRIC_FAMILIES`.
    data : SurvivalCounts
    options : dict, optional
        ``breakpoints`` (sorted months inside the observed window) for the piecewise family.

    Raises
    ------
    FitError
        No churn events, or the search failed (see :func:`maximise`).
    """
    spec = family_spec(family, options)
    if data.n_events <= 0:
        raise FitError(Problem(
            f"no churn events: a {family} curve cannot be estimated",
            "merge this segment with another one or wait for more history", field="retention.family",
        ))
    maximum = maximise(spec, data)
    return _record(spec, data, maximum.z, maximum.log_likelihood, maximum.information)


def fit_at(family: str, params, data: SurvivalCounts, options: dict | None = None) -> ParametricFit:
    """The record of ``family`` at given natural ``params`` (no search): likelihood,
    information and conditioning evaluated there. For closed-form checks and what-if
    curves."""
    spec = family_spec(family, options)
    z = spec.to_unconstrained(np.asarray(params, dtype=float))
    objective = GridLikelihood(spec, data)
    return _record(spec, data, z, float(objective.values(z[None, :])[0]), objective.observed_information(z))
