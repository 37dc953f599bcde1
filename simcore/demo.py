"""A deterministic sample book of a subscription business, for trying simcore out.

``simcore demo DIR`` writes a small, realistic data set and a working config into ``DIR``.
The book is synthetic: every number is drawn from the assumptions below with a seeded
``numpy.random.Generator(PCG64(seed))``, so the same seed always gives byte-identical files.

Files written
-------------
``customers.csv``
    One row per customer: ``customer_id``, ``signup_date`` (YYYY-MM-DD), ``churn_date``
    (YYYY-MM-DD, blank while active), ``plan``, ``channel``, ``region``, ``employees``,
    ``tickets_per_month``, ``mrr`` (current monthly recurring revenue for an active
    customer, the last one paid for a churned customer).
``mrr_history.csv``
    A sparse change log (``customer_id``, ``month`` YYYY-MM, ``mrr``): one row in the signup
    month with the starting MRR, then a row only in a month where the MRR changed.
``acquisition_spend.csv``
    ``month``, ``channel``, ``spend``: acquisition spend per channel and signup month.
``support_costs.csv``
    ``month``, ``plan``, ``support_cost``: total support cost per plan and month.
``config.yaml``
    A simcore config reading the files above, segmenting by ``plan``, with comments.

Assumptions per plan (the four segments)
----------------------------------------
Money is in one currency; MRR and support costs are per month, CAC and onboarding per
customer. Churn is a monthly probability ``p`` drawn per customer from Beta(alpha, beta).

============  =====  ==========  ======  ============  ===========  ======  =======  ==========  ======
plan          share  MRR median  churn   churn         expansion    gross   support  onboarding  CAC
                     at signup   mean    Beta(a, b)    per month    margin  / month
============  =====  ==========  ======  ============  ===========  ======  =======  ==========  ======
enterprise    10 %   4,200       1.8 %   (2.0, 110)    3 %, +10 %   80 %    650      15,000      38,000
mid_market    22 %   850         2.6 %   (1.6, 60)     8 %, +15 %   78 %    90       2,000       6,500
self_serve    50 %   59          7.6 %   (0.9, 11)     1.5 %, +20 % 80 %    9        0           520
power_user    18 %   180         3.1 %   (1.3, 40)     2 %, +10 %   75 %    165      300         900
============  =====  ==========  ======  ============  ===========  ======  =======  ==========  ======

* **enterprise** is high-touch and profitable: high MRR, low churn, a large CAC and
  onboarding bill, and a high support cost that the margin easily covers.
* **mid_market** grows through expansion: 8 % of customer-months upgrade by about 15 %,
  so a surviving account's MRR rises by roughly 14 % a year.
* **self_serve** is thin-margin: low MRR, the highest and most heterogeneous churn, a low
  CAC; lifetime value is only about twice the CAC.
* **power_user** drains margin: a modest MRR but a heavy support load (many tickets), so the
  monthly contribution ``mrr x gross_margin - support_cost_per_month`` is below zero and
  every acquired customer loses money.

"expansion per month" is the probability that an active customer-month (after the first)
brings an expansion and the typical size of it; contractions are rarer (1 % to 2 % of
customer-months, about -10 % to -20 %). The exact values are in :data:`DEMO_PLANS`, and the
economics a config needs are in :data:`DEMO_ECONOMICS`.

Data-generating process
-----------------------
* **Signups** fall in the months 2020-01 to 2025-11 (71 months), with acquisition growing
  by about 2 % a month (the last month brings four times the first). The day of the month is
  uniform on 1..28, so every monthly anniversary exists in every month.
* **Lifetimes**: customer ``i`` of a plan draws ``p_i ~ Beta(alpha, beta)`` and a lifetime
  ``T_i ~ Geometric(p_i)`` on 1, 2, ... (the number of monthly payments). Integrated over
  ``p``, the plan follows the shifted-beta-geometric (sBG) curve of Fader & Hardie (2007),

  .. math:: S(t) = P(T > t) = B(\\alpha, \\beta + t) / B(\\alpha, \\beta),

  whose hazard falls with tenure: the customers likely to churn leave first, so survivors
  get better.
* **Churn dates**: a customer whose ``T``-th monthly anniversary falls on or before
  ``as_of`` (2025-12-31) has churned. They cancel during their last paid month: the churn
  date is the ``(T-1)``-th anniversary plus 3 to 26 days, so the months elapsed lie
  strictly between ``T - 1`` and ``T`` and the loader's convention (tenure of a churned
  customer = payments made = months elapsed rounded up) reads back exactly ``T``, under
  calendar months and under 30.4375-day months alike. Everyone else is active, and their
  lifetime exceeds the whole months completed by ``as_of`` (a censored observation).
* **MRR**: the starting MRR is log-normal around the plan's median. At each monthly renewal
  after the first, one uniform ``u`` decides: ``u < p_expansion`` multiplies MRR by
  ``exp(N(expansion_log_mean, expansion_log_sd))``; ``p_expansion <= u < p_expansion +
  p_contraction`` multiplies it by ``exp(N(contraction_log_mean, contraction_log_sd))``. This is
  the process of :class:`simcore.retention.RevenueDynamics`. MRR is rounded to cents.
* **Acquisition spend** for a (month, channel) is the sum of the plan CACs of the customers
  that signed up through that channel that month, times a mean-one log-normal factor
  (log sd 5 %), so ``spend / new customers`` recovers the blended CAC.
* **Support cost** for a (month, plan) is the number of accounts that paid that month times
  the plan's ``support_cost_per_month``, times a mean-one log-normal factor (log sd 3 %).

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. *Journal of
Interactive Marketing*, 21(1), 76-90.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from simcore.errors import ConfigError, OutputError, Problem

__all__ = [
    "DEMO_AS_OF",
    "DEMO_CHANNELS",
    "DEMO_ECONOMICS",
    "DEMO_PLANS",
    "DEMO_REGIONS",
    "DemoFiles",
    "DemoTables",
    "PlanAssumptions",
    "demo_config_text",
    "generate_demo",
    "write_demo",
]

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


@dataclass(frozen=True)
class DemoTables:
    """The demo book as DataFrames (what :func:`write_demo` writes).

    Attributes
    ----------
    customers
        One row per customer: ``customer_id`` (str), ``signup_date`` and ``churn_date``
        (datetime64[ns], NaT while active), ``plan``, ``channel``, ``region`` (str),
        ``employees`` (int64), ``tickets_per_month`` (float64), ``mrr`` (float64, currency
        per month).
    mrr_history
        Change log: ``customer_id`` (str), ``month`` (datetime64[ns], first of month),
        ``mrr`` (float64). Sorted by customer, then month.
    acquisition_spend
        ``month`` (datetime64[ns]), ``channel`` (str), ``spend`` (float64, currency).
    support_costs
        ``month`` (datetime64[ns]), ``plan`` (str), ``support_cost`` (float64, currency).
    as_of
        Valuation date of the book.
    """

    customers: pd.DataFrame
    mrr_history: pd.DataFrame
    acquisition_spend: pd.DataFrame
    support_costs: pd.DataFrame
    as_of: date


@dataclass(frozen=True)
class DemoFiles:
    """The files :func:`write_demo` wrote."""

    directory: Path
    customers: Path
    mrr_history: Path
    acquisition_spend: Path
    support_costs: Path
    config: Path
    scenarios: Path
    schema: Path

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, data files first, then the config, its scenarios and the
        JSON Schema editors use to check them."""
        return (self.customers, self.mrr_history, self.acquisition_spend, self.support_costs, self.config,
                self.scenarios, self.schema)


