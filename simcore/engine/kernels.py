"""numba kernels of the Monte Carlo engine: plain arrays in, accumulators out.

Each kernel handles a block of replications (``prange`` over them; each iteration
writes only its own slot of every output) and *adds* into its outputs, so a caller may
split the existing customers into chunks and call :func:`existing_block` once per
chunk, in order, with the same outputs: the floating-point additions then happen in the
same order as in one call, and results are bit-identical for any chunking and any
number of threads.

Arguments come grouped in named tuples of plain arrays and numbers (:class:`Churn`,
:class:`ExistingCustomers`, :class:`ExistingValues`, :class:`MrrPaths`,
:class:`NewTables` and one output tuple per kernel); numba passes a named tuple of
arrays as cheaply as the arrays themselves.

Lifetimes
---------
The lifetime ``L`` (months active within the horizon) of a customer comes from one
uniform by inverse CDF on the scenario-modified survival sequence of its tenure group
(existing) or acquisition month (new), built once per group (cohort) and replication
together with a guide table (Chen & Asau 1974, "On generating random variates from an
empirical distribution", AIIE Transactions 6(2)) that replaces bisection by a step or
two of linear search — bisection's unpredictable branches cost more than the RNG
itself. One small table at a time (customers arrive sorted by tenure group) keeps the
lookups in the first-level cache.

Existing and new customers differ in their first projected month. A new customer
acquired in projection month ``c0`` pays that month for certain. An existing customer
at tenure ``a`` (whole months completed at ``as_of``) has already paid ``a + 1`` times
(life months ``0..a``) and is known to have ``T > a`` payments in its life; it pays in
projection month ``c`` only if ``T > a + 1 + c``, so

``P(pays in month c) = prod_{k=0..c} (1 - min(1, h(a + k) m(k)))``,

``m`` being the scenario's calendar factor on existing customers' hazard. Its number of
projected payments is ``L = min(T_e - 1, H)``, where ``T_e`` is drawn from the table of
the lifetime counted from today, built one month longer than the horizon; ``L`` can be
0.

Expansion and contraction: the model
------------------------------------
Before every renewal — every projected month of an existing customer (month 0
included: it is a renewal), every tenure month ``k >= 1`` of a new one — a customer's
MRR is multiplied by an event factor ``f``: with probability ``p_e`` an expansion
``exp(mu_e + sigma_e Z)``, else with probability ``p_c`` a contraction ``exp(mu_c +
sigma_c Z)``, else 1; factors are independent across months and of the lifetime. With
``N_t = f_1 ... f_t`` (``N_0 = 1``) a path of ``H + 1`` values, an existing customer of
MRR ``m`` bills ``m N_{c+1} p_e(c)`` in projection month ``c`` and a new one ``m N_k
p_n(c0 + k) D(k)`` in tenure month ``k`` (``p_e``, ``p_n`` calendar price factors,
``D`` the tenure price factor). The NumPy reference engine walks exactly this, one
customer-month at a time.

Expansion and contraction: O(1) per customer
--------------------------------------------
Walking a path costs O(L) random draws per customer. The kernels instead split what
they report into two parts.

*Sums and monthly projections are exact expectations over the MRR path* (a
Rao-Blackwellisation). Since the path is independent of the lifetime,
``E[N_t | L] = g^t`` with the expected monthly factor

``g = E[f] = 1 - p_e - p_c + p_e exp(mu_e + sigma_e^2 / 2) + p_c exp(mu_c + sigma_c^2 / 2)``,

so the expected value of a customer given its lifetime is the constant-MRR formula
with the price schedules multiplied by ``g^(c+1)`` (existing) or ``g^k`` (new): the
prefix sums ``A(L)`` and the (cohort, lifetime) tables that the compile step builds
with the growth folded in. Per-replication value sums, new cohorts' profit and the
monthly active customers, MRR and contribution are therefore computed as on the
constant-MRR path, from one uniform per customer: their expectation equals the walked
model's exactly (floating-point rounding aside), and given the replication's parameter
draw and lifetimes they carry no noise from the events. Across replications they keep
the parameter and lifetime noise but not the events' own aggregate noise, which for a
segment of ``n`` customers is ``O(1/sqrt(n))`` of its total: on the demo book, adding it
back would widen the across-replication standard deviation of a segment's value total
by 0.3-4% in three segments and by 13% in the fourth, whose total is small (measured as
``sum_i Var(V_i | L_i)`` from the pooled values). Paired scenario differences are
barely affected, since the walked model's events are common random numbers too.

*Per-customer distributions come from a pool of simulated paths.* Per (replication,
segment) the kernels simulate ``P`` paths (a power of two; path ``j`` has RNG key
``customer_key(stream, PATH_KEYS | j)`` and draws ``3t + 1 .. 3t + 3`` for its factor
``f_t``) and keep, per path, prefix sums over ``t``:

* existing: ``X_j(L) = sum_{c<L} d^c p_e(c) cm(c) N_{j,c+1}``, so a customer with MRR
  ``m``, fixed cost ``k`` and ``L`` projected payments on path ``j`` is worth ``m X_j(L)
  - k B(L) - E(L)`` (``cm`` the contribution margin, ``B``, ``E`` the cost prefix sums);
* new: ``Q_j(L) = sum_{k<L} d^k D(k) N_{j,k}``; the calendar factor ``x(c) = p_n(c)
  cm(c)`` is piecewise constant, so a customer of cohort ``c0`` is worth ``m_new
  sum_pieces x(piece) (Q_j(end) - Q_j(start)) - F(c0, L)`` — one term per calendar
  change of ``x`` inside its life (none for most customers), ``F`` the discounted fixed
  cost;
* new payback: the first month ``T_j(c0)`` in which the path's cumulative undiscounted
  contribution reaches the acquisition cost, for each cohort ``c0`` up to the last
  calendar change of the money schedules (later cohorts see the same schedules); a
  customer has paid back iff ``T_j(c0) <= L``.

Each customer's draw 0 gives both its lifetime uniform (the top 52 bits) and its path
index ``j`` (the low ``log2 P`` bits; the two parts of a 64-bit output are
independent), so a customer costs no more random numbers than on the constant-MRR
path. The pair (lifetime, path) of every customer therefore has
exactly the walked model's joint law (independent, the path a draw of the event
process), so each customer's value, and its payback month, has exactly the walked
model's distribution; per-customer quantities (value histogram, sum of squares,
minimum, maximum, payback months) are accumulated from these values. Customers sharing
a path in one replication are dependent, which is why the sums above come from the
exact expectations instead; pooled over replications the histograms see ``R P``
distinct paths (``run_segment`` keeps that at 2^15 or more from 16 replications on).

Per customer the work is O(1) plus a short guided search: one draw, a few table
lookups (on the constant-MRR path no pool at all). An existing customer's
contribution to the projection is recorded once, at its end month, in "ends"
accumulators (the active totals in month ``c`` are the ends after ``c``); a new
customer only increments a (cohort, lifetime) count, folded by
:func:`fold_new_lifetimes` in O(H^2) per replication whatever the volume. New cohorts
whose hazard schedules coincide over their life share one survival table. A pool costs
``P H`` event-kind draws (and a normal for each event) per (replication, segment),
built once by :func:`path_block` for both populations.

Kernels return a status code instead of raising: 0 = ok, 1 = inconsistent array shapes.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange

from simcore.engine.accumulators import EXISTING_COUNT, N_TOTALS, NEW_COUNT, NEW_PROFIT_AT_START
from simcore.engine.rng import (
    NEW_CUSTOMER_FLAG,
    customer_key,
    mix64,
    standard_normal,
    stream_key,
    to_unit,
    uniform,
)

STATUS_OK = 0
STATUS_BAD_SHAPE = 1

_ONE = np.uint64(1)
_THREE = np.uint64(3)
_SHIFT_32 = np.uint64(32)
_SIXTY_FOUR = np.uint64(64)

#: Keys of the simulated MRR paths: ``PATH_KEYS | j`` for path ``j``. New customers'
#: keys are ``NEW_CUSTOMER_FLAG | c0 << 32 | j`` with ``c0`` below the horizon, so a
#: cohort index of ``2^31 - 1`` never occurs; existing customers' keys have the top bit
#: clear.
PATH_KEYS = NEW_CUSTOMER_FLAG | (np.uint64(0x7FFFFFFF) << _SHIFT_32)

#: Columns of the per-replication lifetime table of the existing-customer kernels, one
#: row of eight float64 (64 bytes) per lifetime ``L``, so the three prefix sums a
#: customer reads and the three "ends" sums it adds to share one cache line.
_MARGIN_PREFIX, _COST_PREFIX, _EXTRA_PREFIX = np.uint64(0), np.uint64(1), np.uint64(2)
_ENDS_COUNT, _ENDS_MRR, _ENDS_COST = np.uint64(4), np.uint64(5), np.uint64(6)
_TABLE_WIDTH = np.uint64(8)

#: Most guide-table slices per lifetime month (see :func:`_guide_size`).
_MAX_GUIDE_SLICES_PER_MONTH = 16
#: Customers per batch of the per-customer passes (scratch stays in the L1 cache).
_BATCH = 256

# ------------------------------------------------------------------ argument groups

Churn = namedtuple("Churn", ["hazard", "calendar_factor", "tenure_factor", "cohort_classes"])
Churn.__doc__ = """Monthly churn of one population.

