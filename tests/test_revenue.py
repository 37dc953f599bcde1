"""Revenue retention from MRR history: monthly expansion, GRR_12 / NRR_12, RevenueDynamics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.errors import DataError
from simcore.retention import RevenueDynamics, revenue_retention
from simcore.retention.revenue import _monthly_rows


def month(text):
    return pd.Timestamp(text)


def hand_history():
    """Three customers from 2023-01, observed to 2024-03 (hand-computed expectations below).

    A: 100, expands to 150 from 2023-07 (still active)
    B: 100, churns in 2023-06 (a zero row marks it; active 2023-01..2023-05)
    C: 200, contracts to 100 from 2023-04 (still active)
    """
    return pd.DataFrame({
        "customer_id": ["A", "A", "B", "B", "C", "C"],
        "month": [month("2023-01-01"), month("2023-07-01"), month("2023-01-01"), month("2023-06-01"),
                  month("2023-01-01"), month("2023-04-01")],
        "mrr": [100.0, 150.0, 100.0, 0.0, 200.0, 100.0],
    })


def test_monthly_expansion_of_sparse_rows():
    rows = _monthly_rows(hand_history(), as_of=month("2024-03-31"))
    counts = rows.groupby("customer_id").size()
    assert counts.to_dict() == {"A": 15, "B": 5, "C": 15}
    a = rows[rows["customer_id"] == "A"]["mrr"].to_numpy()
    np.testing.assert_array_equal(a, [100.0] * 6 + [150.0] * 9)
    c = rows[rows["customer_id"] == "C"]["mrr"].to_numpy()
    np.testing.assert_array_equal(c, [200.0] * 3 + [100.0] * 12)


def test_churn_date_from_customer_table_ends_mrr():
    history = pd.DataFrame({"customer_id": ["D"], "month": [month("2023-01-01")], "mrr": [50.0]})
    customers = pd.DataFrame({"customer_id": ["D"], "churned": [True], "churn_date": [month("2023-05-17")]})
    rows = _monthly_rows(history, customers, as_of=month("2024-01-01"))
    # the churn month (May) is not paid: January..April
    assert len(rows) == 4
    no_date = pd.DataFrame({"customer_id": ["D"], "churned": [True]})
    assert len(_monthly_rows(history, no_date, as_of=month("2024-01-01"))) == 1


def test_grr_and_nrr_on_hand_example():
    result = revenue_retention(hand_history(), as_of=month("2024-03-01"))
    segment = result.segments.set_index("segment").loc["all"]
    # start 400; after 12 months (2024-01): A 150 (kept capped at 100), B 0, C 100
    assert segment["starting_mrr"] == 400
    assert segment["grr_12"] == pytest.approx((100 + 0 + 100) / 400)
    assert segment["nrr_12"] == pytest.approx((150 + 0 + 100) / 400)
    cohort = result.cohorts.set_index(["segment", "cohort"]).loc[("all", "2023-01")]
    assert cohort["n_customers"] == 3


def test_cohorts_without_twelve_observed_months_are_left_out():
    history = pd.concat([hand_history(), pd.DataFrame({
        "customer_id": ["E"], "month": [month("2023-09-01")], "mrr": [80.0]})])
    result = revenue_retention(history, as_of=month("2024-03-01"), cohort="quarter")
    assert list(result.cohorts["cohort"]) == ["2023Q1"]


def test_monthly_rates_on_hand_example():
    result = revenue_retention(hand_history(), as_of=month("2024-03-01"))
    rates = result.monthly_rates.set_index("segment").loc["all"]
    # transitions from months before 2024-03: A 14 (1400 + 8*... ) computed month by month
    start = 6 * 100 + 8 * 150 + 5 * 100 + 3 * 200 + 11 * 100  # A, B, C starting MRR of each transition
    assert rates["starting_mrr"] == start
    assert rates["expansion_rate"] == pytest.approx(50 / start)
    assert rates["contraction_rate"] == pytest.approx(100 / start)
    assert rates["churned_mrr_rate"] == pytest.approx(100 / start)
    dynamics = result.dynamics["all"]
    stayed = 14 + 4 + 14  # transitions with the customer active in both months
    assert dynamics.p_expansion == pytest.approx(1 / stayed)
    assert dynamics.expansion_log_mean == pytest.approx(np.log(1.5))
    assert dynamics.p_contraction == pytest.approx(1 / stayed)
    assert dynamics.contraction_log_mean == pytest.approx(np.log(0.5))


def simulate_history(truth: RevenueDynamics, n_customers: int, months: int, churn: float, seed: int):
    """Monthly MRR paths of the RevenueDynamics process (one uniform per customer-month)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    start = pd.Period("2022-01", freq="M")
    rows = []
    for i in range(n_customers):
        mrr = float(rng.lognormal(5, 0.5))
        for m in range(months):
            if m > 0:
                if rng.random() < churn:
                    break
                u = rng.random()
                if u < truth.p_expansion:
                    mrr *= np.exp(rng.normal(truth.expansion_log_mean, truth.expansion_log_sd))
                elif u < truth.p_expansion + truth.p_contraction:
                    mrr *= np.exp(rng.normal(truth.contraction_log_mean, truth.contraction_log_sd))
            rows.append((f"c{i}", (start + m).to_timestamp(), mrr))
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


