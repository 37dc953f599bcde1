"""The ``cs_plan:`` section: customer-success tiers, their assumed effects and the optimiser.

Every tier is an *assumption* the user states — how many accounts one customer-success
manager (CSM) covers, what a CSM costs, how long a new hire takes to ramp up, and what
coverage does to churn and expansion. simcore does not measure those effects; it carries
them through the retention curves and economics and says so in every output.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from simcore.config.base import Fraction, StrictModel
from simcore.config.economics import MONEY_LIMIT

#: The account classes of :mod:`simcore.cs.classify`, in the order outputs list them.
ACCOUNT_CLASSES = ("core", "growth", "cautionary")
AccountClass = Literal["core", "growth", "cautionary"]

#: Name of "no tier" in every output; a tier cannot take it.
NO_TIER = "none"

_TIER_NAME = re.compile(r"^[A-Za-z][\w-]{0,39}$")


class ClassificationConfig(StrictModel):
    """Thresholds of the core / growth / cautionary classification of accounts.

    An account is **cautionary** when its expected profit is below
    ``cautionary_below_profit`` or below ``cautionary_below_profit_to_cost`` times its
    expected cost to serve; otherwise **growth** when expected net expansion brings at
    least ``growth_min_expansion_share`` of its expected profit; otherwise **core**.
    """

    cautionary_below_profit: float = Field(
        0.0, ge=-MONEY_LIMIT, le=MONEY_LIMIT,
        description="Expected profit (money, discounted over the horizon) below which an account is cautionary.")
    cautionary_below_profit_to_cost: float = Field(
        1.0, ge=0, le=1000,
        description="Cautionary when expected profit is below this multiple of the account's expected "
        "(discounted) cost to serve: it earns too little over what it costs to serve.")
    growth_min_expansion_share: Fraction = Field(
        0.15, ge=0, le=1,
        description="Growth when expected net expansion brings at least this share of the expected profit.")


class TierRule(StrictModel):
    """Which accounts a tier takes. Every condition given must hold (an empty rule takes
    every account); an account goes to the first tier, in the listed order, whose rule
    holds, and to no tier when none does."""

    min_expected_profit: float | None = Field(
        None, ge=-MONEY_LIMIT, le=MONEY_LIMIT,
        description="Expected profit (money, discounted over the horizon, without customer success) at or above which "
        "an account qualifies; re-checked at every review.")
    top_share: Fraction | None = Field(
        None, gt=0, le=1,
        description="The top share of accounts by expected profit among those the other conditions admit, ranked "
        "at the projection start; turned into the profit of the last account in, which later reviews reuse.")
    classes: list[AccountClass] | None = Field(None, min_length=1, description="Account classes that qualify.")
    segments: list[str] | None = Field(None, min_length=1, description="Segments that qualify.")


class Tier(StrictModel):
    """One customer-success tier and the assumptions it rests on."""

    name: str = Field(..., description="Name of the tier in every output (dedicated, pooled, digital, ...).")
    rule: TierRule = TierRule()
    accounts_per_csm: float = Field(..., ge=1, le=1e6, description="Accounts one CSM covers (at least 1).")
    cost_per_csm_per_year: float = Field(
        ..., ge=0, le=12 * MONEY_LIMIT, description="Loaded cost of one CSM per year (salary, taxes, tools).")
    ramp_up_months: int = Field(0, ge=0, le=36, description="Months a new hire needs before covering accounts.")
    starting_headcount: int = Field(0, ge=0, le=1_000_000, description="CSMs of this tier at the projection start.")
    churn_multiplier: float = Field(
        1.0, ge=0, le=10, description="Assumed factor on the monthly churn hazard of a covered account.")
    expansion_multiplier: float = Field(
        1.0, ge=0, le=10, description="Assumed factor on the monthly probability of an expansion event.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _TIER_NAME.match(value):
            raise ValueError(f"tier name {value!r} must start with a letter and hold letters, digits, '_' or '-' "
                             "(at most 40), e.g. dedicated")
        if value.lower() == NO_TIER:
            raise ValueError(f"'{NO_TIER}' means 'no tier' in the outputs; give the tier another name")
        return value

    @property
    def cost_per_account_month(self) -> float:
        """A covered account's share of a CSM: ``cost_per_csm_per_year / 12 /
        accounts_per_csm`` (money per active account per month)."""
        return self.cost_per_csm_per_year / 12.0 / self.accounts_per_csm


class OptimiserConfig(StrictModel):
    """What the optimiser may spend; with neither cap it maximises profit unconstrained."""

    headcount: int | None = Field(
        None, ge=0, le=1_000_000,
        description="Most CSMs (all tiers together) the plan may need in any month of the planning window, "
        "on the expected path.")
    budget_per_year: float | None = Field(
        None, ge=0, le=12 * MONEY_LIMIT,
        description="Most CSM cost (money) the plan may need in any plan year of the planning window, on the "
        "expected path (a partial last year gets its share).")
    per_segment: bool = Field(False, description="Choose a threshold per tier and segment instead of per tier.")
    candidates: int = Field(40, ge=3, le=400, description="Thresholds tried per tier (quantiles of expected profit).")

    @model_validator(mode="after")
    def _one_cap(self) -> "OptimiserConfig":
        if self.headcount is not None and self.budget_per_year is not None:
            raise ValueError("give either headcount or budget_per_year as the optimiser's cap, not both")
        return self


class CsPlanConfig(StrictModel):
    """Customer-success planning: tiers, reviews, the headcount plan and the optimiser."""

    tiers: list[Tier] = Field(..., min_length=1, max_length=20)
    review_every_months: int = Field(
        3, ge=1, le=600, description="Months between reviews that re-assign accounts to tiers.")
    planning_months: int = Field(
        24, ge=1, le=600, description="Months of the headcount plan (by month and by quarter).")
    staff_to: Literal["p50", "p90"] = Field(
        "p90", description="Percentile of CSMs needed that the hiring plan staffs to.")
    include_new_accounts: bool = Field(
        True, description="Assign accounts acquired during the projection to tiers by the same rules.")
    classification: ClassificationConfig = ClassificationConfig()
    optimise: OptimiserConfig = OptimiserConfig()

    @model_validator(mode="after")
    def _unique_names(self) -> "CsPlanConfig":
        seen: set[str] = set()
        for tier in self.tiers:
            if tier.name in seen:
                raise ValueError(f"tier name '{tier.name}' is used twice; give every tier its own name")
            seen.add(tier.name)
        return self
