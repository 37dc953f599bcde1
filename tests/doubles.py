"""Test doubles shared by the engine tests: stand-in retention fits and revenue dynamics.

Each fit satisfies :class:`simcore.engine.protocols.SurvivalModel`: ``survival_draws``
returns ``(n_draws, n_months + 1)`` curves that start at 1 and never increase. Every
random draw is seeded by the ``seed`` argument, as the engine's contract requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class GeometricFit:
    """Constant monthly hazard ``h``: ``S(t) = (1 - h)^t``.

    With ``spread = 0`` (the default) every parameter draw is the same curve, so closed
    forms apply; otherwise draw ``r`` has hazard ``h exp(spread Z_r)`` (clipped to
    [0, 1]), ``Z_r`` standard normal from ``seed``.
    """

    def __init__(self, hazard: float, spread: float = 0.0):
        self.hazard = hazard
        self.spread = spread

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        months = np.arange(n_months + 1)
        if self.spread == 0.0:
            return np.tile((1.0 - self.hazard) ** months, (n_draws, 1))
        rng = np.random.default_rng(seed)
        hazards = np.clip(self.hazard * np.exp(self.spread * rng.standard_normal(n_draws)), 0, 1)
        return (1 - hazards[:, None]) ** months[None, :]


class WeibullishFit:
    """Decreasing hazard ``h(t) = h0 (t + 1)^-0.3``, ``h0 = level exp(spread Z_r)`` drawn
    per replication from ``seed`` (survivors get better, as in heterogeneous cohorts)."""

    def __init__(self, level: float = 0.08, spread: float = 0.15):
        self.level = level
        self.spread = spread

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        rng = np.random.default_rng(seed)
        h0 = np.clip(self.level * np.exp(self.spread * rng.standard_normal(n_draws)), 0, 1)
        t = np.arange(n_months)
        hazard = np.minimum(1.0, h0[:, None] * (t[None, :] + 1.0) ** -0.3)
        survival = np.cumprod(1.0 - hazard, axis=1)
        return np.concatenate([np.ones((n_draws, 1)), survival], axis=1)


class SpreadFit(WeibullishFit):
    """:class:`WeibullishFit` at a level of 0.07: a decreasing hazard whose level varies
    across parameter draws."""

    def __init__(self, level: float = 0.07, spread: float = 0.15):
        super().__init__(level, spread)


class CurveFit:
    """Every parameter draw is the same survival curve ``survival_function(t)``."""

    def __init__(self, survival_function):
        self.survival_function = survival_function

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        curve = self.survival_function(np.arange(n_months + 1))
        return np.tile(curve, (n_draws, 1))


class NoChurn:
    """Nobody ever churns: ``S(t) = 1``."""

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        return np.ones((n_draws, n_months + 1))


@dataclass(frozen=True)
class Dynamics:
    """Expansion and contraction per renewal (a :class:`~simcore.engine.protocols.MrrDynamics`)."""

    p_expansion: float = 0.05
    expansion_log_mean: float = 0.1
    expansion_log_sd: float = 0.05
    p_contraction: float = 0.03
    contraction_log_mean: float = -0.15
    contraction_log_sd: float = 0.05


#: Strong expansion and contraction: a fifth of renewals change MRR by about +/-25%.
STRONG_DYNAMICS = Dynamics(p_expansion=0.12, expansion_log_mean=0.25, expansion_log_sd=0.15,
                           p_contraction=0.08, contraction_log_mean=-0.3,
                           contraction_log_sd=0.12)

#: Every renewal an expansion by exactly 10% (probability 1, no spread).
CERTAIN_GROWTH = Dynamics(p_expansion=1.0, expansion_log_mean=float(np.log(1.1)),
                          expansion_log_sd=0.0, p_contraction=0.0, contraction_log_mean=0.0,
                          contraction_log_sd=0.0)
