"""Fit records: immutable fitted survival models on the monthly grid.

:class:`RetentionFit` is what every fitted family offers (curves, hazards, conditional
curves, the median lifetime, seeded survival draws). :class:`ParametricFit` is the record
of a parametric family; the Kaplan-Meier curve has its own record,
:class:`simcore.retention.kaplan_meier.KaplanMeierFit`.

Parameter draws (``survival_draws(..., method=...)``)
    ``"asymptotic"``: unconstrained parameters ~ ``N(estimate, covariance)`` mapped back
    to the natural scale. ``"bootstrap"``: parameters of the fit's bootstrap pool
    (:mod:`simcore.retention.bootstrap`), in a seeded shuffled order. ``"auto"``:
    asymptotic when the fit is well conditioned, bootstrap otherwise
    (:mod:`simcore.retention.conditioning`). Every draw is a pure function of the seed
    and the record, so a record saved and loaded again draws the same curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from simcore.errors import FitError, Problem
from simcore.retention.bootstrap import BootstrapPool, bootstrap_pool
from simcore.retention.conditioning import Conditioning, with_band
from simcore.retention.counts import SurvivalCounts, readonly
from simcore.retention.families import FamilySpec, family_spec, survival_on_grid
from simcore.retention.names import UNCERTAINTY_METHODS, label

#: Horizon (months) searched for the median lifetime before reporting it as infinite.
MEDIAN_SEARCH_MONTHS = 1200
_Z95 = 1.959963984540054


def json_number(x: float):
    """A float for JSON reports: None for NaN, the text "inf" for infinity."""
    return None if np.isnan(x) else ("inf" if np.isinf(x) else float(x))


def hazard_from(survival, t) -> np.ndarray:
    """Discrete monthly hazard ``h(t) = 1 - S(t+1)/S(t)`` at months ``t`` of the curve
    ``survival`` (1 where ``S(t) = 0``)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    s = survival(np.concatenate([t, t + 1]))
    now, nxt = s[: len(t)], s[len(t):]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(now > 0, 1.0 - nxt / now, 1.0)


def conditional_survival_from(survival, age: int, t) -> np.ndarray:
    """``S(age + t) / S(age)`` of the curve ``survival``; an error where ``S(age) = 0``."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    s = survival(np.concatenate([[float(age)], age + t]))
    if s[0] <= 0:
        raise FitError(Problem(f"the fitted survival is 0 at tenure {age} months", field="age"))
    return s[1:] / s[0]


def check_draw_request(n_draws: int, n_months: int, method: str) -> None:
    if method not in UNCERTAINTY_METHODS:
        raise FitError(Problem(
            f"unknown draw method {method!r}", "use one of " + ", ".join(UNCERTAINTY_METHODS),
            field="retention.uncertainty",
        ))
    if n_draws < 1 or n_months < 0:
        raise FitError(Problem("n_draws must be >= 1 and n_months >= 0", field="n_draws"))


def as_survival_curves(curves: np.ndarray) -> np.ndarray:
    """Clip to [0, 1], set S(0) = 1 and take the running minimum (rows = curves)."""
    curves = np.clip(curves, 0.0, 1.0)
    curves[:, 0] = 1.0
    return np.minimum.accumulate(curves, axis=1)


def pool_order(rng: np.random.Generator, pool_size: int, n_draws: int) -> np.ndarray:
    """Which pool member each draw uses: shuffled cycles through the whole pool, so every
    member is used ``n_draws // pool_size`` or one more times."""
    cycles = -(-n_draws // pool_size)
    return np.concatenate([rng.permutation(pool_size) for _ in range(cycles)])[:n_draws]


class RetentionFit:
    """What every fitted survival model offers. Months are whole months >= 0.

    Subclasses are frozen dataclasses with a ``data`` field (:class:`SurvivalCounts`)
    and implement :meth:`survival`, :meth:`survival_draws`, ``summary`` and
    :meth:`to_dict`.
    """

    family: str
    data: SurvivalCounts
    log_likelihood: float
    warnings: tuple[Problem, ...]
    #: The fit that extrapolates this one past the observed window (Kaplan-Meier only).
    tail = None

    @property
    def label(self) -> str:
        """Human name of the family ("Weibull")."""
        return label(self.family)

    @property
    def n_customers(self) -> float:
        return self.data.n_customers

    @property
    def n_events(self) -> float:
        return self.data.n_events

    @property
    def max_observed_tenure(self) -> int:
        """Longest tenure observed, months."""
        return self.data.max_observed_tenure

    @staticmethod
    def _months(t) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(t < 0) or np.any(t != np.floor(t)):
            raise FitError(Problem("survival is evaluated at whole months >= 0", field="t"))
        return t

    def survival(self, t) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str = "auto") -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def hazard(self, t) -> np.ndarray:
        """Discrete monthly hazard ``h(t) = 1 - S(t+1)/S(t)`` at integer months ``t``."""
        return hazard_from(self.survival, t)

    def conditional_survival(self, age: int, t) -> np.ndarray:
        """``S(age + t) / S(age)``: survival of a customer known to be active at tenure ``age``.

        Survivors of a heterogeneous cohort churn less than new customers (Fader & Hardie
        2010), which a tenure-blind curve misses.
        """
        return conditional_survival_from(self.survival, age, t)

    @property
    def median_lifetime(self) -> float:
        """Median lifetime in months: the first month t with S(t) <= 0.5; ``inf`` when S
        stays above 0.5 for :data:`MEDIAN_SEARCH_MONTHS`."""
        s = self.survival(np.arange(MEDIAN_SEARCH_MONTHS + 1))
        below = np.flatnonzero(s <= 0.5)
        return float(below[0]) if below.size else float("inf")


