"""What the columns of the result tables mean to a reader: a human header, a unit, and
how a number is shown; and how a payback that never happens is written to files.

Files meant for programs (CSV, Parquet, JSON) keep the machine names
(``p_unit_profit_negative``); the workbook, the HTML report and the plots show
:func:`header` ("Share of customers losing money (%)"). One table here so the three
never disagree.

**"Never" paid back.** ``payback_months_p50`` is the median month in which cumulative
contribution reaches CAC + onboarding. When most customers never get there within the
horizon the engine holds ``inf``. Files make the three cases explicit:

=====================  ======================  =================
case                   ``payback_months_p50``  ``payback_never``
=====================  ======================  =================
paid back              the month               ``false``
never (in horizon)     blank / ``null``        ``true``
not applicable         blank / ``null``        blank / ``null``
=====================  ======================  =================

Not applicable = existing customers (their acquisition cost is sunk) and segments with
no CAC given. The workbook writes the word "never" in the payback cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Number kinds, which decide formats in the workbook, report and plots.
MONEY = "money"
PERCENT = "percent"
COUNT = "count"
MONTHS = "months"
RATIO = "ratio"
NUMBER = "number"
TEXT = "text"
FLAG = "flag"

#: Column that says a payback was never reached (see the module notes).
PAYBACK_NEVER = "payback_never"
PAYBACK = "payback_months_p50"


@dataclass(frozen=True)
class Column:
    """How a reader sees one column: ``label`` (without unit) and ``kind``."""

    label: str
    kind: str


_EXPLICIT: dict[str, Column] = {
    "scenario": Column("Scenario", TEXT),
    "segment": Column("Segment", TEXT),
    "population": Column("Existing or new customers", TEXT),
    "status": Column("Status", TEXT),
    "customers": Column("Customers (average per replication)", COUNT),
    "ltv_mean": Column("LTV per customer, expected", MONEY),
    "unit_profit_mean": Column("Unit profit per customer, expected", MONEY),
    "total_value_mean": Column("Segment value, expected", MONEY),
    "p_unit_profit_negative": Column("Share of customers losing money", PERCENT),
    "cac": Column("CAC per new customer", MONEY),
    "onboarding_cost": Column("Onboarding cost per new customer", MONEY),
    "ltv_to_cac": Column("LTV:CAC, expected", RATIO),
    "ltv_to_cac_lower_90": Column("LTV:CAC, 90% interval low", RATIO),
    "ltv_to_cac_upper_90": Column("LTV:CAC, 90% interval high", RATIO),
    PAYBACK: Column("Payback, median", MONTHS),
    PAYBACK_NEVER: Column("Never paid back within the horizon", FLAG),
    "p_payback_within_12_months": Column("Paid back within 12 months", PERCENT),
    "p_payback_within_24_months": Column("Paid back within 24 months", PERCENT),
    "baseline_value_mean": Column("Baseline value, expected", MONEY),
    "scenario_value_mean": Column("Scenario value, expected", MONEY),
    "delta_mean": Column("Change in value, expected", MONEY),
    "delta_p5": Column("Change in value, P5", MONEY),
    "delta_p50": Column("Change in value, P50", MONEY),
    "delta_p95": Column("Change in value, P95", MONEY),
    "p_delta_positive": Column("Replications where the scenario is better", PERCENT),
    "quantile": Column("Quantile across customers", PERCENT),
    "ltv": Column("LTV per customer", MONEY),
    "unit_profit": Column("Unit profit per customer", MONEY),
    "month": Column("Projection month (0 = first month after as-of)", COUNT),
    "metric": Column("Metric", TEXT),
    "mean": Column("Mean", NUMBER),
    "p10": Column("P10", NUMBER),
    "p50": Column("P50", NUMBER),
    "p90": Column("P90", NUMBER),
    "family": Column("Retention family", TEXT),
    "ranking": Column("Ranking of families (criterion difference to the best)", TEXT),
    "parameters": Column("Parameters [95% interval]", TEXT),
    "uncertainty": Column("Parameter uncertainty drawn by", TEXT),
    "model_averaging": Column("Model averaging", TEXT),
    "weights": Column("Family weights", TEXT),
    "median_lifetime_months": Column("Median lifetime", MONTHS),
    "S_12": Column("Still active after 12 months, S(12)", PERCENT),
    "S_24": Column("Still active after 24 months, S(24)", PERCENT),
    "S_60": Column("Still active after 60 months, S(60)", PERCENT),
    "n_customers": Column("Customers fitted", COUNT),
    "n_events": Column("Churned customers", COUNT),
    "max_observed_tenure": Column("Longest observed tenure", MONTHS),
    "log_likelihood": Column("Log-likelihood", NUMBER),
    "aic": Column("AIC", NUMBER),
    "bic": Column("BIC", NUMBER),
    "n_warnings": Column("Warnings", COUNT),
    "grr_12": Column("Gross revenue retention, 12 months", PERCENT),
    "nrr_12": Column("Net revenue retention, 12 months", PERCENT),
    "gross_margin": Column("Gross margin", PERCENT),
    "support_cost_per_month": Column("Support cost per account per month", MONEY),
    "other_cost_to_serve_per_month": Column("Other cost to serve per account per month", MONEY),
    "infrastructure_cost_share": Column("Infrastructure cost, share of MRR", PERCENT),
    "infrastructure_cost_per_month": Column("Infrastructure cost per account per month", MONEY),
    "mrr": Column("MRR of customers with unknown MRR", MONEY),
    "discount_rate_annual": Column("Discount rate per year", PERCENT),
    "new_customer_starting_mrr": Column("Starting MRR of a new customer", MONEY),
    "new_customers_per_month": Column("New customers per month", NUMBER),
    "cac_derived_from_spend": Column("CAC allocated from channel spend", MONEY),
    "blended_cac": Column("Blended CAC (all spend / all new customers)", MONEY),
    "starting_mrr": Column("MRR at start", MONEY),
    "mrr_12": Column("MRR after 12 months", MONEY),
    "kept_mrr_12": Column("MRR kept after 12 months (no expansion)", MONEY),
    "key": Column("Channel", TEXT),
    "spend": Column("Acquisition spend", MONEY),
    "new_customers": Column("New customers", COUNT),
    "share_of_channel": Column("Share of the channel's new customers", PERCENT),
    "spend_allocated": Column("Spend allocated", MONEY),
}

# Suffixes of estimate columns: <prefix><suffix> reads "<prefix label>, <suffix label>".
_ESTIMATE_SUFFIXES = (
    ("_mean_lower_90", "90% interval low"),
    ("_mean_upper_90", "90% interval high"),
    ("_mean_mc_error", "Monte Carlo standard error"),
    ("_customer_p5", "P5 across customers"),
    ("_customer_p50", "P50 across customers"),
    ("_customer_p95", "P95 across customers"),
)
_PREFIX_LABELS = {"ltv": "LTV per customer", "unit_profit": "Unit profit per customer",
                  "total_value": "Segment value"}
_WORDS = {"ltv": "LTV", "cac": "CAC", "mrr": "MRR", "grr": "GRR", "nrr": "NRR", "aic": "AIC", "bic": "BIC",
          "csm": "CSM", "cs": "CS", "p5": "P5", "p10": "P10", "p50": "P50", "p90": "P90", "p95": "P95"}


def describe(column: str) -> Column:
    """The :class:`Column` of a machine column name: the explicit entry, an estimate's
    interval or spread column, a ``<field>_from`` origin column, or a label made from the
    words of the name (kind guessed from them)."""
    if column in _EXPLICIT:
        return _EXPLICIT[column]
    for suffix, words in _ESTIMATE_SUFFIXES:
        prefix = column.removesuffix(suffix)
        if prefix != column and prefix in _PREFIX_LABELS:
            return Column(f"{_PREFIX_LABELS[prefix]}, {words}", MONEY)
    if column.endswith("_from"):
        base = describe(column.removesuffix("_from"))
        return Column(f"{base.label}: from", TEXT)
    words = [_WORDS.get(part, part) for part in re.split(r"_+", column) if part]
    label = " ".join(words)
    label = label[:1].upper() + label[1:] if label else column
    lower = column.lower()
    if lower.startswith("p_") or "share" in lower or lower.startswith("s_"):
        kind = PERCENT
    elif lower.endswith("_months") or "months" in lower.split("_")[-1:]:
        kind = MONTHS
    elif any(word in lower for word in ("value", "cost", "spend", "cash", "contribution", "mrr", "profit", "ltv",
                                        "revenue")):
        kind = MONEY
    elif lower.startswith("n_") or any(word in lower for word in ("customers", "count", "accounts", "headcount")):
        kind = COUNT
    else:
        kind = NUMBER
    return Column(label, kind)


def unit(kind: str, currency: str | None = None) -> str:
    """The unit shown after a label: ``"(USD)"`` for money with a currency, ``"(months)"``,
    ``"(%)"``; empty when the label needs none."""
    if kind == MONEY:
        return f"({currency})" if currency else ""
    return {MONTHS: "(months)", PERCENT: "(%)"}.get(kind, "")


def header(column: str, currency: str | None = None) -> str:
    """Human header of ``column`` with its unit: ``"Unit profit per customer, expected (USD)"``."""
    described = describe(column)
    suffix = unit(described.kind, currency)
    return f"{described.label} {suffix}" if suffix else described.label


def with_payback_flag(table):
    """``table`` with ``inf`` paybacks blanked and a ``payback_never`` column beside them
    (see the module notes); tables without a payback column are returned as they are."""
    import numpy as np
    import pandas as pd

    if PAYBACK not in table.columns or PAYBACK_NEVER in table.columns:
        return table
    payback = table[PAYBACK].astype(float)
    never = pd.array(np.where(np.isposinf(payback), True, False), dtype="boolean")
    never[payback.isna().to_numpy()] = pd.NA
    out = table.copy()
    out[PAYBACK] = payback.where(np.isfinite(payback))
    out.insert(out.columns.get_loc(PAYBACK) + 1, PAYBACK_NEVER, never)
    return out
