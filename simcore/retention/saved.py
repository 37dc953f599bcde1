"""Saved fits: retention models written to JSON and rebuilt exactly, without refitting.

A later run can reuse the fits of an earlier one (same data, same config) instead of
fitting every family again. The file format is the set of pydantic models below; loading
validates a file against them, so a malformed file or one of another format version is a
:class:`FitError` naming the file and what is wrong.

Exactness
    Floats are written in their shortest round-trip form, which parses back to the same
    64-bit value, so curves, summaries and seeded draws of a reloaded fit are
    bit-identical. JSON has no NaN or infinity: such numbers are written as the strings
    ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` and files never contain the non-standard
    ``NaN`` token. Bootstrap pools and conditioning checks are saved with the fit, so a
    reloaded fit draws without refitting.

What a saved segment keeps
    Every candidate fit (parametric fits with their aggregated counts, covariance,
    information, conditioning and bootstrap pool when it was computed), the Kaplan-Meier
    fit with its tail, the ranking table with the weights, the holdout table, the
    settings (criterion, uncertainty, model averaging) and the warnings.

File layout (``format_version`` 2)
    ``{"format": "simcore.saved_fits", "format_version": 2, "metadata": {...},
    "segments": {name: SavedSegment}, "failures": {name: SavedFailure}}``; ``metadata``
    is whatever the caller passed (for example hashes of the data and the config) and is
    returned untouched.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    ValidationError,
    model_validator,
)

from simcore import errors as _errors
from simcore.errors import FitError, OutputError, Problem, SimcoreError
from simcore.retention.bootstrap import BootstrapPool
from simcore.retention.conditioning import Conditioning
from simcore.retention.counts import SurvivalCounts, readonly
from simcore.retention.families import family_spec
from simcore.retention.kaplan_meier import KaplanMeierFit
from simcore.retention.names import (
    CRITERIA,
    KAPLAN_MEIER,
    MODEL_AVERAGING_METHODS,
    PARAMETRIC_FAMILIES,
    UNCERTAINTY_METHODS,
)
from simcore.retention.records import ParametricFit, RetentionFit
from simcore.retention.selection import HOLDOUT_COLUMNS, SegmentFits, SegmentResult, ranking_dtypes

#: Version of the saved form; bumped whenever a field changes meaning.
FORMAT_VERSION = 2
#: Value of the ``"format"`` entry that marks a saved-fits file.
FILE_FORMAT = "simcore.saved_fits"
#: How a user gets a valid file again.
REFIT_HINT = "refit with `simcore fit CONFIG --out DIR` and load the fits it saves"

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ERROR_CLASSES = ("SimcoreError", "ConfigError", "DataError", "FitError", "OutputError")


def _number(value):
    if isinstance(value, str):
        if value not in _NON_FINITE:
            raise ValueError(f"expected a number, found the text {value!r}")
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, found {type(value).__name__}")
    return float(value)


def _number_to_json(value: float):
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


#: A float written as JSON: non-finite values as the strings "NaN", "Infinity", "-Infinity".
Number = Annotated[float, BeforeValidator(_number), PlainSerializer(_number_to_json, when_used="json")]
WholeNumber = Annotated[int, Strict()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- parts
class SavedProblem(_Model):
    """A :class:`Problem`; ``text`` is its formatted line (for readers of the file)."""

    text: str = ""
    message: str
    hint: str
    source: str | None
    row: WholeNumber | None
    line: WholeNumber | None
    field: str | None
    severity: Literal["error", "warning"]

    @classmethod
    def of(cls, problem: Problem) -> "SavedProblem":
        return cls(text=problem.format(), message=problem.message, hint=problem.hint, source=problem.source,
                   row=problem.row, line=problem.line, field=problem.field, severity=problem.severity)

    def rebuild(self) -> Problem:
        return Problem(message=self.message, hint=self.hint, source=self.source, row=self.row, line=self.line,
                       field=self.field, severity=self.severity)


class SavedCounts(_Model):
    """Aggregated survival data: whole-month tenures >= 1, 0/1 churn flags, positive counts."""

    durations: list[WholeNumber]
    events: list[Literal[0, 1]]
    counts: list[Number]

    @model_validator(mode="after")
    def _consistent(self) -> "SavedCounts":
        if not (len(self.durations) == len(self.events) == len(self.counts)) or not self.durations:
            raise ValueError("durations, events and counts must have one equal, non-zero length")
        if min(self.durations) < 1 or not all(c > 0 for c in self.counts):
            raise ValueError("tenures must be >= 1 month and counts > 0")
        return self

    @classmethod
    def of(cls, data: SurvivalCounts) -> "SavedCounts":
        return cls(durations=data.durations.tolist(), events=data.events.tolist(), counts=data.counts.tolist())

    def rebuild(self) -> SurvivalCounts:
        return SurvivalCounts(readonly(np.array(self.durations, dtype=np.int64)),
                              readonly(np.array(self.events, dtype=np.int8)),
                              readonly(np.array(self.counts, dtype=np.float64)))


class SavedConditioning(_Model):
    reasons: list[str]
    likelihood_exceedance: Number
    band: tuple[Number, Number]
    band_exceedance: Number

    @classmethod
    def of(cls, conditioning: Conditioning) -> "SavedConditioning":
        return cls(reasons=list(conditioning.reasons), likelihood_exceedance=conditioning.likelihood_exceedance,
                   band=conditioning.band, band_exceedance=conditioning.band_exceedance)

    def rebuild(self) -> Conditioning:
        return Conditioning(tuple(self.reasons), self.likelihood_exceedance, tuple(self.band), self.band_exceedance)


class SavedBootstrap(_Model):
    params: list[list[Number]]
    n_resamples: WholeNumber = Field(ge=1)
    seed: WholeNumber


def _matrix(rows: list[list[float]], p: int, what: str) -> np.ndarray:
    if len(rows) != p or any(len(r) != p for r in rows):
        raise ValueError(f"{what} must be {p} x {p}")
    return readonly(np.array(rows, dtype=np.float64).reshape(p, p))


class SavedParametricFit(_Model):
    """A :class:`ParametricFit`."""

    kind: Literal["parametric"] = "parametric"
    family: Literal[PARAMETRIC_FAMILIES]  # type: ignore[valid-type]
    params: list[Number]
    covariance: list[list[Number]]
    information: list[list[Number]]
    log_likelihood: Number
    breakpoints: list[Number] | None = None
    data: SavedCounts
    conditioning: SavedConditioning
    bootstrap: SavedBootstrap | None = None
    warnings: list[SavedProblem] = []

    @model_validator(mode="after")
    def _sizes(self) -> "SavedParametricFit":
        if (self.breakpoints is not None) != (self.family == "piecewise_exponential"):
            raise ValueError("breakpoints belong to the piecewise_exponential family, and it needs them")
        p = len(self.spec().param_names)
        if len(self.params) != p:
            raise ValueError(f"the {self.family} family has {p} parameters, found {len(self.params)}")
        _matrix(self.covariance, p, "covariance")
        _matrix(self.information, p, "information")
        if self.bootstrap is not None and any(len(row) != p for row in self.bootstrap.params):
            raise ValueError(f"every bootstrap refit of the {self.family} family has {p} parameters")
        return self

    def spec(self):
        return family_spec(self.family, {"breakpoints": self.breakpoints} if self.breakpoints is not None else {})

    @classmethod
    def of(cls, fit: ParametricFit) -> "SavedParametricFit":
        pool = fit.bootstrap
        return cls(
            family=fit.family, params=fit.params.tolist(), covariance=fit.covariance.tolist(),
            information=fit.information.tolist(), log_likelihood=fit.log_likelihood,
            breakpoints=list(fit.options["breakpoints"]) if "breakpoints" in fit.options else None,
            data=SavedCounts.of(fit.data), conditioning=SavedConditioning.of(fit.conditioning),
            bootstrap=None if pool is None else SavedBootstrap(params=pool.params.tolist(),
                                                               n_resamples=pool.n_resamples, seed=pool.seed),
            warnings=[SavedProblem.of(p) for p in fit.warnings],
        )

    def rebuild(self) -> ParametricFit:
        p = len(self.params)
        pool = None
        if self.bootstrap is not None:
            params = np.array(self.bootstrap.params, dtype=np.float64).reshape(len(self.bootstrap.params), p)
            pool = BootstrapPool(readonly(params), self.bootstrap.n_resamples, self.bootstrap.seed)
        options = {} if self.breakpoints is None else {"breakpoints": tuple(self.breakpoints)}
        return ParametricFit(
            family=self.family,
            params=readonly(np.array(self.params, dtype=np.float64)),
            covariance=_matrix(self.covariance, p, "covariance"),
            information=_matrix(self.information, p, "information"),
            log_likelihood=self.log_likelihood,
            data=self.data.rebuild(),
            options=MappingProxyType(options),
            conditioning=self.conditioning.rebuild(),
            bootstrap=pool,
            warnings=tuple(w.rebuild() for w in self.warnings),
        )


class SavedKaplanMeierFit(_Model):
    """A :class:`KaplanMeierFit`."""

    kind: Literal["kaplan_meier"] = "kaplan_meier"
    hazards: list[Number]
    km_lower: list[Number]
    km_upper: list[Number]
    log_likelihood: Number
    data: SavedCounts
    tail: SavedParametricFit | None = None
    warnings: list[SavedProblem] = []

    @model_validator(mode="after")
    def _sizes(self) -> "SavedKaplanMeierFit":
        m = max(self.data.durations)
        if len(self.hazards) != m or len(self.km_lower) != m + 1 or len(self.km_upper) != m + 1:
            raise ValueError("the Kaplan-Meier hazards and band must cover months 1..m and 0..m, "
                             "m the longest saved tenure")
        return self

    @classmethod
    def of(cls, fit: KaplanMeierFit) -> "SavedKaplanMeierFit":
        return cls(hazards=fit.hazards.tolist(), km_lower=fit.km_lower.tolist(), km_upper=fit.km_upper.tolist(),
                   log_likelihood=fit.log_likelihood, data=SavedCounts.of(fit.data),
                   tail=None if fit.tail is None else SavedParametricFit.of(fit.tail),
                   warnings=[SavedProblem.of(p) for p in fit.warnings])

    def rebuild(self) -> KaplanMeierFit:
        return KaplanMeierFit(
            hazards=readonly(np.array(self.hazards, dtype=np.float64)),
            km_lower=readonly(np.array(self.km_lower, dtype=np.float64)),
            km_upper=readonly(np.array(self.km_upper, dtype=np.float64)),
            log_likelihood=self.log_likelihood, data=self.data.rebuild(),
            tail=None if self.tail is None else self.tail.rebuild(),
            warnings=tuple(w.rebuild() for w in self.warnings),
        )


class SavedRankingRow(_Model):
    """One row of a ranking table (holdout columns only with a holdout)."""

    family: str
    log_likelihood: Number
    n_parameters: Number
    aic: Number
    bic: Number
    error: str | None
    holdout_log_likelihood: Number | None = None
    holdout_active_error: Number | None = None
    n_holdout_customers: WholeNumber | None = None
    n_holdout_churns: WholeNumber | None = None
    delta: Number
    rank: Number
    akaike_weight: Number
    stacking_weight: Number
    weight: Number
    uncertainty: str | None


class SavedHoldoutRow(_Model):
    family: str
    holdout_log_likelihood: Number
    holdout_active_error: Number
    n_holdout_customers: WholeNumber
    n_holdout_churns: WholeNumber


def _frame(rows: list[_Model], dtypes: dict[str, str]) -> pd.DataFrame:
    data = {column: pd.Series([getattr(row, column) for row in rows], dtype=dtype)
            for column, dtype in dtypes.items()}
    return pd.DataFrame(data, columns=list(dtypes))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (NaN stays a float)."""
    return [dict(zip(frame.columns, (v.item() if isinstance(v, np.generic) else v for v in row)))
            for row in frame.itertuples(index=False, name=None)]


