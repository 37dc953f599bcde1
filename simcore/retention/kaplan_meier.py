"""The Kaplan-Meier (product-limit) curve of aggregated counts, and its record.

Computed here rather than with lifelines' ``KaplanMeierFitter``: on the monthly grid the
estimator is a running product of ``1 - churned_t / at_risk_t`` over a risk table that
the counts give directly, and the 95% band is the exponential Greenwood interval
(Kalbfleisch & Prentice 2002, section 1.3; lifelines' default)

    lower, upper = exp(-exp(log(-log S) -+ z sqrt(V) / log S)),
    V = sum_{s <= t} d_s / (n_s (n_s - d_s)),

with the terms of months where everybody at risk churned set to 0, as lifelines does.
The tests compare curve and band with lifelines on its Rossi data set.

The curve stops at the longest observed tenure. A parametric ``tail`` fitted to the same
data extrapolates it, conditioned on survival to that tenure:
``S(t) = S_KM(m) S_tail(t) / S_tail(m)`` for ``t > m``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from simcore.errors import FitError, Problem
from simcore.retention.counts import SurvivalCounts, readonly, resample_counts
from simcore.retention.names import KAPLAN_MEIER
from simcore.retention.records import (
    ParametricFit,
    RetentionFit,
    as_survival_curves,
    check_draw_request,
    json_number,
)

_Z95 = 1.959963984540054


def kaplan_meier(data: SurvivalCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Monthly hazards, 95% band and grid log-likelihood of the product-limit curve.

    Returns
    -------
    hazards : ndarray, shape (m,)
        ``churned_t / at_risk_t`` for months t = 1..m (m = longest observed tenure).
    lower, upper : ndarray, shape (m + 1,)
        Exponential Greenwood band on months 0..m (1 at month 0).
    log_likelihood : float
        ``sum_t d_t log h_t + (n_t - d_t) log(1 - h_t)``: the largest monthly-grid
        likelihood any lifetime distribution reaches on these data.
    """
    at_risk, churned = data.risk_table()
    with np.errstate(invalid="ignore", divide="ignore"):
        hazards = np.where(at_risk > 0, churned / at_risk, 0.0)
        survival = np.concatenate([[1.0], np.cumprod(1.0 - hazards)])
        terms = np.where(at_risk > churned, churned / (at_risk * (at_risk - churned)), 0.0)
        variance = np.concatenate([[0.0], np.cumsum(terms)])
        log_s = np.log(survival)
        lower = np.exp(-np.exp(np.log(-log_s) - _Z95 * np.sqrt(variance) / log_s))
        upper = np.exp(-np.exp(np.log(-log_s) + _Z95 * np.sqrt(variance) / log_s))
        log_likelihood = float(
            np.sum(np.where(churned > 0, churned * np.log(np.where(hazards > 0, hazards, 1.0)), 0.0))
            + np.sum(np.where(at_risk - churned > 0,
                              (at_risk - churned) * np.log(np.where(hazards < 1, 1 - hazards, 1.0)), 0.0))
        )
    lower, upper = np.nan_to_num(lower, nan=1.0), np.nan_to_num(upper, nan=1.0)
    return hazards, lower, upper, log_likelihood


def _risk_indicators(data: SurvivalCounts) -> tuple[np.ndarray, np.ndarray]:
    """Row -> month indicators: at risk (duration >= t) and churned at t, shape (rows, m)."""
    months = np.arange(1, data.max_observed_tenure + 1)
    at_risk = (data.durations[:, None] >= months[None, :]).astype(float)
    churned = ((data.durations[:, None] == months[None, :]) & (data.events[:, None] == 1)).astype(float)
    return at_risk, churned


