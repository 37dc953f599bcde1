"""Expected values without simulation: sums over survival curves.

For each parameter draw the expected discounted value of a customer is

``E[LTV] = sum_{t<H} d^t P_t (E[MRR_t] p(t) cm(t) - k K(t) - e(t))``

with ``P_t`` the probability of paying in month ``t`` under the scenario-modified
survival: ``P_t = S(t)`` for a new customer in its tenure month ``t`` (it pays its
first month for certain), and ``P_t = S(a + 1 + t) / S(a)`` for an existing customer at
tenure ``a`` in projection month ``t``, since it has already paid for life months
``0..a`` (so at zero churn it is worth the annuity of ``H`` payments starting with the
next month, weights ``d^0..d^(H-1)``, and at tenure ``a = n - 1`` the shifted-beta-
geometric model gives Fader & Hardie's DERL for a customer who has made ``n``
payments). An existing customer that has outlived the share ``G`` of its month's
churns (a book that dates cancellations between payments) has every ``P_t`` divided by
``1 - G h1``, ``h1`` its first renewal's hazard (see
:class:`~simcore.engine.compiled.CompiledSegment`). ``p`` are the price factors, ``cm`` the contribution margin, ``k`` the fixed
cost to serve, ``K`` its factor and ``e`` the extra cost to serve per account. Expansion and contraction events are independent of
survival and of each other across months, so ``E[MRR_t] = m g^t`` for a new customer
(events from its second month on) and ``E[MRR_t] = m g^(t+1)`` for an existing one
(every projected month is a renewal, month 0 included), with the expected
monthly growth factor ``g = 1 + p_e (E[e^X_e] - 1) + p_c (E[e^X_c] - 1)``, ``E[e^X] =
exp(mu + sigma^2 / 2)``. Averaging over ``S(t)`` — never plugging an expected lifetime
into an annuity — keeps the estimate free of Jensen's-inequality bias (DESIGN §5).

This is the engine's deterministic path: closed forms (Fader & Hardie's DEL and DERL,
annuities) are checked against it, and the simulation is checked against it within
Monte Carlo error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simcore.engine.compile import CompiledSegment, expected_event_factor


@dataclass(frozen=True)
class ExpectedValues:
    """Expected per-customer values of one compiled segment, per parameter draw.

    Attributes
    ----------
    survival_existing : (R, G, H + 1) float64
        Scenario-modified conditional survival ``S(a + t) / S(a)``, ``t = 0..H``, of each
        tenure group ``a``; the probability of paying in projection month ``c`` is
        entry ``c + 1``.
    survival_new : (R, H, H + 1) float64
        Scenario-modified survival of a customer acquired in each projection month.
    existing_value : (R, N) float64
        Expected remaining value of each existing customer, discounted to ``as_of``.
    new_value : (R, H) float64
        Expected value at acquisition (before acquisition cost) of a new customer
        acquired in each projection month.
    new_unit_profit : (R, H) float64
        ``new_value`` minus the cohort's acquisition cost.
    monthly_growth : float
        Expected MRR factor per month from expansion and contraction, ``g``, at the
        probabilities of the last calendar month (the expected paths by month are the
        segment's ``existing_mrr_growth`` and ``new_mrr_growth``).
    """

    survival_existing: np.ndarray
    survival_new: np.ndarray
    existing_value: np.ndarray
    new_value: np.ndarray
    new_unit_profit: np.ndarray
    monthly_growth: float


def _survival(hazard: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """``S(0..n)`` from hazards ``(..., n)`` times multipliers, capped at 1."""
    keep = 1.0 - np.minimum(1.0, hazard * multiplier)
    ones = np.ones(keep.shape[:-1] + (1,))
    return np.concatenate([ones, np.cumprod(keep, axis=-1)], axis=-1)


def expected_values(segment: CompiledSegment) -> ExpectedValues:
    """Expected values of ``segment`` for every parameter draw (see module docstring)."""
    H = segment.horizon_months
    months = np.arange(H)
    growth = expected_event_factor(segment.p_expansion, segment.expansion_log_mean,
                                   segment.expansion_log_sd, segment.p_contraction,
                                   segment.contraction_log_mean, segment.contraction_log_sd)

    tenure_index = segment.group_tenure[:, None] + months[None, :]
    survival_existing = _survival(segment.hazard[:, tenure_index],
                                  segment.existing_hazard_factor[:H][None, None, :])
    # Existing customers have paid for the current month already: month c is paid with
    # probability S(a + 1 + c) / S(a), after c + 1 event opportunities.
    weight = survival_existing[:, :, 1:] * segment.discount[None, None, :H]
    revenue = (weight * (segment.existing_mrr_growth * segment.price_existing[:H]
                         * segment.contribution_margin[:H])).sum(axis=2)
    fixed = (weight * segment.cost_multiplier[:H]).sum(axis=2)
    extra = (weight * segment.extra_cost_per_month[:H]).sum(axis=2)
    existing_value = (segment.customer_mrr[None, :] * revenue[:, segment.customer_group]
                      - segment.customer_cost_per_month[None, :] * fixed[:, segment.customer_group]
                      - extra[:, segment.customer_group])
    # A customer that has outlived the share G of its month's churns pays every month
    # 1 / (1 - G h1) times likelier (h1: its first renewal's hazard); see
    # CompiledSegment.customer_churn_passed.
    first_hazard = 1.0 - survival_existing[:, segment.customer_group, 1]
    existing_value = existing_value / (1.0 - segment.customer_churn_passed[None, :] * first_hazard)

    calendar = months[:, None] + months[None, :]
    rows = np.minimum(months, segment.new_churn_classes - 1)
    new_factor = segment.new_cohort_hazard_factor[rows]
    survival_new = _survival(segment.hazard[:, None, :H], new_factor[None])
    contribution = (segment.new_mrr * segment.new_mrr_growth * segment.price_new[calendar]
                    * segment.price_new_tenure[None, :H] * segment.contribution_margin[calendar]
                    - segment.new_cost_per_month * segment.cost_multiplier[calendar]
                    - segment.extra_cost_per_month[calendar])
    new_value = (survival_new[:, :, :H] * segment.discount[None, None, :H]
                 * contribution[None]).sum(axis=2)
    return ExpectedValues(survival_existing, survival_new, existing_value, new_value,
                          new_value - segment.new_acquisition_cost_by_cohort[None, :], float(growth))
