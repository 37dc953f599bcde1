"""Resource limits: a run too large to finish is refused before any work, with its
estimate, the setting that makes it large (file and line) and the override."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import simcore
from simcore.config import config_from_text
from simcore.errors import ConfigError, DataError
from simcore.preflight import (
    MEMORY_LIMIT_BYTES,
    TIME_LIMIT_SECONDS,
    check_run_size,
    estimate_run,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo" / "config.yaml"

CONFIG = """\
name: limits
data:
  customers: customers.csv
  columns: {id: customer_id, tenure: tenure, churned: churned}
segments: {by: [plan], min_customers: 1}
retention: {family: exponential}
horizon_months: 24
simulation: {replications: 10, seed: 1}
"""


def workspace(tmp_path: Path, extra: str = "", book: str | None = None) -> Path:
    if book is None:
        rows = ["customer_id,tenure,churned,plan"]
        rows += [f"c{i},{1 + i % 30},{'yes' if i % 3 == 0 else 'no'},{'ab'[i % 2]}" for i in range(200)]
        book = "\n".join(rows) + "\n"
    (tmp_path / "customers.csv").write_text(book)
    (tmp_path / "config.yaml").write_text(CONFIG + extra)
    return tmp_path / "config.yaml"


def refusal(call) -> list:
    started = time.perf_counter()
    with pytest.raises((ConfigError, DataError)) as error:
        call()
    assert time.perf_counter() - started < 20, "refused up front, not after the work"
    return error.value.problems


def test_a_billion_replications_is_refused_at_its_line(tmp_path):
    path = workspace(tmp_path)
    path.write_text(path.read_text().replace("replications: 10", "replications: 1000000000"))
    problems = refusal(lambda: simcore.Project.from_config(path).validate())
    assert problems[0].field == "simulation.replications" and problems[0].line == 8
    assert "memory" in problems[0].message and "allow_large" in problems[0].hint


def test_replications_given_to_simulate_are_checked_before_fitting(tmp_path, monkeypatch):
    project = simcore.Project.from_config(workspace(tmp_path))
    monkeypatch.setattr(simcore.Project, "fit", lambda *a, **k: pytest.fail("fitted before the size check"))
    problems = refusal(lambda: project.simulate(replications=10**9))
    assert "1,000,000,000 replications" in problems[0].message


def test_a_billion_new_customers_a_month_is_refused_at_its_line(tmp_path):
    path = workspace(tmp_path, "acquisition: {new_customers_per_month: {a: 1000000000}}\n")
    problems = refusal(lambda: simcore.Project.from_config(path).validate())
    assert problems[0].field == "acquisition.new_customers_per_month.a" and problems[0].line == 9
    assert "new customers a month" in problems[0].message


def test_scenario_acquisition_is_refused_at_the_scenario(tmp_path):
    path = workspace(tmp_path, "scenarios:\n  - name: boom\n    new_customers_per_month: {b: 5.0e8}\n")
    problems = refusal(lambda: simcore.Project.from_config(path).validate())
    assert problems[0].field == "scenarios.boom.new_customers_per_month.b" and problems[0].line == 10


def test_allow_large_lifts_the_soft_limits_only(tmp_path):
    import pandas as pd

    config = config_from_text(CONFIG)
    customers = pd.DataFrame({"segment": ["a"] * 1000, "tenure_months": 5, "churned": False})
    slow = estimate_run(config, customers, {"a": 1_000_000_000.0}, [], 10)
    assert TIME_LIMIT_SECONDS < slow.seconds < 7 * 86400
    with pytest.raises(ConfigError):
        check_run_size(config, slow)
    check_run_size(config, slow, allow_large=True)
    huge = estimate_run(config, customers, {}, [], 10**9)
    with pytest.raises(ConfigError, match="refused even with allow_large"):
        check_run_size(config, huge, allow_large=True, memory_available=16e9)


def test_the_demo_is_well_inside_the_limits():
    project = simcore.Project.from_config(DEMO)
    validation = project.validate()
    estimate = estimate_run(project.config, project.book().customers, validation.economics.acquisition_per_month,
                            list(validation.scenarios), project.config.simulation.replications)
    assert estimate.memory_bytes < MEMORY_LIMIT_BYTES / 10
    assert estimate.seconds < TIME_LIMIT_SECONDS / 4


def test_cli_flag_overrides_the_limit(tmp_path, capsys):
    from simcore.cli.main import main

    path = workspace(tmp_path, "acquisition: {new_customers_per_month: {a: 1000000000}}\n")
    with pytest.raises(SystemExit) as done:
        main(["run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "--allow-large" in err and not (tmp_path / "out").exists()


# ------------------------------------------------------------- unfittable segments


def test_a_segment_without_churn_is_refused_with_what_to_do(tmp_path, capsys):
    rows = ["customer_id,tenure,churned,plan"]
    rows += [f"c{i},{1 + i % 30},{'yes' if i % 3 == 0 and i % 2 else 'no'},{'ab'[i % 2]}" for i in range(200)]
    path = workspace(tmp_path, book="\n".join(rows) + "\n")
    problems = refusal(lambda: simcore.Project.from_config(path).validate())
    assert len(problems) == 1 and problems[0].line == 5 and problems[0].field == "segments.by"
    assert "segment 'a' (100 customers) has no churn events" in problems[0].message
    assert "merge the segment" in problems[0].hint
    problems = refusal(lambda: simcore.Project.from_config(path).fit())
    assert problems[0].field == "segments.by" and len(problems[0].format()) < 400
