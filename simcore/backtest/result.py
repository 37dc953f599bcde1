"""The immutable result of a backtest, with tidy tables under the names of their files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simcore.errors import Problem

#: Table names, in the order they are described and written.
TABLES = ("verdicts", "summary", "accuracy", "families", "revenue_calibration", "recalibration")


@dataclass(frozen=True)
class BacktestResult:
    """``Project.backtest()``: forecasts made at each cutoff against what happened.

    Tables (each also an attribute):

    ``verdicts``
        Per cutoff and segment: the segment's verdict and its retention, revenue and
        profit verdicts with the numbers behind them; the family chosen at the cutoff
        and the best one in hindsight.
    ``summary``
        Per cutoff, segment, population and metric: MAPE, bias, coverage of the
        P10–P90 and P5–P95 intervals, the end of the window, the verdict.
    ``accuracy``
        Per cutoff, segment, population, metric and month: the forecast (mean, P5, P10,
        P50, P90, P95), the actual, the error and where the actual fell.
    ``families``
        Per cutoff, segment and family fitted then: rank and weight at the cutoff,
        log-likelihood of what happened next, rank in hindsight.
    ``revenue_calibration``
        Per cutoff, segment and month (and pooled over the window): expansion and
        contraction predicted at the cutoff and realised (with an MRR history).
    ``recalibration``
        Per segment and assumption: its value at each cutoff and at ``as_of``, the
        change, and which moved most.

    See :mod:`simcore.backtest` for the definitions and the verdict rule.
    """

    cutoffs: tuple
    tables: dict
    manifest: dict
    warnings: tuple[Problem, ...]
    forecasts: tuple = field(default=(), repr=False)

    @property
    def table(self) -> pd.DataFrame:
        return self.tables["verdicts"]

    def __getattr__(self, name: str):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"'BacktestResult' has no attribute {name!r}")

    def write(self, directory: str | Path, *, force: bool = False) -> Path:
        """Write every table as CSV, one chart per segment and ``manifest.json`` into a
        fresh directory, atomically (nothing appears unless everything succeeded)."""
        from simcore.backtest.output import write_backtest

        return write_backtest(self, directory, force=force)


__all__ = ["BacktestResult", "TABLES"]
