"""Everything simcore writes, in one place: atomic run directories, tables (CSV,
Parquet, JSON, XLSX), strict JSON, plots, and the writers of each command's results.

Importing this package is cheap; pandas, openpyxl and matplotlib load on first use.
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

from simcore.outputs.atomic import atomic_directory, check_target, prepare_target, recover

_LAZY = {
    "FORMATS": "simcore.outputs.tables",
    "check_formats": "simcore.outputs.tables",
    "write_tables": "simcore.outputs.tables",
    "write_table": "simcore.outputs.tables",
    "write_workbook": "simcore.outputs.workbook",
    "strict_json": "simcore.outputs.jsonio",
    "plot_segment_fit": "simcore.outputs.plots",
    "write_fit_plots": "simcore.outputs.plots",
    "write_run": "simcore.outputs.results",
    "write_fit": "simcore.outputs.results",
    "write_segments": "simcore.outputs.results",
}

__all__ = ["atomic_directory", "check_target", "prepare_target", "recover", *sorted(_LAZY)]


__getattr__ = lazy_getattr(__name__, _LAZY)
