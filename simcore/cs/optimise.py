"""Tier thresholds that maximise expected profit net of customer-success cost, under a cap.

The decision is one expected-profit threshold per tier (or per tier and segment with
``optimise.per_segment``); the rules' segment and class conditions stay as written. The
objective is the expected net gain over no customer success
(:class:`~simcore.cs.evaluate.Evaluator`): every candidate is valued on the same
replications — the engine's parameter draws for the seed — so candidates differ by their
assignment alone and the same seed always gives the same answer.

Candidates of a threshold are the expected profits at the start of the accounts the tier
admits: all of them when there are at most ``optimise.candidates``, else that many
quantiles, and later every value between the best quantile's neighbours.

Search: a greedy fill, then coordinate ascent. The fill starts with nobody covered and
lowers, step by step, the threshold whose next candidate adds the most expected net gain
per unit of the capped resource (CSMs in the peak month, or the peak year's CSM cost)
while staying within the cap — a cap is a knapsack, and filling it by efficiency keeps
one dear tier from crowding out a cheap one. Coordinate ascent then tries, for each
threshold in turn, every candidate with the others fixed, keeping the best within the
cap, until a pass changes nothing. The ascent also runs from nobody covered and from the
configured rules (when within the cap); the best end wins. Ties go to the higher
threshold: an account is covered only when covering it is expected to pay.

The *marginal profit of the last CSM* of a tier is what the plan loses when the tier
covers ``accounts_per_csm`` fewer accounts — the ones with the lowest expected profit
at the start, which then fall to the next tier whose rule admits them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simcore.cs.evaluate import Evaluation, Evaluator
from simcore.cs.tiers import Policy, configured_policy, nobody, uniform

#: Most values tried between the neighbours of the best quantile.
REFINE_VALUES = 120
MAX_PASSES = 8
#: Steps (in candidates) the greedy fill looks ahead on each threshold.
LOOKAHEAD = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Variable:
    """One threshold the optimiser moves: tier ``tier`` in segments ``segments`` (indices)."""

    tier: int
    segments: tuple
    candidates: np.ndarray     # ascending; +inf last (nobody)
    values: np.ndarray         # every distinct expected profit the threshold can separate


@dataclass(frozen=True)
class OptimiserResult:
    """The optimiser's answer.

    Attributes
    ----------
    best : Evaluation
    current : Evaluation
        The configured rules (possibly beyond the cap).
    uniform : list of Evaluation
        Every account in one tier, per tier.
    nobody : Evaluation
    evaluations : int
        Assignments valued during the search.
    binding : bool
        Whether the cap stopped a better assignment found during the search.
    """

    best: Evaluation
    current: Evaluation
    uniform: list
    nobody: Evaluation
    evaluations: int
    binding: bool


def _variables(evaluator: Evaluator, per_segment: bool, count: int) -> list[Variable]:
    state, specs = evaluator.state, evaluator.specs
    out = []
    for t, spec in enumerate(specs):
        allowed = [s for s, name in enumerate(state.segments) if spec.segments is None or name in spec.segments]
        groups = [(s,) for s in allowed] if per_segment else [tuple(allowed)]
        for segments in groups:
            admitted = evaluator.eligibility[t][:, 0] & np.isin(state.segment, segments)
            values = np.unique(state.profit[admitted, 0])
            if values.size == 0:
                continue
            if values.size <= count:
                grid = values
            else:
                grid = np.unique(np.quantile(values, np.linspace(0.0, 1.0, count), method="inverted_cdf"))
            out.append(Variable(t, segments, np.concatenate([grid, [np.inf]]), values))
    return out


class _Search:
    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator
        self.evaluations = 0
        self.blocked = False      # a better assignment beyond the cap was met

    def value(self, policy: Policy) -> Evaluation:
        self.evaluations += 1
        return self.evaluator.evaluate(policy)

    def better(self, trial: Evaluation, best: Evaluation) -> bool:
        if trial.net_gain <= best.net_gain + self.evaluator.tolerance:
            return False
        if not trial.feasible:
            self.blocked = True
            return False
        return True

    def line(self, policy: Policy, variable: Variable, candidates) -> Policy:
        """The best value of one threshold, the others fixed; from high to low, so that a
        tie keeps the higher threshold."""
        best = self.value(policy)
        chosen = policy
        for value in sorted(candidates, reverse=True):
            trial_policy = policy.with_threshold(variable.tier, list(variable.segments), value)
            trial = self.value(trial_policy)
            if self.better(trial, best):
                best, chosen = trial, trial_policy
        return chosen

    def ascend(self, policy: Policy, variables: list[Variable]) -> Policy:
        for _ in range(MAX_PASSES):
            before = self.value(policy).net_gain
            for variable in variables:
                policy = self.line(policy, variable, variable.candidates)
            if self.value(policy).net_gain <= before + self.evaluator.tolerance:
                break
        return policy

    def fill(self, policy: Policy, variables: list[Variable]) -> Policy:
        """Greedy fill from ``policy`` (see the module notes)."""
        cap = self.evaluator.cap
        position = [v.candidates.size - 1 for v in variables]
        current = self.value(policy)
        while True:
            best = None
            for j, variable in enumerate(variables):
                # Steps of 1, 2, 4, ... candidates: a CSM is a whole person, so the first
                # accounts of a tier cost a full CSM and only a longer step shows its worth.
                for step in LOOKAHEAD:
                    target = position[j] - step
                    if target < 0:
                        break
                    trial_policy = policy.with_threshold(variable.tier, list(variable.segments),
                                                         variable.candidates[target])
                    trial = self.value(trial_policy)
                    gain = trial.net_gain - current.net_gain
                    if not trial.feasible:
                        self.blocked = self.blocked or gain > 0
                        break
                    if gain <= self.evaluator.tolerance:
                        continue
                    if cap.headcount is not None:
                        used = trial.peak_headcount - current.peak_headcount
                    elif cap.budget_per_year is not None:
                        used = trial.peak_budget_per_year - current.peak_budget_per_year
                    else:
                        used = 0.0
                    rank = (gain / used if used > 0 else np.inf, gain)
                    if best is None or rank > best[0]:
                        best = (rank, j, target, trial_policy, trial)
            if best is None:
                return policy
            _, j, position[j], policy, current = best

    def refine(self, policy: Policy, variables: list[Variable]) -> Policy:
        """Try every distinct value between the neighbours of each chosen quantile."""
        for variable in variables:
            if variable.values.size + 1 <= variable.candidates.size:
                continue
            current = policy.thresholds[variable.tier, variable.segments[0]]
            grid = variable.candidates
            position = int(np.searchsorted(grid, current))
            low = grid[max(0, position - 1)]
            high = grid[min(grid.size - 1, position + 1)]
            between = variable.values[(variable.values > low) & (variable.values < high)]
            if between.size > REFINE_VALUES:
                between = between[np.linspace(0, between.size - 1, REFINE_VALUES).astype(np.int64)]
            policy = self.line(policy, variable, between)
        return policy


def optimise(evaluator: Evaluator, *, per_segment: bool = False, candidates: int = 40) -> OptimiserResult:
    """Search the thresholds (see the module notes).

    Parameters
    ----------
    evaluator : Evaluator
        Holds the units, the tiers and the cap.
    per_segment : bool
        One threshold per tier and segment instead of per tier.
    candidates : int
        Quantiles of expected profit tried per threshold.
    """
    specs, state = evaluator.specs, evaluator.state
    search = _Search(evaluator)
    variables = _variables(evaluator, per_segment, candidates)
    none = nobody(specs, state)
    starts = [none]
    current_policy = configured_policy(specs, state)
    current = search.value(current_policy)
    if current.feasible:
        starts.append(current_policy)
    starts.append(search.fill(none, variables))
    ends = []
    for start in starts:
        policy = search.ascend(start, variables)
        policy = search.refine(policy, variables)
        policy = search.ascend(policy, variables)
        ends.append(search.value(policy))
    best = max(ends, key=lambda e: (e.net_gain, -_covered_units(e)))
    if best.net_gain <= evaluator.tolerance:
        best = search.value(none)
    best = replace(best, policy=replace(best.policy, name="optimised"))
    uniforms = [search.value(uniform(specs, state, t)) for t in range(len(specs))]
    return OptimiserResult(best, current, uniforms, search.value(none), search.evaluations, search.blocked)


def _covered_units(evaluation: Evaluation) -> int:
    return int((evaluation.reviews >= 0).any(axis=1).sum())


def marginal_csm(evaluator: Evaluator, evaluation: Evaluation, tier: int) -> tuple[float, int]:
    """Net gain (money) the plan loses with one CSM fewer in ``tier``, and the accounts
    that CSM covers: the ``accounts_per_csm`` accounts of the tier with the lowest expected
    profit at the start (fewer when the tier has fewer), which then fall to the next tier
    that admits them. ``(nan, 0)`` when the tier starts with no account."""
    state = evaluator.state
    members = np.flatnonzero((evaluation.reviews[:, 0] == tier) & ~state.is_new)
    if not members.size:
        return float("nan"), 0
    size = int(np.ceil(evaluator.specs[tier].accounts_per_csm - 1e-9))
    last = members[np.argsort(state.profit[members, 0], kind="stable")[:size]]
    mask = np.zeros(state.segment.size, dtype=bool)
    mask[last] = True
    excluded = {**evaluation.policy.excluded, tier: mask}
    fewer = evaluator.evaluate(replace(evaluation.policy, excluded=excluded))
    return float(evaluation.net_gain - fewer.net_gain), int(last.size)
