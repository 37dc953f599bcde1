"""Counter-based RNG: NumPy twin agrees bit for bit, uniformity, determinism across
threads and chunking, common random numbers across scenarios."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from doubles import Dynamics, GeometricFit
from simcore.economics import Economics
from simcore.engine.compile import compile_segment
from simcore.engine.levers import ScenarioLevers


def _book(n=300):
    rng = np.random.default_rng(3)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "tenure_months": rng.integers(0, 40, n), "churned": False,
                         "mrr": rng.gamma(2.0, 50.0, n)})


def _segment(levers=None, dynamics=None, replications=12):
    return compile_segment("smb", GeometricFit(0.04, spread=0.1), Economics(gross_margin=0.8, cac=300.0,
                                                                support_cost_per_month=5.0),
                           _book(), dynamics=dynamics,
                           levers=levers or ScenarioLevers(acquisition_per_month=(7.0,)),
                           replications=replications, seed=11, horizon_months=36)


def test_numba_and_numpy_uniforms_are_bit_identical():
    from simcore.engine.rng import fill_uniforms, uniforms_np

    customers = np.arange(1000, dtype=np.uint64) * np.uint64(7919) + np.uint64(2**40)
    out = np.empty(customers.size)
    fill_uniforms(np.uint64(5), np.uint64(3), np.uint64(99), customers, np.uint64(4), out)
    np.testing.assert_array_equal(out, uniforms_np(5, 3, 99, customers, 4))


def test_extreme_bit_patterns_stay_inside_the_open_interval():
    from simcore.engine.rng import to_unit

    extremes = [0, 1, 2**12 - 1, 2**64 - 2**12, 2**64 - 1]
    values = [to_unit(np.uint64(z)) for z in extremes]
    assert all(0.0 < v < 1.0 for v in values), values
    assert values[-1] == 1.0 - 2.0 ** -53                   # largest uniform, exactly


def test_uniforms_are_uniform_and_open_interval():
    from simcore.engine.rng import uniforms_np

    u = uniforms_np(1, 0, 0, np.arange(200_000), 0)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    # consecutive draws of one customer are not correlated
    v = uniforms_np(1, 0, 0, np.arange(200_000), 1)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


def _accumulators_equal(a, b):
    for name in ("totals", "monthly", "histogram", "payback"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("dynamics", [None, Dynamics()])
def test_chunking_and_blocking_do_not_change_results(dynamics):
    from simcore.engine.run import run_segment

    segment = _segment(dynamics=dynamics)
    whole = run_segment(segment, np.uint64(11))
    _accumulators_equal(whole, run_segment(segment, np.uint64(11), chunk_size=37, block_size=5))
    _accumulators_equal(whole, run_segment(segment, np.uint64(11), chunk_size=1, block_size=1))


def test_common_random_numbers_across_scenarios():
    from simcore.engine.run import run_segment

    base = run_segment(_segment(), np.uint64(11))
    pricier = run_segment(_segment(ScenarioLevers(acquisition_per_month=(7.0,),
                                                  price_multiplier_existing_by_month=(1.1,))),
                          np.uint64(11))
    # a price lever changes money, not who stays: active customers are identical
    np.testing.assert_array_equal(base.monthly[:, :, 0], pricier.monthly[:, :, 0])
    np.testing.assert_allclose(pricier.monthly[:, 0, 1], 1.1 * base.monthly[:, 0, 1])
    # and new customers acquired in month 0 keep their uniforms when volume changes later
    more = run_segment(_segment(ScenarioLevers(acquisition_per_month=(7.0, 20.0))), np.uint64(11))
    np.testing.assert_array_equal(base.monthly[:, 1, 0, 0], more.monthly[:, 1, 0, 0])


_THREAD_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, pandas as pd
    sys.path.insert(0, {tests!r})
    from test_engine_rng import _segment, Dynamics
    from simcore.engine.run import run_segment
    import numba
    out = {{}}
    for name, dyn in (("constant", None), ("dynamic", Dynamics())):
        acc = run_segment(_segment(dynamics=dyn, replications=8), np.uint64(11), block_size=8)
        out[name] = [float(acc.totals.sum()), acc.totals.tobytes().hex(),
                     acc.monthly.tobytes().hex(), acc.histogram.tobytes().hex()]
    out["threads"] = numba.get_num_threads()
    print(json.dumps(out))
""")


def test_bit_identical_with_one_and_two_threads():
    script = _THREAD_SCRIPT.format(tests=os.path.dirname(__file__))
    results = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        completed = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                   capture_output=True, text=True)
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert results[0].pop("threads") == 1 and results[1].pop("threads") == 2
    assert results[0] == results[1]


def test_guided_lookup_is_the_exact_inverse_cdf():
    """Lifetimes of the kernels equal ``min{t >= 1: S(t) <= u}`` computed in NumPy from
    the same uniforms (NumPy twin of the RNG) and the same survival curves: for a new
    customer the months it pays, for an existing one (whose payment for the current
    month is already made) the months it pays after ``as_of`` are that lifetime minus
    one, ``t`` running up to ``H + 1`` over ``S(a + t) / S(a)``."""
    from simcore.engine.accumulators import EXISTING, NEW
    from simcore.engine.expected import expected_values
    from simcore.engine.rng import NEW_CUSTOMER_FLAG, uniforms_np
    from simcore.engine.run import run_segment

    levers = ScenarioLevers(acquisition_per_month=(40.0, 0.0, 25.0, 0.0),
                            churn_hazard_multiplier_by_month=(1.0, 1.7, 0.6),
                            churn_hazard_multiplier_existing_by_month=(1.0, 1.0, 1.0, 1.3),
                            new_customer_churn_multiplier_by_tenure_month=(0.5, 2.0, 1.0))
    segment = _segment(levers, replications=3)
    H = segment.horizon_months
    expected = expected_values(segment)
    engine = run_segment(segment, np.uint64(11))

    def lifetimes(survival, u):
        below = survival[:, 1:] <= u[:, None]
        return np.where(below.any(axis=1), below.argmax(axis=1) + 1, survival.shape[1])

    for r in range(segment.replications):
        u = uniforms_np(11, r, int(segment.segment_key), segment.customer_key, 0)
        # survival_existing holds S(a + t) / S(a) for t = 0..H: lifetimes up to H + 1
        months = lifetimes(expected.survival_existing[r][segment.customer_group], u) - 1
        assert months.min() == 0 and months.max() == H      # both ends are reached
        active = (months[:, None] > np.arange(H)[None, :]).sum(axis=0)
        np.testing.assert_array_equal(engine.monthly[r, EXISTING, 0], active)

        new_active = np.zeros(H)
        for c0, count in enumerate(segment.cohort_counts):
            keys = NEW_CUSTOMER_FLAG | (np.uint64(c0) << np.uint64(32)) | np.arange(
                count, dtype=np.uint64)
            u = uniforms_np(11, r, int(segment.segment_key), keys, 0)
            months = np.minimum(lifetimes(np.tile(expected.survival_new[r, c0], (count, 1)),
                                          u), H)
            k = np.arange(H - c0)
            new_active[c0:] += (months[:, None] > k[None, :]).sum(axis=0)
        np.testing.assert_array_equal(engine.monthly[r, NEW, 0], new_active)
