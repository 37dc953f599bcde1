"""The XLSX workbook, for finance readers.

Sheets, in reading order: **Summary** (the console's headline: per segment the expected
unit profit of a new customer with its 90% interval, LTV:CAC, payback, share losing
money and status, the existing base's remaining value, then each scenario's effect),
**Scenario comparison**, **Assumptions** (run settings, seed, as-of, versions, economics
per segment with where each number came from, every scenario's levers), **Warnings**,
**Segment summary**, **Projection by month** (one row per scenario, segment, customers,
metric and statistic; one column per calendar month) and then every other table. The
long ``projection`` table (one row per month) is left to the CSV and Parquet files,
where pivot tools read it: as a sheet it was 45,000 rows nobody reads, and writing it
took longer than the rest of the workbook.

Headers are human and carry their unit (:func:`simcore.outputs.columns.header`); the
CSV, Parquet and JSON files keep the machine names. Shares are formatted as
percentages, money with thousands separators (negative in red), status cells are
coloured, and a payback never reached reads "never". Every text cell goes through
:func:`cell_text`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from simcore.outputs.columns import COUNT, FLAG, MONEY, MONTHS, NUMBER, PERCENT, RATIO, TEXT, describe, unit
from simcore.outputs.numbers import NEVER, flag

#: Excel number format of each kind of number.
NUMBER_FORMATS = {MONEY: "#,##0;[Red]-#,##0", PERCENT: "0.0%", COUNT: "#,##0", MONTHS: "#,##0", RATIO: "0.00",
                  NUMBER: "#,##0.00"}
#: Fill and font colour of each status cell (light fills, dark text: readable printed in grey too).
STATUS_STYLES = {"profitable": ("E3F4EC", "00664A"), "marginal": ("FFF1D6", "8A5A00"),
                 "margin-draining": ("FBE3D6", "A23B00"), "no CAC given": ("EEEEEE", "555555")}
#: Sheet title of each table (at most 31 characters, Excel's limit).
SHEET_TITLES = {"segment_summary": "Segment summary", "scenario_summary": "Scenario summary",
                "scenario_comparison": "Scenario comparison", "distributions": "Distributions",
                "projection": "Projection (long)", "fits": "Retention fits", "ranking": "Family ranking",
                "economics": "Economics", "revenue_retention": "Revenue retention",
                "revenue_cohorts": "Revenue cohorts", "cac_by_channel": "CAC by channel",
                "cac_allocation": "CAC allocation"}
_MAX_WIDTH = 44


def cell_text(value: str) -> str:
    """The text a cell receives: every text cell of the workbook passes here, so that
    anything a spreadsheet must not run or cannot hold is handled in one place
    (:func:`simcore.outputs.safety.spreadsheet_text`: formula-like text neutralised, URL
    credentials hidden, control characters an XLSX cell cannot store shown as U+FFFD)."""
    from simcore.outputs.safety import spreadsheet_text

    return spreadsheet_text(value)


def _plain(value):
    """A cell value: Python numbers, None for missing, text through :func:`cell_text`."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (int,)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return cell_text(str(value))


