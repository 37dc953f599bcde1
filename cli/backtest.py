"""`simcore backtest`: forecasts made at past cutoffs against what happened."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import executor_options

VERDICT_STYLE = {"calibrated": "green", "over-optimistic": "bold red", "over-pessimistic": "yellow", "mixed": "red"}


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cutoff", "cutoffs", multiple=True, required=True,
              help="Date the forecast is made at, YYYY-MM-DD or YYYY-MM (taken as its month end; repeatable). "
                   "After the first signup, at least 6 whole months before as_of.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<config name>-backtest).")
@click.option("--replications", type=click.IntRange(min=1), default=None, help="Override simulation.replications.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override simulation.seed.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and verdicts as JSON on stdout.")
@executor_options
def backtest(config_path: Path, cutoffs: tuple[str, ...], out: Path | None, replications: int | None,
             seed: int | None, force: bool, quiet: bool, as_json: bool, executor: dict) -> None:
    """Backtest CONFIG: at each --cutoff, rebuild the book as it was known then, fit and
    project it to as_of with the config's settings, and compare with what happened per
    segment and month (active customers, churned, MRR, contribution). Writes verdicts,
    summary, accuracy, families, revenue_calibration, recalibration, a chart per segment
    and manifest.json into a fresh directory.

    \b
    Example:
      simcore backtest scenarios/demo/config.yaml --cutoff 2024-06 \\
          --cutoff 2024-12 --out runs/backtest
    """
    from simcore import Project
    from simcore.cli.common import EXECUTOR_FIELDS, flag_names, make_console, print_warnings
    from simcore.cli.report import run_progress
    from simcore.executors import executor_for
    from simcore.outputs import check_target

    with flag_names({"cutoffs": "--cutoff", "simulation.replications": "--replications", "simulation.seed": "--seed",
                     **EXECUTOR_FIELDS}):
        project = Project.from_config(config_path).with_settings(executor=executor)
        out = out if out is not None else Path("runs") / f"{project.config.name}-backtest"
        check_target(out, force=force)
        with executor_for(project.config) as executor, \
                run_progress(make_console(stderr=True), enabled=not (quiet or as_json)) as (progress, on_compile):
            result = project.backtest(list(cutoffs), replications=replications, seed=seed, progress=progress,
                                      on_compile=on_compile, executor=executor)
        result.write(out, force=force)
    if not quiet:
        print_warnings(result.warnings)
    if as_json:
        from simcore.cli.common import echo_json

        echo_json({"manifest": result.manifest, "output": str(out),
                   "verdicts": result.verdicts.to_dict(orient="records")})
    elif not quiet:
        print_verdicts(make_console(), result, out)


def _number(value: float) -> str:
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if size >= 1e5:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.0f}"


def _against(row, name: str) -> str:
    """``actual (forecast mean; P5-P95)`` of one verdict quantity at the end of the window."""
    actual = row.get(f"{name}_actual_end")
    if actual is None or actual != actual:
        return ""
    return (f"{_number(actual)} ({_number(row[f'{name}_forecast_mean_end'])}; "
            f"{_number(row[f'{name}_forecast_p5_end'])} to {_number(row[f'{name}_forecast_p95_end'])})")


def print_verdicts(console, result, out) -> None:
    """Per cutoff and segment: the verdict, and each quantity's actual against the
    forecast at the end of the window; then the family chosen at each cutoff against the
    best in hindsight."""
    from rich.table import Table

    table = Table(title="Backtest at as_of, customers active at each cutoff: actual (forecast mean; P5 to P95)",
                  header_style="bold")
    for column in ("cutoff", "segment", "verdict", "active customers", "MRR", "contribution since cutoff"):
        table.add_column(column, no_wrap=True)
    families = Table(title="Retention family: chosen at the cutoff, best in hindsight", header_style="bold")
    for column in ("cutoff", "segment", "chosen", "best in hindsight"):
        families.add_column(column, no_wrap=True)
    for row in result.verdicts.to_dict(orient="records"):
        style = VERDICT_STYLE.get(row["verdict"], "")
        verdict = f"[{style}]{row['verdict']}[/{style}]" if style else row["verdict"]
        table.add_row(row["cutoff"], row["segment"], verdict, _against(row, "retention"), _against(row, "revenue"),
                      _against(row, "profit"))
        if isinstance(row.get("family_chosen"), str):
            families.add_row(row["cutoff"], row["segment"], row["family_chosen"], str(row["family_best_in_hindsight"]))
    console.print(table)
    console.print("over-optimistic: the actual fell below the forecast's P5; over-pessimistic: above its P95; "
                  "verdicts.csv has the verdict of each quantity.")
    console.print(families)
    console.print(f"wrote {out}/")
