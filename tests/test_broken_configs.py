"""A corpus of broken configs: each gives located one-line messages, exit status 1, no
traceback and no output directory.

Each file in tests/broken_configs/ starts with ``# expect: <text>``: a fragment the
error output must contain. Files ending in ``.part.yaml`` are included by others.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simcore.cli.main import main

CORPUS = Path(__file__).resolve().parent / "broken_configs"
CASES = sorted(p for p in CORPUS.glob("*.yaml") if not p.name.endswith(".part.yaml"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_config_fails_cleanly(path, tmp_path, capsys):
    expected = re.match(r"# expect: (.*)", path.read_text().splitlines()[0] if path.read_text() else "")
    assert expected, f"{path.name} needs an '# expect:' first line"
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["run", str(path), "--out", str(out), "--replications", "2"])
    captured = capsys.readouterr()
    # Progress lines ("[1/5] loaded customers") are not problems; everything else must be.
    lines = [line for line in captured.err.strip().splitlines() if not re.match(r"\[\d+/\d+\] ", line)]
    assert done.value.code == 1, captured.err
    assert "Traceback" not in captured.err
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    errors = [line for line in lines if line.startswith("error: ")]
    assert any(expected.group(1) in line for line in errors), (expected.group(1), errors)
    # Located: each error names the file it is about, and a config file's errors their line.
    assert all(re.search(r"\.(yaml|csv)\b", line) for line in errors), errors
    assert all(re.search(r"\.yaml, line \d+", line) for line in errors if ".yaml" in line.split(":")[1]), errors
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
