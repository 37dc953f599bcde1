"""The family registry's implementations: closed-form survival, gradients, start points.

:mod:`simcore.retention.names` declares every family (name, label, parameter names,
transforms); this module gives each parametric one its survival function ``S(t)`` for
many parameter vectors at once, the gradient of ``S`` with respect to the unconstrained
parameters where it is cheap in closed form, and its start-point rule
(:mod:`simcore.retention.start`). :func:`family_spec` joins both into one
:class:`FamilySpec`, the single object every fit, draw and saved fit goes through.

Survival functions are written here (not taken from lifelines) because parameter draws
need thousands of curves at once; the tests compare every closed form with lifelines'
``survival_function_at_times``. Gradients are checked against finite differences.

Time is in grid periods (months for simcore data). ``S(t) = P(T > t)`` with ``S(0) = 1``.
Array shapes: parameters ``(draws, p)``, months ``(m,)``, survival ``(draws, m)``,
gradient ``(draws, m, p)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from simcore.errors import FitError, Problem
import simcore.retention.start as start
from simcore.retention.names import (  # noqa: F401  (ALL_FAMILIES, KAPLAN_MEIER: read from here by plots)
    ALL_FAMILIES,
    FAMILIES,
    GRID_BACKEND,
    IDENTITY,
    KAPLAN_MEIER,
    LOG,
    LOGIT,
    PARAMETRIC_FAMILIES,
    choices_text,
    parameter_names,
    transforms,
)

#: Default piecewise-exponential breakpoints (months); those at or beyond the longest
#: observed tenure are dropped because no customer is exposed past it.
DEFAULT_BREAKPOINTS = (3.0, 6.0, 12.0, 24.0)

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def _log_time(t: np.ndarray) -> np.ndarray:
    # t = 0 is set to S = 1 by survival_on_grid; the floor only keeps log(t) finite.
    return np.log(np.maximum(np.asarray(t, dtype=float), 1e-300))[None, :]


# --------------------------------------------------------------------------- exponential
def _exponential(p, t, options):
    return np.exp(-t[None, :] / p[:, [0]])


def _exponential_gradient(p, t, options):
    s = _exponential(p, t, options)
    return s, (s * t[None, :] / p[:, [0]])[:, :, None]


# --------------------------------------------------------------------------- Weibull
def _weibull_hazard(p, t):
    scale, shape = p[:, [0]], p[:, [1]]
    log_ratio = _log_time(t) - np.log(scale)
    return np.exp(shape * log_ratio), shape, log_ratio


def _weibull(p, t, options):
    return np.exp(-_weibull_hazard(p, t)[0])


def _weibull_gradient(p, t, options):
    cumulative, shape, log_ratio = _weibull_hazard(p, t)
    s = np.exp(-cumulative)
    # H = (t / lambda)^rho: dH/dlog(lambda) = -rho H, dH/dlog(rho) = rho log(t / lambda) H
    d_scale = s * shape * cumulative
    d_shape = -s * shape * log_ratio * cumulative
    return s, np.stack([d_scale, d_shape], axis=-1)


# --------------------------------------------------------------------------- log-normal
def _lognormal_z(p, t):
    return (_log_time(t) - p[:, [0]]) / p[:, [1]]


def _lognormal(p, t, options):
    return special.ndtr(-_lognormal_z(p, t))


def _lognormal_gradient(p, t, options):
    z = _lognormal_z(p, t)
    density = np.exp(-0.5 * z * z) / _SQRT_2PI
    return special.ndtr(-z), np.stack([density / p[:, [1]], density * z], axis=-1)


# --------------------------------------------------------------------------- log-logistic
def _loglogistic_odds(p, t):
    scale, shape = p[:, [0]], p[:, [1]]
    log_ratio = _log_time(t) - np.log(scale)
    return np.exp(shape * log_ratio), shape, log_ratio


def _loglogistic(p, t, options):
    return 1.0 / (1.0 + _loglogistic_odds(p, t)[0])


def _loglogistic_gradient(p, t, options):
    odds, shape, log_ratio = _loglogistic_odds(p, t)
    s = 1.0 / (1.0 + odds)
    # dS/du = -S^2 with u = (t / alpha)^beta
    d_scale = s * s * shape * odds
    d_shape = -s * s * shape * log_ratio * odds
    return s, np.stack([d_scale, d_shape], axis=-1)


# --------------------------------------------------------------------------- generalized gamma
def _generalized_gamma(p, t, options):
    """lifelines' parametrisation (Stacy / Prentice): mu, ln_sigma, lambda.

    With Z = (log t - mu) / sigma and k = 1/lambda^2: S = Q(k, k e^{lambda Z}) for lambda > 0,
    P(k, k e^{lambda Z}) for lambda < 0 and the log-normal 1 - Phi(Z) at lambda = 0.
    """
    mu, sigma, lam = p[:, [0]], np.exp(p[:, [1]]), p[:, [2]]
    z = (_log_time(t) - mu) / sigma
    out = np.full((p.shape[0], len(t)), np.nan)
    near_zero = np.abs(lam[:, 0]) < 1e-6
    out[near_zero] = special.ndtr(-z[near_zero])
    # one incomplete gamma per row (upper for lambda > 0, lower for lambda < 0): the
    # special function is most of the cost of a generalized gamma fit
    for rows, function in ((~near_zero & (lam[:, 0] > 0), special.gammaincc),
                           (~near_zero & (lam[:, 0] < 0), special.gammainc)):
        if rows.any():
            k = 1.0 / lam[rows] ** 2
            x = np.clip(np.exp(np.clip(lam[rows] * z[rows], -700, 700)) * k, 1e-300, 1e300)
            out[rows] = function(k, x)
    return out


def _generalized_gamma_gradient(p, t, options):
    """Closed form in mu and ln_sigma; central differences in lambda (the derivative of
    the incomplete gamma function in its shape has no cheap closed form).

    With x = k e^{lambda z}, dS/dz = -x^k e^{-x} |lambda| / Gamma(k) on both branches
    (-phi(z) at lambda = 0), dz/dmu = -1/sigma and dz/dln_sigma = -z.
    """
    mu, sigma, lam = p[:, [0]], np.exp(p[:, [1]]), p[:, [2]]
    z = (_log_time(t) - mu) / sigma
    safe_lam = np.where(np.abs(lam) < 1e-6, 1.0, lam)
    k = 1.0 / safe_lam**2
    log_x = np.log(k) + np.clip(safe_lam * z, -700, 700)
    density = np.exp(k * log_x - np.exp(log_x) - special.gammaln(k)) * np.abs(safe_lam)
    density = np.where(np.abs(lam) < 1e-6, np.exp(-0.5 * z * z) / _SQRT_2PI, density)
    d_z = -density
    step = 1e-6 * np.maximum(1.0, np.abs(p[:, 2]))
    up, down = p.copy(), p.copy()
    up[:, 2] += step
    down[:, 2] -= step
    d_lam = (_generalized_gamma(up, t, options) - _generalized_gamma(down, t, options)) / (2.0 * step[:, None])
    return _generalized_gamma(p, t, options), np.stack([-d_z / sigma, -d_z * z, d_lam], axis=-1)


# --------------------------------------------------------------------------- piecewise
def _exposure(t, breakpoints):
    """Months spent in each piece up to t, shape (len(t), pieces)."""
    edges = np.concatenate([[0.0], np.asarray(breakpoints, dtype=float), [np.inf]])
    return np.clip(t[:, None] - edges[None, :-1], 0.0, np.diff(edges)[None, :])


def _piecewise_exponential(p, t, options):
    return np.exp(-(_exposure(t, options["breakpoints"]) @ (1.0 / p).T).T)


def _piecewise_exponential_gradient(p, t, options):
    exposure = _exposure(t, options["breakpoints"])
    s = np.exp(-(exposure @ (1.0 / p).T).T)
    return s, s[:, :, None] * exposure[None, :, :] / p[:, None, :]


# --------------------------------------------------------------------------- cure model
def _cure_weibull(p, t, options):
    cured = p[:, [0]]
    return cured + (1.0 - cured) * _weibull(p[:, 1:], t, options)


def _cure_weibull_gradient(p, t, options):
    cured = p[:, [0]]
    w, dw = _weibull_gradient(p[:, 1:], t, options)
    d_cured = cured * (1.0 - cured) * (1.0 - w)
    return cured + (1.0 - cured) * w, np.concatenate([d_cured[:, :, None], (1.0 - cured)[:, :, None] * dw], axis=-1)


# --------------------------------------------------------------------------- sBG
def _sbg(p, t, options):
    """S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007)."""
    a, b = p[:, [0]], p[:, [1]]
    return np.exp(special.betaln(a, b + t[None, :]) - special.betaln(a, b))


def _sbg_gradient(p, t, options):
    a, b = p[:, [0]], p[:, [1]]
    s = _sbg(p, t, options)
    # d log B(x, y) / dx = psi(x) - psi(x + y)
    psi_all = special.digamma(a + b + t[None, :])
    psi_ab = special.digamma(a + b)
    d_log_a = a * (psi_ab - psi_all)
    d_log_b = b * (special.digamma(b + t[None, :]) - psi_all - special.digamma(b) + psi_ab)
    return s, np.stack([s * d_log_a, s * d_log_b], axis=-1)


# --------------------------------------------------------------------------- two-class geometric
def _two_class_parts(p, t):
    churn, share, extra = p[:, [0]], p[:, [1]], p[:, [2]]
    t = t[None, :]
    loyal = (1.0 - churn) ** t
    other = (1.0 - extra) ** t
    return churn, share, extra, t, loyal, other


def _two_class_geometric(p, t, options):
    """S(t) = (1 - p)^t (w + (1 - w)(1 - q)^t): geometric lifetimes in two latent classes."""
    _, share, _, _, loyal, other = _two_class_parts(p, t)
    return loyal * (share + (1.0 - share) * other)


def _two_class_geometric_gradient(p, t, options):
    churn, share, extra, t, loyal, other = _two_class_parts(p, t)
    s = loyal * (share + (1.0 - share) * other)
    # with logit parameters: dS/dlogit(p) = -t p S, dS/dlogit(w) = w (1 - w) (1 - p)^t (1 - (1 - q)^t),
    # dS/dlogit(q) = -t q (1 - w) (1 - p)^t (1 - q)^t
    d_churn = -t * churn * s
    d_share = share * (1.0 - share) * loyal * (1.0 - other)
    d_extra = -t * extra * (1.0 - share) * loyal * other
    return s, np.stack([d_churn, d_share, d_extra], axis=-1)


_IMPLEMENTATIONS: dict[str, tuple[Callable, Callable | None, Callable]] = {
    "exponential": (_exponential, _exponential_gradient, start.exponential),
    "weibull": (_weibull, _weibull_gradient, start.weibull),
    "lognormal": (_lognormal, _lognormal_gradient, start.lognormal),
    "loglogistic": (_loglogistic, _loglogistic_gradient, start.loglogistic),
    "generalized_gamma": (_generalized_gamma, _generalized_gamma_gradient, start.generalized_gamma),
    "piecewise_exponential": (_piecewise_exponential, _piecewise_exponential_gradient,
                              start.piecewise_exponential),
    "cure_weibull": (_cure_weibull, _cure_weibull_gradient, start.cure_weibull),
    "sbg": (_sbg, _sbg_gradient, start.sbg),
    "two_class_geometric": (_two_class_geometric, _two_class_geometric_gradient, start.two_class_geometric),
}

if set(_IMPLEMENTATIONS) != set(PARAMETRIC_FAMILIES):  # pragma: no cover - caught by import in tests
    raise ImportError(
        "simcore.retention.names and simcore.retention.families disagree on the parametric families: "
        f"declared {sorted(PARAMETRIC_FAMILIES)}, implemented {sorted(_IMPLEMENTATIONS)}"
    )


@dataclass(frozen=True)
class FamilySpec:
    """One registry entry: declaration and implementation of a parametric family.

    Attributes
    ----------
    name, label : str
    param_names, transforms : tuple of str
    formula : str
    backend : str
    options : dict
        ``breakpoints`` (months) for the piecewise family; empty otherwise.
    survival : callable
        ``survival(natural (draws, p), t (m,), options) -> (draws, m)``, unclipped.
    survival_gradient : callable or None
        ``(natural, t, options) -> (S (draws, m), dS/dz (draws, m, p))`` with ``z`` the
        unconstrained parameters; None when the likelihood uses finite differences.
    start_points : callable
        ``(SurvivalCounts, options) -> list of natural parameter vectors``.
    """

    name: str
    label: str
    param_names: tuple[str, ...]
    transforms: tuple[str, ...]
    formula: str
    backend: str
    options: dict
    survival: Callable
    survival_gradient: Callable | None
    start_points: Callable

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def to_unconstrained(self, natural) -> np.ndarray:
        natural = np.asarray(natural, dtype=float)
        out = np.empty_like(natural)
        for j, kind in enumerate(self.transforms):
            x = natural[..., j]
            out[..., j] = x if kind == IDENTITY else np.log(x) if kind == LOG else special.logit(x)
        return out

    def to_natural(self, unconstrained) -> np.ndarray:
        unconstrained = np.asarray(unconstrained, dtype=float)
        out = np.empty_like(unconstrained)
        for j, kind in enumerate(self.transforms):
            z = unconstrained[..., j]
            out[..., j] = z if kind == IDENTITY else np.exp(z) if kind == LOG else special.expit(z)
        return out

    def jacobian_diagonal(self, natural) -> np.ndarray:
        """d(unconstrained)/d(natural) per parameter (every transform acts elementwise)."""
        natural = np.asarray(natural, dtype=float)
        out = np.ones_like(natural)
        for j, kind in enumerate(self.transforms):
            x = natural[..., j]
            if kind == LOG:
                out[..., j] = 1.0 / x
            elif kind == LOGIT:
                out[..., j] = 1.0 / (x * (1.0 - x))
        return out

    def curves(self, natural, t) -> np.ndarray:
        """S at months ``t`` for parameter rows ``natural``: see :func:`survival_on_grid`."""
        return survival_on_grid(self, natural, t)


def family_spec(family: str, options: dict | None = None) -> FamilySpec:
    """The registry entry of a parametric ``family``.

    Parameters
    ----------
    family : str
        One of :data:`simcore.retention.names.PARAMETRIC_FAMILIES`.
    options : dict, optional
        ``breakpoints`` (sorted months > 0) for ``piecewise_exponential``.

    Raises
    ------
    FitError
        Unknown or non-parametric family.
    """
    options = dict(options or {})
    if family not in _IMPLEMENTATIONS:
        raise FitError(Problem(
            f"unknown parametric retention family {family!r}",
            "choose one of " + choices_text(PARAMETRIC_FAMILIES), field="retention.family",
        ))
    info = FAMILIES[family]
    survival, gradient, start_points = _IMPLEMENTATIONS[family]
    n_pieces = None
    if family == "piecewise_exponential":
        options = {"breakpoints": tuple(float(b) for b in options["breakpoints"])}
        n_pieces = len(options["breakpoints"]) + 1
    else:
        options = {}
    assert info.backend == GRID_BACKEND
    return FamilySpec(
        name=family, label=info.label, param_names=parameter_names(family, n_pieces),
        transforms=transforms(family, n_pieces), formula=info.formula, backend=info.backend,
        options=options, survival=survival, survival_gradient=gradient, start_points=start_points,
    )


def survival_on_grid(spec: FamilySpec, natural, t) -> np.ndarray:
    """S(t) for parameter rows ``natural`` (shape (draws, p)) at integer months ``t``.

    Returns shape (draws, len(t)). ``S(0)`` is set to exactly 1. Values are clipped to
    [0, 1] and made non-increasing with a running minimum, which only changes anything
    at the last floating-point digit of special-function evaluations.
    """
    natural = np.atleast_2d(np.asarray(natural, dtype=float))
    t = np.asarray(t, dtype=float)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        s = spec.survival(natural, t, spec.options)
    s = np.where(t[None, :] <= 0, 1.0, s)
    s = np.nan_to_num(np.clip(s, 0.0, 1.0), nan=0.0)
    if np.all(np.diff(t) > 0):
        return np.minimum.accumulate(s, axis=1)
    order = np.argsort(t, kind="stable")
    out = np.empty_like(s)
    out[:, order] = np.minimum.accumulate(s[:, order], axis=1)
    return out
