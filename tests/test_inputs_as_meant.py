"""Inputs are read the way the user meant them, or refused loudly: no silent +1000%, no
swapped day and month, no segment renamed True, no infinite MRR, no years called months.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.config import config_from_text
from simcore.errors import ConfigError, DataError

BASE = """\
name: meant
data:
  customers: customers.csv
  columns: {id: customer_id, tenure: tenure, churned: churned, mrr: mrr}
segments: {by: [plan], min_customers: 1}
"""


def book(rows: int = 60, plan=lambda i: "ab"[i % 2], mrr=lambda i: str(10 + i)) -> str:
    lines = ["customer_id,tenure,churned,plan,mrr"]
    lines += [f"c{i},{1 + i % 20},{'yes' if i % 3 == 0 else 'no'},{plan(i)},{mrr(i)}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def project(tmp_path: Path, extra: str = "", customers: str | None = None, base: str = BASE) -> simcore.Project:
    (tmp_path / "customers.csv").write_text(book() if customers is None else customers)
    (tmp_path / "config.yaml").write_text(base + extra)
    return simcore.Project.from_config(tmp_path / "config.yaml")


# ---------------------------------------------------------------- fractions


FRACTION_FIELDS = [
    ("economics: {default: {gross_margin: 80}}", "economics.default.gross_margin"),
    ("economics: {default: {infrastructure_cost_share: 5}}", "economics.default.infrastructure_cost_share"),
    ("economics: {segments: {a: {discount_rate_annual: 12}}}", "economics.segments.a.discount_rate_annual"),
    ("discount_rate_annual: 10", "discount_rate_annual"),
    ("status: {marginal_loss_probability: 25}", "status.marginal_loss_probability"),
    ("scenarios: [{name: s, price_change: {pct: 10}}]", "scenarios.0.price_change.pct"),
    ("scenarios: [{name: s, price_change: {pct: -5}}]", "scenarios.0.price_change.pct"),
    ("scenarios: [{name: s, discount: {pct: 15, duration_months: 12}}]", "scenarios.0.discount.pct"),
    ("scenarios: [{name: s, discount: {pct: 15%, duration_months: 12, eligible_share: 40}}]",
     "scenarios.0.discount.eligible_share"),
    ("scenarios: [{name: s, cac_change: 20}]", "scenarios.0.cac_change"),
    ("scenarios: [{name: s, cost_to_serve_change: {pct: 10}}]", "scenarios.0.cost_to_serve_change.pct"),
    ("scenarios: [{name: s, gross_margin_change: -2}]", "scenarios.0.gross_margin_change"),
    ("scenarios: [{name: s, discount_rate_annual: 12}]", "scenarios.0.discount_rate_annual"),
]


@pytest.mark.parametrize("text, field", FRACTION_FIELDS, ids=[f for _, f in FRACTION_FIELDS])
def test_a_bare_number_above_one_is_refused_suggesting_a_percentage(text, field):
    with pytest.raises(ConfigError) as error:
        config_from_text(BASE + text + "\n", source="c.yaml")
    problem = error.value.problems[0]
    assert problem.field.startswith(field.rsplit(".", 1)[0]) and problem.line == 6, error.value.render()
    assert "would be read as" in problem.message and "%" in problem.message


def test_percentages_above_100_are_written_with_the_sign():
    config = config_from_text(BASE + "discount_rate_annual: 1.0\nscenarios:\n"
                              "  - {name: s, price_change: {pct: '150%'}, cac_change: '-50%'}\n")
    assert config.discount_rate_annual == 1.0
    assert config.scenarios[0].price_change[0].pct == pytest.approx(1.5)
    assert config.scenarios[0].cac_change[0].pct == pytest.approx(-0.5)


def test_pct_10_in_a_price_change_is_caught_by_validate(tmp_path):
    with pytest.raises(ConfigError, match=r'write "10%" for 10 percent'):
        project(tmp_path, "scenarios: [{name: price_up, price_change: {pct: 10}}]\n").validate()


# ------------------------------------------------------------------ dates


def test_date_format_applies_to_iso_looking_columns(tmp_path):
    customers = "customer_id,signup,churn\nc1,2024-01-05,\nc2,2024-02-03,2024-05-04\nc3,2024-03-01,\n"
    base = BASE.replace("{id: customer_id, tenure: tenure, churned: churned, mrr: mrr}",
                        "{id: customer_id, signup: signup, churn: churn}\n  as_of: 2025-01-01\n"
                        "  date_format: '%Y-%d-%m'").replace("segments: {by: [plan], min_customers: 1}\n", "")
    customers_read = project(tmp_path, customers=customers, base=base).book().customers
    assert list(customers_read["signup_date"].dt.strftime("%Y-%m-%d")) == ["2024-05-01", "2024-03-02", "2024-01-03"]
    assert customers_read["churn_date"].dt.strftime("%Y-%m-%d").iloc[1] == "2024-04-05"


def test_a_date_that_does_not_match_date_format_is_refused_with_its_row(tmp_path):
    customers = "customer_id,signup,churn\nc1,05/01/2024,\nc2,2024-02-03,\n"
    base = BASE.replace("{id: customer_id, tenure: tenure, churned: churned, mrr: mrr}",
                        "{id: customer_id, signup: signup, churn: churn}\n  as_of: 2025-01-01\n"
                        "  date_format: '%d/%m/%Y'").replace("segments: {by: [plan], min_customers: 1}\n", "")
    with pytest.raises(DataError) as error:
        project(tmp_path, customers=customers, base=base).book()
    assert [p.row for p in error.value.problems] == [3] and "'2024-02-03' cannot be read" in error.value.render()


# ----------------------------------------------------------- YAML 1.2 types


def test_yes_and_no_stay_names(tmp_path):
    customers = book(plan=lambda i: "Yes" if i % 2 else "No")
    run = project(tmp_path, "economics:\n  segments:\n    Yes: {cac: 100}\n    No: {cac: 200}\n"
                  "retention: {segments: {On: {family: exponential}}}\n".replace("On", "Yes"), customers=customers)
    assert set(run.config.economics.segments) == {"Yes", "No"}
    assert set(run.config.retention.segments) == {"Yes"}
    assert set(run.book().segments) == {"Yes", "No"}
    assert set(run.economics().table.set_index("segment")["cac"].to_dict().items()) == {("Yes", 100.0), ("No", 200.0)}


def test_yaml_12_scalars():
    from simcore.yamlio import load_yaml_text

    data = load_yaml_text("a: yes\nb: off\nc: True\nd: 010\ne: 1:30\nf: 0x1F\ng: 1e3\nh: ~\n2024: k\nNo: x\n").data
    assert data == {"a": "yes", "b": "off", "c": True, "d": 10, "e": "1:30", "f": 31, "g": 1000.0, "h": None,
                    "2024": "k", "No": "x"}


# ------------------------------------------------------------- money, tenure


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308", "1e400", "2e12"])
def test_non_finite_or_absurd_mrr_is_refused_with_its_row(tmp_path, value):
    customers = book(mrr=lambda i: value if i == 7 else str(10 + i))
    with pytest.raises(DataError) as error:
        project(tmp_path, customers=customers).book()
    assert [p.row for p in error.value.problems] == [9], error.value.render()
    assert error.value.problems[0].field == "mrr"


def test_non_finite_numbers_in_the_config_are_refused():
    with pytest.raises(ConfigError) as error:
        config_from_text(BASE + "economics: {default: {cac: .inf, mrr: .nan}}\n")
    assert {p.field for p in error.value.problems} == {"economics.default.cac", "economics.default.mrr"}


def test_infinite_tenure_is_refused(tmp_path):
    customers = book().replace("c4,5,", "c4,inf,")
    with pytest.raises(DataError) as error:
        project(tmp_path, customers=customers).book()
    assert error.value.problems[0].row == 6 and "'inf' cannot be read" in error.value.problems[0].message


# ---------------------------------------------------------------- periods

# Fader & Hardie (2007), "How to project customer retention": survivors per 1,000 of the
# "regular" segment at years 0..7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def fader_hardie_book() -> str:
    lines = ["customer_id,tenure,churned"]
    number = 0
    for year in range(1, len(REGULAR)):
        for _ in range(REGULAR[year - 1] - REGULAR[year]):
            lines.append(f"c{number},{year},yes")
            number += 1
    for _ in range(REGULAR[-1]):
        lines.append(f"c{number},{len(REGULAR) - 1},no")
        number += 1
    return "\n".join(lines) + "\n"


YEARLY = """\
name: yearly
data:
  customers: customers.csv
  columns: {id: customer_id, tenure: tenure, churned: churned}
  period: year
