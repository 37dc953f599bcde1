"""Calendar and cohort schedules the compile step derives from the levers.

Pure NumPy, no numba: the churn responses to price steps, the per-cohort churn factors
of new customers, and the expected MRR paths when expansion and contraction
probabilities vary by calendar month. Conventions as in :mod:`simcore.engine.levers`:
a calendar factor of month ``c`` acts on the renewal decision into month ``c``; the
expansion or contraction event of month ``c`` comes before that month's payment.
"""

from __future__ import annotations

import numpy as np


def response_weight(months_since: np.ndarray, fade_months: int) -> np.ndarray:
    """Weight of a churn response ``months_since`` months after its step: 1 from the step
    on for a lasting response (``fade_months = 0``), else ``max(0, 1 - j / N)``; 0 before
    the step."""
    months_since = np.asarray(months_since, dtype=np.float64)
    if fade_months <= 0:
        weight = np.ones_like(months_since)
    else:
        weight = np.clip(1.0 - months_since / fade_months, 0.0, 1.0)
    return np.where(months_since >= 0, weight, 0.0)


def existing_churn_response(steps, calendar: int) -> np.ndarray:
    """``R_existing(c)``, ``c = 0..calendar-1``: the product of ``f ** w(c - s)`` over the
    steps (every existing customer experienced every step)."""
    months = np.arange(calendar)
    log_factor = np.zeros(calendar)
    for start, factor, fade in steps:
        log_factor += np.log(factor) * response_weight(months - start, int(fade))
    return np.exp(log_factor)


def new_churn_response(steps, horizon: int) -> np.ndarray:
    """``R_new(c0, c0 + k + 1)`` as an ``(H, H)`` array over cohort ``c0`` and tenure
    month ``k``: the decision after tenure month ``k`` is into calendar month
    ``c0 + k + 1``; a step at ``s`` counts for cohorts acquired before it (``c0 < s``)."""
    cohorts = np.arange(horizon)[:, None]
    decided = cohorts + 1 + np.arange(horizon)[None, :]
    log_factor = np.zeros((horizon, horizon))
    for start, factor, fade in steps:
        weight = response_weight(decided - start, int(fade))
        log_factor += np.where(cohorts < start, np.log(factor) * weight, 0.0)
    return np.exp(log_factor)


def distinct_cohorts(rows: np.ndarray) -> int:
    """Number of leading rows to keep: ``1 +`` the last cohort whose row differs from the
    next one (cohorts from there on share the last kept row)."""
    differs = np.flatnonzero(np.any(rows[1:] != rows[:-1], axis=1))
    return int(differs[-1]) + 2 if differs.size else 1


def cumulative_growth(growth: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected MRR factors from per-month event factors ``g(c)`` (``c = 0..2H-1``).

    Returns
    -------
    existing : (H,) float64
        ``prod_{c' <= c} g(c')``: an existing customer's expected MRR factor when it pays
        projection month ``c`` (every projected month is a renewal, month 0 included).
    new : (H, H) float64
        ``[c0, k] = prod_{t=1..k} g(c0 + t)``: a customer acquired in ``c0`` has its
        first event before tenure month 1.
    """
    log_growth = np.log(growth)
    running = np.concatenate([[0.0], np.cumsum(log_growth)])     # running[c] = sum_{c' < c}
    existing = np.exp(running[1:horizon + 1])
    cohorts = np.arange(horizon)[:, None]
    tenure = np.arange(horizon)[None, :]
    new = np.exp(running[cohorts + tenure + 1] - running[cohorts + 1])
    return existing, new
