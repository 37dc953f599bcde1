"""Checks made before any fitting or simulating: is the run possible, and is it sane?

**Run size.** A run's memory and time are estimated from the book and the settings
(:func:`estimate_run`) and compared with limits (:data:`MEMORY_LIMIT_BYTES`,
:data:`TIME_LIMIT_SECONDS`): ``replications: 1000000000`` would otherwise allocate
gigabytes per segment and ``new_customers_per_month: 1e9`` would run for years. Above
a limit the run is refused, naming the setting that makes it large and the figures;
``simulation.allow_large: true`` (``simcore run --allow-large``) runs it anyway, except
a run that cannot fit in this machine's memory or would take more than
:data:`HARD_TIME_LIMIT_SECONDS`, which is always refused.

The estimate (documented in the README, Limits):

* memory: the accumulators every scenario keeps (replications x horizon x 6 numbers per
  segment), one scenario's survival tables (replications x (longest tenure + horizon)
  x 2 per segment), the monthly series the summaries build (replications x horizon x 15
  per segment and for the total) and one block of scratch (64 x horizon^2);
* time: customer lifetimes simulated (replications x (active customers + new customers
  over the horizon), per scenario) at :data:`LIFETIMES_PER_SECOND` — the engine's cost is
  one draw and a table lookup per customer, whatever the horizon — plus a per-replication
  cost of the tables (horizon squared per segment and scenario) and bootstrap refits when
  ``retention.uncertainty: bootstrap``.

**Segments that cannot be fitted.** A segment without a single churn event has no
retention curve to fit (every family needs at least one), which the fit would otherwise
report in one long line without a file; a segment whose customers all churned at the
same tenure (one customer; everyone lost in month one) has a curve at the edge of every
family with no usable uncertainty. Both are refused here, located at the segmentation
rule, with what to do (:func:`check_fittable`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simcore.config import BASELINE, Config
from simcore.errors import ConfigError, DataError, Problem

#: Estimated memory above which a run is refused without ``allow_large``.
MEMORY_LIMIT_BYTES = 4 * 1024**3
#: Estimated time above which a run is refused without ``allow_large``.
TIME_LIMIT_SECONDS = 3600.0
#: Estimated time above which a run is refused even with ``allow_large`` (a week).
HARD_TIME_LIMIT_SECONDS = 7 * 24 * 3600.0
#: Customer lifetimes per second assumed by the time estimate: a third or less of what the
#: engine measured on two shared cores (57M to 117M a second on a book with an MRR
#: history, about 200M with constant MRR; benchmarks/README.md).
LIFETIMES_PER_SECOND = 2.0e7
#: Table entries per second of the per-replication work (survival tables, folding the new
#: cohorts: about horizon^2 per segment, scenario and replication).
TABLE_ENTRIES_PER_SECOND = 2.0e8
#: Seconds per bootstrap refit of one segment's family (a generous average).
SECONDS_PER_BOOTSTRAP_REFIT = 0.05
#: Histogram bins of the engine's value histograms (two per segment and scenario).
_HISTOGRAM_BYTES = 2 * 16386 * 8
_BLOCK = 64


@dataclass(frozen=True)
class RunEstimate:
    """What a run will cost, estimated before it starts.

    Attributes
    ----------
    memory_bytes, seconds : float
        Peak memory and wall time (see the module notes).
    replications, horizon_months, scenarios, segments : int
        The settings the estimate is for (scenarios include the baseline).
    customer_months, new_customer_months : float
        Customer-months simulated in all scenarios, and those of new customers.
    largest_acquisition : tuple of (float, str, str, int or None)
        The largest monthly acquisition volume: customers per month, its field, the file
        and line that set it.
    """

    memory_bytes: float
    seconds: float
    replications: int
    horizon_months: int
    scenarios: int
    segments: int
    customer_months: float
    new_customer_months: float
    largest_acquisition: tuple


def _scenario_volumes(config: Config, name: str, segment: str, baseline: float, horizon: int
                      ) -> tuple[float, float, str, str, int | None]:
    """Total new customers over the horizon and the peak monthly volume of one segment
    under one scenario, with where the volume was set."""
    from simcore.scenarios import effective_scenario

    scenario = effective_scenario(config, name)
    field = f"acquisition.new_customers_per_month.{segment}"
    source, line = config.source, config.line_of("acquisition", "new_customers_per_month", segment)
    volume = baseline
    if scenario.new_customers_per_month and segment in scenario.new_customers_per_month:
        volume = float(scenario.new_customers_per_month[segment])
        field = f"scenarios.{name}.new_customers_per_month.{segment}"
        source, line = config.scenario_origins.get(name, (config.source, None))
    factors = np.ones(horizon)
    for window in scenario.acquisition_multiplier:
        if window.segments is None or segment in window.segments:
            start, end = window.months
            factors[min(start, horizon):min(end + 1, horizon)] *= window.factor
    return float(volume * factors.sum()), float(volume * factors.max(initial=1.0)), field, source, line


def estimate_run(config: Config, customers, acquisition_per_month: dict, scenarios: Sequence[str],
                 replications: int) -> RunEstimate:
    """Estimate the memory and time of simulating ``scenarios`` (and the baseline).

    Parameters
    ----------
    config
        The run configuration (horizon, levers, retention uncertainty).
    customers
        The segmented customer table (``segment``, ``tenure_months``, ``churned``).
    acquisition_per_month
        Baseline new customers per month by segment.
    scenarios
        Scenario names to run besides the baseline.
    replications
        Replications of the run.
    """
    horizon = int(config.horizon_months)
    names = [BASELINE, *[s for s in scenarios if s != BASELINE]]
    active = customers.loc[~customers["churned"].astype(bool)]
    by_segment = active.groupby("segment")["tenure_months"].agg(["size", "max"]) if len(active) else None
    segments = sorted(set(map(str, customers["segment"].unique())) | set(acquisition_per_month))
    R = float(replications)
    customer_months = new_customer_months = 0.0
    survival_bytes = 0.0
    largest = (0.0, "", config.source, None)
    for segment in segments:
        n_active = float(by_segment.loc[segment, "size"]) if by_segment is not None and segment in by_segment.index else 0.0
        tenure = float(by_segment.loc[segment, "max"]) if by_segment is not None and segment in by_segment.index else 0.0
        survival_bytes += R * (tenure + horizon + 2) * 8 * 2
        for name in names:
            total_new, peak, field, source, line = _scenario_volumes(
                config, name, segment, float(acquisition_per_month.get(segment, 0.0)), horizon)
            customer_months += R * (n_active + total_new) * horizon
            new_customer_months += R * total_new * horizon
            if peak > largest[0]:
                largest = (peak, field, source, line)
    n_segments = max(len(segments), 1)
    kept = len(names) * n_segments * (R * (6 * horizon + 11) * 8 + _HISTOGRAM_BYTES)
    summaries = (n_segments + 1) * R * horizon * 15 * 8
    scratch = _BLOCK * horizon * (horizon + 1) * 8 * 2
    lifetimes = customer_months / horizon
    seconds = (lifetimes / LIFETIMES_PER_SECOND
               + R * n_segments * len(names) * horizon * horizon / TABLE_ENTRIES_PER_SECOND)
    if config.retention.uncertainty == "bootstrap":
        seconds += R * n_segments * SECONDS_PER_BOOTSTRAP_REFIT
    return RunEstimate(kept + survival_bytes + summaries + scratch, seconds, int(replications), horizon,
                       len(names), n_segments, customer_months, new_customer_months, largest)


def machine_memory_bytes() -> float:
    """Physical memory, or the control group's limit when that is lower (containers)."""
    try:
        physical = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux/macOS
        physical = math.inf
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as handle:
                text = handle.read().strip()
            if text.isdigit():
                physical = min(physical, float(text))
        except OSError:
            continue
    return physical


