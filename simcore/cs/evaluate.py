"""The expected profit, cost and headcount of a tier assignment, without simulation.

An assignment gives every unit (an active account, or a segment's new accounts) a tier
path (:mod:`simcore.cs.tiers`). Units of one segment with the same tenure and path share
their sums (:class:`~simcore.cs.values.PathValue`), computed once and cached, so trying
another threshold costs only the paths it changes. Every candidate uses the same
replications — the engine's parameter draws for this seed — so two candidates differ by
the assignment alone (common random numbers).

What is counted
---------------
*Net gain* of a unit = its expected discounted contribution over the horizon on its path,
less its customer-success cost (``cost_per_csm_per_year / 12 / accounts_per_csm`` for
every month it is active and covered), less the same contribution without customer
success. New accounts of a segment count once per account acquired over the horizon,
discounted from their acquisition month. The *expected headcount* of a tier in month
``c`` is ``ceil(E[covered accounts active in c] / accounts_per_csm)``: the optimiser's
caps use it; the plan's P50 and P90 come from the Monte Carlo paths
(:mod:`simcore.cs.headcount`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from simcore.cs.accounts import ReviewState
from simcore.cs.inputs import PlanInputs
from simcore.cs.tiers import NONE, Policy, TierSpec, eligible, monthly_tiers, review_tiers
from simcore.cs.values import PathValue, existing_paths, expected_new_active, new_account_weight, new_path


#: Evaluations kept for reuse (the most recently used).
_EVALUATIONS_KEPT = 256
#: Paths computed in one block: bounds the (replications, paths, planning months) array.
_PATHS_AT_ONCE = 128


@dataclass(frozen=True)
class Evaluation:
    """What one assignment is expected to give.

    Attributes
    ----------
    policy : Policy
    reviews : (U, K) int8
        Tier of each unit at each review.
    net_gain : float
        Expected net gain over no customer success (money, discounted to the start).
    cs_cost : float
        Expected customer-success cost over the horizon (discounted, share per covered
        account-month).
    covered : (T, P) float64
        Expected covered accounts active in each month of the planning window, per tier.
    csms : (T, P) int64
        ``ceil(covered / accounts_per_csm)``.
    peak_headcount : int
        Most CSMs of all tiers together in one month.
    peak_budget_per_year : float
        Most CSM cost (money) of one plan year, a partial year scaled to twelve months.
    feasible : bool
        Within the cap (always true without one).
    """

    policy: Policy
    reviews: np.ndarray
    net_gain: float
    cs_cost: float
    covered: np.ndarray
    csms: np.ndarray
    peak_headcount: int
    peak_budget_per_year: float
    feasible: bool


@dataclass(frozen=True)
class Draws:
    """An assignment per replication, by groups of units that share a path.

    Attributes
    ----------
    gain, cs_cost : (G, R) float64
        Net gain over no customer success and CS cost of each group (money, discounted
        to the start; new-account units count every account of the horizon).
    start : (G,) int8
        The group's tier at the first review (:data:`~simcore.cs.tiers.NONE`: none).
    joins_later : (G,) bool
        No tier at the start, one at a later review.
    unit_gain : (U,) float64
        Each unit's expected net gain.
    """

    gain: np.ndarray
    cs_cost: np.ndarray
    start: np.ndarray
    joins_later: np.ndarray
    unit_gain: np.ndarray


@dataclass(frozen=True)
class Cap:
    """The optimiser's limit: ``headcount`` CSMs in any month, or ``budget_per_year`` of
    CSM cost in any plan year, on the expected path; neither means no limit."""

    headcount: int | None = None
    budget_per_year: float | None = None

    def holds(self, peak_headcount: int, peak_budget: float) -> bool:
        if self.headcount is not None and peak_headcount > self.headcount:
            return False
        if self.budget_per_year is not None and peak_budget > self.budget_per_year * (1 + 1e-12):
            return False
        return True

    def text(self) -> str:
        if self.headcount is not None:
            return f"at most {self.headcount:,} CSMs in any month of the planning window (expected path)"
        if self.budget_per_year is not None:
            return f"at most {self.budget_per_year:,.0f} of CSM cost in any plan year (expected path)"
        return "no cap"


class Evaluator:
    """Evaluate assignments of one plan's units (see the module notes).

    Parameters
    ----------
    inputs : PlanInputs
    state : ReviewState
    specs : list of TierSpec
    review_every_months, planning_months : int
    cap : Cap
    """

    def __init__(self, inputs: PlanInputs, state: ReviewState, specs: list[TierSpec], *,
                 review_every_months: int, planning_months: int, cap: Cap = Cap()):
        self.inputs, self.state, self.specs = inputs, state, specs
        self.step, self.planning, self.cap = int(review_every_months), int(planning_months), cap
        self.horizon = inputs.horizon_months
        self._segments = [inputs.segments[name] for name in state.segments]
        T = self.n_tiers = len(specs)
        # Index T stands for "no tier" in these lookups (path code -1).
        self._churn = np.array([s.churn_multiplier for s in specs] + [1.0])
        self._expansion = np.array([s.expansion_multiplier for s in specs] + [1.0])
        self._share = np.array([s.cost_per_account_month for s in specs] + [0.0])
        self._ratio = np.array([s.accounts_per_csm for s in specs])
        self._cost_per_month = np.array([s.cost_per_month for s in specs])
        self.eligibility = [eligible(spec, state) for spec in specs]
        weights = np.ones(state.segment.size)
        new_units = np.flatnonzero(state.is_new)
        weights[new_units] = [new_account_weight(self._segments[state.segment[u]]) for u in new_units]
        self.weights = weights
        # Means over replications of every path met so far, by (segment, tenure, reviews).
        self._ids: dict[bytes, int] = {}
        self._means: list[np.ndarray] = []          # rows: revenue, fixed, cs_cost
        self._paid: list[np.ndarray] = []           # rows: P(c), c < P
        self._table: tuple | None = None
        self._evaluated: OrderedDict[tuple, Evaluation] = OrderedDict()
        none = np.full(state.profit.shape, NONE, dtype=np.int8)
        self.baseline_mean, magnitude = self._expected(none)[:2]
        # Sums over thousands of accounts in different orders differ in their last bits:
        # a gain smaller than this (money) is no gain.
        self.tolerance = 1e-10 * magnitude + 1e-9

    # ------------------------------------------------------------------ paths
    def _arrays(self, reviews: np.ndarray):
        """Per-month churn, expansion and cost factors ``(M, H)`` of review rows ``(M, K)``."""
        months = monthly_tiers(reviews, self.step, self.horizon)
        months = np.where(months == NONE, self.n_tiers, months)
        return self._churn[months], self._expansion[months], self._share[months]

    def _compute(self, codes: np.ndarray, *, paid: bool = True) -> PathValue:
        """Per-replication sums of paths given as rows ``[segment, tenure, reviews...]``,
        all of one segment and kind (existing when tenure >= 0); ``paid`` keeps the
        monthly probabilities of the planning window (``(R, M, P)``: large)."""
        segment = self._segments[int(codes[0, 0])]
        churn, expansion, cost = self._arrays(codes[:, 2:])
        months = self.planning if paid else 0
        if codes[0, 1] >= 0:
            return existing_paths(segment, codes[:, 1], churn, expansion, cost, months)
        parts = [new_path(segment, churn[j], expansion[j], cost[j], months) for j in range(len(codes))]
        return PathValue(*(np.stack([getattr(p, name) for p in parts], axis=1)
                           for name in ("revenue", "fixed", "cs_cost", "paid")))

    def _path_ids(self, codes: np.ndarray) -> np.ndarray:
        """Row of each path of ``codes`` in the table of means, computing the new ones."""
        keys = [row.tobytes() for row in codes]
        ids = np.array([self._ids.get(key, -1) for key in keys], dtype=np.int64)
        missing = np.flatnonzero(ids < 0)
        if missing.size:
            kinds = codes[missing, 0] * 2 + (codes[missing, 1] < 0)
            for kind in np.unique(kinds):
                of_kind = missing[kinds == kind]
                for start in range(0, of_kind.size, _PATHS_AT_ONCE):
                    rows = of_kind[start:start + _PATHS_AT_ONCE]
                    value = self._compute(codes[rows])
                    self._means.append(np.stack([value.revenue.mean(axis=0), value.fixed.mean(axis=0),
                                                 value.cs_cost.mean(axis=0)], axis=1))
                    self._paid.append(value.paid.mean(axis=0))
                    for j in rows:
                        ids[j] = self._ids[keys[j]] = len(self._ids)
            self._table = None
        return ids

    def _groups(self, reviews: np.ndarray):
        """Unique (segment, tenure, path) rows: (codes of each, first unit of each, inverse)."""
        state = self.state
        codes = np.ascontiguousarray(np.concatenate(
            [state.segment[:, None], state.tenure[:, None], reviews.astype(np.int64)], axis=1).astype(np.int32))
        rows = codes.view(np.dtype((np.void, codes.dtype.itemsize * codes.shape[1]))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        return codes[first], inverse.reshape(-1)

    def draws(self, reviews: np.ndarray) -> Draws:
        """Net gain and CS cost per replication of the groups of units sharing a path, and
        each unit's expected net gain (see :class:`Draws`)."""
        state, R = self.state, self.inputs.replications
        codes, inverse = self._groups(reviews)
        G = len(codes)
        weight = np.bincount(inverse, weights=self.weights, minlength=G)
        mrr = np.bincount(inverse, weights=self.weights * state.mrr, minlength=G)
        cost = np.bincount(inverse, weights=self.weights * state.cost, minlength=G)
        gain, cs_cost = np.empty((G, R)), np.empty((G, R))
        unit_gain = np.empty(state.segment.size)
        kinds = codes[:, 0] * 2 + (codes[:, 1] < 0)
        for kind in np.unique(kinds):
            groups = np.flatnonzero(kinds == kind)
            value = self._compute(codes[groups], paid=False)
            # The same accounts without customer success: one path per (segment, tenure).
            bare = codes[groups].copy()
            bare[:, 2:] = NONE
            unique, back = np.unique(bare, axis=0, return_inverse=True)
            base = self._compute(unique, paid=False)
            revenue = value.revenue - base.revenue[:, back.reshape(-1)]
            fixed = value.fixed - base.fixed[:, back.reshape(-1)]
            gain[groups] = (mrr[groups, None] * revenue.T - cost[groups, None] * fixed.T
                            - weight[groups, None] * value.cs_cost.T)
            cs_cost[groups] = weight[groups, None] * value.cs_cost.T
            position = np.full(G, -1)
            position[groups] = np.arange(groups.size)
            members = np.flatnonzero(np.isin(inverse, groups))
            j = position[inverse[members]]
            unit_gain[members] = self.weights[members] * (
                state.mrr[members] * revenue.mean(axis=0)[j] - state.cost[members] * fixed.mean(axis=0)[j]
                - value.cs_cost.mean(axis=0)[j])
        first = codes[:, 2]
        return Draws(gain, cs_cost, first, (first == NONE) & (codes[:, 2:] != NONE).any(axis=1), unit_gain)

    # ---------------------------------------------------------------- evaluate
    def _expected(self, reviews: np.ndarray):
        """Expected value of every unit on its path, summed (money), the sum of the
        groups' absolute values, the expected CS cost, and the groups (codes, path ids,
        units per group)."""
        state = self.state
        codes, inverse = self._groups(reviews)
        ids = self._path_ids(codes)
        if self._table is None:
            self._table = (np.concatenate(self._means), np.concatenate(self._paid))
        rows = self._table[0][ids]
        G = len(codes)
        weight = np.bincount(inverse, weights=self.weights, minlength=G)
        mrr = np.bincount(inverse, weights=self.weights * state.mrr, minlength=G)
        cost = np.bincount(inverse, weights=self.weights * state.cost, minlength=G)
        values = mrr * rows[:, 0] - cost * rows[:, 1] - weight * rows[:, 2]
        count = np.bincount(inverse, minlength=G).astype(np.float64)
        return (float(values.sum()), float(np.abs(values).sum()), float(weight @ rows[:, 2]), codes, ids, count)

    def evaluate(self, policy: Policy) -> Evaluation:
        """Expected net gain, cost and headcount of ``policy`` (cached by its thresholds)."""
        key = policy.key()
        if key in self._evaluated:
            self._evaluated.move_to_end(key)
            return self._evaluated[key]
        T, P = self.n_tiers, self.planning
        reviews = review_tiers(self.specs, self.state, policy, self.eligibility)
        value, _, cs_cost, codes, ids, count = self._expected(reviews)
        paid = self._table[1]
        tiers = monthly_tiers(codes[:, 2:], self.step, P)
        tiers = np.where(tiers == NONE, T, tiers)
        covered = np.zeros((T + 1, P))
        existing = codes[:, 1] >= 0
        np.add.at(covered, (tiers[existing], np.broadcast_to(np.arange(P), (int(existing.sum()), P))),
                  count[existing, None] * paid[ids[existing]])
        for g in np.flatnonzero(~existing):  # new accounts: by tenure month, summed over cohorts
            segment = self._segments[int(codes[g, 0])]
            for t in np.unique(tiers[g]):
                covered[t] += expected_new_active(segment, paid[ids[g]] * (tiers[g] == t))
        covered = covered[:T]
        csms = np.ceil(covered / self._ratio[:, None] - 1e-9).astype(np.int64)
        peak_headcount = int(csms.sum(axis=0).max()) if P else 0
        monthly_cost = (csms * self._cost_per_month[:, None]).sum(axis=0)
        years = [monthly_cost[i:i + 12].sum() * 12.0 / len(monthly_cost[i:i + 12]) for i in range(0, P, 12)]
        peak_budget = float(max(years)) if years else 0.0
        result = Evaluation(policy, reviews, value - self.baseline_mean, cs_cost, covered, csms, peak_headcount,
                            peak_budget, self.cap.holds(peak_headcount, peak_budget))
        self._evaluated[key] = result
        # Each evaluation holds every unit's tiers; the search mostly revisits its last few.
        if len(self._evaluated) > _EVALUATIONS_KEPT:
            self._evaluated.popitem(last=False)
        return result
