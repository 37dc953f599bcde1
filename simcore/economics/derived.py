"""Economics from data, and the per-segment :class:`Economics` of a run.

Instead of typing numbers, a config can derive:

* **CAC per segment** from an acquisition-spend table (spend per month per channel or
  segment): per key, ``CAC = spend / customers acquired`` over the trailing
  ``months`` ending with the ``as_of`` month. Spend keyed by channel is *allocated* to
  segments by their channel mix — each channel's spend split by its new customers'
  segments — so a segment's CAC is its allocated spend over its new customers (the
  average of its customers' channel CACs). The allocation assumes every new customer of a
  channel costs the same, which a sales-led channel serving both enterprise and
  mid-market accounts rarely does; the allocation table shows the split, and a given
  segment CAC more than 25% away from the allocated one is reported. The **blended** CAC (all spend / all new customers)
  is reported beside it, because one blended number is exactly what hides a segment
  that costs five times as much to win.
* **Support cost per account-month** from a support-cost table (total cost per month per
  key): per key, ``cost / active account-months`` over the same trailing window; a
  segment's figure is the average over its active account-months.

Both need signup dates (a date-shaped book). :mod:`simcore.economics.segments` decides
which number wins for each segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.config import AcquisitionSpend, Config, SupportCostTable
from simcore.errors import DataError, Problem, ProblemCollector

SEGMENT = "segment"


@dataclass(frozen=True)
class DerivedCost:
    """A cost derived from a table: per key, per segment and blended.

    Attributes
    ----------
    by_key
        One row per key: ``key``, ``total`` (spend or cost in the window), ``count``
        (new customers or active account-months) and ``per_unit``.
    by_segment
        Segment -> cost per unit (CAC per new customer, cost per account-month).
    blended
        Total cost / total count over every key.
    allocation
        One row per (key, segment): the segment's ``units`` of the key, their ``share``
        of the key's units and the cost ``allocated`` to the segment (share x the key's
        total). A segment's figure is its allocated cost over its units — it assumes
        every unit of a key (a new customer of a channel) costs the same.
    warnings
        Keys that could not be matched, segments with no customers in the window...
    """

    by_key: pd.DataFrame
    by_segment: dict[str, float]
    blended: float
    warnings: tuple[Problem, ...]
    allocation: pd.DataFrame | None = None


def _read_monthly(path, source: str, month_col: str, key_col: str, value_col: str, value_name: str) -> pd.DataFrame:
    from simcore.data.parse import parse_months, parse_numbers, report_rows
    from simcore.data.sources import read_table

    raw = read_table(path, source, text_columns=[key_col, month_col], number_columns=[value_col])
    collector = ProblemCollector(source=source)
    import difflib

    for wanted in (month_col, key_col, value_col):
        if wanted not in raw.header:
            close = difflib.get_close_matches(wanted, raw.header, n=1)
            collector.add(
                f"column '{wanted}' is missing",
                f"did you mean '{close[0]}'?" if close else f"columns are: {', '.join(raw.header)}",
                field=wanted,
            )
    collector.raise_if_errors(DataError)
    frame = raw.frame
    months = parse_months(frame[month_col])
    values = parse_numbers(frame[value_col])
    rows = raw.record_rows()
    readable = ~(values.bad | values.blank)
    for mask, message, hint, column in (
        (months.bad | months.blank, "month cannot be read", "write months as YYYY-MM", month_col),
        (~readable, f"{value_name} cannot be read", "write plain numbers", value_col),
        (readable & (np.nan_to_num(values.values.astype(float)) < 0), f"{value_name} is negative",
         "costs and spend are positive amounts", value_col),
    ):
        report_rows(collector, mask, rows, lambda i, message=message: message, hint=hint, field=column)
    collector.raise_if_errors(DataError)
    return pd.DataFrame({
        "month": months.values, "key": frame[key_col].astype(str).str.strip().to_numpy(),
        "value": values.values.astype(float),
    })


def _window(as_of: pd.Timestamp, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month (month starts) of the trailing window ending at ``as_of``."""
    last = pd.Timestamp(as_of).to_period("M").to_timestamp()
    return last - pd.DateOffset(months=months - 1), last


def _customer_keys(customers: pd.DataFrame, column: str, source: str, field: str) -> pd.Series:
    if column not in customers.columns:
        import difflib

        close = difflib.get_close_matches(column, [str(c) for c in customers.columns], n=1)
        raise DataError(Problem(
            f"customer column '{column}' does not exist",
            f"did you mean '{close[0]}'?" if close else "name an attribute column of the customer book, or 'segment'",
            source=source, field=field,
        ))
    return customers[column].astype(str).str.strip()


def _needs_dates(customers: pd.DataFrame, what: str, field: str) -> None:
    if "signup_date" not in customers.columns:
        raise DataError(Problem(
            f"{what} needs signup dates, and this customer book has tenures only",
            "use a date-shaped book (signup/churn columns) or type the numbers under economics",
            field=field,
        ))


def _per_segment(units: pd.DataFrame, per_key: pd.Series) -> dict[str, float]:
    """Average of the key rates over each segment's units (new customers, account-months)."""
    rates = units["key"].map(per_key)
    weights = units["units"].to_numpy(dtype=float)
    out: dict[str, float] = {}
    for segment, group in units.assign(rate=rates.fillna(0.0), weight=weights).groupby(SEGMENT, sort=True):
        total = group["weight"].sum()
        if total > 0:
            out[str(segment)] = float((group["rate"] * group["weight"]).sum() / total)
    return out


