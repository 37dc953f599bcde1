"""CSMs needed, from the Monte Carlo paths of the covered accounts, and the hiring plan.

The covered accounts are simulated by the engine (compiled books run through
:func:`simcore.executors.simulate_books`, here or on a cluster), one call per segment
and tier path, each under its segment's own name: the engine keys every random draw by
segment and account, so a covered account lives exactly the
lifetime it has in ``simcore run`` wherever its path sends it (common random numbers),
and replication ``r`` is the same parameter draw as everywhere else. A tier's effect on
churn enters as the engine's hazard factor by month (existing accounts, calendar months)
or by tenure month (new accounts). Expansion does not change who is active, so these
calls simulate constant MRR. A segment's new accounts whose tier changes with their
tenure are simulated one acquisition month at a time, so that every cohort's tenure —
and therefore its tier — is known in every month.

On every path (replication) ``r`` and month ``c`` a tier needs
``csms[r, c] = ceil(covered_active[r, c] / accounts_per_csm)`` CSMs. The plan reports the
covered accounts' P10/P50/P90 across paths (the projection's percentiles) and, as the
CSMs needed at a percentile, ``ceil(covered_pXX / accounts_per_csm)``.

**Hiring plan.** Each tier starts with ``starting_headcount`` productive CSMs and staffs to
the percentile ``staff_to`` of CSMs needed. A hire becomes productive
``ramp_up_months`` after being hired, so the plan hires as late as that allows: in month
``c`` it hires what month ``c + ramp_up_months`` needs beyond the CSMs already there
or coming. It never lays anyone off (a surplus is shown), and a need that arrives before
a hire could ramp up is shown as a capacity gap. Every CSM employed, ramping or not,
costs ``cost_per_csm_per_year / 12`` a month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simcore.cs.accounts import ReviewState
from simcore.cs.inputs import PlanInputs
from simcore.cs.tiers import NONE, TierSpec, monthly_tiers

#: Histogram bins of the headcount simulations (only active counts are read from them).
_BINS = 1024
#: Most numbers in one kernel call's scratch of lifetime counts (64 MB of int64).
_SCRATCH_NUMBERS = 8_000_000
#: Engine calls compiled before they are simulated together (bounds their memory).
_BOOKS_AT_ONCE = 64


@dataclass(frozen=True)
class HeadcountPaths:
    """Covered active accounts and CSMs needed on every path.

    Attributes
    ----------
    covered : (T, R, P) float64
        Active accounts of each tier per replication and month of the planning window.
    csms : (T, R, P) int64
        ``ceil(covered / accounts_per_csm)``.
    """

    covered: np.ndarray
    csms: np.ndarray


class _Batch:
    """The engine calls of one assignment, simulated together on an executor.

    Each call is compiled as its own book and added to ``covered`` in the order it was
    made, as the calls one at a time did (the same additions, so the same sums).
    Books are simulated in groups of :data:`_BOOKS_AT_ONCE`, which bounds the memory of
    compiled books held at once; each book is one work unit (its replications whole),
    since the calls themselves are many.
    """

    def __init__(self, inputs: PlanInputs, covered: np.ndarray, months: int, executor):
        self.inputs, self.covered, self.months, self.executor = inputs, covered, int(months), executor
        self.books: list = []
        self.targets: list[tuple[str, int, np.ndarray]] = []

    def add(self, segment, rows, levers, *, include_existing: bool, tiers: np.ndarray) -> None:
        """One engine call: active accounts of ``rows`` (existing or new population) go to
        the tier of each month in ``tiers`` (``(months,)``, NONE = not covered)."""
        from simcore.engine.compile import compile_book

        inputs = self.inputs
        self.books.append(compile_book({segment.name: segment.fit}, rows, segment.economics, dynamics=None,
                                       levers=levers, replications=inputs.replications, seed=inputs.seed,
                                       horizon_months=self.months, include_existing=include_existing,
                                       include_new=not include_existing, as_of=inputs.as_of, draw_method=None))
        self.targets.append((segment.name, 0 if include_existing else 1, np.asarray(tiers)))
        if len(self.books) >= _BOOKS_AT_ONCE:
            self.flush()

    def flush(self) -> None:
        from simcore.executors import simulate_books

        if not self.books:
            return
        months, replications = self.months, self.inputs.replications
        # Replications per kernel call change no result, only speed: these calls are short
        # (the planning window), so large blocks pay the per-call set-up once, within a
        # bounded scratch array (the new accounts' block x months x months lifetime counts).
        block = int(min(replications, max(64, _SCRATCH_NUMBERS // (months * (months + 1)))))
        results = simulate_books(self.books, executor=self.executor, chunk_replications=replications,
                                 block_size=block, n_bins=_BINS)
        for accumulators, (name, population, tiers) in zip(results, self.targets):
            active = accumulators[name].monthly[:, population, 0, :]
            for t in np.unique(tiers[tiers != NONE]):
                self.covered[t] += active * (tiers == t)[None, :]
        self.books, self.targets = [], []


def simulate_headcount(inputs: PlanInputs, state: ReviewState, specs: list[TierSpec], reviews: np.ndarray, *,
                       review_every_months: int, planning_months: int, executor=None) -> HeadcountPaths:
    """Simulate the covered accounts of one assignment (``reviews``: each unit's tier at
    each review) and count them per tier, path and month (see the module notes). The
    engine calls run on ``executor`` (default: here); it never changes the counts."""
    T, P, R = len(specs), int(planning_months), inputs.replications
    churn = np.array([s.churn_multiplier for s in specs] + [1.0])
    covered = np.zeros((T, R, P))
    batch = _Batch(inputs, covered, P, executor)
    months = monthly_tiers(reviews, review_every_months, P)
    for index, name in enumerate(state.segments):
        segment = inputs.segments[name]
        # A segment's accounts are consecutive units, in the order of its arrays.
        units = np.flatnonzero((state.segment == index) & ~state.is_new)
        offset = units - units[0] if units.size else units
        paths = months[units]
        touched = (paths != NONE).any(axis=1)
        if touched.any():
            unique, inverse = np.unique(paths[touched], axis=0, return_inverse=True)
            positions = offset[touched]
            for g, path in enumerate(unique):
                members = positions[inverse.reshape(-1) == g]
                levers = replace(segment.levers, churn_hazard_multiplier_existing_by_month=tuple(
                    churn[np.where(path == NONE, T, path)]))
                batch.add(segment, segment.accounts.iloc[np.sort(members)], levers, include_existing=True,
                          tiers=path)
        new = np.flatnonzero((state.segment == index) & state.is_new)
        if new.size:
            _new_accounts(segment, months[new[0]], churn, batch, months=P)
    batch.flush()
    ratio = np.array([s.accounts_per_csm for s in specs])[:, None, None]
    return HeadcountPaths(covered, np.ceil(covered / ratio).astype(np.int64))


def _new_accounts(segment, path: np.ndarray, churn: np.ndarray, batch: _Batch, *, months: int) -> None:
    """Add a segment's covered new accounts; ``path`` is their tier by tenure month."""
    T = batch.covered.shape[0]
    if not (path != NONE).any():
        return
    codes = np.where(path == NONE, T, path)
    # The renewal into tenure month k + 1 is helped by the tier of month k + 1.
    by_tenure = tuple(churn[np.concatenate([codes[1:], codes[-1:]])])
    levers = replace(segment.levers, new_customer_churn_multiplier_by_tenure_month=by_tenure)
    if (path == path[0]).all():
        batch.add(segment, segment.rows, levers, include_existing=False, tiers=np.full(months, path[0]))
        return
    counts = segment.new_counts[:months]
    for first in np.flatnonzero(counts):
        # One acquisition month at a time: its accounts keep their random numbers (they
        # are keyed by acquisition month and position), and their tenure is c - first.
        volume = tuple(np.where(np.arange(first + 2) == first, float(counts[first]), 0.0))
        tenure_tiers = np.full(months, NONE)
        tenure_tiers[first:] = path[:months - first]
        batch.add(segment, segment.rows, replace(levers, acquisition_per_month=volume,
                                                 acquisition_multiplier_by_month=()),
                  include_existing=False, tiers=tenure_tiers)


