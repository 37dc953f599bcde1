"""A 200-point sweep on a Dask cluster of 1 and of 2 workers, side by side.

The sweep is the demo book (``scenarios/demo/config.yaml``, fitted once) under a grid of
price changes from month 3 (existing and new customers, -10% to +28% in 20 steps) with
the churn response to each (10 elasticities, 0 to 1.8: the churn hazard multiplied by
``(1 + change) ** elasticity``, the constant-elasticity form of the price elasticity of
churn): 200 compiled books of ``--replications`` each (default 200, as the demo's
``sensitivity.replications``), one work unit per book. A scheduler and workers are
started here as subprocesses on 127.0.0.1 (``dask scheduler``, ``dask worker --nthreads
1`` with ``NUMBA_NUM_THREADS=1`` in their environment: one numba thread each, so 2
workers use the 2 cores of a 2-core machine).

Each round times, back to back:

* *local serial*: the same units in this process on one numba thread
  (:class:`~simcore.executors.LocalExecutor`), the work without any Dask;
* *1 worker* and *2 workers*: ``simulate_books`` on the cluster, end to end (the books
  broadcast to the workers, the units, the results gathered and merged);
* *empty tasks*: ``--empty-tasks`` tasks that do nothing, on one worker: the cost of a
  task round trip alone;
* what two cores give without Dask: the same units in this process on *two numba
  threads*, and *two CPU-bound processes* (a pure-Python loop) side by side against one
  after the other — the ceiling the 2-worker speedup is to be read against on a shared
  machine.

Measures: speedup = 1 worker / 2 workers; per-task overhead = (1 worker - local serial)
/ units, i.e. what a unit costs on the cluster beyond its simulation (scheduling, the
book broadcast, the result's transfer and merge), and the empty-task round trip. Every
round also checks that the cluster's accumulators equal the local ones. The kernels are
loaded on each worker before timing (a warm-up map): that cost is once per worker.

Usage::

    python benchmarks/dask_sweep.py [--points 200] [--replications 200] [--repeats 3]

Prints a table per round and a summary, then as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml"


def sweep_books(points: int, replications: int) -> list:
    """The demo book compiled under ``points`` (price change, elasticity) pairs."""
    from simcore import Project
    from simcore.config import BASELINE
    from simcore.engine.compile import compile_book
    from simcore.scenarios import scenario_levers

    project = Project.from_config(DEMO_CONFIG)
    book, fit, economics = project.book(), project.fit(), project.economics()
    fits = {name: result.survival_model() for name, result in fit.fits.results.items()}
    baseline = scenario_levers(project.config, BASELINE, book.segments, economics)
    changes = np.linspace(-0.10, 0.28, 20)
    elasticities = np.linspace(0.0, 1.8, 10)
    grid = [(c, e) for c in changes for e in elasticities][:points]
    books = []
    for change, elasticity in grid:
        price = (1.0, 1.0, 1.0, 1.0 + change)
        churn = (1.0, 1.0, 1.0, (1.0 + change) ** elasticity)
        levers = {name: replace(lever, price_multiplier_existing_by_month=price, price_multiplier_new_by_month=price,
                                churn_hazard_multiplier_by_month=churn) for name, lever in baseline.items()}
        books.append(compile_book(fits, book.customers, economics.economics, dynamics=fit.dynamics, levers=levers,
                                  replications=replications, seed=1, horizon_months=project.config.horizon_months,
                                  as_of=book.book.as_of, draw_method=None))
    return books


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, folder: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = dict(os.environ, NUMBA_NUM_THREADS="1")
        self.processes: dict[str, subprocess.Popen] = {}
        self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"])

    def _spawn(self, name: str, arguments: list[str]) -> None:
        with open(self.folder / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen([sys.executable, "-m", "dask", *arguments], env=self.env,
                                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def add_worker(self, name: str) -> None:
        self._spawn(name, ["worker", self.address, "--nthreads", "1", "--name", name, "--no-dashboard",
                           "--local-directory", str(self.folder / name)])

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _workers(client) -> int:
    return len(client.scheduler_info()["workers"])


def _settle(client, count: int) -> None:
    deadline = time.monotonic() + 60
    while _workers(client) != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"expected {count} workers, have {_workers(client)}")
        time.sleep(0.2)


def _empty(unit, shared):
    return unit


def _same(left, right) -> bool:
    return all(getattr(a[s], f).tobytes() == getattr(b[s], f).tobytes()
               for a, b in zip(left, right) for s in a for f in ("totals", "monthly", "histogram", "payback"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--empty-tasks", type=int, default=400)
    arguments = parser.parse_args()

    import numba

    from simcore.dask_executor import DaskExecutor
    from simcore.engine import warm_up
    from simcore.executors import LocalExecutor, simulate_books

    warm_up()
    numba.set_num_threads(1)
    mark = time.perf_counter()
    books = sweep_books(arguments.points, arguments.replications)
    compile_seconds = time.perf_counter() - mark
    units = len(books)  # one unit per book: chunk_replications = replications
    chunk = arguments.replications
    rounds = []
    with tempfile.TemporaryDirectory() as folder:
        cluster = Cluster(Path(folder))
        try:
            cluster.add_worker("w0")
            with DaskExecutor.connect(cluster.address, timeout=60) as executor:
                client = executor.client
                _settle(client, 1)
                simulate_books(books[:2], executor=executor, chunk_replications=chunk)  # load the kernels on w0
                for repeat in range(arguments.repeats):
                    load = os.getloadavg()[0]
                    mark = time.perf_counter()
                    local = simulate_books(books, executor=LocalExecutor(), chunk_replications=chunk)
                    local_seconds = time.perf_counter() - mark

                    mark = time.perf_counter()
                    one = simulate_books(books, executor=executor, chunk_replications=chunk)
                    one_seconds = time.perf_counter() - mark

                    mark = time.perf_counter()
                    executor.map(_empty, list(range(arguments.empty_tasks)))
                    empty_seconds = time.perf_counter() - mark

                    # What two cores give without Dask: the same units in this process on
                    # two numba threads, and two plain processes burning CPU side by side.
                    numba.set_num_threads(2)
                    mark = time.perf_counter()
                    simulate_books(books, executor=LocalExecutor(), chunk_replications=chunk)
                    local_two_seconds = time.perf_counter() - mark
                    numba.set_num_threads(1)
                    burn_ratio = _burn_ratio()

                    cluster.add_worker("w1")
                    _settle(client, 2)
                    simulate_books(books[:2], executor=executor, chunk_replications=chunk)  # load the kernels on w1
                    mark = time.perf_counter()
                    two = simulate_books(books, executor=executor, chunk_replications=chunk)
                    two_seconds = time.perf_counter() - mark
                    cluster.stop("w1")
                    _settle(client, 1)

                    row = {"round": repeat + 1, "load_average_before": round(load, 2),
                           "local_serial_s": round(local_seconds, 2), "one_worker_s": round(one_seconds, 2),
                           "two_workers_s": round(two_seconds, 2), "speedup": round(one_seconds / two_seconds, 3),
                           "local_two_threads_s": round(local_two_seconds, 2),
                           "local_threads_speedup": round(local_seconds / local_two_seconds, 3),
                           "two_processes_cpu_speedup": round(burn_ratio, 3),
                           "overhead_per_task_ms": round(1000 * (one_seconds - local_seconds) / units, 2),
                           "empty_task_ms": round(1000 * empty_seconds / arguments.empty_tasks, 2),
                           "identical": _same(local, one) and _same(local, two)}
                    rounds.append(row)
                    print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        finally:
            cluster.close()
    speedups = [r["speedup"] for r in rounds]
    threads = [r["local_threads_speedup"] for r in rounds]
    burns = [r["two_processes_cpu_speedup"] for r in rounds]
    overheads = [r["overhead_per_task_ms"] for r in rounds]
    empties = [r["empty_task_ms"] for r in rounds]
    summary = {"points": len(books), "replications": arguments.replications, "units": units,
               "compile_books_s": round(compile_seconds, 2), "book_mb": round(_book_mb(books[0]), 2),
               "speedup_min": min(speedups), "speedup_max": max(speedups),
               "local_threads_speedup_min": min(threads), "local_threads_speedup_max": max(threads),
               "two_processes_cpu_speedup_min": min(burns), "two_processes_cpu_speedup_max": max(burns),
               "overhead_per_task_ms_min": min(overheads), "overhead_per_task_ms_max": max(overheads),
               "empty_task_ms_min": min(empties), "empty_task_ms_max": max(empties),
               "identical": all(r["identical"] for r in rounds), "rounds": rounds}
    print(f"speedup 2 workers vs 1: {min(speedups):.2f}-{max(speedups):.2f}x (without Dask: 2 numba threads vs 1 "
          f"{min(threads):.2f}-{max(threads):.2f}x, 2 CPU-bound processes {min(burns):.2f}-{max(burns):.2f}x); "
          f"per-task overhead "
          f"{min(overheads):.1f}-{max(overheads):.1f} ms; empty task {min(empties):.1f}-{max(empties):.1f} ms; "
          f"results identical to local: {summary['identical']}")
    print(json.dumps(summary))


_BURN = "import time; t = time.perf_counter(); x = 0\nfor i in range(30_000_000): x += i\nprint(time.perf_counter() - t)"


def _burn_ratio() -> float:
    """How much faster two CPU-bound processes finish side by side than one after the
    other: the parallel capacity this machine has at the moment (2.0 on two idle cores)."""
    def run(count: int) -> float:
        mark = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", _BURN], stdout=subprocess.DEVNULL) for _ in range(count)]
        for process in processes:
            process.wait()
        return time.perf_counter() - mark

    return 2 * run(1) / run(2)


def _book_mb(book) -> float:
    import pickle

    return len(pickle.dumps(book)) / 1e6


if __name__ == "__main__":
    main()
