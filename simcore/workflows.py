"""The library calls behind each CLI command: load, segment, fit, simulate, write.

Each function takes a validated :class:`simcore.config.Config` and returns data; none
prints. The CLI is a thin shell over these.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from simcore.config import Config
from simcore.errors import Problem


@dataclass(frozen=True)
class SegmentedBook:
    """A loaded customer book with its ``segment`` column, and every warning so far."""

    config: Config
    book: "object"  # simcore.data.CustomerBook, imported lazily (pandas-heavy module)
    merged_segments: dict[str, int]
    warnings: tuple[Problem, ...]

    @property
    def customers(self) -> pd.DataFrame:
        return self.book.customers


def load_segmented_book(config: Config) -> SegmentedBook:
    """Load and validate the customer book, then assign segments."""
    from simcore.data import load_book
    from simcore.segments import SEGMENT_COLUMN, assign_segments

    book = load_book(config.data, config.base_dir)
    assignment = assign_segments(book.customers, config.segments, source=book.source)
    customers = book.customers.assign(**{SEGMENT_COLUMN: assignment.labels.to_numpy()})
    book = replace(book, customers=customers)
    return SegmentedBook(
        config=config,
        book=book,
        merged_segments=assignment.merged,
        warnings=tuple(book.warnings) + assignment.warnings,
    )


def segment_report(config: Config) -> tuple[SegmentedBook, pd.DataFrame]:
    """Load, segment and summarise: what ``simcore segments`` shows."""
    from simcore.segments import segment_summary

    segmented = load_segmented_book(config)
    return segmented, segment_summary(segmented.customers)


def write_demo_workspace(directory, *, customers: int | None = None, seed: int | None = None, force: bool = False):
    """Write the example workspace into ``directory`` atomically; returns the file paths."""
    from pathlib import Path

    from simcore.demo import write_demo
    from simcore.outputs import atomic_directory

    options = {k: v for k, v in {"customers": customers, "seed": seed}.items() if v is not None}
    directory = Path(directory)
    with atomic_directory(directory, force=force) as staging:
        write_demo(staging, **options)
        names = sorted(p.name for p in staging.iterdir())
    return [directory / name for name in names]
