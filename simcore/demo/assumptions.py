"""The demo book's generating assumptions: plans, channels, regions, economics.

See :mod:`simcore.demo` for what the book is meant to show and how it is generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

DEFAULT_CUSTOMERS = 24_000
DEFAULT_SEED = 20240601

#: Valuation date of the book: the last day of the history.
DEMO_AS_OF = date(2025, 12, 31)
FIRST_SIGNUP_MONTH = np.datetime64("2020-01", "M")
LAST_SIGNUP_MONTH = np.datetime64("2025-11", "M")
#: New customers in the last signup month / in the first one.
ACQUISITION_GROWTH_OVER_HISTORY = 4.0

DEMO_CHANNELS: tuple[str, ...] = ("sales_led", "self_serve", "partner")
DEMO_REGIONS: tuple[tuple[str, float], ...] = (
    ("north_america", 0.45),
    ("emea", 0.33),
    ("apac", 0.16),
    ("latam", 0.06),
)

# Day offsets of a churn date after the (T-1)-th monthly anniversary. Calendar months and
# 30.4375-day months can disagree by up to about 2.5 days; keeping the offset inside
# [3, 26] makes both conventions give the same whole number of months.
CHURN_DAY_OFFSET_MIN = 3
CHURN_DAY_OFFSET_MAX = 26

#: Log standard deviation of the month-to-month noise on acquisition spend and support cost.
SPEND_NOISE_LOG_SD = 0.05
SUPPORT_NOISE_LOG_SD = 0.03


@dataclass(frozen=True)
class PlanAssumptions:
    """The generating assumptions of one plan (one segment of the demo book).

    Attributes
    ----------
    plan
        Plan name, the value of the ``plan`` column.
    share
        Share of new customers on this plan (the shares sum to 1).
    channel_mix
        ``(channel, share)`` pairs: how this plan's customers are acquired.
    mrr_median, mrr_log_sd
        Starting MRR (currency per month) is log-normal: ``exp(N(log(mrr_median), mrr_log_sd))``.
    churn_alpha, churn_beta
        Each customer's monthly churn probability is drawn from Beta(churn_alpha, churn_beta);
        the plan then follows the sBG survival curve ``B(alpha, beta + t) / B(alpha, beta)``.
    p_expansion, expansion_log_mean, expansion_log_sd
        Probability per customer-month (after the first) of an expansion, which multiplies
        MRR by ``exp(N(expansion_log_mean, expansion_log_sd))``.
    p_contraction, contraction_log_mean, contraction_log_sd
        The same for contractions (``contraction_log_mean < 0``).
    gross_margin
        Fraction of MRR left after the cost of delivering the service.
    support_cost_per_month
        Support cost per active account and month (currency per month).
    onboarding_cost, cac
        One-off cost per new customer of onboarding and of acquisition (currency).
    employees_median, employees_log_sd, employees_min, employees_max
        Company size (employees) is log-normal, rounded and clipped to [min, max].
    tickets_median, tickets_log_sd
        Support tickets per month are log-normal around ``tickets_median``.
    """

    plan: str
    share: float
    channel_mix: tuple[tuple[str, float], ...]
    mrr_median: float
    mrr_log_sd: float
    churn_alpha: float
    churn_beta: float
    p_expansion: float
    expansion_log_mean: float
    expansion_log_sd: float
    p_contraction: float
    contraction_log_mean: float
    contraction_log_sd: float
    gross_margin: float
    support_cost_per_month: float
    onboarding_cost: float
    cac: float
    employees_median: float
    employees_log_sd: float
    employees_min: int
    employees_max: int
    tickets_median: float
    tickets_log_sd: float

    @property
    def mean_churn_probability(self) -> float:
        """Mean monthly churn probability of a new customer, ``alpha / (alpha + beta)``."""
        return self.churn_alpha / (self.churn_alpha + self.churn_beta)

    @property
    def mean_starting_mrr(self) -> float:
        """Mean starting MRR, ``mrr_median * exp(mrr_log_sd**2 / 2)`` (log-normal mean)."""
        return self.mrr_median * float(np.exp(self.mrr_log_sd**2 / 2.0))


DEMO_PLANS: tuple[PlanAssumptions, ...] = (
    PlanAssumptions(
        plan="enterprise", share=0.10,
        channel_mix=(("sales_led", 0.85), ("partner", 0.15)),
        mrr_median=4200.0, mrr_log_sd=0.50,
        churn_alpha=2.0, churn_beta=110.0,
        p_expansion=0.03, expansion_log_mean=0.10, expansion_log_sd=0.05,
        p_contraction=0.01, contraction_log_mean=-0.10, contraction_log_sd=0.05,
        gross_margin=0.80, support_cost_per_month=650.0, onboarding_cost=15_000.0, cac=38_000.0,
        employees_median=2500, employees_log_sd=0.8, employees_min=1000, employees_max=50_000,
        tickets_median=5.0, tickets_log_sd=0.5,
    ),
    PlanAssumptions(
        plan="mid_market", share=0.22,
        channel_mix=(("sales_led", 0.50), ("partner", 0.30), ("self_serve", 0.20)),
        mrr_median=850.0, mrr_log_sd=0.45,
        churn_alpha=1.6, churn_beta=60.0,
        p_expansion=0.08, expansion_log_mean=0.15, expansion_log_sd=0.06,
        p_contraction=0.02, contraction_log_mean=-0.12, contraction_log_sd=0.05,
        gross_margin=0.78, support_cost_per_month=90.0, onboarding_cost=2_000.0, cac=6_500.0,
        employees_median=300, employees_log_sd=0.6, employees_min=100, employees_max=999,
        tickets_median=2.0, tickets_log_sd=0.6,
    ),
    PlanAssumptions(
        plan="self_serve", share=0.50,
        channel_mix=(("self_serve", 0.90), ("partner", 0.10)),
        mrr_median=59.0, mrr_log_sd=0.35,
        churn_alpha=0.9, churn_beta=11.0,
        p_expansion=0.015, expansion_log_mean=0.20, expansion_log_sd=0.08,
        p_contraction=0.01, contraction_log_mean=-0.20, contraction_log_sd=0.08,
        gross_margin=0.80, support_cost_per_month=9.0, onboarding_cost=0.0, cac=520.0,
        employees_median=8, employees_log_sd=0.9, employees_min=1, employees_max=99,
        tickets_median=0.3, tickets_log_sd=0.8,
    ),
    PlanAssumptions(
        plan="power_user", share=0.18,
        channel_mix=(("self_serve", 0.65), ("partner", 0.35)),
        mrr_median=180.0, mrr_log_sd=0.30,
        churn_alpha=1.3, churn_beta=40.0,
        p_expansion=0.02, expansion_log_mean=0.10, expansion_log_sd=0.05,
        p_contraction=0.015, contraction_log_mean=-0.10, contraction_log_sd=0.05,
        gross_margin=0.75, support_cost_per_month=165.0, onboarding_cost=300.0, cac=900.0,
        employees_median=35, employees_log_sd=0.9, employees_min=5, employees_max=500,
        tickets_median=9.0, tickets_log_sd=0.4,
    ),
)


def _default_economics(plans: tuple[PlanAssumptions, ...]) -> dict[str, float]:
    """Economics for a segment with no entry of its own: the blend of the plans.

    Costs per customer are weighted by acquisition share; gross margin by expected
    starting revenue (share x mean starting MRR), because margin applies to revenue.
    """
    shares = np.array([p.share for p in plans])
    revenue = shares * np.array([p.mean_starting_mrr for p in plans])

    def blend(name: str, weights: np.ndarray) -> float:
        values = np.array([getattr(p, name) for p in plans])
        return float(np.sum(weights * values) / np.sum(weights))

    return {
        "gross_margin": round(blend("gross_margin", revenue), 2),
        "support_cost_per_month": float(round(blend("support_cost_per_month", shares))),
        "onboarding_cost": float(round(blend("onboarding_cost", shares), -1)),
        "cac": float(round(blend("cac", shares), -1)),
    }


#: Economics per plan (and a ``default`` blend) matching the generated data, in the units
#: of the config: ``gross_margin`` a fraction, ``support_cost_per_month`` currency per
#: account and month, ``onboarding_cost`` and ``cac`` currency per new customer.
DEMO_ECONOMICS: dict[str, dict[str, float]] = {
    "default": _default_economics(DEMO_PLANS),
    **{
        p.plan: {
            "gross_margin": p.gross_margin,
            "support_cost_per_month": p.support_cost_per_month,
            "onboarding_cost": p.onboarding_cost,
            "cac": p.cac,
        }
        for p in DEMO_PLANS
    },
}
