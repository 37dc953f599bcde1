"""The demo's customer-success plan through the command line: `simcore plan-cs` and
`simcore accounts` on the shipped workspace (few replications), their files, console,
report section and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import run_cli
from simcore.cli.main import main
from simcore.config import load_config
from simcore.demo import write_demo

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "scenarios" / "demo" / "config.yaml"



@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "cs"
    main(["plan-cs", str(DEMO_CONFIG), "--replications", "12", "--out", str(out), "--report", "--format", "csv,xlsx",
          "--quiet"])   # returns on success; a failure exits
    return out


def test_demo_config_has_three_tiers_and_simcore_demo_writes_them(tmp_path):
    shipped = load_config(DEMO_CONFIG).cs_plan
    assert [t.name for t in shipped.tiers] == ["dedicated", "pooled", "digital"]
    written = load_config(write_demo(tmp_path, customers=600).config).cs_plan
    assert written == shipped


def test_plan_cs_writes_the_plan_and_its_report(demo_plan):
    files = {p.relative_to(demo_plan).as_posix() for p in demo_plan.rglob("*") if p.is_file()}
    for name in ("cs_plan_headcount_quarterly.csv", "cs_plan_headcount_monthly.csv", "cs_plan_roi.csv",
                 "cs_plan_thresholds.csv", "cs_plan_assignments.csv", "cs_plan_assumptions.csv", "cs_plan.xlsx",
                 "plots/cs_plan_headcount.png", "plots/cs_plan_roi.png", "manifest.json", "warnings.json",
                 "report.html"):
        assert name in files, name
    manifest = json.loads((demo_plan / "manifest.json").read_text())
    assert manifest["command"] == "plan-cs" and manifest["replications"] == 12
    assert sorted(manifest["files"]) == sorted(files)
    quarterly = pd.read_csv(demo_plan / "cs_plan_headcount_quarterly.csv")
    assert set(quarterly["tier"]) == {"dedicated", "pooled", "digital", "(all tiers)"}
    assert set(quarterly["plan"]) == {"current", "optimised"} and quarterly["quarter"].max() == 8
    assert (quarterly["csms_needed_p90"] >= quarterly["csms_needed_p50"]).all()
    roi = pd.read_csv(demo_plan / "cs_plan_roi.csv")
    totals = roi[roi["tier"] == "(all tiers)"].set_index("plan")
    assert totals.loc["optimised", "within_cap"] and totals.loc["optimised", "peak_csms_expected"] <= 70
    assert totals.loc["optimised", "net_gain_mean"] >= totals.loc["uniform: digital", "net_gain_mean"]
    # the payroll above the cap is said, with the number the monthly table shows
    monthly = pd.read_csv(demo_plan / "cs_plan_headcount_monthly.csv")
    payroll = monthly[(monthly["plan"] == "optimised") & (monthly["tier"] != "(all tiers)")]
    peak = int(payroll.groupby("month")["employed"].sum().max())
    said = [w["message"] for w in json.loads((demo_plan / "warnings.json").read_text()) if "employs up to" in w["message"]]
    assert peak > 70 and said == [said[0]] and f"employs up to {peak} CSMs, above the cap of 70" in said[0]
    assumptions = pd.read_csv(demo_plan / "cs_plan_assumptions.csv")
    assert assumptions["text"].str.contains("assumptions, not measured").sum() == 3
    report = (demo_plan / "report.html").read_text()
    assert "Customer-success plan" in report and "Capital plan by quarter" in report
    assert "assumed churn x0.7" in report


def test_accounts_writes_every_active_account_with_its_class(capsys, tmp_path):
    code, out, err = run_cli(capsys, "accounts", DEMO_CONFIG, "--replications", "8", "--out", tmp_path / "acc",
                             "--format", "csv,parquet")
    assert code == 0, err
    table = pd.read_parquet(tmp_path / "acc" / "accounts.parquet")
    customers = pd.read_csv(REPO / "scenarios" / "demo" / "customers.csv")
    assert len(table) == customers["churn_date"].isna().sum()
    assert set(table["account_class"]) <= {"core", "growth", "cautionary"}
    assert set(table["tier"]) <= {"dedicated", "pooled", "digital", "none"}
    assert (table["expected_profit_lower_90"] <= table["expected_profit_upper_90"]).all()
    assert "rule: cautionary: expected profit below 0" in out
    rules = pd.read_csv(tmp_path / "acc" / "rules.csv")
    assert rules["item"].tolist()[0] == "classification"


def test_plan_cs_errors_are_one_line_each(capsys, tmp_path):
    bare = tmp_path / "bare.yaml"
    text = DEMO_CONFIG.read_text()
    bare.write_text(text[: text.index("\n# Customer-success planning")] + "\n")
    for name in ("customers.csv", "mrr_history.csv", "acquisition_spend.csv", "support_costs.csv",
                 "scenarios.yaml"):
        (tmp_path / name).write_bytes((DEMO_CONFIG.parent / name).read_bytes())
    code, out, err = run_cli(capsys, "plan-cs", bare, "--out", tmp_path / "x")
    assert code == 1 and err.count("error:") == 1 and "no cs_plan: section" in err and "Traceback" not in err
    code, out, err = run_cli(capsys, "plan-cs", DEMO_CONFIG, "--budget", "1000", "--headcount", "3",
                             "--out", tmp_path / "y")
    assert code == 1 and "not both" in err
    code, out, err = run_cli(capsys, "plan-cs", DEMO_CONFIG, "--headcount", "-1")
    assert code == 2


def test_help_of_the_new_commands_stays_light():
    code = ("import sys\nfrom simcore.cli.main import main\n"
            "for argv in (['plan-cs', '--help'], ['accounts', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as done:\n        assert not done.code\n"
            "print('HEAVY', [m for m in ('numba', 'pandas', 'scipy', 'matplotlib') if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout and "--headcount" in result.stdout
