"""Aggregated-weight fits against lifelines fits on raw rows (lifelines' Rossi recidivism data).

lifelines treats weights as frequency weights, so collapsing customers to unique
(duration, event) rows with counts must reproduce the raw-row point estimates, covariance
and log-likelihood.
"""

from __future__ import annotations

import lifelines
import numpy as np
import pytest
from lifelines.datasets import load_rossi

from simcore.errors import FitError
from simcore.retention import fit_family
from simcore.retention.families import LIFELINES_FAMILIES
from simcore.retention.fit import (
    _lifelines_fitter,
    _piecewise_initial_point,
    aggregate_survival,
    convergence_options,
)

BREAKPOINTS = (8.0, 20.0, 35.0)


@pytest.fixture(scope="module")
def rossi():
    frame = load_rossi()
    return frame["week"].to_numpy(), frame["arrest"].to_numpy()


def raw_lifelines_fitter(family):
    return {
        "exponential": lambda: lifelines.ExponentialFitter(),
        "weibull": lambda: lifelines.WeibullFitter(),
        "lognormal": lambda: lifelines.LogNormalFitter(),
        "loglogistic": lambda: lifelines.LogLogisticFitter(),
        "generalized_gamma": lambda: lifelines.GeneralizedGammaFitter(),
        "piecewise_exponential": lambda: lifelines.PiecewiseExponentialFitter(list(BREAKPOINTS)),
        "cure_weibull": lambda: lifelines.MixtureCureFitter(base_fitter=lifelines.WeibullFitter()),
    }[family]()


LIKELIHOODS = ("interval", "continuous")
# The cure model is always fitted with the continuous likelihood (see simcore.retention.fit).
CASES = [(family, likelihood) for family in LIFELINES_FAMILIES for likelihood in LIKELIHOODS
         if (family, likelihood) != ("cure_weibull", "interval")]


def finite_difference_hessian(function, x, step=1e-3):
    """Central second differences, Richardson-extrapolated over steps h and h/2."""
    def at(h):
        k = len(x)
        out = np.empty((k, k))
        for i in range(k):
            for j in range(k):
                ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
                out[i, j] = (function(x + ei + ej) - function(x + ei - ej) - function(x - ei + ej)
                             + function(x - ei - ej)) / (4 * h * h)
        return out

    return (4 * at(step / 2) - at(step)) / 3


def raw_bounds(durations, events):
    """One interval per person: churn in week t -> (t-1, t], still free at t -> (t, inf)."""
    lower = np.where(events == 1, durations - 1, durations).astype(float)
    upper = np.where(events == 1, durations, np.inf).astype(float)
    return lower, upper


@pytest.fixture(scope="module")
def fits(rossi):
    durations, events = rossi
    out = {}
    for family, likelihood in CASES:
        options = {"breakpoints": BREAKPOINTS} if family == "piecewise_exponential" else {}
        ours = fit_family(durations, events, family=family, likelihood=likelihood, **options)
        raw = fit_raw_rows(raw_lifelines_fitter(family), family, likelihood, durations, events)
        out[family, likelihood] = (ours, raw)
    return out


def fit_raw_rows(raw, family, likelihood, durations, events):
    """Fit a lifelines fitter on one row per person, started where our fit starts."""
    initial = None
    if family == "generalized_gamma":
        # our starting rule: the nested Weibull fit (lambda = 1), here fitted on raw rows
        weibull = lifelines.WeibullFitter()
        if likelihood == "interval":
            weibull.fit_interval_censoring(*raw_bounds(durations, events))
        else:
            weibull.fit(durations.astype(float), events)
        initial = np.array([np.log(weibull.lambda_), -np.log(weibull.rho_), 1.0])
    if family == "piecewise_exponential":
        # the same closed-form starting point our fit uses (lifelines' own start
        # converges to a wrong point on these data); the data stay one row per person
        initial = _piecewise_initial_point(aggregate_survival(durations, events), {"breakpoints": BREAKPOINTS})
    # same (tight) stopping rules as our fit, so both runs reach the optimum
    if likelihood == "interval":
        raw.fit_interval_censoring(*raw_bounds(durations, events), initial_point=initial,
                                   fit_options=convergence_options(raw))
    else:
        raw.fit(durations.astype(float), events, initial_point=initial, fit_options=convergence_options(raw))
    return raw


