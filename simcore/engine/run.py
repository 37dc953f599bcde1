"""Drive the numba kernels over blocks of replications and chunks of customers.

Per block of replications: the existing-customer kernel (once per chunk of customers),
the new-customer kernel, then — on the constant-MRR path — the post-pass that folds the
new customers' (acquisition month, lifetime) counts into the accumulators; the Python
work per block is a handful of whole-array operations.
"""

from __future__ import annotations

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
from simcore.engine.compile import CompiledSegment
from simcore.engine.kernels import STATUS_OK, existing_block, fold_new_lifetimes, new_block
from simcore.errors import SimcoreError


def run_segment(segment: CompiledSegment, seed: np.uint64, *, block_size: int = 64,
                chunk_size: int | None = None, n_bins: int = DEFAULT_BINS) -> SegmentAccumulators:
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
    """
    result = empty_accumulators(segment, n_bins)
    R, H = segment.replications, segment.horizon_months
    N = segment.n_existing
    chunk = N if not chunk_size else int(chunk_size)
    dynamics = np.array([segment.p_expansion, segment.expansion_log_mean,
                         segment.expansion_log_sd, segment.p_contraction,
                         segment.contraction_log_mean, segment.contraction_log_sd])
    key = np.uint64(segment.segment_key)
    fold_new = segment.n_new > 0 and not segment.has_dynamics
    if fold_new:
        low, high = segment.histogram_bounds[NEW]
        new_tables = (segment.new_value_table, segment.discount,
                      float(segment.new_acquisition_cost),
                      np.ascontiguousarray(histogram_bins(segment.new_value_table, low, high,
                                                          n_bins)),
                      np.ascontiguousarray(segment.new_payback_months, dtype=np.int64),
                      np.ascontiguousarray(new_monthly_mrr(segment)),
                      np.ascontiguousarray(new_monthly_contribution(segment)))
    for first in range(0, R, block_size):
        B = min(block_size, R - first)
        totals = result.totals[first:first + B].copy()
        monthly_existing = np.zeros((B, 3, H))
        monthly_new = np.zeros((B, 3, H))
        histogram_existing = np.zeros((B, n_bins + 2), dtype=np.int64)
        histogram_new = np.zeros((B, n_bins + 2), dtype=np.int64)
        ends = np.zeros((B, 3, H + 1))
        # Untouched pages of np.zeros cost nothing, so the walked path may share this.
        lifetimes = np.zeros((B, H, H + 1) if segment.n_new else (B, 1, 1), dtype=np.int64)
        payback = np.zeros((B, H + 2), dtype=np.int64)
        statuses = []
        for start in range(0, max(N, 1), max(chunk, 1)):
            if N == 0:
                break
            statuses.append(existing_block(
                seed, key, first, start, min(N, start + chunk), segment.hazard,
                segment.existing_hazard_factor, segment.group_tenure, segment.customer_group,
                segment.customer_key, segment.customer_mrr, segment.customer_cost_per_month,
                segment.price_existing, segment.contribution_margin, segment.cost_multiplier,
                segment.extra_cost_per_month, segment.discount, segment.existing_margin_prefix,
                segment.existing_cost_prefix, segment.existing_extra_cost_prefix, dynamics,
                segment.histogram_bounds[EXISTING, 0], segment.histogram_bounds[EXISTING, 1],
                totals, ends, monthly_existing, histogram_existing))
        if segment.n_new:
            statuses.append(new_block(
                seed, key, first, segment.hazard, segment.new_hazard_factor,
                segment.hazard_multiplier_new_tenure, segment.cohort_counts, segment.new_mrr,
                segment.new_cost_per_month, segment.new_acquisition_cost, segment.price_new,
                segment.price_new_tenure, segment.contribution_margin, segment.cost_multiplier,
                segment.extra_cost_per_month, segment.discount,
                dynamics, segment.histogram_bounds[NEW, 0], segment.histogram_bounds[NEW, 1],
                totals, lifetimes, monthly_new, histogram_new, payback))
        if fold_new:
            statuses.append(fold_new_lifetimes(lifetimes, *new_tables, totals, monthly_new,
                                               histogram_new, payback))
        if any(status != STATUS_OK for status in statuses):
            raise SimcoreError(f"simulation kernel failed with status {max(statuses)} for "
                               f"segment {segment.name!r}; this is a defect, please report it")
        add_existing_ends(segment, ends, monthly_existing)
        result.histogram[NEW] += histogram_new.sum(axis=0)
        result.payback += payback.sum(axis=0)
        result.totals[first:first + B] = totals
        result.monthly[first:first + B, 0] = monthly_existing
        result.monthly[first:first + B, 1] = monthly_new
        result.histogram[EXISTING] += histogram_existing.sum(axis=0)
    return result
