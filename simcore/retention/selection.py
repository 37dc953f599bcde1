"""Choosing a survival family per segment, with warnings and an optional holdout check.

Ranking
    Every candidate parametric family is fitted on the segment's aggregated data and ranked
    by AIC or BIC computed on the monthly-grid log-likelihood (comparable across discrete
    and continuous families; see :mod:`simcore.retention.fit`). Kaplan-Meier is always
    fitted too (for plots and checks) but never ranked. A family that fails to fit stays in
    the ranking table with its reason and is skipped.

Extrapolation warnings (severity "warning")
    * fewer than :data:`MIN_EVENTS` (30) churn events: parameter uncertainty is large and
      the tail shape is barely identified;
    * a longest observed tenure under :data:`MIN_WINDOW_MONTHS` (12): a year of history is
      the least that shows whether the hazard falls with tenure, and projections run for
      years.

Holdout check (calendar-time split)
    With each customer's signup month offset ``s`` (whole months on any fixed origin) and
    the last observed month ``W`` (default ``max(s + duration)``), the cutoff is
    ``c = W - holdout_months``. Customers who signed up before ``c`` are cut back to what
    was known at ``c`` (tenure ``min(duration, c - s)``, churned only if they churned by
    then) and every candidate family is refitted on that. Each customer still active at
    ``c`` (tenure ``a = c - s``) is then scored on what happened next, using the
    conditional curve ``S(a + k) / S(a)``:

    * ``holdout_log_likelihood``: mean over those customers of ``log P(observed outcome)``
      (churn at ``T``: ``(S(T-1) - S(T)) / S(a)``; still active at ``W``: ``S(W-s) / S(a)``);
    * ``holdout_active_error``: mean absolute difference, over holdout months
      ``k = 1..holdout_months``, between predicted and observed share of those customers
      still active.

    Customers who signed up on or after ``c`` are not used. ``criterion="holdout"`` ranks by
    the holdout log-likelihood (then refits the chosen family on all data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from simcore.errors import DataError, FitError, Problem, SimcoreError
from simcore.retention.families import KAPLAN_MEIER, PARAMETRIC_FAMILIES
from simcore.retention.fit import (
    RetentionFit,
    SurvivalCounts,
    _fit_counts,
    aggregate_survival,
)

#: Fewer churn events than this triggers an extrapolation warning.
MIN_EVENTS = 30
#: A longest observed tenure (months) shorter than this triggers an extrapolation warning.
MIN_WINDOW_MONTHS = 12
#: Candidates of ``family="auto"``.
AUTO_FAMILIES = PARAMETRIC_FAMILIES
CRITERIA = ("aic", "bic", "holdout")


@dataclass(frozen=True, eq=False)
class SegmentResult:
    """Fitted retention of one segment.

    Attributes
    ----------
    segment : str or None
    fit : RetentionFit
        The chosen fit.
    ranking : DataFrame
        One row per candidate: family, log_likelihood, n_parameters, aic, bic,
        delta (criterion minus the best), rank (1 = chosen; NaN for failures), error.
    kaplan_meier : RetentionFit
        Non-parametric curve of the same data (for plots and comparisons).
    fits : mapping of family -> RetentionFit
        Every candidate that fitted.
    criterion : str
    holdout : DataFrame or None
        Per family: holdout_log_likelihood, holdout_active_error, n_holdout_customers.
    warnings : tuple of Problem
    """

    segment: str | None
    fit: RetentionFit
    ranking: pd.DataFrame
    kaplan_meier: RetentionFit
    fits: Mapping[str, RetentionFit]
    criterion: str
    holdout: pd.DataFrame | None = None
    warnings: tuple[Problem, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready: the chosen fit, the ranking and the warnings."""
        ranking = self.ranking.replace({np.nan: None}).to_dict(orient="records")
        return {
            "segment": self.segment,
            "criterion": self.criterion,
            "chosen": self.fit.to_dict(),
            "ranking": ranking,
            "warnings": [p.format() for p in self.warnings],
        }

    def to_saved(self) -> dict:
        """This result as plain JSON values, for :meth:`from_saved`.

        Keeps the chosen fit, the Kaplan-Meier fit, the ranking table (every candidate,
        as records with column dtypes), the holdout table, the criterion and the warnings.
        The candidate fits that were not chosen are dropped; their rows stay in the
        ranking.
        """
        from simcore.retention.saved import encoding_saved, segment_result_to_saved

        return encoding_saved(lambda: segment_result_to_saved(self))

    @classmethod
    def from_saved(cls, saved: dict) -> "SegmentResult":
        """Rebuild a result from :meth:`to_saved` without refitting.

        ``fits`` of the rebuilt result holds only the chosen fit (see :meth:`to_saved`).

        Raises
        ------
        FitError
            ``saved`` is not a saved segment result or is corrupt.
        """
        from simcore.retention.saved import reading_saved, segment_result_from_saved

        with reading_saved(None, "segment result"):
            return segment_result_from_saved(saved)