@pytest.mark.parametrize("family, likelihood", CASES)
def test_aggregated_fit_equals_raw_rows(fits, family, likelihood):
    ours, raw = fits[family, likelihood]
    assert len(ours.data.durations) < 100 < len(raw.weights)  # the fit really was aggregated
    se = np.sqrt(np.diag(ours.natural_covariance))
    # Relative 1e-6 on every parameter; the Rossi data barely identify the cured fraction
    # (estimate 0.05, standard error 1.45, the likelihood is flat there), so the two
    # optimisers' stopping points may differ by up to 1e-6 of a standard error instead.
    np.testing.assert_array_less(np.abs(ours.params - raw._fitted_parameters_),
                                 np.maximum(1e-6 * np.abs(raw._fitted_parameters_), 1e-6 * se))
    assert ours.fit_log_likelihood == pytest.approx(raw.log_likelihood_, rel=1e-9)
    assert ours.n_customers == len(raw.weights) == 432
    assert ours.n_events == 114


@pytest.mark.parametrize("family, likelihood", [("generalized_gamma", "interval"), ("cure_weibull", "continuous")])
def test_faster_search_stops_where_lifelines_stops(fits, rossi, family, likelihood):
    """On the same raw rows, the fitter simcore uses (lifelines' two-stage search with the
    simplex stage evaluated without autograd) ends where lifelines' own fitter ends.

    These two families take lifelines' full search: the generalized gamma's interval
    likelihood has no finite autograd gradient, and the cure model starts there to avoid
    the boundary of its cured fraction."""
    durations, events = rossi
    _, raw = fits[family, likelihood]
    options = {"likelihood": likelihood}
    ours = fit_raw_rows(_lifelines_fitter(family, options), family, likelihood, durations, events)
    assert type(ours) is not type(raw)
    np.testing.assert_allclose(ours._fitted_parameters_, raw._fitted_parameters_, rtol=1e-12, atol=0)
    assert ours.log_likelihood_ == pytest.approx(raw.log_likelihood_, rel=1e-13)
    both_finite = np.isfinite(raw.variance_matrix_.to_numpy())
    np.testing.assert_array_equal(np.isfinite(ours.variance_matrix_.to_numpy()), both_finite)
    np.testing.assert_allclose(ours.variance_matrix_.to_numpy()[both_finite],
                               raw.variance_matrix_.to_numpy()[both_finite], rtol=1e-10)


@pytest.mark.parametrize("family, likelihood", CASES)
def test_aggregated_covariance_equals_raw_row_information(fits, rossi, family, likelihood):
    """Frequency weights give the raw-row observed information: lifelines' own Hessian of the
    raw-row likelihood, evaluated at our estimate, inverts to our covariance."""
    from autograd import hessian

    ours, raw = fits[family, likelihood]
    durations, events = rossi
    n = len(durations)
    if likelihood == "interval":
        lower, upper = raw_bounds(durations, events)
        # lifelines clips interval bounds to [1e-20, 1e25] before fitting
        bounds = (np.clip(lower, 1e-20, 1e25), np.clip(upper, 1e-20, 1e25))
        objective, observed = raw._negative_log_likelihood_interval_censoring, lower == upper
    else:
        objective, bounds = raw._negative_log_likelihood_right_censoring, (durations.astype(float), None)
        observed = events.astype(bool)
    params = np.asarray(ours.params)
    information = hessian(objective)(params, bounds, observed, np.zeros(n), np.ones(n)) * n
    if family == "generalized_gamma" and likelihood == "interval":
        # autograd's Hessian is NaN here (see simcore.retention.fit); use Richardson-
        # extrapolated central differences of the raw-row objective instead
        assert np.isnan(information).any()
        information = finite_difference_hessian(lambda x: objective(x, bounds, observed, np.zeros(n), np.ones(n)) * n,
                                                params)
    expected = np.linalg.inv(information)
    # off-diagonal entries that are zero in exact arithmetic (piecewise pieces) are
    # compared on the scale of the variances
    np.testing.assert_allclose(ours.natural_covariance, expected, rtol=1e-6,
                               atol=1e-12 * np.abs(np.diag(expected)).max())


@pytest.mark.parametrize("family, likelihood", [c for c in CASES if c[0] != "generalized_gamma"])
def test_aggregated_covariance_equals_raw_row_variance_matrix(fits, family, likelihood):
    # The generalized gamma is left out: lifelines differentiates its incomplete-gamma
    # terms numerically, so its variance_matrix_ moves by ~0.4% when the estimate moves
    # by 1e-7; the information check above covers it at a common estimate.
    ours, raw = fits[family, likelihood]
    expected = raw.variance_matrix_.to_numpy()
    np.testing.assert_allclose(ours.natural_covariance, expected, rtol=1e-5,
                               atol=1e-12 * np.abs(np.diag(expected)).max())


