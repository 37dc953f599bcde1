"""Vectorised parsing of user columns (numbers, dates, months, yes/no flags) and the
reporting of bad rows.

Every parser works on a whole column at once and returns the parsed values together with
two boolean masks: ``blank`` (no value given) and ``bad`` (a value was given but could not
be read). Callers decide whether blank is allowed and report ``bad`` rows with
:func:`report_rows`, which builds messages for the first few offenders only and counts
the rest, so a ten-million-row file with a systematic problem costs no more than one with
a single typo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from simcore.data.book import EARLIEST_YEAR, LATEST_YEAR
from simcore.errors import ProblemCollector

#: Rows listed individually per kind of problem; the rest are counted in one summary line.
EXAMPLES_PER_KIND = 5

#: Cell texts that mean "no value" (compared case-insensitively after stripping spaces).
#: These are the markers spreadsheets and database exports write for empty cells.
BLANK_TOKENS: tuple[str, ...] = ("", "na", "n/a", "nan", "null", "none", "nat", "#n/a", "-nan")

#: Accepted churned-flag spellings (case-insensitive).
TRUE_TOKENS: tuple[str, ...] = ("yes", "y", "true", "t", "1", "1.0")
FALSE_TOKENS: tuple[str, ...] = ("no", "n", "false", "f", "0", "0.0")

#: Date layouts tried, in order, when dates are not ISO 8601 and no ``date_format`` is set.
#: Day-first and month-first layouts are both tried; when both read every sampled value
#: the column is ambiguous and the user is asked to set ``date_format``.
CANDIDATE_DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d %b %Y",
    "%b %d %Y",
    "%d-%b-%Y",
)

_THOUSANDS = r"^[$€£]?\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
_CURRENCY_PREFIX = r"^[$€£]\s*"


@dataclass(frozen=True)
class Parsed:
    """A parsed column: ``values`` (numpy array), ``blank`` and ``bad`` row masks,
    ``note``, a column-level problem (for example ambiguous date layout) or ``None``, and
    ``outside``, the rows among ``bad`` whose dates were read but lie outside
    :data:`~simcore.data.book.EARLIEST_YEAR` .. :data:`~simcore.data.book.LATEST_YEAR`."""

    values: np.ndarray
    blank: np.ndarray
    bad: np.ndarray
    note: str | None = None
    outside: np.ndarray | None = None


def is_textual(values: pd.Series) -> bool:
    """True when a column holds text (object or string dtype) rather than typed values."""
    return values.dtype == object or isinstance(values.dtype, pd.StringDtype)


def as_text(values: pd.Series) -> pd.Series:
    """Stripped text of every cell (pyarrow-backed strings, ``<NA>`` where missing)."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string[pyarrow]")
    return text.str.strip()


def blank_text(text: pd.Series) -> np.ndarray:
    """Mask of cells that are missing or hold one of :data:`BLANK_TOKENS`."""
    missing = text.isna().to_numpy(dtype=bool)
    marked = text.str.lower().isin(BLANK_TOKENS).fillna(False).to_numpy(dtype=bool)
    return missing | marked


def parse_numbers(values: pd.Series) -> Parsed:
    """Read a column of numbers into float64.

    Text cells may carry thousands separators and a leading currency sign
    (``"$1,234.50"``); decimal commas are not read (``"12,5"`` is reported as bad).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        numbers = np.full(len(values), np.nan)
        return Parsed(numbers, np.zeros(len(values), bool), np.ones(len(values), bool))
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        blank = np.isnan(numbers)
        return Parsed(numbers, blank, np.isinf(numbers))
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        blank = values.isna().to_numpy(dtype=bool)
        return Parsed(np.full(len(values), np.nan), blank, ~blank)
    text = as_text(values)
    blank = blank_text(text)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~blank & np.isnan(numbers)
    if bad.any():
        # Only the failed cells are retried, so clean columns pay nothing for this.
        retry = text[bad]
        grouped = retry.str.match(_THOUSANDS).fillna(False).to_numpy(dtype=bool)
        if grouped.any():
            cleaned = retry[grouped].str.replace(_CURRENCY_PREFIX, "", regex=True).str.replace(",", "", regex=False)
            positions = np.flatnonzero(bad)[grouped]
            numbers[positions] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        currency = ~grouped & retry.str.match(_CURRENCY_PREFIX).fillna(False).to_numpy(dtype=bool)
        if currency.any():
            cleaned = retry[currency].str.replace(_CURRENCY_PREFIX, "", regex=True)
            positions = np.flatnonzero(bad)[currency]
            numbers[positions] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~blank & np.isnan(numbers)
    # "inf" and "1e999" are numbers to pandas, but no amount or count is infinite.
    return Parsed(numbers, blank, bad | np.isinf(numbers))


_EARLIEST = np.datetime64(f"{EARLIEST_YEAR}-01-01", "D")
_LATEST = np.datetime64(f"{LATEST_YEAR}-12-31", "D")


def _to_days(values: pd.Series) -> np.ndarray:
    """Dates as datetime64[D], converted in their own unit: a cast straight to
    nanoseconds would wrap 9999-12-31 around to 1816 without a word."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy().astype("datetime64[D]")


