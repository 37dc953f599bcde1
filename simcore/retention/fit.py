"""Fitting one survival family to (durations, events, weights): the :class:`RetentionFit` record.

Data are first collapsed to unique ``(duration, event)`` rows with customer counts
(:func:`aggregate_survival`), so the cost of a fit does not grow with the number of
customers. lifelines treats ``weights`` as frequency weights for its parametric
fitters (the log-likelihood and its Hessian are sums over rows times weights), so
point estimates *and* standard errors equal those of a fit on one row per customer; the
tests check this on lifelines' Rossi data set.

Monthly data and the likelihood of continuous families
    Churn is only known to the month: a customer who churned at tenure ``t`` left in
    ``(t - 1, t]``. By default (``likelihood="interval"``) the lifelines families are fitted
    with lifelines' interval censoring on exactly those intervals (active customers:
    ``(t, inf)``), so the objective is the likelihood of the data as observed on the
    monthly grid, ``sum_churned log(S(t-1) - S(t)) + sum_active log S(t)`` — the sBG
    likelihood itself. ``likelihood="continuous"`` uses lifelines' ordinary right-censored
    fit (a density at each churn month) instead; with many churns tied at month 1 that
    likelihood can be unbounded for flexible families (the generalized gamma runs to a
    spike at t = 1), which the interval likelihood cannot.

Two log-likelihoods are kept on every parametric fit:

* ``fit_log_likelihood``: the objective that was maximised, equal to lifelines'
  ``log_likelihood_`` for its families.
* ``log_likelihood`` (and ``aic``, ``bic`` derived from it): the monthly-grid likelihood
  above, evaluated at the estimate. It equals ``fit_log_likelihood`` for interval fits and
  sBG, and makes every family comparable (densities are not comparable with
  probabilities). Model choice ranks families on it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from simcore.errors import DataError, FitError, Problem
from simcore.retention.families import (
    ALL_FAMILIES,
    DEFAULT_BREAKPOINTS,
    KAPLAN_MEIER,
    LIFELINES_FAMILIES,
    PARAMETRIC_FAMILIES,
    FamilySpec,
    family_spec,
    survival_on_grid,
)

#: How lifelines families treat monthly data (see module notes).
LIKELIHOODS = ("interval", "continuous")
#: Horizon (months) searched for the median lifetime before reporting it as infinite.
MEDIAN_SEARCH_MONTHS = 1200
_Z95 = 1.959963984540054


def _readonly(array: np.ndarray) -> np.ndarray:
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
        _readonly(durations_u[keep].astype(np.int64)),
        _readonly(events_u[keep]),
        _readonly(counts[keep].astype(float)),
    )


@dataclass(frozen=True, eq=False)
class RetentionFit:
    """An immutable fitted survival model on the monthly grid.

    Attributes
    ----------
    family : str
        One of :data:`simcore.retention.families.ALL_FAMILIES`.
    param_names : tuple of str
        Parameter names (lifelines' names for lifelines families; ``alpha``, ``beta`` for
        sBG; ``hazard_1..hazard_m`` for Kaplan-Meier).
    params : ndarray, shape (p,)
        Estimates on the natural scale.
    covariance : ndarray, shape (p, p)
        Covariance of the *unconstrained* parameters (``transforms``: log for positive
        parameters, logit for fractions, identity otherwise), used for draws.
    natural_covariance : ndarray, shape (p, p)
        Covariance on the natural scale (lifelines' ``variance_matrix_``).
    transforms : tuple of str
        Transform of each parameter to the unconstrained scale.
    log_likelihood : float
        Log-likelihood of the data on the monthly grid (see module notes).
    fit_log_likelihood : float
        The objective that was maximised (lifelines' ``log_likelihood_`` for its families).
    aic, bic : float
        ``2p - 2 log_likelihood`` and ``p log(n_customers) - 2 log_likelihood`` (NaN for
        Kaplan-Meier, which is not ranked).
    n_customers, n_events : float
        Customers and churns (sums of weights).
    max_observed_tenure : int
        Longest tenure observed, months.
    data : SurvivalCounts
        The aggregated data the model was fitted on (kept for bootstrap draws).
    options : mapping
        Family options (``breakpoints`` for piecewise exponential, ``km_tail``).
    tail : RetentionFit or None
        For Kaplan-Meier with ``km_tail``: the parametric fit used past the observed window.
    km_lower, km_upper : ndarray or None
        For Kaplan-Meier: 95% band (lifelines' exponential Greenwood) on months
        0..max_observed_tenure.
    warnings : tuple of Problem
        Warnings raised while fitting (severity ``"warning"``).
    """

    family: str
    param_names: tuple[str, ...]
    params: np.ndarray
    covariance: np.ndarray
    natural_covariance: np.ndarray
    transforms: tuple[str, ...]
    log_likelihood: float
    fit_log_likelihood: float
    aic: float
    bic: float
    n_customers: float
    n_events: float
    max_observed_tenure: int
    data: SurvivalCounts
    options: Mapping = field(default_factory=lambda: MappingProxyType({}))
    tail: "RetentionFit | None" = None
    km_lower: np.ndarray | None = None
    km_upper: np.ndarray | None = None
    warnings: tuple[Problem, ...] = ()

    # ------------------------------------------------------------------ curves
    @property
    def spec(self) -> FamilySpec | None:
        return None if self.family == KAPLAN_MEIER else family_spec(self.family, dict(self.options))

    def _km_curve(self, hazards: np.ndarray) -> np.ndarray:
        """S(0..m) from monthly hazards (rows = draws)."""
        hazards = np.atleast_2d(hazards)
        s = np.cumprod(1.0 - hazards, axis=1)
        return np.concatenate([np.ones((hazards.shape[0], 1)), s], axis=1)

    def _grid(self, natural: np.ndarray, t: np.ndarray) -> np.ndarray:
        """S at integer months ``t`` for natural parameter rows (draws, p)."""
        if self.family != KAPLAN_MEIER:
            return survival_on_grid(self.spec, natural, t, dict(self.options))
        m = self.max_observed_tenure
        inside = self._km_curve(natural)
        t_int = t.astype(np.int64)
        if t_int.max(initial=0) <= m:
            return inside[:, t_int]
        if self.tail is None:
            raise FitError(Problem(
                f"Kaplan-Meier is only defined up to the longest observed tenure ({m} months), "
                f"asked for month {int(t_int.max())}",
                "fit a parametric family, or set km_tail to a parametric family "
                "(for example km_tail='weibull') to extrapolate",
                field="retention.km_tail",
            ))
        raise AssertionError("tail draws go through survival_draws")  # pragma: no cover

    def survival(self, t) -> np.ndarray:
        """S(t) = P(T > t) at integer months ``t`` (array-like, >= 0); ``S(0) = 1``.

        Kaplan-Meier past ``max_observed_tenure`` uses the parametric ``tail`` conditioned
        on survival to ``max_observed_tenure``, or raises :class:`FitError` without one.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(t < 0) or np.any(t != np.floor(t)):
            raise FitError(Problem("survival is evaluated at whole months >= 0", field="t"))
        if self.family == KAPLAN_MEIER and t.max(initial=0) > self.max_observed_tenure:
            return self._km_with_tail(self.params[None, :], None, t)[0]
        return self._grid(self.params[None, :], t)[0]

    def _km_with_tail(self, hazards: np.ndarray, tail_natural: np.ndarray | None, t: np.ndarray) -> np.ndarray:
        m = self.max_observed_tenure
        if self.tail is None:
            return self._grid(hazards, t)  # raises the explanatory FitError
        inside = self._km_curve(hazards)
        tail_params = self.tail.params[None, :] if tail_natural is None else tail_natural
        tail_t = np.maximum(t, m)
        tail_curve = self.tail._grid(tail_params, np.concatenate([[float(m)], tail_t]))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(tail_curve[:, [0]] > 0, tail_curve[:, 1:] / tail_curve[:, [0]], 0.0)
        at_m = inside[:, [m]]
        t_int = t.astype(np.int64)
        out = np.where(t_int[None, :] <= m, inside[:, np.minimum(t_int, m)], at_m * ratio)
        return out

    def hazard(self, t) -> np.ndarray:
        """Discrete monthly hazard ``h(t) = 1 - S(t+1)/S(t)`` at integer months ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        s = self.survival(np.concatenate([t, t + 1]))
        now, nxt = s[: len(t)], s[len(t):]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(now > 0, 1.0 - nxt / now, 1.0)

    def conditional_survival(self, age: int, t) -> np.ndarray:
        """``S(age + t) / S(age)``: survival of a customer known to be active at tenure ``age``.

        Survivors of a heterogeneous cohort churn less than new customers (Fader & Hardie
        2010), which a tenure-blind curve misses.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        s = self.survival(np.concatenate([[float(age)], age + t]))
        if s[0] <= 0:
            raise FitError(Problem(f"the fitted survival is 0 at tenure {age}", field="age"))
        return s[1:] / s[0]

    @property
    def median_lifetime(self) -> float:
        """Median lifetime in months: the first month t with S(t) <= 0.5.

        ``inf`` when S stays above 0.5 for :data:`MEDIAN_SEARCH_MONTHS`; NaN for
        Kaplan-Meier without a tail whose curve stays above 0.5 in the observed window.
        """
        if self.family == KAPLAN_MEIER and self.tail is None:
            s = self.survival(np.arange(self.max_observed_tenure + 1))
            below = np.flatnonzero(s <= 0.5)
            return float(below[0]) if below.size else float("nan")
        s = self.survival(np.arange(MEDIAN_SEARCH_MONTHS + 1))
        below = np.flatnonzero(s <= 0.5)
        return float(below[0]) if below.size else float("inf")

    # ------------------------------------------------------------------ parameters
    @property
    def unconstrained_params(self) -> np.ndarray:
        if self.family == KAPLAN_MEIER:
            return self.params.copy()
        return self.spec.to_unconstrained(self.params)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate and 95% interval.

        Intervals are Wald intervals on the unconstrained scale mapped back, so they stay
        inside the parameter's range (lifelines reports natural-scale Wald intervals, which
        can cross zero).
        """
        se = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        z = self.unconstrained_params
        lower, upper = z - _Z95 * se, z + _Z95 * se
        if self.family != KAPLAN_MEIER:
            lower, upper = self.spec.to_natural(lower), self.spec.to_natural(upper)
        else:
            lower, upper = np.clip(lower, 0, 1), np.clip(upper, 0, 1)
        return pd.DataFrame({
            "parameter": list(self.param_names),
            "estimate": self.params,
            "lower_95": lower,
            "upper_95": upper,
            "transform": list(self.transforms),
            "se_unconstrained": se,
        })

    def parameter_draws(self, n_draws: int, seed: int) -> np.ndarray:
        """Asymptotic-normal draws of the natural parameters, shape (n_draws, p).

        ``z ~ N(unconstrained estimate, covariance)`` mapped back to the natural scale, with
        ``numpy.random.Generator(PCG64(seed))``.
        """
        rng = np.random.Generator(np.random.PCG64(seed))
        return self._parameter_draws(rng, n_draws)

    def _parameter_draws(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        if self.family == KAPLAN_MEIER:
            at_risk, churned = self.data.risk_table()
            n = np.maximum(np.rint(at_risk), 1).astype(np.int64)
            p = np.clip(churned / np.maximum(at_risk, 1e-300), 0.0, 1.0)
            return rng.binomial(n[None, :], p[None, :], size=(n_draws, len(n))) / n[None, :]
        z = rng.multivariate_normal(self.unconstrained_params, self.covariance, size=n_draws, method="eigh")
        return self.spec.to_natural(z)

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str = "asymptotic") -> np.ndarray:
        """Survival curves under parameter uncertainty, shape (n_draws, n_months + 1).

        Row k is S(0..n_months) under parameter draw k (every row is a random draw; none
        is the point estimate). Rows start at 1, lie in [0, 1] and are non-increasing.

        Parameters
        ----------
        n_draws : int
            Number of curves.
        n_months : int
            Last month of the grid; may exceed the observed window for parametric families
            (extrapolation) and for Kaplan-Meier with a ``km_tail``.
        seed : int
            Seed of ``numpy.random.Generator(PCG64(seed))``; same seed, same curves.
        method : {"asymptotic", "bootstrap"}
            ``"asymptotic"``: unconstrained parameters ~ N(estimate, covariance). For
            Kaplan-Meier, each month's hazard is an independent binomial proportion
            ``Binomial(at_risk_t, h_t) / at_risk_t`` (at-risk counts rounded to whole
            customers), the model behind Greenwood's variance; the tail family is drawn
            asymptotically. ``"bootstrap"``: the aggregated counts are resampled
            multinomially (same total) and the family refitted for every draw.
        """
        if method not in ("asymptotic", "bootstrap"):
            raise FitError(Problem(
                f"unknown draw method {method!r}", "use 'asymptotic' or 'bootstrap'", field="method"
            ))
        if n_draws < 1 or n_months < 0:
            raise FitError(Problem("n_draws must be >= 1 and n_months >= 0", field="n_draws"))
        rng = np.random.Generator(np.random.PCG64(seed))
        t = np.arange(n_months + 1, dtype=float)
        if self.family == KAPLAN_MEIER and n_months > self.max_observed_tenure and self.tail is None:
            self._grid(self.params[None, :], t)  # raises the explanatory FitError
        if method == "asymptotic":
            natural = self._parameter_draws(rng, n_draws)
            if self.family == KAPLAN_MEIER:
                tail_natural = self.tail._parameter_draws(rng, n_draws) if self.tail is not None else None
                curves = self._km_with_tail(natural, tail_natural, t) if n_months > self.max_observed_tenure \
                    else self._grid(natural, t)
            else:
                curves = self._grid(natural, t)
        else:
            curves = np.empty((n_draws, n_months + 1))
            for k in range(n_draws):
                refit = self._refit_on(self._resample(rng))
                curves[k] = refit.survival(t)
        curves = np.clip(curves, 0.0, 1.0)
        curves[:, 0] = 1.0
        return np.minimum.accumulate(curves, axis=1)

    def _resample(self, rng: np.random.Generator) -> SurvivalCounts:
        counts = self.data.counts
        total = int(round(counts.sum()))
        drawn = rng.multinomial(total, counts / counts.sum()).astype(float)
        keep = drawn > 0
        return SurvivalCounts(self.data.durations[keep], self.data.events[keep], drawn[keep])

    def _refit_on(self, data: SurvivalCounts) -> "RetentionFit":
        return _fit_counts(self.family, data, dict(self.options))

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """JSON-ready description: family, parameters by name, likelihoods, counts."""
        summary = self.summary
        return {
            "family": self.family,
            "parameters": {
                row.parameter: {"estimate": float(row.estimate), "lower_95": float(row.lower_95),
                                "upper_95": float(row.upper_95)}
                for row in summary.itertuples()
            },
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
            "log_likelihood": float(self.log_likelihood),
            "fit_log_likelihood": float(self.fit_log_likelihood),
            "aic": None if np.isnan(self.aic) else float(self.aic),
            "bic": None if np.isnan(self.bic) else float(self.bic),
            "n_customers": float(self.n_customers),
            "n_events": float(self.n_events),
            "max_observed_tenure": int(self.max_observed_tenure),
            "median_lifetime_months": _json_number(self.median_lifetime),
            "tail": self.tail.to_dict() if self.tail is not None else None,
        }

    def to_saved(self) -> dict:
        """Everything needed to rebuild this fit exactly, as plain JSON values.

        Holds the family, parameter names, parameters, both covariances, transforms,
        log-likelihoods, AIC/BIC, counts, ``max_observed_tenure``, options, the aggregated
        survival counts (``data``: ``durations``, ``events``, ``counts``), the Kaplan-Meier
        band, the tail fit (saved the same way), the warnings (fields and formatted
        ``text``) and ``format_version``. Only str, int, float, bool, None, lists and dicts
        appear; non-finite numbers are written as ``"NaN"``, ``"Infinity"`` or
        ``"-Infinity"`` (see :mod:`simcore.retention.saved`).

        Returns
        -------
        dict
            Accepted by :meth:`from_saved`; ``json.dumps(..., allow_nan=False)`` works on it.
        """
        from simcore.retention.saved import encoding_saved, fit_to_saved

        return encoding_saved(lambda: fit_to_saved(self))

    @classmethod
    def from_saved(cls, saved: dict) -> "RetentionFit":
        """Rebuild a fit from :meth:`to_saved` without refitting.

        Curves, hazards, summaries, the median lifetime and seeded draws (asymptotic and
        bootstrap) are bit-identical to those of the saved fit; bootstrap draws refit on
        resampled counts as they would have on the original.

        Raises
        ------
        FitError
            ``saved`` is not a saved retention fit, has another format version, or is
            inconsistent (sizes, family, survival counts).
        """
        from simcore.retention.saved import fit_from_saved, reading_saved

        with reading_saved(None, "retention fit"):
            return fit_from_saved(saved)


def _json_number(x: float):
    return None if np.isnan(x) else ("inf" if np.isinf(x) else float(x))


def grid_log_likelihood(survival_at: np.ndarray, data: SurvivalCounts) -> float:
    """``sum_churned w log(S(t-1) - S(t)) + sum_active w log S(t)`` with S on months 0..m."""
    d = data.durations
    churned = data.events == 1
    s_t = survival_at[d]
    s_prev = survival_at[np.maximum(d - 1, 0)]
    with np.errstate(divide="ignore"):
        prob = np.where(churned, s_prev - s_t, s_t)
        return float(np.sum(data.counts * np.log(np.maximum(prob, 1e-300))))


def _lifelines_class(family: str):
    import lifelines

    return {
        "exponential": lifelines.ExponentialFitter,
        "weibull": lifelines.WeibullFitter,
        "lognormal": lifelines.LogNormalFitter,
        "loglogistic": lifelines.LogLogisticFitter,
        "generalized_gamma": lifelines.GeneralizedGammaFitter,
        "piecewise_exponential": lifelines.PiecewiseExponentialFitter,
        "cure_weibull": lifelines.MixtureCureFitter,
    }[family]


_FAST_CLASSES: dict = {}


def _fast_search(cls, gradient_first: bool = True):
    """``cls`` with lifelines' optimiser made cheaper on aggregated data, same results.

    lifelines' ``_fit_model`` runs up to 400 Nelder-Mead iterations, then its gradient
    method from the simplex's point, keeping the better successful result, and takes
    autograd's Hessian there. Every simplex step evaluates the objective through
    autograd's ``value_and_grad`` although the simplex never uses gradients; with a few
    hundred aggregated rows that gradient is about 90% of the fitting time. This subclass

    1. with ``gradient_first``, and when autograd's gradient at the fitter's starting
       point is finite, first runs the fitter's own gradient method from that point (same
       objective, bounds and options) and keeps it when the gradient at its end vanishes;
    2. otherwise runs lifelines' two-stage search step for step (same starting point,
       methods, options and acceptance rule), with the simplex stage evaluating the
       objective alone. Nelder-Mead only compares objective values, which are the same
       with or without the gradient, so it visits the same points and stops at the same
       place as lifelines.

    The generalized gamma needs step 2 under interval censoring: autograd's gradient of
    its incomplete-gamma terms is NaN at an open-ended interval, so lifelines' gradient
    stage cannot move and lifelines' estimate is where the simplex stops (its default
    tolerances, 1e-4). A gradient method reaches the exact maximum, which on lifelines'
    Rossi data lies about 7e-6 (relative) away from lifelines' estimate, so it would not
    reproduce lifelines' fit.
    """
    key = (cls, gradient_first)
    if key in _FAST_CLASSES:
        return _FAST_CLASSES[key]
    from autograd import hessian, value_and_grad
    from lifelines import utils
    from lifelines.exceptions import ConvergenceError
    from scipy.optimize import minimize

    class FastSearch(cls):
        def _fit_model(self, Ts, E, entry, weights, fit_options, show_progress=True):
            if utils.CensoringType.is_interval_censoring(self):
                objective = self._negative_log_likelihood_interval_censoring
            elif utils.CensoringType.is_right_censoring(self):
                objective = self._negative_log_likelihood_right_censoring
            else:  # pragma: no cover - simcore never fits left-censored data
                return super()._fit_model(Ts, E, entry, weights, fit_options, show_progress)
            args = (Ts, E, entry, weights)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if gradient_first:
                    found = self._gradient_search(objective, args, fit_options)
                    if found is not None:
                        return found
                return self._two_stage_search(objective, args, fit_options, show_progress)

        def _gradient_search(self, objective, args, fit_options):
            _, start_gradient = value_and_grad(objective)(np.asarray(self._initial_values, dtype=float), *args)
            if not np.all(np.isfinite(start_gradient)):
                return None
            result = minimize(
                value_and_grad(objective), self._initial_values, jac=True, method=self._scipy_fit_method,
                args=args, bounds=self._bounds, options={**self._scipy_fit_options, **fit_options},
            )
            # SLSQP reports failure when it cannot improve on an objective that is
            # already flat to rounding ("positive directional derivative"); a vanishing
            # gradient (the objective is a per-customer mean) is a maximum too. L-BFGS-B
            # can also report success on a flat stretch far from the maximum, so a small
            # gradient is required either way.
            gradient = np.asarray(getattr(result, "jac", np.nan), dtype=float)
            if not (np.all(np.abs(gradient) < 1e-6) and np.all(np.isfinite(result.x))):
                return None
            solution = np.atleast_1d(np.asarray(result.x, dtype=float))
            return self._solution(objective, args, solution, result.fun)

        def _two_stage_search(self, objective, args, fit_options, show_progress):
            # lifelines' loop, stage for stage; only the simplex's objective differs
            # (value alone instead of value and unused gradient)
            best, best_value = None, np.inf
            previous = None
            stages = (
                ("Nelder-Mead", objective, False, {"maxiter": 400}),
                (self._scipy_fit_method, value_and_grad(objective), True,
                 {"disp": show_progress, **self._scipy_fit_options, **fit_options}),
            )
            for method, function, jac, options in stages:
                start = self._initial_values if previous is None else utils._to_1d_array(previous.x)
                result = minimize(function, start, jac=jac, method=method, args=args, bounds=self._bounds,
                                  options=options, callback=self._scipy_fit_callback)
                previous = result
                if result.success and not np.isnan(result.x).any() and result.fun < best_value:
                    best, best_value = result, result.fun
            if best is None:
                raise ConvergenceError(
                    f"Fitting did not converge: {self._class_name} found no maximum from its starting point."
                )
            return self._solution(objective, args, utils._to_1d_array(best.x), best.fun)

        def _solution(self, objective, args, solution, value):
            weights = args[-1]
            information = hessian(objective)(solution, *args)
            information = (information + information.T) / 2
            return solution, -value * weights.sum(), information * weights.sum()

    FastSearch.__name__ = cls.__name__
    FastSearch.__qualname__ = cls.__qualname__
    _FAST_CLASSES[key] = FastSearch
    return FastSearch


def _lifelines_fitter(family: str, options: dict):
    if family == "piecewise_exponential":
        return _fast_search(_lifelines_class(family))(breakpoints=list(options["breakpoints"]))
    if family == "cure_weibull":
        # From lifelines' starting point a gradient method alone can stop on the boundary
        # of the cured fraction, so the cure model always takes lifelines' two-stage search.
        cls = _fast_search(_lifelines_class(family), gradient_first=False)
        return cls(base_fitter=_lifelines_class("weibull")())
    return _fast_search(_lifelines_class(family))()


def _finish(family, spec, params, covariance_u, natural_cov, data, options, fit_ll, problems, **extra):
    m = data.max_observed_tenure
    grid = survival_on_grid(spec, params[None, :], np.arange(m + 1, dtype=float), options)[0]
    ll = grid_log_likelihood(grid, data)
    k = len(params)
    n = data.n_customers
    return RetentionFit(
        family=family,
        param_names=spec.param_names,
        params=_readonly(params),
        covariance=_readonly(covariance_u),
        natural_covariance=_readonly(natural_cov),
        transforms=spec.transforms,
        log_likelihood=ll,
        fit_log_likelihood=float(fit_ll),
        aic=2 * k - 2 * ll,
        bic=k * np.log(n) - 2 * ll,
        n_customers=n,
        n_events=data.n_events,
        max_observed_tenure=m,
        data=data,
        options=MappingProxyType(dict(options)),
        warnings=tuple(problems),
        **extra,
    )


def _numerical_covariance(fitter, params: np.ndarray, data: SurvivalCounts, options: dict, spec: FamilySpec) -> np.ndarray:
    """Inverse of a numerical Hessian of the negative log-likelihood (scipy.differentiate).

    For the interval likelihood the objective is the monthly-grid likelihood computed with
    the family's closed-form survival for all step points at once (the same function
    lifelines maximises, without its 1e-25 floor, which is inactive at an optimum); for
    the continuous likelihood it is lifelines' own objective, one point at a time.
    """
    from scipy.differentiate import hessian as numerical_hessian

    weights = data.counts
    k = len(params)
    if options.get("likelihood", "interval") == "interval":
        grid = np.arange(data.max_observed_tenure + 1, dtype=float)
        d = data.durations
        churned = data.events == 1

        def batched(x):
            flat = x.reshape(k, -1).T
            curves = survival_on_grid(spec, flat, grid, options)
            prob = np.where(churned[None, :], curves[:, np.maximum(d - 1, 0)] - curves[:, d], curves[:, d])
            values = -(np.log(np.maximum(prob, 1e-300)) * weights[None, :]).sum(axis=1)
            return values.reshape(x.shape[1:])
    else:
        zeros = np.zeros(len(weights))
        durations, churned_mask = data.durations.astype(float), data.events == 1

        def batched(x):
            flat = x.reshape(k, -1)
            values = [fitter._negative_log_likelihood_right_censoring(flat[:, i], (durations, None), churned_mask,
                                                                       zeros, weights) * weights.sum()
                      for i in range(flat.shape[1])]
            return np.asarray(values, dtype=float).reshape(x.shape[1:])

    result = numerical_hessian(batched, params, initial_step=0.5, order=4)
    information = (result.ddf + result.ddf.T) / 2
    try:
        return np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)


def monthly_intervals(data: SurvivalCounts) -> tuple[np.ndarray, np.ndarray]:
    """Interval-censoring bounds of monthly data: churn at t -> (t-1, t], active at t -> (t, inf)."""
    churned = data.events == 1
    lower = np.where(churned, data.durations - 1, data.durations).astype(float)
    upper = np.where(churned, data.durations, np.inf).astype(float)
    return lower, upper


def convergence_options(fitter) -> dict:
    """Tighter scipy stopping rules than lifelines' defaults for ``fitter``'s optimiser.

    Aggregated data make each iteration cheap, and the defaults stop early enough that a
    fit on raw rows and one on counts (the same objective, summed in another order) can
    differ in the fourth significant digit of a parameter.
    """
    method = getattr(fitter, "_scipy_fit_method", "L-BFGS-B")
    if method == "SLSQP":
        return {"ftol": 1e-14, "maxiter": 10_000}
    if method == "L-BFGS-B":
        return {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000}
    return {"gtol": 1e-10}


def _kaplan_meier_initial_point(family: str, data: SurvivalCounts) -> np.ndarray | None:
    """Starting values from a straight-line fit to the Kaplan-Meier curve.

    Each two-parameter family is linear in log t after a transform of S:
    Weibull ``log(-log S) = rho log t - rho log lambda``; log-normal
    ``Phi^-1(1 - S) = (log t - mu) / sigma``; log-logistic
    ``log((1 - S)/S) = beta log t - beta log alpha``. The exponential starts at
    exposure / churns. Returns None (lifelines' own start) when the curve has fewer than
    two usable points.
    """
    from scipy import stats

    if family == "exponential":
        churns = data.n_events
        return np.array([float(np.sum(data.counts * data.durations)) / churns]) if churns > 0 else None
    if family not in ("weibull", "lognormal", "loglogistic"):
        return None
    at_risk, churned = data.risk_table()
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = np.cumprod(1 - np.where(at_risk > 0, churned / at_risk, 0.0))
    months = np.arange(1, len(curve) + 1, dtype=float)
    usable = (curve > 1e-3) & (curve < 1 - 1e-3)
    if usable.sum() < 2:
        return None
    x, s = np.log(months[usable]), curve[usable]
    if family == "weibull":
        y = np.log(-np.log(s))
    elif family == "lognormal":
        y = stats.norm.ppf(1 - s)
    else:
        y = np.log((1 - s) / s)
    slope, intercept = np.polyfit(x, y, 1)
    if not slope > 0:
        return None
    if family == "lognormal":
        return np.array([-intercept / slope, 1.0 / slope])
    return np.array([np.exp(-intercept / slope), slope])


def _generalized_gamma_initial_point(data: SurvivalCounts, likelihood: str) -> np.ndarray:
    """Start the generalized gamma at the Weibull fit it nests (lambda = 1).

    With lambda = 1, S(t) = exp(-(t / e^mu)^(1 / sigma)): the Weibull scale is e^mu and its
    shape 1 / sigma. lifelines' default start sends the optimiser to a degenerate corner
    (lambda near -1400) on heterogeneous monthly churn; from the nested model it climbs.
    """
    weibull = _fit_lifelines_counts("weibull", data, {"likelihood": likelihood})
    scale, shape = weibull.params
    return np.array([np.log(scale), -np.log(shape), 1.0])


def _piecewise_initial_point(data: SurvivalCounts, options: dict) -> np.ndarray:
    """Closed-form piecewise-exponential maximum: lambda_i = exposure_i / churns_i.

    lifelines' default starting point can leave the optimiser far from the maximum (on
    the Rossi data its first-interval scale comes out 25 times too large, with a negative
    variance); starting at the closed form avoids that.
    """
    edges = np.concatenate([[0.0], options["breakpoints"], [np.inf]])
    d = data.durations.astype(float)
    exposure = (np.clip(d[:, None] - edges[None, :-1], 0.0, np.diff(edges)[None, :])
                * data.counts[:, None]).sum(axis=0)
    interval = np.clip(np.searchsorted(edges, d, side="left") - 1, 0, len(edges) - 2)
    churns = np.bincount(interval, weights=data.counts * (data.events == 1), minlength=len(edges) - 1)
    if np.any(churns <= 0):
        empty = int(np.flatnonzero(churns <= 0)[0])
        raise FitError(Problem(
            f"no churn between {edges[empty]:g} and {edges[empty + 1]:g} months, so that "
            "piece's hazard cannot be estimated",
            "remove or move that breakpoint", field="retention.breakpoints",
        ))
    return exposure / churns


def _fit_lifelines_counts(family: str, data: SurvivalCounts, options: dict) -> RetentionFit:
    from lifelines.exceptions import ConvergenceError

    spec = family_spec(family, options)
    fitter = _lifelines_fitter(family, options)
    problems: list[Problem] = []
    initial_point = _kaplan_meier_initial_point(family, data)
    if family == "piecewise_exponential":
        initial_point = _piecewise_initial_point(data, options)
    elif family == "generalized_gamma":
        initial_point = _generalized_gamma_initial_point(data, options.get("likelihood", "interval"))
    # lifelines squeezes a one-row table to a scalar and fails on it (a segment where every
    # customer churned in the same month); two half-weight rows are the same likelihood.
    rows = data if len(data.counts) > 1 else SurvivalCounts(
        np.repeat(data.durations, 2), np.repeat(data.events, 2), np.repeat(data.counts / 2.0, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if options.get("likelihood", "interval") == "interval":
                lower, upper = monthly_intervals(rows)
                fitter.fit_interval_censoring(lower, upper, weights=rows.counts, initial_point=initial_point,
                                              fit_options=convergence_options(fitter))
            else:
                fitter.fit(rows.durations.astype(float), rows.events.astype(int), weights=rows.counts,
                           initial_point=initial_point, fit_options=convergence_options(fitter))
        except (ConvergenceError, ValueError, np.linalg.LinAlgError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise FitError(Problem(
                f"the {family} fit did not converge: {first_line}",
                "choose another family or check that the segment has enough churn events"
                + ("; the interval likelihood (likelihood='interval') avoids the degenerate spikes the "
                   "continuous one allows on monthly data" if options.get("likelihood") == "continuous" else ""),
                field="retention.family",
            )) from error
    for w in caught:
        text = str(w.message).strip().splitlines()
        if issubclass(w.category, (DeprecationWarning, FutureWarning)):
            continue
        problems.append(Problem(
            f"{family} fit: {text[0] if text else w.category.__name__}",
            "treat this family's parameter intervals with caution",
            severity="warning", field="retention.family",
        ))
    params = np.asarray(fitter._fitted_parameters_, dtype=float)
    natural_cov = np.asarray(fitter.variance_matrix_.values, dtype=float)
    if not np.all(np.isfinite(natural_cov)):
        # lifelines' automatic Hessian is NaN for the generalized gamma under interval
        # censoring (the incomplete-gamma derivative at an infinite upper bound); central
        # differences of lifelines' own objective (scipy.differentiate, adaptive
        # Richardson extrapolation) give the observed information instead.
        problems = [p for p in problems if "variance_matrix_" not in p.message]
        natural_cov = _numerical_covariance(fitter, params, data, options, spec)
    if family == "cure_weibull" and not 1e-6 < params[0] < 1 - 1e-6:
        raise FitError(Problem(
            f"the cure model put the never-churning fraction on its bound ({params[0]:.2g}), so it "
            "reduces to a plain Weibull curve (or to no churn) and its uncertainty is undefined",
            "use the weibull family for this segment", field="retention.family",
        ))
    jac = spec.jacobian_diagonal(params)
    covariance_u = natural_cov * np.outer(jac, jac)
    if not np.all(np.isfinite(covariance_u)) or np.any(np.diag(covariance_u) < 0):
        raise FitError(Problem(
            f"the {family} fit has no usable covariance (the Hessian is singular)",
            "the parameters are not identified by this segment's data; choose another family",
            field="retention.family",
        ))
    return _finish(family, spec, params, covariance_u, natural_cov, data, options,
                   fitter.log_likelihood_, problems)


def _fit_sbg_counts(data: SurvivalCounts, options: dict) -> RetentionFit:
    from simcore.retention.sbg import fit_sbg

    spec = family_spec("sbg")
    params, covariance_u, ll = fit_sbg(data.durations, data.events, data.counts)
    jac = spec.jacobian_diagonal(params)
    natural_cov = covariance_u / np.outer(jac, jac)
    problems = []
    if params.sum() > 1e4:
        # alpha, beta -> infinity with alpha/(alpha+beta) fixed is the homogeneous geometric
        # model; the likelihood is flat along that ridge, so the covariance is near singular.
        problems.append(Problem(
            f"sbg fit shows no heterogeneity in churn (alpha + beta = {params.sum():.3g}): it reduces "
            "to a constant monthly churn probability and its parameter draws are unreliable",
            "prefer the exponential family for this segment", severity="warning", field="retention.family",
        ))
    return _finish("sbg", spec, params, covariance_u, natural_cov, data, options, ll, problems)


def _fit_km_counts(data: SurvivalCounts, options: dict) -> RetentionFit:
    from lifelines import KaplanMeierFitter

    m = data.max_observed_tenure
    grid = np.arange(m + 1, dtype=float)
    kmf = KaplanMeierFitter()
    kmf.fit(data.durations.astype(float), data.events.astype(int), weights=data.counts)
    band = kmf.confidence_interval_survival_function_
    timeline = band.index.to_numpy(dtype=float)
    idx = np.clip(np.searchsorted(timeline, grid, side="right") - 1, 0, len(timeline) - 1)
    lower = band.iloc[:, 0].to_numpy(dtype=float)[idx]
    upper = band.iloc[:, 1].to_numpy(dtype=float)[idx]
    lower[0], upper[0] = 1.0, 1.0

    # The product-limit curve is kept as its monthly hazards d_t / n_t (the parameters
    # that draws perturb); their running product is lifelines' curve (tested).
    at_risk, churned = data.risk_table()
    with np.errstate(invalid="ignore", divide="ignore"):
        hazards = np.where(at_risk > 0, churned / at_risk, 0.0)
    variance = np.where(at_risk > 0, hazards * (1 - hazards) / np.maximum(at_risk, 1e-300), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(np.sum(np.where(churned > 0, churned * np.log(np.where(hazards > 0, hazards, 1.0)), 0.0))
                   + np.sum(np.where(at_risk - churned > 0,
                                     (at_risk - churned) * np.log(np.where(hazards < 1, 1 - hazards, 1.0)), 0.0)))
    tail = None
    tail_family = options.get("km_tail")
    if tail_family is not None:
        if tail_family not in PARAMETRIC_FAMILIES:
            raise FitError(Problem(
                f"km_tail {tail_family!r} is not a parametric family",
                "choose one of " + ", ".join(PARAMETRIC_FAMILIES), field="retention.km_tail",
            ))
        tail = _fit_counts(tail_family, data, {k: v for k, v in options.items() if k != "km_tail"})
    names = tuple(f"hazard_{t}" for t in range(1, m + 1))
    return RetentionFit(
        family=KAPLAN_MEIER,
        param_names=names,
        params=_readonly(hazards),
        covariance=_readonly(np.diag(variance)),
        natural_covariance=_readonly(np.diag(variance)),
        transforms=("identity",) * m,
        log_likelihood=ll,
        fit_log_likelihood=ll,
        aic=float("nan"),
        bic=float("nan"),
        n_customers=data.n_customers,
        n_events=data.n_events,
        max_observed_tenure=m,
        data=data,
        options=MappingProxyType(dict(options)),
        tail=tail,
        km_lower=_readonly(lower),
        km_upper=_readonly(upper),
    )


def _resolve_options(family: str, data: SurvivalCounts, options: dict) -> dict:
    options = dict(options)
    if family == KAPLAN_MEIER:
        # The product-limit curve itself has no options; breakpoints and likelihood belong
        # to the tail family and are kept so that the tail fit, its bootstrap refits and a
        # saved fit all use the ones requested.
        tail_family = options.get("km_tail")
        if tail_family is None:
            return {}
        kept = {"km_tail": tail_family}
        if tail_family == "piecewise_exponential" and options.get("breakpoints") is not None:
            kept["breakpoints"] = tuple(sorted(float(b) for b in options["breakpoints"]))
        if tail_family in LIFELINES_FAMILIES and "likelihood" in options:
            kept["likelihood"] = options["likelihood"]
        return kept
    if family == "piecewise_exponential":
        breakpoints = options.get("breakpoints")
        if breakpoints is None:
            breakpoints = [b for b in DEFAULT_BREAKPOINTS if b < data.max_observed_tenure]
        breakpoints = tuple(sorted(float(b) for b in breakpoints))
        if not breakpoints or breakpoints[0] <= 0:
            raise FitError(Problem(
                "piecewise_exponential needs at least one breakpoint, all > 0 months "
                f"(longest observed tenure: {data.max_observed_tenure} months)",
                "pass breakpoints=[...] inside the observed window, or use another family",
                field="retention.breakpoints",
            ))
        if breakpoints[-1] >= data.max_observed_tenure:
            raise FitError(Problem(
                f"breakpoint {breakpoints[-1]:g} is at or past the longest observed tenure "
                f"({data.max_observed_tenure} months), so the hazard after it cannot be estimated",
                "keep breakpoints inside the observed window", field="retention.breakpoints",
            ))
        options["breakpoints"] = breakpoints
    else:
        options.pop("breakpoints", None)
    if family != KAPLAN_MEIER:
        options.pop("km_tail", None)
    if family in LIFELINES_FAMILIES:
        likelihood = options.setdefault("likelihood", "interval")
        if likelihood not in LIKELIHOODS:
            raise FitError(Problem(
                f"unknown likelihood {likelihood!r}", "choose 'interval' (monthly grid) or 'continuous'",
                field="retention.likelihood",
            ))
        if family == "cure_weibull":
            # lifelines' interval censoring scores an active customer by S(t) - S(upper
            # bound) and S(infinity) is the cured fraction, so the customers who make a cure
            # model worth fitting would drop out of the likelihood. The cure model is
            # therefore always fitted with the right-censored likelihood.
            options["likelihood"] = "continuous"
    else:
        options.pop("likelihood", None)
    return options


def _fit_counts(family: str, data: SurvivalCounts, options: dict) -> RetentionFit:
    options = _resolve_options(family, data, options)
    if family == KAPLAN_MEIER:
        return _fit_km_counts(data, options)
    if data.n_events <= 0:
        raise FitError(Problem(
            f"no churn events: a {family} curve cannot be estimated",
            "merge this segment with another one or wait for more history", field="retention.family",
        ))
    if family == "sbg":
        return _fit_sbg_counts(data, options)
    if family in LIFELINES_FAMILIES:
        return _fit_lifelines_counts(family, data, options)
    raise FitError(Problem(
        f"unknown retention family {family!r}",
        "choose one of " + ", ".join(ALL_FAMILIES) + " (or 'auto')", field="retention.family",
    ))


def fit_family(durations, events, weights=None, *, family: str, **options) -> RetentionFit:
    """Fit one survival family to (durations, events, weights) on aggregated data.

    Parameters
    ----------
    durations : array-like, shape (n,)
        Tenure in whole months (churned: lifetime ``T >= 1``; active: ``T > duration``).
    events : array-like of bool or {0, 1}, shape (n,)
        1 if churned.
    weights : array-like, shape (n,), optional
        Frequency weights (customers per row). Data are collapsed to unique
        ``(duration, event)`` rows first, so passing raw rows or pre-aggregated rows gives
        the same fit.
    family : str
        ``"exponential"``, ``"weibull"``, ``"lognormal"``, ``"loglogistic"``,
        ``"generalized_gamma"``, ``"piecewise_exponential"``, ``"cure_weibull"`` (mixture
        cure: a fraction never churns, the rest Weibull; lifelines' MixtureCureFitter),
        ``"sbg"`` (shifted-beta-geometric) or ``"kaplan_meier"``.
    **options
        ``breakpoints`` (months, piecewise exponential; default those of 3, 6, 12, 24
        inside the observed window); ``km_tail`` (a parametric family extrapolating a
        Kaplan-Meier curve past the observed window); ``likelihood`` (lifelines families:
        ``"interval"``, the default, or ``"continuous"``; see the module notes; the cure
        model always uses ``"continuous"``, because lifelines' interval censoring gives an
        open-ended interval the probability S(t) - S(infinity), which leaves out exactly
        the cured customers; the option actually used is in ``fit.options``).

    Returns
    -------
    RetentionFit

    Raises
    ------
    DataError
        Invalid survival data.
    FitError
        Unknown family, no events, or the optimiser failed.
    """
    if family not in ALL_FAMILIES:
        raise FitError(Problem(
            f"unknown retention family {family!r}",
            "choose one of " + ", ".join(ALL_FAMILIES) + " (or 'auto' in fit_segment)",
            field="retention.family",
        ))
    unknown = set(options) - {"breakpoints", "km_tail", "likelihood"}
    if unknown:
        raise FitError(Problem(
            f"unknown retention options {sorted(unknown)}", "valid options: breakpoints, km_tail, likelihood",
            field="retention",
        ))
    data = aggregate_survival(durations, events, weights)
    return _fit_counts(family, data, options)
