"""Sensitivity analyses against closed forms: tornado swings, a break-even, Sobol' indices,
and tables that do not depend on how the replications are chunked.

The book: one segment, constant monthly hazard ``h`` (every parameter draw the same
curve), constant MRR ``m``, margin ``g``, support cost ``k``, no expansion. A new
customer pays in tenure months ``0..`` with probability ``(1 - h)^t``, so its expected
value at acquisition over ``H`` months is ``c sum_{t<H} ((1 - h) d)^t`` with
``c = m g - k`` (DESIGN: LTV over ``S(t)``, never an annuity of the expected lifetime).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.sensitivity.metrics import Metric
from simcore.config.sensitivity import MetricSpec

H = 36
HAZARD = 0.05
MRR = 100.0
MARGIN = 0.8
SUPPORT = 10.0
CAC = 300.0
VOLUME = 50
RATE = 0.12


def _project(tmp_path, sensitivity: str, replications: int = 40):
    # Every customer still active: a book of tenures, no churn in the data, with an
    # acquisition volume; the retention fit is replaced by the closed-form curve below.
    rng = np.random.default_rng(5)
    n = 400
    pd.DataFrame({"id": [f"c{i}" for i in range(n)], "tenure": rng.integers(0, 24, n),
                  "churned": np.where(rng.random(n) < 0.3, "Yes", "No"), "mrr": MRR}).to_csv(tmp_path / "book.csv",
                                                                                          index=False)
    (tmp_path / "config.yaml").write_text(f"""
data: {{customers: book.csv, columns: {{id: id, tenure: tenure, churned: churned, mrr: mrr}}}}
retention: {{family: exponential}}
economics: {{default: {{gross_margin: {MARGIN}, support_cost_per_month: {SUPPORT}, cac: {CAC}, discount_rate_annual: {RATE}}}}}
acquisition: {{new_customers_per_month: {{all: {VOLUME}}}}}
horizon_months: {H}
simulation: {{replications: {replications}, seed: 7}}
{sensitivity}
""")
    project = simcore.Project.from_config(tmp_path / "config.yaml")
    return _with_constant_hazard(project)


class _Geometric:
    def survival_draws(self, n_draws, n_months, seed, method=None):
        return np.tile((1.0 - HAZARD) ** np.arange(n_months + 1), (n_draws, 1))


def _with_constant_hazard(project):
    """The project with every segment's fitted curve replaced by ``(1 - h)^t``."""
    fit = project.fit()
    for result in fit.fits.results.values():
        object.__setattr__(result, "survival_model", lambda: _Geometric())
    return project


def _new_value(hazard=HAZARD, mrr=MRR, margin=MARGIN, support=SUPPORT):
    d = (1 + RATE) ** (-1 / 12)
    q = (1 - hazard) * d
    return (mrr * margin - support) * (1 - q ** H) / (1 - q)


SECTION = """
sensitivity:
  metric: {metric: unit_profit, population: new}
  levers:
    cac: {lever: cac_change, low: -20%, high: 20%}
    margin: {lever: gross_margin_change, low: -5%, high: 5%}
    churn: {lever: churn_multiplier, low: 0.5, high: 2.0}
  tornado: {levers: [cac, margin, churn]}
  solve:
    - {name: break_even_churn, lever: churn, target: 0, range: [1, 19], points: 7, refinements: 4}
"""


def test_tornado_swings_equal_the_closed_forms(tmp_path):
    project = _project(tmp_path, SECTION)
    result = project.sensitivity(only="tornado")
    table = result.sensitivity_tornado.set_index("lever")
    base = _new_value() - CAC
    expected = {
        "cac": -0.4 * CAC,                                                # CAC x1.2 against x0.8
        "margin": _new_value(margin=MARGIN + 0.05) - _new_value(margin=MARGIN - 0.05),
        "churn": _new_value(hazard=2 * HAZARD) - _new_value(hazard=0.5 * HAZARD),
    }
    for lever, swing in expected.items():
        row = table.loc[lever]
        assert row.base_mean == pytest.approx(base, rel=0.03)
        # within Monte Carlo error (4 standard errors, and a floor for exact levers)
        assert abs(row.swing_mean - swing) <= 4 * row.swing_mc_error + 1e-9 * abs(swing), (lever, row.swing_mean, swing)
    # levers that change only money leave every lifetime as it was: exact, no noise
    assert table.loc["cac", "swing_mc_error"] < 1e-9 * CAC
    assert list(result.sensitivity_tornado["lever"]) == ["churn", "cac", "margin"] or \
        result.sensitivity_tornado["rank"].tolist() == [1, 2, 3]


def test_break_even_churn_matches_the_analytic_one(tmp_path):
    from scipy.optimize import brentq

    project = _project(tmp_path, SECTION, replications=60)
    result = project.sensitivity(only="solve")
    row = result.sensitivity_solve.iloc[0]
    analytic = brentq(lambda factor: _new_value(hazard=factor * HAZARD) - CAC, 1.0, 19.0)
    assert row.found
    assert row.value == pytest.approx(analytic, abs=4 * row.mc_error + 0.02 * analytic)
    assert row.lower_90 <= row.value <= row.upper_90


def test_same_seed_gives_identical_tables_for_any_chunking(tmp_path):
    project = _project(tmp_path, SECTION, replications=30)
    whole = project.sensitivity(only="tornado", chunk_replications=1000)
    chunked = project.sensitivity(only="tornado", chunk_replications=7)
    pd.testing.assert_frame_equal(whole.sensitivity_tornado, chunked.sensitivity_tornado, check_exact=True)


def test_sobol_indices_of_an_additive_model_are_the_analytic_ones():
    from simcore.sensitivity.sobol import sobol_table

    # f = 3 x1 + x2 + 0 x3 with x uniform on [0, 1], [0, 2], [0, 1]: Var = 9/12 + 4/12,
    # first-order = total indices (no interactions): 9/13, 4/13, 0.
    table, points = sobol_table(lambda x: 3 * x[:, 0] + x[:, 1] + 0 * x[:, 2], ["a", "b", "c"],
                                [(0, 1), (0, 2), (0, 1)], 1024, seed=3)
    table = table.set_index("lever")
    np.testing.assert_allclose(table["first_order"], [9 / 13, 4 / 13, 0.0], atol=0.02)
    np.testing.assert_allclose(table["total"], [9 / 13, 4 / 13, 0.0], atol=0.02)
    assert (table["first_order_lower_90"] <= table["first_order"]).all()
    assert len(points) == 1024 * 5


def test_metric_labels_and_month_rules():
    with pytest.raises(ValueError, match="monthly metric"):
        MetricSpec(metric="mrr")
    assert Metric.of(MetricSpec(metric="cumulative_cash", month=24)).key == "cumulative_cash_m24"


def test_the_demo_runs_every_analysis_with_few_replications(tmp_path):
    from simcore.demo.workspace import write_demo

    files = write_demo(tmp_path / "demo", customers=1200, seed=3)
    project = simcore.Project.from_config(files.config)
    sobol = project.config.sensitivity.sobol.model_dump()
    project = project.with_settings(sensitivity={"replications": 3, "sobol": {**sobol, "samples": 4,
                                                                               "replications": 2}})
    result = project.sensitivity()
    assert {"sensitivity_tornado", "sensitivity_grid", "sensitivity_solve", "sensitivity_sobol",
            "sensitivity_stress"} <= set(result.tables)
    out = result.write(tmp_path / "out", formats=["csv", "xlsx"], report=True)
    assert (out / "report.html").is_file() and list((out / "plots").glob("sensitivity_tornado_*.png"))
