"""numba kernels of the Monte Carlo engine: plain arrays in, accumulators out.

Each kernel handles a block of replications (``prange`` over them; each iteration
writes only its own slot of every output) and *adds* into its outputs, so a caller may
split the existing customers into chunks and call :func:`existing_block` once per
chunk, in order, with the same outputs: the floating-point additions then happen in the
same order as in one call, and results are bit-identical for any chunking and any
number of threads.

Per customer the work is O(1) (plus a short guided search) when MRR is constant:

* the lifetime ``L`` (months active within the horizon) comes from one uniform by
  inverse CDF on the scenario-modified survival sequence of the customer's tenure group
  (existing) or acquisition month (new), built once per replication together with a
  guide table (Chen & Asau 1974, "On generating random variates from an empirical
  distribution", AIIE Transactions 6(2)) that replaces bisection by a few steps of
  linear search — bisection's unpredictable branches cost more than the RNG itself;
* an existing customer's value is ``m A(L) - k B(L)`` from prefix sums, and its monthly
  contribution to the projection is recorded once, at its end month, in "ends"
  accumulators (the active totals in month ``c`` are the ends after ``c``);
* a new customer only increments a (cohort, lifetime) count; everything else follows
  from those counts in :mod:`simcore.engine.finalize`.

With expansion or contraction the MRR path is walked month by month (O(L)).

Kernels return a status code instead of raising: 0 = ok, 1 = inconsistent array shapes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from simcore.engine.accumulators import EXISTING_COUNT, N_TOTALS, NEW_COUNT, NEW_PROFIT_AT_START
from simcore.engine.rng import NEW_CUSTOMER_FLAG, customer_key, standard_normal, stream_key, uniform

STATUS_OK = 0
STATUS_BAD_SHAPE = 1

_ONE = np.uint64(1)
_THREE = np.uint64(3)
_SHIFT_32 = np.uint64(32)


@njit(cache=True, inline="always")
def _build_table(hazard, replication, tenure, multiplier, first_month, horizon, guide_size,
                 survival, guide, row):
    """Fill row ``row`` of the flat survival table and of its guide table.

    ``survival[row*(H+1) + t] = S(t)`` with ``S(t+1) = S(t) (1 - min(1, h(tenure + t)
    m(first_month + t)))``. The guide table (Chen & Asau 1974) stores, for each of
    ``guide_size`` equal slices of (0, 1), the lifetime at the slice's upper end, so a
    lookup starts a few steps below the answer instead of bisecting the whole row.
    """
    width = horizon + 1
    base = row * width
    s = 1.0
    survival[base] = 1.0
    for t in range(horizon):
        h = hazard[replication, tenure + t] * multiplier[first_month + t]
        if h > 1.0:
            h = 1.0
        s = s * (1.0 - h)
        survival[base + t + 1] = s
    t = 1
    for j in range(guide_size - 1, -1, -1):
        level = (j + 1) / guide_size
        while t < horizon and survival[base + t] > level:
            t += 1
        guide[row * guide_size + j] = t


@njit(cache=True, inline="always")
def _lifetime(survival, guide, row, horizon, guide_size, u):
    """Months active within the horizon: ``min(T, H)``, ``T = min{t >= 1: S(t) <= u}``.

    Inverse CDF of the discrete lifetime: ``P(T > t) = P(S(t) > u) = S(t)``.
    """
    base = row * (horizon + 1)
    t = guide[row * guide_size + int(u * guide_size)]
    while t < horizon and survival[base + t] > u:
        t += 1
    return t


@njit(cache=True, inline="always")
def _histogram_bin(value, low, scale, n_bins):
    """Bin of ``value``: 0 = underflow, 1..n_bins = bins of [low, high), n_bins+1 = overflow."""
    position = (value - low) * scale
    if position < 0.0:
        return 0
    if position >= n_bins:
        return n_bins + 1
    return int(position) + 1


@njit(cache=True, inline="always")
def _record(totals, row, offset, value):
    totals[row, offset] += 1.0
    totals[row, offset + 1] += value
    totals[row, offset + 2] += value * value
    if value < totals[row, offset + 3]:
        totals[row, offset + 3] = value
    if value > totals[row, offset + 4]:
        totals[row, offset + 4] = value


@njit(cache=True, inline="always")
def _event_factor(key, month, dynamics):
    """MRR factor of the expansion / contraction event (if any) in a month >= 1."""
    p_expansion = dynamics[0]
    p_contraction = dynamics[3]
    u = uniform(key, month * _THREE + _ONE)
    if u < p_expansion:
        z = standard_normal(key, month * _THREE + np.uint64(2))
        return math.exp(dynamics[1] + dynamics[2] * z)
    if u < p_expansion + p_contraction:
        z = standard_normal(key, month * _THREE + np.uint64(2))
        return math.exp(dynamics[4] + dynamics[5] * z)
    return 1.0


@njit(cache=True, parallel=True)
def existing_block(seed, segment_key, first_replication, start, stop,
                   hazard, hazard_multiplier, group_tenure, customer_group, customer_keys,
                   customer_mrr, customer_cost, price_existing, contribution_margin,
                   cost_multiplier, discount, margin_prefix, cost_prefix, dynamics,
                   low, high, totals, ends, monthly, histogram):
    """Simulate existing customers ``start:stop`` for a block of replications.

    Parameters
    ----------
    seed, segment_key : uint64
        Run seed and segment RNG key.
    first_replication : int
        Global index of the block's first replication (row ``first_replication + b`` of
        ``hazard`` is parameter draw of block row ``b``).
    start, stop : int
        Range of existing customers to simulate.
    hazard : (R, T) float64
        Base monthly hazard by tenure per parameter draw.
    hazard_multiplier : (>= H,) float64
        Scenario factor on the hazard by projection month.
    group_tenure : (G,) int64; customer_group, customer_keys, customer_mrr, customer_cost : (N,)
        Tenure groups and customer data (see :class:`~simcore.engine.compile.CompiledSegment`).
    price_existing, contribution_margin, cost_multiplier : (>= H,) float64
        Calendar schedules; ``discount`` (>= H,) is ``d ** c``.
    margin_prefix, cost_prefix : (H + 1,) float64
        Prefix sums ``A(L)``, ``B(L)`` for constant MRR.
    dynamics : (6,) float64
        ``p_expansion, expansion_log_mean, expansion_log_sd, p_contraction,
        contraction_log_mean, contraction_log_sd``.
    low, high : float
        Histogram range of per-customer value.
    totals : (B, N_TOTALS) float64, accumulated
    ends : (B, 3, H + 1) float64, accumulated
        Customers, MRR and fixed cost by lifetime ``L`` (constant-MRR path only).
    monthly : (B, 3, H) float64, accumulated
        Active customers, MRR, contribution by projection month (walked path only).
    histogram : (B, n_bins + 2) int64, accumulated
    """
    n_block = totals.shape[0]
    horizon = margin_prefix.shape[0] - 1
    n_groups = group_tenure.shape[0]
    n_bins = histogram.shape[1] - 2
    if (hazard.shape[0] < first_replication + n_block or ends.shape[0] != n_block
            or monthly.shape[0] != n_block or histogram.shape[0] != n_block
            or ends.shape[2] != horizon + 1 or monthly.shape[2] != horizon
            or hazard_multiplier.shape[0] < horizon or discount.shape[0] < horizon
            or stop > customer_keys.shape[0] or start < 0):
        return STATUS_BAD_SHAPE
    if n_groups > 0 and hazard.shape[1] < group_tenure[n_groups - 1] + horizon:
        return STATUS_BAD_SHAPE
    walk = dynamics[0] > 0.0 or dynamics[3] > 0.0
    scale = n_bins / (high - low)
    guide_size = 4 * horizon
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(n_groups * (horizon + 1))
        guide = np.empty(n_groups * guide_size, dtype=np.int64)
        for g in range(n_groups):
            _build_table(hazard, replication, group_tenure[g], hazard_multiplier, 0, horizon,
                         guide_size, survival, guide, g)
        for i in range(start, stop):
            key = customer_key(stream, customer_keys[i])
            u = uniform(key, np.uint64(0))
            months = _lifetime(survival, guide, customer_group[i], horizon, guide_size, u)
            if not walk:
                value = customer_mrr[i] * margin_prefix[months] - customer_cost[i] * cost_prefix[months]
                ends[b, 0, months] += 1.0
                ends[b, 1, months] += customer_mrr[i]
                ends[b, 2, months] += customer_cost[i]
            else:
                mrr = customer_mrr[i]
                value = 0.0
                for c in range(months):
                    if c >= 1:
                        mrr *= _event_factor(key, np.uint64(c), dynamics)
                    billed = mrr * price_existing[c]
                    contribution = billed * contribution_margin[c] - customer_cost[i] * cost_multiplier[c]
                    value += discount[c] * contribution
                    monthly[b, 0, c] += 1.0
                    monthly[b, 1, c] += billed
                    monthly[b, 2, c] += contribution
            _record(totals, b, EXISTING_COUNT, value)
            histogram[b, _histogram_bin(value, low, scale, n_bins)] += 1
    return STATUS_OK


@njit(cache=True, parallel=True)
def new_block(seed, segment_key, first_replication, hazard, hazard_multiplier, cohort_counts,
              new_mrr, new_cost, acquisition_cost, price_new, price_new_tenure,
              contribution_margin, cost_multiplier, discount, dynamics, low, high,
              totals, lifetimes, monthly, histogram, payback):
    """Simulate the new cohorts for a block of replications.

    A new customer acquired in projection month ``c0`` (``cohort_counts[c0]`` of them)
    has RNG key ``NEW_CUSTOMER_FLAG | c0 << 32 | j`` for ``j = 0, 1, ...``, so the same
    customer keeps its uniforms when a scenario changes the volume of other months.

    Parameters
    ----------
    hazard : (R, >= H) float64; hazard_multiplier : (>= 2H,) float64
        Base hazard by tenure and scenario factor by projection month.
    cohort_counts : (H,) int64
    new_mrr, new_cost, acquisition_cost : float
    price_new, contribution_margin, cost_multiplier : (>= 2H,) float64 calendar schedules
    price_new_tenure : (H,) float64 tenure schedule; discount : (>= H,) ``d ** k``
    dynamics : (6,) float64 (see :func:`existing_block`)
    low, high : float — histogram range of value at acquisition
    totals : (B, N_TOTALS) float64, accumulated (walked path only)
    lifetimes : (B, H, H + 1) int64, accumulated
        Customers by (acquisition month, lifetime) on the constant-MRR path.
    monthly : (B, 3, H) float64, accumulated (walked path only)
    histogram : (B, n_bins + 2) int64, accumulated (walked path only)
    payback : (B, H + 2) int64, accumulated (walked path only)
        Customers by payback months (``H + 1`` = not within the horizon).
    """
    n_block = totals.shape[0]
    horizon = cohort_counts.shape[0]
    n_bins = histogram.shape[1] - 2
    if (hazard.shape[0] < first_replication + n_block or hazard.shape[1] < horizon
            or lifetimes.shape[0] != n_block or lifetimes.shape[1] != horizon
            or lifetimes.shape[2] != horizon + 1 or monthly.shape[0] != n_block
            or histogram.shape[0] != n_block or payback.shape[1] != horizon + 2
            or hazard_multiplier.shape[0] < 2 * horizon or price_new.shape[0] < 2 * horizon
            or price_new_tenure.shape[0] < horizon):
        return STATUS_BAD_SHAPE
    walk = dynamics[0] > 0.0 or dynamics[3] > 0.0
    scale = n_bins / (high - low)
    guide_size = 4 * horizon
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 1)
        guide = np.empty(guide_size, dtype=np.int64)
        for c0 in range(horizon):
            count = cohort_counts[c0]
            if count == 0:
                continue
            _build_table(hazard, replication, 0, hazard_multiplier, c0, horizon, guide_size,
                         survival, guide, 0)
            cohort_bits = NEW_CUSTOMER_FLAG | (np.uint64(c0) << _SHIFT_32)
            for j in range(count):
                key = customer_key(stream, cohort_bits | np.uint64(j))
                u = uniform(key, np.uint64(0))
                months = _lifetime(survival, guide, 0, horizon, guide_size, u)
                if not walk:
                    lifetimes[b, c0, months] += 1
                    continue
                mrr = new_mrr
                value = 0.0
                cash = 0.0
                paid_back = 0 if acquisition_cost <= 0.0 else horizon + 1
                for k in range(months):
                    if k >= 1:
                        mrr *= _event_factor(key, np.uint64(k), dynamics)
                    c = c0 + k
                    billed = mrr * price_new[c] * price_new_tenure[k]
                    contribution = billed * contribution_margin[c] - new_cost * cost_multiplier[c]
                    value += discount[k] * contribution
                    cash += contribution
                    if paid_back > horizon and cash >= acquisition_cost:
                        paid_back = k + 1
                    if c < horizon:
                        monthly[b, 0, c] += 1.0
                        monthly[b, 1, c] += billed
                        monthly[b, 2, c] += contribution
                _record(totals, b, NEW_COUNT, value)
                totals[b, NEW_PROFIT_AT_START] += discount[c0] * (value - acquisition_cost)
                histogram[b, _histogram_bin(value, low, scale, n_bins)] += 1
                payback[b, paid_back] += 1
    return STATUS_OK


@njit(cache=True, parallel=True)
def uniform_sums(seed, segment_key, n_replications, n_customers, out):
    """Sum, per replication, the lifetime uniforms of customers ``0..n_customers-1``.

    The raw cost of the counter RNG as the engine uses it (one stream key per
    replication, one customer key and one draw per customer); for benchmarks.
    """
    for r in prange(n_replications):
        stream = stream_key(seed, np.uint64(r), segment_key)
        total = 0.0
        for i in range(n_customers):
            total += uniform(customer_key(stream, np.uint64(i)), np.uint64(0))
        out[r] = total
    return STATUS_OK


def exercise() -> None:
    """Run every kernel once on a tiny input, compiling (or loading) it."""
    horizon = 2
    seed = np.uint64(1)
    key = np.uint64(2)
    hazard = np.full((1, 4), 0.1)
    schedule = np.ones(2 * horizon)
    discount = np.ones(2 * horizon + 1)
    prefix = np.arange(horizon + 1, dtype=np.float64)
    for dynamics in (np.zeros(6), np.array([0.1, 0.1, 0.1, 0.1, -0.1, 0.1])):
        totals = np.zeros((1, N_TOTALS))
        existing_block(seed, key, 0, 0, 1, hazard, schedule, np.zeros(1, np.int64),
                       np.zeros(1, np.int64), np.zeros(1, np.uint64), np.ones(1), np.zeros(1),
                       schedule, schedule, schedule, discount, prefix, prefix, dynamics,
                       0.0, 1.0, totals, np.zeros((1, 3, horizon + 1)),
                       np.zeros((1, 3, horizon)), np.zeros((1, 6), np.int64))
        new_block(seed, key, 0, hazard, schedule, np.ones(horizon, np.int64), 1.0, 0.0, 1.0,
                  schedule, np.ones(horizon), schedule, schedule, discount, dynamics, 0.0, 1.0,
                  totals, np.zeros((1, horizon, horizon + 1), np.int64),
                  np.zeros((1, 3, horizon)), np.zeros((1, 6), np.int64),
                  np.zeros((1, horizon + 2), np.int64))
    uniform_sums(seed, key, 1, 1, np.zeros(1))