# --------------------------------------------------------------------------- generation


def _check_arguments(customers: object, seed: object) -> None:
    problems: list[Problem] = []
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 1:
        problems.append(Problem(f"the number of customers must be a positive whole number, not {customers!r}",
                                f"use the default {DEFAULT_CUSTOMERS:,} or another count such as 5000",
                                field="customers"))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(Problem(f"the seed must be a whole number >= 0, not {seed!r}",
                                f"use the default {DEFAULT_SEED} or any other non-negative integer",
                                field="seed"))
    if problems:
        raise ConfigError(problems)


def _month_index(months: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of a datetime64[M] array, as int64."""
    return months.astype("datetime64[M]").astype(np.int64)


def _grouped_cumsum(values: np.ndarray, group_starts: np.ndarray, group_of: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at each group. Rows of a group are contiguous;
    ``group_starts[g]`` is the first row of group ``g`` and ``group_of[i]`` the group of row ``i``."""
    running = np.cumsum(values)
    before_group = running[group_starts] - values[group_starts]
    return running - before_group[group_of]


def generate_demo(*, customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> DemoTables:
    """Generate the demo book in memory (see the module docstring for the assumptions).

    Parameters
    ----------
    customers
        Number of customers ever acquired (rows of ``customers``).
    seed
        Seed of the ``numpy.random.Generator(PCG64(seed))`` every draw comes from; the same
        seed gives identical tables.

    Returns
    -------
    DemoTables
        The customers, the MRR change log, the acquisition spend and the support costs.

    Raises
    ------
    ConfigError
        If ``customers`` is not a positive integer or ``seed`` not a non-negative integer.
    """
    _check_arguments(customers, seed)
    n = int(customers)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    plans = DEMO_PLANS
    as_of = np.datetime64(DEMO_AS_OF, "D")
    as_of_month = as_of.astype("datetime64[M]")

    # Signups: month with exponentially growing weight, day 1..28; ids in signup order.
    n_signup_months = int(_month_index(LAST_SIGNUP_MONTH) - _month_index(FIRST_SIGNUP_MONTH)) + 1
    growth = np.log(ACQUISITION_GROWTH_OVER_HISTORY) / max(n_signup_months - 1, 1)
    month_weights = np.exp(growth * np.arange(n_signup_months))
    month_offset = rng.choice(n_signup_months, size=n, p=month_weights / month_weights.sum())
    signup_day = rng.integers(1, 29, size=n)
    order = np.lexsort((signup_day, month_offset))
    month_offset, signup_day = month_offset[order], signup_day[order]
    signup_month = FIRST_SIGNUP_MONTH + month_offset
    signup_date = signup_month.astype("datetime64[D]") + (signup_day - 1)

    # Plan and the attributes that depend on it.
    shares = np.array([p.share for p in plans])
    plan = rng.choice(len(plans), size=n, p=shares / shares.sum())
    channel_cumulative = np.zeros((len(plans), len(DEMO_CHANNELS)))
    for i, p in enumerate(plans):
        mix = dict(p.channel_mix)
        channel_cumulative[i] = np.cumsum([mix.get(c, 0.0) for c in DEMO_CHANNELS])
        channel_cumulative[i] /= channel_cumulative[i, -1]
    channel = (rng.random(n)[:, None] >= channel_cumulative[plan]).sum(axis=1)
    channel = np.minimum(channel, len(DEMO_CHANNELS) - 1)
    region_names = np.array([r for r, _ in DEMO_REGIONS])
    region_shares = np.array([s for _, s in DEMO_REGIONS])
    region = rng.choice(len(region_names), size=n, p=region_shares / region_shares.sum())

    def plan_array(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in plans], dtype=float)[plan]

    employees = np.rint(np.exp(np.log(plan_array("employees_median"))
                               + plan_array("employees_log_sd") * rng.standard_normal(n)))
    employees = np.clip(employees, plan_array("employees_min"), plan_array("employees_max")).astype(np.int64)
    tickets = np.round(np.exp(np.log(plan_array("tickets_median"))
                              + plan_array("tickets_log_sd") * rng.standard_normal(n)), 2)
    start_mrr = np.round(np.exp(np.log(plan_array("mrr_median"))
                                + plan_array("mrr_log_sd") * rng.standard_normal(n)), 2)

    # Lifetimes: beta-distributed churn probability, geometric number of monthly payments.
    churn_probability = rng.beta(plan_array("churn_alpha"), plan_array("churn_beta"))
    # A draw of exactly 0 would make the geometric draw fail; 1e-12 means "never churns".
    lifetime = rng.geometric(np.clip(churn_probability, 1e-12, 1.0))
    completed_months = (_month_index(as_of_month) - _month_index(signup_month)).astype(np.int64)
    completed_months -= (as_of.astype(object).day < signup_day).astype(np.int64)
    churned = lifetime <= completed_months
    paid_months = np.where(churned, lifetime, completed_months + 1)

    last_anniversary = (signup_month + np.where(churned, lifetime - 1, 0)).astype("datetime64[D]") + (signup_day - 1)
    room = (as_of - last_anniversary).astype(np.int64)
    # Anniversaries fall on days 1..28 and as_of is a month end, so room >= 3 for churners.
    highest_offset = np.clip(room, CHURN_DAY_OFFSET_MIN, CHURN_DAY_OFFSET_MAX)
    offset = CHURN_DAY_OFFSET_MIN + np.floor(
        rng.random(n) * (highest_offset - CHURN_DAY_OFFSET_MIN + 1)).astype(np.int64)
    churn_date = np.where(churned, last_anniversary + offset, np.datetime64("NaT", "D"))

    # MRR changes at the renewals after the first: one uniform per customer-month.
    renewals = paid_months - 1
    total = int(renewals.sum())
    owner = np.repeat(np.arange(n), renewals)
    first_row = np.cumsum(renewals) - renewals
    tenure = np.arange(total) - first_row[owner] + 1
    u = rng.random(total)
    p_expansion = plan_array("p_expansion")[owner]
    expands = u < p_expansion
    contracts = ~expands & (u < p_expansion + plan_array("p_contraction")[owner])
    is_event = expands | contracts
    event_owner, event_tenure, event_expands = owner[is_event], tenure[is_event], expands[is_event]
    z = rng.standard_normal(event_owner.size)
    log_factor = np.where(
        event_expands,
        plan_array("expansion_log_mean")[event_owner] + plan_array("expansion_log_sd")[event_owner] * z,
        plan_array("contraction_log_mean")[event_owner] + plan_array("contraction_log_sd")[event_owner] * z,
    )
    events_per_customer = np.bincount(event_owner, minlength=n)
    event_first = np.cumsum(events_per_customer) - events_per_customer
    cumulative_log = _grouped_cumsum(log_factor, event_first[events_per_customer > 0],
                                     np.repeat(np.arange(np.count_nonzero(events_per_customer)),
                                               events_per_customer[events_per_customer > 0]))
    event_mrr = np.round(start_mrr[event_owner] * np.exp(cumulative_log), 2)
    # A change too small to survive rounding to cents is no change; drop it from the log.
    previous = np.where(np.r_[True, event_owner[1:] != event_owner[:-1]],
                        start_mrr[event_owner], np.r_[0.0, event_mrr[:-1]])
    keep = event_mrr != previous
    current_mrr = start_mrr.copy()
    if event_owner.size:
        last_event = event_first + events_per_customer - 1
        has_events = events_per_customer > 0
        current_mrr[has_events] = event_mrr[last_event[has_events]]

    width = max(6, len(str(n)))
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    plan_names = np.array([p.plan for p in plans])
    channel_names = np.array(DEMO_CHANNELS)

    customer_table = pd.DataFrame({
        "customer_id": ids.astype(object),
        "signup_date": signup_date.astype("datetime64[ns]"),
        "churn_date": churn_date.astype("datetime64[ns]"),
        "plan": plan_names[plan].astype(object),
        "channel": channel_names[channel].astype(object),
        "region": region_names[region].astype(object),
        "employees": employees,
        "tickets_per_month": tickets,
        "mrr": current_mrr,
    })

    history_owner = np.concatenate([np.arange(n), event_owner[keep]])
    history_month = np.concatenate([signup_month, signup_month[event_owner[keep]] + event_tenure[keep]])
    history_mrr = np.concatenate([start_mrr, event_mrr[keep]])
    history_order = np.lexsort((_month_index(history_month), history_owner))
    history = pd.DataFrame({
        "customer_id": ids[history_owner[history_order]].astype(object),
        "month": history_month[history_order].astype("datetime64[ns]"),
        "mrr": history_mrr[history_order],
    })

    # Acquisition spend per (signup month, channel): plan CACs of that month's new customers.
    cac = plan_array("cac")
    cell = month_offset * len(DEMO_CHANNELS) + channel
    n_cells = n_signup_months * len(DEMO_CHANNELS)
    spend = np.bincount(cell, weights=cac, minlength=n_cells)
    spend *= np.exp(SPEND_NOISE_LOG_SD * rng.standard_normal(n_cells) - SPEND_NOISE_LOG_SD**2 / 2)
    spend_months = FIRST_SIGNUP_MONTH + np.repeat(np.arange(n_signup_months), len(DEMO_CHANNELS))
    acquisition = pd.DataFrame({
        "month": spend_months.astype("datetime64[ns]"),
        "channel": np.tile(channel_names, n_signup_months).astype(object),
        "spend": np.round(spend, 2),
    })

    # Support cost per (calendar month, plan): accounts that paid that month x cost per account.
    n_cost_months = int(_month_index(as_of_month) - _month_index(FIRST_SIGNUP_MONTH)) + 1
    active_change = np.zeros((len(plans), n_cost_months + 1), dtype=np.int64)
    np.add.at(active_change, (plan, month_offset), 1)
    np.add.at(active_change, (plan, np.minimum(month_offset + paid_months, n_cost_months)), -1)
    active_accounts = np.cumsum(active_change, axis=1)[:, :n_cost_months]
    cost_per_account = np.array([p.support_cost_per_month for p in plans])
    support = active_accounts * cost_per_account[:, None]
    support = support * np.exp(SUPPORT_NOISE_LOG_SD * rng.standard_normal(support.shape)
                               - SUPPORT_NOISE_LOG_SD**2 / 2)
    support_months = FIRST_SIGNUP_MONTH + np.arange(n_cost_months)
    support_table = pd.DataFrame({
        "month": np.repeat(support_months, len(plans)).astype("datetime64[ns]"),
        "plan": np.tile(plan_names, n_cost_months).astype(object),
        "support_cost": np.round(support.T.ravel(), 2),
    })

    return DemoTables(customer_table, history, acquisition, support_table, DEMO_AS_OF)


# --------------------------------------------------------------------------- config


def demo_config_text() -> str:
    """The commented YAML config of the demo book."""
    economics = DEMO_ECONOMICS
    segment_lines = "\n".join(
        f"    {plan}: {{gross_margin: {values['gross_margin']:.0%}, cac: {values['cac']:.0f}, "
        f"onboarding_cost: {values['onboarding_cost']:.0f}}}"
        for plan, values in economics.items() if plan != "default"
    )
    return f"""\
# yaml-language-server: $schema=simcore.schema.json
# simcore configuration for the demo book written by `simcore demo`.
# Paths are relative to this file's folder. Run it with:  simcore run config.yaml
name: demo

# Where the customer book comes from and which column holds what.
data:
  # One row per customer; CSV, Parquet or XLSX (or a SQL query, see the docs).
  customers: customers.csv
  # Map simcore's fields onto this file's headers. This book has signup and churn
  # dates (blank churn date = still active); a book can instead give a tenure in
  # whole months and a churned flag (tenure: ..., churned: ...).
  columns:
    id: customer_id
    signup: signup_date
    churn: churn_date
    mrr: mrr              # current monthly recurring revenue (last paid if churned)
  # Valuation date: tenure of active customers is counted up to this day.
  as_of: {DEMO_AS_OF.isoformat()}
  # Every other column (plan, channel, region, employees, tickets_per_month) is kept
  # as an attribute that segments can be built from.
  # MRR history as a change log: a row gives a customer's MRR from that month on,
  # until their next row. simcore learns expansion and contraction from it.
  history:
    path: mrr_history.csv
    columns:
      id: customer_id
      month: month        # YYYY-MM
      mrr: mrr

# How customers are grouped. Each segment gets its own retention curve, revenue
# dynamics and economics.
segments:
  by: [plan]
  # Other ways to cut the same book (parts are joined with "/", e.g. mid_market/partner):
  #   by: [plan, channel]
  #   by:
  #     - {{column: employees, edges: [100, 1000], labels: [small, mid, large]}}
  #     - {{column: tickets_per_month, labels: [light, typical, heavy]}}   # tertiles
  # Segments with fewer customers than this are merged into one called "other".
  min_customers: 100

# Retention curves per segment: "auto" ranks every family by AIC and keeps the best.
retention:
  family: auto
  criterion: aic
  uncertainty: asymptotic      # parameter draws: asymptotic normal, or bootstrap

# Unit economics. Money is per month for recurring items, per customer for one-off items.
# Precedence per segment: economics.segments > derived from data > economics.default.
economics:
  default:
    gross_margin: {economics['default']['gross_margin']:.0%}
    infrastructure_cost_share: 0%
  segments:
{segment_lines}
  # Support cost per account-month derived from the support-cost table (cost per plan per
  # month / active accounts of that plan), over the 12 months before as_of.
  support_cost_from:
    path: support_costs.csv
    columns: {{month: month, key: plan, cost: support_cost}}
    customer_column: plan
  # Acquisition spend per channel: CAC per channel and the blended CAC are reported beside
  # the per-segment CAC above (which wins, being explicit) -- the blended number is the one
  # that hides how much dearer an enterprise customer is to win.
  cac_from_spend:
    path: acquisition_spend.csv
    columns: {{month: month, key: channel, spend: spend}}
    customer_column: channel

discount_rate_annual: 10%
horizon_months: 120
simulation: {{replications: 1000, seed: 42}}
status: {{marginal_loss_probability: 25%}}

# Named scenarios, each compared with the baseline (the run without levers).
include: [scenarios.yaml]
"""


def demo_scenarios_text() -> str:
    """The demo's scenarios: one per question the product exists to answer."""
    return """\
# yaml-language-server: $schema=simcore.schema.json
# Scenarios of the demo book, included by config.yaml. Calendar months count from the
# projection start (month 0 = the month after as_of); windows include both ends.
scenarios:
  - name: price_increase
    description: List price +10% for every customer from month 3; churn hazard rises 0.8% per 1% of price.
    price_change: {pct: 10%, from_month: 3, applies_to: all}
    price_elasticity_of_churn: 0.8

  - name: annual_prepay_discount
    description: New customers may prepay a year at 15% off; 40% do, and they churn 70% less that year.
    discount: {pct: 15%, duration_months: 12, eligible_share: 40%, churn_multiplier: 0.3, applies_to: new}

  - name: downturn_stress
    description: A downturn year -- churn x1.5 and new sales -40% in months 6 to 18, contraction events x1.5.
    churn_multiplier: [{months: [6, 18], factor: 1.5}]
    acquisition_multiplier: [{months: [6, 18], factor: 0.6}]
    contraction_multiplier: 1.5

  - name: cs_investment
    description: One CSM per 40 enterprise and mid-market accounts at 120k a year; covered accounts churn 20% less and expand 30% more often.
    cs_coverage:
      segments: [enterprise, mid_market]
      accounts_per_csm: 40
      cost_per_csm_per_year: 120000
      churn_multiplier: 0.8
      expansion_multiplier: 1.3
"""


# --------------------------------------------------------------------------- writing


def _format_table(table: pd.DataFrame, formats: dict[str, str]) -> str:
    """CSV text with explicit formats: dates as YYYY-MM-DD or YYYY-MM, money with cents."""
    out = table.copy()
    for column, kind in formats.items():
        if kind == "date":
            out[column] = out[column].dt.strftime("%Y-%m-%d").fillna("")
        elif kind == "month":
            out[column] = out[column].dt.strftime("%Y-%m")
        else:
            out[column] = out[column].map(lambda value, spec=kind: format(value, spec))
    return out.to_csv(index=False, lineterminator="\n")


def _write_atomically(path: Path, text: str) -> None:
    # A temporary file renamed into place means a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_demo(directory: Path, *, customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> DemoFiles:
    """Write the demo book and its config into ``directory`` (created if missing).

    Files of the same names already in ``directory`` are replaced; other files are left
    alone. The same ``customers`` and ``seed`` give byte-identical files.

    Parameters
    ----------
    directory
        Folder to write into.
    customers
        Number of customers ever acquired.
    seed
        Seed of every random draw.

    Returns
    -------
    DemoFiles
        The paths written.

    Raises
    ------
    ConfigError
        If ``customers`` or ``seed`` is invalid.
    OutputError
        If the folder cannot be created or written.
    """
    directory = Path(directory)
    tables = generate_demo(customers=customers, seed=seed)
    files = DemoFiles(
        directory=directory,
        customers=directory / "customers.csv",
        mrr_history=directory / "mrr_history.csv",
        acquisition_spend=directory / "acquisition_spend.csv",
        support_costs=directory / "support_costs.csv",
        config=directory / "config.yaml",
        scenarios=directory / "scenarios.yaml",
        schema=directory / "simcore.schema.json",
    )
    import json

    from simcore.config import json_schema

    contents = {
        files.customers: _format_table(tables.customers, {
            "signup_date": "date", "churn_date": "date", "tickets_per_month": ".2f", "mrr": ".2f"}),
        files.mrr_history: _format_table(tables.mrr_history, {"month": "month", "mrr": ".2f"}),
        files.acquisition_spend: _format_table(tables.acquisition_spend, {"month": "month", "spend": ".2f"}),
        files.support_costs: _format_table(tables.support_costs, {"month": "month", "support_cost": ".2f"}),
        files.config: demo_config_text(),
        files.scenarios: demo_scenarios_text(),
        files.schema: json.dumps(json_schema(), indent=2, sort_keys=True) + "\n",
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in contents.items():
            _write_atomically(path, text)
    except OSError as error:
        raise OutputError(Problem(
            f"cannot write the demo files: {error.strerror or error}",
            "choose a folder you can write to",
            source=str(error.filename or directory),
        )) from None
    return files


def write_demo_workspace(directory, *, customers: int | None = None, seed: int | None = None,
                         force: bool = False) -> list:
    """Write the example workspace into ``directory`` atomically; returns the file paths."""
    from pathlib import Path

    from simcore.outputs import atomic_directory

    options = {k: v for k, v in {"customers": customers, "seed": seed}.items() if v is not None}
    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        write_demo(staging, **options)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]