@dataclass(frozen=True, eq=False)
class ParametricFit(RetentionFit):
    """A fitted parametric family (immutable).

    Attributes
    ----------
    family : str
        One of :data:`simcore.retention.names.PARAMETRIC_FAMILIES`.
    params : ndarray, shape (p,)
        Maximum-likelihood estimates on the natural scale (names in ``param_names``).
    covariance : ndarray, shape (p, p)
        Covariance of the *unconstrained* parameters (``transforms``: log for positive
        parameters, logit for fractions, identity otherwise): the inverse observed
        information; NaN when the information has no inverse.
    information : ndarray, shape (p, p)
        Observed information (minus the Hessian of the log-likelihood) at the estimate,
        unconstrained scale.
    log_likelihood : float
        Monthly-grid log-likelihood at the estimate (:mod:`simcore.retention.likelihood`).
    data : SurvivalCounts
        The aggregated data the model was fitted on.
    options : mapping
        ``breakpoints`` (months) for the piecewise family; empty otherwise.
    conditioning : Conditioning
        Whether asymptotic draws describe the uncertainty (what ``"auto"`` draws with).
    bootstrap : BootstrapPool or None
        The bootstrap pool, when it was computed while fitting (see :meth:`with_bootstrap`).
    warnings : tuple of Problem
        Warnings raised while fitting (severity ``"warning"``).
    """

    family: str
    params: np.ndarray
    covariance: np.ndarray
    information: np.ndarray
    log_likelihood: float
    data: SurvivalCounts
    options: Mapping = field(default_factory=lambda: MappingProxyType({}))
    conditioning: Conditioning = field(default_factory=lambda: Conditioning((), float("nan")))
    bootstrap: BootstrapPool | None = None
    warnings: tuple[Problem, ...] = ()

    # ------------------------------------------------------------------ description
    @cached_property
    def spec(self) -> FamilySpec:
        """The family's registry entry (with this fit's options)."""
        return family_spec(self.family, dict(self.options))

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.spec.param_names

    @property
    def transforms(self) -> tuple[str, ...]:
        return self.spec.transforms

    @property
    def n_parameters(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        """``2 p - 2 log_likelihood``."""
        return 2 * self.n_parameters - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        """``p log(n_customers) - 2 log_likelihood``."""
        return self.n_parameters * np.log(self.n_customers) - 2 * self.log_likelihood

    @property
    def unconstrained_params(self) -> np.ndarray:
        return self.spec.to_unconstrained(self.params)

    @property
    def natural_covariance(self) -> np.ndarray:
        """Covariance on the natural scale (delta method), comparable with lifelines'
        ``variance_matrix_``."""
        jacobian = 1.0 / self.spec.jacobian_diagonal(self.params)
        return self.covariance * np.outer(jacobian, jacobian)

    @property
    def uncertainty(self) -> str:
        """What ``method="auto"`` draws with: ``"asymptotic"`` or ``"bootstrap"``."""
        return self.conditioning.method

    @property
    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate and 95% interval.

        The interval follows :attr:`uncertainty`: a Wald interval on the unconstrained
        scale mapped back (so it stays inside the parameter's range; lifelines reports
        natural-scale Wald intervals, which can cross zero), or the 2.5%-97.5%
        percentiles of the bootstrap pool. Columns: parameter, estimate, lower_95,
        upper_95, interval ("wald" or "bootstrap"), transform, se_unconstrained.
        """
        se = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        if self.uncertainty == "bootstrap" and len(self.bootstrap_pool().params):
            lower, upper = np.quantile(self.bootstrap_pool().params, [0.025, 0.975], axis=0)
            interval = "bootstrap"
        else:
            z = self.unconstrained_params
            lower, upper = self.spec.to_natural(z - _Z95 * se), self.spec.to_natural(z + _Z95 * se)
            interval = "wald"
        return pd.DataFrame({
            "parameter": list(self.param_names),
            "estimate": self.params,
            "lower_95": lower,
            "upper_95": upper,
            "interval": interval,
            "transform": list(self.transforms),
            "se_unconstrained": se,
        })

    # ------------------------------------------------------------------ curves
    def survival(self, t) -> np.ndarray:
        """S(t) = P(T > t) at integer months ``t`` (array-like, >= 0); ``S(0) = 1``."""
        return survival_on_grid(self.spec, self.params[None, :], self._months(t))[0]

    def curves(self, natural: np.ndarray, t) -> np.ndarray:
        """S at months ``t`` for natural parameter rows (draws, p)."""
        return survival_on_grid(self.spec, natural, np.asarray(t, dtype=float))

    # ------------------------------------------------------------------ uncertainty
    def bootstrap_pool(self) -> BootstrapPool:
        """The fit's bootstrap pool: the stored one, or computed now (and kept) with the
        fixed pool seed, so it is the same pool either way."""
        if self.bootstrap is not None:
            return self.bootstrap
        return self._computed_pool

    @cached_property
    def _computed_pool(self) -> BootstrapPool:
        return bootstrap_pool(self.spec, self.data, self.params, information=self.information)

    def with_bootstrap(self) -> "ParametricFit":
        """This fit with its bootstrap pool stored and the band check of its conditioning
        done (:func:`simcore.retention.conditioning.with_band`)."""
        pool = self.bootstrap_pool()
        conditioning = with_band(self.conditioning, self.spec, self.unconstrained_params, self.covariance,
                                 pool.params)
        return replace(self, bootstrap=pool, conditioning=conditioning)

    def parameter_draws(self, n_draws: int, seed: int, method: str = "asymptotic") -> np.ndarray:
        """Natural parameters under parameter uncertainty, shape (n_draws, p).

        ``method`` as in :meth:`survival_draws`; the random numbers come from
        ``numpy.random.Generator(PCG64(seed))``.
        """
        check_draw_request(n_draws, 0, method)
        return self._parameter_draws(np.random.Generator(np.random.PCG64(seed)), n_draws, method)

    def _parameter_draws(self, rng: np.random.Generator, n_draws: int, method: str) -> np.ndarray:
        method = self.uncertainty if method == "auto" else method
        if method == "bootstrap":
            pool = self.bootstrap_pool()
            if len(pool.params) == 0:
                raise FitError(Problem(
                    f"every bootstrap refit of the {self.family} fit failed, so it has no bootstrap draws",
                    "choose another family for this segment", field="retention.family",
                ))
            return pool.params[pool_order(rng, len(pool.params), n_draws)]
        if not np.all(np.isfinite(self.covariance)):
            raise FitError(Problem(
                f"the {self.family} fit has no usable covariance "
                f"({'; '.join(self.conditioning.reasons) or 'not finite'}), so it has no asymptotic draws",
                "set retention.uncertainty to auto or bootstrap", field="retention.uncertainty",
            ))
        z = rng.multivariate_normal(self.unconstrained_params, self.covariance, size=n_draws, method="eigh")
        return self.spec.to_natural(z)

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str = "auto") -> np.ndarray:
        """Survival curves under parameter uncertainty, shape (n_draws, n_months + 1).

        Row k is S(0..n_months) under parameter draw k (every row is a draw; none is the
        point estimate). Rows start at 1, lie in [0, 1] and are non-increasing; the
        same seed gives the same rows.

        Parameters
        ----------
        n_draws : int
            Number of curves.
        n_months : int
            Last month of the grid (may exceed the observed window: extrapolation).
        seed : int
            Seed of ``numpy.random.Generator(PCG64(seed))``.
        method : {"auto", "asymptotic", "bootstrap"}
            See the module notes; ``"auto"`` is :attr:`uncertainty`.
        """
        check_draw_request(n_draws, n_months, method)
        rng = np.random.Generator(np.random.PCG64(seed))
        natural = self._parameter_draws(rng, n_draws, method)
        return as_survival_curves(self.curves(natural, np.arange(n_months + 1, dtype=float)))

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """JSON-ready description: family, parameters by name, likelihood, counts,
        uncertainty method and the conditioning verdict."""
        summary = self.summary
        return {
            "family": self.family,
            "label": self.label,
            "parameters": {
                row.parameter: {"estimate": float(row.estimate), "lower_95": float(row.lower_95),
                                "upper_95": float(row.upper_95)}
                for row in summary.itertuples()
            },
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
            "log_likelihood": float(self.log_likelihood),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "n_customers": float(self.n_customers),
            "n_events": float(self.n_events),
            "max_observed_tenure": int(self.max_observed_tenure),
            "median_lifetime_months": json_number(self.median_lifetime),
            "uncertainty": self.uncertainty,
            "ill_conditioned_because": list(self.conditioning.reasons),
        }


def readonly_fields(**arrays) -> dict:
    """Read-only copies of record arrays (records are immutable, their arrays too)."""
    return {name: readonly(np.asarray(value, dtype=float)) for name, value in arrays.items()}
