"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "scenarios" / "demo" / "config.yaml"



def test_help_and_version_do_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from simcore.cli.main import main\n"
        "for argv in (['--help'], ['--version'], ['segments', '--help'], ['demo', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, (argv, done.code)\n"
        "heavy = [m for m in ('numba', 'lifelines', 'matplotlib', 'pandas', 'scipy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout
    assert "simcore, version" in result.stdout


def test_cli_is_installed_under_simcore_namespace_only():
    result = subprocess.run([sys.executable, "-c", "import cli"], capture_output=True, text=True, cwd="/")
    assert result.returncode != 0 and "No module named 'cli'" in result.stderr


def test_segments_on_demo_config(capsys):
    code, out, err = run_cli(capsys, "segments", DEMO_CONFIG, "--json")
    assert code == 0, err
    import json

    rows = {row["segment"]: row for row in json.loads(out)}
    assert set(rows) == {"enterprise", "mid_market", "self_serve", "power_user", "all segments"}
    assert rows["all segments"]["customers"] == sum(r["customers"] for k, r in rows.items() if k != "all segments")
    assert rows["all segments"]["customers"] >= 20_000


@pytest.mark.telco
def test_segments_on_telco_quick_form(capsys, telco_path):
    code, out, err = run_cli(
        capsys, "segments", telco_path, "--tenure-col", "tenure", "--event-col", "Churn", "--segment-by", "Contract"
    )
    assert code == 0, err
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "3,875" in lines["Month-to-month"]
    assert "1,473" in lines["One year"]
    assert "1,695" in lines["Two year"]
    assert "11 active customers have tenure 0 months" in err


def test_ten_defects_in_one_run_without_traceback(capsys, tmp_path):
    (tmp_path / "bad.csv").write_text(
        "id,signup,churn,mrr\n"
        "a,2023-01-10,,10\n"
        "b,2023-02-30,,10\n"        # unreadable date
        ",2023-01-10,,10\n"          # blank id
        "a,2023-01-10,,10\n"         # duplicate id
        "c,2023-03-01,2023-02-01,10\n"  # churn before signup
        "d,2024-01-01,,10\n"         # signup after as_of
        "e,2023-01-01,2024-02-01,10\n"  # churn after as_of
        "f,2023-01-01,,-3\n"         # negative MRR
        "g,2023-01-01,,ten\n"        # unreadable MRR
        "h,2023-01-01,soon,10\n"     # unreadable churn date
        "j,,,10\n"                   # blank signup
    )
    code, out, err = run_cli(
        capsys, "segments", tmp_path / "bad.csv", "--id-col", "id", "--signup-col", "signup",
        "--churn-col", "churn", "--mrr-col", "mrr", "--as-of", "2023-12-31",
    )
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 1
    assert len(errors) == 10
    assert all("bad.csv" in line and "row " in line for line in errors)
    assert "Traceback" not in err and out == ""


def test_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "nowhere.csv"
    result = subprocess.run(
        [sys.executable, "-m", "simcore", "--debug", "segments", str(missing), "--tenure-col", "t", "--event-col", "c"],
        capture_output=True, text=True,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bad_config_is_located(capsys, tmp_path):
    (tmp_path / "c.yaml").write_text("data:\n  customers: x.csv\n  columns: {tenure: t, churned: c}\nsegmets: {by: plan}\n")
    code, out, err = run_cli(capsys, "segments", tmp_path / "c.yaml")
    assert code == 1
    assert err.strip().splitlines() == [f"error: {tmp_path / 'c.yaml'}, line 4, 'segmets': unknown key 'segmets'; did you mean 'segments'?"]


def test_usage_errors_exit_2_with_suggestion(capsys):
    code, out, err = run_cli(capsys, "segmnts")
    assert code == 2 and "did you mean 'segments'" in err
    code, out, err = run_cli(capsys, "segments", "book.csv", "--tenure-col", "t")
    assert code == 1 and "--event-col is missing" in err


def test_quick_flags_are_refused_with_a_config(capsys):
    code, out, err = run_cli(capsys, "segments", DEMO_CONFIG, "--tenure-col", "t")
    assert code == 1 and "--tenure-col apply to a data file" in err


def test_segment_flags_override_the_config(capsys, tmp_path):
    code, out, err = run_cli(capsys, "segments", DEMO_CONFIG, "--segment-by", "channel", "--out", tmp_path / "s.csv")
    assert code == 0, err
    text = (tmp_path / "s.csv").read_text()
    assert "sales_led" in text and "enterprise" not in text


def test_demo_is_deterministic_and_matches_the_shipped_example(capsys, tmp_path):
    code, _, err = run_cli(capsys, "demo", tmp_path / "one")
    assert code == 0, err
    shipped = REPO / "scenarios" / "demo"
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == ["acquisition_spend.csv", "config.yaml", "customers.csv", "mrr_history.csv", "scenarios.yaml",
                     "simcore.schema.json", "support_costs.csv"]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", shipped, names, shallow=False)
    assert mismatch == [] and errors == [], "scenarios/demo is out of date: run `simcore demo scenarios/demo --force`"
    code, _, err = run_cli(capsys, "demo", tmp_path / "one")
    assert code == 1 and "already exists" in err


def _strict(text: str):
    import json

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_output_is_strict_json(capsys):
    code, out, err = run_cli(capsys, "fit", DEMO_CONFIG, "--json")
    assert code == 0, err
    fits = _strict(out)
    assert set(fits["segments"]) == {"enterprise", "mid_market", "power_user", "self_serve"}
    assert fits["segments"]["enterprise"]["chosen"]["family"]


def test_flag_overrides_are_validated_like_the_file(capsys, tmp_path):
    code, out, err = run_cli(capsys, "segments", DEMO_CONFIG, "--min-customers", "-1")
    assert code == 1 and err.startswith("error: '--min-customers'") and "Traceback" not in err
    tenures = tmp_path / "tenures.csv"
    tenures.write_text("id,tenure,churned\n" + "".join(f"c{i},{1 + i % 30},{i % 3 == 0}\n" for i in range(300)))
    code, out, err = run_cli(capsys, "fit", tenures, "--id-col", "id", "--tenure-col", "tenure",
                             "--event-col", "churned", "--criterion", "holdout")
    assert code == 1 and "the holdout check needs signup dates" in err and "Traceback" not in err
    code, out, err = run_cli(capsys, "segments", DEMO_CONFIG, "--out", tmp_path / "missing" / "s.csv")
    assert code == 1 and "cannot write the file" in err


def test_every_help_page_fits_an_80_column_terminal():
    from click.testing import CliRunner

    from cli.main import cli

    runner = CliRunner()
    commands = [[]] + [[name] for name in cli.list_commands(None)]
    for args in commands:
        result = runner.invoke(cli, [*args, "--help"], terminal_width=80)
        assert result.exit_code == 0, (args, result.output)
        wide = [line for line in result.output.splitlines() if len(line) > 80]
        assert not wide, (args, wide)
