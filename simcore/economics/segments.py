"""Every economic input of every segment, with where each number came from.

One call, :func:`resolve_economics`, yields per segment all the engine needs besides the
retention curve and the revenue dynamics:

* the unit economics (:class:`~simcore.economics.Economics`: margin, cost to serve,
  CAC, onboarding, discount rate, MRR of customers whose MRR is unknown);
* the starting MRR of a customer acquired during the projection;
* the baseline acquisition volume (new customers per month).

Precedence for every field of :class:`~simcore.config.EconomicsValues`:
``economics.segments.<name>`` > derived from data (``cac_from_spend``,
``support_cost_from``) > ``economics.default`` > the top-level ``discount_rate_annual``
(discount rate only) > a neutral built-in (100% margin, no costs), reported as a warning
when no economics were given at all.

**Starting MRR of new customers.** The book's ``mrr`` column is each customer's *current*
MRR, which already holds past expansion; starting new cohorts there and simulating
expansion again would count it twice. With an MRR history, a new customer starts at the
mean first-month MRR of the segment's customers who signed up in the 12 months before
``as_of`` (of all its customers when fewer than 30 did). Without a history: the mean MRR
of the segment's customers with a known MRR, else ``economics.mrr``.

**Acquisition volume.** ``acquisition.new_customers_per_month`` when given, else the
segment's signups per month over the 12 months up to ``as_of`` (date-shaped books), else
— books of tenures without signup dates — an estimate from the active customers' tenures
(:func:`acquisition_from_tenures`), stated in a warning. A segment left with no new
customers gets a warning naming the key to set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simcore.config import Config, EconomicsValues
from simcore.economics.derived import DerivedCost, cac_from_spend, support_cost_from_table
from simcore.economics.values import Economics
from simcore.errors import DataError, Problem

SEGMENT = "segment"
#: Trailing months of signups behind the baseline volume and the starting MRR.
RECENT_MONTHS = 12
#: Fewer recent signups than this and the starting MRR uses all of a segment's customers.
MIN_RECENT_CUSTOMERS = 30

_ECONOMICS_FIELDS = tuple(EconomicsValues.model_fields)


@dataclass(frozen=True)
class SegmentEconomics:
    """The economic inputs of every segment of a run.

    Attributes
    ----------
    economics : dict of str -> Economics
        Unit economics per segment.
    new_customer_mrr : dict of str -> float
        Starting MRR (money / month) of a customer acquired during the projection.
    acquisition_per_month : dict of str -> float
        Baseline new customers per month.
    table : DataFrame
        One row per segment: every field, its origin (``<field>_from``), the starting MRR
        and acquisition volume with their origins, and — with ``cac_from_spend`` — the
        CAC derived from spend and the blended CAC beside the segment's own.
    cac, support : DerivedCost or None
        The derivations from data, when configured.
    warnings : tuple of Problem
    """

    economics: dict
    new_customer_mrr: dict
    acquisition_per_month: dict
    table: pd.DataFrame
    cac: DerivedCost | None
    support: DerivedCost | None
    warnings: tuple[Problem, ...]

    @property
    def acquisition_cost_given(self) -> dict[str, bool]:
        """Segment -> whether a CAC or an onboarding cost was given (config or data)."""
        return {row.segment: not (row.cac_from == "not given" and row.onboarding_cost_from == "not given")
                for row in self.table.itertuples()}


def baseline_acquisition_per_month(customers: pd.DataFrame, as_of) -> float:
    """Average signups per month over the 12 months up to ``as_of``.

    Counts customers (churned or not) with ``as_of - 12 months < signup_date <= as_of``
    and divides by 12. Returns 0 when there are no signup dates or no ``as_of``.
    """
    if "signup_date" not in customers.columns or as_of is None:
        return 0.0
    signups = pd.to_datetime(customers["signup_date"])
    start = pd.Timestamp(as_of) - pd.DateOffset(months=RECENT_MONTHS)
    recent = (signups > start) & (signups <= pd.Timestamp(as_of))
    return float(recent.sum()) / RECENT_MONTHS


def starting_mrr_from_history(history: pd.DataFrame | None, customers: pd.DataFrame, as_of) -> dict[str, float]:
    """Mean first-month MRR per segment from the MRR history (see the module notes);
    empty without a history."""
    if history is None or not len(history):
        return {}
    first = history.sort_values("month", kind="stable").groupby("customer_id", sort=False).first()
    frame = customers[["customer_id", SEGMENT]].merge(
        first[["month", "mrr"]], left_on="customer_id", right_index=True, how="inner")
    cutoff = None if as_of is None else pd.Timestamp(as_of) - pd.DateOffset(months=RECENT_MONTHS)
    out: dict[str, float] = {}
    for segment, group in frame.groupby(SEGMENT, sort=True):
        recent = group[group["month"] > cutoff] if cutoff is not None else group
        chosen = recent if len(recent) >= MIN_RECENT_CUSTOMERS else group
        if len(chosen):
            out[str(segment)] = float(chosen["mrr"].mean())
    return out


def _derived_costs(config: Config, customers: pd.DataFrame, as_of):
    spec = config.economics
    cac = support = None
    problems: list[Problem] = []
    if spec.cac_from_spend is not None:
        try:
            cac = cac_from_spend(spec.cac_from_spend, config, customers, as_of)
        except DataError as error:
            problems.extend(error.problems)
    if spec.support_cost_from is not None:
        try:
            support = support_cost_from_table(spec.support_cost_from, config, customers, as_of)
        except DataError as error:
            problems.extend(error.problems)
    if problems:
        raise DataError(problems)
    return cac, support


def _field_values(config: Config, segment: str, cac: DerivedCost | None, support: DerivedCost | None):
    """Each economics field of one segment and where it came from (the precedence above)."""
    spec = config.economics
    own = spec.segments.get(segment, EconomicsValues())
    values: dict = {}
    origin: dict = {}
    for name in _ECONOMICS_FIELDS:
        value = getattr(own, name)
        where = f"economics.segments.{segment}"
        if value is None and name == "cac" and cac is not None and segment in cac.by_segment:
            value, where = cac.by_segment[segment], "acquisition spend"
        if value is None and name == "support_cost_per_month" and support is not None and segment in support.by_segment:
            value, where = support.by_segment[segment], "support cost table"
        if value is None:
            value, where = getattr(spec.default, name), "economics.default"
        if value is None and name == "discount_rate_annual":
            value, where = config.discount_rate_annual, "discount_rate_annual"
        if value is None:
            where = "not given"
        values[name], origin[name] = value, where
    return values, origin


def _economics(values: dict) -> Economics:
    return Economics(
        gross_margin=values["gross_margin"] if values["gross_margin"] is not None else 1.0,
        support_cost_per_month=values["support_cost_per_month"] or 0.0,
        other_cost_to_serve_per_month=(values["other_cost_to_serve_per_month"] or 0.0)
        + (values["infrastructure_cost_per_month"] or 0.0),
        infrastructure_cost_share=values["infrastructure_cost_share"] or 0.0,
        cac=values["cac"] or 0.0,
        onboarding_cost=values["onboarding_cost"] or 0.0,
        discount_rate_annual=values["discount_rate_annual"],
        default_mrr=values["mrr"] or 0.0,
    )


def mean_known_mrr(customers: pd.DataFrame, default: float) -> float:
    """Mean MRR of the customers whose MRR is known, else ``default``: the starting MRR of
    new customers when the book has no MRR history."""
    known = pd.to_numeric(customers["mrr"], errors="coerce").dropna() if "mrr" in customers.columns \
        else pd.Series(dtype=float)
    return float(known.mean()) if len(known) else float(default)


def _starting_mrr(segment: str, rows: pd.DataFrame, from_history: dict, economics: Economics) -> tuple[float, str]:
    if segment in from_history:
        return from_history[segment], "MRR history: first-month MRR of recent signups"
    if "mrr" in rows.columns and rows["mrr"].notna().any():
        return mean_known_mrr(rows, economics.default_mrr), "customer book: mean MRR"
    return economics.default_mrr, "economics: mrr"


def acquisition_from_tenures(customers: pd.DataFrame) -> float:
    """Signups per month over the last 12 months of a book without signup dates.

    An active customer of tenure ``t`` (whole months) signed up ``t`` months ago and is
    one of the survivors of that month's signups, of whom a share ``S(t)`` is still active
    (``S``: the Kaplan-Meier curve of the book's own tenures and churn flags). So
    ``signups(t) = active(t) / S(t)``, averaged over ``t = 0..11``. It assumes the
    churn curve of recent signups is the book's curve.
    """
    tenure = customers["tenure_months"].to_numpy(dtype=np.int64)
    churned = customers["churned"].to_numpy(dtype=bool)
    if tenure.size == 0:
        return 0.0
    longest = int(tenure.max())
    at_risk = np.cumsum(np.bincount(tenure, minlength=longest + 1)[::-1])[::-1]
    churns = np.bincount(tenure[churned], minlength=longest + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(at_risk > 0, churns / np.maximum(at_risk, 1), 0.0)
    survival = np.concatenate([[1.0], np.cumprod(1.0 - hazard[1:])])
    active = np.bincount(tenure[~churned], minlength=max(longest + 1, RECENT_MONTHS))[:RECENT_MONTHS]
    months = np.arange(RECENT_MONTHS)
    kept = np.where(months <= longest, survival[np.minimum(months, longest)], 0.0)
    signups = np.where(kept > 0, active / np.where(kept > 0, kept, 1.0), 0.0)
    return float(signups.mean())


def _acquisition(config: Config, segment: str, rows: pd.DataFrame, as_of) -> tuple[float, str]:
    given = config.acquisition.new_customers_per_month or {}
    if segment in given:
        return float(given[segment]), "acquisition.new_customers_per_month"
    if "signup_date" in rows.columns and as_of is not None:
        return baseline_acquisition_per_month(rows, as_of), f"signups per month, last {RECENT_MONTHS} months"
    return acquisition_from_tenures(rows), f"estimated from active customers' tenures, last {RECENT_MONTHS} months"


def _acquisition_warnings(config: Config, volume: dict, origins: dict) -> list[Problem]:
    estimated = [s for s, o in origins.items() if o.startswith("estimated")]
    warnings = []
    if estimated:
        listed = ", ".join(f"{s} {volume[s]:,.1f}" for s in estimated)
        warnings.append(Problem(
            f"the book has no signup dates, so new customers per month were estimated from active customers' "
            f"tenures (signups t months ago = active at tenure t / survival to t, t < {RECENT_MONTHS}): {listed}",
            "set acquisition.new_customers_per_month to use your own volumes",
            source=config.source, field="acquisition.new_customers_per_month", severity="warning"))
    none = [s for s, v in volume.items() if v <= 0]
    if none:
        warnings.append(Problem(
            f"no new customers are projected for {', '.join(none)}: the projection holds the existing base only",
            "set acquisition.new_customers_per_month (per segment) to project new cohorts",
            source=config.source, field="acquisition.new_customers_per_month", severity="warning"))
    return warnings


#: A given CAC further than this from the spend allocated to its segment is reported.
CAC_ALLOCATION_TOLERANCE = 0.25


def _allocation_warnings(config: Config, table: pd.DataFrame, cac: DerivedCost) -> list[Problem]:
    apart = []
    for row in table.itertuples():
        allocated = cac.by_segment.get(row.segment)
        if allocated is None or row.cac_from in ("acquisition spend", "not given") or not allocated > 0:
            continue
        if abs(row.cac - allocated) > CAC_ALLOCATION_TOLERANCE * allocated:
            apart.append(f"{row.segment} {row.cac:,.0f} vs {allocated:,.0f} ({row.cac / allocated - 1:+.0%})")
    if not apart:
        return []
    return [Problem(
        f"the CAC used differs by more than {CAC_ALLOCATION_TOLERANCE:.0%} from the acquisition spend allocated by "
        f"channel mix for {len(apart)} segments: {'; '.join(apart)}. The allocation charges every new customer of "
        "a channel the same, which hides that some segments cost more to win",
        "check which is right; the cac_allocation table shows how each channel's spend was split",
        source=config.source, field="economics.cac_from_spend", severity="warning")]


def resolve_economics(config: Config, customers: pd.DataFrame, segments: list[str], as_of,
                      history: pd.DataFrame | None = None) -> SegmentEconomics:
    """Per-segment economics, starting MRR and acquisition volume (see the module notes).

    Parameters
    ----------
    config
        The run configuration (``economics``, ``acquisition``, ``discount_rate_annual``).
    customers
        The segmented customer book (canonical columns and ``segment``).
    segments
        Segment names, in report order.
    as_of
        Projection start (valuation date); ``None`` for tenure books without one.
    history
        The book's MRR history (``customer_id``, ``month``, ``mrr``) or ``None``.
    """
    cac, support = _derived_costs(config, customers, as_of)
    warnings: list[Problem] = [*(cac.warnings if cac else ()), *(support.warnings if support else ())]
    spec = config.economics
    if not spec.default.model_fields_set and not spec.segments and cac is None and support is None:
        warnings.append(Problem(
            "no economics given: value is revenue at 100% gross margin with no cost to serve or CAC",
            "add an economics: section (gross_margin, support_cost_per_month, cac, ...)",
            source=config.source, field="economics", severity="warning",
        ))
    from_history = starting_mrr_from_history(history, customers, as_of)
    by_segment = {str(k): g for k, g in customers.groupby(SEGMENT, sort=False)} if SEGMENT in customers.columns \
        else {segments[0]: customers} if len(segments) == 1 else {}
    economics, starting, volume, volume_origin, rows = {}, {}, {}, {}, []
    for segment in segments:
        group = by_segment.get(segment, customers.iloc[:0])
        values, origin = _field_values(config, segment, cac, support)
        economics[segment] = _economics(values)
        starting[segment], starting_from = _starting_mrr(segment, group, from_history, economics[segment])
        volume[segment], volume_from = _acquisition(config, segment, group, as_of)
        volume_origin[segment] = volume_from
        row = {"segment": segment}
        for name in _ECONOMICS_FIELDS:
            row[name] = values[name]
            row[f"{name}_from"] = origin[name]
        row.update({"new_customer_starting_mrr": starting[segment], "new_customer_starting_mrr_from": starting_from,
                    "new_customers_per_month": volume[segment], "new_customers_per_month_from": volume_from})
        if cac is not None:
            row["cac_derived_from_spend"] = cac.by_segment.get(segment, np.nan)
            row["blended_cac"] = cac.blended
        rows.append(row)
    table = pd.DataFrame(rows)
    warnings.extend(_acquisition_warnings(config, volume, volume_origin))
    if cac is not None:
        warnings.extend(_allocation_warnings(config, table, cac))
    if spec.default.model_fields_set or spec.segments or cac is not None:
        for row in table.itertuples():
            if row.cac_from == "not given" and row.onboarding_cost_from == "not given":
                warnings.append(Problem(
                    f"segment '{row.segment}' has no CAC or onboarding cost, so its new customers' unit profit and "
                    "payback cannot be judged (status 'no CAC given')",
                    f"set economics.segments.{row.segment}.cac (or economics.default.cac, or cac_from_spend)",
                    source=config.source, field=f"economics.segments.{row.segment}.cac", severity="warning"))
    return SegmentEconomics(economics=economics, new_customer_mrr=starting, acquisition_per_month=volume,
                            table=table, cac=cac, support=support, warnings=tuple(warnings))
