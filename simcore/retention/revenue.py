"""Revenue retention from MRR history: expansion, contraction, churned MRR, GRR_12, NRR_12.

Input is the MRR history of :class:`simcore.data.CustomerBook` (columns ``customer_id``,
``month`` — first day of a month — and ``mrr``), optionally sparse: a row gives the MRR
from that month until the customer's next row. This module expands it to one row per
active customer-month with a small private helper (:func:`_monthly_rows`); the data
workstream's ``history_monthly`` does the same for the rest of simcore.

When does MRR end? In order of precedence:

1. a history row with ``mrr <= 0`` ends the customer from that month on;
2. with a customer table holding ``churned`` and ``churn_date``: a churned customer is
   active up to the month *before* the month of ``churn_date`` (the churn month is not
   paid); a churned customer without a churn date ends after their last history row;
3. otherwise the customer is active up to and including the ``as_of`` month (default: the
   last month present in the history).

Definitions (DESIGN.md §5), for a customer with MRR ``m0`` in their first month and ``m12``
twelve months later (0 if churned):

* ``GRR_12 = sum min(m12, m0) / sum m0`` — revenue kept without expansion, capped per
  customer at the starting MRR;
* ``NRR_12 = sum m12 / sum m0`` — expansion included.

Only cohorts whose twelfth month is observed (``first month + 12 <= as_of month``) count.

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
        if self.p_expansion + self.p_contraction > 1.0 + 1e-12:
            problems.append(Problem(
                "p_expansion + p_contraction must be <= 1 (at most one event per customer-month)",
                field="p_expansion",
            ))
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


def _month_index(values) -> np.ndarray:
    """Whole months since year 0 for datetime-like values (day ignored)."""
    stamps = pd.to_datetime(pd.Series(values))
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype=np.int64)


def _monthly_rows(history: pd.DataFrame, customers: pd.DataFrame | None = None, as_of=None) -> pd.DataFrame:
    """Expand a sparse MRR change log to one row per active customer-month.

    Parameters
    ----------
    history : DataFrame
        ``customer_id``, ``month`` (datetime-like), ``mrr`` (float).
    customers : DataFrame, optional
        ``customer_id`` with optional ``churned`` (bool) and ``churn_date`` (datetime).
    as_of : datetime-like, optional
        Last observed month; default the last month in ``history``.

    Returns
    -------
    DataFrame
        ``customer_id``, ``month_index`` (int months since year 0), ``mrr`` (> 0), one row
        per active month, sorted by customer then month. See the module notes for when MRR
        ends.
    """
    missing = [c for c in ("customer_id", "month", "mrr") if c not in history.columns]
    if missing:
        raise DataError(Problem(f"MRR history lacks columns {missing}", "it needs customer_id, month, mrr",
                                field=missing[0]))
    frame = pd.DataFrame({
        "customer_id": history["customer_id"].astype(str).to_numpy(),
        "month_index": _month_index(history["month"]),
        "mrr": history["mrr"].to_numpy(dtype=float),
    })
    if frame["mrr"].isna().any():
        raise DataError(Problem("MRR history has missing mrr values", "fill them or drop those rows", field="mrr"))
    frame = frame.sort_values(["customer_id", "month_index"], kind="stable").drop_duplicates(
        ["customer_id", "month_index"], keep="last").reset_index(drop=True)
    observed_end = int(_month_index([as_of])[0]) if as_of is not None else int(frame["month_index"].max())

    ids = frame["customer_id"].to_numpy()
    months = frame["month_index"].to_numpy()
    same_next = np.r_[ids[1:] == ids[:-1], False]
    next_month = np.where(same_next, np.r_[months[1:], 0], -1)

    # Exclusive end month of each customer when no later row bounds the current one.
    end = pd.Series(observed_end + 1, index=pd.Index(np.unique(ids)), dtype=np.int64)
    if customers is not None and "churned" in customers.columns:
        table = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")
        churned = table["churned"].astype(bool)
        last_row = frame.groupby("customer_id")["month_index"].max()
        churned_ids = churned.index[churned.to_numpy()].intersection(end.index)
        end.loc[churned_ids] = last_row.loc[churned_ids] + 1
        if "churn_date" in table.columns:
            dates = table.loc[churned_ids, "churn_date"]
            known = dates.notna()
            if known.any():
                end.loc[dates.index[known]] = _month_index(dates[known])
    stop = np.where(same_next, next_month, end.reindex(ids).to_numpy())
    stop = np.minimum(stop, observed_end + 1)
    # A zero (or negative) MRR row is a churn marker: nothing after it is active.
    zero = frame["mrr"].to_numpy() <= 0
    if zero.any():
        first_zero = frame.loc[zero].groupby("customer_id")["month_index"].min()
        cap = first_zero.reindex(ids).fillna(np.iinfo(np.int64).max).to_numpy(dtype=np.float64)
        stop = np.minimum(stop, cap).astype(np.int64)
    lengths = np.maximum(stop - months, 0)
    lengths = np.where(zero, 0, lengths)
    repeat = np.repeat(np.arange(len(frame)), lengths)
    offsets = np.arange(repeat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({
        "customer_id": ids[repeat],
        "month_index": months[repeat] + offsets,
        "mrr": frame["mrr"].to_numpy()[repeat],
    })


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


def _segment_of(monthly: pd.DataFrame, customers: pd.DataFrame | None, segment_col: str) -> np.ndarray:
    if customers is None or segment_col not in customers.columns:
        return np.full(len(monthly), "all", dtype=object)
    lookup = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")[segment_col]
    segments = lookup.reindex(monthly["customer_id"]).astype(object).to_numpy()
    if pd.isna(segments).any():
        unknown = monthly["customer_id"].to_numpy()[pd.isna(segments)][0]
        raise DataError(Problem(
            f"customer {unknown!r} has MRR history but no segment",
            "every customer in the history must be in the customer table", field="customer_id",
        ))
    return segments.astype(str)


def revenue_retention(
    history: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    as_of=None,
    segment_col: str = "segment",
    cohort: str = "month",
) -> RevenueRetention:
    """Expansion, contraction, churned MRR, GRR_12 / NRR_12 and RevenueDynamics per segment.

    Parameters
    ----------
    history : DataFrame
        MRR history (``customer_id``, ``month``, ``mrr``), sparse change-log rows allowed.
    customers : DataFrame, optional
        ``customer_id`` plus ``segment_col`` (else one segment ``"all"``) and optionally
        ``churned`` and ``churn_date`` (see the module notes).
    as_of : datetime-like, optional
        Last observed month; default the last month of the history.
    segment_col : str
        Segment column of ``customers``.
    cohort : {"month", "quarter"}
        Signup cohort granularity; a customer's signup month is their first month with MRR.

    Returns
    -------
    RevenueRetention
    """
    if cohort not in ("month", "quarter"):
        raise DataError(Problem(f"unknown cohort {cohort!r}", "use 'month' or 'quarter'", field="cohort"))
    monthly = _monthly_rows(history, customers, as_of)
    observed_end = int(_month_index([as_of])[0]) if as_of is not None else int(_month_index(history["month"]).max())
    monthly["segment"] = _segment_of(monthly, customers, segment_col)

    ids = monthly["customer_id"].to_numpy()
    months = monthly["month_index"].to_numpy()
    mrr = monthly["mrr"].to_numpy()
    has_next_row = np.r_[(ids[1:] == ids[:-1]) & (months[1:] == months[:-1] + 1), False]
    next_mrr = np.where(has_next_row, np.r_[mrr[1:], 0.0], 0.0)
    transition = months < observed_end  # month m + 1 is observed
    stayed = transition & has_next_row
    churned = transition & ~has_next_row
    rise = stayed & (next_mrr > mrr)
    fall = stayed & (next_mrr < mrr)
    frame = pd.DataFrame({
        "segment": monthly["segment"].to_numpy(),
        "start": np.where(transition, mrr, 0.0),
        "expansion": np.where(rise, next_mrr - mrr, 0.0),
        "contraction": np.where(fall, mrr - next_mrr, 0.0),
        "churned_mrr": np.where(churned, mrr, 0.0),
        "transition": transition.astype(np.int64),
        "stayed": stayed.astype(np.int64),
        "rise": rise.astype(np.int64),
        "fall": fall.astype(np.int64),
        "log_ratio": np.where(stayed, np.log(np.where(stayed, next_mrr, 1.0) / np.where(stayed, mrr, 1.0)), 0.0),
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

    cohorts, segments = _grr_nrr(monthly, observed_end, cohort)
    return RevenueRetention(monthly_rates, cohorts, segments, dynamics)


def _grr_nrr(monthly: pd.DataFrame, observed_end: int, cohort: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = monthly.groupby("customer_id", sort=False).agg(
        start_month=("month_index", "first"), starting_mrr=("mrr", "first"), segment=("segment", "first"))
    first = first[first["start_month"] + 12 <= observed_end]
    at_12 = monthly.set_index(["customer_id", "month_index"])["mrr"]
    key = pd.MultiIndex.from_arrays([first.index, first["start_month"].to_numpy() + 12])
    first["mrr_12"] = at_12.reindex(key).fillna(0.0).to_numpy()
    first["kept_mrr_12"] = np.minimum(first["mrr_12"], first["starting_mrr"])
    years, month0 = np.divmod(first["start_month"].to_numpy(), 12)
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
