"""What happened after a cutoff, on the engine's monthly grid.

Projection month ``c`` (0 = the first month after the cutoff) is measured the way the
engine counts it (DESIGN §4):

* **existing** — customers active at the cutoff. A customer at tenure ``a`` then had paid
  ``a + 1`` times; their projection month ``c`` is payment ``a + 1 + c``. They are active
  in it when they made that payment: still active at ``as_of``, or churned having paid
  ``T > a + 1 + c`` times (``T`` = their tenure in the full book, the number of payments).
* **new** — customers who signed up after the cutoff. Signing up in the ``j``-th calendar
  month after the cutoff (``j = 0, 1, ...``) they pay payment ``k`` in projection month
  ``j + k``, as the engine's cohorts acquired in month ``j`` do.

MRR of an active customer-month is the MRR history's for that payment (the change log
expanded on the book's tenure convention, :func:`simcore.data.history.expand_history`);
a month the history does not cover takes the MRR the forecast started the customer at.
Contribution uses the economics resolved at ``as_of`` (the full project's): costs are not
recorded month by month, so the latest trailing-window figures stand in for what was paid,
and a contribution miss mixes revenue and retention misses with cost drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.backtest.cutoff import Cutoff, month_number


@dataclass(frozen=True)
class Actuals:
    """What happened after one cutoff.

    Attributes
    ----------
    series : dict
        ``series[segment][population][metric]``: (months,) float64 arrays, populations
        ``existing`` and ``new``, metrics ``active_customers``, ``mrr`` (money / month),
        ``contribution`` (money / month).
    new_customers : dict of str -> int
        Customers who signed up in the compared months, per segment.
    filled_mrr_months : int
        Active customer-months whose MRR the history does not give (filled as described).
    """

    series: dict
    new_customers: dict
    filled_mrr_months: int


class _MrrLookup:
    """MRR of (customer position in the full book, payment index) from the history."""

    def __init__(self, customers: pd.DataFrame, history: pd.DataFrame | None, as_of):
        from simcore.data.history import expand_history

        self.width = int(customers["tenure_months"].max()) + 2 if len(customers) else 1
        if history is None or not len(history):
            self.keys, self.values = np.zeros(0, np.int64), np.zeros(0)
            return
        rows = expand_history(customers, history, "date", as_of)
        keys = rows["customer"].to_numpy(np.int64) * self.width + rows["tenure_month"].to_numpy(np.int64)
        order = np.argsort(keys, kind="stable")
        self.keys, self.values = keys[order], rows["mrr"].to_numpy(np.float64)[order]

    def __call__(self, position: np.ndarray, payment: np.ndarray) -> np.ndarray:
        """MRR per cell (NaN where the history has no value)."""
        keys = position.astype(np.int64) * self.width + payment.astype(np.int64)
        if not len(self.keys):
            return np.full(keys.shape, np.nan)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.values[at], np.nan)


def _per_segment(segments: np.ndarray, names: list[str], cells: np.ndarray) -> dict[str, np.ndarray]:
    return {name: cells[segments == name].sum(axis=0) for name in names}


def _contribution(mrr: np.ndarray, active: np.ndarray, segments: np.ndarray, own_cost: np.ndarray,
                  economics: dict) -> np.ndarray:
    def per_customer(value) -> np.ndarray:
        return pd.Series(segments, dtype=object).map({s: value(e) for s, e in economics.items()}).to_numpy(float)

    margin = per_customer(lambda e: e.gross_margin - e.infrastructure_cost_share)
    support = per_customer(lambda e: e.support_cost_per_month)
    other = per_customer(lambda e: e.other_cost_to_serve_per_month)
    cost = np.where(np.isfinite(own_cost), own_cost, support) + other
    return np.where(active, mrr * margin[:, None] - cost[:, None], 0.0)


def actuals_after(full, cut_customers: pd.DataFrame, cutoff: Cutoff, economics_now: dict,
                  start_mrr: dict[str, float], lookup: _MrrLookup | None = None) -> Actuals:
    """Monthly actuals of the existing base and the new signups after ``cutoff``.

    Parameters
    ----------
    full : simcore.results.SegmentedBook
        The full book (``as_of``, history, segment labels).
    cut_customers : DataFrame
        The customers as known at the cutoff (``tenure_months``, ``churned``, ``mrr``,
        ``segment``).
    cutoff : Cutoff
    economics_now : dict of str -> Economics
        The economics at ``as_of``, per segment (for contribution).
    start_mrr : dict of str -> float
        MRR the forecast gives a new customer of each segment; the fallback for a new
        customer's month the history does not cover when they have no ``mrr`` either.
    lookup : optional
        A prepared history lookup (shared between cutoffs).
    """
    customers = full.customers
    book = full.book
    lookup = lookup or _MrrLookup(customers, book.history, book.as_of)
    names = sorted(economics_now)
    months = np.arange(cutoff.months)
    index = pd.Index(customers["customer_id"])
    tenure = customers["tenure_months"].to_numpy(np.int64)
    churned = customers["churned"].to_numpy(bool)
    own_cost = customers["support_cost_per_month"].to_numpy(np.float64) \
        if "support_cost_per_month" in customers.columns else np.full(len(customers), np.nan)
    filled = 0

    # ---- existing: active at the cutoff
    base = cut_customers.loc[~cut_customers["churned"].astype(bool)]
    position = index.get_indexer(base["customer_id"])
    payment = base["tenure_months"].to_numpy(np.int64)[:, None] + 1 + months[None, :]
    active = ~churned[position][:, None] | (payment <= tenure[position][:, None] - 1)
    start = base["mrr"].to_numpy(np.float64)
    segments = base["segment"].astype(str).to_numpy()
    default = pd.Series(segments, dtype=object).map({s: e.default_mrr for s, e in economics_now.items()})
    start = np.where(np.isfinite(start), start, default.to_numpy(float))
    mrr = lookup(np.repeat(position[:, None], len(months), axis=1), payment)
    filled += int((active & np.isnan(mrr)).sum())
    mrr = np.where(active, np.where(np.isnan(mrr), start[:, None], mrr), 0.0)
    contribution = _contribution(mrr, active, segments, own_cost[position], economics_now)
    existing = {"active_customers": _per_segment(segments, names, active.astype(np.float64)),
                "mrr": _per_segment(segments, names, mrr),
                "contribution": _per_segment(segments, names, contribution)}

    # ---- new: signed up in the compared months
    signup_month = customers["signup_date"].map(month_number).to_numpy(np.int64) \
        if len(customers) else np.zeros(0, np.int64)
    acquired = signup_month - month_number(cutoff.date) - 1
    later = np.flatnonzero((acquired >= 0) & (acquired < cutoff.months))
    segments_new = customers["segment"].astype(str).to_numpy()[later]
    payment = months[None, :] - acquired[later][:, None]
    active = (payment >= 0) & (~churned[later][:, None] | (payment <= tenure[later][:, None] - 1))
    mrr = lookup(np.repeat(later[:, None], len(months), axis=1), np.maximum(payment, 0))
    own = customers["mrr"].to_numpy(np.float64)[later] if "mrr" in customers.columns else np.full(len(later), np.nan)
    own = np.where(np.isfinite(own), own, pd.Series(segments_new, dtype=object).map(start_mrr).fillna(0.0).to_numpy(float))
    filled += int((active & np.isnan(mrr)).sum())
    mrr = np.where(active, np.where(np.isnan(mrr), own[:, None], mrr), 0.0)
    contribution = _contribution(mrr, active, segments_new, own_cost[later], economics_now)
    new = {"active_customers": _per_segment(segments_new, names, active.astype(np.float64)),
           "mrr": _per_segment(segments_new, names, mrr),
           "contribution": _per_segment(segments_new, names, contribution)}
    counts = pd.Series(segments_new).value_counts()
    series = {name: {"existing": {m: existing[m][name] for m in existing},
                     "new": {m: new[m][name] for m in new}} for name in names}
    return Actuals(series, {name: int(counts.get(name, 0)) for name in names}, filled)


__all__ = ["Actuals", "actuals_after"]