@pytest.mark.parametrize("family", LIFELINES_FAMILIES)
def test_closed_form_survival_equals_lifelines(fits, family):
    ours, raw = fits[family, "continuous" if family == "cure_weibull" else "interval"]
    months = np.arange(1, 121).astype(float)
    # lifelines' own survival formula evaluated at our parameters
    expected = np.asarray(raw._survival_function(ours.params, months), dtype=float)
    np.testing.assert_allclose(ours.survival(months), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("family", LIFELINES_FAMILIES)
def test_unconstrained_covariance_is_delta_method_of_natural(fits, family):
    ours, raw = fits[family, "continuous" if family == "cure_weibull" else "interval"]
    # d(unconstrained)/d(natural) by finite differences of the family's own transform
    spec = ours.spec
    step = 1e-6
    jac = np.array([
        (spec.to_unconstrained(ours.params + step * e) - spec.to_unconstrained(ours.params - step * e)) / (2 * step)
        for e in np.eye(len(ours.params))
    ]).T
    expected = jac @ ours.natural_covariance @ jac.T
    np.testing.assert_allclose(ours.covariance, expected, rtol=1e-5, atol=1e-12)


def test_kaplan_meier_aggregated_equals_raw_rows(rossi):
    durations, events = rossi
    ours = fit_family(durations, events, family="kaplan_meier")
    raw = lifelines.KaplanMeierFitter().fit(durations, events)
    weeks = np.arange(0, 53)
    np.testing.assert_allclose(ours.survival(weeks), raw.survival_function_at_times(weeks).to_numpy(), rtol=1e-12)
    band = raw.confidence_interval_survival_function_
    lower = np.array([band.iloc[:, 0][band.index <= w].iloc[-1] for w in weeks])
    upper = np.array([band.iloc[:, 1][band.index <= w].iloc[-1] for w in weeks])
    np.testing.assert_allclose(ours.km_lower[1:], lower[1:], rtol=1e-9)
    np.testing.assert_allclose(ours.km_upper[1:], upper[1:], rtol=1e-9)


def test_kaplan_meier_draws_reproduce_greenwood_variance(rossi):
    durations, events = rossi
    ours = fit_family(durations, events, family="kaplan_meier")
    raw = lifelines.KaplanMeierFitter().fit(durations, events)
    table = raw.event_table
    table = table[table.index > 0]
    # Greenwood: Var S(t) = S(t)^2 sum_{s<=t} d_s / (n_s (n_s - d_s))
    terms = (table["observed"] / (table["at_risk"] * (table["at_risk"] - table["observed"]))).cumsum()
    week = 52
    greenwood = raw.survival_function_at_times([week]).iloc[0] ** 2 * terms[terms.index <= week].iloc[-1]
    draws = ours.survival_draws(4000, week, seed=11)
    assert draws[:, week].var(ddof=1) == pytest.approx(greenwood, rel=0.1)
    assert draws[:, week].mean() == pytest.approx(ours.survival([week])[0], abs=3 * np.sqrt(greenwood / 4000))


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
def test_grid_log_likelihood_of_exponential_matches_direct_formula(rossi, likelihood):
    durations, events = rossi
    fit = fit_family(durations, events, family="exponential", likelihood=likelihood)
    (scale,) = fit.params
    survival = lambda t: np.exp(-np.asarray(t, float) / scale)  # noqa: E731
    expected = np.sum(np.where(events == 1, np.log(survival(durations - 1) - survival(durations)),
                               np.log(survival(durations))))
    assert fit.log_likelihood == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("family", [f for f in LIFELINES_FAMILIES if f != "cure_weibull"])
def test_interval_fit_maximises_the_monthly_grid_likelihood(fits, family):
    ours, _ = fits[family, "interval"]
    assert ours.log_likelihood == pytest.approx(ours.fit_log_likelihood, rel=1e-9)
    continuous, _ = fits[family, "continuous"]
    assert ours.log_likelihood >= continuous.log_likelihood - 1e-6


def test_cure_model_uses_the_continuous_likelihood(rossi, fits):
    durations, events = rossi
    requested_interval = fit_family(durations, events, family="cure_weibull", likelihood="interval")
    assert requested_interval.options["likelihood"] == "continuous"
    _, raw = fits["cure_weibull", "continuous"]
    assert requested_interval.fit_log_likelihood == pytest.approx(raw.log_likelihood_, rel=1e-9)


def test_cure_model_without_cured_fraction_is_refused():
    # everybody churns within the window: no never-churning fraction to estimate
    rng = np.random.Generator(np.random.PCG64(4))
    lifetimes = rng.geometric(0.15, size=3000)
    with pytest.raises(FitError, match="weibull"):
        fit_family(lifetimes, np.ones_like(lifetimes), family="cure_weibull")
