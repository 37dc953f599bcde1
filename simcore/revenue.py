"""Revenue retention from MRR history: expansion, contraction, churned MRR, GRR_12, NRR_12.

Input is the MRR history of :class:`simcore.data.CustomerBook` (columns ``customer_id``,
``month`` — first day of a month — and ``mrr``), optionally sparse: a row gives the MRR
from that month until the customer's next row. It is expanded to one row per paid
customer-month by :func:`simcore.data.history.expand_history`, the same expansion every
part of simcore uses, so revenue and retention count the same customer-months: a customer
pays from their first payment month for ``tenure_months`` months when churned,
``tenure_months + 1`` months (up to the ``as_of`` month) when active. A month with MRR 0
is a free month of an active customer: it counts in the revenue rates, but a change from
or to 0 has no finite log ratio, so it is left out of the fitted event sizes.

Definitions (DESIGN.md §5), for a customer with MRR ``m0`` in their first month and ``m12``
twelve months later (0 if churned):

* ``GRR_12 = sum min(m12, m0) / sum m0`` — revenue kept without expansion, capped per
  customer at the starting MRR;
* ``NRR_12 = sum m12 / sum m0`` — expansion included.

Only cohorts whose twelfth month is observed (``first month + 12 <= as_of month``) count;
a customer's first month is their first month with known MRR.

Monthly rates, over transitions from an active month ``m`` to ``m + 1`` (both observed):
expansion rate = MRR added by customers whose MRR rose / MRR at ``m``; contraction rate =
MRR lost by customers whose MRR fell but who stayed / MRR at ``m``; churned-MRR rate = MRR
at ``m`` of customers gone at ``m + 1`` / MRR at ``m``.

:class:`RevenueDynamics` (the engine's input) is estimated from the same transitions among
customers active in both months: ``p_expansion`` = share with a rise, ``p_contraction`` =
share with a fall, and the log of the MRR ratio of each kind has its sample mean and
standard deviation (a log-normal factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.economics.rules import revenue_event_problem
from simcore.errors import DataError, Problem


@dataclass(frozen=True)
class RevenueDynamics:
    """Per-segment expansion and contraction process of active customers.

    Each active customer-month after the first draws one uniform ``u``: ``u < p_expansion``
    multiplies MRR by ``exp(N(expansion_log_mean, expansion_log_sd))``;
    ``p_expansion <= u < p_expansion + p_contraction`` multiplies it by
    ``exp(N(contraction_log_mean, contraction_log_sd))``; otherwise MRR stays.

    Attributes
    ----------
    p_expansion, p_contraction : float
        Probabilities per active customer-month, each in [0, 1], summing to <= 1.
    expansion_log_mean : float
        Mean log MRR ratio of an expansion (> 0 when ``p_expansion > 0``).
    expansion_log_sd : float
        Its standard deviation (>= 0).
    contraction_log_mean : float
        Mean log MRR ratio of a contraction (< 0 when ``p_contraction > 0``).
    contraction_log_sd : float
        Its standard deviation (>= 0).
    n_customer_months : int
        Transitions the estimate is based on (0 for :meth:`none`).
    """

    p_expansion: float = 0.0
    expansion_log_mean: float = 0.0
    expansion_log_sd: float = 0.0
    p_contraction: float = 0.0
    contraction_log_mean: float = 0.0
    contraction_log_sd: float = 0.0
    n_customer_months: int = 0

    def __post_init__(self) -> None:
        problems = []
        for name in ("p_expansion", "p_contraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(Problem(f"{name} = {value!r} must be a probability in [0, 1]", field=name))
        message = None if problems else revenue_event_problem(self.p_expansion, self.p_contraction)
        if message:
            problems.append(Problem(message + " (p_expansion + p_contraction <= 1)", field="p_expansion"))
        for name in ("expansion_log_sd", "contraction_log_sd"):
            if not getattr(self, name) >= 0.0:
                problems.append(Problem(f"{name} must be >= 0", field=name))
        if self.p_expansion > 0 and not self.expansion_log_mean > 0:
            problems.append(Problem(
                "expansion_log_mean must be > 0: an expansion raises MRR", field="expansion_log_mean"
            ))
        if self.p_contraction > 0 and not self.contraction_log_mean < 0:
            problems.append(Problem(
                "contraction_log_mean must be < 0: a contraction lowers MRR", field="contraction_log_mean"
            ))
        if problems:
            raise DataError(problems)

    @classmethod
    def none(cls) -> "RevenueDynamics":
        """No expansion and no contraction (the default without MRR history)."""
        return cls()

    def to_dict(self) -> dict:
        return {k: (int(v) if k == "n_customer_months" else float(v)) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class RevenueRetention:
    """Revenue retention tables and fitted dynamics per segment.

    Attributes
    ----------
    monthly_rates : DataFrame
        Per segment: starting_mrr (sum over observed transitions), expansion_rate,
        contraction_rate, churned_mrr_rate (all per month, fractions of starting MRR),
        n_transitions.
    cohorts : DataFrame
        Per segment and signup cohort (``cohort``: a month or quarter period): n_customers,
        starting_mrr, mrr_12, kept_mrr_12 (capped), grr_12, nrr_12.
    segments : DataFrame
        Per segment, pooling all eligible cohorts: the same columns without ``cohort``.
    dynamics : dict of segment -> RevenueDynamics
    """

    monthly_rates: pd.DataFrame
    cohorts: pd.DataFrame
    segments: pd.DataFrame
    dynamics: dict


def revenue_retention(
    customers: pd.DataFrame,
    history: pd.DataFrame,
    *,
    shape: str = "date",
    as_of=None,
    segment_col: str = "segment",
    cohort: str = "month",
    position: np.ndarray | None = None,
) -> RevenueRetention:
    """Expansion, contraction, churned MRR, GRR_12 / NRR_12 and RevenueDynamics per segment.

    Parameters
    ----------
    customers : DataFrame
        The customer book's table: ``customer_id``, ``tenure_months``, ``churned``,
        ``signup_date`` (date shape) and ``segment_col`` (else one segment ``"all"``).
    history : DataFrame
        MRR history (``customer_id``, ``month``, ``mrr``), sparse change-log rows allowed;
        every customer in it must be in ``customers``.
    shape : {"date", "tenure"}
        Shape of the book (how payments are placed on the calendar, see
        :func:`simcore.data.history.payment_window`).
    as_of : datetime-like, optional
        Valuation date; default the last month of the history.
    segment_col : str
        Segment column of ``customers``.
    cohort : {"month", "quarter"}
        Signup cohort granularity; a customer's cohort is their first month with MRR.
    position : ndarray, optional
        The position in ``customers`` of each history row's customer, as the loader
        matched them (:attr:`simcore.data.CustomerBook.history_customer`).

    Returns
    -------
    RevenueRetention
    """
    from simcore.data.history import history_runs

    if cohort not in ("month", "quarter"):
        raise DataError(Problem(f"unknown cohort {cohort!r}", "use 'month' or 'quarter'", field="cohort"))
    missing = [c for c in ("customer_id", "month", "mrr") if c not in history.columns]
    if missing:
        raise DataError(Problem(f"MRR history lacks columns {missing}", "it needs customer_id, month, mrr",
                                field=missing[0]))
    if as_of is None:
        as_of = pd.Timestamp(history["month"].max())
    runs = history_runs(customers, history, shape, as_of, position)
    observed_end = int(np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64))
    labels = customers[segment_col].astype(str).to_numpy() if segment_col in customers.columns \
        else np.full(len(customers), "all", dtype=object)
    code, names = pd.factorize(labels, sort=True)  # as np.unique, without sorting a million labels
    owner = runs["customer"].to_numpy()
    first = runs["first_month"].to_numpy()
    last = runs["last_month"].to_numpy()
    mrr = runs["mrr"].to_numpy()
    segment = code[owner]
    k = len(names)

    # Transitions from a month m to m + 1 happen in every paid month before the observed
    # end; inside a run MRR stays the same, so only the run's last month can change it.
    counted = np.clip(np.minimum(last, observed_end - 1) - first + 1, 0, None)
    boundary = last < observed_end
    has_next = np.zeros(len(runs), bool)
    has_next[:-1] = (owner[1:] == owner[:-1]) & (first[1:] == last[:-1] + 1)
    next_mrr = np.where(has_next, np.r_[mrr[1:], 0.0], 0.0)
    stayed = boundary & has_next
    churned = boundary & ~has_next
    rise = stayed & (next_mrr > mrr)
    fall = stayed & (next_mrr < mrr)
    # Event sizes are log ratios; a free month (MRR 0) on either side has none.
    sized = stayed & (mrr > 0) & (next_mrr > 0)
    within = np.where(mrr > 0, counted - boundary, 0)  # same-MRR transitions inside the run
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(sized, np.log(np.where(sized, next_mrr, 1.0) / np.where(sized, mrr, 1.0)), 0.0)

    def total(values) -> np.ndarray:
        return np.bincount(segment, weights=np.asarray(values, dtype=np.float64), minlength=k)

    start = total(mrr * counted)
    with np.errstate(invalid="ignore", divide="ignore"):
        monthly_rates = pd.DataFrame({
            "segment": names,
            "starting_mrr": start,
            "expansion_rate": total(np.where(rise, next_mrr - mrr, 0.0)) / start,
            "contraction_rate": total(np.where(fall, mrr - next_mrr, 0.0)) / start,
            "churned_mrr_rate": total(np.where(churned, mrr, 0.0)) / start,
            "n_transitions": total(counted).astype(np.int64),
        })
    n_stayed = total(within + sized)
    dynamics = {}
    for j, name in enumerate(names):
        mine = segment == j
        ups = log_ratio[mine & sized & rise]
        downs = log_ratio[mine & sized & fall]
        n = int(n_stayed[j])
        dynamics[str(name)] = RevenueDynamics(
            p_expansion=ups.size / n if n else 0.0,
            expansion_log_mean=float(ups.mean()) if ups.size else 0.0,
            expansion_log_sd=float(ups.std(ddof=1)) if ups.size > 1 else 0.0,
            p_contraction=downs.size / n if n else 0.0,
            contraction_log_mean=float(downs.mean()) if downs.size else 0.0,
            contraction_log_sd=float(downs.std(ddof=1)) if downs.size > 1 else 0.0,
            n_customer_months=n,
        )
    cohorts, segment_table = _grr_nrr(runs, names[code], observed_end, cohort)
    return RevenueRetention(monthly_rates, cohorts, segment_table, dynamics)


def _grr_nrr(runs: pd.DataFrame, segment_of: np.ndarray, observed_end: int,
             cohort: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GRR_12 / NRR_12 per cohort and segment from the runs: a customer's starting MRR is
    that of its first run, its MRR twelve months later that of the run holding that month
    (0 when it no longer pays)."""
    from simcore.data.history import customer_month_key

    owner = runs["customer"].to_numpy()
    first = runs["first_month"].to_numpy()
    last = runs["last_month"].to_numpy()
    mrr = runs["mrr"].to_numpy()
    opens = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(runs) else np.zeros(0, np.int64)
    start_month = first[opens]
    eligible = start_month + 12 <= observed_end
    opens, start_month = opens[eligible], start_month[eligible]
    customer = owner[opens]
    # The run of the same customer holding month start + 12, if any: runs are sorted by
    # customer then month, so search the (customer, first month) order.
    key = customer_month_key(owner, first)
    target = customer_month_key(customer, start_month + 12)
    holder = np.searchsorted(key, target, side="right") - 1
    holder = np.clip(holder, 0, max(len(runs) - 1, 0))
    holds = (len(runs) > 0) & (owner[holder] == customer) & (last[holder] >= start_month + 12)
    first_table = pd.DataFrame({
        "segment": segment_of[customer] if len(customer) else np.zeros(0, dtype=object),
        "start_month": start_month,
        "starting_mrr": mrr[opens],
        "mrr_12": np.where(holds, mrr[holder], 0.0),
    })
    first_table["kept_mrr_12"] = np.minimum(first_table["mrr_12"], first_table["starting_mrr"])
    months, which = np.unique(first_table["start_month"].to_numpy(), return_inverse=True)
    years, month0 = np.divmod(months + 1970 * 12, 12)
    if cohort == "month":
        labels = [f"{y:04d}-{m + 1:02d}" for y, m in zip(years, month0)]
    else:
        labels = [f"{y:04d}Q{m // 3 + 1}" for y, m in zip(years, month0)]
    first_table["cohort"] = np.asarray(labels, dtype=object)[which.reshape(-1)] if len(labels) else []
    columns = ["n_customers", "starting_mrr", "mrr_12", "kept_mrr_12", "grr_12", "nrr_12"]

    def table(by):
        if first_table.empty:
            return pd.DataFrame(columns=by + columns)
        out = first_table.groupby(by).agg(
            n_customers=("starting_mrr", "size"), starting_mrr=("starting_mrr", "sum"),
            mrr_12=("mrr_12", "sum"), kept_mrr_12=("kept_mrr_12", "sum")).reset_index()
        out["grr_12"] = out["kept_mrr_12"] / out["starting_mrr"]
        out["nrr_12"] = out["mrr_12"] / out["starting_mrr"]
        return out

    return table(["segment", "cohort"]), table(["segment"])
