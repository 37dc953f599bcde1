"""One call from a project and cutoffs to a backtest: :func:`run_backtest`."""

from __future__ import annotations

import numbers
import platform
import time
from typing import Callable, Sequence

import pandas as pd

from simcore._version import __version__
from simcore.backtest.accuracy import VERDICT_METRICS, accuracy_table, summary_table, verdict_table
from simcore.backtest.actuals import _MrrLookup, actuals_after
from simcore.backtest.cutoff import (
    MIN_WINDOW_MONTHS,
    book_at_cutoff,
    check_cutoffs,
    check_segments_at_cutoff,
    refuse_tenure_shape,
)
from simcore.backtest.forecast import forecast_at_cutoff
from simcore.backtest.hindsight import family_table
from simcore.backtest.rates import calibration_table, transitions
from simcore.backtest.recalibration import assumptions, recalibration_table
from simcore.backtest.result import BacktestResult
from simcore.config import config_hash
from simcore.errors import ConfigError, Problem
from simcore.executors import executor_for
from simcore.progress import Progress

#: The verdict rule, as written into the manifest and shown by the report.
VERDICT_RULE = (
    "At the end of the window, on the customers active at the cutoff: over-optimistic when the actual is below "
    "the forecast's P5, over-pessimistic when above its P95, calibrated otherwise; applied to active customers "
    "(retention), MRR (revenue) and contribution summed over the window (profit). A segment is calibrated when "
    "every audited quantity is, takes the common direction when the flagged ones agree, and is mixed otherwise."
)


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_settings(replications, seed) -> None:
    problems = []
    if not _whole(replications) or replications < 1:
        problems.append(Problem(f"replications must be a positive whole number, got {replications!r}",
                                "use e.g. 200", field="simulation.replications"))
    if not _whole(seed) or seed < 0:
        problems.append(Problem(f"seed must be a whole number >= 0, got {seed!r}", "use e.g. 42",
                                field="simulation.seed"))
    if problems:
        raise ConfigError(problems)



