"""Saved fits: retention models written to JSON and rebuilt exactly, without refitting.

A later run can reuse the fits of an earlier one (same data, same config) instead of
fitting every family again. The saved form holds everything a :class:`RetentionFit`
is made of, so the rebuilt fit gives bit-identical curves, summaries and seeded draws.

Exactness
    Floating-point numbers are written with Python's shortest round-trip representation
    (``repr``), which ``json`` parses back to the same 64-bit value. JSON has no NaN or
    infinity, so non-finite numbers are written explicitly: in numeric fields and arrays
    as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; in free-form values
    (fit options, text columns of tables) as ``{"float": "NaN"}``. Tuples in options are
    written as ``{"tuple": [...]}`` so they come back as tuples. Files are written with
    ``allow_nan=False``, so a file never contains the non-standard ``NaN`` token.

What a saved segment keeps
    The chosen fit, the Kaplan-Meier fit, the full ranking table (every candidate, with
    its log-likelihood, AIC, BIC, rank and error), the holdout table and the warnings.
    The candidate fits that were *not* chosen are dropped: after loading,
    ``SegmentResult.fits`` holds the chosen fit only (the ranking still lists all).

File layout (``format_version`` 1)
    ``{"format": "simcore.saved_fits", "format_version": 1, "metadata": {...},
    "fits": SegmentFits.to_saved()}``; ``metadata`` is whatever the caller passed
    (for example hashes of the data and the config) and is returned untouched.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from simcore import errors as _errors
from simcore.errors import FitError, OutputError, Problem
from simcore.retention.families import ALL_FAMILIES, KAPLAN_MEIER, family_spec
from simcore.retention.fit import RetentionFit, SurvivalCounts, _readonly
from simcore.retention.selection import SegmentFits, SegmentResult

#: Version of the saved form; bumped whenever a field changes meaning.
FORMAT_VERSION = 1
#: Value of the ``"format"`` entry that marks a saved-fits file.
FILE_FORMAT = "simcore.saved_fits"
#: How a user gets a valid file again.
REFIT_HINT = "refit with `simcore fit CONFIG --out DIR` and load the fits it saves"

_NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ARRAY_DTYPES = ("float64", "int64", "int8")
_FRAME_DTYPES = ("float64", "int64", "bool", "object")
_ERROR_CLASSES = {
    name: getattr(_errors, name)
    for name in ("SimcoreError", "ConfigError", "DataError", "FitError", "OutputError")
}


class _Invalid(ValueError):
    """A saved form that is structurally wrong (turned into a FitError by the caller)."""


# --------------------------------------------------------------------------- numbers
def _encode_float(x) -> float | str:
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _decode_float(value) -> float:
    if isinstance(value, str):
        if value not in _NON_FINITE_TEXT:
            raise _Invalid(f"expected a number, found the text {value!r}")
        return _NON_FINITE_TEXT[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"expected a number, found {type(value).__name__}")
    return float(value)


def _decode_int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a whole number, found {value!r}")
    return value


def _decode_bool(value) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, found {value!r}")
    return value


def _decode_str(value, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"expected text, found {type(value).__name__}")
    return value


def _encode_value(value):
    """Free-form value (options, text table cells) -> JSON with tagged floats and tuples."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        encoded = _encode_float(value)
        return {"float": encoded} if isinstance(encoded, str) else encoded
    if isinstance(value, tuple):
        return {"tuple": [_encode_value(v) for v in value]}
    if isinstance(value, list):
        return [_encode_value(v) for v in value]
    raise _Invalid(f"a value of type {type(value).__name__} cannot be saved")


def _decode_value(value):
    if isinstance(value, dict):
        if set(value) == {"float"}:
            return _decode_float(value["float"])
        if set(value) == {"tuple"} and isinstance(value["tuple"], list):
            return tuple(_decode_value(v) for v in value["tuple"])
        raise _Invalid(f"unexpected object {sorted(value)!r} in a saved value")
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


