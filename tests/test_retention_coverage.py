"""The coverage study behind the model-averaging default (see tests/README.md), small.

Books are drawn from known curves inside and outside the candidate families
(tests/books.py); the 90% interval of the discounted value over 120 months, across the
survival model's draws, should cover the true value about 90% of the time, and the mean
unit profit should sit near the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from books import CURVES, coverage_study
from simcore.retention.names import DEFAULT_MODEL_AVERAGING


@pytest.mark.slow
def test_the_default_covers_the_truth_and_averaging_beats_the_chosen_family():
    rows = coverage_study(range(12), n_customers=1500, window_months=30, n_draws=500)
    assert len(rows) == 5 * 12 * len(CURVES)
    coverage = {setting: np.mean([r["covered"] for r in rows if r["averaging"] == setting])
                for setting in ("none", "akaike", "default")}
    assert DEFAULT_MODEL_AVERAGING == "auto"
    assert coverage["akaike"] > coverage["none"]
    assert coverage["default"] >= 0.85
    for curve in CURVES:
        errors = [r["unit_profit_error"] for r in rows if r["averaging"] == "default" and r["curve"] == curve]
        assert abs(np.mean(errors)) < 0.1, (curve, np.mean(errors))
