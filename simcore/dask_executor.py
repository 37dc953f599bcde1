"""Work units on a Dask cluster: :class:`DaskExecutor` (the ``dask`` extra).

What the executor guarantees, and how:

* **Identical results.** A unit is a pure function of its compiled book and replication
  range (counter-based random numbers), and its partial accumulators merge exactly, so
  where a unit runs, and how often (a unit rerun after a worker died), changes nothing.
* **Books shipped once.** The compiled books are scattered to every worker before the
  units (``broadcast=True``); each task names only its own book's future, so a task
  message carries a replication range, not arrays, and a worker that dies takes no
  book with it (the others hold copies).
* **Kernels compiled once per worker.** A worker plugin points numba's on-disk cache at
  a writable folder (the worker's local directory when the usual cache folder is
  read-only), and one warm-up task per worker loads or compiles the kernels before the
  first unit runs there.
* **Same code everywhere.** Before any work, every worker reports its simcore version
  and kernel fingerprint (a hash of the kernel sources and the numba version); one that
  differs from this process is refused with a message naming it. Each task checks again,
  so a worker that joins later with other versions fails loudly rather than quietly.
* **Faults.** Dask reruns the units of a worker that dies on the others (up to its
  ``allowed-failures``); a lost scheduler, an unreachable one, a cluster without
  workers or a unit that keeps killing workers becomes a :class:`~simcore.errors.SimcoreError`
  with one line saying what to do, raised before anything is written.

Importing this module imports ``distributed``; :mod:`simcore.executors` imports it only
when a Dask executor is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

from simcore.errors import Problem, SimcoreError

try:
    import distributed
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - exercised where the extra is missing
    distributed = None
    WorkerPlugin = object

#: The field problems about the cluster are reported on (the CLI names ``--scheduler``).
FIELD = "executor.scheduler"
INSTALL_HINT = 'install the Dask extra (pip install "simcore[dask]"), or run locally (executor kind: local)'


def require_dask(where: dict | None = None) -> None:
    """Refuse, with how to fix it, when ``dask.distributed`` is not installed."""
    if distributed is None:
        raise SimcoreError(Problem("the Dask executor needs the dask and distributed packages", INSTALL_HINT,
                                   field="executor.kind", **(where or {})))


# ---------------------------------------------------------------------- on the workers


def worker_identity() -> dict:
    """What must match between this process and a worker for results to be identical:
    simcore's version and the kernels' fingerprint (kernel sources and numba version)."""
    from importlib.metadata import version

    import simcore._version
    from simcore.engine import _kernel_fingerprint

    return {"simcore": simcore._version.__version__, "kernels": _kernel_fingerprint(), "numba": version("numba")}


class WorkerMismatch(RuntimeError):
    """Raised on a worker whose simcore or kernels differ from the client's."""


_IDENTITY: dict | None = None


def run_unit(function: Callable[[Any, Any], Any], unit: Any, shared: Any, expected: dict) -> Any:
    """One task: check this worker runs the client's code, then ``function(unit, shared)``."""
    global _IDENTITY
    if _IDENTITY is None:
        _IDENTITY = worker_identity()
    if _IDENTITY != expected:
        raise WorkerMismatch(_mismatch_text({"this worker": _IDENTITY}, expected))
    return function(unit, shared)


def warm_up_worker() -> str:
    """Load (or compile) the kernels on this worker; returns the cache status before."""
    from simcore.engine import warm_up

    return warm_up()


def writable_cache_dir(fallback_root: str | os.PathLike) -> str:
    """Make sure numba's cache folder (``NUMBA_CACHE_DIR``, default the user cache) can be
    written; if not, point it at ``fallback_root`` (a worker's local directory) while the
    kernels are not yet loaded. Returns the folder used."""
    import simcore.engine  # noqa: F401 - sets the default NUMBA_CACHE_DIR

    current = Path(os.environ["NUMBA_CACHE_DIR"])
    if _can_write(current) or "simcore.engine.kernels" in sys.modules:
        return str(current)
    fallback = Path(fallback_root) / "simcore-numba-cache"
    fallback.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)
    if "numba" in sys.modules:  # numba read the old value at import
        import numba.core.config

        numba.core.config.reload_config()
    return str(fallback)


