"""Shared property checks over every retention family (curves and parameter draws)."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.errors import DataError, FitError
from simcore.retention import ALL_FAMILIES, fit_family

HORIZON = 120


def simulated_book(n=4000, seed=20240601):
    """Heterogeneous monthly churn (sBG-like) plus 30% loyal customers who never churn,
    observed over a 48-month window (so every family, the cure model included, has
    something to fit)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    churn_probability = rng.beta(8.0, 32.0, size=n)
    lifetime = rng.geometric(churn_probability)  # months paid, >= 1
    lifetime = np.where(rng.random(n) < 0.3, 10_000, lifetime)
    months_observed = rng.integers(1, 49, size=n)  # signup spread over the window
    churned = lifetime <= months_observed
    duration = np.where(churned, lifetime, months_observed)
    return duration, churned.astype(int)


@pytest.fixture(scope="module")
def book():
    return simulated_book()


@pytest.fixture(scope="module")
def fits(book):
    durations, events = book
    out = {}
    for family in ALL_FAMILIES:
        options = {"km_tail": "weibull"} if family == "kaplan_meier" else {}
        out[family] = fit_family(durations, events, family=family, **options)
    return out


def assert_survival_curves(curves):
    curves = np.atleast_2d(curves)
    assert np.all(np.isfinite(curves))
    np.testing.assert_array_equal(curves[:, 0], 1.0)
    assert np.all((curves >= 0) & (curves <= 1))
    assert np.all(np.diff(curves, axis=1) <= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        hazards = np.where(curves[:, :-1] > 0, 1 - curves[:, 1:] / curves[:, :-1], 1.0)
    assert np.all((hazards >= 0) & (hazards <= 1))


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_point_curve_is_a_survival_curve(fits, family):
    fit = fits[family]
    months = np.arange(HORIZON + 1)
    curve = fit.survival(months)
    assert_survival_curves(curve)
    hazards = fit.hazard(months[:-1])
    assert np.all((hazards >= 0) & (hazards <= 1))
    np.testing.assert_allclose(hazards, 1 - curve[1:] / curve[:-1], rtol=1e-12)


@pytest.mark.parametrize("family", [f for f in ALL_FAMILIES if f != "kaplan_meier"])
def test_grid_likelihood_is_bounded_by_kaplan_meier(fits, family):
    # Kaplan-Meier maximises the monthly-grid likelihood over every discrete lifetime
    # distribution, so no family can beat it on its own data.
    assert fits[family].log_likelihood <= fits["kaplan_meier"].log_likelihood + 1e-6


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_survival_draws_are_survival_curves_and_seeded(fits, family):
    fit = fits[family]
    draws = fit.survival_draws(200, HORIZON, seed=7)
    assert draws.shape == (200, HORIZON + 1) and draws.dtype == np.float64
    assert_survival_curves(draws)
    np.testing.assert_array_equal(draws, fit.survival_draws(200, HORIZON, seed=7))
    assert not np.array_equal(draws, fit.survival_draws(200, HORIZON, seed=8))
    # draws scatter around the point curve
    point = fit.survival([24])[0]
    assert abs(np.median(draws[:, 24]) - point) < 4 * draws[:, 24].std() + 1e-9


@pytest.mark.parametrize("family", [f for f in ALL_FAMILIES if f != "kaplan_meier"])
def test_parameter_draws_have_the_fit_mean_and_covariance(fits, family):
    fit = fits[family]
    n = 20000
    natural = fit.parameter_draws(n, seed=3)
    z = fit.spec.to_unconstrained(natural)
    se = np.sqrt(np.diag(fit.covariance))
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - fit.unconstrained_params), 4 * se / np.sqrt(n))
    sample = np.cov(z, rowvar=False).reshape(fit.covariance.shape)
    # sampling error of a covariance entry is about sqrt(2/n) of the variance scale
    scale = np.outer(se, se)
    np.testing.assert_array_less(np.abs(sample - fit.covariance), 5 * np.sqrt(2.0 / n) * scale)


def test_kaplan_meier_hazard_draws_are_binomial_around_the_estimate(fits, book):
    fit = fits["kaplan_meier"]
    n = 4000
    hazards = fit.parameter_draws(n, seed=5)
    at_risk, _ = fit.data.risk_table()
    variance = fit.params * (1 - fit.params) / np.rint(at_risk)
    np.testing.assert_array_less(np.abs(hazards.mean(axis=0) - fit.params), 5 * np.sqrt(variance / n) + 1e-12)


