"""Compile fitted models, economics and a scenario into plain arrays for the kernels.

One :class:`CompiledSegment` holds everything the kernels need for one segment under
one scenario; :class:`CompiledBook` holds the segments of one run. Nothing here is
random except the retention parameter draws, which come from the fit's own
``survival_draws`` with a seed derived from the run seed and the segment name, so two
scenarios of one run share them (common random numbers).

Time conventions (DESIGN §4): projection month ``c`` counts from ``as_of`` (0 = the
first month); tenure ``a`` counts whole months since signup. An existing customer at
tenure ``a`` has already paid ``a + 1`` times (life months ``0..a``, each paid at the
start of the month), so its lifetime is known to satisfy ``T > a``; it pays in
projection month ``c`` with probability ``S(a + 1 + c) / S(a)``, modified by the
scenario's hazard multipliers in calendar time (the decision before projection month
``k`` uses ``h(a + k)``), so its number of projected payments ``L`` runs from 0 to
``H``. A new customer acquired in projection month ``c0`` pays in its tenure months
``k = 0, 1, ...`` (calendar month ``c0 + k``). Each customer's value is counted over
``horizon_months`` months from the moment it is valued: ``as_of`` for existing
customers, acquisition for new ones; calendar schedules therefore run for
``2 * horizon_months`` months.
"""

from __future__ import annotations

import zlib
from typing import Any, Mapping

import numpy as np
import pandas as pd

from simcore.economics import Economics, monthly_discount_factor
from simcore.economics.rules import fraction_problem, revenue_event_problem
from simcore.economics.segments import baseline_acquisition_per_month, mean_known_mrr
from simcore.engine.compiled import CompiledBook, CompiledSegment
from simcore.engine.levers import ScenarioLevers, schedule
from simcore.engine.protocols import MrrDynamics, SurvivalModel
from simcore.engine.schedules import (
    cumulative_growth,
    distinct_cohorts,
    existing_churn_response,
    new_churn_response,
)
from simcore.errors import ConfigError, FitError, Problem

__all__ = [
    "CompiledBook",
    "CompiledSegment",
    "MrrDynamics",
    "ScenarioLevers",
    "SurvivalModel",
    "baseline_acquisition_per_month",
    "compile_book",
    "compile_segment",
    "customer_keys",
    "segment_key",
]

_FLOAT = np.float64
# Hash key for customer ids: fixed so customer keys are stable across runs.
_CUSTOMER_HASH_KEY = "simcore-customer"
_CLEAR_TOP_BIT = np.uint64((1 << 63) - 1)


def segment_key(name: str) -> np.uint64:
    """Stable 64-bit RNG key of a segment name (independent of segment order)."""
    data = name.encode("utf-8")
    return np.uint64((zlib.crc32(data) << 32) | zlib.adler32(data))


def customer_keys(customer_ids: pd.Series) -> np.ndarray:
    """Stable 64-bit RNG keys of customer ids (top bit clear; new customers set it).

    Uses pandas' SipHash-based ``hash_pandas_object`` with a fixed key, so a customer
    keeps its random numbers when the book is re-sorted or re-segmented.
    """
    hashed = pd.util.hash_pandas_object(
        customer_ids.astype(str), index=False, hash_key=_CUSTOMER_HASH_KEY[:16].ljust(16, "0")
    ).to_numpy(dtype=np.uint64)
    return hashed & _CLEAR_TOP_BIT


def _rounded_counts(volume: np.ndarray) -> np.ndarray:
    """Whole customers per month whose running total tracks the running volume."""
    cumulative = np.floor(np.cumsum(volume) + 0.5)
    return np.diff(np.concatenate([[0.0], cumulative])).astype(np.int64)


