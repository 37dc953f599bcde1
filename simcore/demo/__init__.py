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

from simcore.demo.assumptions import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEMO_AS_OF,
    DEMO_CHANNELS,
    DEMO_ECONOMICS,
    DEMO_PLANS,
    DEMO_REGIONS,
    PlanAssumptions,
)
from simcore.demo.generate import DemoTables, generate_demo
from simcore.demo.workspace import DemoFiles, demo_config_text, demo_scenarios_text, write_demo, write_demo_workspace

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "DEMO_AS_OF",
    "DEMO_CHANNELS",
    "DEMO_ECONOMICS",
    "DEMO_PLANS",
    "DEMO_REGIONS",
    "DemoFiles",
    "DemoTables",
    "PlanAssumptions",
    "demo_config_text",
    "demo_scenarios_text",
    "generate_demo",
    "write_demo",
    "write_demo_workspace",
]
