"""`simcore sensitivity`: tornado, grids, solves, Sobol' indices and stress tests."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import executor_options


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<config name>-sensitivity).")
@click.option("--replications", type=click.IntRange(min=2), default=None,
              help="Override sensitivity.replications (every sweep point uses them).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override simulation.seed.")
@click.option("--only", type=click.Choice(["tornado", "grid", "solve", "sobol", "stress"]), default=None,
              help="Run one analysis of the sensitivity: section.")
@click.option("--format", "formats", default="csv", show_default=True,
              help="Comma-separated output formats: csv, parquet, xlsx, json.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists (only one simcore wrote).")
@click.option("--report", is_flag=True, help="Also write report.html.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw the figures into plots/.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and the tables as JSON on stdout.")
@executor_options
def sensitivity(config_path: Path, out: Path | None, replications: int | None, seed: int | None, only: str | None,
                formats: str, force: bool, report: bool, plots: bool, quiet: bool, as_json: bool,
                executor: dict) -> None:
    """Sensitivity tables and stress tests of CONFIG's sensitivity: section: tornado
    (swing per lever, with the Monte Carlo error of each paired change), grids with the
    break-even contour, solves (break-even and best lever values with intervals), Sobol'
    indices, stress templates with fan charts and reverse stress tests. Every sweep point
    uses the same seed (common random numbers). Writes sensitivity_*.csv, plots/ and
    manifest.json into a fresh directory.

    \b
    Example:
      simcore sensitivity scenarios/demo/config.yaml --replications 200 \\
          --only tornado
    """
    from simcore import Project
    from simcore.cli.common import EXECUTOR_FIELDS, flag_names, make_console, print_warnings
    from simcore.cli.report import run_progress
    from simcore.outputs import check_formats, prepare_target

    with flag_names({"simulation.replications": "--replications", "sensitivity.replications": "--replications",
                     "simulation.seed": "--seed", "formats": "--format", "only": "--only", **EXECUTOR_FIELDS}):
        project = Project.from_config(config_path).with_settings(executor=executor)
        wanted = check_formats(formats)
        out = out if out is not None else Path("runs") / f"{project.config.name}-sensitivity"
        prepare_target(out, force=force)
        with run_progress(make_console(stderr=True), enabled=not (quiet or as_json)) as (progress, on_compile):
            result = project.sensitivity(only=only, replications=replications, seed=seed, progress=progress,
                                         on_compile=on_compile)
        result.write(out, formats=wanted, force=force, plots=plots, report=report)
    if not quiet:
        print_warnings(result.warnings)
    if as_json:
        from simcore.cli.common import echo_json

        echo_json({"manifest": result.manifest, "output": str(out),
                   "tables": {name: table.to_dict(orient="records") for name, table in result.tables.items()
                              if not name.endswith(("_fans", "_points", "_curves"))}})
    elif not quiet:
        print_summary(make_console(), result, out)


def print_summary(console, result, out) -> None:
    """The tornado ranking, the solves and the stress templates, one line each."""
    from simcore.cli.common import plain
    from simcore.outputs.numbers import money
    from simcore.sensitivity.section import change_text, error_text, solve_text

    tornado = result.tables.get("sensitivity_tornado")
    if tornado is not None:
        for metric, rows in tornado.groupby("metric", sort=False):
            console.print(f"Tornado of {plain(rows.iloc[0].metric_label)}: swing high - low (\u00b1 Monte Carlo error)",
                          style="bold", highlight=False)
            for row in rows.itertuples():
                console.print(f"  {row.rank:>2}. {plain(row.lever_label)} ({row.low_setting} .. {row.high_setting}): "
                              f"{change_text(row.swing_mean, metric)} ({error_text(row.swing_mc_error, metric)})",
                              highlight=False)
    solves = result.tables.get("sensitivity_solve")
    if solves is not None:
        console.print("Solves: value [90% interval of per-replication solves]", style="bold")
        for row in solves.itertuples():
            text = solve_text(row)
            console.print(f"  {plain(row.solve)}: {plain(row.lever)} {plain(text)}", highlight=False)
    stress = result.tables.get("sensitivity_stress")
    if stress is not None:
        console.print("Stress templates: change from the base (P5 .. P95)", style="bold")
        for row in stress[stress["template"] != "base"].itertuples():
            console.print(f"  {plain(row.template)}: {money(row.delta_mean, signed=True)} "
                          f"({money(row.delta_p5, signed=True)} .. {money(row.delta_p95, signed=True)})",
                          highlight=False)
    console.print(f"wrote {plain(out)}/", highlight=False)
