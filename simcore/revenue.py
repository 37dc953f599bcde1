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

    Returns
    -------
    RevenueRetention
    """
    from simcore.data.history import expand_history

    if cohort not in ("month", "quarter"):
        raise DataError(Problem(f"unknown cohort {cohort!r}", "use 'month' or 'quarter'", field="cohort"))
    missing = [c for c in ("customer_id", "month", "mrr") if c not in history.columns]
    if missing:
        raise DataError(Problem(f"MRR history lacks columns {missing}", "it needs customer_id, month, mrr",
                                field=missing[0]))
    unknown = ~history["customer_id"].isin(customers["customer_id"])
    if unknown.any():
        raise DataError(Problem(
            f"customer {history['customer_id'][unknown].iloc[0]!r} has MRR history but is not in the customer table",
            "every customer in the history must be in the customer table", field="customer_id"))
    if as_of is None:
        as_of = pd.Timestamp(history["month"].max())
    monthly = expand_history(customers, history, shape, as_of)
    observed_end = int(np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64))
    segments = customers[segment_col].astype(str).to_numpy() if segment_col in customers.columns \
        else np.full(len(customers), "all", dtype=object)
    monthly["segment"] = segments[monthly["customer"].to_numpy()]

    owner = monthly["customer"].to_numpy()
    months = monthly["month_number"].to_numpy()
    mrr = monthly["mrr"].to_numpy()
    has_next_row = np.r_[(owner[1:] == owner[:-1]) & (months[1:] == months[:-1] + 1), False]
    next_mrr = np.where(has_next_row, np.r_[mrr[1:], 0.0], 0.0)
    transition = months < observed_end  # month m + 1 is observed
    stayed = transition & has_next_row
    churned = transition & ~has_next_row
    rise = stayed & (next_mrr > mrr)
    fall = stayed & (next_mrr < mrr)
    # Event sizes are log ratios; a free month (MRR 0) on either side has none.
    sized = stayed & (mrr > 0) & (next_mrr > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(sized, np.log(np.where(sized, next_mrr, 1.0) / np.where(sized, mrr, 1.0)), 0.0)
    frame = pd.DataFrame({
        "segment": monthly["segment"].to_numpy(),
        "start": np.where(transition, mrr, 0.0),
        "expansion": np.where(rise, next_mrr - mrr, 0.0),
        "contraction": np.where(fall, mrr - next_mrr, 0.0),
        "churned_mrr": np.where(churned, mrr, 0.0),
        "transition": transition.astype(np.int64),
        "stayed": sized.astype(np.int64),
        "rise": (rise & sized).astype(np.int64),
        "fall": (fall & sized).astype(np.int64),
        "log_ratio": log_ratio,
    })
    sums = frame.groupby("segment").sum(numeric_only=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        monthly_rates = pd.DataFrame({
            "segment": sums.index,
            "starting_mrr": sums["start"].to_numpy(),
            "expansion_rate": (sums["expansion"] / sums["start"]).to_numpy(),
            "contraction_rate": (sums["contraction"] / sums["start"]).to_numpy(),
            "churned_mrr_rate": (sums["churned_mrr"] / sums["start"]).to_numpy(),
            "n_transitions": sums["transition"].to_numpy(),
        })

    dynamics = {}
    for segment, group in frame.groupby("segment"):
        ups = group.loc[group["rise"] == 1, "log_ratio"].to_numpy()
        downs = group.loc[group["fall"] == 1, "log_ratio"].to_numpy()
        n = int(group["stayed"].sum())
        dynamics[str(segment)] = RevenueDynamics(
            p_expansion=ups.size / n if n else 0.0,
            expansion_log_mean=float(ups.mean()) if ups.size else 0.0,
            expansion_log_sd=float(ups.std(ddof=1)) if ups.size > 1 else 0.0,
            p_contraction=downs.size / n if n else 0.0,
            contraction_log_mean=float(downs.mean()) if downs.size else 0.0,
            contraction_log_sd=float(downs.std(ddof=1)) if downs.size > 1 else 0.0,
            n_customer_months=n,
        )

    cohorts, segment_table = _grr_nrr(monthly, observed_end, cohort)
    return RevenueRetention(monthly_rates, cohorts, segment_table, dynamics)


def _grr_nrr(monthly: pd.DataFrame, observed_end: int, cohort: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = monthly.groupby("customer", sort=False).agg(
        start_month=("month_number", "first"), starting_mrr=("mrr", "first"), segment=("segment", "first"))
    first = first[first["start_month"] + 12 <= observed_end]
    at_12 = monthly.set_index(["customer", "month_number"])["mrr"]
    key = pd.MultiIndex.from_arrays([first.index, first["start_month"].to_numpy() + 12])
    first["mrr_12"] = at_12.reindex(key).fillna(0.0).to_numpy()
    first["kept_mrr_12"] = np.minimum(first["mrr_12"], first["starting_mrr"])
    years, month0 = np.divmod(first["start_month"].to_numpy() + 1970 * 12, 12)
    if cohort == "month":
        labels = [f"{y:04d}-{m + 1:02d}" for y, m in zip(years, month0)]
    else:
        labels = [f"{y:04d}Q{m // 3 + 1}" for y, m in zip(years, month0)]
    first["cohort"] = labels
    columns = ["n_customers", "starting_mrr", "mrr_12", "kept_mrr_12", "grr_12", "nrr_12"]

    def table(by):
        if first.empty:
            return pd.DataFrame(columns=by + columns)
        out = first.groupby(by).agg(n_customers=("starting_mrr", "size"), starting_mrr=("starting_mrr", "sum"),
                                    mrr_12=("mrr_12", "sum"), kept_mrr_12=("kept_mrr_12", "sum")).reset_index()
        out["grr_12"] = out["kept_mrr_12"] / out["starting_mrr"]
        out["nrr_12"] = out["mrr_12"] / out["starting_mrr"]
        return out

    return table(["segment", "cohort"]), table(["segment"])
