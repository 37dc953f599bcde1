"""`simcore demo DIR`: write the example workspace (customers, MRR history, config)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--customers", type=click.IntRange(min=100), default=None,
              help="Number of customers to generate (default 24,000).")
@click.option("--seed", type=int, default=None, help="Random seed of the generator.")
@click.option("--force", is_flag=True, help="Replace DIR if it holds an earlier demo workspace.")
def demo(directory: Path, customers: int | None, seed: int | None, force: bool) -> None:
    """Write a realistic example workspace into DIRECTORY.

    The files (customers.csv, mrr_history.csv, acquisition_spend.csv, support_costs.csv,
    config.yaml) are generated deterministically from the assumptions documented in
    simcore.demo; the same workspace ships under scenarios/demo.
    """
    from simcore.demo import write_demo_workspace

    for path in write_demo_workspace(directory, customers=customers, seed=seed, force=force):
        click.echo(str(path))
    click.echo(f"next: simcore segments {directory / 'config.yaml'}", err=True)