# --------------------------------------------------------------------------- arrays
def _encode_array(array: np.ndarray) -> dict:
    """``{"dtype", "shape", "values"}`` (row-major), or ``"diagonal"`` for diagonal matrices.

    Kaplan-Meier covariances are diagonal with one row per observed month; keeping only
    the diagonal keeps their files small.
    """
    array = np.asarray(array)
    dtype = str(array.dtype)
    if dtype not in _ARRAY_DTYPES:
        raise _Invalid(f"arrays of dtype {dtype} cannot be saved")
    out: dict = {"dtype": dtype, "shape": list(array.shape)}
    if array.ndim == 2 and array.shape[0] == array.shape[1] and array.shape[0] > 1:
        off_diagonal = array[~np.eye(array.shape[0], dtype=bool)]
        # -0.0 compares equal to 0 but np.diag rebuilds +0.0, so only exact +0.0 qualifies
        if np.all(off_diagonal == 0) and not np.any(np.signbit(off_diagonal)):
            out["diagonal"] = _encode_flat(np.diag(array), dtype)
            return out
    out["values"] = _encode_flat(array.ravel(), dtype)
    return out


def _encode_flat(values: np.ndarray, dtype: str) -> list:
    if dtype == "float64":
        return [_encode_float(v) for v in values.tolist()]
    return [int(v) for v in values.tolist()]


def _decode_array(saved) -> np.ndarray:
    if not isinstance(saved, dict):
        raise _Invalid("expected an array entry")
    dtype = saved["dtype"]
    if dtype not in _ARRAY_DTYPES:
        raise _Invalid(f"unknown array dtype {dtype!r}")
    shape = tuple(_decode_int(n) for n in saved["shape"])
    decode = _decode_float if dtype == "float64" else _decode_int
    if "diagonal" in saved:
        if len(shape) != 2 or shape[0] != shape[1]:
            raise _Invalid(f"a diagonal matrix needs a square shape, found {list(shape)}")
        diagonal = np.array([decode(v) for v in saved["diagonal"]], dtype=dtype)
        if diagonal.shape != (shape[0],):
            raise _Invalid("the diagonal does not match the matrix shape")
        return _readonly(np.diag(diagonal))
    values = np.array([decode(v) for v in saved["values"]], dtype=dtype)
    if values.size != math.prod(shape):
        raise _Invalid(f"{values.size} values do not fill shape {list(shape)}")
    return _readonly(values.reshape(shape))


# --------------------------------------------------------------------------- problems
def _encode_problem(problem: Problem) -> dict:
    return {
        "text": problem.format(),
        "message": problem.message,
        "hint": problem.hint,
        "source": problem.source,
        "row": problem.row,
        "line": problem.line,
        "field": problem.field,
        "severity": problem.severity,
    }


def _decode_problem(saved) -> Problem:
    if not isinstance(saved, dict):
        raise _Invalid("expected a warning entry")
    severity = saved["severity"]
    if severity not in ("error", "warning"):
        raise _Invalid(f"unknown severity {severity!r}")
    row, line = saved["row"], saved["line"]
    return Problem(
        message=_decode_str(saved["message"]),
        hint=_decode_str(saved["hint"]),
        source=_decode_str(saved["source"], allow_none=True),
        row=None if row is None else _decode_int(row),
        line=None if line is None else _decode_int(line),
        field=_decode_str(saved["field"], allow_none=True),
        severity=severity,
    )


# --------------------------------------------------------------------------- tables
def _encode_frame(frame: pd.DataFrame) -> dict:
    """Columns with their dtypes and one record per row (the index is not kept)."""
    dtypes = [str(frame[c].dtype) for c in frame.columns]
    for column, dtype in zip(frame.columns, dtypes):
        if dtype not in _FRAME_DTYPES:
            raise _Invalid(f"column {column!r} of dtype {dtype} cannot be saved")
    encoders = {
        "float64": _encode_float, "int64": int, "bool": bool, "object": _encode_value,
    }
    records = [
        {str(column): encoders[dtype](value) for column, dtype, value in zip(frame.columns, dtypes, row)}
        for row in frame.itertuples(index=False, name=None)
    ]
    return {"columns": [str(c) for c in frame.columns], "dtypes": dtypes, "records": records}


