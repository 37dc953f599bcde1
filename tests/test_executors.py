"""Work units (book x replication range) merge into exactly the whole run, whatever the
chunking: the contract a cluster executor relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from doubles import Dynamics, GeometricFit
from simcore.economics import Economics
from simcore.engine.api import simulate_compiled
from simcore.engine.compile import compile_book
from simcore.engine.levers import ScenarioLevers
from simcore.executors import LocalExecutor, simulate_books, summaries, work_units


def books(replications: int = 37):
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(300)], "tenure_months": np.arange(300) % 30,
                              "churned": False, "mrr": 100.0 + np.arange(300) % 7, "segment": np.where(
                                  np.arange(300) < 200, "a", "b")})
    economics = Economics(gross_margin=0.8, support_cost_per_month=5.0, cac=300.0, default_mrr=100.0)
    fits = {"a": GeometricFit(0.03), "b": GeometricFit(0.06)}
    out = []
    for price in (1.0, 1.1):
        levers = ScenarioLevers(acquisition_per_month=(6.0,), price_multiplier_existing_by_month=(price,))
        out.append(compile_book(fits, customers, economics, dynamics={"a": Dynamics(), "b": None}, levers=levers,
                                replications=replications, seed=9, horizon_months=36))
    return out


def test_units_cover_every_replication_once():
    units = work_units([37, 10], chunk=8)
    assert [(u.book, u.start, u.stop) for u in units][:5] == [(0, 0, 8), (0, 8, 16), (0, 16, 24), (0, 24, 32),
                                                              (0, 32, 37)]
    assert sum(u.stop - u.start for u in units) == 47


@pytest.mark.parametrize("replications, chunk", [(37, 1), (37, 5), (37, 37), (37, 100), (150, 100)])
def test_any_chunking_gives_the_whole_run_exactly(replications, chunk):
    # (150, 100): a unit spans more replications than one kernel block (64).
    compiled = books(replications)
    whole = [simulate_compiled(book) for book in compiled]
    merged = summaries(compiled, simulate_books(compiled, executor=LocalExecutor(), chunk_replications=chunk))
    for a, b in zip(whole, merged):
        for name in ("segment_summary", "customer_quantiles", "projections", "replication_totals"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_an_executor_that_runs_units_in_another_order_gives_the_same_result():
    class Shuffled:
        name = "shuffled"

        def map(self, function, units, *, shared=None, progress=None):
            order = np.random.default_rng(3).permutation(len(units))
            results = [None] * len(units)
            for i in order:
                results[i] = function(units[i], shared)
            return results

    compiled = books()
    a = summaries(compiled, simulate_books(compiled, chunk_replications=7))
    b = summaries(compiled, simulate_books(compiled, executor=Shuffled(), chunk_replications=7))
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x.segment_summary, y.segment_summary, check_exact=True)


def test_a_run_is_identical_for_any_chunking_through_the_project():
    from pathlib import Path

    from simcore import Project

    project = Project.from_config(Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml")
    a = project.simulate(["price_increase"], replications=24, seed=3)
    b = project.simulate(["price_increase"], replications=24, seed=3, chunk_replications=5)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True)
