"""The XLSX workbook: one formatted sheet per table, for finance readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

_PERCENT_COLUMNS = ("p_", "share", "grr_12", "nrr_12", "S_", "gross_margin", "infrastructure_cost_share")
_MONEY_HINTS = ("ltv", "profit", "value", "cac", "cost", "mrr", "spend", "cash", "contribution", "delta")
_COUNT_HINTS = ("customers", "active", "churned", "n_", "count", "months")


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One workbook, one sheet per table, formatted for finance readers: bold frozen
    header, filters, money with thousands separators, probabilities as percentages,
    columns sized to their content."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            sheet_name = name[:31]
            frame = table.replace([np.inf, -np.inf], np.nan)
            frame.to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for index, column in enumerate(frame.columns, start=1):
                letter = get_column_letter(index)
                lower = str(column).lower()
                if frame[column].dtype.kind == "f":
                    if lower.startswith(_PERCENT_COLUMNS) or lower in _PERCENT_COLUMNS:
                        number_format = "0.0%"
                    elif any(hint in lower for hint in _COUNT_HINTS) and "_per_" not in lower:
                        number_format = "#,##0"
                    elif any(hint in lower for hint in _MONEY_HINTS):
                        number_format = "#,##0;[Red]-#,##0"
                    else:
                        number_format = "#,##0.00"
                    for cell in sheet[letter][1:]:
                        cell.number_format = number_format
                width = max(len(str(column)), *(len(f"{v:,.0f}") if isinstance(v, float) and np.isfinite(v) else len(str(v))
                                                  for v in frame[column].head(200))) if len(frame) else len(str(column))
                sheet.column_dimensions[letter].width = min(max(10, width + 2), 48)