class _Sheet:
    """A write-only sheet built from blocks of text lines and tables.

    A write-only sheet writes its column widths and frozen panes before its first row,
    so blocks are collected first and written by :meth:`finish`, once the widths of
    everything in the sheet are known.
    """

    def __init__(self, book, title: str, currency: str | None):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.sheet = book.create_sheet(cell_text(title)[:31])
        self.currency = currency
        self.blocks: list[tuple] = []
        self._header_font = Font(bold=True)
        self._header_fill = PatternFill("solid", fgColor="EDEFF2")
        self._wrap = Alignment(wrap_text=True, vertical="top")
        self._right = Alignment(horizontal="right")
        self._status = {name: (PatternFill("solid", fgColor=fill), Font(color=font, bold=name == "margin-draining"))
                        for name, (fill, font) in STATUS_STYLES.items()}

    def _cell(self, value, *, font=None, fill=None, number_format=None, alignment=None):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value=_plain(value))
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if number_format is not None:
            cell.number_format = number_format
        if alignment is not None:
            cell.alignment = alignment
        return cell

    def line(self, text: str, *, bold: bool = False, size: float | None = None) -> None:
        """One line of text in the first column (a title or a note)."""
        self.blocks.append(("line", text, bold, size))

    def blank(self) -> None:
        self.blocks.append(("blank",))

    def table(self, frame: pd.DataFrame, *, labels: dict | None = None, filters: bool = False,
              freeze: bool = False, row_kinds: dict | None = None) -> None:
        """A header row and one row per record.

        ``labels`` maps a column to ``(label, kind)`` (default: :func:`describe`);
        ``row_kinds`` maps a column to one kind per row (a column of mixed units). A
        ``payback_never`` column is not written: it turns its row's payback into "never".
        """
        self.blocks.append(("table", frame, labels or {}, filters, freeze, row_kinds or {}))

    # ------------------------------------------------------------------ writing
    def _table_rows(self, frame, labels, row_kinds):
        """The header and the data rows of a table block, with each column's widest text."""
        never = frame["payback_never"].to_numpy() if "payback_never" in frame.columns else None
        frame = frame.drop(columns=["payback_never"]) if never is not None else frame
        described = [labels.get(c) or (describe(str(c)).label, describe(str(c)).kind) for c in frame.columns]
        headers = [f"{label} {unit(kind, self.currency)}".strip() for label, kind in described]
        widths = [min(len(h), 22) for h in headers]
        rows = []
        for i, record in enumerate(frame.itertuples(index=False, name=None)):
            cells = []
            for j, (column, value) in enumerate(zip(frame.columns, record)):
                kind = row_kinds[column][i] if column in row_kinds else described[j][1]
                if column == "payback_months_p50" and (
                        (never is not None and flag(never[i])) or (isinstance(value, float) and value == math.inf)):
                    cells.append(self._cell(NEVER, alignment=self._right))
                    width = len(NEVER)
                elif kind == TEXT and isinstance(value, str) and value in self._status:
                    fill, font = self._status[value]
                    cells.append(self._cell(value, fill=fill, font=font))
                    width = len(value)
                else:
                    cells.append(self._cell(value, number_format=NUMBER_FORMATS.get(kind)))
                    width = _shown_width(value, kind)
                widths[j] = max(widths[j], width)
            rows.append(cells)
        return headers, rows, widths

    def finish(self) -> None:
        """Write every block: widths, frozen panes and filters first, then the rows."""
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        rendered, widths, row, frozen = [], {}, 0, False
        for block in self.blocks:
            if block[0] == "table":
                _, frame, labels, filters, freeze, row_kinds = block
                headers, rows, table_widths = self._table_rows(frame, labels, row_kinds)
                header_row = row + 1
                rendered.append(("table", headers, rows))
                row += 1 + len(rows)
                for index, width in enumerate(table_widths, start=1):
                    widths[index] = max(widths.get(index, 0), width)
                if filters and headers:
                    self.sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{max(row, header_row)}"
                if freeze and not frozen:
                    self.sheet.freeze_panes = f"A{header_row + 1}"
                    frozen = True
            else:
                rendered.append(block)
                row += 1
        for index, width in widths.items():
            self.sheet.column_dimensions[get_column_letter(index)].width = min(max(9, width + 2), _MAX_WIDTH)
        row = 0
        for block in rendered:
            row += 1
            if block[0] == "line":
                _, text, bold, size = block
                self.sheet.append([self._cell(text, font=Font(bold=bold, size=size, italic=not bold and size is None))])
            elif block[0] == "blank":
                self.sheet.append([])
            else:
                _, headers, rows = block
                self.sheet.row_dimensions[row].height = 15 * min(3, 1 + max(map(len, headers), default=0) // 22)
                self.sheet.append([self._cell(h, font=self._header_font, fill=self._header_fill, alignment=self._wrap)
                                   for h in headers])
                for cells in rows:
                    self.sheet.append(cells)
                row += len(rows)


def _shown_width(value, kind: str) -> int:
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        if kind == PERCENT:
            return 6
        return len(f"{value:,.0f}") + (3 if kind in (RATIO, NUMBER) else 0)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return 0
    return len(str(value))


# --------------------------------------------------------------------------- sheets


def _summary(book, tables: dict, manifest: dict, settings: dict | None, currency: str | None) -> None:
    from simcore.outputs.numbers import share

    sheet = _Sheet(book, "Summary", currency)
    summary = tables.get("segment_summary")
    name = manifest.get("name", "run")
    sheet.line(f"{name}: unit economics per segment", bold=True, size=14)
    details = [f"as of {manifest['as_of']}" if manifest.get("as_of") else None,
               f"{manifest.get('replications', 0):,} replications", f"seed {manifest.get('seed')}",
               f"horizon {manifest.get('horizon_months')} months",
               f"amounts in {currency}" if currency else None]
    sheet.line("Baseline; " + ", ".join(d for d in details if d) + ". Intervals are 90% intervals of the expected "
               "value across replications; shares are of customers.")
    sheet.blank()
    if summary is not None:
        sheet.table(_headline(summary), labels=_HEADLINE_LABELS, freeze=True)
    comparison = tables.get("scenario_comparison")
    if comparison is not None and len(comparison):
        totals = comparison[comparison["segment"] == "(all segments)"]
        sheet.blank()
        sheet.line("Scenarios against the baseline: change in total value (existing base and new cohorts, "
                   "discounted to the start), paired by replication", bold=True)
        frame = totals[["scenario", "baseline_value_mean", "scenario_value_mean", "delta_mean", "delta_p5",
                        "delta_p95", "p_delta_positive"]]
        sheet.table(frame)
    sheet.blank()
    threshold = ((settings or {}).get("status") or {}).get("marginal_loss_probability")
    too_many = f"more than {share(threshold)}" if threshold is not None else "too many"
    sheet.line("Status of new customers: margin-draining when the expected unit profit is below 0 and its 90% "
               f"interval excludes 0; marginal when the interval straddles 0 or {too_many} of customers lose "
               "money; profitable otherwise. Payback: the median month in which cumulative contribution repays "
               "CAC and onboarding; never = not within the horizon.")
    sheet.finish()


_HEADLINE_LABELS = {
    "segment": ("Segment", TEXT),
    "new_status": ("New customers: status", TEXT),
    "new_unit_profit": ("New: unit profit per customer, expected", MONEY),
    "new_unit_profit_low": ("New: unit profit, 90% interval low", MONEY),
    "new_unit_profit_high": ("New: unit profit, 90% interval high", MONEY),
    "ltv_to_cac": ("New: LTV:CAC, expected", RATIO),
    "payback_months_p50": ("New: payback, median", MONTHS),
    "payback_never": ("never", FLAG),
    "p_unit_profit_negative": ("New: share of customers losing money", PERCENT),
    "new_customers": ("New customers over the horizon", COUNT),
    "existing_customers": ("Existing customers", COUNT),
    "existing_value": ("Existing base: remaining value, expected", MONEY),
    "existing_value_low": ("Existing base: value, 90% interval low", MONEY),
    "existing_value_high": ("Existing base: value, 90% interval high", MONEY),
}


def _headline(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per segment (the blended row last): new customers' estimates beside the
    existing base's remaining value."""
    new = summary[summary["population"] == "new"].set_index("segment")
    existing = summary[summary["population"] == "existing"].set_index("segment")
    segments = [s for s in dict.fromkeys([*new.index, *existing.index]) if s != "(all segments)"]
    order = sorted(segments) + (["(all segments)"] if "(all segments)" in new.index else [])
    rows = []
    for segment in order:
        n = new.loc[segment] if segment in new.index else pd.Series(dtype=object)
        e = existing.loc[segment] if segment in existing.index else pd.Series(dtype=object)
        rows.append({
            "segment": "all segments (blended)" if segment == "(all segments)" else segment,
            "new_status": n.get("status"), "new_unit_profit": n.get("unit_profit_mean"),
            "new_unit_profit_low": n.get("unit_profit_mean_lower_90"),
            "new_unit_profit_high": n.get("unit_profit_mean_upper_90"), "ltv_to_cac": n.get("ltv_to_cac"),
            "payback_months_p50": n.get("payback_months_p50"), "payback_never": n.get("payback_never"),
            "p_unit_profit_negative": n.get("p_unit_profit_negative"), "new_customers": n.get("customers"),
            "existing_customers": e.get("customers"), "existing_value": e.get("total_value_mean"),
            "existing_value_low": e.get("total_value_mean_lower_90"),
            "existing_value_high": e.get("total_value_mean_upper_90"),
        })
    return pd.DataFrame(rows)


def _assumptions(book, tables: dict, manifest: dict, settings: dict | None, currency: str | None) -> None:
    from simcore.outputs.assumptions import economics_rows, run_settings, scenario_levers

    sheet = _Sheet(book, "Assumptions", currency)
    sheet.line("Assumptions of this run", bold=True, size=14)
    sheet.blank()
    sheet.line("Run", bold=True)
    sheet.table(pd.DataFrame(run_settings(manifest, settings), columns=["Item", "Value"]),
                labels={"Item": ("Item", TEXT), "Value": ("Value", TEXT)})
    economics = tables.get("economics")
    if economics is not None and len(economics):
        rows = economics_rows(economics)
        sheet.blank()
        sheet.line("Economics per segment, and where each number came from", bold=True)
        frame = pd.DataFrame(rows, columns=["segment", "item", "value", "source", "kind"])
        kinds = [k if k in NUMBER_FORMATS else NUMBER for k in frame["kind"]]
        sheet.table(frame.drop(columns=["kind"]), row_kinds={"value": kinds},
                    labels={"item": ("Item", TEXT), "value": ("Value", NUMBER),
                            "source": ("Where it came from", TEXT)})
    levers = scenario_levers(settings)
    if levers:
        sheet.blank()
        sheet.line("Scenarios and their levers (each compared with the baseline, which has none)", bold=True)
        sheet.table(pd.DataFrame(levers), labels={"description": ("Description", TEXT),
                                                  "extends": ("Starts from", TEXT), "levers": ("Levers", TEXT)})
    sheet.blank()
    sheet.line("Sheets and files: every sheet after Warnings holds the table of the same name in the run "
               "directory (CSV, Parquet, JSON), whose columns keep machine names.")
    sheet.finish()


def _warnings(book, warnings: list[dict]) -> None:
    sheet = _Sheet(book, "Warnings", None)
    if not warnings:
        sheet.line("No warnings: the data and the fits raised nothing to check.")
    else:
        frame = pd.DataFrame([{"where": ", ".join(str(w[k]) for k in ("source", "field") if w.get(k)),
                               "message": w.get("message"), "hint": w.get("hint")} for w in warnings])
        sheet.table(frame, labels={"where": ("Where", TEXT), "message": ("Warning", TEXT),
                                   "hint": ("What to check", TEXT)})
    sheet.finish()


#: Statistics of the projection by month, as the projection table names them.
PROJECTION_STATISTICS = ("mean", "p10", "p90")
_METRIC_LABELS = {"active_customers": ("Active customers", COUNT), "mrr": ("MRR", MONEY),
                  "contribution": ("Contribution", MONEY), "cash": ("Cash (contribution \u2212 acquisition spend)", MONEY),
                  "cumulative_cash": ("Cumulative cash", MONEY)}


def projection_by_month(projection: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The long ``projection`` table with one column per month (``2026-01``... from the
    month after ``as_of``, else ``month 0``...) and one row per scenario, segment,
    customers, metric and statistic (mean, P10, P90: the expected value and the band of
    the fan charts; the median stays in the files)."""
    keys = [c for c in ("scenario", "segment", "population", "metric") if c in projection.columns]
    long = projection.melt(id_vars=[*keys, "month"], value_vars=list(PROJECTION_STATISTICS), var_name="statistic")
    wide = long.pivot_table(index=[*keys, "statistic"], columns="month", values="value", sort=False)
    months = wide.columns.astype(int)
    if as_of is not None:
        start = pd.Period(pd.Timestamp(as_of), freq="M") + 1
        wide.columns = [str(start + m) for m in months]
    else:
        wide.columns = [f"month {m}" for m in months]
    wide = wide.reset_index()
    # Rows in reading order: scenarios, segments and populations as the run lists them
    # (baseline first), metrics from customers to cash, then mean, P10, P90.
    ranks = {key: {v: i for i, v in enumerate(dict.fromkeys(projection[key]))} for key in keys if key != "metric"}
    ranks["metric"] = {name: i for i, name in enumerate(_METRIC_LABELS)}
    ranks["statistic"] = {name: i for i, name in enumerate(PROJECTION_STATISTICS)}
    order = [f"_{key}" for key in ranks]
    for key, rank in ranks.items():
        wide[f"_{key}"] = wide[key].map(rank).fillna(len(rank))
    wide = wide.sort_values(order, kind="stable")
    wide["statistic"] = wide["statistic"].map({"mean": "mean", "p10": "P10", "p90": "P90"}).fillna(wide["statistic"])
    wide["metric"] = [_METRIC_LABELS.get(m, (m, NUMBER))[0] for m in wide["metric"]]
    return wide.drop(columns=order).reset_index(drop=True)


def _projection_sheet(book, projection: pd.DataFrame, as_of, currency) -> None:
    sheet = _Sheet(book, "Projection by month", currency)
    wide = projection_by_month(projection, as_of)
    labels = {c: (c, COUNT) for c in wide.columns if c not in ("scenario", "segment", "population", "metric",
                                                               "statistic")}
    labels.update({"metric": ("Metric" + (f" (money in {currency})" if currency else ""), TEXT),
                   "statistic": ("Statistic across replications", TEXT)})
    sheet.table(wide, labels=labels, filters=True, freeze=True)
    sheet.finish()


def _table_sheet(book, name: str, table: pd.DataFrame, currency) -> None:
    sheet = _Sheet(book, SHEET_TITLES.get(name, name.replace("_", " ").capitalize()), currency)
    sheet.table(table, filters=True, freeze=True)
    sheet.finish()


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, *, manifest: dict | None = None,
                   settings: dict | None = None, warnings: list[dict] | None = None) -> None:
    """Write the workbook (see the module notes).

    Parameters
    ----------
    tables : mapping of str -> DataFrame
        The tables as files hold them (with ``payback_never``), by file name.
    path : Path
        The ``.xlsx`` file.
    manifest, settings, warnings : optional
        The run's manifest, its settings (``config.json``) and warning records; without
        them (tables of another command) only the table sheets are written.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    manifest = manifest or {}
    currency = manifest.get("currency")
    tables = dict(tables)
    if "segment_summary" in tables and manifest:
        _summary(book, tables, manifest, settings, currency)
    first = ["scenario_comparison"] if manifest else []
    for name in first:
        if name in tables:
            _table_sheet(book, name, tables[name], currency)
    if manifest:
        _assumptions(book, tables, manifest, settings, currency)
        _warnings(book, warnings or [])
    for name, table in tables.items():
        if name in first:
            continue
        if name == "projection":
            _projection_sheet(book, table, manifest.get("as_of"), currency)
        else:
            _table_sheet(book, name, table, currency)
    book.save(path)
