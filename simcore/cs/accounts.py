"""Per-account expected profitability: every active account, valued on its own curve.

An account at tenure ``a`` with MRR ``m`` and fixed cost to serve ``k`` is worth, under
parameter draw ``r``, ``m * revenue_r(a) - k * fixed_r(a)`` (:mod:`simcore.cs.values`):
the expected discounted contribution over the horizon on its tenure-conditional curve
``S_r(a + 1 + c) / S_r(a)``, with its segment's margin, cost to serve and expected
expansion and contraction. The mean over replications is its **expected profit**; P5
and P95 across replications its 90% interval (parameter and model uncertainty, not the
spread of one account's fate).

The same quantities at every review month ``c`` of a plan — tenure ``a + c``, MRR at its
expected value ``m g^c`` — are what tier rules re-check (:mod:`simcore.cs.tiers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.cs.classify import ClassRule, class_names
from simcore.cs.inputs import PlanInputs
from simcore.cs.values import new_path, tenure_factors

_TAIL = 0.05  # P5 and P95: the 90% interval of an estimate across replications


@dataclass(frozen=True)
class ReviewState:
    """Expected profit and class of every unit at every review.

    Units are the active accounts (rows ``0..N-1``, book order within segments sorted by
    name) followed, when planned, by one unit per segment standing for its new accounts
    (reviewed at their own tenure months instead of calendar months).

    Attributes
    ----------
    review_months : (K,) int64
        ``0, review, 2 review, ...`` within the planning window.
    segment : (U,) int64
        Index into :attr:`segments`.
    is_new : (U,) bool
    tenure, mrr, cost : (U,)
        Tenure at ``as_of`` (-1 for new-account units), MRR and fixed cost to serve.
    profit, cost_to_serve, expansion : (U, K) float64
        Expected profit, expected cost to serve and expansion potential at each review
        (money, without customer success), for a unit still active then.
    classes : (U, K) int8
    segments : tuple of str
    """

    review_months: np.ndarray
    segment: np.ndarray
    is_new: np.ndarray
    tenure: np.ndarray
    mrr: np.ndarray
    cost: np.ndarray
    profit: np.ndarray
    cost_to_serve: np.ndarray
    expansion: np.ndarray
    classes: np.ndarray
    segments: tuple

    @property
    def n_existing(self) -> int:
        return int((~self.is_new).sum())


@dataclass(frozen=True)
class AccountValues:
    """The accounts table and the review state behind a plan.

    Attributes
    ----------
    table : DataFrame
        One row per active account (see :func:`account_values`).
    state : ReviewState
    rule : ClassRule
    """

    table: pd.DataFrame
    state: ReviewState
    rule: ClassRule


def _quantiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.quantile(values, [_TAIL, 1.0 - _TAIL], axis=1)
    return low, high


#: Accounts valued per block: (accounts, replications) draws stay a few MB.
_ACCOUNTS_AT_ONCE = 2000


def _account_draws(segment, factors, columns: np.ndarray, survived: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                         np.ndarray]:
    """Mean, P5 and P95 across replications of each account's expected value,
    ``(m revenue_r(a) - k fixed_r(a)) / (1 - G h_r(a))`` (``survived``: the last factor,
    ``(R, N)``), a block of accounts at a time."""
    count = segment.tenure.size
    mean, low, high = np.empty(count), np.empty(count), np.empty(count)
    for start in range(0, count, _ACCOUNTS_AT_ONCE):
        block = slice(start, start + _ACCOUNTS_AT_ONCE)
        draws = (segment.mrr[block, None] * factors.revenue[:, columns[block]].T
                 - segment.cost[block, None] * factors.fixed[:, columns[block]].T) * survived[:, block].T
        mean[block] = draws.mean(axis=1)
        low[block], high[block] = _quantiles(draws)
    return mean, low, high


def account_values(inputs: PlanInputs, rule: ClassRule, *, review_every_months: int | None = None,
                   review_window_months: int | None = None, include_new: bool = False) -> AccountValues:
    """Value every active account (and, for a plan, every review).

    Parameters
    ----------
    inputs : PlanInputs
    rule : ClassRule
    review_every_months : int, optional
        Months between reviews (default: one review, at ``as_of``).
    review_window_months : int, optional
        Reviews happen in months ``0, review, 2 review, ...`` below this (default: the horizon).
    include_new : bool
        Add one unit per segment for its new accounts.

    Returns
    -------
    AccountValues
        ``table`` columns: ``customer_id, segment, tenure_months, mrr,
        cost_to_serve_per_month`` (money / month); ``expected_profit`` with
        ``expected_profit_lower_90`` / ``_upper_90`` (money, discounted to ``as_of``,
        over the horizon); ``expected_remaining_lifetime_months`` with its interval
        (months still paid within the horizon); ``p_active_12_months``;
        ``expected_cost_to_serve``, ``expansion_potential`` (money);
        ``profit_to_cost`` (E / C); ``account_class``; ``profit_rank`` (1 = highest
        expected profit) and ``profit_top_share`` (rank / accounts).
    """
    H = inputs.horizon_months
    step = int(review_every_months) if review_every_months else H
    reviews = np.arange(0, min(H, review_window_months or H), step, dtype=np.int64)
    names = tuple(sorted(inputs.segments))
    frames, units = [], {key: [] for key in ("segment", "is_new", "tenure", "mrr", "cost", "profit", "cost_to_serve",
                                             "expansion")}
    for index, name in enumerate(names):
        segment = inputs.segments[name]
        growth = segment.growth()
        needed = np.unique(np.concatenate([
            (segment.tenure[:, None] + reviews[None, :]).ravel(),
            reviews[reviews >= 1] - 1 if include_new else np.zeros(0, np.int64), [0]]))
        factors = tenure_factors(segment, needed)
        revenue, flat, fixed = (getattr(factors, n).mean(axis=0) for n in ("revenue", "flat", "fixed"))

        # Every review: tenure a + c, MRR at its expected value m g^c; an account still
        # active at a review has outlived the same share of that month's churns as now
        # (its factor at the mean hazard of the renewal then).
        columns = factors.index(segment.tenure[:, None] + reviews[None, :])
        mrr_then = segment.mrr[:, None] * growth ** reviews[None, :]
        survived = np.stack([segment.survived_factor(c).mean(axis=0) for c in reviews], axis=1) \
            if segment.tenure.size else np.ones((0, reviews.size))
        units["profit"].append((mrr_then * revenue[columns] - segment.cost[:, None] * fixed[columns]) * survived)
        units["cost_to_serve"].append(segment.cost[:, None] * fixed[columns] * survived)
        units["expansion"].append(mrr_then * (revenue[columns] - flat[columns]) * survived)
        count = segment.tenure.size
        units["segment"].append(np.full(count, index))
        units["is_new"].append(np.zeros(count, bool))
        units["tenure"].append(segment.tenure)
        units["mrr"].append(segment.mrr)
        units["cost"].append(segment.cost)

        # At as_of, per replication: the interval of each account's expected value.
        now = factors.index(segment.tenure)
        survived_now = segment.survived_factor(0)
        mean, low, high = _account_draws(segment, factors, now, survived_now)
        months_now = factors.months[:, now] * survived_now
        months_low, months_high = _quantiles(months_now.T) if count else (np.zeros(0), np.zeros(0))
        frames.append(pd.DataFrame({
            "customer_id": segment.customer_id, "segment": name, "tenure_months": segment.tenure,
            "mrr": segment.mrr, "cost_to_serve_per_month": segment.cost,
            "expected_profit": mean, "expected_profit_lower_90": low, "expected_profit_upper_90": high,
            "expected_remaining_lifetime_months": months_now.mean(axis=0),
            "expected_remaining_lifetime_months_lower_90": months_low,
            "expected_remaining_lifetime_months_upper_90": months_high,
            "p_active_12_months": (factors.active_12[:, now] * survived_now).mean(axis=0),
        }))

        if include_new:
            for key, values in zip(("profit", "cost_to_serve", "expansion"),
                                   _new_review_state(segment, reviews, revenue, flat, fixed, factors)):
                units[key].append(values[None, :])
            units["segment"].append(np.array([index]))
            units["is_new"].append(np.array([True]))
            units["tenure"].append(np.array([-1]))
            units["mrr"].append(np.array([segment.new_mrr]))
            units["cost"].append(np.array([segment.new_cost]))

    joined = {key: np.concatenate(values) if values else np.zeros(0) for key, values in units.items()}
    K = reviews.size
    for key in ("profit", "cost_to_serve", "expansion"):
        joined[key] = joined[key].reshape(-1, K) if joined[key].size else np.zeros((0, K))
    classes = rule.classify(joined["profit"], joined["cost_to_serve"], joined["expansion"])
    state = ReviewState(reviews, joined["segment"].astype(np.int64), joined["is_new"].astype(bool),
                        joined["tenure"].astype(np.int64), joined["mrr"].astype(np.float64),
                        joined["cost"].astype(np.float64), joined["profit"], joined["cost_to_serve"],
                        joined["expansion"], classes, names)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    existing = ~state.is_new
    table["expected_cost_to_serve"] = state.cost_to_serve[existing, 0]
    table["expansion_potential"] = state.expansion[existing, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["profit_to_cost"] = np.where(table["expected_cost_to_serve"] > 0,
                                           table["expected_profit"] / table["expected_cost_to_serve"], np.inf)
    table["account_class"] = class_names(classes[existing, 0])
    rank = table["expected_profit"].rank(ascending=False, method="first").astype(np.int64)
    table["profit_rank"] = rank
    table["profit_top_share"] = rank / max(len(table), 1)
    return AccountValues(table, state, rule)


def _new_review_state(segment, reviews: np.ndarray, revenue: np.ndarray, flat: np.ndarray, fixed: np.ndarray,
                      factors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A new account's expected profit, cost to serve and expansion potential at each
    review of its own tenure: at acquisition, its value as a new account; at tenure
    ``t >= 1``, the value of an account that has paid ``t`` months (tenure ``t - 1``) with
    MRR at its expected value ``m g^(t - 1)`` (events start in its second month).
    ``revenue``, ``flat`` and ``fixed`` are the mean tenure factors of ``factors``."""
    H = segment.horizon_months
    profit, cost, expansion = (np.empty(reviews.size) for _ in range(3))
    later = reviews >= 1
    columns = factors.index(reviews[later] - 1)
    mrr_then = segment.new_mrr * segment.growth() ** (reviews[later] - 1)
    profit[later] = mrr_then * revenue[columns] - segment.new_cost * fixed[columns]
    cost[later] = segment.new_cost * fixed[columns]
    expansion[later] = mrr_then * (revenue[columns] - flat[columns])
    if not later.all():
        ones = np.ones(H)
        base = new_path(segment, ones, ones, np.zeros(H), 1)
        paid = base.fixed.mean()
        profit[~later] = base.value(segment.new_mrr, segment.new_cost).mean()
        cost[~later] = segment.new_cost * paid
        expansion[~later] = segment.new_mrr * (base.revenue.mean() - segment.margin * paid)
    return profit, cost, expansion
