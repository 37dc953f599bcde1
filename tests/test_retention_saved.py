"""Saved fits: every family round-trips through JSON bit for bit, without refitting."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

import simcore.retention.bootstrap as bootstrap_module
import simcore.retention.grid_fit as grid_fit_module
from simcore.errors import DataError, FitError, OutputError, Problem
from simcore.retention import (
    ALL_FAMILIES,
    RetentionFit,
    SegmentFits,
    SegmentResult,
    fit_family,
    fit_segment,
    fit_segments,
    load_fits,
    save_fits,
)
from simcore.retention.records import ParametricFit
from simcore.retention.saved import (
    fit_from_saved,
    fit_to_saved,
    fits_from_saved,
    fits_to_saved,
    segment_from_saved,
    segment_to_saved,
)

MONTHS = np.arange(241)
SEED = 20250101


def small_book(n=1500, window=36, seed=7):
    """Heterogeneous monthly churn plus 30% customers who never churn, over ``window`` months."""
    rng = np.random.Generator(np.random.PCG64(seed))
    lifetime = rng.geometric(rng.beta(8.0, 32.0, size=n))
    lifetime = np.where(rng.random(n) < 0.3, 10_000, lifetime)
    signup = rng.integers(0, window, size=n)
    observed = window - signup
    churned = lifetime <= observed
    return np.where(churned, lifetime, observed), churned.astype(int), signup


@pytest.fixture(scope="module")
def book():
    return small_book()


@pytest.fixture(scope="module")
def fits(book):
    durations, events, _ = book
    out = {}
    for family in ALL_FAMILIES:
        options = {"km_tail": "weibull"} if family == "kaplan_meier" else {}
        out[family] = fit_family(durations, events, family=family, **options)
    return out


def through_json(saved):
    """The saved form as it comes back from a file (strict JSON, no NaN tokens)."""
    return json.loads(json.dumps(saved, allow_nan=False), parse_constant=_no_constants)


def _no_constants(token):
    raise AssertionError(f"non-standard JSON constant {token}")


def assert_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def assert_plain_json(value):
    """Only str, int, float (finite), bool, None, lists and dicts with text keys."""
    if isinstance(value, dict):
        assert all(isinstance(k, str) for k in value)
        for v in value.values():
            assert_plain_json(v)
    elif isinstance(value, list):
        for v in value:
            assert_plain_json(v)
    elif isinstance(value, float):
        assert math.isfinite(value)
    else:
        assert value is None or type(value) in (str, int, bool)


def assert_same_fit(original: RetentionFit, rebuilt: RetentionFit):
    assert type(rebuilt) is type(original)
    for name in ("family", "param_names", "max_observed_tenure", "warnings", "uncertainty"):
        assert getattr(rebuilt, name) == getattr(original, name)
    arrays = ("params", "covariance", "information", "natural_covariance") if isinstance(original, ParametricFit) \
        else ("params", "km_lower", "km_upper")
    for name in arrays:
        assert_bits(getattr(rebuilt, name), getattr(original, name))
    for name in ("log_likelihood", "aic", "bic", "n_customers", "n_events"):
        assert_bits(getattr(rebuilt, name), getattr(original, name))
    for name in ("durations", "events", "counts"):
        assert_bits(getattr(rebuilt.data, name), getattr(original.data, name))
    assert dict(rebuilt.options) == dict(original.options)
    assert [type(v) for v in rebuilt.options.values()] == [type(v) for v in original.options.values()]
    if isinstance(original, ParametricFit):
        assert rebuilt.transforms == original.transforms
        assert repr(rebuilt.conditioning) == repr(original.conditioning)
        assert (rebuilt.bootstrap is None) == (original.bootstrap is None)
        if original.bootstrap is not None:
            assert_bits(rebuilt.bootstrap.params, original.bootstrap.params)
    assert (rebuilt.tail is None) == (original.tail is None)
    if original.tail is not None:
        assert_same_fit(original.tail, rebuilt.tail)


@pytest.fixture
def no_refitting_after(monkeypatch):
    """Calling it makes any optimisation fail from then on, to show that rebuilding and
    drawing never fit."""
    def refuse(*args, **kwargs):
        raise AssertionError("a saved fit was refitted")

    def arm():
        monkeypatch.setattr(grid_fit_module, "maximise", refuse)
        monkeypatch.setattr(bootstrap_module, "maximise_batched", refuse)
        monkeypatch.setattr("simcore.retention.records.bootstrap_pool", refuse)

    return arm


# --------------------------------------------------------------------------- one fit
def with_pool(fit: RetentionFit) -> RetentionFit:
    """The fit with its bootstrap pool stored (as fit_segment stores it for drawn families)."""
    if isinstance(fit, ParametricFit):
        return fit.with_bootstrap()
    return dataclasses.replace(fit, tail=None if fit.tail is None else fit.tail.with_bootstrap())


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_every_family_round_trips_bit_for_bit(fits, family, no_refitting_after):
    original = with_pool(fits[family])
    no_refitting_after()
    saved = fit_to_saved(original)
    assert_plain_json(saved)
    rebuilt = fit_from_saved(through_json(saved))
    assert_same_fit(original, rebuilt)

    assert_bits(rebuilt.survival(MONTHS), original.survival(MONTHS))
    assert_bits(rebuilt.hazard(MONTHS[:-1]), original.hazard(MONTHS[:-1]))
    assert_bits(rebuilt.conditional_survival(12, MONTHS[:120]), original.conditional_survival(12, MONTHS[:120]))
    assert_bits(rebuilt.median_lifetime, original.median_lifetime)
    pd.testing.assert_frame_equal(rebuilt.summary, original.summary, check_exact=True)
    for method in ("auto", "asymptotic", "bootstrap"):
        assert_bits(rebuilt.parameter_draws(200, seed=SEED, method=method),
                    original.parameter_draws(200, seed=SEED, method=method))
        assert_bits(rebuilt.survival_draws(200, 240, seed=SEED, method=method),
                    original.survival_draws(200, 240, seed=SEED, method=method))
    assert rebuilt.to_dict() == original.to_dict()


@pytest.mark.parametrize("family", ["exponential", "sbg", "kaplan_meier"])
def test_bootstrap_draws_after_reload_use_the_same_refits(fits, family):
    # saved without a pool: the reloaded fit refits the same resamples (fixed pool seed)
    original = fits[family]
    rebuilt = fit_from_saved(through_json(fit_to_saved(original)))
    drawn = original.survival_draws(4, 240, seed=SEED, method="bootstrap")
    assert_bits(rebuilt.survival_draws(4, 240, seed=SEED, method="bootstrap"), drawn)
    # the draws are resampled refits, not copies of the point curve
    assert not np.array_equal(drawn[0], original.survival(MONTHS))


def test_saved_fit_spells_out_non_finite_numbers(fits):
    # asymptotic draws of a well-conditioned fit need no bootstrap band: it is NaN
    saved = fit_to_saved(fits["weibull"])
    assert saved["conditioning"]["band"] == ["NaN", "NaN"]
    assert saved["conditioning"]["band_exceedance"] == "NaN"
    rebuilt = fit_from_saved(through_json(saved))
    assert math.isnan(rebuilt.conditioning.band_exceedance)
    assert fit_to_saved(fits["kaplan_meier"])["tail"]["family"] == "weibull"


def test_saved_fit_keeps_the_aggregated_counts_not_the_customers(fits, book):
    durations, events, _ = book
    saved = fit_to_saved(fits["weibull"])
    data = saved["data"]
    assert len(data["durations"]) == len(set(zip(durations[durations > 0], events[durations > 0])))
    assert sum(data["counts"]) == np.count_nonzero(durations > 0)
    assert data["durations"] == sorted(data["durations"])


def test_warnings_round_trip_with_their_text(fits):
    warned = dataclasses.replace(fits["sbg"], warnings=(
        Problem("sbg fit shows no heterogeneity", "prefer the exponential family",
                severity="warning", field="retention.family"),
    ))
    saved = fit_to_saved(warned)
    assert saved["warnings"][0]["text"] == warned.warnings[0].format()
    assert fit_from_saved(through_json(saved)).warnings == warned.warnings


def test_fit_from_saved_rejects_other_forms(fits):
    saved = through_json(fit_to_saved(fits["weibull"]))
    with pytest.raises(FitError, match="corrupt at kind"):
        fit_from_saved({**saved, "kind": "segment_result"})
    with pytest.raises(FitError, match="2 parameters, found 1"):
        fit_from_saved({**saved, "params": saved["params"][:1]})
    with pytest.raises(FitError, match="corrupt at family"):
        fit_from_saved({**saved, "family": "gompertz"})
    with pytest.raises(FitError, match="corrupt at covariance: Field required"):
        fit_from_saved({k: v for k, v in saved.items() if k != "covariance"})
    with pytest.raises(FitError, match="corrupt at log_likelihood"):
        fit_from_saved({**saved, "log_likelihood": True})


# --------------------------------------------------------------------------- segments and files
@pytest.fixture(scope="module")
def segment_fits():
    frames = []
    for name, n, seed in (("smb", 1500, 1), ("mid", 40, 2)):
        durations, events, signup = small_book(n=n, seed=seed)
        frames.append(pd.DataFrame({"segment": name, "tenure_months": durations, "churned": events,
                                    "signup": signup}))
    # no churn at all: every family fails and the segment is kept as a failure
    frames.append(pd.DataFrame({"segment": "new", "tenure_months": [3, 4, 5], "churned": 0, "signup": 0}))
    return fit_segments(pd.concat(frames, ignore_index=True), family="auto",
                        candidates=("exponential", "weibull", "sbg"), signup_offset_col="signup",
                        holdout_months=6, window_end=36, raise_on_failure=False)


def assert_same_result(original: SegmentResult, rebuilt: SegmentResult):
    assert rebuilt.segment == original.segment and rebuilt.criterion == original.criterion
    assert_same_fit(original.fit, rebuilt.fit)
    assert_same_fit(original.kaplan_meier, rebuilt.kaplan_meier)
    pd.testing.assert_frame_equal(rebuilt.ranking, original.ranking, check_exact=True)
    if original.holdout is None:
        assert rebuilt.holdout is None
    else:
        pd.testing.assert_frame_equal(rebuilt.holdout, original.holdout, check_exact=True)
    assert rebuilt.warnings == original.warnings
    assert (rebuilt.uncertainty, rebuilt.model_averaging) == (original.uncertainty, original.model_averaging)
    # every candidate fit is saved
    assert dict(rebuilt.fits).keys() == dict(original.fits).keys()
    for name, fit in original.fits.items():
        assert_same_fit(fit, rebuilt.fits[name])
    assert_bits(rebuilt.survival_model().survival_draws(100, 240, seed=SEED),
                original.survival_model().survival_draws(100, 240, seed=SEED))


def test_segment_fits_round_trip_through_a_file(segment_fits, tmp_path):
    assert set(segment_fits.results) == {"smb", "mid"} and set(segment_fits.failures) == {"new"}
    assert segment_fits["mid"].warnings  # fewer than 30 churn events
    assert "no churn events" in str(segment_fits.failures["new"])
    path = tmp_path / "fits" / "saved_fits.json"
    metadata = {"data_hash": "sha256:0a1b", "config_hash": "sha256:9f8e", "seed": 42}
    save_fits(segment_fits, path, metadata=metadata)
    assert sorted(p.name for p in path.parent.iterdir()) == ["saved_fits.json"]  # no temporary left

    document = json.loads(path.read_text(), parse_constant=_no_constants)
    assert_plain_json(document)
    assert document["metadata"] == metadata

    loaded, loaded_metadata = load_fits(path)
    assert loaded_metadata == metadata
    assert list(loaded.results) == list(segment_fits.results)
    for name, result in segment_fits.results.items():
        assert_same_result(result, loaded[name])
        assert_bits(loaded[name].fit.survival_draws(100, 240, seed=SEED),
                    result.fit.survival_draws(100, 240, seed=SEED))
    assert type(loaded.failures["new"]) is type(segment_fits.failures["new"])
    assert loaded.failures["new"].problems == segment_fits.failures["new"].problems
    assert loaded.warnings == segment_fits.warnings
    pd.testing.assert_frame_equal(loaded.summary_table(), segment_fits.summary_table(), check_exact=True)
    assert loaded.to_json() == segment_fits.to_json()


def test_kaplan_meier_segment_saves_its_curve_once(book):
    durations, events, _ = book
    result = fit_segment(durations, events, family="kaplan_meier", km_tail="sbg", segment="smb")
    assert result.fit is result.kaplan_meier
    saved = segment_to_saved(result)
    assert saved["chosen"] == "kaplan_meier" and saved["fits"] == {}
    rebuilt = segment_from_saved(through_json(saved))
    assert rebuilt.fit is rebuilt.kaplan_meier
    assert_same_result(result, rebuilt)
    assert_bits(rebuilt.fit.survival(MONTHS), result.fit.survival(MONTHS))


def test_segment_fits_from_saved_without_a_file(segment_fits):
    rebuilt = fits_from_saved(through_json(fits_to_saved(segment_fits)))
    pd.testing.assert_frame_equal(rebuilt.summary_table(), segment_fits.summary_table(), check_exact=True)
    with pytest.raises(FitError, match="corrupt"):
        fits_from_saved(segment_to_saved(segment_fits["smb"]))


@pytest.fixture
def saved_file(segment_fits, tmp_path):
    path = tmp_path / "saved_fits.json"
    save_fits(segment_fits, path, metadata={"config_hash": "abc"})
    return path


def _load_error(path) -> Problem:
    with pytest.raises(FitError) as caught:
        load_fits(path)
    problem = caught.value.problems[0]
    assert problem.source == str(path)
    assert "simcore fit" in problem.hint
    return problem


def test_missing_file(tmp_path):
    assert "cannot read" in _load_error(tmp_path / "nowhere.json").message


def test_not_json(tmp_path):
    path = tmp_path / "fits.json"
    path.write_text("segment,family\nsmb,weibull\n")
    assert "not valid JSON" in _load_error(path).message


def test_truncated_file(saved_file):
    text = saved_file.read_text()
    saved_file.write_text(text[: len(text) // 2])
    assert "not valid JSON" in _load_error(saved_file).message


def test_other_json_is_not_a_saved_fits_file(segment_fits, tmp_path):
    # the report written by `simcore fit` (fits.json) is not a saved-fits file
    path = tmp_path / "fits.json"
    path.write_text(json.dumps(segment_fits.to_json(), default=str))
    assert "not a saved-fits file" in _load_error(path).message


def test_unknown_format_version(saved_file):
    document = json.loads(saved_file.read_text())
    document["format_version"] = 99
    saved_file.write_text(json.dumps(document))
    assert "format version 99" in _load_error(saved_file).message


@pytest.mark.parametrize("damage", ["drop_params", "short_covariance", "bad_number", "nan_token", "bad_events"])
def test_corrupt_content(saved_file, damage):
    document = json.loads(saved_file.read_text())
    result = document["segments"]["smb"]
    fit = result["fits"][result["chosen"]]
    if damage == "drop_params":
        del fit["params"]
    elif damage == "short_covariance":
        fit["covariance"] = fit["covariance"][:-1]
    elif damage == "bad_number":
        fit["aic"] = "lots"
    elif damage == "bad_events":
        fit["data"]["events"][0] = 2
    text = json.dumps(document)
    if damage == "nan_token":
        text = text.replace('"log_likelihood": ', '"log_likelihood": NaN, "was": ', 1)
    saved_file.write_text(text)
    problem = _load_error(saved_file)
    assert "corrupt" in problem.message
    if damage != "nan_token":  # says where
        assert "segments.smb.fits." in problem.message


def test_other_version_names_both_versions(saved_file):
    document = json.loads(saved_file.read_text())
    document["format_version"] = 1
    saved_file.write_text(json.dumps(document))
    problem = _load_error(saved_file)
    assert "format version 1" in problem.message and "version 2" in problem.message


def test_metadata_must_be_plain_json(segment_fits, tmp_path):
    path = tmp_path / "saved_fits.json"
    with pytest.raises(OutputError, match="metadata"):
        save_fits(segment_fits, path, metadata={"hash": float("nan")})
    with pytest.raises(OutputError, match="metadata"):
        save_fits(segment_fits, path, metadata=["not", "a", "dict"])
    assert not path.exists()


def test_failure_classes_survive(segment_fits):
    failures = {"bad": DataError(Problem("durations are negative", source="customers.csv", row=7))}
    fits = SegmentFits(dict(segment_fits.results), failures)
    rebuilt = fits_from_saved(through_json(fits_to_saved(fits)))
    assert type(rebuilt.failures["bad"]) is DataError
    assert rebuilt.failures["bad"].problems == failures["bad"].problems


def test_kaplan_meier_tail_keeps_its_options_through_saving(book):
    durations, events, _ = book
    options = {"breakpoints": (9, 2)}
    tailed = fit_family(durations, events, family="kaplan_meier", km_tail="piecewise_exponential", **options)
    direct = fit_family(durations, events, family="piecewise_exponential", **options)
    # the tail is the piecewise fit with the requested breakpoints
    assert dict(tailed.tail.options) == {"breakpoints": (2.0, 9.0)}
    assert dict(tailed.options) == {"km_tail": "piecewise_exponential", "breakpoints": (2.0, 9.0)}
    assert_bits(tailed.tail.params, direct.params)
    rebuilt = fit_from_saved(through_json(fit_to_saved(tailed)))
    assert_same_fit(tailed, rebuilt)
    assert_bits(rebuilt.survival_draws(3, 120, seed=SEED, method="bootstrap"),
                tailed.survival_draws(3, 120, seed=SEED, method="bootstrap"))


def test_tail_stacking_segment_round_trips_with_the_same_draws():
    durations, events, signup = small_book(n=4000, seed=11)
    result = fit_segment(durations, events, signup_offsets=signup, holdout_months=6, window_end=36,
                         model_averaging="tail_stacking", segment="smb")
    rebuilt = segment_from_saved(through_json(segment_to_saved(result)))
    assert_same_result(result, rebuilt)
    assert rebuilt.survival_model().tail is not None
    assert_bits(rebuilt.survival_model().tail.survival_draws(100, 240, seed=SEED),
                result.survival_model().tail.survival_draws(100, 240, seed=SEED))
