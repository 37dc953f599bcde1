"""Per-account expected values of customer-success planning against closed forms, the
engine's deterministic path and the engine's Monte Carlo mean.

* constant churn ``h`` with a tier's churn factor ``m``, contribution ``k`` and CS cost
  ``s`` per covered account-month: an existing account is worth
  ``(1 - hm)(1 - q^H)/(1 - q) (k - s)``, ``q = (1 - hm) d``; a new one ``(1 - q^H)/(1 - q) (k - s)``;
* shifted-beta-geometric retention, alpha = 3.80, beta = 15.20, 10% discount per period:
  an account that has made ``a + 1`` payments is worth DERL(a + 1) = 3.31, 3.45, 3.59,
  3.72, 3.84 and a new one DEL = 4.009 (Fader & Hardie 2010, "Customer-Base Valuation in
  a Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1),
  Table 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from simcore.cs.accounts import account_values
from simcore.cs.classify import ClassRule
from simcore.cs.inputs import PlanInputs, segment_inputs
from simcore.cs.values import existing_path, new_path, tenure_factors
from simcore.economics import Economics
from simcore.engine.api import simulate
from simcore.engine.compile import compile_segment
from simcore.engine.expected import expected_values
from simcore.engine.levers import ScenarioLevers
from simcore.revenue import RevenueDynamics
from tests.cs_books import cs_project  # noqa: F401 - a fixture

PER_STEP_TEN_PERCENT = 1.1 ** 12 - 1.0
PUBLISHED_DEL = 4.009
PUBLISHED_DERL = (3.31, 3.45, 3.59, 3.72, 3.84)


class CurveFit:
    """Every parameter draw is the same survival curve ``survival(t)``."""

    def __init__(self, survival):
        self.survival = survival

    def survival_draws(self, n_draws, n_months, seed, method=None):
        return np.tile(self.survival(np.arange(n_months + 1)), (n_draws, 1))


class UncertainGeometric:
    """Parameter uncertainty: draw ``r`` churns with monthly probability ``p_r``, drawn
    from a beta distribution seeded by ``seed`` (so the same seed gives the same draws)."""

    def __init__(self, a: float = 4.0, b: float = 60.0):
        self.a, self.b = a, b

    def survival_draws(self, n_draws, n_months, seed, method=None):
        p = np.random.Generator(np.random.PCG64(seed)).beta(self.a, self.b, size=n_draws)
        return (1.0 - p[:, None]) ** np.arange(n_months + 1)[None, :]


def book(tenures, mrr=1.0, support=None):
    tenures = np.asarray(tenures)
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(tenures.size)], "tenure_months": tenures,
                          "churned": False, "mrr": mrr})
    if support is not None:
        frame["support_cost_per_month"] = support
    return frame


def test_constant_churn_with_a_tier_is_the_annuity():
    h, m, H, s = 0.04, 0.6, 240, 7.5
    economics = Economics(gross_margin=0.8, support_cost_per_month=10.0, discount_rate_annual=0.12)
    levers = ScenarioLevers(acquisition_per_month=(3.0, 0.0), new_customer_mrr=100.0)
    segment = segment_inputs("s", CurveFit(lambda t: (1 - h) ** t), economics, None, levers, book([0, 7, 30], 100.0),
                             replications=2, seed=1, horizon=H)
    d = economics.monthly_discount_factor
    q = (1 - h * m) * d
    annuity = (1 - q ** H) / (1 - q)
    contribution = 100.0 * 0.8 - 10.0 - s
    ones = np.ones(H)
    for tenure in (0, 7, 30):      # a memoryless curve: tenure does not matter
        value = existing_path(segment, tenure, m * ones, ones, s * ones, 12).value(100.0, 10.0)
        np.testing.assert_allclose(value, (1 - h * m) * annuity * contribution, rtol=1e-12)
    value = new_path(segment, m * ones, ones, s * ones, 12).value(100.0, 10.0)
    np.testing.assert_allclose(value, annuity * contribution, rtol=1e-12)


def test_accounts_reach_fader_hardie_del_and_derl():
    fit = CurveFit(lambda t: np.exp(betaln(3.80, 15.20 + t) - betaln(3.80, 15.20)))
    unit = Economics(gross_margin=1.0, discount_rate_annual=PER_STEP_TEN_PERCENT)
    levers = ScenarioLevers(acquisition_per_month=(1.0, 0.0), new_customer_mrr=1.0)
    segment = segment_inputs("s", fit, unit, None, levers, book(np.arange(5)), replications=1, seed=0, horizon=400)
    inputs = PlanInputs({"s": segment}, 1, 0, 400, None, None)
    values = account_values(inputs, ClassRule(), include_new=True)
    profit = values.table.sort_values("tenure_months")["expected_profit"].to_numpy()
    assert [round(float(x), 2) for x in profit] == list(PUBLISHED_DERL)
    assert round(float(values.state.profit[values.state.is_new][0, 0]), 3) == PUBLISHED_DEL


@pytest.mark.parametrize("churn, expansion, share", [(1.0, 1.0, 0.0), (0.7, 1.5, 12.5), (1.3, 0.5, 3.0)])
def test_paths_equal_the_engines_expected_values(churn, expansion, share):
    """With a tier held for the whole horizon the plan's sums are the engine's own
    deterministic path (:mod:`simcore.engine.expected`) with the same levers."""
    economics = Economics(gross_margin=0.75, support_cost_per_month=20.0, discount_rate_annual=0.09)
    dynamics = RevenueDynamics(0.08, 0.12, 0.05, 0.03, -0.15, 0.04)
    customers = book([0, 3, 3, 11, 40], mrr=[120.0, 80.0, 300.0, 55.0, 900.0], support=[20.0, 5.0, 20.0, 40.0, 20.0])
    base = ScenarioLevers(acquisition_per_month=(4.0, 0.0), new_customer_mrr=150.0)
    H, R = 60, 16
    segment = segment_inputs("s", UncertainGeometric(), economics, dynamics, base, customers, replications=R, seed=5,
                             horizon=H)
    tier = ScenarioLevers(churn_hazard_multiplier_by_month=(churn,), expansion_multiplier=expansion,
                          extra_cost_to_serve_per_month=share, acquisition_per_month=(4.0, 0.0),
                          new_customer_mrr=150.0)
    engine = expected_values(compile_segment("s", UncertainGeometric(), economics, customers, dynamics=dynamics,
                                             levers=tier, replications=R, seed=5, horizon_months=H))
    ones = np.ones(H)
    for j in range(len(customers)):
        path = existing_path(segment, int(segment.tenure[j]), churn * ones, expansion * ones, share * ones, 12)
        np.testing.assert_allclose(path.value(segment.mrr[j], segment.cost[j]), engine.existing_value[:, j],
                                   rtol=1e-10)
    path = new_path(segment, churn * ones, expansion * ones, share * ones, 12)
    np.testing.assert_allclose(path.value(segment.new_mrr, segment.new_cost), engine.new_value[:, 0], rtol=1e-10)


def test_tenure_factors_are_the_conditional_curve():
    """revenue(a) = cm sum_c d^c g^(c+1) S(a+1+c)/S(a); months(a) = sum_c S(a+1+c)/S(a)."""
    survival = lambda t: np.exp(betaln(1.2, 9.0 + t) - betaln(1.2, 9.0))  # noqa: E731
    economics = Economics(gross_margin=0.6, discount_rate_annual=0.1)
    dynamics = RevenueDynamics(0.05, 0.1, 0.0, 0.0, 0.0, 0.0)
    H = 36
    segment = segment_inputs("s", CurveFit(survival), economics, dynamics, ScenarioLevers(), book([2, 9]),
                             replications=1, seed=0, horizon=H)
    factors = tenure_factors(segment, np.array([2, 9]))
    g = 1 + 0.05 * (np.exp(0.1) - 1)
    d = economics.monthly_discount_factor
    c = np.arange(H)
    for column, a in enumerate((2, 9)):
        conditional = survival(a + 1 + c) / survival(a)
        assert factors.revenue[0, column] == pytest.approx(0.6 * np.sum(d ** c * g ** (c + 1) * conditional),
                                                           rel=1e-12)
        assert factors.months[0, column] == pytest.approx(conditional.sum(), rel=1e-12)
        assert factors.active_12[0, column] == pytest.approx(conditional[11], rel=1e-12)


@pytest.mark.parametrize("levers_of_tier", [
    {},
    {"churn_hazard_multiplier_existing_by_month": (0.6,), "expansion_multiplier": 1.6,
     "extra_cost_to_serve_per_month": 40.0},
])
def test_one_account_equals_the_engines_mean_within_monte_carlo_error(levers_of_tier):
    """An account's expected value (the plan's analytic route) against the engine's mean
    for a book of that one account, same seed, many replications, with parameter
    uncertainty and expansion: within four Monte Carlo standard errors."""
    economics = Economics(gross_margin=0.8, support_cost_per_month=35.0, discount_rate_annual=0.1)
    dynamics = RevenueDynamics(0.06, 0.15, 0.05, 0.02, -0.12, 0.04)
    customers = book([14], mrr=[420.0])
    R, H, seed = 4000, 120, 17
    base = ScenarioLevers(acquisition_per_month=(0.0,), new_customer_mrr=0.0)
    segment = segment_inputs("solo", UncertainGeometric(3.0, 90.0), economics, dynamics, base, customers,
                             replications=R, seed=seed, horizon=H)
    ones = np.ones(H)
    churn = levers_of_tier.get("churn_hazard_multiplier_existing_by_month", (1.0,))[0]
    analytic = existing_path(segment, 14, churn * ones, levers_of_tier.get("expansion_multiplier", 1.0) * ones,
                             levers_of_tier.get("extra_cost_to_serve_per_month", 0.0) * ones, 12).value(420.0, 35.0)
    result = simulate({"solo": UncertainGeometric(3.0, 90.0)}, customers, economics, dynamics,
                      ScenarioLevers(**levers_of_tier, acquisition_per_month=(0.0,), new_customer_mrr=0.0),
                      replications=R, seed=seed, horizon_months=H, include_new=False)
    row = result.segment_summary.set_index("population").loc["existing"]
    assert abs(analytic.mean() - row.ltv_mean) < 4 * row.ltv_mean_mc_error


def test_one_account_of_a_fitted_project_equals_the_engine(cs_project):
    """Through the public API: ``Project.accounts()`` for one account against the engine
    simulating a book of that account alone with the project's fit, seed and economics."""
    project = cs_project(cs_plan=None)
    R, seed = 3000, 23
    accounts = project.accounts(replications=R, seed=seed).table
    chosen = accounts.sort_values("expected_profit").iloc[len(accounts) // 2]
    customers = project.book().customers
    one = customers[customers["customer_id"] == chosen.customer_id]
    segment = chosen.segment
    fit = project.fit()
    result = simulate({segment: fit.fits.results[segment].survival_model()}, one,
                      project.economics().economics[segment], None, None, replications=R, seed=seed,
                      horizon_months=project.config.horizon_months, include_new=False, draw_method=None)
    row = result.segment_summary.set_index("population").loc["existing"]
    assert abs(chosen.expected_profit - row.ltv_mean) < 4 * row.ltv_mean_mc_error
    assert chosen.expected_profit_lower_90 <= chosen.expected_profit <= chosen.expected_profit_upper_90
