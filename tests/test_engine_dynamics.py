"""Expansion and contraction at O(1) per customer (see ``simcore.engine.kernels``).

Three kinds of check on a book with strong expansion and contraction, existing and new
customers, expansion / contraction multipliers, calendar price windows, a new-customer
introductory price, a cost window and a churn window:

* exactness of the pooled path: rebuilding the pool of MRR paths and every customer's
  (lifetime, path) pair in NumPy from the RNG's NumPy twin, then *walking* each
  customer's path month by month, gives the engine's per-customer accumulators (sum of
  squares, extremes, histogram, payback) — and the expected value given the lifetime
  gives its sums and monthly projections;
* distribution: the engine against the walked NumPy reference engine (independent random
  numbers), means within Monte Carlo error and per-customer quantiles against the exact
  quantiles of the reference's per-customer values, within order-statistic error plus
  a bin;
* invariance: results byte-identical across chunking and blocking; the pool size
  changes per-customer distributions only, never sums or projections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doubles import STRONG_DYNAMICS, WeibullishFit
from simcore.economics import Economics
from simcore.engine.accumulators import (
    EXISTING,
    EXISTING_COUNT,
    EXISTING_MAX,
    EXISTING_MIN,
    EXISTING_SQUARES,
    EXISTING_SUM,
    NEW,
    NEW_COUNT,
    NEW_MAX,
    NEW_MIN,
    NEW_PROFIT_AT_START,
    NEW_SQUARES,
    NEW_SUM,
    histogram_bins,
)
from simcore.engine.api import summarise
from simcore.engine.compile import CompiledBook, compile_segment, expected_event_factor
from simcore.engine.levers import ScenarioLevers

H = 36
SEED = 29
ECONOMICS = Economics(gross_margin=0.75, support_cost_per_month=20.0, cac=900.0,
                      onboarding_cost=200.0, discount_rate_annual=0.10)
LEVERS = ScenarioLevers(
    expansion_multiplier=1.3,
    contraction_multiplier=1.5,
    price_multiplier_existing_by_month=(1.0,) * 4 + (1.15,) * 6 + (1.0,),
    price_multiplier_new_by_month=(1.0,) * 2 + (1.1,) * 8 + (0.95,),
    new_customer_price_multiplier_by_tenure_month=(0.6,) * 3 + (1.0,),
    gross_margin_change_by_month=(0.0,) * 12 + (-0.05,),
    cost_to_serve_multiplier_by_month=(1.0,) * 6 + (1.3,) * 6 + (1.0,),
    churn_hazard_multiplier_by_month=(1.0,) * 5 + (1.5,) * 5 + (1.0,),
    acquisition_per_month=(14.0,) * 20 + (6.0,),
    new_customer_mrr=150.0,
    extra_cost_to_serve_per_month=5.0,
)


def _book(n=600):
    rng = np.random.default_rng(12)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "tenure_months": rng.integers(0, 40, n), "churned": False,
                         "mrr": rng.gamma(2.5, 60.0, n)})


def _segment(replications, levers=LEVERS, book=None):
    return compile_segment("growth", WeibullishFit(), ECONOMICS, _book() if book is None else book,
                           dynamics=STRONG_DYNAMICS, levers=levers, replications=replications,
                           seed=SEED, horizon_months=H)


# ----------------------------------------------------------------- NumPy twin of the pool


def _lifetimes(survival, u):
    """``min{t >= 1: S(t) <= u}``, or the table length when none (rows of ``survival``)."""
    below = survival[:, 1:] <= u[:, None]
    return np.where(below.any(axis=1), below.argmax(axis=1) + 1, survival.shape[1])


def _survival(hazard, factor):
    """``S(0..n)`` as the kernels build it: ``S(t+1) = S(t) (1 - min(1, h(t) f(t)))``."""
    return np.concatenate([[1.0], np.cumprod(1.0 - np.minimum(1.0, hazard * factor))])


def _paths(segment, replication, count):
    """(count, H + 1) MRR paths ``N_t`` of one replication, from the RNG's NumPy twin."""
    from simcore.engine.kernels import PATH_KEYS
    from simcore.engine.rng import uniforms_np

    keys = PATH_KEYS | np.arange(count, dtype=np.uint64)
    steps = np.arange(1, H + 1, dtype=np.uint64)

    def u(offset):
        return uniforms_np(SEED, replication, int(segment.segment_key), keys[:, None],
                           (3 * steps + offset)[None, :])

    kind, first, second = u(1), u(2), u(3)
    z = np.sqrt(-2.0 * np.log(first)) * np.cos(2.0 * np.pi * second)
    p_e, p_c = segment.p_expansion, segment.p_contraction
    factor = np.where(kind < p_e, np.exp(segment.expansion_log_mean + segment.expansion_log_sd * z),
                      np.where(kind < p_e + p_c,
                               np.exp(segment.contraction_log_mean + segment.contraction_log_sd * z),
                               1.0))
    return np.concatenate([np.ones((count, 1)), np.cumprod(factor, axis=1)], axis=1)


