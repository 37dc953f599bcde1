"""What simcore writes and prints is safe to open and to share: labels from data never
become spreadsheet formulas or console markup, and no URL's password appears anywhere.

One small run with hostile labels (a formula, console markup, a connection string with a
password) is made once and every file it writes, and everything it prints, is checked.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from simcore.cli.main import main
from simcore.errors import Problem, redact
from simcore.outputs.tables import safe_tables, spreadsheet_text, write_tables

SECRET = "hunter2"
URL = f"postgresql://bob:{SECRET}@db.example:5432/sales"
LABELS = ['=HYPERLINK("http://evil.example","click")', "[/bold]", URL, "+cmd|' /C calc'!A0", "basic"]

CONFIG = f"""\
name: hostile_labels
data:
  customers: customers.csv
  columns: {{id: customer_id, signup: signup_date, churn: churn_date, mrr: mrr}}
  as_of: 2025-12-31
segments: {{by: [plan], min_customers: 1}}
retention: {{family: exponential}}
economics:
  default: {{gross_margin: 80%, cac: 300, support_cost_per_month: 5}}
horizon_months: 12
simulation: {{replications: 8, seed: 3}}
scenarios:
  - name: "@price"
    description: "-2+3 see {URL}"
    price_change: {{pct: 5%}}