def _hazard_from_draws(draws: np.ndarray, n_months: int, replications: int, name: str) -> np.ndarray:
    draws = np.asarray(draws, dtype=_FLOAT)
    expected = (replications, n_months + 1)
    problems = []
    if draws.shape != expected:
        problems.append(f"survival_draws returned shape {draws.shape}, expected {expected}")
    elif not np.all(np.isfinite(draws)) or np.any(draws < 0) or np.any(draws > 1 + 1e-12):
        problems.append("survival_draws returned values outside [0, 1]")
    elif np.any(np.diff(draws, axis=1) > 1e-12) or np.any(np.abs(draws[:, 0] - 1) > 1e-9):
        problems.append("survival_draws rows must start at 1 and never increase")
    if problems:
        raise FitError([Problem(message, "this is a defect of the retention fit; refit the "
                                "segment or choose another family", field=f"segments.{name}")
                        for message in problems])
    draws = np.minimum(draws, 1.0)
    previous = draws[:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(previous > 0, 1.0 - draws[:, 1:] / previous, 1.0)
    return np.clip(hazard, 0.0, 1.0)


def _column_or(frame: pd.DataFrame, column: str, default: float) -> np.ndarray:
    if column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=_FLOAT)
        return np.where(np.isfinite(values), values, default)
    return np.full(len(frame), default, dtype=_FLOAT)


def _dynamics_values(dynamics: MrrDynamics | None, levers: ScenarioLevers, name: str) -> tuple[float, ...]:
    if dynamics is None:
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    p_expansion = float(dynamics.p_expansion) * levers.expansion_multiplier
    p_contraction = float(dynamics.p_contraction) * levers.contraction_multiplier
    message = revenue_event_problem(p_expansion, p_contraction)
    if message:
        raise ConfigError(Problem(
            f"segment {name!r} after the scenario multipliers: {message}",
            "lower expansion_multiplier or contraction_multiplier so the sum stays <= 1",
            field=f"segments.{name}",
        ))
    return (p_expansion, float(dynamics.expansion_log_mean), float(dynamics.expansion_log_sd),
            p_contraction, float(dynamics.contraction_log_mean),
            float(dynamics.contraction_log_sd))


def expected_event_factor(p_expansion: float, expansion_log_mean: float, expansion_log_sd: float,
                          p_contraction: float, contraction_log_mean: float,
                          contraction_log_sd: float) -> float:
    """Expected MRR factor of one renewal's expansion / contraction event.

    ``g = E[f] = 1 - p_e - p_c + p_e exp(mu_e + sigma_e^2 / 2) + p_c exp(mu_c + sigma_c^2 / 2)``:
    with probability ``p_e`` the MRR is multiplied by a lognormal ``exp(mu_e + sigma_e
    Z)``, whose mean is ``exp(mu_e + sigma_e^2 / 2)``, with probability ``p_c`` by
    ``exp(mu_c + sigma_c Z)``, otherwise by 1. Written as ``1 + p_e (E - 1) + p_c (E -
    1)`` so that it is exactly 1 when both probabilities are 0.
    """
    return (1.0 + p_expansion * (np.exp(expansion_log_mean + 0.5 * expansion_log_sd ** 2) - 1.0)
            + p_contraction * (np.exp(contraction_log_mean + 0.5 * contraction_log_sd ** 2) - 1.0))


def _cohort_classes(horizon: int, *schedules: np.ndarray) -> int:
    """``1 + min(H - 1, last calendar month where any schedule changes)`` (0 when none).

    Cohorts acquired from that month on see every schedule constant over their life, so
    they are alike; earlier cohorts may each differ.
    """
    last = 0
    for values in schedules:
        changes = np.flatnonzero(values[1:] != values[:-1])
        if changes.size:
            last = max(last, int(changes[-1]) + 1)
    return min(last, horizon - 1) + 1


