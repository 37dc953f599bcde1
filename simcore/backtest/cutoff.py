"""The customer book as it was known at a cutoff date.

A cutoff is a month end: ``2024-06`` and ``2024-06-15`` both mean the book as known at
the close of 2024-06-30 (a date that is not a month end is moved there, with a warning),
so every compared month is a whole calendar month. What the book knew then:

* customers who signed up after the cutoff are removed;
* a churn after the cutoff is censored: the customer was active at the cutoff;
* tenures are recomputed at the cutoff on the book's own convention
  (:mod:`simcore.data.customers`: a churned customer paid ``tenure_months`` times, an
  active one ``tenure_months + 1`` times) by loading the cut table through
  :func:`simcore.data.load_book` with ``as_of`` = the cutoff;
* the MRR history keeps only the months each customer had paid by the cutoff;
* the ``mrr`` column must not leak the future. With a history, a customer's MRR at the
  cutoff is the history's MRR in their last month paid by then (blank when the history
  has no row for them by then, so the segment's default MRR stands in, as in a run).
  Without a history the ``mrr`` column is the only MRR there is; it is kept, with a
  warning that it describes ``as_of`` (so it may carry later price changes and
  expansion), and the revenue and profit comparisons are left out, since nothing
  records what customers paid month by month.

**Segments.** Every customer keeps the segment label of the full book. Segmentation is a
definition of *who* is audited, not a forecast: the forecast made at the cutoff and what
happened afterwards must be about the same customers, and the recalibration summary
compares the same segments across cutoffs. Re-applying quantile rules (or the
``min_customers`` merge) to the cutoff book would move customers between segments as the
cut points move, and the attribute values are today's anyway. What the fixed labels take
from the future is only the cut points of quantile rules and which small segments were
merged, never an outcome (tenure, churn, MRR).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simcore.errors import ConfigError, Problem

#: Fewest whole months between a cutoff and ``as_of``: a shorter window says little about
#: retention and nothing about a trend.
MIN_WINDOW_MONTHS = 6
#: Field every cutoff problem is reported on (the CLI names it ``--cutoff``).
CUTOFF_FIELD = "cutoffs"


@dataclass(frozen=True)
class Cutoff:
    """One cutoff of a backtest.

    Attributes
    ----------
    date : pandas.Timestamp
        The month end the book is cut at.
    given : str
        The cutoff as the caller wrote it.
    months : int
        Whole calendar months compared: from the month after the cutoff to the last
        month that ended by ``as_of`` (projection months ``0 .. months - 1``).
    """

    date: pd.Timestamp
    given: str
    months: int

    @property
    def label(self) -> str:
        """``YYYY-MM-DD`` of the month end."""
        return self.date.strftime("%Y-%m-%d")


def month_number(stamp) -> int:
    """Months since 1970-01 of a date."""
    stamp = pd.Timestamp(stamp)
    return (stamp.year - 1970) * 12 + stamp.month - 1


def _month_end(stamp: pd.Timestamp) -> pd.Timestamp:
    return (stamp + pd.offsets.MonthEnd(0)).normalize()


def _parse(value) -> pd.Timestamp | None:
    if isinstance(value, str):
        text = value.strip()
        for layout in ("%Y-%m-%d", "%Y-%m"):
            try:
                return pd.Timestamp(pd.to_datetime(text, format=layout))
            except (ValueError, TypeError):
                continue
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return None if pd.isna(stamp) else stamp.normalize()


def window_months(cutoff: pd.Timestamp, as_of: pd.Timestamp) -> int:
    """Whole calendar months after the month-end ``cutoff`` that ended by ``as_of``."""
    as_of = pd.Timestamp(as_of).normalize()
    complete = month_number(as_of) - (0 if as_of == _month_end(as_of) else 1)
    return complete - month_number(cutoff)


def check_cutoffs(values, customers: pd.DataFrame, as_of) -> tuple[list[Cutoff], list[Problem]]:
    """Parse and check the cutoffs against the book (all problems at once).

    Parameters
    ----------
    values
        Dates as ``YYYY-MM-DD`` or ``YYYY-MM`` text, or date-likes.
    customers
        The full book's customers (``signup_date``).
    as_of
        The book's valuation date.

    Returns
    -------
    cutoffs : list of Cutoff
        Sorted, one per month end.
    warnings : list of Problem
        Dates moved to their month end.

    Raises
    ------
    ConfigError
        On the field ``cutoffs``: a value that is not a date, none given, a cutoff not
        after the first signup, not before ``as_of``, or fewer than
        :data:`MIN_WINDOW_MONTHS` whole months before it.
    """
    if isinstance(values, (str, pd.Timestamp)) or not hasattr(values, "__iter__"):
        values = [values]
    values = list(values)
    as_of = pd.Timestamp(as_of).normalize()
    first_signup = pd.Timestamp(customers["signup_date"].min())
    latest = _month_end(as_of - pd.DateOffset(months=MIN_WINDOW_MONTHS + (0 if as_of == _month_end(as_of) else 1)))
    problems, warnings, found = [], [], {}
    if not values:
        problems.append(Problem("no cutoff given", f"give one or more dates between {first_signup.date()} and "
                                f"{latest.date()}", field=CUTOFF_FIELD))
    for value in values:
        stamp = _parse(value)
        if stamp is None:
            problems.append(Problem(f"cutoff {value!r} is not a date", "write it as YYYY-MM-DD or YYYY-MM",
                                    field=CUTOFF_FIELD))
            continue
        end = _month_end(stamp)
        given = value if isinstance(value, str) else str(stamp.date())
        if end <= first_signup:
            problems.append(Problem(
                f"cutoff {given} is not after the first signup ({first_signup.date()}): nothing was known then",
                f"choose a cutoff after {first_signup.date()}", field=CUTOFF_FIELD))
            continue
        if end >= as_of:
            problems.append(Problem(
                f"cutoff {given} is not before as_of ({as_of.date()}): there is nothing after it to compare with",
                f"choose a cutoff on or before {latest.date()}", field=CUTOFF_FIELD))
            continue
        months = window_months(end, as_of)
        if months < MIN_WINDOW_MONTHS:
            problems.append(Problem(
                f"cutoff {given} leaves {months} whole months before as_of ({as_of.date()}); a backtest needs at "
                f"least {MIN_WINDOW_MONTHS}",
                f"choose a cutoff on or before {latest.date()}", field=CUTOFF_FIELD))
            continue
        bare_month = isinstance(value, str) and len(value.strip()) == 7
        if end != stamp and not bare_month:
            warnings.append(Problem(
                f"cutoff {given} is taken as the month end {end.date()}: a backtest compares whole calendar months",
                "give month ends (or YYYY-MM) to silence this", field=CUTOFF_FIELD, severity="warning"))
        found.setdefault(end, Cutoff(end, given, months))
    if problems:
        raise ConfigError(problems)
    return [found[k] for k in sorted(found)], warnings


def refuse_tenure_shape(book, config) -> None:
    """A backtest cuts the book at calendar dates, which a book of tenures does not have."""
    if book.shape == "date" and "signup_date" in book.customers.columns:
        return
    raise ConfigError(Problem(
        "a backtest cuts the book at calendar dates, and this book gives tenures and a churned flag without "
        "signup or churn dates, so there is no date to cut it at",
        "map data.columns.signup and data.columns.churn (a date-shaped book) to backtest it",
        source=config.source, line=config.line_of("data", "columns", "tenure"), field="data.columns.tenure"))


def _money_columns(customers: pd.DataFrame) -> list[str]:
    from simcore.data.book import MONEY_FIELDS

    return [c for c in MONEY_FIELDS if c in customers.columns]


def _payment_indices(customers: pd.DataFrame, cutoff: pd.Timestamp):
    """First payment month and index of the last payment made by the cutoff, per customer
    (the book's convention, :func:`simcore.data.history.payment_window`)."""
    from simcore.data.history import payment_window

    return payment_window(customers, "date", cutoff)


def _truncated_history(customers: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """History rows of the months each customer had paid by the cutoff."""
    start, last_index = _payment_indices(customers, cutoff)
    last_month = pd.Series(start + last_index, index=customers["customer_id"].to_numpy())
    limit = history["customer_id"].map(last_month)
    months = history["month"].to_numpy(dtype="datetime64[M]").astype(np.int64)
    keep = limit.notna().to_numpy() & (months <= limit.fillna(-1).to_numpy())
    return history.loc[keep].reset_index(drop=True)


def mrr_at_cutoff(customers: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Each customer's MRR in their last month paid by the cutoff, from the (truncated)
    history; NaN where the history has no row for them by then."""
    from simcore.data.history import expand_history

    out = np.full(len(customers), np.nan)
    if not len(history):
        return out
    rows = expand_history(customers, history, "date", cutoff)
    last = rows.groupby("customer", sort=False).tail(1)
    _, last_index = _payment_indices(customers, cutoff)
    paid_last = last["tenure_month"].to_numpy() == last_index[last["customer"].to_numpy()]
    out[last["customer"].to_numpy()[paid_last]] = last["mrr"].to_numpy()[paid_last]
    return out


def book_at_cutoff(full, cutoff: Cutoff):
    """The segmented book as known at ``cutoff`` (see the module notes).

    Parameters
    ----------
    full : simcore.results.SegmentedBook
        The full book, segmented (its labels are kept).
    cutoff : Cutoff

    Returns
    -------
    book : simcore.results.SegmentedBook
        Customers who signed up by the cutoff, tenures and churn at the cutoff, ``mrr``
        at the cutoff, the history truncated, ``as_of`` = the cutoff.
    mrr_from_history : bool
        Whether ``mrr`` came from the history (else it is the book's ``as_of`` column).
    """
    from simcore.config import ColumnMap, DataConfig
    from simcore.data import load_book
    from simcore.results import SegmentedBook

    source = full.book
    customers = source.customers
    date = cutoff.date
    kept = customers.loc[customers["signup_date"] <= date]
    churn = kept["churn_date"].where(kept["churn_date"] <= date)
    money = _money_columns(kept)
    # Columns the loader derives (tenure, churned, the share of the month's churns past)
    # are derived again at the cutoff.
    attributes = [c for c in kept.columns if c not in
                  ("customer_id", "tenure_months", "churned", "period_churn_passed", "signup_date", "churn_date",
                   "segment", *money)]
    frame = kept[["customer_id", "signup_date", *money, *attributes]].assign(churn_date=churn.to_numpy())
    columns = ColumnMap(id="customer_id", signup="signup_date", churn="churn_date", **{m: m for m in money})
    data = DataConfig(customers=f"{source.source} as known at {cutoff.label}", columns=columns,
                      as_of=date.date(), attributes=attributes)
    # The cut table goes through the one loader, so tenures follow the book's convention
    # exactly; its warnings (fresh customers at the cutoff...) repeat the full book's.
    book = load_book(data, customers_frame=frame.reset_index(drop=True))
    cut = book.customers.assign(segment=kept["segment"].to_numpy())
    history = None
    from_history = source.history is not None and len(source.history) > 0
    if from_history:
        history = _truncated_history(cut, source.history, date)
        cut = cut.assign(mrr=mrr_at_cutoff(cut, history, date))
    digest = hashlib.sha256(f"{source.data_hash}\ncutoff:{cutoff.label}".encode()).hexdigest()
    book = replace(book, customers=cut, history=history, source=source.source, warnings=(), data_hash=digest)
    return SegmentedBook(book, dict(full.merged_segments), ()), from_history


def check_segments_at_cutoff(full_segments: list[str], cut_book, cutoff: Cutoff) -> None:
    """Every segment of the full book must have customers at the cutoff."""
    present = set(cut_book.customers["segment"].astype(str))
    missing = [s for s in full_segments if s not in present]
    if missing:
        raise ConfigError(Problem(
            f"segment(s) {', '.join(missing)} had no customers by cutoff {cutoff.label}, so there is nothing to fit "
            "or forecast for them then", "choose a later cutoff", field=CUTOFF_FIELD))


__all__ = ["Cutoff", "MIN_WINDOW_MONTHS", "book_at_cutoff", "check_cutoffs", "check_segments_at_cutoff",
           "month_number", "mrr_at_cutoff", "refuse_tenure_shape", "window_months"]
