"""The report's customer-success section, read back from the files ``simcore plan-cs`` writes.

:func:`render` returns ``None`` for a directory without a plan, so the report leaves the
section out; ``simcore report`` on a plan directory (or ``plan-cs --report``) shows it.
"""

from __future__ import annotations

from simcore.outputs.numbers import count, money, ratio
from simcore.report import html

ALL_TIERS = "(all tiers)"
HEADCOUNT_PLOT = "plots/cs_plan_headcount.png"
ROI_PLOT = "plots/cs_plan_roi.png"


def _text(frame, *columns):
    """Labels read back from CSV stay text (a tier called ``001`` is not a number)."""
    return frame.astype({c: str for c in columns if c in frame.columns})


def _quarter_table(quarters, plan: str, currency: str | None) -> str:
    rows = quarters[quarters["plan"] == plan]
    if not len(rows):
        return ""
    tiers = list(dict.fromkeys(rows["tier"]))
    body = []
    for (quarter, months), group in rows.groupby(["quarter", "months"], sort=True):
        by_tier = group.set_index("tier")
        cells = [f"Q{quarter}", months]
        for tier in tiers:
            row = by_tier.loc[tier]
            cells.append(f"{count(row.csms_needed_p50)} / {count(row.csms_needed_p90)}")
        total = by_tier.loc[ALL_TIERS] if ALL_TIERS in by_tier.index else None
        cells += [count(total.employed_at_end), count(total.hires), money(total.cost)] if total is not None else [""] * 3
        body.append(cells)
    unit = f" ({currency})" if currency else ""
    headers = ["Quarter", "Months", *[f"{t}: CSMs P50 / P90" for t in tiers], "Employed at end", "Hires",
               f"Cost{unit}"]
    return html.table(body, headers, numeric=[False, False] + [True] * (len(tiers) + 3))


def _comparison(roi, currency: str | None) -> str:
    totals = roi[roi["tier"] == ALL_TIERS]
    body = []
    for row in totals.itertuples():
        versus = ""
        if hasattr(row, "vs_current_mean") and row.plan != "current":
            versus = (f"{money(row.vs_current_mean, signed=True)} [{money(row.vs_current_lower_90, signed=True)} .. "
                      f"{money(row.vs_current_upper_90, signed=True)}]")
        body.append([row.plan, f"{money(row.net_gain_mean)} [{money(row.net_gain_lower_90)} .. "
                     f"{money(row.net_gain_upper_90)}]", versus, money(row.cs_cost_mean), ratio(row.roi),
                     count(row.peak_csms_expected), "yes" if str(row.within_cap) in ("True", "true", "1") else "no"])
    unit = f" ({currency})" if currency else ""
    return html.table(body, ["Plan", f"Net gain, expected [90%]{unit}", f"Against the configured rules [90%]{unit}",
                             f"CS cost{unit}", "ROI", "Peak CSMs (expected)", "Within the cap"],
                      numeric=[False, True, True, True, True, True, False])


def _tiers(roi, thresholds, currency: str | None) -> str:
    per_tier = roi[(roi["tier"] != ALL_TIERS) & roi["plan"].isin(["current", "optimised"])]
    body = []
    for row in per_tier.itertuples():
        limits = thresholds[thresholds["tier"] == row.tier]
        column = f"threshold_{row.plan}"
        shown = sorted({money(v) if abs(v) != float("inf") else ("nobody" if v > 0 else "everyone admitted")
                        for v in limits[column]}) if column in limits.columns and len(limits) else []
        body.append([row.plan, row.tier, ", ".join(shown), count(row.accounts_at_start), money(row.net_gain_mean),
                     ratio(row.roi), money(getattr(row, "marginal_csm_net_gain", float("nan")))])
    unit = f" ({currency})" if currency else ""
    return html.table(body, ["Plan", "Tier (at the start)", f"Expected-profit threshold{unit}", "Accounts at start",
                             f"Net gain{unit}", "ROI", f"Last CSM's net gain{unit}"],
                      numeric=[False, False, True, True, True, True, True])


def render(run) -> str | None:
    """The section's HTML, or ``None`` when ``run`` holds no customer-success plan."""
    quarters = run.table("cs_plan_headcount_quarterly")
    roi = run.table("cs_plan_roi")
    if quarters is None or roi is None:
        return None
    quarters, roi = _text(quarters, "plan", "tier"), _text(roi, "plan", "tier")
    thresholds = run.table("cs_plan_thresholds")
    thresholds = _text(thresholds, "tier", "segment") if thresholds is not None else None
    currency, manifest = run.currency, run.manifest
    out = [f"<p>Customer-success tiers and the CSMs they need over the next {manifest.get('planning_months', '')} "
           f"months, from {count(manifest.get('replications'))} simulated paths (seed {manifest.get('seed')}). "
           f"Optimiser cap: {html.esc(manifest.get('cap', ''))}. Every tier's effect on churn and expansion is an "
           "assumption, listed below.</p>",
           "<h3>Capital plan by quarter: optimised thresholds</h3>", _quarter_table(quarters, "optimised", currency),
           '<p class="note">CSMs needed at P50 / P90 of the paths in the quarter\'s busiest month; employed, hires and '
           f"cost follow the hiring plan (staffing to {html.esc(manifest.get('staff_to', ''))}, ramp-up included).</p>",
           "<details><summary>The same under the configured rules</summary>",
           _quarter_table(quarters, "current", currency), "</details>",
           "<h3>Plans compared</h3>", _comparison(roi, currency),
           '<p class="note">Net gain = expected discounted profit over no customer success, net of CS cost (each '
           "covered account's share of a CSM), with its 90% interval across replications; the comparison with the "
           "configured rules is paired (same draws).</p>"]
    if thresholds is not None:
        out += ["<h3>Tiers and thresholds</h3>", _tiers(roi, thresholds, currency)]
    for path, title in ((HEADCOUNT_PLOT, "CSMs needed per tier"), (ROI_PLOT, "Net gain by plan")):
        if (run.path / path).is_file():
            out.append(html.figure((run.path / path).read_bytes(), title, ""))
    assumptions = run.table("cs_plan_assumptions")
    if assumptions is not None:
        items = "".join(f"<li><strong>{html.esc(r.item)}</strong>: {html.esc(r.text)}</li>"
                        for r in assumptions.itertuples())
        out.append(f"<h3>Assumptions</h3><ul>{items}</ul>")
    covered = quarters[(quarters["plan"] == "optimised") & (quarters["tier"] == ALL_TIERS)]
    if len(covered):
        last = covered.iloc[-1]
        out.append(f'<p class="note">In the last quarter the optimised tiers cover '
                   f"{count(last.covered_accounts_p50)} accounts on the median path, "
                   f"{count(last.covered_accounts_p90)} at P90.</p>")
    return "".join(out)
