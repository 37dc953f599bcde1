"""Validation of a customer table and its conversion to canonical columns.

Two shapes of book are accepted.

**Date shape** — id, signup date, churn date (blank while active) and ``as_of``, the date
the book describes (default: the latest signup or churn date in the file, with a warning).
Tenure convention: the elapsed time ``e`` between signup and churn (or ``as_of`` for an
active customer) is counted in calendar months plus the fraction of the month in progress
(from the last monthly anniversary of signup to the next; an anniversary that falls on a
day the month lacks, such as the 31st, is the month's last day). A customer pays at signup
and at each monthly anniversary, so

* a churned customer made ``tenure_months = max(1, ceil(e))`` payments: that is the
  lifetime T of DESIGN.md §4 (a customer who leaves on signup day still paid once);
* an active customer has ``tenure_months = floor(e)`` completed months; they have paid
  ``floor(e) + 1`` times, so T > tenure_months (censored).

**Tenure shape** — id, tenure in whole months and a churned flag (Yes/No, true/false, 1/0,
y/n, case-insensitive); ``tenure_months`` is the tenure as given. A churned customer with
tenure 0 (left within the first month) is counted as a lifetime of 1 month, with a warning.

Customer ids: the mapped id column; when none is mapped, the first column whose name,
lower-cased with everything but letters and digits removed, is ``customerid``, ``custid``,
``clientid``, ``accountid`` or ``id``; failing that, the spreadsheet row number (with a
warning, because nothing else can then refer to the customer).

All checks run on whole columns at once; every problem in the table is collected and
raised together as one :class:`~simcore.errors.DataError`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.config import ColumnMap
from simcore.config.data import MONTHS_PER_PERIOD
from simcore.data.book import (
    CANONICAL_COLUMNS,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_TENURE_MONTHS,
    MONEY_FIELDS,
    MONEY_LIMIT,
)
from simcore.data.parse import (
    EXAMPLES_PER_KIND,
    FALSE_TOKENS,
    TRUE_TOKENS,
    Parsed,
    example_rows,
    ids_as_text,
    parse_dates,
    parse_flags,
    parse_numbers,
    report_rows,
)
from simcore.errors import ProblemCollector

#: Normalised header names taken as the customer id when no id column is mapped, in
#: order of preference.
DEFAULT_ID_NAMES: tuple[str, ...] = ("customerid", "custid", "clientid", "accountid", "id")

_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]")


def normalise_name(name: str) -> str:
    """Lower-case a header and drop everything but letters and digits."""
    return _NOT_ALPHANUMERIC.sub("", str(name).lower())


def default_id_column(header: list[str]) -> str | None:
    """The header taken as customer id when none is mapped (see module docstring)."""
    by_name = {}
    for name in header:
        by_name.setdefault(normalise_name(name), name)
    for wanted in DEFAULT_ID_NAMES:
        if wanted in by_name:
            return by_name[wanted]
    return None


def mapped_columns(columns: ColumnMap, header: list[str]) -> dict[str, str]:
    """simcore field -> the user's header, for every mapped field (id included when it
    is found by name)."""
    fields = ("id", "signup", "churn", "tenure", "churned") + MONEY_FIELDS
    mapping = {f: getattr(columns, f) for f in fields if getattr(columns, f) is not None}
    if "id" not in mapping:
        found = default_id_column(header)
        if found is not None:
            mapping["id"] = found
    return mapping


def suggest(name: str, header: list[str]) -> str:
    """A fix for a column that is not in the header: the closest header name, or the list."""
    close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
    if not close:
        lowered = {h.lower().strip(): h for h in header}
        close = difflib.get_close_matches(name.lower().strip(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(f"'{h}'" for h in header[:30])
    return f"the file's columns are {shown}" + (" ..." if len(header) > 30 else "")


@dataclass
class CustomerTable:
    """Result of :func:`validate_customers`: canonical table and the as-of date used."""

    customers: pd.DataFrame
    as_of: pd.Timestamp | None


def _date_text(value: np.datetime64) -> str:
    return str(value)[:10]


def _months_elapsed(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole calendar months from ``start`` to ``end`` (datetime64[D] arrays, end >=
    start), whether any part of a further month has passed, and which part of it (days
    since the last anniversary over the days of that month, in [0, 1)).

    The k-th monthly anniversary of a start on day d is day min(d, last day of the month)
    of the k-th following month.
    """
    start_month = start.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    end_month = end.astype("datetime64[M]").astype(np.int64)
    # Days since 1970-01-01 of the first day of every month an anniversary can fall in
    # (up to the month after the end's), looked up rather than converted per customer.
    lowest = int(start_month.min()) if start_month.size else 0
    highest = int(end_month.max()) + 2 if end_month.size else 0
    first_days = np.arange(lowest, highest + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)

    def first_day(month: np.ndarray) -> np.ndarray:
        return first_days[month - lowest]

    start, end = start.astype(np.int64), end.astype(np.int64)
    start_day = start - first_day(start_month)  # 0-based

    def anniversary(k: np.ndarray) -> np.ndarray:
        month = start_month + k
        days_in_month = first_day(month + 1) - first_day(month)
        return first_day(month) + np.minimum(start_day, days_in_month - 1)

    whole = end_month - start_month
    whole = np.where(end < anniversary(whole), whole - 1, whole)
    whole = np.maximum(whole, 0)
    last = anniversary(whole)
    partial = end > last
    days = anniversary(whole + 1) - last
    fraction = (end - last) / np.maximum(days, 1)
    return whole, partial, np.clip(fraction, 0.0, 1.0 - 1e-12)


