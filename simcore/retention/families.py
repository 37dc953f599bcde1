"""Survival families on the monthly grid: closed forms, parameter transforms, names.

Every family is described by a :class:`FamilySpec`: its parameter names (natural scale,
the names lifelines uses for the lifelines-backed families), the transform from natural to
unconstrained parameters used for covariance and draws, and a vectorised survival function
``S(t)`` for many parameter vectors at once. Survival functions are written here in closed
form (instead of calling the lifelines fitter) because parameter draws need thousands of
curves at once; the tests compare every closed form against lifelines' own
``survival_function_at_times``.

Time is in grid periods (months for simcore data). ``S(t) = P(T > t)`` with ``S(0) = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats

#: Families fitted through lifelines' parametric univariate fitters.
LIFELINES_FAMILIES = (
    "exponential",
    "weibull",
    "lognormal",
    "loglogistic",
    "generalized_gamma",
    "piecewise_exponential",
    "cure_weibull",
)
#: Every parametric family, in the order used when ranking ties.
PARAMETRIC_FAMILIES = LIFELINES_FAMILIES + ("sbg",)
#: The non-parametric family (never ranked by AIC/BIC).
KAPLAN_MEIER = "kaplan_meier"
ALL_FAMILIES = PARAMETRIC_FAMILIES + (KAPLAN_MEIER,)

#: Default piecewise-exponential breakpoints (months); those at or beyond the longest
#: observed tenure are dropped because no customer is exposed past it.
DEFAULT_BREAKPOINTS = (3.0, 6.0, 12.0, 24.0)

_IDENTITY = "identity"
_LOG = "log"
_LOGIT = "logit"


def _positive_time(t: np.ndarray) -> np.ndarray:
    # t = 0 is handled by the caller (S(0) = 1); the floor only keeps log(t) finite.
    return np.maximum(np.asarray(t, dtype=float), 1e-300)


def _exponential(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    return np.exp(-t[None, :] / p[:, [0]])


def _weibull(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    scale, shape = p[:, [0]], p[:, [1]]
    return np.exp(-np.exp(shape * (np.log(_positive_time(t))[None, :] - np.log(scale))))


def _lognormal(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    z = (np.log(_positive_time(t))[None, :] - p[:, [0]]) / p[:, [1]]
    return stats.norm.sf(z)


def _loglogistic(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    scale, shape = p[:, [0]], p[:, [1]]
    return 1.0 / (1.0 + np.exp(shape * (np.log(_positive_time(t))[None, :] - np.log(scale))))


def _generalized_gamma(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    """lifelines' parametrisation (Stacy / Prentice): mu, ln_sigma, lambda.

    With Z = (log t - mu) / sigma and k = 1/lambda^2: S = Q(k, k e^{lambda Z}) for lambda > 0,
    P(k, k e^{lambda Z}) for lambda < 0 and the log-normal 1 - Phi(Z) at lambda = 0.
    """
    mu, sigma, lam = p[:, [0]], np.exp(p[:, [1]]), p[:, [2]]
    z = (np.log(_positive_time(t))[None, :] - mu) / sigma
    near_zero = np.abs(lam) < 1e-6
    safe_lam = np.where(near_zero, 1.0, lam)
    k = 1.0 / safe_lam**2
    x = np.clip(np.exp(np.clip(safe_lam * z, -700, 700)) * k, 1e-300, 1e300)
    upper = special.gammaincc(k, x)
    lower = special.gammainc(k, x)
    out = np.where(safe_lam > 0, upper, lower)
    return np.where(near_zero, stats.norm.sf(z), out)


def _piecewise_exponential(p: np.ndarray, t: np.ndarray, options: dict) -> np.ndarray:
    edges = np.concatenate([[0.0], np.asarray(options["breakpoints"], dtype=float), [np.inf]])
    # time spent in each interval up to t: shape (len(t), intervals)
    exposure = np.clip(t[:, None] - edges[None, :-1], 0.0, np.diff(edges)[None, :])
    cumulative_hazard = exposure @ (1.0 / p).T  # (len(t), draws)
    return np.exp(-cumulative_hazard.T)


def _cure_weibull(p: np.ndarray, t: np.ndarray, options: dict) -> np.ndarray:
    cured = p[:, [0]]
    return cured + (1.0 - cured) * _weibull(p[:, 1:], t, options)


def _sbg(p: np.ndarray, t: np.ndarray, _: dict) -> np.ndarray:
    """Shifted-beta-geometric: S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007)."""
    a, b = p[:, [0]], p[:, [1]]
    return np.exp(special.betaln(a, b + t[None, :]) - special.betaln(a, b))


@dataclass(frozen=True)
class FamilySpec:
    """How one family names, transforms and evaluates its parameters."""

    name: str
    param_names: tuple[str, ...]
    transforms: tuple[str, ...]
    survival: Callable[[np.ndarray, np.ndarray, dict], np.ndarray]
    description: str

    def to_unconstrained(self, natural: np.ndarray) -> np.ndarray:
        natural = np.asarray(natural, dtype=float)
        out = np.empty_like(natural)
        for j, kind in enumerate(self.transforms):
            x = natural[..., j]
            out[..., j] = x if kind == _IDENTITY else np.log(x) if kind == _LOG else special.logit(x)
        return out

    def to_natural(self, unconstrained: np.ndarray) -> np.ndarray:
        unconstrained = np.asarray(unconstrained, dtype=float)
        out = np.empty_like(unconstrained)
        for j, kind in enumerate(self.transforms):
            z = unconstrained[..., j]
            out[..., j] = z if kind == _IDENTITY else np.exp(z) if kind == _LOG else special.expit(z)
        return out

    def jacobian_diagonal(self, natural: np.ndarray) -> np.ndarray:
        """d(unconstrained)/d(natural) per parameter (all transforms act elementwise)."""
        natural = np.asarray(natural, dtype=float)
        out = np.ones_like(natural)
        for j, kind in enumerate(self.transforms):
            x = natural[j]
            if kind == _LOG:
                out[j] = 1.0 / x
            elif kind == _LOGIT:
                out[j] = 1.0 / (x * (1.0 - x))
        return out


def family_spec(family: str, options: dict | None = None) -> FamilySpec:
    """The :class:`FamilySpec` of ``family``; piecewise names depend on ``options['breakpoints']``."""
    options = options or {}
    if family == "exponential":
        return FamilySpec(family, ("lambda_",), (_LOG,), _exponential, "S(t) = exp(-t/lambda)")
    if family == "weibull":
        return FamilySpec(
            family, ("lambda_", "rho_"), (_LOG, _LOG), _weibull, "S(t) = exp(-(t/lambda)^rho)"
        )
    if family == "lognormal":
        return FamilySpec(
            family, ("mu_", "sigma_"), (_IDENTITY, _LOG), _lognormal,
            "S(t) = 1 - Phi((log t - mu)/sigma)",
        )
    if family == "loglogistic":
        return FamilySpec(
            family, ("alpha_", "beta_"), (_LOG, _LOG), _loglogistic,
            "S(t) = 1 / (1 + (t/alpha)^beta)",
        )
    if family == "generalized_gamma":
        return FamilySpec(
            family, ("mu_", "ln_sigma_", "lambda_"), (_IDENTITY,) * 3, _generalized_gamma,
            "generalized gamma (lifelines parametrisation)",
        )
    if family == "piecewise_exponential":
        breakpoints = tuple(options.get("breakpoints", ()))
        names = tuple(f"lambda_{i}_" for i in range(len(breakpoints) + 1))
        return FamilySpec(
            family, names, (_LOG,) * len(names), _piecewise_exponential,
            "constant hazard 1/lambda_i between breakpoints " + str(list(breakpoints)),
        )
    if family == "cure_weibull":
        return FamilySpec(
            family, ("cured_fraction_", "lambda_", "rho_"), (_LOGIT, _LOG, _LOG), _cure_weibull,
            "S(t) = c + (1 - c) exp(-(t/lambda)^rho)",
        )
    if family == "sbg":
        return FamilySpec(
            family, ("alpha", "beta"), (_LOG, _LOG), _sbg,
            "shifted-beta-geometric S(t) = B(alpha, beta + t) / B(alpha, beta)",
        )
    raise KeyError(family)


def survival_on_grid(spec: FamilySpec, natural: np.ndarray, t: np.ndarray, options: dict) -> np.ndarray:
    """S(t) for parameter rows ``natural`` (shape (draws, params)) at integer months ``t``.

    Returns shape (draws, len(t)). ``S(0)`` is set to exactly 1. Values are clipped to
    [0, 1] and made non-increasing with a running minimum, which only changes anything
    at the last floating-point digit of special-function evaluations.
    """
    natural = np.atleast_2d(np.asarray(natural, dtype=float))
    t = np.asarray(t, dtype=float)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        s = spec.survival(natural, t, options)
    s = np.where(t[None, :] <= 0, 1.0, s)
    s = np.nan_to_num(np.clip(s, 0.0, 1.0), nan=0.0)
    order = np.argsort(t, kind="stable")
    s_sorted = np.minimum.accumulate(s[:, order], axis=1)
    out = np.empty_like(s)
    out[:, order] = s_sorted
    return out