def _decode_frame(saved) -> pd.DataFrame:
    if not isinstance(saved, dict):
        raise _Invalid("expected a table entry")
    columns, dtypes, records = saved["columns"], saved["dtypes"], saved["records"]
    if len(columns) != len(dtypes) or not all(d in _FRAME_DTYPES for d in dtypes):
        raise _Invalid("table columns and dtypes do not match")
    decoders = {"float64": _decode_float, "int64": _decode_int, "bool": _decode_bool, "object": _decode_value}
    data = {}
    for column, dtype in zip(columns, dtypes):
        values = [decoders[dtype](record[column]) for record in records]
        data[column] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=columns)


# --------------------------------------------------------------------------- one fit
def fit_to_saved(fit: RetentionFit) -> dict:
    """See :meth:`RetentionFit.to_saved`."""
    return {
        "kind": "retention_fit",
        "format_version": FORMAT_VERSION,
        "family": fit.family,
        "param_names": list(fit.param_names),
        "params": _encode_array(fit.params),
        "covariance": _encode_array(fit.covariance),
        "natural_covariance": _encode_array(fit.natural_covariance),
        "transforms": list(fit.transforms),
        "log_likelihood": _encode_float(fit.log_likelihood),
        "fit_log_likelihood": _encode_float(fit.fit_log_likelihood),
        "aic": _encode_float(fit.aic),
        "bic": _encode_float(fit.bic),
        "n_customers": _encode_float(fit.n_customers),
        "n_events": _encode_float(fit.n_events),
        "max_observed_tenure": int(fit.max_observed_tenure),
        "options": {str(k): _encode_value(v) for k, v in fit.options.items()},
        "data": {
            "durations": [int(v) for v in fit.data.durations.tolist()],
            "events": [int(v) for v in fit.data.events.tolist()],
            "counts": [_encode_float(v) for v in fit.data.counts.tolist()],
        },
        "km_lower": None if fit.km_lower is None else _encode_array(fit.km_lower),
        "km_upper": None if fit.km_upper is None else _encode_array(fit.km_upper),
        "tail": None if fit.tail is None else fit_to_saved(fit.tail),
        "warnings": [_encode_problem(p) for p in fit.warnings],
    }


def _check_kind(saved, kind: str) -> None:
    if not isinstance(saved, dict):
        raise _Invalid(f"expected a saved {kind.replace('_', ' ')}, found {type(saved).__name__}")
    if saved.get("kind") != kind:
        raise _Invalid(f"expected a saved {kind.replace('_', ' ')}, found kind {saved.get('kind')!r}")
    version = saved.get("format_version")
    if version != FORMAT_VERSION:
        raise _UnknownVersion(version)


class _UnknownVersion(_Invalid):
    def __init__(self, version):
        self.version = version
        super().__init__(f"format version {version!r} is not one this simcore reads ({FORMAT_VERSION})")


def _decode_data(saved) -> SurvivalCounts:
    durations = np.array([_decode_int(v) for v in saved["durations"]], dtype=np.int64)
    events = np.array([_decode_int(v) for v in saved["events"]], dtype=np.int8)
    counts = np.array([_decode_float(v) for v in saved["counts"]], dtype=np.float64)
    if not (durations.shape == events.shape == counts.shape) or durations.size == 0:
        raise _Invalid("the saved survival counts have unequal or zero lengths")
    if np.any(durations < 1) or not np.all(np.isin(events, (0, 1))) or not np.all(counts > 0):
        raise _Invalid("the saved survival counts are not positive tenures, 0/1 events and positive counts")
    return SurvivalCounts(_readonly(durations), _readonly(events), _readonly(counts))


