"""Sweep points through the executor: compile each point, simulate, reduce, forget.

Every point of every analysis is a compiled book simulated with the same seed and
replications, so points share random numbers (common random numbers): the same
parameter draw, lifetimes' uniforms and MRR paths in every point, and a paired
difference between two points is the levers' effect. Points go to
:func:`simcore.executors.simulate_books` in batches (``batch_points``), so any executor
can take them, and each batch's accumulators are reduced to what the analysis keeps
(per-replication metrics, monthly paths) before the next batch, which bounds memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from simcore.config.scenarios import ScenarioConfig
from simcore.progress import Progress


class _Draws:
    """A retention model whose survival draws are computed once per request: every
    point of a sweep asks for the same draws (same seed), so they are reused."""

    def __init__(self, model):
        self.model = model
        self._cache: dict = {}

    def survival_draws(self, n_draws, n_months, seed, method=None):
        key = (int(n_draws), int(n_months), int(seed), method)
        if key not in self._cache:
            self._cache[key] = np.asarray(self.model.survival_draws(n_draws, n_months, seed=seed, method=method))
        return self._cache[key]


@dataclass
class Sweep:
    """The settings every point of a sensitivity analysis shares.

    Build it with :meth:`of`; :meth:`run` simulates points.

    Attributes
    ----------
    replications, seed : int
    executor : Executor or None
        Where the work units run (default: here).
    chunk_replications : int
        Replications per work unit (never changes results).
    batch_points : int
        Points per call of the executor.
    progress : callable or None
        ``progress(label, done, total)`` after each point.
    """

    project: Any
    fits: dict
    economics: Any
    dynamics: Any
    replications: int
    seed: int
    executor: Any = None
    chunk_replications: int | None = None
    batch_points: int = 16
    progress: Progress | None = None
    points_done: int = 0
    points_total: int = 0

    @classmethod
    def of(cls, project, *, replications: int, seed: int, executor=None, chunk_replications: int | None = None,
           batch_points: int = 16, progress: Progress | None = None) -> "Sweep":
        fit = project.fit()
        fits = {name: _Draws(result.survival_model()) for name, result in fit.fits.results.items()}
        return cls(project, fits, project.economics(), fit.dynamics, int(replications), int(seed), executor,
                   chunk_replications, int(batch_points), progress)

    def compile(self, scenario: ScenarioConfig):
        """The compiled book of one point (an effective scenario)."""
        from simcore.engine.compile import compile_book
        from simcore.scenarios import levers_of

        config = self.project.config
        book = self.project.book()
        levers = levers_of(scenario, book.segments, config.horizon_months, self.economics)
        return compile_book(self.fits, book.customers, self.economics.economics, dynamics=self.dynamics,
                            levers=levers, replications=self.replications, seed=self.seed,
                            horizon_months=config.horizon_months, as_of=book.book.as_of, draw_method=None)

    def run(self, scenarios: Sequence[ScenarioConfig], reduce: Callable, labels: Sequence[str]) -> list:
        """``[reduce(book, accumulators) for each point]``, simulated batch by batch
        through the executor, in order."""
        from simcore.engine import warm_up
        from simcore.executors import DEFAULT_CHUNK_REPLICATIONS, simulate_books, work_units

        warm_up()
        chunk = self.chunk_replications or DEFAULT_CHUNK_REPLICATIONS
        out = []
        for first in range(0, len(scenarios), self.batch_points):
            batch = list(scenarios[first:first + self.batch_points])
            names = list(labels[first:first + self.batch_points])
            books = [self.compile(scenario) for scenario in batch]
            units = work_units([b.replications for b in books], chunk)
            last = {unit.book: i + 1 for i, unit in enumerate(units)}

            def unit_done(done: int, total: int, last=last, names=names) -> None:
                for index, final in last.items():
                    if done == final:
                        self.points_done += 1
                        if self.progress is not None:
                            self.progress(names[index], self.points_done, max(self.points_total, self.points_done))

            accumulators = simulate_books(books, executor=self.executor, chunk_replications=chunk,
                                          progress=unit_done)
            out.extend(reduce(book, acc) for book, acc in zip(books, accumulators))
            del books, accumulators
        return out

    def metric_values(self, scenarios: Sequence[ScenarioConfig], metrics: Sequence, labels: Sequence[str]):
        """Per point, per metric: the (R,) values (see :mod:`simcore.sensitivity.metrics`)."""
        return self.run(scenarios, lambda book, acc: [m.values(book, acc) for m in metrics], labels)
