"""A run directory, read lazily: what every report section reads from.

A section asks for what it needs (a table, the manifest, the warnings, the fits, a
figure) and gets ``None`` when the run did not write it, so a section can decide
whether it has anything to show.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from simcore.errors import OutputError, Problem

#: Columns read as text whatever they hold (a segment called ``001`` or ``NA`` stays text).
TEXT_COLUMNS = ("scenario", "segment", "population", "status", "metric", "family", "key", "channel")


def read_table(path: Path):
    """One table file (Parquet, CSV or JSON) as written by a run."""
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".json":
        return pd.read_json(path, orient="records", dtype={c: str for c in TEXT_COLUMNS})
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS if c in header}, keep_default_na=False,
                       na_values=[""])


class RunDirectory:
    """The files of one run, read on first use.

    Parameters
    ----------
    path : str or Path
        A directory written by ``simcore run`` (it holds ``manifest.json``).
    tables : mapping of str -> DataFrame, optional
        Tables already in memory (while a run writes its report), used before files.
    fits : SegmentFits, optional
        The run's fits, already in memory; otherwise read from ``saved_fits.json``.

    Raises
    ------
    OutputError
        The directory does not exist or holds no ``manifest.json``.
    """

    def __init__(self, path: str | Path, *, tables: dict | None = None, fits=None):
        self.path = Path(path)
        if not self.path.is_dir():
            raise OutputError(Problem("no such run directory", "give the folder `simcore run` wrote (--out)",
                                      source=str(path)))
        if not (self.path / "manifest.json").is_file():
            raise OutputError(Problem("not a run directory: it has no manifest.json",
                                      "give the folder `simcore run` wrote (--out)", source=str(path)))
        self._tables = dict(tables or {})
        self._fits = fits

    def _json(self, name: str):
        path = self.path / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise OutputError(Problem(f"cannot read {name}: {error}", "rerun `simcore run` to rewrite it",
                                      source=str(path))) from None

    @cached_property
    def manifest(self) -> dict:
        return self._json("manifest.json") or {}

    @cached_property
    def warnings(self) -> list[dict] | None:
        """The run's warning records (``warnings.json``); ``None`` when the run wrote none."""
        return self._json("warnings.json")

    @cached_property
    def settings(self) -> dict | None:
        """Every setting of the run (``config.json``); ``None`` when absent."""
        return self._json("config.json")

    @property
    def currency(self) -> str | None:
        return self.manifest.get("currency")

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    def table(self, name: str):
        """Table ``name`` (Parquet first, exact types; then CSV, then JSON), or ``None``."""
        if name not in self._tables:
            for suffix in (".parquet", ".csv", ".json"):
                path = self.path / f"{name}{suffix}"
                if path.is_file():
                    self._tables[name] = read_table(path)
                    break
            else:
                self._tables[name] = None
        return self._tables[name]

    def files(self, *patterns: str) -> list[Path]:
        """Files of the run matching any of the glob ``patterns`` (``"sensitivity_*.csv"``), sorted."""
        found = {p for pattern in patterns for p in self.path.glob(pattern) if p.is_file()}
        return sorted(found)

    @cached_property
    def fits(self):
        """The run's retention fits (``saved_fits.json``), or ``None`` when absent."""
        if self._fits is not None:
            return self._fits
        path = self.path / "saved_fits.json"
        if not path.is_file():
            return None
        from simcore.retention import load_fits

        return load_fits(path)[0]

    @cached_property
    def figures(self) -> list:
        """Every figure of the run (:func:`simcore.outputs.plots.run_figures`)."""
        from simcore.outputs.plots import run_figures

        tables = {name: self.table(name) for name in ("segment_summary", "distributions", "scenario_comparison",
                                                      "projection")}
        manifest = self.manifest
        return run_figures({k: v for k, v in tables.items() if v is not None}, fits=self.fits,
                           seed=int(manifest.get("seed", 0)), horizon_months=int(manifest.get("horizon_months", 120)),
                           as_of=manifest.get("as_of"), currency=self.currency)

    def figures_of(self, group: str, key: str | None = None) -> list:
        """Figures of one report group (and one segment or scenario)."""
        return [f for f in self.figures if f.group == group and (key is None or f.key == key)]

    def png(self, spec) -> bytes:
        """The figure's PNG: the one the run wrote into ``plots/``, else drawn now."""
        path = self.path / "plots" / f"{spec.name}.png"
        if path.is_file():
            return path.read_bytes()
        from simcore.outputs.charts import png_bytes

        return png_bytes(spec.render())
