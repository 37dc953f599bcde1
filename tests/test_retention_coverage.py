"""The coverage study behind the model-averaging default (see tests/README.md), small.

Books are drawn from known curves inside and outside the candidate families
(tests/books.py); the 90% interval of the discounted value over 120 months, across the
survival model's draws, should cover the true value about 90% of the time. Model
averaging by Akaike weight must cover more often than the chosen family alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from books import CURVES, coverage_study
from simcore.retention.names import DEFAULT_MODEL_AVERAGING


@pytest.mark.slow
def test_akaike_averaging_covers_the_truth_more_often_than_the_chosen_family():
    rows = coverage_study(range(12), n_customers=1500, window_months=30, n_draws=500)
    coverage = {setting: np.mean([r["covered"] for r in rows if r["averaging"] == setting])
                for setting in ("none", "akaike")}
    assert len(rows) == 2 * 12 * len(CURVES)
    assert coverage["akaike"] > coverage["none"]
    assert coverage["akaike"] >= 0.75
    assert DEFAULT_MODEL_AVERAGING == "akaike"
