"""Each lever formula, by its exact size, on the engine's expected path and compiled arrays.

Book: one segment with a constant hazard ``h`` (every parameter draw the same curve).
The README's lever reference gives each formula with a worked example; these tests are
those formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doubles import Dynamics, GeometricFit
from simcore.config import ScenarioConfig
from simcore.economics import Economics
from simcore.engine.compile import compile_segment
from simcore.engine.expected import expected_values
from simcore.scenarios import levers_for_segment

H = 24
h = 0.04
ECONOMICS = Economics(gross_margin=0.8, support_cost_per_month=10.0, cac=300.0, onboarding_cost=20.0,
                      discount_rate_annual=0.12)
BOOK = pd.DataFrame({"customer_id": ["a", "b"], "tenure_months": [3, 10], "churned": False, "mrr": 100.0})


def compiled(dynamics=None, volume=10.0, **levers):
    from dataclasses import replace

    scenario = ScenarioConfig.model_validate({"name": "s", **levers})
    lever = replace(levers_for_segment(scenario, "smb", H), new_customer_mrr=100.0,
                    acquisition_per_month=(volume,))
    return compile_segment("smb", GeometricFit(h), ECONOMICS, BOOK, dynamics=dynamics, levers=lever,
                           replications=2, seed=1, horizon_months=H)


def test_constant_churn_elasticity_for_those_who_saw_the_change():
    # +10% from month 3 with e = 2: hazard x 1.1^2 = 1.21 for existing customers from the
    # renewal into month 3 on, and for new customers acquired before month 3 from their
    # renewal into month 3 on; customers acquired from month 3 on signed up at the new
    # price and keep the fitted hazard.
    segment = compiled(price_change={"pct": 0.10, "from_month": 3}, price_elasticity_of_churn=2.0)
    factor = segment.existing_hazard_factor
    np.testing.assert_allclose(factor[:3], 1.0)
    np.testing.assert_allclose(factor[3:H], 1.1 ** 2, rtol=1e-14)
    table = segment.new_cohort_hazard_factor                  # [cohort, decision after tenure k]
    assert segment.new_churn_classes == 4                      # cohorts 0, 1, 2 differ; 3+ share
    # cohort 0: the decision after tenure month k is into calendar month k + 1
    np.testing.assert_allclose(table[0, :2], 1.0)
    np.testing.assert_allclose(table[0, 2:], 1.21, rtol=1e-14)
    np.testing.assert_allclose(table[2, :], 1.21, rtol=1e-14)   # first decision is into month 3
    np.testing.assert_allclose(table[3, :], 1.0)                # signed up at the new price
    # never zero: a 60% cut with e = 2 multiplies the hazard by 0.4^2 = 0.16, not 0
    cut = compiled(price_change={"pct": -0.6}, price_elasticity_of_churn=2.0)
    np.testing.assert_allclose(cut.existing_hazard_factor[:H], 0.16, rtol=1e-14)


def test_churn_elasticity_is_per_segment_and_the_last_entry_wins():
    scenario = ScenarioConfig.model_validate({"name": "s", "price_change": {"pct": 0.1},
                                              "price_elasticity_of_churn": [{"elasticity": 1.0},
                                                                            {"elasticity": 3.0, "segments": ["smb"]}]})
    smb = levers_for_segment(scenario, "smb", H)
    other = levers_for_segment(scenario, "enterprise", H)
    assert smb.churn_steps_existing == ((0, pytest.approx(1.1 ** 3), 0),)
    assert other.churn_steps_existing == ((0, pytest.approx(1.1), 0),)


def test_renewal_shock_fades_linearly():
    # +10%, e = 2, fading over 4 months: 1.21^(1, 3/4, 2/4, 1/4), then 1.
    segment = compiled(price_change={"pct": 0.10, "from_month": 2},
                       price_elasticity_of_churn={"elasticity": 2.0, "shock_months": 4})
    expected = [1, 1, 1.21, 1.21 ** 0.75, 1.21 ** 0.5, 1.21 ** 0.25, 1, 1]
    np.testing.assert_allclose(segment.existing_hazard_factor[:8], expected, rtol=1e-14)


def test_price_window_reverses_and_customers_respond_to_the_reversal():
    segment = compiled(price_change={"pct": 0.25, "months": [2, 5]}, price_elasticity_of_churn=1.0)
    np.testing.assert_allclose(segment.price_existing[:8], [1, 1, 1.25, 1.25, 1.25, 1.25, 1, 1])
    np.testing.assert_allclose(segment.existing_hazard_factor[:8], [1, 1, 1.25, 1.25, 1.25, 1.25, 1, 1],
                               rtol=1e-14)
    # a customer acquired at the higher price (month 3) churns less once it falls back
    # (its decision after tenure month k is into calendar month 4 + k; the price falls in month 6)
    np.testing.assert_allclose(segment.new_cohort_hazard_factor[3, 1:3], [1.0, 0.8], rtol=1e-14)


def test_price_elasticity_of_acquisition():
    # +10% from month 6 with e = 1.5: new customers per month x 1.1^-1.5 from month 6.
    segment = compiled(volume=1000.0, price_change={"pct": 0.10, "from_month": 6},
                       price_elasticity_of_acquisition=1.5)
    np.testing.assert_array_equal(segment.cohort_counts[:6], 1000)
    assert segment.cohort_counts[6:].sum() == pytest.approx(1000 * 1.1 ** -1.5 * (H - 6), abs=1)


def test_windowed_cac_is_charged_to_the_cohorts_acquired_in_it():
    segment = compiled(cac_change={"pct": 0.5, "months": [0, 5]})
    np.testing.assert_allclose(segment.new_acquisition_cost_by_cohort[:6], 1.5 * 300 + 20)
    np.testing.assert_allclose(segment.new_acquisition_cost_by_cohort[6:], 300 + 20)
    # the mean over new customers (equal cohorts): (6 * 470 + 18 * 320) / 24
    assert segment.new_acquisition_cost == pytest.approx((6 * 470 + 18 * 320) / 24)


def test_windowed_margin_and_cost_to_serve():
    segment = compiled(gross_margin_change={"pct": -0.05, "months": [2, 3]},
                       cost_to_serve_change={"pct": 0.5, "months": [4, 4]})
    np.testing.assert_allclose(segment.gross_margin[:6], [0.8, 0.8, 0.75, 0.75, 0.8, 0.8])
    np.testing.assert_allclose(segment.cost_multiplier[:6], [1, 1, 1, 1, 1.5, 1])


def test_windowed_contraction_expected_path():
    # Contraction events x2 in months 0..5 only: E[MRR factor] = prod of the months' g.
    dynamics = Dynamics()
    segment = compiled(dynamics=dynamics, contraction_multiplier={"months": [0, 5], "factor": 2.0})

    def g(p_c):
        return (1 + dynamics.p_expansion * (np.exp(dynamics.expansion_log_mean + dynamics.expansion_log_sd ** 2 / 2)
                                             - 1)
                + p_c * (np.exp(dynamics.contraction_log_mean + dynamics.contraction_log_sd ** 2 / 2) - 1))

    inside, outside = g(2 * dynamics.p_contraction), g(dynamics.p_contraction)
    expected = np.cumprod([inside] * 6 + [outside] * (H - 6))
    np.testing.assert_allclose(segment.existing_mrr_growth, expected, rtol=1e-12)
    # a new customer of cohort 2 has its events in calendar months 3, 4, ...
    np.testing.assert_allclose(segment.new_mrr_growth[2, :5], [1, inside, inside ** 2, inside ** 3, inside ** 3 * outside],
                               rtol=1e-12)
    np.testing.assert_allclose(segment.p_contraction_by_month[:8], [2 * dynamics.p_contraction] * 6
                               + [dynamics.p_contraction] * 2)


def test_expected_value_with_elasticity_matches_the_hand_sum():
    segment = compiled(price_change={"pct": 0.10, "from_month": 3}, price_elasticity_of_churn=2.0)
    value = expected_values(segment)
    d = ECONOMICS.monthly_discount_factor
    # existing customer, MRR 100: pays month c with probability prod_{j<=c} (1 - h f(j))
    factor = np.where(np.arange(H) >= 3, 1.21, 1.0)
    paid = np.cumprod(1 - h * factor)
    price = np.where(np.arange(H) >= 3, 1.1, 1.0)
    hand = (paid * d ** np.arange(H) * (100 * price * 0.8 - 10)).sum()
    np.testing.assert_allclose(value.existing_value[0], hand, rtol=1e-12)


def test_cs_coverage_needs_at_least_one_account_per_csm():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        ScenarioConfig.model_validate({"name": "s", "cs_coverage": {"accounts_per_csm": 0.5,
                                                                   "cost_per_csm_per_year": 100000}})


def test_windowed_dynamics_engine_against_the_walked_reference():
    """The engine's means with a contraction window equal the exactly walked reference's
    within Monte Carlo error; new customers' per-customer spread (pooled paths at the
    outside probabilities, corrected in the mean) is compared at its median."""
    from dataclasses import replace

    from doubles import STRONG_DYNAMICS
    from simcore.engine.accumulators import EXISTING_SUM, NEW, NEW_COUNT, NEW_MAX, NEW_MIN, NEW_SUM
    from simcore.engine.reference import reference_segment
    from simcore.engine.run import run_segment

    scenario = ScenarioConfig.model_validate({"name": "s", "contraction_multiplier": {"months": [2, 9], "factor": 4.0},
                                              "expansion_multiplier": {"months": [2, 9], "factor": 0.25}})
    lever = replace(levers_for_segment(scenario, "smb", H), new_customer_mrr=100.0, acquisition_per_month=(40.0,))
    book = pd.DataFrame({"customer_id": [f"c{i}" for i in range(300)], "tenure_months": np.arange(300) % 20,
                         "churned": False, "mrr": 100.0})
    segment = compile_segment("smb", GeometricFit(h), ECONOMICS, book, dynamics=STRONG_DYNAMICS, levers=lever,
                              replications=60, seed=2, horizon_months=H)
    engine, (reference, values) = run_segment(segment, np.uint64(2)), reference_segment(segment, 2, return_values=True)
    for column, count in ((EXISTING_SUM, None), (NEW_SUM, NEW_COUNT)):
        a, b = engine.totals[:, column], reference.totals[:, column]
        error = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) < 4 * error, (column, a.mean(), b.mean(), error)
    from simcore.engine.summary import histogram_quantiles

    totals = engine.totals
    median = histogram_quantiles(engine.histogram[NEW], engine.bounds[NEW], totals[:, NEW_MIN].min(),
                                 totals[:, NEW_MAX].max(), [0.5])[0]
    exact = np.median(values["new"])
    assert median == pytest.approx(exact, rel=0.03)