def churn_passed_share(position: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    """For each elapsed part ``f`` of a billing period, the share of the book's churns
    whose date lies at or before that part of the period they ended: ``G(f)``, the
    empirical distribution of ``position``.

    ``position`` is where in its last paid period each churn date falls: 1 for a churn
    dated on the renewal it skipped (the convention the engine simulates), ``u`` in
    (0, 1) for a cancellation dated ``u`` of the way between the last payment and that
    renewal. An active customer ``f`` of the way through a period has then survived the
    churns of its period with probability ``1 - G(f) h``, and the engine conditions its
    first projected renewal on that (see :mod:`simcore.engine.compile`). No churns, or
    only churns on renewals: 0 for every ``f``.
    """
    position = np.sort(np.asarray(position, dtype=np.float64))
    if position.size == 0:
        return np.zeros(len(elapsed), dtype=np.float64)
    return np.searchsorted(position, np.asarray(elapsed, dtype=np.float64), side="right") / position.size


def _cell_text(value) -> str:
    """A cell as the user wrote it, short; a date read as a timestamp loses its midnight."""
    text = str(value).strip()
    return text[:-9] if text.endswith(" 00:00:00") else text[:40]


def _report_unreadable(collector, parsed: Parsed, raw: pd.Series, rows, column: str, what: str, hint: str,
                       outside_hint: str = "correct the date") -> None:
    if parsed.note:
        collector.add(parsed.note, field=column)
        return
    outside = parsed.outside if parsed.outside is not None else np.zeros(len(parsed.bad), bool)
    report_rows(
        collector,
        outside,
        rows,
        lambda i: f"{what} {_cell_text(raw.iloc[i])!r} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}",
        hint=outside_hint,
        field=column,
    )
    report_rows(
        collector,
        parsed.bad & ~outside,
        rows,
        lambda i: f"{what} {_cell_text(raw.iloc[i])!r} cannot be read",
        hint=hint,
        field=column,
    )


def _report_blank(collector, mask, rows, column: str, what: str, hint: str) -> None:
    report_rows(collector, mask, rows, lambda i: f"{what} is blank", hint=hint, field=column)


def validate_customers(
    frame: pd.DataFrame,
    header: list[str],
    columns: ColumnMap,
    *,
    collector: ProblemCollector,
    first_row: int,
    row_numbers: np.ndarray | None = None,
    as_of: pd.Timestamp | None = None,
    attributes: list[str] | None = None,
    date_format: str | None = None,
    period: str = "month",
) -> CustomerTable | None:
    """Check a customer table and build its canonical form.

    Every problem is added to ``collector`` (errors) or its warnings; the caller raises.
    Returns ``None`` when errors were found.

    Parameters
    ----------
    frame
        The table as read, one row per customer, the user's headers as column names.
    header
        The file's column names in order (may include columns not read).
    columns
        Which header holds which field.
    first_row
        Row number of the first record (2 for files with a header row).
    row_numbers
        Row number of every record when they are not consecutive (blank lines).
    as_of
        Valuation date (date shape); default the latest date in the file.
    attributes
        Attribute columns to keep (default every unmapped column).
    date_format
        strftime layout of the date columns (default ISO 8601 or detected).
    period
        Unit of the tenure column (tenure shape): ``week``, ``month``, ``quarter`` or
        ``year``; see :func:`tenure_in_months`.
    """
    n = len(frame)
    rows = row_numbers if row_numbers is not None else np.arange(first_row, first_row + n, dtype=np.int64)
    mapping = mapped_columns(columns, header)
    present = set(frame.columns)
    for field_name, column in mapping.items():
        if column not in present:
            collector.add(
                f"column '{column}' (data.columns.{field_name}) is not in the file",
                suggest(column, header),
                row=1 if first_row == 2 else None,
                field=column,
            )
    attribute_names = _attribute_columns(frame, header, mapping, attributes, collector, first_row)
    if n == 0:
        collector.add(
            "the table has a header but no customer rows",
            "export the table again with one row per customer",
        )
    if collector.error_count:
        return None

    out: dict[str, object] = {}
    # ---- ids
    if "id" in mapping:
        column = mapping["id"]
        ids, blank = ids_as_text(frame[column])
        _report_blank(collector, blank, rows, column, "customer id", "give every customer an id")
        _check_duplicates(ids, blank, rows, column, collector)
        out["customer_id"] = ids.to_numpy(dtype=object)
    else:
        out["customer_id"] = rows.astype(str).astype(object)
        collector.warn(
            "no customer id column is mapped or recognised; customers are identified by their row number",
            "map data.columns.id to keep your own ids (needed to link MRR history)",
        )

    shape = columns.shape
    resolved_as_of = None
    if shape == "date":
        dates_ok, resolved_as_of = _date_shape(frame, mapping, rows, collector, out, as_of, date_format)
    else:
        _tenure_shape(frame, mapping, rows, collector, out, period)
        resolved_as_of = as_of

    for field_name in MONEY_FIELDS:
        if field_name in mapping:
            _money(frame[mapping[field_name]], field_name, mapping[field_name], rows, collector, out)

    if collector.error_count:
        return None
    for name in attribute_names:
        out[name] = frame[name].to_numpy()
    customers = pd.DataFrame(out, copy=False)
    customers["customer_id"] = customers["customer_id"].astype(object)
    return CustomerTable(customers, resolved_as_of)


def _attribute_columns(frame, header, mapping, attributes, collector, first_row) -> list[str]:
    mapped = set(mapping.values())
    if attributes is None:
        chosen = [c for c in header if c not in mapped and c in frame.columns]
        clashes = [c for c in chosen if c in CANONICAL_COLUMNS]
        if clashes:
            collector.warn(
                f"column(s) {', '.join(repr(c) for c in clashes)} are not mapped and share a name "
                "with simcore's own fields, so they are not kept",
                "map them in data.columns or rename them",
            )
        return [c for c in chosen if c not in CANONICAL_COLUMNS]
    chosen = []
    for name in attributes:
        if name not in frame.columns:
            collector.add(
                f"attribute column '{name}' (data.attributes) is not in the file",
                suggest(name, header),
                row=1 if first_row == 2 else None,
                field=name,
            )
        elif name in CANONICAL_COLUMNS and mapping.get(name) != name:
            collector.add(
                f"attribute column '{name}' has the name of one of simcore's own fields",
                "rename the column or map it in data.columns",
                field=name,
            )
        elif name in CANONICAL_COLUMNS:
            continue
        else:
            chosen.append(name)
    return chosen


def _check_duplicates(ids: pd.Series, blank: np.ndarray, rows, column: str, collector) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.array(ids.to_numpy(dtype=object), type=pa.string(), from_pandas=True))
    if len(encoded.dictionary) == int((~blank).sum()):
        return
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.where(blank, -1, codes)
    valid = codes >= 0
    counts = np.bincount(codes[valid], minlength=len(encoded.dictionary))
    first_position = np.full(len(encoded.dictionary), len(ids), dtype=np.int64)
    positions = np.flatnonzero(valid)
    # Positions ascend, so writing in reverse leaves each id's first occurrence in place.
    first_position[codes[positions[::-1]]] = positions[::-1]
    repeated = valid & (counts[np.where(valid, codes, 0)] > 1) & (first_position[np.where(valid, codes, 0)] != np.arange(len(ids)))
    report_rows(
        collector,
        repeated,
        rows,
        lambda i: f"customer id {ids.iloc[i]!r} is used again (first in row {rows[first_position[codes[i]]]})",
        hint="each customer needs one row with a unique id",
        field=column,
    )


