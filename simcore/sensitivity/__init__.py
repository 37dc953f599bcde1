"""Sensitivity tables and stress tests over the scenario levers.

Analyses (each a function of a :class:`~simcore.sensitivity.sweep.Sweep`; every sweep
point a compiled book simulated through :func:`simcore.executors.simulate_books` with
the same seed — common random numbers, so differences between points are paired and
their Monte Carlo errors small):

* **tornado** (:func:`~simcore.sensitivity.analyses.tornado`): the swing of a metric
  per lever between its low and high settings, with the Monte Carlo error of each
  paired change;
* **grids** (:func:`~simcore.sensitivity.analyses.grid`): 1-D and 2-D sweeps, with the
  break-even contour;
* **solves** (:mod:`simcore.sensitivity.solve`): the lever value at which a metric
  reaches a target or is largest, with a bootstrap Monte Carlo error and the 90%
  interval of per-replication solves;
* **Sobol' indices** (:mod:`simcore.sensitivity.sobol`, SALib);
* **stress** (:mod:`simcore.sensitivity.stress`): downturn templates, fan charts,
  reverse stress tests (solves).

:func:`run_sensitivity` runs what a config's ``sensitivity:`` section asks for
(``Project.sensitivity`` and ``simcore sensitivity`` call it).
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

_LAZY = {
    "run_sensitivity": "simcore.sensitivity.run",
    "SensitivityResult": "simcore.sensitivity.result",
    "ANALYSES": "simcore.sensitivity.result",
    "Sweep": "simcore.sensitivity.sweep",
    "Metric": "simcore.sensitivity.metrics",
    "apply_lever": "simcore.sensitivity.levers",
    "tornado": "simcore.sensitivity.analyses",
    "grid": "simcore.sensitivity.analyses",
    "solve": "simcore.sensitivity.solve",
    "sobol_table": "simcore.sensitivity.sobol",
    "stress": "simcore.sensitivity.stress",
    "write_sensitivity": "simcore.sensitivity.output",
    "sensitivity_section": "simcore.sensitivity.section",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
