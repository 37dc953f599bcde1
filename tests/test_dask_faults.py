"""Faults on a real Dask cluster: a worker killed mid-run changes nothing; a lost or
unreachable scheduler and workers running other code end in one clear error line, exit
status 1 and no output. Each test starts (and always tears down) its own cluster, since
it breaks it."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from simcore.errors import SimcoreError  # noqa: E402
from simcore.executors import simulate_books  # noqa: E402
from tests.test_dask import (  # noqa: E402
    DEMO,
    START_TIMEOUT_S,
    assert_same_accumulators,
    free_port,
    price_grid,
    running_cluster,
)

pytestmark = pytest.mark.dask


def _connect(cluster, workers: int):
    from simcore.dask_executor import DaskExecutor

    executor = DaskExecutor.connect(cluster.address, timeout=START_TIMEOUT_S)
    cluster.wait_for_workers(executor.client, workers)
    return executor


def test_a_worker_killed_mid_run_leaves_the_result_identical(tmp_path):
    """Worker ``w1`` (nanny and worker process) is killed with SIGKILL while it is
    running units; Dask reruns them on ``w0`` and the merged result is the local one."""
    books = price_grid(prices=(0.9, 1.0, 1.1, 1.2), churn=(1.0, 1.3), replications=60)
    with running_cluster(tmp_path / "cluster", 2) as cluster, _connect(cluster, 2) as executor:
        client = executor.client
        names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
        seen = {}

        def kill_w1(done: int, total: int) -> None:
            if done == 3:
                seen["running on w1"] = sum(len(tasks) for address, tasks in client.processing().items()
                                            if names.get(address) == "w1")
                cluster.kill("w1")

        remote = simulate_books(books, executor=executor, chunk_replications=5, progress=kill_w1)
        assert seen["running on w1"] >= 1  # the kill did interrupt work in progress
        assert [info["name"] for info in client.scheduler_info()["workers"].values()] == ["w0"]
    assert_same_accumulators(remote, simulate_books(books, chunk_replications=60))


def test_a_lost_scheduler_is_one_error_line_exit_1_and_no_output(tmp_path, monkeypatch, capsys):
    """``simcore run --scheduler``: the scheduler is killed after the first work unit;
    the command prints one located line, exits 1 and leaves no output directory (not even
    its staging directory)."""
    from simcore.cli.main import main
    from simcore.dask_executor import DaskExecutor

    original = DaskExecutor.map
    with running_cluster(tmp_path / "cluster", 1) as cluster:
        def map_then_lose_the_scheduler(self, function, units, *, shared=None, progress=None):
            def progress_then_kill(done, total):
                if done == 1:
                    cluster.kill("scheduler")
            return original(self, function, units, shared=shared, progress=progress_then_kill)

        monkeypatch.setattr(DaskExecutor, "map", map_then_lose_the_scheduler)
        out = tmp_path / "runs" / "lost"
        with pytest.raises(SystemExit) as stopped:
            main(["run", str(DEMO), "--replications", "8", "--out", str(out), "--no-plots", "--quiet",
                  "--scheduler", cluster.address, "--chunk-replications", "2"])
    assert stopped.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: '--scheduler': lost the connection to the Dask scheduler at "
                               f"{cluster.address} after 1 of ")
    assert "check that the scheduler is running" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster"]  # nothing of the run, staging included


def test_workers_running_another_simcore_are_refused_by_name(tmp_path):
    """A worker whose simcore reports another version (set by a preload script, as an
    older install would) is refused before any unit runs, naming the worker and both
    versions."""
    from simcore import __version__

    preload = tmp_path / "older_simcore.py"
    preload.write_text('import simcore._version\nsimcore._version.__version__ = "0.0.1-older"\n')
    books = price_grid(prices=(1.0,), churn=(1.0,), replications=4)
    with running_cluster(tmp_path / "cluster", 1, preload=preload) as cluster, _connect(cluster, 1) as executor:
        with pytest.raises(SimcoreError) as refused:
            simulate_books(books, executor=executor)
    (line,) = refused.value.lines()
    assert line.startswith("'executor.scheduler': Dask workers run other code: tcp://127.0.0.1:")
    assert "runs simcore 0.0.1-older" in line and f"this machine runs simcore {__version__}" in line
    assert "install the same simcore and numba on the workers as here" in line


def test_a_task_on_a_worker_with_other_kernels_refuses_to_run():
    """The check every task makes (a worker joining after the start is checked too)."""
    from simcore.dask_executor import WorkerMismatch, run_unit, worker_identity

    expected = dict(worker_identity(), kernels="0123456789abcdef")
    with pytest.raises(WorkerMismatch, match="kernels 0123456789abcdef"):
        run_unit(lambda unit, shared: unit, 1, None, expected)
    assert run_unit(lambda unit, shared: (unit, shared), 1, "shared", worker_identity()) == (1, "shared")


def test_an_unreachable_scheduler_in_the_config_is_located_at_its_line(tmp_path, capsys):
    """Nothing listens at the address the YAML gives: one line naming the config file and
    line, exit 1, after at most the configured timeout, and no output."""
    from simcore.cli.main import main

    import shutil

    workspace = tmp_path / "demo"
    shutil.copytree(DEMO.parent, workspace)
    address = f"tcp://127.0.0.1:{free_port()}"
    copy = workspace / "config.yaml"
    copy.write_text(copy.read_text() + f"executor:\n  scheduler: {address}\n  connect_timeout_seconds: 1\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(copy), "--out", str(out), "--quiet"])
    assert stopped.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    line_number = copy.read_text().splitlines().index("executor:") + 1
    assert lines == [f"error: {copy}, line {line_number}, 'executor.scheduler': cannot reach the Dask scheduler at "
                     f"{address} within 1 s (" + lines[0].split(" within 1 s (", 1)[1]]
    assert lines[0].endswith("check the address and that `dask scheduler` is running there and reachable from "
                             "this machine")
    assert not out.exists()
