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
another, each using numba's threads; :class:`~simcore.dask_executor.DaskExecutor` sends
them to a Dask cluster, shipping each compiled book to a worker once (``shared``) rather
than with every unit. :func:`open_executor` builds either from a config's ``executor:``
section (:class:`~simcore.config.executor.ExecutorConfig`) and closes what it started.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol, Sequence

if TYPE_CHECKING:  # pragma: no cover - typing only
    from simcore.config.executor import ExecutorConfig
    from simcore.dask_executor import DaskExecutor  # noqa: F401

#: Replications per work unit by default: small enough to spread a run over a cluster,
#: large enough that a unit's fixed cost (a segment's MRR-path pool) stays small.
DEFAULT_CHUNK_REPLICATIONS = 250

#: ``progress(done, total)`` in work units.
UnitProgress = Callable[[int, int], None]


class Executor(Protocol):
    """Maps a function over work units.

    ``map(function, units, shared=...)`` returns ``[function(unit, shared) for unit in
    units]`` in the order of ``units``; ``shared`` (read-only, possibly large) is made
    available to every call once per worker rather than once per unit. When ``shared``
    is a list and a unit has an integer ``book`` attribute, the unit reads only
    ``shared[unit.book]``, and an executor may hand it just that item (keyed by
    ``unit.book``), as :class:`~simcore.dask_executor.DaskExecutor` does.
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


def simulate_unit(unit: WorkUnit, books: Sequence, *, block_size: int = 64, n_bins: int | None = None) -> dict:
    """Accumulators of one work unit: segment name -> partial accumulators of the unit's
    replications (the function an executor maps).

    ``books`` is indexed by ``unit.book`` (a list of compiled books, or a mapping that
    holds at least that one); ``block_size`` and ``n_bins`` are passed to
    :func:`~simcore.engine.run.run_segment` (``None``: its default bins).
    """
    from simcore.engine import warm_up
    from simcore.engine.rng import seed_to_uint64
    from simcore.engine.run import run_segment

    warm_up()
    book = books[unit.book]
    seed = seed_to_uint64(book.seed)
    options = {"block_size": block_size} if n_bins is None else {"block_size": block_size, "n_bins": n_bins}
    return {segment.name: run_segment(segment, seed, replications=(unit.start, unit.stop), **options)
            for segment in book.segments}


def simulate_books(books: Sequence, *, executor: Executor | None = None,
                   chunk_replications: int = DEFAULT_CHUNK_REPLICATIONS,
                   progress: UnitProgress | None = None, block_size: int = 64,
                   n_bins: int | None = None) -> list[dict]:
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
    block_size, n_bins
        Replications per kernel call and bins of the per-customer histograms (see
        :func:`~simcore.engine.run.run_segment`); ``block_size`` never changes results.
    """
    from simcore.engine.accumulators import merge_accumulators

    executor = executor or LocalExecutor()
    units = work_units([book.replications for book in books], chunk_replications)
    function = simulate_unit
    if block_size != 64 or n_bins is not None:
        # A partial of a module-level function pickles by reference, so a cluster's
        # workers receive the options, not the code.
        function = functools.partial(simulate_unit, block_size=int(block_size), n_bins=n_bins)
    parts = executor.map(function, units, shared=list(books), progress=progress)
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


# ---------------------------------------------------------------------- from a config


def describe(executor: Executor) -> str:
    """A short description of where work ran, for manifests (``local``,
    ``dask tcp://10.0.0.5:8786``)."""
    return str(getattr(executor, "description", None) or executor.name)


@contextlib.contextmanager
def open_executor(settings: "ExecutorConfig | None" = None, *, base_dir: str | Path = ".",
                  where: dict | None = None) -> Iterator[Executor]:
    """The executor a config's ``executor:`` section asks for, closed afterwards.

    ``local`` needs nothing; ``dask`` connects to a running scheduler (its address or
    scheduler file) and disconnects at the end, leaving the cluster running;
    ``dask-local`` starts worker processes on this machine and stops them at the end.

    Parameters
    ----------
    settings
        The section (default: local).
    base_dir
        Folder a relative ``scheduler_file`` is read from (the config's folder).
    where
        ``{"source": ..., "line": ...}`` of the section, so that a problem with the
        cluster (unreachable, lost, other versions) names the config line; the field
        is filled in by the problem.

    Raises
    ------
    SimcoreError
        The Dask extra is not installed, or the cluster cannot be reached or started.
    """
    from simcore.config.executor import ExecutorConfig

    settings = settings or ExecutorConfig()
    kind = settings.resolved_kind
    if kind == "local":
        yield LocalExecutor()
        return
    from simcore.dask_executor import DaskExecutor, require_dask

    require_dask(where)
    if kind == "dask":
        scheduler_file = None
        if settings.scheduler_file is not None:
            scheduler_file = Path(settings.scheduler_file).expanduser()
            scheduler_file = scheduler_file if scheduler_file.is_absolute() else Path(base_dir) / scheduler_file
        executor = DaskExecutor.connect(settings.scheduler, scheduler_file=scheduler_file,
                                        timeout=settings.connect_timeout_seconds, where=where)
    else:
        executor = DaskExecutor.start_local(workers=settings.workers or os.cpu_count() or 1,
                                            threads_per_worker=settings.threads_per_worker,
                                            timeout=settings.connect_timeout_seconds, where=where)
    with executor:
        yield executor


@contextlib.contextmanager
def executor_for(config, executor: Executor | None = None) -> Iterator[Executor]:
    """``executor`` when one is given (left open), else the one ``config.executor``
    asks for (see :func:`open_executor`), closed afterwards."""
    if executor is not None:
        yield executor
        return
    # A problem names the config's line when the config set the executor, and no file
    # when it did not (a command-line flag or the default did).
    line = config.line_of("executor")
    where = {} if line is None else {"source": config.source, "line": line}
    with open_executor(config.executor, base_dir=config.base_dir, where=where) as opened:
        yield opened


def chunk_replications_of(config, chunk_replications: int | None) -> int:
    """Replications per work unit: the argument, else the config's ``executor`` setting."""
    return int(config.executor.chunk_replications if chunk_replications is None else chunk_replications)


def __getattr__(name: str):
    # The Dask executor imports dask and distributed, an optional extra: only on demand.
    if name == "DaskExecutor":
        from simcore.dask_executor import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'simcore.executors' has no attribute {name!r}")
