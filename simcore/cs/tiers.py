"""Tiers, their rules and what an assignment means over time.

**Assignment.** At every review an account still active goes to the first tier, in the
order the config lists them, whose rule holds, and to no tier when none does. A rule holds
when every condition it gives holds: expected profit at or above a threshold, among the
top share of accounts, in one of the listed classes, in one of the listed segments.

**Moves.** Reviews happen every ``review_every_months`` months of the planning window,
from the projection start (month 0 is the first review). At a review an account is judged
on its *then-current* expected profit and class: the value of an account of its tenure
then, with its MRR at its expected value then, without customer success (a tier's own
effect never keeps an account in it). Between reviews, and after the last review of the
planning window, it stays in its tier. Accounts that churn leave their tier. A new
account is assigned when it is acquired and reviewed every ``review_every_months`` months
of its own tenure within its first ``planning_months``. One replication's random MRR path
does not move an account: moves follow the expected path, so every account has one tier
path, known in advance, and accounts with the same path are simulated together.

**Top share.** ``top_share: 5%`` ranks the active accounts at the projection start that the
rule's other conditions admit and becomes the expected profit of the last account in;
later reviews (and new accounts) use that profit as the threshold.

A :class:`Policy` holds the thresholds — per tier and segment — that the optimiser moves;
the rules' segment and class conditions stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from simcore.config.cs_plan import ACCOUNT_CLASSES, NO_TIER, CsPlanConfig
from simcore.cs.accounts import ReviewState

#: Tier code of "no tier" in path arrays.
NONE = -1


@dataclass(frozen=True)
class TierSpec:
    """One tier of the config as plain numbers.

    Attributes
    ----------
    name : str
    accounts_per_csm, cost_per_csm_per_year : float
    ramp_up_months, starting_headcount : int
    churn_multiplier, expansion_multiplier : float
        The assumed effect of coverage.
    segments : frozenset of str or None
    classes : frozenset of int or None
        Class codes of :mod:`simcore.cs.classify`.
    min_expected_profit, top_share : float or None
    """

    name: str
    accounts_per_csm: float
    cost_per_csm_per_year: float
    ramp_up_months: int
    starting_headcount: int
    churn_multiplier: float
    expansion_multiplier: float
    segments: frozenset | None = None
    classes: frozenset | None = None
    min_expected_profit: float | None = None
    top_share: float | None = None

    @property
    def cost_per_account_month(self) -> float:
        """A covered account's share of a CSM (money per active account per month)."""
        return self.cost_per_csm_per_year / 12.0 / self.accounts_per_csm

    @property
    def cost_per_month(self) -> float:
        """One CSM per month (money)."""
        return self.cost_per_csm_per_year / 12.0

    def rule_text(self) -> str:
        parts = []
        if self.min_expected_profit is not None:
            parts.append(f"expected profit >= {self.min_expected_profit:,.0f}")
        if self.top_share is not None:
            parts.append(f"top {self.top_share:.0%} by expected profit")
        if self.classes is not None:
            parts.append("class " + " or ".join(ACCOUNT_CLASSES[c] for c in sorted(self.classes)))
        if self.segments is not None:
            parts.append("segment " + " or ".join(sorted(self.segments)))
        return " and ".join(parts) or "every account"

    def effect_text(self) -> str:
        return (f"1 CSM per {self.accounts_per_csm:g} accounts at {self.cost_per_csm_per_year:,.0f} a year "
                f"({self.cost_per_account_month:,.2f} per account-month), {self.ramp_up_months} months ramp-up; "
                f"assumed churn x{self.churn_multiplier:g}, expansion x{self.expansion_multiplier:g}")


def tier_specs(config: CsPlanConfig) -> list[TierSpec]:
    """The config's tiers, in their order."""
    specs = []
    for tier in config.tiers:
        rule = tier.rule
        specs.append(TierSpec(
            name=tier.name, accounts_per_csm=tier.accounts_per_csm, cost_per_csm_per_year=tier.cost_per_csm_per_year,
            ramp_up_months=tier.ramp_up_months, starting_headcount=tier.starting_headcount,
            churn_multiplier=tier.churn_multiplier, expansion_multiplier=tier.expansion_multiplier,
            segments=None if rule.segments is None else frozenset(rule.segments),
            classes=None if rule.classes is None else frozenset(ACCOUNT_CLASSES.index(c) for c in rule.classes),
            min_expected_profit=rule.min_expected_profit, top_share=rule.top_share))
    return specs