def run_backtest(project, cutoffs: Sequence, *, replications: int | None = None, seed: int | None = None,
                 progress: Progress | None = None, on_compile: Callable[[], None] | None = None,
                 executor=None) -> BacktestResult:
    """Audit the forecasts a run would have made at each cutoff against what happened.

    For each cutoff: rebuild the book as known then (:mod:`simcore.backtest.cutoff`), fit
    and simulate it with the project's settings up to ``as_of``
    (:mod:`simcore.backtest.forecast`), and compare month by month with what the full
    book shows (:mod:`simcore.backtest.actuals`, :mod:`simcore.backtest.accuracy`);
    score the families fitted then on what happened (:mod:`simcore.backtest.hindsight`)
    and the expansion and contraction rates (:mod:`simcore.backtest.rates`). Finally set
    the assumptions of every cutoff beside today's (:mod:`simcore.backtest.recalibration`).

    Parameters
    ----------
    project : simcore.Project
        A project on a date-shaped book.
    cutoffs : sequence of str or date
        ``YYYY-MM-DD`` or ``YYYY-MM``; each is taken as its month end, and must fall after
        the first signup and at least :data:`~simcore.backtest.cutoff.MIN_WINDOW_MONTHS`
        whole months before ``as_of``.
    replications, seed : int, optional
        Default ``simulation.replications`` / ``simulation.seed`` of the config.
    progress : callable, optional
        Called as ``progress(step, done, total)``.
    on_compile : callable, optional
        Called once before the simulation kernels compile (first run on a machine).
    executor : simcore.executors.Executor, optional
        Where each cutoff's simulation runs (default: the config's ``executor:``
        section, opened once for every cutoff). The cutoffs are fitted here, one after
        another; the work units of each one's simulation are spread over the executor.
        Never changes the results.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        A book of tenures (no dates to cut at, reported on ``data.columns.tenure``), bad
        cutoffs (on ``cutoffs``), bad replications or seed.
    FitError, DataError
        From fitting or loading at a cutoff, each message naming the cutoff.
    """
    config = project.config
    replications = config.simulation.replications if replications is None else replications
    seed = config.simulation.seed if seed is None else seed
    _check_settings(replications, seed)
    started = time.perf_counter()
    full = project.book()
    refuse_tenure_shape(full.book, config)
    checked, warnings = check_cutoffs(cutoffs, full.customers, full.book.as_of)
    warnings = list(full.warnings) + warnings
    history = full.book.history
    with_revenue = history is not None and len(history) > 0
    if not with_revenue:
        warnings.append(Problem(
            "the book has no MRR history, so each customer's MRR at a cutoff is the mrr column, which describes "
            "as_of (it may carry later price changes and expansion); MRR and contribution are not audited, since "
            "nothing records what customers paid month by month",
            "map data.history to audit revenue and profit as well", source=config.source, field="data.history",
            severity="warning"))
    total = 2 + 2 * len(checked)
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, total)

    economics_now = project.economics()
    lookup = _MrrLookup(full.customers, history, full.book.as_of)
    moves = transitions(full.customers, history, full.book.as_of) if with_revenue else None
    step("loaded the book")
    accuracy, families, calibration, points, forecasts, timings = [], [], [], [], [], {}
    forecast_seconds: dict[str, float] = {}
    with executor_for(config, executor) as used:
        made = []
        for cutoff in checked:
            mark = time.perf_counter()
            cut, _ = book_at_cutoff(full, cutoff)
            check_segments_at_cutoff(full.segments, cut, cutoff)
            made.append(forecast_at_cutoff(project, cut, cutoff, replications=int(replications), seed=int(seed),
                                           on_compile=on_compile, executor=used))
            forecast_seconds[cutoff.label] = time.perf_counter() - mark
            step(f"cutoff {cutoff.label}: fitted and simulated to as_of")
    for cutoff, forecast in zip(checked, made):
        mark = time.perf_counter()
        actual = actuals_after(full, forecast.book.customers, cutoff, economics_now.economics,
                               forecast.economics.new_customer_mrr, lookup)
        if with_revenue and actual.filled_mrr_months:
            warnings.append(Problem(
                f"{actual.filled_mrr_months:,} active customer-months have no MRR in the history; they are "
                "compared at the MRR the forecast started the customer at", "check the history covers every customer",
                source=config.source, field="data.history", severity="warning"))
        accuracy.append(accuracy_table(forecast, actual, with_revenue=with_revenue))
        families.append(family_table(cutoff.label, forecast.fit, full.customers, forecast.book.customers))
        if with_revenue:
            calibration.append(calibration_table(cutoff, forecast.fit.dynamics, moves, sorted(forecast.series)))
        points.append(assumptions(cutoff.label, forecast.fit, forecast.economics))
        warnings.extend(forecast.warnings)
        forecasts.append(forecast)
        timings[cutoff.label] = round(time.perf_counter() - mark + forecast_seconds[cutoff.label], 3)
        step(f"cutoff {cutoff.label}: compared with what happened")
    as_of = pd.Timestamp(full.book.as_of)
    points.append(assumptions(as_of.strftime("%Y-%m-%d"), project.fit(), economics_now))
    step("set the assumptions beside today's")

    accuracy_frame = pd.concat(accuracy, ignore_index=True)
    summary = summary_table(accuracy_frame)
    family_frame = pd.concat(families, ignore_index=True)
    tables = {
        "verdicts": verdict_table(summary, family_frame, accuracy_frame),
        "summary": summary,
        "accuracy": accuracy_frame,
        "families": family_frame,
        "recalibration": recalibration_table(points),
    }
    if calibration:
        tables["revenue_calibration"] = pd.concat(calibration, ignore_index=True)
    manifest = {
        "simcore_version": __version__,
        "command": "backtest",
        "name": config.name,
        "config_file": config.source,
        "config_sha256": config_hash(config),
        "data_sha256": full.book.data_hash,
        "as_of": as_of.date().isoformat(),
        "cutoffs": [{"cutoff": c.label, "given": c.given, "months": c.months} for c in checked],
        "seed": int(seed),
        "replications": int(replications),
        "segments": full.segments,
        "customers": int(len(full.customers)),
        "segment_labels": "fixed: every customer keeps the segment of the full book",
        "mrr_at_cutoff": "MRR history" if with_revenue else "mrr column (as of as_of)",
        "audited": [name for name, metric in VERDICT_METRICS.items() if with_revenue or metric == "active_customers"],
        "min_window_months": MIN_WINDOW_MONTHS,
        "verdict_rule": VERDICT_RULE,
        "timings_s": {"cutoffs": timings, "total": round(time.perf_counter() - started, 3)},
        "python": platform.python_version(),
    }
    return BacktestResult(tuple(checked), tables, manifest, tuple(_unique(warnings)), tuple(forecasts))


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each warning once (the same data warning would repeat for every cutoff)."""
    return list(dict.fromkeys(problems))


__all__ = ["VERDICT_RULE", "run_backtest"]
