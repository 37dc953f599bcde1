"""What a backtest refuses, and how it says so: a book of tenures (no dates to cut at), and
cutoffs outside (first signup, as_of) or too close to as_of, named by flag or argument."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simcore import Project
from simcore.backtest import MIN_WINDOW_MONTHS
from cli_runner import run_cli
from simcore.errors import ConfigError
from tests.backtest_books import SegmentTruth, book_project, generate_book



@pytest.fixture(scope="module")
def project():
    customers, history = generate_book(3, (SegmentTruth("a", signups_per_month=20),))
    return book_project(customers, history)


@pytest.fixture
def workspace(tmp_path):
    """A date-shaped config on disk (customers signed up from 2021-01, as_of 2025-12-31)."""
    customers, _ = generate_book(3, (SegmentTruth("a", signups_per_month=20),))
    customers.to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "config.yaml").write_text(
        "name: small\n"
        "data:\n"
        "  customers: customers.csv\n"
        "  columns: {id: customer_id, signup: signup_date, churn: churn_date, mrr: mrr}\n"
        "  as_of: 2025-12-31\n"
        "segments: {by: [plan]}\n")
    return tmp_path / "config.yaml"


def test_a_book_of_tenures_is_refused_at_its_config_line(tmp_path, capsys):
    pd.DataFrame({"id": [f"c{i}" for i in range(50)], "months": [i % 30 + 1 for i in range(50)],
                  "left": ["Yes" if i % 3 else "No" for i in range(50)]}).to_csv(tmp_path / "book.csv", index=False)
    (tmp_path / "config.yaml").write_text(
        "data:\n  customers: book.csv\n  columns:\n    id: id\n    tenure: months\n    churned: left\n")
    code, out, err = run_cli(capsys, "backtest", tmp_path / "config.yaml", "--cutoff", "2024-06",
                             "--out", tmp_path / "out")
    assert code == 1 and "Traceback" not in err
    assert "line 5" in err and "data.columns.tenure" in err
    assert "no date to cut it at" in err and "data.columns.signup" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cutoff, says", [
    ("2020-06-30", "is not after the first signup (2021-01-"),
    ("2026-01", "is not before as_of (2025-12-31)"),
    ("2025-12", "is not before as_of"),
    ("2025-09", f"leaves 3 whole months before as_of (2025-12-31); a backtest needs at least {MIN_WINDOW_MONTHS}"),
    ("June 2024", "is not a date"),
    ("2024-13", "is not a date"),
])
def test_cutoffs_outside_the_book_are_refused_on_the_argument(project, cutoff, says):
    with pytest.raises(ConfigError) as caught:
        project.backtest([cutoff], replications=5)
    problem = caught.value.problems[0]
    assert problem.field == "cutoffs" and says in problem.message
    if "whole months" in says or "as_of" in says:
        assert "on or before 2025-06-30" in problem.hint


def test_every_bad_cutoff_is_reported_at_once(project):
    with pytest.raises(ConfigError) as caught:
        project.backtest(["2019-01", "2025-11", "2024-06"], replications=5)
    assert len(caught.value.problems) == 2


def test_the_command_line_names_the_flag(workspace, capsys):
    code, _, err = run_cli(capsys, "backtest", workspace, "--cutoff", "2025-10", "--out", workspace.parent / "o")
    assert code == 1
    assert "'--cutoff'" in err and "leaves 2 whole months" in err
    code, _, err = run_cli(capsys, "backtest", workspace, "--out", workspace.parent / "o")
    assert code == 2 and "--cutoff" in err


def test_a_date_inside_a_month_is_moved_to_its_end_with_a_warning(project):
    audit = project.backtest(["2024-06-15"], replications=10, seed=1)
    assert audit.manifest["cutoffs"] == [{"cutoff": "2024-06-30", "given": "2024-06-15", "months": 18}]
    assert any("taken as the month end 2024-06-30" in w.message for w in audit.warnings)


def test_help_does_not_import_heavy_modules():
    code = ("import sys\nfrom simcore.cli.main import main\n"
            "try:\n    main(['backtest', '--help'])\nexcept SystemExit as done:\n    assert not done.code\n"
            "print('HEAVY', [m for m in ('numba', 'pandas', 'scipy', 'matplotlib') if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert "HEAVY []" in result.stdout and "--cutoff" in result.stdout


def test_replications_and_seed_are_checked_before_any_work(project):
    with pytest.raises(ConfigError) as caught:
        project.backtest(["2024-06"], replications=0, seed=-1)
    assert {p.field for p in caught.value.problems} == {"simulation.replications", "simulation.seed"}


def test_a_segment_that_did_not_exist_yet_is_refused():
    customers, history = generate_book(4, (SegmentTruth("a", signups_per_month=20),
                                           SegmentTruth("b", signups_per_month=20)))
    launched = ~((customers["plan"] == "b") & (customers["signup_date"] < "2023-01-01"))
    customers = customers[launched]
    project = book_project(customers, history[history["customer_id"].isin(customers["customer_id"])])
    with pytest.raises(ConfigError) as caught:
        project.backtest(["2022-06"], replications=5)
    problem = caught.value.problems[0]
    assert problem.field == "cutoffs" and "segment(s) b had no customers by cutoff 2022-06-30" in problem.message
