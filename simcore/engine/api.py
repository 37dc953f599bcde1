"""One call from fitted segments to tidy results: :func:`simulate`.

The populations (``existing`` base, ``new`` cohorts), the two kinds of interval and the
status are described in :mod:`simcore.engine.summary`, which builds the tables.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pandas as pd

from simcore.economics import Economics
from simcore.economics.status import StatusRule
from simcore.engine.accumulators import DEFAULT_BINS
from simcore.engine.compile import compile_book
from simcore.engine.compiled import CompiledBook
from simcore.engine.levers import ScenarioLevers
from simcore.engine.protocols import MrrDynamics, SurvivalModel
from simcore.engine.summary import (  # noqa: F401 - re-exported, the engine's public surface
    TOTAL_SEGMENT,
    SimulationResult,
    histogram_fraction_below,
    histogram_quantiles,
    summarise,
)
from simcore.errors import ConfigError, Problem

__all__ = ["SimulationResult", "StatusThresholds", "simulate", "simulate_compiled",
           "histogram_quantiles", "histogram_fraction_below"]

#: The status rule (kept under the engine's older name).
StatusThresholds = StatusRule


def _book_progress(book: CompiledBook, progress):
    """Per-segment callbacks that report ``progress(done, total)`` over the whole book."""
    sizes = [(s.n_existing + s.n_new) * s.replications for s in book.segments]
    total = int(sum(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    def for_segment(index: int):
        if progress is None:
            return None
        return lambda done, _segment_total: progress(int(offsets[index] + done), total)

    return for_segment


def simulate_compiled(book: CompiledBook, *, method: str = "engine",
                      thresholds: StatusRule = StatusRule(),
                      acquisition_cost_given: Mapping[str, bool] | None = None,
                      block_size: int = 64, chunk_size: int | None = None,
                      n_bins: int = DEFAULT_BINS, paths: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Simulate an already compiled book (for sweeps that compile once per scenario).

    ``paths`` sets the MRR paths simulated per replication for segments with expansion
    or contraction (see :func:`simcore.engine.run.run_segment`); ``progress`` is called
    as ``progress(done, total)`` in customer-lifetimes over the whole book (see
    :func:`simulate`).
    """
    segment_progress = _book_progress(book, progress)
    if method == "engine":
        from simcore.engine import warm_up
        from simcore.engine.rng import seed_to_uint64
        from simcore.engine.run import run_segment

        warm_up()
        seed = seed_to_uint64(book.seed)
        accumulators = {s.name: run_segment(s, seed, block_size=block_size,
                                            chunk_size=chunk_size, n_bins=n_bins, paths=paths,
                                            progress=segment_progress(i))
                        for i, s in enumerate(book.segments)}
    elif method == "reference":
        from simcore.engine.reference import reference_segment

        accumulators = {s.name: reference_segment(s, book.seed, n_bins=n_bins,
                                                  progress=segment_progress(i))
                        for i, s in enumerate(book.segments)}
    else:
        raise ConfigError(Problem(f"unknown simulation method {method!r}",
                                  "use 'engine' or 'reference'", field="simulation.method"))
    return summarise(book, accumulators, thresholds=thresholds, method=method,
                     acquisition_cost_given=acquisition_cost_given)


