"""Verdicts: a book whose churn rises after the cutoff is flagged over-optimistic, one whose
expansion slows gets an over-optimistic revenue verdict; the rule itself."""

from __future__ import annotations

import pytest

from simcore.backtest.accuracy import (
    CALIBRATED,
    MIXED,
    NOT_AUDITED,
    OVER_OPTIMISTIC,
    OVER_PESSIMISTIC,
    _overall,
    verdict_of,
)
from tests.backtest_books import Shift, book_project, generate_book


@pytest.fixture(scope="module")
def shifted():
    """Churn of 'churny' doubles and expansion of 'loyal' falls to a fifth, both from the
    first month after the cutoff."""
    customers, history = generate_book(1, shifts=[Shift("churny", "2025-01", churn_multiplier=2.0),
                                                  Shift("loyal", "2025-01", expansion_multiplier=0.2)])
    return book_project(customers, history).backtest(["2024-12"], replications=100, seed=1)


def test_rising_churn_after_the_cutoff_is_flagged_over_optimistic(shifted):
    row = shifted.verdicts.set_index("segment").loc["churny"]
    assert row["retention_verdict"] == OVER_OPTIMISTIC
    assert row["verdict"] == OVER_OPTIMISTIC
    assert row["retention_actual_end"] < row["retention_forecast_p5_end"]
    assert row["retention_bias"] > 0.1  # the forecast kept a fifth too many customers on average


def test_slowing_expansion_gets_an_over_optimistic_revenue_verdict(shifted):
    row = shifted.verdicts.set_index("segment").loc["loyal"]
    assert row["revenue_verdict"] == OVER_OPTIMISTIC
    assert row["revenue_actual_end"] < row["revenue_forecast_p5_end"]
    # It is the revenue assumption that failed, not retention.
    assert row["revenue_bias"] > 0.03 and abs(row["retention_bias"]) < row["revenue_bias"] / 2
    window = shifted.revenue_calibration.query("month == 'window'").set_index("segment")
    assert window.loc["loyal", "p_expansion_realised"] < 0.5 * window.loc["loyal", "p_expansion_predicted"]
    # Where expansion did not change, the realised rate is the predicted one.
    ratio = window.loc["churny", "p_expansion_realised"] / window.loc["churny", "p_expansion_predicted"]
    assert 0.8 < ratio < 1.25


def test_the_recalibration_summary_shows_what_moved(shifted):
    table = shifted.recalibration.set_index(["segment", "assumption"])
    # After the cutoff 'loyal' expanded far less, so today's fit has a lower expansion rate.
    assert table.loc[("loyal", "p_expansion"), "relative_change"] < -0.05
    assert table.loc[("churny", "S_12"), "change"] < 0
    assert set(table.columns) >= {"2024-12-31", "2025-12-31", "change", "relative_change", "movement_rank"}


@pytest.mark.parametrize("actual, expected", [(4.0, OVER_OPTIMISTIC), (5.0, CALIBRATED), (9.0, CALIBRATED),
                                              (9.5, OVER_PESSIMISTIC)])
def test_the_verdict_rule(actual, expected):
    assert verdict_of(actual, p5=5.0, p95=9.0) == expected


def test_a_segment_verdict_combines_its_quantities():
    assert _overall([CALIBRATED, CALIBRATED, CALIBRATED]) == CALIBRATED
    assert _overall([OVER_OPTIMISTIC, CALIBRATED, OVER_OPTIMISTIC]) == OVER_OPTIMISTIC
    assert _overall([OVER_OPTIMISTIC, OVER_PESSIMISTIC, CALIBRATED]) == MIXED
    assert _overall([CALIBRATED, NOT_AUDITED, NOT_AUDITED]) == CALIBRATED
