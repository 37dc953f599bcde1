"""Interruptions and output paths: nothing half-written, nothing clobbered, nothing left
behind, and nothing written outside where the user asked.

The subprocess tests run ``simcore run`` on a tiny book (240 customers, one family, a few
replications) so each run takes a few seconds; the 20-kill version is marked slow and a
3-kill version runs by default.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simcore.cli.main import main
from simcore.errors import OutputError
from simcore.outputs import atomic_directory, check_target, prepare_target, recover

CONFIG = """\
name: tiny
data:
  customers: customers.csv
  columns: {id: customer_id, signup: signup_date, churn: churn_date, mrr: mrr}
  as_of: 2025-12-31
segments: {by: [plan], min_customers: 1}
retention: {family: exponential}
economics:
  default: {gross_margin: 80%, cac: 300}
horizon_months: 24
simulation: {replications: 20, seed: 3}
scenarios:
  - name: up
    price_change: {pct: 5%}
"""


def tiny_workspace(folder: Path, config: str = CONFIG) -> Path:
    rows = ["customer_id,signup_date,churn_date,plan,mrr"]
    for i in range(240):
        churn = f"2024-{1 + i % 12:02d}-15" if i % 3 == 0 else ""
        rows.append(f"c{i},2023-{1 + i % 12:02d}-0{1 + i % 9},{churn},{'ab'[i % 2]},{20 + i % 50}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text("\n".join(rows) + "\n")
    (folder / "config.yaml").write_text(config)
    return folder / "config.yaml"


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((f".{name}.partial-", f".{name}.old-")))


def complete(run: Path) -> bool:
    """A run directory whose manifest lists exactly the files in it."""
    manifest = run / "manifest.json"
    if not manifest.is_file():
        return False
    listed = {name.split("/")[0] for name in json.loads(manifest.read_text())["files"]}
    return listed == {p.name for p in run.iterdir()}


def cli(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as done:
        return done.code or 0
    return 0


def simcore_process(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simcore", *map(str, args)], cwd=cwd, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# ------------------------------------------------------------------ atomic writes


def _hold_lock(path: Path) -> subprocess.Popen:
    """Another live process writing ``path`` (it holds the directory's lock)."""
    code = ("import fcntl, os, sys, time\n"
            f"fd = os.open({str(path)!r}, os.O_RDONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_staging_of_a_killed_run_is_removed_by_the_next_write(tmp_path):
    (tmp_path / ".run.partial-dead").mkdir()
    (tmp_path / ".run.partial-dead" / "half.csv").write_text("x")
    with atomic_directory(tmp_path / "run") as staging:
        (staging / "manifest.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_staging_of_a_live_run_is_left_alone(tmp_path):
    live = tmp_path / ".run.partial-live"
    live.mkdir()
    holder = _hold_lock(live)
    try:
        assert recover(tmp_path / "run") == []
        with atomic_directory(tmp_path / "run") as staging:
            (staging / "manifest.json").write_text("{}")
        assert live.is_dir()
    finally:
        holder.kill()
        holder.wait()
    assert recover(tmp_path / "run") == [live] and not live.exists()


def test_forced_replacement_without_renameat2_is_completed_or_undone(tmp_path):
    target = tmp_path / "run"
    with atomic_directory(target) as staging:
        (staging / "manifest.json").write_text('{"run": 1}')
    with atomic_directory(target, force=True, exchange=lambda a, b: False) as staging:
        (staging / "manifest.json").write_text('{"run": 2}')
    assert json.loads((target / "manifest.json").read_text()) == {"run": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    # A process killed between the fallback's two renames leaves the old run aside and
    # the new one staged; the next run puts the old one back before anything else.
    os.rename(target, tmp_path / ".run.old-killed")
    (tmp_path / ".run.partial-killed").mkdir()
    prepare_target(target, force=True)
    assert json.loads((target / "manifest.json").read_text()) == {"run": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_forced_replacement_is_one_exchange_on_linux(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux-only")
    target = tmp_path / "run"
    with atomic_directory(target) as staging:
        (staging / "manifest.json").write_text('{"run": 1}')
    calls = []
    real_rename = os.rename
    monkeypatch.setattr(os, "rename", lambda *a: calls.append(a) or real_rename(*a))
    with atomic_directory(target, force=True) as staging:
        (staging / "manifest.json").write_text('{"run": 2}')
    assert calls == [], "the swap is renameat2(RENAME_EXCHANGE), not two renames"
    assert json.loads((target / "manifest.json").read_text()) == {"run": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_only_replaces_what_simcore_wrote(tmp_path):
    precious = tmp_path / "Documents"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputError, match="not a directory simcore wrote"):
        with atomic_directory(precious, force=True):
            pass
    assert (precious / "thesis.docx").read_text() == "years of work"


def test_output_below_a_file_is_refused_up_front(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        check_target(tmp_path / "file" / "run")


def test_unwritable_output_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    config = tiny_workspace(tmp_path)
    import tempfile

    import simcore

    def no_work(*args, **kwargs):
        raise AssertionError("the run started before the output was checked")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(simcore.Project, "simulate", no_work)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert cli("run", config, "--out", tmp_path / "runs" / "x") == 1
    assert "cannot write in" in capsys.readouterr().err


# ------------------------------------------------------------------------- paths


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/elsewhere", "a/b", ".hidden", "..", "x" * 101, "ok."])
def test_run_name_must_be_a_plain_file_name(tmp_path, capsys, name):
    config = tiny_workspace(tmp_path, CONFIG.replace("name: tiny", f"name: '{name}'"))
    assert cli("validate", config) == 1
    err = capsys.readouterr().err
    assert "config.yaml, line 1, 'name': " in err and "plain file name" in err


def test_default_output_stays_under_runs(tmp_path, monkeypatch):
    config = tiny_workspace(tmp_path / "work")
    monkeypatch.chdir(tmp_path / "work")
    assert cli("run", config, "--quiet") == 0
    assert complete(tmp_path / "work" / "runs" / "tiny")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


# ----------------------------------------------------------------------- signals


def _wait_for(process: subprocess.Popen, text: str, timeout: float = 60.0) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"never saw {text!r}: {seen}")


@pytest.mark.parametrize("number, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_are_handled_alike(tmp_path, number, status):
    tiny_workspace(tmp_path)
    process = simcore_process("run", "config.yaml", "--out", "runs/tiny", cwd=tmp_path)
    _wait_for(process, "fitted retention")
    process.send_signal(number)
    err = process.stderr.read()
    assert process.wait(timeout=30) == status, err
    assert "Traceback" not in err and ("terminated" in err or "interrupted" in err)
    assert not (tmp_path / "runs" / "tiny").exists()
    assert leftovers(tmp_path / "runs", "tiny") == [] if (tmp_path / "runs").exists() else True


def test_sigterm_during_a_long_simulation_exits_promptly(tmp_path):
    tiny_workspace(tmp_path, CONFIG + "acquisition: {new_customers_per_month: {a: 100000000}}\n")
    process = simcore_process("run", "config.yaml", "--out", "runs/tiny", "--allow-large", cwd=tmp_path)
    _wait_for(process, "fitted retention")
    time.sleep(1.0)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    err = process.stderr.read()
    assert process.wait(timeout=30) == 143, err
    assert time.monotonic() - sent < 10
    assert not (tmp_path / "runs" / "tiny").exists()


def _kill_runs(tmp_path: Path, kills: int, seed: int) -> dict:
    """Run `simcore run --force` repeatedly and SIGKILL it at a random point of a phase
    taken in turn (fit, simulate, write, swap); after each kill the output must be a
    complete run (the previous one or the new one) and at most the killed run's own
    staging directory may exist. Returns counts per phase and outcome."""
    tiny_workspace(tmp_path)
    runs = tmp_path / "runs"
    arguments = ("run", "config.yaml", "--out", "runs/tiny", "--force", "--format", "csv,xlsx,parquet,json")
    first = subprocess.run([sys.executable, "-m", "simcore", *arguments], cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    generator = random.Random(seed)
    phases = ("fit", "simulate", "write", "swap")
    outcome = {"kills": 0, "previous": 0, "new": 0, "finished": 0}
    for index in range(kills):
        phase = phases[index % len(phases)]
        before = (runs / "tiny" / "manifest.json").read_text()
        process = simcore_process(*arguments, cwd=tmp_path)
        if phase == "fit":
            _wait_for(process, "checked economics")
            time.sleep(generator.uniform(0.0, 0.6))
        elif phase == "simulate":
            _wait_for(process, "fitted retention")
            time.sleep(generator.uniform(0.0, 0.5))
        else:
            _wait_for(process, "simulated up")
            time.sleep(generator.uniform(0.0, 0.7) if phase == "write" else generator.uniform(0.6, 1.3))
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
        outcome["kills"] += process.returncode == -signal.SIGKILL
        outcome["finished"] += process.returncode == 0
        target = runs / "tiny"
        assert complete(target), f"kill {index} ({phase}) left an incomplete output: {sorted(os.listdir(target))}"
        outcome["previous" if (target / "manifest.json").read_text() == before else "new"] += 1
        assert len(leftovers(runs, "tiny")) <= 1, leftovers(runs, "tiny")
    last = subprocess.run([sys.executable, "-m", "simcore", *arguments], cwd=tmp_path, capture_output=True, text=True)
    assert last.returncode == 0, last.stderr
    assert complete(runs / "tiny") and leftovers(runs, "tiny") == []
    return outcome


def test_sigkill_at_three_points_never_loses_the_output(tmp_path):
    outcome = _kill_runs(tmp_path, kills=3, seed=1)
    assert outcome["previous"] + outcome["new"] == 3


@pytest.mark.slow
def test_sigkill_at_twenty_random_points_never_loses_the_output(tmp_path):
    outcome = _kill_runs(tmp_path, kills=20, seed=7)
    assert outcome["previous"] + outcome["new"] == 20
    assert outcome["kills"] >= 10, outcome