def _days_to_ns(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dates in range as datetime64[ns] (NaT elsewhere) and the mask of dates out of range."""
    outside = ~np.isnat(days) & ((days < _EARLIEST) | (days > _LATEST))
    inside = np.where(outside, np.datetime64("NaT"), days)
    return inside.astype("datetime64[ns]"), outside


def _year_outside(text: pd.Series) -> np.ndarray:
    """Rows whose text holds a four-digit year outside the accepted years."""
    year = pd.to_numeric(text.str.extract(r"(?<!\d)(\d{4})(?!\d)", expand=False), errors="coerce")
    year = year.to_numpy(dtype="float64", na_value=np.nan)
    return (year < EARLIEST_YEAR) | (year > LATEST_YEAR)


def _detect_date_format(sample: pd.Series) -> tuple[str | None, str | None]:
    """The one candidate layout that reads every sampled value, or a note explaining why
    none could be chosen."""
    fitting = [
        fmt
        for fmt in CANDIDATE_DATE_FORMATS
        if pd.to_datetime(sample, format=fmt, errors="coerce").notna().all()
    ]
    if len(fitting) == 1:
        return fitting[0], None
    if len(fitting) > 1:
        example = sample.iloc[0]
        return None, (
            f"dates such as '{example}' can be read as {' or '.join(repr(f) for f in fitting[:2])}; "
            "set data.date_format to say which (for example '%d/%m/%Y' for day/month/year)"
        )
    return None, None


def parse_dates(values: pd.Series, date_format: str | None = None) -> Parsed:
    """Read a column of dates into datetime64[ns], floored to the day.

    Text is read as ISO 8601 (``2024-03-31``, with or without a time) unless
    ``date_format`` (strftime layout) is given, which then applies to every text value.
    When no ISO value parses at all, the layouts in :data:`CANDIDATE_DATE_FORMATS` are
    tried on a sample of the column. Dates before :data:`~simcore.data.book.EARLIEST_YEAR`
    or after :data:`~simcore.data.book.LATEST_YEAR` are ``bad`` and flagged ``outside``.
    Columns already typed as dates (Parquet, Excel date cells) are taken as they are.
    """
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        days = _to_days(values)
        stamps, outside = _days_to_ns(days)
        return Parsed(stamps, np.isnat(days), outside, outside=outside)
    if not is_textual(values):
        blank = values.isna().to_numpy(dtype=bool)
        return Parsed(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"), blank, ~blank)
    text = as_text(values)
    blank = blank_text(text)
    given = text.where(~blank)
    note = None
    layout = date_format or "ISO8601"
    stamps = pd.to_datetime(given, format=layout, errors="coerce")
    parsed = stamps.notna().to_numpy(dtype=bool)
    if date_format is None and not parsed.any() and (~blank).any():
        sample = given[~blank].iloc[:1000].astype(str)
        detected, note = _detect_date_format(sample)
        if detected is not None:
            stamps = pd.to_datetime(given, format=detected, errors="coerce")
    out, outside = _days_to_ns(_to_days(stamps))
    bad = ~blank & np.isnat(out)
    if bad.any():
        outside = outside | (bad & _year_outside(given))
    return Parsed(out, blank, bad, note, outside)


def parse_months(values: pd.Series) -> Parsed:
    """Read a column of months (``YYYY-MM`` or ``YYYY-MM-DD``, or dates) into the first
    day of each month, datetime64[ns]."""
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        days = _to_days(values)
        blank = np.isnat(days)
        stamps, bad = _days_to_ns(days)
    elif is_textual(values):
        # A column of months repeats a few hundred values over millions of rows (an MRR
        # history): parse each distinct value once, then spread the results.
        codes, distinct = pd.factorize(values)
        distinct = as_text(pd.Series(distinct, dtype=object))
        distinct_blank = blank_text(distinct)
        given = distinct.where(~distinct_blank)
        month_only = pd.to_datetime(given, format="%Y-%m", errors="coerce")
        full = pd.to_datetime(given.where(month_only.isna()), format="ISO8601", errors="coerce")
        distinct_stamps, _ = _days_to_ns(_to_days(month_only.fillna(full)))
        known = codes >= 0
        stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        stamps[known] = distinct_stamps[codes[known]]
        blank = ~known
        blank[known] = distinct_blank[codes[known]]
        bad = ~blank & np.isnat(stamps)
    else:
        blank = values.isna().to_numpy(dtype=bool)
        stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        bad = ~blank
    return Parsed(stamps.astype("datetime64[M]").astype("datetime64[ns]"), blank, bad)


def parse_flags(values: pd.Series) -> Parsed:
    """Read a churned flag: yes/no, y/n, true/false, t/f, 1/0 (case-insensitive) or a
    boolean column."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return Parsed(values.to_numpy(dtype=bool), np.zeros(n, bool), np.zeros(n, bool))
    text = as_text(values).str.lower()
    blank = blank_text(text)
    is_true = text.isin(TRUE_TOKENS).fillna(False).to_numpy(dtype=bool)
    is_false = text.isin(FALSE_TOKENS).fillna(False).to_numpy(dtype=bool)
    bad = ~blank & ~is_true & ~is_false
    return Parsed(is_true, blank, bad)


def id_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Customer ids as stripped text (:func:`as_text`) and a mask of blank ids.

    Whole-number ids stored as floats (a numeric column with gaps) are written without
    the trailing ``.0`` so they match the same ids written as text elsewhere.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        if np.all(numbers[finite] == np.round(numbers[finite])):
            values = values.astype("Int64")
    text = as_text(values)
    blank = blank_text(text) if not values.isna().all() else np.ones(len(values), bool)
    return text, blank


def ids_as_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Customer ids as Python strings (object dtype, ``None`` where blank) and a mask of
    blank ids (see :func:`id_text`)."""
    text, blank = id_text(values)
    return text.astype(object).where(~blank, None), blank


def report_rows(
    collector: ProblemCollector,
    mask: np.ndarray,
    rows: np.ndarray,
    describe: Callable[[int], str],
    *,
    hint: str = "",
    field: str | None = None,
    limit: int = EXAMPLES_PER_KIND,
) -> int:
    """Report every row where ``mask`` is true: the first ``limit`` get their own
    problem (``describe(position)`` builds its message), the rest one summary line; the
    collector's count includes them all. Returns the number of offending rows."""
    positions = np.flatnonzero(mask)
    count = len(positions)
    for position in positions[:limit]:
        collector.add(describe(int(position)), hint, row=int(rows[position]), field=field)
    if count > limit:
        rest = count - limit
        collector.add(
            f"{rest:,} more rows like the above ({count:,} in all)", hint, field=field
        )
        collector.add_count(rest - 1)
    return count


def example_rows(mask: np.ndarray, rows: np.ndarray, limit: int = EXAMPLES_PER_KIND) -> str:
    """``"rows 3, 9, 12 and 40 more"`` for a warning message."""
    positions = np.flatnonzero(mask)
    shown = ", ".join(str(int(rows[p])) for p in positions[:limit])
    more = len(positions) - limit
    label = "row" if len(positions) == 1 else "rows"
    return f"{label} {shown}" + (f" and {more:,} more" if more > 0 else "")
