"""Pieces every command shares: the CONFIG-or-FILE argument, quick-form flags, printing.

Flags default to ``None`` so a flag the user did not type never overrides the config.
Nothing heavy is imported at module level.
"""

from __future__ import annotations

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


QUICK_FLAGS = ("id_col", "tenure_col", "event_col", "signup_col", "churn_col", "as_of", "mrr_col", "delimiter")


def build_config(source: Path, **flags):
    """The validated Config for SOURCE: a YAML file, or a data file plus quick flags."""
    from simcore.config import load_config, quick_config, with_overrides
    from simcore.errors import ConfigError, Problem

    segment_by = [part.strip() for value in flags.pop("segment_by", ()) or () for part in value.split(",") if part.strip()]
    min_customers = flags.pop("min_customers", None)
    if source.suffix.lower() in CONFIG_SUFFIXES:
        typed = [f"--{name.replace('_', '-')}" for name in QUICK_FLAGS if flags.get(name) is not None]
        if typed:
            raise ConfigError(Problem(
                f"{', '.join(typed)} apply to a data file, not to a config",
                f"set the columns under data.columns in {source} instead",
            ))
        config = load_config(source)
        return with_overrides(
            config, segments={"by": segment_by or None, "min_customers": min_customers}
        )
    problems = [] if source.exists() else [Problem("file not found", "check the path", source=str(source))]
    try:
        config = quick_config(
            source, segment_by=segment_by, min_customers=min_customers, **{k: flags.get(k) for k in QUICK_FLAGS}
        )
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return config


def print_warnings(problems) -> None:
    for problem in problems:
        click.echo(f"warning: {problem.format()}", err=True)


def make_console(stderr: bool = False):
    """A rich console: colour only on a terminal and when NO_COLOR is unset."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    no_color = bool(os.environ.get("NO_COLOR")) or not terminal
    # Piped output (files, CI logs) gets a wide fixed width instead of rich's 80 columns,
    # so tables are never squeezed into truncated headers.
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False, width=None if terminal else 160)


def render_table(frame, title: str | None = None, formats: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
    """A rich Table of a DataFrame with per-column number formats and display headers."""
    from rich.table import Table

    formats = formats or {}
    headers = headers or {}
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in frame.columns:
        numeric = frame[column].dtype.kind in "iuf"
        table.add_column(headers.get(column, str(column)), justify="right" if numeric else "left", no_wrap=True)
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
                cells.append(str(value))
        table.add_row(*cells)
    return table


def write_table(frame, path: Path) -> None:
    """Write a DataFrame as CSV or JSON by the file's extension."""
    from simcore.errors import OutputError, Problem

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise OutputError(Problem(f"cannot write '{suffix}' files", "use a .csv or .json file name", source=str(path)))
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_json(path, orient="records", indent=2)
    except OSError as error:
        raise OutputError(Problem(f"cannot write the file ({error.strerror or error})", "check the folder exists and is writable",
                                  source=str(path))) from None


def strict_json(value):
    """``value`` with NaN and infinities replaced by None, so ``json.dumps(...,
    allow_nan=False)`` gives JSON every parser accepts (jq, JavaScript)."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [strict_json(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def echo_json(value) -> None:
    import json

    click.echo(json.dumps(strict_json(value), indent=2, allow_nan=False))