class SavedSegment(_Model):
    """A :class:`SegmentResult`."""

    segment: str | None
    criterion: Literal[CRITERIA]  # type: ignore[valid-type]
    uncertainty: Literal[UNCERTAINTY_METHODS]  # type: ignore[valid-type]
    model_averaging: Literal[MODEL_AVERAGING_METHODS]  # type: ignore[valid-type]
    chosen: str
    fits: dict[str, SavedParametricFit]
    kaplan_meier: SavedKaplanMeierFit
    ranking: list[SavedRankingRow]
    holdout: list[SavedHoldoutRow] | None = None
    warnings: list[SavedProblem] = []

    @model_validator(mode="after")
    def _consistent(self) -> "SavedSegment":
        if any(name != fit.family for name, fit in self.fits.items()):
            raise ValueError("each saved fit must be filed under its own family")
        if self.chosen != KAPLAN_MEIER and self.chosen not in self.fits:
            raise ValueError(f"the chosen family {self.chosen!r} has no saved fit")
        with_holdout = self.holdout is not None
        if any((row.n_holdout_customers is not None) != with_holdout for row in self.ranking):
            raise ValueError("ranking rows must have holdout columns exactly when a holdout is saved")
        if {row.family for row in self.ranking if row.weight > 0} - set(self.fits) - {KAPLAN_MEIER}:
            raise ValueError("a family with a positive weight has no saved fit")
        return self

    @classmethod
    def of(cls, result: SegmentResult) -> "SavedSegment":
        # A fit read on another grid (simcore.periods) wraps the fit as made and exposes it
        # as ``native``; the saved file holds what was fitted.
        def made(fit):
            return getattr(fit, "native", fit)

        return cls(
            segment=result.segment, criterion=result.criterion, uncertainty=result.uncertainty,
            model_averaging=result.model_averaging, chosen=result.fit.family,
            fits={name: SavedParametricFit.of(made(fit)) for name, fit in result.fits.items()
                  if isinstance(made(fit), ParametricFit)},
            kaplan_meier=SavedKaplanMeierFit.of(made(result.kaplan_meier)),
            ranking=[SavedRankingRow(**row) for row in _records(result.ranking)],
            holdout=None if result.holdout is None else [SavedHoldoutRow(**r) for r in _records(result.holdout)],
            warnings=[SavedProblem.of(p) for p in result.warnings],
        )

    def rebuild(self) -> SegmentResult:
        kaplan_meier = self.kaplan_meier.rebuild()
        fits: dict[str, RetentionFit] = {name: fit.rebuild() for name, fit in self.fits.items()}
        if self.chosen == KAPLAN_MEIER:
            fits[KAPLAN_MEIER] = kaplan_meier
        return SegmentResult(
            segment=self.segment, fit=fits[self.chosen],
            ranking=_frame(self.ranking, ranking_dtypes(self.holdout is not None)),
            kaplan_meier=kaplan_meier, fits=fits, criterion=self.criterion,
            holdout=None if self.holdout is None else _frame(self.holdout, HOLDOUT_COLUMNS),
            warnings=tuple(w.rebuild() for w in self.warnings),
            uncertainty=self.uncertainty, model_averaging=self.model_averaging,
        )


