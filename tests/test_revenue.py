"""Revenue retention from MRR history: monthly expansion, GRR_12 / NRR_12, RevenueDynamics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.data.history import expand_history
from simcore.errors import DataError
from simcore.revenue import RevenueDynamics, revenue_retention


def month(text):
    return pd.Timestamp(text)


def hand_history():
    """Three customers from 2023-01, observed to 2024-03 (hand-computed expectations below).

    A: 100, expands to 150 from 2023-07 (still active)
    B: 100, churns after 5 payments (2023-01..2023-05); its 0 row in 2023-06 falls after
       its last payment and is not used
    C: 200, contracts to 100 from 2023-04 (still active)
    """
    return pd.DataFrame({
        "customer_id": ["A", "A", "B", "B", "C", "C"],
        "month": [month("2023-01-01"), month("2023-07-01"), month("2023-01-01"), month("2023-06-01"),
                  month("2023-01-01"), month("2023-04-01")],
        "mrr": [100.0, 150.0, 100.0, 0.0, 200.0, 100.0],
    })


def hand_customers():
    # Active at 2024-03: 14 whole months since 2023-01-01, so 15 payments (months 0..14).
    return pd.DataFrame({"customer_id": ["A", "B", "C"], "signup_date": [month("2023-01-01")] * 3,
                         "churned": [False, True, False], "tenure_months": [14, 5, 14]})


def customers_of(history: pd.DataFrame, as_of: pd.Timestamp, segment: str = "all") -> pd.DataFrame:
    """The customer table a dense monthly history implies: signed up in its first month;
    churned when its last month is before ``as_of``'s; tenure on the book's convention."""
    spans = history.groupby("customer_id")["month"].agg(["min", "max", "size"])
    churned = (spans["max"] < as_of).to_numpy()
    return pd.DataFrame({"customer_id": spans.index, "signup_date": spans["min"].to_numpy(), "churned": churned,
                         "tenure_months": np.where(churned, spans["size"], spans["size"] - 1),
                         "segment": segment})


def test_monthly_expansion_of_sparse_rows():
    customers = hand_customers()
    rows = expand_history(customers, hand_history(), "date", month("2024-03-31"))
    counts = rows.groupby("customer")["mrr"].size()
    assert counts.to_dict() == {0: 15, 1: 5, 2: 15}
    a = rows[rows["customer"] == 0]["mrr"].to_numpy()
    np.testing.assert_array_equal(a, [100.0] * 6 + [150.0] * 9)
    c = rows[rows["customer"] == 2]["mrr"].to_numpy()
    np.testing.assert_array_equal(c, [200.0] * 3 + [100.0] * 12)


def test_revenue_and_retention_see_the_same_customer_months():
    """Every paid month of the retention convention has exactly one revenue row, for every
    customer whose history starts at signup (the demo book)."""
    from pathlib import Path

    from simcore import Project

    book = Project.from_config(Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml").book().book
    rows = expand_history(book.customers, book.history, book.shape, book.as_of)
    customers = book.customers
    starts_at_signup = rows.groupby("customer")["tenure_month"].min() == 0
    paid = customers["tenure_months"] + np.where(customers["churned"], 0, 1)
    seen = rows.groupby("customer").size()
    ids = starts_at_signup.index[starts_at_signup.to_numpy()]
    assert len(ids) > 0.95 * len(customers)
    np.testing.assert_array_equal(seen.loc[ids].to_numpy(), paid.to_numpy()[ids])


def test_grr_and_nrr_on_hand_example():
    result = revenue_retention(hand_customers(), hand_history(), as_of=month("2024-03-01"))
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
    customers = pd.concat([hand_customers(), pd.DataFrame({
        "customer_id": ["E"], "signup_date": [month("2023-09-01")], "churned": [False], "tenure_months": [6]})])
    result = revenue_retention(customers, history, as_of=month("2024-03-01"), cohort="quarter")
    assert list(result.cohorts["cohort"]) == ["2023Q1"]


def test_monthly_rates_on_hand_example():
    result = revenue_retention(hand_customers(), hand_history(), as_of=month("2024-03-01"))
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
    # a change log cannot tell churn from "no change", so churn comes from the customer table
    as_of = history["month"].max()
    fitted = revenue_retention(customers_of(history, as_of, "smb"), history, as_of=as_of).dynamics["smb"]
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
        revenue_retention(hand_customers(), pd.DataFrame({"customer_id": ["A"], "month": [month("2023-01-01")]}))
    with pytest.raises(DataError, match="not in the customer table"):
        revenue_retention(hand_customers().iloc[:2], hand_history())


def test_sparse_change_log_gives_the_same_tables_as_dense_rows():
    truth = RevenueDynamics(p_expansion=0.1, expansion_log_mean=0.2, expansion_log_sd=0.05,
                            p_contraction=0.05, contraction_log_mean=-0.2, contraction_log_sd=0.05)
    dense = simulate_history(truth, 200, 18, churn=0.03, seed=3)
    changed = dense.groupby("customer_id")["mrr"].transform(lambda x: x.ne(x.shift()))
    sparse = dense[changed.to_numpy()]
    assert len(sparse) < len(dense) / 2
    as_of = dense["month"].max()
    customers = customers_of(dense, as_of)
    a = revenue_retention(customers, dense, as_of=as_of)
    b = revenue_retention(customers, sparse, as_of=as_of)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    pd.testing.assert_frame_equal(a.monthly_rates, b.monthly_rates)
    assert a.dynamics == b.dynamics


def test_history_ids_are_matched_once_by_the_loader(monkeypatch):
    """The positions the loader matched the history's ids to are the ones matching by id
    finds, and the runs reuse them; positions that do not give back every row's id (a
    book whose customers changed since) are matched again."""
    from pathlib import Path

    from simcore import Project
    from simcore.data.history import history_runs

    book = Project.from_config(Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml").book().book
    matched = pd.Index(book.customers["customer_id"]).get_indexer(book.history["customer_id"])
    np.testing.assert_array_equal(book.history_customer, matched)
    runs = history_runs(book.customers, book.history, book.shape, book.as_of)
    stale = history_runs(book.customers, book.history, book.shape, book.as_of, np.roll(book.history_customer, 1))
    pd.testing.assert_frame_equal(stale, runs)

    def no_matching(*args, **kwargs):
        raise AssertionError("the history's ids were matched again")

    monkeypatch.setattr(pd.Index, "get_indexer", no_matching)
    pd.testing.assert_frame_equal(history_runs(book.customers, book.history, book.shape, book.as_of,
                                               book.history_customer), runs)