def _windowed_totals(spec, config: Config, customers: pd.DataFrame, as_of, *, field: str, what: str,
                     value_column: str, value_name: str):
    """The shared first steps of both derivations: check the book has dates, read the
    table, find the trailing window, sum the table per key inside it, and read each
    customer's key."""
    _needs_dates(customers, what, field)
    table = _read_monthly(config.resolve(spec.path), spec.path, spec.columns.month, spec.columns.key,
                          value_column, value_name)
    start, end = _window(as_of, spec.months)
    keys = _customer_keys(customers, spec.customer_column, config.source, f"{field}.customer_column")
    in_window = table[(table["month"] >= start) & (table["month"] <= end)]
    return in_window.groupby("key")["value"].sum(), keys, start, end


def cac_from_spend(spec: AcquisitionSpend, config: Config, customers: pd.DataFrame, as_of) -> DerivedCost:
    """Per-segment and blended CAC from an acquisition-spend table (see the module notes)."""
    spend, keys, start, end = _windowed_totals(
        spec, config, customers, as_of, field="economics.cac_from_spend", what="CAC from acquisition spend",
        value_column=spec.columns.spend, value_name="spend")
    signup_month = customers["signup_date"].dt.to_period("M").dt.to_timestamp()
    new = (signup_month >= start) & (signup_month <= end)
    acquired = keys[new].value_counts()
    return _derive(spend, acquired, customers.loc[new, SEGMENT], keys[new], spec.path, spec.customer_column,
                   "spend", "new customers", start, end)


def support_cost_from_table(spec: SupportCostTable, config: Config, customers: pd.DataFrame, as_of) -> DerivedCost:
    """Per-segment support cost per account-month from a support-cost table."""
    cost, keys, start, end = _windowed_totals(
        spec, config, customers, as_of, field="economics.support_cost_from", what="support cost from a cost table",
        value_column=spec.columns.cost, value_name="cost")
    # Active account-months inside the window, on the book's tenure convention: a churned
    # customer paid in the signup month and the next tenure_months - 1 months; an active
    # one in every month up to the as_of month.
    def month_number(stamps) -> np.ndarray:
        return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy(dtype=np.int64)

    first = month_number(customers["signup_date"])
    window_first = start.year * 12 + start.month - 1
    window_last = end.year * 12 + end.month - 1
    churned = customers["churned"].to_numpy(dtype=bool)
    last = np.where(churned, first + customers["tenure_months"].to_numpy(dtype=np.int64) - 1, window_last)
    span = np.clip(np.minimum(last, window_last) - np.maximum(first, window_first) + 1, 0, None)
    account_months = pd.DataFrame({"key": keys, SEGMENT: customers[SEGMENT].astype(str), "units": span})
    accounts = account_months.groupby("key")["units"].sum()
    units = account_months.groupby([SEGMENT, "key"], as_index=False)["units"].sum()
    return _finish(cost, accounts, units, spec.path, spec.customer_column, "cost", "account-months", start, end)


def _derive(total: pd.Series, counts: pd.Series, segments: pd.Series, keys: pd.Series, source, column,
            total_name, count_name, start, end) -> DerivedCost:
    units = pd.DataFrame({SEGMENT: segments.astype(str).to_numpy(), "key": keys.to_numpy(), "units": 1.0})
    units = units.groupby([SEGMENT, "key"], as_index=False)["units"].sum()
    return _finish(total, counts, units, source, column, total_name, count_name, start, end)


def _finish(total: pd.Series, counts: pd.Series, units: pd.DataFrame, source, column,
            total_name, count_name, start, end) -> DerivedCost:
    warnings: list[Problem] = []
    window = f"{start:%Y-%m} to {end:%Y-%m}"
    keys = sorted(set(total.index) | set(counts.index))
    by_key = pd.DataFrame({"key": keys})
    by_key["total"] = by_key["key"].map(total).fillna(0.0).astype(float)
    by_key["count"] = by_key["key"].map(counts).fillna(0).astype(float)
    by_key["per_unit"] = np.where(by_key["count"] > 0, by_key["total"] / by_key["count"].where(by_key["count"] > 0, 1), np.nan)
    orphan = by_key[(by_key["total"] > 0) & (by_key["count"] == 0)]
    if len(orphan):
        warnings.append(Problem(
            f"{total_name} for {', '.join(orphan['key'])} in {window} matches no {count_name} by '{column}'; "
            "it counts in the blended figure only",
            f"check that the key values match the customers' '{column}' values",
            source=source, severity="warning",
        ))
    unpaid = by_key[(by_key["total"] == 0) & (by_key["count"] > 0)]
    if len(unpaid):
        warnings.append(Problem(
            f"{', '.join(unpaid['key'])} has {count_name} in {window} but no {total_name} rows; its cost counts as 0",
            "add its rows to the table if it has a cost",
            source=source, severity="warning",
        ))
    if by_key["count"].sum() == 0:
        raise DataError(Problem(
            f"no {count_name} in {window}, so no cost per unit can be derived",
            "check data.as_of and the window length ('months')", source=source,
        ))
    blended = float(by_key["total"].sum() / by_key["count"].sum())
    per_key = by_key.set_index("key")["per_unit"]
    allocation = units.rename(columns={"units": "units"}).assign(
        share=lambda f: f["units"] / f["key"].map(by_key.set_index("key")["count"]),
        allocated=lambda f: f["units"] * f["key"].map(per_key).fillna(0.0),
    )[["key", SEGMENT, "units", "share", "allocated"]].sort_values(["key", SEGMENT], ignore_index=True)
    return DerivedCost(by_key=by_key, by_segment=_per_segment(units, per_key), blended=blended,
                       warnings=tuple(warnings), allocation=allocation)