def _extrapolation_warnings(data: SurvivalCounts, segment: str | None) -> list[Problem]:
    where = f"segment {segment!r}: " if segment is not None else ""
    problems = []
    if data.n_events < MIN_EVENTS:
        problems.append(Problem(
            f"{where}only {data.n_events:g} churn events (fewer than {MIN_EVENTS}); the fitted curve "
            "and its extrapolation are poorly determined",
            "merge small segments (segments.min_customers) or treat its projections as indicative",
            field="segments", severity="warning",
        ))
    if data.max_observed_tenure < MIN_WINDOW_MONTHS:
        problems.append(Problem(
            f"{where}the longest observed tenure is {data.max_observed_tenure} months (under "
            f"{MIN_WINDOW_MONTHS}); extrapolating beyond it is guesswork",
            "use a longer history or a shorter horizon", field="data", severity="warning",
        ))
    return problems


def _holdout_split(durations, events, signup_offsets, holdout_months, window_end):
    """Data known at the cutoff, and the customers active at the cutoff for scoring."""
    s = np.asarray(signup_offsets, dtype=np.int64)
    d = np.asarray(durations, dtype=np.int64)
    e = np.asarray(events).astype(bool)
    if s.shape != d.shape:
        raise DataError(Problem(
            f"signup_offsets has shape {s.shape} but durations {d.shape}",
            "pass one signup month offset per customer", field="signup_offsets",
        ))
    end = int(window_end) if window_end is not None else int((s + d).max())
    cutoff = end - int(holdout_months)
    before = s < cutoff
    if not before.any():
        raise FitError(Problem(
            f"no customer signed up before the holdout cutoff (month {cutoff})",
            "use fewer holdout_months", field="retention.holdout_months",
        ))
    known = np.minimum(d, cutoff - s)
    churned_by_cutoff = e & (d <= cutoff - s)
    active_at_cutoff = before & (d > cutoff - s)
    return (known[before], churned_by_cutoff[before], s[before], d, e, s, active_at_cutoff, cutoff, end)


def _score_holdout(fit: RetentionFit, d, e, s, active, cutoff, end, holdout_months) -> tuple[float, float]:
    age = (cutoff - s[active]).astype(np.int64)
    dur = d[active]
    churn = e[active]
    last = int(max(dur.max(initial=0), (end - s[active]).max(initial=0))) + 1
    curve = fit.survival(np.arange(last + 1))
    s_age = curve[age]
    prob = np.where(churn, curve[np.maximum(dur - 1, 0)] - curve[dur], curve[dur]) / s_age
    log_likelihood = float(np.mean(np.log(np.maximum(prob, 1e-300))))
    errors = []
    for k in range(1, int(holdout_months) + 1):
        observed_cover = (end - s[active]) >= age + k
        if not observed_cover.any():
            continue
        predicted = np.mean(curve[age[observed_cover] + k] / s_age[observed_cover])
        # active after a + k months: T > a + k; a customer still active at the end of the
        # window has T > duration, so duration >= a + k suffices
        horizon = age[observed_cover] + k
        observed = np.mean(np.where(churn[observed_cover], dur[observed_cover] > horizon,
                                    dur[observed_cover] >= horizon))
        errors.append(abs(predicted - observed))
    return log_likelihood, float(np.mean(errors)) if errors else float("nan")