def _size(value: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if value >= scale:
            return f"{value / scale:,.1f} {unit}"
    return f"{value / 1e3:,.0f} kB"


def _duration(seconds: float) -> str:
    for unit, scale in (("years", 365 * 86400.0), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= scale:
            return f"{seconds / scale:,.1f} {unit}"
    return f"{seconds:,.0f} seconds"


def check_run_size(config: Config, estimate: RunEstimate, *, allow_large: bool | None = None,
                   memory_available: float | None = None) -> None:
    """Refuse a run whose estimate exceeds the limits (see the module notes).

    Raises
    ------
    ConfigError
        Naming the setting that makes the run large (replications, or the largest
        acquisition volume), the estimate, the limit and how to proceed.
    """
    allow = config.simulation.allow_large if allow_large is None else allow_large
    available = machine_memory_bytes() if memory_available is None else memory_available
    memory_limit = 0.9 * available if allow else min(MEMORY_LIMIT_BYTES, 0.5 * available)
    time_limit = HARD_TIME_LIMIT_SECONDS if allow else TIME_LIMIT_SECONDS
    too_big = estimate.memory_bytes > memory_limit
    too_slow = estimate.seconds > time_limit
    if not (too_big or too_slow):
        return
    figures = (f"about {_size(estimate.memory_bytes)} of memory and {_duration(estimate.seconds)} "
               f"({estimate.replications:,} replications x {estimate.horizon_months} months x "
               f"{estimate.segments} segments x {estimate.scenarios} scenarios incl. the baseline, "
               f"{estimate.customer_months / max(estimate.horizon_months, 1):,.3g} customer lifetimes)")
    limits = (f"this machine has {_size(available)}" if allow else
              f"simcore's limits are {_size(memory_limit)} and {_duration(time_limit)}")
    peak, field, source, line = estimate.largest_acquisition
    acquisition_heavy = too_slow and not too_big and estimate.new_customer_months > 0.5 * estimate.customer_months
    if acquisition_heavy and field:
        where = dict(source=source, line=line, field=field)
        cause = f"up to {peak:,.0f} new customers a month"
        fix = f"lower {field.rsplit('.', 2)[0] if field.startswith('scenarios') else field}"
    else:
        where = dict(source=config.source, line=config.line_of("simulation", "replications"),
                     field="simulation.replications")
        cause = f"{estimate.replications:,} replications"
        fix = "lower simulation.replications (or --replications), horizon_months or the scenarios run"
    override = "" if allow else "; or set simulation.allow_large: true (--allow-large) to run it anyway"
    message = f"the run would need {figures}, with {cause}; {limits}"
    if allow:
        message += ", so it is refused even with allow_large"
    raise ConfigError(Problem(message, fix + override, **where))


def check_fittable(config: Config, customers, *, saved_fits: bool = False) -> None:
    """Refuse segments whose retention curve cannot be estimated.

    Two cases: no churn event at all (no family can be fitted), and every customer
    churned at one and the same tenure with none still active (a one-customer segment,
    or a whole book lost in month one): the likelihood is then maximised at the edge of
    every family, the parameter uncertainty is undefined, and the simulated lifetimes
    would be arbitrary. Skipped when the fits are reused from a file (``saved_fits``).

    Raises
    ------
    DataError
        One problem per such segment, located at the segmentation rule of the config.
    """
    if saved_fits or not len(customers):
        return
    observed = customers.loc[customers["tenure_months"] > 0] if "tenure_months" in customers else customers
    counts = customers.groupby("segment")["churned"].agg(["size", "sum"])
    spread = observed.groupby("segment").agg(tenures=("tenure_months", "nunique"), churned=("churned", "all"))
    churn_column = config.data.columns.churned or config.data.columns.churn or "churn"
    rule = ("segments", "by") if config.segments.by else ("data", "columns")
    where = dict(source=config.source, line=config.line_of(*rule), field=".".join(rule))
    merge = "merge the segment with others (segments.by, segments.min_customers)"
    problems = []
    for segment, row in counts.iterrows():
        size = f"{int(row['size']):,} customers"
        if row["sum"] == 0:
            problems.append(Problem(
                f"segment '{segment}' ({size}) has no churn events, so no retention curve can be fitted to it "
                "and nothing can be projected",
                f"check that data.columns maps the churn column ('{churn_column}') correctly, or {merge}", **where))
        elif segment in spread.index and spread.loc[segment, "tenures"] == 1 and spread.loc[segment, "churned"]:
            tenure = int(observed.loc[observed["segment"] == segment, "tenure_months"].iloc[0])
            problems.append(Problem(
                f"segment '{segment}' ({size}): every customer churned at the same tenure ({tenure} months) and "
                "none is still active, so neither the shape of its retention curve nor its uncertainty can be "
                "estimated",
                f"check the tenure and churn columns of the export, or {merge}", **where))
    if problems:
        raise DataError(problems)
