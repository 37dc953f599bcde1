"""The forecast a run would have made at a cutoff, kept per replication.

At each cutoff the book as then known (:mod:`simcore.backtest.cutoff`) is fitted and
simulated with the project's own settings — segments, retention (family, criterion,
uncertainty, model averaging, holdout), economics and cost tables (their trailing windows
now end at the cutoff), acquisition, seed — through the same
:meth:`simcore.Project.simulate` a run uses. Three settings differ, each for a reason:

* only the baseline is simulated: a backtest audits the forecast of what was planned,
  and scenarios are hypotheticals that did not happen;
* ``horizon_months`` is the number of months from the cutoff to ``as_of``: the monthly
  projection of a month does not depend on how far beyond it customers are valued, and
  nothing later can be compared;
* saved fits are not reused: the point is to refit on what was known.

The engine's ``projection`` table gives P10/P50/P90; the audit needs every replication
(P5/P95, where the actual falls in the distribution), so the monthly series are read from
the simulation's accumulators: per replication, population (``existing``: active at the
cutoff; ``new``: acquired after it) and projection month, the active customers, MRR and
contribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.backtest.cutoff import Cutoff
from simcore.errors import Problem, SimcoreError

#: Monthly metrics of the engine's accumulators, in their order.
ENGINE_METRICS = ("active_customers", "mrr", "contribution")
POPULATIONS = ("existing", "new")


@dataclass(frozen=True)
class CutoffForecast:
    """What was forecast at one cutoff.

    Attributes
    ----------
    cutoff : Cutoff
    book : simcore.results.SegmentedBook
        The book as known at the cutoff.
    fit : simcore.results.FitResult
        Retention per segment and revenue dynamics fitted on that book.
    economics : simcore.economics.SegmentEconomics
        Economics resolved at the cutoff.
    series : dict
        ``series[segment][population][metric]``: (replications, months) float64 arrays;
        populations ``existing`` and ``new``; metrics ``active_customers``, ``mrr``
        (money / month) and ``contribution`` (money / month).
    base : dict of str -> int
        Customers active at the cutoff, per segment.
    warnings : tuple of Problem
        The fit's warnings, each prefixed with the cutoff.
    """

    cutoff: Cutoff
    book: object
    fit: object
    economics: object
    series: dict
    base: dict
    warnings: tuple[Problem, ...]


def cutoff_config(config, months: int):
    """The project's config for a forecast made at a cutoff (see the module notes)."""
    retention = config.retention.model_copy(update={"saved_fits": None})
    return config.model_copy(update={"horizon_months": int(months), "scenarios": [], "include": [], "sensitivity": None,
                                     "retention": retention})


def at_cutoff(cutoff: Cutoff, problems) -> list[Problem]:
    """``problems`` with the cutoff named at the start of each message."""
    from dataclasses import replace

    return [replace(p, message=f"cutoff {cutoff.label}: {p.message}") for p in problems]


def forecast_at_cutoff(project, book, cutoff: Cutoff, *, replications: int, seed: int,
                       on_compile=None, executor=None) -> CutoffForecast:
    """Fit ``book`` (the book known at ``cutoff``) and simulate its baseline to ``as_of``.

    Parameters
    ----------
    project : simcore.Project
        The full project, whose settings are used.
    book : simcore.results.SegmentedBook
        The book as known at the cutoff.
    cutoff : Cutoff
    replications, seed : int
        Monte Carlo settings.
    on_compile : callable, optional
        Called once before the simulation kernels compile.
    executor : simcore.executors.Executor, optional
        Where the simulation's work units run (default: the config's ``executor:``).

    Raises
    ------
    SimcoreError
        Whatever the fit or the simulation raise, each problem prefixed with the cutoff.
    """
    from simcore.config import BASELINE

    at = project.with_book(book, cutoff_config(project.config, cutoff.months))
    try:
        run = at.simulate([], replications=replications, seed=seed, on_compile=on_compile, executor=executor)
    except SimcoreError as error:
        raise type(error)(at_cutoff(cutoff, error.problems), total=error.total) from None
    simulation = run.simulations[BASELINE]
    months = cutoff.months
    series = {}
    for segment, accumulators in simulation.accumulators.items():
        monthly = np.asarray(accumulators.monthly, dtype=np.float64)[..., :months]
        series[str(segment)] = {
            population: {metric: monthly[:, p, m, :].copy() for m, metric in enumerate(ENGINE_METRICS)}
            for p, population in enumerate(POPULATIONS)}
    active = book.customers.loc[~book.customers["churned"].astype(bool)]
    base = active.groupby("segment").size().astype(int).to_dict()
    base = {segment: int(base.get(segment, 0)) for segment in series}
    # The fit's warnings (an ill-conditioned curve at a cutoff explains a poor forecast);
    # the economics' warnings repeat the full run's for every cutoff and are left out.
    return CutoffForecast(cutoff, book, run.fit, at.economics(), series, base,
                          tuple(at_cutoff(cutoff, run.fit.warnings)))


__all__ = ["CutoffForecast", "ENGINE_METRICS", "POPULATIONS", "at_cutoff", "cutoff_config", "forecast_at_cutoff"]
