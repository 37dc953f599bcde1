"""Scenario levers: what a scenario changes, as plain numbers and schedules.

The scenario layer maps YAML onto :class:`ScenarioLevers`; the compile step turns them
into arrays. Levers act on the compiled arrays, never on the fitted model.

Schedules
---------
A schedule is a tuple of floats indexed by month: *calendar* schedules by projection
month ``c`` (0 = the first month after ``as_of``), *tenure* schedules by a new
customer's tenure month ``k`` (0 = the month of acquisition). A schedule shorter than
needed is extended with its **last value**, so ``(1.0, 1.0, 1.0, 1.1)`` means "+10% from
month 3 on" and ``(1.5,) * 18 + (1.0,)`` means "x1.5 for months 0-17, then back to
normal". An empty schedule is neutral everywhere. The same rule holds for tenure
schedules: a limited-time effect (an introductory discount, a prepay lock-in) is written
with a final neutral value, ``(0.5,) * 12 + (1.0,)``, or it lasts for ever.

Churn hazard of one renewal decision, all factors together (``h`` = the fitted hazard,
capped at 1 after multiplying). A calendar factor for month ``c`` acts on the decision
to renew *into* month ``c``, for every customer::

    existing customer, tenure a at as_of, decision before projection month c
    (it has already paid for life months 0..a, so month c is its renewal a + 1 + c):
        min(1, h(a + c) * m(c) * m_existing(c) * R_existing(c))
    new customer acquired in month c0, decision after its tenure month k, into
    calendar month c = c0 + k + 1:
        min(1, h(k) * m(c) * m_new(c) * m_tenure(k) * R_new(c0, c))

``R`` is the churn response to events such as price changes (``churn_steps_*``): a step
``(s, f, N)`` multiplies the hazard of the customers who experienced it — every existing
customer, and new customers acquired *before* month ``s`` — by ``f ** w(c - s)`` from
month ``s`` on, ``w = 1`` (``N = 0``: a lasting shift) or ``w(j) = max(0, 1 - j / N)``
(a renewal shock fading over ``N`` months).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from simcore.errors import ConfigError, ProblemCollector

_SCHEDULES_NON_NEGATIVE = (
    "churn_hazard_multiplier_by_month",
    "churn_hazard_multiplier_existing_by_month",
    "churn_hazard_multiplier_new_by_month",
    "new_customer_churn_multiplier_by_tenure_month",
    "price_multiplier_existing_by_month",
    "price_multiplier_new_by_month",
    "new_customer_price_multiplier_by_tenure_month",
    "acquisition_multiplier_by_month",
    "cost_to_serve_multiplier_by_month",
    "expansion_multiplier_by_month",
    "contraction_multiplier_by_month",
    "cac_multiplier_by_month",
    "extra_cost_to_serve_by_month",
)
_STEPS = ("churn_steps_existing", "churn_steps_new")


@dataclass(frozen=True)
class ScenarioLevers:
    """Everything a scenario can change; the defaults are the baseline (no change).

    Parameters
    ----------
    churn_hazard_multiplier_by_month
        Calendar schedule of factors (>= 0) on the monthly churn hazard. An existing
        customer at tenure ``a`` has hazard ``min(1, h(a + c) * m(c))`` in projection
        month ``c``; a new customer acquired in month ``c0`` has
        ``min(1, h(c - c0) * m(c))``. Applies to everyone; the two schedules below
        multiply with it.
    churn_hazard_multiplier_existing_by_month
        Calendar schedule of further factors (>= 0) on the churn hazard of existing
        customers only, ``m_existing(c)``: their hazard in projection month ``c`` is
        ``min(1, h(a + c) * m(c) * m_existing(c))``. For levers that touch only the
        current base, e.g. the churn response to a price rise for existing customers.
    churn_hazard_multiplier_new_by_month
        Calendar schedule of further factors (>= 0) on the churn hazard of new
        customers only, ``m_new(c)``, by calendar month ``c = c0 + k``.
    new_customer_churn_multiplier_by_tenure_month
        Tenure schedule of factors (>= 0) on a new customer's churn hazard by its
        tenure month ``k``, ``m_tenure(k)``, for effects tied to the customer's own
        start such as an annual prepay that locks customers in for their first 12
        months: ``(0.2,) * 12 + (1.0,)``. Like every schedule it repeats its last
        value, so a limited-time effect must end with the neutral value 1. The hazard
        of a new customer is ``min(1, h(k) * m(c) * m_new(c) * m_tenure(k))``.
    price_multiplier_existing_by_month
        Calendar schedule of factors (>= 0) on existing customers' MRR.
    price_multiplier_new_by_month
        Calendar schedule of factors (>= 0) on new customers' MRR (list price changes
        for customers acquired during the projection).
    new_customer_price_multiplier_by_tenure_month
        Tenure schedule of factors (>= 0) on a new customer's MRR, for introductory
        discounts: ``(0.5, 0.5, 0.5, 1.0)`` = half price for the first three months.
        Multiplies with ``price_multiplier_new_by_month``.
    expansion_multiplier
        Factor (>= 0) on the monthly probability of an expansion event.
    contraction_multiplier
        Factor (>= 0) on the monthly probability of a contraction event.
    expansion_multiplier_by_month, contraction_multiplier_by_month
        Calendar schedules of further factors (>= 0) on those probabilities: the event
        before the payment of calendar month ``c`` (every customer) has probability
        ``p * multiplier * multiplier_by_month(c)``.
    cac_multiplier
        Factor (>= 0) on the acquisition cost of new customers.
    cac_multiplier_by_month
        Schedule of further factors (>= 0) on the CAC of new customers by their
        acquisition month ``c0``: customers acquired in ``c0`` cost
        ``cac * cac_multiplier * cac_multiplier_by_month(c0) + onboarding``.
    onboarding_cost_multiplier
        Factor (>= 0) on the onboarding cost of new customers.
    acquisition_per_month
        Calendar schedule of new customers acquired per month (>= 0, may be
        fractional: counts are rounded so that cumulative totals match). ``None``
        means the baseline from data: the average number of signups per month over
        the 12 months before ``as_of`` when the book has signup dates, otherwise 0.
    acquisition_multiplier_by_month
        Calendar schedule of factors (>= 0) on the acquisition volume (0.6 = 40% fewer
        new customers).
    new_customer_mrr
        Starting MRR of a new customer (money / month, >= 0). ``None`` means the mean
        MRR of the segment's customers with a known MRR, else the segment's
        ``default_mrr``.
    cost_to_serve_multiplier_by_month
        Calendar schedule of factors (>= 0) on support and other cost to serve.
    extra_cost_to_serve_per_month
        Extra cost to serve (money per active account per month, >= 0) paid for every
        active customer, existing and new, in every month it is active — e.g. the cost
        of customer-success staff, ``cost_per_csm_per_year / 12 / accounts_per_csm``.
        It is an amount, not a rate: ``cost_to_serve_multiplier_by_month`` does not
        scale it, and it is discounted like every other monthly cash flow.
    extra_cost_to_serve_by_month
        Calendar schedule of further extra cost (money per active account per month,
        >= 0), added to ``extra_cost_to_serve_per_month`` (a window ends with 0).
    churn_steps_existing, churn_steps_new
        Churn responses ``(month s, factor f, fade_months N)`` of existing / new
        customers (see the module notes): hazard x ``f ** w(c - s)`` from month ``s``,
        ``w = 1`` when ``N = 0``, else ``max(0, 1 - (c - s) / N)``; new customers only
        when acquired before ``s``. ``f > 0``.
    gross_margin_change_by_month
        Calendar schedule of additive changes to the gross margin, as fractions
        (-0.02 = two points lower). The resulting margin must stay in [0, 1].
    discount_rate_annual
        Overrides every segment's annual discount rate (fraction per year, > -1).
    """

    churn_hazard_multiplier_by_month: tuple[float, ...] = ()
    churn_hazard_multiplier_existing_by_month: tuple[float, ...] = ()
    churn_hazard_multiplier_new_by_month: tuple[float, ...] = ()
    new_customer_churn_multiplier_by_tenure_month: tuple[float, ...] = ()
    price_multiplier_existing_by_month: tuple[float, ...] = ()
    price_multiplier_new_by_month: tuple[float, ...] = ()
    new_customer_price_multiplier_by_tenure_month: tuple[float, ...] = ()
    expansion_multiplier: float = 1.0
    contraction_multiplier: float = 1.0
    cac_multiplier: float = 1.0
    onboarding_cost_multiplier: float = 1.0
    acquisition_per_month: tuple[float, ...] | None = None
    acquisition_multiplier_by_month: tuple[float, ...] = ()
    new_customer_mrr: float | None = None
    cost_to_serve_multiplier_by_month: tuple[float, ...] = ()
    extra_cost_to_serve_per_month: float = 0.0
    gross_margin_change_by_month: tuple[float, ...] = ()
    discount_rate_annual: float | None = None
    expansion_multiplier_by_month: tuple[float, ...] = ()
    contraction_multiplier_by_month: tuple[float, ...] = ()
    cac_multiplier_by_month: tuple[float, ...] = ()
    extra_cost_to_serve_by_month: tuple[float, ...] = ()
    churn_steps_existing: tuple[tuple[float, float, float], ...] = ()
    churn_steps_new: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        problems = ProblemCollector(source="scenario levers")
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if item.name in _STEPS:
                try:
                    steps = tuple((int(s), float(f), int(n)) for s, f, n in value)
                except (TypeError, ValueError):
                    problems.add(f"{item.name} must be (month, factor, fade months) triples, got {value!r}",
                                 "write e.g. ((3, 1.08, 0),)", field=item.name)
                    continue
                if any(s < 0 or n < 0 or not (math.isfinite(f) and f > 0) for s, f, n in steps):
                    problems.add(f"{item.name}: months and fade months must be >= 0 and factors finite and > 0",
                                 "a response can neither remove churn nor make it infinite", field=item.name)
                object.__setattr__(self, item.name, steps)
                continue
            if item.name.endswith("_by_month") or item.name.endswith("_by_tenure_month") \
                    or item.name == "acquisition_per_month":
                try:
                    converted = tuple(float(v) for v in np.atleast_1d(np.asarray(value)).ravel())
                except (TypeError, ValueError):
                    problems.add(f"{item.name} must be a list of numbers, got {value!r}",
                                 "write e.g. [1.0, 1.0, 1.1]", field=item.name)
                    continue
            else:
                try:
                    converted = float(value)
                except (TypeError, ValueError):
                    problems.add(f"{item.name} must be a number, got {value!r}",
                                 "write a plain number", field=item.name)
                    continue
            object.__setattr__(self, item.name, converted)
            numbers = converted if isinstance(converted, tuple) else (converted,)
            if not all(math.isfinite(v) for v in numbers):
                problems.add(f"{item.name} must be finite", "remove inf / nan values",
                             field=item.name)
                continue
            must_be_non_negative = item.name in _SCHEDULES_NON_NEGATIVE or item.name in (
                "expansion_multiplier", "contraction_multiplier", "cac_multiplier",
                "onboarding_cost_multiplier", "acquisition_per_month", "new_customer_mrr",
                "extra_cost_to_serve_per_month")
            if must_be_non_negative and any(v < 0 for v in numbers):
                problems.add(f"{item.name} must be >= 0, got {min(numbers)}",
                             "factors, volumes and prices cannot be negative", field=item.name)
        if self.discount_rate_annual is not None and self.discount_rate_annual <= -1.0:
            problems.add("discount_rate_annual must be > -1 (a fraction per year)",
                         "write 10% or 0.10", field="discount_rate_annual")
        problems.raise_if_errors(ConfigError)


def schedule(values: tuple[float, ...] | None, length: int, neutral: float) -> np.ndarray:
    """A schedule as a float64 array of ``length``, extended with its last value.

    An empty (or ``None``) schedule is ``neutral`` everywhere.
    """
    out = np.full(length, neutral, dtype=np.float64)
    if values:
        given = np.asarray(values, dtype=np.float64)[:length]
        out[: given.size] = given
        out[given.size:] = given[-1]
    return out
