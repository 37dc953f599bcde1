"""Reference engine: plain NumPy, one step per customer-month, obviously correct.

It implements the same model as the kernels from the same :class:`CompiledSegment`,
but the way a textbook would, one step per customer and month. A new customer
acquired in projection month ``c0`` pays that month; every following month it may
first have an expansion or contraction event (with the probabilities of that calendar
month), then pays, and after each payment it churns with probability ``min(1,
h(tenure) * factor)``, the factor of its cohort for that decision (the scenario's
calendar, population and tenure multipliers and its churn response to price steps). An
existing customer at tenure ``a`` has already paid for life months ``0..a`` at
``as_of``; before each projection month ``c`` (month 0 included) it first churns with
probability ``min(1, h(a + c) * factor(c))``, then, if still active, may have an event
(probabilities of month ``c``) and pays. Every event is walked: this is the exact model,
including windows of expansion and contraction. It uses its own
random numbers (NumPy's PCG64, seeded from the run seed, replication and segment), so
comparing it with the engine checks the inverse-CDF lifetimes, the prefix sums and
the accumulator bookkeeping against an independent implementation — distributionally,
not bit for bit.

It is slow by design (one vector operation per month over all customers) and is meant
for tests and benchmarks on small books. On request it also returns every customer's
value, so tests can compare the engine's histogram quantiles with exact quantiles.
"""

from __future__ import annotations

import numpy as np

from typing import Callable

from simcore.engine.compiled import CompiledSegment
from simcore.engine.accumulators import (
    EXISTING_COUNT,
    NEW_COUNT,
    NEW_PROFIT_AT_START,
    DEFAULT_BINS,
    EXISTING,
    NEW,
    SegmentAccumulators,
    empty_accumulators,
    histogram_bins,
)


def _events(rng: np.random.Generator, mrr: np.ndarray, active: np.ndarray,
            segment: CompiledSegment, month) -> np.ndarray:
    """Apply at most one expansion or contraction event to each active customer, with
    the probabilities of calendar ``month`` (a number, or one per customer)."""
    u = rng.random(mrr.shape[0])
    p_expansion = segment.p_expansion_by_month[month]
    p_contraction = segment.p_contraction_by_month[month]
    expand = active & (u < p_expansion)
    contract = active & ~expand & (u < p_expansion + p_contraction)
    z = rng.standard_normal(mrr.shape[0])
    factor = np.ones_like(mrr)
    factor[expand] = np.exp(segment.expansion_log_mean + segment.expansion_log_sd * z[expand])
    factor[contract] = np.exp(segment.contraction_log_mean
                              + segment.contraction_log_sd * z[contract])
    return mrr * factor


def _record(totals: np.ndarray, offset: int, values: np.ndarray) -> None:
    if values.size == 0:
        return
    totals[offset] += values.size
    totals[offset + 1] += values.sum()
    totals[offset + 2] += (values * values).sum()
    totals[offset + 3] = min(totals[offset + 3], values.min())
    totals[offset + 4] = max(totals[offset + 4], values.max())


