"""Segmentation rules, merging of small segments, and the segment summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.config import SegmentsConfig
from simcore.errors import DataError
from simcore.segments import TOTAL_LABEL, assign_segments, segment_summary


@pytest.fixture
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "tenure_months": rng.integers(0, 40, n),
            "churned": rng.random(n) < 0.3,
            "mrr": rng.gamma(2.0, 50.0, n),
            "employees": rng.integers(1, 5000, n),
            "channel": rng.choice(["sales_led", "self_serve"], n),
            "tickets": rng.exponential(2.0, n),
        }
    )


def test_attribute_and_band_rules_combine_in_order(customers):
    spec = SegmentsConfig(
        by=[{"column": "employees", "edges": [100, 1000], "labels": ["smb", "mid_market", "enterprise"]}, "channel"],
        min_customers=0,
    )
    labels = assign_segments(customers, spec).labels
    expected_size = np.where(customers.employees < 100, "smb", np.where(customers.employees < 1000, "mid_market", "enterprise"))
    assert (labels == pd.Series(expected_size) + "/" + customers.channel).all()
    assert set(labels) <= {f"{s}/{c}" for s in ("smb", "mid_market", "enterprise") for c in ("sales_led", "self_serve")}


def test_band_edge_value_goes_to_higher_band():
    frame = pd.DataFrame({"employees": [99, 100, 999, 1000, None]})
    spec = SegmentsConfig(by=[{"column": "employees", "edges": [100, 1000], "labels": ["s", "m", "l"]}], min_customers=0)
    assert assign_segments(frame, spec).labels.tolist() == ["s", "m", "m", "l", "missing"]


def test_quantile_rule_gives_equal_groups(customers):
    spec = SegmentsConfig(by=[{"column": "tickets", "labels": ["low", "mid", "high"]}], min_customers=0)
    labels = assign_segments(customers, spec).labels
    counts = labels.value_counts()
    assert set(counts.index) == {"low", "mid", "high"}
    assert counts.max() - counts.min() <= 1
    assert customers.tickets[labels == "low"].max() <= customers.tickets[labels == "mid"].min()
    assert customers.tickets[labels == "mid"].max() <= customers.tickets[labels == "high"].min()


def test_quantile_rule_refuses_ties():
    frame = pd.DataFrame({"tickets": [0.0] * 90 + [1.0, 2.0, 3.0] * 10})
    spec = SegmentsConfig(by=[{"column": "tickets", "quantiles": 3}], min_customers=0)
    with pytest.raises(DataError, match="too many equal values"):
        assign_segments(frame, spec)


def test_small_segments_merge_into_other_with_warning():
    frame = pd.DataFrame({"plan": ["a"] * 150 + ["b"] * 120 + ["c"] * 5 + ["d"] * 3})
    result = assign_segments(frame, SegmentsConfig(by=["plan"], min_customers=100))
    assert result.labels.value_counts().to_dict() == {"a": 150, "b": 120, "other": 8}
    assert result.merged == {"c": 5, "d": 3}
    (warning,) = result.warnings
    assert warning.severity == "warning"
    assert "c (5), d (3)" in warning.message and "only 8 customers" in warning.message


def test_missing_column_and_non_numeric_band_reported_together(customers):
    spec = SegmentsConfig(
        by=["chanel", {"column": "channel", "edges": [1], "labels": ["a", "b"]}], min_customers=0
    )
    with pytest.raises(DataError) as caught:
        assign_segments(customers, spec, source="book.csv")
    lines = caught.value.lines()
    assert len(lines) == 2
    assert "'chanel'" in lines[0] and "did you mean 'channel'" in lines[0]
    assert "'channel'" in lines[1] and "not numbers" in lines[1]


def test_no_rules_means_one_segment(customers):
    labels = assign_segments(customers, SegmentsConfig()).labels
    assert set(labels) == {"all"}


def test_summary_counts_and_active_mrr(customers):
    customers = customers.assign(segment=customers.channel)
    table = segment_summary(customers).set_index("segment")
    for channel in ("sales_led", "self_serve"):
        part = customers[customers.channel == channel]
        row = table.loc[channel]
        assert row.customers == len(part)
        assert row.churned == part.churned.sum()
        assert row.active == (~part.churned).sum()
        assert row.mrr_total == pytest.approx(part.mrr[~part.churned].sum())
        assert row.median_tenure_months == part.tenure_months.median()
    assert table.loc[TOTAL_LABEL].customers == len(customers)
    assert table.index[-1] == TOTAL_LABEL
