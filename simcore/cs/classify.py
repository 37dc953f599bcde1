"""Core, growth and cautionary accounts: expected profit and expansion against cost to serve.

For every account (at ``as_of``, and again at every review of the plan):

``expected profit`` E
    expected discounted contribution over the horizon without customer success
    (:mod:`simcore.cs.values`);
``expected cost to serve`` C
    the discounted fixed cost to serve over the same months, ``k sum_c d^c P(c)``;
``expansion potential`` X
    the part of E that expected expansion and contraction bring: E minus the value of
    the same account with its MRR held flat.

The rule (thresholds from ``cs_plan.classification``):

* **cautionary** — ``E < cautionary_below_profit`` or ``E < cautionary_below_profit_to_cost x C``:
  the account is expected to lose money, or to earn too little over what it costs to serve;
* **growth** — otherwise, when ``X >= growth_min_expansion_share x E``: much of its value
  is still to come from expansion;
* **core** — otherwise: profitable on the revenue it already brings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.config.cs_plan import ACCOUNT_CLASSES, ClassificationConfig

CORE, GROWTH, CAUTIONARY = (ACCOUNT_CLASSES.index(name) for name in ("core", "growth", "cautionary"))


@dataclass(frozen=True)
class ClassRule:
    """The classification thresholds (see the module notes).

    Parameters
    ----------
    cautionary_below_profit : float
        Money.
    cautionary_below_profit_to_cost : float
        Multiple of the expected cost to serve.
    growth_min_expansion_share : float
        Fraction of the expected profit.
    """

    cautionary_below_profit: float = 0.0
    cautionary_below_profit_to_cost: float = 1.0
    growth_min_expansion_share: float = 0.15

    @classmethod
    def from_config(cls, config: ClassificationConfig | None) -> "ClassRule":
        config = config or ClassificationConfig()
        return cls(config.cautionary_below_profit, config.cautionary_below_profit_to_cost,
                   config.growth_min_expansion_share)

    def classify(self, profit, cost_to_serve, expansion) -> np.ndarray:
        """Class codes (:data:`CORE`, :data:`GROWTH`, :data:`CAUTIONARY`, int8) of arrays of
        expected profit, expected cost to serve and expansion potential (money)."""
        profit = np.asarray(profit, dtype=np.float64)
        cautionary = (profit < self.cautionary_below_profit) | \
            (profit < self.cautionary_below_profit_to_cost * np.asarray(cost_to_serve, dtype=np.float64))
        growth = ~cautionary & (np.asarray(expansion, dtype=np.float64) >= self.growth_min_expansion_share * profit)
        return np.where(cautionary, CAUTIONARY, np.where(growth, GROWTH, CORE)).astype(np.int8)

    def text(self, currency: str | None = None) -> str:
        """The rule in words, as every output prints it."""
        unit = f" {currency}" if currency else ""
        return (f"cautionary: expected profit below {self.cautionary_below_profit:,.0f}{unit} or below "
                f"{self.cautionary_below_profit_to_cost:g} x its expected cost to serve; growth: otherwise, when "
                f"expected net expansion brings at least {self.growth_min_expansion_share:.0%} of its expected profit; "
                "core: every other account. Expected profit and cost to serve are discounted over the horizon, "
                "without customer success.")


def class_names(codes: np.ndarray) -> np.ndarray:
    """Class codes as their names."""
    return np.asarray(ACCOUNT_CLASSES, dtype=object)[np.asarray(codes, dtype=np.int64)]
