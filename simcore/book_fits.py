"""Fitting a segmented book's retention: the per-segment settings and the holdout inputs
the configuration asks for (:meth:`simcore.Project.fit` goes through here)."""

from __future__ import annotations

import pandas as pd

from simcore.config import Config
from simcore.errors import ConfigError, FitError, Problem
from simcore.results import SegmentedBook


def fit_book_segments(config: Config, book: SegmentedBook):
    """Fit every segment of ``book`` with ``config.retention``; all segments' problems in
    one :class:`~simcore.errors.FitError`.

    Returns
    -------
    SegmentFits
    """
    from simcore.retention import SegmentFits, fit_segment

    customers = book.customers
    holdout = _holdout_columns(config, book)
    results, problems = {}, []
    for segment, group in customers.groupby("segment", sort=True):
        options = _fit_options(config, str(segment))
        if holdout is not None:
            options.update(signup_offsets=holdout[0][group.index], holdout_months=holdout[2],
                           window_end=holdout[1])
        # A book counted in quarters or years is fitted in its own periods (simcore.periods).
        tenure = group["tenure_periods"] if "tenure_periods" in group.columns else group["tenure_months"]
        try:
            results[str(segment)] = fit_segment(tenure.to_numpy(), group["churned"].to_numpy(),
                                                segment=str(segment), **options)
        except FitError as error:
            problems.extend(error.problems)
    if problems:
        raise FitError(problems)
    return SegmentFits(results)


def _fit_options(config: Config, segment: str) -> dict:
    retention = config.retention
    override = retention.segments.get(segment)
    family = override.family if override is not None and override.family is not None else retention.family
    options = {"family": family, "criterion": retention.criterion, "breakpoints": retention.breakpoints_months,
               "uncertainty": retention.uncertainty, "model_averaging": retention.model_averaging}
    if retention.km_tail is not None:
        options["km_tail"] = retention.km_tail
    return options


def _holdout_columns(config: Config, book: SegmentedBook):
    """Signup month offsets (aligned with the customers), the as_of month offset and the
    holdout length for the holdout check; ``None`` when there is no holdout.

    ``holdout_months: auto`` is :data:`~simcore.retention.names.AUTO_HOLDOUT_MONTHS` on a
    monthly book with signup dates observed for at least
    :data:`~simcore.retention.names.AUTO_HOLDOUT_MIN_WINDOW_MONTHS` (or shorter when the
    criterion or the model averaging needs a holdout), no holdout otherwise, nor when
    nothing reads its scores (criterion aic or bic with model averaging none or akaike).
    """
    from simcore.retention.names import AUTO_HOLDOUT_MIN_WINDOW_MONTHS, AUTO_HOLDOUT_MONTHS

    retention = config.retention
    months = retention.holdout_months
    if months is None:
        return None
    automatic = months == "auto"
    needed = retention.criterion == "holdout" or retention.model_averaging in ("stacking", "tail_stacking")
    if automatic and not needed and retention.model_averaging != "auto":
        return None  # nothing would read the holdout scores
    customers = book.customers
    dated = "signup_date" in customers.columns and book.book.as_of is not None and len(customers) > 0
    if not dated:
        if automatic and not needed:
            return None
        raise ConfigError(Problem(
            "the holdout check needs signup dates, and this book has tenures only",
            "remove retention.holdout_months, or use a date-shaped book" if not automatic else
            "use a date-shaped book, or criterion aic and model_averaging auto or akaike", source=config.source,
            field="retention.holdout_months", line=config.line_of("retention", "holdout_months"),
        ))
    if automatic and book.book.period != "month":
        return None
    signup = customers["signup_date"]
    origin = signup.min()
    offsets = (signup.dt.year - origin.year) * 12 + (signup.dt.month - origin.month)
    as_of = pd.Timestamp(book.book.as_of)
    window_end = int((as_of.year - origin.year) * 12 + (as_of.month - origin.month))
    if automatic:
        if window_end < AUTO_HOLDOUT_MIN_WINDOW_MONTHS and not needed:
            return None
        months = AUTO_HOLDOUT_MONTHS
    return offsets.astype("int64"), window_end, int(months)
