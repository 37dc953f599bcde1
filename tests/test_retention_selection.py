"""Model choice per segment: ranking, warnings, holdout check, per-segment tables, plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from simcore.errors import FitError, Problem
from simcore.retention import (
    MIN_EVENTS,
    MIN_WINDOW_MONTHS,
    PARAMETRIC_FAMILIES,
    fit_family,
    fit_segment,
    fit_segments,
)
from simcore.outputs.plots import plot_segment_fit


def sbg_cohorts(n, alpha, beta, window, seed):
    """Customers with sBG lifetimes, signups spread over ``window`` months, observed to its end."""
    rng = np.random.Generator(np.random.PCG64(seed))
    lifetime = rng.geometric(rng.beta(alpha, beta, size=n))
    signup = rng.integers(0, window, size=n)
    observed = window - signup  # months between signup and the end of the window
    churned = lifetime <= observed
    return np.where(churned, lifetime, observed), churned.astype(int), signup


@pytest.fixture(scope="module")
def sbg_book():
    return sbg_cohorts(20000, 0.8, 3.0, 48, seed=123)


@pytest.fixture(scope="module")
def auto_result(sbg_book):
    durations, events, signup = sbg_book
    return fit_segment(durations, events, signup_offsets=signup, holdout_months=12, segment="smb")


def test_auto_ranks_every_parametric_family_by_aic(auto_result):
    ranking = auto_result.ranking
    assert set(ranking["family"]) == set(PARAMETRIC_FAMILIES)
    fitted = ranking.dropna(subset=["rank"])
    np.testing.assert_allclose(fitted["aic"], 2 * fitted["n_parameters"] - 2 * fitted["log_likelihood"])
    assert list(fitted["rank"]) == list(range(1, len(fitted) + 1))
    assert np.all(np.diff(fitted["aic"]) >= 0)
    assert auto_result.fit.family == fitted.iloc[0]["family"]
    assert "kaplan_meier" not in set(ranking["family"])


def test_auto_recovers_the_generating_model(auto_result):
    # 20,000 customers with sBG lifetimes: the true model must win on AIC and its
    # parameters must cover the truth.
    assert auto_result.fit.family == "sbg"
    summary = auto_result.fit.summary.set_index("parameter")
    for name, truth in (("alpha", 0.8), ("beta", 3.0)):
        assert summary.loc[name, "lower_95"] < truth < summary.loc[name, "upper_95"]


def test_bic_ranking_uses_bic(sbg_book):
    durations, events, _ = sbg_book
    result = fit_segment(durations, events, criterion="bic", candidates=["exponential", "weibull", "sbg"])
    fitted = result.ranking.dropna(subset=["rank"])
    n = len(durations)
    np.testing.assert_allclose(fitted["bic"], fitted["n_parameters"] * np.log(n) - 2 * fitted["log_likelihood"])
    assert np.all(np.diff(fitted["bic"]) >= 0)


def test_holdout_prefers_the_true_model_over_a_constant_hazard(auto_result):
    holdout = auto_result.holdout.set_index("family")
    assert set(holdout.index) == set(auto_result.fits)
    assert holdout.loc["sbg", "holdout_log_likelihood"] > holdout.loc["exponential", "holdout_log_likelihood"]
    assert holdout.loc["sbg", "holdout_active_error"] < holdout.loc["exponential", "holdout_active_error"]
    assert holdout.loc["sbg", "holdout_active_error"] < 0.02
    assert (holdout["n_holdout_customers"] > 0).all()


def test_holdout_scores_match_a_direct_computation(sbg_book):
    durations, events, signup = sbg_book
    result = fit_segment(durations, events, family="exponential", signup_offsets=signup, holdout_months=6)
    end, cutoff = int((signup + durations).max()), int((signup + durations).max()) - 6
    before = signup < cutoff
    known_d = np.minimum(durations, cutoff - signup)[before]
    known_e = (events.astype(bool) & (durations <= cutoff - signup))[before]
    early = fit_family(known_d, known_e, family="exponential")
    (scale,) = early.params
    survival = lambda t: np.exp(-np.asarray(t, float) / scale)  # noqa: E731
    active = before & (durations > cutoff - signup)
    age = cutoff - signup[active]
    prob = np.where(events[active] == 1, survival(durations[active] - 1) - survival(durations[active]),
                    survival(durations[active])) / survival(age)
    row = result.holdout.set_index("family").loc["exponential"]
    assert row["holdout_log_likelihood"] == pytest.approx(np.mean(np.log(prob)), rel=1e-6)
    assert row["n_holdout_customers"] == active.sum()
    assert end == 48


def test_holdout_criterion_ranks_by_holdout_likelihood(sbg_book):
    durations, events, signup = sbg_book
    result = fit_segment(durations, events, criterion="holdout", candidates=["exponential", "sbg", "weibull"],
                         signup_offsets=signup, holdout_months=12)
    fitted = result.ranking.dropna(subset=["rank"])
    assert np.all(np.diff(fitted["holdout_log_likelihood"]) <= 0)
    with pytest.raises(FitError, match="holdout"):
        fit_segment(durations, events, criterion="holdout")


def test_small_or_short_segments_warn():
    rng = np.random.Generator(np.random.PCG64(8))
    durations = rng.integers(1, 9, size=60)
    events = (rng.random(60) < 0.3).astype(int)
    result = fit_segment(durations, events, candidates=["exponential", "weibull"], segment="tiny")
    messages = " ".join(p.message for p in result.warnings)
    assert events.sum() < MIN_EVENTS and durations.max() < MIN_WINDOW_MONTHS
    assert "churn events" in messages and "longest observed tenure" in messages
    assert all(isinstance(p, Problem) and p.severity == "warning" for p in result.warnings)
    assert "tiny" in messages


def test_large_long_segment_has_no_extrapolation_warning(auto_result):
    assert not [p for p in auto_result.warnings if "churn events" in p.message or "tenure is" in p.message]


def test_failed_family_stays_in_ranking_with_reason():
    # no churn before month 3: the first piecewise interval cannot be estimated
    durations = np.r_[np.full(50, 4), np.full(50, 8), np.full(100, 10)]
    events = np.r_[np.ones(100), np.zeros(100)].astype(int)
    result = fit_segment(durations, events, candidates=["exponential", "piecewise_exponential"],
                         breakpoints=[3])
    row = result.ranking.set_index("family").loc["piecewise_exponential"]
    assert np.isnan(row["rank"]) and "no churn between 0 and 3 months" in row["error"]
    assert result.fit.family == "exponential"


def test_kaplan_meier_family_needs_a_named_tail_to_extrapolate(sbg_book):
    durations, events, _ = sbg_book
    plain = fit_segment(durations, events, family="kaplan_meier")
    assert plain.fit.family == "kaplan_meier"
    with pytest.raises(FitError, match="km_tail"):
        plain.fit.survival_draws(5, 120, seed=1)
    tailed = fit_segment(durations, events, family="kaplan_meier", km_tail="sbg")
    assert tailed.fit.tail.family == "sbg"
    assert tailed.fit.survival_draws(5, 120, seed=1).shape == (5, 121)


def test_unknown_criterion_and_candidates_are_rejected(sbg_book):
    durations, events, _ = sbg_book
    with pytest.raises(FitError, match="aic"):
        fit_segment(durations, events, criterion="r2")
    with pytest.raises(FitError, match="parametric"):
        fit_segment(durations, events, candidates=["kaplan_meier"])


@pytest.fixture(scope="module")
def segment_frame():
    parts = []
    for name, (alpha, beta), seed in (("smb", (0.9, 2.0), 1), ("enterprise", (1.5, 12.0), 2)):
        d, e, _ = sbg_cohorts(3000, alpha, beta, 36, seed)
        parts.append(pd.DataFrame({"segment": name, "tenure_months": d, "churned": e.astype(bool)}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def segment_fits(segment_frame):
    return fit_segments(segment_frame, candidates=["exponential", "weibull", "lognormal", "sbg"])


def test_fit_segments_summary_table(segment_fits, segment_frame):
    table = segment_fits.summary_table().set_index("segment")
    assert set(table.index) == {"smb", "enterprise"}
    for column in ("family", "ranking", "parameters", "median_lifetime_months", "S_12", "S_24", "S_60"):
        assert column in table.columns
    for segment in ("smb", "enterprise"):
        fit = segment_fits[segment].fit
        assert table.loc[segment, "S_60"] == pytest.approx(fit.survival([60])[0])
        assert table.loc[segment, "family"] == fit.family
        assert table.loc[segment, "ranking"].startswith(fit.family)
        assert table.loc[segment, "n_customers"] == (segment_frame["segment"] == segment).sum()
    # enterprise churns less (beta / alpha much larger)
    assert table.loc["enterprise", "S_24"] > table.loc["smb", "S_24"]


def test_fit_segments_json(segment_fits):
    text = json.dumps(segment_fits.to_json())
    payload = json.loads(text)
    chosen = payload["segments"]["smb"]["chosen"]
    fit = segment_fits["smb"].fit
    assert chosen["family"] == fit.family
    assert set(chosen["parameters"]) == set(fit.param_names)
    assert chosen["aic"] == pytest.approx(fit.aic)
    assert chosen["n_events"] == fit.n_events


def test_fit_segments_reports_every_failing_segment(segment_frame):
    frame = pd.concat([segment_frame, pd.DataFrame({"segment": "empty", "tenure_months": [5, 6],
                                                    "churned": [False, False]})])
    with pytest.raises(FitError, match="empty"):
        fit_segments(frame, candidates=["exponential"])
    kept = fit_segments(frame, candidates=["exponential"], raise_on_failure=False)
    assert "empty" in kept.failures and set(kept.results) == {"smb", "enterprise"}


def test_plot_segment_fit_on_rossi(tmp_path):
    rossi = load_rossi()
    result = fit_segment(rossi["week"], rossi["arrest"], segment="rossi")
    ax = plot_segment_fit(result, horizon_months=120)
    assert "rossi" in ax.get_title() and result.fit.label in ax.get_title()  # "Weibull", not "weibull"
    styles = {line.get_linestyle() for line in ax.get_lines()}
    assert "--" in styles  # the extrapolated part is dashed
    path = tmp_path / "rossi.png"
    ax.figure.savefig(path, dpi=80)
    assert path.stat().st_size > 10_000
