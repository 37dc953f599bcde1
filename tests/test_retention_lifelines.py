"""lifelines as the reference: our scipy fits of the monthly-grid likelihood against
lifelines' ``fit_interval_censoring`` (public API only) on its Rossi data set.

The Rossi data (432 people, arrest week or censoring at week 52) are fitted by simcore on
aggregated (week, arrested) counts and by lifelines on one row per person, with the
intervals ``(t-1, t]`` for an arrest in week t and ``(t, inf)`` for no arrest by week t:
the same likelihood. lifelines runs with tight stopping rules so both reach the maximum.

Tolerances, and why
    * parameters: relative 1e-6. Both searches stop where the log-likelihood is flat to
      about 1e-12; a relative parameter change of 1e-7 moves it by less than that, so the
      two stopping points differ at that level (measured: at most 3e-7).
    * log-likelihood: relative 1e-11, and ours is never below lifelines' (beyond 1e-9
      absolute rounding).
    * generalized gamma: lifelines' interval fit ends its simplex stage at its tolerance,
      about 1e-5 (relative) from the maximum, because its gradient stage gets a NaN
      autograd gradient; parameters are not compared, log-likelihoods are, and ours must
      be >= lifelines'.
    * covariance: relative 1e-5 against lifelines' ``variance_matrix_`` (autograd Hessian)
      where lifelines has one; for the generalized gamma lifelines' is NaN, so the
      reference is a Richardson-extrapolated central-difference Hessian of the raw-row
      likelihood written in this file (relative 1e-4: a finite-difference Hessian).
    * survival functions: relative 1e-9 against lifelines' ``survival_function_at_times``.
    * cure model: lifelines' interval likelihood gives an open interval ``(t, inf)`` the
      probability ``S(t) - S(inf) = S(t) - cured fraction``, which leaves the cured
      customers out; ours scores them with ``S(t)``. There is no lifelines equivalent,
      so the reference is a Nelder-Mead maximisation of the raw-row likelihood written
      here (relative 1e-5 on parameters: Nelder-Mead's own tolerance), and lifelines
      checks the closed form only.
"""

from __future__ import annotations

import warnings

import lifelines
import lifelines.exceptions
import numpy as np
import pytest
from lifelines.datasets import load_rossi
from scipy import optimize

from simcore.errors import FitError
from simcore.retention import fit_family
from simcore.retention.counts import aggregate_survival
from simcore.retention.families import family_spec
from simcore.retention.fitting import fit_counts

BREAKPOINTS = (8.0, 20.0, 35.0)
FAMILIES = ("exponential", "weibull", "lognormal", "loglogistic", "generalized_gamma", "piecewise_exponential")
TIGHT = {"SLSQP": {"ftol": 1e-14, "maxiter": 10_000}, "L-BFGS-B": {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000}}


@pytest.fixture(scope="module")
def rossi():
    frame = load_rossi()
    return frame["week"].to_numpy(), frame["arrest"].to_numpy()


def lifelines_fitter(family):
    return {
        "exponential": lambda: lifelines.ExponentialFitter(),
        "weibull": lambda: lifelines.WeibullFitter(),
        "lognormal": lambda: lifelines.LogNormalFitter(),
        "loglogistic": lambda: lifelines.LogLogisticFitter(),
        "generalized_gamma": lambda: lifelines.GeneralizedGammaFitter(),
        "piecewise_exponential": lambda: lifelines.PiecewiseExponentialFitter(list(BREAKPOINTS)),
    }[family]()


def raw_bounds(durations, events):
    """One interval per person: churn in week t -> (t-1, t], still free at t -> (t, inf)."""
    lower = np.where(events == 1, durations - 1, durations).astype(float)
    upper = np.where(events == 1, durations, np.inf).astype(float)
    return lower, upper


def fit_lifelines(family, durations, events, weights=None, initial_point=None):
    fitter = lifelines_fitter(family)
    options = TIGHT.get(getattr(fitter, "_scipy_fit_method", "L-BFGS-B"), {})
    with warnings.catch_warnings():
        # lifelines warns that its generalized gamma variance matrix is NaN under interval
        # censoring; that matrix is not used here
        warnings.simplefilter("ignore", lifelines.exceptions.StatisticalWarning)
        fitter.fit_interval_censoring(*raw_bounds(durations, events), weights=weights,
                                      initial_point=initial_point, fit_options=options)
    return fitter


def ours_options(family):
    return {"breakpoints": BREAKPOINTS} if family == "piecewise_exponential" else {}


