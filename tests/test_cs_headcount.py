"""CSMs needed from the engine's paths: the covered accounts are the projection's own
accounts, every path's headcount is ``ceil(active / accounts_per_csm)``, moves at reviews
agree with their expectation, and the hiring plan hires as late as the ramp-up allows."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.cs.accounts import account_values
from simcore.cs.classify import ClassRule
from simcore.cs.evaluate import Evaluator
from simcore.cs.headcount import hiring_plan
from simcore.cs.inputs import plan_inputs
from simcore.cs.tiers import TierSpec, configured_policy, tier_specs
from tests.cs_books import make_project, tier

R, SEED, PLANNING = 60, 5, 24
NEW = {"large": 3, "small": 10}


def _projection(run, scenario: str, segment: str):
    rows = run.projection.query("scenario == @scenario and segment == @segment and population == 'all' "
                                "and metric == 'active_customers' and month < @PLANNING")
    return rows.sort_values("month")


@pytest.mark.parametrize("churn", [1.0, 0.8])
def test_plan_percentiles_are_the_projections_and_every_path_is_ceil_of_active(churn):
    """A tier taking every account of 'large' (existing and new) with churn factor
    ``churn``: its covered accounts are the projection's active customers of 'large' under
    the equivalent cs_coverage scenario, path by path, so P10/P50/P90 agree exactly."""
    plan = {"tiers": [tier("team", rule={"segments": ["large"]}, churn_multiplier=churn, accounts_per_csm=7)],
            "planning_months": PLANNING, "review_every_months": 3}
    scenario = {"name": "covered", "cs_coverage": {"segments": ["large"], "accounts_per_csm": 7,
                                                   "cost_per_csm_per_year": 60000, "churn_multiplier": churn}}
    project = make_project(cs_plan=plan, new_per_month=NEW, scenarios=[scenario])
    result = project.plan_cs(replications=R, seed=SEED)
    run = project.simulate(replications=R, seed=SEED)
    monthly = result.cs_plan_headcount_monthly.query("plan == 'current' and tier == 'team'").sort_values("month")
    projection = _projection(run, "covered", "large")
    for q in ("p10", "p50", "p90"):
        np.testing.assert_array_equal(monthly[f"covered_accounts_{q}"].to_numpy(), projection[q].to_numpy())
    np.testing.assert_allclose(monthly["covered_accounts_mean"].to_numpy(), projection["mean"].to_numpy(),
                               rtol=1e-12)
    # Path by path: the engine's active accounts of 'large' in the same scenario.
    active = run.simulations["covered"].accumulators["large"].monthly[:, :, 0, :PLANNING].sum(axis=1)
    paths = result.paths["current"]
    np.testing.assert_array_equal(paths.covered[0], active)
    expected = np.array([[int(np.ceil(a / 7)) for a in row] for row in active])
    np.testing.assert_array_equal(paths.csms[0], expected)
    np.testing.assert_array_equal(monthly["csms_needed_p90"].to_numpy(),
                                  np.ceil(projection["p90"].to_numpy() / 7).astype(int))
    if churn == 1.0:   # with no effect the baseline's own projection
        np.testing.assert_array_equal(monthly["covered_accounts_p90"].to_numpy(),
                                      _projection(run, "baseline", "large")["p90"].to_numpy())


def test_moves_at_reviews_agree_with_their_expectation():
    """A threshold that new and young accounts cross only after some reviews: the paths
    the engine simulates (calendar schedules for existing accounts, one acquisition month
    at a time for new ones) average to the analytic expectation of covered accounts."""
    R_many = 400
    probe = make_project(new_per_month=NEW, cs_plan={"tiers": [tier("team")], "planning_months": PLANNING})
    inputs = plan_inputs(probe, replications=R_many, seed=SEED)
    state = account_values(inputs, ClassRule(), review_every_months=6, review_window_months=PLANNING,
                           include_new=True).state
    new_large = state.profit[state.is_new & (state.segment == state.segments.index("large"))][0]
    assert new_large[2] > new_large[0]          # survivors are worth more: new accounts graduate
    threshold = float((new_large[0] + new_large[2]) / 2)
    plan = {"tiers": [tier("team", rule={"min_expected_profit": threshold, "segments": ["large"]},
                           churn_multiplier=0.7, accounts_per_csm=5)],
            "planning_months": PLANNING, "review_every_months": 6}
    project = make_project(cs_plan=plan, new_per_month=NEW)
    result = project.plan_cs(replications=R_many, seed=SEED)
    assignments = result.cs_plan_assignments
    new_row = assignments[assignments["customer_id"] == "(new large accounts)"].iloc[0]
    assert new_row.path_current.startswith("none, team from tenure month")
    assert assignments["path_current"].str.contains("team from month").any()   # existing accounts move too

    inputs = plan_inputs(project, replications=R_many, seed=SEED)
    state = account_values(inputs, ClassRule(), review_every_months=6, review_window_months=PLANNING,
                           include_new=True).state
    specs = tier_specs(project.config.cs_plan)
    evaluation = Evaluator(inputs, state, specs, review_every_months=6, planning_months=PLANNING).evaluate(
        configured_policy(specs, state))
    simulated = result.paths["current"].covered[0]
    error = simulated.std(axis=0, ddof=1) / np.sqrt(R_many)
    assert np.all(np.abs(simulated.mean(axis=0) - evaluation.covered[0]) <= 4 * error + 1e-9)
    assert evaluation.covered[0][-1] > evaluation.covered[0][0]


def _spec(**values) -> TierSpec:
    base = dict(name="t", accounts_per_csm=10, cost_per_csm_per_year=120000, ramp_up_months=0,
                starting_headcount=0, churn_multiplier=1.0, expansion_multiplier=1.0)
    return TierSpec(**{**base, **values})


def test_hiring_without_ramp_up_follows_the_running_peak_and_never_lays_off():
    plan = hiring_plan(np.array([3, 5, 4, 4, 7, 2]), _spec(starting_headcount=4))
    assert plan.hires.tolist() == [0, 1, 0, 0, 2, 0]
    assert plan.employed.tolist() == [4, 5, 5, 5, 7, 7]
    assert plan.productive.tolist() == plan.employed.tolist()
    assert plan.gap.tolist() == [0] * 6
    assert plan.cost.tolist() == [e * 10000.0 for e in plan.employed]


def test_hiring_with_ramp_up_hires_ahead_and_shows_the_gap_it_cannot_close():
    plan = hiring_plan(np.array([6, 6, 8, 8, 9, 9, 9]), _spec(starting_headcount=5, ramp_up_months=2))
    # Month c hires what month c + 2 needs; needs of months 0-1 beyond 5 cannot be met.
    assert plan.hires.tolist() == [3, 0, 1, 0, 0, 0, 0]
    assert plan.employed.tolist() == [8, 8, 9, 9, 9, 9, 9]
    assert plan.productive.tolist() == [5, 5, 8, 8, 9, 9, 9]
    assert plan.gap.tolist() == [1, 1, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("staff_to", ["p50", "p90"])
def test_quarterly_table_takes_each_quarters_largest_month(staff_to):
    plan = {"tiers": [tier("team", rule={"segments": ["large"]}, accounts_per_csm=4, ramp_up_months=1,
                           starting_headcount=3)], "planning_months": 12, "staff_to": staff_to}
    result = make_project(cs_plan=plan, new_per_month=NEW).plan_cs(replications=R, seed=SEED)
    monthly = result.cs_plan_headcount_monthly.query("plan == 'current' and tier == 'team'")
    quarterly = result.cs_plan_headcount_quarterly.query("plan == 'current' and tier == 'team'")
    assert len(quarterly) == 4
    for q, rows in monthly.groupby(monthly["month"] // 3):
        row = quarterly.iloc[int(q)]
        assert row.csms_needed_p90 == rows["csms_needed_p90"].max()
        assert row.csms_needed_p50 == rows["csms_needed_p50"].max()
        assert row.hires == rows["hires"].sum()
        assert row.employed_at_end == rows["employed"].iloc[-1]
        assert row.cost == pytest.approx(rows["cost"].sum())
    assert (monthly["staff_target"] == monthly[f"csms_needed_{staff_to}"]).all()
    total = result.cs_plan_headcount_monthly.query("plan == 'current' and tier == '(all tiers)'")
    np.testing.assert_array_equal(total["csms_needed_p90"].to_numpy(), monthly["csms_needed_p90"].to_numpy())
