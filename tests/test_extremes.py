"""Extreme but legitimate books and settings give clean results, and where simcore must
refuse (no churn event: no curve), the refusal is located and says what to do.

"Clean" is :func:`assert_clean`: every value a reader acts on is finite; the documented
"not applicable" cells (see tests/README.md) are the only NaN, and a payback that never
happens is the only infinity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.errors import DataError

#: Columns that may be NaN: not applicable to a population or without an input.
MAY_BE_NAN = {
    "segment_summary": {"cac", "onboarding_cost", "ltv_to_cac", "ltv_to_cac_lower_90", "ltv_to_cac_upper_90",
                        "payback_months_p50", "p_payback_within_12_months", "p_payback_within_24_months",
                        # the blended (all segments) row reports the estimate, not a customer spread
                        "unit_profit_customer_p5", "unit_profit_customer_p50", "unit_profit_customer_p95"},
    "fits": {"S_12", "S_24", "S_60", "grr_12", "nrr_12", "median_lifetime_months", "aic", "bic"},
    "economics": None,  # a table of inputs and their origins; blanks mean "not given"
}
MAY_BE_NAN["scenario_summary"] = MAY_BE_NAN["segment_summary"]
#: Columns that may be +inf: a payback that never happens within the horizon.
MAY_BE_INFINITE = {"payback_months_p50", "median_lifetime_months"}


def assert_clean(result) -> None:
    """Every table of a run: no NaN outside :data:`MAY_BE_NAN`, no infinity outside
    :data:`MAY_BE_INFINITE`, and the rows of populations with customers fully numeric."""
    for name, table in result.tables.items():
        allowed_nan = MAY_BE_NAN.get(name, set())
        if allowed_nan is None:
            continue
        numbers = table.select_dtypes("number")
        summary = name in ("segment_summary", "scenario_summary")
        for column in numbers.columns:
            values = numbers[column].to_numpy(dtype=float)
            rows = np.ones(len(values), bool)
            if summary:  # a population without customers has no values to show
                rows = table["status"].to_numpy() != "no customers"
            if column not in allowed_nan:
                assert not np.isnan(values[rows]).any(), (name, column)
            if column not in MAY_BE_INFINITE:
                assert not np.isinf(values[rows]).any(), (name, column)


def frame_project(customers: pd.DataFrame, **settings) -> simcore.Project:
    settings.setdefault("retention", {"family": "exponential"})
    settings.setdefault("simulation", {"replications": 20, "seed": 5})
    settings.setdefault("horizon_months", 24)
    settings.setdefault("economics", {"default": {"gross_margin": "80%", "cac": 200, "mrr": 50}})
    if "segments" not in settings:  # a tenure book has no signup dates to count acquisitions from
        settings.setdefault("acquisition", {"new_customers_per_month": {"all": 10}})
    return simcore.Project.from_frame(customers, columns={"id": "id", "tenure": "tenure", "churned": "churned"},
                                      **settings)


def tenure_book(n: int = 200, churned=lambda i: i % 3 == 0, tenure=lambda i: 1 + i % 24, plan=None) -> pd.DataFrame:
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(n)], "tenure": [tenure(i) for i in range(n)],
                          "churned": ["yes" if churned(i) else "no" for i in range(n)]})
    if plan is not None:
        frame["plan"] = [plan(i) for i in range(n)]
    return frame


def test_zero_churn_is_refused_with_what_to_do(tmp_path):
    tenure_book(churned=lambda i: False).to_csv(tmp_path / "book.csv", index=False)
    (tmp_path / "config.yaml").write_text(
        "data:\n  customers: book.csv\n  columns: {id: id, tenure: tenure, churned: churned}\n")
    with pytest.raises(DataError) as error:
        simcore.Project.from_config(tmp_path / "config.yaml").validate()
    problem = error.value.problems[0]
    assert problem.source.endswith("config.yaml") and problem.line == 3 and problem.field == "data.columns"
    assert "no churn events" in problem.message and "check that data.columns maps the churn column" in problem.hint


def test_every_customer_churning_in_month_one_is_refused_with_what_to_do():
    # Every family's fit ends at the edge of its parameters (hazard 1) with an undefined
    # covariance; simulated from it, LTV came out eight times one month's contribution.
    book = tenure_book(churned=lambda i: True, tenure=lambda i: 1)
    with pytest.raises(DataError) as error:
        frame_project(book, retention={"family": "auto"}).validate()
    problem = error.value.problems[0]
    assert "every customer churned at the same tenure (1 months)" in problem.message
    assert "check the tenure and churn columns" in problem.hint and problem.field == "data.columns"


def test_the_fit_itself_survives_every_customer_churning_in_month_one():
    from simcore.retention import fit_segment

    result = fit_segment(np.ones(50, dtype=int), np.ones(50, dtype=int), segment="s")
    assert result.fit.survival([1])[0] == pytest.approx(0.0, abs=1e-6)


def test_one_customer_segment_is_refused_with_what_to_do():
    for churned in (True, False):
        book = tenure_book(plan=lambda i: "solo" if i == 0 else "crowd", churned=lambda i, c=churned: c or i % 3 == 1)
        with pytest.raises(DataError, match="segment 'solo' \\(1 customers\\)") as error:
            frame_project(book, segments={"by": ["plan"], "min_customers": 1}).validate()
        assert "merge the segment" in error.value.problems[0].hint


def test_two_customer_segment_gives_a_clean_result():
    book = tenure_book(plan=lambda i: "pair" if i in (0, 3) else "crowd")
    run = frame_project(book, segments={"by": ["plan"], "min_customers": 1},
                        acquisition={"new_customers_per_month": {"pair": 1, "crowd": 10}}).simulate()
    assert_clean(run)
    assert run.fit.table.set_index("segment").loc["pair", "n_customers"] == 2


def test_all_churned():
    run = frame_project(tenure_book(churned=lambda i: True)).simulate()
    assert_clean(run)
    assert run.segment_summary.query("population == 'existing'").iloc[0]["status"] == "no customers"


@pytest.mark.parametrize("economics, status", [
    ({"gross_margin": "0%", "cac": 200, "mrr": 50}, "margin-draining"),
    ({"gross_margin": "50%", "support_cost_per_month": 60, "cac": 200, "mrr": 50}, "margin-draining"),
    ({"gross_margin": "80%", "cac": 0, "mrr": 50}, "profitable"),
])
def test_zero_or_negative_contribution(economics, status):
    run = frame_project(tenure_book(), economics={"default": economics}).simulate()
    assert_clean(run)
    new = run.segment_summary.query("population == 'new'").iloc[0]
    assert new["status"] == status
    if economics["gross_margin"] != "80%":
        assert new["ltv_mean"] <= 0 and new["payback_months_p50"] == np.inf


@pytest.mark.parametrize("horizon", [1, 600])
def test_shortest_and_longest_horizons(horizon):
    run = frame_project(tenure_book(), horizon_months=horizon, simulation={"replications": 5, "seed": 1}).simulate()
    assert_clean(run)
    projection = run.projection
    assert projection["month"].max() == horizon - 1


def test_horizon_beyond_600_is_refused():
    with pytest.raises(simcore.SimcoreError, match="horizon_months"):
        frame_project(tenure_book(), horizon_months=601)


@pytest.mark.parametrize("rate", ["0%", "100%"])
def test_discount_rates_zero_and_one_hundred_percent(rate):
    run = frame_project(tenure_book(), discount_rate_annual=rate).simulate()
    assert_clean(run)
    existing = run.segment_summary.query("population == 'existing'").iloc[0]
    assert existing["ltv_mean"] > 0


def test_a_higher_discount_rate_lowers_value():
    values = [frame_project(tenure_book(), discount_rate_annual=r).simulate()
              .segment_summary.query("population == 'existing'").iloc[0]["ltv_mean"] for r in ("0%", "100%")]
    assert values[0] > values[1] > 0


@pytest.mark.slow
def test_a_million_customers_in_one_segment():
    n = 1_000_000
    generator = np.random.default_rng(11)
    book = pd.DataFrame({"id": np.arange(n).astype(str), "tenure": generator.integers(0, 60, n),
                         "churned": np.where(generator.random(n) < 0.4, "yes", "no")})
    run = frame_project(book, horizon_months=36, simulation={"replications": 20, "seed": 1}).simulate()
    assert_clean(run)
    assert run.segment_summary.query("population == 'existing'").iloc[0]["customers"] > 500_000


def test_tables_of_an_ordinary_run_are_clean():
    assert_clean(frame_project(tenure_book(plan=lambda i: "ab"[i % 2]), segments=["plan"]).simulate())


def test_fits_table_unit_is_months(tmp_path: Path):
    fit = frame_project(tenure_book()).fit()
    assert "tenure_unit" not in fit.table.columns and fit.table["max_observed_tenure"].iloc[0] == 24
