"""The immutable result of a sensitivity run, with tidy tables under their file names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from simcore.errors import Problem

#: Analyses, in the order they run and are reported (``--only`` takes these names).
ANALYSES = ("tornado", "grid", "solve", "sobol", "stress")


@dataclass(frozen=True)
class SensitivityResult:
    """``Project.sensitivity()``: tables (each also an attribute), manifest, warnings.

    Tables (present when their analysis ran):

    ``sensitivity_tornado``
        Per metric and lever: outcome at low and high, paired change from the base with
        its Monte Carlo error, swing and rank.
    ``sensitivity_grid``
        Per grid and point: the metric (mean, Monte Carlo error, P5, P95) and its paired
        change from the base.
    ``sensitivity_solve`` / ``sensitivity_solve_curves``
        Per solve (and reverse stress test): the lever value, its Monte Carlo error
        (bootstrap over replications) and the 90% interval of per-replication solves;
        the simulated curve.
    ``sensitivity_sobol`` / ``sensitivity_sobol_points``
        First-order and total Sobol' indices with 90% intervals; every design point.
    ``sensitivity_stress`` / ``sensitivity_stress_fans``
        Per stress template: the metric and its paired change from the base, cumulative
        cash's low point; P5 / P50 / P95 by month of MRR, customers and cumulative cash.
    """

    tables: dict
    manifest: dict
    warnings: tuple[Problem, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        return next(iter(self.tables.values()))

    def __getattr__(self, name: str):
        tables = self.__dict__.get("tables", {})
        for key in (name, f"sensitivity_{name}"):
            if key in tables:
                return tables[key]
        raise AttributeError(f"'SensitivityResult' has no attribute {name!r}")

    def write(self, directory: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
              plots: bool = True, report: bool = False) -> Path:
        """Every table in every format, ``plots/`` and ``manifest.json`` into a fresh
        directory, atomically (:func:`simcore.sensitivity.output.write_sensitivity`)."""
        from simcore.sensitivity.output import write_sensitivity

        return write_sensitivity(self, directory, formats=formats, force=force, plots=plots, report=report)
