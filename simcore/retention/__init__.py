"""Retention: survival models per segment, their uncertainty, and revenue retention.

Importing this package does not import lifelines or matplotlib; the fitters import them
when a lifelines family is fitted or a plot is drawn.

Main entry points
-----------------
fit_family
    One family on (durations, events, weights) -> :class:`RetentionFit`.
fit_segment, fit_segments
    Rank families by AIC/BIC (optionally a holdout check), warn when data cannot support
    extrapolation, and summarise per segment.
discounted_expected_lifetime, discounted_expected_residual_lifetime
    DEL / DERL of Fader & Hardie (2010) by summation for any fit; the sBG closed forms are
    in :mod:`simcore.retention.sbg`.
revenue_retention, RevenueDynamics
    Expansion, contraction, churned MRR, GRR_12 / NRR_12 and the engine's revenue process.
plot_segment_fit
    Kaplan-Meier with band, fitted and extrapolated curves.
save_fits, load_fits
    Write per-segment fits to JSON and read them back exactly, without refitting
    (:mod:`simcore.retention.saved`).
"""

from simcore.retention.families import ALL_FAMILIES, KAPLAN_MEIER, PARAMETRIC_FAMILIES
from simcore.retention.fit import RetentionFit, SurvivalCounts, aggregate_survival, fit_family
from simcore.retention.lifetime import (
    discounted_expected_lifetime,
    discounted_expected_residual_lifetime,
    residual_value_at_tenure,
)
from simcore.outputs.plots import plot_segment_fit
from simcore.revenue import RevenueDynamics, RevenueRetention, revenue_retention
from simcore.retention.sbg import (
    sbg_discounted_expected_lifetime,
    sbg_discounted_expected_residual_lifetime,
    sbg_log_likelihood,
)
from simcore.retention.saved import load_fits, save_fits
from simcore.retention.selection import (
    MIN_EVENTS,
    MIN_WINDOW_MONTHS,
    SegmentFits,
    SegmentResult,
    fit_segment,
    fit_segments,
)

__all__ = [
    "ALL_FAMILIES",
    "KAPLAN_MEIER",
    "MIN_EVENTS",
    "MIN_WINDOW_MONTHS",
    "PARAMETRIC_FAMILIES",
    "RetentionFit",
    "RevenueDynamics",
    "RevenueRetention",
    "SegmentFits",
    "SegmentResult",
    "SurvivalCounts",
    "aggregate_survival",
    "discounted_expected_lifetime",
    "discounted_expected_residual_lifetime",
    "fit_family",
    "fit_segment",
    "fit_segments",
    "load_fits",
    "plot_segment_fit",
    "residual_value_at_tenure",
    "revenue_retention",
    "save_fits",
    "sbg_discounted_expected_lifetime",
    "sbg_discounted_expected_residual_lifetime",
    "sbg_log_likelihood",
]
