"""Which assumptions moved between cutoffs: the recalibration summary.

Per segment, the assumptions a run rests on, as fitted or resolved at each cutoff and at
``as_of`` (the full book, what a run today uses):

* retention: the family chosen, ``S(12)``, ``S(24)`` and the median lifetime (months);
* revenue dynamics (with an MRR history): the monthly probability of an expansion and
  of a contraction, and the expansion and contraction rates (MRR added / lost per month
  per unit of MRR of customers who stay; see :mod:`simcore.backtest.rates`);
* economics: new customers per month, a new customer's starting MRR, support cost per
  account-month.

``change`` is the last value minus the first, ``relative_change`` that change over the
first value's size; ``movement_rank`` orders a segment's numeric assumptions by the size
of their relative change (1 = moved most). The family row says whether the chosen family
changed between the first and the last point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcore.backtest.rates import _predicted

#: assumption -> unit, in report order.
ASSUMPTIONS = {
    "family": "",
    "S_12": "share of customers",
    "S_24": "share of customers",
    "median_lifetime_months": "months",
    "p_expansion": "probability per customer-month",
    "p_contraction": "probability per customer-month",
    "expansion_rate": "fraction of MRR per month",
    "contraction_rate": "fraction of MRR per month",
    "new_customers_per_month": "customers per month",
    "new_customer_starting_mrr": "money per month",
    "support_cost_per_month": "money per account-month",
}


def assumptions(label: str, fit, economics) -> pd.DataFrame:
    """One row per (segment, assumption) at one point in time (``label``)."""
    fits = fit.table.set_index("segment")
    dynamics = fit.dynamics or {}
    table = economics.table.set_index("segment")
    rows = []
    for segment in fits.index:
        values = {name: fits.loc[segment, name] for name in ("family", "S_12", "S_24", "median_lifetime_months")}
        if dynamics:
            values.update(_predicted(dynamics.get(segment)))
        for name in ("new_customers_per_month", "new_customer_starting_mrr", "support_cost_per_month"):
            if name in table.columns and segment in table.index:
                values[name] = table.loc[segment, name]
        for name, value in values.items():
            rows.append({"segment": segment, "assumption": name, "point": label, "value": value})
    return pd.DataFrame(rows)


def recalibration_table(points: list[pd.DataFrame]) -> pd.DataFrame:
    """The assumptions side by side (one column per cutoff, then ``as_of``), with the
    change from the first to the last and the biggest mover per segment."""
    long = pd.concat(points, ignore_index=True)
    labels = list(dict.fromkeys(long["point"]))
    wide = long.pivot_table(index=["segment", "assumption"], columns="point", values="value", aggfunc="first")
    wide = wide.reindex(columns=labels).reset_index()
    wide.columns.name = None
    order = {name: i for i, name in enumerate(ASSUMPTIONS)}
    wide["unit"] = wide["assumption"].map(ASSUMPTIONS)
    first, last = wide[labels[0]], wide[labels[-1]]
    numeric = wide["assumption"] != "family"
    first_number = pd.to_numeric(first.where(numeric), errors="coerce")
    last_number = pd.to_numeric(last.where(numeric), errors="coerce")
    wide["change"] = (last_number - first_number).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        wide["relative_change"] = (wide["change"] / first_number.abs()).where(first_number.abs() > 0).astype(float)
    wide["family_changed"] = np.where(numeric, None, np.where(first.astype(str) != last.astype(str), "yes", "no"))
    size = wide["relative_change"].abs().where(numeric)
    wide["movement_rank"] = size.groupby(wide["segment"]).rank(ascending=False, method="min")
    wide["_order"] = wide["assumption"].map(order)
    wide = wide.sort_values(["segment", "_order"]).drop(columns="_order")
    return wide[["segment", "assumption", "unit", *labels, "change", "relative_change", "family_changed",
                 "movement_rank"]].reset_index(drop=True)


__all__ = ["ASSUMPTIONS", "assumptions", "recalibration_table"]
