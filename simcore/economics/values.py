"""Per-segment unit economics: margin, cost to serve, acquisition cost, discounting.

Contribution of one active customer in month ``t`` (money per month)::

    contribution_t = mrr_t * gross_margin
                     - support_cost_per_month
                     - other_cost_to_serve_per_month
                     - infrastructure_cost_share * mrr_t
                   = mrr_t * (gross_margin - infrastructure_cost_share)
                     - (support_cost_per_month + other_cost_to_serve_per_month)

``gross_margin`` is the margin on revenue before cost to serve; the infrastructure share
is a further cost proportional to revenue (hosting, payment fees) kept apart so a
scenario can change it separately. Acquisition (``cac``) and ``onboarding_cost`` are
paid once, at ``t = 0``, and are not discounted. Discounting uses the monthly factor
``d = (1 + discount_rate_annual) ** (-1 / 12)`` (DESIGN §4).

Where the customer book has per-customer columns ``mrr``, ``cac``, ``onboarding_cost``
or ``support_cost_per_month``, a customer's own value wins over the segment value; the
segment value fills customers whose cell is missing. ``default_mrr`` is used for a
customer with no MRR at all.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from simcore.economics.rules import discount_rate_problem, fraction_problem, non_negative_problem
from simcore.errors import ConfigError, ProblemCollector


@dataclass(frozen=True)
class Economics:
    """Unit economics of one segment.

    Parameters
    ----------
    gross_margin
        Fraction of revenue kept after direct cost of revenue, in [0, 1] (0.78 = 78%).
    support_cost_per_month
        Support cost per active customer per month (money / customer / month), >= 0.
    other_cost_to_serve_per_month
        Any other cost to serve per active customer per month (account management,
        success tooling), >= 0.
    infrastructure_cost_share
        Cost proportional to revenue, as a fraction of MRR in [0, 1], subtracted from
        the gross margin (``gross_margin - infrastructure_cost_share`` is the share of
        revenue that contributes).
    cac
        Customer acquisition cost per new customer (money, one-off, paid at t = 0,
        undiscounted), >= 0.
    onboarding_cost
        One-off onboarding cost per new customer (money, paid at t = 0, undiscounted),
        >= 0.
    discount_rate_annual
        Annual discount rate as a fraction (0.10 = 10% a year), > -1. The engine uses
        the monthly factor ``(1 + r) ** (-1/12)``.
    default_mrr
        Monthly recurring revenue assumed for a customer whose MRR is unknown
        (money / month), >= 0.
    """

    gross_margin: float = 1.0
    support_cost_per_month: float = 0.0
    other_cost_to_serve_per_month: float = 0.0
    infrastructure_cost_share: float = 0.0
    cac: float = 0.0
    onboarding_cost: float = 0.0
    discount_rate_annual: float = 0.10
    default_mrr: float = 0.0

    def __post_init__(self) -> None:
        problems = ProblemCollector(source="economics")
        for item in fields(self):
            value = getattr(self, item.name)
            try:
                number = float(value)
            except (TypeError, ValueError):
                problems.add(
                    f"{item.name} must be a number, got {value!r}",
                    "write a plain number such as 0.78 or 40",
                    field=item.name,
                )
                continue
            if not math.isfinite(number):
                problems.add(f"{item.name} must be finite, got {value!r}",
                             "write a finite number", field=item.name)
                continue
            object.__setattr__(self, item.name, number)
        problems.raise_if_errors(ConfigError)
        for name in ("gross_margin", "infrastructure_cost_share"):
            message = fraction_problem(name, getattr(self, name))
            if message:
                problems.add(message, "write 78% or 0.78, not 78", field=name)
        for name in ("support_cost_per_month", "other_cost_to_serve_per_month", "cac",
                     "onboarding_cost", "default_mrr"):
            message = non_negative_problem(name, getattr(self, name))
            if message:
                problems.add(message, "costs and prices are non-negative amounts", field=name)
        message = discount_rate_problem("discount_rate_annual", self.discount_rate_annual)
        if message:
            problems.add(message, "write 10% or 0.10 for ten percent a year", field="discount_rate_annual")
        problems.raise_if_errors(ConfigError)

    @property
    def monthly_discount_factor(self) -> float:
        """``d = (1 + discount_rate_annual) ** (-1/12)`` — weight of one month ahead."""
        return monthly_discount_factor(self.discount_rate_annual)

    @property
    def contribution_margin(self) -> float:
        """Share of MRR that contributes: ``gross_margin - infrastructure_cost_share``."""
        return self.gross_margin - self.infrastructure_cost_share

    @property
    def cost_to_serve_per_month(self) -> float:
        """Fixed cost per active customer-month: support plus other cost to serve."""
        return self.support_cost_per_month + self.other_cost_to_serve_per_month

    def contribution(self, mrr: float, support_cost_per_month: float | None = None) -> float:
        """Contribution of one active customer-month at ``mrr`` (see module docstring).

        ``support_cost_per_month`` overrides the segment value (a per-customer column).
        """
        support = self.support_cost_per_month if support_cost_per_month is None \
            else support_cost_per_month
        return (mrr * self.gross_margin - support - self.other_cost_to_serve_per_month
                - self.infrastructure_cost_share * mrr)

    def replace(self, **changes) -> "Economics":
        """A copy with some fields changed (validated again)."""
        values = asdict(self)
        values.update(changes)
        return Economics(**values)


def monthly_discount_factor(discount_rate_annual: float) -> float:
    """Monthly discount factor ``(1 + r) ** (-1/12)`` for an annual rate ``r`` (fraction)."""
    return float((1.0 + discount_rate_annual) ** (-1.0 / 12.0))
