"""The book as known at a cutoff: nothing from after it, tenures on the book's convention,
MRR from the history at the cutoff, segment labels of the full book."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore import Project
from simcore.backtest.cutoff import book_at_cutoff, check_cutoffs
from simcore.segments import assign_segments
from tests.backtest_books import SegmentTruth, book_project, generate_book

SMALL = (SegmentTruth("a", signups_per_month=15), SegmentTruth("b", signups_per_month=10, churn_beta=5.0))


@pytest.fixture(scope="module")
def generated():
    return generate_book(5, SMALL, timing="within_month")


def _cut(project, when: str):
    full = project.book()
    (cutoff,), _ = check_cutoffs([when], full.customers, full.book.as_of)
    return full, cutoff, book_at_cutoff(full, cutoff)


def test_the_cut_book_equals_the_book_exported_at_the_cutoff(generated):
    customers, history = generated
    full, cutoff, (cut, from_history) = _cut(book_project(customers, history), "2024-06")
    # The same data as a system would have exported it on 2024-06-30.
    exported = customers[customers["signup_date"] <= cutoff.date].assign(
        churn_date=lambda f: f["churn_date"].where(f["churn_date"] <= cutoff.date))
    exported_history = history[(history["month"] <= cutoff.date)
                               & history["customer_id"].isin(exported["customer_id"])]
    then = book_project(exported, exported_history, as_of="2024-06-30").book()
    mine = cut.customers.set_index("customer_id")
    theirs = then.customers.set_index("customer_id")
    assert from_history and cut.book.as_of == pd.Timestamp("2024-06-30")
    assert list(mine.index) == list(theirs.index)
    for column in ("tenure_months", "churned", "signup_date"):
        assert mine[column].equals(theirs[column]), column
    assert mine["churn_date"].equals(theirs["churn_date"])
    # MRR at the cutoff: the last history value by then, not the book's mrr column (as_of).
    last = exported_history.groupby("customer_id")["mrr"].last()
    assert np.allclose(mine["mrr"], last.reindex(mine.index))
    assert (mine["mrr"] != customers.set_index("customer_id").loc[mine.index, "mrr"]).any()


def test_nothing_from_after_the_cutoff_is_left(generated):
    customers, history = generated
    full, cutoff, (cut, _) = _cut(book_project(customers, history), "2024-06")
    book = cut.book
    assert book.customers["signup_date"].max() <= cutoff.date
    assert book.customers["churn_date"].dropna().max() <= cutoff.date
    assert book.history["month"].max() <= cutoff.date
    paid_after = full.customers.set_index("customer_id").loc[book.customers["customer_id"]]
    # Customers who churned after the cutoff are active in the cut book, at a lower tenure.
    later = paid_after["churned"].to_numpy() & ~book.customers["churned"].to_numpy()
    assert later.any()
    assert (book.customers["tenure_months"].to_numpy()[later] < paid_after["tenure_months"].to_numpy()[later]).all()


def test_segment_labels_stay_those_of_the_full_book():
    # A quantile rule cuts at the full book's quantiles; at an early cutoff the same rule
    # would cut elsewhere, so customers would change segment between cutoffs.
    customers, history = generate_book(2, SMALL)
    customers = customers.assign(usage=np.random.Generator(np.random.PCG64(0)).gamma(2.0, size=len(customers))
                                 + (customers["signup_date"].dt.year - 2020))
    project = book_project(customers, history, segments={"by": [{"column": "usage", "quantiles": 3}]})
    full, _, (cut, _) = _cut(project, "2022-12")
    labels = full.customers.set_index("customer_id")["segment"]
    assert (cut.customers["segment"].to_numpy() == labels.loc[cut.customers["customer_id"]].to_numpy()).all()
    assert sorted(cut.customers["segment"].unique()) == full.segments
    # Re-applying the rule to the cut book would have moved customers between segments.
    reapplied = assign_segments(cut.customers.drop(columns="segment"), project.config.segments).labels
    assert (reapplied.to_numpy() != cut.customers["segment"].to_numpy()).mean() > 0.2


def test_without_history_the_mrr_column_is_kept_and_revenue_is_not_audited(generated):
    customers, _ = generated
    project = Project.from_frame(
        customers, columns={"id": "customer_id", "signup": "signup_date", "churn": "churn_date", "mrr": "mrr"},
        as_of="2025-12-31", segments=["plan"], economics={"default": {"gross_margin": "80%"}})
    full, _, (cut, from_history) = _cut(project, "2024-06")
    assert not from_history
    assert np.allclose(cut.customers["mrr"], full.customers.set_index("customer_id").loc[
        cut.customers["customer_id"], "mrr"])
    audit = project.backtest(["2024-06"], replications=20, seed=1)
    assert set(audit.accuracy["metric"]) == {"active_customers", "churned"}
    assert (audit.verdicts[["revenue_verdict", "profit_verdict"]] == "not audited").all().all()
    assert any("no MRR history" in w.message for w in audit.warnings)
    assert "revenue_calibration" not in audit.tables
