"""What the kernels run: :class:`CompiledSegment` (one segment under one scenario, as plain
arrays) and :class:`CompiledBook` (the segments of one run). Built by
:mod:`simcore.engine.compile`; the time conventions are set out there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simcore.economics import Economics
from simcore.engine.levers import ScenarioLevers


@dataclass(frozen=True)
class CompiledSegment:
    """Plain arrays describing one segment under one scenario.

    Shapes use ``R`` = replications, ``H`` = ``horizon_months``, ``N`` = existing
    customers, ``G`` = distinct tenures among them, ``T`` = ``max tenure + H + 1`` (an
    existing customer's churn decisions before projection months ``0..H`` use hazards
    at tenures ``a..a + H``).
    All money is per customer per month unless the name says otherwise.

    Attributes
    ----------
    hazard : (R, T) float64
        Base monthly hazard ``h_r(t) = 1 - S_r(t+1) / S_r(t)`` under parameter draw
        ``r``, tenure ``t = 0..T-1`` (1 where ``S_r(t) = 0``).
    hazard_multiplier : (2H,) float64
        Scenario factor ``m(c)`` on everyone's hazard in projection month ``c``.
    hazard_multiplier_existing, hazard_multiplier_new : (2H,) float64
        Further factors ``m_existing(c)``, ``m_new(c)`` on the hazard of existing / new
        customers only, by projection month.
    hazard_multiplier_new_tenure : (H,) float64
        Factor ``m_tenure(k)`` on a new customer's hazard by its tenure month ``k``.
    existing_hazard_factor : (2H,) float64
        The calendar factor the existing-customer kernels use on the decision into
        month ``c``: ``m(c) m_existing(c) R_existing(c)`` (``R``: churn responses to
        price steps, see :mod:`simcore.engine.levers`).
    new_hazard_factor : (2H,) float64
        The calendar part ``m(c) m_new(c)`` of a new customer's factor.
    new_cohort_hazard_factor : (C, H) float64
        What the new-customer kernels use: row ``c0`` (cohorts ``c0 >= C - 1`` share the
        last row), column ``k`` the factor on the decision after tenure month ``k``, into
        calendar month ``c = c0 + k + 1``: ``m(c) m_new(c) m_tenure(k) R_new(c0, c)``.
    group_tenure : (G,) int64
        Tenure (completed months) of each tenure group of existing customers.
    customer_group, customer_key, customer_mrr, customer_cost_per_month : (N,)
        Group index, RNG key (uint64, from the customer id), current MRR and fixed
        monthly cost to serve (support + other) of each existing customer.
    customer_cac : (N,) float64
        Acquisition cost already paid for each existing customer (sunk; reported only).
    customer_churn_passed : (N,) float64
        ``G(f)`` of each existing customer: the share of its month's churns already past
        at the part ``f`` of the current month it has survived (0 for books that date a
        churn on the renewal it skipped, or give tenures). The first projected renewal
        is missed with probability ``h (1 - G) / (1 - G h)`` instead of ``h``, and every
        later payment is ``1 / (1 - G h)`` times likelier (``h``: that renewal's hazard).
    cohort_counts : (H,) int64
        New customers acquired in each projection month.
    new_mrr, new_cost_per_month, new_acquisition_cost : float
        Starting MRR, fixed monthly cost to serve and one-off acquisition cost
        (CAC x multiplier + onboarding x multiplier) of a new customer.
    new_cac, new_onboarding_cost : float
        The two parts of ``new_acquisition_cost``; with a CAC that varies by acquisition
        month, ``new_cac`` and ``new_acquisition_cost`` are the means over the new
        customers (cohort sizes are the same in every replication).
    new_acquisition_cost_by_cohort : (H,) float64
        CAC + onboarding of a customer acquired in each projection month.
    price_existing, price_new : (2H,) float64
        Calendar price factors for existing and new customers.
    price_new_tenure : (H,) float64
        Tenure price factor ``D(k)`` of new customers (introductory discounts).
    gross_margin : (2H,) float64
        Gross margin (fraction) by calendar month, after the scenario change.
    contribution_margin : (2H,) float64
        ``gross_margin - infrastructure_cost_share`` by calendar month.
    cost_multiplier : (2H,) float64
        Factor ``K(c)`` on fixed cost to serve by calendar month.
    extra_cost_per_month : (2H,) float64
        Extra cost to serve ``e(c)`` per active account and month (every customer,
        not scaled by ``K``), by calendar month.
    discount : (2H + 1,) float64
        ``d ** t`` for ``t = 0..2H``.
    mrr_growth : (H + 1,) float64
        ``g^t`` with ``g`` = :func:`expected_event_factor` at the probabilities of the
        last calendar month (all ones without dynamics).
    existing_mrr_growth : (H,) float64
        Expected MRR factor of an existing customer paying projection month ``c``:
        ``prod_{c'<=c} g(c')`` (``g^(c+1)`` when the probabilities do not vary by month).
    new_mrr_growth : (H, H) float64
        ``[c0, k]``: expected MRR factor of a new customer of cohort ``c0`` in tenure
        month ``k``, ``prod_{t=1..k} g(c0 + t)``.
    p_expansion_by_month, p_contraction_by_month : (2H,) float64
        Probability of an expansion / contraction event before the payment of calendar
        month ``c``.
    new_pool_correction : (H, H + 1) float64, or (0, 0)
        With probabilities that vary by month: the factor on a new customer's pooled
        revenue that makes it exact on average given its lifetime (see
        :func:`simcore.engine.compile._pool_correction`); empty otherwise.
    existing_margin_prefix, existing_cost_prefix, existing_extra_cost_prefix : (H + 1,) float64
        ``A(L) = sum_{c<L} d^c price_existing(c) contribution_margin(c) g^(c+1)``,
        ``B(L) = sum_{c<L} d^c K(c)`` and ``E(L) = sum_{c<L} d^c e(c)``, indexed by the
        number of projected payments ``L = 0..H`` (months ``0..L-1`` after ``as_of``):
        the expected value of an existing customer with MRR ``m``, cost ``k`` and ``L``
        projected payments is ``m A(L) - k B(L) - E(L)`` (0 when ``L = 0``), its exact
        value when MRR is constant.
    new_value_table : (H, H + 1) float64
        Expected discounted value at acquisition (before acquisition cost) of a new
        customer acquired in month ``c0`` who stays ``L`` months.
    new_payback_months : (H,) int64
        Months of contribution a new customer of cohort ``c0`` needs to earn back its
        acquisition cost along the expected MRR path (``H + 1`` = not within the
        horizon); the kernels use it when MRR is constant.
    existing_path_weight : (H,) float64
        ``d^c price_existing(c) contribution_margin(c)``: weights of an existing
        customer's MRR path in its value.
    new_path_weight : (H,) float64
        ``d^k D(k)``: discounted tenure price factors of a new customer's MRR path.
    new_calendar_margin : (2H,) float64
        ``x(c) = price_new(c) contribution_margin(c)``.
    new_margin_changes : (n,) int64
        Calendar months ``1 <= c < 2H`` where ``x(c) != x(c - 1)``.
    new_first_change : (H,) int64
        Per cohort ``c0``, the index in ``new_margin_changes`` of the first change after
        ``c0``.
    new_fixed_cost : (2H,) float64
        ``y(c) = new_cost_per_month K(c) + e(c)`` by calendar month.
    new_fixed_cost_prefix : (H, H + 1) float64
        ``F(c0, L) = sum_{k<L} d^k y(c0 + k)``.
    new_payback_classes : int
        ``1 +`` the last calendar month (capped at ``H - 1``) where ``x`` or ``y``
        changes: cohorts from that month on see the same money schedules.
    new_churn_classes : int
        The same for ``new_hazard_factor``: cohorts from that month on share one
        survival table.
    p_expansion, expansion_log_mean, expansion_log_sd, p_contraction,
    contraction_log_mean, contraction_log_sd : float
        Revenue dynamics after the scenario's multipliers (the probabilities of the last
        calendar month).
    histogram_bounds : (2, 2) float64
        ``[[low, high] existing, [low, high] new]`` bounds of the per-customer value
        histograms (values outside are counted in under/overflow bins).
    """

    name: str
    segment_key: np.uint64
    horizon_months: int
    replications: int
    monthly_discount_factor: float
    hazard: np.ndarray
    hazard_multiplier: np.ndarray
    hazard_multiplier_existing: np.ndarray
    hazard_multiplier_new: np.ndarray
    hazard_multiplier_new_tenure: np.ndarray
    existing_hazard_factor: np.ndarray
    new_hazard_factor: np.ndarray
    new_cohort_hazard_factor: np.ndarray
    group_tenure: np.ndarray
    customer_group: np.ndarray
    customer_key: np.ndarray
    customer_mrr: np.ndarray
    customer_cost_per_month: np.ndarray
    customer_cac: np.ndarray
    customer_churn_passed: np.ndarray
    cohort_counts: np.ndarray
    new_mrr: float
    new_cost_per_month: float
    new_cac: float
    new_onboarding_cost: float
    new_acquisition_cost: float
    new_acquisition_cost_by_cohort: np.ndarray
    price_existing: np.ndarray
    price_new: np.ndarray
    price_new_tenure: np.ndarray
    gross_margin: np.ndarray
    contribution_margin: np.ndarray
    cost_multiplier: np.ndarray
    extra_cost_per_month: np.ndarray
    discount: np.ndarray
    existing_margin_prefix: np.ndarray
    existing_cost_prefix: np.ndarray
    existing_extra_cost_prefix: np.ndarray
    new_value_table: np.ndarray
    new_payback_months: np.ndarray
    mrr_growth: np.ndarray
    existing_mrr_growth: np.ndarray
    new_mrr_growth: np.ndarray
    p_expansion_by_month: np.ndarray
    p_contraction_by_month: np.ndarray
    new_pool_correction: np.ndarray
    existing_path_weight: np.ndarray
    new_path_weight: np.ndarray
    new_calendar_margin: np.ndarray
    new_margin_changes: np.ndarray
    new_first_change: np.ndarray
    new_fixed_cost: np.ndarray
    new_fixed_cost_prefix: np.ndarray
    new_payback_classes: int
    new_churn_classes: int
    p_expansion: float
    expansion_log_mean: float
    expansion_log_sd: float
    p_contraction: float
    contraction_log_mean: float
    contraction_log_sd: float
    histogram_bounds: np.ndarray
    economics: Economics = field(repr=False, default=None)
    levers: ScenarioLevers = field(repr=False, default=None)

    @property
    def has_dynamics(self) -> bool:
        """True when MRR can change through expansion or contraction events."""
        return bool(self.p_expansion_by_month.max(initial=0.0) > 0.0
                    or self.p_contraction_by_month.max(initial=0.0) > 0.0)

    @property
    def monthly_mrr_growth(self) -> float:
        """Expected MRR factor per renewal, ``g`` (1 without dynamics)."""
        return float(self.mrr_growth[1]) if self.mrr_growth.size > 1 else 1.0

    @property
    def n_existing(self) -> int:
        return int(self.customer_key.shape[0])

    @property
    def n_new(self) -> int:
        return int(self.cohort_counts.sum())


@dataclass(frozen=True)
class CompiledBook:
    """The compiled segments of one run, with the run's settings."""

    segments: tuple[CompiledSegment, ...]
    seed: int
    replications: int
    horizon_months: int

    @property
    def names(self) -> list[str]:
        return [segment.name for segment in self.segments]
