"""Console rendering of a run: progress while it works, a summary when it is done.

The summary uses the whole width when there is room (one table, intervals inline) and a
narrower layout otherwise: intervals under their estimate, the existing base in a table
of its own, scenarios grouped, so that at 80 columns every header and status word is
shown whole. Everything else is in the files.
"""

from __future__ import annotations

import contextlib
import time

from simcore.cli.common import plain
from simcore.outputs.numbers import better_in, count, estimate, flag, money, months, ratio, share

STATUS_STYLE = {"profitable": "green", "marginal": "yellow", "margin-draining": "bold red", "no CAC given": "dim"}
TOTAL = "(all segments)"
#: Prefix of the steps that simulate one scenario (as :meth:`simcore.Project.simulate` names them).
SIMULATION_STEP = "simulated "


# ------------------------------------------------------------------------- progress


class RemainingTime:
    """An estimate of the time a run has left, from the steps done so far.

    The simulation steps dominate a run and take about as long as each other, so what is
    left is the number of steps left times the duration of the last simulation step
    (the first one also compiles kernels on a new machine, so the latest is the better
    guide), less the time already spent on the current step. A progress callback that
    reports fractions of a step (``done = 4.5``: halfway through step 5, as a
    per-replication-block callback of the engine would) refines the current step's part.

    Parameters
    ----------
    clock : callable
        Seconds, monotonic (tests pass a fake).
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started = clock()
        self.step_started = self.started
        self.step_seconds: float | None = None
        self.done = 0.0
        self.total = 0
        self.last_step_seconds = 0.0

    def update(self, label: str, done: float, total: int) -> None:
        """Record progress ``done`` of ``total`` steps; a whole ``done`` finishes ``label``."""
        now = self.clock()
        self.total = total
        if float(done).is_integer() and done > self.done:
            self.last_step_seconds = now - self.step_started
            if label.startswith(SIMULATION_STEP):
                self.step_seconds = self.last_step_seconds
            self.step_started = now
        self.done = float(done)

    def remaining(self) -> float | None:
        """Seconds left, or ``None`` before any simulation step has finished."""
        if self.step_seconds is None:
            return None
        now = self.clock()
        whole = int(self.done)
        fraction = self.done - whole
        in_step = now - self.step_started
        if fraction > 0:
            current = in_step * (1.0 - fraction) / fraction
        else:
            current = max(self.step_seconds - in_step, 0.0)
        left_after = max(self.total - whole - 1, 0)
        return current + left_after * self.step_seconds if whole < self.total else 0.0


def _left_text(seconds: float | None) -> str:
    """``about 2:30 left``; before any simulation step has finished there is nothing to go
    on, and a step that runs over its estimate is "finishing" rather than "0 s left"."""
    if seconds is None:
        return "estimating time left"
    if seconds < 1:
        return "finishing"
    seconds = int(round(seconds))
    return f"about {seconds // 60}:{seconds % 60:02d} left" if seconds >= 60 else f"about {seconds} s left"


@contextlib.contextmanager
def writing_progress(console, *, enabled: bool):
    """While the results are written (tables, workbook, plots, report: seconds, not
    minutes): a spinner on a terminal, one timed line elsewhere."""
    if not enabled:
        yield
        return
    started = time.monotonic()
    if console.is_terminal:
        with console.status("writing tables, plots and files"):
            yield
    else:
        yield
    console.print(f"wrote the results ({time.monotonic() - started:.1f} s)", markup=False, highlight=False)


@contextlib.contextmanager
def run_progress(console, *, enabled: bool):
    """Yield ``(progress_callback, on_compile_callback)`` for :meth:`simcore.Project.simulate`.

    On a terminal: a live line with a spinner, the step, a bar, the elapsed time and an
    estimate of the time left (:class:`RemainingTime`), with each finished step printed
    above it. Elsewhere (logs, CI): one ``[n/N] step (seconds)`` line per finished step.
    The callback is ``progress(label, done, total)``; ``done`` may be fractional.
    """
    if not enabled:
        yield None, None
        return
    estimate_left = RemainingTime()

    def on_compile() -> None:
        console.print("compiling simulation kernels (first run on this machine only; can take a minute).")

    if not console.is_terminal:
        def step(label: str, done: float, total: int) -> None:
            estimate_left.update(label, done, total)
            if float(done).is_integer():
                console.print(f"[{int(done)}/{total}] {plain(label)} ({estimate_left.last_step_seconds:.1f} s)",
                              markup=False, highlight=False)

        yield step, on_compile
        return
    from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class LeftColumn(ProgressColumn):
        # Redrawn on every refresh, so the estimate counts down between callbacks.
        def render(self, task) -> Text:
            return Text(_left_text(estimate_left.remaining()), style="progress.remaining")

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24),
                  TimeElapsedColumn(), LeftColumn(), console=console, transient=True) as bar:
        task = bar.add_task("loading", total=None)

        def step(label: str, done: float, total: int) -> None:
            estimate_left.update(label, done, total)
            if float(done).is_integer():
                bar.console.print(f"[{int(done)}/{total}] {plain(label)} "
                                  f"({estimate_left.last_step_seconds:.1f} s)", highlight=False)
            working = min(int(done) + 1, total)
            bar.update(task, description=f"step {working}/{total}", completed=done, total=total)

        yield step, on_compile


# -------------------------------------------------------------------------- summary


def _status(status) -> str:
    status = str(status)
    style = STATUS_STYLE.get(status)
    return f"[{style}]{plain(status)}[/]" if style else plain(status)


def _rows(summary):
    """Segments in order with the blended row last: (label, new row or None, existing row or None)."""
    new = summary[summary["population"] == "new"].set_index("segment")
    existing = summary[summary["population"] == "existing"].set_index("segment")
    segments = sorted(s for s in dict.fromkeys([*new.index, *existing.index]) if s != TOTAL)
    out = []
    for segment in [*segments, *([TOTAL] if TOTAL in new.index or TOTAL in existing.index else [])]:
        row = new.loc[segment] if segment in new.index else None
        if row is not None and (row.get("status") == "no customers" or "unit_profit_mean" not in row):
            row = None
        base = existing.loc[segment] if segment in existing.index else None
        out.append(("all (blended)" if segment == TOTAL else str(segment), row, base))
    return out


def _payback(row) -> str:
    return months(row.get("payback_months_p50"), never=flag(row.get("payback_never")))


def _interval(row, prefix: str) -> str:
    return f"[{money(row[f'{prefix}_mean_lower_90'])} .. {money(row[f'{prefix}_mean_upper_90'])}]"


def _wide_tables(summary, title: str, caption: str):
    from rich.table import Table

    table = Table(title=title, caption=caption, header_style="bold")
    for column in ("segment", "new: unit profit, mean [90%]", "LTV:CAC", "payback (months)", "P(loss)", "status",
                   "existing: value, mean [90%]"):
        table.add_column(column, justify="left" if column in ("segment", "status") else "right", no_wrap=True)
    for name, row, base in _rows(summary):
        if row is not None:
            cells = [plain(estimate(row["unit_profit_mean"], row["unit_profit_mean_lower_90"],
                                     row["unit_profit_mean_upper_90"])),
                     ratio(row.get("ltv_to_cac")), _payback(row), share(row.get("p_unit_profit_negative")),
                     _status(row["status"])]
        else:
            cells = ["", "", "", "", "no new customers"]
        value = plain(estimate(base["total_value_mean"], base["total_value_mean_lower_90"],
                                base["total_value_mean_upper_90"])) if base is not None and "total_value_mean" in base \
            else ""
        if name == "all (blended)":
            table.add_section()
        table.add_row(plain(name), *cells, value)
    return [table]


def _narrow_tables(summary, title: str, caption: str):
    from rich import box
    from rich.table import Table

    new = Table(title=title, caption=caption, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                show_edge=False)
    new.add_column("segment", overflow="fold")
    new.add_column("unit profit [90%]", justify="right", no_wrap=True)
    for column in ("LTV:CAC", "payback", "P(loss)"):
        new.add_column(column, justify="right", no_wrap=True)
    new.add_column("status", no_wrap=True)
    existing = Table(title="Existing customers: remaining value (acquisition cost already spent)",
                     header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    existing.add_column("segment", overflow="fold")
    for column in ("customers", "value, mean", "[90% interval]"):
        existing.add_column(column, justify="right", no_wrap=True)
    existing.add_column("status", no_wrap=True)
    for name, row, base in _rows(summary):
        if name == "all (blended)":
            new.add_section()
            existing.add_section()
        if row is not None:
            new.add_row(plain(name), f"{money(row['unit_profit_mean'])}\n{plain(_interval(row, 'unit_profit'))}",
                        ratio(row.get("ltv_to_cac")), _payback(row), share(row.get("p_unit_profit_negative")),
                        _status(row["status"]))
        if base is not None and "total_value_mean" in base:
            existing.add_row(plain(name), count(base.get("customers")), money(base["total_value_mean"]),
                             plain(_interval(base, "total_value")), _status(base["status"]))
    return [new, existing]


def _scenario_tables(comparison, wide: bool):
    from rich import box
    from rich.table import Table

    title = "Scenarios vs baseline: change in value (existing base + new cohorts, discounted), paired by replication"
    if wide:
        table = Table(title=title, header_style="bold")
        for column in ("scenario", "segment", "baseline", "scenario value", "change, mean", "P5 .. P95", "P(better)"):
            table.add_column(column, justify="left" if column in ("scenario", "segment") else "right", no_wrap=True)
    else:
        table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
        table.add_column("scenario / segment", overflow="fold")
        for column in ("change, mean", "P5 .. P95", "P(better)"):
            table.add_column(column, justify="right", no_wrap=True)
    for scenario, rows in comparison.groupby("scenario", sort=False):
        ordered = [*[r for r in rows.itertuples() if r.segment != TOTAL], *[r for r in rows.itertuples()
                                                                            if r.segment == TOTAL]]
        if not wide and ordered and ordered[-1].segment == TOTAL:
            ordered = [ordered[-1], *ordered[:-1]]
        for i, row in enumerate(ordered):
            colour = "green" if row.delta_p5 > 0 else "red" if row.delta_p95 < 0 else ""
            change = money(row.delta_mean, signed=True)
            change = f"[{colour}]{change}[/]" if colour else change
            spread = f"{money(row.delta_p5, signed=True)} .. {money(row.delta_p95, signed=True)}"
            if wide:
                table.add_row(plain(row.scenario), plain(row.segment), money(row.baseline_value_mean),
                              money(row.scenario_value_mean), change, spread, better_in(row.p_delta_positive, row.delta_p5, row.delta_p95),
                              end_section=i == len(ordered) - 1)
            else:
                name = f"[bold]{plain(row.scenario)}[/] (total)" if row.segment == TOTAL else f"  {plain(row.segment)}"
                table.add_row(name, change, spread, better_in(row.p_delta_positive, row.delta_p5, row.delta_p95), end_section=i == len(ordered) - 1)
    return table


def _fits(console, renderables) -> bool:
    """Whether the tables fit the console's width without shrinking a column."""
    from rich.measure import Measurement

    # Measured as if the console were unlimited: a measurement is clamped to the width
    # it is given, so against the console's own width everything would "fit".
    unlimited = console.options.update_width(100_000)
    return all(Measurement.get(console, unlimited, r).maximum <= console.width for r in renderables)


