"""The single-file HTML report of a run: ``simcore report RUN_DIR`` and ``simcore run --report``.

The report reads only the run directory (tables, ``manifest.json``, ``warnings.json``,
``config.json``, ``saved_fits.json``, ``plots/``), so it can be rebuilt at any time from a
finished run. It is one file with everything embedded, readable offline.

Main entry points
-----------------
write_report, build_report
    Write / return the page.
RunDirectory
    Lazy access to a run directory's files.
SECTIONS, Section, register_section
    The sections in order; analyses add theirs (:mod:`simcore.report.sections`).
"""

from __future__ import annotations

from simcore._lazy import lazy_getattr

_LAZY = {
    "RunDirectory": "simcore.report.run_directory",
    "build_report": "simcore.report.build",
    "write_report": "simcore.report.build",
    "SECTIONS": "simcore.report.sections",
    "Section": "simcore.report.sections",
    "register_section": "simcore.report.sections",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