hazard : (R, T) float64
    Base hazard by tenure, one row per parameter draw (replication).
calendar_factor : float64 array
    Existing customers: (>= H + 1,) scenario factor on the decision into projection
    month ``c``. New customers: (cohort_classes, >= H), row ``c0`` (the last row shared
    by later cohorts) the factor on the decision after tenure month ``k`` (a row lookup
    per cohort: churn responses depend on the acquisition month).
tenure_factor : float64 array
    A further factor by the customer's own tenure month (ones: the compile step folds
    the tenure factor of new customers into their rows; ``>= H + 1`` for existing
    customers, ``>= H`` for new ones).
cohort_classes : int
    New customers: cohorts ``c0 >= cohort_classes - 1`` share the last row, so they
    share one survival table per replication. 1 for existing customers (unused).
"""

ExistingCustomers = namedtuple("ExistingCustomers", ["group_tenure", "group", "key", "mrr", "cost",
                                                     "churn_passed"])
ExistingCustomers.__doc__ = """The existing base, sorted by tenure group.

group_tenure : (G,) int64 — tenure of each group; group : (N,) int64 — group of each
customer; key : (N,) uint64 — RNG key; mrr, cost : (N,) float64 — MRR and fixed monthly
cost to serve; churn_passed : (N,) float64 — ``G`` in [0, 1], the share of the current
month's churns already past at the customer's point of the month (0: condition on the
tenure alone). The lifetime uniform ``u`` becomes ``u (1 - G h1)``, ``h1 = 1 - S(1)`` of
the customer's table: ``P(L >= k) = S(k) / (1 - G h1)`` for ``k >= 1``, the survival of a
customer known to have outlived that share of its month's churns.
"""

ExistingValues = namedtuple("ExistingValues", ["margin_prefix", "cost_prefix", "extra_prefix"])
ExistingValues.__doc__ = """Prefix sums by the number of projected payments ``L = 0..H``, (H + 1,) each.

margin_prefix ``A(L) = sum_{c<L} d^c p_e(c) cm(c) g^(c+1)`` (expected MRR path),
cost_prefix ``B(L) = sum_{c<L} d^c K(c)``, extra_prefix ``E(L) = sum_{c<L} d^c e(c)``:
an existing customer's expected value given ``L`` is ``m A(L) - k B(L) - E(L)``.
"""

MrrPaths = namedtuple("MrrPaths", [
    "count", "dynamics", "existing_thresholds", "new_thresholds", "existing_weight", "new_weight",
    "new_tenure_price", "new_margin", "margin_changes", "first_change", "new_fixed_cost",
    "new_fixed_prefix", "new_mrr", "acquisition_cost", "payback_classes", "new_correction",
])
MrrPaths.__doc__ = """The pool of simulated MRR paths and the schedules that value them.

count : int
    Paths per replication ``P`` (a power of two), 0 for constant MRR (no pool).
dynamics : (6,) float64
    ``p_expansion, expansion_log_mean, expansion_log_sd, p_contraction,
    contraction_log_mean, contraction_log_sd`` (the probabilities of the last calendar
    month).
existing_thresholds, new_thresholds : (2, H) float64
    Per step ``t = 1..H`` (column ``t - 1``): ``p_e`` and ``p_e + p_c``, the uniforms
    below which the step is an expansion / an event. Existing paths: the probabilities
    of calendar month ``t - 1`` (exact); new paths: those of the last calendar month.
existing_weight : (H,) float64
    ``d^c p_e(c) cm(c)``, so ``X_j(L)`` is its prefix sum along ``N_{j,c+1}``.
new_weight : (H,) float64
    ``d^k D(k)``, so ``Q_j(L)`` is its prefix sum along ``N_{j,k}``.
new_tenure_price : (H,) float64
    ``D(k)``, for the undiscounted payback.
new_margin : (2H,) float64
    ``x(c) = p_n(c) cm(c)`` by calendar month.
margin_changes : (n,) int64
    The calendar months ``1 <= c < 2H`` where ``x(c) != x(c - 1)``, increasing.
first_change : (H,) int64
    For each cohort ``c0``, the index in ``margin_changes`` of the first change after
    ``c0``.
new_fixed_cost : (2H,) float64
    ``y(c) = k_new K(c) + e(c)``: a new customer's fixed cost to serve by calendar month.
