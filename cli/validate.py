"""`simcore validate`: check a config and its data without running anything."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
def validate(config_path: Path) -> None:
    """Check CONFIG and everything it points to — data files, segments, scenarios,
    economics tables — without fitting or simulating. Exits 0 when all is well."""
    from simcore import Project
    from simcore.cli.common import print_warnings

    report = Project.from_config(config_path).validate()
    print_warnings(report.warnings)
    click.echo(f"ok: {config_path} — {int(report.table['customers'].iloc[-1]):,} customers in "
               f"{len(report.table) - 1} segments, {len(report.scenarios)} scenarios")
