"""Shared fixtures. Every random draw in tests is seeded; files go to tmp_path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Compiled kernels of the test run go to a temporary directory of their own (kept between
# runs, so only the first run on a machine compiles), never into the user's cache.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "simcore-tests-numba-cache"))

REPO = Path(__file__).resolve().parents[1]
TELCO = REPO.parent / "shared" / "data" / "telco" / "Telco-Customer-Churn.csv"


@pytest.fixture
def telco_path() -> Path:
    """The IBM Telco churn file next to the repository; the test skips when it is absent."""
    if not TELCO.exists():
        pytest.skip("IBM Telco sample file not present next to the repository")
    return TELCO
