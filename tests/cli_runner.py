"""Run the command line in-process, as the tests of several modules do."""

from __future__ import annotations

import pytest

from simcore.cli.main import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``simcore ARGS`` in this process: its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out, captured.err