def _date_shape(frame, mapping, rows, collector, out, as_of, date_format):
    signup_column = mapping.get("signup")
    churn_column = mapping.get("churn")
    signup = parse_dates(frame[signup_column], date_format)
    _report_unreadable(collector, signup, frame[signup_column], rows, signup_column, "signup date",
                       "write dates as YYYY-MM-DD, or set data.date_format")
    _report_blank(collector, signup.blank, rows, signup_column, "signup date", "every customer needs a signup date")
    if churn_column is not None:
        churn = parse_dates(frame[churn_column], date_format)
        _report_unreadable(collector, churn, frame[churn_column], rows, churn_column, "churn date",
                           "write dates as YYYY-MM-DD (leave blank while the customer is active), or set data.date_format",
                           "if it marks a customer who is still active, leave the churn date blank")
        churn_values = churn.values
    else:
        churn_values = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    signup_values = signup.values
    has_signup = ~np.isnat(signup_values)
    has_churn = ~np.isnat(churn_values)

    both = has_signup & has_churn
    report_rows(
        collector,
        both & (churn_values < signup_values),
        rows,
        lambda i: f"churn date {_date_text(churn_values[i])} is before signup date {_date_text(signup_values[i])}",
        hint="correct the dates, or leave churn blank for an active customer",
        field=churn_column,
    )
    if as_of is None:
        latest = max(
            signup_values[has_signup].max() if has_signup.any() else np.datetime64("NaT"),
            churn_values[has_churn].max() if has_churn.any() else np.datetime64("NaT"),
        ) if (has_signup.any() or has_churn.any()) else np.datetime64("NaT")
        if np.isnat(latest):
            resolved = None
        else:
            resolved = pd.Timestamp(latest)
            collector.warn(
                f"as_of is not set; using the latest signup or churn date in the file, {resolved.date()}",
                "set data.as_of (or --as-of) to the date the data was taken",
            )
    else:
        resolved = pd.Timestamp(as_of).normalize()
        cutoff = np.datetime64(resolved.to_datetime64(), "ns")
        report_rows(
            collector,
            has_signup & (signup_values > cutoff),
            rows,
            lambda i: f"signup date {_date_text(signup_values[i])} is after as_of {resolved.date()}",
            hint="correct the date or set data.as_of to the date the data was taken",
            field=signup_column,
        )
        report_rows(
            collector,
            has_churn & (churn_values > cutoff),
            rows,
            lambda i: f"churn date {_date_text(churn_values[i])} is after as_of {resolved.date()}",
            hint="correct the date or set data.as_of to the date the data was taken",
            field=churn_column,
        )
    if collector.error_count or resolved is None:
        return False, resolved

    end = np.where(has_churn, churn_values, np.datetime64(resolved.to_datetime64(), "ns"))
    whole, partial, fraction = _months_elapsed(signup_values.astype("datetime64[D]"), end.astype("datetime64[D]"))
    tenure = np.where(has_churn, np.maximum(1, whole + partial), whole).astype(np.int64)
    # Where in its last paid month each churn is dated (1: on the renewal it skipped; a
    # churn on the signup day: 0), and, for each active customer, the share of such
    # churns already past at its point of the current month (see churn_passed_share).
    position = np.where(partial, fraction, np.where(whole == 0, 0.0, 1.0))[has_churn]
    passed = np.where(has_churn, 0.0, churn_passed_share(position, fraction))
    report_rows(
        collector,
        tenure > MAX_TENURE_MONTHS,
        rows,
        lambda i: f"signup date {_date_text(signup_values[i])} gives a tenure of {tenure[i]:,} months, more than "
        f"{MAX_TENURE_MONTHS:,} (100 years)",
        hint="correct the signup date",
        field=signup_column,
    )
    if collector.error_count:
        return False, resolved
    fresh = ~has_churn & (tenure == 0)
    if fresh.any():
        collector.warn(
            f"{int(fresh.sum()):,} active customers have tenure 0 months (signed up less than a month "
            f"before as_of {resolved.date()}; {example_rows(fresh, rows)})",
            "they count as customers but tell the retention fit nothing yet",
            field=signup_column,
        )
    out["tenure_months"] = tenure
    out["churned"] = has_churn
    out["period_churn_passed"] = passed
    out["signup_date"] = signup_values
    out["churn_date"] = churn_values
    return True, resolved


