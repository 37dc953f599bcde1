"""What the engine needs from the models it simulates, as :class:`typing.Protocol` types.

The engine never asks which family a retention fit is, or which class holds the revenue
dynamics: anything with the methods and attributes below will do (the retention
package's ``RetentionFit`` and ``RevenueDynamics``, a saved fit read back, a test
double). Importing this module imports neither numba nor pandas.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["MrrDynamics", "SurvivalModel"]


@runtime_checkable
class SurvivalModel(Protocol):
    """A fitted retention model that can draw survival curves under its uncertainty.

    The compile step asks for one curve per replication, on the monthly tenure grid
    ``t = 0..n_months`` (DESIGN §4: ``S(t)`` = probability a customer is still active
    after ``t`` months), and turns each into a monthly hazard table
    ``h(t) = 1 - S(t+1) / S(t)``.
    """

    def survival_draws(self, n_draws: int, n_months: int, seed: int,
                       method: str = "asymptotic") -> np.ndarray:
        """Survival curves under parameter uncertainty.

        Parameters
        ----------
        n_draws : int
            Number of curves (one per replication: row ``r`` feeds replication ``r``).
        n_months : int
            Last month of the grid (extrapolation past the observed window included).
        seed : int
            Same seed, same curves (the engine derives it from the run seed and the
            segment, so every scenario of a run sees the same draws).
        method : {"asymptotic", "bootstrap"}
            How parameter uncertainty is drawn.

        Returns
        -------
        (n_draws, n_months + 1) float64 array
            Row ``r`` is ``S(0), S(1), ..., S(n_months)`` under draw ``r``: every row
            starts at 1, never increases and stays in [0, 1] (the compile step checks
            this and reports a violation as a defect of the fit).
        """
        ...


@runtime_checkable
class MrrDynamics(Protocol):
    """Expansion and contraction of a segment's MRR, per renewal month.

    At each renewal the MRR is multiplied by ``exp(expansion_log_mean +
    expansion_log_sd Z)`` with probability ``p_expansion``, else by
    ``exp(contraction_log_mean + contraction_log_sd Z)`` with probability
    ``p_contraction``, else by 1 (``Z`` standard normal; probabilities per month, their
    sum at most 1 after scenario multipliers).
    """

    p_expansion: float
    expansion_log_mean: float
    expansion_log_sd: float
    p_contraction: float
    contraction_log_mean: float
    contraction_log_sd: float
