"""MRR history: loading, validation and expansion to one row per customer-month.

History rows are a change log: a row ``(customer, month, mrr)`` gives the customer's
MRR from that month until the month before their next row; MRR ends when the customer
churns. One row per month is the special case of a change every month.

Placing months on a customer's tenure needs the month of their first payment:

* date shape: the signup month. Payment k (k = 0, 1, ...) falls in signup month + k;
  a churned customer paid in k = 0 .. tenure_months - 1, an active one in
  k = 0 .. tenure_months (DESIGN.md §4 and :mod:`simcore.data.customers`).
* tenure shape (no dates): an active customer's last payment is taken to fall in the
  ``as_of`` month (or, without ``as_of``, the latest month in the history), so their first
  payment is tenure_months earlier; a churned customer's last payment is taken to fall in
  the month of their last history row. This placement is an approximation and is only
  used for history.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simcore.config import HistorySource
from simcore.data.book import MONEY_LIMIT, CustomerBook
from simcore.data.customers import suggest
from simcore.data.parse import example_rows, id_text, parse_months, parse_numbers, report_rows
from simcore.data.sources import RawTable, read_sql, read_table
from simcore.errors import ProblemCollector

HISTORY_COLUMNS = ("customer_id", "month", "mrr")


def read_history(spec: HistorySource, base_dir: Path) -> RawTable:
    """Read the history table named by ``spec`` (file relative to ``base_dir``, or SQL)."""
    if spec.sql is not None:
        return read_sql(spec.sql.query, spec.sql.url_env, what="history")
    path = Path(spec.path).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    wanted = [spec.columns.id, spec.columns.month, spec.columns.mrr]
    return read_table(
        path,
        spec.path,
        delimiter=spec.delimiter,
        sheet=spec.sheet,
        text_columns=(spec.columns.id, spec.columns.month),
        number_columns=(spec.columns.mrr,),
        keep=lambda header: [c for c in header if c in wanted],
    )


#: Months since 1970-01 take fewer than 22 bits (datetime64[ns] spans the years 1677-2262).
_MONTH_BITS = 22


def _month_numbers(values: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (int64) of a datetime64 array."""
    return values.astype("datetime64[M]").astype(np.int64)