retention: {family: sbg}
economics: {default: {mrr: 100, gross_margin: 100%}}
discount_rate_annual: 10%
horizon_months: 60
simulation: {replications: 50, seed: 2}
"""


def test_yearly_book_recovers_fader_hardie_and_is_read_in_months(tmp_path):
    run = project(tmp_path, customers=fader_hardie_book(), base=YEARLY)
    customers = run.book().customers
    assert customers["tenure_months"].max() == 84 and customers["tenure_periods"].max() == 7
    fit = run.fit()
    chosen = fit.fits.results["all"].fit
    alpha, beta = chosen.params
    assert alpha == pytest.approx(0.704, rel=5e-3) and beta == pytest.approx(1.182, rel=5e-3)
    # Churn happens only at renewals: S is flat within a year and S(12) is year 1's.
    months = chosen.survival(np.arange(0, 25))
    assert np.all(months[:12] == 1.0) and months[12] == pytest.approx(0.631, abs=0.01)
    assert np.all(months[12:24] == months[12])
    table = fit.table.iloc[0]
    assert table["tenure_unit"] == "year" and table["max_observed_tenure"] == 84
    assert table["median_lifetime_months"] == 24.0  # S(1 year) = 0.63, S(2 years) = 0.47
    assert table["S_12"] == pytest.approx(months[12])
    result = run.simulate()
    existing = result.segment_summary.query("population == 'existing'").iloc[0]
    assert np.isfinite(existing["ltv_mean"]) and existing["ltv_mean"] > 0


def test_yearly_fits_save_and_reload_in_years(tmp_path):
    run = project(tmp_path, customers=fader_hardie_book(), base=YEARLY)
    run.fit().write(tmp_path / "fits")
    again = project(tmp_path, customers=fader_hardie_book(), base=YEARLY).fit(saved_fits=tmp_path / "fits" / "saved_fits.json")
    fit = again.fits.results["all"].fit
    assert fit.params[0] == pytest.approx(0.704, rel=5e-3)
    assert fit.survival([11, 12])[0] == 1.0 and fit.survival([12])[0] == pytest.approx(0.631, abs=0.01)


def test_warnings_name_the_period(tmp_path):
    customers = fader_hardie_book() + "z1,0,no\n"
    run = project(tmp_path, customers=customers, base=YEARLY)
    assert any("tenure 0 years" in w.message for w in run.book().warnings)


def test_weekly_tenures_become_months(tmp_path):
    customers = "customer_id,tenure,churned\nc1,52,no\nc2,52,yes\nc3,1,yes\nc4,3,no\nc5,0,yes\n"
    run = project(tmp_path, customers=customers,
                  base=YEARLY.replace("period: year", "period: week").replace("retention: {family: sbg}\n", ""))
    assert run.book().customers["tenure_months"].tolist() == [12, 12, 1, 0, 1]


def test_period_needs_a_tenure_column():
    with pytest.raises(ConfigError, match="remove data.period"):
        config_from_text("data:\n  customers: x.csv\n  columns: {signup: s}\n  period: year\n")


def test_period_tenure_limit_says_the_unit(tmp_path):
    customers = "customer_id,tenure,churned\nc1,150,no\nc2,3,yes\n"
    with pytest.raises(DataError, match="tenure 150 years is more than 100 years"):
        project(tmp_path, customers=customers, base=YEARLY).book()


def test_tenure_in_days_passed_as_months_is_hinted(tmp_path):
    customers = book().replace("c4,5,", "c4,3650,")
    with pytest.raises(DataError) as error:
        project(tmp_path, customers=customers).book()
    assert "data.period" in error.value.problems[0].hint


def test_summary_frame_tenure_columns_are_months(tmp_path):
    run = project(tmp_path, customers=fader_hardie_book(), base=YEARLY)
    summary = run.segments().table
    assert isinstance(summary, pd.DataFrame) and summary["median_tenure_months"].iloc[0] % 12 == 0


def test_non_finite_history_mrr_is_refused_with_its_row(tmp_path):
    history = "customer_id,month,mrr\nc1,2024-01,10\nc1,2024-02,inf\nc2,2024-01,1e308\n"
    (tmp_path / "history.csv").write_text(history)
    extra = BASE.replace("segments:", "  history: {path: history.csv}\nsegments:")
    with pytest.raises(DataError) as error:
        project(tmp_path, base=extra).book()
    assert [p.row for p in error.value.problems] == [3, 4], error.value.render()


def test_absurd_money_in_the_config_is_refused():
    with pytest.raises(ConfigError) as error:
        config_from_text(BASE + "economics: {default: {mrr: 1e308, cac: 2.0e12}}\n", source="c.yaml")
    assert {p.field for p in error.value.problems} == {"economics.default.mrr", "economics.default.cac"}
    assert all(p.line == 6 for p in error.value.problems)


def test_absurd_customer_success_cost_is_refused():
    # A CSM covers at least one account: 1e-9 (or 0.5) accounts per CSM is a typo.
    with pytest.raises(ConfigError, match="greater than or equal to 1") as error:
        config_from_text(BASE + "scenarios:\n  - name: s\n    cs_coverage: {accounts_per_csm: 1.0e-9, "
                         "cost_per_csm_per_year: 120000}\n", source="c.yaml")
    assert error.value.problems[0].line == 8
    assert error.value.problems[0].field == "scenarios.0.cs_coverage.accounts_per_csm"
