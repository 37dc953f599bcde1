"""Writers of each command's results: a fresh directory, written atomically.

A run directory holds, besides its tables:

``plots/``
    One PNG per figure of :func:`simcore.outputs.plots.run_figures`.
``warnings.json``
    The run's data-quality and model warnings (one record each: message, hint, where).
``config.json``
    Every setting the run used, includes merged and defaults filled in.
``report.html``
    With ``report=True``: the single-file report (:mod:`simcore.report`).
``manifest.json``
    Version, hashes, seed, replications, timings, the currency and every file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from simcore.outputs.atomic import atomic_directory
from simcore.outputs.jsonio import dumps
from simcore.outputs.tables import check_formats, write_tables

#: File name of the saved retention fits in a fit or run directory.
SAVED_FITS = "saved_fits.json"
WARNINGS = "warnings.json"
SETTINGS = "config.json"
REPORT = "report.html"
PLOTS = "plots"


def _save_fits(fit, path: Path) -> None:
    from simcore.retention import save_fits

    save_fits(fit.fits, path, metadata=fit.metadata)


def warning_records(problems) -> list[dict]:
    """Warnings as JSON records: ``text`` (the line the console prints), ``message``,
    ``hint``, ``source``, ``row``, ``line``, ``field``, ``severity``."""
    return [{"text": p.format(), "message": p.message, "hint": p.hint, "source": p.source, "row": p.row,
             "line": p.line, "field": p.field, "severity": p.severity} for p in problems]


def file_tables(tables: dict) -> dict:
    """The tables as files hold them: a payback never reached is blank with
    ``payback_never`` true (:mod:`simcore.outputs.columns`)."""
    from simcore.outputs.columns import with_payback_flag

    return {name: with_payback_flag(table) for name, table in tables.items()}


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def write_run(result, out: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False,
              plots: bool = True, report: bool = False) -> Path:
    """Every table of a :class:`~simcore.results.RunResult` in every format, the saved
    fits, ``plots/``, ``warnings.json``, ``config.json``, ``manifest.json`` and, when
    asked, ``report.html`` (see the module notes).

    Parameters
    ----------
    plots : bool
        Draw the run's figures into ``plots/``.
    report : bool
        Write the single-file HTML report as well.
    """
    formats = check_formats(formats)
    out = Path(out)
    mark = time.perf_counter()
    tables = file_tables(result.tables)
    currency = result.config.economics.currency
    with atomic_directory(out, force=force) as staging:
        write_tables(tables, staging, [f for f in formats if f != "xlsx"])
        if result.fit is not None:
            _save_fits(result.fit, staging / SAVED_FITS)
        warnings = warning_records(result.warnings)
        (staging / WARNINGS).write_text(dumps(warnings) + "\n")
        settings = result.config.model_dump(mode="json")
        (staging / SETTINGS).write_text(dumps(settings) + "\n")
        manifest = {**result.manifest, "currency": currency, "formats": formats}
        if "xlsx" in formats:
            from simcore.outputs.workbook import write_workbook

            write_workbook(tables, staging / "results.xlsx", manifest=manifest, settings=settings, warnings=warnings)
        if plots:
            from simcore.outputs.plots import run_figures, write_run_plots

            write_run_plots(run_figures(tables, fits=None if result.fit is None else result.fit.fits,
                                        seed=manifest["seed"], horizon_months=manifest["horizon_months"],
                                        as_of=manifest.get("as_of"), currency=currency), staging / PLOTS)
        manifest["files"] = sorted([*_files(staging), "manifest.json", *([REPORT] if report else [])])
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(time.perf_counter() - mark, 3)}
        (staging / "manifest.json").write_text(dumps(manifest) + "\n")
        if report:
            from simcore.report import RunDirectory, write_report

            fits = None if result.fit is None else result.fit.fits
            write_report(RunDirectory(staging, tables=tables, fits=fits), staging / REPORT)
    return out


def write_fit(result, directory: str | Path, *, force: bool = False) -> list[Path]:
    """fits.csv, fits.json, ranking.csv, revenue tables, ``retention_<segment>.png`` and
    saved_fits.json of a :class:`~simcore.results.FitResult`; returns the files written."""
    from simcore.outputs.plots import write_fit_plots

    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        write_tables(result.tables, staging, ["csv"])
        _save_fits(result, staging / SAVED_FITS)
        (staging / "fits.json").write_text(dumps(result.to_json()) + "\n")
        write_fit_plots(result.fits, staging, result.horizon_months)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]
