"""Every scenario lever, written as YAML, moves the results the right way — and by the
exact amount where a closed form exists.

All runs share one seed, so baseline and scenario see the same random numbers (common
random numbers): a lever that changes only money leaves every lifetime as it was, and
differences are exact rather than noisy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doubles import GeometricFit
from simcore.config import config_from_text
from simcore.economics import Economics, resolve_economics
from simcore.engine.api import simulate
from simcore.scenarios import effective_scenario, levers_for_segment, scenario_levers

H = 36
SEED = 11
SEGMENTS = ("smb", "enterprise")
ECONOMICS = {
    "smb": Economics(gross_margin=0.8, support_cost_per_month=5.0, cac=400.0, onboarding_cost=50.0,
                     discount_rate_annual=0.10, default_mrr=50.0),
    "enterprise": Economics(gross_margin=0.8, support_cost_per_month=200.0, cac=20000.0, onboarding_cost=3000.0,
                            discount_rate_annual=0.10, default_mrr=3000.0),
}


class Dynamics:
    p_expansion = 0.04
    expansion_log_mean = 0.1
    expansion_log_sd = 0.05
    p_contraction = 0.03
    contraction_log_mean = -0.15
    contraction_log_sd = 0.05


FITS = {"smb": GeometricFit(0.04), "enterprise": GeometricFit(0.01)}
DYNAMICS = {"smb": Dynamics(), "enterprise": Dynamics()}


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    segment = np.where(np.arange(n) < 400, "smb", "enterprise")
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "tenure_months": rng.integers(0, 30, n),
        "churned": np.zeros(n, dtype=bool),
        "mrr": np.where(segment == "smb", 50.0, 3000.0),
        "segment": segment,
    })


BASE = "data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\n"
# The book has tenures only, so the baseline volume of new customers is configured.
ACQUISITION = "acquisition: {new_customers_per_month: {smb: 20, enterprise: 2}}\n"


def config_with(yaml_levers: str | None, name: str = "s"):
    text = BASE + ACQUISITION + f"horizon_months: {H}\n"
    if yaml_levers is not None:
        text += f"scenarios:\n  - name: {name}\n" + "".join(
            f"    {line}\n" for line in yaml_levers.strip().splitlines()
        )
    return config_from_text(text)


def run(customers, levers_yaml: str | None, *, new: bool = True, dynamics=None, replications: int = 30):
    config = config_with(levers_yaml)
    economics = resolve_economics(config, customers, list(SEGMENTS), None)
    levers = scenario_levers(config, "baseline" if levers_yaml is None else "s", list(SEGMENTS), economics)
    return simulate(FITS, customers, ECONOMICS, dynamics, levers, replications=replications, seed=SEED,
                    horizon_months=H, include_new=new,
                    as_of=pd.Timestamp("2025-12-31"))


def series(result, segment, population, metric) -> np.ndarray:
    p = result.projections
    rows = p[(p.segment == segment) & (p.population == population) & (p.metric == metric)].sort_values("month")
    return rows["mean"].to_numpy()


def summary(result, segment, population, column):
    s = result.segment_summary
    return float(s[(s.segment == segment) & (s.population == population)][column].iloc[0])


def value(result, segment):
    totals = result.replication_totals
    part = totals[totals.segment == segment]
    return float((part.existing_value + part.new_profit_discounted_to_start).mean())


@pytest.fixture(scope="module")
def baseline(customers):
    return run(customers, None, dynamics=None)


@pytest.fixture(scope="module")
def baseline_dynamic(customers):
    return run(customers, None, dynamics=DYNAMICS)


def test_price_rise_without_elasticity_is_exactly_ten_percent_from_its_month(customers, baseline):
    result = run(customers, "price_change: {pct: 10%, from_month: 3, applies_to: existing}")
    for segment in SEGMENTS:
        before, after = series(baseline, segment, "existing", "mrr"), series(result, segment, "existing", "mrr")
        np.testing.assert_allclose(after[:3], before[:3], rtol=1e-12)
        np.testing.assert_allclose(after[3:], 1.10 * before[3:], rtol=1e-12)
        np.testing.assert_array_equal(series(result, segment, "existing", "active_customers"),
                                      series(baseline, segment, "existing", "active_customers"))


def test_price_elasticity_raises_churn_only_after_the_change(customers, baseline):
    result = run(customers, "price_change: {pct: 10%, from_month: 6}\nprice_elasticity_of_churn: 2.0")
    active_base = series(baseline, "smb", "existing", "active_customers")
    active = series(result, "smb", "existing", "active_customers")
    # The decision to renew into month 6 is the first one taken at the new price.
    np.testing.assert_array_equal(active[:6], active_base[:6])
    assert (active[6:] <= active_base[6:]).all() and active[-1] < active_base[-1]
    assert summary(result, "smb", "new", "ltv_mean") < 1.10 * summary(baseline, "smb", "new", "ltv_mean")


def test_new_customer_discount_lowers_their_mrr_by_share_times_pct_while_it_lasts(customers, baseline):
    result = run(customers, "discount: {pct: 20%, duration_months: 6, eligible_share: 50%, applies_to: new}")
    # New customers' price factor is 1 - 0.5 * 0.2 = 0.9 in their first 6 months. In
    # calendar month 0 every new customer is in tenure month 0, so MRR is exactly 0.9x.
    before, after = series(baseline, "smb", "new", "mrr"), series(result, "smb", "new", "mrr")
    assert after[0] == pytest.approx(0.9 * before[0], rel=1e-12)
    assert (after <= before + 1e-9).all()
    np.testing.assert_array_equal(series(result, "smb", "existing", "mrr"), series(baseline, "smb", "existing", "mrr"))


def test_prepay_discount_lock_in_lowers_new_customer_churn(customers, baseline):
    result = run(customers, "discount: {pct: 15%, duration_months: 12, eligible_share: 100%, churn_multiplier: 0.2}")
    assert (series(result, "smb", "new", "active_customers") >= series(baseline, "smb", "new", "active_customers")).all()
    assert series(result, "smb", "new", "active_customers")[11] > series(baseline, "smb", "new", "active_customers")[11]


def test_existing_customer_discount_window(customers, baseline):
    result = run(customers, "discount: {pct: 10%, duration_months: 4, from_month: 2, applies_to: existing}")
    before, after = series(baseline, "smb", "existing", "mrr"), series(result, "smb", "existing", "mrr")
    np.testing.assert_allclose(after[2:6], 0.9 * before[2:6], rtol=1e-12)
    np.testing.assert_allclose(after[:2], before[:2], rtol=1e-12)
    np.testing.assert_allclose(after[6:], before[6:], rtol=1e-12)


def test_churn_window_only_for_named_segment(customers, baseline):
    result = run(customers, "churn_multiplier: [{months: [6, 18], factor: 1.5, segments: [smb]}]")
    base, stressed = (series(r, "smb", "existing", "active_customers") for r in (baseline, result))
    np.testing.assert_array_equal(stressed[:6], base[:6])  # renewals into months 6..18 are stressed
    assert stressed[6] <= base[6] and stressed[19] < base[19]
    np.testing.assert_array_equal(series(result, "enterprise", "all", "active_customers"),
                                  series(baseline, "enterprise", "all", "active_customers"))


def test_expansion_and_contraction_multipliers(customers, baseline_dynamic):
    more = run(customers, "expansion_multiplier: 2.0", dynamics=DYNAMICS)
    less = run(customers, "contraction_multiplier: 2.0", dynamics=DYNAMICS)
    base = series(baseline_dynamic, "smb", "existing", "mrr")
    assert series(more, "smb", "existing", "mrr")[-1] > base[-1]
    assert series(less, "smb", "existing", "mrr")[-1] < base[-1]


def test_cac_change_lowers_new_unit_profit_by_exactly_the_extra_cac(customers, baseline):
    result = run(customers, "cac_change: 25%")
    for segment in SEGMENTS:
        extra = 0.25 * ECONOMICS[segment].cac
        assert summary(result, segment, "new", "unit_profit_mean") == pytest.approx(
            summary(baseline, segment, "new", "unit_profit_mean") - extra, rel=1e-9)
        assert summary(result, segment, "new", "cac") == pytest.approx(1.25 * ECONOMICS[segment].cac)


def test_acquisition_multiplier_and_volume(customers, baseline):
    fewer = run(customers, "acquisition_multiplier: [{months: [0, 11], factor: 0.5}]")
    active = series(fewer, "smb", "new", "active_customers")
    assert active[0] == pytest.approx(10.0)  # 20 a month, halved, all active in their first month
    totals = fewer.replication_totals
    smb_new = float(totals[totals.segment == "smb"].new_customers.iloc[0])
    assert smb_new == pytest.approx(12 * 10 + (H - 12) * 20)
    more = run(customers, "new_customers_per_month: {smb: 30}")
    totals = more.replication_totals
    assert float(totals[totals.segment == "smb"].new_customers.iloc[0]) == pytest.approx(30 * H)
    assert float(totals[totals.segment == "enterprise"].new_customers.iloc[0]) == pytest.approx(2 * H)


def test_cost_to_serve_and_gross_margin_changes_are_exact(customers, baseline):
    costlier = run(customers, "cost_to_serve_change: 50%", new=False)
    base = run(customers, None, new=False)
    for segment in SEGMENTS:
        active = series(base, segment, "existing", "active_customers")
        drop = series(base, segment, "existing", "contribution") - series(costlier, segment, "existing", "contribution")
        np.testing.assert_allclose(drop, 0.5 * ECONOMICS[segment].support_cost_per_month * active, rtol=1e-9)
    thinner = run(customers, "gross_margin_change: -5%", new=False)
    for segment in SEGMENTS:
        mrr = series(base, segment, "existing", "mrr")
        drop = series(base, segment, "existing", "contribution") - series(thinner, segment, "existing", "contribution")
        np.testing.assert_allclose(drop, 0.05 * mrr, rtol=1e-9)


def test_higher_discount_rate_lowers_value(customers, baseline):
    result = run(customers, "discount_rate_annual: 25%")
    for segment in SEGMENTS:
        assert summary(result, segment, "existing", "ltv_mean") < summary(baseline, segment, "existing", "ltv_mean")
    np.testing.assert_array_equal(series(result, "smb", "all", "active_customers"),
                                  series(baseline, "smb", "all", "active_customers"))


def test_cs_coverage_costs_exactly_and_keeps_customers(customers, baseline):
    result = run(customers, "cs_coverage: {segments: [enterprise], accounts_per_csm: 25, "
                            "cost_per_csm_per_year: 150000, churn_multiplier: 0.5}", new=False)
    base = run(customers, None, new=False)
    assert (series(result, "enterprise", "existing", "active_customers")
            >= series(base, "enterprise", "existing", "active_customers")).all()
    active = series(result, "enterprise", "existing", "active_customers")
    mrr = series(result, "enterprise", "existing", "mrr")
    contribution = series(result, "enterprise", "existing", "contribution")
    per_account_cost = 150000 / 12 / 25
    np.testing.assert_allclose(contribution, 0.8 * mrr - (200.0 + per_account_cost) * active, rtol=1e-9)
    np.testing.assert_array_equal(series(result, "smb", "existing", "mrr"), series(base, "smb", "existing", "mrr"))


def test_extends_inherits_and_overrides():
    text = BASE + (
        "scenarios:\n"
        "  - {name: a, price_change: {pct: 10%}, price_elasticity_of_churn: 0.5}\n"
        "  - {name: b, extends: a, price_elasticity_of_churn: 1.0, acquisition_multiplier: 0.6}\n"
    )
    config = config_from_text(text)
    b = effective_scenario(config, "b")
    assert b.price_change[0].pct == pytest.approx(0.10)
    assert [e.elasticity for e in b.price_elasticity_of_churn] == [1.0]
    assert b.acquisition_multiplier[0].factor == 0.6
    assert effective_scenario(config, "a").acquisition_multiplier == []


def test_windows_end_where_they_say_even_at_the_horizon():
    effective = effective_scenario(config_with("churn_multiplier: [{months: [30, 35], factor: 2.0}]"), "s")
    levers = levers_for_segment(effective, "smb", H)
    schedule = np.asarray(levers.churn_hazard_multiplier_by_month)
    assert len(schedule) == 2 * H  # new customers acquired late are valued past the horizon
    assert (schedule[30:36] == 2.0).all() and (schedule[36:] == 1.0).all() and (schedule[:30] == 1.0).all()