def test_kaplan_meier_refuses_to_extrapolate_without_tail(book):
    durations, events = book
    fit = fit_family(durations, events, family="kaplan_meier")
    assert fit.survival([fit.max_observed_tenure]).shape == (1,)
    with pytest.raises(FitError, match="km_tail"):
        fit.survival([fit.max_observed_tenure + 1])
    with pytest.raises(FitError, match="km_tail"):
        fit.survival_draws(10, fit.max_observed_tenure + 1, seed=1)
    assert fit.survival_draws(10, fit.max_observed_tenure, seed=1).shape == (10, fit.max_observed_tenure + 1)


def test_kaplan_meier_tail_is_conditional_parametric_curve(fits):
    fit = fits["kaplan_meier"]
    m = fit.max_observed_tenure
    later = np.arange(m, m + 30)
    expected = fit.survival([m])[0] * fit.tail.survival(later) / fit.tail.survival([m])[0]
    np.testing.assert_allclose(fit.survival(later), expected, rtol=1e-12)
    assert fit.tail.family == "weibull"


def test_conditional_survival_is_ratio(fits):
    fit = fits["sbg"]
    t = np.arange(0, 25)
    np.testing.assert_allclose(fit.conditional_survival(12, t), fit.survival(12 + t) / fit.survival([12])[0])


def test_bootstrap_draws_agree_with_asymptotic_spread(fits):
    fit = fits["sbg"]
    boot = fit.survival_draws(300, 36, seed=9, method="bootstrap")
    asym = fit.survival_draws(4000, 36, seed=9)
    assert_survival_curves(boot)
    assert boot[:, 36].std() == pytest.approx(asym[:, 36].std(), rel=0.25)
    assert boot[:, 36].mean() == pytest.approx(fit.survival([36])[0], abs=3 * asym[:, 36].std() / np.sqrt(300) * 2)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["weibull", "kaplan_meier"])
def test_bootstrap_draws_of_lifelines_families(fits, family):
    fit = fits[family]
    months = min(36, fit.max_observed_tenure)
    boot = fit.survival_draws(60, months, seed=2, method="bootstrap")
    asym = fit.survival_draws(4000, months, seed=2)
    assert_survival_curves(boot)
    assert boot[:, months].std() == pytest.approx(asym[:, months].std(), rel=0.4)


def test_raw_and_preaggregated_inputs_give_the_same_fit(book):
    durations, events = book
    keys, counts = np.unique(np.c_[durations, events], axis=0, return_counts=True)
    raw = fit_family(durations, events, family="weibull")
    grouped = fit_family(keys[:, 0], keys[:, 1], counts, family="weibull")
    np.testing.assert_allclose(raw.params, grouped.params, rtol=1e-10)
    np.testing.assert_allclose(raw.covariance, grouped.covariance, rtol=1e-8)


@pytest.mark.parametrize(
    "durations, events, weights, match",
    [
        ([1, -2, 3], [1, 0, 1], None, "whole non-negative months"),
        ([1, 2.5, 3], [1, 0, 1], None, "whole non-negative months"),
        ([1, 2, 3], [1, 2, 1], None, "0/1"),
        ([0, 2, 3], [1, 0, 1], None, "tenure 0"),
        ([1, 2, 3], [1, 0, 1], [1, -1, 1], "weights"),
        ([1, 2, 3], [1, 0], None, "equal length"),
    ],
)
def test_invalid_survival_data_is_a_data_error(durations, events, weights, match):
    with pytest.raises(DataError, match=match):
        fit_family(durations, events, weights, family="exponential")


def test_unknown_family_and_option_list_the_valid_ones(book):
    durations, events = book
    with pytest.raises(FitError, match="weibull"):
        fit_family(durations, events, family="gompertz")
    with pytest.raises(FitError, match="breakpoints"):
        fit_family(durations, events, family="weibull", knots=[3])


def test_no_events_is_a_fit_error():
    with pytest.raises(FitError, match="no churn events"):
        fit_family([3, 4, 5], [0, 0, 0], family="weibull")


def test_censored_zero_durations_carry_no_information(book):
    durations, events = book
    with_zeros = fit_family(np.r_[durations, [0] * 50], np.r_[events, [0] * 50], family="exponential")
    without = fit_family(durations, events, family="exponential")
    np.testing.assert_allclose(with_zeros.params, without.params, rtol=1e-10)
    assert with_zeros.n_customers == without.n_customers


def test_fit_record_is_immutable(fits):
    fit = fits["weibull"]
    with pytest.raises(AttributeError):
        fit.family = "exponential"
    with pytest.raises(ValueError):
        fit.params[0] = 1.0


def test_median_lifetime_is_first_month_at_or_below_half(fits):
    for fit in fits.values():
        median = fit.median_lifetime
        s = fit.survival(np.arange(int(median) + 1))
        assert s[-1] <= 0.5 < s[-2]
