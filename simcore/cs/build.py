"""Assemble a customer-success plan from its inputs: value, optimise, simulate, tabulate."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from simcore.cs.accounts import account_values
from simcore.cs.classify import ClassRule
from simcore.cs.evaluate import Cap, Evaluator
from simcore.cs.headcount import simulate_headcount
from simcore.cs.optimise import marginal_csm, optimise
from simcore.cs.result import CSPlanResult
from simcore.cs.tables import ALL_TIERS, assignments_table, headcount_tables, roi_rows, threshold_table
from simcore.cs.tiers import tier_specs
from simcore.errors import Problem

#: What "move" means, in every plan's assumptions.
MOVES = ("accounts are re-assigned at every review on their then-current expected profit and class (tenure advanced, "
         "MRR at its expected value, without customer success); between reviews and after the planning window they "
         "keep their tier; churned accounts leave it; new accounts are assigned at acquisition and reviewed on their "
         "own tenure")
COST = ("the CS cost of a covered account is its share of a CSM, cost_per_csm_per_year / 12 / accounts_per_csm, in "
        "every month it is active, discounted like its contribution; the headcount plan counts whole CSMs per path")


def build_plan(project, inputs, plan, cap: Cap, steps, timings: dict, manifest, executor=None) -> CSPlanResult:
    """See :func:`simcore.cs.plan.plan_cs`."""
    from simcore.executors import executor_for

    config = project.config
    currency = config.economics.currency
    rule = ClassRule.from_config(plan.classification)
    specs = tier_specs(plan)
    mark = time.perf_counter()
    values = account_values(inputs, rule, review_every_months=plan.review_every_months,
                            review_window_months=plan.planning_months, include_new=plan.include_new_accounts)
    state = values.state
    evaluator = Evaluator(inputs, state, specs, review_every_months=plan.review_every_months,
                          planning_months=plan.planning_months, cap=cap)
    timings["accounts_s"] = time.perf_counter() - mark
    steps.advance("valued every account")
    mark = time.perf_counter()
    found = optimise(evaluator, per_segment=plan.optimise.per_segment, candidates=plan.optimise.candidates)
    timings["optimise_s"] = time.perf_counter() - mark
    steps.advance(f"optimised the thresholds ({found.evaluations:,} assignments)")

    plans = {"current": found.current, "optimised": found.best}
    mark = time.perf_counter()
    paths, monthly, quarterly, staffing = {}, [], [], {}
    with executor_for(config, executor) as used:
        for name, evaluation in plans.items():
            paths[name] = simulate_headcount(inputs, state, specs, evaluation.reviews,
                                             review_every_months=plan.review_every_months,
                                             planning_months=plan.planning_months, executor=used)
    for name in plans:
        month_table, quarter_table, staffing[name] = headcount_tables(name, paths[name], specs,
                                                                      staff_to=plan.staff_to, as_of=inputs.as_of)
        monthly.append(month_table)
        quarterly.append(quarter_table)
    timings["headcount_s"] = time.perf_counter() - mark
    steps.advance("simulated the covered accounts")

    mark = time.perf_counter()
    gains, roi, reference = {}, [], None
    for name, evaluation in plans.items():
        draws = evaluator.draws(evaluation.reviews)
        gains[name] = draws.unit_gain
        if reference is None:
            reference = draws.gain.sum(axis=0)
        marginal = {spec.name: marginal_csm(evaluator, evaluation, t) for t, spec in enumerate(specs)}
        roi += roi_rows(evaluation, draws, specs, state, marginal=marginal, reference=reference)
    for evaluation in [*found.uniform, found.nobody]:
        roi += roi_rows(evaluation, evaluator.draws(evaluation.reviews), specs, state, per_tier=False,
                        reference=reference)
    tables = {
        "cs_plan_headcount_quarterly": pd.concat(quarterly, ignore_index=True),
        "cs_plan_headcount_monthly": pd.concat(monthly, ignore_index=True),
        "cs_plan_roi": pd.DataFrame(roi),
        "cs_plan_thresholds": threshold_table(plans, specs, state),
        "cs_plan_assignments": assignments_table(values.table, state, specs, plans, gains),
        "cs_plan_assumptions": _assumptions(plan, specs, rule, cap, currency, config.horizon_months),
    }
    timings["tables_s"] = time.perf_counter() - mark
    steps.advance("tabulated the plan")
    warnings = model_warnings(project) + tuple(_warnings(config, specs, plans, paths, staffing, cap, plan.staff_to))
    extra = {"planning_months": plan.planning_months, "review_every_months": plan.review_every_months,
             "staff_to": plan.staff_to, "tiers": [s.name for s in specs], "cap": cap.text(),
             "cap_binding": found.binding, "optimiser_evaluations": found.evaluations,
             "classification_rule": rule.text(currency), "tables": sorted(tables)}
    return CSPlanResult(tables, manifest(extra, timings), warnings, paths, staffing, specs)


def model_warnings(project) -> tuple:
    """The warnings of the data, the fits and the economics (as a run reports them)."""
    return tuple(project.fit().warnings) + tuple(project.economics().warnings)


def _assumptions(plan, specs, rule: ClassRule, cap: Cap, currency, horizon: int) -> pd.DataFrame:
    rows = [{"item": f"tier {s.name}", "text": f"rule: {s.rule_text()}; {s.effect_text()}; starts with "
             f"{s.starting_headcount} CSMs. The effects are assumptions, not measured."} for s in specs]
    rows += [
        {"item": "tier order", "text": "an account goes to the first tier, in this order, whose rule holds: "
         + ", ".join(s.name for s in specs) + "; to no tier when none does"},
        {"item": "classification", "text": rule.text(currency)},
        {"item": "expected profit", "text": f"expected discounted contribution over the next {horizon} months "
         "without customer success, on the account's tenure-conditional retention curve"},
        {"item": "reviews", "text": f"every {plan.review_every_months} months of the first {plan.planning_months}; "
         + MOVES},
        {"item": "CS cost", "text": COST},
        {"item": "headcount", "text": "CSMs needed at a percentile = ceil(covered active accounts at that percentile / "
         f"accounts_per_csm), from the engine's paths; the hiring plan staffs to {plan.staff_to}, hires as late as "
         "the ramp-up allows and never lays off; (all tiers) adds the tiers' own percentiles"},
        {"item": "optimiser", "text": f"one expected-profit threshold per tier{' and segment' if plan.optimise.per_segment else ''}"
         f" maximising expected net gain over no customer success; cap: {cap.text()}; every candidate uses the same "
         "replications (common random numbers)"},
        {"item": "uniform playbook", "text": "every account of the tier's segments in that one tier, whatever its "
         "expected profit or class"},
    ]
    return pd.DataFrame(rows)


def _warnings(config, specs, plans: dict, paths: dict, staffing: dict, cap: Cap, staff_to) -> list[Problem]:
    out = []

    def where(*path) -> dict:
        return {"source": config.source, "line": config.line_of("cs_plan", *path),
                "field": ".".join(["cs_plan", *map(str, path)])}

    for name, tiers in staffing.items():
        for t, (tier, hiring) in enumerate(tiers.items()):
            if hiring.gap.any():
                months = np.flatnonzero(hiring.gap)
                short, n_months = int(hiring.gap.max()), months.size
                out.append(Problem(
                    f"{name} plan, tier '{tier}': {short} CSM{'s' if short != 1 else ''} short in {n_months} "
                    f"month{'s' if n_months != 1 else ''} from month {int(months[0])}, before new hires finish "
                    "their ramp-up",
                    "raise starting_headcount or shorten ramp_up_months", severity="warning",
                    **where("tiers", t, "starting_headcount")))
    if cap.headcount is not None:
        total90 = sum(np.ceil(np.quantile(paths["optimised"].covered[t], 0.9, axis=0) / s.accounts_per_csm)
                      for t, s in enumerate(specs))
        if np.max(total90, initial=0) > cap.headcount:
            out.append(Problem(
                f"the optimised plan keeps the expected headcount within {cap.headcount} CSMs, but at P90 it needs up "
                f"to {int(np.max(total90))}", "lower the cap to leave room for the P90 path", severity="warning",
                **where("optimise", "headcount")))
        employed = sum(hiring.employed for hiring in staffing["optimised"].values())
        if np.max(employed, initial=0) > cap.headcount:
            kept = [f"{tier} starts with {spec.starting_headcount} for {int(hiring.target[0])} needed"
                    for spec, (tier, hiring) in zip(specs, staffing["optimised"].items())
                    if spec.starting_headcount > hiring.target[0]]
            out.append(Problem(
                f"the optimised hiring plan employs up to {int(np.max(employed))} CSMs, above the cap of "
                f"{cap.headcount}: it staffs to {staff_to} and never lays off"
                + (f" ({'; '.join(kept)})" if kept else ""),
                "lower the starting headcount of an overstaffed tier, or raise the cap to what you will employ",
                severity="warning", **where("optimise", "headcount")))
    for t, spec in enumerate(specs):
        if not (plans["current"].reviews == t).any():
            out.append(Problem(f"tier '{spec.name}' gets no account under the configured rules",
                               "check its rule (thresholds, segments, classes) and the tier order",
                               severity="warning", **where("tiers", t, "rule")))
    return out


__all__ = ["ALL_TIERS", "build_plan", "model_warnings"]
