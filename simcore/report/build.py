"""Build the report of a run directory and write it as one HTML file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from simcore.errors import OutputError, Problem
from simcore.report.html import page
from simcore.report.run_directory import RunDirectory


def build_report(run: RunDirectory | str | Path, sections: Sequence | None = None) -> str:
    """The report of a run as one self-contained HTML document.

    Parameters
    ----------
    run : RunDirectory or path
        The run directory (see :class:`RunDirectory`).
    sections : sequence of Section, optional
        Default: :data:`simcore.report.sections.SECTIONS`, in order; a section whose
        ``render`` returns ``None`` is left out.

    Returns
    -------
    str
        The page: images embedded, styles inline, nothing fetched.
    """
    from simcore.report.sections import SECTIONS

    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    rendered = []
    for section in SECTIONS if sections is None else sections:
        body = section.render(run)
        if body:
            rendered.append((section.anchor, section.heading, body))
    manifest = run.manifest
    details = [f"as of {manifest['as_of']}" if manifest.get("as_of") else None,
               f"{manifest.get('customers', 0):,} customers in {len(manifest.get('segments', []))} segments",
               f"{manifest.get('replications', 0):,} replications, seed {manifest.get('seed')}",
               f"horizon {manifest.get('horizon_months')} months",
               f"amounts in {run.currency}" if run.currency else "amounts in the book's currency"]
    lines = [", ".join(d for d in details if d),
             f"simcore {manifest.get('simcore_version', '')}; config {manifest.get('config_file', '')}"]
    return page(f"{run.name}: unit economics per segment", lines, rendered)


def write_report(run: RunDirectory | str | Path, path: str | Path | None = None, *, force: bool = False) -> Path:
    """Write the report of ``run`` to ``path`` (default ``<run>/report.html``), atomically:
    a temporary file beside it, renamed into place when complete.

    Raises
    ------
    OutputError
        ``path`` exists (without ``force``) or cannot be written.
    """
    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    path = Path(path) if path is not None else run.path / "report.html"
    if path.exists() and not force:
        raise OutputError(Problem("already exists", "choose another file with --out, or pass --force to replace it",
                                  source=str(path)))
    text = build_report(run)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(Problem(f"cannot write the report ({error.strerror or error})",
                                  "check the folder exists and is writable", source=str(path))) from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