def simulate(
    fits: Mapping[str, SurvivalModel],
    customers: pd.DataFrame,
    economics: Economics | Mapping[str, Economics],
    dynamics: MrrDynamics | Mapping[str, MrrDynamics] | None = None,
    levers: ScenarioLevers | Mapping[str, ScenarioLevers] | None = None,
    *,
    replications: int = 1000,
    seed: int = 0,
    horizon_months: int = 120,
    include_existing: bool = True,
    include_new: bool = True,
    as_of: pd.Timestamp | None = None,
    draw_method: str = "asymptotic",
    thresholds: StatusRule = StatusRule(),
    acquisition_cost_given: Mapping[str, bool] | None = None,
    method: str = "engine",
    block_size: int = 64,
    chunk_size: int | None = None,
    n_bins: int = DEFAULT_BINS,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate every segment's customers and summarise the distributions.

    Parameters
    ----------
    fits
        Segment name -> fitted retention model (a
        :class:`~simcore.engine.protocols.SurvivalModel`: anything with
        ``survival_draws``). Replication ``r`` uses parameter draw ``r`` of each fit.
    customers
        The customer book's table (canonical columns, ``segment`` when there are
        several segments).
    economics, dynamics, levers
        One value for every segment or a mapping by segment name (optionally with a
        ``"default"`` entry). ``dynamics`` ``None`` = constant MRR; ``levers``
        ``None`` = baseline scenario.
    replications, seed, horizon_months
        Monte Carlo settings; ``horizon_months`` is both the projection window and the
        horizon over which each customer is valued.
    include_existing, include_new
        Simulate the existing base and/or the new cohorts.
    as_of
        Projection start; defaults to the latest date in the book. Anchors the
        baseline acquisition volume.
    draw_method
        How fits draw parameters (``"asymptotic"`` or ``"bootstrap"``).
    thresholds
        Status rule (:class:`simcore.economics.status.StatusRule`).
    acquisition_cost_given
        Segment -> whether a CAC or onboarding cost was given at all (default: yes);
        new customers of a segment without one get the status ``"no CAC given"``.
    method
        ``"engine"`` (numba) or ``"reference"`` (slow NumPy, for checking).
    block_size, chunk_size, n_bins
        Replications per kernel call, existing customers per kernel call, histogram
        bins; none of them changes the results (bins only their resolution).
    progress
        ``None``, or called as ``progress(done, total)`` after each block of
        replications of each segment: customer-lifetimes (customers x replications,
        existing and new) simulated so far and in the whole book, so a caller can show
        progress and estimate the time left from the rate so far. ``total`` is fixed
        for the call (0 for an empty book) and the last call has ``done == total``. It
        never changes results.

    Returns
    -------
    SimulationResult
        ``segment_summary`` columns: ``segment, population, customers`` (per
        replication); ``ltv_mean`` with ``ltv_mean_lower_90``, ``ltv_mean_upper_90``
        and ``ltv_mean_mc_error`` (the estimate), ``ltv_customer_p5/p50/p95`` (spread
        across customers); the same for ``unit_profit``; ``p_unit_profit_negative``
        (share of customers); ``cac, onboarding_cost``; ``ltv_to_cac`` with its
        ``_lower_90``/``_upper_90``; ``payback_months_p50`` (inf when most never pay
        back), ``p_payback_within_12_months``, ``p_payback_within_24_months``;
        ``total_value_mean`` with ``_lower_90``, ``_upper_90``, ``_mc_error`` (segment total: remaining value of the
        existing base; profit of new cohorts discounted to ``as_of``); ``status``.
        Several segments add an ``"(all segments)"`` row per population.
    """
    problems = []
    if not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        problems.append(Problem(f"seed must be a non-negative integer, got {seed!r}",
                                "use e.g. 42", field="simulation.seed"))
    if not isinstance(replications, (int, np.integer)) or replications < 1:
        problems.append(Problem(f"replications must be a positive integer, got {replications!r}",
                                "use e.g. 1000", field="simulation.replications"))
    if not isinstance(horizon_months, (int, np.integer)) or horizon_months < 1:
        problems.append(Problem(f"horizon_months must be a positive integer, got "
                                f"{horizon_months!r}", "use e.g. 120", field="horizon_months"))
    if problems:
        raise ConfigError(problems)
    book = compile_book(fits, customers, economics, dynamics=dynamics, levers=levers,
                        replications=int(replications), seed=int(seed),
                        horizon_months=int(horizon_months), include_existing=include_existing,
                        include_new=include_new, as_of=as_of, draw_method=draw_method)
    return simulate_compiled(book, method=method, thresholds=thresholds,
                             acquisition_cost_given=acquisition_cost_given, block_size=block_size,
                             chunk_size=chunk_size, n_bins=n_bins, progress=progress)
