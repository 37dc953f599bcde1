"""Atomic output directories: all or nothing, never clobbering without force."""

from __future__ import annotations

import pytest

from simcore.errors import OutputError
from simcore.outputs import atomic_directory


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "run"
    with atomic_directory(target) as staging:
        (staging / "a.csv").write_text("x\n")
        assert not target.exists()
    assert (target / "a.csv").read_text() == "x\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "a.csv").write_text("x\n")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_is_refused_then_replaced_with_force(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.csv").write_text("old\n")
    (target / "manifest.json").write_text("{}\n")
    with pytest.raises(OutputError, match="--force"):
        with atomic_directory(target):
            pass
    assert (target / "old.csv").exists()
    with pytest.raises(RuntimeError):
        with atomic_directory(target, force=True) as staging:
            raise RuntimeError("interrupted")
    assert (target / "old.csv").exists(), "a failed forced run must keep the earlier output"
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "and must leave no staging directory"
    with atomic_directory(target, force=True) as staging:
        (staging / "new.csv").write_text("new\n")
    assert [p.name for p in target.iterdir()] == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_empty_existing_directory_is_fine(tmp_path):
    (tmp_path / "run").mkdir()
    with atomic_directory(tmp_path / "run") as staging:
        (staging / "a").write_text("")
    assert (tmp_path / "run" / "a").exists()
