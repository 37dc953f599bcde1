"""The engine's interfaces: what it imports, what it asks of a survival model, the
argument groups its warm-up compiles, and the progress callback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import doubles
from simcore.economics import Economics
from simcore.engine.api import simulate
from simcore.engine.compile import compile_segment
from simcore.engine.levers import ScenarioLevers
from simcore.engine.protocols import MrrDynamics, SurvivalModel


def test_kernels_and_accumulators_import_without_pandas():
    code = ("import sys, simcore.engine.kernels, simcore.engine.accumulators, "
            "simcore.engine.protocols; assert 'pandas' not in sys.modules, 'pandas imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------- protocols

FITS = [doubles.GeometricFit(0.05), doubles.GeometricFit(0.05, spread=0.2),
        doubles.WeibullishFit(), doubles.SpreadFit(),
        doubles.CurveFit(lambda t: 1.0 / (1.0 + 0.1 * t)), doubles.NoChurn()]


def _fitted(family):
    from simcore.retention import fit_family

    rng = np.random.default_rng(4)
    lifetimes = rng.geometric(0.05 * np.exp(0.4 * rng.standard_normal(3000)))
    tenure = np.minimum(lifetimes, 36)
    return fit_family(tenure, lifetimes <= 36, family=family)


@pytest.mark.parametrize("fit", FITS + ["exponential", "weibull", "sbg"],
                         ids=lambda f: f if isinstance(f, str) else type(f).__name__)
def test_survival_models_keep_the_contract(fit):
    """Every model the engine is given — test doubles and the library's own fits alike —
    is a ``SurvivalModel`` whose draws start at 1, never increase and stay in [0, 1]."""
    if isinstance(fit, str):
        fit = _fitted(fit)
    assert isinstance(fit, SurvivalModel)
    draws = np.asarray(fit.survival_draws(7, 50, seed=3, method="asymptotic"))
    assert draws.shape == (7, 51)
    assert np.all(draws[:, 0] == 1.0)
    assert np.all(np.diff(draws, axis=1) <= 1e-12)
    assert np.all((draws >= 0.0) & (draws <= 1.0))
    np.testing.assert_array_equal(draws, fit.survival_draws(7, 50, seed=3, method="asymptotic"))
    segment = compile_segment("s", fit, Economics(), pd.DataFrame(
        {"customer_id": ["a"], "tenure_months": [3], "churned": [False], "mrr": [10.0]}),
        replications=7, seed=1, horizon_months=24)
    assert segment.hazard.shape == (7, 3 + 24 + 1)


def test_revenue_dynamics_are_mrr_dynamics():
    from simcore.revenue import RevenueDynamics

    assert isinstance(RevenueDynamics(p_expansion=0.1, expansion_log_mean=0.1), MrrDynamics)
    assert isinstance(doubles.STRONG_DYNAMICS, MrrDynamics)
    assert not isinstance(object(), SurvivalModel)


# ------------------------------------------------------------------------ warm-up

_SIGNATURE_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, pandas as pd
    sys.path.insert(0, {tests!r})
    import doubles
    import simcore.engine as engine
    from simcore.economics import Economics
    from simcore.engine import kernels
    from simcore.engine.compile import compile_segment
    from simcore.engine.levers import ScenarioLevers
    from simcore.engine.run import run_segment

    engine.warm_up()
    dispatchers = [getattr(kernels, name) for name in dir(kernels)
                   if hasattr(getattr(kernels, name), "signatures")]
    before = {{d.__name__: len(d.signatures) for d in dispatchers}}
    book = pd.DataFrame({{"customer_id": [f"c{{i}}" for i in range(300)],
                         "tenure_months": np.arange(300) % 17, "churned": False,
                         "mrr": 50.0 + np.arange(300)}})
    levers = ScenarioLevers(acquisition_per_month=(5.0,),
                            price_multiplier_new_by_month=(1.0, 1.2))
    for dynamics in (None, doubles.STRONG_DYNAMICS):
        for include_existing, include_new in ((True, True), (False, True), (True, False)):
            segment = compile_segment("s", doubles.WeibullishFit(), Economics(cac=100.0), book,
                                      dynamics=dynamics, levers=levers, replications=5,
                                      seed=1, horizon_months=12,
                                      include_existing=include_existing,
                                      include_new=include_new)
            run_segment(segment, np.uint64(1), chunk_size=100, block_size=2)
    after = {{d.__name__: len(d.signatures) for d in dispatchers}}
    print(json.dumps([before, after]))
""")


def test_warm_up_compiles_every_signature_a_run_uses():
    """The argument groups ``exercise`` builds have the types a real run passes, so a run
    after warming up compiles nothing (no surprise compile in the middle of a run)."""
    import os

    script = _SIGNATURE_SCRIPT.format(tests=os.path.dirname(__file__))
    completed = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                               text=True)
    before, after = json.loads(completed.stdout.strip().splitlines()[-1])
    assert before == after
    for entry in ("existing_block", "new_block", "path_block", "fold_new_lifetimes"):
        assert before[entry] >= 1, before


# ----------------------------------------------------------------------- progress


def _book():
    rng = np.random.default_rng(2)
    n = 500
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "tenure_months": rng.integers(0, 30, n), "churned": False,
                         "mrr": rng.gamma(2.0, 40.0, n),
                         "segment": np.where(np.arange(n) < 300, "a", "b")})


def _simulate(**options):
    fits = {"a": doubles.WeibullishFit(), "b": doubles.GeometricFit(0.03)}
    return simulate(fits, _book(), Economics(cac=200.0), {"a": doubles.STRONG_DYNAMICS},
                    ScenarioLevers(acquisition_per_month=(10.0,)), replications=20, seed=5,
                    horizon_months=24, block_size=6, **options)


@pytest.mark.parametrize("method", ["engine", "reference"])
def test_progress_reports_lifetimes_over_the_book_and_changes_nothing(method):
    calls = []
    with_progress = _simulate(progress=lambda done, total: calls.append((done, total)),
                              method=method)
    without = _simulate(method=method)
    total = (500 + 2 * 24 * 10) * 20                # existing + new, per replication
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total and done[0] > 0
    # engine: one call per block of 6 replications per segment; reference: per replication
    assert len(calls) == (2 * 4 if method == "engine" else 2 * 20)
    for name in ("totals", "monthly", "histogram", "payback"):
        for segment in ("a", "b"):
            np.testing.assert_array_equal(getattr(with_progress.accumulators[segment], name),
                                          getattr(without.accumulators[segment], name))
