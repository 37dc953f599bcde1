"""Is the asymptotic-normal approximation of a fit's parameter uncertainty usable?

Asymptotic draws take the unconstrained parameters from ``N(estimate, inverse observed
information)``. That describes the uncertainty only where the log-likelihood is close to
quadratic over the region the draws explore. On a flat ridge it is not: on the Telco
Month-to-month segment the generalized gamma's likelihood is flat in ``lambda`` from
about 6 to infinity, its asymptotic interval for ``lambda`` spans [-59, 72], and a third
of the asymptotic draws keep 90% of customers for ten years while the fitted curve keeps
3%. A fit is called **ill-conditioned** when any of these holds:

1. *singular information*: the observed information is not finite or not positive
   definite, or its correlation form has a condition number above
   :data:`MAX_CONDITION_NUMBER` (parameters nearly collinear);
2. *interval spanning orders of magnitude*: a log- or logit-scale parameter whose 95%
   Wald interval (on the unconstrained scale, mapped back) has upper / lower above
   :data:`MAX_INTERVAL_RATIO`;
3. *draws the data reject*: of :data:`CHECK_DRAWS` asymptotic draws, more than
   :data:`MAX_EXCEEDANCE` have a likelihood-ratio statistic ``2 (log L(estimate) - log
   L(draw))`` above the 99.9% quantile of chi-square with ``p`` degrees of freedom
   (under the approximation that statistic *is* chi-square(p), so 0.1% are expected);
4. *curves outside the sane band* (checked when the fit has a bootstrap pool): with
   ``S_H`` the survival at :data:`BAND_MONTHS` months, the band is the point fit's
   ``S_H`` plus or minus ``max(4 s, 0.05)``, ``s`` the bootstrap spread of ``S_H``
   (the 5%-95% range of the pool's ``S_H`` divided by 2 x 1.645, a normal-equivalent
   standard deviation); more than :data:`MAX_EXCEEDANCE` of the asymptotic draws'
   ``S_H`` outside the band is ill-conditioned.

Estimates on a boundary (a never-churning fraction of 0 or 1, parameters running off to
infinity) are refused by the fit itself (:mod:`simcore.retention.grid_fit`), so they never
get here. ``uncertainty="auto"`` draws an ill-conditioned fit's parameters from its
bootstrap pool (:mod:`simcore.retention.bootstrap`) instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from simcore.retention.families import FamilySpec, survival_on_grid
from simcore.retention.likelihood import GridLikelihood
from simcore.retention.names import LOG, LOGIT

#: Asymptotic draws used by the likelihood and band checks.
CHECK_DRAWS = 400
#: Seed of those draws (the check is part of the fit, so its seed is fixed).
CHECK_SEED = 1_729
#: Largest condition number of the information's correlation form still trusted.
MAX_CONDITION_NUMBER = 1e8
#: Largest upper / lower ratio of a log- or logit-scale parameter's 95% interval.
MAX_INTERVAL_RATIO = 1e3
#: Level of the likelihood-ratio check.
LIKELIHOOD_LEVEL = 0.999
#: Largest share of asymptotic draws failing a check before the fit is ill-conditioned.
MAX_EXCEEDANCE = 0.05
#: Month at which draws are compared with the band (simcore's default horizon).
BAND_MONTHS = 120
#: Smallest half-width of the band, in survival probability.
MIN_BAND_HALF_WIDTH = 0.05
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Conditioning:
    """The verdict on a fit's asymptotic approximation, with the figures behind it.

    Attributes
    ----------
    reasons : tuple of str
        Why the approximation is not trusted; empty when it is.
    likelihood_exceedance : float
        Share of check draws the data reject (check 3); NaN without a usable covariance.
    band : tuple of float
        The sane band of S at :data:`BAND_MONTHS` (check 4); NaN before a bootstrap pool.
    band_exceedance : float
        Share of check draws outside the band; NaN when not checked.
    """

    reasons: tuple[str, ...]
    likelihood_exceedance: float
    band: tuple[float, float] = (float("nan"), float("nan"))
    band_exceedance: float = float("nan")

    @property
    def well_conditioned(self) -> bool:
        return not self.reasons

    @property
    def method(self) -> str:
        """What ``uncertainty="auto"`` draws with: ``"asymptotic"`` or ``"bootstrap"``."""
        return "asymptotic" if self.well_conditioned else "bootstrap"

    @property
    def band_checked(self) -> bool:
        return bool(np.isfinite(self.band_exceedance))


def covariance_from_information(information: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Inverse of ``information`` and the problems that make it unusable (check 1).

    Returns a NaN matrix when the information is not finite or not positive definite.
    """
    p = information.shape[0]
    nan = np.full((p, p), np.nan)
    if not np.all(np.isfinite(information)):
        return nan, ["the observed information is not finite"]
    eigenvalues = np.linalg.eigvalsh(information)
    if not np.all(eigenvalues > 0):
        return nan, ["the likelihood is flat or curved the wrong way in some direction (the observed "
                     "information is not positive definite)"]
    covariance = np.linalg.inv(information)
    covariance = 0.5 * (covariance + covariance.T)
    scale = 1.0 / np.sqrt(np.diag(information))
    correlation_form = information * np.outer(scale, scale)
    condition = np.linalg.cond(correlation_form)
    if not condition <= MAX_CONDITION_NUMBER:
        return covariance, [f"the parameters are nearly collinear (condition number {condition:.2g})"]
    return covariance, []


