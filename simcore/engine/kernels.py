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
  (existing) or acquisition month (new), built once per group (cohort) and replication
  together with a guide table (Chen & Asau 1974, "On generating random variates from an
  empirical distribution", AIIE Transactions 6(2)) that replaces bisection by a step or
  two of linear search — bisection's unpredictable branches cost more than the RNG
  itself. One small table at a time (customers arrive sorted by tenure group) keeps the
  lookups in the first-level cache;
* an existing customer's value is ``m A(L) - k B(L) - E(L)`` from prefix sums, and its monthly
  contribution to the projection is recorded once, at its end month, in "ends"
  accumulators (the active totals in month ``c`` are the ends after ``c``);
* a new customer only increments a (cohort, lifetime) count; everything else follows
  from those counts in the post-pass :func:`fold_new_lifetimes` (O(H^2) per
  replication, independent of the number of customers);
* per-replication sums, minimum and maximum are kept in registers, and each
  replication writes only its own rows, so threads share no cache lines in the loop.

With expansion or contraction the MRR path is walked month by month (O(L)).

Existing and new customers differ in their first projected month. A new customer
acquired in projection month ``c0`` pays that month for certain. An existing customer
at tenure ``a`` (whole months completed at ``as_of``) has already paid ``a + 1`` times
(life months ``0..a``) and is known to have ``T > a`` payments in its life; it pays in
projection month ``c`` only if ``T > a + 1 + c``, so

``P(pays in month c) = prod_{k=0..c} (1 - min(1, h(a + k) m(k)))``,

``m`` being the scenario's calendar factor on existing customers' hazard. Its number of
projected payments is ``L = min(T_e - 1, H)``, where ``T_e`` is drawn from the table of
the lifetime counted from today, built one month longer than the horizon; ``L`` can be
0. Projection month 0 is a renewal for an existing customer, so on the walked path an
expansion or contraction event can happen in it too (new customers: from their second
month on).

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

#: Columns of the per-replication lifetime table of :func:`existing_block`, one row of
#: eight float64 (64 bytes) per lifetime ``L``, so the three prefix sums a customer reads
#: and the three "ends" sums it adds to share one cache line.
_MARGIN_PREFIX, _COST_PREFIX, _EXTRA_PREFIX = np.uint64(0), np.uint64(1), np.uint64(2)
_ENDS_COUNT, _ENDS_MRR, _ENDS_COST = np.uint64(4), np.uint64(5), np.uint64(6)
_TABLE_WIDTH = np.uint64(8)


#: Most guide-table slices per lifetime month (see :func:`_guide_size`).
_MAX_GUIDE_SLICES_PER_MONTH = 16
#: Customers per batch of the per-customer passes (scratch stays in the L1 cache).
_BATCH = 256


@njit(cache=True, inline="always")
def _guide_size(horizon, draws_per_table):
    """Slices of the guide table: more slices shorten every search but cost more to
    build, so a table that serves many draws gets up to 16 slices per month."""
    per_month = draws_per_table // max(2 * horizon, 1)
    if per_month < 1:
        per_month = 1
    if per_month > _MAX_GUIDE_SLICES_PER_MONTH:
        per_month = _MAX_GUIDE_SLICES_PER_MONTH
    return per_month * horizon


@njit(cache=True, inline="always")
def _build_table(hazard, replication, tenure, multiplier, first_month, tenure_multiplier,
                 horizon, guide_size, survival, guide):
    """Fill one survival table and its guide table.

    ``survival[t] = S(t)`` for ``t < n`` (``n`` = the ``horizon`` argument) with
    ``S(0) = 1`` and ``S(t+1) = S(t) (1 - min(1, h(tenure + t) m(first_month + t)
    m_tenure(t)))``; ``survival[n]`` holds the sentinel -1 so every search stops at ``n``
    without a bounds test (lifetimes are counted within the table). New customers use
    ``n = H``; existing customers ``n = H + 1`` (see the module docstring), so
    ``survival`` has ``n + 1`` slots and ``tenure_multiplier`` at least ``n``.

    The guide table (Chen & Asau 1974) stores, for each slice ``j`` of ``guide_size``
    equal slices of (0, 1), the smallest ``t >= 1`` with ``fl(S(t) G) < j + 1``. A
    uniform ``u`` with ``int(u G) = j`` has ``fl(u G) < j + 1``, and rounding is
    monotone, so every ``t`` with ``S(t) <= u`` lies at or after ``guide[j]``: the search
    may start there, whatever the rounding.
    """
    s = 1.0
    survival[0] = 1.0
    for t in range(horizon):
        h = hazard[replication, tenure + t] * multiplier[first_month + t] * tenure_multiplier[t]
        if h > 1.0:
            h = 1.0
        s = s * (1.0 - h)
        survival[t + 1] = s
    survival[horizon] = -1.0
    scale = float(guide_size)
    t = 1
    for j in range(guide_size - 1, -1, -1):
        while survival[t] * scale >= j + 1:
            t += 1
        guide[j] = t


@njit(cache=True, inline="always")
def _lifetime(survival, guide, guide_size, u):
    """Lifetime within the table: ``min(T, n)``, ``T = min{t >= 1: S(t) <= u}``, as
    uint64 (``n`` = the table's length, see :func:`_build_table`).

    Inverse CDF of the discrete lifetime: ``P(T > t) = P(S(t) > u) = S(t)``; the guide
    table leaves a search of a step or two. The first step is taken without a branch
    (``survival[H] = -1`` keeps it within the table), so the loop that follows almost
    never runs and its branch is predicted; unsigned indices spare numba's handling of
    negative indices.
    """
    t = np.uint64(guide[np.uint64(np.int64(u * guide_size))])
    t += np.uint64(survival[t] > u)
    while survival[t] > u:
        t += _ONE
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
    """MRR factor of the expansion / contraction event (if any) in a renewal month:
    projection month ``>= 0`` of an existing customer, tenure month ``>= 1`` of a new
    one (draws ``3 month + 1..3``, never the lifetime draw 0)."""
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


@njit(cache=True)
def existing_block(seed, segment_key, first_replication, start, stop,
                   hazard, hazard_multiplier, group_tenure, customer_group, customer_keys,
                   customer_mrr, customer_cost, price_existing, contribution_margin,
                   cost_multiplier, extra_cost, discount, margin_prefix, cost_prefix,
                   extra_prefix, dynamics, low, high, totals, ends, monthly, histogram):
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
        Base monthly hazard by tenure per parameter draw, ``T >= max tenure + H + 1``.
    hazard_multiplier : (>= H + 1,) float64
        Scenario factor on the hazard of existing customers by projection month.
    group_tenure : (G,) int64; customer_group, customer_keys, customer_mrr, customer_cost : (N,)
        Tenure groups and customer data (see :class:`~simcore.engine.compile.CompiledSegment`).
    price_existing, contribution_margin, cost_multiplier, extra_cost : (>= H,) float64
        Calendar schedules; ``discount`` (>= H,) is ``d ** c``.
    margin_prefix, cost_prefix, extra_prefix : (H + 1,) float64
        Prefix sums ``A(L)``, ``B(L)``, ``E(L)`` for constant MRR, by the number of
        projected payments ``L = 0..H``.
    dynamics : (6,) float64
        ``p_expansion, expansion_log_mean, expansion_log_sd, p_contraction,
        contraction_log_mean, contraction_log_sd``.
    low, high : float
        Histogram range of per-customer value.
    totals : (B, N_TOTALS) float64, accumulated
    ends : (B, 3, H + 1) float64, accumulated
        Customers, MRR and fixed cost by number of projected payments ``L``
        (constant-MRR path only).
    monthly : (B, 3, H) float64, accumulated
        Active customers, MRR, contribution by projection month (walked path only).
    histogram : (B, n_bins + 2) int64, accumulated

    Returns
    -------
    int
        Status code (see the module docstring).

    Notes
    -----
    Checks shapes, finds the runs of customers of one tenure group, then hands over to
    :func:`_existing_constant_mrr` or, with expansion or contraction,
    :func:`_existing_walked`.
    """
    n_block = totals.shape[0]
    horizon = margin_prefix.shape[0] - 1
    n_groups = group_tenure.shape[0]
    if (hazard.shape[0] < first_replication + n_block or ends.shape[0] != n_block
            or monthly.shape[0] != n_block or histogram.shape[0] != n_block
            or ends.shape[2] != horizon + 1 or monthly.shape[2] != horizon
            or hazard_multiplier.shape[0] < horizon + 1 or discount.shape[0] < horizon
            or stop > customer_keys.shape[0] or stop > customer_group.shape[0]
            or stop > customer_mrr.shape[0] or stop > customer_cost.shape[0] or start < 0
            or cost_prefix.shape[0] != horizon + 1 or extra_prefix.shape[0] != horizon + 1):
        return STATUS_BAD_SHAPE
    # The lifetime table of an existing customer runs one month past the horizon.
    if n_groups > 0 and hazard.shape[1] < group_tenure[n_groups - 1] + horizon + 1:
        return STATUS_BAD_SHAPE
    guide_size = _guide_size(horizon, (stop - start) // max(n_groups, 1))
    # Runs of customers of the same tenure group (the compile step sorts by group, so
    # each group's table is built once per replication and stays in the first-level
    # cache; any order is still simulated correctly). They are the same in every
    # replication, so they are found once here rather than once per replication.
    n_runs = 0
    for i in range(start, stop):
        if i == start or customer_group[i] != customer_group[i - 1]:
            n_runs += 1
    run_starts = np.empty(n_runs + 1, dtype=np.int64)
    n_runs = 0
    for i in range(start, stop):
        if i == start or customer_group[i] != customer_group[i - 1]:
            run_starts[n_runs] = i
            n_runs += 1
    run_starts[n_runs] = stop
    # Two kernels rather than one with a branch per batch: with the walked path in the
    # same loop nest, register pressure spills the running totals of the constant-MRR
    # path to memory.
    if dynamics[0] > 0.0 or dynamics[3] > 0.0:
        return _existing_walked(seed, segment_key, first_replication, run_starts, hazard,
                                hazard_multiplier, group_tenure, customer_group, customer_keys,
                                customer_mrr, customer_cost, price_existing,
                                contribution_margin, cost_multiplier, extra_cost, discount,
                                dynamics, guide_size, low, high, totals, monthly, histogram)
    return _existing_constant_mrr(seed, segment_key, first_replication, run_starts, hazard,
                                  hazard_multiplier, group_tenure, customer_group,
                                  customer_keys, customer_mrr, customer_cost, margin_prefix,
                                  cost_prefix, extra_prefix, guide_size, low, high, totals,
                                  ends, histogram)


@njit(cache=True, inline="always")
def _uniforms_and_lifetimes(stream, batch_keys, survival, guide, guide_size, scratch, months):
    """Lifetime uniforms, then numbers of projected payments, of one batch of existing
    customers.

    ``survival`` is the table of the lifetime counted from today, one month longer than
    the horizon (``survival[H + 1]`` is the sentinel), so the search returns ``min(T_e,
    H + 1)`` and ``months[j] = min(T_e - 1, H)``: the months paid after ``as_of``, which
    can be 0 (see the module docstring).

    Two separate passes: the random numbers (no branches, vectorised), then the lookups
    (whose rare mispredicted branches then only discard a short chain).
    """
    for j in range(batch_keys.shape[0]):
        scratch[j] = uniform(customer_key(stream, batch_keys[j]), np.uint64(0))
    for j in range(batch_keys.shape[0]):
        months[j] = _lifetime(survival, guide, guide_size, scratch[j]) - _ONE


@njit(cache=True, parallel=True)
def _existing_constant_mrr(seed, segment_key, first_replication, run_starts, hazard,
                           hazard_multiplier, group_tenure, customer_group, customer_keys,
                           customer_mrr, customer_cost, margin_prefix, cost_prefix,
                           extra_prefix, guide_size, low, high, totals, ends, histogram):
    """Constant-MRR path of :func:`existing_block` (arguments as there; ``run_starts``
    holds the first customer of each run of one tenure group, then ``stop``)."""
    n_block = totals.shape[0]
    horizon = margin_prefix.shape[0] - 1
    n_bins = histogram.shape[1] - 2
    n_runs = run_starts.shape[0] - 1
    scale = n_bins / (high - low)
    # Lifetime tables of existing customers are one month longer than the horizon.
    no_tenure_factor = np.ones(horizon + 1)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 2)
        guide = np.empty(guide_size, dtype=np.uint32)
        # Lifetimes, then histogram bins, of one batch; unsigned so that indexing with
        # them needs no handling of negative indices.
        months = np.empty(_BATCH, dtype=np.uint64)
        scratch = np.empty(_BATCH)
        # The prefix sums and this replication's "ends" sums, interleaved by lifetime
        # (see _TABLE_WIDTH). The ends sums start from the stored values and are written
        # back at the end, so every addition happens in the same order as into ``ends``.
        table = np.zeros((horizon + 1) * _TABLE_WIDTH)
        for months_active in range(horizon + 1):
            row = np.uint64(months_active) * _TABLE_WIDTH
            table[row + _MARGIN_PREFIX] = margin_prefix[months_active]
            table[row + _COST_PREFIX] = cost_prefix[months_active]
            table[row + _EXTRA_PREFIX] = extra_prefix[months_active]
            table[row + _ENDS_COUNT] = ends[b, 0, months_active]
            table[row + _ENDS_MRR] = ends[b, 1, months_active]
            table[row + _ENDS_COST] = ends[b, 2, months_active]
        replication_histogram = histogram[b]
        # Per-replication totals live in registers; starting from the stored values
        # keeps the additions in customer order across chunks.
        count = totals[b, EXISTING_COUNT]
        value_sum = totals[b, EXISTING_COUNT + 1]
        value_squares = totals[b, EXISTING_COUNT + 2]
        value_min = totals[b, EXISTING_COUNT + 3]
        value_max = totals[b, EXISTING_COUNT + 4]
        for run in range(n_runs):
            first = run_starts[run]
            last = run_starts[run + 1]
            _build_table(hazard, replication, group_tenure[customer_group[first]],
                         hazard_multiplier, 0, no_tenure_factor, horizon + 1, guide_size,
                         survival, guide)
            for batch_start in range(first, last, _BATCH):
                batch_stop = min(batch_start + _BATCH, last)
                size = batch_stop - batch_start
                # Views of the batch, indexed from 0, spare the handling of negative
                # indices that ``batch_start + j`` would need.
                batch_mrr = customer_mrr[batch_start:batch_stop]
                batch_cost = customer_cost[batch_start:batch_stop]
                _uniforms_and_lifetimes(stream, customer_keys[batch_start:batch_stop],
                                        survival, guide, guide_size, scratch, months)
                # Then the money and the running totals, then the histogram increments
                # (whose addresses are then known early).
                for j in range(size):
                    row = months[j] * _TABLE_WIDTH
                    mrr = batch_mrr[j]
                    cost = batch_cost[j]
                    table[row + _ENDS_COUNT] += 1.0
                    table[row + _ENDS_MRR] += mrr
                    table[row + _ENDS_COST] += cost
                    value = (mrr * table[row + _MARGIN_PREFIX] - cost * table[row + _COST_PREFIX]
                             - table[row + _EXTRA_PREFIX])
                    value_sum += value
                    value_squares += value * value
                    value_min = min(value_min, value)
                    value_max = max(value_max, value)
                    months[j] = np.uint64(_histogram_bin(value, low, scale, n_bins))
                count += size
                for j in range(size):
                    replication_histogram[months[j]] += 1
        for months_active in range(horizon + 1):
            row = np.uint64(months_active) * _TABLE_WIDTH
            ends[b, 0, months_active] = table[row + _ENDS_COUNT]
            ends[b, 1, months_active] = table[row + _ENDS_MRR]
            ends[b, 2, months_active] = table[row + _ENDS_COST]
        totals[b, EXISTING_COUNT] = count
        totals[b, EXISTING_COUNT + 1] = value_sum
        totals[b, EXISTING_COUNT + 2] = value_squares
        totals[b, EXISTING_COUNT + 3] = value_min
        totals[b, EXISTING_COUNT + 4] = value_max
    return STATUS_OK


@njit(cache=True, parallel=True)
def _existing_walked(seed, segment_key, first_replication, run_starts, hazard,
                     hazard_multiplier, group_tenure, customer_group, customer_keys,
                     customer_mrr, customer_cost, price_existing, contribution_margin,
                     cost_multiplier, extra_cost, discount, dynamics, guide_size, low, high,
                     totals, monthly, histogram):
    """Expansion / contraction path of :func:`existing_block`: the MRR path of each
    customer is walked month by month (arguments as there and in
    :func:`_existing_constant_mrr`)."""
    n_block = totals.shape[0]
    horizon = monthly.shape[2]
    n_bins = histogram.shape[1] - 2
    n_runs = run_starts.shape[0] - 1
    scale = n_bins / (high - low)
    # Lifetime tables of existing customers are one month longer than the horizon.
    no_tenure_factor = np.ones(horizon + 1)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 2)
        guide = np.empty(guide_size, dtype=np.uint32)
        months = np.empty(_BATCH, dtype=np.uint64)
        scratch = np.empty(_BATCH)
        count = totals[b, EXISTING_COUNT]
        value_sum = totals[b, EXISTING_COUNT + 1]
        value_squares = totals[b, EXISTING_COUNT + 2]
        value_min = totals[b, EXISTING_COUNT + 3]
        value_max = totals[b, EXISTING_COUNT + 4]
        for run in range(n_runs):
            first = run_starts[run]
            last = run_starts[run + 1]
            _build_table(hazard, replication, group_tenure[customer_group[first]],
                         hazard_multiplier, 0, no_tenure_factor, horizon + 1, guide_size,
                         survival, guide)
            for batch_start in range(first, last, _BATCH):
                batch_stop = min(batch_start + _BATCH, last)
                size = batch_stop - batch_start
                batch_keys = customer_keys[batch_start:batch_stop]
                _uniforms_and_lifetimes(stream, batch_keys, survival, guide, guide_size,
                                        scratch, months)
                for j in range(size):
                    key = customer_key(stream, batch_keys[j])
                    mrr = customer_mrr[batch_start + j]
                    cost = customer_cost[batch_start + j]
                    value = 0.0
                    for c in range(np.int64(months[j])):
                        # Every projected month of an existing customer is a renewal,
                        # month 0 included, so an event may precede each payment.
                        mrr *= _event_factor(key, np.uint64(c), dynamics)
                        billed = mrr * price_existing[c]
                        contribution = (billed * contribution_margin[c]
                                        - cost * cost_multiplier[c] - extra_cost[c])
                        value += discount[c] * contribution
                        monthly[b, 0, c] += 1.0
                        monthly[b, 1, c] += billed
                        monthly[b, 2, c] += contribution
                    value_sum += value
                    value_squares += value * value
                    value_min = min(value_min, value)
                    value_max = max(value_max, value)
                    months[j] = np.uint64(_histogram_bin(value, low, scale, n_bins))
                count += size
                for j in range(size):
                    histogram[b, months[j]] += 1
        totals[b, EXISTING_COUNT] = count
        totals[b, EXISTING_COUNT + 1] = value_sum
        totals[b, EXISTING_COUNT + 2] = value_squares
        totals[b, EXISTING_COUNT + 3] = value_min
        totals[b, EXISTING_COUNT + 4] = value_max
    return STATUS_OK


@njit(cache=True, parallel=True)
def new_block(seed, segment_key, first_replication, hazard, hazard_multiplier,
              tenure_hazard_multiplier, cohort_counts, new_mrr, new_cost, acquisition_cost,
              price_new, price_new_tenure, contribution_margin, cost_multiplier, extra_cost,
              discount, dynamics, low, high, totals, lifetimes, monthly, histogram, payback):
    """Simulate the new cohorts for a block of replications.

    A new customer acquired in projection month ``c0`` (``cohort_counts[c0]`` of them)
    has RNG key ``NEW_CUSTOMER_FLAG | c0 << 32 | j`` for ``j = 0, 1, ...``, so the same
    customer keeps its uniforms when a scenario changes the volume of other months.

    Parameters
    ----------
    hazard : (R, >= H) float64; hazard_multiplier : (>= 2H,) float64
        Base hazard by tenure and scenario factor on new customers' hazard by
        projection month.
    tenure_hazard_multiplier : (H,) float64
        Scenario factor on new customers' hazard by tenure month.
    cohort_counts : (H,) int64
    new_mrr, new_cost, acquisition_cost : float
    price_new, contribution_margin, cost_multiplier, extra_cost : (>= 2H,) float64
        calendar schedules
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
            or price_new_tenure.shape[0] < horizon
            or tenure_hazard_multiplier.shape[0] < horizon or extra_cost.shape[0] < 2 * horizon):
        return STATUS_BAD_SHAPE
    walk = dynamics[0] > 0.0 or dynamics[3] > 0.0
    scale = n_bins / (high - low)
    largest_guide = _guide_size(horizon, cohort_counts.max() if horizon > 0 else 0)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 1)
        guide = np.empty(largest_guide, dtype=np.uint32)
        scratch = np.empty(_BATCH)
        for c0 in range(horizon):
            count = cohort_counts[c0]
            if count == 0:
                continue
            guide_size = _guide_size(horizon, count)
            _build_table(hazard, replication, 0, hazard_multiplier, c0, tenure_hazard_multiplier,
                         horizon, guide_size, survival, guide)
            cohort_bits = NEW_CUSTOMER_FLAG | (np.uint64(c0) << _SHIFT_32)
            if not walk:
                # Random numbers first, then lookups (see existing_block).
                for batch_start in range(0, count, _BATCH):
                    size = min(batch_start + _BATCH, count) - batch_start
                    for j in range(size):
                        scratch[j] = uniform(customer_key(
                            stream, cohort_bits | np.uint64(batch_start + j)), np.uint64(0))
                    for j in range(size):
                        lifetimes[b, c0, _lifetime(survival, guide, guide_size, scratch[j])] += 1
                continue
            for j in range(count):
                key = customer_key(stream, cohort_bits | np.uint64(j))
                u = uniform(key, np.uint64(0))
                months = np.int64(_lifetime(survival, guide, guide_size, u))
                mrr = new_mrr
                value = 0.0
                cash = 0.0
                paid_back = 0 if acquisition_cost <= 0.0 else horizon + 1
                for k in range(months):
                    if k >= 1:
                        mrr *= _event_factor(key, np.uint64(k), dynamics)
                    c = c0 + k
                    billed = mrr * price_new[c] * price_new_tenure[k]
                    contribution = (billed * contribution_margin[c] - new_cost * cost_multiplier[c]
                                    - extra_cost[c])
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
def fold_new_lifetimes(lifetimes, value_table, discount, acquisition_cost, bin_table,
                       payback_months, mrr_table, contribution_table, totals, monthly,
                       histogram, payback):
    """Fold counts of constant-MRR new customers by (acquisition month, lifetime) into
    the accumulators: a post-pass of O(H^2) per replication, whatever the volume.

    Parameters
    ----------
    lifetimes : (B, H, H + 1) int64
        Customers by acquisition month ``c0`` and lifetime ``L`` (from :func:`new_block`).
    value_table : (H, H + 1) float64
        Value at acquisition of such a customer (before acquisition cost).
    discount : (>= H,) float64
        ``d ** c0``, to discount profit from the acquisition month to the start.
    acquisition_cost : float
    bin_table : (H, H + 1) int64
        Histogram bin of each value.
    payback_months : (H,) int64
        Months of contribution needed to earn back the acquisition cost, by ``c0``
        (``H + 1`` = not within the horizon).
    mrr_table, contribution_table : (H, H) float64
        MRR and contribution of one active customer of cohort ``c0`` in its tenure
        month ``k``.
    totals : (B, N_TOTALS) float64, accumulated (new-customer columns)
    monthly : (B, 3, H) float64, accumulated
        Active customers, MRR, contribution by projection month: a customer with
        lifetime ``L`` is active in tenure months ``k < L``, so the active count at
        ``k`` is the reverse cumulative sum of the counts over ``L > k``.
    histogram : (B, n_bins + 2) int64, accumulated
    payback : (B, H + 2) int64, accumulated
    """
    n_block = lifetimes.shape[0]
    horizon = lifetimes.shape[1]
    if (lifetimes.shape[2] != horizon + 1 or value_table.shape[0] != horizon
            or bin_table.shape[0] != horizon or mrr_table.shape[0] != horizon
            or monthly.shape[0] != n_block or monthly.shape[2] != horizon
            or payback.shape[1] != horizon + 2 or totals.shape[0] != n_block):
        return STATUS_BAD_SHAPE
    for b in prange(n_block):
        count = totals[b, NEW_COUNT]
        value_sum = totals[b, NEW_COUNT + 1]
        value_squares = totals[b, NEW_COUNT + 2]
        value_min = totals[b, NEW_COUNT + 3]
        value_max = totals[b, NEW_COUNT + 4]
        profit = totals[b, NEW_PROFIT_AT_START]
        for c0 in range(horizon):
            needed = payback_months[c0]
            for months in range(1, horizon + 1):
                n = lifetimes[b, c0, months]
                if n == 0:
                    continue
                weight = float(n)
                value = value_table[c0, months]
                count += weight
                value_sum += weight * value
                value_squares += weight * value * value
                value_min = min(value_min, value)
                value_max = max(value_max, value)
                profit += weight * discount[c0] * (value - acquisition_cost)
                histogram[b, bin_table[c0, months]] += n
                if needed <= horizon and months >= needed:
                    payback[b, needed] += n
                else:
                    payback[b, horizon + 1] += n
            alive = 0.0
            for k in range(horizon - 1, -1, -1):
                alive += lifetimes[b, c0, k + 1]
                if c0 + k < horizon and alive > 0.0:
                    monthly[b, 0, c0 + k] += alive
                    monthly[b, 1, c0 + k] += alive * mrr_table[c0, k]
                    monthly[b, 2, c0 + k] += alive * contribution_table[c0, k]
        totals[b, NEW_COUNT] = count
        totals[b, NEW_COUNT + 1] = value_sum
        totals[b, NEW_COUNT + 2] = value_squares
        totals[b, NEW_COUNT + 3] = value_min
        totals[b, NEW_COUNT + 4] = value_max
        totals[b, NEW_PROFIT_AT_START] = profit
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
                       schedule, schedule, schedule, schedule, discount, prefix, prefix, prefix,
                       dynamics,
                       0.0, 1.0, totals, np.zeros((1, 3, horizon + 1)),
                       np.zeros((1, 3, horizon)), np.zeros((1, 6), np.int64))
        new_block(seed, key, 0, hazard, schedule, np.ones(horizon), np.ones(horizon, np.int64),
                  1.0, 0.0, 1.0, schedule, np.ones(horizon), schedule, schedule, schedule,
                  discount, dynamics, 0.0, 1.0,
                  totals, np.zeros((1, horizon, horizon + 1), np.int64),
                  np.zeros((1, 3, horizon)), np.zeros((1, 6), np.int64),
                  np.zeros((1, horizon + 2), np.int64))
    lifetimes = np.zeros((1, horizon, horizon + 1), np.int64)
    lifetimes[0, 0, 1] = 1
    table = np.ones((horizon, horizon + 1))
    fold_new_lifetimes(lifetimes, table, discount, 1.0, np.ones((horizon, horizon + 1), np.int64),
                       np.ones(horizon, np.int64), np.ones((horizon, horizon)),
                       np.ones((horizon, horizon)), np.zeros((1, N_TOTALS)),
                       np.zeros((1, 3, horizon)), np.zeros((1, 6), np.int64),
                       np.zeros((1, horizon + 2), np.int64))
    uniform_sums(seed, key, 1, 1, np.zeros(1))