class SavedFailure(_Model):
    """A segment no family could be fitted to: the error class and its problems."""

    error: Literal[_ERROR_CLASSES]  # type: ignore[valid-type]
    total: WholeNumber
    problems: list[SavedProblem]

    @classmethod
    def of(cls, error: SimcoreError) -> "SavedFailure":
        name = type(error).__name__
        return cls(error=name if name in _ERROR_CLASSES else "SimcoreError", total=error.total,
                   problems=[SavedProblem.of(p) for p in error.problems])

    def rebuild(self) -> SimcoreError:
        return getattr(_errors, self.error)([p.rebuild() for p in self.problems], total=self.total)


class SavedFitsFile(_Model):
    """A saved-fits file."""

    format: Literal["simcore.saved_fits"]
    format_version: Literal[2]
    metadata: dict[str, Any]
    segments: dict[str, SavedSegment]
    failures: dict[str, SavedFailure] = {}


# --------------------------------------------------------------------------- plain values
def _invalid(error: ValidationError, what: str, source: str | None) -> FitError:
    """One problem per validation error (capped), each naming where in the file it is."""
    problems = []
    for item in error.errors()[:10]:
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(Problem(f"the saved {what} is corrupt at {where}: {item['msg']}", REFIT_HINT,
                                source=source))
    return FitError(problems, total=error.error_count())


