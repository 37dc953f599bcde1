"""Economics per segment: derived from data (CAC from spend, support cost from a cost table),
precedence with its origin, starting MRR of new customers and acquisition volume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simcore.config import AcquisitionSpend, SupportCostTable, config_from_text
from simcore.economics import cac_from_spend, resolve_economics, support_cost_from_table
from simcore.errors import DataError

BASE = "data:\n  customers: x.csv\n  columns: {signup: s}\n"


@pytest.fixture
def customers() -> pd.DataFrame:
    # Two channels: 10 paid-search customers and 2 sales-led ones, all signed up in 2025.
    signup = pd.to_datetime(["2025-03-10"] * 10 + ["2025-06-01"] * 2)
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(12)],
        "signup_date": signup,
        "churn_date": pd.NaT,
        "churned": False,
        "tenure_months": 3,
        "channel": ["search"] * 10 + ["sales"] * 2,
        "segment": ["smb"] * 10 + ["enterprise"] * 2,
    })


def test_cac_per_channel_per_segment_and_blended(tmp_path, customers):
    (tmp_path / "spend.csv").write_text(
        "month,channel,spend\n2025-03,search,5000\n2025-06,sales,60000\n2024-01,search,999999\n"
    )
    config = config_from_text(BASE, base_dir=tmp_path)
    derived = cac_from_spend(AcquisitionSpend(path="spend.csv"), config, customers, pd.Timestamp("2025-12-31"))
    assert derived.by_segment == {"smb": pytest.approx(500.0), "enterprise": pytest.approx(30000.0)}
    # Blended CAC: all spend in the window / all new customers = 65,000 / 12.
    assert derived.blended == pytest.approx(65000 / 12)
    by_key = derived.by_key.set_index("key")
    assert by_key.loc["search", "count"] == 10 and by_key.loc["sales", "per_unit"] == pytest.approx(30000.0)


def test_unmatched_keys_are_warnings(tmp_path, customers):
    (tmp_path / "spend.csv").write_text("month,channel,spend\n2025-03,search,5000\n2025-04,tv,7000\n")
    config = config_from_text(BASE, base_dir=tmp_path)
    derived = cac_from_spend(AcquisitionSpend(path="spend.csv"), config, customers, pd.Timestamp("2025-12-31"))
    messages = " ".join(w.message for w in derived.warnings)
    assert "tv" in messages and "blended figure only" in messages
    assert "sales has new customers" in messages and "counts as 0" in messages


def test_support_cost_per_account_month(tmp_path, customers):
    # smb: 10 accounts active Mar..Dec 2025 inside a 12-month window = 100 account-months.
    (tmp_path / "support.csv").write_text("month,segment,cost\n2025-05,smb,1000\n2025-07,enterprise,2100\n")
    config = config_from_text(BASE, base_dir=tmp_path)
    derived = support_cost_from_table(SupportCostTable(path="support.csv"), config, customers, pd.Timestamp("2025-12-31"))
    assert derived.by_segment["smb"] == pytest.approx(1000 / 100)
    assert derived.by_segment["enterprise"] == pytest.approx(2100 / (2 * 7))


def test_bad_rows_in_a_cost_table_are_located(tmp_path, customers):
    (tmp_path / "spend.csv").write_text("month,channel,spend\n2025-13,search,5000\n2025-04,search,-3\n2025-05,search,abc\n")
    config = config_from_text(BASE, base_dir=tmp_path)
    with pytest.raises(DataError) as caught:
        cac_from_spend(AcquisitionSpend(path="spend.csv"), config, customers, pd.Timestamp("2025-12-31"))
    lines = caught.value.lines()
    assert any("row 2" in line and "'month'" in line for line in lines)
    assert any("row 4" in line and "spend cannot be read" in line for line in lines)
    assert any("row 3" in line and "negative" in line for line in lines)


def test_tenure_books_cannot_derive_costs(tmp_path, customers):
    config = config_from_text(BASE, base_dir=tmp_path)
    with pytest.raises(DataError, match="needs signup dates"):
        cac_from_spend(AcquisitionSpend(path="spend.csv"), config, customers.drop(columns="signup_date"), pd.Timestamp("2025-12-31"))


def test_precedence_explicit_then_derived_then_default(tmp_path, customers):
    (tmp_path / "spend.csv").write_text("month,channel,spend\n2025-03,search,5000\n2025-06,sales,60000\n")
    config = config_from_text(
        BASE + "economics:\n  default: {gross_margin: 70%, cac: 1}\n  segments:\n    enterprise: {cac: 45000}\n"
        "  cac_from_spend: {path: spend.csv}\n",
        base_dir=tmp_path,
    )
    result = resolve_economics(config, customers, ["enterprise", "smb"], pd.Timestamp("2025-12-31"))
    assert result.economics["enterprise"].cac == 45000
    assert result.economics["smb"].cac == pytest.approx(500.0)
    assert result.economics["smb"].gross_margin == pytest.approx(0.70)
    table = result.table.set_index("segment")
    assert table.loc["enterprise", "cac_from"] == "economics.segments.enterprise"
    assert table.loc["smb", "cac_from"] == "acquisition spend"
    assert table.loc["enterprise", "cac_derived_from_spend"] == pytest.approx(30000.0)
    assert np.isclose(table["blended_cac"], 65000 / 12).all()


def test_demo_support_costs_recover_the_generating_assumptions():
    from pathlib import Path

    from simcore import Project
    from simcore.demo import DEMO_ECONOMICS

    project = Project.from_config(Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml")
    config, book = project.config, project.book()
    derived = support_cost_from_table(config.economics.support_cost_from, config, book.customers, book.book.as_of)
    for plan, assumed in DEMO_ECONOMICS.items():
        if plan != "default":
            # The table carries 3% month-to-month noise around accounts x cost per account.
            assert derived.by_segment[plan] == pytest.approx(assumed["support_cost_per_month"], rel=0.03), plan


def test_new_customers_start_at_the_history_starting_mrr_not_todays():
    from pathlib import Path

    from simcore import Project
    from simcore.demo import DEMO_PLANS

    project = Project.from_config(Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml")
    book = project.book()
    economics = project.economics()
    starting = economics.new_customer_mrr
    table = economics.table.set_index("segment")
    assert (table["new_customer_starting_mrr_from"] == "MRR history: first-month MRR of recent signups").all()
    for plan in DEMO_PLANS:
        assert starting[plan.plan] == pytest.approx(plan.mean_starting_mrr, rel=0.05), plan.plan
    # Mid-market expands: today's mean MRR is well above where its customers started.
    current = book.customers[book.customers.segment == "mid_market"].mrr.mean()
    assert current > 1.15 * starting["mid_market"]


def test_acquisition_volume_and_starting_mrr_have_their_origin(tmp_path, customers):
    config = config_from_text(
        BASE + "economics:\n  default: {mrr: 75}\nacquisition: {new_customers_per_month: {enterprise: 3}}\n",
        base_dir=tmp_path)
    with_mrr = customers.assign(mrr=[100.0] * 10 + [None, None])
    result = resolve_economics(config, with_mrr, ["enterprise", "smb"], pd.Timestamp("2025-12-31"))
    # smb: 10 signups in the 12 months up to as_of; enterprise: the configured volume.
    assert result.acquisition_per_month == {"enterprise": 3.0, "smb": pytest.approx(10 / 12)}
    # no history: the mean known MRR of the segment, else economics' mrr.
    assert result.new_customer_mrr == {"enterprise": 75.0, "smb": 100.0}
    table = result.table.set_index("segment")
    assert table.loc["enterprise", "new_customers_per_month_from"] == "acquisition.new_customers_per_month"
    assert table.loc["smb", "new_customer_starting_mrr_from"] == "customer book: mean MRR"
    assert table.loc["enterprise", "new_customer_starting_mrr_from"] == "economics: mrr"


def test_tenure_books_estimate_new_customers_from_recent_tenures(tmp_path):
    # 12 cohorts of 20 signups, geometric churn 10% a month: the survivors of cohort t
    # are active at tenure t; the estimate divides them by the book's own survival.
    rng = np.random.default_rng(5)
    rows = []
    for months_ago in range(36):
        for i in range(20):
            lifetime = int(rng.geometric(0.10))  # payments made, >= 1
            if lifetime > months_ago:
                rows.append((months_ago, False))
            else:
                rows.append((lifetime, True))
    customers = pd.DataFrame(rows, columns=["tenure_months", "churned"]).assign(
        customer_id=lambda f: [f"c{i}" for i in range(len(f))], segment="all")
    config = config_from_text("data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\n", base_dir=tmp_path)
    result = resolve_economics(config, customers, ["all"], None)
    assert result.acquisition_per_month["all"] == pytest.approx(20.0, rel=0.2)
    assert any("estimated from active customers' tenures" in w.message for w in result.warnings)


def test_channel_spend_is_shown_as_an_allocation_and_a_distant_cac_is_reported(tmp_path, customers):
    (tmp_path / "spend.csv").write_text("month,channel,spend\n2025-03,search,5000\n2025-06,sales,60000\n")
    config = config_from_text(
        BASE + "economics:\n  segments:\n    enterprise: {cac: 45000}\n    smb: {cac: 480}\n"
        "  cac_from_spend: {path: spend.csv}\n", base_dir=tmp_path)
    result = resolve_economics(config, customers, ["enterprise", "smb"], pd.Timestamp("2025-12-31"))
    allocation = result.cac.allocation.set_index(["key", "segment"])
    assert allocation.loc[("sales", "enterprise"), "allocated"] == pytest.approx(60000.0)
    assert allocation.loc[("search", "smb"), "share"] == pytest.approx(1.0)
    # enterprise: 45,000 given vs 30,000 allocated (+50%) is reported; smb 480 vs 500 is not.
    warning = [w for w in result.warnings if "allocated by channel mix" in w.message]
    assert len(warning) == 1 and "enterprise 45,000 vs 30,000 (+50%)" in warning[0].message
    assert "smb" not in warning[0].message
