"""Population-specific churn levers, the tenure churn schedule and the extra cost to serve.

Each lever is checked three ways: the expected-value path against a closed form, the
simulation against that closed form within Monte Carlo error, and — with the same seed
(common random numbers) — the simulation against the baseline: a lever that only
changes money leaves every lifetime unchanged, a lever that only raises (lowers) a
hazard can only shorten (lengthen) lifetimes, and a lever on one population leaves the
other bit for bit unchanged.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from doubles import Dynamics, GeometricFit, SpreadFit
from simcore.config import ScenarioConfig
from simcore.economics import Economics
from simcore.engine.accumulators import EXISTING, EXISTING_SUM, NEW, NEW_SUM
from simcore.engine.api import simulate_compiled
from simcore.engine.compile import CompiledBook, compile_segment
from simcore.engine.expected import expected_values
from simcore.engine.levers import ScenarioLevers
from simcore.errors import ConfigError
from simcore.scenarios import levers_for_segment

H = 48
SEED = 17
ECONOMICS = Economics(gross_margin=0.8, support_cost_per_month=10.0, cac=300.0,
                      discount_rate_annual=0.12)
ACTIVE, MRR, CONTRIBUTION = 0, 1, 2


def _book(n=2000, tenure=None, mrr=None):
    rng = np.random.default_rng(8)
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "tenure_months": rng.integers(0, 36, n) if tenure is None else tenure,
        "churned": False, "mrr": rng.gamma(2.0, 60.0, n) if mrr is None else mrr})


def _segment(levers, fit=None, dynamics=None, replications=24, book=None, volume=40.0,
             horizon=H):
    """Compile one segment with ``volume`` new customers a month at MRR 100."""
    levers = replace(levers, acquisition_per_month=(volume,), new_customer_mrr=100.0)
    return compile_segment("smb", fit or SpreadFit(), ECONOMICS,
                           _book() if book is None else book, dynamics=dynamics, levers=levers,
                           replications=replications, seed=SEED, horizon_months=horizon)


def _run(segment):
    from simcore.engine.run import run_segment

    return run_segment(segment, np.uint64(SEED))


def _closed_sum(q, n):
    """``sum_{t<n} q^t``."""
    return n if q == 1.0 else (1.0 - q ** n) / (1.0 - q)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("name", ["churn_hazard_multiplier_existing_by_month",
                                  "churn_hazard_multiplier_new_by_month",
                                  "new_customer_churn_multiplier_by_tenure_month"])
def test_negative_churn_schedules_are_rejected(name):
    with pytest.raises(ConfigError, match=name):
        ScenarioLevers(**{name: (1.0, -0.5)})


def test_negative_extra_cost_is_rejected():
    with pytest.raises(ConfigError, match="extra_cost_to_serve_per_month"):
        ScenarioLevers(extra_cost_to_serve_per_month=-1.0)


# ---------------------------------------------------- existing / new calendar churn


def test_existing_churn_multiplier_closed_form_and_direction():
    h, factor, start = 0.04, 2.0, 3
    levers = ScenarioLevers(churn_hazard_multiplier_existing_by_month=(1.0,) * start + (factor,))
    book = _book(n=4000, tenure=np.full(4000, 5), mrr=np.full(4000, 100.0))
    base = _segment(ScenarioLevers(), fit=GeometricFit(h), book=book)
    shocked = _segment(levers, fit=GeometricFit(h), book=book)

    # An existing customer has paid for its current month; the churn decision before
    # projection month k uses the factor of month k, so it pays in month c with
    # probability (1-h)^(c+1) for c < start, then (1-h)^start (1-2h)^(c+1-start).
    d = ECONOMICS.monthly_discount_factor
    m = 100.0 * 0.8 - 10.0
    q1, q2 = (1 - h) * d, (1 - factor * h) * d
    closed = m * ((1 - h) * _closed_sum(q1, start)
                  + (1 - factor * h) * q1 ** start * _closed_sum(q2, H - start))
    expected = expected_values(shocked)
    np.testing.assert_allclose(expected.existing_value, closed, rtol=1e-12)
    # the new customers' curve is untouched
    np.testing.assert_allclose(expected.new_value, expected_values(base).new_value, rtol=0)

    result = simulate_compiled(CompiledBook((shocked,), SEED, 24, H))
    existing = result.segment_summary.set_index("population").loc["existing"]
    assert abs(existing.ltv_mean - closed) < 4 * existing.ltv_mean_mc_error

    a, b = _run(base), _run(shocked)
    # common random numbers: higher hazard can only end lifetimes earlier ...
    assert np.all(b.monthly[:, EXISTING, ACTIVE] <= a.monthly[:, EXISTING, ACTIVE])
    # ... and the months before the shock are identical (month ``start`` is not: the
    # decision to renew into it already carries the shocked hazard)
    np.testing.assert_array_equal(b.monthly[:, EXISTING, ACTIVE, :start],
                                  a.monthly[:, EXISTING, ACTIVE, :start])
    assert b.monthly[:, EXISTING, ACTIVE, start].sum() < a.monthly[:, EXISTING, ACTIVE, start].sum()
    assert b.monthly[:, EXISTING, ACTIVE, -1].sum() < a.monthly[:, EXISTING, ACTIVE, -1].sum()
    # ... and new customers do not feel it at all
    np.testing.assert_array_equal(b.monthly[:, NEW], a.monthly[:, NEW])
    np.testing.assert_array_equal(b.totals[:, NEW_SUM], a.totals[:, NEW_SUM])


def test_new_churn_multiplier_acts_in_calendar_time_on_new_customers_only():
    h, factor, start = 0.05, 0.5, 6
    levers = ScenarioLevers(churn_hazard_multiplier_new_by_month=(1.0,) * start + (factor,))
    base = _segment(ScenarioLevers(), fit=GeometricFit(h))
    eased = _segment(levers, fit=GeometricFit(h))
    expected = expected_values(eased)
    # cohort c0: the decision after tenure month k is the renewal into calendar month
    # c0 + k + 1, so the factor applies to it from c0 + k + 1 >= start on (the same
    # convention as for existing customers: month c's factor acts on the renewal into c)
    for c0 in (0, 4, 10):
        k_switch = max(start - c0 - 1, 0)
        hand = np.concatenate([[1.0], np.cumprod([1 - h * (factor if c0 + k + 1 >= start else 1.0)
                                                  for k in range(H)])])
        np.testing.assert_allclose(expected.survival_new[0, c0], hand, rtol=1e-13)
        assert expected.survival_new[0, c0, k_switch] == pytest.approx((1 - h) ** k_switch)
    np.testing.assert_allclose(expected.existing_value, expected_values(base).existing_value,
                               rtol=0)

    a, b = _run(base), _run(eased)
    np.testing.assert_array_equal(b.monthly[:, EXISTING], a.monthly[:, EXISTING])
    np.testing.assert_array_equal(b.totals[:, EXISTING_SUM], a.totals[:, EXISTING_SUM])
    assert np.all(b.monthly[:, NEW, ACTIVE] >= a.monthly[:, NEW, ACTIVE])
    assert b.monthly[:, NEW, ACTIVE, -1].sum() > a.monthly[:, NEW, ACTIVE, -1].sum()


# ------------------------------------------------------------ tenure churn schedule


def test_prepay_lock_in_by_tenure_month_closed_form():
    h, locked = 0.06, 12
    levers = ScenarioLevers(new_customer_churn_multiplier_by_tenure_month=(0.0,) * locked + (1.0,))
    segment = _segment(levers, fit=GeometricFit(h), volume=300.0)
    # nobody churns in tenure months 0..11, so S(12) = 1, then geometric again
    d = ECONOMICS.monthly_discount_factor
    m = 100.0 * 0.8 - 10.0
    closed = m * (_closed_sum(d, locked) + d ** locked * _closed_sum((1 - h) * d, H - locked))
    expected = expected_values(segment)
    np.testing.assert_allclose(expected.new_value[:, 0], closed, rtol=1e-12)
    # the tenure schedule follows each customer's own start, whatever the cohort
    np.testing.assert_allclose(expected.survival_new[0, 20, :locked + 1], 1.0)

    accumulators = _run(segment)
    # every customer acquired in months 0..12 still pays in month 12 (S(12) = 1), in every
    # replication; churn resumes after that
    cohort = segment.cohort_counts[0]
    assert np.all(segment.cohort_counts == cohort)
    assert np.all(accumulators.monthly[:, NEW, ACTIVE, locked] == (locked + 1) * cohort)
    assert np.all(accumulators.monthly[:, NEW, ACTIVE, locked + 1] < (locked + 2) * cohort)
    result = simulate_compiled(CompiledBook((segment,), SEED, segment.replications, H))
    new = result.segment_summary.set_index("population").loc["new"]
    weights = segment.cohort_counts / segment.cohort_counts.sum()
    target = float((expected.new_value[0] * weights).sum())
    assert abs(new.ltv_mean - target) < 4 * new.ltv_mean_mc_error
    # existing customers are untouched
    base = _run(_segment(ScenarioLevers(), fit=GeometricFit(h), volume=300.0))
    np.testing.assert_array_equal(accumulators.monthly[:, EXISTING], base.monthly[:, EXISTING])


def test_tenure_schedule_repeats_its_last_value():
    h = 0.05
    short = _segment(ScenarioLevers(new_customer_churn_multiplier_by_tenure_month=(0.5,)),
                     fit=GeometricFit(h))
    expected = expected_values(short)
    np.testing.assert_allclose(expected.survival_new[0, 0], (1 - 0.5 * h) ** np.arange(H + 1),
                               rtol=1e-12)


# ------------------------------------------------------------- extra cost to serve


@pytest.mark.parametrize("dynamics", [None, Dynamics()], ids=["constant", "dynamic"])
def test_extra_cost_to_serve_is_paid_per_active_account_month(dynamics):
    extra = 25.0
    base = _segment(ScenarioLevers(), dynamics=dynamics, replications=12)
    costly = _segment(ScenarioLevers(extra_cost_to_serve_per_month=extra,
                                     cost_to_serve_multiplier_by_month=(1.0,)),
                      dynamics=dynamics, replications=12)
    a, b = _run(base), _run(costly)
    # money only: the same customers are active with the same MRR
    np.testing.assert_array_equal(b.monthly[..., ACTIVE, :], a.monthly[..., ACTIVE, :])
    np.testing.assert_array_equal(b.monthly[..., MRR, :], a.monthly[..., MRR, :])
    # contribution falls by exactly extra x active accounts, month by month, both populations
    np.testing.assert_allclose(a.monthly[..., CONTRIBUTION, :] - b.monthly[..., CONTRIBUTION, :],
                               extra * a.monthly[..., ACTIVE, :], rtol=1e-9, atol=1e-6)
    # existing value falls by extra x sum_c d^c active_c, summed over customers
    discount = base.discount[:H]
    lost = extra * (a.monthly[:, EXISTING, ACTIVE] * discount).sum(axis=1)
    np.testing.assert_allclose(a.totals[:, EXISTING_SUM] - b.totals[:, EXISTING_SUM], lost,
                               rtol=1e-9)


def test_extra_cost_without_churn_is_an_annuity_and_not_scaled_by_cost_multiplier():
    extra = 30.0
    book = _book(n=50, mrr=np.full(50, 100.0))
    doubled = ScenarioLevers(cost_to_serve_multiplier_by_month=(2.0,))
    base = _segment(doubled, fit=GeometricFit(0.0), book=book, replications=3, volume=2.0)
    costly = _segment(replace(doubled, extra_cost_to_serve_per_month=extra),
                      fit=GeometricFit(0.0), book=book, replications=3, volume=2.0)
    d = ECONOMICS.monthly_discount_factor
    annuity = _closed_sum(d, H)
    summaries = [simulate_compiled(CompiledBook((s,), SEED, 3, H)).segment_summary
                 .set_index("population") for s in (base, costly)]
    for population in ("existing", "new"):
        # 100 x 0.8 - 10 x 2 = 60 a month before the extra cost
        assert summaries[0].loc[population, "ltv_mean"] == pytest.approx(60.0 * annuity, rel=1e-12)
        assert summaries[1].loc[population, "ltv_mean"] == pytest.approx((60.0 - extra) * annuity,
                                                                          rel=1e-12)


# --------------------------------------------------------- reference engine agrees


def test_reference_engine_honours_the_new_levers():
    levers = ScenarioLevers(churn_hazard_multiplier_existing_by_month=(1.0, 1.0, 1.8),
                            churn_hazard_multiplier_new_by_month=(0.7,),
                            new_customer_churn_multiplier_by_tenure_month=(0.3,) * 6 + (1.0,),
                            extra_cost_to_serve_per_month=12.0)
    segment = _segment(levers, book=_book(n=600), replications=40, volume=15.0, horizon=30)
    book = CompiledBook((segment,), SEED, 40, 30)
    engine = simulate_compiled(book, method="engine").segment_summary.set_index("population")
    reference = simulate_compiled(book, method="reference").segment_summary.set_index("population")
    expected = expected_values(segment)
    weights = segment.cohort_counts / segment.cohort_counts.sum()
    targets = {"existing": expected.existing_value.mean(),
               "new": (expected.new_value * weights).sum(axis=1).mean()}
    for population, target in targets.items():
        for summary in (engine, reference):
            row = summary.loc[population]
            assert abs(row.ltv_mean - target) < 4.5 * row.ltv_mean_mc_error, population


# ------------------------------------------------------------ scenarios -> levers


def _scenario_segment(scenario_fields, dynamics=None):
    levers = levers_for_segment(ScenarioConfig(name="s", **scenario_fields), "smb", H)
    return _segment(levers, dynamics=dynamics)


@pytest.mark.parametrize("dynamics", [None, Dynamics()], ids=["constant", "dynamic"])
def test_scenario_price_rise_without_elasticity_raises_mrr_exactly(dynamics):
    base = _run(_scenario_segment({}, dynamics))
    pricier = _run(_scenario_segment({"price_change": {"pct": 0.10, "from_month": 3}}, dynamics))
    np.testing.assert_array_equal(pricier.monthly[..., ACTIVE, :], base.monthly[..., ACTIVE, :])
    existing_mrr = (pricier.monthly[:, EXISTING, MRR], base.monthly[:, EXISTING, MRR])
    np.testing.assert_array_equal(existing_mrr[0][:, :3], existing_mrr[1][:, :3])
    np.testing.assert_allclose(existing_mrr[0][:, 3:], 1.10 * existing_mrr[1][:, 3:], rtol=1e-12)


def test_scenario_elasticity_discount_and_cs_coverage_move_the_engine():
    base = _run(_scenario_segment({}))
    elastic = _run(_scenario_segment({"price_change": {"pct": 0.10, "from_month": 3,
                                                       "applies_to": "existing"},
                                      "price_elasticity_of_churn": 2.0}))
    # existing customers churn more from month 3; new customers are untouched
    assert np.all(elastic.monthly[:, EXISTING, ACTIVE] <= base.monthly[:, EXISTING, ACTIVE])
    assert elastic.monthly[:, EXISTING, ACTIVE].sum() < base.monthly[:, EXISTING, ACTIVE].sum()
    np.testing.assert_array_equal(elastic.monthly[:, NEW], base.monthly[:, NEW])

    prepay = _run(_scenario_segment({"discount": {"pct": 0.15, "duration_months": 12,
                                                  "churn_multiplier": 0.2}}))
    assert np.all(prepay.monthly[:, NEW, ACTIVE] >= base.monthly[:, NEW, ACTIVE])
    assert prepay.monthly[:, NEW, ACTIVE].sum() > base.monthly[:, NEW, ACTIVE].sum()
    np.testing.assert_array_equal(prepay.monthly[:, EXISTING], base.monthly[:, EXISTING])

    csm = _run(_scenario_segment({"cs_coverage": {"accounts_per_csm": 50,
                                                  "cost_per_csm_per_year": 90_000}}))
    # 90,000 / 12 / 50 = 150 per account-month, nothing else changes
    np.testing.assert_array_equal(csm.monthly[..., ACTIVE, :], base.monthly[..., ACTIVE, :])
    np.testing.assert_allclose(base.monthly[..., CONTRIBUTION, :] - csm.monthly[..., CONTRIBUTION, :],
                               150.0 * base.monthly[..., ACTIVE, :], rtol=1e-9, atol=1e-6)