@pytest.fixture(scope="module")
def fits(rossi):
    durations, events = rossi
    out = {}
    for family in FAMILIES:
        ours = fit_family(durations, events, family=family, **ours_options(family))
        # lifelines' own start runs the piecewise fit to a wrong point on these data; it
        # starts from ours there (the maximum is still lifelines' own)
        start = ours.params * 1.05 if family == "piecewise_exponential" else None
        out[family] = (ours, fit_lifelines(family, durations, events, initial_point=start))
    return out


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "generalized_gamma"])
def test_estimates_equal_lifelines_interval_fit_on_raw_rows(fits, family):
    ours, reference = fits[family]
    assert len(ours.data.durations) < 100 < len(reference.weights)  # ours really was aggregated
    np.testing.assert_allclose(ours.params, reference.params_.to_numpy(), rtol=1e-6)
    assert ours.log_likelihood == pytest.approx(reference.log_likelihood_, rel=1e-11)
    assert ours.log_likelihood >= reference.log_likelihood_ - 1e-9
    assert ours.n_customers == 432 and ours.n_events == 114


def test_generalized_gamma_reaches_at_least_lifelines_likelihood(fits):
    ours, reference = fits["generalized_gamma"]
    assert ours.log_likelihood >= reference.log_likelihood_ - 1e-9
    assert ours.log_likelihood == pytest.approx(reference.log_likelihood_, rel=1e-8)
    # the same maximum up to lifelines' simplex tolerance
    np.testing.assert_allclose(ours.params, reference.params_.to_numpy(), rtol=1e-3)


@pytest.mark.parametrize("family", ["weibull", "lognormal", "piecewise_exponential"])
def test_aggregated_lifelines_fit_is_the_raw_row_fit(rossi, fits, family):
    """lifelines' weights are frequency weights: its fit on our counts is its raw-row fit,
    so comparing with either is comparing with the same reference."""
    ours, raw = fits[family]
    counts = aggregate_survival(*rossi)
    start = ours.params * 1.05 if family == "piecewise_exponential" else None
    aggregated = fit_lifelines(family, counts.durations, counts.events, weights=counts.counts, initial_point=start)
    np.testing.assert_allclose(aggregated.params_.to_numpy(), raw.params_.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.params, aggregated.params_.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "generalized_gamma"])
def test_covariance_equals_lifelines_variance_matrix(fits, family):
    ours, reference = fits[family]
    expected = reference.variance_matrix_.to_numpy()
    # off-diagonal entries that are zero in exact arithmetic (piecewise pieces) are
    # compared on the scale of the variances
    np.testing.assert_allclose(ours.natural_covariance, expected, rtol=1e-5,
                               atol=1e-12 * np.abs(np.diag(expected)).max())


def raw_row_log_likelihood(survival, durations, events):
    """Sum over people of log P(observed week interval), one row per person."""
    s_now, s_before = survival(durations.astype(float)), survival(durations - 1.0)
    s_before = np.where(durations - 1 <= 0, 1.0, s_before)
    return float(np.sum(np.log(np.where(events == 1, s_before - s_now, s_now))))


def richardson_hessian(function, x, step=1e-3):
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


def test_generalized_gamma_covariance_is_inverse_raw_row_information(fits, rossi):
    ours, _ = fits["generalized_gamma"]
    durations, events = rossi
    spec = family_spec("generalized_gamma")

    def log_likelihood(z):
        return raw_row_log_likelihood(lambda t: spec.survival(spec.to_natural(z)[None, :], t, {})[0],
                                      durations, events)

    information = -richardson_hessian(log_likelihood, ours.unconstrained_params)
    np.testing.assert_allclose(ours.covariance, np.linalg.inv(information), rtol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_closed_form_survival_equals_lifelines(fits, family):
    _, reference = fits[family]
    spec = family_spec(family, ours_options(family))
    weeks = np.arange(1, 121).astype(float)
    ours = spec.survival(reference.params_.to_numpy()[None, :], weeks, spec.options)[0]
    expected = reference.survival_function_at_times(weeks).to_numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)


def cure_book(n=3000, seed=11):
    """Weibull lifetimes with a 30% never-churning share, observed over 48 months."""
    rng = np.random.Generator(np.random.PCG64(seed))
    lifetime = np.ceil(12.0 * rng.weibull(1.3, size=n))
    lifetime = np.where(rng.random(n) < 0.3, 10_000, lifetime)
    observed = rng.integers(1, 49, size=n)
    churned = lifetime <= observed
    return np.where(churned, lifetime, observed).astype(int), churned.astype(int)


def test_cure_model_equals_direct_raw_row_maximum():
    durations, events = cure_book()
    ours = fit_family(durations, events, family="cure_weibull")

    def negative(x):
        cured, scale, shape = 1 / (1 + np.exp(-x[0])), np.exp(x[1]), np.exp(x[2])
        survival = lambda t: cured + (1 - cured) * np.exp(-(np.maximum(t, 0) / scale) ** shape)  # noqa: E731
        return -raw_row_log_likelihood(survival, durations, events)

    start = ours.unconstrained_params + np.array([0.2, -0.1, 0.1])
    direct = optimize.minimize(negative, start, method="Nelder-Mead",
                               options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000, "maxfev": 40_000})
    natural = np.r_[1 / (1 + np.exp(-direct.x[0])), np.exp(direct.x[1:])]
    np.testing.assert_allclose(ours.params, natural, rtol=1e-5)
    assert ours.log_likelihood >= -direct.fun - 1e-9
    assert ours.params[0] == pytest.approx(0.3, abs=0.03)


