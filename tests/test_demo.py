"""The demo book: deterministic, large enough, and faithful to its stated assumptions.

The reference values come from the assumptions in ``DEMO_PLANS`` through closed forms
(the shifted-beta-geometric survival of Fader & Hardie 2007, binomial rates) and from
lifelines' Kaplan-Meier estimator, never from running the generator.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy.special import betaln

from simcore.config import load_config
from simcore.demo import (
    DEMO_CHANNELS,
    DEMO_ECONOMICS,
    DEMO_PLANS,
    DemoFiles,
    generate_demo,
    write_demo,
)
from simcore.errors import ConfigError

AS_OF = pd.Timestamp("2025-12-31")
PLANS = {p.plan: p for p in DEMO_PLANS}


def sbg_survival(plan, t):
    """S(t) = B(alpha, beta + t) / B(alpha, beta) (Fader & Hardie 2007, eq. 4)."""
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(plan.churn_alpha, plan.churn_beta + t) - betaln(plan.churn_alpha, plan.churn_beta))


def calendar_months(start: pd.Series, end: pd.Series | pd.Timestamp) -> np.ndarray:
    """Whole calendar months from start to end (a month is complete on its anniversary)."""
    end_year = end.dt.year if isinstance(end, pd.Series) else end.year
    end_month = end.dt.month if isinstance(end, pd.Series) else end.month
    end_day = end.dt.day if isinstance(end, pd.Series) else end.day
    months = (end_year - start.dt.year) * 12 + (end_month - start.dt.month) - (end_day < start.dt.day)
    return np.asarray(months, dtype=np.int64)


def month_number(text: pd.Series) -> np.ndarray:
    """'YYYY-MM' -> months since year 0, for arithmetic on months."""
    parts = text.str.split("-", expand=True).astype(int)
    return (parts[0] * 12 + parts[1] - 1).to_numpy()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    files = write_demo(tmp_path_factory.mktemp("demo"))
    customers = pd.read_csv(files.customers, dtype={"customer_id": str}, parse_dates=["signup_date", "churn_date"])
    churned = customers["churn_date"].notna().to_numpy()
    completed = calendar_months(customers["signup_date"], AS_OF)
    # A churned customer cancels during their last paid month: payments = months elapsed + 1.
    lifetime = np.where(churned, calendar_months(customers["signup_date"], customers["churn_date"].fillna(AS_OF)) + 1, -1)
    customers = customers.assign(
        churned=churned,
        duration=np.where(churned, lifetime, completed),
        # Months paid for: the lifetime if churned, else every month up to as_of's month.
        paid_months=np.where(churned, lifetime, completed + 1),
        signup_month=month_number(customers["signup_date"].dt.strftime("%Y-%m")),
    )
    return SimpleNamespace(
        files=files,
        customers=customers,
        history=pd.read_csv(files.mrr_history, dtype={"customer_id": str, "month": str}),
        spend=pd.read_csv(files.acquisition_spend, dtype={"month": str}),
        support=pd.read_csv(files.support_costs, dtype={"month": str}),
    )


# --------------------------------------------------------------------------- files


def test_same_seed_gives_identical_bytes_and_another_seed_differs(demo, tmp_path):
    again = write_demo(tmp_path / "again")
    for first, second in zip(demo.files.paths, again.paths):
        assert first.name == second.name
        assert first.read_bytes() == second.read_bytes(), first.name
    other = write_demo(tmp_path / "other", seed=7)
    assert other.customers.read_bytes() != demo.files.customers.read_bytes()


def test_files_are_listed_and_history_stays_small(demo):
    assert isinstance(demo.files, DemoFiles)
    assert {p.name for p in demo.files.paths} == {
        "customers.csv", "mrr_history.csv", "acquisition_spend.csv", "support_costs.csv", "config.yaml",
        "scenarios.yaml", "simcore.schema.json"}
    assert all(p.parent == demo.files.directory for p in demo.files.paths)
    assert demo.files.mrr_history.stat().st_size < 5_000_000
    assert list(demo.customers.columns[:9]) == [
        "customer_id", "signup_date", "churn_date", "plan", "channel", "region",
        "employees", "tickets_per_month", "mrr"]
    assert "cac" not in demo.customers.columns


def test_config_loads_and_points_at_the_files(demo):
    config = load_config(demo.files.config)
    assert config.data.as_of == date(2025, 12, 31)
    assert config.resolve(config.data.customers) == demo.files.customers
    assert config.resolve(config.data.history.path) == demo.files.mrr_history
    columns = config.data.columns
    mapped = [columns.id, columns.signup, columns.churn, columns.mrr]
    assert set(mapped) <= set(demo.customers.columns)
    history_columns = config.data.history.columns
    assert {history_columns.id, history_columns.month, history_columns.mrr} == set(demo.history.columns)
    assert config.segments.by == ["plan"]
    assert config.segments.min_customers == 100


def test_invalid_arguments_are_reported_together(tmp_path):
    with pytest.raises(ConfigError) as caught:
        write_demo(tmp_path, customers=0, seed=-1)
    assert {p.field for p in caught.value.problems} == {"customers", "seed"}
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- the book


def test_book_size_segments_and_history_span(demo):
    customers = demo.customers
    assert len(customers) >= 20_000
    assert customers["customer_id"].is_unique
    sizes = customers["plan"].value_counts()
    assert set(sizes.index) == set(PLANS) and len(sizes) >= 4
    assert sizes.min() >= 100
    for plan, count in sizes.items():
        share = PLANS[plan].share
        assert abs(count / len(customers) - share) < 4 * np.sqrt(share * (1 - share) / len(customers))
    first, last = customers["signup_date"].min(), customers["signup_date"].max()
    assert (last - first).days >= 5 * 365
    assert last < AS_OF
    per_year = customers["signup_date"].dt.year.value_counts()
    assert per_year[2025] > 2 * per_year[2020]  # acquisition grows
    assert set(customers["channel"]) == set(DEMO_CHANNELS)
    assert customers["employees"].dtype.kind == "i" and customers["employees"].min() >= 1
    tickets = customers.groupby("plan")["tickets_per_month"].median()
    assert tickets.idxmax() == "power_user"


def test_churn_dates_give_the_same_whole_months_under_both_conventions(demo):
    churned = demo.customers[demo.customers["churned"]]
    assert (churned["churn_date"] <= AS_OF).all()
    assert (churned["duration"] >= 1).all()
    days = (churned["churn_date"] - churned["signup_date"]).dt.days
    assert (np.floor(days / 30.4375).astype(int) + 1 == churned["duration"]).all()
    active = demo.customers[~demo.customers["churned"]]
    assert (active["duration"] >= 1).all()  # no censored duration of 0


def test_schema_file_is_the_current_schema_and_scenarios_validate(demo):
    import json

    from simcore.config import json_schema, load_config

    assert json.loads(demo.files.schema.read_text()) == json_schema()
    config = load_config(demo.files.config)
    assert [s.name for s in config.scenarios] == [
        "price_increase", "annual_prepay_discount", "downturn_stress", "cs_investment"]
    assert config.scenario_origins["cs_investment"][0] == "scenarios.yaml"


def test_loader_reads_back_the_generated_tenures(demo):
    from simcore.config import load_config
    from simcore.data import load_book

    config = load_config(demo.files.config)
    book = load_book(config.data, config.base_dir)
    loaded = book.customers.set_index("customer_id")
    generated = demo.customers.set_index("customer_id")
    assert (loaded.loc[generated.index, "tenure_months"].to_numpy() == generated["duration"].to_numpy()).all()
    assert (loaded.loc[generated.index, "churned"].to_numpy() == generated["churned"].to_numpy()).all()


def test_twelve_month_churn_matches_sbg_and_self_serve_churns_more_than_enterprise(demo):
    customers = demo.customers
    observable = customers[calendar_months(customers["signup_date"], AS_OF) >= 12]
    realized = {}
    for plan_name, group in observable.groupby("plan"):
        expected = 1.0 - float(sbg_survival(PLANS[plan_name], 12))
        observed = float((group["churned"] & (group["duration"] <= 12)).mean())
        tolerance = 4.0 * np.sqrt(expected * (1 - expected) / len(group))
        assert abs(observed - expected) < tolerance, plan_name
        realized[plan_name] = observed
    assert realized["self_serve"] > realized["power_user"] > realized["enterprise"]
    assert realized["self_serve"] > realized["mid_market"] > realized["enterprise"]


@pytest.mark.parametrize("plan_name", sorted(PLANS))
def test_kaplan_meier_follows_sbg_and_survivors_get_better(demo, plan_name):
    group = demo.customers[demo.customers["plan"] == plan_name]
    fitter = KaplanMeierFitter(alpha=1e-4).fit(group["duration"], group["churned"])
    band = fitter.confidence_interval_survival_function_
    assert "lower" in band.columns[0] and "upper" in band.columns[1]
    for t in (6, 24, 48):
        # A step function: read the 99.99 % band at the last time <= t.
        at = band.loc[band.index <= t].iloc[-1]
        truth = float(sbg_survival(PLANS[plan_name], t))
        assert at.iloc[0] <= truth <= at.iloc[1], (plan_name, t)
    s = fitter.survival_function_at_times([12, 24, 36]).to_numpy()
    first_year_hazard = 1 - s[0] ** (1 / 12)
    third_year_hazard = 1 - (s[2] / s[1]) ** (1 / 12)
    assert third_year_hazard < first_year_hazard


# --------------------------------------------------------------------------- revenue


def test_history_is_a_change_log_ending_at_each_customers_mrr(demo):
    customers = demo.customers.set_index("customer_id")
    history = demo.history
    assert history["customer_id"].is_monotonic_increasing
    assert set(history["customer_id"]) == set(customers.index)
    month = month_number(history["month"])
    same_customer = history["customer_id"].to_numpy()[1:] == history["customer_id"].to_numpy()[:-1]
    assert (np.diff(month)[same_customer] > 0).all()
    # A row only where MRR changed.
    assert (history["mrr"].to_numpy()[1:][same_customer] != history["mrr"].to_numpy()[:-1][same_customer]).all()
    firsts = history.groupby("customer_id").head(1).set_index("customer_id")
    lasts = history.groupby("customer_id").tail(1).set_index("customer_id")
    assert (month_number(firsts["month"]) == customers.loc[firsts.index, "signup_month"].to_numpy()).all()
    assert (lasts["mrr"] == customers.loc[lasts.index, "mrr"]).all()
    last_paid = customers.loc[lasts.index, "signup_month"] + customers.loc[lasts.index, "paid_months"] - 1
    assert (month_number(lasts["month"]) <= last_paid.to_numpy()).all()
    assert (history["mrr"] > 0).all()


def test_expansion_and_contraction_rates_match_the_assumptions(demo):
    history = demo.history
    same_customer = history["customer_id"].eq(history["customer_id"].shift())
    log_change = np.log(history["mrr"] / history["mrr"].shift())[same_customer]
    plan_of = demo.customers.set_index("customer_id")["plan"]
    changes = pd.DataFrame({"plan": plan_of.loc[history.loc[same_customer, "customer_id"]].to_numpy(),
                            "log_change": log_change.to_numpy()})
    # Every renewal after the first is one chance of a change.
    exposure = (demo.customers["paid_months"] - 1).groupby(demo.customers["plan"]).sum()
    net_growth = {}
    for plan_name, plan in PLANS.items():
        rows = changes[changes["plan"] == plan_name]["log_change"]
        n = int(exposure[plan_name])
        for probability, observed in ((plan.p_expansion, int((rows > 0).sum())),
                                      (plan.p_contraction, int((rows < 0).sum()))):
            assert abs(observed / n - probability) < 4 * np.sqrt(probability * (1 - probability) / n), plan_name
        ups = rows[rows > 0]
        assert abs(ups.mean() - plan.expansion_log_mean) < 4 * plan.expansion_log_sd / np.sqrt(len(ups))
        net_growth[plan_name] = rows.sum() / n
    assert max(net_growth, key=net_growth.get) == "mid_market"


def test_acquisition_spend_recovers_plan_cac(demo):
    customers, spend = demo.customers, demo.spend
    assert set(spend["channel"]) == set(DEMO_CHANNELS)
    signup_months = customers["signup_date"].dt.strftime("%Y-%m")
    assert set(spend["month"]) == set(signup_months)
    cac = customers["plan"].map(lambda name: PLANS[name].cac)
    expected = cac.groupby(customers["channel"]).sum()
    observed = spend.groupby("channel")["spend"].sum()
    # Spend carries mean-one noise of 5 % per month; over 71 months the total is within 2 %.
    assert np.allclose(observed[expected.index] / expected, 1.0, atol=0.02)


def test_support_costs_match_active_accounts_times_cost_per_account(demo):
    customers, support = demo.customers, demo.support
    months = np.sort(month_number(support["month"].drop_duplicates()))
    assert months[-1] == month_number(pd.Series(["2025-12"]))[0]
    first = customers["signup_month"].to_numpy()
    last = first + customers["paid_months"].to_numpy() - 1
    for plan_name, plan in PLANS.items():
        mine = customers["plan"].to_numpy() == plan_name
        active = ((first[mine, None] <= months[None, :]) & (months[None, :] <= last[mine, None])).sum(axis=0)
        rows = support[support["plan"] == plan_name].assign(m=lambda f: month_number(f["month"])).set_index("m")
        cost = rows.loc[months, "support_cost"].to_numpy()
        assert np.all(cost[active == 0] == 0)
        ratio = cost[active > 0] / (active[active > 0] * plan.support_cost_per_month)
        assert np.all(np.abs(np.log(ratio)) < 0.15)  # 5 standard deviations of the 3 % noise
        assert abs(cost.sum() / (active.sum() * plan.support_cost_per_month) - 1) < 0.015


# --------------------------------------------------------------------------- economics


def expected_unit_profit(plan, horizon_months=120, discount_rate_annual=0.10):
    """E[LTV] - CAC - onboarding with sBG survival and independent MRR drift.

    E[MRR at tenure t | active] = m0 g^t with m0 the log-normal mean and
    g = 1 + p_e (E[e^X_e] - 1) + p_c (E[e^X_c] - 1) the mean monthly factor.
    """
    t = np.arange(horizon_months)
    discount = (1 + discount_rate_annual) ** (-t / 12)
    m0 = plan.mrr_median * np.exp(plan.mrr_log_sd**2 / 2)
    g = (1 + plan.p_expansion * (np.exp(plan.expansion_log_mean + plan.expansion_log_sd**2 / 2) - 1)
         + plan.p_contraction * (np.exp(plan.contraction_log_mean + plan.contraction_log_sd**2 / 2) - 1))
    contribution = m0 * g**t * plan.gross_margin - plan.support_cost_per_month
    ltv = float(np.sum(discount * sbg_survival(plan, t) * contribution))
    return ltv - plan.cac - plan.onboarding_cost, ltv


def test_power_users_drain_margin_and_enterprise_pays(demo):
    power, enterprise = PLANS["power_user"], PLANS["enterprise"]
    assert power.mean_starting_mrr * power.gross_margin - power.support_cost_per_month < 0
    assert expected_unit_profit(power)[0] < 0
    assert expected_unit_profit(enterprise)[0] > 0
    assert expected_unit_profit(PLANS["mid_market"])[0] > 0
    thin_unit_profit, thin_ltv = expected_unit_profit(PLANS["self_serve"])
    assert 0 < thin_unit_profit and thin_ltv / PLANS["self_serve"].cac < 3

    customers = demo.customers
    economics = customers["plan"].map(DEMO_ECONOMICS)
    contribution = customers["mrr"] * economics.map(lambda e: e["gross_margin"]) - economics.map(
        lambda e: e["support_cost_per_month"])
    mean_contribution = contribution.groupby(customers["plan"]).mean()
    assert mean_contribution["power_user"] < 0
    assert mean_contribution["enterprise"] > 0
    mean_mrr = customers.groupby("plan")["mrr"].mean()
    assert mean_mrr.idxmax() == "enterprise" and mean_mrr.idxmin() == "self_serve"


def test_demo_economics_lists_every_plan_and_a_blended_default():
    assert set(DEMO_ECONOMICS) == set(PLANS) | {"default"}
    for name, plan in PLANS.items():
        assert DEMO_ECONOMICS[name] == {
            "gross_margin": plan.gross_margin,
            "support_cost_per_month": plan.support_cost_per_month,
            "onboarding_cost": plan.onboarding_cost,
            "cac": plan.cac,
        }
    for key, value in DEMO_ECONOMICS["default"].items():
        values = [DEMO_ECONOMICS[name][key] for name in PLANS]
        assert min(values) <= value <= max(values), key
    assert abs(sum(p.share for p in DEMO_PLANS) - 1) < 1e-12


def test_a_small_book_is_consistent_too():
    tables = generate_demo(customers=300, seed=3)
    assert len(tables.customers) == 300
    last = tables.mrr_history.groupby("customer_id")["mrr"].last()
    assert (last.loc[tables.customers["customer_id"]].to_numpy() == tables.customers["mrr"].to_numpy()).all()
    churned = tables.customers["churn_date"].notna()
    assert (tables.customers.loc[churned, "churn_date"] > tables.customers.loc[churned, "signup_date"]).all()
