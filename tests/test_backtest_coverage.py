"""On books drawn from stable, known parameters the forecast intervals cover what happens
about as often as they say (the study in tests/README.md)."""

from __future__ import annotations

import pytest

from tests.backtest_books import coverage_study


def _pooled(frame):
    return frame["in_80"].mean(), frame["in_90"].mean(), frame["pit"].mean()


def test_intervals_cover_near_nominal_on_stable_books():
    # 5 seeds x 2 segments x (active customers, MRR, contribution) x 12 months. Months of
    # one path are correlated, so the bounds are those 5-seed blocks of the 50-seed study
    # stay within (every month: P10-P90 69-95%, P5-P95 84-98%).
    study = coverage_study(range(5), replications=200)
    coverage_80, coverage_90, pit = _pooled(study.months)
    assert 0.65 <= coverage_80 <= 0.97
    assert 0.80 <= coverage_90 <= 0.99
    assert abs(pit - 0.5) < 0.2  # actuals neither systematically above nor below the forecast


def test_intervals_cover_near_nominal_when_churn_is_dated_between_payments():
    # The same books with each churn dated on a day between the last payment and the
    # renewal it skips: the active customers at the cutoff have outlived part of their
    # month's churns, and the forecast conditions on it (tests/test_churn_dating.py).
    study = coverage_study(range(5), replications=200, timing="within_month")
    coverage_80, coverage_90, pit = _pooled(study.months)
    assert 0.65 <= coverage_80 <= 0.97
    assert 0.80 <= coverage_90 <= 0.99
    assert abs(pit - 0.5) < 0.2


@pytest.mark.slow
def test_intervals_cover_near_nominal_over_twenty_seeds():
    study = coverage_study(range(20), replications=200)
    coverage_80, coverage_90, pit = _pooled(study.months)
    assert 0.72 <= coverage_80 <= 0.90
    assert 0.84 <= coverage_90 <= 0.97
    assert abs(pit - 0.5) < 0.1
    end_80, end_90, _ = _pooled(study.ends)
    assert end_90 >= 0.8