def reference_segment(segment: CompiledSegment, seed: int, *, n_bins: int = DEFAULT_BINS,
                      return_values: bool = False,
                      progress: Callable[[int, int], None] | None = None):
    """Simulate one compiled segment month by month; same outputs as ``run_segment``.

    Parameters
    ----------
    segment, seed, n_bins
        As for :func:`simcore.engine.run.run_segment`.
    return_values
        Also return the value of every customer: a dict with ``"existing"`` (R, N) —
        remaining value discounted to ``as_of`` — and ``"new"`` (R, n_new) — value at
        acquisition before acquisition cost —, float64.
    progress
        Called as ``progress(done, total)`` in customer-lifetimes after each replication.

    Returns
    -------
    SegmentAccumulators, or ``(accumulators, values)`` with ``return_values``.
    """
    result = empty_accumulators(segment, n_bins)
    values = {"existing": np.zeros((segment.replications, segment.n_existing)),
              "new": np.zeros((segment.replications, segment.n_new))}
    lifetimes_per_replication = segment.n_existing + segment.n_new
    H = segment.horizon_months
    dynamic = segment.has_dynamics
    key = int(segment.segment_key)
    for r in range(segment.replications):
        rng = np.random.Generator(np.random.PCG64(
            [int(seed) & 0xFFFFFFFF, r, key & 0xFFFFFFFF, key >> 32]))
        hazard = segment.hazard[r]
        totals = result.totals[r]

        # Existing customers: all are active at as_of, with their payment for the
        # current life month already made; each projection month is a renewal.
        tenure = segment.group_tenure[segment.customer_group]
        mrr = segment.customer_mrr.copy()
        cost = segment.customer_cost_per_month
        active = np.ones(tenure.shape[0], dtype=bool)
        value = np.zeros(tenure.shape[0])
        passed = segment.customer_churn_passed
        for c in range(H):
            churn = np.minimum(1.0, hazard[tenure + c] * segment.existing_hazard_factor[c])
            if c == 0:
                # Part of this month's churns are already past for a customer still active
                # G of the way through it: of the rest, h (1 - G) / (1 - G h) churn.
                churn = churn * (1.0 - passed) / (1.0 - passed * churn)
            active &= rng.random(tenure.shape[0]) >= churn
            if dynamic:
                mrr = _events(rng, mrr, active, segment, c)
            billed = mrr * segment.price_existing[c]
            contribution = (billed * segment.contribution_margin[c]
                            - cost * segment.cost_multiplier[c] - segment.extra_cost_per_month[c])
            value += np.where(active, segment.discount[c] * contribution, 0.0)
            result.monthly[r, EXISTING, 0, c] += active.sum()
            result.monthly[r, EXISTING, 1, c] += billed[active].sum()
            result.monthly[r, EXISTING, 2, c] += contribution[active].sum()
        _record(totals, EXISTING_COUNT, value)
        values["existing"][r] = value
        low, high = segment.histogram_bounds[EXISTING]
        result.histogram[EXISTING] += np.bincount(histogram_bins(value, low, high, n_bins),
                                                  minlength=n_bins + 2)

        # New customers, all cohorts together, month by month of tenure.
        cohort = np.repeat(np.arange(H), segment.cohort_counts)
        count = cohort.shape[0]
        if count:
            mrr = np.full(count, segment.new_mrr)
            active = np.ones(count, dtype=bool)
            value = np.zeros(count)
            cash = np.zeros(count)
            target = segment.new_acquisition_cost_by_cohort[cohort]
            paid_back = np.where(target <= 0, 0, H + 1)
            # The churn factors of each cohort (its response to price steps depends on
            # when it was acquired): row c0, or the last row for later cohorts.
            rows = segment.new_cohort_hazard_factor[np.minimum(cohort, segment.new_churn_classes - 1)]
            for k in range(H):
                c = cohort + k
                if dynamic and k >= 1:
                    mrr = _events(rng, mrr, active, segment, c)
                billed = mrr * segment.price_new[c] * segment.price_new_tenure[k]
                contribution = (billed * segment.contribution_margin[c]
                                - segment.new_cost_per_month * segment.cost_multiplier[c]
                                - segment.extra_cost_per_month[c])
                value += np.where(active, segment.discount[k] * contribution, 0.0)
                cash += np.where(active, contribution, 0.0)
                newly = active & (paid_back > H) & (cash >= target)
                paid_back[newly] = k + 1
                inside = active & (c < H)
                result.monthly[r, NEW, 0] += np.bincount(c[inside], minlength=H)[:H]
                result.monthly[r, NEW, 1] += np.bincount(c[inside], weights=billed[inside],
                                                         minlength=H)[:H]
                result.monthly[r, NEW, 2] += np.bincount(c[inside], weights=contribution[inside],
                                                         minlength=H)[:H]
                # The decision after tenure month k, into calendar month c + 1.
                churn = np.minimum(1.0, hazard[k] * rows[:, k])
                active &= rng.random(count) >= churn
            _record(totals, NEW_COUNT, value)
            values["new"][r] = value
            totals[NEW_PROFIT_AT_START] += (segment.discount[cohort] * (value - target)).sum()
            low, high = segment.histogram_bounds[NEW]
            result.histogram[NEW] += np.bincount(histogram_bins(value, low, high, n_bins),
                                                 minlength=n_bins + 2)
            result.payback_by_replication[r] = np.bincount(paid_back, minlength=H + 2)
            result.payback += result.payback_by_replication[r]
        if progress is not None:
            progress((r + 1) * lifetimes_per_replication,
                     segment.replications * lifetimes_per_replication)
    return (result, values) if return_values else result
