"""Economics record: validation and the contribution formula (DESIGN §5)."""

import math

import pytest

from simcore.economics import Economics, monthly_discount_factor
from simcore.errors import ConfigError


def test_contribution_formula_by_hand():
    economics = Economics(gross_margin=0.8, support_cost_per_month=40.0,
                          other_cost_to_serve_per_month=10.0, infrastructure_cost_share=0.05)
    # 1000 * 0.8 - 40 - 10 - 0.05 * 1000 = 700
    assert economics.contribution(1000.0) == pytest.approx(700.0)
    # a per-customer support cost replaces the segment's
    assert economics.contribution(1000.0, support_cost_per_month=100.0) == pytest.approx(640.0)
    assert economics.contribution_margin == pytest.approx(0.75)
    assert economics.cost_to_serve_per_month == pytest.approx(50.0)


def test_monthly_discount_factor_compounds_to_the_annual_rate():
    d = monthly_discount_factor(0.10)
    assert d ** 12 == pytest.approx(1 / 1.10)
    assert Economics(discount_rate_annual=0.10).monthly_discount_factor == pytest.approx(d)


def test_all_problems_reported_at_once_with_field_names():
    with pytest.raises(ConfigError) as caught:
        Economics(gross_margin=78, cac=-1, discount_rate_annual=-2)
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"gross_margin", "cac", "discount_rate_annual"}
    assert "0.78" in str(caught.value)


def test_non_numbers_and_infinities_are_rejected():
    with pytest.raises(ConfigError, match="must be a number"):
        Economics(cac="lots")
    with pytest.raises(ConfigError, match="finite"):
        Economics(support_cost_per_month=math.inf)


def test_frozen_and_replace_validates():
    economics = Economics(cac=100.0)
    with pytest.raises(AttributeError):
        economics.cac = 5.0
    assert economics.replace(cac=200.0).cac == 200.0
    with pytest.raises(ConfigError):
        economics.replace(gross_margin=1.5)