def _tenure_shape(frame, mapping, rows, collector, out, period: str = "month") -> None:
    months_per_period = MONTHS_PER_PERIOD[period]
    tenure_column = mapping["tenure"]
    flag_column = mapping["churned"]
    tenure = parse_numbers(frame[tenure_column])
    _report_unreadable(collector, tenure, frame[tenure_column], rows, tenure_column, "tenure",
                       "give tenure as a whole number of months")
    _report_blank(collector, tenure.blank, rows, tenure_column, "tenure", "give every customer a tenure in whole months")
    values = tenure.values
    known = np.isfinite(values)  # unreadable and infinite values are reported above
    report_rows(
        collector,
        known & (values < 0),
        rows,
        lambda i: f"tenure {values[i]:g} is negative",
        hint="tenure counts months as a customer, 0 or more",
        field=tenure_column,
    )
    report_rows(
        collector,
        known & (values >= 0) & (values != np.round(values)),
        rows,
        lambda i: f"tenure {values[i]:g} is not a whole number of {period}s",
        hint=f"round tenure to whole {period}s (or give signup/churn dates instead)",
        field=tenure_column,
    )
    limit = MAX_TENURE_MONTHS / months_per_period
    report_rows(
        collector,
        known & (values > limit),
        rows,
        lambda i: f"tenure {values[i]:,.0f} {period}s is more than {limit:,.0f} {period}s (100 years)",
        hint="correct the value" + ("" if period != "month" else ", or set data.period if tenure counts weeks, "
                                    "quarters or years"),
        field=tenure_column,
    )
    flags = parse_flags(frame[flag_column])
    accepted = "/".join(t for t in TRUE_TOKENS if "." not in t) + " or " + "/".join(f for f in FALSE_TOKENS if "." not in f)
    report_rows(
        collector,
        flags.bad,
        rows,
        lambda i: f"churned flag {str(frame[flag_column].iloc[i]).strip()!r} is not recognised",
        hint=f"write {accepted} (any case)",
        field=flag_column,
    )
    _report_blank(collector, flags.blank, rows, flag_column, "churned flag", f"write {accepted} (any case)")
    if collector.error_count:
        return
    tenure_periods = values.astype(np.int64)
    churned = flags.values
    zero = tenure_periods == 0
    if (zero & ~churned).any():
        collector.warn(
            f"{int((zero & ~churned).sum()):,} active customers have tenure 0 {period}s ({example_rows(zero & ~churned, rows)})",
            "they count as customers but tell the retention fit nothing yet",
            field=tenure_column,
        )
    if (zero & churned).any():
        collector.warn(
            f"{int((zero & churned).sum()):,} churned customers have tenure 0 {period}s ({example_rows(zero & churned, rows)}); "
            f"each is counted as a lifetime of 1 {period} (they paid once, at signup)",
            "check these rows if a churned customer never paid",
            field=tenure_column,
        )
        tenure_periods = np.where(zero & churned, 1, tenure_periods)
    out["tenure_months"] = tenure_in_months(tenure_periods, churned, period)
    if period in ("quarter", "year"):
        out["tenure_periods"] = tenure_periods
    out["churned"] = churned


