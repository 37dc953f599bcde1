"""Closed forms reached by the engine's expected-value path and by simulation.

* constant churn ``h`` and contribution ``m``: a new customer is worth
  ``m (1 - q^H) / (1 - q)``, ``q = (1-h) d``; an existing customer, who has already paid
  for its current month and renews into each projected month with probability
  ``1 - h``, is worth ``(1 - h)`` times that;
* shifted-beta-geometric retention, alpha = 3.80, beta = 15.20, 10% discount per
  period: DEL = 4.009 and DERL = 3.31, 3.45, 3.59, 3.72, 3.84 for customers who made
  0..4 renewals (Fader & Hardie 2010, "Customer-Base Valuation in a Contractual
  Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1), Table 3);
* zero churn gives the annuity for new and existing customers alike, a one-month
  horizon one undiscounted payment (certain for a new customer, a renewal with
  probability ``1 - h`` for an existing one), and CAC and onboarding are subtracted
  undiscounted at t = 0.

One period of the published example is one step of the engine's monthly grid: the
annual rate is chosen so that the per-step factor is exactly 1 / 1.1.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from doubles import CurveFit
from simcore.economics import Economics
from simcore.engine.api import simulate
from simcore.engine.compile import compile_segment
from simcore.engine.expected import expected_values
from simcore.engine.levers import ScenarioLevers

PER_STEP_TEN_PERCENT = 1.1 ** 12 - 1.0
PUBLISHED_DEL = 4.009
PUBLISHED_DERL = (3.31, 3.45, 3.59, 3.72, 3.84)


def geometric(h):
    return CurveFit(lambda t: (1.0 - h) ** t)


def shifted_beta_geometric(alpha, beta):
    return CurveFit(lambda t: np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)))


def book(tenures, mrr=1.0, ids=None):
    tenures = np.asarray(tenures)
    return pd.DataFrame({"customer_id": ids if ids is not None else
                         [f"c{i}" for i in range(tenures.size)],
                         "tenure_months": tenures, "churned": False, "mrr": mrr})


UNIT = Economics(gross_margin=1.0, discount_rate_annual=PER_STEP_TEN_PERCENT)


def test_geometric_closed_form_expected_and_simulated():
    h, m, H = 0.05, 70.0, 600
    economics = Economics(gross_margin=0.8, support_cost_per_month=10.0,
                          discount_rate_annual=0.12)
    d = economics.monthly_discount_factor
    q = (1 - h) * d
    closed = m * (1 - q ** H) / (1 - q)
    # existing: month c (c = 0..H-1 after as_of) is paid with probability (1-h)^(c+1)
    closed_existing = (1 - h) * closed
    closed_by_population = {"existing": closed_existing, "new": closed}
    levers = ScenarioLevers(acquisition_per_month=(50.0, 0.0), new_customer_mrr=100.0)
    customers = book(np.arange(40) * 3, mrr=100.0)           # 100 * 0.8 - 10 = 70
    segment = compile_segment("s", geometric(h), economics, customers, levers=levers,
                              replications=2, seed=1, horizon_months=H)
    expected = expected_values(segment)
    np.testing.assert_allclose(expected.existing_value, closed_existing, rtol=1e-10)
    np.testing.assert_allclose(expected.new_value[:, 0], closed, rtol=1e-10)
    assert closed == pytest.approx(m / (1 - q), rel=1e-9)    # long horizon = infinite sum

    result = simulate({"s": geometric(h)}, pd.concat([customers] * 50, ignore_index=True)
                      .assign(customer_id=lambda f: [f"c{i}" for i in range(len(f))]),
                      economics, levers=ScenarioLevers(acquisition_per_month=(2000.0, 0.0),
                                                       new_customer_mrr=100.0),
                      replications=4, seed=7, horizon_months=H)
    for row in result.segment_summary.itertuples():
        target = closed_by_population[row.population]
        assert abs(row.ltv_mean - target) < 4 * row.ltv_mean_mc_error, row


def test_sbg_discounted_expected_lifetime_fader_hardie():
    fit = shifted_beta_geometric(3.80, 15.20)
    levers = ScenarioLevers(acquisition_per_month=(1.0, 0.0), new_customer_mrr=1.0)
    segment = compile_segment("s", fit, UNIT, book([0]), levers=levers, replications=1,
                              seed=0, horizon_months=400)
    assert segment.monthly_discount_factor == pytest.approx(1 / 1.1, rel=1e-14)
    assert round(float(expected_values(segment).new_value[0, 0]), 3) == PUBLISHED_DEL


def test_sbg_discounted_expected_residual_lifetime_through_tenure():
    """The engine's value of an existing customer is Fader & Hardie's DERL.

    Fader & Hardie (2010, eq. 6) define, for a customer who has made ``n - 1`` renewals
    (``n`` payments, at period starts ``0..n-1``) and is about to decide on the next,
    ``DERL(n) = sum_{t >= n} d^(t-n) S(t) / S(n-1)``: the renewal at ``t = n`` is
    undiscounted and made with probability ``S(n) / S(n-1)``. In the engine, a
    customer with tenure ``a`` (whole months completed at ``as_of``) has made ``a + 1``
    payments, so ``a = n - 1``; it pays in projection month ``c`` with probability
    ``S(a + 1 + c) / S(a) = S(n + c) / S(n - 1)`` at discount weight ``d^c``, which is
    the term ``t = n + c`` of DERL. Hence value(a) = DERL(a + 1) exactly (no extra
    factor ``d``: the first projected payment carries weight ``d^0``). In particular
    value(0) = DERL(1) = (DEL - 1) / d: the new customer's life less its first payment,
    seen one period later.
    """
    fit = shifted_beta_geometric(3.80, 15.20)
    levers = ScenarioLevers(acquisition_per_month=(1.0, 0.0), new_customer_mrr=1.0)
    segment = compile_segment("s", fit, UNIT, book(np.arange(5)), levers=levers,
                              replications=1, seed=0, horizon_months=400)
    expected = expected_values(segment)
    value = expected.existing_value[0]
    assert [round(float(x), 2) for x in value] == list(PUBLISHED_DERL)
    d = segment.monthly_discount_factor
    assert value[0] == pytest.approx((expected.new_value[0, 0] - 1.0) / d, rel=1e-12)


def test_sbg_simulation_reaches_del_and_derl_within_monte_carlo_error():
    fit = shifted_beta_geometric(3.80, 15.20)
    n = 20_000
    tenures = np.repeat(np.arange(5), n)
    customers = book(tenures).assign(segment=[f"renewals_{a}" for a in tenures])
    fits = {f"renewals_{a}": fit for a in range(5)}
    result = simulate(fits, customers, UNIT,
                      levers=ScenarioLevers(acquisition_per_month=(n / 4, 0.0),
                                            new_customer_mrr=1.0),
                      replications=4, seed=3, horizon_months=400)
    summary = result.segment_summary.set_index(["segment", "population"])
    for a in range(5):
        existing = summary.loc[(f"renewals_{a}", "existing")]        # tenure a: DERL(a + 1)
        assert (abs(existing.ltv_mean - PUBLISHED_DERL[a])
                < 4 * existing.ltv_mean_mc_error + 0.005)
        new = summary.loc[(f"renewals_{a}", "new")]
        assert abs(new.ltv_mean - PUBLISHED_DEL) < 4 * new.ltv_mean_mc_error + 0.0005


def test_zero_churn_is_the_annuity_and_payback_is_exact():
    economics = Economics(gross_margin=0.5, cac=250.0, onboarding_cost=50.0,
                          discount_rate_annual=0.08)
    H = 36
    d = economics.monthly_discount_factor
    annuity = 100.0 * (1 - d ** H) / (1 - d)                 # 200 * 0.5 = 100 a month
    result = simulate({"s": geometric(0.0)}, book(np.arange(10), mrr=200.0), economics,
                      levers=ScenarioLevers(acquisition_per_month=(3.0,)),
                      replications=3, seed=1, horizon_months=H)
    summary = result.segment_summary.set_index("population")
    for population in ("existing", "new"):
        assert summary.loc[population, "ltv_mean"] == pytest.approx(annuity, rel=1e-12)
        assert summary.loc[population, "ltv_customer_p5"] == pytest.approx(annuity, rel=1e-12)
    new = summary.loc["new"]
    # CAC and onboarding are paid at t = 0, undiscounted
    assert new.unit_profit_mean == pytest.approx(annuity - 300.0, rel=1e-12)
    assert new.ltv_to_cac == pytest.approx(annuity / 250.0)
    assert new.payback_months_p50 == 3.0                     # 100 + 100 + 100 >= 300
    assert new.p_payback_within_12_months == 1.0
    assert new.p_unit_profit_negative == 0.0
    assert new.status == "profitable"


def test_one_month_horizon_is_one_undiscounted_payment():
    economics = Economics(gross_margin=0.9, support_cost_per_month=20.0, cac=1000.0,
                          discount_rate_annual=0.5)
    h, n_existing, replications = 0.3, 3000, 5
    customers = book(np.tile([0, 5, 9], n_existing // 3), mrr=100.0)
    levers = ScenarioLevers(acquisition_per_month=(4.0,), new_customer_mrr=100.0)
    # an existing customer renews into the one projected month with probability 1 - h
    segment = compile_segment("s", geometric(h), economics, customers, levers=levers,
                              replications=2, seed=2, horizon_months=1)
    np.testing.assert_allclose(expected_values(segment).existing_value, (1 - h) * 70.0,
                               rtol=1e-12)
    result = simulate({"s": geometric(h)}, customers, economics, levers=levers,
                      replications=replications, seed=2, horizon_months=1)
    summary = result.segment_summary.set_index("population")
    # each existing customer is worth 70 or 0: a Bernoulli(1 - h) payment
    bernoulli_error = 70.0 * np.sqrt(h * (1 - h) / (n_existing * replications))
    assert abs(summary.loc["existing", "ltv_mean"] - (1 - h) * 70.0) < 4 * bernoulli_error
    assert summary.loc["new", "ltv_mean"] == pytest.approx(70.0)
    assert summary.loc["new", "unit_profit_customer_p50"] == pytest.approx(-930.0)
    assert summary.loc["new", "p_unit_profit_negative"] == 1.0
    assert summary.loc["new", "status"] == "margin-draining"