def print_run_summary(console, result, out) -> None:
    """Per segment: new customers' expected unit profit with its 90% interval, LTV:CAC,
    payback, P(loss), status in colour; the existing base's expected remaining value;
    the blended row; then every scenario's paired change against the baseline. The
    layout follows the console's width (see the module notes).

    Parameters
    ----------
    console : rich Console
    result
        A :class:`~simcore.results.RunResult` (``tables``, ``manifest``, ``config.name``).
    out : path
        Where the run was written (printed last).
    """
    manifest = result.manifest
    currency = result.config.economics.currency
    summary = result.tables["segment_summary"]
    title = plain(f"{result.config.name}: unit economics per segment (baseline, "
                   f"{manifest['replications']:,} replications, seed {manifest['seed']}"
                   + (f", amounts in {currency}" if currency else "") + ")")
    caption = plain("[a .. b] = 90% interval of the expected value; unit profit = LTV - CAC - onboarding per new "
                     "customer; payback = median months to repay CAC + onboarding; P(loss) = share of new customers "
                     "whose unit profit is below 0")
    tables = _wide_tables(summary, title, caption)
    wide = _fits(console, tables)
    if not wide:
        tables = _narrow_tables(summary, title, caption)
    for table in tables:
        console.print(table)
    comparison = result.tables.get("scenario_comparison")
    if comparison is not None and len(comparison):
        table = _scenario_tables(comparison, wide=True)
        console.print(table if _fits(console, [table]) else _scenario_tables(comparison, wide=False))
    console.print(f"results in {plain(out)}/ ({plain(', '.join(manifest['scenarios']))})")
