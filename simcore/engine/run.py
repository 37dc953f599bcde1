"""Drive the numba kernels over blocks of replications and chunks of customers.

Per block of replications: the existing-customer kernel (once per chunk of customers),
the new-customer kernel, then the post-pass that folds the new customers' (acquisition
month, lifetime) counts into the accumulators; the Python work per block is a handful
of whole-array operations. The argument groups of the kernels are built once per
segment here.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from simcore.engine.accumulators import (
    DEFAULT_BINS,
    EXISTING,
    NEW,
    SegmentAccumulators,
    add_existing_ends,
    empty_accumulators,
    histogram_bins,
    new_monthly_contribution,
    new_monthly_mrr,
)
from simcore.engine.compiled import CompiledSegment
from simcore.engine.kernels import (
    STATUS_OK,
    Churn,
    ExistingCustomers,
    ExistingOutputs,
    ExistingValues,
    FoldOutputs,
    MrrPaths,
    NewOutputs,
    NewTables,
    PathTables,
    existing_block,
    fold_new_lifetimes,
    new_block,
    path_block,
)
from simcore.errors import SimcoreError

#: Paths per replication are chosen so that the pooled per-customer distributions see
#: about this many distinct MRR paths over a run (see :func:`paths_per_replication`).
DISTINCT_PATHS = 1 << 16
MIN_PATHS, MAX_PATHS = 64, 2048

#: ``progress(done, total)``: customer-lifetimes simulated so far and in all.
Progress = Callable[[int, int], None]


def paths_per_replication(replications: int) -> int:
    """Size ``P`` of the pool of simulated MRR paths per (replication, segment).

    The largest power of two not above ``2^16 / replications``, kept within [64, 2048]:
    the per-customer histograms then pool at least 2^15 distinct paths when there are
    16 replications or more (2^16 from 1,024 replications on), while a pool costs
    ``P (H + 1)`` event draws per replication — for the demo book's 1,000 replications,
    64 paths, a fraction of the cost of its thousands of customers per replication. It
    depends on the number of replications only, so every scenario of a run uses the
    same paths (common random numbers).
    """
    target = max(DISTINCT_PATHS // max(int(replications), 1), 1)
    size = 1 << (target.bit_length() - 1)
    return int(min(max(size, MIN_PATHS), MAX_PATHS))


def _thresholds(p_expansion: np.ndarray, p_contraction: np.ndarray) -> np.ndarray:
    """(2, H): per step, the uniform below which it is an expansion, and an event."""
    return np.ascontiguousarray(np.stack([p_expansion, p_expansion + p_contraction]))


def _path_model(segment: CompiledSegment, count: int) -> MrrPaths:
    H = segment.horizon_months
    # Step t of an existing customer's path is the event before projection month t - 1.
    existing = _thresholds(segment.p_expansion_by_month[:H], segment.p_contraction_by_month[:H])
    tail = _thresholds(np.full(H, segment.p_expansion), np.full(H, segment.p_contraction))
    classes = int(segment.new_payback_classes)
    return MrrPaths(
        count=int(count),
        dynamics=np.array([segment.p_expansion, segment.expansion_log_mean,
                           segment.expansion_log_sd, segment.p_contraction,
                           segment.contraction_log_mean, segment.contraction_log_sd]),
        existing_thresholds=existing, new_thresholds=tail,
        existing_weight=segment.existing_path_weight, new_weight=segment.new_path_weight,
        new_tenure_price=segment.price_new_tenure, new_margin=segment.new_calendar_margin,
        margin_changes=segment.new_margin_changes, first_change=segment.new_first_change,
        new_fixed_cost=segment.new_fixed_cost, new_fixed_prefix=segment.new_fixed_cost_prefix,
        new_mrr=float(segment.new_mrr),
        acquisition_cost=np.ascontiguousarray(segment.new_acquisition_cost_by_cohort[:classes]),
        payback_classes=classes, new_correction=segment.new_pool_correction,
    )


def run_segment(segment: CompiledSegment, seed: np.uint64, *, block_size: int = 64,
                chunk_size: int | None = None, n_bins: int = DEFAULT_BINS,
                paths: int | None = None, progress: Progress | None = None,
                replications: tuple[int, int] | None = None) -> SegmentAccumulators:
    """Simulate one compiled segment with the numba kernels.

    Parameters
    ----------
    segment
        The compiled segment.
    seed
        Run seed (uint64).
    block_size
        Replications per kernel call (bounds scratch memory; does not change results).
    chunk_size
        Existing customers per kernel call (``None`` = all at once; does not change
        results).
    n_bins
        Bins of each per-customer value histogram.
    paths
        MRR paths simulated per replication when the segment has expansion or
        contraction (a power of two; default :func:`paths_per_replication`). Changes
        the per-customer distributions only by Monte Carlo error, and sums and monthly
        projections not at all.
    progress
        Called as ``progress(done, total)`` after each block of replications, in
        customer-lifetimes (customers x replications) of this segment; never changes
        results.
    replications
        ``(start, stop)``: simulate only these replications of the segment (default:
        all). The accumulators then hold rows ``start..stop-1``; every replication's
        numbers are the same whichever range it is simulated in (counter-based random
        numbers), so ranges merged in order with
        :func:`~simcore.engine.accumulators.merge_accumulators` equal one whole run.
    """
    R, H = segment.replications, segment.horizon_months
    lowest, highest = (0, R) if replications is None else (int(replications[0]), int(replications[1]))
    if not 0 <= lowest < highest <= R:
        raise ValueError(f"replications must satisfy 0 <= start < stop <= {R}, got {replications}")
    result = empty_accumulators(segment, n_bins, rows=highest - lowest)
    N = segment.n_existing
    chunk = N if not chunk_size else int(chunk_size)
    pooled = segment.has_dynamics
    count = (paths_per_replication(R) if paths is None else int(paths)) if pooled else 0
    if pooled and (count < 1 or count & (count - 1)):
        raise ValueError(f"paths must be a power of two, got {paths}")
    key = np.uint64(segment.segment_key)
    churn_existing = Churn(segment.hazard, segment.existing_hazard_factor, np.ones(H + 1), 1)
    churn_new = Churn(segment.hazard, segment.new_cohort_hazard_factor, np.ones(H),
                      int(segment.new_churn_classes))
    customers = ExistingCustomers(segment.group_tenure, segment.customer_group,
                                  segment.customer_key, segment.customer_mrr,
                                  segment.customer_cost_per_month, segment.customer_churn_passed)
    values = ExistingValues(segment.existing_margin_prefix, segment.existing_cost_prefix,
                            segment.existing_extra_cost_prefix)
    path_model = _path_model(segment, count)
    existing_bounds = np.ascontiguousarray(segment.histogram_bounds[EXISTING])
    new_bounds = np.ascontiguousarray(segment.histogram_bounds[NEW])
    if segment.n_new:
        low, high = new_bounds
        new_tables = NewTables(
            segment.new_value_table,
            np.ascontiguousarray(histogram_bins(segment.new_value_table, low, high, n_bins)),
            np.ascontiguousarray(segment.new_payback_months, dtype=np.int64),
            np.ascontiguousarray(new_monthly_mrr(segment)),
            np.ascontiguousarray(new_monthly_contribution(segment)),
            segment.discount, np.ascontiguousarray(segment.new_acquisition_cost_by_cohort))
    lifetimes_per_replication = N + segment.n_new
    block = max(1, min(int(block_size), highest - lowest))
    # Buffers reused by every block. Row b of the histograms gathers replication first + b
    # of every block: integer counts, so summing the rows once at the end gives the same
    # result in any order. Payback counts are kept per replication (zeroed per block).
    # The fold resets the lifetime counts as it reads them.
    histogram_existing = np.zeros((block, n_bins + 2), dtype=np.int64)
    histogram_new = np.zeros((block, n_bins + 2), dtype=np.int64)
    payback = np.zeros((block, H + 2), dtype=np.int64)
    lifetimes = np.zeros((block, H, H + 1) if segment.n_new else (block, 1, 1), dtype=np.int64)
    width = count * (H + 1)
    tables = PathTables(np.zeros((block, width if N else 0)),
                        np.zeros((block, width if segment.n_new else 0)),
                        np.zeros((block, count * int(segment.new_payback_classes)
                                  if segment.n_new else 0), dtype=np.int64))
    for first in range(lowest, highest, block):
        B = min(block, highest - first)
        row = first - lowest
        totals = result.totals[row:row + B].copy()
        monthly_existing = np.zeros((B, 3, H))
        monthly_new = np.zeros((B, 3, H))
        ends = np.zeros((B, 3, H + 1))
        block_tables = PathTables(tables.existing[:B], tables.new[:B], tables.payback[:B])
        statuses = []
        payback[:B] = 0
        if pooled:
            statuses.append(path_block(seed, key, first, H, path_model, block_tables))
        existing_out = ExistingOutputs(totals, ends, histogram_existing[:B], existing_bounds)
        for start in range(0, max(N, 1), max(chunk, 1)):
            if N == 0:
                break
            statuses.append(existing_block(seed, key, first, start, min(N, start + chunk),
                                           churn_existing, customers, values, path_model,
                                           block_tables, existing_out))
        if segment.n_new:
            statuses.append(new_block(seed, key, first, churn_new, segment.cohort_counts,
                                      path_model, block_tables,
                                      NewOutputs(totals, lifetimes[:B], histogram_new[:B],
                                                 payback[:B], new_bounds)))
            statuses.append(fold_new_lifetimes(lifetimes[:B], new_tables, not pooled,
                                               FoldOutputs(totals, monthly_new,
                                                           histogram_new[:B], payback[:B])))
        if any(status != STATUS_OK for status in statuses):
            raise SimcoreError(f"simulation kernel failed with status {max(statuses)} for "
                               f"segment {segment.name!r}; this is a defect, please report it")
        add_existing_ends(segment, ends, monthly_existing)
        result.totals[row:row + B] = totals
        result.monthly[row:row + B, 0] = monthly_existing
        result.monthly[row:row + B, 1] = monthly_new
        result.payback_by_replication[row:row + B] = payback[:B]
        if progress is not None:
            progress((first + B - lowest) * lifetimes_per_replication,
                     (highest - lowest) * lifetimes_per_replication)
    result.histogram[EXISTING] += histogram_existing.sum(axis=0)
    result.histogram[NEW] += histogram_new.sum(axis=0)
    result.payback += result.payback_by_replication.sum(axis=0)
    return result