def _walk_replication(segment, replication, count):
    """Every customer's lifetime, path and walked value for one replication."""
    from simcore.engine.rng import NEW_CUSTOMER_FLAG, draws_np

    r, s = replication, segment
    key = int(s.segment_key)
    paths = _paths(s, r, count)
    d = s.discount
    months = np.arange(H)
    out = {}

    # Existing: draw 0 gives the lifetime (top bits) and the path (low bits).
    z = draws_np(SEED, r, key, s.customer_key, 0)
    u = ((z >> np.uint64(12)).astype(np.float64) + 0.5) / 2.0 ** 52
    path = (z & np.uint64(count - 1)).astype(np.int64)
    tenure = s.group_tenure[s.customer_group]
    paid = np.empty(s.n_existing, dtype=np.int64)
    for i, a in enumerate(tenure):
        table = _survival(s.hazard[r, a:a + H + 1], s.existing_hazard_factor[:H + 1])
        # Projected payments: the lifetime counted from today, less the month paid.
        paid[i] = min(_lifetimes(table[None, :], u[i:i + 1])[0], H + 1) - 1
    active = months[None, :] < paid[:, None]
    billed = s.customer_mrr[:, None] * paths[path][:, 1:] * s.price_existing[None, :H]
    contribution = (billed * s.contribution_margin[None, :H]
                    - s.customer_cost_per_month[:, None] * s.cost_multiplier[None, :H]
                    - s.extra_cost_per_month[None, :H])
    out["existing_value"] = (active * d[None, :H] * contribution).sum(axis=1)
    out["existing_paid"] = paid

    # New customers.
    values, paybacks, cohorts, lives = [], [], [], []
    for c0, n in enumerate(s.cohort_counts):
        if n == 0:
            continue
        keys = NEW_CUSTOMER_FLAG | (np.uint64(c0) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        z = draws_np(SEED, r, key, keys, 0)
        u = ((z >> np.uint64(12)).astype(np.float64) + 0.5) / 2.0 ** 52
        path = (z & np.uint64(count - 1)).astype(np.int64)
        first = min(c0, s.new_churn_classes - 1)
        table = _survival(s.hazard[r, :H], s.new_cohort_hazard_factor[first, :H])
        life = np.minimum(_lifetimes(np.tile(table, (n, 1)), u), H)
        calendar = c0 + months
        billed = (s.new_mrr * paths[path][:, :H] * s.price_new[calendar][None, :]
                  * s.price_new_tenure[None, :H])
        contribution = (billed * s.contribution_margin[calendar][None, :]
                        - s.new_cost_per_month * s.cost_multiplier[calendar][None, :]
                        - s.extra_cost_per_month[calendar][None, :])
        alive = months[None, :] < life[:, None]
        values.append((alive * d[None, :H] * contribution).sum(axis=1))
        cash = np.cumsum(contribution, axis=1)
        reached = (cash >= s.new_acquisition_cost_by_cohort[c0]) & alive
        paybacks.append(np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, H + 1))
        cohorts.append(np.full(n, c0))
        lives.append(life)
    out["new_value"] = np.concatenate(values)
    out["new_payback"] = np.concatenate(paybacks)
    out["new_cohort"] = np.concatenate(cohorts)
    out["new_life"] = np.concatenate(lives)
    return out


