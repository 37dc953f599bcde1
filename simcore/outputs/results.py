"""Writers of each command's results: a fresh directory, written atomically."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from simcore.outputs.atomic import atomic_directory
from simcore.outputs.jsonio import dumps
from simcore.outputs.tables import check_formats, write_tables

#: File name of the saved retention fits in a fit or run directory.
SAVED_FITS = "saved_fits.json"


def _save_fits(fit, path: Path) -> None:
    from simcore.retention import save_fits

    save_fits(fit.fits, path, metadata=fit.metadata)


def write_run(result, out: str | Path, *, formats: Sequence[str] | str = ("csv",), force: bool = False) -> Path:
    """Every table of a :class:`~simcore.results.RunResult` in every format, the saved
    fits and ``manifest.json`` (version, hashes, seed, timings, files)."""
    formats = check_formats(formats)
    out = Path(out)
    mark = time.perf_counter()
    with atomic_directory(out, force=force) as staging:
        write_tables(result.tables, staging, formats)
        if result.fit is not None:
            _save_fits(result.fit, staging / SAVED_FITS)
        manifest = dict(result.manifest)
        manifest["formats"] = formats
        manifest["files"] = sorted(p.name for p in staging.iterdir()) + ["manifest.json"]
        manifest["timings_s"] = {**manifest["timings_s"], "write_s": round(time.perf_counter() - mark, 3)}
        (staging / "manifest.json").write_text(dumps(manifest) + "\n")
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