new_fixed_prefix : (H, H + 1) float64
    ``F(c0, L) = sum_{k<L} d^k y(c0 + k)``.
new_mrr : float
acquisition_cost : (payback_classes,) float64
    CAC + onboarding of each payback class's cohort.
payback_classes : int
    Cohorts ``c0 >= payback_classes - 1`` see the same money schedules and share one
    payback table column.
new_correction : (H, H + 1) float64, or (0, 0)
    With event probabilities that vary by calendar month: the factor on the revenue of a
    customer of cohort ``c0`` with lifetime ``L`` drawn on the pool (see
    :func:`simcore.engine.compile._pool_correction`); empty otherwise.
"""

PathTables = namedtuple("PathTables", ["existing", "new", "payback"])
PathTables.__doc__ = """Tabulated MRR paths of a block of ``B`` replications, filled by :func:`path_block`.

existing : (B, P (H + 1)) float64 — ``X_j(L)``; new : (B, P (H + 1)) float64 — ``Q_j(L)``;
payback : (B, P C) int64 — payback month by (path, cohort class). A table whose
population is empty may have 0 columns.
"""

NewTables = namedtuple("NewTables", ["value", "bins", "payback_months", "mrr", "contribution",
                                     "discount", "acquisition_cost"])
NewTables.__doc__ = """What :func:`fold_new_lifetimes` needs per (cohort ``c0``, lifetime ``L``).

value : (H, H + 1) float64 — expected value at acquisition (before acquisition cost);
bins : (H, H + 1) int64 — its histogram bin; payback_months : (H,) int64 — months of
contribution needed to earn back the acquisition cost on the constant-MRR path (``H + 1``
= not within the horizon); mrr, contribution : (H, H) float64 — expected MRR and
contribution of one active customer in tenure month ``k``; discount : (>= H,) float64 —
``d^c0``; acquisition_cost : (H,) float64 — CAC + onboarding by acquisition month.
"""

ExistingOutputs = namedtuple("ExistingOutputs", ["totals", "ends", "histogram", "bounds"])
ExistingOutputs.__doc__ = """Accumulators of :func:`existing_block` for a block of ``B`` replications.

totals : (B, N_TOTALS) float64; ends : (B, 3, H + 1) float64 — customers, MRR and fixed
cost by number of projected payments ``L``; histogram : (B, n_bins + 2) int64;
bounds : (2,) float64 — ``[low, high)`` of the value histogram.
"""

NewOutputs = namedtuple("NewOutputs", ["totals", "lifetimes", "histogram", "payback", "bounds"])
NewOutputs.__doc__ = """Accumulators of :func:`new_block` for a block of ``B`` replications.

