"""The customer-success optimiser against brute force.

Per-account gains of coverage are computed independently of the plan's code, by the
engine's deterministic path (:func:`simcore.engine.expected.expected_values`) with the
tier's levers against none; a brute-force search then tries every threshold (every
account's expected profit, and "nobody"). Reviews are switched off (one review) so that
an assignment is a set of accounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.cs.evaluate import Cap, Evaluator
from simcore.cs.optimise import optimise
from simcore.cs.tiers import Policy, nobody, tier_specs
from simcore.engine.compile import compile_segment
from simcore.engine.expected import expected_values
from simcore.engine.levers import ScenarioLevers
from tests.cs_books import cs_book, make_project, tier

R, SEED = 40, 7


def engine_values(project, levers: dict) -> pd.DataFrame:
    """Per active account: expected value without and with the tier's levers, and the
    probability of paying in each of the first 12 months with them (engine's path)."""
    fit, economics, customers = project.fit(), project.economics(), project.book().customers
    H = project.config.horizon_months
    frames = []
    for segment in project.book().segments:
        rows = customers[customers["segment"] == segment]
        model = fit.fits.results[segment].survival_model()

        def compiled(**extra):
            return expected_values(compile_segment(
                segment, model, economics.economics[segment], rows,
                levers=ScenarioLevers(acquisition_per_month=(0.0,), **extra), replications=R, seed=SEED,
                horizon_months=H, draw_method=None))

        base, covered = compiled(), compiled(**levers)
        active = rows[~rows["churned"].astype(bool)]
        order = np.argsort(active["tenure_months"].to_numpy(), kind="stable")
        groups = np.unique(active["tenure_months"].to_numpy(), return_inverse=True)[1].reshape(-1)[order]
        paid = covered.survival_existing[:, groups, 1:13].mean(axis=0)         # (N, 12)
        frames.append(pd.DataFrame({
            "customer_id": active["customer_id"].to_numpy()[order], "segment": segment,
            "base": base.existing_value.mean(axis=0), "covered": covered.existing_value.mean(axis=0),
            **{f"paid_{c}": paid[:, c] for c in range(12)}}))
    return pd.concat(frames, ignore_index=True)


def one_tier_plan(churn: float, cost: float, *, per_csm: int = 20, **optimise_options) -> dict:
    return {"tiers": [tier("csm", churn_multiplier=churn, cost_per_csm_per_year=cost, accounts_per_csm=per_csm)],
            "review_every_months": 12, "planning_months": 12, "include_new_accounts": False,
            "optimise": {"candidates": 400, **optimise_options}}


def test_zero_effect_puts_nobody_in_a_paid_tier(cs_project=make_project):
    plan = {"tiers": [tier("dedicated", accounts_per_csm=10, cost_per_csm_per_year=90000),
                      tier("pooled", accounts_per_csm=200, cost_per_csm_per_year=50000),
                      tier("free", cost_per_csm_per_year=0)],
            "planning_months": 12}
    result = cs_project(cs_plan=plan, new_per_month={"large": 2, "small": 5}).plan_cs(replications=R, seed=SEED)
    assignments = result.cs_plan_assignments
    assert (assignments["tier_optimised"] == "none").all()
    thresholds = result.cs_plan_thresholds
    assert np.isinf(thresholds["threshold_optimised"]).all()
    optimised = result.cs_plan_roi.query("plan == 'optimised' and tier == '(all tiers)'").iloc[0]
    assert optimised.net_gain_mean == 0.0 and optimised.accounts_at_start == 0
    monthly = result.cs_plan_headcount_monthly.query("plan == 'optimised'")
    assert (monthly["csms_needed_p90"] == 0).all() and (monthly["covered_accounts_p90"] == 0).all()
    # The configured rules (every account in "dedicated") cost money for nothing.
    current = result.cs_plan_roi.query("plan == 'current' and tier == '(all tiers)'").iloc[0]
    assert current.net_gain_mean < 0


@pytest.mark.parametrize("candidates", [400, 8])
def test_threshold_matches_brute_force(candidates):
    churn, cost = 0.5, 60000.0            # 250 per covered account-month
    project = make_project(cs_plan=one_tier_plan(churn, cost, candidates=candidates))
    result = project.plan_cs(replications=R, seed=SEED)
    accounts = project.accounts(replications=R, seed=SEED).table
    values = engine_values(project, {"churn_hazard_multiplier_existing_by_month": (churn,),
                                     "extra_cost_to_serve_per_month": cost / 12 / 20})
    frame = accounts.merge(values, on=["customer_id", "segment"])
    assert len(frame) == len(accounts)
    gain = (frame["covered"] - frame["base"]).to_numpy()
    profit = frame["expected_profit"].to_numpy()
    thresholds = np.concatenate([np.unique(profit), [np.inf]])
    totals = np.array([gain[profit >= theta].sum() for theta in thresholds])
    best = thresholds[np.flatnonzero(totals >= totals.max() - 1e-9 * abs(totals.max()))[-1]]
    assert 0 < (profit >= best).sum() < len(profit)     # a real trade-off: some accounts, not all
    covered = set(frame.loc[profit >= best, "customer_id"])
    chosen = result.cs_plan_assignments.set_index("customer_id")["tier_optimised"]
    assert set(chosen[chosen == "csm"].index) == covered
    optimised = result.cs_plan_roi.query("plan == 'optimised' and tier == '(all tiers)'").iloc[0]
    assert optimised.net_gain_mean == pytest.approx(totals.max(), rel=1e-9)
    # The last CSM's marginal profit: the 20 covered accounts of lowest expected profit.
    lowest = np.argsort(np.where(profit >= best, profit, np.inf))[:20]
    tier_row = result.cs_plan_roi.query("plan == 'optimised' and tier == 'csm'").iloc[0]
    assert tier_row.marginal_csm_net_gain == pytest.approx(gain[lowest].sum(), rel=1e-9)
    # A uniform playbook covers everyone.
    uniform = result.cs_plan_roi.query("plan == 'uniform: csm'").iloc[0]
    assert uniform.net_gain_mean == pytest.approx(gain.sum(), rel=1e-9)


def test_headcount_cap_matches_brute_force():
    churn, cost, per_csm, cap = 0.5, 30000.0, 10, 6
    project = make_project(cs_plan=one_tier_plan(churn, cost, per_csm=per_csm, headcount=cap))
    result = project.plan_cs(replications=R, seed=SEED)
    accounts = project.accounts(replications=R, seed=SEED).table
    values = engine_values(project, {"churn_hazard_multiplier_existing_by_month": (churn,),
                                     "extra_cost_to_serve_per_month": cost / 12 / per_csm})
    frame = accounts.merge(values, on=["customer_id", "segment"])
    gain = (frame["covered"] - frame["base"]).to_numpy()
    profit = frame["expected_profit"].to_numpy()
    paid = frame[[f"paid_{c}" for c in range(12)]].to_numpy()
    best_total, best_theta = 0.0, np.inf
    for theta in np.unique(profit)[::-1]:
        members = profit >= theta
        # Month 0 is a renewal too: an account covered at the start is active in month c
        # with the probability of paying in month c.
        csms = np.ceil(paid[members].sum(axis=0) / per_csm - 1e-9).max()
        total = gain[members].sum()
        if csms <= cap and total > best_total + 1e-9 * abs(best_total):
            best_total, best_theta = total, theta
    unconstrained = gain[gain > 0].sum()
    assert best_total < unconstrained                      # the cap binds
    optimised = result.cs_plan_roi.query("plan == 'optimised' and tier == '(all tiers)'").iloc[0]
    assert optimised.net_gain_mean == pytest.approx(best_total, rel=1e-9)
    assert optimised.peak_csms_expected <= cap and optimised.within_cap
    chosen = result.cs_plan_assignments.set_index("customer_id")["tier_optimised"]
    assert set(chosen[chosen == "csm"].index) == set(frame.loc[profit >= best_theta, "customer_id"])
    assert result.manifest["cap_binding"]


def test_search_with_two_tiers_under_a_budget_matches_exhaustive_search():
    book = cs_book(seed=11, segments={"large": (40, 1.2, 14.0, 2500.0, 0.7, 300.0),
                                      "small": (70, 1.0, 5.0, 90.0, 0.5, 15.0)})
    plan = {"tiers": [tier("dedicated", churn_multiplier=0.5, expansion_multiplier=1.0, accounts_per_csm=5,
                           cost_per_csm_per_year=40000),
                      tier("pooled", churn_multiplier=0.8, accounts_per_csm=25, cost_per_csm_per_year=20000)],
            "review_every_months": 12, "planning_months": 12, "include_new_accounts": False,
            "optimise": {"candidates": 400, "budget_per_year": 120000}}
    project = make_project(book, cs_plan=plan)
    result = project.plan_cs(replications=R, seed=SEED)
    from simcore.cs.accounts import account_values
    from simcore.cs.classify import ClassRule
    from simcore.cs.inputs import plan_inputs

    inputs = plan_inputs(project, replications=R, seed=SEED)
    values = account_values(inputs, ClassRule(), review_every_months=12, review_window_months=12)
    specs = tier_specs(project.config.cs_plan)
    evaluator = Evaluator(inputs, values.state, specs, review_every_months=12, planning_months=12,
                          cap=Cap(budget_per_year=120000))
    grid = np.concatenate([np.unique(values.state.profit[:, 0]), [np.inf]])
    best = max((e for e in (evaluator.evaluate(Policy("x", np.array([[a] * 2, [b] * 2])))
                            for a in grid for b in grid) if e.feasible), key=lambda e: e.net_gain)
    optimised = result.cs_plan_roi.query("plan == 'optimised' and tier == '(all tiers)'").iloc[0]
    assert optimised.net_gain_mean == pytest.approx(best.net_gain, rel=1e-9)


def test_same_seed_same_plan_and_candidates_share_their_draws():
    plan = one_tier_plan(0.6, 60000.0)
    first = make_project(cs_plan=plan).plan_cs(replications=R, seed=SEED)
    second = make_project(cs_plan=plan).plan_cs(replications=R, seed=SEED)
    for name in first.tables:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    other = make_project(cs_plan=plan).plan_cs(replications=R, seed=SEED + 1)
    assert not first.cs_plan_roi["net_gain_mean"].equals(other.cs_plan_roi["net_gain_mean"])

    # Two candidates that differ by one account differ, on every replication, by exactly
    # that account's gain: the same draws value both (common random numbers).
    project = make_project(cs_plan=plan)
    from simcore.cs.accounts import account_values
    from simcore.cs.classify import ClassRule
    from simcore.cs.inputs import plan_inputs

    inputs = plan_inputs(project, replications=R, seed=SEED)
    state = account_values(inputs, ClassRule(), review_every_months=12, review_window_months=12).state
    specs = tier_specs(project.config.cs_plan)
    evaluator = Evaluator(inputs, state, specs, review_every_months=12, planning_months=12)
    profits = np.sort(state.profit[:, 0])[::-1]
    high, low = profits[10], profits[11]
    a = evaluator.evaluate(Policy("a", np.full((1, 2), high)))
    b = evaluator.evaluate(Policy("b", np.full((1, 2), low)))
    [added] = np.flatnonzero(state.profit[:, 0] == low)
    difference = evaluator.draws(b.reviews).gain.sum(axis=0) - evaluator.draws(a.reviews).gain.sum(axis=0)
    # That account's own gain per replication, from its two paths directly.
    from simcore.cs.values import existing_path

    segment = inputs.segments[state.segments[state.segment[added]]]
    H, tenure = segment.horizon_months, int(state.tenure[added])
    share = specs[0].cost_per_account_month
    ones = np.ones(H)
    covered = existing_path(segment, tenure, 0.6 * ones, ones, share * ones, 12)
    bare = existing_path(segment, tenure, ones, ones, 0 * ones, 12)
    own = covered.value(state.mrr[added], state.cost[added]) - bare.value(state.mrr[added], state.cost[added])
    np.testing.assert_allclose(difference, own, rtol=1e-8, atol=1e-6)
    assert b.net_gain - a.net_gain == pytest.approx(own.mean(), rel=1e-8)
    none = evaluator.evaluate(nobody(specs, state))
    assert none.net_gain == 0.0 and none.cs_cost == 0.0


def test_optimiser_keeps_nobody_when_coverage_is_free_but_useless():
    plan = one_tier_plan(1.0, 0.0)
    result = make_project(cs_plan=plan).plan_cs(replications=R, seed=SEED)
    assert (result.cs_plan_assignments["tier_optimised"] == "none").all()


def test_optimise_function_reports_current_and_uniform():
    project = make_project(cs_plan=one_tier_plan(0.5, 60000.0))
    from simcore.cs.accounts import account_values
    from simcore.cs.classify import ClassRule
    from simcore.cs.inputs import plan_inputs

    inputs = plan_inputs(project, replications=R, seed=SEED)
    state = account_values(inputs, ClassRule(), review_every_months=12, review_window_months=12).state
    evaluator = Evaluator(inputs, state, tier_specs(project.config.cs_plan), review_every_months=12,
                          planning_months=12)
    found = optimise(evaluator, candidates=400)
    assert found.best.net_gain >= max(found.current.net_gain, found.uniform[0].net_gain, 0.0)
    assert found.best.policy.name == "optimised" and found.evaluations > 0


def test_thresholds_per_segment_match_brute_force_segment_by_segment():
    churn, cost = 0.5, 60000.0
    project = make_project(cs_plan=one_tier_plan(churn, cost, per_segment=True))
    result = project.plan_cs(replications=R, seed=SEED)
    accounts = project.accounts(replications=R, seed=SEED).table
    values = engine_values(project, {"churn_hazard_multiplier_existing_by_month": (churn,),
                                     "extra_cost_to_serve_per_month": cost / 12 / 20})
    frame = accounts.merge(values, on=["customer_id", "segment"]).assign(gain=lambda f: f["covered"] - f["base"])
    covered, best_total = set(), 0.0
    for _, rows in frame.groupby("segment"):
        profit, gain = rows["expected_profit"].to_numpy(), rows["gain"].to_numpy()
        thresholds = np.concatenate([np.unique(profit), [np.inf]])
        totals = np.array([gain[profit >= theta].sum() for theta in thresholds])
        best = thresholds[np.flatnonzero(totals >= totals.max() - 1e-9 * abs(totals.max()))[-1]]
        covered |= set(rows.loc[profit >= best, "customer_id"])
        best_total += totals.max()
    chosen = result.cs_plan_assignments.set_index("customer_id")["tier_optimised"]
    assert set(chosen[chosen == "csm"].index) == covered
    optimised = result.cs_plan_roi.query("plan == 'optimised' and tier == '(all tiers)'").iloc[0]
    assert optimised.net_gain_mean == pytest.approx(best_total, rel=1e-9)
    thresholds = result.cs_plan_thresholds.set_index("segment")["threshold_optimised"]
    assert thresholds["large"] != thresholds["small"]


def test_top_share_takes_that_share_of_the_accounts_its_other_conditions_admit():
    plan = {"tiers": [tier("top", rule={"top_share": "25%", "segments": ["large"]})], "planning_months": 6}
    project = make_project(cs_plan=plan)
    result = project.plan_cs(replications=R, seed=SEED)
    accounts = project.accounts(replications=R, seed=SEED).table
    large = accounts[accounts["segment"] == "large"]
    expected = int(np.ceil(0.25 * len(large)))
    assert (accounts["tier"] == "top").sum() == expected
    assert set(accounts.loc[accounts["tier"] == "top", "customer_id"]) == \
        set(large.nlargest(expected, "expected_profit")["customer_id"])
    row = result.cs_plan_thresholds.query("segment == 'large'").iloc[0]
    assert row.accounts_at_start_current == expected
    assert row.threshold_current == pytest.approx(large["expected_profit"].nlargest(expected).min())
