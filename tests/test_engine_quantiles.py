"""Per-customer quantiles come from fixed-size histograms; the default resolution must
match a very fine histogram on a skewed segment (a few huge accounts, strong expansion),
where bins sized by the most extreme possible path used to be off by an order of
magnitude at P5."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doubles import Dynamics, GeometricFit
from simcore.economics import Economics
from simcore.engine.api import simulate

SKEWED_DYNAMICS = Dynamics(p_expansion=0.05, expansion_log_mean=0.15, expansion_log_sd=0.10,
                           p_contraction=0.02, contraction_log_mean=-0.2, contraction_log_sd=0.05)


def test_default_histogram_matches_a_fine_one_on_a_skewed_segment():
    rng = np.random.default_rng(5)
    n = 3000
    customers = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "tenure_months": rng.integers(0, 40, n),
        "churned": False,
        "mrr": np.exp(rng.normal(6.0, 1.5, n)),  # a long tail of very large accounts
        "segment": "skewed",
    })
    economics = Economics(gross_margin=0.8, support_cost_per_month=150.0, cac=5000.0, discount_rate_annual=0.1)
    default = simulate({"skewed": GeometricFit(0.03)}, customers, economics, {"skewed": SKEWED_DYNAMICS}, replications=8,
                       seed=3, horizon_months=120, as_of=pd.Timestamp("2025-12-31")).segment_summary
    fine = simulate({"skewed": GeometricFit(0.03)}, customers, economics, {"skewed": SKEWED_DYNAMICS}, replications=8,
                    seed=3, horizon_months=120, as_of=pd.Timestamp("2025-12-31"), n_bins=1 << 20).segment_summary
    row_default = default[default.population == "existing"].iloc[0]
    row_fine = fine[fine.population == "existing"].iloc[0]
    # Bins sized by the most extreme possible path put P5 at -8,471 here (fine: -3,427).
    assert row_default["ltv_customer_p5"] == pytest.approx(row_fine["ltv_customer_p5"], rel=0.06)
    for column in ("ltv_customer_p50", "ltv_customer_p95"):
        assert row_default[column] == pytest.approx(row_fine[column], rel=0.06), column
    # Customers who churn before their next payment are worth exactly 0: not a loss.
    assert row_default["p_unit_profit_negative"] == pytest.approx(row_fine["p_unit_profit_negative"], abs=0.005)