def test_cure_closed_form_equals_lifelines_mixture_cure():
    durations, events = cure_book()
    reference = lifelines.MixtureCureFitter(base_fitter=lifelines.WeibullFitter())
    reference.fit(durations.astype(float), events)
    cured, scale, shape = (reference.params_[name] for name in ("cured_fraction_", "lambda_", "rho_"))
    spec = family_spec("cure_weibull")
    months = np.arange(1, 121).astype(float)
    ours = spec.survival(np.array([[cured, scale, shape]]), months, {})[0]
    np.testing.assert_allclose(ours, reference.survival_function_at_times(months).to_numpy(), rtol=1e-9)


def test_kaplan_meier_and_band_equal_lifelines(rossi):
    durations, events = rossi
    ours = fit_family(durations, events, family="kaplan_meier")
    reference = lifelines.KaplanMeierFitter().fit(durations, events)
    weeks = np.arange(0, 53)
    np.testing.assert_allclose(ours.survival(weeks), reference.survival_function_at_times(weeks).to_numpy(),
                               rtol=1e-12)
    band = reference.confidence_interval_survival_function_
    lower = np.array([band.iloc[:, 0][band.index <= w].iloc[-1] for w in weeks])
    upper = np.array([band.iloc[:, 1][band.index <= w].iloc[-1] for w in weeks])
    np.testing.assert_allclose(ours.km_lower[1:], lower[1:], rtol=1e-9)
    np.testing.assert_allclose(ours.km_upper[1:], upper[1:], rtol=1e-9)


def test_kaplan_meier_draws_reproduce_greenwood_variance(rossi):
    durations, events = rossi
    ours = fit_family(durations, events, family="kaplan_meier")
    reference = lifelines.KaplanMeierFitter().fit(durations, events)
    table = reference.event_table
    table = table[table.index > 0]
    # Greenwood: Var S(t) = S(t)^2 sum_{s<=t} d_s / (n_s (n_s - d_s))
    terms = (table["observed"] / (table["at_risk"] * (table["at_risk"] - table["observed"]))).cumsum()
    week = 52
    greenwood = reference.survival_function_at_times([week]).iloc[0] ** 2 * terms[terms.index <= week].iloc[-1]
    for method in ("asymptotic", "bootstrap"):
        draws = ours.survival_draws(4000, week, seed=11, method=method)
        assert draws[:, week].var(ddof=1) == pytest.approx(greenwood, rel=0.1)
        assert draws[:, week].mean() == pytest.approx(ours.survival([week])[0],
                                                      abs=3 * np.sqrt(greenwood / 4000))


def test_exponential_grid_log_likelihood_matches_direct_formula(rossi):
    durations, events = rossi
    fit = fit_family(durations, events, family="exponential")
    (scale,) = fit.params
    expected = raw_row_log_likelihood(lambda t: np.exp(-np.asarray(t, float) / scale), durations, events)
    assert fit.log_likelihood == pytest.approx(expected, rel=1e-12)


def test_unconstrained_covariance_is_delta_method_of_natural(fits):
    for ours, _ in fits.values():
        spec = ours.spec
        step = 1e-6
        jacobian = np.array([
            (spec.to_unconstrained(ours.params + step * e) - spec.to_unconstrained(ours.params - step * e)) / (2 * step)
            for e in np.eye(len(ours.params))
        ]).T
        expected = jacobian @ ours.natural_covariance @ jacobian.T
        np.testing.assert_allclose(ours.covariance, expected, rtol=1e-5, atol=1e-12)


def test_cure_model_without_cured_fraction_is_refused():
    # everybody churns within the window: no never-churning fraction to estimate
    rng = np.random.Generator(np.random.PCG64(4))
    lifetimes = rng.geometric(0.15, size=3000)
    with pytest.raises(FitError, match="weibull"):
        fit_family(lifetimes, np.ones_like(lifetimes), family="cure_weibull")


def test_aggregated_and_raw_rows_give_one_fit(rossi):
    durations, events = rossi
    counts = aggregate_survival(durations, events)
    for family in ("weibull", "cure_weibull", "sbg"):
        try:
            raw = fit_family(durations, events, family=family)
        except FitError:
            continue  # the cure model has no cured fraction on these data
        grouped = fit_counts(family, counts)
        np.testing.assert_array_equal(raw.params, grouped.params)