def _zero_on_a_bin_edge(low: float, high: float) -> list[float]:
    """Lower ``low`` so that 0 falls just above a bin edge for any bin count that is a
    multiple of 1,024.

    Existing customers who churn before their next payment are worth exactly 0, a point
    mass; P(value < 0) interpolates linearly inside the bin holding 0, so that bin must
    start (a hair) below 0 or part of the mass would be counted as a loss.
    """
    if not low < 0.0 < high:
        return [low, high]
    share = -low / (high - low)
    steps = int(np.ceil(share * 1024.0))
    if steps >= 1024:
        return [low, high]
    aligned = -steps / 1024.0 * high / (1.0 - steps / 1024.0)
    return [aligned - 1e-9 * (high - aligned), high]


def _growth_allowance(p: float, log_mean: float, log_sd: float, months: int) -> float:
    """A bound on the log MRR change from one kind of event over ``months`` that almost
    every customer stays under (two standard deviations of the event count and size).

    The histogram's bins span the range where the mass is, so its quantiles resolve the
    body of the distribution; the few customers beyond go to the overflow bin, whose
    quantiles interpolate up to the observed maximum. A bound set by the most extreme
    path possible made the bins so wide that P5 and P(loss) of skewed segments were off
    by an order of magnitude.
    """
    if p <= 0.0:
        return 0.0
    events = p * months + 2.0 * np.sqrt(p * months) + 1.0
    return abs(log_mean) * events + 2.0 * log_sd * np.sqrt(events)


def _pool_correction(revenue_weight: np.ndarray, new_growth: np.ndarray, tail_growth: float) -> np.ndarray:
    """``(H, H + 1)`` factors that make the pooled per-customer revenue of a new customer
    exact on average given its lifetime when expansion or contraction probabilities vary
    by calendar month.

    The pool's paths are drawn with the probabilities of the last calendar month (the
    ones every late cohort sees), so for cohort ``c0`` and lifetime ``L`` their expected
    revenue is ``sum_{k<L} w(c0, k) g^k``; the cohort's own is ``sum_{k<L} w(c0, k)
    E[N_k | c0]``. The ratio corrects the mean; the spread of the events within the
    windows stays that of the last month's probabilities (an approximation, measured
    against the reference engine in the tests).
    """
    H = revenue_weight.shape[0]
    exact = np.cumsum(revenue_weight * new_growth, axis=1)
    pooled = np.cumsum(revenue_weight * tail_growth ** np.arange(H)[None, :], axis=1)
    tiny = 1e-12 * max(float(np.abs(pooled).max()), 1e-300)
    ratio = np.where(np.abs(pooled) > tiny, exact / np.where(np.abs(pooled) > tiny, pooled, 1.0), 1.0)
    return np.concatenate([np.ones((H, 1)), ratio], axis=1)


