"""The Dask executor on a real cluster: a ``dask scheduler`` and ``dask worker`` processes
on 127.0.0.1, started here as subprocesses, always torn down, every wait bounded.

What is proved: a run written through ``simcore run --scheduler`` is byte for byte the
local run; a sweep of many compiled books, a customer-success plan and a backtest give
exactly the local numbers, as do sensitivity sweeps; compiled books reach every worker once, before the units.
Faults (a worker killed mid-run, a lost scheduler, other versions on the workers) are in
``test_dask_faults.py``; the settings and flags, which need no cluster, in
``test_dask_config.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from simcore.engine.api import simulate_compiled  # noqa: E402
from simcore.executors import LocalExecutor, simulate_books, summaries  # noqa: E402

pytestmark = pytest.mark.dask

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo" / "config.yaml"
#: Seconds a cluster may take to come up, and a test's cluster may live: past that the
#: watchdog kills its processes, so a hang fails the test instead of stalling the suite.
START_TIMEOUT_S = 60
LIFETIME_S = 240


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A scheduler and named workers, each its own process group (a worker's nanny and
    worker process die together)."""

    def __init__(self, folder: Path, workers: int, *, preload: Path | None = None, worker_names=None):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        # One numba thread per worker: two workers on two cores, as the benchmark runs.
        self.env = dict(os.environ, NUMBA_NUM_THREADS="1")
        self.processes: dict[str, subprocess.Popen] = {}
        self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"])
        self._wait_for_port()
        for name in worker_names or [f"w{i}" for i in range(workers)]:
            self.add_worker(name, preload=preload)

    def _spawn(self, name: str, arguments: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen([sys.executable, "-m", "dask", *arguments], env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                                cwd=self.folder)
        log.close()

    def add_worker(self, name: str, *, preload: Path | None = None) -> None:
        arguments = ["worker", self.address, "--nthreads", "1", "--name", name, "--no-dashboard",
                     "--local-directory", str(self.folder / name), "--death-timeout", "30"]
        if preload is not None:
            arguments += ["--preload", str(preload)]
        self._spawn(name, arguments)

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.processes["scheduler"].poll() is not None:
                raise RuntimeError((self.folder / "scheduler.log").read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise TimeoutError("the scheduler did not start")

    def wait_for_workers(self, client, count: int) -> None:
        client.wait_for_workers(count, timeout=START_TIMEOUT_S)

    def kill(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def close(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(name)


@contextlib.contextmanager
def running_cluster(folder: Path, workers: int = 2, **options):
    """A cluster for the duration of the block, killed by a watchdog after
    :data:`LIFETIME_S` whatever happens, and torn down at the end."""
    cluster = Cluster(folder, workers, **options)
    watchdog = threading.Timer(LIFETIME_S, cluster.close)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield cluster
    finally:
        watchdog.cancel()
        cluster.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-threaded workers shared by this module's tests."""
    from simcore.dask_executor import DaskExecutor

    with running_cluster(tmp_path_factory.mktemp("dask-cluster"), 2) as started:
        with DaskExecutor.connect(started.address, timeout=START_TIMEOUT_S) as executor:
            started.wait_for_workers(executor.client, 2)
        yield started


@pytest.fixture
def executor(cluster):
    from simcore.dask_executor import DaskExecutor

    with DaskExecutor.connect(cluster.address, timeout=START_TIMEOUT_S) as connected:
        yield connected


# ---------------------------------------------------------------------- books


def price_grid(prices=(0.9, 1.0, 1.1, 1.2, 1.3), churn=(1.0, 1.15, 1.3, 1.5), replications: int = 24,
               customers: int = 300) -> list:
    """Compiled books of a grid of price changes from month 3 (existing and new customers)
    with the churn response to each, on a two-segment book (one with expansion and
    contraction, so pooled MRR paths are simulated too)."""
    from doubles import Dynamics, GeometricFit
    from simcore.economics import Economics
    from simcore.engine.compile import compile_book
    from simcore.engine.levers import ScenarioLevers

    index = np.arange(customers)
    book = pd.DataFrame({"customer_id": [f"c{i}" for i in index], "tenure_months": index % 30, "churned": False,
                         "mrr": 100.0 + index % 7, "segment": np.where(index < customers * 2 // 3, "a", "b")})
    economics = Economics(gross_margin=0.8, support_cost_per_month=5.0, cac=300.0, default_mrr=100.0)
    fits = {"a": GeometricFit(0.03), "b": GeometricFit(0.06)}
    books = []
    for price in prices:
        for factor in churn:
            levers = ScenarioLevers(acquisition_per_month=(6.0,),
                                    price_multiplier_existing_by_month=(1.0, 1.0, 1.0, price),
                                    price_multiplier_new_by_month=(1.0, 1.0, 1.0, price),
                                    churn_hazard_multiplier_by_month=(1.0, 1.0, 1.0, factor))
            books.append(compile_book(fits, book, economics, dynamics={"a": Dynamics(), "b": None}, levers=levers,
                                      replications=replications, seed=9, horizon_months=36))
    return books


def assert_same_accumulators(left: list[dict], right: list[dict]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert list(a) == list(b)
        for segment in a:
            for name in ("totals", "monthly", "acquisition_spend", "histogram", "bounds", "payback"):
                x, y = getattr(a[segment], name), getattr(b[segment], name)
                assert x.dtype == y.dtype and x.shape == y.shape
                assert x.tobytes() == y.tobytes(), (segment, name)


def assert_same_tables(left: dict, right: dict) -> None:
    assert sorted(left) == sorted(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_exact=True, obj=name)


# ---------------------------------------------------------------------- identical results


def test_the_demo_run_writes_the_same_bytes_through_the_scheduler_as_here(cluster, tmp_path):
    """``simcore run`` with ``--scheduler`` (units of 2 replications spread over two
    workers) against a local run of the same seed: every table byte for byte."""
    from simcore.cli.main import main

    common = [str(DEMO), "--replications", "8", "--seed", "5", "--no-plots", "--quiet", "--format", "csv,parquet"]
    main(["run", *common, "--out", str(tmp_path / "local")])
    main(["run", *common, "--out", str(tmp_path / "dask"), "--scheduler", cluster.address,
          "--chunk-replications", "2"])
    local, remote = tmp_path / "local", tmp_path / "dask"
    files = sorted(p.name for p in local.iterdir())
    assert files == sorted(p.name for p in remote.iterdir())
    assert "segment_summary.csv" in files and "projection.parquet" in files
    for name in files:
        if name not in ("manifest.json", "config.json"):
            assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    import json

    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (local, remote)]
    assert manifests[0]["executor"] == "local" and manifests[1]["executor"] == f"dask {cluster.address}"
    assert manifests[0]["config_sha256"] == manifests[1]["config_sha256"]  # where it ran is not a setting
    for manifest in manifests:
        del manifest["timings_s"], manifest["executor"]
    assert manifests[0] == manifests[1]
    configs = [json.loads((folder / "config.json").read_text()) for folder in (local, remote)]
    assert configs[1]["executor"]["scheduler"] == cluster.address
    assert {k: v for k, v in configs[0].items() if k != "executor"} == \
        {k: v for k, v in configs[1].items() if k != "executor"}


def test_a_sweep_of_compiled_books_is_identical_on_the_cluster(executor):
    """Twenty price-change points x 5 replication ranges = 100 work units, spread over two
    workers and run in any order: every accumulator and summary equals the local one."""
    books = price_grid()
    units_done = []
    remote = simulate_books(books, executor=executor, chunk_replications=5,
                            progress=lambda done, total: units_done.append((done, total)))
    assert units_done[-1] == (100, 100) and [d for d, _ in units_done] == list(range(1, 101))
    local = simulate_books(books, executor=LocalExecutor(), chunk_replications=24)
    assert_same_accumulators(remote, local)
    whole = [simulate_compiled(book) for book in books[:3]]
    for a, b in zip(whole, summaries(books[:3], remote[:3])):
        for name in ("segment_summary", "customer_quantiles", "projections", "replication_totals"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    # The points differ from each other: the grid did move the results.
    totals = [book["a"].totals[:, 1].sum() for book in remote]
    assert len(set(totals)) == len(totals)


def test_books_reach_every_worker_once_and_tasks_carry_only_their_own(executor):
    """The compiled books are broadcast before the units (each worker holds each book),
    and a unit's task names only its own book's future."""
    books = price_grid(prices=(1.0, 1.1), churn=(1.0,), replications=4)
    scattered = executor._scatter(books)
    holders = executor.client.who_has(scattered)
    assert len(scattered) == 2 and all(len(workers) == 2 for workers in holders.values())
    from simcore.executors import work_units

    unit = work_units([4, 4], 4)[1]
    shared = executor._shared_for(unit, books, scattered)
    assert list(shared) == [1] and shared[1] is scattered[1]


def test_a_sensitivity_tornado_and_solve_are_identical_on_the_cluster(executor):
    """``simcore sensitivity``'s sweep points (the demo's tornado: two points per lever,
    and its break-even solves) as work units of 2 replications on two workers: the local
    tables, number for number."""
    from simcore import Project

    project = Project.from_config(DEMO)
    for only in ("tornado", "solve"):
        local = project.sensitivity(only=only, replications=4, seed=3, executor=LocalExecutor())
        remote = project.sensitivity(only=only, replications=4, seed=3, executor=executor, chunk_replications=2)
        assert local.tables and sorted(local.tables) == sorted(remote.tables)
        assert_same_tables(local.tables, remote.tables)
        assert local.manifest["executor"] == "local" and remote.manifest["executor"].startswith("dask tcp://")
        assert local.manifest["config_sha256"] == remote.manifest["config_sha256"]


def test_the_customer_success_plan_is_identical_on_the_cluster(executor):
    """plan-cs simulates one book per segment and tier path (and per acquisition month
    when a tier depends on tenure): the same plan, table for table."""
    from tests.cs_books import make_project, tier

    plan = {"tiers": [tier("team", rule={"segments": ["large"], "min_expected_profit": 20000}, churn_multiplier=0.8,
                           accounts_per_csm=7),
                      tier("pooled", churn_multiplier=0.9, accounts_per_csm=40)],
            "planning_months": 12, "review_every_months": 3}
    project = make_project(cs_plan=plan, new_per_month={"large": 3, "small": 10}, horizon_months=36)
    local = project.plan_cs(replications=16, seed=5, executor=LocalExecutor())
    remote = project.plan_cs(replications=16, seed=5, executor=executor)
    assert_same_tables(local.tables, remote.tables)
    for name in local.paths:
        assert local.paths[name].covered.tobytes() == remote.paths[name].covered.tobytes()


def test_a_backtest_is_identical_on_the_cluster(executor):
    from tests.backtest_books import book_project, generate_book

    customers, history = generate_book(4)
    project = book_project(customers, history, simulation={"replications": 20, "seed": 3})
    local = project.backtest(["2024-06", "2024-12"], executor=LocalExecutor())
    remote = project.backtest(["2024-06", "2024-12"], executor=executor)
    assert_same_tables(local.tables, remote.tables)


def test_dask_local_starts_workers_here_and_stops_them(tmp_path):
    """``executor: {kind: dask-local}`` starts worker processes for the block only."""
    from simcore.config.executor import ExecutorConfig
    from simcore.executors import open_executor

    books = price_grid(prices=(1.0, 1.2), churn=(1.0, 1.3), replications=12)
    with open_executor(ExecutorConfig(kind="dask-local", workers=2)) as executor:
        assert executor.description == "dask-local (2 workers)"
        remote = simulate_books(books, executor=executor, chunk_replications=4)
        processes = [worker.process.process.pid for worker in executor.cluster.workers.values()]
    assert_same_accumulators(remote, simulate_books(books))
    for pid in processes:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