def test_dynamics_are_recovered_from_simulated_history():
    truth = RevenueDynamics(p_expansion=0.06, expansion_log_mean=0.15, expansion_log_sd=0.05,
                            p_contraction=0.03, contraction_log_mean=-0.25, contraction_log_sd=0.1)
    history = simulate_history(truth, 1500, 24, churn=0.02, seed=17)
    last_month = history.groupby("customer_id")["month"].max()
    # a change log cannot tell churn from "no change", so churn comes from the customer table
    customers = pd.DataFrame({"customer_id": last_month.index, "segment": "smb",
                              "churned": (last_month < history["month"].max()).to_numpy()})
    fitted = revenue_retention(history, customers, as_of=history["month"].max()).dynamics["smb"]
    n = fitted.n_customer_months
    assert fitted.p_expansion == pytest.approx(0.06, abs=4 * np.sqrt(0.06 * 0.94 / n))
    assert fitted.p_contraction == pytest.approx(0.03, abs=4 * np.sqrt(0.03 * 0.97 / n))
    assert fitted.expansion_log_mean == pytest.approx(0.15, abs=0.01)
    assert fitted.expansion_log_sd == pytest.approx(0.05, rel=0.15)
    assert fitted.contraction_log_mean == pytest.approx(-0.25, abs=0.02)
    assert fitted.contraction_log_sd == pytest.approx(0.1, rel=0.15)


def test_revenue_dynamics_validation_and_none():
    none = RevenueDynamics.none()
    assert none.p_expansion == 0 and none.p_contraction == 0
    with pytest.raises(DataError, match="probability"):
        RevenueDynamics(p_expansion=1.5, expansion_log_mean=0.1)
    with pytest.raises(DataError, match="<= 1"):
        RevenueDynamics(p_expansion=0.6, expansion_log_mean=0.1, p_contraction=0.6, contraction_log_mean=-0.1)
    with pytest.raises(DataError, match="expansion_log_mean"):
        RevenueDynamics(p_expansion=0.1, expansion_log_mean=-0.1)
    with pytest.raises(DataError, match="contraction_log_mean"):
        RevenueDynamics(p_contraction=0.1, contraction_log_mean=0.1)


def test_history_problems_are_data_errors():
    with pytest.raises(DataError, match="mrr"):
        revenue_retention(pd.DataFrame({"customer_id": ["A"], "month": [month("2023-01-01")]}))
    customers = pd.DataFrame({"customer_id": ["Z"], "segment": ["smb"]})
    with pytest.raises(DataError, match="no segment"):
        revenue_retention(hand_history(), customers)


def test_sparse_change_log_gives_the_same_tables_as_dense_rows():
    truth = RevenueDynamics(p_expansion=0.1, expansion_log_mean=0.2, expansion_log_sd=0.05,
                            p_contraction=0.05, contraction_log_mean=-0.2, contraction_log_sd=0.05)
    dense = simulate_history(truth, 200, 18, churn=0.03, seed=3)
    changed = dense.groupby("customer_id")["mrr"].transform(lambda x: x.ne(x.shift()))
    sparse = dense[changed.to_numpy()]
    assert len(sparse) < len(dense) / 2
    last_month = dense.groupby("customer_id")["month"].max()
    customers = pd.DataFrame({"customer_id": last_month.index,
                              "churned": (last_month < dense["month"].max()).to_numpy(),
                              "churn_date": (last_month + pd.offsets.MonthBegin(1)).to_numpy()})
    as_of = dense["month"].max()
    a = revenue_retention(dense, customers, as_of=as_of)
    b = revenue_retention(sparse, customers, as_of=as_of)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    pd.testing.assert_frame_equal(a.monthly_rates, b.monthly_rates)
    assert a.dynamics == b.dynamics
