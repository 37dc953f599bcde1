"""Pieces every command shares: the CONFIG-or-FILE argument, quick-form flags, printing.

Flags default to ``None`` so a flag the user did not type never overrides the config.
Nothing heavy is imported at module level.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
from pathlib import Path

import click

CONFIG_SUFFIXES = (".yaml", ".yml")


def source_argument(function):
    """``SOURCE``: a YAML config, or a data file (CSV, Parquet, XLSX) with quick-form flags."""
    options = [
        click.argument("source", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--id-col", default=None, help="Quick form: customer id column."),
        click.option("--tenure-col", default=None, help="Quick form: tenure in whole months."),
        click.option("--event-col", default=None, help="Quick form: churned flag (Yes/No, true/false, 1/0)."),
        click.option("--signup-col", default=None, help="Quick form: signup date column."),
        click.option("--churn-col", default=None, help="Quick form: churn date column (blank = active)."),
        click.option("--as-of", default=None, help="Quick form: valuation date YYYY-MM-DD (date shape)."),
        click.option("--mrr-col", default=None, help="Quick form: monthly recurring revenue column."),
        click.option("--delimiter", default=None, help="Quick form: CSV delimiter (default: detected)."),
        click.option(
            "--segment-by", "segment_by", multiple=True,
            help="Segment by this column (repeat or comma-separate for combined keys).",
        ),
        click.option("--min-customers", type=int, default=None, help="Merge smaller segments into 'other'."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


#: Config fields the executor flags stand in for, so problems name the flag typed.
EXECUTOR_FIELDS = {
    "executor": "--executor", "executor.kind": "--executor", "executor.scheduler": "--scheduler", "executor.workers": "--workers",
    "executor.chunk_replications": "--chunk-replications",
}


def executor_options(function):
    """``--executor``, ``--scheduler``, ``--workers``, ``--chunk-replications``: where the
    command's simulations run. The command receives them as one ``executor`` argument,
    the overrides of the config's ``executor:`` section (:func:`executor_settings`), for
    ``Project.with_settings(executor=...)``."""
    options = [
        click.option("--executor", "executor_kind", type=click.Choice(["local", "dask", "dask-local"]), default=None,
                     help="Where simulations run: here (local), on the Dask cluster of --scheduler (dask), or on "
                          "Dask workers started here (dask-local). Default: the config's executor section, else "
                          "local. Results are identical on every executor."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Address of a running Dask scheduler, tcp://HOST:PORT (implies --executor dask)."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="With --executor dask-local: worker processes to start (default: this machine's cores)."),
        click.option("--chunk-replications", type=click.IntRange(min=1), default=None,
                     help="Replications per work unit (default 250); never changes results."),
    ]

    @functools.wraps(function)
    def command(*args, executor_kind=None, scheduler=None, workers=None, chunk_replications=None, **kwargs):
        return function(*args, executor=executor_settings(executor_kind, scheduler, workers, chunk_replications),
                        **kwargs)

    for option in reversed(options):
        command = option(command)
    return command


def executor_settings(kind: str | None = None, scheduler: str | None = None, workers: int | None = None,
                      chunk_replications: int | None = None) -> dict:
    """The ``executor:`` fields the flags set (``None`` = not typed, the config's value
    stands). ``--scheduler`` alone means ``--executor dask``: a flag wins over the file,
    even over its ``kind: dask-local``."""
    if scheduler is not None and kind is None:
        kind = "dask"
    return {"kind": kind, "scheduler": scheduler, "workers": workers, "chunk_replications": chunk_replications}


QUICK_FLAGS = ("id_col", "tenure_col", "event_col", "signup_col", "churn_col", "as_of", "mrr_col", "delimiter")

#: Config fields the quick-form flags stand in for, so problems name the flag typed.
QUICK_FIELDS = {
    "data.columns.id": "--id-col", "data.columns.tenure": "--tenure-col", "data.columns.churned": "--event-col",
    "data.columns.signup": "--signup-col", "data.columns.churn": "--churn-col", "data.columns.mrr": "--mrr-col",
    "data.as_of": "--as-of", "data.delimiter": "--delimiter", "segments.min_customers": "--min-customers",
    "segments.by.*": "--segment-by",
}


@contextlib.contextmanager
def flag_names(mapping: dict[str, str]):
    """Re-raise a library error with the fields in ``mapping`` named by the command-line
    flag that set them. A key ending in ``.*`` also covers the fields under it. Problems
    located in a file (with a line) came from the config, not from a flag, and keep their
    field."""
    from simcore.errors import SimcoreError

    try:
        yield
    except SimcoreError as error:
        def renamed(problem):
            if problem.line is not None or problem.field is None:
                return problem
            for field, flag in mapping.items():
                prefix = field.removesuffix(".*")
                if problem.field == prefix or (field.endswith(".*") and problem.field.startswith(prefix + ".")):
                    return dataclasses.replace(problem, field=flag)
            return problem

        raise type(error)([renamed(p) for p in error.problems], total=error.total) from None


def _quick_shape_problems(flags: dict) -> list:
    """The quick form's shape, checked in the flags' own words."""
    from simcore.errors import Problem

    tenure = flags.get("tenure_col") is not None or flags.get("event_col") is not None
    dates = flags.get("signup_col") is not None or flags.get("churn_col") is not None
    if tenure and dates:
        return [Problem("--tenure-col/--event-col and --signup-col/--churn-col describe different file shapes",
                        "give either the tenure pair or the date columns, not both")]
    if tenure and (flags.get("tenure_col") is None or flags.get("event_col") is None):
        missing = "--tenure-col" if flags.get("tenure_col") is None else "--event-col"
        return [Problem(f"{missing} is missing", "the tenure shape needs --tenure-col and --event-col")]
    if dates and flags.get("signup_col") is None:
        return [Problem("--signup-col is missing", "the date shape needs --signup-col (and --churn-col for churn dates)")]
    if not tenure and not dates:
        return [Problem("the file's shape is not given",
                        "add --tenure-col C --event-col C (tenure in months and a churned flag) or "
                        "--signup-col C [--churn-col C] [--as-of YYYY-MM-DD] (dates)")]
    return []


def build_project(source: Path, **flags):
    """The :class:`simcore.Project` of SOURCE: a YAML config, or a data file plus the
    quick-form flags."""
    from simcore import Project
    from simcore.errors import ConfigError, Problem

    segment_by = [part.strip() for value in flags.pop("segment_by", ()) or () for part in value.split(",")
                  if part.strip()]
    min_customers = flags.pop("min_customers", None)
    segments = {"by": segment_by or None, "min_customers": min_customers}
    if source.suffix.lower() in CONFIG_SUFFIXES:
        typed = [f"--{name.replace('_', '-')}" for name in QUICK_FLAGS if flags.get(name) is not None]
        if typed:
            raise ConfigError(Problem(
                f"{', '.join(typed)} apply to a data file, not to a config",
                f"set the columns under data.columns in {source} instead",
            ))
        with flag_names(QUICK_FIELDS):
            return Project.from_config(source).with_settings(segments=segments)
    problems = [] if source.exists() else [Problem("file not found", "check the path", source=str(source))]
    problems += _quick_shape_problems(flags)
    if problems:
        raise ConfigError(problems)
    columns = {"id": flags.get("id_col"), "tenure": flags.get("tenure_col"), "churned": flags.get("event_col"),
               "signup": flags.get("signup_col"), "churn": flags.get("churn_col"), "mrr": flags.get("mrr_col")}
    with flag_names(QUICK_FIELDS):
        return Project.from_file(source, columns={k: v for k, v in columns.items() if v is not None},
                                 as_of=flags.get("as_of"), delimiter=flags.get("delimiter"),
                                 segments={k: v for k, v in segments.items() if v is not None} | {"by": segment_by})


def print_warnings(problems) -> None:
    for problem in problems:
        click.echo(f"warning: {problem.format()}", err=True)


def plain(text) -> str:
    """Text from data or a config, made safe for a rich console: markup-like brackets
    escaped (a segment called ``[/bold]`` is printed, not interpreted, and cannot end
    the program after its results are written) and URL credentials hidden."""
    from rich.markup import escape

    from simcore.errors import redact

    return escape(redact(str(text)))


def make_console(stderr: bool = False):
    """A rich console: colour only on a terminal and when NO_COLOR is unset; no emoji
    codes (``:smile:`` in a label stays text)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    no_color = bool(os.environ.get("NO_COLOR")) or not terminal
    # Piped output (files, CI logs) gets a wide fixed width instead of rich's 80 columns,
    # so tables are never squeezed into truncated headers.
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False, emoji=False,
                   width=None if terminal else 160)


def render_table(frame, title: str | None = None, formats: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
    """A rich Table of a DataFrame with per-column number formats and display headers;
    text cells and the title are printed as they are (:func:`plain`)."""
    from rich.table import Table

    formats = formats or {}
    headers = headers or {}
    table = Table(title=None if title is None else plain(title), show_lines=False, header_style="bold")
    for column in frame.columns:
        numeric = frame[column].dtype.kind in "iuf"
        table.add_column(plain(headers.get(column, str(column))), justify="right" if numeric else "left", no_wrap=True)
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            if value is None or (isinstance(value, float) and value != value):
                cells.append("")
            elif column in formats:
                cells.append(format(value, formats[column]))
            elif isinstance(value, float):
                cells.append(f"{value:,.2f}")
            elif isinstance(value, int) and not isinstance(value, bool):
                cells.append(f"{value:,}")
            else:
                cells.append(plain(value))
        table.add_row(*cells)
    return table


def echo_json(value) -> None:
    from simcore.outputs.jsonio import dumps

    click.echo(dumps(value))
