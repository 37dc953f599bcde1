"""Engine versus the NumPy reference engine and the expected-value path.

The reference steps every customer-month with its own random numbers (a Bernoulli
churn draw per month), so agreement checks the engine's inverse-CDF lifetimes,
prefix sums and accumulator bookkeeping against an independent implementation.
"""

import numpy as np
import pandas as pd
import pytest

from doubles import CERTAIN_GROWTH, Dynamics, NoChurn, WeibullishFit
from simcore.economics import Economics
from simcore.engine.api import simulate_compiled
from simcore.engine.compile import compile_book
from simcore.engine.expected import expected_values
from simcore.engine.levers import ScenarioLevers


DYNAMICS = Dynamics(p_expansion=0.04, expansion_log_mean=0.12, expansion_log_sd=0.06,
                    p_contraction=0.03, contraction_log_mean=-0.2, contraction_log_sd=0.08)


LEVERS = ScenarioLevers(
    churn_hazard_multiplier_by_month=(1.0,) * 3 + (1.6,) * 6 + (1.0,),
    price_multiplier_existing_by_month=(1.0, 1.0, 1.05),
    price_multiplier_new_by_month=(1.1,),
    new_customer_price_multiplier_by_tenure_month=(0.5, 0.5, 1.0),
    cost_to_serve_multiplier_by_month=(1.0, 1.2),
    gross_margin_change_by_month=(0.0,) * 6 + (-0.05,),
    acquisition_per_month=(6.0, 6.0, 3.5),
    cac_multiplier=1.2,
)


def _book():
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)], "tenure_months": rng.integers(0, 30, n),
        "churned": rng.random(n) < 0.2, "mrr": rng.gamma(3.0, 40.0, n),
        "support_cost_per_month": np.where(rng.random(n) < 0.3, 25.0, np.nan),
        "segment": np.where(rng.random(n) < 0.5, "a", "b"),
        # Churns dated between payments: each active customer has outlived a share of its
        # month's churns (tests/test_churn_dating.py for the closed form).
        "period_churn_passed": rng.random(n),
    })


def _compiled(dynamics, replications=60):
    economics = {"a": Economics(gross_margin=0.8, support_cost_per_month=8.0, cac=400.0,
                                onboarding_cost=100.0, infrastructure_cost_share=0.05),
                 "b": Economics(gross_margin=0.6, support_cost_per_month=30.0, cac=900.0,
                                other_cost_to_serve_per_month=5.0)}
    return compile_book({"a": WeibullishFit(), "b": WeibullishFit()}, _book(), economics,
                        dynamics=dynamics, levers=LEVERS, replications=replications, seed=21,
                        horizon_months=30)


@pytest.mark.parametrize("dynamics", [None, DYNAMICS], ids=["constant", "dynamic"])
def test_engine_matches_reference_distributionally(dynamics):
    book = _compiled(dynamics)
    engine = simulate_compiled(book, method="engine")
    reference = simulate_compiled(book, method="reference")
    left = engine.segment_summary.set_index(["segment", "population"])
    right = reference.segment_summary.set_index(["segment", "population"])
    for key in left.index:
        a, b = left.loc[key], right.loc[key]
        assert a.customers == b.customers
        error = np.hypot(a.ltv_mean_mc_error, b.ltv_mean_mc_error)
        assert abs(a.ltv_mean - b.ltv_mean) < 4.5 * error, key
        spread = a.ltv_customer_p95 - a.ltv_customer_p5
        for column in ("ltv_customer_p5", "ltv_customer_p50", "ltv_customer_p95"):
            assert abs(a[column] - b[column]) < 0.06 * spread, (key, column)
        assert abs(a.p_unit_profit_negative - b.p_unit_profit_negative) < 0.03, key
        if key[1] == "new":
            assert abs(a.p_payback_within_24_months - b.p_payback_within_24_months) < 0.04

    projections = [result.projections.set_index(["segment", "population", "metric", "month"]).sort_index()
                   for result in (engine, reference)]
    for metric in ("active_customers", "mrr", "contribution"):
        a = projections[0].loc[("a", "all", metric), "mean"].to_numpy()
        b = projections[1].loc[("a", "all", metric), "mean"].to_numpy()
        np.testing.assert_allclose(a, b, rtol=0.05, atol=1e-9 + 0.02 * np.abs(a).max())


