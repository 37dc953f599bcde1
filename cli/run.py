"""`simcore run`: fit, simulate the baseline and every scenario, write the results."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import executor_options


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<config name>).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override simulation.seed.")
@click.option("--replications", type=click.IntRange(min=1), default=None, help="Override simulation.replications.")
@click.option("--scenario", "scenarios", multiple=True, help="Run only this scenario (repeatable); the baseline always runs.")
@click.option("--format", "formats", default="csv", show_default=True,
              help="Comma-separated output formats: csv, parquet, xlsx, json.")
@click.option("--fits", "saved_fits", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Reuse fits saved by `simcore fit --out` or an earlier run (saved_fits.json) instead of refitting.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists (only one simcore wrote).")
@click.option("--allow-large", is_flag=True, default=None,
              help="Run even when the estimated memory or time exceeds simcore's limits "
                   "(as simulation.allow_large: true).")
@click.option("--report", is_flag=True, help="Also write report.html: the run as one self-contained HTML page.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw the run's figures into plots/.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and summaries as JSON on stdout.")
@executor_options
def run(config_path: Path, out: Path | None, seed: int | None, replications: int | None, scenarios: tuple[str, ...],
        formats: str, saved_fits: Path | None, force: bool, allow_large: bool | None, report: bool, plots: bool,
        quiet: bool, as_json: bool, executor: dict) -> None:
    """Run CONFIG: fit retention, simulate the baseline and every scenario with common
    random numbers, and write segment_summary, scenario_comparison, distributions,
    projection, fits, economics, plots/, warnings.json and manifest.json into a fresh
    directory.

    \b
    Example:
      simcore run scenarios/demo/config.yaml --out runs/demo --format csv,xlsx \\
          --report
      simcore run scenarios/demo/config.yaml --scheduler tcp://10.0.0.5:8786
    """
    from simcore import Project
    from simcore.cli.common import EXECUTOR_FIELDS, flag_names, make_console, print_warnings
    from simcore.cli.report import print_run_summary, run_progress, writing_progress
    from simcore.executors import executor_for
    from simcore.outputs import check_formats, prepare_target

    with flag_names({"scenarios": "--scenario", "formats": "--format", "simulation.replications": "--replications",
                     "simulation.allow_large": "--allow-large", **EXECUTOR_FIELDS}):
        project = Project.from_config(config_path).with_settings(simulation={"allow_large": allow_large or None},
                                                                 executor=executor)
        wanted = check_formats(formats)
        out = out if out is not None else Path("runs") / project.config.name
        prepare_target(out, force=force)
        # The cluster is reached (or started) before any work, so a wrong address fails fast.
        with executor_for(project.config) as executor, \
                run_progress(make_console(stderr=True), enabled=not (quiet or as_json)) as (progress, on_compile):
            result = project.simulate(list(scenarios) or None, seed=seed, replications=replications,
                                      saved_fits=saved_fits, progress=progress, on_compile=on_compile,
                                      executor=executor)
        with writing_progress(make_console(stderr=True), enabled=not (quiet or as_json)):
            result.write(out, formats=wanted, force=force, plots=plots, report=report)
    if not quiet:
        print_warnings(result.warnings)
    if as_json:
        from simcore.cli.common import echo_json
        from simcore.outputs.results import file_tables

        tables = file_tables(result.tables)  # as the files hold them: "never" is payback_never, not null
        payload = {"manifest": result.manifest, "output": str(out),
                   "segment_summary": tables["segment_summary"].to_dict(orient="records")}
        if "scenario_comparison" in tables:
            payload["scenario_comparison"] = tables["scenario_comparison"].to_dict(orient="records")
        echo_json(payload)
    elif not quiet:
        print_run_summary(make_console(), result, out)
        if report:
            make_console().print(f"report: {out / 'report.html'}", markup=False, highlight=False)