def compile_segment(
    name: str,
    fit: SurvivalModel,
    economics: Economics,
    customers: pd.DataFrame,
    *,
    dynamics: MrrDynamics | None = None,
    levers: ScenarioLevers | None = None,
    replications: int,
    seed: int,
    horizon_months: int,
    include_existing: bool = True,
    include_new: bool = True,
    acquisition_baseline_per_month: float = 0.0,
    draw_method: str = "asymptotic",
) -> CompiledSegment:
    """Compile one segment into a :class:`CompiledSegment`.

    Parameters
    ----------
    name
        Segment name (its RNG key is derived from it).
    fit
        A fitted retention model (:class:`~simcore.engine.protocols.SurvivalModel`):
        anything with ``survival_draws(n_draws, n_months, seed, method)`` returning an
        ``(n_draws, n_months + 1)`` array whose rows start at 1, never increase and stay
        in [0, 1].
    economics
        The segment's :class:`~simcore.economics.Economics`.
    customers
        The segment's rows of the customer book (canonical columns). Active rows
        (``churned`` false) are the existing base; per-customer ``mrr``,
        ``support_cost_per_month`` and ``cac`` win over segment values.
    dynamics
        Expansion and contraction (:class:`~simcore.engine.protocols.MrrDynamics`, e.g.
        the retention package's ``RevenueDynamics``), or ``None`` for constant MRR.
    levers
        The scenario (``None`` = baseline).
    replications, seed, horizon_months
        Simulation settings; ``replications`` parameter draws are taken from the fit.
    include_existing, include_new
        Whether to simulate the existing base and new cohorts.
    acquisition_baseline_per_month
        New customers per month used when ``levers.acquisition_per_month`` is None.
    draw_method
        Passed to ``fit.survival_draws`` (``"asymptotic"`` or ``"bootstrap"``).
    """
    levers = levers or ScenarioLevers()
    H = int(horizon_months)
    if H < 1:
        raise ConfigError(Problem(f"horizon_months must be >= 1, got {horizon_months}",
                                  "use e.g. 120 for ten years", field="horizon_months"))
    if replications < 1:
        raise ConfigError(Problem(f"replications must be >= 1, got {replications}",
                                  "use e.g. 1000", field="simulation.replications"))
    calendar = 2 * H
    rate = levers.discount_rate_annual if levers.discount_rate_annual is not None \
        else economics.discount_rate_annual
    d = monthly_discount_factor(rate)

    # ----------------------------------------------------------- existing customers
    if include_existing and len(customers):
        active = customers.loc[~customers["churned"].astype(bool)] \
            if "churned" in customers.columns else customers
    else:
        active = customers.iloc[:0]
    tenure = active["tenure_months"].to_numpy(dtype=np.int64) if len(active) else \
        np.zeros(0, dtype=np.int64)
    if np.any(tenure < 0):
        raise ConfigError(Problem("tenure_months must be >= 0 for active customers",
                                  "check the customer book", field="tenure_months"))
    group_tenure, customer_group = np.unique(tenure, return_inverse=True)
    customer_group = customer_group.astype(np.int64).reshape(-1)
    group_tenure = group_tenure.astype(np.int64)
    # Customers of one tenure group are simulated together so that group's survival
    # table stays in cache; a stable sort keeps the book's order within a group.
    order = np.argsort(customer_group, kind="stable")
    active = active.iloc[order]
    customer_group = customer_group[order]
    mrr = _column_or(active, "mrr", economics.default_mrr)
    support = _column_or(active, "support_cost_per_month", economics.support_cost_per_month)
    cost = support + economics.other_cost_to_serve_per_month
    cac_paid = _column_or(active, "cac", economics.cac)
    churn_passed = np.clip(_column_or(active, "period_churn_passed", 0.0), 0.0, 1.0)
    if len(active):
        keys = customer_keys(active["customer_id"]) if "customer_id" in active.columns \
            else np.arange(len(active), dtype=np.uint64)
    else:
        keys = np.zeros(0, dtype=np.uint64)

    # ------------------------------------------------------------------ survival
    max_tenure = int(group_tenure.max()) if group_tenure.size else 0
    # One month more than the horizon: the churn decision before an existing customer's
    # projection month H - 1 uses the hazard at tenure max_tenure + H - 1, and the
    # kernels' lifetime table runs to tenure max_tenure + H.
    n_tenure = max_tenure + H + 1
    seg_key = segment_key(name)
    draw_seed = int(np.random.SeedSequence(
        [int(seed) & 0xFFFFFFFF, int(seed) >> 32, int(seg_key) & 0xFFFFFFFF, int(seg_key) >> 32]
    ).generate_state(1)[0])
    draws = fit.survival_draws(replications, n_tenure, seed=draw_seed, method=draw_method)
    hazard = np.ascontiguousarray(_hazard_from_draws(draws, n_tenure, replications, name))

    # ----------------------------------------------------------------- schedules
    hazard_multiplier = schedule(levers.churn_hazard_multiplier_by_month, calendar, 1.0)
    hazard_multiplier_existing = schedule(levers.churn_hazard_multiplier_existing_by_month,
                                          calendar, 1.0)
    hazard_multiplier_new = schedule(levers.churn_hazard_multiplier_new_by_month, calendar, 1.0)
    hazard_multiplier_new_tenure = schedule(levers.new_customer_churn_multiplier_by_tenure_month,
                                            H, 1.0)
    existing_hazard_factor = (hazard_multiplier * hazard_multiplier_existing
                              * existing_churn_response(levers.churn_steps_existing, calendar))
    months = np.arange(H)
    calendar_index = months[:, None] + months[None, :]          # [c0, k] -> c0 + k
    # New customers: the decision after tenure month k is into calendar month c0 + k + 1,
    # and their churn response depends on when they were acquired, so every factor is
    # tabulated per cohort; cohorts from the last distinct row on share it.
    new_hazard_factor = hazard_multiplier * hazard_multiplier_new
    cohort_hazard = (new_hazard_factor[calendar_index + 1] * hazard_multiplier_new_tenure[None, :]
                     * new_churn_response(levers.churn_steps_new, H))
    new_churn_classes = distinct_cohorts(cohort_hazard)
    price_existing = schedule(levers.price_multiplier_existing_by_month, calendar, 1.0)
    price_new = schedule(levers.price_multiplier_new_by_month, calendar, 1.0)
    price_new_tenure = schedule(levers.new_customer_price_multiplier_by_tenure_month, H, 1.0)
    gross_margin = economics.gross_margin + schedule(levers.gross_margin_change_by_month,
                                                     calendar, 0.0)
    message = fraction_problem(f"the gross margin of segment {name!r} after gross_margin_change_by_month",
                               float(gross_margin.min()))
    message = message or fraction_problem(f"the gross margin of segment {name!r} after "
                                          "gross_margin_change_by_month", float(gross_margin.max()))
    if message:
        raise ConfigError(Problem(message, "make the change smaller", field="gross_margin_change_by_month"))
    contribution_margin = gross_margin - economics.infrastructure_cost_share
    cost_multiplier = schedule(levers.cost_to_serve_multiplier_by_month, calendar, 1.0)
    extra_cost = float(levers.extra_cost_to_serve_per_month) + schedule(
        levers.extra_cost_to_serve_by_month, calendar, 0.0)
    discount = d ** np.arange(calendar + 1, dtype=_FLOAT)

    # ------------------------------------------------------------- new customers
    if include_new:
        volume = levers.acquisition_per_month
        base = schedule(volume, H, 0.0) if volume is not None else \
            np.full(H, float(acquisition_baseline_per_month))
        cohort_counts = _rounded_counts(base * schedule(levers.acquisition_multiplier_by_month,
                                                        H, 1.0))
    else:
        cohort_counts = np.zeros(H, dtype=np.int64)
    new_mrr = float(levers.new_customer_mrr) if levers.new_customer_mrr is not None \
        else mean_known_mrr(customers, economics.default_mrr)
    new_cost = economics.cost_to_serve_per_month
    # CAC by acquisition month (a CAC window charges the customers acquired in it).
    cac_by_cohort = economics.cac * levers.cac_multiplier * schedule(levers.cac_multiplier_by_month, H, 1.0)
    new_onboarding = economics.onboarding_cost * levers.onboarding_cost_multiplier
    acquisition_by_cohort = cac_by_cohort + new_onboarding
    # Cohort sizes are the same in every replication, so the mean acquisition cost per
    # new customer is a number, and unit profit = value - that number exactly on average.
    weights = cohort_counts if cohort_counts.sum() > 0 else np.eye(H, 1, dtype=np.int64).ravel()
    new_cac = float(np.average(cac_by_cohort, weights=weights))
    acquisition_cost = new_cac + new_onboarding

    # ------------------------------------------------------------ derived tables
    dyn = _dynamics_values(dynamics, levers, name)
    p_expansion_base, expansion_mean, expansion_sd, p_contraction_base, contraction_mean, contraction_sd = dyn
    p_expansion_by_month = p_expansion_base * schedule(levers.expansion_multiplier_by_month, calendar, 1.0)
    p_contraction_by_month = p_contraction_base * schedule(levers.contraction_multiplier_by_month, calendar, 1.0)
    worst = int(np.argmax(p_expansion_by_month + p_contraction_by_month))
    message = revenue_event_problem(float(p_expansion_by_month[worst]), float(p_contraction_by_month[worst]))
    if message:
        raise ConfigError(Problem(f"segment {name!r} in month {worst} after the scenario multipliers: {message}",
                                  "lower the expansion or contraction multiplier of that month",
                                  field=f"segments.{name}"))
    p_expansion, p_contraction = float(p_expansion_by_month[-1]), float(p_contraction_by_month[-1])
    growth_by_month = expected_event_factor(p_expansion_by_month, expansion_mean, expansion_sd,
                                            p_contraction_by_month, contraction_mean, contraction_sd)
    growth_factor = float(growth_by_month[-1])
    calendar_dynamics = bool(np.any(p_expansion_by_month != p_expansion)
                             or np.any(p_contraction_by_month != p_contraction))
    # Expected MRR factor by month: E[N] is the product of the months' expected event
    # factors (exactly g^t when the probabilities do not vary by month).
    if calendar_dynamics:
        existing_growth, new_growth = cumulative_growth(growth_by_month, H)
    else:
        existing_growth = growth_factor ** np.arange(1, H + 1, dtype=_FLOAT)
        new_growth = np.broadcast_to(growth_factor ** months.astype(_FLOAT), (H, H))
    mrr_growth = growth_factor ** np.arange(H + 1, dtype=_FLOAT)
    existing_path_weight = discount[:H] * price_existing[:H] * contribution_margin[:H]
    existing_margin_prefix = np.concatenate([[0.0], np.cumsum(existing_path_weight * existing_growth)])
    existing_cost_prefix = np.concatenate([[0.0], np.cumsum(discount[:H] * cost_multiplier[:H])])
    existing_extra_cost_prefix = np.concatenate([[0.0], np.cumsum(discount[:H] * extra_cost[:H])])
    new_fixed_cost = new_cost * cost_multiplier + extra_cost     # y(c), by calendar month
    monthly_contribution = (new_mrr * price_new[calendar_index] * price_new_tenure[None, :] * new_growth
                            * contribution_margin[calendar_index]
                            - new_cost * cost_multiplier[calendar_index]
                            - extra_cost[calendar_index])
    new_value_table = np.concatenate(
        [np.zeros((H, 1)), np.cumsum(monthly_contribution * discount[None, :H], axis=1)], axis=1)
    cumulative_cash = np.cumsum(monthly_contribution, axis=1)
    new_payback_months = np.full(H, H + 1, dtype=np.int64)
    reached = cumulative_cash >= acquisition_by_cohort[:, None]
    hit = reached.any(axis=1)
    new_payback_months[hit] = reached[hit].argmax(axis=1) + 1
    new_payback_months[acquisition_by_cohort <= 0.0] = 0
    # Schedules of the pool of MRR paths (see simcore.engine.kernels).
    new_calendar_margin = price_new * contribution_margin        # x(c)
    margin_changes = np.flatnonzero(new_calendar_margin[1:] != new_calendar_margin[:-1]) + 1
    new_fixed_cost_prefix = np.concatenate(
        [np.zeros((H, 1)),
         np.cumsum(new_fixed_cost[calendar_index] * discount[None, :H], axis=1)], axis=1)
    new_pool_correction = _pool_correction(discount[:H] * price_new_tenure[None, :]
                                           * new_calendar_margin[calendar_index], new_growth,
                                           growth_factor) if calendar_dynamics else np.zeros((0, 0))

    # H event opportunities: an existing customer's every projected month is a renewal,
    # month 0 included.
    log_up = _growth_allowance(float(p_expansion_by_month.max()), expansion_mean, expansion_sd, H)
    growth = np.exp(log_up)
    positive_margin = np.sum(discount[:H] * price_existing[:H] * np.maximum(contribution_margin[:H], 0))
    negative_margin = np.sum(discount[:H] * price_existing[:H] * np.minimum(contribution_margin[:H], 0))
    # The 99.9th percentile rather than the maximum: one outlier account must not
    # stretch every bin of the segment (it lands in the overflow bin instead).
    max_mrr = float(np.quantile(mrr, 0.999)) if mrr.size else 0.0
    max_cost = float(np.quantile(cost, 0.999)) if cost.size else 0.0
    # An existing customer who churns before its next payment is worth exactly 0, so
    # the range always reaches 0.
    existing_bounds = [min(negative_margin * max_mrr * growth
                           - max_cost * existing_cost_prefix[-1]
                           - existing_extra_cost_prefix[-1], 0.0),
                       positive_margin * max_mrr * growth]
    if p_expansion_by_month.max() > 0.0 or p_contraction_by_month.max() > 0.0:
        fixed_part = new_cost * cost_multiplier[calendar_index] + extra_cost[calendar_index]
        revenue_part = monthly_contribution + fixed_part
        weighted = discount[None, :H] * revenue_part
        fixed_cost = float((discount[None, :H] * fixed_part).sum(axis=1).max())
        new_bounds = [min(float(new_value_table.min()),
                          float(np.minimum(weighted, 0).sum(axis=1).min()) * growth - fixed_cost),
                      float(np.maximum(weighted, 0).sum(axis=1).max()) * growth]
    else:
        new_bounds = [float(new_value_table.min()), float(new_value_table.max())]
    existing_bounds = _zero_on_a_bin_edge(*existing_bounds)
    bounds = np.array([existing_bounds, new_bounds], dtype=_FLOAT)
    for row in bounds:
        if not row[1] > row[0]:
            row[1] = row[0] + 1.0

    return CompiledSegment(
        name=name, segment_key=seg_key, horizon_months=H, replications=int(replications),
        monthly_discount_factor=d, hazard=hazard, hazard_multiplier=hazard_multiplier,
        hazard_multiplier_existing=hazard_multiplier_existing,
        hazard_multiplier_new=hazard_multiplier_new,
        hazard_multiplier_new_tenure=hazard_multiplier_new_tenure,
        existing_hazard_factor=existing_hazard_factor, new_hazard_factor=new_hazard_factor,
        new_cohort_hazard_factor=np.ascontiguousarray(cohort_hazard[:new_churn_classes]),
        group_tenure=group_tenure, customer_group=customer_group,
        customer_key=np.ascontiguousarray(keys, dtype=np.uint64),
        customer_mrr=np.ascontiguousarray(mrr), customer_cost_per_month=np.ascontiguousarray(cost),
        customer_cac=cac_paid, customer_churn_passed=np.ascontiguousarray(churn_passed),
        cohort_counts=cohort_counts, new_mrr=new_mrr,
        new_cost_per_month=new_cost, new_cac=new_cac, new_onboarding_cost=new_onboarding,
        new_acquisition_cost=acquisition_cost,
        new_acquisition_cost_by_cohort=np.ascontiguousarray(acquisition_by_cohort),
        price_existing=price_existing,
        price_new=price_new, price_new_tenure=price_new_tenure, gross_margin=gross_margin,
        contribution_margin=contribution_margin, cost_multiplier=cost_multiplier,
        extra_cost_per_month=extra_cost, discount=discount,
        existing_margin_prefix=existing_margin_prefix, existing_cost_prefix=existing_cost_prefix,
        existing_extra_cost_prefix=existing_extra_cost_prefix,
        new_value_table=np.ascontiguousarray(new_value_table),
        new_payback_months=new_payback_months, mrr_growth=mrr_growth,
        existing_mrr_growth=existing_growth, new_mrr_growth=np.ascontiguousarray(new_growth),
        p_expansion_by_month=p_expansion_by_month, p_contraction_by_month=p_contraction_by_month,
        new_pool_correction=np.ascontiguousarray(new_pool_correction),
        existing_path_weight=np.ascontiguousarray(existing_path_weight),
        new_path_weight=np.ascontiguousarray(discount[:H] * price_new_tenure),
        new_calendar_margin=np.ascontiguousarray(new_calendar_margin),
        new_margin_changes=margin_changes.astype(np.int64),
        new_first_change=np.searchsorted(margin_changes, months, side="right").astype(np.int64),
        new_fixed_cost=np.ascontiguousarray(new_fixed_cost),
        new_fixed_cost_prefix=np.ascontiguousarray(new_fixed_cost_prefix),
        new_payback_classes=max(_cohort_classes(H, new_calendar_margin, new_fixed_cost),
                                _cohort_classes(H, acquisition_by_cohort)),
        new_churn_classes=new_churn_classes,
        p_expansion=p_expansion,
        expansion_log_mean=expansion_mean, expansion_log_sd=expansion_sd,
        p_contraction=p_contraction, contraction_log_mean=contraction_mean,
        contraction_log_sd=contraction_sd, histogram_bounds=bounds, economics=economics,
        levers=levers,
    )


