"""Published reference numbers: Fader & Hardie (2007, 2010) for the sBG model and DEL/DERL."""

from __future__ import annotations

import numpy as np
import pytest

from simcore.retention import (
    discounted_expected_lifetime,
    discounted_expected_residual_lifetime,
    fit_family,
    residual_value_at_tenure,
    sbg_discounted_expected_lifetime,
    sbg_discounted_expected_residual_lifetime,
    sbg_log_likelihood,
)
from simcore.retention.counts import aggregate_survival
from simcore.retention.families import family_spec
from simcore.retention.grid_fit import fit_at
from simcore.retention.records import ParametricFit


def survivors_to_data(survivors):
    """Churners in period t = survivors(t-1) - survivors(t); the rest censored at the end."""
    durations, events, weights = [], [], []
    for t in range(1, len(survivors)):
        durations.append(t)
        events.append(1)
        weights.append(survivors[t - 1] - survivors[t])
    durations.append(len(survivors) - 1)
    events.append(0)
    weights.append(survivors[-1])
    return np.array(durations), np.array(events), np.array(weights, dtype=float)


# Fader & Hardie (2007), "How to project customer retention", survivors per 1,000, years 0-7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def test_sbg_regular_customers_match_fader_hardie_2007():
    fit = fit_family(*survivors_to_data(REGULAR), family="sbg")
    alpha, beta = fit.params
    # published to four decimals (alpha 0.7041, beta 1.1820, LL -1680.265)
    assert alpha == pytest.approx(0.7041, abs=5e-5)
    assert beta == pytest.approx(1.1820, abs=5e-5)
    assert fit.log_likelihood == pytest.approx(-1680.265, abs=5e-4)
    assert fit.log_likelihood == pytest.approx(sbg_log_likelihood(alpha, beta, *survivors_to_data(REGULAR)),
                                               rel=1e-12)


def test_sbg_high_end_customers_match_fader_hardie_2007():
    fit = fit_family(*survivors_to_data(HIGH_END), family="sbg")
    alpha, beta = fit.params
    assert alpha == pytest.approx(0.668, abs=5e-4)
    assert beta == pytest.approx(3.806, abs=5e-4)


def test_sbg_survival_is_product_of_retention_rates():
    # Fader & Hardie (2007): retention rate r(t) = (beta + t - 1) / (alpha + beta + t - 1).
    alpha, beta = 0.704, 1.182
    spec = family_spec("sbg")
    t = np.arange(0, 40)
    survival = spec.survival(np.array([[alpha, beta]]), t.astype(float), {})[0]
    retention = (beta + t[1:] - 1) / (alpha + beta + t[1:] - 1)
    np.testing.assert_allclose(survival, np.r_[1.0, np.cumprod(retention)], rtol=1e-12)


def test_sbg_covariance_is_inverse_numerical_hessian():
    durations, events, weights = survivors_to_data(REGULAR)
    fit = fit_family(durations, events, weights, family="sbg")
    z0 = np.log(fit.params)

    def ll(z):
        return sbg_log_likelihood(np.exp(z[0]), np.exp(z[1]), durations, events, weights)

    step = 1e-4
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
            hessian[i, j] = (ll(z0 + ei + ej) - ll(z0 + ei - ej) - ll(z0 - ei + ej) + ll(z0 - ei - ej)) / (4 * step**2)
    np.testing.assert_allclose(fit.covariance, np.linalg.inv(-hessian), rtol=1e-4)


def sbg_fit_at(alpha: float, beta: float, max_observed: int = 7) -> ParametricFit:
    """A fit record carrying given sBG parameters (for closed-form comparisons)."""
    return fit_at("sbg", [alpha, beta], aggregate_survival([1, max_observed], [1, 0]))


# Fader & Hardie (2010), Table 3: alpha = 3.80, beta = 15.20, discount rate 10% per period.
TABLE_3_DERL = [3.31, 3.45, 3.59, 3.72, 3.84]


@pytest.mark.parametrize("renewals, published", list(enumerate(TABLE_3_DERL)))
def test_derl_closed_form_matches_fader_hardie_2010_table_3(renewals, published):
    value = sbg_discounted_expected_residual_lifetime(3.80, 15.20, 0.10, renewals)
    assert round(value, 2) == pytest.approx(published, abs=1e-9)


@pytest.mark.parametrize("renewals", range(5))
def test_derl_by_summation_agrees_with_closed_form(renewals):
    fit = sbg_fit_at(3.80, 15.20)
    summed = discounted_expected_residual_lifetime(fit, renewals, 0.10)
    closed = sbg_discounted_expected_residual_lifetime(3.80, 15.20, 0.10, renewals)
    assert summed == pytest.approx(closed, rel=1e-9)


def test_del_closed_form_and_summation():
    closed = sbg_discounted_expected_lifetime(3.80, 15.20, 0.10)
    assert closed == pytest.approx(4.009, abs=5e-4)
    fit = sbg_fit_at(3.80, 15.20)
    assert discounted_expected_lifetime(fit, 0.10) == pytest.approx(closed, rel=1e-9)


@pytest.mark.parametrize("alpha, beta, rate", [(0.704, 1.182, 0.10), (0.668, 3.806, 0.02), (3.8, 15.2, 0.005)])
def test_del_summation_agrees_with_hypergeometric_form_for_other_parameters(alpha, beta, rate):
    fit = sbg_fit_at(alpha, beta)
    assert discounted_expected_lifetime(fit, rate) == pytest.approx(
        sbg_discounted_expected_lifetime(alpha, beta, rate), rel=1e-8
    )


def test_residual_value_at_tenure_is_one_payment_plus_discounted_derl():
    # A customer active at tenure a pays now, then faces F&H's renewal decision n = a + 1.
    fit = sbg_fit_at(3.80, 15.20)
    for tenure in range(4):
        expected = 1.0 + sbg_discounted_expected_residual_lifetime(3.80, 15.20, 0.10, tenure) / 1.10
        assert residual_value_at_tenure(fit, tenure, 0.10) == pytest.approx(expected, rel=1e-9)


def test_derl_rises_with_tenure_for_heterogeneous_cohort():
    # Survivors of a heterogeneous cohort are the better customers (Fader & Hardie 2010).
    values = [sbg_discounted_expected_residual_lifetime(3.80, 15.20, 0.10, n) for n in range(5)]
    assert np.all(np.diff(values) > 0)


def test_del_by_summation_for_a_continuous_family_matches_geometric_series():
    # Exponential on the monthly grid: S(t) = q^t with q = exp(-1/lambda), so
    # DEL = sum_t (q delta)^t = 1 / (1 - q delta) and DERL(n) = q / (1 - q delta).
    from lifelines.datasets import load_rossi

    rossi = load_rossi()
    fit = fit_family(rossi["week"], rossi["arrest"], family="exponential")
    q, delta = np.exp(-1.0 / fit.params[0]), 1 / 1.01
    assert discounted_expected_lifetime(fit, 0.01) == pytest.approx(1 / (1 - q * delta), rel=1e-9)
    assert discounted_expected_residual_lifetime(fit, 7, 0.01) == pytest.approx(q / (1 - q * delta), rel=1e-9)
