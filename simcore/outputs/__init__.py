"""Everything simcore writes, in one place: atomic run directories, tables (CSV,
Parquet, JSON, XLSX), strict JSON, plots (and the generic fan chart, tornado and heatmap
other analyses draw with), and the writers of each command's results.

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
    "plot_unit_profit": "simcore.outputs.plots",
    "plot_ltv_cac_payback": "simcore.outputs.plots",
    "plot_scenario_effects": "simcore.outputs.scenario_plots",
    "plot_scenario_waterfall": "simcore.outputs.scenario_plots",
    "plot_projection": "simcore.outputs.scenario_plots",
    "run_figures": "simcore.outputs.plots",
    "write_fit_plots": "simcore.outputs.plots",
    "FanSeries": "simcore.outputs.charts",
    "fan_chart": "simcore.outputs.charts",
    "tornado": "simcore.outputs.charts",
    "heatmap": "simcore.outputs.charts",
    "new_figure": "simcore.outputs.charts",
    "write_run": "simcore.outputs.results",
    "write_fit": "simcore.outputs.results",
    "write_segments": "simcore.outputs.results",
}

__all__ = ["atomic_directory", "check_target", "prepare_target", "recover", *sorted(_LAZY)]


__getattr__ = lazy_getattr(__name__, _LAZY)