def _per_segment(value: Any, name: str, what: str, default: Any = None, required: bool = True):
    if isinstance(value, Mapping):
        if name in value:
            return value[name]
        if "default" in value:
            return value["default"]
        if required and default is None:
            raise ConfigError(Problem(f"no {what} for segment {name!r}",
                                      f"add {what} for {name!r} or a 'default' entry",
                                      field=f"{what}.{name}"))
        return default
    return default if value is None else value


def compile_book(
    fits: Mapping[str, SurvivalModel],
    customers: pd.DataFrame,
    economics: Economics | Mapping[str, Economics],
    *,
    dynamics: MrrDynamics | Mapping[str, MrrDynamics] | None = None,
    levers: ScenarioLevers | Mapping[str, ScenarioLevers] | None = None,
    replications: int,
    seed: int,
    horizon_months: int,
    include_existing: bool = True,
    include_new: bool = True,
    as_of: pd.Timestamp | None = None,
    draw_method: str = "asymptotic",
) -> CompiledBook:
    """Compile every segment of ``fits`` (see :func:`compile_segment`).

    ``economics``, ``dynamics`` and ``levers`` are either one value for all segments
    or a mapping from segment name (with an optional ``"default"`` entry).
    ``customers`` needs a ``segment`` column unless there is a single segment.
    ``as_of`` (default: the latest signup or churn date in the book) anchors the
    baseline acquisition volume.
    """
    if as_of is None:
        dates = [pd.to_datetime(customers[c]).max() for c in ("signup_date", "churn_date")
                 if c in customers.columns]
        dates = [d for d in dates if pd.notna(d)]
        as_of = max(dates) if dates else None
    segments = []
    for name in fits:
        if "segment" in customers.columns:
            rows = customers.loc[customers["segment"].astype(str) == str(name)]
        elif len(fits) == 1:
            rows = customers
        else:
            raise ConfigError(Problem("the customer book has no 'segment' column",
                                      "segment the book before simulating several segments",
                                      field="segment"))
        segment_levers = _per_segment(levers, name, "levers", default=ScenarioLevers(),
                                      required=False)
        segments.append(compile_segment(
            name, fits[name], _per_segment(economics, name, "economics"), rows,
            dynamics=_per_segment(dynamics, name, "dynamics", required=False),
            levers=segment_levers, replications=replications, seed=seed,
            horizon_months=horizon_months, include_existing=include_existing,
            include_new=include_new,
            acquisition_baseline_per_month=baseline_acquisition_per_month(rows, as_of),
            draw_method=draw_method,
        ))
    return CompiledBook(tuple(segments), int(seed), int(replications), int(horizon_months))
