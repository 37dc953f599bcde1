"""Where simulations run: the executor interface every multi-run command goes through.

A run, a sensitivity sweep, a Sobol design or a customer-success optimisation is many
independent simulations of *compiled books* (one per scenario or sweep point). Each is
cut into **work units** — (book, range of replications) — whose partial accumulators
merge exactly and associatively (:func:`simcore.engine.accumulators.merge_accumulators`):
every random number is a pure function of (seed, replication, segment, customer, draw),
so a replication's numbers do not depend on where or with which others it runs. The
merged result is therefore byte-identical for any executor and any chunking.

An executor only has to map a function over work units and return the results in
order (:class:`Executor`). :class:`LocalExecutor` (the default) runs them here, one after
another, each using numba's threads; a Dask executor sends them to a cluster, shipping
each compiled book once (``shared``) rather than with every unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol, Sequence

#: Replications per work unit by default: small enough to spread a run over a cluster,
#: large enough that a unit's fixed cost (a segment's MRR-path pool) stays small.
DEFAULT_CHUNK_REPLICATIONS = 250

#: ``progress(done, total)`` in work units.
UnitProgress = Callable[[int, int], None]


class Executor(Protocol):
    """Maps a function over work units.

    ``map(function, units, shared=...)`` returns ``[function(unit, shared) for unit in
    units]`` in the order of ``units``; ``shared`` (read-only, possibly large) is made
    available to every call once per worker rather than once per unit.
    """

    name: str

    def map(self, function: Callable[[Any, Any], Any], units: Sequence[Any], *, shared: Any = None,
            progress: UnitProgress | None = None) -> list: ...


@dataclass
class LocalExecutor:
    """Runs every unit in this process, in order (numba parallelises inside a unit)."""

    name: str = "local"

    def map(self, function, units, *, shared=None, progress=None) -> list:
        results = []
        for done, unit in enumerate(units, start=1):
            results.append(function(unit, shared))
            if progress is not None:
                progress(done, len(units))
        return results


@dataclass(frozen=True)
class WorkUnit:
    """Replications ``start..stop-1`` of compiled book number ``book``."""

    book: int
    start: int
    stop: int


def work_units(replications: Sequence[int], chunk: int = DEFAULT_CHUNK_REPLICATIONS) -> list[WorkUnit]:
    """Every (book, replication range) unit of books with these replication counts."""
    chunk = max(1, int(chunk))
    return [WorkUnit(index, start, min(start + chunk, count))
            for index, count in enumerate(replications) for start in range(0, count, chunk)]


def simulate_unit(unit: WorkUnit, books: Sequence) -> dict:
    """Accumulators of one work unit: segment name -> partial accumulators of the unit's
    replications (the function an executor maps)."""
    from simcore.engine import warm_up
    from simcore.engine.rng import seed_to_uint64
    from simcore.engine.run import run_segment

    warm_up()
    book = books[unit.book]
    seed = seed_to_uint64(book.seed)
    return {segment.name: run_segment(segment, seed, replications=(unit.start, unit.stop))
            for segment in book.segments}


def simulate_books(books: Sequence, *, executor: Executor | None = None,
                   chunk_replications: int = DEFAULT_CHUNK_REPLICATIONS,
                   progress: UnitProgress | None = None) -> list[dict]:
    """Simulate compiled books on an executor; per book, segment name -> accumulators of
    every replication (identical to simulating each book whole, here).

    Parameters
    ----------
    books
        :class:`~simcore.engine.compiled.CompiledBook` s (scenarios, sweep points).
    executor
        Where the work units run (default :class:`LocalExecutor`).
    chunk_replications
        Replications per work unit; changes where work runs, never the results.
    progress
        Called as ``progress(done, total)`` in work units.
    """
    from simcore.engine.accumulators import merge_accumulators

    executor = executor or LocalExecutor()
    units = work_units([book.replications for book in books], chunk_replications)
    parts = executor.map(simulate_unit, units, shared=list(books), progress=progress)
    merged = []
    for index, book in enumerate(books):
        mine = [part for unit, part in zip(units, parts) if unit.book == index]
        merged.append({segment.name: merge_accumulators([part[segment.name] for part in mine])
                       for segment in book.segments})
    return merged


def summaries(books: Sequence, accumulators: Iterable[dict], **summary_options) -> list:
    """The :class:`~simcore.engine.summary.SimulationResult` of each simulated book."""
    from simcore.engine.summary import summarise

    return [summarise(book, acc, **summary_options) for book, acc in zip(books, accumulators)]
