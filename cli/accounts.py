"""`simcore accounts`: every active account's expected profit, lifetime and class."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: runs/<config name>-accounts).")
@click.option("--replications", type=click.IntRange(min=1), default=None, help="Override simulation.replications.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override simulation.seed.")
@click.option("--format", "formats", default="csv", show_default=True,
              help="Comma-separated output formats: csv, parquet, xlsx, json.")
@click.option("--force", is_flag=True, help="Replace the output directory if it exists (only one simcore wrote).")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest and the summary as JSON on stdout.")
def accounts(config_path: Path, out: Path | None, replications: int | None, seed: int | None, formats: str,
             force: bool, quiet: bool, as_json: bool) -> None:
    """Value every active account of CONFIG: expected profit (discounted contribution over
    the horizon on its tenure-conditional curve) with its 90% interval across
    replications, expected remaining lifetime, and its class — core, growth or
    cautionary (the rule is printed and written). Writes accounts, accounts_summary,
    rules and manifest.json into a fresh directory.

    \b
    Example:
      simcore accounts scenarios/demo/config.yaml --format csv,xlsx \\
          --out runs/accounts
    """
    from simcore import Project
    from simcore.cli.common import flag_names, make_console, plain, print_warnings, render_table
    from simcore.outputs import check_formats, prepare_target

    with flag_names({"simulation.replications": "--replications", "simulation.seed": "--seed",
                     "formats": "--format"}):
        project = Project.from_config(config_path)
        wanted = check_formats(formats)
        out = out if out is not None else Path("runs") / f"{project.config.name}-accounts"
        prepare_target(out, force=force)
        result = project.accounts(replications=replications, seed=seed)
        result.write(out, formats=wanted, force=force)
    if not quiet:
        print_warnings(result.warnings)
    summary = result.tables["accounts_summary"]
    if as_json:
        from simcore.cli.common import echo_json

        echo_json({"manifest": result.manifest, "output": str(out), "summary": summary.to_dict(orient="records")})
    elif not quiet:
        console = make_console()
        shown = summary.drop(columns=["expected_remaining_lifetime_months"])
        console.print(render_table(shown, title="Active accounts by segment and class",
                                   formats={"mrr": ",.0f", "expected_profit": ",.0f",
                                            "expected_profit_per_account": ",.0f"}))
        console.print(f"rule: {plain(result.rule_text)}", highlight=False)
        console.print(f"wrote {plain(out)}/ ({len(result.table):,} accounts)", highlight=False)