def _can_write(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            return True
    except OSError:
        return False


class WorkerSetup(WorkerPlugin):
    """Runs on every worker, present and future: a writable numba cache folder."""

    name = "simcore-worker-setup"
    idempotent = True

    def setup(self, worker) -> None:
        writable_cache_dir(worker.local_directory)


# ---------------------------------------------------------------------- on the client


def _mismatch_text(workers: dict, expected: dict) -> str:
    def text(identity: dict) -> str:
        return f"simcore {identity.get('simcore')}, numba {identity.get('numba')}, kernels {identity.get('kernels')}"

    names = list(workers)
    shown = "; ".join(f"{name} runs {text(workers[name])}" for name in names[:3])
    more = f" (and {len(names) - 3} more workers)" if len(names) > 3 else ""
    return f"{shown}{more}, but this machine runs {text(expected)}"


@contextlib.contextmanager
def _quiet_distributed():
    """simcore reports cluster problems itself, one line each; distributed's own log
    lines about the same events (reconnecting, a lost worker) would only repeat them."""
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.comm")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class DaskExecutor:
    """Maps work units over a Dask cluster (see the module notes).

    Build one with :meth:`connect` (a running cluster), :meth:`start_local` (worker
    processes on this machine) or from a :class:`distributed.Client` you already have;
    use it as a context manager, or call :meth:`close`, to release what it opened.

    Parameters
    ----------
    client
        A connected ``distributed.Client``.
    where
        ``{"source": ..., "line": ...}`` of the config section, for problems.
    cluster
        A cluster this executor started and stops on :meth:`close`.
    timeout
        Seconds to wait for a first worker before giving up.
    """

    name = "dask"

    def __init__(self, client, *, where: dict | None = None, cluster=None, timeout: float = 30.0):
        require_dask(where)
        self.client = client
        self.cluster = cluster
        self.timeout = float(timeout)
        self.where = dict(where or {})
        self.expected = worker_identity()
        self._ready: set[str] = set()
        self._plugin_registered = False
        self._done = 0

    # ------------------------------------------------------------------ building
    @classmethod
    def connect(cls, scheduler: str | None = None, *, scheduler_file: str | os.PathLike | None = None,
                timeout: float = 30.0, where: dict | None = None) -> "DaskExecutor":
        """Connect to a running scheduler at ``scheduler`` (``tcp://HOST:PORT``) or the
        one ``scheduler_file`` names.

        Raises
        ------
        SimcoreError
            The scheduler cannot be reached within ``timeout`` seconds.
        """
        require_dask(where)
        target = str(scheduler_file) if scheduler_file is not None else scheduler
        if scheduler_file is not None and not Path(scheduler_file).is_file():
            raise SimcoreError(Problem(f"scheduler file {target} not found",
                                       "start the scheduler with --scheduler-file at that path, or fix the path",
                                       field="executor.scheduler_file", **(where or {})))
        try:
            with _quiet_distributed():
                client = distributed.Client(scheduler, scheduler_file=None if scheduler_file is None
                                            else str(scheduler_file), timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SimcoreError(Problem(
                f"cannot reach the Dask scheduler at {target} within {timeout:g} s ({_reason(error)})",
                "check the address and that `dask scheduler` is running there and reachable from this machine",
                field=FIELD, **(where or {}))) from None
        return cls(client, where=where, timeout=timeout)

    @classmethod
    def start_local(cls, workers: int = 2, *, threads_per_worker: int = 1, timeout: float = 60.0,
                    where: dict | None = None) -> "DaskExecutor":
        """Start a ``LocalCluster`` of ``workers`` worker processes on this machine, each
        running one unit at a time on ``threads_per_worker`` numba threads."""
        require_dask(where)
        try:
            with _quiet_distributed():
                cluster = distributed.LocalCluster(
                    n_workers=int(workers), threads_per_worker=1, processes=True,
                    # No dashboard, and its HTTP routes on a free port rather than 8787,
                    # which another cluster on this machine may hold.
                    dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                    silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": str(int(threads_per_worker))})
                client = distributed.Client(cluster, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SimcoreError(Problem(f"could not start {workers} Dask worker processes here ({_reason(error)})",
                                       "lower executor.workers, or run locally (executor kind: local)",
                                       field="executor.workers", **(where or {}))) from None
        return cls(client, where=where, cluster=cluster, timeout=timeout)

    @property
    def description(self) -> str:
        address = getattr(self.client, "scheduler", None)
        address = getattr(address, "address", None) or ""
        return f"dask-local ({len(self.cluster.workers)} workers)" if self.cluster is not None else f"dask {address}"

    def close(self) -> None:
        """Disconnect (and stop the workers this executor started)."""
        with _quiet_distributed():
            with contextlib.suppress(Exception):
                self.client.close()
            if self.cluster is not None:
                with contextlib.suppress(Exception):
                    self.cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ running
    def map(self, function, units: Sequence, *, shared: Any = None, progress=None) -> list:
        """``[function(unit, shared) for unit in units]``, computed on the cluster.

        Raises
        ------
        SimcoreError
            No worker, workers running other versions, a lost scheduler, or a unit that
            keeps killing the workers it runs on.
        """
        if not len(units):
            return []
        with _quiet_distributed():
            try:
                return self._map(function, units, shared, progress)
            except WorkerMismatch as error:
                raise self._problem(f"Dask workers run other code: {error}",
                                    "install the same simcore and numba on the workers as here, then run again")
            except distributed.KilledWorker as error:
                raise self._problem(f"a work unit was running on each of {_allowed_failures()} workers that died "
                                    f"({_reason(error)})",
                                    "the workers may run out of memory: give them more, or lower "
                                    "executor.chunk_replications")
            except (distributed.CancelledError, OSError, TimeoutError) as error:
                if self.client.status == "running":
                    raise self._problem(f"the Dask cluster cancelled the simulation ({_reason(error)})",
                                        "run again; check that no one else restarted or cancelled the cluster's work")
                raise self._problem(f"lost the connection to the Dask scheduler at {self._address()} after "
                                    f"{self._done} of {len(units)} work units ({type(error).__name__})",
                                    "check that the scheduler is running and reachable from here, then run again")

    def _map(self, function, units, shared, progress) -> list:
        client = self.client
        self._prepare_workers()
        run = uuid.uuid4().hex[:8]
        scattered = self._scatter(shared)
        futures = []
        try:
            for index, unit in enumerate(units):
                futures.append(client.submit(run_unit, function, unit, self._shared_for(unit, shared, scattered),
                                             self.expected, key=f"simcore-unit-{run}-{_label(unit, index)}",
                                             pure=False))
            position = {future.key: index for index, future in enumerate(futures)}
            results: list = [None] * len(futures)
            self._done = 0
            for done, future in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
                results[position[future.key]] = future.result()
                self._done = done
                if progress is not None:
                    progress(done, len(futures))
            return results
        finally:
            # Free the cluster's memory (and stop what is left after a failure) now,
            # not when the futures are garbage collected.
            pending = [f for f in futures if not f.done()]
            if pending and client.status == "running":
                with contextlib.suppress(Exception):
                    client.cancel(pending)
            del futures, scattered

    def _prepare_workers(self) -> None:
        """Wait for a worker; check and warm up the workers not seen before."""
        client = self.client
        try:
            client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            raise self._problem(f"the Dask scheduler at {self._address()} has no workers",
                                "start workers with `dask worker ADDRESS` (or your cluster manager), then run "
                                "again") from None
        if not self._plugin_registered:
            client.register_plugin(WorkerSetup(), name=WorkerSetup.name)
            self._plugin_registered = True
        workers = [address for address in _worker_addresses(client) if address not in self._ready]
        if not workers:
            return
        identities = client.run(worker_identity, workers=workers)
        other = {address: identity for address, identity in identities.items() if identity != self.expected}
        if other:
            raise WorkerMismatch(_mismatch_text(other, self.expected))
        warm = [client.submit(warm_up_worker, key=f"simcore-warm-up-{uuid.uuid4().hex[:8]}", workers=[address],
                              allow_other_workers=False, pure=False) for address in workers]
        client.gather(warm)  # a worker's failure to load the kernels is raised here
        self._ready.update(workers)

    def _scatter(self, shared):
        """Futures of ``shared`` on every worker: one per item of a list (a task then
        depends on its own book only), else one."""
        if shared is None:
            return None
        if isinstance(shared, (list, tuple)):
            return self.client.scatter(list(shared), broadcast=True, hash=False)
        return self.client.scatter(shared, broadcast=True, hash=False)

    @staticmethod
    def _shared_for(unit, shared, scattered):
        if isinstance(shared, (list, tuple)) and isinstance(getattr(unit, "book", None), int):
            return {unit.book: scattered[unit.book]}
        return scattered

    def _address(self) -> str:
        scheduler = getattr(self.client, "scheduler", None)
        return str(getattr(scheduler, "address", None) or "(unknown address)")

    def _problem(self, message: str, hint: str) -> SimcoreError:
        return SimcoreError(Problem(message, hint, field=FIELD, **self.where))


def _worker_addresses(client) -> list[str]:
    try:  # recent versions list a few workers unless asked for all
        info = client.scheduler_info(n_workers=-1)
    except TypeError:
        info = client.scheduler_info()
    return list(info["workers"])


def _label(unit, index: int) -> str:
    if all(hasattr(unit, name) for name in ("book", "start", "stop")):
        return f"book{unit.book}-{unit.start}-{unit.stop}"
    return str(index)


def _allowed_failures() -> int:
    import dask.config

    return int(dask.config.get("distributed.scheduler.allowed-failures", 3)) + 1


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text and text[0] else type(error).__name__
