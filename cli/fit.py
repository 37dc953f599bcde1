"""`simcore fit`: retention curves per segment, model ranking, revenue retention."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import (
    build_project,
    flag_names,
    make_console,
    plain,
    print_warnings,
    render_table,
    source_argument,
)
from simcore.retention.names import FAMILY_CHOICES  # the registry's names; pure Python, so --help stays light


@click.command()
@source_argument
@click.option("--family", type=click.Choice(FAMILY_CHOICES), default=None, show_choices=False,
              metavar="NAME",
              help="Fit this family instead of ranking them all (auto): " + ", ".join(FAMILY_CHOICES[1:]) + ".")
@click.option("--criterion", type=click.Choice(("aic", "bic", "holdout")), default=None,
              help="Ranking criterion of auto (holdout needs signup dates).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write fits.csv, fits.json, ranking.csv, revenue tables, a PNG per segment and "
                   "saved_fits.json (reusable by `simcore run --fits`) here.")
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the fits as JSON on stdout.")
def fit(source: Path, family: str | None, criterion: str | None, out: Path | None, force: bool,
        as_json: bool, **flags) -> None:
    """Fit retention curves per segment of SOURCE and rank the survival families.

    Prints per segment the chosen family, the AIC (or BIC) ranking, parameters with 95%
    intervals, median lifetime, S(12), S(24), S(60), and GRR/NRR over 12 months when the
    book has an MRR history.

    \b
    Examples:
      simcore fit scenarios/demo/config.yaml --out fits
      simcore fit customers.csv --tenure-col tenure --event-col Churn \\
          --segment-by Contract --json
    """
    from simcore.outputs import prepare_target

    with flag_names({"retention.family": "--family", "retention.criterion": "--criterion"}):
        if out is not None:
            prepare_target(out, force=force)  # before the fit, not after it
        project = build_project(source, **flags).with_settings(retention={"family": family, "criterion": criterion})
        result = project.fit()
    print_warnings(result.warnings)
    if out is not None:
        result.write(out, force=force)
    if as_json:
        from simcore.cli.common import echo_json

        echo_json(result.to_json())
        return
    table = result.table
    columns = ["segment", "family", "median_lifetime_months", "S_12", "S_24", "S_60", "grr_12", "nrr_12",
               "n_customers", "n_events"]
    if table[["grr_12", "nrr_12"]].isna().all().all():
        columns = [c for c in columns if c not in ("grr_12", "nrr_12")]  # no MRR history
    console = make_console()
    console.print(render_table(
        table[columns],
        title=f"Retention by segment ({project.config.retention.criterion.upper()} ranking)",
        formats={"median_lifetime_months": ".0f", "S_12": ".1%", "S_24": ".1%", "S_60": ".1%",
                 "grr_12": ".1%", "nrr_12": ".1%", "n_customers": ",.0f", "n_events": ",.0f"},
        headers={"median_lifetime_months": "median lifetime (months)", "S_12": "S(12)", "S_24": "S(24)",
                 "S_60": "S(60)", "grr_12": "GRR 12m", "nrr_12": "NRR 12m", "n_customers": "customers fitted",
                 "n_events": "churned"},
    ))
    for row in table.itertuples():
        console.print(f"[bold]{plain(row.segment)}[/bold]  {plain(row.family)}: {plain(row.parameters)}")
        console.print(f"  ranking: {plain(row.ranking)}")
    if out is not None:
        console.print(f"wrote {plain(out)}/")
