"""The two-class geometric family: its closed form, its fit on books it describes, and
how it bows out on books it does not (see tests/README.md, coverage of the value
interval, for why it is a candidate)."""

from __future__ import annotations

import numpy as np
import pytest

from books import book, two_class_geometric
from simcore.errors import FitError
from simcore.retention import fit_family, fit_segment
from simcore.retention.families import family_spec


def test_closed_form_is_the_mixture_of_two_geometric_lifetimes():
    spec = family_spec("two_class_geometric")
    churn, share, extra = 0.01, 0.35, 0.1
    months = np.arange(0, 121, dtype=float)
    fast = 1 - (1 - churn) * (1 - extra)
    expected = share * (1 - churn) ** months + (1 - share) * (1 - fast) ** months
    np.testing.assert_allclose(spec.curves([[churn, share, extra]], months)[0], expected, rtol=1e-13)
    # the book generator's own formula, with its classes named the other way round
    truth = two_class_geometric(churn_fast=fast, churn_slow=churn, slow_share=share)
    np.testing.assert_allclose(spec.curves([[churn, share, extra]], months)[0], truth.survival(months), rtol=1e-13)


def test_fit_recovers_the_classes_of_a_two_class_book():
    truth = two_class_geometric(churn_fast=0.12, churn_slow=0.01, slow_share=0.35)
    durations, events, _ = book(truth, 20_000, 48, seed=5)
    fit = fit_family(durations, events, family="two_class_geometric")
    estimate = np.array(fit.params)
    expected = np.array([0.01, 0.35, 1 - 0.88 / 0.99])
    se = np.sqrt(np.diag(fit.covariance)) / np.abs(fit.spec.jacobian_diagonal(estimate))  # natural scale
    assert np.all(np.abs(estimate - expected) < 4 * se), (estimate, expected, se)


def test_a_homogeneous_book_puts_a_class_on_its_bound_and_auto_ranks_the_others():
    rng = np.random.Generator(np.random.PCG64(3))
    lifetimes = rng.geometric(0.05, size=5000)
    observed = rng.integers(1, 37, size=5000)
    durations, events = np.minimum(lifetimes, observed), (lifetimes <= observed).astype(int)
    with pytest.raises(FitError, match="two_class_geometric"):
        fit_family(durations, events, family="two_class_geometric")
    result = fit_segment(durations, events)
    row = result.ranking.set_index("family").loc["two_class_geometric"]
    assert np.isnan(row["rank"]) and row["weight"] == 0.0
    assert result.fit.family != "two_class_geometric"