def test_pooled_kernels_equal_a_walk_of_the_same_paths():
    """Per customer, the engine's value is the walked value of its (lifetime, path);
    sums and monthly projections are the exact expectation given the lifetimes."""
    from simcore.engine.run import run_segment

    replications, count = 3, 16
    segment = _segment(replications)
    assert segment.new_payback_classes > 1 and segment.new_margin_changes.size >= 3
    assert segment.new_churn_classes > 1
    engine = run_segment(segment, np.uint64(SEED), paths=count)
    g = expected_event_factor(segment.p_expansion, segment.expansion_log_mean,
                              segment.expansion_log_sd, segment.p_contraction,
                              segment.contraction_log_mean, segment.contraction_log_sd)
    assert g != pytest.approx(1.0, abs=1e-3)
    growth = g ** np.arange(H + 1)
    histograms = {EXISTING: [], NEW: []}
    payback = np.zeros(H + 2, dtype=np.int64)
    for r in range(replications):
        walked = _walk_replication(segment, r, count)
        totals = engine.totals[r]
        for population, name, offset in ((EXISTING, "existing_value", EXISTING_COUNT),
                                         (NEW, "new_value", NEW_COUNT)):
            values = walked[name]
            assert totals[offset] == values.size
            np.testing.assert_allclose(totals[offset + 2], (values ** 2).sum(), rtol=1e-10)
            np.testing.assert_allclose(totals[offset + 3], values.min(), rtol=1e-10)
            np.testing.assert_allclose(totals[offset + 4], values.max(), rtol=1e-10)
            low, high = segment.histogram_bounds[population]
            histograms[population].append(histogram_bins(values, low, high,
                                                         engine.histogram.shape[1] - 2))
        payback += np.bincount(walked["new_payback"], minlength=H + 2)

        # Sums: the expected value given each customer's lifetime.
        paid = walked["existing_paid"]
        expected_existing = (segment.customer_mrr * segment.existing_margin_prefix[paid]
                             - segment.customer_cost_per_month * segment.existing_cost_prefix[paid]
                             - segment.existing_extra_cost_prefix[paid])
        np.testing.assert_allclose(totals[EXISTING_SUM], expected_existing.sum(), rtol=1e-10)
        cohort, life = walked["new_cohort"], walked["new_life"]
        expected_new = segment.new_value_table[cohort, life]
        np.testing.assert_allclose(totals[NEW_SUM], expected_new.sum(), rtol=1e-10)
        np.testing.assert_allclose(
            totals[NEW_PROFIT_AT_START],
            (segment.discount[cohort] * (expected_new - segment.new_acquisition_cost)).sum(),
            rtol=1e-10)
        # Monthly projections: active customers exactly, MRR = expected MRR of the active.
        months = np.arange(H)
        active = months[None, :] < paid[:, None]
        np.testing.assert_array_equal(engine.monthly[r, EXISTING, 0], active.sum(axis=0))
        mrr = (active * segment.customer_mrr[:, None]).sum(axis=0) * growth[1:] \
            * segment.price_existing[:H]
        np.testing.assert_allclose(engine.monthly[r, EXISTING, 1], mrr, rtol=1e-10)
        tenure = months[None, :] - cohort[:, None]
        alive = (tenure >= 0) & (tenure < life[:, None])
        k = np.clip(tenure, 0, H - 1)
        new_mrr = (alive * segment.new_mrr * growth[k] * segment.price_new[months][None, :]
                   * segment.price_new_tenure[k]).sum(axis=0)
        np.testing.assert_array_equal(engine.monthly[r, NEW, 0], alive.sum(axis=0))
        np.testing.assert_allclose(engine.monthly[r, NEW, 1], new_mrr, rtol=1e-10)

    for population in (EXISTING, NEW):
        walked_counts = np.bincount(np.concatenate(histograms[population]),
                                    minlength=engine.histogram.shape[1])
        # Identical but for values within rounding of a bin edge.
        assert np.abs(walked_counts - engine.histogram[population]).sum() <= 4
    np.testing.assert_array_equal(engine.payback, payback)


# ------------------------------------------------------------ distribution vs reference


@pytest.fixture(scope="module")
def engine_and_reference():
    from simcore.engine.reference import reference_segment
    from simcore.engine.run import paths_per_replication, run_segment

    replications = 200
    segment = _segment(replications)
    engine = run_segment(segment, np.uint64(SEED))
    reference, values = reference_segment(segment, SEED, return_values=True)
    return segment, engine, reference, values, replications * paths_per_replication(replications)


