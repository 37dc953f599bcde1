"""`simcore plan-cs`: customer-success tiers, headcount plan, ROI and the optimiser."""

from __future__ import annotations

from pathlib import Path

import click

from simcore.cli.common import executor_options

ALL_TIERS = "(all tiers)"


@click.command("plan-cs")
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<config name>-cs-plan).")
@click.option("--replications", type=click.IntRange(min=1), default=None, help="Override simulation.replications.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override simulation.seed.")
@click.option("--budget", type=click.FloatRange(min=0), default=None,
              help="Cap on CSM cost per plan year (money) for the optimiser; replaces cs_plan.optimise.")
@click.option("--headcount", type=click.IntRange(min=0), default=None,
              help="Cap on CSMs of all tiers in any month for the optimiser; replaces cs_plan.optimise.")
@click.option("--format", "formats", default="csv", show_default=True,
              help="Comma-separated output formats: csv, parquet, xlsx, json.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists (only one simcore wrote).")
@click.option("--report", is_flag=True, help="Also write report.html.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw the plan's figures into plots/.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and the quarterly plan as JSON on stdout.")
@executor_options
def plan_cs(config_path: Path, out: Path | None, replications: int | None, seed: int | None, budget: float | None,
            headcount: int | None, formats: str, force: bool, report: bool, plots: bool, quiet: bool,
            as_json: bool, executor: dict) -> None:
    """Plan customer success for CONFIG's cs_plan: assign accounts to tiers, count the CSMs
    each tier needs per month and quarter (P50 and P90 of the Monte Carlo paths), plan
    the hiring, and find the tier thresholds that maximise expected profit net of CS
    cost under --budget or --headcount. Writes cs_plan_headcount_quarterly (the
    capital-planning table), cs_plan_headcount_monthly, cs_plan_roi, cs_plan_thresholds,
    cs_plan_assignments, cs_plan_assumptions, plots/ and manifest.json into a fresh
    directory.

    \b
    Example:
      simcore plan-cs scenarios/demo/config.yaml --replications 200 \\
          --headcount 80 --out runs/cs
    """
    from simcore import Project
    from simcore.cli.common import EXECUTOR_FIELDS, flag_names, make_console, print_warnings
    from simcore.cli.report import run_progress
    from simcore.executors import executor_for
    from simcore.outputs import check_formats, prepare_target

    with flag_names({"simulation.replications": "--replications", "simulation.seed": "--seed",
                     "cs_plan.optimise.budget_per_year": "--budget", "cs_plan.optimise.headcount": "--headcount",
                     "formats": "--format", **EXECUTOR_FIELDS}):
        project = Project.from_config(config_path).with_settings(executor=executor)
        wanted = check_formats(formats)
        out = out if out is not None else Path("runs") / f"{project.config.name}-cs-plan"
        prepare_target(out, force=force)
        with executor_for(project.config) as executor, \
                run_progress(make_console(stderr=True), enabled=not (quiet or as_json)) as (progress, on_compile):
            result = project.plan_cs(replications=replications, seed=seed, budget=budget, headcount=headcount,
                                     progress=progress, on_compile=on_compile, executor=executor)
        result.write(out, formats=wanted, force=force, plots=plots, report=report)
    if not quiet:
        print_warnings(result.warnings)
    if as_json:
        from simcore.cli.common import echo_json

        echo_json({"manifest": result.manifest, "output": str(out),
                   "headcount_quarterly": result.table.to_dict(orient="records"),
                   "roi": result.cs_plan_roi.to_dict(orient="records")})
    elif not quiet:
        print_plan(make_console(), result, out)


def print_plan(console, result, out) -> None:
    """The assumptions, the optimised plan's CSMs by quarter, and the plans compared."""
    from rich.table import Table

    from simcore.cli.common import plain
    from simcore.outputs.numbers import count, money, ratio

    console.print("Assumptions (not measured):", style="bold")
    for row in result.cs_plan_assumptions.itertuples():
        if str(row.item).startswith("tier ") or row.item == "classification":
            console.print(f"  {plain(row.item)}: {plain(row.text)}", highlight=False)
    quarters = result.table[result.table["plan"] == "optimised"]
    table = Table(title="Optimised plan: CSMs needed by quarter, P50 / P90 (hires; cost)", header_style="bold")
    table.add_column("quarter", no_wrap=True)
    tiers = list(dict.fromkeys(quarters["tier"]))
    for tier in tiers:
        table.add_column(plain(tier), justify="right", no_wrap=True)
    for (quarter, months), rows in quarters.groupby(["quarter", "months"], sort=True):
        cells = [f"Q{quarter} {plain(months)}"]
        for tier in tiers:
            row = rows[rows["tier"] == tier].iloc[0]
            cell = f"{row.csms_needed_p50:,} / {row.csms_needed_p90:,} ({row.hires:,}"
            cells.append(cell + (f"; {money(row.cost)})" if tier == ALL_TIERS else ")"))
        table.add_row(*cells)
    console.print(table)
    roi = result.cs_plan_roi[result.cs_plan_roi["tier"] == ALL_TIERS]
    compare = Table(title="Expected net gain over no customer success (discounted, 90% interval)",
                    header_style="bold")
    for column in ("plan", "net gain", "90% interval", "CS cost", "ROI", "peak CSMs", "within cap"):
        compare.add_column(column, justify="left" if column == "plan" else "right", no_wrap=True)
    for row in roi.itertuples():
        compare.add_row(plain(row.plan), money(row.net_gain_mean),
                        f"{money(row.net_gain_lower_90)} .. {money(row.net_gain_upper_90)}", money(row.cs_cost_mean),
                        ratio(row.roi), count(row.peak_csms_expected), "yes" if row.within_cap else "no")
    console.print(compare)
    manifest = result.manifest
    console.print(f"cap: {plain(manifest['cap'])}; {manifest['optimiser_evaluations']:,} assignments tried"
                  + ("; the cap binds" if manifest.get("cap_binding") else ""), highlight=False)
    console.print(f"wrote {plain(out)}/", highlight=False)
