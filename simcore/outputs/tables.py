"""Tables to files: CSV, Parquet, JSON and one XLSX workbook, the same for every command."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from simcore.errors import ConfigError, OutputError, Problem

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
            table.to_csv(directory / f"{name}.csv", index=False, float_format=f"%.{_DIGITS}g")
        if "parquet" in formats:
            table.to_parquet(directory / f"{name}.parquet", index=False)
        if "json" in formats:
            table.to_json(directory / f"{name}.json", orient="records", indent=1, double_precision=_DIGITS)
    if "xlsx" in formats:
        from simcore.outputs.workbook import write_workbook

        write_workbook(tables, directory / workbook_name)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write one table as CSV or JSON, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise OutputError(Problem(f"cannot write '{suffix}' files", "use a .csv or .json file name", source=str(path)))
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_json(path, orient="records", indent=2)
    except OSError as error:
        raise OutputError(Problem(f"cannot write the file ({error.strerror or error})",
                                  "check the folder exists and is writable", source=str(path))) from None
