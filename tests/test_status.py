"""Estimates with their interval, the status rule, the blended row, and a Monte Carlo error
that matches the spread of the estimate across seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.economics import Economics
from simcore.economics.status import StatusRule
from simcore.engine.api import simulate



class GeometricFit:
    """Constant monthly churn hazard in every parameter draw."""

    def __init__(self, hazard: float):
        self.hazard = hazard

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        return np.tile((1.0 - self.hazard) ** np.arange(n_months + 1), (n_draws, 1))


class SpreadGeometricFit:
    """A constant monthly hazard that itself is uncertain: one draw per replication from
    a lognormal around ``hazard`` (parameter uncertainty, as a fitted curve has)."""

    def __init__(self, hazard: float, spread: float):
        self.hazard, self.spread = hazard, spread

    def survival_draws(self, n_draws, n_months, seed, method="asymptotic"):
        rng = np.random.Generator(np.random.PCG64(seed))
        hazards = np.clip(self.hazard * np.exp(self.spread * rng.standard_normal(n_draws)), 0.0, 1.0)
        return (1.0 - hazards[:, None]) ** np.arange(n_months + 1)[None, :]


def book(n: int = 200, segment: str = "s") -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"{segment}{i}" for i in range(n)], "tenure_months": np.arange(n) % 24,
                         "churned": False, "mrr": 100.0, "segment": segment})


def test_the_rule_follows_the_expected_value_and_its_interval():
    rule = StatusRule(loss_probability_above=0.25)
    assert rule.status(-10, -20, -1, 0.9) == "margin-draining"
    assert rule.status(-10, -20, 5, 0.9) == "marginal"  # the interval straddles 0
    assert rule.status(10, 5, 15, 0.30) == "marginal"  # too many customers lose money
    assert rule.status(10, 5, 15, 0.20) == "profitable"
    assert StatusRule(loss_probability_above=0.4).status(10, 5, 15, 0.30) == "profitable"
    assert rule.status(10, 5, 15, 0.0, acquisition_cost_given=False) == "no CAC given"
    assert rule.status(float("nan"), 0, 1, 0.0) == "unknown"


def test_a_negative_median_does_not_make_a_profitable_mean_margin_draining():
    # High churn, so most customers leave before paying back; the few who stay are worth
    # a lot: median unit profit < 0 < mean.
    economics = Economics(gross_margin=1.0, cac=600.0, discount_rate_annual=0.0, default_mrr=100.0)
    fits = {"s": SpreadGeometricFit(0.15, 0.05)}
    from simcore.engine.levers import ScenarioLevers

    result = simulate(fits, book(), economics, levers=ScenarioLevers(acquisition_per_month=(20.0,)),
                      replications=200, seed=3, horizon_months=120, include_existing=False)
    new = result.segment_summary.set_index("population").loc["new"]
    assert new["unit_profit_customer_p50"] < 0 < new["unit_profit_mean_lower_90"]
    assert new["status"] == "marginal"  # P(loss) > 25%, never "margin-draining" by the median


def test_mc_error_matches_the_spread_of_the_estimate_across_seeds():
    economics = Economics(gross_margin=0.8, support_cost_per_month=5.0, cac=200.0, default_mrr=100.0)
    fits = {"s": SpreadGeometricFit(0.05, 0.3)}
    rows = [simulate(fits, book(), economics, levers=None, replications=100, seed=seed, horizon_months=60,
                     include_new=False).segment_summary.iloc[0] for seed in range(12)]
    means = np.array([r["ltv_mean"] for r in rows])
    errors = np.array([r["ltv_mean_mc_error"] for r in rows])
    # The replication-level error predicts how far another seed moves the estimate.
    assert 0.5 < means.std(ddof=1) / errors.mean() < 2.0
    # Treating every simulated customer as independent would understate it: customers of
    # one replication share its parameter draw.
    row = rows[0]
    naive = (row["ltv_customer_p95"] - row["ltv_customer_p5"]) / 3.29 / np.sqrt(100 * len(book()))
    assert errors.mean() > 3 * naive
    # The estimate's interval (across replications) is far narrower than the customer spread.
    assert row["ltv_mean_upper_90"] - row["ltv_mean_lower_90"] < 0.5 * (row["ltv_customer_p95"] - row["ltv_customer_p5"])
    assert row["ltv_mean_lower_90"] < row["ltv_mean"] < row["ltv_mean_upper_90"]


def test_a_segment_without_acquisition_cost_is_not_called_profitable():
    economics = Economics(gross_margin=0.8, default_mrr=100.0)
    from simcore.engine.levers import ScenarioLevers

    result = simulate({"s": GeometricFit(0.05)}, book(), economics, replications=20, seed=1, horizon_months=36,
                      acquisition_cost_given={"s": False}, include_existing=False,
                      levers=ScenarioLevers(acquisition_per_month=(5.0,)))
    new = result.segment_summary.set_index("population").loc["new"]
    assert new["customers"] > 0 and new["status"] == "no CAC given"
    assert np.isnan(new["payback_months_p50"]) and np.isnan(new["ltv_to_cac"])


def test_blended_row_pools_segments_and_hides_a_draining_one():
    economics = {"good": Economics(gross_margin=0.8, cac=500.0, default_mrr=200.0),
                 "bad": Economics(gross_margin=0.8, support_cost_per_month=90.0, cac=800.0, default_mrr=100.0)}
    customers = pd.concat([book(300, "good"), book(100, "bad")], ignore_index=True)
    customers.loc[customers.segment == "good", "mrr"] = 200.0
    fits = {"good": GeometricFit(0.02), "bad": GeometricFit(0.05)}
    from simcore.engine.levers import ScenarioLevers

    levers = {"good": ScenarioLevers(acquisition_per_month=(30.0,)), "bad": ScenarioLevers(acquisition_per_month=(3.0,))}
    result = simulate(fits, customers, economics, levers=levers, replications=40, seed=2, horizon_months=60)
    summary = result.segment_summary.set_index(["segment", "population"])
    good, bad, blended = (summary.loc[(s, "new")] for s in ("good", "bad", "(all segments)"))
    assert bad["status"] == "margin-draining" and blended["status"] == "profitable"
    # Pooled over customers: weights 10:1 by volume.
    assert blended["cac"] == pytest.approx((10 * 500 + 800) / 11)
    assert blended["ltv_mean"] == pytest.approx((10 * good["ltv_mean"] + bad["ltv_mean"]) / 11, rel=1e-9)
    assert blended["unit_profit_mean"] == pytest.approx(
        (10 * good["unit_profit_mean"] + bad["unit_profit_mean"]) / 11, rel=1e-9)
    assert blended["p_unit_profit_negative"] == pytest.approx(
        (10 * good["p_unit_profit_negative"] + bad["p_unit_profit_negative"]) / 11)
    assert bad["ltv_customer_p50"] < blended["ltv_customer_p50"] < good["ltv_customer_p95"]