def _order_statistic_band(values, q, n_other):
    """Values between which a quantile estimate from another sample of the same law lies,
    with a probability margin of four standard errors of both samples' empirical CDFs."""
    n = values.size
    delta = 4.0 * np.sqrt(q * (1 - q) * (1.0 / n + 1.0 / n_other))
    return np.quantile(values, max(q - delta, 0.0)), np.quantile(values, min(q + delta, 1.0))


def test_per_customer_distribution_matches_the_walked_reference(engine_and_reference):
    """Means within Monte Carlo error; engine histogram quantiles against the exact
    quantiles of the reference's per-customer values, within the order-statistic error
    of both samples plus one histogram bin.

    The engine's ``R N`` customers share ``R P`` distinct paths, and the variance of its
    empirical CDF is at most ``F (1 - F) (1/(R N) + 1/(R P))``; the band uses the
    smaller ``R P``. Both engines share the parameter draws (same compiled segment), so
    parameter uncertainty cancels from the comparison.
    """
    segment, engine, reference, values, distinct_paths = engine_and_reference
    book = CompiledBook((segment,), SEED, segment.replications, H)
    ours = summarise(book, {segment.name: engine}).segment_summary.set_index("population")
    theirs = summarise(book, {segment.name: reference}).segment_summary.set_index("population")
    quantiles = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
    for population, index in (("existing", EXISTING), ("new", NEW)):
        a, b = ours.loc[population], theirs.loc[population]
        error = np.hypot(a.ltv_mean_mc_error, b.ltv_mean_mc_error)
        assert abs(a.ltv_mean - b.ltv_mean) < 4.5 * error, population
        # The spread (second moment from the paths) agrees too.
        raw = values[population].ravel()
        offset = EXISTING_COUNT if index == EXISTING else NEW_COUNT
        count = engine.totals[:, offset].sum()
        second = engine.totals[:, offset + 2].sum() / count
        assert np.sqrt(second) == pytest.approx(np.sqrt(np.mean(raw ** 2)), rel=0.03), population

        from simcore.engine.api import histogram_quantiles

        observed_min = engine.totals[:, EXISTING_MIN if index == EXISTING else NEW_MIN].min()
        observed_max = engine.totals[:, EXISTING_MAX if index == EXISTING else NEW_MAX].max()
        ours_q = histogram_quantiles(engine.histogram[index], engine.bounds[index], observed_min,
                                     observed_max, quantiles)
        low, high = engine.bounds[index]
        bin_width = (high - low) / (engine.histogram.shape[1] - 2)
        for q, value in zip(quantiles, ours_q):
            lower, upper = _order_statistic_band(raw, q, distinct_paths)
            assert lower - bin_width <= value <= upper + bin_width, (population, q, value,
                                                                     lower, upper)
        assert abs(a.p_unit_profit_negative - b.p_unit_profit_negative) < 0.02, population
    for column in ("p_payback_within_12_months", "p_payback_within_24_months"):
        assert abs(ours.loc["new", column] - theirs.loc["new", column]) < 0.02, column
    assert ours.loc["new", "payback_months_p50"] == pytest.approx(
        theirs.loc["new", "payback_months_p50"], abs=1.0)


def test_projection_means_match_the_walked_reference(engine_and_reference):
    """Monthly means (across replications) of the exact expectation equal the walked
    model's within Monte Carlo error: active customers, MRR and contribution."""
    segment, engine, reference, _, _ = engine_and_reference
    for population in (EXISTING, NEW):
        for metric in range(3):
            ours = engine.monthly[:, population, metric]
            theirs = reference.monthly[:, population, metric]
            error = np.hypot(ours.std(axis=0), theirs.std(axis=0)) / np.sqrt(ours.shape[0])
            scale = np.abs(theirs.mean(axis=0)).max()
            assert np.all(np.abs(ours.mean(axis=0) - theirs.mean(axis=0))
                          <= 4.5 * error + 1e-9 * scale), (population, metric)


