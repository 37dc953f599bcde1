"""The library calls behind each CLI command: load, segment, fit, simulate, write.

Each function takes a validated :class:`simcore.config.Config` and returns data; none
prints. The CLI is a thin shell over these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from simcore.config import Config
from simcore.errors import Problem


@dataclass(frozen=True)
class SegmentedBook:
    """A loaded customer book with its ``segment`` column, and every warning so far."""

    config: Config
    book: "object"  # simcore.data.CustomerBook, imported lazily (pandas-heavy module)
    merged_segments: dict[str, int]
    warnings: tuple[Problem, ...]

    @property
    def customers(self) -> pd.DataFrame:
        return self.book.customers


def load_segmented_book(config: Config) -> SegmentedBook:
    """Load and validate the customer book, then assign segments."""
    from simcore.data import load_book
    from simcore.segments import SEGMENT_COLUMN, assign_segments

    book = load_book(config.data, config.base_dir)
    assignment = assign_segments(book.customers, config.segments, source=book.source)
    customers = book.customers.assign(**{SEGMENT_COLUMN: assignment.labels.to_numpy()})
    book = replace(book, customers=customers)
    return SegmentedBook(
        config=config,
        book=book,
        merged_segments=assignment.merged,
        warnings=tuple(book.warnings) + assignment.warnings,
    )


def segment_report(config: Config) -> tuple[SegmentedBook, pd.DataFrame]:
    """Load, segment and summarise: what ``simcore segments`` shows."""
    from simcore.segments import segment_summary

    segmented = load_segmented_book(config)
    return segmented, segment_summary(segmented.customers)


def write_demo_workspace(directory, *, customers: int | None = None, seed: int | None = None, force: bool = False):
    """Write the example workspace into ``directory`` atomically; returns the file paths."""
    from pathlib import Path

    from simcore.demo import write_demo
    from simcore.outputs import atomic_directory

    options = {k: v for k, v in {"customers": customers, "seed": seed}.items() if v is not None}
    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        write_demo(staging, **options)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class FitReport:
    """Retention fits per segment, revenue retention from the MRR history, warnings."""

    segmented: SegmentedBook
    fits: "object"  # simcore.retention.SegmentFits
    revenue: "object | None"  # simcore.retention.RevenueRetention
    warnings: tuple[Problem, ...]

    def table(self) -> pd.DataFrame:
        """One row per segment: chosen family, AIC/BIC ranking, parameters with 95%
        intervals, median lifetime, S(12), S(24), S(60), and GRR_12 / NRR_12 when the
        book has an MRR history."""
        table = self.fits.summary_table()
        if self.revenue is not None and len(self.revenue.segments):
            revenue = self.revenue.segments[["segment", "grr_12", "nrr_12"]]
            table = table.merge(revenue, on="segment", how="left")
        else:
            table = table.assign(grr_12=float("nan"), nrr_12=float("nan"))
        return table

    def to_json(self) -> dict:
        out = self.fits.to_json()
        if self.revenue is not None:
            out["revenue_retention"] = {
                "segments": self.revenue.segments.to_dict(orient="records"),
                "dynamics": {k: v.to_dict() for k, v in self.revenue.dynamics.items()},
            }
        return out


def _fit_options(config: Config, segment: str) -> dict:
    retention = config.retention
    override = retention.segments.get(segment)
    family = override.family if override is not None and override.family is not None else retention.family
    options = {"family": family, "criterion": retention.criterion, "breakpoints": retention.breakpoints_months}
    if retention.km_tail is not None:
        options["km_tail"] = retention.km_tail
    return options


def _holdout_columns(config: Config, segmented: SegmentedBook):
    """Signup month offsets (a Series aligned with the customers) and the as_of month
    offset, for the holdout check; ``None`` when no holdout is asked for."""
    from simcore.errors import ConfigError

    if config.retention.holdout_months is None:
        return None
    customers = segmented.customers
    if "signup_date" not in customers.columns or segmented.book.as_of is None:
        raise ConfigError(Problem(
            "the holdout check needs signup dates, and this book has tenures only",
            "remove retention.holdout_months or use a date-shaped book", source=config.source,
            field="retention.holdout_months",
        ))
    signup = customers["signup_date"]
    origin = signup.min()
    offsets = (signup.dt.year - origin.year) * 12 + (signup.dt.month - origin.month)
    as_of = pd.Timestamp(segmented.book.as_of)
    return offsets.astype("int64"), int((as_of.year - origin.year) * 12 + (as_of.month - origin.month))


SAVED_FITS = "saved_fits.json"


def fit_metadata(config: Config, segmented: SegmentedBook) -> dict:
    """What a saved fit was made from: checked before the fit is reused."""
    import hashlib
    import json

    from simcore._version import __version__

    settings = {"segments": config.segments.model_dump(mode="json"),
                "retention": config.retention.model_dump(mode="json", exclude={"saved_fits"})}
    return {
        "simcore_version": __version__,
        "data_sha256": segmented.book.data_hash,
        "settings_sha256": hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest(),
        "segments": sorted(segmented.customers["segment"].astype(str).unique()),
    }


def _reuse_fits(config: Config, segmented: SegmentedBook, path):
    """Load saved fits and check they were made from this data with these settings."""
    from simcore.errors import FitError
    from simcore.retention import load_fits

    fits, metadata = load_fits(path)
    expected = fit_metadata(config, segmented)
    problems = []
    hint = "refit (drop the saved fit), or point to the fit made from this data and these settings"
    if metadata.get("data_sha256") != expected["data_sha256"]:
        problems.append(Problem("the saved fit was made from different customer data", hint, source=str(path)))
    if metadata.get("segments") != expected["segments"] or set(fits.results) != set(expected["segments"]):
        problems.append(Problem(
            f"the saved fit has segments {metadata.get('segments')}, the data {expected['segments']}", hint,
            source=str(path)))
    if metadata.get("settings_sha256") != expected["settings_sha256"]:
        problems.append(Problem("the saved fit was made with other segments or retention settings", hint,
                                source=str(path)))
    if problems:
        raise FitError(problems)
    return fits


def fit_book(config: Config, segmented: SegmentedBook | None = None, *, saved_fits=None) -> FitReport:
    """Fit retention per segment (and revenue retention when there is an MRR history).

    ``saved_fits`` (default ``retention.saved_fits`` of the config) names a file written
    by an earlier fit or run; its fits are reused after checking they were made from the
    same data with the same settings.
    """
    segmented = segmented or load_segmented_book(config)
    if saved_fits is None and config.retention.saved_fits is not None:
        saved_fits = config.resolve(config.retention.saved_fits)
    if saved_fits is not None:
        fits = _reuse_fits(config, segmented, saved_fits)
    else:
        fits = _fit_segments(config, segmented)
    return FitReport(segmented, fits, book_revenue(segmented), segmented.warnings + fits.warnings)


def book_revenue(segmented: SegmentedBook):
    """Revenue retention and dynamics per segment from the MRR history, or ``None``."""
    from simcore.retention import revenue_retention

    book = segmented.book
    if book.history is None or not len(book.history):
        return None
    customers = segmented.customers
    columns = [c for c in ("customer_id", "segment", "churned", "churn_date", "signup_date") if c in customers.columns]
    return revenue_retention(book.history, customers[columns], as_of=book.as_of)


def _fit_segments(config: Config, segmented: SegmentedBook):
    from simcore.errors import FitError
    from simcore.retention import SegmentFits, fit_segment

    customers = segmented.customers
    holdout = _holdout_columns(config, segmented)
    results, failures = {}, {}
    for segment, group in customers.groupby("segment", sort=True):
        options = _fit_options(config, str(segment))
        if holdout is not None:
            options.update(signup_offsets=holdout[0][group.index], holdout_months=config.retention.holdout_months,
                           window_end=holdout[1])
        try:
            results[str(segment)] = fit_segment(
                group["tenure_months"].to_numpy(), group["churned"].to_numpy(),
                segment=str(segment), **options,
            )
        except FitError as error:
            failures[str(segment)] = error
    if failures:
        raise FitError([p for error in failures.values() for p in error.problems])
    return SegmentFits(results)


def save_report_fits(report: FitReport, config: Config, path) -> None:
    """Write the fits so a later run can reuse them (``retention.saved_fits`` / ``--fits``)."""
    from simcore.retention import save_fits

    save_fits(report.fits, path, metadata=fit_metadata(config, report.segmented))


def write_fit_outputs(report: FitReport, config: Config, directory, *, force: bool = False) -> list:
    """Write fits.csv, fits.json, ranking.csv, revenue tables, one PNG per segment, and
    saved_fits.json (for reuse by a later run)."""
    import json
    from pathlib import Path

    from simcore.outputs import atomic_directory
    from simcore.retention import plot_segment_fit

    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        report.table().to_csv(staging / "fits.csv", index=False)
        save_report_fits(report, config, staging / SAVED_FITS)
        (staging / "fits.json").write_text(json.dumps(report.to_json(), indent=2, default=_json_default) + "\n")
        rankings = pd.concat(
            [result.ranking.assign(segment=name) for name, result in report.fits.results.items()], ignore_index=True
        )
        rankings.to_csv(staging / "ranking.csv", index=False)
        if report.revenue is not None:
            report.revenue.segments.to_csv(staging / "revenue_retention.csv", index=False)
            report.revenue.cohorts.astype({"cohort": str}).to_csv(staging / "revenue_cohorts.csv", index=False)
        _plot_fits(report, staging, config.horizon_months, plot_segment_fit)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]


def _plot_fits(report: FitReport, directory, horizon_months: int, plot) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name, result in report.fits.results.items():
        figure, ax = plt.subplots(figsize=(8, 5), dpi=110)
        plot(result, ax=ax, horizon_months=horizon_months)
        figure.tight_layout()
        figure.savefig(directory / f"retention_{_file_safe(name)}.png")
        plt.close(figure)


def _file_safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "segment"


def _json_default(value):
    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class ValidationReport:
    """What `simcore validate` checked: the book, its segments, the economics."""

    segmented: SegmentedBook
    summary: pd.DataFrame
    economics: "object"  # simcore.derived.SegmentEconomics
    warnings: tuple[Problem, ...]


def validate_config(config: Config) -> ValidationReport:
    """Check config, data, segments, scenario segment names and derived economics
    without fitting or simulating anything."""
    from simcore.derived import segment_economics
    from simcore.scenarios import check_scenario_levers, check_scenario_segments
    from simcore.segments import segment_summary

    segmented = load_segmented_book(config)
    segments = sorted(segmented.customers["segment"].astype(str).unique())
    check_scenario_segments(config, segments)
    economics = segment_economics(config, segmented.customers, segments, segmented.book.as_of)
    revenue = book_revenue(segmented)
    check_scenario_levers(config, segments, economics.economics, None if revenue is None else revenue.dynamics)
    return ValidationReport(segmented, segment_summary(segmented.customers), economics,
                            segmented.warnings + tuple(economics.warnings))
