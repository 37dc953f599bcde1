"""Shared fixtures. Every random draw in tests is seeded; files go to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TELCO = REPO.parent / "shared" / "data" / "telco" / "Telco-Customer-Churn.csv"


@pytest.fixture
def telco_path() -> Path:
    """The IBM Telco churn file next to the repository; the test skips when it is absent."""
    if not TELCO.exists():
        pytest.skip("IBM Telco sample file not present next to the repository")
    return TELCO