def test_histogram_quantiles_equal_exact_quantiles_within_a_bin(engine_and_reference):
    """The reference's histogram holds the very values it returns: its quantiles (the
    code path of every reported quantile) are the exact ``np.quantile`` of those values
    within one bin width plus the gap between neighbouring order statistics."""
    from simcore.engine.api import histogram_quantiles

    segment, _, reference, values, _ = engine_and_reference
    quantiles = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
    for population, index, offset in (("existing", EXISTING, EXISTING_COUNT),
                                      ("new", NEW, NEW_COUNT)):
        raw = np.sort(values[population].ravel())
        low, high = reference.bounds[index]
        bin_width = (high - low) / (reference.histogram.shape[1] - 2)
        inside = (raw >= low) & (raw < high)
        assert inside.mean() > 0.99
        ours = histogram_quantiles(reference.histogram[index], reference.bounds[index],
                                   reference.totals[:, offset + 3].min(),
                                   reference.totals[:, offset + 4].max(), quantiles)
        exact = np.quantile(raw, quantiles)
        position = quantiles * (raw.size - 1)
        gap = raw[np.minimum(np.ceil(position).astype(int) + 1, raw.size - 1)] \
            - raw[np.maximum(np.floor(position).astype(int) - 1, 0)]
        assert np.all(np.abs(ours - exact) <= bin_width + gap), (population, ours, exact)


# --------------------------------------------------------------------------- invariance


def test_chunks_blocks_and_pool_size():
    """Byte-identical for any chunking and blocking; the pool size changes only the
    per-customer quantities, never the sums or the projections."""
    from simcore.engine.run import run_segment

    segment = _segment(10)
    whole = run_segment(segment, np.uint64(SEED), paths=64)
    for chunk, block in ((37, 3), (1, 1), (600, 7)):
        other = run_segment(segment, np.uint64(SEED), paths=64, chunk_size=chunk,
                            block_size=block)
        for name in ("totals", "monthly", "histogram", "payback"):
            assert getattr(other, name).tobytes() == getattr(whole, name).tobytes(), name
    bigger = run_segment(segment, np.uint64(SEED), paths=512)
    sums = [EXISTING_COUNT, EXISTING_SUM, NEW_COUNT, NEW_SUM, NEW_PROFIT_AT_START]
    assert bigger.totals[:, sums].tobytes() == whole.totals[:, sums].tobytes()
    assert bigger.monthly.tobytes() == whole.monthly.tobytes()
    assert not np.array_equal(bigger.totals[:, [EXISTING_SQUARES, NEW_SQUARES]],
                              whole.totals[:, [EXISTING_SQUARES, NEW_SQUARES]])
    with pytest.raises(ValueError, match="power of two"):
        run_segment(segment, np.uint64(SEED), paths=48)


_THREAD_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_engine_dynamics import SEED, _segment
from simcore.engine.run import run_segment
import numba
acc = run_segment(_segment(6), np.uint64(SEED), paths=32, block_size=6)
print(json.dumps([numba.get_num_threads()] + [getattr(acc, name).tobytes().hex()
                  for name in ("totals", "monthly", "histogram", "payback")]))
"""


def test_pooled_path_is_byte_identical_with_one_and_two_threads():
    import json
    import os
    import subprocess
    import sys

    script = _THREAD_SCRIPT.format(tests=os.path.dirname(__file__))
    outputs = []
    for threads in ("1", "2"):
        completed = subprocess.run([sys.executable, "-c", script], check=True,
                                   capture_output=True, text=True,
                                   env=dict(os.environ, NUMBA_NUM_THREADS=threads))
        outputs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert outputs[0][0] == 1 and outputs[1][0] == 2
    assert outputs[0][1:] == outputs[1][1:]


def test_expansion_multiplier_changes_money_not_lifetimes():
    """A higher expansion multiplier raises the expected factor ``g``: with the same
    random numbers every lifetime is unchanged, while the expected MRR of every month
    and the value sums rise."""
    from simcore.engine.run import run_segment

    base = run_segment(_segment(8), np.uint64(SEED), paths=64)
    levers = ScenarioLevers(**{**LEVERS.__dict__, "expansion_multiplier": 2.0})
    more = run_segment(_segment(8, levers=levers), np.uint64(SEED), paths=64)
    np.testing.assert_array_equal(more.monthly[:, :, 0], base.monthly[:, :, 0])
    assert np.all(more.monthly[:, EXISTING, 1] > base.monthly[:, EXISTING, 1])
    assert np.all(more.totals[:, [EXISTING_SUM, NEW_SUM]] > base.totals[:, [EXISTING_SUM, NEW_SUM]])
