"""Loading a customer book from a :class:`~simcore.config.DataConfig`.

:func:`load_book` is the one path from configuration to a validated
:class:`~simcore.data.CustomerBook` (from files, a SQL query, or tables in memory).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import pandas as pd

from simcore.config import DataConfig, SqlSource
from simcore.data.book import MONEY_FIELDS, CustomerBook
from simcore.data.customers import default_id_column, validate_customers
from simcore.data.history import read_history, validate_history
from simcore.data.sources import RawTable, frame_sha256, read_sql, read_table
from simcore.errors import DataError, Problem, ProblemCollector

#: Problems listed in one error (the command line prints the first 50).
_LISTED = 200


def _resolve(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate


def frame_table(frame: pd.DataFrame, source: str) -> RawTable:
    """An in-memory table as read input: records are numbered from 1, like a Parquet
    file's, and hashed by content."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    return RawTable(frame.reset_index(drop=True), list(frame.columns), source, 1, frame_sha256(source, frame))


def _read_customers(data: DataConfig, base_dir: Path) -> RawTable:
    if isinstance(data.customers, SqlSource):
        return read_sql(data.customers.query, data.customers.url_env, what="customers")
    columns = data.columns
    mapped = [getattr(columns, f) for f in ("id", "signup", "churn", "tenure", "churned") + MONEY_FIELDS]
    mapped = [c for c in mapped if c is not None]

    def id_columns(header: list[str]) -> list[str]:
        found = columns.id or default_id_column(header)
        return [found, columns.churned] if found else [columns.churned]

    # With a date_format every date column is read as text, so the layout applies to all
    # of them: a reader that recognised ISO dates itself would ignore it (and swap day
    # and month without a word when the layout says %Y-%d-%m).
    dates = [c for c in (columns.signup, columns.churn) if c] if data.date_format else []
    keep = None
    if data.attributes is not None:
        wanted = set(mapped) | set(data.attributes)
        keep = lambda header: [c for c in header if c in wanted or c == default_id_column(header)]  # noqa: E731
    return read_table(
        _resolve(data.customers, base_dir),
        data.customers,
        delimiter=data.delimiter,
        sheet=data.sheet,
        text_columns=lambda header: [*id_columns(header), *dates],
        number_columns=[c for c in (columns.tenure, *(getattr(columns, f) for f in MONEY_FIELDS)) if c],
        keep=keep,
    )


Locate = Callable[[str], dict]


def relocate_file_problems(error: DataError, locate: Locate | None, fields: dict[str, str]) -> DataError:
    """``error`` with its problems about a file as a whole (missing, empty, unreadable:
    no row, line or column) moved to the config line that names the file.

    Parameters
    ----------
    error
        Problems as the readers reported them, with the file as ``source``.
    locate
        ``locate(dotted_field)`` gives the ``source`` and ``line`` of a config field.
    fields
        The file name (a problem's ``source``) -> the config field that names it. The key
        ``"*"`` takes problems of any source. A SQL source's ``url_env`` and ``query``
        problems go to those fields' lines.
    """
    if locate is None:
        return error
    problems = []
    for problem in error.problems:
        field = fields.get(str(problem.source), fields.get("*"))
        target = None
        if field is not None and problem.row is None and problem.line is None:
            if problem.field is None:
                target = field
            elif problem.field in ("url_env", "query"):
                target = f"{field.rsplit('.', 1)[0] if field.endswith('.query') else field}.{problem.field}"
        if target is not None:
            where = locate(target)
            if where.get("line") is not None:
                message = problem.message if problem.field else f"{problem.source}: {problem.message}"
                problem = Problem(message, problem.hint, field=target, **where)
        problems.append(problem)
    return DataError(problems, total=error.total)


def _located(error: DataError, locate: Locate | None, field: str) -> DataError:
    return relocate_file_problems(error, locate, {"*": field})


def load_book(data: DataConfig, base_dir: Path | str = ".", *, customers_frame: pd.DataFrame | None = None,
              history_frame: pd.DataFrame | None = None, locate: Locate | None = None) -> CustomerBook:
    """Read, validate and convert a customer book (and its MRR history, if configured).

    Parameters
    ----------
    data
        The ``data:`` section of a config: source, column map, ``as_of``, attributes,
        CSV delimiter, XLSX sheet, date format, history.
    base_dir
        Folder that relative paths in ``data`` are read from (the config file's folder).
    customers_frame, history_frame
        Tables already in memory, read instead of ``data.customers`` / ``data.history``'s
        source (validated the same way; rows are numbered from 1).

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
    customers_field = "data.customers.query" if isinstance(data.customers, SqlSource) else "data.customers"
    try:
        raw = frame_table(customers_frame, str(data.customers)) if customers_frame is not None \
            else _read_customers(data, base_dir)
    except DataError as error:
        raise _located(error, locate, customers_field) from None
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
        period=data.period,
    )
    del raw.frame
    try:
        collector.raise_if_errors()
    except DataError as error:
        raise _located(error, locate, customers_field) from None
    assert table is not None  # no errors means a table was built
    warnings = list(collector.warnings)
    data_hash = raw.data_hash
    history = history_customer = None
    if data.history is not None:
        history_field = "data.history.sql" if data.history.sql is not None else "data.history.path"
        try:
            history_raw = frame_table(history_frame, "<DataFrame> (history)") if history_frame is not None \
                else read_history(data.history, base_dir)
        except DataError as error:
            raise _located(error, locate, history_field) from None
        history_collector = ProblemCollector(source=history_raw.source, limit=_LISTED)
        history_collector.warnings.extend(history_raw.warnings)
        validated = validate_history(history_raw, data.history, table.customers, data.columns.shape, table.as_of,
                                     history_collector)
        history_collector.raise_if_errors()
        assert validated is not None  # no errors means a history was built
        history, history_customer = validated
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
        period=data.period,
        history_customer=history_customer,
    )
