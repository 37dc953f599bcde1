"""`simcore validate`: check a config and its data without running anything."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
def validate(config_path: Path) -> None:
    """Check CONFIG and everything it points to — data files, segments, scenarios,
    economics tables — without fitting or simulating. Exits 0 when all is well."""
    from simcore.cli.common import print_warnings
    from simcore.config import load_config
    from simcore.workflows import validate_config

    config = load_config(config_path)
    report = validate_config(config)
    print_warnings(report.warnings)
    segments = len(report.summary) - 1
    click.echo(
        f"ok: {config_path} — {int(report.summary['customers'].iloc[-1]):,} customers in {segments} segments, "
        f"{len(config.scenarios)} scenarios"
    )
