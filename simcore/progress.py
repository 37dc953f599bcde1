"""Progress reporting shared by the multi-step commands (run, plan-cs, backtest, sensitivity)."""

from __future__ import annotations

from typing import Callable

#: ``progress(label, done, total)``: called after each step of a command.
Progress = Callable[[str, int, int], None]


class Steps:
    """Counts a command's steps and reports each to ``progress`` (if any)."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def advance(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, self.done, self.total)