def _fit_candidates(families, data, options):
    fits: dict[str, RetentionFit] = {}
    failures: dict[str, str] = {}
    for family in families:
        try:
            fits[family] = _fit_counts(family, data, dict(options))
        except SimcoreError as error:
            failures[family] = "; ".join(p.message for p in error.problems)
    return fits, failures


def fit_segment(
    durations,
    events,
    weights=None,
    *,
    family: str = "auto",
    criterion: str = "aic",
    candidates: Sequence[str] | None = None,
    km_tail: str | None = None,
    breakpoints: Sequence[float] | None = None,
    likelihood: str = "interval",
    signup_offsets=None,
    holdout_months: int | None = None,
    window_end: int | None = None,
    segment: str | None = None,
) -> SegmentResult:
    """Fit, rank and choose a survival family for one segment.

    Parameters
    ----------
    durations, events, weights
        Survival data as in :func:`simcore.retention.fit_family`.
    family : str
        ``"auto"`` ranks ``candidates`` (default: every parametric family); a family name
        fits only that one (``"kaplan_meier"`` included, with ``km_tail``).
    criterion : {"aic", "bic", "holdout"}
        Ranking criterion; ``"holdout"`` needs ``signup_offsets`` and ``holdout_months``.
    candidates : sequence of str, optional
        Families considered by ``"auto"``.
    km_tail : str, optional
        Parametric family that extrapolates Kaplan-Meier past the observed window. Without
        it, a Kaplan-Meier fit refuses to project past its data.
    breakpoints : sequence of float, optional
        Piecewise-exponential breakpoints, months.
    likelihood : {"interval", "continuous"}
        How lifelines families treat monthly churn (see :mod:`simcore.retention.fit`).
    signup_offsets : array-like of int, shape (n,), optional
        Signup month of each row on a fixed origin (whole months); rows must be one
        customer each (no weights) for the holdout check.
    holdout_months : int, optional
        Length of the holdout at the end of the window (see module notes).
    window_end : int, optional
        Month offset of the end of observation; default ``max(signup + duration)``.
    segment : str, optional
        Name used in warnings.

    Returns
    -------
    SegmentResult
    """
    if criterion not in CRITERIA:
        raise FitError(Problem(
            f"unknown criterion {criterion!r}", "choose one of " + ", ".join(CRITERIA),
            field="retention.criterion",
        ))
    data = aggregate_survival(durations, events, weights, source=segment)
    options: dict = {"likelihood": likelihood}
    if breakpoints is not None:
        options["breakpoints"] = tuple(breakpoints)
    if family == "auto":
        families = tuple(candidates) if candidates is not None else AUTO_FAMILIES
        bad = [f for f in families if f not in PARAMETRIC_FAMILIES]
        if bad:
            raise FitError(Problem(
                f"candidates {bad} are not parametric families",
                "choose among " + ", ".join(PARAMETRIC_FAMILIES), field="retention.candidates",
            ))
    else:
        families = (family,)
    warnings_: list[Problem] = _extrapolation_warnings(data, segment)

    km_options = dict(options)
    if km_tail is not None:
        km_options["km_tail"] = km_tail
    kaplan_meier = _fit_counts(KAPLAN_MEIER, data, km_options)

    ranked_families = tuple(f for f in families if f != KAPLAN_MEIER)
    fits, failures = _fit_candidates(ranked_families, data, options)
    if family == KAPLAN_MEIER:
        fits[KAPLAN_MEIER] = kaplan_meier

    holdout = None
    if holdout_months is not None:
        if signup_offsets is None or weights is not None:
            raise FitError(Problem(
                "the holdout check needs one row per customer with signup_offsets",
                "pass signup_offsets and no weights, or drop holdout_months",
                field="retention.holdout_months",
            ))
        known_d, known_e, _, d, e, s, active, cutoff, end = _holdout_split(
            durations, events, signup_offsets, holdout_months, window_end
        )
        known = aggregate_survival(known_d, known_e, source=segment)
        rows = []
        for name in list(fits):
            try:
                early = _fit_counts(name, known, dict(km_options if name == KAPLAN_MEIER else options))
                ll, err = _score_holdout(early, d, e, s, active, cutoff, end, holdout_months)
            except SimcoreError as error:
                ll, err = float("nan"), float("nan")
                failures.setdefault(name, "holdout: " + "; ".join(p.message for p in error.problems))
            rows.append({"family": name, "holdout_log_likelihood": ll, "holdout_active_error": err,
                         "n_holdout_customers": int(active.sum())})
        holdout = pd.DataFrame(rows, columns=["family", "holdout_log_likelihood", "holdout_active_error",
                                              "n_holdout_customers"])

    ranking = _ranking_table(fits, failures, criterion, holdout)
    ranked = ranking.dropna(subset=["rank"])
    if ranked.empty:
        raise FitError(Problem(
            f"{'segment ' + repr(segment) + ': ' if segment else ''}no family could be fitted: "
            + "; ".join(f"{k}: {v}" for k, v in failures.items()),
            "check that the segment has churn events, or merge it with another segment",
            field="retention.family",
        ))
    chosen = fits[ranked.iloc[0]["family"]]
    if family == KAPLAN_MEIER:
        chosen = kaplan_meier
    warnings_ = warnings_ + list(chosen.warnings)
    return SegmentResult(segment, chosen, ranking, kaplan_meier, dict(fits), criterion, holdout,
                         tuple(warnings_))