"""


def _book() -> str:
    rows = ["customer_id,signup_date,churn_date,plan,mrr"]
    for i in range(300):
        label = LABELS[i % len(LABELS)]
        churn = f"2024-{1 + i % 12:02d}-15" if i % 4 == 0 else ""
        quoted = '"' + label.replace('"', '""') + '"'
        rows.append(f"c{i},2023-{1 + i % 12:02d}-0{1 + i % 9},{churn},{quoted},{20 + i % 50}")
    return "\n".join(rows) + "\n"


def run_cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as done:
            code = done.code or 0
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "customers.csv").write_text(_book())
    (folder / "config.yaml").write_text(CONFIG)
    out = folder / "out"
    code, stdout, stderr = run_cli("run", folder / "config.yaml", "--out", out, "--format", "csv,xlsx,parquet,json")
    assert code == 0, stderr
    return out, stdout, stderr


def _text_of_every_output(out: Path) -> dict[str, str]:
    texts = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path.suffix == ".png":  # pictures: their text is drawn, not stored
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                texts[path.name] = "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            texts[path.name] = frame.to_csv(index=False) + " ".join(map(str, frame.columns))
        else:
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def test_no_output_and_no_printed_line_holds_the_password(hostile_run):
    out, stdout, stderr = hostile_run
    texts = _text_of_every_output(out)
    assert {"manifest.json", "saved_fits.json", "results.xlsx", "segment_summary.parquet"} <= set(texts)
    leaks = [name for name, text in texts.items() if SECRET in text]
    assert leaks == [], leaks
    assert SECRET not in stdout and SECRET not in stderr
    assert "bob:***@db.example" in texts["segment_summary.csv"]  # redacted, not dropped


def test_labels_are_printed_as_text_not_markup(hostile_run):
    _, stdout, stderr = hostile_run
    assert "[/bold]" in stdout and '=HYPERLINK("http://evil.example","click")' in stdout
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_csv_cells_never_start_like_a_formula(hostile_run):
    out, _, _ = hostile_run
    starts = re.compile(r"^[=+@\t\r]|^-(?![\d.])")
    offenders = []
    for path in out.glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                offenders += [(path.name, cell) for cell in row if starts.match(cell)]
    assert offenders == []
    summary = pd.read_csv(out / "segment_summary.csv")
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in set(summary["segment"])
    assert "'+cmd|' /C calc'!A0" in set(summary["segment"])
    comparison = pd.read_csv(out / "scenario_comparison.csv")
    assert set(comparison["scenario"]) == {"'@price"}


def test_workbook_has_no_formulas_and_numbers_stay_numbers(hostile_run):
    out, _, _ = hostile_run
    with zipfile.ZipFile(out / "results.xlsx") as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)
    from openpyxl import load_workbook

    sheet = load_workbook(out / "results.xlsx")["Retention fits"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("Log-likelihood") + 1
    values = [sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)]
    assert any(isinstance(v, float) and v < 0 for v in values), "negative numbers are written as numbers"


def test_parquet_and_json_keep_labels_as_they_are_but_without_credentials(hostile_run):
    out, _, _ = hostile_run
    labels = set(pd.read_parquet(out / "segment_summary.parquet")["segment"])
    assert '=HYPERLINK("http://evil.example","click")' in labels and redact(URL) in labels
    records = json.loads((out / "segment_summary.json").read_text())
    assert {r["segment"] for r in records} == labels


def test_spreadsheet_text_rules():
    assert spreadsheet_text("=1+1") == "'=1+1"
    assert spreadsheet_text("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_text("\tx") == "'\tx" and spreadsheet_text("\rx") == "'\rx"
    assert spreadsheet_text("-2+3") == "'-2+3" and spreadsheet_text("+7") == "+7"
    assert spreadsheet_text("-5") == "-5" and spreadsheet_text("-1.5e3") == "-1.5e3"
    assert spreadsheet_text("plain") == "plain" and spreadsheet_text("a=b") == "a=b"
    assert spreadsheet_text("bell\x07") == "bell\ufffd"
    frame = pd.DataFrame({"label": ["=x", None, 3], "value": [-5.0, 1.0, 2.0]})
    safe = safe_tables(frame, spreadsheet=True)
    assert safe["label"].tolist()[0] == "'=x" and safe["label"].tolist()[2] == 3
    assert safe["value"].tolist() == [-5.0, 1.0, 2.0]
    assert frame["label"].tolist()[0] == "=x", "the caller's table is not changed"


def test_write_tables_neutralises_every_format(tmp_path):
    frame = pd.DataFrame({"segment": ["=cmd()", URL], "value": [-5.0, 2.0]})
    write_tables({"t": frame}, tmp_path, ["csv", "xlsx", "json", "parquet"])
    assert "'=cmd()" in (tmp_path / "t.csv").read_text()
    assert SECRET not in (tmp_path / "t.csv").read_text() + (tmp_path / "t.json").read_text()
    assert SECRET not in "".join(pd.read_parquet(tmp_path / "t.parquet")["segment"])


@pytest.mark.parametrize("text, expected", [
    (URL, "postgresql://bob:***@db.example:5432/sales"),
    ("mysql+pymysql://u:p@ss@h/d", "mysql+pymysql://u:***@h/d"),
    ("https://api.example/x?token=abc&y=1", "https://api.example/x?token=***&y=1"),
    ("Server=x;Password=s3cret;", "Server=x;Password=***;"),
    ("sqlite:///data/x.db", "sqlite:///data/x.db"),
    ("http://host/path", "http://host/path"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_problems_never_print_a_password():
    problem = Problem(f"cannot connect to {URL}", f"check {URL}", source=URL, field="data")
    assert SECRET not in problem.format()


@pytest.mark.parametrize("change", [
    ("customers: customers.csv", f"customers: {{query: 'select 1', url_env: '{URL}'}}"),
    ("customers: customers.csv", f"customers: '{URL}'"),
    ("horizon_months: 12", f"horizon_months: '{URL}'"),
    ("name: hostile_labels", f"name: '{URL}'"),
    ("description: \"-2+3 see", f"churn_multiplier: '{URL}'\n    description: \"-2+3 see"),
])
def test_error_lines_never_print_a_password(tmp_path, change):
    (tmp_path / "customers.csv").write_text(_book())
    (tmp_path / "config.yaml").write_text(CONFIG.replace(*change))
    code, stdout, stderr = run_cli("validate", tmp_path / "config.yaml")
    assert code == 1, stderr
    assert SECRET not in stdout + stderr
    assert all(line.startswith(("error: ", "warning: ")) for line in stderr.splitlines())