def customer_month_key(customer: np.ndarray, month: np.ndarray) -> np.ndarray:
    """One int64 per row that orders rows by customer (position in the book), then month
    (months since 1970-01)."""
    shift = np.int64(1 << _MONTH_BITS)
    return np.asarray(customer, dtype=np.int64) * shift + (month + shift // 2)


def payment_window(
    customers: pd.DataFrame,
    shape: str,
    as_of: pd.Timestamp | None,
    history_customer: np.ndarray | None = None,
    history_month: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """First payment month (months since 1970-01) and index of the last payment (0-based
    tenure month) per customer, in the order of ``customers``.

    ``history_customer`` (positions into ``customers``) and ``history_month`` (months
    since 1970-01) are needed for the tenure shape only; see the module docstring.
    """
    tenure = customers["tenure_months"].to_numpy(dtype=np.int64)
    churned = customers["churned"].to_numpy(dtype=bool)
    last_index = np.where(churned, tenure - 1, tenure)
    if shape == "date":
        return _month_numbers(customers["signup_date"].to_numpy(dtype="datetime64[ns]")), last_index
    n = len(customers)
    latest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    if history_customer is not None and len(history_customer):
        np.maximum.at(latest, history_customer, history_month)
    latest = np.where(latest == np.iinfo(np.int64).min, 0, latest)
    if as_of is not None:
        end_active = _month_numbers(np.array([pd.Timestamp(as_of).to_datetime64()]))[0]
    elif history_month is not None and len(history_month):
        end_active = int(history_month.max())
    else:
        end_active = 0
    last_month = np.where(churned, latest, end_active)
    return last_month - last_index, last_index


def _positions_in(book_ids: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Position of each of ``ids`` (text) among ``book_ids`` (unique strings), -1 where
    it is not there: one hash lookup by pyarrow over the ids' own text, without making a
    Python string of each."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(ids.array), value_set=pa.array(book_ids, type=pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def validate_history(
    raw: RawTable,
    spec: HistorySource,
    customers: pd.DataFrame,
    shape: str,
    as_of: pd.Timestamp | None,
    collector: ProblemCollector,
) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Check a history table against the customers.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray) or None
        The canonical history (``customer_id``, ``month``, ``mrr``, sorted by customer in
        the book's order, then month) and the position in ``customers`` of each of its
        rows' customer (int64: the match made here, which readers of the history reuse);
        ``None`` when errors were added to ``collector``.
    """
    frame = raw.frame
    names = {"id": spec.columns.id, "month": spec.columns.month, "mrr": spec.columns.mrr}
    for key, column in names.items():
        if column not in frame.columns:
            collector.add(
                f"column '{column}' (data.history.columns.{key}) is not in the history",
                suggest(column, raw.header),
                row=1 if raw.first_row == 2 else None,
                field=column,
            )
    if collector.error_count:
        return None
    n = len(frame)
    if n == 0:
        collector.add("the history has a header but no rows", "export it again, or remove data.history")
        return None
    rows = raw.record_rows()

    ids, blank_id = id_text(frame[names["id"]])
    report_rows(collector, blank_id, rows, lambda i: "customer id is blank", hint="give every row a customer id", field=names["id"])
    months = parse_months(frame[names["month"]])
    report_rows(
        collector,
        months.bad,
        rows,
        lambda i: f"month {str(frame[names['month']].iloc[i]).strip()!r} cannot be read",
        hint="write months as YYYY-MM or YYYY-MM-DD",
        field=names["month"],
    )
    report_rows(collector, months.blank, rows, lambda i: "month is blank", hint="give every row a month", field=names["month"])
    mrr = parse_numbers(frame[names["mrr"]])
    report_rows(
        collector,
        mrr.bad,
        rows,
        lambda i: f"MRR {str(frame[names['mrr']].iloc[i]).strip()!r} cannot be read",
        hint="write plain numbers such as 1234.50 (no decimal comma)",
        field=names["mrr"],
    )
    report_rows(collector, mrr.blank, rows, lambda i: "MRR is blank", hint="give every row an MRR (0 for a free month)", field=names["mrr"])
    finite = np.isfinite(mrr.values)  # unreadable and infinite values are reported above
    report_rows(
        collector,
        finite & (mrr.values < 0),
        rows,
        lambda i: f"MRR {mrr.values[i]:g} is negative",
        hint="MRR must be 0 or more",
        field=names["mrr"],
    )
    report_rows(
        collector,
        finite & (mrr.values > MONEY_LIMIT),
        rows,
        lambda i: f"MRR {mrr.values[i]:.4g} is more than {MONEY_LIMIT:.0e}, which no customer pays",
        hint="correct the value (is a unit or a decimal separator wrong?)",
        field=names["mrr"],
    )

    book_ids = customers["customer_id"].to_numpy(dtype=object)
    position = np.where(blank_id, -1, _positions_in(book_ids, ids))
    unknown = ~blank_id & (position < 0)
    report_rows(
        collector,
        unknown,
        rows,
        lambda i: f"customer id {ids.iloc[i]!r} is not in the customer book",
        hint="remove the row or add the customer to the customer table",
        field=names["id"],
    )
    usable = (position >= 0) & ~months.bad & ~months.blank
    month_number = np.where(usable, _month_numbers(months.values), 0)
    # Usable rows by customer (in the book's order, an integer sort instead of a string
    # one) then month; the sort is stable, so of rows with the same customer and month
    # the first in the file comes first and the others are the repeats.
    kept = np.flatnonzero(usable)
    order = kept[np.argsort(customer_month_key(position[kept], month_number[kept]), kind="stable")]
    if usable.any():
        same = (position[order[1:]] == position[order[:-1]]) & (month_number[order[1:]] == month_number[order[:-1]])
        flagged = np.zeros(n, bool)
        flagged[order[1:][same]] = True
        report_rows(
            collector,
            flagged,
            rows,
            lambda i: f"customer {ids.iloc[i]!r} has a second row for {str(months.values[i])[:7]}",
            hint="keep one MRR per customer and month",
            field=names["month"],
        )
        start, last_index = payment_window(customers, shape, as_of, position[usable], month_number[usable])
        index_in_tenure = np.full(n, 0, dtype=np.int64)
        index_in_tenure[usable] = month_number[usable] - start[position[usable]]
        if shape == "date":
            early = usable & (index_in_tenure < 0)
            signup = customers["signup_date"].to_numpy(dtype="datetime64[ns]")
            report_rows(
                collector,
                early,
                rows,
                lambda i: f"month {str(months.values[i])[:7]} is before customer {ids.iloc[i]!r} signed up "
                f"({str(signup[position[i]])[:10]})",
                hint="correct the month or the signup date",
                field=names["month"],
            )
        else:
            churned = customers["churned"].to_numpy(dtype=bool)
            early = usable & (index_in_tenure < 0) & ~churned[np.maximum(position, 0)]
            report_rows(
                collector,
                early,
                rows,
                lambda i: f"month {str(months.values[i])[:7]} is more than tenure "
                f"({customers['tenure_months'].iat[position[i]]} months) before the latest month",
                hint="correct the month or the customer's tenure",
                field=names["month"],
            )
        late = usable & (index_in_tenure > last_index[np.maximum(position, 0)])
        if late.any() and not collector.error_count:
            collector.warn(
                f"{int(late.sum()):,} history rows fall after the customer's last paid month "
                f"({example_rows(late, rows)}); they are kept but not used",
                "check churn dates, or remove MRR after churn",
                source=raw.source,
                field=names["month"],
            )
    if collector.error_count:
        return None
    # Without errors every row is usable, so ``order`` sorts them all.
    history = pd.DataFrame({
        "customer_id": book_ids[position[order]],  # the same ids, held once
        "month": months.values[order],
        "mrr": mrr.values[order].astype(np.float64),
    })
    return history, position[order].astype(np.int64)


def _history_positions(customers: pd.DataFrame, history: pd.DataFrame, position: np.ndarray | None) -> np.ndarray:
    """The position in ``customers`` of each history row's customer: ``position`` when it
    gives back every row's id (the loader's match, reused), else matched by id."""
    ids, given = customers["customer_id"], history["customer_id"]
    if position is not None and len(position) == len(given) and (
        not len(position) or (position.min() >= 0 and position.max() < len(ids))
    ) and np.array_equal(ids.to_numpy()[position], given.to_numpy()):
        return position
    matched = pd.Index(ids).get_indexer(given)
    if np.any(matched < 0):
        from simcore.errors import DataError, Problem

        unknown = given.to_numpy()[np.flatnonzero(matched < 0)[0]]
        raise DataError(Problem(f"customer {unknown!r} has MRR history but is not in the customer table",
                                "every customer in the history must be in the customer table", field="customer_id"))
    return matched


def history_runs(customers: pd.DataFrame, history: pd.DataFrame, shape: str, as_of,
                 position: np.ndarray | None = None) -> pd.DataFrame:
    """The MRR change log as runs of paid months at one MRR: the single reading of the
    history that every part of simcore uses (:func:`expand_history` unrolls it).

    Each history row's MRR holds until the customer's next row and ends with the
    customer's last paid month, on the book's tenure convention (DESIGN §4: a churned
    customer paid ``tenure_months`` times, an active one ``tenure_months + 1`` times,
    months 0..tenure_months). Retention and revenue therefore see the same
    customer-months. Months before a customer's first history row have no known MRR and
    are left out; a row with MRR 0 is a free month of an active customer. A customer's
    runs are consecutive: each starts the month after the previous one ends.

    Parameters
    ----------
    customers
        ``customer_id``, ``tenure_months``, ``churned`` and, in the date shape,
        ``signup_date``.
    history
        ``customer_id``, ``month`` (datetime64, first day of the month), ``mrr``.
    shape
        ``"date"`` or ``"tenure"`` (see :func:`payment_window`).
    as_of
        Valuation date (tenure shape: places active customers' last payment).
    position
        The position in ``customers`` of each history row's customer, as the loader
        matched them (:attr:`~simcore.data.CustomerBook.history_customer`); used when it
        gives back every row's id, else the ids are matched here.

    Returns
    -------
    pandas.DataFrame
        One row per run of at least one month, sorted by customer then month:
        ``customer`` (int64 position in ``customers``), ``first_month`` and
        ``last_month`` (int64 months since 1970-01, both paid), ``first_tenure_month``
        (int64, 0 = first payment), ``mrr`` (float64). Integer positions instead of id
        strings keep long books small in memory.
    """
    position = _history_positions(customers, history, position)
    months = history["month"].to_numpy(dtype="datetime64[ns]")
    mrr = history["mrr"].to_numpy(dtype=np.float64)
    step = position[1:] - position[:-1]
    if not np.all((step > 0) | ((step == 0) & (months[1:] >= months[:-1]))):  # a loaded history is sorted
        order = np.lexsort((months, position))
        position, months, mrr = position[order], months[order], mrr[order]
    month_number = _month_numbers(months)
    start, last_index = payment_window(customers, shape, as_of, position, month_number)
    first_index = month_number - start[position]
    same_next = np.zeros(len(position), bool)
    same_next[:-1] = position[1:] == position[:-1]
    next_index = np.empty(len(position), dtype=np.int64)
    next_index[:-1] = first_index[1:]
    end_index = np.where(same_next, next_index - 1, last_index[position])
    end_index = np.minimum(end_index, last_index[position])
    first_index = np.maximum(first_index, 0)
    keep = end_index >= first_index
    customer = position[keep].astype(np.int64)
    return pd.DataFrame({
        "customer": customer,
        "first_month": start[customer] + first_index[keep],
        "last_month": start[customer] + end_index[keep],
        "first_tenure_month": first_index[keep].astype(np.int64),
        "mrr": mrr[keep],
    })


def expand_history(customers: pd.DataFrame, history: pd.DataFrame, shape: str, as_of,
                   position: np.ndarray | None = None) -> pd.DataFrame:
    """One row per paid customer-month: :func:`history_runs` unrolled (same arguments).

    Returns
    -------
    pandas.DataFrame
        ``customer`` (int64 position of the customer in ``customers``), ``month_number``
        (int64 months since 1970-01), ``tenure_month`` (int64, 0 = first payment),
        ``mrr`` (float64), sorted by customer then month.
    """
    runs = history_runs(customers, history, shape, as_of, position)
    lengths = (runs["last_month"] - runs["first_month"] + 1).to_numpy()
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(runs)), lengths)
    # Offset of each expanded row within its run: 0, 1, ..., length - 1.
    offset = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({
        "customer": runs["customer"].to_numpy()[owner],
        "month_number": runs["first_month"].to_numpy()[owner] + offset,
        "tenure_month": runs["first_tenure_month"].to_numpy()[owner] + offset,
        "mrr": runs["mrr"].to_numpy()[owner],
    })


def history_monthly(book: CustomerBook) -> pd.DataFrame:
    """One row per paid customer-month from the first history row of each customer
    (:func:`expand_history` on a loaded book, with readable ids and months).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (str), ``month`` (datetime64[ns], first day of month),
        ``mrr`` (float64, per month), ``tenure_month`` (int64, 0 = signup month), sorted by
        customer and month. Empty when the book has no history.
    """
    columns = ["customer_id", "month", "mrr", "tenure_month"]
    if book.history is None or len(book.history) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, [object, "datetime64[ns]", "float64", "int64"])})
    rows = expand_history(book.customers, book.history, book.shape, book.as_of, book.history_customer)
    return pd.DataFrame({
        "customer_id": book.customers["customer_id"].to_numpy(dtype=object)[rows["customer"].to_numpy()],
        "month": rows["month_number"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]"),
        "mrr": rows["mrr"].to_numpy(),
        "tenure_month": rows["tenure_month"].to_numpy(),
    })
