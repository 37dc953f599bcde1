"""Customer segmentation: attribute columns, numeric bands and behaviour quantiles.

A segment key is built from the rules of :class:`simcore.config.SegmentsConfig` in the
order given, each part turned into a label and the parts joined with ``/``::

    by: [{column: employees, edges: [100, 1000], labels: [smb, mid_market, enterprise]}, channel]
    -> "enterprise/sales_led", "smb/self_serve", ...

* a **column** rule uses the column's values as they are (trimmed text); a blank value
  becomes the label ``missing``;
* a **band** rule cuts a numeric column at ascending ``edges`` (a value equal to an edge
  goes to the higher band); a blank value becomes ``missing``;
* a **quantile** rule splits a behaviour column (tickets per month...) into groups of equal
  size by its own quantiles, lowest first. Ties that make two cut points equal are an
  error (fewer groups, or a band rule, fixes it) rather than a silent regrouping.

Segments with fewer than ``min_customers`` customers merge into ``other_label`` with a
warning that names them: a segment too small to fit a retention curve on would otherwise
report noise as economics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simcore.config import BandRule, QuantileRule, SegmentsConfig
from simcore.errors import DataError, Problem, ProblemCollector

MISSING_LABEL = "missing"
SEGMENT_COLUMN = "segment"
TOTAL_LABEL = "all segments"


@dataclass(frozen=True)
class SegmentAssignment:
    """Result of :func:`assign_segments`.

    Attributes
    ----------
    labels
        Segment of every customer, aligned with the input rows.
    merged
        Segments (with their sizes) that were merged into the ``other`` segment.
    warnings
        Problems of severity ``"warning"`` (merged segments...).
    """

    labels: pd.Series
    merged: dict[str, int] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()


def _trimmed_labels(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text.isna() | (text == ""), MISSING_LABEL).astype(object)


def _column_labels(values: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return _trimmed_labels(values)
    # A text column repeats a few values over many customers: each is trimmed once.
    codes, distinct = pd.factorize(values)
    labels = np.append(_trimmed_labels(pd.Series(distinct, dtype=object)).to_numpy(), MISSING_LABEL)
    return pd.Series(labels[codes], index=values.index, name=values.name, dtype=object)  # code -1: blank


def _numeric(values: pd.Series, column: str, collector: ProblemCollector) -> pd.Series | None:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna() & (values.astype("string").str.strip() != "")
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].head(3).tolist())
        collector.add(
            f"{int(bad.sum())} values are not numbers (e.g. {examples})",
            "band and quantile rules need a numeric column; clean the column or segment by it as text",
            field=column,
        )
        return None
    return numbers


def _without_credentials(labels: pd.Series) -> pd.Series:
    """Labels with the credentials of any URL in them hidden, before they reach a table,
    a saved fit or the console (a plan column holding a connection string is data, but
    its password must not be copied into every output)."""
    from simcore.errors import redact

    changed = {label: redact(label) for label in pd.unique(labels)}
    changed = {k: v for k, v in changed.items() if k != v}
    return labels.map(lambda label: changed.get(label, label)) if changed else labels


def _band_labels(numbers: pd.Series, rule: BandRule) -> pd.Series:
    bins = np.concatenate(([-np.inf], np.asarray(rule.edges, dtype=float), [np.inf]))
    codes = np.searchsorted(bins, numbers.to_numpy(dtype=float), side="right") - 1
    labels = np.asarray(rule.labels, dtype=object)[np.clip(codes, 0, len(rule.labels) - 1)]
    out = pd.Series(labels, index=numbers.index, dtype=object)
    return out.mask(numbers.isna(), MISSING_LABEL)


def _quantile_labels(numbers: pd.Series, rule: QuantileRule, collector: ProblemCollector) -> pd.Series | None:
    labels = rule.group_labels
    groups = len(labels)
    present = numbers.dropna()
    if present.empty:
        collector.add("the column has no values to form quantile groups", "", field=rule.column)
        return None
    cut_points = np.quantile(present.to_numpy(dtype=float), np.linspace(0, 1, groups + 1)[1:-1])
    if np.any(np.diff(cut_points) <= 0):
        collector.add(
            f"too many equal values to form {groups} groups of equal size "
            f"(cut points {', '.join(f'{c:g}' for c in cut_points)})",
            "use fewer quantile groups, or a band rule with explicit edges",
            field=rule.column,
        )
        return None
    band = BandRule.model_construct(column=rule.column, edges=list(cut_points), labels=labels)
    return _band_labels(numbers, band)


def assign_segments(
    customers: pd.DataFrame, spec: SegmentsConfig, *, source: str | None = None
) -> SegmentAssignment:
    """Assign every customer to a segment.

    Parameters
    ----------
    customers
        The customer table (attribute columns under the user's own names).
    spec
        Segmentation rules; with no rules every customer is in segment ``"all"``.
    source
        Name of the input, used in problem messages.

    Raises
    ------
    DataError
        Listing every rule that cannot be applied (missing column, non-numeric values for
        a band rule, ties for a quantile rule).
    """
    collector = ProblemCollector(source=source)
    if not spec.by:
        return SegmentAssignment(pd.Series("all", index=customers.index, dtype=object, name=SEGMENT_COLUMN))

    parts: list[pd.Series] = []
    for position, rule in enumerate(spec.by):
        column = rule if isinstance(rule, str) else rule.column
        if column not in customers.columns:
            import difflib

            close = difflib.get_close_matches(column, [str(c) for c in customers.columns], n=1)
            collector.add(
                f"segment rule {position + 1} uses column '{column}', which is not in the data",
                f"did you mean '{close[0]}'?" if close else f"available columns: {', '.join(map(str, customers.columns))}",
                field=f"segments.by.{position}",
            )
            continue
        values = customers[column]
        if isinstance(rule, str):
            parts.append(_column_labels(values))
            continue
        numbers = _numeric(values, column, collector)
        if numbers is None:
            continue
        if isinstance(rule, BandRule):
            parts.append(_band_labels(numbers, rule))
        else:
            labelled = _quantile_labels(numbers, rule, collector)
            if labelled is not None:
                parts.append(labelled)
    collector.raise_if_errors(DataError)

    labels = parts[0].astype(str)
    for part in parts[1:]:
        labels = labels + "/" + part.astype(str)
    labels = _without_credentials(labels).rename(SEGMENT_COLUMN)

    merged: dict[str, int] = {}
    warnings: list[Problem] = []
    if spec.min_customers > 0:
        counts = labels.value_counts()
        small = counts[(counts < spec.min_customers) & (counts.index != spec.other_label)]
        if len(small):
            merged = {str(k): int(v) for k, v in small.sort_index().items()}
            labels = labels.where(~labels.isin(list(merged)), spec.other_label)
            other_size = int((labels == spec.other_label).sum())
            listed = ", ".join(f"{name} ({size})" for name, size in merged.items())
            note = (
                f"; '{spec.other_label}' still has only {other_size} customers"
                if other_size < spec.min_customers
                else ""
            )
            warnings.append(
                Problem(
                    f"{len(merged)} segments below min_customers={spec.min_customers} merged into "
                    f"'{spec.other_label}': {listed}{note}",
                    "lower segments.min_customers or use coarser rules to keep them apart",
                    source=source,
                    field="segments.min_customers",
                    severity="warning",
                )
            )
    return SegmentAssignment(labels=labels, merged=merged, warnings=tuple(warnings))


def segment_summary(customers: pd.DataFrame, segment_column: str = SEGMENT_COLUMN) -> pd.DataFrame:
    """One row per segment, largest first, plus a total row labelled ``all segments``.

    Columns: ``segment``, ``customers``, ``active``, ``churned``, ``churned_share``,
    ``median_tenure_months`` (median observed tenure of all customers in the segment, not
    a fitted lifetime), and, when the book has MRR, ``mrr_total`` and ``mrr_mean`` over
    **active** customers (the live recurring revenue; churned customers bill nothing).
    """
    frame = customers
    has_mrr = "mrr" in frame.columns
    active = ~frame["churned"].astype(bool)
    work = pd.DataFrame(
        {
            "segment": frame[segment_column].astype(str),
            "churned": frame["churned"].astype(bool),
            "active": active,
            "tenure": frame["tenure_months"],
        }
    )
    if has_mrr:
        work["active_mrr"] = frame["mrr"].where(active)
    grouped = work.groupby("segment", sort=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "active": grouped["active"].sum(),
            "churned": grouped["churned"].sum(),
            "median_tenure_months": grouped["tenure"].median(),
        }
    )
    if has_mrr:
        table["mrr_total"] = grouped["active_mrr"].sum()
        table["mrr_mean"] = grouped["active_mrr"].mean()
    total = {
        "customers": len(work),
        "active": int(work["active"].sum()),
        "churned": int(work["churned"].sum()),
        "median_tenure_months": float(work["tenure"].median()) if len(work) else np.nan,
    }
    if has_mrr:
        total["mrr_total"] = float(work["active_mrr"].sum())
        total["mrr_mean"] = float(work["active_mrr"].mean())
    table = table.sort_values(["customers"], ascending=False, kind="stable")
    table = pd.concat([table, pd.DataFrame([total], index=[TOTAL_LABEL])])
    table.insert(3, "churned_share", table["churned"] / table["customers"])
    table = table.reset_index(names="segment")
    for column in ("customers", "active", "churned"):
        table[column] = table[column].astype("int64")
    return table