def tenure_in_months(tenure: np.ndarray, churned: np.ndarray, period: str) -> np.ndarray:
    """Tenures counted in ``period`` units on the monthly grid (whole months).

    Quarters and years are exact (a customer who churned after 2 yearly renewals paid
    for 24 months). A week count is converted like a date span: a churned customer's
    lifetime rounds up (they paid for the month they were in), an active customer's
    completed months round down, as for the date shape.
    """
    if period == "month":
        return tenure.astype(np.int64)
    if period in ("quarter", "year"):
        return tenure.astype(np.int64) * int(MONTHS_PER_PERIOD[period])
    months = tenure * MONTHS_PER_PERIOD[period]
    # A small tolerance keeps exact multiples (52 weeks = 12 months) from rounding up.
    return np.where(churned, np.maximum(1, np.ceil(months - 1e-9)), np.floor(months + 1e-9)).astype(np.int64)


def _money(raw: pd.Series, field_name: str, column: str, rows, collector, out) -> None:
    parsed = parse_numbers(raw)
    _report_unreadable(collector, parsed, raw, rows, column, field_name,
                       "write plain numbers such as 1234.50 (no decimal comma)")
    values = parsed.values
    finite = np.isfinite(values)  # unreadable and infinite values are reported above
    report_rows(
        collector,
        finite & (values < 0),
        rows,
        lambda i: f"{field_name} {values[i]:g} is negative",
        hint=f"{field_name} must be 0 or more",
        field=column,
    )
    if field_name == "mrr":
        if parsed.blank.any():
            collector.warn(
                f"{int(parsed.blank.sum()):,} customers have no MRR ({example_rows(parsed.blank, rows)})",
                "they are kept; fill in MRR where it is known",
                field=column,
            )
        zero = values == 0
        if zero.any():
            collector.warn(
                f"{int(zero.sum()):,} customers have MRR 0 ({example_rows(zero, rows)})",
                "they are kept; check whether they are free accounts",
                field=column,
            )
    report_rows(
        collector,
        finite & (np.abs(values) > MONEY_LIMIT),
        rows,
        lambda i: f"{field_name} {values[i]:.4g} is more than {MONEY_LIMIT:.0e}, which no customer pays or costs",
        hint="correct the value (is a unit or a decimal separator wrong?)",
        field=column,
    )
    out[field_name] = values.astype(np.float64)


__all__ = ["validate_customers", "default_id_column", "CustomerTable", "EXAMPLES_PER_KIND"]