def test_simulation_means_match_expected_value_path():
    book = _compiled(DYNAMICS, replications=200)
    engine = simulate_compiled(book, method="engine")
    summary = engine.segment_summary.set_index(["segment", "population"])
    for segment in book.segments:
        expected = expected_values(segment)
        existing = summary.loc[(segment.name, "existing")]
        assert abs(existing.ltv_mean - expected.existing_value.mean()) \
            < 4 * existing.ltv_mean_mc_error
        weights = segment.cohort_counts / segment.cohort_counts.sum()
        new = summary.loc[(segment.name, "new")]
        assert abs(new.ltv_mean - (expected.new_value * weights).sum(axis=1).mean()) \
            < 4 * new.ltv_mean_mc_error


def test_hazard_multiplier_acts_in_calendar_time():
    segment = _compiled(None, replications=3).segments[0]
    expected = expected_values(segment)
    m = np.asarray(LEVERS.churn_hazard_multiplier_by_month)
    m = np.concatenate([m, np.full(200, m[-1])])
    r, g = 1, 4
    a = segment.group_tenure[g]
    hand = np.cumprod([1 - min(1, segment.hazard[r, a + c] * m[c]) for c in range(30)])
    np.testing.assert_allclose(expected.survival_existing[r, g, 1:], hand)
    c0 = 5
    # the decision after tenure month k is the renewal into calendar month c0 + k + 1
    hand_new = np.cumprod([1 - min(1, segment.hazard[r, k] * m[c0 + k + 1]) for k in range(30)])
    np.testing.assert_allclose(expected.survival_new[r, c0, 1:], hand_new)


def test_existing_month_zero_is_a_renewal_on_the_walked_path():
    """With certain 10% growth at every renewal and no churn, an existing customer (its
    current month already paid) bills ``m 1.1^(c+1)`` in projection month ``c`` — the
    first projected month is a renewal — while a new customer bills ``m 1.1^k`` in its
    tenure month ``k`` (no event in the month of acquisition). The kernels, the NumPy
    reference and the expected-value path must all give these exact amounts."""
    from simcore.engine.accumulators import EXISTING, NEW
    from simcore.engine.reference import reference_segment
    from simcore.engine.run import run_segment

    H, n = 6, 4
    book = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                         "tenure_months": [0, 1, 7, 30], "churned": False, "mrr": 100.0})
    segment = compile_book({"s": NoChurn()}, book, Economics(gross_margin=1.0),
                           dynamics=CERTAIN_GROWTH,
                           levers=ScenarioLevers(acquisition_per_month=(1.0, 0.0),
                                                 new_customer_mrr=100.0),
                           replications=2, seed=3, horizon_months=H).segments[0]
    growth = 1.1 ** np.arange(H)
    mrr_existing = n * 100.0 * 1.1 * growth
    mrr_new = 100.0 * growth
    for accumulators in (run_segment(segment, np.uint64(3)), reference_segment(segment, 3)):
        np.testing.assert_allclose(accumulators.monthly[:, EXISTING, 1],
                                   np.tile(mrr_existing, (2, 1)), rtol=1e-12)
        np.testing.assert_allclose(accumulators.monthly[:, NEW, 1],
                                   np.tile(mrr_new, (2, 1)), rtol=1e-12)
    d = segment.monthly_discount_factor
    expected = expected_values(segment)
    np.testing.assert_allclose(expected.existing_value,
                               100.0 * 1.1 * (growth * d ** np.arange(H)).sum(), rtol=1e-12)
    np.testing.assert_allclose(expected.new_value[:, 0],
                               100.0 * (growth * d ** np.arange(H)).sum(), rtol=1e-12)