def fit_to_saved(fit: RetentionFit) -> dict:
    """One fit as plain JSON values (accepted by :func:`fit_from_saved`)."""
    model = SavedKaplanMeierFit.of(fit) if isinstance(fit, KaplanMeierFit) else SavedParametricFit.of(fit)
    return model.model_dump(mode="json")


def fit_from_saved(saved) -> RetentionFit:
    """Rebuild one fit from :func:`fit_to_saved` without refitting.

    Raises
    ------
    FitError
        ``saved`` is not a saved fit or is inconsistent (names the entry that is wrong).
    """
    kind = saved.get("kind") if isinstance(saved, dict) else None
    model = SavedKaplanMeierFit if kind == "kaplan_meier" else SavedParametricFit
    try:
        return model.model_validate(saved).rebuild()
    except ValidationError as error:
        raise _invalid(error, "retention fit", None) from None


def segment_to_saved(result: SegmentResult) -> dict:
    """One segment's result as plain JSON values (accepted by :func:`segment_from_saved`)."""
    return SavedSegment.of(result).model_dump(mode="json")


def segment_from_saved(saved) -> SegmentResult:
    """Rebuild a segment result from :func:`segment_to_saved` without refitting."""
    try:
        return SavedSegment.model_validate(saved).rebuild()
    except ValidationError as error:
        raise _invalid(error, "segment result", None) from None


