"""The tables of a customer-success plan, by file name (``cs_plan_*``).

``cs_plan_headcount_quarterly`` is the capital-planning table: per plan, tier and quarter
of the planning window, the CSMs needed at P50 and P90 (the largest month of the
quarter), the covered accounts behind them, the CSMs employed at the quarter's end, the
hires, any capacity gap and the cost. ``cs_plan_headcount_monthly`` holds the same month
by month, ``cs_plan_roi`` the value of each plan against no customer success and a
uniform playbook, ``cs_plan_assignments`` every account's tier path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.cs.headcount import HeadcountPaths, Staffing, hiring_plan
from simcore.cs.tiers import NONE, TierSpec, path_text, tier_label

ALL_TIERS = "(all tiers)"
#: ROI row of the units with no tier at the start that join one at a later review.
JOINS_LATER = "(none at start, joins later)"
_QUANTILES = (0.1, 0.5, 0.9)
_TAIL = 0.05


def month_labels(as_of, months: int) -> list[str]:
    """``2026-01`` for projection month 0 after an as_of in December 2025; ``month 0``
    without a date."""
    if as_of is None:
        return [f"month {c}" for c in range(months)]
    start = pd.Timestamp(as_of).to_period("M") + 1
    return [str(start + c) for c in range(months)]


def _staff_target(p50: np.ndarray, p90: np.ndarray, staff_to: str) -> np.ndarray:
    return p90 if staff_to == "p90" else p50


def headcount_tables(plan: str, paths: HeadcountPaths, specs: list[TierSpec], *, staff_to: str,
                     as_of) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Staffing]]:
    """Monthly and quarterly headcount of one plan, and its hiring plan per tier."""
    T, R, P = paths.covered.shape
    labels = month_labels(as_of, P)
    monthly, staffing = [], {}
    total = {"csms_needed_p50": np.zeros(P, np.int64), "csms_needed_p90": np.zeros(P, np.int64),
             "staff_target": np.zeros(P, np.int64), "hires": np.zeros(P, np.int64),
             "employed": np.zeros(P, np.int64), "productive": np.zeros(P, np.int64),
             "capacity_gap": np.zeros(P, np.int64), "cost": np.zeros(P)}
    for t, spec in enumerate(specs):
        covered = paths.covered[t]
        q10, q50, q90 = np.quantile(covered, _QUANTILES, axis=0)
        need50 = np.ceil(q50 / spec.accounts_per_csm).astype(np.int64)
        need90 = np.ceil(q90 / spec.accounts_per_csm).astype(np.int64)
        plan_of_tier = hiring_plan(_staff_target(need50, need90, staff_to), spec)
        staffing[spec.name] = plan_of_tier
        values = {"csms_needed_p50": need50, "csms_needed_p90": need90, "staff_target": plan_of_tier.target,
                  "hires": plan_of_tier.hires, "employed": plan_of_tier.employed,
                  "productive": plan_of_tier.productive, "capacity_gap": plan_of_tier.gap, "cost": plan_of_tier.cost}
        for key, value in values.items():
            total[key] = total[key] + value
        monthly.append(pd.DataFrame({
            "plan": plan, "tier": spec.name, "month": np.arange(P), "calendar_month": labels,
            "covered_accounts_mean": covered.mean(axis=0), "covered_accounts_p10": q10,
            "covered_accounts_p50": q50, "covered_accounts_p90": q90, **values}))
    everyone = paths.covered.sum(axis=0)
    q10, q50, q90 = np.quantile(everyone, _QUANTILES, axis=0)
    monthly.append(pd.DataFrame({
        "plan": plan, "tier": ALL_TIERS, "month": np.arange(P), "calendar_month": labels,
        "covered_accounts_mean": everyone.mean(axis=0), "covered_accounts_p10": q10, "covered_accounts_p50": q50,
        "covered_accounts_p90": q90, **total}))
    monthly = pd.concat(monthly, ignore_index=True)
    return monthly, quarterly(monthly), staffing


def quarterly(monthly: pd.DataFrame) -> pd.DataFrame:
    """Quarters of the planning window (months 0-2, 3-5, ...): needs at their largest month,
    employed at the quarter's end, hires, capacity gap (CSM-months) and cost summed."""
    frame = monthly.assign(quarter=monthly["month"] // 3 + 1)
    grouped = frame.groupby(["plan", "tier", "quarter"], sort=False)
    out = grouped.agg(
        first_month=("calendar_month", "first"), last_month=("calendar_month", "last"),
        covered_accounts_p50=("covered_accounts_p50", "max"), covered_accounts_p90=("covered_accounts_p90", "max"),
        csms_needed_p50=("csms_needed_p50", "max"), csms_needed_p90=("csms_needed_p90", "max"),
        employed_at_end=("employed", "last"), hires=("hires", "sum"),
        capacity_gap_csm_months=("capacity_gap", "sum"), cost=("cost", "sum")).reset_index()
    out["months"] = out["first_month"] + " to " + out["last_month"]
    out = out.drop(columns=["first_month", "last_month"])
    out["cumulative_cost"] = out.groupby(["plan", "tier"], sort=False)["cost"].cumsum()
    return out[["plan", "tier", "quarter", "months", "covered_accounts_p50", "covered_accounts_p90", "csms_needed_p50",
                "csms_needed_p90", "employed_at_end", "hires", "capacity_gap_csm_months", "cost", "cumulative_cost"]]


def _interval(values: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(values, [_TAIL, 1.0 - _TAIL])
    return float(low), float(high)


def roi_rows(evaluation, draws, specs: list[TierSpec], state, *, marginal: dict | None = None,
             per_tier: bool = True, reference: np.ndarray | None = None) -> list[dict]:
    """Rows of ``cs_plan_roi`` for one plan: the total, then (``per_tier``) each tier by the
    accounts that start in it and the accounts that join a tier later. ``draws`` are the
    plan's :class:`~simcore.cs.evaluate.Draws`; ``reference`` (R,) the configured plan's
    total net gain per replication, against which the total row states the paired
    difference (same draws, so the difference is the assignment's, not noise)."""
    reviews = evaluation.reviews
    start = reviews[:, 0]
    existing, new = ~state.is_new, state.is_new
    covered = (reviews != NONE).any(axis=1)
    later = (start == NONE) & covered
    groups = [(ALL_TIERS, np.ones(draws.start.size, dtype=bool), (start != NONE) & existing, new & covered)]
    if per_tier:
        groups += [(spec.name, draws.start == t, (start == t) & existing, new & (start == t))
                   for t, spec in enumerate(specs)]
        if draws.joins_later.any():
            groups.append((JOINS_LATER, draws.joins_later, np.zeros(start.size, dtype=bool), new & later))
    rows = []
    for name, members, accounts, new_accounts in groups:
        gain, cost = draws.gain[members].sum(axis=0), draws.cs_cost[members].sum(axis=0)
        low, high = _interval(gain)
        gross = gain + cost
        row = {"plan": evaluation.policy.name, "tier": name, "accounts_at_start": int(accounts.sum()),
               "new_accounts_covered": bool(new_accounts.any()),
               "net_gain_mean": float(gain.mean()), "net_gain_lower_90": low, "net_gain_upper_90": high,
               "p_net_gain_positive": float(np.mean(gain > 0)),
               "gross_uplift_mean": float(gross.mean()), "cs_cost_mean": float(cost.mean()),
               "roi": float(gross.mean() / cost.mean()) if cost.mean() > 0 else np.nan,
               "peak_csms_expected": _peak(evaluation, specs, name),
               "within_cap": bool(evaluation.feasible)}
        if marginal is not None and name in marginal:
            row["marginal_csm_net_gain"], row["marginal_csm_accounts"] = marginal[name]
        if reference is not None and name == ALL_TIERS:
            difference = gain - reference
            low, high = _interval(difference)
            row.update({"vs_current_mean": float(difference.mean()), "vs_current_lower_90": low,
                        "vs_current_upper_90": high, "p_better_than_current": float(np.mean(difference > 0))})
        rows.append(row)
    return rows


def _peak(evaluation, specs: list[TierSpec], name: str) -> int | None:
    """Expected CSMs in the peak month: of all tiers, or of one tier."""
    names = [s.name for s in specs]
    if name == ALL_TIERS:
        return int(evaluation.peak_headcount)
    if name in names and evaluation.csms.size:
        return int(evaluation.csms[names.index(name)].max())
    return None


def assignments_table(accounts: pd.DataFrame, state, specs: list[TierSpec], plans: dict, gains: dict) -> pd.DataFrame:
    """Every active account (and each segment's new accounts) with its tier path under
    each plan and its expected net gain there (money over the horizon; ``gains``: plan ->
    (U,) expected net gain per unit)."""
    existing = ~state.is_new
    frame = accounts[["customer_id", "segment", "tenure_months", "mrr", "expected_profit",
                      "account_class"]].copy()
    new_units = np.flatnonzero(state.is_new)
    extra = pd.DataFrame({
        "customer_id": [f"(new {state.segments[state.segment[u]]} accounts)" for u in new_units],
        "segment": [state.segments[state.segment[u]] for u in new_units],
        "tenure_months": np.nan, "mrr": state.mrr[new_units], "expected_profit": state.profit[new_units, 0],
        "account_class": [None] * new_units.size})
    for name, evaluation in plans.items():
        reviews = evaluation.reviews
        column = name.replace(" ", "_")
        frame[f"tier_{column}"] = [tier_label(int(code), specs) for code in reviews[existing, 0]]
        frame[f"path_{column}"] = [path_text(row, state.review_months, specs) for row in reviews[existing]]
        frame[f"net_gain_{column}"] = gains[name][existing]
        extra[f"tier_{column}"] = [tier_label(int(reviews[u, 0]), specs) for u in new_units]
        extra[f"path_{column}"] = [path_text(reviews[u], state.review_months, specs, tenure=True) for u in new_units]
        extra[f"net_gain_{column}"] = gains[name][new_units]
    return pd.concat([frame, extra], ignore_index=True) if len(extra) else frame


def threshold_table(plans: dict, specs: list[TierSpec], state) -> pd.DataFrame:
    """Expected-profit thresholds of each plan per tier and segment, with the accounts
    each starts with."""
    rows = []
    for t, spec in enumerate(specs):
        for s, segment in enumerate(state.segments):
            if spec.segments is not None and segment not in spec.segments:
                continue
            row = {"tier": spec.name, "segment": segment}
            for name, evaluation in plans.items():
                column = name.replace(" ", "_")
                row[f"threshold_{column}"] = float(evaluation.policy.thresholds[t, s])
                row[f"accounts_at_start_{column}"] = int(((evaluation.reviews[:, 0] == t) & (state.segment == s)
                                                          & ~state.is_new).sum())
            rows.append(row)
    return pd.DataFrame(rows)
