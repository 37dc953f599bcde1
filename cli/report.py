"""Console rendering of a run: progress while it works, a summary when it is done."""

from __future__ import annotations

import contextlib

from simcore.cli.common import plain

STATUS_STYLE = {"profitable": "green", "marginal": "yellow", "margin-draining": "bold red", "no CAC given": "dim"}
TOTAL = "(all segments)"


@contextlib.contextmanager
def run_progress(console, *, enabled: bool):
    """Yield ``(progress_callback, on_compile_callback)``; a rich progress bar on stderr
    when enabled and the console is a terminal, one line per step otherwise."""
    if not enabled:
        yield None, None
        return

    def on_compile() -> None:
        console.print("compiling simulation kernels (first run on this machine only; can take a minute).")

    if not console.is_terminal:
        def step(label: str, done: int, total: int) -> None:
            console.print(f"[{done}/{total}] {plain(label)}")

        yield step, on_compile
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def step(label: str, done: int, total: int) -> None:
            bar.update(task, description=plain(label), completed=done, total=total)

        yield step, on_compile


def _money(value: float) -> str:
    import math

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "never" if value == float("inf") else ""
    if abs(value) >= 1_000_000:
        return f"{value / 1e6:,.1f}M"
    text = f"{value:,.0f}"
    return "0" if text == "-0" else text  # a small negative rounds to zero, not to "-0"


def _estimate(row, prefix: str) -> str:
    """``mean [lower .. upper]``: an expected value with its 90% interval."""
    from rich.markup import escape

    return escape(f"{_money(row[f'{prefix}_mean'])} "
                  f"[{_money(row[f'{prefix}_mean_lower_90'])} .. {_money(row[f'{prefix}_mean_upper_90'])}]")


def print_run_summary(console, result, out) -> None:
    """Per segment: new customers' expected unit profit with its 90% interval, LTV:CAC,
    payback, P(loss), status in colour; the existing base's expected remaining value;
    the blended row; then every scenario's paired delta to the baseline."""
    from rich.markup import escape
    from rich.table import Table

    summary = result.tables["segment_summary"]
    new = summary[summary["population"] == "new"].set_index("segment")
    existing = summary[summary["population"] == "existing"].set_index("segment")
    table = Table(title=f"{plain(result.config.name)}: unit economics per segment (baseline, "
                        f"{result.manifest['replications']:,} replications, seed {result.manifest['seed']})",
                  caption=escape("[a .. b] = 90% interval of the expected value; P(loss) = share of new "
                                 "customers whose unit profit is below 0"), header_style="bold")
    for column in ("segment", "new: unit profit, mean", "LTV:CAC", "payback P50 (months)",
                   "P(loss)", "status", "existing: value, mean"):
        table.add_column(column, justify="left" if column in ("segment", "status") else "right", no_wrap=True)
    segments = [s for s in dict.fromkeys([*new.index, *existing.index]) if s != TOTAL]
    for segment in [*sorted(segments), *([TOTAL] if TOTAL in new.index else [])]:
        row = new.loc[segment] if segment in new.index else None
        base = existing.loc[segment] if segment in existing.index else None
        if row is not None and "unit_profit_mean" in row and row.get("status") != "no customers":
            status = str(row["status"])
            cells = [
                _estimate(row, "unit_profit"),
                f"{row['ltv_to_cac']:.1f}" if row["ltv_to_cac"] == row["ltv_to_cac"] else "",
                _money(row["payback_months_p50"]),
                f"{row['p_unit_profit_negative']:.0%}",
                f"[{STATUS_STYLE.get(status, '')}]{status}[/]" if status in STATUS_STYLE else plain(status),
            ]
        else:
            cells = ["", "", "", "", "no new customers"]
        cells.append(_estimate(base, "total_value") if base is not None and "total_value_mean" in base else "")
        table.add_row("all (blended)" if segment == TOTAL else plain(segment), *cells)
    console.print(table)

    comparison = result.tables.get("scenario_comparison")
    if comparison is not None and len(comparison):
        deltas = Table(title="Scenarios vs baseline: change in value (existing base + new cohorts, "
                             "discounted to the start), paired by replication", header_style="bold")
        for column in ("scenario", "segment", "baseline", "scenario value", "change P50", "P5 .. P95", "P(better)"):
            deltas.add_column(column, justify="left" if column in ("scenario", "segment") else "right", no_wrap=True)
        for row in comparison.itertuples():
            colour = "green" if row.delta_p5 > 0 else "red" if row.delta_p95 < 0 else ""
            change = _money(row.delta_p50)
            deltas.add_row(plain(row.scenario), plain(row.segment), _money(row.baseline_value_mean), _money(row.scenario_value_mean),
                           f"[{colour}]{change}[/]" if colour else change,
                           f"{_money(row.delta_p5)} .. {_money(row.delta_p95)}", f"{row.p_delta_positive:.0%}")
        console.print(deltas)
    console.print(f"results in {plain(out)}/ ({plain(', '.join(result.manifest['scenarios']))})")
