"""Loading a customer book from a :class:`~simcore.config.DataConfig`.

:func:`load_book` is the one path from configuration to a validated
:class:`~simcore.data.CustomerBook`; :func:`load_book_quick` builds the same
configuration from a file path and column names (the command-line flags) and calls it.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd

from simcore.config import DataConfig, SqlSource, quick_config
from simcore.data.book import MONEY_FIELDS, CustomerBook
from simcore.data.customers import default_id_column, validate_customers
from simcore.data.history import read_history, validate_history
from simcore.data.sources import RawTable, read_sql, read_table
from simcore.errors import ProblemCollector

#: Problems listed in one error (the command line prints the first 50).
_LISTED = 200


def _resolve(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate


def _read_customers(data: DataConfig, base_dir: Path) -> RawTable:
    if isinstance(data.customers, SqlSource):
        return read_sql(data.customers.query, data.customers.url_env, what="customers")
    columns = data.columns
    mapped = [getattr(columns, f) for f in ("id", "signup", "churn", "tenure", "churned") + MONEY_FIELDS]
    mapped = [c for c in mapped if c is not None]

    def id_columns(header: list[str]) -> list[str]:
        found = columns.id or default_id_column(header)
        return [found, columns.churned] if found else [columns.churned]

    keep = None
    if data.attributes is not None:
        wanted = set(mapped) | set(data.attributes)
        keep = lambda header: [c for c in header if c in wanted or c == default_id_column(header)]  # noqa: E731
    return read_table(
        _resolve(data.customers, base_dir),
        data.customers,
        delimiter=data.delimiter,
        sheet=data.sheet,
        text_columns=id_columns,
        number_columns=[c for c in (columns.tenure, *(getattr(columns, f) for f in MONEY_FIELDS)) if c],
        keep=keep,
    )


def load_book(data: DataConfig, base_dir: Path | str = ".") -> CustomerBook:
    """Read, validate and convert a customer book (and its MRR history, if configured).

    Parameters
    ----------
    data
        The ``data:`` section of a config: source, column map, ``as_of``, attributes,
        CSV delimiter, XLSX sheet, date format, history.
    base_dir
        Folder that relative paths in ``data`` are read from (the config file's folder).

    Returns
    -------
    CustomerBook
        See :class:`~simcore.data.CustomerBook` for the columns and the tenure convention
        (:mod:`simcore.data.customers`).

    Raises
    ------
    DataError
        Listing every problem found in the customer table (and then in the history):
        missing columns, unreadable or blank values, impossible dates, negative or
        fractional tenure, unknown churned flags, duplicate ids, unknown customers in the
        history, and so on.
    """
    base_dir = Path(base_dir)
    raw = _read_customers(data, base_dir)
    collector = ProblemCollector(source=raw.source, limit=_LISTED)
    collector.warnings.extend(raw.warnings)
    as_of = pd.Timestamp(data.as_of) if data.as_of is not None else None
    table = validate_customers(
        raw.frame,
        raw.header,
        data.columns,
        collector=collector,
        first_row=raw.first_row,
        row_numbers=raw.row_numbers,
        as_of=as_of,
        attributes=data.attributes,
        date_format=data.date_format,
    )
    del raw.frame
    collector.raise_if_errors()
    assert table is not None  # no errors means a table was built
    warnings = list(collector.warnings)
    data_hash = raw.data_hash
    history = None
    if data.history is not None:
        history_raw = read_history(data.history, base_dir)
        history_collector = ProblemCollector(source=history_raw.source, limit=_LISTED)
        history_collector.warnings.extend(history_raw.warnings)
        history = validate_history(history_raw, data.history, table.customers, data.columns.shape, table.as_of, history_collector)
        history_collector.raise_if_errors()
        warnings.extend(history_collector.warnings)
        data_hash = hashlib.sha256(f"customers:{raw.data_hash}\nhistory:{history_raw.data_hash}".encode()).hexdigest()
    return CustomerBook(
        customers=table.customers,
        history=history,
        as_of=table.as_of,
        source=raw.source,
        shape=data.columns.shape,
        warnings=tuple(warnings),
        data_hash=data_hash,
    )


def load_book_quick(
    path: str | Path,
    *,
    id_col: str | None = None,
    tenure_col: str | None = None,
    event_col: str | None = None,
    signup_col: str | None = None,
    churn_col: str | None = None,
    as_of: str | date | None = None,
    mrr_col: str | None = None,
    delimiter: str | None = None,
) -> CustomerBook:
    """Load a customer file from a path and column names, as the command-line flags give
    them; builds a :class:`~simcore.config.DataConfig` and calls :func:`load_book`.

    ``event_col`` is the churned flag column (tenure shape); ``signup_col`` and
    ``churn_col`` are the date columns (date shape). ``path`` is read relative to the
    current folder.

    Raises
    ------
    ConfigError
        When the columns given do not describe one of the two shapes.
    DataError
        As :func:`load_book`.
    """
    config = quick_config(
        path, id_col=id_col, tenure_col=tenure_col, event_col=event_col, signup_col=signup_col,
        churn_col=churn_col, as_of=None if as_of is None else str(as_of), mrr_col=mrr_col, delimiter=delimiter,
    )
    return load_book(config.data, config.base_dir)