def interval_problems(spec: FamilySpec, z: np.ndarray, covariance: np.ndarray) -> list[str]:
    """Log- or logit-scale parameters whose 95% interval spans orders of magnitude (check 2)."""
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    problems = []
    for j, (name, kind) in enumerate(zip(spec.param_names, spec.transforms)):
        if kind not in (LOG, LOGIT):
            continue
        lower, upper = spec.to_natural(np.array([z - _Z95 * se, z + _Z95 * se]))[:, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == LOGIT:
                # a fraction's interval spans orders of magnitude in its odds
                lower, upper = lower / (1 - lower), upper / (1 - upper)
            ratio = upper / lower
        if not ratio <= MAX_INTERVAL_RATIO:
            problems.append(f"the 95% interval of {name} spans {np.log10(ratio):.1f} orders of magnitude")
    return problems


def check_draws(z: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """The fixed asymptotic draws every check uses, shape (CHECK_DRAWS, p)."""
    rng = np.random.Generator(np.random.PCG64(CHECK_SEED))
    return rng.multivariate_normal(z, covariance, size=CHECK_DRAWS, method="eigh")


def chi2_quantile(level: float, df: int) -> float:
    """The ``level`` quantile of a chi-square distribution with ``df`` degrees of freedom,
    computed as ``scipy.stats.chi2.ppf`` does (importing scipy.stats for this one number
    would take a third of a second)."""
    return float(2.0 * special.gammaincinv(df / 2.0, level))


def likelihood_exceedance(objective: GridLikelihood, z: np.ndarray, covariance: np.ndarray,
                          log_likelihood: float) -> float:
    """Share of asymptotic draws whose likelihood-ratio statistic exceeds the chi-square
    quantile (check 3)."""
    draws = check_draws(z, covariance)
    with np.errstate(all="ignore"):
        statistic = 2.0 * (log_likelihood - objective.values(draws))
    threshold = chi2_quantile(LIKELIHOOD_LEVEL, len(z))
    return float(np.mean(~(statistic <= threshold)))


def band_check(spec: FamilySpec, z: np.ndarray, covariance: np.ndarray,
               pool_params: np.ndarray) -> tuple[tuple[float, float], float]:
    """The sane band at :data:`BAND_MONTHS` and the share of asymptotic draws outside it (check 4)."""
    months = np.array([0.0, float(BAND_MONTHS)])
    point = float(survival_on_grid(spec, spec.to_natural(z)[None, :], months)[0, 1])
    bootstrap = survival_on_grid(spec, pool_params, months)[:, 1]
    low, high = np.quantile(bootstrap, [0.05, 0.95])
    half_width = max(4.0 * (high - low) / (2.0 * 1.6448536269514722), MIN_BAND_HALF_WIDTH)
    band = (float(max(point - half_width, 0.0)), float(min(point + half_width, 1.0)))
    drawn = survival_on_grid(spec, spec.to_natural(check_draws(z, covariance)), months)[:, 1]
    outside = (drawn < band[0]) | (drawn > band[1])
    return band, float(np.mean(outside))


def assess(spec: FamilySpec, objective: GridLikelihood, z: np.ndarray, information: np.ndarray,
           log_likelihood: float) -> tuple[np.ndarray, Conditioning]:
    """Covariance and conditioning of a fit from its information (checks 1-3).

    Returns
    -------
    covariance : ndarray, shape (p, p)
        Inverse observed information (NaN when it has no inverse).
    conditioning : Conditioning
    """
    covariance, reasons = covariance_from_information(information)
    exceedance = float("nan")
    if np.all(np.isfinite(covariance)):
        reasons += interval_problems(spec, z, covariance)
        exceedance = likelihood_exceedance(objective, z, covariance, log_likelihood)
        if exceedance > MAX_EXCEEDANCE:
            reasons.append(f"{exceedance:.0%} of asymptotic parameter draws are rejected by the data "
                           f"(likelihood-ratio test at {LIKELIHOOD_LEVEL:.1%}; about "
                           f"{1 - LIKELIHOOD_LEVEL:.1%} expected)")
    return covariance, Conditioning(tuple(reasons), exceedance)


def with_band(conditioning: Conditioning, spec: FamilySpec, z: np.ndarray, covariance: np.ndarray,
              pool_params: np.ndarray) -> Conditioning:
    """``conditioning`` with check 4 done against a bootstrap pool."""
    if not np.all(np.isfinite(covariance)) or len(pool_params) == 0:
        return conditioning
    band, exceedance = band_check(spec, z, covariance, pool_params)
    reasons = conditioning.reasons
    if exceedance > MAX_EXCEEDANCE:
        reasons = reasons + (
            f"{exceedance:.0%} of asymptotic draws put S({BAND_MONTHS}) outside "
            f"[{band[0]:.3f}, {band[1]:.3f}], the point fit plus or minus four bootstrap standard deviations",
        )
    return Conditioning(reasons, conditioning.likelihood_exceedance, band, exceedance)
