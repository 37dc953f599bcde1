"""Choosing and weighing survival families per segment, with warnings and a holdout check.

Ranking
    Every candidate parametric family is fitted on the segment's aggregated data and ranked
    by AIC or BIC computed on the monthly-grid log-likelihood (comparable across discrete
    and continuous families; see :mod:`simcore.retention.likelihood`). Kaplan-Meier is
    always fitted too (for plots and checks) but never ranked. A family that fails to fit
    stays in the ranking table with its reason and is skipped.

Weights and uncertainty
    The ranking table carries every family's Akaike weight (and stacking weight with a
    holdout) and the ``weight`` the segment's survival model uses
    (:mod:`simcore.retention.averaging`). Every family with a positive weight gets its
    bootstrap pool and the full conditioning check (:mod:`simcore.retention.conditioning`);
    with ``uncertainty="auto"`` an ill-conditioned one is drawn from its pool, with a
    warning naming the segment and the family.

Extrapolation warnings (severity "warning")
    * fewer than :data:`MIN_EVENTS` (30) churn events: parameter uncertainty is large and
      the tail shape is barely identified;
    * a longest observed tenure under :data:`MIN_WINDOW_MONTHS` (12): a year of history is
      the least that shows whether the hazard falls with tenure, and projections run for
      years.

Holdout check
    With signup months and ``holdout_months``, every family is refitted on what was known
    ``holdout_months`` before the end of the window and scored on what happened next
    (:mod:`simcore.retention.holdout`). ``criterion="holdout"`` ranks by the holdout
    log-likelihood (then uses the chosen family fitted on all data); stacking weights
    come from the same probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from simcore.errors import DataError, FitError, Problem, SimcoreError
from simcore.retention.averaging import (
    SurvivalModel,
    akaike_weights,
    check_methods,
    model_weights,
    resolve_averaging,
    stacking_weights,
)
from simcore.retention.counts import SurvivalCounts, aggregate_survival
from simcore.retention.fitting import fit_counts
from simcore.retention.holdout import HOLDOUT_COLUMNS, holdout_table
from simcore.retention.kaplan_meier import KaplanMeierFit
from simcore.retention.names import (
    AUTO_FAMILIES,
    CRITERIA,
    DEFAULT_MODEL_AVERAGING,
    MODEL_AVERAGING_CHOICES,
    KAPLAN_MEIER,
    PARAMETRIC_FAMILIES,
    choices_text,
    label,
)
from simcore.retention.records import ParametricFit, RetentionFit

#: Fewer churn events than this triggers an extrapolation warning.
MIN_EVENTS = 30
#: A longest observed tenure (months) shorter than this triggers an extrapolation warning.
MIN_WINDOW_MONTHS = 12
#: More failed bootstrap refits than this share of the resamples triggers a warning.
MAX_FAILED_REFITS = 0.1

#: Columns of the ranking table and their dtypes (the saved format rebuilds it from this).
RANKING_COLUMNS = {
    "family": "object", "log_likelihood": "float64", "n_parameters": "float64", "aic": "float64",
    "bic": "float64", "error": "object", "delta": "float64", "rank": "float64",
    "akaike_weight": "float64", "stacking_weight": "float64", "weight": "float64", "uncertainty": "object",
}


@dataclass(frozen=True, eq=False)
class SegmentResult:
    """Fitted retention of one segment.

    Attributes
    ----------
    segment : str or None
    fit : RetentionFit
        The chosen fit (best by the criterion).
    ranking : DataFrame
        One row per candidate: family, log_likelihood, n_parameters, aic, bic, error,
        (holdout columns), delta (criterion minus the best), rank (1 = chosen; NaN for
        failures), akaike_weight, stacking_weight (NaN without a holdout), weight (used
        by :meth:`survival_model`), uncertainty (how the family's parameters are drawn).
    kaplan_meier : KaplanMeierFit
        Non-parametric curve of the same data (for plots and comparisons).
    fits : mapping of family -> RetentionFit
        Every candidate that fitted.
    criterion : str
    holdout : DataFrame or None
        Per family: holdout_log_likelihood, holdout_active_error, n_holdout_customers,
        n_holdout_churns.
    warnings : tuple of Problem
    uncertainty : str
        ``"auto"``, ``"asymptotic"`` or ``"bootstrap"``: how parameters are drawn.
    model_averaging : str
        ``"none"``, ``"akaike"`` or ``"stacking"``: how :attr:`weights` were made.
    """

    segment: str | None
    fit: RetentionFit
    ranking: pd.DataFrame
    kaplan_meier: KaplanMeierFit
    fits: Mapping[str, RetentionFit]
    criterion: str
    holdout: pd.DataFrame | None = None
    warnings: tuple[Problem, ...] = ()
    uncertainty: str = "auto"
    model_averaging: str = "none"

    @property
    def weights(self) -> pd.Series:
        """Weight of each family in :meth:`survival_model` (index: family; sums to 1)."""
        table = self.ranking.set_index("family")["weight"]
        return table[table > 0].astype(float)

    def survival_model(self, uncertainty: str | None = None, averaging: str | None = None) -> SurvivalModel:
        """What the simulation engine draws this segment's survival curves from.

        Parameters
        ----------
        uncertainty : {"auto", "asymptotic", "bootstrap"}, optional
            Default: the setting the segment was fitted with.
        averaging : {"none", "akaike", "stacking"}, optional
            Default: the setting the segment was fitted with (whose weight column the
            ranking holds). Another setting takes its weights from the ranking's
            ``akaike_weight`` or ``stacking_weight`` column.

        Returns
        -------
        SurvivalModel
            The chosen fit alone, or the weighted families; ``survival_draws(n_draws,
            n_months, seed, method=None)`` draws a family per row, then its parameters.
        """
        uncertainty = self.uncertainty if uncertainty is None else uncertainty
        averaging = self.model_averaging if averaging is None else averaging
        check_methods(uncertainty, averaging)
        if averaging == self.model_averaging:
            weights = self.weights
        else:
            weights = self._weights_of(averaging)
        fits = tuple(self.fits[name] for name in weights.index)
        tail = window = None
        if averaging == "tail_stacking" and self.fit.family != KAPLAN_MEIER:
            stacked = self._weights_of("stacking")
            tail = SurvivalModel(tuple(self.fits[name] for name in stacked.index),
                                 tuple(float(w) for w in stacked), uncertainty, "stacking")
            window = int(self.kaplan_meier.max_observed_tenure)
        return SurvivalModel(fits, tuple(float(w) for w in weights), uncertainty, averaging, tail, window)

    def _weights_of(self, averaging: str) -> pd.Series:
        weights = pd.Series(model_weights(averaging, self.ranking, self.fit.family, self.segment))
        return weights[weights > 0]

    def to_dict(self) -> dict:
        """JSON-ready: the chosen fit, the ranking (with weights) and the warnings."""
        ranking = self.ranking.replace({np.nan: None}).to_dict(orient="records")
        return {
            "segment": self.segment,
            "criterion": self.criterion,
            "uncertainty": self.uncertainty,
            "model_averaging": self.model_averaging,
            "chosen": self.fit.to_dict(),
            "weights": {name: float(w) for name, w in self.weights.items()},
            "ranking": ranking,
            "warnings": [p.format() for p in self.warnings],
        }


def _where(segment: str | None) -> str:
    return f"segment {segment!r}: " if segment is not None else ""


def _extrapolation_warnings(data: SurvivalCounts, segment: str | None) -> list[Problem]:
    problems = []
    if data.n_events < MIN_EVENTS:
        problems.append(Problem(
            f"{_where(segment)}only {data.n_events:g} churn events (fewer than {MIN_EVENTS}); the fitted curve "
            "and its extrapolation are poorly determined",
            "merge small segments (segments.min_customers) or treat its projections as indicative",
            field="segments", severity="warning",
        ))
    if data.max_observed_tenure < MIN_WINDOW_MONTHS:
        problems.append(Problem(
            f"{_where(segment)}the longest observed tenure is {data.max_observed_tenure} months (under "
            f"{MIN_WINDOW_MONTHS}); extrapolating beyond it is guesswork",
            "use a longer history or a shorter horizon", field="data", severity="warning",
        ))
    return problems


def _fit_candidates(families, data, options):
    fits: dict[str, RetentionFit] = {}
    failures: dict[str, str] = {}
    for family in families:
        try:
            fits[family] = fit_counts(family, data, **options)
        except SimcoreError as error:
            failures[family] = "; ".join(p.message for p in error.problems)
    return fits, failures


def _ranking_table(fits, failures, criterion, holdout, probabilities, counts) -> pd.DataFrame:
    rows = []
    for name, fit in fits.items():
        rows.append({"family": name, "log_likelihood": fit.log_likelihood, "n_parameters": len(fit.params),
                     "aic": fit.aic, "bic": fit.bic, "error": None})
    for name, reason in failures.items():
        if name not in fits:
            rows.append({"family": name, "log_likelihood": np.nan, "n_parameters": np.nan,
                         "aic": np.nan, "bic": np.nan, "error": reason})
    table = pd.DataFrame(rows, columns=["family", "log_likelihood", "n_parameters", "aic", "bic", "error"])
    table = table.astype({k: RANKING_COLUMNS[k] for k in table.columns})
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
    akaike = akaike_weights(dict(zip(table["family"], table["aic"].where(table["rank"].notna()))))
    table["akaike_weight"] = table["family"].map(akaike).astype(float)
    if probabilities:
        ranked = table.loc[table["rank"].notna(), "family"]
        stacking = stacking_weights(
            {name: probabilities.get(name, np.full(len(counts), np.nan)) for name in ranked}, counts)
        table["stacking_weight"] = table["family"].map(stacking).fillna(0.0).astype(float)
    else:
        table["stacking_weight"] = np.nan
    return table.sort_values(["rank", "family"], na_position="last").reset_index(drop=True)


def _conditioning_warning(fit: ParametricFit, weight: float, uncertainty: str, segment) -> Problem:
    share = f" (weight {weight:.0%} in the model average)" if weight < 1 else ""
    reasons = "; ".join(fit.conditioning.reasons)
    if uncertainty == "auto":
        done = ("its parameter draws use a bootstrap of the aggregated (tenure, churned) counts "
                f"({len(fit.bootstrap_pool().params)} refits) instead of the asymptotic normal approximation")
        hint = "the bootstrap is the safe choice here; compare families in the ranking table if the curve matters"
    else:
        done = "its asymptotic parameter draws are kept because retention.uncertainty is 'asymptotic'"
        hint = "set retention.uncertainty to auto (or bootstrap) to draw from a bootstrap instead"
    return Problem(
        f"{_where(segment)}the {label(fit.family)} fit{share} has ill-conditioned parameter uncertainty "
        f"({reasons}); {done}",
        hint, field="retention.uncertainty", severity="warning",
    )


def _checked(fit: ParametricFit, weight: float, uncertainty: str, segment, warnings_: list) -> ParametricFit:
    """``fit`` with its bootstrap pool and band check (unless draws are asymptotic by
    setting), and the warnings its draws deserve appended to ``warnings_``."""
    if uncertainty != "asymptotic":
        fit = fit.with_bootstrap()
    if not fit.conditioning.well_conditioned and uncertainty != "bootstrap":
        warnings_.append(_conditioning_warning(fit, weight, uncertainty, segment))
    pool = fit.bootstrap
    drawn_from_pool = uncertainty == "bootstrap" or (uncertainty == "auto" and fit.uncertainty == "bootstrap")
    if drawn_from_pool and pool is not None and pool.n_failed > MAX_FAILED_REFITS * pool.n_resamples:
        warnings_.append(Problem(
            f"{_where(segment)}{pool.n_failed} of {pool.n_resamples} bootstrap refits of the {label(fit.family)} "
            "fit did not converge or ran off to a boundary and are left out, so its bootstrap understates the "
            "parameter uncertainty",
            "compare with another family in the ranking table", field="retention.uncertainty", severity="warning",
        ))
    return fit


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
    signup_offsets=None,
    holdout_months: int | None = None,
    window_end: int | None = None,
    segment: str | None = None,
    uncertainty: str = "auto",
    model_averaging: str = DEFAULT_MODEL_AVERAGING,
) -> SegmentResult:
    """Fit, rank, weigh and check survival families for one segment.

    Parameters
    ----------
    durations, events, weights
        Survival data as in :func:`simcore.retention.fit_family`.
    family : str
        ``"auto"`` ranks ``candidates`` (default: :data:`simcore.retention.names.AUTO_FAMILIES`);
        a family name fits only that one (``"kaplan_meier"`` included, with ``km_tail``).
    criterion : {"aic", "bic", "holdout"}
        Ranking criterion; ``"holdout"`` needs ``signup_offsets`` and ``holdout_months``.
    candidates : sequence of str, optional
        Families considered by ``"auto"``.
    km_tail : str, optional
        Parametric family that extrapolates Kaplan-Meier past the observed window. Without
        it, a Kaplan-Meier fit refuses to project past its data.
    breakpoints : sequence of float, optional
        Piecewise-exponential breakpoints, months.
    signup_offsets : array-like of int, shape (n,), optional
        Signup month of each row on a fixed origin (whole months); rows must be one
        customer each (no weights) for the holdout check.
    holdout_months : int, optional
        Length of the holdout at the end of the window (see module notes).
    window_end : int, optional
        Month offset of the end of observation; default ``max(signup + duration)``.
    segment : str, optional
        Name used in warnings.
    uncertainty : {"auto", "asymptotic", "bootstrap"}
        How the survival model draws parameters (see :mod:`simcore.retention.conditioning`).
    model_averaging : {"auto", "none", "akaike", "stacking"}
        How the survival model mixes families (see :mod:`simcore.retention.averaging`);
        ``"stacking"`` needs the holdout; ``"auto"`` is stacking when the holdout saw at
        least :data:`~simcore.retention.names.STACKING_MIN_HOLDOUT_CHURNS` churns and
        Akaike otherwise. The result holds the method used.

    Returns
    -------
    SegmentResult
    """
    if criterion not in CRITERIA:
        raise FitError(Problem(
            f"unknown criterion {criterion!r}", "choose one of " + ", ".join(CRITERIA),
            field="retention.criterion",
        ))
    check_methods(uncertainty, model_averaging, MODEL_AVERAGING_CHOICES)
    if model_averaging in ("stacking", "tail_stacking") and holdout_months is None:
        raise FitError(Problem(
            f"model averaging {model_averaging!r} weighs families by their holdout scores, and no holdout is set",
            "set retention.holdout_months (date-shaped books), or use model_averaging 'akaike' or 'none'",
            field="retention.model_averaging",
        ))
    data = aggregate_survival(durations, events, weights, source=segment)
    options = {} if breakpoints is None else {"breakpoints": tuple(breakpoints)}
    if family == "auto":
        families = tuple(candidates) if candidates is not None else AUTO_FAMILIES
        bad = [f for f in families if f not in PARAMETRIC_FAMILIES]
        if bad:
            raise FitError(Problem(
                f"candidates {bad} are not parametric families",
                "choose among " + choices_text(PARAMETRIC_FAMILIES), field="retention.candidates",
            ))
    else:
        families = (family,)
    warnings_: list[Problem] = _extrapolation_warnings(data, segment)

    kaplan_meier = fit_counts(KAPLAN_MEIER, data, **options, km_tail=km_tail)
    fits, failures = _fit_candidates(tuple(f for f in families if f != KAPLAN_MEIER), data, options)
    if family == KAPLAN_MEIER:
        fits[KAPLAN_MEIER] = kaplan_meier

    holdout, probabilities, counts = None, {}, None
    if holdout_months is not None:
        if signup_offsets is None or weights is not None:
            raise FitError(Problem(
                "the holdout check needs one row per customer with signup_offsets",
                "pass signup_offsets and no weights, or drop holdout_months",
                field="retention.holdout_months",
            ))
        holdout, probabilities, counts = holdout_table(fits, failures, km_tail, options, durations, events,
                                                        signup_offsets, holdout_months, window_end, segment)

    ranking = _ranking_table(fits, failures, criterion, holdout, probabilities, counts)
    ranked = ranking.dropna(subset=["rank"])
    if ranked.empty:
        raise FitError(Problem(
            f"{_where(segment)}no family could be fitted: "
            + "; ".join(f"{k}: {v}" for k, v in failures.items()),
            "check that the segment has churn events, or merge it with another segment",
            field="retention.family",
        ))
    chosen_family = KAPLAN_MEIER if family == KAPLAN_MEIER else ranked.iloc[0]["family"]
    usable_stacking = holdout is not None and ranking["stacking_weight"].notna().any()
    model_averaging = resolve_averaging(
        model_averaging, int(holdout["n_holdout_churns"].iloc[0]) if usable_stacking else None)
    weights = model_weights(model_averaging, ranking, chosen_family, segment)

    # every family the model draws from gets its bootstrap pool and the band check
    if model_averaging == "tail_stacking" and chosen_family != KAPLAN_MEIER:
        tail_weights = model_weights("stacking", ranking, chosen_family, segment)
        drawn = {name: max(weights.get(name, 0.0), tail_weights.get(name, 0.0)) for name in ranking["family"]}
    else:
        drawn = weights
    for name, weight in drawn.items():
        if weight > 0 and isinstance(fits.get(name), ParametricFit):
            fits[name] = _checked(fits[name], weight, uncertainty, segment, warnings_)
    if family == KAPLAN_MEIER and kaplan_meier.tail is not None:
        kaplan_meier = replace(kaplan_meier, tail=_checked(kaplan_meier.tail, 1.0, uncertainty, segment, warnings_))
        fits[KAPLAN_MEIER] = kaplan_meier
    ranking["weight"] = ranking["family"].map(weights).fillna(0.0).astype(float)
    ranking["uncertainty"] = ranking["family"].map(
        lambda name: None if name not in fits else (fits[name].uncertainty if uncertainty == "auto" else uncertainty)
    ).astype(object)
    ranking = ranking[[c for c in _column_order(holdout is not None)]]

    chosen = fits[chosen_family]
    warnings_ = warnings_ + list(chosen.warnings)
    return SegmentResult(segment, chosen, ranking, kaplan_meier, dict(fits), criterion, holdout,
                         tuple(warnings_), uncertainty, model_averaging)


def _weights_text(result: SegmentResult, drawn: pd.DataFrame) -> str:
    """"family weight, ..." of the survival model (and of its tail, with tail_stacking);
    weights under 0.005 are counted, not listed, so every family drawn from is accounted for."""
    text = _listed(drawn.set_index("family")["weight"])
    if result.model_averaging == "tail_stacking":
        # the tail's weights as its draws use them (below MIN_WEIGHT dropped, renormalised)
        text += "; beyond the data: " + _listed(result._weights_of("stacking").sort_values(ascending=False))
    return text


def _listed(weights: pd.Series) -> str:
    """``weights`` (family -> weight > 0) as text, those under 0.005 counted."""
    shown = [f"{family} {weight:.2f}" for family, weight in weights.items() if weight >= 0.005]
    hidden = int((weights < 0.005).sum())
    return ", ".join(shown + ([f"{hidden} more under 0.005"] if hidden else []))


def _column_order(with_holdout: bool) -> list[str]:
    columns = list(RANKING_COLUMNS)
    if with_holdout:
        at = columns.index("error") + 1
        columns[at:at] = [c for c in HOLDOUT_COLUMNS if c != "family"]
    return columns


def ranking_dtypes(with_holdout: bool) -> dict[str, str]:
    """Column -> dtype of a ranking table, in order."""
    return {c: RANKING_COLUMNS.get(c) or HOLDOUT_COLUMNS[c] for c in _column_order(with_holdout)}


def _display_gaps(result: SegmentResult, ranked: pd.DataFrame) -> np.ndarray:
    """Each ranked family's gap to the best, as the ranking text shows it.

    AIC and BIC gaps are shown as they are. The holdout criterion's ``delta`` is a gap in
    *mean* holdout log-likelihood per scored customer, typically a few thousandths, which
    one decimal printed as "+0.0" for every family; twice the gap summed over the scored
    customers (a deviance) is on the AIC scale, where a gap of 2 already means something.
    """
    gaps = ranked["delta"].to_numpy(dtype=float)
    if result.criterion == "holdout" and "n_holdout_customers" in ranked.columns:
        gaps = 2.0 * gaps * ranked["n_holdout_customers"].to_numpy(dtype=float)
    return gaps


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

        Columns: segment, family, ranking (families best first, with the criterion gap;
        for the holdout criterion the gap in holdout deviance, see :func:`_display_gaps`),
        parameters ("name=estimate [lower, upper]" joined by "; "), uncertainty (how the
        drawn families' parameters are drawn: "asymptotic", "bootstrap" or both joined by
        "+"), model_averaging, weights ("family weight" of the survival model, best
        first, weights under 0.5% left out), median_lifetime_months, S_12, S_24, S_60
        (NaN where Kaplan-Meier has no tail), n_customers, n_events,
        max_observed_tenure, log_likelihood, aic, bic, n_warnings.
        """
        rows = []
        for segment, result in self.results.items():
            fit = result.fit
            ranked = result.ranking.dropna(subset=["rank"])
            ranking = " < ".join(f"{r.family} (+{gap:.1f})" if gap > 0 else r.family
                                 for r, gap in zip(ranked.itertuples(), _display_gaps(result, ranked)))
            params = "; ".join(
                f"{r.parameter}={r.estimate:.4g} [{r.lower_95:.4g}, {r.upper_95:.4g}]"
                for r in fit.summary.itertuples()
            ) if fit.family != KAPLAN_MEIER else "non-parametric"
            drawn = result.ranking[result.ranking["weight"] > 0].sort_values("weight", ascending=False)
            methods = list(dict.fromkeys(drawn["uncertainty"].dropna()))
            row = {"segment": segment, "family": fit.family, "ranking": ranking, "parameters": params,
                   "uncertainty": "+".join(methods), "model_averaging": result.model_averaging,
                   "weights": _weights_text(result, drawn),
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
        holdout_months, window_end, uncertainty, model_averaging).
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
