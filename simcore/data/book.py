"""The validated customer book: one row per customer plus optional MRR history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from simcore.config.economics import MONEY_LIMIT as CONFIG_MONEY_LIMIT
from simcore.errors import Problem

#: Column names simcore itself gives to the customer table. A user's attribute column may
#: not reuse one of them (``segment`` is left out on purpose: a user's own ``segment``
#: column is a natural segmentation key and segmentation writes the same values back).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "tenure_months",
    "tenure_periods",
    "churned",
    "period_churn_passed",
    "signup_date",
    "churn_date",
    "mrr",
    "cac",
    "onboarding_cost",
    "support_cost_per_month",
)

#: Largest money value simcore reads for one customer (MRR and costs per month, CAC and
#: onboarding per customer), as in the config: no subscription is priced above a trillion
#: currency units a month; a larger value is a unit or export mistake (or ``1e308``), and
#: sums of such values over customers, months and replications would lose every digit
#: that matters.
MONEY_LIMIT = CONFIG_MONEY_LIMIT

#: Longest tenure read, in months (100 years). Longer is a data mistake, and the
#: retention fit's memory grows with the square of the longest tenure.
MAX_TENURE_MONTHS = 1200

#: Dates outside these years are refused (``9999-12-31`` is a common "no end" marker of
#: databases; it means an active customer, whose churn date should be blank).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199

#: Optional per-customer money columns, all float64 (currency per customer, or per month
#: for ``mrr`` and ``support_cost_per_month``).
MONEY_FIELDS: tuple[str, ...] = ("mrr", "cac", "onboarding_cost", "support_cost_per_month")


@dataclass(frozen=True)
class CustomerBook:
    """A validated customer book.

    Attributes
    ----------
    customers
        One row per customer. Canonical columns: ``customer_id`` (str),
        ``tenure_months`` (int64, whole months; for a churned customer the lifetime
        T >= 1 = number of monthly payments made, for an active customer the completed
        months, censored: T > tenure_months), ``churned`` (bool); for a tenure-shaped
        book counted in quarters or years (``period``) also ``tenure_periods``, the
        tenure as given; in the date shape also
        ``signup_date`` and ``churn_date`` (datetime64[ns], NaT while active); optional
        ``mrr``, ``cac``, ``onboarding_cost``, ``support_cost_per_month`` (float64, NaN
        where blank); then the user's attribute columns under their own names.
    history
        MRR history or ``None``: ``customer_id`` (str), ``month`` (datetime64[ns], first
        day of the month), ``mrr`` (float64), sorted by customer (in book order) and month. A row gives
        the customer's MRR from that month until their next row; MRR ends at churn.
    as_of
        Valuation date: the date the book describes. Always set in the date shape; in the
        tenure shape only when the user gave one.
    source
        Where the customers came from, as the user wrote it (file path or ``sql query``).
    shape
        ``"date"`` (signup/churn dates) or ``"tenure"`` (tenure months and churned flag).
    warnings
        Suspicious but usable findings (tenure 0, MRR 0, blank MRR...), each counted.
    data_hash
        sha256 (hex) of the source file bytes, or of the SQL query text and its result;
        combined with the history's hash when history is present.
    period
        Unit the book's tenures were counted in (``data.period``); ``tenure_months`` is
        always in months.
    history_customer
        With a history: the position in ``customers`` of each history row's customer
        (int64), as the loader matched them, so readers of the history
        (:func:`simcore.data.history.history_runs`) need not match the ids again.
    """

    customers: pd.DataFrame
    history: pd.DataFrame | None
    as_of: pd.Timestamp | None
    source: str
    shape: Literal["date", "tenure"]
    warnings: tuple[Problem, ...] = ()
    data_hash: str = ""
    period: Literal["week", "month", "quarter", "year"] = "month"
    history_customer: np.ndarray | None = None

    @property
    def n_customers(self) -> int:
        """Number of customers in the book."""
        return len(self.customers)
