"""The README's Python example runs as written, and its tables equal `simcore run`'s."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from simcore import Project
from simcore.cli.main import main
from simcore.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_and_matches_the_cli(tmp_path, monkeypatch, capsys):
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_example(), "README.md", "exec"), {})
    notebook = tmp_path / "runs" / "notebook"
    assert (notebook / "results.xlsx").exists()
    try:
        main(["run", "scenarios/demo/config.yaml", "--scenario", "price_increase", "--replications", "200",
              "--seed", "7", "--out", str(tmp_path / "cli"), "--quiet"])
    except SystemExit as done:
        assert not done.code
    tables = sorted(p.name for p in (tmp_path / "cli").glob("*.csv"))
    assert "segment_summary.csv" in tables and "scenario_comparison.csv" in tables
    for name in tables:
        assert (notebook / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_from_frame_reports_settings_problems_by_field():
    frame = pd.DataFrame({"id": ["a"], "t": [3], "c": ["No"]})
    with pytest.raises(ConfigError) as caught:
        Project.from_frame(frame, columns={"id": "id", "tenure": "t", "churned": "c"},
                           economics={"default": {"gross_margn": "80%"}}, horizon_months=0)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"economics.default.gross_margn", "horizon_months"}
    assert "did you mean 'gross_margin'" in caught.value.render()


def test_steps_run_once_and_results_are_immutable():
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(60)], "t": [i % 20 + 1 for i in range(60)],
                          "c": ["Yes" if i % 3 == 0 else "No" for i in range(60)]})
    project = Project.from_frame(frame, columns={"id": "id", "tenure": "t", "churned": "c"},
                                 retention={"family": "exponential"})
    assert project.book() is project.book()
    fit = project.fit()
    assert fit is project.fit()
    assert list(fit.table["family"]) == ["exponential"]
    with pytest.raises(AttributeError):
        fit.fits = None


def test_a_bad_lever_is_reported_before_any_fit(tmp_path, monkeypatch):
    import shutil

    import simcore.retention as retention

    for name in ("customers.csv", "mrr_history.csv", "acquisition_spend.csv", "support_costs.csv", "config.yaml"):
        shutil.copy(REPO / "scenarios" / "demo" / name, tmp_path / name)
    (tmp_path / "scenarios.yaml").write_text(
        "scenarios:\n  - name: margin_up\n    gross_margin_change: 30%\n"
        "  - name: expansion_boom\n    expansion_multiplier: 40\n")

    def no_fitting(*args, **kwargs):
        raise AssertionError("a fit started before the levers were checked")

    monkeypatch.setattr(retention, "fit_segment", no_fitting)
    with pytest.raises(ConfigError) as caught:
        Project.from_config(tmp_path / "config.yaml").simulate(replications=2)
    lines = caught.value.lines()
    assert all(line.startswith("scenarios.yaml, line ") for line in lines)
    assert sum("margin_up" in line and "to 1" in line for line in lines) == 4  # every segment
    assert any("from 80% to 110%" in line for line in lines)
    assert any("expansion_boom" in line and "cannot exceed 1" in line for line in lines)
