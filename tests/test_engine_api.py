"""simulate(): tidy outputs, status rules, baseline acquisition, per-customer columns."""

import numpy as np
import pandas as pd
import pytest

import simcore.engine as engine
from simcore.economics import Economics
from simcore.engine.api import histogram_quantiles, simulate
from simcore.engine.compile import baseline_acquisition_per_month, compile_segment
from simcore.engine.levers import ScenarioLevers, schedule
from simcore.errors import ConfigError, FitError
from doubles import GeometricFit


def _book():
    months = pd.date_range("2024-01-01", periods=24, freq="MS")
    signup = np.repeat(months, 5)
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(signup.size)], "signup_date": signup,
        "tenure_months": (23 - np.repeat(np.arange(24), 5)), "churned": False,
        "mrr": 100.0, "segment": np.tile(["good", "bad"], signup.size // 2),
    })


def test_numba_is_not_imported_by_the_package():
    import subprocess
    import sys

    code = ("import sys, simcore, simcore.engine, simcore.economics; "
            "assert 'numba' not in sys.modules, 'numba imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compile_status_reports_ready_after_warm_up():
    engine.warm_up()
    assert engine.compile_status() == "ready"


def test_schedules_extend_with_last_value():
    np.testing.assert_array_equal(schedule((1.0, 1.1), 4, 1.0), [1.0, 1.1, 1.1, 1.1])
    np.testing.assert_array_equal(schedule((), 2, 0.5), [0.5, 0.5])


def test_baseline_acquisition_counts_last_twelve_months_of_signups():
    book = _book()
    # 12 months in (2024-12-01, 2025-12-01] -> months 2025-01..2025-12 = 12 x 5 signups
    assert baseline_acquisition_per_month(book, pd.Timestamp("2025-12-01")) == 5.0
    assert baseline_acquisition_per_month(book.drop(columns="signup_date"),
                                          pd.Timestamp("2025-12-01")) == 0.0
    segment = compile_segment("s", GeometricFit(0.1), Economics(), book, replications=1, seed=0,
                              horizon_months=12, acquisition_baseline_per_month=2.5)
    # whole customers whose running total is the rounded (half up) running volume
    np.testing.assert_array_equal(segment.cohort_counts, [3, 2] * 6)


def test_per_customer_columns_win_over_segment_values():
    book = pd.DataFrame({"customer_id": ["a", "b"], "tenure_months": [1, 2], "churned": False,
                         "mrr": [np.nan, 50.0], "support_cost_per_month": [7.0, np.nan]})
    economics = Economics(support_cost_per_month=3.0, other_cost_to_serve_per_month=1.0,
                          default_mrr=20.0)
    segment = compile_segment("s", GeometricFit(0.1), economics, book, replications=1, seed=0,
                              horizon_months=3, include_new=False)
    np.testing.assert_array_equal(segment.customer_mrr, [20.0, 50.0])
    np.testing.assert_array_equal(segment.customer_cost_per_month, [8.0, 4.0])


def test_simulate_outputs_and_status():
    economics = {"good": Economics(gross_margin=0.8, cac=200.0),
                 "bad": Economics(gross_margin=0.3, support_cost_per_month=60.0, cac=200.0)}
    fits = {"good": GeometricFit(0.03), "bad": GeometricFit(0.03)}
    result = simulate(fits, _book(), economics, replications=20, seed=4, horizon_months=24,
                      as_of=pd.Timestamp("2025-12-31"))
    summary = result.segment_summary.set_index(["segment", "population"])
    # contribution per month: good 80, bad 30 - 60 = -30 -> margin-draining
    assert summary.loc[("good", "new"), "status"] == "profitable"
    assert summary.loc[("bad", "new"), "status"] == "margin-draining"
    assert summary.loc[("bad", "existing"), "status"] == "margin-draining"
    assert summary.loc[("good", "new"), "customers"] == 2.5 * 24   # 30 signups in 12 months
    projections = result.projections
    assert set(projections["population"]) == {"existing", "new", "all"}
    assert set(projections["metric"]) == {"active_customers", "mrr", "contribution", "cash",
                                          "cumulative_cash"}
    assert "(all segments)" in set(projections["segment"])
    first = projections.query("segment == 'good' and population == 'existing' and month == 0 "
                              "and metric == 'active_customers'")
    # The 60 existing customers have paid for their current month already; each renews
    # into projection month 0 with probability 1 - h = 0.97 (binomial over 20 replications).
    n, h, replications = 60, 0.03, 20
    standard_error = np.sqrt(n * h * (1 - h) / replications)
    assert abs(float(first["mean"].iloc[0]) - n * (1 - h)) < 4 * standard_error
    assert float(first["p90"].iloc[0]) <= n
    cash = projections.query("segment == 'good' and population == 'new' and month == 0 "
                             "and metric == 'cash'")
    # month 0: 3 new customers (2.5 rounded half up), each 80 contribution - 200 CAC
    assert float(cash["p50"].iloc[0]) == pytest.approx(3 * 80.0 - 3 * 200.0)
    quantiles = result.customer_quantiles
    assert quantiles.groupby(["segment", "population"])["ltv"].is_monotonic_increasing.all()


def test_histogram_quantiles_match_numpy_on_fine_bins():
    values = np.random.default_rng(0).gamma(2.0, 3.0, 100_000)
    counts = np.bincount(np.clip(((values - 0) * 100).astype(int) + 1, 0, 4001), minlength=4002)
    q = histogram_quantiles(counts, np.array([0.0, 40.0]), values.min(), values.max(),
                            [0.05, 0.5, 0.95])
    np.testing.assert_allclose(q, np.quantile(values, [0.05, 0.5, 0.95]), atol=0.02)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ConfigError, match="seed"):
        simulate({"s": GeometricFit(0.1)}, _book(), Economics(), seed=-1)
    with pytest.raises(ConfigError, match="acquisition_per_month"):
        ScenarioLevers(acquisition_per_month=(-1.0,))

    class Broken:
        def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
            return np.ones((n_draws, n_months))

    with pytest.raises(FitError, match="shape"):
        simulate({"s": Broken()}, _book().drop(columns="segment"), Economics(), replications=2)
