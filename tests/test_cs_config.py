"""The ``cs_plan:`` section: bounds checked when the YAML is read, data-dependent problems
before any fitting, every problem located (file, line, dotted field) with a fix."""

from __future__ import annotations

import pytest

from simcore import Project
from simcore.config import config_from_text
from simcore.errors import ConfigError
from tests.cs_books import cs_book

BASE = "data:\n  customers: book.csv\n  columns: {id: customer_id, tenure: tenure, churned: churned, mrr: mrr}\n" \
       "segments: {by: [plan], min_customers: 10}\nretention: {family: sbg}\nhorizon_months: 60\n"


def _errors(cs_plan: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_text(BASE + cs_plan, source="c.yaml")
    return caught.value.lines()


def test_a_valid_section_reads_with_defaults():
    config = config_from_text(BASE + "cs_plan:\n  tiers:\n    - {name: team, accounts_per_csm: 30, "
                              "cost_per_csm_per_year: 100000, rule: {top_share: 10%, classes: [core]}}\n")
    plan = config.cs_plan
    assert plan.review_every_months == 3 and plan.planning_months == 24 and plan.staff_to == "p90"
    assert plan.tiers[0].rule.top_share == pytest.approx(0.10)
    assert plan.tiers[0].cost_per_account_month == pytest.approx(100000 / 12 / 30)
    assert plan.classification.growth_min_expansion_share == pytest.approx(0.15)


def test_every_bound_is_checked_at_once_with_lines():
    lines = _errors(
        "cs_plan:\n"                                                         # line 7
        "  planning_months: 0\n"                                             # 8
        "  tiers:\n"                                                         # 9
        "    - name: dedicated\n"                                            # 10
        "      accounts_per_csm: 0.5\n"                                      # 11
        "      cost_per_csm_per_year: -1\n"                                  # 12
        "      ramp_months: 3\n"                                             # 13
        "    - {name: none, accounts_per_csm: 10, cost_per_csm_per_year: 1, rule: {classes: [vip]}}\n"  # 14
        "  optimise: {headcount: 10, budget_per_year: 100}\n"                # 15
    )
    text = "\n".join(lines)
    assert "line 8, 'cs_plan.planning_months'" in text
    assert "line 11, 'cs_plan.tiers.0.accounts_per_csm'" in text and "greater than or equal to 1" in text
    assert "line 12, 'cs_plan.tiers.0.cost_per_csm_per_year'" in text
    assert "line 13, 'cs_plan.tiers.0.ramp_months': unknown key 'ramp_months'; did you mean 'ramp_up_months'?" in text
    assert "line 14" in text and "'none' means 'no tier'" in text
    assert "cs_plan.tiers.1.rule.classes.0" in text and "'core', 'growth' or 'cautionary'" in text
    assert "line 15, 'cs_plan.optimise'" in text and "not both" in text


def test_tier_names_are_unique():
    lines = _errors("cs_plan:\n  tiers:\n    - {name: a, accounts_per_csm: 10, cost_per_csm_per_year: 1}\n"
                    "    - {name: a, accounts_per_csm: 20, cost_per_csm_per_year: 1}\n")
    assert any("tier name 'a' is used twice" in line for line in lines)


def _project(tmp_path, cs_plan: str) -> Project:
    cs_book().to_csv(tmp_path / "book.csv", index=False)
    (tmp_path / "config.yaml").write_text(BASE + cs_plan)
    return Project.from_config(tmp_path / "config.yaml")


def test_data_dependent_problems_are_located_before_fitting(tmp_path):
    project = _project(tmp_path, (
        "cs_plan:\n"                                                                      # line 7
        "  planning_months: 72\n"                                                         # 8
        "  tiers:\n"                                                                      # 9
        "    - name: team\n"                                                              # 10
        "      rule: {segments: [larg]}\n"                                                # 11
        "      accounts_per_csm: 10\n"
        "      cost_per_csm_per_year: 1000\n"))
    with pytest.raises(ConfigError) as caught:
        project.plan_cs(replications=5)
    lines = caught.value.lines()
    assert "line 8, 'cs_plan.planning_months': planning_months (72) is longer than horizon_months (60)" in lines[0]
    assert "line 11, 'cs_plan.tiers.0.rule.segments'" in lines[1] and "did you mean 'large'?" in lines[1]
    assert "_fit" not in project._cache and not any(key.startswith("fit") for key in project._cache)


def test_plan_cs_needs_a_section_and_one_cap(tmp_path):
    project = _project(tmp_path, "")
    with pytest.raises(ConfigError, match="no cs_plan: section"):
        project.plan_cs()
    project = _project(tmp_path, "cs_plan:\n  tiers:\n    - {name: t, accounts_per_csm: 10, cost_per_csm_per_year: 1}\n")
    with pytest.raises(ConfigError, match="not both"):
        project.plan_cs(budget=10.0, headcount=3)
    with pytest.raises(ConfigError, match="replications must be a positive integer"):
        project.plan_cs(replications=0)


def test_expansion_multiplier_that_breaks_a_probability_is_refused(tmp_path):
    from simcore.cs.checks import check_plan
    from simcore.revenue import RevenueDynamics

    config = config_from_text(BASE + "cs_plan:\n  tiers:\n    - {name: t, accounts_per_csm: 10, "
                              "cost_per_csm_per_year: 1, expansion_multiplier: 9}\n", source="c.yaml")
    dynamics = {"large": RevenueDynamics(0.2, 0.1, 0.0, 0.1, -0.1, 0.0), "small": RevenueDynamics(0.01, 0.1)}
    with pytest.raises(ConfigError) as caught:
        check_plan(config, ["large", "small"], dynamics)
    [line] = caught.value.lines()
    assert "line 9, 'cs_plan.tiers.0.expansion_multiplier'" in line and "'large'" in line and "at most 4.5" in line