totals : (B, N_TOTALS) float64; lifetimes : (B, H, H + 1) int64 — customers by
(acquisition month, lifetime); histogram : (B, n_bins + 2) int64 and payback : (B, H + 2)
int64 (customers by payback months, ``H + 1`` = never) — filled here only on the pooled
path; bounds : (2,) float64.
"""

FoldOutputs = namedtuple("FoldOutputs", ["totals", "monthly", "histogram", "payback"])
FoldOutputs.__doc__ = """Accumulators of :func:`fold_new_lifetimes`: totals (B, N_TOTALS),
monthly (B, 3, H) float64 (active customers, MRR, contribution by projection month),
histogram (B, n_bins + 2) int64, payback (B, H + 2) int64."""


# ------------------------------------------------------------------------- helpers


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
    # The hazards first (no dependency between months), then the running product.
    survival[0] = 1.0
    for t in range(horizon):
        h = hazard[replication, tenure + t] * multiplier[first_month + t] * tenure_multiplier[t]
        survival[t + 1] = 1.0 - min(h, 1.0)
    s = 1.0
    for t in range(1, horizon + 1):
        s = s * survival[t]
        survival[t] = s
    survival[horizon] = -1.0
    # Slices j >= int(S(t) G) not yet assigned start at t: the same table as searching,
    # slice by slice, for the first t with fl(S(t) G) < j + 1, with one predictable
    # fill loop per month instead of a search per slice.
    scale = float(guide_size)
    unassigned = guide_size - 1
    for t in range(1, horizon + 1):
        first_slice = max(int(survival[t] * scale), 0)
        while unassigned >= first_slice:
            guide[unassigned] = t
            unassigned -= 1


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
def _path_mask(count):
    """``count - 1`` for a power of two ``count``: the low bits of draw 0 that pick a
    path (see :func:`_draws_with_paths`)."""
    return np.uint64(count - 1)


@njit(cache=True, inline="always")
def _is_power_of_two(count):
    return count > 0 and (count & (count - 1)) == 0


@njit(cache=True, inline="always")
def _path_levels(key, thresholds, dynamics, horizon, kinds, levels):
    """``levels[t] = N_t`` (``t = 0..H``) of the path with ``key``; step ``t`` is an
    expansion when its uniform is below ``thresholds[0, t - 1]``, else a contraction
    when below ``thresholds[1, t - 1]``.

    The uniforms that decide each step's kind come first, in a loop without branches;
    the walk then only draws the sizes of the few events.
    """
    for t in range(1, horizon + 1):
        kinds[t] = uniform(key, np.uint64(t) * _THREE + _ONE)
    expansion = thresholds[0]
    event = thresholds[1]
    level = 1.0
    levels[0] = 1.0
    for t in range(1, horizon + 1):
        u = kinds[t]
        if u < event[t - 1]:
            z = standard_normal(key, np.uint64(t) * _THREE + np.uint64(2))
            if u < expansion[t - 1]:
                level *= math.exp(dynamics[1] + dynamics[2] * z)
            else:
                level *= math.exp(dynamics[4] + dynamics[5] * z)
        levels[t] = level


@njit(cache=True, parallel=True)
def path_block(seed, segment_key, first_replication, horizon, paths, out):
    """Simulate the pool of MRR paths of a block of replications and tabulate them.

    Path ``j`` of replication ``r`` has key ``customer_key(stream_key(seed, r, segment),
    PATH_KEYS | j)`` and factor ``f_t`` from its draws ``3t + 1 .. 3t + 3`` (``t = 1..H``),
    ``N_t = f_1 ... f_t``. Existing customers' paths use the probabilities of each
    calendar month, new customers' those of the last one: when the two differ the same
    uniforms are walked twice.

    Parameters
    ----------
    horizon : int
        ``H``.
    paths : MrrPaths
        ``count`` paths per replication (a power of two).
    out : PathTables
        Filled (not accumulated), one row per replication of the block:
        ``existing[b, j (H + 1) + L] = X_j(L) = sum_{c<L} existing_weight[c] N_{j,c+1}``;
        ``new[b, j (H + 1) + L] = Q_j(L) = sum_{k<L} new_weight[k] N_{j,k}``;
        ``payback[b, j C + c0]`` (``C = payback_classes``) the first tenure month count
        ``k + 1`` at which the undiscounted cumulative contribution
        ``sum_{t<=k} (m_new D(t) x(c0 + t) N_{j,t} - y(c0 + t))`` of a customer of
        cohort ``c0`` on path ``j`` reaches the acquisition cost (``H + 1`` = not within
        the horizon; 0 without acquisition cost) — ignoring the lifetime, which the
        caller compares with it. Either table may be skipped (shape (B, 0)) when its
        population is empty.
    """
    count = paths.count
    existing, new, payback = out.existing, out.new, out.payback
    n_block = existing.shape[0]
    width = horizon + 1
    classes = paths.payback_classes
    want_existing = existing.shape[1] > 0
    want_new = new.shape[1] > 0
    if (not _is_power_of_two(count) or paths.dynamics.shape[0] != 6
            or new.shape[0] != n_block or payback.shape[0] != n_block
            or paths.existing_thresholds.shape[1] < horizon or paths.new_thresholds.shape[1] < horizon
            or paths.acquisition_cost.shape[0] < classes
            or (want_existing and (existing.shape[1] != count * width
                                   or paths.existing_weight.shape[0] < horizon))
            or (want_new and (new.shape[1] != count * width
                              or payback.shape[1] != count * classes
                              or paths.new_weight.shape[0] < horizon
                              or paths.new_tenure_price.shape[0] < horizon
                              or paths.new_margin.shape[0] < classes - 1 + horizon
                              or paths.new_fixed_cost.shape[0] < classes - 1 + horizon))):
        return STATUS_BAD_SHAPE
    dynamics = paths.dynamics
    existing_weight = paths.existing_weight
    new_weight = paths.new_weight
    tenure_price = paths.new_tenure_price
    margin = paths.new_margin
    fixed = paths.new_fixed_cost
    mrr = paths.new_mrr
    targets = paths.acquisition_cost
    calendar = paths.new_correction.shape[0] > 0
    never = horizon + 1
    for b in prange(n_block):
        stream = stream_key(seed, np.uint64(first_replication + b), segment_key)
        kinds = np.empty(horizon + 1)
        levels = np.empty(horizon + 1)
        for j in range(count):
            key = customer_key(stream, PATH_KEYS | np.uint64(j))
            _path_levels(key, paths.existing_thresholds if want_existing else paths.new_thresholds,
                         dynamics, horizon, kinds, levels)
            row = j * width
            if want_existing:
                # Projection month t of an existing customer bills N_{t+1}.
                total = 0.0
                existing[b, row] = 0.0
                for t in range(horizon):
                    total += existing_weight[t] * levels[t + 1]
                    existing[b, row + t + 1] = total
            if want_new:
                if want_existing and calendar:
                    _path_levels(key, paths.new_thresholds, dynamics, horizon, kinds, levels)
                # Tenure month t of a new customer bills N_t.
                total = 0.0
                new[b, row] = 0.0
                for t in range(horizon):
                    total += new_weight[t] * levels[t]
                    new[b, row + t + 1] = total
                first = j * classes
                for c in range(classes):
                    target = targets[c]
                    paid = 0 if target <= 0.0 else never
                    cash = 0.0
                    t = 0
                    while paid == never and t < horizon:
                        cash += mrr * tenure_price[t] * levels[t] * margin[c + t] - fixed[c + t]
                        if cash >= target:
                            paid = t + 1
                        t += 1
                    payback[b, first + c] = paid
    return STATUS_OK


# ------------------------------------------------------------------ existing customers


@njit(cache=True)
def existing_block(seed, segment_key, first_replication, start, stop, churn, customers,
                   values, paths, tables, out):
    """Simulate existing customers ``start:stop`` for a block of replications.

    Parameters
    ----------
    seed, segment_key : uint64
        Run seed and segment RNG key.
    first_replication : int
        Global index of the block's first replication (row ``first_replication + b`` of
        ``churn.hazard`` is the parameter draw of block row ``b``).
    start, stop : int
        Range of existing customers to simulate.
    churn : Churn
        ``hazard`` (R, T) with ``T >= max tenure + H + 1``; ``calendar_factor`` (>= H + 1)
        on existing customers' hazard by projection month; ``tenure_factor`` ones
        (>= H + 1).
    customers : ExistingCustomers
        Sorted by tenure group (see :class:`~simcore.engine.compile.CompiledSegment`).
    values : ExistingValues
        Prefix sums ``A(L)``, ``B(L)``, ``E(L)``, (H + 1,) each.
    paths : MrrPaths
        The path pool (``count = 0``: constant MRR).
    tables : PathTables
        The block's tabulated paths from :func:`path_block` (unused for constant MRR).
    out : ExistingOutputs
        Accumulated.

    Returns
    -------
    int
        Status code (see the module docstring).

    Notes
    -----
    Checks shapes, finds the runs of customers of one tenure group, then hands over to
    :func:`_existing_constant_mrr` or, with a path pool, :func:`_existing_pooled`.
    """
    hazard = churn.hazard
    group_tenure = customers.group_tenure
    customer_group = customers.group
    totals, ends, histogram = out.totals, out.ends, out.histogram
    n_block = totals.shape[0]
    horizon = values.margin_prefix.shape[0] - 1
    n_groups = group_tenure.shape[0]
    if (hazard.shape[0] < first_replication + n_block or ends.shape[0] != n_block
            or histogram.shape[0] != n_block or totals.shape[1] != N_TOTALS
            or ends.shape[2] != horizon + 1 or out.bounds.shape[0] != 2
            or churn.calendar_factor.shape[0] < horizon + 1
            or churn.tenure_factor.shape[0] < horizon + 1
            or stop > customers.key.shape[0] or stop > customer_group.shape[0]
            or stop > customers.mrr.shape[0] or stop > customers.cost.shape[0] or start < 0
            or stop > customers.churn_passed.shape[0]
            or values.cost_prefix.shape[0] != horizon + 1
            or values.extra_prefix.shape[0] != horizon + 1):
        return STATUS_BAD_SHAPE
    if paths.count > 0 and (not _is_power_of_two(paths.count)
                            or tables.existing.shape[0] != n_block
                            or tables.existing.shape[1] != paths.count * (horizon + 1)):
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
    # Two kernels rather than one with a branch per batch: with the pooled path in the
    # same loop nest, register pressure spills the running totals of the constant-MRR
    # path to memory.
    if paths.count > 0:
        return _existing_pooled(seed, segment_key, first_replication, run_starts, churn,
                                customers, values, paths.count, tables.existing, guide_size,
                                out)
    return _existing_constant_mrr(seed, segment_key, first_replication, run_starts, churn,
                                  customers, values, guide_size, out)


@njit(cache=True, inline="always")
def _uniforms_and_lifetimes(stream, batch_keys, batch_passed, first_hazard, survival, guide, guide_size,
                            scratch, months):
    """Lifetime uniforms, then numbers of projected payments, of one batch of existing
    customers (each uniform scaled by ``1 - G h1``, see :class:`ExistingCustomers`).

    ``survival`` is the table of the lifetime counted from today, one month longer than
    the horizon (``survival[H + 1]`` is the sentinel), so the search returns ``min(T_e,
    H + 1)`` and ``months[j] = min(T_e - 1, H)``: the months paid after ``as_of``, which
    can be 0 (see the module docstring).

    Two separate passes: the random numbers (no branches, vectorised), then the lookups
    (whose rare mispredicted branches then only discard a short chain).
    """
    for j in range(batch_keys.shape[0]):
        scratch[j] = (uniform(customer_key(stream, batch_keys[j]), np.uint64(0))
                      * (1.0 - batch_passed[j] * first_hazard))
    for j in range(batch_keys.shape[0]):
        months[j] = _lifetime(survival, guide, guide_size, scratch[j]) - _ONE


@njit(cache=True, inline="always")
def _draws_with_paths(stream, batch_keys, mask, scratch, path_rows, width):
    """Lifetime uniforms and path rows (path index times ``width``) of one batch of
    customers, both from draw 0 (see :func:`_split_draw`)."""
    for j in range(batch_keys.shape[0]):
        z = mix64(customer_key(stream, batch_keys[j]))
        scratch[j] = to_unit(z)
        path_rows[j] = (z & mask) * width


@njit(cache=True, inline="always")
def _fill_table(table, values, ends, b, horizon):
    """The prefix sums and replication ``b``'s "ends" sums, interleaved by lifetime (see
    ``_TABLE_WIDTH``). The ends sums start from the stored values and are written back
    at the end, so every addition happens in the same order as into ``ends``."""
    for months_active in range(horizon + 1):
        row = np.uint64(months_active) * _TABLE_WIDTH
        table[row + _MARGIN_PREFIX] = values.margin_prefix[months_active]
        table[row + _COST_PREFIX] = values.cost_prefix[months_active]
        table[row + _EXTRA_PREFIX] = values.extra_prefix[months_active]
        table[row + _ENDS_COUNT] = ends[b, 0, months_active]
        table[row + _ENDS_MRR] = ends[b, 1, months_active]
        table[row + _ENDS_COST] = ends[b, 2, months_active]


@njit(cache=True, inline="always")
def _store_ends(table, ends, b, horizon):
    for months_active in range(horizon + 1):
        row = np.uint64(months_active) * _TABLE_WIDTH
        ends[b, 0, months_active] = table[row + _ENDS_COUNT]
        ends[b, 1, months_active] = table[row + _ENDS_MRR]
        ends[b, 2, months_active] = table[row + _ENDS_COST]


@njit(cache=True, parallel=True)
def _existing_constant_mrr(seed, segment_key, first_replication, run_starts, churn, customers,
                           values, guide_size, out):
    """Constant-MRR path of :func:`existing_block` (arguments as there; ``run_starts``
    holds the first customer of each run of one tenure group, then ``stop``)."""
    hazard = churn.hazard
    hazard_multiplier = churn.calendar_factor
    tenure_factor = churn.tenure_factor
    group_tenure = customers.group_tenure
    customer_group = customers.group
    customer_keys = customers.key
    customer_mrr = customers.mrr
    customer_cost = customers.cost
    customer_passed = customers.churn_passed
    totals, ends, histogram = out.totals, out.ends, out.histogram
    n_block = totals.shape[0]
    horizon = values.margin_prefix.shape[0] - 1
    n_bins = histogram.shape[1] - 2
    n_runs = run_starts.shape[0] - 1
    low = out.bounds[0]
    scale = n_bins / (out.bounds[1] - low)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 2)
        guide = np.empty(guide_size, dtype=np.uint32)
        # Lifetimes, then histogram bins, of one batch; unsigned so that indexing with
        # them needs no handling of negative indices.
        months = np.empty(_BATCH, dtype=np.uint64)
        scratch = np.empty(_BATCH)
        table = np.zeros((horizon + 1) * _TABLE_WIDTH)
        _fill_table(table, values, ends, b, horizon)
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
                         hazard_multiplier, 0, tenure_factor, horizon + 1, guide_size,
                         survival, guide)
            first_hazard = 1.0 - survival[1]
            for batch_start in range(first, last, _BATCH):
                batch_stop = min(batch_start + _BATCH, last)
                size = batch_stop - batch_start
                # Views of the batch, indexed from 0, spare the handling of negative
                # indices that ``batch_start + j`` would need.
                batch_mrr = customer_mrr[batch_start:batch_stop]
                batch_cost = customer_cost[batch_start:batch_stop]
                _uniforms_and_lifetimes(stream, customer_keys[batch_start:batch_stop],
                                        customer_passed[batch_start:batch_stop], first_hazard,
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
        _store_ends(table, ends, b, horizon)
        totals[b, EXISTING_COUNT] = count
        totals[b, EXISTING_COUNT + 1] = value_sum
        totals[b, EXISTING_COUNT + 2] = value_squares
        totals[b, EXISTING_COUNT + 3] = value_min
        totals[b, EXISTING_COUNT + 4] = value_max
    return STATUS_OK


@njit(cache=True, parallel=True)
def _existing_pooled(seed, segment_key, first_replication, run_starts, churn, customers,
                     values, n_paths, pools, guide_size, out):
    """Expansion / contraction path of :func:`existing_block`: the expected value given
    the lifetime feeds the sums and ends, the value on the customer's pool path feeds
    the sum of squares, minimum, maximum and histogram (see the module docstring)."""
    hazard = churn.hazard
    hazard_multiplier = churn.calendar_factor
    tenure_factor = churn.tenure_factor
    group_tenure = customers.group_tenure
    customer_group = customers.group
    customer_keys = customers.key
    customer_mrr = customers.mrr
    customer_cost = customers.cost
    customer_passed = customers.churn_passed
    totals, ends, histogram = out.totals, out.ends, out.histogram
    n_block = totals.shape[0]
    horizon = values.margin_prefix.shape[0] - 1
    n_bins = histogram.shape[1] - 2
    n_runs = run_starts.shape[0] - 1
    low = out.bounds[0]
    scale = n_bins / (out.bounds[1] - low)
    mask = _path_mask(n_paths)
    width = np.uint64(horizon + 1)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 2)
        guide = np.empty(guide_size, dtype=np.uint32)
        months = np.empty(_BATCH, dtype=np.uint64)
        path_rows = np.empty(_BATCH, dtype=np.uint64)
        scratch = np.empty(_BATCH)
        pool = pools[b]
        table = np.zeros((horizon + 1) * _TABLE_WIDTH)
        _fill_table(table, values, ends, b, horizon)
        replication_histogram = histogram[b]
        count = totals[b, EXISTING_COUNT]
        value_sum = totals[b, EXISTING_COUNT + 1]
        value_squares = totals[b, EXISTING_COUNT + 2]
        value_min = totals[b, EXISTING_COUNT + 3]
        value_max = totals[b, EXISTING_COUNT + 4]
        for run in range(n_runs):
            first = run_starts[run]
            last = run_starts[run + 1]
            _build_table(hazard, replication, group_tenure[customer_group[first]],
                         hazard_multiplier, 0, tenure_factor, horizon + 1, guide_size,
                         survival, guide)
            first_hazard = 1.0 - survival[1]
            for batch_start in range(first, last, _BATCH):
                batch_stop = min(batch_start + _BATCH, last)
                size = batch_stop - batch_start
                batch_mrr = customer_mrr[batch_start:batch_stop]
                batch_cost = customer_cost[batch_start:batch_stop]
                _draws_with_paths(stream, customer_keys[batch_start:batch_stop], mask,
                                  scratch, path_rows, width)
                batch_passed = customer_passed[batch_start:batch_stop]
                for j in range(size):
                    scratch[j] *= 1.0 - batch_passed[j] * first_hazard
                for j in range(size):
                    months[j] = _lifetime(survival, guide, guide_size, scratch[j]) - _ONE
                for j in range(size):
                    row = months[j] * _TABLE_WIDTH
                    mrr = batch_mrr[j]
                    cost = batch_cost[j]
                    table[row + _ENDS_COUNT] += 1.0
                    table[row + _ENDS_MRR] += mrr
                    table[row + _ENDS_COST] += cost
                    fixed = cost * table[row + _COST_PREFIX] + table[row + _EXTRA_PREFIX]
                    value_sum += mrr * table[row + _MARGIN_PREFIX] - fixed
                    value = mrr * pool[path_rows[j] + months[j]] - fixed
                    value_squares += value * value
                    value_min = min(value_min, value)
                    value_max = max(value_max, value)
                    months[j] = np.uint64(_histogram_bin(value, low, scale, n_bins))
                count += size
                for j in range(size):
                    replication_histogram[months[j]] += 1
        _store_ends(table, ends, b, horizon)
        totals[b, EXISTING_COUNT] = count
        totals[b, EXISTING_COUNT + 1] = value_sum
        totals[b, EXISTING_COUNT + 2] = value_squares
        totals[b, EXISTING_COUNT + 3] = value_min
        totals[b, EXISTING_COUNT + 4] = value_max
    return STATUS_OK


# ----------------------------------------------------------------------- new customers


@njit(cache=True)
def new_block(seed, segment_key, first_replication, churn, cohort_counts, paths, tables, out):
    """Simulate the new cohorts for a block of replications.

    A new customer acquired in projection month ``c0`` (``cohort_counts[c0]`` of them)
    has RNG key ``NEW_CUSTOMER_FLAG | c0 << 32 | j`` for ``j = 0, 1, ...``, so the same
    customer keeps its random numbers when a scenario changes the volume of other
    months.

    Parameters
    ----------
    seed, segment_key : uint64; first_replication : int
        As in :func:`existing_block`.
    churn : Churn
        ``hazard`` (R, >= H); ``calendar_factor`` (>= 2H) on new customers' hazard by
        projection month; ``tenure_factor`` (>= H) by tenure month.
    cohort_counts : (H,) int64
    paths : MrrPaths
        The path pool (``count = 0``: constant MRR).
    tables : PathTables
        The block's tabulated paths from :func:`path_block` (unused for constant MRR).
    out : NewOutputs
        Accumulated: every customer increments its (cohort, lifetime) count, which
        :func:`fold_new_lifetimes` turns into sums and monthly projections; on the
        pooled path each customer's value on its path also feeds the sum of squares,
        minimum, maximum, histogram and payback here.
    """
    hazard = churn.hazard
    totals, lifetimes, histogram, payback = out.totals, out.lifetimes, out.histogram, out.payback
    n_block = totals.shape[0]
    horizon = cohort_counts.shape[0]
    if (hazard.shape[0] < first_replication + n_block or hazard.shape[1] < horizon
            or totals.shape[1] != N_TOTALS
            or lifetimes.shape[0] != n_block or lifetimes.shape[1] != horizon
            or lifetimes.shape[2] != horizon + 1 or histogram.shape[0] != n_block
            or payback.shape[0] != n_block or payback.shape[1] != horizon + 2
            or out.bounds.shape[0] != 2 or churn.calendar_factor.shape[0] != churn.cohort_classes
            or churn.calendar_factor.shape[1] < horizon
            or churn.tenure_factor.shape[0] < horizon or horizon < 1
            or churn.cohort_classes < 1 or churn.cohort_classes > horizon):
        return STATUS_BAD_SHAPE
    if paths.count > 0:
        if (not _is_power_of_two(paths.count) or tables.new.shape[0] != n_block
                or tables.new.shape[1] != paths.count * (horizon + 1)
                or tables.payback.shape[1] != paths.count * paths.payback_classes
                or paths.new_margin.shape[0] < 2 * horizon
                or paths.first_change.shape[0] < horizon
                or paths.new_fixed_prefix.shape[0] != horizon
                or paths.new_fixed_prefix.shape[1] != horizon + 1
                or paths.payback_classes < 1 or paths.payback_classes > horizon
                or (paths.new_correction.shape[0] > 0
                    and (paths.new_correction.shape[0] != horizon
                         or paths.new_correction.shape[1] != horizon + 1))):
            return STATUS_BAD_SHAPE
        return _new_pooled(seed, segment_key, first_replication, churn, cohort_counts, paths,
                           tables, out)
    return _new_constant_mrr(seed, segment_key, first_replication, churn, cohort_counts,
                             lifetimes)


@njit(cache=True, parallel=True)
def _new_constant_mrr(seed, segment_key, first_replication, churn, cohort_counts, lifetimes):
    """Constant-MRR path of :func:`new_block`: lifetimes counted by cohort."""
    hazard = churn.hazard
    n_block = lifetimes.shape[0]
    horizon = cohort_counts.shape[0]
    classes = churn.cohort_classes
    shared_guide = _guide_size(horizon, cohort_counts[classes - 1:].sum())
    largest_guide = max(_guide_size(horizon, cohort_counts.max()), shared_guide)
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 1)
        guide = np.empty(largest_guide, dtype=np.uint32)
        scratch = np.empty(_BATCH)
        built = -1
        guide_size = 0
        for c0 in range(horizon):
            count = cohort_counts[c0]
            if count == 0:
                continue
            table_class = min(c0, classes - 1)
            if table_class != built:
                guide_size = shared_guide if table_class == classes - 1 else \
                    _guide_size(horizon, count)
                _build_table(hazard, replication, 0, churn.calendar_factor[table_class], 0,
                             churn.tenure_factor, horizon, guide_size, survival, guide)
                built = table_class
            cohort_bits = NEW_CUSTOMER_FLAG | (np.uint64(c0) << _SHIFT_32)
            # Random numbers first, then lookups (see _uniforms_and_lifetimes).
            for batch_start in range(0, count, _BATCH):
                size = min(batch_start + _BATCH, count) - batch_start
                for j in range(size):
                    scratch[j] = uniform(customer_key(
                        stream, cohort_bits | np.uint64(batch_start + j)), np.uint64(0))
                for j in range(size):
                    lifetimes[b, c0, _lifetime(survival, guide, guide_size, scratch[j])] += 1
    return STATUS_OK


@njit(cache=True, parallel=True)
def _new_pooled(seed, segment_key, first_replication, churn, cohort_counts, paths, tables,
                out):
    """Expansion / contraction path of :func:`new_block` (see the module docstring)."""
    hazard = churn.hazard
    totals, lifetimes, histogram, payback = out.totals, out.lifetimes, out.histogram, out.payback
    n_block = totals.shape[0]
    horizon = cohort_counts.shape[0]
    n_bins = histogram.shape[1] - 2
    low = out.bounds[0]
    scale = n_bins / (out.bounds[1] - low)
    classes_churn = churn.cohort_classes
    shared_guide = _guide_size(horizon, cohort_counts[classes_churn - 1:].sum())
    largest_guide = max(_guide_size(horizon, cohort_counts.max()), shared_guide)
    n_paths = paths.count
    classes = paths.payback_classes
    mask = _path_mask(n_paths)
    width = horizon + 1
    margin = paths.new_margin
    changes = paths.margin_changes
    n_changes = changes.shape[0]
    fixed_prefix = paths.new_fixed_prefix
    new_mrr = paths.new_mrr
    correct = paths.new_correction.shape[0] > 0
    never = horizon + 1
    for b in prange(n_block):
        replication = first_replication + b
        stream = stream_key(seed, np.uint64(replication), segment_key)
        survival = np.empty(horizon + 1)
        guide = np.empty(largest_guide, dtype=np.uint32)
        scratch = np.empty(_BATCH)
        months = np.empty(_BATCH, dtype=np.uint64)
        path_index = np.empty(_BATCH, dtype=np.int64)
        pool = tables.new[b]
        pool_payback = tables.payback[b]
        replication_histogram = histogram[b]
        replication_payback = payback[b]
        replication_lifetimes = lifetimes[b]
        value_squares = totals[b, NEW_COUNT + 2]
        value_min = totals[b, NEW_COUNT + 3]
        value_max = totals[b, NEW_COUNT + 4]
        built = -1
        guide_size = 0
        for c0 in range(horizon):
            count = cohort_counts[c0]
            if count == 0:
                continue
            table_class = min(c0, classes_churn - 1)
            if table_class != built:
                guide_size = shared_guide if table_class == classes_churn - 1 else \
                    _guide_size(horizon, count)
                _build_table(hazard, replication, 0, churn.calendar_factor[table_class], 0,
                             churn.tenure_factor, horizon, guide_size, survival, guide)
                built = table_class
            cohort_bits = NEW_CUSTOMER_FLAG | (np.uint64(c0) << _SHIFT_32)
            payback_class = min(c0, classes - 1)
            cohort_margin = margin[c0]
            cohort_fixed = fixed_prefix[c0]
            cohort_correction = paths.new_correction[c0] if correct else cohort_fixed
            cohort_lifetimes = replication_lifetimes[c0]
            next_change = paths.first_change[c0]
            # First calendar month after c0 where the margin factor changes, as a
            # tenure month (beyond every lifetime when there is none).
            change_at = changes[next_change] - c0 if next_change < n_changes else never
            for batch_start in range(0, count, _BATCH):
                size = min(batch_start + _BATCH, count) - batch_start
                for j in range(size):
                    z = mix64(customer_key(stream, cohort_bits | np.uint64(batch_start + j)))
                    scratch[j] = to_unit(z)
                    path_index[j] = np.int64(z & mask)
                for j in range(size):
                    months[j] = _lifetime(survival, guide, guide_size, scratch[j])
                for j in range(size):
                    life = np.int64(months[j])
                    path = path_index[j]
                    row = path * width
                    cohort_lifetimes[months[j]] += 1
                    if life <= change_at:
                        revenue = cohort_margin * pool[row + life]
                    else:
                        # One term per piece of constant margin factor within the life.
                        revenue = 0.0
                        piece = 0
                        index = next_change
                        while index < n_changes and changes[index] < c0 + life:
                            end = changes[index] - c0
                            revenue += margin[c0 + piece] * (pool[row + end] - pool[row + piece])
                            piece = end
                            index += 1
                        revenue += margin[c0 + piece] * (pool[row + life] - pool[row + piece])
                    if correct:
                        revenue *= cohort_correction[life]
                    value = new_mrr * revenue - cohort_fixed[life]
                    value_squares += value * value
                    value_min = min(value_min, value)
                    value_max = max(value_max, value)
                    paid_back = pool_payback[path * classes + payback_class]
                    if paid_back > life:
                        paid_back = never
                    replication_payback[paid_back] += 1
                    months[j] = np.uint64(_histogram_bin(value, low, scale, n_bins))
                for j in range(size):
                    replication_histogram[months[j]] += 1
        totals[b, NEW_COUNT + 2] = value_squares
        totals[b, NEW_COUNT + 3] = value_min
        totals[b, NEW_COUNT + 4] = value_max
    return STATUS_OK


@njit(cache=True, parallel=True)
def fold_new_lifetimes(lifetimes, tables, per_customer, out):
    """Fold counts of new customers by (acquisition month, lifetime) into the
    accumulators: a post-pass of O(H^2) per replication, whatever the volume.

    Parameters
    ----------
    lifetimes : (B, H, H + 1) int64
        Customers by acquisition month ``c0`` and lifetime ``L`` (from :func:`new_block`);
        reset to 0 as they are read, so the caller can reuse the buffer for the next
        block.
    tables : NewTables
        Expected value, its bin, payback months, MRR and contribution per (``c0``,
        ``L``) or (``c0``, tenure month ``k``), along the expected MRR path.
    per_customer : bool
        Also fold the per-customer quantities (sum of squares, minimum, maximum,
        histogram, payback) — right when MRR is constant, where the expected value given
        the lifetime *is* the customer's value; on the pooled path :func:`new_block` has
        accumulated them from the paths.
    out : FoldOutputs
        Accumulated. A customer with lifetime ``L`` is active in tenure months ``k < L``,
        so the active count at ``k`` is the reverse cumulative sum of the counts over
        ``L > k``.

    Notes
    -----
    Per cohort, the customer count is summed in integers and the value in four
    interleaved partial sums added in a fixed order, which keeps the floating-point
    order fixed (results do not depend on threads) while not waiting on one long chain
    of dependent additions.
    """
    totals, monthly, histogram, payback = out.totals, out.monthly, out.histogram, out.payback
    value_table = tables.value
    bin_table = tables.bins
    discount = tables.discount
    acquisition_cost = tables.acquisition_cost
    n_block = lifetimes.shape[0]
    horizon = lifetimes.shape[1]
    if (lifetimes.shape[2] != horizon + 1 or value_table.shape[0] != horizon
            or value_table.shape[1] != horizon + 1 or bin_table.shape[0] != horizon
            or tables.mrr.shape[0] != horizon or tables.contribution.shape[0] != horizon
            or tables.payback_months.shape[0] < horizon or discount.shape[0] < horizon
            or acquisition_cost.shape[0] < horizon
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
        active_month = monthly[b, 0]
        mrr_month = monthly[b, 1]
        contribution_month = monthly[b, 2]
        for c0 in range(horizon):
            counts = lifetimes[b, c0]
            values = value_table[c0]
            cohort = 0
            partial_0 = 0.0
            partial_1 = 0.0
            partial_2 = 0.0
            partial_3 = 0.0
            months = 1
            while months + 3 <= horizon:
                cohort += counts[months] + counts[months + 1] + counts[months + 2] \
                    + counts[months + 3]
                partial_0 += counts[months] * values[months]
                partial_1 += counts[months + 1] * values[months + 1]
                partial_2 += counts[months + 2] * values[months + 2]
                partial_3 += counts[months + 3] * values[months + 3]
                months += 4
            while months <= horizon:
                cohort += counts[months]
                partial_0 += counts[months] * values[months]
                months += 1
            if cohort == 0:
                continue
            cohort_value = (partial_0 + partial_1) + (partial_2 + partial_3)
            count += cohort
            value_sum += cohort_value
            profit += discount[c0] * (cohort_value - cohort * acquisition_cost[c0])
            if per_customer:
                # Without branches on the counts (most cells of a small cohort are 0):
                # a zero count adds 0, and only the extremes need a test.
                needed = tables.payback_months[c0]
                for months in range(1, horizon + 1):
                    n = counts[months]
                    value = values[months]
                    value_squares += n * value * value
                    if n > 0:
                        value_min = min(value_min, value)
                        value_max = max(value_max, value)
                    histogram[b, bin_table[c0, months]] += n
                    paid = needed if needed <= horizon and months >= needed else horizon + 1
                    payback[b, paid] += n
            # Active customers by tenure month k: those with L > k; only the months
            # within the projection are needed. The counts are reset on the way.
            visible = horizon - c0
            still = 0
            for months in range(horizon, visible, -1):
                still += counts[months]
                counts[months] = 0
            mrr_row = tables.mrr[c0]
            contribution_row = tables.contribution[c0]
            for k in range(visible - 1, -1, -1):
                still += counts[k + 1]
                counts[k + 1] = 0
                active = float(still)
                active_month[c0 + k] += active
                mrr_month[c0 + k] += active * mrr_row[k]
                contribution_month[c0 + k] += active * contribution_row[k]
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


# ---------------------------------------------------------------------------- warm-up


def tiny_arguments(horizon: int = 2, dynamic: bool = False) -> dict:
    """Argument groups of a tiny segment, with exactly the types the engine passes.

    :func:`exercise` runs every kernel on them; ``run_segment`` builds its groups with
    the same constructors and dtypes, so warming up compiles the signatures a real run
    uses (a test checks that a run compiles nothing more).
    """
    H = horizon
    schedule = np.ones(2 * H)
    churn_existing = Churn(np.full((1, 2 * H + 2), 0.1), np.ones(2 * H), np.ones(H + 1), 1)
    churn_new = Churn(np.full((1, 2 * H + 2), 0.1), np.ones((1, H)), np.ones(H), 1)
    customers = ExistingCustomers(np.zeros(1, np.int64), np.zeros(1, np.int64),
                                  np.zeros(1, np.uint64), np.ones(1), np.zeros(1), np.zeros(1))
    prefix = np.arange(H + 1, dtype=np.float64)
    values = ExistingValues(prefix, prefix.copy(), prefix.copy())
    dynamics = np.array([0.1, 0.1, 0.1, 0.1, -0.1, 0.1]) if dynamic else np.zeros(6)
    thresholds = np.array([[dynamics[0]] * H, [dynamics[0] + dynamics[3]] * H])
    paths = MrrPaths(count=4 if dynamic else 0, dynamics=dynamics, existing_thresholds=thresholds,
                     new_thresholds=thresholds.copy(), existing_weight=np.ones(H),
                     new_weight=np.ones(H), new_tenure_price=np.ones(H), new_margin=schedule,
                     margin_changes=np.array([1], np.int64), first_change=np.zeros(H, np.int64),
                     new_fixed_cost=schedule.copy(), new_fixed_prefix=np.zeros((H, H + 1)),
                     new_mrr=1.0, acquisition_cost=np.ones(1), payback_classes=1,
                     new_correction=np.ones((H, H + 1)) if dynamic else np.zeros((0, 0)))
    tables = NewTables(np.ones((H, H + 1)), np.ones((H, H + 1), np.int64), np.ones(H, np.int64),
                       np.ones((H, H)), np.ones((H, H)), np.ones(2 * H + 1), np.ones(H))
    return dict(churn_existing=churn_existing, churn_new=churn_new, customers=customers,
                values=values, paths=paths, tables=tables,
                cohort_counts=np.ones(H, np.int64))


def exercise() -> None:
    """Run every kernel once on a tiny input, compiling (or loading) it."""
    H = 2
    seed = np.uint64(1)
    key = np.uint64(2)
    for dynamic in (False, True):
        args = tiny_arguments(H, dynamic)
        paths = args["paths"]
        width = max(paths.count, 1) * (H + 1)
        tables = PathTables(np.zeros((1, width)), np.zeros((1, width)),
                            np.zeros((1, max(paths.count, 1) * paths.payback_classes), np.int64))
        if dynamic:
            path_block(seed, key, 0, H, paths, tables)
        totals = np.zeros((1, N_TOTALS))
        bounds = np.array([0.0, 1.0])
        existing_block(seed, key, 0, 0, 1, args["churn_existing"], args["customers"],
                       args["values"], paths, tables,
                       ExistingOutputs(totals, np.zeros((1, 3, H + 1)),
                                       np.zeros((1, 6), np.int64), bounds))
        lifetimes = np.zeros((1, H, H + 1), np.int64)
        histogram = np.zeros((1, 6), np.int64)
        payback = np.zeros((1, H + 2), np.int64)
        new_block(seed, key, 0, args["churn_new"], args["cohort_counts"], paths, tables,
                  NewOutputs(totals, lifetimes, histogram, payback, bounds))
        fold_new_lifetimes(lifetimes, args["tables"], not dynamic,
                           FoldOutputs(totals, np.zeros((1, 3, H)), histogram, payback))
    uniform_sums(seed, key, 1, 1, np.zeros(1))
