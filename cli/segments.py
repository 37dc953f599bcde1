"""`simcore segments`: load, validate and segment a customer book; print a summary."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import build_project, make_console, print_warnings, render_table, source_argument


@click.command()
@source_argument
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the summary to this .csv or .json file.")
def segments(source: Path, as_json: bool, out: Path | None, **flags) -> None:
    """Summarise customer segments of SOURCE (a YAML config, or a data file plus flags).

    \b
    Examples:
      simcore segments scenarios/config.yaml
      simcore segments customers.csv --tenure-col tenure --event-col Churn \\
          --segment-by Contract
    """
    from simcore.outputs import write_table

    result = build_project(source, **flags).segments()
    print_warnings(result.warnings)
    if out is not None:
        write_table(result.table, out)
    if as_json:
        from simcore.cli.common import echo_json

        echo_json(result.table.to_dict(orient="records"))
        return
    summary = result.table
    title = f"{len(summary) - 1} segments, {int(summary['customers'].iloc[-1]):,} customers ({result.book.book.source})"
    make_console().print(render_table(
        summary, title,
        formats={"churned_share": ".1%", "median_tenure_months": ".0f", "mrr_total": ",.0f", "mrr_mean": ",.2f"},
        headers={"churned_share": "churned %", "median_tenure_months": "median tenure (months)",
                 "mrr_total": "MRR, active", "mrr_mean": "mean MRR, active"},
    ))