def fits_to_saved(fits: SegmentFits) -> dict:
    """Every segment and failure as plain JSON values (the ``segments`` and ``failures``
    entries of a saved-fits file)."""
    return {
        "segments": {str(name): SavedSegment.of(r).model_dump(mode="json") for name, r in fits.results.items()},
        "failures": {str(name): SavedFailure.of(e).model_dump(mode="json") for name, e in fits.failures.items()},
    }


def fits_from_saved(saved: dict) -> SegmentFits:
    """Rebuild :class:`SegmentFits` from :func:`fits_to_saved`."""
    try:
        document = SavedFitsFile.model_validate(
            {"format": FILE_FORMAT, "format_version": FORMAT_VERSION, "metadata": {}, **saved})
    except ValidationError as error:
        raise _invalid(error, "segment fits", None) from None
    return _rebuild_file(document)


def _rebuild_file(document: SavedFitsFile) -> SegmentFits:
    return SegmentFits({name: segment.rebuild() for name, segment in document.segments.items()},
                       {name: failure.rebuild() for name, failure in document.failures.items()})


# --------------------------------------------------------------------------- files
def save_fits(fits: SegmentFits, path, *, metadata: dict) -> None:
    """Write ``fits`` and the caller's ``metadata`` to a JSON file, atomically.

    Parameters
    ----------
    fits : SegmentFits
        Per-segment results (every candidate fit, the Kaplan-Meier fit, the ranking with
        weights, the holdout table, settings and warnings of each segment).
    path : str or path-like
        File to write. It is written to a temporary file in the same folder first and then
        renamed over ``path``, so an interrupted save never leaves half a file.
    metadata : dict
        JSON-ready values for the caller (for example hashes of the data and the config,
        to decide later whether the fits still apply); returned by :func:`load_fits`.

    Raises
    ------
    OutputError
        ``metadata`` is not a JSON-ready dict, or the file cannot be written.
    """
    path = Path(path)
    if not isinstance(metadata, dict):
        raise OutputError(Problem(
            f"metadata must be a dict, got {type(metadata).__name__}", "pass metadata={...}",
            source=str(path), field="metadata",
        ))
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise OutputError(Problem(
            f"metadata is not plain JSON ({error})",
            "use only text, whole and finite numbers, true/false, null, lists and dicts with text keys",
            source=str(path), field="metadata",
        )) from None
    document = {"format": FILE_FORMAT, "format_version": FORMAT_VERSION, "metadata": metadata,
                **fits_to_saved(fits)}
    text = json.dumps(document, allow_nan=False, indent=1) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputError(Problem(
            f"cannot write saved fits: {error.strerror or error}",
            "choose a writable location", source=str(path),
        )) from None


class _NonStandardJson(ValueError):
    pass


def _reject_constant(token: str):
    raise _NonStandardJson(f"the file contains the non-standard JSON value {token}")


def load_fits(path) -> tuple[SegmentFits, dict]:
    """Read a file written by :func:`save_fits`: the fits (not refitted) and the metadata.

    Returns
    -------
    fits : SegmentFits
        Rebuilt exactly: curves, summaries and seeded draws equal those of the saved fits.
    metadata : dict
        What was passed to :func:`save_fits`.

    Raises
    ------
    FitError
        The file is missing or unreadable, is not a saved-fits file, has a format version
        this simcore does not read, or is corrupt; every problem names the file, says what
        is wrong and where, and says to refit.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise FitError(Problem(f"cannot read saved fits: {reason}", REFIT_HINT, source=source)) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except _NonStandardJson as error:
        raise FitError(Problem(f"saved fits are corrupt: {error}", REFIT_HINT, source=source)) from None
    except (ValueError, RecursionError) as error:
        raise FitError(Problem(f"saved fits are not valid JSON ({error})", REFIT_HINT, source=source)) from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise FitError(Problem(
            f"this is not a saved-fits file (it has no \"format\": \"{FILE_FORMAT}\" entry)",
            REFIT_HINT, source=source,
        ))
    if document.get("format_version") != FORMAT_VERSION:
        raise FitError(Problem(
            f"saved fits have format version {document.get('format_version')!r}; this simcore reads "
            f"version {FORMAT_VERSION}", REFIT_HINT, source=source,
        ))
    try:
        validated = SavedFitsFile.model_validate(document)
    except ValidationError as error:
        raise _invalid(error, "fits", source) from None
    return _rebuild_file(validated), validated.metadata


__all__ = ["FILE_FORMAT", "FORMAT_VERSION", "fit_from_saved", "fit_to_saved", "fits_from_saved", "fits_to_saved",
           "load_fits", "save_fits", "segment_from_saved", "segment_to_saved"]
