"""A backtest on disk: one fresh directory, written atomically like a run's.

Contents: ``verdicts.csv``, ``summary.csv``, ``accuracy.csv``, ``families.csv``,
``revenue_calibration.csv`` (with an MRR history), ``recalibration.csv``, one
``backtest_<segment>.png`` per segment (and ``backtest_all_segments.png``), and
``manifest.json`` (version, hashes, cutoffs, seed, replications, the verdict rule,
timings, files). Everything a report's backtest section needs is in the directory
(:mod:`simcore.backtest.section` reads it back).
"""

from __future__ import annotations

import time
from pathlib import Path

from simcore.backtest.chart import write_charts
from simcore.outputs import atomic_directory
from simcore.outputs.jsonio import dumps
from simcore.outputs.tables import write_tables

MANIFEST = "manifest.json"


def write_backtest(result, directory: str | Path, *, force: bool = False) -> Path:
    """Write ``result`` (a :class:`~simcore.backtest.result.BacktestResult`) into
    ``directory``; an existing non-empty directory is refused unless ``force``."""
    directory = Path(directory)
    mark = time.perf_counter()
    with atomic_directory(directory, force=force) as staging:
        write_tables(result.tables, staging, ["csv"])
        charts = write_charts(result.tables["accuracy"], result.tables["summary"], staging)
        manifest = dict(result.manifest)
        manifest["charts"] = charts
        manifest["tables"] = sorted(f"{name}.csv" for name in result.tables)
        manifest["files"] = sorted(p.name for p in staging.iterdir()) + [MANIFEST]
        manifest["timings_s"] = {**manifest["timings_s"], "write": round(time.perf_counter() - mark, 3)}
        (staging / MANIFEST).write_text(dumps(manifest) + "\n")
    return directory


__all__ = ["MANIFEST", "write_backtest"]
