"""Tables to files: CSV, Parquet, JSON and one XLSX workbook, the same for every command.

**Spreadsheet safety.** Segment labels, scenario names and descriptions come from data
and configs that a spreadsheet user did not write. A text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and LibreOffice
(a plan called ``=HYPERLINK("http://...")`` would become a live link in every row), so
in CSV and XLSX such a cell is written with a leading apostrophe, as the OWASP
CSV-injection guidance recommends. Numbers stay numbers (``-5`` in a numeric column is
untouched), and text that is a plain number (``"-5"``) cannot run anything and is left
as it is. Parquet and JSON are read by programs, not spreadsheets, and keep the text.
In every format the credentials of URLs are hidden (:func:`simcore.errors.redact`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from simcore.errors import ConfigError, OutputError, Problem
from simcore.outputs.safety import safe_tables, spreadsheet_text  # noqa: F401 - re-exported

#: Output formats of result tables.
FORMATS = ("csv", "parquet", "xlsx", "json")
#: Significant digits written to CSV and JSON.
_DIGITS = 10


def check_formats(formats: Sequence[str] | str) -> list[str]:
    """The requested formats, lower-cased and deduplicated (``csv`` when none).

    Raises
    ------
    ConfigError
        An unknown format, reported on the field ``formats``.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise ConfigError(Problem(
            f"unknown output format {', '.join(repr(b) for b in bad)}",
            f"choose from {', '.join(FORMATS)} (comma-separated)", field="formats",
        ))
    return list(dict.fromkeys(wanted)) or ["csv"]


def write_tables(tables: Mapping[str, pd.DataFrame], directory: Path, formats: Sequence[str],
                 workbook_name: str = "results.xlsx") -> None:
    """Write every table in every format into ``directory`` (one workbook for XLSX)."""
    directory = Path(directory)
    for name, table in tables.items():
        if "csv" in formats:
            safe_tables(table, spreadsheet=True).to_csv(directory / f"{name}.csv", index=False,
                                                        float_format=f"%.{_DIGITS}g")
        if "parquet" in formats or "json" in formats:
            plain = safe_tables(table, spreadsheet=False)
            if "parquet" in formats:
                plain.to_parquet(directory / f"{name}.parquet", index=False)
            if "json" in formats:
                plain.to_json(directory / f"{name}.json", orient="records", indent=1, double_precision=_DIGITS)
    if "xlsx" in formats:
        from simcore.outputs.workbook import write_workbook

        write_workbook({name: safe_tables(table, spreadsheet=True) for name, table in tables.items()},
                       directory / workbook_name)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write one table as CSV or JSON, chosen by the file's extension, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise OutputError(Problem(f"cannot write '{suffix}' files", "use a .csv or .json file name", source=str(path)))
    import os
    import tempfile

    try:
        # Written beside the target and renamed over it: an interrupted write leaves the
        # previous file (or none), never half a table.
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        os.close(handle)
        try:
            if suffix == ".csv":
                safe_tables(frame, spreadsheet=True).to_csv(temporary, index=False)
            else:
                safe_tables(frame, spreadsheet=False).to_json(temporary, orient="records", indent=2)
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputError(Problem(f"cannot write the file ({error.strerror or error})",
                                  "check the folder exists and is writable", source=str(path))) from None
