"""A sensitivity run on disk: one fresh directory, written atomically like a run's.

Contents: ``sensitivity_*.csv`` (and ``.json``, ``.parquet``, ``sensitivity.xlsx`` when
asked), ``plots/sensitivity_*.png`` (tornado per metric, heatmap or line per grid, curve
per solve, Sobol' indices, a fan chart per stress template), ``warnings.json`` and
``manifest.json`` (version, hashes, seed, replications, analyses, timings, files).
The report's sensitivity section reads everything back from the directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from simcore.outputs import atomic_directory
from simcore.outputs.jsonio import dumps
from simcore.outputs.tables import check_formats, write_tables

MANIFEST = "manifest.json"
PLOTS = "plots"


def write_sensitivity(result, directory: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
                      plots: bool = True, report: bool = False) -> Path:
    """Write ``result`` into ``directory``; an existing non-empty directory is refused
    unless ``force`` (and then only one simcore wrote)."""
    from simcore.outputs.results import warning_records

    formats = check_formats(formats)
    directory = Path(directory)
    mark = time.perf_counter()
    with atomic_directory(directory, force=force) as staging:
        write_tables(result.tables, staging, formats, workbook_name="sensitivity.xlsx")
        (staging / "warnings.json").write_text(dumps(warning_records(result.warnings)) + "\n")
        charts = []
        if plots:
            from simcore.sensitivity.charts import write_charts

            (staging / PLOTS).mkdir()
            charts = write_charts(result.tables, staging / PLOTS, currency=result.manifest.get("currency"))
        manifest = dict(result.manifest)
        manifest["formats"] = formats
        manifest["tables"] = sorted(result.tables)
        manifest["charts"] = [f"{PLOTS}/{name}" for name in charts]
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        manifest["files"] = sorted([*files, MANIFEST, *(["report.html"] if report else [])])
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(time.perf_counter() - mark, 3)}
        (staging / MANIFEST).write_text(dumps(manifest) + "\n")
        if report:
            from simcore.report import RunDirectory, write_report

            write_report(RunDirectory(staging), staging / "report.html")
    return directory
