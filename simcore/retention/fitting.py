"""Fitting one family: options checked and resolved, then the family's backend.

Data are first collapsed to unique ``(duration, event)`` rows with customer counts
(:func:`simcore.retention.counts.aggregate_survival`), so the cost of a fit does not grow
with the number of customers; counts are frequency weights, so point estimates *and*
standard errors equal those of a fit on one row per customer (tested on lifelines' Rossi
data set).
"""

from __future__ import annotations

from simcore.errors import FitError, Problem
from simcore.retention.counts import SurvivalCounts, aggregate_survival
from simcore.retention.families import DEFAULT_BREAKPOINTS
from simcore.retention.grid_fit import fit_parametric
from simcore.retention.kaplan_meier import fit_kaplan_meier
from simcore.retention.names import ALL_FAMILIES, KAPLAN_MEIER, PARAMETRIC_FAMILIES, choices_text
from simcore.retention.records import RetentionFit

#: Options :func:`fit_family` accepts.
OPTIONS = ("breakpoints", "km_tail")


def resolve_breakpoints(data: SurvivalCounts, breakpoints) -> tuple[float, ...]:
    """Sorted piecewise breakpoints, checked against the observed window.

    Without ``breakpoints``, those of :data:`DEFAULT_BREAKPOINTS` inside the window.

    Raises
    ------
    FitError
        None left, one <= 0, or one at or past the longest observed tenure.
    """
    if breakpoints is None:
        breakpoints = [b for b in DEFAULT_BREAKPOINTS if b < data.max_observed_tenure]
    breakpoints = tuple(sorted(float(b) for b in breakpoints))
    if not breakpoints or breakpoints[0] <= 0:
        raise FitError(Problem(
            "piecewise_exponential needs at least one breakpoint, all > 0 months "
            f"(longest observed tenure: {data.max_observed_tenure} months)",
            "pass breakpoints=[...] inside the observed window, or use another family",
            field="retention.breakpoints_months",
        ))
    if breakpoints[-1] >= data.max_observed_tenure:
        raise FitError(Problem(
            f"breakpoint {breakpoints[-1]:g} is at or past the longest observed tenure "
            f"({data.max_observed_tenure} months), so the hazard after it cannot be estimated",
            "keep breakpoints inside the observed window", field="retention.breakpoints_months",
        ))
    return breakpoints


def fit_counts(family: str, data: SurvivalCounts, *, breakpoints=None, km_tail: str | None = None) -> RetentionFit:
    """:func:`fit_family` on data already aggregated."""
    if family == KAPLAN_MEIER:
        tail = None
        if km_tail is not None:
            if km_tail not in PARAMETRIC_FAMILIES:
                raise FitError(Problem(
                    f"km_tail {km_tail!r} is not a parametric family",
                    "choose one of " + choices_text(PARAMETRIC_FAMILIES), field="retention.km_tail",
                ))
            tail = fit_counts(km_tail, data, breakpoints=breakpoints)
        return fit_kaplan_meier(data, tail)
    if family not in PARAMETRIC_FAMILIES:
        raise FitError(Problem(
            f"unknown retention family {family!r}",
            "choose one of " + choices_text(ALL_FAMILIES) + " (or 'auto' in fit_segment)",
            field="retention.family",
        ))
    options = {}
    if family == "piecewise_exponential":
        options["breakpoints"] = resolve_breakpoints(data, breakpoints)
    return fit_parametric(family, data, options)


def fit_family(durations, events, weights=None, *, family: str, **options) -> RetentionFit:
    """Fit one survival family to (durations, events, weights) on aggregated data.

    Parameters
    ----------
    durations : array-like, shape (n,)
        Tenure in whole months (churned: lifetime ``T >= 1``; active: ``T > duration``).
    events : array-like of bool or {0, 1}, shape (n,)
        1 if churned.
    weights : array-like, shape (n,), optional
        Frequency weights (customers per row). Data are collapsed to unique
        ``(duration, event)`` rows first, so passing raw rows or pre-aggregated rows gives
        the same fit.
    family : str
        One of :data:`simcore.retention.names.ALL_FAMILIES`: ``"exponential"``,
        ``"weibull"``, ``"lognormal"``, ``"loglogistic"``, ``"generalized_gamma"``,
        ``"piecewise_exponential"``, ``"cure_weibull"`` (a fraction never churns, the rest
        Weibull), ``"sbg"`` (shifted-beta-geometric) or ``"kaplan_meier"``.
    **options
        ``breakpoints`` (months, piecewise exponential; default those of 3, 6, 12, 24
        inside the observed window); ``km_tail`` (a parametric family extrapolating a
        Kaplan-Meier curve past the observed window).

    Returns
    -------
    RetentionFit
        A :class:`~simcore.retention.records.ParametricFit` or a
        :class:`~simcore.retention.kaplan_meier.KaplanMeierFit`.

    Raises
    ------
    DataError
        Invalid survival data.
    FitError
        Unknown family or option, no events, or the search failed.
    """
    if family not in ALL_FAMILIES:
        raise FitError(Problem(
            f"unknown retention family {family!r}",
            "choose one of " + choices_text(ALL_FAMILIES) + " (or 'auto' in fit_segment)",
            field="retention.family",
        ))
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise FitError(Problem(
            f"unknown retention options {sorted(unknown)}", "valid options: " + ", ".join(OPTIONS),
            field="retention",
        ))
    data = aggregate_survival(durations, events, weights)
    return fit_counts(family, data, **options)