# ------------------------------------------------------------------ hiring plan


@dataclass(frozen=True)
class Staffing:
    """One tier's hiring plan over the planning window (all ``(P,)``, whole CSMs).

    Attributes
    ----------
    target : CSMs the tier staffs to (the ``staff_to`` percentile of CSMs needed).
    hires : CSMs hired in the month.
    employed : CSMs on the payroll (productive or ramping up).
    productive : CSMs covering accounts.
    gap : ``max(0, target - productive)``: CSMs missing.
    cost : money paid for the employed CSMs in the month.
    """

    target: np.ndarray
    hires: np.ndarray
    employed: np.ndarray
    productive: np.ndarray
    gap: np.ndarray
    cost: np.ndarray


def hiring_plan(target: np.ndarray, spec: TierSpec) -> Staffing:
    """Hire as late as the ramp-up allows, never lay off (see the module notes)."""
    target = np.asarray(target, dtype=np.int64)
    P, ramp = target.size, int(spec.ramp_up_months)
    hires = np.zeros(P, dtype=np.int64)
    for c in range(P):
        ahead = c + ramp
        if ahead >= P:
            break
        already = spec.starting_headcount + hires[:c].sum()
        hires[c] = max(0, int(target[ahead]) - int(already))
    employed = spec.starting_headcount + np.cumsum(hires)
    productive = spec.starting_headcount + np.concatenate([np.zeros(min(ramp, P), dtype=np.int64),
                                                           np.cumsum(hires)[:max(0, P - ramp)]])
    gap = np.maximum(0, target - productive)
    return Staffing(target, hires, employed, productive, gap, employed * spec.cost_per_month)
