"""The README's backtest example runs on the demo workspace (with few replications) and
leaves everything a report's backtest section needs in its directory."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from simcore.backtest import backtest_section
from simcore.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def readme_command() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### `simcore backtest`"):]
    command = re.search(r"```bash\n(.*?)```", section, re.S).group(1).strip()
    assert command.startswith("simcore backtest ")
    return shlex.split(command)[1:]


@pytest.fixture(scope="module")
def demo_backtest(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "backtest"
    args = [a if a != "scenarios/demo/config.yaml" else str(REPO / a) for a in readme_command()]
    # Later flags win: few replications keep the example quick; the output goes to tmp.
    try:
        main([*args, "--replications", "40", "--out", str(out), "--quiet"])
    except SystemExit as done:
        assert not done.code
    return out


def test_the_readme_example_writes_every_table_and_a_chart_per_segment(demo_backtest):
    names = {p.name for p in demo_backtest.iterdir()}
    segments = ["enterprise", "mid_market", "power_user", "self_serve"]
    assert {f"backtest_{s}.png" for s in segments} | {"backtest_all_segments.png"} <= names
    assert {"verdicts.csv", "summary.csv", "accuracy.csv", "families.csv", "revenue_calibration.csv",
            "recalibration.csv", "manifest.json"} <= names
    assert not [n for n in demo_backtest.parent.iterdir() if n.name.startswith(".")]  # nothing half-written
    manifest = json.loads((demo_backtest / "manifest.json").read_text())
    assert [c["cutoff"] for c in manifest["cutoffs"]] == ["2024-06-30", "2024-12-31"]
    assert manifest["replications"] == 40 and manifest["command"] == "backtest"
    accuracy = pd.read_csv(demo_backtest / "accuracy.csv")
    assert {"p5", "p10", "p50", "p90", "p95", "actual", "pit", "in_80", "in_90"} <= set(accuracy.columns)
    assert set(accuracy["metric"]) == {"active_customers", "churned", "mrr", "contribution",
                                       "cumulative_contribution"}
    months = accuracy.groupby("cutoff")["projection_month"].max()
    assert months.to_dict() == {"2024-06-30": 17, "2024-12-31": 11}
    verdicts = pd.read_csv(demo_backtest / "verdicts.csv")
    assert set(verdicts["verdict"]) <= {"calibrated", "over-optimistic", "over-pessimistic", "mixed"}
    assert len(verdicts) == 2 * 5


def test_the_report_section_reads_the_directory(demo_backtest, tmp_path):
    section = backtest_section(demo_backtest)
    assert section is not None and "2024-06-30, 2024-12-31" in section.title
    assert set(section.images) == {"enterprise", "mid_market", "power_user", "self_serve", "(all segments)"}
    assert all(path.is_file() for path in section.images.values())
    assert section.verdicts.equals(section.tables["verdicts"]) and len(section.verdicts) == 10
    assert "P5" in section.manifest["verdict_rule"]
    assert backtest_section(tmp_path) is None  # no backtest here: the report leaves the section out
