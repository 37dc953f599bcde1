"""Forecast-accuracy audit: backtest retention, revenue and profit forecasts.

For each cutoff date, the book is rebuilt as it was known then, fitted and projected to
``as_of`` with the project's own settings, and the forecast is set against what
happened, per segment and month::

    import simcore

    project = simcore.Project.from_config("config.yaml")
    audit = project.backtest(["2024-06", "2024-12"], replications=200)
    audit.verdicts          # per cutoff and segment: calibrated / over-optimistic / over-pessimistic
    audit.accuracy          # per month: forecast mean, P5..P95, actual, error
    audit.write("runs/backtest")

The pieces, one module each:

* :mod:`~simcore.backtest.cutoff` — the book as known at a cutoff (later signups
  removed, later churns censored, tenures recomputed, history truncated, MRR at the
  cutoff), the checks on cutoffs, and why segment labels stay fixed;
* :mod:`~simcore.backtest.forecast` — the fit and simulation at a cutoff, every
  replication kept;
* :mod:`~simcore.backtest.actuals` — what happened, on the engine's monthly grid;
* :mod:`~simcore.backtest.accuracy` — errors, interval coverage and the verdict rule;
* :mod:`~simcore.backtest.hindsight` — the family chosen then against the best in
  hindsight;
* :mod:`~simcore.backtest.rates` — expansion and contraction, predicted against realised;
* :mod:`~simcore.backtest.recalibration` — which assumptions moved between cutoffs;
* :mod:`~simcore.backtest.output`, :mod:`~simcore.backtest.chart`,
  :mod:`~simcore.backtest.section` — the output directory, one chart per segment, and the
  data of a report's backtest section.
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

_LAZY = {
    "run_backtest": "simcore.backtest.run",
    "VERDICT_RULE": "simcore.backtest.run",
    "BacktestResult": "simcore.backtest.result",
    "BacktestSection": "simcore.backtest.section",
    "backtest_section": "simcore.backtest.section",
    "MIN_WINDOW_MONTHS": "simcore.backtest.cutoff",
    "book_at_cutoff": "simcore.backtest.cutoff",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY)