def _ranking_table(fits, failures, criterion, holdout) -> pd.DataFrame:
    rows = []
    for name, fit in fits.items():
        rows.append({"family": name, "log_likelihood": fit.log_likelihood, "n_parameters": len(fit.params),
                     "aic": fit.aic, "bic": fit.bic, "error": None})
    for name, reason in failures.items():
        if name not in fits:
            rows.append({"family": name, "log_likelihood": np.nan, "n_parameters": np.nan,
                         "aic": np.nan, "bic": np.nan, "error": reason})
    table = pd.DataFrame(rows, columns=["family", "log_likelihood", "n_parameters", "aic", "bic", "error"])
    if holdout is not None:
        table = table.merge(holdout, on="family", how="left")
        score = -table["holdout_log_likelihood"] if criterion == "holdout" else table[criterion]
    else:
        if criterion == "holdout":
            raise FitError(Problem(
                "criterion 'holdout' needs holdout_months and signup_offsets",
                "pass them, or use criterion 'aic' or 'bic'", field="retention.criterion",
            ))
        score = table[criterion]
    if table["family"].eq(KAPLAN_MEIER).all():
        score = pd.Series(0.0, index=table.index)
    order_key = score.where(np.isfinite(score))
    table["delta"] = order_key - order_key.min()
    table["rank"] = order_key.rank(method="first")
    return table.sort_values(["rank", "family"], na_position="last").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class SegmentFits:
    """Per-segment retention results of :func:`fit_segments`.

    Attributes
    ----------
    results : mapping of segment -> SegmentResult
    failures : mapping of segment -> FitError
        Segments where no family could be fitted.
    """

    results: Mapping[str, SegmentResult]
    failures: Mapping[str, SimcoreError] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        out = [p for r in self.results.values() for p in r.warnings]
        out += [p for error in self.failures.values() for p in error.problems]
        return tuple(out)

    def __getitem__(self, segment: str) -> SegmentResult:
        return self.results[segment]

    def summary_table(self) -> pd.DataFrame:
        """One row per segment.

        Columns: segment, family, ranking (families best first, with the criterion gap),
        parameters ("name=estimate [lower, upper]" joined by "; "), median_lifetime_months,
        S_12, S_24, S_60 (NaN where Kaplan-Meier has no tail), n_customers, n_events,
        max_observed_tenure, log_likelihood, aic, bic, n_warnings.
        """
        rows = []
        for segment, result in self.results.items():
            fit = result.fit
            ranked = result.ranking.dropna(subset=["rank"])
            ranking = " < ".join(f"{r.family} (+{r.delta:.1f})" if r.delta > 0 else r.family
                                 for r in ranked.itertuples())
            params = "; ".join(
                f"{r.parameter}={r.estimate:.4g} [{r.lower_95:.4g}, {r.upper_95:.4g}]"
                for r in fit.summary.itertuples()
            ) if fit.family != KAPLAN_MEIER else "non-parametric"
            row = {"segment": segment, "family": fit.family, "ranking": ranking, "parameters": params,
                   "median_lifetime_months": fit.median_lifetime}
            for month in (12, 24, 60):
                try:
                    row[f"S_{month}"] = float(fit.survival([month])[0])
                except FitError:
                    row[f"S_{month}"] = float("nan")
            row.update({"n_customers": fit.n_customers, "n_events": fit.n_events,
                        "max_observed_tenure": fit.max_observed_tenure, "log_likelihood": fit.log_likelihood,
                        "aic": fit.aic, "bic": fit.bic, "n_warnings": len(result.warnings)})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        """JSON-ready dict: segment -> :meth:`SegmentResult.to_dict`, plus failures."""
        return {
            "segments": {segment: result.to_dict() for segment, result in self.results.items()},
            "failures": {segment: [p.format() for p in error.problems] for segment, error in self.failures.items()},
        }

    def to_saved(self) -> dict:
        """Every segment's :meth:`SegmentResult.to_saved`, and the failures (error class
        and problems), as plain JSON values; :func:`simcore.retention.save_fits` writes it."""
        from simcore.retention.saved import encoding_saved, segment_fits_to_saved

        return encoding_saved(lambda: segment_fits_to_saved(self))

    @classmethod
    def from_saved(cls, saved: dict) -> "SegmentFits":
        """Rebuild from :meth:`to_saved` without refitting (only chosen fits are kept).

        Raises
        ------
        FitError
            ``saved`` is not saved segment fits or is corrupt.
        """
        from simcore.retention.saved import reading_saved, segment_fits_from_saved

        with reading_saved(None, "segment fits"):
            return segment_fits_from_saved(saved)