def fit_from_saved(saved) -> RetentionFit:
    """See :meth:`RetentionFit.from_saved` (raises :class:`_Invalid` on a bad saved form)."""
    _check_kind(saved, "retention_fit")
    family = _decode_str(saved["family"])
    if family not in ALL_FAMILIES:
        raise _Invalid(f"unknown family {family!r}")
    options = {_decode_str(k): _decode_value(v) for k, v in saved["options"].items()}
    param_names = tuple(_decode_str(n) for n in saved["param_names"])
    transforms = tuple(_decode_str(n) for n in saved["transforms"])
    params = _decode_array(saved["params"])
    covariance = _decode_array(saved["covariance"])
    natural_covariance = _decode_array(saved["natural_covariance"])
    p = len(param_names)
    if params.shape != (p,) or covariance.shape != (p, p) or natural_covariance.shape != (p, p) \
            or len(transforms) != p or params.dtype != np.float64:
        raise _Invalid(f"the {family} parameters, transforms and covariances do not have matching sizes")
    data = _decode_data(saved["data"])
    max_observed_tenure = _decode_int(saved["max_observed_tenure"])
    if max_observed_tenure != data.max_observed_tenure:
        raise _Invalid("max_observed_tenure does not match the saved survival counts")
    if family == KAPLAN_MEIER:
        expected_names = tuple(f"hazard_{t}" for t in range(1, max_observed_tenure + 1))
        expected_transforms = ("identity",) * max_observed_tenure
    else:
        spec = family_spec(family, options)
        expected_names, expected_transforms = spec.param_names, spec.transforms
    if param_names != expected_names or transforms != expected_transforms:
        raise _Invalid(f"the parameter names or transforms are not those of the {family} family")
    km_lower = None if saved["km_lower"] is None else _decode_array(saved["km_lower"])
    km_upper = None if saved["km_upper"] is None else _decode_array(saved["km_upper"])
    if family == KAPLAN_MEIER and (km_lower is None or km_upper is None
                                   or km_lower.shape != (max_observed_tenure + 1,)
                                   or km_upper.shape != (max_observed_tenure + 1,)):
        raise _Invalid("the Kaplan-Meier band is missing or does not cover months 0..max_observed_tenure")
    tail = None if saved["tail"] is None else fit_from_saved(saved["tail"])
    return RetentionFit(
        family=family,
        param_names=param_names,
        params=params,
        covariance=covariance,
        natural_covariance=natural_covariance,
        transforms=transforms,
        log_likelihood=_decode_float(saved["log_likelihood"]),
        fit_log_likelihood=_decode_float(saved["fit_log_likelihood"]),
        aic=_decode_float(saved["aic"]),
        bic=_decode_float(saved["bic"]),
        n_customers=_decode_float(saved["n_customers"]),
        n_events=_decode_float(saved["n_events"]),
        max_observed_tenure=max_observed_tenure,
        data=data,
        options=MappingProxyType(options),
        tail=tail,
        km_lower=km_lower,
        km_upper=km_upper,
        warnings=tuple(_decode_problem(p) for p in saved["warnings"]),
    )


# --------------------------------------------------------------------------- segments
def segment_result_to_saved(result: SegmentResult) -> dict:
    """See :meth:`SegmentResult.to_saved`."""
    chosen_is_km = result.fit is result.kaplan_meier
    return {
        "kind": "segment_result",
        "format_version": FORMAT_VERSION,
        "segment": result.segment,
        "criterion": result.criterion,
        "fit": None if chosen_is_km else fit_to_saved(result.fit),
        "chosen_is_kaplan_meier": chosen_is_km,
        "kaplan_meier": fit_to_saved(result.kaplan_meier),
        "ranking": _encode_frame(result.ranking),
        "holdout": None if result.holdout is None else _encode_frame(result.holdout),
        "warnings": [_encode_problem(p) for p in result.warnings],
    }


def segment_result_from_saved(saved) -> SegmentResult:
    """See :meth:`SegmentResult.from_saved`."""
    _check_kind(saved, "segment_result")
    kaplan_meier = fit_from_saved(saved["kaplan_meier"])
    if kaplan_meier.family != KAPLAN_MEIER:
        raise _Invalid("the kaplan_meier entry holds a fit of another family")
    chosen_is_km = saved["chosen_is_kaplan_meier"]
    if not isinstance(chosen_is_km, bool):
        raise _Invalid("chosen_is_kaplan_meier must be true or false")
    chosen = kaplan_meier if chosen_is_km else fit_from_saved(saved["fit"])
    return SegmentResult(
        segment=_decode_str(saved["segment"], allow_none=True),
        fit=chosen,
        ranking=_decode_frame(saved["ranking"]),
        kaplan_meier=kaplan_meier,
        fits={chosen.family: chosen},
        criterion=_decode_str(saved["criterion"]),
        holdout=None if saved["holdout"] is None else _decode_frame(saved["holdout"]),
        warnings=tuple(_decode_problem(p) for p in saved["warnings"]),
    )


