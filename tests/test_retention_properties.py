"""Shared property checks over every family of the registry (curves, gradients, draws,
saved round trip), and the checks every fit's inputs get."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import optimize

from simcore.errors import DataError, FitError
from simcore.retention import fit_family
from simcore.retention.bootstrap import BOOTSTRAP_REFITS, maximise_batched
from simcore.retention.counts import resample_counts
from simcore.retention.families import family_spec
from simcore.retention.likelihood import GridLikelihood
from simcore.retention.names import ALL_FAMILIES, PARAMETRIC_FAMILIES, UNCERTAINTY_METHODS
from simcore.retention.saved import fit_from_saved, fit_to_saved

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


@pytest.mark.parametrize("family", PARAMETRIC_FAMILIES)
def test_grid_likelihood_is_bounded_by_kaplan_meier(fits, family):
    # Kaplan-Meier maximises the monthly-grid likelihood over every discrete lifetime
    # distribution, so no family can beat it on its own data.
    assert fits[family].log_likelihood <= fits["kaplan_meier"].log_likelihood + 1e-6


@pytest.mark.parametrize("family", PARAMETRIC_FAMILIES)
def test_gradient_of_survival_matches_finite_differences(fits, family):
    spec = fits[family].spec
    if spec.survival_gradient is None:
        pytest.skip(f"{family} has no closed-form gradient (its likelihood uses finite differences)")
    z = fits[family].unconstrained_params
    months = np.arange(1, 61, dtype=float)
    _, analytic = spec.survival_gradient(spec.to_natural(z)[None, :], months, spec.options)
    step = 1e-6
    numeric = np.stack([
        (spec.survival(spec.to_natural(z + step * e)[None, :], months, spec.options)
         - spec.survival(spec.to_natural(z - step * e)[None, :], months, spec.options))[0] / (2 * step)
        for e in np.eye(len(z))
    ], axis=-1)
    np.testing.assert_allclose(analytic[0], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("family", PARAMETRIC_FAMILIES)
def test_likelihood_gradient_vanishes_at_the_estimate(fits, family):
    fit = fits[family]
    gradient = GridLikelihood(fit.spec, fit.data).gradient(fit.unconstrained_params[None, :])[0]
    # log-likelihood units over 4,000 customers: zero to the search's precision
    assert np.all(np.abs(gradient) < 1e-3)


@pytest.mark.parametrize("method", UNCERTAINTY_METHODS)
@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_survival_draws_are_survival_curves_and_seeded(fits, family, method):
    fit = fits[family]
    draws = fit.survival_draws(200, HORIZON, seed=7, method=method)
    assert draws.shape == (200, HORIZON + 1) and draws.dtype == np.float64
    assert_survival_curves(draws)
    np.testing.assert_array_equal(draws, fit.survival_draws(200, HORIZON, seed=7, method=method))
    assert not np.array_equal(draws, fit.survival_draws(200, HORIZON, seed=8, method=method))
    # draws scatter around the point curve
    point = fit.survival([24])[0]
    assert abs(np.median(draws[:, 24]) - point) < 4 * draws[:, 24].std() + 1e-9


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_saved_round_trip_draws_the_same_curves(fits, family):
    fit = fits[family]
    rebuilt = fit_from_saved(json.loads(json.dumps(fit_to_saved(fit), allow_nan=False)))
    months = np.arange(HORIZON + 1)
    assert rebuilt.survival(months).tobytes() == fit.survival(months).tobytes()
    for method in UNCERTAINTY_METHODS:
        assert (rebuilt.survival_draws(50, HORIZON, seed=3, method=method).tobytes()
                == fit.survival_draws(50, HORIZON, seed=3, method=method).tobytes())


@pytest.mark.parametrize("family", PARAMETRIC_FAMILIES)
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


@pytest.mark.parametrize("family", PARAMETRIC_FAMILIES)
def test_well_conditioned_fits_draw_asymptotically_and_agree_with_their_bootstrap(fits, family):
    fit = fits[family].with_bootstrap()
    assert fit.conditioning.well_conditioned, fit.conditioning.reasons
    assert fit.uncertainty == "asymptotic"
    boot = fit.survival_draws(BOOTSTRAP_REFITS, 36, seed=9, method="bootstrap")
    asym = fit.survival_draws(4000, 36, seed=9, method="asymptotic")
    # no family is the true model of this book, and the bootstrap also measures the
    # misspecification the model-based covariance ignores: same order of spread only
    assert 0.5 < boot[:, 36].std() / asym[:, 36].std() < 2.0
    assert boot[:, 36].mean() == pytest.approx(fit.survival([36])[0], abs=4 * boot[:, 36].std() / np.sqrt(200))


def test_bootstrap_spread_equals_asymptotic_spread_for_the_true_family():
    rng = np.random.Generator(np.random.PCG64(12))
    lifetime = rng.geometric(rng.beta(0.8, 4.0, size=5000))
    observed = rng.integers(1, 49, size=5000)
    fit = fit_family(np.where(lifetime <= observed, lifetime, observed), (lifetime <= observed).astype(int),
                     family="sbg")
    boot = fit.survival_draws(BOOTSTRAP_REFITS, 120, seed=9, method="bootstrap")
    asym = fit.survival_draws(4000, 120, seed=9, method="asymptotic")
    for month in (12, 36, 120):
        assert boot[:, month].std() == pytest.approx(asym[:, month].std(), rel=0.2)


def test_bootstrap_pool_is_cycled_in_shuffled_order(fits):
    fit = fits["weibull"]
    pool = fit.bootstrap_pool().params
    natural = fit.parameter_draws(3 * len(pool), seed=5, method="bootstrap")
    for cycle in range(3):
        block = natural[cycle * len(pool):(cycle + 1) * len(pool)]
        # every pool member once per cycle
        np.testing.assert_array_equal(np.sort(block, axis=0), np.sort(pool, axis=0))
    assert not np.array_equal(natural[: len(pool)], pool)


@pytest.mark.parametrize("family", ["weibull", "generalized_gamma", "cure_weibull", "sbg"])
def test_batched_refits_land_where_scipy_lands(fits, family):
    """The bootstrap's batched search against scipy's BFGS on each resample."""
    fit = fits[family]
    objective = GridLikelihood(fit.spec, fit.data)
    counts = resample_counts(fit.data, np.random.Generator(np.random.PCG64(1)), 5)
    start = np.repeat(fit.unconstrained_params[None, :], 5, axis=0)
    batched, converged = maximise_batched(objective, start, counts, information=fit.information)
    assert converged.all()
    for row in range(5):
        n = counts[row].sum()
        result = optimize.minimize(lambda z: -objective.values(z[None, :], counts[row])[0] / n, start[row],
                                   jac=lambda z: -objective.gradient(z[None, :], counts[row])[0] / n,
                                   method="BFGS", options={"gtol": 1e-10})
        assert objective.values(batched[row][None, :], counts[row])[0] >= -result.fun * n - 1e-5
        np.testing.assert_allclose(batched[row], result.x, atol=2e-3 * np.sqrt(np.diag(fit.covariance)).max())


def test_kaplan_meier_hazard_draws_are_binomial_around_the_estimate(fits):
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
    with pytest.raises(FitError, match="cure_weibull"):
        fit_family(durations, events, family="gompertz")
    with pytest.raises(FitError, match="breakpoints"):
        fit_family(durations, events, family="weibull", knots=[3])
    with pytest.raises(FitError, match="breakpoints"):
        fit_family(durations, events, family="weibull", likelihood="continuous")


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


def test_every_registry_family_has_a_spec_with_matching_sizes():
    for family in PARAMETRIC_FAMILIES:
        options = {"breakpoints": (3.0, 12.0)} if family == "piecewise_exponential" else {}
        spec = family_spec(family, options)
        assert len(spec.param_names) == len(spec.transforms) > 0
        assert spec.label and spec.formula