@dataclass(frozen=True, eq=False)
class KaplanMeierFit(RetentionFit):
    """The Kaplan-Meier curve of one book, with an optional parametric tail (immutable).

    Attributes
    ----------
    hazards : ndarray, shape (m,)
        Monthly hazards ``d_t / n_t`` for t = 1..m, m = :attr:`max_observed_tenure`;
        their running product of ``1 - h`` is the curve.
    km_lower, km_upper : ndarray, shape (m + 1,)
        95% exponential Greenwood band on months 0..m.
    log_likelihood : float
        See :func:`kaplan_meier`.
    data : SurvivalCounts
    tail : ParametricFit or None
        Extrapolates the curve past month m; without one, the curve refuses to.
    warnings : tuple of Problem
    """

    hazards: np.ndarray
    km_lower: np.ndarray
    km_upper: np.ndarray
    log_likelihood: float
    data: SurvivalCounts
    tail: ParametricFit | None = None
    warnings: tuple[Problem, ...] = ()

    family = KAPLAN_MEIER
    #: Kaplan-Meier is not ranked against parametric families.
    aic = float("nan")
    bic = float("nan")

    @property
    def params(self) -> np.ndarray:
        """The monthly hazards (what draws perturb)."""
        return self.hazards

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(f"hazard_{t}" for t in range(1, self.max_observed_tenure + 1))

    @property
    def options(self) -> Mapping:
        """``km_tail`` (the tail family) and the tail's own options."""
        if self.tail is None:
            return MappingProxyType({})
        return MappingProxyType({"km_tail": self.tail.family, **self.tail.options})

    @property
    def uncertainty(self) -> str:
        """What ``"auto"`` draws with: ``"asymptotic"`` (binomial hazards), or
        ``"asymptotic+bootstrap"`` when the tail's own choice is the bootstrap."""
        if self.tail is None or self.tail.uncertainty == "asymptotic":
            return "asymptotic"
        return "asymptotic+bootstrap"

    @property
    def summary(self) -> pd.DataFrame:
        """One row per month: hazard and its 95% binomial Wald interval (clipped to [0, 1])."""
        at_risk, _ = self.data.risk_table()
        se = np.sqrt(self.hazards * (1 - self.hazards) / np.maximum(at_risk, 1e-300))
        return pd.DataFrame({
            "parameter": list(self.param_names),
            "estimate": self.hazards,
            "lower_95": np.clip(self.hazards - _Z95 * se, 0, 1),
            "upper_95": np.clip(self.hazards + _Z95 * se, 0, 1),
            "interval": "wald",
            "transform": "identity",
            "se_unconstrained": se,
        })

    # ------------------------------------------------------------------ curves
    @staticmethod
    def _curves(hazards: np.ndarray) -> np.ndarray:
        """S(0..m) from monthly hazards (rows = draws)."""
        hazards = np.atleast_2d(hazards)
        return np.concatenate([np.ones((hazards.shape[0], 1)), np.cumprod(1.0 - hazards, axis=1)], axis=1)

    def _no_tail(self, month: int) -> FitError:
        return FitError(Problem(
            f"Kaplan-Meier is only defined up to the longest observed tenure ({self.max_observed_tenure} "
            f"months), asked for month {month}",
            "fit a parametric family, or set km_tail to a parametric family "
            "(for example km_tail='weibull') to extrapolate",
            field="retention.km_tail",
        ))

    def _extend(self, inside: np.ndarray, tail_params: np.ndarray | None, t: np.ndarray) -> np.ndarray:
        """S at months ``t`` from curves on 0..m (rows) and the tail's parameter rows."""
        m = self.max_observed_tenure
        t_int = t.astype(np.int64)
        if t_int.max(initial=0) <= m:
            return inside[:, t_int]
        if self.tail is None:
            raise self._no_tail(int(t_int.max()))
        tail = self.tail.curves(tail_params, np.concatenate([[float(m)], np.maximum(t, m)]))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(tail[:, [0]] > 0, tail[:, 1:] / tail[:, [0]], 0.0)
        return np.where(t_int[None, :] <= m, inside[:, np.minimum(t_int, m)], inside[:, [m]] * ratio)

    def survival(self, t) -> np.ndarray:
        """S(t) at integer months ``t``; past the longest observed tenure, the tail
        conditioned on survival to it, or :class:`FitError` without a tail."""
        t = self._months(t)
        tail_params = None if self.tail is None else self.tail.params[None, :]
        return self._extend(self._curves(self.hazards), tail_params, t)[0]

    @property
    def median_lifetime(self) -> float:
        """As for every fit; NaN without a tail when the curve stays above 0.5 in the data."""
        if self.tail is None:
            s = self.survival(np.arange(self.max_observed_tenure + 1))
            below = np.flatnonzero(s <= 0.5)
            return float(below[0]) if below.size else float("nan")
        return super().median_lifetime

    # ------------------------------------------------------------------ uncertainty
    def parameter_draws(self, n_draws: int, seed: int, method: str = "asymptotic") -> np.ndarray:
        """Hazard draws, shape (n_draws, m); ``method`` as in :meth:`survival_draws`."""
        check_draw_request(n_draws, 0, method)
        return self._hazard_draws(np.random.Generator(np.random.PCG64(seed)), n_draws, method)

    def _hazard_draws(self, rng: np.random.Generator, n_draws: int, method: str) -> np.ndarray:
        if method == "bootstrap":
            resampled = resample_counts(self.data, rng, n_draws)
            at_risk_indicator, churned_indicator = _risk_indicators(self.data)
            at_risk, churned = resampled @ at_risk_indicator, resampled @ churned_indicator
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(at_risk > 0, churned / at_risk, 0.0)
        at_risk, churned = self.data.risk_table()
        n = np.maximum(np.rint(at_risk), 1).astype(np.int64)
        p = np.clip(churned / np.maximum(at_risk, 1e-300), 0.0, 1.0)
        return rng.binomial(n[None, :], p[None, :], size=(n_draws, len(n))) / n[None, :]

    def survival_draws(self, n_draws: int, n_months: int, seed: int, method: str = "auto") -> np.ndarray:
        """Survival curves under sampling uncertainty, shape (n_draws, n_months + 1).

        ``"asymptotic"`` (and ``"auto"``): each month's hazard is an independent binomial
        proportion ``Binomial(at_risk_t, h_t) / at_risk_t`` (at-risk counts rounded to
        whole customers), the model behind Greenwood's variance. ``"bootstrap"``: the
        counts are resampled multinomially and the curve recomputed per draw. Past the
        observed window the tail's parameters are drawn with the same ``method``
        (``"auto"``: the tail's own choice; ``"bootstrap"``: the tail's pool).
        """
        check_draw_request(n_draws, n_months, method)
        if n_months > self.max_observed_tenure and self.tail is None:
            raise self._no_tail(n_months)
        rng = np.random.Generator(np.random.PCG64(seed))
        hazards = self._hazard_draws(rng, n_draws, method)
        tail_params = None
        if n_months > self.max_observed_tenure:
            tail_params = self.tail._parameter_draws(rng, n_draws, method)
        curves = self._extend(self._curves(hazards), tail_params, np.arange(n_months + 1, dtype=float))
        return as_survival_curves(curves)

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """JSON-ready description: the monthly hazards, likelihood, counts and the tail."""
        return {
            "family": self.family,
            "label": self.label,
            "parameters": {
                row.parameter: {"estimate": float(row.estimate), "lower_95": float(row.lower_95),
                                "upper_95": float(row.upper_95)}
                for row in self.summary.itertuples()
            },
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
            "log_likelihood": float(self.log_likelihood),
            "aic": None,
            "bic": None,
            "n_customers": float(self.n_customers),
            "n_events": float(self.n_events),
            "max_observed_tenure": int(self.max_observed_tenure),
            "median_lifetime_months": json_number(self.median_lifetime),
            "uncertainty": self.uncertainty,
            "tail": self.tail.to_dict() if self.tail is not None else None,
        }


def fit_kaplan_meier(data: SurvivalCounts, tail: ParametricFit | None = None) -> KaplanMeierFit:
    """The Kaplan-Meier record of ``data``, extrapolated by ``tail`` when given."""
    hazards, lower, upper, log_likelihood = kaplan_meier(data)
    return KaplanMeierFit(hazards=readonly(hazards), km_lower=readonly(lower), km_upper=readonly(upper),
                          log_likelihood=log_likelihood, data=data, tail=tail)
