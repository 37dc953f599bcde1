"""`simcore report`: the single-file HTML report of a finished run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: RUN_DIR/report.html).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def report(run_dir: Path, out: Path | None, force: bool) -> None:
    """Write the report of RUN_DIR (a folder written by `simcore run`) as one HTML file:
    executive summary, segments, scenarios, retention, assumptions, data-quality
    warnings and the manifest, with every figure embedded. It opens offline and fetches
    nothing.

    \b
    Example:
      simcore report runs/demo && open runs/demo/report.html
    """
    from simcore.report import write_report

    path = write_report(run_dir, out, force=force)
    click.echo(f"wrote {path}")