@dataclass(frozen=True)
class Policy:
    """An assignment rule set: for tier ``t`` and segment ``s`` an account qualifies when it
    passes the tier's segment and class conditions and its expected profit at the review
    is at least ``thresholds[t, s]`` (``inf``: nobody; ``-inf``: every account admitted).

    Attributes
    ----------
    name : str
        ``current``, ``optimised``, ``uniform: <tier>``, ``no customer success``.
    thresholds : (T, S) float64
    filters : {"rules", "segments"}
        Apply the rules' segment and class conditions, or their segment conditions only
        (a uniform playbook: every account of the tier's segments, whatever its class).
    excluded : dict of int -> (U,) bool
        Units kept out of a tier (the marginal accounts of :mod:`simcore.cs.optimise`).
    """

    name: str
    thresholds: np.ndarray
    filters: str = "rules"
    excluded: dict = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.filters, self.thresholds.tobytes(),
                tuple(sorted((t, mask.tobytes()) for t, mask in self.excluded.items())))

    def with_threshold(self, tier: int, segments, value: float) -> "Policy":
        thresholds = self.thresholds.copy()
        thresholds[tier, segments] = value
        return replace(self, thresholds=thresholds)


def eligible(spec: TierSpec, state: ReviewState, *, classes: bool = True) -> np.ndarray:
    """(U, K) bool: units passing the tier's segment (and class) conditions at each review."""
    ok = np.ones(state.classes.shape, dtype=bool)
    if spec.segments is not None:
        allowed = np.array([name in spec.segments for name in state.segments], dtype=bool)
        ok &= allowed[state.segment][:, None]
    if classes and spec.classes is not None:
        ok &= np.isin(state.classes, list(spec.classes))
    return ok


def top_share_threshold(spec: TierSpec, state: ReviewState) -> float:
    """Expected profit of the last account in the tier's top share, among the active
    accounts at the projection start that its other conditions admit (``inf`` when none)."""
    admitted = eligible(spec, state)[:, 0] & ~state.is_new
    if spec.min_expected_profit is not None:
        admitted &= state.profit[:, 0] >= spec.min_expected_profit
    profits = np.sort(state.profit[admitted, 0])[::-1]
    if not profits.size:
        return float("inf")
    count = max(1, int(np.ceil(spec.top_share * profits.size - 1e-9)))
    return float(profits[count - 1])


def configured_policy(specs: list[TierSpec], state: ReviewState) -> Policy:
    """The assignment the config's rules give (thresholds from ``min_expected_profit`` and
    ``top_share``; a tier with neither admits every account its other conditions admit)."""
    thresholds = np.full((len(specs), len(state.segments)), -np.inf)
    for t, spec in enumerate(specs):
        value = -np.inf
        if spec.min_expected_profit is not None:
            value = max(value, spec.min_expected_profit)
        if spec.top_share is not None:
            value = max(value, top_share_threshold(spec, state))
        thresholds[t, :] = value
    return Policy("current", thresholds)


def nobody(specs: list[TierSpec], state: ReviewState, name: str = "no customer success") -> Policy:
    return Policy(name, np.full((len(specs), len(state.segments)), np.inf))


def uniform(specs: list[TierSpec], state: ReviewState, tier: int) -> Policy:
    """A uniform playbook: every account of the tier's segments, existing and new, in tier
    ``tier`` at every review, whatever its profit or class."""
    thresholds = np.full((len(specs), len(state.segments)), np.inf)
    thresholds[tier, :] = -np.inf
    return Policy(f"uniform: {specs[tier].name}", thresholds, filters="segments")


def review_tiers(specs: list[TierSpec], state: ReviewState, policy: Policy,
                 eligibility: list[np.ndarray] | None = None) -> np.ndarray:
    """(U, K) int8: each unit's tier at each review (:data:`NONE` for no tier).
    ``eligibility`` caches :func:`eligible` of every tier (with classes)."""
    out = np.full(state.profit.shape, NONE, dtype=np.int8)
    free = np.ones(state.profit.shape, dtype=bool)
    for t, spec in enumerate(specs):
        qualifies = state.profit >= policy.thresholds[t][state.segment][:, None]
        if policy.filters == "segments":
            qualifies &= eligible(spec, state, classes=False)
        else:
            qualifies &= eligibility[t] if eligibility is not None else eligible(spec, state)
        if t in policy.excluded:
            qualifies &= ~policy.excluded[t][:, None]
        take = qualifies & free
        out[take] = t
        free &= ~take
    return out


def monthly_tiers(reviews: np.ndarray, review_every_months: int, months: int) -> np.ndarray:
    """Tier in each of ``months`` months from the tiers at each review, ``(..., K) -> (..., months)``."""
    index = np.minimum(np.arange(months) // review_every_months, reviews.shape[-1] - 1)
    return reviews[..., index]


def tier_label(code: int, specs: list[TierSpec]) -> str:
    return NO_TIER if code == NONE else specs[code].name


def path_text(path: np.ndarray, review_months: np.ndarray, specs: list[TierSpec], *, tenure: bool = False) -> str:
    """``dedicated`` or ``none, pooled from month 9``: a unit's tier and its moves."""
    unit = "tenure month" if tenure else "month"
    parts = [tier_label(int(path[0]), specs)]
    for k in range(1, path.size):
        if path[k] != path[k - 1]:
            parts.append(f"{tier_label(int(path[k]), specs)} from {unit} {int(review_months[k])}")
    return ", ".join(parts)