def segment_fits_to_saved(fits: SegmentFits) -> dict:
    """See :meth:`SegmentFits.to_saved`."""
    failures = {}
    for segment, error in fits.failures.items():
        name = type(error).__name__
        failures[str(segment)] = {
            "error": name if name in _ERROR_CLASSES else "SimcoreError",
            "total": int(error.total),
            "problems": [_encode_problem(p) for p in error.problems],
        }
    return {
        "kind": "segment_fits",
        "format_version": FORMAT_VERSION,
        "results": {str(segment): segment_result_to_saved(r) for segment, r in fits.results.items()},
        "failures": failures,
    }


def segment_fits_from_saved(saved) -> SegmentFits:
    """See :meth:`SegmentFits.from_saved`."""
    _check_kind(saved, "segment_fits")
    results = {_decode_str(k): segment_result_from_saved(v) for k, v in saved["results"].items()}
    failures = {}
    for segment, entry in saved["failures"].items():
        cls = _ERROR_CLASSES.get(entry["error"])
        if cls is None:
            raise _Invalid(f"unknown error class {entry['error']!r}")
        failures[_decode_str(segment)] = cls([_decode_problem(p) for p in entry["problems"]],
                                              total=_decode_int(entry["total"]))
    return SegmentFits(results, failures)


# --------------------------------------------------------------------------- errors
@contextmanager
def reading_saved(source: str | None, what: str):
    """Turn any defect of a saved form into a :class:`FitError` naming ``source``."""
    try:
        yield
    except _UnknownVersion as error:
        raise FitError(Problem(
            f"the saved {what} has format version {error.version!r}; this simcore reads version "
            f"{FORMAT_VERSION}", REFIT_HINT, source=source,
        )) from None
    except (_Invalid, KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        detail = f"missing entry {error}" if isinstance(error, KeyError) else str(error)
        raise FitError(Problem(
            f"the saved {what} is corrupt ({detail})", REFIT_HINT, source=source,
        )) from None


def encoding_saved(encode):
    """``encode()``, with an unsaveable value (an option of an unknown type) as a FitError."""
    try:
        return encode()
    except _Invalid as error:
        raise FitError(Problem(f"the fit cannot be saved: {error}",
                               "save fits made by simcore.retention only")) from None


# --------------------------------------------------------------------------- files
def save_fits(fits: SegmentFits, path, *, metadata: dict) -> None:
    """Write ``fits`` and the caller's ``metadata`` to a JSON file, atomically.

    Parameters
    ----------
    fits : SegmentFits
        Per-segment results; each segment keeps its chosen fit, its Kaplan-Meier fit, its
        ranking and holdout tables and its warnings (the candidate fits that were not
        chosen are not saved).
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
    FitError
        A fit holds something that cannot be saved.
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
    document = {
        "format": FILE_FORMAT,
        "format_version": FORMAT_VERSION,
        "metadata": metadata,
        "fits": encoding_saved(lambda: segment_fits_to_saved(fits)),
    }
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


def _reject_constant(token: str):
    raise _Invalid(f"the file contains the non-standard JSON value {token}")


def load_fits(path) -> tuple[SegmentFits, dict]:
    """Read a file written by :func:`save_fits`: the fits (not refitted) and the metadata.

    Returns
    -------
    fits : SegmentFits
        Rebuilt exactly: curves, summaries and seeded draws equal those of the saved fits.
        ``SegmentResult.fits`` holds only the chosen fit of each segment.
    metadata : dict
        What was passed to :func:`save_fits`.

    Raises
    ------
    FitError
        The file is missing or unreadable, is not a saved-fits file, has a format version
        this simcore does not read, or is corrupt; the problem names the file and says to
        refit.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise FitError(Problem(f"cannot read saved fits: {reason}", REFIT_HINT, source=source)) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
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
    with reading_saved(source, "fits"):
        metadata = document["metadata"]
        if not isinstance(metadata, dict):
            raise _Invalid("metadata is not an object")
        fits = segment_fits_from_saved(document["fits"])
    return fits, metadata


__all__ = ["FILE_FORMAT", "FORMAT_VERSION", "load_fits", "save_fits"]
