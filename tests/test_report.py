"""The results people read, on a small run: every plot, the single-file report, the
workbook, "never" in every format, and a console summary that fits 80 columns."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simcore import Project
from simcore.cli.main import main

#: A segment name that is also markup: it must reach every output as text.
SCRIPT = "<script>alert(1)</script>"
SEGMENTS = (SCRIPT, "free", "smb")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_book(seed: int = 11, per_segment: int = 400) -> pd.DataFrame:
    """Three segments of a date-shaped book: ``SCRIPT`` churns fast, ``smb`` slowly, ``free``
    in between (each customer's lifetime is exponential, monthly churn 12%, 3%, 6%)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    as_of = pd.Timestamp("2024-12-31")
    frames = []
    for segment, churn in zip(SEGMENTS, (0.12, 0.06, 0.03)):
        signup = as_of - pd.to_timedelta(rng.integers(1, 36 * 30, per_segment), unit="D")
        lifetime = pd.to_timedelta(rng.exponential(30.4 / churn, per_segment), unit="D")
        churned = signup + lifetime
        frames.append(pd.DataFrame({
            "customer_id": [f"{segment[:3]}-{i}" for i in range(per_segment)], "plan": segment,
            "signup_date": signup, "churn_date": churned.where(churned < as_of), "mrr": rng.gamma(4.0, 25.0, per_segment),
        }))
    return pd.concat(frames, ignore_index=True)


def small_project() -> Project:
    return Project.from_frame(
        small_book(), columns={"id": "customer_id", "signup": "signup_date", "churn": "churn_date", "mrr": "mrr"},
        as_of="2024-12-31", segments=["plan"], horizon_months=36,
        retention={"family": "weibull", "model_averaging": "none"},
        # SCRIPT's CAC is never paid back; "free" has none (its status is "no CAC given").
        economics={"default": {"gross_margin": "80%", "support_cost_per_month": 5}, "currency": "EUR",
                   "segments": {SCRIPT: {"cac": 20000, "onboarding_cost": 500}, "smb": {"cac": 300}}},
        scenarios=[{"name": "price_up", "description": "List price +10% <b>from month 0</b>.",
                    "price_change": {"pct": "10%", "from_month": 0}, "price_elasticity_of_churn": 0.5}],
        name="small",
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The small project simulated (8 replications) and written in every format with its report."""
    from simcore.outputs import write_run

    result = small_project().simulate(replications=8, seed=3)
    out = tmp_path_factory.mktemp("runs") / "small"
    write_run(result, out, formats=["csv", "parquet", "json", "xlsx"], report=True)
    return SimpleNamespace(result=result, out=out, html=(out / "report.html").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ plots


def test_the_run_writes_every_plot_as_a_png(small_run):
    plots = small_run.out / "plots"
    names = sorted(p.stem for p in plots.glob("*.png"))
    expected = {"unit_profit", "ltv_cac_payback", "scenario_effects", "waterfall_price_up", "projection_price_up",
                "retention_script_alert_1_script", "retention_free", "retention_smb"}
    assert set(names) == expected
    for path in plots.glob("*.png"):
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 15_000, path.name
    manifest = json.loads((small_run.out / "manifest.json").read_text())
    assert {f"plots/{name}.png" for name in names} <= set(manifest["files"])
    assert set(manifest["files"]) == {p.relative_to(small_run.out).as_posix()
                                      for p in small_run.out.rglob("*") if p.is_file()}
    assert manifest["currency"] == "EUR"


def test_every_figure_is_drawn_again_from_the_run_directory_alone(small_run, tmp_path):
    from simcore.report import RunDirectory

    copy = tmp_path / "copy"
    shutil.copytree(small_run.out, copy)
    shutil.rmtree(copy / "plots")
    run = RunDirectory(copy)
    assert run.fits is not None
    for spec in run.figures:
        assert run.png(spec).startswith(PNG_MAGIC), spec.name
    assert {spec.name for spec in run.figures} == {p.stem for p in (small_run.out / "plots").glob("*.png")}


# ----------------------------------------------------------------------------- report


class _Elements(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def test_the_report_is_one_file_that_fetches_nothing(small_run):
    page = _parse(small_run.html)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags and "object" not in tags
    for tag, attrs in page.tags:
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), (tag, name, value[:60])
    assert not re.search(r"https?://|url\(|@import|//[a-z0-9.-]+\.[a-z]{2,}/", small_run.html, re.I)
    policy = [attrs for tag, attrs in page.tags if tag == "meta" and attrs.get("http-equiv")]
    assert policy and policy[0]["content"].startswith("default-src 'none'")


def test_the_report_has_its_sections_and_every_figure_embedded(small_run):
    page = _parse(small_run.html)
    sections = [attrs["id"] for tag, attrs in page.tags if tag == "section"]
    assert sections == ["summary", "segments", "scenarios", "retention", "assumptions", "data-quality", "manifest"]
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(images) == len(list((small_run.out / "plots").glob("*.png")))
    for source in images:
        assert base64.b64decode(source.split(",", 1)[1]).startswith(PNG_MAGIC)
    text = " ".join(page.text)
    assert "Executive summary" in text and "Assumptions" in text and "price_up" in text
    assert "EUR" in text and "seed 3" in text


def test_a_segment_named_script_is_escaped_everywhere(small_run):
    assert SCRIPT not in small_run.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in small_run.html
    assert "<b>from month 0</b>" not in small_run.html and "&lt;b&gt;from month 0&lt;/b&gt;" in small_run.html
    page = _parse(small_run.html)
    assert SCRIPT in " ".join(page.text)  # shown to the reader as the text it is


def test_the_executive_summary_is_written_from_the_tables(small_run):
    from simcore.report.summary import executive_summary, to_text

    result = small_run.result
    text = to_text(executive_summary(result.segment_summary, result.scenario_comparison,
                                     manifest={**result.manifest, "currency": "EUR"}))
    new = result.segment_summary.query("population == 'new'").set_index("segment")
    assert new.loc[SCRIPT, "status"] == "margin-draining"
    assert f"{SCRIPT} \u2014 margin-draining" in text and "loses money on the average new customer" in text
    assert "most never repay their acquisition cost" in text
    assert "free \u2014 no CAC given" in text
    assert "Blended over all segments" in text and "price_up" in text
    assert "With 8 replications the interval ends are rough" in text


def test_analysis_sections_appear_only_with_their_files(small_run, tmp_path):
    from simcore.report import build_report

    copy = tmp_path / "copy"
    shutil.copytree(small_run.out, copy)
    ids = [a["id"] for t, a in _parse(build_report(copy)).tags if t == "section"]
    assert "sensitivity" not in ids and "backtest" not in ids and "cs-plan" not in ids
    pd.DataFrame({"lever": ["price", SCRIPT], "low": [1.0, 2.0], "high": [3.0, 4.0]}).to_csv(
        copy / "sensitivity_tornado.csv", index=False)
    page = build_report(copy)
    ids = [a["id"] for t, a in _parse(page).tags if t == "section"]
    assert "sensitivity" in ids and "backtest" not in ids
    assert "sensitivity_tornado.csv" in page and SCRIPT not in page


def test_simcore_report_writes_the_page_and_keeps_an_existing_one(small_run, tmp_path, capsys):
    out = tmp_path / "page.html"
    for expected in (0, 1):
        try:
            main(["report", str(small_run.out), "--out", str(out)])
        except SystemExit as done:
            assert (done.code or 0) == expected
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "already exists" in capsys.readouterr().err
    try:
        main(["report", str(tmp_path / "missing")])
    except SystemExit as done:
        assert done.code == 1
    assert "no such run directory" in capsys.readouterr().err


# --------------------------------------------------------------------- files for finance


def test_never_paid_back_is_explicit_in_every_format(small_run):
    out = small_run.out
    csv = pd.read_csv(out / "segment_summary.csv", dtype={"segment": str})
    row = csv[(csv.segment == SCRIPT) & (csv.population == "new")].iloc[0]
    assert np.isnan(row["payback_months_p50"]) and row["payback_never"] == True  # noqa: E712
    existing = csv[(csv.segment == SCRIPT) & (csv.population == "existing")].iloc[0]
    assert np.isnan(existing["payback_months_p50"]) and pd.isna(existing["payback_never"])
    smb = csv[(csv.segment == "smb") & (csv.population == "new")].iloc[0]
    assert smb["payback_months_p50"] >= 0 and smb["payback_never"] == False  # noqa: E712
    records = json.loads((out / "segment_summary.json").read_text())
    record = next(r for r in records if r["segment"] == SCRIPT and r["population"] == "new")
    assert record["payback_months_p50"] is None and record["payback_never"] is True
    parquet = pd.read_parquet(out / "segment_summary.parquet")
    assert parquet["payback_never"].dtype == "boolean"
    assert "inf" not in (out / "segment_summary.csv").read_text()


def test_the_workbook_reads_like_a_finance_pack(small_run):
    from openpyxl import load_workbook

    book = load_workbook(small_run.out / "results.xlsx")
    assert book.sheetnames[:5] == ["Summary", "Scenario comparison", "Assumptions", "Warnings", "Segment summary"]
    assert "Projection by month" in book.sheetnames and "Projection (long)" not in book.sheetnames
    summary = book["Summary"]
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    header_row = next(i for i, r in enumerate(rows) if r[0] == "Segment")
    header = rows[header_row]
    assert "New: unit profit per customer, expected (EUR)" in header
    assert summary.freeze_panes == f"A{header_row + 2}"
    script_row = next(i for i, r in enumerate(rows) if r[0] == SCRIPT)
    cells = summary[script_row + 1]
    assert cells[header.index("New: payback, median (months)")].value == "never"
    status = cells[header.index("New customers: status")]
    assert status.value == "margin-draining" and status.fill.fgColor.rgb.endswith("FBE3D6")
    assert cells[header.index("New: share of customers losing money (%)")].number_format == "0.0%"
    segment = book["Segment summary"]
    headers = [c.value for c in segment[1]]
    assert "Share of customers losing money (%)" in headers and "p_unit_profit_negative" not in headers
    assert segment.cell(row=2, column=headers.index("Share of customers losing money (%)") + 1).number_format == "0.0%"
    assert segment.column_dimensions["A"].width >= 10
    assumptions = [[c.value for c in row] for row in book["Assumptions"].iter_rows()]
    flat = {str(v) for row in assumptions for v in row if v is not None}
    assert {"Seed", "3", "Replications", "2024-12-31", "EUR", "economics.segments.smb"} <= flat
    assert any(str(v).startswith("price change:") for v in flat)
    by_month = book["Projection by month"]
    months = [c.value for c in by_month[1]]
    assert months[5:8] == ["2025-01", "2025-02", "2025-03"] and len(months) == 5 + 36


# ----------------------------------------------------------------------------- console


def _console(width: int):
    from rich.console import Console

    return Console(width=width, file=io.StringIO(), force_terminal=False, color_system=None, record=True,
                   highlight=False, emoji=False)


def _summary_result(small_run):
    """The small run's result with a profitable and a marginal segment added, so every
    status word is printed."""
    result = small_run.result
    summary = result.segment_summary
    extra = []
    for name, status in (("mid_market_partner_channel", "profitable"), ("power_user", "marginal")):
        row = summary[(summary.segment == "smb") & (summary.population == "new")].iloc[0].copy()
        row["segment"], row["status"] = name, status
        extra.append(row)
    tables = {**result.tables, "segment_summary": pd.concat([summary, pd.DataFrame(extra)], ignore_index=True)}
    return SimpleNamespace(tables=tables, manifest=result.manifest, config=result.config)


def test_the_console_summary_fits_80_columns_with_headers_and_statuses_whole(small_run):
    from simcore.cli.report import print_run_summary

    console = _console(80)
    print_run_summary(console, _summary_result(small_run), "runs/small")
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for header in ("segment", "unit profit [90%]", "LTV:CAC", "payback", "P(loss)", "status", "customers",
                   "value, mean", "[90% interval]", "scenario / segment", "change, mean", "P5 .. P95", "P(better)"):
        assert any(header in line for line in lines), header
    for status in ("profitable", "marginal", "margin-draining", "no CAC given"):
        assert re.search(rf"(^|\s){re.escape(status)}(\s|$)", text, re.M), status
    assert "never" in text and "\u2026" not in text  # nothing cut short with an ellipsis


def test_the_console_summary_uses_the_width_it_has(small_run):
    from simcore.cli.report import print_run_summary

    console = _console(200)
    print_run_summary(console, _summary_result(small_run), "runs/small")
    text = console.export_text()
    assert "new: unit profit, mean [90%]" in text and "existing: value, mean [90%]" in text
    assert "scenario value" in text


def test_progress_prints_one_timed_line_per_step_when_not_on_a_terminal():
    from simcore.cli.report import run_progress

    console = _console(100)
    with run_progress(console, enabled=True) as (step, on_compile):
        step("loaded customers", 1, 3)
        step("simulated baseline", 1.5, 3)  # a fraction of a step prints nothing
        step("simulated baseline", 2, 3)
    lines = console.export_text().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\[1/3\] loaded customers \(\d+\.\d s\)", lines[0])
    assert lines[1].startswith("[2/3] simulated baseline (")


def test_the_time_left_follows_the_simulation_steps():
    from simcore.cli.report import RemainingTime, _left_text

    now = [0.0]
    left = RemainingTime(clock=lambda: now[0])
    now[0] = 2.0
    left.update("fitted retention", 3, 6)
    assert left.remaining() is None  # no simulation finished yet: nothing to go on
    now[0] = 22.0
    left.update("simulated baseline", 4, 6)  # 20 s per simulation
    assert left.remaining() == pytest.approx(40.0)
    now[0] = 27.0
    assert left.remaining() == pytest.approx(35.0)
    left.update("simulated price_up", 4.5, 6)  # a block callback: halfway after 5 s
    assert left.remaining() == pytest.approx(5.0 + 20.0)
    assert _left_text(None) == "estimating time left" and _left_text(0.4) == "finishing"
    assert _left_text(150.0) == "about 2:30 left" and _left_text(42.0) == "about 42 s left"


def test_how_sure_names_the_family_draw_whenever_families_are_averaged():
    from simcore.report.summary import _how_sure

    def text(averaging):
        return "".join(_how_sure({"replications": 1000}, {"retention": {"model_averaging": averaging}}))

    for averaging in ("auto", "akaike", "stacking"):
        assert "and the retention family (by its weight)" in text(averaging)
    assert "retention family" not in text("none")
