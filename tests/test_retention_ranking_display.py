"""The ranking text of `simcore fit` shows each family's gap to the best on a readable
scale, whatever the criterion (the holdout criterion used to print "+0.0" for all)."""

from __future__ import annotations

import re

import numpy as np

from simcore.retention import SegmentFits, fit_segment
from tests.books import book, sbg


def _gaps(text: str) -> dict[str, float]:
    return {name: float(gap) for name, gap in re.findall(r"(\w+) \(\+([0-9.]+)\)", text)}


def test_holdout_ranking_shows_the_deviance_gap_not_the_per_customer_mean():
    durations, events, signup = book(sbg(0.8, 6.0), 4000, 36, seed=11)
    result = fit_segment(durations, events, signup_offsets=signup, holdout_months=12, criterion="holdout",
                         segment="smb")
    text = SegmentFits({"smb": result}).summary_table().loc[0, "ranking"]
    ranked = result.ranking.dropna(subset=["rank"]).set_index("family")
    # The per-customer gaps are small: shown to one decimal the runner-up would read +0.0.
    assert np.sort(ranked["delta"].to_numpy())[1] < 0.05
    gaps = _gaps(text)
    assert gaps and max(gaps.values()) > 1.0
    for family, shown in gaps.items():
        row = ranked.loc[family]
        assert np.isclose(shown, round(2 * row["delta"] * row["n_holdout_customers"], 1), atol=0.051)
    assert text.startswith(result.fit.family)


def test_aic_ranking_shows_the_aic_gap():
    durations, events, _ = book(sbg(0.8, 6.0), 2000, 36, seed=3)
    result = fit_segment(durations, events, segment="smb")
    text = SegmentFits({"smb": result}).summary_table().loc[0, "ranking"]
    ranked = result.ranking.dropna(subset=["rank"]).set_index("family")
    for family, shown in _gaps(text).items():
        assert np.isclose(shown, round(ranked.loc[family, "delta"], 1), atol=0.051)
