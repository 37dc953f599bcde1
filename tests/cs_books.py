"""Small books for the customer-success planning tests.

Two segments drawn from known shifted-beta-geometric curves (Fader & Hardie 2007) over a
four-year window, tenures and churn flags only, with log-normal MRR: ``large`` (few
accounts, high MRR, high support cost) and ``small`` (many, cheap). Every draw is seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from simcore import Project

SEGMENTS = {
    # name: (accounts, alpha, beta, MRR median, MRR spread (log sd), support cost per month)
    "large": (160, 1.2, 14.0, 2500.0, 0.7, 300.0),
    "small": (500, 1.0, 5.0, 90.0, 0.5, 15.0),
}
WINDOW_MONTHS = 48


def sbg_lifetimes(rng: np.random.Generator, n: int, alpha: float, beta: float) -> np.ndarray:
    """Whole months paid: a churn probability per customer from Beta(alpha, beta), then a
    geometric lifetime (Fader & Hardie 2007's sBG)."""
    return rng.geometric(rng.beta(alpha, beta, size=n))


def sbg_survival(t, alpha: float, beta: float) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def cs_book(seed: int = 3, segments: dict | None = None) -> pd.DataFrame:
    """A tenure-shaped book: ``customer_id, tenure, churned, mrr, plan``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    frames = []
    for name, (n, alpha, beta, median, spread, _) in (segments or SEGMENTS).items():
        lifetimes = sbg_lifetimes(rng, n, alpha, beta)
        observed = rng.integers(0, WINDOW_MONTHS + 1, size=n)
        churned = lifetimes <= observed
        frames.append(pd.DataFrame({
            "tenure": np.where(churned, lifetimes, observed), "churned": churned.astype(int),
            "mrr": np.round(median * np.exp(spread * rng.standard_normal(n)), 2), "plan": name}))
    book = pd.concat(frames, ignore_index=True)
    book.insert(0, "customer_id", [f"A{i:05d}" for i in range(len(book))])
    return book


def tier(name: str, **values) -> dict:
    """A tier with neutral effects unless given."""
    return {"name": name, "accounts_per_csm": 20, "cost_per_csm_per_year": 60000, **values}


def make_project(book: pd.DataFrame | None = None, *, cs_plan: dict | None = None, new_per_month: dict | None = None,
                 horizon_months: int = 60, scenarios: list | None = None) -> Project:
    """The book as a project: sBG fits, one economics row per segment, a 60-month horizon."""
    settings = {
        "segments": {"by": ["plan"], "min_customers": 10},
        "retention": {"family": "sbg"},
        "economics": {"default": {"gross_margin": "80%"},
                      "segments": {name: {"support_cost_per_month": values[5]} for name, values in SEGMENTS.items()}},
        "acquisition": {"new_customers_per_month": new_per_month or {name: 0 for name in SEGMENTS}},
        "horizon_months": horizon_months,
        "simulation": {"replications": 40, "seed": 7},
    }
    if cs_plan is not None:
        settings["cs_plan"] = cs_plan
    if scenarios:
        settings["scenarios"] = scenarios
    return Project.from_frame(cs_book() if book is None else book,
                              columns={"id": "customer_id", "tenure": "tenure", "churned": "churned", "mrr": "mrr"},
                              **settings)


@pytest.fixture
def cs_project():
    """``cs_project(**options)``: a fresh project of :func:`cs_book` (see :func:`make_project`)."""
    return make_project
