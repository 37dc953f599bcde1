"""Generating the demo book's tables from :mod:`simcore.demo.assumptions`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from simcore.demo.assumptions import (
    ACQUISITION_GROWTH_OVER_HISTORY,
    CHURN_DAY_OFFSET_MAX,
    CHURN_DAY_OFFSET_MIN,
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEMO_AS_OF,
    DEMO_CHANNELS,
    DEMO_PLANS,
    DEMO_REGIONS,
    FIRST_SIGNUP_MONTH,
    LAST_SIGNUP_MONTH,
    SPEND_NOISE_LOG_SD,
    SUPPORT_NOISE_LOG_SD,
)
from simcore.errors import ConfigError, Problem

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
