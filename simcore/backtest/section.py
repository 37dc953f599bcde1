"""The data of a report's backtest section, read back from a backtest directory.

A report includes its backtest section when a backtest directory is present:
:func:`backtest_section` returns ``None`` for a directory that holds no backtest, so the
report can call it on any candidate path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simcore.backtest.output import MANIFEST


@dataclass(frozen=True)
class BacktestSection:
    """What a report shows of a backtest.

    Attributes
    ----------
    title : str
    manifest : dict
        As written (cutoffs, seed, replications, the verdict rule, ...).
    verdicts : DataFrame
        Per cutoff and segment: verdicts and their numbers (the section's main table).
    tables : dict of str -> DataFrame
        Every table of the directory by name (``verdicts``, ``summary``, ``accuracy``,
        ``families``, ``recalibration`` and, with an MRR history, ``revenue_calibration``).
    images : dict of str -> Path
        Segment (``"(all segments)"`` for the total) -> its chart.
    """

    title: str
    manifest: dict
    verdicts: pd.DataFrame
    tables: dict
    images: dict


def backtest_section(directory: str | Path) -> BacktestSection | None:
    """The backtest section of ``directory``, or ``None`` when it holds no backtest."""
    from simcore.backtest.accuracy import TOTAL
    from simcore.backtest.chart import chart_file_name

    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("command") != "backtest":
        return None
    tables = {Path(name).stem: pd.read_csv(directory / name) for name in manifest.get("tables", [])
              if (directory / name).is_file()}
    images = {}
    for segment in [*manifest.get("segments", []), TOTAL]:
        image = directory / chart_file_name(segment)
        if image.is_file():
            images[segment] = image
    cutoffs = ", ".join(c["cutoff"] for c in manifest.get("cutoffs", []))
    title = f"Forecast accuracy: forecasts made at {cutoffs} against what happened to {manifest.get('as_of')}"
    return BacktestSection(title, manifest, tables.get("verdicts", pd.DataFrame()), tables, images)


__all__ = ["BacktestSection", "backtest_section"]
