"""`simcore run` end to end on the bundled example, every example scenario included."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simcore.cli.main import main

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "scenarios" / "demo" / "config.yaml"
SCENARIOS = ["price_increase", "annual_prepay_discount", "downturn_stress", "cs_investment"]
SEGMENTS = ["enterprise", "mid_market", "power_user", "self_serve"]
BASELINE_TABLES = ["segment_summary.csv", "fits.csv", "economics.csv"]


def cli(*args) -> tuple[int, str]:
    try:
        main([str(a) for a in args])
    except SystemExit as done:
        return done.code or 0, ""
    return 0, ""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "demo"
    code, _ = cli("run", DEMO_CONFIG, "--out", out, "--replications", "20", "--format", "csv,parquet,xlsx,json", "--quiet")
    assert code == 0
    return out


def test_every_table_in_every_format_and_a_manifest(demo_run):
    manifest = json.loads((demo_run / "manifest.json").read_text())
    tables = ["segment_summary", "scenario_summary", "scenario_comparison", "distributions", "projection",
              "fits", "economics", "revenue_retention", "cac_by_channel"]
    for table in tables:
        for suffix in ("csv", "parquet", "json"):
            assert (demo_run / f"{table}.{suffix}").stat().st_size > 0
    assert set(manifest["files"]) == {p.relative_to(demo_run).as_posix() for p in demo_run.rglob("*") if p.is_file()}
    assert manifest["seed"] == 42 and manifest["replications"] == 20
    assert manifest["scenarios"] == ["baseline", *SCENARIOS]
    assert manifest["segments"] == SEGMENTS
    assert manifest["config_sha256"] and len(manifest["data_sha256"]) == 64
    assert manifest["simcore_version"]
    assert not [p for p in demo_run.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_workbook_opens_on_the_summary_with_one_formatted_sheet_per_table(demo_run):
    from openpyxl import load_workbook

    from simcore.outputs.workbook import SHEET_TITLES

    book = load_workbook(demo_run / "results.xlsx")
    assert book.sheetnames[:4] == ["Summary", "Scenario comparison", "Assumptions", "Warnings"]
    tables = {p.stem for p in demo_run.glob("*.csv")} - {"projection"}  # the projection is by month
    assert {SHEET_TITLES[t] for t in tables} | {"Projection by month"} <= set(book.sheetnames)
    sheet = book["Segment summary"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("Share of customers losing money (%)") + 1).number_format == "0.0%"
    assert "#,##0" in sheet.cell(row=2, column=header.index("LTV per customer, expected") + 1).number_format
    assert sheet.cell(row=2, column=header.index("Customers (average per replication)") + 1).number_format == "#,##0"


def test_demo_economics_come_out_as_designed(demo_run):
    summary = pd.read_csv(demo_run / "segment_summary.csv")
    new = summary[summary.population == "new"].set_index("segment")
    assert new.loc["power_user", "status"] == "margin-draining"
    assert new.loc["power_user", "unit_profit_customer_p50"] < 0
    assert new.loc["enterprise", "unit_profit_customer_p50"] > 0 and new.loc["mid_market", "unit_profit_customer_p50"] > 0
    economics = pd.read_csv(demo_run / "economics.csv").set_index("segment")
    assert (economics["cac_from"] == "economics.segments.enterprise").sum() == 1
    assert set(economics["support_cost_per_month_from"]) == {"support cost table"}
    assert economics["blended_cac"].nunique() == 1  # one blended number beside four segment CACs


def test_scenario_comparison_is_paired_and_directional(demo_run):
    comparison = pd.read_csv(demo_run / "scenario_comparison.csv")
    assert set(comparison.scenario) == set(SCENARIOS)
    assert set(comparison.segment) == {*SEGMENTS, "(all segments)"}
    rows = comparison.set_index(["scenario", "segment"])
    assert rows.loc[("downturn_stress", "(all segments)"), "delta_p95"] < 0
    # CS coverage touches enterprise and mid-market only: with common random numbers the
    # other segments are exactly unchanged.
    for segment in ("power_user", "self_serve"):
        assert rows.loc[("cs_investment", segment), "delta_mean"] == 0.0
    totals = comparison[comparison.segment != "(all segments)"].groupby("scenario").delta_mean.sum()
    for scenario in SCENARIOS:
        assert rows.loc[(scenario, "(all segments)"), "delta_mean"] == pytest.approx(totals[scenario], rel=1e-9)


def test_same_seed_gives_byte_identical_tables_with_one_thread(demo_run, tmp_path):
    out = tmp_path / "again"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "simcore", "run", str(DEMO_CONFIG), "--out", str(out), "--replications", "20",
         "--scenario", "price_increase", "--quiet"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stderr
    for name in BASELINE_TABLES:
        assert (out / name).read_bytes() == (demo_run / name).read_bytes(), name
    first = pd.read_csv(demo_run / "scenario_comparison.csv")
    second = pd.read_csv(out / "scenario_comparison.csv")
    pd.testing.assert_frame_equal(first[first.scenario == "price_increase"].reset_index(drop=True), second,
                                  check_dtype=False, check_exact=True)


def test_existing_output_is_kept_without_force(demo_run, capsys):
    before = hashlib.sha256((demo_run / "segment_summary.csv").read_bytes()).hexdigest()
    code, _ = cli("run", DEMO_CONFIG, "--out", demo_run, "--replications", "2")
    assert code == 1 and "already exists" in capsys.readouterr().err
    assert hashlib.sha256((demo_run / "segment_summary.csv").read_bytes()).hexdigest() == before


def test_unknown_scenario_and_format_are_refused(tmp_path, capsys):
    code, _ = cli("run", DEMO_CONFIG, "--out", tmp_path / "x", "--scenario", "price_increse")
    err = capsys.readouterr().err
    assert code == 1 and "did you mean 'price_increase'" in err
    code, _ = cli("run", DEMO_CONFIG, "--out", tmp_path / "y", "--format", "csv,pdf")
    assert code == 1 and "unknown output format 'pdf'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_validate_checks_without_running(capsys):
    code, _ = cli("validate", DEMO_CONFIG)
    out = capsys.readouterr().out
    assert code == 0 and "24,000 customers in 4 segments, 4 scenarios" in out


def test_saved_fits_are_reused_exactly_and_checked(demo_run, tmp_path):
    from simcore import Project
    from simcore.errors import FitError

    out = tmp_path / "reused"
    code, _ = cli("run", DEMO_CONFIG, "--out", out, "--replications", "20", "--scenario", "price_increase",
                  "--fits", demo_run / "saved_fits.json", "--quiet")
    assert code == 0
    for name in BASELINE_TABLES:
        assert (out / name).read_bytes() == (demo_run / name).read_bytes(), name
    assert json.loads((out / "manifest.json").read_text())["saved_fits"].endswith("saved_fits.json")
    other_segments = Project.from_config(DEMO_CONFIG).with_settings(segments={"by": ["channel"]})
    with pytest.raises(FitError) as caught:
        other_segments.fit(saved_fits=demo_run / "saved_fits.json")
    text = caught.value.render()
    assert "saved_fits.json" in text and "segments" in text
