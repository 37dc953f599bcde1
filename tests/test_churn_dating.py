"""Books that date a churn between the last payment and the renewal it skips: the active
customers have outlived part of their current month's churns, and the engine conditions
their first projected renewal on it (``period_churn_passed``, the share ``G`` of those
churns already past at the customer's point of the month)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from doubles import GeometricFit
from simcore.data.customers import churn_passed_share
from simcore.economics import Economics
from simcore.engine.api import simulate_compiled
from simcore.engine.compile import compile_book
from simcore.engine.expected import expected_values


def _load(tmp_path, rows, as_of="2025-06-30"):
    from simcore import Project

    path = tmp_path / "book.csv"
    pd.DataFrame(rows, columns=["customer_id", "signup_date", "churn_date"]).to_csv(path, index=False)
    project = Project.from_file(path, columns={"id": "customer_id", "signup": "signup_date",
                                                "churn": "churn_date"}, as_of=as_of)
    return project.book().customers.set_index("customer_id")


def test_churns_on_the_renewal_they_skip_leave_the_tenure_alone(tmp_path):
    rows = [(f"c{i}", "2024-01-15", f"2024-{3 + i % 9:02d}-15") for i in range(40)]
    rows += [("active_a", "2024-01-15", None), ("active_b", "2025-05-25", None)]
    book = _load(tmp_path, rows)
    assert (book["period_churn_passed"] == 0.0).all()


def test_churns_between_payments_give_the_share_already_past(tmp_path):
    # Churn dates spread over the month after the last payment (a signup on the 1st:
    # churn on day d > 1 of a month lies (d - 1) / days-of-month of the way through it;
    # on the 1st, the renewal day, it is the renewal skipped: position 1).
    rows = [(f"c{i}", "2024-01-01", f"2024-04-{1 + i % 30:02d}") for i in range(60)]
    rows += [("halfway", "2024-01-01", None), ("fresh", "2024-01-30", None), ("churned", "2024-01-01", "2024-02-10")]
    book = _load(tmp_path, rows, as_of="2025-06-16")
    positions = np.array([(i % 30) / 30 if i % 30 else 1.0 for i in range(60)] + [9 / 31])  # April: 30 days
    halfway = churn_passed_share(positions, [15 / 30])[0]                   # 2025-06-16: 15 of June's 30 days
    assert book.loc["halfway", "period_churn_passed"] == halfway
    assert 0.45 < halfway < 0.55
    assert book.loc["churned", "period_churn_passed"] == 0.0               # only active customers carry it
    # Signed up on 2024-01-30: its month runs 2025-05-30 .. 06-30, 17 of 31 days gone.
    assert book.loc["fresh", "period_churn_passed"] == churn_passed_share(positions, [17 / 31])[0]


def test_the_share_is_the_empirical_distribution_of_churn_positions():
    assert churn_passed_share(np.array([]), [0.3, 0.9]).tolist() == [0.0, 0.0]
    assert churn_passed_share(np.array([1.0, 1.0]), [0.0, 0.999]).tolist() == [0.0, 0.0]
    assert churn_passed_share(np.array([0.0, 0.25, 0.5, 0.75]), [0.0, 0.3, 0.75]).tolist() == [0.25, 0.5, 1.0]


def test_first_renewal_of_a_customer_who_outlived_part_of_its_month():
    """Constant hazard ``h``: a customer that has outlived the share ``G`` of its month's
    churns renews into month 0 with probability ``(1 - h) / (1 - G h)`` and pays month
    ``c`` with probability ``(1 - h)^(c + 1) / (1 - G h)``; kernel, reference and the
    expected value agree with it."""
    h, passed, n = 0.1, 0.5, 20_000
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "tenure_months": 5, "churned": False,
                              "mrr": 100.0, "segment": "a", "period_churn_passed": passed})
    economics = Economics(gross_margin=1.0, support_cost_per_month=0.0, cac=0.0, default_mrr=100.0)
    book = compile_book({"a": GeometricFit(h)}, customers, economics, replications=40, seed=3, horizon_months=24)
    months = np.arange(3)
    expected = (1 - h) ** (months + 1) / (1 - passed * h)
    for method in ("engine", "reference"):
        projection = simulate_compiled(book, method=method).projections
        active = projection[(projection["segment"] == "a") & (projection["population"] == "existing")
                            & (projection["metric"] == "active_customers") & projection["month"].isin(months)]
        share = active.sort_values("month")["mean"].to_numpy() / n
        error = np.sqrt(expected * (1 - expected) / (n * 40))
        assert np.all(np.abs(share - expected) < 5 * error), (method, share, expected)
    segment = book.segments[0]
    annuity = sum(segment.discount[c] * (1 - h) ** (c + 1) for c in range(24)) * 100.0
    np.testing.assert_allclose(expected_values(segment).existing_value, annuity / (1 - passed * h), rtol=1e-12)
