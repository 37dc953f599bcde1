"""The ``executor:`` section and the executor flags, which need no cluster (and no dask):
what they accept, how flags override the file, where problems are reported, and that
where work runs is not part of what a config hash names."""

from __future__ import annotations

import pytest

from simcore.config import config_from_text
from simcore.config.executor import ExecutorConfig
from simcore.errors import ConfigError, SimcoreError

BASE = """\
data:
  customers: customers.csv
  columns: {id: id, tenure: tenure, churned: churned}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        config_from_text(BASE + text, source="config.yaml")
    return error.value.lines()


def test_the_default_is_local_and_a_scheduler_means_dask():
    assert config_from_text(BASE).executor.resolved_kind == "local"
    config = config_from_text(BASE + "executor: {scheduler: 'tcp://10.0.0.5:8786'}\n")
    assert config.executor.resolved_kind == "dask" and config.executor.chunk_replications == 250
    assert ExecutorConfig(kind="dask-local", workers=3).resolved_kind == "dask-local"
    # An explicit kind wins: a file's cluster can be switched off without deleting it.
    assert ExecutorConfig(kind="local", scheduler="tcp://h:1").resolved_kind == "local"


@pytest.mark.parametrize("section, expected", [
    ("executor:\n  scheduler: nonsense\n", "config.yaml, line 5, 'executor.scheduler': 'nonsense' is not a Dask "
     "scheduler address; write it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"),
    ("executor:\n  kind: dask\n", "config.yaml, line 4, 'executor': kind 'dask' runs on an existing cluster and "
     "needs its address"),
    ("executor:\n  scheduler: tcp://h:1\n  scheduler_file: s.json\n", "config.yaml, line 4, 'executor': give "
     "scheduler or scheduler_file, not both"),
    ("executor:\n  workers: 0\n", "config.yaml, line 5, 'executor.workers'"),
    ("executor:\n  kind: kubernetes\n", "config.yaml, line 5, 'executor.kind'"),
    ("executor:\n  schedular: tcp://h:1\n", "config.yaml, line 5, 'executor.schedular'"),
])
def test_problems_in_the_section_name_their_line_and_field(section, expected):
    lines = _problems(section)
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_flags_override_the_file_and_a_scheduler_flag_alone_means_dask():
    from simcore.cli.common import executor_settings
    from simcore.config import with_overrides

    config = config_from_text(BASE + "executor: {kind: dask-local, workers: 4}\n")
    remote = with_overrides(config, executor=executor_settings(scheduler="tcp://10.0.0.5:8786"))
    assert remote.executor.resolved_kind == "dask" and remote.executor.scheduler == "tcp://10.0.0.5:8786"
    here = with_overrides(config_from_text(BASE + "executor: {scheduler: 'tcp://h:1'}\n"),
                          executor=executor_settings(kind="local"))
    assert here.executor.resolved_kind == "local"
    untouched = with_overrides(config, executor=executor_settings())
    assert untouched is config


def test_where_work_runs_does_not_change_the_config_hash():
    from simcore.config import config_hash

    plain = config_from_text(BASE)
    remote = config_from_text(BASE + "executor: {scheduler: 'tcp://10.0.0.5:8786', chunk_replications: 10}\n")
    assert config_hash(plain) == config_hash(remote)
    assert config_hash(plain) != config_hash(config_from_text(BASE + "horizon_months: 60\n"))


def test_without_the_dask_extra_the_error_says_how_to_install_it(monkeypatch):
    import simcore.dask_executor as dask_executor
    from simcore.executors import open_executor

    monkeypatch.setattr(dask_executor, "distributed", None)
    with pytest.raises(SimcoreError) as error:
        with open_executor(ExecutorConfig(scheduler="tcp://10.0.0.5:8786"), where={"source": "c.yaml", "line": 3}):
            pass
    assert error.value.lines() == ["c.yaml, line 3, 'executor.kind': the Dask executor needs the dask and distributed "
                                   'packages; install the Dask extra (pip install "simcore[dask]"), or run locally '
                                   "(executor kind: local)"]


def test_the_local_executor_needs_nothing_opened():
    from simcore.executors import LocalExecutor, describe, open_executor

    with open_executor(None) as executor:
        assert isinstance(executor, LocalExecutor) and describe(executor) == "local"


@pytest.mark.parametrize("command", ["run", "plan-cs", "backtest"])
def test_every_multi_run_command_takes_the_executor_flags(command, capsys):
    from simcore.cli.main import main

    main([command, "--help"])
    text = capsys.readouterr().out
    for flag in ("--executor [local|dask|dask-local]", "--scheduler ADDRESS", "--workers", "--chunk-replications"):
        assert flag in text


def test_a_bad_scheduler_flag_is_one_line_naming_the_flag(tmp_path, capsys):
    from pathlib import Path

    from simcore.cli.main import main

    demo = Path(__file__).resolve().parents[1] / "scenarios" / "demo" / "config.yaml"
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(demo), "--out", str(tmp_path / "out"), "--scheduler", "10.0.0.5"])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: '--scheduler': '10.0.0.5' is not a Dask scheduler address; write it as tcp://HOST:PORT, e.g. "
        "tcp://10.0.0.5:8786; give a valid value"]
    assert not (tmp_path / "out").exists()