def fit_segments(
    frame: pd.DataFrame,
    segment_col: str = "segment",
    duration_col: str = "tenure_months",
    event_col: str = "churned",
    *,
    family: str = "auto",
    weight_col: str | None = None,
    signup_offset_col: str | None = None,
    raise_on_failure: bool = True,
    **options,
) -> SegmentFits:
    """Fit :func:`fit_segment` on every segment of a customer table.

    Parameters
    ----------
    frame : DataFrame
        One row per customer (or per group with ``weight_col``).
    segment_col, duration_col, event_col : str
        Column names (CustomerBook canonical names by default).
    family : str
        As in :func:`fit_segment`.
    weight_col : str, optional
        Frequency weights column.
    signup_offset_col : str, optional
        Integer signup month offsets for the holdout check (with ``holdout_months``).
    raise_on_failure : bool
        Raise a :class:`FitError` listing every segment that could not be fitted (default);
        otherwise keep them in ``SegmentFits.failures``.
    **options
        Passed to :func:`fit_segment` (criterion, candidates, km_tail, breakpoints,
        holdout_months, window_end).
    """
    missing = [c for c in (segment_col, duration_col, event_col, weight_col, signup_offset_col)
               if c is not None and c not in frame.columns]
    if missing:
        raise DataError(Problem(
            f"columns {missing} are missing", "available columns: " + ", ".join(map(str, frame.columns)),
            field=missing[0],
        ))
    results: dict[str, SegmentResult] = {}
    failures: dict[str, SimcoreError] = {}
    for segment, group in frame.groupby(segment_col, sort=True, observed=True):
        name = str(segment)
        try:
            results[name] = fit_segment(
                group[duration_col].to_numpy(),
                group[event_col].to_numpy(),
                None if weight_col is None else group[weight_col].to_numpy(),
                family=family,
                signup_offsets=None if signup_offset_col is None else group[signup_offset_col].to_numpy(),
                segment=name,
                **options,
            )
        except (FitError, DataError) as error:
            failures[name] = error
    if failures and raise_on_failure:
        problems = [p for error in failures.values() for p in error.problems]
        raise FitError(problems)
    return SegmentFits(results, failures)


__all__ = ["SegmentResult", "SegmentFits", "fit_segment", "fit_segments", "MIN_EVENTS", "MIN_WINDOW_MONTHS"]
