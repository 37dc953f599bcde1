"""Global sensitivity: Sobol' first-order and total indices over lever ranges (SALib).

Each lever varies uniformly over its ``[low, high]``; the design is Saltelli's
extension of a scrambled Sobol' sequence (``N (D + 2)`` points for ``D`` levers, first
and total order only), the estimators those of Saltelli et al. (2010) (first order) and
Jansen (1999) (total), as SALib implements them, with bootstrap confidence intervals
(90%). The model evaluated at a point is the metric's mean over the replications,
every point simulated with the same seed (common random numbers, so the Monte Carlo
noise is nearly the same at every point and barely enters the indices).

Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
"Variance based sensitivity analysis of model output. Design and estimator for the
total sensitivity index." Computer Physics Communications 181(2), 259-270.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd

CONFIDENCE = 0.90


def design(names: Sequence[str], bounds: Sequence[tuple[float, float]], samples: int, seed: int):
    """``(problem, X)``: the SALib problem and the ``N (D + 2)`` points to evaluate."""
    from SALib.sample import sobol as sampler

    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(map(float, b)) for b in bounds]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        points = sampler.sample(problem, int(samples), calc_second_order=False, scramble=True,
                                seed=int(seed) & 0xFFFFFFFF)
    return problem, points


def indices(problem: dict, outputs: np.ndarray, seed: int) -> pd.DataFrame:
    """First-order and total indices with their 90% bootstrap intervals, per lever."""
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sobol.analyze(problem, np.asarray(outputs, float), calc_second_order=False,
                               conf_level=CONFIDENCE, print_to_console=False, seed=int(seed) & 0xFFFFFFFF)
    first, first_half = np.asarray(result["S1"]), np.asarray(result["S1_conf"])
    total, total_half = np.asarray(result["ST"]), np.asarray(result["ST_conf"])
    return pd.DataFrame({"lever": problem["names"], "first_order": first, "first_order_lower_90": first - first_half,
                         "first_order_upper_90": first + first_half, "total": total,
                         "total_lower_90": total - total_half, "total_upper_90": total + total_half})


def sobol_table(model: Callable[[np.ndarray], np.ndarray], names: Sequence[str],
                bounds: Sequence[tuple[float, float]], samples: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sobol' indices of ``model`` (rows of lever values -> outputs).

    Returns
    -------
    (indices, points)
        The indices per lever, and every point evaluated with its output.
    """
    problem, points = design(names, bounds, samples, seed)
    outputs = np.asarray(model(points), float)
    table = indices(problem, outputs, seed)
    evaluated = pd.DataFrame(points, columns=list(names))
    evaluated["output"] = outputs
    return table, evaluated
