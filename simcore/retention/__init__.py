"""Retention: survival models per segment, their uncertainty, and revenue retention.

Importing this package is cheap: it imports nothing until a name is used, so the CLI can
read the family names (:mod:`simcore.retention.names`) without numpy, pandas or scipy.

Main entry points
-----------------
fit_family
    One family on (durations, events, weights) -> a :class:`RetentionFit`
    (:class:`ParametricFit` or :class:`KaplanMeierFit`).
fit_segment, fit_segments
    Rank families by AIC/BIC (optionally a holdout check), weigh them for model
    averaging, check each fit's parameter uncertainty, warn when data cannot support
    extrapolation, and summarise per segment.
SegmentResult.survival_model
    What the simulation engine draws survival curves from (:class:`SurvivalModel`).
discounted_expected_lifetime, discounted_expected_residual_lifetime
    DEL / DERL of Fader & Hardie (2010) by summation for any fit; the sBG closed forms are
    in :mod:`simcore.retention.sbg`.
save_fits, load_fits
    Write per-segment fits to JSON and read them back exactly, without refitting.

Modules, each importing only modules before it
-----------------------------------------------
names (family declarations; pure Python), counts (aggregation), start (start points),
families (closed forms: the registry), likelihood (monthly-grid likelihood), bootstrap
(batched refits), conditioning (is the asymptotic approximation usable?), records
(RetentionFit, ParametricFit), grid_fit (scipy maximum likelihood), kaplan_meier
(KaplanMeierFit), fitting (fit_family), holdout, averaging (weights, SurvivalModel),
selection (fit_segment), saved (file format); lifetime and sbg stand apart. Revenue
retention is :mod:`simcore.revenue`; the fit plot is in :mod:`simcore.outputs.plots`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simcore._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simcore.retention.averaging import SurvivalModel
    from simcore.retention.counts import SurvivalCounts, aggregate_survival
    from simcore.retention.fitting import fit_family
    from simcore.retention.kaplan_meier import KaplanMeierFit
    from simcore.retention.records import ParametricFit, RetentionFit
    from simcore.retention.saved import load_fits, save_fits
    from simcore.retention.selection import SegmentFits, SegmentResult, fit_segment, fit_segments

_LAZY = {
    "ALL_FAMILIES": "simcore.retention.names",
    "AUTO_FAMILIES": "simcore.retention.names",
    "FAMILIES": "simcore.retention.names",
    "FAMILY_CHOICES": "simcore.retention.names",
    "KAPLAN_MEIER": "simcore.retention.names",
    "MODEL_AVERAGING_METHODS": "simcore.retention.names",
    "PARAMETRIC_FAMILIES": "simcore.retention.names",
    "UNCERTAINTY_METHODS": "simcore.retention.names",
    "SurvivalCounts": "simcore.retention.counts",
    "aggregate_survival": "simcore.retention.counts",
    "RetentionFit": "simcore.retention.records",
    "ParametricFit": "simcore.retention.records",
    "KaplanMeierFit": "simcore.retention.kaplan_meier",
    "fit_family": "simcore.retention.fitting",
    "SurvivalModel": "simcore.retention.averaging",
    "MIN_EVENTS": "simcore.retention.selection",
    "MIN_WINDOW_MONTHS": "simcore.retention.selection",
    "SegmentFits": "simcore.retention.selection",
    "SegmentResult": "simcore.retention.selection",
    "fit_segment": "simcore.retention.selection",
    "fit_segments": "simcore.retention.selection",
    "load_fits": "simcore.retention.saved",
    "save_fits": "simcore.retention.saved",
    "discounted_expected_lifetime": "simcore.retention.lifetime",
    "discounted_expected_residual_lifetime": "simcore.retention.lifetime",
    "residual_value_at_tenure": "simcore.retention.lifetime",
    "sbg_discounted_expected_lifetime": "simcore.retention.sbg",
    "sbg_discounted_expected_residual_lifetime": "simcore.retention.sbg",
    "sbg_log_likelihood": "simcore.retention.sbg",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
