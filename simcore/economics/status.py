"""The status of a segment, from its expected unit profit and how sure that expectation is.

Unit economics defines the profit of a customer as LTV − CAC − onboarding (cost to serve
is inside LTV). A segment is judged on the **expected** unit profit — the mean over its
customers and over the Monte Carlo replications — and on the 90% interval of that mean
across replications (parameter and model uncertainty, and the noise of a finite book):

``margin-draining``
    the expected unit profit is below 0 and its interval excludes 0;
``marginal``
    the interval straddles 0, or the share of customers who lose money,
    P(unit profit < 0), is above ``loss_probability_above`` (default 25%);
``profitable``
    otherwise;
``no CAC given``
    new customers of a segment with neither a CAC nor an onboarding cost from config or
    data: without an acquisition cost there is nothing to judge a profit against.

A median can be negative while the segment makes money (skewed lifetimes), so a median
never decides the status. Existing customers' acquisition cost is sunk: their status
judges their remaining value the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Status words, in the order a reader scans them.
MARGIN_DRAINING = "margin-draining"
MARGINAL = "marginal"
PROFITABLE = "profitable"
NO_CAC = "no CAC given"
NO_CUSTOMERS = "no customers"
UNKNOWN = "unknown"
#: Coverage of the interval of an expected value: 90% (P5 to P95 across replications).
ESTIMATE_INTERVAL = 0.90


@dataclass(frozen=True)
class StatusRule:
    """Thresholds of the status (see the module notes).

    Parameters
    ----------
    loss_probability_above
        P(unit profit < 0) above which a segment is at best ``marginal`` (fraction).
    """

    loss_probability_above: float = 0.25

    def status(self, mean: float, lower: float, upper: float, loss_probability: float,
               acquisition_cost_given: bool = True) -> str:
        """The status of a population with expected unit profit ``mean`` and its 90%
        interval ``[lower, upper]``; ``loss_probability`` is P(unit profit < 0)."""
        if not acquisition_cost_given:
            return NO_CAC
        if not all(math.isfinite(v) for v in (mean, lower, upper)):
            return UNKNOWN
        if mean < 0.0 and upper < 0.0:
            return MARGIN_DRAINING
        if lower <= 0.0 <= upper or loss_probability > self.loss_probability_above:
            return MARGINAL
        return PROFITABLE
