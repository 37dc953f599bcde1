"""The comparison itself: actuals counted from the dates agree with the tenure-based ones,
the forecast quantiles are the engine's, and the hindsight scores are the log-probability
of what happened."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.backtest.cutoff import book_at_cutoff, check_cutoffs
from simcore.backtest.forecast import cutoff_config
from simcore.backtest.hindsight import AVERAGED
from simcore.config import BASELINE
from tests.backtest_books import SegmentTruth, book_project, generate_book

SEGMENTS = (SegmentTruth("a", signups_per_month=25), SegmentTruth("b", signups_per_month=20, churn_beta=6.0,
                                                                    p_expansion=0.1))


@pytest.fixture(scope="module")
def audited():
    customers, history = generate_book(8, SEGMENTS)
    project = book_project(customers, history)
    return customers, history, project, project.backtest(["2024-09"], replications=60, seed=3)


def test_actuals_match_a_count_by_calendar_dates(audited):
    customers, history, project, audit = audited
    cutoff = pd.Timestamp("2024-09-30")
    rows = audit.accuracy.query("population == 'existing' and segment == 'a'")
    base = customers[(customers["plan"] == "a") & (customers["signup_date"] <= cutoff)
                     & ~(customers["churn_date"] <= cutoff)]
    changes = history[history["customer_id"].isin(base["customer_id"])]
    for month in range(15):
        start = (cutoff + pd.offsets.MonthBegin(1) + pd.DateOffset(months=month)).normalize()
        # The renewal each customer owes in that calendar month, on their signup day (1..28).
        due = start + pd.to_timedelta(base["signup_date"].dt.day - 1, unit="D")
        # Churn is dated on the renewal skipped (generate_book's default timing).
        paying = base[base["churn_date"].isna() | (base["churn_date"] > due)]
        mrr = changes[changes["month"] <= start].groupby("customer_id")["mrr"].last()
        row = rows[rows["projection_month"] == month].set_index("metric")
        assert row.loc["active_customers", "actual"] == len(paying)
        assert row.loc["mrr", "actual"] == pytest.approx(mrr.reindex(paying["customer_id"]).sum())
        assert row.loc["contribution", "actual"] == pytest.approx(0.8 * mrr.reindex(paying["customer_id"]).sum()
                                                                  - 5.0 * len(paying))


def test_new_signups_are_counted_from_the_month_after_the_cutoff(audited):
    customers, _, _, audit = audited
    new = customers[(customers["plan"] == "b") & (customers["signup_date"] > "2024-09-30")]
    row = audit.accuracy.query("population == 'new' and segment == 'b' and metric == 'active_customers' "
                               "and projection_month == 0")
    assert row["actual"].item() == (new["signup_date"] < "2024-11-01").sum()


def test_forecast_quantiles_are_those_of_the_engine_projection(audited):
    _, _, project, audit = audited
    full = project.book()
    (cutoff,), _ = check_cutoffs(["2024-09"], full.customers, full.book.as_of)
    cut, _ = book_at_cutoff(full, cutoff)
    run = project.with_book(cut, cutoff_config(project.config, cutoff.months)).simulate(
        [], replications=60, seed=3)
    engine = run.tables["projection"].query("scenario == @BASELINE and population in ('existing', 'new')")
    mine = audit.accuracy[audit.accuracy["metric"].isin(["active_customers", "mrr", "contribution"])]
    merged = engine.merge(mine, left_on=["segment", "population", "metric", "month"],
                          right_on=["segment", "population", "metric", "projection_month"], suffixes=("_engine", ""))
    assert len(merged) == 2 * 3 * 3 * cutoff.months  # (a, b, all segments) x populations x metrics x months
    for column in ("mean", "p10", "p50", "p90"):
        assert np.allclose(merged[f"{column}_engine"], merged[column])
    assert (merged["p5"] <= merged["p10"]).all() and (merged["p95"] >= merged["p90"]).all()


def test_hindsight_scores_are_the_log_probability_of_the_outcomes(audited):
    customers, _, project, audit = audited
    cutoff = "2024-09-30"
    full = project.book().customers.set_index("customer_id")
    forecast = audit.forecasts[0]
    cut = forecast.book.customers
    base = cut[(cut["segment"] == "b") & ~cut["churned"]]
    result = forecast.fit.fits.results["b"]
    table = audit.families.query("segment == 'b'").set_index("family")
    def log_likelihood(curve):
        total = 0.0
        for customer in base.itertuples():
            now = full.loc[customer.customer_id]
            a, t = customer.tenure_months, now["tenure_months"]
            s = curve.survival(np.arange(t + 1))
            total += np.log((s[t - 1] - s[t]) if now["churned"] else s[t]) - np.log(s[a])
        return total

    for family, fit in result.fits.items():
        if family in table.index:
            assert table.loc[family, "hindsight_log_likelihood"] == pytest.approx(log_likelihood(fit), rel=1e-9)
    # the model used is scored on the survival model's own curve (its tail included)
    assert table.loc[AVERAGED, "hindsight_log_likelihood"] == pytest.approx(
        log_likelihood(result.survival_model()), rel=1e-9)
    assert table.loc[result.fit.family, "chosen"]
    assert table["hindsight_rank"].min() == 1 and np.isnan(table.loc[AVERAGED, "hindsight_rank"])
    assert (table["cutoff"] == cutoff).all() and (table["n_scored"] == len(base)).all()
